/*
 * wwsf_login.c - fuzz the network ISIM API's request parsing (wwsf/
 * isim_api.h, session.h): the /login and /isim/aka JSON bodies, the Cookie
 * header's wims_session token and the Origin allow-list match.
 *
 * Every input goes through all four.  What is accepted must be what the
 * handler relies on: a user name that is valid or empty, a password
 * without NUL and within its bound, an IMPI of printable ASCII without
 * space, quote or backslash, a known AKA version, a token of exactly 43
 * base64url characters inside the header; a refusal always has a reason.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/slice.h"
#include "wwsf/isim_api.h"
#include "wwsf/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_login(struct slice in)
{
	struct wwsf_login_req lr;
	const char *reason = NULL;
	if (wwsf_login_parse(in, &lr, &reason) != 0) {
		if (!reason || lr.password_len != 0)
			abort();
		return;
	}
	size_t ulen = strnlen(lr.user, sizeof(lr.user));
	if (ulen == sizeof(lr.user) || (ulen && !web_user_name_ok(slice_from_cstr(lr.user))))
		abort();
	if (lr.password_len > WEB_PASSWORD_MAX || lr.password[lr.password_len] != '\0' ||
	    memchr(lr.password, '\0', lr.password_len))
		abort();
}

static void check_aka(struct slice in)
{
	struct wwsf_aka_req ar;
	const char *reason = NULL;
	if (wwsf_aka_req_parse(in, &ar, &reason) != 0) {
		if (!reason)
			abort();
		return;
	}
	size_t n = strnlen(ar.impi, sizeof(ar.impi));
	if (n == 0 || n == sizeof(ar.impi) || strnlen(ar.nonce, sizeof(ar.nonce)) == sizeof(ar.nonce))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ar.impi[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			abort();
	}
	if (ar.version != AKA_V1_MD5 && ar.version != AKA_V2_SHA256)
		abort();
}

static void check_headers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	struct slice tok;
	if (wwsf_session_cookie_token(s, &tok) == 0) {
		if (tok.len != WWSF_SESSION_TOKEN_LEN || tok.p < s || tok.p + tok.len > s + size)
			abort();
		for (size_t i = 0; i < tok.len; i++)
			if (b64url_value(tok.p[i]) < 0)
				abort();
	}
	/* the input as a header value against a fixed list, and as a list */
	bool allowed = wwsf_origin_allowed("https://127.0.0.1:8443, https://localhost:8443", s);
	if (allowed && strcasecmp(s, "https://127.0.0.1:8443") != 0 &&
	    strcasecmp(s, "https://localhost:8443") != 0)
		abort();
	(void)wwsf_origin_allowed(s, "https://127.0.0.1:8443");
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	check_login(in);
	check_aka(in);
	check_headers(data, size);
	return 0;
}
