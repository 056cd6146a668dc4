/*
 * b64url.h - base64url without padding (RFC 4648 section 5).
 *
 * The alphabet tokens travel in: nonces in a Digest challenge, flow tokens
 * in a SIP URI user part, Via branches.  Callers that need one spelling per
 * value check the spare bits of the last character themselves.
 */
#ifndef WIMS_CORE_B64URL_H
#define WIMS_CORE_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64url_encode writes for n bytes. */
#define B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Encode n bytes into out (B64URL_LEN(n) characters, no NUL); returns the
 * number of characters written. */
size_t b64url_encode(const uint8_t *in, size_t n, char *out);

/* The 6-bit value of one character, or -1 if it is not in the alphabet. */
int b64url_value(char c);

/* Decode len characters into exactly outlen bytes.  Refuses (WIMS_EPARSE)
 * a character outside the alphabet, a length that does not give outlen
 * bytes, and non-zero spare bits in the last character, so that each value
 * has one spelling: a token cannot be varied without changing its bytes. */
int b64url_decode_exact(const char *p, size_t len, uint8_t *out, size_t outlen);

#endif
