/*
 * fwd.c - building forwarded messages (see fwd.h).
 */
#include "pcscf/fwd.h"

#include <string.h>

#include "core/wims.h"
#include "sip/build.h"
#include "sip/param.h"
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

	/* RFC 3325 9.1: an identity asserted by the client means nothing. */
	sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY);
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
	}
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
out:
	buf_free(&via);
	buf_free(&pai);
	return rc;
}

int pcscf_fwd_response(struct buf *out, const struct sip_msg *resp)
{
	struct sip_edit ed;
	sip_edit_init(&ed, resp);
	int rc = sip_edit_pop_first_value(&ed, SIP_HDR_VIA);
	if (rc)
		return rc;
	return sip_edit_build(&ed, out);
}

int pcscf_fwd_to_flow(struct buf *out, const struct sip_msg *req, const char *via, bool pop_route,
		      int *status, const char **reason)
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
	rc = sip_edit_build(&ed, out);
	if (rc)
		return fail(rc, 500, "Server Internal Error", status, reason);
	return 0;
}
