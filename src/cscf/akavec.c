/*
 * akavec.c - the pending AKA challenges and spare vectors (see akavec.h).
 *
 * Pending challenges: SHARDS shards, each a fixed array of entries with
 * hash chains and a free list (the shape of auth/nonce.c's tracker), keyed
 * by RAND.  RAND comes from the HSS's random source, so its first bytes
 * are already a good hash, and no client picks it: a nonce that is not one
 * of ours is simply not found.
 *
 * Spares: SHARDS shards of direct-mapped slots keyed by (IMPI, version);
 * a collision replaces the slot's spares, which only wastes SQNs.
 *
 * Per-IMPI limit: SHARDS shards of direct-mapped slots keyed by the IMPI's
 * hash, each a ring of the RANDs last put for it; a put that finds the
 * ring full takes the oldest out of the pending table (if still there).
 */
#include "cscf/akavec.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/wims.h"

#define SHARDS 16
#define NIL (-1)

struct pend {
	struct cscf_akavec_pending p;
	int32_t next; /* bucket chain or free list */
};

struct pend_shard {
	pthread_mutex_t lock;
	struct pend *entries;
	int32_t *buckets;
	size_t cap, nbuckets, used;
	int32_t free_head;
	/* Entries below this have been used at least once; above it they are
	 * untouched calloc memory, so that the table costs memory as it
	 * fills, not 24 MB at start. */
	size_t fresh;
};

struct spare_slot {
	char impi[WIMS_IMPI_MAX]; /* "" when free */
	enum aka_version version;
	size_t n;
	int64_t got[CSCF_AKAVEC_MAX_SPARES];
	struct cscf_akavec_vec v[CSCF_AKAVEC_MAX_SPARES];
};

struct spare_shard {
	pthread_mutex_t lock;
	struct spare_slot *slots;
	size_t cap;
	size_t held;
};

struct recent_slot {
	uint64_t impi_h; /* 0 when free */
	unsigned n, head; /* RANDs held, index of the oldest */
	uint8_t rand[CSCF_AKAVEC_PENDING_PER_IMPI][AKA_RAND_LEN];
};

struct recent_shard {
	pthread_mutex_t lock;
	struct recent_slot *slots;
	size_t cap;
};

struct cscf_akavec {
	uint32_t lifetime_s;
	unsigned per_impi; /* 0: no per-IMPI limit */
	size_t recent_cap;
	struct pend_shard pend[SHARDS];
	struct spare_shard spare[SHARDS];
	struct recent_shard recent[SHARDS];
};

static uint64_t rand_hash(const uint8_t rand[AKA_RAND_LEN])
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = (h << 8) | rand[i];
	return h;
}

static uint64_t impi_hash(const char *impi, enum aka_version v)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = impi; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (h ^ (uint64_t)v) * 1099511628211ull;
}

struct cscf_akavec *cscf_akavec_new(size_t max_pending, size_t spare_impis, uint32_t lifetime_s)
{
	if (max_pending == 0)
		max_pending = CSCF_AKAVEC_MAX_PENDING;
	if (spare_impis == 0)
		spare_impis = CSCF_AKAVEC_SPARE_IMPIS;
	if (lifetime_s == 0)
		return NULL;
	struct cscf_akavec *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lifetime_s = lifetime_s;
	t->recent_cap = (spare_impis + SHARDS - 1) / SHARDS;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&t->recent[i].lock, NULL);
	size_t cap = (max_pending + SHARDS - 1) / SHARDS;
	size_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	size_t scap = (spare_impis + SHARDS - 1) / SHARDS;
	bool ok = true;
	for (int i = 0; i < SHARDS; i++) {
		struct pend_shard *s = &t->pend[i];
		pthread_mutex_init(&s->lock, NULL);
		s->cap = cap;
		s->nbuckets = nb;
		s->entries = calloc(cap, sizeof(*s->entries));
		s->buckets = malloc(nb * sizeof(*s->buckets));
		struct spare_shard *sp = &t->spare[i];
		pthread_mutex_init(&sp->lock, NULL);
		sp->cap = scap;
		sp->slots = calloc(scap, sizeof(*sp->slots));
		if (!s->entries || !s->buckets || !sp->slots) {
			ok = false;
			continue;
		}
		for (size_t b = 0; b < nb; b++)
			s->buckets[b] = NIL;
		s->free_head = NIL;
	}
	if (!ok) {
		cscf_akavec_free(t);
		return NULL;
	}
	return t;
}

void cscf_akavec_free(struct cscf_akavec *t)
{
	if (!t)
		return;
	for (int i = 0; i < SHARDS; i++) {
		struct pend_shard *s = &t->pend[i];
		if (s->entries)
			OPENSSL_cleanse(s->entries, s->fresh * sizeof(*s->entries));
		free(s->entries);
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
		struct spare_shard *sp = &t->spare[i];
		/* Only slots holding spares have secrets (spare_shift cleanses
		 * what leaves): the others stay untouched pages. */
		for (size_t j = 0; sp->slots && j < sp->cap; j++)
			if (sp->slots[j].n)
				OPENSSL_cleanse(&sp->slots[j], sizeof(sp->slots[j]));
		free(sp->slots);
		pthread_mutex_destroy(&sp->lock);
		free(t->recent[i].slots);
		pthread_mutex_destroy(&t->recent[i].lock);
	}
	free(t);
}

void cscf_akavec_set_per_impi(struct cscf_akavec *t, unsigned n)
{
	if (n > CSCF_AKAVEC_PENDING_PER_IMPI)
		n = CSCF_AKAVEC_PENDING_PER_IMPI;
	for (int i = 0; n && i < SHARDS; i++) {
		struct recent_shard *r = &t->recent[i];
		if (!r->slots) {
			r->slots = calloc(t->recent_cap, sizeof(*r->slots));
			r->cap = r->slots ? t->recent_cap : 0;
		}
	}
	t->per_impi = n;
}

/* --- pending challenges --- */

static struct pend_shard *pend_shard(struct cscf_akavec *t, const uint8_t rand[AKA_RAND_LEN],
				     size_t *bucket)
{
	uint64_t h = rand_hash(rand);
	struct pend_shard *s = &t->pend[(h >> 32) % SHARDS];
	*bucket = (size_t)h & (s->nbuckets - 1);
	return s;
}

static bool expired(const struct cscf_akavec *t, int64_t issued, int64_t now)
{
	return now - issued >= (int64_t)t->lifetime_s || issued > now;
}

/* Unlink entry idx (whose link is *link) into the free list, cleansed. */
static void pend_release(struct pend_shard *s, int32_t *link)
{
	int32_t idx = *link;
	struct pend *e = &s->entries[idx];
	*link = e->next;
	OPENSSL_cleanse(&e->p, sizeof(e->p));
	e->next = s->free_head;
	s->free_head = idx;
	s->used--;
}

/* Drop every expired entry of the shard; how many went. */
static size_t pend_sweep(struct cscf_akavec *t, struct pend_shard *s, int64_t now)
{
	size_t n = 0;
	for (size_t b = 0; b < s->nbuckets; b++) {
		int32_t *link = &s->buckets[b];
		while (*link != NIL) {
			if (expired(t, s->entries[*link].p.issued, now)) {
				pend_release(s, link);
				n++;
			} else {
				link = &s->entries[*link].next;
			}
		}
	}
	return n;
}

/* Remove the pending challenge with this RAND sent to impi, if any. */
static void pend_drop(struct cscf_akavec *t, const uint8_t rand[AKA_RAND_LEN], const char *impi)
{
	size_t b;
	struct pend_shard *s = pend_shard(t, rand, &b);
	pthread_mutex_lock(&s->lock);
	for (int32_t *link = &s->buckets[b]; *link != NIL; link = &s->entries[*link].next) {
		struct pend *e = &s->entries[*link];
		if (memcmp(e->p.vec.rand, rand, AKA_RAND_LEN) == 0) {
			if (strcmp(e->p.impi, impi) == 0)
				pend_release(s, link);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* rand is about to be put for impi: remember it, and when impi has
 * per_impi pending already, take its oldest out (one lock at a time).  A
 * RAND the table then refuses stays in the ring: dropping it later finds
 * nothing. */
static void limit_per_impi(struct cscf_akavec *t, const char *impi,
			   const uint8_t rand[AKA_RAND_LEN])
{
	uint64_t h = impi_hash(impi, 0) | 1; /* never 0, the free mark */
	struct recent_shard *r = &t->recent[(h >> 32) % SHARDS];
	if (!r->cap)
		return;
	uint8_t oldest[AKA_RAND_LEN];
	bool evict = false;
	pthread_mutex_lock(&r->lock);
	struct recent_slot *sl = &r->slots[h % r->cap];
	if (sl->impi_h != h) {
		sl->impi_h = h;
		sl->n = sl->head = 0;
	}
	if (sl->n == t->per_impi) {
		memcpy(oldest, sl->rand[sl->head], AKA_RAND_LEN);
		memcpy(sl->rand[sl->head], rand, AKA_RAND_LEN);
		sl->head = (sl->head + 1) % t->per_impi;
		evict = true;
	} else {
		memcpy(sl->rand[(sl->head + sl->n) % t->per_impi], rand, AKA_RAND_LEN);
		sl->n++;
	}
	pthread_mutex_unlock(&r->lock);
	if (evict)
		pend_drop(t, oldest, impi);
}

int cscf_akavec_put(struct cscf_akavec *t, const char *impi, enum aka_version v,
		    const struct cscf_akavec_vec *vec, int64_t now)
{
	if (strlen(impi) >= WIMS_IMPI_MAX || vec->xres_len > sizeof(vec->xres))
		return WIMS_EINVAL;
	/* The IMPI's oldest goes first, so that its room is there for the
	 * newcomer when the table is full. */
	if (t->per_impi)
		limit_per_impi(t, impi, vec->rand);
	size_t b;
	struct pend_shard *s = pend_shard(t, vec->rand, &b);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	for (int32_t i = s->buckets[b]; i != NIL; i = s->entries[i].next) {
		if (memcmp(s->entries[i].p.vec.rand, vec->rand, AKA_RAND_LEN) == 0) {
			rc = WIMS_EEXIST;
			goto out;
		}
	}
	if (s->free_head == NIL && s->fresh < s->cap) {
		s->entries[s->fresh].next = NIL;
		s->free_head = (int32_t)s->fresh++;
	}
	if (s->free_head == NIL && pend_sweep(t, s, now) == 0) {
		rc = WIMS_ETOOBIG;
		goto out;
	}
	int32_t i = s->free_head;
	struct pend *e = &s->entries[i];
	s->free_head = e->next;
	snprintf(e->p.impi, sizeof(e->p.impi), "%s", impi);
	e->p.version = v;
	e->p.issued = now;
	e->p.vec = *vec;
	e->next = s->buckets[b];
	s->buckets[b] = i;
	s->used++;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int cscf_akavec_take(struct cscf_akavec *t, const uint8_t rand[AKA_RAND_LEN], const char *impi,
		     int64_t now, struct cscf_akavec_pending *out)
{
	size_t b;
	struct pend_shard *s = pend_shard(t, rand, &b);
	int rc = WIMS_ENOTFOUND;
	pthread_mutex_lock(&s->lock);
	for (int32_t *link = &s->buckets[b]; *link != NIL; link = &s->entries[*link].next) {
		struct pend *e = &s->entries[*link];
		if (memcmp(e->p.vec.rand, rand, AKA_RAND_LEN) != 0)
			continue;
		if (impi && strcmp(e->p.impi, impi) != 0)
			break;
		if (expired(t, e->p.issued, now)) {
			memset(out, 0, sizeof(*out));
			memcpy(out->impi, e->p.impi, sizeof(out->impi));
			out->version = e->p.version;
			out->issued = e->p.issued;
			rc = WIMS_ESTALE;
		} else {
			*out = e->p;
			rc = 0;
		}
		pend_release(s, link);
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t cscf_akavec_count(struct cscf_akavec *t)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&t->pend[i].lock);
		n += t->pend[i].used;
		pthread_mutex_unlock(&t->pend[i].lock);
	}
	return n;
}

/* --- spares --- */

static struct spare_slot *spare_slot(struct cscf_akavec *t, const char *impi, enum aka_version v,
				     struct spare_shard **shard)
{
	uint64_t h = impi_hash(impi, v);
	struct spare_shard *s = &t->spare[(h >> 32) % SHARDS];
	*shard = s;
	return &s->slots[h % s->cap];
}

/* Remove the first k spares of slot sl (cleansed). */
static void spare_shift(struct spare_shard *s, struct spare_slot *sl, size_t k)
{
	if (k > sl->n)
		k = sl->n;
	memmove(sl->v, sl->v + k, (sl->n - k) * sizeof(sl->v[0]));
	memmove(sl->got, sl->got + k, (sl->n - k) * sizeof(sl->got[0]));
	sl->n -= k;
	s->held -= k;
	OPENSSL_cleanse(sl->v + sl->n, k * sizeof(sl->v[0]));
	if (sl->n == 0)
		sl->impi[0] = '\0';
}

size_t cscf_akavec_spare_add(struct cscf_akavec *t, const char *impi, enum aka_version v,
			     const struct cscf_akavec_vec *vecs, size_t n, int64_t now)
{
	if (strlen(impi) >= WIMS_IMPI_MAX)
		return 0;
	struct spare_shard *s;
	struct spare_slot *sl = spare_slot(t, impi, v, &s);
	pthread_mutex_lock(&s->lock);
	if (sl->n && (strcmp(sl->impi, impi) != 0 || sl->version != v))
		spare_shift(s, sl, sl->n); /* someone else's: a cache, so replaced */
	if (n > CSCF_AKAVEC_MAX_SPARES) {
		vecs += n - CSCF_AKAVEC_MAX_SPARES;
		n = CSCF_AKAVEC_MAX_SPARES;
	}
	if (sl->n + n > CSCF_AKAVEC_MAX_SPARES)
		spare_shift(s, sl, sl->n + n - CSCF_AKAVEC_MAX_SPARES);
	if (n) {
		snprintf(sl->impi, sizeof(sl->impi), "%s", impi);
		sl->version = v;
	}
	for (size_t i = 0; i < n; i++) {
		sl->v[sl->n] = vecs[i];
		sl->got[sl->n] = now;
		sl->n++;
		s->held++;
	}
	size_t kept = sl->n;
	pthread_mutex_unlock(&s->lock);
	return kept;
}

int cscf_akavec_spare_take(struct cscf_akavec *t, const char *impi, enum aka_version v,
			   int64_t now, struct cscf_akavec_vec *out)
{
	struct spare_shard *s;
	struct spare_slot *sl = spare_slot(t, impi, v, &s);
	int rc = WIMS_ENOTFOUND;
	pthread_mutex_lock(&s->lock);
	if (sl->n && strcmp(sl->impi, impi) == 0 && sl->version == v) {
		size_t old = 0;
		while (old < sl->n && (now - sl->got[old] >= CSCF_AKAVEC_SPARE_LIFETIME_S ||
				       sl->got[old] > now))
			old++;
		spare_shift(s, sl, old);
		if (sl->n) {
			*out = sl->v[0];
			spare_shift(s, sl, 1);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void cscf_akavec_spare_drop(struct cscf_akavec *t, const char *impi)
{
	const enum aka_version vs[] = {AKA_V1_MD5, AKA_V2_SHA256};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(vs); i++) {
		struct spare_shard *s;
		struct spare_slot *sl = spare_slot(t, impi, vs[i], &s);
		pthread_mutex_lock(&s->lock);
		if (sl->n && strcmp(sl->impi, impi) == 0 && sl->version == vs[i])
			spare_shift(s, sl, sl->n);
		pthread_mutex_unlock(&s->lock);
	}
}

size_t cscf_akavec_spare_count(struct cscf_akavec *t)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&t->spare[i].lock);
		n += t->spare[i].held;
		pthread_mutex_unlock(&t->spare[i].lock);
	}
	return n;
}
