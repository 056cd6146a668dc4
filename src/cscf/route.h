/*
 * route.h - the routing decisions of the cscf proxy, as pure functions:
 * which Route entries name us, where a request goes next, what a branch's
 * request looks like, the loop hash and the branch parameter.
 *
 * Nothing here does I/O, reads a clock or draws random bytes: cscf.c
 * passes them in, route_test.c feeds messages in whole, and
 * fuzz/cscf_route.c throws anything at it.  The rules are the ones of
 * /docs (wire contract for calls, RFC 3261 16.4, 16.6, 16.12):
 *
 *	Route: <sip:orig@127.0.0.1:5060;lr>, <sip:tok@127.0.0.1:5070;lr>
 *	        \__ names us: popped, "orig" __/ \__ next hop (pcscf) __/
 *
 *	no Route left, Request-URI ours    -> terminating (bindings, Path)
 *	no Route left, in a dialog, one of ours popped -> the Request-URI
 *	no Route left, otherwise           -> 403 (no open relay)
 *
 * A Route entry (or URI) names a node when its host and port equal the
 * node's (a missing port is 5060); the user part does not matter.
 */
#ifndef WIMS_CSCF_ROUTE_H
#define WIMS_CSCF_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/slice.h"
#include "sip/msg.h"
#include "store/store.h"

/* Our own address ([cscf] listen). */
struct cscf_self {
	const char *host; /* numeric: "127.0.0.1" */
	int port;
};

enum cscf_transport {
	CSCF_UDP,
	CSCF_TCP,
};

/* Where a request is sent. */
struct cscf_hop {
	enum cscf_transport transport;
	char host[64]; /* numeric address or name as written in the URI */
	int port;
	/* A connection to prefer (TCP): "tcp:127.0.0.3:40211", the address a
	 * directly attached phone registered from; "" for none. */
	char conn_hint[80];
	/* TCP: the worker's connection the last message went out on (the
	 * sender sets it), 0 none. */
	uint64_t conn;
};

/* Does URI text (no <>) name self?  A URI that does not parse: false. */
bool cscf_uri_names(struct slice uri, const struct cscf_self *self);

/* What the leading Route entries say. */
struct cscf_route_info {
	unsigned popped;   /* leading Route entries naming us */
	bool orig;         /* one of them had the user part "orig" */
	bool has_next;     /* a Route entry is left after them */
	struct slice next; /* its URI (between < and >) */
	unsigned total;    /* Route entries in the message */
};

/* Read the Route headers of m.  0, or WIMS_EPARSE / WIMS_ETOOBIG with
 * *reason ("Bad Route", "Too many Route entries"). */
int cscf_route_scan(const struct sip_msg *m, const struct cscf_self *self,
		    struct cscf_route_info *ri, const char **reason);

/* The hop of a URI: host, port (default 5060), transport=tcp -> TCP,
 * else UDP.  tel: URIs and URIs that do not parse: WIMS_EPARSE. */
int cscf_hop_from_uri(struct slice uri, struct cscf_hop *hop, const char **reason);

/* Where a branch towards a registration binding goes (wire contract
 * "terminating"): the first Path URI if the binding has a Path; else the
 * address the phone registered from (`received`, "udp:127.0.0.2:5090")
 * for UDP, and for TCP the Contact's host:port with that connection as
 * the hint.  0 or WIMS_EPARSE. */
int cscf_hop_from_binding(const struct store_binding *b, struct cscf_hop *hop);

/*
 * The IMPU a Request-URI of ours stands for, into out:
 *	tel:+15550000002                            -> tel:+15550000002
 *	sip:+1-555-000-0002@ims.example.org;user=phone -> tel:+15550000002
 *	sip:bob@127.0.0.1:5060 (our address)        -> sip:bob@<domain>
 *	sip:bob@ims.example.org;transport=tcp       -> sip:bob@ims.example.org
 * A SIP user part that is a global number (RFC 3966 "+" digits and visual
 * separators) is the tel: IMPU, user=phone or not (RFC 3261 19.1.6).
 * 0, WIMS_EPARSE (no user) or WIMS_ETOOBIG.
 */
int cscf_route_impu(struct slice ruri, const char *domain, char *out, size_t outsz);

/* Is the To of m tagged (a request inside a dialog)? */
bool cscf_in_dialog(const struct sip_msg *m);

/*
 * The served user of an originating request (TS 24.229 5.4.3.2), as an
 * IMPU in the form of cscf_route_impu: the first identity of the first
 * P-Asserted-Identity (a P-CSCF's assertion, RFC 3325), else the From.
 * 0, WIMS_EPARSE or WIMS_ETOOBIG.
 */
int cscf_served_user(const struct sip_msg *m, const char *domain, char *out, size_t outsz);

/* Does an initial request of this method get our Record-Route (INVITE,
 * SUBSCRIBE, REFER)? */
bool cscf_method_record_routes(enum sip_method method);

/* --- the loop hash and our branch parameter --- */

/* RFC 3261 16.6 step 8 / 16.3 step 4: a hash of what stays the same when
 * a request comes back to us unchanged (a loop) and changes when it comes
 * back on purpose (a spiral): Request-URI, From tag, To tag, Call-ID, CSeq
 * number and method, Route values, Proxy-Require. */
uint32_t cscf_loop_hash(const struct sip_msg *m);

/* Has m already passed us with this hash: is there a Via with our
 * sent-by whose branch we made with this hash?  (482 Loop Detected.) */
bool cscf_loop_detected(const struct sip_msg *m, const struct cscf_self *self, uint32_t hash);

/* Our branch: "z9hG4bKcs" + worker (2 hex) + hash (8 hex) + "." + the
 * random bytes in base32 (pass >= 10).  Returns its length or
 * WIMS_ETOOBIG. */
#define CSCF_BRANCH_MAX 64
int cscf_branch_make(char *out, size_t outsz, int worker, uint32_t hash, const uint8_t *rnd,
		     size_t n);
/* A branch we made: 0 with the worker and hash, WIMS_EPARSE otherwise. */
int cscf_branch_parse(struct slice branch, int *worker, uint32_t *hash);

/* --- a branch's request --- */

struct cscf_fwd {
	const char *via;          /* our Via line, goes on top */
	const char *record_route; /* our Record-Route line, or NULL */
	unsigned pop;             /* leading Route entries to drop */
	struct slice ruri;        /* new Request-URI; empty: keep */
	const char *route;        /* a Route line to add (the Path), or NULL */
	bool strip_pai;           /* drop P-Asserted-Identity */
	const char *pai;          /* a P-Asserted-Identity line to add, or NULL */
	bool strip_wwsf;          /* drop P-WWSF-Identity (not from a trusted node) */
};

/* TR 33.871 6.1.2.2 step 3, REQ 2.3: the WWSF that vouched for a trusted
 * node authentication, as the P-CSCF tells it (tna.md 2).  Not in the SIP
 * header table: matched by name. */
#define CSCF_WWSF_IDENTITY_HDR "P-WWSF-Identity"
bool cscf_hdr_is_wwsf_identity(const struct sip_hdr *h);

/* Append to out the request m as forwarded on one branch (RFC 3261 16.6):
 * Max-Forwards decremented (the caller answered 483 for 0), Routes
 * popped, Via and Record-Route on top, new Request-URI, Path as Route,
 * P-Asserted-Identity and P-WWSF-Identity dropped when asked.
 * 0, WIMS_EDENIED (Max-Forwards 0), WIMS_EPARSE or the buf's error. */
int cscf_fwd_build(const struct sip_msg *m, const struct cscf_fwd *f, struct buf *out);

/* The Max-Forwards of m: its value, 70 when absent, WIMS_EPARSE. */
int cscf_max_forwards(const struct sip_msg *m);

#endif
