/*
 * uri.h - SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966), parsed in
 * place.
 *
 *	sip:user:password@host:port;uri-parameters?headers
 *	sips:[2001:db8::1]:5061;transport=tcp
 *	tel:+15551234567;phone-context=ims.example.org
 *
 * The result is slices of the input.  The parameters a proxy looks at on
 * every request (transport, lr, ob, maddr, user) are found while parsing;
 * any other one through sip_uri_param().  Escaped characters (%XX) are not
 * decoded: comparisons that need RFC 3261 19.1.4 equivalence must decode
 * themselves.
 */
#ifndef WIMS_SIP_URI_H
#define WIMS_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"
#include "sip/param.h"

enum sip_uri_scheme {
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct slice user;     /* before '@' (tel: the number); may be empty */
	struct slice password; /* after ':' in userinfo; empty if none */
	bool has_password;
	struct slice host;     /* IPv6 without its brackets; tel: empty */
	bool host_ipv6;
	struct slice hostport; /* as written: "[2001:db8::1]:5061" */
	uint16_t port;         /* 0 if absent */
	struct slice params;   /* after the first ';' up to '?' or the end,
				* without that ';'; empty if none */
	struct slice headers;  /* after '?', empty if none */

	/* Found while parsing the parameters. */
	struct slice transport; /* value of transport=, empty if absent */
	struct slice maddr;
	struct slice user_param; /* user=phone / user=ip */
	bool lr;
	bool ob;
};

/*
 * Parse one URI (the whole slice, LWS trimmed).  Scheme names are
 * case-insensitive.  The host must be a hostname (alphanum, '-', '.'), an
 * IPv4 address or a bracketed IPv6 reference; the port 1-65535; the user
 * part is bounded by WIMS_SIP_MAX_TOKEN.  Returns 0, or WIMS_EPARSE with
 * *reason ("Bad URI scheme", "Bad URI host", "Bad URI port", "Bad URI").
 */
int sip_uri_parse(struct sip_uri *u, struct slice s, const char **reason);

/* A URI parameter by name (case-insensitive); true if present. */
bool sip_uri_param(const struct sip_uri *u, const char *name,
		   struct sip_param *out);

/* The port to use: the explicit one, else 5061 for sips: or
 * transport=tls/wss, else 5060. */
uint16_t sip_uri_port_or_default(const struct sip_uri *u);

#endif
