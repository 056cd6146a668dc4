/*
 * loadgen_bearer.c - the Bearer side of wims-loadgen (--bearer-key): the
 * generator stands in for the WAF, signs RFC 9068 access tokens with the
 * same src/auth/jwt.h that the WAF signs with, and every registration
 * carries one (TR 33.871 6.1.2: W2 REGISTER with Authorization: Bearer,
 * answered 200 by the pcscf as trusted node, no 401 round trip).
 *
 * Two modes measure the two costs of the pcscf:
 *  - cached: one token per subscriber, reused by every registration, so the
 *    pcscf verifies each token once and then hits its cache;
 *  - uncached: a token never seen before (its own jti) for every
 *    registration, so every REGISTER costs the pcscf an ECDSA verification.
 *
 * The generator's own ECDSA cost must not be in the measurement: on a
 * 2-core machine a signer running during the window would take CPU from
 * the server.  So every token is signed before the window opens, on all
 * cores at once (lg_bearer_presign): one per connection when cached, a
 * pool of --bearer-pool tokens spread evenly over the connections when
 * uncached.  A connection whose share runs out signs on its worker thread
 * and the run reports how many were signed so (bench/run.sh sizes the
 * pool from the cached warm-up so that none is).
 *
 * Nothing here reads lg_run: the unit test (loadgen_bearer_test.c) links
 * this file alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/wims.h"
#include "loadgen.h"

/* A key or JWKS file is a few hundred bytes. */
#define LG_KEY_FILE_MAX 4096

static int read_small_file(const char *path, char *buf, size_t bufsz, size_t *len, char *err,
			   size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return WIMS_EIO;
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, bufsz - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			close(fd);
			return WIMS_EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == bufsz) {
			snprintf(err, errsz, "%s: larger than %zu bytes", path, bufsz - 1);
			close(fd);
			return WIMS_ETOOBIG;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* Writes text to a new file (never over an existing one) with mode. */
static int write_new_file(const char *path, const char *text, mode_t mode, char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return WIMS_EIO;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			close(fd);
			return WIMS_EIO;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return WIMS_EIO;
	}
	return 0;
}

int lg_bearer_keygen(const char *key_file, const char *jwks_file, char *err, size_t errsz)
{
	struct jwt_key *key = jwt_key_generate();
	if (!key) {
		snprintf(err, errsz, "cannot generate an ES256 key");
		return WIMS_ENOMEM;
	}
	char *priv = jwt_key_private_json(key), *pub = jwt_key_public_json(key), *jwks = NULL;
	int rc = WIMS_ENOMEM;
	if (priv && pub) {
		size_t n = strlen(pub) + 32;
		jwks = malloc(n);
		if (jwks) {
			snprintf(jwks, n, "{\"keys\":[%s]}\n", pub);
			rc = write_new_file(key_file, priv, 0600, err, errsz);
			if (rc == 0)
				rc = write_new_file(jwks_file, jwks, 0644, err, errsz);
		}
	}
	if (rc == WIMS_ENOMEM)
		snprintf(err, errsz, "out of memory");
	if (priv)
		OPENSSL_cleanse(priv, strlen(priv));
	free(priv);
	free(pub);
	free(jwks);
	jwt_key_free(key);
	return rc;
}

struct jwt_key *lg_bearer_key_load(const char *key_file, char *err, size_t errsz)
{
	char buf[LG_KEY_FILE_MAX];
	size_t len;
	if (read_small_file(key_file, buf, sizeof(buf), &len, err, errsz) != 0)
		return NULL;
	struct jwt_key *key = NULL;
	const char *why = NULL;
	int rc = jwt_key_from_json(buf, len, &key, &why);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0) {
		snprintf(err, errsz, "%s: not a private ES256 JWK (%s)", key_file,
			 why ? why : wims_strerror(rc));
		return NULL;
	}
	return key;
}

int lg_bearer_token(const struct jwt_key *key, const struct lg_bearer_cfg *cfg, const char *sub,
		    const char *impi, const char *impu, int64_t now, char **out)
{
	/* ~2.5 KiB: one signature at a time per thread, not per token. */
	struct jwt_claims *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return WIMS_ENOMEM;
	int rc = WIMS_ETOOBIG;
#define SET(field, v) ((size_t)snprintf(c->field, sizeof(c->field), "%s", (v)) < sizeof(c->field))
	if (SET(iss, cfg->issuer) && SET(aud, cfg->audience) && SET(sub, sub) &&
	    SET(client_id, cfg->wwsf) && SET(wwsf, cfg->wwsf) && SET(scope, cfg->scope) &&
	    SET(impi, impi) && SET(impus[0], impu)) {
		c->n_impus = 1;
		c->iat = now;
		c->exp = now + (int64_t)cfg->lifetime_s;
		/* jti left empty: jwt_sign_access_token makes a random one,
		 * so no two tokens share a cache key at the pcscf. */
		rc = jwt_sign_access_token(key, c, out);
	}
#undef SET
	free(c);
	return rc;
}

/* --- signing ahead of the window, on every core --- */

struct presign_job {
	const char *key_json; /* each thread loads its own copy of the key */
	size_t key_len;
	const struct lg_bearer_cfg *cfg;
	struct lg_conn **conns;
	unsigned nconns, first, step; /* this thread: conns first, first+step, ... */
	unsigned per_conn;
	int64_t now;
	pthread_t thread;
	int rc;
	char err[200];
};

static void *presign_thread(void *arg)
{
	struct presign_job *j = arg;
	struct jwt_key *key = NULL;
	const char *why = NULL;
	j->rc = jwt_key_from_json(j->key_json, j->key_len, &key, &why);
	if (j->rc != 0) {
		snprintf(j->err, sizeof(j->err), "key: %s", why ? why : wims_strerror(j->rc));
		return NULL;
	}
	for (unsigned i = j->first; i < j->nconns && j->rc == 0; i += j->step) {
		struct lg_conn *c = j->conns[i];
		c->tokens = calloc(j->per_conn, sizeof(char *));
		if (!c->tokens) {
			j->rc = WIMS_ENOMEM;
			break;
		}
		for (unsigned t = 0; t < j->per_conn; t++) {
			j->rc = lg_bearer_token(key, j->cfg, c->user_part, c->impi, c->impu, j->now,
						&c->tokens[t]);
			if (j->rc != 0) {
				snprintf(j->err, sizeof(j->err), "signing a token for %s: %s",
					 c->impi, wims_strerror(j->rc));
				break;
			}
			c->ntokens++;
		}
	}
	jwt_key_free(key);
	return NULL;
}

int lg_bearer_presign(const char *key_file, const struct lg_bearer_cfg *cfg,
		      struct lg_conn **conns, unsigned nconns, unsigned per_conn, int64_t now,
		      unsigned nthreads, char *err, size_t errsz)
{
	char key_json[LG_KEY_FILE_MAX];
	size_t key_len;
	int rc = read_small_file(key_file, key_json, sizeof(key_json), &key_len, err, errsz);
	if (rc != 0)
		return rc;
	/* A bad key is named once here, not by every thread. */
	struct jwt_key *check = lg_bearer_key_load(key_file, err, errsz);
	if (!check) {
		OPENSSL_cleanse(key_json, sizeof(key_json));
		return WIMS_EPARSE;
	}
	jwt_key_free(check);
	if (nthreads == 0)
		nthreads = 1;
	if (nthreads > nconns)
		nthreads = nconns ? nconns : 1;
	struct presign_job *jobs = calloc(nthreads, sizeof(*jobs));
	if (!jobs) {
		OPENSSL_cleanse(key_json, sizeof(key_json));
		snprintf(err, errsz, "out of memory");
		return WIMS_ENOMEM;
	}
	unsigned started = 0;
	for (unsigned t = 0; t < nthreads; t++) {
		jobs[t] = (struct presign_job){
			.key_json = key_json, .key_len = key_len, .cfg = cfg, .conns = conns,
			.nconns = nconns, .first = t, .step = nthreads, .per_conn = per_conn,
			.now = now,
		};
		if (pthread_create(&jobs[t].thread, NULL, presign_thread, &jobs[t]) != 0)
			break;
		started++;
	}
	rc = started == nthreads ? 0 : WIMS_ENOMEM;
	if (rc)
		snprintf(err, errsz, "cannot start %u signing threads", nthreads);
	for (unsigned t = 0; t < started; t++) {
		pthread_join(jobs[t].thread, NULL);
		if (jobs[t].rc && !rc) {
			rc = jobs[t].rc;
			snprintf(err, errsz, "%s", jobs[t].err);
		}
	}
	free(jobs);
	OPENSSL_cleanse(key_json, sizeof(key_json));
	return rc;
}

const char *lg_bearer_next(struct lg_conn *c, bool uncached, const struct jwt_key *key,
			  const struct lg_bearer_cfg *cfg, int64_t now, uint64_t *signed_inline)
{
	if (!uncached)
		return c->ntokens ? c->tokens[0] : NULL;
	/* The token sent last is spent: never sent again. */
	free(c->cur_token);
	c->cur_token = NULL;
	if (c->next_token < c->ntokens) {
		c->cur_token = c->tokens[c->next_token];
		c->tokens[c->next_token++] = NULL;
		return c->cur_token;
	}
	if (!key || lg_bearer_token(key, cfg, c->user_part, c->impi, c->impu, now,
				    &c->cur_token) != 0)
		return NULL;
	(*signed_inline)++;
	return c->cur_token;
}

void lg_bearer_conn_free(struct lg_conn *c)
{
	for (unsigned t = 0; t < c->ntokens; t++)
		free(c->tokens[t]);
	free(c->tokens);
	free(c->cur_token);
	c->tokens = NULL;
	c->cur_token = NULL;
	c->ntokens = c->next_token = 0;
}
