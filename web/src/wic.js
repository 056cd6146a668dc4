/*
 * wic.js - the WebRTC IMS Client: one JsSIP user agent and what it shows.
 *
 * WicClient knows nothing of the page.  It registers one identity over
 * SIP over secure WebSocket (RFC 7118), places and takes audio calls
 * (JsSIP RTCSession) and sends and receives pager-mode messages (SIP
 * MESSAGE, RFC 3428).  It emits plain snapshots the page draws:
 *   'state'    { state, impu, impi, server, expiresAt, associated,
 *                failure, algorithm }  (the registration)
 *   'call'     { id, direction, state, peer, startedAt, connectedAt,
 *                endedAt, end, muted } or null  (one call at a time)
 *   'media'    { stream } the remote audio of the call, to be played
 *   'messages' [{ key, uri, name, verified, unread, messages }]
 * The registration authenticates with a password (SIP Digest, digest.js)
 * or with IMS AKA, the password for each challenge coming from an ISIM
 * (aka.js, isim.js): this device's, through the ME agent, or the network
 * ISIM of the site; or with no IMS credential at all, with an OAuth access
 * token the site got from the operator's WAF, sent as `Authorization:
 * Bearer` (token.js; the P-CSCF vouches for the registration, TR 33.871
 * 6.1.2).  The snapshot's authSource says which ('digest', 'me',
 * 'network-isim', 'token', then tokenVia 'operator' | 'wwsf-login' |
 * 'pool') and akaFailure why an ISIM did not answer.
 *
 * Registration states: 'unregistered' -> 'registering' -> 'registered' |
 * 'failed'; 'unregistering' -> 'unregistered'.
 * Call states: outgoing 'calling' -> 'ringing' -> 'connected' -> 'ended';
 * incoming 'incoming' -> 'connecting' -> 'connected' -> 'ended'; a call
 * that never connects goes to 'ended' with end.kind saying why.
 */
import JsSIP from 'jssip';

import { AKA_ALGORITHM, AKA_NO_SECRET, AkaGate, install as installAka } from './aka.js';
import { algorithmName, preferChallenge } from './digest.js';
import { explainIsimFailure } from './isim.js';
import { callerIdentity, dialTarget, explainCallEnd, explainCallFailure, explainMessageFailure,
	peerKey, peerName, uriParts } from './call.js';
import { explainConnectFailure, explainSipFailure, probeUrlFor } from './failure.js';
import { impiFromImpu, impuDomain } from './identity.js';
import { associatedUris, challengeAlgorithms, registrationExpires, sipParse, uriUser, warnings } from './sipmsg.js';
import { bearerHeader, explainTokenFailure, findBearerChallenge } from './token.js';

installAka();

/* How long a probe of the server's HTTPS port may take. */
const PROBE_TIMEOUT_MS = 4000;

/* Calls are audio only.  No STUN or TURN server: until the media gateway
 * exists, media goes browser to browser, and host candidates are enough
 * on one machine or one network. */
const CALL_MEDIA = { audio: true, video: false };
const PC_CONFIG = { iceServers: [] };

/* ICE 'disconnected' for this long after media flowed means the other
 * side is gone (its page closed, its network dropped): the call is ended
 * rather than left silent until ICE gives up (about 30 s). */
const MEDIA_LOST_MS = 4000;

/* The other side closed its media (DTLS close_notify): its BYE, which
 * takes the longer way through the IMS core, normally follows within
 * milliseconds; without one in this time the call is ended as lost. */
const BYE_GRACE_MS = 2500;

/* How many SIP messages the trace keeps (the advanced panel, the tests). */
const TRACE_MAX = 200;

/* Content types shown as text. */
const TEXT_TYPE = /^text\/plain\b/i;

let nextId = 1;

/*
 * JsSIP's WebSocket transport, watched: every message in and out is
 * parsed so the page can show each REGISTER's outcome (JsSIP reports only
 * the first 200 OK) and know whether a rejected REGISTER carried
 * credentials.  Only the public socket interface (send, ondata,
 * disconnect) is used.  Incoming 401/407s pass through preferChallenge()
 * (see digest.js); in AKA mode every incoming message goes through the
 * AkaGate first (see aka.js), in order: a held 401 holds back what
 * follows it.
 */
class WatchedSocket extends JsSIP.WebSocketInterface {
	constructor(url, watcher, gate = null) {
		super(url);
		this._watcher = watcher;
		this._gate = gate;
		this._queue = Promise.resolve();
		this._closed = false;
	}

	send(message) {
		this._watcher('out', message);
		if (this._gate && typeof message === 'string')
			this._gate.outgoing(message);
		return super.send(message);
	}

	/* JsSIP reconnects the same socket object after a loss. */
	connect() {
		const r = super.connect(); /* which may first disconnect() */
		this._closed = false;
		return r;
	}

	disconnect() {
		this._closed = true;
		return super.disconnect();
	}

	get ondata() {
		return this._ondata;
	}

	set ondata(fn) {
		this._ondata = typeof fn === 'function' ?
			(data) => {
				this._watcher('in', data);
				this._deliver(fn, data);
			} :
			fn;
	}

	_deliver(fn, data) {
		const gate = this._gate;
		if (!gate) {
			fn(preferChallenge(data));
			return;
		}
		this._queue = this._queue
			.then(async () => {
				const text = typeof data === 'string' ? await gate.incoming(data) : null;
				if (!this._closed)
					fn(text ?? preferChallenge(data));
			})
			.catch((e) => setTimeout(() => {
				throw e; /* JsSIP's own error, reported as before */
			}));
	}
}

export class WicClient extends EventTarget {
	constructor({ fetchImpl = globalThis.fetch?.bind(globalThis), origin = globalThis.location?.origin } = {}) {
		super();
		this._fetch = fetchImpl;
		this._origin = origin || '';
		this._ua = null;
		this._socket = null;
		this._domain = '';
		this._snapshot = { state: 'unregistered' };
		this._call = null; /* { session, snapshot, ... } of the current or last call */
		this._conversations = new Map(); /* peerKey -> conversation */
		this.trace = []; /* last SIP messages, for the advanced panel */
	}

	/** The current snapshot (see the file comment). */
	get snapshot() {
		return this._snapshot;
	}

	/**
	 * Register impu over the wss:// server, with password (SIP Digest) or,
	 * given aka = { source, account }, with IMS AKA: source is an ISIM
	 * client of isim.js (meAgent or networkIsim), account the web user
	 * signed in to the network ISIM, if any; or, given token (what
	 * token.js's tokenFromAnswer gives: { accessToken, via, wwsf, ... },
	 * plus account, the web user if any), with `Authorization: Bearer` and
	 * no password: JsSIP then answers no challenge at all.  impi may be
	 * empty: it is then derived from impu (TS 33.203 Annex N).
	 * Throws TypeError on unusable input (the page checks first).
	 */
	register({ impu, impi, password, server, aka = null, token = null }) {
		/* checked before anything is torn down: a bad token changes nothing */
		const bearer = token ? bearerHeader(token.accessToken) : null;
		this._teardown();
		this.trace = [];
		this.dispatchEvent(new CustomEvent('trace', { detail: null }));
		const authUser = impi || impiFromImpu(impu) || (token ? impu : null);
		if (!authUser)
			throw new TypeError('no private identity: give a sip: IMPU with a user part');
		this._attempt = {
			server,
			opened: false,
			sentCredentials: false,
			lastRegisterHadCredentials: false,
			algorithm: null,
			done: false,
			authSource: token ? 'token' : aka ? aka.source.kind : 'digest',
			tokenVia: token ? token.via || 'operator' : null,
			bearer: null,
			akaFailure: null,
			akaResyncs: 0,
		};
		if (impu !== this._snapshot.impu) {
			this._conversations.clear();
			this._emitMessages();
		}
		this._domain = impuDomain(impu) || '';
		this._akaSource = aka ? aka.source : null;
		const attempt = this._attempt;
		const gate = aka ? new AkaGate({
			impi: authUser,
			source: aka.source,
			onAnswer: (kind, e) => this._onAkaAnswer(attempt, kind, e),
		}) : null;
		const socket = new WatchedSocket(server, (dir, data) => this._watch(dir, data), gate);
		this._socket = socket;
		this._ua = new JsSIP.UA({
			sockets: [socket],
			uri: impu,
			authorization_user: authUser,
			/* AKA: no long-term secret in the page; each challenge is
			 * answered from what the ISIM gave for its nonce (aka.js).
			 * Token: neither password nor HA1, so that JsSIP's request
			 * sender answers no challenge (a 401 ends the attempt). */
			...(token ? {} : aka ? { ha1: AKA_NO_SECRET } : { password }),
			register: false,
			register_expires: 600,
			user_agent: 'wims-WIC/0.1 JsSIP',
			/* A failed attempt is reported, not retried behind the
			 * person's back; "Register" tries again. */
			connection_recovery_min_interval: 2,
			connection_recovery_max_interval: 30,
		});
		/* The token goes in REGISTER (and the un-REGISTER) only, as the
		 * registrator's extra header: not JsSIP's authorization_jwt, which
		 * would put it on every request the page sends. */
		if (bearer)
			this._ua.registrator().setExtraHeaders([bearer]);
		this._set({ state: 'registering', impu, impi: authUser, server, failure: null,
			associated: [], expiresAt: null, algorithm: null,
			authSource: attempt.authSource,
			authAccount: aka ? aka.account || null : token ? token.account || null : null,
			tokenVia: attempt.tokenVia, tokenWwsf: token ? token.wwsf || '' : null,
			tokenExpiresAt: token ? token.expiresAt || null : null,
			akaResyncs: 0 });
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
		ua.on('newRTCSession', (e) => {
			if (ua === this._ua && e.originator === 'remote')
				this._onIncomingCall(e.session, e.request);
		});
		ua.on('newMessage', (e) => {
			if (ua === this._ua && e.originator === 'remote')
				this._onIncomingMessage(e.message, e.request);
		});
		ua.start();
	}

	/**
	 * A fresh token for the registration made with one (same identity):
	 * the REGISTERs from now on carry it, and one is sent at once when
	 * registered, since the network keeps a binding no longer than the
	 * token that made it.  Throws TypeError for a token that is no
	 * b64token, Error when not registering with a token.
	 */
	renewToken(token) {
		const bearer = bearerHeader(token && token.accessToken);
		if (!this._ua || !this._attempt || this._attempt.authSource !== 'token')
			throw new Error('not registered with a token');
		this._ua.registrator().setExtraHeaders([bearer]);
		this._set({ tokenExpiresAt: token.expiresAt || null });
		if (this._ua.isRegistered())
			this._ua.register();
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

	/* ---- calls ---- */

	/** The current or last call's snapshot, or null. */
	get currentCall() {
		return this._call ? this._call.snapshot : null;
	}

	/** The RTCPeerConnection of the current call, or null (for tests). */
	get peerConnection() {
		return (this._call && this._call.session && this._call.session.connection) || null;
	}

	/** The home domain, which completes a dialled user name. */
	get domain() {
		return this._domain;
	}

	/**
	 * Call what the person typed (see dialTarget).  Throws TypeError for
	 * a dial string that is no address, Error when not registered or
	 * already in a call.
	 */
	call(text) {
		const uri = dialTarget(text, this._domain);
		if (!uri)
			throw new TypeError(`"${(text || '').trim()}" is not an address: type a user name, a SIP URI or a number.`);
		if (!this._ua || this._snapshot.state !== 'registered')
			throw new Error('Register first: calls go through your registration.');
		if (this._call && this._call.snapshot.state !== 'ended')
			throw new Error('You are already in a call.');
		const parts = uriParts(uri);
		const call = this._newCall('outgoing', 'calling', {
			uri, number: parts.number, name: parts.number || peerName(uri), verified: false, claimed: null,
		});
		const handlers = this._sessionHandlers(call);
		try {
			call.session = this._ua.call(uri, {
				mediaConstraints: CALL_MEDIA,
				pcConfig: PC_CONFIG,
				rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
				eventHandlers: handlers,
			});
		} catch (e) {
			this._endCall(call, { kind: 'failed', title: 'The call could not start.', detail: e.message });
			throw e;
		}
		return call.snapshot;
	}

	/** Accept the incoming call. */
	answer() {
		const call = this._call;
		if (!call || call.snapshot.state !== 'incoming')
			return;
		this._setCall(call, { state: 'connecting' });
		call.session.answer({ mediaConstraints: CALL_MEDIA, pcConfig: PC_CONFIG });
	}

	/** Decline the incoming call (603 Decline: the person said no). */
	reject() {
		const call = this._call;
		if (!call || call.snapshot.state !== 'incoming')
			return;
		call.session.terminate({ status_code: 603, reason_phrase: 'Decline' });
	}

	/** Hang up: CANCEL before an answer, BYE after, decline if incoming. */
	hangup() {
		const call = this._call;
		if (!call || call.snapshot.state === 'ended')
			return;
		if (call.snapshot.state === 'incoming') {
			this.reject();
			return;
		}
		if (!call.session) {
			/* getUserMedia still pending: JsSIP has not sent anything */
			this._endCall(call, { kind: 'cancelled', title: 'Call cancelled.', detail: '' });
			return;
		}
		call.session.terminate();
	}

	/** Mute or unmute the microphone of the current call. */
	setMuted(muted) {
		const call = this._call;
		if (!call || !call.session || call.snapshot.state === 'ended')
			return;
		if (muted)
			call.session.mute({ audio: true });
		else
			call.session.unmute({ audio: true });
		this._setCall(call, { muted: !!muted });
	}

	/** Forget an ended call (the page goes back to the dialler). */
	dismissCall() {
		if (this._call && this._call.snapshot.state === 'ended') {
			this._call = null;
			this.dispatchEvent(new CustomEvent('call', { detail: null }));
		}
	}

	_newCall(direction, state, peer) {
		const call = {
			session: null,
			transportLost: false,
			mediaLost: false,
			cancelled: false,
			timers: [],
			snapshot: { id: nextId++, direction, state, peer, startedAt: Date.now(),
				connectedAt: null, endedAt: null, end: null, muted: false },
		};
		this._call = call;
		this.dispatchEvent(new CustomEvent('call', { detail: call.snapshot }));
		return call;
	}

	_setCall(call, changes) {
		call.snapshot = { ...call.snapshot, ...changes };
		if (call === this._call)
			this.dispatchEvent(new CustomEvent('call', { detail: call.snapshot }));
	}

	_endCall(call, end) {
		if (call.snapshot.state === 'ended')
			return;
		for (const t of call.timers)
			clearTimeout(t);
		call.timers = [];
		this._setCall(call, { state: 'ended', end, endedAt: Date.now() });
		if (call === this._call)
			this.dispatchEvent(new CustomEvent('media', { detail: { stream: null } }));
	}

	/* JsSIP session events -> call snapshots. */
	_sessionHandlers(call) {
		const name = () => call.snapshot.peer.name;
		return {
			peerconnection: ({ peerconnection }) => this._watchMedia(call, peerconnection),
			progress: ({ originator, response }) => {
				if (originator === 'remote' && response && response.status_code > 100 &&
				    call.snapshot.state === 'calling')
					this._setCall(call, { state: 'ringing' });
			},
			accepted: () => {
				if (call.snapshot.state !== 'ended')
					this._setCall(call, { state: 'connected', connectedAt: Date.now() });
			},
			ended: ({ originator, cause }) => {
				const why = call.transportLost ? 'Transport Lost' : call.mediaLost ? 'Media Lost' : cause;
				this._endCall(call, explainCallEnd({ originator, cause: why, peer: name() }));
			},
			failed: ({ originator, message, cause }) => {
				if (call.transportLost) {
					this._endCall(call, explainCallEnd({ cause: 'Transport Lost' }));
					return;
				}
				const isResponse = message && typeof message.status_code === 'number';
				const status = isResponse && originator === 'remote' ? message.status_code : 0;
				const end = explainCallFailure({
					status,
					reason: status ? message.reason_phrase : '',
					warnings: status ? warnings({ headers: new Map([['warning', message.getHeaders('Warning')]]) }) : [],
					cause, originator, peer: name(),
				});
				if (call.snapshot.direction === 'incoming') {
					if (cause === JsSIP.C.causes.CANCELED && originator === 'remote')
						Object.assign(end, { kind: 'missed', title: `Missed call from ${name()}.`,
							detail: 'The caller hung up before you answered.' });
					else if (cause === JsSIP.C.causes.REJECTED && originator === 'local')
						Object.assign(end, { kind: 'declined', title: 'Call declined.',
							detail: `You declined the call from ${name()}.` });
					else if (cause === JsSIP.C.causes.NO_ANSWER)
						Object.assign(end, { kind: 'missed', title: `Missed call from ${name()}.`,
							detail: 'The call was not answered.' });
				}
				this._endCall(call, end);
			},
			muted: () => this._setCall(call, { muted: true }),
			unmuted: () => this._setCall(call, { muted: false }),
		};
	}

	/*
	 * Remote audio out to the page, and the end of media noticed: the
	 * other side's page may vanish without a BYE (closed tab, dropped
	 * network; its P-CSCF flow is then dead and cannot carry one).
	 */
	_watchMedia(call, pc) {
		pc.addEventListener('track', (e) => {
			if (call === this._call && call.snapshot.state !== 'ended')
				this.dispatchEvent(new CustomEvent('media', {
					detail: { stream: e.streams[0] || new MediaStream([e.track]) } }));
		});
		let lostTimer = null;
		const lost = () => {
			const s = call.session;
			if (!s || call.snapshot.state === 'ended' || !s.isEstablished())
				return;
			call.mediaLost = true;
			s.terminate({ cause: 'Media Lost' });
		};
		/* A hang-up closes the other side's media at once, and its BYE
		 * comes through the core a moment later: give it that moment. */
		const lostSoon = () => {
			if (!lostTimer) {
				lostTimer = setTimeout(lost, BYE_GRACE_MS);
				call.timers.push(lostTimer);
			}
		};
		pc.addEventListener('iceconnectionstatechange', () => {
			const st = pc.iceConnectionState;
			if (st === 'disconnected' && !lostTimer) {
				lostTimer = setTimeout(lost, MEDIA_LOST_MS);
				call.timers.push(lostTimer);
			} else if (st === 'connected' || st === 'completed') {
				clearTimeout(lostTimer);
				lostTimer = null;
			}
		});
		pc.addEventListener('connectionstatechange', () => {
			if (pc.connectionState === 'failed')
				lostSoon();
			if (pc.connectionState !== 'connected')
				return;
			/* DTLS close_notify: the other side closed its connection. */
			const transport = pc.getSenders().map((x) => x.transport).find(Boolean);
			if (transport)
				transport.addEventListener('statechange', () => {
					if (transport.state === 'closed' || transport.state === 'failed')
						lostSoon();
				});
		});
	}

	_onIncomingCall(session, request) {
		if (this._call && this._call.snapshot.state !== 'ended') {
			session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
			return;
		}
		const id = callerIdentity({
			pai: request.getHeaders('P-Asserted-Identity'),
			from: request.getHeader('From'),
		});
		const call = this._newCall('incoming', 'incoming', id);
		call.session = session;
		for (const [event, fn] of Object.entries(this._sessionHandlers(call)))
			session.on(event, fn);
	}

	/* ---- messages ---- */

	/** Conversations, the most recent first (see the file comment). */
	get conversations() {
		return [...this._conversations.values()]
			.sort((a, b) => b.lastAt - a.lastAt)
			.map((c) => ({ key: c.key, uri: c.uri, name: c.name, verified: c.verified,
				unread: c.unread, messages: c.messages.map((m) => ({ ...m })) }));
	}

	/**
	 * Send text to what the person typed (see dialTarget) as a SIP
	 * MESSAGE, text/plain.  Returns the conversation's key.  Throws
	 * TypeError for a bad address or empty text, Error when not registered.
	 */
	sendMessage(to, text) {
		const uri = dialTarget(to, this._domain);
		if (!uri)
			throw new TypeError(`"${(to || '').trim()}" is not an address: type a user name, a SIP URI or a number.`);
		if (!text || !text.trim())
			throw new TypeError('Type a message first.');
		if (!this._ua || this._snapshot.state !== 'registered')
			throw new Error('Register first: messages go through your registration.');
		const parts = uriParts(uri);
		const conv = this._conversation(uri, parts.number || peerName(uri), false);
		const entry = { id: nextId++, dir: 'out', text, at: Date.now(), status: 'sending', error: null };
		conv.messages.push(entry);
		conv.lastAt = entry.at;
		this._emitMessages();
		const ua = this._ua;
		ua.sendMessage(uri, text, {
			contentType: 'text/plain;charset=utf-8',
			eventHandlers: {
				succeeded: () => {
					entry.status = 'sent';
					this._emitMessages();
				},
				failed: ({ response, cause }) => {
					entry.status = 'failed';
					entry.error = explainMessageFailure({
						status: response ? response.status_code : 0,
						reason: response ? response.reason_phrase : '',
						cause, peer: conv.name,
					});
					this._emitMessages();
				},
			},
		});
		return conv.key;
	}

	/** The person has seen a conversation. */
	markRead(key) {
		const conv = this._conversations.get(key);
		if (conv && conv.unread) {
			conv.unread = 0;
			this._emitMessages();
		}
	}

	_conversation(uri, name, verified) {
		const key = peerKey(uri);
		let conv = this._conversations.get(key);
		if (!conv) {
			conv = { key, uri: key, name, verified, unread: 0, messages: [], lastAt: 0 };
			this._conversations.set(key, conv);
		}
		if (verified)
			conv.verified = true;
		return conv;
	}

	_onIncomingMessage(message, request) {
		const type = request.getHeader('Content-Type') || '';
		if (!TEXT_TYPE.test(type)) {
			message.reject({ status_code: 415, reason_phrase: 'Unsupported Media Type',
				extraHeaders: ['Accept: text/plain'] });
			return;
		}
		const id = callerIdentity({
			pai: request.getHeaders('P-Asserted-Identity'),
			from: request.getHeader('From'),
		});
		const conv = this._conversation(id.uri, id.number && !/^sips?:/i.test(id.uri) ? id.number : id.name,
			id.verified);
		const at = Date.now();
		conv.messages.push({ id: nextId++, dir: 'in', text: request.body || '', at, status: 'received',
			verified: id.verified, claimed: id.claimed });
		conv.lastAt = at;
		conv.unread++;
		this._emitMessages();
	}

	_emitMessages() {
		this.dispatchEvent(new CustomEvent('messages', { detail: this.conversations }));
	}

	_teardown() {
		const ua = this._ua;
		this._ua = null;
		this._socket = null;
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
		if (this.trace.length > TRACE_MAX)
			this.trace.shift();
		this.dispatchEvent(new CustomEvent('trace', { detail: { dir, text: data } }));
		const a = this._attempt;
		if (!msg || !a)
			return;
		if (dir === 'out' && msg.method === 'REGISTER') {
			a.lastRegisterHadCredentials = msg.headers.has('authorization');
			if (a.lastRegisterHadCredentials) {
				a.sentCredentials = true;
				const auth = msg.headers.get('authorization')[0];
				const alg = /algorithm\s*=\s*"?([A-Za-z0-9-]+)/i.exec(auth);
				a.algorithm = /^\s*bearer\s/i.test(auth) ? 'Bearer' :
					alg ? algorithmName(alg[1]) || alg[1] : 'MD5';
			}
			return;
		}
		if (dir !== 'in' || msg.cseqMethod !== 'REGISTER' || !msg.status)
			return;
		if (msg.status === 401 || msg.status === 403 || msg.status === 407)
			a.bearer = findBearerChallenge(msg.headers.get('www-authenticate'));
		if (msg.status === 401 || msg.status === 407) {
			a.offered = challengeAlgorithms(msg);
			if (a.authSource !== 'token')
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

	/* What the ISIM said about a challenge of this attempt. */
	_onAkaAnswer(attempt, kind, e) {
		if (attempt !== this._attempt)
			return;
		if (kind === 'auts') {
			attempt.akaResyncs++;
			this._set({ akaResyncs: attempt.akaResyncs });
		} else if (kind === 'mac-failure' || kind === 'error') {
			attempt.akaFailure = e;
		} else if (kind === 'password') {
			attempt.akaFailure = null;
		}
	}

	_onRegistrationFailed({ response, cause }) {
		const a = this._attempt;
		a.done = true;
		let failure;
		if (a.akaFailure) {
			/* the ISIM refused or could not be asked: its reason, not the
			 * 401 (or the 403 to the refused AUTN) it led to */
			failure = explainIsimFailure(a.akaFailure, { source: a.authSource,
				meUrl: this._akaMeUrl(a) });
		} else if (response && a.authSource === 'token') {
			/* the reasons of the response as the socket saw it (Warning,
			 * the Bearer challenge), JsSIP's own parse as a fallback */
			const seen = a.lastFailure && a.lastFailure.status === response.status_code ? a.lastFailure :
				{ status: response.status_code, reason: response.reason_phrase, warnings: [] };
			failure = explainTokenFailure({ ...seen, challenge: a.bearer,
				digestOffered: !!(a.offered && a.offered.length), via: a.tokenVia });
		} else if (response) {
			failure = explainSipFailure(a.lastFailure && a.lastFailure.status === response.status_code ?
				a.lastFailure :
				{ status: response.status_code, reason: response.reason_phrase,
					withCredentials: a.lastRegisterHadCredentials });
			if ((response.status_code === 401 || response.status_code === 407) &&
			    !a.sentCredentials && a.offered && a.offered.length &&
			    a.authSource !== 'digest' &&
			    !a.offered.some((alg) => alg.toUpperCase() === AKA_ALGORITHM.toUpperCase())) {
				failure = { kind: 'no-aka', title: 'The network does not offer IMS AKA for this identity.',
					detail: `It challenged with ${a.offered.join(', ')}, not ${AKA_ALGORITHM}: ` +
						'register with the password instead.' };
			} else if ((response.status_code === 401 || response.status_code === 407) &&
			    !a.sentCredentials && a.offered && a.offered.length &&
			    !a.offered.some((alg) => algorithmName(alg))) {
				if (a.authSource === 'digest' && a.offered.some((alg) => /^AKA/i.test(alg)))
					failure = { kind: 'aka-only', title: 'This identity registers with IMS AKA, not a password.',
						detail: `The network challenged with ${a.offered.join(', ')}: choose this ` +
							'device\'s ISIM or the network ISIM to sign in.' };
				else
					failure.detail += ` The server offered ${a.offered.join(', ')}, which this client does not support.`;
			}
		} else if (cause === JsSIP.C.causes.REQUEST_TIMEOUT) {
			failure = { kind: 'timeout', title: 'The server did not answer the registration.',
				detail: 'No response to REGISTER within the SIP timeout (32 s).' };
		} else {
			return; /* a transport error: 'disconnected' explains it */
		}
		this._teardown();
		this._set({ state: 'failed', failure, expiresAt: null, associated: [] });
	}

	_akaMeUrl(a) {
		return a && a.authSource === 'me' && this._akaSource ? this._akaSource.url || '' : '';
	}

	async _onDisconnected({ code, reason }) {
		const a = this._attempt;
		const wasRegistered = this._snapshot.state === 'registered';
		/* The flow is gone, and with it every dialog on it: the P-CSCF
		 * routes to this page by the flow's token, which a new connection
		 * would not have.  Stopping the UA ends the call; say why. */
		if (this._call && this._call.snapshot.state !== 'ended')
			this._call.transportLost = true;
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
