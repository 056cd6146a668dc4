/*
 * request.c - the POST /aka body of the ME agent (see request.h).
 *
 * jansson parses; what it gives is checked member by member and copied
 * into fixed buffers, so nothing from the page outlives this call in a
 * size we did not choose.  jansson refuses "\u0000" in strings unless
 * asked (JSON_ALLOW_NUL), so a copied string has no hidden NUL.
 */
#include "me/request.h"

#include <string.h>

#include <jansson.h>

#include "core/slice.h"
#include "core/wims.h"

/* Member key as a non-empty string shorter than max; 0 or WIMS_EPARSE. */
static int member_string(json_t *o, const char *key, char *dst, size_t max,
			 const char **reason, const char *why)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v)) {
		*reason = why;
		return WIMS_EPARSE;
	}
	size_t n = json_string_length(v);
	if (n == 0 || n >= max) {
		*reason = why;
		return WIMS_EPARSE;
	}
	memcpy(dst, json_string_value(v), n);
	dst[n] = '\0';
	return 0;
}

int me_request_parse(const char *body, size_t len, struct me_request *out,
		     const char **reason)
{
	static const char *ignored;
	if (!reason)
		reason = &ignored;
	memset(out, 0, sizeof(*out));
	if (len > ME_REQUEST_MAX_BODY) {
		*reason = "request body too large";
		return WIMS_ETOOBIG;
	}
	if (!body || len == 0) {
		*reason = "empty request body: expected JSON {impi, nonce, algorithm}";
		return WIMS_EPARSE;
	}
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		*reason = "request body is not valid JSON";
		return WIMS_EPARSE;
	}
	int rc = 0;
	if (!json_is_object(o)) {
		*reason = "request body must be a JSON object {impi, nonce, algorithm}";
		rc = WIMS_EPARSE;
	}
	if (!rc)
		rc = member_string(o, "impi", out->impi, sizeof(out->impi), reason,
				   "impi must be a non-empty string of at most 255 bytes");
	if (!rc)
		rc = member_string(o, "nonce", out->nonce, sizeof(out->nonce), reason,
				   "nonce must be the challenge's nonce (a base64 string)");
	if (!rc) {
		json_t *a = json_object_get(o, "algorithm");
		out->algorithm = AKA_V2_SHA256;
		if (a && !json_is_string(a)) {
			*reason = "algorithm must be a string";
			rc = WIMS_EPARSE;
		} else if (a) {
			struct slice name = {json_string_value(a), json_string_length(a)};
			if (aka_version_parse(name, &out->algorithm)) {
				*reason = "algorithm must be AKAv2-SHA-256";
				rc = WIMS_EUNSUPPORTED;
			}
		}
	}
	json_decref(o);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
