/*
 * cx_test.c - UAR, MAR, SAR, LIR against a provisioned store: results for
 * known, unknown (5001), mismatched (5002) and barred (5003) identities,
 * the Digest vector contents, S-CSCF assignment through SAR as LIR and
 * UAR see it, and a struct cx shared by threads.
 *
 * Digest AKA: vectors from cx_mar_aka (libosmogsm) verified by our card
 * side (aka_usim_authenticate), SQNs increasing and reserved across
 * handles, IND rotating, the scheme refused where not allowed (5006),
 * resynchronisation with a good AUTS (a card that was behind, a restored
 * HSS, an old AUTS replayed) and a bad one (4001), barred and unknown
 * users, and the demo subscribers.
 *
 * Trusted node authentication (cx_tna_authorize, TR 33.871 6.1.2.2 step
 * 4): an allowed WWSF, a pool owner, and the refusals with their reasons:
 * blocked (and unblocked again, seen at once), not allowed, another
 * WWSF's pool, an IMPI without the tna scheme, barred, an IMPU of another
 * IMPI, unknown identities.
 */
#include "hss/cx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "core/global.h"
#include "core/wims.h"
#include "hss/hss_int.h"
#include "store/store.h"
#include "unit.h"

static char dir[64];
static char path[128];
static struct cx *cx;

#define SCSCF "sip:scscf.ims.example.org:5060"

static int provision(struct store *st, const char *impi, const char *pw,
		     const char *const *impus, size_t n)
{
	return hss_provision(st, impi, "ims.example.org", pw, pw ? strlen(pw) : 0, impus, n);
}

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-cx-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/hss.db", dir);
	struct store *st;
	char err[256];
	if (store_open(path, &st, err, sizeof(err)))
		return -1;
	const char *alice[] = {"sip:alice@ims.example.org", "tel:+15550000001"};
	const char *bob[] = {"sip:bob@ims.example.org"};
	const char *dave[] = {"sip:dave@ims.example.org"};
	const char *erin[] = {"sip:erin@ims.example.org"};
	const char *frank[] = {"sip:frank@ims.example.org"};
	int rc = provision(st, "alice@ims.example.org", "alice-secret", alice, 2);
	rc = rc ? rc : provision(st, "bob@ims.example.org", "bob-secret", bob, 1);
	rc = rc ? rc : provision(st, "dave@ims.example.org", "dave-secret", dave, 1);
	rc = rc ? rc : provision(st, "erin@ims.example.org", "erin-secret", erin, 1);
	rc = rc ? rc : provision(st, "frank@ims.example.org", NULL, frank, 1);
	rc = rc ? rc : store_subscriber_set_barred(st, "dave@ims.example.org", true);
	rc = rc ? rc : store_impu_set_barred(st, "sip:erin@ims.example.org", true);
	/* A barred IMPU in alice's set: registrable, flagged in the profile. */
	struct store_impu extra = {.impu = "sip:alice-old@ims.example.org",
				   .impi = "alice@ims.example.org",
				   .barred = true};
	rc = rc ? rc : store_impu_add(st, &extra);
	/* AKA: gina AKAv1 and AKAv2 (no Digest), hank AKAv2 without AKA
	 * data, ivy barred. */
	const char *gina[] = {"sip:gina@ims.example.org", "tel:+15550000007"};
	const char *hank[] = {"sip:hank@ims.example.org"};
	const char *ivy[] = {"sip:ivy@ims.example.org"};
	rc = rc ? rc : provision(st, "gina@ims.example.org", NULL, gina, 2);
	rc = rc ? rc : provision(st, "hank@ims.example.org", NULL, hank, 1);
	rc = rc ? rc : provision(st, "ivy@ims.example.org", NULL, ivy, 1);
	rc = rc ? rc : store_subscriber_set_schemes(st, "gina@ims.example.org",
						    STORE_SCHEME_AKAV1 | STORE_SCHEME_AKAV2);
	rc = rc ? rc : store_subscriber_set_schemes(st, "hank@ims.example.org", STORE_SCHEME_AKAV2);
	rc = rc ? rc : store_subscriber_set_schemes(st, "ivy@ims.example.org", STORE_SCHEME_AKAV2);
	static const uint8_t amf[2] = {0x80, 0x00};
	struct aka_keys keys;
	rc = rc ? rc : aka_demo_keys("gina@ims.example.org", &keys);
	rc = rc ? rc : hss_set_aka(st, "gina@ims.example.org", &keys, amf);
	rc = rc ? rc : aka_demo_keys("ivy@ims.example.org", &keys);
	rc = rc ? rc : hss_set_aka(st, "ivy@ims.example.org", &keys, amf);
	rc = rc ? rc : store_subscriber_set_barred(st, "ivy@ims.example.org", true);
	store_close(st);
	return rc;
}

static void open_and_default_path(void)
{
	char err[256] = "";
	EXPECT_TRUE(cx_open("/nonexistent-dir/a/b.db", err, sizeof(err)) == NULL);
	EXPECT_TRUE(err[0] != '\0');
	snprintf(hss_conf.db, sizeof(hss_conf.db), "%s", path);
	char p[256];
	EXPECT_INT(cx_default_store_path(p, sizeof(p)), ==, 0);
	EXPECT_STR(p, path);
	struct cx *c = cx_open(NULL, err, sizeof(err));
	EXPECT_TRUE(c != NULL);
	cx_close(c);
	hss_conf.db[0] = '\0';
	snprintf(wims_global.data_dir, sizeof(wims_global.data_dir), "/var/x");
	EXPECT_INT(cx_default_store_path(p, sizeof(p)), ==, 0);
	EXPECT_STR(p, "/var/x/hss.db");
	cx_close(NULL);
}

static void uar_results(void)
{
	struct cx_uaa a;
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:alice@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_FIRST_REGISTRATION);
	EXPECT_STR(a.server_name, "");
	/* No IMPI: the IMPU's owner. */
	EXPECT_INT(cx_uar(cx, "", "tel:+15550000001", "ims.example.org", CX_UAR_REGISTRATION, &a),
		   ==, CX_FIRST_REGISTRATION);
	EXPECT_INT(cx_uar(cx, "nobody@ims.example.org", "sip:alice@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:nobody@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:bob@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_INT(cx_uar(cx, "dave@ims.example.org", "sip:dave@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_AUTHORIZATION_REJECTED);
	/* Every IMPU of erin's set barred. */
	EXPECT_INT(cx_uar(cx, "erin@ims.example.org", "sip:erin@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_AUTHORIZATION_REJECTED);
	/* alice's barred IMPU sits in a set with unbarred ones. */
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:alice-old@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_FIRST_REGISTRATION);
	EXPECT_INT(cx_uar(cx, "bob@ims.example.org", "sip:bob@ims.example.org", NULL,
			  CX_UAR_DE_REGISTRATION, &a),
		   ==, CX_ERROR_IDENTITY_NOT_REGISTERED);
	EXPECT_INT(cx_uar(cx, "bob@ims.example.org", "", NULL, CX_UAR_REGISTRATION, &a), ==,
		   WIMS_EINVAL);
	EXPECT_INT(cx_uar(cx, "bob@ims.example.org", "sip:bob@ims.example.org", NULL,
			  (enum cx_uar_type)9, &a),
		   ==, WIMS_EINVAL);
}

static void mar_vectors(void)
{
	struct cx_maa m;
	char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX];
	digest_ha1(DIGEST_ALG_MD5, SLICE_LIT("alice@ims.example.org"),
		   SLICE_LIT("ims.example.org"), SLICE_LIT("alice-secret"), md5);
	digest_ha1(DIGEST_ALG_SHA256, SLICE_LIT("alice@ims.example.org"),
		   SLICE_LIT("ims.example.org"), SLICE_LIT("alice-secret"), sha);

	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			  CX_AUTH_DIGEST_MD5, &m),
		   ==, CX_SUCCESS);
	EXPECT_STR(m.impi, "alice@ims.example.org");
	EXPECT_STR(m.realm, "ims.example.org");
	EXPECT_STR(m.algorithm, "MD5");
	EXPECT_INT(m.alg, ==, DIGEST_ALG_MD5);
	EXPECT_STR(m.qop, "auth");
	EXPECT_STR(m.ha1, md5);
	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", "tel:+15550000001", CX_AUTH_DIGEST_SHA256,
			  &m),
		   ==, CX_SUCCESS);
	EXPECT_STR(m.algorithm, "SHA-256");
	EXPECT_STR(m.ha1, sha);
	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", NULL, CX_AUTH_UNKNOWN, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(m.scheme, ==, CX_AUTH_DIGEST_SHA256);
	EXPECT_STR(m.ha1, sha);
	/* The answer verifies a response the client computes from its password. */
	char resp[DIGEST_HEX_MAX];
	digest_response(DIGEST_ALG_SHA256, slice_from_cstr(sha), SLICE_LIT("n1"),
			SLICE_LIT("00000001"), SLICE_LIT("c1"), SLICE_LIT("auth"),
			SLICE_LIT("REGISTER"), SLICE_LIT("sip:ims.example.org"), NULL, resp);
	EXPECT_INT(digest_verify(m.alg, slice_from_cstr(m.ha1), SLICE_LIT("n1"),
				 SLICE_LIT("00000001"), SLICE_LIT("c1"), SLICE_LIT("auth"),
				 SLICE_LIT("REGISTER"), SLICE_LIT("sip:ims.example.org"), NULL,
				 slice_from_cstr(resp)),
		   ==, 0);

	EXPECT_INT(cx_mar(cx, "nobody@ims.example.org", "sip:nobody@ims.example.org",
			  CX_AUTH_DIGEST_MD5, &m),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_STR(m.ha1, "");
	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", "sip:nobody@ims.example.org",
			  CX_AUTH_DIGEST_MD5, &m),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", "sip:bob@ims.example.org",
			  CX_AUTH_DIGEST_MD5, &m),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_STR(m.ha1, "");
	EXPECT_INT(cx_mar(cx, "dave@ims.example.org", "sip:dave@ims.example.org",
			  CX_AUTH_DIGEST_MD5, &m),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_mar(cx, "frank@ims.example.org", "sip:frank@ims.example.org",
			  CX_AUTH_DIGEST_SHA256, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(cx_mar(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			  CX_AUTH_AKAV1_MD5, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(cx_mar(cx, "", "sip:alice@ims.example.org", CX_AUTH_DIGEST_MD5, &m), ==,
		   WIMS_EINVAL);
}

static void sar_assigns_lir_finds(void)
{
	struct cx_saa s;
	struct cx_lia l;
	struct cx_uaa a;
	EXPECT_INT(cx_lir(cx, "sip:alice@ims.example.org", &l), ==,
		   CX_ERROR_IDENTITY_NOT_REGISTERED);
	EXPECT_STR(l.impi, "alice@ims.example.org");
	EXPECT_INT(cx_sar(cx, "alice@ims.example.org", "tel:+15550000001", CX_SAR_REGISTRATION,
			  SCSCF, &s),
		   ==, CX_SUCCESS);
	EXPECT_STR(s.impi, "alice@ims.example.org");
	EXPECT_STR(s.server_name, SCSCF);
	/* The implicit set, the requested IMPU first; the barred one flagged. */
	EXPECT_INT(s.n_impus, ==, 3);
	EXPECT_STR(s.impus[0].impu, "tel:+15550000001");
	EXPECT_TRUE(!s.impus[0].barred);
	size_t barred = 0;
	for (size_t i = 0; i < s.n_impus; i++)
		if (s.impus[i].barred) {
			barred++;
			EXPECT_STR(s.impus[i].impu, "sip:alice-old@ims.example.org");
		}
	EXPECT_INT(barred, ==, 1);

	EXPECT_INT(cx_lir(cx, "sip:alice@ims.example.org", &l), ==, CX_SUCCESS);
	EXPECT_STR(l.server_name, SCSCF);
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:alice@ims.example.org", NULL,
			  CX_UAR_REGISTRATION, &a),
		   ==, CX_SUBSEQUENT_REGISTRATION);
	EXPECT_STR(a.server_name, SCSCF);
	EXPECT_INT(cx_uar(cx, "alice@ims.example.org", "sip:alice@ims.example.org", NULL,
			  CX_UAR_DE_REGISTRATION, &a),
		   ==, CX_SUCCESS);

	/* RE_REGISTRATION keeps it; a failed authentication changes nothing. */
	EXPECT_INT(cx_sar(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			  CX_SAR_RE_REGISTRATION, SCSCF, &s),
		   ==, CX_SUCCESS);
	EXPECT_STR(s.impus[0].impu, "sip:alice@ims.example.org");
	EXPECT_INT(cx_sar(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			  CX_SAR_AUTHENTICATION_FAILURE, SCSCF, &s),
		   ==, CX_SUCCESS);
	EXPECT_INT(cx_lir(cx, "tel:+15550000001", &l), ==, CX_SUCCESS);

	/* Deregistration clears it (not the _STORE_SERVER_NAME kind). */
	EXPECT_INT(cx_sar(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			  CX_SAR_USER_DEREGISTRATION_STORE_SERVER_NAME, SCSCF, &s),
		   ==, CX_SUCCESS);
	EXPECT_STR(s.server_name, SCSCF);
	EXPECT_INT(cx_sar(cx, "", "sip:alice@ims.example.org", CX_SAR_TIMEOUT_DEREGISTRATION, "",
			  &s),
		   ==, CX_SUCCESS);
	EXPECT_STR(s.server_name, "");
	EXPECT_INT(cx_lir(cx, "sip:alice@ims.example.org", &l), ==,
		   CX_ERROR_IDENTITY_NOT_REGISTERED);

	/* Refusals. */
	EXPECT_INT(cx_sar(cx, "nobody@ims.example.org", "sip:alice@ims.example.org",
			  CX_SAR_REGISTRATION, SCSCF, &s),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(s.n_impus, ==, 0);
	EXPECT_INT(cx_sar(cx, "bob@ims.example.org", "sip:alice@ims.example.org",
			  CX_SAR_REGISTRATION, SCSCF, &s),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_INT(cx_lir(cx, "sip:alice@ims.example.org", &l), ==,
		   CX_ERROR_IDENTITY_NOT_REGISTERED);
	EXPECT_INT(cx_sar(cx, "dave@ims.example.org", "sip:dave@ims.example.org",
			  CX_SAR_REGISTRATION, SCSCF, &s),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_sar(cx, "bob@ims.example.org", "sip:bob@ims.example.org",
			  (enum cx_sar_type)99, SCSCF, &s),
		   ==, CX_ERROR_IN_ASSIGNMENT_TYPE);
	EXPECT_INT(cx_sar(cx, "bob@ims.example.org", "sip:bob@ims.example.org",
			  CX_SAR_REGISTRATION, "", &s),
		   ==, WIMS_EINVAL);
	EXPECT_INT(cx_lir(cx, "sip:nobody@ims.example.org", &l), ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_lir(cx, "", &l), ==, WIMS_EINVAL);
}

/* Registrations assigned by SAR survive closing and reopening the HSS. */
static void assignment_survives_reopen(void)
{
	struct cx_saa s;
	struct cx_lia l;
	EXPECT_INT(cx_sar(cx, "bob@ims.example.org", "sip:bob@ims.example.org",
			  CX_SAR_REGISTRATION, SCSCF, &s),
		   ==, CX_SUCCESS);
	cx_close(cx);
	char err[256];
	cx = cx_open(path, err, sizeof(err));
	EXPECT_TRUE(cx != NULL);
	EXPECT_INT(cx_lir(cx, "sip:bob@ims.example.org", &l), ==, CX_SUCCESS);
	EXPECT_STR(l.server_name, SCSCF);
}

static void *mar_thread(void *arg)
{
	long ok = 0;
	for (int i = 0; i < 200; i++) {
		struct cx_maa m;
		if (cx_mar(cx, "bob@ims.example.org", "sip:bob@ims.example.org",
			   i % 2 ? CX_AUTH_DIGEST_MD5 : CX_AUTH_DIGEST_SHA256, &m) == CX_SUCCESS &&
		    strlen(m.ha1) == (i % 2 ? 32u : 64u))
			ok++;
	}
	*(long *)arg = ok;
	return NULL;
}

static void shared_by_threads(void)
{
	pthread_t th[4];
	long ok[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, mar_thread, &ok[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_INT(ok[i], ==, 200);
	}
}

/* The cache in front of the store never answers stale: a password, a
 * barring or an IMPU barring changed through another store handle (as
 * `wims hss passwd` in another process does) is seen by the next MAR,
 * UAR and SAR of the same struct cx, which had the old data cached. */
static void cache_sees_other_handles(void)
{
	const char *impi = "alice@ims.example.org", *impu = "sip:alice@ims.example.org";
	struct cx_maa m;
	struct cx_uaa ua;
	struct cx_saa s;
	char err[256], want[DIGEST_HEX_MAX];
	struct store *other = NULL;
	EXPECT_INT(store_open(path, &other, err, sizeof(err)), ==, 0);
	if (!other)
		return;
	/* Cached now. */
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_SHA256, &m), ==, CX_SUCCESS);
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_SHA256, &m), ==, CX_SUCCESS);
	EXPECT_INT(digest_ha1(DIGEST_ALG_SHA256, slice_from_cstr(impi),
			      slice_from_cstr("ims.example.org"), slice_from_cstr("alice-secret"),
			      want),
		   ==, 0);
	EXPECT_STR(m.ha1, want);

	EXPECT_INT(store_subscriber_set_password(other, impi, "new-secret", 10), ==, 0);
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_SHA256, &m), ==, CX_SUCCESS);
	EXPECT_INT(digest_ha1(DIGEST_ALG_SHA256, slice_from_cstr(impi),
			      slice_from_cstr("ims.example.org"), slice_from_cstr("new-secret"),
			      want),
		   ==, 0);
	EXPECT_STR(m.ha1, want);
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_MD5, &m), ==, CX_SUCCESS);
	EXPECT_INT(digest_ha1(DIGEST_ALG_MD5, slice_from_cstr(impi),
			      slice_from_cstr("ims.example.org"), slice_from_cstr("new-secret"),
			      want),
		   ==, 0);
	EXPECT_STR(m.ha1, want);

	/* Barring the IMPI: refused at once, and allowed again at once. */
	EXPECT_INT(store_subscriber_set_barred(other, impi, true), ==, 0);
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_SHA256, &m), ==,
		   CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_uar(cx, impi, impu, NULL, CX_UAR_REGISTRATION, &ua), ==,
		   CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_sar(cx, impi, impu, CX_SAR_REGISTRATION, SCSCF, &s), ==,
		   CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(store_subscriber_set_barred(other, impi, false), ==, 0);
	EXPECT_INT(cx_mar(cx, impi, impu, CX_AUTH_DIGEST_SHA256, &m), ==, CX_SUCCESS);

	/* Barring an IMPU of the set: the SAA flags it. */
	EXPECT_INT(cx_sar(cx, impi, impu, CX_SAR_REGISTRATION, SCSCF, &s), ==, CX_SUCCESS);
	EXPECT_INT(s.n_impus, ==, 3);
	bool tel_barred = true;
	for (size_t i = 0; i < s.n_impus; i++)
		if (strcmp(s.impus[i].impu, "tel:+15550000001") == 0)
			tel_barred = s.impus[i].barred;
	EXPECT_TRUE(!tel_barred);
	EXPECT_INT(store_impu_set_barred(other, "tel:+15550000001", true), ==, 0);
	EXPECT_INT(cx_sar(cx, impi, impu, CX_SAR_RE_REGISTRATION, SCSCF, &s), ==, CX_SUCCESS);
	EXPECT_STR(s.impus[0].impu, impu);
	for (size_t i = 0; i < s.n_impus; i++)
		if (strcmp(s.impus[i].impu, "tel:+15550000001") == 0)
			tel_barred = s.impus[i].barred;
	EXPECT_TRUE(tel_barred);
	EXPECT_INT(store_impu_set_barred(other, "tel:+15550000001", false), ==, 0);

	/* A deregistration through another handle: UAR and LIR see it. */
	struct cx_lia l;
	EXPECT_INT(cx_lir(cx, impu, &l), ==, CX_SUCCESS);
	EXPECT_INT(store_subscriber_set_scscf(other, impi, ""), ==, 0);
	EXPECT_INT(cx_lir(cx, impu, &l), ==, CX_ERROR_IDENTITY_NOT_REGISTERED);
	EXPECT_INT(cx_uar(cx, impi, impu, NULL, CX_UAR_REGISTRATION, &ua), ==,
		   CX_FIRST_REGISTRATION);
	/* Removed through another handle: unknown at once. */
	const char *gone[] = {"sip:gone@ims.example.org"};
	EXPECT_INT(provision(other, "gone@ims.example.org", "pw", gone, 1), ==, 0);
	EXPECT_INT(cx_mar(cx, "gone@ims.example.org", gone[0], CX_AUTH_DIGEST_MD5, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(store_subscriber_remove(other, "gone@ims.example.org"), ==, 0);
	EXPECT_INT(cx_mar(cx, "gone@ims.example.org", gone[0], CX_AUTH_DIGEST_MD5, &m), ==,
		   CX_ERROR_USER_UNKNOWN);
	/* An IMPI that exists but does not own the cached IMPU. */
	EXPECT_INT(cx_mar(cx, "bob@ims.example.org", impu, CX_AUTH_DIGEST_MD5, &m), ==,
		   CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_INT(cx_mar(cx, "nobody@ims.example.org", impu, CX_AUTH_DIGEST_MD5, &m), ==,
		   CX_ERROR_USER_UNKNOWN);
	store_close(other);
}

/* --- Digest AKA --- */

#define GINA "gina@ims.example.org"
#define GINA_SIP "sip:gina@ims.example.org"

/* gina's card: her keys and SQN state. */
static struct aka_keys gina_keys;
static struct aka_sqn_state gina_card;

/* The SQN a vector carries (AUTN's first 6 bytes xor AK). */
static uint64_t vector_sqn(const struct aka_keys *keys, const struct cx_aka_vector *v)
{
	uint8_t ak[AKA_SQN_LEN], sqn[AKA_SQN_LEN];
	if (aka_milenage_f2345(keys, v->rand, NULL, NULL, NULL, ak, NULL))
		return 0;
	for (int i = 0; i < AKA_SQN_LEN; i++)
		sqn[i] = v->autn[i] ^ ak[i];
	return aka_sqn_from_bytes(sqn);
}

/* The card answers the vector as the HSS expects: AKA_OK, and RES, CK, IK
 * are the vector's.  Else the aka_result (or -1: wrong outputs). */
static int card(const struct cx_aka_vector *v, struct aka_usim_out *out)
{
	int rc = aka_usim_authenticate(&gina_keys, &gina_card, v->rand, v->autn, out);
	if (rc != AKA_OK)
		return rc;
	if (v->xres_len != AKA_RES_LEN || memcmp(out->res, v->xres, AKA_RES_LEN) ||
	    memcmp(out->ck, v->ck, 16) || memcmp(out->ik, v->ik, 16))
		return -1;
	return AKA_OK;
}

static uint64_t stored_sqn(const char *impi)
{
	struct store *st = NULL;
	char err[256];
	struct store_aka a = {.sqn = UINT64_MAX};
	if (store_open(path, &st, err, sizeof(err)) == 0)
		store_aka_get(st, impi, &a);
	store_close(st);
	return a.sqn;
}

/* As `wims hss aka IMPI --sqn N` does, through another handle. */
static int set_stored_sqn(const char *impi, uint64_t sqn)
{
	struct store *st = NULL;
	char err[256];
	int rc = store_open(path, &st, err, sizeof(err));
	if (!rc)
		rc = store_aka_set_sqn(st, impi, sqn);
	store_close(st);
	return rc;
}

static void mar_aka_vectors_verify(void)
{
	EXPECT_INT(aka_demo_keys(GINA, &gina_keys), ==, 0);
	memset(&gina_card, 0, sizeof(gina_card));
	struct cx_maa_aka m;
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, CX_MAX_AKA_VECTORS, NULL,
			      &m),
		   ==, CX_SUCCESS);
	EXPECT_STR(m.impi, GINA);
	EXPECT_INT(m.scheme, ==, CX_AUTH_AKAV2_SHA256);
	EXPECT_INT(m.n, ==, CX_MAX_AKA_VECTORS);
	uint64_t prev = 0;
	for (size_t i = 0; i < m.n; i++) {
		uint64_t sqn = vector_sqn(&gina_keys, &m.v[i]);
		/* SEQ 1, 2, ... each in the next IND slot. */
		EXPECT_INT(sqn >> AKA_IND_BITS, ==, i + 1);
		EXPECT_INT(sqn & (AKA_IND_SLOTS - 1), ==, i);
		EXPECT_TRUE(sqn > prev);
		prev = sqn;
		for (size_t j = 0; j < i; j++)
			EXPECT_TRUE(memcmp(m.v[i].rand, m.v[j].rand, 16) != 0);
		/* AMF 8000 as provisioned. */
		EXPECT_INT(m.v[i].autn[6], ==, 0x80);
		EXPECT_INT(m.v[i].autn[7], ==, 0x00);
	}
	/* Stored before the answer: the last SQN handed out. */
	EXPECT_INT(stored_sqn(GINA), ==, prev);
	/* The card takes each, in any order (IND slots). */
	struct aka_usim_out out;
	for (size_t i = m.n; i-- > 0;)
		EXPECT_INT(card(&m.v[i], &out), ==, AKA_OK);
	/* ...once. */
	EXPECT_INT(card(&m.v[2], &out), ==, AKA_SYNC_FAILURE);

	/* The next MAR goes on where this one stopped; AKAv1 too, and
	 * through the tel IMPU or the IMPI alone. */
	EXPECT_INT(cx_mar_aka(cx, GINA, "tel:+15550000007", CX_AUTH_AKAV1_MD5, 1, NULL, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(m.scheme, ==, CX_AUTH_AKAV1_MD5);
	EXPECT_INT(vector_sqn(&gina_keys, &m.v[0]), ==, (6u << AKA_IND_BITS) | 5);
	EXPECT_INT(card(&m.v[0], &out), ==, AKA_OK);
	EXPECT_INT(cx_mar_aka(cx, GINA, "", CX_AUTH_AKAV2_SHA256, 2, NULL, &m), ==, CX_SUCCESS);
	EXPECT_INT(m.n, ==, 2);
	EXPECT_INT(card(&m.v[0], &out), ==, AKA_OK);
	EXPECT_INT(card(&m.v[1], &out), ==, AKA_OK);
}

static void mar_aka_refusals(void)
{
	struct cx_maa_aka m;
	struct cx_maa d;
	/* Scheme not allowed for the IMPI: AKA for a Digest user, Digest
	 * for an AKA-only one, AKA without AKA data. */
	EXPECT_INT(cx_mar_aka(cx, "alice@ims.example.org", "sip:alice@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(m.n, ==, 0);
	EXPECT_INT(cx_mar(cx, GINA, GINA_SIP, CX_AUTH_DIGEST_SHA256, &d), ==,
		   CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(cx_mar(cx, GINA, GINA_SIP, CX_AUTH_UNKNOWN, &d), ==,
		   CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_STR(d.ha1, "");
	EXPECT_INT(cx_mar_aka(cx, "hank@ims.example.org", "sip:hank@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(cx_mar_aka(cx, "hank@ims.example.org", "sip:hank@ims.example.org",
			      CX_AUTH_AKAV1_MD5, 1, NULL, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_DIGEST_MD5, 1, NULL, &m), ==,
		   CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	/* Barred, unknown, not matching. */
	EXPECT_INT(cx_mar_aka(cx, "ivy@ims.example.org", "sip:ivy@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_mar_aka(cx, "nobody@ims.example.org", "sip:nobody@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_mar_aka(cx, "nobody@ims.example.org", "", CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_mar_aka(cx, GINA, "sip:bob@ims.example.org", CX_AUTH_AKAV2_SHA256, 1, NULL,
			      &m),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	/* Bad arguments; none of these took a SQN. */
	uint64_t before = stored_sqn(GINA);
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 0, NULL, &m), ==,
		   WIMS_EINVAL);
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, CX_MAX_AKA_VECTORS + 1,
			      NULL, &m),
		   ==, WIMS_EINVAL);
	EXPECT_INT(cx_mar_aka(cx, "", GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, NULL, &m), ==,
		   WIMS_EINVAL);
	EXPECT_INT(stored_sqn(GINA), ==, before);
}

/* What a MAR would serve, in one lookup: per scheme bit, with the same
 * refusals as cx_mar. */
static void mar_schemes_served(void)
{
	unsigned served = 99;
	EXPECT_INT(cx_mar_schemes(cx, "alice@ims.example.org", "sip:alice@ims.example.org", &served),
		   ==, CX_SUCCESS);
	EXPECT_INT(served, ==, (1u << CX_AUTH_DIGEST_MD5) | (1u << CX_AUTH_DIGEST_SHA256));
	EXPECT_INT(cx_mar_schemes(cx, GINA, GINA_SIP, &served), ==, CX_SUCCESS);
	EXPECT_INT(served, ==, (1u << CX_AUTH_AKAV1_MD5) | (1u << CX_AUTH_AKAV2_SHA256));
	/* Digest allowed but no password set: nothing to serve. */
	EXPECT_INT(cx_mar_schemes(cx, "frank@ims.example.org", "sip:frank@ims.example.org", &served),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	EXPECT_INT(served, ==, 0);
	EXPECT_INT(cx_mar_schemes(cx, "ivy@ims.example.org", "sip:ivy@ims.example.org", &served), ==,
		   CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(cx_mar_schemes(cx, "nobody@ims.example.org", "", &served), ==,
		   CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(cx_mar_schemes(cx, GINA, "sip:bob@ims.example.org", &served), ==,
		   CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_INT(cx_mar_schemes(cx, "", GINA_SIP, &served), ==, WIMS_EINVAL);
}

/* RAND || AUTS of the card's refusal of v. */
static int refusal(const struct cx_aka_vector *v, uint8_t resync[30])
{
	struct aka_usim_out out;
	int rc = aka_usim_authenticate(&gina_keys, &gina_card, v->rand, v->autn, &out);
	memcpy(resync, v->rand, 16);
	memcpy(resync + 16, out.auts, 14);
	return rc;
}

static void mar_aka_resync(void)
{
	struct cx_maa_aka m;
	struct aka_usim_out out;
	uint8_t resync[30], old_resync[30];
	EXPECT_INT(aka_demo_keys(GINA, &gina_keys), ==, 0);

	/* A restored HSS: its SQN went back to 0, the card is ahead in
	 * every IND slot. */
	memset(&gina_card, 0, sizeof(gina_card));
	for (unsigned n = 0; n < AKA_IND_SLOTS + 5; n += 5) {
		EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 5, NULL, &m), ==,
			   CX_SUCCESS);
		for (int i = 0; i < 5; i++)
			EXPECT_INT(card(&m.v[i], &out), ==, AKA_OK);
	}
	EXPECT_INT(set_stored_sqn(GINA, 0), ==, 0);
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, NULL, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(refusal(&m.v[0], resync), ==, AKA_SYNC_FAILURE);
	memcpy(old_resync, resync, sizeof(resync));
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 2, resync, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(m.n, ==, 2);
	EXPECT_INT(card(&m.v[0], &out), ==, AKA_OK);
	EXPECT_INT(card(&m.v[1], &out), ==, AKA_OK);
	EXPECT_INT(vector_sqn(&gina_keys, &m.v[0]) >> AKA_IND_BITS, ==,
		   (aka_sqn_ms(&gina_card) >> AKA_IND_BITS) - 1);

	/* The old AUTS replayed (to a card replaced by a fresh one): its
	 * SQN_MS is behind the HSS's SQN, whose next vector the card takes:
	 * the SQN is kept, an old AUTS never pulls it back. */
	uint64_t before = stored_sqn(GINA);
	memset(&gina_card, 0, sizeof(gina_card));
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, old_resync, &m), ==,
		   CX_SUCCESS);
	EXPECT_TRUE(stored_sqn(GINA) > before);
	EXPECT_INT(card(&m.v[0], &out), ==, AKA_OK);

	/* A card far ahead (beyond DELTA of the HSS's next SQN): reset to its
	 * SQN_MS. */
	uint64_t far = before + ((AKA_SQN_DELTA + 100) << AKA_IND_BITS);
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		gina_card.seq[i] = far >> AKA_IND_BITS;
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, NULL, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(refusal(&m.v[0], resync), ==, AKA_SYNC_FAILURE);
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, resync, &m), ==,
		   CX_SUCCESS);
	EXPECT_INT(card(&m.v[0], &out), ==, AKA_OK);
	EXPECT_INT(vector_sqn(&gina_keys, &m.v[0]) >> AKA_IND_BITS, ==, (far >> AKA_IND_BITS) + 1);

	/* A bad MAC-S: 4001, and the SQN is not touched.  (The vector just
	 * used, replayed, makes the card answer AUTS.) */
	EXPECT_INT(refusal(&m.v[0], resync), ==, AKA_SYNC_FAILURE);
	before = stored_sqn(GINA);
	resync[29] ^= 0x01;
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, resync, &m), ==,
		   CX_AUTHENTICATION_REJECTED);
	EXPECT_INT(m.n, ==, 0);
	EXPECT_INT(stored_sqn(GINA), ==, before);
	/* AUTS of another RAND: its MAC-S does not hold either. */
	resync[29] ^= 0x01;
	resync[0] ^= 0x01;
	EXPECT_INT(cx_mar_aka(cx, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 1, resync, &m), ==,
		   CX_AUTHENTICATION_REJECTED);
	/* A resync for a user without AKA data. */
	EXPECT_INT(cx_mar_aka(cx, "hank@ims.example.org", "sip:hank@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, resync, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
}

/* Two struct cx (two cscf processes) never hand out one SQN twice. */
#define AKA_MARS 40
static uint64_t thread_sqns[2][AKA_MARS * 2];

static void *mar_aka_thread(void *arg)
{
	long t = (long)arg;
	char err[256];
	struct cx *c = cx_open(path, err, sizeof(err));
	for (int i = 0; c && i < AKA_MARS; i++) {
		struct cx_maa_aka m;
		if (cx_mar_aka(c, GINA, GINA_SIP, CX_AUTH_AKAV2_SHA256, 2, NULL, &m) != CX_SUCCESS)
			break;
		thread_sqns[t][2 * i] = vector_sqn(&gina_keys, &m.v[0]);
		thread_sqns[t][2 * i + 1] = vector_sqn(&gina_keys, &m.v[1]);
	}
	cx_close(c);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void mar_aka_two_handles(void)
{
	EXPECT_INT(aka_demo_keys(GINA, &gina_keys), ==, 0);
	pthread_t th[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, mar_aka_thread, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	uint64_t *all = &thread_sqns[0][0];
	size_t n = 2 * AKA_MARS * 2;
	qsort(all, n, sizeof(all[0]), cmp_u64);
	EXPECT_TRUE(all[0] != 0);
	for (size_t i = 1; i < n; i++)
		EXPECT_TRUE(all[i] > all[i - 1]);
	EXPECT_INT(stored_sqn(GINA), ==, all[n - 1]);
}

/* The demo: dave, erin, frank AKAv2 only with aka_demo_keys, SQN 0. */
static void demo_aka_subscribers(void)
{
	char p2[160], err[256];
	snprintf(p2, sizeof(p2), "%s/demo.db", dir);
	struct store *st = NULL;
	EXPECT_INT(store_open(p2, &st, err, sizeof(err)), ==, 0);
	EXPECT_INT(hss_seed_demo(st, "ims.example.org"), ==, 11);
	EXPECT_INT(hss_seed_demo(st, "ims.example.org"), ==, 0);
	static const char *const names[] = {"dave", "erin", "frank"};
	for (size_t i = 0; i < 3; i++) {
		char impi[64], tel[32];
		snprintf(impi, sizeof(impi), "%s@ims.example.org", names[i]);
		snprintf(tel, sizeof(tel), "tel:+1555000000%zu", i + 4);
		struct store_subscriber sub;
		EXPECT_INT(store_subscriber_get(st, impi, &sub), ==, 0);
		EXPECT_INT(sub.schemes, ==, STORE_SCHEME_AKAV2);
		EXPECT_STR(sub.ha1_md5, "");
		struct store_impu u;
		EXPECT_INT(store_impu_get(st, tel, &u), ==, 0);
		EXPECT_STR(u.impi, impi);
		struct store_aka a;
		struct aka_keys keys;
		EXPECT_INT(store_aka_get(st, impi, &a), ==, 0);
		EXPECT_INT(aka_demo_keys(impi, &keys), ==, 0);
		EXPECT_MEM(a.k, keys.k, 16);
		EXPECT_MEM(a.opc, keys.opc, 16);
		EXPECT_INT(a.amf[0], ==, 0x80);
		EXPECT_INT(a.amf[1], ==, 0x00);
		EXPECT_INT(a.sqn, ==, 0);
	}
	struct store_subscriber sub;
	EXPECT_INT(store_subscriber_get(st, "alice@ims.example.org", &sub), ==, 0);
	EXPECT_INT(sub.schemes, ==, STORE_SCHEME_DIGEST);
	struct store_aka a;
	EXPECT_INT(store_aka_get(st, "alice@ims.example.org", &a), ==, WIMS_ENOTFOUND);
	/* TNA: bob digest,tna; grace tna only, no password, allows the
	 * operator's WWSF; pool1..pool4 tna only, webshop's pool. */
	EXPECT_INT(store_subscriber_get(st, "bob@ims.example.org", &sub), ==, 0);
	EXPECT_INT(sub.schemes, ==, STORE_SCHEME_DIGEST | STORE_SCHEME_TNA);
	EXPECT_INT(store_subscriber_get(st, "grace@ims.example.org", &sub), ==, 0);
	EXPECT_INT(sub.schemes, ==, STORE_SCHEME_TNA);
	EXPECT_STR(sub.ha1_md5, "");
	EXPECT_STR(sub.ha1_sha256, "");
	struct store_impu gu;
	EXPECT_INT(store_impu_get(st, "tel:+15550000007", &gu), ==, 0);
	EXPECT_STR(gu.impi, "grace@ims.example.org");
	EXPECT_TRUE(store_wwsf_allowed(st, "grace@ims.example.org", "wwsf.ims.example.org"));
	EXPECT_TRUE(!store_wwsf_allowed(st, "grace@ims.example.org", "webshop.example.net"));
	for (int i = 1; i <= 4; i++) {
		char impi[64], impu[64], owner[WIMS_WWSF_ID_MAX];
		snprintf(impi, sizeof(impi), "pool%d@ims.example.org", i);
		snprintf(impu, sizeof(impu), "sip:pool%d@ims.example.org", i);
		EXPECT_INT(store_subscriber_get(st, impi, &sub), ==, 0);
		EXPECT_INT(sub.schemes, ==, STORE_SCHEME_TNA);
		EXPECT_INT(store_impu_get(st, impu, &gu), ==, 0);
		EXPECT_STR(gu.impi, impi);
		EXPECT_INT(store_pool_owner(st, impi, owner), ==, 0);
		EXPECT_STR(owner, "webshop.example.net");
	}
	/* A demo store of before TNA: bob with Digest only gets tna. */
	EXPECT_INT(store_subscriber_set_schemes(st, "bob@ims.example.org", STORE_SCHEME_DIGEST), ==,
		   0);
	EXPECT_INT(hss_seed_demo(st, "ims.example.org"), ==, 0);
	EXPECT_INT(store_subscriber_get(st, "bob@ims.example.org", &sub), ==, 0);
	EXPECT_INT(sub.schemes, ==, STORE_SCHEME_DIGEST | STORE_SCHEME_TNA);
	store_close(st);

	/* grace and the pool authorise as the demo shows. */
	{
		struct cx *t = cx_open(p2, err, sizeof(err));
		const char *why;
		EXPECT_INT(cx_tna_authorize(t, "grace@ims.example.org", "sip:grace@ims.example.org",
					    "wwsf.ims.example.org", &why),
			   ==, CX_SUCCESS);
		EXPECT_INT(cx_tna_authorize(t, "pool3@ims.example.org", "sip:pool3@ims.example.org",
					    "webshop.example.net", &why),
			   ==, CX_SUCCESS);
		EXPECT_INT(cx_tna_authorize(t, "pool3@ims.example.org", "sip:pool3@ims.example.org",
					    "wwsf.ims.example.org", &why),
			   ==, CX_AUTHORIZATION_REJECTED);
		cx_close(t);
	}

	/* A vector for dave is one his ME agent's card takes. */
	struct cx *c = cx_open(p2, err, sizeof(err));
	EXPECT_TRUE(c != NULL);
	struct cx_maa_aka m;
	EXPECT_INT(cx_mar_aka(c, "dave@ims.example.org", "sip:dave@ims.example.org",
			      CX_AUTH_AKAV2_SHA256, 1, NULL, &m),
		   ==, CX_SUCCESS);
	EXPECT_INT(cx_mar_aka(c, "dave@ims.example.org", "sip:dave@ims.example.org",
			      CX_AUTH_AKAV1_MD5, 1, NULL, &m),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	struct cx_maa d;
	EXPECT_INT(cx_mar(c, "dave@ims.example.org", "sip:dave@ims.example.org",
			  CX_AUTH_DIGEST_SHA256, &d),
		   ==, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	cx_close(c);
}

static void result_names(void)
{
	EXPECT_STR(cx_result_name(CX_ERROR_USER_UNKNOWN), "DIAMETER_ERROR_USER_UNKNOWN");
	EXPECT_STR(cx_result_name(5002), "DIAMETER_ERROR_IDENTITIES_DONT_MATCH");
	EXPECT_STR(cx_result_name(WIMS_ESTORE), "store error");
	EXPECT_INT(CX_FIRST_REGISTRATION, ==, 2001);
	EXPECT_INT(CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED, ==, 5006);
	EXPECT_INT(CX_AUTHENTICATION_REJECTED, ==, 4001);
	EXPECT_STR(cx_result_name(CX_AUTHENTICATION_REJECTED), "DIAMETER_AUTHENTICATION_REJECTED");
}

/* TR 33.871 6.1.2.2 step 4, 6.1.3, REQ 2.1, 2.2, 3.2. */
static void tna_authorize(void)
{
	char p2[160], err[256];
	snprintf(p2, sizeof(p2), "%s/tna.db", dir);
	struct store *st = NULL;
	EXPECT_INT(store_open(p2, &st, err, sizeof(err)), ==, 0);
	const char *grace[] = {"sip:grace@ims.example.org", "tel:+15550000007"};
	const char *bob[] = {"sip:bob@ims.example.org", "tel:+15550000002"};
	const char *pool1[] = {"sip:pool1@ims.example.org"};
	const char *pool2[] = {"sip:pool2@ims.example.org"};
	const char *ivy[] = {"sip:ivy@ims.example.org"};
	EXPECT_INT(provision(st, "grace@ims.example.org", NULL, grace, 2), ==, 0);
	EXPECT_INT(provision(st, "bob@ims.example.org", "bob-secret", bob, 2), ==, 0);
	EXPECT_INT(provision(st, "pool1@ims.example.org", NULL, pool1, 1), ==, 0);
	EXPECT_INT(provision(st, "pool2@ims.example.org", NULL, pool2, 1), ==, 0);
	EXPECT_INT(provision(st, "ivy@ims.example.org", NULL, ivy, 1), ==, 0);
	EXPECT_INT(store_subscriber_set_schemes(st, "grace@ims.example.org", STORE_SCHEME_TNA), ==,
		   0);
	EXPECT_INT(store_subscriber_set_schemes(st, "pool1@ims.example.org", STORE_SCHEME_TNA), ==,
		   0);
	EXPECT_INT(store_subscriber_set_schemes(st, "pool2@ims.example.org", STORE_SCHEME_TNA), ==,
		   0);
	EXPECT_INT(store_subscriber_set_schemes(st, "ivy@ims.example.org", STORE_SCHEME_TNA), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "grace@ims.example.org", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "bob@ims.example.org", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "ivy@ims.example.org", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(store_pool_add(st, "webshop.example.net", "pool1@ims.example.org"), ==, 0);
	EXPECT_INT(store_pool_add(st, "webshop.example.net", "pool2@ims.example.org"), ==, 0);
	EXPECT_INT(store_subscriber_set_barred(st, "ivy@ims.example.org", true), ==, 0);
	struct cx *c = cx_open(p2, err, sizeof(err));
	EXPECT_TRUE(c != NULL);
	const char *why = NULL;
#define TNA(impi, impu, wwsf) cx_tna_authorize(c, impi, impu, wwsf, &why)

	/* Allowed WWSF, both IMPUs of the set. */
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "wwsf.ims.example.org"),
		   ==, CX_SUCCESS);
	EXPECT_STR(why, "");
	EXPECT_INT(TNA("grace@ims.example.org", "tel:+15550000007", "wwsf.ims.example.org"), ==,
		   CX_SUCCESS);
	/* The pool owner. */
	EXPECT_INT(TNA("pool1@ims.example.org", "sip:pool1@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_SUCCESS);
	/* REQ 2.1: a WWSF the subscriber did not allow. */
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "WWSF not allowed for this subscription");
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "WWSF.ims.example.org"),
		   ==, CX_AUTHORIZATION_REJECTED);
	/* REQ 3.2: a pool IMPI through another WWSF. */
	EXPECT_INT(TNA("pool1@ims.example.org", "sip:pool1@ims.example.org",
		       "wwsf.ims.example.org"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "IMPI not in the WWSF's pool");
	/* bob allows digest only: no TNA for him, allowed WWSF or not. */
	EXPECT_INT(TNA("bob@ims.example.org", "sip:bob@ims.example.org", "wwsf.ims.example.org"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "trusted node authentication not allowed for this IMPI");
	EXPECT_INT(store_subscriber_set_schemes(st, "bob@ims.example.org",
						STORE_SCHEME_DIGEST | STORE_SCHEME_TNA),
		   ==, 0);
	EXPECT_INT(TNA("bob@ims.example.org", "tel:+15550000002", "wwsf.ims.example.org"), ==,
		   CX_SUCCESS);
	/* Barred. */
	EXPECT_INT(TNA("ivy@ims.example.org", "sip:ivy@ims.example.org", "wwsf.ims.example.org"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "subscription barred");
	/* The IMPU of another IMPI (REQ 2.4 at the HSS). */
	EXPECT_INT(TNA("grace@ims.example.org", "sip:bob@ims.example.org", "wwsf.ims.example.org"),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_STR(why, "IMPU is not an identity of this IMPI");
	EXPECT_INT(TNA("pool2@ims.example.org", "sip:pool1@ims.example.org", "webshop.example.net"),
		   ==, CX_ERROR_IDENTITIES_DONT_MATCH);
	EXPECT_INT(TNA("nobody@ims.example.org", "sip:grace@ims.example.org",
		       "wwsf.ims.example.org"),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_STR(why, "unknown identity");
	EXPECT_INT(TNA("grace@ims.example.org", "sip:nobody@ims.example.org",
		       "wwsf.ims.example.org"),
		   ==, CX_ERROR_USER_UNKNOWN);
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org", ""), ==, WIMS_EINVAL);
	EXPECT_INT(TNA("", "sip:grace@ims.example.org", "wwsf.ims.example.org"), ==, WIMS_EINVAL);

	/* REQ 2.2: a block (from another handle: the CLI) applies to the
	 * next request, and only to that WWSF; unblocking restores it. */
	EXPECT_INT(store_wwsf_block(st, "webshop.example.net", "test", 1), ==, 0);
	EXPECT_INT(TNA("pool2@ims.example.org", "sip:pool2@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "WWSF blocked");
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "wwsf.ims.example.org"),
		   ==, CX_SUCCESS);
	/* Blocked beats allowed. */
	EXPECT_INT(store_wwsf_allow(st, "grace@ims.example.org", "webshop.example.net"), ==, 0);
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "WWSF blocked");
	EXPECT_INT(store_wwsf_unblock(st, "webshop.example.net"), ==, 0);
	EXPECT_INT(TNA("pool2@ims.example.org", "sip:pool2@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_SUCCESS);
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_SUCCESS);
	/* Allowed lists and pools are read every time too. */
	EXPECT_INT(store_wwsf_disallow(st, "grace@ims.example.org", "webshop.example.net"), ==, 0);
	EXPECT_INT(TNA("grace@ims.example.org", "sip:grace@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_INT(store_pool_remove(st, "webshop.example.net", "pool2@ims.example.org"), ==, 0);
	EXPECT_INT(TNA("pool2@ims.example.org", "sip:pool2@ims.example.org",
		       "webshop.example.net"),
		   ==, CX_AUTHORIZATION_REJECTED);
	EXPECT_STR(why, "WWSF not allowed for this subscription");
#undef TNA
	cx_close(c);
	store_close(st);
}

int main(void)
{
	if (setup() != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	char err[256];
	cx = cx_open(path, err, sizeof(err));
	if (!cx) {
		fprintf(stderr, "cx_open: %s\n", err);
		return 1;
	}
	UNIT_RUN(open_and_default_path);
	UNIT_RUN(uar_results);
	UNIT_RUN(mar_vectors);
	UNIT_RUN(sar_assigns_lir_finds);
	UNIT_RUN(assignment_survives_reopen);
	UNIT_RUN(shared_by_threads);
	UNIT_RUN(cache_sees_other_handles);
	UNIT_RUN(mar_aka_vectors_verify);
	UNIT_RUN(mar_aka_refusals);
	UNIT_RUN(mar_schemes_served);
	UNIT_RUN(mar_aka_resync);
	UNIT_RUN(mar_aka_two_handles);
	UNIT_RUN(demo_aka_subscribers);
	UNIT_RUN(result_names);
	UNIT_RUN(tna_authorize);
	cx_close(cx);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return UNIT_MAIN_END();
}
