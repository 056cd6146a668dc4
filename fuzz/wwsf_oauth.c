/*
 * wwsf_oauth.c - fuzz what the WWSF's OAuth client reads from others
 * (wwsf/oauth.h): the callback's query (application/x-www-form-urlencoded,
 * from whoever sends the browser there), the WAF's token answer and error
 * answer, the POST /link body, and the wims_oauth cookie.
 *
 * What is accepted must be what the handlers rely on: a decoded form value
 * without control characters within its bound, a token answer whose
 * access_token is an RFC 6750 b64token and whose IMPI/IMPUs are printable
 * without space, quote, backslash or angle bracket (they go into JSON, the
 * log and SIP), an error description of printable ASCII; a refusal always
 * has a reason.  A form built by wwsf_form_add from a decoded value decodes
 * back to it (round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "wwsf/oauth.h"
#include "wwsf/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ident(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	if (n == 0 || n == max)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>')
			abort();
	}
}

static void check_form(struct slice in)
{
	static const char *const names[] = {"code", "state", "error", "error_description"};
	char v[300], built[1024], back[300];
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int n = wwsf_form_get(in, names[k], v, sizeof(v));
		if (n < 0)
			continue;
		if ((size_t)n >= sizeof(v) || strlen(v) != (size_t)n)
			abort();
		for (int i = 0; i < n; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				abort();
		built[0] = '\0';
		if (wwsf_form_add(built, sizeof(built), names[k], v) == 0) {
			int m = wwsf_form_get(slice_from_cstr(built), names[k], back, sizeof(back));
			if (m != n || strcmp(back, v) != 0)
				abort();
		}
	}
}

static void check_token(struct slice in)
{
	struct wwsf_grant *g = malloc(sizeof(*g));
	const char *reason = NULL;
	if (!g)
		return;
	if (wwsf_token_resp_parse(in, g, &reason) != 0) {
		if (!reason)
			abort();
	} else {
		size_t n = strnlen(g->access_token, sizeof(g->access_token));
		if (n == 0 || n == sizeof(g->access_token) || g->expires_in <= 0)
			abort();
		for (size_t i = 0; i < n; i++)
			if (g->access_token[i] <= 0x20 || g->access_token[i] >= 0x7f ||
			    g->access_token[i] == '"' || g->access_token[i] == '\\')
				abort();
		check_ident(g->impi, sizeof(g->impi));
		check_ident(g->impu, sizeof(g->impu));
		if (g->nimpus == 0 || g->nimpus > WWSF_GRANT_IMPUS_MAX)
			abort();
		for (size_t i = 0; i < g->nimpus; i++)
			check_ident(g->impus[i], sizeof(g->impus[i]));
	}
	free(g);
	char d[64];
	wwsf_waf_error_parse(in, d, sizeof(d));
	for (size_t i = 0; d[i]; i++)
		if ((unsigned char)d[i] < 0x20 || (unsigned char)d[i] >= 0x7f)
			abort();
}

static void check_link(struct slice in)
{
	char impu[WIMS_IMPU_MAX];
	const char *reason = NULL;
	if (wwsf_link_req_parse(in, impu, &reason) != 0) {
		if (!reason || impu[0])
			abort();
		return;
	}
	check_ident(impu, sizeof(impu));
	if (strncmp(impu, "sip:", 4) != 0 && strncmp(impu, "tel:", 4) != 0)
		abort();
}

static void check_cookie(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	struct slice tok;
	if (wwsf_cookie_token(s, "wims_oauth", &tok) == 0 &&
	    (tok.len != WWSF_SESSION_TOKEN_LEN || tok.p < s || tok.p + tok.len > s + size))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	check_form(in);
	check_token(in);
	check_link(in);
	check_cookie(data, size);
	return 0;
}
