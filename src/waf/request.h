/*
 * request.h - the token request (RFC 6749 4.1.3, 4.4; RFC 7636 4.5) as one
 * parser over a form body, with no I/O: what /token may act on, each field
 * bounded and free of control characters, or a refusal with the RFC 6749
 * 5.2 error code and a static reason.
 */
#ifndef WIMS_WAF_REQUEST_H
#define WIMS_WAF_REQUEST_H

#include <stdbool.h>

#include "auth/jwt.h"
#include "core/limits.h"
#include "core/slice.h"
#include "waf/form.h"
#include "waf/pkce.h"
#include "waf/registry.h"

enum waf_grant_type {
	WAF_GT_CODE = 1,               /* authorization_code */
	WAF_GT_CLIENT_CREDENTIALS = 2, /* client_credentials */
};

struct waf_token_req {
	int grant; /* enum waf_grant_type */
	char code[64];
	char redirect_uri[WAF_URI_MAX];
	char code_verifier[WAF_PKCE_VERIFIER_MAX + 1];
	char client_id[WIMS_WWSF_ID_MAX];
	char subject[WIMS_WEB_ID_MAX];
	char impi[WIMS_IMPI_MAX];
	char scope[JWT_SCOPE_MAX];
	bool has_client_secret; /* client_secret_post: refused by the caller */
};

/* Parse body.  0 with *out (absent fields are ""), or WIMS_EPARSE with
 * *error ("invalid_request", "unsupported_grant_type") and *why.  The form
 * is kept in *form for the caller's own look-ups.  The caller cleanses
 * out->code when done. */
int waf_token_req_parse(struct slice body, struct waf_form *form, struct waf_token_req *out,
			const char **error, const char **why);

#endif
