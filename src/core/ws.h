/*
 * ws.h - WebSocket (RFC 6455) over a bufferevent, TLS or plain, as SIP
 * over WebSocket (RFC 7118) needs it: server side for the eP-CSCF (W2),
 * client side for the load generator and tests.
 *
 * The HTTP/1.1 upgrade handshake is ours (a bounded parser that never
 * allocates, below, exposed for tests and fuzzing); framing after the
 * upgrade is wslay's event API.  On top of wslay we add: whole-message
 * reassembly bounded by max_message (close 1009), UTF-8 validation of text
 * messages (close 1007), keep-alive pings, dead peer detection (a ping
 * left unanswered) and an idle timeout, a bounded send queue
 * (backpressure), and a close handshake with a timeout.
 *
 * Threads: a ws_conn belongs to the thread of its bufferevent's base; all
 * ws_conn_* calls are made there.  To send on a conn owned by another
 * worker, workers_post() to ws_conn_worker(c) and look the conn up again
 * there by its id (it may be gone by then).
 *
 * Lifetime (the one rule to remember):
 *  - Every ws_conn returned by ws_conn_accept / ws_conn_connect (and every
 *    conn a ws_listener creates) gets exactly one on_close call, whether it
 *    ever opened or not.  on_close always comes from the event loop, never
 *    from inside a ws_* function you called (so calling ws_conn_close or
 *    ws_conn_send from on_message is safe).
 *  - After on_close returns the library frees the conn and its bufferevent
 *    (and the socket): the pointer must not be used again, nor its path,
 *    origin or peer slices.  Drop it from your tables inside on_close.
 *  - on_open comes at most once, before any on_message.
 */
#ifndef WIMS_CORE_WS_H
#define WIMS_CORE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/slice.h"

struct bufferevent;
struct event_base;
struct net_listener;
struct ws_conn;
struct ws_listener;

/* RFC 6455 7.4.1 status codes we use. */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,  /* also our idle timeout */
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,   /* close frame without a code */
	WS_CLOSE_ABNORMAL = 1006,    /* no close frame: TCP/TLS dropped, handshake failed */
	WS_CLOSE_INVALID_DATA = 1007,/* text message not UTF-8 */
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

struct ws_callbacks {
	/* Upgrade done (server: 101 sent; client: 101 verified). */
	void (*on_open)(struct ws_conn *c, void *arg);
	/* One whole message; p is valid only during the call (not NUL
	 * terminated).  Text messages are valid UTF-8. */
	void (*on_message)(struct ws_conn *c, const char *p, size_t len, bool binary, void *arg);
	/* Exactly once; see the lifetime rule above.  code is the status of
	 * whoever closed first: the peer's close code (WS_CLOSE_NO_STATUS if
	 * its frame had none) when the peer initiated, ours when we did
	 * (including 1009/1007/1002/1001 we sent on error or idle), and
	 * WS_CLOSE_ABNORMAL when the transport dropped or the handshake failed
	 * (then ws_conn_http_status tells the HTTP status, if any).
	 * ws_conn_close_reason gives the text. */
	void (*on_close)(struct ws_conn *c, int code, void *arg);
	/* Optional (NULL): the send queue went back under WIMS_WS_LOW_WATER
	 * after ws_conn_queued exceeded WIMS_WS_HIGH_WATER. */
	void (*on_drain)(struct ws_conn *c, void *arg);
};

struct ws_server_opts {
	/* RFC 7118: the client's Sec-WebSocket-Protocol list must contain it
	 * (else 400 before the upgrade) and the 101 names it.  NULL: no
	 * subprotocol is required or answered.  Must outlive the conns. */
	const char *subprotocol;
	/* Origin policy, before the upgrade (TR 33.871: foreign Origin
	 * refused): return 0 to allow, anything else answers 403 "Origin not
	 * allowed".  origin.p is NULL when the request had no Origin header
	 * (non-browser client).  arg is the arg given with the callbacks.
	 * NULL allows every origin. */
	int (*check_origin)(void *arg, struct slice origin);
	size_t max_message;       /* 0: WIMS_WS_MAX_MSG (capped by it) */
	int ping_interval_ms;     /* 0: WIMS_WS_PING_INTERVAL_MS; < 0: never */
	/* A peer that sends nothing (no pong, no data) within this after our
	 * ping is dead: the transport is dropped at once, no close handshake
	 * (on_close WS_CLOSE_ABNORMAL, "no answer to ping").  0: the ping
	 * interval; < 0: never (only the idle timeout then). */
	int pong_timeout_ms;
	int idle_timeout_ms;      /* 0: WIMS_WS_IDLE_TIMEOUT_MS; < 0: never */
	int handshake_timeout_ms; /* 0: WIMS_HANDSHAKE_TIMEOUT_MS (TLS + upgrade) */
};

struct ws_client_opts {
	const char *host;         /* Host header value, e.g. "127.0.0.1:7443" */
	const char *path;         /* request target; NULL = "/" */
	const char *origin;       /* Origin header; NULL = none */
	const char *subprotocol;  /* offered and required in the 101; NULL = none */
	size_t max_message;       /* 0: WIMS_WS_MAX_MSG */
	int ping_interval_ms;     /* 0 or < 0: never (browsers do not ping) */
	int pong_timeout_ms;      /* as in ws_server_opts (with pings only) */
	int idle_timeout_ms;      /* 0 or < 0: never */
	int handshake_timeout_ms; /* 0: WIMS_HANDSHAKE_TIMEOUT_MS */
};

/* Server side of one connection.  Takes ownership of bev (a server
 * bufferevent_openssl from tls_bev_accept, or a plain socket bufferevent)
 * whatever happens; peer (may be NULL) is copied.  opts and cbs are
 * copied; the strings they point to must outlive the conn.  Reads the
 * upgrade request (WIMS_WS_MAX_HANDSHAKE bytes at most, within
 * handshake_timeout_ms), answers 101 or a refusal (a real HTTP response,
 * then close: 400, 403, 426 + Sec-WebSocket-Version: 13, 431, 408).
 * Returns NULL only if out of memory (bev freed, no callback). */
struct ws_conn *ws_conn_accept(struct bufferevent *bev, const struct sockaddr *peer,
			       const struct ws_server_opts *opts,
			       const struct ws_callbacks *cbs, void *arg);

/* Client side: sends the upgrade request (random 16-byte key) on bev,
 * which may still be connecting (net_connect_tcp), and verifies the 101
 * (status, Upgrade, Connection, Sec-WebSocket-Accept, subprotocol).  Frames
 * are masked (RFC 6455 5.3).  Takes ownership of bev.  NULL only if out of
 * memory or opts->host is NULL (bev freed, no callback). */
struct ws_conn *ws_conn_connect_opts(struct bufferevent *bev, const struct ws_client_opts *opts,
				     const struct ws_callbacks *cbs, void *arg);

/* ws_conn_connect_opts with the other options at their defaults. */
struct ws_conn *ws_conn_connect(struct bufferevent *bev, const char *host_header,
				const char *path, const char *origin,
				const char *subprotocol, const struct ws_callbacks *cbs,
				void *arg);

/* Queues one message (text must be UTF-8; not checked).  Returns 0;
 * WIMS_ECLOSED if the conn is not open or is closing; WIMS_ETOOBIG if len
 * exceeds the conn's max_message (nothing sent) or if the send queue would
 * pass WIMS_WS_MAX_QUEUED: a peer that does not read is then dropped
 * (on_close WS_CLOSE_ABNORMAL, "send queue full"); WIMS_ENOMEM. */
int ws_conn_send(struct ws_conn *c, const char *p, size_t len, bool binary);

/* Starts the close handshake with code (1000-4999, not 1005/1006: else
 * 1000 is sent) and reason (may be NULL; cut to 123 bytes).  The TCP
 * connection ends when the peer answers or after WIMS_WS_CLOSE_TIMEOUT_MS.
 * Before the upgrade completed it just drops the connection.  on_close
 * follows from the loop.  Calling it again, or after a close started, does
 * nothing. */
void ws_conn_close(struct ws_conn *c, int code, const char *reason);

/* Bytes accepted by ws_conn_send and not yet handed to the kernel
 * (framing overhead included): stop sending above WIMS_WS_HIGH_WATER. */
size_t ws_conn_queued(const struct ws_conn *c);

void ws_conn_set_data(struct ws_conn *c, void *data);
void *ws_conn_get_data(const struct ws_conn *c);

/* Unique in the process for its lifetime, never 0, never reused: the
 * flow token's key. */
uint64_t ws_conn_id(const struct ws_conn *c);

/* workers_current() of the thread that created the conn (-1 outside a
 * pool). */
int ws_conn_worker(const struct ws_conn *c);

/* True between on_open and the start of the close. */
bool ws_conn_is_open(const struct ws_conn *c);

/* The request target and the Origin of the upgrade (server side; the
 * client's own on a client conn), owned by the conn, NUL-terminated after
 * len; empty (p NULL) before the upgrade or when absent. */
struct slice ws_conn_path(const struct ws_conn *c);
struct slice ws_conn_origin(const struct ws_conn *c);

/* The peer address given to ws_conn_accept (or the connected address on a
 * client conn), or NULL; and as text "127.0.0.1:5060" / "[::1]:7443". */
const struct sockaddr *ws_conn_peer(const struct ws_conn *c);
const char *ws_conn_peer_str(const struct ws_conn *c);

/* The underlying bufferevent, for tls_peer_name / tls_bev_ssl.  Do not
 * set its callbacks, read or write it. */
struct bufferevent *ws_conn_bufferevent(struct ws_conn *c);

/* The HTTP status of the handshake: the one we answered (server) or
 * received (client); 0 if none yet. */
int ws_conn_http_status(const struct ws_conn *c);

/* Why the conn closed, static text ("normal", "idle", "message too big",
 * "Origin not allowed", the peer's reason is not kept); "" while open. */
const char *ws_conn_close_reason(const struct ws_conn *c);

/* --- listener: accept + TLS + ws_conn_accept + connection limit ------- */

/* Listens on host:port (net_listen_tcp rules) on base and turns every
 * accepted connection into a ws_conn (TLS when tls != NULL, plain
 * otherwise), counting it against the listener's connection limit until
 * its on_close.  opts, cbs copied; arg given to every callback.  Returns
 * NULL and err on failure. */
struct ws_listener *ws_listener_new(struct event_base *base, const char *host, int port,
				    bool reuseport, SSL_CTX *tls,
				    const struct ws_server_opts *opts,
				    const struct ws_callbacks *cbs, void *arg, char *err,
				    size_t errsz);
int ws_listener_port(const struct ws_listener *l);
struct net_listener *ws_listener_net(struct ws_listener *l);
/* Stops accepting; open conns keep running.  On base's thread; NULL ok. */
void ws_listener_free(struct ws_listener *l);

/* --- the handshake, pure functions (no I/O, no allocation) ------------- */

/* Length of a Sec-WebSocket-Accept value (base64 of a SHA-1). */
#define WS_ACCEPT_LEN 28
/* Length of a Sec-WebSocket-Key value (base64 of 16 bytes). */
#define WS_KEY_LEN 24

/* Sec-WebSocket-Protocol header lines kept per request. */
#define WS_MAX_PROTOCOL_HEADERS 4

/* The parts of an upgrade request, slices into the parsed buffer (values
 * trimmed; p NULL when absent). */
struct ws_handshake {
	struct slice method, path, host, upgrade, connection, key, version, origin;
	/* Each Sec-WebSocket-Protocol line (a comma-separated list). */
	struct slice protocols[WS_MAX_PROTOCOL_HEADERS];
	unsigned nprotocols;
	int status;         /* on refusal: the HTTP status to answer */
	const char *reason; /* on refusal: static text for the body */
};

/* Parses an HTTP/1.1 upgrade request from p[0..len) (no NUL needed) and
 * checks it against RFC 6455 4.2.1: GET, HTTP/1.1, Host, Upgrade:
 * websocket, Connection containing Upgrade, Sec-WebSocket-Key (base64 of
 * 16 bytes), Sec-WebSocket-Version 13.  Returns the length of the request
 * (through the blank line) when complete and valid; WIMS_EAGAIN if more
 * bytes are needed (and len < max); otherwise a negative WIMS_E* with
 * hs->status and hs->reason set: 400 malformed, 405 not GET, 426 wrong
 * version, 431 (WIMS_ETOOBIG) if no end of headers within max bytes.
 * Subprotocol and Origin policy are the caller's (ws_conn_accept applies
 * them with ws_handshake_has_protocol and check_origin). */
int ws_handshake_parse(const char *p, size_t len, size_t max, struct ws_handshake *hs);

/* True if one of the comma-separated Sec-WebSocket-Protocol lists
 * contains proto (exact, case-sensitive token match, RFC 6455 4.1). */
bool ws_handshake_has_protocol(const struct ws_handshake *hs, const char *proto);

/* Computes the Sec-WebSocket-Accept for key (SHA-1 via EVP, base64) into
 * out (WS_ACCEPT_LEN + 1 bytes, NUL-terminated).  Returns 0 or WIMS_EIO. */
int ws_accept_key(struct slice key, char out[WS_ACCEPT_LEN + 1]);

/* Formats the 101 answer for a parsed request (subprotocol may be NULL)
 * into out.  Returns its length or WIMS_ETOOBIG. */
int ws_handshake_format_101(const struct ws_handshake *hs, const char *subprotocol, char *out,
			    size_t outsz);

/* Formats a refusal: status line, Content-Type text/plain, Content-Length,
 * Connection: close, Sec-WebSocket-Version: 13 for 426, body = reason.
 * Returns its length or WIMS_ETOOBIG. */
int ws_handshake_format_refusal(int status, const char *reason, char *out, size_t outsz);

/* Parses a server's answer to our request: complete headers, status 101,
 * Upgrade websocket, Connection upgrade, Sec-WebSocket-Accept equal to
 * accept, and Sec-WebSocket-Protocol equal to subprotocol (when not NULL).
 * Returns the response length; WIMS_EAGAIN; or a negative WIMS_E* with
 * *status (the HTTP status, 0 if unreadable) and *reason set. */
int ws_handshake_parse_response(const char *p, size_t len, size_t max,
				const char accept[WS_ACCEPT_LEN + 1], const char *subprotocol,
				int *status, const char **reason);

#endif
