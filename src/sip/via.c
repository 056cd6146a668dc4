/*
 * via.c - Via entries (see via.h).
 *
 *	SIP / 2.0 / TCP  host:port ;branch=z9hG4bK..;received=..;rport=..
 *	\_ sent-protocol_/ \sent-by/ \__________ via-params ____________/
 *
 * RFC 3261 7.3.1 allows LWS around the slashes and the semicolons (a
 * torture test favourite), so we accept it there; not inside sent-by.
 */
#include "sip/via.h"

#include <string.h>

#include "core/wims.h"
#include "sip/param.h"
#include "sip/sip_int.h"

static const char *const transport_names[] = {
	[SIP_TRANSPORT_OTHER] = "",  [SIP_TRANSPORT_UDP] = "UDP",
	[SIP_TRANSPORT_TCP] = "TCP", [SIP_TRANSPORT_TLS] = "TLS",
	[SIP_TRANSPORT_SCTP] = "SCTP", [SIP_TRANSPORT_WS] = "WS",
	[SIP_TRANSPORT_WSS] = "WSS",
};

enum sip_transport sip_transport_lookup(struct slice name)
{
	for (unsigned t = SIP_TRANSPORT_UDP; t < WIMS_ARRAY_LEN(transport_names); t++)
		if (slice_ieq_cstr(name, transport_names[t]))
			return (enum sip_transport)t;
	return SIP_TRANSPORT_OTHER;
}

const char *sip_transport_name(enum sip_transport t)
{
	if ((unsigned)t >= WIMS_ARRAY_LEN(transport_names))
		return "";
	return transport_names[t];
}

static const char *skip_lws(const char *p, const char *end)
{
	struct slice s = {p, (size_t)(end - p)};
	struct slice t = sip_lws_trim(s);
	/* sip_lws_trim also trims the end; only the front matters here. */
	if (t.len == 0)
		return end;
	return t.p;
}

/* A token at p; returns its end (== p if none). */
static const char *token_end(const char *p, const char *end)
{
	while (p < end && sip_is_token_char(*p))
		p++;
	return p;
}

static int parse_params(struct sip_via *v)
{
	struct slice rest = v->params;
	struct sip_param prm;
	int rc;
	while ((rc = sip_param_next(&rest, ';', &prm)) == 1) {
		struct slice n = prm.name;
		if (!sip_is_token(n))
			return WIMS_EPARSE;
		if (slice_ieq_cstr(n, "branch")) {
			if (!prm.has_value || prm.quoted || !sip_is_token(prm.value) ||
			    v->branch.p)
				return WIMS_EPARSE;
			v->branch = prm.value;
		} else if (slice_ieq_cstr(n, "received")) {
			if (!prm.has_value || prm.quoted)
				return WIMS_EPARSE;
			v->received = prm.value;
		} else if (slice_ieq_cstr(n, "rport")) {
			v->rport = true;
			v->rport_value = 0;
			if (prm.has_value) {
				uint64_t port;
				if (prm.quoted || slice_to_u64(prm.value, 65535, &port) ||
				    port == 0 || prm.value.len > 5)
					return WIMS_EPARSE;
				v->rport_value = (uint16_t)port;
			}
		} else if (slice_ieq_cstr(n, "maddr")) {
			v->maddr = prm.value;
		} else if (slice_ieq_cstr(n, "ttl")) {
			v->ttl = prm.value;
		} else if (slice_ieq_cstr(n, "alias")) {
			v->alias = true;
		}
	}
	return rc;
}

int sip_via_parse(struct sip_via *v, struct slice entry, const char **reason)
{
	memset(v, 0, sizeof(*v));
	struct slice e = sip_lws_trim(entry);
	v->entry = e;
	if (e.len == 0)
		goto bad;
	const char *p = e.p, *end = e.p + e.len, *t;

	/* sent-protocol: name SLASH version SLASH transport */
	t = token_end(p, end);
	if (!slice_ieq_cstr((struct slice){p, (size_t)(t - p)}, "SIP"))
		goto bad;
	p = skip_lws(t, end);
	if (p == end || *p != '/')
		goto bad;
	p = skip_lws(p + 1, end);
	t = token_end(p, end);
	if (!slice_eq_cstr((struct slice){p, (size_t)(t - p)}, "2.0"))
		goto bad;
	p = skip_lws(t, end);
	if (p == end || *p != '/')
		goto bad;
	p = skip_lws(p + 1, end);
	t = token_end(p, end);
	if (t == p)
		goto bad;
	v->transport = (struct slice){p, (size_t)(t - p)};
	v->transport_id = sip_transport_lookup(v->transport);

	/* LWS sent-by */
	p = skip_lws(t, end);
	if (p == t || p == end)
		goto bad;
	const char *sb = p, *why;
	p = sip_hostport_scan(p, end, &v->host, &v->host_ipv6, &v->port, &why);
	if (!p)
		goto bad;
	v->sent_by = (struct slice){sb, (size_t)(p - sb)};
	p = skip_lws(p, end);
	if (p < end) {
		if (*p != ';')
			goto bad;
		v->params = (struct slice){p + 1, (size_t)(end - p - 1)};
		if (parse_params(v) != 0)
			goto bad;
	}
	return 0;
bad:
	*reason = "Bad Via";
	return WIMS_EPARSE;
}

void sip_via_iter_init(struct sip_via_iter *it, struct slice value)
{
	it->rest = value;
}

int sip_via_iter_next(struct sip_via_iter *it, struct sip_via *v,
		      const char **reason)
{
	struct slice item;
	int rc = sip_list_next(&it->rest, &item);
	if (rc < 0) {
		*reason = "Bad Via";
		return rc;
	}
	if (rc == 0)
		return 0;
	rc = sip_via_parse(v, item, reason);
	return rc < 0 ? rc : 1;
}

void sip_msg_via_iter_init(struct sip_msg_via_iter *it, const struct sip_msg *m)
{
	it->m = m;
	it->h = sip_msg_hdr(m, SIP_HDR_VIA);
	it->count = 0;
	sip_via_iter_init(&it->in, it->h ? it->h->value : SLICE_NULL);
}

int sip_msg_via_iter_next(struct sip_msg_via_iter *it, struct sip_via *v,
			  const char **reason)
{
	while (it->h) {
		/* An empty Via line is not an empty list: it is malformed. */
		if (it->in.rest.p == it->h->value.p &&
		    sip_lws_trim(it->h->value).len == 0) {
			*reason = "Bad Via";
			return WIMS_EPARSE;
		}
		int rc = sip_via_iter_next(&it->in, v, reason);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (++it->count > WIMS_SIP_MAX_VIAS) {
				*reason = "Too many Via entries";
				return WIMS_ETOOBIG;
			}
			return 1;
		}
		it->h = sip_msg_hdr_next(it->m, it->h);
		if (it->h)
			sip_via_iter_init(&it->in, it->h->value);
	}
	return 0;
}

int sip_msg_top_via(const struct sip_msg *m, struct sip_via *v, const char **reason)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sip_via_iter it;
	if (!h) {
		*reason = "Missing Via";
		return WIMS_ENOTFOUND;
	}
	sip_via_iter_init(&it, h->value);
	int rc = sip_via_iter_next(&it, v, reason);
	if (rc == 0) {
		*reason = "Bad Via";
		return WIMS_EPARSE;
	}
	return rc < 0 ? rc : 0;
}
