/*
 * aka.js - IMS AKA for JsSIP: Digest AKAv2-SHA-256 (RFC 3310, RFC 4169)
 * with the password from an asynchronous source.
 *
 * With IMS AKA the page holds no secret.  The 401's nonce carries
 * RAND || AUTN; an ISIM checks AUTN and gives back the AKAv2 Digest
 * password, base64(HMAC-SHA-256(RES || IK || CK, "http-digest-akav2-
 * password")), 44 characters, and never RES, CK or IK.  The ISIM is this
 * device's (the ME agent, TR 33.871 6.1.1.3) or the network ISIM beside the
 * WWSF (seed CR 001); isim.js speaks to both.  With the password the WIC
 * computes an ordinary SHA-256 Digest response.
 *
 * JsSIP answers a challenge synchronously, inside its request sender, and
 * the ISIM answers over HTTPS.  So the asking happens before JsSIP sees
 * the 401: the WIC's socket hands each incoming message to an AkaGate,
 * which holds back a 401 to REGISTER that carries an AKAv2-SHA-256
 * challenge, asks the source, files the answer under (IMPI, nonce), and
 * only then passes JsSIP the 401 with that one challenge left in it (the
 * AKA challenge is preferred over any Digest one).  install() wraps
 * DigestAuthentication (like digest.js, not a fork) to answer from what
 * was filed:
 *
 *   the source answered      the REGISTER carries
 *   {password}               response over the password (SHA-256 Digest)
 *   {auts}                   auts="..." and a response over the EMPTY
 *                            password (RFC 3310 3.4); the network
 *                            resynchronises and challenges again
 *   MAC failure (409)        response="" and no auts (TS 24.229
 *                            5.1.1.5.3): the network drops the vector
 *   refused, unreachable     nothing: JsSIP gets the 401 unanswered and
 *                            the page shows the source's reason
 *
 * JsSIP's request sender answers one challenge per request, plus one more
 * marked stale=true.  The fresh challenge after an auts REGISTER is a
 * second one, so the gate marks it stale=true: that is the one retry
 * JsSIP allows, and what a resynchronisation needs.
 */
import DigestAuthentication from 'jssip/lib/DigestAuthentication.js';

import { digestResponse, install as installDigest } from './digest.js';
import { sipParse } from './sipmsg.js';

/** The one AKA algorithm the WIC answers (AKAv1-MD5 would need RES itself). */
export const AKA_ALGORITHM = 'AKAv2-SHA-256';

/* The UA's stand-in for a long-term secret in AKA mode: JsSIP answers a
 * challenge only when it has a password or an HA1.  It is no HA1 of any
 * hash (wrong length), so digest.js never answers a Digest challenge
 * with it. */
export const AKA_NO_SECRET = 'ims-aka';

/*
 * Answers filed by the gate, taken by authenticate(): "impi\nnonce" ->
 *   { password } | { auts } | { macFailure: true } | { error }
 * Each is used once; a nonce is a fresh 128-bit RAND, so keys never clash.
 */
const answers = new Map();

/* Bound the map: a page that never sends what it filed must not grow. */
const ANSWERS_MAX = 16;

export function fileAnswer(impi, nonce, answer) {
	answers.set(`${impi}\n${nonce}`, answer);
	while (answers.size > ANSWERS_MAX)
		answers.delete(answers.keys().next().value);
}

export function takeAnswer(impi, nonce) {
	const key = `${impi}\n${nonce}`;
	const a = answers.get(key);
	answers.delete(key);
	return a;
}

/**
 * The auth-params of a challenge or credentials value
 * ('Digest realm="x", nonce="y", qop="auth"') as an object with lower case
 * names; the scheme as .scheme.  Quoted values unquoted.
 */
export function authParams(value) {
	const out = {};
	const m = /^\s*([A-Za-z0-9-]+)\s+/.exec(value || '');
	if (!m)
		return null;
	out.scheme = m[1];
	const re = /\s*([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
	re.lastIndex = m[0].length;
	let p;
	while (re.lastIndex < value.length && (p = re.exec(value)))
		out[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
	return out;
}

/* Header fields of a message head, each with its continuation lines. */
function fields(head) {
	const out = [];
	for (const line of head.split('\r\n')) {
		if (/^[ \t]/.test(line) && out.length)
			out[out.length - 1].raw += '\r\n' + line;
		else
			out.push({ raw: line });
	}
	return out;
}

const fieldName = (f) => f.raw.slice(0, Math.max(0, f.raw.indexOf(':'))).trim().toLowerCase();
const fieldValue = (f) => f.raw.slice(f.raw.indexOf(':') + 1).replace(/\r\n[ \t]+/g, ' ').trim();

/**
 * Of the WWW-Authenticate challenges in a 401 (whole message text), the
 * AKAv2-SHA-256 one.  Returns { text, challenge } where text is the
 * message with only that challenge left (stale=true added when asked) and
 * challenge its params { realm, nonce, algorithm, qop, ... }; or null when
 * the message is no 401 or offers no AKAv2-SHA-256 challenge with a nonce.
 */
export function selectAkaChallenge(text, { stale = false } = {}) {
	if (typeof text !== 'string' || !/^SIP\/2\.0 401 /.test(text))
		return null;
	const end = text.indexOf('\r\n\r\n');
	if (end < 0)
		return null;
	const all = fields(text.slice(0, end));
	let keep = null, challenge = null;
	for (const f of all.slice(1)) {
		if (fieldName(f) !== 'www-authenticate')
			continue;
		const p = authParams(fieldValue(f));
		if (!keep && p && /^digest$/i.test(p.scheme) &&
		    (p.algorithm || '').toUpperCase() === AKA_ALGORITHM.toUpperCase() && p.nonce) {
			keep = f;
			challenge = p;
		}
	}
	if (!keep)
		return null;
	if (stale && !/(^|[\s,])stale\s*=/i.test(fieldValue(keep)))
		keep.raw = keep.raw.replace(/\s*$/, '') + ', stale=true';
	const out = all.filter((f, i) => i === 0 || fieldName(f) !== 'www-authenticate' || f === keep);
	return { text: out.map((f) => f.raw).join('\r\n') + text.slice(end), challenge };
}

/**
 * The Digest response of an AKAv2-SHA-256 answer: SHA-256 Digest (RFC
 * 7616) where the password is the ISIM's 44-character AKAv2 password, or
 * the empty string with an auts (RFC 3310 3.4).
 */
export function akaResponse({ username, realm, password, method, uri, nonce, nc, cnonce, qop }) {
	return digestResponse({ algorithm: 'SHA-256', username, realm, password: password ?? '',
		method, uri, nonce, nc, cnonce, qop }).response;
}

/* Quote an auth-param value (RFC 3261 25.1 quoted-string). */
const q = (s) => `"${String(s).replace(/(["\\])/g, '\\$1')}"`;

/**
 * The Authorization header value of an AKA answer, in the order JsSIP
 * writes Digest ones, with auts after the response when there is one.
 * response may be '' (the UE refused AUTN).
 */
export function akaAuthorization({ username, realm, nonce, uri, response, opaque, qop, cnonce, nc,
	auts, algorithm = AKA_ALGORITHM }) {
	const p = [
		`algorithm=${algorithm}`,
		`username=${q(username)}`,
		`realm=${q(realm)}`,
		`nonce=${q(nonce)}`,
		`uri=${q(uri)}`,
		`response=${q(response)}`,
	];
	if (auts)
		p.push(`auts=${q(auts)}`);
	if (opaque)
		p.push(`opaque=${q(opaque)}`);
	if (qop)
		p.push(`qop=${qop}`, `cnonce=${q(cnonce)}`, `nc=${nc}`);
	return `Digest ${p.join(', ')}`;
}

function newCnonce() {
	const bytes = new Uint8Array(12);
	globalThis.crypto.getRandomValues(bytes);
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const INSTALLED = Symbol.for('wims.aka.installed');

/**
 * Teach a JsSIP DigestAuthentication class (JsSIP's own by default)
 * AKAv2-SHA-256 answers from the filed answers; every other algorithm goes
 * to digest.js's code.  Idempotent.  Returns the class.
 */
export function install(DigestClass = DigestAuthentication) {
	installDigest(DigestClass);
	const proto = DigestClass.prototype;
	if (proto[INSTALLED])
		return DigestClass;
	const digestAuthenticate = proto.authenticate;
	const jssipToString = proto.toString;

	proto.authenticate = function authenticate(request, challenge, cnonce = null) {
		if ((challenge.algorithm || '').toUpperCase() !== AKA_ALGORITHM.toUpperCase()) {
			this._aka = null;
			return digestAuthenticate.call(this, request, challenge, cnonce);
		}
		const creds = this._credentials;
		const answer = challenge.nonce && challenge.realm ? takeAnswer(creds.username, challenge.nonce) : null;
		if (!answer || answer.error)
			return false; /* nobody asked the ISIM, or it refused: not answered */
		if (challenge.qop && !challenge.qop.includes('auth'))
			return false;
		this._algorithm = AKA_ALGORITHM;
		this._realm = challenge.realm;
		this._nonce = challenge.nonce;
		this._opaque = challenge.opaque;
		this._stale = challenge.stale;
		this._qop = challenge.qop ? 'auth' : null;
		this._method = request.method;
		this._uri = request.ruri;
		this._cnonce = cnonce || newCnonce();
		this._nc = this._nc >= 0xffffffff ? 1 : this._nc + 1;
		this._ncHex = this._nc.toString(16).padStart(8, '0');
		/* JsSIP copies this into the UA (ua.set('ha1')): keep the stand-in,
		 * so that the next challenge is answered too and no AKA-derived
		 * hash outlives its nonce. */
		this._ha1 = AKA_NO_SECRET;
		this._aka = { auts: answer.auts || null };
		this._response = answer.macFailure ? '' : akaResponse({
			username: creds.username,
			realm: this._realm,
			password: answer.auts ? '' : answer.password,
			method: this._method,
			uri: String(this._uri),
			nonce: this._nonce,
			nc: this._ncHex,
			cnonce: this._cnonce,
			qop: this._qop,
		});
		return true;
	};

	proto.toString = function toString() {
		if (!this._aka)
			return jssipToString.call(this);
		return akaAuthorization({
			username: this._credentials.username, realm: this._realm, nonce: this._nonce,
			uri: String(this._uri), response: this._response, opaque: this._opaque, qop: this._qop,
			cnonce: this._cnonce, nc: this._ncHex, auts: this._aka.auts,
		});
	};
	proto[INSTALLED] = true;
	return DigestClass;
}

/**
 * Between the WebSocket and JsSIP in AKA mode: asks the source for each
 * AKAv2-SHA-256 challenge to REGISTER before JsSIP reads it (see the top
 * of this file).
 *   impi: the private identity the REGISTERs carry
 *   source: { aka({ impi, nonce, algorithm }) -> Promise<{password}|{auts}> },
 *     rejecting with an IsimError (isim.js)
 *   onAnswer(kind, detail): 'password' | 'auts' | 'mac-failure' | 'error'
 *     with the error, for the page
 */
export class AkaGate {
	constructor({ impi, source, onAnswer = () => {} }) {
		this._impi = impi;
		this._source = source;
		this._onAnswer = onAnswer;
		this._autsCseq = null; /* CSeq number of the last REGISTER with auts */
		this.challenges = 0; /* AKA challenges seen, for the page */
	}

	/** Watch an outgoing message: a REGISTER with auts makes its 401 stale. */
	outgoing(text) {
		const msg = sipParse(text);
		if (!msg || msg.method !== 'REGISTER')
			return;
		const auth = (msg.headers.get('authorization') || [])[0];
		const p = auth ? authParams(auth) : null;
		const cseq = /^(\d+)/.exec((msg.headers.get('cseq') || [''])[0]);
		this._autsCseq = p && p.auts && cseq ? cseq[1] : null;
	}

	/**
	 * What JsSIP should read for an incoming message: the message itself,
	 * or, for an AKA challenge to REGISTER, the 401 reduced to that
	 * challenge once the source has answered.  Never rejects.
	 */
	async incoming(text) {
		const msg = sipParse(text);
		if (!msg || msg.status !== 401 || msg.cseqMethod !== 'REGISTER')
			return null;
		const cseq = /^(\d+)/.exec((msg.headers.get('cseq') || [''])[0]);
		const stale = !!(cseq && this._autsCseq === cseq[1]);
		const sel = selectAkaChallenge(text, { stale });
		if (!sel)
			return null;
		this.challenges++;
		const { nonce } = sel.challenge;
		try {
			const answer = await this._source.aka({ impi: this._impi, nonce, algorithm: AKA_ALGORITHM });
			if (answer && typeof answer.password === 'string' && answer.password) {
				fileAnswer(this._impi, nonce, { password: answer.password });
				this._onAnswer('password');
			} else if (answer && typeof answer.auts === 'string' && answer.auts) {
				fileAnswer(this._impi, nonce, { auts: answer.auts });
				this._onAnswer('auts');
			} else {
				throw Object.assign(new Error('the ISIM gave neither a password nor auts'), { kind: 'bad-answer' });
			}
		} catch (e) {
			if (e && e.kind === 'mac-failure') {
				fileAnswer(this._impi, nonce, { macFailure: true });
				this._onAnswer('mac-failure', e);
			} else {
				fileAnswer(this._impi, nonce, { error: e });
				this._onAnswer('error', e);
			}
		}
		return sel.text;
	}
}
