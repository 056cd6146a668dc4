/*
 * waf_token.c - fuzz the token request parser of the WAF (waf/request.h):
 * an accepted request names a known grant, has its code (code grant) or
 * exactly one of subject and impi (client credentials), a well-formed
 * client_id when one is given, and NUL-terminated fields; a refusal has an
 * RFC 6749 error code and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "core/wims.h"
#include "waf/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct waf_form f;
	struct waf_token_req tr;
	const char *error = NULL, *why = NULL;
	int rc = waf_token_req_parse((struct slice){(const char *)data, size}, &f, &tr, &error,
				     &why);
	if (rc) {
		if (!why || !error ||
		    (strcmp(error, "invalid_request") && strcmp(error, "unsupported_grant_type")))
			abort();
		return 0;
	}
	if (tr.grant == WAF_GT_CODE) {
		if (!tr.code[0])
			abort();
	} else if (tr.grant == WAF_GT_CLIENT_CREDENTIALS) {
		if ((tr.subject[0] != '\0') == (tr.impi[0] != '\0'))
			abort();
	} else {
		abort();
	}
	if (tr.client_id[0] && !waf_client_id_ok(tr.client_id))
		abort();
	if (strnlen(tr.redirect_uri, sizeof(tr.redirect_uri)) == sizeof(tr.redirect_uri) ||
	    strnlen(tr.code_verifier, sizeof(tr.code_verifier)) == sizeof(tr.code_verifier))
		abort();
	return 0;
}
