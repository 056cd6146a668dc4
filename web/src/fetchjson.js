/*
 * fetchjson.js - one JSON request with a deadline, as the WIC makes them to
 * its own site (token.js) and to the ISIMs (isim.js).
 *
 * Resolves { status, data } for any HTTP answer (data: the parsed body, or
 * null when there is none or it is not JSON), so that each caller turns
 * statuses into its own errors.  Rejects with an Unreachable when no answer
 * could be read: network, TLS, the deadline, or CORS (a browser hides an
 * answer the server did not allow this origin to read).
 */

export class Unreachable extends Error {}

/* init: further fetch options (credentials, mode, referrerPolicy). */
export async function fetchJson(fetchImpl, url, { method = 'GET', body, timeoutMs, init = {} } = {}) {
	const ctl = typeof AbortController === 'function' ? new AbortController() : null;
	const timer = ctl ? setTimeout(() => ctl.abort(), timeoutMs) : null;
	let res;
	try {
		res = await fetchImpl(url, {
			...init,
			method,
			cache: 'no-store',
			headers: body !== undefined ? { 'content-type': 'application/json' } : {},
			body: body !== undefined ? JSON.stringify(body) : undefined,
			signal: ctl ? ctl.signal : undefined,
		});
	} catch (e) {
		throw new Unreachable(e && e.message ? e.message : String(e));
	} finally {
		clearTimeout(timer);
	}
	let data = null;
	try {
		const text = await res.text();
		data = text ? JSON.parse(text) : null;
	} catch {
		data = null;
	}
	return { status: res.status, data };
}
