/*
 * nonce.h - server nonces that verify without a lookup, expire, and are
 * never accepted twice with the same nc (RFC 7616 3.3, 3.4; RFC 3261 22.4).
 *
 *	nonce = base64url( ts(8, big-endian seconds) || rnd(16) ||
 *	                   HMAC-SHA-256(secret, "wims-nonce" || ts || rnd)[0..16) )
 *
 * 40 bytes, 54 characters, no padding, no quotes needed in a header.  A
 * nonce made by us carries its own issue time and proof of origin, so any
 * worker (or any node sharing the secret) checks it without shared state.
 * Two secrets are tried, the current and the previous one, so a key
 * rotation does not fail the challenges already out.
 *
 * Replay: a nonce may be used with nc = 1, 2, 3 ... (RFC 7616 3.4.5).  The
 * tracker remembers, per nonce, the highest nc seen and a 64-bit window
 * below it, so requests that overtake each other still pass but no nc is
 * accepted twice.  It is bounded: WIMS_NONCE_MAX_TRACKED nonces in shards
 * with one lock each (DESIGN 6).  When a shard is full, expired nonces go
 * first; if none has expired, the oldest issue second is dropped (when it
 * is older than the newcomer; else the newcomer is answered stale) and the
 * shard's floor rises to it, so that every untracked nonce issued at or
 * before the floor is answered "stale" (a fresh challenge) instead of being
 * taken as a first use: eviction costs a re-challenge, never a replay.
 *
 * nonce_make / nonce_check are pure (the caller passes the time and random
 * bytes).  The tracker locks; its functions say so.
 */
#ifndef WIMS_AUTH_NONCE_H
#define WIMS_AUTH_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define NONCE_SECRET_LEN 32
#define NONCE_RAND_LEN 16
/* Characters of a nonce, and the buffer size nonce_make needs. */
#define NONCE_STR_LEN 54
#define NONCE_STR_MAX (NONCE_STR_LEN + 1)

struct nonce_key {
	uint8_t cur[NONCE_SECRET_LEN];
	uint8_t prev[NONCE_SECRET_LEN];
	bool has_prev;
};

/* Start with one secret (32 random bytes from the caller). */
void nonce_key_init(struct nonce_key *key, const uint8_t secret[NONCE_SECRET_LEN]);
/* Make secret current; the old current stays valid as "previous". */
void nonce_key_rotate(struct nonce_key *key, const uint8_t secret[NONCE_SECRET_LEN]);
/* Wipe both secrets. */
void nonce_key_wipe(struct nonce_key *key);

/* Write a nonce issued at now_s (NUL-terminated, NONCE_STR_LEN chars) into
 * out.  Returns NONCE_STR_LEN or WIMS_ETOOBIG (outsz < NONCE_STR_MAX). */
int nonce_make(const struct nonce_key *key, uint64_t now_s, const uint8_t rnd[NONCE_RAND_LEN],
	       char *out, size_t outsz);

/* Is nonce one of ours, and young enough?  Returns 0; WIMS_EAUTH when it
 * is not ours (wrong length, bad characters, MAC mismatch with both
 * secrets, issued in the future); WIMS_ESTALE when it is ours but older
 * than lifetime_s (answer 401 with stale=true).  Constant time in the MAC. */
int nonce_check(const struct nonce_key *key, struct slice nonce, uint64_t now_s,
		uint64_t lifetime_s);

/* The issue time a well-formed nonce carries (not authenticated: call
 * nonce_check first).  0 or WIMS_EAUTH. */
int nonce_issued_at(struct slice nonce, uint64_t *ts);

struct nonce_tracker;

/* A tracker for at most max_nonces nonces (0: WIMS_NONCE_MAX_TRACKED),
 * forgetting them lifetime_s after issue.  NULL if out of memory. */
struct nonce_tracker *nonce_tracker_new(size_t max_nonces, uint64_t lifetime_s);
void nonce_tracker_free(struct nonce_tracker *t);

/* Record that nonce (already passed nonce_check) was used with nc, the
 * 8-hex-digit value of the Authorization header (RFC 7616 3.4: parse with
 * nonce_nc_parse).  Returns 0 the first time an nc is seen; WIMS_EREPLAY if
 * that nc was seen already or lies below the window; WIMS_ESTALE if nc
 * passes WIMS_NONCE_MAX_NC or the nonce was evicted (re-challenge);
 * WIMS_EINVAL for nc 0 or a malformed nonce.  Locks one shard. */
int nonce_nc_check_and_set(struct nonce_tracker *t, struct slice nonce, uint64_t nc,
			   uint64_t now_s);

/* Nonces currently tracked (all shards; locks each in turn). */
size_t nonce_tracker_count(struct nonce_tracker *t);

/* Parse nc: exactly 8 hex digits (RFC 7616 3.4).  0 or WIMS_EPARSE. */
int nonce_nc_parse(struct slice nc, uint64_t *out);

#endif
