/*
 * isim_api_test.c - the network ISIM API through wwsf_api_handle, with
 * real stores (accounts, ISIM) and real challenges from libosmogsm's
 * network side: sign-in and its limits, the cookie, CSRF by Origin, and
 * every refusal of /isim/aka (not signed in, not mapped, AKAv1, malformed,
 * too big, too many) beside its answers (password, auts, MAC failure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <osmocom/crypt/auth.h>

#include "auth/aka.h"
#include "auth/ratelimit.h"
#include "core/wims.h"
#include "isim/isim.h"
#include "unit.h"
#include "wwsf/isim_api.h"
#include "wwsf/wwsf_int.h"

#define ORIGIN "https://127.0.0.1:8443"
#define DOMAIN "ims.example.org"

static char dir[64];
static struct wwsf_api api;
static struct isim *isim;
static struct wwsf_api_response resp;
static uint64_t now = 1000;

static int call(enum wwsf_method m, const char *path, const char *origin, const char *cookie,
		const char *body)
{
	struct wwsf_api_request req;
	memset(&req, 0, sizeof(req));
	req.method = m;
	req.path = path;
	req.origin = origin;
	req.cookie = cookie;
	req.body = body ? slice_from_cstr(body) : (struct slice){NULL, 0};
	wwsf_api_response_clear(&resp);
	wwsf_api_handle(&api, isim, &req, now, &resp);
	return resp.code;
}

static int post(const char *path, const char *cookie, const char *body)
{
	return call(WWSF_POST, path, ORIGIN, cookie, body);
}

/* The string member key of the response body ("" if absent). */
static const char *member(const char *key)
{
	static char out[512];
	out[0] = '\0';
	json_t *o = resp.json ? json_loads(resp.json, 0, NULL) : NULL;
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (v && json_is_string(v))
		snprintf(out, sizeof(out), "%s", json_string_value(v));
	json_decref(o);
	return out;
}

/* Sign user in; cookie gets "wims_session=TOKEN". */
static int login(const char *user, const char *pw, char *cookie, size_t cookiesz)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
	int code = post("/login", NULL, body);
	if (code == 200 && cookie)
		snprintf(cookie, cookiesz, "%.*s", (int)strcspn(resp.set_cookie, ";"),
			 resp.set_cookie);
	return code;
}

/* The network side (libosmogsm) for one demo subscriber, and the
 * password it expects, computed with HMAC directly. */
struct vector {
	char nonce[AKA_NONCE_MAX];
	char password[64];
};

static int network_vector(const char *impi, uint64_t prev_sqn, bool bad_mac, struct vector *v)
{
	struct aka_keys keys;
	struct osmo_sub_auth_data aud;
	struct osmo_auth_vector vec;
	uint8_t rand[16];
	if (aka_demo_keys(impi, &keys))
		return -1;
	memset(&aud, 0, sizeof(aud));
	aud.type = OSMO_AUTH_TYPE_UMTS;
	aud.algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(aud.u.umts.k, keys.k, 16);
	memcpy(aud.u.umts.opc, keys.opc, 16);
	aud.u.umts.amf[0] = 0x80;
	aud.u.umts.sqn = prev_sqn;
	aud.u.umts.ind_bitlen = AKA_IND_BITS;
	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)(prev_sqn * 7 + (uint64_t)i);
	if (osmo_auth_gen_vec(&vec, &aud, rand) != 0)
		return -1;
	if (bad_mac)
		vec.autn[15] ^= 1;
	uint8_t ra[32], key[40], mac[32];
	unsigned int maclen = 0;
	memcpy(ra, vec.rand, 16);
	memcpy(ra + 16, vec.autn, 16);
	EVP_EncodeBlock((unsigned char *)v->nonce, ra, 32);
	memcpy(key, vec.res, 8);
	memcpy(key + 8, vec.ik, 16);
	memcpy(key + 24, vec.ck, 16);
	static const char label[] = "http-digest-akav2-password";
	if (vec.res_len != 8 || !HMAC(EVP_sha256(), key, 40, (const unsigned char *)label,
				      sizeof(label) - 1, mac, &maclen))
		return -1;
	EVP_EncodeBlock((unsigned char *)v->password, mac, 32);
	return 0;
}

static void aka_body(char *out, size_t outsz, const char *impi, const char *nonce,
		     const char *alg)
{
	snprintf(out, outsz, "{\"impi\":\"%s\",\"nonce\":\"%s\",\"algorithm\":\"%s\"}", impi,
		 nonce, alg);
}

/* --- tests --- */

static void login_gives_session_and_subscriptions(void)
{
	char cookie[128];
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_STR(resp.json, "{\"user\":\"erin\",\"subscriptions\":[{\"impi\":\"erin@" DOMAIN
			      "\",\"impu\":\"sip:erin@" DOMAIN "\",\"realm\":\"" DOMAIN "\"}]}");
	/* wims_session=<43 base64url>; Path=/; Secure; HttpOnly; SameSite=Strict */
	EXPECT_INT(strlen(cookie), ==, 13 + 43);
	EXPECT_STR(resp.set_cookie + strlen(cookie), "; Path=/; Secure; HttpOnly; SameSite=Strict");
	EXPECT_INT(call(WWSF_GET, "/session", NULL, cookie, NULL), ==, 200);
	EXPECT_STR(member("user"), "erin");
	EXPECT_INT(call(WWSF_GET, "/session", NULL, NULL, NULL), ==, 401);
	EXPECT_STR(member("error"), "not signed in");
	EXPECT_INT(call(WWSF_GET, "/session", NULL,
			"wims_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL),
		   ==, 401);
}

static void wrong_password_then_rate_limited(void)
{
	EXPECT_INT(login("frank", "nope", NULL, 0), ==, 401);
	EXPECT_STR(member("error"), "wrong user or password");
	EXPECT_INT(login("nobody", "nope", NULL, 0), ==, 401);
	EXPECT_STR(member("error"), "wrong user or password");
	EXPECT_TRUE(resp.set_cookie[0] == '\0');
	for (int i = 1; i < WWSF_LOGIN_FAILURES_PER_MIN; i++)
		EXPECT_INT(login("frank", "nope", NULL, 0), ==, 401);
	/* blocked now: even the right password waits out the minute */
	EXPECT_INT(login("frank", "frank-web", NULL, 0), ==, 429);
	/* others are not */
	EXPECT_INT(login("erin", "erin-web", NULL, 0), ==, 200);
	now += 61;
	EXPECT_INT(login("frank", "frank-web", NULL, 0), ==, 200);
}

static void csrf_needs_our_origin(void)
{
	static const char body[] = "{\"user\":\"erin\",\"password\":\"erin-web\"}";
	EXPECT_INT(call(WWSF_POST, "/login", NULL, NULL, body), ==, 403);
	EXPECT_STR(member("error"), "a request that changes state must carry an Origin header");
	EXPECT_INT(call(WWSF_POST, "/login", "https://evil.example", NULL, body), ==, 403);
	EXPECT_STR(member("error"), "origin https://evil.example is not allowed");
	EXPECT_INT(call(WWSF_POST, "/login", "null", NULL, body), ==, 403);
	EXPECT_INT(call(WWSF_POST, "/login", "https://127.0.0.1:8443.evil", NULL, body), ==, 403);
	EXPECT_INT(call(WWSF_POST, "/login", "https://LOCALHOST:8443", NULL, body), ==, 200);
	char cookie[128];
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(call(WWSF_POST, "/logout", "https://evil.example", cookie, NULL), ==, 403);
	EXPECT_INT(call(WWSF_GET, "/session", NULL, cookie, NULL), ==, 200);
	EXPECT_INT(call(WWSF_POST, "/isim/aka", "https://evil.example", cookie, "{}"), ==, 403);
}

static void methods_and_bodies(void)
{
	EXPECT_INT(call(WWSF_GET, "/login", NULL, NULL, NULL), ==, 405);
	EXPECT_STR(resp.allow, "POST");
	EXPECT_INT(call(WWSF_POST, "/session", ORIGIN, NULL, NULL), ==, 405);
	EXPECT_INT(call(WWSF_OTHER, "/isim/aka", ORIGIN, NULL, NULL), ==, 405);
	EXPECT_INT(post("/login", NULL, "{\"user\":\"erin\""), ==, 400);
	EXPECT_STR(member("error"), "malformed JSON");
	EXPECT_INT(post("/login", NULL, "[1]"), ==, 400);
	EXPECT_INT(post("/login", NULL, "{\"user\":\"erin\",\"password\":7}"), ==, 400);
	EXPECT_INT(post("/login", NULL, "{\"user\":\"erin\",\"user\":\"x\",\"password\":\"a\"}"),
		   ==, 400);
	EXPECT_INT(post("/login", NULL, ""), ==, 400);
	static char big[WWSF_API_MAX_BODY + 2];
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	EXPECT_INT(post("/login", NULL, big), ==, 413);
}

static void isim_needs_sign_in(void)
{
	struct vector v;
	char body[512];
	EXPECT_INT(network_vector("erin@" DOMAIN, 0, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", NULL, body), ==, 401);
	EXPECT_STR(member("error"), "not signed in");
}

static void isim_refuses_another_users_subscription(void)
{
	char cookie[128], body[512];
	struct vector v;
	EXPECT_INT(login("frank", "frank-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(network_vector("erin@" DOMAIN, 0, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 403);
	EXPECT_STR(member("error"), "subscription erin@" DOMAIN " is not mapped to user frank");
}

static void isim_answers_password_then_auts_then_mac_failure(void)
{
	char cookie[128], body[512];
	struct vector v;
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(network_vector("erin@" DOMAIN, 0, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 200);
	EXPECT_STR(member("password"), v.password);
	EXPECT_TRUE(strstr(resp.json, "auts") == NULL);
	/* the same challenge again: its SQN is used, the card asks to resync */
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 200);
	EXPECT_INT(strlen(member("auts")), ==, AKA_AUTS_B64_LEN);
	EXPECT_TRUE(strstr(resp.json, "password") == NULL);
	/* a fresher one is answered again */
	EXPECT_INT(network_vector("erin@" DOMAIN, 32, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "akav2-sha-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 200);
	EXPECT_STR(member("password"), v.password);
	/* a network that does not know K */
	EXPECT_INT(network_vector("erin@" DOMAIN, 64, true, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 409);
	EXPECT_STR(member("error"), "network authentication failed: AUTN MAC is wrong");
}

static void isim_refusals(void)
{
	char cookie[128], body[512];
	struct vector v;
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(network_vector("erin@" DOMAIN, 96, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv1-MD5");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 400);
	EXPECT_STR(member("error"),
		   "AKAv1-MD5 would hand RES to the page; only AKAv2-SHA-256 is served");
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "MD5");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 400);
	aka_body(body, sizeof(body), "erin@" DOMAIN, "not*base64", "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 400);
	aka_body(body, sizeof(body), "erin@" DOMAIN, "AAAA", "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 400);
	EXPECT_INT(post("/isim/aka", cookie, "{\"impi\":\"erin@" DOMAIN "\""), ==, 400);
	EXPECT_INT(post("/isim/aka", cookie, "{\"impi\":\"a b\",\"nonce\":\"x\",\"algorithm\":"
					      "\"AKAv2-SHA-256\"}"),
		   ==, 400);
	/* mapped, but the ISIM has no entry for it */
	EXPECT_INT(web_account_map(api.accounts, "erin", "ghost@" DOMAIN), ==, 0);
	aka_body(body, sizeof(body), "ghost@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 404);
	EXPECT_INT(web_account_unmap(api.accounts, "erin", "ghost@" DOMAIN), ==, 0);
}

static void isim_rate_limited_per_session(void)
{
	char cookie[128], other[128];
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(login("erin", "erin-web", other, sizeof(other)), ==, 200);
	for (int i = 0; i < WWSF_ISIM_REQUESTS_PER_MIN; i++)
		EXPECT_INT(post("/isim/aka", cookie, "{}"), ==, 400);
	EXPECT_INT(post("/isim/aka", cookie, "{}"), ==, 429);
	EXPECT_INT(post("/isim/aka", other, "{}"), ==, 400);
	now += 60;
	EXPECT_INT(post("/isim/aka", cookie, "{}"), ==, 400);
}

static void logout_ends_the_session(void)
{
	char cookie[128], body[512];
	struct vector v;
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(post("/logout", cookie, NULL), ==, 204);
	EXPECT_TRUE(strstr(resp.set_cookie, "Max-Age=0") != NULL);
	EXPECT_INT(call(WWSF_GET, "/session", NULL, cookie, NULL), ==, 401);
	EXPECT_INT(network_vector("erin@" DOMAIN, 128, false, &v), ==, 0);
	aka_body(body, sizeof(body), "erin@" DOMAIN, v.nonce, "AKAv2-SHA-256");
	EXPECT_INT(post("/isim/aka", cookie, body), ==, 401);
	/* logging out without a session is fine */
	EXPECT_INT(post("/logout", NULL, NULL), ==, 204);
}

static void sessions_expire_and_end_with_the_account(void)
{
	char cookie[128];
	EXPECT_INT(login("erin", "erin-web", cookie, sizeof(cookie)), ==, 200);
	now += 3600;
	EXPECT_INT(call(WWSF_GET, "/session", NULL, cookie, NULL), ==, 401);
	EXPECT_INT(login("frank", "frank-web", cookie, sizeof(cookie)), ==, 200);
	EXPECT_INT(web_account_remove(api.accounts, "frank"), ==, 0);
	EXPECT_INT(call(WWSF_GET, "/session", NULL, cookie, NULL), ==, 401);
}

static void a_new_login_replaces_the_old_session(void)
{
	char first[128], second[128];
	EXPECT_INT(login("erin", "erin-web", first, sizeof(first)), ==, 200);
	EXPECT_INT(post("/login", first, "{\"user\":\"erin\",\"password\":\"erin-web\"}"), ==, 200);
	snprintf(second, sizeof(second), "%.*s", (int)strcspn(resp.set_cookie, ";"),
		 resp.set_cookie);
	EXPECT_TRUE(strcmp(first, second) != 0);
	EXPECT_INT(call(WWSF_GET, "/session", NULL, first, NULL), ==, 401);
	EXPECT_INT(call(WWSF_GET, "/session", NULL, second, NULL), ==, 200);
}

static void parsers_alone(void)
{
	struct wwsf_login_req lr;
	struct wwsf_aka_req ar;
	const char *reason = NULL;
	EXPECT_INT(wwsf_login_parse(slice_from_cstr("{\"user\":\"a b\",\"password\":\"x\"}"), &lr,
				    &reason),
		   ==, 0);
	EXPECT_STR(lr.user, "");
	EXPECT_INT(wwsf_login_parse(slice_from_cstr("{\"user\":\"a\",\"password\":\"x\\u0000y\"}"),
				    &lr, &reason),
		   ==, WIMS_EPARSE);
	EXPECT_INT(wwsf_aka_req_parse(slice_from_cstr("{\"impi\":\"a@b\",\"nonce\":\"n\","
						      "\"algorithm\":\"SHA-256\"}"),
				      &ar, &reason),
		   ==, WIMS_EUNSUPPORTED);
	EXPECT_INT(wwsf_aka_req_parse(slice_from_cstr("{\"impi\":\"a@b\",\"nonce\":\"n\","
						      "\"algorithm\":\"AKAv1-MD5\"}"),
				      &ar, &reason),
		   ==, 0);
	EXPECT_INT(ar.version, ==, AKA_V1_MD5);
	EXPECT_TRUE(wwsf_origin_allowed(ORIGIN ", https://x", "https://x"));
	EXPECT_TRUE(!wwsf_origin_allowed(ORIGIN ", https://x", "https://x:1"));
	EXPECT_TRUE(!wwsf_origin_allowed(ORIGIN, ""));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-wwsf-api-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/wwsf.db", dir);
	api.accounts = web_accounts_open(path, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/wwsf-isim.db", dir);
	isim = isim_open(path, err, sizeof(err));
	if (!api.accounts || !isim) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	if (wwsf_seed_demo(api.accounts, isim, DOMAIN)) {
		fprintf(stderr, "demo accounts\n");
		return 1;
	}
	api.sessions = wwsf_sessions_new(0, 3600);
	api.login_limit = ratelimit_new(0, WWSF_LOGIN_FAILURES_PER_MIN, 60);
	api.allowed_origins = ORIGIN ", https://localhost:8443";
	api.domain = DOMAIN;

	UNIT_RUN(login_gives_session_and_subscriptions);
	UNIT_RUN(wrong_password_then_rate_limited);
	UNIT_RUN(csrf_needs_our_origin);
	UNIT_RUN(methods_and_bodies);
	UNIT_RUN(isim_needs_sign_in);
	UNIT_RUN(isim_refuses_another_users_subscription);
	UNIT_RUN(isim_answers_password_then_auts_then_mac_failure);
	UNIT_RUN(isim_refusals);
	UNIT_RUN(isim_rate_limited_per_session);
	UNIT_RUN(logout_ends_the_session);
	UNIT_RUN(a_new_login_replaces_the_old_session);
	UNIT_RUN(sessions_expire_and_end_with_the_account);
	UNIT_RUN(parsers_alone);

	wwsf_api_response_clear(&resp);
	wwsf_sessions_free(api.sessions);
	ratelimit_free(api.login_limit);
	web_accounts_close(api.accounts);
	isim_close(isim);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_MAIN_END();
}
