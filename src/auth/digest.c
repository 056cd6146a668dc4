/*
 * digest.c - Digest HA1 / response / rspauth (RFC 7616, RFC 8760) and the
 * TS 33.203 Annex N IMPI derivation.
 *
 * Every hash here is H(a ":" b ":" ...) over a few short fields, so one
 * helper feeds a list of slices with ':' between them into an EVP digest
 * and writes lower-case hex.  The two EVP_MDs are fetched once per process
 * (implicit fetching by name on every call costs a lock and a lookup).
 */
#include "auth/digest.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/wims.h"

static EVP_MD *md_md5, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *alg_md(enum digest_alg alg)
{
	pthread_once(&md_once, md_fetch);
	switch (alg) {
	case DIGEST_ALG_MD5:
	case DIGEST_ALG_MD5_SESS:
		return md_md5;
	case DIGEST_ALG_SHA256:
	case DIGEST_ALG_SHA256_SESS:
		return md_sha256;
	default:
		return NULL;
	}
}

static bool alg_is_sess(enum digest_alg alg)
{
	return alg == DIGEST_ALG_MD5_SESS || alg == DIGEST_ALG_SHA256_SESS;
}

static const char *const alg_names[DIGEST_ALG_COUNT_] = {
	[DIGEST_ALG_MD5] = "MD5",
	[DIGEST_ALG_SHA256] = "SHA-256",
	[DIGEST_ALG_MD5_SESS] = "MD5-sess",
	[DIGEST_ALG_SHA256_SESS] = "SHA-256-sess",
};

const char *digest_alg_name(enum digest_alg alg)
{
	return (unsigned)alg < DIGEST_ALG_COUNT_ ? alg_names[alg] : "?";
}

int digest_alg_parse(struct slice name, enum digest_alg *out)
{
	if (name.p == NULL) {
		*out = DIGEST_ALG_MD5;
		return 0;
	}
	for (int i = 0; i < DIGEST_ALG_COUNT_; i++) {
		if (slice_ieq_cstr(name, alg_names[i])) {
			*out = (enum digest_alg)i;
			return 0;
		}
	}
	return WIMS_EUNSUPPORTED;
}

size_t digest_hex_len(enum digest_alg alg)
{
	switch (alg) {
	case DIGEST_ALG_MD5:
	case DIGEST_ALG_MD5_SESS:
		return DIGEST_MD5_HEX_LEN;
	case DIGEST_ALG_SHA256:
	case DIGEST_ALG_SHA256_SESS:
		return DIGEST_SHA256_HEX_LEN;
	default:
		return 0;
	}
}

static void to_hex(const unsigned char *bin, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bin[i] >> 4];
		out[2 * i + 1] = hex[bin[i] & 15];
	}
	out[2 * n] = '\0';
}

/* out_hex = hex(H(parts[0] ":" parts[1] ":" ... parts[n-1])). */
static int hash_parts(enum digest_alg alg, const struct slice *parts, size_t n,
		      char out_hex[DIGEST_HEX_MAX])
{
	const EVP_MD *md = alg_md(alg);
	if (!md)
		return WIMS_EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return WIMS_ENOMEM;
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned int binlen = 0;
	int ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].len > 0)
			ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, bin, &binlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || binlen * 2 + 1 > DIGEST_HEX_MAX)
		return WIMS_EINVAL;
	to_hex(bin, binlen, out_hex);
	OPENSSL_cleanse(bin, sizeof(bin));
	return 0;
}

int digest_ha1(enum digest_alg alg, struct slice username, struct slice realm,
	       struct slice password, char out_hex[DIGEST_HEX_MAX])
{
	struct slice parts[3] = {username, realm, password};
	return hash_parts(alg, parts, 3, out_hex);
}

enum qop_kind { QOP_NONE, QOP_AUTH, QOP_AUTH_INT };

static int qop_kind(struct slice qop, enum qop_kind *out)
{
	if (qop.len == 0)
		*out = QOP_NONE;
	else if (slice_eq_cstr(qop, "auth"))
		*out = QOP_AUTH;
	else if (slice_eq_cstr(qop, "auth-int"))
		*out = QOP_AUTH_INT;
	else
		return WIMS_EUNSUPPORTED;
	return 0;
}

/* The response with method (an empty method gives rspauth). */
static int response_common(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
			   struct slice nc, struct slice cnonce, struct slice qop,
			   struct slice method, struct slice uri, const struct slice *body,
			   char out_hex[DIGEST_HEX_MAX])
{
	size_t hl = digest_hex_len(alg);
	if (hl == 0 || ha1_hex.len != hl)
		return WIMS_EINVAL;
	enum qop_kind kind;
	int rc = qop_kind(qop, &kind);
	if (rc)
		return rc;

	/* RFC 7616 3.4.2: for -sess, HA1 is recomputed per nonce/cnonce. */
	char ha1s[DIGEST_HEX_MAX];
	struct slice ha1 = ha1_hex;
	if (alg_is_sess(alg)) {
		struct slice sp[3] = {ha1_hex, nonce, cnonce};
		if ((rc = hash_parts(alg, sp, 3, ha1s)))
			return rc;
		ha1 = (struct slice){ha1s, hl};
	}

	char body_hex[DIGEST_HEX_MAX], ha2[DIGEST_HEX_MAX];
	if (kind == QOP_AUTH_INT) {
		struct slice b = body ? *body : SLICE_LIT("");
		if ((rc = hash_parts(alg, &b, 1, body_hex)))
			goto out;
		struct slice hp[3] = {method, uri, {body_hex, hl}};
		rc = hash_parts(alg, hp, 3, ha2);
	} else {
		struct slice hp[2] = {method, uri};
		rc = hash_parts(alg, hp, 2, ha2);
	}
	if (rc)
		goto out;

	if (kind == QOP_NONE) {
		struct slice rp[3] = {ha1, nonce, {ha2, hl}};
		rc = hash_parts(alg, rp, 3, out_hex);
	} else {
		struct slice rp[6] = {ha1, nonce, nc, cnonce, qop, {ha2, hl}};
		rc = hash_parts(alg, rp, 6, out_hex);
	}
out:
	OPENSSL_cleanse(ha1s, sizeof(ha1s));
	return rc;
}

int digest_response(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		    struct slice nc, struct slice cnonce, struct slice qop, struct slice method,
		    struct slice uri, const struct slice *body, char out_hex[DIGEST_HEX_MAX])
{
	return response_common(alg, ha1_hex, nonce, nc, cnonce, qop, method, uri, body,
			       out_hex);
}

int digest_rspauth(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		   struct slice nc, struct slice cnonce, struct slice qop, struct slice uri,
		   const struct slice *body, char out_hex[DIGEST_HEX_MAX])
{
	return response_common(alg, ha1_hex, nonce, nc, cnonce, qop, SLICE_LIT(""), uri, body,
			       out_hex);
}

int digest_verify(enum digest_alg alg, struct slice ha1_hex, struct slice nonce,
		  struct slice nc, struct slice cnonce, struct slice qop, struct slice method,
		  struct slice uri, const struct slice *body, struct slice response)
{
	char want[DIGEST_HEX_MAX];
	int rc = response_common(alg, ha1_hex, nonce, nc, cnonce, qop, method, uri, body, want);
	if (rc)
		return rc;
	size_t hl = digest_hex_len(alg);
	/* The length is not secret (it follows from the algorithm). */
	if (response.len != hl)
		return WIMS_EAUTH;
	char got[DIGEST_HEX_MAX];
	for (size_t i = 0; i < hl; i++) {
		char c = response.p[i];
		got[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	rc = CRYPTO_memcmp(got, want, hl) == 0 ? 0 : WIMS_EAUTH;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

int digest_impi_from_impu(struct slice impu, char *out, size_t outsz)
{
	if (outsz > 0)
		out[0] = '\0';
	struct slice s = slice_trim(impu);
	size_t skip;
	if (slice_starts_with_i(s, "sip:"))
		skip = 4;
	else if (slice_starts_with_i(s, "sips:"))
		skip = 5;
	else
		return WIMS_EPARSE; /* tel: and others carry no IMPI (TS 23.003 13.3) */
	s.p += skip;
	s.len -= skip;

	/* userinfo "@" hostport [";" params] ["?" headers]; the user part may
	 * carry ';' (user parameters), so find '@' first. */
	long at = slice_find(s, '@');
	if (at <= 0)
		return WIMS_EPARSE;
	struct slice user = {s.p, (size_t)at};
	/* A password in the userinfo ("user:pw@") is not part of the NAI. */
	long colon = slice_find(user, ':');
	if (colon == 0)
		return WIMS_EPARSE;
	if (colon > 0)
		user.len = (size_t)colon;
	struct slice host = {s.p + at + 1, s.len - (size_t)at - 1};
	size_t hl = 0;
	bool bracket = host.len > 0 && host.p[0] == '[';
	for (; hl < host.len; hl++) {
		char c = host.p[hl];
		if (c == ';' || c == '?' || c == '>' || c == ' ' || c == '\t')
			break;
		if (bracket && c == ']') {
			hl++;
			break;
		}
		if (!bracket && c == ':')
			break;
		if (c == '@' || c == '"' || c == '<' || (unsigned char)c < 0x21 ||
		    (unsigned char)c > 0x7e)
			return WIMS_EPARSE;
	}
	host.len = hl;
	if (host.len == 0)
		return WIMS_EPARSE;
	for (size_t i = 0; i < user.len; i++) {
		unsigned char c = (unsigned char)user.p[i];
		if (c < 0x21 || c > 0x7e || c == '<' || c == '>' || c == '"')
			return WIMS_EPARSE;
	}
	size_t need = user.len + 1 + host.len;
	if (need + 1 > outsz)
		return WIMS_ETOOBIG;
	memcpy(out, user.p, user.len);
	out[user.len] = '@';
	memcpy(out + user.len + 1, host.p, host.len);
	out[need] = '\0';
	return (int)need;
}
