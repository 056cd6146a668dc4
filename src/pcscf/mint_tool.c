/*
 * mint_tool.c - test tool (not installed): stands in for the WAF's token
 * signer so that tests/integration/pcscf_tna.sh can hand the eP-CSCF
 * good tokens and every attack variant, with no WAF running.
 *
 *	pcscf_mint keygen KEYFILE JWKSFILE
 *	    a new ES256 key: private JWK to KEYFILE (mode 0600), a JWKS with
 *	    its public key to JWKSFILE
 *	pcscf_mint jwks KEYFILE... > JWKS
 *	    a JWKS with the public keys of several keys (rotation)
 *	pcscf_mint token KEYFILE [claims] [--variant V]
 *	    claims: --iss URL --aud AUD --scope S --wwsf ID --impi IMPI
 *	            --impu URI (repeat) --exp-in S --nbf-in S --iat-in S
 *	    (defaults: the demo's WAF, sip:ims.example.org, the TNA scope,
 *	    wwsf.ims.example.org, grace; times relative to now)
 *	    variants: good (default), none (alg none, no signature), hs256
 *	    (HMAC keyed with the public JWK: key confusion), trunc (signature
 *	    cut short), tamper (a signature character changed), kid (signed
 *	    by a key that is in no JWKS)
 *
 * Good tokens come from jwt_sign_access_token; the attack variants are
 * built by hand from a good token's parts (base64url and OpenSSL HMAC),
 * as src/auth/jwt_test.c does, so the eP-CSCF meets what an attacker can
 * actually send.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "core/b64url.h"
#include "core/hmac.h"
#include "core/slice.h"

static int usage(void)
{
	fprintf(stderr, "usage: pcscf_mint keygen KEYFILE JWKSFILE\n"
			"       pcscf_mint jwks KEYFILE...\n"
			"       pcscf_mint token KEYFILE [--iss X] [--aud X] [--scope X] [--wwsf X]\n"
			"                  [--impi X] [--impu X]... [--exp-in S] [--nbf-in S]\n"
			"                  [--iat-in S] [--variant good|none|hs256|trunc|tamper|kid]\n");
	return 2;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static struct jwt_key *load_key(const char *path)
{
	size_t n;
	char *json = slurp(path, &n);
	struct jwt_key *k = NULL;
	const char *why = "cannot read";
	if (!json || jwt_key_from_json(json, n, &k, &why) != 0) {
		fprintf(stderr, "pcscf_mint: %s: %s\n", path, why);
		free(json);
		return NULL;
	}
	free(json);
	return k;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	int rc = write(fd, text, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return rc;
}

static int keygen(const char *keyfile, const char *jwksfile)
{
	struct jwt_key *k = jwt_key_generate();
	char *priv = k ? jwt_key_private_json(k) : NULL;
	char *pub = k ? jwt_key_public_json(k) : NULL;
	char jwks[1024];
	int rc = 1;
	if (priv && pub) {
		snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}\n", pub);
		if (write_file(keyfile, priv, 0600) == 0 && write_file(jwksfile, jwks, 0644) == 0) {
			printf("%s\n", jwt_key_kid(k));
			rc = 0;
		}
	}
	if (rc)
		fprintf(stderr, "pcscf_mint: keygen failed\n");
	free(priv);
	free(pub);
	jwt_key_free(k);
	return rc;
}

static int jwks(int n, char **files)
{
	printf("{\"keys\":[");
	for (int i = 0; i < n; i++) {
		struct jwt_key *k = load_key(files[i]);
		if (!k)
			return 1;
		char *pub = jwt_key_public_json(k);
		printf("%s%s", i ? "," : "", pub);
		free(pub);
		jwt_key_free(k);
	}
	printf("]}\n");
	return 0;
}

static void b64(const void *p, size_t n, char *out)
{
	out[b64url_encode(p, n, out)] = '\0';
}

/* hdr "." claims "." HMAC-SHA-256(secret, hdr "." claims) */
static char *hs256(const char *hdr_json, const char *claims_b64, const char *secret)
{
	size_t hl = strlen(hdr_json), cl = strlen(claims_b64);
	char *t = malloc(B64URL_LEN(hl) + cl + 64);
	if (!t)
		return NULL;
	b64(hdr_json, hl, t);
	size_t at0 = strlen(t);
	t[at0] = '.';
	memcpy(t + at0 + 1, claims_b64, cl + 1);
	uint8_t mac[32];
	struct slice part = {t, strlen(t)};
	hmac_sha256((const uint8_t *)secret, strlen(secret), &part, 1, mac, 32);
	size_t at = strlen(t);
	t[at] = '.';
	b64(mac, 32, t + at + 1);
	return t;
}

static int token(int argc, char **argv)
{
	struct jwt_key *k = load_key(argv[0]);
	if (!k)
		return 1;
	struct jwt_claims c = {0};
	const char *variant = "good";
	int64_t now = (int64_t)time(NULL);
	int64_t exp_in = 3600, nbf_in = 0, iat_in = 0;
	bool nbf = false;
	snprintf(c.iss, sizeof(c.iss), "https://127.0.0.1:9443");
	snprintf(c.aud, sizeof(c.aud), "sip:ims.example.org");
	snprintf(c.scope, sizeof(c.scope), "webrtc-ims-client-access-to-ims");
	snprintf(c.wwsf, sizeof(c.wwsf), "wwsf.ims.example.org");
	snprintf(c.impi, sizeof(c.impi), "grace@ims.example.org");
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		i++;
		if (!strcmp(o, "--iss"))
			snprintf(c.iss, sizeof(c.iss), "%s", v);
		else if (!strcmp(o, "--aud"))
			snprintf(c.aud, sizeof(c.aud), "%s", v);
		else if (!strcmp(o, "--scope"))
			snprintf(c.scope, sizeof(c.scope), "%s", v);
		else if (!strcmp(o, "--wwsf"))
			snprintf(c.wwsf, sizeof(c.wwsf), "%s", v);
		else if (!strcmp(o, "--impi"))
			snprintf(c.impi, sizeof(c.impi), "%s", v);
		else if (!strcmp(o, "--impu") && c.n_impus < WIMS_IRS_MAX_IMPUS)
			snprintf(c.impus[c.n_impus++], WIMS_IMPU_MAX, "%s", v);
		else if (!strcmp(o, "--exp-in"))
			exp_in = strtoll(v, NULL, 10);
		else if (!strcmp(o, "--nbf-in"))
			nbf_in = strtoll(v, NULL, 10), nbf = true;
		else if (!strcmp(o, "--iat-in"))
			iat_in = strtoll(v, NULL, 10);
		else if (!strcmp(o, "--variant"))
			variant = v;
		else
			return usage();
	}
	if (c.n_impus == 0) {
		/* sip:USER@DOMAIN of the IMPI */
		snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:%.200s", c.impi);
		c.n_impus = 1;
	}
	snprintf(c.sub, sizeof(c.sub), "%s", c.impi);
	snprintf(c.client_id, sizeof(c.client_id), "%s", c.wwsf);
	c.exp = now + exp_in;
	c.iat = now + iat_in;
	if (c.iat >= c.exp) /* an expired token was issued before it expired */
		c.iat = c.exp - 60;
	c.nbf = nbf ? now + nbf_in : 0;
	struct jwt_key *signer = k;
	struct jwt_key *other = NULL;
	if (!strcmp(variant, "kid")) {
		other = jwt_key_generate();
		signer = other;
	}
	char *t = NULL;
	if (!signer || jwt_sign_access_token(signer, &c, &t) != 0) {
		fprintf(stderr, "pcscf_mint: cannot sign these claims\n");
		return 1;
	}
	char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
	char hdr[256];
	char *out = NULL;
	*dot2 = '\0';
	const char *claims_b64 = dot1 + 1;
	if (!strcmp(variant, "good") || !strcmp(variant, "kid")) {
		*dot2 = '.';
		out = strdup(t);
	} else if (!strcmp(variant, "none")) {
		/* RFC 8725 2.1: "alg":"none" and no signature */
		snprintf(hdr, sizeof(hdr), "{\"typ\":\"at+jwt\",\"alg\":\"none\",\"kid\":\"%s\"}",
			 jwt_key_kid(k));
		char h64[512];
		b64(hdr, strlen(hdr), h64);
		size_t n = strlen(h64) + strlen(claims_b64) + 3;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s.%s.", h64, claims_b64);
	} else if (!strcmp(variant, "hs256")) {
		/* RFC 8725 2.1: HMAC keyed with the public key the verifier
		 * holds, hoping it treats the key as a shared secret */
		snprintf(hdr, sizeof(hdr), "{\"typ\":\"at+jwt\",\"alg\":\"HS256\",\"kid\":\"%s\"}",
			 jwt_key_kid(k));
		char *pub = jwt_key_public_json(k);
		out = pub ? hs256(hdr, claims_b64, pub) : NULL;
		free(pub);
	} else if (!strcmp(variant, "trunc")) {
		*dot2 = '.';
		t[strlen(t) - 3] = '\0';
		out = strdup(t);
	} else if (!strcmp(variant, "tamper")) {
		*dot2 = '.';
		/* the first signature character carries 6 bits of r */
		dot2[1] = dot2[1] == 'A' ? 'B' : 'A';
		out = strdup(t);
	} else {
		free(t);
		return usage();
	}
	free(t);
	jwt_key_free(other);
	jwt_key_free(k);
	if (!out)
		return 1;
	printf("%s\n", out);
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "keygen"))
		return keygen(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "jwks"))
		return jwks(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "token"))
		return token(argc - 2, argv + 2);
	return usage();
}
