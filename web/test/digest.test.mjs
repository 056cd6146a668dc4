// Digest SHA-256 extension of JsSIP, against RFC 7616 3.9.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import DigestAuthentication from 'jssip/lib/DigestAuthentication.js';
import Parser from 'jssip/lib/Parser.js';
import SIPMessage from 'jssip/lib/SIPMessage.js';
import { algorithmName, digestResponse, install, preferChallenge } from '../src/digest.js';
import { sha256Hex } from '../src/sha256.js';

/* RFC 7616 3.9.1 (also /work/shared/spec/README.md) */
const RFC = {
	username: 'Mufasa',
	realm: 'http-auth@example.org',
	password: 'Circle of Life',
	method: 'GET',
	uri: '/dir/index.html',
	nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
	cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
	nc: '00000001',
	qop: 'auth',
	opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
};
const MD5_RESPONSE = '8ca523f5e9506fed4657c9700eebdbec';
const SHA256_RESPONSE = '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1';

install();

/* What JsSIP's RequestSender passes: the request and the parsed challenge. */
function challenge(algorithm, extra = {}) {
	return { algorithm, realm: RFC.realm, nonce: RFC.nonce, opaque: RFC.opaque, qop: ['auth'], ...extra };
}
const request = { method: RFC.method, ruri: RFC.uri, body: null };

function authParams(header) {
	const out = {};
	for (const m of header.replace(/^Digest /, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g))
		out[m[1]] = m[3] !== undefined ? m[3] : m[2];
	return out;
}

test('digestResponse: RFC 7616 3.9.1 SHA-256 vector', () => {
	assert.equal(digestResponse({ ...RFC, algorithm: 'SHA-256' }).response, SHA256_RESPONSE);
});

test('digestResponse: RFC 7616 3.9.1 MD5 vector', () => {
	assert.equal(digestResponse({ ...RFC, algorithm: 'MD5' }).response, MD5_RESPONSE);
});

test('digestResponse: -sess keys HA1 with nonce and cnonce', () => {
	const ha1 = sha256Hex(`${RFC.username}:${RFC.realm}:${RFC.password}`);
	const sessHa1 = sha256Hex(`${ha1}:${RFC.nonce}:${RFC.cnonce}`);
	const ha2 = sha256Hex(`${RFC.method}:${RFC.uri}`);
	const want = sha256Hex(`${sessHa1}:${RFC.nonce}:${RFC.nc}:${RFC.cnonce}:auth:${ha2}`);
	const got = digestResponse({ ...RFC, algorithm: 'SHA-256-sess' });
	assert.equal(got.response, want);
	assert.equal(got.ha1, ha1, 'the kept HA1 is the password hash, before the -sess step');
});

test('digestResponse: without qop uses RFC 2069 form', () => {
	const ha1 = sha256Hex(`${RFC.username}:${RFC.realm}:${RFC.password}`);
	const ha2 = sha256Hex(`${RFC.method}:${RFC.uri}`);
	assert.equal(digestResponse({ ...RFC, qop: null, algorithm: 'SHA-256' }).response,
		sha256Hex(`${ha1}:${RFC.nonce}:${ha2}`));
});

test('digestResponse: refuses unknown algorithms and HA1 of the wrong hash', () => {
	assert.throws(() => digestResponse({ ...RFC, algorithm: 'AKAv1-MD5' }), /unsupported/);
	assert.throws(() => digestResponse({ ...RFC, password: null, ha1: MD5_RESPONSE, algorithm: 'SHA-256' }),
		/no stored HA1/);
});

test('JsSIP DigestAuthentication answers a SHA-256 challenge with the RFC response', () => {
	const auth = new DigestAuthentication({ username: RFC.username, password: RFC.password });
	assert.equal(auth.authenticate(request, challenge('SHA-256'), RFC.cnonce), true);
	const p = authParams(auth.toString());
	assert.equal(p.algorithm, 'SHA-256');
	assert.equal(p.username, RFC.username);
	assert.equal(p.realm, RFC.realm);
	assert.equal(p.nonce, RFC.nonce);
	assert.equal(p.uri, RFC.uri);
	assert.equal(p.qop, 'auth');
	assert.equal(p.nc, '00000001');
	assert.equal(p.cnonce, RFC.cnonce);
	assert.equal(p.opaque, RFC.opaque);
	assert.equal(p.response, SHA256_RESPONSE);
});

test('JsSIP grammar spelling (upper case) is accepted', () => {
	const auth = new DigestAuthentication({ username: RFC.username, password: RFC.password });
	assert.equal(auth.authenticate(request, challenge('SHA-256-SESS'), RFC.cnonce), true);
	assert.equal(authParams(auth.toString()).algorithm, 'SHA-256-sess');
});

test('MD5 still goes through JsSIP and gives the RFC response', () => {
	const auth = new DigestAuthentication({ username: RFC.username, password: RFC.password });
	assert.equal(auth.authenticate(request, challenge('MD5'), RFC.cnonce), true);
	const p = authParams(auth.toString());
	assert.equal(p.algorithm, 'MD5');
	assert.equal(p.response, MD5_RESPONSE);
});

test('nc counts up across challenges of one sender', () => {
	const auth = new DigestAuthentication({ username: RFC.username, password: RFC.password });
	auth.authenticate(request, challenge('SHA-256'), RFC.cnonce);
	auth.authenticate(request, challenge('SHA-256', { stale: true }), RFC.cnonce);
	assert.equal(authParams(auth.toString()).nc, '00000002');
});

test('a fresh cnonce is random when none is given', () => {
	const a = new DigestAuthentication({ username: 'u', password: 'p' });
	const b = new DigestAuthentication({ username: 'u', password: 'p' });
	a.authenticate(request, challenge('SHA-256'));
	b.authenticate(request, challenge('SHA-256'));
	const ca = authParams(a.toString()).cnonce, cb = authParams(b.toString()).cnonce;
	assert.match(ca, /^[0-9a-f]{24}$/);
	assert.notEqual(ca, cb);
});

test('a stored SHA-256 HA1 (password dropped by JsSIP) answers the next challenge', () => {
	const first = new DigestAuthentication({ username: RFC.username, password: RFC.password });
	first.authenticate(request, challenge('SHA-256'), RFC.cnonce);
	const again = new DigestAuthentication({ username: RFC.username, password: null,
		realm: RFC.realm, ha1: first.get('ha1') });
	assert.equal(again.authenticate(request, challenge('SHA-256'), RFC.cnonce), true);
	assert.equal(authParams(again.toString()).response, SHA256_RESPONSE);
	/* ...but not an MD5 challenge: that HA1 is the wrong hash */
	const md5 = new DigestAuthentication({ username: RFC.username, password: null,
		realm: RFC.realm, ha1: first.get('ha1') });
	assert.equal(md5.authenticate(request, challenge('MD5'), RFC.cnonce), false);
});

test('refuses AKA, unknown algorithms and challenges missing nonce or realm', () => {
	const auth = new DigestAuthentication({ username: 'u', password: 'p' });
	assert.equal(auth.authenticate(request, challenge('AKAv1-MD5')), false);
	assert.equal(auth.authenticate(request, challenge('SHA-512-256')), false);
	assert.equal(auth.authenticate(request, challenge('SHA-256', { nonce: undefined })), false);
	assert.equal(auth.authenticate(request, challenge('SHA-256', { realm: undefined })), false);
	assert.equal(auth.authenticate(request, challenge('SHA-256', { qop: ['other'] })), false);
});

test('install() is idempotent', () => {
	const before = DigestAuthentication.prototype.authenticate;
	install();
	assert.equal(DigestAuthentication.prototype.authenticate, before);
});

test('algorithmName spells algorithms as on the wire', () => {
	assert.equal(algorithmName('sha-256'), 'SHA-256');
	assert.equal(algorithmName(undefined), 'MD5');
	assert.equal(algorithmName('md5-SESS'), 'MD5-sess');
	assert.equal(algorithmName('AKAv2-SHA-256'), null);
});

/* RFC 8760 2.4: several challenges, most preferred first. */
const TWO = ['SIP/2.0 401 Unauthorized',
	'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK1',
	'CSeq: 1 REGISTER',
	'WWW-Authenticate: Digest realm="ims.example.org", nonce="n1", algorithm=SHA-256, qop="auth"',
	'WWW-Authenticate: Digest realm="ims.example.org", nonce="n1", algorithm=MD5, qop="auth"',
	'Content-Length: 0', '', ''].join('\r\n');

test('preferChallenge keeps the topmost supported challenge (SHA-256 before MD5)', () => {
	const out = preferChallenge(TWO);
	assert.match(out, /algorithm=SHA-256/);
	assert.doesNotMatch(out, /algorithm=MD5/);
	assert.match(out, /^SIP\/2\.0 401 Unauthorized\r\n/);
	assert.match(out, /Content-Length: 0\r\n\r\n$/);
});

test('preferChallenge: what JsSIP parses is the SHA-256 challenge', () => {
	/* JsSIP alone keeps the last WWW-Authenticate: MD5 here */
	const plain = Parser.parseMessage(TWO, {});
	assert.equal(plain.parseHeader('www-authenticate').algorithm, 'MD5');
	const chosen = Parser.parseMessage(preferChallenge(TWO), {});
	assert.equal(chosen.parseHeader('www-authenticate').algorithm, 'SHA-256');
	assert.ok(chosen instanceof SIPMessage.IncomingResponse);
});

test('preferChallenge skips unsupported ones (AKA) and keeps server order otherwise', () => {
	const aka = TWO.replace('algorithm=SHA-256', 'algorithm=AKAv1-MD5');
	const out = preferChallenge(aka);
	assert.doesNotMatch(out, /AKAv1-MD5/);
	assert.match(out, /algorithm=MD5/);
	const md5First = TWO.replace('algorithm=SHA-256', 'algorithm=XX').replace('algorithm=MD5', 'algorithm=SHA-256')
		.replace('algorithm=XX', 'algorithm=MD5');
	assert.match(preferChallenge(md5First), /algorithm=MD5/);
	assert.doesNotMatch(preferChallenge(md5First), /algorithm=SHA-256/);
});

test('preferChallenge leaves other messages alone', () => {
	const one = TWO.replace(/WWW-Authenticate: [^\r]*MD5[^\r]*\r\n/, '');
	assert.equal(preferChallenge(one), one);
	const ok = TWO.replace('401 Unauthorized', '200 OK');
	assert.equal(preferChallenge(ok), ok);
	const none = TWO.replace(/algorithm=(SHA-256|MD5)/g, 'algorithm=AKAv2-SHA-256');
	assert.equal(preferChallenge(none), none);
	assert.equal(preferChallenge(null), null);
});
