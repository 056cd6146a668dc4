// IMS AKA (AKAv2-SHA-256) extension of JsSIP: the challenge the WIC picks,
// the Authorization it writes with a password, with auts (response over the
// empty password, RFC 3310 3.4) and after a refused AUTN, and the gate that
// asks the ISIM before JsSIP reads the 401.  Expected responses are
// computed here with node:crypto, not with the WIC's own sha256.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import DigestAuthentication from 'jssip/lib/DigestAuthentication.js';
import Parser from 'jssip/lib/Parser.js';
import RequestSender from 'jssip/lib/RequestSender.js';
import SIPMessage from 'jssip/lib/SIPMessage.js';
import URI from 'jssip/lib/URI.js';
import { AKA_ALGORITHM, AKA_NO_SECRET, AkaGate, akaAuthorization, akaResponse, authParams, fileAnswer,
	install, selectAkaChallenge, takeAnswer } from '../src/aka.js';
import { IsimError } from '../src/isim.js';

install();

const IMPI = 'dave@ims.example.org';
const REALM = 'ims.example.org';
/* base64(RAND || AUTN), 44 characters as the contract says */
const NONCE = Buffer.concat([Buffer.alloc(16, 0x23), Buffer.alloc(16, 0x55)]).toString('base64');
const NONCE2 = Buffer.concat([Buffer.alloc(16, 0x24), Buffer.alloc(16, 0x56)]).toString('base64');
/* an AKAv2 password: base64 of 32 bytes */
const PASSWORD = Buffer.alloc(32, 0xa5).toString('base64');
const AUTS = Buffer.alloc(14, 0x3c).toString('base64');
const URI_S = 'sip:ims.example.org';
const CNONCE = '0123456789abcdef01234567';

const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
function expected({ password, nonce = NONCE, nc = '00000001', cnonce = CNONCE }) {
	const ha1 = sha(`${IMPI}:${REALM}:${password}`);
	const ha2 = sha(`REGISTER:${URI_S}`);
	return sha(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
}

/* The 401 the cscf sends (contract 2): one challenge per algorithm. */
function unauthorized({ cseq = 1, nonce = NONCE, algorithms = ['AKAv2-SHA-256', 'SHA-256', 'MD5'] } = {}) {
	return ['SIP/2.0 401 Unauthorized',
		'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK1',
		'From: <sip:dave@ims.example.org>;tag=a',
		'To: <sip:dave@ims.example.org>;tag=b',
		'Call-ID: c1',
		`CSeq: ${cseq} REGISTER`,
		...algorithms.map((a) => `WWW-Authenticate: Digest realm="${REALM}", nonce="${/^AKA/.test(a) ? nonce : 'plain'}", ` +
			`algorithm=${a}, qop="auth"`),
		'Content-Length: 0', '', ''].join('\r\n');
}

const request = { method: 'REGISTER', ruri: URI_S, body: null };
const challenge = (extra = {}) => ({ algorithm: 'AKAV2-SHA-256', realm: REALM, nonce: NONCE, qop: ['auth'], ...extra });
const newAuth = () => new DigestAuthentication({ username: IMPI, password: null, realm: null, ha1: AKA_NO_SECRET });

test('selectAkaChallenge keeps only the AKAv2-SHA-256 challenge, before SHA-256 and MD5', () => {
	const sel = selectAkaChallenge(unauthorized());
	assert.equal(sel.challenge.nonce, NONCE);
	assert.equal(sel.challenge.realm, REALM);
	assert.equal(sel.challenge.algorithm, 'AKAv2-SHA-256');
	assert.equal((sel.text.match(/WWW-Authenticate/g) || []).length, 1);
	assert.doesNotMatch(sel.text, /algorithm=SHA-256|algorithm=MD5/);
	assert.match(sel.text, /Content-Length: 0\r\n\r\n$/);
	/* what JsSIP then parses */
	const parsed = Parser.parseMessage(sel.text, {});
	const c = parsed.parseHeader('www-authenticate');
	assert.equal(c.algorithm, 'AKAV2-SHA-256');
	assert.equal(c.nonce, NONCE);
	assert.notEqual(c.stale, true);
});

test('selectAkaChallenge also when AKA is not first, and adds stale=true when asked', () => {
	const sel = selectAkaChallenge(unauthorized({ algorithms: ['SHA-256', 'AKAv2-SHA-256'] }), { stale: true });
	assert.equal(sel.challenge.nonce, NONCE);
	assert.equal(Parser.parseMessage(sel.text, {}).parseHeader('www-authenticate').stale, true);
});

test('selectAkaChallenge: null without an AKAv2-SHA-256 challenge, for AKAv1 and for other messages', () => {
	assert.equal(selectAkaChallenge(unauthorized({ algorithms: ['SHA-256', 'MD5'] })), null);
	assert.equal(selectAkaChallenge(unauthorized({ algorithms: ['AKAv1-MD5'] })), null);
	assert.equal(selectAkaChallenge(unauthorized().replace('401 Unauthorized', '200 OK')), null);
	assert.equal(selectAkaChallenge(unauthorized().replace(`nonce="${NONCE}"`, 'nonce=""')), null);
	assert.equal(selectAkaChallenge(null), null);
});

test('authParams reads quoted and token values, commas inside quotes', () => {
	const p = authParams('Digest realm="a,b", nonce="x=", algorithm=AKAv2-SHA-256, qop="auth,auth-int"');
	assert.deepEqual(p, { scheme: 'Digest', realm: 'a,b', nonce: 'x=', algorithm: 'AKAv2-SHA-256', qop: 'auth,auth-int' });
});

test('akaResponse is SHA-256 Digest over the 44-character password', () => {
	assert.equal(PASSWORD.length, 44);
	const got = akaResponse({ username: IMPI, realm: REALM, password: PASSWORD, method: 'REGISTER', uri: URI_S,
		nonce: NONCE, nc: '00000001', cnonce: CNONCE, qop: 'auth' });
	assert.equal(got, expected({ password: PASSWORD }));
});

test('JsSIP answers an AKAv2-SHA-256 challenge with the ISIM\'s password', () => {
	fileAnswer(IMPI, NONCE, { password: PASSWORD });
	const auth = newAuth();
	assert.equal(auth.authenticate(request, challenge(), CNONCE), true);
	const p = authParams(auth.toString());
	assert.equal(p.algorithm, AKA_ALGORITHM);
	assert.equal(p.username, IMPI);
	assert.equal(p.realm, REALM);
	assert.equal(p.nonce, NONCE);
	assert.equal(p.uri, URI_S);
	assert.equal(p.qop, 'auth');
	assert.equal(p.nc, '00000001');
	assert.equal(p.response, expected({ password: PASSWORD }));
	assert.equal(p.auts, undefined);
	assert.equal(auth.get('ha1'), AKA_NO_SECRET, 'no AKA-derived hash goes back into the UA');
	/* the answer was used up: the same nonce again is not answered */
	assert.equal(newAuth().authenticate(request, challenge(), CNONCE), false);
});

test('sync failure: Authorization with auts and a response over the EMPTY password', () => {
	fileAnswer(IMPI, NONCE, { auts: AUTS });
	const auth = newAuth();
	assert.equal(auth.authenticate(request, challenge(), CNONCE), true);
	const text = auth.toString();
	const p = authParams(text);
	assert.equal(p.auts, AUTS);
	assert.equal(p.response, expected({ password: '' }));
	assert.notEqual(p.response, expected({ password: PASSWORD }));
	assert.match(text, /^Digest algorithm=AKAv2-SHA-256, username="dave@ims\.example\.org", /);
});

test('AUTN refused (MAC failure): response="" and no auts (TS 24.229 5.1.1.5.3)', () => {
	fileAnswer(IMPI, NONCE, { macFailure: true });
	const auth = newAuth();
	assert.equal(auth.authenticate(request, challenge(), CNONCE), true);
	const p = authParams(auth.toString());
	assert.equal(p.response, '');
	assert.equal(p.auts, undefined);
});

test('no answer filed, or the ISIM refused: the challenge is not answered', () => {
	assert.equal(newAuth().authenticate(request, challenge({ nonce: NONCE2 }), CNONCE), false);
	fileAnswer(IMPI, NONCE2, { error: new Error('refused') });
	assert.equal(newAuth().authenticate(request, challenge({ nonce: NONCE2 }), CNONCE), false);
	/* another IMPI's answer does not answer ours */
	fileAnswer('erin@ims.example.org', NONCE2, { password: PASSWORD });
	assert.equal(newAuth().authenticate(request, challenge({ nonce: NONCE2 }), CNONCE), false);
	takeAnswer('erin@ims.example.org', NONCE2);
});

test('the AKA stand-in never answers a Digest challenge; Digest still works with a password', () => {
	const md5 = { algorithm: 'MD5', realm: REALM, nonce: 'n', qop: ['auth'] };
	assert.equal(newAuth().authenticate(request, md5, CNONCE), false);
	assert.equal(newAuth().authenticate(request, { ...md5, algorithm: 'SHA-256' }, CNONCE), false);
	const auth = new DigestAuthentication({ username: IMPI, password: 'pw' });
	assert.equal(auth.authenticate(request, { ...md5, algorithm: 'SHA-256' }, CNONCE), true);
	assert.equal(authParams(auth.toString()).algorithm, 'SHA-256');
});

test('akaAuthorization quotes values and puts auts after the response', () => {
	const h = akaAuthorization({ username: 'a"b', realm: REALM, nonce: NONCE, uri: URI_S, response: 'r',
		qop: 'auth', cnonce: 'c', nc: '00000001', auts: AUTS });
	assert.match(h, /username="a\\"b"/);
	assert.match(h, new RegExp(`response="r", auts="${AUTS.replace(/[+/=]/g, '\\$&')}", qop=auth`));
});

/* ---- the gate ---- */

function registerOut({ cseq, auts }) {
	return ['REGISTER sip:ims.example.org SIP/2.0', 'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK2',
		`CSeq: ${cseq} REGISTER`,
		...(auts ? [`Authorization: Digest algorithm=AKAv2-SHA-256, username="${IMPI}", realm="${REALM}", ` +
			`nonce="${NONCE}", uri="${URI_S}", response="x", auts="${AUTS}", qop=auth, cnonce="c", nc=00000001`] : []),
		'Content-Length: 0', '', ''].join('\r\n');
}

test('AkaGate asks the source with the nonce, files the password, hands JsSIP the AKA challenge', async () => {
	const asked = [], told = [];
	const gate = new AkaGate({ impi: IMPI, source: { aka: async (q) => (asked.push(q), { password: PASSWORD }) },
		onAnswer: (k) => told.push(k) });
	const out = await gate.incoming(unauthorized());
	assert.deepEqual(asked, [{ impi: IMPI, nonce: NONCE, algorithm: 'AKAv2-SHA-256' }]);
	assert.deepEqual(told, ['password']);
	assert.match(out, /algorithm=AKAv2-SHA-256/);
	assert.doesNotMatch(out, /algorithm=MD5/);
	assert.deepEqual(takeAnswer(IMPI, NONCE), { password: PASSWORD });
	/* not a challenge to REGISTER: not held */
	assert.equal(await gate.incoming(unauthorized().replace('CSeq: 1 REGISTER', 'CSeq: 1 MESSAGE')), null);
	assert.equal(await gate.incoming(unauthorized({ algorithms: ['SHA-256'] })), null);
	assert.equal(asked.length, 1);
});

test('AkaGate: after a REGISTER with auts, the next 401 to it is stale=true', async () => {
	const gate = new AkaGate({ impi: IMPI, source: { aka: async () => ({ auts: AUTS }) } });
	await gate.incoming(unauthorized({ cseq: 1 }));
	assert.deepEqual(takeAnswer(IMPI, NONCE), { auts: AUTS });
	gate.outgoing(registerOut({ cseq: 2, auts: true }));
	gate._source = { aka: async () => ({ password: PASSWORD }) };
	const out = await gate.incoming(unauthorized({ cseq: 2, nonce: NONCE2 }));
	assert.equal(Parser.parseMessage(out, {}).parseHeader('www-authenticate').stale, true);
	takeAnswer(IMPI, NONCE2);
	/* a REGISTER without auts clears it */
	gate.outgoing(registerOut({ cseq: 3, auts: false }));
	const out3 = await gate.incoming(unauthorized({ cseq: 3, nonce: NONCE2 }));
	assert.notEqual(Parser.parseMessage(out3, {}).parseHeader('www-authenticate').stale, true);
	takeAnswer(IMPI, NONCE2);
});

test('AkaGate: a MAC failure and a refusal are filed and reported', async () => {
	const told = [];
	const mac = new AkaGate({ impi: IMPI, onAnswer: (k, e) => told.push([k, e.kind]),
		source: { aka: async () => { throw new IsimError('mac-failure', 'network authentication failed: AUTN MAC is wrong', { status: 409 }); } } });
	assert.ok(await mac.incoming(unauthorized()));
	assert.deepEqual(takeAnswer(IMPI, NONCE), { macFailure: true });
	const refused = new AkaGate({ impi: IMPI, onAnswer: (k, e) => told.push([k, e.kind]),
		source: { aka: async () => { throw new IsimError('refused', 'origin x is not allowed', { status: 403 }); } } });
	assert.ok(await refused.incoming(unauthorized()));
	assert.equal(takeAnswer(IMPI, NONCE).error.kind, 'refused');
	const empty = new AkaGate({ impi: IMPI, onAnswer: (k, e) => told.push([k, e.kind]), source: { aka: async () => ({}) } });
	await empty.incoming(unauthorized());
	assert.ok(takeAnswer(IMPI, NONCE).error);
	assert.deepEqual(told, [['mac-failure', 'mac-failure'], ['error', 'refused'], ['error', 'bad-answer']]);
});

/* ---- JsSIP's own request sender, end to end ---- */

function fakeUa() {
	const configuration = { uri: new URI('sip', 'dave', REALM), authorization_user: IMPI, password: null,
		realm: null, ha1: AKA_NO_SECRET, jssip_id: 'x', display_name: null };
	return { configuration, status: 0, C: { STATUS_USER_CLOSED: 99 },
		set(k, v) {
			configuration[k] = v;
			if (k === 'ha1')
				configuration.password = null;
		} };
}

test('JsSIP RequestSender: password, then auts -> stale 401 -> answered again, then a third 401 is not', async () => {
	const ua = fakeUa();
	const req = new SIPMessage.OutgoingRequest('REGISTER', new URI('sip', null, REALM), ua,
		{ call_id: 'c1', cseq: 1, to_uri: ua.configuration.uri }, [], null);
	const sent = [], results = [];
	const sender = new RequestSender(ua, req, { onReceiveResponse: (r) => results.push(r.status_code) });
	sender.send = function send() {
		sent.push(this._request.toString());
	};
	const answers = [{ auts: AUTS }, { password: PASSWORD }];
	const gate = new AkaGate({ impi: IMPI, source: { aka: async () => answers.shift() } });
	const deliver = async (text) => {
		const msg = Parser.parseMessage(await gate.incoming(text), {});
		sender._receiveResponse(msg);
	};
	await deliver(unauthorized({ cseq: 1 }));
	assert.equal(sent.length, 1);
	const first = authParams(/Authorization: (.*)\r\n/.exec(sent[0])[1]);
	assert.equal(first.auts, AUTS);
	assert.equal(first.response, expected({ password: '', cnonce: first.cnonce }));
	gate.outgoing(sent[0]);
	await deliver(unauthorized({ cseq: 2, nonce: NONCE2 }));
	assert.equal(sent.length, 2, 'the fresh challenge after auts is answered');
	const second = authParams(/Authorization: (.*)\r\n/.exec(sent[1])[1]);
	assert.equal(second.auts, undefined);
	assert.equal(second.nonce, NONCE2);
	assert.equal(second.response, expected({ password: PASSWORD, nonce: NONCE2, nc: '00000002', cnonce: second.cnonce }));
	assert.match(sent[1], /CSeq: 3 REGISTER/);
	gate.outgoing(sent[1]);
	/* a wrong answer is not retried for ever */
	answers.push({ password: PASSWORD });
	await deliver(unauthorized({ cseq: 3, nonce: NONCE }));
	assert.equal(sent.length, 2);
	assert.deepEqual(results, [401]);
	takeAnswer(IMPI, NONCE);
});
