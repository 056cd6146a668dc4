/*
 * txn.h - the requests one worker forwarded from its flows to the core and
 * that still wait for a final response.
 *
 * The eP-CSCF routes responses statelessly (the Via branch names the flow,
 * token.h), so this table is not needed to deliver them.  It exists for
 * what a stateless proxy cannot do:
 *  - answer the client itself when the core is unreachable (503 when the
 *    TCP connection that carried the request fails) or silent (408 after
 *    RFC 3261 Timer F/B/C), so a WIC never hangs;
 *  - know, when a 200 OK to a REGISTER comes back, what that REGISTER
 *    said (Authorization username, To, Contact, Expires) or, for one
 *    registered by token, what the token authorised, to bind the flow.
 * Each entry keeps a copy of the client's request as received.
 *
 * Key: the txn id of our branch (token.h) and the method (a CANCEL has
 * its INVITE's branch, RFC 3261 9.1).  Owned by one worker; no locks.
 *
 * A second table of the same shape holds the INVITEs the core sent to a
 * flow and that are not over (key: the txn id of the core's branch on
 * that flow).  With it the eP-CSCF
 *  - gives a CANCEL (and the ACK to a non-2xx) from the core the very
 *    Via branch its INVITE got towards the WIC, so the WIC's INVITE
 *    server transaction matches it (RFC 3261 9.2, 17.2.3), even when it
 *    came on another core connection;
 *  - answers 430 Flow Failed at once to the INVITEs still pending when
 *    the flow's WebSocket closes (RFC 5626 5.3), instead of leaving the
 *    core to wait for Timer C.
 */
#ifndef WIMS_PCSCF_TXN_H
#define WIMS_PCSCF_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/jwt.h"
#include "core/limits.h"
#include "pcscf/token.h"
#include "sip/msg.h"

/* Where a reply towards the core goes: TCP link `link` of worker `worker`,
 * or (link 0) a UDP datagram to addr. */
struct pcscf_back {
	int worker;
	uint64_t link;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* What the token of a REGISTER forwarded by Trusted Node Authentication
 * (TR 33.871 6.1.2) authorised: its IMPI, its IMPUs (REQ 2.4: the flow
 * may speak for these only, not for the whole implicit registration set
 * the core answers with) and its expiry (the binding ends with it). */
struct pcscf_tna {
	int64_t exp; /* the token's exp, seconds since the epoch */
	unsigned nimpus;
	size_t impus_len;
	char impi[WIMS_IMPI_MAX];
	char impus[]; /* nimpus NUL-terminated URIs, one after the other */
};

struct pcscf_txn {
	uint64_t id;
	enum sip_method method;
	uint64_t flow_id;
	uint64_t link_gen;   /* the core connection that carried it */
	int64_t deadline_ms; /* monotonic: answer 408 then */
	char *req;           /* the client's request, as received */
	size_t len;
	/* A REGISTER forwarded by Trusted Node Authentication: what its
	 * token authorised, bound on the 200 OK instead of what req says
	 * (pcscf_txn_set_tna); NULL otherwise. */
	struct pcscf_tna *tna;
	/* Only in the table of requests from the core: */
	struct pcscf_back back;                 /* where our answers go */
	char branch[PCSCF_BRANCH_BACK_LEN + 1]; /* our Via branch to the flow */
	bool answered;                          /* the flow sent a final */
	struct pcscf_txn *hnext;
	struct pcscf_txn *prev, *next; /* every entry, for sweeps */
};

#define PCSCF_TXN_BUCKETS 4096

struct pcscf_txns {
	struct pcscf_txn *buckets[PCSCF_TXN_BUCKETS];
	struct pcscf_txn *head;
	size_t count;
};

void pcscf_txns_init(struct pcscf_txns *t);
/* Frees every entry. */
void pcscf_txns_free(struct pcscf_txns *t);
/* Records a request (copied).  Returns the entry; NULL with *err set:
 * WIMS_EEXIST (same id and method: a retransmission), WIMS_ETOOBIG
 * (WIMS_PCSCF_MAX_TXNS reached), WIMS_ENOMEM. */
struct pcscf_txn *pcscf_txns_add(struct pcscf_txns *t, uint64_t id, enum sip_method method,
				 uint64_t flow_id, uint64_t link_gen, int64_t deadline_ms,
				 const char *req, size_t len, int *err);
/* The entry, or NULL. */
struct pcscf_txn *pcscf_txns_find(const struct pcscf_txns *t, uint64_t id,
				  enum sip_method method);
/* Records on a REGISTER entry what its token authorised (the IMPI, the
 * IMPUs, exp; replaces what x held).  0, WIMS_ETOOBIG (an IMPI or IMPU
 * over the limits) or WIMS_ENOMEM. */
int pcscf_txn_set_tna(struct pcscf_txn *x, const struct jwt_claims *c);
/* Unlinks and frees x. */
void pcscf_txns_remove(struct pcscf_txns *t, struct pcscf_txn *x);

#endif
