/*
 * identity.js - IMS identities as the person types them.
 *
 * An IMS subscriber has a public identity (IMPU, a SIP URI such as
 * sip:alice@ims.example.org) and a private one (IMPI, alice@ims.example.org)
 * that Digest sends as its username.  When the person gives no IMPI the WIC
 * derives it from the IMPU as TS 33.203 Annex N does (user@domain): JsSIP
 * alone would send only the user part ("alice"), which the S-CSCF cannot
 * find.
 */

/**
 * Complete what was typed into a SIP URI: "alice" -> sip:alice@DOMAIN,
 * "alice@x" -> sip:alice@x; a sip:/sips: URI is kept.  Returns null for
 * empty or unusable input.
 */
export function normaliseImpu(text, domain) {
	const s = (text || '').trim();
	if (!s || /\s/.test(s))
		return null;
	if (/^sips?:/i.test(s))
		return /^sips?:[^@]+@[^@]+$/i.test(s) ? s.replace(/^sip(s?):/i, 'sip$1:') : null;
	if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.includes('@'))
		return null; /* tel: and other schemes have no IMPI to derive */
	if (s.includes('@'))
		return /^[^@:]+@[^@]+$/.test(s) ? `sip:${s}` : null;
	return domain ? `sip:${s}@${domain}` : null;
}

/**
 * TS 33.203 Annex N: the IMPI derived from a SIP IMPU is user@host, with
 * URI parameters and headers dropped.  null if impu is not a sip(s): URI
 * with a user part.
 */
export function impiFromImpu(impu) {
	const m = /^sips?:([^@;?]+)@([^;?>:]+)/i.exec((impu || '').trim());
	if (!m)
		return null;
	return `${m[1]}@${m[2].toLowerCase()}`;
}

/** Domain (host) of a SIP URI, lower case, or null. */
export function impuDomain(impu) {
	const m = /^sips?:[^@;?]+@([^;?>:]+)/i.exec((impu || '').trim());
	return m ? m[1].toLowerCase() : null;
}
