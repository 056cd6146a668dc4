/* ws_handshake_test.c - the upgrade parser, whole and byte by byte, every
 * refusal, the RFC 6455 accept key, and the client-side answer check.
 *
 * RFC 6455 1.3's example: key "dGhlIHNhbXBsZSBub25jZQ==" gives
 * "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (checked with Python's hashlib too). */
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "core/ws.h"
#include "unit.h"

#define REQ_HEAD                                  \
	"GET /ws?x=1 HTTP/1.1\r\n"                \
	"Host: pcscf.example.org:7443\r\n"        \
	"Upgrade: websocket\r\n"                  \
	"Connection: keep-alive, Upgrade\r\n"     \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

static const char good[] = REQ_HEAD
	"Sec-WebSocket-Version: 13\r\n"
	"Sec-WebSocket-Protocol: chat, sip\r\n"
	"Origin: https://wwsf.example.org\r\n"
	"\r\n";

/* Feeds req one byte more at a time (each time in a fresh heap copy of
 * exactly that length, so ASan catches any read past it) and checks that
 * every prefix asks for more, or gives the same refusal, and the whole
 * gives want. */
static int parse_bytewise(const char *req, size_t len, struct ws_handshake *hs)
{
	int r = WIMS_EAGAIN;
	for (size_t n = 1; n <= len; n++) {
		char *p = malloc(n);
		memcpy(p, req, n);
		r = ws_handshake_parse(p, n, WIMS_WS_MAX_HANDSHAKE, hs);
		free(p);
		if (r != WIMS_EAGAIN && n < len && r >= 0)
			return -999; /* complete before the end: wrong */
		if (r != WIMS_EAGAIN && r < 0)
			return r;
	}
	/* The slices must point into memory that is still alive. */
	if (r >= 0)
		r = ws_handshake_parse(req, len, WIMS_WS_MAX_HANDSHAKE, hs);
	return r;
}

static void accept_key_matches_rfc6455_example(void)
{
	char out[WS_ACCEPT_LEN + 1];
	EXPECT_INT(ws_accept_key(SLICE_LIT("dGhlIHNhbXBsZSBub25jZQ=="), out), ==, 0);
	EXPECT_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void good_request_parses_whole(void)
{
	struct ws_handshake hs;
	int r = ws_handshake_parse(good, sizeof(good) - 1, WIMS_WS_MAX_HANDSHAKE, &hs);
	EXPECT_INT(r, ==, sizeof(good) - 1);
	EXPECT_SLICE(hs.method, "GET");
	EXPECT_SLICE(hs.path, "/ws?x=1");
	EXPECT_SLICE(hs.host, "pcscf.example.org:7443");
	EXPECT_SLICE(hs.key, "dGhlIHNhbXBsZSBub25jZQ==");
	EXPECT_SLICE(hs.version, "13");
	EXPECT_SLICE(hs.origin, "https://wwsf.example.org");
	EXPECT_TRUE(ws_handshake_has_protocol(&hs, "sip"));
	EXPECT_TRUE(ws_handshake_has_protocol(&hs, "chat"));
	EXPECT_TRUE(!ws_handshake_has_protocol(&hs, "SIP"));
	EXPECT_TRUE(!ws_handshake_has_protocol(&hs, "si"));
}

static void good_request_parses_byte_by_byte(void)
{
	struct ws_handshake hs;
	EXPECT_INT(parse_bytewise(good, sizeof(good) - 1, &hs), ==, sizeof(good) - 1);
	EXPECT_SLICE(hs.origin, "https://wwsf.example.org");
}

static void trailing_bytes_are_not_consumed(void)
{
	char buf[sizeof(good) + 8];
	memcpy(buf, good, sizeof(good) - 1);
	memcpy(buf + sizeof(good) - 1, "\x81\x85xxxx", 7);
	struct ws_handshake hs;
	EXPECT_INT(ws_handshake_parse(buf, sizeof(good) - 1 + 7, WIMS_WS_MAX_HANDSHAKE, &hs), ==,
		   sizeof(good) - 1);
}

static void protocol_lists_in_several_headers(void)
{
	static const char req[] = REQ_HEAD "Sec-WebSocket-Version: 13\r\n"
					   "Sec-WebSocket-Protocol: chat\r\n"
					   "sec-websocket-protocol:  foo ,sip \r\n\r\n";
	struct ws_handshake hs;
	EXPECT_INT(ws_handshake_parse(req, sizeof(req) - 1, WIMS_WS_MAX_HANDSHAKE, &hs), >, 0);
	EXPECT_INT(hs.nprotocols, ==, 2);
	EXPECT_TRUE(ws_handshake_has_protocol(&hs, "sip"));
	EXPECT_TRUE(ws_handshake_has_protocol(&hs, "foo"));
}

struct refusal {
	const char *name;
	const char *req;
	int status;
	const char *reason;
};

static const struct refusal refusals[] = {
	{"bad version", REQ_HEAD "Sec-WebSocket-Version: 8\r\n\r\n", 426,
	 "Sec-WebSocket-Version 13 required"},
	{"missing version", REQ_HEAD "\r\n", 426, "Sec-WebSocket-Version 13 required"},
	{"missing key",
	 "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Version: 13\r\n\r\n",
	 400, "missing Sec-WebSocket-Key"},
	{"short key",
	 "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "bad Sec-WebSocket-Key"},
	{"key not base64",
	 "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "bad Sec-WebSocket-Key"},
	{"missing host",
	 "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "missing Host"},
	{"no upgrade",
	 "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "Upgrade: websocket required"},
	{"connection without upgrade",
	 "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "Connection: Upgrade required"},
	{"POST", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", 405, "only GET upgrades to WebSocket"},
	{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", 505, "HTTP/1.1 required"},
	{"absolute target junk", "GET ws://x HTTP/1.1\r\n\r\n", 400,
	 "request target must be a path"},
	{"TLS on plain port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
	 "not an HTTP request"},
	{"duplicate key",
	 REQ_HEAD "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 400, "duplicate header"},
	{"folded header", REQ_HEAD " folded\r\nSec-WebSocket-Version: 13\r\n\r\n", 400,
	 "folded header"},
	{"space before colon", REQ_HEAD "Origin : x\r\nSec-WebSocket-Version: 13\r\n\r\n", 400,
	 "malformed header"},
	{"bare LF in value", REQ_HEAD "Origin: x\ny\r\nSec-WebSocket-Version: 13\r\n\r\n", 400,
	 "control character in header"},
	{"NUL in value", REQ_HEAD "Origin: x\0y\r\nSec-WebSocket-Version: 13\r\n\r\n", 400,
	 "control character in header"},
};

static void each_refusal_whole_and_bytewise(void)
{
	for (size_t i = 0; i < WIMS_ARRAY_LEN(refusals); i++) {
		const struct refusal *t = &refusals[i];
		/* Embedded NULs: the length is up to the final "\r\n\r\n". */
		size_t len = strlen(t->req);
		if (strcmp(t->name, "NUL in value") == 0)
			len = sizeof(REQ_HEAD "Origin: x\0y\r\nSec-WebSocket-Version: 13\r\n\r\n") - 1;
		struct ws_handshake hs;
		int r = ws_handshake_parse(t->req, len, WIMS_WS_MAX_HANDSHAKE, &hs);
		if (r >= 0 || r == WIMS_EAGAIN) {
			UNIT_FAIL_("%s: accepted (%d)", t->name, r);
			return;
		}
		if (hs.status != t->status || strcmp(hs.reason, t->reason) != 0) {
			UNIT_FAIL_("%s: %d \"%s\"", t->name, hs.status, hs.reason);
			return;
		}
		r = parse_bytewise(t->req, len, &hs);
		if (r >= 0 || r == WIMS_EAGAIN || hs.status != t->status) {
			UNIT_FAIL_("%s bytewise: %d %d", t->name, r, hs.status);
			return;
		}
	}
}

static void oversize_is_431(void)
{
	size_t len = WIMS_WS_MAX_HANDSHAKE + 100;
	char *req = malloc(len);
	memcpy(req, REQ_HEAD, sizeof(REQ_HEAD) - 1);
	size_t pos = sizeof(REQ_HEAD) - 1;
	while (pos + 12 < len) {
		memcpy(req + pos, "X-Pad: aaa\r\n", 12);
		pos += 12;
	}
	struct ws_handshake hs;
	/* Short of the limit it waits for more... */
	EXPECT_INT(ws_handshake_parse(req, WIMS_WS_MAX_HANDSHAKE - 1, WIMS_WS_MAX_HANDSHAKE, &hs),
		   ==, WIMS_EAGAIN);
	/* ...at the limit without the blank line it refuses. */
	int r = ws_handshake_parse(req, pos, WIMS_WS_MAX_HANDSHAKE, &hs);
	free(req);
	EXPECT_INT(r, ==, WIMS_ETOOBIG);
	EXPECT_INT(hs.status, ==, 431);
}

static void response_101_has_accept_and_protocol(void)
{
	struct ws_handshake hs;
	EXPECT_INT(ws_handshake_parse(good, sizeof(good) - 1, WIMS_WS_MAX_HANDSHAKE, &hs), >, 0);
	char out[512];
	int n = ws_handshake_format_101(&hs, "sip", out, sizeof(out));
	EXPECT_INT(n, >, 0);
	EXPECT_TRUE(strstr(out, "HTTP/1.1 101 Switching Protocols\r\n") == out);
	EXPECT_TRUE(strstr(out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	EXPECT_TRUE(strstr(out, "Sec-WebSocket-Protocol: sip\r\n"));
	EXPECT_TRUE(strcmp(out + n - 4, "\r\n\r\n") == 0);

	/* And our client-side check accepts exactly that answer. */
	int status;
	const char *reason;
	EXPECT_INT(ws_handshake_parse_response(out, (size_t)n, WIMS_WS_MAX_HANDSHAKE,
					       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "sip", &status,
					       &reason),
		   ==, n);
	EXPECT_INT(status, ==, 101);
	/* Byte by byte it waits until the end. */
	for (int i = 1; i < n; i++)
		EXPECT_INT(ws_handshake_parse_response(out, (size_t)i, WIMS_WS_MAX_HANDSHAKE,
						       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "sip",
						       &status, &reason),
			   ==, WIMS_EAGAIN);
	/* A wrong accept or a missing subprotocol is refused. */
	EXPECT_INT(ws_handshake_parse_response(out, (size_t)n, WIMS_WS_MAX_HANDSHAKE,
					       "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sip", &status,
					       &reason),
		   ==, WIMS_EAUTH);
	EXPECT_INT(ws_handshake_parse_response(out, (size_t)n, WIMS_WS_MAX_HANDSHAKE,
					       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "msrp", &status,
					       &reason),
		   ==, WIMS_EPARSE);
}

static void refusal_is_a_real_http_response(void)
{
	char out[512];
	int n = ws_handshake_format_refusal(426, "Sec-WebSocket-Version 13 required", out,
					    sizeof(out));
	EXPECT_INT(n, >, 0);
	EXPECT_TRUE(strstr(out, "HTTP/1.1 426 Upgrade Required\r\n") == out);
	EXPECT_TRUE(strstr(out, "\r\nSec-WebSocket-Version: 13\r\n"));
	EXPECT_TRUE(strstr(out, "\r\nConnection: close\r\n"));
	EXPECT_TRUE(strstr(out, "\r\nContent-Length: 34\r\n"));
	EXPECT_TRUE(strstr(out, "\r\n\r\nSec-WebSocket-Version 13 required\n"));

	n = ws_handshake_format_refusal(403, "Origin not allowed", out, sizeof(out));
	EXPECT_TRUE(strstr(out, "HTTP/1.1 403 Forbidden\r\n") == out);
	EXPECT_TRUE(strstr(out, "Origin not allowed\n"));

	int status;
	const char *reason;
	EXPECT_INT(ws_handshake_parse_response(out, (size_t)n, WIMS_WS_MAX_HANDSHAKE,
					       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "sip", &status,
					       &reason),
		   ==, WIMS_EDENIED);
	EXPECT_INT(status, ==, 403);
}

int main(void)
{
	UNIT_RUN(accept_key_matches_rfc6455_example);
	UNIT_RUN(good_request_parses_whole);
	UNIT_RUN(good_request_parses_byte_by_byte);
	UNIT_RUN(trailing_bytes_are_not_consumed);
	UNIT_RUN(protocol_lists_in_several_headers);
	UNIT_RUN(each_refusal_whole_and_bytewise);
	UNIT_RUN(oversize_is_431);
	UNIT_RUN(response_101_has_accept_and_protocol);
	UNIT_RUN(refusal_is_a_real_http_response);
	return UNIT_MAIN_END();
}
