/*
 * token.js - registering with a token instead of an IMS password
 * (TR 33.871 6.1.2 and 6.1.3, Trusted Node Authentication).
 *
 * The page never sees an IMS credential in these modes.  The WWSF that
 * served it holds an OAuth access token the operator's WAF issued for the
 * person, and hands it to the page over same-origin requests (the session
 * cookie is HttpOnly, the browser's business):
 *
 *   GET  /oauth/token     the token of this session: after the operator
 *                         sign-in (/oauth/start -> WAF -> /oauth/callback),
 *                         or the pool guest's; 401 without one
 *   POST /oauth/token     for a person signed in to the WWSF itself: the
 *                         WWSF asks the WAF for a token of the IMS identity
 *                         linked to that web account (client credentials)
 *   POST /pool/session    a temporary identity from the WWSF's pool
 *                         (scenario 3); 503 when the pool is exhausted
 *   POST /link {impu}     for a person signed in to the WWSF whose account
 *                         has no linked IMS identity yet: the WAF sends a
 *                         one-time code to that IMPU by SIP MESSAGE (TR
 *                         33.871 Annex C, M2); 202 {status, confirm_url}
 *
 * each answering {access_token, impu, impi, expires_in, wwsf, via} with
 * via "operator" | "wwsf-login" | "pool".  The WIC sends the token in
 * REGISTER as `Authorization: Bearer <token>` (RFC 6750 2.1); the P-CSCF
 * checks it and vouches for the registration to the IMS core.  A refusal
 * comes back as a 401 with `WWW-Authenticate: Bearer error=...,
 * error_description=...` (RFC 6750 3) or as a 403 with a reason phrase and
 * Warning; explainTokenFailure() says it in words.
 *
 * fetchImpl is injectable for the unit tests.
 */

import { fetchJson } from './fetchjson.js';

export class TokenError extends Error {
	/**
	 * kind: 'no-session' (401: nothing to hand out) | 'refused' (403) |
	 * 'exhausted' (503: the pool is empty) | 'unreachable' | 'bad-token'
	 * (an answer the WIC cannot use) | 'server'
	 */
	constructor(kind, message, { status = 0 } = {}) {
		super(message);
		this.name = 'TokenError';
		this.kind = kind;
		this.status = status;
	}
}

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * Anything else (a CR or LF above all) must never reach a SIP header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/* Bound: a JWT of ours is well under 2 KB; a P-CSCF refuses far less than this. */
const TOKEN_MAX = 8192;

export const TOKEN_VIAS = ['operator', 'wwsf-login', 'pool'];

/** Is text a token the WIC may put in a header (RFC 6750 b64token)? */
export function isBearerToken(text) {
	return typeof text === 'string' && text.length > 0 && text.length <= TOKEN_MAX && B64TOKEN.test(text);
}

/**
 * The one header REGISTER carries in token mode.  Throws TypeError for
 * anything that is not a b64token (a header injection stops here).
 */
export function bearerHeader(token) {
	if (!isBearerToken(token))
		throw new TypeError('the token is not an RFC 6750 b64token');
	return `Authorization: Bearer ${token}`;
}

const SIP_IMPU = /^sips?:[^@\s;?<>"]+@[^\s;?<>"@]+$/i;
const TEL_IMPU = /^tel:\+?[0-9\-.()]+$/i;

/*
 * A token answer of the WWSF, checked: exactly what the WIC uses.  via is
 * the answer's when it names one of TOKEN_VIAS, else the given default.
 * Throws TokenError('bad-token') when something needed is missing.
 */
export function tokenFromAnswer(data, { now = Date.now(), via = 'operator' } = {}) {
	if (!data || typeof data !== 'object')
		throw new TokenError('bad-token', 'the site answered no token');
	if (!isBearerToken(data.access_token))
		throw new TokenError('bad-token', 'the site\'s token is not a usable Bearer token');
	const impu = typeof data.impu === 'string' ? data.impu.trim() : '';
	if (!SIP_IMPU.test(impu) && !TEL_IMPU.test(impu))
		throw new TokenError('bad-token', 'the token names no public identity (impu) to register');
	const impi = typeof data.impi === 'string' && /^[^\s@]+@[^\s@]+$/.test(data.impi) ? data.impi : '';
	const expiresIn = Number.isFinite(data.expires_in) && data.expires_in > 0 ? data.expires_in : null;
	return {
		accessToken: data.access_token,
		impu,
		impi,
		impus: Array.isArray(data.impus) ? data.impus.filter((u) => typeof u === 'string') : [impu],
		expiresAt: expiresIn ? now + expiresIn * 1000 : null,
		wwsf: typeof data.wwsf === 'string' ? data.wwsf : '',
		via: TOKEN_VIAS.includes(data.via) ? data.via : via,
	};
}

const KIND_BY_STATUS = { 401: 'no-session', 403: 'refused', 409: 'not-registered', 429: 'rate-limit',
	503: 'exhausted' };

/* Bound every request: the WWSF may wait for the WAF, which is not for ever. */
const REQUEST_TIMEOUT_MS = 15000;

/* One same-origin JSON request: the parsed body of a 2xx, else a TokenError. */
async function siteRequest(fetchImpl, url, method, body = {}) {
	let res;
	try {
		res = await fetchJson(fetchImpl, url, { method, body: method === 'POST' ? body : undefined,
			timeoutMs: REQUEST_TIMEOUT_MS, init: { credentials: 'same-origin' } });
	} catch (e) {
		throw new TokenError('unreachable', `could not reach this site (${e.message})`);
	}
	const data = res.data;
	if (res.status >= 200 && res.status < 300)
		return data;
	/* RFC 6749 5.2 errors carry error_description; the WWSF's own, error */
	const said = data && typeof data.error_description === 'string' && data.error_description ?
		data.error_description :
		data && typeof data.error === 'string' && data.error ? data.error : `HTTP ${res.status}`;
	throw new TokenError(KIND_BY_STATUS[res.status] || 'server', said, { status: res.status });
}

/* A request answering a token. */
async function tokenRequest(fetchImpl, url, method, via) {
	return tokenFromAnswer(await siteRequest(fetchImpl, url, method), { via });
}

/**
 * The token endpoints of the site that served the page (base '' = same
 * origin).
 */
export function tokenSource({ base = '', fetchImpl = globalThis.fetch?.bind(globalThis) } = {}) {
	const root = String(base).replace(/\/+$/, '');
	return {
		/** Where the operator sign-in starts (a navigation, not a fetch). */
		startUrl: `${root}/oauth/start`,
		/** The token this session holds (operator sign-in or pool). */
		session: () => tokenRequest(fetchImpl, `${root}/oauth/token`, 'GET', null),
		/** A token for the IMS identity linked to the signed-in web account. */
		forWebAccount: () => tokenRequest(fetchImpl, `${root}/oauth/token`, 'POST', 'wwsf-login'),
		/** A guest identity from the site's pool. */
		guest: () => tokenRequest(fetchImpl, `${root}/pool/session`, 'POST', 'pool'),
		/**
		 * Ask to link impu to the signed-in web account: { confirmUrl }
		 * (an https:// URL or null) once the code is on its way.
		 */
		async link(impu) {
			const data = await siteRequest(fetchImpl, `${root}/link`, 'POST', { impu });
			const url = data && typeof data.confirm_url === 'string' && /^https:\/\/[^\s"<>]+$/.test(data.confirm_url) ?
				data.confirm_url : null;
			return { confirmUrl: url };
		},
	};
}

/**
 * The params of a `Bearer ...` challenge (RFC 6750 3), lower case names,
 * quoted values unquoted; null for another scheme.
 */
export function bearerChallenge(value) {
	const m = /^\s*bearer(?:\s+|$)/i.exec(value || '');
	if (!m)
		return null;
	const out = {};
	const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
	re.lastIndex = m[0].length;
	let p;
	while (re.lastIndex < value.length && (p = re.exec(value)))
		out[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
	return out;
}

/** The first Bearer challenge among WWW-Authenticate values, or null. */
export function findBearerChallenge(values) {
	for (const v of values || []) {
		const c = bearerChallenge(v);
		if (c)
			return c;
	}
	return null;
}

/** Who vouched for the person, for the failure texts. */
function vouchedBy(via) {
	return via === 'pool' ? 'the guest sign-in' : via === 'wwsf-login' ? 'your web account\'s token' :
		'the operator sign-in';
}

/**
 * Why a REGISTER with a Bearer token was refused, in words a person can
 * act on: { kind, title, detail }.
 *   status, reason: the final response; warnings: [{code, agent, text}]
 *   challenge: the Bearer challenge params of a 401/403, or null
 *   digestOffered: the network asked for Digest/AKA instead (a P-CSCF
 *     that does not take tokens)
 *   via: how the token was got
 */
export function explainTokenFailure({ status, reason = '', warnings = [], challenge = null,
	digestOffered = false, via = 'operator' }) {
	const warned = warnings.map((w) => w.text).filter(Boolean).join('; ');
	const why = (challenge && challenge.error_description) || warned || reason;
	/* the Warning only when it says more than the reason phrase */
	const detail = `The server answered ${status}${reason ? ` ${reason}` : ''}` +
		(challenge && challenge.error ? ` (${challenge.error}${challenge.error_description ?
			`: ${challenge.error_description}` : ''})` :
			warned && warned !== reason ? ` (${warned})` : '') + '.';
	if ((status === 401 || status === 407) && !challenge && digestOffered)
		return { kind: 'token-unsupported', title: 'This network does not take a token here: it asked for an IMS password.',
			detail: `${detail} Sign in with your IMS credentials instead.` };
	if (status === 401)
		return { kind: 'token-invalid', title: `The network refused the token: ${why || 'invalid token'}.`,
			detail: `${detail} Sign in again (${vouchedBy(via)}) for a fresh token.` };
	if (status === 403)
		return { kind: 'token-refused', title: `Registration refused: ${why || 'forbidden'}.`, detail };
	if (status === 408)
		return { kind: 'timeout', title: 'The IMS core did not answer in time.', detail };
	if (status >= 500)
		return { kind: 'server', title: 'The IMS core could not handle the registration.', detail };
	return { kind: 'token-refused', title: `Registration refused${why ? `: ${why}` : ''}.`, detail };
}

/**
 * Why no token came from the site: { kind, title, detail }.
 * via: the way asked ('operator', 'wwsf-login', 'pool').
 */
export function explainTokenFetchFailure(e, via = 'operator') {
	const said = e && e.message ? e.message : String(e);
	const kind = e && e.kind;
	if (via === 'pool') {
		if (kind === 'exhausted')
			return { kind: 'pool-exhausted', title: 'No guest identity is free right now.',
				detail: `${said}. Try again in a few minutes.` };
		return { kind: 'pool-refused', title: `No guest identity: ${said}.`,
			detail: `This site could not get a token for a guest identity${e && e.status ? ` (HTTP ${e.status})` : ''}.` };
	}
	if (via === 'wwsf-login' && kind === 'no-session')
		return { kind: 'token-signin', title: 'Sign in to this site first.',
			detail: `Your web account's linked IMS identity is used only once you are signed in (${said}).` };
	if (via === 'operator' && kind === 'no-session')
		return { kind: 'token-none', title: 'The operator sign-in did not complete.',
			detail: `This site holds no token for you (${said}). Sign in with your operator account again.` };
	if (kind === 'unreachable')
		return { kind: 'token-unreachable', title: 'Could not reach this site for a token.', detail: `${said}.` };
	if (kind === 'bad-token')
		return { kind: 'token-bad', title: 'The site answered a token this client cannot use.', detail: `${said}.` };
	return { kind: 'token-refused', title: `No token: ${said}.`,
		detail: `The site could not get a token from the operator${e && e.status ? ` (HTTP ${e.status})` : ''}.` };
}

/** The status line of a registration made with a token. */
export function tokenViaText({ via, impu, wwsf = '', account = '' }) {
	if (via === 'pool')
		return `Registered as guest ${impu} from the pool of ${wwsf || 'this site'}`;
	if (via === 'wwsf-login')
		return `Registered with a token for your web account${account ? ` ${account}` : ''} on ` +
			`${wwsf || 'this site'}, as ${impu}`;
	return `Registered with a token from the operator (WAF), as ${impu}`;
}
