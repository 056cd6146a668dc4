/*
 * waf_form.c - fuzz the WAF's form and query-string parser (waf/form.h)
 * and its Cookie header reader, on the same input.
 *
 * What is accepted must be what the handlers rely on: at most
 * WAF_FORM_MAX_FIELDS fields, no name twice, every decoded value
 * NUL-terminated within its buffer and free of control characters; a
 * refusal has a reason.  A cookie value is only cookie-octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "core/wims.h"
#include "waf/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_controls(const char *v, int len)
{
	if (len < 0)
		return;
	if ((size_t)len != strlen(v))
		abort();
	for (int i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	struct waf_form f;
	const char *why = NULL;
	int rc = waf_form_parse(in, &f, &why);
	if (rc) {
		if (!why || (rc != WIMS_EPARSE && rc != WIMS_ETOOBIG))
			abort();
	} else {
		if (f.n > WAF_FORM_MAX_FIELDS)
			abort();
		static const char *const names[] = {"client_id", "redirect_uri", "state",
						    "code_challenge", "csrf", "username",
						    "password", "consent", "grant_type", "code"};
		for (size_t i = 0; i < WIMS_ARRAY_LEN(names); i++) {
			char v[64];
			int l = waf_form_get(&f, names[i], v, sizeof(v));
			if (l >= (int)sizeof(v))
				abort();
			no_controls(v, l);
		}
		for (size_t k = 0; k < f.n; k++) {
			if (f.f[k].name.p < in.p || f.f[k].value.p + f.f[k].value.len > in.p + in.len)
				abort();
			char v[256];
			no_controls(v, waf_form_decode(f.f[k].value, v, sizeof(v)));
		}
	}
	char c[64];
	int l = waf_cookie_get(in, "waf_pre", c, sizeof(c));
	if (l >= 0) {
		if ((size_t)l != strlen(c) || l >= (int)sizeof(c))
			abort();
		for (int i = 0; i < l; i++)
			if (c[i] <= ' ' || c[i] == ';' || c[i] == ',' || c[i] == '"' ||
			    c[i] == '\\' || c[i] == 0x7f)
				abort();
	}
	return 0;
}
