/*
 * aka.c - fuzz target for the Digest AKA fields src/auth/aka.c reads from
 * the wire: the nonce a UE (our ME agent, the network ISIM) decodes, the
 * auts parameter the S-CSCF decodes, the algorithm name both parse, and
 * the card's AUTHENTICATE over an attacker's RAND || AUTN.
 *
 * Input layout: byte 0 selects the target, the rest is the input.
 * Properties checked: no crash or overread (ASan), return values in their
 * documented sets, and one spelling per value: an accepted auts, or an
 * accepted nonce of exactly RAND || AUTN, encodes back to the very input;
 * an accepted name is the canonical one up to case.  The card never
 * accepts a forged AUTN (its MAC-A is checked before anything else) and
 * leaves its state alone unless it accepts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/aka.h"
#include "core/wims.h"
#include "fuzz.h"

static void check_nonce(const char *p, size_t n)
{
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	int rc = aka_nonce_decode((struct slice){p, n}, rand, autn);
	if (rc != 0 && rc != WIMS_EPARSE)
		abort();
	if (rc != 0)
		return;
	/* Base64 of at least 32 bytes, at most AKA_NONCE_MAX characters. */
	if (n < 44 || n > AKA_NONCE_MAX || n % 4)
		abort();
	char out[AKA_NONCE_MAX + 1];
	int len = aka_nonce_encode(rand, autn, NULL, 0, out, sizeof(out));
	if (len != 44)
		abort();
	/* The RAND || AUTN part is spelt as it was given: all of it when
	 * that is all there is (44 characters ending in one '='), else the
	 * 40 characters that hold only its bytes. */
	bool exact = n == 44 && p[43] == '=';
	if (memcmp(out, p, exact ? 44 : 40) != 0)
		abort();
}

static void check_auts(const char *p, size_t n)
{
	uint8_t auts[AKA_AUTS_LEN];
	int rc = aka_auts_decode((struct slice){p, n}, auts);
	if (rc != 0 && rc != WIMS_EPARSE)
		abort();
	if (rc != 0)
		return;
	char out[AKA_AUTS_B64_LEN + 1];
	if (aka_auts_encode(auts, out, sizeof(out)) != 0 || n != AKA_AUTS_B64_LEN ||
	    memcmp(out, p, n) != 0)
		abort();
}

static void check_version(const char *p, size_t n)
{
	enum aka_version v;
	int rc = aka_version_parse((struct slice){p, n}, &v);
	if (rc != 0 && rc != WIMS_EUNSUPPORTED)
		abort();
	if (rc != 0)
		return;
	const char *name = aka_version_name(v);
	if (strlen(name) != n || strncasecmp(name, p, n) != 0)
		abort();
}

/* RAND || AUTN from the input (zero-padded) against a fixed card. */
static void check_usim(const char *p, size_t n)
{
	uint8_t in[AKA_RAND_LEN + AKA_AUTN_LEN] = {0};
	memcpy(in, p, n < sizeof(in) ? n : sizeof(in));
	struct aka_keys keys;
	if (aka_demo_keys("fuzz@ims.example.org", &keys))
		abort();
	struct aka_sqn_state st, before;
	memset(&st, 0, sizeof(st));
	st.seq[3] = 7;
	before = st;
	struct aka_usim_out out;
	int rc = aka_usim_authenticate(&keys, &st, in, in + AKA_RAND_LEN, &out);
	if (rc != AKA_OK && rc != AKA_MAC_FAILURE && rc != AKA_SYNC_FAILURE)
		abort();
	if (rc != AKA_OK && memcmp(&st, &before, sizeof(st)) != 0)
		abort();
	/* Only a correct MAC-A gets past the first check: the fuzzer does
	 * not know K, so anything else means the MAC is not checked. */
	uint8_t sqn[AKA_SQN_LEN], ak[AKA_SQN_LEN], mac[AKA_MAC_LEN];
	if (rc != AKA_MAC_FAILURE) {
		if (aka_milenage_f2345(&keys, in, NULL, NULL, NULL, ak, NULL))
			abort();
		for (int i = 0; i < AKA_SQN_LEN; i++)
			sqn[i] = in[AKA_RAND_LEN + i] ^ ak[i];
		if (aka_milenage_f1(&keys, in, sqn, in + AKA_RAND_LEN + AKA_SQN_LEN, mac, NULL) ||
		    memcmp(mac, in + AKA_RAND_LEN + AKA_SQN_LEN + AKA_AMF_LEN, AKA_MAC_LEN) != 0)
			abort();
	}
	/* The AKAv2 password of whatever came out has its fixed length. */
	char pw[AKA_PASSWORD_MAX];
	size_t pwlen = 0;
	if (aka_digest_password(AKA_V2_SHA256, in, 4 + (n % 13), in, in + 16, pw, sizeof(pw),
				&pwlen) != 0 ||
	    pwlen != 44 || strlen(pw) != 44)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_check_fn checks[] = {check_nonce, check_auts, check_version, check_usim};
	return fuzz_pick_check(data, size, checks, WIMS_ARRAY_LEN(checks));
}
