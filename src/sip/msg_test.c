/* msg_test.c - the SIP message indexer: real messages whole and byte by
 * byte, framing, keep-alives, limits and every refusal with its reason. */
#include "sip/msg.h"

#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "sip/test_msgs.h"
#include "sip/via.h"
#include "unit.h"

static struct sip_msg m;
static const char *why;

#define LIT(s) (s), (sizeof(s) - 1)

/* Parse a complete message three ways: datagram, stream whole, and stream
 * fed one byte at a time (every strict prefix must say EAGAIN). */
static int parse_all_ways(const char *msg, size_t len)
{
	/* A copy per prefix, in exact-size heap buffers, so ASan catches any
	 * read past the end. */
	for (size_t n = 0; n < len; n++) {
		char *p = malloc(n ? n : 1);
		memcpy(p, msg, n);
		int rc = sip_msg_parse(&m, p, n, SIP_FRAMING_STREAM, &why);
		free(p);
		if (rc != WIMS_EAGAIN) {
			fprintf(stderr, "    prefix %zu: rc %d (%s)\n", n, rc, why);
			return -1;
		}
	}
	int rc = sip_msg_parse(&m, msg, len, SIP_FRAMING_STREAM, &why);
	if (rc != (int)len)
		return -2;
	rc = sip_msg_parse(&m, msg, len, SIP_FRAMING_DATAGRAM, &why);
	if (rc != (int)len)
		return -3;
	return 0;
}

static void jssip_register_is_indexed(void)
{
	EXPECT_INT(sip_msg_parse(&m, LIT(jssip_register), SIP_FRAMING_DATAGRAM, &why), ==,
		   sizeof(jssip_register) - 1);
	EXPECT_TRUE(m.is_request);
	EXPECT_TRUE(!m.keepalive);
	EXPECT_SLICE(m.method, "REGISTER");
	EXPECT_INT(m.method_id, ==, SIP_METHOD_REGISTER);
	EXPECT_SLICE(m.ruri, "sip:ims.example.org");
	EXPECT_INT(m.nhdrs, ==, 12);
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CALL_ID)->value, "0hlvs1c6uq4rai80ak6cdt");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_USER_AGENT)->value, "JsSIP 3.10.0");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_TO)->line, "To: <sip:alice@ims.example.org>\r\n");
	EXPECT_INT(m.cseq, ==, 1);
	EXPECT_SLICE(m.cseq_method, "REGISTER");
	EXPECT_INT(m.cseq_method_id, ==, SIP_METHOD_REGISTER);
	EXPECT_TRUE(m.has_content_length);
	EXPECT_INT(m.content_length, ==, 0);
	EXPECT_INT(m.body.len, ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&m, SIP_HDR_ROUTE) == NULL);
	EXPECT_TRUE(sip_msg_can_answer(&m));
	EXPECT_SLICE(m.start_line, "REGISTER sip:ims.example.org SIP/2.0");
}

static void real_messages_parse_whole_and_byte_by_byte(void)
{
	static const struct {
		const char *name, *msg;
		size_t len;
	} msgs[] = {
		{"jssip_register", LIT(jssip_register)},
		{"jssip_register_auth", LIT(jssip_register_auth)},
		{"sipp_invite", LIT(sipp_invite)},
		{"sipp_200", LIT(sipp_200)},
		{"pcscf_register", LIT(pcscf_register)},
		{"cscf_401", LIT(cscf_401)},
		{"torture_compact", LIT(torture_compact)},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(msgs); i++) {
		int rc = parse_all_ways(msgs[i].msg, msgs[i].len);
		if (rc)
			fprintf(stderr, "    %s: %d %s\n", msgs[i].name, rc, why);
		EXPECT_INT(rc, ==, 0);
	}
}

static void invite_body_is_content_length_bytes(void)
{
	EXPECT_INT(sip_msg_parse(&m, LIT(sipp_invite), SIP_FRAMING_DATAGRAM, &why), ==,
		   sizeof(sipp_invite) - 1);
	EXPECT_INT(m.content_length, ==, 129);
	EXPECT_SLICE(m.body, SIPP_SDP);
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value, "application/sdp");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH)->value, "129");
	EXPECT_INT(m.method_id, ==, SIP_METHOD_INVITE);
}

static void response_status_line(void)
{
	EXPECT_INT(sip_msg_parse(&m, LIT(sipp_200), SIP_FRAMING_STREAM, &why), ==,
		   sizeof(sipp_200) - 1);
	EXPECT_TRUE(!m.is_request);
	EXPECT_INT(m.status, ==, 200);
	EXPECT_SLICE(m.reason, "OK");
	EXPECT_SLICE(m.cseq_method, "INVITE");
	EXPECT_TRUE(!sip_msg_can_answer(&m));

	EXPECT_INT(sip_msg_parse(&m, LIT(cscf_401), SIP_FRAMING_STREAM, &why), >, 0);
	EXPECT_INT(m.status, ==, 401);
	EXPECT_SLICE(m.reason, "Unauthorized");
	EXPECT_INT(sip_msg_hdr_count(&m, SIP_HDR_WWW_AUTHENTICATE), ==, 2);
	const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_WWW_AUTHENTICATE);
	h = sip_msg_hdr_next(&m, h);
	EXPECT_TRUE(strstr(h->value.p, "algorithm=MD5") < h->value.p + h->value.len);
	EXPECT_TRUE(sip_msg_hdr_next(&m, h) == NULL);
}

static void compact_forms_folding_and_unknown_headers(void)
{
	EXPECT_INT(sip_msg_parse(&m, LIT(torture_compact), SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(m.method_id, ==, SIP_METHOD_OPTIONS);
	EXPECT_SLICE(m.ruri, "sip:[2001:db8::10]:5060;transport=tcp");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CALL_ID)->name, "i");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CALL_ID)->value, "tort-0001@example.org");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_FROM)->name, "f");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_SUPPORTED)->value, "path, outbound");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_SUBJECT)->value, "");
	EXPECT_INT(m.cseq, ==, 8);
	EXPECT_SLICE(m.cseq_method, "OPTIONS");
	/* The folded CSeq: value spans both lines, line includes both CRLFs. */
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CSEQ)->line, "CSeq:\r\n\t 8  OPTIONS\r\n");
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_CSEQ)->value, "8  OPTIONS");
	/* Unknown header, found by name in any case; trailing LWS dropped. */
	const struct sip_hdr *x = sip_msg_hdr_by_name(&m, SLICE_LIT("x-unknown-HEADER"));
	EXPECT_TRUE(x != NULL);
	EXPECT_INT(x->id, ==, SIP_HDR_OTHER);
	EXPECT_SLICE(x->value, "value with   spaces");
	EXPECT_TRUE(sip_msg_hdr_by_name(&m, SLICE_LIT("X-Other")) == NULL);
	/* Known names by full or compact form both reach the index. */
	EXPECT_TRUE(sip_msg_hdr_by_name(&m, SLICE_LIT("Contact")) == sip_msg_hdr(&m, SIP_HDR_CONTACT));
	EXPECT_TRUE(sip_msg_hdr_by_name(&m, SLICE_LIT("M")) == sip_msg_hdr(&m, SIP_HDR_CONTACT));
	EXPECT_INT(sip_msg_hdr_index(&m, sip_msg_hdr(&m, SIP_HDR_TO)), ==, 2);
}

static void vias_in_one_line_and_across_lines(void)
{
	struct sip_msg_via_iter it;
	struct sip_via v;
	EXPECT_INT(sip_msg_parse(&m, LIT(torture_compact), SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(sip_msg_hdr_count(&m, SIP_HDR_VIA), ==, 2);
	sip_msg_via_iter_init(&it, &m);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.branch, "z9hG4bKtort1");
	EXPECT_TRUE(v.host_ipv6);
	EXPECT_SLICE(v.host, "2001:db8::9");
	EXPECT_INT(v.port, ==, 5070);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_TCP);
	EXPECT_TRUE(v.rport);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.branch, "z9hG4bKtort2");
	EXPECT_SLICE(v.received, "192.0.2.99");
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_UDP);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.branch, "z9hG4bKtort3");
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_TLS);
	EXPECT_SLICE(v.sent_by, "host.example.org:5061");
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 0);

	EXPECT_INT(sip_msg_top_via(&m, &v, &why), ==, 0);
	EXPECT_SLICE(v.branch, "z9hG4bKtort1");
}

/* Build "REGISTER ... \r\n" with one header line left out or replaced. */
static char *register_with(const char *drop, const char *replace_with)
{
	static char out[4096];
	const char *p = jssip_register;
	size_t o = 0;
	while (*p) {
		const char *eol = strstr(p, "\r\n") + 2;
		size_t n = (size_t)(eol - p);
		if (drop && strncmp(p, drop, strlen(drop)) == 0) {
			if (replace_with) {
				memcpy(out + o, replace_with, strlen(replace_with));
				o += strlen(replace_with);
			}
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p = eol;
	}
	out[o] = '\0';
	return out;
}

static int parse_cstr(const char *s, enum sip_framing f)
{
	why = NULL;
	return sip_msg_parse(&m, s, strlen(s), f, &why);
}

static void missing_mandatory_headers_are_refused(void)
{
	static const struct {
		const char *hdr, *reason;
	} cases[] = {
		{"Via:", "Missing Via"},
		{"From:", "Missing From"},
		{"To:", "Missing To"},
		{"Call-ID:", "Missing Call-ID"},
		{"CSeq:", "Missing CSeq"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(cases); i++) {
		EXPECT_INT(parse_cstr(register_with(cases[i].hdr, NULL), SIP_FRAMING_DATAGRAM), ==,
			   WIMS_EPARSE);
		EXPECT_STR(why, cases[i].reason);
		EXPECT_INT(sip_msg_error_status(WIMS_EPARSE), ==, 400);
	}
	/* Max-Forwards is tolerated when absent. */
	EXPECT_INT(parse_cstr(register_with("Max-Forwards:", NULL), SIP_FRAMING_DATAGRAM), >, 0);
	/* Missing Call-ID: no response can be built. */
	parse_cstr(register_with("Call-ID:", NULL), SIP_FRAMING_DATAGRAM);
	EXPECT_TRUE(!sip_msg_can_answer(&m));
}

static void bad_cseq_is_refused(void)
{
	static const char *bad[] = {
		"CSeq: abc REGISTER\r\n",
		"CSeq: 1\r\n",
		"CSeq: 1REGISTER\r\n",
		"CSeq: 2147483648 REGISTER\r\n",
		"CSeq: -1 REGISTER\r\n",
		"CSeq: 1 REG/ISTER\r\n",
		"CSeq: 99999999999999999999 REGISTER\r\n",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		EXPECT_INT(parse_cstr(register_with("CSeq:", bad[i]), SIP_FRAMING_DATAGRAM), ==,
			   WIMS_EPARSE);
		EXPECT_STR(why, "Bad CSeq");
		/* The request is still answerable (with the 400). */
		EXPECT_TRUE(sip_msg_can_answer(&m));
	}
	EXPECT_INT(parse_cstr(register_with("CSeq:", "CSeq: 1 INVITE\r\n"), SIP_FRAMING_DATAGRAM),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "CSeq method does not match");
	/* Methods are case-sensitive (RFC 3261 7.1). */
	EXPECT_INT(parse_cstr(register_with("CSeq:", "CSeq: 1 register\r\n"), SIP_FRAMING_DATAGRAM),
		   ==, WIMS_EPARSE);
	EXPECT_INT(parse_cstr(register_with("CSeq:", "CSeq: 2147483647 REGISTER\r\n"),
			      SIP_FRAMING_DATAGRAM), >, 0);
	EXPECT_INT(m.cseq, ==, 2147483647);
}

static void duplicate_single_headers_are_refused(void)
{
	static const struct {
		const char *hdr, *extra, *reason;
	} cases[] = {
		{"Call-ID:", "Call-ID: a\r\ni: b\r\n", "Duplicate Call-ID"},
		{"Content-Length:", "Content-Length: 0\r\nl: 0\r\n", "Duplicate Content-Length"},
		{"To:", "To: <sip:a@b>\r\nTo: <sip:c@d>\r\n", "Duplicate To"},
		{"CSeq:", "CSeq: 1 REGISTER\r\nCSeq: 1 REGISTER\r\n", "Duplicate CSeq"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(cases); i++) {
		EXPECT_INT(parse_cstr(register_with(cases[i].hdr, cases[i].extra),
				      SIP_FRAMING_DATAGRAM), ==, WIMS_EPARSE);
		EXPECT_STR(why, cases[i].reason);
	}
}

static void content_length_framing(void)
{
	/* Larger than what arrived: datagram refuses, stream waits. */
	const char *big = register_with("Content-Length:", "Content-Length: 10\r\n");
	EXPECT_INT(parse_cstr(big, SIP_FRAMING_DATAGRAM), ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad Content-Length");
	EXPECT_INT(parse_cstr(big, SIP_FRAMING_STREAM), ==, WIMS_EAGAIN);

	/* Smaller than the datagram: the body is cut at Content-Length. */
	char dg[4096];
	int n = snprintf(dg, sizeof(dg), "%sabcdefgh",
			 register_with("Content-Length:", "Content-Length: 3\r\n"));
	EXPECT_INT(sip_msg_parse(&m, dg, (size_t)n, SIP_FRAMING_DATAGRAM, &why), ==, n);
	EXPECT_SLICE(m.body, "abc");
	/* On a stream, the rest is the next message. */
	EXPECT_INT(sip_msg_parse(&m, dg, (size_t)n, SIP_FRAMING_STREAM, &why), ==, n - 5);

	/* Datagram without Content-Length: the rest is the body. */
	n = snprintf(dg, sizeof(dg), "%sxyz", register_with("Content-Length:", NULL));
	EXPECT_INT(sip_msg_parse(&m, dg, (size_t)n, SIP_FRAMING_DATAGRAM, &why), ==, n);
	EXPECT_SLICE(m.body, "xyz");
	EXPECT_TRUE(!m.has_content_length);
	/* Stream without it: refused. */
	EXPECT_INT(sip_msg_parse(&m, dg, (size_t)n, SIP_FRAMING_STREAM, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "Missing Content-Length");

	static const char *bad[] = {"Content-Length: x\r\n", "Content-Length: -1\r\n",
				    "Content-Length: 1 2\r\n", "Content-Length:\r\n",
				    "Content-Length: 99999999999999999999999\r\n"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		EXPECT_INT(parse_cstr(register_with("Content-Length:", bad[i]), SIP_FRAMING_STREAM),
			   ==, WIMS_EPARSE);
		EXPECT_STR(why, "Bad Content-Length");
	}
}

static void pipelined_messages_on_a_stream(void)
{
	char two[8192];
	int n = snprintf(two, sizeof(two), "%s%s", sipp_invite, jssip_register);
	int first = sip_msg_parse(&m, two, (size_t)n, SIP_FRAMING_STREAM, &why);
	EXPECT_INT(first, ==, sizeof(sipp_invite) - 1);
	EXPECT_SLICE(m.body, SIPP_SDP);
	int second = sip_msg_parse(&m, two + first, (size_t)(n - first), SIP_FRAMING_STREAM, &why);
	EXPECT_INT(second, ==, sizeof(jssip_register) - 1);
	EXPECT_INT(m.method_id, ==, SIP_METHOD_REGISTER);
	/* The first message alone also parses when only part of the second
	 * has arrived. */
	EXPECT_INT(sip_msg_parse(&m, two, (size_t)first + 10, SIP_FRAMING_STREAM, &why), ==, first);
}

static void keepalives(void)
{
	/* RFC 5626 ping: one double CRLF. */
	EXPECT_INT(sip_msg_parse(&m, "\r\n\r\n", 4, SIP_FRAMING_STREAM, &why), ==, 4);
	EXPECT_TRUE(m.keepalive);
	EXPECT_INT(m.pings, ==, 1);
	/* Half a ping: wait for the rest. */
	EXPECT_INT(sip_msg_parse(&m, "\r\n", 2, SIP_FRAMING_STREAM, &why), ==, WIMS_EAGAIN);
	EXPECT_INT(sip_msg_parse(&m, "\r\n\r", 3, SIP_FRAMING_STREAM, &why), ==, WIMS_EAGAIN);
	EXPECT_INT(sip_msg_parse(&m, "\r", 1, SIP_FRAMING_STREAM, &why), ==, WIMS_EAGAIN);
	/* Two pings and half a third. */
	EXPECT_INT(sip_msg_parse(&m, "\r\n\r\n\r\n\r\n\r\n", 10, SIP_FRAMING_STREAM, &why), ==, 8);
	EXPECT_INT(m.pings, ==, 2);
	/* A stray CRLF before a message (RFC 3261 7.5): consumed, no ping. */
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "\r\n%s", jssip_register);
	EXPECT_INT(sip_msg_parse(&m, buf, (size_t)n, SIP_FRAMING_STREAM, &why), ==, 2);
	EXPECT_TRUE(m.keepalive);
	EXPECT_INT(m.pings, ==, 0);
	EXPECT_INT(sip_msg_parse(&m, buf + 2, (size_t)n - 2, SIP_FRAMING_STREAM, &why), ==, n - 2);
	EXPECT_TRUE(!m.keepalive);
	/* Datagram (WebSocket message) keep-alive, and CRLFs skipped before
	 * a datagram message. */
	EXPECT_INT(sip_msg_parse(&m, "\r\n\r\n", 4, SIP_FRAMING_DATAGRAM, &why), ==, 4);
	EXPECT_TRUE(m.keepalive);
	EXPECT_INT(m.pings, ==, 1);
	EXPECT_INT(sip_msg_parse(&m, buf, (size_t)n, SIP_FRAMING_DATAGRAM, &why), ==, n);
	EXPECT_TRUE(!m.keepalive);
	EXPECT_INT(m.method_id, ==, SIP_METHOD_REGISTER);
	/* A bare LF is not a keep-alive. */
	EXPECT_INT(sip_msg_parse(&m, "\nREGISTER", 9, SIP_FRAMING_STREAM, &why), ==, WIMS_EPARSE);
}

static void bad_lines_are_refused(void)
{
	static const struct {
		const char *msg, *reason;
	} cases[] = {
		{"REGISTER sip:a SIP/3.0\r\n\r\n", "Version Not Supported"},
		{"REGISTER  sip:a SIP/2.0\r\n\r\n", "Bad request line"},
		{"REGISTER sip:a\r\n\r\n", "Bad request line"},
		{"REG(ISTER sip:a SIP/2.0\r\n\r\n", "Bad request line"},
		{"REGISTER nocolon SIP/2.0\r\n\r\n", "Bad Request-URI"},
		{"REGISTER sip: SIP/2.0\r\n\r\n", "Bad Request-URI"},
		{"SIP/2.0 99 Low\r\n\r\n", "Bad status line"},
		{"SIP/2.0 700 High\r\n\r\n", "Bad status line"},
		{"SIP/2.0 20x OK\r\n\r\n", "Bad status line"},
		{"SIP/2.0 200OK\r\n\r\n", "Bad status line"},
		{"SIP/1.0 200 OK\r\n\r\n", "Bad status line"},
		{"REGISTER sip:a SIP/2.0\n\r\n", "Bad start line"},
		{"REGISTER sip:a\r SIP/2.0\r\n\r\n", "Bad start line"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(cases); i++) {
		int rc = parse_cstr(cases[i].msg, SIP_FRAMING_STREAM);
		if (rc != WIMS_EPARSE)
			fprintf(stderr, "    case %zu\n", i);
		EXPECT_INT(rc, ==, WIMS_EPARSE);
		EXPECT_STR(why, cases[i].reason);
	}
	/* Bare LF / bare CR inside the header block. */
	EXPECT_INT(parse_cstr(register_with("Expires:", "Expires: 600\n"), SIP_FRAMING_DATAGRAM),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad header line");
	EXPECT_INT(parse_cstr(register_with("Expires:", "Expires: 6\r00\r\n"), SIP_FRAMING_DATAGRAM),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad header line");
	/* A NUL inside a header value. */
	char nul[4096];
	const char *r = register_with(NULL, NULL);
	size_t rl = strlen(r);
	memcpy(nul, r, rl);
	char *ua = strstr(nul, "JsSIP");
	ua[2] = '\0';
	EXPECT_INT(sip_msg_parse(&m, nul, rl, SIP_FRAMING_DATAGRAM, &why), ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad header line");
	/* ... but in a body it is just a byte. */
	EXPECT_INT(sip_msg_parse(&m, LIT("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				   "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
				   "CSeq: 1 MESSAGE\r\nContent-Length: 3\r\n\r\na\0b"),
			       SIP_FRAMING_STREAM, &why), >, 0);
	EXPECT_INT(m.body.len, ==, 3);
	/* A header without a colon: refused, but the rest is still indexed
	 * so a 400 can be sent. */
	EXPECT_INT(parse_cstr(register_with("Expires:", "Expires 600\r\n"), SIP_FRAMING_DATAGRAM),
		   ==, WIMS_EPARSE);
	EXPECT_STR(why, "Bad header line");
	EXPECT_TRUE(sip_msg_can_answer(&m));
	EXPECT_TRUE(sip_msg_hdr(&m, SIP_HDR_USER_AGENT) != NULL);
	/* A space before the colon is fine (RFC 3261 7.3.1 HCOLON). */
	EXPECT_INT(parse_cstr(register_with("Expires:", "Expires  : 600\r\n"), SIP_FRAMING_DATAGRAM),
		   >, 0);
	EXPECT_SLICE(sip_msg_hdr(&m, SIP_HDR_EXPIRES)->value, "600");
	/* Header block never ends: datagram refuses. */
	EXPECT_INT(parse_cstr("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n", SIP_FRAMING_DATAGRAM), ==,
		   WIMS_EPARSE);
	EXPECT_STR(why, "Truncated message");
	/* Lower-case version is accepted (RFC 3261 7.1: case-insensitive). */
	char lc[4096];
	snprintf(lc, sizeof(lc), "%s", jssip_register);
	memcpy(strstr(lc, "SIP/2.0\r\n"), "sip/2.0", 7);
	EXPECT_INT(parse_cstr(lc, SIP_FRAMING_DATAGRAM), >, 0);
}

static void oversize_message_is_513(void)
{
	size_t big = WIMS_SIP_MAX_MSG + 100;
	char *p = malloc(big);
	size_t hl = strlen(jssip_register) - 2; /* without the empty line */
	memcpy(p, jssip_register, hl);
	/* One enormous header. */
	memcpy(p + hl, "X-Pad: ", 7);
	memset(p + hl + 7, 'a', big - hl - 7);
	EXPECT_INT(sip_msg_parse(&m, p, big, SIP_FRAMING_DATAGRAM, &why), ==, WIMS_ETOOBIG);
	EXPECT_STR(why, "Message Too Large");
	EXPECT_INT(sip_msg_error_status(WIMS_ETOOBIG), ==, 513);
	EXPECT_INT(sip_msg_parse(&m, p, big, SIP_FRAMING_STREAM, &why), ==, WIMS_ETOOBIG);
	/* Headers fine, body too large for the datagram limit: the request
	 * was indexed, so the 513 can be sent. */
	memcpy(p, jssip_register, hl + 2);
	memset(p + hl + 2, 'b', big - hl - 2);
	EXPECT_INT(sip_msg_parse(&m, p, big, SIP_FRAMING_DATAGRAM, &why), ==, WIMS_ETOOBIG);
	EXPECT_TRUE(sip_msg_can_answer(&m));
	free(p);
	/* A Content-Length announcing more than the limit on a stream: refused
	 * at once instead of buffering. */
	EXPECT_INT(parse_cstr(register_with("Content-Length:", "Content-Length: 70000\r\n"),
			      SIP_FRAMING_STREAM), ==, WIMS_ETOOBIG);
	EXPECT_STR(why, "Message Too Large");
}

static void too_many_headers_is_513(void)
{
	static char buf[16384];
	size_t hl = strlen(jssip_register) - 2;
	memcpy(buf, jssip_register, hl);
	size_t o = hl;
	for (int i = 0; i < WIMS_SIP_MAX_HEADERS; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "X-H%d: %d\r\n", i, i);
	memcpy(buf + o, "\r\n", 2);
	o += 2;
	EXPECT_INT(sip_msg_parse(&m, buf, o, SIP_FRAMING_DATAGRAM, &why), ==, WIMS_ETOOBIG);
	EXPECT_STR(why, "Too Many Headers");
	EXPECT_INT(m.nhdrs, ==, WIMS_SIP_MAX_HEADERS);
	/* Exactly the limit is fine. */
	o = hl;
	for (int i = 0; i < WIMS_SIP_MAX_HEADERS - 12; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "X-H%d: %d\r\n", i, i);
	memcpy(buf + o, "\r\n", 2);
	EXPECT_INT(sip_msg_parse(&m, buf, o + 2, SIP_FRAMING_DATAGRAM, &why), ==, (int)o + 2);
	EXPECT_INT(m.nhdrs, ==, WIMS_SIP_MAX_HEADERS);
	/* The chain of unknown headers is walkable. */
	unsigned n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_OTHER); h; h = sip_msg_hdr_next(&m, h))
		n++;
	EXPECT_INT(n, ==, WIMS_SIP_MAX_HEADERS - 12);
}

static void methods_and_cseq(void)
{
	uint32_t n;
	struct slice meth;
	enum sip_method id;
	EXPECT_INT(sip_method_lookup(SLICE_LIT("PUBLISH")), ==, SIP_METHOD_PUBLISH);
	EXPECT_INT(sip_method_lookup(SLICE_LIT("invite")), ==, SIP_METHOD_OTHER);
	EXPECT_INT(sip_method_lookup(SLICE_LIT("FOO")), ==, SIP_METHOD_OTHER);
	EXPECT_STR(sip_method_name(SIP_METHOD_PRACK), "PRACK");
	for (int i = 1; i < SIP_METHOD_COUNT_; i++)
		EXPECT_INT(sip_method_lookup(slice_from_cstr(sip_method_name((enum sip_method)i))), ==, i);
	EXPECT_INT(sip_cseq_parse(SLICE_LIT(" 42 FOO "), &n, &meth, &id, &why), ==, 0);
	EXPECT_INT(n, ==, 42);
	EXPECT_SLICE(meth, "FOO");
	EXPECT_INT(id, ==, SIP_METHOD_OTHER);
}

static void unknown_method_request(void)
{
	static const char msg[] =
		"FOOBAR sip:x@example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf\r\n"
		"From: <sip:a@example.org>;tag=1\r\nTo: <sip:x@example.org>\r\n"
		"Call-ID: c\r\nCSeq: 3 FOOBAR\r\nContent-Length: 0\r\n\r\n";
	EXPECT_INT(sip_msg_parse(&m, LIT(msg), SIP_FRAMING_STREAM, &why), ==, sizeof(msg) - 1);
	EXPECT_INT(m.method_id, ==, SIP_METHOD_OTHER);
	EXPECT_SLICE(m.method, "FOOBAR");
	EXPECT_INT(parse_all_ways(LIT(msg)), ==, 0);
}

/* What a TCP connection does: bytes arrive in chunks of every size; parse
 * whatever is buffered, consume what was reported, keep the rest. */
static void stream_reader_over_chunks(void)
{
	static char stream[16384];
	size_t slen = (size_t)snprintf(stream, sizeof(stream), "\r\n\r\n%s%s\r\n\r\n%s",
				       sipp_invite, jssip_register_auth, cscf_401);
	for (size_t chunk = 1; chunk <= 97; chunk += 8) {
		static char buf[16384];
		size_t have = 0, fed = 0;
		int msgs = 0, pings = 0;
		enum sip_method methods[3];
		int statuses[3];
		while (fed < slen || have) {
			size_t n = slen - fed < chunk ? slen - fed : chunk;
			memcpy(buf + have, stream + fed, n);
			have += n;
			fed += n;
			for (;;) {
				int rc = sip_msg_parse(&m, buf, have, SIP_FRAMING_STREAM, &why);
				if (rc == WIMS_EAGAIN)
					break;
				EXPECT_INT(rc, >, 0);
				if (m.keepalive) {
					pings += (int)m.pings;
				} else {
					EXPECT_INT(msgs, <, 3);
					methods[msgs] = m.method_id;
					statuses[msgs] = m.status;
					msgs++;
				}
				memmove(buf, buf + rc, have - (size_t)rc);
				have -= (size_t)rc;
			}
			if (fed == slen && have) {
				EXPECT_INT(have, ==, 0); /* leftovers: framing is wrong */
			}
		}
		EXPECT_INT(msgs, ==, 3);
		EXPECT_INT(pings, ==, 2);
		EXPECT_INT(methods[0], ==, SIP_METHOD_INVITE);
		EXPECT_INT(methods[1], ==, SIP_METHOD_REGISTER);
		EXPECT_INT(statuses[2], ==, 401);
	}
}

int main(void)
{
	UNIT_RUN(jssip_register_is_indexed);
	UNIT_RUN(real_messages_parse_whole_and_byte_by_byte);
	UNIT_RUN(invite_body_is_content_length_bytes);
	UNIT_RUN(response_status_line);
	UNIT_RUN(compact_forms_folding_and_unknown_headers);
	UNIT_RUN(vias_in_one_line_and_across_lines);
	UNIT_RUN(missing_mandatory_headers_are_refused);
	UNIT_RUN(bad_cseq_is_refused);
	UNIT_RUN(duplicate_single_headers_are_refused);
	UNIT_RUN(content_length_framing);
	UNIT_RUN(pipelined_messages_on_a_stream);
	UNIT_RUN(keepalives);
	UNIT_RUN(bad_lines_are_refused);
	UNIT_RUN(oversize_message_is_513);
	UNIT_RUN(too_many_headers_is_513);
	UNIT_RUN(methods_and_cseq);
	UNIT_RUN(unknown_method_request);
	UNIT_RUN(stream_reader_over_chunks);
	return UNIT_MAIN_END();
}
