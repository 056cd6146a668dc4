/*
 * ws_frame.c - fuzz target: WebSocket frames into a real ws_conn over an
 * in-memory transport (a libevent bufferevent pair), after a valid
 * upgrade.
 *
 * Input layout:
 *   byte 0: bit 0 = side (0: bytes go to a server conn, as a client would
 *           send them; 1: to a client conn, as a server would), bits 1-7 =
 *           chunk size - 1 in which the rest is delivered (1..128), so
 *           frames split at every boundary get exercised.
 *   rest:   the bytes after the handshake.
 * Each message received is echoed back (the send path), and every 7th
 * triggers ws_conn_close from inside on_message.  At the end the peer's
 * side signals EOF; the conn must then report on_close exactly once and be
 * freed (LeakSanitizer checks), within a bounded number of loop turns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/limits.h"
#include "core/wims.h"
#include "core/ws.h"

#define CHECK(c)                           \
	do {                               \
		if (!(c))                  \
			__builtin_trap();  \
	} while (0)

struct state {
	int opens, closes, messages;
	bool server;
	bool answered; /* client side: we sent the 101 */
};

static struct event_base *base;

static void on_open(struct ws_conn *c, void *arg)
{
	struct state *s = arg;
	CHECK(s->closes == 0);
	s->opens++;
	CHECK(ws_conn_is_open(c));
}

static void on_message(struct ws_conn *c, const char *p, size_t len, bool binary, void *arg)
{
	struct state *s = arg;
	CHECK(s->opens == 1 && s->closes == 0);
	CHECK(len <= 4096);
	s->messages++;
	ws_conn_send(c, p, len, binary);
	if (s->messages % 7 == 0)
		ws_conn_close(c, 1000, "enough");
}

static void on_close(struct ws_conn *c, int code, void *arg)
{
	struct state *s = arg;
	(void)c;
	CHECK(code >= 1000 && code <= 4999);
	s->closes++;
}

static const struct ws_callbacks cbs = {on_open, on_message, on_close, NULL};

/* The fuzzer's end of the pair: swallow what the conn sends, and on the
 * client side answer its upgrade request once. */
static void peer_read(struct bufferevent *bev, void *arg)
{
	struct state *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (!s->server && !s->answered) {
		size_t n = evbuffer_get_length(in);
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		struct ws_handshake hs;
		int r = ws_handshake_parse(p, n, WIMS_WS_MAX_HANDSHAKE, &hs);
		if (r == WIMS_EAGAIN)
			return;
		CHECK(r > 0);
		char resp[256];
		int rn = ws_handshake_format_101(&hs, "sip", resp, sizeof(resp));
		CHECK(rn > 0);
		s->answered = true;
		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_write(bev, resp, (size_t)rn);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void turn_loop(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char upgrade[] = "GET /ws HTTP/1.1\r\n"
				      "Host: fuzz\r\n"
				      "Upgrade: websocket\r\n"
				      "Connection: Upgrade\r\n"
				      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				      "Sec-WebSocket-Version: 13\r\n"
				      "Sec-WebSocket-Protocol: sip\r\n"
				      "\r\n";
	if (size < 1)
		return 0;
	if (!base)
		base = event_base_new();
	struct state s = {.server = !(data[0] & 1)};
	size_t chunk = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;

	struct bufferevent *pair[2];
	CHECK(bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
				   pair) == 0);
	bufferevent_setcb(pair[1], peer_read, NULL, NULL, &s);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);

	struct ws_conn *c;
	if (s.server) {
		struct ws_server_opts opts = {
			.subprotocol = "sip",
			.max_message = 4096,
			.ping_interval_ms = -1,
			.idle_timeout_ms = -1,
		};
		c = ws_conn_accept(pair[0], NULL, &opts, &cbs, &s);
		CHECK(c);
		bufferevent_write(pair[1], upgrade, sizeof(upgrade) - 1);
	} else {
		struct ws_client_opts opts = {
			.host = "fuzz", .path = "/ws", .subprotocol = "sip", .max_message = 4096};
		c = ws_conn_connect_opts(pair[0], &opts, &cbs, &s);
		CHECK(c);
	}
	turn_loop();
	CHECK(s.opens == 1 || s.closes == 1);

	for (size_t off = 0; off < size && s.closes == 0; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		bufferevent_write(pair[1], data + off, n);
		turn_loop();
	}
	/* The peer goes away: the conn must end and be freed. */
	bufferevent_flush(pair[1], EV_WRITE, BEV_FINISHED);
	for (int i = 0; i < 100 && s.closes == 0; i++)
		turn_loop();
	CHECK(s.closes == 1);
	bufferevent_free(pair[1]);
	turn_loop();
	return 0;
}
