/*
 * isim_test.c - the soft ISIM against libosmogsm's network side.
 *
 * The network here is osmo_auth_gen_vec / osmo_auth_gen_vec_auts with
 * ind_bitlen 5, as the HSS runs it; the card is isim.c over aka.c.  Two
 * implementations agreeing on the password and on a resynchronisation is
 * the point: a bug shared by both sides of one implementation would pass
 * a self-test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <osmocom/crypt/auth.h>

#include "auth/aka.h"
#include "core/slice.h"
#include "core/wims.h"
#include "isim/isim.h"
#include "unit.h"

/* TS 35.208 test set 1's K and OPc. */
static const uint8_t k1[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
			       0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
static const uint8_t opc1[16] = {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
				 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};

#define IMPI "dave@ims.example.org"

static char dir[64];
static char path[128];

/* A fresh store file for one test. */
static struct isim *fresh_store(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-isim-test.XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/isim.db", dir);
	char err[256];
	struct isim *is = isim_open(path, err, sizeof(err));
	if (!is)
		fprintf(stderr, "isim_open: %s\n", err);
	return is;
}

static void remove_store(struct isim *is)
{
	isim_close(is);
	char p[160];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(suffix); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int put_dave(struct isim *is, const uint8_t *k, const uint8_t *opc)
{
	struct isim_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.impi, sizeof(e.impi), "%s", IMPI);
	snprintf(e.impu, sizeof(e.impu), "sip:%s", IMPI);
	snprintf(e.realm, sizeof(e.realm), "ims.example.org");
	memcpy(e.keys.k, k, 16);
	memcpy(e.keys.opc, opc, 16);
	e.amf[0] = 0x80;
	return isim_put(is, &e);
}

/* The HSS's side of one subscriber. */
struct network {
	struct osmo_sub_auth_data aud;
	unsigned next_rand;
	struct osmo_auth_vector vec;
	char nonce[AKA_NONCE_MAX];
	uint8_t rand[16];
};

static void network_init(struct network *net, const uint8_t *k, const uint8_t *opc)
{
	memset(net, 0, sizeof(*net));
	net->aud.type = OSMO_AUTH_TYPE_UMTS;
	net->aud.algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(net->aud.u.umts.k, k, 16);
	memcpy(net->aud.u.umts.opc, opc, 16);
	net->aud.u.umts.amf[0] = 0x80;
	net->aud.u.umts.ind_bitlen = AKA_IND_BITS;
}

static void next_rand(struct network *net)
{
	net->next_rand++;
	for (int i = 0; i < 16; i++)
		net->rand[i] = (uint8_t)(net->next_rand * 37 + (unsigned)i * 11);
}

/* One vector (IND slot ind) and its Digest AKA nonce; 0 or -1. */
static int network_vector(struct network *net, unsigned ind)
{
	next_rand(net);
	net->aud.u.umts.ind = ind;
	if (osmo_auth_gen_vec(&net->vec, &net->aud, net->rand) != 0)
		return -1;
	return aka_nonce_encode(net->vec.rand, net->vec.autn, NULL, 0, net->nonce,
				sizeof(net->nonce)) > 0
		       ? 0
		       : -1;
}

/* The password the network expects for its current vector. */
static int network_password(struct network *net, char *out, size_t outsz)
{
	size_t len = 0;
	return aka_digest_password(AKA_V2_SHA256, net->vec.res, net->vec.res_len, net->vec.ik,
				   net->vec.ck, out, outsz, &len);
}

static int card_answer(struct isim *is, const char *nonce, struct isim_answer *a)
{
	return isim_authenticate(is, IMPI, AKA_V2_SHA256, slice_from_cstr(nonce), a);
}

static void password_is_akav2_of_the_networks_vector(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct network net;
	network_init(&net, k1, opc1);
	/* Many vectors, the IND slot rotating as the HSS does. */
	for (unsigned i = 0; i < 80; i++) {
		EXPECT_INT(network_vector(&net, i % AKA_IND_SLOTS), ==, 0);
		struct isim_answer a;
		EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
		EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
		char want[AKA_PASSWORD_MAX];
		EXPECT_INT(network_password(&net, want, sizeof(want)), ==, 0);
		EXPECT_INT(a.password_len, ==, 44);
		EXPECT_INT(strlen(a.password), ==, 44);
		EXPECT_STR(a.password, want);
	}
	remove_store(is);
}

/* The AUTS the card sends resynchronises libosmogsm, and the vector the
 * network makes after it is accepted. */
static void same_nonce_twice_gives_auts_that_resyncs(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 3), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	uint8_t used_rand[16];
	memcpy(used_rand, net.rand, 16);

	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_RESYNC);
	EXPECT_INT(a.password_len, ==, 0);
	EXPECT_INT(strlen(a.auts), ==, AKA_AUTS_B64_LEN);

	/* The HSS: a network that lost its SQN (restored from a backup). */
	net.aud.u.umts.sqn = 0;
	uint8_t auts[AKA_AUTS_LEN];
	EXPECT_INT(aka_auts_decode(slice_from_cstr(a.auts), auts), ==, 0);
	next_rand(&net);
	net.aud.u.umts.ind = 5;
	EXPECT_INT(osmo_auth_gen_vec_auts(&net.vec, &net.aud, auts, used_rand, net.rand), ==, 0);
	/* SQN_MS: SEQ 1 (the one accepted) with IND 0. */
	EXPECT_INT(net.aud.u.umts.sqn_ms, ==, 1u << AKA_IND_BITS);
	EXPECT_INT(aka_nonce_encode(net.vec.rand, net.vec.autn, NULL, 0, net.nonce,
				    sizeof(net.nonce)),
		   >, 0);
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	char want[AKA_PASSWORD_MAX];
	EXPECT_INT(network_password(&net, want, sizeof(want)), ==, 0);
	EXPECT_STR(a.password, want);
	remove_store(is);
}

/* isim-seq: a card ahead of the network resyncs it to its SEQ. */
static void set_seq_makes_the_network_resync_to_it(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	EXPECT_INT(isim_set_seq(is, IMPI, 1000), ==, 0);
	EXPECT_INT(isim_set_seq(is, "nobody@ims.example.org", 1), ==, WIMS_ENOTFOUND);
	EXPECT_INT(isim_set_seq(is, IMPI, UINT64_C(1) << 43), ==, WIMS_EINVAL);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 0), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_RESYNC);
	uint8_t auts[AKA_AUTS_LEN], rand_auts[16];
	memcpy(rand_auts, net.rand, 16);
	EXPECT_INT(aka_auts_decode(slice_from_cstr(a.auts), auts), ==, 0);
	next_rand(&net);
	EXPECT_INT(osmo_auth_gen_vec_auts(&net.vec, &net.aud, auts, rand_auts, net.rand), ==, 0);
	EXPECT_INT(net.aud.u.umts.sqn_ms, ==, UINT64_C(1000) << AKA_IND_BITS);
	EXPECT_INT(aka_nonce_encode(net.vec.rand, net.vec.autn, NULL, 0, net.nonce,
				    sizeof(net.nonce)),
		   >, 0);
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	remove_store(is);
}

/* A network with another K cannot make the card answer, and does not
 * move its SQN state: the genuine network's next vector still works. */
static void wrong_k_at_the_network_is_rejected(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	uint8_t other_k[16];
	memcpy(other_k, k1, 16);
	other_k[15] ^= 1;
	struct network fake, real;
	network_init(&fake, other_k, opc1);
	network_init(&real, k1, opc1);
	EXPECT_INT(network_vector(&fake, 0), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, fake.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_NETWORK_REJECTED);
	EXPECT_INT(a.password_len, ==, 0);
	EXPECT_STR(a.password, "");
	EXPECT_STR(a.auts, "");
	EXPECT_INT(network_vector(&real, 0), ==, 0);
	EXPECT_INT(card_answer(is, real.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	remove_store(is);
}

static void akav1_is_refused(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 0), ==, 0);
	struct isim_answer a;
	EXPECT_INT(isim_authenticate(is, IMPI, AKA_V1_MD5, slice_from_cstr(net.nonce), &a), ==,
		   WIMS_EUNSUPPORTED);
	EXPECT_STR(a.password, "");
	/* Refusing it did not spend the vector. */
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	remove_store(is);
}

static void bad_nonce_and_unknown_impi(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, "not base64!", &a), ==, WIMS_EPARSE);
	EXPECT_INT(card_answer(is, "AAAA", &a), ==, WIMS_EPARSE);
	EXPECT_INT(card_answer(is, "", &a), ==, WIMS_EPARSE);
	char huge[300];
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	EXPECT_INT(card_answer(is, huge, &a), ==, WIMS_EPARSE);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 0), ==, 0);
	EXPECT_INT(isim_authenticate(is, "erin@ims.example.org", AKA_V2_SHA256,
				     slice_from_cstr(net.nonce), &a),
		   ==, WIMS_ENOTFOUND);
	EXPECT_INT(isim_authenticate(is, "", AKA_V2_SHA256, slice_from_cstr(net.nonce), &a), ==,
		   WIMS_ENOTFOUND);
	remove_store(is);
}

/* The SQN state is on disk when the answer returns. */
static void sqn_state_survives_reopen(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 7), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	isim_close(is);
	char err[256];
	is = isim_open(path, err, sizeof(err));
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_RESYNC);
	/* A second handle on the same file (another process) sees it too. */
	struct isim *other = isim_open(path, err, sizeof(err));
	EXPECT_TRUE(other != NULL);
	EXPECT_INT(isim_authenticate(other, IMPI, AKA_V2_SHA256, slice_from_cstr(net.nonce), &a),
		   ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_RESYNC);
	isim_close(other);
	remove_store(is);
}

/* Replacing an entry keeps its SQN state with the same K, resets it with
 * a new one (a new card). */
static void put_keeps_sqn_only_for_the_same_k(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct network net;
	network_init(&net, k1, opc1);
	EXPECT_INT(network_vector(&net, 0), ==, 0);
	struct isim_answer a;
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	EXPECT_INT(card_answer(is, net.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_RESYNC);

	uint8_t k2[16];
	memcpy(k2, k1, 16);
	k2[0] ^= 0x80;
	EXPECT_INT(put_dave(is, k2, opc1), ==, 0);
	struct network net2;
	network_init(&net2, k2, opc1);
	EXPECT_INT(network_vector(&net2, 0), ==, 0);
	EXPECT_INT(card_answer(is, net2.nonce, &a), ==, 0);
	EXPECT_INT(a.outcome, ==, ISIM_PASSWORD);
	remove_store(is);
}

static int count_entry(void *arg, const struct isim_entry *e)
{
	int *n = arg;
	static const uint8_t zero[16];
	if (memcmp(e->keys.k, zero, 16) != 0 || memcmp(e->keys.opc, zero, 16) != 0)
		return -1;
	(*n)++;
	return 0;
}

static void public_part_list_remove_and_file_mode(void)
{
	struct isim *is = fresh_store();
	EXPECT_TRUE(is != NULL);
	struct stat st;
	EXPECT_INT(stat(path, &st), ==, 0);
	EXPECT_INT(st.st_mode & 077, ==, 0);
	EXPECT_INT(put_dave(is, k1, opc1), ==, 0);
	struct isim_entry e;
	EXPECT_INT(isim_get_public(is, IMPI, &e), ==, 0);
	EXPECT_STR(e.impi, IMPI);
	EXPECT_STR(e.impu, "sip:" IMPI);
	EXPECT_STR(e.realm, "ims.example.org");
	static const uint8_t zero[16];
	EXPECT_MEM(e.keys.k, zero, 16);
	EXPECT_MEM(e.keys.opc, zero, 16);
	EXPECT_INT(isim_get_public(is, "nobody@x", &e), ==, WIMS_ENOTFOUND);
	int n = 0;
	EXPECT_INT(isim_list(is, count_entry, &n), ==, 0);
	EXPECT_INT(n, ==, 1);
	struct isim_entry bad;
	memset(&bad, 0, sizeof(bad));
	EXPECT_INT(isim_put(is, &bad), ==, WIMS_EINVAL);
	EXPECT_INT(isim_remove(is, IMPI), ==, 0);
	EXPECT_INT(isim_remove(is, IMPI), ==, WIMS_ENOTFOUND);
	n = 0;
	EXPECT_INT(isim_list(is, count_entry, &n), ==, 0);
	EXPECT_INT(n, ==, 0);
	remove_store(is);
}

int main(void)
{
	UNIT_RUN(password_is_akav2_of_the_networks_vector);
	UNIT_RUN(same_nonce_twice_gives_auts_that_resyncs);
	UNIT_RUN(set_seq_makes_the_network_resync_to_it);
	UNIT_RUN(wrong_k_at_the_network_is_rejected);
	UNIT_RUN(akav1_is_refused);
	UNIT_RUN(bad_nonce_and_unknown_impi);
	UNIT_RUN(sqn_state_survives_reopen);
	UNIT_RUN(put_keeps_sqn_only_for_the_same_k);
	UNIT_RUN(public_part_list_remove_and_file_mode);
	return UNIT_MAIN_END();
}
