/*
 * keys.h - the WAF's ES256 signing keys and their rotation.
 *
 * A key is a private JWK in <keys_dir>/<kid>.jwk (mode 0600, directory
 * 0700) and a row of the schedule in waf.db (registry.h):
 *
 *	rotate at t:   new key    sign_from = t + lead      (published at once)
 *	               old key    sign_until = t + lead,
 *	                          publish_until = t + lead + token_lifetime
 *
 * so a verifier that fetched the JWKS at any time since t knows the key of
 * every token it will see, and an old key stays published until the last
 * token it signed has expired.  Keys past publish_until are deleted.
 * Rotation is a write to the file and the schedule, by `wims waf
 * rotate-key` or the role itself every key_rotation_days; every worker
 * notices the schedule's version change at its next use.
 */
#ifndef WIMS_WAF_KEYS_H
#define WIMS_WAF_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waf/registry.h"

struct jwt_key;
struct jwt_keyset;

/* Pure schedule rules (tested apart).  The key that signs at now: among
 * keys with sign_from <= now < sign_until (or no sign_until), the one that
 * started last; if none, the one with the latest sign_from <= now; -1 if
 * every key starts later. */
int waf_keys_signer(const struct waf_key_meta *k, size_t n, int64_t now);
/* true while k is to be published. */
bool waf_key_published(const struct waf_key_meta *k, int64_t now);

/* Make a new key (file and schedule row) as above, retiring the keys that
 * sign now.  lead_s 0 makes it sign at once (the first key).  kid_out (may
 * be NULL) gets its kid.  0 or WIMS_E*, with err. */
int waf_keys_rotate(struct waf_db *db, const char *dir, int64_t now, int64_t lead_s,
		    int64_t token_lifetime_s, char kid_out[JWT_KID_MAX], char *err, size_t errsz);

/* The same, only when no key exists (the first key, signing at once) or
 * when the newest key is at least rotate_after_s old (0: only the first
 * key; < 0: always), decided in the same transaction as the write.  0
 * (kid_out "" when nothing was due) or WIMS_E*. */
int waf_keys_rotate_if(struct waf_db *db, const char *dir, int64_t now, int64_t lead_s,
		       int64_t token_lifetime_s, int64_t rotate_after_s, char kid_out[JWT_KID_MAX],
		       char *err, size_t errsz);

/* One worker's view of the keys. */
struct waf_keyring;

struct waf_keyring *waf_keyring_new(const char *dir);
void waf_keyring_free(struct waf_keyring *kr);
/* Reload when the schedule changed; delete keys no longer published; make
 * the first key if there is none, and rotate when the newest key is older
 * than rotate_after_s (0: never).  0 or WIMS_E* with err. */
int waf_keyring_refresh(struct waf_keyring *kr, struct waf_db *db, int64_t now,
			int64_t rotate_after_s, int64_t lead_s, int64_t token_lifetime_s,
			char *err, size_t errsz);
/* The key to sign with at now, or NULL. */
const struct jwt_key *waf_keyring_signer(const struct waf_keyring *kr, int64_t now);
/* {"keys":[...]}: every published key; free() it. */
char *waf_keyring_jwks(const struct waf_keyring *kr, int64_t now);
/* The published keys as a verifier's keyset (for introspecting our own
 * JWTs): owned by kr, valid until the next refresh. */
const struct jwt_keyset *waf_keyring_keyset(const struct waf_keyring *kr);
/* The schedule as loaded (for `wims waf keys`). */
size_t waf_keyring_meta(const struct waf_keyring *kr, const struct waf_key_meta **out);

#endif
