/*
 * isim_api.c - /login, /session, /logout and /isim/aka of the WWSF's
 * network ISIM; the contract is in isim_api.h.
 *
 * Order of checks for a POST: method, Origin (CSRF: before anything that
 * could change state or cost a KDF run), body size, then the endpoint's
 * own.  For /isim/aka: session (401), per-session rate (429), JSON (400),
 * algorithm (400 for AKAv1), map (403), then the ISIM.  Errors are JSON
 * {"error": "..."} with a message a person can act on; the request's
 * strings go into JSON through jansson (escaped) and into the log only
 * after the name/IMPI checks, so neither can inject.
 *
 * Secrets: the password of a sign-in is cleansed as soon as it is checked,
 * never logged; the AKAv2 password leaves only in the 200 body.
 */
#include "wwsf/isim_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "auth/ratelimit.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/wims.h"
#include "isim/isim.h"

bool wwsf_api_path(const char *path)
{
	return strcmp(path, "/login") == 0 || strcmp(path, "/session") == 0 ||
	       strcmp(path, "/logout") == 0 || strcmp(path, "/isim/aka") == 0;
}

bool wwsf_origin_allowed(const char *list, const char *origin)
{
	if (!list || !origin || !*origin)
		return false;
	const char *cur = list, *item;
	size_t n;
	struct slice o = slice_from_cstr(origin);
	while ((n = conf_list_next(&cur, &item)) > 0)
		if (slice_ieq((struct slice){item, n}, o))
			return true;
	return false;
}

/* --- parsers (no I/O) --- */

static json_t *load_object(struct slice body, const char **reason)
{
	json_error_t jerr;
	if (body.len == 0) {
		*reason = "empty body: a JSON object was expected";
		return NULL;
	}
	json_t *o = json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		*reason = "malformed JSON";
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*reason = "a JSON object was expected";
		return NULL;
	}
	return o;
}

/* The string member key of o into out (NUL-terminated, < outsz bytes). */
static int get_string(json_t *o, const char *key, char *out, size_t outsz, size_t *len,
		      const char **reason, const char *missing, const char *too_long)
{
	json_t *v = json_object_get(o, key);
	if (!v || !json_is_string(v)) {
		*reason = missing;
		return WIMS_EPARSE;
	}
	size_t n = json_string_length(v);
	if (n >= outsz) {
		*reason = too_long;
		return WIMS_EPARSE;
	}
	memcpy(out, json_string_value(v), n);
	out[n] = '\0';
	if (len)
		*len = n;
	/* jansson refuses \u0000 without JSON_ALLOW_NUL: no hidden cut */
	return 0;
}

int wwsf_login_parse(struct slice body, struct wwsf_login_req *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_object(body, reason);
	if (!o)
		return WIMS_EPARSE;
	char user[WIMS_IMPI_MAX];
	size_t ulen = 0;
	int rc = get_string(o, "user", user, sizeof(user), &ulen, reason,
			    "\"user\" (a string) is missing", "\"user\" is too long");
	if (!rc)
		rc = get_string(o, "password", out->password, sizeof(out->password),
				&out->password_len, reason, "\"password\" (a string) is missing",
				"\"password\" is too long");
	/* jansson's copy of the password goes with the object */
	json_t *pw = json_object_get(o, "password");
	if (pw && json_is_string(pw))
		OPENSSL_cleanse((void *)json_string_value(pw), json_string_length(pw));
	json_decref(o);
	if (rc) {
		OPENSSL_cleanse(out->password, sizeof(out->password));
		out->password_len = 0;
		return rc;
	}
	if (web_user_name_ok((struct slice){user, ulen}))
		memcpy(out->user, user, ulen + 1);
	return 0;
}

/* An IMPI we accept from a page: printable ASCII without space, quote or
 * backslash, so that it can be logged and stored as is. */
static bool impi_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

int wwsf_aka_req_parse(struct slice body, struct wwsf_aka_req *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_object(body, reason);
	if (!o)
		return WIMS_EPARSE;
	char alg[32];
	int rc = get_string(o, "impi", out->impi, sizeof(out->impi), NULL, reason,
			    "\"impi\" (a string) is missing", "\"impi\" is too long");
	if (!rc && !impi_ok(out->impi)) {
		*reason = "\"impi\" is not a private user identity";
		rc = WIMS_EPARSE;
	}
	if (!rc)
		rc = get_string(o, "nonce", out->nonce, sizeof(out->nonce), NULL, reason,
				"\"nonce\" (a string) is missing", "\"nonce\" is too long");
	if (!rc)
		rc = get_string(o, "algorithm", alg, sizeof(alg), NULL, reason,
				"\"algorithm\" (a string) is missing",
				"\"algorithm\" is not a Digest AKA algorithm");
	json_decref(o);
	if (rc)
		return rc;
	if (strcasecmp(alg, AKA_V2_SHA256_NAME) == 0) {
		out->version = AKA_V2_SHA256;
	} else if (strcasecmp(alg, AKA_V1_MD5_NAME) == 0) {
		out->version = AKA_V1_MD5;
	} else {
		*reason = "\"algorithm\" is not a Digest AKA algorithm";
		return WIMS_EUNSUPPORTED;
	}
	return 0;
}

/* --- responses --- */

/* body is what json_pack gave: NULL (out of memory) becomes a 500. */
static void reply(struct wwsf_api_response *resp, int code, json_t *body)
{
	resp->json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	resp->code = resp->json ? code : 500;
}

static void reply_error(struct wwsf_api_response *resp, int code, const char *msg)
{
	reply(resp, code, json_pack("{s:s}", "error", msg));
}

static void reply_errorf(struct wwsf_api_response *resp, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_errorf(struct wwsf_api_response *resp, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_error(resp, code, msg);
}

void wwsf_api_response_clear(struct wwsf_api_response *resp)
{
	if (!resp)
		return;
	if (resp->json) {
		OPENSSL_cleanse(resp->json, strlen(resp->json));
		free(resp->json);
	}
	memset(resp, 0, sizeof(*resp));
}

/* What an Origin looks like in the log: printable ASCII only, bounded. */
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

/* --- subscriptions of a user --- */

struct subs_ctx {
	struct isim *isim;
	const char *domain;
	json_t *arr;
};

static int add_subscription(void *arg, const char *name, const char *impi)
{
	WIMS_UNUSED(name);
	struct subs_ctx *c = arg;
	if (!impi)
		return 0;
	struct isim_entry e;
	char impu[WIMS_IMPU_MAX], realm[WIMS_IMPI_MAX];
	memset(&e, 0, sizeof(e));
	if (c->isim && isim_get_public(c->isim, impi, &e) == 0) {
		snprintf(impu, sizeof(impu), "%s", e.impu);
		snprintf(realm, sizeof(realm), "%s", e.realm);
	} else {
		/* no ISIM entry (yet): the defaults isim-add would give */
		snprintf(impu, sizeof(impu), "sip:%s", impi);
		snprintf(realm, sizeof(realm), "%s", c->domain);
	}
	OPENSSL_cleanse(&e, sizeof(e));
	json_t *s = json_pack("{s:s, s:s, s:s}", "impi", impi, "impu", impu, "realm", realm);
	if (!s || json_array_append_new(c->arr, s))
		return WIMS_ENOMEM;
	return 0;
}

static json_t *user_body(struct wwsf_api *api, struct isim *isim, const char *user)
{
	struct subs_ctx c = {isim, api->domain, json_array()};
	if (!c.arr)
		return NULL;
	/* the callback runs under the account store's lock and calls only
	 * the ISIM store */
	if (web_account_list(api->accounts, user, add_subscription, &c)) {
		json_decref(c.arr);
		return NULL;
	}
	return json_pack("{s:s, s:o}", "user", user, "subscriptions", c.arr);
}

static void set_session_cookie(struct wwsf_api_response *resp, const char *token)
{
	/* TR 33.871 REQ 1.1 (TLS only) -> Secure; no script may read it;
	 * never sent by a request another site starts */
	snprintf(resp->set_cookie, sizeof(resp->set_cookie),
		 WWSF_SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
}

static void clear_session_cookie(struct wwsf_api_response *resp)
{
	snprintf(resp->set_cookie, sizeof(resp->set_cookie),
		 WWSF_SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

/* --- endpoints --- */

static void do_login(struct wwsf_api *api, struct isim *isim, const struct wwsf_api_request *req,
		     uint64_t now_s, struct wwsf_api_response *resp)
{
	struct wwsf_login_req lr;
	const char *reason = NULL;
	if (wwsf_login_parse(req->body, &lr, &reason)) {
		reply_error(resp, 400, reason);
		return;
	}
	/* the limiter's key is the name as sent, so unknown and malformed
	 * names are limited too (it keeps a hash, never the name) */
	struct slice key = slice_from_cstr(lr.user[0] ? lr.user : "(invalid)");
	if (ratelimit_check(api->login_limit, key, now_s)) {
		OPENSSL_cleanse(lr.password, sizeof(lr.password));
		WIMS_INFO("wwsf", "login: user %s: refused, too many failures", key.p);
		reply_errorf(resp, 429, "too many failed sign-ins for this user; wait a minute");
		return;
	}
	int rc = web_account_verify(api->accounts, slice_from_cstr(lr.user),
				     (struct slice){lr.password, lr.password_len});
	OPENSSL_cleanse(lr.password, sizeof(lr.password));
	if (rc == WIMS_EAUTH) {
		ratelimit_fail(api->login_limit, key, now_s);
		WIMS_INFO("wwsf", "login: user %s: wrong user or password", key.p);
		reply_error(resp, 401, "wrong user or password");
		return;
	}
	if (rc) {
		WIMS_ERROR("wwsf", "login: user %s: %s", key.p, wims_strerror(rc));
		reply_error(resp, 500, "account store error");
		return;
	}
	ratelimit_reset(api->login_limit, key);
	/* a new token at every sign-in (no session fixation); the one the
	 * browser had, if any, ends */
	struct slice old;
	if (wwsf_session_cookie_token(req->cookie, &old) == 0)
		wwsf_session_delete(api->sessions, old);
	char token[WWSF_SESSION_TOKEN_LEN + 1];
	rc = wwsf_session_create(api->sessions, lr.user, now_s, token);
	if (rc) {
		WIMS_ERROR("wwsf", "login: user %s: session: %s", lr.user, wims_strerror(rc));
		reply_error(resp, 500, "cannot create a session");
		return;
	}
	json_t *body = user_body(api, isim, lr.user);
	if (!body) {
		wwsf_session_delete(api->sessions, slice_from_cstr(token));
		reply_error(resp, 500, "account store error");
		return;
	}
	set_session_cookie(resp, token);
	OPENSSL_cleanse(token, sizeof(token));
	WIMS_INFO("wwsf", "login: user %s: signed in", lr.user);
	reply(resp, 200, body);
}

/* The signed-in user of the request into user; false if none. */
static bool session_user(struct wwsf_api *api, const struct wwsf_api_request *req,
			 uint64_t now_s, char user[WEB_USER_MAX], struct slice *token)
{
	struct wwsf_session_info info;
	if (wwsf_session_cookie_token(req->cookie, token) ||
	    wwsf_session_get(api->sessions, *token, now_s, &info))
		return false;
	/* a browser back from the WAF, or a pool guest, has no account here */
	if (info.kind != WWSF_SESSION_ACCOUNT)
		return false;
	memcpy(user, info.user, WEB_USER_MAX);
	/* `wims wwsf user-remove` (another process) ends the account's
	 * sessions here at their next use */
	if (!web_account_exists(api->accounts, user)) {
		wwsf_session_delete(api->sessions, *token);
		return false;
	}
	return true;
}

static void do_session(struct wwsf_api *api, struct isim *isim,
		       const struct wwsf_api_request *req, uint64_t now_s,
		       struct wwsf_api_response *resp)
{
	char user[WEB_USER_MAX];
	struct slice token;
	if (!session_user(api, req, now_s, user, &token)) {
		reply_error(resp, 401, "not signed in");
		return;
	}
	json_t *body = user_body(api, isim, user);
	if (!body) {
		reply_error(resp, 500, "account store error");
		return;
	}
	reply(resp, 200, body);
}

static void do_logout(struct wwsf_api *api, const struct wwsf_api_request *req,
		      struct wwsf_api_response *resp)
{
	struct slice token;
	if (wwsf_session_cookie_token(req->cookie, &token) == 0 &&
	    wwsf_session_delete(api->sessions, token) == 0)
		WIMS_INFO("wwsf", "logout: a session ended");
	clear_session_cookie(resp);
	resp->code = 204;
}

static void do_isim_aka(struct wwsf_api *api, struct isim *isim,
			const struct wwsf_api_request *req, uint64_t now_s,
			struct wwsf_api_response *resp)
{
	char user[WEB_USER_MAX];
	struct slice token;
	/* seeds/001 NOTE 2: the user is authenticated to the WWSF first */
	if (!session_user(api, req, now_s, user, &token)) {
		reply_error(resp, 401, "not signed in");
		return;
	}
	unsigned limit = api->isim_per_min ? api->isim_per_min : WWSF_ISIM_REQUESTS_PER_MIN;
	if (wwsf_session_isim_allow(api->sessions, token, now_s, limit)) {
		WIMS_INFO("wwsf", "isim: user %s: refused, over %u requests a minute", user,
			  limit);
		reply_errorf(resp, 429, "more than %u ISIM requests a minute; wait a minute",
			     limit);
		return;
	}
	struct wwsf_aka_req ar;
	const char *reason = NULL;
	if (wwsf_aka_req_parse(req->body, &ar, &reason)) {
		reply_error(resp, 400, reason);
		return;
	}
	if (ar.version != AKA_V2_SHA256) {
		/* TS 33.203 Annex X: AKAv1's password is RES itself, which
		 * would let the page answer for the ISIM later */
		WIMS_INFO("wwsf", "isim: user %s impi %s: refused AKAv1-MD5", user, ar.impi);
		reply_error(resp, 400, "AKAv1-MD5 would hand RES to the page; only "
				       "AKAv2-SHA-256 is served");
		return;
	}
	/* seeds/001 NOTE 4: only a subscription mapped to this user */
	if (!web_account_has_impi(api->accounts, user, slice_from_cstr(ar.impi))) {
		WIMS_INFO("wwsf", "isim: user %s impi %s: refused, not mapped to the user", user,
			  ar.impi);
		reply_errorf(resp, 403, "subscription %s is not mapped to user %s", ar.impi, user);
		return;
	}
	if (!isim) {
		reply_error(resp, 503, "the network ISIM is not available");
		return;
	}
	struct isim_answer ans;
	memset(&ans, 0, sizeof(ans));
	int rc = isim_authenticate(isim, ar.impi, ar.version, slice_from_cstr(ar.nonce), &ans);
	if (rc == WIMS_ENOTFOUND) {
		WIMS_INFO("wwsf", "isim: user %s impi %s: no ISIM entry", user, ar.impi);
		reply_errorf(resp, 404, "no ISIM holds subscription %s", ar.impi);
	} else if (rc == WIMS_EPARSE) {
		WIMS_INFO("wwsf", "isim: user %s impi %s: malformed nonce", user, ar.impi);
		reply_error(resp, 400, "nonce is not base64 of RAND and AUTN");
	} else if (rc == WIMS_EUNSUPPORTED) {
		reply_error(resp, 400, "only AKAv2-SHA-256 is served");
	} else if (rc) {
		WIMS_ERROR("wwsf", "isim: user %s impi %s: %s", user, ar.impi, wims_strerror(rc));
		reply_error(resp, 500, "ISIM store error");
	} else if (ans.outcome == ISIM_PASSWORD) {
		WIMS_INFO("wwsf", "isim: user %s impi %s: password given", user, ar.impi);
		reply(resp, 200, json_pack("{s:s}", "password", ans.password));
	} else if (ans.outcome == ISIM_RESYNC) {
		WIMS_INFO("wwsf", "isim: user %s impi %s: sequence not fresh, auts given", user,
			  ar.impi);
		reply(resp, 200, json_pack("{s:s}", "auts", ans.auts));
	} else {
		WIMS_INFO("wwsf", "isim: user %s impi %s: AUTN MAC wrong, not answered", user,
			  ar.impi);
		reply_error(resp, 409, "network authentication failed: AUTN MAC is wrong");
	}
	OPENSSL_cleanse(&ans, sizeof(ans));
}

void wwsf_api_handle(struct wwsf_api *api, struct isim *isim, const struct wwsf_api_request *req,
		     uint64_t now_s, struct wwsf_api_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	const char *path = req->path ? req->path : "";
	bool is_session = strcmp(path, "/session") == 0;
	if (!wwsf_api_path(path)) {
		reply_error(resp, 404, "no such API");
		return;
	}
	if (is_session ? (req->method != WWSF_GET && req->method != WWSF_HEAD)
		       : req->method != WWSF_POST) {
		resp->allow = is_session ? "GET, HEAD" : "POST";
		reply_errorf(resp, 405, "%s takes %s", path, resp->allow);
		return;
	}
	if (is_session) {
		do_session(api, isim, req, now_s, resp);
		return;
	}
	/* CSRF: a state-changing request must come from one of our pages */
	if (!req->origin || !*req->origin) {
		WIMS_INFO("wwsf", "%s from %s: refused, no Origin", path,
			  req->peer ? req->peer : "?");
		reply_error(resp, 403, "a request that changes state must carry an Origin header");
		return;
	}
	if (!wwsf_origin_allowed(api->allowed_origins, req->origin)) {
		char safe[128];
		log_safe(req->origin, safe, sizeof(safe));
		WIMS_INFO("wwsf", "%s from %s: refused, Origin %s", path,
			  req->peer ? req->peer : "?", safe);
		reply_errorf(resp, 403, "origin %s is not allowed", safe);
		return;
	}
	if (req->body_too_big || req->body.len > WWSF_API_MAX_BODY) {
		reply_errorf(resp, 413, "request body too large (at most %d bytes)",
			     WWSF_API_MAX_BODY);
		return;
	}
	if (strcmp(path, "/login") == 0)
		do_login(api, isim, req, now_s, resp);
	else if (strcmp(path, "/logout") == 0)
		do_logout(api, req, resp);
	else
		do_isim_aka(api, isim, req, now_s, resp);
}
