/*
 * pcscf_fwd.c - fuzz the eP-CSCF's rewriting of the messages it forwards
 * (pcscf/fwd.h): a request from a flow towards the core, as an initial
 * request (Service-Route, P-Asserted-Identity, received/rport, Path for a
 * REGISTER) and as an in-dialog one (our own leading Route entries
 * popped); a request from the core towards a flow, with and without the
 * Route pop and Record-Route; a response going back one hop.
 *
 * The input is one message parsed as a datagram (UDP, WebSocket), as the
 * eP-CSCF receives it.  Every message we build must parse again as a
 * stream (it leaves on TCP to the core, so it needs its Content-Length),
 * and the identity and routing rules must hold in what we built: the
 * client's own P-Asserted-Identity never survives, an initial request
 * carries exactly our Service-Route, and an in-dialog request no longer
 * starts with a Route entry naming us.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pcscf/fwd.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUR_VIA_MW "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpc00deadbeef.fuzz"
#define OUR_VIA_WS "Via: SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bKpb00deadbeef.fuzz"
#define SERVICE_ROUTE "<sip:orig@127.0.0.1:5060;lr>"
#define ASSERTED "sip:alice@ims.example.org"
#define RECORD_ROUTE "Record-Route: <sip:tok@127.0.0.1:5070;transport=tcp;lr>"

static const struct pcscf_self self = {
	.mw_host = "127.0.0.1",
	.mw_port = 5070,
	.ws_host = "127.0.0.1",
	.ws_port = 7443,
};

static void fail(const char *what, const struct buf *b)
{
	fprintf(stderr, "pcscf_fwd: %s\n--- built ---\n%.*s\n---\n", what, (int)b->len, b->p);
	abort();
}

/* What we built must be one whole message our parser accepts, and its top
 * Via must be the one we put there (or, for a response, absent or not
 * ours). */
static void reparse(struct sip_msg *m, const struct buf *b, const char *via)
{
	const char *reason = NULL;
	if (b->err || !b->len)
		fail("built nothing, yet no error", b);
	if (sip_msg_parse(m, b->p, b->len, SIP_FRAMING_STREAM, &reason) != (int)b->len)
		fail(reason ? reason : "does not parse back", b);
	if (via) {
		const struct sip_hdr *v = sip_msg_hdr(m, SIP_HDR_VIA);
		if (!v || v->line.len < strlen(via) || memcmp(v->line.p, via, strlen(via)) != 0)
			fail("our Via is not on top", b);
	}
}

/* The number of P-Asserted-Identity headers; *ours set if one of them is
 * exactly the identity we assert. */
static unsigned count_pai(const struct sip_msg *m, bool *ours)
{
	unsigned n = 0;
	*ours = false;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_P_ASSERTED_IDENTITY); h;
	     h = sip_msg_hdr_next(m, h)) {
		n++;
		if (slice_eq_cstr(h->value, "<" ASSERTED ">"))
			*ours = true;
	}
	return n;
}

/* Request from a flow, first hop of an initial request (pcscf.c
 * flow_request with a Service-Route). */
static void initial(const struct sip_msg *req, bool wants_rr)
{
	struct pcscf_fwd f = {
		.via = OUR_VIA_MW,
		.received = "192.0.2.7",
		.rport = 50312,
		.path = req->method_id == SIP_METHOD_REGISTER
				? "Path: <sip:tok@127.0.0.1:5070;transport=tcp;lr;ob>"
				: NULL,
		.asserted = SLICE_LIT(ASSERTED),
		.route = "Route: " SERVICE_ROUTE,
		.record_route = wants_rr ? RECORD_ROUTE : NULL,
	};
	struct buf out = BUF_INIT;
	int status = 0;
	const char *reason = NULL;
	if (pcscf_fwd_request(&out, req, &f, &status, &reason) != 0) {
		if (!reason || status < 400 || status > 599)
			abort();
		buf_free(&out);
		return;
	}
	struct sip_msg m;
	reparse(&m, &out, OUR_VIA_MW);
	bool ours;
	/* RFC 3325 9.1: only the identity we assert goes to the core. */
	if (count_pai(&m, &ours) != 1 || !ours)
		fail("P-Asserted-Identity is not exactly ours", &out);
	/* RFC 3608 6: the Service-Route, and nothing the client wrote. */
	const struct sip_hdr *r = sip_msg_hdr(&m, SIP_HDR_ROUTE);
	if (!r || sip_msg_hdr_next(&m, r) || !slice_eq_cstr(r->value, SERVICE_ROUTE))
		fail("Route is not exactly the Service-Route", &out);
	if (req->method_id == SIP_METHOD_REGISTER) {
		const struct sip_hdr *p = sip_msg_hdr(&m, SIP_HDR_PATH);
		if (!p || sip_msg_hdr_next(&m, p))
			fail("REGISTER: Path is not exactly ours", &out);
	}
	buf_free(&out);
}

/* Request from a flow inside a dialog: its own route set, less our leading
 * entries; asserts nothing, so no P-Asserted-Identity may be left. */
static void in_dialog(const struct sip_msg *req)
{
	struct pcscf_fwd f = {
		.via = OUR_VIA_MW,
		.self = &self,
		.route_if_none =
			req->method_id == SIP_METHOD_ACK ? "Route: " SERVICE_ROUTE : NULL,
	};
	struct buf out = BUF_INIT;
	int status = 0;
	const char *reason = NULL;
	if (pcscf_fwd_request(&out, req, &f, &status, &reason) != 0) {
		if (!reason || status < 400 || status > 599)
			abort();
		buf_free(&out);
		return;
	}
	struct sip_msg m;
	reparse(&m, &out, OUR_VIA_MW);
	bool ours;
	if (count_pai(&m, &ours) != 0)
		fail("the client's P-Asserted-Identity went through", &out);
	/* RFC 3261 16.4: what leads the Route set now is the next hop, not
	 * us (else the core would send it straight back). */
	const struct sip_hdr *r = sip_msg_hdr(&m, SIP_HDR_ROUTE);
	if (r) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		sip_nameaddr_iter_init(&it, r->value);
		if (sip_nameaddr_iter_next(&it, &na, &reason) == 1 &&
		    pcscf_uri_names_us(&self, na.uri))
			fail("a Route entry naming us is left on top", &out);
	}
	buf_free(&out);
}

/* Request from the core towards a flow (pcscf.c to_flow). */
static void to_flow(const struct sip_msg *req, bool pop_route, const char *rr)
{
	struct buf out = BUF_INIT;
	int status = 0;
	const char *reason = NULL;
	if (pcscf_fwd_to_flow(&out, req, OUR_VIA_WS, pop_route, rr, &status, &reason) != 0) {
		if (!reason || status < 400 || status > 599)
			abort();
		buf_free(&out);
		return;
	}
	struct sip_msg m;
	reparse(&m, &out, OUR_VIA_WS);
	if (rr) {
		const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_RECORD_ROUTE);
		if (!h || !slice_eq_cstr(h->line, RECORD_ROUTE "\r\n"))
			fail("our Record-Route is not on top", &out);
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg m;
	const char *reason = NULL;
	if (sip_msg_parse(&m, (const char *)data, size, SIP_FRAMING_DATAGRAM, &reason) < 0 ||
	    m.keepalive)
		return 0;
	if (!m.is_request) {
		struct buf out = BUF_INIT;
		if (pcscf_fwd_response(&out, &m) == 0) {
			struct sip_msg back;
			reparse(&back, &out, NULL);
		}
		buf_free(&out);
		return 0;
	}
	(void)pcscf_has_option_tag(&m, SIP_HDR_SUPPORTED, "path");
	bool wants_rr = pcscf_wants_record_route(&m);
	if (wants_rr && pcscf_in_dialog(&m))
		abort();
	initial(&m, wants_rr);
	in_dialog(&m);
	to_flow(&m, false, NULL);
	to_flow(&m, true, wants_rr ? RECORD_ROUTE : NULL);
	to_flow(&m, true, RECORD_ROUTE);
	return 0;
}
