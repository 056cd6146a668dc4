/*
 * oauth.c - PKCE, the pending-authorization table, the IMPI pool and the
 * parsers of oauth.h.
 *
 * Both tables are flat arrays searched linearly under one mutex: a pending
 * entry is touched twice per browser sign-in (a person's pace) and the
 * pool has a few IMPIs to a few hundred, so a scan of at most a few
 * thousand entries costs less than the TLS handshake of the same request
 * and needs no hash of its own.
 */
#include "wwsf/oauth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/conf.h"
#include "core/urlenc.h"
#include "core/wims.h"

int wwsf_pkce_challenge(const char *verifier, char challenge[WWSF_PKCE_LEN + 1])
{
	uint8_t md[32];
	unsigned int n = 0;
	if (!EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL) || n != 32)
		return WIMS_EIO;
	challenge[b64url_encode(md, sizeof(md), challenge)] = '\0';
	return 0;
}

int wwsf_random_b64(char out[WWSF_PKCE_LEN + 1])
{
	uint8_t raw[WWSF_PKCE_VERIFIER_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return WIMS_EIO;
	out[b64url_encode(raw, sizeof(raw), out)] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int wwsf_cookie_key(struct slice cookie, uint8_t key[WWSF_KEY_LEN])
{
	unsigned int n = 0;
	if (!EVP_Digest(cookie.p, cookie.len, key, &n, EVP_sha256(), NULL) || n != WWSF_KEY_LEN)
		return WIMS_EIO;
	return 0;
}

/* --- pending authorizations --- */

struct pending_slot {
	struct wwsf_pending_entry e;
	uint8_t cookie_key[WWSF_KEY_LEN];
	uint64_t expires; /* 0: free */
};

struct wwsf_pending {
	pthread_mutex_t lock;
	struct pending_slot *slots;
	size_t cap;
	uint64_t ttl_s;
};

struct wwsf_pending *wwsf_pending_new(size_t max, uint64_t ttl_s)
{
	struct wwsf_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cap = max ? max : WWSF_OAUTH_PENDING_MAX;
	p->ttl_s = ttl_s ? ttl_s : WWSF_OAUTH_PENDING_TTL_S;
	p->slots = calloc(p->cap, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void wwsf_pending_free(struct wwsf_pending *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p->slots, p->cap * sizeof(*p->slots));
	free(p->slots);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void slot_clear(struct pending_slot *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int wwsf_pending_put(struct wwsf_pending *p, const uint8_t cookie_key[WWSF_KEY_LEN],
		     const uint8_t *session_key, uint64_t now_s, struct wwsf_pending_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (wwsf_random_b64(out->state) || wwsf_random_b64(out->verifier))
		return WIMS_EIO;
	if (session_key) {
		memcpy(out->session_key, session_key, WWSF_KEY_LEN);
		out->has_session = true;
	}
	pthread_mutex_lock(&p->lock);
	/* a free or expired slot, else the one closest to its end */
	struct pending_slot *pick = NULL;
	for (size_t i = 0; i < p->cap; i++) {
		struct pending_slot *s = &p->slots[i];
		if (s->expires <= now_s) {
			pick = s;
			break;
		}
		if (!pick || s->expires < pick->expires)
			pick = s;
	}
	slot_clear(pick);
	pick->e = *out;
	memcpy(pick->cookie_key, cookie_key, WWSF_KEY_LEN);
	pick->expires = now_s + p->ttl_s;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int wwsf_pending_take(struct wwsf_pending *p, const uint8_t *cookie_key, struct slice state,
		      uint64_t now_s, struct wwsf_pending_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (state.len != WWSF_PKCE_LEN)
		return WIMS_ENOTFOUND;
	int rc = WIMS_ENOTFOUND;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->cap; i++) {
		struct pending_slot *s = &p->slots[i];
		if (s->expires <= now_s ||
		    CRYPTO_memcmp(s->e.state, state.p, WWSF_PKCE_LEN) != 0)
			continue;
		if (cookie_key && CRYPTO_memcmp(s->cookie_key, cookie_key, WWSF_KEY_LEN) == 0) {
			*out = s->e;
			rc = 0;
		} else {
			rc = WIMS_EDENIED;
		}
		slot_clear(s);
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

size_t wwsf_pending_count(struct wwsf_pending *p, uint64_t now_s)
{
	size_t n = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->cap; i++)
		if (p->slots[i].expires > now_s)
			n++;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* --- the pool --- */

struct pool_slot {
	char impi[WIMS_IMPI_MAX];
	uint8_t key[WWSF_KEY_LEN];
	bool held;
	uint64_t since, until;
	uint64_t released; /* when it was last freed: the longest free goes first */
};

struct wwsf_pool {
	pthread_mutex_t lock;
	struct pool_slot *slots;
	size_t n;
};

/* An IMPI as configured: printable ASCII without space, quote, comma or
 * backslash, with an '@'. */
static bool pool_impi_ok(struct slice s)
{
	if (s.len == 0 || s.len >= WIMS_IMPI_MAX || !memchr(s.p, '@', s.len))
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',')
			return false;
	}
	return true;
}

struct wwsf_pool *wwsf_pool_new(const char *list, const char **reason)
{
	struct wwsf_pool *p = calloc(1, sizeof(*p));
	if (!p) {
		*reason = "out of memory";
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	const char *cur = list ? list : "", *item;
	size_t len, count = 0;
	while ((len = conf_list_next(&cur, &item)) > 0)
		count++;
	if (count > WWSF_POOL_MAX) {
		*reason = "more IMPIs than a pool may hold (1024)";
		wwsf_pool_free(p);
		return NULL;
	}
	p->slots = calloc(count ? count : 1, sizeof(*p->slots));
	if (!p->slots) {
		*reason = "out of memory";
		wwsf_pool_free(p);
		return NULL;
	}
	cur = list ? list : "";
	while ((len = conf_list_next(&cur, &item)) > 0) {
		struct slice s = {item, len};
		if (!pool_impi_ok(s)) {
			*reason = "an item of the pool is not an IMPI (user@realm)";
			wwsf_pool_free(p);
			return NULL;
		}
		for (size_t i = 0; i < p->n; i++) {
			if (slice_eq(s, slice_from_cstr(p->slots[i].impi))) {
				*reason = "an IMPI is listed twice in the pool";
				wwsf_pool_free(p);
				return NULL;
			}
		}
		memcpy(p->slots[p->n].impi, item, len);
		p->slots[p->n].impi[len] = '\0';
		p->n++;
	}
	return p;
}

void wwsf_pool_free(struct wwsf_pool *p)
{
	if (!p)
		return;
	free(p->slots);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

size_t wwsf_pool_size(const struct wwsf_pool *p)
{
	return p ? p->n : 0;
}

static void pool_expire(struct wwsf_pool *p, uint64_t now_s)
{
	for (size_t i = 0; i < p->n; i++) {
		struct pool_slot *s = &p->slots[i];
		if (s->held && s->until <= now_s) {
			s->held = false;
			s->released = now_s;
		}
	}
}

int wwsf_pool_assign(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN], uint64_t now_s,
		     uint64_t until, char impi[WIMS_IMPI_MAX])
{
	int rc = WIMS_ENOTFOUND;
	pthread_mutex_lock(&p->lock);
	pool_expire(p, now_s);
	struct pool_slot *pick = NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct pool_slot *s = &p->slots[i];
		if (s->held && CRYPTO_memcmp(s->key, key, WWSF_KEY_LEN) == 0) {
			pick = s;
			break;
		}
		/* the one free longest, so that a released IMPI (whose old
		 * token may still be alive at the WAF) is reused last */
		if (!s->held && (!pick || pick->held || s->released < pick->released))
			pick = s;
	}
	if (pick) {
		if (!pick->held) {
			memcpy(pick->key, key, WWSF_KEY_LEN);
			pick->held = true;
			pick->since = now_s;
			pick->until = until;
		}
		memcpy(impi, pick->impi, strlen(pick->impi) + 1);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int pool_release_if(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN],
			   const char *impi)
{
	int rc = WIMS_ENOTFOUND;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++) {
		struct pool_slot *s = &p->slots[i];
		if (s->held && CRYPTO_memcmp(s->key, key, WWSF_KEY_LEN) == 0 &&
		    (!impi || strcmp(s->impi, impi) == 0)) {
			s->held = false;
			s->released = s->since > s->released ? s->since : s->released;
			memset(s->key, 0, sizeof(s->key));
			rc = 0;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int wwsf_pool_release(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN])
{
	return pool_release_if(p, key, NULL);
}

int wwsf_pool_release_impi(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN],
			   const char *impi)
{
	return pool_release_if(p, key, impi);
}

bool wwsf_pool_holds(struct wwsf_pool *p, const uint8_t key[WWSF_KEY_LEN], const char *impi,
		     uint64_t now_s)
{
	bool yes = false;
	pthread_mutex_lock(&p->lock);
	pool_expire(p, now_s);
	for (size_t i = 0; i < p->n && !yes; i++) {
		struct pool_slot *s = &p->slots[i];
		yes = s->held && CRYPTO_memcmp(s->key, key, WWSF_KEY_LEN) == 0 &&
		      strcmp(s->impi, impi) == 0;
	}
	pthread_mutex_unlock(&p->lock);
	return yes;
}

size_t wwsf_pool_held(struct wwsf_pool *p, uint64_t now_s)
{
	size_t n = 0;
	pthread_mutex_lock(&p->lock);
	pool_expire(p, now_s);
	for (size_t i = 0; i < p->n; i++)
		n += p->slots[i].held;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* --- forms --- */

int wwsf_form_get(struct slice form, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name);
	const char *p = form.p, *end = form.p + form.len;
	int rc = WIMS_ENOTFOUND;
	if (outsz == 0)
		return WIMS_ETOOBIG;
	out[0] = '\0';
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ke = eq ? eq : pe;
		/* names we look for have no escapes: compare them raw */
		if ((size_t)(ke - p) == nlen && memcmp(p, name, nlen) == 0) {
			if (rc != WIMS_ENOTFOUND)
				return WIMS_EPARSE; /* twice */
			struct slice v = eq ? (struct slice){eq + 1, (size_t)(pe - eq - 1)}
					    : (struct slice){pe, 0};
			rc = urlenc_form_decode(v, out, outsz);
			if (rc < 0)
				return rc;
		}
		p = amp ? amp + 1 : end;
	}
	return rc;
}

int wwsf_form_add(char *out, size_t outsz, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strnlen(out, outsz);
	if (n >= outsz)
		return WIMS_ETOOBIG;
	const char *parts[2] = {name, value};
	if (n > 0) {
		if (n + 1 >= outsz)
			return WIMS_ETOOBIG;
		out[n++] = '&';
	}
	for (int k = 0; k < 2; k++) {
		if (k == 1) {
			if (n + 1 >= outsz)
				return WIMS_ETOOBIG;
			out[n++] = '=';
		}
		for (const unsigned char *s = (const unsigned char *)parts[k]; *s; s++) {
			bool plain = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
				     (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
				     *s == '_' || *s == '~';
			if (n + (plain ? 1 : 3) >= outsz)
				return WIMS_ETOOBIG;
			if (plain) {
				out[n++] = (char)*s;
			} else {
				out[n++] = '%';
				out[n++] = hex[*s >> 4];
				out[n++] = hex[*s & 15];
			}
		}
	}
	out[n] = '\0';
	return 0;
}

/* --- the WAF's answers --- */

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+"
 * / "/" ) *"=" */
static bool b64token_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'))
			break;
	}
	if (i == 0)
		return false;
	for (; i < n; i++)
		if (s[i] != '=')
			return false;
	return true;
}

/* An identity the WAF names (IMPI, IMPU): printable ASCII, no space,
 * quote, backslash or angle bracket, so that it goes into SIP and logs as
 * is. */
static bool ident_ok(const char *s, size_t n, size_t max)
{
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>')
			return false;
	}
	return true;
}

static int copy_ident(json_t *o, const char *key, char *out, size_t max)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || !ident_ok(json_string_value(v), json_string_length(v), max))
		return WIMS_EPARSE;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int wwsf_token_resp_parse(struct slice body, struct wwsf_grant *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *o = body.len ? json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	int rc = WIMS_EPARSE;
	if (!json_is_object(o)) {
		*reason = "the WAF's token answer is not a JSON object";
		goto out;
	}
	json_t *v = json_object_get(o, "access_token");
	if (!json_is_string(v) || json_string_length(v) >= WWSF_TOKEN_MAX ||
	    !b64token_ok(json_string_value(v), json_string_length(v))) {
		*reason = "the WAF's answer has no usable access_token";
		goto out;
	}
	memcpy(out->access_token, json_string_value(v), json_string_length(v) + 1);
	v = json_object_get(o, "token_type");
	if (!json_is_string(v) || strcasecmp(json_string_value(v), "Bearer") != 0) {
		*reason = "the WAF's token is not a Bearer token";
		goto out;
	}
	v = json_object_get(o, "expires_in");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > 366 * 86400) {
		*reason = "the WAF's answer has no usable expires_in";
		goto out;
	}
	out->expires_in = (int64_t)json_integer_value(v);
	if (copy_ident(o, "impi", out->impi, sizeof(out->impi)) ||
	    copy_ident(o, "impu", out->impu, sizeof(out->impu))) {
		*reason = "the WAF's answer has no usable impi or impu";
		goto out;
	}
	v = json_object_get(o, "impus");
	if (v) {
		size_t i;
		json_t *e;
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > WWSF_GRANT_IMPUS_MAX) {
			*reason = "the WAF's impus is not a short list of IMPUs";
			goto out;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) || !ident_ok(json_string_value(e),
							    json_string_length(e), WIMS_IMPU_MAX)) {
				*reason = "the WAF's impus holds something that is not an IMPU";
				goto out;
			}
			memcpy(out->impus[i], json_string_value(e), json_string_length(e) + 1);
		}
		out->nimpus = json_array_size(v);
	} else {
		memcpy(out->impus[0], out->impu, sizeof(out->impu));
		out->nimpus = 1;
	}
	rc = 0;
out:
	if (o && json_is_object(o)) {
		/* jansson's copy of the token goes with the object */
		json_t *t = json_object_get(o, "access_token");
		if (json_is_string(t))
			OPENSSL_cleanse((void *)json_string_value(t), json_string_length(t));
	}
	json_decref(o);
	if (rc)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

void wwsf_waf_error_parse(struct slice body, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	out[0] = '\0';
	json_error_t jerr;
	json_t *o = body.len ? json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *v = json_object_get(o, "error_description");
	if (!json_is_string(v))
		v = json_object_get(o, "error");
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = 0;
		for (; *s && n + 1 < outsz; s++)
			out[n++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s
											 : '?';
		out[n] = '\0';
	}
	json_decref(o);
}

int wwsf_link_req_parse(struct slice body, char impu[WIMS_IMPU_MAX], const char **reason)
{
	impu[0] = '\0';
	json_error_t jerr;
	json_t *o = body.len ? json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	int rc = WIMS_EPARSE;
	if (!json_is_object(o))
		*reason = "a JSON object {\"impu\": ...} was expected";
	else if (copy_ident(o, "impu", impu, WIMS_IMPU_MAX))
		*reason = "\"impu\" (a public user identity, sip: or tel:) is missing or malformed";
	else if (strncmp(impu, "sip:", 4) != 0 && strncmp(impu, "tel:", 4) != 0)
		*reason = "\"impu\" must be a sip: or tel: URI";
	else
		rc = 0;
	json_decref(o);
	if (rc)
		impu[0] = '\0';
	return rc;
}
