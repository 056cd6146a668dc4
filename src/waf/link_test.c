/* link_test.c - identity linking (REQ 2.5, Annex C M2) through real HTTP
 * on loopback: evhttp with waf_link_attach, a SQLite HSS store, and the
 * stand-in S-CSCF of test_cscf.h that receives the SIP MESSAGE with the
 * code.  Shown: the code reaches only the MESSAGE (never the HTTP answer),
 * an unconfirmed link is not a link, the right code confirms once, wrong /
 * expired / reused codes are refused, guessing is cut off at 429, CSRF on
 * both forms, the WWSF (mTLS) path grants the WWSF, unregistered IMPU 409,
 * unknown IMPU 404, no S-CSCF 502, flooding a subscriber 429. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/http.h"
#include "core/wims.h"
#include "store/store.h"
#include "unit.h"
#include "waf/link.h"
#include "waf/link_int.h"
#include "waf/test_cscf.h"

static struct event_base *base;
static struct evhttp *http;
static int http_port;
static struct fake_cscf cscf;
static struct store *st;
static struct waf_link *link_;
static struct waf_link_env env;
static char dir[64], db[128];
static int64_t now_val = 1700000000;

static int64_t fake_now(void)
{
	return now_val;
}

/* A new rate-limit window (and every earlier code expired). */
static void later(void)
{
	now_val += 3600;
}

static int test_session_user(struct evhttp_request *req, char *name, size_t namesz, void *arg)
{
	(void)arg;
	const char *u = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test-User");
	if (!u)
		return WIMS_ENOTFOUND;
	snprintf(name, namesz, "%s", u);
	return 0;
}

static int test_mtls_client(struct evhttp_request *req, char *id, size_t idsz, void *arg)
{
	(void)arg;
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test-Client");
	if (!c)
		return WIMS_ENOTFOUND;
	if (strcmp(c, "blocked.example.net") == 0)
		return WIMS_EDENIED;
	snprintf(id, idsz, "%s", c);
	return 0;
}

static void test_send_page(struct evhttp_request *req, int code, const char *title,
			   const char *body_html, void *arg)
{
	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/html; charset=utf-8");
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<h1>%s</h1>\n%s", title, body_html);
	evhttp_send_reply(req, code, NULL, b);
	evbuffer_free(b);
}

/* --- a small HTTP client on the same loop --- */

struct answer {
	int code;
	char body[8192];
};

static void answer_cb(struct evhttp_request *req, void *arg)
{
	struct answer *a = arg;
	a->code = req ? evhttp_request_get_response_code(req) : -1;
	a->body[0] = '\0';
	if (req) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		if (n >= sizeof(a->body))
			n = sizeof(a->body) - 1;
		evbuffer_remove(in, a->body, n);
		a->body[n] = '\0';
	}
	event_base_loopbreak(base);
}

/* hdrs: "Name: value\n" lines. */
static struct answer request(enum evhttp_cmd_type cmd, const char *path, const char *hdrs,
			     const char *body)
{
	struct answer a = {.code = 0};
	struct evhttp_connection *c = evhttp_connection_base_new(base, NULL, "127.0.0.1",
								  (ev_uint16_t)http_port);
	struct evhttp_request *req = evhttp_request_new(answer_cb, &a);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "127.0.0.1");
	char line[512];
	for (const char *p = hdrs; p && *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			evhttp_add_header(h, line, colon + 2);
		}
		p += n + (p[n] == '\n');
	}
	if (body) {
		evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	evhttp_make_request(c, req, cmd, path);
	struct timeval tv = {15, 0};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	evhttp_connection_free(c);
	return a;
}

static struct answer post(const char *path, const char *hdrs, const char *body)
{
	return request(EVHTTP_REQ_POST, path, hdrs, body);
}

/* POST /link as the signed-in WAF account user, with its CSRF token. */
static struct answer link_as(const char *user, const char *impu)
{
	char tok[LINK_CSRF_LEN + 1], hdrs[256], body[512];
	waf_link_csrf_token(user, tok);
	snprintf(hdrs, sizeof(hdrs), "X-Test-User: %s\nOrigin: https://127.0.0.1:9443\n", user);
	snprintf(body, sizeof(body), "impu=%s&csrf=%s", impu, tok);
	return post("/link", hdrs, body);
}

static struct answer confirm(const char *code)
{
	char body[128];
	snprintf(body, sizeof(body), "code=%s", code);
	return post("/link/confirm", "Origin: https://127.0.0.1:9443\nSec-Fetch-Site: same-origin\n",
		    body);
}

/* The code in the last MESSAGE the stand-in S-CSCF got. */
static int last_code(char out[LINK_CODE_DIGITS + 1])
{
	const char *p = strstr(cscf.last_body, " is ");
	if (!p || strlen(p) < 4 + LINK_CODE_DIGITS)
		return -1;
	return waf_link_code_normalize((struct slice){p + 4, LINK_CODE_DIGITS}, out);
}

/* A code that is not code: code + delta, mod 10^8. */
static void other_code(const char *code, unsigned delta, char out[LINK_CODE_DIGITS + 1])
{
	unsigned v = (unsigned)strtoul(code, NULL, 10);
	snprintf(out, LINK_CODE_DIGITS + 1, "%08u", (v + delta) % 100000000u);
}

struct count {
	int n;
	char grant[WIMS_WWSF_ID_MAX];
};

static int count_cb(void *arg, const struct store_link *l)
{
	struct count *c = arg;
	c->n++;
	snprintf(c->grant, sizeof(c->grant), "%s", l->wwsf_grant);
	return 0;
}

static int confirmed_links(const char *web_id, const char *idp)
{
	struct count c = {0};
	store_links_confirmed(st, web_id, idp, count_cb, &c);
	return c.n;
}

/* --- tests --- */

static void code_is_eight_uniform_digits(void)
{
	char code[LINK_CODE_DIGITS + 1], norm[LINK_CODE_DIGITS + 1];
	unsigned first_digit[10] = {0};
	for (int i = 0; i < 2000; i++) {
		EXPECT_INT(waf_link_code_new(code), ==, 0);
		EXPECT_INT(strlen(code), ==, LINK_CODE_DIGITS);
		EXPECT_INT(waf_link_code_normalize(slice_from_cstr(code), norm), ==, 0);
		first_digit[code[0] - '0']++;
	}
	for (int d = 0; d < 10; d++) /* 200 expected each; a stuck digit would show */
		EXPECT_TRUE(first_digit[d] > 100 && first_digit[d] < 320);
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT("1234 5678"), norm), ==, 0);
	EXPECT_STR(norm, "12345678");
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT("1234-5678"), norm), ==, 0);
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT("1234567"), norm), ==, WIMS_EPARSE);
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT("123456789"), norm), ==, WIMS_EPARSE);
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT("12a45678"), norm), ==, WIMS_EPARSE);
	EXPECT_INT(waf_link_code_normalize(SLICE_LIT(""), norm), ==, WIMS_EPARSE);
	uint8_t h1[32], h2[32];
	waf_link_code_hash("12345678", h1);
	waf_link_code_hash("12345679", h2);
	EXPECT_TRUE(memcmp(h1, h2, 32) != 0);
}

static void checks_without_io(void)
{
	const char *why;
	EXPECT_INT(waf_link_impu_check("sip:bob@ims.example.org", "ims.example.org", &why), ==, 0);
	EXPECT_INT(waf_link_impu_check("sip:bob@IMS.example.org", "ims.example.org", &why), ==, 0);
	EXPECT_INT(waf_link_impu_check("tel:+15550000002", "ims.example.org", &why), ==, 0);
	EXPECT_INT(waf_link_impu_check("sip:bob@evil.example.com", "ims.example.org", &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("sip:ims.example.org", "ims.example.org", &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("sip:bob@ims.example.org;x=1", "ims.example.org", &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("sip:bob@ims.example.org:5060", "ims.example.org", &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("tel:5550000002", "ims.example.org", &why), ==, WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("sip:bob@ims.example.org>x", "ims.example.org", &why), ==,
		   WIMS_EPARSE);
	EXPECT_INT(waf_link_impu_check("", "ims.example.org", &why), ==, WIMS_EPARSE);
	EXPECT_TRUE(why != NULL);

	char o[64];
	EXPECT_INT(waf_link_origin_of("https://127.0.0.1:9443", o, sizeof(o)), ==, 0);
	EXPECT_STR(o, "https://127.0.0.1:9443");
	EXPECT_INT(waf_link_origin_of("HTTPS://WAF.Example.org/base/", o, sizeof(o)), ==, 0);
	EXPECT_STR(o, "https://waf.example.org");
	EXPECT_INT(waf_link_origin_of("waf.example.org", o, sizeof(o)), ==, WIMS_EPARSE);
	/* found by fuzz/waf_link: a scheme with '?' was taken */
	EXPECT_INT(waf_link_origin_of("http?s://127.0.0.1:944", o, sizeof(o)), ==, WIMS_EPARSE);
	EXPECT_INT(waf_link_origin_of("https://evil@127.0.0.1", o, sizeof(o)), ==, WIMS_EPARSE);

	const char *own = "https://127.0.0.1:9443";
	EXPECT_TRUE(waf_link_same_origin(NULL, NULL, own));
	EXPECT_TRUE(waf_link_same_origin("https://127.0.0.1:9443", "same-origin", own));
	EXPECT_TRUE(!waf_link_same_origin("https://evil.example", NULL, own));
	EXPECT_TRUE(!waf_link_same_origin("null", NULL, own));
	/* a form on our no-referrer page: Origin null, Sec-Fetch-Site tells */
	EXPECT_TRUE(waf_link_same_origin("null", "same-origin", own));
	EXPECT_TRUE(!waf_link_same_origin("null", "cross-site", own));
	EXPECT_TRUE(!waf_link_same_origin("https://evil.example", "same-origin", own));
	EXPECT_TRUE(!waf_link_same_origin(NULL, "cross-site", own));
	EXPECT_TRUE(!waf_link_same_origin(NULL, "same-site", own));

	char t1[LINK_CSRF_LEN + 1], t2[LINK_CSRF_LEN + 1];
	EXPECT_INT(waf_link_csrf_token("bob", t1), ==, 0);
	EXPECT_INT(waf_link_csrf_token("grace", t2), ==, 0);
	EXPECT_INT(strlen(t1), ==, LINK_CSRF_LEN);
	EXPECT_TRUE(strcmp(t1, t2) != 0);
	EXPECT_TRUE(waf_link_csrf_ok("bob", slice_from_cstr(t1)));
	EXPECT_TRUE(!waf_link_csrf_ok("grace", slice_from_cstr(t1)));
	EXPECT_TRUE(!waf_link_csrf_ok("bob", (struct slice){t1, LINK_CSRF_LEN - 1}));

	struct buf b = BUF_INIT;
	waf_link_html_escape(&b, "<a href=\"x\">'&'</a>");
	EXPECT_STR(buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	buf_free(&b);
}

static void link_page_needs_a_session(void)
{
	struct answer a = request(EVHTTP_REQ_GET, "/link", NULL, NULL);
	EXPECT_INT(a.code, ==, 401);
	a = request(EVHTTP_REQ_GET, "/link", "Accept: text/html\n", NULL);
	EXPECT_INT(a.code, ==, 303); /* a browser goes to the sign-in */
	a = request(EVHTTP_REQ_GET, "/link", "X-Test-User: bob\n", NULL);
	EXPECT_INT(a.code, ==, 200);
	char tok[LINK_CSRF_LEN + 1];
	waf_link_csrf_token("bob", tok);
	EXPECT_TRUE(strstr(a.body, tok) != NULL);
	EXPECT_TRUE(strstr(a.body, "name=\"impu\"") != NULL);
	EXPECT_TRUE(strstr(a.body, "action=\"/link\"") != NULL);
	a = request(EVHTTP_REQ_GET, "/link/confirm", NULL, NULL);
	EXPECT_INT(a.code, ==, 200);
	EXPECT_TRUE(strstr(a.body, "name=\"code\"") != NULL);
	a = request(EVHTTP_REQ_PUT, "/link", NULL, NULL);
	EXPECT_INT(a.code, ==, 405);
}

static void code_links_once_and_unconfirmed_is_no_link(void)
{
	later();
	cscf.mode = FAKE_ANSWER;
	cscf.status = 200;
	struct answer a = link_as("bob", "sip:bob@ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	EXPECT_TRUE(strstr(a.body, "\"status\":\"pending\"") != NULL);
	EXPECT_TRUE(strstr(a.body, "\"confirm_url\":\"https://127.0.0.1:9443/link/confirm\"") !=
		    NULL);
	char code[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code), ==, 0);
	EXPECT_TRUE(strstr(a.body, code) == NULL); /* the code only in the MESSAGE */
	char want[512];
	snprintf(want, sizeof(want),
		 "wims: your code to link bob (waf) to sip:bob@ims.example.org is %s. Enter it at "
		 "https://127.0.0.1:9443/link/confirm within 10 minutes. If you did not ask for "
		 "this, ignore it.",
		 code);
	EXPECT_STR(cscf.last_body, want);
	EXPECT_TRUE(strstr(cscf.last, "\r\nContent-Type: text/plain;charset=UTF-8\r\n") != NULL);
	EXPECT_TRUE(strstr(cscf.last, "\r\nP-Asserted-Identity: <sip:waf@ims.example.org>\r\n"));

	/* REQ 2.5: pending is not linked */
	EXPECT_INT(confirmed_links("bob", "waf"), ==, 0);

	char wrong[LINK_CODE_DIGITS + 1];
	other_code(code, 1, wrong);
	a = confirm(wrong);
	EXPECT_INT(a.code, ==, 400);
	EXPECT_TRUE(strstr(a.body, "code not valid") != NULL);
	EXPECT_INT(confirmed_links("bob", "waf"), ==, 0);

	a = confirm(code);
	EXPECT_INT(a.code, ==, 200);
	EXPECT_TRUE(strstr(a.body, "<b>bob</b> (operator account)") != NULL);
	EXPECT_TRUE(strstr(a.body, "<b>sip:bob@ims.example.org</b>") != NULL);
	EXPECT_TRUE(strstr(a.body, "No web service was granted") != NULL);
	EXPECT_INT(confirmed_links("bob", "waf"), ==, 1);

	a = confirm(code); /* reused */
	EXPECT_INT(a.code, ==, 400);
	EXPECT_TRUE(strstr(a.body, "code not valid") != NULL);

	a = link_as("bob", "sip:bob@ims.example.org"); /* already linked */
	EXPECT_INT(a.code, ==, 409);
	EXPECT_TRUE(strstr(a.body, "already linked") != NULL);

	/* the page lists the link now */
	a = request(EVHTTP_REQ_GET, "/link", "X-Test-User: bob\n", NULL);
	EXPECT_TRUE(strstr(a.body, "<b>sip:bob@ims.example.org</b>") != NULL);
}

static void expired_code_refused(void)
{
	later();
	struct answer a = link_as("bob", "tel:%2B15550000002");
	EXPECT_INT(a.code, ==, 202);
	char code[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code), ==, 0);
	now_val += 600; /* code_expires > now fails at exactly the lifetime */
	a = confirm(code);
	EXPECT_INT(a.code, ==, 400);
	EXPECT_TRUE(strstr(a.body, "code not valid") != NULL);
	EXPECT_INT(confirmed_links("bob", "waf"), ==, 1); /* only the sip: one from before */

	/* a new request voids nothing it should not: a fresh code works */
	later();
	a = link_as("bob", "tel:%2B15550000002");
	EXPECT_INT(a.code, ==, 202);
	char code2[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code2), ==, 0);
	now_val += 599;
	a = confirm(code2);
	EXPECT_INT(a.code, ==, 200);
	EXPECT_INT(confirmed_links("bob", "waf"), ==, 2);
}

static void a_new_code_voids_the_old(void)
{
	later();
	struct answer a = link_as("carol", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	char old[LINK_CODE_DIGITS + 1], cur[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(old), ==, 0);
	a = link_as("carol", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	EXPECT_INT(last_code(cur), ==, 0);
	if (strcmp(old, cur) != 0) {
		a = confirm(old);
		EXPECT_INT(a.code, ==, 400);
	}
	a = confirm(cur);
	EXPECT_INT(a.code, ==, 200);
}

static void guessing_cut_off_at_429(void)
{
	later();
	struct answer a = link_as("alice", "sip:alice@ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	char code[LINK_CODE_DIGITS + 1], wrong[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code), ==, 0);
	other_code(code, 7, wrong);
	for (int i = 0; i < LINK_CONFIRM_FAILURES; i++) {
		a = confirm(i == 2 ? "not-a-code" : wrong);
		EXPECT_INT(a.code, ==, 400);
	}
	a = confirm(code); /* even the right code: the address is blocked */
	EXPECT_INT(a.code, ==, 429);
	EXPECT_INT(confirmed_links("alice", "waf"), ==, 0);
	now_val += LINK_CONFIRM_WINDOW_S - 1;
	a = confirm(code);
	EXPECT_INT(a.code, ==, 429);
	now_val += 1; /* the window is over; the code (600 s) has just expired too */
	a = confirm(code);
	EXPECT_INT(a.code, ==, 400);
}

static void csrf_and_cross_site_refused(void)
{
	later();
	char tok[LINK_CSRF_LEN + 1], other[LINK_CSRF_LEN + 1], body[256];
	waf_link_csrf_token("dave", tok);
	waf_link_csrf_token("mallory", other);
	unsigned before = cscf.requests;

	/* no session */
	snprintf(body, sizeof(body), "impu=sip:alice@ims.example.org&csrf=%s", tok);
	struct answer a = post("/link", "Origin: https://127.0.0.1:9443\n", body);
	EXPECT_INT(a.code, ==, 401);
	/* no token, another user's token */
	a = post("/link", "X-Test-User: dave\nOrigin: https://127.0.0.1:9443\n",
		 "impu=sip:alice@ims.example.org");
	EXPECT_INT(a.code, ==, 403);
	snprintf(body, sizeof(body), "impu=sip:alice@ims.example.org&csrf=%s", other);
	a = post("/link", "X-Test-User: dave\nOrigin: https://127.0.0.1:9443\n", body);
	EXPECT_INT(a.code, ==, 403);
	/* right token from another site */
	snprintf(body, sizeof(body), "impu=sip:alice@ims.example.org&csrf=%s", tok);
	a = post("/link", "X-Test-User: dave\nOrigin: https://evil.example\n", body);
	EXPECT_INT(a.code, ==, 403);
	a = post("/link", "X-Test-User: dave\nSec-Fetch-Site: cross-site\n", body);
	EXPECT_INT(a.code, ==, 403);
	EXPECT_INT(cscf.requests, ==, before); /* nothing was sent */

	/* the confirmation form from another site */
	a = post("/link/confirm", "Origin: https://evil.example\n", "code=12345678");
	EXPECT_INT(a.code, ==, 403);
	a = post("/link/confirm", "Sec-Fetch-Site: cross-site\n", "code=12345678");
	EXPECT_INT(a.code, ==, 403);

	/* a parameter twice, not a form, too large */
	snprintf(body, sizeof(body), "impu=sip:alice@ims.example.org&impu=sip:bob@ims.example.org&csrf=%s",
		 tok);
	a = post("/link", "X-Test-User: dave\n", body);
	EXPECT_INT(a.code, ==, 400);
	a = request(EVHTTP_REQ_POST, "/link/confirm", "Content-Type: application/json\n", NULL);
	EXPECT_INT(a.code, ==, 415);
	static char big[LINK_MAX_BODY + 100];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "code=", 5);
	a = post("/link/confirm", NULL, big);
	EXPECT_INT(a.code, ==, 413);
	EXPECT_INT(cscf.requests, ==, before);
}

static void wwsf_over_mtls_grants_itself(void)
{
	later();
	const char *h = "X-Test-Client: wwsf.ims.example.org\n";
	struct answer a = post("/link", h, "subject=erin&impu=sip%3Aalice%40ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	char code[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code), ==, 0);
	EXPECT_TRUE(strstr(cscf.last_body, "to link erin (wwsf.ims.example.org) to "
					   "sip:alice@ims.example.org is ") != NULL);
	EXPECT_TRUE(!store_wwsf_allowed(st, "alice@ims.example.org", "wwsf.ims.example.org"));
	a = confirm(code);
	EXPECT_INT(a.code, ==, 200);
	EXPECT_TRUE(strstr(a.body, "<b>erin</b> (wwsf.ims.example.org)") != NULL);
	EXPECT_TRUE(strstr(a.body, "<b>wwsf.ims.example.org</b> may now register you") != NULL);
	struct count c = {0};
	store_links_confirmed(st, "erin", "wwsf.ims.example.org", count_cb, &c);
	EXPECT_INT(c.n, ==, 1);
	EXPECT_STR(c.grant, "wwsf.ims.example.org");
	EXPECT_TRUE(store_wwsf_allowed(st, "alice@ims.example.org", "wwsf.ims.example.org"));
	/* "erin" of the WAF is another web identity */
	EXPECT_INT(confirmed_links("erin", "waf"), ==, 0);

	/* subject without a client certificate, or from a blocked client */
	a = post("/link", NULL, "subject=erin&impu=sip:alice@ims.example.org");
	EXPECT_INT(a.code, ==, 401);
	a = post("/link", "X-Test-Client: blocked.example.net\n",
		 "subject=erin&impu=sip:alice@ims.example.org");
	EXPECT_INT(a.code, ==, 403);
	a = post("/link", h, "subject=er%0Ain&impu=sip:alice@ims.example.org");
	EXPECT_INT(a.code, ==, 400);
}

static void unregistered_unknown_and_no_cscf(void)
{
	later();
	cscf.mode = FAKE_ANSWER;
	cscf.status = 480;
	struct answer a = link_as("frank", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 409);
	EXPECT_TRUE(strstr(a.body, "sip:carol@ims.example.org is not registered: register a "
				   "device first") != NULL);
	cscf.status = 404;
	a = link_as("frank", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 409);
	cscf.status = 403;
	a = link_as("frank", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 502);
	cscf.mode = FAKE_CLOSE;
	a = link_as("frank", "sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 502);
	cscf.mode = FAKE_ANSWER;
	cscf.status = 200;

	unsigned before = cscf.requests;
	a = link_as("frank", "sip:nobody@ims.example.org");
	EXPECT_INT(a.code, ==, 404);
	EXPECT_TRUE(strstr(a.body, "unknown IMS identity") != NULL);
	a = link_as("frank", "sip:bob@elsewhere.example.com");
	EXPECT_INT(a.code, ==, 400);
	a = link_as("frank", "");
	EXPECT_INT(a.code, ==, 400);
	EXPECT_INT(cscf.requests, ==, before);
	EXPECT_INT(confirmed_links("frank", "waf"), ==, 0);

	/* a browser form gets a page */
	char tok[LINK_CSRF_LEN + 1], body[256];
	waf_link_csrf_token("frank", tok);
	snprintf(body, sizeof(body), "impu=sip:frank@ims.example.org&csrf=%s", tok);
	a = post("/link", "X-Test-User: frank\nAccept: text/html\n", body);
	EXPECT_INT(a.code, ==, 202);
	EXPECT_TRUE(strstr(a.body, "<h1>Code sent</h1>") != NULL);
}

static void flooding_a_subscriber_refused(void)
{
	later();
	int accepted = 0;
	struct answer a;
	for (int i = 0; i < LINK_REQUESTS_PER_IMPU + 2; i++) {
		char user[16];
		snprintf(user, sizeof(user), "user%d", i);
		a = link_as(user, "sip:dave@ims.example.org");
		if (a.code == 202)
			accepted++;
		else
			EXPECT_INT(a.code, ==, 429);
	}
	EXPECT_INT(accepted, ==, LINK_REQUESTS_PER_IMPU);
}

/* A WWSF's web identity is its users' text: it reaches the page escaped
 * (a subject cannot script the WAF's origin). */
static void web_id_escaped_in_pages(void)
{
	later();
	struct answer a = post("/link", "X-Test-Client: wwsf.ims.example.org\n",
			       "subject=%3Cscript%3Ealert(1)%3C%2Fscript%3E&impu=sip:carol@ims.example.org");
	EXPECT_INT(a.code, ==, 202);
	char code[LINK_CODE_DIGITS + 1];
	EXPECT_INT(last_code(code), ==, 0);
	a = confirm(code);
	EXPECT_INT(a.code, ==, 200);
	EXPECT_TRUE(strstr(a.body, "<script>") == NULL);
	EXPECT_TRUE(strstr(a.body, "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>") != NULL);
}

/* The browser goes away while the MESSAGE is out: the late answer must
 * find the request still valid (libevent keeps a request the user has
 * not answered) and nothing may leak or crash (ASan). */
static void client_gone_before_the_answer(void)
{
	later();
	cscf.mode = FAKE_SPLIT; /* the 200 comes 20 ms later */
	cscf.status = 200;
	char tok[LINK_CSRF_LEN + 1], req[512];
	waf_link_csrf_token("gone", tok);
	char body[160];
	int blen = snprintf(body, sizeof(body), "impu=sip:alice@ims.example.org&csrf=%s", tok);
	int n = snprintf(req, sizeof(req),
			 "POST /link HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Test-User: gone\r\n"
			 "Content-Type: application/x-www-form-urlencoded\r\n"
			 "Content-Length: %d\r\n\r\n%s",
			 blen, body);
	unsigned before = cscf.requests;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	EXPECT_INT(write(fd, req, (size_t)n), ==, n);
	/* let the WAF read it and send the MESSAGE, then hang up */
	for (int i = 0; i < 50 && cscf.requests == before; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
	close(fd);
	struct timeval tv = {0, 200000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	EXPECT_INT(cscf.requests, ==, before + 1);
	cscf.mode = FAKE_ANSWER;
	/* the server still answers others */
	struct answer a = request(EVHTTP_REQ_GET, "/link/confirm", NULL, NULL);
	EXPECT_INT(a.code, ==, 200);
}

static int add_sub(const char *name, const char *tel)
{
	struct store_subscriber s = {.schemes = STORE_SCHEME_DIGEST | STORE_SCHEME_TNA};
	snprintf(s.impi, sizeof(s.impi), "%s@ims.example.org", name);
	snprintf(s.realm, sizeof(s.realm), "ims.example.org");
	if (store_subscriber_add(st, &s) != 0)
		return -1;
	struct store_impu u = {0};
	snprintf(u.impi, sizeof(u.impi), "%s", s.impi);
	snprintf(u.impu, sizeof(u.impu), "sip:%s@ims.example.org", name);
	if (store_impu_add(st, &u) != 0)
		return -1;
	snprintf(u.impu, sizeof(u.impu), "%s", tel);
	return store_impu_add(st, &u);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-link-test.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof(db), "%s/hss.db", dir);
	char err[256];
	if (store_open(db, &st, err, sizeof(err)) != 0 || add_sub("alice", "tel:+15550000001") ||
	    add_sub("bob", "tel:+15550000002") || add_sub("carol", "tel:+15550000003") ||
	    add_sub("dave", "tel:+15550000004") || add_sub("frank", "tel:+15550000006")) {
		fprintf(stderr, "store: %s\n", err);
		return 1;
	}
	base = event_base_new();
	if (fake_cscf_start(&cscf, base) != 0)
		return 1;
	http = http_server_new(base, "127.0.0.1", 0, NULL, err, sizeof(err));
	if (!http) {
		fprintf(stderr, "http: %s\n", err);
		return 1;
	}
	http_port = http_server_port(http);
	env = (struct waf_link_env){
		.domain = "ims.example.org",
		.hss_db = db,
		.cscf_host = "127.0.0.1",
		.cscf_port = cscf.port,
		.public_url = "https://127.0.0.1:9443",
		.code_lifetime_s = 600,
		.session_user = test_session_user,
		.mtls_client = test_mtls_client,
		.send_page = test_send_page,
	};
	link_ = waf_link_attach(http, base, &env, err, sizeof(err));
	if (!link_) {
		fprintf(stderr, "attach: %s\n", err);
		return 1;
	}
	waf_link_set_clock(link_, fake_now);

	UNIT_RUN(code_is_eight_uniform_digits);
	UNIT_RUN(checks_without_io);
	UNIT_RUN(link_page_needs_a_session);
	UNIT_RUN(code_links_once_and_unconfirmed_is_no_link);
	UNIT_RUN(expired_code_refused);
	UNIT_RUN(a_new_code_voids_the_old);
	UNIT_RUN(guessing_cut_off_at_429);
	UNIT_RUN(csrf_and_cross_site_refused);
	UNIT_RUN(wwsf_over_mtls_grants_itself);
	UNIT_RUN(unregistered_unknown_and_no_cscf);
	UNIT_RUN(flooding_a_subscriber_refused);
	UNIT_RUN(web_id_escaped_in_pages);
	UNIT_RUN(client_gone_before_the_answer);

	waf_link_detach(link_);
	evhttp_free(http);
	fake_cscf_stop(&cscf);
	event_base_free(base);
	store_close(st);
	char path[160];
	const char *files[] = {"hss.db", "hss.db-wal", "hss.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return UNIT_MAIN_END();
}
