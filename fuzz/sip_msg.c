/*
 * sip_msg.c - libFuzzer target for the SIP message indexer and everything
 * built on it.
 *
 * One input is parsed as a datagram and as a stream (consuming message
 * after message).  For each message that parses, every lazy header parser
 * runs over every header it applies to, every slice handed out is checked
 * to lie inside the input, and then a response and an edited forward are
 * built and parsed again: what we build from a valid message must itself
 * be valid (the round trip of STYLE.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/wims.h"
#include "sip/auth_hdr.h"
#include "sip/build.h"
#include "sip/hdr.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"
#include "sip/txn.h"
#include "sip/uri.h"
#include "sip/via.h"

static const char *in_lo, *in_hi;

/* Every slice a parser returns points into the input (or is empty). */
static void inside(struct slice s)
{
	if (s.len == 0)
		return;
	if (s.p < in_lo || s.p + s.len > in_hi || s.p + s.len < s.p) {
		fprintf(stderr, "slice outside the input\n");
		abort();
	}
}

static void check_uri(struct slice s)
{
	struct sip_uri u;
	const char *why;
	if (sip_uri_parse(&u, s, &why) != 0)
		return;
	inside(u.user);
	inside(u.password);
	inside(u.host);
	inside(u.hostport);
	inside(u.params);
	inside(u.headers);
	inside(u.transport);
	struct sip_param p;
	if (sip_uri_param(&u, "lr", &p))
		inside(p.value);
	(void)sip_uri_port_or_default(&u);
}

static void check_nameaddrs(struct slice v)
{
	struct sip_nameaddr_iter it;
	struct sip_nameaddr na;
	const char *why;
	int n = 0;
	sip_nameaddr_iter_init(&it, v);
	while (sip_nameaddr_iter_next(&it, &na, &why) == 1 && n++ < 64) {
		inside(na.entry);
		inside(na.display);
		inside(na.uri);
		inside(na.params);
		inside(na.tag);
		inside(na.instance);
		if (!na.star)
			check_uri(na.uri);
		if (na.display_quoted) {
			char buf[128];
			(void)sip_qstring_unescape(na.display, buf, sizeof(buf));
		}
	}
}

static void check_auth(struct slice v, bool info)
{
	struct sip_auth a;
	const char *why;
	int rc = info ? sip_auth_info_parse(&a, v, &why) : sip_auth_parse(&a, v, &why);
	if (rc != 0)
		return;
	inside(a.scheme_name);
	inside(a.token68);
	inside(a.params);
	for (int i = 0; i < SIP_AUTH_P_COUNT_; i++) {
		char buf[64];
		struct slice out;
		inside(a.p[i]);
		if (sip_auth_value(&a, (enum sip_auth_param)i, buf, sizeof(buf), &out) == 0 &&
		    out.p != buf)
			inside(out);
	}
}

static void check_headers(const struct sip_msg *m)
{
	const char *why;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		inside(h->name);
		inside(h->value);
		inside(h->line);
		uint32_t num;
		switch (h->id) {
		case SIP_HDR_VIA: {
			struct sip_via_iter it;
			struct sip_via v;
			sip_via_iter_init(&it, h->value);
			while (sip_via_iter_next(&it, &v, &why) == 1) {
				inside(v.entry);
				inside(v.host);
				inside(v.branch);
				inside(v.received);
				inside(v.params);
			}
			break;
		}
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
		case SIP_HDR_CONTACT:
		case SIP_HDR_ROUTE:
		case SIP_HDR_RECORD_ROUTE:
		case SIP_HDR_PATH:
		case SIP_HDR_SERVICE_ROUTE:
		case SIP_HDR_P_ASSOCIATED_URI:
		case SIP_HDR_P_ASSERTED_IDENTITY:
		case SIP_HDR_P_PREFERRED_IDENTITY:
		case SIP_HDR_REFER_TO:
		case SIP_HDR_REFERRED_BY:
			check_nameaddrs(h->value);
			break;
		case SIP_HDR_WWW_AUTHENTICATE:
		case SIP_HDR_AUTHORIZATION:
		case SIP_HDR_PROXY_AUTHENTICATE:
		case SIP_HDR_PROXY_AUTHORIZATION:
			check_auth(h->value, false);
			break;
		case SIP_HDR_AUTHENTICATION_INFO:
			check_auth(h->value, true);
			break;
		case SIP_HDR_EXPIRES:
		case SIP_HDR_MIN_EXPIRES:
		case SIP_HDR_MAX_FORWARDS:
		case SIP_HDR_CONTENT_LENGTH:
			(void)sip_hdr_parse_uint(h->value, UINT32_MAX, &num, &why);
			break;
		case SIP_HDR_CSEQ: {
			struct slice meth;
			if (sip_cseq_parse(h->value, &num, &meth, NULL, &why) == 0)
				inside(meth);
			break;
		}
		default: {
			struct slice rest = h->value, item;
			int n = 0;
			while (sip_list_next(&rest, &item) == 1 && n++ < 64) {
				inside(item);
				struct sip_param p;
				struct slice prm = item;
				while (sip_param_next(&prm, ';', &p) == 1)
					inside(p.value);
			}
			break;
		}
		}
		(void)sip_msg_hdr_by_name(m, h->name);
	}
	struct sip_msg_via_iter vit;
	struct sip_via v;
	sip_msg_via_iter_init(&vit, m);
	while (sip_msg_via_iter_next(&vit, &v, &why) == 1)
		inside(v.sent_by);
}

/* Something we built from a valid message must parse; ETOOBIG is allowed
 * only where our additions pushed it over a limit. */
static void must_reparse(struct buf *b, unsigned extra_hdrs, const struct sip_msg *from)
{
	static struct sip_msg out;
	const char *why = NULL;
	if (b->err)
		return;
	int rc = sip_msg_parse(&out, b->p, b->len, SIP_FRAMING_STREAM, &why);
	if (rc == (int)b->len)
		return;
	if (rc == WIMS_ETOOBIG &&
	    (b->len > WIMS_SIP_MAX_MSG || from->nhdrs + extra_hdrs > WIMS_SIP_MAX_HEADERS))
		return;
	fprintf(stderr, "rebuilt message does not parse: %d (%s)\n%.*s\n", rc,
		why ? why : "", (int)b->len, b->p);
	abort();
}

static void round_trips(const struct sip_msg *m)
{
	struct buf b = BUF_INIT;
	struct sip_edit ed;
	struct sip_txn_key k1, k2;
	const char *why;

	if (m->is_request) {
		if (sip_txn_key_server(&k1, m, &why) == 0) {
			if (k1.len > SIP_TXN_KEY_MAX)
				abort();
			(void)sip_txn_key_hash(&k1);
			if (sip_txn_key_cancel_target(&k2, m, &why) == 0 &&
			    m->method_id == SIP_METHOD_INVITE)
				abort(); /* only a CANCEL has a target */
		}
	} else if (sip_txn_key_from_response(&k1, m, &why) == 0 && k1.len > SIP_TXN_KEY_MAX) {
		abort();
	}

	if (m->is_request) {
		check_uri(m->ruri);
		if (sip_msg_can_answer(m)) {
			if (sip_build_response(&b, m, 400, "Bad Request", "fuzztag",
					       "X-A: 1\r\n", SLICE_LIT("body"), "text/plain") != 0) {
				fprintf(stderr, "response to a valid request failed\n");
				abort();
			}
			must_reparse(&b, 3, m);
			buf_reset(&b);
		}
		sip_edit_init(&ed, m);
		sip_edit_prepend(&ed, "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKfuzz");
		(void)sip_edit_pop_first_value(&ed, SIP_HDR_ROUTE);
		ed.err = 0; /* a malformed Route list is the input's fault */
		sip_edit_remove_all(&ed, SIP_HDR_P_ASSERTED_IDENTITY);
		sip_edit_add(&ed, "Path: <sip:tok@127.0.0.1:5070;transport=tcp;lr;ob>");
		(void)sip_edit_decrement_max_forwards(&ed);
		sip_edit_set_ruri(&ed, SLICE_LIT("sip:alice@127.0.0.1:5060"));
		if (m->first[SIP_HDR_CSEQ] > 0)
			sip_edit_insert_after(&ed, sip_msg_hdr(m, SIP_HDR_CSEQ), "X-After: 1");
		if (sip_edit_build(&ed, &b) != 0 && !b.err) {
			fprintf(stderr, "edit of a valid request failed: %d\n", ed.err);
			abort();
		}
		must_reparse(&b, 5, m); /* Via, Path, X-After, Max-Forwards, Content-Length */
	} else {
		sip_edit_init(&ed, m);
		int rc = sip_edit_pop_first_value(&ed, SIP_HDR_VIA);
		/* Popping the only Via leaves a response that must not parse;
		 * skip those. */
		if (rc == 0 && sip_msg_hdr_count(m, SIP_HDR_VIA) == 1 &&
		    ed.removed[m->first[SIP_HDR_VIA] - 1])
			rc = -1;
		if (rc == 0) {
			if (sip_edit_build(&ed, &b) != 0 && !b.err)
				abort();
			must_reparse(&b, 0, m);
		}
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_msg m;
	const char *why = NULL;
	const char *p = (const char *)data;
	in_lo = p;
	in_hi = p + size;

	int rc = sip_msg_parse(&m, p, size, SIP_FRAMING_DATAGRAM, &why);
	if (rc > (int)size || rc == WIMS_EAGAIN)
		abort();
	if (rc < 0 && !why)
		abort();
	if (rc >= 0 && !m.keepalive) {
		inside(m.raw);
		inside(m.body);
		check_headers(&m);
		round_trips(&m);
	} else if (rc < 0) {
		for (unsigned i = 0; i < m.nhdrs; i++)
			inside(m.hdrs[i].line);
		if (sip_msg_can_answer(&m)) {
			struct buf b = BUF_INIT;
			(void)sip_build_response(&b, &m, sip_msg_error_status(rc), why, "t", NULL,
						 SLICE_NULL, NULL);
			buf_free(&b);
		}
	}

	/* Stream: consume messages until EAGAIN or an error. */
	size_t off = 0;
	int guard = 0;
	while (off < size && guard++ < 1000) {
		rc = sip_msg_parse(&m, p + off, size - off, SIP_FRAMING_STREAM, &why);
		if (rc <= 0)
			break;
		if ((size_t)rc > size - off)
			abort();
		if (!m.keepalive) {
			inside(m.raw);
			check_headers(&m);
			round_trips(&m);
		}
		off += (size_t)rc;
	}
	return 0;
}
