/*
 * registry.c - waf.db on SQLite (registry.h).
 *
 * Statements are prepared per call: the WAF answers a handful of requests
 * per sign-in, not thousands per second, and the code stays short.
 */
#include "waf/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "core/log.h"
#include "core/wims.h"

struct waf_db {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS client(client_id TEXT PRIMARY KEY, kind INTEGER NOT NULL,"
	" domain TEXT NOT NULL, redirect_uris TEXT NOT NULL, grants INTEGER NOT NULL,"
	" secret_sha256 BLOB, cert_sha256 BLOB, blocked INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS client_cert ON client(cert_sha256);"
	"CREATE TABLE IF NOT EXISTS code(hash BLOB PRIMARY KEY, client_id TEXT NOT NULL,"
	" redirect_uri TEXT NOT NULL, challenge TEXT NOT NULL, web_id TEXT NOT NULL,"
	" impi TEXT NOT NULL, impus TEXT NOT NULL, scope TEXT NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS token(hash BLOB PRIMARY KEY, client_id TEXT NOT NULL,"
	" claims TEXT NOT NULL, exp INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS signing_key(kid TEXT PRIMARY KEY, created_at INTEGER,"
	" sign_from INTEGER, sign_until INTEGER, publish_until INTEGER);"
	"CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER);";

struct waf_db *waf_db_open(const char *path, char *err, size_t errsz)
{
	struct waf_db *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(path, &d->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(d->db, WIMS_STORE_BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(d->db, schema, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : "cannot open");
		waf_db_close(d);
		return NULL;
	}
	return d;
}

void waf_db_close(struct waf_db *d)
{
	if (!d)
		return;
	sqlite3_close(d->db);
	free(d);
}

static sqlite3_stmt *prep(struct waf_db *d, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(d->db, sql, -1, &s, NULL) != SQLITE_OK) {
		WIMS_ERROR("waf", "waf.db: %s", sqlite3_errmsg(d->db));
		return NULL;
	}
	return s;
}

/* Step a write statement to the end: 0 or WIMS_ESTORE. */
static int run(struct waf_db *d, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		WIMS_ERROR("waf", "waf.db: %s", sqlite3_errmsg(d->db));
		return WIMS_ESTORE;
	}
	return 0;
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

int waf_db_begin(struct waf_db *d)
{
	return sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0
										: WIMS_ESTORE;
}

int waf_db_commit(struct waf_db *d)
{
	return sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : WIMS_ESTORE;
}

void waf_db_rollback(struct waf_db *d)
{
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- clients --- */

bool waf_client_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= WIMS_WWSF_ID_MAX)
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:_-") ==
	       n;
}

int waf_grants_parse(const char *list, unsigned *out)
{
	unsigned g = 0;
	const char *p = list;
	while (*p) {
		size_t skip = strspn(p, ", ");
		p += skip;
		size_t n = strcspn(p, ", ");
		if (n == 0)
			break;
		if ((n == 4 && strncmp(p, "code", 4) == 0) ||
		    (n == 18 && strncmp(p, "authorization_code", 18) == 0))
			g |= WAF_GRANT_CODE;
		else if (n == 18 && strncmp(p, "client_credentials", 18) == 0)
			g |= WAF_GRANT_CLIENT_CREDENTIALS;
		else if ((n == 8 && strncmp(p, "implicit", 8) == 0) ||
			 (n == 5 && strncmp(p, "token", 5) == 0))
			g |= WAF_GRANT_IMPLICIT;
		else
			return WIMS_EINVAL;
		p += n;
	}
	*out = g;
	return 0;
}

void waf_grants_format(unsigned g, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s%s%s%s%s", g & WAF_GRANT_CODE ? "authorization_code" : "",
		 (g & WAF_GRANT_CODE) && (g & ~WAF_GRANT_CODE) ? "," : "",
		 g & WAF_GRANT_CLIENT_CREDENTIALS ? "client_credentials" : "",
		 (g & WAF_GRANT_IMPLICIT) && (g & ~WAF_GRANT_IMPLICIT & 3) ? "," : "",
		 g & WAF_GRANT_IMPLICIT ? "implicit" : "");
}

int waf_client_put(struct waf_db *d, const struct waf_client *c)
{
	if (!waf_client_id_ok(c->client_id) ||
	    (strcmp(c->domain, "operator") != 0 && strcmp(c->domain, "third-party") != 0))
		return WIMS_EINVAL;
	sqlite3_stmt *s = prep(d, "INSERT OR REPLACE INTO client(client_id, kind, domain,"
				  " redirect_uris, grants, secret_sha256, cert_sha256, blocked,"
				  " created_at) VALUES(?,?,?,?,?,?,?,?,?)");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_text(s, 1, c->client_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, c->kind);
	sqlite3_bind_text(s, 3, c->domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, c->redirect_uris, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 5, (int)c->grants);
	if (c->has_secret)
		sqlite3_bind_blob(s, 6, c->secret_sha256, 32, SQLITE_TRANSIENT);
	if (c->has_cert)
		sqlite3_bind_blob(s, 7, c->cert_sha256, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 8, c->blocked);
	sqlite3_bind_int64(s, 9, c->created_at);
	return run(d, s);
}

#define CLIENT_COLS                                                                       \
	"client_id, kind, domain, redirect_uris, grants, secret_sha256, cert_sha256, "    \
	"blocked, created_at"

static void client_row(sqlite3_stmt *s, struct waf_client *out)
{
	memset(out, 0, sizeof(*out));
	col_text(s, 0, out->client_id, sizeof(out->client_id));
	out->kind = sqlite3_column_int(s, 1);
	col_text(s, 2, out->domain, sizeof(out->domain));
	col_text(s, 3, out->redirect_uris, sizeof(out->redirect_uris));
	out->grants = (unsigned)sqlite3_column_int(s, 4);
	if (sqlite3_column_bytes(s, 5) == 32) {
		memcpy(out->secret_sha256, sqlite3_column_blob(s, 5), 32);
		out->has_secret = true;
	}
	if (sqlite3_column_bytes(s, 6) == 32) {
		memcpy(out->cert_sha256, sqlite3_column_blob(s, 6), 32);
		out->has_cert = true;
	}
	out->blocked = sqlite3_column_int(s, 7) != 0;
	out->created_at = sqlite3_column_int64(s, 8);
}

static int one_client(struct waf_db *d, sqlite3_stmt *s, struct waf_client *out)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		client_row(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return WIMS_ENOTFOUND;
	WIMS_ERROR("waf", "waf.db: %s", sqlite3_errmsg(d->db));
	return WIMS_ESTORE;
}

int waf_client_get(struct waf_db *d, const char *id, struct waf_client *out)
{
	if (!waf_client_id_ok(id))
		return WIMS_ENOTFOUND;
	sqlite3_stmt *s = prep(d, "SELECT " CLIENT_COLS " FROM client WHERE client_id = ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	return one_client(d, s, out);
}

int waf_client_by_cert(struct waf_db *d, const uint8_t fp[32], struct waf_client *out)
{
	sqlite3_stmt *s = prep(d, "SELECT " CLIENT_COLS " FROM client WHERE cert_sha256 = ?"
				  " ORDER BY client_id LIMIT 1");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_blob(s, 1, fp, 32, SQLITE_TRANSIENT);
	return one_client(d, s, out);
}

static int changed(struct waf_db *d, sqlite3_stmt *s)
{
	int rc = run(d, s);
	if (rc)
		return rc;
	return sqlite3_changes(d->db) > 0 ? 0 : WIMS_ENOTFOUND;
}

int waf_client_set_blocked(struct waf_db *d, const char *id, bool blocked)
{
	sqlite3_stmt *s = prep(d, "UPDATE client SET blocked = ? WHERE client_id = ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int(s, 1, blocked);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
	return changed(d, s);
}

int waf_client_remove(struct waf_db *d, const char *id)
{
	sqlite3_stmt *s = prep(d, "DELETE FROM client WHERE client_id = ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	return changed(d, s);
}

int waf_client_list(struct waf_db *d, waf_client_fn fn, void *arg)
{
	sqlite3_stmt *s = prep(d, "SELECT " CLIENT_COLS " FROM client ORDER BY client_id");
	if (!s)
		return WIMS_ESTORE;
	int rc, ret = 0;
	struct waf_client c;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		client_row(s, &c);
		if ((ret = fn(arg, &c)))
			break;
	}
	sqlite3_finalize(s);
	if (!ret && rc != SQLITE_DONE)
		return WIMS_ESTORE;
	return ret;
}

bool waf_client_redirect_ok(const struct waf_client *c, const char *uri)
{
	size_t n = strlen(uri);
	if (n == 0)
		return false;
	const char *p = c->redirect_uris;
	while (*p) {
		p += strspn(p, " ");
		size_t l = strcspn(p, " ");
		if (l == n && memcmp(p, uri, n) == 0)
			return true;
		p += l;
	}
	return false;
}

int waf_client_secret_check(const struct waf_client *c, const char *secret, size_t len)
{
	uint8_t md[32];
	unsigned int n = 0;
	if (!c->has_secret || EVP_Digest(secret, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return WIMS_EAUTH;
	return CRYPTO_memcmp(md, c->secret_sha256, 32) == 0 ? 0 : WIMS_EAUTH;
}

/* --- codes --- */

static void impus_join(char (*impus)[WIMS_IMPU_MAX], size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + o, outsz - o, "%s%s", i ? " " : "", impus[i]);
		if (w < 0 || (size_t)w >= outsz - o)
			break;
		o += (size_t)w;
	}
}

static size_t impus_split(const char *in, char (*impus)[WIMS_IMPU_MAX])
{
	size_t n = 0;
	while (*in && n < WIMS_IRS_MAX_IMPUS) {
		in += strspn(in, " ");
		size_t l = strcspn(in, " ");
		if (!l)
			break;
		if (l < WIMS_IMPU_MAX)
			snprintf(impus[n++], WIMS_IMPU_MAX, "%.*s", (int)l, in);
		in += l;
	}
	return n;
}

int waf_code_put(struct waf_db *d, const uint8_t hash[32], const struct waf_code *c)
{
	char impus[WIMS_IRS_MAX_IMPUS * WIMS_IMPU_MAX];
	impus_join((char(*)[WIMS_IMPU_MAX])c->impus, c->n_impus, impus, sizeof(impus));
	sqlite3_stmt *s = prep(d, "INSERT INTO code(hash, client_id, redirect_uri, challenge,"
				  " web_id, impi, impus, scope, expires) VALUES(?,?,?,?,?,?,?,?,?)");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, c->client_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, c->redirect_uri, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, c->challenge, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, c->web_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, c->impi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 7, impus, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 8, c->scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 9, c->expires);
	return run(d, s);
}

int waf_code_take(struct waf_db *d, const uint8_t hash[32], int64_t now, struct waf_code *out)
{
	memset(out, 0, sizeof(*out));
	/* The DELETE decides who took it: of two concurrent requests with
	 * one code, only one sees a row. */
	sqlite3_stmt *s = prep(d, "DELETE FROM code WHERE hash = ? RETURNING client_id,"
				  " redirect_uri, challenge, web_id, impi, impus, scope, expires");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, out->client_id, sizeof(out->client_id));
		col_text(s, 1, out->redirect_uri, sizeof(out->redirect_uri));
		col_text(s, 2, out->challenge, sizeof(out->challenge));
		col_text(s, 3, out->web_id, sizeof(out->web_id));
		col_text(s, 4, out->impi, sizeof(out->impi));
		const unsigned char *t = sqlite3_column_text(s, 5);
		out->n_impus = impus_split(t ? (const char *)t : "", out->impus);
		col_text(s, 6, out->scope, sizeof(out->scope));
		out->expires = sqlite3_column_int64(s, 7);
		while (sqlite3_step(s) == SQLITE_ROW)
			;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return out->expires > now ? 0 : WIMS_ENOTFOUND;
	if (rc == SQLITE_DONE)
		return WIMS_ENOTFOUND;
	WIMS_ERROR("waf", "waf.db: %s", sqlite3_errmsg(d->db));
	return WIMS_ESTORE;
}

int waf_db_expire(struct waf_db *d, int64_t now)
{
	sqlite3_stmt *s = prep(d, "DELETE FROM code WHERE expires <= ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	int rc = run(d, s);
	if (rc)
		return rc;
	s = prep(d, "DELETE FROM token WHERE exp <= ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	return run(d, s);
}

/* --- opaque tokens --- */

int waf_token_put(struct waf_db *d, const uint8_t hash[32], const struct jwt_claims *c)
{
	json_t *impus = json_array();
	for (size_t i = 0; impus && i < c->n_impus; i++)
		json_array_append_new(impus, json_string(c->impus[i]));
	json_t *o = impus ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I}",
				      "iss", c->iss, "sub", c->sub, "aud", c->aud, "client_id",
				      c->client_id, "scope", c->scope, "jti", c->jti, "wwsf",
				      c->wwsf, "impi", c->impi, "impus", impus, "exp",
				      (json_int_t)c->exp, "iat", (json_int_t)c->iat)
			  : NULL;
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return WIMS_ENOMEM;
	sqlite3_stmt *s = prep(d, "INSERT INTO token(hash, client_id, claims, exp) VALUES(?,?,?,?)");
	if (!s) {
		free(text);
		return WIMS_ESTORE;
	}
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, c->client_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, c->exp);
	free(text);
	return run(d, s);
}

static void jstr(json_t *o, const char *k, char *out, size_t outsz)
{
	const char *v = json_string_value(json_object_get(o, k));
	snprintf(out, outsz, "%s", v ? v : "");
}

int waf_token_get(struct waf_db *d, const uint8_t hash[32], struct jwt_claims *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s = prep(d, "SELECT claims FROM token WHERE hash = ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	json_t *o = NULL;
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		o = t ? json_loads((const char *)t, 0, NULL) : NULL;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return WIMS_ENOTFOUND;
	if (!o)
		return WIMS_ESTORE;
	jstr(o, "iss", out->iss, sizeof(out->iss));
	jstr(o, "sub", out->sub, sizeof(out->sub));
	jstr(o, "aud", out->aud, sizeof(out->aud));
	jstr(o, "client_id", out->client_id, sizeof(out->client_id));
	jstr(o, "scope", out->scope, sizeof(out->scope));
	jstr(o, "jti", out->jti, sizeof(out->jti));
	jstr(o, "wwsf", out->wwsf, sizeof(out->wwsf));
	jstr(o, "impi", out->impi, sizeof(out->impi));
	json_t *a = json_object_get(o, "impus");
	for (size_t i = 0; i < json_array_size(a) && out->n_impus < WIMS_IRS_MAX_IMPUS; i++) {
		const char *v = json_string_value(json_array_get(a, i));
		if (v)
			snprintf(out->impus[out->n_impus++], WIMS_IMPU_MAX, "%s", v);
	}
	out->exp = json_integer_value(json_object_get(o, "exp"));
	out->iat = json_integer_value(json_object_get(o, "iat"));
	json_decref(o);
	return 0;
}

/* --- key schedule --- */

int waf_keymeta_put(struct waf_db *d, const struct waf_key_meta *k)
{
	sqlite3_stmt *s = prep(d, "INSERT OR REPLACE INTO signing_key(kid, created_at, sign_from,"
				  " sign_until, publish_until) VALUES(?,?,?,?,?)");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_text(s, 1, k->kid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, k->created_at);
	sqlite3_bind_int64(s, 3, k->sign_from);
	sqlite3_bind_int64(s, 4, k->sign_until);
	sqlite3_bind_int64(s, 5, k->publish_until);
	return run(d, s);
}

int waf_keymeta_remove(struct waf_db *d, const char *kid)
{
	sqlite3_stmt *s = prep(d, "DELETE FROM signing_key WHERE kid = ?");
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_text(s, 1, kid, -1, SQLITE_TRANSIENT);
	return changed(d, s);
}

int waf_keymeta_list(struct waf_db *d, struct waf_key_meta *out, size_t max, size_t *n)
{
	*n = 0;
	sqlite3_stmt *s = prep(d, "SELECT kid, created_at, sign_from, sign_until, publish_until"
				  " FROM signing_key ORDER BY sign_from, created_at, kid");
	if (!s)
		return WIMS_ESTORE;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct waf_key_meta *k = &out[(*n)++];
		col_text(s, 0, k->kid, sizeof(k->kid));
		k->created_at = sqlite3_column_int64(s, 1);
		k->sign_from = sqlite3_column_int64(s, 2);
		k->sign_until = sqlite3_column_int64(s, 3);
		k->publish_until = sqlite3_column_int64(s, 4);
	}
	sqlite3_finalize(s);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : WIMS_ESTORE;
}

int waf_keys_version(struct waf_db *d, int64_t *version)
{
	*version = 0;
	sqlite3_stmt *s = prep(d, "SELECT value FROM meta WHERE name = 'key_version'");
	if (!s)
		return WIMS_ESTORE;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : WIMS_ESTORE;
}

int waf_keys_bump(struct waf_db *d)
{
	sqlite3_stmt *s = prep(d, "INSERT INTO meta(name, value) VALUES('key_version', 1)"
				  " ON CONFLICT(name) DO UPDATE SET value = value + 1");
	return s ? run(d, s) : WIMS_ESTORE;
}
