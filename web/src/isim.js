/*
 * isim.js - the two places an IMS AKA password can come from, as HTTPS
 * clients: this device's ISIM behind the ME agent (TR 33.871 6.1.1.3,
 * `wims me` on loopback) and the network ISIM beside the WWSF (seed CR 001,
 * the page's own site).  Both answer a challenge's nonce with the AKAv2
 * password or an auts, never with RES, CK or IK.
 *
 *   ME agent (cross-origin, CORS; the agent checks our Origin)
 *     GET  <me_url>/identity          {identities:[{impi,impu,realm}]}
 *     POST <me_url>/aka {impi,nonce,algorithm}
 *   network ISIM (same origin, session cookie set by /login)
 *     POST /login {user,password}      {user,subscriptions:[{impi,impu,realm}]}
 *     GET  /session                    same, or 401
 *     POST /logout
 *     POST /isim/aka {impi,nonce,algorithm}
 *   /aka answers 200 {password} | 200 {auts} | 409 (AUTN MAC wrong) |
 *   400 | 401 | 403 {error[,confirm_url]} | 404 | 429
 *
 * Failures are IsimErrors with a kind the page explains
 * (explainIsimFailure); fetchImpl is injectable for the unit tests.
 */

import { fetchJson } from './fetchjson.js';

export class IsimError extends Error {
	/**
	 * kind: 'mac-failure' | 'refused' | 'confirm' | 'not-signed-in' |
	 * 'unknown' | 'bad-request' | 'rate-limit' | 'unreachable' | 'server'
	 */
	constructor(kind, message, { status = 0, confirmUrl = null } = {}) {
		super(message);
		this.name = 'IsimError';
		this.kind = kind;
		this.status = status;
		this.confirmUrl = confirmUrl;
	}
}

const KIND_BY_STATUS = { 400: 'bad-request', 401: 'not-signed-in', 403: 'refused', 404: 'unknown',
	409: 'mac-failure', 429: 'rate-limit' };

/* Bound every request: a silent agent must not leave the 401 held for
 * ever (the REGISTER transaction times out at 32 s anyway). */
const REQUEST_TIMEOUT_MS = 10000;

/*
 * One JSON request.  Resolves the parsed body of a 2xx (null for none),
 * rejects with an IsimError: 'unreachable' when no HTTP answer could be
 * read (network, TLS, or CORS: a browser hides an answer the server did
 * not allow this origin to read), else by status.
 */
async function jsonRequest(fetchImpl, url, { method = 'GET', body, credentials }, who) {
	let res;
	try {
		res = await fetchJson(fetchImpl, url, { method, body, timeoutMs: REQUEST_TIMEOUT_MS,
			init: { mode: 'cors', credentials, referrerPolicy: 'no-referrer' } });
	} catch (e) {
		throw new IsimError('unreachable', `could not reach ${who} (${e.message})`);
	}
	const data = res.data;
	if (res.status >= 200 && res.status < 300)
		return data;
	const said = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
	const confirmUrl = data && typeof data.confirm_url === 'string' ? data.confirm_url : null;
	const kind = confirmUrl ? 'confirm' : KIND_BY_STATUS[res.status] || 'server';
	throw new IsimError(kind, said, { status: res.status, confirmUrl });
}

/* A subscription list as the servers send it, checked. */
function subscriptions(list) {
	return (Array.isArray(list) ? list : [])
		.filter((s) => s && typeof s.impi === 'string' && typeof s.impu === 'string')
		.map((s) => ({ impi: s.impi, impu: s.impu, realm: typeof s.realm === 'string' ? s.realm : '' }));
}

/* An /aka answer, checked: exactly what the WIC may use. */
function akaAnswer(data) {
	if (data && typeof data.password === 'string' && data.password)
		return { password: data.password };
	if (data && typeof data.auts === 'string' && data.auts)
		return { auts: data.auts };
	throw new IsimError('server', 'the ISIM answered neither a password nor auts');
}

/**
 * This device's ISIM through the ME agent at url (https://127.0.0.1:8445).
 * No cookies go to it (credentials 'omit'): the agent decides by Origin.
 */
export function meAgent({ url, fetchImpl = globalThis.fetch?.bind(globalThis) }) {
	const base = String(url || '').replace(/\/+$/, '');
	const who = `the ME agent at ${base}`;
	return {
		kind: 'me',
		url: base,
		async identities() {
			const data = await jsonRequest(fetchImpl, `${base}/identity`, { credentials: 'omit' }, who);
			return subscriptions(data && data.identities);
		},
		async aka({ impi, nonce, algorithm }) {
			return akaAnswer(await jsonRequest(fetchImpl, `${base}/aka`,
				{ method: 'POST', body: { impi, nonce, algorithm }, credentials: 'omit' }, who));
		},
	};
}

/**
 * The network ISIM of the site that served the page (base '' = same
 * origin).  The session cookie (HttpOnly) is the browser's business.
 */
export function networkIsim({ base = '', fetchImpl = globalThis.fetch?.bind(globalThis) } = {}) {
	const root = String(base).replace(/\/+$/, '');
	const who = 'this site\'s network ISIM';
	const account = (data) => ({ user: data && typeof data.user === 'string' ? data.user : '',
		subscriptions: subscriptions(data && data.subscriptions) });
	return {
		kind: 'network-isim',
		async login(user, password) {
			return account(await jsonRequest(fetchImpl, `${root}/login`,
				{ method: 'POST', body: { user, password }, credentials: 'same-origin' }, who));
		},
		/* The signed-in account, or null when not signed in. */
		async session() {
			try {
				return account(await jsonRequest(fetchImpl, `${root}/session`, { credentials: 'same-origin' }, who));
			} catch (e) {
				if (e.kind === 'not-signed-in')
					return null;
				throw e;
			}
		},
		async logout() {
			await jsonRequest(fetchImpl, `${root}/logout`, { method: 'POST', credentials: 'same-origin' }, who);
		},
		async aka({ impi, nonce, algorithm }) {
			return akaAnswer(await jsonRequest(fetchImpl, `${root}/isim/aka`,
				{ method: 'POST', body: { impi, nonce, algorithm }, credentials: 'same-origin' }, who));
		},
	};
}

/** Words for the failure title when the network's AUTN did not verify. */
export const MAC_FAILURE_TITLE = 'The network could not prove itself to your ISIM';

/**
 * Why registering with AKA failed because of the ISIM, in words a person
 * can act on: { kind, title, detail }.  source is 'me' or 'network-isim';
 * meUrl names the agent.
 */
export function explainIsimFailure(e, { source, meUrl = '' } = {}) {
	const isim = source === 'me' ? 'this device\'s ISIM (ME agent)' : 'the network ISIM';
	const said = e && e.message ? e.message : String(e);
	switch (e && e.kind) {
	case 'mac-failure':
		return { kind: 'isim-network', title: `${MAC_FAILURE_TITLE}.`,
			detail: `The challenge did not carry a valid network authentication token (AUTN), so ${isim} ` +
				`refused to answer it: ${said}. Do not trust this network.` };
	case 'confirm':
		return { kind: 'isim-confirm', title: 'This device\'s ISIM asks you to allow this site first.',
			detail: `Open ${e.confirmUrl} and allow this page's origin, then register again.` };
	case 'refused':
		return { kind: 'isim-refused', title: `${source === 'me' ? 'This device\'s ISIM' : 'The network ISIM'} refused to answer.`,
			detail: `${said}.` };
	case 'not-signed-in':
		return { kind: 'isim-signin', title: 'Sign in to this site first.',
			detail: `The network ISIM answers only for a signed-in user (${said}).` };
	case 'unknown':
		return { kind: 'isim-unknown', title: `${isim[0].toUpperCase()}${isim.slice(1)} has no such subscription.`,
			detail: `${said}.` };
	case 'rate-limit':
		return { kind: 'isim-busy', title: 'Too many authentication requests.', detail: `${said}. Wait a minute and try again.` };
	case 'unreachable':
		return source === 'me' ?
			{ kind: 'isim-unreachable', title: 'Could not reach this device\'s ISIM (ME agent).',
				detail: `Is the ME agent running at ${meUrl}? If it uses a self-signed certificate, open ` +
					`${meUrl}/identity once in this browser and accept it. (${said})` } :
			{ kind: 'isim-unreachable', title: 'Could not reach the network ISIM.', detail: `${said}.` };
	default:
		return { kind: 'isim-error', title: `${isim[0].toUpperCase()}${isim.slice(1)} could not answer the challenge.`,
			detail: `${said}.` };
	}
}
