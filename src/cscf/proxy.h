/*
 * proxy.h - the transaction-stateful forking proxy of the cscf (RFC 3261
 * 16, 17): one server transaction per request we route, one client
 * transaction per branch, the best final response upstream.
 *
 *	request --> server txn --+--> branch 1 (client txn) --> hop
 *	  100 Trying <--         +--> branch 2 (client txn) --> hop
 *	  1xx, every 2xx <------ forwarded at once
 *	  best final non-2xx <-- when every branch has ended
 *	                         (2xx or 6xx: the other branches CANCELled)
 *
 * Timers (milliseconds on a clock the caller passes in; cscf_proxy_tick
 * runs them): A/E retransmit a branch's request on UDP, B/F end a branch
 * with 408, Timer C ([cscf] timer_c) CANCELs an INVITE branch that has a
 * provisional or ends it with 408 if it has none, G retransmits a non-2xx
 * final upstream on UDP until the ACK (H gives up), J and L keep a
 * finished transaction a while on UDP to absorb retransmissions.
 *
 * A branch answered 430 Flow Failed (the pcscf's WebSocket is gone) ends
 * like a 480, io->flow_failed() is told the Contact, and 430 is never
 * forwarded: the caller gets 480 with a Warning if no branch did better.
 *
 * The proxy does no I/O itself: it calls the io functions, so that it
 * runs on a worker's sockets (cscf.c) or in a unit test (proxy_test.c).
 * One struct cscf_proxy per worker thread; it is not locked.
 */
#ifndef WIMS_CSCF_PROXY_H
#define WIMS_CSCF_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "cscf/route.h"
#include "sip/msg.h"

/* Where a request came from: its responses go back there. */
struct cscf_peer {
	enum cscf_transport transport;
	uint64_t conn;                /* TCP: the worker's connection id */
	struct sockaddr_storage addr; /* UDP: the datagram's source */
	socklen_t addrlen;
};

struct cscf_proxy_io {
	void *arg;
	/* A response upstream. */
	void (*send_up)(void *arg, const struct cscf_peer *to, const char *p, size_t len);
	/* A request (or CANCEL, ACK) downstream: 0, or < 0 when it cannot
	 * be sent at all (the branch then ends with 503).  TCP: sets
	 * to->conn to the connection used. */
	int (*send_down)(void *arg, struct cscf_hop *to, const char *p, size_t len);
	/* A branch to this Contact got 430 Flow Failed. */
	void (*flow_failed)(void *arg, const char *contact);
	/* n random bytes (To tags of our own responses). */
	void (*random)(void *arg, uint8_t *p, size_t n);
};

struct cscf_proxy_conf {
	int64_t timer_c_ms;     /* SIP_TIMER_C_MS unless configured */
	unsigned max_txns;      /* server transactions at once; more: 503 */
	const char *server;     /* Server: of our own responses, or NULL */
	const char *warn_agent; /* warn-agent of our Warnings: "127.0.0.1:5060" */
};

/* One branch to start. */
struct cscf_branch_spec {
	struct cscf_hop hop;
	struct slice branch; /* the branch parameter of our Via in msg */
	struct buf msg;      /* the request as built (cscf_fwd_build): taken */
	const char *contact; /* the binding's Contact (for 430), or NULL */
};

struct cscf_proxy;

struct cscf_proxy *cscf_proxy_new(const struct cscf_proxy_conf *conf,
				  const struct cscf_proxy_io *io);
/* Frees every transaction (nothing is sent).  NULL is fine. */
void cscf_proxy_free(struct cscf_proxy *p);

/* A request that belongs to a server transaction we hold: a
 * retransmission (the last response is sent again) or the ACK of a non-2xx
 * final (absorbed).  True when handled; false: a new request. */
bool cscf_proxy_request_seen(struct cscf_proxy *p, const struct sip_msg *m, int64_t now);

/* CANCEL m from `from`: if it matches an INVITE server transaction, it
 * gets 200 and every pending branch is CANCELled (true).  False: no match
 * (the caller answers 481). */
bool cscf_proxy_cancel(struct cscf_proxy *p, const struct sip_msg *m,
		       const struct cscf_peer *from, int64_t now);

/* A new server transaction for request m (not ACK/CANCEL) from `from`,
 * forked to the n branches (1 <= n <= WIMS_CSCF_MAX_BRANCHES; their
 * msg buffers are taken, also on failure).  An INVITE gets 100 Trying at
 * once.  0, or WIMS_ETOOBIG when max_txns are open (answer 503),
 * WIMS_EINVAL, WIMS_ENOMEM. */
int cscf_proxy_start(struct cscf_proxy *p, const struct sip_msg *m,
		     const struct cscf_peer *from, struct cscf_branch_spec *b, unsigned n,
		     int64_t now);

/* A response from downstream.  True when it matched a branch (handled);
 * false: no such branch here (the caller may forward a 2xx statelessly). */
bool cscf_proxy_response(struct cscf_proxy *p, const struct sip_msg *m, int64_t now);

/* TCP connection conn (an id io->send_down gave) could not be made or
 * broke: every pending branch sent on it ends with 503 (its answer can
 * only come back on that connection). */
void cscf_proxy_conn_failed(struct cscf_proxy *p, uint64_t conn, int64_t now);

/* Run the timers due at now. */
void cscf_proxy_tick(struct cscf_proxy *p, int64_t now);

/* Server transactions held (tests, stats). */
unsigned cscf_proxy_count(const struct cscf_proxy *p);
/* ... of which not yet answered (or, INVITE, not yet ACKed): the rest
 * only absorb retransmissions until their Timer J/L/I. */
unsigned cscf_proxy_count_pending(const struct cscf_proxy *p);

#endif
