/*
 * nameaddr.h - name-addr / addr-spec values with header parameters
 * (RFC 3261 20.10 and 25.1): From, To, Contact, Route, Record-Route, Path
 * (RFC 3327), Service-Route (RFC 3608), P-Associated-URI,
 * P-Asserted-Identity, P-Preferred-Identity (RFC 3325, 7315), Refer-To,
 * Referred-By.
 *
 *	"Alice \"A\" Smith" <sip:alice@example.org;transport=ws>;tag=9fxced76sl
 *	Bob <sips:bob@[2001:db8::1]>;expires=600;+sip.instance="<urn:uuid:...>"
 *	sip:carol@example.org;tag=88sja8x        (addr-spec: ;tag is the header's)
 *	*                                        (Contact only, RFC 3261 10.2.2)
 *
 * The URI is handed out as a slice for sip_uri_parse() (lazy: many callers
 * only want the tag).  Lists (Contact, Route, Path, P-Associated-URI) are
 * comma-separated: sip_nameaddr_iter walks them.
 */
#ifndef WIMS_SIP_NAMEADDR_H
#define WIMS_SIP_NAMEADDR_H

#include <stdbool.h>

#include "core/slice.h"
#include "sip/param.h"

struct sip_nameaddr {
	struct slice entry;   /* the whole element, trimmed */
	struct slice display; /* display name: inside the quotes (still
			       * escaped) when quoted, else the tokens as
			       * written; empty if none */
	bool display_quoted;
	struct slice uri;     /* between < and >, or the bare addr-spec */
	bool angle;           /* the URI was in <...> */
	bool star;            /* the value was "*" (Contact) */
	struct slice params;  /* header parameters after the URI (after '>',
			       * or after the first ';' of a bare addr-spec),
			       * without the leading ';' */

	/* Found while parsing the parameters; empty if absent. */
	struct slice tag;
	struct slice expires;
	struct slice q;
	struct slice instance; /* +sip.instance, inside its quotes */
	struct slice reg_id;
};

/*
 * Parse one element.  A bare addr-spec may not contain ',', ';' or '?' in
 * its URI (RFC 3261 20.10: use <> then).  "*" sets star and nothing else.
 * The URI must start with a scheme ("x:"); it is not parsed further.
 * Returns 0 or WIMS_EPARSE with *reason ("Bad name-addr").
 */
int sip_nameaddr_parse(struct sip_nameaddr *na, struct slice s,
		       const char **reason);

/* A header parameter by name (case-insensitive); true if present. */
bool sip_nameaddr_param(const struct sip_nameaddr *na, const char *name,
			struct sip_param *out);

/* The elements of a comma-separated value. */
struct sip_nameaddr_iter {
	struct slice rest;
};
void sip_nameaddr_iter_init(struct sip_nameaddr_iter *it, struct slice value);
/* 1 with *na filled, 0 at the end, WIMS_EPARSE. */
int sip_nameaddr_iter_next(struct sip_nameaddr_iter *it, struct sip_nameaddr *na,
			   const char **reason);

#endif
