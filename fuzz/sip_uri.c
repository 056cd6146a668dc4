/*
 * sip_uri.c - libFuzzer target for the value parsers that take a URI or a
 * list of them: sip_uri_parse, sip_nameaddr (and its list iterator),
 * sip_via, and the parameter / list lexers.  Every slice handed out must
 * lie inside the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/wims.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/uri.h"
#include "sip/via.h"

static const char *lo, *hi;

static void inside(struct slice s)
{
	if (s.len && (s.p < lo || s.p + s.len > hi))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	const char *why;
	lo = in.p;
	hi = in.p + size;

	struct sip_uri u;
	if (sip_uri_parse(&u, in, &why) == 0) {
		inside(u.user);
		inside(u.password);
		inside(u.host);
		inside(u.hostport);
		inside(u.params);
		inside(u.headers);
		inside(u.transport);
		inside(u.maddr);
		if (u.port == 0 && u.hostport.len && u.hostport.p[u.hostport.len - 1] == ':')
			abort();
		struct sip_param p;
		if (sip_uri_param(&u, "transport", &p))
			inside(p.value);
	} else if (!why) {
		abort();
	}

	struct sip_nameaddr_iter it;
	struct sip_nameaddr na;
	sip_nameaddr_iter_init(&it, in);
	int n = 0;
	while (sip_nameaddr_iter_next(&it, &na, &why) == 1 && n++ < 256) {
		inside(na.entry);
		inside(na.uri);
		inside(na.display);
		inside(na.params);
		inside(na.tag);
		if (!na.star && sip_uri_parse(&u, na.uri, &why) == 0)
			inside(u.host);
	}

	struct sip_via_iter vit;
	struct sip_via v;
	sip_via_iter_init(&vit, in);
	n = 0;
	while (sip_via_iter_next(&vit, &v, &why) == 1 && n++ < 256) {
		inside(v.entry);
		inside(v.host);
		inside(v.sent_by);
		inside(v.branch);
		inside(v.params);
	}

	struct slice rest = in;
	struct sip_param prm;
	n = 0;
	while (sip_param_next(&rest, ';', &prm) == 1 && n++ < 4096) {
		inside(prm.name);
		inside(prm.value);
		if (prm.quoted) {
			char buf[64];
			(void)sip_qstring_unescape(prm.value, buf, sizeof(buf));
		}
	}
	inside(sip_lws_trim(in));
	return 0;
}
