// phone.mjs - what a person does with the WIC's phone and messages, as
// test steps, and what the page shows, read back as plain objects.
//
// Everything is read from the DOM (what the person sees) except the
// WebRTC statistics and the SIP trace, which the page keeps on
// window.wic for the curious.
import assert from 'node:assert/strict';

import { openWic, register, statusPanel, waitForState } from './wic.mjs';

/** A new browser context (own cookies, storage, fake devices) in chrome. */
export function newContext(chrome) {
	return chrome.browser.newContext({
		ignoreHTTPSErrors: true,
		viewport: { width: 1100, height: 760 },
		deviceScaleFactor: 1,
	});
}

/** Open the WIC in context and register who (demo user); returns the page. */
export async function registeredPage(context, url, who) {
	const page = await openWic(context, url);
	await register(page, { impu: who, password: `${who}-secret` });
	const state = await waitForState(page, ['registered', 'failed']);
	const s = await statusPanel(page);
	assert.equal(state, 'registered', `${who}: ${s.failureTitle} ${s.failureDetail}`);
	page.who = who;
	return page;
}

/** Type target into the dialler and press the call button. */
export async function dial(page, target) {
	await page.fill('#dial', target);
	await page.click('#call');
}

/** The call screen as text: null when the dialler shows. */
export function callPanel(page) {
	return page.evaluate(() => {
		const el = (id) => document.getElementById(id);
		const t = (id) => el(id).textContent.trim();
		if (el('call-screen').hidden)
			return null;
		const shown = (id) => !el(id).hidden;
		return {
			state: el('call-screen').dataset.state,
			direction: el('call-screen').dataset.direction,
			name: t('call-name'),
			uri: t('call-uri'),
			badge: shown('call-badge') ? t('call-badge') : null,
			verified: shown('call-badge') ? el('call-badge').dataset.verified === 'yes' : null,
			claimed: shown('call-claimed') ? t('call-claimed') : null,
			status: t('call-status'),
			endKind: shown('call-end') ? el('call-end').dataset.kind : null,
			endTitle: shown('call-end') ? t('call-end-title') : null,
			endDetail: shown('call-end') ? t('call-end-detail') : null,
			buttons: ['accept', 'reject', 'hangup', 'mute', 'call-done'].filter(shown),
		};
	});
}

/** Wait until the call screen shows one of states; returns the panel. */
export async function waitCall(page, states, timeout = 15000) {
	const want = Array.isArray(states) ? states : [states];
	try {
		await page.waitForFunction((w) => {
			const s = document.getElementById('call-screen');
			return !s.hidden && w.includes(s.dataset.state);
		}, want, { timeout });
	} catch (e) {
		const now = await callPanel(page).catch(() => null);
		throw new Error(`${page.who || 'page'}: no call state ${want.join('|')} within ${timeout} ms: ` +
			`${e.message}\ncall screen: ${JSON.stringify(now)}\n${await sipTrace(page)}`);
	}
	return callPanel(page);
}

/** Total bytes of audio received so far (RTCPeerConnection getStats). */
export function audioBytesReceived(page) {
	return page.evaluate(async () => {
		const pc = window.wic.peerConnection;
		if (!pc)
			return -1;
		let bytes = 0;
		(await pc.getStats()).forEach((s) => {
			if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'audio')
				bytes += s.bytesReceived || 0;
		});
		return bytes;
	});
}

/**
 * Audio flows into page: bytesReceived grows by more than minGrowth over
 * ms.  Returns [before, after].
 */
export async function audioGrows(page, ms = 2000, minGrowth = 1000) {
	const before = await audioBytesReceived(page);
	await new Promise((r) => setTimeout(r, ms));
	const after = await audioBytesReceived(page);
	assert.ok(after - before > minGrowth,
		`${page.who}: inbound audio bytes ${before} -> ${after} in ${ms} ms`);
	return [before, after];
}

/** The first line of every SIP message the page sent and received. */
export async function sipTrace(page) {
	const lines = await page.evaluate(() => window.wic.trace.map((m) =>
		`${m.dir === 'out' ? '->' : '<-'} ${m.text.split('\r\n', 1)[0]}`)).catch(() => []);
	return `--- SIP trace of ${page.who || 'page'} ---\n${lines.join('\n')}`;
}

/** Every SIP message the page saw, whole (to debug a failing exchange). */
export function sipTraceFull(page) {
	return page.evaluate(() => window.wic.trace.map((m) => `${m.dir}:\n${m.text}`).join('\n'));
}

/** Conversations as the messages card lists them, and the open thread. */
export function messagesPanel(page) {
	return page.evaluate(() => {
		const t = (el) => el.textContent.trim();
		return {
			conversations: [...document.querySelectorAll('#conversations .conversation')].map((b) => ({
				key: b.dataset.key,
				name: t(b.querySelector('.conv-name')),
				current: b.getAttribute('aria-current') === 'true',
				unread: b.querySelector('.unread') ? Number(t(b.querySelector('.unread'))) : 0,
			})),
			threadName: t(document.getElementById('thread-name')),
			threadBadge: document.getElementById('thread-badge').hidden ? null :
				t(document.getElementById('thread-badge')),
			bubbles: [...document.querySelectorAll('#thread .bubble')].map((li) => ({
				dir: li.classList.contains('out') ? 'out' : 'in',
				text: t(li.querySelector('.bubble-text')),
				status: li.dataset.status,
				meta: t(li.querySelector('.bubble-meta')),
				error: li.querySelector('.bubble-error') ? t(li.querySelector('.bubble-error')) : null,
			})),
		};
	});
}

/** Write text to `to` in the messages card. */
export async function sendText(page, to, text) {
	await page.fill('#msg-to', to);
	await page.fill('#msg-text', text);
	await page.click('#msg-send');
}

/** Wait until the open thread has a bubble matching pred (in page). */
export async function waitBubble(page, { dir, text, status }, timeout = 10000) {
	try {
		await page.waitForFunction(({ dir, text, status }) =>
			[...document.querySelectorAll('#thread .bubble')].some((li) =>
				li.classList.contains(dir) && li.querySelector('.bubble-text').textContent === text &&
				(!status || li.dataset.status === status)), { dir, text, status }, { timeout });
	} catch (e) {
		throw new Error(`${page.who || 'page'}: no ${dir} bubble "${text}"${status ? ` (${status})` : ''}: ` +
			`${e.message}\n${JSON.stringify(await messagesPanel(page))}\n${await sipTrace(page)}`);
	}
}
