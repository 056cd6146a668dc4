/* b64url_test.c - RFC 4648 section 10 vectors, in the URL alphabet. */
#include "core/b64url.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static void encodes_rfc4648_vectors_without_padding(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},        {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char out[16];
		size_t n = b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in), out);
		EXPECT_INT(n, ==, strlen(v[i].out));
		EXPECT_INT(n, ==, B64URL_LEN(strlen(v[i].in)));
		EXPECT_MEM(out, v[i].out, n);
	}
}

static void uses_the_url_alphabet(void)
{
	const uint8_t in[] = {0xfb, 0xff, 0xbf};
	char out[4];
	b64url_encode(in, sizeof(in), out);
	EXPECT_MEM(out, "-_-_", 4);
	EXPECT_INT(b64url_value('-'), ==, 62);
	EXPECT_INT(b64url_value('_'), ==, 63);
	EXPECT_INT(b64url_value('+'), ==, -1);
	EXPECT_INT(b64url_value('/'), ==, -1);
	EXPECT_INT(b64url_value('='), ==, -1);
	EXPECT_INT(b64url_value('A'), ==, 0);
	EXPECT_INT(b64url_value('9'), ==, 61);
}

static void decode_exact_round_trips_and_refuses_other_spellings(void)
{
	uint8_t out[6];
	EXPECT_INT(b64url_decode_exact("Zm9vYmFy", 8, out, 6), ==, 0);
	EXPECT_MEM(out, "foobar", 6);
	EXPECT_INT(b64url_decode_exact("Zm9vYmE", 7, out, 5), ==, 0);
	EXPECT_MEM(out, "fooba", 5);
	/* "Zm9vYmF" would be 5 bytes with non-zero spare bits: a second
	 * spelling of "fooba" must not decode. */
	EXPECT_INT(b64url_decode_exact("Zm9vYmF", 7, out, 5), ==, WIMS_EPARSE);
	EXPECT_INT(b64url_decode_exact("Zm9vYmFy", 8, out, 5), ==, WIMS_EPARSE);
	EXPECT_INT(b64url_decode_exact("Zm9v+mFy", 8, out, 6), ==, WIMS_EPARSE);
	EXPECT_INT(b64url_decode_exact("Zm9vYmF=", 8, out, 6), ==, WIMS_EPARSE);
	EXPECT_INT(b64url_decode_exact(NULL, 0, out, 0), ==, WIMS_EPARSE);
}

int main(void)
{
	UNIT_RUN(encodes_rfc4648_vectors_without_padding);
	UNIT_RUN(uses_the_url_alphabet);
	UNIT_RUN(decode_exact_round_trips_and_refuses_other_spellings);
	return UNIT_MAIN_END();
}
