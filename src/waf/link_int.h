/*
 * link_int.h - the pieces of link.c that need no sockets, shared with its
 * unit test and fuzz target: the one-time code, the CSRF token of the
 * /link form, the same-origin check, the IMPU check, the MESSAGE text.
 */
#ifndef WIMS_WAF_LINK_INT_H
#define WIMS_WAF_LINK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/slice.h"

struct waf_link;

/* 8 decimal digits: 10^8 codes against 5 guesses per source address per
 * 10 minutes (LINK_CONFIRM_FAILURES) and a code life of minutes. */
#define LINK_CODE_DIGITS 8
/* Wrong codes per source IP before 429, and the window they count in
 * (tna.md 4). */
#define LINK_CONFIRM_FAILURES 5
#define LINK_CONFIRM_WINDOW_S 600
/* Link requests (each one a SIP MESSAGE to a subscriber) per IMPU and per
 * requesting web identity in LINK_REQUEST_WINDOW_S: enough to retry after
 * a lost message, too few to use the WAF to flood a subscriber. */
#define LINK_REQUESTS_PER_IMPU 5
#define LINK_REQUESTS_PER_USER 10
#define LINK_REQUEST_WINDOW_S 600
/* A link form is three short fields. */
#define LINK_MAX_BODY 4096
/* The CSRF token: base64url of a 32-byte HMAC. */
#define LINK_CSRF_LEN 43

/* A fresh code: LINK_CODE_DIGITS digits and a NUL, uniform over
 * 0..10^8-1 (RAND_bytes, rejection sampling: no modulo bias).  0 or
 * WIMS_EIO (no randomness). */
int waf_link_code_new(char out[LINK_CODE_DIGITS + 1]);
/* What a person typed into the canonical code: spaces and '-' dropped,
 * then exactly LINK_CODE_DIGITS digits.  0 or WIMS_EPARSE. */
int waf_link_code_normalize(struct slice typed, char out[LINK_CODE_DIGITS + 1]);
/* SHA-256 of the code's digits: the only form the store keeps. */
void waf_link_code_hash(const char *code, uint8_t out[32]);

/* The /link form's CSRF token for the signed-in user: base64url(HMAC-
 * SHA-256(process key, "wims-link-csrf" || user)), NUL-terminated.  The
 * key is drawn once per process, so every worker agrees.  0 or WIMS_E*. */
int waf_link_csrf_token(const char *user, char out[LINK_CSRF_LEN + 1]);
/* true when token is the user's (constant time). */
bool waf_link_csrf_ok(const char *user, struct slice token);

/* "https://host:port" of url (scheme and authority, lower case, no path)
 * into out.  0, WIMS_EPARSE or WIMS_ETOOBIG. */
int waf_link_origin_of(const char *url, char *out, size_t outsz);
/* May a POST with these headers (NULL: absent) come from a page of
 * own_origin?  A Sec-Fetch-Site that is sent must be same-origin (or
 * none: typed by the user); an Origin that is sent must be own_origin,
 * or "null" beside such a Sec-Fetch-Site (what a browser sends for a form
 * on a no-referrer page).  Absent both it is not a browser's cross-site
 * form: allowed (such a client is bound by its own address's limits). */
bool waf_link_same_origin(const char *origin, const char *sec_fetch_site,
			  const char *own_origin);

/* Is impu an IMS identity of domain as the WAF accepts one to link:
 * "sip:user@domain" (domain case-insensitive; no port, password,
 * parameters or headers) or "tel:+digits"?  0, or WIMS_EPARSE with a
 * reason for the web page. */
int waf_link_impu_check(const char *impu, const char *domain, const char **reason);

/* The text of the SIP MESSAGE (tna.md 4) appended to out. */
int waf_link_message_text(struct buf *out, const char *web_id, const char *idp,
			  const char *impu, const char *code, const char *public_url,
			  int lifetime_s);

/* Append s to out with & < > " ' escaped for HTML text and attributes. */
int waf_link_html_escape(struct buf *out, const char *s);

/* Tests: the clock the link uses (unix seconds).  NULL: time(). */
void waf_link_set_clock(struct waf_link *l, int64_t (*now)(void));

#endif
