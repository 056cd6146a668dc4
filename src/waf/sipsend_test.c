/* sipsend_test.c - the WAF's SIP MESSAGE sender against a real TCP
 * listener (test_cscf.h): the request as sent (Via with the local address
 * and a fresh branch, From tag, Call-ID, CSeq, Max-Forwards, P-Asserted-
 * Identity, Content-Type, Content-Length), final statuses after a 100,
 * a response of another transaction skipped, a response in two segments,
 * and every way it ends without one: timeout, refused connection, closed
 * connection, garbage, the sender freed; bad arguments never call back. */
#include <stdbool.h>
#include <string.h>

#include <event2/event.h>

#include "core/wims.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"
#include "sip/via.h"
#include "unit.h"
#include "waf/sipsend.h"
#include "waf/test_cscf.h"

static struct event_base *base;

struct result {
	int calls;
	struct sipsend_result r;
};

static void on_result(void *arg, const struct sipsend_result *r)
{
	struct result *res = arg;
	res->calls++;
	res->r = *r;
	event_base_loopbreak(base);
}

/* Run the loop until a callback (or 5 s). */
static void run(void)
{
	struct timeval tv = {5, 0};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static struct slice hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	return h ? h->value : (struct slice){"", 0};
}

static void message_is_well_formed(void)
{
	struct fake_cscf f;
	EXPECT_INT(fake_cscf_start(&f, base), ==, 0);
	char err[128];
	struct sipsend *s = sipsend_new(base, "127.0.0.1", f.port, "ims.example.org", 0, err,
					sizeof(err));
	EXPECT_TRUE(s != NULL);
	struct result res = {0};
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "text/plain;charset=UTF-8",
				   SLICE_LIT("hello bob"), on_result, &res),
		   ==, 0);
	EXPECT_INT(res.calls, ==, 0); /* never from inside sipsend_message */
	EXPECT_INT(sipsend_pending(s), ==, 1);
	run();
	EXPECT_INT(res.calls, ==, 1);
	EXPECT_INT(res.r.err, ==, 0);
	EXPECT_INT(res.r.status, ==, 200);
	EXPECT_STR(res.r.reason, "OK");
	EXPECT_INT(sipsend_pending(s), ==, 0);

	struct sip_msg m;
	const char *reason;
	EXPECT_INT(sip_msg_parse(&m, f.last, f.last_len, SIP_FRAMING_STREAM, &reason), ==,
		   (int)f.last_len);
	EXPECT_INT(m.method_id, ==, SIP_METHOD_MESSAGE);
	EXPECT_SLICE(m.ruri, "sip:bob@ims.example.org");
	EXPECT_INT(m.cseq, ==, 1);
	EXPECT_INT(m.cseq_method_id, ==, SIP_METHOD_MESSAGE);
	EXPECT_SLICE(hdr(&m, SIP_HDR_MAX_FORWARDS), "70");
	EXPECT_SLICE(hdr(&m, SIP_HDR_TO), "<sip:bob@ims.example.org>");
	EXPECT_SLICE(hdr(&m, SIP_HDR_P_ASSERTED_IDENTITY), "<sip:waf@ims.example.org>");
	EXPECT_SLICE(hdr(&m, SIP_HDR_CONTENT_TYPE), "text/plain;charset=UTF-8");
	EXPECT_TRUE(m.has_content_length);
	EXPECT_INT(m.content_length, ==, 9);
	EXPECT_SLICE(m.body, "hello bob");
	struct sip_nameaddr from;
	EXPECT_INT(sip_nameaddr_parse(&from, hdr(&m, SIP_HDR_FROM), &reason), ==, 0);
	EXPECT_TRUE(slice_starts_with_i(hdr(&m, SIP_HDR_FROM), "<sip:waf@ims.example.org>;tag="));
	EXPECT_TRUE(hdr(&m, SIP_HDR_FROM).len > strlen("<sip:waf@ims.example.org>;tag=") + 6);
	struct slice cid = hdr(&m, SIP_HDR_CALL_ID);
	EXPECT_TRUE(cid.len > 20);
	EXPECT_TRUE(slice_find(cid, '@') > 10);
	struct sip_via v;
	EXPECT_INT(sip_msg_top_via(&m, &v, &reason), ==, 0);
	EXPECT_INT(v.transport_id, ==, SIP_TRANSPORT_TCP);
	EXPECT_SLICE(v.host, "127.0.0.1");
	EXPECT_TRUE(v.port > 0);
	EXPECT_TRUE(v.rport);
	EXPECT_TRUE(slice_starts_with_i(v.branch, "z9hG4bK"));
	EXPECT_TRUE(v.branch.len >= 7 + 16);

	/* a second message: a new branch, tag and Call-ID */
	char first_branch[64], first_cid[64];
	snprintf(first_branch, sizeof(first_branch), "%.*s", (int)v.branch.len, v.branch.p);
	snprintf(first_cid, sizeof(first_cid), "%.*s", (int)cid.len, cid.p);
	EXPECT_INT(sipsend_message(s, "tel:+15550000002", "text/plain", SLICE_LIT("x"), on_result,
				   &res),
		   ==, 0);
	run();
	EXPECT_INT(res.calls, ==, 2);
	EXPECT_INT(sip_msg_parse(&m, f.last, f.last_len, SIP_FRAMING_STREAM, &reason), ==,
		   (int)f.last_len);
	EXPECT_SLICE(m.ruri, "tel:+15550000002");
	EXPECT_INT(sip_msg_top_via(&m, &v, &reason), ==, 0);
	EXPECT_TRUE(!slice_eq_cstr(v.branch, first_branch));
	EXPECT_TRUE(!slice_eq_cstr(hdr(&m, SIP_HDR_CALL_ID), first_cid));
	sipsend_free(s);
	fake_cscf_stop(&f);
}

/* One message against the fake in mode/status; the result. */
static struct result one(enum fake_mode mode, int status, unsigned timeout_ms)
{
	struct fake_cscf f;
	struct result res = {0};
	if (fake_cscf_start(&f, base) != 0)
		return res;
	f.mode = mode;
	f.status = status;
	char err[128];
	struct sipsend *s =
		sipsend_new(base, "127.0.0.1", f.port, "ims.example.org", timeout_ms, err, sizeof(err));
	if (s && sipsend_message(s, "sip:bob@ims.example.org", "text/plain", SLICE_LIT("b"),
				 on_result, &res) == 0)
		run();
	sipsend_free(s);
	fake_cscf_stop(&f);
	return res;
}

static void final_status_after_trying(void)
{
	struct result r = one(FAKE_TRYING_FIRST, 480, 0);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, 0);
	EXPECT_INT(r.r.status, ==, 480);
	EXPECT_STR(r.r.reason, "Temporarily Unavailable");
	r = one(FAKE_ANSWER, 404, 0);
	EXPECT_INT(r.r.status, ==, 404);
}

static void response_of_another_transaction_skipped(void)
{
	struct result r = one(FAKE_OTHER_FIRST, 202, 0);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, 0);
	EXPECT_INT(r.r.status, ==, 202);
}

static void response_in_two_segments(void)
{
	struct result r = one(FAKE_SPLIT, 200, 0);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, 0);
	EXPECT_INT(r.r.status, ==, 200);
}

static void silence_times_out(void)
{
	struct result r = one(FAKE_SILENT, 200, 300);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, WIMS_ETIMEOUT);
	EXPECT_INT(r.r.status, ==, 0);
}

static void closed_connection_is_eio(void)
{
	struct result r = one(FAKE_CLOSE, 200, 0);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, WIMS_EIO);
}

static void garbage_is_eparse(void)
{
	struct result r = one(FAKE_GARBAGE, 200, 0);
	EXPECT_INT(r.calls, ==, 1);
	EXPECT_INT(r.r.err, ==, WIMS_EPARSE);
}

static void refused_connection_is_eio(void)
{
	/* a port nobody listens on: take one and close it */
	struct fake_cscf f;
	EXPECT_INT(fake_cscf_start(&f, base), ==, 0);
	int port = f.port;
	fake_cscf_stop(&f);
	char err[128];
	struct sipsend *s =
		sipsend_new(base, "127.0.0.1", port, "ims.example.org", 0, err, sizeof(err));
	struct result res = {0};
	int rc = sipsend_message(s, "sip:bob@ims.example.org", "text/plain", SLICE_LIT("b"),
				 on_result, &res);
	if (rc == 0)
		run();
	sipsend_free(s);
	if (rc == 0) {
		EXPECT_INT(res.calls, ==, 1);
		EXPECT_INT(res.r.err, ==, WIMS_EIO);
	} else {
		EXPECT_INT(rc, ==, WIMS_EIO);
		EXPECT_INT(res.calls, ==, 0);
	}
}

static void free_ends_pending_with_eclosed(void)
{
	struct fake_cscf f;
	EXPECT_INT(fake_cscf_start(&f, base), ==, 0);
	f.mode = FAKE_SILENT;
	char err[128];
	struct sipsend *s =
		sipsend_new(base, "127.0.0.1", f.port, "ims.example.org", 0, err, sizeof(err));
	struct result a = {0}, b = {0};
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "text/plain", SLICE_LIT("1"),
				   on_result, &a),
		   ==, 0);
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "text/plain", SLICE_LIT("2"),
				   on_result, &b),
		   ==, 0);
	EXPECT_INT(sipsend_pending(s), ==, 2);
	/* let both connect and send */
	struct timeval tv = {0, 100000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	EXPECT_INT(f.requests, ==, 2);
	sipsend_free(s);
	EXPECT_INT(a.calls, ==, 1);
	EXPECT_INT(a.r.err, ==, WIMS_ECLOSED);
	EXPECT_INT(b.calls, ==, 1);
	EXPECT_INT(b.r.err, ==, WIMS_ECLOSED);
	fake_cscf_stop(&f);
}

static void bad_arguments_never_call_back(void)
{
	char err[128];
	EXPECT_TRUE(sipsend_new(base, "127.0.0.1", 5060, "bad domain\r\n", 0, err, sizeof(err)) ==
		    NULL);
	EXPECT_TRUE(sipsend_new(base, "127.0.0.1", 0, "ims.example.org", 0, err, sizeof(err)) ==
		    NULL);
	struct sipsend *s =
		sipsend_new(base, "127.0.0.1", 5060, "ims.example.org", 0, err, sizeof(err));
	EXPECT_TRUE(s != NULL);
	struct result res = {0};
	static const char *const bad_to[] = {
		"",
		"bob",
		"sip:bob@ims.example.org\r\nX-Evil: 1",
		"sip:bob@ims.example.org>;x=<sip:a@b",
		"sip:bob@ims.example.org?Subject=x",
		"sip:bob @ims.example.org",
		"http://example.org/",
	};
	for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++)
		EXPECT_INT(sipsend_message(s, bad_to[i], "text/plain", SLICE_LIT("b"), on_result, &res),
			   ==, WIMS_EINVAL);
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "text/plain\r\nX: y",
				   SLICE_LIT("b"), on_result, &res),
		   ==, WIMS_EINVAL);
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "", SLICE_LIT("b"), on_result, &res),
		   ==, WIMS_EINVAL);
	static char big[SIPSEND_MAX_BODY + 1];
	memset(big, 'a', sizeof(big));
	EXPECT_INT(sipsend_message(s, "sip:bob@ims.example.org", "text/plain",
				   (struct slice){big, sizeof(big)}, on_result, &res),
		   ==, WIMS_ETOOBIG);
	EXPECT_INT(sipsend_pending(s), ==, 0);
	sipsend_free(s);
	EXPECT_INT(res.calls, ==, 0);
}

int main(void)
{
	base = event_base_new();
	UNIT_RUN(message_is_well_formed);
	UNIT_RUN(final_status_after_trying);
	UNIT_RUN(response_of_another_transaction_skipped);
	UNIT_RUN(response_in_two_segments);
	UNIT_RUN(silence_times_out);
	UNIT_RUN(closed_connection_is_eio);
	UNIT_RUN(garbage_is_eparse);
	UNIT_RUN(refused_connection_is_eio);
	UNIT_RUN(free_ends_pending_with_eclosed);
	UNIT_RUN(bad_arguments_never_call_back);
	event_base_free(base);
	return UNIT_MAIN_END();
}
