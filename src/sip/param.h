/*
 * param.h - the small lexical pieces every SIP header parser shares:
 * ";name=value" parameter lists, comma-separated header lists, and quoted
 * strings.
 *
 * All of them work on slices of the receive buffer and copy nothing.  A
 * quoted-string is handed out as the slice between its quotes, still
 * escaped; sip_qstring_unescape() copies it out when the \-escapes matter
 * (they rarely occur, so the common case stays zero-copy).  Linear white
 * space includes a folded line (CRLF followed by SP or HTAB).
 */
#ifndef WIMS_SIP_PARAM_H
#define WIMS_SIP_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/slice.h"

/* One parameter.  value is empty when the parameter has no "=value"
 * (has_value false, e.g. ";lr" or ";rport"); for a quoted value it is the
 * text between the quotes, still escaped, and quoted is true. */
struct sip_param {
	struct slice name;
	struct slice value;
	bool has_value;
	bool quoted;
};

/*
 * Take the next parameter from *rest, a list of "name[=value]" separated
 * by sep (';' for URI and header parameters, ',' for auth parameters).
 * Leading separators and LWS are skipped; *rest advances past the
 * parameter.  Returns 1 with *out filled, 0 when the list is exhausted,
 * or WIMS_EPARSE ("Bad parameter": empty name, unterminated quote,
 * characters after a quoted value).  Names are not validated beyond being
 * non-empty and free of separators, quotes and whitespace.
 */
int sip_param_next(struct slice *rest, char sep, struct sip_param *out);

/*
 * Find a parameter by name (case-insensitive) in a ';'-separated list.
 * Returns true and fills *out if present (a malformed list stops the
 * search: false).  out may be NULL to test presence only.
 */
bool sip_param_find(struct slice params, const char *name, struct sip_param *out);

/*
 * Take the next element of a comma-separated header value (RFC 3261 7.3.1)
 * from *rest.  Commas inside a quoted string or inside <...> do not split.
 * The element is trimmed of LWS.  Returns 1 with *item set, 0 when nothing
 * is left, or WIMS_EPARSE ("Bad list": empty element between commas,
 * unterminated quote or angle bracket).
 */
int sip_list_next(struct slice *rest, struct slice *item);

/* Drop LWS (SP, HTAB, and CRLF followed by SP/HTAB) at both ends. */
struct slice sip_lws_trim(struct slice s);

/*
 * Copy the inside of a quoted string (as found between the quotes, with
 * its \-escapes) into dst, undoing the escapes, NUL-terminated.  Returns
 * the length written (without NUL), or WIMS_ETOOBIG if dst is too small
 * (dst then holds ""), or WIMS_EPARSE for a trailing lone backslash.
 */
int sip_qstring_unescape(struct slice inside, char *dst, size_t dstsz);

/* RFC 3261 25.1 token character (alphanum and -.!%*_+`'~). */
bool sip_is_token_char(char c);
/* A non-empty slice made only of token characters. */
bool sip_is_token(struct slice s);

#endif
