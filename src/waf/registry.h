/*
 * registry.h - the WAF's own SQLite file (<data_dir>/waf.db): the OAuth
 * client registry, pending authorization codes, opaque access tokens and
 * the signing keys' schedule.  (Web accounts live in the same file, in
 * store/webacct's tables.)
 *
 *	client(client_id PK, kind, domain, redirect_uris, grants,
 *	       secret_sha256, cert_sha256, blocked, created_at)
 *	code(hash PK, client_id, redirect_uri, challenge, web_id, impi, impus,
 *	     scope, expires)
 *	token(hash PK, client_id, claims, exp)
 *	signing_key(kid PK, created_at, sign_from, sign_until, publish_until)
 *	meta(name PK, value)           -- key_version: bumped on key changes
 *
 * Secrets are never stored: a client secret, a code and an opaque token
 * are kept as their SHA-256 (each is 32 random bytes, so a hash cannot be
 * guessed back), and compared in constant time.
 *
 * Threads: a struct waf_db belongs to one thread (one per worker; the CLI
 * opens its own).  SQLite (WAL) orders the writers.
 */
#ifndef WIMS_WAF_REGISTRY_H
#define WIMS_WAF_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "core/limits.h"

/* Redirect URIs of one client, space-separated. */
#define WAF_REDIRECTS_MAX 1024
/* One redirect URI. */
#define WAF_URI_MAX 512

enum waf_client_kind {
	WAF_KIND_WWSF = 0,
	WAF_KIND_RESOURCE_SERVER = 1, /* may call /introspect (W5) */
};

enum waf_grant_bits {
	WAF_GRANT_CODE = 1 << 0,
	WAF_GRANT_CLIENT_CREDENTIALS = 1 << 1,
	WAF_GRANT_IMPLICIT = 1 << 2,
};

struct waf_client {
	char client_id[WIMS_WWSF_ID_MAX]; /* = the WWSF identity */
	int kind;                         /* enum waf_client_kind */
	char domain[16];                  /* "operator" or "third-party" */
	char redirect_uris[WAF_REDIRECTS_MAX];
	unsigned grants; /* enum waf_grant_bits */
	bool has_secret, has_cert;
	uint8_t secret_sha256[32], cert_sha256[32];
	bool blocked; /* TR 33.871 REQ 2.2 at the WAF */
	int64_t created_at;
};

struct waf_db;

/* Open (creating the tables) path.  NULL with err. */
struct waf_db *waf_db_open(const char *path, char *err, size_t errsz);
void waf_db_close(struct waf_db *db);

/* true for a client id we accept: 1..WIMS_WWSF_ID_MAX-1 characters of
 * [A-Za-z0-9.:_-] (a host name or similar; safe in logs, HTML, JSON). */
bool waf_client_id_ok(const char *id);
/* "code,client_credentials" (also "authorization_code", "implicit",
 * spaces or commas between) into bits.  0 or WIMS_EINVAL. */
int waf_grants_parse(const char *list, unsigned *out);
/* The bits as "authorization_code,client_credentials" into out. */
void waf_grants_format(unsigned grants, char *out, size_t outsz);

/* Insert or replace.  0, WIMS_EINVAL, WIMS_ESTORE. */
int waf_client_put(struct waf_db *db, const struct waf_client *c);
/* 0 or WIMS_ENOTFOUND. */
int waf_client_get(struct waf_db *db, const char *id, struct waf_client *out);
int waf_client_set_blocked(struct waf_db *db, const char *id, bool blocked);
int waf_client_remove(struct waf_db *db, const char *id);
typedef int (*waf_client_fn)(void *arg, const struct waf_client *c);
int waf_client_list(struct waf_db *db, waf_client_fn fn, void *arg);
/* The client whose registered certificate has this fingerprint. */
int waf_client_by_cert(struct waf_db *db, const uint8_t fp[32], struct waf_client *out);

/* true when uri is one of c's redirect URIs, compared whole (RFC 6749
 * 3.1.2.3, RFC 9700 4.1.3: exact string matching). */
bool waf_client_redirect_ok(const struct waf_client *c, const char *uri);
/* 0 when c has a secret and SHA-256(secret) equals it (constant time);
 * WIMS_EAUTH otherwise. */
int waf_client_secret_check(const struct waf_client *c, const char *secret, size_t len);

/* --- authorization codes (RFC 6749 4.1.2: short-lived, single use) --- */

struct waf_code {
	char client_id[WIMS_WWSF_ID_MAX];
	char redirect_uri[WAF_URI_MAX];
	char challenge[48]; /* PKCE S256 */
	char web_id[WIMS_WEB_ID_MAX];
	char impi[WIMS_IMPI_MAX];
	char scope[JWT_SCOPE_MAX];
	char impus[WIMS_IRS_MAX_IMPUS][WIMS_IMPU_MAX];
	size_t n_impus;
	int64_t expires;
};

/* Keep code under hash (SHA-256 of the code).  0 or WIMS_ESTORE. */
int waf_code_put(struct waf_db *db, const uint8_t hash[32], const struct waf_code *c);
/* Take (delete) the code with this hash: it can be taken once.  0 with
 * *out if it existed and had not expired at now; WIMS_ENOTFOUND
 * otherwise (an expired code is deleted too). */
int waf_code_take(struct waf_db *db, const uint8_t hash[32], int64_t now, struct waf_code *out);
/* Drop expired codes and opaque tokens.  0 or WIMS_ESTORE. */
int waf_db_expire(struct waf_db *db, int64_t now);

/* --- opaque access tokens (kept with their claims for introspection) --- */

int waf_token_put(struct waf_db *db, const uint8_t hash[32], const struct jwt_claims *c);
/* 0 with the claims, WIMS_ENOTFOUND. */
int waf_token_get(struct waf_db *db, const uint8_t hash[32], struct jwt_claims *out);

/* --- the signing keys' schedule (keys.c keeps the keys themselves) --- */

struct waf_key_meta {
	char kid[JWT_KID_MAX];
	int64_t created_at;
	int64_t sign_from;     /* signs from this time */
	int64_t sign_until;    /* 0: no end yet */
	int64_t publish_until; /* 0: no end yet */
};

#define WAF_KEYS_MAX JWT_KEYSET_MAX

int waf_keymeta_put(struct waf_db *db, const struct waf_key_meta *k);
int waf_keymeta_remove(struct waf_db *db, const char *kid);
/* Every key by sign_from, at most max.  0 with *n. */
int waf_keymeta_list(struct waf_db *db, struct waf_key_meta *out, size_t max, size_t *n);
/* A number that changes whenever the key schedule does. */
int waf_keys_version(struct waf_db *db, int64_t *version);
int waf_keys_bump(struct waf_db *db);

/* Transactions for a read-modify-write (rotation). */
int waf_db_begin(struct waf_db *db);
int waf_db_commit(struct waf_db *db);
void waf_db_rollback(struct waf_db *db);

#endif
