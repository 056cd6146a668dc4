/* hmac_test.c - RFC 4231 vectors, whole and split into parts. */
#include "core/hmac.h"

#include "core/wims.h"
#include "unit.h"

/* RFC 4231 4.3, test case 2: key "Jefe". */
static const uint8_t case2[HMAC_SHA256_LEN] = {
	0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
	0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
	0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
};

static void rfc4231_case2_whole(void)
{
	struct slice data = SLICE_LIT("what do ya want for nothing?");
	uint8_t out[HMAC_SHA256_LEN];
	EXPECT_INT(hmac_sha256((const uint8_t *)"Jefe", 4, &data, 1, out, sizeof(out)), ==, 0);
	EXPECT_MEM(out, case2, sizeof(out));
}

static void parts_are_concatenated_and_empty_parts_ignored(void)
{
	struct slice parts[] = {SLICE_LIT("what do "), SLICE_NULL, SLICE_LIT("ya want"),
				SLICE_LIT(" for nothing?")};
	uint8_t out[16];
	EXPECT_INT(hmac_sha256((const uint8_t *)"Jefe", 4, parts, 4, out, sizeof(out)), ==, 0);
	EXPECT_MEM(out, case2, sizeof(out));
}

static void refuses_more_than_the_hash(void)
{
	struct slice data = SLICE_LIT("x");
	uint8_t out[HMAC_SHA256_LEN + 1];
	EXPECT_INT(hmac_sha256((const uint8_t *)"k", 1, &data, 1, out, sizeof(out)), ==,
		   WIMS_EINVAL);
}

int main(void)
{
	UNIT_RUN(rfc4231_case2_whole);
	UNIT_RUN(parts_are_concatenated_and_empty_parts_ignored);
	UNIT_RUN(refuses_more_than_the_hash);
	return UNIT_MAIN_END();
}
