/*
 * param.c - parameters, comma lists, quoted strings and LWS (see param.h).
 *
 * Linear white space, RFC 3261 25.1:  LWS = [*WSP CRLF] 1*WSP.  A CRLF
 * counts as white space only when SP or HTAB follows it (a folded line);
 * any other CR or LF inside a value is an error, never a separator.
 */
#include "sip/param.h"

#include <string.h>

#include "core/wims.h"

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the LWS run starting at p (0 if none). */
static size_t lws_len(const char *p, const char *end)
{
	const char *q = p;
	for (;;) {
		if (q < end && is_wsp(*q)) {
			q++;
		} else if (end - q >= 3 && q[0] == '\r' && q[1] == '\n' && is_wsp(q[2])) {
			q += 3;
		} else {
			return (size_t)(q - p);
		}
	}
}

struct slice sip_lws_trim(struct slice s)
{
	if (s.len == 0)
		return s;
	size_t n = lws_len(s.p, s.p + s.len);
	s.p += n;
	s.len -= n;
	/* Backwards, a CR/LF can only be the CRLF of a fold whose whitespace
	 * we just dropped (or junk a later check refuses): drop it too. */
	while (s.len && (is_wsp(s.p[s.len - 1]) || s.p[s.len - 1] == '\r' ||
			 s.p[s.len - 1] == '\n'))
		s.len--;
	return s;
}

/* RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
 * "+" / "`" / "'" / "~") */
static const uint8_t token_tab[256] = {
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1, ['_'] = 1,
	['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

bool sip_is_token_char(char c)
{
	return token_tab[(unsigned char)c] != 0;
}

bool sip_is_token(struct slice s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!token_tab[(unsigned char)s.p[i]])
			return false;
	return true;
}

/* p points at an opening quote; returns the position just after the
 * closing quote, or NULL if there is none before end. */
static const char *skip_qstring(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p == end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

int sip_param_next(struct slice *rest, char sep, struct sip_param *out)
{
	if (rest->len == 0)
		return 0;
	const char *p = rest->p, *end = rest->p + rest->len;

	for (;;) {
		p += lws_len(p, end);
		if (p < end && *p == sep)
			p++;
		else
			break;
	}
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}

	const char *name = p;
	while (p < end && *p != '=' && *p != sep && !is_wsp(*p) && *p != '\r' &&
	       *p != '\n' && *p != '"')
		p++;
	if (p == name)
		return WIMS_EPARSE;
	out->name = (struct slice){name, (size_t)(p - name)};
	out->value = (struct slice){p, 0};
	out->has_value = false;
	out->quoted = false;

	p += lws_len(p, end);
	if (p < end && *p == '=') {
		p++;
		p += lws_len(p, end);
		if (p < end && *p == '"') {
			const char *close = skip_qstring(p, end);
			if (!close)
				return WIMS_EPARSE;
			out->value = (struct slice){p + 1, (size_t)(close - p - 2)};
			out->quoted = true;
			p = close;
		} else {
			const char *v = p;
			while (p < end && *p != sep && !is_wsp(*p) && *p != '\r' &&
			       *p != '\n' && *p != '"')
				p++;
			if (p == v)
				return WIMS_EPARSE;
			out->value = (struct slice){v, (size_t)(p - v)};
		}
		out->has_value = true;
		p += lws_len(p, end);
	}
	if (p < end && *p != sep)
		return WIMS_EPARSE;
	rest->p = p;
	rest->len = (size_t)(end - p);
	return 1;
}

bool sip_param_find(struct slice params, const char *name, struct sip_param *out)
{
	struct sip_param prm;
	struct slice rest = params;
	while (sip_param_next(&rest, ';', &prm) == 1) {
		if (slice_ieq_cstr(prm.name, name)) {
			if (out)
				*out = prm;
			return true;
		}
	}
	return false;
}

int sip_list_next(struct slice *rest, struct slice *item)
{
	if (rest->len == 0)
		return 0;
	const char *p = rest->p, *end = rest->p + rest->len;
	p += lws_len(p, end);
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}
	const char *start = p;
	int angle = 0;
	while (p < end) {
		char c = *p;
		if (c == '"') {
			p = skip_qstring(p, end);
			if (!p)
				return WIMS_EPARSE;
			continue;
		}
		if (c == '<') {
			angle++;
		} else if (c == '>') {
			if (--angle < 0)
				return WIMS_EPARSE;
		} else if (c == ',' && angle == 0) {
			break;
		}
		p++;
	}
	if (angle != 0)
		return WIMS_EPARSE;
	*item = sip_lws_trim((struct slice){start, (size_t)(p - start)});
	if (item->len == 0)
		return WIMS_EPARSE;
	if (p < end) {
		/* Skip the comma; a list may not end with one. */
		p++;
		if (p + lws_len(p, end) == end)
			return WIMS_EPARSE;
	}
	rest->p = p;
	rest->len = (size_t)(end - p);
	return 1;
}

int sip_qstring_unescape(struct slice inside, char *dst, size_t dstsz)
{
	size_t n = 0;
	if (dstsz == 0)
		return WIMS_ETOOBIG;
	for (size_t i = 0; i < inside.len; i++) {
		char c = inside.p[i];
		if (c == '\\') {
			if (++i == inside.len) {
				dst[0] = '\0';
				return WIMS_EPARSE;
			}
			c = inside.p[i];
		}
		if (n + 1 >= dstsz) {
			dst[0] = '\0';
			return WIMS_ETOOBIG;
		}
		dst[n++] = c;
	}
	dst[n] = '\0';
	return (int)n;
}
