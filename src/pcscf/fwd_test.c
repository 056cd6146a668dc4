/* fwd_test.c - what the eP-CSCF forwards: Via fixed (received/rport) and
 * ours on top, Path + Supported on REGISTER, client identity headers
 * stripped, P-Asserted-Identity inserted, Route from the Service-Route,
 * Max-Forwards (483 at 0), and the Via popped from responses. */
#include "pcscf/fwd.h"

#include <string.h>

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
				     true, &status, &why),
		   ==, 0);
	EXPECT_INT(parse(&out_msg, out.p, out.len), ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out_msg, SIP_HDR_ROUTE) == NULL);
	EXPECT_INT(sip_msg_hdr_count(&out_msg, SIP_HDR_VIA), ==, 2);
	EXPECT_SLICE(out_msg.hdrs[0].value, "SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKx");
	EXPECT_SLICE(sip_msg_hdr(&out_msg, SIP_HDR_MAX_FORWARDS)->value, "68");
	buf_free(&out);
}

int main(void)
{
	UNIT_RUN(register_gets_via_path_supported);
	UNIT_RUN(request_gets_asserted_identity_and_route);
	UNIT_RUN(max_forwards_zero_is_483);
	UNIT_RUN(response_pops_our_via);
	UNIT_RUN(to_flow_pops_route_adds_via);
	return UNIT_MAIN_END();
}
