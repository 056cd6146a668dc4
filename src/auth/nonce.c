/*
 * nonce.c - stateless server nonces and the bounded nc replay tracker.
 *
 * Layout and reasoning are in nonce.h.  Two details matter for security:
 *  - base64url decoding is canonical (the 4 spare bits of the last
 *    character must be zero), so one nonce has exactly one spelling and a
 *    client cannot dodge the tracker by writing the same bytes differently;
 *  - the tracker is keyed on the decoded 40 bytes, never on the text.
 */
#include "auth/nonce.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/b64url.h"
#include "core/hmac.h"
#include "core/limits.h"
#include "core/wims.h"

#define TS_LEN 8
#define MAC_LEN 16
#define RAW_LEN (TS_LEN + NONCE_RAND_LEN + MAC_LEN) /* 40 */
#define MAC_LABEL "wims-nonce"

/* Decode exactly NONCE_STR_LEN characters into RAW_LEN bytes. */
static int nonce_decode(struct slice s, uint8_t raw[RAW_LEN])
{
	/* 54 * 6 = 324 bits for 320: the 4 left over must be zero. */
	if (s.len != NONCE_STR_LEN || b64url_decode_exact(s.p, s.len, raw, RAW_LEN))
		return WIMS_EAUTH;
	return 0;
}

/* --- MAC --- */

/* mac = HMAC-SHA-256(secret, "wims-nonce" || ts || rnd)[0..16) */
static int nonce_mac(const uint8_t secret[NONCE_SECRET_LEN], const uint8_t *ts_rnd,
		     uint8_t mac[MAC_LEN])
{
	const struct slice parts[] = {
		SLICE_LIT(MAC_LABEL),
		{(const char *)ts_rnd, TS_LEN + NONCE_RAND_LEN},
	};
	return hmac_sha256(secret, NONCE_SECRET_LEN, parts, 2, mac, MAC_LEN);
}

void nonce_key_init(struct nonce_key *key, const uint8_t secret[NONCE_SECRET_LEN])
{
	memset(key, 0, sizeof(*key));
	memcpy(key->cur, secret, NONCE_SECRET_LEN);
}

void nonce_key_rotate(struct nonce_key *key, const uint8_t secret[NONCE_SECRET_LEN])
{
	memcpy(key->prev, key->cur, NONCE_SECRET_LEN);
	key->has_prev = true;
	memcpy(key->cur, secret, NONCE_SECRET_LEN);
}

void nonce_key_wipe(struct nonce_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

int nonce_make(const struct nonce_key *key, uint64_t now_s, const uint8_t rnd[NONCE_RAND_LEN],
	       char *out, size_t outsz)
{
	if (outsz < NONCE_STR_MAX) {
		if (outsz > 0)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	uint8_t raw[RAW_LEN];
	be64_put(raw, now_s);
	memcpy(raw + TS_LEN, rnd, NONCE_RAND_LEN);
	int rc = nonce_mac(key->cur, raw, raw + TS_LEN + NONCE_RAND_LEN);
	if (rc) {
		out[0] = '\0';
		return rc;
	}
	size_t n = b64url_encode(raw, RAW_LEN, out);
	out[n] = '\0';
	return (int)n;
}

int nonce_issued_at(struct slice nonce, uint64_t *ts)
{
	uint8_t raw[RAW_LEN];
	int rc = nonce_decode(nonce, raw);
	if (rc)
		return rc;
	*ts = be64_get(raw);
	return 0;
}

int nonce_check(const struct nonce_key *key, struct slice nonce, uint64_t now_s,
		uint64_t lifetime_s)
{
	uint8_t raw[RAW_LEN], mac[MAC_LEN];
	int rc = nonce_decode(nonce, raw);
	if (rc)
		return rc;
	const uint8_t *given = raw + TS_LEN + NONCE_RAND_LEN;
	bool ok = false;
	if (nonce_mac(key->cur, raw, mac) == 0 && CRYPTO_memcmp(mac, given, MAC_LEN) == 0)
		ok = true;
	else if (key->has_prev && nonce_mac(key->prev, raw, mac) == 0 &&
		 CRYPTO_memcmp(mac, given, MAC_LEN) == 0)
		ok = true;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok)
		return WIMS_EAUTH;
	uint64_t ts = be64_get(raw);
	/* Issued in the future: not something we made with this clock. */
	if (ts > now_s)
		return WIMS_EAUTH;
	if (now_s - ts >= lifetime_s)
		return WIMS_ESTALE;
	return 0;
}

int nonce_nc_parse(struct slice nc, uint64_t *out)
{
	if (nc.len != 8 || nc.p == NULL)
		return WIMS_EPARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char c = nc.p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return WIMS_EPARSE;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* --- replay tracker --- */

#define SHARDS 16
#define WINDOW_BITS 64
#define NIL (-1)

struct nt_entry {
	uint8_t key[RAW_LEN];
	uint64_t issued;
	uint64_t top;    /* highest nc seen */
	uint64_t window; /* bit i: nc == top - i seen */
	int32_t next;    /* bucket chain or free list */
};

struct nt_shard {
	pthread_mutex_t lock;
	struct nt_entry *entries;
	int32_t *buckets;
	size_t cap, nbuckets, used;
	int32_t free_head;
	/* Untracked nonces issued at or before this were possibly evicted
	 * while live: they get ESTALE, never a fresh start. */
	uint64_t floor;
};

struct nonce_tracker {
	uint64_t lifetime_s;
	struct nt_shard shards[SHARDS];
};

static uint64_t key_hash(const uint8_t *k)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < RAW_LEN; i++) {
		h ^= k[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct nonce_tracker *nonce_tracker_new(size_t max_nonces, uint64_t lifetime_s)
{
	if (max_nonces == 0 || max_nonces > WIMS_NONCE_MAX_TRACKED)
		max_nonces = WIMS_NONCE_MAX_TRACKED;
	struct nonce_tracker *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lifetime_s = lifetime_s;
	size_t cap = (max_nonces + SHARDS - 1) / SHARDS;
	size_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	for (int i = 0; i < SHARDS; i++) {
		struct nt_shard *s = &t->shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->cap = cap;
		s->nbuckets = nb;
		s->entries = calloc(cap, sizeof(*s->entries));
		s->buckets = malloc(nb * sizeof(*s->buckets));
		if (!s->entries || !s->buckets) {
			nonce_tracker_free(t);
			return NULL;
		}
		for (size_t b = 0; b < nb; b++)
			s->buckets[b] = NIL;
		for (size_t e = 0; e < cap; e++)
			s->entries[e].next = e + 1 < cap ? (int32_t)(e + 1) : NIL;
		s->free_head = 0;
	}
	return t;
}

void nonce_tracker_free(struct nonce_tracker *t)
{
	if (!t)
		return;
	for (int i = 0; i < SHARDS; i++) {
		free(t->shards[i].entries);
		free(t->shards[i].buckets);
		pthread_mutex_destroy(&t->shards[i].lock);
	}
	free(t);
}

/* Unlink every entry for which drop() says so; returns how many. */
static size_t shard_sweep(struct nt_shard *s, bool (*drop)(const struct nt_entry *, uint64_t),
			  uint64_t arg)
{
	size_t n = 0;
	for (size_t b = 0; b < s->nbuckets; b++) {
		int32_t *link = &s->buckets[b];
		while (*link != NIL) {
			struct nt_entry *e = &s->entries[*link];
			if (drop(e, arg)) {
				int32_t idx = *link;
				*link = e->next;
				e->next = s->free_head;
				s->free_head = idx;
				s->used--;
				n++;
			} else {
				link = &e->next;
			}
		}
	}
	return n;
}

static bool expired_before(const struct nt_entry *e, uint64_t deadline)
{
	return e->issued <= deadline;
}

/* Make room for a nonce issued at `issued`: expired entries first; else
 * every entry of the oldest issue second goes, if that is older than the
 * newcomer, and the floor rises to it (a whole second at once, so that a
 * full shard under load pays one scan per second of nonces, not one per
 * nonce).  Returns false when there is no room (then the newcomer is
 * answered stale and nothing tracked is lost). */
static bool shard_make_room(struct nt_shard *s, uint64_t issued, uint64_t now_s,
			    uint64_t lifetime_s)
{
	if (now_s >= lifetime_s && shard_sweep(s, expired_before, now_s - lifetime_s) > 0)
		return true;
	uint64_t oldest = UINT64_MAX;
	for (size_t b = 0; b < s->nbuckets; b++)
		for (int32_t i = s->buckets[b]; i != NIL; i = s->entries[i].next)
			if (s->entries[i].issued < oldest)
				oldest = s->entries[i].issued;
	if (oldest == UINT64_MAX || oldest >= issued)
		return false;
	if (oldest > s->floor)
		s->floor = oldest;
	return shard_sweep(s, expired_before, oldest) > 0;
}

int nonce_nc_check_and_set(struct nonce_tracker *t, struct slice nonce, uint64_t nc,
			   uint64_t now_s)
{
	uint8_t raw[RAW_LEN];
	if (nc == 0 || nonce_decode(nonce, raw) != 0)
		return WIMS_EINVAL;
	uint64_t issued = be64_get(raw);
	if (issued > now_s || now_s - issued >= t->lifetime_s)
		return WIMS_ESTALE;
	/* RFC 7616 3.4.5 leaves the bound to us: past it, a new challenge. */
	if (nc > WIMS_NONCE_MAX_NC)
		return WIMS_ESTALE;

	uint64_t h = key_hash(raw);
	struct nt_shard *s = &t->shards[(h >> 32) % SHARDS];
	size_t b = (size_t)h & (s->nbuckets - 1);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	int32_t i = s->buckets[b];
	while (i != NIL && CRYPTO_memcmp(s->entries[i].key, raw, RAW_LEN) != 0)
		i = s->entries[i].next;
	if (i != NIL) {
		struct nt_entry *e = &s->entries[i];
		if (nc > e->top) {
			uint64_t shift = nc - e->top;
			e->window = shift >= WINDOW_BITS ? 0 : e->window << shift;
			e->window |= 1;
			e->top = nc;
		} else if (e->top - nc >= WINDOW_BITS) {
			rc = WIMS_EREPLAY;
		} else {
			uint64_t bit = 1ull << (e->top - nc);
			if (e->window & bit)
				rc = WIMS_EREPLAY;
			else
				e->window |= bit;
		}
		goto out;
	}
	if (issued <= s->floor) {
		rc = WIMS_ESTALE;
		goto out;
	}
	if (s->free_head == NIL && !shard_make_room(s, issued, now_s, t->lifetime_s)) {
		rc = WIMS_ESTALE;
		goto out;
	}
	i = s->free_head;
	struct nt_entry *e = &s->entries[i];
	s->free_head = e->next;
	memcpy(e->key, raw, RAW_LEN);
	e->issued = issued;
	e->top = nc;
	e->window = 1;
	e->next = s->buckets[b];
	s->buckets[b] = i;
	s->used++;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t nonce_tracker_count(struct nonce_tracker *t)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&t->shards[i].lock);
		n += t->shards[i].used;
		pthread_mutex_unlock(&t->shards[i].lock);
	}
	return n;
}
