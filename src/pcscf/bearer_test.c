/*
 * bearer_test.c - the trusted node's token handling (bearer.h): the
 * verified-token cache (expiry on every hit, the bound, eviction, shards
 * under threads), the checks that tie a token to a flow and a REGISTER,
 * RFC 7662 answers, and the validator on a real event loop: a JWKS file,
 * a key rotation seen through an unknown kid with the validation held,
 * the 10 s limit on kid-caused refreshes, and introspection over mutual
 * TLS against a little evhttp server standing in for the WAF.
 */
#include "pcscf/bearer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/http.h"
#include "core/tls.h"
#include "core/wims.h"
#include "unit.h"

#define NOW 1700000000
#define ISS "https://127.0.0.1:9443"
#define AUD "sip:ims.example.org"
#define SCOPE "webrtc-ims-client-access-to-ims"

static char dir[64];

static void claims_of(struct jwt_claims *c, const char *impi, int64_t now, int64_t life)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->iss, sizeof(c->iss), ISS);
	snprintf(c->aud, sizeof(c->aud), AUD);
	snprintf(c->scope, sizeof(c->scope), "openid " SCOPE);
	snprintf(c->sub, sizeof(c->sub), "%s", impi);
	snprintf(c->client_id, sizeof(c->client_id), "wwsf.ims.example.org");
	snprintf(c->wwsf, sizeof(c->wwsf), "wwsf.ims.example.org");
	snprintf(c->impi, sizeof(c->impi), "%s", impi);
	snprintf(c->impus[0], WIMS_IMPU_MAX, "sip:%s", impi);
	snprintf(c->impus[1], WIMS_IMPU_MAX, "tel:+15550000007");
	c->n_impus = 2;
	c->iat = now;
	c->exp = now + life;
}

static void hash_of(const char *s, uint8_t h[32])
{
	jwt_token_hash(s, strlen(s), h);
}

/* --- cache --- */

static void cache_round_trip(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(16);
	struct jwt_claims in, out;
	uint8_t h[32];
	claims_of(&in, "grace@ims.example.org", NOW, 600);
	hash_of("token-1", h);
	EXPECT_INT(pcscf_bearer_cache_put(c, h, &in, NOW), ==, 0);
	int rc = pcscf_bearer_cache_get(c, h, NOW + 1, 30, &out);
	pcscf_bearer_cache_free(c);
	EXPECT_INT(rc, ==, 0);
	EXPECT_STR(out.impi, "grace@ims.example.org");
	EXPECT_STR(out.wwsf, "wwsf.ims.example.org");
	EXPECT_STR(out.iss, ISS);
	EXPECT_STR(out.scope, "openid " SCOPE);
	EXPECT_INT(out.n_impus, ==, 2);
	EXPECT_STR(out.impus[0], "sip:grace@ims.example.org");
	EXPECT_STR(out.impus[1], "tel:+15550000007");
	EXPECT_INT(out.exp, ==, NOW + 600);
}

static void cache_checks_exp_on_every_hit(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(16);
	struct jwt_claims in, out;
	uint8_t h[32];
	claims_of(&in, "grace@ims.example.org", NOW, 100);
	hash_of("token-exp", h);
	EXPECT_INT(pcscf_bearer_cache_put(c, h, &in, NOW), ==, 0);
	/* the verifier's rule: refused once now - skew >= exp */
	EXPECT_INT(pcscf_bearer_cache_get(c, h, NOW + 100 + 29, 30, &out), ==, 0);
	int rc = pcscf_bearer_cache_get(c, h, NOW + 100 + 30, 30, &out);
	size_t left = pcscf_bearer_cache_count(c);
	/* gone for good: a later, "earlier" clock finds nothing either */
	int again = pcscf_bearer_cache_get(c, h, NOW, 30, &out);
	pcscf_bearer_cache_free(c);
	EXPECT_INT(rc, ==, WIMS_ENOTFOUND);
	EXPECT_INT(left, ==, 0);
	EXPECT_INT(again, ==, WIMS_ENOTFOUND);
}

static void cache_refuses_expired_put(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(16);
	struct jwt_claims in;
	uint8_t h[32];
	claims_of(&in, "grace@ims.example.org", NOW - 100, 50);
	hash_of("token-old", h);
	int rc = pcscf_bearer_cache_put(c, h, &in, NOW);
	size_t n = pcscf_bearer_cache_count(c);
	pcscf_bearer_cache_free(c);
	EXPECT_INT(rc, ==, WIMS_EINVAL);
	EXPECT_INT(n, ==, 0);
}

static void cache_is_bounded(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(4);
	struct jwt_claims in, out;
	uint8_t h[32];
	char name[32];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "token-%d", i);
		hash_of(name, h);
		claims_of(&in, "pool1@ims.example.org", NOW, 1000 + i);
		EXPECT_INT(pcscf_bearer_cache_put(c, h, &in, NOW), ==, 0);
		EXPECT_INT(pcscf_bearer_cache_count(c), <=, 4);
	}
	/* the four that live longest are kept */
	int found = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "token-%d", i);
		hash_of(name, h);
		if (pcscf_bearer_cache_get(c, h, NOW, 0, &out) == 0) {
			EXPECT_INT(i, >=, 96);
			found++;
		}
	}
	pcscf_bearer_cache_free(c);
	EXPECT_INT(found, ==, 4);
}

static void cache_evicts_expired_first(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(2);
	struct jwt_claims in, out;
	uint8_t a[32], b[32], n[32];
	hash_of("a", a);
	hash_of("b", b);
	hash_of("n", n);
	claims_of(&in, "a@ims.example.org", NOW, 10000);
	pcscf_bearer_cache_put(c, a, &in, NOW);
	claims_of(&in, "b@ims.example.org", NOW, 10);
	pcscf_bearer_cache_put(c, b, &in, NOW);
	/* later: b has expired; a new token takes its place, a stays */
	claims_of(&in, "n@ims.example.org", NOW + 100, 10);
	pcscf_bearer_cache_put(c, n, &in, NOW + 100);
	int ra = pcscf_bearer_cache_get(c, a, NOW + 100, 0, &out);
	int rb = pcscf_bearer_cache_get(c, b, NOW + 5, 0, &out);
	int rn = pcscf_bearer_cache_get(c, n, NOW + 100, 0, &out);
	pcscf_bearer_cache_free(c);
	EXPECT_INT(ra, ==, 0);
	EXPECT_INT(rb, ==, WIMS_ENOTFOUND);
	EXPECT_INT(rn, ==, 0);
}

static void cache_zero_keeps_nothing(void)
{
	struct pcscf_bearer_cache *c = pcscf_bearer_cache_new(0);
	struct jwt_claims in, out;
	uint8_t h[32];
	hash_of("x", h);
	claims_of(&in, "a@ims.example.org", NOW, 100);
	EXPECT_INT(pcscf_bearer_cache_put(c, h, &in, NOW), ==, 0);
	int rc = pcscf_bearer_cache_get(c, h, NOW, 0, &out);
	uint64_t hits, misses;
	pcscf_bearer_cache_stats(c, &hits, &misses);
	pcscf_bearer_cache_free(c);
	EXPECT_INT(rc, ==, WIMS_ENOTFOUND);
	EXPECT_INT(hits, ==, 0);
	EXPECT_INT(misses, ==, 1);
}

static struct pcscf_bearer_cache *shared;

static void *hammer(void *arg)
{
	int t = (int)(intptr_t)arg;
	struct jwt_claims in, out;
	uint8_t h[32];
	char name[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "t%d-%d", t, i % 1500);
		hash_of(name, h);
		if (pcscf_bearer_cache_get(shared, h, NOW, 30, &out) != 0) {
			claims_of(&in, "pool2@ims.example.org", NOW, 600);
			pcscf_bearer_cache_put(shared, h, &in, NOW);
		} else if (strcmp(out.impi, "pool2@ims.example.org") != 0) {
			return (void *)1;
		}
	}
	return NULL;
}

/* The sharded size (>= 4096 entries): workers at once, every entry
 * found again, the bound kept. */
static void cache_shards_under_threads(void)
{
	shared = pcscf_bearer_cache_new(65536);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i);
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += r != NULL;
	}
	uint64_t hits, misses;
	pcscf_bearer_cache_stats(shared, &hits, &misses);
	size_t n = pcscf_bearer_cache_count(shared);
	pcscf_bearer_cache_free(shared);
	EXPECT_INT(bad, ==, 0);
	EXPECT_INT(n, ==, 6000);
	EXPECT_INT(hits, ==, 6000);
	EXPECT_INT(misses, ==, 6000);
}

/* --- pure checks --- */

static int parse_reg(struct sip_msg *m, const char *text)
{
	const char *reason;
	return sip_msg_parse(m, text, strlen(text), SIP_FRAMING_DATAGRAM, &reason) > 0 ? 0 : -1;
}

#define REG_HEAD                                                                         \
	"REGISTER sip:ims.example.org SIP/2.0\r\n"                                     \
	"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKabc\r\n"                             \
	"Max-Forwards: 70\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n"

static void authorization_bearer_found(void)
{
	struct sip_msg m;
	struct slice tok;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:g@x>\r\nFrom: <sip:g@x>;tag=1\r\n"
					  "Authorization: bearer  abc.def.ghi \r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_authorization(&m, &tok, &status, &why), ==, 1);
	EXPECT_SLICE(tok, "abc.def.ghi");
	/* Digest or nothing: the core's business */
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:g@x>\r\nFrom: <sip:g@x>;tag=1\r\n"
					  "Authorization: Digest username=\"g@x\", realm=\"x\", "
					  "nonce=\"n\", uri=\"sip:x\", response=\"r\"\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_authorization(&m, &tok, &status, &why), ==, 0);
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:g@x>\r\nFrom: <sip:g@x>;tag=1\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_authorization(&m, &tok, &status, &why), ==, 0);
}

static void authorization_refusals(void)
{
	struct sip_msg m;
	struct slice tok;
	int status = 0;
	const char *why = NULL;
	/* a WIC writing what only a trusted node may write */
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:g@x>\r\nFrom: <sip:g@x>;tag=1\r\n"
					  "Authorization: Digest username=\"g@x\", realm=\"x\", "
					  "uri=\"sip:x\", nonce=\"\", response=\"\", "
					  "integrity-protected=\"auth-done\"\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_authorization(&m, &tok, &status, &why), ==, WIMS_EDENIED);
	EXPECT_INT(status, ==, 403);
	EXPECT_STR(why, "integrity-protected is set by the network only");
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:g@x>\r\nFrom: <sip:g@x>;tag=1\r\n"
					  "Authorization: Bearer abc\r\n"
					  "Authorization: Digest username=\"g@x\"\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_authorization(&m, &tok, &status, &why), ==, WIMS_EPARSE);
	EXPECT_INT(status, ==, 400);
	EXPECT_STR(why, "one Authorization header only with Bearer");
}

static void origin_bound_to_the_wwsf(void)
{
	const char *list = "wwsf.ims.example.org=https://127.0.0.1:8443, "
			   "webshop.example.net = https://127.0.0.1:8446";
	const char *why = NULL;
	EXPECT_INT(pcscf_bearer_check_origin(list, "wwsf.ims.example.org",
					     slice_from_cstr("https://127.0.0.1:8443"), &why),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_origin(list, "webshop.example.net",
					     slice_from_cstr("HTTPS://127.0.0.1:8446"), &why),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_origin(list, "wwsf.ims.example.org",
					     slice_from_cstr("https://127.0.0.1:8446"), &why),
		   ==, WIMS_EDENIED);
	EXPECT_STR(why, "token was issued for another site");
	EXPECT_INT(pcscf_bearer_check_origin(list, "evil.example",
					     slice_from_cstr("https://127.0.0.1:8443"), &why),
		   ==, WIMS_EDENIED);
	EXPECT_STR(why, "no Origin configured for the token's WWSF");
	EXPECT_INT(pcscf_bearer_check_origin(list, "wwsf.ims.example.org", SLICE_NULL, &why), ==,
		   WIMS_EDENIED);
}

static void pool_glob(void)
{
	const char *pools = "webshop.example.net=pool*@ims.example.org";
	const char *why = NULL;
	EXPECT_INT(pcscf_bearer_check_pool(pools, "webshop.example.net", "pool3@ims.example.org",
					   &why),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_pool(pools, "webshop.example.net", "alice@ims.example.org",
					   &why),
		   ==, WIMS_EDENIED);
	EXPECT_STR(why, "IMPI is not in the WWSF's pool");
	EXPECT_INT(pcscf_bearer_check_pool(pools, "webshop.example.net", "pool1@evil.example",
					   &why),
		   ==, WIMS_EDENIED);
	/* a WWSF without a pool: no constraint here */
	EXPECT_INT(pcscf_bearer_check_pool(pools, "wwsf.ims.example.org", "alice@ims.example.org",
					   &why),
		   ==, 0);
}

static void impus_of_the_token(void)
{
	struct jwt_claims c;
	claims_of(&c, "bob@ims.example.org", NOW, 100);
	c.n_impus = 1; /* only sip:bob@ */
	struct sip_msg m;
	const char *why = NULL;
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:bob@ims.example.org;transport=ws>\r\n"
					  "From: \"Bob\" <sip:bob@IMS.example.org>;tag=1\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_impus(&c, &m, &why), ==, 0);
	/* TR 33.871 REQ 2.4: the bob-impu1/bob-impu2 case */
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <tel:+15550000002>\r\n"
					  "From: <tel:+15550000002>;tag=1\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_impus(&c, &m, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "To is not an identity of this token");
	EXPECT_INT(parse_reg(&m, REG_HEAD "To: <sip:bob@ims.example.org>\r\n"
					  "From: <sip:alice@ims.example.org>;tag=1\r\n"
					  "Content-Length: 0\r\n\r\n"),
		   ==, 0);
	EXPECT_INT(pcscf_bearer_check_impus(&c, &m, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "From is not an identity of this token");
}

static const struct jwt_expect want = {ISS, AUD, SCOPE, 30};

#define ACTIVE                                                                           \
	"\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000600,"    \
	"\"iat\":1700000000,\"scope\":\"" SCOPE "\",\"client_id\":\"webshop.example.net\"," \
	"\"wwsf\":\"webshop.example.net\",\"impi\":\"pool1@ims.example.org\""

static int introspect(const char *json, const char **why)
{
	struct jwt_claims c;
	return pcscf_bearer_introspection_parse(json, strlen(json), &want, NOW, &c, why);
}

static void introspection_answers(void)
{
	struct jwt_claims c;
	const char *why = NULL;
	const char *ok = "{" ACTIVE ",\"impus\":[\"sip:pool1@ims.example.org\"]}";
	EXPECT_INT(pcscf_bearer_introspection_parse(ok, strlen(ok), &want, NOW, &c, &why), ==, 0);
	EXPECT_STR(c.impi, "pool1@ims.example.org");
	EXPECT_STR(c.wwsf, "webshop.example.net");
	EXPECT_INT(c.n_impus, ==, 1);
	EXPECT_INT(c.exp, ==, 1700000600);
	EXPECT_INT(introspect("{\"active\":false}", &why), ==, WIMS_EAUTH);
	EXPECT_STR(why, "token is not active");
	EXPECT_INT(introspect("{\"active\":\"true\"}", &why), ==, WIMS_EAUTH);
	EXPECT_INT(introspect("{" ACTIVE "}", &why), ==, WIMS_EAUTH);
	EXPECT_STR(why, "impus is not a non-empty array");
	EXPECT_INT(introspect("{" ACTIVE ",\"impus\":[7]}", &why), ==, WIMS_EAUTH);
	EXPECT_INT(introspect("{" ACTIVE ",\"impus\":[\"sip:a@b\"],\"iss\":\"x\"}", &why), ==,
		   WIMS_EPARSE); /* a duplicate member: one reader, one answer */
	EXPECT_INT(introspect("not json", &why), ==, WIMS_EPARSE);
	EXPECT_INT(introspect("[1]", &why), ==, WIMS_EPARSE);
	struct jwt_expect other = want;
	other.aud = "sip:other.example";
	EXPECT_INT(pcscf_bearer_introspection_parse(ok, strlen(ok), &other, NOW, &c, &why), ==,
		   WIMS_EAUTH);
	EXPECT_STR(why, "wrong aud");
	other = want;
	other.iss = "https://evil.example";
	EXPECT_INT(pcscf_bearer_introspection_parse(ok, strlen(ok), &other, NOW, &c, &why), ==,
		   WIMS_EAUTH);
	EXPECT_STR(why, "wrong iss");
	EXPECT_INT(pcscf_bearer_introspection_parse(ok, strlen(ok), &want, NOW + 630, &c, &why), ==,
		   WIMS_EAUTH);
	EXPECT_STR(why, "token expired");
	other = want;
	other.scope = "admin";
	EXPECT_INT(pcscf_bearer_introspection_parse(ok, strlen(ok), &other, NOW, &c, &why), ==,
		   WIMS_EDENIED);
	EXPECT_STR(c.impi, ""); /* nothing handed out on a refusal */
}

/* --- the validator on a loop --- */

static struct event_base *base;
static struct jwt_key *key;
static char keyfile[128];

struct result {
	int calls, rc;
	char why[128];
	char impi[WIMS_IMPI_MAX];
	enum pcscf_bearer_source src;
};

static void done_cb(void *arg, int rc, const struct jwt_claims *c, const char *why,
		    enum pcscf_bearer_source src)
{
	struct result *r = arg;
	r->calls++;
	r->rc = rc;
	r->src = src;
	snprintf(r->why, sizeof(r->why), "%s", why);
	snprintf(r->impi, sizeof(r->impi), "%s", c ? c->impi : "");
	event_base_loopbreak(base);
}

static void write_jwks(struct jwt_key *const *keys, int n)
{
	FILE *f = fopen(keyfile, "w");
	fputs("{\"keys\":[", f);
	for (int i = 0; i < n; i++) {
		char *pub = jwt_key_public_json(keys[i]);
		fprintf(f, "%s%s", i ? "," : "", pub);
		free(pub);
	}
	fputs("]}", f);
	fclose(f);
}

static char *sign(struct jwt_key *k, const char *impi, int64_t life, const char *scope)
{
	struct jwt_claims c;
	claims_of(&c, impi, (int64_t)time(NULL), life);
	snprintf(c.scope, sizeof(c.scope), "%s", scope);
	char *t = NULL;
	jwt_sign_access_token(k, &c, &t);
	return t;
}

static int validate(const char *t, struct result *r)
{
	struct jwt_claims c;
	const char *why = "";
	memset(r, 0, sizeof(*r));
	int rc = pcscf_bearer_validate(0, t, strlen(t), (int64_t)time(NULL), &c, &r->src, &why,
				       done_cb, r);
	if (rc != WIMS_EAGAIN) {
		r->rc = rc;
		snprintf(r->why, sizeof(r->why), "%s", why);
		snprintf(r->impi, sizeof(r->impi), "%s", rc == 0 ? c.impi : "");
	}
	return rc;
}

static int start_validator(const char *introspect, const char *ca, const char *cert,
			   const char *ckey)
{
	struct pcscf_bearer_conf bc = {
		.issuer = ISS,
		.jwks = keyfile,
		.introspect = introspect,
		.ca = ca,
		.client_cert = cert,
		.client_key = ckey,
		.audience = AUD,
		.scope = SCOPE,
		.skew_s = 30,
		.cache_entries = 1024,
	};
	char err[256];
	if (pcscf_bearer_start(&bc, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "pcscf_bearer_start: %s\n", err);
		return -1;
	}
	return pcscf_bearer_worker_start(0, base);
}

static void validator_jwks_file_and_cache(void)
{
	struct jwt_key *keys[1] = {key};
	write_jwks(keys, 1);
	EXPECT_INT(start_validator("", "", "", ""), ==, 0);
	EXPECT_TRUE(pcscf_bearer_enabled());
	EXPECT_INT(pcscf_bearer_key_count(), ==, 1);
	char *t = sign(key, "grace@ims.example.org", 600, SCOPE);
	struct result r;
	int rc1 = validate(t, &r);
	enum pcscf_bearer_source s1 = r.src;
	int rc2 = validate(t, &r);
	enum pcscf_bearer_source s2 = r.src;
	char impi[WIMS_IMPI_MAX];
	snprintf(impi, sizeof(impi), "%s", r.impi);
	free(t);
	t = sign(key, "grace@ims.example.org", 600, "openid");
	int rc3 = validate(t, &r);
	free(t);
	t = sign(key, "grace@ims.example.org", 600, SCOPE);
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	int rc4 = validate(t, &r);
	int rc4b = validate(t, &r); /* a refusal is not cached */
	free(t);
	int rc5 = validate("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
	char why5[128];
	snprintf(why5, sizeof(why5), "%s", r.why);
	pcscf_bearer_worker_stop(0);
	pcscf_bearer_stop();
	EXPECT_INT(rc1, ==, 0);
	EXPECT_INT(s1, ==, PCSCF_BEARER_VERIFIED);
	EXPECT_INT(rc2, ==, 0);
	EXPECT_INT(s2, ==, PCSCF_BEARER_CACHED);
	EXPECT_STR(impi, "grace@ims.example.org");
	EXPECT_INT(rc3, ==, WIMS_EDENIED);
	EXPECT_INT(rc4, ==, WIMS_EAUTH);
	EXPECT_INT(rc4b, ==, WIMS_EAUTH);
	EXPECT_INT(rc5, ==, WIMS_EAUTH);
	EXPECT_STR(why5, "opaque tokens are not accepted here");
}

static void validator_unknown_kid_refreshes_once(void)
{
	struct jwt_key *keys[2] = {key, jwt_key_generate()};
	write_jwks(keys, 1);
	EXPECT_INT(start_validator("", "", "", ""), ==, 0);
	/* the WAF rotated: the file lists the new key only now */
	write_jwks(keys, 2);
	char *t = sign(keys[1], "grace@ims.example.org", 600, SCOPE);
	struct result r;
	int rc1 = validate(t, &r);
	event_base_dispatch(base);
	struct result held = r;
	/* a kid no JWKS has, right after: no second fetch within 10 s */
	struct jwt_key *stray = jwt_key_generate();
	char *t2 = sign(stray, "grace@ims.example.org", 600, SCOPE);
	int rc2 = validate(t2, &r);
	unsigned loads = pcscf_bearer_jwks_loads();
	free(t);
	free(t2);
	jwt_key_free(stray);
	jwt_key_free(keys[1]);
	pcscf_bearer_worker_stop(0);
	pcscf_bearer_stop();
	EXPECT_INT(rc1, ==, WIMS_EAGAIN);
	EXPECT_INT(held.calls, ==, 1);
	EXPECT_INT(held.rc, ==, 0);
	EXPECT_STR(held.impi, "grace@ims.example.org");
	EXPECT_INT(rc2, ==, WIMS_EAUTH);
	EXPECT_STR(r.why, "unknown kid");
	EXPECT_INT(loads, ==, 2);
}

static void validator_held_dropped_at_stop(void)
{
	struct jwt_key *keys[1] = {key};
	write_jwks(keys, 1);
	EXPECT_INT(start_validator("", "", "", ""), ==, 0);
	struct jwt_key *other = jwt_key_generate();
	char *t = sign(other, "grace@ims.example.org", 600, SCOPE);
	struct result r;
	int rc = validate(t, &r);
	/* the worker stops before the refresh ran */
	pcscf_bearer_worker_stop(0);
	pcscf_bearer_stop();
	event_base_loop(base, EVLOOP_NONBLOCK);
	free(t);
	jwt_key_free(other);
	EXPECT_INT(rc, ==, WIMS_EAGAIN);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.rc, ==, WIMS_ECLOSED);
}

/* --- introspection against a stand-in WAF --- */

static int introspections;
static bool client_cert_seen;

static void waf_introspect(struct evhttp_request *req, void *arg)
{
	WIMS_UNUSED(arg);
	introspections++;
	struct bufferevent *bev = http_request_bufferevent(req);
	char name[128];
	client_cert_seen = bev && tls_peer_name(bev, name, sizeof(name)) > 0;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char body[256] = {0};
	evbuffer_copyout(in, body, n < sizeof(body) - 1 ? n : sizeof(body) - 1);
	const char *active = "{" ACTIVE ",\"impus\":[\"sip:pool1@ims.example.org\"]}";
	char json[1024];
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST &&
	    strncmp(body, "token=opaque-good&", 18) == 0) {
		/* exp from now: the cache must keep it */
		snprintf(json, sizeof(json), "%.*s%lld%s", (int)(strstr(active, "1700000600") - active),
			 active, (long long)time(NULL) + 600, strstr(active, "1700000600") + 10);
	} else {
		snprintf(json, sizeof(json), "{\"active\":false}");
	}
	http_reply_json(req, 200, json, strlen(json));
}

static void introspection_over_mtls(void)
{
	char cert[128], ckey[128], ccert[128], cckey[128], url[128], err[256];
	snprintf(cert, sizeof(cert), "%s/waf-cert.pem", dir);
	snprintf(ckey, sizeof(ckey), "%s/waf-key.pem", dir);
	snprintf(ccert, sizeof(ccert), "%s/pcscf-cert.pem", dir);
	snprintf(cckey, sizeof(cckey), "%s/pcscf-key.pem", dir);
	static const char *const names[] = {"127.0.0.1", NULL};
	static const char *const cnames[] = {"pcscf.ims.example.org", NULL};
	EXPECT_INT(tls_ensure_self_signed(cert, ckey, names, err, sizeof(err)), ==, 0);
	EXPECT_INT(tls_ensure_self_signed(ccert, cckey, cnames, err, sizeof(err)), ==, 0);
	SSL_CTX *tls = tls_server_ctx_new(cert, ckey, err, sizeof(err));
	EXPECT_TRUE(tls);
	/* W5: the WAF knows the pcscf by its certificate */
	EXPECT_INT(tls_server_ctx_require_client_cert(tls, ccert, err, sizeof(err)), ==, 0);
	struct evhttp *http = http_server_new(base, "127.0.0.1", 0, tls, err, sizeof(err));
	EXPECT_TRUE(http);
	evhttp_set_cb(http, "/introspect", waf_introspect, NULL);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/introspect", http_server_port(http));
	struct jwt_key *keys[1] = {key};
	write_jwks(keys, 1);
	EXPECT_INT(start_validator(url, cert, ccert, cckey), ==, 0);
	struct result r1, r2, r3;
	int rc1 = validate("opaque-good", &r1);
	if (rc1 == WIMS_EAGAIN)
		event_base_dispatch(base);
	int rc2 = validate("opaque-good", &r2); /* cached: no second question */
	int rc3 = validate("opaque-revoked", &r3);
	if (rc3 == WIMS_EAGAIN)
		event_base_dispatch(base);
	pcscf_bearer_worker_stop(0);
	pcscf_bearer_stop();
	evhttp_free(http);
	SSL_CTX_free(tls);
	EXPECT_INT(rc1, ==, WIMS_EAGAIN);
	EXPECT_INT(r1.calls, ==, 1);
	EXPECT_INT(r1.rc, ==, 0);
	EXPECT_INT(r1.src, ==, PCSCF_BEARER_INTROSPECTED);
	EXPECT_STR(r1.impi, "pool1@ims.example.org");
	EXPECT_TRUE(client_cert_seen);
	EXPECT_INT(rc2, ==, 0);
	EXPECT_INT(r2.src, ==, PCSCF_BEARER_CACHED);
	EXPECT_INT(rc3, ==, WIMS_EAGAIN);
	EXPECT_INT(r3.calls, ==, 1);
	EXPECT_INT(r3.rc, ==, WIMS_EAUTH);
	EXPECT_STR(r3.why, "token is not active");
	EXPECT_INT(introspections, ==, 2);
}

static void introspection_waf_down_is_503(void)
{
	struct jwt_key *keys[1] = {key};
	write_jwks(keys, 1);
	/* nothing listens on port 9 of the loopback */
	EXPECT_INT(start_validator("https://127.0.0.1:9/introspect", "", "", ""), ==, 0);
	struct result r;
	int rc = validate("opaque-x", &r);
	if (rc == WIMS_EAGAIN)
		event_base_dispatch(base);
	pcscf_bearer_worker_stop(0);
	pcscf_bearer_stop();
	EXPECT_INT(rc, ==, WIMS_EAGAIN);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.rc, ==, WIMS_EIO);
	EXPECT_STR(r.why, "token introspection failed");
}

static void bad_urls_refused_at_start(void)
{
	struct pcscf_bearer_conf bc = {.issuer = ISS, .jwks = "http://127.0.0.1/jwks.json",
				       .introspect = "", .audience = AUD, .scope = SCOPE};
	char err[256] = "";
	int rc = pcscf_bearer_start(&bc, 1, err, sizeof(err));
	pcscf_bearer_stop();
	EXPECT_INT(rc, ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, "https://") != NULL);
	bc.jwks = "";
	EXPECT_INT(pcscf_bearer_start(&bc, 1, err, sizeof(err)), ==, 0);
	bool on = pcscf_bearer_enabled();
	pcscf_bearer_stop();
	EXPECT_TRUE(!on);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-bearer-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(keyfile, sizeof(keyfile), "%s/jwks.json", dir);
	base = event_base_new();
	key = jwt_key_generate();
	UNIT_RUN(cache_round_trip);
	UNIT_RUN(cache_checks_exp_on_every_hit);
	UNIT_RUN(cache_refuses_expired_put);
	UNIT_RUN(cache_is_bounded);
	UNIT_RUN(cache_evicts_expired_first);
	UNIT_RUN(cache_zero_keeps_nothing);
	UNIT_RUN(cache_shards_under_threads);
	UNIT_RUN(authorization_bearer_found);
	UNIT_RUN(authorization_refusals);
	UNIT_RUN(origin_bound_to_the_wwsf);
	UNIT_RUN(pool_glob);
	UNIT_RUN(impus_of_the_token);
	UNIT_RUN(introspection_answers);
	UNIT_RUN(validator_jwks_file_and_cache);
	UNIT_RUN(validator_unknown_kid_refreshes_once);
	UNIT_RUN(validator_held_dropped_at_stop);
	UNIT_RUN(introspection_over_mtls);
	UNIT_RUN(introspection_waf_down_is_503);
	UNIT_RUN(bad_urls_refused_at_start);
	jwt_key_free(key);
	event_base_free(base);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_MAIN_END();
}
