/*
 * waf_link.c - fuzz what identity linking (waf/link.c) reads from the web
 * before anything reaches the store or a SIP message: the typed code, the
 * IMPU to link, the Origin / Sec-Fetch-Site headers and the public URL's
 * origin, the CSRF token of the /link form, and the HTML escaping of what
 * is echoed into pages.  (The form itself goes through waf/form.c, fuzzed
 * with the WAF's endpoints.)
 *
 * What is accepted must be what link.c relies on: a code of exactly eight
 * digits; an IMPU that starts sip: or tel: and holds nothing that ends a
 * header or a name-addr; an Origin accepted only when it is ours; an
 * origin without path; no forged CSRF token; escaped HTML without < > " '.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/slice.h"
#include "waf/link_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = {(const char *)data, size};
	char code[LINK_CODE_DIGITS + 1];
	if (waf_link_code_normalize(in, code) == 0) {
		if (strlen(code) != LINK_CODE_DIGITS)
			abort();
		for (size_t i = 0; i < LINK_CODE_DIGITS; i++)
			if (code[i] < '0' || code[i] > '9')
				abort();
	}

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	const char *why = NULL;
	if (waf_link_impu_check(s, "ims.example.org", &why) == 0) {
		if (strncasecmp(s, "sip:", 4) != 0 && strncasecmp(s, "tel:", 4) != 0)
			abort();
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<' ||
			    *p == '>' || *p == '"' || *p == ',')
				abort();
	} else if (!why) {
		abort();
	}

	const char *own = "https://127.0.0.1:9443";
	if (waf_link_same_origin(s, NULL, own) && strcasecmp(s, own) != 0)
		abort();
	if (waf_link_same_origin(NULL, s, own) && strcasecmp(s, "same-origin") != 0 &&
	    strcasecmp(s, "none") != 0)
		abort();

	char origin[128];
	if (waf_link_origin_of(s, origin, sizeof(origin)) == 0) {
		const char *sep = strstr(origin, "://");
		if (!sep || strchr(sep + 3, '/') || strchr(origin, '?') || strchr(origin, '#'))
			abort();
		for (const char *p = origin; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	}

	if (waf_link_csrf_ok("bob", in))
		abort(); /* a forged token: 2^-256 */

	struct buf b = BUF_INIT;
	if (waf_link_html_escape(&b, s) == 0 && b.len &&
	    (memchr(b.p, '<', b.len) || memchr(b.p, '>', b.len) || memchr(b.p, '"', b.len) ||
	     memchr(b.p, '\'', b.len)))
		abort();
	buf_reset(&b);
	waf_link_message_text(&b, s, "waf", "sip:bob@ims.example.org", "12345678",
			      "https://127.0.0.1:9443", 600);
	buf_free(&b);
	free(s);
	return 0;
}
