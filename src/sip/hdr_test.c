/* hdr_test.c - header name table: every entry found by its full name in
 * any case and by its compact form; numbers. */
#include "sip/hdr.h"

#include <ctype.h>
#include <string.h>

#include "core/wims.h"
#include "unit.h"

static void every_table_name_is_found(void)
{
	char up[64], low[64];
	for (int id = 1; id < SIP_HDR_COUNT_; id++) {
		const char *n = sip_hdr_name((enum sip_hdr_id)id);
		size_t len = strlen(n);
		EXPECT_TRUE(len > 0 && len < sizeof(up));
		for (size_t i = 0; i < len; i++) {
			up[i] = (char)toupper((unsigned char)n[i]);
			low[i] = (char)tolower((unsigned char)n[i]);
		}
		if ((int)sip_hdr_lookup(n, len) != id)
			fprintf(stderr, "    not found: %s\n", n);
		EXPECT_INT(sip_hdr_lookup(n, len), ==, id);
		EXPECT_INT(sip_hdr_lookup(up, len), ==, id);
		EXPECT_INT(sip_hdr_lookup(low, len), ==, id);
		char c = sip_hdr_compact((enum sip_hdr_id)id);
		if (c) {
			char cu = (char)toupper((unsigned char)c);
			EXPECT_INT(sip_hdr_lookup(&c, 1), ==, id);
			EXPECT_INT(sip_hdr_lookup(&cu, 1), ==, id);
		}
	}
}

static void compact_forms_of_rfc3261(void)
{
	EXPECT_INT(sip_hdr_lookup("v", 1), ==, SIP_HDR_VIA);
	EXPECT_INT(sip_hdr_lookup("i", 1), ==, SIP_HDR_CALL_ID);
	EXPECT_INT(sip_hdr_lookup("m", 1), ==, SIP_HDR_CONTACT);
	EXPECT_INT(sip_hdr_lookup("l", 1), ==, SIP_HDR_CONTENT_LENGTH);
	EXPECT_INT(sip_hdr_lookup("k", 1), ==, SIP_HDR_SUPPORTED);
	EXPECT_INT(sip_hdr_lookup("o", 1), ==, SIP_HDR_EVENT);
	EXPECT_INT(sip_hdr_lookup("r", 1), ==, SIP_HDR_REFER_TO);
	EXPECT_INT(sip_hdr_lookup("b", 1), ==, SIP_HDR_REFERRED_BY);
	EXPECT_INT(sip_hdr_lookup("z", 1), ==, SIP_HDR_OTHER);
	EXPECT_STR(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
	EXPECT_INT(sip_hdr_compact(SIP_HDR_CSEQ), ==, 0);
}

static void near_misses_are_other(void)
{
	EXPECT_INT(sip_hdr_lookup("Vias", 4), ==, SIP_HDR_OTHER);
	EXPECT_INT(sip_hdr_lookup("Call_ID", 7), ==, SIP_HDR_OTHER);
	EXPECT_INT(sip_hdr_lookup("Call-IE", 7), ==, SIP_HDR_OTHER);
	EXPECT_INT(sip_hdr_lookup("X-Foo", 5), ==, SIP_HDR_OTHER);
	EXPECT_INT(sip_hdr_lookup("", 0), ==, SIP_HDR_OTHER);
	/* Not NUL-terminated: only len bytes count. */
	EXPECT_INT(sip_hdr_lookup("ToX", 2), ==, SIP_HDR_TO);
	EXPECT_INT(sip_hdr_lookup("P-Asserted-Identity", 19), ==, SIP_HDR_P_ASSERTED_IDENTITY);
	EXPECT_STR(sip_hdr_name(SIP_HDR_OTHER), "");
	EXPECT_STR(sip_hdr_name(SIP_HDR_COUNT_), "");
}

static void numbers(void)
{
	uint32_t v;
	const char *why = NULL;
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT(" 600 "), 0xffffffffu, &v, &why), ==, 0);
	EXPECT_INT(v, ==, 600);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("\r\n 70"), 255, &v, &why), ==, 0);
	EXPECT_INT(v, ==, 70);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("256"), 255, &v, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad number");
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT(""), 255, &v, &why), ==, WIMS_EPARSE);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("1 2"), 255, &v, &why), ==, WIMS_EPARSE);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("+1"), 255, &v, &why), ==, WIMS_EPARSE);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("4294967295"), 0xffffffffu, &v, &why), ==, 0);
	EXPECT_INT(v, ==, 4294967295u);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("4294967296"), 0xffffffffu, &v, &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(sip_hdr_parse_uint(SLICE_LIT("00000000001"), 0xffffffffu, &v, &why), ==,
		   WIMS_EPARSE);
}

int main(void)
{
	UNIT_RUN(every_table_name_is_found);
	UNIT_RUN(compact_forms_of_rfc3261);
	UNIT_RUN(near_misses_are_other);
	UNIT_RUN(numbers);
	return UNIT_MAIN_END();
}
