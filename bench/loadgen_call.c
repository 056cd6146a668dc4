/*
 * loadgen_call.c - the call mode of wims-loadgen (--call URI).
 *
 * Once its connection has registered (loadgen.c), each connection is a
 * caller that loops, one call at a time, on
 *
 *	INVITE (SDP offer) -> 100 / 18x / 200 (SDP answer)
 *	ACK     to the 200's Contact, with the Route set from its Record-Route
 *	        (reversed, RFC 3261 12.1.2), a new transaction
 *	BYE     the same way, after --call-hold ms -> 200
 *
 * and then the next call (new Call-ID, new From tag).  A call is counted
 * when the 200 to its BYE arrives inside the window; its latency is the
 * call setup, INVITE to the 200.  Failures, by status code (or "timeout",
 * "closed"):
 *  - a final non-2xx to the INVITE (ACKed in its transaction, RFC 3261
 *    17.1.1.3, so the proxies' server transactions end);
 *  - no final answer within --timeout ms (CANCELled if it was ringing; a
 *    2xx that still arrives is ACKed and BYEd, not counted);
 *  - a non-2xx to the BYE, or none within --timeout ms;
 *  - the connection dropped with a call in flight.
 * After a failure the connection waits --fail-pause ms, as registrations do.
 *
 * Requests from the server are answered, so that the generator is a
 * well-behaved UA whatever the callee does: in-dialog BYE (the callee hung
 * up: the call is complete), re-INVITE (200 with our SDP), UPDATE, INFO,
 * OPTIONS (200); ACK is absorbed; an out-of-dialog INVITE is 486 (this
 * caller is busy), OPTIONS and MESSAGE 200, anything else 481 or 405.
 *
 * Messages are read by the small reader below, as loadgen.c reads the
 * registration's responses: independently of src/sip, which is what the
 * generator judges.  One WebSocket message is one SIP message (RFC 7118).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "core/slice.h"
#include "core/wims.h"
#include "core/ws.h"
#include "loadgen.h"

/* Header values kept from one message: Vias to copy into a response,
 * Record-Route entries to build a route set from. */
#define LG_MAX_VIAS 16
#define LG_MAX_RR 16
/* The dialog's remote target, To header and Route header, as sent back. */
#define LG_URI_MAX 512
#define LG_TO_MAX 512
#define LG_ROUTE_MAX 2048

enum lg_call_state {
	CALL_NONE,      /* no call, or the last one ended */
	CALL_INVITING,  /* INVITE sent, no final answer yet */
	CALL_HOLDING,   /* 200 ACKed, --call-hold running */
	CALL_BYEING,    /* BYE sent */
	CALL_ABANDONED, /* the INVITE timed out: only late answers are handled */
};

struct lg_call {
	enum lg_call_state state;
	bool in_flight;   /* counted in lg_run.calls_in_flight */
	bool ringing;     /* a provisional other than 100 arrived */
	bool have_dialog; /* to, remote_target and route hold the 2xx's */
	unsigned seq;     /* calls begun on this connection */
	uint32_t cseq;    /* of the INVITE; the BYE has cseq + 1 */
	uint64_t t_invite, setup_ns;
	char call_id[40];
	char from_tag[20];
	char branch[24]; /* of the INVITE (its CANCEL and non-2xx ACK share it) */
	char target[LG_URI_MAX];
	char to[LG_TO_MAX];
	char remote_target[LG_URI_MAX];
	char route[LG_ROUTE_MAX]; /* "Route: ...\r\n" or "" */
};

/* --- reading a message -------------------------------------------------- */

struct lg_sip {
	bool request;
	int status;
	struct slice method, call_id, from, to, cseq_method, contact, body;
	uint32_t cseq;
	struct slice via[LG_MAX_VIAS];
	int nvia;
	struct slice rr[LG_MAX_RR]; /* Record-Route entries, top first */
	int nrr;
};

/* Full or compact header name (RFC 3261 7.3.3). */
static bool header_is(struct slice name, const char *full, const char *compact)
{
	return slice_ieq_cstr(name, full) || (compact && slice_ieq_cstr(name, compact));
}

/* Splits a header value into comma-separated entries (commas inside <>
 * or a quoted string do not count) and appends them to out. */
static bool split_entries(struct slice v, struct slice *out, int *n, int max)
{
	const char *p = v.p, *end = v.p + v.len, *start = p;
	bool quoted = false, angle = false;
	for (; p <= end; p++) {
		if (p < end && quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (p < end && *p == '"') {
			quoted = true;
		} else if (p < end && *p == '<') {
			angle = true;
		} else if (p < end && *p == '>') {
			angle = false;
		} else if (p == end || (*p == ',' && !angle)) {
			struct slice e = slice_trim((struct slice){start, (size_t)(p - start)});
			if (e.len) {
				if (*n >= max)
					return false;
				out[(*n)++] = e;
			}
			start = p + 1;
		}
	}
	return true;
}

/* Reads one SIP message held in p[0..len).  Returns false if it is not
 * one we can use (then it is ignored). */
static bool sip_read(const char *p, size_t len, struct lg_sip *m)
{
	const char *end = p + len;
	memset(m, 0, sizeof(*m));
	const char *eol = memchr(p, '\n', len);
	if (!eol)
		return false;
	struct slice first = {p, (size_t)(eol - p)};
	if (first.len && first.p[first.len - 1] == '\r')
		first.len--;
	if (slice_starts_with_i(first, "SIP/2.0 ")) {
		if (first.len < 11)
			return false;
		for (int i = 8; i < 11; i++) {
			if (first.p[i] < '0' || first.p[i] > '9')
				return false;
			m->status = m->status * 10 + (first.p[i] - '0');
		}
		if (m->status < 100 || m->status > 699)
			return false;
	} else {
		long sp = slice_find(first, ' ');
		if (sp <= 0)
			return false;
		m->request = true;
		m->method = (struct slice){first.p, (size_t)sp};
	}
	bool have_cseq = false;
	const char *line = eol + 1;
	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		const char *lend = eol ? eol : end;
		const char *next = eol ? eol + 1 : end;
		if (lend > line && lend[-1] == '\r')
			lend--;
		if (lend == line) {
			m->body = (struct slice){next, (size_t)(end - next)};
			break;
		}
		const char *colon = memchr(line, ':', (size_t)(lend - line));
		if (colon) {
			struct slice name = slice_trim((struct slice){line, (size_t)(colon - line)});
			struct slice v = slice_trim((struct slice){colon + 1, (size_t)(lend - colon - 1)});
			if (header_is(name, "Via", "v")) {
				if (m->nvia >= LG_MAX_VIAS)
					return false;
				m->via[m->nvia++] = v;
			} else if (header_is(name, "Record-Route", NULL)) {
				if (!split_entries(v, m->rr, &m->nrr, LG_MAX_RR))
					return false;
			} else if (header_is(name, "Call-ID", "i")) {
				m->call_id = v;
			} else if (header_is(name, "From", "f")) {
				m->from = v;
			} else if (header_is(name, "To", "t")) {
				m->to = v;
			} else if (header_is(name, "Contact", "m")) {
				if (!m->contact.p)
					m->contact = v;
			} else if (header_is(name, "CSeq", NULL)) {
				long sp = slice_find(v, ' ');
				uint64_t n;
				if (sp <= 0 || slice_to_u64((struct slice){v.p, (size_t)sp}, UINT32_MAX, &n) != 0)
					return false;
				m->cseq = (uint32_t)n;
				m->cseq_method = slice_trim((struct slice){v.p + sp, v.len - (size_t)sp});
				have_cseq = true;
			}
		}
		line = next;
	}
	return have_cseq && m->call_id.p && m->from.p && m->to.p && m->nvia > 0;
}

/* Whether a From or To value carries a tag parameter. */
static bool has_tag(struct slice v)
{
	const char *p = v.p, *end = v.p + v.len;
	const char *gt = memchr(v.p, '>', v.len);
	if (gt)
		p = gt;
	for (; p + 5 <= end; p++)
		if (*p == ';' && strncasecmp(p + 1, "tag=", 4) == 0)
			return true;
	return false;
}

/* The URI of a Contact value: inside <>, or up to the first ';'. */
static struct slice contact_uri(struct slice v)
{
	const char *lt = memchr(v.p, '<', v.len);
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(v.p + v.len - lt));
		if (!gt)
			return SLICE_NULL;
		return (struct slice){lt + 1, (size_t)(gt - lt - 1)};
	}
	long semi = slice_find(v, ';');
	return slice_trim(semi < 0 ? v : (struct slice){v.p, (size_t)semi});
}

/* --- building messages -------------------------------------------------- */

static int send_msg(struct lg_conn *c, const char *msg, int n)
{
	if (n < 0 || n >= LG_MSG_MAX)
		return WIMS_ETOOBIG;
	return ws_conn_send(c->ws, msg, (size_t)n, false);
}

/* A minimal valid SDP offer or answer (RFC 4566): one PCMU audio stream
 * on the discard port; no media flows in this benchmark. */
static int sdp_body(const struct lg_conn *c, char *out, size_t outsz)
{
	const struct lg_call *k = c->call;
	return snprintf(out, outsz,
			"v=0\r\n"
			"o=- %u%u 1 IN IP4 127.0.0.1\r\n"
			"s=-\r\n"
			"c=IN IP4 127.0.0.1\r\n"
			"t=0 0\r\n"
			"m=audio 9 RTP/AVP 0\r\n"
			"a=rtpmap:0 PCMU/8000\r\n"
			"a=sendrecv\r\n",
			c->index + 1, k->seq);
}

static int send_invite(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	char msg[LG_MSG_MAX], sdp[512];
	int sdplen = sdp_body(c, sdp, sizeof(sdp));
	/* RFC 7118 5: Via transport WSS, Contact host under .invalid. */
	int n = snprintf(msg, sizeof(msg),
			 "INVITE %s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: <%s>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u INVITE\r\n"
			 "Contact: <sip:%s@%s;transport=ws>\r\n"
			 "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n"
			 "User-Agent: wims-loadgen\r\n"
			 "Content-Type: application/sdp\r\n"
			 "Content-Length: %d\r\n\r\n%s",
			 k->target, lg_run.o.tls ? "WSS" : "WS", c->contact_host, k->branch, c->impu,
			 k->from_tag, k->target, k->call_id, k->cseq, c->user_part, c->contact_host,
			 sdplen, sdp);
	return send_msg(c, msg, n);
}

/* ACK of a non-2xx final answer, or CANCEL: same transaction as the
 * INVITE (its branch, Request-URI and CSeq number), RFC 3261 9.1, 17.1.1.3.
 * to is the To of the answer (with its tag) for the ACK, NULL for CANCEL. */
static int send_hop_request(struct lg_conn *c, const char *method, struct slice to)
{
	struct lg_call *k = c->call;
	char msg[LG_MSG_MAX];
	int n = snprintf(msg, sizeof(msg),
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: %.*s%s%s%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 method, k->target, lg_run.o.tls ? "WSS" : "WS", c->contact_host, k->branch,
			 c->impu, k->from_tag, (int)to.len, to.p ? to.p : "", to.p ? "" : "<",
			 to.p ? "" : k->target, to.p ? "" : ">", k->call_id, k->cseq, method);
	return send_msg(c, msg, n);
}

/* ACK of the 2xx or BYE: in the dialog, to its remote target along its
 * route set, each a new transaction. */
static int send_in_dialog(struct lg_conn *c, const char *method, uint32_t cseq)
{
	struct lg_call *k = c->call;
	char msg[LG_MSG_MAX], branch[17];
	lg_rand_hex(c->w, branch, 16);
	int n = snprintf(msg, sizeof(msg),
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "%s"
			 "From: <%s>;tag=%s\r\n"
			 "To: %s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u %s\r\n"
			 "User-Agent: wims-loadgen\r\n"
			 "Content-Length: 0\r\n\r\n",
			 method, k->remote_target, lg_run.o.tls ? "WSS" : "WS", c->contact_host, branch,
			 k->route, c->impu, k->from_tag, k->to, k->call_id, cseq, method);
	return send_msg(c, msg, n);
}

/* Keeps what the ACK and BYE need from a 2xx to the INVITE: its To (with
 * the callee's tag), the remote target (Contact) and the route set (the
 * Record-Route entries, reversed for the caller). */
static bool take_dialog(struct lg_call *k, const struct lg_sip *m)
{
	struct slice uri = m->contact.p ? contact_uri(m->contact) : SLICE_NULL;
	if (!uri.len || slice_copy_cstr(m->to, k->to, sizeof(k->to)) != 0 ||
	    slice_copy_cstr(uri, k->remote_target, sizeof(k->remote_target)) != 0)
		return false;
	k->route[0] = '\0';
	if (m->nrr) {
		size_t o = 0;
		int n = snprintf(k->route, sizeof(k->route), "Route: ");
		o = (size_t)n;
		for (int i = m->nrr - 1; i >= 0; i--) {
			n = snprintf(k->route + o, sizeof(k->route) - o, "%.*s%s", (int)m->rr[i].len,
				     m->rr[i].p, i ? ", " : "\r\n");
			if (n < 0 || (size_t)n >= sizeof(k->route) - o)
				return false;
			o += (size_t)n;
		}
	}
	k->have_dialog = true;
	return true;
}

/* --- one call ------------------------------------------------------------ */

static void call_ended(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	if (k->in_flight) {
		k->in_flight = false;
		atomic_fetch_sub(&lg_run.calls_in_flight, 1);
	}
}

/* The call failed (slot: a status code or LG_FAIL_*): counted, and the
 * next call after --fail-pause. */
static void call_failed(struct lg_conn *c, int slot, enum lg_call_state next)
{
	struct lg_call *k = c->call;
	lg_record_failure(c, slot, lg_now_ns());
	call_ended(c);
	k->state = next;
	evtimer_del(c->timer);
	if (c->state == LG_CLOSING)
		return;
	c->state = LG_PAUSED;
	lg_timer_arm(c, lg_run.o.fail_pause_ms);
}

/* The run's first error, if none was kept yet. */
static void note_error(struct lg_worker *w, const char *fmt, ...)
{
	if (w->first_error[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
	va_end(ap);
}

static void call_send_failed(struct lg_conn *c, const char *what, int rc)
{
	note_error(c->w, "send %s: %s", what, wims_strerror(rc));
	call_failed(c, LG_FAIL_CLOSED, CALL_NONE);
}

static void call_completed(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	lg_record_success(c, k->setup_ns, lg_now_ns());
	call_ended(c);
	k->state = CALL_NONE;
	evtimer_del(c->timer);
	c->state = LG_IDLE;
	lg_call_begin(c);
}

static void send_bye(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	k->state = CALL_BYEING;
	int rc = send_in_dialog(c, "BYE", k->cseq + 1);
	if (rc != 0) {
		call_send_failed(c, "BYE", rc);
		return;
	}
	lg_timer_arm(c, lg_run.o.timeout_ms);
}

void lg_call_begin(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	uint64_t t = lg_now_ns();
	if (c->state == LG_CLOSING)
		return;
	if (!c->opened || !lg_in_window(t) || !lg_may_start()) {
		c->state = LG_IDLE;
		return;
	}
	k->seq++;
	k->state = CALL_INVITING;
	k->ringing = false;
	k->have_dialog = false;
	k->in_flight = true;
	atomic_fetch_add(&lg_run.calls_in_flight, 1);
	k->t_invite = t;
	k->cseq = 1;
	lg_rand_hex(c->w, k->call_id, 24);
	lg_rand_hex(c->w, k->from_tag, 12);
	lg_rand_hex(c->w, k->branch, 16);
	/* The callees of --callees in turn (without it the range is 0-0 and
	 * the URI has no %u). */
	const struct lg_opts *o = &lg_run.o;
	uint64_t count = (uint64_t)o->callee_last - o->callee_first + 1;
	unsigned n = o->callee_first + (unsigned)((c->index + (uint64_t)k->seq) % count);
	if (lg_pattern_format(o->call_target, n, k->target, sizeof(k->target)) < 0) {
		call_send_failed(c, "INVITE", WIMS_ETOOBIG);
		return;
	}
	c->state = LG_IN_CALL;
	int rc = send_invite(c);
	if (rc != 0) {
		call_send_failed(c, "INVITE", rc);
		return;
	}
	lg_timer_arm(c, lg_run.o.timeout_ms);
}

/* An answer to our INVITE (any state: late answers to an abandoned call
 * are still ACKed). */
static void on_invite_response(struct lg_conn *c, const struct lg_sip *m, const char *p,
			       size_t len)
{
	struct lg_call *k = c->call;
	if (m->status < 200) {
		if (m->status > 100)
			k->ringing = true;
		return;
	}
	if (m->status >= 300) {
		/* Every final non-2xx is ACKed, retransmissions included. */
		send_hop_request(c, "ACK", m->to);
		if (k->state == CALL_INVITING) {
			lg_note_status_line(c->w, "INVITE", p, len);
			call_failed(c, m->status, CALL_NONE);
		}
		return;
	}
	if (k->state != CALL_INVITING) {
		/* A retransmitted 2xx is ACKed again; a 2xx to an INVITE we gave
		 * up on ends that dialog at once (not counted). */
		if (!k->have_dialog && !take_dialog(k, m))
			return;
		send_in_dialog(c, "ACK", k->cseq);
		if (k->state == CALL_ABANDONED) {
			send_in_dialog(c, "BYE", k->cseq + 1);
			k->state = CALL_NONE;
		}
		return;
	}
	uint64_t t = lg_now_ns();
	k->setup_ns = t - k->t_invite;
	evtimer_del(c->timer);
	if (!take_dialog(k, m)) {
		lg_note_status_line(c->w, "INVITE 2xx without a usable Contact or route set", p, len);
		call_failed(c, LG_FAIL_BAD_RESPONSE, CALL_NONE);
		return;
	}
	int rc = send_in_dialog(c, "ACK", k->cseq);
	if (rc != 0) {
		call_send_failed(c, "ACK", rc);
		return;
	}
	if (lg_run.o.call_hold_ms) {
		k->state = CALL_HOLDING;
		lg_timer_arm(c, lg_run.o.call_hold_ms);
		return;
	}
	send_bye(c);
}

static void on_bye_response(struct lg_conn *c, const struct lg_sip *m, const char *p, size_t len)
{
	struct lg_call *k = c->call;
	if (k->state != CALL_BYEING || m->status < 200)
		return;
	if (m->status >= 300) {
		lg_note_status_line(c->w, "BYE", p, len);
		call_failed(c, m->status, CALL_NONE);
		return;
	}
	call_completed(c);
}

/* --- requests from the server ------------------------------------------ */

static void answer(struct lg_conn *c, const struct lg_sip *m, int status, const char *reason,
		   bool with_sdp)
{
	char msg[LG_MSG_MAX], sdp[512], tag[13], extra[LG_ID_MAX + 128];
	int o = snprintf(msg, sizeof(msg), "SIP/2.0 %d %s\r\n", status, reason);
	for (int i = 0; i < m->nvia && o > 0 && o < (int)sizeof(msg); i++)
		o += snprintf(msg + o, sizeof(msg) - (size_t)o, "Via: %.*s\r\n", (int)m->via[i].len,
			      m->via[i].p);
	tag[0] = '\0';
	if (!has_tag(m->to))
		lg_rand_hex(c->w, tag, 12);
	extra[0] = '\0';
	sdp[0] = '\0';
	if (with_sdp) {
		sdp_body(c, sdp, sizeof(sdp));
		snprintf(extra, sizeof(extra),
			 "Contact: <sip:%s@%s;transport=ws>\r\nContent-Type: application/sdp\r\n",
			 c->user_part, c->contact_host);
	}
	if (o > 0 && o < (int)sizeof(msg))
		o += snprintf(msg + o, sizeof(msg) - (size_t)o,
			      "From: %.*s\r\n"
			      "To: %.*s%s%s\r\n"
			      "Call-ID: %.*s\r\n"
			      "CSeq: %u %.*s\r\n"
			      "%s"
			      "Content-Length: %zu\r\n\r\n%s",
			      (int)m->from.len, m->from.p, (int)m->to.len, m->to.p,
			      tag[0] ? ";tag=" : "", tag, (int)m->call_id.len, m->call_id.p, m->cseq,
			      (int)m->cseq_method.len, m->cseq_method.p, extra, strlen(sdp), sdp);
	if (send_msg(c, msg, o) == 0)
		c->w->requests_answered++;
}

static void on_request(struct lg_conn *c, const struct lg_sip *m)
{
	struct lg_call *k = c->call;
	if (slice_eq_cstr(m->method, "ACK"))
		return;
	bool ours = k->state != CALL_NONE && slice_eq_cstr(m->call_id, k->call_id) &&
		    has_tag(m->to);
	if (ours) {
		if (slice_eq_cstr(m->method, "BYE")) {
			answer(c, m, 200, "OK", false);
			/* The callee hung up first: the call is complete. */
			if (k->state == CALL_HOLDING)
				call_completed(c);
			return;
		}
		answer(c, m, 200, "OK", slice_eq_cstr(m->method, "INVITE"));
		return;
	}
	if (slice_eq_cstr(m->method, "INVITE") && !has_tag(m->to))
		answer(c, m, 486, "Busy Here", false);
	else if ((slice_eq_cstr(m->method, "OPTIONS") || slice_eq_cstr(m->method, "MESSAGE")) &&
		 !has_tag(m->to))
		answer(c, m, 200, "OK", false);
	else if (has_tag(m->to) || slice_eq_cstr(m->method, "CANCEL"))
		answer(c, m, 481, "Call/Transaction Does Not Exist", false);
	else
		answer(c, m, 405, "Method Not Allowed", false);
}

/* --- entry points from loadgen.c --------------------------------------- */

void lg_call_on_message(struct lg_conn *c, const char *p, size_t len)
{
	struct lg_call *k = c->call;
	struct lg_sip m;
	if (!sip_read(p, len, &m))
		return; /* not SIP we can use: ignored */
	if (m.request) {
		on_request(c, &m);
		return;
	}
	if (k->state == CALL_NONE || !slice_eq_cstr(m.call_id, k->call_id))
		return; /* an answer to an earlier call: nothing is waiting for it */
	if (m.cseq == k->cseq && slice_eq_cstr(m.cseq_method, "INVITE"))
		on_invite_response(c, &m, p, len);
	else if (m.cseq == k->cseq + 1 && slice_eq_cstr(m.cseq_method, "BYE"))
		on_bye_response(c, &m, p, len);
}

void lg_call_on_timer(struct lg_conn *c)
{
	struct lg_call *k = c->call;
	switch (k->state) {
	case CALL_INVITING:
		note_error(c->w, "INVITE: no final answer within %u ms", lg_run.o.timeout_ms);
		/* RFC 3261 9.1: a CANCEL only once the callee is ringing. */
		if (k->ringing)
			send_hop_request(c, "CANCEL", SLICE_NULL);
		call_failed(c, LG_FAIL_TIMEOUT, CALL_ABANDONED);
		break;
	case CALL_HOLDING:
		send_bye(c);
		break;
	case CALL_BYEING:
		note_error(c->w, "BYE: no answer within %u ms", lg_run.o.timeout_ms);
		call_failed(c, LG_FAIL_TIMEOUT, CALL_NONE);
		break;
	default:
		break;
	}
}

void lg_call_on_close(struct lg_conn *c)
{
	if (c->call && c->call->in_flight) {
		lg_record_failure(c, LG_FAIL_CLOSED, lg_now_ns());
		call_ended(c);
	}
}

int lg_call_new(struct lg_conn *c)
{
	c->call = calloc(1, sizeof(*c->call));
	return c->call ? 0 : WIMS_ENOMEM;
}

void lg_call_free(struct lg_conn *c)
{
	free(c->call);
	c->call = NULL;
}
