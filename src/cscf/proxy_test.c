/*
 * proxy_test.c - the forking proxy's transactions on a fake I/O: 100
 * Trying, forwarding of 1xx/2xx, CANCEL of the other branches on a 2xx,
 * best response, 430 -> 480 with the binding dropped, Timer C with and
 * without a provisional, UDP retransmissions, an upstream CANCEL, a
 * retransmitted request, the transaction limit, and that every
 * transaction ends (no leak: ASan runs this too).
 */
#include "cscf/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "sip/build.h"
#include "sip/txn.h"
#include "unit.h"

#define MAXSENT 64

struct sent {
	char *p;
	size_t len;
	bool up;
	struct cscf_hop hop;
};

static struct sent sent[MAXSENT];
static int nsent;
static char failed_contact[256];

static void clear(void)
{
	for (int i = 0; i < nsent; i++)
		free(sent[i].p);
	nsent = 0;
	failed_contact[0] = '\0';
}

static void record(bool up, const struct cscf_hop *hop, const char *p, size_t len)
{
	if (nsent == MAXSENT)
		return;
	sent[nsent].p = malloc(len + 1);
	memcpy(sent[nsent].p, p, len);
	sent[nsent].p[len] = '\0';
	sent[nsent].len = len;
	sent[nsent].up = up;
	if (hop)
		sent[nsent].hop = *hop;
	nsent++;
}

static void io_up(void *arg, const struct cscf_peer *to, const char *p, size_t len)
{
	WIMS_UNUSED(arg);
	WIMS_UNUSED(to);
	record(true, NULL, p, len);
}

static int down_fails; /* port whose sends fail */

static int io_down(void *arg, struct cscf_hop *to, const char *p, size_t len)
{
	WIMS_UNUSED(arg);
	if (to->port == down_fails)
		return WIMS_EIO;
	to->conn = (uint64_t)to->port; /* one connection per port here */
	record(false, to, p, len);
	return 0;
}

static void io_flow(void *arg, const char *contact)
{
	WIMS_UNUSED(arg);
	snprintf(failed_contact, sizeof(failed_contact), "%s", contact);
}

static void io_rand(void *arg, uint8_t *p, size_t n)
{
	WIMS_UNUSED(arg);
	memset(p, 7, n);
}

static const struct cscf_proxy_io io = {NULL, io_up, io_down, io_flow, io_rand};

/* The n-th message sent whose first line starts with prefix, up or down. */
static struct sent *find(bool up, const char *prefix, int nth)
{
	for (int i = 0; i < nsent; i++)
		if (sent[i].up == up && strncmp(sent[i].p, prefix, strlen(prefix)) == 0 && nth-- == 0)
			return &sent[i];
	return NULL;
}

static int count(bool up, const char *prefix)
{
	int n = 0;
	while (find(up, prefix, n))
		n++;
	return n;
}

static char reqbuf[2048];
static struct sip_msg req;

static void make_request(const char *method, const char *branch)
{
	int n = snprintf(reqbuf, sizeof(reqbuf),
			 "%s sip:bob@ims.example.org SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 127.0.0.1:40000;branch=%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@ims.example.org>;tag=a1\r\n"
			 "To: <sip:bob@ims.example.org>\r\n"
			 "Call-ID: call-1\r\n"
			 "CSeq: 1 %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 method, branch, method);
	const char *reason;
	sip_msg_parse(&req, reqbuf, (size_t)n, SIP_FRAMING_STREAM, &reason);
}

/* A branch: the request with our Via on top, to 127.0.0.1:port. */
static void make_spec(struct cscf_branch_spec *s, const char *branch, int port, bool udp,
		      const char *contact)
{
	char via[200];
	snprintf(via, sizeof(via), "Via: SIP/2.0/%s 127.0.0.1:5060;branch=%s",
		 udp ? "UDP" : "TCP", branch);
	memset(s, 0, sizeof(*s));
	struct sip_edit ed;
	sip_edit_init(&ed, &req);
	sip_edit_prepend(&ed, via);
	sip_edit_build(&ed, &s->msg);
	s->branch = slice_from_cstr(branch);
	s->hop.transport = udp ? CSCF_UDP : CSCF_TCP;
	snprintf(s->hop.host, sizeof(s->hop.host), "127.0.0.1");
	s->hop.port = port;
	s->contact = contact;
}

/* The UA at the end of a branch answers what it got (sent[i]). */
static void answer(struct cscf_proxy *p, const struct sent *to, int status, int64_t now)
{
	struct sip_msg m, r;
	const char *reason;
	struct buf out = BUF_INIT;
	EXPECT_INT(sip_msg_parse(&m, to->p, to->len, SIP_FRAMING_STREAM, &reason), ==,
		   (int)to->len);
	sip_build_response(&out, &m, status, NULL, status > 100 ? "uas" : NULL, NULL, SLICE_NULL,
			   NULL);
	EXPECT_INT(sip_msg_parse(&r, out.p, out.len, SIP_FRAMING_STREAM, &reason), ==,
		   (int)out.len);
	EXPECT_TRUE(cscf_proxy_response(p, &r, now));
	buf_free(&out);
}

static int status_of(const struct sent *s)
{
	return s ? (int)strtol(s->p + 8, NULL, 10) : 0;
}

static const struct cscf_peer tcp_peer = {.transport = CSCF_TCP, .conn = 1};

static struct cscf_proxy *new_proxy(void)
{
	struct cscf_proxy_conf c = {.timer_c_ms = 2000, .server = "test", .warn_agent = "x"};
	clear();
	return cscf_proxy_new(&c, &io);
}

static void fork_200_cancels_the_other_branch(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup1");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKb1", 5070, false, "sip:c1");
	make_spec(&s[1], "z9hG4bKb2", 5071, false, "sip:c2");
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	EXPECT_INT(cscf_proxy_count(p), ==, 1);
	EXPECT_INT(status_of(find(true, "SIP/2.0 100", 0)), ==, 100);
	EXPECT_INT(count(false, "INVITE "), ==, 2);
	struct sent *b1 = find(false, "INVITE ", 0), *b2 = find(false, "INVITE ", 1);
	answer(p, b2, 100, 10); /* no forwarding of a 100 */
	answer(p, b1, 180, 10);
	EXPECT_INT(count(true, "SIP/2.0 180"), ==, 1);
	answer(p, b1, 200, 20);
	EXPECT_INT(count(true, "SIP/2.0 200"), ==, 1);
	/* the branch that only said 100 is CANCELled, same branch */
	struct sent *c = find(false, "CANCEL ", 0);
	EXPECT_TRUE(c != NULL);
	EXPECT_TRUE(c && strstr(c->p, "branch=z9hG4bKb2") != NULL);
	EXPECT_INT(c ? c->hop.port : 0, ==, 5071);
	answer(p, c, 200, 30);
	answer(p, find(false, "INVITE ", 1), 487, 30);
	EXPECT_INT(count(false, "ACK "), ==, 1); /* ours, for the 487 */
	EXPECT_INT(count(true, "SIP/2.0 487"), ==, 0); /* not forwarded after a 2xx */
	EXPECT_INT(cscf_proxy_count(p), ==, 0);   /* TCP: nothing to absorb */
	cscf_proxy_free(p);
	clear();
}

static void best_response_and_flow_failure(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup2");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKb3", 5070, false, "sip:dead@x.invalid");
	make_spec(&s[1], "z9hG4bKb4", 5071, false, "sip:busy@y.invalid");
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	answer(p, find(false, "INVITE ", 0), 430, 10);
	EXPECT_STR(failed_contact, "sip:dead@x.invalid");
	EXPECT_INT(count(true, "SIP/2.0 4"), ==, 0); /* the other branch still runs */
	answer(p, find(false, "INVITE ", 1), 486, 20);
	/* 486 beats our 480 (same class, a peer's word); 430 never goes up */
	EXPECT_INT(count(true, "SIP/2.0 430"), ==, 0);
	EXPECT_INT(status_of(find(true, "SIP/2.0 4", 0)), ==, 486);
	EXPECT_INT(cscf_proxy_count(p), ==, 1); /* waits for the ACK */
	make_request("ACK", "z9hG4bKup2");
	EXPECT_TRUE(cscf_proxy_request_seen(p, &req, 30));
	EXPECT_INT(cscf_proxy_count(p), ==, 0);
	cscf_proxy_free(p);

	/* the only branch says 430: 480 with a Warning */
	p = new_proxy();
	make_request("INVITE", "z9hG4bKup3");
	make_spec(&s[0], "z9hG4bKb5", 5070, false, "sip:dead@x.invalid");
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, 0);
	answer(p, find(false, "INVITE ", 0), 430, 10);
	struct sent *r = find(true, "SIP/2.0 480", 0);
	EXPECT_TRUE(r && strstr(r->p, "\r\nWarning: 399 x \"Flow failed") != NULL);
	cscf_proxy_free(p); /* frees the transaction waiting for its ACK */
	clear();
}

static void six_hundred_wins_and_cancels(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup4");
	struct cscf_branch_spec s[3];
	make_spec(&s[0], "z9hG4bKb6", 5070, false, NULL);
	make_spec(&s[1], "z9hG4bKb7", 5071, false, NULL);
	make_spec(&s[2], "z9hG4bKb8", 5072, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 3, 0), ==, 0);
	answer(p, find(false, "INVITE ", 2), 180, 5);
	answer(p, find(false, "INVITE ", 0), 404, 10);
	answer(p, find(false, "INVITE ", 1), 603, 10);
	EXPECT_INT(count(false, "CANCEL "), ==, 1); /* the ringing one */
	answer(p, find(false, "INVITE ", 2), 487, 20);
	EXPECT_INT(status_of(find(true, "SIP/2.0 6", 0)), ==, 603);
	EXPECT_INT(count(true, "SIP/2.0 4"), ==, 0);
	cscf_proxy_free(p);
	clear();
}

static void timer_c_cancels_or_times_out(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup5");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKb9", 5070, false, NULL);
	make_spec(&s[1], "z9hG4bKba", 5071, true, NULL); /* silent, UDP */
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	answer(p, find(false, "INVITE ", 0), 180, 100);
	/* Timer A on the UDP branch: 500, 1500 ms; none on TCP */
	for (int64_t t = 0; t <= 1900; t += 50)
		cscf_proxy_tick(p, t);
	EXPECT_INT(count(false, "INVITE "), ==, 4);
	/* Timer C (2 s): the silent branch ends as 408, the ringing one is
	 * CANCELled (its Timer C restarted at the 180: 2100) */
	cscf_proxy_tick(p, 2000);
	EXPECT_INT(count(false, "CANCEL "), ==, 0);
	cscf_proxy_tick(p, 2100);
	struct sent *c = find(false, "CANCEL ", 0);
	EXPECT_TRUE(c && c->hop.port == 5070);
	answer(p, find(false, "INVITE ", 0), 487, 2200);
	/* 487 from the peer beats our 408 */
	EXPECT_INT(status_of(find(true, "SIP/2.0 4", 0)), ==, 487);
	cscf_proxy_free(p);
	clear();
}

static void timer_b_and_send_failure(void)
{
	struct cscf_proxy *p = new_proxy();
	struct cscf_proxy_conf c = {.timer_c_ms = 180000};
	cscf_proxy_free(p);
	p = cscf_proxy_new(&c, &io);
	make_request("MESSAGE", "z9hG4bKup6");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKbb", 5070, false, NULL);
	down_fails = 5071;
	make_spec(&s[1], "z9hG4bKbc", 5071, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	down_fails = 0;
	EXPECT_INT(count(true, "SIP/2.0 100"), ==, 0); /* not for a MESSAGE */
	cscf_proxy_tick(p, SIP_TIMER_F_MS - 1);
	EXPECT_INT(count(true, "SIP/2.0"), ==, 0);
	cscf_proxy_tick(p, SIP_TIMER_F_MS);
	/* a 503 of ours and a 408 of ours: the lower class */
	EXPECT_INT(status_of(find(true, "SIP/2.0", 0)), ==, 408);
	EXPECT_INT(cscf_proxy_count(p), ==, 0);
	cscf_proxy_free(p);
	clear();
}

static void upstream_cancel_and_retransmission(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup7");
	struct cscf_branch_spec s[1];
	make_spec(&s[0], "z9hG4bKbd", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, 0);
	/* the INVITE again: the 100 again */
	EXPECT_TRUE(cscf_proxy_request_seen(p, &req, 5));
	EXPECT_INT(count(true, "SIP/2.0 100"), ==, 2);
	/* CANCEL before any provisional: 200 at once, CANCEL downstream
	 * only once the branch has answered something (RFC 3261 9.1) */
	make_request("CANCEL", "z9hG4bKup7");
	EXPECT_TRUE(cscf_proxy_cancel(p, &req, &tcp_peer, 10));
	EXPECT_TRUE(strstr(find(true, "SIP/2.0 200", 0)->p, "CSeq: 1 CANCEL") != NULL);
	EXPECT_INT(count(false, "CANCEL "), ==, 0);
	answer(p, find(false, "INVITE ", 0), 180, 20);
	EXPECT_INT(count(false, "CANCEL "), ==, 1);
	answer(p, find(false, "INVITE ", 0), 487, 30);
	EXPECT_INT(status_of(find(true, "SIP/2.0 487", 0)), ==, 487);
	/* a CANCEL matching nothing */
	make_request("CANCEL", "z9hG4bKnothing");
	EXPECT_TRUE(!cscf_proxy_cancel(p, &req, &tcp_peer, 40));
	cscf_proxy_free(p);
	clear();
}

static void cancel_racing_a_200(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKup8");
	struct cscf_branch_spec s[1];
	make_spec(&s[0], "z9hG4bKbe", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, 0);
	answer(p, find(false, "INVITE ", 0), 180, 10);
	make_request("CANCEL", "z9hG4bKup8");
	EXPECT_TRUE(cscf_proxy_cancel(p, &req, &tcp_peer, 20));
	EXPECT_INT(count(false, "CANCEL "), ==, 1);
	/* the 200 crossed the CANCEL: it still goes up */
	answer(p, find(false, "INVITE ", 0), 200, 30);
	EXPECT_INT(count(true, "SIP/2.0 200"), ==, 2); /* the CANCEL's and the INVITE's */
	EXPECT_INT(cscf_proxy_count(p), ==, 0);
	/* a late 200 retransmission has no transaction left */
	struct sip_msg m, r;
	const char *reason;
	struct buf out = BUF_INIT;
	struct sent *inv = find(false, "INVITE ", 0);
	sip_msg_parse(&m, inv->p, inv->len, SIP_FRAMING_STREAM, &reason);
	sip_build_response(&out, &m, 200, NULL, "uas", NULL, SLICE_NULL, NULL);
	sip_msg_parse(&r, out.p, out.len, SIP_FRAMING_STREAM, &reason);
	EXPECT_TRUE(!cscf_proxy_response(p, &r, 40));
	buf_free(&out);
	cscf_proxy_free(p);
	clear();
}

static void non_invite_forwards_one_final(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("MESSAGE", "z9hG4bKupb");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKbh", 5070, false, NULL);
	make_spec(&s[1], "z9hG4bKbi", 5071, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	answer(p, find(false, "MESSAGE ", 0), 200, 10);
	answer(p, find(false, "MESSAGE ", 1), 200, 20);
	EXPECT_INT(count(true, "SIP/2.0 200"), ==, 1);
	EXPECT_INT(count(false, "CANCEL "), ==, 0); /* a MESSAGE is not CANCELled */
	EXPECT_INT(cscf_proxy_count(p), ==, 0);
	cscf_proxy_free(p);
	clear();
}

static void broken_connection_ends_its_branches_only(void)
{
	struct cscf_proxy *p = new_proxy();
	make_request("INVITE", "z9hG4bKupc");
	struct cscf_branch_spec s[2];
	make_spec(&s[0], "z9hG4bKbj", 5070, false, NULL);
	make_spec(&s[1], "z9hG4bKbk", 5071, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 2, 0), ==, 0);
	cscf_proxy_conn_failed(p, 5070, 10); /* the fake io's id for port 5070 */
	EXPECT_INT(count(true, "SIP/2.0 5"), ==, 0); /* the other still runs */
	answer(p, find(false, "INVITE ", 1), 486, 20);
	EXPECT_INT(status_of(find(true, "SIP/2.0 4", 0)), ==, 486);
	cscf_proxy_conn_failed(p, 5071, 30); /* nothing pending there now */
	cscf_proxy_free(p);

	/* alone: our 503 goes up as 500 (RFC 3261 16.7 step 6) */
	p = new_proxy();
	make_request("INVITE", "z9hG4bKupd");
	make_spec(&s[0], "z9hG4bKbl", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, 0);
	cscf_proxy_conn_failed(p, 5070, 10);
	EXPECT_INT(status_of(find(true, "SIP/2.0 5", 0)), ==, 500);
	cscf_proxy_free(p);
	clear();
}

static void transaction_limit(void)
{
	struct cscf_proxy_conf c = {.timer_c_ms = 1000, .max_txns = 1};
	struct cscf_proxy *p = cscf_proxy_new(&c, &io);
	clear();
	struct cscf_branch_spec s[1];
	make_request("MESSAGE", "z9hG4bKup9");
	make_spec(&s[0], "z9hG4bKbf", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, 0);
	make_request("MESSAGE", "z9hG4bKupa");
	make_spec(&s[0], "z9hG4bKbg", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &tcp_peer, s, 1, 0), ==, WIMS_ETOOBIG);
	EXPECT_INT(cscf_proxy_count(p), ==, 1);
	cscf_proxy_free(p);
	clear();
}

/* From a UDP caller an answered transaction lingers (RFC 3261 17.2.2
 * Timer J, 17.2.1 Timer I): a retransmission gets the last answer again,
 * and the transaction is gone once its timer has run, not before. */
static void udp_answered_transactions_linger_until_j_and_i(void)
{
	static const struct cscf_peer udp_peer = {.transport = CSCF_UDP};
	struct cscf_proxy *p = new_proxy();
	struct cscf_branch_spec s[1];

	make_request("MESSAGE", "z9hG4bKuj");
	make_spec(&s[0], "z9hG4bKbj", 5070, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &udp_peer, s, 1, 0), ==, 0);
	answer(p, find(false, "MESSAGE ", 0), 200, 10);
	EXPECT_INT(cscf_proxy_count(p), ==, 1);
	EXPECT_INT(cscf_proxy_count_pending(p), ==, 0);
	EXPECT_TRUE(cscf_proxy_request_seen(p, &req, 20)); /* retransmitted */
	EXPECT_INT(count(true, "SIP/2.0 200"), ==, 2);

	make_request("INVITE", "z9hG4bKui");
	make_spec(&s[0], "z9hG4bKbi", 5071, false, NULL);
	EXPECT_INT(cscf_proxy_start(p, &req, &udp_peer, s, 1, 100), ==, 0);
	answer(p, find(false, "INVITE ", 0), 486, 110);
	EXPECT_INT(cscf_proxy_count_pending(p), ==, 1); /* waits for the ACK */
	make_request("ACK", "z9hG4bKui");
	EXPECT_TRUE(cscf_proxy_request_seen(p, &req, 120));
	EXPECT_INT(cscf_proxy_count(p), ==, 2);
	EXPECT_INT(cscf_proxy_count_pending(p), ==, 0);

	cscf_proxy_tick(p, 120 + SIP_TIMER_I_MS - 1);
	EXPECT_INT(cscf_proxy_count(p), ==, 2);
	cscf_proxy_tick(p, 120 + SIP_TIMER_I_MS);
	EXPECT_INT(cscf_proxy_count(p), ==, 1); /* the INVITE's Timer I ran */
	cscf_proxy_tick(p, 10 + SIP_TIMER_J_MS - 1);
	EXPECT_INT(cscf_proxy_count(p), ==, 1);
	cscf_proxy_tick(p, 10 + SIP_TIMER_J_MS);
	EXPECT_INT(cscf_proxy_count(p), ==, 0);
	cscf_proxy_free(p);
	clear();
}

int main(void)
{
	UNIT_RUN(udp_answered_transactions_linger_until_j_and_i);
	UNIT_RUN(fork_200_cancels_the_other_branch);
	UNIT_RUN(best_response_and_flow_failure);
	UNIT_RUN(six_hundred_wins_and_cancels);
	UNIT_RUN(timer_c_cancels_or_times_out);
	UNIT_RUN(timer_b_and_send_failure);
	UNIT_RUN(upstream_cancel_and_retransmission);
	UNIT_RUN(cancel_racing_a_200);
	UNIT_RUN(non_invite_forwards_one_final);
	UNIT_RUN(broken_connection_ends_its_branches_only);
	UNIT_RUN(transaction_limit);
	return UNIT_MAIN_END();
}
