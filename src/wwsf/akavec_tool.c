/*
 * akavec_tool.c - test tool (not installed): the network side of one IMS
 * AKA run for a demo subscriber, so tests/integration/wwsf_isim.sh can
 * hand the network ISIM a real challenge and check its answer without an
 * HSS or a cscf.
 *
 *	wwsf_akavec IMPI [--sqn PREV] [--ind I] [--bad-mac]
 *	  -> nonce=<base64(RAND||AUTN)>
 *	     password=<AKAv2-SHA-256 password the network expects>
 *
 * The vector comes from libosmogsm (osmo_auth_gen_vec, Milenage, IND bits
 * as the HSS uses them; PREV is the SQN before this one) with K/OPc of
 * aka_demo_keys(IMPI); the password is computed here from RES, IK and CK
 * with OpenSSL's HMAC directly, not through auth/aka.c, so that the test
 * compares two implementations.  --bad-mac flips a bit of AUTN's MAC-A.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <osmocom/crypt/auth.h>

#include "auth/aka.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wwsf_akavec IMPI [--sqn PREV] [--ind I] [--bad-mac]\n");
		return 2;
	}
	unsigned long long sqn = 0;
	unsigned ind = 0;
	int bad_mac = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--sqn") == 0 && i + 1 < argc)
			sqn = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--ind") == 0 && i + 1 < argc)
			ind = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--bad-mac") == 0)
			bad_mac = 1;
		else {
			fprintf(stderr, "wwsf_akavec: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	struct aka_keys keys;
	if (aka_demo_keys(argv[1], &keys))
		return 1;
	struct osmo_sub_auth_data aud;
	struct osmo_auth_vector vec;
	uint8_t rand[16];
	memset(&aud, 0, sizeof(aud));
	aud.type = OSMO_AUTH_TYPE_UMTS;
	aud.algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(aud.u.umts.k, keys.k, 16);
	memcpy(aud.u.umts.opc, keys.opc, 16);
	aud.u.umts.amf[0] = 0x80;
	aud.u.umts.sqn = sqn;
	aud.u.umts.ind_bitlen = AKA_IND_BITS;
	aud.u.umts.ind = ind;
	if (RAND_bytes(rand, sizeof(rand)) != 1 || osmo_auth_gen_vec(&vec, &aud, rand) != 0) {
		fprintf(stderr, "wwsf_akavec: cannot make a vector\n");
		return 1;
	}
	if (bad_mac)
		vec.autn[15] ^= 0x01;

	/* nonce = base64(RAND || AUTN), standard alphabet with padding */
	uint8_t ra[32];
	unsigned char nonce[64], pw64[64];
	memcpy(ra, vec.rand, 16);
	memcpy(ra + 16, vec.autn, 16);
	EVP_EncodeBlock(nonce, ra, 32);

	/* RFC 4169 / TS 33.203 Annex X: base64(HMAC-SHA-256(RES||IK||CK,
	 * "http-digest-akav2-password")) */
	uint8_t key[8 + 16 + 16], mac[32];
	unsigned int maclen = 0;
	memcpy(key, vec.res, vec.res_len);
	memcpy(key + vec.res_len, vec.ik, 16);
	memcpy(key + vec.res_len + 16, vec.ck, 16);
	static const char label[] = "http-digest-akav2-password";
	if (!HMAC(EVP_sha256(), key, (int)(vec.res_len + 32), (const unsigned char *)label,
		  sizeof(label) - 1, mac, &maclen))
		return 1;
	EVP_EncodeBlock(pw64, mac, 32);
	printf("nonce=%s\npassword=%s\nsqn=%llu\n", nonce, pw64,
	       (unsigned long long)aud.u.umts.sqn);
	return 0;
}
