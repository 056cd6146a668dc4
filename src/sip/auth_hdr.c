/*
 * auth_hdr.c - challenge / credentials / Authentication-Info values (see
 * auth_hdr.h).
 *
 *	Digest username="alice", realm="ims.example.org", nc=00000001, ...
 *	\_ scheme _/ \______ auth-param *( "," auth-param ) ______/
 *	Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIi...
 *	\_____/ \__________ token68 _________/
 */
#include "sip/auth_hdr.h"

#include <string.h>

#include "core/wims.h"
#include "sip/param.h"

static const char *const param_names[SIP_AUTH_P_COUNT_] = {
#define AUTH_P_NAME_(id, name) [SIP_AUTH_P_##id] = name,
	SIP_AUTH_PARAMS(AUTH_P_NAME_)
#undef AUTH_P_NAME_
};

const char *sip_auth_param_name(enum sip_auth_param p)
{
	if ((unsigned)p >= SIP_AUTH_P_COUNT_)
		return "";
	return param_names[p];
}

static int param_lookup(struct slice n)
{
	for (int i = 0; i < SIP_AUTH_P_COUNT_; i++)
		if (slice_ieq_cstr(n, param_names[i]))
			return i;
	return -1;
}

/* RFC 7235 2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+"
 * / "/" ) *"=" */
static bool is_token68(struct slice s)
{
	size_t i = 0;
	while (i < s.len) {
		char c = s.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || c == '+' || c == '/')
			i++;
		else
			break;
	}
	if (i == 0)
		return false;
	while (i < s.len && s.p[i] == '=')
		i++;
	return i == s.len;
}

static int parse_params(struct sip_auth *a, struct slice list, const char **reason)
{
	struct slice rest = list;
	struct sip_param prm;
	int rc, n = 0;

	/* Refuse empty elements (",,") here: sip_param_next would skip them. */
	while ((rc = sip_param_next(&rest, ',', &prm)) == 1) {
		if (!sip_is_token(prm.name) || !prm.has_value ||
		    (!prm.quoted && !sip_is_token(prm.value))) {
			*reason = "Bad authorization header";
			return WIMS_EPARSE;
		}
		int i = param_lookup(prm.name);
		if (i >= 0) {
			if (a->p[i].p) {
				*reason = "Duplicate auth parameter";
				return WIMS_EPARSE;
			}
			a->p[i] = prm.value;
			if (prm.quoted) {
				a->quoted |= 1u << i;
				if (prm.value.len && memchr(prm.value.p, '\\', prm.value.len))
					a->escaped |= 1u << i;
			}
		}
		n++;
	}
	if (rc < 0 || n == 0) {
		*reason = "Bad authorization header";
		return WIMS_EPARSE;
	}
	return 0;
}

int sip_auth_parse(struct sip_auth *a, struct slice value, const char **reason)
{
	memset(a, 0, sizeof(*a));
	struct slice v = sip_lws_trim(value);
	size_t i = 0;
	if (v.len == 0)
		goto bad;
	while (i < v.len && sip_is_token_char(v.p[i]))
		i++;
	a->scheme_name = (struct slice){v.p, i};
	if (i == 0 || (i < v.len && v.p[i] != ' ' && v.p[i] != '\t' && v.p[i] != '\r'))
		goto bad;
	if (slice_ieq_cstr(a->scheme_name, "Digest"))
		a->scheme = SIP_AUTH_SCHEME_DIGEST;
	else if (slice_ieq_cstr(a->scheme_name, "Bearer"))
		a->scheme = SIP_AUTH_SCHEME_BEARER;
	else
		a->scheme = SIP_AUTH_SCHEME_OTHER;

	struct slice rest = sip_lws_trim((struct slice){v.p + i, v.len - i});
	if (rest.len == 0)
		goto bad;
	/* Digest never carries a token68 (RFC 7616 3.3/3.4). */
	if (a->scheme != SIP_AUTH_SCHEME_DIGEST && is_token68(rest)) {
		a->token68 = rest;
		return 0;
	}
	if (a->scheme == SIP_AUTH_SCHEME_BEARER)
		goto bad;
	a->params = rest;
	return parse_params(a, rest, reason);
bad:
	*reason = "Bad authorization header";
	return WIMS_EPARSE;
}

int sip_auth_info_parse(struct sip_auth *a, struct slice value, const char **reason)
{
	memset(a, 0, sizeof(*a));
	a->scheme = SIP_AUTH_SCHEME_NONE;
	a->params = sip_lws_trim(value);
	a->scheme_name = (struct slice){a->params.p, 0};
	return parse_params(a, a->params, reason);
}

int sip_auth_value(const struct sip_auth *a, enum sip_auth_param p, char *buf,
		   size_t bufsz, struct slice *out)
{
	if ((unsigned)p >= SIP_AUTH_P_COUNT_ || !a->p[p].p)
		return WIMS_ENOTFOUND;
	if (!(a->escaped & (1u << p))) {
		*out = a->p[p];
		return 0;
	}
	int n = sip_qstring_unescape(a->p[p], buf, bufsz);
	if (n < 0)
		return n;
	*out = (struct slice){buf, (size_t)n};
	return 0;
}

bool sip_auth_param_find(const struct sip_auth *a, const char *name,
			 struct slice *value, bool *quoted)
{
	struct slice rest = a->params;
	struct sip_param prm;
	while (sip_param_next(&rest, ',', &prm) == 1) {
		if (slice_ieq_cstr(prm.name, name)) {
			if (value)
				*value = prm.value;
			if (quoted)
				*quoted = prm.quoted;
			return true;
		}
	}
	return false;
}
