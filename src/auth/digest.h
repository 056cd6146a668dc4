/*
 * digest.h - HTTP/SIP Digest computations (RFC 7616, RFC 8760 for SIP,
 * RFC 3261 22.4) and the IMPI-from-IMPU rule of TS 33.203 Annex N.
 *
 *	HA1      = H(username ":" realm ":" password)
 *	HA1-sess = H(HA1 ":" nonce ":" cnonce)               (*-sess algorithms)
 *	HA2      = H(method ":" digest-uri)                   (qop=auth)
 *	HA2      = H(method ":" digest-uri ":" H(body))       (qop=auth-int)
 *	response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *	response = H(HA1 ":" nonce ":" HA2)                   (no qop, RFC 2069)
 *	rspauth  = the same with an empty method: HA2 = H(":" digest-uri)
 *
 * Pure functions: no I/O, no clock, no allocation.  Every input is a slice
 * (never NUL-terminated); outputs are lower-case hex into a caller buffer of
 * DIGEST_HEX_MAX bytes, NUL-terminated.  The HSS stores HA1 (never the
 * password), so everything after digest_ha1() starts from HA1 hex.
 */
#ifndef WIMS_AUTH_DIGEST_H
#define WIMS_AUTH_DIGEST_H

#include <stddef.h>

#include "core/slice.h"

enum digest_alg {
	DIGEST_ALG_MD5 = 0,
	DIGEST_ALG_SHA256,
	DIGEST_ALG_MD5_SESS,
	DIGEST_ALG_SHA256_SESS,
	DIGEST_ALG_COUNT_
};

#define DIGEST_MD5_HEX_LEN 32
#define DIGEST_SHA256_HEX_LEN 64
/* Size of every hex output buffer: the longest hash plus its NUL. */
#define DIGEST_HEX_MAX (DIGEST_SHA256_HEX_LEN + 1)

/* "MD5", "SHA-256", "MD5-sess", "SHA-256-sess" (the RFC 7616 spelling). */
const char *digest_alg_name(enum digest_alg alg);
/* Case-insensitive parse of the names above.  An absent algorithm
 * parameter means MD5 (RFC 7616 3.3): pass SLICE_NULL and get MD5.
 * Returns 0 or WIMS_EUNSUPPORTED. */
int digest_alg_parse(struct slice name, enum digest_alg *out);
/* 32 for the MD5 family, 64 for SHA-256. */
size_t digest_hex_len(enum digest_alg alg);

/* HA1 = H(username:realm:password), the value the store keeps.  For the
 * -sess algorithms this is still the stored (non-session) HA1; the
 * response functions derive the session key from it.  Returns 0 or
 * WIMS_EINVAL (bad alg). */
int digest_ha1(enum digest_alg alg, struct slice username, struct slice realm,
	       struct slice password, char out_hex[DIGEST_HEX_MAX]);

/* The request-digest (Authorization "response").  qop is "auth",
 * "auth-int" (then body is the message body; NULL means empty) or empty
 * (RFC 2069 form, then nc/cnonce are ignored).  ha1_hex must have the
 * algorithm's length.  Returns 0, WIMS_EINVAL (bad HA1 length, bad alg)
 * or WIMS_EUNSUPPORTED (unknown qop). */
int digest_response(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		    struct slice nc, struct slice cnonce, struct slice qop, struct slice method,
		    struct slice uri, const struct slice *body, char out_hex[DIGEST_HEX_MAX]);

/* Authentication-Info rspauth (RFC 7616 3.5, RFC 3261 20.6): the response
 * computed with an empty method.  Same inputs and returns as above. */
int digest_rspauth(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		   struct slice nc, struct slice cnonce, struct slice qop, struct slice uri,
		   const struct slice *body, char out_hex[DIGEST_HEX_MAX]);

/* Recompute the response and compare it with the client's in constant
 * time (CRYPTO_memcmp; hex case-insensitive as RFC 7616 allows LHEX only,
 * but some clients send upper case).  Returns 0 when it matches,
 * WIMS_EAUTH when it does not (or has the wrong length), or the errors of
 * digest_response(). */
int digest_verify(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		  struct slice nc, struct slice cnonce, struct slice qop, struct slice method,
		  struct slice uri, const struct slice *body, struct slice response);

/* TS 33.203 Annex N / TS 23.003 13.3: the IMPI a REGISTER without
 * Authorization stands for, derived from its IMPU (To URI):
 * "sip:user@realm" or "sips:user@realm[:port][;params][?headers]" gives
 * "user@realm".  A tel: URI or a URI without a user part gives no IMPI.
 * Writes a NUL-terminated string; returns its length, WIMS_EPARSE (with
 * nothing derivable) or WIMS_ETOOBIG (out too small; out is then ""). */
int digest_impi_from_impu(struct slice impu, char *out, size_t outsz);

#endif
