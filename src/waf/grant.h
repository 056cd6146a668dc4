/*
 * grant.h - who a token may be issued for, and whether it may be issued
 * at all (TR 33.871 REQ 2.1, 2.2, 2.5, 3.2), over the HSS store.
 *
 * The identity of a token comes from the HSS, never from the client:
 *  - a web user (a WAF account, idp "waf", or a user a WWSF signed in
 *    itself, idp = that WWSF): the IMPI of its first confirmed link and
 *    every IMPU linked under that IMPI (REQ 2.5: only confirmed links;
 *    REQ 2.4: only the linked IMPUs, not the whole subscription);
 *  - a pool IMPI (scenario 3): only for the WWSF that owns the pool, with
 *    the IMPI's IMPUs (REQ 3.2).
 * Then, before anything is issued: the client is not blocked at the WAF
 * nor on the HSS block list (REQ 2.2), and the subscriber allowed this
 * WWSF or the IMPI is in its pool (REQ 2.1).
 *
 * Refusals come with a static reason for error_description.
 */
#ifndef WIMS_WAF_GRANT_H
#define WIMS_WAF_GRANT_H

#include <stddef.h>

#include "core/limits.h"
#include "waf/registry.h"

struct store;

struct waf_identity {
	char impi[WIMS_IMPI_MAX];
	char impus[WIMS_IRS_MAX_IMPUS][WIMS_IMPU_MAX];
	size_t n_impus;
};

/* Confirmed links of (web_id, idp).  0, WIMS_ENOTFOUND (none: *why),
 * WIMS_ESTORE. */
int waf_grant_linked(struct store *hss, const char *web_id, const char *idp,
		     struct waf_identity *out, const char **why);
/* impi from client_id's pool.  0, WIMS_EDENIED (*why), WIMS_ESTORE. */
int waf_grant_pool(struct store *hss, const char *client_id, const char *impi,
		   struct waf_identity *out, const char **why);
/* REQ 2.1 and 2.2 for client and impi.  0 or WIMS_EDENIED with *why. */
int waf_grant_check(struct store *hss, const struct waf_client *c, const char *impi,
		    const char **why);
/* REQ 2.2 alone (also for introspection).  0 or WIMS_EDENIED with *why. */
int waf_grant_client_usable(struct store *hss, const struct waf_client *c, const char **why);

#endif
