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
 *	P-Asserted-Identity: <sip:alice@ims.example.org>          other requests
 *
 * received/rport (RFC 3261 18.2.1, RFC 3581 4) record where the request
 * really came from: RFC 7118 clients write an invented "*.invalid" host.
 *
 * Responses going back pop our Via (RFC 3261 16.7 step 3); requests from
 * the core towards a flow get our Via and lose the Route entry that named
 * us (RFC 3261 16.4, RFC 5626 5.3).
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

struct pcscf_fwd {
	const char *via;       /* our Via line ("Via: SIP/2.0/TCP ...") */
	const char *received;  /* the client's address for received=; NULL:
				* leave its Via as it is */
	int rport;             /* the client's port for rport= */
	const char *path;      /* REGISTER: our Path line; NULL otherwise */
	struct slice asserted; /* URI for P-Asserted-Identity; empty: none */
	const char *route;     /* Route line replacing the client's Routes
				* (initial requests); NULL keeps them */
};

/*
 * Builds into out the request req forwarded as f says.  Always removes
 * every P-Asserted-Identity the client sent; for a REGISTER also its Path
 * and P-Preferred-Identity headers, and adds "Supported: path" when the
 * client did not list it (RFC 3327 5.1).  With f->asserted, removes
 * P-Preferred-Identity (RFC 3325 9.1) and adds P-Asserted-Identity.
 * Errors: WIMS_EDENIED with 483 (Max-Forwards 0), WIMS_EPARSE with 400
 * (bad Via or Max-Forwards), or the buffer's error with 500.
 */
int pcscf_fwd_request(struct buf *out, const struct sip_msg *req, const struct pcscf_fwd *f,
		      int *status, const char **reason);

/* A response going back one hop: the same message without its top Via
 * entry (ours).  WIMS_ENOTFOUND/EPARSE if it has none. */
int pcscf_fwd_response(struct buf *out, const struct sip_msg *resp);

/*
 * A request from the core towards a flow: our Via on top, Max-Forwards
 * decremented (483 at 0), and when pop_route the top Route entry (the
 * Path/Record-Route entry that brought it here) removed.  Errors as
 * pcscf_fwd_request.
 */
int pcscf_fwd_to_flow(struct buf *out, const struct sip_msg *req, const char *via, bool pop_route,
		      int *status, const char **reason);

/* True if a header of this id (Supported, Require) lists the option tag
 * (case-insensitive). */
bool pcscf_has_option_tag(const struct sip_msg *m, enum sip_hdr_id id, const char *tag);

#endif
