/*
 * path.c - URL path to file path, refusing everything that could leave the
 * root.
 *
 * The rule is an allow-list, not a search for bad patterns: after one
 * %-decoding, every segment must be a plain name of printable ASCII that
 * does not start with ".".  Encoded separators are refused rather than
 * decoded, so "a%2F..%2Fb" cannot become "a/../b" on a second decoding
 * somewhere else, and "\" is refused so that no platform reads it as one.
 */
#include "wwsf/path.h"

#include <stdbool.h>
#include <string.h>

#include "core/urlenc.h"
#include "core/wims.h"

static int too_long(const char **reason)
{
	*reason = "Path too long";
	return WIMS_ETOOBIG;
}

int wwsf_path_resolve(struct slice url_path, char *out, size_t outsz, const char **reason)
{
	static const char index_name[] = "index.html";
	size_t n = 0;          /* bytes written to out */
	bool at_seg_start = true;

	*reason = NULL;
	if (outsz == 0)
		return too_long(reason);
	out[0] = '\0';
	if (url_path.len == 0 || url_path.p[0] != '/') {
		*reason = "path must start with /";
		return WIMS_EDENIED;
	}
	for (size_t i = 1; i < url_path.len; i++) {
		char c = url_path.p[i];
		if (c == '/') {
			if (at_seg_start) {
				*reason = "empty path segment";
				return WIMS_EDENIED;
			}
			if (n + 1 >= outsz)
				return too_long(reason);
			out[n++] = '/';
			at_seg_start = true;
			continue;
		}
		if (c == '%') {
			int hi = i + 2 < url_path.len ? urlenc_hex_digit_value(url_path.p[i + 1]) : -1;
			int lo = i + 2 < url_path.len ? urlenc_hex_digit_value(url_path.p[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*reason = "bad %-escape";
				return WIMS_EPARSE;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
			if (c == '/') {
				*reason = "encoded / in path";
				return WIMS_EDENIED;
			}
		}
		unsigned char u = (unsigned char)c;
		if (u < 0x20 || u >= 0x7f) {
			*reason = "control or non-ASCII byte in path";
			return WIMS_EDENIED;
		}
		if (c == '\\') {
			*reason = "backslash in path";
			return WIMS_EDENIED;
		}
		if (at_seg_start && c == '.') {
			/* ".", ".." and hidden files (".git", ".env") */
			*reason = "path segment starts with .";
			return WIMS_EDENIED;
		}
		if (n + 1 >= outsz)
			return too_long(reason);
		out[n++] = c;
		at_seg_start = false;
	}
	if (at_seg_start) {
		/* "/" or "dir/": the directory's index page */
		if (n + sizeof(index_name) > outsz)
			return too_long(reason);
		memcpy(out + n, index_name, sizeof(index_name));
		n += sizeof(index_name) - 1;
	}
	out[n] = '\0';
	return (int)n;
}
