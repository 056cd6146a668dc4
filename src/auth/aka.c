/*
 * aka.c - the USIM/ISIM side of AKA (Milenage, SQN freshness, AUTS) and
 * the Digest AKA formats (nonce, auts, password).  The shapes are drawn
 * in aka.h.
 *
 * Milenage runs on OpenSSL's EVP AES-128-ECB without padding: one cipher
 * context keyed with K per call, the blocks encrypted through it.  The
 * cipher is fetched once per process, as digest.c does with its hashes.
 *
 * base64 here is the standard alphabet with padding (RFC 4648 4), decoded
 * strictly: a length that is a multiple of 4, '=' only as the padding the
 * length asks for, zero spare bits.  One nonce then has one spelling, so a
 * table of pending challenges keyed on it cannot be dodged by writing the
 * same bytes otherwise.
 */
#include "auth/aka.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/hmac.h"
#include "core/wims.h"

#define BLOCK 16
#define AKAV2_LABEL "http-digest-akav2-password"

static EVP_CIPHER *aes_ecb;
static EVP_MD *sha256;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
	aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* --- names --- */

const char *aka_version_name(enum aka_version v)
{
	switch (v) {
	case AKA_V1_MD5:
		return AKA_V1_MD5_NAME;
	case AKA_V2_SHA256:
		return AKA_V2_SHA256_NAME;
	}
	return "?";
}

int aka_version_parse(struct slice name, enum aka_version *out)
{
	if (slice_ieq_cstr(name, AKA_V1_MD5_NAME)) {
		*out = AKA_V1_MD5;
		return 0;
	}
	if (slice_ieq_cstr(name, AKA_V2_SHA256_NAME)) {
		*out = AKA_V2_SHA256;
		return 0;
	}
	return WIMS_EUNSUPPORTED;
}

/* --- AES-128 under K --- */

static EVP_CIPHER_CTX *aes_new(const uint8_t k[AKA_K_LEN], int *err)
{
	pthread_once(&fetch_once, fetch);
	if (!aes_ecb) {
		*err = WIMS_EUNSUPPORTED;
		return NULL;
	}
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		*err = WIMS_ENOMEM;
		return NULL;
	}
	if (EVP_EncryptInit_ex2(ctx, aes_ecb, k, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		*err = WIMS_EINVAL;
		return NULL;
	}
	return ctx;
}

/* out = E_K(in); in and out may be the same block. */
static int aes_block(EVP_CIPHER_CTX *ctx, const uint8_t in[BLOCK], uint8_t out[BLOCK])
{
	uint8_t tmp[BLOCK];
	int len = 0;
	int ok = EVP_EncryptUpdate(ctx, tmp, &len, in, BLOCK) == 1 && len == BLOCK;
	if (ok)
		memcpy(out, tmp, BLOCK);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ok ? 0 : WIMS_EINVAL;
}

/* --- Milenage (TS 35.206 4.1) --- */

/* r1..r5 in bytes (64, 0, 32, 64, 96 bits); c1..c5 differ in the last
 * byte only (0, 1, 2, 4, 8). */
static const unsigned rot_bytes[6] = {0, 8, 0, 4, 8, 12};
static const uint8_t c_last[6] = {0, 0, 1, 2, 4, 8};

/* out = rot(x, r) : x cyclically rotated left by r bytes. */
static void rot(const uint8_t x[BLOCK], unsigned r, uint8_t out[BLOCK])
{
	for (unsigned i = 0; i < BLOCK; i++)
		out[i] = x[(i + r) % BLOCK];
}

/*
 * The Milenage outputs asked for: out[1] = OUT1 (needs sqn and amf),
 * out[2..5] = OUT2..OUT5; a NULL entry is not computed.
 */
static int milenage(const struct aka_keys *keys, const uint8_t rand[AKA_RAND_LEN],
		    const uint8_t *sqn, const uint8_t *amf, uint8_t *out[6])
{
	int err = 0;
	EVP_CIPHER_CTX *ctx = aes_new(keys->k, &err);
	if (!ctx)
		return err;
	uint8_t temp[BLOCK], x[BLOCK], y[BLOCK];
	for (unsigned i = 0; i < BLOCK; i++)
		x[i] = rand[i] ^ keys->opc[i];
	err = aes_block(ctx, x, temp);
	if (!err && out[1]) {
		/* IN1 = SQN || AMF || SQN || AMF */
		uint8_t in1[BLOCK];
		memcpy(in1, sqn, AKA_SQN_LEN);
		memcpy(in1 + 6, amf, AKA_AMF_LEN);
		memcpy(in1 + 8, sqn, AKA_SQN_LEN);
		memcpy(in1 + 14, amf, AKA_AMF_LEN);
		for (unsigned i = 0; i < BLOCK; i++)
			x[i] = in1[i] ^ keys->opc[i];
		rot(x, rot_bytes[1], y);
		for (unsigned i = 0; i < BLOCK; i++)
			y[i] ^= temp[i];
		y[BLOCK - 1] ^= c_last[1];
		err = aes_block(ctx, y, out[1]);
		for (unsigned i = 0; !err && i < BLOCK; i++)
			out[1][i] ^= keys->opc[i];
	}
	for (unsigned n = 2; !err && n <= 5; n++) {
		if (!out[n])
			continue;
		for (unsigned i = 0; i < BLOCK; i++)
			x[i] = temp[i] ^ keys->opc[i];
		rot(x, rot_bytes[n], y);
		y[BLOCK - 1] ^= c_last[n];
		err = aes_block(ctx, y, out[n]);
		for (unsigned i = 0; !err && i < BLOCK; i++)
			out[n][i] ^= keys->opc[i];
	}
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(y, sizeof(y));
	return err;
}

int aka_opc_from_op(const uint8_t k[AKA_K_LEN], const uint8_t op[AKA_OP_LEN],
		    uint8_t opc[AKA_OP_LEN])
{
	int err = 0;
	EVP_CIPHER_CTX *ctx = aes_new(k, &err);
	if (!ctx)
		return err;
	uint8_t e[BLOCK];
	err = aes_block(ctx, op, e);
	EVP_CIPHER_CTX_free(ctx);
	if (!err)
		for (unsigned i = 0; i < BLOCK; i++)
			opc[i] = op[i] ^ e[i];
	OPENSSL_cleanse(e, sizeof(e));
	return err;
}

int aka_milenage_f1(const struct aka_keys *keys, const uint8_t rand[AKA_RAND_LEN],
		    const uint8_t sqn[AKA_SQN_LEN], const uint8_t amf[AKA_AMF_LEN],
		    uint8_t mac_a[AKA_MAC_LEN], uint8_t mac_s[AKA_MAC_LEN])
{
	uint8_t out1[BLOCK];
	uint8_t *out[6] = {NULL, out1};
	int err = milenage(keys, rand, sqn, amf, out);
	if (!err && mac_a)
		memcpy(mac_a, out1, AKA_MAC_LEN);
	if (!err && mac_s)
		memcpy(mac_s, out1 + 8, AKA_MAC_LEN);
	OPENSSL_cleanse(out1, sizeof(out1));
	return err;
}

int aka_milenage_f2345(const struct aka_keys *keys, const uint8_t rand[AKA_RAND_LEN],
		       uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN], uint8_t ik[AKA_IK_LEN],
		       uint8_t ak[AKA_SQN_LEN], uint8_t ak_star[AKA_SQN_LEN])
{
	uint8_t o[6][BLOCK];
	uint8_t *out[6] = {NULL, NULL, (res || ak) ? o[2] : NULL, ck ? o[3] : NULL,
			   ik ? o[4] : NULL, ak_star ? o[5] : NULL};
	int err = milenage(keys, rand, NULL, NULL, out);
	if (!err) {
		if (res)
			memcpy(res, o[2] + 8, AKA_RES_LEN);
		if (ak)
			memcpy(ak, o[2], AKA_SQN_LEN);
		if (ck)
			memcpy(ck, o[3], AKA_CK_LEN);
		if (ik)
			memcpy(ik, o[4], AKA_IK_LEN);
		if (ak_star)
			memcpy(ak_star, o[5], AKA_SQN_LEN);
	}
	OPENSSL_cleanse(o, sizeof(o));
	return err;
}

/* --- SQN --- */

void aka_sqn_to_bytes(uint64_t sqn, uint8_t out[AKA_SQN_LEN])
{
	for (int i = AKA_SQN_LEN - 1; i >= 0; i--) {
		out[i] = (uint8_t)sqn;
		sqn >>= 8;
	}
}

uint64_t aka_sqn_from_bytes(const uint8_t in[AKA_SQN_LEN])
{
	uint64_t v = 0;
	for (int i = 0; i < AKA_SQN_LEN; i++)
		v = (v << 8) | in[i];
	return v;
}

static uint64_t seq_max(const struct aka_sqn_state *st)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		if (st->seq[i] > m)
			m = st->seq[i];
	return m;
}

uint64_t aka_sqn_ms(const struct aka_sqn_state *st)
{
	return (seq_max(st) << AKA_IND_BITS) & AKA_SQN_MAX;
}

/* TS 33.102 C.2.1, C.3.2: above its slot's SEQ, at most DELTA ahead of
 * the highest SEQ the card has accepted. */
static bool sqn_fresh(const struct aka_sqn_state *st, uint64_t sqn)
{
	uint64_t seq = sqn >> AKA_IND_BITS;
	unsigned ind = (unsigned)(sqn & (AKA_IND_SLOTS - 1));
	uint64_t max = seq_max(st);
	return seq > st->seq[ind] && (seq <= max || seq - max <= AKA_SQN_DELTA);
}

/* AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S = f1*(SQN_MS, AMF* = 0000),
 * TS 33.102 6.3.3. */
static int make_auts(const struct aka_keys *keys, const struct aka_sqn_state *st,
		     const uint8_t rand[AKA_RAND_LEN], uint8_t auts[AKA_AUTS_LEN])
{
	static const uint8_t amf_star[AKA_AMF_LEN] = {0, 0};
	uint8_t sqn_ms[AKA_SQN_LEN], ak_star[AKA_SQN_LEN], mac_s[AKA_MAC_LEN];
	aka_sqn_to_bytes(aka_sqn_ms(st), sqn_ms);
	int err = aka_milenage_f2345(keys, rand, NULL, NULL, NULL, NULL, ak_star);
	if (!err)
		err = aka_milenage_f1(keys, rand, sqn_ms, amf_star, NULL, mac_s);
	if (!err) {
		for (unsigned i = 0; i < AKA_SQN_LEN; i++)
			auts[i] = sqn_ms[i] ^ ak_star[i];
		memcpy(auts + AKA_SQN_LEN, mac_s, AKA_MAC_LEN);
	}
	OPENSSL_cleanse(ak_star, sizeof(ak_star));
	OPENSSL_cleanse(mac_s, sizeof(mac_s));
	return err;
}

int aka_usim_authenticate(const struct aka_keys *keys, struct aka_sqn_state *st,
			  const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
			  struct aka_usim_out *out)
{
	/*
	 *	AUTN = SQN xor AK (6) | AMF (2) | MAC-A (8)
	 */
	uint8_t res[AKA_RES_LEN], ck[AKA_CK_LEN], ik[AKA_IK_LEN], ak[AKA_SQN_LEN];
	uint8_t sqn[AKA_SQN_LEN], mac_a[AKA_MAC_LEN];
	int rc = aka_milenage_f2345(keys, rand, res, ck, ik, ak, NULL);
	if (rc)
		goto out;
	for (unsigned i = 0; i < AKA_SQN_LEN; i++)
		sqn[i] = autn[i] ^ ak[i];
	rc = aka_milenage_f1(keys, rand, sqn, autn + AKA_SQN_LEN, mac_a, NULL);
	if (rc)
		goto out;
	if (CRYPTO_memcmp(mac_a, autn + AKA_SQN_LEN + AKA_AMF_LEN, AKA_MAC_LEN) != 0) {
		rc = AKA_MAC_FAILURE;
		goto out;
	}
	uint64_t v = aka_sqn_from_bytes(sqn);
	if (!sqn_fresh(st, v)) {
		rc = make_auts(keys, st, rand, out->auts);
		if (!rc)
			rc = AKA_SYNC_FAILURE;
		goto out;
	}
	st->seq[v & (AKA_IND_SLOTS - 1)] = v >> AKA_IND_BITS;
	memcpy(out->res, res, sizeof(res));
	memcpy(out->ck, ck, sizeof(ck));
	memcpy(out->ik, ik, sizeof(ik));
	rc = AKA_OK;
out:
	OPENSSL_cleanse(res, sizeof(res));
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(ik, sizeof(ik));
	OPENSSL_cleanse(ak, sizeof(ak));
	OPENSSL_cleanse(sqn, sizeof(sqn));
	return rc;
}

/* --- base64, standard alphabet with padding --- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes B64_LEN(n) characters (no NUL); returns that number. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict decode of len characters into at most outmax bytes; *outlen gets
 * their number.  WIMS_EPARSE for anything but canonical padded base64. */
static int b64_decode(const char *p, size_t len, uint8_t *out, size_t outmax, size_t *outlen)
{
	if (len == 0 || len % 4)
		return WIMS_EPARSE;
	size_t pad = 0;
	if (p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	size_t n = len / 4 * 3 - pad;
	if (n > outmax)
		return WIMS_EPARSE;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			int d;
			if (last && j >= 4 - pad)
				d = 0;
			else if ((d = b64_value(p[i + j])) < 0)
				return WIMS_EPARSE;
			v = (v << 6) | (uint32_t)d;
		}
		/* The spare bits of the last character before the padding. */
		if (last && pad == 1 && (v & 0xff))
			return WIMS_EPARSE;
		if (last && pad == 2 && (v & 0xffff))
			return WIMS_EPARSE;
		out[o++] = (uint8_t)(v >> 16);
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(v >> 8);
		if (!(last && pad))
			out[o++] = (uint8_t)v;
	}
	*outlen = o;
	return 0;
}

/* --- Digest AKA --- */

#define NONCE_RAW_MAX (AKA_NONCE_MAX / 4 * 3)

int aka_nonce_encode(const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
		     const uint8_t *server_data, size_t server_data_len, char *out, size_t outsz)
{
	size_t n = AKA_RAND_LEN + AKA_AUTN_LEN + server_data_len;
	if (n > NONCE_RAW_MAX || B64_LEN(n) + 1 > outsz) {
		if (outsz)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	uint8_t raw[NONCE_RAW_MAX];
	memcpy(raw, rand, AKA_RAND_LEN);
	memcpy(raw + AKA_RAND_LEN, autn, AKA_AUTN_LEN);
	if (server_data_len)
		memcpy(raw + AKA_RAND_LEN + AKA_AUTN_LEN, server_data, server_data_len);
	size_t len = b64_encode(raw, n, out);
	out[len] = '\0';
	return (int)len;
}

int aka_nonce_decode(struct slice nonce, uint8_t rand[AKA_RAND_LEN], uint8_t autn[AKA_AUTN_LEN])
{
	uint8_t raw[NONCE_RAW_MAX];
	size_t n = 0;
	if (nonce.len > AKA_NONCE_MAX ||
	    b64_decode(nonce.p, nonce.len, raw, sizeof(raw), &n) != 0 ||
	    n < AKA_RAND_LEN + AKA_AUTN_LEN)
		return WIMS_EPARSE;
	memcpy(rand, raw, AKA_RAND_LEN);
	memcpy(autn, raw + AKA_RAND_LEN, AKA_AUTN_LEN);
	return 0;
}

int aka_auts_encode(const uint8_t auts[AKA_AUTS_LEN], char *out, size_t outsz)
{
	if (outsz < AKA_AUTS_B64_LEN + 1)
		return WIMS_ETOOBIG;
	size_t len = b64_encode(auts, AKA_AUTS_LEN, out);
	out[len] = '\0';
	return 0;
}

int aka_auts_decode(struct slice b64, uint8_t auts[AKA_AUTS_LEN])
{
	uint8_t raw[AKA_AUTS_LEN + 1];
	size_t n = 0;
	if (b64.len != AKA_AUTS_B64_LEN || b64_decode(b64.p, b64.len, raw, sizeof(raw), &n) != 0 ||
	    n != AKA_AUTS_LEN)
		return WIMS_EPARSE;
	memcpy(auts, raw, AKA_AUTS_LEN);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int aka_digest_password(enum aka_version v, const uint8_t *res, size_t res_len,
			const uint8_t ik[AKA_IK_LEN], const uint8_t ck[AKA_CK_LEN], char *out,
			size_t outsz, size_t *out_len)
{
	/* TS 33.102 6.3.2: RES is 32 to 128 bits. */
	if (!res || res_len < 4 || res_len > 16)
		return WIMS_EINVAL;
	if (v == AKA_V1_MD5) {
		if (outsz < res_len + 1)
			return WIMS_ETOOBIG;
		memcpy(out, res, res_len);
		out[res_len] = '\0';
		*out_len = res_len;
		return 0;
	}
	if (v != AKA_V2_SHA256)
		return WIMS_EUNSUPPORTED;
	if (outsz < B64_LEN(HMAC_SHA256_LEN) + 1)
		return WIMS_ETOOBIG;
	/* RFC 4169 3: PRF(RES || IK || CK, "http-digest-akav2-password") */
	uint8_t key[16 + AKA_IK_LEN + AKA_CK_LEN], mac[HMAC_SHA256_LEN];
	memcpy(key, res, res_len);
	memcpy(key + res_len, ik, AKA_IK_LEN);
	memcpy(key + res_len + AKA_IK_LEN, ck, AKA_CK_LEN);
	const struct slice label = SLICE_LIT(AKAV2_LABEL);
	int err = hmac_sha256(key, res_len + AKA_IK_LEN + AKA_CK_LEN, &label, 1, mac, sizeof(mac));
	if (!err) {
		size_t len = b64_encode(mac, sizeof(mac), out);
		out[len] = '\0';
		*out_len = len;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

/* --- demo credentials --- */

static int demo_hash(const char *label, const char *impi, uint8_t out[16])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return WIMS_ENOMEM;
	int ok = EVP_DigestInit_ex2(ctx, sha256, NULL) == 1 &&
		 EVP_DigestUpdate(ctx, label, strlen(label)) == 1 &&
		 EVP_DigestUpdate(ctx, impi, strlen(impi)) == 1 &&
		 EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
	EVP_MD_CTX_free(ctx);
	if (ok)
		memcpy(out, md, 16);
	OPENSSL_cleanse(md, sizeof(md));
	return ok ? 0 : WIMS_EINVAL;
}

int aka_demo_keys(const char *impi, struct aka_keys *out)
{
	if (!impi || !*impi)
		return WIMS_EINVAL;
	pthread_once(&fetch_once, fetch);
	if (!sha256)
		return WIMS_EUNSUPPORTED;
	int err = demo_hash("wims demo AKA K ", impi, out->k);
	if (!err)
		err = demo_hash("wims demo AKA OPc ", impi, out->opc);
	if (err)
		OPENSSL_cleanse(out, sizeof(*out));
	return err;
}
