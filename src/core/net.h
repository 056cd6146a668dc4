/*
 * net.h - sockets: TCP listeners with a connection limit, UDP binding,
 * outgoing TCP (optionally TLS) connections, address formatting.
 *
 * A listener belongs to one worker's event_base.  With reuseport every
 * worker binds its own socket to the same address (SO_REUSEPORT) and the
 * kernel spreads new connections over them (DESIGN 6).
 *
 * Connection limit: a listener counts the connections it handed out and
 * refuses (accepts and closes at once) new ones beyond its maximum
 * (WIMS_MAX_CONNECTIONS unless lowered), so a flood cannot take the
 * descriptors the served connections need.  Whoever owns an accepted
 * connection calls net_listener_conn_done() exactly once when it is
 * closed.  ws_listener (ws.h) and http_server (http.h) do this for you.
 */
#ifndef WIMS_CORE_NET_H
#define WIMS_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct event_base;
struct bufferevent;
struct net_listener;

/* Enough for "[ffff:...:255.255.255.255%scope]:65535" and a NUL. */
#define NET_ADDR_STRLEN 72

/* Called on the listener's thread with a new connected socket, already
 * non-blocking and close-on-exec.  The callee owns fd (close it, or hand it
 * to a bufferevent with BEV_OPT_CLOSE_ON_FREE) and must call
 * net_listener_conn_done(l) once when that connection ends. */
typedef void (*net_accept_cb)(struct net_listener *l, int fd, const struct sockaddr *peer,
			      socklen_t peerlen, void *arg);

/* Listens on host:port (host a numeric IPv4/IPv6 address, "" or NULL for
 * every IPv4 address, "localhost" for 127.0.0.1; port 0 picks a free port:
 * see net_listener_port).  Sets SO_REUSEADDR, and SO_REUSEPORT when
 * reuseport is true; backlog WIMS_LISTEN_BACKLOG.  The listener is owned by
 * base's thread.  Returns NULL and a message in err on failure. */
struct net_listener *net_listen_tcp(struct event_base *base, const char *host, int port,
				    bool reuseport, net_accept_cb cb, void *arg, char *err,
				    size_t errsz);

/* Lowers (or, up to WIMS_MAX_CONNECTIONS, raises) the connection limit. */
void net_listener_set_max(struct net_listener *l, int max_connections);

/* Connections handed out and not yet done.  Thread-safe (atomic). */
int net_listener_conns(const struct net_listener *l);

/* Connections refused because the limit was reached, since creation. */
unsigned long net_listener_refused(const struct net_listener *l);

/* One connection accepted through l has ended.  Thread-safe (atomic): may be
 * called from any thread, also after net_listener_free(l) (the counter lives
 * until the last connection is done). */
void net_listener_conn_done(struct net_listener *l);

/* The local port actually bound (useful after port 0). */
int net_listener_port(const struct net_listener *l);

/* Stops listening and closes the socket.  Open connections are not
 * touched.  Call on the listener's thread.  NULL is fine. */
void net_listener_free(struct net_listener *l);

/* Binds a UDP socket to host:port (same host rules as net_listen_tcp), non
 * blocking, close-on-exec, SO_REUSEPORT if asked (no SO_REUSEADDR: on UDP
 * it would let anyone share the port).  Returns the
 * fd (>= 0) or a negative WIMS_E* with a message in err. */
int net_bind_udp(const char *host, int port, bool reuseport, char *err, size_t errsz);

/* Makes sure no other process serves host:port before a role binds its
 * SO_REUSEPORT sockets: the kernel lets any process of the same user join a
 * reuseport group and then splits connections between them, so a second
 * wims on the same ports would silently take half the traffic.  Probes with
 * sockets that do not join the group (TCP with SO_REUSEADDR only, so
 * TIME_WAIT leftovers of a restart do not count).  Port 0 passes.  Returns
 * 0, or WIMS_EEXIST with "host:port (tcp) is already in use" in err. */
int net_port_claim(const char *host, int port, bool tcp, bool udp, char *err, size_t errsz);

/* Parses a numeric host (IPv4, IPv6 with or without brackets, "localhost",
 * "" = any IPv4) and port into ss.  Returns 0 or WIMS_EINVAL. */
int net_addr_make(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len);

/* "host:port" or "[v6]:port" (also "127.0.0.1", "::1", without brackets when
 * no port given) into an addr, as config CONF_ADDR values are written.
 * Returns 0 or WIMS_EINVAL. */
int net_addr_parse(const char *hostport, int default_port, struct sockaddr_storage *ss,
		   socklen_t *len);

/* Formats "127.0.0.1:5060" or "[::1]:7443" into out (NET_ADDR_STRLEN is
 * enough).  Returns the length, or WIMS_EINVAL / WIMS_ETOOBIG (out = ""). */
int net_addr_format(const struct sockaddr *sa, char *out, size_t outsz);

/* The same from a host string and a port: "[...]" around a host with a
 * ':' (IPv6).  Returns the length, or WIMS_ETOOBIG (out = ""). */
int net_hostport_format(const char *host, int port, char *out, size_t outsz);

/* Only the host: "127.0.0.1" or "::1" (no brackets). */
int net_addr_format_host(const struct sockaddr *sa, char *out, size_t outsz);

/* The port of an AF_INET/AF_INET6 address, 0 otherwise. */
int net_addr_port(const struct sockaddr *sa);

/* Starts a TCP connection to host:port (numeric address or "localhost";
 * resolution of other names would block: use evdns for them) on base.
 * With tls != NULL the bufferevent is a bufferevent_openssl client; then
 * server_name (may be NULL) is sent as SNI and, if the context verifies
 * peers (tls_client_ctx_new with verify), checked against the certificate.
 * The caller sets callbacks; BEV_EVENT_CONNECTED arrives when TCP (and TLS)
 * is up, BEV_EVENT_ERROR if it failed.  Data written before that is sent
 * once connected.  The bufferevent owns the socket (BEV_OPT_CLOSE_ON_FREE).
 * Returns NULL and a message in err on immediate failure. */
struct bufferevent *net_connect_tcp(struct event_base *base, const char *host, int port,
				    SSL_CTX *tls, const char *server_name, char *err,
				    size_t errsz);

#endif
