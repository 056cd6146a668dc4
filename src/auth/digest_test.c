/*
 * digest_test.c - RFC 7616 3.9.1 vectors (MD5 and SHA-256), SIP REGISTER
 * cases for every qop and -sess form, refusals, and the TS 33.203 Annex N
 * IMPI derivation.  SIP vectors were computed independently (Python
 * hashlib) and are kept here as data.
 */
#include "auth/digest.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

#define S(x) SLICE_LIT(x)

/* RFC 7616 3.9.1 */
#define RFC_USER "Mufasa"
#define RFC_REALM "http-auth@example.org"
#define RFC_PASS "Circle of Life"
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

static void rfc7616_vector(enum digest_alg alg, const char *expect)
{
	char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];
	EXPECT_INT(digest_ha1(alg, S(RFC_USER), S(RFC_REALM), S(RFC_PASS), ha1), ==, 0);
	EXPECT_INT(strlen(ha1), ==, digest_hex_len(alg));
	EXPECT_INT(digest_response(alg, slice_from_cstr(ha1), S(RFC_NONCE), S("00000001"),
				   S(RFC_CNONCE), S("auth"), S("GET"), S("/dir/index.html"),
				   NULL, resp),
		   ==, 0);
	EXPECT_STR(resp, expect);
	EXPECT_INT(digest_verify(alg, slice_from_cstr(ha1), S(RFC_NONCE), S("00000001"),
				 S(RFC_CNONCE), S("auth"), S("GET"), S("/dir/index.html"), NULL,
				 slice_from_cstr(expect)),
		   ==, 0);
}

static void rfc7616_md5(void)
{
	rfc7616_vector(DIGEST_ALG_MD5, "8ca523f5e9506fed4657c9700eebdbec");
}

static void rfc7616_sha256(void)
{
	rfc7616_vector(DIGEST_ALG_SHA256,
		       "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* A REGISTER of alice as cscf sees it. */
struct sip_case {
	enum digest_alg alg;
	const char *ha1, *auth, *rspauth, *rfc2069, *auth_int, *sess;
};

static const struct sip_case sip_cases[] = {
	{DIGEST_ALG_MD5, "c6060557546551c60ef159b9a9843d7e", "2f1c91e7957c6f6462ae07006c6c76e8",
	 "b18b1e711f1d47fb08c3a6c58003f288", "ed1fe26846ba1ad5f33e737d5bce229f",
	 "02971b5b206a3b7888475b6bf94ef775", "13a2eab01509e95db6da2f4f6be3d1e6"},
	{DIGEST_ALG_SHA256, "9ea344b8377e502805677b3d5abd87d9a3c4e0251e0da89be7b68682a7f424dc",
	 "bc7befc0e38fb70a8fb96173634c2f2cc968b9201156d85b292014710616b16a",
	 "2a989e5e932a8b28f20ee63c2ffc3309e84c085d60981dfdd226b8676de78e21",
	 "48b9b3d1701a3dd50efb02639f5103ad44a6ecb262b2f07e0db380cdcdc57e82",
	 "9132380a1a9dacfcea48b570eaa99512eb85da56b44aee30daeee263c54dc3c7",
	 "0ab42702c2a9fd598b8cde7f8b897724bc9120cba09c7717cdbe7d2d1430fa5e"},
};

#define SIP_USER "alice@ims.example.org"
#define SIP_REALM "ims.example.org"
#define SIP_URI "sip:ims.example.org"

static void sip_register_all_forms(void)
{
	for (size_t i = 0; i < WIMS_ARRAY_LEN(sip_cases); i++) {
		const struct sip_case *c = &sip_cases[i];
		char ha1[DIGEST_HEX_MAX], out[DIGEST_HEX_MAX];
		struct slice h = slice_from_cstr(c->ha1);
		EXPECT_INT(digest_ha1(c->alg, S(SIP_USER), S(SIP_REALM), S("alice-secret"), ha1),
			   ==, 0);
		EXPECT_STR(ha1, c->ha1);
		EXPECT_INT(digest_response(c->alg, h, S("nonce123"), S("00000001"), S("0a4f113b"),
					   S("auth"), S("REGISTER"), S(SIP_URI), NULL, out),
			   ==, 0);
		EXPECT_STR(out, c->auth);
		EXPECT_INT(digest_rspauth(c->alg, h, S("nonce123"), S("00000001"), S("0a4f113b"),
					  S("auth"), S(SIP_URI), NULL, out),
			   ==, 0);
		EXPECT_STR(out, c->rspauth);
		EXPECT_INT(digest_response(c->alg, h, S("nonce123"), SLICE_NULL, SLICE_NULL,
					   SLICE_NULL, S("REGISTER"), S(SIP_URI), NULL, out),
			   ==, 0);
		EXPECT_STR(out, c->rfc2069);
		struct slice body = S("v=0\r\n");
		EXPECT_INT(digest_response(c->alg, h, S("nonce123"), S("00000001"), S("0a4f113b"),
					   S("auth-int"), S("REGISTER"), S(SIP_URI), &body, out),
			   ==, 0);
		EXPECT_STR(out, c->auth_int);
		enum digest_alg sess =
			c->alg == DIGEST_ALG_MD5 ? DIGEST_ALG_MD5_SESS : DIGEST_ALG_SHA256_SESS;
		EXPECT_INT(digest_response(sess, h, S("nonce123"), S("00000001"), S("0a4f113b"),
					   S("auth"), S("REGISTER"), S(SIP_URI), NULL, out),
			   ==, 0);
		EXPECT_STR(out, c->sess);
	}
}

static void verify_refuses_wrong_response(void)
{
	const struct sip_case *c = &sip_cases[1];
	struct slice h = slice_from_cstr(c->ha1);
	char bad[DIGEST_HEX_MAX];
	memcpy(bad, c->auth, sizeof(bad));
	bad[10] = bad[10] == '0' ? '1' : '0';
#define V(resp, method)                                                                   \
	digest_verify(c->alg, h, S("nonce123"), S("00000001"), S("0a4f113b"), S("auth"), \
		      S(method), S(SIP_URI), NULL, resp)
	EXPECT_INT(V(slice_from_cstr(c->auth), "REGISTER"), ==, 0);
	EXPECT_INT(V(slice_from_cstr(bad), "REGISTER"), ==, WIMS_EAUTH);
	/* Another method, a truncated or empty response, the MD5 response. */
	EXPECT_INT(V(slice_from_cstr(c->auth), "INVITE"), ==, WIMS_EAUTH);
	EXPECT_INT(V(((struct slice){c->auth, 63}), "REGISTER"), ==, WIMS_EAUTH);
	EXPECT_INT(V(SLICE_LIT(""), "REGISTER"), ==, WIMS_EAUTH);
	EXPECT_INT(V(slice_from_cstr(sip_cases[0].auth), "REGISTER"), ==, WIMS_EAUTH);
	/* Upper-case hex from a sloppy client still matches. */
	char upper[DIGEST_HEX_MAX];
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (c->auth[i] >= 'a' && c->auth[i] <= 'f') ? (char)(c->auth[i] - 32)
								    : c->auth[i];
	EXPECT_INT(V(slice_from_cstr(upper), "REGISTER"), ==, 0);
#undef V
}

static void refuses_bad_inputs(void)
{
	char out[DIGEST_HEX_MAX];
	/* An MD5 HA1 with SHA-256, an unknown qop, an unknown algorithm. */
	EXPECT_INT(digest_response(DIGEST_ALG_SHA256, slice_from_cstr(sip_cases[0].ha1),
				   S("n"), S("00000001"), S("c"), S("auth"), S("REGISTER"),
				   S(SIP_URI), NULL, out),
		   ==, WIMS_EINVAL);
	EXPECT_INT(digest_response(DIGEST_ALG_MD5, slice_from_cstr(sip_cases[0].ha1), S("n"),
				   S("00000001"), S("c"), S("auth-conf"), S("REGISTER"),
				   S(SIP_URI), NULL, out),
		   ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(digest_ha1((enum digest_alg)42, S("a"), S("b"), S("c"), out), ==, WIMS_EINVAL);
	EXPECT_INT(digest_verify(DIGEST_ALG_MD5, S("short"), S("n"), S("00000001"), S("c"),
				 S("auth"), S("REGISTER"), S(SIP_URI), NULL, S("x")),
		   ==, WIMS_EINVAL);
}

static void alg_names_parse(void)
{
	enum digest_alg a = DIGEST_ALG_SHA256;
	EXPECT_INT(digest_alg_parse(SLICE_NULL, &a), ==, 0);
	EXPECT_INT(a, ==, DIGEST_ALG_MD5);
	EXPECT_INT(digest_alg_parse(S("sha-256"), &a), ==, 0);
	EXPECT_INT(a, ==, DIGEST_ALG_SHA256);
	EXPECT_INT(digest_alg_parse(S("SHA-256-sess"), &a), ==, 0);
	EXPECT_INT(a, ==, DIGEST_ALG_SHA256_SESS);
	EXPECT_INT(digest_alg_parse(S("MD5-sess"), &a), ==, 0);
	EXPECT_INT(a, ==, DIGEST_ALG_MD5_SESS);
	EXPECT_INT(digest_alg_parse(S("SHA-512-256"), &a), ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(digest_alg_parse(S("AKAv1-MD5"), &a), ==, WIMS_EUNSUPPORTED);
	EXPECT_STR(digest_alg_name(DIGEST_ALG_SHA256), "SHA-256");
	EXPECT_STR(digest_alg_name(DIGEST_ALG_MD5), "MD5");
	EXPECT_INT(digest_hex_len(DIGEST_ALG_MD5_SESS), ==, 32);
	EXPECT_INT(digest_hex_len(DIGEST_ALG_SHA256), ==, 64);
}

static void impi_from_impu(void)
{
	char out[64];
	static const struct {
		const char *impu, *impi;
	} ok[] = {
		{"sip:alice@ims.example.org", "alice@ims.example.org"},
		{"sips:bob@ims.example.org", "bob@ims.example.org"},
		{"SIP:carol@ims.example.org:5060;transport=tcp", "carol@ims.example.org"},
		{"sip:dave@ims.example.org?subject=x", "dave@ims.example.org"},
		{"sip:eve:pw@ims.example.org", "eve@ims.example.org"},
		{"sip:u@[2001:db8::1]:5060", "u@[2001:db8::1]"},
		{" sip:f@h ", "f@h"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(ok); i++) {
		int n = digest_impi_from_impu(slice_from_cstr(ok[i].impu), out, sizeof(out));
		EXPECT_INT(n, ==, (int)strlen(ok[i].impi));
		EXPECT_STR(out, ok[i].impi);
	}
	static const char *const bad[] = {
		"tel:+15550000001", "sip:ims.example.org", "sip:@ims.example.org",
		"sip:alice@",       "alice@ims.example.org", "",
		"sip:a b@h",        "sip::pw@h",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		EXPECT_INT(digest_impi_from_impu(slice_from_cstr(bad[i]), out, sizeof(out)), ==,
			   WIMS_EPARSE);
		EXPECT_STR(out, "");
	}
	char small[8];
	EXPECT_INT(digest_impi_from_impu(S("sip:alice@ims.example.org"), small, sizeof(small)),
		   ==, WIMS_ETOOBIG);
	EXPECT_STR(small, "");
	/* Not NUL-terminated input: only len counts. */
	struct slice cut = {"sip:alice@ims.example.orgXXXX", 25};
	EXPECT_INT(digest_impi_from_impu(cut, out, sizeof(out)), ==, 21);
	EXPECT_STR(out, "alice@ims.example.org");
}

int main(void)
{
	UNIT_RUN(rfc7616_md5);
	UNIT_RUN(rfc7616_sha256);
	UNIT_RUN(sip_register_all_forms);
	UNIT_RUN(verify_refuses_wrong_response);
	UNIT_RUN(refuses_bad_inputs);
	UNIT_RUN(alg_names_parse);
	UNIT_RUN(impi_from_impu);
	return UNIT_MAIN_END();
}
