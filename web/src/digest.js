/*
 * digest.js - SIP Digest with SHA-256 (RFC 7616, RFC 8760) for JsSIP.
 *
 * JsSIP's DigestAuthentication only computes MD5 and refuses any other
 * algorithm.  IMS cores (and wims' cscf, by default) challenge with SHA-256
 * first, so the WIC extends JsSIP here instead of forking it: install()
 * wraps DigestAuthentication.prototype.authenticate.  JsSIP's RequestSender
 * creates its DigestAuthentication from that same class, so every REGISTER
 * (and, later, every INVITE/MESSAGE) challenge goes through the wrapper.
 *
 *   algorithm          handled by
 *   MD5 (or absent)    JsSIP's own code, unchanged
 *   MD5-sess           this file (RFC 7616 3.4.2)
 *   SHA-256            this file
 *   SHA-256-sess       this file
 *
 * The wrapper fills the same fields JsSIP's authenticate() fills, so
 * JsSIP's toString() writes the Authorization header (with algorithm=...).
 * Hashing is synchronous because JsSIP's request sender is.
 *
 * A server that offers several algorithms sends one challenge each, most
 * preferred first (RFC 8760 2.4), and the client must answer the topmost
 * one it supports.  JsSIP's parser keeps only the last WWW-Authenticate,
 * which would pick MD5 over SHA-256; preferChallenge() below, applied by
 * the WIC's socket to each incoming message before JsSIP reads it, leaves
 * JsSIP the one challenge it should answer.
 */
import JsSIP from 'jssip';
import DigestAuthentication from 'jssip/lib/DigestAuthentication.js';

import { sha256Hex } from './sha256.js';

const md5Hex = (s) => JsSIP.Utils.calculateMD5(s);

/* Algorithm name (upper case) -> hash, and whether it is a -sess variant. */
const ALGORITHMS = {
	'MD5': { hash: md5Hex, hexLength: 32, sess: false },
	'MD5-SESS': { hash: md5Hex, hexLength: 32, sess: true },
	'SHA-256': { hash: sha256Hex, hexLength: 64, sess: false },
	'SHA-256-SESS': { hash: sha256Hex, hexLength: 64, sess: true },
};

/** Algorithms the WIC answers, strongest first, as written on the wire. */
export const SUPPORTED_ALGORITHMS = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** Canonical wire spelling of an algorithm name, or null if unsupported. */
export function algorithmName(name) {
	const key = (name || 'MD5').toUpperCase();
	if (!ALGORITHMS[key])
		return null;
	return SUPPORTED_ALGORITHMS.find((a) => a.toUpperCase() === key);
}

/**
 * Digest response (RFC 7616 3.4.1) as pure computation.
 *
 *   HA1 = H(username ":" realm ":" password)         or the given ha1
 *   -sess: HA1' = H(HA1 ":" nonce ":" cnonce)
 *   HA2 = H(method ":" uri)                          qop=auth or none
 *       = H(method ":" uri ":" H(body))              qop=auth-int
 *   response = H(HA1' ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *            = H(HA1' ":" nonce ":" HA2)              without qop (RFC 2069)
 *
 * Returns { ha1, response } where ha1 is the password hash before any
 * -sess step (what a client may keep instead of the password).  Throws on
 * an unsupported algorithm.
 */
export function digestResponse({ algorithm, username, realm, password, ha1, method, uri,
	nonce, nc, cnonce, qop, body }) {
	const alg = ALGORITHMS[(algorithm || 'MD5').toUpperCase()];
	if (!alg)
		throw new Error(`unsupported Digest algorithm ${algorithm}`);
	const H = alg.hash;
	const baseHa1 = password != null ? H(`${username}:${realm}:${password}`) : ha1;
	if (!baseHa1 || baseHa1.length !== alg.hexLength)
		throw new Error('no password, and no stored HA1 for this algorithm');
	const keyHa1 = alg.sess ? H(`${baseHa1}:${nonce}:${cnonce}`) : baseHa1;
	let ha2;
	if (qop === 'auth-int')
		ha2 = H(`${method}:${uri}:${H(body || '')}`);
	else
		ha2 = H(`${method}:${uri}`);
	const response = qop ?
		H(`${keyHa1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) :
		H(`${keyHa1}:${nonce}:${ha2}`);
	return { ha1: baseHa1, response };
}

/* A fresh cnonce: 96 random bits as hex (RFC 7616 asks for at least 64). */
function newCnonce() {
	const bytes = new Uint8Array(12);
	globalThis.crypto.getRandomValues(bytes);
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const INSTALLED = Symbol.for('wims.digest.installed');

/**
 * Teach a JsSIP DigestAuthentication class (JsSIP's own by default) the
 * algorithms above.  Idempotent.  Returns the class.
 */
export function install(DigestClass = DigestAuthentication) {
	const proto = DigestClass.prototype;
	if (proto[INSTALLED])
		return DigestClass;
	const jssipAuthenticate = proto.authenticate;

	proto.authenticate = function authenticate(request, challenge, cnonce = null) {
		const name = algorithmName(challenge.algorithm);
		if (!name)
			return false; /* AKA and unknown algorithms: not ours to answer */
		const alg = ALGORITHMS[name.toUpperCase()];
		const creds = this._credentials;
		/* JsSIP drops the password once it has an HA1 (UA.set('ha1')); an
		 * HA1 of another algorithm cannot answer this challenge. */
		if (!creds.password &&
		    (!creds.ha1 || creds.ha1.length !== alg.hexLength || creds.realm !== challenge.realm))
			return false;
		if (name === 'MD5')
			return jssipAuthenticate.call(this, request, challenge, cnonce);

		if (!challenge.nonce || !challenge.realm)
			return false;
		let qop = null;
		if (challenge.qop) {
			if (challenge.qop.includes('auth'))
				qop = 'auth'; /* auth-int needs the final body; auth suffices for SIP */
			else if (challenge.qop.includes('auth-int'))
				qop = 'auth-int';
			else
				return false;
		}
		this._algorithm = name;
		this._realm = challenge.realm;
		this._nonce = challenge.nonce;
		this._opaque = challenge.opaque;
		this._stale = challenge.stale;
		this._qop = qop;
		this._method = request.method;
		this._uri = request.ruri;
		this._cnonce = cnonce || newCnonce();
		this._nc = this._nc >= 0xffffffff ? 1 : this._nc + 1;
		this._ncHex = this._nc.toString(16).padStart(8, '0');
		const { ha1, response } = digestResponse({
			algorithm: name,
			username: creds.username,
			realm: this._realm,
			password: creds.password || null,
			ha1: creds.ha1,
			method: this._method,
			uri: String(this._uri),
			nonce: this._nonce,
			nc: this._ncHex,
			cnonce: this._cnonce,
			qop,
			body: request.body,
		});
		this._ha1 = ha1;
		this._response = response;
		return true;
	};
	proto[INSTALLED] = true;
	return DigestClass;
}

/* Algorithms JsSIP's grammar can read in a challenge (it refuses
 * "MD5-sess"), in the order of SUPPORTED_ALGORITHMS. */
const SELECTABLE = new Set(['SHA-256', 'SHA-256-SESS', 'MD5']);

function challengeAlgorithm(value) {
	if (!/^\s*digest\s/i.test(value))
		return null;
	const m = /(?:^|[\s,])algorithm\s*=\s*"?([A-Za-z0-9-]+)"?/i.exec(value);
	return m ? m[1].toUpperCase() : 'MD5';
}

/**
 * RFC 8760 2.4: of several Digest challenges in a 401/407 (text of the
 * whole SIP message), keep only the topmost one the WIC supports, per
 * header name (WWW-Authenticate, Proxy-Authenticate), so that JsSIP answers
 * that one.  Anything else is returned unchanged (same string).
 */
export function preferChallenge(text) {
	if (typeof text !== 'string' || !/^SIP\/2\.0 40[17] /.test(text))
		return text;
	const end = text.indexOf('\r\n\r\n');
	if (end < 0)
		return text;
	/* header fields, each with its continuation lines */
	const fields = [];
	for (const line of text.slice(0, end).split('\r\n')) {
		if (/^[ \t]/.test(line) && fields.length)
			fields[fields.length - 1].raw += '\r\n' + line;
		else
			fields.push({ raw: line });
	}
	let changed = false;
	for (const name of ['www-authenticate', 'proxy-authenticate']) {
		const mine = fields.filter((f, i) => i > 0 && f.raw.slice(0, f.raw.indexOf(':')).trim().toLowerCase() === name);
		if (mine.length < 2)
			continue;
		const keep = mine.find((f) => SELECTABLE.has(challengeAlgorithm(f.raw.slice(f.raw.indexOf(':') + 1).replace(/\r\n[ \t]+/g, ' '))));
		if (!keep)
			continue;
		for (const f of mine) {
			if (f !== keep) {
				f.drop = true;
				changed = true;
			}
		}
	}
	if (!changed)
		return text;
	return fields.filter((f) => !f.drop).map((f) => f.raw).join('\r\n') + text.slice(end);
}
