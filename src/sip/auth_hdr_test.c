/* auth_hdr_test.c - Digest challenges and credentials, Bearer tokens,
 * Authentication-Info; escapes handed out without copying unless needed;
 * duplicates and junk refused. */
#include "sip/auth_hdr.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static struct sip_auth a;
static const char *why;

static int parse(const char *s)
{
	why = NULL;
	return sip_auth_parse(&a, slice_from_cstr(s), &why);
}

static void jssip_digest_credentials(void)
{
	EXPECT_INT(parse("Digest algorithm=SHA-256, username=\"alice@ims.example.org\", "
			 "realm=\"ims.example.org\", nonce=\"Y2FmZWJhYmU\", uri=\"sip:ims.example.org\", "
			 "response=\"5b2c1d6a\", qop=auth, cnonce=\"ll6ubtslhdpn\", nc=00000001"), ==, 0);
	EXPECT_INT(a.scheme, ==, SIP_AUTH_SCHEME_DIGEST);
	EXPECT_SLICE(a.scheme_name, "Digest");
	EXPECT_SLICE(a.p[SIP_AUTH_P_USERNAME], "alice@ims.example.org");
	EXPECT_SLICE(a.p[SIP_AUTH_P_REALM], "ims.example.org");
	EXPECT_SLICE(a.p[SIP_AUTH_P_NONCE], "Y2FmZWJhYmU");
	EXPECT_SLICE(a.p[SIP_AUTH_P_URI], "sip:ims.example.org");
	EXPECT_SLICE(a.p[SIP_AUTH_P_RESPONSE], "5b2c1d6a");
	EXPECT_SLICE(a.p[SIP_AUTH_P_ALGORITHM], "SHA-256");
	EXPECT_SLICE(a.p[SIP_AUTH_P_QOP], "auth");
	EXPECT_SLICE(a.p[SIP_AUTH_P_NC], "00000001");
	EXPECT_SLICE(a.p[SIP_AUTH_P_CNONCE], "ll6ubtslhdpn");
	EXPECT_TRUE(a.quoted & (1u << SIP_AUTH_P_NONCE));
	EXPECT_TRUE(!(a.quoted & (1u << SIP_AUTH_P_NC)));
	EXPECT_TRUE(!sip_auth_has(&a, SIP_AUTH_P_OPAQUE));
	/* No escapes: the value is the raw slice, buf untouched. */
	char buf[8] = "unused";
	struct slice v;
	EXPECT_INT(sip_auth_value(&a, SIP_AUTH_P_USERNAME, buf, sizeof(buf), &v), ==, 0);
	EXPECT_SLICE(v, "alice@ims.example.org");
	EXPECT_STR(buf, "unused");
	EXPECT_INT(sip_auth_value(&a, SIP_AUTH_P_OPAQUE, buf, sizeof(buf), &v), ==, WIMS_ENOTFOUND);
}

static void challenge_and_tna_credentials(void)
{
	EXPECT_INT(parse("Digest realm=\"ims.example.org\", nonce=\"abc\", algorithm=MD5, "
			 "qop=\"auth,auth-int\", stale=TRUE, opaque=\"\""), ==, 0);
	EXPECT_SLICE(a.p[SIP_AUTH_P_QOP], "auth,auth-int");
	EXPECT_SLICE(a.p[SIP_AUTH_P_STALE], "TRUE");
	EXPECT_TRUE(sip_auth_has(&a, SIP_AUTH_P_OPAQUE));
	EXPECT_INT(a.p[SIP_AUTH_P_OPAQUE].len, ==, 0);
	/* TS 24.229 TNA: empty nonce and response, integrity-protected. */
	EXPECT_INT(parse("Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", "
			 "uri=\"sip:ims.example.org\", nonce=\"\", response=\"\", "
			 "integrity-protected=\"auth-done\""), ==, 0);
	EXPECT_SLICE(a.p[SIP_AUTH_P_INTEGRITY_PROTECTED], "auth-done");
	EXPECT_TRUE(sip_auth_has(&a, SIP_AUTH_P_NONCE));
	/* AKA resync. */
	EXPECT_INT(parse("digest username=\"u\", auts=\"CjkyMzRfOiwg5CFfV1Ie\", nonce=\"n\""), ==, 0);
	EXPECT_INT(a.scheme, ==, SIP_AUTH_SCHEME_DIGEST);
	EXPECT_SLICE(a.p[SIP_AUTH_P_AUTS], "CjkyMzRfOiwg5CFfV1Ie");
	/* Unknown parameters are found by name. */
	EXPECT_INT(parse("Digest realm=\"r\", x-wwsf=\"https://wwsf.example.org\", nonce=\"n\""), ==, 0);
	struct slice v;
	bool q;
	EXPECT_TRUE(sip_auth_param_find(&a, "X-WWSF", &v, &q));
	EXPECT_SLICE(v, "https://wwsf.example.org");
	EXPECT_TRUE(q);
	EXPECT_TRUE(!sip_auth_param_find(&a, "nope", &v, &q));
}

static void escaped_values_are_copied_out(void)
{
	EXPECT_INT(parse("Digest username=\"al\\\"ice\", realm=\"r\\\\x\", nonce=\"n\""), ==, 0);
	EXPECT_SLICE(a.p[SIP_AUTH_P_USERNAME], "al\\\"ice");
	char buf[32];
	struct slice v;
	EXPECT_INT(sip_auth_value(&a, SIP_AUTH_P_USERNAME, buf, sizeof(buf), &v), ==, 0);
	EXPECT_SLICE(v, "al\"ice");
	EXPECT_TRUE(v.p == buf);
	EXPECT_INT(sip_auth_value(&a, SIP_AUTH_P_REALM, buf, sizeof(buf), &v), ==, 0);
	EXPECT_SLICE(v, "r\\x");
	EXPECT_INT(sip_auth_value(&a, SIP_AUTH_P_USERNAME, buf, 4, &v), ==, WIMS_ETOOBIG);
}

static void bearer(void)
{
	EXPECT_INT(parse("Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_~+/=="), ==, 0);
	EXPECT_INT(a.scheme, ==, SIP_AUTH_SCHEME_BEARER);
	EXPECT_SLICE(a.token68, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_~+/==");
	EXPECT_INT(a.params.len, ==, 0);
	EXPECT_INT(parse("bearer   tok"), ==, 0);
	EXPECT_SLICE(a.token68, "tok");
	/* Bearer challenge with parameters (RFC 8898). */
	EXPECT_INT(parse("Bearer realm=\"ims\", scope=\"sip\""), ==, WIMS_EPARSE);
	EXPECT_INT(parse("Bearer"), ==, WIMS_EPARSE);
	EXPECT_INT(parse("Bearer a b"), ==, WIMS_EPARSE);
}

static void authentication_info(void)
{
	EXPECT_INT(sip_auth_info_parse(&a, SLICE_LIT("rspauth=\"6629fae4\", qop=auth, cnonce=\"0a4f\", nc=00000001, nextnonce=\"nn\""), &why), ==, 0);
	EXPECT_INT(a.scheme, ==, SIP_AUTH_SCHEME_NONE);
	EXPECT_SLICE(a.p[SIP_AUTH_P_RSPAUTH], "6629fae4");
	EXPECT_SLICE(a.p[SIP_AUTH_P_NEXTNONCE], "nn");
	EXPECT_INT(sip_auth_info_parse(&a, SLICE_LIT(""), &why), ==, WIMS_EPARSE);
}

static void refusals(void)
{
	static const struct {
		const char *v, *reason;
	} cases[] = {
		{"", "Bad authorization header"},
		{"Digest", "Bad authorization header"},
		{"Digest realm=\"a\", realm=\"b\"", "Duplicate auth parameter"},
		{"Digest response=\"a\", RESPONSE=\"b\"", "Duplicate auth parameter"},
		{"Digest realm=\"unterminated", "Bad authorization header"},
		{"Digest realm", "Bad authorization header"},
		{"Digest realm=", "Bad authorization header"},
		{"Digest uri=sip:x", "Bad authorization header"},
		{"Digest realm=\"a\" nonce=\"b\"", "Bad authorization header"},
		{"Dig(est realm=\"a\"", "Bad authorization header"},
		{"\"Digest\" realm=\"a\"", "Bad authorization header"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(cases); i++) {
		int rc = parse(cases[i].v);
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    accepted: %s\n", cases[i].v);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
		EXPECT_STR(why, cases[i].reason);
	}
	EXPECT_STR(sip_auth_param_name(SIP_AUTH_P_INTEGRITY_PROTECTED), "integrity-protected");
}

int main(void)
{
	UNIT_RUN(jssip_digest_credentials);
	UNIT_RUN(challenge_and_tna_credentials);
	UNIT_RUN(escaped_values_are_copied_out);
	UNIT_RUN(bearer);
	UNIT_RUN(authentication_info);
	UNIT_RUN(refusals);
	return UNIT_MAIN_END();
}
