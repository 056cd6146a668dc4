/* net_test.c - address text both ways, listeners on port 0, SO_REUSEPORT
 * for TCP and UDP, and connections handed out by a listener. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/net.h"
#include "core/wims.h"
#include "unit.h"

static void formats_v4_and_v6(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char out[NET_ADDR_STRLEN];
	EXPECT_INT(net_addr_make("127.0.0.1", 5060, &ss, &sl), ==, 0);
	EXPECT_INT(net_addr_format((struct sockaddr *)&ss, out, sizeof(out)), ==, 14);
	EXPECT_STR(out, "127.0.0.1:5060");
	EXPECT_INT(net_addr_make("::1", 7443, &ss, &sl), ==, 0);
	EXPECT_INT(net_addr_format((struct sockaddr *)&ss, out, sizeof(out)), >, 0);
	EXPECT_STR(out, "[::1]:7443");
	EXPECT_INT(net_addr_format_host((struct sockaddr *)&ss, out, sizeof(out)), ==, 3);
	EXPECT_STR(out, "::1");
	EXPECT_INT(net_addr_port((struct sockaddr *)&ss), ==, 7443);
	/* Too small a buffer: an error and an empty string, never a cut. */
	char small[8];
	EXPECT_INT(net_addr_format((struct sockaddr *)&ss, small, sizeof(small)), ==,
		   WIMS_ETOOBIG);
	EXPECT_STR(small, "");
	/* from strings: the same spelling */
	EXPECT_INT(net_hostport_format("127.0.0.3", 40123, out, sizeof(out)), ==, 15);
	EXPECT_STR(out, "127.0.0.3:40123");
	EXPECT_INT(net_hostport_format("::1", 7443, out, sizeof(out)), >, 0);
	EXPECT_STR(out, "[::1]:7443");
	EXPECT_INT(net_hostport_format("::1", 7443, small, sizeof(small)), ==, WIMS_ETOOBIG);
	EXPECT_STR(small, "");
}

static void parses_host_port_forms(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char out[NET_ADDR_STRLEN];
	EXPECT_INT(net_addr_parse("127.0.0.1:5060", 1, &ss, &sl), ==, 0);
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	EXPECT_STR(out, "127.0.0.1:5060");
	EXPECT_INT(net_addr_parse("[::1]:7443", 1, &ss, &sl), ==, 0);
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	EXPECT_STR(out, "[::1]:7443");
	EXPECT_INT(net_addr_parse("::1", 5061, &ss, &sl), ==, 0);
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	EXPECT_STR(out, "[::1]:5061");
	EXPECT_INT(net_addr_parse("localhost:80", 1, &ss, &sl), ==, 0);
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	EXPECT_STR(out, "127.0.0.1:80");
	EXPECT_INT(net_addr_parse("10.0.0.1", 5060, &ss, &sl), ==, 0);
	EXPECT_INT(net_addr_port((struct sockaddr *)&ss), ==, 5060);

	EXPECT_INT(net_addr_parse("127.0.0.1:65536", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("127.0.0.1:", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("127.0.0.1:5x", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("[::1", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("[::1]x", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("pcscf.example.org:5060", 1, &ss, &sl), ==, WIMS_EINVAL);
	EXPECT_INT(net_addr_parse("999.1.1.1:5", 1, &ss, &sl), ==, WIMS_EINVAL);
}

static void noop_accept(struct net_listener *l, int fd, const struct sockaddr *peer,
			socklen_t len, void *arg)
{
	WIMS_UNUSED(peer);
	WIMS_UNUSED(len);
	int *accepted = arg;
	(*accepted)++;
	/* Accepted sockets come non-blocking and close-on-exec. */
	if ((fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC))
		(*accepted) += 100;
	close(fd);
	net_listener_conn_done(l);
}

static void tcp_listeners_share_a_port_with_reuseport(void)
{
	struct event_base *base = event_base_new();
	char err[256];
	int accepted = 0;
	struct net_listener *a =
		net_listen_tcp(base, "127.0.0.1", 0, true, noop_accept, &accepted, err, sizeof(err));
	EXPECT_TRUE(a);
	int port = net_listener_port(a);
	EXPECT_INT(port, >, 0);
	struct net_listener *b = net_listen_tcp(base, "127.0.0.1", port, true, noop_accept,
						&accepted, err, sizeof(err));
	EXPECT_TRUE(b);
	/* Without SO_REUSEPORT the port is taken. */
	struct net_listener *c = net_listen_tcp(base, "127.0.0.1", port, false, noop_accept,
						&accepted, err, sizeof(err));
	EXPECT_TRUE(c == NULL);
	EXPECT_TRUE(strstr(err, "bind"));

	struct bufferevent *bev =
		net_connect_tcp(base, "127.0.0.1", port, NULL, NULL, err, sizeof(err));
	EXPECT_TRUE(bev);
	for (int i = 0; i < 200 && accepted == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
	EXPECT_INT(accepted, ==, 101);
	EXPECT_INT(net_listener_conns(a) + net_listener_conns(b), ==, 0);
	bufferevent_free(bev);
	net_listener_free(a);
	net_listener_free(b);
	event_base_free(base);
}

static void udp_binds_share_a_port_with_reuseport(void)
{
	char err[256];
	int a = net_bind_udp("127.0.0.1", 0, true, err, sizeof(err));
	EXPECT_INT(a, >=, 0);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	EXPECT_INT(getsockname(a, (struct sockaddr *)&ss, &sl), ==, 0);
	int port = net_addr_port((struct sockaddr *)&ss);
	int b = net_bind_udp("127.0.0.1", port, true, err, sizeof(err));
	EXPECT_INT(b, >=, 0);
	int c = net_bind_udp("127.0.0.1", port, false, err, sizeof(err));
	EXPECT_INT(c, <, 0);
	EXPECT_INT(fcntl(a, F_GETFL) & O_NONBLOCK, !=, 0);
	EXPECT_INT(fcntl(a, F_GETFD) & FD_CLOEXEC, !=, 0);
	int v6 = net_bind_udp("::1", 0, false, err, sizeof(err));
	EXPECT_INT(v6, >=, 0);
	close(a);
	close(b);
	close(v6);
	EXPECT_INT(net_bind_udp("not-an-ip", 5060, false, err, sizeof(err)), ==, WIMS_EINVAL);
}

int main(void)
{
	UNIT_RUN(formats_v4_and_v6);
	UNIT_RUN(parses_host_port_forms);
	UNIT_RUN(tcp_listeners_share_a_port_with_reuseport);
	UNIT_RUN(udp_binds_share_a_port_with_reuseport);
	return UNIT_MAIN_END();
}
