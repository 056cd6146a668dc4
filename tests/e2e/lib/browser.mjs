// browser.mjs - headless Chromium (the system's /usr/bin/chromium, never a
// downloaded build) driven by playwright-core.
//
// The command line is ours alone (ignoreDefaultArgs: true): the flags below,
// a fresh profile per launch, fake camera/microphone for later call tests,
// and certificate errors ignored so that the demo's self-signed certificate
// works for the page (HTTPS) and for the WebSocket (WSS) alike.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--use-fake-device-for-media-stream',
	'--use-fake-ui-for-media-stream',
	'--ignore-certificate-errors',
];

/**
 * Launch Chromium with a new profile directory.  Returns { browser,
 * context, close() }; close() also removes the profile.  The context
 * ignores HTTPS errors too (Playwright's own switch, for fetches it makes).
 */
export async function launchChromium() {
	const profile = await mkdtemp(join(tmpdir(), 'wims-e2e-chromium-'));
	let browser;
	try {
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			ignoreDefaultArgs: true,
			args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe',
				'--no-startup-window'],
			timeout: 60000,
		});
	} catch (e) {
		await rm(profile, { recursive: true, force: true });
		throw e;
	}
	const context = await browser.newContext({
		ignoreHTTPSErrors: true,
		viewport: { width: 1100, height: 760 },
		deviceScaleFactor: 1,
	});
	return {
		browser,
		context,
		async close() {
			await browser.close().catch(() => {});
			await rm(profile, { recursive: true, force: true });
		},
	};
}
