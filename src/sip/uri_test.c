/* uri_test.c - SIP/SIPS/tel URIs: the parts, the parameters a proxy uses,
 * and refusals. */
#include "sip/uri.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static struct sip_uri u;
static const char *why;

static int parse(const char *s)
{
	why = NULL;
	return sip_uri_parse(&u, slice_from_cstr(s), &why);
}

static void full_sip_uri(void)
{
	EXPECT_INT(parse("sip:alice:secret@ims.example.org:5070;transport=tcp;lr;ob?subject=hi"), ==, 0);
	EXPECT_INT(u.scheme, ==, SIP_URI_SIP);
	EXPECT_SLICE(u.user, "alice");
	EXPECT_TRUE(u.has_password);
	EXPECT_SLICE(u.password, "secret");
	EXPECT_SLICE(u.host, "ims.example.org");
	EXPECT_SLICE(u.hostport, "ims.example.org:5070");
	EXPECT_INT(u.port, ==, 5070);
	EXPECT_SLICE(u.params, "transport=tcp;lr;ob");
	EXPECT_SLICE(u.headers, "subject=hi");
	EXPECT_SLICE(u.transport, "tcp");
	EXPECT_TRUE(u.lr);
	EXPECT_TRUE(u.ob);
	EXPECT_INT(sip_uri_port_or_default(&u), ==, 5070);
}

static void host_only_and_defaults(void)
{
	EXPECT_INT(parse("sip:ims.example.org"), ==, 0);
	EXPECT_INT(u.user.len, ==, 0);
	EXPECT_INT(u.port, ==, 0);
	EXPECT_TRUE(!u.lr);
	EXPECT_INT(sip_uri_port_or_default(&u), ==, 5060);
	EXPECT_INT(parse("SIPS:Bob@Example.ORG"), ==, 0);
	EXPECT_INT(u.scheme, ==, SIP_URI_SIPS);
	EXPECT_SLICE(u.host, "Example.ORG");
	EXPECT_INT(sip_uri_port_or_default(&u), ==, 5061);
	EXPECT_INT(parse("sip:127.0.0.1;transport=WSS"), ==, 0);
	EXPECT_INT(sip_uri_port_or_default(&u), ==, 5061);
}

static void ipv6_hosts(void)
{
	EXPECT_INT(parse("sip:carol@[2001:db8::77]:5070;maddr=[2001:db8::1]"), ==, 0);
	EXPECT_TRUE(u.host_ipv6);
	EXPECT_SLICE(u.host, "2001:db8::77");
	EXPECT_SLICE(u.hostport, "[2001:db8::77]:5070");
	EXPECT_INT(u.port, ==, 5070);
	EXPECT_SLICE(u.maddr, "[2001:db8::1]");
	EXPECT_INT(parse("sip:[::ffff:192.0.2.1]"), ==, 0);
	EXPECT_SLICE(u.host, "::ffff:192.0.2.1");
	EXPECT_INT(parse("sip:[2001:db8::1"), ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad URI host");
	EXPECT_INT(parse("sip:[zz::1]"), ==, WIMS_EPARSE);
	EXPECT_INT(parse("sip:[]"), ==, WIMS_EPARSE);
}

static void flow_token_path_uri(void)
{
	/* What pcscf puts in Path and cscf routes back to. */
	EXPECT_INT(parse("sip:Zmxvdy0xMjM0@127.0.0.1:5070;transport=tcp;lr;ob"), ==, 0);
	EXPECT_SLICE(u.user, "Zmxvdy0xMjM0");
	EXPECT_SLICE(u.host, "127.0.0.1");
	EXPECT_INT(u.port, ==, 5070);
	struct sip_param p;
	EXPECT_TRUE(sip_uri_param(&u, "TRANSPORT", &p));
	EXPECT_SLICE(p.value, "tcp");
	EXPECT_TRUE(!sip_uri_param(&u, "maddr", &p));
	/* Escaped and user-unreserved characters stay as written. */
	EXPECT_INT(parse("sip:a%20b&c=d+e$f,g;h?i/j@example.org"), ==, 0);
	EXPECT_SLICE(u.user, "a%20b&c=d+e$f,g;h?i/j");
	EXPECT_SLICE(u.host, "example.org");
}

static void tel_uris(void)
{
	EXPECT_INT(parse("tel:+1-555-123-4567;phone-context=ims.example.org"), ==, 0);
	EXPECT_INT(u.scheme, ==, SIP_URI_TEL);
	EXPECT_SLICE(u.user, "+1-555-123-4567");
	EXPECT_INT(u.host.len, ==, 0);
	EXPECT_SLICE(u.params, "phone-context=ims.example.org");
	EXPECT_INT(parse("tel:"), ==, WIMS_EPARSE);
	EXPECT_INT(parse("tel:+1555?x=y"), ==, WIMS_EPARSE);
	EXPECT_INT(parse("tel:+1555@host"), ==, WIMS_EPARSE);
}

static void refusals(void)
{
	static const struct {
		const char *uri, *reason;
	} cases[] = {
		{"http://example.org", "Bad URI scheme"},
		{"example.org", "Bad URI scheme"},
		{"", "Bad URI scheme"},
		{"sip:", "Bad URI host"},
		{"sip:@example.org", "Bad URI"},
		{"sip:a@b@example.org", "Bad URI"},
		{"sip:a b@example.org", "Bad URI"},
		{"sip:alice@-bad.org", "Bad URI host"},
		{"sip:alice@exa_mple.org", "Bad URI host"},
		{"sip:alice@example.org:0", "Bad URI port"},
		{"sip:alice@example.org:65536", "Bad URI port"},
		{"sip:alice@example.org:123456", "Bad URI port"},
		{"sip:alice@example.org:", "Bad URI port"},
		{"sip:alice@example.org;;lr", "Bad URI"},
		{"sip:alice@example.org;", "Bad URI"},
		{"sip:alice@example.org?", "Bad URI"},
		{"sip:alice@example.org;a=\"q\"", "Bad URI"},
		{"sip:alice@example.org>", "Bad URI"},
		{"sip:al\xc3\xa9@example.org", "Bad URI"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(cases); i++) {
		int rc = parse(cases[i].uri);
		if (rc != WIMS_EPARSE || !why || strcmp(why, cases[i].reason))
			fprintf(stderr, "    %s: %d %s\n", cases[i].uri, rc, why ? why : "");
		EXPECT_INT(rc, ==, WIMS_EPARSE);
		EXPECT_STR(why, cases[i].reason);
	}
	/* A slice is bounded by its length, not a NUL. */
	EXPECT_INT(sip_uri_parse(&u, (struct slice){"sip:a@b.org:5060garbage", 15}, &why), ==, 0);
	EXPECT_INT(u.port, ==, 506);
}

int main(void)
{
	UNIT_RUN(full_sip_uri);
	UNIT_RUN(host_only_and_defaults);
	UNIT_RUN(ipv6_hosts);
	UNIT_RUN(flow_token_path_uri);
	UNIT_RUN(tel_uris);
	UNIT_RUN(refusals);
	return UNIT_MAIN_END();
}
