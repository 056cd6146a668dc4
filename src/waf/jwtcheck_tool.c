/*
 * jwtcheck_tool.c - test tool for tests/integration/waf_oauth.sh: verify an
 * access token with jwt_verify_access_token (what the pcscf runs) against
 * a JWKS file fetched from the WAF's /jwks.json.  Not installed.
 *
 *	waf_jwtcheck JWKS_FILE TOKEN_FILE ISS AUD SCOPE
 *
 * Prints "ok impi=... impus=a,b wwsf=... sub=... exp-iat=N" and exits 0,
 * or prints the reason and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/jwt.h"
#include "core/wims.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	*len = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf) {
		while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
			(*len)--;
		buf[*len] = '\0';
	}
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: waf_jwtcheck JWKS_FILE TOKEN_FILE ISS AUD SCOPE\n");
		return 2;
	}
	size_t jl = 0, tl = 0;
	char *jwks = slurp(argv[1], &jl), *tok = slurp(argv[2], &tl);
	if (!jwks || !tok) {
		printf("cannot read the files\n");
		return 2;
	}
	struct jwt_keyset *ks = NULL;
	const char *why = NULL;
	if (jwt_keyset_from_json(jwks, jl, &ks, &why)) {
		printf("JWKS refused: %s\n", why);
		free(jwks);
		free(tok);
		return 1;
	}
	struct jwt_expect want = {.iss = argv[3], .aud = argv[4], .scope = argv[5], .skew_s = -1};
	struct jwt_claims c;
	int rc = jwt_verify_access_token(ks, tok, tl, &want, (int64_t)time(NULL), &c, &why);
	if (rc) {
		printf("refused: %s (%s)\n", why ? why : "?", wims_strerror(rc));
		jwt_keyset_free(ks);
		free(jwks);
		free(tok);
		return 1;
	}
	printf("ok impi=%s impus=", c.impi);
	for (size_t i = 0; i < c.n_impus; i++)
		printf("%s%s", i ? "," : "", c.impus[i]);
	printf(" wwsf=%s client_id=%s sub=%s exp-iat=%lld\n", c.wwsf, c.client_id, c.sub,
	       (long long)(c.exp - c.iat));
	jwt_keyset_free(ks);
	free(jwks);
	free(tok);
	return 0;
}
