/*
 * contact.c - Contact and Expires of a REGISTER into wanted bindings (see
 * contact.h).  Every value is bounded before it is used: the URIs must fit
 * the store's columns, so a refusal here is cheaper than one from SQLite.
 */
#include "cscf/contact.h"

#include <string.h>

#include "core/wims.h"
#include "sip/hdr.h"
#include "sip/nameaddr.h"

/* expires parameter or Expires header value: RFC 3261 20.19 allows up to
 * 2^32-1; we clamp to the maximum afterwards anyway. */
static int parse_delta(struct slice s, uint32_t *out)
{
	const char *reason;
	return sip_hdr_parse_uint(s, UINT32_MAX, out, &reason);
}

static uint32_t resolve(uint32_t v, const struct cscf_expiry_rules *r)
{
	return v > r->max ? r->max : v;
}

int cscf_contacts_parse(const struct sip_msg *m, const struct cscf_expiry_rules *rules,
			struct cscf_contacts *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	bool have_hdr = false;
	uint32_t hdr_expires = 0;
	const struct sip_hdr *e = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	if (e) {
		if (parse_delta(e->value, &hdr_expires) != 0) {
			*reason = "Bad Expires";
			return 400;
		}
		have_hdr = true;
	}
	uint32_t def = have_hdr ? hdr_expires : rules->def;

	unsigned seen = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		int rc;
		out->present = true;
		sip_nameaddr_iter_init(&it, h->value);
		while ((rc = sip_nameaddr_iter_next(&it, &na, reason)) == 1) {
			seen++;
			if (na.star) {
				out->star = true;
				continue;
			}
			struct cscf_contact c = {.uri = na.uri};
			if (na.uri.len == 0 || na.uri.len >= WIMS_REG_CONTACT_MAX) {
				*reason = "Contact URI too long";
				return 400;
			}
			uint32_t v = def;
			if (na.expires.p && parse_delta(na.expires, &v) != 0) {
				*reason = "Bad Contact expires";
				return 400;
			}
			if (v != 0 && v < rules->min) {
				*reason = "Interval Too Brief";
				return 423;
			}
			c.expires = resolve(v, rules);
			if (na.instance.p) {
				if (na.instance.len == 0 || na.instance.len >= WIMS_REG_INSTANCE_MAX) {
					*reason = "Bad +sip.instance";
					return 400;
				}
				c.instance = na.instance;
			}
			if (na.reg_id.p) {
				uint64_t id;
				/* RFC 5626 4.2: reg-id = 1*10DIGIT, not 0 */
				if (slice_to_u64(na.reg_id, UINT32_MAX, &id) != 0 || id == 0) {
					*reason = "Bad reg-id";
					return 400;
				}
				c.reg_id = (uint32_t)id;
			}
			/* The same URI twice: the last one says what is wanted. */
			unsigned i;
			for (i = 0; i < out->n; i++)
				if (slice_eq(out->c[i].uri, c.uri))
					break;
			if (i == out->n) {
				if (out->n == WIMS_REG_MAX_CONTACTS) {
					*reason = "Too many contacts";
					return 403;
				}
				out->n++;
			}
			out->c[i] = c;
		}
		if (rc < 0) {
			*reason = "Bad Contact";
			return 400;
		}
	}
	/* RFC 3261 10.2.2: "*" only alone and only with Expires: 0. */
	if (out->star && (seen != 1 || !have_hdr || hdr_expires != 0)) {
		*reason = "Contact: * needs Expires: 0 and no other contact";
		return 400;
	}
	return 0;
}
