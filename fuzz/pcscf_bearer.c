/*
 * pcscf_bearer.c - fuzz what the trusted node reads from outside
 * (pcscf/bearer.h): the REGISTER a WIC sends (its Authorization, To and
 * From against a token's IMPUs, the forward by TNA) and the RFC 7662
 * answer the WAF sends back (a "{" first byte picks it).
 *
 * Invariants: a REGISTER forwarded by TNA carries exactly one
 * Authorization (ours, with integrity-protected) and exactly one
 * P-WWSF-Identity (ours), whatever the client wrote, and parses again as
 * a stream; an accepted introspection answer gives claims within the
 * limits that survive the cache unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pcscf/bearer.h"
#include "pcscf/fwd.h"
#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TNA_AUTH                                                                         \
	"Authorization: Digest username=\"grace@ims.example.org\", realm=\"ims.example.org\", " \
	"uri=\"sip:ims.example.org\", nonce=\"\", response=\"\", integrity-protected=\"auth-done\""
#define TNA_WWSF "P-WWSF-Identity: wwsf.ims.example.org"

static void fail(const char *what)
{
	fprintf(stderr, "pcscf_bearer: %s\n", what);
	abort();
}

static unsigned count_named(const struct sip_msg *m, const char *name)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (slice_ieq(m->hdrs[i].name, slice_from_cstr(name)))
			n++;
	return n;
}

static void fuzz_register(const uint8_t *data, size_t size)
{
	struct sip_msg m;
	const char *reason;
	if (sip_msg_parse(&m, (const char *)data, size, SIP_FRAMING_DATAGRAM, &reason) <= 0 ||
	    !m.is_request)
		return;
	struct slice token;
	int status = 0;
	const char *why = NULL;
	int rc = pcscf_bearer_authorization(&m, &token, &status, &why);
	if (rc == 1 && (token.len == 0 || token.p < (const char *)data ||
			token.p + token.len > (const char *)data + size))
		fail("token outside the message");
	if (rc < 0 && (!why || (status != 400 && status != 403)))
		fail("refusal without a status and reason");

	struct jwt_claims c;
	memset(&c, 0, sizeof(c));
	snprintf(c.impi, sizeof(c.impi), "grace@ims.example.org");
	snprintf(c.wwsf, sizeof(c.wwsf), "wwsf.ims.example.org");
	snprintf(c.impus[0], WIMS_IMPU_MAX, "sip:grace@ims.example.org");
	snprintf(c.impus[1], WIMS_IMPU_MAX, "tel:+15550000007");
	c.n_impus = 2;
	pcscf_bearer_check_impus(&c, &m, &why);
	if (m.ruri.len < 200) {
		pcscf_bearer_check_origin("wwsf.ims.example.org=https://127.0.0.1:8443", c.wwsf,
					  m.ruri, &why);
		char impi[256];
		memcpy(impi, m.ruri.p, m.ruri.len);
		impi[m.ruri.len] = '\0';
		pcscf_bearer_check_pool("webshop.example.net=pool*@ims.example.org, "
					"wwsf.ims.example.org=[a-z]*@*",
					"wwsf.ims.example.org", impi, &why);
	}

	struct pcscf_fwd f = {
		.via = "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpc00deadbeef.fuzz",
		.received = "192.0.2.7",
		.rport = 50312,
		.path = "Path: <sip:tok@127.0.0.1:5070;transport=tcp;lr;ob>",
		.authorization = TNA_AUTH,
		.wwsf_identity = TNA_WWSF,
	};
	struct buf out = BUF_INIT;
	if (pcscf_fwd_request(&out, &m, &f, &status, &why) == 0) {
		struct sip_msg o;
		if (sip_msg_parse(&o, out.p, out.len, SIP_FRAMING_STREAM, &reason) != (int)out.len)
			fail("forwarded REGISTER does not parse back");
		if (sip_msg_hdr_count(&o, SIP_HDR_AUTHORIZATION) != 1 ||
		    !slice_eq_cstr(sip_msg_hdr(&o, SIP_HDR_AUTHORIZATION)->line,
				   TNA_AUTH "\r\n"))
			fail("the client's Authorization survived the TNA forward");
		if (count_named(&o, "P-WWSF-Identity") != 1)
			fail("the client's P-WWSF-Identity survived");
	}
	buf_free(&out);
}

static void fuzz_introspection(const uint8_t *data, size_t size)
{
	static const struct jwt_expect want = {"https://127.0.0.1:9443", "sip:ims.example.org",
					       "webrtc-ims-client-access-to-ims", 30};
	struct jwt_claims c, back;
	const char *why;
	int rc = pcscf_bearer_introspection_parse((const char *)data, size, &want, 1700000000, &c,
						  &why);
	if (rc != 0)
		return;
	if (!c.impi[0] || !c.wwsf[0] || c.n_impus == 0 || c.n_impus > WIMS_IRS_MAX_IMPUS)
		fail("accepted claims out of bounds");
	struct pcscf_bearer_cache *cache = pcscf_bearer_cache_new(4);
	uint8_t h[32] = {1};
	if (cache && pcscf_bearer_cache_put(cache, h, &c, 1700000000) == 0) {
		if (pcscf_bearer_cache_get(cache, h, 1700000000, 30, &back) != 0 ||
		    memcmp(&c, &back, sizeof(c)) != 0)
			fail("claims changed in the cache");
	}
	pcscf_bearer_cache_free(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '{')
		fuzz_introspection(data, size);
	else
		fuzz_register(data, size);
	return 0;
}
