/*
 * sip_int.h - helpers shared inside src/sip only (not part of the API).
 */
#ifndef WIMS_SIP_SIP_INT_H
#define WIMS_SIP_SIP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"

/*
 * host [":" port] at p (IPv6 in brackets), stopping at the first byte that
 * cannot belong to it.  Fills host (no brackets), ipv6, port (0: none) and
 * returns the end position, or NULL if malformed (*why says which part).
 * LWS around the colon is not accepted here (callers that allow it trim).
 */
const char *sip_hostport_scan(const char *p, const char *end, struct slice *host,
			      bool *ipv6, uint16_t *port, const char **why);

#endif
