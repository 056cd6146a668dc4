/* nameaddr_test.c - From/To/Contact/Route/Path values: display names
 * (quoted with escapes, tokens, none), <uri> and bare addr-spec, header
 * parameters, lists and "*". */
#include "sip/nameaddr.h"

#include <string.h>

#include "core/wims.h"
#include "sip/uri.h"
#include "unit.h"

static struct sip_nameaddr na;
static const char *why;

static int parse(const char *s)
{
	why = NULL;
	return sip_nameaddr_parse(&na, slice_from_cstr(s), &why);
}

static void quoted_display_with_escapes(void)
{
	EXPECT_INT(parse("\"Bob \\\"the\\\" Builder\" <sip:bob@example.org>;tag=a48s"), ==, 0);
	EXPECT_TRUE(na.display_quoted);
	EXPECT_SLICE(na.display, "Bob \\\"the\\\" Builder");
	char out[64];
	EXPECT_INT(sip_qstring_unescape(na.display, out, sizeof(out)), >, 0);
	EXPECT_STR(out, "Bob \"the\" Builder");
	EXPECT_SLICE(na.uri, "sip:bob@example.org");
	EXPECT_TRUE(na.angle);
	EXPECT_SLICE(na.tag, "a48s");
	EXPECT_SLICE(na.params, "tag=a48s");
	/* A quoted display name may hold '<' and ','. */
	EXPECT_INT(parse("\"a <b>, c\"<sip:x@y>"), ==, 0);
	EXPECT_SLICE(na.display, "a <b>, c");
	EXPECT_SLICE(na.uri, "sip:x@y");
}

static void token_display_and_none(void)
{
	EXPECT_INT(parse("Carol   Smith <sip:carol@[2001:db8::77]>;tag=x"), ==, 0);
	EXPECT_TRUE(!na.display_quoted);
	EXPECT_SLICE(na.display, "Carol   Smith");
	EXPECT_SLICE(na.uri, "sip:carol@[2001:db8::77]");
	EXPECT_INT(parse("<sip:alice@ims.example.org>"), ==, 0);
	EXPECT_INT(na.display.len, ==, 0);
	EXPECT_TRUE(na.tag.p == NULL);
	EXPECT_INT(parse("Bad,Name <sip:x@y>"), ==, WIMS_EPARSE);
}

static void bare_addr_spec_params_belong_to_header(void)
{
	/* RFC 3261 20.10: without <>, ";tag" is a header parameter. */
	EXPECT_INT(parse("sip:carol@example.org;tag=88sja8x"), ==, 0);
	EXPECT_TRUE(!na.angle);
	EXPECT_SLICE(na.uri, "sip:carol@example.org");
	EXPECT_SLICE(na.tag, "88sja8x");
	EXPECT_INT(parse("sip:sipp@127.0.0.1:5061"), ==, 0);
	EXPECT_SLICE(na.uri, "sip:sipp@127.0.0.1:5061");
	EXPECT_INT(parse("sip:a@b?subject=x"), ==, WIMS_EPARSE);
}

static void contact_params(void)
{
	EXPECT_INT(parse("<sip:6k3gpjma@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;"
			 "+sip.instance=\"<urn:uuid:3a8e5d2b-2a5b-4a3b-9d74-0e2b0b0c2f5e>\";"
			 "expires=600;q=0.5"), ==, 0);
	EXPECT_SLICE(na.uri, "sip:6k3gpjma@df7jal23ls0d.invalid;transport=ws");
	EXPECT_SLICE(na.instance, "<urn:uuid:3a8e5d2b-2a5b-4a3b-9d74-0e2b0b0c2f5e>");
	EXPECT_SLICE(na.reg_id, "1");
	EXPECT_SLICE(na.expires, "600");
	EXPECT_SLICE(na.q, "0.5");
	struct sip_param p;
	EXPECT_TRUE(sip_nameaddr_param(&na, "+SIP.ICE", &p));
	EXPECT_TRUE(!p.has_value);
	/* The URI inside parses on demand. */
	struct sip_uri u;
	EXPECT_INT(sip_uri_parse(&u, na.uri, &why), ==, 0);
	EXPECT_SLICE(u.transport, "ws");
	EXPECT_INT(parse("*"), ==, 0);
	EXPECT_TRUE(na.star);
}

static void lists(void)
{
	struct sip_nameaddr_iter it;
	sip_nameaddr_iter_init(&it, SLICE_LIT("<sip:carol@[2001:db8::77]:5070>;q=0.7, sip:carol2@example.org;q=0.1,\r\n \"X, Y\" <sip:z@w;a=1,2>"));
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 1);
	EXPECT_SLICE(na.q, "0.7");
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 1);
	EXPECT_SLICE(na.uri, "sip:carol2@example.org");
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 1);
	EXPECT_SLICE(na.display, "X, Y");
	EXPECT_SLICE(na.uri, "sip:z@w;a=1,2");
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 0);

	/* P-Associated-URI as cscf sends it. */
	sip_nameaddr_iter_init(&it, SLICE_LIT("<sip:alice@ims.example.org>, <tel:+15551234>"));
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 1);
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 1);
	EXPECT_SLICE(na.uri, "tel:+15551234");
	EXPECT_INT(sip_nameaddr_iter_next(&it, &na, &why), ==, 0);
}

static void refusals(void)
{
	static const char *bad[] = {
		"", "<sip:a@b", "\"unterminated <sip:a@b>", "\"x\" sip:a@b", "<>", "<nocolon>",
		"<sip:a@b> junk", "<sip:a@b>;tag", "<sip:a@b>;tag=1;tag=2", "<sip:a b@c>",
		"<sip:a@b>;=x", "sip:a@b,c", "<sip:a@b>;tag=\"q\"", "1sip:a@b",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		int rc = parse(bad[i]);
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
		EXPECT_STR(why, "Bad name-addr");
	}
}

int main(void)
{
	UNIT_RUN(quoted_display_with_escapes);
	UNIT_RUN(token_display_and_none);
	UNIT_RUN(bare_addr_spec_params_belong_to_header);
	UNIT_RUN(contact_params);
	UNIT_RUN(lists);
	UNIT_RUN(refusals);
	return UNIT_MAIN_END();
}
