/*
 * reg_test.c - the registrar without sockets: REGISTERs built here go
 * through cscf_reg_register() against a real store and Cx (a temporary
 * SQLite file), and the responses are parsed back and checked.
 *
 * Covered: the 401 challenges (RFC 8760 order, one nonce), SHA-256 and
 * MD5 acceptance with rspauth, P-Associated-URI / Service-Route / Path,
 * bindings for the whole implicit set, nc replay and nc increment, stale
 * and forged nonces, wrong password and the failure limiter, unknown user,
 * foreign domain, Digest uri mismatch, 423,
 * de-registration (one contact, "*") with SAR, CSeq order, fetch, RFC 5626
 * instance replacement, eviction of the oldest binding, expiry purge.
 *
 * IMS AKA (a second registrar with the default algorithm list, the UE side
 * being auth/aka.h's USIM against the HSS's libosmogsm vectors): AKAv2
 * and AKAv1 registration with rspauth, the challenges the HSS
 * serves the IMPI, wrong response, replayed answer, the card ahead of the
 * HSS (auts, resync, then 200), a forged AUTS, the UE refusing our AUTN,
 * stale and forged AKA nonces, an answer on another worker's handles,
 * spare vectors from a multi-vector MAR, the failure limiter, and a full
 * pending table (503).
 *
 * Trusted node authentication (TR 33.871 6.1.2.2, 6.1.3, REQ 2.1-2.3,
 * 3.2): refused from an untrusted node, without P-WWSF-Identity, with two
 * or a malformed one, for a WWSF not allowed, a pool IMPI through another
 * WWSF, an IMPI without the tna scheme; accepted for an allowed WWSF and
 * for the pool owner; a block read at the very next re-registration (the
 * other WWSF's users unaffected) and lifted; every refusal with its
 * Warning; P-WWSF-Identity from an untrusted source ignored.
 */
#include "cscf/reg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/aka.h"
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
/* The AKA registrar (default algorithm list), and a second worker's
 * handles on the same files. */
static struct cscf_reg *reg_aka;
static struct cscf_reg_conf conf_aka;
static struct store *st2;
static struct cx *cx2;
static struct cscf_reg_io io2;
/* What send_at() talks to. */
static struct cscf_reg *cur_reg;
static const struct cscf_reg_io *cur_io = &io;
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

/* An AKA subscriber: K/OPc from aka_demo_keys, AMF 8000, SQN 0. */
static int add_aka_user(const char *user, unsigned schemes, const char *tel)
{
	struct store_subscriber sub = {0};
	snprintf(sub.impi, sizeof(sub.impi), "%s@" DOMAIN, user);
	snprintf(sub.realm, sizeof(sub.realm), DOMAIN);
	sub.schemes = schemes;
	int rc = store_subscriber_add(st, &sub);
	struct store_impu u = {0};
	snprintf(u.impi, sizeof(u.impi), "%s", sub.impi);
	snprintf(u.impu, sizeof(u.impu), "sip:%s@" DOMAIN, user);
	rc = rc ? rc : store_impu_add(st, &u);
	if (tel) {
		snprintf(u.impu, sizeof(u.impu), "%s", tel);
		rc = rc ? rc : store_impu_add(st, &u);
	}
	struct aka_keys keys;
	struct store_aka aka = {0};
	snprintf(aka.impi, sizeof(aka.impi), "%s", sub.impi);
	rc = rc ? rc : aka_demo_keys(sub.impi, &keys);
	memcpy(aka.k, keys.k, sizeof(aka.k));
	memcpy(aka.opc, keys.opc, sizeof(aka.opc));
	aka.amf[0] = 0x80;
	rc = rc ? rc : store_aka_set(st, &aka);
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
	/* TNA: tina (tna only) allows wwsf.a; pip is in shop.b's pool. */
	if (add_user("tina", "unused", "tel:+15550000077") || add_user("pip", "unused", NULL) ||
	    add_user("pia", "unused", NULL) ||
	    store_subscriber_set_schemes(st, "tina@" DOMAIN, STORE_SCHEME_TNA) ||
	    store_subscriber_set_schemes(st, "pip@" DOMAIN, STORE_SCHEME_TNA) ||
	    store_subscriber_set_schemes(st, "pia@" DOMAIN, STORE_SCHEME_TNA) ||
	    store_wwsf_allow(st, "tina@" DOMAIN, "wwsf.a") ||
	    store_wwsf_allow(st, "alice@" DOMAIN, "wwsf.a") ||
	    store_pool_add(st, "shop.b", "pip@" DOMAIN) || store_pool_add(st, "shop.b", "pia@" DOMAIN))
		return -1;
	if (add_aka_user("dave", STORE_SCHEME_AKAV2, "tel:+15550000004") ||
	    add_aka_user("erin", STORE_SCHEME_AKAV1 | STORE_SCHEME_AKAV2, NULL) ||
	    add_aka_user("frank", STORE_SCHEME_AKAV2, NULL) ||
	    add_aka_user("gina", STORE_SCHEME_AKAV1, NULL) ||
	    add_aka_user("hugo", STORE_SCHEME_AKAV2, NULL) ||
	    add_aka_user("ivan", STORE_SCHEME_AKAV2, NULL) ||
	    add_aka_user("judy", STORE_SCHEME_AKAV2, NULL))
		return -1;
	cx = cx_open(path, err, sizeof(err));
	if (!cx)
		return -1;
	snprintf(conf.domain, sizeof(conf.domain), DOMAIN);
	snprintf(conf.realm, sizeof(conf.realm), DOMAIN);
	conf.algs[0] = CSCF_REG_SHA256;
	conf.algs[1] = CSCF_REG_MD5;
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
	cur_reg = reg;
	conf_aka = conf;
	conf_aka.algs[0] = CSCF_REG_AKAV2_SHA256;
	conf_aka.algs[1] = CSCF_REG_AKAV1_MD5;
	conf_aka.algs[2] = CSCF_REG_SHA256;
	conf_aka.algs[3] = CSCF_REG_MD5;
	conf_aka.nalgs = 4;
	conf_aka.aka_vectors = 1;
	reg_aka = cscf_reg_new(&conf_aka, secret);
	if (store_open(path, &st2, err, sizeof(err)))
		return -1;
	cx2 = cx_open(path, err, sizeof(err));
	io2 = (struct cscf_reg_io){st2, cx2};
	return reg && reg_aka && cx2 ? 0 : -1;
}

static void teardown(void)
{
	cscf_reg_free(reg);
	cscf_reg_free(reg_aka);
	cx_close(cx);
	cx_close(cx2);
	store_close(st);
	store_close(st2);
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
	int status = cscf_reg_register(cur_reg, cur_io, &m, u->src, now, &resp);
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

/* The TNA Authorization of tna.md 2 for user, and a P-WWSF-Identity line
 * when wwsf is not NULL. */
static const char *tna_lines(const char *user, const char *wwsf)
{
	static char lines[512];
	int n = snprintf(lines, sizeof(lines),
			 "Authorization: Digest username=\"%s@" DOMAIN "\", realm=\"" DOMAIN
			 "\", uri=\"sip:" DOMAIN "\", nonce=\"\", response=\"\", "
			 "integrity-protected=\"auth-done\"\r\n",
			 user);
	if (wwsf)
		snprintf(lines + n, sizeof(lines) - (size_t)n, "P-WWSF-Identity: %s\r\n", wwsf);
	return lines;
}

static const struct cscf_src tna_node = {"tcp", "192.0.2.2", 5070};

/* A TNA REGISTER from the trusted node: its status. */
static int tna_reg(struct ua *u, const char *wwsf, const char *more, int64_t now)
{
	char lines[1024];
	snprintf(lines, sizeof(lines), "%s%s", tna_lines(u->user, wwsf), more ? more : "");
	u->src = &tna_node;
	return reg_at(u, 0, lines, now);
}

/* The refusal says why in its reason phrase and in a Warning. */
static bool refused_saying(const char *why)
{
	char status[160], warning[200];
	snprintf(status, sizeof(status), "SIP/2.0 403 %s\r\n", why);
	snprintf(warning, sizeof(warning), "\r\nWarning: 399 127.0.0.1:5060 \"%s\"\r\n", why);
	bool ok = has_line(status) && has_line(warning);
	if (!ok)
		fprintf(stderr, "  wanted 403 and Warning \"%s\", got:\n%s\n", why, buf_cstr(&resp));
	return ok;
}

/* TS 24.229 5.4.1.2.2A, TR 33.871 REQ 2.3: the TNA claim is believed
 * from trusted nodes only, and names its WWSF. */
static void trusted_node_authentication(void)
{
	struct ua u;
	ua_init(&u, "tina", "", "c-tna");
	EXPECT_TRUE(cscf_reg_trusted(reg, "192.0.2.1"));
	EXPECT_TRUE(cscf_reg_trusted(reg, "192.0.2.2"));
	EXPECT_TRUE(!cscf_reg_trusted(reg, "192.0.2.10"));
	EXPECT_TRUE(!cscf_reg_trusted(reg, "127.0.0.1"));
	/* From an untrusted node (127.0.0.1 here), WWSF named or not. */
	EXPECT_INT(reg_at(&u, 0, tna_lines("tina", "wwsf.a"), T0), ==, 403);
	EXPECT_TRUE(refused_saying("Trusted node authentication from an untrusted node"));
	EXPECT_INT(cscf_reg_count(st, "sip:tina@" DOMAIN, T0), ==, 0);
	/* From the trusted node without P-WWSF-Identity. */
	EXPECT_INT(tna_reg(&u, NULL, NULL, T0), ==, 403);
	EXPECT_TRUE(refused_saying("WWSF identity missing"));
	EXPECT_INT(cscf_reg_count(st, "sip:tina@" DOMAIN, T0), ==, 0);
	/* Two, or one that is not an identity. */
	EXPECT_INT(tna_reg(&u, "wwsf.a", "P-WWSF-Identity: shop.b\r\n", T0), ==, 403);
	EXPECT_TRUE(refused_saying("More than one WWSF identity"));
	EXPECT_INT(tna_reg(&u, "wwsf.a", "p-wwsf-identity: wwsf.a\r\n", T0), ==, 403);
	EXPECT_INT(tna_reg(&u, "wwsf .a", NULL, T0), ==, 403);
	EXPECT_TRUE(refused_saying("Bad WWSF identity"));
	EXPECT_INT(tna_reg(&u, "\"wwsf.a\"", NULL, T0), ==, 403);
	EXPECT_INT(cscf_reg_count(st, "sip:tina@" DOMAIN, T0), ==, 0);
	/* The allowed WWSF: 200, bindings for the whole set, no Digest. */
	EXPECT_INT(tna_reg(&u, "wwsf.a", NULL, T0), ==, 200);
	EXPECT_TRUE(sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE) == NULL);
	EXPECT_SLICE(hdr_value(SIP_HDR_P_ASSOCIATED_URI),
		     "<sip:tina@ims.example.org>, <tel:+15550000077>");
	EXPECT_INT(cscf_reg_count(st, "sip:tina@" DOMAIN, T0), ==, 1);
	EXPECT_INT(cscf_reg_count(st, "tel:+15550000077", T0), ==, 1);
	/* The header name is case-insensitive. */
	EXPECT_INT(tna_reg(&u, NULL, "p-wwsf-identity: wwsf.a\r\n", T0), ==, 200);
}

/* REQ 2.1: a WWSF the subscriber did not allow; REQ 3.2: a pool IMPI
 * through a WWSF other than the pool's owner; an IMPI that does not
 * allow TNA at all. */
static void tna_wwsf_must_be_allowed(void)
{
	struct ua u;
	ua_init(&u, "tina", "", "c-tna-allowed");
	EXPECT_INT(tna_reg(&u, "shop.b", NULL, T0), ==, 403);
	EXPECT_TRUE(refused_saying("WWSF not allowed for this subscription"));
	EXPECT_INT(tna_reg(&u, "WWSF.A", NULL, T0), ==, 403);
	ua_init(&u, "pip", "", "c-tna-pool");
	EXPECT_INT(tna_reg(&u, "wwsf.a", NULL, T0), ==, 403);
	EXPECT_TRUE(refused_saying("IMPI not in the WWSF's pool"));
	EXPECT_INT(cscf_reg_count(st, "sip:pip@" DOMAIN, T0), ==, 0);
	EXPECT_INT(tna_reg(&u, "shop.b", NULL, T0), ==, 200);
	EXPECT_INT(cscf_reg_count(st, "sip:pip@" DOMAIN, T0), ==, 1);
	/* alice allows wwsf.a but not the scheme: Digest only. */
	ua_init(&u, "alice", "alice-secret", "c-tna-scheme");
	EXPECT_INT(tna_reg(&u, "wwsf.a", NULL, T0), ==, 403);
	EXPECT_TRUE(refused_saying("trusted node authentication not allowed for this IMPI"));
	/* The IMPU of another IMPI: the I-CSCF's UAR refuses it first. */
	ua_init(&u, "tina", "", "c-tna-other");
	char lines[1024];
	snprintf(lines, sizeof(lines), "%s", tna_lines("pip", "shop.b"));
	u.src = &tna_node;
	EXPECT_INT(reg_at(&u, 0, lines, T0), ==, 403);
	EXPECT_TRUE(has_line("403 Identities do not match"));
}

/* REQ 2.2: a block takes effect at the next REGISTER, re-registrations
 * included, for that WWSF only; unblocking restores it. */
static void tna_blocked_wwsf(void)
{
	struct ua shop, tina;
	ua_init(&shop, "pia", "", "c-tna-block-1");
	ua_init(&tina, "tina", "", "c-tna-block-2");
	EXPECT_INT(tna_reg(&shop, "shop.b", NULL, T0), ==, 200);
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0), ==, 200);
	/* Blocked by another handle (the CLI) while the cscf runs. */
	EXPECT_INT(store_wwsf_block(st2, "shop.b", "test", T0), ==, 0);
	EXPECT_INT(tna_reg(&shop, "shop.b", NULL, T0 + 1), ==, 403);
	EXPECT_TRUE(refused_saying("WWSF blocked"));
	ua_init(&shop, "pip", "", "c-tna-block-3");
	EXPECT_INT(tna_reg(&shop, "shop.b", NULL, T0 + 1), ==, 403);
	EXPECT_TRUE(refused_saying("WWSF blocked"));
	/* The other WWSF's users carry on. */
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0 + 1), ==, 200);
	EXPECT_INT(store_wwsf_unblock(st2, "shop.b"), ==, 0);
	EXPECT_INT(tna_reg(&shop, "shop.b", NULL, T0 + 2), ==, 200);
	/* Blocking the WWSF a subscriber allowed beats the allowance. */
	EXPECT_INT(store_wwsf_block(st2, "wwsf.a", NULL, T0), ==, 0);
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0 + 3), ==, 403);
	EXPECT_TRUE(refused_saying("WWSF blocked"));
	EXPECT_INT(store_wwsf_unblock(st2, "wwsf.a"), ==, 0);
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0 + 4), ==, 200);
}

/* The WWSF of impu's first live binding at T0 into out ("" none). */
static int first_wwsf_cb(void *arg, const struct store_binding *b)
{
	char *out = arg;
	if (!out[0])
		snprintf(out, WIMS_WWSF_ID_MAX, "%s", b->wwsf[0] ? b->wwsf : "(none)");
	return 0;
}

static const char *binding_wwsf(const char *impu)
{
	static char w[WIMS_WWSF_ID_MAX];
	w[0] = '\0';
	if (store_binding_list(st, impu, T0, first_wwsf_cb, w) != 0)
		return "(error)";
	return w;
}

/* REQ 2.2 for the users already registered: a TNA binding records the
 * WWSF it came through (every IMPU of the set), a Digest one none, so
 * that a block removes that WWSF's bindings and no one else's. */
static void tna_binding_records_wwsf(void)
{
	struct ua tina, pia, carol;
	ua_init(&tina, "tina", "", "c-tna-rec-1");
	ua_init(&pia, "pia", "", "c-tna-rec-2");
	ua_init(&carol, "carol", "carol-secret", "c-tna-rec-3");
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0), ==, 200);
	EXPECT_INT(tna_reg(&pia, "shop.b", NULL, T0), ==, 200);
	EXPECT_INT(register_full(&carol, NULL, T0), ==, 200);
	EXPECT_STR(binding_wwsf("sip:tina@" DOMAIN), "wwsf.a");
	EXPECT_STR(binding_wwsf("tel:+15550000077"), "wwsf.a");
	EXPECT_STR(binding_wwsf("sip:pia@" DOMAIN), "shop.b");
	EXPECT_STR(binding_wwsf("sip:carol@" DOMAIN), "(none)");
	/* What `wims hss wwsf-block shop.b` does, from another handle. */
	EXPECT_INT(store_wwsf_block(st2, "shop.b", "test", T0), ==, 0);
	int contacts = 0;
	EXPECT_TRUE(store_binding_delete_wwsf(st2, "shop.b", &contacts) >= 1);
	EXPECT_TRUE(contacts >= 1);
	EXPECT_INT(cscf_reg_count(st, "sip:pia@" DOMAIN, T0), ==, 0);
	EXPECT_INT(cscf_reg_count(st, "sip:pip@" DOMAIN, T0), ==, 0);
	EXPECT_STR(binding_wwsf("sip:tina@" DOMAIN), "wwsf.a");
	EXPECT_TRUE(cscf_reg_count(st, "sip:carol@" DOMAIN, T0) >= 1);
	/* Nor can it come back while blocked. */
	EXPECT_INT(tna_reg(&pia, "shop.b", NULL, T0 + 1), ==, 403);
	EXPECT_INT(cscf_reg_count(st, "sip:pia@" DOMAIN, T0 + 1), ==, 0);
	EXPECT_INT(store_wwsf_unblock(st2, "shop.b"), ==, 0);
}

/* cscf_reg_originating for a MESSAGE from sip:from@ with extra lines. */
static int originating(const char *from, const char *extra, int64_t now, char *served)
{
	static char buf[2048];
	static struct sip_msg om;
	int n = snprintf(buf, sizeof(buf),
			 "MESSAGE sip:bob@" DOMAIN " SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 192.0.2.2:5070;branch=z9hG4bKorig\r\n"
			 "Route: <sip:orig@127.0.0.1:5060;lr>\r\n"
			 "From: <sip:%s@" DOMAIN ">;tag=o1\r\n"
			 "To: <sip:bob@" DOMAIN ">\r\n"
			 "Call-ID: orig-1\r\nCSeq: 1 MESSAGE\r\n%s"
			 "Content-Length: 0\r\n\r\n",
			 from, extra);
	const char *reason;
	if (sip_msg_parse(&om, buf, (size_t)n, SIP_FRAMING_STREAM, &reason) != n)
		return -1000;
	return cscf_reg_originating(st, &om, DOMAIN, now, served);
}

/* TS 24.229 5.4.3.2: an originating request is served for a registered
 * user only; the served user is the P-CSCF's assertion, else From.  A
 * WWSF block takes its users' originating service at once (REQ 2.2). */
static void originating_needs_a_registration(void)
{
	char served[WIMS_IMPU_MAX];
	struct ua tina, pia;
	ua_init(&tina, "tina", "", "c-orig-1");
	ua_init(&pia, "pia", "", "c-orig-2");
	EXPECT_INT(tna_reg(&tina, "wwsf.a", NULL, T0), ==, 200);
	EXPECT_INT(tna_reg(&pia, "shop.b", NULL, T0), ==, 200);
	EXPECT_INT(originating("x", "P-Asserted-Identity: <sip:pia@" DOMAIN ">\r\n", T0, served),
		   ==, 1);
	EXPECT_STR(served, "sip:pia@" DOMAIN);
	/* The asserted identity counts, not the From. */
	EXPECT_INT(originating("pia", "P-Asserted-Identity: <sip:nobody@" DOMAIN ">\r\n", T0,
			       served),
		   ==, 0);
	EXPECT_STR(served, "sip:nobody@" DOMAIN);
	/* Without one, the From; a tel: identity of the set too. */
	EXPECT_INT(originating("tina", "", T0, served), ==, 1);
	EXPECT_INT(originating("x", "P-Asserted-Identity: <tel:+15550000077>, <sip:x@" DOMAIN ">\r\n",
			       T0, served),
		   ==, 1);
	EXPECT_STR(served, "tel:+15550000077");
	EXPECT_INT(originating("x", "P-Asserted-Identity: nonsense\r\n", T0, served), ==,
		   WIMS_EPARSE);
	EXPECT_STR(served, "");
	/* Expired: no longer served. */
	EXPECT_INT(originating("tina", "", T0 + 100000, served), ==, 0);
	/* The block of shop.b removes pia's registration: refused; tina
	 * (wwsf.a) carries on. */
	EXPECT_INT(store_wwsf_block(st2, "shop.b", "test", T0), ==, 0);
	EXPECT_TRUE(store_binding_delete_wwsf(st2, "shop.b", NULL) >= 1);
	EXPECT_INT(originating("x", "P-Asserted-Identity: <sip:pia@" DOMAIN ">\r\n", T0, served),
		   ==, 0);
	EXPECT_INT(originating("x", "P-Asserted-Identity: <sip:tina@" DOMAIN ">\r\n", T0, served),
		   ==, 1);
	EXPECT_INT(store_wwsf_unblock(st2, "shop.b"), ==, 0);
}

/* A P-WWSF-Identity from an untrusted source grants nothing: a Digest
 * REGISTER with it is a Digest REGISTER, a TNA-only user is challenged
 * (and cannot answer). */
static void wwsf_identity_from_untrusted_source_is_ignored(void)
{
	struct ua u;
	ua_init(&u, "carol", "carol-secret", "c-wwsf-untrusted");
	EXPECT_INT(register_full(&u, "P-WWSF-Identity: wwsf.a\r\n", T0), ==, 200);
	ua_init(&u, "tina", "", "c-wwsf-untrusted-2");
	EXPECT_INT(reg_at(&u, 0, "P-WWSF-Identity: wwsf.a\r\n", T0), ==, 403);
	EXPECT_TRUE(has_line("403 No usable authentication scheme"));
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

/* --- IMS AKA --- */

/* The UE: the card's keys and SQN state. */
struct aka_ue {
	struct aka_keys keys;
	struct aka_sqn_state sqn;
};

static void aka_ue_init(struct aka_ue *ue, const char *user)
{
	char impi[128];
	memset(ue, 0, sizeof(*ue));
	snprintf(impi, sizeof(impi), "%s@" DOMAIN, user);
	aka_demo_keys(impi, &ue->keys);
}

/* The algorithms of the last response's challenges, "A,B", and the nonce
 * of the one named alg (if any) into nonce. */
static void challenges(char *algs, size_t algsz, const char *alg, char *nonce, size_t noncesz)
{
	algs[0] = '\0';
	if (nonce)
		nonce[0] = '\0';
	for (const struct sip_hdr *h = sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE); h;
	     h = sip_msg_hdr_next(&rm, h)) {
		struct sip_auth a;
		const char *reason;
		if (sip_auth_parse(&a, h->value, &reason) != 0)
			continue;
		struct slice al = a.p[SIP_AUTH_P_ALGORITHM];
		size_t l = strlen(algs);
		snprintf(algs + l, algsz - l, "%s%.*s", l ? "," : "", (int)al.len, al.p);
		if (nonce && alg && slice_eq_cstr(al, alg))
			slice_copy_cstr(a.p[SIP_AUTH_P_NONCE], nonce, noncesz);
	}
}

enum { AKA_WRONG = 1, AKA_BAD_AUTS = 2 };

/*
 * The UE's answer to an AKA nonce (RFC 3310 3.3 / 3.4, TS 24.229
 * 5.1.1.5): the card run on RAND/AUTN; on success the response over the
 * password; on a sync failure auts and a response over an empty password;
 * on a MAC failure an empty response.  Returns the card's enum aka_result.
 */
static int aka_answer(struct ua *u, struct aka_ue *ue, enum aka_version v, const char *nonce,
		      unsigned nc, int flags, char *out, size_t outsz)
{
	char impi[128], ha1[DIGEST_HEX_MAX], resp_hex[DIGEST_HEX_MAX] = "", ncs[9];
	char pw[AKA_PASSWORD_MAX] = "", auts_p[64] = "";
	size_t pwlen = 0;
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	struct aka_usim_out o;
	enum digest_alg h = v == AKA_V1_MD5 ? DIGEST_ALG_MD5 : DIGEST_ALG_SHA256;
	snprintf(impi, sizeof(impi), "%s@" DOMAIN, u->user);
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	if (aka_nonce_decode(slice_from_cstr(nonce), rand, autn) != 0)
		return -1;
	int res = aka_usim_authenticate(&ue->keys, &ue->sqn, rand, autn, &o);
	if (res == AKA_OK)
		aka_digest_password(v, o.res, AKA_RES_LEN, o.ik, o.ck, pw, sizeof(pw), &pwlen);
	if (res == AKA_SYNC_FAILURE) {
		char a[32];
		if (flags & AKA_BAD_AUTS)
			o.auts[AKA_AUTS_LEN - 1] ^= 1; /* MAC-S */
		aka_auts_encode(o.auts, a, sizeof(a));
		snprintf(auts_p, sizeof(auts_p), ", auts=\"%s\"", a);
	}
	if ((flags & AKA_WRONG) && pwlen)
		pw[0] ^= 1;
	if (res != AKA_MAC_FAILURE) {
		digest_ha1(h, slice_from_cstr(impi), SLICE_LIT(DOMAIN), (struct slice){pw, pwlen},
			   ha1);
		digest_response(h, slice_from_cstr(ha1), slice_from_cstr(nonce),
				slice_from_cstr(ncs), SLICE_LIT("0a4f113b"), SLICE_LIT("auth"),
				SLICE_LIT("REGISTER"), slice_from_cstr(u->ruri), NULL, resp_hex);
	}
	snprintf(out, outsz,
		 "Contact: %s\r\n"
		 "Authorization: Digest username=\"%s\", realm=\"" DOMAIN "\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\", qop=auth, "
		 "nc=%s%s\r\n",
		 u->contact, impi, nonce, u->ruri, resp_hex, aka_version_name(v), ncs, auts_p);
	return res;
}

/* REGISTER without credentials; the nonce of alg's challenge. */
static int aka_challenge_at(struct ua *u, const char *alg, char *nonce, size_t noncesz,
			    int64_t now)
{
	char lines[256], algs[128];
	snprintf(lines, sizeof(lines), "Contact: %s\r\n", u->contact);
	int status = send_at(u, lines, now);
	challenges(algs, sizeof(algs), alg, nonce, noncesz);
	return status;
}

/* Challenge, card, answer: the answer's status. */
static int aka_register(struct ua *u, struct aka_ue *ue, enum aka_version v, int64_t now)
{
	char nonce[128], lines[1024];
	if (aka_challenge_at(u, aka_version_name(v), nonce, sizeof(nonce), now) != 401 || !nonce[0])
		return -1;
	if (aka_answer(u, ue, v, nonce, 1, 0, lines, sizeof(lines)) != AKA_OK)
		return -2;
	return send_at(u, lines, now);
}

static void use_aka(void)
{
	cur_reg = reg_aka;
	cur_io = &io;
}

static void use_digest(void)
{
	cur_reg = reg;
	cur_io = &io;
}

static uint64_t hss_sqn(const char *impi)
{
	struct store_aka a;
	if (store_aka_get(st, impi, &a) != 0)
		return UINT64_MAX;
	uint64_t sqn = a.sqn;
	OPENSSL_cleanse(&a, sizeof(a));
	return sqn;
}

static void aka_challenge_per_scheme(void)
{
	use_aka();
	struct ua u;
	char algs[128], n2[128], n1[128];
	/* AKAv2 only */
	ua_init(&u, "dave", "", "c-aka-chal-d");
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", n2, sizeof(n2), T0), ==, 401);
	challenges(algs, sizeof(algs), NULL, NULL, 0);
	EXPECT_STR(algs, "AKAv2-SHA-256");
	EXPECT_INT(strlen(n2), ==, 44);
	EXPECT_SLICE(rm.reason, "Unauthorized");
	/* both AKA versions allowed: only the preferred one is offered, so
	 * no second vector waits for an answer that never comes */
	ua_init(&u, "erin", "", "c-aka-chal-e");
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", n2, sizeof(n2), T0), ==, 401);
	challenges(algs, sizeof(algs), "AKAv1-MD5", n1, sizeof(n1));
	EXPECT_STR(algs, "AKAv2-SHA-256");
	EXPECT_TRUE(has_line("qop=\"auth\""));
	/* a Digest user gets no AKA challenge */
	ua_init(&u, "alice", "alice-secret", "c-aka-chal-a");
	EXPECT_INT(aka_challenge_at(&u, NULL, NULL, 0, T0), ==, 401);
	challenges(algs, sizeof(algs), NULL, NULL, 0);
	EXPECT_STR(algs, "SHA-256,MD5");
	/* and an AKA-only user none with Digest from the Digest-only registrar */
	use_digest();
	ua_init(&u, "dave", "", "c-aka-chal-d2");
	EXPECT_INT(aka_challenge_at(&u, NULL, NULL, 0, T0), ==, 403);
	EXPECT_SLICE(rm.reason, "No usable authentication scheme");
	use_aka();
}

static void akav2_registers_with_rspauth(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "dave", "", "c-akav2");
	aka_ue_init(&ue, "dave");
	char nonce[128], lines[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	EXPECT_SLICE(hdr_value(SIP_HDR_P_ASSOCIATED_URI), "<sip:dave@ims.example.org>, <tel:+15550000004>");
	/* rspauth proves the network knew the password too */
	uint8_t rand[16], autn[16];
	struct aka_usim_out o;
	struct aka_sqn_state fresh = {0};
	aka_nonce_decode(slice_from_cstr(nonce), rand, autn);
	EXPECT_INT(aka_usim_authenticate(&ue.keys, &fresh, rand, autn, &o), ==, AKA_OK);
	char pw[AKA_PASSWORD_MAX], ha1[DIGEST_HEX_MAX], want[DIGEST_HEX_MAX];
	size_t pwlen;
	aka_digest_password(AKA_V2_SHA256, o.res, AKA_RES_LEN, o.ik, o.ck, pw, sizeof(pw), &pwlen);
	EXPECT_INT(pwlen, ==, 44);
	digest_ha1(DIGEST_ALG_SHA256, SLICE_LIT("dave@" DOMAIN), SLICE_LIT(DOMAIN),
		   (struct slice){pw, pwlen}, ha1);
	digest_rspauth(DIGEST_ALG_SHA256, slice_from_cstr(ha1), slice_from_cstr(nonce),
		       SLICE_LIT("00000001"), SLICE_LIT("0a4f113b"), SLICE_LIT("auth"),
		       SLICE_LIT("sip:" DOMAIN), NULL, want);
	struct sip_auth ai;
	const char *reason;
	EXPECT_INT(sip_auth_info_parse(&ai, hdr_value(SIP_HDR_AUTHENTICATION_INFO), &reason), ==, 0);
	EXPECT_SLICE(ai.p[SIP_AUTH_P_RSPAUTH], want);
	/* again, with the next vector (the card's SQN moves on) */
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 10), ==, 200);
}

static void akav1_registers_with_rspauth(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "gina", "", "c-akav1");
	aka_ue_init(&ue, "gina");
	char nonce[128], lines[1024], algs[64];
	EXPECT_INT(aka_challenge_at(&u, "AKAv1-MD5", nonce, sizeof(nonce), T0), ==, 401);
	challenges(algs, sizeof(algs), NULL, NULL, 0);
	EXPECT_STR(algs, "AKAv1-MD5");
	EXPECT_INT(aka_answer(&u, &ue, AKA_V1_MD5, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	struct sip_auth ai;
	const char *reason;
	EXPECT_INT(sip_auth_info_parse(&ai, hdr_value(SIP_HDR_AUTHENTICATION_INFO), &reason), ==, 0);
	EXPECT_INT(ai.p[SIP_AUTH_P_RSPAUTH].len, ==, 32);
	/* erin, allowed both, is offered AKAv2 only (no AKAv1 challenge to
	 * answer), and registers with it */
	ua_init(&u, "erin", "", "c-akav1-e");
	aka_ue_init(&ue, "erin");
	EXPECT_INT(aka_register(&u, &ue, AKA_V1_MD5, T0), ==, -1);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0), ==, 200);
}

static void aka_wrong_response_is_403_and_spends_the_vector(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "frank", "", "c-aka-wrong");
	aka_ue_init(&ue, "frank");
	char nonce[128], lines[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	struct aka_sqn_state before = ue.sqn;
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, AKA_WRONG, lines, sizeof(lines)), ==,
		   AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 403);
	EXPECT_SLICE(rm.reason, "Wrong password");
	/* the right answer now is too late: the vector was spent */
	ue.sqn = before;
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (unknown nonce)");
	/* a fresh challenge works */
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 1), ==, 200);
}

/* TS 33.203 6.1.2: the same Authorization again (a replay) is challenged,
 * never accepted, whatever its nc. */
static void aka_replayed_answer_is_never_200(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "hugo", "", "c-aka-replay");
	aka_ue_init(&ue, "hugo");
	char nonce[128], lines[1024], again[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	struct aka_sqn_state before = ue.sqn;
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	EXPECT_INT(send_at(&u, lines, T0 + 1), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (unknown nonce)");
	EXPECT_TRUE(sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE) != NULL);
	/* with the next nc (recomputed by someone who knows the password) */
	ue.sqn = before;
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 2, 0, again, sizeof(again)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, again, T0 + 2), ==, 401);
	/* through another worker's handles as well */
	cur_io = &io2;
	EXPECT_INT(send_at(&u, lines, T0 + 3), ==, 401);
	cur_io = &io;
}

/* The card has seen SQNs the HSS has not (a restored HSS): it answers
 * auts, the HSS resyncs from it, and the next challenge passes. */
static void aka_resync_then_200(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "ivan", "", "c-aka-resync");
	aka_ue_init(&ue, "ivan");
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		ue.sqn.seq[i] = 1000;
	char nonce[128], lines[1024], algs[64];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==,
		   AKA_SYNC_FAILURE);
	EXPECT_INT(send_at(&u, lines, T0), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (resynchronised)");
	challenges(algs, sizeof(algs), "AKAv2-SHA-256", nonce, sizeof(nonce));
	EXPECT_STR(algs, "AKAv2-SHA-256");
	EXPECT_INT(hss_sqn("ivan@" DOMAIN) >> AKA_IND_BITS, >, 1000);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	/* and the next registration needs no resync */
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 5), ==, 200);
}

static void aka_forged_auts_is_403(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "frank", "", "c-aka-badauts");
	aka_ue_init(&ue, "frank");
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		ue.sqn.seq[i] = 5000;
	char nonce[128], lines[1024];
	uint64_t sqn = hss_sqn("frank@" DOMAIN);
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, AKA_BAD_AUTS, lines, sizeof(lines)),
		   ==, AKA_SYNC_FAILURE);
	EXPECT_INT(send_at(&u, lines, T0), ==, 403);
	EXPECT_SLICE(rm.reason, "Resynchronisation refused");
	/* The HSS kept its SQN (one more vector for the challenge only). */
	EXPECT_INT(hss_sqn("frank@" DOMAIN) >> AKA_IND_BITS, <, 5000);
	EXPECT_INT(hss_sqn("frank@" DOMAIN), >, sqn);
	/* malformed auts: 400 */
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	char bad[1024];
	snprintf(bad, sizeof(bad),
		 "Contact: %s\r\nAuthorization: Digest username=\"frank@" DOMAIN "\", realm=\"" DOMAIN
		 "\", nonce=\"%s\", uri=\"sip:" DOMAIN "\", response=\"\", algorithm=AKAv2-SHA-256, "
		 "cnonce=\"x\", qop=auth, nc=00000001, auts=\"!!\"\r\n",
		 u.contact, nonce);
	EXPECT_INT(send_at(&u, bad, T0), ==, 400);
}

/* TS 24.229 5.1.1.5.3: the UE found AUTN's MAC wrong (not our network,
 * to it): empty response, no auts.  403, the vector dropped. */
static void aka_ue_refusing_autn_is_403(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue, wrong;
	ua_init(&u, "dave", "", "c-aka-macfail");
	aka_ue_init(&ue, "dave");
	aka_ue_init(&wrong, "nobody");
	char nonce[128], lines[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &wrong, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==,
		   AKA_MAC_FAILURE);
	EXPECT_TRUE(strstr(lines, "response=\"\"") != NULL);
	EXPECT_TRUE(strstr(lines, "auts") == NULL);
	EXPECT_INT(send_at(&u, lines, T0), ==, 403);
	EXPECT_SLICE(rm.reason, "Network authentication failed at the UE");
	/* dropped: the real card's answer is now unknown */
	aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines));
	EXPECT_INT(send_at(&u, lines, T0), ==, 401);
}

static void aka_stale_and_forged_nonces(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "dave", "", "c-aka-stale");
	aka_ue_init(&ue, "dave");
	char nonce[128], lines[1024], stale[128];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0 + 300), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (stale nonce)");
	challenges(stale, sizeof(stale), NULL, NULL, 0);
	EXPECT_TRUE(has_line("stale=true"));
	/* a nonce with a RAND we never sent */
	uint8_t rand[16] = {9}, autn[16] = {9};
	aka_nonce_encode(rand, autn, NULL, 0, nonce, sizeof(nonce));
	snprintf(lines, sizeof(lines),
		 "Contact: %s\r\nAuthorization: Digest username=\"dave@" DOMAIN "\", realm=\"" DOMAIN
		 "\", nonce=\"%s\", uri=\"sip:" DOMAIN "\", response=\"%064d\", "
		 "algorithm=AKAv2-SHA-256, cnonce=\"x\", qop=auth, nc=00000001\r\n",
		 u.contact, nonce, 0);
	EXPECT_INT(send_at(&u, lines, T0 + 301), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (unknown nonce)");
	/* not even base64 */
	snprintf(lines, sizeof(lines),
		 "Contact: %s\r\nAuthorization: Digest username=\"dave@" DOMAIN "\", realm=\"" DOMAIN
		 "\", nonce=\"***\", uri=\"sip:" DOMAIN "\", response=\"00\", "
		 "algorithm=AKAv2-SHA-256, cnonce=\"x\", qop=auth, nc=00000001\r\n",
		 u.contact);
	EXPECT_INT(send_at(&u, lines, T0 + 301), ==, 401);
	/* AKAv1 to a user served AKAv2 only: not offered */
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0 + 302), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V1_MD5, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0 + 302), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (algorithm differs from the challenge)");
}

/* Any worker may get the answer: the challenge on one's handles, the
 * answer on another's, one shared table. */
static void aka_answer_on_another_worker(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "erin", "", "c-aka-worker");
	aka_ue_init(&ue, "erin");
	char nonce[128], lines[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	int res = aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines));
	EXPECT_INT(res, ==, AKA_OK);
	cur_io = &io2;
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	cur_io = &io;
}

/* aka_vectors 3: one MAR (one SQN write) serves three challenges. */
static void aka_spare_vectors(void)
{
	struct cscf_reg_conf c = conf_aka;
	c.aka_vectors = 3;
	uint8_t secret[32] = {4};
	struct cscf_reg *r3 = cscf_reg_new(&c, secret);
	EXPECT_TRUE(r3 != NULL);
	cur_reg = r3;
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "hugo", "", "c-aka-spares");
	aka_ue_init(&ue, "hugo");
	uint64_t sqn0 = hss_sqn("hugo@" DOMAIN);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0), ==, 200);
	uint64_t sqn1 = hss_sqn("hugo@" DOMAIN);
	EXPECT_INT((sqn1 >> AKA_IND_BITS) - (sqn0 >> AKA_IND_BITS), ==, 3);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 1), ==, 200);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 2), ==, 200);
	EXPECT_INT(hss_sqn("hugo@" DOMAIN), ==, sqn1);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 3), ==, 200);
	EXPECT_INT(hss_sqn("hugo@" DOMAIN) >> AKA_IND_BITS, ==, (sqn1 >> AKA_IND_BITS) + 3);
	/* a resync drops the spares made with the old SQN */
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		ue.sqn.seq[i] = 100000;
	char nonce[128], lines[1024];
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0 + 4), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==,
		   AKA_SYNC_FAILURE);
	EXPECT_INT(send_at(&u, lines, T0 + 4), ==, 401);
	EXPECT_SLICE(rm.reason, "Unauthorized (resynchronised)");
	challenges(lines, sizeof(lines), "AKAv2-SHA-256", nonce, sizeof(nonce));
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0 + 4), ==, 200);
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0 + 5), ==, 200);
	cscf_reg_free(r3);
	use_aka();
}

/* Wrong AKA responses count for the failure limiter as Digest ones do:
 * past WIMS_AUTH_MAX_FAILURES_PER_MIN even the right answer is refused
 * unchecked (and its vector is not spent). */
static void aka_guessing_is_blocked(void)
{
	use_aka();
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "judy", "", "c-aka-guess");
	aka_ue_init(&ue, "judy");
	char nonce[128], lines[1024];
	for (int i = 0; i < WIMS_AUTH_MAX_FAILURES_PER_MIN; i++) {
		EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
		EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, AKA_WRONG, lines, sizeof(lines)),
			   ==, AKA_OK);
		EXPECT_INT(send_at(&u, lines, T0), ==, 403);
		EXPECT_SLICE(rm.reason, "Wrong password");
	}
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	struct aka_sqn_state before = ue.sqn;
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 403);
	EXPECT_SLICE(rm.reason, "Too many failed attempts");
	/* a minute later the same answer, its vector still pending, passes */
	ue.sqn = before;
	EXPECT_INT(send_at(&u, lines, T0 + 61), ==, 200);
}

/* The pending table is bounded: full of live challenges, the next AKA
 * challenge is 503 (a flood costs the flooder, not those challenged);
 * once they expire there is room again. */
static void aka_pending_table_full_is_503(void)
{
	struct cscf_reg_conf c = conf_aka;
	c.aka_max_pending = 16; /* one per shard */
	c.aka_pending_per_impi = -1; /* one IMPI fills it here */
	uint8_t secret[32] = {5};
	struct cscf_reg *small = cscf_reg_new(&c, secret);
	EXPECT_TRUE(small != NULL);
	cur_reg = small;
	struct ua u;
	ua_init(&u, "dave", "", "c-aka-full");
	char nonce[128];
	int s401 = 0, s503 = 0;
	uint64_t sqn0 = hss_sqn("dave@" DOMAIN);
	for (int i = 0; i < 200; i++) {
		int st_ = aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0);
		s401 += st_ == 401;
		s503 += st_ == 503;
	}
	/* one entry per shard; a refused vector waits as a spare and lands in
	 * its full shard again, so not every shard need fill */
	EXPECT_INT(s401, <=, 16);
	EXPECT_INT(s401, >=, 1);
	EXPECT_INT(s401 + s503, ==, 200);
	/* the refused kept their vector for the next: no MAR per 503 */
	EXPECT_INT((hss_sqn("dave@" DOMAIN) >> AKA_IND_BITS) - (sqn0 >> AKA_IND_BITS), <=, 16 + 3);
	EXPECT_SLICE(rm.reason, "Too many pending AKA challenges");
	EXPECT_TRUE(sip_msg_hdr(&rm, SIP_HDR_WWW_AUTHENTICATE) == NULL);
	/* a Digest user is still challenged */
	ua_init(&u, "alice", "alice-secret", "c-aka-full-a");
	EXPECT_INT(aka_challenge_at(&u, NULL, NULL, 0, T0), ==, 401);
	/* expired challenges make room */
	ua_init(&u, "dave", "", "c-aka-full-2");
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0 + 300), ==, 401);
	cscf_reg_free(small);
	use_aka();
}


/* The per-IMPI limit: REGISTERs for one IMPI that nobody answers keep only
 * its latest few challenges, so they cannot fill the table (256 here, 1000
 * REGISTERs) for the others, and the IMPI's own latest challenge still
 * works.  Without the limit the same flood gets 503s. */
static void aka_flood_for_one_impi_fills_nothing(void)
{
	struct cscf_reg_conf c = conf_aka;
	c.aka_max_pending = 256;
	uint8_t secret[32] = {6};
	struct cscf_reg *small = cscf_reg_new(&c, secret);
	EXPECT_TRUE(small != NULL);
	if (!small)
		return;
	cur_reg = small;
	struct ua u;
	struct aka_ue ue;
	ua_init(&u, "dave", "", "c-aka-flood");
	char nonce[128], lines[1024];
	int s401 = 0;
	for (int i = 0; i < 1000; i++)
		s401 += aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0) == 401;
	EXPECT_INT(s401, ==, 1000);
	/* erin is still challenged, and dave answers his latest */
	ua_init(&u, "erin", "", "c-aka-flood-e");
	aka_ue_init(&ue, "erin");
	EXPECT_INT(aka_register(&u, &ue, AKA_V2_SHA256, T0), ==, 200);
	ua_init(&u, "dave", "", "c-aka-flood-d");
	aka_ue_init(&ue, "dave");
	EXPECT_INT(aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0), ==, 401);
	EXPECT_INT(aka_answer(&u, &ue, AKA_V2_SHA256, nonce, 1, 0, lines, sizeof(lines)), ==, AKA_OK);
	EXPECT_INT(send_at(&u, lines, T0), ==, 200);
	cscf_reg_free(small);
	/* the same flood without the limit */
	c.aka_pending_per_impi = -1;
	small = cscf_reg_new(&c, secret);
	EXPECT_TRUE(small != NULL);
	if (!small)
		return;
	cur_reg = small;
	ua_init(&u, "dave", "", "c-aka-flood-2");
	int s503 = 0;
	for (int i = 0; i < 1000; i++)
		s503 += aka_challenge_at(&u, "AKAv2-SHA-256", nonce, sizeof(nonce), T0) == 503;
	EXPECT_INT(s503, >, 0);
	cscf_reg_free(small);
	use_aka();
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
	UNIT_RUN(tna_wwsf_must_be_allowed);
	UNIT_RUN(tna_blocked_wwsf);
	UNIT_RUN(tna_binding_records_wwsf);
	UNIT_RUN(originating_needs_a_registration);
	UNIT_RUN(wwsf_identity_from_untrusted_source_is_ignored);
	UNIT_RUN(interval_too_brief_is_423);
	UNIT_RUN(deregistration_one_contact_then_star);
	UNIT_RUN(older_cseq_is_refused);
	UNIT_RUN(fetch_lists_bindings);
	UNIT_RUN(instance_reg_id_replaces_the_flow);
	UNIT_RUN(oldest_binding_makes_room);
	UNIT_RUN(purge_expires_and_deregisters_in_the_hss);
	UNIT_RUN(bindings_removed_elsewhere_deregister_in_the_hss);
	UNIT_RUN(aka_challenge_per_scheme);
	UNIT_RUN(akav2_registers_with_rspauth);
	UNIT_RUN(akav1_registers_with_rspauth);
	UNIT_RUN(aka_wrong_response_is_403_and_spends_the_vector);
	UNIT_RUN(aka_replayed_answer_is_never_200);
	UNIT_RUN(aka_resync_then_200);
	UNIT_RUN(aka_forged_auts_is_403);
	UNIT_RUN(aka_ue_refusing_autn_is_403);
	UNIT_RUN(aka_stale_and_forged_nonces);
	UNIT_RUN(aka_answer_on_another_worker);
	UNIT_RUN(aka_spare_vectors);
	UNIT_RUN(aka_guessing_is_blocked);
	UNIT_RUN(aka_pending_table_full_is_503);
	UNIT_RUN(aka_flood_for_one_impi_fills_nothing);
	use_digest();
	teardown();
	return UNIT_MAIN_END();
}
