/*
 * wic.js - the WebRTC IMS Client: one JsSIP user agent and what it shows.
 *
 * WicClient knows nothing of the page.  It registers one identity over
 * SIP over secure WebSocket (RFC 7118) and emits 'state' events carrying a
 * plain snapshot { state, impu, impi, server, expiresAt, associated,
 * failure, algorithm } that the page draws.  Calls, messages, AKA and OAuth
 * sign-in will hang off the same UA later; that is why the UA is kept here
 * and not in the page.
 *
 * States: 'unregistered' -> 'registering' -> 'registered' | 'failed';
 * 'unregistering' -> 'unregistered'.
 */
import JsSIP from 'jssip';

import { install as installDigest, algorithmName, preferChallenge } from './digest.js';
import { explainConnectFailure, explainSipFailure, probeUrlFor } from './failure.js';
import { impiFromImpu } from './identity.js';
import { associatedUris, challengeAlgorithms, registrationExpires, sipParse, uriUser, warnings } from './sipmsg.js';

installDigest();

/* How long a probe of the server's HTTPS port may take. */
const PROBE_TIMEOUT_MS = 4000;

/*
 * JsSIP's WebSocket transport, watched: every message in and out is
 * parsed so the page can show each REGISTER's outcome (JsSIP reports only
 * the first 200 OK) and know whether a rejected REGISTER carried
 * credentials.  Only the public socket interface (send, ondata) is used.
 * Incoming 401/407s pass through preferChallenge() (see digest.js).
 */
class WatchedSocket extends JsSIP.WebSocketInterface {
	constructor(url, watcher) {
		super(url);
		this._watcher = watcher;
	}

	send(message) {
		this._watcher('out', message);
		return super.send(message);
	}

	get ondata() {
		return this._ondata;
	}

	set ondata(fn) {
		this._ondata = typeof fn === 'function' ?
			(data) => {
				this._watcher('in', data);
				fn(preferChallenge(data));
			} :
			fn;
	}
}

export class WicClient extends EventTarget {
	constructor({ fetchImpl = globalThis.fetch?.bind(globalThis), origin = globalThis.location?.origin } = {}) {
		super();
		this._fetch = fetchImpl;
		this._origin = origin || '';
		this._ua = null;
		this._snapshot = { state: 'unregistered' };
		this.trace = []; /* last SIP messages, for the advanced panel */
	}

	/** The current snapshot (see the file comment). */
	get snapshot() {
		return this._snapshot;
	}

	/**
	 * Register impu with password over the wss:// server.  impi may be
	 * empty: it is then derived from impu (TS 33.203 Annex N).
	 * Throws TypeError on unusable input (the page checks first).
	 */
	register({ impu, impi, password, server }) {
		this._teardown();
		this.trace = [];
		this.dispatchEvent(new CustomEvent('trace', { detail: null }));
		const authUser = impi || impiFromImpu(impu);
		if (!authUser)
			throw new TypeError('no private identity: give a sip: IMPU with a user part');
		this._attempt = {
			server,
			opened: false,
			sentCredentials: false,
			lastRegisterHadCredentials: false,
			algorithm: null,
			done: false,
		};
		const socket = new WatchedSocket(server, (dir, data) => this._watch(dir, data));
		this._ua = new JsSIP.UA({
			sockets: [socket],
			uri: impu,
			authorization_user: authUser,
			password,
			register: false,
			register_expires: 600,
			user_agent: 'wims-WIC/0.1 JsSIP',
			/* A failed attempt is reported, not retried behind the
			 * person's back; "Register" tries again. */
			connection_recovery_min_interval: 2,
			connection_recovery_max_interval: 30,
		});
		this._set({ state: 'registering', impu, impi: authUser, server, failure: null,
			associated: [], expiresAt: null, algorithm: null });
		const ua = this._ua;
		ua.on('connected', () => {
			if (ua !== this._ua)
				return;
			this._attempt.opened = true;
			ua.register();
		});
		ua.on('disconnected', (e) => {
			if (ua !== this._ua)
				return;
			this._onDisconnected(e);
		});
		ua.on('registered', () => {
			if (ua !== this._ua)
				return;
			this._attempt.done = true;
			this._set({ state: 'registered', failure: null });
		});
		ua.on('registrationFailed', (e) => {
			if (ua !== this._ua)
				return;
			this._onRegistrationFailed(e);
		});
		ua.on('unregistered', () => {
			if (ua !== this._ua)
				return;
			if (this._snapshot.state === 'unregistering') {
				this._set({ state: 'unregistered', expiresAt: null, associated: [] });
				this._teardown();
			}
		});
		ua.start();
	}

	/** Remove the binding (REGISTER Expires: 0) and close the socket. */
	unregister() {
		const ua = this._ua;
		if (!ua) {
			/* between a failed connection and its explanation: cancel */
			this._attempt = null;
			this._set({ state: 'unregistered', expiresAt: null, associated: [], failure: null });
			return;
		}
		if (!ua.isRegistered()) {
			this._teardown();
			this._set({ state: 'unregistered', expiresAt: null, associated: [], failure: null });
			return;
		}
		this._set({ state: 'unregistering' });
		ua.unregister();
		/* If the server never answers, do not hang in 'unregistering'. */
		setTimeout(() => {
			if (this._ua === ua && this._snapshot.state === 'unregistering') {
				this._teardown();
				this._set({ state: 'unregistered', expiresAt: null, associated: [] });
			}
		}, 5000);
	}

	_teardown() {
		const ua = this._ua;
		this._ua = null;
		if (ua) {
			ua.removeAllListeners();
			ua.stop();
		}
	}

	_set(changes) {
		this._snapshot = { ...this._snapshot, ...changes };
		this.dispatchEvent(new CustomEvent('state', { detail: this._snapshot }));
	}

	_watch(dir, data) {
		if (typeof data !== 'string')
			return;
		const msg = sipParse(data);
		this.trace.push({ dir, at: Date.now(), text: data });
		if (this.trace.length > 50)
			this.trace.shift();
		this.dispatchEvent(new CustomEvent('trace', { detail: { dir, text: data } }));
		const a = this._attempt;
		if (!msg || !a)
			return;
		if (dir === 'out' && msg.method === 'REGISTER') {
			a.lastRegisterHadCredentials = msg.headers.has('authorization');
			if (a.lastRegisterHadCredentials) {
				a.sentCredentials = true;
				const alg = /algorithm\s*=\s*"?([A-Za-z0-9-]+)/i.exec(msg.headers.get('authorization')[0]);
				a.algorithm = alg ? algorithmName(alg[1]) || alg[1] : 'MD5';
			}
			return;
		}
		if (dir !== 'in' || msg.cseqMethod !== 'REGISTER' || !msg.status)
			return;
		if (msg.status === 401 || msg.status === 407) {
			a.offered = challengeAlgorithms(msg);
			return;
		}
		if (msg.status >= 200 && msg.status < 300 && this._snapshot.state !== 'unregistering') {
			const ua = this._ua;
			const expires = registrationExpires(msg, {
				instance: ua ? `<urn:uuid:${ua.configuration.instance_id}>` : null,
				contactUser: ua ? uriUser(String(ua.contact.uri)) : null,
			});
			if (expires === 0)
				return; /* our own un-REGISTER */
			this._set({
				expiresAt: expires !== null ? Date.now() + expires * 1000 : null,
				associated: associatedUris(msg),
				algorithm: a.algorithm,
				lastResponse: `${msg.status} ${msg.reason}`,
			});
		} else if (msg.status >= 300) {
			a.lastFailure = { status: msg.status, reason: msg.reason, warnings: warnings(msg),
				withCredentials: a.lastRegisterHadCredentials };
		}
	}

	_onRegistrationFailed({ response, cause }) {
		const a = this._attempt;
		a.done = true;
		let failure;
		if (response) {
			failure = explainSipFailure(a.lastFailure && a.lastFailure.status === response.status_code ?
				a.lastFailure :
				{ status: response.status_code, reason: response.reason_phrase,
					withCredentials: a.lastRegisterHadCredentials });
			if ((response.status_code === 401 || response.status_code === 407) &&
			    !a.sentCredentials && a.offered && a.offered.length &&
			    !a.offered.some((alg) => algorithmName(alg)))
				failure.detail += ` The server offered ${a.offered.join(', ')}, which this client does not support.`;
		} else if (cause === JsSIP.C.causes.REQUEST_TIMEOUT) {
			failure = { kind: 'timeout', title: 'The server did not answer the registration.',
				detail: 'No response to REGISTER within the SIP timeout (32 s).' };
		} else {
			return; /* a transport error: 'disconnected' explains it */
		}
		this._teardown();
		this._set({ state: 'failed', failure, expiresAt: null, associated: [] });
	}

	async _onDisconnected({ code, reason }) {
		const a = this._attempt;
		const wasRegistered = this._snapshot.state === 'registered';
		this._teardown();
		if (!a.opened) {
			/* still 'registering' while the probe runs */
			const probe = await this._probe(a.server);
			if (this._ua || this._attempt !== a)
				return; /* a new attempt began meanwhile */
			this._set({ state: 'failed', expiresAt: null, associated: [],
				failure: explainConnectFailure({ url: a.server, origin: this._origin, probe }) });
			return;
		}
		const why = reason ? ` (${reason})` : code ? ` (code ${code})` : '';
		this._set({
			state: 'failed', expiresAt: null, associated: [],
			failure: wasRegistered ?
				{ kind: 'lost', title: 'The connection to the server was lost.', detail: `The WebSocket closed${why}; the registration is gone.` } :
				{ kind: 'closed', title: 'The server closed the connection.', detail: `The WebSocket closed${why} before the registration completed.` },
		});
	}

	/* Does the server's HTTPS port answer a plain request?  'answered' or
	 * 'silent'.  no-cors: any HTTP answer resolves, only network and TLS
	 * failures reject. */
	async _probe(server) {
		const url = probeUrlFor(server);
		if (!url || !this._fetch)
			return 'silent';
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
		try {
			await this._fetch(url, { mode: 'no-cors', cache: 'no-store', signal: ctl.signal,
				credentials: 'omit', referrerPolicy: 'no-referrer' });
			return 'answered';
		} catch {
			return 'silent';
		} finally {
			clearTimeout(timer);
		}
	}
}
