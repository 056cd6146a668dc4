/*
 * auth_hdr.h - WWW-Authenticate, Authorization, Proxy-Authenticate,
 * Proxy-Authorization (RFC 3261 20.27, 25.1; RFC 7616; RFC 8760; RFC 3310
 * AKA; RFC 8898 Bearer) and Authentication-Info (RFC 3261 20.6), parsed in
 * place.
 *
 *	Authorization: Digest username="alice@ims.example.org",
 *	    realm="ims.example.org", nonce="b8f...", uri="sip:ims.example.org",
 *	    response="6629...", algorithm=SHA-256, cnonce="0a4f", qop=auth,
 *	    nc=00000001
 *	Authorization: Bearer eyJhbGciOi...
 *	Authentication-Info: rspauth="...", qop=auth, cnonce="0a4f", nc=00000001
 *
 * Known parameters are indexed (a[SIP_AUTH_P_NONCE] ...) as slices of the
 * raw header: a quoted value is the text between its quotes, still
 * escaped.  Most values carry no backslash, so sip_auth_value() hands the
 * slice straight out and only copies (unescaping into the caller's buffer)
 * when there is one.  A parameter given twice is refused: two different
 * "response" values would let us and a peer disagree about which counts.
 */
#ifndef WIMS_SIP_AUTH_HDR_H
#define WIMS_SIP_AUTH_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

enum sip_auth_scheme {
	SIP_AUTH_SCHEME_OTHER = 0,
	SIP_AUTH_SCHEME_DIGEST,
	SIP_AUTH_SCHEME_BEARER,
	SIP_AUTH_SCHEME_NONE, /* Authentication-Info: parameters only */
};

/* X(ID, "name") */
#define SIP_AUTH_PARAMS(X)                              \
	X(USERNAME, "username")                         \
	X(REALM, "realm")                               \
	X(NONCE, "nonce")                               \
	X(URI, "uri")                                   \
	X(RESPONSE, "response")                         \
	X(ALGORITHM, "algorithm")                       \
	X(CNONCE, "cnonce")                             \
	X(OPAQUE, "opaque")                             \
	X(QOP, "qop")                                   \
	X(NC, "nc")                                     \
	X(STALE, "stale")                               \
	X(DOMAIN, "domain")                             \
	X(AUTS, "auts")                                 \
	X(INTEGRITY_PROTECTED, "integrity-protected")   \
	X(RSPAUTH, "rspauth")                           \
	X(NEXTNONCE, "nextnonce")                       \
	X(USERHASH, "userhash")

enum sip_auth_param {
#define SIP_AUTH_P_ENUM_(id, name) SIP_AUTH_P_##id,
	SIP_AUTH_PARAMS(SIP_AUTH_P_ENUM_)
#undef SIP_AUTH_P_ENUM_
	SIP_AUTH_P_COUNT_
};

/* "nonce" etc. */
const char *sip_auth_param_name(enum sip_auth_param p);

struct sip_auth {
	enum sip_auth_scheme scheme;
	struct slice scheme_name; /* as written; empty for SCHEME_NONE */
	struct slice token68;     /* Bearer (and any token68 credential) */
	struct slice params;      /* the auth-param list, raw */
	/* Known parameters: value (inside the quotes if quoted), or p == NULL
	 * when absent.  A present empty value (nonce="") has p != NULL and
	 * len 0. */
	struct slice p[SIP_AUTH_P_COUNT_];
	uint32_t quoted;  /* bit i: parameter i was a quoted-string */
	uint32_t escaped; /* bit i: its quoted value contains '\' */
};

/*
 * Parse a challenge or credentials value: scheme, then either a token68
 * (Bearer) or a comma-separated auth-param list.  The scheme is compared
 * case-insensitively; parameter names too.  Returns 0 or WIMS_EPARSE with
 * *reason ("Bad authorization header", "Duplicate auth parameter").
 */
int sip_auth_parse(struct sip_auth *a, struct slice value, const char **reason);

/* Parse an Authentication-Info value (parameters only, no scheme):
 * scheme is SIP_AUTH_SCHEME_NONE.  Same returns as sip_auth_parse(). */
int sip_auth_info_parse(struct sip_auth *a, struct slice value,
			const char **reason);

/* Was the parameter present? */
static inline bool sip_auth_has(const struct sip_auth *a, enum sip_auth_param p)
{
	return a->p[p].p != NULL;
}

/*
 * The unescaped value of a known parameter.  If it has no escapes, *out is
 * the slice of the raw header (buf untouched); else it is unescaped into
 * buf (bufsz bytes, NUL-terminated) and *out points there.  Returns 0,
 * WIMS_ENOTFOUND if absent, WIMS_ETOOBIG if buf is too small.
 */
int sip_auth_value(const struct sip_auth *a, enum sip_auth_param p, char *buf,
		   size_t bufsz, struct slice *out);

/*
 * Any auth parameter by name (case-insensitive), known or not: its raw
 * value (inside the quotes if quoted).  True if present.
 */
bool sip_auth_param_find(const struct sip_auth *a, const char *name,
			 struct slice *value, bool *quoted);

#endif
