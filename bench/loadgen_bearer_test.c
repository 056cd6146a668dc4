/*
 * loadgen_bearer_test.c - the tokens wims-loadgen signs (loadgen_bearer.c)
 * are what the pcscf accepts: they verify with jwt_verify_access_token
 * against the JWKS the generator wrote, with the demo's issuer, audience
 * and scope, carry the subscriber's IMPI and IMPU and the WWSF; uncached
 * tokens never repeat (so every one is a cache miss at the pcscf) and a
 * connection never sends one twice.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "core/wims.h"
#include "loadgen.h"
#include "unit.h"

static char dir[64], key_file[128], jwks_file[128];

static const struct lg_bearer_cfg cfg = {
	.issuer = LG_BEARER_ISSUER,
	.audience = LG_BEARER_AUDIENCE,
	.wwsf = LG_BEARER_WWSF,
	.scope = LG_BEARER_SCOPE,
	.lifetime_s = LG_BEARER_LIFETIME_S,
};

static const struct jwt_expect want = {
	.iss = LG_BEARER_ISSUER,
	.aud = LG_BEARER_AUDIENCE,
	.scope = LG_BEARER_SCOPE,
	.skew_s = -1,
};

static struct jwt_keyset *load_jwks(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct jwt_keyset *ks = NULL;
	const char *why;
	if (jwt_keyset_from_json(buf, n, &ks, &why) != 0)
		return NULL;
	return ks;
}

static int verify(const struct jwt_keyset *ks, const char *token, int64_t now, struct jwt_claims *c)
{
	const char *why = NULL;
	int rc = jwt_verify_access_token(ks, token, strlen(token), &want, now, c, &why);
	if (rc)
		fprintf(stderr, "  verify: %s\n", why ? why : "?");
	return rc;
}

static void keygen_writes_a_private_key_and_its_jwks(void)
{
	char err[256];
	EXPECT_INT(lg_bearer_keygen(key_file, jwks_file, err, sizeof(err)), ==, 0);
	struct stat st;
	EXPECT_INT(stat(key_file, &st), ==, 0);
	EXPECT_INT(st.st_mode & 0777, ==, 0600);
	struct jwt_keyset *ks = load_jwks(jwks_file);
	EXPECT_TRUE(ks != NULL);
	EXPECT_INT(jwt_keyset_count(ks), ==, 1);
	jwt_keyset_free(ks);
	/* Never over an existing key. */
	EXPECT_INT(lg_bearer_keygen(key_file, jwks_file, err, sizeof(err)), !=, 0);
	EXPECT_TRUE(strstr(err, key_file) != NULL);
}

static void token_verifies_with_the_subscriber_claims(void)
{
	char err[256];
	struct jwt_key *key = lg_bearer_key_load(key_file, err, sizeof(err));
	EXPECT_TRUE(key != NULL);
	struct jwt_keyset *ks = load_jwks(jwks_file);
	EXPECT_TRUE(ks != NULL);
	int64_t now = (int64_t)time(NULL);
	char *tok = NULL;
	EXPECT_INT(lg_bearer_token(key, &cfg, "user0007", "user0007@ims.example.org",
				   "sip:user0007@ims.example.org", now, &tok),
		   ==, 0);
	struct jwt_claims *c = calloc(1, sizeof(*c));
	EXPECT_TRUE(c != NULL);
	int rc = verify(ks, tok, now, c);
	if (rc == 0) {
		EXPECT_STR(c->impi, "user0007@ims.example.org");
		EXPECT_INT(c->n_impus, ==, 1);
		EXPECT_STR(c->impus[0], "sip:user0007@ims.example.org");
		EXPECT_STR(c->wwsf, LG_BEARER_WWSF);
		EXPECT_STR(c->client_id, LG_BEARER_WWSF);
		EXPECT_STR(c->iss, LG_BEARER_ISSUER);
		EXPECT_INT(c->exp, ==, now + 3600);
		EXPECT_TRUE(c->jti[0] != '\0');
		/* Expired an hour later, as the pcscf would say. */
		const char *why;
		EXPECT_INT(jwt_verify_access_token(ks, tok, strlen(tok), &want, now + 3600 + 31, c, &why),
			   ==, WIMS_EAUTH);
		EXPECT_STR(why, "token expired");
	}
	free(c);
	free(tok);
	jwt_keyset_free(ks);
	jwt_key_free(key);
	EXPECT_INT(rc, ==, 0);
}

static void a_token_of_another_key_does_not_verify(void)
{
	char err[256], k2[160], j2[160];
	snprintf(k2, sizeof(k2), "%s/other.jwk", dir);
	snprintf(j2, sizeof(j2), "%s/other.jwks", dir);
	EXPECT_INT(lg_bearer_keygen(k2, j2, err, sizeof(err)), ==, 0);
	struct jwt_key *other = lg_bearer_key_load(k2, err, sizeof(err));
	struct jwt_keyset *ks = load_jwks(jwks_file);
	EXPECT_TRUE(other && ks);
	char *tok = NULL;
	int64_t now = (int64_t)time(NULL);
	EXPECT_INT(lg_bearer_token(other, &cfg, "u", "u@ims.example.org", "sip:u@ims.example.org",
				   now, &tok),
		   ==, 0);
	struct jwt_claims *c = calloc(1, sizeof(*c));
	const char *why;
	int rc = jwt_verify_access_token(ks, tok, strlen(tok), &want, now, c, &why);
	free(c);
	free(tok);
	jwt_keyset_free(ks);
	jwt_key_free(other);
	EXPECT_INT(rc, ==, WIMS_EAUTH);
}

static void key_load_refuses_a_public_jwks(void)
{
	char err[256];
	EXPECT_TRUE(lg_bearer_key_load(jwks_file, err, sizeof(err)) == NULL);
	EXPECT_TRUE(strstr(err, "not a private ES256 JWK") != NULL);
	EXPECT_TRUE(lg_bearer_key_load("/nonexistent/key", err, sizeof(err)) == NULL);
}

#define NCONNS 3
#define PER_CONN 5

static void presign_and_next_never_repeat_an_uncached_token(void)
{
	struct lg_conn conns[NCONNS], *pc[NCONNS];
	memset(conns, 0, sizeof(conns));
	for (int i = 0; i < NCONNS; i++) {
		snprintf(conns[i].user_part, sizeof(conns[i].user_part), "user%04d", i);
		snprintf(conns[i].impi, sizeof(conns[i].impi), "user%04d@ims.example.org", i);
		snprintf(conns[i].impu, sizeof(conns[i].impu), "sip:user%04d@ims.example.org", i);
		pc[i] = &conns[i];
	}
	char err[256];
	int64_t now = (int64_t)time(NULL);
	EXPECT_INT(lg_bearer_presign(key_file, &cfg, pc, NCONNS, PER_CONN, now, 2, err, sizeof(err)),
		   ==, 0);
	struct jwt_keyset *ks = load_jwks(jwks_file);
	struct jwt_key *key = lg_bearer_key_load(key_file, err, sizeof(err));
	EXPECT_TRUE(ks && key);
	struct jwt_claims *c = calloc(1, sizeof(*c));
	EXPECT_TRUE(c != NULL);
	/* Each token once: the hashes (the pcscf's cache keys) all differ. */
	enum { N = NCONNS * (PER_CONN + 2) };
	uint8_t hashes[N][32];
	int nh = 0, bad = 0;
	uint64_t signed_inline = 0;
	for (int i = 0; i < NCONNS; i++) {
		EXPECT_INT(conns[i].ntokens, ==, PER_CONN);
		for (int t = 0; t < PER_CONN + 2; t++) {
			const char *tok = lg_bearer_next(&conns[i], true, key, &cfg, now, &signed_inline);
			if (!tok || verify(ks, tok, now, c) != 0 || strcmp(c->impi, conns[i].impi) != 0) {
				bad++;
				continue;
			}
			jwt_token_hash(tok, strlen(tok), hashes[nh]);
			for (int k = 0; k < nh; k++)
				if (memcmp(hashes[k], hashes[nh], 32) == 0)
					bad++;
			nh++;
		}
	}
	/* Past its share a connection signs its own (counted). */
	uint64_t inline_seen = signed_inline;
	/* Cached: always the first token, the same text. */
	struct lg_conn one = {0};
	struct lg_conn *po = &one;
	snprintf(one.user_part, sizeof(one.user_part), "user0009");
	snprintf(one.impi, sizeof(one.impi), "user0009@ims.example.org");
	snprintf(one.impu, sizeof(one.impu), "sip:user0009@ims.example.org");
	int same = lg_bearer_presign(key_file, &cfg, &po, 1, 1, now, 1, err, sizeof(err)) == 0;
	const char *a = lg_bearer_next(&one, false, NULL, &cfg, now, &signed_inline);
	const char *b = lg_bearer_next(&one, false, NULL, &cfg, now, &signed_inline);
	same = same && a && a == b && verify(ks, a, now, c) == 0;
	for (int i = 0; i < NCONNS; i++)
		lg_bearer_conn_free(&conns[i]);
	lg_bearer_conn_free(&one);
	free(c);
	jwt_keyset_free(ks);
	jwt_key_free(key);
	EXPECT_INT(bad, ==, 0);
	EXPECT_INT(nh, ==, N);
	EXPECT_INT(inline_seen, ==, NCONNS * 2);
	EXPECT_INT(signed_inline, ==, NCONNS * 2);
	EXPECT_TRUE(same);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lg-bearer-test.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(key_file, sizeof(key_file), "%s/key.jwk", dir);
	snprintf(jwks_file, sizeof(jwks_file), "%s/jwks.json", dir);
	UNIT_RUN(keygen_writes_a_private_key_and_its_jwks);
	UNIT_RUN(token_verifies_with_the_subscriber_claims);
	UNIT_RUN(a_token_of_another_key_does_not_verify);
	UNIT_RUN(key_load_refuses_a_public_jwks);
	UNIT_RUN(presign_and_next_never_repeat_an_uncached_token);
	char o1[160], o2[160];
	snprintf(o1, sizeof(o1), "%s/other.jwk", dir);
	snprintf(o2, sizeof(o2), "%s/other.jwks", dir);
	unlink(key_file);
	unlink(jwks_file);
	unlink(o1);
	unlink(o2);
	rmdir(dir);
	return UNIT_MAIN_END();
}
