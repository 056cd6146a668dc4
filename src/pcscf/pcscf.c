/*
 * pcscf.c - the eP-CSCF role: SIP over secure WebSocket from the WIC (W2,
 * RFC 7118) on one side, SIP over TCP/UDP to the IMS core (Mw) on the
 * other (DESIGN 1, 4; TR 33.871 6.1.1).
 *
 *	browser ==WSS 7443==> [ws flow] --TCP--> cscf 127.0.0.1:5060
 *	                      [Mw 5070 TCP+UDP] <-- responses, requests for flows
 *
 * What it enforces:
 *  - Origin allow-list before the upgrade (TR 33.871 NOTE in every
 *    scenario): a foreign or missing Origin gets HTTP 403 and a log line.
 *  - Each WebSocket is a flow (RFC 5626) with an unforgeable token
 *    (token.h) in the Path it adds to REGISTER (RFC 3327) and in the
 *    branch of its Via, so responses and terminating requests find the
 *    flow again without shared state, and a forged token finds nothing.
 *  - The challenge and the credentials pass unchanged (scenario 1: the
 *    core authenticates); the 200 OK binds the IMPI and the registered
 *    IMPUs to the flow (ident.h).  Other requests must come from a bound
 *    identity and leave with our P-Asserted-Identity (TS 24.229 5.2.6.3,
 *    RFC 3325), and the Service-Route (RFC 3608) in front.
 *  - Calls (calls.md): dialog-forming requests get our Record-Route
 *    <sip:TOKEN@mw;transport=tcp;lr> both ways, so in-dialog requests
 *    come back through the same flow; in-dialog requests from a flow
 *    lose the Route entries naming us and go to the core over TCP.
 *    Requests from the core keep their P-Asserted-Identity (the WIC
 *    shows who calls).  A CANCEL has its INVITE's branch on either side
 *    (RFC 3261 9.1; txn.h keeps the core's INVITEs for that).
 *  - A closed WebSocket is a dead flow: requests the core sends to it get
 *    430 Flow Failed at once (RFC 5626 5.3, DESIGN 4 step 5), and so do
 *    its INVITEs still ringing when it closes.  A WebSocket that answers
 *    no ping within ping_interval_ms is closed as dead (ws.h).
 *  - The client never hangs: an unreachable core is 503 at once, a silent
 *    one 408 after the RFC 3261 timers (txn.h).
 *  - Trusted node (TR 33.871 6.1.2, 6.1.3; bearer.h): a REGISTER with
 *    "Authorization: Bearer" is held while its token is validated (cache,
 *    JWKS, introspection), checked against the flow's Origin, its To and
 *    From (REQ 2.4) and the WWSF's pool (REQ 3.2), and forwarded with the
 *    TNA Authorization and P-WWSF-Identity (REQ 2.3); the 200 OK binds the
 *    token's IMPI and, of the IMPUs registered, only the token's (REQ
 *    2.4), until the token's exp at the latest.  No client may send
 *    P-WWSF-Identity or integrity-protected itself.
 *
 * Threads (DESIGN 6): each worker has its own WSS listener, Mw TCP
 * listener and UDP socket on the shared ports (SO_REUSEPORT), its own
 * connection to the core, its own flow and transaction tables.  A flow
 * belongs to the worker of its WebSocket.  When a message for a flow
 * arrives on another worker (a response from the core on a connection the
 * core opened, a request from the core on any Mw socket), that worker
 * reads the owning worker's index from the flow token and hands a copy of
 * the message over with workers_post(); the owner looks the flow up in its
 * own table.  Likewise a reply that must leave on a core connection owned
 * by another worker is posted to that worker.  Nothing is shared between
 * workers but read-only start-up data (config, TLS context, token key).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/global.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"
#include "core/ws.h"
#include "pcscf/bearer.h"
#include "pcscf/flow.h"
#include "pcscf/fwd.h"
#include "pcscf/ident.h"
#include "pcscf/token.h"
#include "pcscf/txn.h"
#include "role.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"
#include "sip/txn.h"
#include "sip/uri.h"
#include "sip/via.h"

#define LOG "pcscf"

/* --- configuration ([pcscf]) --- */

struct pcscf_conf {
	char listen[128];
	char mw_listen[128];
	char cscf_addr[128];
	char allowed_origins[WIMS_CONF_MAX_VALUE];
	int max_connections;
	int ping_interval_ms;
	/* Trusted node (tna.md 5) */
	char waf_issuer[256];
	char waf_jwks[512];
	char waf_introspect[512];
	char waf_ca[512];
	char waf_client_cert[512];
	char waf_client_key[512];
	char bearer_audience[256];
	char bearer_scope[256];
	int bearer_skew_s;
	int bearer_cache;
	int jwks_refresh_s;
	char wwsf_origins[WIMS_CONF_MAX_VALUE];
	char wwsf_pools[WIMS_CONF_MAX_VALUE];
};

static struct pcscf_conf pcscf_conf;

static const struct conf_key pcscf_keys[] = {
	CONF_KEY_ADDR(struct pcscf_conf, listen, "127.0.0.1:7443",
		      "WSS address of the WIC's SIP over WebSocket (W2, RFC 7118; any path)"),
	CONF_KEY_ADDR(struct pcscf_conf, mw_listen, "127.0.0.1:5070",
		      "SIP address (TCP and UDP) towards the core (Mw); written in our Via and Path"),
	CONF_KEY_ADDR(struct pcscf_conf, cscf_addr, "127.0.0.1:5060",
		      "I/S-CSCF that requests from WebSocket flows go to, over TCP"),
	CONF_KEY_LIST(struct pcscf_conf, allowed_origins,
		      "https://127.0.0.1:8443, https://localhost:8443, https://127.0.0.1:8446",
		      "Origins (scheme://host[:port]) allowed to open the WebSocket; "
		      "others get HTTP 403 (TR 33.871)"),
	CONF_KEY_INT(struct pcscf_conf, max_connections, "20000", 1, WIMS_MAX_CONNECTIONS,
		     "WebSocket connections each worker holds at once"),
	CONF_KEY_INT(struct pcscf_conf, ping_interval_ms, "30000", -1, 3600000,
		     "WebSocket ping after this many ms of silence (keep-alive); a flow that "
		     "answers no ping within as long again is closed as dead; -1 never"),
	CONF_KEY_STR(struct pcscf_conf, waf_issuer, "https://127.0.0.1:9443",
		     "Issuer (iss) that Bearer access tokens must carry: the WAF (TR 33.871 6.1.2)"),
	CONF_KEY_STR(struct pcscf_conf, waf_jwks, "https://127.0.0.1:9443/jwks.json",
		     "The WAF's token keys (JWKS): an https URL, or a file path for deployments "
		     "without W5; empty = Bearer tokens refused (401)"),
	CONF_KEY_STR(struct pcscf_conf, waf_introspect, "https://127.0.0.1:9443/introspect",
		     "RFC 7662 introspection URL (W5) for opaque tokens, asked over mutual TLS; "
		     "empty = opaque tokens refused"),
	CONF_KEY_STR(struct pcscf_conf, waf_ca, "",
		     "PEM file of the roots that verify the WAF's certificate; empty = "
		     "[global] tls_cert (the demo's self-signed certificate)"),
	CONF_KEY_STR(struct pcscf_conf, waf_client_cert, "",
		     "Our client certificate (PEM) towards the WAF (W5); empty = "
		     "data_dir/pcscf-client/cert.pem, created self-signed if missing"),
	CONF_KEY_STR(struct pcscf_conf, waf_client_key, "",
		     "Private key of waf_client_cert; empty = data_dir/pcscf-client/key.pem"),
	CONF_KEY_STR(struct pcscf_conf, bearer_audience, "",
		     "Audience (aud) a token must name; empty = \"sip:\" + [global] domain"),
	CONF_KEY_STR(struct pcscf_conf, bearer_scope, "webrtc-ims-client-access-to-ims",
		     "Scope a token must carry (TR 33.871 6.1.2.2 step 2); else 403 "
		     "insufficient_scope; empty = none required"),
	CONF_KEY_INT(struct pcscf_conf, bearer_skew_s, "30", 0, 600,
		     "Clock skew allowed on a token's exp, nbf and iat (seconds)"),
	CONF_KEY_INT(struct pcscf_conf, bearer_cache, "65536", 0, 16777216,
		     "Validated tokens kept (by SHA-256) until they expire, so a re-REGISTER "
		     "skips the signature check; 0 = no cache"),
	CONF_KEY_INT(struct pcscf_conf, jwks_refresh_s, "300", 0, 86400,
		     "Fetch the JWKS again this often (an unknown kid also refreshes it, at most "
		     "once per 10 s); 0 = only on an unknown kid"),
	CONF_KEY_LIST(struct pcscf_conf, wwsf_origins,
		      "wwsf.ims.example.org=https://127.0.0.1:8443, "
		      "webshop.example.net=https://127.0.0.1:8446",
		      "WWSF=ORIGIN items: a token issued for a WWSF is accepted only on a "
		      "WebSocket opened from its Origin (else 403)"),
	CONF_KEY_LIST(struct pcscf_conf, wwsf_pools, "webshop.example.net=pool*@ims.example.org",
		      "WWSF=IMPI-glob items (TR 33.871 REQ 3.2 NOTE 6): a token of that WWSF must "
		      "name an IMPI matching one of its globs (else 403)"),
};

static const struct conf_section pcscf_section = {
	.name = "pcscf",
	.summary = "eP-CSCF: SIP over WebSocket from the WIC to the IMS core",
	.keys = pcscf_keys,
	.nkeys = WIMS_ARRAY_LEN(pcscf_keys),
	.target = &pcscf_conf,
};

/* --- per-worker state --- */

struct pcscf_worker;

/* A TCP connection on the core side: ours to cscf_addr, or one the core
 * opened to mw_listen.  Both carry requests and responses either way. */
struct link {
	struct pcscf_worker *w;
	struct bufferevent *bev;
	uint64_t id;                /* per worker, from 1; 0 means UDP */
	uint64_t gen;               /* ours to the core: which attempt */
	bool out;                   /* ours to cscf_addr */
	struct net_listener *from;  /* accepted: its listener */
	char peer[NET_ADDR_STRLEN];
	struct link *prev, *next;
};

struct pcscf_worker {
	int index;
	struct event_base *base;
	struct ws_listener *ws;
	struct net_listener *mw;
	int udp_fd;
	struct event *udp_ev;
	struct event *tick;
	struct pcscf_flows flows;
	struct pcscf_txns txns;    /* from flows to the core */
	struct pcscf_txns in_txns; /* INVITEs from the core to flows */
	struct link *out;   /* to cscf_addr; NULL while down */
	uint64_t out_gen;
	struct link *links; /* every link, ours included */
	uint64_t next_link_id;
	char *udp_buf;      /* WIMS_SIP_MAX_MSG + 1 */
	bool stopping;
};

/* Read-only after start(). */
static struct {
	struct wims_workers *workers;
	int nworkers;
	struct pcscf_worker *w;
	SSL_CTX *tls;
	uint8_t key[PCSCF_TOKEN_KEY_LEN];
	char ws_host[128];
	int ws_port;
	char mw_host[128];
	int mw_port;
	char cscf_host[128];
	int cscf_port;
	char mw_hostport[160]; /* "127.0.0.1:5070", "[::1]:5070" */
	char ws_hostport[160];
	char ws_name[128];     /* the WSS host in Route entries that name us */
	/* The To tag of every answer we make ourselves (RFC 3261 8.2.6.2):
	 * an ACK carrying it acknowledges one of ours and goes no further
	 * (RFC 3261 17.2.1), without a table of what we answered. */
	char local_tag[32];
	struct pcscf_self self;
	struct ws_server_opts ws_opts;
	int error;
	char errmsg[320];
} pcscf;

/* Flows open in every worker: the stop waits for their close handshakes. */
static atomic_int open_flows;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The token's exp is on this clock. */
static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hostport(char *out, size_t outsz, const char *host, int port)
{
	if (strchr(host, ':'))
		snprintf(out, outsz, "[%s]:%d", host, port);
	else
		snprintf(out, outsz, "%s:%d", host, port);
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

/* RFC 6455 5.6: a text frame must be UTF-8; anything else goes binary
 * (RFC 7118 4 allows both). */
static bool is_utf8(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		/* overlongs and surrogates */
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
			return false;
		i += n + 1;
	}
	return true;
}

/* --- sending --- */

static void flow_send(struct pcscf_flow *f, const struct buf *b)
{
	if (b->err || !f->ws)
		return;
	int rc = ws_conn_send(f->ws, b->p, b->len, !is_utf8(b->p, b->len));
	if (rc)
		WIMS_INFO(LOG, "flow %llu: send: %s", (unsigned long long)f->id, wims_strerror(rc));
}

/* Our own answer to a request a flow sent, with extra header lines (NULL:
 * none). */
static void flow_reply_ex(struct pcscf_flow *f, const struct sip_msg *req, int status,
			  const char *reason, const char *extra)
{
	if (!sip_msg_can_answer(req))
		return;
	struct buf out = BUF_INIT;
	char warning[400];
	struct sip_response_opts o = {.to_tag = pcscf.local_tag, .extra_headers = extra};
	if (status >= 400 && reason) {
		/* RFC 3261 20.43: 399 = miscellaneous warning */
		snprintf(warning, sizeof(warning), "399 %s \"%s\"", pcscf.mw_hostport, reason);
		o.warning = warning;
	}
	if (status == 503 && !extra)
		o.extra_headers = "Retry-After: 5";
	if (sip_build_response_opts(&out, req, status, reason, &o) == 0)
		flow_send(f, &out);
	buf_free(&out);
}

static void flow_reply(struct pcscf_flow *f, const struct sip_msg *req, int status,
		       const char *reason)
{
	flow_reply_ex(f, req, status, reason, NULL);
}

static struct link *link_find(struct pcscf_worker *w, uint64_t id)
{
	for (struct link *l = w->links; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

enum job_kind { JOB_CORE_MSG, JOB_LINK_SEND };

struct job {
	enum job_kind kind;
	int worker;
	struct pcscf_back back;
	uint64_t link;
	size_t len;
	char data[];
};

static void job_run(void *arg);

/* Hand bytes to another worker (see the file comment). */
static void post(int worker, enum job_kind kind, const struct pcscf_back *back, uint64_t link,
		 const char *p, size_t len)
{
	struct job *j = malloc(sizeof(*j) + len);
	if (!j)
		return;
	j->kind = kind;
	j->worker = worker;
	if (back)
		j->back = *back;
	else
		memset(&j->back, 0, sizeof(j->back));
	j->link = link;
	j->len = len;
	memcpy(j->data, p, len);
	if (workers_post(pcscf.workers, worker, job_run, j) != 0)
		free(j);
}

/* A message towards the core, back where its transaction came from. */
static void back_send(struct pcscf_worker *w, const struct pcscf_back *b, const char *p, size_t len)
{
	if (b->link == 0) {
		if (sendto(w->udp_fd, p, len, 0, (const struct sockaddr *)&b->addr, b->addrlen) < 0)
			WIMS_DEBUG(LOG, "UDP send: %s", strerror(errno));
		return;
	}
	if (b->worker != w->index) {
		post(b->worker, JOB_LINK_SEND, NULL, b->link, p, len);
		return;
	}
	struct link *l = link_find(w, b->link);
	if (!l) {
		WIMS_INFO(LOG, "core connection %llu gone: %zu bytes dropped",
			  (unsigned long long)b->link, len);
		return;
	}
	bufferevent_write(l->bev, p, len);
}

/* Our own answer to a request from the core. */
static void core_reply(struct pcscf_worker *w, const struct sip_msg *req, const struct pcscf_back *b,
		       int status, const char *reason, const char *extra)
{
	if (!sip_msg_can_answer(req))
		return;
	struct buf out = BUF_INIT;
	struct sip_response_opts o = {.extra_headers = extra, .to_tag = pcscf.local_tag};
	if (sip_build_response_opts(&out, req, status, reason, &o) == 0)
		back_send(w, b, out.p, out.len);
	buf_free(&out);
}

/* --- the connection to the core --- */

static void link_read_cb(struct bufferevent *bev, void *arg);
static void link_event_cb(struct bufferevent *bev, short what, void *arg);

static struct link *link_new(struct pcscf_worker *w, struct bufferevent *bev, bool out,
			     struct net_listener *from, const char *peer)
{
	struct link *l = calloc(1, sizeof(*l));
	if (!l) {
		bufferevent_free(bev);
		if (from)
			net_listener_conn_done(from);
		return NULL;
	}
	l->w = w;
	l->bev = bev;
	l->id = ++w->next_link_id;
	l->out = out;
	l->from = from;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	l->next = w->links;
	if (w->links)
		w->links->prev = l;
	w->links = l;
	bufferevent_setcb(bev, link_read_cb, NULL, link_event_cb, l);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return l;
}

/* Every request that went out on our connection attempt gen gets 503:
 * that connection is gone, and with it any answer. */
static void fail_txns(struct pcscf_worker *w, uint64_t gen)
{
	struct pcscf_txn *x = w->txns.head;
	while (x) {
		struct pcscf_txn *next = x->next;
		if (x->link_gen == gen) {
			struct pcscf_flow *f = pcscf_flows_find(&w->flows, x->flow_id);
			struct sip_msg req;
			const char *reason;
			if (f && sip_msg_parse(&req, x->req, x->len, SIP_FRAMING_DATAGRAM, &reason) > 0)
				flow_reply(f, &req, 503, "Core network unreachable");
			pcscf_txns_remove(&w->txns, x);
		}
		x = next;
	}
}

static void link_free(struct link *l)
{
	struct pcscf_worker *w = l->w;
	if (l->prev)
		l->prev->next = l->next;
	else
		w->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	if (w->out == l)
		w->out = NULL;
	bufferevent_free(l->bev);
	if (l->from)
		net_listener_conn_done(l->from);
	uint64_t gen = l->out ? l->gen : 0;
	free(l);
	if (gen && !w->stopping)
		fail_txns(w, gen);
}

static void link_event_cb(struct bufferevent *bev, short what, void *arg)
{
	WIMS_UNUSED(bev);
	struct link *l = arg;
	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(l->bev, NULL, NULL);
		WIMS_DEBUG(LOG, "worker %d: connected to the core %s", l->w->index, l->peer);
		return;
	}
	if (l->out)
		WIMS_WARN(LOG, "worker %d: core connection %s %s", l->w->index, l->peer,
			  (what & BEV_EVENT_TIMEOUT) ? "timed out"
			  : (what & BEV_EVENT_EOF)   ? "closed"
						     : "failed");
	link_free(l);
}

/* Our connection to the core, connecting if needed.  Data written while it
 * connects is sent once it is up; if it fails, fail_txns answers. */
static struct link *core_link(struct pcscf_worker *w)
{
	if (w->out)
		return w->out;
	char err[256];
	struct bufferevent *bev =
		net_connect_tcp(w->base, pcscf.cscf_host, pcscf.cscf_port, NULL, NULL, err, sizeof(err));
	if (!bev) {
		WIMS_WARN(LOG, "worker %d: core %s: %s", w->index, pcscf_conf.cscf_addr, err);
		return NULL;
	}
	struct link *l = link_new(w, bev, true, NULL, pcscf_conf.cscf_addr);
	if (!l)
		return NULL;
	l->gen = ++w->out_gen;
	struct timeval tv = {WIMS_PCSCF_CONNECT_TIMEOUT_MS / 1000,
			     (WIMS_PCSCF_CONNECT_TIMEOUT_MS % 1000) * 1000};
	bufferevent_set_timeouts(bev, NULL, &tv);
	w->out = l;
	return l;
}

/* --- registration: binding the flow on the 200 OK --- */

static void register_ok(struct pcscf_flow *f, const struct pcscf_txn *x, const struct sip_msg *ok)
{
	struct sip_msg reg;
	const char *reason;
	if (sip_msg_parse(&reg, x->req, x->len, SIP_FRAMING_DATAGRAM, &reason) <= 0)
		return;
	int64_t exp = pcscf_reg_expiry(&reg, ok);
	if (exp < 0)
		return;
	if (exp == 0) {
		if (f->binding.bound)
			WIMS_INFO(LOG, "flow %llu: %s de-registered", (unsigned long long)f->id,
				  f->binding.impi);
		pcscf_binding_clear(&f->binding);
		return;
	}
	char impi[WIMS_IMPI_MAX];
	/* TNA: the IMPI is the token's (the REGISTER as the client sent it
	 * has only the Bearer token) */
	const struct pcscf_tna *tna = x->tna;
	int n = tna ? snprintf(impi, sizeof(impi), "%s", tna->impi)
		    : pcscf_reg_impi(&reg, impi, sizeof(impi));
	if (n >= (int)sizeof(impi))
		n = WIMS_ETOOBIG;
	const struct sip_hdr *to = sip_msg_hdr(&reg, SIP_HDR_TO);
	struct slice to_uri;
	if (n <= 0 || !to || pcscf_nameaddr_uri(to->value, &to_uri) != 0) {
		WIMS_WARN(LOG, "flow %llu: 200 OK to a REGISTER without a usable IMPI: not bound",
			  (unsigned long long)f->id);
		pcscf_binding_clear(&f->binding);
		return;
	}
	int64_t now = now_ms();
	bool by_token = false;
	int64_t until = pcscf_binding_until(now, exp, wall_ms(), tna ? tna->exp : 0, &by_token);
	int rc = pcscf_binding_set(&f->binding, (struct slice){impi, (size_t)n}, to_uri, ok, until);
	if (rc) {
		WIMS_WARN(LOG, "flow %llu: cannot bind %s: %s", (unsigned long long)f->id, impi,
			  wims_strerror(rc));
		return;
	}
	/* REQ 2.4: by token, only the registered IMPUs the token names (the
	 * core registered the whole implicit set). */
	int dropped = 0;
	if (tna) {
		dropped = pcscf_binding_narrow(&f->binding, tna->impus, tna->nimpus);
		if (dropped < 0) {
			/* cannot happen: To is one of the token's (bearer.h) */
			WIMS_WARN(LOG, "flow %llu: no registered IMPU of %s is in its token: not bound",
				  (unsigned long long)f->id, impi);
			return;
		}
	}
	char how[160] = "";
	if (tna)
		snprintf(how, sizeof(how),
			 " (trusted node authentication), %d registered IMPU%s not in the token%s",
			 dropped, dropped == 1 ? "" : "s",
			 by_token ? ", until the token expires" : "");
	int64_t left_s = until > now ? (until - now + 999) / 1000 : 0;
	WIMS_INFO(LOG, "flow %llu: bound %s (%u IMPUs, default %s), %lld s%s",
		  (unsigned long long)f->id, impi, f->binding.nimpus,
		  pcscf_binding_impu(&f->binding, 0), (long long)left_s, how);
}

/* An ACK to a final answer we made ourselves (its To carries our tag). */
static bool acks_our_answer(const struct sip_msg *m)
{
	if (m->method_id != SIP_METHOD_ACK)
		return false;
	const struct sip_hdr *to = sip_msg_hdr(m, SIP_HDR_TO);
	struct sip_nameaddr na;
	const char *reason;
	return to && sip_nameaddr_parse(&na, to->value, &reason) == 0 &&
	       slice_eq_cstr(na.tag, pcscf.local_tag);
}

/* --- from the core --- */

/* A response to a request of flow flow_id, on its owning worker w. */
static void deliver_response(struct pcscf_worker *w, const struct sip_msg *m, uint64_t flow_id,
			     uint64_t txn_id)
{
	struct pcscf_flow *f = pcscf_flows_find(&w->flows, flow_id);
	struct pcscf_txn *x = pcscf_txns_find(&w->txns, txn_id, m->cseq_method_id);
	if (x && m->status >= 200) {
		if (f && x->method == SIP_METHOD_REGISTER && m->status < 300)
			register_ok(f, x, m);
		pcscf_txns_remove(&w->txns, x);
	} else if (x && x->method == SIP_METHOD_INVITE) {
		/* RFC 3261 16.8: a provisional response moves an INVITE to Timer C. */
		x->deadline_ms = now_ms() + SIP_TIMER_C_MS;
	}
	if (!f) {
		WIMS_INFO(LOG, "%d response for closed flow %llu dropped", m->status,
			  (unsigned long long)flow_id);
		return;
	}
	struct buf out = BUF_INIT;
	if (pcscf_fwd_response(&out, m) == 0)
		flow_send(f, &out);
	buf_free(&out);
}

static void core_response(struct pcscf_worker *w, const struct sip_msg *m)
{
	struct sip_via v;
	const char *reason;
	int fw;
	uint64_t flow_id, txn_id;
	if (sip_msg_top_via(m, &v, &reason) != 0 ||
	    pcscf_branch_parse(pcscf.key, v.branch, &fw, &flow_id, &txn_id) != 0 ||
	    fw >= pcscf.nworkers) {
		WIMS_INFO(LOG, "response %d with a Via not ours dropped", m->status);
		return;
	}
	if (fw != w->index) {
		post(fw, JOB_CORE_MSG, NULL, 0, m->raw.p, m->raw.len);
		return;
	}
	deliver_response(w, m, flow_id, txn_id);
}

/* The flow token of a request from the core: the user part of the top
 * Route when it names us (the Path or Record-Route entry, RFC 5626 5.3),
 * else of the Request-URI.  *route says which. */
static bool find_token(const struct sip_msg *m, struct slice *token, bool *route)
{
	struct sip_uri u;
	const char *reason;
	*route = false;
	const struct sip_hdr *r = sip_msg_hdr(m, SIP_HDR_ROUTE);
	if (r) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		sip_nameaddr_iter_init(&it, r->value);
		if (sip_nameaddr_iter_next(&it, &na, &reason) == 1 &&
		    sip_uri_parse(&u, na.uri, &reason) == 0 &&
		    pcscf_parsed_uri_names_us(&pcscf.self, &u) && u.user.len) {
			*token = u.user;
			*route = true;
			return true;
		}
	}
	if (sip_uri_parse(&u, m->ruri, &reason) == 0 && u.user.len == PCSCF_TOKEN_LEN) {
		*token = u.user;
		return true;
	}
	return false;
}

/* Our Record-Route entry for a dialog of flow f (the same on both sides of
 * a call, calls.md): the core sends the dialog's requests for f back here,
 * and the token finds f. */
static void record_route_line(char *out, size_t outsz, const struct pcscf_flow *f)
{
	snprintf(out, outsz, "Record-Route: <sip:%s@%s;transport=tcp;lr>", f->token,
		 pcscf.mw_hostport);
}

/* A request from the core for flow flow_id, on its owning worker. */
static void to_flow(struct pcscf_worker *w, const struct sip_msg *m, uint64_t flow_id,
		    const struct pcscf_back *b, bool pop_route)
{
	struct pcscf_flow *f = pcscf_flows_find(&w->flows, flow_id);
	if (!f) {
		/* RFC 5626 5.3: the flow is gone; say so at once. */
		WIMS_INFO(LOG, "%.*s for closed flow %llu: 430", (int)m->method.len, m->method.p,
			  (unsigned long long)flow_id);
		if (m->method_id != SIP_METHOD_ACK)
			core_reply(w, m, b, 430, "Flow Failed", NULL);
		return;
	}
	struct sip_via v;
	const char *reason;
	if (sip_msg_top_via(m, &v, &reason) != 0) {
		core_reply(w, m, b, 400, reason, NULL);
		return;
	}
	char branch[PCSCF_BRANCH_BACK_LEN + 1];
	uint64_t txn_id;
	if (pcscf_branch_make_back(pcscf.key, w->index, f->id, v.branch, v.sent_by, b->worker,
				   b->link, branch, &txn_id) != 0) {
		core_reply(w, m, b, 400, "Bad Via", NULL);
		return;
	}
	/* An INVITE is remembered until it is over; its CANCEL and the ACK
	 * to its non-2xx answer (same core branch, RFC 3261 9.1, 17.1.1.3)
	 * leave with the branch it got (txn.h). */
	struct pcscf_txn *inv = NULL;
	if (m->method_id == SIP_METHOD_INVITE || m->method_id == SIP_METHOD_CANCEL ||
	    m->method_id == SIP_METHOD_ACK) {
		inv = pcscf_txns_find(&w->in_txns, txn_id, SIP_METHOD_INVITE);
		if (inv)
			memcpy(branch, inv->branch, sizeof(branch));
	}
	char via[320], rr[256];
	snprintf(via, sizeof(via), "Via: SIP/2.0/WSS %s;branch=%s", pcscf.ws_hostport, branch);
	bool want_rr = pcscf_wants_record_route(m);
	if (want_rr)
		record_route_line(rr, sizeof(rr), f);
	struct buf out = BUF_INIT;
	int status;
	if (pcscf_fwd_to_flow(&out, m, via, pop_route, want_rr ? rr : NULL, &status, &reason) != 0) {
		core_reply(w, m, b, status, reason, NULL);
		buf_free(&out);
		return;
	}
	if (m->method_id == SIP_METHOD_INVITE && !inv) {
		int err = 0;
		inv = pcscf_txns_add(&w->in_txns, txn_id, SIP_METHOD_INVITE, f->id, 0,
				     now_ms() + SIP_TIMER_C_MS + SIP_TIMER_H_MS, m->raw.p, m->raw.len,
				     &err);
		if (inv) {
			inv->back = *b;
			memcpy(inv->branch, branch, sizeof(inv->branch));
		}
		/* full table: forwarded all the same, without the extras */
	} else if (m->method_id == SIP_METHOD_ACK && inv && inv->answered) {
		pcscf_txns_remove(&w->in_txns, inv);
	}
	flow_send(f, &out);
	buf_free(&out);
}

/* The flow answered an INVITE from the core: a 2xx ends it here (its ACK
 * is a new transaction), a non-2xx waits for the core's ACK (Timer H). */
static void flow_invite_answered(struct pcscf_worker *w, const struct pcscf_flow *f,
				 uint64_t txn_id, int status)
{
	struct pcscf_txn *x = pcscf_txns_find(&w->in_txns, txn_id, SIP_METHOD_INVITE);
	/* the txn part of a branch is not signed: only the flow's own */
	if (!x || x->flow_id != f->id)
		return;
	if (status < 300) {
		pcscf_txns_remove(&w->in_txns, x);
	} else {
		x->answered = true;
		x->deadline_ms = now_ms() + SIP_TIMER_H_MS;
	}
}

/* Flow f is closing: the core's INVITEs it has not answered get 430 Flow
 * Failed now (RFC 5626 5.3; the core then tries the user's other
 * bindings), and its entries go. */
static void fail_flow_invites(struct pcscf_worker *w, const struct pcscf_flow *f)
{
	struct pcscf_txn *x = w->in_txns.head;
	while (x) {
		struct pcscf_txn *next = x->next;
		if (x->flow_id == f->id) {
			struct sip_msg req;
			const char *reason;
			if (!x->answered &&
			    sip_msg_parse(&req, x->req, x->len, SIP_FRAMING_DATAGRAM, &reason) > 0) {
				WIMS_INFO(LOG, "flow %llu closed with an INVITE pending: 430",
					  (unsigned long long)f->id);
				core_reply(w, &req, &x->back, 430, "Flow Failed", NULL);
			}
			pcscf_txns_remove(&w->in_txns, x);
		}
		x = next;
	}
}

static void core_request(struct pcscf_worker *w, const struct sip_msg *m, const struct pcscf_back *b)
{
	struct slice token;
	bool route;
	if (acks_our_answer(m))
		return;
	if (!find_token(m, &token, &route)) {
		struct sip_uri u;
		const char *reason;
		/* OPTIONS to the eP-CSCF itself: a liveness probe. */
		if (m->method_id == SIP_METHOD_OPTIONS && sip_uri_parse(&u, m->ruri, &reason) == 0 &&
		    u.user.len == 0) {
			core_reply(w, m, b, 200, NULL,
				   "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, "
				   "PRACK, INFO, SUBSCRIBE, NOTIFY, REFER");
			return;
		}
		if (m->method_id != SIP_METHOD_ACK)
			core_reply(w, m, b, 404, "No flow token", NULL);
		return;
	}
	int fw;
	uint64_t flow_id;
	if (pcscf_token_verify(pcscf.key, token, &fw, &flow_id) != 0 || fw >= pcscf.nworkers) {
		char safe[48];
		WIMS_WARN(LOG, "%.*s with an invalid flow token \"%s\": 403", (int)m->method.len,
			  m->method.p, log_safe(token, safe, sizeof(safe)));
		if (m->method_id != SIP_METHOD_ACK)
			core_reply(w, m, b, 403, "Invalid flow token", NULL);
		return;
	}
	if (fw != w->index) {
		post(fw, JOB_CORE_MSG, b, 0, m->raw.p, m->raw.len);
		return;
	}
	to_flow(w, m, flow_id, b, route);
}

static void core_in(struct pcscf_worker *w, const struct sip_msg *m, const struct pcscf_back *b)
{
	if (m->is_request)
		core_request(w, m, b);
	else
		core_response(w, m);
}

static void job_run(void *arg)
{
	struct job *j = arg;
	struct pcscf_worker *w = &pcscf.w[j->worker];
	if (j->kind == JOB_LINK_SEND) {
		struct link *l = link_find(w, j->link);
		if (l)
			bufferevent_write(l->bev, j->data, j->len);
		else
			WIMS_INFO(LOG, "core connection %llu gone: %zu bytes dropped",
				  (unsigned long long)j->link, j->len);
	} else {
		struct sip_msg m;
		const char *reason;
		if (sip_msg_parse(&m, j->data, j->len, SIP_FRAMING_DATAGRAM, &reason) > 0 &&
		    !m.keepalive)
			core_in(w, &m, &j->back);
	}
	free(j);
}

/* Stream framing on a core connection: one message at a time, CRLF
 * keep-alives answered (RFC 5626 3.5.1). */
static void link_read_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;
	struct pcscf_worker *w = l->w;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct pcscf_back b = {.worker = w->index, .link = l->id};
	for (;;) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t n = len < WIMS_SIP_MAX_MSG ? len : WIMS_SIP_MAX_MSG;
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		struct sip_msg m;
		const char *reason = "Bad Request";
		int rc = sip_msg_parse(&m, p, n, SIP_FRAMING_STREAM, &reason);
		if (rc == WIMS_EAGAIN && n < WIMS_SIP_MAX_MSG)
			return;
		if (rc < 0) {
			WIMS_WARN(LOG, "core connection %s: %s: closed", l->peer,
				  rc == WIMS_EAGAIN ? "message too large" : reason);
			if (rc != WIMS_EAGAIN && m.is_request)
				core_reply(w, &m, &b, sip_msg_error_status(rc), reason, NULL);
			link_free(l);
			return;
		}
		if (m.keepalive) {
			for (unsigned i = 0; i < m.pings; i++)
				bufferevent_write(bev, "\r\n", 2);
		} else {
			core_in(w, &m, &b);
		}
		evbuffer_drain(in, (size_t)rc);
	}
}

static void mw_accept(struct net_listener *nl, int fd, const struct sockaddr *peer,
		      socklen_t peerlen, void *arg)
{
	WIMS_UNUSED(peerlen);
	struct pcscf_worker *w = arg;
	struct bufferevent *bev =
		bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		close(fd);
		net_listener_conn_done(nl);
		return;
	}
	char name[NET_ADDR_STRLEN];
	net_addr_format(peer, name, sizeof(name));
	link_new(w, bev, false, nl, name);
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(what);
	struct pcscf_worker *w = arg;
	/* a bounded batch per wake-up, so TCP and WebSocket work interleaves */
	for (int i = 0; i < 64; i++) {
		struct pcscf_back b = {.worker = w->index, .link = 0, .addrlen = sizeof(b.addr)};
		ssize_t n = recvfrom(fd, w->udp_buf, WIMS_SIP_MAX_MSG + 1, 0,
				     (struct sockaddr *)&b.addr, &b.addrlen);
		if (n < 0)
			return;
		struct sip_msg m;
		const char *reason = "Bad Request";
		int rc = n > WIMS_SIP_MAX_MSG ? WIMS_ETOOBIG
					      : sip_msg_parse(&m, w->udp_buf, (size_t)n,
							      SIP_FRAMING_DATAGRAM, &reason);
		if (rc < 0) {
			if (n <= WIMS_SIP_MAX_MSG && m.is_request)
				core_reply(w, &m, &b, sip_msg_error_status(rc), reason, NULL);
			continue;
		}
		if (!m.keepalive)
			core_in(w, &m, &b);
	}
}

/* --- from a flow --- */

/* What a REGISTER validated by token carries to the core (fwd.h). */
struct tna_fwd {
	const char *authorization;
	const char *wwsf_identity;
	const struct jwt_claims *claims; /* kept with the transaction */
};

static void flow_forward(struct pcscf_worker *w, struct pcscf_flow *f, const char *p, size_t len,
			 const struct sip_msg *m, struct slice asserted, const char *route,
			 bool in_dialog, const struct tna_fwd *tna);
static void register_bearer(struct pcscf_worker *w, struct pcscf_flow *f, const char *p,
			    size_t len, const struct sip_msg *m, struct slice token);

static void flow_request(struct pcscf_worker *w, struct pcscf_flow *f, const char *p, size_t len,
			 const struct sip_msg *m)
{
	int64_t now = now_ms();
	struct slice asserted = SLICE_NULL;
	const char *route = NULL;
	bool in_dialog = false;
	const char *reason = NULL;
	int rc;

	if (acks_our_answer(m))
		return;

	if (m->method_id != SIP_METHOD_REGISTER) {
		/* DESIGN 4 step 5, TS 24.229 5.2.6.3.3: only what this flow
		 * registered may speak here. */
		rc = pcscf_ident_assert(&f->binding, m, now, &asserted, &reason);
		if (rc) {
			WIMS_INFO(LOG, "flow %llu: %.*s refused: %s", (unsigned long long)f->id,
				  (int)m->method.len, m->method.p, reason);
			if (m->method_id != SIP_METHOD_ACK)
				flow_reply(f, m, rc == WIMS_EDENIED ? 403 : 400, reason);
			return;
		}
		/* RFC 3608 6: initial requests follow the Service-Route; an
		 * in-dialog one (To has a tag) its own route set, less the
		 * entries naming us (fwd.h). */
		in_dialog = pcscf_in_dialog(m);
		if (!in_dialog)
			route = f->binding.route_line;
	} else {
		/* A Bearer token is ours to validate (trusted node); Digest
		 * and AKA pass to the core unchanged. */
		struct slice token;
		int status = 400;
		rc = pcscf_bearer_authorization(m, &token, &status, &reason);
		if (rc < 0) {
			WIMS_INFO(LOG, "flow %llu: REGISTER refused (%d): %s",
				  (unsigned long long)f->id, status, reason);
			flow_reply(f, m, status, reason);
			return;
		}
		if (rc == 1) {
			register_bearer(w, f, p, len, m, token);
			return;
		}
	}
	flow_forward(w, f, p, len, m, asserted, route, in_dialog, NULL);
}

static void flow_forward(struct pcscf_worker *w, struct pcscf_flow *f, const char *p, size_t len,
			 const struct sip_msg *m, struct slice asserted, const char *route,
			 bool in_dialog, const struct tna_fwd *tna)
{
	int64_t now = now_ms();
	const char *reason = NULL;
	struct sip_via v;
	if (sip_msg_top_via(m, &v, &reason) != 0) {
		flow_reply(f, m, 400, reason);
		return;
	}
	char branch[PCSCF_BRANCH_LEN + 1];
	uint64_t txn_id;
	if (pcscf_branch_make(pcscf.key, w->index, f->id, v.branch, v.sent_by, branch, &txn_id)) {
		flow_reply(f, m, 400, "Bad Via");
		return;
	}
	char via[256], path[256], rr[256];
	snprintf(via, sizeof(via), "Via: SIP/2.0/TCP %s;branch=%s", pcscf.mw_hostport, branch);
	/* in_dialog is known already: To is not parsed again */
	bool want_rr = pcscf_forms_dialog(m->method_id) && !in_dialog;
	if (want_rr)
		record_route_line(rr, sizeof(rr), f);
	/* RFC 3327 5.1, RFC 5626 5.1: our flow token, ";ob" for outbound */
	snprintf(path, sizeof(path), "Path: <sip:%s@%s;transport=tcp;lr;ob>", f->token,
		 pcscf.mw_hostport);
	struct pcscf_fwd fwd = {
		.via = via,
		.received = f->peer_host,
		.rport = f->peer_port,
		.path = m->method_id == SIP_METHOD_REGISTER ? path : NULL,
		.asserted = asserted,
		.route = route,
		.self = in_dialog ? &pcscf.self : NULL,
		/* an ACK to a non-2xx has no route set of its own: it follows
		 * its INVITE (RFC 3261 17.1.1.3) into the core, which absorbs
		 * it */
		.route_if_none = m->method_id == SIP_METHOD_ACK ? f->binding.route_line : NULL,
		.record_route = want_rr ? rr : NULL,
		.authorization = tna ? tna->authorization : NULL,
		.wwsf_identity = tna ? tna->wwsf_identity : NULL,
	};
	struct buf out = BUF_INIT;
	int status = 500;
	if (pcscf_fwd_request(&out, m, &fwd, &status, &reason) != 0) {
		flow_reply(f, m, status, reason);
		buf_free(&out);
		return;
	}
	struct link *l = core_link(w);
	if (!l) {
		if (m->method_id != SIP_METHOD_ACK)
			flow_reply(f, m, 503, "Core network unreachable");
		buf_free(&out);
		return;
	}
	if (m->method_id != SIP_METHOD_ACK) {
		int err = 0;
		int64_t timeout = m->method_id == SIP_METHOD_INVITE ? SIP_TIMER_B_MS : SIP_TIMER_F_MS;
		struct pcscf_txn *x = pcscf_txns_add(&w->txns, txn_id, m->method_id, f->id, l->gen,
						     now + timeout, p, len, &err);
		if ((!x && err != WIMS_EEXIST) ||
		    (x && tna && pcscf_txn_set_tna(x, tna->claims) != 0)) {
			if (x)
				pcscf_txns_remove(&w->txns, x);
			flow_reply(f, m, 503, "Overloaded");
			buf_free(&out);
			return;
		}
	}
	bufferevent_write(l->bev, out.p, out.len);
	buf_free(&out);
}

/* --- trusted node: REGISTER with a Bearer token (bearer.h) --- */

/* A REGISTER held while its token is validated. */
struct held_reg {
	struct pcscf_worker *w;
	uint64_t flow_id;
	size_t len;
	char data[];
};

/* RFC 6750 3: a refused token.  401 invalid_token, 403
 * insufficient_scope, 503 when the WAF could not be asked.  Never logs
 * the token. */
static void bearer_refuse(struct pcscf_flow *f, const struct sip_msg *m, int rc, const char *why)
{
	char extra[512];
	int status;
	if (rc == WIMS_EAUTH || rc == WIMS_EDENIED) {
		status = rc == WIMS_EAUTH ? 401 : 403;
		snprintf(extra, sizeof(extra),
			 "WWW-Authenticate: Bearer realm=\"%s\", error=\"%s\", "
			 "error_description=\"%s\"",
			 wims_global.domain, rc == WIMS_EAUTH ? "invalid_token" : "insufficient_scope",
			 why);
	} else {
		status = 503;
		snprintf(extra, sizeof(extra), "Retry-After: 5");
	}
	WIMS_INFO(LOG, "flow %llu: Bearer REGISTER refused (%d): %s", (unsigned long long)f->id,
		  status, why);
	flow_reply_ex(f, m, status, why, extra);
}

/* Text from a token that goes into a header value between quotes or as
 * a header value: printable, no quote, backslash, comma or angle. */
static bool header_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"\\<>,;", *s))
			return false;
	return true;
}

/* The token is valid: the checks that tie it to this flow and this
 * REGISTER, then the forward by TNA (tna.md 2, 5). */
static void register_bearer_go(struct pcscf_worker *w, struct pcscf_flow *f, const char *p,
			       size_t len, const struct sip_msg *m, int rc,
			       const struct jwt_claims *c, const char *why,
			       enum pcscf_bearer_source src)
{
	if (rc) {
		bearer_refuse(f, m, rc, why);
		return;
	}
	/* TR 33.871 NOTE (Origin): a token works only on a WebSocket opened
	 * by a page of the WWSF it was issued for, so a token lifted from
	 * one site cannot be replayed from another. */
	rc = pcscf_bearer_check_origin(pcscf_conf.wwsf_origins, c->wwsf, ws_conn_origin(f->ws), &why);
	/* REQ 2.4: To and From among the token's IMPUs. */
	if (!rc)
		rc = pcscf_bearer_check_impus(c, m, &why);
	/* REQ 3.2 NOTE 6: the IMPI form of the WWSF's pool. */
	if (!rc)
		rc = pcscf_bearer_check_pool(pcscf_conf.wwsf_pools, c->wwsf, c->impi, &why);
	if (!rc && (!header_safe(c->impi) || !header_safe(c->wwsf))) {
		rc = WIMS_EDENIED;
		why = "token IMPI or WWSF cannot be carried in SIP";
	}
	if (rc) {
		WIMS_INFO(LOG, "flow %llu: Bearer REGISTER for %s from %s refused (%d): %s",
			  (unsigned long long)f->id, c->impi, c->wwsf, rc == WIMS_EDENIED ? 403 : 400,
			  why);
		flow_reply(f, m, rc == WIMS_EDENIED ? 403 : 400, why);
		return;
	}
	WIMS_DEBUG(LOG, "flow %llu: token of %s from %s: %s", (unsigned long long)f->id, c->impi,
		   c->wwsf, pcscf_bearer_source_name(src));
	/* TS 24.229 5.4.1.2.2A: the registration is authenticated here;
	 * tna.md 2 */
	char auth[WIMS_IMPI_MAX + 400], wwsf[JWT_NAME_MAX + 32];
	snprintf(auth, sizeof(auth),
		 "Authorization: Digest username=\"%s\", realm=\"%s\", uri=\"sip:%s\", "
		 "nonce=\"\", response=\"\", integrity-protected=\"auth-done\"",
		 c->impi, wims_global.domain, wims_global.domain);
	snprintf(wwsf, sizeof(wwsf), PCSCF_WWSF_IDENTITY_HDR ": %s", c->wwsf);
	struct tna_fwd tna = {.authorization = auth, .wwsf_identity = wwsf, .claims = c};
	flow_forward(w, f, p, len, m, SLICE_NULL, NULL, false, &tna);
}

static void bearer_done(void *arg, int rc, const struct jwt_claims *c, const char *why,
			enum pcscf_bearer_source src)
{
	struct held_reg *h = arg;
	if (rc == WIMS_ECLOSED) {
		free(h);
		return;
	}
	/* The WebSocket may have closed while we waited. */
	struct pcscf_flow *f = pcscf_flows_find(&h->w->flows, h->flow_id);
	struct sip_msg m;
	const char *reason;
	if (!f) {
		WIMS_INFO(LOG, "flow %llu closed while its token was validated",
			  (unsigned long long)h->flow_id);
	} else if (sip_msg_parse(&m, h->data, h->len, SIP_FRAMING_DATAGRAM, &reason) > 0) {
		register_bearer_go(h->w, f, h->data, h->len, &m, rc, c, why, src);
	}
	free(h);
}

static void register_bearer(struct pcscf_worker *w, struct pcscf_flow *f, const char *p,
			    size_t len, const struct sip_msg *m, struct slice token)
{
	if (!pcscf_bearer_enabled()) {
		bearer_refuse(f, m, WIMS_EAUTH, "bearer tokens are not accepted here");
		return;
	}
	struct held_reg *h = malloc(sizeof(*h) + len);
	if (!h) {
		flow_reply(f, m, 503, "Overloaded");
		return;
	}
	h->w = w;
	h->flow_id = f->id;
	h->len = len;
	memcpy(h->data, p, len);
	struct jwt_claims c;
	enum pcscf_bearer_source src;
	const char *why;
	int rc = pcscf_bearer_validate(w->index, token.p, token.len, (int64_t)time(NULL), &c, &src,
				       &why, bearer_done, h);
	if (rc == WIMS_EAGAIN) {
		WIMS_DEBUG(LOG, "flow %llu: REGISTER held while its token is validated",
			   (unsigned long long)f->id);
		return;
	}
	register_bearer_go(w, f, p, len, m, rc, &c, why, src);
	free(h);
}

/* A response from the client to a request the core sent it. */
static void flow_response(struct pcscf_worker *w, struct pcscf_flow *f, const struct sip_msg *m)
{
	struct sip_via v;
	const char *reason;
	int fw, bw;
	uint64_t flow_id, bl, txn_id;
	if (sip_msg_top_via(m, &v, &reason) != 0 ||
	    pcscf_branch_parse_back(pcscf.key, v.branch, &fw, &flow_id, &bw, &bl, &txn_id) != 0 ||
	    flow_id != f->id || bw >= pcscf.nworkers) {
		WIMS_INFO(LOG, "flow %llu: response %d with a Via not ours dropped",
			  (unsigned long long)f->id, m->status);
		return;
	}
	if (m->cseq_method_id == SIP_METHOD_INVITE && m->status >= 200)
		flow_invite_answered(w, f, txn_id, m->status);
	struct pcscf_back b = {.worker = bw, .link = bl};
	if (bl == 0) {
		/* UDP: RFC 3261 18.2.2 / RFC 3581 4: received and rport of
		 * the next Via, else its sent-by. */
		struct sip_msg_via_iter it;
		struct sip_via next;
		sip_msg_via_iter_init(&it, m);
		char host[WIMS_SIP_MAX_TOKEN];
		if (sip_msg_via_iter_next(&it, &next, &reason) != 1 ||
		    sip_msg_via_iter_next(&it, &next, &reason) != 1 ||
		    slice_copy_cstr(next.received.len ? next.received : next.host, host,
				    sizeof(host)) != 0) {
			WIMS_INFO(LOG, "flow %llu: response without a Via to return to",
				  (unsigned long long)f->id);
			return;
		}
		int port = next.rport_value ? next.rport_value : next.port ? next.port : 5060;
		if (net_addr_make(host, port, &b.addr, &b.addrlen) != 0)
			return;
	}
	struct buf out = BUF_INIT;
	if (pcscf_fwd_response(&out, m) == 0 && !out.err)
		back_send(w, &b, out.p, out.len);
	buf_free(&out);
}

/* --- WebSocket callbacks --- */

/* TR 33.871 NOTE (every scenario), DESIGN 4 step 2: only pages served by
 * the allowed origins may open a flow. */
static int check_origin(void *arg, struct slice origin)
{
	WIMS_UNUSED(arg);
	if (origin.p) {
		const char *cur = pcscf_conf.allowed_origins, *item;
		size_t n;
		while ((n = conf_list_next(&cur, &item)) > 0)
			if (slice_ieq((struct slice){item, n}, origin))
				return 0;
		char safe[128];
		WIMS_WARN(LOG, "WebSocket from Origin \"%s\" refused (HTTP 403)",
			  log_safe(origin, safe, sizeof(safe)));
	} else {
		WIMS_WARN(LOG, "WebSocket without Origin refused (HTTP 403)");
	}
	return -1;
}

static void ws_open(struct ws_conn *c, void *arg)
{
	struct pcscf_worker *w = arg;
	struct pcscf_flow *f = calloc(1, sizeof(*f));
	if (!f) {
		ws_conn_close(c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	f->id = ws_conn_id(c);
	f->ws = c;
	const struct sockaddr *peer = ws_conn_peer(c);
	if (peer) {
		net_addr_format_host(peer, f->peer_host, sizeof(f->peer_host));
		f->peer_port = net_addr_port(peer);
	}
	if (pcscf_token_make(pcscf.key, w->index, f->id, f->token) != 0 ||
	    pcscf_flows_add(&w->flows, f) != 0) {
		free(f);
		ws_conn_close(c, WS_CLOSE_INTERNAL, "internal error");
		return;
	}
	ws_conn_set_data(c, f);
	atomic_fetch_add(&open_flows, 1);
	WIMS_DEBUG(LOG, "flow %llu opened from %s", (unsigned long long)f->id, ws_conn_peer_str(c));
}

static void ws_message(struct ws_conn *c, const char *p, size_t len, bool binary, void *arg)
{
	WIMS_UNUSED(binary);
	struct pcscf_worker *w = arg;
	struct pcscf_flow *f = ws_conn_get_data(c);
	if (!f)
		return;
	struct sip_msg m;
	const char *reason = "Bad Request";
	/* RFC 7118 5.3: one SIP message per WebSocket message */
	int rc = sip_msg_parse(&m, p, len, SIP_FRAMING_DATAGRAM, &reason);
	if (rc < 0) {
		WIMS_INFO(LOG, "flow %llu: malformed message: %s", (unsigned long long)f->id, reason);
		if (m.is_request)
			flow_reply(f, &m, sip_msg_error_status(rc), reason);
		return;
	}
	if (m.keepalive)
		return;
	if (m.is_request)
		flow_request(w, f, p, len, &m);
	else
		flow_response(w, f, &m);
}

static void flow_free(struct pcscf_flow *f)
{
	pcscf_binding_clear(&f->binding);
	free(f);
}

static void ws_close(struct ws_conn *c, int code, void *arg)
{
	struct pcscf_worker *w = arg;
	struct pcscf_flow *f = ws_conn_get_data(c);
	if (!f)
		return;
	ws_conn_set_data(c, NULL);
	pcscf_flows_remove(&w->flows, f->id);
	atomic_fetch_sub(&open_flows, 1);
	if (!w->stopping)
		fail_flow_invites(w, f);
	/* The registration stays in the core until it expires; requests
	 * routed to this flow get 430 from now on (DESIGN 4 step 5). */
	if (f->binding.bound)
		WIMS_INFO(LOG, "flow %llu closed (%d %s): %s unreachable until it registers again",
			  (unsigned long long)f->id, code, ws_conn_close_reason(c), f->binding.impi);
	else
		WIMS_DEBUG(LOG, "flow %llu closed (%d %s)", (unsigned long long)f->id, code,
			   ws_conn_close_reason(c));
	flow_free(f);
}

static const struct ws_callbacks ws_cbs = {
	.on_open = ws_open,
	.on_message = ws_message,
	.on_close = ws_close,
};

/* --- start and stop --- */

/* Once a second: requests the core left unanswered get 408 (RFC 3261
 * 16.7 step 10 for INVITE after Timer C, 17.1.2.2 Timer F otherwise). */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	struct pcscf_worker *w = arg;
	int64_t now = now_ms();
	struct pcscf_txn *x = w->txns.head;
	while (x) {
		struct pcscf_txn *next = x->next;
		if (now >= x->deadline_ms) {
			struct pcscf_flow *f = pcscf_flows_find(&w->flows, x->flow_id);
			struct sip_msg req;
			const char *reason;
			if (f && sip_msg_parse(&req, x->req, x->len, SIP_FRAMING_DATAGRAM, &reason) > 0)
				flow_reply(f, &req, 408, "No answer from the core network");
			pcscf_txns_remove(&w->txns, x);
		}
		x = next;
	}
	/* the core's INVITEs: its own timers answered them long ago */
	for (x = w->in_txns.head; x;) {
		struct pcscf_txn *next = x->next;
		if (now >= x->deadline_ms)
			pcscf_txns_remove(&w->in_txns, x);
		x = next;
	}
}

static void fail_worker(const char *what, const char *detail)
{
	/* workers_run_each waits for every worker; the first error wins */
	if (!pcscf.error) {
		pcscf.error = WIMS_EIO;
		snprintf(pcscf.errmsg, sizeof(pcscf.errmsg), "%s: %s", what, detail);
	}
}

static void start_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	struct pcscf_worker *w = &pcscf.w[index];
	char err[256];
	w->index = index;
	w->base = base;
	w->udp_fd = -1;
	pcscf_txns_init(&w->txns);
	pcscf_txns_init(&w->in_txns);
	w->udp_buf = malloc(WIMS_SIP_MAX_MSG + 1);
	if (!w->udp_buf || pcscf_flows_init(&w->flows) != 0) {
		fail_worker("start", "out of memory");
		return;
	}
	w->ws = ws_listener_new(base, pcscf.ws_host, pcscf.ws_port, true, pcscf.tls, &pcscf.ws_opts,
				&ws_cbs, w, err, sizeof(err));
	if (!w->ws) {
		fail_worker("listen", err);
		return;
	}
	net_listener_set_max(ws_listener_net(w->ws), pcscf_conf.max_connections);
	w->mw = net_listen_tcp(base, pcscf.mw_host, pcscf.mw_port, true, mw_accept, w, err,
			       sizeof(err));
	if (!w->mw) {
		fail_worker("mw_listen (TCP)", err);
		return;
	}
	w->udp_fd = net_bind_udp(pcscf.mw_host, pcscf.mw_port, true, err, sizeof(err));
	if (w->udp_fd < 0) {
		fail_worker("mw_listen (UDP)", err);
		return;
	}
	if (pcscf_bearer_worker_start(index, base) != 0) {
		fail_worker("start", "cannot start the token validator");
		return;
	}
	w->udp_ev = event_new(base, w->udp_fd, EV_READ | EV_PERSIST, udp_read_cb, w);
	w->tick = event_new(base, -1, EV_PERSIST, tick_cb, w);
	struct timeval one = {1, 0};
	if (!w->udp_ev || !w->tick || event_add(w->udp_ev, NULL) != 0 ||
	    event_add(w->tick, &one) != 0) {
		fail_worker("start", "cannot add events");
		return;
	}
}

static void close_flow(struct pcscf_flow *f, void *arg)
{
	WIMS_UNUSED(arg);
	ws_conn_close(f->ws, WS_CLOSE_GOING_AWAY, "shutting down");
}

/* Stop, first step: no new flows; every open one starts its close
 * handshake (RFC 6455 7.1.2), whose on_close frees it. */
static void close_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	struct pcscf_worker *w = &pcscf.w[index];
	ws_listener_free(w->ws);
	w->ws = NULL;
	if (w->flows.buckets)
		pcscf_flows_foreach(&w->flows, close_flow, NULL);
}

/* What is left after the wait: flows whose peer never answered. */
static void release_flow(struct pcscf_flow *f)
{
	if (f->ws) {
		/* on_close will come (or not, the loop is stopping) with no
		 * flow attached */
		ws_conn_set_data(f->ws, NULL);
		ws_conn_close(f->ws, WS_CLOSE_GOING_AWAY, "shutting down");
	}
	flow_free(f);
}

static void stop_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	struct pcscf_worker *w = &pcscf.w[index];
	w->stopping = true;
	pcscf_bearer_worker_stop(index);
	ws_listener_free(w->ws);
	w->ws = NULL;
	net_listener_free(w->mw);
	w->mw = NULL;
	while (w->links)
		link_free(w->links);
	if (w->udp_ev)
		event_free(w->udp_ev);
	w->udp_ev = NULL;
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	w->udp_fd = -1;
	if (w->tick)
		event_free(w->tick);
	w->tick = NULL;
	pcscf_flows_free(&w->flows, release_flow);
	pcscf_txns_free(&w->txns);
	pcscf_txns_free(&w->in_txns);
	free(w->udp_buf);
	w->udp_buf = NULL;
}

static void pcscf_stop(void);

static int post_to_worker(void *arg, int worker, void (*fn)(void *), void *fn_arg)
{
	WIMS_UNUSED(arg);
	return workers_post(pcscf.workers, worker, fn, fn_arg);
}

/* Every item of a WWSF=VALUE list has both parts (an item without '='
 * would silently bind nothing).  0 or WIMS_ECONF with the key named. */
static int check_pairs(const char *key, const char *list, bool origin)
{
	const char *cur = list, *item;
	size_t n;
	while ((n = conf_list_next(&cur, &item)) > 0) {
		const char *eq = memchr(item, '=', n);
		size_t vlen = eq ? n - (size_t)(eq - item) - 1 : 0;
		const char *v = eq ? eq + 1 : "";
		while (vlen && *v == ' ')
			v++, vlen--;
		if (!eq || eq == item || vlen == 0 ||
		    (origin && strncasecmp(v, "https://", 8) != 0 && strncasecmp(v, "http://", 7) != 0)) {
			WIMS_ERROR(LOG, "[pcscf] %s: \"%.*s\" is not WWSF=%s", key, (int)n, item,
				   origin ? "https://host[:port]" : "IMPI-glob");
			return WIMS_ECONF;
		}
	}
	return 0;
}

/* The token validator from [pcscf] (tna.md 5). */
static int bearer_start(void)
{
	if (check_pairs("wwsf_origins", pcscf_conf.wwsf_origins, true) ||
	    check_pairs("wwsf_pools", pcscf_conf.wwsf_pools, false))
		return WIMS_ECONF;
	char err[512], audience[160], cert[512], key[512];
	snprintf(audience, sizeof(audience), "sip:%s", wims_global.domain);
	bool default_cert = !pcscf_conf.waf_client_cert[0];
	if (default_cert) {
		if (wims_global_data_path("pcscf-client/cert.pem", cert, sizeof(cert)) ||
		    wims_global_data_path("pcscf-client/key.pem", key, sizeof(key))) {
			WIMS_ERROR(LOG, "data_dir too long for pcscf-client/");
			return WIMS_ECONF;
		}
	} else {
		snprintf(cert, sizeof(cert), "%s", pcscf_conf.waf_client_cert);
		snprintf(key, sizeof(key), "%s", pcscf_conf.waf_client_key);
	}
	bool w5 = pcscf_conf.waf_jwks[0] &&
		  (pcscf_conf.waf_introspect[0] || strncasecmp(pcscf_conf.waf_jwks, "https://", 8) == 0);
	if (w5 && default_cert) {
		/* Our identity at the WAF (a resource-server client); the WAF's
		 * demo seeding registers the same file's fingerprint. */
		static const char *const names[] = {"pcscf.ims.example.org", NULL};
		if (tls_ensure_self_signed(cert, key, names, err, sizeof(err)) != 0) {
			WIMS_WARN(LOG, "client certificate for the WAF: %s; W5 without one", err);
			cert[0] = key[0] = '\0';
		}
	}
	struct pcscf_bearer_conf bc = {
		.issuer = pcscf_conf.waf_issuer,
		.jwks = pcscf_conf.waf_jwks,
		.introspect = pcscf_conf.waf_introspect,
		.ca = pcscf_conf.waf_ca[0] ? pcscf_conf.waf_ca : wims_global.tls_cert,
		.client_cert = w5 ? cert : "",
		.client_key = w5 ? key : "",
		.audience = pcscf_conf.bearer_audience[0] ? pcscf_conf.bearer_audience : audience,
		.scope = pcscf_conf.bearer_scope,
		.skew_s = pcscf_conf.bearer_skew_s,
		.cache_entries = pcscf_conf.bearer_cache,
		.jwks_refresh_s = pcscf_conf.jwks_refresh_s,
		.post = post_to_worker,
	};
	int rc = pcscf_bearer_start(&bc, pcscf.nworkers, err, sizeof(err));
	if (rc) {
		WIMS_ERROR(LOG, "[pcscf] waf_*: %s", err);
		return rc;
	}
	if (pcscf_bearer_enabled())
		WIMS_INFO(LOG, "Bearer tokens: iss %s, aud %s, keys %s%s%s", bc.issuer, bc.audience,
			  bc.jwks, bc.introspect[0] ? ", introspection " : "", bc.introspect);
	else
		WIMS_INFO(LOG, "Bearer tokens refused (no [pcscf] waf_jwks)");
	return 0;
}

static int pcscf_start(void)
{
	char err[512];
	int rc;

	if (conf_addr_split(pcscf_conf.listen, pcscf.ws_host, sizeof(pcscf.ws_host),
			    &pcscf.ws_port) ||
	    conf_addr_split(pcscf_conf.mw_listen, pcscf.mw_host, sizeof(pcscf.mw_host),
			    &pcscf.mw_port) ||
	    conf_addr_split(pcscf_conf.cscf_addr, pcscf.cscf_host, sizeof(pcscf.cscf_host),
			    &pcscf.cscf_port)) {
		WIMS_ERROR(LOG, "bad address in [pcscf] listen, mw_listen or cscf_addr");
		return WIMS_ECONF;
	}
	/* mw_listen is also the address the core sends back to (Via, Path):
	 * it must be one the core can reach. */
	if (!pcscf.mw_host[0] || strcmp(pcscf.mw_host, "0.0.0.0") == 0 ||
	    strcmp(pcscf.mw_host, "::") == 0) {
		WIMS_ERROR(LOG, "mw_listen must be a concrete address (it goes in Via and Path)");
		return WIMS_ECONF;
	}
	hostport(pcscf.mw_hostport, sizeof(pcscf.mw_hostport), pcscf.mw_host, pcscf.mw_port);
	hostport(pcscf.ws_hostport, sizeof(pcscf.ws_hostport),
		 pcscf.ws_host[0] ? pcscf.ws_host : "127.0.0.1", pcscf.ws_port);
	snprintf(pcscf.ws_name, sizeof(pcscf.ws_name), "%s",
		 pcscf.ws_host[0] && strcmp(pcscf.ws_host, "0.0.0.0") && strcmp(pcscf.ws_host, "::")
			 ? pcscf.ws_host
			 : "127.0.0.1");
	pcscf.self = (struct pcscf_self){
		.mw_host = pcscf.mw_host,
		.mw_port = pcscf.mw_port,
		.ws_host = pcscf.ws_name,
		.ws_port = pcscf.ws_port,
	};
	if (net_port_claim(pcscf.ws_host, pcscf.ws_port, true, false, err, sizeof(err)) ||
	    net_port_claim(pcscf.mw_host, pcscf.mw_port, true, true, err, sizeof(err))) {
		WIMS_ERROR(LOG, "%s", err);
		return WIMS_EEXIST;
	}

	if (wims_global.tls_self_signed) {
		static const char *const names[] = {"127.0.0.1", "localhost", NULL};
		rc = tls_ensure_self_signed(wims_global.tls_cert, wims_global.tls_key, names, err,
					    sizeof(err));
		if (rc) {
			WIMS_ERROR(LOG, "self-signed certificate: %s", err);
			return rc;
		}
	}
	pcscf.tls = tls_server_ctx_new(wims_global.tls_cert, wims_global.tls_key, err, sizeof(err));
	if (!pcscf.tls) {
		WIMS_ERROR(LOG, "TLS: %s", err);
		return WIMS_ETLS;
	}
	/* Flow tokens die with the process (token.h). */
	uint8_t tag_rnd[8];
	if (RAND_bytes(pcscf.key, sizeof(pcscf.key)) != 1 ||
	    RAND_bytes(tag_rnd, sizeof(tag_rnd)) != 1 ||
	    sip_tag_format(pcscf.local_tag, sizeof(pcscf.local_tag), tag_rnd, sizeof(tag_rnd)) < 0) {
		WIMS_ERROR(LOG, "no randomness for the flow token key");
		pcscf_stop();
		return WIMS_EIO;
	}
	pcscf.ws_opts = (struct ws_server_opts){
		.subprotocol = "sip", /* RFC 7118 4 */
		.check_origin = check_origin,
		.max_message = WIMS_SIP_MAX_MSG,
		.ping_interval_ms = pcscf_conf.ping_interval_ms,
	};

	int n = wims_global_workers();
	if (n > 255)
		n = 255; /* the worker index is one byte of the token */
	pcscf.nworkers = n;
	pcscf.w = calloc((size_t)n, sizeof(*pcscf.w));
	pcscf.workers = pcscf.w ? workers_new(n, "pcscf") : NULL;
	if (!pcscf.workers) {
		WIMS_ERROR(LOG, "cannot start %d worker threads", n);
		pcscf_stop();
		return WIMS_ENOMEM;
	}
	pcscf.nworkers = workers_count(pcscf.workers);
	rc = bearer_start();
	if (rc) {
		pcscf_stop();
		return rc;
	}
	pcscf.error = 0;
	rc = workers_run_each(pcscf.workers, start_on_worker, NULL);
	if (rc || pcscf.error) {
		WIMS_ERROR(LOG, "%s", pcscf.error ? pcscf.errmsg : wims_strerror(rc));
		rc = rc ? rc : pcscf.error;
		pcscf_stop();
		return rc;
	}
	WIMS_INFO(LOG, "WSS on %s (any path), Mw on %s (TCP, UDP), core %s, %d workers; "
		       "origins: %s",
		  pcscf_conf.listen, pcscf.mw_hostport, pcscf_conf.cscf_addr, pcscf.nworkers,
		  pcscf_conf.allowed_origins);
	return 0;
}

static void pcscf_stop(void)
{
	if (pcscf.workers) {
		workers_run_each(pcscf.workers, close_on_worker, NULL);
		/* a peer answers a close at once; WIMS_WS_CLOSE_TIMEOUT_MS
		 * bounds one that does not */
		for (int i = 0; i < (WIMS_WS_CLOSE_TIMEOUT_MS + 500) / 20 &&
				atomic_load(&open_flows) > 0;
		     i++)
			usleep(20 * 1000);
		workers_run_each(pcscf.workers, stop_on_worker, NULL);
		workers_stop_and_free(pcscf.workers);
		pcscf.workers = NULL;
	}
	pcscf_bearer_stop();
	free(pcscf.w);
	pcscf.w = NULL;
	SSL_CTX_free(pcscf.tls);
	pcscf.tls = NULL;
	OPENSSL_cleanse(pcscf.key, sizeof(pcscf.key));
}

const struct role pcscf_role = {
	.name = "pcscf",
	.summary = "eP-CSCF: SIP over secure WebSocket (W2) to the IMS core (Mw)",
	.conf = &pcscf_section,
	.start = pcscf_start,
	.stop = pcscf_stop,
};
