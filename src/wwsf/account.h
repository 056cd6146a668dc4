/*
 * account.h - the WWSF's own web accounts and which IMS subscriptions
 * (IMPIs) each may use through the network ISIM (shared/seeds/001, TR
 * 33.871 6.1.1.3: "the network based ISIM maintains the mapping between
 * the user identifier and the IMS subscription").
 *
 * A SQLite file (<data_dir>/wwsf.db by default) with two tables:
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
 * Threads: one struct wwsf_accounts may be shared; a mutex inside
 * serialises the SQLite calls (the KDF runs outside it).  SQLite's own
 * locking covers the CLI writing while the role runs.
 */
#ifndef WIMS_WWSF_ACCOUNT_H
#define WIMS_WWSF_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/slice.h"

/* A web user name: 1..WWSF_USER_MAX-1 characters of [A-Za-z0-9._-] (what
 * appears in logs and JSON needs no escaping). */
#define WWSF_USER_MAX 64
/* Longest password accepted (bytes); longer ones are refused, not cut. */
#define WWSF_PASSWORD_MAX 256
/* scrypt cost: N = 2^15, r = 8, p = 1 -- 32 MiB and tens of ms per try
 * (RFC 7914 section 2's interactive-login figure), which with the
 * per-user failure limit makes guessing slow everywhere. */
#define WWSF_SCRYPT_LOG2_N 15
#define WWSF_SCRYPT_R 8
#define WWSF_SCRYPT_P 1
#define WWSF_PWHASH_MAX 160

struct wwsf_accounts;

/* Open (creating it and its schema) the account store at path.  NULL with
 * a reason in err on failure. */
struct wwsf_accounts *wwsf_accounts_open(const char *path, char *err, size_t errsz);
void wwsf_accounts_close(struct wwsf_accounts *a); /* NULL is fine */

/* true if name is a valid user name (see WWSF_USER_MAX). */
bool wwsf_user_name_ok(struct slice name);

/* Add user name with password (pw_len bytes, any content), or set the
 * password of an existing one (its map is kept).  0, WIMS_EINVAL (bad
 * name, empty or too long password) or WIMS_ESTORE. */
int wwsf_account_set(struct wwsf_accounts *a, const char *name, const char *pw, size_t pw_len);
/* true if the user exists. */
bool wwsf_account_exists(struct wwsf_accounts *a, const char *name);
/* Remove the user and its map.  0 or WIMS_ENOTFOUND. */
int wwsf_account_remove(struct wwsf_accounts *a, const char *name);

/* 0 when name exists and pw is its password; WIMS_EAUTH otherwise (also
 * for an unknown or malformed name, after the same work); WIMS_ESTORE. */
int wwsf_account_verify(struct wwsf_accounts *a, struct slice name, struct slice pw);

/* The map.  map: 0, WIMS_ENOTFOUND (no such user), WIMS_EINVAL (bad IMPI);
 * mapping twice is not an error.  unmap: 0 or WIMS_ENOTFOUND. */
int wwsf_account_map(struct wwsf_accounts *a, const char *name, const char *impi);
int wwsf_account_unmap(struct wwsf_accounts *a, const char *name, const char *impi);
/* true if impi is mapped to name. */
bool wwsf_account_has_impi(struct wwsf_accounts *a, const char *name, struct slice impi);

/* Every IMPI of name (fn per IMPI, in order), or every user (impi NULL
 * for a user without one) when name is NULL.  A non-zero fn return stops
 * and is returned.  fn runs with the store's lock held: it must not call
 * back into a. */
typedef int (*wwsf_account_fn)(void *arg, const char *name, const char *impi);
int wwsf_account_list(struct wwsf_accounts *a, const char *name, wwsf_account_fn fn, void *arg);

/* The hash string for a password with a given salt and cost (exposed for
 * the tests); 0 or WIMS_E*. */
int wwsf_pwhash_make(const char *pw, size_t pw_len, const unsigned char *salt, size_t salt_len,
		     unsigned log2_n, unsigned r, unsigned p, char *out, size_t outsz);
/* Check pw against a stored hash string in constant time: 0 or WIMS_EAUTH
 * (WIMS_EPARSE for a malformed string). */
int wwsf_pwhash_check(const char *stored, const char *pw, size_t pw_len);

#endif
