/*
 * fwd.h - the messages the eP-CSCF forwards, built with the sip edit list
 * (sip/build.h): what changes on each hop, and nothing else.
 *
 * From a flow towards the core (Mw), a request is forwarded as (RFC 3261
 * 16.6):
 *
 *	Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK<token>.<txn>      ours
 *	Via: SIP/2.0/WSS xyz.invalid;branch=...;received=192.0.2.7;rport=50312
 *	Max-Forwards: N-1
 *	...the client's headers, minus P-Asserted-Identity (RFC 3325 9.1:
 *	   never trusted from a UE) and P-Preferred-Identity once we assert...
 *	Path: <sip:<token>@127.0.0.1:5070;transport=tcp;lr;ob>          REGISTER
 *	Supported: path                                                  REGISTER
 *	Route: <service route>                                  initial requests
 *	Route: <what is left of the client's own>              in-dialog requests
 *	P-Asserted-Identity: <sip:alice@ims.example.org>          other requests
 *	Record-Route: <sip:<token>@127.0.0.1:5070;transport=tcp;lr>
 *	                             initial INVITE, SUBSCRIBE, REFER (on top)
 *
 * received/rport (RFC 3261 18.2.1, RFC 3581 4) record where the request
 * really came from: RFC 7118 clients write an invented "*.invalid" host.
 *
 * An in-dialog request carries the route set the dialog learnt from
 * Record-Route (RFC 3261 12.2.1.1): its leading entries that name us (our
 * Record-Route, or an outbound-proxy Route to our WSS address) are popped
 * (RFC 3261 16.4), the rest kept, so the core routes it on.
 *
 * Responses going back pop our Via (RFC 3261 16.7 step 3); requests from
 * the core towards a flow get our Via, lose the Route entry that named us
 * (RFC 3261 16.4, RFC 5626 5.3) and, when they open a dialog, our
 * Record-Route on top, so the WIC's in-dialog requests come back through
 * the same flow.  P-Asserted-Identity is kept towards the WIC: it shows
 * who calls (TS 24.229 5.2.6.4); only a caller that asked for "Privacy:
 * id" has it removed (RFC 3325 7: the WIC is outside the trust domain).
 *
 * Pure functions: no I/O.  On failure they return a negative WIMS_E* and
 * set *status (the SIP status to answer) and *reason.
 */
#ifndef WIMS_PCSCF_FWD_H
#define WIMS_PCSCF_FWD_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/slice.h"
#include "sip/msg.h"
#include "sip/uri.h"

/* The addresses that name this eP-CSCF in a Route entry: the Mw and the
 * WSS address (a missing port in the entry counts as 5060). */
struct pcscf_self {
	const char *mw_host; /* IPv6 without brackets */
	int mw_port;
	const char *ws_host;
	int ws_port;
};

/* True if uri (a SIP URI, no angle brackets) names s: host equal
 * (case-insensitive) and port equal. */
bool pcscf_uri_names_us(const struct pcscf_self *s, struct slice uri);
/* The same for a URI the caller has parsed already. */
bool pcscf_parsed_uri_names_us(const struct pcscf_self *s, const struct sip_uri *u);

struct pcscf_fwd {
	const char *via;       /* our Via line ("Via: SIP/2.0/TCP ...") */
	const char *received;  /* the client's address for received=; NULL:
				* leave its Via as it is */
	int rport;             /* the client's port for rport= */
	const char *path;      /* REGISTER: our Path line; NULL otherwise */
	struct slice asserted; /* URI for P-Asserted-Identity; empty: none */
	const char *route;     /* Route line replacing the client's Routes
				* (initial requests); NULL keeps them */
	const struct pcscf_self *self; /* in-dialog (with route NULL): pop the
				* leading Route entries that name us */
	const char *route_if_none; /* with self: the Route line to use when no
				* entry is left (an ACK to a non-2xx, RFC
				* 3261 17.1.1.3: the INVITE's Route) */
	const char *record_route; /* Record-Route line put on top of the
				* message's Record-Route set; NULL: none */
	/* Trusted Node Authentication (TR 33.871 6.1.2.2 step 3, TS 24.229
	 * 5.4.1.2.2A), REGISTER with a validated token only: the client's
	 * Authorization is replaced by this line ("Authorization: Digest
	 * ...integrity-protected=\"auth-done\"") and wwsf_identity
	 * ("P-WWSF-Identity: ...") is added.  NULL: neither. */
	const char *authorization;
	const char *wwsf_identity;
};

/* Our extension header naming the WWSF that vouched for a Trusted Node
 * Authentication (TR 33.871 REQ 2.3; tna.md 2).  Only we write it. */
#define PCSCF_WWSF_IDENTITY_HDR "P-WWSF-Identity"

/*
 * Builds into out the request req forwarded as f says.  Always removes
 * every P-Asserted-Identity and P-WWSF-Identity the client sent; for a
 * REGISTER also its Path
 * and P-Preferred-Identity headers, and adds "Supported: path" when the
 * client did not list it (RFC 3327 5.1).  With f->asserted, removes
 * P-Preferred-Identity (RFC 3325 9.1) and adds P-Asserted-Identity.
 * Errors: WIMS_EDENIED with 483 (Max-Forwards 0), WIMS_EPARSE with 400
 * (bad Via, Max-Forwards or Route), WIMS_ETOOBIG with 513 when what we
 * add takes the message past WIMS_SIP_MAX_MSG or WIMS_SIP_MAX_HEADERS (the
 * next hop could not parse it), or the buffer's error with 500.
 */
int pcscf_fwd_request(struct buf *out, const struct sip_msg *req, const struct pcscf_fwd *f,
		      int *status, const char **reason);

/* A response going back one hop: the same message without its top Via
 * entry (ours), as sip_build_response_upstream.  WIMS_EPARSE if it has
 * none, or no Via under ours (RFC 3261 16.7 step 3: nowhere to send it). */
int pcscf_fwd_response(struct buf *out, const struct sip_msg *resp);

/*
 * A request from the core towards a flow: our Via on top, Max-Forwards
 * decremented (483 at 0), when pop_route the top Route entry (the
 * Path/Record-Route entry that brought it here) removed, and when
 * record_route is not NULL that line on top of the Record-Route set.
 * Everything else, P-Asserted-Identity included, passes unchanged, unless
 * a Privacy header asks for "id" (then P-Asserted-Identity is removed).
 * Errors as pcscf_fwd_request.
 */
int pcscf_fwd_to_flow(struct buf *out, const struct sip_msg *req, const char *via, bool pop_route,
		      const char *record_route, int *status, const char **reason);

/* True if req opens a dialog that we record-route: an INVITE, SUBSCRIBE
 * or REFER whose To has no tag (RFC 3261 16.6 step 4, RFC 6665 4.1,
 * RFC 3515 2.4.5). */
bool pcscf_wants_record_route(const struct sip_msg *req);

/* True for the methods whose initial request opens a dialog (INVITE,
 * SUBSCRIBE, REFER): with !pcscf_in_dialog, pcscf_wants_record_route. */
bool pcscf_forms_dialog(enum sip_method method);

/* True if req's To has a tag (in a dialog, RFC 3261 12.2). */
bool pcscf_in_dialog(const struct sip_msg *req);

/* True if a header of this id (Supported, Require) lists the option tag
 * (case-insensitive). */
bool pcscf_has_option_tag(const struct sip_msg *m, enum sip_hdr_id id, const char *tag);

#endif
