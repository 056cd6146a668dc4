/*
 * ws_handshake.c - the WebSocket opening handshake (RFC 6455 4), both
 * directions, as pure functions: parse a request, build the 101 or the
 * refusal, parse the server's answer.
 *
 * The parser reads p[0..len) in place, never allocates, never needs a NUL,
 * and stops at max bytes: a request whose headers do not end within max is
 * refused with 431 rather than buffered.  It is called again on each read
 * until the blank line arrives, so it first looks for the end of the
 * headers (one memmem) and only parses a complete block; a request line
 * that is already wrong (a TLS ClientHello on a plain port, binary junk)
 * is refused without waiting for more.
 *
 *	GET /ws HTTP/1.1\r\n                  <- request line
 *	Host: pcscf.example.org\r\n
 *	Upgrade: websocket\r\n
 *	Connection: Upgrade\r\n
 *	Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n
 *	Sec-WebSocket-Version: 13\r\n
 *	Sec-WebSocket-Protocol: sip\r\n      <- RFC 7118
 *	Origin: https://wwsf.example.org\r\n
 *	\r\n
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/wims.h"
#include "core/ws.h"

/* RFC 6455 1.3: the GUID every server appends to the key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: visible ASCII, SP, HTAB, obs-text. */
static bool is_vchar_or_ws(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Offset of the first "\r\n" in p[0..n), or -1. */
static long find_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int refuse(struct ws_handshake *hs, int status, const char *reason, int err)
{
	hs->status = status;
	hs->reason = reason;
	return err;
}

/* Does the comma-separated list contain tok?  Elements are trimmed of
 * OWS; empty elements are skipped (RFC 9110 5.6.1). */
static bool list_has(struct slice list, const char *tok, bool icase)
{
	struct slice want = slice_from_cstr(tok);
	if (!list.p)
		return false;
	size_t i = 0;
	while (i <= list.len) {
		size_t j = i;
		while (j < list.len && list.p[j] != ',')
			j++;
		struct slice el = slice_trim((struct slice){list.p + i, j - i});
		if (el.len && (icase ? slice_ieq(el, want) : slice_eq(el, want)))
			return true;
		i = j + 1;
	}
	return false;
}

/* Request line: method SP request-target SP HTTP-version.  Returns 0 or a
 * refusal. */
static int parse_request_line(const char *p, size_t n, struct ws_handshake *hs)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return refuse(hs, 400, "malformed request line", WIMS_EPARSE);
	hs->method = (struct slice){p, i};
	size_t t = ++i;
	while (i < n && p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ')
		return refuse(hs, 400, "malformed request target", WIMS_EPARSE);
	hs->path = (struct slice){p + t, i - t};
	struct slice version = {p + i + 1, n - i - 1};
	if (!slice_eq_cstr(hs->method, "GET"))
		return refuse(hs, 405, "only GET upgrades to WebSocket", WIMS_EPARSE);
	if (hs->path.p[0] != '/')
		return refuse(hs, 400, "request target must be a path", WIMS_EPARSE);
	if (version.len != 8 || memcmp(version.p, "HTTP/1.", 7) != 0 || version.p[7] < '0' ||
	    version.p[7] > '9')
		return refuse(hs, version.len >= 5 && memcmp(version.p, "HTTP/", 5) == 0 ? 505 : 400,
			      "HTTP/1.1 required", WIMS_EPARSE);
	if (version.p[7] == '0')
		return refuse(hs, 505, "HTTP/1.1 required", WIMS_EPARSE);
	return 0;
}

/* Records one header of interest; returns 0 or a refusal. */
static int take_header(struct ws_handshake *hs, struct slice name, struct slice value,
		       bool *upgrade_ok, bool *connection_ok)
{
	struct slice *single = NULL;
	if (slice_ieq_cstr(name, "Host"))
		single = &hs->host;
	else if (slice_ieq_cstr(name, "Sec-WebSocket-Key"))
		single = &hs->key;
	else if (slice_ieq_cstr(name, "Sec-WebSocket-Version"))
		single = &hs->version;
	else if (slice_ieq_cstr(name, "Origin"))
		single = &hs->origin;
	if (single) {
		if (single->p)
			return refuse(hs, 400, "duplicate header", WIMS_EPARSE);
		/* A present but empty value still counts as present. */
		*single = value.p ? value : (struct slice){name.p + name.len, 0};
		return 0;
	}
	if (slice_ieq_cstr(name, "Upgrade")) {
		if (!hs->upgrade.p)
			hs->upgrade = value.p ? value : (struct slice){name.p + name.len, 0};
		if (list_has(value, "websocket", true))
			*upgrade_ok = true;
	} else if (slice_ieq_cstr(name, "Connection")) {
		if (!hs->connection.p)
			hs->connection = value.p ? value : (struct slice){name.p + name.len, 0};
		if (list_has(value, "upgrade", true))
			*connection_ok = true;
	} else if (slice_ieq_cstr(name, "Sec-WebSocket-Protocol")) {
		if (hs->nprotocols == WS_MAX_PROTOCOL_HEADERS)
			return refuse(hs, 400, "too many Sec-WebSocket-Protocol headers",
				      WIMS_EPARSE);
		hs->protocols[hs->nprotocols++] = value;
	}
	return 0;
}

/* Splits the header block p[0..n) (each line ending in CRLF, the blank
 * line excluded) and hands each field to take().  Returns 0 or a refusal. */
static int parse_fields(const char *p, size_t n, struct ws_handshake *hs, bool *upgrade_ok,
			bool *connection_ok)
{
	size_t pos = 0;
	while (pos < n) {
		long e = find_crlf(p + pos, n - pos);
		if (e < 0)
			return refuse(hs, 400, "malformed header", WIMS_EPARSE);
		const char *line = p + pos;
		size_t ll = (size_t)e;
		pos += ll + 2;
		if (line[0] == ' ' || line[0] == '\t')
			return refuse(hs, 400, "folded header", WIMS_EPARSE);
		size_t c = 0;
		while (c < ll && is_tchar((unsigned char)line[c]))
			c++;
		if (c == 0 || c >= ll || line[c] != ':')
			return refuse(hs, 400, "malformed header", WIMS_EPARSE);
		for (size_t k = c + 1; k < ll; k++)
			if (!is_vchar_or_ws((unsigned char)line[k]))
				return refuse(hs, 400, "control character in header",
					      WIMS_EPARSE);
		struct slice name = {line, c};
		struct slice value = slice_trim((struct slice){line + c + 1, ll - c - 1});
		if (value.len == 0)
			value.p = NULL;
		int r = take_header(hs, name, value, upgrade_ok, connection_ok);
		if (r)
			return r;
	}
	return 0;
}

static bool key_valid(struct slice key)
{
	/* base64 of 16 bytes: 22 characters and "==". */
	if (key.len != WS_KEY_LEN || key.p[22] != '=' || key.p[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!is_b64((unsigned char)key.p[i]))
			return false;
	return true;
}

int ws_handshake_parse(const char *p, size_t len, size_t max, struct ws_handshake *hs)
{
	memset(hs, 0, sizeof(*hs));
	if (!p)
		len = 0;
	size_t n = len < max ? len : max;

	/* Early refusal of something that is not an HTTP request at all. */
	if (n > 0 && !is_tchar((unsigned char)p[0]))
		return refuse(hs, 400, "not an HTTP request", WIMS_EPARSE);
	long rl = find_crlf(p, n);
	if (rl >= 0) {
		int r = parse_request_line(p, (size_t)rl, hs);
		if (r)
			return r;
	}
	const char *end = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
	if (!end) {
		if (n >= max)
			return refuse(hs, 431, "request headers too large", WIMS_ETOOBIG);
		return WIMS_EAGAIN;
	}
	size_t total = (size_t)(end - p) + 4;

	bool upgrade_ok = false, connection_ok = false;
	/* The header block: after the request line, through the CRLF of the
	 * last field (the blank line's CRLF excluded). */
	size_t hstart = (size_t)rl + 2;
	size_t hend = total - 2;
	if (hend > hstart) {
		int r = parse_fields(p + hstart, hend - hstart, hs, &upgrade_ok, &connection_ok);
		if (r)
			return r;
	}

	if (!hs->host.p || hs->host.len == 0)
		return refuse(hs, 400, "missing Host", WIMS_EPARSE);
	if (!upgrade_ok)
		return refuse(hs, 400, "Upgrade: websocket required", WIMS_EPARSE);
	if (!connection_ok)
		return refuse(hs, 400, "Connection: Upgrade required", WIMS_EPARSE);
	/* RFC 6455 4.2.2: an unsupported version is answered 426 with the
	 * versions we speak. */
	if (!hs->version.p || !slice_eq_cstr(hs->version, "13"))
		return refuse(hs, 426, "Sec-WebSocket-Version 13 required", WIMS_EPARSE);
	if (!hs->key.p)
		return refuse(hs, 400, "missing Sec-WebSocket-Key", WIMS_EPARSE);
	if (!key_valid(hs->key))
		return refuse(hs, 400, "bad Sec-WebSocket-Key", WIMS_EPARSE);
	return (int)total;
}

bool ws_handshake_has_protocol(const struct ws_handshake *hs, const char *proto)
{
	if (!proto)
		return false;
	for (unsigned i = 0; i < hs->nprotocols; i++)
		if (hs->protocols[i].p && list_has(hs->protocols[i], proto, false))
			return true;
	return false;
}

int ws_accept_key(struct slice key, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char in[64 + sizeof(ws_guid)];
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	out[0] = '\0';
	if (key.len > 64)
		return WIMS_EINVAL;
	memcpy(in, key.p, key.len);
	memcpy(in + key.len, ws_guid, sizeof(ws_guid) - 1);
	if (!EVP_Q_digest(NULL, "SHA1", NULL, in, key.len + sizeof(ws_guid) - 1, md, &mdlen) ||
	    mdlen != 20)
		return WIMS_EIO;
	/* EVP_EncodeBlock writes 28 characters and a NUL for 20 bytes. */
	if (EVP_EncodeBlock((unsigned char *)out, md, 20) != WS_ACCEPT_LEN)
		return WIMS_EIO;
	return 0;
}

int ws_handshake_format_101(const struct ws_handshake *hs, const char *subprotocol, char *out,
			    size_t outsz)
{
	char accept[WS_ACCEPT_LEN + 1];
	if (ws_accept_key(hs->key, accept) != 0)
		return WIMS_EIO;
	int n = snprintf(out, outsz,
			 "HTTP/1.1 101 Switching Protocols\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n"
			 "%s%s%s"
			 "\r\n",
			 accept, subprotocol ? "Sec-WebSocket-Protocol: " : "",
			 subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
	if (n < 0 || (size_t)n >= outsz)
		return WIMS_ETOOBIG;
	return n;
}

static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

int ws_handshake_format_refusal(int status, const char *reason, char *out, size_t outsz)
{
	if (!reason)
		reason = status_text(status);
	int n = snprintf(out, outsz,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: close\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "%s%s"
			 "\r\n"
			 "%s\n",
			 status, status_text(status), strlen(reason) + 1,
			 status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
			 status == 405 ? "Allow: GET\r\n" : "", reason);
	if (n < 0 || (size_t)n >= outsz)
		return WIMS_ETOOBIG;
	return n;
}

int ws_handshake_parse_response(const char *p, size_t len, size_t max,
				const char accept[WS_ACCEPT_LEN + 1], const char *subprotocol,
				int *status, const char **reason)
{
	*status = 0;
	*reason = "";
	if (!p)
		len = 0;
	size_t n = len < max ? len : max;
	if (n > 0 && p[0] != 'H') {
		*reason = "not an HTTP response";
		return WIMS_EPARSE;
	}
	const char *end = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
	if (!end) {
		if (n >= max) {
			*reason = "response headers too large";
			return WIMS_ETOOBIG;
		}
		return WIMS_EAGAIN;
	}
	size_t total = (size_t)(end - p) + 4;
	long rl = find_crlf(p, total);
	/* "HTTP/1.1 101 ..." */
	if (rl < 12 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[9] < '1' || p[9] > '5' ||
	    p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
	    (rl > 12 && p[12] != ' ')) {
		*reason = "malformed status line";
		return WIMS_EPARSE;
	}
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (*status != 101) {
		*reason = "server refused the upgrade";
		return WIMS_EDENIED;
	}

	struct slice got_accept = SLICE_NULL, got_proto = SLICE_NULL;
	bool upgrade_ok = false, connection_ok = false;
	size_t pos = (size_t)rl + 2, hend = total - 2;
	while (pos < hend) {
		long e = find_crlf(p + pos, hend - pos);
		if (e < 0)
			break;
		struct slice line = {p + pos, (size_t)e};
		pos += (size_t)e + 2;
		long c = slice_find(line, ':');
		if (c <= 0) {
			*reason = "malformed header";
			return WIMS_EPARSE;
		}
		struct slice name = {line.p, (size_t)c};
		struct slice value = slice_trim((struct slice){line.p + c + 1, line.len - (size_t)c - 1});
		if (slice_ieq_cstr(name, "Upgrade"))
			upgrade_ok = upgrade_ok || list_has(value, "websocket", true);
		else if (slice_ieq_cstr(name, "Connection"))
			connection_ok = connection_ok || list_has(value, "upgrade", true);
		else if (slice_ieq_cstr(name, "Sec-WebSocket-Accept"))
			got_accept = value;
		else if (slice_ieq_cstr(name, "Sec-WebSocket-Protocol"))
			got_proto = value;
	}
	if (!upgrade_ok || !connection_ok) {
		*reason = "101 without Upgrade/Connection";
		return WIMS_EPARSE;
	}
	if (!slice_eq_cstr(got_accept, accept)) {
		*reason = "wrong Sec-WebSocket-Accept";
		return WIMS_EAUTH;
	}
	if (subprotocol ? !slice_eq_cstr(got_proto, subprotocol) : got_proto.p != NULL) {
		*reason = "subprotocol not agreed";
		return WIMS_EPARSE;
	}
	return (int)total;
}
