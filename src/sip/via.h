/*
 * via.h - Via header entries (RFC 3261 20.42, 18.2.1; RFC 3581 rport;
 * RFC 7118 WS/WSS).
 *
 *	Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds;rport
 *	v: SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKx;received=192.0.2.1,
 *	   SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKy
 *
 * One Via header line may hold several entries separated by commas, and a
 * message may hold several Via lines: the top Via is the first entry of
 * the first line.  sip_via_iter walks the entries of one value;
 * sip_msg_via_iter walks every entry of a message in order.
 */
#ifndef WIMS_SIP_VIA_H
#define WIMS_SIP_VIA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"
#include "sip/msg.h"

enum sip_transport {
	SIP_TRANSPORT_OTHER = 0,
	SIP_TRANSPORT_UDP,
	SIP_TRANSPORT_TCP,
	SIP_TRANSPORT_TLS,
	SIP_TRANSPORT_SCTP,
	SIP_TRANSPORT_WS,
	SIP_TRANSPORT_WSS,
};

/* Transport id of a name, case-insensitive ("tcp", "WSS"); OTHER if
 * unknown. */
enum sip_transport sip_transport_lookup(struct slice name);
/* "UDP", "TCP", ...; "" for OTHER. */
const char *sip_transport_name(enum sip_transport t);

struct sip_via {
	struct slice entry;     /* the whole entry, trimmed */
	struct slice transport; /* "TCP" as written */
	enum sip_transport transport_id;
	struct slice sent_by;   /* host[:port] as written */
	struct slice host;      /* IPv6 without brackets */
	bool host_ipv6;
	uint16_t port;          /* 0 if absent */
	struct slice params;    /* after the first ';', without it */

	struct slice branch;    /* empty if absent */
	struct slice received;
	struct slice maddr;
	struct slice ttl;
	bool rport;             /* ";rport" present, with or without value */
	uint16_t rport_value;   /* 0 when present without a value */
	bool alias;             /* RFC 5923 */
};

/*
 * Parse one Via entry: "SIP / 2.0 / transport LWS sent-by *(; param)".
 * LWS is allowed around the slashes (RFC 3261 7.3.1).  Returns 0 or
 * WIMS_EPARSE with *reason "Bad Via".
 */
int sip_via_parse(struct sip_via *v, struct slice entry, const char **reason);

/* The entries of one Via value. */
struct sip_via_iter {
	struct slice rest;
};
void sip_via_iter_init(struct sip_via_iter *it, struct slice value);
/* 1 with *v filled, 0 at the end, WIMS_EPARSE ("Bad Via"). */
int sip_via_iter_next(struct sip_via_iter *it, struct sip_via *v,
		      const char **reason);

/* Every Via entry of a message, top first; at most WIMS_SIP_MAX_VIAS
 * (more: WIMS_ETOOBIG, "Too many Via entries"). */
struct sip_msg_via_iter {
	const struct sip_msg *m;
	const struct sip_hdr *h;
	struct sip_via_iter in;
	unsigned count;
};
void sip_msg_via_iter_init(struct sip_msg_via_iter *it, const struct sip_msg *m);
/* 1 with *v filled, 0 at the end, negative on error. */
int sip_msg_via_iter_next(struct sip_msg_via_iter *it, struct sip_via *v,
			  const char **reason);

/* The top Via of m: 0, WIMS_ENOTFOUND ("Missing Via") or WIMS_EPARSE. */
int sip_msg_top_via(const struct sip_msg *m, struct sip_via *v,
		    const char **reason);

#endif
