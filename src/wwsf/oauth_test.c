/* oauth_test.c - the WWSF's OAuth client parts: PKCE (RFC 7636 Appendix B
 * vector), the pending-authorization table (single use, bound to the
 * cookie, expiry, the bound), the IMPI pool (assignment, exclusivity,
 * release, expiry, exhaustion), the form parser and builder (whole and
 * byte by byte), the WAF's token and error answers, and the session
 * table's kinds, grants and end callback. */
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "wwsf/oauth.h"
#include "wwsf/session.h"

static struct slice S(const char *s)
{
	return slice_from_cstr(s);
}

static void pkce_rfc7636_vector(void)
{
	char c[WWSF_PKCE_LEN + 1];
	EXPECT_INT(wwsf_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c), ==, 0);
	EXPECT_STR(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	char a[WWSF_PKCE_LEN + 1], b[WWSF_PKCE_LEN + 1];
	EXPECT_INT(wwsf_random_b64(a), ==, 0);
	EXPECT_INT(wwsf_random_b64(b), ==, 0);
	EXPECT_INT(strlen(a), ==, 43);
	EXPECT_TRUE(strcmp(a, b) != 0);
}

static void key_of(const char *cookie, uint8_t key[WWSF_KEY_LEN])
{
	wwsf_cookie_key(S(cookie), key);
}

static void pending_single_use_and_bound_to_cookie(void)
{
	struct wwsf_pending *p = wwsf_pending_new(8, 600);
	uint8_t k1[WWSF_KEY_LEN], k2[WWSF_KEY_LEN], sk[WWSF_KEY_LEN];
	key_of("cookie-one", k1);
	key_of("cookie-two", k2);
	memset(sk, 7, sizeof(sk));
	struct wwsf_pending_entry e, got;
	EXPECT_INT(wwsf_pending_put(p, k1, sk, 1000, &e), ==, 0);
	EXPECT_INT(strlen(e.state), ==, 43);
	EXPECT_INT(strlen(e.verifier), ==, 43);
	EXPECT_TRUE(strcmp(e.state, e.verifier) != 0);
	EXPECT_INT(wwsf_pending_take(p, k1, S(e.state), 1001, &got), ==, 0);
	EXPECT_STR(got.verifier, e.verifier);
	EXPECT_TRUE(got.has_session);
	EXPECT_INT(memcmp(got.session_key, sk, sizeof(sk)), ==, 0);
	/* reused */
	EXPECT_INT(wwsf_pending_take(p, k1, S(e.state), 1002, &got), ==, WIMS_ENOTFOUND);
	/* another browser's cookie (login CSRF): refused, and the state is gone */
	EXPECT_INT(wwsf_pending_put(p, k1, NULL, 1000, &e), ==, 0);
	EXPECT_INT(wwsf_pending_take(p, k2, S(e.state), 1001, &got), ==, WIMS_EDENIED);
	EXPECT_INT(wwsf_pending_take(p, k1, S(e.state), 1001, &got), ==, WIMS_ENOTFOUND);
	/* no cookie at all */
	EXPECT_INT(wwsf_pending_put(p, k1, NULL, 1000, &e), ==, 0);
	EXPECT_INT(wwsf_pending_take(p, NULL, S(e.state), 1001, &got), ==, WIMS_EDENIED);
	/* a wrong state, a short one, an empty one */
	EXPECT_INT(wwsf_pending_put(p, k1, NULL, 1000, &e), ==, 0);
	char wrong[WWSF_PKCE_LEN + 1];
	memcpy(wrong, e.state, sizeof(wrong));
	wrong[3] = wrong[3] == 'A' ? 'B' : 'A';
	EXPECT_INT(wwsf_pending_take(p, k1, S(wrong), 1001, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pending_take(p, k1, (struct slice){e.state, 42}, 1001, &got), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pending_take(p, k1, S(""), 1001, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pending_take(p, k1, S(e.state), 1001, &got), ==, 0);
	EXPECT_TRUE(!got.has_session);
	wwsf_pending_free(p);
}

static void pending_expires_and_is_bounded(void)
{
	struct wwsf_pending *p = wwsf_pending_new(4, 600);
	uint8_t k[WWSF_KEY_LEN];
	key_of("c", k);
	struct wwsf_pending_entry e[6], got;
	EXPECT_INT(wwsf_pending_put(p, k, NULL, 1000, &e[0]), ==, 0);
	EXPECT_INT(wwsf_pending_take(p, k, S(e[0].state), 1600, &got), ==, WIMS_ENOTFOUND);
	/* a flood: the oldest go, the newest stay */
	for (int i = 0; i < 6; i++)
		EXPECT_INT(wwsf_pending_put(p, k, NULL, 2000 + (uint64_t)i, &e[i]), ==, 0);
	EXPECT_INT(wwsf_pending_count(p, 2010), ==, 4);
	EXPECT_INT(wwsf_pending_take(p, k, S(e[0].state), 2010, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pending_take(p, k, S(e[1].state), 2010, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pending_take(p, k, S(e[5].state), 2010, &got), ==, 0);
	EXPECT_INT(wwsf_pending_take(p, k, S(e[2].state), 2010, &got), ==, 0);
	wwsf_pending_free(p);
}

static void pool_config(void)
{
	const char *why = NULL;
	struct wwsf_pool *p = wwsf_pool_new("", &why);
	EXPECT_TRUE(p != NULL);
	EXPECT_INT(wwsf_pool_size(p), ==, 0);
	wwsf_pool_free(p);
	p = wwsf_pool_new("pool1@ims.example.org, pool2@ims.example.org", &why);
	EXPECT_INT(wwsf_pool_size(p), ==, 2);
	wwsf_pool_free(p);
	EXPECT_TRUE(wwsf_pool_new("pool1@x, pool1@x", &why) == NULL);
	EXPECT_STR(why, "an IMPI is listed twice in the pool");
	EXPECT_TRUE(wwsf_pool_new("no-at-sign", &why) == NULL);
	EXPECT_TRUE(wwsf_pool_new("a\"b@x", &why) == NULL);
}

static void pool_assign_release_exhaust(void)
{
	const char *why = NULL;
	struct wwsf_pool *p = wwsf_pool_new("pool1@x, pool2@x", &why);
	uint8_t a[WWSF_KEY_LEN], b[WWSF_KEY_LEN], c[WWSF_KEY_LEN];
	key_of("a", a);
	key_of("b", b);
	key_of("c", c);
	char ia[WIMS_IMPI_MAX], ib[WIMS_IMPI_MAX], ic[WIMS_IMPI_MAX], again[WIMS_IMPI_MAX];
	EXPECT_INT(wwsf_pool_assign(p, a, 100, 1000, ia), ==, 0);
	EXPECT_INT(wwsf_pool_assign(p, b, 100, 1000, ib), ==, 0);
	/* two sessions never hold the same IMPI */
	EXPECT_TRUE(strcmp(ia, ib) != 0);
	/* asking again gives the same one */
	EXPECT_INT(wwsf_pool_assign(p, a, 101, 1000, again), ==, 0);
	EXPECT_STR(again, ia);
	EXPECT_INT(wwsf_pool_held(p, 101), ==, 2);
	/* exhausted */
	EXPECT_INT(wwsf_pool_assign(p, c, 102, 1000, ic), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(wwsf_pool_holds(p, a, ia, 102));
	EXPECT_TRUE(!wwsf_pool_holds(p, a, ib, 102));
	EXPECT_TRUE(!wwsf_pool_holds(p, c, ia, 102));
	/* released on session end: c gets a's */
	EXPECT_INT(wwsf_pool_release(p, a), ==, 0);
	EXPECT_INT(wwsf_pool_release(p, a), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(!wwsf_pool_holds(p, a, ia, 103));
	EXPECT_INT(wwsf_pool_assign(p, c, 103, 1000, ic), ==, 0);
	EXPECT_STR(ic, ia);
	/* release of a given IMPI only if held by that session */
	EXPECT_INT(wwsf_pool_release_impi(p, b, ic), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_pool_release_impi(p, b, ib), ==, 0);
	EXPECT_INT(wwsf_pool_held(p, 104), ==, 1);
	/* a hold ends at its time */
	EXPECT_INT(wwsf_pool_assign(p, a, 200, 300, ia), ==, 0);
	EXPECT_TRUE(wwsf_pool_holds(p, a, ia, 299));
	EXPECT_TRUE(!wwsf_pool_holds(p, a, ia, 300));
	EXPECT_INT(wwsf_pool_assign(p, b, 300, 1000, ib), ==, 0);
	EXPECT_STR(ib, ia);
	wwsf_pool_free(p);
}

static void pool_reuses_the_longest_free_last(void)
{
	const char *why = NULL;
	struct wwsf_pool *p = wwsf_pool_new("p1@x, p2@x, p3@x", &why);
	uint8_t a[WWSF_KEY_LEN], b[WWSF_KEY_LEN];
	key_of("a", a);
	key_of("b", b);
	char ia[WIMS_IMPI_MAX], ib[WIMS_IMPI_MAX];
	EXPECT_INT(wwsf_pool_assign(p, a, 10, 1000, ia), ==, 0);
	EXPECT_STR(ia, "p1@x");
	EXPECT_INT(wwsf_pool_release(p, a), ==, 0);
	/* p1's token may still live: p2 goes next */
	EXPECT_INT(wwsf_pool_assign(p, b, 11, 1000, ib), ==, 0);
	EXPECT_TRUE(strcmp(ib, "p1@x") != 0);
	wwsf_pool_free(p);
}

/* Whole and cut at every byte (a prefix is itself a form). */
static void form_get_values(void)
{
	char v[64];
	struct slice f = S("code=abc%2Fd+e&state=xyz&empty=&flag");
	EXPECT_INT(wwsf_form_get(f, "code", v, sizeof(v)), ==, 7);
	EXPECT_STR(v, "abc/d e");
	EXPECT_INT(wwsf_form_get(f, "state", v, sizeof(v)), ==, 3);
	EXPECT_STR(v, "xyz");
	EXPECT_INT(wwsf_form_get(f, "empty", v, sizeof(v)), ==, 0);
	EXPECT_INT(wwsf_form_get(f, "flag", v, sizeof(v)), ==, 0);
	EXPECT_INT(wwsf_form_get(f, "cod", v, sizeof(v)), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_form_get(S(""), "code", v, sizeof(v)), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_form_get(S("code=1&code=2"), "code", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_form_get(S("code=%4"), "code", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_form_get(S("code=%zz"), "code", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_form_get(S("code=a%00b"), "code", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_form_get(S("code=a%0d%0ab"), "code", v, sizeof(v)), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_form_get(S("code=0123456789"), "code", v, 5), ==, WIMS_ETOOBIG);
	for (size_t cut = 0; cut <= f.len; cut++) {
		char copy[64];
		memcpy(copy, f.p, cut);
		int rc = wwsf_form_get((struct slice){copy, cut}, "state", v, sizeof(v));
		EXPECT_TRUE(rc == WIMS_ENOTFOUND || rc >= 0);
		int rc2 = wwsf_form_get((struct slice){copy, cut}, "code", v, sizeof(v));
		EXPECT_TRUE(rc2 == WIMS_ENOTFOUND || rc2 == WIMS_EPARSE || rc2 >= 0);
	}
}

static void form_add_round_trip(void)
{
	char f[256] = "";
	EXPECT_INT(wwsf_form_add(f, sizeof(f), "client_id", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(wwsf_form_add(f, sizeof(f), "redirect_uri",
				 "https://127.0.0.1:8443/oauth/callback"), ==, 0);
	EXPECT_INT(wwsf_form_add(f, sizeof(f), "x", "a b&c=d"), ==, 0);
	EXPECT_STR(f, "client_id=wwsf.ims.example.org&redirect_uri=https%3A%2F%2F127.0.0.1%3A8443"
		      "%2Foauth%2Fcallback&x=a%20b%26c%3Dd");
	char v[128];
	EXPECT_INT(wwsf_form_get(S(f), "redirect_uri", v, sizeof(v)), >, 0);
	EXPECT_STR(v, "https://127.0.0.1:8443/oauth/callback");
	EXPECT_INT(wwsf_form_get(S(f), "x", v, sizeof(v)), >, 0);
	EXPECT_STR(v, "a b&c=d");
	char small[12] = "";
	EXPECT_INT(wwsf_form_add(small, sizeof(small), "abc", "defghijk"), ==, WIMS_ETOOBIG);
}

static void token_answer(void)
{
	struct wwsf_grant *g = malloc(sizeof(*g));
	const char *why = NULL;
	EXPECT_INT(wwsf_token_resp_parse(
			   S("{\"access_token\":\"eyJ.eyJ.sig-_\",\"token_type\":\"Bearer\","
			     "\"expires_in\":3600,\"scope\":\"s\",\"impu\":\"sip:bob@x\","
			     "\"impus\":[\"sip:bob@x\",\"tel:+15550000002\"],\"impi\":\"bob@x\"}"),
			   g, &why),
		   ==, 0);
	EXPECT_STR(g->access_token, "eyJ.eyJ.sig-_");
	EXPECT_STR(g->impi, "bob@x");
	EXPECT_STR(g->impu, "sip:bob@x");
	EXPECT_INT(g->nimpus, ==, 2);
	EXPECT_STR(g->impus[1], "tel:+15550000002");
	EXPECT_INT(g->expires_in, ==, 3600);
	/* impus missing: [impu] */
	EXPECT_INT(wwsf_token_resp_parse(S("{\"access_token\":\"t\",\"token_type\":\"bearer\","
					   "\"expires_in\":60,\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}"),
					 g, &why),
		   ==, 0);
	EXPECT_INT(g->nimpus, ==, 1);
	EXPECT_STR(g->impus[0], "sip:a@x");
	static const char *const bad[] = {
		"",
		"[]",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":60,\"impu\":\"sip:a@x\"}",
		"{\"access_token\":\"t t\",\"token_type\":\"Bearer\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"t\",\"token_type\":\"MAC\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":0,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":\"60\","
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\\r\\nX: y\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\",\"impus\":[1]}",
		"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\",\"impus\":[]}",
		"{\"access_token\":\"t\",\"access_token\":\"u\",\"token_type\":\"Bearer\","
		"\"expires_in\":60,\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
		"{\"access_token\":\"=t\",\"token_type\":\"Bearer\",\"expires_in\":60,"
		"\"impu\":\"sip:a@x\",\"impi\":\"a@x\"}",
	};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(bad); i++) {
		why = NULL;
		EXPECT_INT(wwsf_token_resp_parse(S(bad[i]), g, &why), ==, WIMS_EPARSE);
		EXPECT_TRUE(why != NULL);
	}
	free(g);
}

static void waf_error_answer(void)
{
	char d[32];
	wwsf_waf_error_parse(S("{\"error\":\"invalid_grant\",\"error_description\":\"code reused\"}"),
			     d, sizeof(d));
	EXPECT_STR(d, "code reused");
	wwsf_waf_error_parse(S("{\"error\":\"invalid_client\"}"), d, sizeof(d));
	EXPECT_STR(d, "invalid_client");
	wwsf_waf_error_parse(S("{\"error_description\":\"a\\u0001<b>\"}"), d, sizeof(d));
	EXPECT_STR(d, "a?<b>");
	wwsf_waf_error_parse(S("not json"), d, sizeof(d));
	EXPECT_STR(d, "");
	wwsf_waf_error_parse(S("{\"error_description\":\"0123456789012345678901234567890123456789\"}"),
			     d, sizeof(d));
	EXPECT_INT(strlen(d), ==, 31);
}

static void link_body(void)
{
	char impu[WIMS_IMPU_MAX];
	const char *why = NULL;
	EXPECT_INT(wwsf_link_req_parse(S("{\"impu\":\"sip:erin@ims.example.org\"}"), impu, &why),
		   ==, 0);
	EXPECT_STR(impu, "sip:erin@ims.example.org");
	EXPECT_INT(wwsf_link_req_parse(S("{\"impu\":\"tel:+15550000005\"}"), impu, &why), ==, 0);
	EXPECT_INT(wwsf_link_req_parse(S("{\"impu\":\"http://x\"}"), impu, &why), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_link_req_parse(S("{\"impu\":\"sip:a b\"}"), impu, &why), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_link_req_parse(S("{}"), impu, &why), ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_link_req_parse(S(""), impu, &why), ==, WIMS_EPARSE);
}

static int ended;
static uint8_t ended_key[WWSF_KEY_LEN];
static void on_end(void *arg, const uint8_t key[WWSF_KEY_LEN])
{
	(void)arg;
	ended++;
	memcpy(ended_key, key, WWSF_KEY_LEN);
}

static void session_kinds_grants_and_end(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 100);
	wwsf_sessions_on_end(s, on_end, NULL);
	char tok[WWSF_SESSION_TOKEN_LEN + 1], user[WEB_USER_MAX];
	struct wwsf_session_info info;
	EXPECT_INT(wwsf_session_create_kind(s, "guest", WWSF_SESSION_GUEST, 1000, tok), ==, 0);
	EXPECT_INT(wwsf_session_get(s, S(tok), 1001, &info), ==, 0);
	EXPECT_INT(info.kind, ==, WWSF_SESSION_GUEST);
	EXPECT_INT(info.expires, ==, 1100);
	uint8_t key[WWSF_KEY_LEN];
	EXPECT_INT(wwsf_session_key(S(tok), key), ==, 0);
	EXPECT_INT(memcmp(key, info.key, WWSF_KEY_LEN), ==, 0);
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 1001, user), ==, 0);
	/* a grant: kept, copied, replaced, freed with the session */
	struct wwsf_grant *g = calloc(1, sizeof(*g)), out;
	snprintf(g->access_token, sizeof(g->access_token), "tok1");
	g->via = "pool";
	EXPECT_INT(wwsf_session_grant_copy(s, key, 1001, &out), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_grant_set(s, key, 1001, g), ==, 0);
	EXPECT_INT(wwsf_session_grant_copy(s, key, 1001, &out), ==, 0);
	EXPECT_STR(out.access_token, "tok1");
	struct wwsf_grant *g2 = calloc(1, sizeof(*g2));
	snprintf(g2->access_token, sizeof(g2->access_token), "tok2");
	EXPECT_INT(wwsf_session_grant_set(s, key, 1001, g2), ==, 0);
	EXPECT_INT(wwsf_session_grant_copy(s, key, 1001, &out), ==, 0);
	EXPECT_STR(out.access_token, "tok2");
	/* sign-out: the end callback sees the key */
	EXPECT_INT(ended, ==, 0);
	EXPECT_INT(wwsf_session_delete(s, S(tok)), ==, 0);
	EXPECT_INT(ended, ==, 1);
	EXPECT_INT(memcmp(ended_key, key, WWSF_KEY_LEN), ==, 0);
	EXPECT_INT(wwsf_session_grant_copy(s, key, 1001, &out), ==, WIMS_ENOTFOUND);
	struct wwsf_grant *g3 = calloc(1, sizeof(*g3));
	EXPECT_INT(wwsf_session_grant_set(s, key, 1001, g3), ==, WIMS_ENOTFOUND);
	free(g3);
	/* expiry, found on use, ends it too (with its grant) */
	EXPECT_INT(wwsf_session_create_kind(s, "waf", WWSF_SESSION_OAUTH, 1000, tok), ==, 0);
	EXPECT_INT(wwsf_session_key(S(tok), key), ==, 0);
	EXPECT_INT(wwsf_session_grant_set(s, key, 1000, calloc(1, sizeof(*g))), ==, 0);
	EXPECT_INT(wwsf_session_get(s, S(tok), 1100, &info), ==, WIMS_ENOTFOUND);
	EXPECT_INT(ended, ==, 2);
	/* removing account "waf" does not end an OAUTH session labelled so */
	EXPECT_INT(wwsf_session_create_kind(s, "waf", WWSF_SESSION_OAUTH, 1000, tok), ==, 0);
	EXPECT_INT(wwsf_session_delete_user(s, "waf"), ==, 0);
	EXPECT_INT(wwsf_session_get(s, S(tok), 1001, &info), ==, 0);
	wwsf_sessions_free(s);
}

static void other_cookie_names(void)
{
	struct slice t;
	const char *c = "wims_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; "
			"wims_oauth=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA";
	EXPECT_INT(wwsf_cookie_token(c, "wims_oauth", &t), ==, 0);
	EXPECT_INT(t.len, ==, 43);
	EXPECT_INT(t.p[0], ==, 'B');
	EXPECT_INT(wwsf_session_cookie_token(c, &t), ==, 0);
	EXPECT_INT(t.p[0], ==, 'A');
	EXPECT_INT(wwsf_cookie_token("wims_oauth=short", "wims_oauth", &t), ==, WIMS_ENOTFOUND);
}

int main(void)
{
	UNIT_RUN(pkce_rfc7636_vector);
	UNIT_RUN(pending_single_use_and_bound_to_cookie);
	UNIT_RUN(pending_expires_and_is_bounded);
	UNIT_RUN(pool_config);
	UNIT_RUN(pool_assign_release_exhaust);
	UNIT_RUN(pool_reuses_the_longest_free_last);
	UNIT_RUN(form_get_values);
	UNIT_RUN(form_add_round_trip);
	UNIT_RUN(token_answer);
	UNIT_RUN(waf_error_answer);
	UNIT_RUN(link_body);
	UNIT_RUN(session_kinds_grants_and_end);
	UNIT_RUN(other_cookie_names);
	return UNIT_MAIN_END();
}
