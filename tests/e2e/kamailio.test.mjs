// The WIC against Kamailio, an independent SIP-over-WSS registrar: the
// JsSIP Digest SHA-256 extension and plain MD5 register, a wrong password
// and a refused Origin give their reasons.  This checks the page and its
// JsSIP extension without any wims role; register.test.mjs checks the same
// against wims.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchChromium } from './lib/browser.mjs';
import { kamailioAvailable, selfSigned, startKamailio } from './lib/kamailio.mjs';
import { startStaticSite } from './lib/static.mjs';
import { openWic, register, screenshot, statusPanel, waitForState } from './lib/wic.mjs';
import { REPO } from './lib/wims.mjs';

const skip = kamailioAvailable() ? false : 'kamailio with tls and websocket modules is not installed';

function freePort() {
	return new Promise((res) => {
		const s = createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

describe('WIC against Kamailio', { skip }, () => {
	let dir, tls, chrome, site, kamPort;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'wims-e2e-kam-'));
		tls = await selfSigned(dir);
		kamPort = await freePort();
		site = await startStaticSite({ port: await freePort(), root: join(REPO, 'web/dist'),
			cert: tls.cert, key: tls.key, pcscfUrl: `wss://127.0.0.1:${kamPort}/` });
		chrome = await launchChromium();
	});
	after(async () => {
		await chrome?.close();
		await site?.close();
		if (dir)
			await rm(dir, { recursive: true, force: true });
	});

	async function withKamailio(opts, fn) {
		const kam = await startKamailio({ port: kamPort, origin: site.origin, ...tls, ...opts });
		try {
			await fn(kam);
		} catch (e) {
			e.message += `\n--- kamailio ---\n${kam.log().slice(-3000)}`;
			throw e;
		} finally {
			await kam.stop();
		}
	}

	async function trySignIn(password = 'alice-secret') {
		const page = await openWic(chrome.context, site.url);
		await register(page, { impu: 'sip:alice@ims.example.org', password });
		await waitForState(page, ['registered', 'failed'], 20000);
		await page.waitForFunction(() => document.getElementById('failure').dataset.kind !== 'connecting');
		return page;
	}

	test('SHA-256 challenge: registers, shows expiry and P-Associated-URI', () =>
		withKamailio({ algorithm: 'SHA-256' }, async () => {
			const page = await trySignIn();
			const s = await statusPanel(page);
			assert.equal(s.state, 'registered', `${s.failureTitle} ${s.failureDetail}`);
			assert.equal(s.algorithm, 'SIP Digest SHA-256');
			assert.deepEqual(s.associated, ['sip:alice@ims.example.org']);
			assert.ok(s.expiresSeconds > 500, s.expires);
			const username = await page.evaluate(() => {
				const m = window.wic.trace.filter((t) => t.dir === 'out' && /\r\nAuthorization:/i.test(t.text));
				return /username="([^"]*)"/.exec(m[0].text)[1];
			});
			assert.equal(username, 'alice@ims.example.org', 'IMPI derived from the IMPU (TS 33.203 Annex N)');
			await screenshot(page, 'kamailio-sha256');
			await page.click('#unregister');
			assert.equal(await waitForState(page, 'unregistered', 10000), 'unregistered');
			await page.close();
		}));

	test('MD5 challenge: registers', () =>
		withKamailio({ algorithm: 'MD5' }, async () => {
			const page = await trySignIn();
			const s = await statusPanel(page);
			assert.equal(s.state, 'registered', `${s.failureTitle} ${s.failureDetail}`);
			assert.equal(s.algorithm, 'SIP Digest MD5');
			await page.close();
		}));

	test('wrong password: Failed, with the reason', () =>
		withKamailio({ algorithm: 'SHA-256' }, async () => {
			const page = await trySignIn('guess');
			const s = await statusPanel(page);
			assert.equal(s.stateText, 'Failed');
			assert.equal(s.failureKind, 'password');
			assert.match(s.failureDetail, /403 Forbidden/);
			await page.close();
		}));

	test('refused Origin: told apart from unreachable', () =>
		withKamailio({ algorithm: 'SHA-256', origin: 'https://wwsf.example.org' }, async () => {
			const page = await trySignIn();
			const s = await statusPanel(page);
			assert.equal(s.failureKind, 'origin');
			assert.equal(s.failureTitle, "The server refused this page's origin.");
			assert.equal(s.sipSent, 0);
			await page.close();
		}));
});
