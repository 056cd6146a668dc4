/*
 * failure.js - why a registration failed, in words a person can act on.
 *
 * The facts come from three places: the SIP response (status, reason
 * phrase, Warning), whether the REGISTER that got it carried credentials
 * (a second 401 means the password was wrong), and, when the WebSocket
 * never opened, whether the server's HTTPS port answered a plain request.
 * A browser hides why a WebSocket handshake failed (a 403 for a refused
 * Origin looks like any other failure, RFC 6455 4.1), so that probe is the
 * only way to tell "refused this page" from "unreachable".
 */

/* Words in a reason phrase or Warning that name the cause. */
const UNKNOWN_USER = /unknown|not found|no such|not registered|does not exist|not provisioned/i;
const BAD_PASSWORD = /password|credential|authenticat|response|digest/i;

/**
 * Explain a SIP failure response to REGISTER.
 *   status, reason: the final response
 *   warnings: [{code, agent, text}]
 *   withCredentials: the rejected REGISTER carried our Authorization
 * Returns { kind, title, detail } where kind is one of 'password',
 * 'unknown-user', 'forbidden', 'timeout', 'server', 'rejected'.
 */
export function explainSipFailure({ status, reason = '', warnings = [], withCredentials = false }) {
	const said = [reason, ...warnings.map((w) => w.text)].filter(Boolean).join(' — ');
	const detail = `The server answered ${status}${reason ? ` ${reason}` : ''}` +
		(warnings.length ? ` (${warnings.map((w) => w.text).join('; ')})` : '') + '.';
	if (status === 404 || status === 604 || (status === 403 && UNKNOWN_USER.test(said)))
		return { kind: 'unknown-user', title: 'Unknown user: this identity is not known to the network.', detail };
	if (status === 401 || status === 407) {
		if (withCredentials)
			return { kind: 'password', title: 'Wrong password: the server rejected the credentials.', detail };
		return { kind: 'rejected', title: 'The server asked for credentials this client cannot give.', detail };
	}
	if (status === 403) {
		if (BAD_PASSWORD.test(said) || (withCredentials && !said.trim()))
			return { kind: 'password', title: 'Wrong password: the server rejected the credentials.', detail };
		if (withCredentials && /^forbidden$/i.test(said.trim()))
			return { kind: 'password', title: 'Wrong password: the server rejected the credentials.', detail };
		return { kind: 'forbidden', title: 'Registration refused by the server.', detail };
	}
	if (status === 408)
		return { kind: 'timeout', title: 'The IMS core did not answer in time.', detail };
	if (status >= 500)
		return { kind: 'server', title: 'The IMS core could not handle the registration.', detail };
	return { kind: 'rejected', title: 'Registration refused by the server.', detail };
}

/**
 * Explain a WebSocket that never opened.
 *   url: the wss:// URL tried; origin: this page's origin;
 *   probe: 'answered' if the server's HTTPS port answered a plain request,
 *          'silent' if it did not (or could not be asked).
 */
export function explainConnectFailure({ url, origin, probe }) {
	if (probe === 'answered')
		return {
			kind: 'origin',
			title: "The server refused this page's origin.",
			detail: `${url} is reachable but refused the WebSocket connection from ${origin}. ` +
				'Open the client from an address the server allows.',
		};
	return {
		kind: 'unreachable',
		title: "The server refused this page's origin or is unreachable.",
		detail: `Could not open ${url} from ${origin}. Check the server address; if it uses a ` +
			'self-signed certificate, open its https:// address once in this browser and accept it.',
	};
}

/** The https:// address of a ws(s):// URL (same host and port), or null. */
export function probeUrlFor(url) {
	const m = /^(wss?):\/\/([^/?#]+)/i.exec(url || '');
	if (!m)
		return null;
	return `${m[1].toLowerCase() === 'wss' ? 'https' : 'http'}://${m[2]}/`;
}
