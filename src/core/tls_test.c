/* tls_test.c - the self-signed certificate (files, modes, names, never
 * overwritten), contexts, and handshakes over loopback: verified name,
 * wrong name, old protocol refused, mutual TLS with and without a client
 * certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"
#include "unit.h"

static char dir[64];
static char srv_cert[128], srv_key[128], cli_cert[128], cli_key[128];
static struct event_base *base;

static bool file_mode(const char *path, mode_t *mode)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	*mode = st.st_mode & 0777;
	return true;
}

static void self_signed_creates_files_with_private_key_0600(void)
{
	char err[256];
	static const char *const names[] = {"pcscf.wims.test", "10.1.2.3", NULL};
	EXPECT_INT(tls_ensure_self_signed(srv_cert, srv_key, names, err, sizeof(err)), ==, 0);
	mode_t m;
	EXPECT_TRUE(file_mode(srv_key, &m));
	EXPECT_INT(m, ==, 0600);
	EXPECT_TRUE(file_mode(srv_cert, &m));
	EXPECT_INT(m & 0600, ==, 0600);
	char parent[128];
	snprintf(parent, sizeof(parent), "%s/a/b", dir);
	EXPECT_TRUE(file_mode(parent, &m));
	EXPECT_INT(m, ==, 0700);

	FILE *f = fopen(srv_cert, "r");
	EXPECT_TRUE(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	EXPECT_TRUE(x);
	/* Names: the given ones, localhost and both loopbacks. */
	EXPECT_INT(X509_check_host(x, "pcscf.wims.test", 0, 0, NULL), ==, 1);
	EXPECT_INT(X509_check_host(x, "localhost", 0, 0, NULL), ==, 1);
	EXPECT_INT(X509_check_ip_asc(x, "10.1.2.3", 0), ==, 1);
	EXPECT_INT(X509_check_ip_asc(x, "127.0.0.1", 0), ==, 1);
	EXPECT_INT(X509_check_ip_asc(x, "::1", 0), ==, 1);
	EXPECT_INT(X509_check_host(x, "other.wims.test", 0, 0, NULL), ==, 0);
	/* EC P-256 key, valid about a year. */
	EVP_PKEY *pk = X509_get0_pubkey(x);
	EXPECT_TRUE(pk && EVP_PKEY_is_a(pk, "EC"));
	EXPECT_INT(EVP_PKEY_get_bits(pk), ==, 256);
	int days = 0, secs = 0;
	EXPECT_INT(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
		   ==, 1);
	EXPECT_INT(days, >=, 364);
	EXPECT_INT(days, <=, 366);
	X509_free(x);
}

static bool read_file(const char *path, char *out, size_t outsz)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(out, 1, outsz - 1, f);
	out[n] = '\0';
	fclose(f);
	return n > 0;
}

static void self_signed_does_not_overwrite(void)
{
	char err[256], before[4096], after[4096], kbefore[1024], kafter[1024];
	EXPECT_TRUE(read_file(srv_cert, before, sizeof(before)));
	EXPECT_TRUE(read_file(srv_key, kbefore, sizeof(kbefore)));
	EXPECT_INT(tls_ensure_self_signed(srv_cert, srv_key, NULL, err, sizeof(err)), ==, 0);
	EXPECT_TRUE(read_file(srv_cert, after, sizeof(after)));
	EXPECT_TRUE(read_file(srv_key, kafter, sizeof(kafter)));
	EXPECT_STR(after, before);
	EXPECT_STR(kafter, kbefore);

	/* A key without its certificate is not replaced either. */
	char lone_cert[160];
	snprintf(lone_cert, sizeof(lone_cert), "%s/lone-cert.pem", dir);
	EXPECT_INT(tls_ensure_self_signed(lone_cert, srv_key, NULL, err, sizeof(err)), ==,
		   WIMS_EEXIST);
	EXPECT_TRUE(access(lone_cert, F_OK) != 0);
	EXPECT_TRUE(read_file(srv_key, kafter, sizeof(kafter)));
	EXPECT_STR(kafter, kbefore);
}

static void server_ctx_refuses_mismatched_key(void)
{
	char err[256];
	SSL_CTX *ok = tls_server_ctx_new(srv_cert, srv_key, err, sizeof(err));
	EXPECT_TRUE(ok);
	SSL_CTX_free(ok);
	/* cli_key belongs to another certificate. */
	SSL_CTX *bad = tls_server_ctx_new(srv_cert, cli_key, err, sizeof(err));
	EXPECT_TRUE(bad == NULL);
	EXPECT_TRUE(strstr(err, "key does not match") || strstr(err, "private key"));
	EXPECT_TRUE(tls_server_ctx_new("/nonexistent.pem", srv_key, err, sizeof(err)) == NULL);
	EXPECT_TRUE(strstr(err, "/nonexistent.pem"));
}

/* --- loopback handshakes ------------------------------------------------ */

struct end {
	bool connected, failed;
	struct bufferevent *bev;
	char peer_name[128];
	int peer_name_rc;
};

static void end_event(struct bufferevent *bev, short what, void *arg)
{
	struct end *e = arg;
	if (what & BEV_EVENT_CONNECTED) {
		e->connected = true;
		e->peer_name_rc = tls_peer_name(bev, e->peer_name, sizeof(e->peer_name));
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		e->failed = true;
}

static void end_read(struct bufferevent *bev, void *arg)
{
	WIMS_UNUSED(arg);
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

struct server {
	SSL_CTX *ctx;
	struct end end;
};

static void accept_cb(struct net_listener *l, int fd, const struct sockaddr *peer,
		      socklen_t len, void *arg)
{
	struct server *s = arg;
	WIMS_UNUSED(peer);
	WIMS_UNUSED(len);
	s->end.bev = tls_bev_accept(base, fd, s->ctx);
	net_listener_conn_done(l); /* this test does not count */
	if (!s->end.bev)
		return;
	bufferevent_setcb(s->end.bev, end_read, NULL, end_event, &s->end);
	bufferevent_enable(s->end.bev, EV_READ | EV_WRITE);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	WIMS_UNUSED(arg);
}

/* Connects cli_ctx to a server with srv_ctx; true if both ends reported
 * success within 5 s.  The server's view of the client's name goes to
 * server_peer (may be NULL). */
static bool handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, const char *name,
		      char *server_peer, size_t spsz)
{
	char err[256];
	struct server s = {.ctx = server_ctx};
	struct net_listener *l =
		net_listen_tcp(base, "127.0.0.1", 0, false, accept_cb, &s, err, sizeof(err));
	if (!l)
		return false;
	struct end c = {0};
	c.bev = net_connect_tcp(base, "127.0.0.1", net_listener_port(l), client_ctx, name, err,
				sizeof(err));
	if (!c.bev) {
		net_listener_free(l);
		return false;
	}
	bufferevent_setcb(c.bev, end_read, NULL, end_event, &c);
	bufferevent_enable(c.bev, EV_READ | EV_WRITE);
	/* TLS 1.3: the server learns of a refused client certificate only
	 * after its own handshake "completed"; wait for a read to settle. */
	bufferevent_write(c.bev, "x", 1);
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = {0, 5000};
	event_add(t, &tv);
	for (int i = 0; i < 1000; i++) {
		bool settled = (c.connected || c.failed) && (s.end.connected || s.end.failed);
		if (settled && (c.failed || s.end.failed || i > 20))
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(t);
	bool ok = c.connected && !c.failed && s.end.connected && !s.end.failed;
	if (server_peer)
		snprintf(server_peer, spsz, "%s", s.end.peer_name_rc > 0 ? s.end.peer_name : "");
	bufferevent_free(c.bev);
	if (s.end.bev)
		bufferevent_free(s.end.bev);
	net_listener_free(l);
	return ok;
}

static void verified_handshake_by_ip_and_name(void)
{
	char err[256];
	SSL_CTX *sctx = tls_server_ctx_new(srv_cert, srv_key, err, sizeof(err));
	SSL_CTX *cctx = tls_client_ctx_new(srv_cert, true, err, sizeof(err));
	EXPECT_TRUE(sctx && cctx);
	EXPECT_TRUE(handshake(sctx, cctx, "127.0.0.1", NULL, 0));
	EXPECT_TRUE(handshake(sctx, cctx, "pcscf.wims.test", NULL, 0));
	/* A name the certificate does not carry fails verification. */
	EXPECT_TRUE(!handshake(sctx, cctx, "evil.example", NULL, 0));
	SSL_CTX_free(cctx);
	/* So does a root we do not trust. */
	cctx = tls_client_ctx_new(cli_cert, true, err, sizeof(err));
	EXPECT_TRUE(!handshake(sctx, cctx, "127.0.0.1", NULL, 0));
	SSL_CTX_free(cctx);
	/* Without verification anything goes (demo only). */
	cctx = tls_client_ctx_new(NULL, false, err, sizeof(err));
	EXPECT_TRUE(handshake(sctx, cctx, "evil.example", NULL, 0));
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void tls_1_1_client_refused(void)
{
	char err[256];
	SSL_CTX *sctx = tls_server_ctx_new(srv_cert, srv_key, err, sizeof(err));
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	EXPECT_TRUE(sctx && cctx);
	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION);
	EXPECT_TRUE(!handshake(sctx, cctx, "127.0.0.1", NULL, 0));
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void mutual_tls_requires_a_client_certificate(void)
{
	char err[256], seen[128];
	SSL_CTX *sctx = tls_server_ctx_new(srv_cert, srv_key, err, sizeof(err));
	EXPECT_TRUE(sctx);
	/* W4: the WAF trusts the WWSF's certificate (here its own root). */
	EXPECT_INT(tls_server_ctx_require_client_cert(sctx, cli_cert, err, sizeof(err)), ==, 0);

	SSL_CTX *anon = tls_client_ctx_new(srv_cert, true, err, sizeof(err));
	EXPECT_TRUE(!handshake(sctx, anon, "127.0.0.1", seen, sizeof(seen)));
	SSL_CTX_free(anon);

	/* A certificate from a root the server does not trust: refused. */
	SSL_CTX *wrong = tls_client_ctx_new(srv_cert, true, err, sizeof(err));
	EXPECT_INT(tls_ctx_use_cert(wrong, srv_cert, srv_key, err, sizeof(err)), ==, 0);
	EXPECT_TRUE(!handshake(sctx, wrong, "127.0.0.1", seen, sizeof(seen)));
	SSL_CTX_free(wrong);

	SSL_CTX *wwsf = tls_client_ctx_new(srv_cert, true, err, sizeof(err));
	EXPECT_INT(tls_ctx_use_cert(wwsf, cli_cert, cli_key, err, sizeof(err)), ==, 0);
	EXPECT_TRUE(handshake(sctx, wwsf, "127.0.0.1", seen, sizeof(seen)));
	EXPECT_STR(seen, "wwsf.wims.test");
	SSL_CTX_free(wwsf);
	SSL_CTX_free(sctx);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-tls-test-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(srv_cert, sizeof(srv_cert), "%s/a/b/cert.pem", dir);
	snprintf(srv_key, sizeof(srv_key), "%s/a/b/key.pem", dir);
	snprintf(cli_cert, sizeof(cli_cert), "%s/wwsf-cert.pem", dir);
	snprintf(cli_key, sizeof(cli_key), "%s/wwsf-key.pem", dir);
	static const char *const wwsf_names[] = {"wwsf.wims.test", NULL};
	char err[256];
	if (tls_ensure_self_signed(cli_cert, cli_key, wwsf_names, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	base = event_base_new();

	UNIT_RUN(self_signed_creates_files_with_private_key_0600);
	UNIT_RUN(self_signed_does_not_overwrite);
	UNIT_RUN(server_ctx_refuses_mismatched_key);
	UNIT_RUN(verified_handshake_by_ip_and_name);
	UNIT_RUN(tls_1_1_client_refused);
	UNIT_RUN(mutual_tls_requires_a_client_certificate);

	event_base_free(base);
	char p[160];
	const char *files[] = {srv_cert, srv_key, cli_cert, cli_key};
	for (size_t i = 0; i < 4; i++)
		unlink(files[i]);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", dir);
	rmdir(p);
	rmdir(dir);
	return UNIT_MAIN_END();
}
