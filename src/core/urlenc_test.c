/* urlenc_test.c - hex digits and form-component decoding, refusals included. */
#include "core/urlenc.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

#define S(lit) SLICE_LIT(lit)

static void hex_digit_value_takes_both_cases_only(void)
{
	EXPECT_INT(urlenc_hex_digit_value('0'), ==, 0);
	EXPECT_INT(urlenc_hex_digit_value('9'), ==, 9);
	EXPECT_INT(urlenc_hex_digit_value('a'), ==, 10);
	EXPECT_INT(urlenc_hex_digit_value('F'), ==, 15);
	EXPECT_INT(urlenc_hex_digit_value('f'), ==, 15);
	EXPECT_INT(urlenc_hex_digit_value('g'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value('G'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value('/'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value(':'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value('@'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value('`'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value('\0'), ==, -1);
	EXPECT_INT(urlenc_hex_digit_value((char)0xc1), ==, -1);
}

static void form_decode_reads_plus_and_percent(void)
{
	char out[64];
	EXPECT_INT(urlenc_form_decode(S("a+b%20c%2Bd%2fe%C3%A9"), out, sizeof(out)), ==, 11);
	EXPECT_STR(out, "a b c+d/e\xc3\xa9");
	EXPECT_INT(urlenc_form_decode(S(""), out, sizeof(out)), ==, 0);
	EXPECT_STR(out, "");
	/* decoded once only: %2541 is "%41", not "A" */
	EXPECT_INT(urlenc_form_decode(S("%2541"), out, sizeof(out)), ==, 3);
	EXPECT_STR(out, "%41");
}

static void form_decode_refuses_bad_escapes(void)
{
	char out[64];
	EXPECT_INT(urlenc_form_decode(S("%"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("a%4"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("%zz"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("%4g"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("%+1"), out, sizeof(out)), ==, WIMS_EPARSE);
}

static void form_decode_refuses_control_characters(void)
{
	char out[64];
	EXPECT_INT(urlenc_form_decode(S("a%00b"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("a%0d%0ab"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("%1f"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("%7F"), out, sizeof(out)), ==, WIMS_EPARSE);
	/* raw, not only escaped */
	EXPECT_INT(urlenc_form_decode(S("a\tb"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode(S("a\x7f"), out, sizeof(out)), ==, WIMS_EPARSE);
	EXPECT_INT(urlenc_form_decode((struct slice){"a\0b", 3}, out, sizeof(out)), ==,
		   WIMS_EPARSE);
	/* a space and bytes above 0x7f are not control characters */
	EXPECT_INT(urlenc_form_decode(S("%20%80%ff"), out, sizeof(out)), ==, 3);
}

static void form_decode_refuses_what_does_not_fit(void)
{
	char out[8];
	EXPECT_INT(urlenc_form_decode(S("abcdefg"), out, sizeof(out)), ==, 7);
	EXPECT_STR(out, "abcdefg");
	EXPECT_INT(urlenc_form_decode(S("abcdefgh"), out, sizeof(out)), ==, WIMS_ETOOBIG);
	EXPECT_INT(urlenc_form_decode(S("%41%41%41%41%41%41%41%41"), out, sizeof(out)), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(urlenc_form_decode(S(""), out, 0), ==, WIMS_ETOOBIG);
	EXPECT_INT(urlenc_form_decode(S(""), out, 1), ==, 0);
}

/* Every prefix of a valid value either decodes or is refused as a cut
 * escape, never read past its end (ASan watches the copy). */
static void form_decode_reads_no_byte_past_the_slice(void)
{
	static const char whole[] = "x%41+%c3%a9";
	char out[32];
	for (size_t cut = 0; cut <= sizeof(whole) - 1; cut++) {
		char copy[sizeof(whole)];
		memcpy(copy, whole, cut);
		int rc = urlenc_form_decode((struct slice){copy, cut}, out, sizeof(out));
		bool cut_escape = cut == 2 || cut == 3 || cut == 6 || cut == 7 || cut == 9 ||
				  cut == 10;
		EXPECT_INT(rc < 0, ==, cut_escape);
		if (rc >= 0)
			EXPECT_INT(rc, <=, (int)cut);
	}
	EXPECT_INT(urlenc_form_decode(S(whole), out, sizeof(out)), ==, 5);
	EXPECT_STR(out, "xA \xc3\xa9");
}

int main(void)
{
	UNIT_RUN(hex_digit_value_takes_both_cases_only);
	UNIT_RUN(form_decode_reads_plus_and_percent);
	UNIT_RUN(form_decode_refuses_bad_escapes);
	UNIT_RUN(form_decode_refuses_control_characters);
	UNIT_RUN(form_decode_refuses_what_does_not_fit);
	UNIT_RUN(form_decode_reads_no_byte_past_the_slice);
	return UNIT_MAIN_END();
}
