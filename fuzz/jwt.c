/*
 * jwt.c - fuzz target for src/auth/jwt: access-token verification with a
 * fixed keyset, JWKS documents and private JWKs from the outside.
 *
 * Input layout: byte 0 selects the target, the rest is the input:
 * 0 jwt_verify_access_token (the token), 1 jwt_keyset_from_json, 2
 * jwt_key_from_json, 3 jwt_claims_check (the claims JSON, read as a JWT's
 * and as an introspection answer's).  The keyset holds one P-256 key (kid
 * = its RFC 7638 thumbprint) whose private half signed the corpus's valid
 * token with openssl, so the fuzzer starts from a token that verifies.
 * Properties checked: no crash, overread or leak (ASan); return values in
 * their documented sets with a reason; accepted claims within their
 * bounds; an accepted token refused when a scope it lacks is required;
 * claims a JWT may carry are claims an introspection answer may carry,
 * read alike (but for the jti, which an answer's reading skips).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/wims.h"
#include "fuzz.h"

#define NOW 1700000100

static const char jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	"\"kid\":\"dJImHRFU7VNS7K77Cc5rH82eVlKSycRA9ns4IuA8cRI\","
	"\"x\":\"0ddG2lda0XC7gtEDtvqfG98E6SfyCiZvxuhSYcKuRmM\","
	"\"y\":\"GdctpN0oLfrUynBcgkatrFkmpXtqcnbHLb5pnYntafw\"}]}";

static struct jwt_keyset *ks;

static void bounded(const char *s, size_t max)
{
	if (strnlen(s, max) >= max)
		abort();
}

static void check_verify(const char *p, size_t n)
{
	if (!ks) {
		const char *why;
		if (jwt_keyset_from_json(jwks, strlen(jwks), &ks, &why) != 0 ||
		    jwt_keyset_count(ks) != 1)
			abort();
	}
	static struct jwt_claims out;
	const struct jwt_expect want = {"https://waf.ims.example.org", "pcscf.ims.example.org",
					"ims:register", 30};
	const char *why = NULL;
	int rc = jwt_verify_access_token(ks, p, n, &want, NOW, &out, &why);
	if (!why)
		abort();
	if (rc != 0) {
		if (rc != WIMS_ETOOBIG && rc != WIMS_EPARSE && rc != WIMS_EAUTH &&
		    rc != WIMS_EDENIED && rc != WIMS_ENOMEM)
			abort();
		if (!why[0] || out.n_impus != 0 || out.impi[0])
			abort();
		return;
	}
	if (out.n_impus == 0 || out.n_impus > WIMS_IRS_MAX_IMPUS || !out.impi[0] || !out.wwsf[0])
		abort();
	bounded(out.impi, sizeof(out.impi));
	bounded(out.wwsf, sizeof(out.wwsf));
	for (size_t i = 0; i < out.n_impus; i++)
		bounded(out.impus[i], WIMS_IMPU_MAX);
	if (out.exp <= NOW - 30)
		abort();
	const struct jwt_expect more = {want.iss, want.aud, "scope-nobody-has", 30};
	if (jwt_verify_access_token(ks, p, n, &more, NOW, &out, &why) != WIMS_EDENIED)
		abort();
	uint8_t h[32];
	if (jwt_token_hash(p, n, h) != 0)
		abort();
}

/* Refusals in their documented set, with a reason and nothing handed out;
 * acceptances within bounds.  The return code. */
static int claims_checked(const char *p, size_t n, const struct jwt_expect *want,
			  unsigned flags, struct jwt_claims *out)
{
	const char *why = NULL;
	int rc = jwt_claims_check(p, n, want, flags, NOW, out, &why);
	if (!why)
		abort();
	if (rc != 0) {
		if ((rc != WIMS_ETOOBIG && rc != WIMS_EPARSE && rc != WIMS_EAUTH &&
		     rc != WIMS_EDENIED) ||
		    !why[0] || out->n_impus != 0 || out->impi[0])
			abort();
		return rc;
	}
	if (why[0] || out->n_impus == 0 || out->n_impus > WIMS_IRS_MAX_IMPUS || !out->impi[0] ||
	    !out->wwsf[0] || out->exp <= NOW - 30)
		abort();
	bounded(out->impi, sizeof(out->impi));
	bounded(out->wwsf, sizeof(out->wwsf));
	bounded(out->jti, sizeof(out->jti));
	for (size_t i = 0; i < out->n_impus; i++)
		bounded(out->impus[i], WIMS_IMPU_MAX);
	return 0;
}

static void check_claims(const char *p, size_t n)
{
	const struct jwt_expect want = {"https://waf.ims.example.org", "pcscf.ims.example.org",
					"ims:register", 30};
	static struct jwt_claims jwt, answer;
	int rj = claims_checked(p, n, &want, 0, &jwt);
	int ra = claims_checked(p, n, &want, JWT_CLAIMS_INTROSPECTION, &answer);
	if (rj == 0) {
		/* the answer's reading only relaxes the token's */
		if (ra != 0)
			abort();
		memset(jwt.jti, 0, sizeof(jwt.jti));
		if (memcmp(&jwt, &answer, sizeof(jwt)) != 0)
			abort();
		const struct jwt_expect more = {want.iss, want.aud, "scope-nobody-has", 30};
		if (claims_checked(p, n, &more, 0, &jwt) != WIMS_EDENIED)
			abort();
	}
}

static void check_keyset(const char *p, size_t n)
{
	struct jwt_keyset *set = NULL;
	const char *why = NULL;
	int rc = jwt_keyset_from_json(p, n, &set, &why);
	if (rc == 0) {
		if (!set || jwt_keyset_count(set) > JWT_KEYSET_MAX)
			abort();
	} else if ((rc != WIMS_EPARSE && rc != WIMS_ETOOBIG && rc != WIMS_ENOMEM) || set) {
		abort();
	}
	jwt_keyset_free(set);
}

static void check_key(const char *p, size_t n)
{
	struct jwt_key *key = NULL;
	const char *why = NULL;
	int rc = jwt_key_from_json(p, n, &key, &why);
	if (rc == 0) {
		if (strlen(jwt_key_kid(key)) != 43)
			abort();
	} else if ((rc != WIMS_EPARSE && rc != WIMS_ENOMEM) || key) {
		abort();
	}
	jwt_key_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_check_fn checks[] = {check_verify, check_keyset, check_key, check_claims};
	return fuzz_pick_check(data, size, checks, WIMS_ARRAY_LEN(checks));
}
