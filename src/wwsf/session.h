/*
 * session.h - signed-in web users of the WWSF, in memory.
 *
 * A session is a random 32-byte token the browser holds in the
 * `wims_session` cookie (base64url, 43 characters) and the user it stands
 * for.  The table keeps SHA-256 of the token, not the token, so a memory
 * dump gives no cookie to replay; lookups compare in constant time.
 *
 * Bounded: at most max sessions, spread over WWSF_SESSION_SHARDS shards
 * with one lock each (DESIGN 6), every one expiring lifetime seconds after
 * sign-in.  A full shard first drops expired sessions, then the one
 * closest to expiry: a flood of sign-ins (which needs a password each)
 * costs old sessions, never memory.
 *
 * Each session also counts its network ISIM requests in a one-minute
 * window (the per-session rate limit of the contract).
 *
 * Kinds (issue 5): a user signed in with a WWSF account (ACCOUNT: the only
 * kind the network ISIM and W4 client credentials serve), a browser back
 * from the WAF's sign-in (OAUTH) and an anonymous guest of a pool site
 * (GUEST).  A session may hold the token the WAF gave for it (a grant,
 * oauth.h), freed with the session; an end callback tells the pool when a
 * session ends, whichever way (sign-out, expiry, eviction).
 *
 * The caller passes the time (seconds, monotonic) and nothing here does
 * I/O except RAND_bytes for new tokens.  Every function locks one shard.
 */
#ifndef WIMS_WWSF_SESSION_H
#define WIMS_WWSF_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "core/b64url.h"
#include "core/slice.h"
#include "store/webacct.h"
#include "wwsf/oauth.h"

#define WWSF_SESSION_TOKEN_BYTES 32
#define WWSF_SESSION_TOKEN_LEN B64URL_LEN(WWSF_SESSION_TOKEN_BYTES) /* 43 */
#define WWSF_SESSION_COOKIE "wims_session"
/* Shards: enough that the workers of a large host rarely meet on a lock. */
#define WWSF_SESSION_SHARDS 16
/* Sessions held at once by default: ~200 bytes each, 13 MB at most. */
#define WWSF_SESSION_MAX_DEFAULT 65536

struct wwsf_sessions;

enum wwsf_session_kind { WWSF_SESSION_ACCOUNT, WWSF_SESSION_OAUTH, WWSF_SESSION_GUEST };

struct wwsf_session_info {
	char user[WEB_USER_MAX];
	enum wwsf_session_kind kind;
	uint64_t expires;
	uint8_t key[WWSF_KEY_LEN]; /* what the tables keep instead of the token */
};

/* Called with the session's key when it ends (deleted, expired when found,
 * evicted), under the session table's shard lock: it must not call back
 * into the session table. */
typedef void (*wwsf_session_end_fn)(void *arg, const uint8_t key[WWSF_KEY_LEN]);

/* max 0: WWSF_SESSION_MAX_DEFAULT.  NULL if out of memory or lifetime 0. */
struct wwsf_sessions *wwsf_sessions_new(size_t max, uint64_t lifetime_s);
void wwsf_sessions_free(struct wwsf_sessions *s); /* NULL is fine */

/* A new session for user (a valid user name): token gets
 * WWSF_SESSION_TOKEN_LEN characters + NUL.  0, WIMS_EINVAL or WIMS_EIO (no
 * randomness). */
int wwsf_session_create(struct wwsf_sessions *s, const char *user, uint64_t now_s,
			char token[WWSF_SESSION_TOKEN_LEN + 1]);
/* Same, of a kind: user is a label for OAUTH and GUEST sessions. */
int wwsf_session_create_kind(struct wwsf_sessions *s, const char *user,
			     enum wwsf_session_kind kind, uint64_t now_s,
			     char token[WWSF_SESSION_TOKEN_LEN + 1]);
/* Set the end callback (before the table is shared). */
void wwsf_sessions_on_end(struct wwsf_sessions *s, wwsf_session_end_fn fn, void *arg);
/* A live session of any kind into *info: 0 or WIMS_ENOTFOUND. */
int wwsf_session_get(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
		     struct wwsf_session_info *info);
/* The key of a token (as in info.key): 0 or WIMS_ENOTFOUND (malformed). */
int wwsf_session_key(struct slice token, uint8_t key[WWSF_KEY_LEN]);
/* Gives the live session whose key is key the grant g (malloc'd; the
 * table owns it from then on, freeing the one held before): 0, or
 * WIMS_ENOTFOUND (then g is still the caller's). */
int wwsf_session_grant_set(struct wwsf_sessions *s, const uint8_t key[WWSF_KEY_LEN],
			   uint64_t now_s, struct wwsf_grant *g);
/* A copy of the live session's grant into *out: 0, or WIMS_ENOTFOUND (no
 * session or no grant).  The copy holds a secret: cleanse it. */
int wwsf_session_grant_copy(struct wwsf_sessions *s, const uint8_t key[WWSF_KEY_LEN],
			    uint64_t now_s, struct wwsf_grant *out);
/* The user of a live session (user gets up to WEB_USER_MAX bytes with
 * NUL): 0, or WIMS_ENOTFOUND (unknown, malformed or expired token). */
int wwsf_session_lookup(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
			char user[WEB_USER_MAX]);
/* Forget a session (sign-out).  0 or WIMS_ENOTFOUND. */
int wwsf_session_delete(struct wwsf_sessions *s, struct slice token);
/* Forget every session of user (account removed).  Returns how many. */
size_t wwsf_session_delete_user(struct wwsf_sessions *s, const char *user);
/* Count one ISIM request of a live session: 0 while it has made fewer
 * than limit in the current minute, WIMS_EDENIED past it, WIMS_ENOTFOUND
 * for no session. */
int wwsf_session_isim_allow(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
			    unsigned limit);
/* Live sessions (all shards). */
size_t wwsf_session_count(struct wwsf_sessions *s, uint64_t now_s);

/* The wims_session token in a Cookie header value (NULL: none): 0 with
 * *token pointing into cookie, or WIMS_ENOTFOUND.  Only a value of the
 * right length and alphabet counts. */
int wwsf_session_cookie_token(const char *cookie, struct slice *token);
/* Same for the cookie called name (the OAuth pre-session cookie). */
int wwsf_cookie_token(const char *cookie, const char *name, struct slice *token);

#endif
