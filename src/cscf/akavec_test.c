/*
 * akavec_test.c - the pending AKA challenges and spare vectors: a vector
 * is taken once, expires, the table refuses rather than evicts a live
 * challenge when full, threads racing on one RAND get it exactly once,
 * spares come out oldest first, are bounded, dropped on resync and aged
 * out, and nothing secret is left behind in a taken slot.
 */
#include "cscf/akavec.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/wims.h"
#include "unit.h"

#define T0 1700000000

/* A vector whose RAND (and everything else) is derived from i. */
static struct cscf_akavec_vec vec(uint32_t i)
{
	struct cscf_akavec_vec v;
	memset(&v, 0, sizeof(v));
	for (int k = 0; k < AKA_RAND_LEN; k++)
		v.rand[k] = (uint8_t)((i * 2654435761u) >> (8 * (k % 4))) ^ (uint8_t)k;
	memcpy(v.rand + 12, &i, sizeof(i));
	memset(v.autn, 0xa0, sizeof(v.autn));
	memset(v.xres, (int)(i & 0xff), 8);
	v.xres_len = 8;
	memset(v.ck, 0xc0, sizeof(v.ck));
	memset(v.ik, 0x1c, sizeof(v.ik));
	return v;
}

static void take_once(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 16, 300);
	EXPECT_TRUE(t != NULL);
	struct cscf_akavec_vec v = vec(7);
	EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0), ==, 0);
	/* The HSS never repeats a RAND; if it did, the first challenge stays. */
	EXPECT_INT(cscf_akavec_put(t, "bob@ims.example.org", AKA_V1_MD5, &v, T0), ==, WIMS_EEXIST);
	EXPECT_INT(cscf_akavec_count(t), ==, 1);
	struct cscf_akavec_pending p;
	/* Another user cannot spend alice's challenge. */
	EXPECT_INT(cscf_akavec_take(t, v.rand, "bob@ims.example.org", T0 + 10, &p), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(cscf_akavec_take(t, v.rand, "alice@ims.example.org", T0 + 10, &p), ==, 0);
	EXPECT_STR(p.impi, "alice@ims.example.org");
	EXPECT_INT(p.version, ==, AKA_V2_SHA256);
	EXPECT_INT(p.issued, ==, T0);
	EXPECT_MEM(p.vec.xres, v.xres, 8);
	EXPECT_MEM(p.vec.ck, v.ck, AKA_CK_LEN);
	EXPECT_INT(p.vec.xres_len, ==, 8);
	/* Spent: the same RAND again is unknown. */
	EXPECT_INT(cscf_akavec_take(t, v.rand, NULL, T0 + 11, &p), ==, WIMS_ENOTFOUND);
	struct cscf_akavec_vec other = vec(8);
	EXPECT_INT(cscf_akavec_take(t, other.rand, NULL, T0 + 11, &p), ==, WIMS_ENOTFOUND);
	EXPECT_INT(cscf_akavec_count(t), ==, 0);
	cscf_akavec_free(t);
}

static void expiry_is_stale_then_gone(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 16, 300);
	struct cscf_akavec_vec v = vec(1);
	EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V1_MD5, &v, T0), ==, 0);
	struct cscf_akavec_pending p;
	memset(&p, 0x55, sizeof(p));
	EXPECT_INT(cscf_akavec_take(t, v.rand, NULL, T0 + 300, &p), ==, WIMS_ESTALE);
	EXPECT_STR(p.impi, "alice@ims.example.org");
	/* A stale answer gets no secrets. */
	uint8_t zero[16] = {0};
	EXPECT_MEM(p.vec.xres, zero, 16);
	EXPECT_MEM(p.vec.ck, zero, 16);
	EXPECT_MEM(p.vec.ik, zero, 16);
	EXPECT_INT(cscf_akavec_take(t, v.rand, NULL, T0 + 300, &p), ==, WIMS_ENOTFOUND);
	/* Just inside the lifetime is still good. */
	EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V1_MD5, &v, T0), ==, 0);
	EXPECT_INT(cscf_akavec_take(t, v.rand, NULL, T0 + 299, &p), ==, 0);
	cscf_akavec_free(t);
}

/* Full of live challenges: refuse the newcomer, keep them all; once they
 * expired, the newcomer sweeps them out. */
static void bound_refuses_then_sweeps_expired(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 16, 300); /* 4 per shard */
	unsigned put = 0, refused = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		struct cscf_akavec_vec v = vec(i);
		int rc = cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0);
		if (rc == 0)
			put++;
		else if (rc == WIMS_ETOOBIG)
			refused++;
	}
	EXPECT_INT(put, ==, 64);
	EXPECT_INT(refused, ==, 1000 - 64);
	EXPECT_INT(cscf_akavec_count(t), ==, 64);
	/* Every accepted challenge is still there. */
	unsigned found = 0;
	struct cscf_akavec_pending p;
	for (uint32_t i = 0; i < 1000; i++) {
		struct cscf_akavec_vec v = vec(i);
		if (cscf_akavec_take(t, v.rand, NULL, T0 + 1, &p) == 0) {
			found++;
			cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0);
		}
	}
	EXPECT_INT(found, ==, 64);
	/* Later than the lifetime: new challenges push out the expired. */
	put = 0;
	for (uint32_t i = 2000; i < 3000; i++) {
		struct cscf_akavec_vec v = vec(i);
		put += cscf_akavec_put(t, "bob@ims.example.org", AKA_V2_SHA256, &v, T0 + 400) == 0;
	}
	EXPECT_INT(put, ==, 64);
	EXPECT_INT(cscf_akavec_count(t), ==, 64);
	cscf_akavec_free(t);
}

/* With a per-IMPI limit, a new challenge pushes out that IMPI's oldest:
 * a flood of REGISTERs for one IMPI keeps only its latest few, and other
 * IMPIs' challenges are untouched. */
static void per_impi_limit_keeps_the_latest(void)
{
	struct cscf_akavec *t = cscf_akavec_new(256, 64, 300);
	cscf_akavec_set_per_impi(t, 4);
	struct cscf_akavec_vec b = vec(5000);
	EXPECT_INT(cscf_akavec_put(t, "bob@ims.example.org", AKA_V2_SHA256, &b, T0), ==, 0);
	for (uint32_t i = 0; i < 100; i++) {
		struct cscf_akavec_vec v = vec(i);
		EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0), ==, 0);
	}
	EXPECT_INT(cscf_akavec_count(t), ==, 5);
	struct cscf_akavec_pending p;
	for (uint32_t i = 0; i < 96; i++) {
		struct cscf_akavec_vec v = vec(i);
		EXPECT_INT(cscf_akavec_take(t, v.rand, "alice@ims.example.org", T0 + 1, &p), ==,
			   WIMS_ENOTFOUND);
	}
	for (uint32_t i = 96; i < 100; i++) {
		struct cscf_akavec_vec v = vec(i);
		EXPECT_INT(cscf_akavec_take(t, v.rand, "alice@ims.example.org", T0 + 1, &p), ==, 0);
	}
	EXPECT_INT(cscf_akavec_take(t, b.rand, "bob@ims.example.org", T0 + 1, &p), ==, 0);
	/* Answered ones leave room without pushing anything out. */
	for (uint32_t i = 200; i < 204; i++) {
		struct cscf_akavec_vec v = vec(i);
		EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0), ==, 0);
	}
	EXPECT_INT(cscf_akavec_count(t), ==, 4);
	OPENSSL_cleanse(&p, sizeof(p));
	cscf_akavec_free(t);
}

static void put_refuses_bad_arguments(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 16, 300);
	struct cscf_akavec_vec v = vec(3);
	v.xres_len = 17;
	EXPECT_INT(cscf_akavec_put(t, "a@b", AKA_V1_MD5, &v, T0), ==, WIMS_EINVAL);
	char longimpi[WIMS_IMPI_MAX + 10];
	memset(longimpi, 'x', sizeof(longimpi) - 1);
	longimpi[sizeof(longimpi) - 1] = '\0';
	v.xres_len = 8;
	EXPECT_INT(cscf_akavec_put(t, longimpi, AKA_V1_MD5, &v, T0), ==, WIMS_EINVAL);
	EXPECT_TRUE(cscf_akavec_new(64, 16, 0) == NULL);
	cscf_akavec_free(t);
	cscf_akavec_free(NULL);
}

struct race {
	struct cscf_akavec *t;
	unsigned got;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	struct cscf_akavec_pending p;
	for (uint32_t i = 0; i < 2000; i++) {
		struct cscf_akavec_vec v = vec(i);
		if (cscf_akavec_take(r->t, v.rand, NULL, T0 + 1, &p) == 0)
			r->got++;
	}
	return NULL;
}

/* Four workers race to answer the same 2000 challenges: each is taken by
 * exactly one of them. */
static void threads_take_each_once(void)
{
	struct cscf_akavec *t = cscf_akavec_new(0, 0, 300);
	for (uint32_t i = 0; i < 2000; i++) {
		struct cscf_akavec_vec v = vec(i);
		EXPECT_INT(cscf_akavec_put(t, "alice@ims.example.org", AKA_V2_SHA256, &v, T0), ==, 0);
	}
	pthread_t th[4];
	struct race rs[4];
	for (int i = 0; i < 4; i++) {
		rs[i] = (struct race){t, 0};
		pthread_create(&th[i], NULL, race_thread, &rs[i]);
	}
	unsigned total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += rs[i].got;
	}
	EXPECT_INT(total, ==, 2000);
	EXPECT_INT(cscf_akavec_count(t), ==, 0);
	cscf_akavec_free(t);
}

struct putter {
	struct cscf_akavec *t;
	uint32_t base;
	unsigned ok;
};

static void *put_take_thread(void *arg)
{
	struct putter *p = arg;
	struct cscf_akavec_pending out;
	for (uint32_t i = 0; i < 5000; i++) {
		struct cscf_akavec_vec v = vec(p->base + i);
		if (cscf_akavec_put(p->t, "carol@ims.example.org", AKA_V1_MD5, &v, T0) == 0 &&
		    cscf_akavec_take(p->t, v.rand, NULL, T0, &out) == 0 &&
		    memcmp(out.vec.rand, v.rand, AKA_RAND_LEN) == 0)
			p->ok++;
	}
	return NULL;
}

static void threads_put_and_take(void)
{
	struct cscf_akavec *t = cscf_akavec_new(256, 16, 300);
	pthread_t th[4];
	struct putter ps[4];
	for (int i = 0; i < 4; i++) {
		ps[i] = (struct putter){t, (uint32_t)i * 100000u, 0};
		pthread_create(&th[i], NULL, put_take_thread, &ps[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_INT(ps[i].ok, ==, 5000);
	}
	EXPECT_INT(cscf_akavec_count(t), ==, 0);
	cscf_akavec_free(t);
}

static void spares_fifo_bounded_dropped(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 64, 300);
	struct cscf_akavec_vec vs[10];
	for (uint32_t i = 0; i < 10; i++)
		vs[i] = vec(100 + i);
	const char *alice = "alice@ims.example.org";
	EXPECT_INT(cscf_akavec_spare_add(t, alice, AKA_V2_SHA256, vs, 4, T0), ==, 4);
	struct cscf_akavec_vec out;
	/* Another version has none. */
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V1_MD5, T0, &out), ==, WIMS_ENOTFOUND);
	EXPECT_INT(cscf_akavec_spare_take(t, "bob@ims.example.org", AKA_V2_SHA256, T0, &out), ==,
		   WIMS_ENOTFOUND);
	/* Oldest first: the HSS made them with rising SQNs. */
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V2_SHA256, T0, &out), ==, 0);
	EXPECT_MEM(out.rand, vs[0].rand, AKA_RAND_LEN);
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V2_SHA256, T0, &out), ==, 0);
	EXPECT_MEM(out.rand, vs[1].rand, AKA_RAND_LEN);
	EXPECT_INT(cscf_akavec_spare_count(t), ==, 2);
	/* Bounded: past CSCF_AKAVEC_MAX_SPARES the oldest go. */
	EXPECT_INT(cscf_akavec_spare_add(t, alice, AKA_V2_SHA256, vs + 4, 6, T0), ==, 8);
	EXPECT_INT(cscf_akavec_spare_add(t, alice, AKA_V2_SHA256, vs, 3, T0), ==,
		   CSCF_AKAVEC_MAX_SPARES);
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V2_SHA256, T0, &out), ==, 0);
	EXPECT_MEM(out.rand, vs[5].rand, AKA_RAND_LEN); /* vs[2..4] pushed out */
	/* Resync: all gone. */
	EXPECT_INT(cscf_akavec_spare_add(t, alice, AKA_V1_MD5, vs, 2, T0), ==, 2);
	cscf_akavec_spare_drop(t, alice);
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V2_SHA256, T0, &out), ==, WIMS_ENOTFOUND);
	EXPECT_INT(cscf_akavec_spare_take(t, alice, AKA_V1_MD5, T0, &out), ==, WIMS_ENOTFOUND);
	EXPECT_INT(cscf_akavec_spare_count(t), ==, 0);
	cscf_akavec_free(t);
}

static void spares_age_out(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 64, 300);
	struct cscf_akavec_vec vs[3] = {vec(1), vec(2), vec(3)};
	const char *bob = "bob@ims.example.org";
	cscf_akavec_spare_add(t, bob, AKA_V1_MD5, vs, 2, T0);
	cscf_akavec_spare_add(t, bob, AKA_V1_MD5, vs + 2, 1, T0 + 1000);
	struct cscf_akavec_vec out;
	EXPECT_INT(cscf_akavec_spare_take(t, bob, AKA_V1_MD5, T0 + CSCF_AKAVEC_SPARE_LIFETIME_S, &out),
		   ==, 0);
	EXPECT_MEM(out.rand, vs[2].rand, AKA_RAND_LEN);
	EXPECT_INT(cscf_akavec_spare_count(t), ==, 0);
	cscf_akavec_free(t);
}

/* Spares are a cache: with one slot per shard, other IMPIs push bob's
 * out, and what comes back is always bob's own (never another's). */
static void spares_collide_safely(void)
{
	struct cscf_akavec *t = cscf_akavec_new(64, 16, 300);
	struct cscf_akavec_vec v = vec(9), out;
	char impi[64];
	for (int i = 0; i < 200; i++) {
		snprintf(impi, sizeof(impi), "user%d@ims.example.org", i);
		v.rand[0] = (uint8_t)i;
		cscf_akavec_spare_add(t, impi, AKA_V2_SHA256, &v, 1, T0);
	}
	EXPECT_INT(cscf_akavec_spare_count(t), <=, 16);
	unsigned back = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(impi, sizeof(impi), "user%d@ims.example.org", i);
		if (cscf_akavec_spare_take(t, impi, AKA_V2_SHA256, T0, &out) == 0) {
			EXPECT_INT(out.rand[0], ==, i);
			back++;
		}
	}
	EXPECT_INT(back, >, 0);
	EXPECT_INT(back, <=, 16);
	cscf_akavec_free(t);
}

int main(void)
{
	UNIT_RUN(take_once);
	UNIT_RUN(expiry_is_stale_then_gone);
	UNIT_RUN(bound_refuses_then_sweeps_expired);
	UNIT_RUN(per_impi_limit_keeps_the_latest);
	UNIT_RUN(put_refuses_bad_arguments);
	UNIT_RUN(threads_take_each_once);
	UNIT_RUN(threads_put_and_take);
	UNIT_RUN(spares_fifo_bounded_dropped);
	UNIT_RUN(spares_age_out);
	UNIT_RUN(spares_collide_safely);
	return UNIT_MAIN_END();
}
