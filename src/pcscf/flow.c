/*
 * flow.c - per-worker flow table (see flow.h): chained hashing on the
 * 64-bit conn id, doubled when the load passes 1.
 */
#include "pcscf/flow.h"

#include <stdlib.h>

#include "core/wims.h"

#define INITIAL_BUCKETS 256

/* ids are sequential: a multiplicative hash spreads them. */
static size_t slot(const struct pcscf_flows *t, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (t->nbuckets - 1);
}

int pcscf_flows_init(struct pcscf_flows *t)
{
	t->count = 0;
	t->nbuckets = INITIAL_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : WIMS_ENOMEM;
}

void pcscf_flows_free(struct pcscf_flows *t, void (*release)(struct pcscf_flow *f))
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
		struct pcscf_flow *f = t->buckets[i];
		while (f) {
			struct pcscf_flow *next = f->hnext;
			if (release)
				release(f);
			f = next;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

static void grow(struct pcscf_flows *t)
{
	size_t n = t->nbuckets * 2;
	struct pcscf_flow **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	struct pcscf_flows nt = {nb, n, t->count};
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct pcscf_flow *f = t->buckets[i];
		while (f) {
			struct pcscf_flow *next = f->hnext;
			size_t s = slot(&nt, f->id);
			f->hnext = nb[s];
			nb[s] = f;
			f = next;
		}
	}
	free(t->buckets);
	*t = nt;
}

int pcscf_flows_add(struct pcscf_flows *t, struct pcscf_flow *f)
{
	if (!t->buckets)
		return WIMS_ENOMEM;
	if (t->count >= t->nbuckets)
		grow(t);
	size_t s = slot(t, f->id);
	f->hnext = t->buckets[s];
	t->buckets[s] = f;
	t->count++;
	return 0;
}

struct pcscf_flow *pcscf_flows_find(const struct pcscf_flows *t, uint64_t id)
{
	if (!t->buckets)
		return NULL;
	for (struct pcscf_flow *f = t->buckets[slot(t, id)]; f; f = f->hnext)
		if (f->id == id)
			return f;
	return NULL;
}

void pcscf_flows_foreach(const struct pcscf_flows *t, void (*fn)(struct pcscf_flow *f, void *arg),
			 void *arg)
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++)
		for (struct pcscf_flow *f = t->buckets[i]; f; f = f->hnext)
			fn(f, arg);
}

struct pcscf_flow *pcscf_flows_remove(struct pcscf_flows *t, uint64_t id)
{
	if (!t->buckets)
		return NULL;
	struct pcscf_flow **pp = &t->buckets[slot(t, id)];
	for (; *pp; pp = &(*pp)->hnext) {
		if ((*pp)->id == id) {
			struct pcscf_flow *f = *pp;
			*pp = f->hnext;
			f->hnext = NULL;
			t->count--;
			return f;
		}
	}
	return NULL;
}
