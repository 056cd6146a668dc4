/*
 * form_test.c - form bodies, query strings, cookies and Basic credentials:
 * whole and byte by byte, and the refusals (duplicates, bad escapes,
 * control characters, over-long values).
 */
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "waf/form.h"

static void form_decodes_plus_and_percent(void)
{
	struct waf_form f;
	const char *why = NULL;
	const char *in = "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fa.b%2Fcb%3Fx%3D1"
			 "&scope=a+b&empty=&flag";
	EXPECT_INT(waf_form_parse(slice_from_cstr(in), &f, &why), ==, 0);
	EXPECT_INT(f.n, ==, 5);
	char v[128];
	EXPECT_INT(waf_form_get(&f, "redirect_uri", v, sizeof(v)), ==, 18);
	EXPECT_STR(v, "https://a.b/cb?x=1");
	EXPECT_INT(waf_form_get(&f, "scope", v, sizeof(v)), ==, 3);
	EXPECT_STR(v, "a b");
	EXPECT_INT(waf_form_get(&f, "empty", v, sizeof(v)), ==, 0);
	EXPECT_TRUE(waf_form_has(&f, "flag"));
	EXPECT_INT(waf_form_get(&f, "nothere", v, sizeof(v)), ==, WIMS_ENOTFOUND);
}

static void form_refuses_a_parameter_twice(void)
{
	/* RFC 6749 3.1: a parameter MUST NOT be included more than once;
	 * an encoded spelling of the same name counts as the same. */
	struct waf_form f;
	const char *why = NULL;
	EXPECT_INT(waf_form_parse(slice_from_cstr("code=a&code=b"), &f, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "parameter included more than once");
	EXPECT_INT(waf_form_parse(slice_from_cstr("code=a&c%6fde=b"), &f, &why), ==, WIMS_EPARSE);
}

static void form_refuses_bad_escapes_and_controls(void)
{
	struct waf_form f;
	const char *why = NULL;
	char v[64];
	EXPECT_INT(waf_form_parse(slice_from_cstr("a=%4"), &f, &why), ==, 0);
	EXPECT_INT(waf_form_get(&f, "a", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(waf_form_parse(slice_from_cstr("a=%zz"), &f, &why), ==, 0);
	EXPECT_INT(waf_form_get(&f, "a", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(waf_form_parse(slice_from_cstr("a=x%00y"), &f, &why), ==, 0);
	EXPECT_INT(waf_form_get(&f, "a", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(waf_form_parse(slice_from_cstr("a=x%0d%0aSet-Cookie:1"), &f, &why), ==, 0);
	EXPECT_INT(waf_form_get(&f, "a", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(waf_form_parse(slice_from_cstr("=x"), &f, &why), ==, WIMS_EPARSE);
	EXPECT_INT(waf_form_parse(slice_from_cstr("a%0a=x"), &f, &why), ==, WIMS_EPARSE);
}

static void form_bounds(void)
{
	struct waf_form f;
	const char *why = NULL;
	char big[WAF_FORM_MAX_LEN + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_INT(waf_form_parse(slice_from_cstr(big), &f, &why), ==, WIMS_ETOOBIG);
	char many[2048] = "";
	for (int i = 0; i <= WAF_FORM_MAX_FIELDS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "k%d=1&", i);
	EXPECT_INT(waf_form_parse(slice_from_cstr(many), &f, &why), ==, WIMS_ETOOBIG);
	char v[4];
	EXPECT_INT(waf_form_parse(slice_from_cstr("a=12345"), &f, &why), ==, 0);
	EXPECT_INT(waf_form_get(&f, "a", v, sizeof(v)), ==, WIMS_ETOOBIG);
}

static void form_byte_by_byte(void)
{
	/* every prefix parses or is refused, never more */
	const char *in = "a=1&b=%41%42&c=x+y&d";
	for (size_t n = 0; n <= strlen(in); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, in, n);
		struct waf_form f;
		const char *why = NULL;
		int rc = waf_form_parse((struct slice){copy, n}, &f, &why);
		EXPECT_TRUE(rc == 0 || rc == WIMS_EPARSE);
		char v[32];
		for (size_t k = 0; rc == 0 && k < f.n; k++)
			waf_form_decode(f.f[k].value, v, sizeof(v));
		free(copy);
	}
}

static void cookie_found_and_checked(void)
{
	char v[64];
	struct slice h = slice_from_cstr("a=1; waf_pre=abc_DEF-12; waf_session=x.1.y");
	EXPECT_INT(waf_cookie_get(h, "waf_pre", v, sizeof(v)), ==, 10);
	EXPECT_STR(v, "abc_DEF-12");
	EXPECT_INT(waf_cookie_get(h, "waf", v, sizeof(v)), ==, WIMS_ENOTFOUND);
	EXPECT_INT(waf_cookie_get(slice_from_cstr("waf_pre=a\\b"), "waf_pre", v, sizeof(v)), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_cookie_get(h, "waf_pre", v, 4), ==, WIMS_ETOOBIG);
}

static void basic_rfc6749_encoding(void)
{
	char id[64], secret[64];
	const char *why = NULL;
	/* "wwsf.example:s%3Ac+t" -> id wwsf.example, secret "s:c t" */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic d3dzZi5leGFtcGxlOnMlM0FjK3Q="), id,
				   sizeof(id), secret, sizeof(secret), &why),
		   ==, 0);
	EXPECT_STR(id, "wwsf.example");
	EXPECT_STR(secret, "s:c t");
	/* scheme case-insensitive */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("basic YTpi"), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, 0);
	EXPECT_STR(id, "a");
	EXPECT_STR(secret, "b");
}

static void basic_refusals(void)
{
	char id[64], secret[64];
	const char *why = NULL;
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Bearer abc"), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, WIMS_ENOTFOUND);
	/* no colon */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic YWJj"), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, WIMS_EPARSE);
	/* not base64 */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic YW!j"), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, WIMS_EPARSE);
	/* empty id ":x" */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic Ong="), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, WIMS_EPARSE);
	/* a NUL in the secret ("a:%00") */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic YTolMDA="), id, sizeof(id), secret,
				   sizeof(secret), &why),
		   ==, WIMS_EPARSE);
	EXPECT_STR(id, "");
	/* the id does not fit */
	EXPECT_INT(waf_basic_parse(slice_from_cstr("Basic YWJjZGVmOng="), id, 4, secret,
				   sizeof(secret), &why),
		   ==, WIMS_ETOOBIG);
}

int main(void)
{
	UNIT_RUN(form_decodes_plus_and_percent);
	UNIT_RUN(form_refuses_a_parameter_twice);
	UNIT_RUN(form_refuses_bad_escapes_and_controls);
	UNIT_RUN(form_bounds);
	UNIT_RUN(form_byte_by_byte);
	UNIT_RUN(cookie_found_and_checked);
	UNIT_RUN(basic_rfc6749_encoding);
	UNIT_RUN(basic_refusals);
	return UNIT_MAIN_END();
}
