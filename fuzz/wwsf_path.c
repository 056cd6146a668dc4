/*
 * wwsf_path.c - fuzz the WWSF's URL path to file name resolution.
 *
 * Whatever is asked, an accepted name never climbs out of the web root: no
 * ".." segment, no absolute path, no backslash or control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "wwsf/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[1024];
	const char *reason = NULL;
	struct slice url = {(const char *)data, size};
	int rc = wwsf_path_resolve(url, out, sizeof(out), &reason);
	if (rc < 0) {
		if (!reason)
			abort();
		return 0;
	}
	size_t len = strnlen(out, sizeof(out));
	if ((size_t)rc != len || len == sizeof(out) || out[0] == '/')
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			abort();
		/* a segment may not start with '.': no "..", no hidden files */
		if (c == '.' && (i == 0 || out[i - 1] == '/'))
			abort();
	}
	return 0;
}
