/*
 * hmac.h - HMAC-SHA-256 over several parts, through OpenSSL 3's EVP_MAC.
 *
 * What our unforgeable tokens are made of (Digest nonces, flow tokens):
 * MAC = HMAC-SHA-256(key, part0 || part1 || ...), truncated by the caller.
 * Compare MACs with CRYPTO_memcmp.
 */
#ifndef WIMS_CORE_HMAC_H
#define WIMS_CORE_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define HMAC_SHA256_LEN 32

/* out = the first outlen (<= HMAC_SHA256_LEN) bytes of HMAC-SHA-256 over
 * the parts in order (empty parts allowed).  Thread-safe.  Returns 0,
 * WIMS_EINVAL (outlen too large, OpenSSL failure), WIMS_ENOMEM, or
 * WIMS_EUNSUPPORTED if OpenSSL has no HMAC. */
int hmac_sha256(const uint8_t *key, size_t keylen, const struct slice *parts, size_t nparts,
		uint8_t *out, size_t outlen);

#endif
