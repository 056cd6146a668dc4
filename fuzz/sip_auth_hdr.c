/*
 * sip_auth_hdr.c - libFuzzer target for WWW-Authenticate / Authorization /
 * Authentication-Info values: parse, index, unescape every known
 * parameter, look up unknown ones.  Slices must stay inside the input and
 * an unescaped value can only be shorter than its raw form.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/wims.h"
#include "sip/auth_hdr.h"

static const char *lo, *hi;

static void inside(struct slice s)
{
	if (s.len && (s.p < lo || s.p + s.len > hi))
		abort();
}

static void check(const struct sip_auth *a)
{
	inside(a->scheme_name);
	inside(a->token68);
	inside(a->params);
	for (int i = 0; i < SIP_AUTH_P_COUNT_; i++) {
		char buf[256];
		struct slice out;
		inside(a->p[i]);
		int rc = sip_auth_value(a, (enum sip_auth_param)i, buf, sizeof(buf), &out);
		if (rc == 0 && out.len > a->p[i].len)
			abort();
		if (rc == 0 && out.p != buf)
			inside(out);
	}
	struct slice v;
	bool q;
	if (sip_auth_param_find(a, "x-unknown", &v, &q))
		inside(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	struct sip_auth a;
	const char *why = NULL;
	lo = in.p;
	hi = in.p + size;
	if (sip_auth_parse(&a, in, &why) == 0)
		check(&a);
	else if (!why)
		abort();
	why = NULL;
	if (sip_auth_info_parse(&a, in, &why) == 0)
		check(&a);
	else if (!why)
		abort();
	return 0;
}
