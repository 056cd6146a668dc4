/*
 * digest.c - fuzz target for what src/auth parses from the wire: nonces
 * (nonce_check, nonce_issued_at, the nc tracker), nc values, algorithm
 * names, the TS 33.203 Annex N IMPI derivation and digest_verify with
 * attacker-chosen fields.
 *
 * Input layout: byte 0 selects the target, the rest is the input.  For
 * digest_verify the rest is split at '\n' into nonce, nc, cnonce, qop,
 * method, uri, response (missing fields are empty).  Properties checked:
 * no crash or overread (ASan), return values in their documented sets, a
 * nonce we made always verifies and any one-character change of it does
 * not, and the tracker never accepts one nc twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/digest.h"
#include "auth/nonce.h"
#include "core/wims.h"
#include "fuzz.h"

static const uint8_t secret[NONCE_SECRET_LEN] = {0x11, 0x22, 0x33};
static struct nonce_tracker *tracker;

static void check_nonce(const char *p, size_t n)
{
	struct nonce_key key;
	nonce_key_init(&key, secret);
	struct slice s = {p, n};
	int rc = nonce_check(&key, s, 5000, 300);
	if (rc != 0 && rc != WIMS_EAUTH && rc != WIMS_ESTALE)
		abort();
	/* An accepted nonce is well formed. */
	uint64_t ts;
	int r2 = nonce_issued_at(s, &ts);
	if (rc == 0 && r2 != 0)
		abort();
	if (!tracker)
		tracker = nonce_tracker_new(256, 300);
	uint64_t nc = n ? (uint64_t)(unsigned char)p[0] : 1;
	rc = nonce_nc_check_and_set(tracker, s, nc, 5000);
	if (rc != 0 && rc != WIMS_EREPLAY && rc != WIMS_ESTALE && rc != WIMS_EINVAL)
		abort();
	/* The same nc twice is never accepted twice. */
	if (rc == 0 && nonce_nc_check_and_set(tracker, s, nc, 5000) == 0)
		abort();
	nonce_key_wipe(&key);
}

static void check_made_nonce(const char *p, size_t n)
{
	struct nonce_key key;
	nonce_key_init(&key, secret);
	uint8_t rnd[NONCE_RAND_LEN] = {0};
	memcpy(rnd, p, n < sizeof(rnd) ? n : sizeof(rnd));
	uint64_t now = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		now = (now << 8) | p[i];
	char out[NONCE_STR_MAX];
	if (nonce_make(&key, now, rnd, out, sizeof(out)) != NONCE_STR_LEN)
		abort();
	if (nonce_check(&key, (struct slice){out, NONCE_STR_LEN}, now, 300) != 0)
		abort();
	/* Any single-character change is refused. */
	size_t at = n ? p[n - 1] % NONCE_STR_LEN : 0;
	out[at] = out[at] == 'A' ? 'B' : 'A';
	if (nonce_check(&key, (struct slice){out, NONCE_STR_LEN}, now, 300) == 0)
		abort();
}

static void check_impi(const char *p, size_t n)
{
	char out[64];
	int rc = digest_impi_from_impu((struct slice){p, n}, out, sizeof(out));
	if (rc >= 0) {
		if ((size_t)rc != strlen(out) || rc >= (int)sizeof(out) || !strchr(out, '@'))
			abort();
	} else if (rc != WIMS_EPARSE && rc != WIMS_ETOOBIG) {
		abort();
	} else if (out[0] != '\0') {
		abort();
	}
}

static void check_verify(const char *p, size_t n)
{
	struct slice f[7] = {{0}};
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n && k < 7; i++) {
		if (i == n || p[i] == '\n') {
			f[k++] = (struct slice){p + start, i - start};
			start = i + 1;
		}
	}
	uint64_t nc;
	(void)nonce_nc_parse(f[1], &nc);
	enum digest_alg alg;
	if (digest_alg_parse(f[3], &alg) != 0)
		alg = DIGEST_ALG_SHA256;
	static const char ha1[] = "9ea344b8377e502805677b3d5abd87d9a3c4e0251e0da89be7b68682a7f424dc";
	struct slice h = {ha1, digest_hex_len(alg)};
	int rc = digest_verify(alg, h, f[0], f[1], f[2], f[3], f[4], f[5], NULL, f[6]);
	if (rc != 0 && rc != WIMS_EAUTH && rc != WIMS_EUNSUPPORTED)
		abort();
	char out[DIGEST_HEX_MAX];
	rc = digest_rspauth(alg, h, f[0], f[1], f[2], f[3], f[5], &f[6], out);
	if (rc == 0 && strlen(out) != digest_hex_len(alg))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_check_fn checks[] = {check_nonce, check_made_nonce, check_impi, check_verify};
	return fuzz_pick_check(data, size, checks, WIMS_ARRAY_LEN(checks));
}
