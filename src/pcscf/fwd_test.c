/* fwd_test.c - what the eP-CSCF forwards: Via fixed (received/rport) and
 * ours on top, Path + Supported on REGISTER, client identity headers
 * stripped, P-Asserted-Identity inserted, Route from the Service-Route,
 * in-dialog Route entries naming us popped, Record-Route on dialog-forming
 * requests both ways, P-Asserted-Identity kept towards the WIC,
 * Max-Forwards (483 at 0), and the Via popped from responses. */
#include "pcscf/fwd.h"

#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "sip/via.h"
#include "unit.h"

#define CRLF "\r\n"

static const char reg[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport" CRLF
	"Max-Forwards: 70" CRLF
	"From: <sip:alice@ims.example.org>;tag=a73kszlfl" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn" CRLF
	"CSeq: 1 REGISTER" CRLF
	"Path: <sip:evil@192.0.2.66;lr>" CRLF
	"P-Asserted-Identity: <sip:bob@ims.example.org>" CRLF
	"P-Preferred-Identity: <sip:bob@ims.example.org>" CRLF
	"Route: <sip:127.0.0.1:7443;transport=ws;lr>" CRLF
	"Supported: outbound, gruu" CRLF
	"Contact: <sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>;expires=600" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char msg[] =
	"MESSAGE sip:bob@ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1" CRLF
	"Max-Forwards: 1" CRLF
	"From: <sip:alice@ims.example.org>;tag=1" CRLF
	"To: <sip:bob@ims.example.org>" CRLF
	"Call-ID: c1" CRLF
	"CSeq: 1 MESSAGE" CRLF
	"P-Asserted-Identity: <sip:bob@ims.example.org>" CRLF
	"P-Preferred-Identity: <sip:alice@ims.example.org>" CRLF
	"Route: <sip:127.0.0.1:7443;transport=ws;lr>" CRLF
	"Content-Type: text/plain" CRLF
	"Content-Length: 2" CRLF CRLF "hi";

static struct sip_msg in, out_msg;

static int parse(struct sip_msg *m, const char *s, size_t n)
{
	const char *why;
	return sip_msg_parse(m, s, n, SIP_FRAMING_STREAM, &why) == (int)n ? 0 : -1;
}

static void register_gets_via_path_supported(void)
{
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, reg, strlen(reg)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.received = "192.0.2.7",
		.rport = 50312,
		.path = "Path: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);

	struct sip_msg_via_iter it;
	struct sip_via v;
	sip_msg_via_iter_init(&it, &out_msg);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.entry, "SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours");
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.entry, "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;"
			      "received=192.0.2.7;rport=50312");
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 0);

	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_PATH), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_PATH)->value,
		     "<sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>");
	EXPECT_TRUE(pcscf_has_option_tag(&out_msg, SIP_HDR_SUPPORTED, "path"));
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY) == NULL);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_P_PREFERRED_IDENTITY) == NULL);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE) == NULL);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_MAX_FORWARDS)->value, "69");
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_CONTACT)->value,
		     "<sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>;expires=600");
	buf_free(&out);
}

static void request_gets_asserted_identity_and_route(void)
{
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, msg, strlen(msg)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.received = "127.0.0.1",
		.rport = 1234,
		.asserted = SLICE_LIT("sip:alice@ims.example.org"),
		.route = "Route: <sip:orig@127.0.0.1:5060;lr>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY)->value,
		     "<sip:alice@ims.example.org>");
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_P_PREFERRED_IDENTITY) == NULL);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_ROUTE), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE)->value, "<sip:orig@127.0.0.1:5060;lr>");
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_MAX_FORWARDS)->value, "0");
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_PATH) == NULL);
	EXPECT_SLICE(out_msg.body, "hi");
	buf_free(&out);
}

static void max_forwards_zero_is_483(void)
{
	char m0[sizeof(msg)];
	memcpy(m0, msg, sizeof(msg));
	char *mf = strstr(m0, "Max-Forwards: 1");
	mf[14] = '0';
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, m0, strlen(m0)), ==, 0);
	struct pcscf_fwd f = {.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours"};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, WIMS_EDENIED);
	EXPECT_INT(status, ==, 483);
	buf_free(&out);
}

static void response_pops_our_via(void)
{
	static const char resp[] =
		"SIP/2.0 401 Unauthorized" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours, "
		"SIP/2.0/WSS x.invalid;branch=z9hG4bK1;received=127.0.0.1;rport=9" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:alice@ims.example.org>;tag=2" CRLF
		"Call-ID: c1" CRLF
		"CSeq: 1 REGISTER" CRLF
		"WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"" CRLF
		"Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	EXPECT_INT(parse(&in, resp, strlen(resp)), ==, 0);
	EXPECT_INT(pcscf_fwd_response(&out, &in), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_VIA), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_VIA)->value,
		     "SIP/2.0/WSS x.invalid;branch=z9hG4bK1;received=127.0.0.1;rport=9");
	/* the challenge is relayed unchanged (TR 33.871 6.1.1.1) */
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_WWW_AUTHENTICATE)->value,
		     "Digest realm=\"ims.example.org\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"");
	buf_free(&out);
}

static void to_flow_pops_route_adds_via(void)
{
	static const char req[] =
		"MESSAGE sip:k8t2d3@df7jal23ls0d.invalid;transport=ws SIP/2.0" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcore" CRLF
		"Max-Forwards: 69" CRLF
		"Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>" CRLF
		"From: <sip:bob@ims.example.org>;tag=1" CRLF
		"To: <sip:alice@ims.example.org>" CRLF
		"Call-ID: c2" CRLF
		"CSeq: 1 MESSAGE" CRLF
		"Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, req, strlen(req)), ==, 0);
	EXPECT_INT(pcscf_fwd_to_flow(&out, &in, "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx",
				     true, NULL, &status, &why),
		   ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE) == NULL);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_VIA), ==, 2);
	EXPECT_SLICE(out_msg.hdrs[0].value, "SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx");
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_MAX_FORWARDS)->value, "68");
	buf_free(&out);
}

static const struct pcscf_self self = {
	.mw_host = "127.0.0.1", .mw_port = 5070, .ws_host = "127.0.0.1", .ws_port = 7443};

static void route_names_us_by_host_and_port(void)
{
	EXPECT_TRUE(pcscf_uri_names_us(&self, SLICE_LIT("sip:TOKEN@127.0.0.1:5070;transport=tcp;lr")));
	EXPECT_TRUE(pcscf_uri_names_us(&self, SLICE_LIT("sip:127.0.0.1:7443;transport=ws;lr")));
	EXPECT_TRUE(pcscf_uri_names_us(&self, SLICE_LIT("sips:x@127.0.0.1:7443")));
	/* a missing port is 5060: that is the core, not us */
	EXPECT_TRUE(!pcscf_uri_names_us(&self, SLICE_LIT("sip:orig@127.0.0.1;lr")));
	EXPECT_TRUE(!pcscf_uri_names_us(&self, SLICE_LIT("sip:127.0.0.1:5060;lr")));
	EXPECT_TRUE(!pcscf_uri_names_us(&self, SLICE_LIT("sip:TOKEN@127.0.0.2:5070;lr")));
	EXPECT_TRUE(!pcscf_uri_names_us(&self, SLICE_LIT("tel:+15550000001")));
	EXPECT_TRUE(!pcscf_uri_names_us(&self, SLICE_LIT("not a uri")));
	struct pcscf_self named = {.mw_host = "pcscf.ims.example.org", .mw_port = 5060,
				   .ws_host = "127.0.0.1", .ws_port = 7443};
	EXPECT_TRUE(pcscf_uri_names_us(&named, SLICE_LIT("sip:t@PCSCF.ims.example.org;lr")));
}

#define INVITE_HEAD(to)                                                          \
	"INVITE sip:bob@ims.example.org SIP/2.0" CRLF                             \
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2" CRLF              \
	"Max-Forwards: 70" CRLF                                                   \
	"From: \"Bob\" <sip:alice@ims.example.org>;tag=1" CRLF                     \
	"To: " to CRLF                                                            \
	"Call-ID: c3" CRLF                                                        \
	"CSeq: 1 INVITE" CRLF

static void request_method_and_tag_decide_record_route(void)
{
	static const char inv[] = INVITE_HEAD("<sip:bob@ims.example.org>") "Content-Length: 0" CRLF CRLF;
	static const char reinv[] =
		INVITE_HEAD("<sip:bob@ims.example.org>;tag=9") "Content-Length: 0" CRLF CRLF;
	EXPECT_INT(parse(&in, inv, strlen(inv)), ==, 0);
	EXPECT_TRUE(pcscf_wants_record_route(&in));
	EXPECT_TRUE(!pcscf_in_dialog(&in));
	EXPECT_INT(parse(&in, reinv, strlen(reinv)), ==, 0);
	EXPECT_TRUE(!pcscf_wants_record_route(&in));
	EXPECT_TRUE(pcscf_in_dialog(&in));
	EXPECT_INT(parse(&in, msg, strlen(msg)), ==, 0);
	EXPECT_TRUE(!pcscf_wants_record_route(&in)); /* MESSAGE: no dialog */
	EXPECT_TRUE(!pcscf_forms_dialog(SIP_METHOD_MESSAGE));
	EXPECT_TRUE(pcscf_forms_dialog(SIP_METHOD_REFER));
	static const char sub[] =
		"SUBSCRIBE sip:bob@ims.example.org SIP/2.0" CRLF
		"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK3" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>" CRLF
		"Call-ID: c4" CRLF "CSeq: 1 SUBSCRIBE" CRLF "Event: presence" CRLF
		"Content-Length: 0" CRLF CRLF;
	EXPECT_INT(parse(&in, sub, strlen(sub)), ==, 0);
	EXPECT_TRUE(pcscf_wants_record_route(&in));
}

/* Initial INVITE from the WIC: Service-Route, our Record-Route on top of
 * the set, the client's P-Asserted-Identity replaced by ours. */
static void initial_invite_gets_record_route_on_top(void)
{
	static const char inv[] = INVITE_HEAD("<sip:bob@ims.example.org>")
		"Record-Route: <sip:earlier.example;lr>" CRLF
		"P-Asserted-Identity: \"Bob\" <sip:bob@ims.example.org>" CRLF
		"Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, inv, strlen(inv)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.asserted = SLICE_LIT("sip:alice@ims.example.org"),
		.route = "Route: <sip:orig@127.0.0.1:5060;lr>",
		.record_route = "Record-Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	const struct sip_hdr *rr = sip_msg_hdr(&out_msg, SIP_HDR_RECORD_ROUTE);
	EXPECT_TRUE(rr);
	EXPECT_SLICE(rr->value, "<sip:TOKEN@127.0.0.1:5070;transport=tcp;lr>");
	rr = sip_msg_hdr_next(&out_msg, rr);
	EXPECT_TRUE(rr);
	EXPECT_SLICE(rr->value, "<sip:earlier.example;lr>");
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY)->value,
		     "<sip:alice@ims.example.org>");
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE)->value, "<sip:orig@127.0.0.1:5060;lr>");
	buf_free(&out);
}

/* In-dialog request from the WIC: the leading entries naming us (our
 * Record-Route, an outbound-proxy Route to the WSS port) go, the rest
 * stays in order, an entry naming us further down stays too. */
static void in_dialog_pops_leading_own_routes(void)
{
	static const char bye[] =
		"BYE sip:k8t2d3@x.invalid;transport=ws SIP/2.0" CRLF
		"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK4" CRLF
		"Max-Forwards: 70" CRLF
		"Route: <sip:127.0.0.1:7443;transport=ws;lr>" CRLF
		"Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr>, <sip:127.0.0.1:5060;lr>" CRLF
		"Route: <sip:OTHER@127.0.0.1:5070;transport=tcp;lr>" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>;tag=2" CRLF
		"Call-ID: c5" CRLF "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, bye, strlen(bye)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.asserted = SLICE_LIT("sip:alice@ims.example.org"),
		.self = &self,
		.route_if_none = "Route: <sip:orig@127.0.0.1:5060;lr>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	const struct sip_hdr *r = sip_msg_hdr(&out_msg, SIP_HDR_ROUTE);
	EXPECT_TRUE(r);
	EXPECT_SLICE(r->value, "<sip:127.0.0.1:5060;lr>");
	r = sip_msg_hdr_next(&out_msg, r);
	EXPECT_TRUE(r);
	EXPECT_SLICE(r->value, "<sip:OTHER@127.0.0.1:5070;transport=tcp;lr>");
	EXPECT_TRUE(sip_msg_hdr_next(&out_msg, r) == NULL);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_RECORD_ROUTE) == NULL);
	EXPECT_SLICE(out_msg.ruri, "sip:k8t2d3@x.invalid;transport=ws");
	buf_free(&out);
}

/* An ACK to a non-2xx carries no route set beyond us: it follows its
 * INVITE's Service-Route into the core. */
static void ack_without_route_set_follows_service_route(void)
{
	static const char ack[] =
		"ACK sip:bob@ims.example.org SIP/2.0" CRLF
		"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK2" CRLF
		"Max-Forwards: 70" CRLF
		"Route: <sip:127.0.0.1:7443;transport=ws;lr>" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>;tag=2" CRLF
		"Call-ID: c3" CRLF "CSeq: 1 ACK" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, ack, strlen(ack)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.self = &self,
		.route_if_none = "Route: <sip:orig@127.0.0.1:5060;lr>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_ROUTE), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE)->value, "<sip:orig@127.0.0.1:5060;lr>");
	buf_free(&out);
}

static void in_dialog_bad_route_is_400(void)
{
	static const char bye[] =
		"BYE sip:k8t2d3@x.invalid SIP/2.0" CRLF
		"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK4" CRLF
		"Route: <sip:TOKEN@127.0.0.1:5070;lr>, garbage" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>;tag=2" CRLF
		"Call-ID: c5" CRLF "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, bye, strlen(bye)), ==, 0);
	struct pcscf_fwd f = {.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
			      .self = &self};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, WIMS_EPARSE);
	EXPECT_INT(status, ==, 400);
	EXPECT_STR(why, "Bad Route");
	buf_free(&out);
}

/* Core to WIC: the Path entry popped, our Record-Route above the core's,
 * the P-Asserted-Identity the WIC shows kept. */
static void to_flow_invite_keeps_pai_and_record_routes(void)
{
	static const char req[] =
		"INVITE sip:k8t2d3@df7jal23ls0d.invalid;transport=ws SIP/2.0" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcore" CRLF
		"Max-Forwards: 68" CRLF
		"Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>" CRLF
		"Record-Route: <sip:127.0.0.1:5060;lr>" CRLF
		"Record-Route: <sip:ATOKEN@127.0.0.1:5070;transport=tcp;lr>" CRLF
		"From: \"Anyone\" <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>" CRLF
		"P-Asserted-Identity: <sip:alice@ims.example.org>" CRLF
		"Call-ID: c6" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, req, strlen(req)), ==, 0);
	EXPECT_INT(pcscf_fwd_to_flow(&out, &in, "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx", true,
				     "Record-Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr>",
				     &status, &why),
		   ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE) == NULL);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_RECORD_ROUTE), ==, 3);
	const struct sip_hdr *rr = sip_msg_hdr(&out_msg, SIP_HDR_RECORD_ROUTE);
	EXPECT_SLICE(rr->value, "<sip:TOKEN@127.0.0.1:5070;transport=tcp;lr>");
	rr = sip_msg_hdr_next(&out_msg, rr);
	EXPECT_SLICE(rr->value, "<sip:127.0.0.1:5060;lr>");
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY)->value,
		     "<sip:alice@ims.example.org>");
	buf_free(&out);
}

/* RFC 3325 7: "Privacy: id" hides the asserted identity from the WIC. */
static void to_flow_privacy_id_removes_pai(void)
{
	static const char req[] =
		"MESSAGE sip:k8t2d3@df7jal23ls0d.invalid;transport=ws SIP/2.0" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcore" CRLF
		"Route: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>" CRLF
		"From: <sip:anonymous@anonymous.invalid>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>" CRLF
		"P-Asserted-Identity: <sip:alice@ims.example.org>" CRLF
		"Privacy: header; id" CRLF
		"Call-ID: c7" CRLF "CSeq: 1 MESSAGE" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, req, strlen(req)), ==, 0);
	EXPECT_INT(pcscf_fwd_to_flow(&out, &in, "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx", true,
				     NULL, &status, &why),
		   ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_P_ASSERTED_IDENTITY) == NULL);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_RECORD_ROUTE) == NULL);
	buf_free(&out);
}

static void to_flow_max_forwards_zero_is_483(void)
{
	static const char req[] =
		"INVITE sip:k8t2d3@x.invalid SIP/2.0" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcore" CRLF
		"Max-Forwards: 0" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>" CRLF
		"Call-ID: c8" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, req, strlen(req)), ==, 0);
	EXPECT_INT(pcscf_fwd_to_flow(&out, &in, "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx", false,
				     NULL, &status, &why),
		   ==, WIMS_EDENIED);
	EXPECT_INT(status, ==, 483);
	buf_free(&out);
}

static void response_with_only_our_via_goes_nowhere(void)
{
	static const char resp[] =
		"SIP/2.0 200 OK" CRLF
		"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>;tag=2" CRLF
		"Call-ID: c1" CRLF
		"CSeq: 1 MESSAGE" CRLF
		"Content-Length: 0" CRLF CRLF;
	struct buf out = BUF_INIT;
	EXPECT_INT(parse(&in, resp, strlen(resp)), ==, 0);
	EXPECT_TRUE(pcscf_fwd_response(&out, &in) < 0);
	buf_free(&out);
}

/* A MESSAGE at the parser's header limit: what we add would take it past
 * the limit, so the client gets 513 rather than the core a message it
 * must refuse (on the connection every flow shares). */
static void request_grown_past_the_limits_is_513(void)
{
	struct buf big = BUF_INIT, out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	const char *body = strstr(msg, "Content-Type:");
	buf_append(&big, msg, (size_t)(body - msg));
	/* msg has 11 header fields: filled up to exactly the limit */
	for (int i = 0; i < WIMS_SIP_MAX_HEADERS - 11; i++)
		buf_printf(&big, "X-Filler-%d: x" CRLF, i);
	buf_append_cstr(&big, body);
	EXPECT_INT(parse(&in, big.p, big.len), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.asserted = SLICE_LIT("sip:alice@ims.example.org"),
		.route = "Route: <sip:orig@127.0.0.1:5060;lr>",
		.record_route = "Record-Route: <sip:t@127.0.0.1:5070;transport=tcp;lr>",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, WIMS_ETOOBIG);
	EXPECT_INT(status, ==, 513);
	buf_reset(&out);
	EXPECT_INT(pcscf_fwd_to_flow(&out, &in, "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx",
				     false, "Record-Route: <sip:t@127.0.0.1:5070;transport=tcp;lr>",
				     &status, &why),
		   ==, WIMS_ETOOBIG);
	EXPECT_INT(status, ==, 513);
	buf_free(&big);
	buf_free(&out);
}

/* tna.md 2: a REGISTER validated by token leaves with our TNA
 * Authorization instead of the client's Bearer one, and our
 * P-WWSF-Identity instead of any the client wrote (any spelling). */
static void tna_register_replaces_authorization_and_wwsf(void)
{
	static const char breg[] =
		"REGISTER sip:ims.example.org SIP/2.0" CRLF
		"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7" CRLF
		"Max-Forwards: 70" CRLF
		"From: <sip:grace@ims.example.org>;tag=a73kszlfl" CRLF
		"To: <sip:grace@ims.example.org>" CRLF
		"Call-ID: 1j9FpLxk3uxtm8tn" CRLF
		"CSeq: 1 REGISTER" CRLF
		"p-wwsf-identity: evil.example.net" CRLF
		"Authorization: Bearer eyJ0.eyJ1.c2ln" CRLF
		"P-WWSF-Identity: evil2.example.net" CRLF
		"Contact: <sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>;expires=600" CRLF
		"Content-Length: 0" CRLF CRLF;
	static const char auth[] =
		"Authorization: Digest username=\"grace@ims.example.org\", "
		"realm=\"ims.example.org\", uri=\"sip:ims.example.org\", nonce=\"\", "
		"response=\"\", integrity-protected=\"auth-done\"";
	struct buf out = BUF_INIT;
	int status = 0;
	const char *why = NULL;
	EXPECT_INT(parse(&in, breg, strlen(breg)), ==, 0);
	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKours",
		.path = "Path: <sip:TOKEN@127.0.0.1:5070;transport=tcp;lr;ob>",
		.authorization = auth,
		.wwsf_identity = "P-WWSF-Identity: wwsf.ims.example.org",
	};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &f, &status, &why), ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_AUTHORIZATION), ==, 1);
	const struct sip_hdr *a = sip_msg_hdr(&out_msg, SIP_HDR_AUTHORIZATION);
	EXPECT_TRUE(a && a->line.len == strlen(auth) + 2 && !memcmp(a->line.p, auth, strlen(auth)));
	unsigned n = 0;
	for (unsigned i = 0; i < out_msg.nhdrs; i++)
		if (slice_ieq(out_msg.hdrs[i].name, slice_from_cstr("P-WWSF-Identity"))) {
			n++;
			EXPECT_SLICE(out_msg.hdrs[i].value, "wwsf.ims.example.org");
		}
	EXPECT_INT(n, ==, 1);
	EXPECT_TRUE(!memmem(out.p, out.len, "Bearer", 6) && !memmem(out.p, out.len, "evil", 4));
	buf_free(&out);

	/* any other request: a client's P-WWSF-Identity goes, nothing added */
	static const char wmsg[] =
		"MESSAGE sip:bob@ims.example.org SIP/2.0" CRLF
		"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1" CRLF
		"Max-Forwards: 10" CRLF
		"From: <sip:alice@ims.example.org>;tag=1" CRLF
		"To: <sip:bob@ims.example.org>" CRLF
		"Call-ID: c1" CRLF
		"CSeq: 1 MESSAGE" CRLF
		"P-WWSF-Identity: wwsf.ims.example.org" CRLF
		"Content-Length: 0" CRLF CRLF;
	EXPECT_INT(parse(&in, wmsg, strlen(wmsg)), ==, 0);
	struct pcscf_fwd g = {.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKx"};
	EXPECT_INT(pcscf_fwd_request(&out, &in, &g, &status, &why), ==, 0);
	EXPECT_TRUE(!memmem(out.p, out.len, "WWSF", 4));
	buf_free(&out);
}

int main(void)
{
	UNIT_RUN(register_gets_via_path_supported);
	UNIT_RUN(request_gets_asserted_identity_and_route);
	UNIT_RUN(max_forwards_zero_is_483);
	UNIT_RUN(response_pops_our_via);
	UNIT_RUN(to_flow_pops_route_adds_via);
	UNIT_RUN(route_names_us_by_host_and_port);
	UNIT_RUN(request_method_and_tag_decide_record_route);
	UNIT_RUN(initial_invite_gets_record_route_on_top);
	UNIT_RUN(in_dialog_pops_leading_own_routes);
	UNIT_RUN(ack_without_route_set_follows_service_route);
	UNIT_RUN(in_dialog_bad_route_is_400);
	UNIT_RUN(to_flow_invite_keeps_pai_and_record_routes);
	UNIT_RUN(to_flow_privacy_id_removes_pai);
	UNIT_RUN(to_flow_max_forwards_zero_is_483);
	UNIT_RUN(response_with_only_our_via_goes_nowhere);
	UNIT_RUN(request_grown_past_the_limits_is_513);
	UNIT_RUN(tna_register_replaces_authorization_and_wwsf);
	return UNIT_MAIN_END();
}
