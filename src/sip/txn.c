/*
 * txn.c - transaction matching keys (see txn.h).
 *
 * A key is one byte string, so the transaction table needs no knowledge of
 * SIP to store, compare or hash it:
 *
 *	'S' METHOD '\n' branch '\n' sent-by(lower-case)      server, RFC 3261
 *	'C' METHOD '\n' branch                               client
 *	'L' METHOD '\n' Call-ID '\n' from-tag '\n' CSeq-number '\n'
 *	    sent-by(lower-case) '\n' Request-URI             server, RFC 2543
 *
 * ACK is written as INVITE (it belongs to the INVITE transaction).  The
 * method is the text, not the enum, so two unknown methods never share a
 * key.
 */
#include "sip/txn.h"

#include <stdio.h>
#include <string.h>

#include "core/wims.h"
#include "sip/nameaddr.h"
#include "sip/via.h"

static const char cookie[] = "z9hG4bK";

struct keyw {
	struct sip_txn_key *k;
	bool overflow;
};

static void put(struct keyw *w, const char *p, size_t n, bool lower)
{
	if (w->overflow || n > (size_t)SIP_TXN_KEY_MAX - w->k->len) {
		w->overflow = true;
		return;
	}
	char *d = w->k->b + w->k->len;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		d[i] = (lower && c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
	}
	w->k->len = (uint16_t)(w->k->len + n);
}

static void put_slice(struct keyw *w, struct slice s, bool lower)
{
	put(w, s.p, s.len, lower);
}

static void put_method(struct keyw *w, char kind, struct slice method)
{
	put(w, &kind, 1, false);
	if (slice_eq_cstr(method, "ACK"))
		method = SLICE_LIT("INVITE");
	put_slice(w, method, false);
	put(w, "\n", 1, false);
}

static bool has_cookie(struct slice branch)
{
	return branch.len > sizeof(cookie) - 1 &&
	       memcmp(branch.p, cookie, sizeof(cookie) - 1) == 0;
}

static int finish(struct keyw *w, const char **reason)
{
	if (w->overflow) {
		*reason = "Transaction key too long";
		return WIMS_ETOOBIG;
	}
	return 0;
}

static int server_key(struct sip_txn_key *k, const struct sip_msg *req,
		      struct slice method, const char **reason)
{
	struct sip_via v;
	struct keyw w = {k, false};
	k->len = 0;
	if (!req->is_request) {
		*reason = "Not a request";
		return WIMS_EINVAL;
	}
	int rc = sip_msg_top_via(req, &v, reason);
	if (rc)
		return rc < 0 && rc != WIMS_ENOTFOUND ? rc : WIMS_EPARSE;
	if (v.branch.len > WIMS_SIP_MAX_TOKEN) {
		*reason = "Via branch too long";
		return WIMS_ETOOBIG;
	}
	if (has_cookie(v.branch)) {
		put_method(&w, 'S', method);
		put_slice(&w, v.branch, false);
		put(&w, "\n", 1, false);
		put_slice(&w, v.sent_by, true);
		return finish(&w, reason);
	}

	/* RFC 3261 17.2.3, for requests from RFC 2543 elements. */
	struct sip_nameaddr from;
	const struct sip_hdr *fh = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *ch = sip_msg_hdr(req, SIP_HDR_CALL_ID);
	if (!fh || !ch || sip_nameaddr_parse(&from, fh->value, reason) != 0) {
		*reason = "Bad From";
		return WIMS_EPARSE;
	}
	char num[16];
	int n = snprintf(num, sizeof(num), "%u", (unsigned)req->cseq);
	put_method(&w, 'L', method);
	put_slice(&w, ch->value, false);
	put(&w, "\n", 1, false);
	put_slice(&w, from.tag, false);
	put(&w, "\n", 1, false);
	put(&w, num, (size_t)n, false);
	put(&w, "\n", 1, false);
	put_slice(&w, v.sent_by, true);
	put(&w, "\n", 1, false);
	put_slice(&w, req->ruri, false);
	return finish(&w, reason);
}

int sip_txn_key_server(struct sip_txn_key *k, const struct sip_msg *req,
		       const char **reason)
{
	return server_key(k, req, req->method, reason);
}

int sip_txn_key_cancel_target(struct sip_txn_key *k, const struct sip_msg *cancel,
			      const char **reason)
{
	if (cancel->method_id != SIP_METHOD_CANCEL) {
		*reason = "Not a CANCEL";
		k->len = 0;
		return WIMS_EINVAL;
	}
	return server_key(k, cancel, SLICE_LIT("INVITE"), reason);
}

int sip_txn_key_client(struct sip_txn_key *k, struct slice branch,
		       enum sip_method method)
{
	struct keyw w = {k, false};
	const char *why;
	k->len = 0;
	if (branch.len == 0 || branch.len > WIMS_SIP_MAX_TOKEN ||
	    (unsigned)method >= SIP_METHOD_COUNT_ || method == SIP_METHOD_OTHER)
		return WIMS_EINVAL;
	put_method(&w, 'C', slice_from_cstr(sip_method_name(method)));
	put_slice(&w, branch, false);
	return finish(&w, &why);
}

int sip_txn_key_from_response(struct sip_txn_key *k, const struct sip_msg *resp,
			      const char **reason)
{
	struct sip_via v;
	struct keyw w = {k, false};
	k->len = 0;
	if (resp->is_request) {
		*reason = "Not a response";
		return WIMS_EINVAL;
	}
	int rc = sip_msg_top_via(resp, &v, reason);
	if (rc)
		return rc < 0 && rc != WIMS_ENOTFOUND ? rc : WIMS_EPARSE;
	if (v.branch.len == 0 || v.branch.len > WIMS_SIP_MAX_TOKEN) {
		*reason = "Bad Via branch";
		return WIMS_EPARSE;
	}
	put_method(&w, 'C', resp->cseq_method);
	put_slice(&w, v.branch, false);
	return finish(&w, reason);
}

bool sip_txn_key_eq(const struct sip_txn_key *a, const struct sip_txn_key *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

uint32_t sip_txn_key_hash(const struct sip_txn_key *k)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < k->len; i++) {
		h ^= (uint8_t)k->b[i];
		h *= 16777619u;
	}
	return h;
}
