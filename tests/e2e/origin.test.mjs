// Origin on W2 (DESIGN 5, TR 33.871 NOTE in every scenario): the pcscf lets
// the WebSocket open only for pages from its allowed Origins.  Runs `wims
// wwsf` and `wims pcscf` as two processes on their own ports (no IMS core
// behind the pcscf), so it needs neither the cscf nor the demo's ports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { launchChromium } from './lib/browser.mjs';
import { wsUpgradeStatus } from './lib/http.mjs';
import { startStaticSite } from './lib/static.mjs';
import { openWic, register, screenshot, statusPanel, waitForState } from './lib/wic.mjs';
import { REPO, startWims } from './lib/wims.mjs';

function freePort() {
	return new Promise((res) => {
		const s = createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

let pcscf, wwsf, foreign, chrome, pcscfUrl, wwsfOrigin;

before(async () => {
	const [wPort, pPort, mwPort, corePort, fPort] =
		await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
	wwsfOrigin = `https://127.0.0.1:${wPort}`;
	pcscfUrl = `wss://127.0.0.1:${pPort}/`;
	pcscf = await startWims({
		role: 'pcscf',
		sets: [`pcscf.listen=127.0.0.1:${pPort}`, `pcscf.mw_listen=127.0.0.1:${mwPort}`,
			`pcscf.cscf_addr=127.0.0.1:${corePort}`, `pcscf.allowed_origins=${wwsfOrigin}`],
		waitPorts: [pPort],
	});
	wwsf = await startWims({
		role: 'wwsf',
		sets: [`wwsf.listen=127.0.0.1:${wPort}`, `wwsf.pcscf_url=${pcscfUrl}`],
		waitPorts: [wPort],
	});
	foreign = await startStaticSite({ port: fPort, root: join(REPO, 'web/dist'), cert: wwsf.cert,
		key: wwsf.key, pcscfUrl });
	chrome = await launchChromium();
});

after(async () => {
	await chrome?.close();
	await foreign?.close();
	await wwsf?.stop();
	await pcscf?.stop();
});

test('pcscf: 403 to foreign Origins, 101 to the allowed one', async () => {
	assert.equal(await wsUpgradeStatus(pcscfUrl, foreign.origin), 403);
	assert.equal(await wsUpgradeStatus(pcscfUrl, 'https://127.0.0.1:8443.evil.example'), 403);
	assert.equal(await wsUpgradeStatus(pcscfUrl, wwsfOrigin), 101);
});

test('the page from the wwsf opens the WebSocket and sends REGISTER', async () => {
	const page = await openWic(chrome.context, `${wwsfOrigin}/`);
	await register(page, { impu: 'sip:alice@ims.example.org', password: 'alice-secret' });
	await page.waitForFunction(() => window.wic.trace.some((m) => m.dir === 'out'), null, { timeout: 15000 });
	const s = await statusPanel(page);
	assert.ok(s.sipSent >= 1);
	assert.notEqual(s.failureKind, 'origin');
	await page.close();
});

test('the same page from a foreign Origin cannot register and says why', async () => {
	const page = await openWic(chrome.context, foreign.url);
	await register(page, { impu: 'sip:alice@ims.example.org', password: 'alice-secret' });
	assert.equal(await waitForState(page, ['registered', 'failed']), 'failed');
	const s = await statusPanel(page);
	assert.match(s.failureTitle, /refused this page's origin/);
	assert.match(s.failureDetail, new RegExp(foreign.origin.replace(/[.:/]/g, '\\$&')));
	assert.equal(s.sipSent, 0, 'no SIP left the page');
	await screenshot(page, 'foreign-origin-pcscf');
	await page.close();
});
