/*
 * hss.c - the hss role: the [hss] configuration, opening the subscriber
 * store, provisioning (shared with the CLI) and the demo subscribers.
 *
 * There is no network listener yet: the CSCF and the BSF reach the HSS in
 * process through the Cx calls of cx.h, which open the same SQLite file
 * (WAL lets the processes share it).  A Diameter (freeDiameter) listener
 * would start here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "core/fs.h"
#include "core/global.h"
#include "core/log.h"
#include "core/wims.h"
#include "hss/cx.h"
#include "hss/hss_int.h"
#include "role.h"

struct hss_conf hss_conf;

static const struct conf_key hss_keys[] = {
	CONF_KEY_STR(struct hss_conf, db, "",
		     "SQLite file of subscribers and registrations; empty: <data_dir>/hss.db"),
	CONF_KEY_BOOL(struct hss_conf, demo_subscribers, "yes",
		      "provision alice, bob, carol (Digest, password NAME-secret; bob also "
		      "tna), dave, erin, frank (AKAv2 only, K/OPc from aka_demo_keys), grace "
		      "(tna only, allows WWSF wwsf.ims.example.org) and pool1..pool4 (tna "
		      "only, the pool of WWSF webshop.example.net) when missing"),
};

static const struct conf_section hss_section = {
	.name = "hss",
	.summary = "Home Subscriber Server: subscriber store behind the Cx calls",
	.keys = hss_keys,
	.nkeys = WIMS_ARRAY_LEN(hss_keys),
	.target = &hss_conf,
};

/* An NAI "user@realm" of printable characters, no spaces, commas or
 * quotes (they would break CSV lines and SIP headers). */
static bool impi_valid(const char *impi)
{
	size_t n = strlen(impi);
	if (n == 0 || n >= WIMS_IMPI_MAX)
		return false;
	const char *at = strchr(impi, '@');
	if (!at || at == impi || at[1] == '\0')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)impi[i];
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || c == ';' || c == '<' ||
		    c == '>')
			return false;
	}
	return true;
}

static bool impu_valid(const char *impu)
{
	size_t n = strlen(impu);
	if (n == 0 || n >= WIMS_IMPU_MAX)
		return false;
	if (strncmp(impu, "sip:", 4) != 0 && strncmp(impu, "sips:", 5) != 0 &&
	    strncmp(impu, "tel:", 4) != 0)
		return false;
	const char *colon = strchr(impu, ':');
	if (colon[1] == '\0')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)impu[i];
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || c == '<' || c == '>')
			return false;
	}
	return true;
}

int hss_provision(struct store *st, const char *impi, const char *realm, const char *password,
		  size_t password_len, const char *const *impus, size_t n_impus)
{
	if (!impi_valid(impi) || !realm[0] || n_impus > WIMS_IRS_MAX_IMPUS)
		return WIMS_EINVAL;
	/* Check everything first, so a refused line leaves nothing behind
	 * inside the caller's transaction. */
	struct store_subscriber sub;
	int rc = store_subscriber_get(st, impi, &sub);
	if (rc == 0)
		rc = WIMS_EEXIST;
	if (rc != WIMS_ENOTFOUND)
		goto out;
	for (size_t i = 0; i < n_impus; i++) {
		struct store_impu u;
		if (!impu_valid(impus[i])) {
			rc = WIMS_EINVAL;
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(impus[i], impus[j]) == 0) {
				rc = WIMS_EINVAL;
				goto out;
			}
		rc = store_impu_get(st, impus[i], &u);
		if (rc != WIMS_ENOTFOUND) {
			rc = rc == 0 ? WIMS_EEXIST : rc;
			goto out;
		}
	}
	memset(&sub, 0, sizeof(sub));
	snprintf(sub.impi, sizeof(sub.impi), "%s", impi);
	if (snprintf(sub.realm, sizeof(sub.realm), "%s", realm) >= (int)sizeof(sub.realm)) {
		rc = WIMS_ETOOBIG;
		goto out;
	}
	if (password) {
		struct slice u = slice_from_cstr(impi), r = slice_from_cstr(realm);
		struct slice pw = {password, password_len};
		char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX];
		rc = digest_ha1(DIGEST_ALG_MD5, u, r, pw, md5);
		if (!rc)
			rc = digest_ha1(DIGEST_ALG_SHA256, u, r, pw, sha);
		if (!rc) {
			memcpy(sub.ha1_md5, md5, sizeof(sub.ha1_md5));
			memcpy(sub.ha1_sha256, sha, sizeof(sub.ha1_sha256));
		}
		OPENSSL_cleanse(md5, sizeof(md5));
		OPENSSL_cleanse(sha, sizeof(sha));
		if (rc)
			goto out;
	}
	sub.schemes = STORE_SCHEME_DIGEST;
	if ((rc = store_subscriber_add(st, &sub)))
		goto out;
	for (size_t i = 0; i < n_impus && !rc; i++) {
		struct store_impu u = {0};
		snprintf(u.impu, sizeof(u.impu), "%s", impus[i]);
		snprintf(u.impi, sizeof(u.impi), "%s", impi);
		rc = store_impu_add(st, &u); /* irs_id 0: all in the IMPI's first set */
	}
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	return rc;
}

int hss_set_aka(struct store *st, const char *impi, const struct aka_keys *keys,
		const uint8_t amf[AKA_AMF_LEN])
{
	struct store_aka a;
	memset(&a, 0, sizeof(a));
	if (snprintf(a.impi, sizeof(a.impi), "%s", impi) >= (int)sizeof(a.impi))
		return WIMS_ENOTFOUND;
	memcpy(a.k, keys->k, sizeof(a.k));
	memcpy(a.opc, keys->opc, sizeof(a.opc));
	memcpy(a.amf, amf, sizeof(a.amf));
	int rc = store_aka_set(st, &a);
	OPENSSL_cleanse(&a, sizeof(a));
	return rc;
}

/* One demo subscriber: Digest with NAME-secret, or AKAv2 only with the
 * demo keys (the ME agent and the network ISIM derive the same). */
static int seed_one(struct store *st, const char *name, const char *domain, unsigned number,
		    bool aka)
{
	char impi[WIMS_IMPI_MAX], sip[WIMS_IMPU_MAX], tel[WIMS_IMPU_MAX], pw[64];
	snprintf(impi, sizeof(impi), "%s@%s", name, domain);
	snprintf(sip, sizeof(sip), "sip:%s@%s", name, domain);
	snprintf(tel, sizeof(tel), "tel:+1555000000%u", number);
	int n = snprintf(pw, sizeof(pw), "%s-secret", name);
	const char *impus[] = {sip, tel};
	int rc = hss_provision(st, impi, domain, aka ? NULL : pw, aka ? 0 : (size_t)n, impus, 2);
	if (!rc && strcmp(name, "bob") == 0)
		rc = store_subscriber_set_schemes(st, impi, STORE_SCHEME_DIGEST | STORE_SCHEME_TNA);
	if (rc || !aka)
		return rc;
	struct aka_keys keys;
	static const uint8_t amf[AKA_AMF_LEN] = {0x80, 0x00};
	rc = aka_demo_keys(impi, &keys);
	if (!rc)
		rc = hss_set_aka(st, impi, &keys, amf);
	if (!rc)
		rc = store_subscriber_set_schemes(st, impi, STORE_SCHEME_AKAV2);
	OPENSSL_cleanse(&keys, sizeof(keys));
	return rc;
}

/* The demo's trusted node authentication subscribers (TR 33.871 6.1.2
 * scenario 2, 6.1.3 scenario 3): grace, who has no IMS password at all
 * (tna only) and allows the operator's WWSF; pool1..pool4, one sip IMPU
 * each, in the third-party WWSF's pool. */
#define DEMO_WWSF "wwsf.ims.example.org"
#define DEMO_POOL_WWSF "webshop.example.net"

static int seed_tna(struct store *st, const char *name, const char *domain, unsigned number)
{
	char impi[WIMS_IMPI_MAX], sip[WIMS_IMPU_MAX], tel[WIMS_IMPU_MAX];
	snprintf(impi, sizeof(impi), "%s@%s", name, domain);
	snprintf(sip, sizeof(sip), "sip:%s@%s", name, domain);
	snprintf(tel, sizeof(tel), "tel:+1555000000%u", number);
	bool pool = strncmp(name, "pool", 4) == 0;
	const char *impus[] = {sip, tel};
	int rc = hss_provision(st, impi, domain, NULL, 0, impus, pool ? 1 : 2);
	if (!rc)
		rc = store_subscriber_set_schemes(st, impi, STORE_SCHEME_TNA);
	if (!rc)
		rc = pool ? store_pool_add(st, DEMO_POOL_WWSF, impi)
			  : store_wwsf_allow(st, impi, DEMO_WWSF);
	return rc;
}

/* bob allows Digest and TNA (two IMPUs: the REQ 2.4 case of the study).
 * A demo store made before TNA has him with Digest only: he gets tna
 * added, once per start while his schemes are exactly that. */
static int seed_bob_tna(struct store *st, const char *domain)
{
	char impi[WIMS_IMPI_MAX];
	snprintf(impi, sizeof(impi), "bob@%s", domain);
	struct store_subscriber sub;
	int rc = store_subscriber_get(st, impi, &sub);
	unsigned schemes = sub.schemes;
	OPENSSL_cleanse(&sub, sizeof(sub));
	if (rc == WIMS_ENOTFOUND)
		return 0;
	if (rc || schemes != STORE_SCHEME_DIGEST)
		return rc;
	return store_subscriber_set_schemes(st, impi, STORE_SCHEME_DIGEST | STORE_SCHEME_TNA);
}

int hss_seed_demo(struct store *st, const char *domain)
{
	static const struct {
		const char *name;
		bool aka, tna;
		unsigned number;
	} demo[] = {
		{"alice", false, false, 1}, {"bob", false, false, 2},  {"carol", false, false, 3},
		{"dave", true, false, 4},   {"erin", true, false, 5},  {"frank", true, false, 6},
		{"grace", false, true, 7},  {"pool1", false, true, 0}, {"pool2", false, true, 0},
		{"pool3", false, true, 0},  {"pool4", false, true, 0},
	};
	int added = 0;
	for (size_t i = 0; i < WIMS_ARRAY_LEN(demo); i++) {
		int rc = store_begin(st);
		if (!rc && demo[i].tna)
			rc = seed_tna(st, demo[i].name, domain, demo[i].number);
		else if (!rc)
			rc = seed_one(st, demo[i].name, domain, demo[i].number, demo[i].aka);
		if (rc == 0) {
			rc = store_commit(st);
			if (rc)
				return rc;
			added++;
		} else {
			store_rollback(st);
			if (rc != WIMS_EEXIST)
				return rc;
		}
	}
	int rc = seed_bob_tna(st, domain);
	return rc ? rc : added;
}

int hss_make_parent_dirs(const char *path)
{
	return fs_make_parent_dirs(path, 0700);
}

static struct store *hss_store;

static int hss_start(void)
{
	char path[sizeof(hss_conf.db) + 16], err[512];
	if (cx_default_store_path(path, sizeof(path))) {
		WIMS_ERROR("hss", "store path too long");
		return WIMS_ECONF;
	}
	if (hss_make_parent_dirs(path)) {
		WIMS_ERROR("hss", "%s: cannot create its directory: %s", path, strerror(errno));
		return WIMS_EIO;
	}
	int rc = store_open(path, &hss_store, err, sizeof(err));
	if (rc) {
		WIMS_ERROR("hss", "%s", err);
		return rc;
	}
	if (hss_conf.demo_subscribers) {
		rc = hss_seed_demo(hss_store, wims_global.domain);
		if (rc < 0) {
			WIMS_ERROR("hss", "demo subscribers: %s", wims_strerror(rc));
			store_close(hss_store);
			hss_store = NULL;
			return rc;
		}
		if (rc > 0)
			WIMS_INFO("hss", "provisioned %d demo subscribers in %s", rc,
				  wims_global.domain);
	}
	uint64_t n = 0;
	store_subscriber_count(hss_store, &n);
	WIMS_INFO("hss", "store %s: %llu subscribers; Cx is in process (cx.h), no listener",
		  path, (unsigned long long)n);
	return 0;
}

static void hss_stop(void)
{
	store_close(hss_store);
	hss_store = NULL;
}

const struct role hss_role = {
	.name = "hss",
	.summary = "HSS: subscribers, H(A1)s, registrations; Cx in process",
	.conf = &hss_section,
	.start = hss_start,
	.stop = hss_stop,
	.cli = hss_cli,
	.cli_usage = hss_cli_usage,
};
