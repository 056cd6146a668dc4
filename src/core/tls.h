/*
 * tls.h - OpenSSL 3 contexts and bufferevent_openssl wrappers.
 *
 * One SSL_CTX per role and direction, made at start-up and shared by every
 * worker (an SSL_CTX is thread-safe once configured; configure it before
 * the first connection uses it).  Policy, the same everywhere so that it
 * is reviewed once (TR 33.871 REQ 1.1, 2.6, 3.3: TLS on W1, W2, W4):
 *  - TLS 1.2 and 1.3 only; TLS 1.2 limited to ECDHE + AEAD suites;
 *    no compression, no renegotiation, no session tickets on servers
 *    (no long-lived ticket key to protect).
 *  - SSL_MODE_RELEASE_BUFFERS: an idle connection keeps no 34 KB read and
 *    write buffers (DESIGN 6: thousands of idle WebSockets).
 *  - Clients verify the peer and its name unless told not to (the demo's
 *    self-signed certificate).
 *
 * Errors are written into err (errsz bytes) as one line including the
 * OpenSSL reason; the functions never print.
 */
#ifndef WIMS_CORE_TLS_H
#define WIMS_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct bufferevent;

/* Server context from a PEM certificate chain file and a PEM private key
 * file (the key must match the certificate).  NULL on failure. */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char *err,
			    size_t errsz);

/* Client context.  ca_file: PEM bundle of trusted roots, or NULL for the
 * system store.  verify false accepts any certificate (tests, the demo's
 * self-signed certificate): never in production.  NULL on failure. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errsz);

/* Mutual TLS (W4, REQ 3.3): the server asks for a client certificate and
 * refuses the handshake without one signed by a root in ca_file.  The
 * verified identity is read with tls_peer_name / tls_peer_fingerprint.
 * Returns 0 or WIMS_ETLS. */
int tls_server_ctx_require_client_cert(SSL_CTX *ctx, const char *ca_file, char *err,
				       size_t errsz);

/* Mutual TLS by certificate fingerprint (RFC 8705 2.2, self-signed
 * certificate method; the WAF on W4/W5): the server asks every client for a
 * certificate but does not require one, and accepts any certificate,
 * self-signed included, whose key the client proves it holds (the TLS
 * CertificateVerify).  Whether the certificate means anything is decided
 * later, per request, by comparing tls_peer_cert_sha256 with a registry.
 * Returns 0 or WIMS_EINVAL. */
int tls_server_ctx_request_client_cert(SSL_CTX *ctx);

/* Gives a client context a certificate to present (W4 client side).
 * Returns 0 or WIMS_ETLS. */
int tls_ctx_use_cert(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
		     size_t errsz);

/* ALPN for a server: protos is a NULL-terminated list in preference order
 * ("http/1.1", ...); a client offering none of them is refused.  The list
 * must outlive ctx.  Returns 0 or WIMS_EINVAL. */
int tls_server_ctx_set_alpn(SSL_CTX *ctx, const char *const *protos);

/* Creates cert_file and key_file, unless both exist already (then nothing
 * is touched and 0 is returned; one without the other is WIMS_EEXIST so
 * that a real key is never overwritten).  The key is EC P-256
 * (EVP_PKEY_Q_keygen), the certificate self-signed, valid one year, CN the
 * first name (or "localhost"), with subjectAltName each of names
 * (NULL-terminated list, may be NULL; IP literals become IP entries, others
 * DNS) then localhost, 127.0.0.1 and ::1.  Parent directories are created (0700),
 * the key file is written with mode 0600.  Returns 0 or a negative
 * WIMS_E*. */
int tls_ensure_self_signed(const char *cert_file, const char *key_file,
			   const char *const *names, char *err, size_t errsz);

/* Wraps an accepted socket into a server bufferevent_openssl on base
 * (BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS); the TLS handshake runs
 * as soon as the bufferevent is enabled for reading.  On failure fd is
 * closed and NULL returned. */
struct bufferevent *tls_bev_accept(struct event_base *base, int fd, SSL_CTX *ctx);

/* A new SSL for a client connection made from ctx: SNI set to server_name
 * (unless it is an IP literal, RFC 6066 3) and, when ctx verifies peers,
 * the name (DNS or IP) the certificate must carry.  NULL if server_name is
 * NULL (then nothing is checked) is fine.  Returns NULL on failure. */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *server_name);

/* The SSL of a bufferevent_openssl (for inspection: version, cipher), or
 * NULL if bev is a plain bufferevent. */
SSL *tls_bev_ssl(struct bufferevent *bev);

/* The verified peer certificate's identity: the first subjectAltName DNS
 * entry, else the subject CN.  Returns the length, WIMS_ENOTFOUND if the
 * peer sent no certificate or it did not verify, WIMS_ETOOBIG. */
int tls_peer_name(struct bufferevent *bev, char *out, size_t outsz);

/* SHA-256 of the peer certificate (DER).  Returns 0, WIMS_ENOTFOUND. */
int tls_peer_fingerprint(struct bufferevent *bev, uint8_t out[32]);

/* SHA-256 of the certificate (DER) the peer presented, whether or not it
 * chains to a trusted root: for a context made with
 * tls_server_ctx_request_client_cert, where the fingerprint itself is the
 * credential.  Returns 0, WIMS_ENOTFOUND (no certificate). */
int tls_peer_cert_sha256(struct bufferevent *bev, uint8_t out[32]);

/* One line describing the last OpenSSL error(s) of this thread, appended
 * after prefix into err; clears the error queue. */
void tls_error_format(const char *prefix, char *err, size_t errsz);

#endif
