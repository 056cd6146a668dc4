// A WIC and a SIP phone outside the browser (SIPp) call each other through
// `wims demo`.  The phones register directly on the cscf with Digest MD5
// (SIPp 3.6.1 has no SHA-256, so the cscf offers MD5 only) from loopback
// addresses that are not P-CSCFs (127.0.0.2, 127.0.0.3): the cscf asserts
// their identity from their registration.
//   (a) carol's phone (SIPp UAC, 127.0.0.2) calls alice's WIC: the page
//       rings with the asserted identity sip:carol@ims.example.org, alice
//       accepts, the phone ACKs along the Record-Route set, stays in the
//       call, hangs up (BYE), de-registers
//   (b) alice's WIC calls bob's phone (SIPp UAS, 127.0.0.3): ringing, the
//       phone's answer is accepted by the browser, alice hangs up, the
//       phone answers the BYE
// No media flows to or from SIPp: the calls must set up and end cleanly.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { dial, registeredPage, sipTrace, waitCall } from './lib/phone.mjs';
import { runSipp, sippAvailable, startSipp } from './lib/sipp.mjs';
import { demoSession } from './lib/session.mjs';
import { screenshot } from './lib/wic.mjs';

const skip = sippAvailable() ? false : 'sipp is not installed';
const MD5 = ['-auth_uri', 'ims.example.org'];

const session = demoSession({ sets: ['cscf.digest_algorithms=MD5'], skip });
const demo = () => session.demo();

describe('a WIC and a SIP phone on the IMS side', { skip }, () => {
	let alice;
	before(async () => {
		if (!session.error)
			alice = await registeredPage(session.contexts[0], session.wims.wwsfUrl, 'alice');
	});

	test('(a) carol\'s phone calls alice\'s WIC', async () => {
		const { cscfPort } = demo();
		const phone = await startSipp({
			scenario: 'phone_call_wic.xml', target: `127.0.0.1:${cscfPort}`, ip: '127.0.0.2', port: 5090,
			args: ['-s', 'alice', '-au', 'carol@ims.example.org', '-ap', 'carol-secret', ...MD5],
		});
		try {
			const ringing = await Promise.race([
				waitCall(alice, 'incoming', 20000),
				phone.done.then(async () => {
					throw new Error(`the phone ended before alice's page rang\n${await phone.log()}`);
				}),
			]);
			assert.equal(ringing.uri, 'sip:carol@ims.example.org');
			assert.equal(ringing.verified, true, ringing.badge);
			assert.equal(ringing.claimed, 'Calls as "Carol\'s desk phone"', 'From display only as secondary text');
			await screenshot(alice, 'phone-calls-wic-ringing');
			await alice.click('#accept');
			await waitCall(alice, 'connected');
			const end = await waitCall(alice, 'ended', 20000);
			assert.equal(end.endTitle, 'carol hung up.', JSON.stringify(end));
			const { code } = await phone.done;
			assert.equal(code, 0, `sipp exited ${code}\n${await phone.log()}\n${await sipTrace(alice)}`);
		} catch (e) {
			throw new Error(`${e.message}\n${await phone.log()}`);
		} finally {
			await phone.stop();
			await alice.click('#call-done').catch(() => {});
		}
	});

	test('(b) alice\'s WIC calls bob\'s phone', async () => {
		const { cscfPort } = demo();
		const at = { target: `127.0.0.1:${cscfPort}`, ip: '127.0.0.3', port: 5090 };
		await runSipp({ scenario: 'phone_register.xml', ...at,
			args: ['-s', 'bob', '-au', 'bob@ims.example.org', '-ap', 'bob-secret', ...MD5] });
		const phone = await startSipp({ scenario: 'phone_answer.xml', ...at, args: ['-s', 'bob'] });
		try {
			await new Promise((r) => setTimeout(r, 300)); /* SIPp binds its socket */
			await dial(alice, 'bob');
			await waitCall(alice, ['ringing', 'connected']);
			const inCall = await waitCall(alice, 'connected');
			assert.equal(inCall.uri, 'sip:bob@ims.example.org');
			await new Promise((r) => setTimeout(r, 1500));
			await alice.click('#hangup');
			const end = await waitCall(alice, 'ended');
			assert.equal(end.endKind, 'hangup', JSON.stringify(end));
			const { code } = await Promise.race([phone.done,
				new Promise((r) => setTimeout(() => r({ code: 'still running 10 s after the hang-up' }), 10000))]);
			assert.equal(code, 0, `sipp ${code}\n${await sipTrace(alice)}`);
			/* the BYE got its 200: no retransmission left in the page */
			const byeAnswered = await alice.evaluate(() => window.wic.trace.some((t) => t.dir === 'in' &&
				/^SIP\/2\.0 200/.test(t.text) && /\r\nCSeq: *\d+ BYE/i.test(t.text)));
			assert.ok(byeAnswered, await sipTrace(alice));
		} catch (e) {
			throw new Error(`${e.message}\n${await phone.log()}`);
		} finally {
			await phone.stop();
			await alice.click('#call-done').catch(() => {});
		}
	});

	test('no page errors', () => {
		demo();
		assert.deepEqual(alice.problems, []);
	});
});
