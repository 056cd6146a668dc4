/*
 * session.c - the WWSF's session table; see session.h.
 *
 * Each shard is a chained hash table over a preallocated entry array with
 * a free list (as auth/ratelimit.c): nothing is allocated after
 * wwsf_sessions_new().  Entries are keyed by SHA-256 of the token's 32
 * bytes; the shard comes from the first byte, the bucket from bytes 8..16.
 */
#include "wwsf/session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/wims.h"

#define KEY_LEN 32
#define NIL (-1)

struct sess_entry {
	uint8_t key[KEY_LEN];
	char user[WEB_USER_MAX];
	uint64_t expires;
	uint64_t isim_window; /* start of the current minute of ISIM requests */
	uint32_t isim_count;
	int32_t next;
	bool used;
	enum wwsf_session_kind kind;
	struct wwsf_grant *grant; /* malloc'd, or NULL */
};

struct sess_shard {
	pthread_mutex_t lock;
	struct sess_entry *entries;
	int32_t *buckets;
	size_t cap, nbuckets, used;
	int32_t free_head;
};

struct wwsf_sessions {
	uint64_t lifetime_s;
	wwsf_session_end_fn on_end;
	void *on_end_arg;
	struct sess_shard shards[WWSF_SESSION_SHARDS];
};

struct wwsf_sessions *wwsf_sessions_new(size_t max, uint64_t lifetime_s)
{
	if (lifetime_s == 0)
		return NULL;
	if (max == 0)
		max = WWSF_SESSION_MAX_DEFAULT;
	struct wwsf_sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->lifetime_s = lifetime_s;
	size_t cap = (max + WWSF_SESSION_SHARDS - 1) / WWSF_SESSION_SHARDS;
	size_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	for (int i = 0; i < WWSF_SESSION_SHARDS; i++) {
		struct sess_shard *sh = &s->shards[i];
		pthread_mutex_init(&sh->lock, NULL);
		sh->cap = cap;
		sh->nbuckets = nb;
		sh->entries = calloc(cap, sizeof(*sh->entries));
		sh->buckets = malloc(nb * sizeof(*sh->buckets));
		if (!sh->entries || !sh->buckets) {
			wwsf_sessions_free(s);
			return NULL;
		}
		for (size_t b = 0; b < nb; b++)
			sh->buckets[b] = NIL;
		for (size_t e = 0; e < cap; e++)
			sh->entries[e].next = e + 1 < cap ? (int32_t)(e + 1) : NIL;
		sh->free_head = 0;
	}
	return s;
}

static void grant_free(struct wwsf_grant *g)
{
	if (g) {
		OPENSSL_cleanse(g, sizeof(*g));
		free(g);
	}
}

void wwsf_sessions_on_end(struct wwsf_sessions *s, wwsf_session_end_fn fn, void *arg)
{
	s->on_end = fn;
	s->on_end_arg = arg;
}

void wwsf_sessions_free(struct wwsf_sessions *s)
{
	if (!s)
		return;
	for (int i = 0; i < WWSF_SESSION_SHARDS; i++) {
		for (size_t e = 0; s->shards[i].entries && e < s->shards[i].cap; e++)
			grant_free(s->shards[i].entries[e].grant);
		if (s->shards[i].entries)
			OPENSSL_cleanse(s->shards[i].entries,
					s->shards[i].cap * sizeof(*s->shards[i].entries));
		free(s->shards[i].entries);
		free(s->shards[i].buckets);
		pthread_mutex_destroy(&s->shards[i].lock);
	}
	free(s);
}

/* The key of a token given as its cookie text: WIMS_ENOTFOUND if it is not
 * base64url of exactly 32 bytes. */
static int token_key(struct slice token, uint8_t key[KEY_LEN])
{
	uint8_t raw[WWSF_SESSION_TOKEN_BYTES];
	unsigned int n = 0;
	if (token.len != WWSF_SESSION_TOKEN_LEN ||
	    b64url_decode_exact(token.p, token.len, raw, sizeof(raw)))
		return WIMS_ENOTFOUND;
	int ok = EVP_Digest(raw, sizeof(raw), key, &n, EVP_sha256(), NULL);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok && n == KEY_LEN ? 0 : WIMS_EIO;
}

static struct sess_shard *shard_of(struct wwsf_sessions *s, const uint8_t key[KEY_LEN],
				   size_t *bucket)
{
	struct sess_shard *sh = &s->shards[key[0] % WWSF_SESSION_SHARDS];
	uint64_t h;
	memcpy(&h, key + 8, sizeof(h));
	*bucket = (size_t)h & (sh->nbuckets - 1);
	return sh;
}

/* Index of key in bucket b, with *link at the link to it; NIL if absent. */
static int32_t shard_find(struct sess_shard *sh, size_t b, const uint8_t key[KEY_LEN],
			  int32_t **link)
{
	int32_t *l = &sh->buckets[b];
	while (*l != NIL) {
		if (CRYPTO_memcmp(sh->entries[*l].key, key, KEY_LEN) == 0) {
			if (link)
				*link = l;
			return *l;
		}
		l = &sh->entries[*l].next;
	}
	return NIL;
}

static void shard_unlink(struct wwsf_sessions *s, struct sess_shard *sh, int32_t *link)
{
	int32_t e = *link;
	*link = sh->entries[e].next;
	if (s->on_end)
		s->on_end(s->on_end_arg, sh->entries[e].key);
	grant_free(sh->entries[e].grant);
	OPENSSL_cleanse(&sh->entries[e], sizeof(sh->entries[e]));
	sh->entries[e].next = sh->free_head;
	sh->free_head = e;
	sh->used--;
}

/* Remove entry e wherever it is chained. */
static void shard_remove_entry(struct wwsf_sessions *s, struct sess_shard *sh, int32_t e)
{
	size_t b;
	uint64_t h;
	memcpy(&h, sh->entries[e].key + 8, sizeof(h));
	b = (size_t)h & (sh->nbuckets - 1);
	int32_t *l = &sh->buckets[b];
	while (*l != NIL && *l != e)
		l = &sh->entries[*l].next;
	if (*l == e)
		shard_unlink(s, sh, l);
}

/* A full shard: drop the expired sessions, or failing that the one
 * closest to its end. */
static void shard_make_room(struct wwsf_sessions *s, struct sess_shard *sh, uint64_t now)
{
	int32_t oldest = NIL;
	for (size_t i = 0; i < sh->cap; i++) {
		struct sess_entry *e = &sh->entries[i];
		if (!e->used)
			continue;
		if (e->expires <= now)
			shard_remove_entry(s, sh, (int32_t)i);
		else if (oldest == NIL || e->expires < sh->entries[oldest].expires)
			oldest = (int32_t)i;
	}
	if (sh->free_head == NIL && oldest != NIL)
		shard_remove_entry(s, sh, oldest);
}

int wwsf_session_create(struct wwsf_sessions *s, const char *user, uint64_t now_s,
			char token[WWSF_SESSION_TOKEN_LEN + 1])
{
	return wwsf_session_create_kind(s, user, WWSF_SESSION_ACCOUNT, now_s, token);
}

int wwsf_session_create_kind(struct wwsf_sessions *s, const char *user,
			     enum wwsf_session_kind kind, uint64_t now_s,
			     char token[WWSF_SESSION_TOKEN_LEN + 1])
{
	if (!web_user_name_ok(slice_from_cstr(user)))
		return WIMS_EINVAL;
	uint8_t raw[WWSF_SESSION_TOKEN_BYTES], key[KEY_LEN];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return WIMS_EIO;
	token[b64url_encode(raw, sizeof(raw), token)] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	int rc = token_key(slice_from_cstr(token), key);
	if (rc)
		return rc == WIMS_ENOTFOUND ? WIMS_EIO : rc;

	size_t b;
	struct sess_shard *sh = shard_of(s, key, &b);
	pthread_mutex_lock(&sh->lock);
	if (sh->free_head == NIL)
		shard_make_room(s, sh, now_s);
	int32_t e = sh->free_head;
	struct sess_entry *ent = &sh->entries[e];
	sh->free_head = ent->next;
	memcpy(ent->key, key, KEY_LEN);
	snprintf(ent->user, sizeof(ent->user), "%s", user);
	ent->expires = now_s + s->lifetime_s;
	ent->isim_window = now_s;
	ent->isim_count = 0;
	ent->used = true;
	ent->kind = kind;
	ent->grant = NULL;
	ent->next = sh->buckets[b];
	sh->buckets[b] = e;
	sh->used++;
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

/* Find a live session by key: returns its entry with the shard locked
 * (unlock with *out_shard), or NULL unlocked.  An expired one is
 * dropped. */
static struct sess_entry *find_live_key(struct wwsf_sessions *s, const uint8_t key[KEY_LEN],
					uint64_t now_s, struct sess_shard **out_shard)
{
	size_t b;
	struct sess_shard *sh = shard_of(s, key, &b);
	pthread_mutex_lock(&sh->lock);
	int32_t *link = NULL;
	int32_t e = shard_find(sh, b, key, &link);
	if (e != NIL && sh->entries[e].expires <= now_s) {
		shard_unlink(s, sh, link);
		e = NIL;
	}
	if (e == NIL) {
		pthread_mutex_unlock(&sh->lock);
		return NULL;
	}
	*out_shard = sh;
	return &sh->entries[e];
}

static struct sess_entry *find_live(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
				    struct sess_shard **out_shard)
{
	uint8_t key[KEY_LEN];
	if (token_key(token, key))
		return NULL;
	return find_live_key(s, key, now_s, out_shard);
}

int wwsf_session_key(struct slice token, uint8_t key[WWSF_KEY_LEN])
{
	return token_key(token, key) ? WIMS_ENOTFOUND : 0;
}

int wwsf_session_get(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
		     struct wwsf_session_info *info)
{
	struct sess_shard *sh;
	struct sess_entry *e = find_live(s, token, now_s, &sh);
	if (!e)
		return WIMS_ENOTFOUND;
	memcpy(info->user, e->user, WEB_USER_MAX);
	info->kind = e->kind;
	info->expires = e->expires;
	memcpy(info->key, e->key, KEY_LEN);
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

int wwsf_session_grant_set(struct wwsf_sessions *s, const uint8_t key[WWSF_KEY_LEN],
			   uint64_t now_s, struct wwsf_grant *g)
{
	struct sess_shard *sh;
	struct sess_entry *e = find_live_key(s, key, now_s, &sh);
	if (!e)
		return WIMS_ENOTFOUND;
	grant_free(e->grant);
	e->grant = g;
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

int wwsf_session_grant_copy(struct wwsf_sessions *s, const uint8_t key[WWSF_KEY_LEN],
			    uint64_t now_s, struct wwsf_grant *out)
{
	struct sess_shard *sh;
	struct sess_entry *e = find_live_key(s, key, now_s, &sh);
	if (!e)
		return WIMS_ENOTFOUND;
	int rc = WIMS_ENOTFOUND;
	if (e->grant) {
		*out = *e->grant;
		rc = 0;
	}
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

int wwsf_session_lookup(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
			char user[WEB_USER_MAX])
{
	struct sess_shard *sh;
	struct sess_entry *e = find_live(s, token, now_s, &sh);
	if (!e)
		return WIMS_ENOTFOUND;
	memcpy(user, e->user, WEB_USER_MAX);
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

int wwsf_session_isim_allow(struct wwsf_sessions *s, struct slice token, uint64_t now_s,
			    unsigned limit)
{
	struct sess_shard *sh;
	struct sess_entry *e = find_live(s, token, now_s, &sh);
	if (!e)
		return WIMS_ENOTFOUND;
	if (now_s >= e->isim_window + 60) {
		e->isim_window = now_s;
		e->isim_count = 0;
	}
	int rc = 0;
	if (e->isim_count >= limit)
		rc = WIMS_EDENIED;
	else
		e->isim_count++;
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

int wwsf_session_delete(struct wwsf_sessions *s, struct slice token)
{
	uint8_t key[KEY_LEN];
	if (token_key(token, key))
		return WIMS_ENOTFOUND;
	size_t b;
	struct sess_shard *sh = shard_of(s, key, &b);
	pthread_mutex_lock(&sh->lock);
	int32_t *link = NULL;
	int32_t e = shard_find(sh, b, key, &link);
	if (e != NIL)
		shard_unlink(s, sh, link);
	pthread_mutex_unlock(&sh->lock);
	return e != NIL ? 0 : WIMS_ENOTFOUND;
}

size_t wwsf_session_delete_user(struct wwsf_sessions *s, const char *user)
{
	size_t n = 0;
	for (int i = 0; i < WWSF_SESSION_SHARDS; i++) {
		struct sess_shard *sh = &s->shards[i];
		pthread_mutex_lock(&sh->lock);
		for (size_t j = 0; j < sh->cap; j++) {
			if (sh->entries[j].used && sh->entries[j].kind == WWSF_SESSION_ACCOUNT &&
			    strcmp(sh->entries[j].user, user) == 0) {
				shard_remove_entry(s, sh, (int32_t)j);
				n++;
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
	return n;
}

size_t wwsf_session_count(struct wwsf_sessions *s, uint64_t now_s)
{
	size_t n = 0;
	for (int i = 0; i < WWSF_SESSION_SHARDS; i++) {
		struct sess_shard *sh = &s->shards[i];
		pthread_mutex_lock(&sh->lock);
		for (size_t j = 0; j < sh->cap; j++)
			if (sh->entries[j].used && sh->entries[j].expires > now_s)
				n++;
		pthread_mutex_unlock(&sh->lock);
	}
	return n;
}

/*
 * Cookie: name=value; name2=value2 (RFC 6265 5.4).  The first
 * wims_session=... wins; a value must be exactly a token, so a cookie
 * planted with junk around it is not taken for one.
 */
int wwsf_session_cookie_token(const char *cookie, struct slice *token)
{
	return wwsf_cookie_token(cookie, WWSF_SESSION_COOKIE, token);
}

int wwsf_cookie_token(const char *cookie, const char *cname, struct slice *token)
{
	char name[64];
	int nl = snprintf(name, sizeof(name), "%s=", cname);
	if (nl < 0 || (size_t)nl >= sizeof(name))
		return WIMS_ENOTFOUND;
	const size_t nlen = (size_t)nl;
	if (!cookie)
		return WIMS_ENOTFOUND;
	const char *p = cookie;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		size_t len = strcspn(p, ";");
		if (len > nlen && strncmp(p, name, nlen) == 0) {
			struct slice v = slice_trim((struct slice){p + nlen, len - nlen});
			if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"') {
				v.p++;
				v.len -= 2;
			}
			uint8_t raw[WWSF_SESSION_TOKEN_BYTES];
			if (v.len == WWSF_SESSION_TOKEN_LEN &&
			    b64url_decode_exact(v.p, v.len, raw, sizeof(raw)) == 0) {
				OPENSSL_cleanse(raw, sizeof(raw));
				*token = v;
				return 0;
			}
			return WIMS_ENOTFOUND;
		}
		p += len;
	}
	return WIMS_ENOTFOUND;
}
