/* session_test.c - the WWSF session table: tokens, expiry, sign-out,
 * the bound, the per-session ISIM rate and the Cookie header parser. */
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "wwsf/session.h"

static struct slice S(const char *s)
{
	return slice_from_cstr(s);
}

static void create_lookup_delete(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 100);
	char tok[WWSF_SESSION_TOKEN_LEN + 1], tok2[WWSF_SESSION_TOKEN_LEN + 1];
	char user[WEB_USER_MAX];
	EXPECT_TRUE(s != NULL);
	EXPECT_INT(wwsf_session_create(s, "erin", 1000, tok), ==, 0);
	EXPECT_INT(strlen(tok), ==, 43);
	EXPECT_INT(wwsf_session_create(s, "erin", 1000, tok2), ==, 0);
	EXPECT_TRUE(strcmp(tok, tok2) != 0);
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 1001, user), ==, 0);
	EXPECT_STR(user, "erin");
	EXPECT_INT(wwsf_session_count(s, 1001), ==, 2);
	EXPECT_INT(wwsf_session_delete(s, S(tok)), ==, 0);
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 1001, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_delete(s, S(tok)), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_lookup(s, S(tok2), 1001, user), ==, 0);
	EXPECT_INT(wwsf_session_create(s, "bad name", 1000, tok), ==, WIMS_EINVAL);
	wwsf_sessions_free(s);
}

static void forged_tokens_refused(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 100);
	char tok[WWSF_SESSION_TOKEN_LEN + 1], user[WEB_USER_MAX];
	EXPECT_INT(wwsf_session_create(s, "erin", 1000, tok), ==, 0);
	char forged[WWSF_SESSION_TOKEN_LEN + 1];
	memcpy(forged, tok, sizeof(forged));
	forged[5] = forged[5] == 'A' ? 'B' : 'A';
	EXPECT_INT(wwsf_session_lookup(s, S(forged), 1001, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_lookup(s, S(""), 1001, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_lookup(s, ((struct slice){tok, 42}), 1001, user), ==,
		   WIMS_ENOTFOUND);
	wwsf_sessions_free(s);
}

static void sessions_expire(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 100);
	char tok[WWSF_SESSION_TOKEN_LEN + 1], user[WEB_USER_MAX];
	EXPECT_INT(wwsf_session_create(s, "erin", 1000, tok), ==, 0);
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 1099, user), ==, 0);
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 1100, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_count(s, 1100), ==, 0);
	wwsf_sessions_free(s);
}

static void table_is_bounded(void)
{
	/* 16 shards of 1: the 17th+ sign-ins push out the oldest */
	struct wwsf_sessions *s = wwsf_sessions_new(16, 1000);
	char first[WWSF_SESSION_TOKEN_LEN + 1], tok[WWSF_SESSION_TOKEN_LEN + 1];
	char user[WEB_USER_MAX];
	EXPECT_INT(wwsf_session_create(s, "erin", 1, first), ==, 0);
	for (int i = 0; i < 2000; i++)
		EXPECT_INT(wwsf_session_create(s, "frank", 2 + (uint64_t)i, tok), ==, 0);
	EXPECT_INT(wwsf_session_count(s, 3000), <=, 16);
	EXPECT_INT(wwsf_session_lookup(s, S(first), 3000, user), ==, WIMS_ENOTFOUND);
	/* the newest is there */
	EXPECT_INT(wwsf_session_lookup(s, S(tok), 2001, user), ==, 0);
	EXPECT_STR(user, "frank");
	wwsf_sessions_free(s);
}

static void delete_user_ends_all_of_them(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 100);
	char a[WWSF_SESSION_TOKEN_LEN + 1], b[WWSF_SESSION_TOKEN_LEN + 1];
	char c[WWSF_SESSION_TOKEN_LEN + 1], user[WEB_USER_MAX];
	EXPECT_INT(wwsf_session_create(s, "erin", 1, a), ==, 0);
	EXPECT_INT(wwsf_session_create(s, "erin", 1, b), ==, 0);
	EXPECT_INT(wwsf_session_create(s, "frank", 1, c), ==, 0);
	EXPECT_INT(wwsf_session_delete_user(s, "erin"), ==, 2);
	EXPECT_INT(wwsf_session_lookup(s, S(a), 2, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_lookup(s, S(b), 2, user), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_lookup(s, S(c), 2, user), ==, 0);
	wwsf_sessions_free(s);
}

static void isim_rate_per_session(void)
{
	struct wwsf_sessions *s = wwsf_sessions_new(64, 1000);
	char a[WWSF_SESSION_TOKEN_LEN + 1], b[WWSF_SESSION_TOKEN_LEN + 1];
	EXPECT_INT(wwsf_session_create(s, "erin", 100, a), ==, 0);
	EXPECT_INT(wwsf_session_create(s, "erin", 100, b), ==, 0);
	for (int i = 0; i < 3; i++)
		EXPECT_INT(wwsf_session_isim_allow(s, S(a), 100, 3), ==, 0);
	EXPECT_INT(wwsf_session_isim_allow(s, S(a), 159, 3), ==, WIMS_EDENIED);
	/* another session is counted apart */
	EXPECT_INT(wwsf_session_isim_allow(s, S(b), 159, 3), ==, 0);
	/* the next minute starts afresh */
	EXPECT_INT(wwsf_session_isim_allow(s, S(a), 160, 3), ==, 0);
	EXPECT_INT(wwsf_session_isim_allow(s, S("nope"), 160, 3), ==, WIMS_ENOTFOUND);
	wwsf_sessions_free(s);
}

static void cookie_header(void)
{
	static const char tok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPR";
	char h[256];
	struct slice t;
	EXPECT_INT(wwsf_session_cookie_token(NULL, &t), ==, WIMS_ENOTFOUND);
	snprintf(h, sizeof(h), "wims_session=%s", tok);
	/* last character 'R' has a spare bit set: not a canonical token */
	EXPECT_INT(wwsf_session_cookie_token(h, &t), ==, WIMS_ENOTFOUND);
	static const char good[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA";
	snprintf(h, sizeof(h), "a=b; wims_session=%s; c=d", good);
	EXPECT_INT(wwsf_session_cookie_token(h, &t), ==, 0);
	EXPECT_SLICE(t, good);
	snprintf(h, sizeof(h), "wims_session=\"%s\"", good);
	EXPECT_INT(wwsf_session_cookie_token(h, &t), ==, 0);
	EXPECT_SLICE(t, good);
	snprintf(h, sizeof(h), "xwims_session=%s", good);
	EXPECT_INT(wwsf_session_cookie_token(h, &t), ==, WIMS_ENOTFOUND);
	snprintf(h, sizeof(h), "wims_session=%sA", good);
	EXPECT_INT(wwsf_session_cookie_token(h, &t), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_cookie_token("wims_session=", &t), ==, WIMS_ENOTFOUND);
	EXPECT_INT(wwsf_session_cookie_token(";;; ;", &t), ==, WIMS_ENOTFOUND);
}

int main(void)
{
	UNIT_RUN(create_lookup_delete);
	UNIT_RUN(forged_tokens_refused);
	UNIT_RUN(sessions_expire);
	UNIT_RUN(table_is_bounded);
	UNIT_RUN(delete_user_ends_all_of_them);
	UNIT_RUN(isim_rate_per_session);
	UNIT_RUN(cookie_header);
	return UNIT_MAIN_END();
}
