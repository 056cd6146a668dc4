/*
 * keys.c - signing keys on disk, their schedule, and a worker's keyring
 * (keys.h).
 */
#include "waf/keys.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/jwt.h"
#include "core/log.h"
#include "core/wims.h"

int waf_keys_signer(const struct waf_key_meta *k, size_t n, int64_t now)
{
	int best = -1, fallback = -1;
	for (size_t i = 0; i < n; i++) {
		if (k[i].sign_from > now)
			continue;
		if (fallback < 0 || k[i].sign_from >= k[fallback].sign_from)
			fallback = (int)i;
		if (k[i].sign_until && now >= k[i].sign_until)
			continue;
		if (best < 0 || k[i].sign_from >= k[best].sign_from)
			best = (int)i;
	}
	return best >= 0 ? best : fallback;
}

bool waf_key_published(const struct waf_key_meta *k, int64_t now)
{
	return k->publish_until == 0 || now < k->publish_until;
}

static int key_path(const char *dir, const char *kid, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s.jwk", dir, kid);
	return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
}

static int write_key(const char *dir, const struct jwt_key *key, char *err, size_t errsz)
{
	char path[1024];
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return WIMS_EIO;
	}
	if (key_path(dir, jwt_key_kid(key), path, sizeof(path))) {
		snprintf(err, errsz, "key path too long");
		return WIMS_ETOOBIG;
	}
	char *json = jwt_key_private_json(key);
	if (!json) {
		snprintf(err, errsz, "out of memory");
		return WIMS_ENOMEM;
	}
	size_t len = strlen(json);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || write(fd, json, len) != (ssize_t)len || fsync(fd) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		rc = WIMS_EIO;
	}
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(json, len);
	free(json);
	return rc;
}

static struct jwt_key *read_key(const char *dir, const char *kid)
{
	char path[1024];
	if (key_path(dir, kid, path, sizeof(path)))
		return NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char buf[2048];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct jwt_key *key = NULL;
	const char *why = NULL;
	if (n == 0 || n == sizeof(buf) || jwt_key_from_json(buf, n, &key, &why)) {
		WIMS_ERROR("waf", "signing key %s: %s", path, why ? why : "unreadable");
		key = NULL;
	} else if (strcmp(jwt_key_kid(key), kid) != 0) {
		WIMS_ERROR("waf", "signing key %s: kid does not match its file name", path);
		jwt_key_free(key);
		key = NULL;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return key;
}

int waf_keys_rotate(struct waf_db *db, const char *dir, int64_t now, int64_t lead_s,
		    int64_t token_lifetime_s, char kid_out[JWT_KID_MAX], char *err, size_t errsz)
{
	return waf_keys_rotate_if(db, dir, now, lead_s, token_lifetime_s, -1, kid_out, err, errsz);
}

int waf_keys_rotate_if(struct waf_db *db, const char *dir, int64_t now, int64_t lead_s,
		       int64_t token_lifetime_s, int64_t rotate_after_s, char kid_out[JWT_KID_MAX],
		       char *err, size_t errsz)
{
	if (kid_out)
		kid_out[0] = '\0';
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0;
	int rc;
	if ((rc = waf_db_begin(db)) || (rc = waf_keymeta_list(db, k, WAF_KEYS_MAX, &n))) {
		waf_db_rollback(db);
		snprintf(err, errsz, "waf.db: cannot read the key schedule");
		return rc;
	}
	/* Decided inside the transaction: of several workers or processes
	 * that found a rotation due, one makes the key. */
	if (rotate_after_s >= 0) {
		int64_t newest = INT64_MIN;
		for (size_t i = 0; i < n; i++)
			if (k[i].created_at > newest)
				newest = k[i].created_at;
		if (!(n == 0 || (rotate_after_s > 0 && now - newest >= rotate_after_s))) {
			waf_db_rollback(db);
			return 0;
		}
	}
	if (n >= WAF_KEYS_MAX) {
		/* a verifier keeps at most JWT_KEYSET_MAX keys of a JWKS */
		waf_db_rollback(db);
		snprintf(err, errsz, "%zu keys are published already: wait until the oldest "
				     "expires (token_lifetime after it stopped signing)", n);
		return WIMS_ETOOBIG;
	}
	if (n == 0)
		lead_s = 0; /* the first key signs at once */
	struct jwt_key *key = jwt_key_generate();
	if (!key) {
		waf_db_rollback(db);
		snprintf(err, errsz, "cannot generate a key");
		return WIMS_ENOMEM;
	}
	if ((rc = write_key(dir, key, err, errsz))) {
		waf_db_rollback(db);
		jwt_key_free(key);
		return rc;
	}
	int64_t start = now + lead_s;
	for (size_t i = 0; i < n; i++) {
		/* every key that would still sign at start stops there */
		if (k[i].sign_until == 0 || k[i].sign_until > start) {
			k[i].sign_until = start;
			k[i].publish_until = start + token_lifetime_s;
			if ((rc = waf_keymeta_put(db, &k[i])))
				goto out;
		}
	}
	struct waf_key_meta nk = {.created_at = now, .sign_from = start};
	snprintf(nk.kid, sizeof(nk.kid), "%s", jwt_key_kid(key));
	if ((rc = waf_keymeta_put(db, &nk)) || (rc = waf_keys_bump(db)) ||
	    (rc = waf_db_commit(db))) {
		snprintf(err, errsz, "waf.db: cannot write the key schedule");
		goto out;
	}
	if (kid_out)
		snprintf(kid_out, JWT_KID_MAX, "%s", nk.kid);
out:
	if (rc) {
		waf_db_rollback(db);
		char path[1024];
		if (!key_path(dir, jwt_key_kid(key), path, sizeof(path)))
			unlink(path);
	}
	jwt_key_free(key);
	return rc;
}

struct waf_keyring {
	char dir[1024];
	int64_t version;
	bool loaded;
	struct waf_key_meta meta[WAF_KEYS_MAX];
	struct jwt_key *keys[WAF_KEYS_MAX];
	size_t n;
	struct jwt_keyset *keyset;
};

struct waf_keyring *waf_keyring_new(const char *dir)
{
	struct waf_keyring *kr = calloc(1, sizeof(*kr));
	if (kr)
		snprintf(kr->dir, sizeof(kr->dir), "%s", dir);
	return kr;
}

static void drop_keys(struct waf_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		jwt_key_free(kr->keys[i]);
	kr->n = 0;
	jwt_keyset_free(kr->keyset);
	kr->keyset = NULL;
}

void waf_keyring_free(struct waf_keyring *kr)
{
	if (!kr)
		return;
	drop_keys(kr);
	free(kr);
}

/* Delete what is no longer published (files and rows). */
static int prune(struct waf_keyring *kr, struct waf_db *db, int64_t now)
{
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0;
	int rc = waf_keymeta_list(db, k, WAF_KEYS_MAX, &n);
	bool any = false;
	for (size_t i = 0; !rc && i < n; i++) {
		if (waf_key_published(&k[i], now))
			continue;
		char path[1024];
		if (waf_keymeta_remove(db, k[i].kid) == 0) {
			any = true;
			if (!key_path(kr->dir, k[i].kid, path, sizeof(path)))
				unlink(path);
		}
	}
	if (any)
		waf_keys_bump(db);
	return rc;
}

static int load(struct waf_keyring *kr, struct waf_db *db, char *err, size_t errsz)
{
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0;
	if (waf_keymeta_list(db, k, WAF_KEYS_MAX, &n)) {
		snprintf(err, errsz, "waf.db: cannot read the key schedule");
		return WIMS_ESTORE;
	}
	drop_keys(kr);
	size_t len = 0;
	char *jwks = malloc(WAF_KEYS_MAX * 512 + 16);
	if (!jwks) {
		snprintf(err, errsz, "out of memory");
		return WIMS_ENOMEM;
	}
	len += (size_t)snprintf(jwks, 16, "{\"keys\":[");
	for (size_t i = 0; i < n; i++) {
		struct jwt_key *key = read_key(kr->dir, k[i].kid);
		if (!key)
			continue; /* logged; a key without its file cannot sign */
		char *pub = jwt_key_public_json(key);
		if (pub && strlen(pub) < 500)
			len += (size_t)snprintf(jwks + len, 512, "%s%s", kr->n ? "," : "", pub);
		free(pub);
		kr->meta[kr->n] = k[i];
		kr->keys[kr->n++] = key;
	}
	snprintf(jwks + len, 3, "]}");
	const char *why = NULL;
	int rc = jwt_keyset_from_json(jwks, strlen(jwks), &kr->keyset, &why);
	free(jwks);
	if (rc) {
		snprintf(err, errsz, "keyset: %s", why ? why : wims_strerror(rc));
		return rc;
	}
	return 0;
}

int waf_keyring_refresh(struct waf_keyring *kr, struct waf_db *db, int64_t now,
			int64_t rotate_after_s, int64_t lead_s, int64_t token_lifetime_s,
			char *err, size_t errsz)
{
	int64_t v = 0;
	if (waf_keys_version(db, &v)) {
		snprintf(err, errsz, "waf.db: cannot read the key version");
		return WIMS_ESTORE;
	}
	/* Is anything due (a key to retire, the first key, a rotation)? */
	bool due = !kr->loaded || kr->n == 0;
	int64_t newest = 0;
	for (size_t i = 0; i < kr->n; i++) {
		if (!waf_key_published(&kr->meta[i], now))
			due = true;
		if (kr->meta[i].created_at > newest)
			newest = kr->meta[i].created_at;
	}
	if (rotate_after_s > 0 && kr->n && now - newest >= rotate_after_s)
		due = true;
	if (!due && kr->loaded && v == kr->version)
		return 0;
	int rc;
	if (due) {
		prune(kr, db, now);
		/* Another worker or process may have rotated already: the
		 * schedule in the file decides (waf_keys_rotate_if), not our
		 * copy.  A first key is made whatever rotate_after_s says. */
		rc = waf_keys_rotate_if(db, kr->dir, now, lead_s, token_lifetime_s,
					rotate_after_s > 0 ? rotate_after_s : 0, NULL, err, errsz);
		if (rc)
			return rc;
		if (waf_keys_version(db, &v)) {
			snprintf(err, errsz, "waf.db: cannot read the key version");
			return WIMS_ESTORE;
		}
	}
	if ((rc = load(kr, db, err, errsz)))
		return rc;
	kr->version = v;
	kr->loaded = true;
	return 0;
}

const struct jwt_key *waf_keyring_signer(const struct waf_keyring *kr, int64_t now)
{
	int i = waf_keys_signer(kr->meta, kr->n, now);
	return i >= 0 ? kr->keys[i] : NULL;
}

char *waf_keyring_jwks(const struct waf_keyring *kr, int64_t now)
{
	size_t cap = WAF_KEYS_MAX * 512 + 16, len = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	len += (size_t)snprintf(out, cap, "{\"keys\":[");
	bool first = true;
	for (size_t i = 0; i < kr->n; i++) {
		if (!waf_key_published(&kr->meta[i], now))
			continue;
		char *pub = jwt_key_public_json(kr->keys[i]);
		if (pub && strlen(pub) < 500) {
			len += (size_t)snprintf(out + len, cap - len, "%s%s", first ? "" : ",", pub);
			first = false;
		}
		free(pub);
	}
	snprintf(out + len, cap - len, "]}");
	return out;
}

const struct jwt_keyset *waf_keyring_keyset(const struct waf_keyring *kr)
{
	return kr->keyset;
}

size_t waf_keyring_meta(const struct waf_keyring *kr, const struct waf_key_meta **out)
{
	*out = kr->meta;
	return kr->n;
}
