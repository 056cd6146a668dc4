/*
 * cx_test.c - UAR, MAR, SAR, LIR against a provisioned store: results for
 * known, unknown (5001), mismatched (5002) and barred (5003) identities,
 * the Digest vector contents, S-CSCF assignment through SAR as LIR and
 * UAR see it, and a struct cx shared by threads.
 */
#include "hss/cx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void result_names(void)
{
	EXPECT_STR(cx_result_name(CX_ERROR_USER_UNKNOWN), "DIAMETER_ERROR_USER_UNKNOWN");
	EXPECT_STR(cx_result_name(5002), "DIAMETER_ERROR_IDENTITIES_DONT_MATCH");
	EXPECT_STR(cx_result_name(WIMS_ESTORE), "store error");
	EXPECT_INT(CX_FIRST_REGISTRATION, ==, 2001);
	EXPECT_INT(CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED, ==, 5006);
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
	UNIT_RUN(result_names);
	cx_close(cx);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return UNIT_MAIN_END();
}
