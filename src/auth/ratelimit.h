/*
 * ratelimit.h - failed-authentication limiter per IMPI (password guessing).
 *
 * After WIMS_AUTH_MAX_FAILURES_PER_MIN failed Digest checks for one IMPI in
 * a fixed one-minute window, the S-CSCF answers 403 without checking until
 * the window ends.  A success clears the count.  Keys are the first 16
 * bytes of SHA-256(IMPI), so the table holds no identities and a long IMPI
 * costs no more than a short one.
 *
 * Bounded: at most max_keys IMPIs, in shards with one lock each (DESIGN 6).
 * When a shard is full, windows that ended are dropped; if none has, a new
 * IMPI is not tracked (its failures are not counted) rather than pushing
 * out a count that is live: a flood of random IMPIs cannot reset the
 * counter of the one under attack.
 *
 * The caller passes the time.  Every function locks one shard.
 */
#ifndef WIMS_AUTH_RATELIMIT_H
#define WIMS_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

struct ratelimit;

/* max_keys 0: WIMS_AUTH_RATELIMIT_MAX_TRACKED; limit failures per
 * window_s seconds.  NULL if out of memory or limit/window are 0. */
struct ratelimit *ratelimit_new(size_t max_keys, unsigned limit, uint64_t window_s);
void ratelimit_free(struct ratelimit *rl);

/* 0 if key may try now, WIMS_EDENIED while it is blocked. */
int ratelimit_check(struct ratelimit *rl, struct slice key, uint64_t now_s);
/* Count one failure of key.  Returns 0, or WIMS_EDENIED when key is now
 * blocked (this failure reached the limit). */
int ratelimit_fail(struct ratelimit *rl, struct slice key, uint64_t now_s);
/* A successful authentication: forget key's failures. */
void ratelimit_reset(struct ratelimit *rl, struct slice key);
/* Keys tracked (all shards). */
size_t ratelimit_count(struct ratelimit *rl);

#endif
