/*
 * tls.c - the TLS policy of wims in one place (see tls.h), the self-signed
 * certificate of the demo, and bufferevent_openssl glue.
 */
#include "core/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/wims.h"

/* TLS 1.2: forward secrecy and AEAD only.  TLS 1.3 suites are all fine and
 * keep OpenSSL's defaults. */
static const char tls12_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

void tls_error_format(const char *prefix, char *err, size_t errsz)
{
	if (!err || errsz == 0) {
		ERR_clear_error();
		return;
	}
	unsigned long e = ERR_get_error();
	char reason[256];
	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "unknown error");
	snprintf(err, errsz, "%s: %s", prefix ? prefix : "TLS", reason);
	ERR_clear_error();
}

/* Settings shared by both directions. */
static int tls_ctx_common(SSL_CTX *ctx, char *err, size_t errsz)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		tls_error_format("TLS policy", err, errsz);
		return WIMS_ETLS;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* RELEASE_BUFFERS: DESIGN 6, idle connections hold no record
	 * buffers.  ACCEPT_MOVING_WRITE_BUFFER: libevent may retry a write
	 * from a different address after its evbuffer was rearranged.
	 * Partial writes stay off: bufferevent_openssl expects all or
	 * nothing per SSL_write. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char *err,
			    size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		tls_error_format("SSL_CTX_new", err, errsz);
		return NULL;
	}
	if (tls_ctx_common(ctx, err, errsz) != 0)
		goto fail;
	/* No tickets: nothing long-lived to protect; the session cache
	 * still gives resumption within one process. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (tls_ctx_use_cert(ctx, cert_file, key_file, err, errsz) != 0)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_ctx_use_cert(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
		     size_t errsz)
{
	char what[600];
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(what, sizeof(what), "certificate %s", cert_file);
		tls_error_format(what, err, errsz);
		return WIMS_ETLS;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof(what), "private key %s", key_file);
		tls_error_format(what, err, errsz);
		return WIMS_ETLS;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_format("key does not match certificate", err, errsz);
		return WIMS_ETLS;
	}
	return 0;
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_error_format("SSL_CTX_new", err, errsz);
		return NULL;
	}
	if (tls_ctx_common(ctx, err, errsz) != 0)
		goto fail;
	if (verify) {
		int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
				 : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			tls_error_format(ca_file ? ca_file : "default CA paths", err, errsz);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_server_ctx_require_client_cert(SSL_CTX *ctx, const char *ca_file, char *err,
				       size_t errsz)
{
	if (!ctx || !ca_file)
		return WIMS_EINVAL;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		tls_error_format(ca_file, err, errsz);
		return WIMS_ETLS;
	}
	/* Tell clients which roots we accept so they pick the right cert. */
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Sessions resumed across contexts must not skip the check. */
	static const unsigned char sid_ctx[] = "wims-mtls";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return 0;
}

/* Every chain is acceptable at the handshake: the fingerprint is checked
 * against a registry once we know which client the request claims to be. */
static int accept_any_cert(int preverify_ok, X509_STORE_CTX *x509_ctx)
{
	WIMS_UNUSED(preverify_ok);
	WIMS_UNUSED(x509_ctx);
	return 1;
}

int tls_server_ctx_request_client_cert(SSL_CTX *ctx)
{
	if (!ctx)
		return WIMS_EINVAL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_cert);
	/* A resumed session keeps the peer certificate of its first
	 * handshake; the id context ties sessions to this policy. */
	static const unsigned char sid_ctx[] = "wims-mtls-fp";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return 0;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	const char *const *protos = arg;
	WIMS_UNUSED(ssl);
	for (size_t i = 0; protos[i]; i++) {
		size_t pl = strlen(protos[i]);
		for (unsigned int off = 0; off < inlen;) {
			unsigned int l = in[off];
			if (off + 1 + l > inlen)
				break;
			if (l == pl && memcmp(in + off + 1, protos[i], pl) == 0) {
				*out = in + off + 1;
				*outlen = (unsigned char)l;
				return SSL_TLSEXT_ERR_OK;
			}
			off += 1 + l;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int tls_server_ctx_set_alpn(SSL_CTX *ctx, const char *const *protos)
{
	if (!ctx || !protos || !protos[0])
		return WIMS_EINVAL;
	for (size_t i = 0; protos[i]; i++)
		if (strlen(protos[i]) == 0 || strlen(protos[i]) > 255)
			return WIMS_EINVAL;
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, (void *)protos);
	return 0;
}

/* mkdir -p of path's parent directory, mode 0700 for what we create, with
 * the failure in err. */
static int make_parent_dirs(const char *path, char *err, size_t errsz)
{
	int rc = fs_make_parent_dirs(path, 0700);
	if (rc == WIMS_ETOOBIG)
		snprintf(err, errsz, "path too long: %s", path);
	else if (rc)
		snprintf(err, errsz, "cannot create the directory of %s: %s", path, strerror(errno));
	return rc;
}

static bool is_ip_literal(const char *s)
{
	unsigned char tmp[16];
	return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

/* Adds one X509v3 extension given in OpenSSL's config syntax. */
static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *const *names)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	struct buf san = BUF_INIT;
	const char *cn = names && names[0] ? names[0] : "localhost";

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive, as RFC 5280 4.1.2.2 wants */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (!sn || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, sn) != 1)
		goto fail;
	/* A minute of slack for clocks of peers on the same host. */
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600))
		goto fail;
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"wims",
				       -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
		goto fail;

	/* The given names first: tls_peer_name reports the first DNS one,
	 * which is how a peer (a WWSF on W4) is identified. */
	for (size_t i = 0; names && names[i]; i++) {
		const char *n = names[i];
		if (!*n || strchr(n, ',') || strcmp(n, "localhost") == 0 ||
		    strcmp(n, "127.0.0.1") == 0 || strcmp(n, "::1") == 0)
			continue;
		buf_printf(&san, "%s:%s,", is_ip_literal(n) ? "IP" : "DNS", n);
	}
	buf_append_cstr(&san, "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (san.err || add_ext(x, NID_subject_alt_name, buf_cstr(&san)) != 0 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	buf_free(&san);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return x;
fail:
	buf_free(&san);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* Opens path for writing, created new with mode. */
static FILE *create_file(const char *path, mode_t mode, char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errsz, "create %s: %s", path, strerror(errno));
		return NULL;
	}
	/* The umask may have cut bits we asked for or a pre-existing
	 * policy may differ: set exactly what we mean. */
	fchmod(fd, mode);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errsz, "fdopen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

int tls_ensure_self_signed(const char *cert_file, const char *key_file,
			   const char *const *names, char *err, size_t errsz)
{
	char dummy[1];
	if (!err || errsz == 0) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	err[0] = '\0';
	if (!cert_file || !key_file)
		return WIMS_EINVAL;
	bool have_cert = access(cert_file, F_OK) == 0;
	bool have_key = access(key_file, F_OK) == 0;
	if (have_cert && have_key)
		return 0;
	if (have_cert || have_key) {
		snprintf(err, errsz, "%s exists without %s: not overwriting",
			 have_cert ? cert_file : key_file, have_cert ? key_file : cert_file);
		return WIMS_EEXIST;
	}
	int rc = make_parent_dirs(cert_file, err, errsz);
	if (rc == 0)
		rc = make_parent_dirs(key_file, err, errsz);
	if (rc != 0)
		return rc;

	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!key) {
		tls_error_format("EC P-256 key generation", err, errsz);
		return WIMS_ETLS;
	}
	X509 *x = make_cert(key, names);
	if (!x) {
		tls_error_format("self-signed certificate", err, errsz);
		EVP_PKEY_free(key);
		return WIMS_ETLS;
	}

	rc = WIMS_EIO;
	FILE *kf = create_file(key_file, 0600, err, errsz);
	if (kf) {
		int ok = PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL);
		if (fclose(kf) != 0 || ok != 1) {
			snprintf(err, errsz, "write %s failed", key_file);
			unlink(key_file);
		} else {
			FILE *cf = create_file(cert_file, 0644, err, errsz);
			if (cf) {
				ok = PEM_write_X509(cf, x);
				if (fclose(cf) != 0 || ok != 1) {
					snprintf(err, errsz, "write %s failed", cert_file);
					unlink(cert_file);
					unlink(key_file);
				} else {
					rc = 0;
				}
			} else {
				unlink(key_file);
			}
		}
	}
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

struct bufferevent *tls_bev_accept(struct event_base *base, int fd, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl) {
		ERR_clear_error();
		close(fd);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	/* Browsers often close without close_notify; treat that as EOF, not
	 * as an error (truncation cannot hurt: WebSocket and HTTP frame
	 * their own messages). */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *server_name)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl) {
		ERR_clear_error();
		return NULL;
	}
	if (!server_name)
		return ssl;
	bool is_ip = is_ip_literal(server_name);
	if (!is_ip && SSL_set_tlsext_host_name(ssl, server_name) != 1)
		goto fail;
	if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name)
			       : SSL_set1_host(ssl, server_name);
		if (ok != 1)
			goto fail;
	}
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

SSL *tls_bev_ssl(struct bufferevent *bev)
{
	return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

/* The peer certificate, only if it verified. */
static X509 *verified_peer(struct bufferevent *bev)
{
	SSL *ssl = tls_bev_ssl(bev);
	if (!ssl)
		return NULL;
	X509 *x = SSL_get0_peer_certificate(ssl);
	if (!x || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	return x;
}

int tls_peer_name(struct bufferevent *bev, char *out, size_t outsz)
{
	if (!out || outsz == 0)
		return WIMS_EINVAL;
	out[0] = '\0';
	X509 *x = verified_peer(bev);
	if (!x)
		return WIMS_ENOTFOUND;
	const unsigned char *p = NULL;
	int len = -1;
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS) {
			p = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
			break;
		}
	}
	if (!p) {
		X509_NAME *name = X509_get_subject_name(x);
		int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
		if (idx >= 0) {
			ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
			p = ASN1_STRING_get0_data(s);
			len = ASN1_STRING_length(s);
		}
	}
	int rc;
	if (!p || len <= 0 || memchr(p, '\0', (size_t)len))
		rc = WIMS_ENOTFOUND;
	else if ((size_t)len >= outsz)
		rc = WIMS_ETOOBIG;
	else {
		memcpy(out, p, (size_t)len);
		out[len] = '\0';
		rc = len;
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

int tls_peer_fingerprint(struct bufferevent *bev, uint8_t out[32])
{
	X509 *x = verified_peer(bev);
	if (!x)
		return WIMS_ENOTFOUND;
	unsigned int n = 0;
	if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != 32) {
		ERR_clear_error();
		return WIMS_ETLS;
	}
	return 0;
}

int tls_peer_cert_sha256(struct bufferevent *bev, uint8_t out[32])
{
	SSL *ssl = tls_bev_ssl(bev);
	X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	if (!x)
		return WIMS_ENOTFOUND;
	unsigned int n = 0;
	if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != 32) {
		ERR_clear_error();
		return WIMS_ETLS;
	}
	return 0;
}
