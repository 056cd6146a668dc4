/*
 * flow.h - the flows of one worker: one per WebSocket connection (RFC 5626
 * flow, RFC 7118 5.2), found by the ws_conn id a flow token carries.
 *
 * Ownership: a flow belongs to the worker thread of its WebSocket and its
 * table to that worker; nothing here locks.  Another worker that has
 * something for a flow (a response from the core that arrived on its
 * connection, a request from the core with the flow's token in its Route)
 * posts it with workers_post() to the worker the token names, which looks
 * the flow up here; a flow that is not found is dead (its WebSocket
 * closed; ids are never reused), which gives 430 Flow Failed (RFC 5626
 * 5.3, DESIGN 4 step 5).
 */
#ifndef WIMS_PCSCF_FLOW_H
#define WIMS_PCSCF_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "core/net.h"
#include "pcscf/ident.h"
#include "pcscf/token.h"

struct ws_conn;

struct pcscf_flow {
	uint64_t id;        /* ws_conn_id() */
	struct ws_conn *ws;
	char token[PCSCF_TOKEN_LEN + 1];
	char peer_host[NET_ADDR_STRLEN]; /* for Via received= */
	int peer_port;                   /* for Via rport= */
	struct pcscf_binding binding;
	struct pcscf_flow *hnext;
};

/* A hash table keyed by flow id; grows as needed. */
struct pcscf_flows {
	struct pcscf_flow **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

/* 0 or WIMS_ENOMEM. */
int pcscf_flows_init(struct pcscf_flows *t);
/* Frees the table; each flow still in it is handed to release (may be
 * NULL: then they are not touched). */
void pcscf_flows_free(struct pcscf_flows *t, void (*release)(struct pcscf_flow *f));
/* Adds f (its id must not be there yet).  0 or WIMS_ENOMEM. */
int pcscf_flows_add(struct pcscf_flows *t, struct pcscf_flow *f);
/* The flow with this id, or NULL. */
struct pcscf_flow *pcscf_flows_find(const struct pcscf_flows *t, uint64_t id);
/* Calls fn(f, arg) for every flow; fn must not add or remove flows. */
void pcscf_flows_foreach(const struct pcscf_flows *t, void (*fn)(struct pcscf_flow *f, void *arg),
			 void *arg);
/* Takes the flow out of the table (not freed); NULL if absent. */
struct pcscf_flow *pcscf_flows_remove(struct pcscf_flows *t, uint64_t id);

#endif
