/* token_test.c - flow tokens and branches: round trip, and every forgery
 * refused (other key, flipped bit, other worker/conn, truncation,
 * non-canonical spelling). */
#include "pcscf/token.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static const uint8_t key[PCSCF_TOKEN_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
						 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
						 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t other_key[PCSCF_TOKEN_KEY_LEN] = {32, 31, 30};

static bool is_token_chars(const char *s)
{
	for (; *s; s++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *s))
			return false;
	return true;
}

static void token_round_trips(void)
{
	char t[PCSCF_TOKEN_LEN + 1];
	EXPECT_INT(pcscf_token_make(key, 3, 0x0102030405060708ull, t), ==, 0);
	EXPECT_INT(strlen(t), ==, PCSCF_TOKEN_LEN);
	EXPECT_TRUE(is_token_chars(t));
	int w = -1;
	uint64_t id = 0;
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(t), &w, &id), ==, 0);
	EXPECT_INT(w, ==, 3);
	EXPECT_TRUE(id == 0x0102030405060708ull);

	EXPECT_INT(pcscf_token_make(key, 255, UINT64_MAX, t), ==, 0);
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(t), &w, &id), ==, 0);
	EXPECT_INT(w, ==, 255);
	EXPECT_TRUE(id == UINT64_MAX);
	EXPECT_INT(pcscf_token_make(key, 256, 1, t), ==, WIMS_EINVAL);
	EXPECT_INT(pcscf_token_make(key, -1, 1, t), ==, WIMS_EINVAL);
}

static void token_differs_per_flow(void)
{
	char a[PCSCF_TOKEN_LEN + 1], b[PCSCF_TOKEN_LEN + 1], c[PCSCF_TOKEN_LEN + 1];
	EXPECT_INT(pcscf_token_make(key, 0, 1, a), ==, 0);
	EXPECT_INT(pcscf_token_make(key, 0, 2, b), ==, 0);
	EXPECT_INT(pcscf_token_make(key, 1, 1, c), ==, 0);
	EXPECT_TRUE(strcmp(a, b) != 0);
	EXPECT_TRUE(strcmp(a, c) != 0);
}

static void token_other_key_refused(void)
{
	char t[PCSCF_TOKEN_LEN + 1];
	int w;
	uint64_t id;
	EXPECT_INT(pcscf_token_make(other_key, 0, 42, t), ==, 0);
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(t), &w, &id), ==, WIMS_EAUTH);
}

static void token_every_altered_char_refused(void)
{
	char t[PCSCF_TOKEN_LEN + 1];
	int w;
	uint64_t id;
	EXPECT_INT(pcscf_token_make(key, 2, 77, t), ==, 0);
	for (size_t i = 0; i < PCSCF_TOKEN_LEN; i++) {
		char f[PCSCF_TOKEN_LEN + 1];
		memcpy(f, t, sizeof(f));
		f[i] = f[i] == 'A' ? 'B' : 'A';
		EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(f), &w, &id), ==, WIMS_EAUTH);
	}
}

/* An attacker who knows the format picks worker and conn id and keeps a
 * MAC from another token: refused. */
static void token_spliced_id_refused(void)
{
	char t[PCSCF_TOKEN_LEN + 1], u[PCSCF_TOKEN_LEN + 1];
	int w;
	uint64_t id;
	EXPECT_INT(pcscf_token_make(key, 0, 1000, t), ==, 0);
	EXPECT_INT(pcscf_token_make(key, 0, 1001, u), ==, 0);
	/* first 12 chars = 9 bytes (worker + id) of u, the MAC of t */
	char f[PCSCF_TOKEN_LEN + 1];
	memcpy(f, u, 12);
	memcpy(f + 12, t + 12, PCSCF_TOKEN_LEN - 12 + 1);
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(f), &w, &id), ==, WIMS_EAUTH);
}

static void token_bad_shapes_refused(void)
{
	char t[PCSCF_TOKEN_LEN + 1];
	int w;
	uint64_t id;
	EXPECT_INT(pcscf_token_make(key, 0, 5, t), ==, 0);
	EXPECT_INT(pcscf_token_verify(key, (struct slice){t, PCSCF_TOKEN_LEN - 1}, &w, &id), ==,
		   WIMS_EAUTH);
	EXPECT_INT(pcscf_token_verify(key, SLICE_NULL, &w, &id), ==, WIMS_EAUTH);
	EXPECT_INT(pcscf_token_verify(key, SLICE_LIT(""), &w, &id), ==, WIMS_EAUTH);
	char longer[PCSCF_TOKEN_LEN + 2];
	memcpy(longer, t, PCSCF_TOKEN_LEN);
	longer[PCSCF_TOKEN_LEN] = 'A';
	longer[PCSCF_TOKEN_LEN + 1] = 0;
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(longer), &w, &id), ==, WIMS_EAUTH);
	/* standard base64 '+' '/' are not base64url */
	char plus[PCSCF_TOKEN_LEN + 1];
	memcpy(plus, t, sizeof(plus));
	plus[5] = '+';
	EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(plus), &w, &id), ==, WIMS_EAUTH);
	/* the last char carries 4 bits + 2 spare: setting a spare bit gives
	 * the same bytes; a second spelling is refused */
	char spare[PCSCF_TOKEN_LEN + 1];
	memcpy(spare, t, sizeof(spare));
	const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int v = (int)(strchr(al, spare[PCSCF_TOKEN_LEN - 1]) - al);
	spare[PCSCF_TOKEN_LEN - 1] = al[v | 1];
	if (spare[PCSCF_TOKEN_LEN - 1] != t[PCSCF_TOKEN_LEN - 1])
		EXPECT_INT(pcscf_token_verify(key, slice_from_cstr(spare), &w, &id), ==, WIMS_EAUTH);
}

static void branch_round_trips_and_is_stable(void)
{
	char b1[PCSCF_BRANCH_LEN + 1], b2[PCSCF_BRANCH_LEN + 1], b3[PCSCF_BRANCH_LEN + 1];
	uint64_t t1, t2, t3, txn;
	EXPECT_INT(pcscf_branch_make(key, 1, 99, SLICE_LIT("z9hG4bKabc"), SLICE_LIT("x.invalid"), b1,
				     &t1),
		   ==, 0);
	EXPECT_INT(strlen(b1), ==, PCSCF_BRANCH_LEN);
	EXPECT_TRUE(strncmp(b1, "z9hG4bK", 7) == 0);
	EXPECT_INT(pcscf_branch_make(key, 1, 99, SLICE_LIT("z9hG4bKabc"), SLICE_LIT("x.invalid"), b2,
				     &t2),
		   ==, 0);
	EXPECT_STR(b1, b2);
	EXPECT_TRUE(t1 == t2);
	EXPECT_INT(pcscf_branch_make(key, 1, 99, SLICE_LIT("z9hG4bKabd"), SLICE_LIT("x.invalid"), b3,
				     &t3),
		   ==, 0);
	EXPECT_TRUE(strcmp(b1, b3) != 0);
	EXPECT_TRUE(t1 != t3);
	/* the same client branch on another flow is another transaction */
	EXPECT_INT(pcscf_branch_make(key, 1, 98, SLICE_LIT("z9hG4bKabc"), SLICE_LIT("x.invalid"), b3,
				     &t3),
		   ==, 0);
	EXPECT_TRUE(t1 != t3);

	int w;
	uint64_t id;
	EXPECT_INT(pcscf_branch_parse(key, slice_from_cstr(b1), &w, &id, &txn), ==, 0);
	EXPECT_INT(w, ==, 1);
	EXPECT_TRUE(id == 99);
	EXPECT_TRUE(txn == t1);
}

static void branch_foreign_or_forged_refused(void)
{
	char b[PCSCF_BRANCH_LEN + 1];
	int w;
	uint64_t id, txn;
	EXPECT_INT(pcscf_branch_parse(key, SLICE_LIT("z9hG4bK776asdhds"), &w, &id, &txn), ==,
		   WIMS_EAUTH);
	EXPECT_INT(pcscf_branch_make(other_key, 0, 1, SLICE_LIT("z9hG4bKa"), SLICE_LIT("h"), b, NULL),
		   ==, 0);
	EXPECT_INT(pcscf_branch_parse(key, slice_from_cstr(b), &w, &id, &txn), ==, WIMS_EAUTH);
	EXPECT_INT(pcscf_branch_make(key, 0, 1, SLICE_LIT("z9hG4bKa"), SLICE_LIT("h"), b, NULL), ==, 0);
	b[10] = b[10] == 'A' ? 'B' : 'A';
	EXPECT_INT(pcscf_branch_parse(key, slice_from_cstr(b), &w, &id, &txn), ==, WIMS_EAUTH);
}

static void branch_back_round_trip_and_forgery(void)
{
	char b[PCSCF_BRANCH_BACK_LEN + 1];
	int w, bw;
	uint64_t id, bl, made;
	EXPECT_INT(pcscf_branch_make_back(key, 2, 55, SLICE_LIT("z9hG4bKcore"),
					  SLICE_LIT("127.0.0.1:5060"), 1, 0x1234, b, &made),
		   ==, 0);
	EXPECT_INT(strlen(b), ==, PCSCF_BRANCH_BACK_LEN);
	uint64_t txn, want;
	EXPECT_INT(pcscf_branch_parse_back(key, slice_from_cstr(b), &w, &id, &bw, &bl, &txn), ==, 0);
	/* a CANCEL from the core (same branch, RFC 3261 9.1) finds its INVITE */
	char plain[PCSCF_BRANCH_LEN + 1];
	EXPECT_INT(pcscf_branch_make(key, 2, 55, SLICE_LIT("z9hG4bKcore"),
				     SLICE_LIT("127.0.0.1:5060"), plain, &want),
		   ==, 0);
	EXPECT_TRUE(txn == want);
	EXPECT_TRUE(made == want);
	EXPECT_TRUE(strncmp(plain, b, PCSCF_BRANCH_LEN) == 0);
	EXPECT_INT(w, ==, 2);
	EXPECT_TRUE(id == 55);
	EXPECT_INT(bw, ==, 1);
	EXPECT_TRUE(bl == 0x1234);
	/* the plain parser does not take it, nor does this one a plain one */
	EXPECT_INT(pcscf_branch_parse(key, slice_from_cstr(b), &w, &id, NULL), ==, WIMS_EAUTH);
	/* a client redirecting its response to another link */
	for (size_t i = PCSCF_BRANCH_LEN + 1; i < PCSCF_BRANCH_BACK_LEN; i++) {
		char f[PCSCF_BRANCH_BACK_LEN + 1];
		memcpy(f, b, sizeof(f));
		f[i] = f[i] == 'A' ? 'B' : 'A';
		EXPECT_INT(pcscf_branch_parse_back(key, slice_from_cstr(f), &w, &id, &bw, &bl, NULL),
			   ==, WIMS_EAUTH);
	}
}

int main(void)
{
	UNIT_RUN(branch_back_round_trip_and_forgery);
	UNIT_RUN(token_round_trips);
	UNIT_RUN(token_differs_per_flow);
	UNIT_RUN(token_other_key_refused);
	UNIT_RUN(token_every_altered_char_refused);
	UNIT_RUN(token_spliced_id_refused);
	UNIT_RUN(token_bad_shapes_refused);
	UNIT_RUN(branch_round_trips_and_is_stable);
	UNIT_RUN(branch_foreign_or_forged_refused);
	return UNIT_MAIN_END();
}
