/*
 * bearer.h - the eP-CSCF as trusted node (TR 33.871 6.1.2, 6.1.3): the
 * OAuth access token a WIC presents in a REGISTER ("Authorization: Bearer
 * <token>", RFC 6750 2.1, RFC 8898), validated here so that the core can
 * register the user by Trusted Node Authentication.
 *
 *	REGISTER + Bearer --> cache (SHA-256 of the token -> claims until exp)
 *	                  --> JWT: ES256 with the WAF's JWKS (inline, ~70 us)
 *	                  --> opaque: RFC 7662 introspection at the WAF (W5)
 *	claims --> Origin of the flow, To/From among the IMPUs (REQ 2.4),
 *	           IMPI in the WWSF's pool (REQ 3.2 NOTE 6)   [pcscf.c]
 *
 * Nothing here blocks a worker: verifying a JWT is done inline, but
 * fetching the JWKS (an https URL, or a file for deployments without W5)
 * and introspection run on the worker's event_base.  A validation that
 * has to wait returns WIMS_EAGAIN and calls back later on the same worker
 * (the caller holds its REGISTER).  A token whose kid is not in the keyset
 * makes one JWKS refresh (at most one per PCSCF_BEARER_KID_REFRESH_MS in
 * the whole process); the REGISTERs held for it are tried again once when
 * it is back.
 *
 * Shared state (lock inside, any worker may call): the keyset (replaced
 * whole on refresh, reference-counted so a verification in progress keeps
 * the one it started with) and the cache of verified tokens (sharded, a
 * mutex per shard, bounded, expired entries evicted first).  Refusals are
 * never cached; exp is checked again on every hit.
 *
 * The pure pieces (cache, introspection answer, Origin/pool/IMPU checks,
 * reading the Authorization header) are exported for the unit tests and
 * fuzz/pcscf_bearer.c.
 */
#ifndef WIMS_PCSCF_BEARER_H
#define WIMS_PCSCF_BEARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "core/slice.h"
#include "sip/msg.h"

struct event_base;
struct wims_workers;

/* Unknown kid: the JWKS is fetched again at most this often. */
#define PCSCF_BEARER_KID_REFRESH_MS 10000
/* REGISTERs one worker holds while keys or introspection answers are on
 * their way; past it: 503. */
#define PCSCF_BEARER_MAX_HELD 1024
/* A JWKS fetch or an introspection gives up after this (the WIC's
 * REGISTER times out at 32 s, RFC 3261 Timer F). */
#define PCSCF_BEARER_HTTP_TIMEOUT_S 5
/* Largest JWKS and introspection answer read. */
#define PCSCF_BEARER_MAX_BODY (JWT_TOKEN_MAX * 4)
/* Cache shards (a power of two), each with its own lock. */
#define PCSCF_BEARER_SHARDS 64

/* --- the cache of verified tokens --- */

struct pcscf_bearer_cache;

/* A cache of at most entries tokens (0: a cache that keeps nothing).
 * NULL if out of memory. */
struct pcscf_bearer_cache *pcscf_bearer_cache_new(size_t entries);
void pcscf_bearer_cache_free(struct pcscf_bearer_cache *c);
/* Keep the claims of a verified token (hash = jwt_token_hash) until
 * c->exp.  A full shard drops an expired entry, else the one that expires
 * first.  0, WIMS_ENOMEM, or WIMS_EINVAL (already expired at now: not
 * kept).  Locks one shard. */
int pcscf_bearer_cache_put(struct pcscf_bearer_cache *c, const uint8_t hash[32],
			   const struct jwt_claims *cl, int64_t now);
/* The claims of a cached token still valid at now (exp + skew_s, as the
 * verifier counts it), into *out: 0; WIMS_ENOTFOUND when absent or
 * expired (an expired entry is removed).  Locks one shard. */
int pcscf_bearer_cache_get(struct pcscf_bearer_cache *c, const uint8_t hash[32], int64_t now,
			   int64_t skew_s, struct jwt_claims *out);
/* Entries held now, and hits / misses since creation. */
size_t pcscf_bearer_cache_count(struct pcscf_bearer_cache *c);
void pcscf_bearer_cache_stats(struct pcscf_bearer_cache *c, uint64_t *hits, uint64_t *misses);

/* --- pure checks --- */

/*
 * The Bearer credentials of a REGISTER.  Returns 0 when it has no Bearer
 * Authorization (Digest or none: the core authenticates), 1 with the
 * token in *token (a slice of m), or a refusal with *status and *why:
 *  - 403 "integrity-protected is set by the network only": an
 *    Authorization with integrity-protected (TS 24.229 5.4.1.2.2A: only a
 *    trusted node writes it; a WIC must not smuggle TNA through us);
 *  - 400 "one Authorization header only with Bearer", "Bad authorization
 *    header", "empty Bearer token".
 * Refusals return WIMS_EDENIED (403) or WIMS_EPARSE (400).
 */
int pcscf_bearer_authorization(const struct sip_msg *m, struct slice *token, int *status,
			       const char **why);

/*
 * An RFC 7662 2.2 introspection answer (JSON, len bytes): "active": true,
 * then the claims as jwt_claims_check reads a JWT's, with
 * JWT_CLAIMS_INTROSPECTION (iat, sub and client_id only if present, jti
 * not read).  An empty want->scope requires none.  Returns 0 with *out,
 * WIMS_EAUTH (inactive or a bad claim, with *why), WIMS_EDENIED
 * (insufficient scope), WIMS_EPARSE (not a JSON object).
 */
int pcscf_bearer_introspection_parse(const char *json, size_t len, const struct jwt_expect *want,
				     int64_t now, struct jwt_claims *out, const char **why);

/*
 * The Origin the flow was opened from must be the one configured for the
 * token's WWSF: origins is the [pcscf] wwsf_origins list of
 * "WWSF=ORIGIN" items.  0, or WIMS_EDENIED with *why ("token was issued
 * for another site", "no Origin configured for the token's WWSF").
 */
int pcscf_bearer_check_origin(const char *origins, const char *wwsf, struct slice origin,
			      const char **why);

/*
 * TR 33.871 REQ 3.2 NOTE 6: when pools has "WWSF=GLOB" items for the
 * token's WWSF, the IMPI must match one of the globs (fnmatch).  0, or
 * WIMS_EDENIED "IMPI is not in the WWSF's pool".
 */
int pcscf_bearer_check_pool(const char *pools, const char *wwsf, const char *impi,
			    const char **why);

/*
 * TR 33.871 REQ 2.4: the REGISTER's To and From URIs must be IMPUs of the
 * token (pcscf_uri_same).  0, WIMS_EDENIED ("To is not an identity of
 * this token", "From is not an identity of this token"), WIMS_EPARSE
 * ("Bad To", "Bad From").
 */
int pcscf_bearer_check_impus(const struct jwt_claims *c, const struct sip_msg *reg,
			     const char **why);

/* --- the validator (process-wide, one event_base per worker) --- */

struct pcscf_bearer_conf {
	const char *issuer;      /* expected iss */
	const char *jwks;        /* https URL or file path; "" = Bearer off */
	const char *introspect;  /* https URL; "" = opaque tokens refused */
	const char *ca;          /* PEM verifying the WAF */
	const char *client_cert; /* mTLS to the WAF; "" = none */
	const char *client_key;
	const char *audience;
	const char *scope;       /* "" = none required */
	int skew_s;
	int cache_entries;
	int jwks_refresh_s;      /* periodic JWKS refresh; 0 = never */
	/* Runs fn(arg) on worker i (workers_post); the tests pass their own. */
	int (*post)(void *post_arg, int worker, void (*fn)(void *), void *arg);
	void *post_arg;
};

/* Where the claims came from (for the log and the tests). */
enum pcscf_bearer_source {
	PCSCF_BEARER_NONE = 0,
	PCSCF_BEARER_CACHED,
	PCSCF_BEARER_VERIFIED,     /* JWT signature checked now */
	PCSCF_BEARER_INTROSPECTED, /* the WAF said active */
};

const char *pcscf_bearer_source_name(enum pcscf_bearer_source s);

/* Copies what conf points to.  A JWKS file is read now (a missing or bad
 * one is logged: every token then gets 401 until it is fixed and read
 * again); an https JWKS is fetched by worker 0 once it starts.  0,
 * WIMS_ECONF with err (bad URL, unreadable CA or client certificate),
 * WIMS_ENOMEM. */
int pcscf_bearer_start(const struct pcscf_bearer_conf *conf, int nworkers, char *err,
		       size_t errsz);
/* After every worker stopped. */
void pcscf_bearer_stop(void);
/* True when Bearer tokens are accepted (waf_jwks set). */
bool pcscf_bearer_enabled(void);

/* On worker index, from its thread: its event_base (the periodic refresh
 * runs on worker 0).  0 or WIMS_ENOMEM. */
int pcscf_bearer_worker_start(int index, struct event_base *base);
/* On worker index, from its thread: every validation still pending gets
 * its callback with WIMS_ECLOSED (the caller frees what it held; no
 * answer is sent), and its HTTP requests are dropped. */
void pcscf_bearer_worker_stop(int index);

/* rc: 0 (claims in *c), WIMS_EAUTH (401 invalid_token), WIMS_EDENIED
 * (403 insufficient_scope), WIMS_EIO (503: keys or introspection
 * unavailable), WIMS_ETOOBIG (503: too many held), WIMS_ECLOSED (worker
 * stopping: drop silently).  why is a static string. */
typedef void (*pcscf_bearer_cb)(void *arg, int rc, const struct jwt_claims *c, const char *why,
				enum pcscf_bearer_source src);

/*
 * Validate token (len bytes; copied if needed) on worker index at time
 * now (seconds since the epoch).  Returns the outcome at once (0 with
 * *out and *src, or a refusal as for pcscf_bearer_cb with *why), or
 * WIMS_EAGAIN: then cb(arg, ...) comes later from this worker's loop,
 * exactly once.  Never calls cb when it does not return WIMS_EAGAIN.
 */
int pcscf_bearer_validate(int index, const char *token, size_t len, int64_t now,
			  struct jwt_claims *out, enum pcscf_bearer_source *src, const char **why,
			  pcscf_bearer_cb cb, void *arg);

/* The cache, for counters (NULL before start). */
struct pcscf_bearer_cache *pcscf_bearer_cache(void);
/* JWKS loads that succeeded so far, and keys in the current set. */
unsigned pcscf_bearer_jwks_loads(void);
size_t pcscf_bearer_key_count(void);

#endif
