/*
 * webacct.c - web accounts (WWSF, WAF) and their user -> IMPI map, in
 * SQLite; passwords as scrypt hashes (see webacct.h for the format).
 *
 * Every statement is prepared per call: accounts change at human speed
 * and a login already spends tens of milliseconds in the KDF, so caching
 * statements would buy nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "core/b64url.h"
#include "core/fs.h"
#include "core/limits.h"
#include "core/wims.h"
#include "store/webacct.h"

#define SALT_LEN 16
#define HASH_LEN 32
/* Bounds on the parameters read back from a stored hash: a tampered or
 * corrupt row must not make one login allocate gigabytes. */
#define LOG2_N_MIN 10
#define LOG2_N_MAX 20
#define R_MAX 32
#define P_MAX 16

struct web_accounts {
	sqlite3 *db;
	pthread_mutex_t lock;
	/* What an unknown user's password is checked against, so that a
	 * wrong name costs what a wrong password costs. */
	char dummy[WEB_PWHASH_MAX];
};

bool web_user_name_ok(struct slice name)
{
	if (name.len == 0 || name.len >= WEB_USER_MAX)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		char c = name.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* An IMPI we store and log: printable ASCII, no space, quote or backslash
 * (an NAI, TS 23.003 13.3, needs none of them). */
static bool impi_ok(const char *impi)
{
	size_t n = strlen(impi);
	if (n == 0 || n >= WIMS_IMPI_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)impi[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static int scrypt_derive(const char *pw, size_t pw_len, const unsigned char *salt,
			 size_t salt_len, unsigned log2_n, unsigned r, unsigned p,
			 unsigned char out[HASH_LEN])
{
	uint64_t n = UINT64_C(1) << log2_n;
	uint32_t r32 = r, p32 = p;
	/* 128 * N * r for V plus the B and XY buffers: twice that is room */
	uint64_t maxmem = UINT64_C(256) * n * r + UINT64_C(1) * 1024 * 1024 * p;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return WIMS_ENOMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						  (void *)(pw_len ? pw : ""), pw_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(ctx, out, HASH_LEN, params);
	EVP_KDF_CTX_free(ctx);
	return ok == 1 ? 0 : WIMS_EIO;
}

int web_pwhash_make(const char *pw, size_t pw_len, const unsigned char *salt, size_t salt_len,
		     unsigned log2_n, unsigned r, unsigned p, char *out, size_t outsz)
{
	if (salt_len != SALT_LEN || log2_n < LOG2_N_MIN || log2_n > LOG2_N_MAX || r < 1 ||
	    r > R_MAX || p < 1 || p > P_MAX)
		return WIMS_EINVAL;
	unsigned char hash[HASH_LEN];
	int rc = scrypt_derive(pw, pw_len, salt, salt_len, log2_n, r, p, hash);
	if (rc)
		return rc;
	char salt64[B64URL_LEN(SALT_LEN) + 1], hash64[B64URL_LEN(HASH_LEN) + 1];
	salt64[b64url_encode(salt, SALT_LEN, salt64)] = '\0';
	hash64[b64url_encode(hash, HASH_LEN, hash64)] = '\0';
	OPENSSL_cleanse(hash, sizeof(hash));
	int n = snprintf(out, outsz, "scrypt$%u$%u$%u$%s$%s", log2_n, r, p, salt64, hash64);
	OPENSSL_cleanse(hash64, sizeof(hash64));
	return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
}

/* A decimal field of the hash string, in [lo, hi], ending at '$'. */
static const char *parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9' && p - s < 3)
		v = v * 10 + (unsigned)(*p++ - '0');
	if (p == s || *p != '$' || v < lo || v > hi)
		return NULL;
	*out = v;
	return p + 1;
}

int web_pwhash_check(const char *stored, const char *pw, size_t pw_len)
{
	unsigned log2_n, r, p;
	const char *s = stored;
	if (strncmp(s, "scrypt$", 7) != 0)
		return WIMS_EPARSE;
	s += 7;
	if (!(s = parse_uint(s, LOG2_N_MIN, LOG2_N_MAX, &log2_n)) ||
	    !(s = parse_uint(s, 1, R_MAX, &r)) || !(s = parse_uint(s, 1, P_MAX, &p)))
		return WIMS_EPARSE;
	const char *dollar = strchr(s, '$');
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	if (!dollar || b64url_decode_exact(s, (size_t)(dollar - s), salt, SALT_LEN) ||
	    b64url_decode_exact(dollar + 1, strlen(dollar + 1), want, HASH_LEN))
		return WIMS_EPARSE;
	int rc = scrypt_derive(pw, pw_len, salt, SALT_LEN, log2_n, r, p, got);
	if (rc == 0)
		rc = CRYPTO_memcmp(got, want, HASH_LEN) == 0 ? 0 : WIMS_EAUTH;
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

static const char schema[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS account("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  pwhash TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS account_impi("
	"  name TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE,"
	"  impi TEXT NOT NULL,"
	"  PRIMARY KEY(name, impi));";

struct web_accounts *web_accounts_open(const char *path, char *err, size_t errsz)
{
	struct web_accounts *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	if (fs_make_parent_dirs(path, 0700)) {
		snprintf(err, errsz, "%s: cannot create its directory", path);
		goto fail;
	}
	/* the file holds password hashes: nobody else reads it (SQLite gives
	 * its -wal and -shm files the same mode) */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	int rc = sqlite3_open_v2(path, &a->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path,
			 a->db ? sqlite3_errmsg(a->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(a->db, WIMS_STORE_BUSY_TIMEOUT_MS);
	char *msg = NULL;
	if (sqlite3_exec(a->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg : "cannot create the schema");
		sqlite3_free(msg);
		goto fail;
	}
	unsigned char salt[SALT_LEN];
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    web_pwhash_make("dummy", 5, salt, sizeof(salt), WEB_SCRYPT_LOG2_N, WEB_SCRYPT_R,
			     WEB_SCRYPT_P, a->dummy, sizeof(a->dummy))) {
		snprintf(err, errsz, "scrypt is not available in this OpenSSL");
		goto fail;
	}
	return a;
fail:
	web_accounts_close(a);
	return NULL;
}

void web_accounts_close(struct web_accounts *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Run one statement with text parameters; returns the sqlite3_step result
 * of its first step and, for a SELECT, copies column 0 of the first row to
 * out.  Locks a. */
static int run(struct web_accounts *a, const char *sql, const char *p1, const char *p2,
	       char *out, size_t outsz, int *changes)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (p1)
			sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
		if (p2)
			sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && out) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(out, outsz, "%s", t ? (const char *)t : "");
		}
		if (changes)
			*changes = sqlite3_changes(a->db);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int web_account_set(struct web_accounts *a, const char *name, const char *pw, size_t pw_len)
{
	if (!web_user_name_ok(slice_from_cstr(name)) || pw_len == 0 ||
	    pw_len > WEB_PASSWORD_MAX)
		return WIMS_EINVAL;
	unsigned char salt[SALT_LEN];
	char hash[WEB_PWHASH_MAX];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return WIMS_EIO;
	int rc = web_pwhash_make(pw, pw_len, salt, sizeof(salt), WEB_SCRYPT_LOG2_N,
				  WEB_SCRYPT_R, WEB_SCRYPT_P, hash, sizeof(hash));
	if (rc)
		return rc;
	rc = run(a,
		 "INSERT INTO account(name, pwhash) VALUES(?1, ?2) "
		 "ON CONFLICT(name) DO UPDATE SET pwhash = excluded.pwhash",
		 name, hash, NULL, 0, NULL);
	return rc == SQLITE_DONE ? 0 : WIMS_ESTORE;
}

bool web_account_exists(struct web_accounts *a, const char *name)
{
	return run(a, "SELECT 1 FROM account WHERE name = ?1", name, NULL, NULL, 0, NULL) ==
	       SQLITE_ROW;
}

int web_account_remove(struct web_accounts *a, const char *name)
{
	int changes = 0;
	int rc = run(a, "DELETE FROM account WHERE name = ?1", name, NULL, NULL, 0, &changes);
	if (rc != SQLITE_DONE)
		return WIMS_ESTORE;
	return changes ? 0 : WIMS_ENOTFOUND;
}

int web_account_verify(struct web_accounts *a, struct slice name, struct slice pw)
{
	char user[WEB_USER_MAX], stored[WEB_PWHASH_MAX] = "";
	bool known = false;
	if (web_user_name_ok(name) && pw.len <= WEB_PASSWORD_MAX) {
		memcpy(user, name.p, name.len);
		user[name.len] = '\0';
		int rc = run(a, "SELECT pwhash FROM account WHERE name = ?1", user, NULL, stored,
			     sizeof(stored), NULL);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return WIMS_ESTORE;
		known = rc == SQLITE_ROW;
	}
	/* the same KDF work whether or not the user exists */
	size_t len = pw.len <= WEB_PASSWORD_MAX ? pw.len : WEB_PASSWORD_MAX;
	int rc = web_pwhash_check(known ? stored : a->dummy, pw.p, len);
	OPENSSL_cleanse(stored, sizeof(stored));
	if (!known || pw.len == 0 || pw.len > WEB_PASSWORD_MAX)
		return WIMS_EAUTH;
	return rc == 0 ? 0 : WIMS_EAUTH;
}

int web_account_map(struct web_accounts *a, const char *name, const char *impi)
{
	if (!impi_ok(impi))
		return WIMS_EINVAL;
	if (!web_account_exists(a, name))
		return WIMS_ENOTFOUND;
	int rc = run(a, "INSERT OR IGNORE INTO account_impi(name, impi) VALUES(?1, ?2)", name,
		     impi, NULL, 0, NULL);
	return rc == SQLITE_DONE ? 0 : WIMS_ESTORE;
}

int web_account_unmap(struct web_accounts *a, const char *name, const char *impi)
{
	int changes = 0;
	int rc = run(a, "DELETE FROM account_impi WHERE name = ?1 AND impi = ?2", name, impi,
		     NULL, 0, &changes);
	if (rc != SQLITE_DONE)
		return WIMS_ESTORE;
	return changes ? 0 : WIMS_ENOTFOUND;
}

bool web_account_has_impi(struct web_accounts *a, const char *name, struct slice impi)
{
	char buf[WIMS_IMPI_MAX];
	if (impi.len == 0 || impi.len >= sizeof(buf) || memchr(impi.p, '\0', impi.len))
		return false;
	memcpy(buf, impi.p, impi.len);
	buf[impi.len] = '\0';
	return run(a, "SELECT 1 FROM account_impi WHERE name = ?1 AND impi = ?2", name, buf,
		   NULL, 0, NULL) == SQLITE_ROW;
}

int web_account_list(struct web_accounts *a, const char *name, web_account_fn fn, void *arg)
{
	const char *sql = name ? "SELECT name, impi FROM account_impi WHERE name = ?1 "
				 "ORDER BY impi"
			       : "SELECT a.name, m.impi FROM account a LEFT JOIN account_impi m "
				 "ON m.name = a.name ORDER BY a.name, m.impi";
	sqlite3_stmt *st = NULL;
	int ret = 0;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (name)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *n = (const char *)sqlite3_column_text(st, 0);
			const char *i = (const char *)sqlite3_column_text(st, 1);
			if ((ret = fn(arg, n ? n : "", i)) != 0)
				break;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->lock);
	if (ret)
		return ret;
	return rc == SQLITE_DONE ? 0 : WIMS_ESTORE;
}
