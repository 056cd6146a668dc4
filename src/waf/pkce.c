/*
 * pkce.c - RFC 7636 S256 (pkce.h).
 */
#include "waf/pkce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/b64url.h"
#include "core/wims.h"

static bool unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

bool waf_pkce_verifier_ok(struct slice v)
{
	if (v.len < WAF_PKCE_VERIFIER_MIN || v.len > WAF_PKCE_VERIFIER_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (!unreserved(v.p[i]))
			return false;
	return true;
}

bool waf_pkce_challenge_ok(struct slice c)
{
	if (c.len != WAF_PKCE_CHALLENGE_LEN)
		return false;
	uint8_t raw[32];
	return b64url_decode_exact(c.p, c.len, raw, sizeof(raw)) == 0;
}

int waf_pkce_s256(struct slice verifier, char out[WAF_PKCE_CHALLENGE_LEN + 1])
{
	out[0] = '\0';
	if (!waf_pkce_verifier_ok(verifier))
		return WIMS_EINVAL;
	uint8_t md[32];
	unsigned int n = 0;
	if (EVP_Digest(verifier.p, verifier.len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return WIMS_EINVAL;
	size_t l = b64url_encode(md, 32, out);
	out[l] = '\0';
	return 0;
}

int waf_pkce_check(struct slice verifier, struct slice challenge)
{
	char want[WAF_PKCE_CHALLENGE_LEN + 1];
	if (challenge.len != WAF_PKCE_CHALLENGE_LEN || waf_pkce_s256(verifier, want))
		return WIMS_EAUTH;
	return CRYPTO_memcmp(want, challenge.p, WAF_PKCE_CHALLENGE_LEN) == 0 ? 0 : WIMS_EAUTH;
}
