/*
 * cscf.c - the cscf role: I-CSCF and S-CSCF in one SIP server over UDP and
 * TCP (Mw), with the registrar of reg.h behind it (DESIGN 1, 4).
 *
 *	pcscf --TCP--> [5060 TCP+UDP] --> REGISTER: reg.c (Cx UAR/MAR/SAR,
 *	phone -UDP/TCP->                  bindings in the store)
 *	                              --> OPTIONS to us: 200
 *	                              --> other requests: proxied (proxy.c,
 *	                                  decisions in route.c): Route set,
 *	                                  else the callee's bindings, forked
 *	                                  (404 unknown, 480 not registered)
 *
 * The proxy (wire contract for calls, RFC 3261 16): leading Route
 * entries naming us are popped; what is left routes the request (loose
 * routing); with nothing left the Request-URI's IMPU is looked up and the
 * request forked to every binding, Path as the Route set.  Identity:
 * P-Asserted-Identity is believed from [cscf] pcscf_nodes only; for any
 * other source we are the P-CSCF of a directly attached phone and assert
 * the From only if that IMPU is registered from that very address.
 *
 * Outgoing TCP: each worker connects on its own (to a pcscf's Mw port, to
 * a phone) and reuses a connection to the same host:port; requests and
 * responses are read on every connection, ours or accepted.  Our UDP
 * requests leave from the shared port, so their responses may reach any
 * worker: the branch parameter names the worker that owns the
 * transaction and the datagram is posted there (workers_post).
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
#include "core/fs.h"
#include "core/global.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/wims.h"
#include "cscf/proxy.h"
#include "cscf/reg.h"
#include "cscf/route.h"
#include "hss/cx.h"
#include "role.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"
#include "sip/txn.h"
#include "sip/uri.h"
#include "sip/via.h"
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
	char pcscf_nodes[WIMS_CONF_MAX_VALUE];
	int timer_c;
	int aka_vectors;
};

static struct cscf_conf cscf_conf;

static const struct conf_key cscf_keys[] = {
	CONF_KEY_ADDR(struct cscf_conf, listen, "127.0.0.1:5060",
		      "SIP address (UDP and TCP) of the I/S-CSCF (Mw); also in Service-Route"),
	CONF_KEY_LIST(struct cscf_conf, digest_algorithms, "AKAv2-SHA-256, AKAv1-MD5, SHA-256, MD5",
		      "Digest algorithms offered in 401s, one WWW-Authenticate each, in this "
		      "order (RFC 8760), each only to users the HSS serves it for: "
		      "AKAv2-SHA-256, AKAv1-MD5 (IMS AKA, RFC 4169 / RFC 3310), SHA-256, MD5 "
		      "(password)"),
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
	CONF_KEY_LIST(struct cscf_conf, trusted_nodes, "127.0.0.1",
		      "IP addresses whose integrity-protected=\"auth-done\" (trusted node "
		      "authentication) and P-WWSF-Identity are believed; a TNA REGISTER from "
		      "them must name its WWSF, which the HSS must allow (TR 33.871 REQ 2.1-2.3, "
		      "3.2); TNA from anywhere else gets 403, P-WWSF-Identity from anywhere "
		      "else is removed"),
	CONF_KEY_INT(struct cscf_conf, max_connections, "20000", 1, WIMS_MAX_CONNECTIONS,
		     "TCP connections each worker holds at once"),
	CONF_KEY_LIST(struct cscf_conf, pcscf_nodes, "127.0.0.1",
		      "IP addresses of our P-CSCFs: their P-Asserted-Identity is believed "
		      "(RFC 3325 trust domain); requests from anywhere else must come from "
		      "where their From is registered (else 403), and any PAI is replaced"),
	CONF_KEY_INT(struct cscf_conf, timer_c, "180", 1, 3600,
		     "seconds an INVITE branch may ring without a final answer (RFC 3261 "
		     "Timer C): then it is CANCELled, or ended as 408 if it never answered"),
	CONF_KEY_INT(struct cscf_conf, aka_vectors, "3", 1, CX_MAX_AKA_VECTORS,
		     "AKA vectors asked of the HSS per MAR (one SQN write for all): the first "
		     "challenges, the rest are kept (an hour at most) for the user's next "
		     "challenges and dropped on a resynchronisation; 3 gave 1.5-1.9 times the "
		     "AKA registrations per second of 1, 5 no more than 3"),
};

static const struct conf_section cscf_section = {
	.name = "cscf",
	.summary = "I-CSCF + S-CSCF: SIP registrar (Digest MD5/SHA-256, IMS AKA) and routing",
	.keys = cscf_keys,
	.nkeys = WIMS_ARRAY_LEN(cscf_keys),
	.target = &cscf_conf,
};

/* --- per-worker state --- */

struct cscf_worker;

#define CONN_BUCKETS 1024

struct conn {
	struct cscf_worker *w;
	struct bufferevent *bev;
	struct net_listener *from; /* NULL: a connection we opened */
	struct cscf_src src;
	uint64_t id;               /* per worker, from 1 */
	char key[80];              /* "host:port" of the peer, for reuse */
	struct cscf_hop hop;       /* ours: where it goes */
	struct conn *id_next, *key_next; /* hash chains (conn_index) */
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
	struct cscf_proxy *px;
	struct event *tick;
	uint64_t next_conn_id;
	/* Connections by id (responses upstream) and by "host:port" (reuse
	 * downstream): a worker may hold max_connections of them. */
	struct conn *by_id[CONN_BUCKETS];
	struct conn *by_key[CONN_BUCKETS];
};

static struct {
	struct wims_workers *workers;
	int nworkers;
	struct cscf_worker *w;
	struct cscf_reg *reg;
	struct cscf_reg_conf rc;
	char host[128];
	int port;
	struct cscf_self self;
	char hostport[160];     /* "127.0.0.1:5060" */
	char record_route[200]; /* "Record-Route: <sip:127.0.0.1:5060;lr>" */
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

/* Is the Request-URI ours: a tel: number, the home domain, or our own
 * address with our port?  The port matters: a phone registered from our
 * host on another port (127.0.0.1:17090) is somebody else. */
static bool uri_is_ours(const struct sip_uri *u)
{
	if (u->scheme == SIP_URI_TEL || slice_ieq_cstr(u->host, wims_global.domain))
		return true;
	bool host = slice_ieq_cstr(u->host, cscf.host) ||
		    (slice_ieq_cstr(u->host, "localhost") && strcmp(cscf.host, "127.0.0.1") == 0);
	return host && sip_uri_port_or_default(u) == cscf.port;
}

/* Is host (numeric) one of [cscf] pcscf_nodes? */
static bool from_pcscf(const char *host)
{
	const char *cur = cscf_conf.pcscf_nodes, *item;
	size_t n;
	while ((n = conf_list_next(&cur, &item)) > 0)
		if (strlen(host) == n && strncasecmp(host, item, n) == 0)
			return true;
	return false;
}

struct src_match {
	const struct cscf_src *src;
	bool found;
};

/* Is binding b registered from the request's source?  UDP: the same
 * address and port.  TCP: the same address (a phone's TCP source port
 * changes with every connection it opens). */
static int src_match_cb(void *arg, const struct store_binding *b)
{
	struct src_match *sm = arg;
	char want[WIMS_REG_CONTACT_MAX];
	if (strcmp(sm->src->proto, "udp") == 0) {
		snprintf(want, sizeof(want), "udp:%s:%d", sm->src->host, sm->src->port);
		if (strcmp(b->received, want) == 0)
			sm->found = true;
	} else {
		int n = snprintf(want, sizeof(want), "%s:%s:", sm->src->proto, sm->src->host);
		if (n > 0 && strncmp(b->received, want, (size_t)n) == 0 &&
		    !strchr(b->received + n, ':'))
			sm->found = true;
	}
	return 0;
}

struct fork_ctx {
	struct store_binding b[WIMS_CSCF_MAX_BRANCHES];
	unsigned n;
};

static int fork_cb(void *arg, const struct store_binding *b)
{
	struct fork_ctx *fc = arg;
	if (fc->n < WIMS_CSCF_MAX_BRANCHES)
		fc->b[fc->n++] = *b;
	return 0;
}

/* Our Via line towards hop, with a fresh branch (CSCF_BRANCH_MAX) naming
 * this worker and the loop hash. */
static int our_via(const struct cscf_worker *w, uint32_t hash, const struct cscf_hop *hop,
		   char *branch, char *via, size_t viasz)
{
	uint8_t rnd[10];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    cscf_branch_make(branch, CSCF_BRANCH_MAX, w->index, hash, rnd, sizeof(rnd)) < 0)
		return WIMS_EIO;
	snprintf(via, viasz, "Via: SIP/2.0/%s %s;branch=%s;rport",
		 hop->transport == CSCF_TCP ? "TCP" : "UDP", cscf.hostport, branch);
	return 0;
}

/* One branch of request m: our Via with a fresh branch, the request
 * edited for it (route.h), ready for cscf_proxy_start. */
static int make_branch(struct cscf_worker *w, const struct sip_msg *m, uint32_t hash,
		       struct cscf_fwd *f, const struct cscf_hop *hop, char *branch,
		       struct cscf_branch_spec *spec)
{
	char via[300];
	if (our_via(w, hash, hop, branch, via, sizeof(via)) != 0)
		return WIMS_EIO;
	f->via = via;
	spec->hop = *hop;
	spec->branch = slice_from_cstr(branch);
	spec->msg = (struct buf)BUF_INIT;
	spec->contact = NULL;
	int rc = cscf_fwd_build(m, f, &spec->msg);
	f->via = NULL;
	if (rc)
		buf_free(&spec->msg);
	return rc;
}

/* Why a branch could not be built, as the answer upstream. */
static void respond_build_error(const struct sip_msg *m, int rc, struct buf *out)
{
	if (rc == WIMS_EDENIED)
		respond(m, 483, "Too Many Hops", NULL, out);
	else if (rc == WIMS_ETOOBIG)
		respond(m, 513, "Message Too Large once forwarded", NULL, out);
	else
		respond(m, 500, "Cannot forward", NULL, out);
}

static void stateless_send(struct cscf_worker *w, const struct cscf_hop *hop, const char *p,
			   size_t len);

/* ACK for a 2xx: end to end, forwarded without a transaction by the same
 * rules; nothing to answer if it cannot go anywhere. */
static void forward_ack(struct cscf_worker *w, const struct sip_msg *m,
			const struct cscf_route_info *ri)
{
	struct cscf_hop hop;
	const char *reason;
	struct slice to = ri->has_next ? ri->next : m->ruri;
	if (!ri->has_next && ri->popped == 0)
		return; /* not routed through us: nowhere we would send it */
	struct sip_uri u;
	if (!ri->has_next && (sip_uri_parse(&u, m->ruri, &reason) != 0 || uri_is_ours(&u)))
		return; /* the ACK of a final we sent ourselves */
	if (cscf_max_forwards(m) <= 0 || cscf_hop_from_uri(to, &hop, &reason) != 0)
		return;
	char branch[CSCF_BRANCH_MAX], via[300];
	if (our_via(w, cscf_loop_hash(m), &hop, branch, via, sizeof(via)) != 0)
		return;
	struct cscf_fwd f = {.via = via, .pop = ri->popped};
	struct buf out = BUF_INIT;
	if (cscf_fwd_build(m, &f, &out) == 0)
		stateless_send(w, &hop, out.p, out.len);
	buf_free(&out);
}

/* Our own capabilities (RFC 3261 11.2). */
static void options_answer(const struct sip_msg *m, struct buf *out)
{
	char extra[300];
	snprintf(extra, sizeof(extra), "%s\r\nAccept: application/sdp\r\nSupported: path, outbound",
		 allow);
	respond(m, 200, "OK", extra, out);
}

/*
 * A request other than REGISTER: answered at once into out (errors,
 * OPTIONS to us, 481 CANCEL), or handed to the proxy, which answers
 * through its io.
 */
static void route_request(struct cscf_worker *w, const struct sip_msg *m,
			  const struct cscf_src *src, const struct cscf_peer *peer, struct buf *out)
{
	int64_t now = now_ms();
	const char *reason = "Bad Request";
	char safe[160];
	struct cscf_route_info ri;
	if (cscf_route_scan(m, &cscf.self, &ri, &reason) != 0) {
		if (m->method_id != SIP_METHOD_ACK)
			respond(m, 400, reason, NULL, out);
		return;
	}
	if (m->method_id == SIP_METHOD_ACK) {
		if (!cscf_proxy_request_seen(w->px, m, now))
			forward_ack(w, m, &ri);
		return;
	}
	if (cscf_proxy_request_seen(w->px, m, now))
		return; /* a retransmission: the last response went again */
	if (m->method_id == SIP_METHOD_CANCEL) {
		if (!cscf_proxy_cancel(w->px, m, peer, now))
			respond(m, 481, "Call/Transaction Does Not Exist", NULL, out);
		return;
	}
	struct sip_uri u;
	if (sip_uri_parse(&u, m->ruri, &reason) != 0) {
		respond(m, 400, reason, NULL, out);
		return;
	}
	bool ruri_ours = uri_is_ours(&u);
	if (!ri.has_next && ruri_ours && m->method_id == SIP_METHOD_OPTIONS &&
	    (u.user.len == 0 || u.scheme == SIP_URI_TEL ||
	     !slice_ieq_cstr(u.host, wims_global.domain))) {
		/* For us (sipsak and svmap ask sip:x@<our address>); a user's
		 * OPTIONS names the home domain. */
		options_answer(m, out);
		return;
	}
	int mf = cscf_max_forwards(m);
	if (mf < 0) {
		respond(m, 400, "Bad Max-Forwards", NULL, out);
		return;
	}
	if (mf == 0) {
		respond(m, 483, "Too Many Hops", NULL, out);
		return;
	}
	uint32_t hash = cscf_loop_hash(m);
	if (cscf_loop_detected(m, &cscf.self, hash)) {
		WIMS_INFO(LOG, "%.*s %s: loop detected (482)", (int)m->method.len, m->method.p,
			  log_safe(m->ruri, safe, sizeof(safe)));
		respond(m, 482, "Loop Detected", NULL, out);
		return;
	}
	bool dialog = cscf_in_dialog(m);

	/* Identity (RFC 3325): a P-CSCF's assertion is believed; anyone
	 * else is a phone attached to us, asserted from its registration. */
	bool trusted = from_pcscf(src->host);
	char pai[WIMS_IMPU_MAX + 40] = "";
	if (!trusted && !dialog) {
		const struct sip_hdr *fh = sip_msg_hdr(m, SIP_HDR_FROM);
		struct sip_nameaddr na;
		char impu[WIMS_IMPU_MAX];
		struct src_match sm = {.src = src};
		if (sip_nameaddr_parse(&na, fh->value, &reason) != 0 ||
		    cscf_reg_impu(na.uri, impu, sizeof(impu)) != 0 ||
		    store_binding_list(w->st, impu, time(NULL), src_match_cb, &sm) < 0 || !sm.found) {
			WIMS_WARN(LOG, "%.*s from %s:%s:%d: From %s is not registered from there: 403",
				  (int)m->method.len, m->method.p, src->proto, src->host, src->port,
				  log_safe(fh->value, safe, sizeof(safe)));
			respond(m, 403, "From is not registered from this address", NULL, out);
			return;
		}
		snprintf(pai, sizeof(pai), "P-Asserted-Identity: <%s>", impu);
	}
	/* TS 24.229 5.4.3.2: originating requests (our "orig" Route, the
	 * Service-Route a P-CSCF puts in front) are served for registered
	 * users only.  A P-CSCF's initial request for a user without a live
	 * binding is refused: expired, deregistered, or removed when the
	 * WWSF it registered through was blocked (TR 33.871 REQ 2.2).
	 * Requests inside a dialog carry on (the dialog was set up while
	 * registered); terminating ones (no "orig": the WAF's MESSAGE to a
	 * user) are not originating for anyone we serve. */
	if (trusted && ri.orig && !dialog) {
		char served[WIMS_IMPU_MAX];
		int reg = cscf_reg_originating(w->st, m, wims_global.domain, time(NULL), served);
		if (reg == 0 || reg == WIMS_EPARSE || reg == WIMS_ETOOBIG) {
			WIMS_INFO(LOG, "%.*s from %s:%s:%d for %s: not registered: 403",
				  (int)m->method.len, m->method.p, src->proto, src->host, src->port,
				  served[0] ? served : "(no identity)");
			char warn[sizeof(cscf.hostport) + 40];
			snprintf(warn, sizeof(warn), "Warning: 399 %s \"Not registered\"",
				 cscf.hostport);
			respond(m, 403, "Not registered", warn, out);
			return;
		}
		if (reg < 0) {
			WIMS_ERROR(LOG, "%s: bindings unreadable: %s", served, wims_strerror(reg));
			respond(m, 500, "Store error", NULL, out);
			return;
		}
	}

	struct cscf_fwd f = {
		.pop = ri.popped,
		.record_route = !dialog && cscf_method_record_routes(m->method_id) ? cscf.record_route
										   : NULL,
		.strip_pai = !trusted,
		.pai = pai[0] ? pai : NULL,
		/* TR 33.871 REQ 2.3: a WWSF identity only from a trusted node. */
		.strip_wwsf = !cscf_reg_trusted(cscf.reg, src->host),
	};
	struct cscf_branch_spec spec[WIMS_CSCF_MAX_BRANCHES];
	char branches[WIMS_CSCF_MAX_BRANCHES][CSCF_BRANCH_MAX];
	unsigned n = 0;
	struct cscf_hop hop;
	int rc;

	if (ri.has_next || (!ruri_ours && dialog && ri.popped > 0)) {
		/* Loose routing (RFC 3261 16.12): the next Route entry, or at
		 * the end of a dialog's route set the remote target. */
		if (cscf_hop_from_uri(ri.has_next ? ri.next : m->ruri, &hop, &reason) != 0) {
			respond(m, 400, reason, NULL, out);
			return;
		}
		if ((rc = make_branch(w, m, hash, &f, &hop, branches[0], &spec[0])) != 0) {
			respond_build_error(m, rc, out);
			return;
		}
		n = 1;
	} else if (!ruri_ours) {
		respond(m, 403, "Not our domain", NULL, out); /* not an open relay */
		return;
	} else {
		/* Terminating: the callee's bindings. */
		char impu[WIMS_IMPU_MAX];
		if (cscf_route_impu(m->ruri, wims_global.domain, impu, sizeof(impu)) != 0) {
			respond(m, 404, "Not Found", NULL, out);
			return;
		}
		struct cx_lia lia;
		rc = cx_lir(w->cx, impu, &lia);
		if (rc == CX_ERROR_USER_UNKNOWN) {
			respond(m, 404, "Unknown user", NULL, out);
			return;
		}
		if (rc < 0) {
			respond(m, 500, "HSS unavailable", NULL, out);
			return;
		}
		struct fork_ctx *fc = malloc(sizeof(*fc));
		if (!fc) {
			respond(m, 500, "Out of memory", NULL, out);
			return;
		}
		fc->n = 0;
		if (rc == CX_SUCCESS)
			store_binding_list(w->st, impu, time(NULL), fork_cb, fc);
		char route[WIMS_REG_PATH_MAX + 16];
		int build_err = 0;
		for (unsigned i = 0; i < fc->n; i++) {
			const struct store_binding *b = &fc->b[i];
			if (cscf_hop_from_binding(b, &hop) != 0) {
				WIMS_WARN(LOG, "%s: binding %s unusable", impu, b->contact);
				continue;
			}
			f.ruri = slice_from_cstr(b->contact);
			if (b->path[0]) {
				snprintf(route, sizeof(route), "Route: %s", b->path);
				f.route = route;
			} else {
				f.route = NULL;
			}
			if ((rc = make_branch(w, m, hash, &f, &hop, branches[n], &spec[n])) != 0) {
				build_err = rc;
				continue;
			}
			spec[n].contact = b->contact;
			n++;
		}
		if (n == 0) {
			free(fc);
			if (build_err)
				respond_build_error(m, build_err, out);
			else
				respond(m, 480, "Not registered", NULL, out);
			return;
		}
		/* spec[].contact points into fc: start before freeing it */
		rc = cscf_proxy_start(w->px, m, peer, spec, n, now);
		free(fc);
		goto started;
	}
	rc = cscf_proxy_start(w->px, m, peer, spec, n, now);
started:
	if (rc == WIMS_ETOOBIG)
		respond(m, 503, "Too many transactions", NULL, out);
	else if (rc)
		respond(m, 500, "Cannot forward", NULL, out);
}

/* One request, whatever its transport: the response (if any) into out. */
static void request(struct cscf_worker *w, const struct sip_msg *m, const struct cscf_src *src,
		    const struct cscf_peer *peer, struct buf *out)
{
	if (m->method_id == SIP_METHOD_REGISTER) {
		int rc = cscf_reg_register(cscf.reg, &w->io, m, src, time(NULL), out);
		if (rc < 0)
			WIMS_ERROR(LOG, "REGISTER from %s:%d: no response built: %s", src->host,
				   src->port, wims_strerror(rc));
		return;
	}
	if (m->method_id != SIP_METHOD_ACK && cscf_reg_tna_refused(cscf.reg, m, src)) {
		WIMS_WARN(LOG, "%.*s with integrity-protected=\"auth-done\" from %s, not a trusted "
			       "node: 403",
			  (int)m->method.len, m->method.p, src->host);
		char warn[sizeof(cscf.hostport) + 80];
		snprintf(warn, sizeof(warn),
			 "Warning: 399 %s \"Trusted node authentication from an untrusted node\"",
			 cscf.hostport);
		respond(m, 403, "Trusted node authentication from an untrusted node", warn, out);
		return;
	}
	route_request(w, m, src, peer, out);
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

static void response_in(struct cscf_worker *w, const struct sip_msg *m);

static unsigned key_bucket(const char *key)
{
	uint32_t h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h % CONN_BUCKETS;
}

/* Put a new connection (id and key set) on the worker's list and tables. */
static void conn_index(struct cscf_worker *w, struct conn *c)
{
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	unsigned i = (unsigned)(c->id % CONN_BUCKETS), k = key_bucket(c->key);
	c->id_next = w->by_id[i];
	w->by_id[i] = c;
	c->key_next = w->by_key[k];
	w->by_key[k] = c;
}

static void conn_free(struct conn *c)
{
	struct cscf_worker *w = c->w;
	struct conn **pp = &w->by_id[c->id % CONN_BUCKETS];
	while (*pp && *pp != c)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = c->id_next;
	pp = &w->by_key[key_bucket(c->key)];
	while (*pp && *pp != c)
		pp = &(*pp)->key_next;
	if (*pp)
		*pp = c->key_next;
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
			struct cscf_peer peer = {.transport = CSCF_TCP, .conn = c->id};
			request(c->w, &m, &c->src, &peer, &out);
			if (out.len && !out.err)
				bufferevent_write(bev, out.p, out.len);
		} else {
			response_in(c->w, &m);
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
	if (what & BEV_EVENT_CONNECTED) {
		WIMS_DEBUG(LOG, "worker %d: connected to %s", c->w->index, c->key);
		return;
	}
	WIMS_DEBUG(LOG, "TCP %s:%d %s", c->src.host, c->src.port,
		   (what & BEV_EVENT_TIMEOUT) ? "idle, closed"
		   : (what & BEV_EVENT_EOF)   ? "closed"
					      : "failed");
	struct cscf_worker *w = c->w;
	uint64_t id = c->id;
	conn_free(c);
	/* Branches still waiting on this connection will not hear back on
	 * it: they end now (503) instead of at Timer B. */
	cscf_proxy_conn_failed(w->px, id, now_ms());
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
	c->id = ++w->next_conn_id;
	net_hostport_format(c->src.host, c->src.port, c->key, sizeof(c->key));
	conn_index(w, c);
	struct timeval idle = {WIMS_CSCF_TCP_IDLE_S, 0};
	bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* The worker's connection with this id (responses go back on it). */
static struct conn *conn_by_id(struct cscf_worker *w, uint64_t id)
{
	for (struct conn *c = w->by_id[id % CONN_BUCKETS]; c; c = c->id_next)
		if (c->id == id && !c->closing)
			return c;
	return NULL;
}

static struct conn *conn_by_key(struct cscf_worker *w, const char *key)
{
	for (struct conn *c = w->by_key[key_bucket(key)]; c; c = c->key_next)
		if (!c->closing && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

/* A connection to hop: the hinted one (where a phone registered from),
 * one to the same host:port, or a new one. */
static struct conn *conn_for_hop(struct cscf_worker *w, const struct cscf_hop *hop)
{
	struct conn *c;
	char key[80];
	if (hop->conn_hint[0] && strncmp(hop->conn_hint, "tcp:", 4) == 0 &&
	    (c = conn_by_key(w, hop->conn_hint + 4)))
		return c;
	net_hostport_format(hop->host, hop->port, key, sizeof(key));
	if ((c = conn_by_key(w, key)))
		return c;
	char err[256];
	struct bufferevent *bev = net_connect_tcp(w->base, hop->host, hop->port, NULL, NULL, err,
						  sizeof(err));
	if (!bev) {
		WIMS_WARN(LOG, "worker %d: cannot connect to %s: %s", w->index, key, err);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->w = w;
	c->bev = bev;
	c->id = ++w->next_conn_id;
	c->hop = *hop;
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->src.proto, sizeof(c->src.proto), "tcp");
	snprintf(c->src.host, sizeof(c->src.host), "%s", hop->host);
	c->src.port = hop->port;
	conn_index(w, c);
	struct timeval idle = {WIMS_CSCF_TCP_IDLE_S, 0};
	bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
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

/* A UDP datagram for another worker (see the file comment). */
struct udp_job {
	int worker;
	struct sockaddr_storage from;
	socklen_t fromlen;
	size_t len;
	char data[];
};

static void udp_one(struct cscf_worker *w, const char *p, size_t n,
		    const struct sockaddr_storage *from, socklen_t fromlen, bool posted);

static void udp_job_run(void *arg)
{
	struct udp_job *j = arg;
	struct cscf_worker *w = &cscf.w[j->worker];
	if (w->px)
		udp_one(w, j->data, j->len, &j->from, j->fromlen, true);
	free(j);
}

/* Is this response for a transaction of another worker?  Then post it
 * there and say true. */
static bool udp_post_owner(struct cscf_worker *w, const struct sip_msg *m,
			   const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct sip_via v;
	const char *reason;
	int owner;
	uint32_t hash;
	if (sip_msg_top_via(m, &v, &reason) != 0 || cscf_branch_parse(v.branch, &owner, &hash) != 0 ||
	    owner == w->index || owner >= cscf.nworkers)
		return false;
	struct udp_job *j = malloc(sizeof(*j) + m->raw.len);
	if (!j)
		return true;
	j->worker = owner;
	j->from = *from;
	j->fromlen = fromlen;
	j->len = m->raw.len;
	memcpy(j->data, m->raw.p, m->raw.len);
	if (workers_post(cscf.workers, owner, udp_job_run, j) != 0)
		free(j);
	else
		WIMS_DEBUG(LOG, "worker %d: %d response posted to worker %d", w->index, m->status,
			   owner);
	return true;
}

static void udp_one(struct cscf_worker *w, const char *p, size_t n,
		    const struct sockaddr_storage *from, socklen_t fromlen, bool posted)
{
	struct cscf_src src = {.proto = "udp"};
	net_addr_format_host((const struct sockaddr *)from, src.host, sizeof(src.host));
	src.port = net_addr_port((const struct sockaddr *)from);
	struct sip_msg m;
	const char *reason = "Bad Request";
	int rc;
	if (n > WIMS_SIP_MAX_MSG) {
		/* Index what fits so the 513 can still be addressed. */
		sip_msg_parse(&m, p, WIMS_SIP_MAX_MSG, SIP_FRAMING_DATAGRAM, &reason);
		rc = WIMS_ETOOBIG;
		reason = "Message Too Large";
	} else {
		rc = sip_msg_parse(&m, p, n, SIP_FRAMING_DATAGRAM, &reason);
	}
	struct buf out = BUF_INIT;
	if (rc < 0) {
		malformed(&m, rc, reason, &src, &out);
	} else if (m.keepalive) {
		/* RFC 5626 4.4.1: on UDP the keep-alive is STUN; bare CRLFs
		 * get nothing back. */
	} else if (!m.is_request) {
		if (posted || !udp_post_owner(w, &m, from, fromlen))
			response_in(w, &m);
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
		struct cscf_peer peer = {.transport = CSCF_UDP, .addr = *from, .addrlen = fromlen};
		request(w, &m, &src, &peer, &out);
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
		udp_one(w, w->udp_buf, (size_t)n, &from, fromlen, false);
	}
}

/* --- the proxy's I/O --- */

/* A request downstream, outside any transaction or for one. */
static int send_to_hop(struct cscf_worker *w, struct cscf_hop *hop, const char *p, size_t len)
{
	if (hop->transport == CSCF_TCP) {
		struct conn *c = conn_for_hop(w, hop);
		hop->conn = c ? c->id : 0;
		if (!c)
			return WIMS_EIO;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > WIMS_CSCF_MAX_QUEUED) {
			WIMS_WARN(LOG, "worker %d: %s is not reading: message dropped", w->index,
				  c->key);
			return WIMS_EIO;
		}
		return bufferevent_write(c->bev, p, len) == 0 ? 0 : WIMS_EIO;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_addr_make(hop->host, hop->port, &ss, &sl) != 0) {
		WIMS_WARN(LOG, "cannot send to %s:%d (UDP): not a numeric address", hop->host,
			  hop->port);
		return WIMS_EINVAL;
	}
	if (sendto(w->udp_fd, p, len, 0, (const struct sockaddr *)&ss, sl) < 0) {
		WIMS_DEBUG(LOG, "UDP send to %s:%d: %s", hop->host, hop->port, strerror(errno));
		return WIMS_EIO;
	}
	return 0;
}

static void stateless_send(struct cscf_worker *w, const struct cscf_hop *hop, const char *p,
			   size_t len)
{
	struct cscf_hop h = *hop;
	send_to_hop(w, &h, p, len);
}

static int io_send_down(void *arg, struct cscf_hop *to, const char *p, size_t len)
{
	return send_to_hop(arg, to, p, len);
}

static void io_send_up(void *arg, const struct cscf_peer *to, const char *p, size_t len)
{
	struct cscf_worker *w = arg;
	if (to->transport == CSCF_TCP) {
		struct conn *c = conn_by_id(w, to->conn);
		if (!c)
			WIMS_DEBUG(LOG, "response dropped: its connection is gone");
		else if (evbuffer_get_length(bufferevent_get_output(c->bev)) > WIMS_CSCF_MAX_QUEUED)
			WIMS_WARN(LOG, "worker %d: %s is not reading: response dropped", w->index,
				  c->key);
		else
			bufferevent_write(c->bev, p, len);
		return;
	}
	udp_send(w, p, len, (const struct sockaddr *)&to->addr, to->addrlen);
}

static void io_flow_failed(void *arg, const char *contact)
{
	struct cscf_worker *w = arg;
	int rc = store_binding_delete_contact(w->st, contact);
	if (rc > 0)
		cscf_reg_bindings_removed(cscf.reg);
	char safe[160];
	WIMS_INFO(LOG, "430 Flow Failed for %s: %d bindings removed",
		  log_safe(slice_from_cstr(contact), safe, sizeof(safe)), rc);
}

static void io_random(void *arg, uint8_t *p, size_t n)
{
	WIMS_UNUSED(arg);
	if (RAND_bytes(p, (int)n) != 1)
		memset(p, 0x5a, n); /* To tags need uniqueness, not secrecy */
}

/* A response from downstream: its branch, or (a 2xx whose transaction is
 * over, RFC 3261 16.7) forwarded along Via without one. */
static void response_in(struct cscf_worker *w, const struct sip_msg *m)
{
	if (cscf_proxy_response(w->px, m, now_ms()))
		return;
	struct sip_msg_via_iter it;
	struct sip_via top, next;
	const char *reason;
	int owner;
	uint32_t hash;
	sip_msg_via_iter_init(&it, m);
	if (m->status < 200 || m->status >= 300 || m->cseq_method_id != SIP_METHOD_INVITE ||
	    sip_msg_via_iter_next(&it, &top, &reason) != 1 ||
	    cscf_branch_parse(top.branch, &owner, &hash) != 0 ||
	    sip_msg_via_iter_next(&it, &next, &reason) != 1) {
		WIMS_DEBUG(LOG, "stray %d response dropped", m->status);
		return;
	}
	struct cscf_hop hop = {.transport = next.transport_id == SIP_TRANSPORT_UDP ? CSCF_UDP
										     : CSCF_TCP};
	struct slice host = next.received.len ? next.received : next.host;
	if (slice_copy_cstr(host, hop.host, sizeof(hop.host)) != 0)
		return;
	hop.port = next.rport_value ? next.rport_value : next.port ? next.port : 5060;
	struct buf out = BUF_INIT;
	if (sip_build_response_upstream(&out, m) == 0)
		send_to_hop(w, &hop, out.p, out.len);
	buf_free(&out);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	struct cscf_worker *w = arg;
	cscf_proxy_tick(w->px, now_ms());
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
	struct cscf_proxy_conf pc = {
		.timer_c_ms = (int64_t)cscf_conf.timer_c * 1000,
		.server = "wims-cscf",
		.warn_agent = cscf.hostport,
	};
	struct cscf_proxy_io pio = {
		.arg = w,
		.send_up = io_send_up,
		.send_down = io_send_down,
		.flow_failed = io_flow_failed,
		.random = io_random,
	};
	w->px = cscf_proxy_new(&pc, &pio);
	struct timeval every_tick = {0, WIMS_CSCF_TICK_MS * 1000};
	w->tick = w->px ? event_new(base, -1, EV_PERSIST, tick_cb, w) : NULL;
	if (!w->tick || event_add(w->tick, &every_tick) != 0) {
		fail_worker("start", "cannot start the proxy");
		return;
	}
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
	if (w->tick)
		event_free(w->tick);
	w->tick = NULL;
	if (w->px)
		WIMS_INFO(LOG, "worker %d: %u transactions pending at stop (%u more answered, "
			       "absorbing retransmissions)",
			  w->index, cscf_proxy_count_pending(w->px),
			  cscf_proxy_count(w->px) - cscf_proxy_count_pending(w->px));
	cscf_proxy_free(w->px);
	w->px = NULL;
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
		enum cscf_reg_alg alg;
		if (cscf_reg_alg_parse((struct slice){item, n}, &alg) != 0 ||
		    rc->nalgs == WIMS_ARRAY_LEN(rc->algs)) {
			WIMS_ERROR(LOG, "[cscf] digest_algorithms: \"%.*s\" is not AKAv2-SHA-256, "
					"AKAv1-MD5, SHA-256, MD5, SHA-256-sess or MD5-sess",
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
	rc->aka_vectors = (unsigned)cscf_conf.aka_vectors;
	rc->min_expires = (uint32_t)cscf_conf.min_expires;
	rc->max_expires = (uint32_t)cscf_conf.max_expires;
	rc->default_expires = (uint32_t)cscf_conf.default_expires;
	char hp[160];
	net_hostport_format(cscf.host, cscf.port, hp, sizeof(hp));
	snprintf(rc->service_route, sizeof(rc->service_route), "<sip:orig@%s;lr>", hp);
	snprintf(cscf.hostport, sizeof(cscf.hostport), "%s", hp);
	snprintf(cscf.record_route, sizeof(cscf.record_route), "Record-Route: <sip:%s;lr>", hp);
	cscf.self = (struct cscf_self){cscf.host, cscf.port};
	snprintf(rc->server_name, sizeof(rc->server_name), "sip:%s", hp);
	snprintf(rc->trusted_nodes, sizeof(rc->trusted_nodes), "%s", cscf_conf.trusted_nodes);
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
	if (fs_make_parent_dirs(hss_path, 0700) || fs_make_parent_dirs(cscf.store_path, 0700)) {
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
	char algs[128] = "";
	for (unsigned i = 0; i < cscf.rc.nalgs; i++) {
		size_t l = strlen(algs);
		snprintf(algs + l, sizeof(algs) - l, "%s%s", i ? ", " : "",
			 cscf_reg_alg_name(cscf.rc.algs[i]));
	}
	char safe[128], safe_pcscf[128];
	WIMS_INFO(LOG, "SIP on %s (UDP, TCP), %d workers; realm %s, Digest %s (AKA vectors per "
		       "MAR: %d); HSS %s; "
		       "bindings in %s; trusted nodes: %s; P-Asserted-Identity believed from: %s; "
		       "Timer C %d s",
		  cscf_conf.listen, cscf.nworkers, cscf.rc.realm, algs, cscf_conf.aka_vectors, hss_path,
		  cscf.store_path,
		  cscf_conf.trusted_nodes[0]
			  ? log_safe(slice_from_cstr(cscf_conf.trusted_nodes), safe, sizeof(safe))
			  : "none",
		  cscf_conf.pcscf_nodes[0] ? log_safe(slice_from_cstr(cscf_conf.pcscf_nodes),
						      safe_pcscf, sizeof(safe_pcscf))
					   : "nobody",
		  cscf_conf.timer_c);
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
	.summary = "I-CSCF + S-CSCF: SIP registrar (Digest MD5/SHA-256, IMS AKA) over UDP and TCP",
	.conf = &cscf_section,
	.start = cscf_start,
	.stop = cscf_stop,
};
