/* slice.c - comparisons and conversions on {p, len} views. */
#include "core/slice.h"

#include <string.h>

#include "core/wims.h"

struct slice slice_from_cstr(const char *s)
{
	return (struct slice){s, s ? strlen(s) : 0};
}

bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

bool slice_ieq(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
			return false;
	return true;
}

bool slice_ieq_cstr(struct slice a, const char *s)
{
	return slice_ieq(a, slice_from_cstr(s));
}

bool slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_from_cstr(s));
}

bool slice_starts_with_i(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && slice_ieq((struct slice){a.p, n}, (struct slice){prefix, n});
}

struct slice slice_trim(struct slice s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

long slice_find(struct slice s, char c)
{
	const char *hit = s.len ? memchr(s.p, c, s.len) : NULL;
	return hit ? (long)(hit - s.p) : -1;
}

int slice_to_u64(struct slice s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0)
		return WIMS_EPARSE;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return WIMS_EPARSE;
		if (d > max || v > (max - d) / 10)
			return WIMS_EPARSE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int slice_copy_cstr(struct slice s, char *dst, size_t dstsz)
{
	if (dstsz == 0)
		return WIMS_ETOOBIG;
	if (s.len >= dstsz) {
		dst[0] = '\0';
		return WIMS_ETOOBIG;
	}
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}
