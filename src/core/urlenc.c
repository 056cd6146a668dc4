/*
 * urlenc.c - hex digits and form-component decoding (urlenc.h).
 *
 * RFC 3986 2.1 (percent-encoding) and the WHATWG URL Standard's
 * application/x-www-form-urlencoded parser ('+' is a space).  Unlike that
 * parser, a malformed escape is refused, not passed through: a value that
 * reads two ways is a value a filter and its backend could disagree on.
 */
#include "core/urlenc.h"

#include "core/wims.h"

int urlenc_hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int urlenc_form_decode(struct slice in, char *out, size_t outsz)
{
	size_t o = 0;
	if (outsz == 0)
		return WIMS_ETOOBIG;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= in.len)
				return WIMS_EPARSE;
			int hi = urlenc_hex_digit_value(in.p[i + 1]);
			int lo = urlenc_hex_digit_value(in.p[i + 2]);
			if (hi < 0 || lo < 0)
				return WIMS_EPARSE;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return WIMS_EPARSE;
		if (o + 1 >= outsz)
			return WIMS_ETOOBIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}
