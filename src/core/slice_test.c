/* slice_test.c - the slice helpers every parser stands on. */
#include "core/slice.h"

#include "core/wims.h"
#include "unit.h"

static void ieq_ignores_ascii_case_only(void)
{
	EXPECT_TRUE(slice_ieq_cstr(SLICE_LIT("Content-Length"), "content-length"));
	EXPECT_TRUE(!slice_ieq_cstr(SLICE_LIT("Content-Lengt"), "content-length"));
	EXPECT_TRUE(!slice_ieq_cstr(SLICE_LIT("\xc3\xa9"), "\xc3\x89"));
}

static void trim_drops_sp_and_htab(void)
{
	EXPECT_SLICE(slice_trim(SLICE_LIT(" \t abc \t")), "abc");
	EXPECT_SLICE(slice_trim(SLICE_LIT("   ")), "");
}

static void to_u64_rejects_signs_spaces_and_overflow(void)
{
	uint64_t v = 0;
	EXPECT_INT(slice_to_u64(SLICE_LIT("3600"), 0xffffffff, &v), ==, 0);
	EXPECT_INT(v, ==, 3600);
	EXPECT_INT(slice_to_u64(SLICE_LIT("4294967295"), 0xffffffff, &v), ==, 0);
	EXPECT_INT(slice_to_u64(SLICE_LIT("4294967296"), 0xffffffff, &v), ==, WIMS_EPARSE);
	EXPECT_INT(slice_to_u64(SLICE_LIT("-1"), 100, &v), ==, WIMS_EPARSE);
	EXPECT_INT(slice_to_u64(SLICE_LIT(" 1"), 100, &v), ==, WIMS_EPARSE);
	EXPECT_INT(slice_to_u64(SLICE_LIT(""), 100, &v), ==, WIMS_EPARSE);
	EXPECT_INT(slice_to_u64(SLICE_LIT("7"), 5, &v), ==, WIMS_EPARSE);
	EXPECT_INT(slice_to_u64(SLICE_LIT("18446744073709551616"), UINT64_MAX, &v), ==,
		   WIMS_EPARSE);
}

static void copy_cstr_refuses_what_does_not_fit(void)
{
	char small[4];
	EXPECT_INT(slice_copy_cstr(SLICE_LIT("abc"), small, sizeof(small)), ==, 0);
	EXPECT_STR(small, "abc");
	EXPECT_INT(slice_copy_cstr(SLICE_LIT("abcd"), small, sizeof(small)), ==, WIMS_ETOOBIG);
	EXPECT_STR(small, "");
}

static void find_locates_first_byte(void)
{
	EXPECT_INT(slice_find(SLICE_LIT("a;b;c"), ';'), ==, 1);
	EXPECT_INT(slice_find(SLICE_LIT("abc"), ';'), ==, -1);
	EXPECT_INT(slice_find(SLICE_NULL, ';'), ==, -1);
}

int main(void)
{
	UNIT_RUN(ieq_ignores_ascii_case_only);
	UNIT_RUN(trim_drops_sp_and_htab);
	UNIT_RUN(to_u64_rejects_signs_spaces_and_overflow);
	UNIT_RUN(copy_cstr_refuses_what_does_not_fit);
	UNIT_RUN(find_locates_first_byte);
	return UNIT_MAIN_END();
}
