/*
 * cscf_route.c - fuzz the cscf proxy's routing of a request: Route
 * scanning, hops from the next Route and the Request-URI, the loop hash
 * and loop check, the served user of an originating request, a branch's forwarded request (which must parse again),
 * and CANCEL/ACK built from it.
 *
 * The input is a SIP message; when it parses as a request, every routing
 * function runs on it.  Results must be 0 or an error code with a reason;
 * a built request must be a message our parser accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cscf/route.h"
#include "sip/build.h"
#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reparse(const struct buf *b)
{
	struct sip_msg m;
	const char *reason = NULL;
	if (b->err || !b->len)
		return;
	if (sip_msg_parse(&m, b->p, b->len, SIP_FRAMING_STREAM, &reason) != (int)b->len)
		abort(); /* we built something we cannot read back */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cscf_self self = {"127.0.0.1", 5060};
	struct sip_msg m;
	const char *reason = NULL;
	if (sip_msg_parse(&m, (const char *)data, size, SIP_FRAMING_DATAGRAM, &reason) < 0 ||
	    !m.is_request || m.keepalive)
		return 0;
	struct cscf_route_info ri;
	reason = NULL;
	if (cscf_route_scan(&m, &self, &ri, &reason) != 0) {
		if (!reason)
			abort();
		return 0;
	}
	if (ri.popped > ri.total || (ri.has_next && ri.popped >= ri.total))
		abort();
	struct cscf_hop hop;
	reason = NULL;
	if (cscf_hop_from_uri(ri.has_next ? ri.next : m.ruri, &hop, &reason) != 0 && !reason)
		abort();
	uint32_t hash = cscf_loop_hash(&m);
	(void)cscf_loop_detected(&m, &self, hash);
	(void)cscf_in_dialog(&m);
	(void)cscf_max_forwards(&m);
	char served[WIMS_IMPU_MAX];
	int rc = cscf_served_user(&m, "ims.example.org", served, sizeof(served));
	if (rc == 0 && strnlen(served, sizeof(served)) == sizeof(served))
		abort(); /* an answer must be a C string */
	if (!sip_msg_can_answer(&m))
		return 0;
	struct cscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcs00deadbeef.fuzz;rport",
		.record_route = "Record-Route: <sip:127.0.0.1:5060;lr>",
		.pop = ri.popped,
		.ruri = SLICE_LIT("sip:x@y.invalid;transport=ws"),
		.route = "Route: <sip:tok@127.0.0.1:5070;transport=tcp;lr>",
		.strip_pai = true,
		.strip_wwsf = true,
		.pai = "P-Asserted-Identity: <sip:alice@ims.example.org>",
	};
	struct buf out = BUF_INIT;
	if (cscf_fwd_build(&m, &f, &out) == 0) {
		reparse(&out);
		struct sip_msg fwd;
		if (m.method_id == SIP_METHOD_INVITE &&
		    sip_msg_parse(&fwd, out.p, out.len, SIP_FRAMING_STREAM, &reason) > 0) {
			struct buf c = BUF_INIT;
			if (sip_build_cancel(&c, &fwd) == 0)
				reparse(&c);
			buf_free(&c);
		}
	}
	buf_free(&out);
	return 0;
}
