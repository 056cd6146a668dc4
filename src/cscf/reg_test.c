/*
 * reg_test.c - the registrar without sockets: REGISTERs built here go
 * through cscf_reg_register() against a real store and Cx (a temporary
 * SQLite file), and the responses are parsed back and checked.
 *
 * Covered: the 401 challenges (RFC 8760 order, one nonce), SHA-256 and
 * MD5 acceptance with rspauth, P-Associated-URI / Service-Route / Path,
 * bindings for the whole implicit set, nc replay and nc increment, stale
 * and forged nonces, wrong password and the failure limiter, unknown user,
 * foreign domain, Digest uri mismatch, trusted node authentication, 423,
 * de-registration (one contact, "*") with SAR, CSeq order, fetch, RFC 5626
 * instance replacement, eviction of the oldest binding, expiry purge.
 */
#include "cscf/reg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/digest.h"
#include "core/buf.h"
#include "core/wims.h"
#include "hss/cx.h"
#include "sip/auth_hdr.h"
#include "sip/msg.h"
#include "store/store.h"
#include "unit.h"

#define DOMAIN "ims.example.org"
#define T0 1700000000

static char dir[64], path[128];
static struct store *st;
static struct cx *cx;
static struct cscf_reg *reg;
static struct cscf_reg_io io;
static struct cscf_reg_conf conf;
static const struct cscf_src src = {"tcp", "127.0.0.1", 5070};

/* The last response, parsed. */
static struct buf resp = BUF_INIT;
static struct sip_msg rm;

static int add_user(const char *user, const char *pw, const char *tel)
{
	struct store_subscriber sub = {0};
	snprintf(sub.impi, sizeof(sub.impi), "%s@" DOMAIN, user);
	snprintf(sub.realm, sizeof(sub.realm), DOMAIN);
	int rc = store_subscriber_add(st, &sub);
	rc = rc ? rc : store_subscriber_set_password(st, sub.impi, pw, strlen(pw));
	struct store_impu u = {0};
	snprintf(u.impi, sizeof(u.impi), "%s", sub.impi);
	snprintf(u.impu, sizeof(u.impu), "sip:%s@" DOMAIN, user);
	rc = rc ? rc : store_impu_add(st, &u);
	if (tel) {
		snprintf(u.impu, sizeof(u.impu), "%s", tel);
		rc = rc ? rc : store_impu_add(st, &u);
	}
	return rc;
}

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-reg-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/hss.db", dir);
	char err[256];
	if (store_open(path, &st, err, sizeof(err)))
		return -1;
	if (add_user("alice", "alice-secret", "tel:+15550000001") ||
	    add_user("bob", "bob-secret", NULL) || add_user("carol", "carol-secret", NULL))
		return -1;
	cx = cx_open(path, err, sizeof(err));
	if (!cx)
		return -1;
	snprintf(conf.domain, sizeof(conf.domain), DOMAIN);
	snprintf(conf.realm, sizeof(conf.realm), DOMAIN);
	conf.algs[0] = DIGEST_ALG_SHA256;
	conf.algs[1] = DIGEST_ALG_MD5;
	conf.nalgs = 2;
	conf.nonce_lifetime_s = 300;
	conf.min_expires = 60;
	conf.max_expires = 7200;
	conf.default_expires = 3600;
	snprintf(conf.service_route, sizeof(conf.service_route), "<sip:orig@127.0.0.1:5060;lr>");
	snprintf(conf.server_name, sizeof(conf.server_name), "sip:127.0.0.1:5060");
	snprintf(conf.trusted_nodes, sizeof(conf.trusted_nodes), "192.0.2.1, 192.0.2.2");
	uint8_t secret[32] = {1, 2, 3};
	io = (struct cscf_reg_io){st, cx};
	reg = cscf_reg_new(&conf, secret);
	return reg ? 0 : -1;
}

static void teardown(void)
{
	cscf_reg_free(reg);
	cx_close(cx);
	store_close(st);
	buf_free(&resp);
	char p[160];
	const char *files[] = {"hss.db", "hss.db-wal", "hss.db-shm"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		remove(p);
	}
	remove(dir);
}

/* --- a small UA --- */

struct ua {
	const char *user;
	const char *password;
	const char *ruri;
	char callid[32];
	unsigned cseq;
	char nonce[128];
	char contact[128];
	const struct cscf_src *src;
};

static void ua_init(struct ua *u, const char *user, const char *pw, const char *callid)
{
	memset(u, 0, sizeof(*u));
	u->user = user;
	u->password = pw;
	u->ruri = "sip:" DOMAIN;
	snprintf(u->callid, sizeof(u->callid), "%s", callid);
	snprintf(u->contact, sizeof(u->contact), "<sip:%s@192.0.2.10:5060;transport=tcp>", user);
	u->src = &src;
}

/* Authorization for u->nonce with nc, algorithm alg, optionally a wrong
 * password or another uri. */
static void authorization(const struct ua *u, enum digest_alg alg, unsigned nc, const char *pw,
			  const char *uri, char *out, size_t outsz)
{
	char impi[128], ha1[DIGEST_HEX_MAX], resp_hex[DIGEST_HEX_MAX], ncs[9];
	snprintf(impi, sizeof(impi), "%s@" DOMAIN, u->user);
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	digest_ha1(alg, slice_from_cstr(impi), SLICE_LIT(DOMAIN), slice_from_cstr(pw), ha1);
	digest_response(alg, slice_from_cstr(ha1), slice_from_cstr(u->nonce), slice_from_cstr(ncs),
			SLICE_LIT("0a4f113b"), SLICE_LIT("auth"), SLICE_LIT("REGISTER"),
			slice_from_cstr(uri), NULL, resp_hex);
	snprintf(out, outsz,
		 "Authorization: Digest username=\"%s\", realm=\"" DOMAIN "\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\", qop=auth, "
		 "nc=%s\r\n",
		 impi, u->nonce, uri, resp_hex, digest_alg_name(alg), ncs);
}

/* Send a REGISTER with extra header lines at time now; parse the answer
 * into rm.  Returns the status. */
static int send_at(struct ua *u, const char *extra, int64_t now)
{
	char msg[4096];
	unsigned cseq = ++u->cseq;
	int n = snprintf(msg, sizeof(msg),
			 "REGISTER %s SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK%u%s\r\n"
			 "From: <sip:%s@" DOMAIN ">;tag=ft\r\n"
			 "To: <sip:%s@" DOMAIN ">\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 u->ruri, cseq, u->callid, u->user, u->user, u->callid, cseq,
			 extra);
	struct sip_msg m;
	const char *reason;
	if (sip_msg_parse(&m, msg, (size_t)n, SIP_FRAMING_STREAM, &reason) != n)
		return -1;
	buf_reset(&resp);
	int status = cscf_reg_register(reg, &io, &m, u->src, now, &resp);
	if (status < 0 || sip_msg_parse(&rm, resp.p, resp.len, SIP_FRAMING_STREAM, &reason) !=
				  (int)resp.len)
		return -1;
	/* Keep the first challenge's nonce for the next request. */
	const struct sip_hdr *h = sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE);
	struct sip_auth a;
	if (h && sip_auth_parse(&a, h->value, &reason) == 0 && sip_auth_has(&a, SIP_AUTH_P_NONCE))
		slice_copy_cstr(a.p[SIP_AUTH_P_NONCE], u->nonce, sizeof(u->nonce));
	return status;
}

/* A REGISTER with Contact (and extra), authenticated when nc > 0. */
static int reg_at(struct ua *u, unsigned nc, const char *extra, int64_t now)
{
	char lines[2048];
	size_t n = (size_t)snprintf(lines, sizeof(lines), "Contact: %s\r\n%s", u->contact,
				    extra ? extra : "");
	if (nc)
		authorization(u, DIGEST_ALG_SHA256, nc, u->password, u->ruri, lines + n,
			      sizeof(lines) - n);
	return send_at(u, lines, now);
}

/* Challenge then authenticate: the 200's status. */
static int register_full(struct ua *u, const char *extra, int64_t now)
{
	if (reg_at(u, 0, extra, now) != 401)
		return -1;
	return reg_at(u, 1, extra, now);
}

static bool has_line(const char *needle)
{
	return resp.p && strstr(buf_cstr(&resp), needle) != NULL;
}

static struct slice hdr_value(enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(&rm, id);
	return h ? h->value : SLICE_NULL;
}

/* --- tests --- */

static void challenge_offers_sha256_then_md5(void)
{
	struct ua u;
	ua_init(&u, "alice", "alice-secret", "c-chal");
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 401);
	EXPECT_INT(sip_msg_hdr_count(&rm, SIP_HDR_WWW_AUTHENTICATE), ==, 2);
	const struct sip_hdr *h = sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE);
	struct sip_auth a, b;
	const char *reason;
	EXPECT_INT(sip_auth_parse(&a, h->value, &reason), ==, 0);
	EXPECT_INT(sip_auth_parse(&b, sip_msg_hdr_next(&rm, h)->value, &reason), ==, 0);
	EXPECT_SLICE(a.p[SIP_AUTH_P_ALGORITHM], "SHA-256");
	EXPECT_SLICE(b.p[SIP_AUTH_P_ALGORITHM], "MD5");
	EXPECT_SLICE(a.p[SIP_AUTH_P_REALM], DOMAIN);
	EXPECT_SLICE(a.p[SIP_AUTH_P_QOP], "auth");
	EXPECT_TRUE(slice_eq(a.p[SIP_AUTH_P_NONCE], b.p[SIP_AUTH_P_NONCE]));
	EXPECT_TRUE(!sip_auth_has(&a, SIP_AUTH_P_STALE));
	EXPECT_TRUE(has_line(";tag="));
	EXPECT_TRUE(sip_msg_hdr(&rm, SIP_HDR_DATE) != NULL);
}

static void sha256_register_gives_the_full_200(void)
{
	struct ua u;
	ua_init(&u, "alice", "alice-secret", "c-sha");
	char extra[] = "Path: <sip:tok1@127.0.0.1:5070;transport=tcp;lr;ob>\r\nExpires: 600\r\n";
	EXPECT_INT(register_full(&u, extra, T0), ==, 200);
	EXPECT_TRUE(has_line("Contact: <sip:alice@192.0.2.10:5060;transport=tcp>;expires=600\r\n"));
	EXPECT_SLICE(hdr_value(SIP_HDR_P_ASSOCIATED_URI),
		     "<sip:alice@ims.example.org>, <tel:+15550000001>");
	EXPECT_SLICE(hdr_value(SIP_HDR_SERVICE_ROUTE), "<sip:orig@127.0.0.1:5060;lr>");
	EXPECT_SLICE(hdr_value(SIP_HDR_PATH), "<sip:tok1@127.0.0.1:5070;transport=tcp;lr;ob>");
	/* rspauth: the response with an empty method (RFC 7616 3.5) */
	char ha1[DIGEST_HEX_MAX], want[DIGEST_HEX_MAX];
	digest_ha1(DIGEST_ALG_SHA256, SLICE_LIT("alice@" DOMAIN), SLICE_LIT(DOMAIN),
		   SLICE_LIT("alice-secret"), ha1);
	digest_rspauth(DIGEST_ALG_SHA256, slice_from_cstr(ha1), slice_from_cstr(u.nonce),
		       SLICE_LIT("00000001"), SLICE_LIT("0a4f113b"), SLICE_LIT("auth"),
		       SLICE_LIT("sip:" DOMAIN), NULL, want);
	struct sip_auth ai;
	const char *reason;
	EXPECT_INT(sip_auth_info_parse(&ai, hdr_value(SIP_HDR_AUTHENTICATION_INFO), &reason), ==, 0);
	EXPECT_SLICE(ai.p[SIP_AUTH_P_RSPAUTH], want);
	/* The implicit set shares the binding; the Path is stored. */
	EXPECT_INT(cscf_reg_count(st, "sip:alice@" DOMAIN, T0), ==, 1);
	EXPECT_INT(cscf_reg_count(st, "tel:+15550000001", T0), ==, 1);
	struct cx_lia lia;
	EXPECT_INT(cx_lir(cx, "tel:+15550000001", &lia), ==, CX_SUCCESS);
	EXPECT_STR(lia.server_name, "sip:127.0.0.1:5060");
}

static void md5_register_is_accepted(void)
{
	struct ua u;
	ua_init(&u, "bob", "bob-secret", "c-md5");
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 401);
	char lines[1024];
	int n = snprintf(lines, sizeof(lines), "Contact: %s\r\n", u.contact);
	authorization(&u, DIGEST_ALG_MD5, 1, "bob-secret", u.ruri, lines + n, sizeof(lines) - (size_t)n);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	EXPECT_SLICE(hdr_value(SIP_HDR_P_ASSOCIATED_URI), "<sip:bob@ims.example.org>");
}

static void nc_replay_refused_and_increment_accepted(void)
{
	struct ua u;
	ua_init(&u, "carol", "carol-secret", "c-nc");
	EXPECT_INT(register_full(&u, NULL, T0), ==, 200);
	char saved[128];
	snprintf(saved, sizeof(saved), "%s", u.nonce);
	EXPECT_INT(reg_at(&u, 1, NULL, T0 + 1), ==, 401);
	EXPECT_TRUE(has_line("replayed nonce count"));
	snprintf(u.nonce, sizeof(u.nonce), "%s", saved);
	EXPECT_INT(reg_at(&u, 2, NULL, T0 + 2), ==, 200);
}

static void stale_and_forged_nonces_are_challenged(void)
{
	struct ua u;
	ua_init(&u, "carol", "carol-secret", "c-stale");
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 401);
	EXPECT_INT(reg_at(&u, 1, NULL, T0 + 301), ==, 401);
	EXPECT_TRUE(has_line("stale=true"));
	EXPECT_TRUE(has_line("Unauthorized (stale nonce)"));
	/* the new nonce works */
	EXPECT_INT(reg_at(&u, 1, NULL, T0 + 302), ==, 200);
	/* a nonce we never made */
	snprintf(u.nonce, sizeof(u.nonce), "AAAAAGVTxQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	EXPECT_INT(reg_at(&u, 1, NULL, T0 + 303), ==, 401);
	EXPECT_TRUE(!has_line("stale=true"));
	EXPECT_TRUE(has_line("unknown nonce"));
}

static void wrong_password_then_guessing_blocked(void)
{
	struct ua u;
	ua_init(&u, "bob", "bob-secret", "c-wrong");
	EXPECT_INT(reg_at(&u, 0, NULL, T0 + 1000), ==, 401);
	char lines[1024];
	for (unsigned i = 1; i <= WIMS_AUTH_MAX_FAILURES_PER_MIN; i++) {
		int n = snprintf(lines, sizeof(lines), "Contact: %s\r\n", u.contact);
		authorization(&u, DIGEST_ALG_SHA256, i, "guess", u.ruri, lines + n,
			      sizeof(lines) - (size_t)n);
		EXPECT_INT(send_at(&u, lines, T0 + 1000), ==, 403);
		EXPECT_TRUE(has_line("403 Wrong password"));
	}
	/* now even the right password is refused unchecked */
	EXPECT_INT(reg_at(&u, 20, NULL, T0 + 1000), ==, 403);
	EXPECT_TRUE(has_line("403 Too many failed attempts"));
	/* and the next minute it works again */
	EXPECT_INT(reg_at(&u, 0, NULL, T0 + 1061), ==, 401);
	EXPECT_INT(reg_at(&u, 1, NULL, T0 + 1061), ==, 200);
}

static void unknown_user_foreign_domain_and_uri_mismatch(void)
{
	struct ua u;
	ua_init(&u, "mallory", "x", "c-unknown");
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 404);
	EXPECT_TRUE(has_line("404 Unknown user"));
	ua_init(&u, "alice", "alice-secret", "c-foreign");
	u.ruri = "sip:example.com";
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 403);
	EXPECT_TRUE(has_line("403 Not our domain"));
	ua_init(&u, "alice", "alice-secret", "c-uri");
	EXPECT_INT(reg_at(&u, 0, NULL, T0), ==, 401);
	char lines[1024];
	int n = snprintf(lines, sizeof(lines), "Contact: %s\r\n", u.contact);
	authorization(&u, DIGEST_ALG_SHA256, 1, "alice-secret", "sip:other.example.org", lines + n,
		      sizeof(lines) - (size_t)n);
	EXPECT_INT(send_at(&u, lines, T0), ==, 400);
}

static void trusted_node_authentication(void)
{
	struct ua u;
	ua_init(&u, "carol", "carol-secret", "c-tna");
	const char *tna = "Authorization: Digest username=\"carol@" DOMAIN "\", realm=\"" DOMAIN
			  "\", nonce=\"\", uri=\"sip:" DOMAIN "\", response=\"\", "
			  "integrity-protected=\"auth-done\"\r\n";
	EXPECT_INT(reg_at(&u, 0, tna, T0), ==, 403);
	EXPECT_TRUE(has_line("untrusted node"));
	struct cscf_src trusted = {"tcp", "192.0.2.2", 5070};
	EXPECT_TRUE(cscf_reg_trusted(reg, "192.0.2.1"));
	EXPECT_TRUE(!cscf_reg_trusted(reg, "192.0.2.10"));
	u.src = &trusted;
	EXPECT_INT(reg_at(&u, 0, tna, T0), ==, 200);
	EXPECT_INT(cscf_reg_count(st, "sip:carol@" DOMAIN, T0), >=, 1);
}

static void interval_too_brief_is_423(void)
{
	struct ua u;
	ua_init(&u, "alice", "alice-secret", "c-423");
	EXPECT_INT(register_full(&u, "Expires: 59\r\n", T0), ==, 423);
	EXPECT_SLICE(hdr_value(SIP_HDR_MIN_EXPIRES), "60");
}

static void deregistration_one_contact_then_star(void)
{
	struct ua u;
	ua_init(&u, "bob", "bob-secret", "c-dereg");
	snprintf(u.contact, sizeof(u.contact), "<sip:bob@192.0.2.20>");
	EXPECT_INT(register_full(&u, NULL, T0 + 2000), ==, 200);
	snprintf(u.contact, sizeof(u.contact), "<sip:bob@192.0.2.21>");
	EXPECT_INT(reg_at(&u, 2, NULL, T0 + 2000), ==, 200);
	int before = cscf_reg_count(st, "sip:bob@" DOMAIN, T0 + 2000);
	EXPECT_INT(before, >=, 2);
	/* Expires 0 on one contact removes only that one */
	EXPECT_INT(reg_at(&u, 3, "Expires: 0\r\n", T0 + 2000), ==, 200);
	EXPECT_TRUE(!has_line("<sip:bob@192.0.2.21>"));
	EXPECT_TRUE(has_line("<sip:bob@192.0.2.20>"));
	EXPECT_INT(cscf_reg_count(st, "sip:bob@" DOMAIN, T0 + 2000), ==, before - 1);
	/* Contact: * removes them all and the HSS forgets us */
	snprintf(u.contact, sizeof(u.contact), "*");
	EXPECT_INT(reg_at(&u, 4, "Expires: 0\r\n", T0 + 2000), ==, 200);
	EXPECT_INT(sip_msg_hdr_count(&rm, SIP_HDR_CONTACT), ==, 0);
	EXPECT_INT(cscf_reg_count(st, "sip:bob@" DOMAIN, T0 + 2000), ==, 0);
	struct cx_lia lia;
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_ERROR_IDENTITY_NOT_REGISTERED);
}

static void older_cseq_is_refused(void)
{
	struct ua u;
	ua_init(&u, "alice", "alice-secret", "c-cseq");
	snprintf(u.contact, sizeof(u.contact), "<sip:alice@192.0.2.30>");
	u.cseq = 10;
	EXPECT_INT(register_full(&u, NULL, T0), ==, 200);
	u.cseq = 3;
	EXPECT_INT(reg_at(&u, 2, NULL, T0), ==, 400);
	EXPECT_TRUE(has_line("CSeq"));
}

static void fetch_lists_bindings(void)
{
	struct ua u;
	ua_init(&u, "alice", "alice-secret", "c-fetch");
	snprintf(u.contact, sizeof(u.contact), "<sip:alice@192.0.2.40>");
	EXPECT_INT(register_full(&u, NULL, T0), ==, 200);
	char lines[1024];
	authorization(&u, DIGEST_ALG_SHA256, 2, "alice-secret", u.ruri, lines, sizeof(lines));
	EXPECT_INT(send_at(&u, lines, T0 + 10), ==, 200);
	EXPECT_TRUE(has_line("Contact: <sip:alice@192.0.2.40>;expires=3590"));
}

static void instance_reg_id_replaces_the_flow(void)
{
	struct ua u;
	ua_init(&u, "carol", "carol-secret", "c-inst");
	const char *inst = ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1";
	snprintf(u.contact, sizeof(u.contact), "<sip:a1@x.invalid;transport=ws>%s", inst);
	EXPECT_INT(register_full(&u, "Supported: path, outbound\r\n", T0 + 3000), ==, 200);
	EXPECT_TRUE(has_line("Require: outbound"));
	EXPECT_TRUE(has_line("reg-id=1"));
	snprintf(u.contact, sizeof(u.contact), "<sip:a2@x.invalid;transport=ws>%s", inst);
	EXPECT_INT(reg_at(&u, 2, NULL, T0 + 3000), ==, 200);
	EXPECT_TRUE(has_line("<sip:a2@x.invalid;transport=ws>"));
	EXPECT_TRUE(!has_line("<sip:a1@x.invalid;transport=ws>"));
}

static void oldest_binding_makes_room(void)
{
	struct ua u;
	char callid[32];
	for (int i = 0; i <= WIMS_REG_MAX_CONTACTS; i++) {
		snprintf(callid, sizeof(callid), "c-evict-%d", i);
		ua_init(&u, "bob", "bob-secret", callid);
		snprintf(u.contact, sizeof(u.contact), "<sip:bob@192.0.2.%d>", 100 + i);
		/* later ones expire later: the first is the oldest */
		EXPECT_INT(register_full(&u, NULL, T0 + 4000 + i), ==, 200);
	}
	EXPECT_INT(cscf_reg_count(st, "sip:bob@" DOMAIN, T0 + 4000 + WIMS_REG_MAX_CONTACTS), ==,
		   WIMS_REG_MAX_CONTACTS);
	EXPECT_TRUE(!has_line("<sip:bob@192.0.2.100>"));
	EXPECT_TRUE(has_line("<sip:bob@192.0.2.110>"));
}

static void purge_expires_and_deregisters_in_the_hss(void)
{
	struct ua u;
	/* what earlier tests left has expired by now */
	EXPECT_INT(cscf_reg_purge(reg, &io, T0 + 5000), >=, 0);
	ua_init(&u, "bob", "bob-secret", "c-purge");
	snprintf(u.contact, sizeof(u.contact), "*");
	EXPECT_INT(register_full(&u, "Expires: 0\r\n", T0 + 5000), ==, 200);
	ua_init(&u, "bob", "bob-secret", "c-purge2");
	EXPECT_INT(register_full(&u, "Expires: 60\r\n", T0 + 5000), ==, 200);
	struct cx_lia lia;
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_SUCCESS);
	EXPECT_INT(cscf_reg_purge(reg, &io, T0 + 5030), ==, 0);
	EXPECT_INT(cscf_reg_purge(reg, &io, T0 + 5061), >=, 1);
	EXPECT_INT(cscf_reg_count(st, "sip:bob@" DOMAIN, T0 + 5000), ==, 0);
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_ERROR_IDENTITY_NOT_REGISTERED);
}

static void bindings_removed_elsewhere_deregister_in_the_hss(void)
{
	struct ua u;
	struct cx_lia lia;
	ua_init(&u, "bob", "bob-secret", "c-430");
	EXPECT_INT(register_full(&u, "Expires: 600\r\n", T0 + 6000), ==, 200);
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_SUCCESS);
	/* a 430 made the proxy drop the contact: nothing expired, yet the
	 * HSS must stop naming us */
	EXPECT_INT(store_binding_delete_contact(st, "sip:bob@192.0.2.10:5060;transport=tcp"), >=, 1);
	EXPECT_INT(cscf_reg_purge(reg, &io, T0 + 6001), ==, 0);
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_SUCCESS);
	cscf_reg_bindings_removed(reg);
	EXPECT_INT(cscf_reg_purge(reg, &io, T0 + 6001), ==, 0);
	EXPECT_INT(cx_lir(cx, "sip:bob@" DOMAIN, &lia), ==, CX_ERROR_IDENTITY_NOT_REGISTERED);
}

static void impu_is_canonical(void)
{
	char out[128];
	EXPECT_INT(cscf_reg_impu(SLICE_LIT("sip:alice@IMS.Example.ORG:5060;transport=tcp"), out,
				 sizeof(out)),
		   ==, 0);
	EXPECT_STR(out, "sip:alice@ims.example.org");
	EXPECT_INT(cscf_reg_impu(SLICE_LIT("tel:+15550000001;phone-context=x"), out, sizeof(out)), ==,
		   0);
	EXPECT_STR(out, "tel:+15550000001");
	EXPECT_INT(cscf_reg_impu(SLICE_LIT("sip:ims.example.org"), out, sizeof(out)), ==,
		   WIMS_EPARSE);
	EXPECT_INT(cscf_reg_impu(SLICE_LIT("sip:alice@ims.example.org"), out, 8), ==, WIMS_ETOOBIG);
}

int main(void)
{
	if (setup() != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	UNIT_RUN(impu_is_canonical);
	UNIT_RUN(challenge_offers_sha256_then_md5);
	UNIT_RUN(sha256_register_gives_the_full_200);
	UNIT_RUN(md5_register_is_accepted);
	UNIT_RUN(nc_replay_refused_and_increment_accepted);
	UNIT_RUN(stale_and_forged_nonces_are_challenged);
	UNIT_RUN(wrong_password_then_guessing_blocked);
	UNIT_RUN(unknown_user_foreign_domain_and_uri_mismatch);
	UNIT_RUN(trusted_node_authentication);
	UNIT_RUN(interval_too_brief_is_423);
	UNIT_RUN(deregistration_one_contact_then_star);
	UNIT_RUN(older_cseq_is_refused);
	UNIT_RUN(fetch_lists_bindings);
	UNIT_RUN(instance_reg_id_replaces_the_flow);
	UNIT_RUN(oldest_binding_makes_room);
	UNIT_RUN(purge_expires_and_deregisters_in_the_hss);
	UNIT_RUN(bindings_removed_elsewhere_deregister_in_the_hss);
	teardown();
	return UNIT_MAIN_END();
}
