/*
 * net.c - listening and connecting sockets, address text.
 *
 * We make the listening socket ourselves (socket, options, bind, listen)
 * and hand it to an evconnlistener: that way IPV6_V6ONLY, SO_REUSEPORT and
 * the backlog are ours, and errors name the step that failed.
 *
 * The connection counter is shared between the listener and the
 * connections it handed out: a reference count (1 for the listener, 1 per
 * live connection) keeps it alive until the last of them is gone, so a
 * connection may end after its listener was freed, on any thread.
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/wims.h"

struct net_listener {
	struct evconnlistener *lev;
	struct event *retry; /* re-enables accepting after EMFILE and friends */
	net_accept_cb cb;
	void *arg;
	int port;
	int max;
	atomic_int conns;
	atomic_int refs;
	atomic_ulong refused;
};

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int net_addr_make(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	if (port < 0 || port > 65535)
		return WIMS_EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*sin);
		return 0;
	}
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		if (hl - 2 >= sizeof(tmp))
			return WIMS_EINVAL;
		memcpy(tmp, host + 1, hl - 2);
		tmp[hl - 2] = '\0';
		host = tmp;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return WIMS_EINVAL;
}

int net_addr_parse(const char *hostport, int default_port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	if (!hostport)
		return WIMS_EINVAL;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_s = NULL;
	size_t hl;
	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		if (!end)
			return WIMS_EINVAL;
		hl = (size_t)(end - hostport - 1);
		if (hl >= sizeof(host))
			return WIMS_EINVAL;
		memcpy(host, hostport + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0')
			return WIMS_EINVAL;
	} else {
		const char *colon = strchr(hostport, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Several colons and no brackets: a bare IPv6 address. */
			colon = NULL;
		}
		hl = colon ? (size_t)(colon - hostport) : strlen(hostport);
		if (hl >= sizeof(host))
			return WIMS_EINVAL;
		memcpy(host, hostport, hl);
		host[hl] = '\0';
		if (colon)
			port_s = colon + 1;
	}
	int port = default_port;
	if (port_s) {
		char *end;
		errno = 0;
		long v = strtol(port_s, &end, 10);
		if (errno || end == port_s || *end != '\0' || v < 0 || v > 65535)
			return WIMS_EINVAL;
		port = (int)v;
	}
	return net_addr_make(host, port, ss, len);
}

int net_addr_format_host(const struct sockaddr *sa, char *out, size_t outsz)
{
	if (!out || outsz == 0)
		return WIMS_EINVAL;
	out[0] = '\0';
	if (!sa)
		return WIMS_EINVAL;
	char tmp[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (!inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof(tmp)))
			return WIMS_EINVAL;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof(tmp)))
			return WIMS_EINVAL;
	} else {
		return WIMS_EINVAL;
	}
	size_t n = strlen(tmp);
	if (n >= outsz)
		return WIMS_ETOOBIG;
	memcpy(out, tmp, n + 1);
	return (int)n;
}

int net_addr_port(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

int net_addr_format(const struct sockaddr *sa, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN];
	int r = net_addr_format_host(sa, host, sizeof(host));
	if (r < 0) {
		if (out && outsz)
			out[0] = '\0';
		return r;
	}
	return net_hostport_format(host, net_addr_port(sa), out, outsz);
}

int net_hostport_format(const char *host, int port, char *out, size_t outsz)
{
	int n = strchr(host, ':') ? snprintf(out, outsz, "[%s]:%d", host, port)
				  : snprintf(out, outsz, "%s:%d", host, port);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	return n;
}

/* A socket bound to host:port with our options; fd or negative WIMS_E*. */
static int net_socket_bind(const char *host, int port, int type, bool reuseport, char *err,
			   size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_addr_make(host, port, &ss, &sl) != 0) {
		if (err && errsz)
			snprintf(err, errsz, "bad address \"%s\" port %d", host ? host : "", port);
		return WIMS_EINVAL;
	}
	int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errsz, "socket for %s:%d: %s", host ? host : "*", port, strerror(errno));
		return WIMS_EIO;
	}
	int one = 1;
	/* SO_REUSEADDR: for TCP, rebinding past TIME_WAIT after a restart;
	 * for UDP it would let a second process share the port silently, so
	 * there only SO_REUSEPORT (same user, asked for) shares it. */
	if ((type == SOCK_STREAM &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)) {
		set_err(err, errsz, "setsockopt for %s:%d: %s", host ? host : "*", port, strerror(errno));
		close(fd);
		return WIMS_EIO;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		set_err(err, errsz, "bind %s:%d: %s", host ? host : "*", port, strerror(errno));
		close(fd);
		return WIMS_EIO;
	}
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	return net_addr_port((struct sockaddr *)&ss);
}

static void listener_unref(struct net_listener *l)
{
	if (atomic_fetch_sub(&l->refs, 1) == 1)
		free(l);
}

static void listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
			       struct sockaddr *sa, int salen, void *arg)
{
	struct net_listener *l = arg;
	WIMS_UNUSED(lev);
	if (atomic_load(&l->conns) >= l->max) {
		/* Refusing by closing at once frees the descriptor now; a
		 * client sees a reset and may retry elsewhere. */
		atomic_fetch_add(&l->refused, 1);
		close(fd);
		return;
	}
	atomic_fetch_add(&l->conns, 1);
	atomic_fetch_add(&l->refs, 1);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->cb(l, fd, sa, (socklen_t)salen, l->arg);
}

static void listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_listener *l = arg;
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	evconnlistener_enable(l->lev);
}

static void listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct net_listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();
	WIMS_WARN("net", "accept on port %d: %s", l->port, strerror(e));
	/* Out of descriptors (EMFILE/ENFILE/ENOBUFS): the pending connection
	 * stays queued and would wake us again at once; pause accepting
	 * briefly instead of spinning. */
	evconnlistener_disable(lev);
	struct timeval tv = {0, 100 * 1000};
	evtimer_add(l->retry, &tv);
}

struct net_listener *net_listen_tcp(struct event_base *base, const char *host, int port,
				    bool reuseport, net_accept_cb cb, void *arg, char *err,
				    size_t errsz)
{
	if (!base || !cb) {
		if (err && errsz)
			snprintf(err, errsz, "net_listen_tcp: no base or callback");
		return NULL;
	}
	int fd = net_socket_bind(host, port, SOCK_STREAM, reuseport, err, errsz);
	if (fd < 0)
		return NULL;
	if (listen(fd, WIMS_LISTEN_BACKLOG) != 0) {
		set_err(err, errsz, "listen %s:%d: %s", host ? host : "*", port, strerror(errno));
		close(fd);
		return NULL;
	}
	struct net_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return NULL;
	}
	l->cb = cb;
	l->arg = arg;
	l->max = WIMS_MAX_CONNECTIONS;
	l->port = local_port(fd);
	atomic_init(&l->conns, 0);
	atomic_init(&l->refs, 1);
	atomic_init(&l->refused, 0);
	l->retry = evtimer_new(base, listener_retry_cb, l);
	/* backlog -1: the socket is already listening. */
	l->lev = l->retry ? evconnlistener_new(base, listener_accept_cb, l,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)
			  : NULL;
	if (!l->lev) {
		if (err && errsz)
			snprintf(err, errsz, "evconnlistener for port %d failed", port);
		if (l->retry)
			event_free(l->retry);
		close(fd);
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	return l;
}

void net_listener_set_max(struct net_listener *l, int max_connections)
{
	if (max_connections < 0)
		max_connections = 0;
	if (max_connections > WIMS_MAX_CONNECTIONS)
		max_connections = WIMS_MAX_CONNECTIONS;
	l->max = max_connections;
}

int net_listener_conns(const struct net_listener *l)
{
	return atomic_load(&((struct net_listener *)l)->conns);
}

unsigned long net_listener_refused(const struct net_listener *l)
{
	return atomic_load(&((struct net_listener *)l)->refused);
}

void net_listener_conn_done(struct net_listener *l)
{
	if (!l)
		return;
	atomic_fetch_sub(&l->conns, 1);
	listener_unref(l);
}

int net_listener_port(const struct net_listener *l)
{
	return l->port;
}

void net_listener_free(struct net_listener *l)
{
	if (!l)
		return;
	if (l->lev)
		evconnlistener_free(l->lev);
	l->lev = NULL;
	if (l->retry)
		event_free(l->retry);
	l->retry = NULL;
	listener_unref(l);
}

int net_bind_udp(const char *host, int port, bool reuseport, char *err, size_t errsz)
{
	return net_socket_bind(host, port, SOCK_DGRAM, reuseport, err, errsz);
}

static int probe_bind(const char *host, int port, int type, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_addr_make(host, port, &ss, &sl)) {
		set_err(err, errsz, "%s:%d: not a numeric address", host ? host : "*", port);
		return WIMS_EINVAL;
	}
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errsz, "socket: %s", strerror(errno));
		return WIMS_EIO;
	}
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = 0;
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno == EADDRINUSE) {
			set_err(err, errsz, "%s:%d (%s) is already in use by another process",
				host ? host : "*", port, type == SOCK_STREAM ? "tcp" : "udp");
			rc = WIMS_EEXIST;
		} else {
			set_err(err, errsz, "bind %s:%d: %s", host ? host : "*", port,
				strerror(errno));
			rc = WIMS_EIO;
		}
	}
	close(fd);
	return rc;
}

int net_port_claim(const char *host, int port, bool tcp, bool udp, char *err, size_t errsz)
{
	if (port == 0)
		return 0;
	int rc = tcp ? probe_bind(host, port, SOCK_STREAM, err, errsz) : 0;
	if (!rc && udp)
		rc = probe_bind(host, port, SOCK_DGRAM, err, errsz);
	return rc;
}

struct bufferevent *net_connect_tcp(struct event_base *base, const char *host, int port,
				    SSL_CTX *tls, const char *server_name, char *err,
				    size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!base || net_addr_make(host, port, &ss, &sl) != 0 || port == 0) {
		if (err && errsz)
			snprintf(err, errsz, "bad address \"%s\" port %d", host ? host : "", port);
		return NULL;
	}
	struct bufferevent *bev;
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	if (tls) {
		SSL *ssl = tls_client_ssl_new(tls, server_name ? server_name : host);
		if (!ssl) {
			if (err && errsz)
				snprintf(err, errsz, "cannot make a TLS client for %s", host);
			return NULL;
		}
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     opts);
		if (!bev) {
			SSL_free(ssl);
			if (err && errsz)
				snprintf(err, errsz, "bufferevent_openssl_socket_new failed");
			return NULL;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else {
		bev = bufferevent_socket_new(base, -1, opts);
		if (!bev) {
			if (err && errsz)
				snprintf(err, errsz, "bufferevent_socket_new failed");
			return NULL;
		}
	}
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		set_err(err, errsz, "connect %s:%d: %s", host, port, strerror(errno));
		bufferevent_free(bev);
		return NULL;
	}
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* libevent made the socket without SOCK_CLOEXEC. */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	return bev;
}
