/*
 * bearer.c - access tokens at the eP-CSCF: the verified-token cache, the
 * WAF's keys (JWKS), RFC 7662 introspection, and the checks of a token
 * against the flow and the REGISTER (see bearer.h).
 */
#include "pcscf/bearer.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/conf.h"
#include "core/http.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/wims.h"
#include "pcscf/ident.h"
#include "sip/auth_hdr.h"

#define LOG "pcscf"

/* ------------------------------------------------------------------ */
/* The cache                                                          */
/* ------------------------------------------------------------------ */

/*
 * Each shard: a fixed array of entries, chained from a bucket array by
 * index (no allocation per lookup), a free list.  An entry keeps the
 * claims packed into one allocation: the strings one after the other,
 * each with its NUL.  The hash is SHA-256, so its bytes pick the shard
 * and the bucket evenly; an attacker choosing tokens cannot aim at one
 * chain without breaking SHA-256.
 */
struct centry {
	uint8_t hash[32];
	int64_t exp, iat, nbf;
	uint32_t next; /* index + 1 of the next entry in the chain; 0 = end */
	uint32_t n_impus;
	bool used;
	char *blob;
};

struct shard {
	pthread_mutex_t mu;
	struct centry *e;
	uint32_t cap, count;
	uint32_t *buckets; /* index + 1 */
	uint32_t nbuckets; /* a power of two */
	uint32_t free_head; /* index + 1 */
};

struct pcscf_bearer_cache {
	struct shard *shards;
	uint32_t nshards; /* a power of two */
	atomic_uint_fast64_t hits, misses;
};

static uint32_t hash_u32(const uint8_t *h, int at)
{
	return (uint32_t)h[at] | (uint32_t)h[at + 1] << 8 | (uint32_t)h[at + 2] << 16 |
	       (uint32_t)h[at + 3] << 24;
}

struct pcscf_bearer_cache *pcscf_bearer_cache_new(size_t entries)
{
	struct pcscf_bearer_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	/* Small caches live in one shard, so their bound is exact; a large
	 * one is split so that workers rarely wait on each other. */
	c->nshards = entries >= (size_t)PCSCF_BEARER_SHARDS * 64 ? PCSCF_BEARER_SHARDS : 1;
	c->shards = calloc(c->nshards, sizeof(*c->shards));
	if (!c->shards)
		goto fail;
	for (uint32_t i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_init(&s->mu, NULL);
		s->cap = (uint32_t)(entries / c->nshards);
		if (s->cap == 0)
			continue;
		s->nbuckets = 1;
		while (s->nbuckets < s->cap)
			s->nbuckets <<= 1;
		s->e = calloc(s->cap, sizeof(*s->e));
		s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
		if (!s->e || !s->buckets)
			goto fail;
		for (uint32_t k = 0; k < s->cap; k++)
			s->e[k].next = k + 2 <= s->cap ? k + 2 : 0;
		s->free_head = 1;
	}
	return c;
fail:
	pcscf_bearer_cache_free(c);
	return NULL;
}

void pcscf_bearer_cache_free(struct pcscf_bearer_cache *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->shards && i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		for (uint32_t k = 0; s->e && k < s->cap; k++)
			free(s->e[k].blob);
		free(s->e);
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(c->shards);
	free(c);
}

static struct shard *shard_of(struct pcscf_bearer_cache *c, const uint8_t hash[32])
{
	return &c->shards[hash_u32(hash, 0) & (c->nshards - 1)];
}

static uint32_t *bucket_of(struct shard *s, const uint8_t hash[32])
{
	return &s->buckets[hash_u32(hash, 4) & (s->nbuckets - 1)];
}

/* The entry of hash in s (index + 1), 0 if absent; *prev the link that
 * points to it. */
static uint32_t shard_find(struct shard *s, const uint8_t hash[32], uint32_t **prev)
{
	uint32_t *link = bucket_of(s, hash);
	while (*link) {
		struct centry *e = &s->e[*link - 1];
		if (memcmp(e->hash, hash, 32) == 0) {
			*prev = link;
			return *link;
		}
		link = &e->next;
	}
	return 0;
}

static void shard_remove(struct shard *s, uint32_t *prev)
{
	uint32_t idx = *prev;
	struct centry *e = &s->e[idx - 1];
	*prev = e->next;
	free(e->blob);
	memset(e, 0, sizeof(*e));
	e->next = s->free_head;
	s->free_head = idx;
	s->count--;
}

/* The entry to drop from a full shard: an expired one, else the one that
 * expires first (it has the least life left to serve). */
static void shard_evict(struct shard *s, int64_t now)
{
	uint32_t victim = 0;
	int64_t best = INT64_MAX;
	for (uint32_t k = 0; k < s->cap; k++) {
		struct centry *e = &s->e[k];
		if (!e->used)
			continue;
		if (e->exp < best) {
			best = e->exp;
			victim = k + 1;
		}
		if (e->exp <= now)
			break;
	}
	if (!victim)
		return;
	uint32_t *prev;
	if (shard_find(s, s->e[victim - 1].hash, &prev))
		shard_remove(s, prev);
}

static const size_t blob_fields[] = {
	offsetof(struct jwt_claims, iss),	offsetof(struct jwt_claims, sub),
	offsetof(struct jwt_claims, aud),	offsetof(struct jwt_claims, client_id),
	offsetof(struct jwt_claims, scope), offsetof(struct jwt_claims, jti),
	offsetof(struct jwt_claims, wwsf),	offsetof(struct jwt_claims, impi),
};
static const size_t blob_sizes[] = {
	JWT_NAME_MAX, WIMS_IMPI_MAX, JWT_NAME_MAX, JWT_NAME_MAX,
	JWT_SCOPE_MAX, JWT_JTI_MAX,  JWT_NAME_MAX, WIMS_IMPI_MAX,
};

static char *blob_pack(const struct jwt_claims *cl)
{
	size_t n = 0;
	for (size_t i = 0; i < WIMS_ARRAY_LEN(blob_fields); i++)
		n += strnlen((const char *)cl + blob_fields[i], blob_sizes[i]) + 1;
	for (size_t i = 0; i < cl->n_impus; i++)
		n += strnlen(cl->impus[i], WIMS_IMPU_MAX) + 1;
	char *b = malloc(n), *p = b;
	if (!b)
		return NULL;
	for (size_t i = 0; i < WIMS_ARRAY_LEN(blob_fields); i++) {
		size_t k = strnlen((const char *)cl + blob_fields[i], blob_sizes[i]);
		memcpy(p, (const char *)cl + blob_fields[i], k);
		p[k] = '\0';
		p += k + 1;
	}
	for (size_t i = 0; i < cl->n_impus; i++) {
		size_t k = strnlen(cl->impus[i], WIMS_IMPU_MAX);
		memcpy(p, cl->impus[i], k);
		p[k] = '\0';
		p += k + 1;
	}
	return b;
}

static void blob_unpack(const struct centry *e, struct jwt_claims *out)
{
	const char *p = e->blob;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < WIMS_ARRAY_LEN(blob_fields); i++) {
		size_t k = strlen(p);
		/* packed from fields of these sizes: k < blob_sizes[i] */
		memcpy((char *)out + blob_fields[i], p, k + 1);
		p += k + 1;
	}
	for (uint32_t i = 0; i < e->n_impus; i++) {
		size_t k = strlen(p);
		memcpy(out->impus[i], p, k + 1);
		p += k + 1;
	}
	out->n_impus = e->n_impus;
	out->exp = e->exp;
	out->iat = e->iat;
	out->nbf = e->nbf;
}

int pcscf_bearer_cache_put(struct pcscf_bearer_cache *c, const uint8_t hash[32],
			   const struct jwt_claims *cl, int64_t now)
{
	if (cl->exp <= now || cl->n_impus > WIMS_IRS_MAX_IMPUS)
		return WIMS_EINVAL;
	struct shard *s = shard_of(c, hash);
	if (s->cap == 0)
		return 0;
	char *blob = blob_pack(cl);
	if (!blob)
		return WIMS_ENOMEM;
	pthread_mutex_lock(&s->mu);
	uint32_t *prev;
	uint32_t idx = shard_find(s, hash, &prev);
	if (idx) {
		shard_remove(s, prev);
	} else if (s->count >= s->cap) {
		shard_evict(s, now);
	}
	idx = s->free_head;
	struct centry *e = &s->e[idx - 1];
	s->free_head = e->next;
	memcpy(e->hash, hash, 32);
	e->exp = cl->exp;
	e->iat = cl->iat;
	e->nbf = cl->nbf;
	e->n_impus = (uint32_t)cl->n_impus;
	e->blob = blob;
	e->used = true;
	uint32_t *b = bucket_of(s, hash);
	e->next = *b;
	*b = idx;
	s->count++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int pcscf_bearer_cache_get(struct pcscf_bearer_cache *c, const uint8_t hash[32], int64_t now,
			   int64_t skew_s, struct jwt_claims *out)
{
	struct shard *s = shard_of(c, hash);
	int rc = WIMS_ENOTFOUND;
	if (s->cap == 0) {
		atomic_fetch_add(&c->misses, 1);
		return rc;
	}
	pthread_mutex_lock(&s->mu);
	uint32_t *prev;
	uint32_t idx = shard_find(s, hash, &prev);
	if (idx) {
		struct centry *e = &s->e[idx - 1];
		/* the verifier's rule (jwt.c): refused once now - skew >= exp */
		if (now - (skew_s < 0 ? JWT_SKEW_DEFAULT_S : skew_s) >= e->exp) {
			shard_remove(s, prev);
		} else {
			blob_unpack(e, out);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add(rc == 0 ? &c->hits : &c->misses, 1);
	return rc;
}

size_t pcscf_bearer_cache_count(struct pcscf_bearer_cache *c)
{
	size_t n = 0;
	for (uint32_t i = 0; i < c->nshards; i++) {
		pthread_mutex_lock(&c->shards[i].mu);
		n += c->shards[i].count;
		pthread_mutex_unlock(&c->shards[i].mu);
	}
	return n;
}

void pcscf_bearer_cache_stats(struct pcscf_bearer_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load(&c->hits);
	*misses = atomic_load(&c->misses);
}

/* ------------------------------------------------------------------ */
/* Pure checks                                                        */
/* ------------------------------------------------------------------ */

int pcscf_bearer_authorization(const struct sip_msg *m, struct slice *token, int *status,
			       const char **why)
{
	unsigned n = 0;
	bool bearer = false;
	*token = SLICE_NULL;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_auth a;
		const char *reason;
		n++;
		if (sip_auth_parse(&a, h->value, &reason) != 0) {
			*status = 400;
			*why = "Bad authorization header";
			return WIMS_EPARSE;
		}
		/* TS 24.229 5.4.1.2.2A: integrity-protected="auth-done" is
		 * what a trusted node tells the S-CSCF; from a WIC it would be
		 * TNA without a token. */
		if (sip_auth_has(&a, SIP_AUTH_P_INTEGRITY_PROTECTED)) {
			*status = 403;
			*why = "integrity-protected is set by the network only";
			return WIMS_EDENIED;
		}
		if (a.scheme == SIP_AUTH_SCHEME_BEARER) {
			bearer = true;
			*token = slice_trim(a.token68);
		}
	}
	if (!bearer)
		return 0;
	if (n > 1) {
		*status = 400;
		*why = "one Authorization header only with Bearer";
		return WIMS_EPARSE;
	}
	if (token->len == 0) {
		*status = 400;
		*why = "empty Bearer token";
		return WIMS_EPARSE;
	}
	return 1;
}

/* The claim checks are jwt.c's (one reading for a JWT and an answer); an
 * introspection answer only adds "active" and reads its claims as RFC
 * 7662 2.2 allows (JWT_CLAIMS_INTROSPECTION). */
_Static_assert(PCSCF_BEARER_MAX_BODY <= JWT_CLAIMS_MAX, "an answer we read is one jwt.c reads");

int pcscf_bearer_introspection_parse(const char *json, size_t len, const struct jwt_expect *want,
				     int64_t now, struct jwt_claims *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = "";
	if (len > PCSCF_BEARER_MAX_BODY) {
		*why = "introspection answer too large";
		return WIMS_EPARSE;
	}
	/* Parsed here for "active", again by jwt_claims_check for the
	 * claims: a few microseconds next to the HTTPS round trip, and
	 * jwt.h stays free of jansson types. */
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		*why = "introspection answer is not a JSON object";
		return WIMS_EPARSE;
	}
	/* RFC 7662 2.2: "active" is the one required member; an inactive
	 * answer need carry nothing else. */
	bool active = json_object_get(j, "active") == json_true();
	json_decref(j);
	if (!active) {
		*why = "token is not active";
		return WIMS_EAUTH;
	}
	/* An empty scope means none required here, as the [pcscf] key says;
	 * to jwt.c a scope is a token that must be present. */
	struct jwt_expect w = *want;
	if (w.scope && !w.scope[0])
		w.scope = NULL;
	return jwt_claims_check(json, len, &w, JWT_CLAIMS_INTROSPECTION, now, out, why);
}

/* Walks "NAME=VALUE" items of a conf list: 1 with name and value
 * slices, 0 at the end.  Items without '=' are skipped (conf checks them
 * at start-up). */
static int pair_next(const char **cur, struct slice *name, struct slice *value)
{
	const char *item;
	size_t n;
	while ((n = conf_list_next(cur, &item)) > 0) {
		const char *eq = memchr(item, '=', n);
		if (!eq)
			continue;
		*name = slice_trim((struct slice){item, (size_t)(eq - item)});
		*value = slice_trim((struct slice){eq + 1, n - (size_t)(eq - item) - 1});
		return 1;
	}
	return 0;
}

int pcscf_bearer_check_origin(const char *origins, const char *wwsf, struct slice origin,
			      const char **why)
{
	const char *cur = origins;
	struct slice name, value;
	bool known = false;
	while (pair_next(&cur, &name, &value) == 1) {
		if (!slice_ieq(name, slice_from_cstr(wwsf)))
			continue;
		known = true;
		if (origin.p && slice_ieq(value, origin))
			return 0;
	}
	*why = known ? "token was issued for another site" : "no Origin configured for the token's WWSF";
	return WIMS_EDENIED;
}

int pcscf_bearer_check_pool(const char *pools, const char *wwsf, const char *impi,
			    const char **why)
{
	const char *cur = pools;
	struct slice name, value;
	bool pooled = false;
	while (pair_next(&cur, &name, &value) == 1) {
		if (!slice_ieq(name, slice_from_cstr(wwsf)))
			continue;
		pooled = true;
		char glob[WIMS_IMPI_MAX];
		if (value.len >= sizeof(glob))
			continue;
		memcpy(glob, value.p, value.len);
		glob[value.len] = '\0';
		if (fnmatch(glob, impi, 0) == 0)
			return 0;
	}
	if (!pooled)
		return 0;
	*why = "IMPI is not in the WWSF's pool";
	return WIMS_EDENIED;
}

static bool claims_have_impu(const struct jwt_claims *c, struct slice uri)
{
	for (size_t i = 0; i < c->n_impus; i++)
		if (pcscf_uri_same(slice_from_cstr(c->impus[i]), uri))
			return true;
	return false;
}

int pcscf_bearer_check_impus(const struct jwt_claims *c, const struct sip_msg *reg,
			     const char **why)
{
	const struct sip_hdr *to = sip_msg_hdr(reg, SIP_HDR_TO);
	const struct sip_hdr *from = sip_msg_hdr(reg, SIP_HDR_FROM);
	struct slice uri;
	if (!to || pcscf_nameaddr_uri(to->value, &uri) != 0) {
		*why = "Bad To";
		return WIMS_EPARSE;
	}
	/* TR 33.871 REQ 2.4: the IMPU registered is one the token names. */
	if (!claims_have_impu(c, uri)) {
		*why = "To is not an identity of this token";
		return WIMS_EDENIED;
	}
	if (!from || pcscf_nameaddr_uri(from->value, &uri) != 0) {
		*why = "Bad From";
		return WIMS_EPARSE;
	}
	if (!claims_have_impu(c, uri)) {
		*why = "From is not an identity of this token";
		return WIMS_EDENIED;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The validator                                                      */
/* ------------------------------------------------------------------ */

struct url {
	char host[128];
	int port;
	char path[512];
	char hostport[160];
};

/* A held validation: waiting for keys, or for an introspection answer. */
enum preq_kind { WAIT_KEYS, WAIT_INTROSPECTION };

struct bworker;

struct preq {
	struct bworker *bw;
	enum preq_kind kind;
	pcscf_bearer_cb cb;
	void *arg;
	struct evhttp_connection *evcon;
	struct preq *prev, *next;
	uint8_t hash[32];
	size_t len;
	char token[];
};

struct bworker {
	int index;
	struct event_base *base;
	struct event *refresh;
	struct event *jwks_file_ev; /* a file "fetch", from the loop */
	struct evhttp_connection *jwks_evcon;
	struct preq *held;
	unsigned nheld;
	/* Connections whose request is over, freed from the loop: libevent
	 * frees a connection that fails to connect neither itself (even
	 * when told to) nor safely from inside its request callback. */
	struct dead_conn *dead;
	struct event *reaper;
};

struct dead_conn {
	struct evhttp_connection *c;
	struct dead_conn *next;
};

/* The current keyset with the verifications using it. */
struct keys {
	struct jwt_keyset *ks;
	int refs;
};

static struct {
	bool on;
	char *issuer, *jwks, *introspect, *audience, *scope;
	bool jwks_is_url;
	struct url jwks_url, introspect_url;
	int skew_s, jwks_refresh_s;
	int (*post)(void *, int, void (*)(void *), void *);
	void *post_arg;
	SSL_CTX *tls;
	struct pcscf_bearer_cache *cache;
	struct bworker *w;
	int nworkers;

	pthread_mutex_t mu; /* everything below */
	struct keys *keys;
	bool fetching;
	int64_t last_fetch_ms;
	unsigned loads;
} B = {.mu = PTHREAD_MUTEX_INITIALIZER};

const char *pcscf_bearer_source_name(enum pcscf_bearer_source s)
{
	switch (s) {
	case PCSCF_BEARER_CACHED:
		return "cache hit";
	case PCSCF_BEARER_VERIFIED:
		return "verified (ES256)";
	case PCSCF_BEARER_INTROSPECTED:
		return "introspected";
	default:
		return "none";
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int url_parse(const char *text, struct url *u, char *err, size_t errsz)
{
	struct evhttp_uri *p = evhttp_uri_parse(text);
	const char *scheme = p ? evhttp_uri_get_scheme(p) : NULL;
	const char *host = p ? evhttp_uri_get_host(p) : NULL;
	if (!p || !scheme || strcasecmp(scheme, "https") != 0 || !host || !host[0] ||
	    strlen(host) >= sizeof(u->host)) {
		snprintf(err, errsz, "\"%s\" is not an https://host[:port]/path URL", text);
		if (p)
			evhttp_uri_free(p);
		return WIMS_ECONF;
	}
	snprintf(u->host, sizeof(u->host), "%s", host);
	u->port = evhttp_uri_get_port(p) > 0 ? evhttp_uri_get_port(p) : 443;
	const char *path = evhttp_uri_get_path(p);
	const char *query = evhttp_uri_get_query(p);
	snprintf(u->path, sizeof(u->path), "%s%s%s", path && path[0] ? path : "/",
		 query ? "?" : "", query ? query : "");
	if (strchr(u->host, ':'))
		snprintf(u->hostport, sizeof(u->hostport), "[%s]:%d", u->host, u->port);
	else
		snprintf(u->hostport, sizeof(u->hostport), "%s:%d", u->host, u->port);
	evhttp_uri_free(p);
	return 0;
}

/* --- keys --- */

static struct keys *keys_get(void)
{
	pthread_mutex_lock(&B.mu);
	struct keys *k = B.keys;
	if (k)
		k->refs++;
	pthread_mutex_unlock(&B.mu);
	return k;
}

static void keys_put_locked(struct keys *k)
{
	if (k && --k->refs == 0) {
		jwt_keyset_free(k->ks);
		free(k);
	}
}

static void keys_put(struct keys *k)
{
	pthread_mutex_lock(&B.mu);
	keys_put_locked(k);
	pthread_mutex_unlock(&B.mu);
}

/* Parse a JWKS and make it current.  0 or the parse error. */
static int keys_install(const char *json, size_t len, const char *from)
{
	struct jwt_keyset *ks;
	const char *why;
	int rc = jwt_keyset_from_json(json, len, &ks, &why);
	if (rc) {
		WIMS_WARN(LOG, "JWKS from %s refused: %s", from, why[0] ? why : wims_strerror(rc));
		return rc;
	}
	struct keys *k = calloc(1, sizeof(*k));
	if (!k) {
		jwt_keyset_free(ks);
		return WIMS_ENOMEM;
	}
	k->ks = ks;
	k->refs = 1;
	pthread_mutex_lock(&B.mu);
	struct keys *old = B.keys;
	B.keys = k;
	B.loads++;
	keys_put_locked(old);
	pthread_mutex_unlock(&B.mu);
	WIMS_INFO(LOG, "JWKS from %s: %zu ES256 keys", from, jwt_keyset_count(ks));
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return WIMS_EIO;
	char *buf = malloc(PCSCF_BEARER_MAX_BODY + 1);
	if (!buf) {
		fclose(f);
		return WIMS_ENOMEM;
	}
	size_t n = fread(buf, 1, PCSCF_BEARER_MAX_BODY + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > PCSCF_BEARER_MAX_BODY) {
		free(buf);
		return bad ? WIMS_EIO : WIMS_ETOOBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int keys_load_file(void)
{
	char *buf;
	size_t n;
	int rc = read_file(B.jwks, &buf, &n);
	if (rc) {
		WIMS_WARN(LOG, "JWKS file %s: %s", B.jwks,
			  rc == WIMS_EIO ? strerror(errno) : wims_strerror(rc));
		return rc;
	}
	rc = keys_install(buf, n, B.jwks);
	free(buf);
	return rc;
}

static void keys_ready(void *arg);

static void reap(struct bworker *bw)
{
	while (bw->dead) {
		struct dead_conn *d = bw->dead;
		bw->dead = d->next;
		evhttp_connection_free(d->c);
		free(d);
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	reap(arg);
}

/* c's request is over (its callback runs now): free it soon. */
static void conn_done(struct bworker *bw, struct evhttp_connection *c)
{
	struct dead_conn *d = malloc(sizeof(*d));
	if (!d)
		return; /* leaked rather than freed under libevent's feet */
	d->c = c;
	d->next = bw->dead;
	bw->dead = d;
	struct timeval now = {0, 0};
	if (bw->reaper)
		evtimer_add(bw->reaper, &now);
}

/* A fetch ended (keys installed or not): every worker retries what it
 * held for keys. */
static void fetch_done(void)
{
	pthread_mutex_lock(&B.mu);
	B.fetching = false;
	pthread_mutex_unlock(&B.mu);
	for (int i = 0; i < B.nworkers; i++)
		if (B.post(B.post_arg, i, keys_ready, &B.w[i]) != 0)
			WIMS_WARN(LOG, "worker %d: cannot post the JWKS refresh", i);
}

static void jwks_file_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	WIMS_UNUSED(arg);
	keys_load_file();
	fetch_done();
}

static void jwks_http_cb(struct evhttp_request *req, void *arg)
{
	struct bworker *bw = arg;
	conn_done(bw, bw->jwks_evcon);
	bw->jwks_evcon = NULL;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
	size_t n = in ? evbuffer_get_length(in) : 0;
	if (code != 200) {
		WIMS_WARN(LOG, "JWKS https://%s%s: %s %d", B.jwks_url.hostport, B.jwks_url.path,
			  code ? "HTTP" : "no answer", code);
	} else if (n > PCSCF_BEARER_MAX_BODY) {
		WIMS_WARN(LOG, "JWKS https://%s%s: over %d bytes", B.jwks_url.hostport,
			  B.jwks_url.path, PCSCF_BEARER_MAX_BODY);
	} else {
		keys_install((const char *)evbuffer_pullup(in, (ev_ssize_t)n), n, B.jwks);
	}
	fetch_done();
}

static struct evhttp_connection *waf_conn(struct bworker *bw, const struct url *u)
{
	struct evhttp_connection *c = http_client_conn_new(bw->base, u->host, u->port, B.tls, NULL);
	if (!c)
		return NULL;
	evhttp_connection_set_timeout(c, PCSCF_BEARER_HTTP_TIMEOUT_S);
	evhttp_connection_set_retries(c, 0);
	return c;
}

/* Fetch the JWKS on bw's loop; B.fetching is set by the caller. */
static void jwks_fetch(struct bworker *bw)
{
	if (!B.jwks_is_url) {
		/* read from the loop like an answer, so a held REGISTER takes
		 * the same way whatever the source */
		struct timeval now = {0, 0};
		if (!bw->jwks_file_ev)
			bw->jwks_file_ev = evtimer_new(bw->base, jwks_file_cb, bw);
		if (!bw->jwks_file_ev || evtimer_add(bw->jwks_file_ev, &now) != 0)
			fetch_done();
		return;
	}
	struct evhttp_connection *c = waf_conn(bw, &B.jwks_url);
	struct evhttp_request *req = c ? evhttp_request_new(jwks_http_cb, bw) : NULL;
	if (!req) {
		if (c)
			evhttp_connection_free(c);
		WIMS_WARN(LOG, "JWKS %s: cannot connect", B.jwks);
		fetch_done();
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", B.jwks_url.hostport);
	evhttp_add_header(h, "Accept", "application/json");
	if (evhttp_make_request(c, req, EVHTTP_REQ_GET, B.jwks_url.path) != 0) {
		evhttp_connection_free(c);
		WIMS_WARN(LOG, "JWKS %s: request failed", B.jwks);
		fetch_done();
		return;
	}
	bw->jwks_evcon = c;
}

/* Start a fetch unless one runs; force ignores the rate limit.  Returns
 * true if a fetch is running now (started here or before). */
static bool fetch_maybe(struct bworker *bw, bool force)
{
	int64_t now = mono_ms();
	pthread_mutex_lock(&B.mu);
	bool running = B.fetching;
	/* never loaded: try again sooner, the WAF may just have started */
	int64_t gap = B.loads ? PCSCF_BEARER_KID_REFRESH_MS : 1000;
	bool start = !running && (force || B.last_fetch_ms == 0 || now - B.last_fetch_ms >= gap);
	if (start) {
		B.fetching = true;
		/* only the fetches unknown kids cause are rate-limited */
		if (!force)
			B.last_fetch_ms = now;
	}
	pthread_mutex_unlock(&B.mu);
	if (start)
		jwks_fetch(bw);
	return running || start;
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	struct bworker *bw = arg;
	fetch_maybe(bw, true);
	struct timeval tv = {B.jwks_refresh_s, 0};
	if (B.jwks_refresh_s > 0)
		event_add(bw->refresh, &tv);
}

/* --- held validations --- */

static void held_add(struct bworker *bw, struct preq *p)
{
	p->bw = bw;
	p->prev = NULL;
	p->next = bw->held;
	if (bw->held)
		bw->held->prev = p;
	bw->held = p;
	bw->nheld++;
}

static void held_remove(struct preq *p)
{
	struct bworker *bw = p->bw;
	if (p->prev)
		p->prev->next = p->next;
	else
		bw->held = p->next;
	if (p->next)
		p->next->prev = p->prev;
	bw->nheld--;
}

static struct preq *preq_new(struct bworker *bw, enum preq_kind kind, const char *token,
			     size_t len, const uint8_t hash[32], pcscf_bearer_cb cb, void *arg)
{
	if (bw->nheld >= PCSCF_BEARER_MAX_HELD)
		return NULL;
	struct preq *p = calloc(1, sizeof(*p) + len + 1);
	if (!p)
		return NULL;
	p->kind = kind;
	p->cb = cb;
	p->arg = arg;
	p->len = len;
	memcpy(p->token, token, len);
	memcpy(p->hash, hash, 32);
	held_add(bw, p);
	return p;
}

static struct jwt_expect expect_of(void)
{
	return (struct jwt_expect){
		.iss = B.issuer,
		.aud = B.audience,
		.scope = B.scope[0] ? B.scope : NULL,
		.skew_s = B.skew_s,
	};
}

/* jwt.c's reasons are static strings; this one marks the retry case. */
static bool is_unknown_kid(int rc, const char *why)
{
	return rc == WIMS_EAUTH && strcmp(why, "unknown kid") == 0;
}

/* Verify a JWT with the current keys (cached on success).  Returns as
 * pcscf_bearer_validate (never WIMS_EAGAIN). */
static int verify_jwt(const char *token, size_t len, const uint8_t hash[32], int64_t now,
		      struct jwt_claims *out, const char **why)
{
	struct jwt_expect want = expect_of();
	struct keys *k = keys_get();
	if (!k) {
		*why = "unknown kid";
		return WIMS_EAUTH;
	}
	int rc = jwt_verify_access_token(k->ks, token, len, &want, now, out, why);
	keys_put(k);
	if (rc == 0) {
		pcscf_bearer_cache_put(B.cache, hash, out, now);
		return 0;
	}
	if (rc == WIMS_EDENIED || rc == WIMS_EAUTH)
		return rc;
	if (rc == WIMS_ENOMEM) {
		*why = "out of memory";
		return WIMS_EIO;
	}
	return WIMS_EAUTH; /* EPARSE, ETOOBIG: still an invalid token */
}

static void keys_ready(void *arg)
{
	struct bworker *bw = arg;
	struct preq *p = bw->held;
	while (p) {
		struct preq *next = p->next;
		if (p->kind == WAIT_KEYS) {
			held_remove(p);
			struct jwt_claims c;
			const char *why = "";
			int rc = verify_jwt(p->token, p->len, p->hash, (int64_t)time(NULL), &c, &why);
			if (is_unknown_kid(rc, why)) {
				pthread_mutex_lock(&B.mu);
				unsigned loads = B.loads;
				pthread_mutex_unlock(&B.mu);
				if (!loads) {
					rc = WIMS_EIO;
					why = "WAF keys unavailable";
				}
			}
			p->cb(p->arg, rc, rc == 0 ? &c : NULL, why, PCSCF_BEARER_VERIFIED);
			free(p);
		}
		p = next;
	}
}

/* --- introspection (RFC 7662, W5) --- */

static void introspect_cb(struct evhttp_request *req, void *arg)
{
	struct preq *p = arg;
	conn_done(p->bw, p->evcon);
	p->evcon = NULL;
	held_remove(p);
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
	size_t n = in ? evbuffer_get_length(in) : 0;
	struct jwt_claims c;
	const char *why = "";
	int rc;
	int64_t now = (int64_t)time(NULL);
	if (code != 200) {
		WIMS_WARN(LOG, "introspection at %s: %s %d", B.introspect,
			  code ? "HTTP" : "no answer", code);
		rc = WIMS_EIO;
		why = "token introspection failed";
	} else {
		struct jwt_expect want = expect_of();
		rc = pcscf_bearer_introspection_parse(
			n <= PCSCF_BEARER_MAX_BODY ? (const char *)evbuffer_pullup(in, (ev_ssize_t)n)
						   : "",
			n <= PCSCF_BEARER_MAX_BODY ? n : PCSCF_BEARER_MAX_BODY + 1, &want, now, &c,
			&why);
		if (rc == WIMS_EPARSE) {
			WIMS_WARN(LOG, "introspection at %s: %s", B.introspect, why);
			rc = WIMS_EIO;
			why = "token introspection failed";
		} else if (rc == 0) {
			pcscf_bearer_cache_put(B.cache, p->hash, &c, now);
		}
	}
	p->cb(p->arg, rc, rc == 0 ? &c : NULL, why, PCSCF_BEARER_INTROSPECTED);
	free(p);
}

/* RFC 7662 2.1: token=<form-urlencoded token>. */
static int introspect_start(struct bworker *bw, struct preq *p)
{
	struct evhttp_connection *c = waf_conn(bw, &B.introspect_url);
	struct evhttp_request *req = c ? evhttp_request_new(introspect_cb, p) : NULL;
	if (!req) {
		if (c)
			evhttp_connection_free(c);
		return WIMS_EIO;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", B.introspect_url.hostport);
	evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
	evhttp_add_header(h, "Accept", "application/json");
	char *enc = evhttp_encode_uri(p->token);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	int bad = !enc || evbuffer_add_printf(out, "token=%s&token_type_hint=access_token", enc) < 0;
	free(enc);
	if (bad || evhttp_make_request(c, req, EVHTTP_REQ_POST, B.introspect_url.path) != 0) {
		evhttp_connection_free(c);
		return WIMS_EIO;
	}
	p->evcon = c;
	return 0;
}

/* --- the entry points --- */

int pcscf_bearer_validate(int index, const char *token, size_t len, int64_t now,
			  struct jwt_claims *out, enum pcscf_bearer_source *src, const char **why,
			  pcscf_bearer_cb cb, void *arg)
{
	struct bworker *bw = &B.w[index];
	uint8_t hash[32];
	*src = PCSCF_BEARER_NONE;
	*why = "";
	if (len > JWT_TOKEN_MAX) {
		*why = "token too long";
		return WIMS_EAUTH;
	}
	if (jwt_token_hash(token, len, hash) != 0) {
		*why = "cannot hash the token";
		return WIMS_EIO;
	}
	if (pcscf_bearer_cache_get(B.cache, hash, now, B.skew_s, out) == 0) {
		*src = PCSCF_BEARER_CACHED;
		return 0;
	}
	if (!memchr(token, '.', len)) {
		/* Not a JWS: an opaque token only the WAF can read. */
		if (!B.introspect[0]) {
			*why = "opaque tokens are not accepted here";
			return WIMS_EAUTH;
		}
		struct preq *p = preq_new(bw, WAIT_INTROSPECTION, token, len, hash, cb, arg);
		if (!p) {
			*why = "too many registrations waiting";
			return WIMS_ETOOBIG;
		}
		if (introspect_start(bw, p) != 0) {
			held_remove(p);
			free(p);
			*why = "token introspection failed";
			return WIMS_EIO;
		}
		return WIMS_EAGAIN;
	}
	int rc = verify_jwt(token, len, hash, now, out, why);
	if (rc == 0) {
		*src = PCSCF_BEARER_VERIFIED;
		return 0;
	}
	if (!is_unknown_kid(rc, *why))
		return rc;
	/* A key we do not have: maybe the WAF rotated.  Hold the REGISTER
	 * for one refresh (rate-limited: forged kids must not make us hammer
	 * the WAF). */
	if (bw->nheld >= PCSCF_BEARER_MAX_HELD) {
		*why = "too many registrations waiting";
		return WIMS_ETOOBIG;
	}
	/* the list is this worker's own: adding before the fetch starts
	 * means its keys_ready post cannot miss this entry */
	struct preq *p = preq_new(bw, WAIT_KEYS, token, len, hash, cb, arg);
	if (!p) {
		*why = "out of memory";
		return WIMS_EIO;
	}
	if (fetch_maybe(bw, false)) {
		WIMS_INFO(LOG, "token with an unknown kid: REGISTER held for a JWKS refresh");
		return WIMS_EAGAIN;
	}
	held_remove(p);
	free(p);
	WIMS_DEBUG(LOG, "token with an unknown kid: the JWKS was refreshed less than %d s ago",
		  PCSCF_BEARER_KID_REFRESH_MS / 1000);
	pthread_mutex_lock(&B.mu);
	unsigned loads = B.loads;
	pthread_mutex_unlock(&B.mu);
	if (!loads) {
		*why = "WAF keys unavailable";
		return WIMS_EIO;
	}
	return WIMS_EAUTH;
}

static int post_direct(void *post_arg, int worker, void (*fn)(void *), void *arg)
{
	WIMS_UNUSED(post_arg);
	WIMS_UNUSED(worker);
	fn(arg);
	return 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int pcscf_bearer_start(const struct pcscf_bearer_conf *conf, int nworkers, char *err,
		       size_t errsz)
{
	pcscf_bearer_stop();
	B.issuer = dup_or_empty(conf->issuer);
	B.jwks = dup_or_empty(conf->jwks);
	B.introspect = dup_or_empty(conf->introspect);
	B.audience = dup_or_empty(conf->audience);
	B.scope = dup_or_empty(conf->scope);
	B.w = calloc((size_t)(nworkers > 0 ? nworkers : 1), sizeof(*B.w));
	B.cache = pcscf_bearer_cache_new((size_t)(conf->cache_entries > 0 ? conf->cache_entries : 0));
	if (!B.issuer || !B.jwks || !B.introspect || !B.audience || !B.scope || !B.w || !B.cache) {
		pcscf_bearer_stop();
		snprintf(err, errsz, "out of memory");
		return WIMS_ENOMEM;
	}
	B.nworkers = nworkers;
	B.skew_s = conf->skew_s;
	B.jwks_refresh_s = conf->jwks_refresh_s;
	B.post = conf->post ? conf->post : post_direct;
	B.post_arg = conf->post_arg;
	B.on = B.jwks[0] != '\0';
	if (!B.on)
		return 0;
	/* a URL (only https: the keys decide who may register) or a path */
	B.jwks_is_url = strstr(B.jwks, "://") != NULL;
	int rc = 0;
	if (B.jwks_is_url)
		rc = url_parse(B.jwks, &B.jwks_url, err, errsz);
	if (!rc && B.introspect[0])
		rc = url_parse(B.introspect, &B.introspect_url, err, errsz);
	if (!rc && (B.jwks_is_url || B.introspect[0])) {
		/* W5 over TLS, the WAF verified against waf_ca; our client
		 * certificate says who asks (RFC 7662 2.1). */
		B.tls = tls_client_ctx_new(conf->ca && conf->ca[0] ? conf->ca : NULL, true, err, errsz);
		if (!B.tls)
			rc = WIMS_ECONF;
		if (!rc && conf->client_cert && conf->client_cert[0] &&
		    tls_ctx_use_cert(B.tls, conf->client_cert, conf->client_key, err, errsz) != 0)
			rc = WIMS_ECONF;
	}
	if (rc) {
		pcscf_bearer_stop();
		return rc;
	}
	if (!B.jwks_is_url)
		keys_load_file();
	return 0;
}

void pcscf_bearer_stop(void)
{
	free(B.issuer);
	free(B.jwks);
	free(B.introspect);
	free(B.audience);
	free(B.scope);
	B.issuer = B.jwks = B.introspect = B.audience = B.scope = NULL;
	free(B.w);
	B.w = NULL;
	B.nworkers = 0;
	pcscf_bearer_cache_free(B.cache);
	B.cache = NULL;
	SSL_CTX_free(B.tls);
	B.tls = NULL;
	pthread_mutex_lock(&B.mu);
	keys_put_locked(B.keys);
	B.keys = NULL;
	B.fetching = false;
	B.last_fetch_ms = 0;
	B.loads = 0;
	pthread_mutex_unlock(&B.mu);
	B.on = false;
}

bool pcscf_bearer_enabled(void)
{
	return B.on;
}

int pcscf_bearer_worker_start(int index, struct event_base *base)
{
	struct bworker *bw = &B.w[index];
	bw->index = index;
	bw->base = base;
	bw->reaper = evtimer_new(base, reap_cb, bw);
	if (!bw->reaper)
		return WIMS_ENOMEM;
	if (!B.on || index != 0)
		return 0;
	/* Worker 0 keeps the keys fresh: a URL a second after start (the
	 * demo starts the WAF after us; a REGISTER before that fetches at
	 * once), then every jwks_refresh_s. */
	struct timeval tv = {B.jwks_is_url ? 1 : B.jwks_refresh_s, 0};
	if (tv.tv_sec > 0) {
		bw->refresh = evtimer_new(base, refresh_cb, bw);
		if (!bw->refresh || event_add(bw->refresh, &tv) != 0)
			return WIMS_ENOMEM;
	}
	return 0;
}

void pcscf_bearer_worker_stop(int index)
{
	if (!B.w)
		return;
	struct bworker *bw = &B.w[index];
	if (bw->refresh)
		event_free(bw->refresh);
	bw->refresh = NULL;
	if (bw->jwks_file_ev) {
		if (evtimer_pending(bw->jwks_file_ev, NULL)) {
			pthread_mutex_lock(&B.mu);
			B.fetching = false;
			pthread_mutex_unlock(&B.mu);
		}
		event_free(bw->jwks_file_ev);
	}
	bw->jwks_file_ev = NULL;
	if (bw->jwks_evcon) {
		evhttp_connection_free(bw->jwks_evcon);
		bw->jwks_evcon = NULL;
		pthread_mutex_lock(&B.mu);
		B.fetching = false;
		pthread_mutex_unlock(&B.mu);
	}
	while (bw->held) {
		struct preq *p = bw->held;
		held_remove(p);
		if (p->evcon)
			evhttp_connection_free(p->evcon);
		p->cb(p->arg, WIMS_ECLOSED, NULL, "shutting down", PCSCF_BEARER_NONE);
		free(p);
	}
	reap(bw);
	if (bw->reaper)
		event_free(bw->reaper);
	bw->reaper = NULL;
}

struct pcscf_bearer_cache *pcscf_bearer_cache(void)
{
	return B.cache;
}

unsigned pcscf_bearer_jwks_loads(void)
{
	pthread_mutex_lock(&B.mu);
	unsigned n = B.loads;
	pthread_mutex_unlock(&B.mu);
	return n;
}

size_t pcscf_bearer_key_count(void)
{
	struct keys *k = keys_get();
	size_t n = k ? jwt_keyset_count(k->ks) : 0;
	keys_put(k);
	return n;
}
