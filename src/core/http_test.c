/* http_test.c - evhttp over TLS: a request through http_client_conn_new,
 * JSON, file and error replies with the security headers, plaintext to
 * the TLS port refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/http.h"
#include "core/tls.h"
#include "core/wims.h"
#include "unit.h"

static struct event_base *base;
static SSL_CTX *server_ctx, *client_ctx;
static char dir[64], cert[128], key[128], page[128];

static void handler(struct evhttp_request *req, void *arg)
{
	WIMS_UNUSED(arg);
	const char *uri = evhttp_request_get_uri(req);
	if (strcmp(uri, "/json") == 0)
		http_reply_json(req, 200, "{\"ok\":true}", 11);
	else if (strcmp(uri, "/index.html") == 0)
		http_reply_file(req, page, NULL, "default-src 'self'");
	else if (strcmp(uri, "/missing.html") == 0)
		http_reply_file(req, "/nonexistent/x.html", NULL, NULL);
	else
		http_reply_error(req, 403, "go away");
}

struct result {
	bool done;
	int code;
	char body[256];
	char type[64], hsts[64], nosniff[32], csp[64];
};

static void copy_header(struct evkeyvalq *h, const char *name, char *out, size_t outsz)
{
	const char *v = evhttp_find_header(h, name);
	snprintf(out, outsz, "%s", v ? v : "");
}

static void response_cb(struct evhttp_request *req, void *arg)
{
	struct result *r = arg;
	r->done = true;
	if (!req)
		return;
	r->code = evhttp_request_get_response_code(req);
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	int n = evbuffer_remove(b, r->body, sizeof(r->body) - 1);
	r->body[n > 0 ? n : 0] = '\0';
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	copy_header(h, "Content-Type", r->type, sizeof(r->type));
	copy_header(h, "Strict-Transport-Security", r->hsts, sizeof(r->hsts));
	copy_header(h, "X-Content-Type-Options", r->nosniff, sizeof(r->nosniff));
	copy_header(h, "Content-Security-Policy", r->csp, sizeof(r->csp));
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	WIMS_UNUSED(arg);
}

static bool get(int port, SSL_CTX *tls, const char *path, struct result *r)
{
	memset(r, 0, sizeof(*r));
	struct evhttp_connection *evcon =
		http_client_conn_new(base, "127.0.0.1", port, tls, "127.0.0.1");
	if (!evcon)
		return false;
	struct evhttp_request *req = evhttp_request_new(response_cb, r);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	if (evhttp_make_request(evcon, req, EVHTTP_REQ_GET, path) != 0) {
		evhttp_connection_free(evcon);
		return false;
	}
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = {0, 5000};
	event_add(t, &tv);
	for (int i = 0; i < 1000 && !r->done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	evhttp_connection_free(evcon);
	return r->done;
}

static void json_over_tls_with_security_headers(void)
{
	char err[256];
	struct evhttp *http = http_server_new(base, "127.0.0.1", 0, server_ctx, err, sizeof(err));
	EXPECT_TRUE(http);
	evhttp_set_gencb(http, handler, NULL);
	int port = http_server_port(http);
	EXPECT_INT(port, >, 0);
	struct result r;
	EXPECT_TRUE(get(port, client_ctx, "/json", &r));
	EXPECT_INT(r.code, ==, 200);
	EXPECT_STR(r.body, "{\"ok\":true}");
	EXPECT_STR(r.type, "application/json");
	EXPECT_STR(r.hsts, "max-age=31536000");
	EXPECT_STR(r.nosniff, "nosniff");
	EXPECT_STR(r.csp, "default-src 'none'");

	EXPECT_TRUE(get(port, client_ctx, "/index.html", &r));
	EXPECT_INT(r.code, ==, 200);
	EXPECT_STR(r.body, "<!doctype html><title>wic</title>\n");
	EXPECT_STR(r.type, "text/html; charset=utf-8");
	EXPECT_STR(r.csp, "default-src 'self'");

	EXPECT_TRUE(get(port, client_ctx, "/missing.html", &r));
	EXPECT_INT(r.code, ==, 404);

	EXPECT_TRUE(get(port, client_ctx, "/other", &r));
	EXPECT_INT(r.code, ==, 403);
	EXPECT_STR(r.body, "go away\n");
	EXPECT_STR(r.type, "text/plain; charset=utf-8");
	evhttp_free(http);
}

static void plaintext_to_tls_port_gets_no_answer(void)
{
	char err[256];
	struct evhttp *http = http_server_new(base, "127.0.0.1", 0, server_ctx, err, sizeof(err));
	EXPECT_TRUE(http);
	evhttp_set_gencb(http, handler, NULL);
	struct result r;
	EXPECT_TRUE(get(http_server_port(http), NULL, "/json", &r));
	EXPECT_TRUE(r.code != 200);
	EXPECT_TRUE(strcmp(r.body, "{\"ok\":true}") != 0);
	evhttp_free(http);
}

static void plain_server_serves_plain(void)
{
	char err[256];
	struct evhttp *http = http_server_new(base, "127.0.0.1", 0, NULL, err, sizeof(err));
	EXPECT_TRUE(http);
	evhttp_set_gencb(http, handler, NULL);
	struct result r;
	EXPECT_TRUE(get(http_server_port(http), NULL, "/json", &r));
	EXPECT_INT(r.code, ==, 200);
	/* No HSTS over plain HTTP: it would be ignored and misleading. */
	EXPECT_STR(r.hsts, "");
	evhttp_free(http);
}

static void content_types(void)
{
	EXPECT_STR(http_content_type("web/app.js"), "text/javascript; charset=utf-8");
	EXPECT_STR(http_content_type("index.html"), "text/html; charset=utf-8");
	EXPECT_STR(http_content_type("a.b/noext"), "application/octet-stream");
	EXPECT_STR(http_content_type("x.wasm"), "application/wasm");
}

int main(void)
{
	char err[256];
	snprintf(dir, sizeof(dir), "/tmp/wims-http-test-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(page, sizeof(page), "%s/index.html", dir);
	FILE *f = fopen(page, "w");
	fputs("<!doctype html><title>wic</title>\n", f);
	fclose(f);
	if (tls_ensure_self_signed(cert, key, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	server_ctx = tls_server_ctx_new(cert, key, err, sizeof(err));
	client_ctx = tls_client_ctx_new(cert, true, err, sizeof(err));
	base = event_base_new();

	UNIT_RUN(json_over_tls_with_security_headers);
	UNIT_RUN(plaintext_to_tls_port_gets_no_answer);
	UNIT_RUN(plain_server_serves_plain);
	UNIT_RUN(content_types);

	event_base_free(base);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	unlink(cert);
	unlink(key);
	unlink(page);
	rmdir(dir);
	return UNIT_MAIN_END();
}
