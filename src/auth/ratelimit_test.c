/*
 * ratelimit_test.c - the per-IMPI failure limiter: blocks at the limit,
 * unblocks when the window ends, success resets, IMPIs are independent,
 * memory stays bounded and a flood of new IMPIs cannot reset a live count.
 */
#include "auth/ratelimit.h"

#include <stdio.h>

#include "core/limits.h"
#include "core/wims.h"
#include "unit.h"

#define ALICE SLICE_LIT("alice@ims.example.org")
#define BOB SLICE_LIT("bob@ims.example.org")

static void blocks_at_limit_then_window_ends(void)
{
	struct ratelimit *rl = ratelimit_new(0, WIMS_AUTH_MAX_FAILURES_PER_MIN, 60);
	EXPECT_TRUE(rl != NULL);
	for (int i = 1; i < WIMS_AUTH_MAX_FAILURES_PER_MIN; i++) {
		EXPECT_INT(ratelimit_check(rl, ALICE, 1000), ==, 0);
		EXPECT_INT(ratelimit_fail(rl, ALICE, 1000 + (uint64_t)i), ==, 0);
	}
	EXPECT_INT(ratelimit_fail(rl, ALICE, 1030), ==, WIMS_EDENIED);
	EXPECT_INT(ratelimit_check(rl, ALICE, 1030), ==, WIMS_EDENIED);
	EXPECT_INT(ratelimit_check(rl, ALICE, 1059), ==, WIMS_EDENIED);
	/* Bob is not affected. */
	EXPECT_INT(ratelimit_check(rl, BOB, 1030), ==, 0);
	/* The window started at the first failure (1001) ends 60 s later. */
	EXPECT_INT(ratelimit_check(rl, ALICE, 1061), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 1061), ==, 0);
	ratelimit_free(rl);
}

static void success_resets(void)
{
	struct ratelimit *rl = ratelimit_new(0, 3, 60);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 10), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 10), ==, 0);
	ratelimit_reset(rl, ALICE);
	EXPECT_INT(ratelimit_count(rl), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 11), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 11), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, ALICE, 11), ==, WIMS_EDENIED);
	ratelimit_free(rl);
	EXPECT_TRUE(ratelimit_new(0, 0, 60) == NULL);
}

static void bounded_and_flood_cannot_reset(void)
{
	const size_t max = 64;
	struct ratelimit *rl = ratelimit_new(max, 3, 60);
	for (int i = 0; i < 3; i++)
		(void)ratelimit_fail(rl, ALICE, 100);
	EXPECT_INT(ratelimit_check(rl, ALICE, 100), ==, WIMS_EDENIED);
	char name[64];
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(name, sizeof(name), "u%d@ims.example.org", i);
		(void)ratelimit_fail(rl, (struct slice){name, (size_t)n}, 101);
		EXPECT_INT(ratelimit_count(rl), <=, max);
	}
	EXPECT_INT(ratelimit_check(rl, ALICE, 101), ==, WIMS_EDENIED);
	/* Once the windows end, new IMPIs are counted again. */
	EXPECT_INT(ratelimit_fail(rl, BOB, 200), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, BOB, 200), ==, 0);
	EXPECT_INT(ratelimit_fail(rl, BOB, 200), ==, WIMS_EDENIED);
	ratelimit_free(rl);
}

int main(void)
{
	UNIT_RUN(blocks_at_limit_then_window_ends);
	UNIT_RUN(success_resets);
	UNIT_RUN(bounded_and_flood_cannot_reset);
	return UNIT_MAIN_END();
}
