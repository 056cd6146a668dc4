/*
 * build.c - responses and edited forwards (see build.h).
 *
 * Both builders copy slices of the original message wherever the RFC says
 * "copy" (Via, From, To, Call-ID, CSeq for a response; every header a proxy
 * does not touch for a forward), so what we send is byte-identical to what
 * we got except for the parts we mean to change.
 */
#include "sip/build.h"

#include <string.h>

#include "core/wims.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/via.h"

const char *sip_status_reason(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 429: return "Provide Referrer Identity";
	case 430: return "Flow Failed";
	case 433: return "Anonymity Disallowed";
	case 439: return "First Hop Lacks Outbound Support";
	case 440: return "Max-Breadth Exceeded";
	case 469: return "Bad Info Package";
	case 470: return "Consent Needed";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 494: return "Security Agreement Required";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	default: break;
	}
	if (status >= 100 && status < 200)
		return "Provisional";
	if (status < 300)
		return "Success";
	if (status < 400)
		return "Redirection";
	if (status < 500)
		return "Client Error";
	if (status < 600)
		return "Server Error";
	return "Global Failure";
}

/* A single line: no CR or LF at all, except one trailing CRLF when
 * allow_crlf_end. */
static bool text_ok(struct slice s, bool allow_crlf_end)
{
	if (allow_crlf_end && s.len >= 2 && s.p[s.len - 2] == '\r' && s.p[s.len - 1] == '\n')
		s.len -= 2;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

/* Preformatted header lines: every CR is followed by LF, every LF
 * preceded by CR, and no empty line (that would end the header block). */
static bool lines_ok(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '\0')
			return false;
		if (c == '\r' && (i + 1 == s.len || s.p[i + 1] != '\n'))
			return false;
		if (c == '\n') {
			if (i == 0 || s.p[i - 1] != '\r')
				return false;
			if (i + 2 < s.len && s.p[i + 1] == '\r')
				return false;
			if (i == 1)
				return false;
		}
	}
	return true;
}

static void append_line(struct buf *b, struct slice s)
{
	buf_append_slice(b, s);
	if (s.len < 2 || s.p[s.len - 2] != '\r' || s.p[s.len - 1] != '\n')
		buf_append(b, "\r\n", 2);
}

static bool to_has_tag(struct slice to)
{
	struct sip_nameaddr na;
	const char *why;
	if (sip_nameaddr_parse(&na, to, &why) == 0)
		return na.tag.p != NULL;
	/* A To we cannot read: do not touch it. */
	return true;
}

int sip_build_response_opts(struct buf *out, const struct sip_msg *req,
			    int status, const char *reason,
			    const struct sip_response_opts *o)
{
	static const struct sip_response_opts none;
	if (!o)
		o = &none;
	if (status < 100 || status > 699 || !sip_msg_can_answer(req))
		return WIMS_EINVAL;
	if (!reason)
		reason = sip_status_reason(status);
	struct slice body = o->body.len ? o->body : SLICE_NULL;
	if (!text_ok(slice_from_cstr(reason), false) ||
	    (o->to_tag && (!text_ok(slice_from_cstr(o->to_tag), false) || !o->to_tag[0])) ||
	    (o->server && !text_ok(slice_from_cstr(o->server), false)) ||
	    (o->warning && !text_ok(slice_from_cstr(o->warning), false)) ||
	    (o->content_type && !text_ok(slice_from_cstr(o->content_type), false)) ||
	    (o->extra_headers && !lines_ok(slice_from_cstr(o->extra_headers))) ||
	    (body.len && !o->content_type))
		return WIMS_EINVAL;

	buf_printf(out, "SIP/2.0 %d %s\r\n", status, reason);
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(req, h))
		buf_append_slice(out, h->line);
	buf_append_slice(out, sip_msg_hdr(req, SIP_HDR_FROM)->line);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	if (o->to_tag && !to_has_tag(to->value)) {
		buf_append_slice(out, to->name);
		buf_append(out, ": ", 2);
		buf_append_slice(out, to->value);
		buf_printf(out, ";tag=%s\r\n", o->to_tag);
	} else {
		buf_append_slice(out, to->line);
	}
	buf_append_slice(out, sip_msg_hdr(req, SIP_HDR_CALL_ID)->line);
	buf_append_slice(out, sip_msg_hdr(req, SIP_HDR_CSEQ)->line);
	if (o->server)
		buf_printf(out, "Server: %s\r\n", o->server);
	if (o->warning)
		buf_printf(out, "Warning: %s\r\n", o->warning);
	if (o->extra_headers && o->extra_headers[0])
		append_line(out, slice_from_cstr(o->extra_headers));
	if (body.len)
		buf_printf(out, "Content-Type: %s\r\n", o->content_type);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
	buf_append_slice(out, body);
	return out->err;
}

int sip_build_response(struct buf *out, const struct sip_msg *req, int status,
		       const char *reason, const char *to_tag,
		       const char *extra_headers, struct slice body,
		       const char *content_type)
{
	struct sip_response_opts o = {
		.to_tag = to_tag,
		.extra_headers = extra_headers,
		.body = body,
		.content_type = content_type,
	};
	return sip_build_response_opts(out, req, status, reason, &o);
}

/* --- the edit list --- */

void sip_edit_init(struct sip_edit *ed, const struct sip_msg *msg)
{
	ed->msg = msg;
	ed->err = 0;
	ed->nops = 0;
	ed->nprepend = 0;
	memset(ed->removed, 0, sizeof(ed->removed));
	ed->set_ruri = false;
	ed->ruri = SLICE_NULL;
	ed->set_body = false;
	ed->body = SLICE_NULL;
	ed->content_type = NULL;
	ed->max_forwards = -1;
}

static int edit_fail(struct sip_edit *ed, int err)
{
	if (!ed->err)
		ed->err = err;
	return err;
}

static int push_op(struct sip_edit *ed, enum sip_edit_kind kind, unsigned pos,
		   struct slice text)
{
	if (ed->err)
		return ed->err;
	if (ed->nops == WIMS_SIP_MAX_EDITS)
		return edit_fail(ed, WIMS_ETOOBIG);
	struct sip_edit_op *op = &ed->ops[ed->nops++];
	op->kind = (uint8_t)kind;
	op->pos = (uint8_t)pos;
	op->text = text;
	return 0;
}

static int insert_line(struct sip_edit *ed, unsigned pos, struct slice line)
{
	if (!line.p || line.len == 0 || !text_ok(line, true))
		return edit_fail(ed, WIMS_EINVAL);
	return push_op(ed, SIP_EDIT_INSERT, pos, line);
}

static bool hdr_of(const struct sip_edit *ed, const struct sip_hdr *h)
{
	return h && h >= ed->msg->hdrs && h < ed->msg->hdrs + ed->msg->nhdrs;
}

int sip_edit_prepend_slice(struct sip_edit *ed, struct slice line)
{
	int rc = insert_line(ed, 0, line);
	if (rc == 0)
		ed->nprepend++;
	return rc;
}

int sip_edit_prepend(struct sip_edit *ed, const char *line)
{
	return sip_edit_prepend_slice(ed, slice_from_cstr(line));
}

int sip_edit_add_slice(struct sip_edit *ed, struct slice line)
{
	return insert_line(ed, ed->msg->nhdrs, line);
}

int sip_edit_add(struct sip_edit *ed, const char *line)
{
	return sip_edit_add_slice(ed, slice_from_cstr(line));
}

int sip_edit_insert_after(struct sip_edit *ed, const struct sip_hdr *h,
			  const char *line)
{
	if (!hdr_of(ed, h))
		return edit_fail(ed, WIMS_EINVAL);
	return insert_line(ed, sip_msg_hdr_index(ed->msg, h) + 1, slice_from_cstr(line));
}

int sip_edit_insert_before(struct sip_edit *ed, const struct sip_hdr *h,
			   const char *line)
{
	if (!hdr_of(ed, h))
		return edit_fail(ed, WIMS_EINVAL);
	return insert_line(ed, sip_msg_hdr_index(ed->msg, h), slice_from_cstr(line));
}

int sip_edit_remove(struct sip_edit *ed, const struct sip_hdr *h)
{
	if (!hdr_of(ed, h))
		return edit_fail(ed, WIMS_EINVAL);
	ed->removed[sip_msg_hdr_index(ed->msg, h)] = 1;
	return ed->err;
}

int sip_edit_remove_first(struct sip_edit *ed, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(ed->msg, id); h;
	     h = sip_msg_hdr_next(ed->msg, h)) {
		unsigned i = sip_msg_hdr_index(ed->msg, h);
		if (!ed->removed[i]) {
			ed->removed[i] = 1;
			return ed->err;
		}
	}
	return WIMS_ENOTFOUND;
}

int sip_edit_remove_all(struct sip_edit *ed, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(ed->msg, id); h;
	     h = sip_msg_hdr_next(ed->msg, h))
		ed->removed[sip_msg_hdr_index(ed->msg, h)] = 1;
	return ed->err;
}

int sip_edit_replace(struct sip_edit *ed, const struct sip_hdr *h, const char *line)
{
	int rc = sip_edit_insert_before(ed, h, line);
	if (rc)
		return rc;
	return sip_edit_remove(ed, h);
}

static struct sip_edit_op *rest_op(struct sip_edit *ed, unsigned idx)
{
	for (unsigned i = 0; i < ed->nops; i++)
		if (ed->ops[i].kind == SIP_EDIT_FIRST_VALUE_REST && ed->ops[i].pos == idx)
			return &ed->ops[i];
	return NULL;
}

int sip_edit_pop_first_value(struct sip_edit *ed, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(ed->msg, id); h;
	     h = sip_msg_hdr_next(ed->msg, h)) {
		unsigned idx = sip_msg_hdr_index(ed->msg, h);
		if (ed->removed[idx])
			continue;
		struct sip_edit_op *op = rest_op(ed, idx);
		struct slice rest = op ? op->text : h->value, item;
		int rc = sip_list_next(&rest, &item);
		if (rc <= 0)
			return edit_fail(ed, WIMS_EPARSE);
		rest = sip_lws_trim(rest);
		if (rest.len == 0) {
			ed->removed[idx] = 1;
			return ed->err;
		}
		if (op) {
			op->text = rest;
			return ed->err;
		}
		return push_op(ed, SIP_EDIT_FIRST_VALUE_REST, idx, rest);
	}
	return WIMS_ENOTFOUND;
}

int sip_edit_set_ruri(struct sip_edit *ed, struct slice uri)
{
	if (!ed->msg->is_request || uri.len == 0 || !uri.p)
		return edit_fail(ed, WIMS_EINVAL);
	for (size_t i = 0; i < uri.len; i++)
		if ((unsigned char)uri.p[i] <= ' ' || uri.p[i] == 0x7f)
			return edit_fail(ed, WIMS_EINVAL);
	ed->set_ruri = true;
	ed->ruri = uri;
	return ed->err;
}

int sip_edit_decrement_max_forwards(struct sip_edit *ed)
{
	const struct sip_hdr *h = sip_msg_hdr(ed->msg, SIP_HDR_MAX_FORWARDS);
	if (ed->max_forwards >= 0) {
		/* Called twice: decrement what we will write. */
		if (ed->max_forwards == 0)
			return WIMS_EDENIED;
		return --ed->max_forwards;
	}
	if (!h) {
		ed->max_forwards = 70;
		return ed->max_forwards;
	}
	uint32_t v;
	const char *why;
	/* RFC 3261 20.22: 0-255 in practice; larger is malformed. */
	if (sip_hdr_parse_uint(h->value, 255, &v, &why) != 0)
		return WIMS_EPARSE;
	if (v == 0)
		return WIMS_EDENIED;
	ed->max_forwards = (int)v - 1;
	return ed->max_forwards;
}

int sip_edit_set_body(struct sip_edit *ed, struct slice body, const char *content_type)
{
	if (content_type && (!content_type[0] || !text_ok(slice_from_cstr(content_type), false)))
		return edit_fail(ed, WIMS_EINVAL);
	ed->set_body = true;
	ed->body = body.len ? body : SLICE_NULL;
	ed->content_type = content_type;
	return ed->err;
}

static void emit_inserts(const struct sip_edit *ed, struct buf *out, unsigned pos)
{
	for (unsigned i = 0; i < ed->nops; i++)
		if (ed->ops[i].kind == SIP_EDIT_INSERT && ed->ops[i].pos == pos)
			append_line(out, ed->ops[i].text);
}

int sip_edit_build(struct sip_edit *ed, struct buf *out)
{
	const struct sip_msg *m = ed->msg;
	if (ed->err)
		return ed->err;

	struct slice body = ed->set_body ? ed->body : m->body;
	/* Keep the original Content-Length line when it is the only one and
	 * still right; a fresh one otherwise. */
	bool keep_cl = m->has_content_length && m->content_length == body.len &&
		       sip_msg_hdr_count(m, SIP_HDR_CONTENT_LENGTH) == 1 &&
		       !ed->removed[m->first[SIP_HDR_CONTENT_LENGTH] - 1];
	bool new_ct = ed->set_body && ed->content_type;

	if (ed->set_ruri) {
		buf_append_slice(out, m->method);
		buf_append(out, " ", 1);
		buf_append_slice(out, ed->ruri);
		buf_append(out, " SIP/2.0\r\n", 10);
	} else {
		buf_append_slice(out, m->start_line);
		buf_append(out, "\r\n", 2);
	}

	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		emit_inserts(ed, out, i);
		if (ed->removed[i])
			continue;
		if (h->id == SIP_HDR_CONTENT_LENGTH && !keep_cl)
			continue;
		if (h->id == SIP_HDR_CONTENT_TYPE && new_ct)
			continue;
		if (h->id == SIP_HDR_MAX_FORWARDS && ed->max_forwards >= 0) {
			buf_append_slice(out, h->name);
			buf_printf(out, ": %d\r\n", ed->max_forwards);
			continue;
		}
		const struct sip_edit_op *op = rest_op(ed, i);
		if (op) {
			buf_append_slice(out, h->name);
			buf_append(out, ": ", 2);
			buf_append_slice(out, op->text);
			buf_append(out, "\r\n", 2);
			continue;
		}
		buf_append_slice(out, h->line);
	}
	emit_inserts(ed, out, m->nhdrs);
	if (ed->max_forwards >= 0 && !m->first[SIP_HDR_MAX_FORWARDS])
		buf_printf(out, "Max-Forwards: %d\r\n", ed->max_forwards);
	if (new_ct && body.len)
		buf_printf(out, "Content-Type: %s\r\n", ed->content_type);
	if (!keep_cl)
		buf_printf(out, "Content-Length: %zu\r\n", body.len);
	buf_append(out, "\r\n", 2);
	buf_append_slice(out, body);
	return out->err;
}

/* --- tokens --- */

static int base32(char *out, size_t outsz, const char *prefix, const uint8_t *rnd,
		  size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t plen = strlen(prefix);
	size_t need = plen + (n * 8 + 4) / 5 + 1;
	if (n == 0 || outsz < need) {
		if (outsz)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	memcpy(out, prefix, plen);
	size_t o = plen;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | rnd[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (int)o;
}

int sip_branch_format(char *out, size_t outsz, const uint8_t *rnd, size_t n)
{
	return base32(out, outsz, "z9hG4bK", rnd, n);
}

int sip_tag_format(char *out, size_t outsz, const uint8_t *rnd, size_t n)
{
	return base32(out, outsz, "", rnd, n);
}

/* --- CANCEL and ACK of a request we sent (RFC 3261 9.1, 17.1.1.3) --- */

/* The lines a CANCEL and a non-2xx ACK copy from the request: Request-URI,
 * the top Via only, every Route, From, Call-ID, and CSeq with the new
 * method; To comes from the caller (request or response). */
static int build_hop_request(struct buf *out, const struct sip_msg *req, const char *method,
			     const struct sip_hdr *to)
{
	struct sip_via v;
	const char *reason;
	if (!req->is_request || !sip_msg_can_answer(req) || !to ||
	    sip_msg_top_via(req, &v, &reason) != 0)
		return WIMS_EINVAL;
	buf_printf(out, "%s ", method);
	buf_append_slice(out, req->ruri);
	buf_append_cstr(out, " SIP/2.0\r\nVia: ");
	buf_append_slice(out, v.entry);
	buf_append_cstr(out, "\r\n");
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(req, h))
		buf_append_slice(out, h->line);
	buf_append_cstr(out, "Max-Forwards: 70\r\n");
	buf_append_slice(out, sip_msg_hdr(req, SIP_HDR_FROM)->line);
	buf_append_slice(out, to->line);
	buf_append_slice(out, sip_msg_hdr(req, SIP_HDR_CALL_ID)->line);
	buf_printf(out, "CSeq: %u %s\r\nContent-Length: 0\r\n\r\n", (unsigned)req->cseq, method);
	return out->err;
}

int sip_build_cancel(struct buf *out, const struct sip_msg *req)
{
	if (!req->is_request || req->method_id != SIP_METHOD_INVITE)
		return WIMS_EINVAL;
	return build_hop_request(out, req, "CANCEL", sip_msg_hdr(req, SIP_HDR_TO));
}

int sip_build_ack(struct buf *out, const struct sip_msg *req, const struct sip_msg *resp)
{
	if (!req->is_request || req->method_id != SIP_METHOD_INVITE || resp->is_request ||
	    resp->status < 300)
		return WIMS_EINVAL;
	return build_hop_request(out, req, "ACK", sip_msg_hdr(resp, SIP_HDR_TO));
}

int sip_build_response_upstream(struct buf *out, const struct sip_msg *resp)
{
	struct sip_msg_via_iter it;
	struct sip_via v;
	const char *reason;
	sip_msg_via_iter_init(&it, resp);
	if (resp->is_request || sip_msg_via_iter_next(&it, &v, &reason) != 1 ||
	    sip_msg_via_iter_next(&it, &v, &reason) != 1)
		return WIMS_EPARSE;
	struct sip_edit ed;
	sip_edit_init(&ed, resp);
	sip_edit_pop_first_value(&ed, SIP_HDR_VIA);
	return sip_edit_build(&ed, out);
}

bool sip_build_within_limits(const char *p, size_t len)
{
	if (len > WIMS_SIP_MAX_MSG)
		return false;
	const char *end = p + len;
	unsigned lines = 0;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl + 1 >= end || nl[1] == '\r' || nl[1] == '\n')
			return true; /* the blank line: the headers end here */
		if (++lines > WIMS_SIP_MAX_HEADERS)
			return false;
		p = nl + 1;
	}
}
