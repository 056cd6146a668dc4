/*
 * token.c - flow tokens and the branches that carry them (see token.h).
 *
 * HMAC-SHA-256 through EVP_MAC, fetched once per process (the EVP_MAC
 * object is shared read-only by every thread; each call makes its own
 * context).
 */
#include "pcscf/token.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/wims.h"

#define RAW_LEN 25 /* 1 + 8 + 16 */
#define MAC_LEN 16
#define TXN_RAW_LEN 9

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	return o;
}

static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Exactly PCSCF_TOKEN_LEN characters into RAW_LEN bytes; the 2 spare bits
 * of the last character must be zero so that each token has one
 * spelling. */
static int token_decode(struct slice s, uint8_t raw[RAW_LEN])
{
	if (s.p == NULL || s.len != PCSCF_TOKEN_LEN)
		return WIMS_EAUTH;
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		int v = b64url_val(s.p[i]);
		if (v < 0)
			return WIMS_EAUTH;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (o == RAW_LEN && acc == 0) ? 0 : WIMS_EAUTH;
}

static EVP_MAC *hmac;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* out = HMAC-SHA-256(key, label || a || b)[0..outlen) */
static int mac(const uint8_t key[PCSCF_TOKEN_KEY_LEN], const char *label, const uint8_t *a,
	       size_t alen, struct slice b, uint8_t *out, size_t outlen)
{
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac)
		return WIMS_EUNSUPPORTED;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
	if (!ctx)
		return WIMS_ENOMEM;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t len = 0;
	int ok = EVP_MAC_init(ctx, key, PCSCF_TOKEN_KEY_LEN, params) &&
		 EVP_MAC_update(ctx, (const unsigned char *)label, strlen(label)) &&
		 EVP_MAC_update(ctx, a, alen) &&
		 (b.len == 0 || EVP_MAC_update(ctx, (const unsigned char *)b.p, b.len)) &&
		 EVP_MAC_final(ctx, full, &len, sizeof(full));
	EVP_MAC_CTX_free(ctx);
	if (!ok || len < outlen)
		return WIMS_EINVAL;
	memcpy(out, full, outlen);
	return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int pcscf_token_make(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
		     char out[PCSCF_TOKEN_LEN + 1])
{
	out[0] = '\0';
	if (worker < 0 || worker > 255)
		return WIMS_EINVAL;
	uint8_t raw[RAW_LEN];
	raw[0] = (uint8_t)worker;
	put_be64(raw + 1, conn_id);
	int rc = mac(key, "wims-flow", raw, 9, SLICE_NULL, raw + 9, MAC_LEN);
	if (rc)
		return rc;
	size_t n = b64url_encode(raw, RAW_LEN, out);
	out[n] = '\0';
	return 0;
}

int pcscf_token_verify(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice token, int *worker,
		       uint64_t *conn_id)
{
	uint8_t raw[RAW_LEN], want[MAC_LEN];
	if (token_decode(token, raw))
		return WIMS_EAUTH;
	if (mac(key, "wims-flow", raw, 9, SLICE_NULL, want, MAC_LEN))
		return WIMS_EAUTH;
	if (CRYPTO_memcmp(want, raw + 9, MAC_LEN) != 0)
		return WIMS_EAUTH;
	*worker = raw[0];
	*conn_id = get_be64(raw + 1);
	return 0;
}

int pcscf_branch_make(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
		      struct slice client_branch, struct slice client_sent_by,
		      char out[PCSCF_BRANCH_LEN + 1], uint64_t *txn_id)
{
	char token[PCSCF_TOKEN_LEN + 1];
	int rc = pcscf_token_make(key, worker, conn_id, token);
	if (rc) {
		out[0] = '\0';
		return rc;
	}
	/* conn id || branch || " " || sent-by: the separator keeps
	 * ("ab","c") and ("a","bc") apart (a space is in neither). */
	uint8_t id[8];
	put_be64(id, conn_id);
	uint8_t txn[TXN_RAW_LEN];
	char joined[2 * 256 + 1];
	size_t jl = 0;
	if (client_branch.len + client_sent_by.len + 1 > sizeof(joined)) {
		out[0] = '\0';
		return WIMS_EINVAL;
	}
	if (client_branch.len)
		memcpy(joined, client_branch.p, client_branch.len);
	jl = client_branch.len;
	joined[jl++] = ' ';
	if (client_sent_by.len)
		memcpy(joined + jl, client_sent_by.p, client_sent_by.len);
	jl += client_sent_by.len;
	rc = mac(key, "wims-branch", id, 8, (struct slice){joined, jl}, txn, TXN_RAW_LEN);
	if (rc) {
		out[0] = '\0';
		return rc;
	}
	memcpy(out, "z9hG4bK", 7);
	memcpy(out + 7, token, PCSCF_TOKEN_LEN);
	out[7 + PCSCF_TOKEN_LEN] = '.';
	size_t n = b64url_encode(txn, TXN_RAW_LEN, out + 8 + PCSCF_TOKEN_LEN);
	out[8 + PCSCF_TOKEN_LEN + n] = '\0';
	if (txn_id)
		*txn_id = get_be64(txn);
	return 0;
}

int pcscf_branch_parse(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice branch, int *worker,
		       uint64_t *conn_id, uint64_t *txn_id)
{
	if (branch.p == NULL || branch.len != PCSCF_BRANCH_LEN ||
	    memcmp(branch.p, "z9hG4bK", 7) != 0 || branch.p[7 + PCSCF_TOKEN_LEN] != '.')
		return WIMS_EAUTH;
	int rc = pcscf_token_verify(key, (struct slice){branch.p + 7, PCSCF_TOKEN_LEN}, worker,
				    conn_id);
	if (rc)
		return rc;
	/* The txn part only selects an entry of our own table: decode it,
	 * loosely (a wrong one finds nothing). */
	const char *t = branch.p + 8 + PCSCF_TOKEN_LEN;
	uint64_t v = 0;
	int bits = 0;
	uint8_t raw[TXN_RAW_LEN];
	size_t o = 0;
	for (size_t i = 0; i < PCSCF_BRANCH_TXN_LEN; i++) {
		int c = b64url_val(t[i]);
		if (c < 0)
			return WIMS_EAUTH;
		v = (v << 6) | (uint64_t)c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	if (txn_id)
		*txn_id = get_be64(raw);
	return 0;
}
