/* hmac.c - HMAC-SHA-256 over several parts (see hmac.h). */
#include "core/hmac.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/wims.h"

/* Fetched once: EVP_MAC_fetch looks the algorithm up by name each call. */
static EVP_MAC *hmac;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int hmac_sha256(const uint8_t *key, size_t keylen, const struct slice *parts, size_t nparts,
		uint8_t *out, size_t outlen)
{
	if (outlen > HMAC_SHA256_LEN)
		return WIMS_EINVAL;
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac)
		return WIMS_EUNSUPPORTED;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
	if (!ctx)
		return WIMS_ENOMEM;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t len = 0;
	int ok = EVP_MAC_init(ctx, key, keylen, params);
	for (size_t i = 0; ok && i < nparts; i++)
		if (parts[i].len)
			ok = EVP_MAC_update(ctx, (const unsigned char *)parts[i].p, parts[i].len);
	ok = ok && EVP_MAC_final(ctx, full, &len, sizeof(full));
	EVP_MAC_CTX_free(ctx);
	if (ok && len >= outlen)
		memcpy(out, full, outlen);
	OPENSSL_cleanse(full, sizeof(full));
	return (ok && len >= outlen) ? 0 : WIMS_EINVAL;
}
