// Dial strings, who calls (P-Asserted-Identity), and the reasons a call ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { callerIdentity, dialTarget, explainCallEnd, explainCallFailure, explainMessageFailure,
	formatDuration, peerKey, peerName, uriParts } from '../src/call.js';

const D = 'ims.example.org';

test('a user name is completed with the home domain', () => {
	assert.equal(dialTarget('bob', D), 'sip:bob@ims.example.org');
	assert.equal(dialTarget('  bob  ', D), 'sip:bob@ims.example.org');
	assert.equal(dialTarget('bob', ''), null, 'no domain to complete with');
});

test('user@host and SIP URIs are kept', () => {
	assert.equal(dialTarget('bob@example.net', D), 'sip:bob@example.net');
	assert.equal(dialTarget('sip:bob@ims.example.org', D), 'sip:bob@ims.example.org');
	assert.equal(dialTarget('SIP:bob@ims.example.org;transport=tcp', D), 'sip:bob@ims.example.org;transport=tcp');
	assert.equal(dialTarget('sips:bob@ims.example.org', D), 'sips:bob@ims.example.org');
});

test('a number becomes sip:NUMBER@domain;user=phone, separators dropped', () => {
	assert.equal(dialTarget('+15550000002', D), 'sip:+15550000002@ims.example.org;user=phone');
	assert.equal(dialTarget('tel:+15550000002', D), 'sip:+15550000002@ims.example.org;user=phone');
	assert.equal(dialTarget('+1 (555) 000-0002', D), 'sip:+15550000002@ims.example.org;user=phone');
	assert.equal(dialTarget('2', D), 'sip:2@ims.example.org;user=phone');
});

test('nothing callable gives null', () => {
	for (const bad of ['', '   ', 'bob smith', 'sip:', 'sip:bob', 'http://x', 'mailto:bob', 'a@b@c',
		'tel:+1555abc', 'bob;x=y', '+'])
		assert.equal(dialTarget(bad, D), null, JSON.stringify(bad));
});

test('uriParts and peerName read users and numbers', () => {
	assert.deepEqual(uriParts('sip:bob@IMS.example.org;transport=ws'),
		{ user: 'bob', host: 'ims.example.org', number: null });
	assert.equal(uriParts('sip:+1555@x;user=phone').number, '+1555');
	assert.equal(uriParts('tel:+15550000001').number, '+15550000001');
	assert.equal(peerName('sip:alice@ims.example.org'), 'alice');
	assert.equal(peerName('sip:al%20ice@x'), 'al ice');
	assert.equal(peerName(''), 'the other party');
});

test('peerKey ignores parameters and host case', () => {
	assert.equal(peerKey('sip:bob@IMS.Example.org;transport=ws'), 'sip:bob@ims.example.org');
	assert.equal(peerKey('sip:+1555@ims.example.org;user=phone'), 'sip:+1555@ims.example.org');
	assert.equal(peerKey('tel:+1555;phone-context=x'), 'tel:+1555');
});

test('the caller is the asserted identity, not the From', () => {
	const id = callerIdentity({
		pai: ['<sip:alice@ims.example.org>'],
		from: '"Bob (really)" <sip:bob@ims.example.org>;tag=abc',
	});
	assert.equal(id.verified, true);
	assert.equal(id.uri, 'sip:alice@ims.example.org');
	assert.equal(id.name, 'alice');
	assert.deepEqual(id.claimed, { display: 'Bob (really)', uri: 'sip:bob@ims.example.org' });
});

test('sip and tel identities: the sip URI names, the tel URI gives the number', () => {
	const both = callerIdentity({ pai: ['"Alice" <sip:alice@ims.example.org>, <tel:+15550000001>'], from: '' });
	assert.equal(both.uri, 'sip:alice@ims.example.org');
	assert.equal(both.number, '+15550000001');
	assert.equal(both.name, 'Alice');
	const twoHeaders = callerIdentity({ pai: ['<tel:+15550000001>', '<sip:alice@ims.example.org>'] });
	assert.equal(twoHeaders.uri, 'sip:alice@ims.example.org');
	const telOnly = callerIdentity({ pai: ['<tel:+15550000001>'] });
	assert.equal(telOnly.uri, 'tel:+15550000001');
	assert.equal(telOnly.name, '+15550000001');
	assert.equal(telOnly.verified, true);
});

test('no asserted identity: From is shown, marked unverified', () => {
	const id = callerIdentity({ pai: [], from: '"Carol" <sip:carol@ims.example.org>;tag=1' });
	assert.equal(id.verified, false);
	assert.equal(id.uri, 'sip:carol@ims.example.org');
	assert.equal(id.name, 'Carol');
	const junk = callerIdentity({ pai: ['garbage', '<http://x>'], from: '<sip:c@x>' });
	assert.equal(junk.verified, false, 'an unreadable P-Asserted-Identity asserts nothing');
	assert.equal(callerIdentity({}).verified, false);
});

test('failure responses read as sentences naming the callee', () => {
	const f = (status, reason, extra = {}) => explainCallFailure({ status, reason, originator: 'remote', peer: 'bob', ...extra });
	assert.equal(f(480, 'Temporarily Unavailable').title, 'bob is not online.');
	assert.equal(f(480, 'Temporarily Unavailable').kind, 'offline');
	assert.match(f(480, 'Temporarily Unavailable', { warnings: [{ code: 399, agent: 'cscf', text: 'flow failed' }] }).detail,
		/480 Temporarily Unavailable \(flow failed\)/);
	assert.equal(f(486, 'Busy Here').title, 'bob is busy.');
	assert.equal(f(600, 'Busy Everywhere').kind, 'busy');
	assert.equal(f(603, 'Decline').title, 'bob declined the call.');
	assert.equal(f(404, 'Not Found').title, 'bob does not exist.');
	assert.equal(f(403, 'Forbidden').kind, 'forbidden');
	assert.match(f(403, 'Not our domain').detail, /403 Not our domain/);
	assert.equal(f(408, 'Request Timeout').title, 'bob did not answer.');
	assert.equal(f(487, 'Request Terminated').kind, 'no-answer', 'cancelled by the network (Timer C), not by us');
	assert.equal(f(487, 'Request Terminated').title, 'bob did not answer.');
	assert.equal(f(503, 'Service Unavailable').kind, 'network');
	assert.equal(f(488, 'Not Acceptable Here').kind, 'media');
	assert.equal(f(499, 'Odd').kind, 'failed');
	assert.match(f(499, 'Odd').detail, /499 Odd/);
});

test('failures without a response come from the cause', () => {
	assert.equal(explainCallFailure({ cause: 'Canceled', originator: 'local' }).title, 'Call cancelled.');
	assert.equal(explainCallFailure({ cause: 'Connection Error', originator: 'system' }).kind, 'lost');
	assert.equal(explainCallFailure({ cause: 'Request Timeout', originator: 'system' }).kind, 'network');
	assert.equal(explainCallFailure({ cause: 'User Denied Media Access', originator: 'local' }).title, 'No microphone.');
	assert.equal(explainCallFailure({ cause: 'WebRTC Error' }).kind, 'media');
	assert.equal(explainCallFailure({ cause: 'Something new' }).detail, 'Something new.');
	assert.equal(explainCallFailure({}).kind, 'failed');
});

test('how a connected call ended', () => {
	assert.equal(explainCallEnd({ originator: 'remote', cause: 'Terminated', peer: 'bob' }).title, 'bob hung up.');
	assert.equal(explainCallEnd({ originator: 'local', cause: 'Terminated', peer: 'bob' }).title, 'Call ended.');
	const lost = explainCallEnd({ cause: 'Transport Lost' });
	assert.equal(lost.kind, 'lost');
	assert.match(lost.title, /connection to the network was lost/);
	assert.equal(explainCallEnd({ cause: 'Media Lost', peer: 'bob' }).title, 'The call was cut off.');
	assert.match(explainCallEnd({ cause: 'Media Lost', peer: 'bob' }).detail, /bob/);
	assert.equal(explainCallEnd({ cause: 'RTP Timeout' }).kind, 'lost');
});

test('message failures', () => {
	assert.equal(explainMessageFailure({ status: 480, reason: 'Temporarily Unavailable', peer: 'bob' }),
		'Not delivered: bob is not online (480 Temporarily Unavailable).');
	assert.match(explainMessageFailure({ status: 403, reason: 'Forbidden' }), /refused/);
	assert.match(explainMessageFailure({ status: 404, peer: 'x' }), /x does not exist/);
	assert.match(explainMessageFailure({ cause: 'Connection Error' }), /connection/);
	assert.equal(explainMessageFailure({ status: 500, reason: 'Oops' }), 'Not delivered (500 Oops).');
});

test('the call timer', () => {
	assert.equal(formatDuration(0), '0:00');
	assert.equal(formatDuration(7900), '0:07');
	assert.equal(formatDuration(754000), '12:34');
	assert.equal(formatDuration(3723000), '1:02:03');
	assert.equal(formatDuration(-5), '0:00');
});
