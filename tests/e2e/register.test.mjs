// Registration from the browser through `wims demo`: the WIC page from the
// wwsf registers over WSS with the pcscf, Digest-challenged by the cscf.
//   (a) alice registers and sees Registered with her P-Associated-URI
//   (b) a wrong password shows why it failed; an unknown user too
//   (c) Digest SHA-256 is what the default server asks for and the page
//       answers; MD5 alone still works when the cscf is told so
//   (d) the same page served from a foreign Origin cannot register
// The demo runs on free ports of its own (startDemo), not the README's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { launchChromium } from './lib/browser.mjs';
import { startStaticSite } from './lib/static.mjs';
import { wsUpgradeStatus } from './lib/http.mjs';
import { openWic, register, screenshot, statusPanel, waitForState } from './lib/wic.mjs';
import { REPO, freePort, startDemo, wimsHasKey } from './lib/wims.mjs';

let chrome;
before(async () => {
	chrome = await launchChromium();
});
after(async () => {
	await chrome?.close();
});

async function registered(page, who) {
	await register(page, { impu: `sip:${who}@ims.example.org`, password: `${who}-secret` });
	const state = await waitForState(page, ['registered', 'failed']);
	const s = await statusPanel(page);
	assert.equal(state, 'registered', `${who}: ${s.failureTitle} ${s.failureDetail}`);
	return s;
}

describe('wims demo, default configuration', () => {
	let wims, startError;
	/* A demo that does not start fails every test below with its output,
	 * rather than cancelling them silently. */
	before(async () => {
		wims = await startDemo().catch((e) => {
			startError = e;
		});
	});
	const demo = () => {
		if (startError)
			throw startError;
		return wims;
	};
	after(async () => {
		await wims?.stop();
	});

	test('(a) alice registers and sees her asserted identities', async () => {
		demo();
		const page = await openWic(chrome.context, wims.wwsfUrl);
		const s = await registered(page, 'alice');
		assert.equal(s.stateText, 'Registered');
		assert.ok(s.associated.includes('sip:alice@ims.example.org'), `P-Associated-URI: ${s.associated}`);
		assert.ok(s.expiresSeconds > 0, `expires ${s.expires}`);
		assert.match(s.expires, /^\d+:\d\d(:\d\d)?$/);
		await screenshot(page, 'registered-alice');

		await page.click('#unregister');
		await waitForState(page, 'unregistered');
		await page.close();
	});

	test('(a) the IMPI field, when given, is the Digest username', async () => {
		demo();
		const page = await openWic(chrome.context, wims.wwsfUrl);
		await register(page, { impu: 'sip:bob@ims.example.org', impi: 'bob@ims.example.org', password: 'bob-secret' });
		assert.equal(await waitForState(page, ['registered', 'failed']), 'registered');
		const username = await page.evaluate(() => {
			const out = window.wic.trace.filter((m) => m.dir === 'out' && /\r\nAuthorization:/i.test(m.text));
			return /username="([^"]*)"/.exec(out[out.length - 1].text)[1];
		});
		assert.equal(username, 'bob@ims.example.org');
		await page.close();
	});

	test('(b) a wrong password shows the failure reason', async () => {
		demo();
		const page = await openWic(chrome.context, wims.wwsfUrl);
		await register(page, { impu: 'sip:alice@ims.example.org', password: 'not-her-password' });
		assert.equal(await waitForState(page, ['registered', 'failed']), 'failed');
		const s = await statusPanel(page);
		assert.equal(s.stateText, 'Failed');
		assert.equal(s.failureKind, 'password', `${s.failureTitle} ${s.failureDetail}`);
		assert.match(s.failureTitle, /Wrong password/);
		assert.match(s.failureDetail, /The server answered (401|403)/);
		await screenshot(page, 'wrong-password');
		await page.close();
	});

	test('(b) an unknown user shows the failure reason', async () => {
		demo();
		const page = await openWic(chrome.context, wims.wwsfUrl);
		await register(page, { impu: 'sip:mallory@ims.example.org', password: 'mallory-secret' });
		assert.equal(await waitForState(page, ['registered', 'failed']), 'failed');
		const s = await statusPanel(page);
		assert.equal(s.failureKind, 'unknown-user', `${s.failureTitle} ${s.failureDetail}`);
		assert.match(s.failureTitle, /Unknown user/);
		assert.match(s.failureDetail, /The server answered (404|403)/);
		await screenshot(page, 'unknown-user');
		await page.close();
	});

	test('(c) the default challenge is Digest SHA-256 and the page answers it', async () => {
		demo();
		const page = await openWic(chrome.context, wims.wwsfUrl);
		const s = await registered(page, 'carol');
		assert.equal(s.algorithm, 'SIP Digest SHA-256');
		const alg = await page.evaluate(() => {
			const m = window.wic.trace.filter((t) => t.dir === 'out' && /\r\nAuthorization:/i.test(t.text));
			return /algorithm=([A-Za-z0-9-]+)/.exec(m[0].text)[1];
		});
		assert.equal(alg, 'SHA-256');
		await screenshot(page, 'registered-sha256');
		await page.close();
	});

	test('(d) a page from a foreign Origin cannot register', async () => {
		const { cert, key, pcscfUrl, wwsfOrigin } = demo();
		const port = await freePort();
		/* The pcscf itself: 403 for the foreign Origin, 101 for ours. */
		assert.equal(await wsUpgradeStatus(pcscfUrl, `https://127.0.0.1:${port}`), 403);
		assert.equal(await wsUpgradeStatus(pcscfUrl, wwsfOrigin), 101);

		const foreign = await startStaticSite({ port, root: join(REPO, 'web/dist'), cert, key, pcscfUrl });
		try {
			const page = await openWic(chrome.context, foreign.url);
			await register(page, { impu: 'sip:alice@ims.example.org', password: 'alice-secret' });
			assert.equal(await waitForState(page, ['registered', 'failed']), 'failed');
			await page.waitForFunction(() => document.getElementById('failure').dataset.kind !== 'connecting');
			const s = await statusPanel(page);
			assert.match(s.failureTitle, /refused this page's origin/);
			assert.equal(s.sipSent, 0, 'no SIP left the page');
			await screenshot(page, 'foreign-origin');
			await page.close();
		} finally {
			await foreign.close();
		}
	});
});

const hasKey = await wimsHasKey('cscf.digest_algorithms').catch(() => false);

describe('wims demo, cscf challenging with MD5 only', () => {
	let wims, startError;
	before(async () => {
		if (hasKey)
			wims = await startDemo({ sets: ['cscf.digest_algorithms=MD5'] }).catch((e) => {
				startError = e;
			});
	});
	after(async () => {
		await wims?.stop();
	});

	test('(c) MD5 registration', { skip: hasKey ? false : 'this wims has no cscf.digest_algorithms key yet' }, async () => {
		if (startError)
			throw startError;
		const page = await openWic(chrome.context, wims.wwsfUrl);
		const s = await registered(page, 'alice');
		assert.equal(s.algorithm, 'SIP Digest MD5');
		await page.close();
	});
});

describe('wims demo, registrations shortened to 20 s', () => {
	let wims, startError;
	before(async () => {
		wims = await startDemo({ sets: ['cscf.max_expires=20', 'cscf.min_expires=10', 'cscf.default_expires=20'] }).catch((e) => {
			startError = e;
		});
	});
	after(async () => {
		await wims?.stop();
	});

	test('the countdown follows the expiry granted, and refreshes with the re-REGISTER', async () => {
		if (startError)
			throw startError;
		const page = await openWic(chrome.context, wims.wwsfUrl);
		const first = await registered(page, 'bob');
		assert.ok(first.expiresSeconds <= 20 && first.expiresSeconds >= 15, `granted ${first.expires}`);
		/* JsSIP refreshes 5 s before a short registration ends */
		await page.waitForFunction(() => window.wic.trace.filter((m) => m.dir === 'out').length >= 3,
			null, { timeout: 25000 });
		await page.waitForFunction(() => Number(document.getElementById('expires').dataset.seconds) >= 15,
			null, { timeout: 5000 });
		const s = await statusPanel(page);
		assert.equal(s.state, 'registered');
		assert.ok(s.associated.includes('sip:bob@ims.example.org'));
		await page.close();
	});
});
