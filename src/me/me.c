/*
 * me.c - the `me` role: a local agent standing for the phone's UICC (TR
 * 33.871 6.1.1.3, TS 33.203 Annex X in shared/seeds/003).
 *
 * It holds a soft ISIM (isim.h) and serves it to web pages over loopback
 * HTTPS, after applying its access control policy to the page:
 *
 *	GET  /identity   {"identities":[{"impi","impu","realm"}...]}
 *	POST /aka        {"impi","nonce","algorithm"} -> {"password"} | {"auts"}
 *	OPTIONS          CORS preflight of the two above
 *	GET  /confirm?origin=O   the user's page: "Allow O to use your ISIM?"
 *	POST /confirm    the form of that page (one-time token)
 *
 * The policy (Annex X: "The ME applies access control policy to the WIC
 * before granting the access to the UICC application"):
 *  - the request's Origin must be on [me] allowed_origins, else 403 and no
 *    Access-Control-Allow-Origin, so the page cannot even read the refusal;
 *    browsers set Origin themselves, so a page cannot claim another's;
 *  - with confirm = yes, the user must also have allowed that Origin once
 *    on the agent's own page (kept in memory for the life of the process:
 *    a restart asks again);
 *  - at most max_requests_per_min requests per Origin;
 *  - only AKAv2-SHA-256: its password is a one-way function of RES, IK
 *    and CK; AKAv1's password is RES itself, and CK/IK/RES never leave.
 *
 * Every worker runs an evhttp on the port (SO_REUSEPORT) with TLS from the
 * [global] certificate, as the other HTTPS roles.  The ISIM handle, the
 * rate limiter and the confirmation state are shared by the workers; each
 * takes its own lock.  Each request is logged with its Origin and outcome;
 * passwords and tokens never are.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/aka.h"
#include "auth/ratelimit.h"
#include "core/b64url.h"
#include "core/conf.h"
#include "core/global.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/slice.h"
#include "core/tls.h"
#include "core/wims.h"
#include "isim/isim.h"
#include "isim/isim_cli.h"
#include "me/request.h"
#include "role.h"

/* Origins on the allow-list: a handful in practice. */
#define ME_MAX_ORIGINS 32
/* An Origin is scheme://host:port; browsers send well under 100 bytes. */
#define ME_ORIGIN_MAX 256
/* Confirmation pages served and not yet answered: one per open tab; the
 * oldest is forgotten when more are asked for. */
#define ME_CONFIRM_PENDING 32
/* A confirmation page's form is valid this long. */
#define ME_CONFIRM_TOKEN_LIFETIME_S 600
/* Origins the rate limiter tracks per minute: only allowed ones are
 * counted, so the list's length would do; the margin costs nothing. */
#define ME_RATELIMIT_KEYS 256
#define ME_TOKEN_LEN 32

struct me_conf {
	char listen[128];
	char db[512];
	char allowed_origins[WIMS_CONF_MAX_VALUE];
	bool confirm;
	bool demo_isim;
	int max_requests_per_min;
};

static struct me_conf me_conf;

static const struct conf_key me_keys[] = {
	CONF_KEY_ADDR(struct me_conf, listen, "127.0.0.1:8445",
		      "HTTPS address of the ME agent (keep it on loopback: it stands for the "
		      "phone's UICC)"),
	CONF_KEY_STR(struct me_conf, db, "", "soft ISIM store; empty: <data_dir>/me-isim.db"),
	CONF_KEY_LIST(struct me_conf, allowed_origins,
		      "https://127.0.0.1:8443, https://localhost:8443",
		      "web origins (scheme://host:port) whose pages may use the ISIM; any other "
		      "Origin gets 403"),
	CONF_KEY_BOOL(struct me_conf, confirm, "no",
		      "yes: the user must also allow each origin once on the agent's own "
		      "/confirm page (remembered until the agent restarts)"),
	CONF_KEY_BOOL(struct me_conf, demo_isim, "yes",
		      "provision dave@<domain> with the public demo keys (aka_demo_keys)"),
	CONF_KEY_INT(struct me_conf, max_requests_per_min, "120", 1, 100000,
		     "requests per minute one origin may make; beyond it 429"),
};

static const struct conf_section me_section = {
	.name = "me",
	.summary = "ME agent: the device's ISIM for the WIC over loopback HTTPS",
	.keys = me_keys,
	.nkeys = WIMS_ARRAY_LEN(me_keys),
	.target = &me_conf,
};

struct confirm_token {
	int origin;           /* index into me.origins; -1: free slot */
	uint64_t expires;     /* monotonic seconds */
	uint8_t token[ME_TOKEN_LEN];
};

/* Set up by start(); after it, only the locked parts change. */
static struct {
	struct wims_workers *workers;
	SSL_CTX *tls;
	struct evhttp **servers; /* one per worker */
	char host[128];
	int port;
	struct isim *isim; /* thread-safe: takes its own lock */
	struct ratelimit *rl;
	char origins[ME_MAX_ORIGINS][ME_ORIGIN_MAX];
	size_t norigins;
	char self[4][ME_ORIGIN_MAX]; /* the agent's own origins */
	size_t nself;
	char confirm_base[ME_ORIGIN_MAX];
	int error; /* first listener error, set by the workers */
	char errmsg[256];

	pthread_mutex_t confirm_mu; /* guards confirmed[] and pending[] */
	bool confirmed[ME_MAX_ORIGINS];
	struct confirm_token pending[ME_CONFIRM_PENDING];
} me = {.confirm_mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* An Origin (or any header value) made safe for a log line and a JSON
 * string: printable ASCII, bounded. */
static void origin_printable(const char *o, char *out, size_t outsz)
{
	if (!o) {
		snprintf(out, outsz, "(none)");
		return;
	}
	size_t n = 0;
	for (; *o && n + 1 < outsz; o++)
		out[n++] = (*o >= 0x20 && *o < 0x7f) ? *o : '?';
	out[n] = '\0';
	if (*o && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

/* Index of origin on the allow-list, or -1 (NULL, "null", not listed).
 * Origins are compared as the browser serialises them (RFC 6454 6.2). */
static int origin_index(const char *origin)
{
	if (!origin)
		return -1;
	for (size_t i = 0; i < me.norigins; i++)
		if (strcmp(origin, me.origins[i]) == 0)
			return (int)i;
	return -1;
}

static bool origin_is_self(const char *origin)
{
	for (size_t i = 0; origin && i < me.nself; i++)
		if (strcmp(origin, me.self[i]) == 0)
			return true;
	return false;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "other";
	}
}

/* One line per request: who asked (Origin), what, and how it ended. */
static void log_outcome(struct evhttp_request *req, const char *path, const char *origin,
			int code, const char *outcome)
{
	char o[ME_ORIGIN_MAX], p[128];
	origin_printable(origin, o, sizeof(o));
	origin_printable(path, p, sizeof(p));
	WIMS_INFO("me", "%s %s origin %s: %d %s", method_name(evhttp_request_get_command(req)),
		  p, o, code, outcome);
}

static void add_cors(struct evhttp_request *req, const char *origin)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
	evhttp_add_header(h, "Vary", "Origin");
}

static void reply_json(struct evhttp_request *req, int code, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!s) {
		http_reply_json(req, 500, "{\"error\":\"out of memory\"}", 25);
		return;
	}
	http_reply_json(req, code, s, strlen(s));
	free(s);
}

static void reply_error(struct evhttp_request *req, int code, const char *text)
{
	reply_json(req, code, json_pack("{s:s}", "error", text));
}

/* TS 33.203 Annex X: the ME's access control policy refuses the page. */
static void refuse_origin(struct evhttp_request *req, const char *path, const char *origin)
{
	char o[ME_ORIGIN_MAX], text[ME_ORIGIN_MAX + 80];
	if (origin) {
		origin_printable(origin, o, sizeof(o));
		snprintf(text, sizeof(text),
			 "origin %s is not allowed by the ME's access control policy", o);
	} else {
		snprintf(text, sizeof(text), "a request without an Origin header is not allowed "
					     "by the ME's access control policy");
	}
	reply_error(req, 403, text);
	log_outcome(req, path, origin, 403, "origin refused");
}

static void send_html(struct evhttp_request *req, int code, const char *reason,
		      const char *html)
{
	/* Nothing but this document and its form; never in a frame. */
	http_add_security_headers(req,
				  "default-src 'none'; form-action 'self'; base-uri 'none'; "
				  "frame-ancestors 'none'",
				  false);
	/* With no-referrer (the default of every other answer) a browser
	 * sends the form's POST with "Origin: null" (Fetch 3.1), and
	 * confirm_post could not tell our page from any other: same-origin
	 * keeps the Origin for our own form and still tells other sites
	 * nothing. */
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_remove_header(h, "Referrer-Policy");
	evhttp_add_header(h, "Referrer-Policy", "same-origin");
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, html, strlen(html));
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* s with & < > " ' escaped, for HTML text and attribute values. */
static void html_escape(const char *s, char *out, size_t outsz)
{
	size_t n = 0;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		}
		size_t len = rep ? strlen(rep) : 1;
		if (n + len + 1 > outsz)
			break;
		if (rep)
			memcpy(out + n, rep, len);
		else
			out[n] = *s;
		n += len;
	}
	out[n] = '\0';
}

/* --- confirmation (confirm = yes) --- */

static bool origin_confirmed(int idx)
{
	pthread_mutex_lock(&me.confirm_mu);
	bool ok = me.confirmed[idx];
	pthread_mutex_unlock(&me.confirm_mu);
	return ok;
}

/* A fresh one-time token for origin idx, base64url into out (44 bytes). */
static int confirm_token_new(int idx, char *out)
{
	uint8_t t[ME_TOKEN_LEN];
	if (RAND_bytes(t, sizeof(t)) != 1)
		return WIMS_EIO;
	uint64_t now = now_s();
	pthread_mutex_lock(&me.confirm_mu);
	/* A free or expired slot, else the one closest to expiry. */
	size_t slot = 0;
	for (size_t i = 0; i < ME_CONFIRM_PENDING; i++) {
		struct confirm_token *c = &me.pending[i];
		if (c->origin < 0 || c->expires <= now) {
			slot = i;
			break;
		}
		if (c->expires < me.pending[slot].expires)
			slot = i;
	}
	me.pending[slot].origin = idx;
	me.pending[slot].expires = now + ME_CONFIRM_TOKEN_LIFETIME_S;
	memcpy(me.pending[slot].token, t, sizeof(t));
	pthread_mutex_unlock(&me.confirm_mu);
	out[b64url_encode(t, sizeof(t), out)] = '\0';
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

/* Takes the token (once) and confirms origin idx.  true if it was valid. */
static bool confirm_token_take(int idx, const char *b64)
{
	uint8_t t[ME_TOKEN_LEN];
	if (!b64 || b64url_decode_exact(b64, strlen(b64), t, sizeof(t)))
		return false;
	uint64_t now = now_s();
	bool ok = false;
	pthread_mutex_lock(&me.confirm_mu);
	for (size_t i = 0; i < ME_CONFIRM_PENDING; i++) {
		struct confirm_token *c = &me.pending[i];
		if (c->origin != idx || c->expires <= now ||
		    CRYPTO_memcmp(c->token, t, sizeof(t)) != 0)
			continue;
		OPENSSL_cleanse(c, sizeof(*c));
		c->origin = -1;
		me.confirmed[idx] = true;
		ok = true;
		break;
	}
	pthread_mutex_unlock(&me.confirm_mu);
	OPENSSL_cleanse(t, sizeof(t));
	return ok;
}

/* GET /confirm?origin=O: the user's question, with a one-time token in
 * the form.  Not an API call: a top-level page of the agent's own origin,
 * opened by the user from the confirm_url a refused page shows. */
static void confirm_page(struct evhttp_request *req, const char *path)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	TAILQ_INIT(&params);
	const char *origin = NULL;
	if (query && evhttp_parse_query_str(query, &params) == 0)
		origin = evhttp_find_header(&params, "origin");
	int idx = origin_index(origin);
	char esc[ME_ORIGIN_MAX * 6], html[8192];
	if (!me_conf.confirm) {
		send_html(req, 404, "Not Found",
			  "<!doctype html><title>ME agent</title>"
			  "<p>This ME agent does not ask for confirmation.</p>");
		log_outcome(req, path, origin, 404, "confirmation is off");
	} else if (idx < 0) {
		char o[ME_ORIGIN_MAX];
		origin_printable(origin, o, sizeof(o));
		html_escape(o, esc, sizeof(esc));
		snprintf(html, sizeof(html),
			 "<!doctype html><title>ME agent</title>"
			 "<p>%s is not on this ME's list of allowed origins; it cannot be "
			 "allowed here.</p>",
			 esc);
		send_html(req, 403, "Forbidden", html);
		log_outcome(req, path, origin, 403, "confirmation page for an unlisted origin");
	} else {
		char token[B64URL_LEN(ME_TOKEN_LEN) + 1];
		if (confirm_token_new(idx, token)) {
			http_reply_error(req, 500, "no random bytes");
			evhttp_clear_headers(&params);
			return;
		}
		html_escape(me.origins[idx], esc, sizeof(esc));
		snprintf(html, sizeof(html),
			 "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>Allow access to your ISIM?</title></head><body>"
			 "<h1>Allow %s to use your ISIM for IMS registration?</h1>"
			 "<p>The web page at %s asks this device's ISIM to answer IMS AKA "
			 "challenges.  It gets the Digest password of each answer, never your "
			 "keys.  Allow it only if you opened that page to register.</p>"
			 "<form method=\"post\" action=\"/confirm\">"
			 "<input type=\"hidden\" name=\"origin\" value=\"%s\">"
			 "<input type=\"hidden\" name=\"token\" value=\"%s\">"
			 "<button type=\"submit\">Allow</button></form>"
			 "<p>Close this tab to refuse.</p></body></html>",
			 esc, esc, esc, token);
		send_html(req, 200, "OK", html);
		OPENSSL_cleanse(token, sizeof(token));
		log_outcome(req, path, me.origins[idx], 200, "confirmation page served");
	}
	evhttp_clear_headers(&params);
}

/* POST /confirm: the form above.  It must come from the agent's own page
 * (Origin) and carry the token that page held: another site can neither
 * read the token nor frame the page to make the user click. */
static void confirm_post(struct evhttp_request *req, const char *path, const char *origin)
{
	if (!me_conf.confirm) {
		send_html(req, 404, "Not Found", "<!doctype html><p>Confirmation is off.</p>");
		log_outcome(req, path, origin, 404, "confirmation is off");
		return;
	}
	if (!origin_is_self(origin)) {
		send_html(req, 403, "Forbidden",
			  "<!doctype html><p>A confirmation must come from the ME agent's own "
			  "page.</p>");
		log_outcome(req, path, origin, 403, "confirmation from another origin");
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char body[1024];
	if (len >= sizeof(body)) {
		send_html(req, 413, "Content Too Large", "<!doctype html><p>Too large.</p>");
		log_outcome(req, path, origin, 413, "confirmation body too large");
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	struct evkeyvalq form;
	TAILQ_INIT(&form);
	const char *o = NULL, *token = NULL;
	if (strlen(body) == len && evhttp_parse_query_str(body, &form) == 0) {
		o = evhttp_find_header(&form, "origin");
		token = evhttp_find_header(&form, "token");
	}
	int idx = origin_index(o);
	if (idx < 0 || !confirm_token_take(idx, token)) {
		send_html(req, 403, "Forbidden",
			  "<!doctype html><p>This confirmation is not valid (no token, a used "
			  "or expired one).  Open the confirmation link again.</p>");
		log_outcome(req, path, origin, 403, "confirmation without a valid token");
	} else {
		char esc[ME_ORIGIN_MAX * 6], html[2048 + ME_ORIGIN_MAX * 6];
		html_escape(me.origins[idx], esc, sizeof(esc));
		snprintf(html, sizeof(html),
			 "<!doctype html><title>Allowed</title><p>%s may now use your ISIM "
			 "until the ME agent restarts.  You can close this tab.</p>",
			 esc);
		send_html(req, 200, "OK", html);
		WIMS_INFO("me", "origin %s confirmed by the user", me.origins[idx]);
		log_outcome(req, path, origin, 200, "origin confirmed");
	}
	OPENSSL_cleanse(body, sizeof(body));
	evhttp_clear_headers(&form);
}

/* --- the API --- */

static int add_identity(void *arg, const struct isim_entry *e)
{
	json_t *list = arg;
	json_t *o = json_pack("{s:s, s:s, s:s}", "impi", e->impi, "impu", e->impu, "realm",
			      e->realm);
	return o && json_array_append_new(list, o) == 0 ? 0 : WIMS_ENOMEM;
}

static void api_identity(struct evhttp_request *req, const char *path, const char *origin)
{
	json_t *list = json_array();
	int rc = list ? isim_list(me.isim, add_identity, list) : WIMS_ENOMEM;
	if (rc) {
		json_decref(list);
		reply_error(req, 500, "the ISIM store failed");
		log_outcome(req, path, origin, 500, wims_strerror(rc));
		return;
	}
	size_t n = json_array_size(list);
	reply_json(req, 200, json_pack("{s:o}", "identities", list));
	char what[64];
	snprintf(what, sizeof(what), "%zu identities", n);
	log_outcome(req, path, origin, 200, what);
}

static void api_aka(struct evhttp_request *req, const char *path, const char *origin)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len > ME_REQUEST_MAX_BODY) {
		reply_error(req, 413, "request body too large");
		log_outcome(req, path, origin, 413, "body too large");
		return;
	}
	const char *body = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : NULL;
	struct me_request r;
	const char *reason = NULL;
	int rc = me_request_parse(body, len, &r, &reason);
	if (rc) {
		reply_error(req, rc == WIMS_ETOOBIG ? 413 : 400, reason ? reason : "bad request");
		log_outcome(req, path, origin, rc == WIMS_ETOOBIG ? 413 : 400, "bad request body");
		return;
	}
	/* TS 33.203 Annex X: "The WIC shall not have access to the keys CK and
	 * IK"; AKAv1's password is RES, as good as the card's answer. */
	if (r.algorithm != AKA_V2_SHA256) {
		reply_error(req, 400, "AKAv1-MD5 would hand RES to the page; only "
				      "AKAv2-SHA-256 is served");
		log_outcome(req, path, origin, 400, "AKAv1 refused");
		return;
	}
	struct isim_answer a;
	rc = isim_authenticate(me.isim, r.impi, r.algorithm, slice_from_cstr(r.nonce), &a);
	char what[WIMS_IMPI_MAX + 64];
	char impi[WIMS_IMPI_MAX];
	origin_printable(r.impi, impi, sizeof(impi));
	if (rc == WIMS_ENOTFOUND) {
		reply_error(req, 404, "this ME holds no ISIM for that IMPI");
		snprintf(what, sizeof(what), "unknown IMPI %s", impi);
		log_outcome(req, path, origin, 404, what);
	} else if (rc == WIMS_EPARSE) {
		reply_error(req, 400, "nonce is not base64 of RAND||AUTN");
		log_outcome(req, path, origin, 400, "bad nonce");
	} else if (rc == WIMS_EUNSUPPORTED) {
		reply_error(req, 400, "only AKAv2-SHA-256 is served");
		log_outcome(req, path, origin, 400, "algorithm refused");
	} else if (rc) {
		reply_error(req, 500, "the ISIM failed");
		log_outcome(req, path, origin, 500, wims_strerror(rc));
	} else if (a.outcome == ISIM_PASSWORD) {
		/* Built here rather than through jansson so that the one copy
		 * we make of the password can be wiped. */
		char json[AKA_PASSWORD_MAX + 32];
		int n = snprintf(json, sizeof(json), "{\"password\":\"%s\"}", a.password);
		http_reply_json(req, 200, json, (size_t)n);
		OPENSSL_cleanse(json, sizeof(json));
		snprintf(what, sizeof(what), "AKAv2 password for %s", impi);
		log_outcome(req, path, origin, 200, what);
	} else if (a.outcome == ISIM_RESYNC) {
		reply_json(req, 200, json_pack("{s:s}", "auts", a.auts));
		snprintf(what, sizeof(what), "synchronisation failure for %s: auts", impi);
		log_outcome(req, path, origin, 200, what);
	} else {
		reply_error(req, 409, "network authentication failed: AUTN MAC is wrong");
		snprintf(what, sizeof(what), "AUTN MAC wrong for %s", impi);
		log_outcome(req, path, origin, 409, what);
	}
	OPENSSL_cleanse(&a, sizeof(a));
}

/* OPTIONS: the CORS preflight (and Private Network Access's, which a
 * public page reaching this loopback agent triggers). */
static void preflight(struct evhttp_request *req, const char *path, const char *origin)
{
	if (origin_index(origin) < 0) {
		refuse_origin(req, path, origin);
		return;
	}
	add_cors(req, origin);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, POST");
	evhttp_add_header(h, "Access-Control-Allow-Headers", "content-type");
	evhttp_add_header(h, "Access-Control-Allow-Private-Network", "true");
	evhttp_add_header(h, "Access-Control-Max-Age", "600");
	http_add_security_headers(req, "default-src 'none'", false);
	evhttp_send_reply(req, 204, "No Content", NULL);
	log_outcome(req, path, origin, 204, "preflight allowed");
}

static void me_request(struct evhttp_request *req, void *arg)
{
	WIMS_UNUSED(arg);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	const char *origin =
		evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");

	if (strcmp(path, "/confirm") == 0) {
		if (cmd == EVHTTP_REQ_GET) {
			confirm_page(req, path);
		} else if (cmd == EVHTTP_REQ_POST) {
			confirm_post(req, path, origin);
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
					  "GET, POST");
			http_reply_error(req, 405, "Method Not Allowed");
			log_outcome(req, path, origin, 405, "method not allowed");
		}
		return;
	}
	bool identity = strcmp(path, "/identity") == 0, aka = strcmp(path, "/aka") == 0;
	if (!identity && !aka) {
		reply_error(req, 404, "no such endpoint (GET /identity, POST /aka)");
		log_outcome(req, path, origin, 404, "no such endpoint");
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) {
		preflight(req, path, origin);
		return;
	}
	int idx = origin_index(origin);
	if (idx < 0) {
		refuse_origin(req, path, origin);
		return;
	}
	add_cors(req, origin);
	if ((identity && cmd != EVHTTP_REQ_GET) || (aka && cmd != EVHTTP_REQ_POST)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
				  identity ? "GET" : "POST");
		reply_error(req, 405, identity ? "use GET" : "use POST");
		log_outcome(req, path, origin, 405, "method not allowed");
		return;
	}
	struct slice key = slice_from_cstr(origin);
	if (ratelimit_check(me.rl, key, now_s()) == WIMS_EDENIED) {
		reply_error(req, 429, "too many requests from this origin; wait a minute");
		log_outcome(req, path, origin, 429, "rate limited");
		return;
	}
	ratelimit_fail(me.rl, key, now_s());
	if (me_conf.confirm && !origin_confirmed(idx)) {
		char *enc = evhttp_uriencode(origin, -1, 0);
		char url[ME_ORIGIN_MAX * 4 + 64];
		snprintf(url, sizeof(url), "%s/confirm?origin=%s", me.confirm_base,
			 enc ? enc : "");
		free(enc);
		reply_json(req, 403, json_pack("{s:s, s:s}", "error", "confirmation required",
					       "confirm_url", url));
		log_outcome(req, path, origin, 403, "confirmation required");
		return;
	}
	if (identity)
		api_identity(req, path, origin);
	else
		api_aka(req, path, origin);
}

/* --- start and stop --- */

static void listen_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	char err[256];
	struct evhttp *http =
		http_server_new_reuseport(base, me.host, me.port, me.tls, err, sizeof(err));
	if (!http) {
		if (!me.error) {
			me.error = WIMS_EIO;
			snprintf(me.errmsg, sizeof(me.errmsg), "%s", err);
		}
		return;
	}
	/* Every method reaches the handler, which answers 405 itself. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(http, ME_REQUEST_MAX_BODY);
	evhttp_set_gencb(http, me_request, NULL);
	me.servers[index] = http;
}

static void close_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	if (me.servers[index]) {
		evhttp_free(me.servers[index]);
		me.servers[index] = NULL;
	}
}

static int parse_origins(void)
{
	const char *cur = me_conf.allowed_origins, *item;
	size_t n;
	me.norigins = 0;
	while ((n = conf_list_next(&cur, &item)) > 0) {
		/* A trailing "/" is not part of an origin; tolerate it. */
		if (item[n - 1] == '/')
			n--;
		if (me.norigins == ME_MAX_ORIGINS || n == 0 || n >= ME_ORIGIN_MAX ||
		    (strncmp(item, "https://", 8) != 0 && strncmp(item, "http://", 7) != 0)) {
			WIMS_ERROR("me", "allowed_origins: \"%.*s\" is not scheme://host[:port] "
					 "(at most %d of them)",
				   (int)n, item, ME_MAX_ORIGINS);
			return WIMS_ECONF;
		}
		memcpy(me.origins[me.norigins], item, n);
		me.origins[me.norigins][n] = '\0';
		me.norigins++;
	}
	return 0;
}

/* The agent's own origins (where /confirm is served from; a browser may
 * reach loopback under any of these names) and the base of the
 * confirm_url it hands out. */
static void set_self_origins(void)
{
	bool any = me.host[0] == '\0' || strcmp(me.host, "0.0.0.0") == 0 ||
		   strcmp(me.host, "::") == 0;
	me.nself = 0;
	snprintf(me.self[me.nself++], ME_ORIGIN_MAX, "https://127.0.0.1:%d", me.port);
	snprintf(me.self[me.nself++], ME_ORIGIN_MAX, "https://localhost:%d", me.port);
	snprintf(me.self[me.nself++], ME_ORIGIN_MAX, "https://[::1]:%d", me.port);
	if (any) {
		snprintf(me.confirm_base, sizeof(me.confirm_base), "%s", me.self[0]);
		return;
	}
	snprintf(me.self[me.nself], ME_ORIGIN_MAX,
		 strchr(me.host, ':') ? "https://[%s]:%d" : "https://%s:%d", me.host, me.port);
	snprintf(me.confirm_base, sizeof(me.confirm_base), "%s", me.self[me.nself]);
	me.nself++;
}

static int me_db_path(char *out, size_t outsz)
{
	if (me_conf.db[0]) {
		int n = snprintf(out, outsz, "%s", me_conf.db);
		return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
	}
	return wims_global_data_path("me-isim.db", out, outsz);
}

/* dave@<domain>, the demo's ME-agent subscriber, with the public demo keys
 * the HSS gives him too.  Putting it again keeps its SQN state. */
static int provision_demo(void)
{
	struct isim_entry e;
	memset(&e, 0, sizeof(e));
	int n = snprintf(e.impi, sizeof(e.impi), "dave@%s", wims_global.domain);
	if (n < 0 || (size_t)n >= sizeof(e.impi) ||
	    snprintf(e.impu, sizeof(e.impu), "sip:%s", e.impi) >= (int)sizeof(e.impu) ||
	    snprintf(e.realm, sizeof(e.realm), "%s", wims_global.domain) >= (int)sizeof(e.realm))
		return WIMS_ETOOBIG;
	int rc = aka_demo_keys(e.impi, &e.keys);
	e.amf[0] = 0x80;
	e.amf[1] = 0x00;
	if (!rc)
		rc = isim_put(me.isim, &e);
	OPENSSL_cleanse(&e.keys, sizeof(e.keys));
	if (!rc)
		WIMS_INFO("me", "demo ISIM: %s (public demo keys)", e.impi);
	return rc;
}

static void me_stop(void);

static int me_start(void)
{
	char err[512], path[1024];
	int rc;

	if (conf_addr_split(me_conf.listen, me.host, sizeof(me.host), &me.port)) {
		WIMS_ERROR("me", "listen: bad address \"%s\"", me_conf.listen);
		return WIMS_ECONF;
	}
	if ((rc = parse_origins()))
		return rc;
	set_self_origins();
	if (net_port_claim(me.host, me.port, true, false, err, sizeof(err))) {
		WIMS_ERROR("me", "%s", err);
		return WIMS_EEXIST;
	}
	if (me_db_path(path, sizeof(path))) {
		WIMS_ERROR("me", "db: path too long");
		return WIMS_ECONF;
	}
	for (size_t i = 0; i < ME_CONFIRM_PENDING; i++)
		me.pending[i].origin = -1;
	memset(me.confirmed, 0, sizeof(me.confirmed));
	me.isim = isim_open(path, err, sizeof(err));
	if (!me.isim) {
		WIMS_ERROR("me", "ISIM store: %s", err);
		return WIMS_ESTORE;
	}
	if (me_conf.demo_isim && (rc = provision_demo())) {
		WIMS_ERROR("me", "demo ISIM: %s", wims_strerror(rc));
		me_stop();
		return rc;
	}
	me.rl = ratelimit_new(ME_RATELIMIT_KEYS, (unsigned)me_conf.max_requests_per_min, 60);
	if (!me.rl) {
		me_stop();
		return WIMS_ENOMEM;
	}

	if (wims_global.tls_self_signed) {
		static const char *const names[] = {"127.0.0.1", "localhost", NULL};
		rc = tls_ensure_self_signed(wims_global.tls_cert, wims_global.tls_key, names, err,
					    sizeof(err));
		if (rc) {
			WIMS_ERROR("me", "self-signed certificate: %s", err);
			me_stop();
			return rc;
		}
	}
	me.tls = tls_server_ctx_new(wims_global.tls_cert, wims_global.tls_key, err, sizeof(err));
	if (!me.tls) {
		WIMS_ERROR("me", "TLS: %s", err);
		me_stop();
		return WIMS_ETLS;
	}

	int n = wims_global_workers();
	me.servers = calloc((size_t)n, sizeof(*me.servers));
	me.workers = me.servers ? workers_new(n, "me") : NULL;
	if (!me.workers) {
		WIMS_ERROR("me", "cannot start %d worker threads", n);
		me_stop();
		return WIMS_ENOMEM;
	}
	me.error = 0;
	rc = workers_run_each(me.workers, listen_on_worker, NULL);
	if (rc || me.error) {
		WIMS_ERROR("me", "listen on %s: %s", me_conf.listen,
			   me.error ? me.errmsg : wims_strerror(rc));
		rc = rc ? rc : me.error;
		me_stop();
		return rc;
	}
	WIMS_INFO("me", "ME agent on https://%s/ (%d workers), ISIM %s, %zu allowed origins, "
			"confirmation %s, %d requests/min per origin",
		  me_conf.listen, n, path, me.norigins, me_conf.confirm ? "on" : "off",
		  me_conf.max_requests_per_min);
	return 0;
}

static void me_stop(void)
{
	if (me.workers) {
		workers_run_each(me.workers, close_on_worker, NULL);
		workers_stop_and_free(me.workers);
		me.workers = NULL;
	}
	free(me.servers);
	me.servers = NULL;
	SSL_CTX_free(me.tls);
	me.tls = NULL;
	ratelimit_free(me.rl);
	me.rl = NULL;
	isim_close(me.isim);
	me.isim = NULL;
	pthread_mutex_lock(&me.confirm_mu);
	OPENSSL_cleanse(me.pending, sizeof(me.pending));
	pthread_mutex_unlock(&me.confirm_mu);
}

static const char me_cli_usage[] =
	"usage: wims me [isim-add|isim-list|isim-remove|isim-seq] ARGS\n"
	"Without ARGS: run the ME agent.  The ISIM store is [me] db (default\n"
	"<data_dir>/me-isim.db).\n"
	"Commands:\n" ISIM_CLI_USAGE;

static int me_cli(int argc, char **argv)
{
	/* argv[0] is "me" */
	if (argc < 2 || !isim_cli_is_command(argv[1])) {
		fprintf(stderr, "%s", me_cli_usage);
		return 2;
	}
	char path[1024];
	if (me_db_path(path, sizeof(path))) {
		fprintf(stderr, "wims me: db path too long\n");
		return 1;
	}
	return isim_cli("wims me", path, argc - 1, argv + 1);
}

const struct role me_role = {
	.name = "me",
	.summary = "ME agent: this device's ISIM for the WIC, behind an Origin policy",
	.conf = &me_section,
	.start = me_start,
	.stop = me_stop,
	.cli = me_cli,
	.cli_usage = me_cli_usage,
};
