/*
 * pkce_test.c - RFC 7636 S256, with the Appendix B vector, and the
 * refusals: wrong verifier, malformed verifier or challenge.
 */
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "waf/pkce.h"

/* RFC 7636 Appendix B */
static const char rfc_verifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char rfc_challenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static void s256_appendix_b(void)
{
	char out[WAF_PKCE_CHALLENGE_LEN + 1];
	EXPECT_INT(waf_pkce_s256(slice_from_cstr(rfc_verifier), out), ==, 0);
	EXPECT_STR(out, rfc_challenge);
	EXPECT_INT(waf_pkce_check(slice_from_cstr(rfc_verifier), slice_from_cstr(rfc_challenge)),
		   ==, 0);
	EXPECT_TRUE(waf_pkce_challenge_ok(slice_from_cstr(rfc_challenge)));
}

static void wrong_verifier_refused(void)
{
	char v[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	v[0] = 'e';
	EXPECT_INT(waf_pkce_check(slice_from_cstr(v), slice_from_cstr(rfc_challenge)), ==,
		   WIMS_EAUTH);
	/* the challenge itself as the verifier (the "plain" method) */
	EXPECT_INT(waf_pkce_check(slice_from_cstr(rfc_challenge), slice_from_cstr(rfc_challenge)),
		   ==, WIMS_EAUTH);
	EXPECT_INT(waf_pkce_check(slice_from_cstr(""), slice_from_cstr(rfc_challenge)), ==,
		   WIMS_EAUTH);
}

static void verifier_form(void)
{
	char v[130];
	memset(v, 'a', sizeof(v));
	EXPECT_TRUE(!waf_pkce_verifier_ok((struct slice){v, 42}));
	EXPECT_TRUE(waf_pkce_verifier_ok((struct slice){v, 43}));
	EXPECT_TRUE(waf_pkce_verifier_ok((struct slice){v, 128}));
	EXPECT_TRUE(!waf_pkce_verifier_ok((struct slice){v, 129}));
	v[10] = '+';
	EXPECT_TRUE(!waf_pkce_verifier_ok((struct slice){v, 50}));
	v[10] = '~';
	EXPECT_TRUE(waf_pkce_verifier_ok((struct slice){v, 50}));
}

static void challenge_form(void)
{
	EXPECT_TRUE(!waf_pkce_challenge_ok(slice_from_cstr("short")));
	/* 43 characters but one outside base64url */
	EXPECT_TRUE(!waf_pkce_challenge_ok(
		slice_from_cstr("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM")));
	/* a wrong challenge length never matches */
	EXPECT_INT(waf_pkce_check(slice_from_cstr(rfc_verifier),
				  slice_from_cstr("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c")),
		   ==, WIMS_EAUTH);
}

int main(void)
{
	UNIT_RUN(s256_appendix_b);
	UNIT_RUN(wrong_verifier_refused);
	UNIT_RUN(verifier_form);
	UNIT_RUN(challenge_form);
	return UNIT_MAIN_END();
}
