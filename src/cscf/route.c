/*
 * route.c - routing decisions of the cscf proxy (see route.h).
 */
#include "cscf/route.h"

#include "cscf/reg.h"

#include <stdio.h>
#include <string.h>

#include "core/net.h"
#include "core/wims.h"
#include "sip/build.h"
#include "sip/hdr.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/uri.h"
#include "sip/via.h"

static bool parsed_uri_names(const struct sip_uri *u, const struct cscf_self *self)
{
	return u->scheme != SIP_URI_TEL && sip_uri_port_or_default(u) == self->port &&
	       slice_ieq_cstr(u->host, self->host);
}

bool cscf_uri_names(struct slice uri, const struct cscf_self *self)
{
	struct sip_uri u;
	const char *reason;
	return sip_uri_parse(&u, uri, &reason) == 0 && parsed_uri_names(&u, self);
}

int cscf_route_scan(const struct sip_msg *m, const struct cscf_self *self,
		    struct cscf_route_info *ri, const char **reason)
{
	memset(ri, 0, sizeof(*ri));
	bool leading = true;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		int rc;
		/* An empty Route line is malformed, not an empty list. */
		if (sip_lws_trim(h->value).len == 0)
			goto bad;
		sip_nameaddr_iter_init(&it, h->value);
		while ((rc = sip_nameaddr_iter_next(&it, &na, reason)) == 1) {
			if (++ri->total > WIMS_SIP_MAX_VIAS) {
				*reason = "Too many Route entries";
				return WIMS_ETOOBIG;
			}
			if (na.star)
				goto bad;
			struct sip_uri u;
			const char *why;
			if (leading && sip_uri_parse(&u, na.uri, &why) == 0 &&
			    parsed_uri_names(&u, self)) {
				ri->popped++;
				if (slice_eq_cstr(u.user, "orig"))
					ri->orig = true;
				continue;
			}
			if (leading) {
				leading = false;
				ri->has_next = true;
				ri->next = na.uri;
			}
		}
		if (rc < 0)
			goto bad;
	}
	return 0;
bad:
	*reason = "Bad Route";
	return WIMS_EPARSE;
}

int cscf_hop_from_uri(struct slice uri, struct cscf_hop *hop, const char **reason)
{
	struct sip_uri u;
	memset(hop, 0, sizeof(*hop));
	if (sip_uri_parse(&u, uri, reason) != 0)
		return WIMS_EPARSE;
	if (u.scheme == SIP_URI_TEL || u.host.len == 0) {
		*reason = "Cannot route to a tel: URI";
		return WIMS_EPARSE;
	}
	/* maddr (RFC 3261 19.1.1) overrides the host when present. */
	struct slice host = u.maddr.len ? u.maddr : u.host;
	if (slice_copy_cstr(host, hop->host, sizeof(hop->host)) != 0) {
		*reason = "Bad URI host";
		return WIMS_EPARSE;
	}
	hop->port = sip_uri_port_or_default(&u);
	hop->transport = slice_ieq_cstr(u.transport, "tcp") ? CSCF_TCP : CSCF_UDP;
	return 0;
}

/* "udp:127.0.0.2:5090" into a hop. */
static int hop_from_received(const char *received, struct cscf_hop *hop)
{
	const char *c1 = strchr(received, ':');
	const char *c2 = strrchr(received, ':');
	if (!c1 || c1 == c2)
		return WIMS_EPARSE;
	struct slice proto = {received, (size_t)(c1 - received)};
	if (slice_ieq_cstr(proto, "udp"))
		hop->transport = CSCF_UDP;
	else if (slice_ieq_cstr(proto, "tcp"))
		hop->transport = CSCF_TCP;
	else
		return WIMS_EPARSE;
	struct slice host = {c1 + 1, (size_t)(c2 - c1 - 1)};
	uint64_t port;
	if (slice_copy_cstr(host, hop->host, sizeof(hop->host)) != 0 || host.len == 0 ||
	    slice_to_u64(slice_from_cstr(c2 + 1), 65535, &port) != 0 || port == 0)
		return WIMS_EPARSE;
	hop->port = (int)port;
	return 0;
}

int cscf_hop_from_binding(const struct store_binding *b, struct cscf_hop *hop)
{
	const char *reason;
	if (b->path[0]) {
		struct slice rest = slice_from_cstr(b->path), item;
		struct sip_nameaddr na;
		if (sip_list_next(&rest, &item) != 1 || sip_nameaddr_parse(&na, item, &reason) != 0)
			return WIMS_EPARSE;
		return cscf_hop_from_uri(na.uri, hop, &reason);
	}
	struct cscf_hop rcv;
	memset(&rcv, 0, sizeof(rcv));
	int rc = hop_from_received(b->received, &rcv);
	if (rc == 0 && rcv.transport == CSCF_UDP) {
		*hop = rcv;
		return 0;
	}
	if (cscf_hop_from_uri(slice_from_cstr(b->contact), hop, &reason) != 0)
		return WIMS_EPARSE;
	if (rc == 0) {
		/* Registered over TCP: that connection first, else a new one
		 * to the Contact (over TCP, whatever the Contact says). */
		hop->transport = CSCF_TCP;
		memcpy(hop->conn_hint, "tcp:", 4); /* the key conn_for_hop looks up */
		net_hostport_format(rcv.host, rcv.port, hop->conn_hint + 4,
				    sizeof(hop->conn_hint) - 4);
	}
	return 0;
}

/* "+1-555-000-0002" -> "tel:+15550000002"; false if not a global number. */
static bool global_number(struct slice user, char *out, size_t outsz)
{
	if (user.len < 2 || user.p[0] != '+' || outsz < 6)
		return false;
	size_t n = (size_t)snprintf(out, outsz, "tel:+");
	unsigned digits = 0;
	for (size_t i = 1; i < user.len; i++) {
		char c = user.p[i];
		if (c >= '0' && c <= '9') {
			if (n + 1 >= outsz)
				return false;
			out[n++] = c;
			digits++;
		} else if (c != '-' && c != '.' && c != '(' && c != ')') {
			return false;
		}
	}
	out[n] = '\0';
	return digits > 0;
}

int cscf_route_impu(struct slice ruri, const char *domain, char *out, size_t outsz)
{
	struct sip_uri u;
	const char *reason;
	if (sip_uri_parse(&u, ruri, &reason) != 0)
		return WIMS_EPARSE;
	if (u.scheme == SIP_URI_TEL)
		return cscf_reg_impu(ruri, out, outsz);
	if (u.user.len == 0)
		return WIMS_EPARSE;
	if (global_number(u.user, out, outsz))
		return 0;
	if (!slice_ieq_cstr(u.host, domain)) {
		/* our own address as the host: the home domain's user */
		int n = snprintf(out, outsz, "sip:%.*s@%s", (int)u.user.len, u.user.p, domain);
		return n < 0 || (size_t)n >= outsz ? WIMS_ETOOBIG : 0;
	}
	return cscf_reg_impu(ruri, out, outsz);
}

bool cscf_in_dialog(const struct sip_msg *m)
{
	const struct sip_hdr *to = sip_msg_hdr(m, SIP_HDR_TO);
	struct sip_nameaddr na;
	const char *reason;
	return to && sip_nameaddr_parse(&na, to->value, &reason) == 0 && na.tag.len > 0;
}

int cscf_served_user(const struct sip_msg *m, const char *domain, char *out, size_t outsz)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_P_ASSERTED_IDENTITY);
	if (!h)
		h = sip_msg_hdr(m, SIP_HDR_FROM);
	if (!h)
		return WIMS_EPARSE;
	/* The first element: a P-Asserted-Identity may list a sip: and a
	 * tel: identity (RFC 3325 9.1), both of the same set. */
	struct sip_nameaddr_iter it;
	struct sip_nameaddr na;
	const char *reason;
	sip_nameaddr_iter_init(&it, h->value);
	if (sip_nameaddr_iter_next(&it, &na, &reason) != 1)
		return WIMS_EPARSE;
	return cscf_route_impu(na.uri, domain, out, outsz);
}

bool cscf_method_record_routes(enum sip_method method)
{
	return method == SIP_METHOD_INVITE || method == SIP_METHOD_SUBSCRIBE ||
	       method == SIP_METHOD_REFER;
}

/* --- loop hash and branch --- */

static uint32_t fnv(uint32_t h, struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (uint8_t)s.p[i];
		h *= 16777619u;
	}
	/* a separator, so that "ab"+"c" and "a"+"bc" differ */
	h ^= 0xff;
	h *= 16777619u;
	return h;
}

static struct slice tag_of(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	struct sip_nameaddr na;
	const char *reason;
	if (!h || sip_nameaddr_parse(&na, h->value, &reason) != 0)
		return SLICE_NULL;
	return na.tag;
}

uint32_t cscf_loop_hash(const struct sip_msg *m)
{
	uint32_t h = 2166136261u;
	h = fnv(h, m->ruri);
	h = fnv(h, tag_of(m, SIP_HDR_FROM));
	h = fnv(h, tag_of(m, SIP_HDR_TO));
	const struct sip_hdr *cid = sip_msg_hdr(m, SIP_HDR_CALL_ID);
	h = fnv(h, cid ? cid->value : SLICE_NULL);
	char num[16];
	snprintf(num, sizeof(num), "%u", (unsigned)m->cseq);
	h = fnv(h, slice_from_cstr(num));
	h = fnv(h, m->cseq_method);
	for (const struct sip_hdr *r = sip_msg_hdr(m, SIP_HDR_ROUTE); r; r = sip_msg_hdr_next(m, r))
		h = fnv(h, r->value);
	for (const struct sip_hdr *r = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE); r;
	     r = sip_msg_hdr_next(m, r))
		h = fnv(h, r->value);
	return h;
}

static const char branch_prefix[] = "z9hG4bKcs";

int cscf_branch_make(char *out, size_t outsz, int worker, uint32_t hash, const uint8_t *rnd,
		     size_t n)
{
	char tail[64];
	if (worker < 0 || worker > 255 || sip_tag_format(tail, sizeof(tail), rnd, n) < 0)
		return WIMS_EINVAL;
	int len = snprintf(out, outsz, "%s%02x%08x.%s", branch_prefix, (unsigned)worker,
			   (unsigned)hash, tail);
	if (len < 0 || (size_t)len >= outsz) {
		if (outsz)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	return len;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cscf_branch_parse(struct slice branch, int *worker, uint32_t *hash)
{
	size_t pl = sizeof(branch_prefix) - 1;
	if (branch.len < pl + 11 || memcmp(branch.p, branch_prefix, pl) != 0 ||
	    branch.p[pl + 10] != '.')
		return WIMS_EPARSE;
	uint32_t v = 0;
	for (size_t i = 0; i < 10; i++) {
		int d = hexval(branch.p[pl + i]);
		if (d < 0)
			return WIMS_EPARSE;
		if (i == 2) {
			*worker = (int)v;
			v = 0;
		}
		v = v * 16 + (uint32_t)d;
	}
	*hash = v;
	return 0;
}

bool cscf_loop_detected(const struct sip_msg *m, const struct cscf_self *self, uint32_t hash)
{
	struct sip_msg_via_iter it;
	struct sip_via v;
	const char *reason;
	sip_msg_via_iter_init(&it, m);
	while (sip_msg_via_iter_next(&it, &v, &reason) == 1) {
		int port = v.port ? v.port : 5060;
		int worker;
		uint32_t h;
		if (port == self->port && slice_ieq_cstr(v.host, self->host) &&
		    cscf_branch_parse(v.branch, &worker, &h) == 0 && h == hash)
			return true;
	}
	return false;
}

/* --- forwarding --- */

int cscf_max_forwards(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	uint32_t v;
	const char *reason;
	if (!h)
		return 70;
	if (sip_hdr_parse_uint(h->value, 255, &v, &reason) != 0)
		return WIMS_EPARSE;
	return (int)v;
}

bool cscf_hdr_is_wwsf_identity(const struct sip_hdr *h)
{
	return h->id == SIP_HDR_OTHER && slice_ieq_cstr(h->name, CSCF_WWSF_IDENTITY_HDR);
}

int cscf_fwd_build(const struct sip_msg *m, const struct cscf_fwd *f, struct buf *out)
{
	struct sip_edit ed;
	sip_edit_init(&ed, m);
	int rc = sip_edit_decrement_max_forwards(&ed);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < f->pop; i++)
		if ((rc = sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE)) != 0)
			return rc;
	if (f->via && (rc = sip_edit_prepend(&ed, f->via)) != 0)
		return rc;
	if (f->record_route && (rc = sip_edit_prepend(&ed, f->record_route)) != 0)
		return rc;
	if (f->ruri.len && (rc = sip_edit_set_ruri(&ed, f->ruri)) != 0)
		return rc;
	if (f->route) {
		/* Our own Route entries were all popped: the Path goes where
		 * the remaining Route set would be, above the others. */
		const struct sip_hdr *r = sip_msg_hdr(m, SIP_HDR_ROUTE);
		rc = r ? sip_edit_insert_before(&ed, r, f->route) : sip_edit_add(&ed, f->route);
		if (rc)
			return rc;
	}
	if (f->strip_pai && (rc = sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY)) != 0)
		return rc;
	if (f->pai && (rc = sip_edit_add(&ed, f->pai)) != 0)
		return rc;
	/* TR 33.871 REQ 2.3: only a trusted node may name the WWSF; from
	 * anyone else the header goes, however many there are. */
	for (unsigned i = 0; f->strip_wwsf && i < m->nhdrs; i++)
		if (cscf_hdr_is_wwsf_identity(&m->hdrs[i]) &&
		    (rc = sip_edit_remove(&ed, &m->hdrs[i])) != 0)
			return rc;
	if ((rc = sip_edit_build(&ed, out)) != 0)
		return rc;
	return sip_build_within_limits(out->p, out->len) ? 0 : WIMS_ETOOBIG;
}
