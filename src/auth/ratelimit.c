/*
 * ratelimit.c - fixed-window failure counters per IMPI; see ratelimit.h.
 *
 * Each shard is a small chained hash table over a preallocated entry array
 * with a free list, as in nonce.c: no allocation after ratelimit_new().
 */
#include "auth/ratelimit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/limits.h"
#include "core/wims.h"

#define SHARDS 16
#define ID_LEN 16
#define NIL (-1)

struct rl_entry {
	uint8_t id[ID_LEN];
	uint64_t window_start;
	uint32_t failures;
	int32_t next;
};

struct rl_shard {
	pthread_mutex_t lock;
	struct rl_entry *entries;
	int32_t *buckets;
	size_t cap, nbuckets, used;
	int32_t free_head;
};

struct ratelimit {
	unsigned limit;
	uint64_t window_s;
	struct rl_shard shards[SHARDS];
};

struct ratelimit *ratelimit_new(size_t max_keys, unsigned limit, uint64_t window_s)
{
	if (limit == 0 || window_s == 0)
		return NULL;
	if (max_keys == 0 || max_keys > WIMS_AUTH_RATELIMIT_MAX_TRACKED)
		max_keys = WIMS_AUTH_RATELIMIT_MAX_TRACKED;
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->limit = limit;
	rl->window_s = window_s;
	size_t cap = (max_keys + SHARDS - 1) / SHARDS;
	size_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	for (int i = 0; i < SHARDS; i++) {
		struct rl_shard *s = &rl->shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->cap = cap;
		s->nbuckets = nb;
		s->entries = calloc(cap, sizeof(*s->entries));
		s->buckets = malloc(nb * sizeof(*s->buckets));
		if (!s->entries || !s->buckets) {
			ratelimit_free(rl);
			return NULL;
		}
		for (size_t b = 0; b < nb; b++)
			s->buckets[b] = NIL;
		for (size_t e = 0; e < cap; e++)
			s->entries[e].next = e + 1 < cap ? (int32_t)(e + 1) : NIL;
		s->free_head = 0;
	}
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < SHARDS; i++) {
		free(rl->shards[i].entries);
		free(rl->shards[i].buckets);
		pthread_mutex_destroy(&rl->shards[i].lock);
	}
	free(rl);
}

static void key_id(struct slice key, uint8_t id[ID_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_Digest(key.len ? key.p : "", key.len, full, &n, EVP_sha256(), NULL) ||
	    n < ID_LEN) {
		/* Cannot happen with a working OpenSSL; degrade to one bucket
		 * rather than crash. */
		memset(id, 0, ID_LEN);
		return;
	}
	memcpy(id, full, ID_LEN);
}

static struct rl_shard *shard_of(struct ratelimit *rl, const uint8_t id[ID_LEN], size_t *bucket)
{
	struct rl_shard *s = &rl->shards[id[0] % SHARDS];
	uint64_t h;
	memcpy(&h, id + 8, sizeof(h));
	*bucket = (size_t)h & (s->nbuckets - 1);
	return s;
}

/* Index of id in bucket b, with *link pointing at the link to it. */
static int32_t shard_find(struct rl_shard *s, size_t b, const uint8_t id[ID_LEN],
			  int32_t **link)
{
	int32_t *l = &s->buckets[b];
	while (*l != NIL) {
		if (CRYPTO_memcmp(s->entries[*l].id, id, ID_LEN) == 0) {
			if (link)
				*link = l;
			return *l;
		}
		l = &s->entries[*l].next;
	}
	return NIL;
}

static void shard_unlink(struct rl_shard *s, int32_t *link)
{
	int32_t idx = *link;
	*link = s->entries[idx].next;
	s->entries[idx].next = s->free_head;
	s->free_head = idx;
	s->used--;
}

static bool window_over(const struct ratelimit *rl, const struct rl_entry *e, uint64_t now_s)
{
	return now_s >= e->window_start + rl->window_s;
}

static void shard_sweep(struct ratelimit *rl, struct rl_shard *s, uint64_t now_s)
{
	for (size_t b = 0; b < s->nbuckets; b++) {
		int32_t *link = &s->buckets[b];
		while (*link != NIL) {
			if (window_over(rl, &s->entries[*link], now_s))
				shard_unlink(s, link);
			else
				link = &s->entries[*link].next;
		}
	}
}

int ratelimit_check(struct ratelimit *rl, struct slice key, uint64_t now_s)
{
	uint8_t id[ID_LEN];
	size_t b;
	key_id(key, id);
	struct rl_shard *s = shard_of(rl, id, &b);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	int32_t i = shard_find(s, b, id, NULL);
	if (i != NIL) {
		const struct rl_entry *e = &s->entries[i];
		if (!window_over(rl, e, now_s) && e->failures >= rl->limit)
			rc = WIMS_EDENIED;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ratelimit_fail(struct ratelimit *rl, struct slice key, uint64_t now_s)
{
	uint8_t id[ID_LEN];
	size_t b;
	key_id(key, id);
	struct rl_shard *s = shard_of(rl, id, &b);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	int32_t i = shard_find(s, b, id, NULL);
	if (i == NIL) {
		if (s->free_head == NIL)
			shard_sweep(rl, s, now_s);
		if (s->free_head == NIL)
			goto out; /* full of live counts: see ratelimit.h */
		i = s->free_head;
		struct rl_entry *e = &s->entries[i];
		s->free_head = e->next;
		memcpy(e->id, id, ID_LEN);
		e->window_start = now_s;
		e->failures = 0;
		e->next = s->buckets[b];
		s->buckets[b] = i;
		s->used++;
	}
	struct rl_entry *e = &s->entries[i];
	if (window_over(rl, e, now_s)) {
		e->window_start = now_s;
		e->failures = 0;
	}
	if (e->failures < UINT32_MAX)
		e->failures++;
	if (e->failures >= rl->limit)
		rc = WIMS_EDENIED;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ratelimit_reset(struct ratelimit *rl, struct slice key)
{
	uint8_t id[ID_LEN];
	size_t b;
	key_id(key, id);
	struct rl_shard *s = shard_of(rl, id, &b);
	pthread_mutex_lock(&s->lock);
	int32_t *link = NULL;
	if (shard_find(s, b, id, &link) != NIL)
		shard_unlink(s, link);
	pthread_mutex_unlock(&s->lock);
}

size_t ratelimit_count(struct ratelimit *rl)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&rl->shards[i].lock);
		n += rl->shards[i].used;
		pthread_mutex_unlock(&rl->shards[i].lock);
	}
	return n;
}
