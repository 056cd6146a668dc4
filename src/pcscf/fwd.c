/*
 * fwd.c - building forwarded messages (see fwd.h).
 */
#include "pcscf/fwd.h"

#include <string.h>

#include "core/wims.h"
#include "sip/build.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/uri.h"
#include "sip/via.h"

bool pcscf_has_option_tag(const struct sip_msg *m, enum sip_hdr_id id, const char *tag)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h)) {
		struct slice rest = h->value, item;
		while (sip_list_next(&rest, &item) == 1)
			if (slice_ieq_cstr(item, tag))
				return true;
	}
	return false;
}

bool pcscf_parsed_uri_names_us(const struct pcscf_self *s, const struct sip_uri *u)
{
	if (u->scheme == SIP_URI_TEL)
		return false;
	int port = u->port ? u->port : 5060;
	return (port == s->mw_port && s->mw_host && slice_ieq_cstr(u->host, s->mw_host)) ||
	       (port == s->ws_port && s->ws_host && slice_ieq_cstr(u->host, s->ws_host));
}

bool pcscf_uri_names_us(const struct pcscf_self *s, struct slice uri)
{
	struct sip_uri u;
	const char *reason;
	return sip_uri_parse(&u, uri, &reason) == 0 && pcscf_parsed_uri_names_us(s, &u);
}

bool pcscf_in_dialog(const struct sip_msg *req)
{
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	struct sip_nameaddr na;
	const char *reason;
	return to && sip_nameaddr_parse(&na, to->value, &reason) == 0 && na.tag.len > 0;
}

bool pcscf_forms_dialog(enum sip_method method)
{
	return method == SIP_METHOD_INVITE || method == SIP_METHOD_SUBSCRIBE ||
	       method == SIP_METHOD_REFER;
}

bool pcscf_wants_record_route(const struct sip_msg *req)
{
	return pcscf_forms_dialog(req->method_id) && !pcscf_in_dialog(req);
}

/* RFC 3261 16.6 step 4: our entry above the ones already recorded. */
static int add_record_route(struct sip_edit *ed, const struct sip_msg *m, const char *line)
{
	const struct sip_hdr *rr = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE);
	return rr ? sip_edit_insert_before(ed, rr, line) : sip_edit_add(ed, line);
}

/* RFC 3261 16.4: pops the leading Route entries that name us.  Returns how
 * many entries are left, or WIMS_EPARSE. */
static int pop_own_routes(struct sip_edit *ed, const struct sip_msg *m,
			  const struct pcscf_self *self)
{
	int total = 0, leading = 0;
	bool ours = true;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_nameaddr_iter it;
		struct sip_nameaddr na;
		const char *reason;
		int r;
		sip_nameaddr_iter_init(&it, h->value);
		while ((r = sip_nameaddr_iter_next(&it, &na, &reason)) == 1) {
			total++;
			if (ours && pcscf_uri_names_us(self, na.uri))
				leading++;
			else
				ours = false;
		}
		if (r < 0)
			return WIMS_EPARSE;
	}
	for (int i = 0; i < leading; i++)
		if (sip_edit_pop_first_value(ed, SIP_HDR_ROUTE) != 0)
			return WIMS_EPARSE;
	return total - leading;
}

/* RFC 3323 4.2: "Privacy: id" (values separated by ';'). */
static bool privacy_id(const struct sip_msg *m)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PRIVACY); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct slice v = h->value;
		while (v.len) {
			size_t n = 0;
			while (n < v.len && v.p[n] != ';' && v.p[n] != ',')
				n++;
			if (slice_ieq_cstr(sip_lws_trim((struct slice){v.p, n}), "id"))
				return true;
			v.p += n < v.len ? n + 1 : n;
			v.len -= n < v.len ? n + 1 : n;
		}
	}
	return false;
}

/* "Via: SIP/2.0/WSS host;params-but-received-and-rport;received=IP;rport=P"
 * from the client's top Via. */
static int fixed_via(struct buf *line, const struct sip_via *v, const char *received, int rport)
{
	buf_append_cstr(line, "Via: SIP/2.0/");
	buf_append_slice(line, v->transport);
	buf_append_cstr(line, " ");
	buf_append_slice(line, v->sent_by);
	struct slice rest = v->params;
	struct sip_param p;
	int r;
	while ((r = sip_param_next(&rest, ';', &p)) == 1) {
		if (slice_ieq_cstr(p.name, "received") || slice_ieq_cstr(p.name, "rport"))
			continue;
		buf_append_cstr(line, ";");
		buf_append_slice(line, p.name);
		if (p.has_value) {
			buf_append_cstr(line, p.quoted ? "=\"" : "=");
			buf_append_slice(line, p.value);
			if (p.quoted)
				buf_append_cstr(line, "\"");
		}
	}
	if (r < 0)
		return WIMS_EPARSE;
	buf_printf(line, ";received=%s;rport=%d", received, rport);
	return line->err;
}

/* Removes every header called name (any case), known to the table or
 * not. */
static void remove_by_name(struct sip_edit *ed, const struct sip_msg *m, const char *name)
{
	struct slice n = slice_from_cstr(name);
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (slice_ieq(m->hdrs[i].name, n))
			sip_edit_remove(ed, &m->hdrs[i]);
}

static int fail(int rc, int code, const char *why, int *status, const char **reason)
{
	*status = code;
	*reason = why;
	return rc;
}

int pcscf_fwd_request(struct buf *out, const struct sip_msg *req, const struct pcscf_fwd *f,
		      int *status, const char **reason)
{
	struct sip_edit ed;
	struct buf via = BUF_INIT, pai = BUF_INIT;
	int rc;

	sip_edit_init(&ed, req);
	rc = sip_edit_decrement_max_forwards(&ed);
	if (rc == WIMS_EDENIED)
		return fail(rc, 483, "Too Many Hops", status, reason);
	if (rc < 0)
		return fail(rc, 400, "Bad Max-Forwards", status, reason);

	sip_edit_prepend(&ed, f->via);
	if (f->received) {
		struct sip_via v;
		const char *why = "Bad Via";
		if (sip_msg_top_via(req, &v, &why) != 0 ||
		    fixed_via(&via, &v, f->received, f->rport) != 0) {
			rc = fail(WIMS_EPARSE, 400, why, status, reason);
			goto out;
		}
		sip_edit_pop_first_value(&ed, SIP_HDR_VIA);
		sip_edit_prepend(&ed, buf_cstr(&via));
	}

	/* RFC 3325 9.1: an identity asserted by the client means nothing;
	 * nor does a WWSF identity (TR 33.871 REQ 2.3: only a trusted node
	 * names the WWSF, and the core believes it from us). */
	sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY);
	remove_by_name(&ed, req, PCSCF_WWSF_IDENTITY_HDR);
	if (f->authorization) {
		sip_edit_remove_all(&ed, SIP_HDR_AUTHORIZATION);
		sip_edit_add(&ed, f->authorization);
	}
	if (f->wwsf_identity)
		sip_edit_add(&ed, f->wwsf_identity);
	if (req->method_id == SIP_METHOD_REGISTER) {
		/* RFC 3327 5.1: we are the first hop; a Path from the client
		 * would let it steer terminating requests. */
		sip_edit_remove_all(&ed, SIP_HDR_PATH);
		sip_edit_remove_all(&ed, SIP_HDR_P_PREFERRED_IDENTITY);
		sip_edit_remove_all(&ed, SIP_HDR_ROUTE);
		if (f->path)
			sip_edit_add(&ed, f->path);
		if (!pcscf_has_option_tag(req, SIP_HDR_SUPPORTED, "path"))
			sip_edit_add(&ed, "Supported: path");
	}
	if (f->route) {
		sip_edit_remove_all(&ed, SIP_HDR_ROUTE);
		sip_edit_add(&ed, f->route);
	} else if (f->self) {
		int left = pop_own_routes(&ed, req, f->self);
		if (left < 0) {
			rc = fail(WIMS_EPARSE, 400, "Bad Route", status, reason);
			goto out;
		}
		if (left == 0 && f->route_if_none)
			sip_edit_add(&ed, f->route_if_none);
	}
	if (f->record_route)
		add_record_route(&ed, req, f->record_route);
	if (f->asserted.len) {
		sip_edit_remove_all(&ed, SIP_HDR_P_PREFERRED_IDENTITY);
		buf_append_cstr(&pai, "P-Asserted-Identity: <");
		buf_append_slice(&pai, f->asserted);
		buf_append_cstr(&pai, ">");
		sip_edit_add(&ed, buf_cstr(&pai));
	}
	rc = sip_edit_build(&ed, out);
	if (rc)
		fail(rc, rc == WIMS_EPARSE ? 400 : 500,
		     rc == WIMS_EPARSE ? "Bad Request" : "Server Internal Error", status, reason);
	else if (!sip_build_within_limits(out->p, out->len))
		rc = fail(WIMS_ETOOBIG, 513, "Message Too Large once forwarded", status, reason);
out:
	buf_free(&via);
	buf_free(&pai);
	return rc;
}

int pcscf_fwd_response(struct buf *out, const struct sip_msg *resp)
{
	return sip_build_response_upstream(out, resp);
}

int pcscf_fwd_to_flow(struct buf *out, const struct sip_msg *req, const char *via, bool pop_route,
		      const char *record_route, int *status, const char **reason)
{
	struct sip_edit ed;
	sip_edit_init(&ed, req);
	int rc = sip_edit_decrement_max_forwards(&ed);
	if (rc == WIMS_EDENIED)
		return fail(rc, 483, "Too Many Hops", status, reason);
	if (rc < 0)
		return fail(rc, 400, "Bad Max-Forwards", status, reason);
	sip_edit_prepend(&ed, via);
	if (pop_route && sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE) < 0)
		return fail(WIMS_EPARSE, 400, "Bad Route", status, reason);
	if (record_route)
		add_record_route(&ed, req, record_route);
	/* RFC 3325 7: the caller asked that its identity not leave the
	 * trust domain. */
	if (privacy_id(req))
		sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY);
	rc = sip_edit_build(&ed, out);
	if (rc)
		return fail(rc, 500, "Server Internal Error", status, reason);
	if (!sip_build_within_limits(out->p, out->len))
		return fail(WIMS_ETOOBIG, 513, "Message Too Large once forwarded", status, reason);
	return 0;
}
