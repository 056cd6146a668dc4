/*
 * pkce.h - Proof Key for Code Exchange (RFC 7636), method S256 only.
 *
 * The plain method proves nothing against an attacker who saw the
 * authorization request, so it is not offered (RFC 9700 2.1.1 likewise).
 *	code_verifier  = 43*128 unreserved   (RFC 7636 4.1)
 *	code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))   (4.2)
 */
#ifndef WIMS_WAF_PKCE_H
#define WIMS_WAF_PKCE_H

#include <stdbool.h>

#include "core/slice.h"

#define WAF_PKCE_VERIFIER_MIN 43
#define WAF_PKCE_VERIFIER_MAX 128
/* A S256 challenge: 32 bytes in base64url, 43 characters. */
#define WAF_PKCE_CHALLENGE_LEN 43

/* true if v is a well-formed code_verifier. */
bool waf_pkce_verifier_ok(struct slice v);
/* true if c is a well-formed S256 code_challenge. */
bool waf_pkce_challenge_ok(struct slice c);
/* The S256 challenge of verifier into out (43 characters and a NUL).
 * 0 or WIMS_EINVAL (malformed verifier). */
int waf_pkce_s256(struct slice verifier, char out[WAF_PKCE_CHALLENGE_LEN + 1]);
/* RFC 7636 4.6: 0 when verifier is well formed and its S256 challenge
 * equals challenge (compared in constant time); WIMS_EAUTH otherwise. */
int waf_pkce_check(struct slice verifier, struct slice challenge);

#endif
