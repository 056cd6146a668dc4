/*
 * keys_test.c - key rotation: a new key is published at once, signs only
 * after the lead, the old key stays published until its tokens expire,
 * then is deleted; tokens of both verify against the published JWKS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "core/wims.h"
#include "unit.h"
#include "waf/keys.h"

static char dir[64], dbpath[128], keydir[128];

static void signer_rules(void)
{
	struct waf_key_meta k[3] = {
		{.kid = "a", .sign_from = 0, .sign_until = 100, .publish_until = 200},
		{.kid = "b", .sign_from = 100},
		{.kid = "c", .sign_from = 500},
	};
	EXPECT_INT(waf_keys_signer(k, 3, 50), ==, 0);
	EXPECT_INT(waf_keys_signer(k, 3, 100), ==, 1);
	EXPECT_INT(waf_keys_signer(k, 3, 499), ==, 1);
	EXPECT_INT(waf_keys_signer(k, 3, 500), ==, 2);
	EXPECT_INT(waf_keys_signer(k, 1, -5), ==, -1);
	EXPECT_TRUE(waf_key_published(&k[0], 199));
	EXPECT_TRUE(!waf_key_published(&k[0], 200));
	EXPECT_TRUE(waf_key_published(&k[2], 0));
}

static size_t jwks_count(const struct waf_keyring *kr, int64_t now, struct jwt_keyset **ks)
{
	char *j = waf_keyring_jwks(kr, now);
	const char *why;
	*ks = NULL;
	if (!j || jwt_keyset_from_json(j, strlen(j), ks, &why)) {
		free(j);
		return 99;
	}
	free(j);
	return jwt_keyset_count(*ks);
}

static char *sign_at(const struct waf_keyring *kr, int64_t now, char kid_out[JWT_KID_MAX])
{
	struct jwt_claims c;
	memset(&c, 0, sizeof(c));
	snprintf(c.iss, sizeof(c.iss), "https://waf");
	snprintf(c.sub, sizeof(c.sub), "grace");
	snprintf(c.aud, sizeof(c.aud), "sip:ims.example.org");
	snprintf(c.client_id, sizeof(c.client_id), "wwsf");
	snprintf(c.wwsf, sizeof(c.wwsf), "wwsf");
	snprintf(c.impi, sizeof(c.impi), "grace@ims.example.org");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:grace@ims.example.org");
	c.n_impus = 1;
	c.iat = now;
	c.exp = now + 3600;
	const struct jwt_key *k = waf_keyring_signer(kr, now);
	char *tok = NULL;
	if (!k || jwt_sign_access_token(k, &c, &tok))
		return NULL;
	snprintf(kid_out, JWT_KID_MAX, "%s", jwt_key_kid(k));
	return tok;
}

static bool verifies(const char *tok, const struct jwt_keyset *ks, int64_t now)
{
	struct jwt_expect want = {.iss = "https://waf", .aud = "sip:ims.example.org"};
	struct jwt_claims out;
	const char *why;
	return jwt_verify_access_token(ks, tok, strlen(tok), &want, now, &out, &why) == 0;
}

static void rotation_timeline(void)
{
	char err[256];
	struct waf_db *db = waf_db_open(dbpath, err, sizeof(err));
	EXPECT_TRUE(db);
	struct waf_keyring *kr = waf_keyring_new(keydir);
	const int64_t t0 = 1000000, lead = 60, life = 3600;
	/* the first key is made on first use and signs at once */
	EXPECT_INT(waf_keyring_refresh(kr, db, t0, 0, lead, life, err, sizeof(err)), ==, 0);
	struct jwt_keyset *ks;
	EXPECT_INT(jwks_count(kr, t0, &ks), ==, 1);
	char kid1[JWT_KID_MAX], kid[JWT_KID_MAX];
	char *tok1 = sign_at(kr, t0, kid1);
	EXPECT_TRUE(tok1 && verifies(tok1, ks, t0));
	jwt_keyset_free(ks);
	/* the private key file is 0600 */
	char path[300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s.jwk", keydir, kid1);
	EXPECT_INT(stat(path, &st), ==, 0);
	EXPECT_INT(st.st_mode & 0777, ==, 0600);

	/* rotate (as `wims waf rotate-key` does, through the file) */
	char kid2[JWT_KID_MAX];
	const int64_t t1 = t0 + 100;
	EXPECT_INT(waf_keys_rotate(db, keydir, t1, lead, life, kid2, err, sizeof(err)), ==, 0);
	EXPECT_INT(waf_keyring_refresh(kr, db, t1, 0, lead, life, err, sizeof(err)), ==, 0);
	/* published at once, not signing yet */
	EXPECT_INT(jwks_count(kr, t1, &ks), ==, 2);
	jwt_keyset_free(ks);
	char *tok = sign_at(kr, t1 + lead - 1, kid);
	EXPECT_STR(kid, kid1);
	free(tok);
	/* signs after the lead; old tokens still verify */
	tok = sign_at(kr, t1 + lead, kid);
	EXPECT_STR(kid, kid2);
	EXPECT_INT(jwks_count(kr, t1 + lead, &ks), ==, 2);
	EXPECT_TRUE(verifies(tok, ks, t1 + lead));
	EXPECT_TRUE(verifies(tok1, ks, t1 + lead));
	jwt_keyset_free(ks);
	free(tok);
	/* the old key is published until its last token expired */
	const int64_t gone = t1 + lead + life;
	EXPECT_INT(waf_keyring_refresh(kr, db, gone - 1, 0, lead, life, err, sizeof(err)), ==, 0);
	EXPECT_INT(jwks_count(kr, gone - 1, &ks), ==, 2);
	jwt_keyset_free(ks);
	EXPECT_INT(waf_keyring_refresh(kr, db, gone, 0, lead, life, err, sizeof(err)), ==, 0);
	EXPECT_INT(jwks_count(kr, gone, &ks), ==, 1);
	EXPECT_TRUE(!verifies(tok1, ks, t0 + 10));
	jwt_keyset_free(ks);
	EXPECT_INT(stat(path, &st), ==, -1); /* its file is deleted */
	free(tok1);
	waf_keyring_free(kr);
	waf_db_close(db);
}

static void automatic_rotation(void)
{
	char err[256];
	struct waf_db *db = waf_db_open(dbpath, err, sizeof(err));
	struct waf_keyring *kr = waf_keyring_new(keydir);
	const int64_t t = 2000000000;
	EXPECT_INT(waf_keyring_refresh(kr, db, t, 86400, 60, 3600, err, sizeof(err)), ==, 0);
	const struct waf_key_meta *m;
	size_t n = waf_keyring_meta(kr, &m);
	/* the key of the last test is older than a day: a new one came */
	EXPECT_INT(n, ==, 2);
	EXPECT_INT(waf_keyring_refresh(kr, db, t + 10, 86400, 60, 3600, err, sizeof(err)), ==, 0);
	EXPECT_INT(waf_keyring_meta(kr, &m), ==, 2);
	waf_keyring_free(kr);
	waf_db_close(db);
}

static void one_rotation_when_two_find_it_due(void)
{
	char err[256];
	struct waf_db *db = waf_db_open(dbpath, err, sizeof(err));
	struct waf_keyring *a = waf_keyring_new(keydir), *b = waf_keyring_new(keydir);
	const int64_t t = 2000000000 + 86400;
	/* both loaded the schedule before either rotates */
	EXPECT_INT(waf_keyring_refresh(a, db, t - 10, 0, 60, 3600, err, sizeof(err)), ==, 0);
	EXPECT_INT(waf_keyring_refresh(b, db, t - 10, 0, 60, 3600, err, sizeof(err)), ==, 0);
	EXPECT_INT(waf_keyring_refresh(a, db, t, 86400, 60, 3600, err, sizeof(err)), ==, 0);
	EXPECT_INT(waf_keyring_refresh(b, db, t, 86400, 60, 3600, err, sizeof(err)), ==, 0);
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0, made = 0;
	EXPECT_INT(waf_keymeta_list(db, k, WAF_KEYS_MAX, &n), ==, 0);
	for (size_t i = 0; i < n; i++)
		made += k[i].created_at == t;
	EXPECT_INT(made, ==, 1);
	waf_keyring_free(a);
	waf_keyring_free(b);
	waf_db_close(db);
}

static void published_keys_are_bounded(void)
{
	char err[256], kid[JWT_KID_MAX];
	struct waf_db *db = waf_db_open(dbpath, err, sizeof(err));
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0;
	EXPECT_INT(waf_keymeta_list(db, k, WAF_KEYS_MAX, &n), ==, 0);
	int rc = 0;
	for (size_t i = n; i < WAF_KEYS_MAX && !rc; i++)
		rc = waf_keys_rotate(db, keydir, 2100000000, 60, 3600, kid, err, sizeof(err));
	EXPECT_INT(rc, ==, 0);
	/* one more than a verifier keeps: refused, nothing written */
	EXPECT_INT(waf_keys_rotate(db, keydir, 2100000000, 60, 3600, kid, err, sizeof(err)), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(waf_keymeta_list(db, k, WAF_KEYS_MAX, &n), ==, 0);
	EXPECT_INT(n, ==, WAF_KEYS_MAX);
	waf_db_close(db);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-waf-keys-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/waf.db", dir);
	snprintf(keydir, sizeof(keydir), "%s/keys", dir);
	UNIT_RUN(signer_rules);
	UNIT_RUN(rotation_timeline);
	UNIT_RUN(automatic_rotation);
	UNIT_RUN(one_rotation_when_two_find_it_due);
	UNIT_RUN(published_keys_are_bounded);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_MAIN_END();
}
