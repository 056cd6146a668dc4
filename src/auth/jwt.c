/*
 * jwt.c - RFC 9068 access tokens with ES256: keys, signing, verification.
 *
 * The contract is in jwt.h.  The verifier splits and decodes the token
 * itself and checks the header against a fixed allow-list (typ at+jwt,
 * alg ES256, a kid we hold, no "crit") before cjose sees it, for three
 * reasons: the token never chooses the algorithm or the key (the
 * "alg":"none" and HS256-with-the-public-key attacks stop here); JSON with
 * duplicate names is refused (jansson's JSON_REJECT_DUPLICATES), so the
 * header we check is the header cjose reads; and the signature must be
 * exactly 64 bytes of r || s (RFC 7518 3.4) before cjose reads 2 x 32
 * bytes of it (cjose 0.6 does not check the length itself, and a DER
 * signature is refused here by its length).  Claims are read only from a
 * payload whose signature verified.
 *
 * The claim checks (jwt_claims_check) are the pcscf's too, for an RFC 7662
 * introspection answer: one reading of iss, aud, the times and the
 * identities whichever way a token was validated.
 */
#include "auth/jwt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/b64url.h"
#include "core/wims.h"

/* Characters of base64url for one P-256 coordinate (32 bytes). */
#define COORD_B64_LEN 43
#define SIG_LEN 64
/* A JWKS document: a few keys of ~200 bytes each; far more is refused. */
#define JWKS_MAX (JWT_TOKEN_MAX * 4)

struct jwt_keyset {
	size_t n;
	char kid[JWT_KEYSET_MAX][JWT_KID_MAX];
	cjose_jwk_t *jwk[JWT_KEYSET_MAX];
};

struct jwt_key {
	cjose_jwk_t *jwk;
	char kid[44];
	char x[COORD_B64_LEN + 1];
	char y[COORD_B64_LEN + 1];
};

/* --- helpers --- */

/* Bytes that len base64url characters decode to, or -1 for an impossible
 * length. */
static long b64url_decoded_len(size_t len)
{
	if (len % 4 == 1)
		return -1;
	return (long)(len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0));
}

static bool b64url_chars(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b64url_value(p[i]) < 0)
			return false;
	return true;
}

/* Decode one part into a new buffer (NUL-terminated for the reader's
 * convenience).  NULL if it is not canonical base64url. */
static uint8_t *b64url_dup(const char *p, size_t len, size_t *outlen)
{
	long n = b64url_decoded_len(len);
	if (n < 0)
		return NULL;
	uint8_t *out = malloc((size_t)n + 1);
	if (!out)
		return NULL;
	if (b64url_decode_exact(p, len, out, (size_t)n) != 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = (size_t)n;
	return out;
}

/* A JSON object, refusing duplicate names (one reading for everyone). */
static json_t *json_object_load(const uint8_t *p, size_t len)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &err);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A string claim without NUL or control characters (they would end up in
 * SIP headers and logs) that fits in dstsz. */
static bool str_ok(const json_t *v, size_t dstsz)
{
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n >= dstsz || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void str_put(char *dst, size_t dstsz, const json_t *v)
{
	snprintf(dst, dstsz, "%s", json_string_value(v));
}

/* Does the space-separated list hold the token want (RFC 6749 3.3)? */
static bool scope_has(const char *list, const char *want)
{
	size_t wl = strlen(want);
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) == wl && wl && strncmp(p, want, wl) == 0)
			return true;
		p = e;
	}
	return false;
}

/* --- thumbprint and keys --- */

int jwt_ec_thumbprint(const char *x, const char *y, char out[44])
{
	out[0] = '\0';
	if (strlen(x) != COORD_B64_LEN || strlen(y) != COORD_B64_LEN ||
	    !b64url_chars(x, COORD_B64_LEN) || !b64url_chars(y, COORD_B64_LEN))
		return WIMS_EINVAL;
	/* RFC 7638 3.2: the required members only, sorted, no whitespace. */
	char canon[128];
	int n = snprintf(canon, sizeof(canon), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
			 x, y);
	if (n < 0 || (size_t)n >= sizeof(canon))
		return WIMS_EINVAL;
	uint8_t md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(canon, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return WIMS_EINVAL;
	size_t k = b64url_encode(md, 32, out);
	out[k] = '\0';
	return 0;
}

/* Exactly 32 bytes in canonical base64url.  Everything handed to cjose is
 * checked so first: cjose 0.6's decoder assert()s (aborts the process) on
 * some malformed input, e.g. a '=' inside a value. */
static bool coord_ok(const char *v)
{
	uint8_t raw[32];
	return v && strlen(v) == COORD_B64_LEN &&
	       b64url_decode_exact(v, COORD_B64_LEN, raw, sizeof(raw)) == 0;
}

/* x and y of an EC P-256 JWK object, checked for form.  0 or -1. */
static int ec_coords(const json_t *j, const char **x, const char **y)
{
	const char *kty = json_string_value(json_object_get(j, "kty"));
	const char *crv = json_string_value(json_object_get(j, "crv"));
	*x = json_string_value(json_object_get(j, "x"));
	*y = json_string_value(json_object_get(j, "y"));
	if (!kty || !crv || !*x || !*y || strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0)
		return -1;
	if (!coord_ok(*x) || !coord_ok(*y))
		return -1;
	return 0;
}

/* A cjose key holding only the public point (never a "d" a careless JWKS
 * published). */
static cjose_jwk_t *ec_public_jwk(const char *x, const char *y)
{
	json_t *pub = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y);
	if (!pub)
		return NULL;
	char *s = json_dumps(pub, JSON_COMPACT);
	json_decref(pub);
	if (!s)
		return NULL;
	cjose_err err;
	cjose_jwk_t *jwk = cjose_jwk_import(s, strlen(s), &err);
	free(s);
	return jwk;
}

int jwt_keyset_from_json(const char *json, size_t len, struct jwt_keyset **out, const char **why)
{
	*out = NULL;
	*why = "";
	if (len > JWKS_MAX) {
		*why = "JWKS too large";
		return WIMS_ETOOBIG;
	}
	json_t *doc = json_object_load((const uint8_t *)json, len);
	if (!doc) {
		*why = "JWKS is not a JSON object";
		return WIMS_EPARSE;
	}
	json_t *keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		json_decref(doc);
		*why = "JWKS has no keys array";
		return WIMS_EPARSE;
	}
	struct jwt_keyset *ks = calloc(1, sizeof(*ks));
	if (!ks) {
		json_decref(doc);
		return WIMS_ENOMEM;
	}
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k)
	{
		if (ks->n == JWT_KEYSET_MAX)
			break;
		const char *x, *y;
		if (!json_is_object(k) || ec_coords(k, &x, &y) != 0)
			continue;
		json_t *kid = json_object_get(k, "kid");
		if (!str_ok(kid, JWT_KID_MAX))
			continue;
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *alg = json_string_value(json_object_get(k, "alg"));
		if ((json_object_get(k, "use") && (!use || strcmp(use, "sig") != 0)) ||
		    (json_object_get(k, "alg") && (!alg || strcmp(alg, "ES256") != 0)))
			continue;
		/* Two keys with one kid: the first wins, as a lookup would. */
		bool dup = false;
		for (size_t d = 0; d < ks->n; d++)
			dup |= strcmp(ks->kid[d], json_string_value(kid)) == 0;
		if (dup)
			continue;
		/* cjose checks that the point is on the curve. */
		cjose_jwk_t *jwk = ec_public_jwk(x, y);
		if (!jwk)
			continue;
		str_put(ks->kid[ks->n], JWT_KID_MAX, kid);
		ks->jwk[ks->n++] = jwk;
	}
	json_decref(doc);
	*out = ks;
	return 0;
}

void jwt_keyset_free(struct jwt_keyset *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		cjose_jwk_release(ks->jwk[i]);
	free(ks);
}

size_t jwt_keyset_count(const struct jwt_keyset *ks)
{
	return ks ? ks->n : 0;
}

static const cjose_jwk_t *keyset_find(const struct jwt_keyset *ks, const char *kid)
{
	for (size_t i = 0; ks && i < ks->n; i++)
		if (strcmp(ks->kid[i], kid) == 0)
			return ks->jwk[i];
	return NULL;
}

/* Fill key->x, y, kid from key->jwk. */
static int key_finish(struct jwt_key *key)
{
	cjose_err err;
	char *pub = cjose_jwk_to_json(key->jwk, false, &err);
	if (!pub)
		return WIMS_ENOMEM;
	json_t *j = json_object_load((const uint8_t *)pub, strlen(pub));
	free(pub);
	const char *x, *y;
	int rc = WIMS_EPARSE;
	if (j && ec_coords(j, &x, &y) == 0) {
		snprintf(key->x, sizeof(key->x), "%s", x);
		snprintf(key->y, sizeof(key->y), "%s", y);
		rc = jwt_ec_thumbprint(key->x, key->y, key->kid) ? WIMS_EPARSE : 0;
	}
	json_decref(j);
	if (rc == 0 && !cjose_jwk_set_kid(key->jwk, key->kid, strlen(key->kid), &err))
		rc = WIMS_ENOMEM;
	return rc;
}

struct jwt_key *jwt_key_generate(void)
{
	struct jwt_key *key = calloc(1, sizeof(*key));
	if (!key)
		return NULL;
	cjose_err err;
	key->jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
	if (!key->jwk || key_finish(key) != 0) {
		jwt_key_free(key);
		return NULL;
	}
	return key;
}

int jwt_key_from_json(const char *json, size_t len, struct jwt_key **out, const char **why)
{
	*out = NULL;
	*why = "";
	json_t *j = len <= JWKS_MAX ? json_object_load((const uint8_t *)json, len) : NULL;
	const char *x, *y, *d = json_string_value(json_object_get(j, "d"));
	if (!j || ec_coords(j, &x, &y) != 0 || !coord_ok(d)) {
		json_decref(j);
		*why = "not a private EC P-256 JWK";
		return WIMS_EPARSE;
	}
	/* cjose reads only the members we checked. */
	json_t *clean = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x,
				  "y", y, "d", d);
	char *s = clean ? json_dumps(clean, JSON_COMPACT) : NULL;
	json_decref(clean);
	json_decref(j);
	struct jwt_key *key = s ? calloc(1, sizeof(*key)) : NULL;
	if (!key) {
		free(s);
		return WIMS_ENOMEM;
	}
	cjose_err err;
	key->jwk = cjose_jwk_import(s, strlen(s), &err);
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	if (!key->jwk || key_finish(key) != 0) {
		jwt_key_free(key);
		*why = "JWK refused by cjose";
		return WIMS_EPARSE;
	}
	*out = key;
	return 0;
}

void jwt_key_free(struct jwt_key *key)
{
	if (!key)
		return;
	if (key->jwk)
		cjose_jwk_release(key->jwk);
	free(key);
}

char *jwt_key_private_json(const struct jwt_key *key)
{
	cjose_err err;
	return cjose_jwk_to_json(key->jwk, true, &err);
}

char *jwt_key_public_json(const struct jwt_key *key)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
			      "x", key->x, "y", key->y, "kid", key->kid, "use", "sig", "alg", "ES256");
	if (!j)
		return NULL;
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

const char *jwt_key_kid(const struct jwt_key *key)
{
	return key->kid;
}

/* --- signing --- */

static json_t *claims_json(const struct jwt_claims *c)
{
	char jti[JWT_JTI_MAX];
	if (c->jti[0]) {
		snprintf(jti, sizeof(jti), "%s", c->jti);
	} else {
		uint8_t rnd[16];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return NULL;
		jti[b64url_encode(rnd, sizeof(rnd), jti)] = '\0';
	}
	json_t *impus = json_array();
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:o}", "iss", c->iss,
			      "sub", c->sub, "aud", c->aud, "exp", (json_int_t)c->exp, "iat",
			      (json_int_t)c->iat, "jti", jti, "client_id", c->client_id, "wwsf",
			      c->wwsf, "impi", c->impi, "impus", impus);
	if (!j)
		return NULL;
	for (size_t i = 0; i < c->n_impus; i++)
		if (json_array_append_new(impus, json_string(c->impus[i])) != 0)
			goto fail;
	if (c->nbf && json_object_set_new(j, "nbf", json_integer((json_int_t)c->nbf)) != 0)
		goto fail;
	if (c->scope[0] && json_object_set_new(j, "scope", json_string(c->scope)) != 0)
		goto fail;
	return j;
fail:
	json_decref(j);
	return NULL;
}

/* A field the verifier will accept: NUL-terminated inside its array, no
 * control characters, non-empty unless may_be_empty. */
static bool field_ok(const char *s, size_t size, bool may_be_empty)
{
	size_t n = strnlen(s, size);
	if (n == size || (n == 0 && !may_be_empty))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

#define FIELD_OK(c, f, empty) field_ok((c)->f, sizeof((c)->f), empty)

int jwt_sign_access_token(const struct jwt_key *key, const struct jwt_claims *c, char **out)
{
	*out = NULL;
	/* Never issue what jwt_verify_access_token would refuse. */
	if (!FIELD_OK(c, iss, false) || !FIELD_OK(c, aud, false) || !FIELD_OK(c, sub, false) ||
	    !FIELD_OK(c, impi, false) || !FIELD_OK(c, wwsf, false) ||
	    !FIELD_OK(c, client_id, false) || !FIELD_OK(c, scope, true) ||
	    !FIELD_OK(c, jti, true) || c->n_impus == 0 || c->n_impus > WIMS_IRS_MAX_IMPUS ||
	    c->exp <= c->iat)
		return WIMS_EINVAL;
	for (size_t i = 0; i < c->n_impus; i++)
		if (!field_ok(c->impus[i], WIMS_IMPU_MAX, false))
			return WIMS_EINVAL;
	json_t *j = claims_json(c);
	if (!j)
		return WIMS_ENOMEM;
	char *payload = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!payload)
		return WIMS_ENOMEM;
	int rc = WIMS_ENOMEM;
	cjose_err err;
	cjose_jws_t *jws = NULL;
	cjose_header_t *hdr = cjose_header_new(&err);
	/* RFC 9068 2.1: typ "at+jwt" tells an access token from an ID token. */
	if (hdr && cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err) &&
	    cjose_header_set(hdr, "typ", "at+jwt", &err) &&
	    cjose_header_set(hdr, CJOSE_HDR_KID, key->kid, &err))
		jws = cjose_jws_sign(key->jwk, hdr, (const uint8_t *)payload, strlen(payload), &err);
	const char *compact = NULL;
	if (jws && cjose_jws_export(jws, &compact, &err) && compact) {
		*out = strdup(compact);
		rc = *out ? 0 : WIMS_ENOMEM;
	}
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	free(payload);
	return rc;
}

/* --- verification --- */

/* The header checks, before any key is touched.  NULL or the reason. */
static const char *check_header(const json_t *h, const struct jwt_keyset *ks,
				const cjose_jwk_t **jwk)
{
	/* RFC 9068 2.1 and 4: typ must be at+jwt (media types compare
	 * case-insensitively, RFC 7515 4.1.9). */
	const char *typ = json_string_value(json_object_get(h, "typ"));
	if (!typ || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0))
		return "typ is not at+jwt";
	/* RFC 8725 3.1: our allow-list is ES256 alone, whatever the token says. */
	json_t *algv = json_object_get(h, "alg");
	if (!algv)
		return "no alg";
	const char *alg = json_string_value(algv);
	if (!alg)
		return "alg is not a string";
	if (strcasecmp(alg, "none") == 0)
		return "alg none refused";
	if (strcmp(alg, "ES256") != 0)
		return "alg not allowed (only ES256)";
	/* RFC 7515 4.1.11: we understand no extension. */
	if (json_object_get(h, "crit"))
		return "crit header not understood";
	json_t *kidv = json_object_get(h, "kid");
	if (!kidv)
		return "no kid";
	if (!str_ok(kidv, JWT_KID_MAX))
		return "kid is not a short string";
	*jwk = keyset_find(ks, json_string_value(kidv));
	if (!*jwk)
		return "unknown kid";
	return NULL;
}

/* exp, iat, nbf as integers; iat may be absent where !iat_required.
 * NULL or the reason. */
static const char *check_times(const json_t *c, const struct jwt_expect *want, bool iat_required,
			       int64_t now, struct jwt_claims *out)
{
	int64_t skew = want->skew_s < 0 ? JWT_SKEW_DEFAULT_S : want->skew_s;
	json_t *exp = json_object_get(c, "exp");
	json_t *iat = json_object_get(c, "iat");
	json_t *nbf = json_object_get(c, "nbf");
	if (!exp)
		return "no exp";
	if (!json_is_integer(exp))
		return "exp is not an integer";
	if (!iat && iat_required)
		return "no iat";
	if (iat && !json_is_integer(iat))
		return "iat is not an integer";
	if (nbf && !json_is_integer(nbf))
		return "nbf is not an integer";
	out->exp = json_integer_value(exp);
	out->iat = iat ? json_integer_value(iat) : 0;
	out->nbf = nbf ? json_integer_value(nbf) : 0;
	/* RFC 7519 4.1.4: not accepted on or after exp (plus the skew).  The
	 * skew moves now, never a token value: INT64_MIN +- skew would
	 * overflow. */
	if (now - skew >= out->exp)
		return "token expired";
	if (nbf && out->nbf > now + skew)
		return "token not yet valid (nbf)";
	if (iat && out->iat > now + skew)
		return "token issued in the future (iat)";
	return NULL;
}

/* aud is a string or an array of strings (RFC 7519 4.1.3). */
static bool aud_has(const json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	if (!json_is_array(aud) || json_array_size(aud) > JWT_AUD_MAX)
		return false;
	size_t i;
	json_t *a;
	json_array_foreach(aud, i, a)
	{
		if (json_is_string(a) && strcmp(json_string_value(a), want) == 0)
			return true;
	}
	return false;
}

/* Copy a string claim; an absent one is refused only if required.  NULL
 * or the reason. */
#define CLAIM_STR(c, name, dst, required, missing, bad)                           \
	do {                                                                     \
		json_t *v_ = json_object_get(c, name);                           \
		if (!v_ && (required))                                           \
			return missing;                                          \
		if (v_ && !str_ok(v_, sizeof(dst)))                              \
			return bad;                                              \
		if (v_)                                                          \
			str_put(dst, sizeof(dst), v_);                           \
	} while (0)

static const char *check_claims(const json_t *c, const struct jwt_expect *want, unsigned flags,
				int64_t now, struct jwt_claims *out, int *rc)
{
	/* RFC 9068 2.2 requires what RFC 7662 2.2 leaves optional. */
	bool jwt = !(flags & JWT_CLAIMS_INTROSPECTION);
	*rc = WIMS_EAUTH;
	json_t *iss = json_object_get(c, "iss");
	if (!str_ok(iss, JWT_NAME_MAX) || strcmp(json_string_value(iss), want->iss) != 0)
		return "wrong iss";
	str_put(out->iss, sizeof(out->iss), iss);
	if (!aud_has(json_object_get(c, "aud"), want->aud))
		return "wrong aud";
	snprintf(out->aud, sizeof(out->aud), "%s", want->aud);
	const char *why = check_times(c, want, jwt, now, out);
	if (why)
		return why;
	CLAIM_STR(c, "sub", out->sub, jwt, "no sub", "sub is not a short string");
	CLAIM_STR(c, "client_id", out->client_id, jwt, "no client_id",
		  "client_id is not a short string");
	if (jwt)
		CLAIM_STR(c, "jti", out->jti, true, "no jti", "jti is not a short string");
	CLAIM_STR(c, "scope", out->scope, false, NULL, "scope is not a short string");
	CLAIM_STR(c, "wwsf", out->wwsf, true, "no wwsf", "wwsf is not a short string");
	CLAIM_STR(c, "impi", out->impi, true, "no impi", "impi is not a short string");
	json_t *impus = json_object_get(c, "impus");
	/* The pcscf has always named an answer without impus by the second
	 * reason; a token's own reasons tell missing from malformed. */
	if (!impus && jwt)
		return "no impus";
	if (!json_is_array(impus) || json_array_size(impus) == 0)
		return "impus is not a non-empty array";
	if (json_array_size(impus) > WIMS_IRS_MAX_IMPUS)
		return "too many impus";
	size_t i;
	json_t *u;
	json_array_foreach(impus, i, u)
	{
		if (!str_ok(u, WIMS_IMPU_MAX))
			return "impus holds a non-string or too long IMPU";
		str_put(out->impus[i], WIMS_IMPU_MAX, u);
	}
	out->n_impus = json_array_size(impus);
	/* RFC 6750 3.1: a valid token without the scope is a 403. */
	if (want->scope && !scope_has(out->scope, want->scope)) {
		*rc = WIMS_EDENIED;
		return "insufficient scope";
	}
	*rc = 0;
	return NULL;
}

int jwt_claims_check(const char *json, size_t len, const struct jwt_expect *want, unsigned flags,
		     int64_t now, struct jwt_claims *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = "";
	if (len > JWT_CLAIMS_MAX) {
		*why = "claims too long";
		return WIMS_ETOOBIG;
	}
	json_t *c = json_object_load((const uint8_t *)json, len);
	if (!c) {
		*why = "claims are not JSON";
		return WIMS_EPARSE;
	}
	int rc;
	const char *r = check_claims(c, want, flags, now, out, &rc);
	json_decref(c);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		*why = r;
	}
	return rc;
}

int jwt_verify_access_token(const struct jwt_keyset *ks, const char *token, size_t len,
			    const struct jwt_expect *want, int64_t now, struct jwt_claims *out,
			    const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = "";
	if (len > JWT_TOKEN_MAX) {
		*why = "token too long";
		return WIMS_ETOOBIG;
	}
	/* Three base64url parts (RFC 7515 7.1). */
	size_t dot[2], ndots = 0;
	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2) {
				ndots = 3;
				break;
			}
			dot[ndots++] = i;
		} else if (b64url_value(token[i]) < 0) {
			*why = "token is not base64url";
			return WIMS_EPARSE;
		}
	}
	/* An empty signature passes here so that "alg":"none" is named as such
	 * below; ES256 then wants exactly 64 bytes. */
	if (ndots != 2 || dot[0] == 0 || dot[1] == dot[0] + 1) {
		*why = "token is not three base64url parts";
		return WIMS_EPARSE;
	}
	const char *hp = token, *pp = token + dot[0] + 1;
	size_t hl = dot[0], pl = dot[1] - dot[0] - 1, sl = len - dot[1] - 1;

	int rc = WIMS_EPARSE;
	size_t n;
	uint8_t *buf = b64url_dup(hp, hl, &n);
	json_t *hdr = buf ? json_object_load(buf, n) : NULL;
	free(buf);
	cjose_jws_t *jws = NULL;
	if (!hdr) {
		*why = "header is not JSON";
		goto out;
	}
	rc = WIMS_EAUTH;
	const cjose_jwk_t *jwk = NULL;
	*why = check_header(hdr, ks, &jwk);
	if (*why)
		goto out;
	/* RFC 7518 3.4: r || s, 32 bytes each; not DER.  Decoded here too so
	 * that a signature has one spelling (cjose ignores the spare bits of
	 * the last character): one token, one cache key. */
	uint8_t sig[SIG_LEN];
	if (b64url_decoded_len(sl) != SIG_LEN) {
		*why = "signature is not 64 bytes of r||s";
		goto out;
	}
	if (b64url_decode_exact(token + dot[1] + 1, sl, sig, SIG_LEN) != 0) {
		*why = "signature is not canonical base64url";
		goto out;
	}
	/* The claims are decoded (not yet read) before cjose sees the token,
	 * for the same reason as coord_ok. */
	uint8_t *payload = b64url_dup(pp, pl, &n);
	if (!payload) {
		rc = WIMS_EPARSE;
		*why = "claims are not base64url";
		goto out;
	}
	cjose_err err;
	jws = cjose_jws_import(token, len, &err);
	if (!jws) {
		free(payload);
		*why = "malformed JWS";
		goto out;
	}
	if (!cjose_jws_verify(jws, jwk, &err)) {
		free(payload);
		*why = "bad signature";
		goto out;
	}
	rc = jwt_claims_check((const char *)payload, n, want, 0, now, out, why);
	free(payload);
out:
	cjose_jws_release(jws);
	json_decref(hdr);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	if (!*why)
		*why = "";
	return rc;
}

int jwt_token_hash(const char *token, size_t len, uint8_t out[32])
{
	unsigned int mdlen = 0;
	if (!EVP_Digest(token, len, out, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return WIMS_EINVAL;
	return 0;
}
