/*
 * cli.c - `wims waf ARGS`: the client registry, web accounts, admin links
 * and the signing keys from the command line; the demo seed the role runs
 * at start-up; the paths of the role's files.
 *
 * Secrets (a client secret, a password) come from stdin only, never from
 * an argument (other users see those in ps).  A new client secret may be
 * made here instead (--secret-new): 32 random bytes, printed once, stored
 * as SHA-256.  The role reads the registry from waf.db at every request,
 * so a change here applies at once (client-block is the WAF half of REQ
 * 2.2; `wims hss wwsf-block` is the operator-wide one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "core/b64url.h"
#include "core/fs.h"
#include "core/global.h"
#include "core/log.h"
#include "core/term.h"
#include "core/tls.h"
#include "core/wims.h"
#include "hss/cx.h"
#include "store/store.h"
#include "store/webacct.h"
#include "waf/keys.h"
#include "waf/registry.h"
#include "waf/waf_int.h"

const char waf_cli_usage[] =
	"usage: wims waf COMMAND [ARGS]\n"
	"  client-add ID --kind wwsf|resource-server --domain operator|third-party\n"
	"           [--redirect-uri URI]... [--grants code,client_credentials]\n"
	"           (--cert FILE | --cert-sha256 HEX | --secret-stdin | --secret-new)\n"
	"                     register (or replace) an OAuth client; ID is the WWSF\n"
	"                     identity.  mTLS: the SHA-256 of its certificate (RFC 8705\n"
	"                     self-signed); a secret is read from stdin or made and\n"
	"                     printed once, and stored as SHA-256 only\n"
	"  client-remove ID\n"
	"  client-block ID    refuse tokens to ID at once (TR 33.871 REQ 2.2)\n"
	"  client-unblock ID\n"
	"  clients            the registry (never a secret)\n"
	"  user-add NAME      add a web account or set its password (read from stdin,\n"
	"                     not echoed on a terminal)\n"
	"  user-remove NAME\n"
	"  users              the accounts with their confirmed links\n"
	"  link WEBID IMPU [--idp waf|WWSF] [--grant WWSF] --confirmed\n"
	"                     admin: link WEBID to IMPU as if the subscriber had\n"
	"                     confirmed it (REQ 2.5); --grant also allows WWSF\n"
	"  rotate-key         publish a new signing key now; it signs after\n"
	"                     [waf] key_publish_lead_s\n"
	"  keys               the signing keys and their schedule\n"
	"Files: [waf] db (<data_dir>/waf.db), keys_dir (<data_dir>/waf-keys), hss_db.\n";

int waf_paths(char *db, size_t dbsz, char *keys, size_t keyssz, char *hss, size_t hsssz)
{
	int n;
	if (waf_conf.db[0])
		n = snprintf(db, dbsz, "%s", waf_conf.db);
	else if (wims_global_data_path("waf.db", db, dbsz))
		return WIMS_ETOOBIG;
	else
		n = 0;
	if (n < 0 || (size_t)n >= dbsz)
		return WIMS_ETOOBIG;
	if (waf_conf.keys_dir[0]) {
		n = snprintf(keys, keyssz, "%s", waf_conf.keys_dir);
		if (n < 0 || (size_t)n >= keyssz)
			return WIMS_ETOOBIG;
	} else if (wims_global_data_path("waf-keys", keys, keyssz)) {
		return WIMS_ETOOBIG;
	}
	if (waf_conf.hss_db[0]) {
		n = snprintf(hss, hsssz, "%s", waf_conf.hss_db);
		if (n < 0 || (size_t)n >= hsssz)
			return WIMS_ETOOBIG;
	} else if (cx_default_store_path(hss, hsssz)) {
		return WIMS_ETOOBIG;
	}
	return 0;
}

int waf_cert_file_sha256(const char *path, uint8_t out[32])
{
	FILE *f = fopen(path, "re");
	if (!f)
		return WIMS_EIO;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return WIMS_EPARSE;
	unsigned int n = 0;
	int ok = X509_digest(x, EVP_sha256(), out, &n) == 1 && n == 32;
	X509_free(x);
	return ok ? 0 : WIMS_EPARSE;
}

void waf_make_parent_dirs(const char *path)
{
	/* a failure shows as the open that follows failing, with its path */
	(void)fs_make_parent_dirs(path, 0700);
}

/* A demo client with the certificate <data_dir>/<sub>/cert.pem (made if
 * missing, CN id); an existing client keeps its block flag. */
static int seed_client(struct waf_db *db, const char *id, int kind, const char *domain,
		       const char *redirect, unsigned grants, const char *sub, char *err,
		       size_t errsz)
{
	char cert[1024], key[1024], rel[256];
	snprintf(rel, sizeof(rel), "%s/cert.pem", sub);
	if (wims_global_data_path(rel, cert, sizeof(cert)))
		return WIMS_ETOOBIG;
	snprintf(rel, sizeof(rel), "%s/key.pem", sub);
	if (wims_global_data_path(rel, key, sizeof(key)))
		return WIMS_ETOOBIG;
	const char *const names[] = {id, NULL};
	int rc = tls_ensure_self_signed(cert, key, names, err, errsz);
	if (rc)
		return rc;
	struct waf_client c, old;
	memset(&c, 0, sizeof(c));
	snprintf(c.client_id, sizeof(c.client_id), "%s", id);
	c.kind = kind;
	snprintf(c.domain, sizeof(c.domain), "%s", domain);
	snprintf(c.redirect_uris, sizeof(c.redirect_uris), "%s", redirect);
	c.grants = grants;
	c.created_at = (int64_t)time(NULL);
	if ((rc = waf_cert_file_sha256(cert, c.cert_sha256))) {
		snprintf(err, errsz, "%s: cannot read the certificate", cert);
		return rc;
	}
	c.has_cert = true;
	if (waf_client_get(db, id, &old) == 0) {
		c.blocked = old.blocked;
		c.created_at = old.created_at;
		c.has_secret = old.has_secret;
		memcpy(c.secret_sha256, old.secret_sha256, 32);
	}
	if ((rc = waf_client_put(db, &c)))
		snprintf(err, errsz, "client %s: %s", id, wims_strerror(rc));
	return rc;
}

static int count_link(void *arg, const struct store_link *l)
{
	WIMS_UNUSED(l);
	(*(int *)arg)++;
	return 0;
}

/* Link web_id to impu at once (admin, or the demo's grace): a pending
 * link with a random code, confirmed with it. */
static int link_confirmed(struct store *hss, const char *web_id, const char *idp,
			  const char *impu, const char *grant)
{
	uint8_t code[32], h[32];
	unsigned int n = 0;
	int64_t now = (int64_t)time(NULL);
	RAND_bytes(code, sizeof(code));
	EVP_Digest(code, sizeof(code), h, &n, EVP_sha256(), NULL);
	OPENSSL_cleanse(code, sizeof(code));
	int rc = store_link_request(hss, web_id, idp, impu, grant ? grant : "", h, now + 60, now);
	if (rc)
		return rc;
	return store_link_confirm(hss, h, now, NULL);
}

int waf_seed_demo(struct waf_db *db, struct web_accounts *a, struct store *hss, char *err,
		  size_t errsz)
{
	const char *d = wims_global.domain;
	char wwsf_id[WIMS_WWSF_ID_MAX + 8], pcscf_id[WIMS_WWSF_ID_MAX + 8];
	snprintf(wwsf_id, sizeof(wwsf_id), "wwsf.%s", d);
	snprintf(pcscf_id, sizeof(pcscf_id), "pcscf.%s", d);
	char path[1024];
	if (wims_global_data_path("wwsf-client/cert.pem", path, sizeof(path)))
		return WIMS_ETOOBIG;
	waf_make_parent_dirs(path);
	int rc = seed_client(db, wwsf_id, WAF_KIND_WWSF, "operator",
			     "https://127.0.0.1:8443/oauth/callback",
			     WAF_GRANT_CODE | WAF_GRANT_CLIENT_CREDENTIALS, "wwsf-client", err, errsz);
	if (!rc)
		rc = seed_client(db, "webshop.example.net", WAF_KIND_WWSF, "third-party", "",
				 WAF_GRANT_CLIENT_CREDENTIALS, "webshop-client", err, errsz);
	if (!rc)
		rc = seed_client(db, pcscf_id, WAF_KIND_RESOURCE_SERVER, "operator", "", 0,
				 "pcscf-client", err, errsz);
	if (rc)
		return rc;
	static const char *const users[] = {"grace", "bob"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(users); i++) {
		char pw[64];
		snprintf(pw, sizeof(pw), "%s-web", users[i]);
		if (!web_account_exists(a, users[i]) &&
		    (rc = web_account_set(a, users[i], pw, strlen(pw)))) {
			snprintf(err, errsz, "account %s: %s", users[i], wims_strerror(rc));
			return rc;
		}
	}
	int links = 0;
	store_links_confirmed(hss, "grace", "waf", count_link, &links);
	if (links == 0) {
		char impu[WIMS_IMPU_MAX];
		snprintf(impu, sizeof(impu), "sip:grace@%s", d);
		rc = link_confirmed(hss, "grace", "waf", impu, NULL);
		if (rc)
			/* the HSS seeds grace; a WAF alone may not have her */
			WIMS_WARN("waf", "demo link grace -> %s: %s (is the HSS seeded?)", impu,
				  wims_strerror(rc));
	}
	return 0;
}

/* --- the command line --- */

struct cli {
	struct waf_db *db;
	struct web_accounts *acc;
	struct store *hss;
	char db_path[1024], keys_dir[1024], hss_path[1024];
};

static int open_db(struct cli *c)
{
	char err[512];
	if (waf_paths(c->db_path, sizeof(c->db_path), c->keys_dir, sizeof(c->keys_dir),
		      c->hss_path, sizeof(c->hss_path))) {
		fprintf(stderr, "wims waf: paths too long\n");
		return 1;
	}
	waf_make_parent_dirs(c->db_path);
	c->db = waf_db_open(c->db_path, err, sizeof(err));
	if (!c->db) {
		fprintf(stderr, "wims waf: %s\n", err);
		return 1;
	}
	return 0;
}

static int open_accounts(struct cli *c)
{
	char err[512];
	c->acc = web_accounts_open(c->db_path, err, sizeof(err));
	if (!c->acc) {
		fprintf(stderr, "wims waf: %s\n", err);
		return 1;
	}
	return 0;
}

static int open_hss(struct cli *c)
{
	char err[512];
	waf_make_parent_dirs(c->hss_path);
	if (store_open(c->hss_path, &c->hss, err, sizeof(err))) {
		fprintf(stderr, "wims waf: %s\n", err);
		return 1;
	}
	return 0;
}

static int hexdecode(const char *hex, uint8_t out[32])
{
	if (strlen(hex) != 64)
		return WIMS_EINVAL;
	for (size_t i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return WIMS_EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void hexencode(const uint8_t in[32], char out[65])
{
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static int cmd_client_add(struct cli *c, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "wims waf client-add: expected a client id\n");
		return 2;
	}
	struct waf_client cl;
	memset(&cl, 0, sizeof(cl));
	snprintf(cl.client_id, sizeof(cl.client_id), "%s", argv[0]);
	if (!waf_client_id_ok(argv[0])) {
		fprintf(stderr, "wims waf client-add: client id \"%s\": expected [A-Za-z0-9.:_-], "
				"at most %d characters\n",
			argv[0], WIMS_WWSF_ID_MAX - 1);
		return 2;
	}
	snprintf(cl.domain, sizeof(cl.domain), "operator");
	cl.created_at = (int64_t)time(NULL);
	bool kind_set = false, secret_stdin = false, secret_new = false, grants_set = false;
	size_t used = 0;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--secret-stdin") == 0) {
			secret_stdin = true;
			continue;
		}
		if (strcmp(o, "--secret-new") == 0) {
			secret_new = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "wims waf client-add: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (strcmp(o, "--kind") == 0) {
			if (strcmp(v, "wwsf") == 0)
				cl.kind = WAF_KIND_WWSF;
			else if (strcmp(v, "resource-server") == 0)
				cl.kind = WAF_KIND_RESOURCE_SERVER;
			else {
				fprintf(stderr, "wims waf client-add: --kind: expected wwsf or "
						"resource-server, not \"%s\"\n",
					v);
				return 2;
			}
			kind_set = true;
		} else if (strcmp(o, "--domain") == 0) {
			if (strcmp(v, "operator") != 0 && strcmp(v, "third-party") != 0) {
				fprintf(stderr, "wims waf client-add: --domain: expected operator "
						"or third-party, not \"%s\"\n",
					v);
				return 2;
			}
			snprintf(cl.domain, sizeof(cl.domain), "%s", v);
		} else if (strcmp(o, "--redirect-uri") == 0) {
			size_t l = strlen(v);
			if (strncmp(v, "https://", 8) != 0 || strpbrk(v, " \t\r\n#") ||
			    used + l + 2 > sizeof(cl.redirect_uris) || l >= WAF_URI_MAX) {
				fprintf(stderr, "wims waf client-add: --redirect-uri: expected an "
						"https:// URL without spaces or fragment\n");
				return 2;
			}
			used += (size_t)snprintf(cl.redirect_uris + used,
						 sizeof(cl.redirect_uris) - used, "%s%s",
						 used ? " " : "", v);
		} else if (strcmp(o, "--grants") == 0) {
			if (waf_grants_parse(v, &cl.grants)) {
				fprintf(stderr, "wims waf client-add: --grants: expected "
						"code,client_credentials[,implicit]\n");
				return 2;
			}
			grants_set = true;
		} else if (strcmp(o, "--cert") == 0) {
			if (waf_cert_file_sha256(v, cl.cert_sha256)) {
				fprintf(stderr, "wims waf client-add: --cert %s: expected a PEM "
						"certificate file\n",
					v);
				return 2;
			}
			cl.has_cert = true;
		} else if (strcmp(o, "--cert-sha256") == 0) {
			char hex[80];
			size_t k = 0;
			for (const char *p = v; *p && k < sizeof(hex) - 1; p++)
				if (*p != ':')
					hex[k++] = *p;
			hex[k] = '\0';
			if (hexdecode(hex, cl.cert_sha256)) {
				fprintf(stderr, "wims waf client-add: --cert-sha256: expected 64 "
						"hex digits\n");
				return 2;
			}
			cl.has_cert = true;
		} else {
			fprintf(stderr, "wims waf client-add: unknown option %s\n", o);
			return 2;
		}
	}
	if (!kind_set) {
		fprintf(stderr, "wims waf client-add: --kind wwsf|resource-server is required\n");
		return 2;
	}
	if (!grants_set && cl.kind == WAF_KIND_WWSF)
		cl.grants = cl.redirect_uris[0] ? WAF_GRANT_CODE : WAF_GRANT_CLIENT_CREDENTIALS;
	if (!cl.has_cert && !secret_stdin && !secret_new) {
		fprintf(stderr, "wims waf client-add: a credential is required: --cert FILE, "
				"--cert-sha256 HEX, --secret-stdin or --secret-new\n");
		return 2;
	}
	if ((cl.grants & WAF_GRANT_CODE) && !cl.redirect_uris[0]) {
		fprintf(stderr, "wims waf client-add: the code grant needs --redirect-uri\n");
		return 2;
	}
	char secret[256];
	size_t slen = 0;
	if (secret_new) {
		uint8_t raw[32];
		RAND_bytes(raw, sizeof(raw));
		slen = b64url_encode(raw, sizeof(raw), secret);
		secret[slen] = '\0';
		OPENSSL_cleanse(raw, sizeof(raw));
	} else if (secret_stdin) {
		int rc = term_read_secret(stdin, "client secret: ", secret, sizeof(secret), &slen);
		if (rc) {
			fprintf(stderr, "wims waf client-add: no secret on stdin\n");
			return 2;
		}
	}
	if (slen) {
		unsigned int n = 0;
		EVP_Digest(secret, slen, cl.secret_sha256, &n, EVP_sha256(), NULL);
		cl.has_secret = true;
	}
	if (open_db(c)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return 1;
	}
	int rc = waf_client_put(c->db, &cl);
	if (rc) {
		OPENSSL_cleanse(secret, sizeof(secret));
		fprintf(stderr, "wims waf client-add %s: %s\n", cl.client_id, wims_strerror(rc));
		return 1;
	}
	char g[80];
	waf_grants_format(cl.grants, g, sizeof(g));
	printf("client %s added (%s, %s, grants %s%s%s)\n", cl.client_id,
	       cl.kind == WAF_KIND_WWSF ? "wwsf" : "resource-server", cl.domain, g[0] ? g : "none",
	       cl.has_cert ? ", mTLS certificate" : "", cl.has_secret ? ", secret" : "");
	if (secret_new)
		printf("client_secret: %s\n", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

static int print_client(void *arg, const struct waf_client *cl)
{
	WIMS_UNUSED(arg);
	char g[80], fp[65] = "-";
	waf_grants_format(cl->grants, g, sizeof(g));
	if (cl->has_cert)
		hexencode(cl->cert_sha256, fp);
	printf("%s kind=%s domain=%s grants=%s auth=%s%s%s%s cert_sha256=%s redirect_uris=%s\n",
	       cl->client_id, cl->kind == WAF_KIND_WWSF ? "wwsf" : "resource-server",
	       cl->domain, g[0] ? g : "-", cl->has_cert ? "mtls" : "",
	       cl->has_cert && cl->has_secret ? "," : "", cl->has_secret ? "basic" : "",
	       cl->blocked ? " BLOCKED" : "", fp, cl->redirect_uris[0] ? cl->redirect_uris : "-");
	return 0;
}

static int print_user(void *arg, const char *name, const char *impi)
{
	WIMS_UNUSED(impi);
	char *last = arg; /* an account with several IMPIs comes once per IMPI */
	if (strcmp(last, name) == 0)
		return 0;
	snprintf(last, WEB_USER_MAX, "%s", name);
	printf("%s\n", name);
	return 0;
}

static int print_link(void *arg, const struct store_link *l)
{
	WIMS_UNUSED(arg);
	printf("  %s (idp %s) -> %s [%s] %s%s%s\n", l->web_id, l->idp, l->impu, l->impi,
	       l->confirmed ? "confirmed" : "pending", l->wwsf_grant[0] ? ", grants " : "",
	       l->wwsf_grant);
	return 0;
}

static int cmd_users(struct cli *c)
{
	if (open_db(c) || open_accounts(c))
		return 1;
	char last[WEB_USER_MAX] = "";
	web_account_list(c->acc, NULL, print_user, last);
	if (open_hss(c) == 0) {
		printf("links:\n");
		store_link_list(c->hss, print_link, NULL);
	}
	return 0;
}

static int cmd_user_add(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !web_user_name_ok(slice_from_cstr(argv[0]))) {
		fprintf(stderr, "wims waf user-add: expected a user name of [A-Za-z0-9._-]\n");
		return 2;
	}
	if (open_db(c) || open_accounts(c))
		return 1;
	char pw[WEB_PASSWORD_MAX + 2];
	size_t len = 0;
	if (term_read_secret(stdin, "password: ", pw, sizeof(pw), &len)) {
		fprintf(stderr, "wims waf user-add: expected a password on stdin\n");
		return 2;
	}
	int rc = web_account_set(c->acc, argv[0], pw, len);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc) {
		fprintf(stderr, "wims waf user-add %s: %s\n", argv[0], wims_strerror(rc));
		return 1;
	}
	printf("user %s set\n", argv[0]);
	return 0;
}

static int cmd_link(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "wims waf link: expected WEBID IMPU\n");
		return 2;
	}
	const char *idp = "waf", *grant = NULL;
	bool confirmed = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--confirmed") == 0)
			confirmed = true;
		else if (strcmp(argv[i], "--idp") == 0 && i + 1 < argc)
			idp = argv[++i];
		else if (strcmp(argv[i], "--grant") == 0 && i + 1 < argc)
			grant = argv[++i];
		else {
			fprintf(stderr, "wims waf link: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!confirmed) {
		fprintf(stderr, "wims waf link: only --confirmed links are made here (a user "
				"asks for a link on the WAF's /link page)\n");
		return 2;
	}
	if (open_db(c) || open_hss(c))
		return 1;
	int rc = link_confirmed(c->hss, argv[0], idp, argv[1], grant);
	if (rc) {
		fprintf(stderr, "wims waf link %s %s: %s%s\n", argv[0], argv[1], wims_strerror(rc),
			rc == WIMS_ENOTFOUND ? " (no such IMPU in the HSS)" : "");
		return 1;
	}
	printf("linked %s (idp %s) -> %s, confirmed%s%s\n", argv[0], idp, argv[1],
	       grant ? ", allows " : "", grant ? grant : "");
	return 0;
}

static void fmt_time(int64_t t, char *out, size_t outsz)
{
	if (!t) {
		snprintf(out, outsz, "-");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmd_keys(struct cli *c)
{
	if (open_db(c))
		return 1;
	struct waf_key_meta k[WAF_KEYS_MAX];
	size_t n = 0;
	if (waf_keymeta_list(c->db, k, WAF_KEYS_MAX, &n)) {
		fprintf(stderr, "wims waf keys: cannot read the key schedule\n");
		return 1;
	}
	int64_t now = (int64_t)time(NULL);
	int s = waf_keys_signer(k, n, now);
	for (size_t i = 0; i < n; i++) {
		char a[32], b[32], d[32];
		fmt_time(k[i].sign_from, a, sizeof(a));
		fmt_time(k[i].sign_until, b, sizeof(b));
		fmt_time(k[i].publish_until, d, sizeof(d));
		printf("%s sign_from=%s sign_until=%s publish_until=%s%s\n", k[i].kid, a, b, d,
		       (int)i == s ? " SIGNING" : "");
	}
	return 0;
}

static int cmd_rotate(struct cli *c)
{
	if (open_db(c))
		return 1;
	char kid[JWT_KID_MAX], err[300];
	int rc = waf_keys_rotate(c->db, c->keys_dir, (int64_t)time(NULL),
				 waf_conf.key_publish_lead_s, waf_conf.token_lifetime, kid, err,
				 sizeof(err));
	if (rc) {
		fprintf(stderr, "wims waf rotate-key: %s\n", err);
		return 1;
	}
	printf("new signing key %s published; it signs in %d s\n", kid,
	       waf_conf.key_publish_lead_s);
	return 0;
}

static int cmd_client_flag(struct cli *c, const char *cmd, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "wims waf %s: expected a client id\n", cmd);
		return 2;
	}
	if (open_db(c))
		return 1;
	int rc;
	if (strcmp(cmd, "client-remove") == 0)
		rc = waf_client_remove(c->db, argv[0]);
	else
		rc = waf_client_set_blocked(c->db, argv[0], strcmp(cmd, "client-block") == 0);
	if (rc) {
		fprintf(stderr, "wims waf %s %s: %s\n", cmd, argv[0],
			rc == WIMS_ENOTFOUND ? "no such client" : wims_strerror(rc));
		return 1;
	}
	printf("client %s %s\n", argv[0],
	       strcmp(cmd, "client-remove") == 0 ? "removed"
	       : strcmp(cmd, "client-block") == 0 ? "blocked: no more tokens (REQ 2.2)"
						  : "unblocked");
	return 0;
}

int waf_cli(int argc, char **argv)
{
	/* argv[0] is "waf" */
	if (argc < 2) {
		fprintf(stderr, "%s", waf_cli_usage);
		return 2;
	}
	struct cli c;
	memset(&c, 0, sizeof(c));
	const char *cmd = argv[1];
	int rest = argc - 2;
	char **args = argv + 2;
	int rc;
	if (strcmp(cmd, "client-add") == 0)
		rc = cmd_client_add(&c, rest, args);
	else if (strcmp(cmd, "client-block") == 0 || strcmp(cmd, "client-unblock") == 0 ||
		 strcmp(cmd, "client-remove") == 0)
		rc = cmd_client_flag(&c, cmd, rest, args);
	else if (strcmp(cmd, "clients") == 0)
		rc = open_db(&c) ? 1 : (waf_client_list(c.db, print_client, NULL) ? 1 : 0);
	else if (strcmp(cmd, "user-add") == 0)
		rc = cmd_user_add(&c, rest, args);
	else if (strcmp(cmd, "user-remove") == 0) {
		if (rest < 1) {
			fprintf(stderr, "wims waf user-remove: expected a user name\n");
			rc = 2;
		} else if (open_db(&c) || open_accounts(&c)) {
			rc = 1;
		} else if (web_account_remove(c.acc, args[0])) {
			fprintf(stderr, "wims waf user-remove %s: no such user\n", args[0]);
			rc = 1;
		} else {
			printf("user %s removed\n", args[0]);
			rc = 0;
		}
	} else if (strcmp(cmd, "users") == 0)
		rc = cmd_users(&c);
	else if (strcmp(cmd, "link") == 0)
		rc = cmd_link(&c, rest, args);
	else if (strcmp(cmd, "rotate-key") == 0)
		rc = cmd_rotate(&c);
	else if (strcmp(cmd, "keys") == 0)
		rc = cmd_keys(&c);
	else {
		fprintf(stderr, "wims waf: unknown command \"%s\"\n%s", cmd, waf_cli_usage);
		rc = 2;
	}
	store_close(c.hss);
	web_accounts_close(c.acc);
	waf_db_close(c.db);
	return rc;
}
