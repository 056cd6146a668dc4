/*
 * waf_pkce.c - fuzz PKCE (RFC 7636, waf/pkce.h): the input split in two is
 * a code_verifier and a code_challenge.  A verifier that is accepted must
 * be well formed, and its own S256 challenge must pass while the input's
 * challenge passes only if it is exactly that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "core/wims.h"
#include "waf/pkce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size ? data[0] % (size + 1) : 0;
	struct slice v = {(const char *)data, cut};
	struct slice c = {(const char *)data + cut, size - cut};
	bool cok = waf_pkce_challenge_ok(c);
	int rc = waf_pkce_check(v, c);
	char mine[WAF_PKCE_CHALLENGE_LEN + 1];
	if (waf_pkce_s256(v, mine) == 0) {
		if (!waf_pkce_verifier_ok(v) || strlen(mine) != WAF_PKCE_CHALLENGE_LEN)
			abort();
		if (waf_pkce_check(v, slice_from_cstr(mine)) != 0)
			abort();
		bool same = c.len == WAF_PKCE_CHALLENGE_LEN && memcmp(c.p, mine, c.len) == 0;
		if ((rc == 0) != same)
			abort();
	} else if (rc == 0) {
		abort();
	}
	if (rc == 0 && !cok)
		abort();
	return 0;
}
