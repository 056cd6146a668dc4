/*
 * ident.c - registration bindings of a flow and the identity assertion of
 * its requests (see ident.h).
 */
#include "pcscf/ident.h"

#include <stdlib.h>
#include <string.h>

#include "auth/digest.h"
#include "core/buf.h"
#include "core/wims.h"
#include "sip/auth_hdr.h"
#include "sip/nameaddr.h"
#include "sip/uri.h"

void pcscf_binding_clear(struct pcscf_binding *b)
{
	free(b->impus);
	free(b->route_line);
	memset(b, 0, sizeof(*b));
}

const char *pcscf_binding_impu(const struct pcscf_binding *b, unsigned i)
{
	if (!b->impus || i >= b->nimpus)
		return NULL;
	const char *p = b->impus;
	while (i-- > 0)
		p += strlen(p) + 1;
	return p;
}

bool pcscf_uri_same(struct slice a, struct slice b)
{
	struct sip_uri ua, ub;
	const char *reason;
	if (sip_uri_parse(&ua, a, &reason) != 0 || sip_uri_parse(&ub, b, &reason) != 0)
		return slice_eq(sip_lws_trim(a), sip_lws_trim(b));
	if (ua.scheme != ub.scheme)
		return false;
	if (ua.scheme == SIP_URI_TEL)
		return slice_eq(ua.user, ub.user);
	return slice_eq(ua.user, ub.user) && slice_ieq(ua.host, ub.host) && ua.port == ub.port;
}

bool pcscf_binding_has(const struct pcscf_binding *b, struct slice uri)
{
	for (unsigned i = 0; i < b->nimpus; i++)
		if (pcscf_uri_same(slice_from_cstr(pcscf_binding_impu(b, i)), uri))
			return true;
	return false;
}

int pcscf_nameaddr_uri(struct slice value, struct slice *uri)
{
	struct sip_nameaddr na;
	const char *reason;
	if (sip_nameaddr_parse(&na, value, &reason) != 0 || na.star)
		return WIMS_EPARSE;
	*uri = na.uri;
	return 0;
}

/* Append one IMPU (with its NUL) unless already there. */
static int add_impu(struct pcscf_binding *b, struct buf *impus, struct slice uri)
{
	uri = sip_lws_trim(uri);
	if (uri.len == 0 || uri.len >= WIMS_IMPU_MAX || memchr(uri.p, '\0', uri.len))
		return WIMS_ETOOBIG;
	/* impus->p is NUL-separated already (buf keeps a NUL past len too) */
	const char *p = impus->p;
	for (unsigned i = 0; i < b->nimpus; i++) {
		if (pcscf_uri_same(slice_from_cstr(p), uri))
			return 0;
		p += strlen(p) + 1;
	}
	if (b->nimpus >= WIMS_IRS_MAX_IMPUS)
		return WIMS_ETOOBIG;
	buf_append_slice(impus, uri);
	buf_append(impus, "", 1);
	if (impus->err)
		return impus->err;
	b->nimpus++;
	return 0;
}

int pcscf_binding_set(struct pcscf_binding *b, struct slice impi, struct slice to_uri,
		      const struct sip_msg *ok, int64_t expires_ms)
{
	pcscf_binding_clear(b);
	if (impi.len == 0 || impi.len >= sizeof(b->impi) || memchr(impi.p, '\0', impi.len))
		return WIMS_ETOOBIG;

	struct buf impus = BUF_INIT;
	struct buf route = BUF_INIT;
	const char *reason;
	int rc = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(ok, SIP_HDR_P_ASSOCIATED_URI); h && !rc;
	     h = sip_msg_hdr_next(ok, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		int r;
		sip_nameaddr_iter_init(&it, h->value);
		while ((r = sip_nameaddr_iter_next(&it, &na, &reason)) == 1 && !rc)
			rc = na.star ? WIMS_EPARSE : add_impu(b, &impus, na.uri);
		if (r < 0)
			rc = WIMS_EPARSE;
	}
	if (!rc)
		rc = add_impu(b, &impus, to_uri);

	/* RFC 3608 6: the Service-Route values, in order, become the Route
	 * set in front of the flow's initial requests. */
	for (const struct sip_hdr *h = sip_msg_hdr(ok, SIP_HDR_SERVICE_ROUTE); h && !rc;
	     h = sip_msg_hdr_next(ok, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		int r;
		sip_nameaddr_iter_init(&it, h->value);
		while ((r = sip_nameaddr_iter_next(&it, &na, &reason)) == 1) {
			if (!na.angle || na.star) {
				rc = WIMS_EPARSE;
				break;
			}
			buf_append_cstr(&route, route.len ? ", " : "Route: ");
			buf_append_slice(&route, na.entry);
		}
		if (r < 0)
			rc = WIMS_EPARSE;
	}
	if (!rc && route.len && memchr(route.p, '\r', route.len))
		rc = WIMS_EPARSE; /* folded lines: not copied into one line */
	if (!rc)
		rc = impus.err ? impus.err : route.err;
	if (rc) {
		buf_free(&impus);
		buf_free(&route);
		b->nimpus = 0;
		return rc;
	}
	memcpy(b->impi, impi.p, impi.len);
	b->impi[impi.len] = '\0';
	b->impus = impus.p;
	b->impus_len = impus.len;
	if (route.len) {
		buf_cstr(&route);
		b->route_line = route.p;
	} else {
		buf_free(&route);
	}
	b->expires_ms = expires_ms;
	b->bound = true;
	return 0;
}

/* True if uri is one of the n NUL-terminated URIs of list. */
static bool list_has(const char *list, unsigned n, struct slice uri)
{
	for (unsigned i = 0; i < n; i++, list += strlen(list) + 1)
		if (pcscf_uri_same(slice_from_cstr(list), uri))
			return true;
	return false;
}

int pcscf_binding_narrow(struct pcscf_binding *b, const char *allowed, unsigned n)
{
	if (!b->bound)
		return WIMS_EDENIED;
	/* compacted in place: what is kept never moves forward */
	char *in = b->impus, *out = b->impus;
	unsigned kept = 0, dropped = 0;
	for (unsigned i = 0; i < b->nimpus; i++) {
		size_t len = strlen(in) + 1;
		if (list_has(allowed, n, slice_from_cstr(in))) {
			memmove(out, in, len);
			out += len;
			kept++;
		} else {
			dropped++;
		}
		in += len;
	}
	if (kept == 0) {
		pcscf_binding_clear(b);
		return WIMS_EDENIED;
	}
	b->nimpus = kept;
	b->impus_len = (size_t)(out - b->impus);
	return (int)dropped;
}

int64_t pcscf_binding_until(int64_t now_ms, int64_t reg_s, int64_t wall_ms, int64_t token_exp,
			    bool *by_token)
{
	int64_t until = now_ms + reg_s * 1000;
	bool cut = false;
	/* (compared in seconds first: a token exp far away must not
	 * overflow in milliseconds) */
	if (token_exp > 0 && token_exp - wall_ms / 1000 <= reg_s + 1) {
		int64_t end = now_ms + (token_exp * 1000 - wall_ms);
		if (end < until) {
			until = end;
			cut = true;
		}
	}
	if (by_token)
		*by_token = cut;
	return until;
}

/* RFC 3323 4.1.1.3: the From a UA uses to hide who it is. */
static bool is_anonymous(struct slice uri)
{
	struct sip_uri u;
	const char *reason;
	if (sip_uri_parse(&u, uri, &reason) != 0 || u.scheme == SIP_URI_TEL)
		return false;
	return slice_ieq_cstr(u.user, "anonymous") && slice_ieq_cstr(u.host, "anonymous.invalid");
}

int pcscf_ident_assert(const struct pcscf_binding *b, const struct sip_msg *req, int64_t now_ms,
		       struct slice *asserted, const char **reason)
{
	*asserted = SLICE_NULL;
	if (!b->bound || now_ms >= b->expires_ms) {
		*reason = "Not registered";
		return WIMS_EDENIED;
	}
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	struct slice from_uri;
	if (!from || pcscf_nameaddr_uri(from->value, &from_uri) != 0) {
		*reason = "Bad From";
		return WIMS_EPARSE;
	}
	bool anonymous = is_anonymous(from_uri);
	/* TS 24.229 5.2.6.3.3 / TR 33.871 6.1.1: only identities the flow
	 * registered may originate here. */
	if (!anonymous && !pcscf_binding_has(b, from_uri)) {
		*reason = "From is not a registered identity";
		return WIMS_EDENIED;
	}
	/* RFC 3325 9.2: P-Preferred-Identity may hold a sip: and a tel:
	 * URI, in one or two headers; each must be ours. */
	struct slice preferred = SLICE_NULL;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_P_PREFERRED_IDENTITY); h;
	     h = sip_msg_hdr_next(req, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		int r;
		sip_nameaddr_iter_init(&it, h->value);
		while ((r = sip_nameaddr_iter_next(&it, &na, reason)) == 1) {
			if (na.star) {
				*reason = "Bad P-Preferred-Identity";
				return WIMS_EPARSE;
			}
			if (!pcscf_binding_has(b, na.uri)) {
				*reason = "P-Preferred-Identity is not a registered identity";
				return WIMS_EDENIED;
			}
			if (!preferred.p)
				preferred = na.uri;
		}
		if (r < 0) {
			*reason = "Bad P-Preferred-Identity";
			return WIMS_EPARSE;
		}
	}
	if (preferred.p)
		*asserted = preferred;
	else if (!anonymous)
		*asserted = from_uri;
	else
		*asserted = slice_from_cstr(pcscf_binding_impu(b, 0));
	return 0;
}

int pcscf_reg_impi(const struct sip_msg *reg, char *out, size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	for (const struct sip_hdr *h = sip_msg_hdr(reg, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(reg, h)) {
		struct sip_auth a;
		const char *reason;
		if (sip_auth_parse(&a, h->value, &reason) != 0)
			return WIMS_EPARSE;
		if (a.scheme != SIP_AUTH_SCHEME_DIGEST || !sip_auth_has(&a, SIP_AUTH_P_USERNAME))
			continue;
		char tmp[WIMS_IMPI_MAX];
		struct slice user;
		int rc = sip_auth_value(&a, SIP_AUTH_P_USERNAME, tmp, sizeof(tmp), &user);
		if (rc)
			return rc;
		if (user.len == 0)
			return WIMS_EPARSE;
		return slice_copy_cstr(user, out, outsz) ? WIMS_ETOOBIG : (int)user.len;
	}
	const struct sip_hdr *to = sip_msg_hdr(reg, SIP_HDR_TO);
	struct slice to_uri;
	if (!to || pcscf_nameaddr_uri(to->value, &to_uri) != 0)
		return WIMS_EPARSE;
	return digest_impi_from_impu(to_uri, out, outsz);
}

/* The expires parameter of a contact, or dflt. */
static uint32_t contact_expires(const struct sip_nameaddr *na, uint32_t dflt)
{
	uint64_t v;
	if (na->expires.p && slice_to_u64(na->expires, UINT32_MAX, &v) == 0)
		return (uint32_t)v;
	return dflt;
}

/* The Expires header of m, or dflt. */
static uint32_t header_expires(const struct sip_msg *m, uint32_t dflt)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	uint32_t v;
	const char *reason;
	if (h && sip_hdr_parse_uint(h->value, UINT32_MAX, &v, &reason) == 0)
		return v;
	return dflt;
}

int64_t pcscf_reg_expiry(const struct sip_msg *reg, const struct sip_msg *ok)
{
	const char *reason;
	uint32_t reg_default = header_expires(reg, WIMS_REG_DEFAULT_EXPIRES);
	uint32_t ok_default = header_expires(ok, WIMS_REG_DEFAULT_EXPIRES);
	uint32_t requested = 0, kept = 0;
	bool any_in_ok = false, matched = false;
	uint32_t max_in_ok = 0;

	if (!sip_msg_hdr(reg, SIP_HDR_CONTACT))
		return -1;

	for (const struct sip_hdr *h = sip_msg_hdr(ok, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(ok, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		sip_nameaddr_iter_init(&it, h->value);
		while (sip_nameaddr_iter_next(&it, &na, &reason) == 1) {
			if (na.star)
				continue;
			uint32_t e = contact_expires(&na, ok_default);
			any_in_ok = true;
			if (e > max_in_ok)
				max_in_ok = e;
		}
	}
	for (const struct sip_hdr *h = sip_msg_hdr(reg, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(reg, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		sip_nameaddr_iter_init(&it, h->value);
		while (sip_nameaddr_iter_next(&it, &na, &reason) == 1) {
			if (na.star)
				return 0; /* Contact: * removes every binding */
			uint32_t want = contact_expires(&na, reg_default);
			if (want > requested)
				requested = want;
			/* the 200 lists every current contact of the AOR;
			 * find ours by its URI */
			for (const struct sip_hdr *o = sip_msg_hdr(ok, SIP_HDR_CONTACT); o;
			     o = sip_msg_hdr_next(ok, o)) {
				struct sip_nameaddr_iter oit;
				struct sip_nameaddr ona;
				sip_nameaddr_iter_init(&oit, o->value);
				while (sip_nameaddr_iter_next(&oit, &ona, &reason) == 1) {
					if (ona.star || !slice_eq(ona.uri, na.uri))
						continue;
					matched = true;
					uint32_t e = contact_expires(&ona, ok_default);
					if (e > kept)
						kept = e;
				}
			}
		}
	}
	if (requested == 0 || !any_in_ok)
		return 0;
	if (matched)
		return kept;
	/* A registrar that rewrote our contact: trust its largest expiry,
	 * never more than we asked for. */
	return max_in_ok < requested ? max_in_ok : requested;
}
