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
 * Later issues (log-in, tokens from the WAF on W4, GBA NAF, network ISIM)
 * add handlers beside serve_static; the request router below is where.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/conf.h"
#include "core/global.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/slice.h"
#include "core/tls.h"
#include "core/wims.h"
#include "role.h"
#include "wwsf/path.h"

struct wwsf_conf {
	char listen[128];
	char root[512];
	char pcscf_url[256];
};

static struct wwsf_conf wwsf_conf;

static const struct conf_key wwsf_keys[] = {
	CONF_KEY_ADDR(struct wwsf_conf, listen, "127.0.0.1:8443",
		      "HTTPS address the WIC is served on (W1)"),
	CONF_KEY_STR(struct wwsf_conf, root, "web/dist",
		     "directory of the built WIC (npm run build in web/)"),
	CONF_KEY_STR(struct wwsf_conf, pcscf_url, "wss://127.0.0.1:7443/",
		     "eP-CSCF WebSocket URL the page connects to (W2), sent in /config.json"),
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
	char csp[768];
	char *config_json; /* malloc'd by jansson */
	int error;         /* first listener error, set by the workers */
	char errmsg[256];
} wwsf;

/* GET/HEAD /config.json: {"pcscf_url": ..., "domain": ...} */
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

static void wwsf_request(struct evhttp_request *req, void *arg)
{
	WIMS_UNUSED(arg);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	if (strcmp(path, "/config.json") == 0) {
		serve_config(req);
		return;
	}
	serve_static(req, path);
}

static void listen_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	char err[256];
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
	evhttp_set_gencb(http, wwsf_request, NULL);
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
}

/* connect-src: this site, any wss: (the page lets a person choose another
 * server) and the https: origin of the configured eP-CSCF, which the page
 * asks to tell a refused Origin from an unreachable server. */
static int build_csp(void)
{
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
			 "img-src 'self' data:; connect-src 'self' wss:%s; "
			 "object-src 'none'; base-uri 'none'; form-action 'self'; "
			 "frame-ancestors 'none'",
			 probe);
	return (n < 0 || (size_t)n >= sizeof(wwsf.csp)) ? WIMS_ETOOBIG : 0;
}

static int build_config_json(void)
{
	json_t *o = json_pack("{s:s, s:s}", "pcscf_url", wwsf_conf.pcscf_url, "domain",
			      wims_global.domain);
	if (!o)
		return WIMS_ENOMEM;
	wwsf.config_json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return wwsf.config_json ? 0 : WIMS_ENOMEM;
}

static void wwsf_stop(void);

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
	wwsf.workers = wwsf.servers ? workers_new(n, "wwsf") : NULL;
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
	WIMS_INFO("wwsf", "serving %s on https://%s/ (%d workers), pcscf %s", wwsf_conf.root,
		  wwsf_conf.listen, n, wwsf_conf.pcscf_url);
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
	SSL_CTX_free(wwsf.tls);
	wwsf.tls = NULL;
	free(wwsf.config_json);
	wwsf.config_json = NULL;
}

const struct role wwsf_role = {
	.name = "wwsf",
	.summary = "WWSF: serves the WebRTC IMS Client over HTTPS (W1)",
	.conf = &wwsf_section,
	.start = wwsf_start,
	.stop = wwsf_stop,
};
