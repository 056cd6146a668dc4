/*
 * ws_handshake.c - fuzz target: the WebSocket upgrade request parser, and
 * the client-side check of a server's answer.
 *
 * Invariants checked (a violation traps, which libFuzzer reports):
 *  - a complete request's length is within the input and ends with the
 *    blank line; every slice lies inside the input;
 *  - a refusal carries an HTTP status and a reason, and formats;
 *  - round trip: the 101 we build for an accepted request is accepted by
 *    our own client-side parser with the accept value we compute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "core/ws.h"

#define CHECK(c)                           \
	do {                               \
		if (!(c))                  \
			__builtin_trap();  \
	} while (0)

static void check_slice(struct slice s, const uint8_t *data, size_t size)
{
	if (!s.p)
		return;
	CHECK((const uint8_t *)s.p >= data);
	CHECK((const uint8_t *)s.p + s.len <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ws_handshake hs;
	int r = ws_handshake_parse(p, size, WIMS_WS_MAX_HANDSHAKE, &hs);
	if (r >= 0) {
		CHECK((size_t)r <= size && r >= 4);
		CHECK(memcmp(p + r - 4, "\r\n\r\n", 4) == 0);
		check_slice(hs.method, data, size);
		check_slice(hs.path, data, size);
		check_slice(hs.host, data, size);
		check_slice(hs.upgrade, data, size);
		check_slice(hs.connection, data, size);
		check_slice(hs.key, data, size);
		check_slice(hs.version, data, size);
		check_slice(hs.origin, data, size);
		CHECK(hs.nprotocols <= WS_MAX_PROTOCOL_HEADERS);
		for (unsigned i = 0; i < hs.nprotocols; i++)
			check_slice(hs.protocols[i], data, size);
		CHECK(hs.key.len == WS_KEY_LEN);

		const char *sub = ws_handshake_has_protocol(&hs, "sip") ? "sip" : NULL;
		char resp[512], accept[WS_ACCEPT_LEN + 1];
		int n = ws_handshake_format_101(&hs, sub, resp, sizeof(resp));
		CHECK(n > 0);
		CHECK(ws_accept_key(hs.key, accept) == 0);
		int status;
		const char *reason;
		CHECK(ws_handshake_parse_response(resp, (size_t)n, WIMS_WS_MAX_HANDSHAKE, accept,
						  sub, &status, &reason) == n);
		CHECK(status == 101);
	} else if (r != WIMS_EAGAIN) {
		CHECK(hs.status >= 400 && hs.status < 600);
		CHECK(hs.reason && hs.reason[0]);
		char out[512];
		CHECK(ws_handshake_format_refusal(hs.status, hs.reason, out, sizeof(out)) > 0);
	}

	/* The same bytes as a server's answer to our request. */
	int status;
	const char *reason;
	r = ws_handshake_parse_response(p, size, WIMS_WS_MAX_HANDSHAKE,
					"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "sip", &status, &reason);
	if (r >= 0) {
		CHECK((size_t)r <= size);
		CHECK(status == 101);
	} else {
		CHECK(reason != NULL);
	}
	return 0;
}
