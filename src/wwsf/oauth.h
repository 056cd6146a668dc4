/*
 * oauth.h - the pure parts of the WWSF's OAuth client side (W4, TR 33.871
 * 6.1.2 and 6.1.3): what oauth_http.c keeps between requests and what it
 * reads from the network, with no sockets, so unit tests and the fuzzer
 * call it directly.
 *
 *  - PKCE (RFC 7636): a verifier of 32 random bytes (base64url, 43
 *    characters) and its S256 challenge.
 *  - Pending authorizations: between GET /oauth/start and the callback the
 *    WWSF keeps {state, verifier} bound to a pre-session cookie
 *    (wims_oauth), single use, WWSF_OAUTH_PENDING_TTL_S.  The state alone
 *    finds the entry; the cookie must match too, so a callback URL planted
 *    in another browser (login CSRF, RFC 6749 10.12) finds nothing.
 *  - The pool of scenario 3 (TR 33.871 6.1.3, REQ 3.1): which session
 *    holds which IMPI since when; one IMPI is never held by two sessions.
 *  - Parsers of untrusted input: application/x-www-form-urlencoded (the
 *    callback's query), the WAF's token answer (RFC 6749 5.1 plus the
 *    contract's impu/impus/impi) and its error answer (5.2).
 *
 * Tables are bounded, allocated once, and take one mutex each (requests
 * come from every worker; each is a few microseconds of work).  Times are
 * monotonic seconds passed in by the caller.
 */
#ifndef WIMS_WWSF_OAUTH_H
#define WIMS_WWSF_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/b64url.h"
#include "core/limits.h"
#include "core/slice.h"

#define WWSF_PKCE_VERIFIER_BYTES 32
#define WWSF_PKCE_LEN B64URL_LEN(32) /* verifier, challenge and state: 43 */
/* A sign-in at the WAF takes a person a minute or two; ten is generous. */
#define WWSF_OAUTH_PENDING_TTL_S 600
/* Sign-ins in progress at once: a flood of /oauth/start costs the oldest
 * pending ones, never memory. */
#define WWSF_OAUTH_PENDING_MAX 4096
/* Longest access token taken from the WAF (an ES256 JWT with a few IMPUs
 * is under 1 KiB). */
#define WWSF_TOKEN_MAX 8192
/* IMPUs of one token kept (bob has two). */
#define WWSF_GRANT_IMPUS_MAX 8
/* IMPIs of one pool. */
#define WWSF_POOL_MAX 1024
#define WWSF_KEY_LEN 32

/* The verifier's S256 challenge: base64url(SHA-256(verifier)), 43
 * characters + NUL.  0 or WIMS_EIO. */
int wwsf_pkce_challenge(const char *verifier, char challenge[WWSF_PKCE_LEN + 1]);
/* 32 random bytes as base64url (verifiers, states, cookies).  0 or
 * WIMS_EIO. */
int wwsf_random_b64(char out[WWSF_PKCE_LEN + 1]);
/* SHA-256 of a cookie's text (the tables keep this, not the cookie).  0 or
 * WIMS_EIO. */
int wwsf_cookie_key(struct slice cookie, uint8_t key[WWSF_KEY_LEN]);

/* --- pending authorizations --- */

struct wwsf_pending;
struct wwsf_pending_entry {
	char state[WWSF_PKCE_LEN + 1];
	char verifier[WWSF_PKCE_LEN + 1]; /* secret */
	uint8_t session_key[WWSF_KEY_LEN]; /* the WWSF session at start, if any */
	bool has_session;
};

/* max 0: WWSF_OAUTH_PENDING_MAX.  NULL if out of memory. */
struct wwsf_pending *wwsf_pending_new(size_t max, uint64_t ttl_s);
void wwsf_pending_free(struct wwsf_pending *p); /* NULL is fine */
/* A new pending authorization for the browser holding the cookie whose key
 * is cookie_key (and session_key, NULL if none): fills out->state and
 * out->verifier with fresh random values.  0 or WIMS_EIO. */
int wwsf_pending_put(struct wwsf_pending *p, const uint8_t cookie_key[WWSF_KEY_LEN],
		     const uint8_t *session_key, uint64_t now_s, struct wwsf_pending_entry *out);
/* Takes (removes) the entry of state if it is live and was made for
 * cookie_key: 0 with *out filled.  WIMS_ENOTFOUND for an unknown, reused
 * or expired state; WIMS_EDENIED when the state exists but the cookie is
 * not the one it was given to (the entry is dropped all the same: a state
 * is tried once). */
int wwsf_pending_take(struct wwsf_pending *p, const uint8_t *cookie_key, struct slice state,
		      uint64_t now_s, struct wwsf_pending_entry *out);
size_t wwsf_pending_count(struct wwsf_pending *p, uint64_t now_s);

/* --- the IMPI pool (scenario 3) --- */

struct wwsf_pool;
/* From a comma list of IMPIs ([wwsf] pool); NULL with a reason when an
 * item is not an IMPI, repeats, or there are more than WWSF_POOL_MAX.  An
 * empty list gives a pool of size 0 (not a pool site). */
struct wwsf_pool *wwsf_pool_new(const char *list, const char **reason);
void wwsf_pool_free(struct wwsf_pool *p); /* NULL is fine */
size_t wwsf_pool_size(const struct wwsf_pool *p);
/* Gives session key a free IMPI until `until` (the earlier of the
 * session's end and the hold limit) into impi: the one it holds already if
 * any (its hold unchanged), else the free IMPI released longest ago.
 * Expired holds are freed first.  0, or WIMS_ENOTFOUND when none is free
 * (pool exhausted). */
int wwsf_pool_assign(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN], uint64_t now_s,
		     uint64_t until, char impi[WIMS_IMPI_MAX]);
/* Frees what key holds.  0 or WIMS_ENOTFOUND. */
int wwsf_pool_release(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN]);
/* Frees impi if key holds it (a token request for it failed). */
int wwsf_pool_release_impi(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN],
			   const char *impi);
/* true if key holds impi now. */
bool wwsf_pool_holds(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN], const char *impi,
		     uint64_t now_s);
/* IMPIs held now. */
size_t wwsf_pool_held(struct wwsf_pool *p, uint64_t now_s);

/* --- parsers of untrusted input --- */

/* The value of name in an application/x-www-form-urlencoded string (a
 * query without the '?'), percent-decoded ('+' is a space) into out
 * (NUL-terminated).  Returns its length, WIMS_ENOTFOUND (absent),
 * WIMS_ETOOBIG (does not fit), WIMS_EPARSE (a bad %-escape, a decoded
 * control character or NUL, or the name given twice: RFC 6749 3.1). */
int wwsf_form_get(struct slice form, const char *name, char *out, size_t outsz);
/* name=value appended to a form being built in out (outsz bytes, NUL-
 * terminated, "" to start), value percent-encoded except unreserved
 * characters (RFC 3986 2.3).  0 or WIMS_ETOOBIG. */
int wwsf_form_add(char *out, size_t outsz, const char *name, const char *value);

/* A token from the WAF. */
struct wwsf_grant {
	char access_token[WWSF_TOKEN_MAX]; /* secret */
	char impi[WIMS_IMPI_MAX];
	char impu[WIMS_IMPU_MAX];
	char impus[WWSF_GRANT_IMPUS_MAX][WIMS_IMPU_MAX];
	size_t nimpus;
	int64_t expires_in;   /* as the WAF said */
	uint64_t expires_at;  /* set by the caller: monotonic seconds */
	const char *via;      /* static: "operator", "wwsf-login", "pool" */
};
/* The WAF's 200 answer to POST /token: access_token (RFC 6750 2.1
 * b64token characters), token_type Bearer, expires_in > 0, impi, impu, and
 * impus (optional: [impu]).  0, or WIMS_EPARSE with a reason. */
int wwsf_token_resp_parse(struct slice body, struct wwsf_grant *out, const char **reason);
/* The POST /link body {"impu": "..."}: 0 with impu filled, or WIMS_EPARSE
 * with a reason. */
int wwsf_link_req_parse(struct slice body, char impu[WIMS_IMPU_MAX], const char **reason);
/* The error_description (else error) of an RFC 6749 5.2 answer into out,
 * printable ASCII only (others become '?'); "" when there is none. */
void wwsf_waf_error_parse(struct slice body, char *out, size_t outsz);

#endif
