/*
 * nonce_test.c - nonce make/check (fresh, expired, tampered, rotated,
 * non-canonical spelling) and the nc tracker (increasing, replay, window,
 * bound on memory, eviction never reopens a nonce).
 */
#include "auth/nonce.h"

#include <pthread.h>
#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "unit.h"

static const uint8_t secret1[NONCE_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t secret2[NONCE_SECRET_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

static void rnd_of(uint32_t i, uint8_t rnd[NONCE_RAND_LEN])
{
	memset(rnd, 0xa5, NONCE_RAND_LEN);
	memcpy(rnd, &i, sizeof(i));
}

static void make(const struct nonce_key *k, uint64_t now, uint32_t i, char out[NONCE_STR_MAX])
{
	uint8_t rnd[NONCE_RAND_LEN];
	rnd_of(i, rnd);
	int n = nonce_make(k, now, rnd, out, NONCE_STR_MAX);
	(void)n;
}

static void make_then_check(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	uint8_t rnd[NONCE_RAND_LEN];
	rnd_of(7, rnd);
	EXPECT_INT(nonce_make(&k, 1000, rnd, n, sizeof(n)), ==, NONCE_STR_LEN);
	EXPECT_INT(strlen(n), ==, NONCE_STR_LEN);
	for (size_t i = 0; i < NONCE_STR_LEN; i++)
		EXPECT_TRUE(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
				   n[i]) != NULL);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(n), 1000, 300), ==, 0);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(n), 1299, 300), ==, 0);
	uint64_t ts = 0;
	EXPECT_INT(nonce_issued_at(slice_from_cstr(n), &ts), ==, 0);
	EXPECT_INT(ts, ==, 1000);
	/* Different random bytes, different nonce. */
	char n2[NONCE_STR_MAX];
	make(&k, 1000, 8, n2);
	EXPECT_TRUE(strcmp(n, n2) != 0);
	char small[NONCE_STR_LEN];
	EXPECT_INT(nonce_make(&k, 1000, rnd, small, sizeof(small)), ==, WIMS_ETOOBIG);
	nonce_key_wipe(&k);
}

static void expired_is_stale(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	make(&k, 1000, 1, n);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(n), 1300, 300), ==, WIMS_ESTALE);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(n), 999999, 300), ==, WIMS_ESTALE);
	/* From the future: not ours. */
	EXPECT_INT(nonce_check(&k, slice_from_cstr(n), 999, 300), ==, WIMS_EAUTH);
}

static void tampered_is_refused(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	make(&k, 1000, 1, n);
	/* Flip each character in turn: every change is caught. */
	for (size_t i = 0; i < NONCE_STR_LEN; i++) {
		char t[NONCE_STR_MAX];
		memcpy(t, n, sizeof(t));
		t[i] = t[i] == 'A' ? 'B' : 'A';
		EXPECT_INT(nonce_check(&k, slice_from_cstr(t), 1000, 300), ==, WIMS_EAUTH);
	}
	/* Length, alphabet, empty, another key. */
	EXPECT_INT(nonce_check(&k, (struct slice){n, NONCE_STR_LEN - 1}, 1000, 300), ==,
		   WIMS_EAUTH);
	char longer[NONCE_STR_MAX + 1];
	memcpy(longer, n, NONCE_STR_LEN);
	longer[NONCE_STR_LEN] = 'A';
	EXPECT_INT(nonce_check(&k, (struct slice){longer, NONCE_STR_LEN + 1}, 1000, 300), ==,
		   WIMS_EAUTH);
	char plus[NONCE_STR_MAX];
	memcpy(plus, n, sizeof(plus));
	plus[3] = '+';
	EXPECT_INT(nonce_check(&k, slice_from_cstr(plus), 1000, 300), ==, WIMS_EAUTH);
	EXPECT_INT(nonce_check(&k, SLICE_NULL, 1000, 300), ==, WIMS_EAUTH);
	struct nonce_key other;
	nonce_key_init(&other, secret2);
	EXPECT_INT(nonce_check(&other, slice_from_cstr(n), 1000, 300), ==, WIMS_EAUTH);
	/* A forged timestamp with the old MAC (move the clock back). */
	char forged[NONCE_STR_MAX];
	make(&k, 2000, 1, forged);
	memcpy(forged + 11, n + 11, NONCE_STR_LEN - 11);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(forged), 2000, 300), ==, WIMS_EAUTH);
}

/* The last character carries 2 data bits and 4 spare ones; setting a
 * spare bit must not give a second valid spelling of the same nonce. */
static void non_canonical_spelling_refused(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	make(&k, 1000, 3, n);
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int v = (int)(strchr(alpha, n[NONCE_STR_LEN - 1]) - alpha);
	EXPECT_INT(v & 15, ==, 0);
	char t[NONCE_STR_MAX];
	memcpy(t, n, sizeof(t));
	t[NONCE_STR_LEN - 1] = alpha[v | 1];
	EXPECT_INT(nonce_check(&k, slice_from_cstr(t), 1000, 300), ==, WIMS_EAUTH);
	struct nonce_tracker *tr = nonce_tracker_new(64, 300);
	EXPECT_TRUE(tr != NULL);
	EXPECT_INT(nonce_nc_check_and_set(tr, slice_from_cstr(t), 1, 1000), ==, WIMS_EINVAL);
	nonce_tracker_free(tr);
}

static void rotation_keeps_previous(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char old[NONCE_STR_MAX], fresh[NONCE_STR_MAX];
	make(&k, 1000, 1, old);
	nonce_key_rotate(&k, secret2);
	make(&k, 1000, 2, fresh);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(old), 1001, 300), ==, 0);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(fresh), 1001, 300), ==, 0);
	/* A second rotation retires the first secret. */
	static const uint8_t secret3[NONCE_SECRET_LEN] = {42};
	nonce_key_rotate(&k, secret3);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(old), 1001, 300), ==, WIMS_EAUTH);
	EXPECT_INT(nonce_check(&k, slice_from_cstr(fresh), 1001, 300), ==, 0);
}

static void nc_parse(void)
{
	uint64_t v = 0;
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("00000001"), &v), ==, 0);
	EXPECT_INT(v, ==, 1);
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("000000fF"), &v), ==, 0);
	EXPECT_INT(v, ==, 255);
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("0000001"), &v), ==, WIMS_EPARSE);
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("000000001"), &v), ==, WIMS_EPARSE);
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("0000000g"), &v), ==, WIMS_EPARSE);
	EXPECT_INT(nonce_nc_parse(SLICE_LIT("-0000001"), &v), ==, WIMS_EPARSE);
}

static void nc_increasing_ok_replay_refused(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	make(&k, 1000, 1, n);
	struct slice s = slice_from_cstr(n);
	struct nonce_tracker *t = nonce_tracker_new(0, 300);
	EXPECT_TRUE(t != NULL);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 1, 1000), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 1, 1000), ==, WIMS_EREPLAY);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 2, 1001), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 3, 1001), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 2, 1001), ==, WIMS_EREPLAY);
	/* Out of order inside the window: 10 then 5 then 5 again. */
	EXPECT_INT(nonce_nc_check_and_set(t, s, 10, 1002), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 5, 1002), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 5, 1002), ==, WIMS_EREPLAY);
	/* A jump past the window forgets what lies below it. */
	EXPECT_INT(nonce_nc_check_and_set(t, s, 200, 1002), ==, 0);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 100, 1002), ==, WIMS_EREPLAY);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 199, 1002), ==, 0);
	/* nc 0, past the limit, expired nonce. */
	EXPECT_INT(nonce_nc_check_and_set(t, s, 0, 1002), ==, WIMS_EINVAL);
	EXPECT_INT(nonce_nc_check_and_set(t, s, WIMS_NONCE_MAX_NC + 1, 1002), ==, WIMS_ESTALE);
	EXPECT_INT(nonce_nc_check_and_set(t, s, 201, 1300), ==, WIMS_ESTALE);
	/* Another nonce has its own count. */
	char n2[NONCE_STR_MAX];
	make(&k, 1000, 2, n2);
	EXPECT_INT(nonce_nc_check_and_set(t, slice_from_cstr(n2), 1, 1000), ==, 0);
	EXPECT_INT(nonce_tracker_count(t), ==, 2);
	EXPECT_INT(nonce_nc_check_and_set(t, SLICE_LIT("garbage"), 1, 1000), ==, WIMS_EINVAL);
	nonce_tracker_free(t);
}

static void memory_is_bounded(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	const size_t max = 256;
	struct nonce_tracker *t = nonce_tracker_new(max, 300);
	EXPECT_TRUE(t != NULL);
	char n[NONCE_STR_MAX];
	/* Ten times the bound, each nonce one second younger: the tracker
	 * never holds more than its bound. */
	for (uint32_t i = 0; i < 10 * max; i++) {
		make(&k, 1000 + i / 16, i, n);
		int rc = nonce_nc_check_and_set(t, slice_from_cstr(n), 1, 1000 + i / 16);
		EXPECT_TRUE(rc == 0 || rc == WIMS_ESTALE);
		EXPECT_INT(nonce_tracker_count(t), <=, max);
	}
	/* A bound above the ceiling is clamped to it. */
	struct nonce_tracker *big = nonce_tracker_new((size_t)1 << 40, 300);
	EXPECT_TRUE(big != NULL);
	nonce_tracker_free(big);
	nonce_tracker_free(t);
}

/* Expired nonces are swept to make room; live ones stay replay-proof. */
static void expired_evicted_first(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	struct nonce_tracker *t = nonce_tracker_new(256, 300); /* 16 per shard */
	char n[NONCE_STR_MAX];
	for (uint32_t i = 0; i < 1024; i++) {
		make(&k, 1000, i, n);
		(void)nonce_nc_check_and_set(t, slice_from_cstr(n), 1, 1000);
	}
	EXPECT_INT(nonce_tracker_count(t), ==, 256);
	/* 300 s later everything above expired: new ones all fit (about 4
	 * per shard), none refused as stale. */
	int ok = 0;
	for (uint32_t i = 2000; i < 2064; i++) {
		make(&k, 1300, i, n);
		if (nonce_nc_check_and_set(t, slice_from_cstr(n), 1, 1300) == 0)
			ok++;
	}
	EXPECT_INT(ok, ==, 64);
	EXPECT_INT(nonce_tracker_count(t), <=, 64);
	nonce_tracker_free(t);
}

/* A nonce pushed out while still live is never taken as new again. */
static void eviction_never_reopens_replay(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	struct nonce_tracker *t = nonce_tracker_new(16, 300);
	char first[NONCE_STR_MAX];
	make(&k, 1000, 0, first);
	EXPECT_INT(nonce_nc_check_and_set(t, slice_from_cstr(first), 1, 1000), ==, 0);
	char n[NONCE_STR_MAX];
	for (uint32_t i = 1; i < 200; i++) {
		make(&k, 1001 + i, i, n);
		(void)nonce_nc_check_and_set(t, slice_from_cstr(n), 1, 1001 + i);
	}
	/* Whether or not "first" was evicted, nc=1 is never accepted again. */
	int rc = nonce_nc_check_and_set(t, slice_from_cstr(first), 1, 1250);
	EXPECT_TRUE(rc == WIMS_EREPLAY || rc == WIMS_ESTALE);
	nonce_tracker_free(t);
}

static int accepted_per_nc[201];

struct thread_arg {
	struct nonce_tracker *t;
	const char *nonce;
	int accepted;
};

static void *count_thread(void *p)
{
	struct thread_arg *a = p;
	for (uint64_t nc = 1; nc <= 200; nc++)
		if (nonce_nc_check_and_set(a->t, slice_from_cstr(a->nonce), nc, 1000) == 0) {
			a->accepted++;
			__atomic_fetch_add(&accepted_per_nc[nc], 1, __ATOMIC_RELAXED);
		}
	return NULL;
}

/* Four threads race on one nonce: each nc is accepted exactly once. */
static void threads_accept_each_nc_once(void)
{
	struct nonce_key k;
	nonce_key_init(&k, secret1);
	char n[NONCE_STR_MAX];
	make(&k, 1000, 5, n);
	struct nonce_tracker *t = nonce_tracker_new(0, 300);
	pthread_t th[4];
	struct thread_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){t, n, 0};
		pthread_create(&th[i], NULL, count_thread, &args[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += args[i].accepted;
	}
	/* Racing threads may push the window past an nc before another
	 * thread offers it (then refused); never twice. */
	EXPECT_INT(total, <=, 200);
	EXPECT_INT(total, >=, 64);
	for (int nc = 1; nc <= 200; nc++)
		EXPECT_INT(accepted_per_nc[nc], <=, 1);
	nonce_tracker_free(t);
}

int main(void)
{
	UNIT_RUN(make_then_check);
	UNIT_RUN(expired_is_stale);
	UNIT_RUN(tampered_is_refused);
	UNIT_RUN(non_canonical_spelling_refused);
	UNIT_RUN(rotation_keeps_previous);
	UNIT_RUN(nc_parse);
	UNIT_RUN(nc_increasing_ok_replay_refused);
	UNIT_RUN(memory_is_bounded);
	UNIT_RUN(expired_evicted_first);
	UNIT_RUN(eviction_never_reopens_replay);
	UNIT_RUN(threads_accept_each_nc_once);
	return UNIT_MAIN_END();
}
