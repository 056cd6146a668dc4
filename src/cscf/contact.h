/*
 * contact.h - the Contact and Expires headers of a REGISTER, read into a
 * list of wanted bindings (RFC 3261 10.2, 10.3 steps 6-7; RFC 5626 4.2).
 *
 *	Contact: <sip:alice@192.0.2.4;transport=ws>;expires=600;
 *	    +sip.instance="<urn:uuid:0d8b...>";reg-id=1
 *	Contact: *                                (with Expires: 0 only)
 *	Expires: 3600                             (default for every contact)
 *
 * Pure: no store, no clock.  Slices point into the message.  The expiry of
 * each contact is resolved here (its expires parameter, else the Expires
 * header, else the default; above the maximum it is lowered to it; a
 * non-zero value below the minimum is refused with 423 Interval Too Brief).
 */
#ifndef WIMS_CSCF_CONTACT_H
#define WIMS_CSCF_CONTACT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/slice.h"
#include "sip/msg.h"

struct cscf_expiry_rules {
	uint32_t min;     /* 423 below it (0 means remove, always allowed) */
	uint32_t max;     /* lowered to it above */
	uint32_t def;     /* neither parameter nor header */
};

struct cscf_contact {
	struct slice uri;      /* the Contact URI, without <> */
	struct slice instance; /* +sip.instance inside its quotes, or empty */
	uint32_t reg_id;       /* RFC 5626 reg-id, 0 if none */
	uint32_t expires;      /* resolved, seconds; 0 removes the binding */
};

struct cscf_contacts {
	bool present; /* at least one Contact header (else: a fetch, 10.2.3) */
	bool star;    /* "Contact: *" with Expires: 0: remove every binding */
	unsigned n;
	struct cscf_contact c[WIMS_REG_MAX_CONTACTS];
};

/*
 * Read the Contacts of REGISTER m.  Returns 0 with *out filled, or a SIP
 * status with *reason (static):
 *   400  a malformed Contact or Expires, "*" not alone or without
 *        Expires: 0, a URI too long to store, a bad reg-id
 *   403  more than WIMS_REG_MAX_CONTACTS contacts in one request
 *   423  a non-zero expiry below rules->min (answer with Min-Expires)
 * A contact listed twice keeps its last occurrence.
 */
int cscf_contacts_parse(const struct sip_msg *m, const struct cscf_expiry_rules *rules,
			struct cscf_contacts *out, const char **reason);

#endif
