/*
 * form.h - the untrusted inputs of the WAF's HTTP endpoints, parsed
 * without I/O or allocation: application/x-www-form-urlencoded bodies and
 * query strings (RFC 6749 appendix B), and the HTTP Basic client
 * authentication of RFC 6749 2.3.1.
 *
 * A form is indexed in place (slices into the caller's buffer); values are
 * decoded on demand into the caller's buffer.  RFC 6749 3.1 / 3.2: a
 * parameter sent twice is an error, which is refused here once for every
 * endpoint.  Decoded values never hold control characters (no OAuth
 * parameter needs one; a NUL or CR/LF could otherwise reach a header, a
 * log line or a SQL string).
 */
#ifndef WIMS_WAF_FORM_H
#define WIMS_WAF_FORM_H

#include <stddef.h>

#include "core/slice.h"

/* Fields of one request: the largest (the authorization request with its
 * sign-in and consent fields) has 13; more is not a client of ours. */
#define WAF_FORM_MAX_FIELDS 24
/* A form body or query string: the largest legitimate one is ~2 KiB. */
#define WAF_FORM_MAX_LEN (16 * 1024)

struct waf_form_field {
	struct slice name, value; /* still encoded */
};

struct waf_form {
	struct waf_form_field f[WAF_FORM_MAX_FIELDS];
	size_t n;
};

/* Index in (empty is an empty form).  0, or WIMS_EPARSE / WIMS_ETOOBIG
 * with a static reason in *why: too long, too many fields, an empty name,
 * a malformed or control-character name, a name given twice. */
int waf_form_parse(struct slice in, struct waf_form *out, const char **why);

/* The value of name decoded ('+' is a space, %XX a byte) into out,
 * NUL-terminated.  Returns its length, WIMS_ENOTFOUND, WIMS_ETOOBIG (does
 * not fit outsz - 1) or WIMS_EPARSE (bad escape, control character). */
int waf_form_get(const struct waf_form *f, const char *name, char *out, size_t outsz);

/* true when the form has name (even with an empty value). */
bool waf_form_has(const struct waf_form *f, const char *name);

/* Decode one form-encoded slice into out (as waf_form_get): the WAF's
 * name for urlenc_form_decode (core/urlenc.h), which holds the refusals. */
int waf_form_decode(struct slice in, char *out, size_t outsz);

/* The value of cookie name in a Cookie header (RFC 6265 5.4: "a=1; b=2")
 * into out, NUL-terminated; only cookie-octets are accepted.  Returns its
 * length, WIMS_ENOTFOUND, WIMS_ETOOBIG, WIMS_EPARSE. */
int waf_cookie_get(struct slice header, const char *name, char *out, size_t outsz);

/* RFC 6749 2.3.1 / RFC 7617: an Authorization header value
 *	Basic base64(urlencode(client_id) ":" urlencode(secret))
 * into id and secret (NUL-terminated, decoded).  The scheme is
 * case-insensitive.  0, WIMS_ENOTFOUND (another scheme), WIMS_EPARSE or
 * WIMS_ETOOBIG with *why.  The caller cleanses secret. */
int waf_basic_parse(struct slice header, char *id, size_t idsz, char *secret, size_t secsz,
		    const char **why);

#endif
