/*
 * ws.c - WebSocket connections on bufferevents: the upgrade (our parser in
 * ws_handshake.c), then framing by wslay's event API.
 *
 * A conn moves through these states, never backwards:
 *
 *   HANDSHAKE --101--> OPEN --close sent or received--> CLOSING
 *       |                 |                                |
 *       | refusal         | close handshake done,          | peer's close,
 *       v                 v protocol error                 v timeout
 *   FLUSHING <-------------------------------------------- +
 *       |  output written (or timeout)
 *       v
 *     DONE  --(from the loop: done_ev)--> on_close, then freed
 *
 * Transport loss (EOF, TLS or socket error) jumps straight to DONE.  Every
 * path ends in conn_done(), which only schedules done_ev: on_close thus
 * always runs from the event loop with nothing of ours on the stack, and
 * the conn is freed right after it.
 *
 * wslay is driven "inline": its send callback appends to the bufferevent's
 * output (which never refuses, so wslay's own queue is empty after each
 * wslay_event_send) and its recv callback takes from the bufferevent's
 * input.  The send queue that backpressure measures is therefore the
 * bufferevent output.  wslay itself checks masking (1002), reserved bits
 * and opcodes (1002), UTF-8 of text and close reasons (1007) and the
 * reassembled message size (1009); we record which code it sent.
 */
#include "core/ws.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"

enum ws_state { WS_HANDSHAKE, WS_OPEN, WS_CLOSING, WS_FLUSHING, WS_DONE };

/* RFC 6455 5.5: a control frame payload is at most 125 bytes, 2 of which
 * carry the close code. */
#define WS_MAX_CLOSE_REASON 123

struct ws_conn {
	struct bufferevent *bev;
	wslay_event_context_ptr wslay;
	enum ws_state state;
	bool server;
	bool in_recv;    /* inside wslay_event_recv: wslay_event_send comes after */
	bool above_high; /* queued passed WIMS_WS_HIGH_WATER: on_drain pending */
	bool clean;      /* ended by a finished exchange: say close_notify */
	bool has_peer;

	struct ws_callbacks cbs;
	void *arg;
	void *data;

	const char *subprotocol;
	int (*check_origin)(void *arg, struct slice origin);
	size_t max_message;
	int ping_ms, pong_ms, idle_ms, handshake_ms;
	bool ping_pending; /* a ping went out, nothing came in since, and
			    * pong_ms > 0 (the dead peer check is on) */

	struct event *timer;   /* handshake, keep-alive, close and flush timeouts */
	struct event *done_ev; /* runs on_close from the loop */
	uint64_t last_rx_ms, last_ping_ms;

	uint64_t id;
	int worker;
	struct net_listener *listener; /* counted against, when made by a ws_listener */

	char *path, *origin; /* NUL-terminated copies, or NULL */
	size_t path_len, origin_len;
	struct sockaddr_storage peer;
	char peer_str[NET_ADDR_STRLEN];

	int http_status;
	int close_code;
	const char *close_reason;
	char reason_buf[WS_MAX_CLOSE_REASON + 1];
	char accept[WS_ACCEPT_LEN + 1]; /* client: the answer we expect */
};

static atomic_uint_fast64_t next_conn_id;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void timer_arm(struct ws_conn *c, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

static void set_close(struct ws_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->close_reason = reason ? reason : "";
}

/* Ends the conn now: on_close runs from the loop, then the conn is freed. */
static void conn_done(struct ws_conn *c)
{
	if (c->state == WS_DONE)
		return;
	c->state = WS_DONE;
	set_close(c, WS_CLOSE_ABNORMAL, "connection lost");
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	evtimer_del(c->timer);
	event_active(c->done_ev, EV_READ, 1);
}

/* Ends the conn once what is queued has been written (a refusal, our
 * close frame), or after WIMS_WS_CLOSE_TIMEOUT_MS if the peer will not
 * take it. */
static void conn_flush_then_done(struct ws_conn *c)
{
	if (c->state == WS_FLUSHING || c->state == WS_DONE)
		return;
	c->state = WS_FLUSHING;
	c->clean = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_done(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	timer_arm(c, WIMS_WS_CLOSE_TIMEOUT_MS);
}

static void conn_free(struct ws_conn *c)
{
	if (c->wslay)
		wslay_event_context_free(c->wslay);
	if (c->timer)
		event_free(c->timer);
	if (c->done_ev)
		event_free(c->done_ev);
	if (c->bev) {
		SSL *ssl = tls_bev_ssl(c->bev);
		if (ssl && c->clean) {
			/* One non-blocking attempt at close_notify; the
			 * peer may already be gone. */
			SSL_shutdown(ssl);
			ERR_clear_error();
		}
		bufferevent_free(c->bev);
	}
	if (c->listener)
		net_listener_conn_done(c->listener);
	free(c->path);
	free(c->origin);
	free(c);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_conn *c = arg;
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	if (c->cbs.on_close)
		c->cbs.on_close(c, c->close_code, c->arg);
	conn_free(c);
}

/* Static text for a close code we (or wslay for us) sent. */
static const char *close_text(int code)
{
	switch (code) {
	case WS_CLOSE_NORMAL: return "normal";
	case WS_CLOSE_GOING_AWAY: return "going away";
	case WS_CLOSE_PROTOCOL: return "protocol error";
	case WS_CLOSE_UNSUPPORTED: return "unsupported data";
	case WS_CLOSE_NO_STATUS: return "no status";
	case WS_CLOSE_INVALID_DATA: return "invalid UTF-8";
	case WS_CLOSE_POLICY: return "policy violation";
	case WS_CLOSE_TOO_BIG: return "message too big";
	case WS_CLOSE_INTERNAL: return "internal error";
	default: return "closed";
	}
}

size_t ws_conn_queued(const struct ws_conn *c)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->wslay)
		n += wslay_event_get_queued_msg_length(c->wslay);
	return n;
}

/* The keep-alive timer: next due ping or idle deadline, whichever first. */
static void keepalive_arm(struct ws_conn *c)
{
	if (c->state != WS_OPEN)
		return;
	uint64_t now = now_ms(), next = UINT64_MAX;
	if (c->idle_ms > 0) {
		uint64_t due = c->last_rx_ms + (uint64_t)c->idle_ms;
		next = due > now ? due - now : 0;
	}
	/* While a ping waits for its answer, the next event is its deadline,
	 * not another ping (which would move the deadline on forever). */
	if (c->ping_ms > 0 && !c->ping_pending) {
		uint64_t base = c->last_rx_ms > c->last_ping_ms ? c->last_rx_ms : c->last_ping_ms;
		uint64_t due = base + (uint64_t)c->ping_ms;
		uint64_t d = due > now ? due - now : 0;
		if (d < next)
			next = d;
	} else if (c->ping_pending) {
		uint64_t due = c->last_ping_ms + (uint64_t)c->pong_ms;
		uint64_t d = due > now ? due - now : 0;
		if (d < next)
			next = d;
	}
	if (next == UINT64_MAX)
		return;
	/* Not more often than every 10 ms, even when already due. */
	timer_arm(c, next < 10 ? 10 : next);
}

/* After wslay did something: push its output, learn whether it closed,
 * finish when both directions are done, and track backpressure. */
static void after_io(struct ws_conn *c)
{
	if (c->state != WS_OPEN && c->state != WS_CLOSING)
		return;
	if (wslay_event_send(c->wslay) != 0) {
		set_close(c, WS_CLOSE_ABNORMAL, "write failed");
		conn_done(c);
		return;
	}
	if (wslay_event_get_close_sent(c->wslay)) {
		/* wslay closed on its own (1002, 1007, 1009) if no one
		 * recorded a code before. */
		int code = wslay_event_get_status_code_sent(c->wslay);
		set_close(c, code, close_text(code));
	}
	if (!wslay_event_want_read(c->wslay) && !wslay_event_want_write(c->wslay)) {
		conn_flush_then_done(c);
		return;
	}
	if (wslay_event_get_close_sent(c->wslay) && c->state == WS_OPEN) {
		c->state = WS_CLOSING;
		timer_arm(c, WIMS_WS_CLOSE_TIMEOUT_MS);
	}
	if (!c->above_high && ws_conn_queued(c) > WIMS_WS_HIGH_WATER) {
		c->above_high = true;
		bufferevent_setwatermark(c->bev, EV_WRITE, WIMS_WS_LOW_WATER, 0);
	}
}

/* --- wslay callbacks -------------------------------------------------- */

static ssize_t wslay_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			     void *user)
{
	struct ws_conn *c = user;
	WIMS_UNUSED(flags);
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	c->last_rx_ms = now_ms();
	c->ping_pending = false;
	return n;
}

static ssize_t wslay_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			     int flags, void *user)
{
	struct ws_conn *c = user;
	WIMS_UNUSED(flags);
	if (bufferevent_write(c->bev, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int wslay_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	WIMS_UNUSED(user);
	/* RFC 6455 10.3: masking keys must be unpredictable. */
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void wslay_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
			 void *user)
{
	struct ws_conn *c = user;
	WIMS_UNUSED(ctx);
	switch (m->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		if (c->state == WS_OPEN && c->cbs.on_message)
			/* an empty message comes as NULL from wslay: give
			 * callers a pointer they may pass to memcpy */
			c->cbs.on_message(c, m->msg ? (const char *)m->msg : "", m->msg_length,
					  m->opcode == WSLAY_BINARY_FRAME, c->arg);
		break;
	case WSLAY_CONNECTION_CLOSE:
		/* The peer closed first (if we had, our code is kept).
		 * wslay has queued the echo. */
		set_close(c, m->status_code ? m->status_code : WS_CLOSE_NO_STATUS,
			  "closed by peer");
		if (c->state == WS_OPEN)
			c->state = WS_CLOSING;
		break;
	default:
		break; /* ping answered by wslay; pong only proves life */
	}
}

static int conn_start_wslay(struct ws_conn *c)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = wslay_recv_cb,
		.send_callback = wslay_send_cb,
		.genmask_callback = c->server ? NULL : wslay_genmask_cb,
		.on_msg_recv_callback = wslay_msg_cb,
	};
	int r = c->server ? wslay_event_context_server_init(&c->wslay, &cb, c)
			  : wslay_event_context_client_init(&c->wslay, &cb, c);
	if (r != 0)
		return WIMS_ENOMEM;
	wslay_event_config_set_max_recv_msg_length(c->wslay, c->max_message);
	return 0;
}

static void frames_recv(struct ws_conn *c)
{
	if (c->state != WS_OPEN && c->state != WS_CLOSING)
		return;
	c->in_recv = true;
	int r = wslay_event_recv(c->wslay);
	c->in_recv = false;
	if (r != 0) {
		set_close(c, WS_CLOSE_ABNORMAL, "read failed");
		conn_done(c);
		return;
	}
	after_io(c);
}

/* --- handshake ------------------------------------------------------- */

static int copy_cstr(struct slice s, char **out, size_t *outlen)
{
	if (!s.p)
		return 0;
	char *p = malloc(s.len + 1);
	if (!p)
		return WIMS_ENOMEM;
	memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	*out = p;
	*outlen = s.len;
	return 0;
}

static void conn_refuse(struct ws_conn *c, int status, const char *reason)
{
	char resp[512];
	c->http_status = status;
	set_close(c, WS_CLOSE_ABNORMAL, reason);
	int n = ws_handshake_format_refusal(status, reason, resp, sizeof(resp));
	if (n > 0)
		bufferevent_write(c->bev, resp, (size_t)n);
	evbuffer_drain(bufferevent_get_input(c->bev),
		       evbuffer_get_length(bufferevent_get_input(c->bev)));
	conn_flush_then_done(c);
}

static void conn_opened(struct ws_conn *c)
{
	c->state = WS_OPEN;
	c->last_rx_ms = c->last_ping_ms = now_ms();
	evtimer_del(c->timer);
	keepalive_arm(c);
	if (c->cbs.on_open)
		c->cbs.on_open(c, c->arg);
}

static void server_handshake(struct ws_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	size_t n = len < WIMS_WS_MAX_HANDSHAKE ? len : WIMS_WS_MAX_HANDSHAKE;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	struct ws_handshake hs;
	int r = ws_handshake_parse(p, n, WIMS_WS_MAX_HANDSHAKE, &hs);
	if (r == WIMS_EAGAIN)
		return;
	if (r < 0) {
		conn_refuse(c, hs.status, hs.reason);
		return;
	}
	/* TR 33.871 (Origin NOTE), DESIGN 4 step 2: a foreign Origin is
	 * refused before the upgrade. */
	if (c->check_origin && c->check_origin(c->arg, hs.origin) != 0) {
		conn_refuse(c, 403, "Origin not allowed");
		return;
	}
	/* RFC 7118 4: without "sip" in the offer there is no SIP here. */
	if (c->subprotocol && !ws_handshake_has_protocol(&hs, c->subprotocol)) {
		conn_refuse(c, 400, "Sec-WebSocket-Protocol must offer the subprotocol");
		return;
	}
	char resp[256];
	int rn = ws_handshake_format_101(&hs, c->subprotocol, resp, sizeof(resp));
	if (rn < 0 || copy_cstr(hs.path, &c->path, &c->path_len) != 0 ||
	    copy_cstr(hs.origin, &c->origin, &c->origin_len) != 0 || conn_start_wslay(c) != 0) {
		conn_refuse(c, 500, "internal error");
		return;
	}
	evbuffer_drain(in, (size_t)r);
	bufferevent_write(c->bev, resp, (size_t)rn);
	c->http_status = 101;
	conn_opened(c);
}

static void client_handshake(struct ws_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	size_t n = len < WIMS_WS_MAX_HANDSHAKE ? len : WIMS_WS_MAX_HANDSHAKE;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	int status = 0;
	const char *reason = "";
	int r = ws_handshake_parse_response(p, n, WIMS_WS_MAX_HANDSHAKE, c->accept,
					    c->subprotocol, &status, &reason);
	if (r == WIMS_EAGAIN)
		return;
	c->http_status = status;
	if (r < 0) {
		set_close(c, WS_CLOSE_ABNORMAL, reason);
		conn_done(c);
		return;
	}
	if (conn_start_wslay(c) != 0) {
		set_close(c, WS_CLOSE_ABNORMAL, "out of memory");
		conn_done(c);
		return;
	}
	evbuffer_drain(in, (size_t)r);
	conn_opened(c);
}

/* --- bufferevent callbacks -------------------------------------------- */

static void bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;
	if (c->state == WS_HANDSHAKE) {
		if (c->server)
			server_handshake(c);
		else
			client_handshake(c);
		if (c->state != WS_OPEN)
			return;
	}
	if (c->state == WS_OPEN || c->state == WS_CLOSING)
		frames_recv(c);
	else
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;
	WIMS_UNUSED(bev);
	if (c->state == WS_FLUSHING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_done(c);
		return;
	}
	if (c->above_high && ws_conn_queued(c) <= WIMS_WS_LOW_WATER) {
		c->above_high = false;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		if (c->state == WS_OPEN && c->cbs.on_drain)
			c->cbs.on_drain(c, c->arg);
	}
}

static void bev_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct ws_conn *c = arg;
	if (events & BEV_EVENT_CONNECTED) {
		if (!c->has_peer) {
			socklen_t sl = sizeof(c->peer);
			evutil_socket_t fd = bufferevent_getfd(bev);
			if (fd >= 0 && getpeername(fd, (struct sockaddr *)&c->peer, &sl) == 0) {
				c->has_peer = true;
				net_addr_format((struct sockaddr *)&c->peer, c->peer_str,
						sizeof(c->peer_str));
			}
		}
		return;
	}
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		/* Bytes that arrived with the EOF still count (a close
		 * frame right before the FIN). */
		if ((events & BEV_EVENT_EOF) && evbuffer_get_length(bufferevent_get_input(bev)))
			bev_read_cb(bev, c);
		if (c->state == WS_DONE)
			return;
		if (events & BEV_EVENT_ERROR) {
			unsigned long e = bufferevent_get_openssl_error(bev);
			set_close(c, WS_CLOSE_ABNORMAL, e ? "TLS error" : "connection error");
			while (bufferevent_get_openssl_error(bev))
				;
		} else {
			set_close(c, WS_CLOSE_ABNORMAL, "connection closed");
		}
		conn_done(c);
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_conn *c = arg;
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	switch (c->state) {
	case WS_HANDSHAKE:
		if (c->server && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
			conn_refuse(c, 408, "handshake timeout");
		} else {
			set_close(c, WS_CLOSE_ABNORMAL, "handshake timeout");
			conn_done(c);
		}
		break;
	case WS_OPEN: {
		uint64_t now = now_ms();
		/* RFC 6455 5.5.2: a live peer answers a ping.  One that
		 * stays silent is gone (its host died, a NAT dropped it): a
		 * close handshake would only wait for it, so drop it now. */
		if (c->ping_pending && now - c->last_ping_ms >= (uint64_t)c->pong_ms) {
			set_close(c, WS_CLOSE_ABNORMAL, "no answer to ping");
			conn_done(c);
			return;
		}
		if (c->idle_ms > 0 && now - c->last_rx_ms >= (uint64_t)c->idle_ms) {
			ws_conn_close(c, WS_CLOSE_GOING_AWAY, "idle");
			return;
		}
		uint64_t quiet_since =
			c->last_rx_ms > c->last_ping_ms ? c->last_rx_ms : c->last_ping_ms;
		if (c->ping_ms > 0 && !c->ping_pending && now - quiet_since >= (uint64_t)c->ping_ms) {
			struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"", 0};
			c->last_ping_ms = now;
			if (wslay_event_queue_msg(c->wslay, &ping) == 0) {
				c->ping_pending = c->pong_ms > 0;
				after_io(c);
				if (c->state != WS_OPEN)
					return;
			}
		}
		keepalive_arm(c);
		break;
	}
	case WS_CLOSING:
		/* The peer did not answer our close in time. */
		conn_flush_then_done(c);
		break;
	case WS_FLUSHING:
		c->clean = false;
		conn_done(c);
		break;
	case WS_DONE:
		break;
	}
}

/* --- construction ---------------------------------------------------- */

static struct ws_conn *conn_new(struct bufferevent *bev, const struct ws_callbacks *cbs,
				void *arg)
{
	struct ws_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	struct event_base *base = bufferevent_get_base(bev);
	c->bev = bev;
	c->timer = evtimer_new(base, timer_cb, c);
	c->done_ev = event_new(base, -1, 0, done_cb, c);
	if (!c->timer || !c->done_ev) {
		c->bev = NULL;
		conn_free(c);
		return NULL;
	}
	if (cbs)
		c->cbs = *cbs;
	c->arg = arg;
	c->id = atomic_fetch_add(&next_conn_id, 1) + 1;
	c->worker = workers_current();
	c->state = WS_HANDSHAKE;
	bufferevent_setcb(bev, bev_read_cb, bev_write_cb, bev_event_cb, c);
	return c;
}

static size_t max_message_or_default(size_t m)
{
	return m == 0 || m > WIMS_WS_MAX_MSG ? WIMS_WS_MAX_MSG : m;
}

struct ws_conn *ws_conn_accept(struct bufferevent *bev, const struct sockaddr *peer,
			       const struct ws_server_opts *opts,
			       const struct ws_callbacks *cbs, void *arg)
{
	if (!bev)
		return NULL;
	struct ws_conn *c = conn_new(bev, cbs, arg);
	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->server = true;
	struct ws_server_opts o = opts ? *opts : (struct ws_server_opts){0};
	c->subprotocol = o.subprotocol;
	c->check_origin = o.check_origin;
	c->max_message = max_message_or_default(o.max_message);
	c->ping_ms = o.ping_interval_ms == 0 ? WIMS_WS_PING_INTERVAL_MS : o.ping_interval_ms;
	c->pong_ms = o.pong_timeout_ms == 0 ? c->ping_ms : o.pong_timeout_ms;
	c->idle_ms = o.idle_timeout_ms == 0 ? WIMS_WS_IDLE_TIMEOUT_MS : o.idle_timeout_ms;
	c->handshake_ms = o.handshake_timeout_ms > 0 ? o.handshake_timeout_ms
						     : WIMS_HANDSHAKE_TIMEOUT_MS;
	if (peer && (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)) {
		memcpy(&c->peer, peer,
		       peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6));
		c->has_peer = true;
		net_addr_format(peer, c->peer_str, sizeof(c->peer_str));
	}
	timer_arm(c, (uint64_t)c->handshake_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

struct ws_conn *ws_conn_connect_opts(struct bufferevent *bev, const struct ws_client_opts *opts,
				     const struct ws_callbacks *cbs, void *arg)
{
	if (!bev)
		return NULL;
	if (!opts || !opts->host) {
		bufferevent_free(bev);
		return NULL;
	}
	struct ws_conn *c = conn_new(bev, cbs, arg);
	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->server = false;
	c->subprotocol = opts->subprotocol;
	c->max_message = max_message_or_default(opts->max_message);
	c->ping_ms = opts->ping_interval_ms > 0 ? opts->ping_interval_ms : 0;
	c->pong_ms = opts->pong_timeout_ms == 0 ? c->ping_ms : opts->pong_timeout_ms;
	c->idle_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 0;
	c->handshake_ms = opts->handshake_timeout_ms > 0 ? opts->handshake_timeout_ms
							 : WIMS_HANDSHAKE_TIMEOUT_MS;
	const char *path = opts->path ? opts->path : "/";

	unsigned char raw[16];
	char key[WS_KEY_LEN + 1];
	char req[WIMS_WS_MAX_HANDSHAKE];
	int n = -1;
	if (RAND_bytes(raw, sizeof(raw)) == 1 &&
	    EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw)) == WS_KEY_LEN &&
	    ws_accept_key((struct slice){key, WS_KEY_LEN}, c->accept) == 0 &&
	    copy_cstr(slice_from_cstr(path), &c->path, &c->path_len) == 0 &&
	    copy_cstr(slice_from_cstr(opts->origin), &c->origin, &c->origin_len) == 0)
		n = snprintf(req, sizeof(req),
			     "GET %s HTTP/1.1\r\n"
			     "Host: %s\r\n"
			     "Upgrade: websocket\r\n"
			     "Connection: Upgrade\r\n"
			     "Sec-WebSocket-Key: %s\r\n"
			     "Sec-WebSocket-Version: 13\r\n"
			     "%s%s%s%s%s%s"
			     "\r\n",
			     path, opts->host, key, opts->origin ? "Origin: " : "",
			     opts->origin ? opts->origin : "", opts->origin ? "\r\n" : "",
			     opts->subprotocol ? "Sec-WebSocket-Protocol: " : "",
			     opts->subprotocol ? opts->subprotocol : "",
			     opts->subprotocol ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		set_close(c, WS_CLOSE_ABNORMAL, "cannot build the request");
		conn_done(c);
		return c;
	}
	bufferevent_write(bev, req, (size_t)n);
	timer_arm(c, (uint64_t)c->handshake_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

struct ws_conn *ws_conn_connect(struct bufferevent *bev, const char *host_header,
				const char *path, const char *origin,
				const char *subprotocol, const struct ws_callbacks *cbs,
				void *arg)
{
	struct ws_client_opts o = {
		.host = host_header,
		.path = path,
		.origin = origin,
		.subprotocol = subprotocol,
	};
	return ws_conn_connect_opts(bev, &o, cbs, arg);
}

/* --- use ----------------------------------------------------------- */

int ws_conn_send(struct ws_conn *c, const char *p, size_t len, bool binary)
{
	if (c->state != WS_OPEN)
		return WIMS_ECLOSED;
	if (len > c->max_message)
		return WIMS_ETOOBIG;
	/* 14 = the largest frame header we add (2 + 8 + a 4-byte mask). */
	if (ws_conn_queued(c) + len + 14 > WIMS_WS_MAX_QUEUED) {
		/* The peer is not reading: a close frame would only queue
		 * behind the rest, so drop the transport. */
		set_close(c, WS_CLOSE_ABNORMAL, "send queue full");
		conn_done(c);
		return WIMS_ETOOBIG;
	}
	struct wslay_event_msg msg = {
		binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME,
		(const uint8_t *)(len ? p : ""),
		len,
	};
	int r = wslay_event_queue_msg(c->wslay, &msg);
	if (r == WSLAY_ERR_NOMEM)
		return WIMS_ENOMEM;
	if (r != 0)
		return WIMS_ECLOSED;
	if (!c->in_recv)
		after_io(c);
	return 0;
}

void ws_conn_close(struct ws_conn *c, int code, const char *reason)
{
	if (!c)
		return;
	if (c->state == WS_HANDSHAKE) {
		set_close(c, WS_CLOSE_ABNORMAL, "closed before open");
		conn_done(c);
		return;
	}
	if (c->state != WS_OPEN)
		return;
	if (code < 1000 || code > 4999 || code == WS_CLOSE_NO_STATUS ||
	    code == WS_CLOSE_ABNORMAL || code == 1015)
		code = WS_CLOSE_NORMAL;
	size_t rl = 0;
	if (reason) {
		rl = strlen(reason);
		if (rl > WS_MAX_CLOSE_REASON)
			rl = WS_MAX_CLOSE_REASON;
		memcpy(c->reason_buf, reason, rl);
		c->reason_buf[rl] = '\0';
	}
	set_close(c, code, reason ? c->reason_buf : close_text(code));
	if (wslay_event_queue_close(c->wslay, (uint16_t)code, (const uint8_t *)c->reason_buf,
				    rl) != 0) {
		conn_done(c);
		return;
	}
	c->state = WS_CLOSING;
	timer_arm(c, WIMS_WS_CLOSE_TIMEOUT_MS);
	if (!c->in_recv)
		after_io(c);
}

void ws_conn_set_data(struct ws_conn *c, void *data)
{
	c->data = data;
}

void *ws_conn_get_data(const struct ws_conn *c)
{
	return c->data;
}

uint64_t ws_conn_id(const struct ws_conn *c)
{
	return c->id;
}

int ws_conn_worker(const struct ws_conn *c)
{
	return c->worker;
}

bool ws_conn_is_open(const struct ws_conn *c)
{
	return c->state == WS_OPEN;
}

struct slice ws_conn_path(const struct ws_conn *c)
{
	return (struct slice){c->path, c->path_len};
}

struct slice ws_conn_origin(const struct ws_conn *c)
{
	return (struct slice){c->origin, c->origin_len};
}

const struct sockaddr *ws_conn_peer(const struct ws_conn *c)
{
	return c->has_peer ? (const struct sockaddr *)&c->peer : NULL;
}

const char *ws_conn_peer_str(const struct ws_conn *c)
{
	return c->peer_str;
}

struct bufferevent *ws_conn_bufferevent(struct ws_conn *c)
{
	return c->bev;
}

int ws_conn_http_status(const struct ws_conn *c)
{
	return c->http_status;
}

const char *ws_conn_close_reason(const struct ws_conn *c)
{
	return c->close_reason ? c->close_reason : "";
}

/* --- listener -------------------------------------------------------- */

struct ws_listener {
	struct net_listener *net;
	struct event_base *base;
	SSL_CTX *tls;
	struct ws_server_opts opts;
	struct ws_callbacks cbs;
	void *arg;
};

static void ws_listener_accept(struct net_listener *nl, int fd, const struct sockaddr *peer,
			       socklen_t peerlen, void *arg)
{
	struct ws_listener *l = arg;
	WIMS_UNUSED(peerlen);
	struct bufferevent *bev =
		l->tls ? tls_bev_accept(l->base, fd, l->tls)
		       : bufferevent_socket_new(l->base, fd,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		if (!l->tls)
			evutil_closesocket(fd);
		net_listener_conn_done(nl);
		return;
	}
	struct ws_conn *c = ws_conn_accept(bev, peer, &l->opts, &l->cbs, l->arg);
	if (!c) {
		net_listener_conn_done(nl);
		return;
	}
	c->listener = nl;
}

struct ws_listener *ws_listener_new(struct event_base *base, const char *host, int port,
				    bool reuseport, SSL_CTX *tls,
				    const struct ws_server_opts *opts,
				    const struct ws_callbacks *cbs, void *arg, char *err,
				    size_t errsz)
{
	struct ws_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		if (err && errsz)
			snprintf(err, errsz, "out of memory");
		return NULL;
	}
	l->base = base;
	l->tls = tls;
	if (opts)
		l->opts = *opts;
	if (cbs)
		l->cbs = *cbs;
	l->arg = arg;
	l->net = net_listen_tcp(base, host, port, reuseport, ws_listener_accept, l, err, errsz);
	if (!l->net) {
		free(l);
		return NULL;
	}
	return l;
}

int ws_listener_port(const struct ws_listener *l)
{
	return net_listener_port(l->net);
}

struct net_listener *ws_listener_net(struct ws_listener *l)
{
	return l->net;
}

void ws_listener_free(struct ws_listener *l)
{
	if (!l)
		return;
	net_listener_free(l->net);
	free(l);
}
