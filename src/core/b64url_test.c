/* b64url_test.c - RFC 4648 section 10 vectors, in the URL alphabet. */
#include "core/b64url.h"

#include <string.h>

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

int main(void)
{
	UNIT_RUN(encodes_rfc4648_vectors_without_padding);
	UNIT_RUN(uses_the_url_alphabet);
	return UNIT_MAIN_END();
}
