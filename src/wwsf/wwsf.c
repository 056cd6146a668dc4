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
 * Later issues (tokens from the WAF on W4, GBA NAF) add handlers beside
 * serve_static; the request router below is where.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
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
	struct isim **isims; /* one per worker: isim.h wants a handle per thread */
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
	struct isim **isim = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	if (wwsf_api_path(path)) {
		serve_api(req, path, *isim);
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
	wwsf.isims[index] = isim_open(wwsf.isim_path, err, sizeof(err));
	if (!wwsf.isims[index]) {
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
	evhttp_set_gencb(http, wwsf_request, &wwsf.isims[index]);
	wwsf.servers[index] = http;
}

static void close_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	if (wwsf.servers[index]) {
		evhttp_free(wwsf.servers[index]);
		wwsf.servers[index] = NULL;
	}
	isim_close(wwsf.isims[index]);
	wwsf.isims[index] = NULL;
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
			 "object-src 'none'; base-uri 'none'; form-action 'self'; "
			 "frame-ancestors 'none'",
			 probe, me);
	return (n < 0 || (size_t)n >= sizeof(wwsf.csp)) ? WIMS_ETOOBIG : 0;
}

static int build_config_json(void)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "pcscf_url", wwsf_conf.pcscf_url, "me_url",
			      wwsf_conf.me_url, "domain", wims_global.domain);
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
	if (wwsf_conf.demo_accounts) {
		struct isim *is = isim_open(wwsf.isim_path, err, sizeof(err));
		if (!is) {
			WIMS_ERROR("wwsf", "network ISIM: %s", err);
			wwsf_stop();
			return WIMS_ESTORE;
		}
		rc = wwsf_seed_demo(wwsf.api.accounts, is, wims_global.domain);
		isim_close(is);
		if (rc) {
			WIMS_ERROR("wwsf", "demo accounts: %s", wims_strerror(rc));
			wwsf_stop();
			return rc;
		}
	}
	wwsf.api.sessions = wwsf_sessions_new(0, (uint64_t)wwsf_conf.session_lifetime);
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
	wwsf.isims = calloc((size_t)n, sizeof(*wwsf.isims));
	wwsf.workers = wwsf.servers && wwsf.isims ? workers_new(n, "wwsf") : NULL;
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
	free(wwsf.isims);
	wwsf.isims = NULL;
	wwsf_sessions_free(wwsf.api.sessions);
	ratelimit_free(wwsf.api.login_limit);
	web_accounts_close(wwsf.api.accounts);
	memset(&wwsf.api, 0, sizeof(wwsf.api));
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
