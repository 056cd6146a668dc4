// Reading REGISTER responses: expiry, P-Associated-URI, Warning, challenges.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { associatedUris, challengeAlgorithms, headerItems, parseNameAddr, registrationExpires,
	sipParse, splitList, warnings } from '../src/sipmsg.js';

const OK = [
	'SIP/2.0 200 OK',
	'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
	'To: <sip:alice@ims.example.org>;tag=x',
	'From: <sip:alice@ims.example.org>;tag=y',
	'Call-ID: 123',
	'CSeq: 2 REGISTER',
	'm: <sip:other@host.invalid;transport=ws>;expires=100,',
	' <sip:k3j2@abc.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:1111>";expires=590',
	'P-Associated-URI: <sip:alice@ims.example.org>, <tel:+15550001>',
	'P-Associated-URI: "Alice, home" <sip:alice.home@ims.example.org>',
	'Expires: 600',
	'Content-Length: 0',
	'', ''].join('\r\n');

test('sipParse reads status, reason, CSeq method, folded and compact headers', () => {
	const msg = sipParse(OK);
	assert.equal(msg.status, 200);
	assert.equal(msg.reason, 'OK');
	assert.equal(msg.cseqMethod, 'REGISTER');
	assert.equal(headerItems(msg, 'Contact').length, 2);
});

test('sipParse reads requests and refuses non-SIP text', () => {
	const req = sipParse('REGISTER sip:ims.example.org SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n');
	assert.equal(req.method, 'REGISTER');
	assert.equal(req.status, 0);
	assert.equal(sipParse('HTTP/1.1 200 OK\r\n\r\n'), null);
	assert.equal(sipParse(''), null);
	assert.equal(sipParse(null), null);
});

test('expiry comes from our Contact (sip.instance), not another binding', () => {
	const msg = sipParse(OK);
	assert.equal(registrationExpires(msg, { instance: '<urn:uuid:1111>' }), 590);
	assert.equal(registrationExpires(msg, { contactUser: 'k3j2' }), 590);
	assert.equal(registrationExpires(msg, { contactUser: 'other' }), 100);
});

test('expiry falls back to the Expires header', () => {
	const msg = sipParse(OK);
	assert.equal(registrationExpires(msg, { contactUser: 'nobody' }), 600);
	const noExpires = sipParse('SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContact: <sip:a@b>\r\n\r\n');
	assert.equal(registrationExpires(noExpires, { contactUser: 'a' }), null);
});

test('P-Associated-URI: every URI, in order, across headers', () => {
	assert.deepEqual(associatedUris(sipParse(OK)), [
		'sip:alice@ims.example.org', 'tel:+15550001', 'sip:alice.home@ims.example.org']);
});

test('Warning texts', () => {
	const msg = sipParse('SIP/2.0 403 Forbidden\r\nCSeq: 2 REGISTER\r\n' +
		'Warning: 399 cscf.ims.example.org "Authentication failed: \\"wrong\\" password", 301 x "y"\r\n\r\n');
	assert.deepEqual(warnings(msg), [
		{ code: 399, agent: 'cscf.ims.example.org', text: 'Authentication failed: "wrong" password' },
		{ code: 301, agent: 'x', text: 'y' }]);
});

test('challenge algorithms in the server order', () => {
	const msg = sipParse('SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\n' +
		'WWW-Authenticate: Digest realm="ims.example.org", nonce="a,b", algorithm=SHA-256, qop="auth"\r\n' +
		'WWW-Authenticate: Digest realm="ims.example.org", nonce="c", qop="auth"\r\n\r\n');
	assert.deepEqual(challengeAlgorithms(msg), ['SHA-256', 'MD5']);
});

test('splitList and parseNameAddr respect quotes and brackets', () => {
	assert.deepEqual(splitList('"a, b" <sip:x@y;p=1,2>, sip:z@w'), ['"a, b" <sip:x@y;p=1,2>', 'sip:z@w']);
	assert.deepEqual(parseNameAddr('"A; B" <sip:x@y;transport=ws>;expires=5;+sip.ice'),
		{ display: 'A; B', uri: 'sip:x@y;transport=ws', params: { expires: '5', '+sip.ice': '' } });
	assert.deepEqual(parseNameAddr('sip:x@y;expires=7'), { display: '', uri: 'sip:x@y', params: { expires: '7' } });
	assert.equal(parseNameAddr('<sip:broken'), null);
});
