/*
 * fuzz.h - the driver of the targets that fuzz several checks at once.
 *
 * The input's first byte picks the check (modulo their number, so that
 * every byte means one and saved corpora keep their meaning when a check
 * is added at the end); the rest is that check's input, copied into a
 * buffer of exactly its size so that ASan sees a read past its end.
 */
#ifndef WIMS_FUZZ_FUZZ_H
#define WIMS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*fuzz_check_fn)(const char *p, size_t n);

static inline int fuzz_pick_check(const uint8_t *data, size_t size, const fuzz_check_fn *checks,
				  size_t n_checks)
{
	if (size == 0)
		return 0;
	char *p = malloc(size - 1 ? size - 1 : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	checks[data[0] % n_checks](p, size - 1);
	free(p);
	return 0;
}

#endif
