/*
 * nameaddr.c - name-addr / addr-spec with header parameters (see
 * nameaddr.h).
 *
 *	[display-name] <URI> *( ";" param )      name-addr
 *	URI-without-;,?       *( ";" param )      addr-spec (params are the
 *	                                          header's, RFC 3261 20.10)
 */
#include "sip/nameaddr.h"

#include <string.h>

#include "core/wims.h"

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3261 25.1: scheme ":" then at least one character, no LWS, no
 * quotes or angle brackets. */
static bool uri_shape_ok(struct slice u)
{
	size_t i;
	if (u.len < 3 || !is_alpha(u.p[0]))
		return false;
	for (i = 1; i < u.len && u.p[i] != ':'; i++) {
		char c = u.p[i];
		if (!(is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return false;
	}
	if (i + 1 >= u.len)
		return false;
	for (; i < u.len; i++) {
		unsigned char c = (unsigned char)u.p[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
			return false;
	}
	return true;
}

/* display-name as tokens: *(token LWS); anything else (a stray quote,
 * separator) is refused. */
static bool display_tokens_ok(struct slice d)
{
	for (size_t i = 0; i < d.len; i++) {
		char c = d.p[i];
		if (!(sip_is_token_char(c) || c == ' ' || c == '\t' || c == '\r' ||
		      c == '\n'))
			return false;
	}
	return true;
}

static int parse_params(struct sip_nameaddr *na)
{
	struct slice rest = na->params;
	struct sip_param prm;
	int rc;
	while ((rc = sip_param_next(&rest, ';', &prm)) == 1) {
		struct slice n = prm.name;
		if (!sip_is_token(n) || (prm.has_value && !prm.quoted && !sip_is_token(prm.value) &&
					 !(prm.value.len && prm.value.p[0] == '[')))
			return WIMS_EPARSE;
		if (slice_ieq_cstr(n, "tag")) {
			if (!prm.has_value || prm.quoted || na->tag.p)
				return WIMS_EPARSE;
			na->tag = prm.value;
		} else if (slice_ieq_cstr(n, "expires")) {
			na->expires = prm.value;
		} else if (slice_ieq_cstr(n, "q")) {
			na->q = prm.value;
		} else if (slice_ieq_cstr(n, "+sip.instance")) {
			na->instance = prm.value;
		} else if (slice_ieq_cstr(n, "reg-id")) {
			na->reg_id = prm.value;
		}
	}
	return rc;
}

int sip_nameaddr_parse(struct sip_nameaddr *na, struct slice s, const char **reason)
{
	memset(na, 0, sizeof(*na));
	struct slice e = sip_lws_trim(s);
	na->entry = e;
	if (e.len == 0)
		goto bad;
	const char *p = e.p, *end = e.p + e.len;

	if (e.len == 1 && e.p[0] == '*') {
		na->star = true;
		return 0;
	}
	const char *lt = NULL;
	if (*p == '"') {
		/* quoted-string display name */
		const char *q = p + 1;
		for (; q < end; q++) {
			if (*q == '\\') {
				if (++q == end)
					goto bad;
			} else if (*q == '"') {
				break;
			}
		}
		if (q == end)
			goto bad;
		na->display = (struct slice){p + 1, (size_t)(q - p - 1)};
		na->display_quoted = true;
		struct slice after = sip_lws_trim((struct slice){q + 1, (size_t)(end - q - 1)});
		if (after.len == 0 || after.p[0] != '<')
			goto bad;
		lt = after.p;
	} else {
		lt = memchr(p, '<', e.len);
		if (lt) {
			na->display = sip_lws_trim((struct slice){p, (size_t)(lt - p)});
			if (!display_tokens_ok(na->display))
				goto bad;
		}
	}

	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			goto bad;
		na->angle = true;
		na->uri = (struct slice){lt + 1, (size_t)(gt - lt - 1)};
		p = gt + 1;
		struct slice after = sip_lws_trim((struct slice){p, (size_t)(end - p)});
		if (after.len) {
			if (after.p[0] != ';')
				goto bad;
			na->params = (struct slice){after.p + 1, after.len - 1};
		}
	} else {
		/* addr-spec: the URI ends at the first ';' (RFC 3261 20.10). */
		const char *semi = memchr(p, ';', e.len);
		const char *uend = semi ? semi : end;
		na->uri = sip_lws_trim((struct slice){p, (size_t)(uend - p)});
		if (memchr(na->uri.p, ',', na->uri.len) || memchr(na->uri.p, '?', na->uri.len))
			goto bad;
		if (semi)
			na->params = (struct slice){semi + 1, (size_t)(end - semi - 1)};
	}
	if (!uri_shape_ok(na->uri))
		goto bad;
	if (na->params.p && parse_params(na) != 0)
		goto bad;
	return 0;
bad:
	*reason = "Bad name-addr";
	return WIMS_EPARSE;
}

bool sip_nameaddr_param(const struct sip_nameaddr *na, const char *name,
			struct sip_param *out)
{
	return sip_param_find(na->params, name, out);
}

void sip_nameaddr_iter_init(struct sip_nameaddr_iter *it, struct slice value)
{
	it->rest = value;
}

int sip_nameaddr_iter_next(struct sip_nameaddr_iter *it, struct sip_nameaddr *na,
			   const char **reason)
{
	struct slice item;
	int rc = sip_list_next(&it->rest, &item);
	if (rc < 0) {
		*reason = "Bad name-addr";
		return rc;
	}
	if (rc == 0)
		return 0;
	rc = sip_nameaddr_parse(na, item, reason);
	return rc < 0 ? rc : 1;
}
