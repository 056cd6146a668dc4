/*
 * http.h - thin helpers for the HTTP roles (wwsf, waf, bsf) on libevent's
 * evhttp, over TLS (bufferevent_openssl through evhttp_set_bevcb).
 *
 * evhttp does the HTTP; this file only makes the listening side TLS, the
 * outgoing side TLS, and the answers uniform: every reply carries the
 * security headers (nosniff, frame denial, no referrer, HSTS on TLS, the
 * caller's Content-Security-Policy), and error bodies are short plain
 * text that never echoes the request.
 *
 * Like everything on an event_base, an evhttp belongs to one worker.
 */
#ifndef WIMS_CORE_HTTP_H
#define WIMS_CORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct evhttp_connection;
struct bufferevent;

/* An evhttp listening on host:port (net_listen_tcp host rules; port 0
 * picks one: http_server_port).  tls != NULL makes every connection a
 * server bufferevent_openssl (plaintext HTTP to it fails the TLS handshake
 * and is dropped); NULL serves plain HTTP (tests, behind a TLS proxy).
 * Sets the connection limit (WIMS_MAX_CONNECTIONS), a header/body size
 * bound (WIMS_HTTP_MAX_HEADERS / WIMS_HTTP_MAX_BODY) and a timeout
 * (WIMS_HTTP_TIMEOUT_S).  The caller adds handlers (evhttp_set_cb,
 * evhttp_set_gencb) and frees with evhttp_free; tls must outlive it.
 * Returns NULL and err on failure. */
struct evhttp *http_server_new(struct event_base *base, const char *host, int port,
			       SSL_CTX *tls, char *err, size_t errsz);

/* Same, with SO_REUSEPORT so every worker can serve the same port. */
struct evhttp *http_server_new_reuseport(struct event_base *base, const char *host, int port,
					 SSL_CTX *tls, char *err, size_t errsz);

/* The local port of the server's (first) listening socket, or -1. */
int http_server_port(struct evhttp *http);

/* An outgoing connection for evhttp_make_request (W4, W5, Zn): TLS when tls
 * != NULL (server_name as SNI and, if tls verifies, as the name checked;
 * NULL = host), plain otherwise.  Timeout WIMS_HTTP_TIMEOUT_S.  host is a
 * numeric address or "localhost".  Free with evhttp_connection_free.
 * Returns NULL on failure. */
struct evhttp_connection *http_client_conn_new(struct event_base *base, const char *host,
					       int port, SSL_CTX *tls,
					       const char *server_name);

/* Adds the security headers to req's output headers: X-Content-Type-
 * Options nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer,
 * Cache-Control no-store unless cacheable, Strict-Transport-Security when
 * the connection is TLS, Content-Security-Policy csp when not NULL. */
void http_add_security_headers(struct evhttp_request *req, const char *csp, bool cacheable);

/* Sends code with a JSON body (json, len bytes) and the security headers
 * (CSP "default-src 'none'"). */
void http_reply_json(struct evhttp_request *req, int code, const char *json, size_t len);

/* Sends code with a short text/plain body: reason and a newline. */
void http_reply_error(struct evhttp_request *req, int code, const char *reason);

/* Sends the file at path (regular file, at most WIMS_HTTP_MAX_FILE bytes)
 * as 200 with content_type (NULL: guessed from the extension by
 * http_content_type) and the security headers with csp.  On failure sends
 * 404 (missing) or 500 itself.  Returns 0 or a negative WIMS_E* (already
 * answered).  The caller maps URLs to paths and refuses ".." itself. */
int http_reply_file(struct evhttp_request *req, const char *path, const char *content_type,
		    const char *csp);

/* A Content-Type for a file name's extension (html, js, mjs, css, json,
 * svg, png, ico, wasm, txt); "application/octet-stream" otherwise. */
const char *http_content_type(const char *path);

/* The bufferevent under a request's connection (for tls_peer_name on W4
 * mutual TLS), or NULL. */
struct bufferevent *http_request_bufferevent(struct evhttp_request *req);

#endif
