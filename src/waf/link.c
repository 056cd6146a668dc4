/*
 * link.c - identity linking in the WAF (TR 33.871 REQ 2.5, Annex C
 * mechanism M2); the interface is link.h.
 *
 *	web user / WWSF              WAF                     S-CSCF      subscriber's client
 *	POST /link impu  ------->  code = 8 random digits
 *	                           store_link_request(SHA-256(code))
 *	                           MESSAGE "...is NNNNNNNN..." ---->  ------> (registered IMPU)
 *	                   <------ 202 pending          <---- 200  <------
 *	(the subscriber reads the code on the IMS device)
 *	POST /link/confirm code -> store_link_confirm: the link holds, and the
 *	                           WWSF it grants is allowed for the IMPI
 *
 * Who asks: a WAF account signed in with its session (idp "waf", the
 * account name as web identity, nothing granted), or a WWSF that
 * authenticated its own web user, over mutual TLS with "subject" (idp and
 * grant = the WWSF's client id).  The code proves that whoever confirms
 * reads what is sent to the IMS identity: only the subscriber can make a
 * link, and only confirmed links give tokens (store_links_confirmed).
 *
 * Secrets: the code exists in clear only in this request's memory and in
 * the MESSAGE; the store keeps its SHA-256, the log and the HTTP answers
 * never see it.  A code that failed to go out stays pending unknown to
 * anyone and expires.
 *
 * Guessing: LINK_CONFIRM_FAILURES wrong codes per source address per
 * LINK_CONFIRM_WINDOW_S, then 429.  A right code does not reset the
 * count: otherwise an attacker could confirm links of his own between
 * guesses.  The confirmation form carries no cookie-borne authority, but
 * a cross-site form could spread guesses over many victims' addresses: a
 * POST whose Origin or Sec-Fetch-Site shows another site is refused.  The
 * /link form (cookie session) carries a CSRF token bound to the user.
 *
 * Threads: one struct waf_link per worker (its store handle and SIP
 * sender); the limiters and the CSRF key are per process so that all
 * workers count together.
 */
#include "waf/link.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/ratelimit.h"
#include "core/b64url.h"
#include "core/buf.h"
#include "core/hmac.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/wims.h"
#include "sip/uri.h"
#include "store/store.h"
#include "waf/form.h"
#include "waf/link_int.h"
#include "waf/sipsend.h"

#define LOG "waf"
#define IDP_WAF "waf"
/* Where a browser without a WAF session goes from GET /link; next= asks
 * the sign-in to come back here. */
#define LINK_SIGNIN_URL "/signin?next=%2Flink"

struct waf_link {
	const struct waf_link_env *env;
	struct evhttp *http;
	struct store *st;
	struct sipsend *sip;
	char origin[256]; /* ours, from public_url: what Origin must say */
	int64_t (*now)(void);
	bool closing;
};

/* A POST /link waiting for its MESSAGE's answer. */
struct link_pending {
	struct waf_link *l;
	struct evhttp_request *req;
	bool html;
	char web_id[WIMS_WEB_ID_MAX];
	char idp[WIMS_WWSF_ID_MAX];
	char impu[WIMS_IMPU_MAX];
};

/* --- per process: limiters and the CSRF key --- */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned shared_refs;
static struct ratelimit *confirm_limit; /* wrong codes per source IP */
static struct ratelimit *impu_limit;    /* MESSAGEs per IMPU */
static struct ratelimit *user_limit;    /* link requests per web identity */

static pthread_once_t csrf_once = PTHREAD_ONCE_INIT;
static uint8_t csrf_key[32];
static bool csrf_key_ok;

static void csrf_key_init(void)
{
	csrf_key_ok = RAND_bytes(csrf_key, sizeof(csrf_key)) == 1;
}

static int shared_get(void)
{
	int rc = 0;
	pthread_mutex_lock(&shared_lock);
	if (shared_refs == 0) {
		confirm_limit = ratelimit_new(0, LINK_CONFIRM_FAILURES, LINK_CONFIRM_WINDOW_S);
		impu_limit = ratelimit_new(0, LINK_REQUESTS_PER_IMPU, LINK_REQUEST_WINDOW_S);
		user_limit = ratelimit_new(0, LINK_REQUESTS_PER_USER, LINK_REQUEST_WINDOW_S);
		if (!confirm_limit || !impu_limit || !user_limit) {
			ratelimit_free(confirm_limit);
			ratelimit_free(impu_limit);
			ratelimit_free(user_limit);
			confirm_limit = impu_limit = user_limit = NULL;
			rc = WIMS_ENOMEM;
		}
	}
	if (!rc)
		shared_refs++;
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

static void shared_put(void)
{
	pthread_mutex_lock(&shared_lock);
	if (shared_refs && --shared_refs == 0) {
		ratelimit_free(confirm_limit);
		ratelimit_free(impu_limit);
		ratelimit_free(user_limit);
		confirm_limit = impu_limit = user_limit = NULL;
	}
	pthread_mutex_unlock(&shared_lock);
}

/* --- the pieces without I/O (link_int.h) --- */

int waf_link_code_new(char out[LINK_CODE_DIGITS + 1])
{
	/* 42 * 10^8 is the largest multiple of 10^8 below 2^32: values at
	 * or above it are drawn again, so every code is equally likely. */
	const uint32_t limit = 4200000000u;
	for (int i = 0; i < 64; i++) {
		uint8_t r[4];
		if (RAND_bytes(r, sizeof(r)) != 1)
			return WIMS_EIO;
		uint32_t v = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
		OPENSSL_cleanse(r, sizeof(r));
		if (v < limit) {
			snprintf(out, LINK_CODE_DIGITS + 1, "%08u", (unsigned)(v % 100000000u));
			return 0;
		}
	}
	return WIMS_EIO; /* 64 draws above the limit: the source is broken */
}

int waf_link_code_normalize(struct slice typed, char out[LINK_CODE_DIGITS + 1])
{
	size_t n = 0;
	for (size_t i = 0; i < typed.len; i++) {
		char c = typed.p[i];
		if (c == ' ' || c == '-')
			continue;
		if (c < '0' || c > '9' || n == LINK_CODE_DIGITS) {
			out[0] = '\0';
			return WIMS_EPARSE;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != LINK_CODE_DIGITS) {
		out[0] = '\0';
		return WIMS_EPARSE;
	}
	return 0;
}

void waf_link_code_hash(const char *code, uint8_t out[32])
{
	unsigned int len = 32;
	if (EVP_Digest(code, strlen(code), out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32); /* matches no stored code (those are real hashes) */
}

int waf_link_csrf_token(const char *user, char out[LINK_CSRF_LEN + 1])
{
	pthread_once(&csrf_once, csrf_key_init);
	out[0] = '\0';
	if (!csrf_key_ok)
		return WIMS_EIO;
	struct slice parts[2] = {SLICE_LIT("wims-link-csrf"), slice_from_cstr(user)};
	uint8_t mac[HMAC_SHA256_LEN];
	int rc = hmac_sha256(csrf_key, sizeof(csrf_key), parts, 2, mac, sizeof(mac));
	if (rc)
		return rc;
	size_t n = b64url_encode(mac, sizeof(mac), out);
	out[n] = '\0';
	return 0;
}

bool waf_link_csrf_ok(const char *user, struct slice token)
{
	char want[LINK_CSRF_LEN + 1];
	if (token.len != LINK_CSRF_LEN || waf_link_csrf_token(user, want) != 0)
		return false;
	return CRYPTO_memcmp(want, token.p, LINK_CSRF_LEN) == 0;
}

int waf_link_origin_of(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://");
	if (!p || p == url)
		return WIMS_EPARSE;
	size_t scheme = (size_t)(p - url);
	/* RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	for (size_t i = 0; i < scheme; i++) {
		char c = url[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))
			return WIMS_EPARSE;
	}
	const char *host = p + 3;
	size_t hl = strcspn(host, "/?#");
	if (hl == 0 || memchr(host, '@', hl))
		return WIMS_EPARSE; /* no authority, or userinfo: not an origin */
	if (scheme + 3 + hl >= outsz)
		return WIMS_ETOOBIG;
	size_t n = 0;
	for (size_t i = 0; i < scheme + 3 + hl; i++) {
		char c = url[i];
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
			return WIMS_EPARSE;
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return 0;
}

bool waf_link_same_origin(const char *origin, const char *sec_fetch_site,
			  const char *own_origin)
{
	if (sec_fetch_site && strcasecmp(sec_fetch_site, "same-origin") != 0 &&
	    strcasecmp(sec_fetch_site, "none") != 0)
		return false;
	/* Our pages are sent with Referrer-Policy: no-referrer, under which
	 * a browser's form POST says "Origin: null" even from our own page
	 * (Fetch, "serializing a request origin"); then the browser's
	 * Sec-Fetch-Site, checked above, is what tells. */
	if (origin && strcasecmp(origin, own_origin) != 0 &&
	    !(sec_fetch_site && strcmp(origin, "null") == 0))
		return false;
	return true;
}

int waf_link_impu_check(const char *impu, const char *domain, const char **reason)
{
	size_t n = strlen(impu);
	*reason = NULL;
	if (n == 0) {
		*reason = "impu is missing: give the IMS identity (sip:user@domain or tel:+number)";
		return WIMS_EPARSE;
	}
	if (n >= WIMS_IMPU_MAX) {
		*reason = "impu is too long";
		return WIMS_EPARSE;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)impu[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',') {
			*reason = "impu holds a character an IMS identity cannot have";
			return WIMS_EPARSE;
		}
	}
	struct sip_uri u;
	const char *why;
	if (sip_uri_parse(&u, (struct slice){impu, n}, &why) != 0) {
		*reason = "impu is not a SIP or tel URI";
		return WIMS_EPARSE;
	}
	if (u.params.len || u.headers.len || u.has_password || u.port) {
		*reason = "impu must be a plain identity, without port, parameters or headers";
		return WIMS_EPARSE;
	}
	if (u.scheme == SIP_URI_TEL) {
		bool ok = u.user.len >= 2 && u.user.p[0] == '+';
		for (size_t i = 1; ok && i < u.user.len; i++)
			ok = u.user.p[i] >= '0' && u.user.p[i] <= '9';
		if (!ok) {
			*reason = "a tel: IMS identity is a global number: tel:+digits";
			return WIMS_EPARSE;
		}
		return 0;
	}
	if (u.scheme != SIP_URI_SIP || u.user.len == 0 || !slice_ieq_cstr(u.host, domain)) {
		*reason = "impu is not an IMS identity of this operator (sip:user@domain)";
		return WIMS_EPARSE;
	}
	return 0;
}

int waf_link_message_text(struct buf *out, const char *web_id, const char *idp,
			  const char *impu, const char *code, const char *public_url,
			  int lifetime_s)
{
	int minutes = (lifetime_s + 59) / 60;
	return buf_printf(out,
			  "wims: your code to link %s (%s) to %s is %s. Enter it at "
			  "%s/link/confirm within %d minute%s. If you did not ask for this, "
			  "ignore it.",
			  web_id, idp, impu, code, public_url, minutes, minutes == 1 ? "" : "s");
}

int waf_link_html_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_append_cstr(out, "&amp;"); break;
		case '<': buf_append_cstr(out, "&lt;"); break;
		case '>': buf_append_cstr(out, "&gt;"); break;
		case '"': buf_append_cstr(out, "&quot;"); break;
		case '\'': buf_append_cstr(out, "&#39;"); break;
		default: buf_append(out, s, 1);
		}
	}
	return out->err;
}

void waf_link_set_clock(struct waf_link *l, int64_t (*now)(void))
{
	l->now = now;
}

static int64_t link_now(const struct waf_link *l)
{
	return l->now ? l->now() : (int64_t)time(NULL);
}

/* --- HTTP plumbing --- */

static const char *in_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* A header value for the log: printable ASCII, cut to outsz, "-" when
 * absent (it is the peer's text: no control characters reach the log). */
static const char *log_text(const char *v, char *out, size_t outsz)
{
	if (!v)
		return "-";
	size_t n = 0;
	for (; *v && n + 1 < outsz; v++)
		out[n++] = ((unsigned char)*v >= 0x20 && (unsigned char)*v < 0x7f) ? *v : '?';
	out[n] = '\0';
	return out;
}

static bool wants_html(struct evhttp_request *req)
{
	const char *accept = in_header(req, "Accept");
	return accept && strstr(accept, "text/html") != NULL;
}

static void peer_of(struct evhttp_request *req, char *out, size_t outsz)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;
	if (c)
		evhttp_connection_get_peer(c, &addr, &port);
	snprintf(out, outsz, "%s", addr ? addr : "?");
}

static void send_json(struct evhttp_request *req, int code, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s) {
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'");
	struct evbuffer *b = evbuffer_new();
	if (b)
		evbuffer_add(b, s, strlen(s));
	evhttp_send_reply(req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	free(s);
}

/* A page whose whole body is one escaped paragraph (and a link back). */
static void send_text_page(struct waf_link *l, struct evhttp_request *req, int code,
			   const char *title, const char *text, const char *link_href,
			   const char *link_text)
{
	struct buf b = BUF_INIT;
	buf_append_cstr(&b, "<p>");
	waf_link_html_escape(&b, text);
	buf_append_cstr(&b, "</p>");
	if (link_href) {
		buf_printf(&b, "<p><a href=\"%s\">", link_href);
		waf_link_html_escape(&b, link_text);
		buf_append_cstr(&b, "</a></p>");
	}
	if (b.err)
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	else
		l->env->send_page(req, code, title, buf_cstr(&b), l->env->arg);
	buf_free(&b);
}

/* An error for POST /link: a page for a browser form, JSON otherwise. */
static void link_fail(struct waf_link *l, struct evhttp_request *req, bool html, int code,
		      const char *msg)
{
	if (html) {
		send_text_page(l, req, code, "Linking refused", msg, "/link", "Back");
		return;
	}
	send_json(req, code, json_pack("{s:s}", "error", msg));
}

/* The body of a POST as a form (urlencoded only: the one encoding a
 * browser form and our WWSF both send).  0, or an HTTP status with *msg. */
static int read_form(struct evhttp_request *req, struct waf_form *form, char *body,
		     size_t bodysz, const char **msg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len >= bodysz) {
		*msg = "request body too large";
		return 413;
	}
	const char *ct = in_header(req, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';' && ct[33] != ' ')) {
		*msg = "the body must be application/x-www-form-urlencoded";
		return 415;
	}
	if (evbuffer_copyout(in, body, len) != (ev_ssize_t)len) {
		*msg = "could not read the body";
		return 400;
	}
	body[len] = '\0';
	const char *why = NULL;
	if (waf_form_parse((struct slice){body, len}, form, &why) != 0) {
		*msg = why ? why : "malformed form";
		return 400;
	}
	return 0;
}

/* --- POST /link --- */

static void pending_done(void *arg, const struct sipsend_result *r)
{
	struct link_pending *p = arg;
	struct waf_link *l = p->l;
	if (l->closing) {
		/* the worker is stopping: evhttp answers (or drops) its own
		 * requests when it is freed */
		free(p);
		return;
	}
	char msg[WIMS_IMPU_MAX + 200];
	if (r->err == 0 && r->status >= 200 && r->status < 300) {
		WIMS_INFO(LOG, "link %s (%s) -> %s: code sent (MESSAGE %d)", p->web_id, p->idp,
			  p->impu, r->status);
		char url[512];
		snprintf(url, sizeof(url), "%s/link/confirm", l->env->public_url);
		int lifetime = l->env->code_lifetime_s;
		if (p->html) {
			struct buf b = BUF_INIT;
			buf_append_cstr(&b, "<p>A code was sent by SIP message to <b>");
			waf_link_html_escape(&b, p->impu);
			buf_printf(&b, "</b>. Enter it on the <a href=\"/link/confirm\">confirmation "
				       "page</a> within %d minute%s.</p>",
				   (lifetime + 59) / 60, (lifetime + 59) / 60 == 1 ? "" : "s");
			if (b.err)
				evhttp_send_reply(p->req, 500, "Internal Server Error", NULL);
			else
				l->env->send_page(p->req, 202, "Code sent", buf_cstr(&b), l->env->arg);
			buf_free(&b);
		} else {
			send_json(p->req, 202,
				  json_pack("{s:s, s:s, s:s, s:i}", "status", "pending", "confirm_url",
					    url, "impu", p->impu, "expires_in", lifetime));
		}
	} else if (r->err == 0 && (r->status == 404 || r->status == 480)) {
		WIMS_INFO(LOG, "link %s (%s) -> %s: not registered (MESSAGE %d)", p->web_id, p->idp,
			  p->impu, r->status);
		snprintf(msg, sizeof(msg), "%s is not registered: register a device first", p->impu);
		link_fail(l, p->req, p->html, 409, msg);
	} else if (r->err == 0) {
		WIMS_INFO(LOG, "link %s (%s) -> %s: MESSAGE refused (%d %s)", p->web_id, p->idp,
			  p->impu, r->status, r->reason);
		snprintf(msg, sizeof(msg), "the IMS core refused the message to %s (%d %s)", p->impu,
			 r->status, r->reason);
		link_fail(l, p->req, p->html, 502, msg);
	} else {
		WIMS_WARN(LOG, "link %s (%s) -> %s: no answer from the S-CSCF (%s)", p->web_id,
			  p->idp, p->impu, wims_strerror(r->err));
		link_fail(l, p->req, p->html, 502,
			  r->err == WIMS_ETIMEOUT ? "the IMS core did not answer in time"
						  : "the IMS core could not be reached");
	}
	free(p);
}

/* Printable ASCII only: a web identity goes into a SIP body, HTML and the
 * log. */
static bool web_id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void post_link(struct waf_link *l, struct evhttp_request *req)
{
	const struct waf_link_env *env = l->env;
	struct waf_form form;
	char body[LINK_MAX_BODY];
	const char *msg = NULL;
	bool html = false;
	struct link_pending *p = calloc(1, sizeof(*p));
	if (!p) {
		evhttp_send_reply(req, 503, "Service Unavailable", NULL);
		return;
	}
	int code = read_form(req, &form, body, sizeof(body), &msg);
	if (code) {
		link_fail(l, req, wants_html(req), code, msg);
		goto out;
	}

	char grant[WIMS_WWSF_ID_MAX] = "";
	if (waf_form_has(&form, "subject")) {
		/* a WWSF vouching for a web user it authenticated (W4, mTLS) */
		int rc = env->mtls_client(req, p->idp, sizeof(p->idp), env->arg);
		if (rc == WIMS_EDENIED) {
			link_fail(l, req, false, 403, "this client is blocked");
			goto out;
		}
		if (rc) {
			link_fail(l, req, false, 401,
				  "subject needs a WWSF authenticated with its client certificate");
			goto out;
		}
		if (waf_form_get(&form, "subject", p->web_id, sizeof(p->web_id)) < 0 ||
		    !web_id_ok(p->web_id)) {
			link_fail(l, req, false, 400,
				  "subject must be a web identity of printable characters, at most 127");
			goto out;
		}
		snprintf(grant, sizeof(grant), "%s", p->idp);
	} else {
		/* a WAF account, signed in with its session cookie */
		html = wants_html(req);
		if (env->session_user(req, p->web_id, sizeof(p->web_id), env->arg) != 0) {
			link_fail(l, req, html, 401, "sign in to your operator account first");
			goto out;
		}
		char tok[LINK_CSRF_LEN + 2];
		int n = waf_form_get(&form, "csrf", tok, sizeof(tok));
		if (!waf_link_same_origin(in_header(req, "Origin"), in_header(req, "Sec-Fetch-Site"),
					  l->origin) ||
		    n < 0 || !waf_link_csrf_ok(p->web_id, (struct slice){tok, (size_t)n})) {
			char peer[64];
			peer_of(req, peer, sizeof(peer));
			char o[80];
			WIMS_WARN(LOG, "POST /link for %s from %s (Origin %s): CSRF check failed",
				  p->web_id, peer, log_text(in_header(req, "Origin"), o, sizeof(o)));
			link_fail(l, req, html, 403,
				  "this form did not come from the operator's page: reload it and try "
				  "again");
			goto out;
		}
		snprintf(p->idp, sizeof(p->idp), "%s", IDP_WAF);
	}
	p->html = html;

	int n = waf_form_get(&form, "impu", p->impu, sizeof(p->impu));
	const char *why = NULL;
	if (n == WIMS_ENOTFOUND)
		p->impu[0] = '\0';
	if ((n < 0 && n != WIMS_ENOTFOUND) || waf_link_impu_check(p->impu, env->domain, &why) != 0) {
		link_fail(l, req, html, 400, why ? why : "impu is not a valid IMS identity");
		goto out;
	}

	/* Each accepted request sends a MESSAGE to a person: bounded per
	 * IMPU and per asking identity. */
	uint64_t now = (uint64_t)link_now(l);
	char ukey[WIMS_WEB_ID_MAX + WIMS_WWSF_ID_MAX + 2];
	snprintf(ukey, sizeof(ukey), "%s\n%s", p->idp, p->web_id);
	if (ratelimit_check(impu_limit, slice_from_cstr(p->impu), now) ||
	    ratelimit_check(user_limit, slice_from_cstr(ukey), now)) {
		WIMS_INFO(LOG, "link %s (%s) -> %s: too many requests", p->web_id, p->idp, p->impu);
		link_fail(l, req, html, 429, "too many link requests: try again in 10 minutes");
		goto out;
	}

	char digits[LINK_CODE_DIGITS + 1];
	uint8_t hash[32];
	int rc = WIMS_EAGAIN;
	for (int i = 0; i < 4 && rc == WIMS_EAGAIN; i++) {
		if ((rc = waf_link_code_new(digits)) != 0)
			break;
		waf_link_code_hash(digits, hash);
		rc = store_link_request(l->st, p->web_id, p->idp, p->impu, grant, hash,
					(int64_t)now + env->code_lifetime_s, (int64_t)now);
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc) {
		OPENSSL_cleanse(digits, sizeof(digits));
		char m[WIMS_IMPU_MAX + WIMS_WEB_ID_MAX + 64];
		switch (rc) {
		case WIMS_ENOTFOUND:
			link_fail(l, req, html, 404, "unknown IMS identity");
			break;
		case WIMS_EEXIST:
			snprintf(m, sizeof(m), "%s is already linked to %s", p->web_id, p->impu);
			link_fail(l, req, html, 409, m);
			break;
		case WIMS_EINVAL:
		case WIMS_ETOOBIG:
			link_fail(l, req, html, 400, "identity too long");
			break;
		default:
			WIMS_ERROR(LOG, "link %s (%s) -> %s: store: %s", p->web_id, p->idp, p->impu,
				   wims_strerror(rc));
			link_fail(l, req, html, 503, "the subscriber store is unavailable");
		}
		goto out;
	}
	ratelimit_fail(impu_limit, slice_from_cstr(p->impu), now);
	ratelimit_fail(user_limit, slice_from_cstr(ukey), now);

	struct buf text = BUF_INIT;
	waf_link_message_text(&text, p->web_id, p->idp, p->impu, digits, env->public_url,
			      env->code_lifetime_s);
	OPENSSL_cleanse(digits, sizeof(digits));
	rc = text.err ? text.err
		      : sipsend_message(l->sip, p->impu, "text/plain;charset=UTF-8", buf_slice(&text),
					pending_done, p);
	if (text.p)
		OPENSSL_cleanse(text.p, text.cap);
	buf_free(&text);
	if (rc) {
		WIMS_WARN(LOG, "link %s (%s) -> %s: MESSAGE not sent: %s", p->web_id, p->idp, p->impu,
			  wims_strerror(rc));
		link_fail(l, req, html, 502, "the IMS core could not be reached");
		goto out;
	}
	p->l = l;
	p->req = req;
	return; /* pending_done answers */
out:
	free(p);
}

/* --- GET /link --- */

struct links_page {
	struct buf *b;
	unsigned n;
};

static int list_link(void *arg, const struct store_link *link)
{
	struct links_page *lp = arg;
	buf_append_cstr(lp->b, lp->n++ ? ", <b>" : "<b>");
	waf_link_html_escape(lp->b, link->impu);
	buf_append_cstr(lp->b, "</b>");
	return 0;
}

static void get_link(struct waf_link *l, struct evhttp_request *req)
{
	char user[WIMS_WEB_ID_MAX], tok[LINK_CSRF_LEN + 1];
	if (l->env->session_user(req, user, sizeof(user), l->env->arg) != 0) {
		if (wants_html(req)) {
			/* a browser: to the WAF's sign-in, which may bring it back */
			evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
					  LINK_SIGNIN_URL);
			evhttp_send_reply(req, 303, "See Other", NULL);
			return;
		}
		send_text_page(l, req, 401, "Link an IMS identity",
			       "Sign in to your operator account first.", "/signin", "Sign in");
		return;
	}
	if (waf_link_csrf_token(user, tok) != 0) {
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	struct buf b = BUF_INIT;
	buf_append_cstr(&b, "<p>Signed in as <b>");
	waf_link_html_escape(&b, user);
	buf_append_cstr(&b, "</b>. Linked IMS identities: ");
	struct links_page lp = {&b, 0};
	store_links_confirmed(l->st, user, IDP_WAF, list_link, &lp);
	if (!lp.n)
		buf_append_cstr(&b, "none");
	buf_printf(&b,
		   ".</p>\n"
		   "<form method=\"post\" action=\"/link\">\n"
		   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		   "<label>IMS identity <input name=\"impu\" required "
		   "placeholder=\"sip:name@",
		   tok);
	waf_link_html_escape(&b, l->env->domain);
	buf_append_cstr(&b,
			"\"></label>\n"
			"<button type=\"submit\">Send me a code</button>\n"
			"</form>\n"
			"<p>The code goes to that identity by SIP message: a device must be "
			"registered with it. Then enter it on the "
			"<a href=\"/link/confirm\">confirmation page</a>.</p>\n");
	if (b.err)
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	else
		l->env->send_page(req, 200, "Link an IMS identity", buf_cstr(&b), l->env->arg);
	buf_free(&b);
}

static void link_cb(struct evhttp_request *req, void *arg)
{
	struct waf_link *l = arg;
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		get_link(l, req);
		return;
	case EVHTTP_REQ_POST:
		post_link(l, req);
		return;
	default:
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, POST");
		send_text_page(l, req, 405, "Method not allowed", "Use GET or POST.", NULL, NULL);
	}
}

/* --- /link/confirm --- */

static const char confirm_form[] =
	"<form method=\"post\" action=\"/link/confirm\">\n"
	"<label>Code <input name=\"code\" required inputmode=\"numeric\" "
	"autocomplete=\"one-time-code\" maxlength=\"16\" pattern=\"[0-9 \\-]{8,16}\"></label>\n"
	"<button type=\"submit\">Confirm</button>\n"
	"</form>\n";

static void get_confirm(struct waf_link *l, struct evhttp_request *req)
{
	struct buf b = BUF_INIT;
	buf_append_cstr(&b, "<p>Enter the code you received as a SIP message on your IMS "
			    "device. It links a web identity to your IMS identity: enter it "
			    "only if you asked for this link.</p>\n");
	buf_append_cstr(&b, confirm_form);
	if (b.err)
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	else
		l->env->send_page(req, 200, "Confirm a link", buf_cstr(&b), l->env->arg);
	buf_free(&b);
}

static void post_confirm(struct waf_link *l, struct evhttp_request *req)
{
	char peer[64];
	peer_of(req, peer, sizeof(peer));
	if (!waf_link_same_origin(in_header(req, "Origin"), in_header(req, "Sec-Fetch-Site"),
				  l->origin)) {
		char o[80], sfs[40];
		WIMS_WARN(LOG, "POST /link/confirm from %s: cross-site (Origin %s, Sec-Fetch-Site %s), "
			  "refused", peer, log_text(in_header(req, "Origin"), o, sizeof(o)),
			  log_text(in_header(req, "Sec-Fetch-Site"), sfs, sizeof(sfs)));
		send_text_page(l, req, 403, "Refused",
			       "A code is accepted only from the operator's own confirmation page.",
			       "/link/confirm", "Go to the confirmation page");
		return;
	}
	uint64_t now = (uint64_t)link_now(l);
	struct slice key = slice_from_cstr(peer);
	if (ratelimit_check(confirm_limit, key, now)) {
		WIMS_INFO(LOG, "POST /link/confirm from %s: too many wrong codes (429)", peer);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "600");
		send_text_page(l, req, 429, "Too many attempts",
			       "Too many wrong codes from your address: try again in 10 minutes.",
			       NULL, NULL);
		return;
	}
	struct waf_form form;
	char body[LINK_MAX_BODY];
	const char *msg = NULL;
	int code = read_form(req, &form, body, sizeof(body), &msg);
	if (code) {
		send_text_page(l, req, code, "Refused", msg, "/link/confirm", "Back");
		return;
	}
	char typed[64], digits[LINK_CODE_DIGITS + 1];
	int n = waf_form_get(&form, "code", typed, sizeof(typed));
	int rc = n < 0 ? WIMS_EPARSE : waf_link_code_normalize((struct slice){typed, (size_t)n}, digits);
	OPENSSL_cleanse(typed, sizeof(typed));
	OPENSSL_cleanse(body, sizeof(body));
	struct store_link link;
	if (!rc) {
		uint8_t hash[32];
		waf_link_code_hash(digits, hash);
		OPENSSL_cleanse(digits, sizeof(digits));
		rc = store_link_confirm(l->st, hash, (int64_t)now, &link);
		OPENSSL_cleanse(hash, sizeof(hash));
	}
	if (rc == WIMS_EPARSE || rc == WIMS_ENOTFOUND) {
		int lim = ratelimit_fail(confirm_limit, key, now);
		WIMS_INFO(LOG, "POST /link/confirm from %s: code not valid%s", peer,
			  lim ? " (now blocked)" : "");
		send_text_page(l, req, 400, "Code not valid",
			       "code not valid: it is wrong, expired or already used.",
			       "/link/confirm", "Try again");
		return;
	}
	if (rc) {
		WIMS_ERROR(LOG, "POST /link/confirm: store: %s", wims_strerror(rc));
		send_text_page(l, req, 503, "Unavailable", "The subscriber store is unavailable.",
			       NULL, NULL);
		return;
	}
	WIMS_INFO(LOG, "link %s (%s) -> %s (%s) confirmed from %s%s%s", link.web_id, link.idp,
		  link.impu, link.impi, peer, link.wwsf_grant[0] ? ", allows " : "",
		  link.wwsf_grant);
	struct buf b = BUF_INIT;
	buf_append_cstr(&b, "<p>Linked: the web identity <b>");
	waf_link_html_escape(&b, link.web_id);
	buf_append_cstr(&b, "</b> (");
	if (strcmp(link.idp, IDP_WAF) == 0)
		buf_append_cstr(&b, "operator account");
	else
		waf_link_html_escape(&b, link.idp);
	buf_append_cstr(&b, ") is now linked to the IMS identity <b>");
	waf_link_html_escape(&b, link.impu);
	buf_append_cstr(&b, "</b>.</p>\n<p>");
	if (link.wwsf_grant[0]) {
		buf_append_cstr(&b, "The web service <b>");
		waf_link_html_escape(&b, link.wwsf_grant);
		buf_append_cstr(&b, "</b> may now register you with IMS.");
	} else {
		buf_append_cstr(&b, "No web service was granted access by this link.");
	}
	buf_append_cstr(&b, "</p>\n");
	if (b.err)
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	else
		l->env->send_page(req, 200, "Link confirmed", buf_cstr(&b), l->env->arg);
	buf_free(&b);
}

static void confirm_cb(struct evhttp_request *req, void *arg)
{
	struct waf_link *l = arg;
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		get_confirm(l, req);
		return;
	case EVHTTP_REQ_POST:
		post_confirm(l, req);
		return;
	default:
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, POST");
		send_text_page(l, req, 405, "Method not allowed", "Use GET or POST.", NULL, NULL);
	}
}

/* --- attach / detach --- */

struct waf_link *waf_link_attach(struct evhttp *http, struct event_base *base,
				 const struct waf_link_env *env, char *err, size_t errsz)
{
	if (!http || !base || !env || !env->domain || !env->hss_db || !env->cscf_host ||
	    !env->public_url || !env->session_user || !env->mtls_client || !env->send_page ||
	    env->code_lifetime_s <= 0) {
		snprintf(err, errsz, "waf link: incomplete environment");
		return NULL;
	}
	struct waf_link *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	l->env = env;
	l->http = http;
	if (waf_link_origin_of(env->public_url, l->origin, sizeof(l->origin)) != 0) {
		snprintf(err, errsz, "waf link: public URL %s is not scheme://host[:port]",
			 env->public_url);
		free(l);
		return NULL;
	}
	if (shared_get() != 0) {
		snprintf(err, errsz, "out of memory");
		free(l);
		return NULL;
	}
	char serr[256];
	if (store_open(env->hss_db, &l->st, serr, sizeof(serr)) != 0) {
		snprintf(err, errsz, "waf link: HSS store %s: %s", env->hss_db, serr);
		goto fail;
	}
	l->sip = sipsend_new(base, env->cscf_host, env->cscf_port, env->domain, 0, err, errsz);
	if (!l->sip)
		goto fail;
	if (evhttp_set_cb(http, "/link", link_cb, l) != 0) {
		snprintf(err, errsz, "waf link: /link is already handled");
		goto fail;
	}
	if (evhttp_set_cb(http, "/link/confirm", confirm_cb, l) != 0) {
		evhttp_del_cb(http, "/link");
		snprintf(err, errsz, "waf link: /link/confirm is already handled");
		goto fail;
	}
	return l;
fail:
	sipsend_free(l->sip);
	store_close(l->st);
	shared_put();
	free(l);
	return NULL;
}

void waf_link_detach(struct waf_link *l)
{
	if (!l)
		return;
	l->closing = true;
	evhttp_del_cb(l->http, "/link");
	evhttp_del_cb(l->http, "/link/confirm");
	sipsend_free(l->sip); /* pending requests end in pending_done, closing */
	store_close(l->st);
	shared_put();
	free(l);
}
