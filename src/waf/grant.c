/*
 * grant.c - identity and permission checks before a token (grant.h).
 */
#include "waf/grant.h"

#include <stdio.h>
#include <string.h>

#include "core/wims.h"
#include "store/store.h"

static int add_link(void *arg, const struct store_link *l)
{
	struct waf_identity *id = arg;
	if (!l->confirmed)
		return 0;
	if (!id->impi[0])
		snprintf(id->impi, sizeof(id->impi), "%s", l->impi);
	if (strcmp(id->impi, l->impi) != 0 || id->n_impus == WIMS_IRS_MAX_IMPUS)
		return 0;
	snprintf(id->impus[id->n_impus++], WIMS_IMPU_MAX, "%s", l->impu);
	return 0;
}

int waf_grant_linked(struct store *hss, const char *web_id, const char *idp,
		     struct waf_identity *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	int rc = store_links_confirmed(hss, web_id, idp, add_link, out);
	if (rc && rc != WIMS_ENOTFOUND)
		return WIMS_ESTORE;
	if (out->n_impus == 0) {
		/* TR 33.871 REQ 2.5: only a confirmed link yields a token */
		*why = "no confirmed link between this web identity and an IMS identity";
		return WIMS_ENOTFOUND;
	}
	return 0;
}

static int add_impu(void *arg, const struct store_impu *impu)
{
	struct waf_identity *id = arg;
	if (!impu->barred && id->n_impus < WIMS_IRS_MAX_IMPUS)
		snprintf(id->impus[id->n_impus++], WIMS_IMPU_MAX, "%s", impu->impu);
	return 0;
}

int waf_grant_pool(struct store *hss, const char *client_id, const char *impi,
		   struct waf_identity *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	char owner[WIMS_WWSF_ID_MAX];
	int rc = store_pool_owner(hss, impi, owner);
	if (rc == WIMS_ESTORE)
		return rc;
	/* TR 33.871 REQ 3.2: a WWSF asserts only identities of its own pool */
	if (rc || strcmp(owner, client_id) != 0) {
		*why = "IMPI not in the client's pool (REQ 3.2)";
		return WIMS_EDENIED;
	}
	snprintf(out->impi, sizeof(out->impi), "%s", impi);
	rc = store_impu_list(hss, impi, add_impu, out);
	if (rc && rc != WIMS_ENOTFOUND)
		return WIMS_ESTORE;
	if (out->n_impus == 0) {
		*why = "the pool IMPI has no usable IMPU";
		return WIMS_EDENIED;
	}
	return 0;
}

int waf_grant_client_usable(struct store *hss, const struct waf_client *c, const char **why)
{
	/* TR 33.871 REQ 2.2: a blocked WWSF gets no token, at the WAF's
	 * own flag or the operator's HSS block list */
	if (c->blocked) {
		*why = "client is blocked at the WAF (REQ 2.2)";
		return WIMS_EDENIED;
	}
	if (store_wwsf_blocked(hss, c->client_id)) {
		*why = "WWSF is on the operator's block list (REQ 2.2)";
		return WIMS_EDENIED;
	}
	return 0;
}

int waf_grant_check(struct store *hss, const struct waf_client *c, const char *impi,
		    const char **why)
{
	int rc = waf_grant_client_usable(hss, c, why);
	if (rc)
		return rc;
	/* TR 33.871 REQ 2.1: the subscriber granted this WWSF, or the IMPI
	 * is one of the WWSF's own pool */
	if (store_wwsf_allowed(hss, impi, c->client_id))
		return 0;
	char owner[WIMS_WWSF_ID_MAX];
	if (store_pool_owner(hss, impi, owner) == 0 && strcmp(owner, c->client_id) == 0)
		return 0;
	*why = "the subscriber has not allowed this WWSF (REQ 2.1)";
	return WIMS_EDENIED;
}
