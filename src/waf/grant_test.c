/*
 * grant_test.c - whom a token may name and when it is refused, over a
 * real HSS store: only confirmed links (REQ 2.5) and only their IMPUs
 * (REQ 2.4), a pool IMPI only for its owner (REQ 3.2), the subscriber's
 * permission (REQ 2.1), blocks at the WAF and the HSS (REQ 2.2) that leave
 * other WWSFs alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/wims.h"
#include "store/store.h"
#include "unit.h"
#include "waf/grant.h"

static char dir[64];
static struct store *st;

static int add_sub(const char *impi, const char *impu1, const char *impu2)
{
	struct store_subscriber s;
	memset(&s, 0, sizeof(s));
	snprintf(s.impi, sizeof(s.impi), "%s", impi);
	snprintf(s.realm, sizeof(s.realm), "ims.example.org");
	s.schemes = STORE_SCHEME_TNA;
	int rc = store_subscriber_add(st, &s);
	struct store_impu u;
	memset(&u, 0, sizeof(u));
	snprintf(u.impi, sizeof(u.impi), "%s", impi);
	snprintf(u.impu, sizeof(u.impu), "%s", impu1);
	if (!rc)
		rc = store_impu_add(st, &u);
	if (!rc && impu2) {
		snprintf(u.impu, sizeof(u.impu), "%s", impu2);
		rc = store_impu_add(st, &u);
	}
	return rc;
}

static int add_link(const char *web_id, const char *idp, const char *impu, bool confirm)
{
	uint8_t h[32];
	memset(h, 0, sizeof(h));
	snprintf((char *)h, sizeof(h), "%s%s%s", web_id, idp, impu);
	int rc = store_link_request(st, web_id, idp, impu, "", h, 2000000000, 1000);
	if (!rc && confirm)
		rc = store_link_confirm(st, h, 1000, NULL);
	return rc;
}

static struct waf_client client(const char *id)
{
	struct waf_client c;
	memset(&c, 0, sizeof(c));
	snprintf(c.client_id, sizeof(c.client_id), "%s", id);
	return c;
}

static void setup(void)
{
	EXPECT_INT(add_sub("grace@ims.example.org", "sip:grace@ims.example.org",
			   "tel:+15550000007"), ==, 0);
	EXPECT_INT(add_sub("bob@ims.example.org", "sip:bob@ims.example.org", "tel:+15550000002"),
		   ==, 0);
	EXPECT_INT(add_sub("pool1@ims.example.org", "sip:pool1@ims.example.org", NULL), ==, 0);
	EXPECT_INT(add_sub("carol@ims.example.org", "sip:carol@ims.example.org", NULL), ==, 0);
	EXPECT_INT(store_pool_add(st, "webshop.example.net", "pool1@ims.example.org"), ==, 0);
	EXPECT_INT(add_link("grace", "waf", "sip:grace@ims.example.org", true), ==, 0);
	EXPECT_INT(add_link("bob", "waf", "sip:bob@ims.example.org", false), ==, 0);
	EXPECT_INT(add_link("erin", "wwsf.ims.example.org", "sip:carol@ims.example.org", true), ==, 0);
}

static void confirmed_link_gives_only_its_impus(void)
{
	struct waf_identity id;
	const char *why = NULL;
	EXPECT_INT(waf_grant_linked(st, "grace", "waf", &id, &why), ==, 0);
	EXPECT_STR(id.impi, "grace@ims.example.org");
	/* REQ 2.4: the linked IMPU, not the subscription's tel URI too */
	EXPECT_INT(id.n_impus, ==, 1);
	EXPECT_STR(id.impus[0], "sip:grace@ims.example.org");
}

static void unconfirmed_link_gives_nothing(void)
{
	struct waf_identity id;
	const char *why = NULL;
	EXPECT_INT(waf_grant_linked(st, "bob", "waf", &id, &why), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(why && strstr(why, "confirmed"));
	EXPECT_INT(waf_grant_linked(st, "nobody", "waf", &id, &why), ==, WIMS_ENOTFOUND);
}

static void link_belongs_to_its_idp(void)
{
	/* erin's link was made through the operator WWSF: another WWSF
	 * (or the WAF's own account of that name) gets nothing */
	struct waf_identity id;
	const char *why = NULL;
	EXPECT_INT(waf_grant_linked(st, "erin", "wwsf.ims.example.org", &id, &why), ==, 0);
	EXPECT_INT(waf_grant_linked(st, "erin", "webshop.example.net", &id, &why), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(waf_grant_linked(st, "erin", "waf", &id, &why), ==, WIMS_ENOTFOUND);
}

static void pool_only_for_its_owner(void)
{
	struct waf_identity id;
	const char *why = NULL;
	EXPECT_INT(waf_grant_pool(st, "webshop.example.net", "pool1@ims.example.org", &id, &why),
		   ==, 0);
	EXPECT_STR(id.impus[0], "sip:pool1@ims.example.org");
	/* REQ 3.2 */
	EXPECT_INT(waf_grant_pool(st, "wwsf.ims.example.org", "pool1@ims.example.org", &id, &why),
		   ==, WIMS_EDENIED);
	EXPECT_INT(waf_grant_pool(st, "webshop.example.net", "grace@ims.example.org", &id, &why),
		   ==, WIMS_EDENIED);
	EXPECT_TRUE(strstr(why, "REQ 3.2") != NULL);
}

static void subscriber_must_allow_the_wwsf(void)
{
	struct waf_client wwsf = client("wwsf.ims.example.org");
	struct waf_client shop = client("webshop.example.net");
	const char *why = NULL;
	/* REQ 2.1 */
	EXPECT_INT(waf_grant_check(st, &wwsf, "grace@ims.example.org", &why), ==, WIMS_EDENIED);
	EXPECT_TRUE(strstr(why, "REQ 2.1") != NULL);
	EXPECT_INT(store_wwsf_allow(st, "grace@ims.example.org", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(waf_grant_check(st, &wwsf, "grace@ims.example.org", &why), ==, 0);
	EXPECT_INT(waf_grant_check(st, &shop, "grace@ims.example.org", &why), ==, WIMS_EDENIED);
	/* the pool owner needs no per-subscriber permission */
	EXPECT_INT(waf_grant_check(st, &shop, "pool1@ims.example.org", &why), ==, 0);
}

static void blocked_wwsf_refused_others_unaffected(void)
{
	struct waf_client wwsf = client("wwsf.ims.example.org");
	struct waf_client shop = client("webshop.example.net");
	const char *why = NULL;
	/* REQ 2.2 at the WAF */
	wwsf.blocked = true;
	EXPECT_INT(waf_grant_check(st, &wwsf, "grace@ims.example.org", &why), ==, WIMS_EDENIED);
	EXPECT_TRUE(strstr(why, "blocked") != NULL);
	wwsf.blocked = false;
	/* REQ 2.2 on the operator's HSS block list */
	EXPECT_INT(store_wwsf_block(st, "webshop.example.net", "breach", 1000), ==, 0);
	EXPECT_INT(waf_grant_check(st, &shop, "pool1@ims.example.org", &why), ==, WIMS_EDENIED);
	EXPECT_TRUE(strstr(why, "block list") != NULL);
	EXPECT_INT(waf_grant_check(st, &wwsf, "grace@ims.example.org", &why), ==, 0);
	EXPECT_INT(store_wwsf_unblock(st, "webshop.example.net"), ==, 0);
	EXPECT_INT(waf_grant_check(st, &shop, "pool1@ims.example.org", &why), ==, 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-waf-grant-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/hss.db", dir);
	if (store_open(path, &st, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	UNIT_RUN(setup);
	UNIT_RUN(confirmed_link_gives_only_its_impus);
	UNIT_RUN(unconfirmed_link_gives_nothing);
	UNIT_RUN(link_belongs_to_its_idp);
	UNIT_RUN(pool_only_for_its_owner);
	UNIT_RUN(subscriber_must_allow_the_wwsf);
	UNIT_RUN(blocked_wwsf_refused_others_unaffected);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_MAIN_END();
}
