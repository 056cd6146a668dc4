/*
 * uri.c - SIP/SIPS/tel URI parser (see uri.h).
 *
 *	sip:user:password@host:port;uri-parameters?headers
 *	    \___ userinfo ___/ \hostport/ \_ params _/ \_ headers
 *
 * RFC 3261 19.1.1: an '@' can appear only as the end of the userinfo
 * (parameters and headers may not contain one unescaped), so the first '@'
 * splits the URI, and a second one is an error.
 */
#include "sip/uri.h"

#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "sip/sip_int.h"

/* Bytes that never appear raw in a URI (RFC 3986 / 3261 25.1: they must be
 * %-escaped): controls, space, the delimiters "<>\"\\^`{|}", DEL and every
 * byte >= 0x80. */
static bool uri_bad_char(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' ||
	       c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}';
}

static const char bad_host[] = "Bad host";
static const char bad_port[] = "Bad port";

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const char *sip_hostport_scan(const char *p, const char *end, struct slice *host,
			      bool *ipv6, uint16_t *port, const char **why)
{
	*ipv6 = false;
	*port = 0;
	if (p < end && *p == '[') {
		const char *h = ++p;
		bool colon = false;
		while (p < end && (is_hex(*p) || *p == ':' || *p == '.')) {
			colon |= *p == ':';
			p++;
		}
		if (p == end || *p != ']' || !colon || p - h < 2 || p - h > 45) {
			*why = bad_host;
			return NULL;
		}
		*host = (struct slice){h, (size_t)(p - h)};
		*ipv6 = true;
		p++;
	} else {
		const char *h = p;
		while (p < end && (is_alnum(*p) || *p == '-' || *p == '.'))
			p++;
		if (p == h || p - h > WIMS_SIP_MAX_TOKEN || *h == '-' || *h == '.') {
			*why = bad_host;
			return NULL;
		}
		*host = (struct slice){h, (size_t)(p - h)};
	}
	if (p < end && *p == ':') {
		unsigned v = 0;
		const char *d = ++p;
		while (p < end && *p >= '0' && *p <= '9' && p - d < 5)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == d || v == 0 || v > 65535 || (p < end && *p >= '0' && *p <= '9')) {
			*why = bad_port;
			return NULL;
		}
		*port = (uint16_t)v;
	}
	return p;
}

static void scan_params(struct sip_uri *u)
{
	struct slice rest = u->params;
	struct sip_param prm;
	while (sip_param_next(&rest, ';', &prm) == 1) {
		struct slice n = prm.name;
		if (slice_ieq_cstr(n, "transport"))
			u->transport = prm.value;
		else if (slice_ieq_cstr(n, "lr"))
			u->lr = true;
		else if (slice_ieq_cstr(n, "ob"))
			u->ob = true;
		else if (slice_ieq_cstr(n, "maddr"))
			u->maddr = prm.value;
		else if (slice_ieq_cstr(n, "user"))
			u->user_param = prm.value;
	}
}

/* Every parameter well formed: name, optional "=value", no empties. */
static bool params_ok(struct slice params)
{
	struct slice rest = params;
	struct sip_param prm;
	int rc;
	if (params.len == 0)
		return true;
	/* sip_param_next skips empty ";;" elements; a URI has none. */
	for (size_t i = 0; i + 1 < params.len; i++)
		if (params.p[i] == ';' && params.p[i + 1] == ';')
			return false;
	if (params.p[0] == ';' || params.p[params.len - 1] == ';')
		return false;
	while ((rc = sip_param_next(&rest, ';', &prm)) == 1)
		if (prm.quoted)
			return false;
	return rc == 0;
}

int sip_uri_parse(struct sip_uri *u, struct slice s, const char **reason)
{
	memset(u, 0, sizeof(*u));
	s = sip_lws_trim(s);
	if (s.len == 0) {
		*reason = "Bad URI scheme";
		return WIMS_EPARSE;
	}
	const char *p = s.p, *end = s.p + s.len;
	const char *colon = s.len ? memchr(p, ':', s.len) : NULL;

	if (!colon) {
		*reason = "Bad URI scheme";
		return WIMS_EPARSE;
	}
	struct slice scheme = {p, (size_t)(colon - p)};
	if (slice_ieq_cstr(scheme, "sip")) {
		u->scheme = SIP_URI_SIP;
	} else if (slice_ieq_cstr(scheme, "sips")) {
		u->scheme = SIP_URI_SIPS;
	} else if (slice_ieq_cstr(scheme, "tel")) {
		u->scheme = SIP_URI_TEL;
	} else {
		*reason = "Bad URI scheme";
		return WIMS_EPARSE;
	}
	p = colon + 1;
	for (const char *c = p; c < end; c++) {
		if (uri_bad_char((unsigned char)*c)) {
			*reason = "Bad URI";
			return WIMS_EPARSE;
		}
	}

	if (u->scheme == SIP_URI_TEL) {
		/* RFC 3966: telephone-subscriber *par; no host, no headers. */
		const char *n = p;
		while (p < end && *p != ';') {
			char c = *p;
			if (!(is_hex(c) || c == '+' || c == '-' || c == '.' || c == '(' ||
			      c == ')' || c == '*' || c == '#' || c == 'p' || c == 'w' ||
			      c == 'P' || c == 'W'))
				goto bad;
			p++;
		}
		if (p == n || p - n > WIMS_SIP_MAX_TOKEN)
			goto bad;
		u->user = (struct slice){n, (size_t)(p - n)};
		u->host = (struct slice){end, 0};
		u->hostport = u->host;
		if (p < end) {
			u->params = (struct slice){p + 1, (size_t)(end - p - 1)};
			if (u->params.len == 0)
				goto bad;
		}
		if (!params_ok(u->params) || memchr(p, '?', (size_t)(end - p)))
			goto bad;
		scan_params(u);
		return 0;
	}

	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		if (memchr(at + 1, '@', (size_t)(end - at - 1)))
			goto bad;
		const char *pw = memchr(p, ':', (size_t)(at - p));
		const char *uend = pw ? pw : at;
		u->user = (struct slice){p, (size_t)(uend - p)};
		if (u->user.len == 0 || u->user.len > WIMS_SIP_MAX_TOKEN)
			goto bad;
		if (pw) {
			u->has_password = true;
			u->password = (struct slice){pw + 1, (size_t)(at - pw - 1)};
			if (u->password.len > WIMS_SIP_MAX_TOKEN)
				goto bad;
		}
		p = at + 1;
	}

	const char *why = "Bad URI";
	const char *hp = p;
	p = sip_hostport_scan(p, end, &u->host, &u->host_ipv6, &u->port, &why);
	if (!p) {
		*reason = why == bad_port ? "Bad URI port" : "Bad URI host";
		return WIMS_EPARSE;
	}
	u->hostport = (struct slice){hp, (size_t)(p - hp)};
	if (p < end && *p == ';') {
		const char *q = memchr(p, '?', (size_t)(end - p));
		const char *pend = q ? q : end;
		u->params = (struct slice){p + 1, (size_t)(pend - p - 1)};
		if (u->params.len == 0)
			goto bad;
		p = pend;
	}
	if (p < end && *p == '?') {
		u->headers = (struct slice){p + 1, (size_t)(end - p - 1)};
		if (u->headers.len == 0)
			goto bad;
		p = end;
	}
	if (p != end) {
		*reason = "Bad URI host";
		return WIMS_EPARSE;
	}
	if (!params_ok(u->params))
		goto bad;
	scan_params(u);
	return 0;
bad:
	*reason = "Bad URI";
	return WIMS_EPARSE;
}

bool sip_uri_param(const struct sip_uri *u, const char *name, struct sip_param *out)
{
	return sip_param_find(u->params, name, out);
}

uint16_t sip_uri_port_or_default(const struct sip_uri *u)
{
	if (u->port)
		return u->port;
	if (u->scheme == SIP_URI_SIPS || slice_ieq_cstr(u->transport, "tls") ||
	    slice_ieq_cstr(u->transport, "wss"))
		return 5061;
	return 5060;
}
