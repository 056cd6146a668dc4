/*
 * me_request.c - fuzz target for the body of POST /aka to the ME agent
 * (me_request_parse, src/me/request.c): JSON from any web page the
 * browser lets reach the agent.
 *
 * Properties checked: no crash or overread (ASan; the input is not
 * NUL-terminated), the return value in its documented set, a refusal
 * leaves nothing behind and names its reason, an accepted body gives
 * non-empty NUL-terminated members within their limits and a known
 * algorithm, and what was accepted, written back as JSON, parses to the
 * same values (round trip).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "me/request.h"

static void roundtrip(const struct me_request *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "impi", r->impi, "nonce", r->nonce, "algorithm",
			      aka_version_name(r->algorithm));
	if (!o)
		return; /* not UTF-8 jansson would write: it refused it on input too */
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	struct me_request again;
	if (strlen(s) <= ME_REQUEST_MAX_BODY) {
		if (me_request_parse(s, strlen(s), &again, NULL) != 0 ||
		    strcmp(again.impi, r->impi) != 0 || strcmp(again.nonce, r->nonce) != 0 ||
		    again.algorithm != r->algorithm)
			abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly size bytes, so ASan sees any overread. */
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);
	struct me_request r;
	const char *reason = NULL;
	int rc = me_request_parse(body, size, &r, &reason);
	if (rc != 0 && rc != WIMS_EPARSE && rc != WIMS_ETOOBIG && rc != WIMS_EUNSUPPORTED)
		abort();
	if (rc != 0) {
		static const struct me_request zero;
		if (!reason || memcmp(&r, &zero, sizeof(r)) != 0)
			abort();
	} else {
		size_t ni = strnlen(r.impi, sizeof(r.impi));
		size_t nn = strnlen(r.nonce, sizeof(r.nonce));
		if (ni == 0 || ni >= sizeof(r.impi) || nn == 0 || nn >= sizeof(r.nonce) ||
		    (r.algorithm != AKA_V1_MD5 && r.algorithm != AKA_V2_SHA256))
			abort();
		roundtrip(&r);
	}
	free(body);
	return 0;
}
