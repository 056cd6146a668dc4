/*
 * waf_basic.c - fuzz the HTTP Basic client authentication parser of the
 * WAF (RFC 6749 2.3.1, waf/form.h waf_basic_parse).
 *
 * Accepted: a non-empty client id and a secret, both NUL-terminated
 * within their buffers and free of control characters; refused: both
 * buffers emptied, a reason given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "core/wims.h"
#include "waf/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[64], secret[128];
	const char *why = NULL;
	int rc = waf_basic_parse((struct slice){(const char *)data, size}, id, sizeof(id), secret,
				 sizeof(secret), &why);
	if (rc) {
		if (!why || id[0] || secret[0])
			abort();
		return 0;
	}
	size_t il = strnlen(id, sizeof(id)), sl = strnlen(secret, sizeof(secret));
	if (il == 0 || il == sizeof(id) || sl == sizeof(secret))
		abort();
	for (size_t i = 0; i < il; i++)
		if ((unsigned char)id[i] < 0x20)
			abort();
	for (size_t i = 0; i < sl; i++)
		if ((unsigned char)secret[i] < 0x20)
			abort();
	return 0;
}
