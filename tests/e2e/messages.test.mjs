// Pager-mode messages (SIP MESSAGE, text/plain, RFC 3428) between two WICs
// through `wims demo`, and the P-CSCF's identity rule seen from a page.
//   (a) alice writes to bob: bob's page lists a conversation with alice,
//       shown with the asserted identity; bob answers in the same
//       conversation and alice reads it in hers
//   (b) to carol, who is not registered: the bubble says it was not
//       delivered and why
//   (c) spoofed From: alice's page sends, over her own registered
//       WebSocket, a MESSAGE whose From is bob: 403, and bob receives
//       nothing (a genuine message sent right after does arrive); a
//       P-Asserted-Identity the page adds is replaced by the network's
// Screenshot: message-conversation.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { messagesPanel, registeredPage, sendText, sipTrace, waitBubble } from './lib/phone.mjs';
import { demoSession } from './lib/session.mjs';
import { screenshot } from './lib/wic.mjs';

const session = demoSession({ contexts: 2 });
const demo = () => session.demo();

describe('messages between two browsers', () => {
	let alice, bob;
	before(async () => {
		if (session.error)
			return;
		alice = await registeredPage(session.contexts[0], session.wims.wwsfUrl, 'alice');
		bob = await registeredPage(session.contexts[1], session.wims.wwsfUrl, 'bob');
	});

	test('(a) alice writes to bob, bob answers: one conversation on each side', async () => {
		demo();
		await sendText(alice, 'bob', 'Hello bob, lunch at noon?');
		await waitBubble(alice, { dir: 'out', text: 'Hello bob, lunch at noon?', status: 'sent' });

		await waitBubble(bob, { dir: 'in', text: 'Hello bob, lunch at noon?' });
		let b = await messagesPanel(bob);
		assert.equal(b.conversations.length, 1);
		assert.equal(b.conversations[0].key, 'sip:alice@ims.example.org');
		assert.equal(b.threadName, 'alice');
		assert.match(b.threadBadge || '', /sip:alice@ims\.example\.org/, 'asserted identity shown');
		assert.doesNotMatch(b.bubbles[0].meta, /not verified/);

		await sendText(bob, await bob.inputValue('#msg-to'), 'Yes, see you there.');
		await waitBubble(bob, { dir: 'out', text: 'Yes, see you there.', status: 'sent' });
		await waitBubble(alice, { dir: 'in', text: 'Yes, see you there.' });
		const a = await messagesPanel(alice);
		assert.equal(a.conversations.length, 1, 'the reply joins the conversation alice started');
		assert.deepEqual(a.bubbles.map((x) => x.dir), ['out', 'in']);

		await sendText(alice, await alice.inputValue('#msg-to'), 'Great!');
		await waitBubble(bob, { dir: 'in', text: 'Great!' });
		b = await messagesPanel(bob);
		assert.deepEqual(b.bubbles.map((x) => x.text), ['Hello bob, lunch at noon?', 'Yes, see you there.', 'Great!']);
		await screenshot(bob, 'message-conversation');
	});

	test('(b) to carol, not registered: not delivered, and why', async () => {
		demo();
		await sendText(alice, 'carol', 'Are you there?');
		await waitBubble(alice, { dir: 'out', text: 'Are you there?', status: 'failed' });
		const a = await messagesPanel(alice);
		const failed = a.bubbles.find((x) => x.text === 'Are you there?');
		assert.match(failed.error, /carol is not online \(480/);
		assert.equal(a.conversations.length, 2);
	});

	test('(c) a MESSAGE from alice\'s flow claiming to be bob gets 403; bob receives nothing', async () => {
		demo();
		const before = await bob.evaluate(() => window.wic.trace.length);
		const callId = randomBytes(8).toString('hex');
		/* A well-formed request JsSIP would send, but From: bob.  Sent on
		 * the page's registered WebSocket; JsSIP drops the answer (no
		 * transaction), the page's trace keeps it. */
		await alice.evaluate((callId) => {
			const via = window.wic._ua.configuration.via_host;
			const body = 'I am bob, trust me';
			window.wic._socket.send([
				'MESSAGE sip:bob@ims.example.org SIP/2.0',
				`Via: SIP/2.0/WSS ${via};branch=z9hG4bK${callId}`,
				'Max-Forwards: 70',
				'From: <sip:bob@ims.example.org>;tag=spoof1',
				'To: <sip:bob@ims.example.org>',
				`Call-ID: ${callId}`,
				'CSeq: 1 MESSAGE',
				'Content-Type: text/plain',
				`Content-Length: ${body.length}`,
				'', body].join('\r\n'));
		}, callId);
		const answer = await alice.waitForFunction((callId) => {
			const m = window.wic.trace.find((t) => t.dir === 'in' && t.text.startsWith('SIP/2.0 ') &&
				t.text.includes(`Call-ID: ${callId}`));
			return m ? m.text.split('\r\n', 1)[0] : null;
		}, callId, { timeout: 10000 }).then((h) => h.jsonValue());
		assert.match(answer, /^SIP\/2\.0 403 /);

		/* A genuine message sent after it arrives; the spoof never did. */
		await sendText(alice, 'bob', 'this one is really from alice');
		await waitBubble(bob, { dir: 'in', text: 'this one is really from alice' });
		const b = await messagesPanel(bob);
		assert.ok(!b.bubbles.some((x) => /trust me/.test(x.text)), JSON.stringify(b.bubbles));
		const seen = await bob.evaluate((n) => window.wic.trace.slice(n).filter((t) => t.dir === 'in' &&
			t.text.startsWith('MESSAGE ')).map((t) => t.text), before);
		assert.equal(seen.length, 1, `bob's page saw:\n${seen.join('\n----\n')}\n${await sipTrace(bob)}`);
		assert.doesNotMatch(seen[0], /trust me/);
	});

	test('(c) a P-Asserted-Identity the page adds is replaced: bob sees alice', async () => {
		demo();
		const before = await bob.evaluate(() => window.wic.trace.length);
		await alice.evaluate(() => window.wic._ua.sendMessage('sip:bob@ims.example.org', 'who am I?', {
			contentType: 'text/plain', extraHeaders: ['P-Asserted-Identity: <sip:bob@ims.example.org>'] }));
		await bob.waitForFunction((n) => window.wic.trace.slice(n).some((t) => t.dir === 'in' &&
			t.text.startsWith('MESSAGE ') && t.text.includes('who am I?')), before, { timeout: 10000 });
		const raw = await bob.evaluate((n) => window.wic.trace.slice(n).find((t) => t.dir === 'in' &&
			t.text.startsWith('MESSAGE ') && t.text.includes('who am I?')).text, before);
		const pai = raw.split('\r\n').filter((l) => /^P-Asserted-Identity:/i.test(l));
		assert.ok(pai.length >= 1 && pai.every((l) => /sip:alice@ims\.example\.org|tel:\+15550000001/.test(l)),
			`P-Asserted-Identity bob got:\n${raw}`);
		const b = await messagesPanel(bob);
		assert.equal(b.conversations.length, 1, 'it joins the conversation with alice');
		assert.ok(b.bubbles.some((x) => x.text === 'who am I?'));
	});

	test('no page errors', () => {
		demo();
		assert.deepEqual(alice.problems, []);
		assert.deepEqual(bob.problems, []);
	});
});
