/*
 * request_test.c - the token request parser: both grants, and each
 * refusal with its RFC 6749 5.2 error code.
 */
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "waf/request.h"

static int parse(const char *body, struct waf_token_req *tr, const char **error,
		 const char **why)
{
	struct waf_form f;
	*error = *why = NULL;
	return waf_token_req_parse(slice_from_cstr(body), &f, tr, error, why);
}

static void code_grant(void)
{
	struct waf_token_req tr;
	const char *error, *why;
	EXPECT_INT(parse("grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fw%2Fcb"
			 "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
			 &tr, &error, &why),
		   ==, 0);
	EXPECT_INT(tr.grant, ==, WAF_GT_CODE);
	EXPECT_STR(tr.code, "abc");
	EXPECT_STR(tr.redirect_uri, "https://w/cb");
	EXPECT_STR(tr.code_verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	EXPECT_STR(tr.subject, "");
}

static void client_credentials(void)
{
	struct waf_token_req tr;
	const char *error, *why;
	EXPECT_INT(parse("grant_type=client_credentials&impi=pool1%40ims.example.org", &tr, &error,
			 &why),
		   ==, 0);
	EXPECT_INT(tr.grant, ==, WAF_GT_CLIENT_CREDENTIALS);
	EXPECT_STR(tr.impi, "pool1@ims.example.org");
	EXPECT_INT(parse("grant_type=client_credentials&subject=erin&impi=x", &tr, &error, &why),
		   ==, WIMS_EPARSE);
	EXPECT_STR(error, "invalid_request");
	EXPECT_INT(parse("grant_type=client_credentials", &tr, &error, &why), ==, WIMS_EPARSE);
}

static void refusals(void)
{
	struct waf_token_req tr;
	const char *error, *why;
	EXPECT_INT(parse("code=abc", &tr, &error, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "grant_type missing");
	EXPECT_INT(parse("grant_type=password&username=a", &tr, &error, &why), ==, WIMS_EPARSE);
	EXPECT_STR(error, "unsupported_grant_type");
	EXPECT_INT(parse("grant_type=authorization_code", &tr, &error, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "code missing");
	EXPECT_INT(parse("grant_type=authorization_code&code=a&code=b", &tr, &error, &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(parse("grant_type=authorization_code&code=a%0d%0a", &tr, &error, &why), ==,
		   WIMS_EPARSE);
	EXPECT_STR(why, "malformed code");
	EXPECT_INT(parse("grant_type=client_credentials&impi=a&client_id=%3Cx%3E", &tr, &error,
			 &why),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "malformed client_id");
	/* a verifier longer than RFC 7636 allows does not fit */
	char body[400] = "grant_type=authorization_code&code=a&code_verifier=";
	memset(body + strlen(body), 'a', 200);
	EXPECT_INT(parse(body, &tr, &error, &why), ==, WIMS_EPARSE);
	EXPECT_INT(parse("grant_type=authorization_code&code=a&client_secret=s", &tr, &error, &why),
		   ==, 0);
	EXPECT_TRUE(tr.has_client_secret);
}

int main(void)
{
	UNIT_RUN(code_grant);
	UNIT_RUN(client_credentials);
	UNIT_RUN(refusals);
	return UNIT_MAIN_END();
}
