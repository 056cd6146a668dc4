// The wwsf role alone: HTTPS, static files, /config.json, refusals, and the
// page as a browser loads it.  Runs `wims wwsf` on its own ports, so it
// does not need the other roles and does not collide with a running demo.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import { launchChromium } from './lib/browser.mjs';
import { httpsRequest } from './lib/http.mjs';
import { openWic, register, screenshot, statusPanel, waitForState } from './lib/wic.mjs';
import { startWims } from './lib/wims.mjs';

async function freePort() {
	return new Promise((res) => {
		const s = createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

let wims, chrome, base, deadPort;

before(async () => {
	const port = await freePort();
	deadPort = await freePort(); /* nothing listens there: an unreachable P-CSCF */
	base = `https://127.0.0.1:${port}`;
	wims = await startWims({
		role: 'wwsf',
		sets: [`wwsf.listen=127.0.0.1:${port}`, `wwsf.pcscf_url=wss://127.0.0.1:${deadPort}/`],
		waitPorts: [port],
	});
	chrome = await launchChromium();
});

after(async () => {
	await chrome?.close();
	const exit = await wims?.stop();
	if (exit && exit.code !== 0 && exit.sig !== 'SIGTERM')
		console.log(wims.log());
});

test('index page over HTTPS with the security headers', async () => {
	const r = await httpsRequest(`${base}/`);
	assert.equal(r.status, 200);
	assert.match(r.headers['content-type'], /^text\/html/);
	assert.match(r.body, /<title>wims · WebRTC IMS Client<\/title>/);
	assert.match(r.headers['strict-transport-security'] || '', /max-age=\d+/);
	assert.equal(r.headers['x-content-type-options'], 'nosniff');
	assert.ok(r.headers['referrer-policy'], 'Referrer-Policy');
	const csp = r.headers['content-security-policy'] || '';
	assert.match(csp, /default-src 'self'/);
	assert.match(csp, /script-src 'self'(;|$)/, 'no inline script');
	assert.match(csp, /connect-src [^;]*wss:/);
	assert.match(csp, /frame-ancestors 'none'/);
});

test('bundle and stylesheet with their content types', async () => {
	const js = await httpsRequest(`${base}/app.js`);
	assert.equal(js.status, 200);
	assert.match(js.headers['content-type'], /javascript/);
	const css = await httpsRequest(`${base}/app.css`);
	assert.equal(css.status, 200);
	assert.match(css.headers['content-type'], /^text\/css/);
	const svg = await httpsRequest(`${base}/favicon.svg`);
	assert.match(svg.headers['content-type'], /^image\/svg\+xml/);
});

test('/config.json gives the P-CSCF URL, the ME agent URL, the domain, the WAF and the site identity', async () => {
	const r = await httpsRequest(`${base}/config.json`);
	assert.equal(r.status, 200);
	assert.match(r.headers['content-type'], /^application\/json/);
	assert.deepEqual(JSON.parse(r.body), { pcscf_url: `wss://127.0.0.1:${deadPort}/`,
		me_url: 'https://127.0.0.1:8445', domain: 'ims.example.org',
		waf: 'https://127.0.0.1:9443', identity: 'wwsf.ims.example.org', pool: false });
	/* the page may reach the ME agent it names, and nothing else new */
	const csp = (await httpsRequest(`${base}/`)).headers['content-security-policy'] || '';
	assert.match(csp, /connect-src [^;]*https:\/\/127\.0\.0\.1:8445/);
});

test('path traversal in every spelling is refused', async () => {
	for (const path of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd',
		'/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '/..%5c..%5cetc%5cpasswd', '//etc/passwd', '/.%2e/etc/passwd',
		'/index.html%00.png', '/.gitkeep']) {
		const r = await httpsRequest(`${base}/`, { path });
		assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
		assert.doesNotMatch(r.body, /root:/, path);
	}
});

test('unknown files are 404, directories without index are 404', async () => {
	assert.equal((await httpsRequest(`${base}/nope.js`)).status, 404);
	assert.equal((await httpsRequest(`${base}/nope/`)).status, 404);
});

test('only GET and HEAD: other methods get 405 with Allow', async () => {
	for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
		const r = await httpsRequest(`${base}/`, { method });
		assert.equal(r.status, 405, method);
		assert.match(r.headers.allow || '', /GET, HEAD/, method);
	}
	const head = await httpsRequest(`${base}/`, { method: 'HEAD' });
	assert.equal(head.status, 200);
	assert.equal(head.body, '');
});

test('the page loads clean and fills the server from /config.json', async () => {
	const page = await openWic(chrome.context, `${base}/`);
	assert.equal(await page.inputValue('#server'), `wss://127.0.0.1:${deadPort}/`);
	assert.equal((await statusPanel(page)).stateText, 'Unregistered');
	assert.equal(await page.textContent('#domain-label'), 'ims.example.org');
	await page.fill('#impu', 'sip:alice@ims.example.org');
	assert.match(await page.textContent('#impi-hint'), /alice@ims\.example\.org/);
	await screenshot(page, 'page-loaded');
	assert.deepEqual(page.problems, []);
	await page.close();
});

test('the form refuses an empty identity and password before connecting', async () => {
	const page = await openWic(chrome.context, `${base}/`);
	await page.click('#register');
	assert.match(await page.textContent('#form-error'), /public identity/);
	await page.fill('#impu', 'alice');
	await page.click('#register');
	assert.match(await page.textContent('#form-error'), /password/);
	assert.equal((await statusPanel(page)).state, 'unregistered');
	await page.close();
});

test('an unreachable P-CSCF fails with a clear reason', async () => {
	const page = await openWic(chrome.context, `${base}/`);
	await register(page, { impu: 'alice', password: 'alice-secret' });
	await waitForState(page, 'failed');
	await page.waitForFunction(() => document.getElementById('failure').dataset.kind !== 'connecting');
	const s = await statusPanel(page);
	assert.equal(s.stateText, 'Failed');
	assert.equal(s.failureKind, 'unreachable');
	assert.match(s.failureTitle, /refused this page's origin or is unreachable/);
	assert.equal(s.sipSent, 0);
	await screenshot(page, 'unreachable');
	await page.close();
});
