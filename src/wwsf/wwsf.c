/*
 * wwsf.c - the WWSF role: the HTTPS server that hands the WIC to browsers
 * (W1, TR 33.871 REQ 1.1: TLS).
 *
 * It serves the built WIC (web/dist) as static files and /config.json,
 * which tells the page where the eP-CSCF's WebSocket is, so the page
 * itself holds no address.  Every worker thread runs its own evhttp on the
 * same port (SO_REUSEPORT).  Answers carry the security headers of
 * core/http.h and a Content-Security-Policy that lets the page's own
 * script talk to nothing but this site and the eP-CSCF over wss:.
 *
 * The network ISIM (shared/seeds/001, issue 4) lives here too: web
 * accounts (account.c), sessions (session.c) and the /login, /session,
 * /logout, /isim/aka API (isim_api.c), which the router below hands the
 * requests it names; each worker holds its own handle on the ISIM store.
 * The page's CSP also lets it reach the ME agent ([wwsf] me_url), the
 * other source of AKA answers.
 *
 * The OAuth client side of issue 5 (W4 to the WAF: code flow with PKCE,
 * client credentials over mutual TLS, the IMPI pool of scenario 3) is in
 * oauth_http.c, on the same router; [wwsf] identity names this WWSF to the
 * WAF, and a second instance with a pool is the demo's third party.
 *
 * Later issues (GBA NAF) add handlers beside serve_static; the request
 * router below is where.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "core/conf.h"
#include "core/global.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/slice.h"
#include "core/tls.h"
#include "core/wims.h"
#include "auth/ratelimit.h"
#include "isim/isim.h"
#include "role.h"
#include "store/webacct.h"
#include "wwsf/isim_api.h"
#include "wwsf/oauth.h"
#include "wwsf/path.h"
#include "wwsf/session.h"
#include "wwsf/wwsf_int.h"

struct wwsf_conf {
	char listen[128];
	char root[512];
	char pcscf_url[256];
	char db[512];
	char isim_db[512];
	char me_url[256];
	char allowed_origins[WIMS_CONF_MAX_VALUE];
	bool demo_accounts;
	int session_lifetime;
	char identity[WIMS_WWSF_ID_MAX];
	char waf_url[256];
	char waf_ca[512];
	char client_cert[512];
	char client_key[512];
	char redirect_uri[256];
	char scope[128];
	char pool[WIMS_CONF_MAX_VALUE];
	bool anonymous;
	int pool_hold_s;
};

static struct wwsf_conf wwsf_conf;

static const struct conf_key wwsf_keys[] = {
	CONF_KEY_ADDR(struct wwsf_conf, listen, "127.0.0.1:8443",
		      "HTTPS address the WIC is served on (W1)"),
	CONF_KEY_STR(struct wwsf_conf, root, "web/dist",
		     "directory of the built WIC (npm run build in web/)"),
	CONF_KEY_STR(struct wwsf_conf, pcscf_url, "wss://127.0.0.1:7443/",
		     "eP-CSCF WebSocket URL the page connects to (W2), sent in /config.json"),
	CONF_KEY_STR(struct wwsf_conf, db, "",
		     "web accounts and their user -> IMPI map (empty: <data_dir>/wwsf.db)"),
	CONF_KEY_STR(struct wwsf_conf, isim_db, "",
		     "the network ISIM's store of K/OPc/SQN (empty: <data_dir>/wwsf-isim.db)"),
	CONF_KEY_STR(struct wwsf_conf, me_url, "https://127.0.0.1:8445",
		     "ME agent URL the page may ask for AKA answers, sent in /config.json and "
		     "allowed in the CSP connect-src"),
	CONF_KEY_LIST(struct wwsf_conf, allowed_origins,
		      "https://127.0.0.1:8443, https://localhost:8443",
		      "Origins a POST to /login, /logout or /isim/aka must carry (CSRF); "
		      "others get 403"),
	CONF_KEY_BOOL(struct wwsf_conf, demo_accounts, "yes",
		      "create web accounts erin/erin-web and frank/frank-web mapped to "
		      "erin@ and frank@<domain>, with network ISIM entries from the demo keys"),
	CONF_KEY_INT(struct wwsf_conf, session_lifetime, "3600", 60, 86400,
		     "seconds a sign-in to the WWSF lasts"),
	CONF_KEY_STR(struct wwsf_conf, identity, "wwsf.ims.example.org",
		     "this WWSF's identity: its OAuth client_id at the WAF, the CN of its "
		     "client certificate, what the network checks (TR 33.871 REQ 2.3)"),
	CONF_KEY_STR(struct wwsf_conf, waf_url, "https://127.0.0.1:9443",
		     "the operator's WAF (OAuth authorization server): /authorize for browsers, "
		     "/token and /link over mutual TLS (W4)"),
	CONF_KEY_STR(struct wwsf_conf, waf_ca, "",
		     "PEM file of the roots the WAF's certificate must chain to (empty: the "
		     "global tls_cert, as the demo's certificate is self-signed)"),
	CONF_KEY_STR(struct wwsf_conf, client_cert, "",
		     "client certificate presented to the WAF on W4 (empty: "
		     "<data_dir>/wwsf-client/cert.pem; created self-signed with CN = identity "
		     "if missing)"),
	CONF_KEY_STR(struct wwsf_conf, client_key, "",
		     "its private key (empty: <data_dir>/wwsf-client/key.pem)"),
	CONF_KEY_STR(struct wwsf_conf, redirect_uri, "",
		     "OAuth redirect URI registered at the WAF (empty: "
		     "https://<listen>/oauth/callback)"),
	CONF_KEY_STR(struct wwsf_conf, scope, "webrtc-ims-client-access-to-ims",
		     "scope asked of the WAF (TR 33.871 6.1.2.2 step 2)"),
	CONF_KEY_LIST(struct wwsf_conf, pool, "",
		      "IMPIs this WWSF lends to its web users (scenario 3, TR 33.871 6.1.3; "
		      "empty: no pool); POST /pool/session hands them out"),
	CONF_KEY_BOOL(struct wwsf_conf, anonymous, "no",
		      "let visitors who are not signed in take a pool identity as guests"),
	CONF_KEY_INT(struct wwsf_conf, pool_hold_s, "3600", 60, 86400,
		     "longest a session keeps a pool IMPI (it is freed sooner when the session "
		     "ends); keep it at least the WAF's token_lifetime, since a token cannot "
		     "be recalled"),
};

static const struct conf_section wwsf_section = {
	.name = "wwsf",
	.summary = "WWSF: HTTPS server of the WebRTC IMS Client",
	.keys = wwsf_keys,
	.nkeys = WIMS_ARRAY_LEN(wwsf_keys),
	.target = &wwsf_conf,
};

/* What every worker reads and nobody writes after start(). */
static struct {
	struct wims_workers *workers;
	SSL_CTX *tls;
	struct evhttp **servers; /* one per worker */
	char host[128];
	int port;
	char csp[1024];
	char *config_json; /* malloc'd by jansson */
	struct wwsf_api api;
	struct wwsf_worker *w; /* one per worker */
	struct wwsf_oauth oauth;
	char client_cert[600], client_key[600];
	char isim_path[1024];
	int error;         /* first listener error, set by the workers */
	char errmsg[600];
} wwsf;

/* GET/HEAD /config.json: {"pcscf_url": ..., "me_url": ..., "domain": ...} */
static void serve_config(struct evhttp_request *req)
{
	http_reply_json(req, 200, wwsf.config_json, strlen(wwsf.config_json));
}

static void serve_static(struct evhttp_request *req, const char *raw_path)
{
	char rel[WWSF_PATH_MAX];
	const char *reason = NULL;
	int n = wwsf_path_resolve(slice_from_cstr(raw_path), rel, sizeof(rel), &reason);
	if (n < 0) {
		WIMS_DEBUG("wwsf", "refused path: %s", reason ? reason : wims_strerror(n));
		http_reply_error(req, n == WIMS_ETOOBIG ? 414 : 404, "Not Found");
		return;
	}
	char file[1024];
	int len = snprintf(file, sizeof(file), "%s/%s", wwsf_conf.root, rel);
	if (len < 0 || (size_t)len >= sizeof(file)) {
		http_reply_error(req, 414, "URI Too Long");
		return;
	}
	/* Only regular files: a directory without a trailing "/" is not
	 * listed, and nothing else (fifo, device) is opened. */
	struct stat st;
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
		http_reply_error(req, 404, "Not Found");
		return;
	}
	http_reply_file(req, file, NULL, wwsf.csp);
}

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* evhttp -> the socket-free API handler (isim_api.h) and back. */
static void serve_api(struct evhttp_request *req, const char *path, struct isim *isim)
{
	struct wwsf_api_request ar;
	struct wwsf_api_response resp;
	memset(&ar, 0, sizeof(ar));
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: ar.method = WWSF_GET; break;
	case EVHTTP_REQ_HEAD: ar.method = WWSF_HEAD; break;
	case EVHTTP_REQ_POST: ar.method = WWSF_POST; break;
	default: ar.method = WWSF_OTHER; break;
	}
	ar.path = path;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	ar.origin = evhttp_find_header(in, "Origin");
	ar.cookie = evhttp_find_header(in, "Cookie");
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (len > WWSF_API_MAX_BODY)
		ar.body_too_big = true;
	else if (len > 0)
		ar.body = (struct slice){(const char *)evbuffer_pullup(body, -1), len};
	char peer[80] = "?";
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	if (conn) {
		const char *addr = NULL;
		uint16_t port = 0;
		evhttp_connection_get_peer(conn, (char **)&addr, &port);
		if (addr)
			snprintf(peer, sizeof(peer), "%s:%u", addr, port);
	}
	ar.peer = peer;

	wwsf_api_handle(&wwsf.api, isim, &ar, now_s(), &resp);
	/* a password just checked stays in evhttp's buffer otherwise */
	if (len > 0 && len <= WWSF_API_MAX_BODY)
		OPENSSL_cleanse((void *)ar.body.p, len);

	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	if (resp.set_cookie[0])
		evhttp_add_header(out, "Set-Cookie", resp.set_cookie);
	if (resp.allow)
		evhttp_add_header(out, "Allow", resp.allow);
	if (resp.code == 204 || !resp.json) {
		http_add_security_headers(req, "default-src 'none'", false);
		evhttp_send_reply(req, resp.code ? resp.code : 500,
				  resp.code == 204 ? "No Content" : "Internal Server Error", NULL);
	} else {
		http_reply_json(req, resp.code, resp.json, strlen(resp.json));
	}
	wwsf_api_response_clear(&resp);
}

static void wwsf_request(struct evhttp_request *req, void *arg)
{
	struct wwsf_worker *w = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	if (wwsf_api_path(path)) {
		serve_api(req, path, w->isim);
		return;
	}
	if (wwsf_oauth_path(path)) {
		wwsf_oauth_serve(&wwsf.oauth, w, req, path);
		return;
	}
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (strcmp(path, "/config.json") == 0) {
		serve_config(req);
		return;
	}
	serve_static(req, path);
}

static void listen_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	char err[512];
	wwsf.w[index].base = base;
	wwsf.w[index].isim = isim_open(wwsf.isim_path, err, sizeof(err));
	if (!wwsf.w[index].isim) {
		if (!wwsf.error) {
			wwsf.error = WIMS_ESTORE;
			snprintf(wwsf.errmsg, sizeof(wwsf.errmsg), "%s", err);
		}
		return;
	}
	struct evhttp *http = http_server_new_reuseport(base, wwsf.host, wwsf.port, wwsf.tls,
							err, sizeof(err));
	if (!http) {
		/* workers_run_each waits for every worker; the first error wins */
		if (!wwsf.error) {
			wwsf.error = WIMS_EIO;
			snprintf(wwsf.errmsg, sizeof(wwsf.errmsg), "%s", err);
		}
		return;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						 EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, wwsf_request, &wwsf.w[index]);
	wwsf.servers[index] = http;
}

static void close_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	wwsf_oauth_worker_close(&wwsf.w[index]);
	if (wwsf.servers[index]) {
		evhttp_free(wwsf.servers[index]);
		wwsf.servers[index] = NULL;
	}
	isim_close(wwsf.w[index].isim);
	wwsf.w[index].isim = NULL;
}

/* The origin (scheme://host[:port]) of an http(s) URL into out, if it is
 * made only of characters that cannot break out of a header value; ""
 * otherwise. */
static void url_origin(const char *u, char *out, size_t outsz)
{
	size_t skip = 0;
	out[0] = '\0';
	if (strncmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(u, "http://", 7) == 0)
		skip = 7;
	if (!skip)
		return;
	size_t hostlen = strcspn(u + skip, "/?#");
	if (hostlen > 0 && hostlen < 200 &&
	    strspn(u + skip, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "0123456789.-:[]") >= hostlen)
		snprintf(out, outsz, "%.*s", (int)(skip + hostlen), u);
}

/* connect-src: this site, any wss: (the page lets a person choose another
 * server), the https: origin of the configured eP-CSCF, which the page
 * asks to tell a refused Origin from an unreachable server, and the ME
 * agent's origin (AKA answers from the device's ISIM). */
static int build_csp(void)
{
	char me[260] = "";
	url_origin(wwsf_conf.me_url, me + 1, sizeof(me) - 1);
	if (me[1])
		me[0] = ' ';
	char waf[260] = "";
	url_origin(wwsf_conf.waf_url, waf + 1, sizeof(waf) - 1);
	if (waf[1])
		waf[0] = ' ';
	char probe[300] = "";
	const char *u = wwsf_conf.pcscf_url;
	size_t skip = 0;
	if (strncmp(u, "wss://", 6) == 0)
		skip = 6;
	else if (strncmp(u, "ws://", 5) == 0)
		skip = 5;
	if (skip) {
		size_t hostlen = strcspn(u + skip, "/?#");
		/* only characters that cannot break out of the header value */
		if (hostlen > 0 && hostlen < 200 &&
		    strspn(u + skip, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789.-:[]") >= hostlen)
			snprintf(probe, sizeof(probe), " %s://%.*s", skip == 6 ? "https" : "http",
				 (int)hostlen, u + skip);
	}
	int n = snprintf(wwsf.csp, sizeof(wwsf.csp),
			 "default-src 'self'; script-src 'self'; style-src 'self'; "
			 "img-src 'self' data:; connect-src 'self' wss:%s%s; "
			 "object-src 'none'; base-uri 'none'; form-action 'self'%s; "
			 "frame-ancestors 'none'",
			 probe, me, waf);
	return (n < 0 || (size_t)n >= sizeof(wwsf.csp)) ? WIMS_ETOOBIG : 0;
}

static int build_config_json(void)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "pcscf_url", wwsf_conf.pcscf_url,
			      "me_url", wwsf_conf.me_url, "domain", wims_global.domain, "waf",
			      wwsf_conf.waf_url, "identity", wwsf_conf.identity, "pool",
			      wwsf_pool_size(wwsf.oauth.pool) > 0);
	if (!o)
		return WIMS_ENOMEM;
	wwsf.config_json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return wwsf.config_json ? 0 : WIMS_ENOMEM;
}

static void wwsf_stop(void);

/* The account store, the demo accounts and their ISIM entries, the
 * session table and the sign-in limiter. */
static int open_network_isim(void)
{
	char path[1024], err[512];
	int rc = wwsf_store_path(wwsf_conf.db, "wwsf.db", path, sizeof(path));
	if (!rc)
		rc = wwsf_store_path(wwsf_conf.isim_db, "wwsf-isim.db", wwsf.isim_path,
				     sizeof(wwsf.isim_path));
	if (rc) {
		WIMS_ERROR("wwsf", "db: path too long");
		return WIMS_ECONF;
	}
	wwsf.api.accounts = web_accounts_open(path, err, sizeof(err));
	if (!wwsf.api.accounts) {
		WIMS_ERROR("wwsf", "accounts: %s", err);
		return WIMS_ESTORE;
	}
	/* opened once here, also without demo accounts: a new store gets its
	 * schema now, not from every worker at once (SQLite: "database is
	 * locked") */
	struct isim *is = isim_open(wwsf.isim_path, err, sizeof(err));
	if (!is) {
		WIMS_ERROR("wwsf", "network ISIM: %s", err);
		wwsf_stop();
		return WIMS_ESTORE;
	}
	rc = wwsf_conf.demo_accounts ? wwsf_seed_demo(wwsf.api.accounts, is, wims_global.domain)
				     : 0;
	isim_close(is);
	if (rc) {
		WIMS_ERROR("wwsf", "demo accounts: %s", wims_strerror(rc));
		wwsf_stop();
		return rc;
	}
	wwsf.api.sessions = wwsf_sessions_new(0, (uint64_t)wwsf_conf.session_lifetime);
	if (wwsf.api.sessions)
		wwsf_sessions_on_end(wwsf.api.sessions, wwsf_oauth_session_end, &wwsf.oauth);
	wwsf.api.login_limit = ratelimit_new(0, WWSF_LOGIN_FAILURES_PER_MIN, 60);
	if (!wwsf.api.sessions || !wwsf.api.login_limit) {
		wwsf_stop();
		return WIMS_ENOMEM;
	}
	wwsf.api.allowed_origins = wwsf_conf.allowed_origins;
	wwsf.api.domain = wims_global.domain;
	wwsf.api.isim_per_min = WWSF_ISIM_REQUESTS_PER_MIN;
	return 0;
}

/* The WAF's URL into host, port and path prefix: https only (W4 is TLS,
 * TR 33.871 REQ 2.6). */
static int parse_waf_url(struct wwsf_oauth *o)
{
	snprintf(o->waf_url, sizeof(o->waf_url), "%s", wwsf_conf.waf_url);
	size_t n = strlen(o->waf_url);
	while (n > 0 && o->waf_url[n - 1] == '/')
		o->waf_url[--n] = '\0';
	struct evhttp_uri *u = evhttp_uri_parse(o->waf_url);
	int rc = WIMS_ECONF;
	if (u && evhttp_uri_get_scheme(u) && strcmp(evhttp_uri_get_scheme(u), "https") == 0 &&
	    evhttp_uri_get_host(u) && !evhttp_uri_get_query(u) && !evhttp_uri_get_fragment(u)) {
		const char *path = evhttp_uri_get_path(u);
		int port = evhttp_uri_get_port(u);
		o->waf_port = port > 0 ? port : 443;
		if (snprintf(o->waf_host, sizeof(o->waf_host), "%s", evhttp_uri_get_host(u)) <
			    (int)sizeof(o->waf_host) &&
		    snprintf(o->waf_path, sizeof(o->waf_path), "%s", path ? path : "") <
			    (int)sizeof(o->waf_path))
			rc = 0;
	}
	evhttp_uri_free(u);
	if (rc)
		WIMS_ERROR("wwsf", "waf_url must be an https:// URL without query, not \"%s\"",
			   wwsf_conf.waf_url);
	return rc;
}

/* W4: the pending-authorization table, the pool, and the TLS client that
 * verifies the WAF and presents this WWSF's certificate (created
 * self-signed, CN = identity, when missing: the WAF's registry holds its
 * fingerprint, RFC 8705 2.2). */
static int open_oauth(void)
{
	struct wwsf_oauth *o = &wwsf.oauth;
	char err[512];
	const char *reason = NULL;
	if (parse_waf_url(o))
		return WIMS_ECONF;
	if (!wwsf_conf.identity[0]) {
		WIMS_ERROR("wwsf", "identity must not be empty");
		return WIMS_ECONF;
	}
	o->pool = wwsf_pool_new(wwsf_conf.pool, &reason);
	if (!o->pool) {
		WIMS_ERROR("wwsf", "pool: %s", reason);
		return WIMS_ECONF;
	}
	o->pending = wwsf_pending_new(0, WWSF_OAUTH_PENDING_TTL_S);
	if (!o->pending)
		return WIMS_ENOMEM;
	if (wwsf_conf.redirect_uri[0])
		snprintf(o->redirect_uri, sizeof(o->redirect_uri), "%s", wwsf_conf.redirect_uri);
	else
		snprintf(o->redirect_uri, sizeof(o->redirect_uri), "https://%s/oauth/callback",
			 wwsf_conf.listen);
	if ((wwsf_conf.client_cert[0] ? snprintf(wwsf.client_cert, sizeof(wwsf.client_cert), "%s",
						  wwsf_conf.client_cert) < 0
				       : wims_global_data_path("wwsf-client/cert.pem", wwsf.client_cert,
							       sizeof(wwsf.client_cert)) != 0) ||
	    (wwsf_conf.client_key[0] ? snprintf(wwsf.client_key, sizeof(wwsf.client_key), "%s",
						 wwsf_conf.client_key) < 0
				      : wims_global_data_path("wwsf-client/key.pem", wwsf.client_key,
							      sizeof(wwsf.client_key)) != 0)) {
		WIMS_ERROR("wwsf", "client_cert: path too long");
		return WIMS_ECONF;
	}
	const char *names[] = {wwsf_conf.identity, NULL};
	int rc = tls_ensure_self_signed(wwsf.client_cert, wwsf.client_key, names, err,
					sizeof(err));
	if (rc) {
		WIMS_ERROR("wwsf", "client certificate %s: %s", wwsf.client_cert, err);
		return rc;
	}
	const char *ca = wwsf_conf.waf_ca[0] ? wwsf_conf.waf_ca : wims_global.tls_cert;
	o->waf_tls = tls_client_ctx_new(ca, true, err, sizeof(err));
	if (!o->waf_tls ||
	    tls_ctx_use_cert(o->waf_tls, wwsf.client_cert, wwsf.client_key, err, sizeof(err))) {
		WIMS_ERROR("wwsf", "W4 TLS client: %s", err);
		return WIMS_ETLS;
	}
	o->api = &wwsf.api;
	o->identity = wwsf_conf.identity;
	o->scope = wwsf_conf.scope;
	o->anonymous = wwsf_conf.anonymous;
	o->pool_hold_s = wwsf_conf.pool_hold_s;
	return 0;
}

static int wwsf_start(void)
{
	char err[512];
	int rc;

	if (conf_addr_split(wwsf_conf.listen, wwsf.host, sizeof(wwsf.host), &wwsf.port)) {
		WIMS_ERROR("wwsf", "listen: bad address \"%s\"", wwsf_conf.listen);
		return WIMS_ECONF;
	}
	if (net_port_claim(wwsf.host, wwsf.port, true, false, err, sizeof(err))) {
		WIMS_ERROR("wwsf", "%s", err);
		return WIMS_EEXIST;
	}
	if (strncmp(wwsf_conf.pcscf_url, "wss://", 6) != 0 &&
	    strncmp(wwsf_conf.pcscf_url, "ws://", 5) != 0) {
		WIMS_ERROR("wwsf", "pcscf_url must be a wss:// URL, not \"%s\"",
			   wwsf_conf.pcscf_url);
		return WIMS_ECONF;
	}
	char me_origin[260];
	url_origin(wwsf_conf.me_url, me_origin, sizeof(me_origin));
	if (!me_origin[0]) {
		WIMS_ERROR("wwsf", "me_url must be an https:// URL, not \"%s\"", wwsf_conf.me_url);
		return WIMS_ECONF;
	}
	if ((rc = open_network_isim()))
		return rc;

	char index[600];
	struct stat st;
	snprintf(index, sizeof(index), "%s/index.html", wwsf_conf.root);
	if (stat(index, &st) != 0)
		WIMS_WARN("wwsf", "%s: %s (build the WIC: scripts/install-deps.sh or "
				  "npm run build in web/)",
			  index, strerror(errno));

	if (wims_global.tls_self_signed) {
		static const char *const names[] = {"127.0.0.1", "localhost", NULL};
		rc = tls_ensure_self_signed(wims_global.tls_cert, wims_global.tls_key, names, err,
					    sizeof(err));
		if (rc) {
			WIMS_ERROR("wwsf", "self-signed certificate: %s", err);
			return rc;
		}
	}
	if ((rc = open_oauth())) {
		wwsf_stop();
		return rc;
	}
	wwsf.tls = tls_server_ctx_new(wims_global.tls_cert, wims_global.tls_key, err, sizeof(err));
	if (!wwsf.tls) {
		WIMS_ERROR("wwsf", "TLS: %s", err);
		return WIMS_ETLS;
	}
	if ((rc = build_csp()) || (rc = build_config_json())) {
		WIMS_ERROR("wwsf", "start: %s", wims_strerror(rc));
		wwsf_stop();
		return rc;
	}

	int n = wims_global_workers();
	wwsf.servers = calloc((size_t)n, sizeof(*wwsf.servers));
	wwsf.w = calloc((size_t)n, sizeof(*wwsf.w));
	wwsf.workers = wwsf.servers && wwsf.w ? workers_new(n, "wwsf") : NULL;
	if (!wwsf.workers) {
		WIMS_ERROR("wwsf", "cannot start %d worker threads", n);
		wwsf_stop();
		return WIMS_ENOMEM;
	}
	wwsf.error = 0;
	rc = workers_run_each(wwsf.workers, listen_on_worker, NULL);
	if (rc || wwsf.error) {
		WIMS_ERROR("wwsf", "listen on %s: %s", wwsf_conf.listen,
			   wwsf.error ? wwsf.errmsg : wims_strerror(rc));
		rc = rc ? rc : wwsf.error;
		wwsf_stop();
		return rc;
	}
	WIMS_INFO("wwsf", "serving %s on https://%s/ (%d workers), pcscf %s, ME agent %s; "
			  "network ISIM %s, POST origins: %s",
		  wwsf_conf.root, wwsf_conf.listen, n, wwsf_conf.pcscf_url, wwsf_conf.me_url,
		  wwsf.isim_path, wwsf_conf.allowed_origins);
	size_t pool = wwsf_pool_size(wwsf.oauth.pool);
	if (pool)
		WIMS_INFO("wwsf", "identity %s, WAF %s, client certificate %s; a pool of %zu IMPIs "
				  "for %s",
			  wwsf_conf.identity, wwsf.oauth.waf_url, wwsf.client_cert, pool,
			  wwsf_conf.anonymous ? "guests and signed-in users" : "signed-in users");
	else
		WIMS_INFO("wwsf", "identity %s, WAF %s, client certificate %s", wwsf_conf.identity,
			  wwsf.oauth.waf_url, wwsf.client_cert);
	return 0;
}

static void wwsf_stop(void)
{
	if (wwsf.workers) {
		workers_run_each(wwsf.workers, close_on_worker, NULL);
		workers_stop_and_free(wwsf.workers);
		wwsf.workers = NULL;
	}
	free(wwsf.servers);
	wwsf.servers = NULL;
	free(wwsf.w);
	wwsf.w = NULL;
	wwsf_sessions_free(wwsf.api.sessions);
	ratelimit_free(wwsf.api.login_limit);
	web_accounts_close(wwsf.api.accounts);
	memset(&wwsf.api, 0, sizeof(wwsf.api));
	wwsf_pending_free(wwsf.oauth.pending);
	wwsf_pool_free(wwsf.oauth.pool);
	SSL_CTX_free(wwsf.oauth.waf_tls);
	memset(&wwsf.oauth, 0, sizeof(wwsf.oauth));
	SSL_CTX_free(wwsf.tls);
	wwsf.tls = NULL;
	free(wwsf.config_json);
	wwsf.config_json = NULL;
}

static int wwsf_cli_main(int argc, char **argv)
{
	return wwsf_cli(wwsf_conf.db, wwsf_conf.isim_db, argc, argv);
}

const struct role wwsf_role = {
	.name = "wwsf",
	.summary = "WWSF: serves the WebRTC IMS Client over HTTPS (W1) and the network ISIM",
	.conf = &wwsf_section,
	.start = wwsf_start,
	.stop = wwsf_stop,
	.cli = wwsf_cli_main,
	.cli_usage = wwsf_cli_usage,
};
