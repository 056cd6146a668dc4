/* build_test.c - responses and edited forwards, checked by parsing what we
 * built: parse -> build -> parse, untouched lines byte-identical. */
#include "sip/build.h"

#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/test_msgs.h"
#include "sip/via.h"
#include "unit.h"

#define LIT(s) (s), (sizeof(s) - 1)

static struct sip_msg req, out;
static const char *why;

/* Parse what was built, as a stream: it must be exactly one message. */
static int reparse(struct buf *b)
{
	int rc = sip_msg_parse(&out, b->p, b->len, SIP_FRAMING_STREAM, &why);
	if (rc != (int)b->len) {
		fprintf(stderr, "    reparse %d (%s):\n%.*s\n", rc, why ? why : "", (int)b->len, b->p);
		return -1;
	}
	return 0;
}

static bool has_line(const struct sip_msg *m, struct slice line)
{
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (slice_eq(m->hdrs[i].line, line))
			return true;
	return false;
}

static void response_copies_vias_and_adds_to_tag(void)
{
	struct buf b = BUF_INIT;
	EXPECT_INT(sip_msg_parse(&req, LIT(pcscf_register), SIP_FRAMING_STREAM, &why), >, 0);
	EXPECT_INT(sip_build_response(&b, &req, 401, NULL, "cscf77",
				      "WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"\r\n"
				      "WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"n2\", algorithm=MD5, qop=\"auth\"",
				      SLICE_NULL, NULL), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_TRUE(!out.is_request);
	EXPECT_INT(out.status, ==, 401);
	EXPECT_SLICE(out.reason, "Unauthorized");
	/* Both Vias, in order, byte for byte. */
	const struct sip_hdr *v1 = sip_msg_hdr(&out, SIP_HDR_VIA), *v2 = sip_msg_hdr_next(&out, v1);
	EXPECT_TRUE(slice_eq(v1->line, sip_msg_hdr(&req, SIP_HDR_VIA)->line));
	EXPECT_TRUE(slice_eq(v2->line, sip_msg_hdr_next(&req, sip_msg_hdr(&req, SIP_HDR_VIA))->line));
	EXPECT_TRUE(sip_msg_hdr_next(&out, v2) == NULL);
	EXPECT_TRUE(slice_eq(sip_msg_hdr(&out, SIP_HDR_FROM)->line, sip_msg_hdr(&req, SIP_HDR_FROM)->line));
	EXPECT_TRUE(slice_eq(sip_msg_hdr(&out, SIP_HDR_CALL_ID)->line, sip_msg_hdr(&req, SIP_HDR_CALL_ID)->line));
	EXPECT_TRUE(slice_eq(sip_msg_hdr(&out, SIP_HDR_CSEQ)->line, sip_msg_hdr(&req, SIP_HDR_CSEQ)->line));
	struct sip_nameaddr to;
	EXPECT_INT(sip_nameaddr_parse(&to, sip_msg_hdr(&out, SIP_HDR_TO)->value, &why), ==, 0);
	EXPECT_SLICE(to.tag, "cscf77");
	EXPECT_SLICE(to.uri, "sip:alice@ims.example.org");
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_WWW_AUTHENTICATE), ==, 2);
	EXPECT_INT(out.content_length, ==, 0);
	/* Headers of the request that a response does not carry. */
	EXPECT_TRUE(sip_msg_hdr(&out, SIP_HDR_PATH) == NULL);
	EXPECT_TRUE(sip_msg_hdr(&out, SIP_HDR_CONTACT) == NULL);
	buf_free(&b);
}

static void response_keeps_existing_to_tag_and_carries_body(void)
{
	struct buf b = BUF_INIT;
	static const char in_dialog[] =
		"BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
		"v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbye\r\n"
		"f: <sip:a@b>;tag=1\r\nt: <sip:bob@b>;tag=2\r\ni: cid\r\nCSeq: 9 BYE\r\nl: 0\r\n\r\n";
	EXPECT_INT(sip_msg_parse(&req, LIT(in_dialog), SIP_FRAMING_DATAGRAM, &why), >, 0);
	struct sip_response_opts o = {
		.to_tag = "zzz",
		.body = SLICE_LIT("hello"),
		.content_type = "text/plain",
		.server = "wims/0.1",
		.warning = "399 wims \"just testing\"",
	};
	EXPECT_INT(sip_build_response_opts(&b, &req, 200, "Fine", &o), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_SLICE(out.reason, "Fine");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_TO)->line, "t: <sip:bob@b>;tag=2\r\n");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_SERVER)->value, "wims/0.1");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_WARNING)->value, "399 wims \"just testing\"");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	EXPECT_SLICE(out.body, "hello");
	EXPECT_INT(out.cseq, ==, 9);
	EXPECT_INT(out.cseq_method_id, ==, SIP_METHOD_BYE);
	buf_free(&b);
}

static void response_refusals(void)
{
	struct buf b = BUF_INIT;
	EXPECT_INT(sip_msg_parse(&req, LIT(jssip_register), SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(sip_build_response(&b, &req, 99, NULL, NULL, NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_build_response(&b, &req, 700, NULL, NULL, NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	/* Header injection through any text argument. */
	EXPECT_INT(sip_build_response(&b, &req, 403, "No\r\nX: y", NULL, NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, "t\r\nX: y", NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, "A: b\nC: d", SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, "A: b\r\n\r\nbody", SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, "\r\nA: b", SLICE_NULL, NULL), ==, WIMS_EINVAL);
	/* A body needs a type. */
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, NULL, SLICE_LIT("x"), NULL), ==, WIMS_EINVAL);
	EXPECT_INT(b.len, ==, 0);
	/* ACK is never answered; a response cannot be answered. */
	static const char ack[] = "ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
				  "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n";
	EXPECT_INT(sip_msg_parse(&req, LIT(ack), SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	EXPECT_INT(sip_msg_parse(&req, LIT(sipp_200), SIP_FRAMING_DATAGRAM, &why), >, 0);
	EXPECT_INT(sip_build_response(&b, &req, 200, NULL, NULL, NULL, SLICE_NULL, NULL), ==, WIMS_EINVAL);
	buf_free(&b);
}

static void answer_to_a_malformed_request(void)
{
	/* Bad CSeq: still answerable, the 400 copies what was sent. */
	static const char bad[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
				  "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: x OPTIONS\r\n\r\n";
	struct buf b = BUF_INIT;
	int rc = sip_msg_parse(&req, LIT(bad), SIP_FRAMING_DATAGRAM, &why);
	EXPECT_INT(rc, ==, WIMS_EPARSE);
	EXPECT_TRUE(sip_msg_can_answer(&req));
	EXPECT_INT(sip_build_response(&b, &req, sip_msg_error_status(rc), why, "t1", NULL, SLICE_NULL, NULL), ==, 0);
	EXPECT_INT(sip_msg_parse(&out, b.p, b.len, SIP_FRAMING_STREAM, &why), ==, WIMS_EPARSE);
	EXPECT_TRUE(strncmp(b.p, "SIP/2.0 400 Bad CSeq\r\n", 22) == 0);
	buf_free(&b);
}

/* The pcscf's forward of a JsSIP REGISTER. */
static void forward_register_prepend_via_add_path(void)
{
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(jssip_register), SIP_FRAMING_DATAGRAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_prepend(&ed, "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpcscf0001"), ==, 0);
	EXPECT_INT(sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY), ==, 0);
	EXPECT_INT(sip_edit_remove_first(&ed, SIP_HDR_ROUTE), ==, WIMS_ENOTFOUND);
	EXPECT_INT(sip_edit_add(&ed, "Path: <sip:Zmxvdy0xMjM0@127.0.0.1:5070;transport=tcp;lr;ob>\r\n"), ==, 0);
	EXPECT_INT(sip_edit_decrement_max_forwards(&ed), ==, 68);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);

	struct sip_msg_via_iter it;
	struct sip_via v;
	sip_msg_via_iter_init(&it, &out);
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.branch, "z9hG4bKpcscf0001");
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 1);
	EXPECT_SLICE(v.branch, "z9hG4bK6469213");
	EXPECT_INT(sip_msg_via_iter_next(&it, &v, &why), ==, 0);
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_PATH)->value,
		     "<sip:Zmxvdy0xMjM0@127.0.0.1:5070;transport=tcp;lr;ob>");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_MAX_FORWARDS)->value, "68");
	EXPECT_TRUE(slice_eq(out.start_line, req.start_line));
	/* Every other line of the original is there, byte for byte, in order. */
	unsigned j = 0;
	for (unsigned i = 0; i < req.nhdrs; i++) {
		if (req.hdrs[i].id == SIP_HDR_MAX_FORWARDS)
			continue;
		EXPECT_TRUE(has_line(&out, req.hdrs[i].line));
		while (j < out.nhdrs && !slice_eq(out.hdrs[j].line, req.hdrs[i].line))
			j++;
		EXPECT_INT(j, <, out.nhdrs);
	}
	/* Content-Length: 0 was right, so kept in place; the Path comes
	 * after the last original header. */
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_CONTENT_LENGTH), ==, 1);
	EXPECT_INT(sip_msg_hdr_index(&out, sip_msg_hdr(&out, SIP_HDR_PATH)), ==, out.nhdrs - 1);
	buf_free(&b);
}

static void route_pop_across_lines(void)
{
	static const char msg[] =
		"INVITE sip:bob@example.org SIP/2.0\r\n"
		"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKinv\r\n"
		"Route: <sip:127.0.0.1:7443;transport=ws;lr>, <sip:orig@127.0.0.1:5060;lr>\r\n"
		"Route: <sip:third@example.org;lr>\r\n"
		"From: <sip:alice@ims.example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\n"
		"Call-ID: r1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 1\r\n"
		"P-Asserted-Identity: <sip:evil@example.org>\r\n"
		"P-Asserted-Identity: <sip:evil2@example.org>\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n";
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(msg), SIP_FRAMING_DATAGRAM, &why), >, 0);

	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE), ==, 0);
	EXPECT_INT(sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY), ==, 0);
	EXPECT_INT(sip_edit_insert_after(&ed, sip_msg_hdr(&req, SIP_HDR_CSEQ),
					 "P-Asserted-Identity: <sip:alice@ims.example.org>"), ==, 0);
	EXPECT_INT(sip_edit_decrement_max_forwards(&ed), ==, 0);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	const struct sip_hdr *r = sip_msg_hdr(&out, SIP_HDR_ROUTE);
	EXPECT_SLICE(r->line, "Route: <sip:orig@127.0.0.1:5060;lr>\r\n");
	EXPECT_SLICE(sip_msg_hdr_next(&out, r)->value, "<sip:third@example.org;lr>");
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_P_ASSERTED_IDENTITY), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_P_ASSERTED_IDENTITY)->value, "<sip:alice@ims.example.org>");
	EXPECT_INT(sip_msg_hdr_index(&out, sip_msg_hdr(&out, SIP_HDR_P_ASSERTED_IDENTITY)), ==,
		   sip_msg_hdr_index(&out, sip_msg_hdr(&out, SIP_HDR_CSEQ)) + 1);
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_MAX_FORWARDS)->value, "0");
	EXPECT_SLICE(out.body, "v=0\r\n");

	/* Popping twice takes the second element, then the next line. */
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE), ==, 0);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE), ==, 0);
	b.len = 0;
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_ROUTE), ==, 1);
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_ROUTE)->value, "<sip:third@example.org;lr>");
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE), ==, 0);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE), ==, WIMS_ENOTFOUND);
	b.len = 0;
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out, SIP_HDR_ROUTE) == NULL);

	/* Max-Forwards 1 -> 0 was allowed; forwarding that again is not. */
	EXPECT_INT(sip_msg_parse(&req, b.p, b.len, SIP_FRAMING_STREAM, &why), >, 0);
	EXPECT_INT(sip_msg_parse(&req, LIT(msg), SIP_FRAMING_DATAGRAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_decrement_max_forwards(&ed), ==, 0);
	EXPECT_INT(sip_edit_decrement_max_forwards(&ed), ==, WIMS_EDENIED);
	buf_free(&b);
}

static void ruri_body_and_content_length(void)
{
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(sipp_invite), SIP_FRAMING_DATAGRAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_set_ruri(&ed, SLICE_LIT("sip:service@10.0.0.2:5080;transport=tcp")), ==, 0);
	EXPECT_INT(sip_edit_set_body(&ed, SLICE_LIT("v=0\r\ns=x\r\n"), "application/sdp"), ==, 0);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_SLICE(out.ruri, "sip:service@10.0.0.2:5080;transport=tcp");
	EXPECT_SLICE(out.method, "INVITE");
	EXPECT_SLICE(out.body, "v=0\r\ns=x\r\n");
	EXPECT_INT(out.content_length, ==, 10);
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_CONTENT_LENGTH), ==, 1);
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_CONTENT_TYPE), ==, 1);
	/* Max-Forwards untouched unless asked. */
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_MAX_FORWARDS)->value, "70");

	/* Dropping the body drops its type. */
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_set_body(&ed, SLICE_NULL, "application/sdp"), ==, 0);
	b.len = 0;
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_INT(out.body.len, ==, 0);
	EXPECT_TRUE(sip_msg_hdr(&out, SIP_HDR_CONTENT_TYPE) == NULL);
	EXPECT_INT(sip_edit_set_ruri(&ed, SLICE_LIT("sip:a b")), ==, WIMS_EINVAL);
	buf_free(&b);
}

static void udp_without_content_length_becomes_stream_ready(void)
{
	static const char msg[] = "MESSAGE sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
				  "From: <sip:a@b>;tag=1\r\nTo: <sip:bob@b>\r\nCall-ID: m1\r\n"
				  "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n\r\nhi there";
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(msg), SIP_FRAMING_DATAGRAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_decrement_max_forwards(&ed), ==, 70);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_INT(out.content_length, ==, 8);
	EXPECT_SLICE(out.body, "hi there");
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_MAX_FORWARDS)->value, "70");
	buf_free(&b);
}

static void response_forward_pops_own_via(void)
{
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(cscf_401), SIP_FRAMING_STREAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_VIA), ==, 0);
	EXPECT_INT(sip_edit_set_ruri(&ed, SLICE_LIT("sip:x")), ==, WIMS_EINVAL);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_VIA), ==, 0);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_INT(out.status, ==, 401);
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_VIA), ==, 1);
	struct sip_via v;
	EXPECT_INT(sip_msg_top_via(&out, &v, &why), ==, 0);
	EXPECT_SLICE(v.branch, "z9hG4bK6469213");
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_WWW_AUTHENTICATE), ==, 2);
	/* Everything but the popped Via, byte-identical, nothing added. */
	EXPECT_INT(b.len, ==, req.raw.len - sip_msg_hdr(&req, SIP_HDR_VIA)->line.len);
	buf_free(&b);

	/* Several Vias in one line: only the first entry goes. */
	static const char two[] = "SIP/2.0 200 OK\r\nv: SIP/2.0/TCP p;branch=z9hG4bK1 , SIP/2.0/UDP u;branch=z9hG4bK2\r\n"
				  "f: <sip:a@b>;tag=1\r\nt: <sip:a@b>;tag=2\r\ni: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
	struct buf b2 = BUF_INIT;
	EXPECT_INT(sip_msg_parse(&req, LIT(two), SIP_FRAMING_STREAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_pop_first_value(&ed, SIP_HDR_VIA), ==, 0);
	EXPECT_INT(sip_edit_build(&ed, &b2), ==, 0);
	EXPECT_INT(reparse(&b2), ==, 0);
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_VIA)->line, "v: SIP/2.0/UDP u;branch=z9hG4bK2\r\n");
	buf_free(&b2);
}

static void insert_before_replace_and_limits(void)
{
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	EXPECT_INT(sip_msg_parse(&req, LIT(jssip_register), SIP_FRAMING_DATAGRAM, &why), >, 0);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_insert_before(&ed, sip_msg_hdr(&req, SIP_HDR_TO), "X-Before: 1"), ==, 0);
	EXPECT_INT(sip_edit_replace(&ed, sip_msg_hdr(&req, SIP_HDR_USER_AGENT), "User-Agent: hidden"), ==, 0);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	const struct sip_hdr *x = sip_msg_hdr_by_name(&out, SLICE_LIT("X-Before"));
	EXPECT_TRUE(x != NULL);
	EXPECT_INT(sip_msg_hdr_index(&out, x) + 1, ==, sip_msg_hdr_index(&out, sip_msg_hdr(&out, SIP_HDR_TO)));
	EXPECT_SLICE(sip_msg_hdr(&out, SIP_HDR_USER_AGENT)->value, "hidden");
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_USER_AGENT), ==, 1);
	EXPECT_INT(out.nhdrs, ==, req.nhdrs + 1);

	/* Injection attempts and foreign headers are refused; errors stick. */
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_add(&ed, "X: a\r\nY: b"), ==, WIMS_EINVAL);
	EXPECT_INT(sip_edit_add(&ed, "fine: 1"), ==, WIMS_EINVAL);
	b.len = 0;
	EXPECT_INT(sip_edit_build(&ed, &b), ==, WIMS_EINVAL);
	sip_edit_init(&ed, &req);
	struct sip_hdr foreign = req.hdrs[0];
	EXPECT_INT(sip_edit_remove(&ed, &foreign), ==, WIMS_EINVAL);
	sip_edit_init(&ed, &req);
	EXPECT_INT(sip_edit_add(&ed, ""), ==, WIMS_EINVAL);
	sip_edit_init(&ed, &req);
	for (int i = 0; i < WIMS_SIP_MAX_EDITS; i++)
		EXPECT_INT(sip_edit_add(&ed, "X-N: 1"), ==, 0);
	EXPECT_INT(sip_edit_add(&ed, "X-N: 1"), ==, WIMS_ETOOBIG);
	EXPECT_INT(sip_edit_build(&ed, &b), ==, WIMS_ETOOBIG);
	buf_free(&b);
}

static void branch_and_tag(void)
{
	static const uint8_t rnd[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};
	char out_s[64];
	EXPECT_INT(sip_branch_format(out_s, sizeof(out_s), rnd, sizeof(rnd)), ==, 7 + 16);
	EXPECT_STR(out_s, "z9hG4bKaaaqeayeaudaoch7");
	EXPECT_TRUE(sip_is_token(slice_from_cstr(out_s)));
	EXPECT_INT(sip_tag_format(out_s, sizeof(out_s), rnd, 5), ==, 8);
	EXPECT_STR(out_s, "aaaqeaye");
	EXPECT_INT(sip_tag_format(out_s, sizeof(out_s), rnd, 1), ==, 2);
	EXPECT_STR(out_s, "aa");
	EXPECT_INT(sip_branch_format(out_s, 23, rnd, 10), ==, WIMS_ETOOBIG);
	EXPECT_STR(out_s, "");
	EXPECT_INT(sip_branch_format(out_s, 24, rnd, 10), ==, 23);
	EXPECT_INT(sip_tag_format(out_s, sizeof(out_s), rnd, 0), ==, WIMS_ETOOBIG);
	EXPECT_STR(sip_status_reason(423), "Interval Too Brief");
	EXPECT_STR(sip_status_reason(430), "Flow Failed");
	EXPECT_STR(sip_status_reason(499), "Client Error");
}

static void response_upstream_pops_ours_and_refuses_the_last_via(void)
{
	struct buf b = BUF_INIT;
	EXPECT_INT(sip_msg_parse(&req, LIT(cscf_401), SIP_FRAMING_STREAM, &why), >, 0);
	EXPECT_INT(sip_build_response_upstream(&b, &req), ==, 0);
	EXPECT_INT(reparse(&b), ==, 0);
	EXPECT_INT(sip_msg_hdr_count(&out, SIP_HDR_VIA), ==, 1);
	EXPECT_INT(b.len, ==, req.raw.len - sip_msg_hdr(&req, SIP_HDR_VIA)->line.len);
	/* the popped copy has one Via left: ours would be the last, so no */
	struct sip_msg once;
	EXPECT_INT(sip_msg_parse(&once, b.p, b.len, SIP_FRAMING_STREAM, &why), >, 0);
	struct buf b2 = BUF_INIT;
	EXPECT_INT(sip_build_response_upstream(&b2, &once), ==, WIMS_EPARSE);
	buf_free(&b);
	buf_free(&b2);
}

static void within_limits_counts_bytes_and_header_lines(void)
{
	struct buf b = BUF_INIT;
	buf_append_cstr(&b, "MESSAGE sip:bob@ims.example.org SIP/2.0\r\n");
	for (int i = 0; i < WIMS_SIP_MAX_HEADERS; i++)
		buf_printf(&b, "X-H%d: v\r\n", i);
	buf_append_cstr(&b, "\r\nbody\nwith\nmany\nlines\n");
	EXPECT_TRUE(sip_build_within_limits(b.p, b.len)); /* exactly the limit */
	/* one more header line, after the request line */
	struct buf more = BUF_INIT;
	const char *first = (const char *)memchr(b.p, '\n', b.len) + 1;
	buf_append(&more, b.p, (size_t)(first - b.p));
	buf_append_cstr(&more, "X-One-More: v\r\n");
	buf_append(&more, first, b.len - (size_t)(first - b.p));
	EXPECT_TRUE(!sip_build_within_limits(more.p, more.len));
	struct buf big = BUF_INIT;
	big.max = 2 * WIMS_SIP_MAX_MSG;
	buf_append_cstr(&big, "MESSAGE sip:bob@ims.example.org SIP/2.0\r\n\r\n");
	while (big.len <= WIMS_SIP_MAX_MSG)
		buf_append_cstr(&big, "0123456789abcdef");
	EXPECT_TRUE(!sip_build_within_limits(big.p, big.len));
	buf_free(&b);
	buf_free(&more);
	buf_free(&big);
}

int main(void)
{
	UNIT_RUN(response_copies_vias_and_adds_to_tag);
	UNIT_RUN(response_keeps_existing_to_tag_and_carries_body);
	UNIT_RUN(response_refusals);
	UNIT_RUN(answer_to_a_malformed_request);
	UNIT_RUN(forward_register_prepend_via_add_path);
	UNIT_RUN(route_pop_across_lines);
	UNIT_RUN(ruri_body_and_content_length);
	UNIT_RUN(udp_without_content_length_becomes_stream_ready);
	UNIT_RUN(response_forward_pops_own_via);
	UNIT_RUN(insert_before_replace_and_limits);
	UNIT_RUN(branch_and_tag);
	UNIT_RUN(within_limits_counts_bytes_and_header_lines);
	UNIT_RUN(response_upstream_pops_ours_and_refuses_the_last_via);
	return UNIT_MAIN_END();
}
