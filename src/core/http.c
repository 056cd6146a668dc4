/*
 * http.c - evhttp over TLS, and uniform replies (see http.h).
 *
 * TLS: evhttp_set_bevcb makes every accepted connection a server
 * bufferevent_openssl.  That callback must never fail (evhttp would fall
 * back to a plain bufferevent: plaintext on a TLS port), so a connection
 * over the limit still gets an SSL, one with no protocol version enabled:
 * its handshake fails at the first byte and evhttp drops it.
 *
 * Connection limit: evhttp 2.1 has none.  The count lives on the SSL_CTX
 * (ex_data, freed with it) and each SSL carries a reference that its free
 * gives back, so the count is exact whichever way evhttp ends a
 * connection.  With one SSL_CTX per role that is a limit per role.
 */
#include "core/http.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "core/limits.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"

struct http_count {
	atomic_int conns;
};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t ex_mu = PTHREAD_MUTEX_INITIALIZER;
static int ctx_idx = -1, ssl_idx = -1;

static void ctx_count_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp)
{
	WIMS_UNUSED(parent);
	WIMS_UNUSED(ad);
	WIMS_UNUSED(idx);
	WIMS_UNUSED(argl);
	WIMS_UNUSED(argp);
	free(ptr);
}

static void ssl_count_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp)
{
	WIMS_UNUSED(parent);
	WIMS_UNUSED(ad);
	WIMS_UNUSED(idx);
	WIMS_UNUSED(argl);
	WIMS_UNUSED(argp);
	struct http_count *count = ptr;
	if (count)
		atomic_fetch_sub(&count->conns, 1);
}

static void ex_init(void)
{
	ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_count_free);
	ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_count_free);
}

/* The counter of ctx, made on first use. */
static struct http_count *ctx_count(SSL_CTX *ctx)
{
	pthread_once(&ex_once, ex_init);
	if (ctx_idx < 0 || ssl_idx < 0)
		return NULL;
	pthread_mutex_lock(&ex_mu);
	struct http_count *count = SSL_CTX_get_ex_data(ctx, ctx_idx);
	if (!count) {
		count = calloc(1, sizeof(*count));
		if (count && SSL_CTX_set_ex_data(ctx, ctx_idx, count) != 1) {
			free(count);
			count = NULL;
		}
	}
	pthread_mutex_unlock(&ex_mu);
	return count;
}

static struct bufferevent *server_bevcb(struct event_base *base, void *arg)
{
	SSL_CTX *ctx = arg;
	SSL *ssl = SSL_new(ctx);
	if (!ssl) {
		/* Returning NULL would make evhttp serve plaintext. */
		abort();
	}
	struct http_count *count = SSL_CTX_get_ex_data(ctx, ctx_idx);
	if (count && atomic_load(&count->conns) >= WIMS_MAX_CONNECTIONS) {
		SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
		SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
	} else if (count) {
		atomic_fetch_add(&count->conns, 1);
		SSL_set_ex_data(ssl, ssl_idx, count);
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		abort();
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static struct evhttp *server_new(struct event_base *base, const char *host, int port,
				 bool reuseport, SSL_CTX *tls, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_addr_make(host, port, &ss, &sl) != 0) {
		if (err && errsz)
			snprintf(err, errsz, "bad address \"%s\" port %d", host ? host : "", port);
		return NULL;
	}
	if (tls && !ctx_count(tls)) {
		if (err && errsz)
			snprintf(err, errsz, "cannot attach the connection counter");
		return NULL;
	}
	struct evhttp *http = evhttp_new(base);
	if (!http) {
		if (err && errsz)
			snprintf(err, errsz, "evhttp_new failed");
		return NULL;
	}
	/* Before binding, so that no connection is ever accepted plain. */
	if (tls)
		evhttp_set_bevcb(http, server_bevcb, tls);
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
	if (reuseport)
		flags |= LEV_OPT_REUSEABLE_PORT;
	struct evconnlistener *lev = evconnlistener_new_bind(
		base, NULL, NULL, flags, WIMS_LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)sl);
	if (!lev) {
		if (err && errsz)
			snprintf(err, errsz, "listen %s:%d: %s", host ? host : "*", port,
				 strerror(errno));
		evhttp_free(http);
		return NULL;
	}
	if (!evhttp_bind_listener(http, lev)) {
		if (err && errsz)
			snprintf(err, errsz, "evhttp_bind_listener failed");
		evconnlistener_free(lev);
		evhttp_free(http);
		return NULL;
	}
	evhttp_set_max_headers_size(http, WIMS_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(http, WIMS_HTTP_MAX_BODY);
	evhttp_set_timeout(http, WIMS_HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
						 EVHTTP_REQ_DELETE);
	return http;
}

struct evhttp *http_server_new(struct event_base *base, const char *host, int port,
			       SSL_CTX *tls, char *err, size_t errsz)
{
	return server_new(base, host, port, false, tls, err, errsz);
}

struct evhttp *http_server_new_reuseport(struct event_base *base, const char *host, int port,
					 SSL_CTX *tls, char *err, size_t errsz)
{
	return server_new(base, host, port, true, tls, err, errsz);
}

static void first_port(struct evhttp_bound_socket *bs, void *arg)
{
	int *port = arg;
	if (*port >= 0)
		return;
	evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = net_addr_port((struct sockaddr *)&ss);
}

int http_server_port(struct evhttp *http)
{
	int port = -1;
	evhttp_foreach_bound_socket(http, first_port, &port);
	return port;
}

struct evhttp_connection *http_client_conn_new(struct event_base *base, const char *host,
					       int port, SSL_CTX *tls,
					       const char *server_name)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!host || net_addr_make(host, port, &ss, &sl) != 0)
		return NULL;
	struct bufferevent *bev = NULL;
	if (tls) {
		SSL *ssl = tls_client_ssl_new(tls, server_name ? server_name : host);
		if (!ssl)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!bev) {
			SSL_free(ssl);
			return NULL;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	/* "localhost" resolves through getaddrinfo inside evhttp; numeric
	 * addresses do not block. */
	struct evhttp_connection *evcon =
		evhttp_connection_base_bufferevent_new(base, NULL, bev, host, (unsigned short)port);
	if (!evcon) {
		if (bev)
			bufferevent_free(bev);
		return NULL;
	}
	evhttp_connection_set_timeout(evcon, WIMS_HTTP_TIMEOUT_S);
	evhttp_connection_set_retries(evcon, 0);
	return evcon;
}

struct bufferevent *http_request_bufferevent(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	return evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
}

void http_add_security_headers(struct evhttp_request *req, const char *csp, bool cacheable)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	if (!cacheable)
		evhttp_add_header(h, "Cache-Control", "no-store");
	if (tls_bev_ssl(http_request_bufferevent(req)))
		evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	if (csp)
		evhttp_add_header(h, "Content-Security-Policy", csp);
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return NULL;
	}
}

static void send_body(struct evhttp_request *req, int code, const char *type, const void *p,
		      size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (len)
		evbuffer_add(b, p, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, code, reason_phrase(code), b);
	evbuffer_free(b);
}

void http_reply_json(struct evhttp_request *req, int code, const char *json, size_t len)
{
	http_add_security_headers(req, "default-src 'none'", false);
	send_body(req, code, "application/json", json, len);
}

void http_reply_error(struct evhttp_request *req, int code, const char *reason)
{
	char body[256];
	const char *text = reason ? reason : reason_phrase(code);
	int n = snprintf(body, sizeof(body), "%s\n", text ? text : "error");
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	http_add_security_headers(req, "default-src 'none'", false);
	send_body(req, code, "text/plain; charset=utf-8", body, (size_t)n);
}

const char *http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".json", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".wasm", "application/wasm"},
		{".txt", "text/plain; charset=utf-8"},
		{".map", "application/json"},
	};
	const char *dot = path ? strrchr(path, '.') : NULL;
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < WIMS_ARRAY_LEN(types); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

int http_reply_file(struct evhttp_request *req, const char *path, const char *content_type,
		    const char *csp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		http_reply_error(req, 404, "not found");
		return WIMS_ENOTFOUND;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_reply_error(req, 404, "not found");
		return WIMS_ENOTFOUND;
	}
	if (st.st_size > WIMS_HTTP_MAX_FILE) {
		close(fd);
		http_reply_error(req, 500, "file too large");
		return WIMS_ETOOBIG;
	}
	/* Read into memory rather than evbuffer_add_file: file segments
	 * (sendfile/mmap) do not mix with bufferevent_openssl. */
	size_t size = (size_t)st.st_size;
	char *data = size ? malloc(size) : NULL;
	size_t got = 0;
	while (data && got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (size && (!data || got != size)) {
		free(data);
		http_reply_error(req, 500, "read failed");
		return WIMS_EIO;
	}
	http_add_security_headers(req, csp, false);
	send_body(req, 200, content_type ? content_type : http_content_type(path), data, size);
	free(data);
	return 0;
}
