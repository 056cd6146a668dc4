/*
 * test_cscf.h - a stand-in S-CSCF for the WAF's unit tests (sipsend_test,
 * link_test): a real TCP listener on 127.0.0.1 that parses what it gets
 * with sip/msg.h, keeps the last request, and answers each MESSAGE as the
 * test says (a status, a 100 first, silence, a closed connection,
 * garbage, a response for another transaction first, a response in two
 * segments).  Header-only (static functions): one copy per test program.
 */
#ifndef WIMS_WAF_TEST_CSCF_H
#define WIMS_WAF_TEST_CSCF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/buf.h"
#include "core/net.h"
#include "sip/build.h"
#include "sip/msg.h"

enum fake_mode {
	FAKE_ANSWER,       /* the status in fake->status */
	FAKE_TRYING_FIRST, /* 100 Trying, then the status */
	FAKE_SILENT,       /* never answers */
	FAKE_CLOSE,        /* closes the connection on the request */
	FAKE_GARBAGE,      /* answers bytes that are not SIP */
	FAKE_OTHER_FIRST,  /* a final response with another branch, then ours */
	FAKE_SPLIT,        /* the response in two writes 20 ms apart */
};

struct fake_conn {
	struct fake_cscf *f;
	struct bufferevent *bev;
	struct fake_conn *next;
	struct buf split_rest;
};

struct fake_cscf {
	struct event_base *base;
	struct net_listener *ln;
	int port;
	enum fake_mode mode;
	int status;
	unsigned requests;
	char last[8192];
	size_t last_len;
	char last_body[2048];
	struct fake_conn *conns;
};

static void fake_conn_close(struct fake_conn *c)
{
	struct fake_cscf *f = c->f;
	for (struct fake_conn **pp = &f->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_free(c->bev);
	buf_free(&c->split_rest);
	net_listener_conn_done(f->ln);
	free(c);
}

static void fake_split_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake_conn *c = arg;
	(void)fd;
	(void)what;
	bufferevent_write(c->bev, c->split_rest.p, c->split_rest.len);
}

static void fake_answer(struct fake_conn *c, const struct sip_msg *m)
{
	struct fake_cscf *f = c->f;
	struct buf out = BUF_INIT;
	switch (f->mode) {
	case FAKE_SILENT:
		return;
	case FAKE_CLOSE:
		fake_conn_close(c);
		return;
	case FAKE_GARBAGE:
		bufferevent_write(c->bev, "HTTP/1.1 200 OK\r\n\r\n", 19);
		return;
	case FAKE_TRYING_FIRST:
		sip_build_response(&out, m, 100, NULL, NULL, NULL, SLICE_NULL, NULL);
		break;
	case FAKE_OTHER_FIRST: {
		struct buf other = BUF_INIT;
		sip_build_response(&other, m, 200, "Not yours", "t1", NULL, SLICE_NULL, NULL);
		char *br = strstr(other.p, "z9hG4bK");
		if (br)
			br[7] = br[7] == 'a' ? 'b' : 'a';
		buf_append(&out, other.p, other.len);
		buf_free(&other);
		break;
	}
	default:
		break;
	}
	sip_build_response(&out, m, f->status, NULL, "t2", NULL, SLICE_NULL, NULL);
	if (f->mode == FAKE_SPLIT) {
		bufferevent_write(c->bev, out.p, 20);
		buf_append(&c->split_rest, out.p + 20, out.len - 20);
		struct timeval tv = {0, 20000};
		event_base_once(f->base, -1, EV_TIMEOUT, fake_split_cb, c, &tv);
	} else {
		bufferevent_write(c->bev, out.p, out.len);
	}
	buf_free(&out);
}

static void fake_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake_conn *c = arg;
	struct fake_cscf *f = c->f;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len = evbuffer_get_length(in);
		if (!len)
			return;
		const char *p = (const char *)evbuffer_pullup(in, -1);
		struct sip_msg m;
		const char *reason;
		int n = sip_msg_parse(&m, p, len, SIP_FRAMING_STREAM, &reason);
		if (n == WIMS_EAGAIN)
			return;
		if (n < 0) {
			fprintf(stderr, "fake cscf: unparsable request: %s\n", reason);
			fake_conn_close(c);
			return;
		}
		if (!m.keepalive && m.is_request) {
			f->requests++;
			f->last_len = (size_t)n < sizeof(f->last) - 1 ? (size_t)n : sizeof(f->last) - 1;
			memcpy(f->last, p, f->last_len);
			f->last[f->last_len] = '\0';
			size_t bl = m.body.len < sizeof(f->last_body) - 1 ? m.body.len
									  : sizeof(f->last_body) - 1;
			memcpy(f->last_body, m.body.p, bl);
			f->last_body[bl] = '\0';
			enum fake_mode mode = f->mode;
			fake_answer(c, &m);
			if (mode == FAKE_CLOSE)
				return;
		}
		evbuffer_drain(in, (size_t)n);
	}
}

static void fake_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fake_conn_close(arg);
}

static void fake_accept(struct net_listener *l, int fd, const struct sockaddr *peer,
			socklen_t peerlen, void *arg)
{
	struct fake_cscf *f = arg;
	(void)peer;
	(void)peerlen;
	struct fake_conn *c = calloc(1, sizeof(*c));
	c->f = f;
	c->bev = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		net_listener_conn_done(l);
		return;
	}
	c->next = f->conns;
	f->conns = c;
	bufferevent_setcb(c->bev, fake_read_cb, NULL, fake_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int fake_cscf_start(struct fake_cscf *f, struct event_base *base)
{
	char err[256];
	memset(f, 0, sizeof(*f));
	f->base = base;
	f->status = 200;
	f->ln = net_listen_tcp(base, "127.0.0.1", 0, false, fake_accept, f, err, sizeof(err));
	if (!f->ln) {
		fprintf(stderr, "fake cscf: %s\n", err);
		return -1;
	}
	f->port = net_listener_port(f->ln);
	return 0;
}

static void fake_cscf_stop(struct fake_cscf *f)
{
	while (f->conns)
		fake_conn_close(f->conns);
	net_listener_free(f->ln);
	f->ln = NULL;
}

#endif
