/*
 * cscf_contact.c - fuzz the registrar's reading of Contact and Expires.
 *
 * The input is a SIP message; when it parses, its Contacts are read with
 * the demo's expiry rules.  Every result is 0 or a status with a reason,
 * and accepted expiries respect the rules.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cscf/contact.h"
#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg m;
	const char *reason = NULL;
	if (sip_msg_parse(&m, (const char *)data, size, SIP_FRAMING_DATAGRAM, &reason) < 0)
		return 0;
	static const struct cscf_expiry_rules rules = {.min = 60, .max = 7200, .def = 3600};
	struct cscf_contacts cs;
	reason = NULL;
	int status = cscf_contacts_parse(&m, &rules, &cs, &reason);
	if (status != 0) {
		if (!reason || (status != 400 && status != 403 && status != 423))
			abort();
		return 0;
	}
	for (unsigned i = 0; i < cs.n; i++)
		if (cs.c[i].expires != 0 &&
		    (cs.c[i].expires < rules.min || cs.c[i].expires > rules.max))
			abort();
	return 0;
}
