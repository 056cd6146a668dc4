/*
 * sipsend.c - one SIP MESSAGE per TCP connection, with its own deadline;
 * see sipsend.h for the wire format and why.
 *
 * An op lives from sipsend_message until its callback: connecting, then
 * (once TCP is up and the local address known, for the Via sent-by) the
 * request is written and responses are read until a final one of ours.
 * Whatever ends it (final response, timeout, connection error, free) goes
 * through op_finish, which frees the socket and timer before calling back,
 * so the callback may start another message or free the sender.
 */
#include "waf/sipsend.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/net.h"
#include "core/wims.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/uri.h"
#include "sip/via.h"

#define LOG "waf"

struct sipsend_op {
	struct sipsend *s;
	struct sipsend_op *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	sipsend_cb cb;
	void *arg;
	char to[WIMS_IMPU_MAX];
	char content_type[128];
	char *body;
	size_t body_len;
	char branch[48];
	char tag[32];
	char call_id[32];
	bool sent;
};

struct sipsend {
	struct event_base *base;
	char host[128];
	int port;
	char domain[WIMS_SIP_MAX_TOKEN];
	struct timeval timeout;
	struct sipsend_op *ops; /* in flight, doubly linked */
	unsigned pending;
};

static bool hostname_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			return false;
	return true;
}

struct sipsend *sipsend_new(struct event_base *base, const char *host, int port,
			    const char *domain, unsigned timeout_ms, char *err, size_t errsz)
{
	if (!base || !host || !domain || port <= 0 || port > 65535 ||
	    strlen(host) >= sizeof(((struct sipsend *)0)->host) ||
	    strlen(domain) >= sizeof(((struct sipsend *)0)->domain) || !hostname_ok(domain)) {
		snprintf(err, errsz, "SIP MESSAGE sender: bad cscf address or domain");
		return NULL;
	}
	struct sipsend *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->base = base;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	if (timeout_ms == 0)
		timeout_ms = SIPSEND_TIMEOUT_MS;
	s->timeout.tv_sec = timeout_ms / 1000;
	s->timeout.tv_usec = (timeout_ms % 1000) * 1000;
	return s;
}

unsigned sipsend_pending(const struct sipsend *s)
{
	return s ? s->pending : 0;
}

/* Unlink op, release its socket and timer, call back, free it. */
static void op_finish(struct sipsend_op *op, int status, int err, struct slice reason)
{
	struct sipsend *s = op->s;
	if (op->prev)
		op->prev->next = op->next;
	else
		s->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	s->pending--;
	if (op->bev)
		bufferevent_free(op->bev);
	if (op->timer)
		event_free(op->timer);

	struct sipsend_result r = {.status = status, .err = err};
	size_t n = 0;
	for (size_t i = 0; i < reason.len && n < sizeof(r.reason) - 1; i++) {
		unsigned char c = (unsigned char)reason.p[i];
		r.reason[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r.reason[n] = '\0';
	sipsend_cb cb = op->cb;
	void *arg = op->arg;
	free(op->body);
	free(op);
	cb(arg, &r);
}

void sipsend_free(struct sipsend *s)
{
	if (!s)
		return;
	while (s->ops)
		op_finish(s->ops, 0, WIMS_ECLOSED, SLICE_LIT("sender closed"));
	free(s);
}

static int random_token(char *out, size_t outsz, size_t nbytes, bool branch)
{
	uint8_t rnd[16];
	if (nbytes > sizeof(rnd) || RAND_bytes(rnd, (int)nbytes) != 1)
		return WIMS_EIO;
	int rc = branch ? sip_branch_format(out, outsz, rnd, nbytes)
			: sip_tag_format(out, outsz, rnd, nbytes);
	return rc < 0 ? rc : 0;
}

/* The request, once the local address is known. */
static int op_write_request(struct sipsend_op *op)
{
	struct sipsend *s = op->s;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char local[NET_ADDR_STRLEN];
	if (getsockname(bufferevent_getfd(op->bev), (struct sockaddr *)&ss, &sl) != 0 ||
	    net_addr_format((struct sockaddr *)&ss, local, sizeof(local)) < 0)
		return WIMS_EIO;
	struct buf b = BUF_INIT;
	buf_printf(&b,
		   "MESSAGE %s SIP/2.0\r\n"
		   "Via: SIP/2.0/TCP %s;branch=%s;rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: <sip:waf@%s>;tag=%s\r\n"
		   "To: <%s>\r\n"
		   "Call-ID: %s@%s\r\n"
		   "CSeq: 1 MESSAGE\r\n"
		   "P-Asserted-Identity: <sip:waf@%s>\r\n"
		   "Content-Type: %s\r\n"
		   "Content-Length: %zu\r\n"
		   "\r\n",
		   op->to, local, op->branch, s->domain, op->tag, op->to, op->call_id, s->domain,
		   s->domain, op->content_type, op->body_len);
	buf_append(&b, op->body, op->body_len);
	int rc = b.err;
	if (!rc && bufferevent_write(op->bev, b.p, b.len) != 0)
		rc = WIMS_EIO;
	buf_free(&b);
	if (!rc)
		op->sent = true;
	return rc;
}

/* Is resp the answer to op's request?  A response for another
 * transaction on our own connection cannot happen with a well-behaved
 * peer; it is skipped rather than taken for ours. */
static bool op_matches(const struct sipsend_op *op, const struct sip_msg *resp)
{
	struct sip_via v;
	const char *reason;
	if (sip_msg_top_via(resp, &v, &reason) != 0 || !slice_eq_cstr(v.branch, op->branch))
		return false;
	if (resp->cseq != 1 || resp->cseq_method_id != SIP_METHOD_MESSAGE)
		return false;
	const struct sip_hdr *cid = sip_msg_hdr(resp, SIP_HDR_CALL_ID);
	size_t idlen = strlen(op->call_id);
	return cid && cid->value.len > idlen && memcmp(cid->value.p, op->call_id, idlen) == 0 &&
	       cid->value.p[idlen] == '@';
}

static void op_read_cb(struct bufferevent *bev, void *arg)
{
	struct sipsend_op *op = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t take = len > WIMS_SIP_MAX_MSG ? WIMS_SIP_MAX_MSG : len;
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)take);
		struct sip_msg m;
		const char *reason = NULL;
		int n = sip_msg_parse(&m, p, take, SIP_FRAMING_STREAM, &reason);
		if (n == WIMS_EAGAIN) {
			if (len >= WIMS_SIP_MAX_MSG)
				op_finish(op, 0, WIMS_EPARSE, SLICE_LIT("answer too large"));
			return;
		}
		if (n < 0) {
			WIMS_WARN(LOG, "SIP MESSAGE to %s: unparsable answer (%s)", op->to,
				  reason ? reason : wims_strerror(n));
			op_finish(op, 0, WIMS_EPARSE, slice_from_cstr(reason ? reason : "not SIP"));
			return;
		}
		if (!m.keepalive && !m.is_request && m.status >= 200 && op_matches(op, &m)) {
			int status = m.status;
			char phrase[64];
			size_t pl = m.reason.len < sizeof(phrase) ? m.reason.len : sizeof(phrase) - 1;
			memcpy(phrase, m.reason.p, pl);
			op_finish(op, status, 0, (struct slice){phrase, pl});
			return;
		}
		/* 1xx, keep-alive, a request or someone else's response */
		evbuffer_drain(in, (size_t)n);
	}
}

static void op_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sipsend_op *op = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		int rc = op_write_request(op);
		if (rc)
			op_finish(op, 0, rc == WIMS_EIO ? WIMS_EIO : rc,
				  SLICE_LIT("could not write the request"));
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		WIMS_INFO(LOG, "SIP MESSAGE to %s: %s", op->to,
			  op->sent ? "connection closed before a final response"
				   : "could not connect to the S-CSCF");
		op_finish(op, 0, WIMS_EIO,
			  op->sent ? SLICE_LIT("connection closed") : SLICE_LIT("connection refused"));
	}
}

static void op_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sipsend_op *op = arg;
	(void)fd;
	(void)what;
	WIMS_INFO(LOG, "SIP MESSAGE to %s: no final response in time", op->to);
	op_finish(op, 0, WIMS_ETIMEOUT, SLICE_LIT("timeout"));
}

/* What may stand between <> in To and as the Request-URI: a URI of ours
 * with nothing that ends a header or a name-addr. */
static bool to_ok(const char *to)
{
	size_t n = strlen(to);
	if (n == 0 || n >= WIMS_IMPU_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)to[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',')
			return false;
	}
	struct sip_uri u;
	const char *reason;
	return sip_uri_parse(&u, (struct slice){to, n}, &reason) == 0 && u.headers.len == 0;
}

static bool content_type_ok(const char *ct)
{
	size_t n = strlen(ct);
	if (n == 0 || n >= sizeof(((struct sipsend_op *)0)->content_type) || !strchr(ct, '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ct[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

int sipsend_message(struct sipsend *s, const char *to, const char *content_type,
		    struct slice body, sipsend_cb cb, void *arg)
{
	if (!s || !to || !content_type || !cb || !to_ok(to) || !content_type_ok(content_type))
		return WIMS_EINVAL;
	if (body.len > SIPSEND_MAX_BODY || s->pending >= SIPSEND_MAX_PENDING)
		return WIMS_ETOOBIG;
	struct sipsend_op *op = calloc(1, sizeof(*op));
	if (!op)
		return WIMS_ENOMEM;
	op->s = s;
	op->cb = cb;
	op->arg = arg;
	snprintf(op->to, sizeof(op->to), "%s", to);
	snprintf(op->content_type, sizeof(op->content_type), "%s", content_type);
	op->body = malloc(body.len + 1);
	int rc = op->body ? 0 : WIMS_ENOMEM;
	if (!rc) {
		if (body.len)
			memcpy(op->body, body.p, body.len);
		op->body_len = body.len;
		/* RFC 3261 8.1.1.7 / 19.3: >= 80 bits in the branch, >= 32 in
		 * the tag; the Call-ID needs global uniqueness. */
		rc = random_token(op->branch, sizeof(op->branch), 12, true);
	}
	if (!rc)
		rc = random_token(op->tag, sizeof(op->tag), 8, false);
	if (!rc)
		rc = random_token(op->call_id, sizeof(op->call_id), 15, false);
	char err[160];
	if (!rc) {
		op->bev = net_connect_tcp(s->base, s->host, s->port, NULL, NULL, err, sizeof(err));
		if (!op->bev) {
			WIMS_INFO(LOG, "SIP MESSAGE to %s: %s", to, err);
			rc = WIMS_EIO;
		}
	}
	if (!rc) {
		op->timer = evtimer_new(s->base, op_timeout_cb, op);
		if (!op->timer || evtimer_add(op->timer, &s->timeout) != 0)
			rc = WIMS_ENOMEM;
	}
	if (rc) {
		if (op->bev)
			bufferevent_free(op->bev);
		if (op->timer)
			event_free(op->timer);
		free(op->body);
		free(op);
		return rc;
	}
	bufferevent_setcb(op->bev, op_read_cb, NULL, op_event_cb, op);
	bufferevent_enable(op->bev, EV_READ | EV_WRITE);
	op->next = s->ops;
	if (s->ops)
		s->ops->prev = op;
	s->ops = op;
	s->pending++;
	return 0;
}
