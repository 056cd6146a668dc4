/*
 * cscf.c - the cscf role: I-CSCF and S-CSCF in one SIP server over UDP and
 * TCP (Mw), with the registrar of reg.h behind it (DESIGN 1, 4).
 *
 *	pcscf --TCP--> [5060 TCP+UDP] --> REGISTER: reg.c (Cx UAR/MAR/SAR,
 *	                                  bindings in the store)
 *	                              --> OPTIONS to us: 200
 *	                              --> other requests: by Request-URI
 *	                                  (404 unknown, 480 not registered)
 *
 * Threads (DESIGN 6): each worker has its own TCP listener and UDP socket
 * on the shared port (SO_REUSEPORT), its own connections, its own store
 * and Cx handles (store.h: one per thread; a shared cx would serialise
 * the workers on its lock) and its own table of recent UDP transactions
 * (retransmissions get the same answer).  The registrar (nonce secret,
 * nc tracker, failure limiter, per-IMPI locks) is shared and locks inside.
 * Worker 0 also purges expired bindings every WIMS_REG_PURGE_INTERVAL_S.
 *
 * Every response goes back the way its request came: on the same TCP
 * connection, or to the source address of the UDP datagram (RFC 3581
 * symmetric response: NATs and SIPp alike expect it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/digest.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/global.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/wims.h"
#include "cscf/reg.h"
#include "hss/cx.h"
#include "role.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/txn.h"
#include "sip/uri.h"
#include "store/store.h"

#define LOG "cscf"

/* --- configuration ([cscf]) --- */

struct cscf_conf {
	char listen[128];
	char digest_algorithms[128];
	char realm[128];
	int nonce_lifetime;
	int min_expires;
	int max_expires;
	int default_expires;
	char db[512];
	char hss_db[512];
	char trusted_nodes[WIMS_CONF_MAX_VALUE];
	int max_connections;
};

static struct cscf_conf cscf_conf;

static const struct conf_key cscf_keys[] = {
	CONF_KEY_ADDR(struct cscf_conf, listen, "127.0.0.1:5060",
		      "SIP address (UDP and TCP) of the I/S-CSCF (Mw); also in Service-Route"),
	CONF_KEY_LIST(struct cscf_conf, digest_algorithms, "SHA-256, MD5",
		      "Digest algorithms offered in 401s, one WWW-Authenticate each, in this "
		      "order (RFC 8760): SHA-256, MD5"),
	CONF_KEY_STR(struct cscf_conf, realm, "", "Digest realm; empty: [global] domain"),
	CONF_KEY_INT(struct cscf_conf, nonce_lifetime, "300", 1, 86400,
		     "seconds a nonce is accepted; after it: 401 stale=true"),
	CONF_KEY_INT(struct cscf_conf, min_expires, "60", 1, 86400,
		     "shortest registration accepted (423 Interval Too Brief below it)"),
	CONF_KEY_INT(struct cscf_conf, max_expires, "7200", 1, 604800,
		     "longer registrations are shortened to this"),
	CONF_KEY_INT(struct cscf_conf, default_expires, "3600", 1, 604800,
		     "registration time when the REGISTER gives none"),
	CONF_KEY_STR(struct cscf_conf, db, "",
		     "SQLite file of the registration bindings; empty: the HSS store"),
	CONF_KEY_STR(struct cscf_conf, hss_db, "",
		     "HSS store the Cx calls read; empty: [hss] db or <data_dir>/hss.db"),
	CONF_KEY_LIST(struct cscf_conf, trusted_nodes, "",
		      "IP addresses whose integrity-protected=\"auth-done\" (trusted node "
		      "authentication) is believed; others get 403"),
	CONF_KEY_INT(struct cscf_conf, max_connections, "20000", 1, WIMS_MAX_CONNECTIONS,
		     "TCP connections each worker holds at once"),
};

static const struct conf_section cscf_section = {
	.name = "cscf",
	.summary = "I-CSCF + S-CSCF: SIP registrar (Digest MD5/SHA-256) and routing",
	.keys = cscf_keys,
	.nkeys = WIMS_ARRAY_LEN(cscf_keys),
	.target = &cscf_conf,
};

/* --- per-worker state --- */

struct cscf_worker;

struct conn {
	struct cscf_worker *w;
	struct bufferevent *bev;
	struct net_listener *from;
	struct cscf_src src;
	bool closing; /* framing lost: answer sent or sending, input discarded */
	bool shut;    /* our side half-closed, waiting for the peer's EOF */
	struct conn *prev, *next;
};

/* A recent UDP server transaction and the response it got. */
struct udp_txn {
	struct sip_txn_key key;
	int64_t until_ms;
	char *resp;
	size_t len;
};

struct cscf_worker {
	int index;
	struct event_base *base;
	struct net_listener *tcp;
	int udp_fd;
	struct event *udp_ev;
	struct event *purge;
	struct store *st;
	struct cx *cx;
	struct cscf_reg_io io; /* st and cx, for the registrar */
	struct conn *conns;
	struct udp_txn *txns; /* WIMS_CSCF_UDP_TXN_SLOTS */
	char *udp_buf;        /* WIMS_SIP_MAX_MSG + 1 */
};

static struct {
	struct wims_workers *workers;
	int nworkers;
	struct cscf_worker *w;
	struct cscf_reg *reg;
	struct cscf_reg_conf rc;
	char host[128];
	int port;
	char store_path[1024];
	char hss_path[1024];
	int error;
	char errmsg[640];
} cscf;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Printable copy of untrusted text for a log line. */
static const char *log_safe(struct slice s, char *out, size_t outsz)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len && n + 1 < outsz; i++)
		out[n++] = (s.p[i] >= 0x20 && s.p[i] < 0x7f) ? s.p[i] : '?';
	out[n] = '\0';
	return out;
}

/* --- requests other than REGISTER --- */

static const char allow[] = "Allow: REGISTER, INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, "
			    "UPDATE, PRACK, INFO, SUBSCRIBE, NOTIFY, REFER";

static void respond(const struct sip_msg *m, int status, const char *reason, const char *extra,
		    struct buf *out)
{
	struct sip_response_opts o = {.extra_headers = extra, .server = "wims-cscf"};
	uint8_t rnd[8];
	char tag[32];
	if (status >= 200 && RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    sip_tag_format(tag, sizeof(tag), rnd, sizeof(rnd)) > 0)
		o.to_tag = tag;
	sip_build_response_opts(out, m, status, reason, &o);
}

/* Is the Request-URI host ours: the home domain, or our own address? */
static bool host_is_ours(struct slice host)
{
	return slice_ieq_cstr(host, wims_global.domain) || slice_ieq_cstr(host, cscf.host) ||
	       (slice_ieq_cstr(host, "localhost") && strcmp(cscf.host, "127.0.0.1") == 0);
}

static void other_request(struct cscf_worker *w, const struct sip_msg *m, struct buf *out)
{
	struct sip_uri u;
	const char *reason = "Bad Request-URI";
	if (sip_uri_parse(&u, m->ruri, &reason) != 0) {
		respond(m, 400, reason, NULL, out);
		return;
	}
	if (u.scheme != SIP_URI_TEL && !host_is_ours(u.host)) {
		/* Not an open relay. */
		respond(m, 403, "Not our domain", NULL, out);
		return;
	}
	if (m->method_id == SIP_METHOD_OPTIONS &&
	    (u.user.len == 0 || u.scheme == SIP_URI_TEL || !slice_ieq_cstr(u.host, wims_global.domain))) {
		/* RFC 3261 11.2: our own capabilities. */
		char extra[300];
		snprintf(extra, sizeof(extra), "%s\r\nAccept: application/sdp\r\nSupported: path, outbound",
			 allow);
		respond(m, 200, "OK", extra, out);
		return;
	}
	if (m->method_id == SIP_METHOD_CANCEL) {
		respond(m, 481, "Call/Transaction Does Not Exist", NULL, out);
		return;
	}
	char impu[WIMS_IMPU_MAX];
	if (cscf_reg_impu(m->ruri, impu, sizeof(impu)) != 0) {
		respond(m, 404, "Not Found", NULL, out);
		return;
	}
	struct cx_lia lia;
	int rc = cx_lir(w->cx, impu, &lia);
	if (rc == CX_ERROR_USER_UNKNOWN) {
		respond(m, 404, "Unknown user", NULL, out);
		return;
	}
	if (rc < 0) {
		respond(m, 500, "HSS unavailable", NULL, out);
		return;
	}
	time_t now = time(NULL);
	int n = cscf_reg_count(w->st, impu, now);
	if (rc != CX_SUCCESS || n <= 0) {
		respond(m, 480, "Not registered", NULL, out);
		return;
	}
	/* Registered: delivery through the Path to the UE's P-CSCF is the
	 * terminating routing, not part of the registrar yet. */
	respond(m, 480, "Temporarily Unavailable (terminating routing not built yet)", NULL, out);
}

/* One request, whatever its transport: the response (if any) into out. */
static void request(struct cscf_worker *w, const struct sip_msg *m, const struct cscf_src *src,
		    struct buf *out)
{
	if (m->method_id == SIP_METHOD_ACK)
		return; /* no transactions to end: nothing to answer */
	if (m->method_id == SIP_METHOD_REGISTER) {
		int rc = cscf_reg_register(cscf.reg, &w->io, m, src, time(NULL), out);
		if (rc < 0)
			WIMS_ERROR(LOG, "REGISTER from %s:%d: no response built: %s", src->host,
				   src->port, wims_strerror(rc));
		return;
	}
	if (cscf_reg_tna_refused(cscf.reg, m, src)) {
		WIMS_WARN(LOG, "%.*s with integrity-protected=\"auth-done\" from %s, not a trusted "
			       "node: 403",
			  (int)m->method.len, m->method.p, src->host);
		respond(m, 403, "Trusted node authentication from an untrusted node", NULL, out);
		return;
	}
	other_request(w, m, out);
}

/* A message that failed to parse: answer it if we can (RFC 3261 8.2, 21.5.1
 * 513), else say so in the log and drop it. */
static void malformed(const struct sip_msg *m, int err, const char *reason,
		      const struct cscf_src *src, struct buf *out)
{
	if (sip_msg_can_answer(m)) {
		WIMS_INFO(LOG, "malformed request from %s:%s:%d: %s", src->proto, src->host,
			  src->port, reason);
		respond(m, sip_msg_error_status(err), reason, NULL, out);
	} else {
		WIMS_INFO(LOG, "malformed message from %s:%s:%d dropped (cannot answer): %s",
			  src->proto, src->host, src->port, reason);
	}
}

/* --- TCP --- */

static void conn_free(struct conn *c)
{
	struct cscf_worker *w = c->w;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	if (c->from)
		net_listener_conn_done(c->from);
	free(c);
}

/* After a framing error: the answer goes out, then we half-close and
 * wait (briefly) for the peer's EOF, discarding what it still sends.
 * Closing at once with unread input would make the kernel send RST, and
 * the peer would lose the 400/513 (RFC 7230 6.6 calls this lingering). */
static void conn_linger(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->shut || evbuffer_get_length(out) != 0)
		return;
	c->shut = true;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	struct timeval tv = {2, 0};
	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

/* Stream framing: one message at a time; CRLF pings answered with a
 * pong (RFC 5626 3.5.1); a framing error ends the connection after the
 * 400/513 (the next message's start is unknown). */
static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->closing) {
			evbuffer_drain(in, len);
			return;
		}
		size_t n = len < WIMS_SIP_MAX_MSG ? len : WIMS_SIP_MAX_MSG;
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		struct sip_msg m;
		const char *reason = "Bad Request";
		int rc = sip_msg_parse(&m, p, n, SIP_FRAMING_STREAM, &reason);
		if (rc == WIMS_EAGAIN && n < WIMS_SIP_MAX_MSG)
			return;
		struct buf out = BUF_INIT;
		if (rc < 0) {
			if (rc == WIMS_EAGAIN) {
				rc = WIMS_ETOOBIG;
				reason = "Message Too Large";
			}
			malformed(&m, rc, reason, &c->src, &out);
			if (out.len && !out.err)
				bufferevent_write(bev, out.p, out.len);
			buf_free(&out);
			evbuffer_drain(in, len);
			c->closing = true;
			conn_linger(c);
			return;
		}
		if (m.keepalive) {
			for (unsigned i = 0; i < m.pings; i++)
				bufferevent_write(bev, "\r\n", 2);
		} else if (m.is_request) {
			request(c->w, &m, &c->src, &out);
			if (out.len && !out.err)
				bufferevent_write(bev, out.p, out.len);
		} else {
			/* We send no requests yet: no transaction to match. */
			WIMS_DEBUG(LOG, "stray %d response from %s dropped", m.status, c->src.host);
		}
		buf_free(&out);
		evbuffer_drain(in, (size_t)rc);
	}
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	WIMS_UNUSED(bev);
	struct conn *c = arg;
	if (c->closing)
		conn_linger(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	WIMS_UNUSED(bev);
	struct conn *c = arg;
	WIMS_DEBUG(LOG, "TCP %s:%d %s", c->src.host, c->src.port,
		   (what & BEV_EVENT_TIMEOUT) ? "idle, closed"
		   : (what & BEV_EVENT_EOF)   ? "closed"
					      : "failed");
	conn_free(c);
}

static void tcp_accept(struct net_listener *nl, int fd, const struct sockaddr *peer,
		       socklen_t peerlen, void *arg)
{
	WIMS_UNUSED(peerlen);
	struct cscf_worker *w = arg;
	struct conn *c = calloc(1, sizeof(*c));
	struct bufferevent *bev =
		c ? bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev) {
		free(c);
		close(fd);
		net_listener_conn_done(nl);
		return;
	}
	c->w = w;
	c->bev = bev;
	c->from = nl;
	snprintf(c->src.proto, sizeof(c->src.proto), "tcp");
	net_addr_format_host(peer, c->src.host, sizeof(c->src.host));
	c->src.port = net_addr_port(peer);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	struct timeval idle = {WIMS_CSCF_TCP_IDLE_S, 0};
	bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* --- UDP --- */

static struct udp_txn *txn_slot(struct cscf_worker *w, const struct sip_txn_key *k)
{
	return &w->txns[sip_txn_key_hash(k) % WIMS_CSCF_UDP_TXN_SLOTS];
}

static void udp_send(struct cscf_worker *w, const char *p, size_t len, const struct sockaddr *to,
		     socklen_t tolen)
{
	if (sendto(w->udp_fd, p, len, 0, to, tolen) < 0)
		WIMS_DEBUG(LOG, "UDP send: %s", strerror(errno));
}

static void udp_one(struct cscf_worker *w, size_t n, const struct sockaddr_storage *from,
		    socklen_t fromlen)
{
	struct cscf_src src = {.proto = "udp"};
	net_addr_format_host((const struct sockaddr *)from, src.host, sizeof(src.host));
	src.port = net_addr_port((const struct sockaddr *)from);
	struct sip_msg m;
	const char *reason = "Bad Request";
	int rc;
	if (n > WIMS_SIP_MAX_MSG) {
		/* Index what fits so the 513 can still be addressed. */
		sip_msg_parse(&m, w->udp_buf, WIMS_SIP_MAX_MSG, SIP_FRAMING_DATAGRAM, &reason);
		rc = WIMS_ETOOBIG;
		reason = "Message Too Large";
	} else {
		rc = sip_msg_parse(&m, w->udp_buf, n, SIP_FRAMING_DATAGRAM, &reason);
	}
	struct buf out = BUF_INIT;
	if (rc < 0) {
		malformed(&m, rc, reason, &src, &out);
	} else if (m.keepalive) {
		/* RFC 5626 4.4.1: on UDP the keep-alive is STUN; bare CRLFs
		 * get nothing back. */
	} else if (!m.is_request) {
		WIMS_DEBUG(LOG, "stray %d response from %s dropped", m.status, src.host);
	} else {
		struct sip_txn_key key;
		bool keyed = m.method_id != SIP_METHOD_ACK &&
			     sip_txn_key_server(&key, &m, &reason) == 0;
		struct udp_txn *t = keyed ? txn_slot(w, &key) : NULL;
		int64_t now = now_ms();
		if (t && t->resp && t->until_ms > now && sip_txn_key_eq(&t->key, &key)) {
			/* RFC 3261 17.2.2: a retransmission gets the same answer. */
			udp_send(w, t->resp, t->len, (const struct sockaddr *)from, fromlen);
			return;
		}
		request(w, &m, &src, &out);
		if (t && out.len && !out.err) {
			char *copy = malloc(out.len);
			if (copy) {
				memcpy(copy, out.p, out.len);
				free(t->resp);
				t->key = key;
				t->resp = copy;
				t->len = out.len;
				t->until_ms = now + SIP_TIMER_J_MS;
			}
		}
	}
	if (out.len && !out.err)
		udp_send(w, out.p, out.len, (const struct sockaddr *)from, fromlen);
	buf_free(&out);
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(what);
	struct cscf_worker *w = arg;
	/* a bounded batch per wake-up, so TCP work interleaves */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, w->udp_buf, WIMS_SIP_MAX_MSG + 1, 0,
				     (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		udp_one(w, (size_t)n, &from, fromlen);
	}
}

/* --- expiry --- */

static void purge_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	struct cscf_worker *w = arg;
	int rc = cscf_reg_purge(cscf.reg, &w->io, time(NULL));
	if (rc > 0)
		WIMS_INFO(LOG, "%d expired bindings removed", rc);
	else if (rc < 0)
		WIMS_WARN(LOG, "purging expired bindings: %s", wims_strerror(rc));
}

/* --- start and stop --- */

static void fail_worker(const char *what, const char *detail)
{
	if (!cscf.error) {
		cscf.error = WIMS_EIO;
		snprintf(cscf.errmsg, sizeof(cscf.errmsg), "%s: %s", what, detail);
	}
}

static void start_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	struct cscf_worker *w = &cscf.w[index];
	char err[512];
	w->index = index;
	w->base = base;
	w->udp_fd = -1;
	w->udp_buf = malloc(WIMS_SIP_MAX_MSG + 1);
	w->txns = calloc(WIMS_CSCF_UDP_TXN_SLOTS, sizeof(*w->txns));
	if (!w->udp_buf || !w->txns) {
		fail_worker("start", "out of memory");
		return;
	}
	if (store_open(cscf.store_path, &w->st, err, sizeof(err)) != 0) {
		fail_worker("store", err);
		return;
	}
	/* One Cx handle per worker: a shared one serialises every query on
	 * its lock (cx.h). */
	w->cx = cx_open(cscf.hss_path, err, sizeof(err));
	if (!w->cx) {
		fail_worker("HSS store", err);
		return;
	}
	w->io = (struct cscf_reg_io){w->st, w->cx};
	w->tcp = net_listen_tcp(base, cscf.host, cscf.port, true, tcp_accept, w, err, sizeof(err));
	if (!w->tcp) {
		fail_worker("listen (TCP)", err);
		return;
	}
	net_listener_set_max(w->tcp, cscf_conf.max_connections);
	w->udp_fd = net_bind_udp(cscf.host, cscf.port, true, err, sizeof(err));
	if (w->udp_fd < 0) {
		fail_worker("listen (UDP)", err);
		return;
	}
	w->udp_ev = event_new(base, w->udp_fd, EV_READ | EV_PERSIST, udp_read_cb, w);
	if (!w->udp_ev || event_add(w->udp_ev, NULL) != 0) {
		fail_worker("start", "cannot add events");
		return;
	}
	if (index == 0) {
		struct timeval every = {WIMS_REG_PURGE_INTERVAL_S, 0};
		w->purge = event_new(base, -1, EV_PERSIST, purge_cb, w);
		if (!w->purge || event_add(w->purge, &every) != 0) {
			fail_worker("start", "cannot add the purge timer");
			return;
		}
	}
}

static void stop_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	struct cscf_worker *w = &cscf.w[index];
	net_listener_free(w->tcp);
	w->tcp = NULL;
	while (w->conns)
		conn_free(w->conns);
	if (w->udp_ev)
		event_free(w->udp_ev);
	w->udp_ev = NULL;
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	w->udp_fd = -1;
	if (w->purge)
		event_free(w->purge);
	w->purge = NULL;
	if (w->txns)
		for (size_t i = 0; i < WIMS_CSCF_UDP_TXN_SLOTS; i++)
			free(w->txns[i].resp);
	free(w->txns);
	w->txns = NULL;
	free(w->udp_buf);
	w->udp_buf = NULL;
	store_close(w->st);
	w->st = NULL;
	cx_close(w->cx);
	w->cx = NULL;
}

/* [cscf] into the registrar's settings. */
static int resolve_conf(struct cscf_reg_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->domain, sizeof(rc->domain), "%s", wims_global.domain);
	snprintf(rc->realm, sizeof(rc->realm), "%s",
		 cscf_conf.realm[0] ? cscf_conf.realm : wims_global.domain);
	const char *cur = cscf_conf.digest_algorithms, *item;
	size_t n;
	while ((n = conf_list_next(&cur, &item)) > 0) {
		enum digest_alg alg;
		if (digest_alg_parse((struct slice){item, n}, &alg) != 0 ||
		    rc->nalgs == WIMS_ARRAY_LEN(rc->algs)) {
			WIMS_ERROR(LOG, "[cscf] digest_algorithms: \"%.*s\" is not MD5, SHA-256, "
					"MD5-sess or SHA-256-sess",
				   (int)n, item);
			return WIMS_ECONF;
		}
		rc->algs[rc->nalgs++] = alg;
	}
	if (rc->nalgs == 0) {
		WIMS_ERROR(LOG, "[cscf] digest_algorithms is empty");
		return WIMS_ECONF;
	}
	if (cscf_conf.min_expires > cscf_conf.max_expires ||
	    cscf_conf.default_expires < cscf_conf.min_expires ||
	    cscf_conf.default_expires > cscf_conf.max_expires) {
		WIMS_ERROR(LOG, "[cscf] needs min_expires <= default_expires <= max_expires");
		return WIMS_ECONF;
	}
	rc->nonce_lifetime_s = (uint32_t)cscf_conf.nonce_lifetime;
	rc->min_expires = (uint32_t)cscf_conf.min_expires;
	rc->max_expires = (uint32_t)cscf_conf.max_expires;
	rc->default_expires = (uint32_t)cscf_conf.default_expires;
	char hp[160];
	if (strchr(cscf.host, ':'))
		snprintf(hp, sizeof(hp), "[%s]:%d", cscf.host, cscf.port);
	else
		snprintf(hp, sizeof(hp), "%s:%d", cscf.host, cscf.port);
	snprintf(rc->service_route, sizeof(rc->service_route), "<sip:orig@%s;lr>", hp);
	snprintf(rc->server_name, sizeof(rc->server_name), "sip:%s", hp);
	snprintf(rc->trusted_nodes, sizeof(rc->trusted_nodes), "%s", cscf_conf.trusted_nodes);
	return 0;
}

/* mkdir -p of the directory part of path (mode 0700). */
static int make_parent_dirs(const char *path)
{
	char dir[1024];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return WIMS_ETOOBIG;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return WIMS_EIO;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static void cscf_stop(void);

static int cscf_start(void)
{
	int rc;
	if (conf_addr_split(cscf_conf.listen, cscf.host, sizeof(cscf.host), &cscf.port)) {
		WIMS_ERROR(LOG, "bad address in [cscf] listen");
		return WIMS_ECONF;
	}
	/* The listen address goes in Service-Route and the S-CSCF name: it
	 * must be one others can reach. */
	if (!cscf.host[0] || strcmp(cscf.host, "0.0.0.0") == 0 || strcmp(cscf.host, "::") == 0) {
		WIMS_ERROR(LOG, "[cscf] listen must be a concrete address (it goes in Service-Route)");
		return WIMS_ECONF;
	}
	char claim_err[256];
	if (net_port_claim(cscf.host, cscf.port, true, true, claim_err, sizeof(claim_err))) {
		WIMS_ERROR(LOG, "%s", claim_err);
		return WIMS_EEXIST;
	}
	if ((rc = resolve_conf(&cscf.rc)))
		return rc;

	char *hss_path = cscf.hss_path;
	if (cscf_conf.hss_db[0])
		snprintf(hss_path, sizeof(cscf.hss_path), "%s", cscf_conf.hss_db);
	else if (cx_default_store_path(hss_path, sizeof(cscf.hss_path)))
		return WIMS_ECONF;
	if (cscf_conf.db[0])
		snprintf(cscf.store_path, sizeof(cscf.store_path), "%s", cscf_conf.db);
	else
		snprintf(cscf.store_path, sizeof(cscf.store_path), "%s", hss_path);
	if (make_parent_dirs(hss_path) || make_parent_dirs(cscf.store_path)) {
		WIMS_ERROR(LOG, "cannot create the directory of %s / %s", hss_path, cscf.store_path);
		return WIMS_EIO;
	}
	/* Nonces die with the process: after a restart a client's next
	 * REGISTER is simply challenged again. */
	uint8_t secret[32];
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		WIMS_ERROR(LOG, "no randomness for the nonce secret");
		cscf_stop();
		return WIMS_EIO;
	}
	cscf.reg = cscf_reg_new(&cscf.rc, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!cscf.reg) {
		WIMS_ERROR(LOG, "cannot create the registrar");
		cscf_stop();
		return WIMS_ENOMEM;
	}

	int n = wims_global_workers();
	cscf.w = calloc((size_t)n, sizeof(*cscf.w));
	cscf.workers = cscf.w ? workers_new(n, "cscf") : NULL;
	if (!cscf.workers) {
		WIMS_ERROR(LOG, "cannot start %d worker threads", n);
		cscf_stop();
		return WIMS_ENOMEM;
	}
	cscf.nworkers = workers_count(cscf.workers);
	cscf.error = 0;
	rc = workers_run_each(cscf.workers, start_on_worker, NULL);
	if (rc || cscf.error) {
		WIMS_ERROR(LOG, "%s", cscf.error ? cscf.errmsg : wims_strerror(rc));
		rc = rc ? rc : cscf.error;
		cscf_stop();
		return rc;
	}
	char algs[64] = "";
	for (unsigned i = 0; i < cscf.rc.nalgs; i++) {
		size_t l = strlen(algs);
		snprintf(algs + l, sizeof(algs) - l, "%s%s", i ? ", " : "",
			 digest_alg_name(cscf.rc.algs[i]));
	}
	char safe[128];
	WIMS_INFO(LOG, "SIP on %s (UDP, TCP), %d workers; realm %s, Digest %s; HSS %s; "
		       "bindings in %s; trusted nodes: %s",
		  cscf_conf.listen, cscf.nworkers, cscf.rc.realm, algs, hss_path, cscf.store_path,
		  cscf_conf.trusted_nodes[0]
			  ? log_safe(slice_from_cstr(cscf_conf.trusted_nodes), safe, sizeof(safe))
			  : "none");
	return 0;
}

static void cscf_stop(void)
{
	if (cscf.workers) {
		workers_run_each(cscf.workers, stop_on_worker, NULL);
		workers_stop_and_free(cscf.workers);
		cscf.workers = NULL;
	}
	free(cscf.w);
	cscf.w = NULL;
	cscf_reg_free(cscf.reg);
	cscf.reg = NULL;
}

const struct role cscf_role = {
	.name = "cscf",
	.summary = "I-CSCF + S-CSCF: SIP registrar (Digest MD5/SHA-256) over UDP and TCP",
	.conf = &cscf_section,
	.start = cscf_start,
	.stop = cscf_stop,
};
