/*
 * request.c - the token request (request.h).
 */
#include "waf/request.h"

#include <string.h>

#include "core/wims.h"

/* An optional field: absent is "", too long or malformed is refused. */
static int opt(const struct waf_form *f, const char *name, char *out, size_t outsz,
	       const char **why, const char *what)
{
	int rc = waf_form_get(f, name, out, outsz);
	if (rc == WIMS_ENOTFOUND) {
		out[0] = '\0';
		return 0;
	}
	if (rc < 0) {
		*why = what;
		return WIMS_EPARSE;
	}
	return 0;
}

int waf_token_req_parse(struct slice body, struct waf_form *form, struct waf_token_req *out,
			const char **error, const char **why)
{
	memset(out, 0, sizeof(*out));
	*error = "invalid_request";
	if (waf_form_parse(body, form, why))
		return WIMS_EPARSE;
	char gt[32];
	if (waf_form_get(form, "grant_type", gt, sizeof(gt)) <= 0) {
		*why = waf_form_has(form, "grant_type") ? "unsupported grant_type"
							 : "grant_type missing";
		if (waf_form_has(form, "grant_type"))
			*error = "unsupported_grant_type";
		return WIMS_EPARSE;
	}
	if (strcmp(gt, "authorization_code") == 0) {
		out->grant = WAF_GT_CODE;
	} else if (strcmp(gt, "client_credentials") == 0) {
		out->grant = WAF_GT_CLIENT_CREDENTIALS;
	} else {
		*error = "unsupported_grant_type";
		*why = "grant_type must be authorization_code or client_credentials";
		return WIMS_EPARSE;
	}
	if (opt(form, "code", out->code, sizeof(out->code), why, "malformed code") ||
	    opt(form, "redirect_uri", out->redirect_uri, sizeof(out->redirect_uri), why,
		"malformed redirect_uri") ||
	    opt(form, "code_verifier", out->code_verifier, sizeof(out->code_verifier), why,
		"malformed code_verifier") ||
	    opt(form, "client_id", out->client_id, sizeof(out->client_id), why,
		"malformed client_id") ||
	    opt(form, "subject", out->subject, sizeof(out->subject), why, "malformed subject") ||
	    opt(form, "impi", out->impi, sizeof(out->impi), why, "malformed impi") ||
	    opt(form, "scope", out->scope, sizeof(out->scope), why, "malformed scope"))
		return WIMS_EPARSE;
	out->has_client_secret = waf_form_has(form, "client_secret");
	if (out->client_id[0] && !waf_client_id_ok(out->client_id)) {
		*why = "malformed client_id";
		return WIMS_EPARSE;
	}
	if (out->grant == WAF_GT_CODE && !out->code[0]) {
		*why = "code missing";
		return WIMS_EPARSE;
	}
	if (out->grant == WAF_GT_CLIENT_CREDENTIALS &&
	    (out->subject[0] != '\0') == (out->impi[0] != '\0')) {
		*why = "give exactly one of subject (a user you signed in) or impi (from your pool)";
		return WIMS_EPARSE;
	}
	return 0;
}
