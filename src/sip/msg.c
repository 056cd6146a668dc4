/*
 * msg.c - the SIP message indexer (see msg.h for the contract).
 *
 * One pass over the start line and the header block: find each line's LF
 * with memchr, check its CR, take the name up to ':' and look it up, record
 * slices.  Header values are left alone except CSeq and Content-Length,
 * which framing and validation need.  Nothing is copied and the struct is
 * not cleared wholesale (it is ~7 KB and this runs per message): only the
 * fields the parse sets.
 *
 *	REGISTER sip:ims.example.org SIP/2.0\r\n      start line
 *	Via: SIP/2.0/WSS ...;branch=z9hG4bK...\r\n     header lines
 *	 ;rport\r\n                                    (folded continuation)
 *	...\r\n
 *	\r\n                                           end of headers
 *	body (Content-Length bytes)
 */
#include "sip/msg.h"

#include <string.h>

#include "core/wims.h"
#include "sip/param.h"

static const char *const method_names[SIP_METHOD_COUNT_] = {
	[SIP_METHOD_OTHER] = "",
#define METHOD_NAME_(id, name) [SIP_METHOD_##id] = name,
	SIP_METHODS(METHOD_NAME_)
#undef METHOD_NAME_
};

const char *sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= SIP_METHOD_COUNT_)
		return "";
	return method_names[m];
}

static bool lit_eq(struct slice s, const char *lit, size_t n)
{
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

enum sip_method sip_method_lookup(struct slice s)
{
#define M(ID, lit)                                                  \
	if (lit_eq(s, lit, sizeof(lit) - 1))                        \
		return SIP_METHOD_##ID;
	if (s.len < 3)
		return SIP_METHOD_OTHER;
	switch (s.p[0]) {
	case 'R': M(REGISTER, "REGISTER") M(REFER, "REFER") break;
	case 'I': M(INVITE, "INVITE") M(INFO, "INFO") break;
	case 'A': M(ACK, "ACK") break;
	case 'B': M(BYE, "BYE") break;
	case 'C': M(CANCEL, "CANCEL") break;
	case 'O': M(OPTIONS, "OPTIONS") break;
	case 'M': M(MESSAGE, "MESSAGE") break;
	case 'U': M(UPDATE, "UPDATE") break;
	case 'P': M(PRACK, "PRACK") M(PUBLISH, "PUBLISH") break;
	case 'S': M(SUBSCRIBE, "SUBSCRIBE") break;
	case 'N': M(NOTIFY, "NOTIFY") break;
	default: break;
	}
#undef M
	return SIP_METHOD_OTHER;
}

int sip_msg_error_status(int err)
{
	return err == WIMS_ETOOBIG ? 513 : 400;
}

bool sip_msg_can_answer(const struct sip_msg *m)
{
	return m->is_request && m->method_id != SIP_METHOD_ACK &&
	       m->first[SIP_HDR_VIA] && m->first[SIP_HDR_FROM] &&
	       m->first[SIP_HDR_TO] && m->first[SIP_HDR_CALL_ID] &&
	       m->first[SIP_HDR_CSEQ];
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR_COUNT_ || !m->first[id])
		return NULL;
	return &m->hdrs[m->first[id] - 1];
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m,
				       const struct sip_hdr *h)
{
	return h->next ? &m->hdrs[h->next - 1] : NULL;
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m,
					  struct slice name)
{
	enum sip_hdr_id id = sip_hdr_lookup(name.p, name.len);
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	if (id != SIP_HDR_OTHER)
		return h;
	for (; h; h = sip_msg_hdr_next(m, h))
		if (slice_ieq(h->name, name))
			return h;
	return NULL;
}

unsigned sip_msg_hdr_index(const struct sip_msg *m, const struct sip_hdr *h)
{
	return (unsigned)(h - m->hdrs);
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	unsigned n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h))
		n++;
	return n;
}

int sip_cseq_parse(struct slice value, uint32_t *num, struct slice *method,
		   enum sip_method *method_id, const char **reason)
{
	struct slice v = sip_lws_trim(value);
	size_t i = 0;
	uint64_t n = 0;

	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
		/* RFC 3261 8.1.1.5: the number MUST be < 2^31. */
		n = n * 10 + (unsigned)(v.p[i] - '0');
		if (n > 0x7fffffffu || i >= 10)
			goto bad;
		i++;
	}
	if (i == 0)
		goto bad;
	size_t ws = i;
	while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '\r' ||
			     v.p[i] == '\n'))
		i++;
	if (i == ws || i == v.len)
		goto bad;
	struct slice m = {v.p + i, v.len - i};
	if (!sip_is_token(m))
		goto bad;
	*num = (uint32_t)n;
	*method = m;
	if (method_id)
		*method_id = sip_method_lookup(m);
	return 0;
bad:
	*reason = "Bad CSeq";
	return WIMS_EPARSE;
}

/* RFC 3261 25.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then
 * ':' and at least one more character; no SP or CTL anywhere. */
static bool ruri_ok(struct slice u)
{
	size_t i = 0;
	if (u.len < 3)
		return false;
	char c = u.p[0];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		return false;
	for (i = 1; i < u.len && u.p[i] != ':'; i++) {
		c = u.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
	}
	if (i + 1 >= u.len)
		return false;
	for (; i < u.len; i++)
		if ((unsigned char)u.p[i] <= ' ' || u.p[i] == 0x7f)
			return false;
	return true;
}

static bool version_ok(struct slice v)
{
	return slice_ieq(v, SLICE_LIT("SIP/2.0"));
}

/* The start line, without its CRLF. */
static int parse_start_line(struct sip_msg *m, struct slice l, const char **reason)
{
	if (l.len >= 8 && slice_starts_with_i(l, "SIP/")) {
		/* SIP/2.0 SP 3DIGIT SP Reason-Phrase */
		m->is_request = false;
		if (l.len < 11 || !version_ok((struct slice){l.p, 7}) || l.p[7] != ' ')
			goto bad_status;
		const char *d = l.p + 8;
		if (d[0] < '1' || d[0] > '6' || d[1] < '0' || d[1] > '9' ||
		    d[2] < '0' || d[2] > '9')
			goto bad_status;
		m->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
		if (l.len == 11) {
			m->reason = (struct slice){l.p + 11, 0};
		} else if (l.p[11] == ' ') {
			m->reason = (struct slice){l.p + 12, l.len - 12};
		} else {
			goto bad_status;
		}
		for (size_t i = 0; i < m->reason.len; i++) {
			unsigned char c = (unsigned char)m->reason.p[i];
			if ((c < ' ' && c != '\t') || c == 0x7f)
				goto bad_status;
		}
		return 0;
bad_status:
		*reason = "Bad status line";
		return WIMS_EPARSE;
	}

	/* Method SP Request-URI SP SIP-Version, single spaces (RFC 3261 7.1) */
	m->is_request = true;
	const char *sp1 = memchr(l.p, ' ', l.len);
	if (!sp1)
		goto bad_request;
	m->method = (struct slice){l.p, (size_t)(sp1 - l.p)};
	if (!sip_is_token(m->method))
		goto bad_request;
	m->method_id = sip_method_lookup(m->method);
	const char *u = sp1 + 1, *end = l.p + l.len;
	const char *sp2 = memchr(u, ' ', (size_t)(end - u));
	if (!sp2 || sp2 == u)
		goto bad_request;
	m->ruri = (struct slice){u, (size_t)(sp2 - u)};
	if (!ruri_ok(m->ruri)) {
		*reason = "Bad Request-URI";
		return WIMS_EPARSE;
	}
	if (!version_ok((struct slice){sp2 + 1, (size_t)(end - sp2 - 1)})) {
		*reason = "Version Not Supported";
		return WIMS_EPARSE;
	}
	return 0;
bad_request:
	*reason = "Bad request line";
	return WIMS_EPARSE;
}

/* Headers that may appear once only; a second copy makes the message
 * ambiguous (RFC 4475 3.1.2.19 style), so it is refused. */
static const char *single_reason(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_FROM: return "Duplicate From";
	case SIP_HDR_TO: return "Duplicate To";
	case SIP_HDR_CALL_ID: return "Duplicate Call-ID";
	case SIP_HDR_CSEQ: return "Duplicate CSeq";
	case SIP_HDR_CONTENT_LENGTH: return "Duplicate Content-Length";
	case SIP_HDR_MAX_FORWARDS: return "Duplicate Max-Forwards";
	default: return NULL;
	}
}

/* What to say when the buffer ends before the message does. */
static int incomplete(size_t len, enum sip_framing framing, const char **reason)
{
	if (len >= WIMS_SIP_MAX_MSG) {
		*reason = "Message Too Large";
		return WIMS_ETOOBIG;
	}
	if (framing == SIP_FRAMING_STREAM)
		return WIMS_EAGAIN;
	*reason = "Truncated message";
	return WIMS_EPARSE;
}

/* Leading CRLFs (keep-alive or stray, RFC 5626 3.5.1 / RFC 3261 7.5).
 * Returns the bytes to report as a keep-alive, 0 if there are none, or
 * WIMS_EAGAIN. */
static int keepalive(struct sip_msg *m, const char *p, size_t len,
		     enum sip_framing framing)
{
	size_t i = 0;
	while (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n')
		i += 2;
	size_t pairs = i / 2;
	bool at_end = i == len || (i + 1 == len && p[i] == '\r');
	if (framing == SIP_FRAMING_DATAGRAM) {
		if (!at_end)
			return 0; /* CRLFs before a message: skipped by the caller */
		m->keepalive = true;
		m->pings = (unsigned)(pairs / 2);
		return (int)len;
	}
	if (i == 0)
		return (i + 1 == len && p[0] == '\r') ? WIMS_EAGAIN : 0;
	/* A lone CRLF at the end may be the first half of a ping. */
	if (at_end && (pairs & 1))
		pairs--;
	if (pairs == 0)
		return WIMS_EAGAIN;
	m->keepalive = true;
	m->pings = (unsigned)(pairs / 2);
	return (int)(pairs * 2);
}

int sip_msg_parse(struct sip_msg *m, const char *p, size_t len,
		  enum sip_framing framing, const char **reason)
{
	static const char *unused_reason;
	uint8_t last[SIP_HDR_COUNT_];
	int err = 0;
	const char *err_reason = NULL;

	if (!reason)
		reason = &unused_reason;
	m->raw = (struct slice){p, 0};
	m->start_line = (struct slice){p, 0};
	m->is_request = false;
	m->method = (struct slice){p, 0};
	m->method_id = SIP_METHOD_OTHER;
	m->ruri = (struct slice){p, 0};
	m->status = 0;
	m->reason = (struct slice){p, 0};
	m->keepalive = false;
	m->pings = 0;
	m->nhdrs = 0;
	memset(m->first, 0, sizeof(m->first));
	m->cseq = 0;
	m->cseq_method = (struct slice){p, 0};
	m->cseq_method_id = SIP_METHOD_OTHER;
	m->has_content_length = false;
	m->content_length = 0;
	m->headers = (struct slice){p, 0};
	m->body = (struct slice){p, 0};

	if (len == 0)
		return incomplete(len, framing, reason);
	if (p[0] == '\r' || p[0] == '\n') {
		int k = keepalive(m, p, len, framing);
		if (k != 0)
			return k;
		/* Datagram: CRLFs before a start line are ignored. */
		size_t skip = 0;
		while (skip + 1 < len && p[skip] == '\r' && p[skip + 1] == '\n')
			skip += 2;
		if (skip) {
			int rc = sip_msg_parse(m, p + skip, len - skip, framing, reason);
			return rc < 0 ? rc : rc + (int)skip;
		}
	}

	const char *start = p;
	size_t lim = len < WIMS_SIP_MAX_MSG ? len : WIMS_SIP_MAX_MSG;
	const char *end = p + lim;

	/* Start line. */
	const char *lf = memchr(p, '\n', lim);
	if (!lf)
		return incomplete(len, framing, reason);
	if (lf == p || lf[-1] != '\r' || memchr(p, '\r', (size_t)(lf - 1 - p))) {
		*reason = "Bad start line";
		return WIMS_EPARSE;
	}
	m->start_line = (struct slice){p, (size_t)(lf - 1 - p)};
	int rc = parse_start_line(m, m->start_line, reason);
	if (rc)
		return rc;

	memset(last, 0, sizeof(last));
	const char *q = lf + 1;
	m->headers.p = q;
	for (;;) {
		if (q == end)
			return incomplete(len, framing, reason);
		if (q[0] == '\r') {
			if (q + 1 == end)
				return incomplete(len, framing, reason);
			if (q[1] != '\n') {
				*reason = "Bad header line";
				return WIMS_EPARSE;
			}
			break; /* the empty line */
		}
		/* One header line, with any continuation lines. */
		const char *line = q;
		const char *eol;
		for (;;) {
			eol = memchr(q, '\n', (size_t)(end - q));
			if (!eol)
				return incomplete(len, framing, reason);
			if (eol == q || eol[-1] != '\r' ||
			    memchr(q, '\r', (size_t)(eol - 1 - q))) {
				*reason = "Bad header line";
				return WIMS_EPARSE;
			}
			/* Need the next byte to know whether the line goes on. */
			if (eol + 1 == end)
				return incomplete(len, framing, reason);
			q = eol + 1;
			if (*q != ' ' && *q != '\t')
				break;
		}
		struct slice whole = {line, (size_t)(q - line)};

		/* name HCOLON value */
		const char *n = line;
		while (n < eol && sip_is_token_char(*n))
			n++;
		struct slice name = {line, (size_t)(n - line)};
		while (n < eol && (*n == ' ' || *n == '\t'))
			n++;
		if (name.len == 0 || n == eol || *n != ':') {
			/* Keep indexing the rest so a 400 can still be built;
			 * the first such error is what we report. */
			if (!err) {
				err = WIMS_EPARSE;
				err_reason = name.len == 0 && line[0] == ' '
						     ? "Bad folding"
						     : "Bad header line";
			}
			continue;
		}
		if (m->nhdrs == WIMS_SIP_MAX_HEADERS) {
			*reason = "Too Many Headers";
			return WIMS_ETOOBIG;
		}
		struct slice value = sip_lws_trim(
			(struct slice){n + 1, (size_t)(q - 2 - (n + 1))});
		enum sip_hdr_id id = sip_hdr_lookup(name.p, name.len);
		if (m->first[id] && !err) {
			const char *why = single_reason(id);
			if (why) {
				err = WIMS_EPARSE;
				err_reason = why;
			}
		}
		unsigned idx = m->nhdrs++;
		struct sip_hdr *h = &m->hdrs[idx];
		h->id = id;
		h->name = name;
		h->value = value;
		h->line = whole;
		h->next = 0;
		if (last[id])
			m->hdrs[last[id] - 1].next = (uint8_t)(idx + 1);
		else
			m->first[id] = (uint8_t)(idx + 1);
		last[id] = (uint8_t)(idx + 1);
	}

	m->headers.len = (size_t)(q - m->headers.p);
	/* A NUL in a header would end it early for any C-string consumer
	 * downstream (a log, a database, another proxy): refuse it here. */
	if (!err && m->headers.len && memchr(m->headers.p, '\0', m->headers.len)) {
		err = WIMS_EPARSE;
		err_reason = "Bad header line";
	}
	const char *body = q + 2;
	size_t head_len = (size_t)(body - start);

	/* Content-Length: framing first, so a stream knows what to skip even
	 * if the message is refused. */
	const struct sip_hdr *cl = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	if (cl) {
		uint32_t v;
		const char *why;
		if (sip_hdr_parse_uint(cl->value, UINT32_MAX, &v, &why) != 0) {
			*reason = "Bad Content-Length";
			return WIMS_EPARSE;
		}
		m->has_content_length = true;
		m->content_length = v;
		if (v > WIMS_SIP_MAX_MSG || head_len + v > WIMS_SIP_MAX_MSG) {
			*reason = "Message Too Large";
			return WIMS_ETOOBIG;
		}
	}
	size_t total;
	if (framing == SIP_FRAMING_STREAM) {
		if (!cl) {
			*reason = "Missing Content-Length";
			return WIMS_EPARSE;
		}
		total = head_len + m->content_length;
		if (total > len)
			return WIMS_EAGAIN;
	} else {
		if (len > WIMS_SIP_MAX_MSG) {
			*reason = "Message Too Large";
			return WIMS_ETOOBIG;
		}
		if (cl) {
			if (head_len + m->content_length > len) {
				*reason = "Bad Content-Length";
				return WIMS_EPARSE;
			}
			total = head_len + m->content_length;
		} else {
			total = len;
		}
	}
	m->body = (struct slice){body, total - head_len};
	m->raw = (struct slice){start, total};

	if (err) {
		*reason = err_reason;
		return err;
	}

	/* Mandatory headers (RFC 3261 8.1.1; responses carry them back). */
	static const struct {
		enum sip_hdr_id id;
		const char *why;
	} required[] = {
		{SIP_HDR_VIA, "Missing Via"},
		{SIP_HDR_FROM, "Missing From"},
		{SIP_HDR_TO, "Missing To"},
		{SIP_HDR_CALL_ID, "Missing Call-ID"},
		{SIP_HDR_CSEQ, "Missing CSeq"},
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(required); i++) {
		if (!m->first[required[i].id]) {
			*reason = required[i].why;
			return WIMS_EPARSE;
		}
	}
	if (sip_msg_hdr(m, SIP_HDR_CALL_ID)->value.len == 0) {
		*reason = "Bad Call-ID";
		return WIMS_EPARSE;
	}
	rc = sip_cseq_parse(sip_msg_hdr(m, SIP_HDR_CSEQ)->value, &m->cseq,
			    &m->cseq_method, &m->cseq_method_id, reason);
	if (rc)
		return rc;
	if (m->is_request && !slice_eq(m->cseq_method, m->method)) {
		*reason = "CSeq method does not match";
		return WIMS_EPARSE;
	}
	return (int)(framing == SIP_FRAMING_STREAM ? total : len);
}
