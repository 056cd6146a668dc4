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

#include "core/b64url.h"
#include "core/hmac.h"
#include "core/wims.h"

#define RAW_LEN 25 /* 1 + 8 + 16 */
#define MAC_LEN 16
#define TXN_RAW_LEN 9

/* Exactly PCSCF_TOKEN_LEN characters into RAW_LEN bytes; the 2 spare bits
 * of the last character must be zero so that each token has one
 * spelling. */
static int token_decode(struct slice s, uint8_t raw[RAW_LEN])
{
	if (s.len != PCSCF_TOKEN_LEN || b64url_decode_exact(s.p, s.len, raw, RAW_LEN))
		return WIMS_EAUTH;
	return 0;
}

/* out = HMAC-SHA-256(key, label || a || b)[0..outlen) */
static int mac(const uint8_t key[PCSCF_TOKEN_KEY_LEN], const char *label, const uint8_t *a,
	       size_t alen, struct slice b, uint8_t *out, size_t outlen)
{
	const struct slice parts[] = {slice_from_cstr(label), {(const char *)a, alen}, b};
	return hmac_sha256(key, PCSCF_TOKEN_KEY_LEN, parts, 3, out, outlen);
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
		int c = b64url_value(t[i]);
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

#define BACK_RAW_LEN 15 /* 1 + 8 + 6 */

static int back_mac(const uint8_t key[PCSCF_TOKEN_KEY_LEN], uint64_t conn_id, const uint8_t *wl,
		    uint8_t out[6])
{
	uint8_t in[17];
	put_be64(in, conn_id);
	memcpy(in + 8, wl, 9);
	return mac(key, "wims-back", in, sizeof(in), SLICE_NULL, out, 6);
}

int pcscf_branch_make_back(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
			   struct slice core_branch, struct slice core_sent_by, int back_worker,
			   uint64_t back_link, char out[PCSCF_BRANCH_BACK_LEN + 1],
			   uint64_t *txn_id)
{
	if (back_worker < 0 || back_worker > 255) {
		out[0] = '\0';
		return WIMS_EINVAL;
	}
	int rc = pcscf_branch_make(key, worker, conn_id, core_branch, core_sent_by, out, txn_id);
	if (rc)
		return rc;
	uint8_t raw[BACK_RAW_LEN];
	raw[0] = (uint8_t)back_worker;
	put_be64(raw + 1, back_link);
	if ((rc = back_mac(key, conn_id, raw, raw + 9)) != 0) {
		out[0] = '\0';
		return rc;
	}
	out[PCSCF_BRANCH_LEN] = '.';
	size_t n = b64url_encode(raw, BACK_RAW_LEN, out + PCSCF_BRANCH_LEN + 1);
	out[PCSCF_BRANCH_LEN + 1 + n] = '\0';
	return 0;
}

int pcscf_branch_parse_back(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice branch,
			    int *worker, uint64_t *conn_id, int *back_worker, uint64_t *back_link,
			    uint64_t *txn_id)
{
	if (branch.p == NULL || branch.len != PCSCF_BRANCH_BACK_LEN ||
	    branch.p[PCSCF_BRANCH_LEN] != '.')
		return WIMS_EAUTH;
	uint64_t txn;
	int rc = pcscf_branch_parse(key, (struct slice){branch.p, PCSCF_BRANCH_LEN}, worker,
				    conn_id, &txn);
	if (rc)
		return rc;
	/* 20 characters = 120 bits = 15 bytes exactly: no spare bits */
	uint8_t raw[BACK_RAW_LEN];
	const char *s = branch.p + PCSCF_BRANCH_LEN + 1;
	for (size_t i = 0, o = 0; i < 20; i += 4, o += 3) {
		int a = b64url_value(s[i]), b = b64url_value(s[i + 1]), c = b64url_value(s[i + 2]),
		    d = b64url_value(s[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return WIMS_EAUTH;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		raw[o] = (uint8_t)(v >> 16);
		raw[o + 1] = (uint8_t)(v >> 8);
		raw[o + 2] = (uint8_t)v;
	}
	uint8_t want[6];
	if (back_mac(key, *conn_id, raw, want) || CRYPTO_memcmp(want, raw + 9, 6) != 0)
		return WIMS_EAUTH;
	*back_worker = raw[0];
	*back_link = get_be64(raw + 1);
	if (txn_id)
		*txn_id = txn;
	return 0;
}
