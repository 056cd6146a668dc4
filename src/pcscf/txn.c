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
	free(x->tna);
	free(x);
}

int pcscf_txn_set_tna(struct pcscf_txn *x, const struct jwt_claims *c)
{
	size_t impi_len = strnlen(c->impi, sizeof(c->impi));
	if (impi_len >= sizeof(x->tna->impi) || c->n_impus > WIMS_IRS_MAX_IMPUS)
		return WIMS_ETOOBIG;
	size_t len = 0;
	for (size_t i = 0; i < c->n_impus; i++) {
		size_t n = strnlen(c->impus[i], sizeof(c->impus[i]));
		if (n >= sizeof(c->impus[i]))
			return WIMS_ETOOBIG;
		len += n + 1;
	}
	struct pcscf_tna *t = malloc(sizeof(*t) + len + 1);
	if (!t)
		return WIMS_ENOMEM;
	t->exp = c->exp;
	t->nimpus = (unsigned)c->n_impus;
	t->impus_len = len;
	memcpy(t->impi, c->impi, impi_len + 1);
	char *p = t->impus;
	for (size_t i = 0; i < c->n_impus; i++) {
		size_t n = strlen(c->impus[i]) + 1;
		memcpy(p, c->impus[i], n);
		p += n;
	}
	*p = '\0';
	free(x->tna);
	x->tna = t;
	return 0;
}
