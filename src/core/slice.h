/*
 * slice.h - the one {p, len} view used by every parser.
 *
 * A slice points into memory it does not own (usually a receive buffer) and
 * is never NUL-terminated.  Parsers bound every token by len.
 */
#ifndef WIMS_CORE_SLICE_H
#define WIMS_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slice {
	const char *p;
	size_t len;
};

#define SLICE_NULL ((struct slice){NULL, 0})
/* A slice of a string literal, without its NUL. */
#define SLICE_LIT(s) ((struct slice){(s), sizeof(s) - 1})

struct slice slice_from_cstr(const char *s);
bool slice_eq(struct slice a, struct slice b);
/* ASCII case-insensitive equality, as SIP token comparison needs. */
bool slice_ieq(struct slice a, struct slice b);
bool slice_ieq_cstr(struct slice a, const char *s);
bool slice_eq_cstr(struct slice a, const char *s);
bool slice_starts_with_i(struct slice a, const char *prefix);
/* Drop leading and trailing SP and HTAB. */
struct slice slice_trim(struct slice s);
/* Index of the first c in s, or -1. */
long slice_find(struct slice s, char c);
/* Parse a decimal in [0, max]; WIMS_EPARSE on anything else (no sign, no
 * spaces, at least one digit). */
int slice_to_u64(struct slice s, uint64_t max, uint64_t *out);
/* Copy into dst (size dstsz, NUL-terminated); WIMS_ETOOBIG if it does not
 * fit, and then dst holds "". */
int slice_copy_cstr(struct slice s, char *dst, size_t dstsz);

#endif
