/*
 * oauth_http.c - the WWSF as OAuth client of the WAF (W4, TR 33.871
 * 6.1.2, 6.1.3; shared contract: tna.md section 6).
 *
 *	GET  /oauth/start     -> 302 to the WAF's /authorize (code flow, PKCE
 *	                         S256, state), + the wims_oauth cookie
 *	GET  /oauth/callback  ?code&state -> code exchanged at the WAF's /token
 *	                         over mutual TLS, token kept in the session,
 *	                         302 to /; an HTML page with the reason otherwise
 *	GET  /oauth/token     -> {"access_token","impu","impi","impus",
 *	                         "expires_in","wwsf","via"} of the session
 *	POST /oauth/token     -> same, asked with client credentials and
 *	                         subject=<user> for a user signed in here (W4)
 *	POST /link {"impu"}   -> the WAF's /link with subject=<user> (Annex C M2)
 *	POST /pool/session    -> a pool IMPI for the session (scenario 3) and a
 *	                         client-credentials token with impi=<IMPI>
 *
 * Requests to the WAF are asynchronous: the browser's request waits (at
 * most WWSF_W4_TIMEOUT_S) while an evhttp client on the same worker's
 * event_base talks to the WAF; each such exchange is an op on the
 * worker's list, so that a worker stopping can drop them.  The connection
 * to the WAF is freed by us, from an event right after its request's
 * callback: libevent 2.1's free-on-completion does not free a connection
 * whose connect or TLS handshake failed, and freeing it inside the
 * callback is not safe on every path.  evhttp keeps a
 * browser's request whose connection dropped until it is answered (it
 * detaches it instead of freeing it), so answering late is safe.
 *
 * Cookies: wims_oauth (the pre-session cookie binding state and verifier
 * to this browser) is SameSite=Lax, because the callback is a top-level
 * navigation coming from the WAF's site; Path=/oauth/ and ten minutes.
 * The session cookie stays SameSite=Strict.  The state and the verifier
 * never leave the WWSF except to the WAF (RFC 7636: the verifier only in
 * the token request, over mutual TLS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "core/http.h"
#include "core/log.h"
#include "core/wims.h"
#include "wwsf/isim_api.h"
#include "wwsf/oauth.h"
#include "wwsf/session.h"
#include "wwsf/wwsf_int.h"

/* A WAF that has not answered in this long will not: the person waiting
 * gets a page saying so rather than a spinning tab. */
#define WWSF_W4_TIMEOUT_S 10
/* The WAF's answers are a few hundred bytes of JSON. */
#define WWSF_W4_MAX_BODY (64 * 1024)
#define OAUTH_COOKIE "wims_oauth"
#define FORM_MAX (WWSF_TOKEN_MAX + 2048)

enum op_kind { OP_CODE, OP_SUBJECT, OP_POOL, OP_LINK };

struct wwsf_w4_op {
	struct wwsf_w4_op *next, *prev;
	struct wwsf_worker *w;
	struct wwsf_oauth *o;
	struct evhttp_request *req;      /* the browser's */
	struct evhttp_connection *conn;  /* to the WAF */
	enum op_kind kind;
	uint8_t session_key[WWSF_KEY_LEN];
	bool has_session;
	char user[WEB_USER_MAX];
	char impi[WIMS_IMPI_MAX];
	bool in_send, failed_in_send; /* evhttp may fail a request at once */
	struct event *reap;              /* frees conn once w4_done has returned */
};

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

bool wwsf_oauth_path(const char *path)
{
	return strcmp(path, "/oauth/start") == 0 || strcmp(path, "/oauth/callback") == 0 ||
	       strcmp(path, "/oauth/token") == 0 || strcmp(path, "/link") == 0 ||
	       strcmp(path, "/pool/session") == 0;
}

void wwsf_oauth_session_end(void *arg, const unsigned char *key)
{
	struct wwsf_oauth *o = arg;
	if (o->pool && wwsf_pool_release(o->pool, key) == 0)
		WIMS_INFO("wwsf", "pool: a session ended, its IMPI is free again");
}

/* --- answers --- */

static void reply_json_obj(struct evhttp_request *req, int code, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!s) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	http_reply_json(req, code, s, strlen(s));
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void reply_json_error(struct evhttp_request *req, int code, const char *msg)
{
	reply_json_obj(req, code, json_pack("{s:s}", "error", msg));
}

/* A small HTML page for the browser's own navigations (start, callback):
 * the text escaped, nothing executable. */
static void reply_page(struct evhttp_request *req, int code, const char *title, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add_printf(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<title>%s</title></head><body><h1>%s</h1><p>",
			    title, title);
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&#39;", 5); break;
		default: evbuffer_add(b, p, 1); break;
		}
	}
	evbuffer_add_printf(b, "</p><p><a href=\"/\">Back to the site</a></p></body></html>\n");
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "text/html; charset=utf-8");
	http_add_security_headers(req, "default-src 'none'", false);
	evhttp_send_reply(req, code, code == 400 ? "Bad Request" : code == 403 ? "Forbidden"
						: code == 502 ? "Bad Gateway" : "Error", b);
	evbuffer_free(b);
}

static void redirect(struct evhttp_request *req, const char *location)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
	http_add_security_headers(req, "default-src 'none'", false);
	evhttp_send_reply(req, 302, "Found", NULL);
}

static void set_cookie(struct evhttp_request *req, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", value);
}

static void clear_oauth_cookie(struct evhttp_request *req)
{
	set_cookie(req, OAUTH_COOKIE "=; Path=/oauth/; Max-Age=0; Secure; HttpOnly; SameSite=Lax");
}

/* {"access_token", ...} of a grant, as GET and POST /oauth/token and POST
 * /pool/session answer. */
static void reply_grant(struct wwsf_oauth *o, struct evhttp_request *req,
			const struct wwsf_grant *g, uint64_t now)
{
	json_t *impus = json_array();
	for (size_t i = 0; impus && i < g->nimpus; i++)
		json_array_append_new(impus, json_string(g->impus[i]));
	json_int_t left = g->expires_at > now ? (json_int_t)(g->expires_at - now) : 0;
	reply_json_obj(req, 200,
		       json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:s}", "access_token",
				 g->access_token, "token_type", "Bearer", "impu", g->impu, "impi",
				 g->impi, "impus", impus ? impus : json_array(), "expires_in", left,
				 "wwsf", o->identity, "via", g->via));
}

/* --- requests --- */

static const char *header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* A bounded, printable copy of what a client sent, for the log. */
static const char *log_safe(const char *s, char *out, size_t outsz)
{
	size_t n = 0;
	if (!s)
		return "(none)";
	for (; *s && n + 1 < outsz; s++)
		out[n++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s : '?';
	out[n] = '\0';
	return out;
}

/* CSRF: a POST must carry an Origin from the allow-list (as isim_api.c).
 * Answers 403 itself and returns false otherwise. */
static bool post_origin_ok(struct wwsf_oauth *o, struct evhttp_request *req, const char *path)
{
	const char *origin = header(req, "Origin");
	if (origin && wwsf_origin_allowed(o->api->allowed_origins, origin))
		return true;
	char safe[128];
	WIMS_INFO("wwsf", "%s: refused, Origin %s", path, log_safe(origin, safe, sizeof(safe)));
	reply_json_error(req, 403, origin ? "this origin is not allowed"
					  : "a request that changes state must carry an Origin header");
	return false;
}

/* GET /oauth/token hands out a bearer token: only to this site's own page.
 * The cookie is SameSite=Strict and the answer has no CORS headers; on top
 * of that, an Origin (sent by cross-origin fetches) must be ours and
 * Sec-Fetch-Site, when the browser sends it, must say same-origin. */
static bool same_origin_ok(struct wwsf_oauth *o, struct evhttp_request *req)
{
	const char *origin = header(req, "Origin");
	const char *site = header(req, "Sec-Fetch-Site");
	char safe[128];
	if (origin && !wwsf_origin_allowed(o->api->allowed_origins, origin)) {
		WIMS_INFO("wwsf", "/oauth/token: refused, Origin %s",
			  log_safe(origin, safe, sizeof(safe)));
		reply_json_error(req, 403, "this origin is not allowed");
		return false;
	}
	if (site && strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0) {
		WIMS_INFO("wwsf", "/oauth/token: refused, Sec-Fetch-Site %s",
			  log_safe(site, safe, sizeof(safe)));
		reply_json_error(req, 403, "the token is only given to this site's own page");
		return false;
	}
	return true;
}

/* The live session of the request's cookie, any kind.  false if none. */
static bool get_session(struct wwsf_oauth *o, struct evhttp_request *req, uint64_t now,
			struct wwsf_session_info *info)
{
	struct slice token;
	return wwsf_session_cookie_token(header(req, "Cookie"), &token) == 0 &&
	       wwsf_session_get(o->api->sessions, token, now, info) == 0;
}

/* A user signed in with an account of this site (POST /login). */
static bool account_session(struct wwsf_oauth *o, struct evhttp_request *req, uint64_t now,
			    struct wwsf_session_info *info)
{
	return get_session(o, req, now, info) && info->kind == WWSF_SESSION_ACCOUNT &&
	       web_account_exists(o->api->accounts, info->user);
}

/* The request body, at most WWSF_API_MAX_BODY bytes; false (413 sent) if
 * larger. */
static bool get_body(struct evhttp_request *req, struct slice *body)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(b);
	if (len > WWSF_API_MAX_BODY) {
		reply_json_error(req, 413, "request body too large");
		return false;
	}
	*body = (struct slice){len ? (const char *)evbuffer_pullup(b, -1) : "", len};
	return true;
}

/* --- W4: requests to the WAF --- */

static void op_unlink(struct wwsf_w4_op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		op->w->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->next = op->prev = NULL;
}

static void op_free(struct wwsf_w4_op *op)
{
	OPENSSL_cleanse(op, sizeof(*op));
	free(op);
}

static void w4_done(struct evhttp_request *resp, void *arg);

/* POSTs form to the WAF's path for op.  0, or WIMS_EIO (op is the
 * caller's to answer and free). */
static int w4_send(struct wwsf_w4_op *op, const char *path, const char *form)
{
	struct wwsf_oauth *o = op->o;
	op->conn = http_client_conn_new(op->w->base, o->waf_host, o->waf_port, o->waf_tls, NULL);
	if (!op->conn)
		return WIMS_EIO;
	evhttp_connection_set_timeout(op->conn, WWSF_W4_TIMEOUT_S);
	evhttp_connection_set_max_body_size(op->conn, WWSF_W4_MAX_BODY);
	struct evhttp_request *r = evhttp_request_new(w4_done, op);
	if (!r) {
		evhttp_connection_free(op->conn);
		return WIMS_EIO;
	}
	char host[160], uri[300];
	snprintf(host, sizeof(host), "%s:%d", o->waf_host, o->waf_port);
	snprintf(uri, sizeof(uri), "%s%s", o->waf_path, path);
	struct evkeyvalq *h = evhttp_request_get_output_headers(r);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
	evhttp_add_header(h, "Accept", "application/json");
	evhttp_add_header(h, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(r), form, strlen(form));
	op->in_send = true;
	int rc = evhttp_make_request(op->conn, r, EVHTTP_REQ_POST, uri);
	op->in_send = false;
	if (rc != 0 || op->failed_in_send) {
		evhttp_connection_free(op->conn);
		op->conn = NULL;
		return WIMS_EIO;
	}
	op->next = op->w->ops;
	if (op->next)
		op->next->prev = op;
	op->w->ops = op;
	return 0;
}

void wwsf_oauth_worker_close(struct wwsf_worker *w)
{
	while (w->ops) {
		struct wwsf_w4_op *op = w->ops;
		op_unlink(op);
		if (op->reap)
			event_free(op->reap);
		/* frees the WAF request without calling w4_done */
		evhttp_connection_free(op->conn);
		op_free(op);
	}
}

static struct wwsf_w4_op *op_new(struct wwsf_oauth *o, struct wwsf_worker *w,
				 struct evhttp_request *req, enum op_kind kind)
{
	struct wwsf_w4_op *op = calloc(1, sizeof(*op));
	if (op) {
		op->o = o;
		op->w = w;
		op->req = req;
		op->kind = kind;
	}
	return op;
}

/* The client's part of every token request: RFC 8705 2 wants client_id
 * beside the certificate. */
static int form_client(struct wwsf_oauth *o, char *form, size_t sz)
{
	form[0] = '\0';
	return wwsf_form_add(form, sz, "client_id", o->identity);
}

/* A grant to keep: the parsed token on the heap, with its via and clock. */
static struct wwsf_grant *grant_from(struct slice body, const char *via, uint64_t now,
				     const char **reason)
{
	struct wwsf_grant *g = malloc(sizeof(*g));
	if (!g) {
		*reason = "out of memory";
		return NULL;
	}
	if (wwsf_token_resp_parse(body, g, reason)) {
		free(g);
		return NULL;
	}
	g->via = via;
	g->expires_at = now + (uint64_t)g->expires_in;
	return g;
}

static void grant_drop(struct wwsf_grant *g)
{
	if (g) {
		OPENSSL_cleanse(g, sizeof(*g));
		free(g);
	}
}

/* The code flow's end: the token goes into the session the browser had at
 * /oauth/start, or a new one. */
static void finish_code(struct wwsf_w4_op *op, int code, struct slice body)
{
	struct evhttp_request *req = op->req;
	char desc[300];
	if (code == 0) {
		WIMS_WARN("wwsf", "oauth: the WAF (%s) did not answer the token request",
			  op->o->waf_url);
		reply_page(req, 502, "Sign-in failed",
			   "The operator's sign-in service (WAF) did not answer. Try again later.");
		return;
	}
	if (code != 200) {
		wwsf_waf_error_parse(body, desc, sizeof(desc));
		WIMS_INFO("wwsf", "oauth: the WAF refused the code: %d %s", code, desc);
		char text[400];
		snprintf(text, sizeof(text), "The operator's sign-in service refused: %s",
			 desc[0] ? desc : "no reason given");
		reply_page(req, code >= 400 && code < 500 ? 403 : 502, "Sign-in failed", text);
		return;
	}
	uint64_t now = now_s();
	const char *reason = NULL;
	struct wwsf_grant *g = grant_from(body, "operator", now, &reason);
	if (!g) {
		WIMS_WARN("wwsf", "oauth: token answer from the WAF: %s", reason);
		reply_page(req, 502, "Sign-in failed", reason);
		return;
	}
	struct wwsf_sessions *ss = op->o->api->sessions;
	char impi[WIMS_IMPI_MAX];
	memcpy(impi, g->impi, sizeof(impi));
	if (op->has_session && wwsf_session_grant_set(ss, op->session_key, now, g) == 0) {
		WIMS_INFO("wwsf", "oauth: token for %s kept in the browser's session", impi);
		redirect(req, "/");
		return;
	}
	char token[WWSF_SESSION_TOKEN_LEN + 1];
	uint8_t key[WWSF_KEY_LEN];
	if (wwsf_session_create_kind(ss, "waf", WWSF_SESSION_OAUTH, now, token) ||
	    wwsf_session_key(slice_from_cstr(token), key) ||
	    wwsf_session_grant_set(ss, key, now, g)) {
		grant_drop(g);
		reply_page(req, 500, "Sign-in failed", "cannot create a session");
		return;
	}
	char cookie[160];
	snprintf(cookie, sizeof(cookie),
		 WWSF_SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
	set_cookie(req, cookie);
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(cookie, sizeof(cookie));
	WIMS_INFO("wwsf", "oauth: signed in through the WAF as %s", impi);
	redirect(req, "/");
}

/* JSON endpoints: the WAF's refusal passed on with its status and reason. */
static void reply_waf_error(struct evhttp_request *req, int code, struct slice body,
			    const char *what)
{
	char desc[300], msg[400];
	if (code == 0) {
		snprintf(msg, sizeof(msg), "the operator's WAF did not answer (%s)", what);
		reply_json_error(req, 502, msg);
		return;
	}
	wwsf_waf_error_parse(body, desc, sizeof(desc));
	snprintf(msg, sizeof(msg), "the WAF refused: %s", desc[0] ? desc : "no reason given");
	reply_json_error(req, code >= 400 && code < 500 ? code : 502, msg);
}

static void finish_token(struct wwsf_w4_op *op, int code, struct slice body)
{
	struct evhttp_request *req = op->req;
	struct wwsf_oauth *o = op->o;
	bool pool = op->kind == OP_POOL;
	if (code != 200) {
		WIMS_INFO("wwsf", "%s: the WAF answered %d", pool ? "pool" : "oauth", code);
		if (pool)
			wwsf_pool_release_impi(o->pool, op->session_key, op->impi);
		reply_waf_error(req, code, body, "token");
		return;
	}
	uint64_t now = now_s();
	const char *reason = NULL;
	struct wwsf_grant *g = grant_from(body, pool ? "pool" : "wwsf-login", now, &reason);
	if (g && pool && strcmp(g->impi, op->impi) != 0) {
		reason = "the WAF's token is for another IMPI than the one asked for";
		grant_drop(g);
		g = NULL;
	}
	if (!g) {
		WIMS_WARN("wwsf", "token answer from the WAF: %s", reason);
		if (pool)
			wwsf_pool_release_impi(o->pool, op->session_key, op->impi);
		reply_json_error(req, 502, reason);
		return;
	}
	struct wwsf_grant copy = *g;
	if (wwsf_session_grant_set(o->api->sessions, op->session_key, now, g)) {
		grant_drop(g);
		OPENSSL_cleanse(&copy, sizeof(copy));
		if (pool)
			wwsf_pool_release_impi(o->pool, op->session_key, op->impi);
		reply_json_error(req, 401, "the session ended meanwhile");
		return;
	}
	if (pool)
		WIMS_INFO("wwsf", "pool: %s given to a %s session", copy.impi, op->user);
	else
		WIMS_INFO("wwsf", "oauth: token for user %s (%s) by client credentials", op->user,
			  copy.impi);
	reply_grant(o, req, &copy, now);
	OPENSSL_cleanse(&copy, sizeof(copy));
}

static void finish_link(struct wwsf_w4_op *op, int code, struct slice body,
			struct evhttp_request *resp)
{
	struct evhttp_request *req = op->req;
	const char *ctype = resp ? evhttp_find_header(evhttp_request_get_input_headers(resp),
						      "Content-Type")
				 : NULL;
	WIMS_INFO("wwsf", "link: user %s: the WAF answered %d", op->user, code);
	if (code == 0 || !ctype || strncasecmp(ctype, "application/json", 16) != 0 ||
	    code < 200 || code >= 600) {
		reply_waf_error(req, code, body, "link");
		return;
	}
	/* passed through as the WAF wrote it, after checking it is JSON */
	json_error_t jerr;
	json_t *j = json_loadb(body.p, body.len, 0, &jerr);
	if (!j) {
		reply_json_error(req, 502, "the WAF's answer is not JSON");
		return;
	}
	json_decref(j);
	http_reply_json(req, code, body.p, body.len);
}

/* After w4_done: the connection and the op go. */
static void w4_reap(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	struct wwsf_w4_op *op = arg;
	op_unlink(op);
	evhttp_connection_free(op->conn);
	event_free(op->reap);
	op_free(op);
}

static void w4_done(struct evhttp_request *resp, void *arg)
{
	struct wwsf_w4_op *op = arg;
	if (op->in_send) {
		/* failed inside evhttp_make_request: w4_send answers */
		op->failed_in_send = true;
		return;
	}
	if (op->reap)
		return; /* answered already */
	int code = resp ? evhttp_request_get_response_code(resp) : 0;
	struct slice body = {"", 0};
	if (resp) {
		struct evbuffer *b = evhttp_request_get_input_buffer(resp);
		size_t len = evbuffer_get_length(b);
		if (len > 0)
			body = (struct slice){(const char *)evbuffer_pullup(b, -1), len};
	}
	switch (op->kind) {
	case OP_CODE: finish_code(op, code, body); break;
	case OP_SUBJECT:
	case OP_POOL: finish_token(op, code, body); break;
	case OP_LINK: finish_link(op, code, body, resp); break;
	}
	if (body.len)
		OPENSSL_cleanse((void *)body.p, body.len);
	op->req = NULL;
	op->reap = evtimer_new(op->w->base, w4_reap, op);
	if (!op->reap) {
		/* out of memory: the op stays listed until the worker stops */
		WIMS_ERROR("wwsf", "W4: cannot schedule freeing a connection");
		return;
	}
	struct timeval now = {0, 0};
	evtimer_add(op->reap, &now);
}

/* --- endpoints --- */

static void oauth_start(struct wwsf_oauth *o, struct evhttp_request *req)
{
	uint64_t now = now_s();
	char cookie_tok[WWSF_PKCE_LEN + 1], challenge[WWSF_PKCE_LEN + 1];
	uint8_t cookie_key[WWSF_KEY_LEN];
	struct wwsf_session_info si;
	bool has_session = get_session(o, req, now, &si);
	struct wwsf_pending_entry pe;
	/* a fresh pre-session cookie at every start: none can be planted */
	if (wwsf_random_b64(cookie_tok) ||
	    wwsf_cookie_key(slice_from_cstr(cookie_tok), cookie_key) ||
	    wwsf_pending_put(o->pending, cookie_key, has_session ? si.key : NULL, now, &pe) ||
	    wwsf_pkce_challenge(pe.verifier, challenge)) {
		reply_page(req, 500, "Sign-in failed", "no randomness");
		return;
	}
	OPENSSL_cleanse(pe.verifier, sizeof(pe.verifier));
	char loc[2048], q[1536] = "";
	if (wwsf_form_add(q, sizeof(q), "response_type", "code") ||
	    wwsf_form_add(q, sizeof(q), "client_id", o->identity) ||
	    wwsf_form_add(q, sizeof(q), "redirect_uri", o->redirect_uri) ||
	    wwsf_form_add(q, sizeof(q), "scope", o->scope) ||
	    wwsf_form_add(q, sizeof(q), "state", pe.state) ||
	    wwsf_form_add(q, sizeof(q), "code_challenge", challenge) ||
	    wwsf_form_add(q, sizeof(q), "code_challenge_method", "S256")) {
		reply_page(req, 500, "Sign-in failed", "authorization request too long");
		return;
	}
	snprintf(loc, sizeof(loc), "%s/authorize?%s", o->waf_url, q);
	char cookie[160];
	snprintf(cookie, sizeof(cookie),
		 OAUTH_COOKIE "=%s; Path=/oauth/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax",
		 cookie_tok, WWSF_OAUTH_PENDING_TTL_S);
	set_cookie(req, cookie);
	OPENSSL_cleanse(cookie_tok, sizeof(cookie_tok));
	OPENSSL_cleanse(cookie, sizeof(cookie));
	WIMS_INFO("wwsf", "oauth: sign-in at the WAF started%s",
		  has_session ? " (for a signed-in session)" : "");
	redirect(req, loc);
}

static void oauth_callback(struct wwsf_oauth *o, struct wwsf_worker *w,
			   struct evhttp_request *req)
{
	uint64_t now = now_s();
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct slice q = slice_from_cstr(qs ? qs : "");
	char state[WWSF_PKCE_LEN + 8], code[1024], error[128], desc[300];
	clear_oauth_cookie(req);
	int sl = wwsf_form_get(q, "state", state, sizeof(state));
	int cl = wwsf_form_get(q, "code", code, sizeof(code));
	int el = wwsf_form_get(q, "error", error, sizeof(error));
	if (sl < 0 || (cl < 0 && cl != WIMS_ENOTFOUND) || (el < 0 && el != WIMS_ENOTFOUND)) {
		reply_page(req, 400, "Sign-in failed",
			   "The answer from the sign-in service is malformed (state, code or error).");
		return;
	}
	/* RFC 6749 10.12: the state must be the one this browser was given */
	struct slice ck;
	uint8_t cookie_key[WWSF_KEY_LEN];
	bool have_cookie = wwsf_cookie_token(header(req, "Cookie"), OAUTH_COOKIE, &ck) == 0 &&
			   wwsf_cookie_key(ck, cookie_key) == 0;
	struct wwsf_pending_entry pe;
	int rc = wwsf_pending_take(o->pending, have_cookie ? cookie_key : NULL,
				   (struct slice){state, (size_t)sl}, now, &pe);
	if (rc) {
		WIMS_INFO("wwsf", "oauth: callback refused: %s",
			  rc == WIMS_EDENIED ? "state was given to another browser"
					     : "unknown, expired or reused state");
		reply_page(req, 400, "Sign-in failed",
			   "This answer does not belong to a sign-in started in this browser "
			   "(unknown, expired or already used state). Start the sign-in again.");
		return;
	}
	if (el >= 0) {
		int dl = wwsf_form_get(q, "error_description", desc, sizeof(desc));
		char text[500];
		snprintf(text, sizeof(text), "The operator's sign-in service answered: %s",
			 dl > 0 ? desc : error);
		OPENSSL_cleanse(&pe, sizeof(pe));
		WIMS_INFO("wwsf", "oauth: the WAF answered error %s", error);
		reply_page(req, 403, "Sign-in failed", text);
		return;
	}
	if (cl <= 0) {
		OPENSSL_cleanse(&pe, sizeof(pe));
		reply_page(req, 400, "Sign-in failed", "The answer carries no code.");
		return;
	}
	char form[FORM_MAX];
	struct wwsf_w4_op *op = op_new(o, w, req, OP_CODE);
	if (!op || form_client(o, form, sizeof(form)) ||
	    wwsf_form_add(form, sizeof(form), "grant_type", "authorization_code") ||
	    wwsf_form_add(form, sizeof(form), "code", code) ||
	    wwsf_form_add(form, sizeof(form), "redirect_uri", o->redirect_uri) ||
	    wwsf_form_add(form, sizeof(form), "code_verifier", pe.verifier)) {
		free(op);
		OPENSSL_cleanse(&pe, sizeof(pe));
		reply_page(req, 500, "Sign-in failed", "cannot build the token request");
		return;
	}
	op->has_session = pe.has_session;
	memcpy(op->session_key, pe.session_key, WWSF_KEY_LEN);
	OPENSSL_cleanse(&pe, sizeof(pe));
	OPENSSL_cleanse(code, sizeof(code));
	rc = w4_send(op, "/token", form);
	OPENSSL_cleanse(form, sizeof(form));
	if (rc) {
		op_free(op);
		reply_page(req, 502, "Sign-in failed", "cannot reach the operator's sign-in service");
	}
}

static void oauth_token_get(struct wwsf_oauth *o, struct evhttp_request *req)
{
	uint64_t now = now_s();
	if (!same_origin_ok(o, req))
		return;
	struct wwsf_session_info si;
	if (!get_session(o, req, now, &si)) {
		reply_json_error(req, 401, "not signed in");
		return;
	}
	struct wwsf_grant g;
	if (wwsf_session_grant_copy(o->api->sessions, si.key, now, &g)) {
		reply_json_error(req, 401, "this session has no token: sign in with your operator "
					   "account first");
		return;
	}
	if (g.expires_at <= now) {
		reply_json_error(req, 401, "the token has expired: sign in again");
	} else if (strcmp(g.via, "pool") == 0 &&
		   (!o->pool || !wwsf_pool_holds(o->pool, si.key, g.impi, now))) {
		/* the hold ended ([wwsf] pool_hold_s): the IMPI may be another's */
		reply_json_error(req, 401, "the pool identity was released: ask for a new one");
	} else {
		reply_grant(o, req, &g, now);
	}
	OPENSSL_cleanse(&g, sizeof(g));
}

/* POST /oauth/token: W4 client credentials for a user this site signed in
 * (TR 33.871 6.1.2: the WWSF authenticated the user itself). */
static void oauth_token_post(struct wwsf_oauth *o, struct wwsf_worker *w,
			     struct evhttp_request *req)
{
	uint64_t now = now_s();
	if (!post_origin_ok(o, req, "/oauth/token"))
		return;
	struct wwsf_session_info si;
	if (!account_session(o, req, now, &si)) {
		reply_json_error(req, 401, "sign in to this site first");
		return;
	}
	char form[FORM_MAX];
	struct wwsf_w4_op *op = op_new(o, w, req, OP_SUBJECT);
	if (!op || form_client(o, form, sizeof(form)) ||
	    wwsf_form_add(form, sizeof(form), "grant_type", "client_credentials") ||
	    wwsf_form_add(form, sizeof(form), "subject", si.user) ||
	    wwsf_form_add(form, sizeof(form), "scope", o->scope)) {
		free(op);
		reply_json_error(req, 500, "cannot build the token request");
		return;
	}
	memcpy(op->session_key, si.key, WWSF_KEY_LEN);
	op->has_session = true;
	memcpy(op->user, si.user, sizeof(op->user));
	if (w4_send(op, "/token", form)) {
		op_free(op);
		reply_json_error(req, 502, "cannot reach the operator's WAF");
	}
}

/* POST /link {"impu"}: Annex C M2 asked by this site for its user. */
static void link_post(struct wwsf_oauth *o, struct wwsf_worker *w, struct evhttp_request *req)
{
	uint64_t now = now_s();
	if (!post_origin_ok(o, req, "/link"))
		return;
	struct wwsf_session_info si;
	if (!account_session(o, req, now, &si)) {
		reply_json_error(req, 401, "sign in to this site first");
		return;
	}
	struct slice body;
	if (!get_body(req, &body))
		return;
	char impu[WIMS_IMPU_MAX];
	const char *reason = NULL;
	if (wwsf_link_req_parse(body, impu, &reason)) {
		reply_json_error(req, 400, reason);
		return;
	}
	char form[FORM_MAX];
	struct wwsf_w4_op *op = op_new(o, w, req, OP_LINK);
	if (!op || form_client(o, form, sizeof(form)) ||
	    wwsf_form_add(form, sizeof(form), "subject", si.user) ||
	    wwsf_form_add(form, sizeof(form), "impu", impu)) {
		free(op);
		reply_json_error(req, 500, "cannot build the link request");
		return;
	}
	memcpy(op->user, si.user, sizeof(op->user));
	WIMS_INFO("wwsf", "link: user %s asks to link %s", si.user, impu);
	if (w4_send(op, "/link", form)) {
		op_free(op);
		reply_json_error(req, 502, "cannot reach the operator's WAF");
	}
}

/* POST /pool/session: scenario 3 (TR 33.871 6.1.3, REQ 3.1). */
static void pool_session(struct wwsf_oauth *o, struct wwsf_worker *w, struct evhttp_request *req)
{
	uint64_t now = now_s();
	if (wwsf_pool_size(o->pool) == 0) {
		reply_json_error(req, 404, "this site has no pool of IMS identities");
		return;
	}
	if (!post_origin_ok(o, req, "/pool/session"))
		return;
	struct wwsf_session_info si;
	bool have = get_session(o, req, now, &si);
	if (have && si.kind == WWSF_SESSION_GUEST && !o->anonymous)
		have = false;
	if (have && si.kind == WWSF_SESSION_ACCOUNT &&
	    !web_account_exists(o->api->accounts, si.user))
		have = false;
	if (!have) {
		if (!o->anonymous) {
			reply_json_error(req, 401, "sign in to this site first (no anonymous use)");
			return;
		}
		char token[WWSF_SESSION_TOKEN_LEN + 1], cookie[160];
		struct slice ts;
		if (wwsf_session_create_kind(o->api->sessions, "guest", WWSF_SESSION_GUEST, now,
					     token) ||
		    (ts = slice_from_cstr(token),
		     wwsf_session_get(o->api->sessions, ts, now, &si))) {
			reply_json_error(req, 500, "cannot create a session");
			return;
		}
		snprintf(cookie, sizeof(cookie),
			 WWSF_SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict",
			 token);
		set_cookie(req, cookie);
		OPENSSL_cleanse(token, sizeof(token));
		OPENSSL_cleanse(cookie, sizeof(cookie));
	}
	/* asked again: the token it holds, while its hold lasts */
	struct wwsf_grant g;
	if (wwsf_session_grant_copy(o->api->sessions, si.key, now, &g) == 0) {
		bool reuse = strcmp(g.via, "pool") == 0 && g.expires_at > now &&
			     wwsf_pool_holds(o->pool, si.key, g.impi, now);
		if (reuse)
			reply_grant(o, req, &g, now);
		OPENSSL_cleanse(&g, sizeof(g));
		if (reuse)
			return;
	}
	uint64_t until = now + (uint64_t)o->pool_hold_s;
	if (si.expires < until)
		until = si.expires;
	char impi[WIMS_IMPI_MAX];
	if (wwsf_pool_assign(o->pool, si.key, now, until, impi)) {
		WIMS_INFO("wwsf", "pool: exhausted (%zu IMPIs held)", wwsf_pool_held(o->pool, now));
		reply_json_error(req, 503, "pool exhausted");
		return;
	}
	char form[FORM_MAX];
	struct wwsf_w4_op *op = op_new(o, w, req, OP_POOL);
	if (!op || form_client(o, form, sizeof(form)) ||
	    wwsf_form_add(form, sizeof(form), "grant_type", "client_credentials") ||
	    wwsf_form_add(form, sizeof(form), "impi", impi) ||
	    wwsf_form_add(form, sizeof(form), "scope", o->scope)) {
		free(op);
		wwsf_pool_release_impi(o->pool, si.key, impi);
		reply_json_error(req, 500, "cannot build the token request");
		return;
	}
	memcpy(op->session_key, si.key, WWSF_KEY_LEN);
	op->has_session = true;
	memcpy(op->impi, impi, sizeof(op->impi));
	snprintf(op->user, sizeof(op->user), "%s",
		 si.kind == WWSF_SESSION_GUEST ? "guest" : si.user);
	if (w4_send(op, "/token", form)) {
		op_free(op);
		wwsf_pool_release_impi(o->pool, si.key, impi);
		reply_json_error(req, 502, "cannot reach the operator's WAF");
	}
}

void wwsf_oauth_serve(struct wwsf_oauth *o, struct wwsf_worker *w, struct evhttp_request *req,
		      const char *path)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET, post = cmd == EVHTTP_REQ_POST;
	const char *allow = NULL;
	if (strcmp(path, "/oauth/start") == 0) {
		if (get) {
			oauth_start(o, req);
			return;
		}
		allow = "GET";
	} else if (strcmp(path, "/oauth/callback") == 0) {
		if (get) {
			oauth_callback(o, w, req);
			return;
		}
		allow = "GET";
	} else if (strcmp(path, "/oauth/token") == 0) {
		if (get) {
			oauth_token_get(o, req);
			return;
		}
		if (post) {
			oauth_token_post(o, w, req);
			return;
		}
		allow = "GET, POST";
	} else if (strcmp(path, "/link") == 0) {
		if (post) {
			link_post(o, w, req);
			return;
		}
		allow = "POST";
	} else {
		if (post) {
			pool_session(o, w, req);
			return;
		}
		allow = "POST";
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	reply_json_error(req, 405, "method not allowed");
}
