/* ws_test.c - WebSocket over real loopback sockets: our TLS server and our
 * client, and handcrafted raw peers for what a well-behaved client never
 * sends (foreign Origin, unmasked frames, bad UTF-8, plaintext to the TLS
 * port, silence, not reading). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/limits.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"
#include "core/ws.h"
#include "unit.h"

static struct event_base *base;
static SSL_CTX *server_ctx, *client_ctx;
static char tmpdir[64], cert_path[128], key_path[128];

#define MAX_MSGS 16

struct side {
	int opens, closes, close_code, http_status;
	char reason[128];
	char path[64], origin[128];
	int nmsg;
	char msgs[MAX_MSGS][64];
	size_t lens[MAX_MSGS];
	bool binary[MAX_MSGS];
	struct ws_conn *c;
	bool echo;          /* server: send every message back */
	bool greet;         /* server: send "from server" on open */
	bool flood;         /* server: send until refused, on open */
	int burst;          /* server: send this many 60000-byte messages on open */
	int drains;         /* on_drain calls */
	size_t burst_queued;
	int flood_result;   /* the refusing ws_conn_send return */
	size_t flood_queued;
};

static void side_reset(struct side *s)
{
	memset(s, 0, sizeof(*s));
}

static void on_open(struct ws_conn *c, void *arg)
{
	struct side *s = arg;
	s->opens++;
	s->c = c;
	struct slice p = ws_conn_path(c), o = ws_conn_origin(c);
	snprintf(s->path, sizeof(s->path), "%.*s", (int)p.len, p.p ? p.p : "");
	snprintf(s->origin, sizeof(s->origin), "%.*s", (int)o.len, o.p ? o.p : "");
	if (s->greet)
		ws_conn_send(c, "from server", 11, false);
	if (s->burst) {
		static char chunk[60000];
		for (int i = 0; i < s->burst; i++)
			if (ws_conn_send(c, chunk, sizeof(chunk), true) != 0)
				return;
		s->burst_queued = ws_conn_queued(c);
	}
	if (s->flood) {
		static char chunk[60000];
		int r;
		do {
			s->flood_queued = ws_conn_queued(c);
			r = ws_conn_send(c, chunk, sizeof(chunk), true);
		} while (r == 0);
		s->flood_result = r;
	}
}

static void on_message(struct ws_conn *c, const char *p, size_t len, bool binary, void *arg)
{
	struct side *s = arg;
	if (s->nmsg < MAX_MSGS) {
		size_t n = len < sizeof(s->msgs[0]) - 1 ? len : sizeof(s->msgs[0]) - 1;
		memcpy(s->msgs[s->nmsg], p, n);
		s->msgs[s->nmsg][n] = '\0';
		s->lens[s->nmsg] = len;
		s->binary[s->nmsg] = binary;
		s->nmsg++;
	}
	if (s->echo)
		ws_conn_send(c, p, len, binary);
}

static void on_close(struct ws_conn *c, int code, void *arg)
{
	struct side *s = arg;
	s->closes++;
	s->close_code = code;
	s->http_status = ws_conn_http_status(c);
	snprintf(s->reason, sizeof(s->reason), "%s", ws_conn_close_reason(c));
	s->c = NULL;
}

static void on_drain(struct ws_conn *c, void *arg)
{
	struct side *s = arg;
	s->drains++;
	s->burst_queued = ws_conn_queued(c);
}

static const struct ws_callbacks cbs = {on_open, on_message, on_close, on_drain};

static int check_origin(void *arg, struct slice origin)
{
	WIMS_UNUSED(arg);
	return slice_eq_cstr(origin, "https://good.example") ? 0 : -1;
}

/* Runs the loop until cond(arg) or ms pass; returns cond's last value. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	WIMS_UNUSED(arg);
}

static bool run_until(bool (*cond)(void *), void *arg, int ms)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval tv = {0, 5000};
	event_add(tick, &tv);
	bool ok = false;
	for (int waited = 0; waited <= ms; waited += 5) {
		if (cond(arg)) {
			ok = true;
			break;
		}
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
	return ok || cond(arg);
}

static bool closed(void *arg)
{
	return ((struct side *)arg)->closes > 0;
}

struct two {
	struct side *a, *b;
};

static bool both_closed(void *arg)
{
	struct two *t = arg;
	return t->a->closes > 0 && t->b->closes > 0;
}

static bool opened(void *arg)
{
	return ((struct side *)arg)->opens > 0;
}

static bool has_msgs(void *arg)
{
	struct side *s = arg;
	return s->nmsg >= 3 || s->closes;
}

static bool has_one_msg(void *arg)
{
	return ((struct side *)arg)->nmsg >= 1;
}

static void wait_ms(int ms)
{
	struct side never;
	side_reset(&never);
	run_until(closed, &never, ms);
}

static struct ws_conn *client_connect(int port, bool tls, const char *origin,
				      struct side *cli)
{
	char err[256], host[64];
	struct bufferevent *bev = net_connect_tcp(base, "127.0.0.1", port,
						  tls ? client_ctx : NULL, "127.0.0.1", err,
						  sizeof(err));
	if (!bev) {
		fprintf(stderr, "connect: %s\n", err);
		return NULL;
	}
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	return ws_conn_connect(bev, host, "/ws", origin, "sip", &cbs, cli);
}

static struct ws_listener *server_listen(bool tls, struct ws_server_opts *opts,
					 struct side *srv)
{
	char err[256];
	struct ws_listener *l = ws_listener_new(base, "127.0.0.1", 0, false,
						tls ? server_ctx : NULL, opts, &cbs, srv, err,
						sizeof(err));
	if (!l)
		fprintf(stderr, "listen: %s\n", err);
	return l;
}

static void tls_echo_both_ways_and_clean_close(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	srv.echo = true;
	srv.greet = true;
	struct ws_server_opts opts = {.subprotocol = "sip", .check_origin = check_origin};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	int port = ws_listener_port(l);
	EXPECT_INT(port, >, 0);

	struct ws_conn *c = client_connect(port, true, "https://good.example", &cli);
	EXPECT_TRUE(c);
	EXPECT_TRUE(ws_conn_id(c) != 0);
	EXPECT_INT(ws_conn_worker(c), ==, -1);
	EXPECT_INT(ws_conn_send(c, "early", 5, false), ==, WIMS_ECLOSED);
	EXPECT_TRUE(run_until(opened, &cli, 5000));
	EXPECT_TRUE(ws_conn_is_open(c));
	EXPECT_INT(ws_conn_http_status(c), ==, 101);
	EXPECT_INT(srv.opens, ==, 1);
	EXPECT_STR(srv.path, "/ws");
	EXPECT_STR(srv.origin, "https://good.example");
	EXPECT_TRUE(ws_conn_id(srv.c) != ws_conn_id(c));
	EXPECT_TRUE(strncmp(ws_conn_peer_str(srv.c), "127.0.0.1:", 10) == 0);
	/* The server side runs over TLS 1.2+. */
	SSL *ssl = tls_bev_ssl(ws_conn_bufferevent(srv.c));
	EXPECT_TRUE(ssl);
	EXPECT_INT(SSL_version(ssl), >=, TLS1_2_VERSION);

	EXPECT_INT(ws_conn_send(c, "hello", 5, false), ==, 0);
	EXPECT_INT(ws_conn_send(c, "\x01\x00\x02", 3, true), ==, 0);
	EXPECT_TRUE(run_until(has_msgs, &cli, 5000));
	/* Server's greeting, then both echoes in order. */
	EXPECT_INT(cli.nmsg, ==, 3);
	EXPECT_STR(cli.msgs[0], "from server");
	EXPECT_STR(cli.msgs[1], "hello");
	EXPECT_TRUE(!cli.binary[1]);
	EXPECT_INT(cli.lens[2], ==, 3);
	EXPECT_TRUE(cli.binary[2]);
	EXPECT_MEM(cli.msgs[2], "\x01\x00\x02", 3);
	EXPECT_INT(srv.nmsg, ==, 2);
	EXPECT_STR(srv.msgs[0], "hello");

	ws_conn_close(c, WS_CLOSE_NORMAL, "bye");
	EXPECT_INT(ws_conn_send(c, "late", 4, false), ==, WIMS_ECLOSED);
	ws_conn_close(c, WS_CLOSE_NORMAL, "again"); /* no-op */
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
	EXPECT_INT(cli.closes, ==, 1);
	EXPECT_INT(srv.closes, ==, 1);
	EXPECT_INT(cli.close_code, ==, 1000);
	EXPECT_INT(srv.close_code, ==, 1000);
	EXPECT_STR(srv.reason, "closed by peer");
	EXPECT_STR(cli.reason, "bye");
	EXPECT_INT(net_listener_conns(ws_listener_net(l)), ==, 0);
	ws_listener_free(l);
}

static void server_initiated_close_is_seen_by_client(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	EXPECT_TRUE(client_connect(ws_listener_port(l), true, NULL, &cli));
	EXPECT_TRUE(run_until(opened, &cli, 5000));
	EXPECT_TRUE(run_until(opened, &srv, 5000));
	ws_conn_close(srv.c, 4001, "flow replaced");
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
	EXPECT_INT(srv.close_code, ==, 4001);
	EXPECT_INT(cli.close_code, ==, 4001);
	EXPECT_STR(srv.reason, "flow replaced");
	ws_listener_free(l);
}

static void message_over_max_closes_1009(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	struct ws_server_opts opts = {.subprotocol = "sip", .max_message = 1000};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	struct ws_conn *c = client_connect(ws_listener_port(l), true, NULL, &cli);
	EXPECT_TRUE(run_until(opened, &cli, 5000));
	static char big[2000];
	memset(big, 'a', sizeof(big));
	EXPECT_INT(ws_conn_send(c, big, 1000, false), ==, 0); /* at the limit: fine */
	EXPECT_INT(ws_conn_send(c, big, sizeof(big), false), ==, 0);
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
	EXPECT_INT(srv.nmsg, ==, 1);
	EXPECT_INT(srv.lens[0], ==, 1000);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_TOO_BIG);
	EXPECT_INT(cli.close_code, ==, WS_CLOSE_TOO_BIG);
	EXPECT_STR(srv.reason, "message too big");
	ws_listener_free(l);
}

static void pings_keep_a_quiet_client_alive(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	/* pong_timeout_ms: generous, as the idle timeout, for a loaded
	 * machine; the client answers each ping in a few ms */
	struct ws_server_opts opts = {.subprotocol = "sip",
				      .ping_interval_ms = 40,
				      .pong_timeout_ms = 150,
				      .idle_timeout_ms = 150};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	struct ws_conn *c = client_connect(ws_listener_port(l), true, NULL, &cli);
	EXPECT_TRUE(run_until(opened, &cli, 5000));
	/* Four idle timeouts of silence from the client's application: only
	 * wslay's automatic pongs answer the server's pings. */
	wait_ms(600);
	EXPECT_INT(srv.closes, ==, 0);
	EXPECT_INT(cli.closes, ==, 0);
	EXPECT_TRUE(ws_conn_is_open(c));
	ws_conn_close(c, WS_CLOSE_NORMAL, NULL);
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
	EXPECT_INT(srv.close_code, ==, 1000);
	ws_listener_free(l);
}

/* --- raw peers ------------------------------------------------------- */

struct raw {
	char in[4096];
	size_t inlen;
	bool eof;
	bool error;
	struct bufferevent *bev;
};

static void raw_read(struct bufferevent *bev, void *arg)
{
	struct raw *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t room = sizeof(r->in) - 1 - r->inlen;
	int n = evbuffer_remove(in, r->in + r->inlen, room);
	if (n > 0)
		r->inlen += (size_t)n;
	r->in[r->inlen] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void raw_event(struct bufferevent *bev, short what, void *arg)
{
	struct raw *r = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		raw_read(bev, arg);
		r->eof = true;
		r->error = (what & BEV_EVENT_ERROR) != 0;
	}
}

static bool raw_done(void *arg)
{
	return ((struct raw *)arg)->eof;
}

static void raw_start(struct raw *r, int port, bool tls, bool read, const void *p, size_t len)
{
	char err[256];
	memset(r, 0, sizeof(*r));
	r->bev = net_connect_tcp(base, "127.0.0.1", port, tls ? client_ctx : NULL, "127.0.0.1",
				 err, sizeof(err));
	if (!r->bev)
		return;
	bufferevent_setcb(r->bev, raw_read, NULL, raw_event, r);
	bufferevent_enable(r->bev, read ? EV_READ | EV_WRITE : EV_WRITE);
	if (len)
		bufferevent_write(r->bev, p, len);
}

static void raw_free(struct raw *r)
{
	if (r->bev)
		bufferevent_free(r->bev);
	r->bev = NULL;
}

#define RAW_UPGRADE(origin)                                   \
	"GET /ws HTTP/1.1\r\n"                                \
	"Host: 127.0.0.1\r\n"                                 \
	"Upgrade: websocket\r\n"                              \
	"Connection: Upgrade\r\n"                             \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"     \
	"Sec-WebSocket-Version: 13\r\n"                       \
	"Sec-WebSocket-Protocol: sip\r\n"                     \
	"Origin: " origin "\r\n"                              \
	"\r\n"

static void foreign_origin_refused_403_before_upgrade(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip", .check_origin = check_origin};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://evil.example");
	struct raw r;
	raw_start(&r, ws_listener_port(l), true, true, req, sizeof(req) - 1);
	EXPECT_TRUE(r.bev);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_TRUE(strncmp(r.in, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
	EXPECT_TRUE(strstr(r.in, "\r\n\r\nOrigin not allowed\n"));
	EXPECT_TRUE(!strstr(r.in, "101"));
	EXPECT_INT(srv.opens, ==, 0);
	EXPECT_INT(srv.closes, ==, 1);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_ABNORMAL);
	EXPECT_INT(srv.http_status, ==, 403);
	raw_free(&r);

	/* Our own client sees the refusal as a failed open with the status. */
	struct side cli;
	side_reset(&cli);
	side_reset(&srv);
	EXPECT_TRUE(client_connect(ws_listener_port(l), true, "https://evil.example", &cli));
	EXPECT_TRUE(run_until(closed, &cli, 5000));
	EXPECT_INT(cli.opens, ==, 0);
	EXPECT_INT(cli.close_code, ==, WS_CLOSE_ABNORMAL);
	EXPECT_INT(cli.http_status, ==, 403);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	ws_listener_free(l);
}

static void missing_sip_subprotocol_refused_400(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n"
				  "Sec-WebSocket-Protocol: chat\r\n\r\n";
	struct raw r;
	raw_start(&r, ws_listener_port(l), false, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	EXPECT_TRUE(strncmp(r.in, "HTTP/1.1 400 ", 13) == 0);
	EXPECT_TRUE(strstr(r.in, "Sec-WebSocket-Protocol"));
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.opens, ==, 0);
	raw_free(&r);
	ws_listener_free(l);
}

static void bad_version_refused_426(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 8\r\n\r\n";
	struct raw r;
	raw_start(&r, ws_listener_port(l), true, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	EXPECT_TRUE(strncmp(r.in, "HTTP/1.1 426 ", 13) == 0);
	EXPECT_TRUE(strstr(r.in, "\r\nSec-WebSocket-Version: 13\r\n"));
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	raw_free(&r);
	ws_listener_free(l);
}

static void plaintext_to_tls_port_fails(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	struct raw r;
	raw_start(&r, ws_listener_port(l), false, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	/* No HTTP answer at all: at most a TLS alert record (0x15). */
	EXPECT_TRUE(!strstr(r.in, "HTTP/1.1"));
	EXPECT_TRUE(r.inlen == 0 || (unsigned char)r.in[0] == 0x15);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.opens, ==, 0);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_ABNORMAL);
	raw_free(&r);
	ws_listener_free(l);
}

/* Upgrades a raw plain connection, then sends frame; returns the bytes
 * that came back after the 101 (the server's close frame). */
static void raw_frame_test(const void *frame, size_t len, int want_code)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	char buf[sizeof(req) + 64];
	memcpy(buf, req, sizeof(req) - 1);
	memcpy(buf + sizeof(req) - 1, frame, len);
	struct raw r;
	raw_start(&r, ws_listener_port(l), false, true, buf, sizeof(req) - 1 + len);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.opens, ==, 1);
	EXPECT_INT(srv.nmsg, ==, 0);
	EXPECT_INT(srv.close_code, ==, want_code);
	/* After the 101, an unmasked close frame carrying the code. */
	const char *end = strstr(r.in, "\r\n\r\n");
	EXPECT_TRUE(end);
	const unsigned char *f = (const unsigned char *)end + 4;
	EXPECT_INT(f[0], ==, 0x88);
	EXPECT_INT(f[1] & 0x80, ==, 0);
	EXPECT_INT((f[2] << 8) | f[3], ==, want_code);
	raw_free(&r);
	ws_listener_free(l);
}

static void unmasked_client_frame_closes_1002(void)
{
	raw_frame_test("\x81\x02hi", 4, WS_CLOSE_PROTOCOL);
}

static void invalid_utf8_text_closes_1007(void)
{
	/* Masked with a zero key, so the payload goes as is: C3 28 is not
	 * UTF-8. */
	raw_frame_test("\x81\x82\0\0\0\0\xc3\x28", 8, WS_CLOSE_INVALID_DATA);
}

static void reserved_opcode_closes_1002(void)
{
	raw_frame_test("\x83\x80\0\0\0\0", 6, WS_CLOSE_PROTOCOL);
}

static void silent_peer_closed_1001_idle(void)
{
	struct side srv;
	side_reset(&srv);
	/* no dead-peer check: the idle timeout alone */
	struct ws_server_opts opts = {.subprotocol = "sip",
				      .ping_interval_ms = 30,
				      .pong_timeout_ms = -1,
				      .idle_timeout_ms = 100};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	struct raw r;
	/* A raw TLS peer: it reads but never answers a ping. */
	raw_start(&r, ws_listener_port(l), true, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.opens, ==, 1);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_GOING_AWAY);
	EXPECT_STR(srv.reason, "idle");
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	/* It did get pings (0x89) and then the close (0x88). */
	const char *end = strstr(r.in, "\r\n\r\n");
	EXPECT_TRUE(end);
	EXPECT_INT((unsigned char)end[4], ==, 0x89);
	EXPECT_TRUE(memchr(end + 4, 0x88, r.inlen - (size_t)(end + 4 - r.in)));
	raw_free(&r);
	ws_listener_free(l);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A dead flow (the eP-CSCF's keep-alive, RFC 6455 5.5.2): a peer that
 * answers no ping is dropped after pong_timeout_ms, long before the idle
 * timeout, without waiting for a close handshake it cannot answer. */
static void unanswered_ping_drops_dead_peer(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip",
				      .ping_interval_ms = 50,
				      .pong_timeout_ms = 100,
				      .idle_timeout_ms = 60000};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	struct raw r;
	uint64_t t0 = mono_ms();
	raw_start(&r, ws_listener_port(l), true, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	uint64_t took = mono_ms() - t0;
	EXPECT_INT(srv.opens, ==, 1);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_ABNORMAL);
	EXPECT_STR(srv.reason, "no answer to ping");
	/* ping after 50 ms, dead 100 ms later: far from the idle minute */
	EXPECT_INT(took, >=, 150);
	EXPECT_INT(took, <, 3000);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	/* It got a ping and then no close frame: the transport just ended. */
	const char *end = strstr(r.in, "\r\n\r\n");
	EXPECT_TRUE(end);
	EXPECT_INT((unsigned char)end[4], ==, 0x89);
	EXPECT_TRUE(!memchr(end + 4, 0x88, r.inlen - (size_t)(end + 4 - r.in)));
	raw_free(&r);
	ws_listener_free(l);
}

/* Whatever the peer sends counts as life: data without pongs keeps it. */
static void data_without_pongs_keeps_peer(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip",
				      .ping_interval_ms = 40,
				      .pong_timeout_ms = 150,
				      .idle_timeout_ms = 60000};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	struct raw r;
	raw_start(&r, ws_listener_port(l), false, true, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(opened, &srv, 5000));
	/* a masked empty text frame every 40 ms for 600 ms, never a pong */
	for (int i = 0; i < 15; i++) {
		bufferevent_write(r.bev, "\x81\x80\0\0\0\0", 6);
		wait_ms(40);
	}
	EXPECT_INT(srv.closes, ==, 0);
	EXPECT_INT(srv.nmsg, ==, 15);
	raw_free(&r);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	ws_listener_free(l);
}

static void slow_handshake_answered_408(void)
{
	struct side srv;
	side_reset(&srv);
	struct ws_server_opts opts = {.subprotocol = "sip", .handshake_timeout_ms = 100};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	struct raw r;
	raw_start(&r, ws_listener_port(l), false, true, "GET / HTTP/1.1\r\nHo", 18);
	EXPECT_TRUE(run_until(raw_done, &r, 5000));
	EXPECT_TRUE(strncmp(r.in, "HTTP/1.1 408 ", 13) == 0);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.http_status, ==, 408);
	raw_free(&r);
	ws_listener_free(l);
}

static void peer_not_reading_is_dropped(void)
{
	struct side srv;
	side_reset(&srv);
	srv.flood = true;
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	static const char req[] = RAW_UPGRADE("https://good.example");
	struct raw r;
	/* Writes its request, never reads. */
	raw_start(&r, ws_listener_port(l), false, false, req, sizeof(req) - 1);
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(srv.opens, ==, 1);
	EXPECT_INT(srv.flood_result, ==, WIMS_ETOOBIG);
	EXPECT_INT(srv.flood_queued, >, WIMS_WS_HIGH_WATER);
	EXPECT_INT(srv.flood_queued, <=, WIMS_WS_MAX_QUEUED);
	EXPECT_INT(srv.close_code, ==, WS_CLOSE_ABNORMAL);
	EXPECT_STR(srv.reason, "send queue full");
	raw_free(&r);
	ws_listener_free(l);
}

static bool got_burst(void *arg)
{
	return ((struct side *)arg)->nmsg >= 8;
}

static void drain_reported_after_high_water(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	srv.burst = 8; /* 480 KB: above the high water, below the maximum */
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(true, &opts, &srv);
	EXPECT_TRUE(l);
	struct ws_conn *c = client_connect(ws_listener_port(l), true, NULL, &cli);
	EXPECT_TRUE(run_until(opened, &srv, 5000));
	EXPECT_INT(srv.burst_queued, >, WIMS_WS_HIGH_WATER);
	EXPECT_INT(srv.drains, ==, 0);
	EXPECT_TRUE(run_until(got_burst, &cli, 5000));
	EXPECT_INT(cli.lens[7], ==, 60000);
	EXPECT_INT(srv.drains, ==, 1);
	EXPECT_INT(srv.burst_queued, <=, WIMS_WS_LOW_WATER);
	ws_conn_close(c, 1000, NULL);
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
	ws_listener_free(l);
}

static void connection_limit_refuses_extra(void)
{
	struct side srv, c1, c2;
	side_reset(&srv);
	side_reset(&c1);
	side_reset(&c2);
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	net_listener_set_max(ws_listener_net(l), 1);
	struct ws_conn *a = client_connect(ws_listener_port(l), false, NULL, &c1);
	EXPECT_TRUE(run_until(opened, &c1, 5000));
	EXPECT_TRUE(client_connect(ws_listener_port(l), false, NULL, &c2));
	EXPECT_TRUE(run_until(closed, &c2, 5000));
	EXPECT_INT(c2.opens, ==, 0);
	EXPECT_INT(net_listener_refused(ws_listener_net(l)), ==, 1);
	EXPECT_INT(net_listener_conns(ws_listener_net(l)), ==, 1);
	ws_conn_close(a, 1000, NULL);
	EXPECT_TRUE(run_until(closed, &c1, 5000));
	EXPECT_TRUE(run_until(closed, &srv, 5000));
	EXPECT_INT(net_listener_conns(ws_listener_net(l)), ==, 0);
	ws_listener_free(l);
}

static void listener_freed_before_its_conns(void)
{
	struct side srv, cli;
	side_reset(&srv);
	side_reset(&cli);
	srv.echo = true;
	struct ws_server_opts opts = {.subprotocol = "sip"};
	struct ws_listener *l = server_listen(false, &opts, &srv);
	EXPECT_TRUE(l);
	struct ws_conn *c = client_connect(ws_listener_port(l), false, NULL, &cli);
	EXPECT_TRUE(run_until(opened, &srv, 5000));
	EXPECT_TRUE(run_until(opened, &cli, 5000));
	ws_listener_free(l);
	EXPECT_INT(ws_conn_send(c, "still here", 10, false), ==, 0);
	EXPECT_TRUE(run_until(has_one_msg, &cli, 5000));
	EXPECT_STR(cli.msgs[0], "still here");
	ws_conn_close(c, 1000, NULL);
	struct two t = {&srv, &cli};
	EXPECT_TRUE(run_until(both_closed, &t, 5000));
}

static void setup(void)
{
	char err[256];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wims-ws-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(cert_path, sizeof(cert_path), "%s/tls/cert.pem", tmpdir);
	snprintf(key_path, sizeof(key_path), "%s/tls/key.pem", tmpdir);
	if (tls_ensure_self_signed(cert_path, key_path, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "self-signed: %s\n", err);
		exit(1);
	}
	server_ctx = tls_server_ctx_new(cert_path, key_path, err, sizeof(err));
	/* Verify for real: the self-signed certificate is the only root,
	 * and its IP SAN 127.0.0.1 must match. */
	client_ctx = tls_client_ctx_new(cert_path, true, err, sizeof(err));
	if (!server_ctx || !client_ctx) {
		fprintf(stderr, "ctx: %s\n", err);
		exit(1);
	}
	base = event_base_new();
}

static void teardown(void)
{
	/* Let deferred frees run. */
	wait_ms(20);
	event_base_free(base);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	unlink(cert_path);
	unlink(key_path);
	char dir[160];
	snprintf(dir, sizeof(dir), "%s/tls", tmpdir);
	rmdir(dir);
	rmdir(tmpdir);
}

int main(void)
{
	setup();
	UNIT_RUN(tls_echo_both_ways_and_clean_close);
	UNIT_RUN(server_initiated_close_is_seen_by_client);
	UNIT_RUN(message_over_max_closes_1009);
	UNIT_RUN(pings_keep_a_quiet_client_alive);
	UNIT_RUN(foreign_origin_refused_403_before_upgrade);
	UNIT_RUN(missing_sip_subprotocol_refused_400);
	UNIT_RUN(bad_version_refused_426);
	UNIT_RUN(plaintext_to_tls_port_fails);
	UNIT_RUN(unmasked_client_frame_closes_1002);
	UNIT_RUN(invalid_utf8_text_closes_1007);
	UNIT_RUN(reserved_opcode_closes_1002);
	UNIT_RUN(silent_peer_closed_1001_idle);
	UNIT_RUN(unanswered_ping_drops_dead_peer);
	UNIT_RUN(data_without_pongs_keeps_peer);
	UNIT_RUN(slow_handshake_answered_408);
	UNIT_RUN(peer_not_reading_is_dropped);
	UNIT_RUN(drain_reported_after_high_water);
	UNIT_RUN(connection_limit_refuses_extra);
	UNIT_RUN(listener_freed_before_its_conns);
	teardown();
	return UNIT_MAIN_END();
}
