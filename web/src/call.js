/*
 * call.js - the words of a call: who is dialled, who is calling, and why
 * a call ended.  Pure functions, no JsSIP and no DOM, so that each rule is
 * tested on its own (test/call.test.mjs).
 *
 * Who calls is read from P-Asserted-Identity (RFC 3325): the network put
 * it there after checking the caller's registration, and removed whatever
 * the caller's page claimed.  From is the caller's own claim: it is shown
 * only as secondary text, and a call without an asserted identity is
 * marked unverified.
 */
import { headerItems, parseNameAddr } from './sipmsg.js';

/* A telephone number as typed: digits with an optional leading +, and the
 * visual separators of RFC 3966 5.1.1 (and spaces, people type them). */
const PHONE_NUMBER = /^(?:tel:)?(\+?[0-9][0-9\-.() ]*)$/i;

/* A bare user name: RFC 3261 25.1 user characters, starting with a letter
 * or digit (a lone "+" or "." is a typo, not a user). */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9\-_.!~*'()&=+$,]*$/;

/**
 * Complete a dial string into the SIP URI to call.
 *   "bob"                      -> sip:bob@DOMAIN
 *   "bob@example.net"          -> sip:bob@example.net
 *   "sip:bob@x" / "sips:bob@x" -> kept
 *   "+1 555 000-0002", "tel:+15550000002"
 *                              -> sip:+15550000002@DOMAIN;user=phone
 * A number becomes a SIP URI with user=phone (RFC 3261 19.1.6, as an IMS
 * UE sends it, TS 24.229 5.1.2A.1.4) because JsSIP cannot send or parse a
 * tel: URI.  Returns null when nothing callable was typed.
 */
export function dialTarget(text, domain) {
	const s = (text || '').trim();
	if (!s)
		return null;
	const num = PHONE_NUMBER.exec(s);
	if (num) {
		const digits = num[1].replace(/[\-.() ]/g, '');
		if (!/^\+?[0-9]{1,20}$/.test(digits) || !domain)
			return null;
		return `sip:${digits}@${domain};user=phone`;
	}
	if (/\s/.test(s))
		return null;
	if (/^sips?:/i.test(s)) {
		const m = /^(sips?):([^@;?]+)@([^@;?]+)(.*)$/i.exec(s);
		return m ? `${m[1].toLowerCase()}:${m[2]}@${m[3]}${m[4]}` : null;
	}
	if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.includes('@'))
		return null; /* another scheme: nothing JsSIP can call */
	if (s.includes('@'))
		return /^[^@:;]+@[^@;]+$/.test(s) ? `sip:${s}` : null;
	if (!domain || !USER_NAME.test(s))
		return null;
	return `sip:${s}@${domain}`;
}

/**
 * The parts of a URI a person recognises: 'sip:bob@ims.example.org' ->
 * { user: 'bob', host: 'ims.example.org', number: null };
 * 'sip:+1555@x;user=phone' and 'tel:+1555' -> number '+1555'.
 */
export function uriParts(uri) {
	const u = (uri || '').trim();
	let m = /^tel:([^;?]+)/i.exec(u);
	if (m)
		return { user: m[1], host: '', number: m[1] };
	m = /^sips?:(?:([^@;?]+)@)?([^;?]+)(.*)$/i.exec(u);
	if (!m)
		return { user: '', host: '', number: null };
	const user = m[1] ? safeDecode(m[1]) : '';
	const phone = /;user=phone/i.test(m[3]) || /^\+[0-9]+$/.test(user);
	return { user, host: m[2].toLowerCase(), number: phone ? user : null };
}

function safeDecode(s) {
	try {
		return decodeURIComponent(s);
	} catch {
		return s;
	}
}

/** The short name of a peer for sentences: its user part, or the URI. */
export function peerName(uri) {
	const p = uriParts(uri);
	return p.user || uri || 'the other party';
}

/**
 * The URI without parameters, host in lower case: the key of a
 * conversation, so that sip:bob@IMS.example.org;transport=ws and
 * sip:bob@ims.example.org are the same person.
 */
export function peerKey(uri) {
	const u = (uri || '').trim();
	const m = /^(sips?|tel):(?:([^@;?]+)@)?([^;?]*)/i.exec(u);
	if (!m)
		return u;
	const scheme = m[1].toLowerCase();
	if (scheme === 'tel')
		return `tel:${m[3]}`;
	return m[2] ? `${scheme}:${m[2]}@${m[3].toLowerCase()}` : `${scheme}:${m[3].toLowerCase()}`;
}

/**
 * Who sent a request, for the page: from the P-Asserted-Identity values
 * (raw header values, each possibly a comma list) and the raw From value.
 * Returns
 *   { verified, uri, number, name, claimed: { display, uri } }
 * verified: the network asserted it (a P-Asserted-Identity was present);
 * uri: the asserted sip: URI (the tel: one if that is all there is), or
 *      From's URI when unverified;
 * number: the asserted tel: number, if any;
 * name: the asserted display name, else the user part of uri;
 * claimed: what the caller's own From said (display name and URI).
 */
export function callerIdentity({ pai = [], from = '' } = {}) {
	const asserted = headerItems({ headers: new Map([['pai', pai]]) }, 'pai')
		.map(parseNameAddr)
		.filter((n) => n && /^(sips?|tel):/i.test(n.uri));
	const fromAddr = parseNameAddr((from || '').trim()) || { display: '', uri: '' };
	const claimed = { display: fromAddr.display || '', uri: fromAddr.uri || '' };
	if (!asserted.length) {
		return {
			verified: false,
			uri: claimed.uri,
			number: uriParts(claimed.uri).number,
			name: claimed.display || peerName(claimed.uri),
			claimed,
		};
	}
	const sip = asserted.find((n) => /^sips?:/i.test(n.uri));
	const tel = asserted.find((n) => /^tel:/i.test(n.uri));
	const main = sip || tel;
	const display = (sip && sip.display) || (tel && tel.display) || '';
	return {
		verified: true,
		uri: main.uri,
		number: tel ? uriParts(tel.uri).number : uriParts(main.uri).number,
		name: display || peerName(main.uri),
		claimed,
	};
}

/* Status codes by what they mean to the person calling. */
const BUSY = new Set([486, 600]);
const DECLINED = new Set([603, 607, 608]);
const UNKNOWN = new Set([404, 604, 484, 485]);
const NO_ANSWER = new Set([408]);

/**
 * Why an outgoing call did not connect, in words: from the final response
 * (status, reason, warnings [{code, agent, text}]) or, without one, JsSIP's
 * cause (JsSIP.C.causes strings) and originator ('local', 'remote',
 * 'system').  peer: the name of whom was called.  Returns
 * { kind, title, detail }; kind is one of 'offline', 'busy', 'declined',
 * 'unknown', 'forbidden', 'no-answer', 'cancelled', 'network', 'media',
 * 'lost', 'failed'.
 */
export function explainCallFailure({ status = 0, reason = '', warnings = [], cause = '', originator = '', peer = '' } = {}) {
	const who = peer || 'The person you called';
	const said = status ?
		`The network answered ${status}${reason ? ` ${reason}` : ''}` +
		(warnings.length ? ` (${warnings.map((w) => w.text).join('; ')})` : '') + '.' :
		'';
	if (status) {
		if (status === 480)
			return { kind: 'offline', title: `${who} is not online.`,
				detail: `No device of ${who} is registered with the network right now. ${said}` };
		if (BUSY.has(status))
			return { kind: 'busy', title: `${who} is busy.`, detail: said };
		if (DECLINED.has(status))
			return { kind: 'declined', title: `${who} declined the call.`, detail: said };
		if (UNKNOWN.has(status))
			return { kind: 'unknown', title: `${who} does not exist.`,
				detail: `The network knows no user by that address. ${said}` };
		if (status === 403)
			return { kind: 'forbidden', title: 'The network refused the call.', detail: said };
		if (NO_ANSWER.has(status))
			return { kind: 'no-answer', title: `${who} did not answer.`, detail: said };
		/* Our own CANCEL ends the call before its 487 arrives (cause
		 * Canceled, no response): a 487 that reaches us is the network
		 * giving up on a call that rang too long (RFC 3261 16.8 Timer C). */
		if (status === 487)
			return { kind: 'no-answer', title: `${who} did not answer.`,
				detail: `The network stopped the call after it rang for too long. ${said}` };
		if (status === 488 || status === 606)
			return { kind: 'media', title: 'The call could not agree on audio.', detail: said };
		if (status === 430 || status === 503 || status === 504 || status === 500 || status === 502)
			return { kind: 'network', title: 'The network could not connect the call.', detail: said };
		return { kind: 'failed', title: 'The call failed.', detail: said };
	}
	switch (cause) {
	case 'Canceled':
		return originator === 'remote' ?
			{ kind: 'cancelled', title: 'The caller hung up.', detail: 'The call was cancelled before it was answered.' } :
			{ kind: 'cancelled', title: 'Call cancelled.', detail: 'You hung up before the call was answered.' };
	case 'Connection Error':
		return { kind: 'lost', title: 'The connection to the network was lost.',
			detail: 'The WebSocket to the P-CSCF closed; the call could not go on.' };
	case 'Request Timeout':
		return { kind: 'network', title: 'The network did not answer.',
			detail: 'No response to the call within the SIP timeout (32 s).' };
	case 'User Denied Media Access':
		return { kind: 'media', title: 'No microphone.',
			detail: 'The browser did not give this page a microphone; allow it and call again.' };
	case 'WebRTC Error':
	case 'Incompatible SDP':
	case 'Missing SDP':
	case 'Bad Media Description':
		return { kind: 'media', title: 'The call could not agree on audio.',
			detail: `The browser could not set up the audio (${cause}).` };
	case 'No Answer':
	case 'Expires':
		return { kind: 'no-answer', title: 'Missed call.', detail: 'The call was not answered in time.' };
	case 'Rejected':
		return { kind: 'declined', title: 'Call rejected.', detail: 'You declined the call.' };
	default:
		return { kind: 'failed', title: 'The call failed.', detail: cause ? `${cause}.` : '' };
	}
}

/**
 * Why a connected call ended: originator 'local' or 'remote', JsSIP's
 * cause, peer's name.  Returns { kind, title, detail }.
 */
export function explainCallEnd({ originator = '', cause = '', peer = '' } = {}) {
	const who = peer || 'The other party';
	if (cause === 'Connection Error' || cause === 'Transport Lost')
		return { kind: 'lost', title: 'The connection to the network was lost.',
			detail: 'The WebSocket to the P-CSCF closed during the call; the call is over.' };
	if (cause === 'Media Lost' || cause === 'RTP Timeout')
		return { kind: 'lost', title: 'The call was cut off.',
			detail: `No more audio reached ${who}'s device or came from it; the call was ended.` };
	if (cause === 'Request Timeout' || cause === 'No ACK' || cause === 'Dialog Error')
		return { kind: 'lost', title: 'The call was cut off.', detail: `The network stopped answering (${cause}).` };
	if (originator === 'remote')
		return { kind: 'hangup', title: `${who} hung up.`, detail: '' };
	return { kind: 'hangup', title: 'Call ended.', detail: 'You hung up.' };
}

/**
 * Why a MESSAGE was not delivered: the failure response (status, reason)
 * or JsSIP's cause.  Returns a sentence.
 */
export function explainMessageFailure({ status = 0, reason = '', cause = '', peer = '' } = {}) {
	const who = peer || 'The recipient';
	const said = status ? ` (${status}${reason ? ` ${reason}` : ''})` : '';
	if (status === 480 || status === 430)
		return `Not delivered: ${who} is not online${said}.`;
	if (UNKNOWN.has(status))
		return `Not delivered: ${who} does not exist${said}.`;
	if (status === 403)
		return `Not delivered: the network refused the message${said}.`;
	if (status === 408 || cause === 'Request Timeout')
		return `Not delivered: no answer from the network${said}.`;
	if (status)
		return `Not delivered${said}.`;
	if (cause === 'Connection Error')
		return 'Not delivered: the connection to the network is down.';
	return `Not delivered${cause ? ` (${cause})` : ''}.`;
}

/** Call duration for the timer: 0:07, 12:34, 1:02:03. */
export function formatDuration(ms) {
	const s = Math.max(0, Math.floor(ms / 1000));
	const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
	const two = (n) => String(n).padStart(2, '0');
	return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}
