/* via_test.c - Via entries: transports, sent-by forms, branch, received,
 * rport with and without value, LWS, lists and refusals. */
#include "sip/via.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static struct sip_via v;
static const char *why;

static int parse(const char *s)
{
	why = NULL;
	return sip_via_parse(&v, slice_from_cstr(s), &why);
}

static void jssip_wss_via(void)
{
	EXPECT_INT(parse("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK6469213;rport"), ==, 0);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_WSS);
	EXPECT_SLICE(v.transport, "WSS");
	EXPECT_SLICE(v.host, "df7jal23ls0d.invalid");
	EXPECT_SLICE(v.sent_by, "df7jal23ls0d.invalid");
	EXPECT_INT(v.port, ==, 0);
	EXPECT_SLICE(v.branch, "z9hG4bK6469213");
	EXPECT_TRUE(v.rport);
	EXPECT_INT(v.rport_value, ==, 0);
	EXPECT_INT(v.received.len, ==, 0);
	EXPECT_SLICE(v.params, "branch=z9hG4bK6469213;rport");
}

static void received_and_rport_value(void)
{
	EXPECT_INT(parse("SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKx;rport=40000;received=192.0.2.7;alias"), ==, 0);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_TCP);
	EXPECT_SLICE(v.host, "127.0.0.1");
	EXPECT_INT(v.port, ==, 5070);
	EXPECT_TRUE(v.rport);
	EXPECT_INT(v.rport_value, ==, 40000);
	EXPECT_SLICE(v.received, "192.0.2.7");
	EXPECT_TRUE(v.alias);
	EXPECT_INT(parse("SIP/2.0/UDP [2001:db8::9]:5060;received=2001:db8::10;branch=z9hG4bKy"), ==, 0);
	EXPECT_TRUE(v.host_ipv6);
	EXPECT_SLICE(v.host, "2001:db8::9");
	EXPECT_SLICE(v.sent_by, "[2001:db8::9]:5060");
	EXPECT_SLICE(v.received, "2001:db8::10");
}

static void lws_and_case(void)
{
	EXPECT_INT(parse("sip / 2.0 / sctp\r\n  host.example.org ; branch = z9hG4bKz ; ttl=16"), ==, 0);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_SCTP);
	EXPECT_SLICE(v.host, "host.example.org");
	EXPECT_SLICE(v.branch, "z9hG4bKz");
	EXPECT_SLICE(v.ttl, "16");
	EXPECT_INT(parse("SIP/2.0/XYZ h;branch=b"), ==, 0);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_OTHER);
	EXPECT_INT(sip_transport_lookup(SLICE_LIT("ws")), ==, SIP_TRANSPORT_WS);
	EXPECT_STR(sip_transport_name(SIP_TRANSPORT_TLS), "TLS");
}

static void refusals(void)
{
	static const char *bad[] = {
		"", "SIP/2.0/UDP", "SIP/2.0 UDP host", "SIP/3.0/UDP host", "HTTP/2.0/UDP host",
		"SIP/2.0/UDP host:0", "SIP/2.0/UDP host:99999", "SIP/2.0/UDPhost",
		"SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;branch=\"q\"",
		"SIP/2.0/UDP host;branch=a;branch=b", "SIP/2.0/UDP host;rport=0",
		"SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP host;received",
		"SIP/2.0/UDP host junk", "SIP/2.0/UDP [::1;branch=x", "SIP/2.0/UDP host;=x",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		int rc = parse(bad[i]);
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
		EXPECT_STR(why, "Bad Via");
	}
}

static void iterate_a_list(void)
{
	struct sip_via_iter it;
	sip_via_iter_init(&it, SLICE_LIT("SIP/2.0/TCP a;branch=z9hG4bK1, SIP/2.0/UDP b:5062;branch=z9hG4bK2 ,\r\n SIP/2.0/WS c;branch=z9hG4bK3"));
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.host, "a");
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.host, "b");
	EXPECT_INT(v.port, ==, 5062);
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_WS);
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, 0);

	sip_via_iter_init(&it, SLICE_LIT("SIP/2.0/TCP a;branch=z9hG4bK1,,SIP/2.0/TCP b"));
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_INT(sip_via_iter_next(&it, &v, &why), ==, WIMS_EPARSE);
}

static void message_iterator_bounds_entries(void)
{
	static char msg[8192];
	size_t o = (size_t)snprintf(msg, sizeof(msg), "OPTIONS sip:a SIP/2.0\r\nVia: ");
	for (int i = 0; i < WIMS_SIP_MAX_VIAS + 1; i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%sSIP/2.0/UDP h%d;branch=z9hG4bK%d",
				      i ? "," : "", i, i);
	o += (size_t)snprintf(msg + o, sizeof(msg) - o,
			      "\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n"
			      "CSeq: 1 OPTIONS\r\n\r\n");
	struct sip_msg m;
	EXPECT_INT(sip_msg_parse(&m, msg, o, SIP_FRAMING_DATAGRAM, &why), ==, (int)o);
	struct sip_msg_via_iter it;
	sip_msg_via_iter_init(&it, &m);
	int rc, n = 0;
	while ((rc = sip_msg_via_iter_next(&it, &v, &why)) == 1)
		n++;
	EXPECT_INT(rc, ==, WIMS_ETOOBIG);
	EXPECT_INT(n, ==, WIMS_SIP_MAX_VIAS);
	EXPECT_STR(why, "Too many Via entries");

	static const char empty[] = "OPTIONS sip:a SIP/2.0\r\nVia:\r\nFrom: <sip:a@b>;tag=1\r\n"
				    "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
	EXPECT_INT(sip_msg_parse(&m, empty, sizeof(empty) - 1, SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(sip_msg_top_via(&m, &v, &why), ==, WIMS_EPARSE);
	sip_msg_via_iter_init(&it, &m);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, WIMS_EPARSE);
}

int main(void)
{
	UNIT_RUN(jssip_wss_via);
	UNIT_RUN(received_and_rport_value);
	UNIT_RUN(lws_and_case);
	UNIT_RUN(refusals);
	UNIT_RUN(iterate_a_list);
	UNIT_RUN(message_iterator_bounds_entries);
	return UNIT_MAIN_END();
}
