// wic.mjs - what a person does on the WIC page, as test steps.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '../screenshots');

/** Open the page and wait until /config.json has filled the server field. */
export async function openWic(context, url) {
	const page = await context.newPage();
	const problems = [];
	page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error')
			problems.push(`console: ${m.text()}`);
	});
	page.problems = problems;
	await page.goto(url, { waitUntil: 'load' });
	await page.waitForFunction(() => document.getElementById('server').value !== '');
	return page;
}

/** Fill the form and press Register (with a password: SIP Digest). */
export async function register(page, { impu, password, impi = '', server } = {}) {
	if (await page.$('#auth-password'))
		await page.check('#auth-password');
	await page.fill('#impu', impu);
	await page.fill('#impi', impi);
	await page.fill('#password', password);
	if (server) {
		await page.click('#advanced summary');
		await page.fill('#server', server);
	}
	await page.click('#register');
}

/**
 * Choose "IMS AKA — this device's ISIM (ME agent)", wait until the page
 * has asked the agent which subscriptions it holds, and press Register.
 * Returns the agent's status line.
 */
export async function registerWithMe(page, { server } = {}) {
	const asked = () => page.waitForFunction(() =>
		['ok', 'error'].includes(document.getElementById('me-status').dataset.state), null, { timeout: 15000 });
	await page.check('#auth-me');
	await asked();
	/* an earlier answer was a refusal: ask again, as the person would */
	if (await page.getAttribute('#me-status', 'data-state') === 'error' && await page.isVisible('#me-retry')) {
		await page.click('#me-retry');
		await asked();
	}
	const status = await page.textContent('#me-status');
	if (server) {
		await page.click('#advanced summary');
		await page.fill('#server', server);
	}
	await page.click('#register');
	return status;
}

/**
 * Choose "IMS AKA — network ISIM (sign in to this site)", sign in to the
 * site as user and wait for the subscriptions (or the sign-in error).
 * Returns { account, error } as the page shows them.
 */
export async function signInToSite(page, { user, password }) {
	await page.check('#auth-network');
	await page.waitForSelector('#web-user:visible, #web-account:visible');
	if (await page.isVisible('#web-signout'))
		await page.click('#web-signout');
	await page.fill('#web-user', user);
	await page.fill('#web-password', password);
	await page.click('#web-signin');
	await page.waitForFunction(() => !document.getElementById('web-account-box').hidden ||
		!document.getElementById('web-error').hidden, null, { timeout: 15000 });
	return page.evaluate(() => ({
		account: document.getElementById('web-account-box').hidden ? null :
			document.getElementById('web-account').textContent.trim(),
		error: document.getElementById('web-error').hidden ? null :
			document.getElementById('web-error').textContent.trim(),
		impu: document.getElementById('impu').value,
		impi: document.getElementById('impi').value,
	}));
}

/** How the status card says the registration was authenticated. */
export function authVia(page) {
	return page.evaluate(() => {
		const el = document.getElementById('auth-via');
		return { source: el.dataset.authSource, text: el.hidden ? null : el.textContent.trim() };
	});
}

/** Wait until the state shown is one of states; returns it. */
export async function waitForState(page, states, timeout = 20000) {
	const want = Array.isArray(states) ? states : [states];
	const handle = await page.waitForFunction(
		(w) => {
			const s = document.getElementById('state').dataset.state;
			return w.includes(s) ? s : null;
		}, want, { timeout });
	return handle.jsonValue();
}

/** What the status panel shows, as text. */
export function statusPanel(page) {
	return page.evaluate(() => {
		const t = (id) => document.getElementById(id).textContent.trim();
		const shown = (id) => !document.getElementById(id).hidden;
		return {
			state: document.getElementById('state').dataset.state,
			stateText: t('state'),
			expires: shown('expires-row') ? t('expires') : null,
			expiresSeconds: Number(document.getElementById('expires').dataset.seconds || 0),
			algorithm: shown('algorithm-row') ? t('algorithm') : null,
			associated: [...document.querySelectorAll('#associated li')].map((li) => li.textContent),
			failureKind: shown('failure') ? document.getElementById('failure').dataset.kind : null,
			failureTitle: shown('failure') ? t('failure-title') : null,
			failureDetail: shown('failure') ? t('failure-detail') : null,
			sipSent: window.wic ? window.wic.trace.filter((m) => m.dir === 'out').length : 0,
		};
	});
}

export async function screenshot(page, name) {
	await mkdir(SCREENSHOTS, { recursive: true });
	const path = join(SCREENSHOTS, `${name}.png`);
	await page.screenshot({ path, fullPage: true });
	return path;
}
