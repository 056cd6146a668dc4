// Calls between two WICs through `wims demo` (pcscf and cscf): two browser
// contexts with fake audio devices, registered as alice and bob.
//   (a) alice calls bob: bob's page rings showing the asserted identity
//       sip:alice@ims.example.org, bob answers, audio flows both ways
//       (getStats bytesReceived grows on each side), alice hangs up and
//       both pages show the end; then alice mutes and bob hangs up;
//       dialling bob's number (+1 555 000 0002) reaches him too
//   (b) bob rejects: alice reads that bob declined; carol calls bob while
//       he is in a call: she reads that bob is busy
//   (c) alice hangs up while bob's page rings: bob sees a missed call
//   (d) calling carol, who is not registered: "carol is not online"
//   (e) bob's WebSocket closes mid-call: both calls end with a reason, and
//       a new call to bob reads "bob is not online"
//   (f) nobody answers (cscf Timer C at 3 s): alice reads "bob did not
//       answer" (487 after the cscf's CANCEL, or 408), bob a missed call
// Screenshots: call-ringing-caller, call-ringing-callee, call-in-call,
// call-ended, call-offline, call-lost, call-lost-callee.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { audioGrows, callPanel, dial, newContext, registeredPage, sipTrace, waitCall } from './lib/phone.mjs';
import { demoSession } from './lib/session.mjs';
import { screenshot, waitForState } from './lib/wic.mjs';
import { startDemo } from './lib/wims.mjs';

const session = demoSession({ contexts: 2 });
const demo = () => session.demo();

/* alice calls bob and bob answers; returns when both are in the call. */
async function connectedCall(alice, bob) {
	await dial(alice, 'bob');
	await waitCall(bob, 'incoming');
	await bob.click('#accept');
	await waitCall(bob, 'connected');
	await waitCall(alice, 'connected');
}

async function backToDialler(...pages) {
	for (const p of pages) {
		const c = await callPanel(p);
		if (c && c.state !== 'ended') {
			await p.evaluate(() => window.wic.hangup());
			await waitCall(p, 'ended');
		}
		if (c)
			await p.click('#call-done');
	}
}

describe('calls between two browsers', () => {
	let alice, bob;
	before(async () => {
		if (session.error)
			return;
		alice = await registeredPage(session.contexts[0], session.wims.wwsfUrl, 'alice');
		bob = await registeredPage(session.contexts[1], session.wims.wwsfUrl, 'bob');
	});
	/* A test that failed half-way leaves no call behind for the next. */
	beforeEach(async () => {
		if (alice && bob)
			await backToDialler(alice, bob);
	});

	test('(a) bob sees the asserted caller, answers, audio flows both ways, alice hangs up', async () => {
		demo();
		await dial(alice, 'bob');
		const ringing = await waitCall(bob, 'incoming');
		assert.equal(ringing.uri, 'sip:alice@ims.example.org');
		assert.equal(ringing.verified, true, `badge: ${ringing.badge}`);
		assert.match(ringing.badge, /Verified/);
		assert.equal(ringing.name, 'alice');
		assert.deepEqual(ringing.buttons, ['accept', 'reject']);
		assert.match(await bob.title(), /Incoming call from alice/);
		const caller = await waitCall(alice, 'ringing');
		assert.equal(caller.status, 'Ringing…');
		assert.equal(await bob.evaluate(() => document.body.dataset.tone), 'ring', 'bob\'s page rings');
		assert.equal(await alice.evaluate(() => document.body.dataset.tone), 'ringback', 'alice hears it ring');
		assert.equal(caller.uri, 'sip:bob@ims.example.org');
		await screenshot(alice, 'call-ringing-caller');
		await screenshot(bob, 'call-ringing-callee');

		await bob.click('#accept');
		await waitCall(bob, 'connected');
		const inCall = await waitCall(alice, 'connected');
		assert.deepEqual(inCall.buttons, ['hangup', 'mute']);
		assert.equal(await bob.evaluate(() => document.body.dataset.tone), undefined, 'the ringing stops');
		await Promise.all([audioGrows(alice), audioGrows(bob)]);
		for (const p of [alice, bob]) {
			const playing = await p.evaluate(() => {
				const a = document.getElementById('remote-audio');
				return !!a.srcObject && a.srcObject.getAudioTracks().some((t) => t.readyState === 'live') && !a.paused;
			});
			assert.ok(playing, `${p.who}: the remote audio plays in the page`);
		}
		assert.match((await callPanel(alice)).status, /^0:0[1-9]$/, 'the call timer runs');
		await screenshot(alice, 'call-in-call');

		await alice.click('#hangup');
		const aliceEnd = await waitCall(alice, 'ended');
		const bobEnd = await waitCall(bob, 'ended');
		assert.equal(aliceEnd.endKind, 'hangup');
		assert.equal(bobEnd.endTitle, 'alice hung up.');
		assert.match(bobEnd.status, /^Call ended · 0:0\d$/);
		await screenshot(bob, 'call-ended');
		await backToDialler(alice, bob);
	});

	test('(a) alice mutes, bob hangs up: both calls end', async () => {
		demo();
		await connectedCall(alice, bob);
		await audioGrows(alice, 1500);
		await alice.click('#mute');
		assert.equal(await alice.getAttribute('#mute', 'aria-pressed'), 'true');
		assert.equal(await alice.textContent('#mute-label'), 'Unmute');
		assert.equal(await alice.evaluate(() => window.wic.peerConnection.getSenders()
			.filter((s) => s.track).every((s) => !s.track.enabled)), true, 'the microphone track is off');
		await bob.click('#hangup');
		assert.equal((await waitCall(alice, 'ended')).endTitle, 'bob hung up.');
		assert.equal((await waitCall(bob, 'ended')).endKind, 'hangup');
		await backToDialler(alice, bob);
	});

	test('(b) bob rejects: alice reads that bob declined', async () => {
		demo();
		await dial(alice, 'sip:bob@ims.example.org');
		await waitCall(bob, 'incoming');
		await bob.click('#reject');
		const a = await waitCall(alice, 'ended');
		assert.equal(a.endKind, 'declined', JSON.stringify(a));
		assert.equal(a.endTitle, 'bob declined the call.');
		assert.match(a.endDetail, /603 Decline/);
		assert.equal((await waitCall(bob, 'ended')).endTitle, 'Call declined.');
		await backToDialler(alice, bob);
	});

	test('(b) bob is in a call with alice: carol reads that bob is busy', async () => {
		demo();
		const carol = await registeredPage(await newContext(session.chrome), session.wims.wwsfUrl, 'carol');
		try {
			await connectedCall(alice, bob);
			await dial(carol, 'bob');
			const c = await waitCall(carol, 'ended');
			assert.equal(c.endKind, 'busy', JSON.stringify(c));
			assert.equal(c.endTitle, 'bob is busy.');
			assert.match(c.endDetail, /486 Busy Here/);
			assert.equal((await callPanel(bob)).state, 'connected', 'bob\'s call goes on');
			await alice.click('#hangup');
			await waitCall(bob, 'ended');
		} finally {
			/* carol leaves the network: (d) expects her offline */
			await carol.click('#unregister');
			await waitForState(carol, 'unregistered');
			await carol.context().close();
		}
	});

	test('(c) alice hangs up while bob rings: bob sees a missed call', async () => {
		demo();
		await dial(alice, 'bob');
		await waitCall(bob, 'incoming');
		await waitCall(alice, 'ringing');
		await alice.click('#hangup');
		assert.equal((await waitCall(alice, 'ended')).endTitle, 'Call cancelled.');
		const b = await waitCall(bob, 'ended');
		assert.equal(b.endKind, 'missed', JSON.stringify(b));
		assert.equal(b.endTitle, 'Missed call from alice.');
		await backToDialler(alice, bob);
	});

	/* The WIC sends sip:+15550000002@ims.example.org;user=phone (JsSIP
	 * has no tel: URI); the cscf looks it up as tel:+15550000002
	 * (RFC 3261 19.1.6, TS 24.229 5.4.3.2). */
	test('(a) dialling bob\'s number reaches bob', async () => {
		demo();
		await dial(alice, '+1 555 000 0002');
		const first = await waitCall(alice, ['ringing', 'ended']);
		assert.equal(first.state, 'ringing', JSON.stringify(first));
		const b = await waitCall(bob, 'incoming');
		assert.equal(b.uri, 'sip:alice@ims.example.org');
		await bob.click('#accept');
		await waitCall(alice, 'connected');
		await alice.click('#hangup');
		await waitCall(bob, 'ended');
		await waitCall(alice, 'ended');
		await backToDialler(alice, bob);
	});

	test('(d) carol is not registered: "carol is not online"', async () => {
		demo();
		await dial(alice, 'carol');
		const a = await waitCall(alice, 'ended');
		assert.equal(a.endKind, 'offline', JSON.stringify(a));
		assert.equal(a.endTitle, 'carol is not online.');
		assert.match(a.endDetail, /480/);
		await screenshot(alice, 'call-offline');
		await backToDialler(alice);
	});

	test('(d) a typo in the dialler is explained before any SIP is sent', async () => {
		demo();
		const sent = await alice.evaluate(() => window.wic.trace.length);
		await dial(alice, 'bob smith');
		assert.match(await alice.textContent('#dial-error'), /not an address/);
		assert.equal(await callPanel(alice), null);
		assert.equal(await alice.evaluate(() => window.wic.trace.length), sent);
		await alice.fill('#dial', '');
	});

	test('(e) bob\'s WebSocket closes mid-call: both calls end with a reason, bob is then offline', async () => {
		demo();
		await connectedCall(alice, bob);
		await audioGrows(bob, 1500);
		/* The flow dies as a dropped network would kill it: bob's socket
		 * closes under JsSIP. */
		await bob.evaluate(() => window.wic._socket._ws.close());
		const b = await waitCall(bob, 'ended');
		assert.equal(b.endKind, 'lost', JSON.stringify(b));
		assert.equal(b.endTitle, 'The connection to the network was lost.');
		await screenshot(bob, 'call-lost-callee');
		const a = await waitCall(alice, 'ended', 20000);
		assert.equal(a.endKind, 'lost', JSON.stringify(a));
		assert.equal(a.endTitle, 'The call was cut off.');
		assert.match(a.endDetail, /bob/);
		await screenshot(alice, 'call-lost');
		assert.equal((await bob.evaluate(() => window.wic.snapshot.state)), 'failed');
		await backToDialler(alice);

		/* bob's binding points at a dead flow: pcscf answers 430, cscf
		 * drops the binding and tells alice 480. */
		await dial(alice, 'bob');
		const again = await waitCall(alice, 'ended', 20000);
		assert.equal(again.endKind, 'offline', `${JSON.stringify(again)}\n${await sipTrace(alice)}`);
		assert.equal(again.endTitle, 'bob is not online.');
		await backToDialler(alice);
	});

	test('no page errors', () => {
		demo();
		assert.deepEqual(alice.problems, []);
		assert.deepEqual(bob.problems.filter((p) => !/WebSocket/.test(p)), []);
	});
});

describe('a call nobody answers (cscf Timer C shortened to 3 s)', () => {
	let short, shortError, alice, bob;
	before(async () => {
		short = await startDemo({ sets: ['cscf.timer_c=3'] }).catch((e) => {
			shortError = e;
		});
		if (shortError)
			return;
		alice = await registeredPage(session.contexts[0], short.wwsfUrl, 'alice');
		bob = await registeredPage(session.contexts[1], short.wwsfUrl, 'bob');
	});
	after(async () => {
		await alice?.close();
		await bob?.close();
		await short?.stop();
	});

	test('(f) alice reads that bob did not answer; bob sees a missed call', async () => {
		if (shortError)
			throw shortError;
		await dial(alice, 'bob');
		await waitCall(bob, 'incoming');
		await waitCall(alice, 'ringing');
		const a = await waitCall(alice, 'ended', 15000);
		assert.equal(a.endKind, 'no-answer', JSON.stringify(a));
		assert.equal(a.endTitle, 'bob did not answer.');
		/* RFC 3261 16.8: a branch that rang gets CANCEL and its 487 is
		 * the best answer; one that never rang ends as 408. */
		assert.match(a.endDetail, /408 |487 /);
		const b = await waitCall(bob, 'ended');
		assert.equal(b.endTitle, 'Missed call from alice.');
	});
});
