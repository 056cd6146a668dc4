/*
 * route_test.c - the cscf's routing decisions: Route entries naming us
 * (port defaults, user "orig", only the leading ones), hops from URIs and
 * bindings, the loop hash and our branch, and a branch's request (Max-
 * Forwards, Via and Record-Route on top, Routes popped, Path as Route,
 * P-Asserted-Identity replaced), the served user of an originating
 * request.
 */
#include "cscf/route.h"

#include <stdio.h>
#include <string.h>

#include "core/wims.h"
#include "sip/msg.h"
#include "unit.h"

static const struct cscf_self self = {"127.0.0.1", 5060};

static char msgbuf[4096];
static struct sip_msg msg;

/* An INVITE with extra header lines (each ending in CRLF). */
static int parse_invite(const char *ruri, const char *extra)
{
	int n = snprintf(msgbuf, sizeof(msgbuf),
			 "INVITE %s SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
			 "From: <sip:alice@ims.example.org>;tag=1\r\n"
			 "To: <sip:bob@ims.example.org>\r\n"
			 "Call-ID: c1\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 ruri, extra);
	const char *reason;
	return sip_msg_parse(&msg, msgbuf, (size_t)n, SIP_FRAMING_STREAM, &reason) == n ? 0 : -1;
}

static void names_us_by_host_and_port(void)
{
	EXPECT_TRUE(cscf_uri_names(SLICE_LIT("sip:127.0.0.1:5060;lr"), &self));
	EXPECT_TRUE(cscf_uri_names(SLICE_LIT("sip:orig@127.0.0.1;lr"), &self)); /* 5060 */
	EXPECT_TRUE(cscf_uri_names(SLICE_LIT("sip:tok@127.0.0.1:5060;transport=tcp"), &self));
	EXPECT_TRUE(!cscf_uri_names(SLICE_LIT("sip:127.0.0.1:5070;lr"), &self));
	EXPECT_TRUE(!cscf_uri_names(SLICE_LIT("sip:127.0.0.2:5060;lr"), &self));
	EXPECT_TRUE(!cscf_uri_names(SLICE_LIT("tel:+15550001"), &self));
	EXPECT_TRUE(!cscf_uri_names(SLICE_LIT("sip:"), &self));
}

static void leading_routes_naming_us_are_popped(void)
{
	struct cscf_route_info ri;
	const char *reason;
	EXPECT_INT(parse_invite("sip:bob@ims.example.org",
				"Route: <sip:orig@127.0.0.1:5060;lr>, <sip:127.0.0.1;lr>\r\n"
				"Route: <sip:tok@127.0.0.1:5070;transport=tcp;lr>\r\n"
				"Route: <sip:127.0.0.1:5060;lr>\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, 0);
	EXPECT_INT(ri.popped, ==, 2);
	EXPECT_TRUE(ri.orig);
	EXPECT_TRUE(ri.has_next);
	EXPECT_SLICE(ri.next, "sip:tok@127.0.0.1:5070;transport=tcp;lr");
	EXPECT_INT(ri.total, ==, 4);

	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "Route: <sip:127.0.0.1:5060;lr>\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, 0);
	EXPECT_INT(ri.popped, ==, 1);
	EXPECT_TRUE(!ri.orig);
	EXPECT_TRUE(!ri.has_next);

	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, 0);
	EXPECT_INT(ri.popped, ==, 0);
	EXPECT_TRUE(!ri.has_next);
}

static void bad_routes_are_refused(void)
{
	struct cscf_route_info ri;
	const char *reason = NULL;
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "Route: <sip:127.0.0.1;lr>, <sip:x\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, WIMS_EPARSE);
	EXPECT_STR(reason, "Bad Route");
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "Route: *\r\n"), ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, WIMS_EPARSE);
	char extra[2048];
	size_t n = snprintf(extra, sizeof(extra), "Route: ");
	for (int i = 0; i < WIMS_SIP_MAX_VIAS + 1; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s<sip:h%d.example;lr>",
				      i ? ", " : "", i);
	snprintf(extra + n, sizeof(extra) - n, "\r\n");
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", extra), ==, 0);
	EXPECT_INT(cscf_route_scan(&msg, &self, &ri, &reason), ==, WIMS_ETOOBIG);
}

static void hops_from_uris(void)
{
	struct cscf_hop hop;
	const char *reason;
	EXPECT_INT(cscf_hop_from_uri(SLICE_LIT("sip:tok@127.0.0.1:5070;transport=tcp;lr"), &hop,
				     &reason),
		   ==, 0);
	EXPECT_STR(hop.host, "127.0.0.1");
	EXPECT_INT(hop.port, ==, 5070);
	EXPECT_INT(hop.transport, ==, CSCF_TCP);
	EXPECT_INT(cscf_hop_from_uri(SLICE_LIT("sip:bob@192.0.2.5"), &hop, &reason), ==, 0);
	EXPECT_INT(hop.port, ==, 5060);
	EXPECT_INT(hop.transport, ==, CSCF_UDP);
	EXPECT_INT(cscf_hop_from_uri(SLICE_LIT("sip:bob@x.example;maddr=192.0.2.9"), &hop, &reason),
		   ==, 0);
	EXPECT_STR(hop.host, "192.0.2.9");
	EXPECT_INT(cscf_hop_from_uri(SLICE_LIT("tel:+15550001"), &hop, &reason), ==, WIMS_EPARSE);
}

static void hops_from_bindings(void)
{
	struct store_binding b;
	struct cscf_hop hop;
	/* A WIC behind a P-CSCF: the first Path URI. */
	memset(&b, 0, sizeof(b));
	snprintf(b.contact, sizeof(b.contact), "sip:x@y.invalid;transport=ws");
	snprintf(b.path, sizeof(b.path),
		 "<sip:tok@127.0.0.1:5070;transport=tcp;lr>, <sip:other@192.0.2.1;lr>");
	snprintf(b.received, sizeof(b.received), "tcp:127.0.0.1:40000");
	EXPECT_INT(cscf_hop_from_binding(&b, &hop), ==, 0);
	EXPECT_STR(hop.host, "127.0.0.1");
	EXPECT_INT(hop.port, ==, 5070);
	EXPECT_INT(hop.transport, ==, CSCF_TCP);
	EXPECT_STR(hop.conn_hint, "");
	/* A phone over UDP: where it registered from, not its Contact. */
	memset(&b, 0, sizeof(b));
	snprintf(b.contact, sizeof(b.contact), "sip:bob@10.0.0.1:5090");
	snprintf(b.received, sizeof(b.received), "udp:127.0.0.2:5090");
	EXPECT_INT(cscf_hop_from_binding(&b, &hop), ==, 0);
	EXPECT_STR(hop.host, "127.0.0.2");
	EXPECT_INT(hop.port, ==, 5090);
	EXPECT_INT(hop.transport, ==, CSCF_UDP);
	/* A phone over TCP: its connection first, else its Contact. */
	snprintf(b.contact, sizeof(b.contact), "sip:bob@127.0.0.3:5091;transport=tcp");
	snprintf(b.received, sizeof(b.received), "tcp:127.0.0.3:40123");
	EXPECT_INT(cscf_hop_from_binding(&b, &hop), ==, 0);
	EXPECT_STR(hop.host, "127.0.0.3");
	EXPECT_INT(hop.port, ==, 5091);
	EXPECT_INT(hop.transport, ==, CSCF_TCP);
	EXPECT_STR(hop.conn_hint, "tcp:127.0.0.3:40123");
	/* Garbage in the store is refused, not followed. */
	snprintf(b.path, sizeof(b.path), "<tel:+1>");
	EXPECT_INT(cscf_hop_from_binding(&b, &hop), ==, WIMS_EPARSE);
}

static void branch_round_trip(void)
{
	char br[CSCF_BRANCH_MAX];
	const uint8_t rnd[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	EXPECT_INT(cscf_branch_make(br, sizeof(br), 7, 0xdeadbeef, rnd, sizeof(rnd)), >, 0);
	EXPECT_TRUE(strncmp(br, "z9hG4bK", 7) == 0);
	int w;
	uint32_t h;
	EXPECT_INT(cscf_branch_parse(slice_from_cstr(br), &w, &h), ==, 0);
	EXPECT_INT(w, ==, 7);
	EXPECT_INT(h, ==, 0xdeadbeef);
	EXPECT_INT(cscf_branch_parse(SLICE_LIT("z9hG4bK776asdhds"), &w, &h), ==, WIMS_EPARSE);
	EXPECT_INT(cscf_branch_parse(SLICE_LIT("z9hG4bKcs0gdeadbeef.x"), &w, &h), ==, WIMS_EPARSE);
	EXPECT_INT(cscf_branch_make(br, 10, 7, 1, rnd, sizeof(rnd)), ==, WIMS_ETOOBIG);
}

static void loops_are_detected_spirals_are_not(void)
{
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	uint32_t h = cscf_loop_hash(&msg);
	char br[CSCF_BRANCH_MAX], extra[300];
	const uint8_t rnd[10] = {0};
	cscf_branch_make(br, sizeof(br), 0, h, rnd, sizeof(rnd));
	/* The same request back with our Via in it: a loop. */
	snprintf(extra, sizeof(extra), "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n", br);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", extra), ==, 0);
	EXPECT_INT(cscf_loop_hash(&msg), ==, h);
	EXPECT_TRUE(cscf_loop_detected(&msg, &self, h));
	/* Back with another Request-URI: a spiral, the hash differs. */
	EXPECT_INT(parse_invite("sip:bob@192.0.2.1", extra), ==, 0);
	EXPECT_TRUE(!cscf_loop_detected(&msg, &self, cscf_loop_hash(&msg)));
	/* Another node's Via with the same branch text is not ours. */
	snprintf(extra, sizeof(extra), "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s\r\n", br);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", extra), ==, 0);
	EXPECT_TRUE(!cscf_loop_detected(&msg, &self, h));
}

static void forwarded_request_for_a_branch(void)
{
	EXPECT_INT(parse_invite("sip:bob@ims.example.org",
				"Route: <sip:orig@127.0.0.1:5060;lr>\r\n"
				"Max-Forwards: 10\r\n"
				"P-Asserted-Identity: <sip:carol@ims.example.org>\r\n"),
		   ==, 0);
	struct cscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcsX;rport",
		.record_route = "Record-Route: <sip:127.0.0.1:5060;lr>",
		.pop = 1,
		.ruri = SLICE_LIT("sip:x@y.invalid;transport=ws"),
		.route = "Route: <sip:tok@127.0.0.1:5070;transport=tcp;lr>",
		.strip_pai = true,
		.pai = "P-Asserted-Identity: <sip:alice@ims.example.org>",
	};
	struct buf out = BUF_INIT;
	EXPECT_INT(cscf_fwd_build(&msg, &f, &out), ==, 0);
	struct sip_msg m2;
	const char *reason;
	EXPECT_INT(sip_msg_parse(&m2, out.p, out.len, SIP_FRAMING_STREAM, &reason), ==,
		   (int)out.len);
	EXPECT_SLICE(m2.ruri, "sip:x@y.invalid;transport=ws");
	EXPECT_SLICE(m2.hdrs[0].value, "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcsX;rport");
	EXPECT_SLICE(sip_msg_hdr(&m2, SIP_HDR_RECORD_ROUTE)->value, "<sip:127.0.0.1:5060;lr>");
	EXPECT_INT(sip_msg_hdr_count(&m2, SIP_HDR_VIA), ==, 2);
	EXPECT_INT(sip_msg_hdr_count(&m2, SIP_HDR_ROUTE), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&m2, SIP_HDR_ROUTE)->value,
		     "<sip:tok@127.0.0.1:5070;transport=tcp;lr>");
	EXPECT_SLICE(sip_msg_hdr(&m2, SIP_HDR_MAX_FORWARDS)->value, "9");
	EXPECT_INT(sip_msg_hdr_count(&m2, SIP_HDR_P_ASSERTED_IDENTITY), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&m2, SIP_HDR_P_ASSERTED_IDENTITY)->value,
		     "<sip:alice@ims.example.org>");
	buf_free(&out);

	/* Max-Forwards 0 cannot be forwarded. */
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "Max-Forwards: 0\r\n"), ==, 0);
	EXPECT_INT(cscf_max_forwards(&msg), ==, 0);
	struct cscf_fwd g = {.via = "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcsY"};
	EXPECT_INT(cscf_fwd_build(&msg, &g, &out), ==, WIMS_EDENIED);
	buf_free(&out);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	EXPECT_INT(cscf_max_forwards(&msg), ==, 70);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "Max-Forwards: x\r\n"), ==, 0);
	EXPECT_INT(cscf_max_forwards(&msg), ==, WIMS_EPARSE);
}

/* TR 33.871 REQ 2.3: a P-WWSF-Identity from a source that is not a trusted
 * node is removed, all of them, whatever their case; kept otherwise. */
static void wwsf_identity_stripped_unless_trusted(void)
{
	EXPECT_INT(parse_invite("sip:bob@ims.example.org",
				"P-WWSF-Identity: wwsf.ims.example.org\r\n"
				"X-Other: keep\r\n"
				"p-wwsf-identity: evil.example.com\r\n"),
		   ==, 0);
	struct cscf_fwd f = {.via = "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcsW",
			     .strip_wwsf = true};
	struct buf out = BUF_INIT;
	EXPECT_INT(cscf_fwd_build(&msg, &f, &out), ==, 0);
	EXPECT_TRUE(strstr(buf_cstr(&out), "WWSF") == NULL);
	EXPECT_TRUE(strcasestr(buf_cstr(&out), "wwsf") == NULL);
	EXPECT_TRUE(strstr(buf_cstr(&out), "X-Other: keep\r\n") != NULL);
	buf_free(&out);
	f.strip_wwsf = false;
	EXPECT_INT(cscf_fwd_build(&msg, &f, &out), ==, 0);
	EXPECT_TRUE(strstr(buf_cstr(&out), "P-WWSF-Identity: wwsf.ims.example.org\r\n") != NULL);
	buf_free(&out);
	/* Via From To Call-ID CSeq, then the three extra lines. */
	EXPECT_TRUE(cscf_hdr_is_wwsf_identity(&msg.hdrs[5]));
	EXPECT_TRUE(!cscf_hdr_is_wwsf_identity(&msg.hdrs[6]));
	EXPECT_TRUE(cscf_hdr_is_wwsf_identity(&msg.hdrs[7]));
	EXPECT_TRUE(!cscf_hdr_is_wwsf_identity(&msg.hdrs[0]));
}

static void impus_of_request_uris(void)
{
	char impu[256];
	const char *d = "ims.example.org";
	EXPECT_INT(cscf_route_impu(SLICE_LIT("tel:+15550000002"), d, impu, sizeof(impu)), ==, 0);
	EXPECT_STR(impu, "tel:+15550000002");
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:+1-555-000-0002@ims.example.org;user=phone"), d,
				   impu, sizeof(impu)),
		   ==, 0);
	EXPECT_STR(impu, "tel:+15550000002");
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:bob@127.0.0.1:5060"), d, impu, sizeof(impu)), ==,
		   0);
	EXPECT_STR(impu, "sip:bob@ims.example.org");
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:Bob@IMS.example.org;transport=tcp"), d, impu,
				   sizeof(impu)),
		   ==, 0);
	EXPECT_STR(impu, "sip:Bob@ims.example.org");
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:ims.example.org"), d, impu, sizeof(impu)), ==,
		   WIMS_EPARSE);
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:+1x2@ims.example.org"), d, impu, sizeof(impu)),
		   ==, 0);
	EXPECT_STR(impu, "sip:+1x2@ims.example.org"); /* not a number: a user name */
	EXPECT_INT(cscf_route_impu(SLICE_LIT("sip:+15550000002@ims.example.org"), d, impu, 8), ==,
		   WIMS_ETOOBIG);
}

/* TS 24.229 5.4.3.2: whom an originating request is for. */
static void served_user_of_a_request(void)
{
	char impu[256];
	const char *d = "ims.example.org";
	EXPECT_INT(parse_invite("sip:bob@ims.example.org",
				"P-Asserted-Identity: \"Pool\" <sip:pool1@ims.example.org>\r\n"
				"P-Asserted-Identity: <tel:+15550000001>\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, sizeof(impu)), ==, 0);
	EXPECT_STR(impu, "sip:pool1@ims.example.org");
	/* One header listing both: the first. */
	EXPECT_INT(parse_invite("sip:bob@ims.example.org",
				"P-Asserted-Identity: <sip:+1-555-000-0001@ims.example.org;user=phone>,"
				" <sip:alice@ims.example.org>\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, sizeof(impu)), ==, 0);
	EXPECT_STR(impu, "tel:+15550000001");
	/* No assertion: the From. */
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, sizeof(impu)), ==, 0);
	EXPECT_STR(impu, "sip:alice@ims.example.org");
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "P-Asserted-Identity: <sip:ims.example.org>\r\n"),
		   ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, sizeof(impu)), ==, WIMS_EPARSE);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", "P-Asserted-Identity: ,,,\r\n"), ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, sizeof(impu)), ==, WIMS_EPARSE);
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	EXPECT_INT(cscf_served_user(&msg, d, impu, 8), ==, WIMS_ETOOBIG);
}

static void dialogs_and_record_routing(void)
{
	EXPECT_INT(parse_invite("sip:bob@ims.example.org", ""), ==, 0);
	EXPECT_TRUE(!cscf_in_dialog(&msg));
	EXPECT_TRUE(cscf_method_record_routes(SIP_METHOD_INVITE));
	EXPECT_TRUE(cscf_method_record_routes(SIP_METHOD_SUBSCRIBE));
	EXPECT_TRUE(!cscf_method_record_routes(SIP_METHOD_MESSAGE));
	EXPECT_TRUE(!cscf_method_record_routes(SIP_METHOD_OPTIONS));
	int n = snprintf(msgbuf, sizeof(msgbuf),
			 "BYE sip:bob@127.0.0.3:5090 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.2:5090;branch=z9hG4bKabc\r\n"
			 "From: <sip:alice@ims.example.org>;tag=1\r\n"
			 "To: <sip:bob@ims.example.org>;tag=2\r\n"
			 "Call-ID: c1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
	const char *reason;
	EXPECT_INT(sip_msg_parse(&msg, msgbuf, (size_t)n, SIP_FRAMING_STREAM, &reason), ==, n);
	EXPECT_TRUE(cscf_in_dialog(&msg));
}

int main(void)
{
	UNIT_RUN(names_us_by_host_and_port);
	UNIT_RUN(leading_routes_naming_us_are_popped);
	UNIT_RUN(bad_routes_are_refused);
	UNIT_RUN(hops_from_uris);
	UNIT_RUN(hops_from_bindings);
	UNIT_RUN(branch_round_trip);
	UNIT_RUN(loops_are_detected_spirals_are_not);
	UNIT_RUN(forwarded_request_for_a_branch);
	UNIT_RUN(wwsf_identity_stripped_unless_trusted);
	UNIT_RUN(impus_of_request_uris);
	UNIT_RUN(served_user_of_a_request);
	UNIT_RUN(dialogs_and_record_routing);
	return UNIT_MAIN_END();
}
