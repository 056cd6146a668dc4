/*
 * registry_test.c - waf.db: clients (exact redirect URIs, secrets by
 * SHA-256, certificate lookup, block flag), codes (single use, expiry,
 * what they are bound to), opaque tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/wims.h"
#include "unit.h"
#include "waf/registry.h"

static char dir[64], path[128];

static struct waf_db *open_db(void)
{
	char err[256];
	struct waf_db *db = waf_db_open(path, err, sizeof(err));
	if (!db)
		fprintf(stderr, "%s\n", err);
	return db;
}

static void client(struct waf_client *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->client_id, sizeof(c->client_id), "%s", id);
	snprintf(c->domain, sizeof(c->domain), "operator");
	snprintf(c->redirect_uris, sizeof(c->redirect_uris),
		 "https://127.0.0.1:8443/oauth/callback https://w.example/cb");
	c->grants = WAF_GRANT_CODE | WAF_GRANT_CLIENT_CREDENTIALS;
	unsigned int n;
	EVP_Digest("s3cret", 6, c->secret_sha256, &n, EVP_sha256(), NULL);
	c->has_secret = true;
	memset(c->cert_sha256, 0xab, 32);
	c->has_cert = true;
}

static void client_roundtrip_and_lookup(void)
{
	struct waf_db *db = open_db();
	EXPECT_TRUE(db);
	struct waf_client c, got;
	client(&c, "wwsf.ims.example.org");
	EXPECT_INT(waf_client_put(db, &c), ==, 0);
	EXPECT_INT(waf_client_get(db, "wwsf.ims.example.org", &got), ==, 0);
	EXPECT_STR(got.redirect_uris, c.redirect_uris);
	EXPECT_INT(got.grants, ==, c.grants);
	EXPECT_TRUE(got.has_cert && got.has_secret && !got.blocked);
	uint8_t fp[32];
	memset(fp, 0xab, 32);
	EXPECT_INT(waf_client_by_cert(db, fp, &got), ==, 0);
	EXPECT_STR(got.client_id, "wwsf.ims.example.org");
	fp[31] ^= 1;
	EXPECT_INT(waf_client_by_cert(db, fp, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(waf_client_get(db, "other", &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(waf_client_get(db, "bad id'", &got), ==, WIMS_ENOTFOUND);
	c.client_id[0] = '<';
	EXPECT_INT(waf_client_put(db, &c), ==, WIMS_EINVAL);
	waf_db_close(db);
}

static void redirect_uri_exact_match(void)
{
	struct waf_client c;
	client(&c, "x");
	EXPECT_TRUE(waf_client_redirect_ok(&c, "https://127.0.0.1:8443/oauth/callback"));
	EXPECT_TRUE(waf_client_redirect_ok(&c, "https://w.example/cb"));
	EXPECT_TRUE(!waf_client_redirect_ok(&c, "https://127.0.0.1:8443/oauth/callback/"));
	EXPECT_TRUE(!waf_client_redirect_ok(&c, "https://127.0.0.1:8443/oauth/callback?x=1"));
	EXPECT_TRUE(!waf_client_redirect_ok(&c, "https://127.0.0.1:8443/oauth/"));
	EXPECT_TRUE(!waf_client_redirect_ok(&c, "https://w.example/cb https://127.0.0.1:8443/oauth/callback"));
	EXPECT_TRUE(!waf_client_redirect_ok(&c, ""));
}

static void secret_by_hash(void)
{
	struct waf_client c;
	client(&c, "x");
	EXPECT_INT(waf_client_secret_check(&c, "s3cret", 6), ==, 0);
	EXPECT_INT(waf_client_secret_check(&c, "s3creT", 6), ==, WIMS_EAUTH);
	EXPECT_INT(waf_client_secret_check(&c, "s3cret", 5), ==, WIMS_EAUTH);
	c.has_secret = false;
	EXPECT_INT(waf_client_secret_check(&c, "s3cret", 6), ==, WIMS_EAUTH);
}

static void block_flag(void)
{
	struct waf_db *db = open_db();
	struct waf_client c;
	EXPECT_INT(waf_client_set_blocked(db, "wwsf.ims.example.org", true), ==, 0);
	EXPECT_INT(waf_client_get(db, "wwsf.ims.example.org", &c), ==, 0);
	EXPECT_TRUE(c.blocked);
	EXPECT_INT(waf_client_set_blocked(db, "wwsf.ims.example.org", false), ==, 0);
	EXPECT_INT(waf_client_get(db, "wwsf.ims.example.org", &c), ==, 0);
	EXPECT_TRUE(!c.blocked);
	EXPECT_INT(waf_client_set_blocked(db, "nobody", true), ==, WIMS_ENOTFOUND);
	waf_db_close(db);
}

static void grants_parse(void)
{
	unsigned g;
	EXPECT_INT(waf_grants_parse("code,client_credentials", &g), ==, 0);
	EXPECT_INT(g, ==, WAF_GRANT_CODE | WAF_GRANT_CLIENT_CREDENTIALS);
	EXPECT_INT(waf_grants_parse("authorization_code implicit", &g), ==, 0);
	EXPECT_INT(g, ==, WAF_GRANT_CODE | WAF_GRANT_IMPLICIT);
	EXPECT_INT(waf_grants_parse("password", &g), ==, WIMS_EINVAL);
	char out[80];
	waf_grants_format(WAF_GRANT_CODE | WAF_GRANT_CLIENT_CREDENTIALS, out, sizeof(out));
	EXPECT_STR(out, "authorization_code,client_credentials");
}

static void a_code(struct waf_code *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->client_id, sizeof(c->client_id), "wwsf.ims.example.org");
	snprintf(c->redirect_uri, sizeof(c->redirect_uri), "https://127.0.0.1:8443/oauth/callback");
	snprintf(c->challenge, sizeof(c->challenge), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	snprintf(c->web_id, sizeof(c->web_id), "grace");
	snprintf(c->impi, sizeof(c->impi), "grace@ims.example.org");
	snprintf(c->impus[0], WIMS_IMPU_MAX, "sip:grace@ims.example.org");
	snprintf(c->impus[1], WIMS_IMPU_MAX, "tel:+15550000007");
	c->n_impus = 2;
	c->expires = 1000;
}

static void code_single_use_and_bound(void)
{
	struct waf_db *db = open_db();
	struct waf_code c, got;
	a_code(&c);
	uint8_t h[32];
	memset(h, 7, 32);
	EXPECT_INT(waf_code_put(db, h, &c), ==, 0);
	/* the same code twice cannot be stored */
	EXPECT_INT(waf_code_put(db, h, &c), ==, WIMS_ESTORE);
	EXPECT_INT(waf_code_take(db, h, 999, &got), ==, 0);
	/* bound to client, redirect_uri, PKCE challenge and identity */
	EXPECT_STR(got.client_id, "wwsf.ims.example.org");
	EXPECT_STR(got.redirect_uri, "https://127.0.0.1:8443/oauth/callback");
	EXPECT_STR(got.challenge, c.challenge);
	EXPECT_STR(got.impi, "grace@ims.example.org");
	EXPECT_INT(got.n_impus, ==, 2);
	EXPECT_STR(got.impus[1], "tel:+15550000007");
	/* single use */
	EXPECT_INT(waf_code_take(db, h, 999, &got), ==, WIMS_ENOTFOUND);
	waf_db_close(db);
}

static void code_expires(void)
{
	struct waf_db *db = open_db();
	struct waf_code c, got;
	a_code(&c);
	uint8_t h[32];
	memset(h, 8, 32);
	EXPECT_INT(waf_code_put(db, h, &c), ==, 0);
	EXPECT_INT(waf_code_take(db, h, 1000, &got), ==, WIMS_ENOTFOUND);
	/* and it is gone, not kept for a later clock */
	EXPECT_INT(waf_code_take(db, h, 10, &got), ==, WIMS_ENOTFOUND);
	memset(h, 9, 32);
	EXPECT_INT(waf_code_put(db, h, &c), ==, 0);
	EXPECT_INT(waf_db_expire(db, 2000), ==, 0);
	EXPECT_INT(waf_code_take(db, h, 10, &got), ==, WIMS_ENOTFOUND);
	waf_db_close(db);
}

static void opaque_token_claims(void)
{
	struct waf_db *db = open_db();
	struct jwt_claims c, got;
	memset(&c, 0, sizeof(c));
	snprintf(c.iss, sizeof(c.iss), "https://127.0.0.1:9443");
	snprintf(c.sub, sizeof(c.sub), "grace");
	snprintf(c.client_id, sizeof(c.client_id), "wwsf.ims.example.org");
	snprintf(c.impi, sizeof(c.impi), "grace@ims.example.org");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:grace@ims.example.org");
	c.n_impus = 1;
	c.exp = 5000;
	c.iat = 1400;
	uint8_t h[32];
	memset(h, 3, 32);
	EXPECT_INT(waf_token_put(db, h, &c), ==, 0);
	EXPECT_INT(waf_token_get(db, h, &got), ==, 0);
	EXPECT_STR(got.impus[0], "sip:grace@ims.example.org");
	EXPECT_INT(got.exp, ==, 5000);
	h[0] = 4;
	EXPECT_INT(waf_token_get(db, h, &got), ==, WIMS_ENOTFOUND);
	waf_db_close(db);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-waf-reg-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/waf.db", dir);
	UNIT_RUN(client_roundtrip_and_lookup);
	UNIT_RUN(redirect_uri_exact_match);
	UNIT_RUN(secret_by_hash);
	UNIT_RUN(block_flag);
	UNIT_RUN(grants_parse);
	UNIT_RUN(code_single_use_and_bound);
	UNIT_RUN(code_expires);
	UNIT_RUN(opaque_token_claims);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_MAIN_END();
}
