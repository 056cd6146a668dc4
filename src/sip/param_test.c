/* param_test.c - parameter lists, comma lists, quoted strings, LWS. */
#include "sip/param.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static void params_with_and_without_values(void)
{
	struct slice rest = SLICE_LIT("transport=tcp;lr; ob ;maddr = 10.0.0.1;x=\"a;b\"");
	struct sip_param p;
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 1);
	EXPECT_SLICE(p.name, "transport");
	EXPECT_SLICE(p.value, "tcp");
	EXPECT_TRUE(p.has_value && !p.quoted);
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 1);
	EXPECT_SLICE(p.name, "lr");
	EXPECT_TRUE(!p.has_value);
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 1);
	EXPECT_SLICE(p.name, "ob");
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 1);
	EXPECT_SLICE(p.name, "maddr");
	EXPECT_SLICE(p.value, "10.0.0.1");
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 1);
	EXPECT_SLICE(p.value, "a;b");
	EXPECT_TRUE(p.quoted);
	EXPECT_INT(sip_param_next(&rest, ';', &p), ==, 0);
}

static void bad_params(void)
{
	static const char *bad[] = {"=x", "a=", "a=\"unterminated", "a=\"q\"junk", "a b",
				    "a=b c"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		struct slice rest = slice_from_cstr(bad[i]);
		struct sip_param p;
		int rc;
		while ((rc = sip_param_next(&rest, ';', &p)) == 1)
			;
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
	}
}

static void find_is_case_insensitive(void)
{
	struct sip_param p;
	EXPECT_TRUE(sip_param_find(SLICE_LIT("Tag=abc;LR"), "tag", &p));
	EXPECT_SLICE(p.value, "abc");
	EXPECT_TRUE(sip_param_find(SLICE_LIT("Tag=abc;LR"), "lr", NULL));
	EXPECT_TRUE(!sip_param_find(SLICE_LIT("Tag=abc;LR"), "ob", NULL));
	EXPECT_TRUE(!sip_param_find(SLICE_NULL, "ob", NULL));
}

static void comma_lists_respect_quotes_and_angles(void)
{
	struct slice rest = SLICE_LIT(
		"\"Doe, John\" <sip:j@x;a=1,2>;q=1 ,\r\n <sip:k@y>, sip:z@w");
	struct slice item;
	EXPECT_INT(sip_list_next(&rest, &item), ==, 1);
	EXPECT_SLICE(item, "\"Doe, John\" <sip:j@x;a=1,2>;q=1");
	EXPECT_INT(sip_list_next(&rest, &item), ==, 1);
	EXPECT_SLICE(item, "<sip:k@y>");
	EXPECT_INT(sip_list_next(&rest, &item), ==, 1);
	EXPECT_SLICE(item, "sip:z@w");
	EXPECT_INT(sip_list_next(&rest, &item), ==, 0);

	static const char *bad[] = {"a,,b", "a,", ",a", "<sip:x", "sip:x>", "\"x"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		struct slice r = slice_from_cstr(bad[i]);
		int rc;
		while ((rc = sip_list_next(&r, &item)) == 1)
			;
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
	}
}

static void qstring_unescape(void)
{
	char out[16];
	EXPECT_INT(sip_qstring_unescape(SLICE_LIT("a\\\"b\\\\c"), out, sizeof(out)), ==, 5);
	EXPECT_STR(out, "a\"b\\c");
	EXPECT_INT(sip_qstring_unescape(SLICE_LIT("abc\\"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(sip_qstring_unescape(SLICE_LIT("0123456789abcdef"), out, sizeof(out)), ==,
		   WIMS_ETOOBIG);
	EXPECT_STR(out, "");
	EXPECT_INT(sip_qstring_unescape(SLICE_LIT("0123456789abcde"), out, sizeof(out)), ==, 15);
}

static void lws_and_tokens(void)
{
	EXPECT_SLICE(sip_lws_trim(SLICE_LIT(" \t\r\n a b \r\n\t")), "a b");
	/* A CRLF not followed by white space is not LWS. */
	EXPECT_SLICE(sip_lws_trim(SLICE_LIT("\r\nx")), "\r\nx");
	EXPECT_TRUE(sip_is_token(SLICE_LIT("z9hG4bK-._!%*+`'~")));
	EXPECT_TRUE(!sip_is_token(SLICE_LIT("a b")));
	EXPECT_TRUE(!sip_is_token(SLICE_LIT("a:b")));
	EXPECT_TRUE(!sip_is_token(SLICE_NULL));
}

int main(void)
{
	UNIT_RUN(params_with_and_without_values);
	UNIT_RUN(bad_params);
	UNIT_RUN(find_is_case_insensitive);
	UNIT_RUN(comma_lists_respect_quotes_and_angles);
	UNIT_RUN(qstring_unescape);
	UNIT_RUN(lws_and_tokens);
	return UNIT_MAIN_END();
}
