/*
 * webacct.h - web accounts: a user name and a password hash, kept by the
 * roles that sign web users in themselves -- the WWSF (its own users, and
 * which IMS subscriptions (IMPIs) each may use through the network ISIM:
 * shared/seeds/001, TR 33.871 6.1.1.3, "the network based ISIM maintains
 * the mapping between the user identifier and the IMS subscription") and
 * the WAF (the operator's web accounts, TR 33.871 6.1.2).
 *
 * A SQLite file of the role's (<data_dir>/wwsf.db, waf.db) with two tables:
 *	account(name PRIMARY KEY, pwhash)
 *	account_impi(name, impi)      -- the user -> IMPI map
 * The password is never stored: pwhash is a self-describing string
 *	scrypt$N$r$p$<base64url salt>$<base64url hash>
 * (OpenSSL 3 EVP_KDF "SCRYPT", a 16-byte random salt per user, 32-byte
 * hash), so that the parameters travel with the hash and can be raised
 * later without invalidating old entries.  Verification recomputes it and
 * compares in constant time; an unknown user costs one hash too, so that
 * timing does not tell which names exist.
 *
 * Threads: one struct web_accounts may be shared; a mutex inside
 * serialises the SQLite calls (the KDF runs outside it).  SQLite's own
 * locking covers the CLI writing while the role runs.
 */
#ifndef WIMS_STORE_WEBACCT_H
#define WIMS_STORE_WEBACCT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/slice.h"

/* A web user name: 1..WEB_USER_MAX-1 characters of [A-Za-z0-9._-] (what
 * appears in logs and JSON needs no escaping). */
#define WEB_USER_MAX 64
/* Longest password accepted (bytes); longer ones are refused, not cut. */
#define WEB_PASSWORD_MAX 256
/* scrypt cost: N = 2^15, r = 8, p = 1 -- 32 MiB and tens of ms per try
 * (RFC 7914 section 2's interactive-login figure), which with the
 * per-user failure limit makes guessing slow everywhere. */
#define WEB_SCRYPT_LOG2_N 15
#define WEB_SCRYPT_R 8
#define WEB_SCRYPT_P 1
#define WEB_PWHASH_MAX 160

struct web_accounts;

/* Open (creating it and its schema) the account store at path.  NULL with
 * a reason in err on failure. */
struct web_accounts *web_accounts_open(const char *path, char *err, size_t errsz);
void web_accounts_close(struct web_accounts *a); /* NULL is fine */

/* true if name is a valid user name (see WEB_USER_MAX). */
bool web_user_name_ok(struct slice name);

/* Add user name with password (pw_len bytes, any content), or set the
 * password of an existing one (its map is kept).  0, WIMS_EINVAL (bad
 * name, empty or too long password) or WIMS_ESTORE. */
int web_account_set(struct web_accounts *a, const char *name, const char *pw, size_t pw_len);
/* true if the user exists. */
bool web_account_exists(struct web_accounts *a, const char *name);
/* Remove the user and its map.  0 or WIMS_ENOTFOUND. */
int web_account_remove(struct web_accounts *a, const char *name);

/* 0 when name exists and pw is its password; WIMS_EAUTH otherwise (also
 * for an unknown or malformed name, after the same work); WIMS_ESTORE. */
int web_account_verify(struct web_accounts *a, struct slice name, struct slice pw);

/* The map.  map: 0, WIMS_ENOTFOUND (no such user), WIMS_EINVAL (bad IMPI);
 * mapping twice is not an error.  unmap: 0 or WIMS_ENOTFOUND. */
int web_account_map(struct web_accounts *a, const char *name, const char *impi);
int web_account_unmap(struct web_accounts *a, const char *name, const char *impi);
/* true if impi is mapped to name. */
bool web_account_has_impi(struct web_accounts *a, const char *name, struct slice impi);

/* Every IMPI of name (fn per IMPI, in order), or every user (impi NULL
 * for a user without one) when name is NULL.  A non-zero fn return stops
 * and is returned.  fn runs with the store's lock held: it must not call
 * back into a. */
typedef int (*web_account_fn)(void *arg, const char *name, const char *impi);
int web_account_list(struct web_accounts *a, const char *name, web_account_fn fn, void *arg);

/* The hash string for a password with a given salt and cost (exposed for
 * the tests); 0 or WIMS_E*. */
int web_pwhash_make(const char *pw, size_t pw_len, const unsigned char *salt, size_t salt_len,
		     unsigned log2_n, unsigned r, unsigned p, char *out, size_t outsz);
/* Check pw against a stored hash string in constant time: 0 or WIMS_EAUTH
 * (WIMS_EPARSE for a malformed string). */
int web_pwhash_check(const char *stored, const char *pw, size_t pw_len);

#endif
