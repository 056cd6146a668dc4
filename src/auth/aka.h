/*
 * aka.h - UMTS/IMS AKA on the subscriber's side (the USIM/ISIM: TS 33.102
 * 6.3, Milenage of TS 35.206) and the Digest AKA formats both sides share
 * (RFC 3310 AKAv1, RFC 4169 AKAv2, TS 33.203 Annex X).
 *
 * The network side (authentication vectors, SQN/IND, resynchronisation)
 * is libosmogsm's, called from the HSS (hss/cx.c).  This side is ours, on
 * OpenSSL AES, so that the tests pair two implementations.
 *
 *	Milenage (TS 35.206 4.1), E = AES-128 under K, OPc = OP xor E(OP):
 *	  TEMP = E(RAND xor OPc)
 *	  OUT1 = E(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc,
 *	         IN1 = SQN || AMF || SQN || AMF  -> MAC-A = OUT1[0..8),
 *	                                            MAC-S = OUT1[8..16)
 *	  OUTi = E(rot(TEMP xor OPc, ri) xor ci) xor OPc  (i = 2..5)
 *	         RES = OUT2[8..16), AK = OUT2[0..6), CK = OUT3, IK = OUT4,
 *	         AK* = OUT5[0..6)
 *	AUTN = (SQN xor AK) || AMF || MAC-A
 *	AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S over SQN_MS with AMF* = 0000
 *
 * SQN freshness (TS 33.102 Annex C.2, C.3.2): SQN = SEQ || IND with
 * AKA_IND_BITS bits of IND, as libosmogsm makes them.  The USIM keeps the
 * highest SEQ accepted per IND slot; a SQN is fresh when its SEQ is above
 * its slot's and no more than AKA_SQN_DELTA above the highest SEQ of all
 * slots.  Anything else is a synchronisation failure (answer AUTS).
 *
 * Digest AKA:
 *	nonce    = base64( RAND(16) || AUTN(16) [|| server data] )
 *	AKAv1-MD5      password = RES (raw bytes);             H = MD5
 *	AKAv2-SHA-256  password = base64( HMAC-SHA-256(RES || IK || CK,
 *	                            "http-digest-akav2-password") );  H = SHA-256
 *	auts     = base64( AUTS(14) )  on a synchronisation failure, with the
 *	           response computed over an empty password (RFC 3310 3.4)
 * AKAv2's PRF: RFC 4169 uses the HMAC of the algorithm's hash; TS 33.203
 * Annex X (the CR in shared/seeds/003) asks for the TS 33.220 Annex B KDF,
 * which is HMAC-SHA-256 -- the two agree for AKAv2-SHA-256 with the label
 * as the whole input S (no FC value is allocated for it).  docs/SECURITY.md
 * records the choice.
 *
 * Pure functions: no I/O, no clock, no allocation.  Secrets (K, OPc, CK,
 * IK, RES, the AKAv2 password) go only where the caller points them; the
 * functions cleanse their own temporaries.  Return 0 or a negative WIMS_E*.
 */
#ifndef WIMS_AUTH_AKA_H
#define WIMS_AUTH_AKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define AKA_K_LEN 16
#define AKA_OP_LEN 16
#define AKA_RAND_LEN 16
#define AKA_AUTN_LEN 16
#define AKA_AMF_LEN 2
#define AKA_SQN_LEN 6
#define AKA_RES_LEN 8 /* Milenage's RES: 64 bits */
#define AKA_CK_LEN 16
#define AKA_IK_LEN 16
#define AKA_AUTS_LEN 14
#define AKA_MAC_LEN 8

/* SQN = SEQ (43 bits) || IND (5 bits), TS 33.102 C.3.2 / libosmogsm's
 * ind_bitlen.  DELTA bounds how far ahead of the highest SEQ seen a new
 * SEQ may jump (C.2.1). */
#define AKA_IND_BITS 5
#define AKA_IND_SLOTS (1u << AKA_IND_BITS)
#define AKA_SQN_MAX ((UINT64_C(1) << 48) - 1)
#define AKA_SQN_DELTA (UINT64_C(1) << 28)

/* Digest AKA strings. */
#define AKA_V1_MD5_NAME "AKAv1-MD5"
#define AKA_V2_SHA256_NAME "AKAv2-SHA-256"
/* base64 of RAND||AUTN is 44 characters; with server data a little more. */
#define AKA_NONCE_MAX 96
/* base64 of AUTS: 20 characters. */
#define AKA_AUTS_B64_LEN 20
/* The AKAv2-SHA-256 password: base64 of 32 bytes, 44 characters + NUL. */
#define AKA_PASSWORD_MAX 48

enum aka_version {
	AKA_V1_MD5 = 1,    /* RFC 3310 */
	AKA_V2_SHA256 = 2, /* RFC 4169 with SHA-256, TS 33.203 Annex X */
};

/* "AKAv1-MD5" / "AKAv2-SHA-256". */
const char *aka_version_name(enum aka_version v);
/* Case-insensitive parse of those names.  0 or WIMS_EUNSUPPORTED. */
int aka_version_parse(struct slice name, enum aka_version *out);

/* The subscriber's long-term secrets, as on the card. */
struct aka_keys {
	uint8_t k[AKA_K_LEN];
	uint8_t opc[AKA_OP_LEN];
};

/* OPc = OP xor AES_K(OP) (TS 35.206 4.1), for operators that provision OP. */
int aka_opc_from_op(const uint8_t k[AKA_K_LEN], const uint8_t op[AKA_OP_LEN],
		    uint8_t opc[AKA_OP_LEN]);

/* The Milenage functions, for the test vectors and the HSS-side checks.
 * f1 gives MAC-A, f1* MAC-S; f2345 gives RES, CK, IK, AK; f5* gives AK*.
 * Any output pointer may be NULL. */
int aka_milenage_f1(const struct aka_keys *keys, const uint8_t rand[AKA_RAND_LEN],
		    const uint8_t sqn[AKA_SQN_LEN], const uint8_t amf[AKA_AMF_LEN],
		    uint8_t mac_a[AKA_MAC_LEN], uint8_t mac_s[AKA_MAC_LEN]);
int aka_milenage_f2345(const struct aka_keys *keys, const uint8_t rand[AKA_RAND_LEN],
		       uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN], uint8_t ik[AKA_IK_LEN],
		       uint8_t ak[AKA_SQN_LEN], uint8_t ak_star[AKA_SQN_LEN]);

/* The USIM's SQN state (TS 33.102 C.3.2): the highest SEQ accepted in each
 * IND slot.  All zero for a new card.  Persist it after every AKA_OK. */
struct aka_sqn_state {
	uint64_t seq[AKA_IND_SLOTS];
};

/* 48-bit SQN <-> 6 bytes big-endian. */
void aka_sqn_to_bytes(uint64_t sqn, uint8_t out[AKA_SQN_LEN]);
uint64_t aka_sqn_from_bytes(const uint8_t in[AKA_SQN_LEN]);
/* The SQN_MS a card reports in AUTS: the highest SEQ of all slots, with
 * IND 0 (TS 33.102 C.3.4). */
uint64_t aka_sqn_ms(const struct aka_sqn_state *st);

enum aka_result {
	AKA_OK = 0,            /* res/ck/ik filled; st updated */
	AKA_MAC_FAILURE,       /* AUTN's MAC-A is wrong: the network is not ours */
	AKA_SYNC_FAILURE,      /* MAC good, SQN not fresh: auts filled */
};

struct aka_usim_out {
	uint8_t res[AKA_RES_LEN];
	uint8_t ck[AKA_CK_LEN];
	uint8_t ik[AKA_IK_LEN];
	uint8_t auts[AKA_AUTS_LEN];
};

/*
 * The AUTHENTICATE command (TS 33.102 6.3.3): check AUTN's MAC-A, then its
 * SQN against st.  On AKA_OK, out->res/ck/ik are set and st records the
 * SQN; on AKA_SYNC_FAILURE out->auts is set and st is unchanged; on
 * AKA_MAC_FAILURE nothing is set.  Returns the enum aka_result (>= 0) or a
 * negative WIMS_E* (crypto failure).  MAC comparison in constant time.
 */
int aka_usim_authenticate(const struct aka_keys *keys, struct aka_sqn_state *st,
			  const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
			  struct aka_usim_out *out);

/* Digest AKA nonce: base64(rand || autn || server_data).  server_data may
 * be NULL/0.  Writes a NUL-terminated string; returns its length or
 * WIMS_ETOOBIG. */
int aka_nonce_encode(const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
		     const uint8_t *server_data, size_t server_data_len, char *out, size_t outsz);
/* The RAND and AUTN a nonce carries (server data ignored).  0 or
 * WIMS_EPARSE (not base64, shorter than 32 bytes). */
int aka_nonce_decode(struct slice nonce, uint8_t rand[AKA_RAND_LEN], uint8_t autn[AKA_AUTN_LEN]);

/* auts parameter <-> AUTS.  encode writes AKA_AUTS_B64_LEN chars + NUL
 * (outsz >= 21); decode gives 0 or WIMS_EPARSE (not base64 of 14 bytes). */
int aka_auts_encode(const uint8_t auts[AKA_AUTS_LEN], char *out, size_t outsz);
int aka_auts_decode(struct slice b64, uint8_t auts[AKA_AUTS_LEN]);

/*
 * The Digest password the AKA run gives (see the top of this file).
 * AKAv1: the RES bytes, res_len of them.  AKAv2-SHA-256: 44 base64
 * characters.  out gets the bytes (NUL-terminated, for AKAv2 a C string);
 * *out_len their number.  outsz >= AKA_PASSWORD_MAX.  0 or WIMS_E*.
 */
int aka_digest_password(enum aka_version v, const uint8_t *res, size_t res_len,
			const uint8_t ik[AKA_IK_LEN], const uint8_t ck[AKA_CK_LEN], char *out,
			size_t outsz, size_t *out_len);

/*
 * Demo credentials: K and OPc derived from the IMPI (K = SHA-256("wims demo
 * AKA K " || impi)[0..16), OPc likewise with "OPc"), so that `wims demo`
 * provisions the HSS, the ME agent and the network ISIM with the same
 * secrets without passing them around.  Public by construction, like the
 * demo passwords: for demo subscribers only.
 */
int aka_demo_keys(const char *impi, struct aka_keys *out);

#endif
