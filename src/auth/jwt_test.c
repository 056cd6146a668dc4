/*
 * jwt_test.c - access tokens: round trip, and every refusal mounted for
 * real.  Attack tokens are crafted here by hand (base64url, OpenSSL ECDSA
 * and HMAC), not through jwt.c, so the verifier is tested against what an
 * attacker can actually send.
 */
#include "auth/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/b64url.h"
#include "core/hmac.h"
#include "core/wims.h"
#include "unit.h"

#define NOW 1700000000
#define ISS "https://waf.ims.example.org"
#define AUD "pcscf.ims.example.org"

static EVP_PKEY *pkey;       /* the issuer's key, as OpenSSL holds it */
static struct jwt_key *key;  /* the same key, loaded through jwt.h */
static struct jwt_keyset *ks; /* its public JWK */
static char pub_x[44], pub_y[44];

static const struct jwt_expect want = {ISS, AUD, "ims:register", -1};

static void b64(const void *p, size_t n, char *out)
{
	out[b64url_encode(p, n, out)] = '\0';
}

static int bn_b64(const char *name, char *out)
{
	BIGNUM *bn = NULL;
	uint8_t raw[32];
	if (!EVP_PKEY_get_bn_param(pkey, name, &bn) || BN_bn2binpad(bn, raw, 32) != 32)
		return -1;
	BN_clear_free(bn);
	b64(raw, 32, out);
	return 0;
}

/* An EC P-256 key made by OpenSSL, given to jwt.c as a private JWK. */
static int setup(void)
{
	pkey = EVP_EC_gen("P-256");
	char d[44];
	if (!pkey || bn_b64(OSSL_PKEY_PARAM_EC_PUB_X, pub_x) || bn_b64(OSSL_PKEY_PARAM_EC_PUB_Y, pub_y) ||
	    bn_b64(OSSL_PKEY_PARAM_PRIV_KEY, d))
		return -1;
	char jwk[256];
	snprintf(jwk, sizeof(jwk), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}",
		 pub_x, pub_y, d);
	const char *why;
	if (jwt_key_from_json(jwk, strlen(jwk), &key, &why) != 0)
		return -1;
	char *pub = jwt_key_public_json(key);
	char jwks[512];
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", pub);
	free(pub);
	return jwt_keyset_from_json(jwks, strlen(jwks), &ks, &why);
}

/* --- crafting --- */

enum sig_mode { SIG_ES256, SIG_DER, SIG_NONE, SIG_HS256 };

/* header "." claims "." signature, signed as mode says.  free() it. */
static char *craft(const char *hdr, const char *claims, enum sig_mode mode, const void *secret,
		   size_t secret_len)
{
	size_t hl = strlen(hdr), cl = strlen(claims);
	char *t = malloc(B64URL_LEN(hl) + B64URL_LEN(cl) + 512);
	b64(hdr, hl, t);
	size_t at = strlen(t);
	t[at] = '.';
	b64(claims, cl, t + at + 1);
	size_t si = strlen(t);
	uint8_t sig[128];
	size_t siglen = sizeof(sig);
	if (mode == SIG_ES256 || mode == SIG_DER) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey);
		EVP_DigestSign(md, sig, &siglen, (const uint8_t *)t, si);
		EVP_MD_CTX_free(md);
		if (mode == SIG_ES256) {
			const uint8_t *q = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
			const BIGNUM *r, *s;
			ECDSA_SIG_get0(es, &r, &s);
			BN_bn2binpad(r, sig, 32);
			BN_bn2binpad(s, sig + 32, 32);
			ECDSA_SIG_free(es);
			siglen = 64;
		}
	} else if (mode == SIG_HS256) {
		struct slice part = {t, si};
		hmac_sha256(secret, secret_len, &part, 1, sig, 32);
		siglen = 32;
	} else {
		siglen = 0;
	}
	t[si] = '.';
	b64(sig, siglen, t + si + 1);
	return t;
}

/* The claims of a good token, to be changed by each test. */
static json_t *good_claims(void)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:[s,s]}", "iss",
			 ISS, "sub", "alice@ims.example.org", "aud", AUD, "exp",
			 (json_int_t)NOW + 300, "iat", (json_int_t)NOW, "nbf", (json_int_t)NOW, "jti",
			 "j-1", "client_id", "wwsf-1", "scope", "openid ims:register", "wwsf",
			 "https://wwsf.example.org", "impi", "alice@ims.example.org", "impus",
			 "sip:alice@ims.example.org", "tel:+15550000001");
}

/* The good claims as compact JSON; free() it. */
static char *good_claims_str(void)
{
	json_t *c = good_claims();
	char *s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

static char good_hdr[256];

/* A token with the good header and these claims, ES256-signed. */
static char *token_of(json_t *claims)
{
	char *c = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	char *t = craft(good_hdr, c, SIG_ES256, NULL, 0);
	free(c);
	return t;
}

/* Verify t at time now; returns the code and sets *why. */
static int verify_at(const struct jwt_keyset *set, const char *t, int64_t now, const char **why)
{
	struct jwt_claims out;
	return jwt_verify_access_token(set, t, strlen(t), &want, now, &out, why);
}

#define EXPECT_REFUSED(tok, code, reason)                                         \
	do {                                                                     \
		char *t_ = (tok);                                                \
		const char *why_;                                                \
		int rc_ = verify_at(ks, t_, NOW, &why_);                         \
		free(t_);                                                        \
		EXPECT_INT(rc_, ==, code);                                       \
		EXPECT_STR(why_, reason);                                        \
	} while (0)

/* --- tests --- */

static void thumbprint_of_rfc7517_a1_key(void)
{
	/* RFC 7517 A.1's EC key; the value computed independently with
	 * python hashlib over the RFC 7638 3.2 canonical JSON. */
	char out[44];
	EXPECT_INT(jwt_ec_thumbprint("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
				     "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", out),
		   ==, 0);
	EXPECT_STR(out, "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
	EXPECT_INT(jwt_ec_thumbprint("short", "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", out), ==,
		   WIMS_EINVAL);
}

/* A token signed outside wims (openssl dgst -sign, DER turned into r||s
 * by hand) verifies with the public JWK alone: the interop vector, also
 * the seed of fuzz/corpus/jwt/token_good. */
static void openssl_signed_token_verifies(void)
{
	static const char jwks[] =
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		"\"kid\":\"dJImHRFU7VNS7K77Cc5rH82eVlKSycRA9ns4IuA8cRI\","
		"\"x\":\"0ddG2lda0XC7gtEDtvqfG98E6SfyCiZvxuhSYcKuRmM\","
		"\"y\":\"GdctpN0oLfrUynBcgkatrFkmpXtqcnbHLb5pnYntafw\"}]}";
	static const char tok[] =
		"eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6ImRKSW1IUkZVN1ZOUzdLNzdD"
		"YzVySDgyZVZsS1N5Y1JBOW5zNEl1QThjUkkifQ.eyJpc3MiOiJodHRwczovL3dhZi5pbXMuZ"
		"XhhbXBsZS5vcmciLCJzdWIiOiJhbGljZUBpbXMuZXhhbXBsZS5vcmciLCJhdWQiOiJwY3NjZ"
		"i5pbXMuZXhhbXBsZS5vcmciLCJleHAiOjQwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwib"
		"mJmIjoxNzAwMDAwMDAwLCJqdGkiOiJqLTEiLCJjbGllbnRfaWQiOiJ3d3NmLTEiLCJzY29wZ"
		"SI6Im9wZW5pZCBpbXM6cmVnaXN0ZXIiLCJ3d3NmIjoiaHR0cHM6Ly93d3NmLmV4YW1wbGUub"
		"3JnIiwiaW1waSI6ImFsaWNlQGltcy5leGFtcGxlLm9yZyIsImltcHVzIjpbInNpcDphbGljZ"
		"UBpbXMuZXhhbXBsZS5vcmciLCJ0ZWw6KzE1NTUwMDAwMDAxIl19.CA3tmtVdqvqt8pSw-bkl"
		"gxG39GH5tFG7Ba2R7hxHAPCIESFG92JwNEvlZ7MIYwF6N_FwMnP0sOO3dFY8FX9qDw";
	char tp[44];
	EXPECT_INT(jwt_ec_thumbprint("0ddG2lda0XC7gtEDtvqfG98E6SfyCiZvxuhSYcKuRmM",
				     "GdctpN0oLfrUynBcgkatrFkmpXtqcnbHLb5pnYntafw", tp),
		   ==, 0);
	EXPECT_STR(tp, "dJImHRFU7VNS7K77Cc5rH82eVlKSycRA9ns4IuA8cRI");
	struct jwt_keyset *set;
	const char *why;
	EXPECT_INT(jwt_keyset_from_json(jwks, strlen(jwks), &set, &why), ==, 0);
	struct jwt_claims out;
	int rc = jwt_verify_access_token(set, tok, strlen(tok), &want, NOW, &out, &why);
	jwt_keyset_free(set);
	EXPECT_INT(rc, ==, 0);
	EXPECT_STR(out.impi, "alice@ims.example.org");
	EXPECT_STR(out.impus[1], "tel:+15550000001");
	EXPECT_INT(out.exp, ==, 4000000000LL);
}

static void loaded_key_kid_is_thumbprint(void)
{
	char tp[44];
	EXPECT_INT(jwt_ec_thumbprint(pub_x, pub_y, tp), ==, 0);
	EXPECT_STR(jwt_key_kid(key), tp);
	EXPECT_INT(jwt_keyset_count(ks), ==, 1);
}

static void sign_verify_round_trip(void)
{
	struct jwt_claims c = {0};
	snprintf(c.iss, sizeof(c.iss), ISS);
	snprintf(c.sub, sizeof(c.sub), "bob@ims.example.org");
	snprintf(c.aud, sizeof(c.aud), AUD);
	snprintf(c.client_id, sizeof(c.client_id), "wwsf-1");
	snprintf(c.scope, sizeof(c.scope), "openid ims:register");
	snprintf(c.wwsf, sizeof(c.wwsf), "https://wwsf.example.org");
	snprintf(c.impi, sizeof(c.impi), "bob@ims.example.org");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:bob@ims.example.org");
	snprintf(c.impus[1], WIMS_IMPU_MAX, "tel:+15550000002");
	c.n_impus = 2;
	c.iat = NOW;
	c.nbf = NOW;
	c.exp = NOW + 600;
	/* Many rounds: r or s with leading zero bytes must still be 32 each. */
	for (int i = 0; i < 64; i++) {
		char *t = NULL;
		EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, 0);
		struct jwt_claims out;
		const char *why;
		int rc = jwt_verify_access_token(ks, t, strlen(t), &want, NOW + 1, &out, &why);
		free(t);
		EXPECT_INT(rc, ==, 0);
		EXPECT_STR(why, "");
		EXPECT_STR(out.iss, ISS);
		EXPECT_STR(out.sub, "bob@ims.example.org");
		EXPECT_STR(out.aud, AUD);
		EXPECT_STR(out.client_id, "wwsf-1");
		EXPECT_STR(out.scope, "openid ims:register");
		EXPECT_STR(out.wwsf, "https://wwsf.example.org");
		EXPECT_STR(out.impi, "bob@ims.example.org");
		EXPECT_INT(out.n_impus, ==, 2);
		EXPECT_STR(out.impus[0], "sip:bob@ims.example.org");
		EXPECT_STR(out.impus[1], "tel:+15550000002");
		EXPECT_INT(out.exp, ==, NOW + 600);
		EXPECT_INT(out.iat, ==, NOW);
		EXPECT_INT(out.nbf, ==, NOW);
		EXPECT_INT(strlen(out.jti), ==, 22); /* 16 random bytes */
	}
}

static void sign_header_is_rfc9068(void)
{
	struct jwt_claims c = {0};
	snprintf(c.iss, sizeof(c.iss), ISS);
	snprintf(c.sub, sizeof(c.sub), "a");
	snprintf(c.aud, sizeof(c.aud), AUD);
	snprintf(c.client_id, sizeof(c.client_id), "w");
	snprintf(c.wwsf, sizeof(c.wwsf), "w");
	snprintf(c.impi, sizeof(c.impi), "a");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:a@b");
	c.n_impus = 1;
	c.iat = NOW;
	c.exp = NOW + 60;
	char *t = NULL;
	EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, 0);
	size_t hl = (size_t)(strchr(t, '.') - t);
	uint8_t h[256] = {0};
	size_t n = hl / 4 * 3 + (hl % 4 ? hl % 4 - 1 : 0);
	int rc = b64url_decode_exact(t, hl, h, n);
	free(t);
	EXPECT_INT(rc, ==, 0);
	json_t *j = json_loadb((const char *)h, n, 0, NULL);
	EXPECT_TRUE(j);
	const char *typ = json_string_value(json_object_get(j, "typ"));
	const char *alg = json_string_value(json_object_get(j, "alg"));
	const char *kid = json_string_value(json_object_get(j, "kid"));
	int ok = typ && alg && kid && !strcmp(typ, "at+jwt") && !strcmp(alg, "ES256") &&
		 !strcmp(kid, jwt_key_kid(key));
	json_decref(j);
	EXPECT_TRUE(ok);
	/* Refused inputs to the signer. */
	c.exp = c.iat;
	EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, WIMS_EINVAL);
	c.exp = NOW + 60;
	c.n_impus = 0;
	EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, WIMS_EINVAL);
	c.n_impus = 1;
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:a@b\r\nVia: x");
	EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, WIMS_EINVAL);
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:a@b");
	memset(c.wwsf, 'w', sizeof(c.wwsf)); /* not NUL-terminated */
	EXPECT_INT(jwt_sign_access_token(key, &c, &t), ==, WIMS_EINVAL);
}

static void crafted_good_token_accepted(void)
{
	char *t = token_of(good_claims());
	const char *why;
	struct jwt_claims out;
	int rc = jwt_verify_access_token(ks, t, strlen(t), &want, NOW, &out, &why);
	free(t);
	EXPECT_INT(rc, ==, 0);
	EXPECT_STR(out.jti, "j-1");
	EXPECT_INT(out.n_impus, ==, 2);
}

static void typ_application_at_jwt_accepted(void)
{
	char h[256], *c = good_claims_str();
	snprintf(h, sizeof(h), "{\"typ\":\"application/at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\"}",
		 jwt_key_kid(key));
	char *t = craft(h, c, SIG_ES256, NULL, 0);
	const char *why;
	int rc = verify_at(ks, t, NOW, &why);
	free(t);
	free(c);
	EXPECT_INT(rc, ==, 0);
}

/* A header variant ("%s" stands for our kid) with the good claims, signed
 * as mode says. */
static char *with_header(const char *tmpl, enum sig_mode mode, const void *secret, size_t slen)
{
	char h[256];
	const char *at = strstr(tmpl, "%s");
	if (at)
		snprintf(h, sizeof(h), "%.*s%s%s", (int)(at - tmpl), tmpl, jwt_key_kid(key), at + 2);
	else
		snprintf(h, sizeof(h), "%s", tmpl);
	json_t *claims = good_claims();
	char *c = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	char *t = craft(h, c, mode, secret, slen);
	free(c);
	return t;
}

static void refuses_typ_jwt_and_missing_typ(void)
{
	EXPECT_REFUSED(with_header("{\"typ\":\"JWT\",\"alg\":\"ES256\",\"kid\":\"%s\"}", SIG_ES256,
				   NULL, 0),
		       WIMS_EAUTH, "typ is not at+jwt");
	EXPECT_REFUSED(with_header("{\"alg\":\"ES256\",\"kid\":\"%s\"}", SIG_ES256, NULL, 0),
		       WIMS_EAUTH, "typ is not at+jwt");
}

static void refuses_alg_none(void)
{
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"none\",\"kid\":\"%s\"}", SIG_NONE,
				   NULL, 0),
		       WIMS_EAUTH, "alg none refused");
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"NoNe\",\"kid\":\"%s\"}", SIG_NONE,
				   NULL, 0),
		       WIMS_EAUTH, "alg none refused");
	/* alg none with a real signature attached changes nothing. */
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"none\",\"kid\":\"%s\"}", SIG_ES256,
				   NULL, 0),
		       WIMS_EAUTH, "alg none refused");
}

/* The key-confusion attack: HS256 with the public key as the secret. */
static void refuses_hs256_with_public_jwk(void)
{
	char *pub = jwt_key_public_json(key);
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"HS256\",\"kid\":\"%s\"}", SIG_HS256,
				   pub, strlen(pub)),
		       WIMS_EAUTH, "alg not allowed (only ES256)");
	free(pub);
}

static void refuses_hs256_with_public_pem(void)
{
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, pkey);
	char *pem;
	long n = BIO_get_mem_data(bio, &pem);
	char *t = with_header("{\"typ\":\"at+jwt\",\"alg\":\"HS256\",\"kid\":\"%s\"}", SIG_HS256, pem,
			      (size_t)n);
	BIO_free(bio);
	EXPECT_REFUSED(t, WIMS_EAUTH, "alg not allowed (only ES256)");
}

static void refuses_rs256_es384_and_missing_alg(void)
{
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"RS256\",\"kid\":\"%s\"}", SIG_ES256,
				   NULL, 0),
		       WIMS_EAUTH, "alg not allowed (only ES256)");
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"es256\",\"kid\":\"%s\"}", SIG_ES256,
				   NULL, 0),
		       WIMS_EAUTH, "alg not allowed (only ES256)");
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"kid\":\"%s\"}", SIG_ES256, NULL, 0),
		       WIMS_EAUTH, "no alg");
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":[\"ES256\"],\"kid\":\"%s\"}",
				   SIG_ES256, NULL, 0),
		       WIMS_EAUTH, "alg is not a string");
}

static void refuses_crit_and_duplicate_header_names(void)
{
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\","
				   "\"crit\":[\"exp\"]}",
				   SIG_ES256, NULL, 0),
		       WIMS_EAUTH, "crit header not understood");
	/* Two "alg": a reader keeping the last would see none. */
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\","
				   "\"alg\":\"none\"}",
				   SIG_NONE, NULL, 0),
		       WIMS_EPARSE, "header is not JSON");
}

static void refuses_unknown_and_missing_kid(void)
{
	char *c = good_claims_str();
	EXPECT_REFUSED(craft("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"other\"}", c, SIG_ES256,
			     NULL, 0),
		       WIMS_EAUTH, "unknown kid");
	EXPECT_REFUSED(craft("{\"typ\":\"at+jwt\",\"alg\":\"ES256\"}", c, SIG_ES256, NULL, 0),
		       WIMS_EAUTH, "no kid");
	EXPECT_REFUSED(craft("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":7}", c, SIG_ES256, NULL,
			     0),
		       WIMS_EAUTH, "kid is not a short string");
	free(c);
}

/* RFC 8725 3.10 / CVE-2018-0114 style: the attacker signs with a key of
 * its own, puts that key in the header ("jwk", "jku") under our kid.  The
 * key comes from the keyset only. */
static void ignores_keys_carried_in_the_header(void)
{
	EVP_PKEY *ours = pkey;
	EVP_PKEY *evil = EVP_EC_gen("P-256");
	EXPECT_TRUE(evil);
	pkey = evil;
	char ex[44], ey[44];
	int ok = bn_b64(OSSL_PKEY_PARAM_EC_PUB_X, ex) == 0 && bn_b64(OSSL_PKEY_PARAM_EC_PUB_Y, ey) == 0;
	char h[512];
	snprintf(h, sizeof(h),
		 "{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\",\"jku\":\"https://evil.example/jwks\","
		 "\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}}",
		 jwt_key_kid(key), ex, ey);
	char *c = good_claims_str();
	char *t = craft(h, c, SIG_ES256, NULL, 0);
	free(c);
	pkey = ours;
	EVP_PKEY_free(evil);
	EXPECT_TRUE(ok);
	EXPECT_REFUSED(t, WIMS_EAUTH, "bad signature");
}

static void refuses_tampered_payload(void)
{
	json_t *c = good_claims();
	char *t = token_of(c);
	/* Swap one claims character for another base64url one. */
	char *p = strchr(t, '.') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	EXPECT_REFUSED(t, WIMS_EAUTH, "bad signature");
}

static void refuses_tampered_signature(void)
{
	char *t = token_of(good_claims());
	/* The first signature character carries 6 bits of r. */
	char *p = strrchr(t, '.') + 1;
	*p = *p == 'A' ? 'B' : 'A';
	EXPECT_REFUSED(t, WIMS_EAUTH, "bad signature");
}

static void refuses_truncated_signature(void)
{
	char *t = token_of(good_claims());
	t[strlen(t) - 3] = '\0';
	EXPECT_REFUSED(t, WIMS_EAUTH, "signature is not 64 bytes of r||s");
	/* A whole r with an empty s: still 64 bytes required. */
	t = token_of(good_claims());
	*(strrchr(t, '.') + 43) = '\0';
	EXPECT_REFUSED(t, WIMS_EAUTH, "signature is not 64 bytes of r||s");
}

/* The last of 86 characters carries 4 spare bits: setting one gives the
 * same r||s to a lax decoder, a second spelling of one token. */
static void refuses_noncanonical_signature(void)
{
	char *t = token_of(good_claims());
	char *last = t + strlen(t) - 1;
	int v = b64url_value(*last);
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	*last = alpha[v ^ 1];
	EXPECT_REFUSED(t, WIMS_EAUTH, "signature is not canonical base64url");
}

static void refuses_der_signature(void)
{
	EXPECT_REFUSED(with_header("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\"}", SIG_DER,
				   NULL, 0),
		       WIMS_EAUTH, "signature is not 64 bytes of r||s");
}

static void every_prefix_refused(void)
{
	char *t = token_of(good_claims());
	size_t n = strlen(t);
	for (size_t i = 0; i < n; i++) {
		char *p = malloc(i ? i : 1); /* exact size: ASan sees overreads */
		memcpy(p, t, i);
		struct jwt_claims out;
		const char *why;
		int rc = jwt_verify_access_token(ks, p, i, &want, NOW, &out, &why);
		free(p);
		if (rc == 0) {
			free(t);
			EXPECT_INT(i, ==, n);
		}
	}
	free(t);
}

static void key_rotation(void)
{
	struct jwt_key *old = key;
	struct jwt_key *fresh = jwt_key_generate();
	EXPECT_TRUE(fresh);
	char *po = jwt_key_public_json(old), *pn = jwt_key_public_json(fresh);
	char both[1024], only_new[512];
	snprintf(both, sizeof(both), "{\"keys\":[%s,%s]}", pn, po);
	snprintf(only_new, sizeof(only_new), "{\"keys\":[%s]}", pn);
	free(po);
	free(pn);
	struct jwt_keyset *ks_both, *ks_new;
	const char *why;
	EXPECT_INT(jwt_keyset_from_json(both, strlen(both), &ks_both, &why), ==, 0);
	EXPECT_INT(jwt_keyset_from_json(only_new, strlen(only_new), &ks_new, &why), ==, 0);
	EXPECT_INT(jwt_keyset_count(ks_both), ==, 2);

	struct jwt_claims c = {0};
	snprintf(c.iss, sizeof(c.iss), ISS);
	snprintf(c.sub, sizeof(c.sub), "a");
	snprintf(c.aud, sizeof(c.aud), AUD);
	snprintf(c.client_id, sizeof(c.client_id), "w");
	snprintf(c.scope, sizeof(c.scope), "ims:register");
	snprintf(c.wwsf, sizeof(c.wwsf), "w");
	snprintf(c.impi, sizeof(c.impi), "a");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:a@b");
	c.n_impus = 1;
	c.iat = NOW;
	c.exp = NOW + 60;
	char *t_old = NULL, *t_new = NULL;
	jwt_sign_access_token(old, &c, &t_old);
	jwt_sign_access_token(fresh, &c, &t_new);
	int r1 = verify_at(ks_both, t_old, NOW, &why);
	int r2 = verify_at(ks_both, t_new, NOW, &why);
	int r3 = verify_at(ks_new, t_new, NOW, &why);
	int r4 = verify_at(ks_new, t_old, NOW, &why);
	const char *why4 = why;
	free(t_old);
	free(t_new);
	jwt_keyset_free(ks_both);
	jwt_keyset_free(ks_new);
	jwt_key_free(fresh);
	EXPECT_INT(r1, ==, 0);
	EXPECT_INT(r2, ==, 0);
	EXPECT_INT(r3, ==, 0);
	EXPECT_INT(r4, ==, WIMS_EAUTH);
	EXPECT_STR(why4, "unknown kid");
}

static void key_survives_save_and_load(void)
{
	char *priv = jwt_key_private_json(key);
	struct jwt_key *k2;
	const char *why;
	EXPECT_INT(jwt_key_from_json(priv, strlen(priv), &k2, &why), ==, 0);
	free(priv);
	int same = strcmp(jwt_key_kid(k2), jwt_key_kid(key)) == 0;
	/* A public JWK is not a signing key. */
	char *pub = jwt_key_public_json(key);
	struct jwt_key *k3;
	int rc = jwt_key_from_json(pub, strlen(pub), &k3, &why);
	free(pub);
	jwt_key_free(k2);
	EXPECT_TRUE(same);
	EXPECT_INT(rc, ==, WIMS_EPARSE);
}

static void expiry_at_skew_boundary(void)
{
	const char *why;
	char *t = token_of(good_claims()); /* exp NOW + 300, skew 30 */
	int ok = verify_at(ks, t, NOW + 329, &why);
	int bad = verify_at(ks, t, NOW + 330, &why);
	free(t);
	EXPECT_INT(ok, ==, 0);
	EXPECT_INT(bad, ==, WIMS_EAUTH);
	EXPECT_STR(why, "token expired");
	/* With no skew, exp itself is already too late (RFC 7519 4.1.4). */
	struct jwt_expect strict = want;
	strict.skew_s = 0;
	t = token_of(good_claims());
	struct jwt_claims out;
	int r1 = jwt_verify_access_token(ks, t, strlen(t), &strict, NOW + 299, &out, &why);
	int r2 = jwt_verify_access_token(ks, t, strlen(t), &strict, NOW + 300, &out, &why);
	free(t);
	EXPECT_INT(r1, ==, 0);
	EXPECT_INT(r2, ==, WIMS_EAUTH);
}

static void nbf_and_iat_at_skew_boundary(void)
{
	const char *why;
	json_t *c = good_claims();
	json_object_set_new(c, "nbf", json_integer(NOW + 30));
	char *t = token_of(c);
	int ok = verify_at(ks, t, NOW, &why);
	int bad = verify_at(ks, t, NOW - 1, &why);
	free(t);
	EXPECT_INT(ok, ==, 0);
	EXPECT_INT(bad, ==, WIMS_EAUTH);
	EXPECT_STR(why, "token not yet valid (nbf)");
	c = good_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 31));
	json_object_del(c, "nbf");
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "token issued in the future (iat)");
	c = good_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 30));
	json_object_del(c, "nbf");
	t = token_of(c);
	ok = verify_at(ks, t, NOW, &why);
	free(t);
	EXPECT_INT(ok, ==, 0);
}

/* Extreme times neither overflow (UBSan watches) nor pass. */
static void extreme_times(void)
{
	json_t *c = good_claims();
	json_object_set_new(c, "nbf", json_integer(INT64_MIN));
	json_object_set_new(c, "iat", json_integer(INT64_MIN));
	json_object_set_new(c, "exp", json_integer(INT64_MAX));
	char *t = token_of(c);
	const char *why;
	int rc = verify_at(ks, t, NOW, &why);
	free(t);
	EXPECT_INT(rc, ==, 0);
	c = good_claims();
	json_object_set_new(c, "exp", json_integer(INT64_MIN));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "token expired");
	c = good_claims();
	json_object_set_new(c, "nbf", json_integer(INT64_MAX));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "token not yet valid (nbf)");
	c = good_claims();
	json_object_set_new(c, "exp", json_real(1e300));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "exp is not an integer");
}

static void refuses_wrong_iss_aud_scope(void)
{
	json_t *c = good_claims();
	json_object_set_new(c, "iss", json_string("https://evil.example.org"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "wrong iss");
	c = good_claims();
	json_object_set_new(c, "aud", json_string("other-pcscf"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "wrong aud");
	c = good_claims();
	json_object_set_new(c, "aud", json_pack("[s,s]", "a", "b"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "wrong aud");
	c = good_claims();
	json_object_set_new(c, "scope", json_string("openid ims:registerx ims:reg"));
	EXPECT_REFUSED(token_of(c), WIMS_EDENIED, "insufficient scope");
	c = good_claims();
	json_object_del(c, "scope");
	EXPECT_REFUSED(token_of(c), WIMS_EDENIED, "insufficient scope");
}

static void aud_array_accepted(void)
{
	json_t *c = good_claims();
	json_object_set_new(c, "aud", json_pack("[s,s]", "other", AUD));
	char *t = token_of(c);
	const char *why;
	int rc = verify_at(ks, t, NOW, &why);
	free(t);
	EXPECT_INT(rc, ==, 0);
}

static void refuses_missing_claims(void)
{
	static const struct {
		const char *name, *why;
	} cases[] = {
		{"exp", "no exp"},     {"iat", "no iat"},   {"sub", "no sub"},
		{"client_id", "no client_id"}, {"jti", "no jti"}, {"wwsf", "no wwsf"},
		{"impi", "no impi"},   {"impus", "no impus"}, {"iss", "wrong iss"},
		{"aud", "wrong aud"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *c = good_claims();
		json_object_del(c, cases[i].name);
		EXPECT_REFUSED(token_of(c), WIMS_EAUTH, cases[i].why);
	}
}

static void refuses_malformed_claims(void)
{
	json_t *c = good_claims();
	json_object_set_new(c, "exp", json_string("1700000300"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "exp is not an integer");
	c = good_claims();
	json_object_set_new(c, "exp", json_real(1700000300.0));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "exp is not an integer");
	c = good_claims();
	json_object_set_new(c, "nbf", json_true());
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "nbf is not an integer");
	c = good_claims();
	json_object_set_new(c, "impus", json_string("sip:alice@ims.example.org"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impus is not a non-empty array");
	c = good_claims();
	json_object_set_new(c, "impus", json_array());
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impus is not a non-empty array");
	c = good_claims();
	json_object_set_new(c, "impus", json_pack("[s,i]", "sip:a@b", 5));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impus holds a non-string or too long IMPU");
	c = good_claims();
	/* "\u0000" inside a string: jansson refuses it while parsing. */
	json_object_set_new(c, "impi", json_stringn("alice\0@x", 8));
	EXPECT_REFUSED(token_of(c), WIMS_EPARSE, "claims are not JSON");
	c = good_claims();
	json_object_set_new(c, "impus", json_pack("[s]", "sip:a@b\r\nVia: x"));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impus holds a non-string or too long IMPU");
	c = good_claims();
	json_object_set_new(c, "wwsf", json_integer(1));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "wwsf is not a short string");
}

static void refuses_claims_past_limits(void)
{
	char big[WIMS_IMPU_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "sip:", 4);
	json_t *c = good_claims();
	json_object_set_new(c, "impus", json_pack("[s]", big)); /* 256 chars: one too many */
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impus holds a non-string or too long IMPU");
	big[WIMS_IMPU_MAX - 1] = '\0'; /* 255 fits */
	c = good_claims();
	json_object_set_new(c, "impus", json_pack("[s]", big));
	char *t = token_of(c);
	const char *why;
	int rc = verify_at(ks, t, NOW, &why);
	free(t);
	EXPECT_INT(rc, ==, 0);
	c = good_claims();
	json_t *many = json_array();
	for (int i = 0; i <= WIMS_IRS_MAX_IMPUS; i++)
		json_array_append_new(many, json_string("tel:+1"));
	json_object_set_new(c, "impus", many);
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "too many impus");
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	c = good_claims();
	json_object_set_new(c, "impi", json_string(big));
	EXPECT_REFUSED(token_of(c), WIMS_EAUTH, "impi is not a short string");
}

static void refuses_oversized_token(void)
{
	json_t *c = good_claims();
	char pad[JWT_TOKEN_MAX];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	json_object_set_new(c, "pad", json_string(pad));
	EXPECT_REFUSED(token_of(c), WIMS_ETOOBIG, "token too long");
}

static void refuses_bad_framing(void)
{
	EXPECT_REFUSED(strdup("abc.def"), WIMS_EPARSE, "token is not three base64url parts");
	EXPECT_REFUSED(strdup("a.b.c.d"), WIMS_EPARSE, "token is not three base64url parts");
	EXPECT_REFUSED(strdup(".b.c"), WIMS_EPARSE, "token is not three base64url parts");
	EXPECT_REFUSED(strdup("a.b."), WIMS_EPARSE, "header is not JSON");
	EXPECT_REFUSED(strdup(""), WIMS_EPARSE, "token is not three base64url parts");
	EXPECT_REFUSED(strdup("ab+c.def.ghi"), WIMS_EPARSE, "token is not base64url");
	EXPECT_REFUSED(strdup("abc=.def.ghi"), WIMS_EPARSE, "token is not base64url");
	EXPECT_REFUSED(strdup("bm90IGpzb24.e30.AAAA"), WIMS_EPARSE, "header is not JSON");
	/* The payload is signed but is not JSON. */
	char h[256];
	snprintf(h, sizeof(h), "{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\"}",
		 jwt_key_kid(key));
	EXPECT_REFUSED(craft(h, "[1,2]", SIG_ES256, NULL, 0), WIMS_EPARSE, "claims are not JSON");
	EXPECT_REFUSED(craft(h, "{\"iss\":1,\"iss\":2}", SIG_ES256, NULL, 0), WIMS_EPARSE,
		       "claims are not JSON");
}

static void keyset_keeps_only_ec_p256_with_kid(void)
{
	char doc[2048];
	snprintf(doc, sizeof(doc),
		 "{\"keys\":["
		 "{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
		 "{\"kty\":\"oct\",\"kid\":\"o\",\"k\":\"c2VjcmV0\"},"
		 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"},"
		 "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"%s\",\"y\":\"%s\"},"
		 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"enc\",\"use\":\"enc\",\"x\":\"%s\",\"y\":\"%s\"},"
		 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"notoncurve\",\"x\":\"%s\",\"y\":\"%s\"},"
		 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"good\",\"x\":\"%s\",\"y\":\"%s\"},"
		 "\"junk\",7]}",
		 pub_x, pub_y, pub_x, pub_y, pub_x, pub_y, pub_x, pub_x, pub_x, pub_y);
	struct jwt_keyset *set;
	const char *why;
	EXPECT_INT(jwt_keyset_from_json(doc, strlen(doc), &set, &why), ==, 0);
	size_t n = jwt_keyset_count(set);
	/* A token under kid "good" verifies: the right key was kept. */
	char h[128], *c = good_claims_str();
	snprintf(h, sizeof(h), "{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"good\"}");
	char *t = craft(h, c, SIG_ES256, NULL, 0);
	free(c);
	int rc = verify_at(set, t, NOW, &why);
	free(t);
	jwt_keyset_free(set);
	EXPECT_INT(n, ==, 1);
	EXPECT_INT(rc, ==, 0);
}

/* cjose 0.6's base64 decoder assert()s on some malformed values (a '='
 * inside x, a part of 4n+1 characters): found by fuzz/jwt, so nothing
 * unchecked reaches it. */
static void malformed_base64_never_reaches_cjose(void)
{
	char doc[512];
	char x[44];
	snprintf(x, sizeof(x), "%s", pub_x);
	x[20] = '=';
	snprintf(doc, sizeof(doc),
		 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", x,
		 pub_y, pub_y);
	struct jwt_key *k;
	const char *why;
	EXPECT_INT(jwt_key_from_json(doc, strlen(doc), &k, &why), ==, WIMS_EPARSE);
	snprintf(doc, sizeof(doc),
		 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		 x, pub_y);
	struct jwt_keyset *set;
	EXPECT_INT(jwt_keyset_from_json(doc, strlen(doc), &set, &why), ==, 0);
	size_t n = jwt_keyset_count(set);
	jwt_keyset_free(set);
	EXPECT_INT(n, ==, 0);
	/* A good header and signature around 5 payload characters. */
	char *t = token_of(good_claims());
	char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
	char tok[512];
	snprintf(tok, sizeof(tok), "%.*s.AAAAA%s", (int)(d1 - t), t, d2);
	free(t);
	EXPECT_REFUSED(strdup(tok), WIMS_EPARSE, "claims are not base64url");
}

static void keyset_is_bounded(void)
{
	char doc[8192] = "{\"keys\":[";
	for (int i = 0; i < JWT_KEYSET_MAX + 3; i++) {
		char k[256];
		snprintf(k, sizeof(k), "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k%d\",\"x\":\"%s\",\"y\":\"%s\"}",
			 i ? "," : "", i, pub_x, pub_y);
		strncat(doc, k, sizeof(doc) - strlen(doc) - 1);
	}
	strncat(doc, "]}", sizeof(doc) - strlen(doc) - 1);
	struct jwt_keyset *set;
	const char *why;
	EXPECT_INT(jwt_keyset_from_json(doc, strlen(doc), &set, &why), ==, 0);
	size_t n = jwt_keyset_count(set);
	jwt_keyset_free(set);
	EXPECT_INT(n, ==, JWT_KEYSET_MAX);
}

static void keyset_refuses_bad_documents(void)
{
	struct jwt_keyset *set;
	const char *why;
	EXPECT_INT(jwt_keyset_from_json("not json", 8, &set, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "JWKS is not a JSON object");
	EXPECT_INT(jwt_keyset_from_json("{\"keys\":{}}", 11, &set, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "JWKS has no keys array");
	EXPECT_INT(jwt_keyset_from_json("{}", 100000, &set, &why), ==, WIMS_ETOOBIG);
	EXPECT_TRUE(set == NULL);
}

/* --- jwt_claims_check: the claims alone (a JWT's, an introspection
 * answer's) --- */

/* good_claims() with name removed (value NULL) or set to the JSON text
 * value, checked with flags at NOW. */
static int check_changed(const char *name, const char *value, unsigned flags,
			 struct jwt_claims *out, const char **why)
{
	json_t *c = good_claims();
	if (name && !value)
		json_object_del(c, name);
	else if (name)
		json_object_set_new(c, name, json_loads(value, JSON_DECODE_ANY, NULL));
	char *s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	int rc = jwt_claims_check(s, strlen(s), &want, flags, NOW, out, why);
	free(s);
	return rc;
}

static void claims_check_copies_the_claims(void)
{
	struct jwt_claims out;
	const char *why = NULL;
	EXPECT_INT(check_changed(NULL, NULL, 0, &out, &why), ==, 0);
	EXPECT_STR(why, "");
	EXPECT_STR(out.iss, ISS);
	EXPECT_STR(out.aud, AUD);
	EXPECT_STR(out.sub, "alice@ims.example.org");
	EXPECT_STR(out.client_id, "wwsf-1");
	EXPECT_STR(out.jti, "j-1");
	EXPECT_STR(out.scope, "openid ims:register");
	EXPECT_STR(out.wwsf, "https://wwsf.example.org");
	EXPECT_STR(out.impi, "alice@ims.example.org");
	EXPECT_INT(out.n_impus, ==, 2);
	EXPECT_STR(out.impus[1], "tel:+15550000001");
	EXPECT_INT(out.exp, ==, NOW + 300);
	EXPECT_INT(out.iat, ==, NOW);
	EXPECT_INT(out.nbf, ==, NOW);
	/* An introspection answer: the same, but the jti is not read. */
	struct jwt_claims in;
	EXPECT_INT(check_changed(NULL, NULL, JWT_CLAIMS_INTROSPECTION, &in, &why), ==, 0);
	EXPECT_STR(in.jti, "");
	snprintf(in.jti, sizeof(in.jti), "j-1");
	EXPECT_MEM(&in, &out, sizeof(out));
}

/* Every reason jwt_claims_check gives, each mounted alone. */
static void claims_check_refuses_each_claim(void)
{
	static const struct {
		const char *name, *value; /* value NULL: the claim removed */
		int rc;
		const char *why;
	} cases[] = {
		{"iss", NULL, WIMS_EAUTH, "wrong iss"},
		{"iss", "\"https://evil.example.org\"", WIMS_EAUTH, "wrong iss"},
		{"iss", "7", WIMS_EAUTH, "wrong iss"},
		{"aud", NULL, WIMS_EAUTH, "wrong aud"},
		{"aud", "\"other-pcscf\"", WIMS_EAUTH, "wrong aud"},
		{"aud", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"" AUD "\"]", WIMS_EAUTH,
		 "wrong aud"}, /* past JWT_AUD_MAX entries */
		{"exp", NULL, WIMS_EAUTH, "no exp"},
		{"exp", "\"1700000300\"", WIMS_EAUTH, "exp is not an integer"},
		{"iat", NULL, WIMS_EAUTH, "no iat"},
		{"iat", "1700000000.5", WIMS_EAUTH, "iat is not an integer"},
		{"nbf", "null", WIMS_EAUTH, "nbf is not an integer"},
		{"exp", "1699999970", WIMS_EAUTH, "token expired"}, /* NOW - skew */
		{"nbf", "1700000031", WIMS_EAUTH, "token not yet valid (nbf)"},
		{"iat", "1700000031", WIMS_EAUTH, "token issued in the future (iat)"},
		{"sub", NULL, WIMS_EAUTH, "no sub"},
		{"sub", "\"\"", WIMS_EAUTH, "sub is not a short string"},
		{"client_id", NULL, WIMS_EAUTH, "no client_id"},
		{"client_id", "[\"wwsf-1\"]", WIMS_EAUTH, "client_id is not a short string"},
		{"jti", NULL, WIMS_EAUTH, "no jti"},
		{"jti", "\"j\\u0001\"", WIMS_EAUTH, "jti is not a short string"},
		{"scope", "5", WIMS_EAUTH, "scope is not a short string"},
		{"wwsf", NULL, WIMS_EAUTH, "no wwsf"},
		{"wwsf", "\"https://a\\r\\nVia: x\"", WIMS_EAUTH, "wwsf is not a short string"},
		{"impi", NULL, WIMS_EAUTH, "no impi"},
		{"impi", "{}", WIMS_EAUTH, "impi is not a short string"},
		{"impus", NULL, WIMS_EAUTH, "no impus"},
		{"impus", "[]", WIMS_EAUTH, "impus is not a non-empty array"},
		{"impus", "\"sip:alice@ims.example.org\"", WIMS_EAUTH,
		 "impus is not a non-empty array"},
		{"impus", "[\"sip:a@b\",null]", WIMS_EAUTH,
		 "impus holds a non-string or too long IMPU"},
		{"scope", "\"openid ims:registerx\"", WIMS_EDENIED, "insufficient scope"},
		{"scope", NULL, WIMS_EDENIED, "insufficient scope"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jwt_claims out;
		const char *why = NULL;
		int rc = check_changed(cases[i].name, cases[i].value, 0, &out, &why);
		EXPECT_INT(rc, ==, cases[i].rc);
		EXPECT_STR(why, cases[i].why);
		EXPECT_STR(out.impi, ""); /* nothing handed out on a refusal */
		EXPECT_INT(out.n_impus, ==, 0);
	}
	json_t *many = json_array();
	for (int i = 0; i <= WIMS_IRS_MAX_IMPUS; i++)
		json_array_append_new(many, json_string("tel:+1"));
	char *m = json_dumps(many, JSON_COMPACT);
	json_decref(many);
	struct jwt_claims out;
	const char *why = NULL;
	EXPECT_INT(check_changed("impus", m, 0, &out, &why), ==, WIMS_EAUTH);
	free(m);
	EXPECT_STR(why, "too many impus");
}

static void claims_check_refuses_what_is_not_one_object(void)
{
	struct jwt_claims out;
	const char *why = NULL;
	EXPECT_INT(jwt_claims_check("[1,2]", 5, &want, 0, NOW, &out, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "claims are not JSON");
	EXPECT_INT(jwt_claims_check("{\"iss\":1", 8, &want, 0, NOW, &out, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "claims are not JSON");
	/* Two "iss": a reader keeping the last would see another issuer. */
	char *c = good_claims_str();
	char dup[1024];
	snprintf(dup, sizeof(dup), "{\"iss\":\"https://evil.example.org\",%s", c + 1);
	free(c);
	EXPECT_INT(jwt_claims_check(dup, strlen(dup), &want, JWT_CLAIMS_INTROSPECTION, NOW, &out,
				    &why),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "claims are not JSON");
	EXPECT_INT(jwt_claims_check("{}", JWT_CLAIMS_MAX + 1, &want, 0, NOW, &out, &why), ==,
		   WIMS_ETOOBIG);
	EXPECT_STR(why, "claims too long");
}

/* RFC 7662 2.2: in an answer iat, sub and client_id are optional (checked
 * when present) and jti is not read; the rest is required as in a JWT. */
static void claims_check_introspection_differences(void)
{
	static const char *const optional[] = {"iat", "sub", "client_id", "jti"};
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		struct jwt_claims out;
		const char *why = NULL;
		int rc = check_changed(optional[i], NULL, JWT_CLAIMS_INTROSPECTION, &out, &why);
		EXPECT_INT(rc, ==, 0);
		EXPECT_STR(out.impi, "alice@ims.example.org");
	}
	static const struct {
		const char *name, *value;
		const char *why;
	} cases[] = {
		{"iat", "1700000000.5", "iat is not an integer"},
		{"iat", "1700000031", "token issued in the future (iat)"},
		{"sub", "\"\"", "sub is not a short string"},
		{"client_id", "7", "client_id is not a short string"},
		{"exp", NULL, "no exp"},
		{"iss", NULL, "wrong iss"},
		{"aud", NULL, "wrong aud"},
		{"wwsf", NULL, "no wwsf"},
		{"impi", NULL, "no impi"},
		{"impus", NULL, "impus is not a non-empty array"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jwt_claims out;
		const char *why = NULL;
		int rc = check_changed(cases[i].name, cases[i].value, JWT_CLAIMS_INTROSPECTION,
				       &out, &why);
		EXPECT_INT(rc, ==, WIMS_EAUTH);
		EXPECT_STR(why, cases[i].why);
	}
	/* A jti is not read, so a malformed one is no reason to refuse. */
	struct jwt_claims out;
	const char *why = NULL;
	EXPECT_INT(check_changed("jti", "[1]", JWT_CLAIMS_INTROSPECTION, &out, &why), ==, 0);
	EXPECT_STR(out.jti, "");
	EXPECT_INT(check_changed("scope", NULL, JWT_CLAIMS_INTROSPECTION, &out, &why), ==,
		   WIMS_EDENIED);
	EXPECT_STR(why, "insufficient scope");
}

static void token_hash_is_sha256(void)
{
	/* SHA-256("abc"), FIPS 180-2 B.1. */
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t out[32];
	EXPECT_INT(jwt_token_hash("abc", 3, out), ==, 0);
	EXPECT_MEM(out, abc, 32);
}

int main(void)
{
	if (setup() != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	snprintf(good_hdr, sizeof(good_hdr), "{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"%s\"}",
		 jwt_key_kid(key));
	UNIT_RUN(thumbprint_of_rfc7517_a1_key);
	UNIT_RUN(loaded_key_kid_is_thumbprint);
	UNIT_RUN(openssl_signed_token_verifies);
	UNIT_RUN(sign_verify_round_trip);
	UNIT_RUN(sign_header_is_rfc9068);
	UNIT_RUN(crafted_good_token_accepted);
	UNIT_RUN(typ_application_at_jwt_accepted);
	UNIT_RUN(refuses_typ_jwt_and_missing_typ);
	UNIT_RUN(refuses_alg_none);
	UNIT_RUN(refuses_hs256_with_public_jwk);
	UNIT_RUN(refuses_hs256_with_public_pem);
	UNIT_RUN(refuses_rs256_es384_and_missing_alg);
	UNIT_RUN(refuses_crit_and_duplicate_header_names);
	UNIT_RUN(refuses_unknown_and_missing_kid);
	UNIT_RUN(ignores_keys_carried_in_the_header);
	UNIT_RUN(refuses_tampered_payload);
	UNIT_RUN(refuses_tampered_signature);
	UNIT_RUN(refuses_truncated_signature);
	UNIT_RUN(refuses_der_signature);
	UNIT_RUN(refuses_noncanonical_signature);
	UNIT_RUN(every_prefix_refused);
	UNIT_RUN(key_rotation);
	UNIT_RUN(key_survives_save_and_load);
	UNIT_RUN(expiry_at_skew_boundary);
	UNIT_RUN(nbf_and_iat_at_skew_boundary);
	UNIT_RUN(extreme_times);
	UNIT_RUN(refuses_wrong_iss_aud_scope);
	UNIT_RUN(aud_array_accepted);
	UNIT_RUN(refuses_missing_claims);
	UNIT_RUN(refuses_malformed_claims);
	UNIT_RUN(refuses_claims_past_limits);
	UNIT_RUN(refuses_oversized_token);
	UNIT_RUN(refuses_bad_framing);
	UNIT_RUN(keyset_keeps_only_ec_p256_with_kid);
	UNIT_RUN(malformed_base64_never_reaches_cjose);
	UNIT_RUN(keyset_is_bounded);
	UNIT_RUN(keyset_refuses_bad_documents);
	UNIT_RUN(token_hash_is_sha256);
	UNIT_RUN(claims_check_copies_the_claims);
	UNIT_RUN(claims_check_refuses_each_claim);
	UNIT_RUN(claims_check_refuses_what_is_not_one_object);
	UNIT_RUN(claims_check_introspection_differences);
	jwt_keyset_free(ks);
	jwt_key_free(key);
	EVP_PKEY_free(pkey);
	return UNIT_MAIN_END();
}
