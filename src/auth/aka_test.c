/*
 * aka_test.c - the USIM side of AKA and the Digest AKA formats.
 *
 *  - TS 35.208 test set 1 (f1, f1*, f2345, f5*, AUTN, OPc from OP); f1*
 *    and f5* were confirmed here with libosmogsm's milenage_f1/f2345.
 *  - Pairing with libosmogsm's network side (osmo_auth_gen_vec, IND 5
 *    bits) over many random subscribers and IND slots: our card accepts
 *    its AUTNs and derives its RES/CK/IK; a replay is a sync failure whose
 *    AUTS makes osmo_auth_gen_vec_auts resynchronise to our SQN_MS; a
 *    tampered AUTN is a MAC failure; a jump beyond DELTA is refused.
 *  - nonce/auts base64 round trips and strict refusals; the AKAv2
 *    password against a value computed with the openssl command line:
 *	printf 'http-digest-akav2-password' | openssl dgst -sha256 -mac HMAC \
 *	  -macopt hexkey:<RES||IK||CK of test set 1> -binary | base64
 *  - the demo keys against sha256sum of their labels.
 * The random subscribers come from a fixed-seed generator, so a failure
 * repeats.
 */
#include "auth/aka.h"

#include <string.h>

#include <osmocom/core/utils.h>
#include <osmocom/crypt/auth.h>

#include "core/wims.h"
#include "unit.h"

#define S(x) SLICE_LIT(x)

static void hex(const char *h, uint8_t *out, size_t n)
{
	if (osmo_hexparse(h, out, (int)n) != (int)n)
		memset(out, 0xee, n);
}

/* --- TS 35.208 test set 1 --- */

#define TS1_K "465b5ce8b199b49faa5f0a2ee238a6bc"
#define TS1_RAND "23553cbe9637a89d218ae64dae47bf35"
#define TS1_SQN "ff9bb4d0b607"
#define TS1_AMF "b9b9"
#define TS1_OP "cdc202d5123e20f62b6d676ac72cb318"
#define TS1_OPC "cd63cb71954a9f4e48a5994e37a02baf"
#define TS1_MAC_A "4a9ffac354dfafb3"
#define TS1_MAC_S "01cfaf9ec4e871e9"
#define TS1_RES "a54211d5e3ba50bf"
#define TS1_CK "b40ba9a3c58b2a05bbf0d987b21bf8cb"
#define TS1_IK "f769bcd751044604127672711c6d3441"
#define TS1_AK "aa689c648370"
#define TS1_AK_STAR "451e8beca43b"
#define TS1_AUTN "55f328b43577b9b94a9ffac354dfafb3"

static void ts1_keys(struct aka_keys *keys)
{
	hex(TS1_K, keys->k, AKA_K_LEN);
	hex(TS1_OPC, keys->opc, AKA_OP_LEN);
}

static void ts35208_set1_opc_from_op(void)
{
	uint8_t k[16], op[16], opc[16], want[16];
	hex(TS1_K, k, 16);
	hex(TS1_OP, op, 16);
	hex(TS1_OPC, want, 16);
	EXPECT_INT(aka_opc_from_op(k, op, opc), ==, 0);
	EXPECT_MEM(opc, want, 16);
}

static void ts35208_set1_functions(void)
{
	struct aka_keys keys;
	ts1_keys(&keys);
	uint8_t rand[16], sqn[6], amf[2], want[16];
	hex(TS1_RAND, rand, 16);
	hex(TS1_SQN, sqn, 6);
	hex(TS1_AMF, amf, 2);

	uint8_t mac_a[8], mac_s[8];
	EXPECT_INT(aka_milenage_f1(&keys, rand, sqn, amf, mac_a, mac_s), ==, 0);
	hex(TS1_MAC_A, want, 8);
	EXPECT_MEM(mac_a, want, 8);
	hex(TS1_MAC_S, want, 8);
	EXPECT_MEM(mac_s, want, 8);
	/* Either output alone. */
	memset(mac_a, 0, 8);
	EXPECT_INT(aka_milenage_f1(&keys, rand, sqn, amf, mac_a, NULL), ==, 0);
	hex(TS1_MAC_A, want, 8);
	EXPECT_MEM(mac_a, want, 8);

	uint8_t res[8], ck[16], ik[16], ak[6], ak_star[6];
	EXPECT_INT(aka_milenage_f2345(&keys, rand, res, ck, ik, ak, ak_star), ==, 0);
	hex(TS1_RES, want, 8);
	EXPECT_MEM(res, want, 8);
	hex(TS1_CK, want, 16);
	EXPECT_MEM(ck, want, 16);
	hex(TS1_IK, want, 16);
	EXPECT_MEM(ik, want, 16);
	hex(TS1_AK, want, 6);
	EXPECT_MEM(ak, want, 6);
	hex(TS1_AK_STAR, want, 6);
	EXPECT_MEM(ak_star, want, 6);

	uint8_t only_ak[6];
	EXPECT_INT(aka_milenage_f2345(&keys, rand, NULL, NULL, NULL, only_ak, NULL), ==, 0);
	hex(TS1_AK, want, 6);
	EXPECT_MEM(only_ak, want, 6);

	/* AUTN = SQN xor AK || AMF || MAC-A */
	uint8_t autn[16];
	for (int i = 0; i < 6; i++)
		autn[i] = sqn[i] ^ ak[i];
	memcpy(autn + 6, amf, 2);
	memcpy(autn + 8, mac_a, 8);
	hex(TS1_AUTN, want, 16);
	EXPECT_MEM(autn, want, 16);
}

/* The card takes test set 1's AUTN when its SQN is fresh. */
static void ts35208_set1_usim(void)
{
	struct aka_keys keys;
	ts1_keys(&keys);
	uint8_t rand[16], sqnb[6], autn[16], want[16];
	hex(TS1_RAND, rand, 16);
	hex(TS1_SQN, sqnb, 6);
	hex(TS1_AUTN, autn, 16);
	uint64_t sqn = aka_sqn_from_bytes(sqnb);
	EXPECT_INT(sqn, ==, UINT64_C(0xff9bb4d0b607));
	uint8_t back[6];
	aka_sqn_to_bytes(sqn, back);
	EXPECT_MEM(back, sqnb, 6);

	struct aka_sqn_state st;
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		st.seq[i] = (sqn >> AKA_IND_BITS) - 1;
	struct aka_usim_out out;
	EXPECT_INT(aka_usim_authenticate(&keys, &st, rand, autn, &out), ==, AKA_OK);
	hex(TS1_RES, want, 8);
	EXPECT_MEM(out.res, want, 8);
	hex(TS1_CK, want, 16);
	EXPECT_MEM(out.ck, want, 16);
	hex(TS1_IK, want, 16);
	EXPECT_MEM(out.ik, want, 16);
	EXPECT_INT(st.seq[sqn & (AKA_IND_SLOTS - 1)], ==, sqn >> AKA_IND_BITS);
	EXPECT_INT(aka_sqn_ms(&st), ==, sqn & ~(uint64_t)(AKA_IND_SLOTS - 1));

	/* The same again: replay, AUTS = SQN_MS xor AK* || MAC-S(AMF 0000). */
	struct aka_sqn_state before = st;
	EXPECT_INT(aka_usim_authenticate(&keys, &st, rand, autn, &out), ==, AKA_SYNC_FAILURE);
	EXPECT_MEM(&st, &before, sizeof(st));
	uint8_t ak_star[6], sqn_ms[6], mac_s[8];
	static const uint8_t amf0[2] = {0, 0};
	aka_sqn_to_bytes(aka_sqn_ms(&st), sqn_ms);
	EXPECT_INT(aka_milenage_f2345(&keys, rand, NULL, NULL, NULL, NULL, ak_star), ==, 0);
	EXPECT_INT(aka_milenage_f1(&keys, rand, sqn_ms, amf0, NULL, mac_s), ==, 0);
	for (int i = 0; i < 6; i++)
		EXPECT_INT(out.auts[i], ==, sqn_ms[i] ^ ak_star[i]);
	EXPECT_MEM(out.auts + 6, mac_s, 8);
}

/* --- pairing with libosmogsm --- */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

struct sub {
	struct aka_keys keys;
	struct osmo_sub_auth_data aud;
	struct aka_sqn_state st;
};

static void sub_new(struct sub *s, uint64_t sqn)
{
	memset(s, 0, sizeof(*s));
	rng_fill(s->keys.k, 16);
	rng_fill(s->keys.opc, 16);
	s->aud.type = OSMO_AUTH_TYPE_UMTS;
	s->aud.algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(s->aud.u.umts.k, s->keys.k, 16);
	memcpy(s->aud.u.umts.opc, s->keys.opc, 16);
	s->aud.u.umts.opc_is_op = 0;
	s->aud.u.umts.amf[0] = 0x80;
	s->aud.u.umts.sqn = sqn;
	s->aud.u.umts.ind_bitlen = AKA_IND_BITS;
}

static int gen(struct sub *s, unsigned ind, struct osmo_auth_vector *vec)
{
	uint8_t rand[16];
	rng_fill(rand, 16);
	s->aud.u.umts.ind = ind;
	return osmo_auth_gen_vec(vec, &s->aud, rand);
}

/* Our card derives what libosmogsm's network side expects. */
static int card_accepts(struct sub *s, const struct osmo_auth_vector *vec)
{
	struct aka_usim_out out;
	int rc = aka_usim_authenticate(&s->keys, &s->st, vec->rand, vec->autn, &out);
	if (rc != AKA_OK)
		return rc;
	if (vec->res_len != AKA_RES_LEN || memcmp(out.res, vec->res, AKA_RES_LEN) ||
	    memcmp(out.ck, vec->ck, 16) || memcmp(out.ik, vec->ik, 16))
		return -1;
	return AKA_OK;
}

static void osmo_pairs_many_subscribers(void)
{
	for (int n = 0; n < 200; n++) {
		struct sub s;
		sub_new(&s, 0);
		/* Several IND slots in turn, as the HSS rotates them. */
		for (unsigned i = 0; i < 8; i++) {
			struct osmo_auth_vector vec;
			EXPECT_INT(gen(&s, (n + i) % AKA_IND_SLOTS, &vec), ==, 0);
			EXPECT_INT(card_accepts(&s, &vec), ==, AKA_OK);
		}
	}
}

/* The point of IND: vectors made for several slots may be used in any
 * order; an older vector of a slot already used is not. */
static void osmo_ind_slots_out_of_order(void)
{
	struct sub s;
	sub_new(&s, 0);
	struct osmo_auth_vector vec[5], older;
	EXPECT_INT(gen(&s, 3, &older), ==, 0);
	for (unsigned i = 0; i < 5; i++)
		EXPECT_INT(gen(&s, i, &vec[i]), ==, 0);
	for (int i = 4; i >= 0; i--)
		EXPECT_INT(card_accepts(&s, &vec[i]), ==, AKA_OK);
	EXPECT_INT(card_accepts(&s, &older), ==, AKA_SYNC_FAILURE);
}

static void osmo_replay_resync(void)
{
	for (int n = 0; n < 100; n++) {
		struct sub s;
		sub_new(&s, 0);
		struct osmo_auth_vector vec;
		unsigned used = 1 + (unsigned)(rng() % 6);
		for (unsigned i = 0; i < used; i++) {
			EXPECT_INT(gen(&s, i % 3, &vec), ==, 0);
			EXPECT_INT(card_accepts(&s, &vec), ==, AKA_OK);
		}
		/* The last vector again. */
		struct aka_usim_out out;
		struct aka_sqn_state before = s.st;
		EXPECT_INT(aka_usim_authenticate(&s.keys, &s.st, vec.rand, vec.autn, &out), ==,
			   AKA_SYNC_FAILURE);
		EXPECT_MEM(&s.st, &before, sizeof(before));

		/* A bad MAC-S is refused by the network. */
		struct osmo_auth_vector fresh;
		uint8_t rand[16], bad[14];
		rng_fill(rand, 16);
		memcpy(bad, out.auts, 14);
		bad[13] ^= 1;
		struct osmo_sub_auth_data keep = s.aud;
		EXPECT_INT(osmo_auth_gen_vec_auts(&fresh, &s.aud, bad, vec.rand, rand), <, 0);
		s.aud = keep;

		/* The HSS's SQN forgotten (a restored HSS): the AUTS tells it. */
		s.aud.u.umts.sqn = 0;
		s.aud.u.umts.ind = (unsigned)(rng() % AKA_IND_SLOTS);
		EXPECT_INT(osmo_auth_gen_vec_auts(&fresh, &s.aud, out.auts, vec.rand, rand), ==, 0);
		EXPECT_INT(s.aud.u.umts.sqn_ms, ==, aka_sqn_ms(&s.st));
		EXPECT_INT(card_accepts(&s, &fresh), ==, AKA_OK);
	}
}

static void osmo_tampered_autn(void)
{
	for (int n = 0; n < 100; n++) {
		struct sub s;
		sub_new(&s, 0);
		struct osmo_auth_vector vec;
		EXPECT_INT(gen(&s, 0, &vec), ==, 0);
		unsigned bit = (unsigned)(rng() % 128);
		vec.autn[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		struct aka_sqn_state before = s.st;
		struct aka_usim_out out;
		memset(&out, 0, sizeof(out));
		EXPECT_INT(aka_usim_authenticate(&s.keys, &s.st, vec.rand, vec.autn, &out), ==,
			   AKA_MAC_FAILURE);
		EXPECT_MEM(&s.st, &before, sizeof(before));
		static const struct aka_usim_out zero;
		EXPECT_MEM(&out, &zero, sizeof(out));
	}
	/* Another subscriber's K is as wrong as a flipped bit. */
	struct sub a, b;
	sub_new(&a, 0);
	sub_new(&b, 0);
	struct osmo_auth_vector vec;
	EXPECT_INT(gen(&a, 0, &vec), ==, 0);
	EXPECT_INT(card_accepts(&b, &vec), ==, AKA_MAC_FAILURE);
}

/* TS 33.102 C.2.1: a SEQ more than DELTA above the highest accepted. */
static void osmo_sqn_jump_beyond_delta(void)
{
	struct sub s;
	sub_new(&s, 0);
	struct osmo_auth_vector vec;
	EXPECT_INT(gen(&s, 1, &vec), ==, 0); /* SEQ 1 */
	EXPECT_INT(card_accepts(&s, &vec), ==, AKA_OK);
	/* osmo makes SEQ + 1 from the stored SQN. */
	s.aud.u.umts.sqn = (1 + AKA_SQN_DELTA) << AKA_IND_BITS;
	EXPECT_INT(gen(&s, 2, &vec), ==, 0); /* SEQ 1 + DELTA + 1 */
	EXPECT_INT(card_accepts(&s, &vec), ==, AKA_SYNC_FAILURE);
	s.aud.u.umts.sqn = AKA_SQN_DELTA << AKA_IND_BITS;
	EXPECT_INT(gen(&s, 2, &vec), ==, 0); /* SEQ 1 + DELTA */
	EXPECT_INT(card_accepts(&s, &vec), ==, AKA_OK);
	/* The highest SEQ moved: an old slot's next SEQ is now in range. */
	s.aud.u.umts.sqn = (2 * AKA_SQN_DELTA) << AKA_IND_BITS;
	EXPECT_INT(gen(&s, 7, &vec), ==, 0);
	EXPECT_INT(card_accepts(&s, &vec), ==, AKA_OK);
	/* A fresh card refuses a SQN far from zero, then resyncs. */
	struct sub c;
	sub_new(&c, UINT64_C(0x123456789) << AKA_IND_BITS);
	EXPECT_INT(gen(&c, 0, &vec), ==, 0);
	struct aka_usim_out out;
	EXPECT_INT(aka_usim_authenticate(&c.keys, &c.st, vec.rand, vec.autn, &out), ==,
		   AKA_SYNC_FAILURE);
	struct osmo_auth_vector fresh;
	uint8_t rand[16];
	rng_fill(rand, 16);
	EXPECT_INT(osmo_auth_gen_vec_auts(&fresh, &c.aud, out.auts, vec.rand, rand), ==, 0);
	EXPECT_INT(c.aud.u.umts.sqn_ms, ==, 0);
	EXPECT_INT(card_accepts(&c, &fresh), ==, AKA_OK);
}

/* --- Digest AKA formats --- */

#define TS1_NONCE "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M="
#define TS1_NONCE_XY "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7N4eQ=="

static void nonce_round_trip(void)
{
	uint8_t rand[16], autn[16], r2[16], a2[16];
	hex(TS1_RAND, rand, 16);
	hex(TS1_AUTN, autn, 16);
	char out[AKA_NONCE_MAX + 1];
	EXPECT_INT(aka_nonce_encode(rand, autn, NULL, 0, out, sizeof(out)), ==, 44);
	EXPECT_STR(out, TS1_NONCE);
	EXPECT_INT(aka_nonce_decode(slice_from_cstr(out), r2, a2), ==, 0);
	EXPECT_MEM(r2, rand, 16);
	EXPECT_MEM(a2, autn, 16);
	EXPECT_INT(aka_nonce_encode(rand, autn, (const uint8_t *)"xy", 2, out, sizeof(out)), ==,
		   48);
	EXPECT_STR(out, TS1_NONCE_XY);
	memset(r2, 0, 16);
	EXPECT_INT(aka_nonce_decode(slice_from_cstr(out), r2, a2), ==, 0);
	EXPECT_MEM(r2, rand, 16);
	EXPECT_MEM(a2, autn, 16);
	/* Every length of server data that fits. */
	uint8_t sd[64];
	rng_fill(sd, sizeof(sd));
	for (size_t n = 0; n <= 40; n++) {
		int len = aka_nonce_encode(rand, autn, sd, n, out, sizeof(out));
		EXPECT_INT(len, ==, (int)((32 + n + 2) / 3 * 4));
		EXPECT_INT(aka_nonce_decode((struct slice){out, (size_t)len}, r2, a2), ==, 0);
		EXPECT_MEM(a2, autn, 16);
	}
	EXPECT_INT(aka_nonce_encode(rand, autn, sd, 41, out, sizeof(out)), ==, WIMS_ETOOBIG);
	EXPECT_INT(aka_nonce_encode(rand, autn, NULL, 0, out, 44), ==, WIMS_ETOOBIG);
	EXPECT_STR(out, "");
}

static void nonce_refuses_bad_input(void)
{
	static const char *const bad[] = {
		"",
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M",   /* no padding */
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7N=",  /* spare bits */
		"I1U8vpY3qJ0hiuZNrke_NVXzKLQ1d7m5Sp-6w1Tfr7M=",  /* base64url */
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M==", /* length */
		"I1U8vpY3qJ0hiuZN=ke/NVXzKLQ1d7m5Sp/6w1Tfr7M=",  /* '=' inside */
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=AAAA", /* after padding */
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tf",      /* 30 bytes */
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M ", /* space */
		"====",
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7N4eQ=", /* bad pad */
	};
	uint8_t rand[16], autn[16];
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		if (aka_nonce_decode(slice_from_cstr(bad[i]), rand, autn) != WIMS_EPARSE) {
			UNIT_FAIL_("accepted nonce \"%s\"", bad[i]);
			return;
		}
	}
	/* Longer than AKA_NONCE_MAX. */
	char big[AKA_NONCE_MAX + 5];
	memset(big, 'A', sizeof(big));
	EXPECT_INT(aka_nonce_decode((struct slice){big, AKA_NONCE_MAX + 4}, rand, autn), ==,
		   WIMS_EPARSE);
	EXPECT_INT(aka_nonce_decode((struct slice){big, AKA_NONCE_MAX}, rand, autn), ==, 0);
	/* Every prefix of a good nonce is refused (no overread: ASan). */
	for (size_t n = 0; n < 44; n++)
		EXPECT_INT(aka_nonce_decode((struct slice){TS1_NONCE, n}, rand, autn), ==,
			   WIMS_EPARSE);
}

static void auts_round_trip_and_refusals(void)
{
	uint8_t auts[14], back[14];
	for (int i = 0; i < 14; i++)
		auts[i] = (uint8_t)i;
	char out[AKA_AUTS_B64_LEN + 1];
	EXPECT_INT(aka_auts_encode(auts, out, sizeof(out)), ==, 0);
	EXPECT_STR(out, "AAECAwQFBgcICQoLDA0=");
	EXPECT_INT(aka_auts_decode(slice_from_cstr(out), back), ==, 0);
	EXPECT_MEM(back, auts, 14);
	EXPECT_INT(aka_auts_encode(auts, out, AKA_AUTS_B64_LEN), ==, WIMS_ETOOBIG);
	for (int n = 0; n < 50; n++) {
		rng_fill(auts, 14);
		EXPECT_INT(aka_auts_encode(auts, out, sizeof(out)), ==, 0);
		EXPECT_INT(strlen(out), ==, AKA_AUTS_B64_LEN);
		EXPECT_INT(aka_auts_decode(slice_from_cstr(out), back), ==, 0);
		EXPECT_MEM(back, auts, 14);
	}
	static const char *const bad[] = {
		"",
		"AAECAwQFBgcICQoLDA0",    /* no padding */
		"AAECAwQFBgcICQoLDA1=",   /* spare bits */
		"AAECAwQFBgcICQoLDA==",   /* 13 bytes */
		"AAECAwQFBgcICQoLDA0A",   /* 15 bytes */
		"AAECAwQFBgcICQoLDA0=AAAA",
		"AAECAwQFBgcI*QoLDA0=",
		"AAECAwQFBgcICQoLDA0=\n",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		if (aka_auts_decode(slice_from_cstr(bad[i]), back) != WIMS_EPARSE) {
			UNIT_FAIL_("accepted auts \"%s\"", bad[i]);
			return;
		}
	}
}

static void digest_password_v1_v2(void)
{
	uint8_t res[8], ck[16], ik[16];
	hex(TS1_RES, res, 8);
	hex(TS1_CK, ck, 16);
	hex(TS1_IK, ik, 16);
	char out[AKA_PASSWORD_MAX];
	size_t len = 0;
	EXPECT_INT(aka_digest_password(AKA_V1_MD5, res, 8, ik, ck, out, sizeof(out), &len), ==, 0);
	EXPECT_INT(len, ==, 8);
	EXPECT_MEM(out, res, 8);
	EXPECT_INT(aka_digest_password(AKA_V2_SHA256, res, 8, ik, ck, out, sizeof(out), &len), ==,
		   0);
	EXPECT_INT(len, ==, 44);
	/* openssl dgst -sha256 -mac HMAC -macopt hexkey:RES||IK||CK | base64 */
	EXPECT_STR(out, "wpC+5dv/7kC35JEI2hluv8XcBd+vf8XcfedJBan1buk=");
	EXPECT_INT(aka_digest_password(AKA_V2_SHA256, res, 8, ik, ck, out, 44, &len), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(aka_digest_password(AKA_V1_MD5, res, 8, ik, ck, out, 8, &len), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(aka_digest_password(AKA_V1_MD5, res, 0, ik, ck, out, sizeof(out), &len), ==,
		   WIMS_EINVAL);
	EXPECT_INT(aka_digest_password((enum aka_version)7, res, 8, ik, ck, out, sizeof(out),
				       &len),
		   ==, WIMS_EUNSUPPORTED);
	/* Any key bit changes the password. */
	char other[AKA_PASSWORD_MAX];
	ck[15] ^= 1;
	EXPECT_INT(aka_digest_password(AKA_V2_SHA256, res, 8, ik, ck, other, sizeof(other), &len),
		   ==, 0);
	EXPECT_TRUE(strcmp(out, other) != 0);
}

static void version_names(void)
{
	enum aka_version v = 0;
	EXPECT_INT(aka_version_parse(S("AKAv1-MD5"), &v), ==, 0);
	EXPECT_INT(v, ==, AKA_V1_MD5);
	EXPECT_INT(aka_version_parse(S("akav2-sha-256"), &v), ==, 0);
	EXPECT_INT(v, ==, AKA_V2_SHA256);
	EXPECT_STR(aka_version_name(AKA_V1_MD5), "AKAv1-MD5");
	EXPECT_STR(aka_version_name(AKA_V2_SHA256), "AKAv2-SHA-256");
	EXPECT_INT(aka_version_parse(S("AKAv2-MD5"), &v), ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(aka_version_parse(S("MD5"), &v), ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(aka_version_parse(S("AKAv1-MD5 "), &v), ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(aka_version_parse(S(""), &v), ==, WIMS_EUNSUPPORTED);
}

/* printf 'wims demo AKA K dave@ims.example.org' | sha256sum, likewise OPc. */
static void demo_keys(void)
{
	struct aka_keys keys, again;
	uint8_t want[16];
	EXPECT_INT(aka_demo_keys("dave@ims.example.org", &keys), ==, 0);
	hex("303352f277a4a36d3904ee8c34cd718a", want, 16);
	EXPECT_MEM(keys.k, want, 16);
	hex("ff3ed0908f1ce369e70e14270d13a699", want, 16);
	EXPECT_MEM(keys.opc, want, 16);
	EXPECT_INT(aka_demo_keys("erin@ims.example.org", &again), ==, 0);
	EXPECT_TRUE(memcmp(keys.k, again.k, 16) != 0);
	EXPECT_INT(aka_demo_keys("", &again), ==, WIMS_EINVAL);
	EXPECT_INT(aka_demo_keys(NULL, &again), ==, WIMS_EINVAL);
}

int main(void)
{
	UNIT_RUN(ts35208_set1_opc_from_op);
	UNIT_RUN(ts35208_set1_functions);
	UNIT_RUN(ts35208_set1_usim);
	UNIT_RUN(osmo_pairs_many_subscribers);
	UNIT_RUN(osmo_ind_slots_out_of_order);
	UNIT_RUN(osmo_replay_resync);
	UNIT_RUN(osmo_tampered_autn);
	UNIT_RUN(osmo_sqn_jump_beyond_delta);
	UNIT_RUN(nonce_round_trip);
	UNIT_RUN(nonce_refuses_bad_input);
	UNIT_RUN(auts_round_trip_and_refusals);
	UNIT_RUN(digest_password_v1_v2);
	UNIT_RUN(version_names);
	UNIT_RUN(demo_keys);
	return UNIT_MAIN_END();
}
