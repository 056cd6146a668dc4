/*
 * sipmsg.js - the little SIP reading the page itself needs.
 *
 * JsSIP parses every message for its own state machines but reports only
 * the first 200 OK of a registration.  The page shows what each REGISTER
 * response said (expiry, P-Associated-URI, reason phrase, Warning), so it
 * reads the raw responses the socket sees with these pure functions.  They
 * do not throw on malformed input: what cannot be read is left out.
 */

/* RFC 3261 7.3.3 compact forms of the headers read here (and a few more). */
const COMPACT = {
	m: 'contact', i: 'call-id', f: 'from', t: 'to', v: 'via', l: 'content-length',
	c: 'content-type', k: 'supported', e: 'content-encoding', s: 'subject',
};

/**
 * Parse the start line and headers of a SIP message (text).  Returns
 * { status, reason, method, cseqMethod, headers } where headers maps a lower
 * case name to the list of its values in order (folded lines joined), or
 * null if text is not a SIP message.
 */
export function sipParse(text) {
	if (typeof text !== 'string')
		return null;
	const end = text.indexOf('\r\n\r\n');
	const head = end >= 0 ? text.slice(0, end) : text;
	const lines = head.split(/\r\n/);
	const start = lines.shift() || '';
	const msg = { status: 0, reason: '', method: null, cseqMethod: null, headers: new Map() };
	let m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
	if (m) {
		msg.status = Number(m[1]);
		msg.reason = m[2];
	} else {
		m = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(start);
		if (!m)
			return null;
		msg.method = m[1].toUpperCase();
	}
	const unfolded = [];
	for (const line of lines) {
		if (/^[ \t]/.test(line) && unfolded.length)
			unfolded[unfolded.length - 1] += ' ' + line.trim();
		else
			unfolded.push(line);
	}
	for (const line of unfolded) {
		const colon = line.indexOf(':');
		if (colon <= 0)
			continue;
		let name = line.slice(0, colon).trim().toLowerCase();
		name = COMPACT[name] || name;
		const value = line.slice(colon + 1).trim();
		if (!msg.headers.has(name))
			msg.headers.set(name, []);
		msg.headers.get(name).push(value);
	}
	const cseq = (msg.headers.get('cseq') || [])[0];
	if (cseq) {
		const c = /^\d+\s+([A-Za-z]+)/.exec(cseq);
		if (c)
			msg.cseqMethod = c[1].toUpperCase();
	}
	return msg;
}

/** Every value of a header, each comma-separated list split into items. */
export function headerItems(msg, name) {
	const out = [];
	for (const value of (msg && msg.headers.get(name.toLowerCase())) || [])
		out.push(...splitList(value));
	return out;
}

/** Split a header value at commas that are outside quotes and <...>. */
export function splitList(value) {
	const items = [];
	let depth = 0, quoted = false, from = 0;
	for (let i = 0; i < value.length; i++) {
		const ch = value[i];
		if (quoted) {
			if (ch === '\\')
				i++;
			else if (ch === '"')
				quoted = false;
		} else if (ch === '"') {
			quoted = true;
		} else if (ch === '<') {
			depth++;
		} else if (ch === '>') {
			depth = Math.max(0, depth - 1);
		} else if (ch === ',' && depth === 0) {
			items.push(value.slice(from, i).trim());
			from = i + 1;
		}
	}
	const last = value.slice(from).trim();
	if (last)
		items.push(last);
	return items.filter((s) => s.length);
}

/**
 * Read a name-addr or addr-spec with header parameters:
 * '"Alice" <sip:alice@x;transport=ws>;expires=600' ->
 * { display: 'Alice', uri: 'sip:alice@x;transport=ws', params: {expires: '600'} }.
 * Parameter names are lower case; a parameter without value maps to ''.
 */
export function parseNameAddr(item) {
	let display = '', uri, rest;
	const lt = item.indexOf('<');
	if (lt >= 0) {
		const gt = item.indexOf('>', lt);
		if (gt < 0)
			return null;
		display = item.slice(0, lt).trim().replace(/^"(.*)"$/, '$1');
		uri = item.slice(lt + 1, gt).trim();
		rest = item.slice(gt + 1);
	} else {
		/* addr-spec: parameters after the URI belong to the header */
		const semi = item.indexOf(';');
		uri = (semi >= 0 ? item.slice(0, semi) : item).trim();
		rest = semi >= 0 ? item.slice(semi) : '';
	}
	const params = {};
	for (const part of splitParams(rest)) {
		const eq = part.indexOf('=');
		const key = (eq >= 0 ? part.slice(0, eq) : part).trim().toLowerCase();
		if (key)
			params[key] = eq >= 0 ? part.slice(eq + 1).trim() : '';
	}
	return { display, uri, params };
}

/* ';a=1;b="x;y"' -> ['a=1', 'b="x;y"'] */
function splitParams(s) {
	const parts = [];
	let quoted = false, cur = '';
	for (let i = 0; i < s.length; i++) {
		const ch = s[i];
		if (ch === '"')
			quoted = !quoted;
		if (ch === ';' && !quoted) {
			if (cur.trim())
				parts.push(cur);
			cur = '';
		} else {
			cur += ch;
		}
	}
	if (cur.trim())
		parts.push(cur);
	return parts;
}

/** User part of a SIP URI ('sip:abc@host;x' -> 'abc'), or ''. */
export function uriUser(uri) {
	const m = /^sips?:([^@;?>]+)@/i.exec(uri || '');
	return m ? m[1] : '';
}

/**
 * Seconds the registrar granted to our binding, from a 2xx to REGISTER:
 * the expires parameter of the Contact that is ours (same +sip.instance and
 * reg-id, else same URI user, as JsSIP matches it), else the Expires
 * header (RFC 3261 10.2.4).  null if the response says neither.
 */
export function registrationExpires(msg, { instance, regId = 1, contactUser } = {}) {
	const contacts = headerItems(msg, 'contact').map(parseNameAddr).filter(Boolean);
	const unquote = (s) => (s || '').replace(/^"(.*)"$/, '$1');
	let mine = null;
	if (instance)
		mine = contacts.find((c) => unquote(c.params['+sip.instance']) === unquote(instance) &&
			Number(c.params['reg-id'] || regId) === regId);
	if (!mine && contactUser)
		mine = contacts.find((c) => uriUser(c.uri) === contactUser);
	if (!mine && contacts.length === 1)
		mine = contacts[0];
	const fromContact = mine && /^\d+$/.test(mine.params.expires || '') ? Number(mine.params.expires) : null;
	if (fromContact !== null)
		return fromContact;
	const expires = (msg && msg.headers.get('expires') || [])[0];
	return expires && /^\d+$/.test(expires.trim()) ? Number(expires.trim()) : null;
}

/** The URIs of P-Associated-URI (RFC 7315 4.1), in order. */
export function associatedUris(msg) {
	return headerItems(msg, 'p-associated-uri')
		.map(parseNameAddr)
		.filter((n) => n && n.uri)
		.map((n) => n.uri);
}

/**
 * The texts of the Warning headers (RFC 3261 20.43:
 * warn-code SP warn-agent SP "warn-text"), e.g. ['399 cscf "wrong password"']
 * -> [{ code: 399, agent: 'cscf', text: 'wrong password' }].
 */
export function warnings(msg) {
	const out = [];
	for (const item of headerItems(msg, 'warning')) {
		const m = /^(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"/.exec(item);
		if (m)
			out.push({ code: Number(m[1]), agent: m[2], text: m[3].replace(/\\(.)/g, '$1') });
	}
	return out;
}

/** The Digest algorithms a 401/407 offers, in the server's order. */
export function challengeAlgorithms(msg) {
	const out = [];
	for (const name of ['www-authenticate', 'proxy-authenticate']) {
		for (const value of (msg && msg.headers.get(name)) || []) {
			if (!/^digest\s/i.test(value))
				continue;
			const m = /algorithm\s*=\s*"?([A-Za-z0-9-]+)"?/i.exec(value);
			out.push(m ? m[1] : 'MD5');
		}
	}
	return out;
}
