/*
 * me_vec.c - the network side of AKA for tests/integration/me_agent.sh:
 * what the HSS would put in a challenge for a subscriber with the demo
 * keys (aka_demo_keys), made by libosmogsm as the HSS makes it, and the
 * password the S-CSCF would then expect -- computed here, apart from the
 * agent, so that the script compares two independent results.
 *
 *	me_vec nonce IMPI SEQ IND [--wrong-k]
 *		prints "NONCE PASSWORD" for SQN = SEQ || IND (SEQ >= 1);
 *		--wrong-k makes the vector with another K (a false network)
 *	me_vec resync IMPI NONCE AUTS
 *		checks AUTS (MAC-S) for the RAND of NONCE as the HSS does and
 *		prints "SEQ_MS NONCE PASSWORD": the card's SEQ and a fresh
 *		vector after it; exit status 1 if AUTS is refused
 *
 * Test-only: built by src/me/meson.build, never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <osmocom/crypt/auth.h>

#include "auth/aka.h"
#include "core/slice.h"
#include "core/wims.h"

static int usage(void)
{
	fprintf(stderr, "usage: me_vec nonce IMPI SEQ IND [--wrong-k]\n"
			"       me_vec resync IMPI NONCE AUTS\n");
	return 2;
}

static int network_init(struct osmo_sub_auth_data *aud, const char *impi, bool wrong_k)
{
	struct aka_keys keys;
	if (aka_demo_keys(impi, &keys))
		return -1;
	memset(aud, 0, sizeof(*aud));
	aud->type = OSMO_AUTH_TYPE_UMTS;
	aud->algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(aud->u.umts.k, keys.k, 16);
	memcpy(aud->u.umts.opc, keys.opc, 16);
	if (wrong_k)
		aud->u.umts.k[0] ^= 0x01;
	aud->u.umts.amf[0] = 0x80;
	aud->u.umts.ind_bitlen = AKA_IND_BITS;
	return 0;
}

/* Prints "NONCE PASSWORD" of vec. */
static int print_vector(const struct osmo_auth_vector *vec)
{
	char nonce[AKA_NONCE_MAX], password[AKA_PASSWORD_MAX];
	size_t len = 0;
	if (aka_nonce_encode(vec->rand, vec->autn, NULL, 0, nonce, sizeof(nonce)) < 0 ||
	    aka_digest_password(AKA_V2_SHA256, vec->res, vec->res_len, vec->ik, vec->ck, password,
				sizeof(password), &len))
		return 1;
	printf("%s %s\n", nonce, password);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	struct osmo_sub_auth_data aud;
	struct osmo_auth_vector vec;
	uint8_t rand[AKA_RAND_LEN];
	if (RAND_bytes(rand, sizeof(rand)) != 1)
		return 1;
	if (strcmp(argv[1], "nonce") == 0 && (argc == 5 || argc == 6)) {
		uint64_t seq, ind;
		bool wrong_k = argc == 6 && strcmp(argv[5], "--wrong-k") == 0;
		if ((argc == 6 && !wrong_k) ||
		    slice_to_u64(slice_from_cstr(argv[3]), AKA_SQN_MAX >> AKA_IND_BITS, &seq) ||
		    seq == 0 ||
		    slice_to_u64(slice_from_cstr(argv[4]), AKA_IND_SLOTS - 1, &ind))
			return usage();
		if (network_init(&aud, argv[2], wrong_k))
			return 1;
		/* osmo_auth_gen_vec takes the previous SQN and steps SEQ by one. */
		aud.u.umts.sqn = (seq - 1) << AKA_IND_BITS;
		aud.u.umts.ind = (unsigned)ind;
		if (osmo_auth_gen_vec(&vec, &aud, rand) != 0)
			return 1;
		return print_vector(&vec);
	}
	if (strcmp(argv[1], "resync") == 0 && argc == 5) {
		uint8_t old_rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN], auts[AKA_AUTS_LEN];
		if (aka_nonce_decode(slice_from_cstr(argv[3]), old_rand, autn) ||
		    aka_auts_decode(slice_from_cstr(argv[4]), auts))
			return usage();
		if (network_init(&aud, argv[2], false))
			return 1;
		if (osmo_auth_gen_vec_auts(&vec, &aud, auts, old_rand, rand) != 0) {
			fprintf(stderr, "me_vec: AUTS refused (MAC-S wrong)\n");
			return 1;
		}
		printf("%llu ", (unsigned long long)(aud.u.umts.sqn_ms >> AKA_IND_BITS));
		return print_vector(&vec);
	}
	return usage();
}
