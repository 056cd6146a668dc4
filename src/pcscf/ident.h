/*
 * ident.h - who a flow may speak for (TR 33.871 6.1.1, TS 24.229 5.2.6.3,
 * RFC 3325): the registration bound to one WebSocket flow, and the check
 * that asserts an identity on every request the flow sends.
 *
 * A flow is bound when the registrar's 200 OK to a REGISTER sent on it
 * comes back (DESIGN 4 step 4): the IMPI (the Authorization username, or
 * derived from the To IMPU, TS 33.203 Annex N; for a registration by
 * token, TR 33.871 6.1.2, the token's IMPI, kept with the transaction:
 * txn.h), the implicitly registered
 * IMPUs (P-Associated-URI, RFC 7315) plus the To IMPU (for a registration
 * by token only those the token names, REQ 2.4), the Service-Route
 * (RFC 3608) to put in front of its initial requests, and the expiry (by
 * token: no later than the token's).
 * From then on (DESIGN 4 step 5) a request is forwarded only if its From
 * and P-Preferred-Identity are bound IMPUs, and it carries a
 * P-Asserted-Identity we wrote, never one the client sent.
 *
 * Pure functions over parsed messages; the time is the caller's
 * (monotonic milliseconds).  A binding belongs to its flow's worker.
 */
#ifndef WIMS_PCSCF_IDENT_H
#define WIMS_PCSCF_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/slice.h"
#include "sip/msg.h"

struct pcscf_binding {
	bool bound;
	char impi[WIMS_IMPI_MAX];
	/* The IMPUs, each NUL-terminated, one after the other: the
	 * P-Associated-URI entries in order (the first is the default
	 * public identity), then the To IMPU if it was not among them. */
	char *impus;
	size_t impus_len;
	unsigned nimpus;
	/* "Route: <sip:orig@...;lr>, ..." from every Service-Route value, in
	 * order, without CRLF; NULL when the registrar sent none. */
	char *route_line;
	int64_t expires_ms; /* the registration ends at this monotonic time */
};

/*
 * Bind: impi, every IMPU of ok's P-Associated-URI headers and to_uri, the
 * Service-Route of ok.  Replaces what b held.  Refuses (WIMS_EPARSE) a
 * malformed P-Associated-URI or Service-Route, (WIMS_ETOOBIG) an IMPI or
 * IMPU over the limits or more than WIMS_IRS_MAX_IMPUS IMPUs.  On error b
 * is left cleared (unbound).  Returns 0, those, or WIMS_ENOMEM.
 */
int pcscf_binding_set(struct pcscf_binding *b, struct slice impi, struct slice to_uri,
		      const struct sip_msg *ok, int64_t expires_ms);

/*
 * A registration by token (TR 33.871 6.1.2, REQ 2.4): the IMS identity is
 * the one the authorization information gives, so the flow speaks only
 * for the registered IMPUs the token names, not for the whole implicit
 * registration set the registrar answered with (bob-impu1 authorised,
 * bob-impu2 registered alongside: impu2 is not bound).  Keeps those of
 * b's IMPUs that are among allowed (n NUL-terminated URIs one after the
 * other; pcscf_uri_same), in b's order, so the first kept is the default.
 * Returns how many were dropped, or WIMS_EDENIED (b cleared) when none
 * is left.
 */
int pcscf_binding_narrow(struct pcscf_binding *b, const char *allowed, unsigned n);

/*
 * When a binding ends (monotonic ms): reg_s seconds after now_ms as the
 * registrar granted, but never after the token's exp (seconds since the
 * epoch; wall_ms is now on that clock) when token_exp > 0: the binding
 * must not outlive the authorization it came from, so at the token's exp
 * the flow is "Not registered" until the WIC registers with a fresh one.
 * *by_token (may be NULL) tells whether the token set it.
 */
int64_t pcscf_binding_until(int64_t now_ms, int64_t reg_s, int64_t wall_ms, int64_t token_exp,
			    bool *by_token);

/* Unbind and free what b holds (b itself is the caller's). */
void pcscf_binding_clear(struct pcscf_binding *b);

/* True if uri (a URI, no angle brackets) is one of b's IMPUs. */
bool pcscf_binding_has(const struct pcscf_binding *b, struct slice uri);

/* The i-th IMPU (0 = default), NULL past the end. */
const char *pcscf_binding_impu(const struct pcscf_binding *b, unsigned i);

/*
 * Identity check of a request (not REGISTER) sent on a flow bound as b:
 *  - not bound or expired: WIMS_EDENIED, "Not registered";
 *  - From must be a bound IMPU (or the anonymous URI of RFC 3323, for
 *    privacy), else WIMS_EDENIED "From is not a registered identity";
 *  - every P-Preferred-Identity must be a bound IMPU, else WIMS_EDENIED
 *    "P-Preferred-Identity is not a registered identity";
 *  - a malformed From or P-Preferred-Identity is WIMS_EPARSE.
 * On success *asserted is the identity to put in P-Asserted-Identity: the
 * first P-Preferred-Identity, else the From URI, else (anonymous From)
 * the default IMPU.  It points into req or into b.
 */
int pcscf_ident_assert(const struct pcscf_binding *b, const struct sip_msg *req, int64_t now_ms,
		       struct slice *asserted, const char **reason);

/* Two URIs name the same identity: same scheme; sip/sips: same user
 * (case-sensitive), host (case-insensitive) and port; tel: same number.
 * URI parameters do not count (";transport=ws" on a From is still the
 * user).  Unparsable URIs compare as exact text. */
bool pcscf_uri_same(struct slice a, struct slice b);

/* The URI of a name-addr header value (From, To, P-Preferred-Identity's
 * first entry).  0 or WIMS_EPARSE. */
int pcscf_nameaddr_uri(struct slice value, struct slice *uri);

/*
 * The IMPI a REGISTER registers: the Authorization username when there is
 * a Digest Authorization, else derived from the To IMPU (TS 33.203 Annex N
 * NOTE 2a, TR 33.871 6.1.1.2 NOTE 5).  Writes it NUL-terminated.  Returns
 * its length, WIMS_EPARSE or WIMS_ETOOBIG.
 */
int pcscf_reg_impi(const struct sip_msg *reg, char *out, size_t outsz);

/*
 * How long the registrar kept the REGISTER's contact(s), from the
 * REGISTER and the 200 OK to it (RFC 3261 10.2.4 and 10.3 step 8): 0 when
 * it was a de-registration (Contact "*", Expires 0, or every contact with
 * expires=0) or the 200 lists none of its contacts any more; else the
 * expires the 200 gives the REGISTER's contact.  -1 when the REGISTER
 * had no Contact (a query, RFC 3261 10.2.3): the binding is unchanged.
 */
int64_t pcscf_reg_expiry(const struct sip_msg *reg, const struct sip_msg *ok);

#endif
