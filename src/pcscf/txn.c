/*
 * txn.c - per-worker table of requests forwarded to the core (see txn.h):
 * fixed buckets (the table is bounded by WIMS_PCSCF_MAX_TXNS) plus one
 * list of every entry for the timeout and link-failure sweeps.
 */
#include "pcscf/txn.h"

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/wims.h"

/* The txn id is HMAC output: its low bits are already uniform. */
static size_t slot(uint64_t id)
{
	return (size_t)(id & (PCSCF_TXN_BUCKETS - 1));
}

void pcscf_txns_init(struct pcscf_txns *t)
{
	memset(t, 0, sizeof(*t));
}

void pcscf_txns_free(struct pcscf_txns *t)
{
	while (t->head)
		pcscf_txns_remove(t, t->head);
}

struct pcscf_txn *pcscf_txns_find(const struct pcscf_txns *t, uint64_t id,
				  enum sip_method method)
{
	for (struct pcscf_txn *x = t->buckets[slot(id)]; x; x = x->hnext)
		if (x->id == id && x->method == method)
			return x;
	return NULL;
}

struct pcscf_txn *pcscf_txns_add(struct pcscf_txns *t, uint64_t id, enum sip_method method,
				 uint64_t flow_id, uint64_t link_gen, int64_t deadline_ms,
				 const char *req, size_t len, int *err)
{
	if (pcscf_txns_find(t, id, method)) {
		*err = WIMS_EEXIST;
		return NULL;
	}
	if (t->count >= WIMS_PCSCF_MAX_TXNS) {
		*err = WIMS_ETOOBIG;
		return NULL;
	}
	struct pcscf_txn *x = calloc(1, sizeof(*x));
	char *copy = malloc(len ? len : 1);
	if (!x || !copy) {
		free(x);
		free(copy);
		*err = WIMS_ENOMEM;
		return NULL;
	}
	memcpy(copy, req, len);
	x->id = id;
	x->method = method;
	x->flow_id = flow_id;
	x->link_gen = link_gen;
	x->deadline_ms = deadline_ms;
	x->req = copy;
	x->len = len;
	size_t s = slot(id);
	x->hnext = t->buckets[s];
	t->buckets[s] = x;
	x->next = t->head;
	if (t->head)
		t->head->prev = x;
	t->head = x;
	t->count++;
	return x;
}

void pcscf_txns_remove(struct pcscf_txns *t, struct pcscf_txn *x)
{
	struct pcscf_txn **pp = &t->buckets[slot(x->id)];
	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
	if (x->prev)
		x->prev->next = x->next;
	else
		t->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	t->count--;
	free(x->req);
	free(x->tna_impi);
	free(x);
}

int pcscf_txn_set_impi(struct pcscf_txn *x, const char *impi)
{
	char *copy = strdup(impi);
	if (!copy)
		return WIMS_ENOMEM;
	free(x->tna_impi);
	x->tna_impi = copy;
	return 0;
}
