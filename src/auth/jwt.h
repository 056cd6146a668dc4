/*
 * jwt.h - OAuth 2.0 access tokens as JWTs (RFC 9068), signed with ES256
 * (RFC 7518 3.4), shared by the waf (issuer) and the pcscf (trusted node,
 * TR 33.871 6.1.2 / 6.1.3: it validates the token a WIC presents).
 *
 *	token = b64url(header) "." b64url(claims) "." b64url(r || s)
 *	header = {"typ":"at+jwt","alg":"ES256","kid":"<RFC 7638 thumbprint>"}
 *	claims = {"iss","sub","aud","exp","iat","nbf","jti","client_id","scope",
 *	          "wwsf","impi","impus":[...]}
 *
 * The verifier decides everything from its own configuration, never from
 * the token: the only algorithm is ES256, checked in the header before a
 * key is looked up; the key comes from the keyset by "kid" (header fields
 * such as "jwk", "jku" or "x5u" are never followed).  Keys, JSON and the
 * ECDSA arithmetic are cjose's and jansson's (DESIGN 3); the framing,
 * header and claim checks are ours.
 *
 * Like the rest of src/auth this does no I/O and reads no clock: the
 * caller passes "now".  Randomness comes from OpenSSL (key generation, the
 * ECDSA nonce, a jti the caller left empty).
 */
#ifndef WIMS_AUTH_JWT_H
#define WIMS_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* Longest token accepted: a token with WIMS_IRS_MAX_IMPUS IMPUs of a
 * realistic size is ~3 KiB; anything past 8 KiB is refused unread. */
#define JWT_TOKEN_MAX 8192
/* Keys kept from one JWKS: the current and the previous key during a
 * rotation, with room to spare; further keys are ignored. */
#define JWT_KEYSET_MAX 8
/* A key id (a thumbprint is 43 characters). */
#define JWT_KID_MAX 64
/* An issuer, audience, WWSF identity or client id (URLs or names). */
#define JWT_NAME_MAX 256
/* The space-separated scope list, and the jti. */
#define JWT_SCOPE_MAX 256
#define JWT_JTI_MAX 64
/* Entries of an "aud" array we look through. */
#define JWT_AUD_MAX 8
/* Default allowed clock skew for exp, nbf and iat. */
#define JWT_SKEW_DEFAULT_S 30

/* The claims of an access token: filled by the caller to sign, by
 * jwt_verify_access_token on success.  All strings NUL-terminated. */
struct jwt_claims {
	char iss[JWT_NAME_MAX];
	char sub[WIMS_IMPI_MAX];
	char aud[JWT_NAME_MAX]; /* verify: the expected audience that matched */
	char client_id[JWT_NAME_MAX];
	char scope[JWT_SCOPE_MAX];
	char jti[JWT_JTI_MAX]; /* sign: empty = 16 random bytes, base64url */
	char wwsf[JWT_NAME_MAX]; /* the WWSF identity (REQ 2.3) */
	char impi[WIMS_IMPI_MAX];
	char impus[WIMS_IRS_MAX_IMPUS][WIMS_IMPU_MAX];
	size_t n_impus;
	int64_t exp, iat, nbf; /* seconds since the epoch; sign: nbf 0 = omitted */
};

/* What the verifier requires.  scope may be NULL (no scope required). */
struct jwt_expect {
	const char *iss;
	const char *aud;
	const char *scope; /* one scope token that must be in "scope" */
	int64_t skew_s;    /* < 0: JWT_SKEW_DEFAULT_S */
};

/* --- verification keys (RFC 7517 JWK Set) --- */

struct jwt_keyset;

/* Keep the EC P-256 keys with a "kid" from a JWKS document ({"keys":[..]})
 * of len bytes (at most JWT_TOKEN_MAX * 4); other keys (RSA, oct, other
 * curves, no kid, "use" other than "sig", "alg" other than ES256) are
 * skipped, and only the public part of a key is kept.  At most
 * JWT_KEYSET_MAX keys.  Returns 0 with *out (an empty set is not an
 * error), WIMS_EPARSE (not JSON, no "keys" array) with a reason in *why,
 * WIMS_ETOOBIG, WIMS_ENOMEM. */
int jwt_keyset_from_json(const char *json, size_t len, struct jwt_keyset **out, const char **why);
void jwt_keyset_free(struct jwt_keyset *ks);
/* Keys in the set. */
size_t jwt_keyset_count(const struct jwt_keyset *ks);

/* --- signing key (the issuer's) --- */

struct jwt_key;

/* A new random ES256 key; its kid is its RFC 7638 thumbprint.  NULL on
 * failure. */
struct jwt_key *jwt_key_generate(void);
/* Load a private EC P-256 JWK (as jwt_key_private_json writes it).  The
 * kid is recomputed from the key.  0, WIMS_EPARSE (with *why), WIMS_ENOMEM. */
int jwt_key_from_json(const char *json, size_t len, struct jwt_key **out, const char **why);
void jwt_key_free(struct jwt_key *key);
/* The private JWK, to store in a file the caller protects; free() it. */
char *jwt_key_private_json(const struct jwt_key *key);
/* The public JWK with kid, "use":"sig" and "alg":"ES256", for a JWKS;
 * free() it. */
char *jwt_key_public_json(const struct jwt_key *key);
/* The key id (RFC 7638 thumbprint). */
const char *jwt_key_kid(const struct jwt_key *key);

/* RFC 7638 3: base64url(SHA-256({"crv":..,"kty":"EC","x":..,"y":..})) of a
 * P-256 public key given by its base64url x and y, into out (44 bytes:
 * 43 characters and a NUL).  0 or WIMS_EINVAL. */
int jwt_ec_thumbprint(const char *x, const char *y, char out[44]);

/* --- tokens --- */

/* Sign c as an RFC 9068 access token.  c->aud is the single audience.
 * Returns 0 with a NUL-terminated token in *out (free() it), WIMS_EINVAL
 * (what the verifier would refuse: an empty iss/aud/sub/client_id/wwsf/
 * impi, a control character, no IMPU or too many, exp <= iat),
 * WIMS_ENOMEM. */
int jwt_sign_access_token(const struct jwt_key *key, const struct jwt_claims *c, char **out);

/* Verify token (len bytes, no NUL needed) against ks and want at time now.
 * Returns 0 with the claims in *out, or, with a short reason in *why for
 * a Warning header or log (a static string):
 *   WIMS_ETOOBIG  longer than JWT_TOKEN_MAX
 *   WIMS_EPARSE   not three base64url parts, header or claims not JSON
 *   WIMS_EAUTH    invalid_token (RFC 6750 3.1, answer 401): typ, alg, kid,
 *                 signature, iss, aud, exp, nbf, iat, a missing or
 *                 malformed claim
 *   WIMS_EDENIED  insufficient_scope (answer 403)
 *   WIMS_ENOMEM
 * out is zeroed on failure. */
int jwt_verify_access_token(const struct jwt_keyset *ks, const char *token, size_t len,
			    const struct jwt_expect *want, int64_t now, struct jwt_claims *out,
			    const char **why);

/* --- claims --- */

/* Longest claims JSON jwt_claims_check reads: a token's payload is far
 * shorter; an introspection answer may carry a little more. */
#define JWT_CLAIMS_MAX (JWT_TOKEN_MAX * 4)

/* jwt_claims_check flags. */
/* The claims are an RFC 7662 2.2 introspection answer, not a JWT's: there
 * every member but "active" is OPTIONAL, so iat, sub and client_id are
 * checked and copied only when present, and jti is not read (our WAF sends
 * none; a cache keys on the token's hash, never on a jti).  "active"
 * itself is the caller's to check first: it is no claim of a token. */
#define JWT_CLAIMS_INTROSPECTION 0x1u

/*
 * Check the claims object json (len bytes, no NUL needed) against want at
 * time now and copy them into *out: iss, aud (a string or an array of at
 * most JWT_AUD_MAX, RFC 7519 4.1.3), exp/nbf/iat as integers within the
 * skew, sub, client_id, jti, scope, wwsf, impi, impus, each a short
 * string without control characters.  jwt_verify_access_token calls it on
 * a payload whose signature verified; an RFC 7662 answer is checked with
 * JWT_CLAIMS_INTROSPECTION.  Returns 0 with *out, or, with a static
 * reason in *why: WIMS_ETOOBIG (over JWT_CLAIMS_MAX), WIMS_EPARSE (not a
 * JSON object, or a name twice), WIMS_EAUTH (a missing, malformed or
 * wrong claim, expired), WIMS_EDENIED (want->scope not in "scope").  out
 * is zeroed on failure.
 */
int jwt_claims_check(const char *json, size_t len, const struct jwt_expect *want, unsigned flags,
		     int64_t now, struct jwt_claims *out, const char **why);

/* SHA-256 of the token text, the key of a verified-token cache.  0 or
 * WIMS_EINVAL. */
int jwt_token_hash(const char *token, size_t len, uint8_t out[32]);

#endif
