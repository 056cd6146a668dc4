/*
 * cli.c - `wims hss ARGS`: provisioning from the command line.
 *
 * Passwords come from an argument, stdin (no echo on a terminal) or a CSV
 * file, are turned into H(A1) for MD5 and SHA-256 at once (realm = the
 * [global] domain) and are then wiped; they are never printed, logged or
 * stored.  `import` runs in one transaction: bad lines are reported as
 * FILE:LINE: reason and skipped, the good ones are committed, and the exit
 * status is 1 when any line was skipped.
 *
 * AKA data (K, OP or OPc, AMF) comes from arguments or the CSV's extra
 * columns; an OP is turned into OPc here (TS 35.206 4.1) and only K and
 * OPc are stored.  Like passwords they are wiped from argv at once and
 * never printed: `show` says the schemes, the SQN and the AMF only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/aka.h"
#include "core/global.h"
#include "core/slice.h"
#include "core/term.h"
#include "core/wims.h"
#include "hss/cx.h"
#include "hss/hss_int.h"
#include "store/store.h"

const char hss_cli_usage[] =
	"usage: wims hss [--db PATH] COMMAND [ARGS]\n"
	"  add IMPI [--impu URI]... [--password P | --password-stdin] [--schemes LIST]\n"
	"                     add a subscriber (IMPUs default to sip:IMPI, all in one\n"
	"                     implicit registration set; realm = [global] domain)\n"
	"  list               every subscriber with its IMPUs\n"
	"  show IMPI          one subscriber, its IMPUs and registrations (no secrets)\n"
	"  remove IMPI        remove it with its IMPUs and registrations\n"
	"  passwd IMPI        new password from stdin (not echoed on a terminal)\n"
	"  schemes IMPI LIST  the authentication schemes IMPI may use\n"
	"  aka IMPI --k HEX32 (--opc HEX32 | --op HEX32) [--amf HEX4] [--sqn N]\n"
	"                     set its AKA data (AMF default 8000; a new IMPI starts at\n"
	"                     SQN 0); `aka IMPI --sqn N` alone sets the SQN\n"
	"  import FILE.csv    lines impi,impu[;impu...],password after a header line\n"
	"                     that may add the columns schemes (a ;-list), k, opc or\n"
	"                     op, amf (the password may then be empty: AKA only);\n"
	"                     one transaction; bad lines are reported FILE:LINE and\n"
	"                     skipped (exit status 1 if any)\n"
	"Trusted node authentication (TR 33.871 REQ 2.1, 2.2, 2.5, 3.2):\n"
	"  wwsf-allow IMPI WWSF     let the WWSF (its OAuth client_id) register IMPI\n"
	"  wwsf-disallow IMPI WWSF  withdraw that\n"
	"  wwsf-block WWSF [--reason TEXT]\n"
	"                     block the WWSF: its users' registrations are removed\n"
	"                     (says how many), the cscf refuses their REGISTERs and\n"
	"                     the WAF its tokens\n"
	"  wwsf-unblock WWSF  lift the block\n"
	"  wwsfs              allowed WWSFs, pools and blocks\n"
	"  pool-add WWSF IMPI...     put IMPIs in the WWSF's pool (one pool per IMPI)\n"
	"  pool-remove WWSF IMPI...  take them out\n"
	"  links              web identity links (confirmed and pending)\n"
	"  link-remove WEBID IDP IMPU  remove one link\n"
	"  --db PATH          the store (default: [hss] db, else <data_dir>/hss.db)\n"
	"LIST is a comma list of digest, akav1, akav2, tna (default digest).\n"
	"Only H(A1) for MD5 and SHA-256 is stored, never the password; K and OPc\n"
	"are stored for AKA and never printed.\n";

#define PASSWORD_MAX 256

static struct store *cli_open(const char *db)
{
	char path[1024], err[512];
	if (!db) {
		if (cx_default_store_path(path, sizeof(path))) {
			fprintf(stderr, "wims hss: store path too long\n");
			return NULL;
		}
		db = path;
		if (hss_make_parent_dirs(db)) {
			fprintf(stderr, "wims hss: %s: cannot create its directory\n", db);
			return NULL;
		}
	}
	struct store *st = NULL;
	if (store_open(db, &st, err, sizeof(err))) {
		fprintf(stderr, "wims hss: %s\n", err);
		return NULL;
	}
	return st;
}

/* sip:IMPI, the IMPU a subscriber gets when none is given. */
static int default_impu(const char *impi, char *out, size_t outsz)
{
	size_t n = strlen(impi);
	if (n + 5 > outsz)
		return WIMS_ETOOBIG;
	memcpy(out, "sip:", 4);
	memcpy(out + 4, impi, n + 1);
	return 0;
}

/* The password from stdin: prompted and not echoed on a terminal. */
static int read_password(char *pw, size_t pwsz, size_t *len)
{
	int rc = term_read_secret(stdin, "New password: ", pw, pwsz, len);
	if (rc)
		fprintf(stderr, "wims hss: %s\n",
			rc == WIMS_ETOOBIG ? "password too long" : "empty password");
	return rc ? WIMS_EINVAL : 0;
}

/* The scheme names of the CLI and the CSV, in bit order. */
static const struct {
	const char *name;
	unsigned bit;
} scheme_names[] = {
	{"digest", STORE_SCHEME_DIGEST},
	{"akav1", STORE_SCHEME_AKAV1},
	{"tna", STORE_SCHEME_TNA},
	{"akav2", STORE_SCHEME_AKAV2},
};

/* "digest,akav2" (or "none") */
static void schemes_format(unsigned schemes, char *out, size_t outsz)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < WIMS_ARRAY_LEN(scheme_names); i++) {
		if (!(schemes & scheme_names[i].bit))
			continue;
		int n = snprintf(out + len, outsz - len, "%s%s", len ? "," : "",
				 scheme_names[i].name);
		if (n < 0 || (size_t)n >= outsz - len)
			break;
		len += (size_t)n;
	}
	if (!len)
		snprintf(out, outsz, "none");
}

/* "digest,akav2" (',' or ';' between names) -> bits.  0 or WIMS_EPARSE
 * with the reason in *why. */
static int schemes_parse(const char *list, unsigned *out, const char **why)
{
	unsigned bits = 0;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",;");
		size_t i;
		for (i = 0; i < WIMS_ARRAY_LEN(scheme_names); i++)
			if (strlen(scheme_names[i].name) == n &&
			    strncasecmp(p, scheme_names[i].name, n) == 0)
				break;
		if (i == WIMS_ARRAY_LEN(scheme_names)) {
			*why = "schemes: expected a list of digest, akav1, akav2, tna";
			return WIMS_EPARSE;
		}
		bits |= scheme_names[i].bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*out = bits;
	return 0;
}

/* Exactly 2 * n hex digits (either case) into n bytes. */
static int hex_parse(const char *h, uint8_t *out, size_t n)
{
	if (strlen(h) != 2 * n)
		return WIMS_EPARSE;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = h[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			return WIMS_EPARSE;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

/* The AKA data as given: K, then OPc or OP (turned into OPc), AMF (NULL:
 * 8000).  0 or WIMS_EPARSE with the reason in *why. */
static int aka_keys_parse(const char *k, const char *opc, const char *op, const char *amf,
			  struct aka_keys *keys, uint8_t amf_out[AKA_AMF_LEN], const char **why)
{
	uint8_t opb[AKA_OP_LEN];
	int rc = 0;
	if (!k || hex_parse(k, keys->k, sizeof(keys->k))) {
		*why = "k: expected 32 hex digits (16 bytes)";
		rc = WIMS_EPARSE;
	} else if ((opc && op) || (!opc && !op)) {
		*why = "give one of opc and op";
		rc = WIMS_EPARSE;
	} else if (opc && hex_parse(opc, keys->opc, sizeof(keys->opc))) {
		*why = "opc: expected 32 hex digits (16 bytes)";
		rc = WIMS_EPARSE;
	} else if (op && hex_parse(op, opb, sizeof(opb))) {
		*why = "op: expected 32 hex digits (16 bytes)";
		rc = WIMS_EPARSE;
	} else if (op && aka_opc_from_op(keys->k, opb, keys->opc)) {
		*why = "op: could not compute OPc";
		rc = WIMS_EPARSE;
	} else if (amf && *amf && hex_parse(amf, amf_out, AKA_AMF_LEN)) {
		*why = "amf: expected 4 hex digits (2 bytes)";
		rc = WIMS_EPARSE;
	} else if (!amf || !*amf) {
		amf_out[0] = 0x80;
		amf_out[1] = 0x00;
	}
	OPENSSL_cleanse(opb, sizeof(opb));
	if (rc)
		OPENSSL_cleanse(keys, sizeof(*keys));
	return rc;
}

/* Copy a secret argument (NULL: nothing) and wipe it, so that ps(1) no
 * longer shows it.  A longer one than buf is cut: the length check
 * refuses it then. */
static void take_secret(char *arg, char *buf, size_t bufsz)
{
	if (!arg)
		return;
	snprintf(buf, bufsz, "%s", arg);
	OPENSSL_cleanse(arg, strlen(arg));
}

static void explain(const char *what, const char *impi, int rc)
{
	const char *why = rc == WIMS_EEXIST     ? "already exists (IMPI or IMPU)"
			  : rc == WIMS_ENOTFOUND ? "no such subscriber"
			  : rc == WIMS_EINVAL    ? "invalid identity (IMPI user@realm, IMPU sip:/tel:)"
						 : wims_strerror(rc);
	fprintf(stderr, "wims hss: %s %s: %s\n", what, impi, why);
}

static int cmd_add(struct store *st, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "%s", hss_cli_usage);
		return 2;
	}
	const char *impi = argv[1];
	const char *impus[WIMS_IRS_MAX_IMPUS];
	size_t n_impus = 0;
	char pw[PASSWORD_MAX];
	size_t pwlen = 0;
	bool have_pw = false, from_stdin = false;
	unsigned schemes = STORE_SCHEME_DIGEST;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--impu") == 0 && i + 1 < argc) {
			if (n_impus == WIMS_IRS_MAX_IMPUS) {
				fprintf(stderr, "wims hss: at most %d IMPUs\n", WIMS_IRS_MAX_IMPUS);
				return 2;
			}
			impus[n_impus++] = argv[++i];
		} else if (strcmp(argv[i], "--password") == 0 && i + 1 < argc) {
			i++;
			pwlen = strlen(argv[i]);
			if (pwlen == 0 || pwlen >= sizeof(pw)) {
				fprintf(stderr, "wims hss: password empty or too long\n");
				return 2;
			}
			memcpy(pw, argv[i], pwlen + 1);
			/* Keep it out of ps(1) as soon as we can. */
			OPENSSL_cleanse(argv[i], pwlen);
			have_pw = true;
		} else if (strcmp(argv[i], "--password-stdin") == 0) {
			from_stdin = true;
		} else if (strcmp(argv[i], "--schemes") == 0 && i + 1 < argc) {
			const char *why;
			if (schemes_parse(argv[++i], &schemes, &why)) {
				fprintf(stderr, "wims hss: %s\n", why);
				OPENSSL_cleanse(pw, sizeof(pw));
				return 2;
			}
		} else {
			fprintf(stderr, "wims hss add: unexpected \"%s\"\n%s", argv[i],
				hss_cli_usage);
			return 2;
		}
	}
	if (from_stdin) {
		if (have_pw) {
			fprintf(stderr, "wims hss: --password and --password-stdin together\n");
			return 2;
		}
		if (read_password(pw, sizeof(pw), &pwlen))
			return 1;
		have_pw = true;
	}
	char def_impu[WIMS_IMPU_MAX];
	if (n_impus == 0) {
		if (default_impu(impi, def_impu, sizeof(def_impu))) {
			OPENSSL_cleanse(pw, sizeof(pw));
			explain("add", impi, WIMS_EINVAL);
			return 1;
		}
		impus[n_impus++] = def_impu;
	}
	int rc = store_begin(st);
	if (!rc)
		rc = hss_provision(st, impi, wims_global.domain, have_pw ? pw : NULL, pwlen, impus,
				   n_impus);
	if (!rc && schemes != STORE_SCHEME_DIGEST)
		rc = store_subscriber_set_schemes(st, impi, schemes);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc) {
		store_rollback(st);
		explain("add", impi, rc);
		return 1;
	}
	if ((rc = store_commit(st))) {
		explain("add", impi, rc);
		return 1;
	}
	const char *hint = "";
	if (!have_pw && (schemes & STORE_SCHEME_DIGEST))
		hint = "; no password set: use `wims hss passwd`";
	else if (schemes & (STORE_SCHEME_AKAV1 | STORE_SCHEME_AKAV2))
		hint = "; set its AKA data with `wims hss aka`";
	else if (schemes & STORE_SCHEME_TNA)
		hint = "; allow its WWSFs with `wims hss wwsf-allow` or `pool-add`";
	printf("added %s (%zu IMPU%s)%s\n", impi, n_impus, n_impus == 1 ? "" : "s", hint);
	return 0;
}

struct list_ctx {
	struct store *st;
	char line[4096];
	size_t len;
	int rc;
};

static int list_impu(void *arg, const struct store_impu *u)
{
	struct list_ctx *c = arg;
	int n = snprintf(c->line + c->len, sizeof(c->line) - c->len, "%s%s%s",
			 c->len ? " " : "", u->impu, u->barred ? "(barred)" : "");
	if (n > 0 && (size_t)n < sizeof(c->line) - c->len)
		c->len += (size_t)n;
	return 0;
}

static int list_sub(void *arg, const struct store_subscriber *s)
{
	struct list_ctx *c = arg;
	c->len = 0;
	c->line[0] = '\0';
	int rc = store_impu_list(c->st, s->impi, list_impu, c);
	if (rc)
		return rc;
	printf("%s\t%s%s\t%s\n", s->impi, s->barred ? "barred " : "",
	       s->scscf_name[0] ? "registered" : "unregistered", c->line);
	return 0;
}

static int cmd_list(struct store *st)
{
	struct list_ctx c = {.st = st};
	int rc = store_subscriber_list(st, list_sub, &c);
	if (rc) {
		explain("list", "", rc);
		return 1;
	}
	return 0;
}

static int show_binding(void *arg, const struct store_binding *b)
{
	WIMS_UNUSED(arg);
	printf("    contact %s expires %lld%s%s\n", b->contact, (long long)b->expires,
	       b->path[0] ? " path " : "", b->path);
	return 0;
}

static int show_impu(void *arg, const struct store_impu *u)
{
	struct store *st = arg;
	printf("  impu %s set %lld%s\n", u->impu, (long long)u->irs_id,
	       u->barred ? " barred" : "");
	return store_binding_list(st, u->impu, (int64_t)time(NULL), show_binding, NULL);
}

static int show_allowed(void *arg, const char *wwsf, const char *impi)
{
	WIMS_UNUSED(arg);
	WIMS_UNUSED(impi);
	printf("wwsf allowed %s\n", wwsf);
	return 0;
}

static int cmd_show(struct store *st, const char *impi)
{
	struct store_subscriber s;
	int rc = store_subscriber_get(st, impi, &s);
	if (rc) {
		explain("show", impi, rc);
		return 1;
	}
	char schemes[64];
	schemes_format(s.schemes, schemes, sizeof(schemes));
	printf("impi %s\nrealm %s\nha1 md5 %s, sha-256 %s\nschemes %s\nbarred %s\n"
	       "created %lld\nscscf %s\n",
	       s.impi, s.realm, s.ha1_md5[0] ? "set" : "unset",
	       s.ha1_sha256[0] ? "set" : "unset", schemes, s.barred ? "yes" : "no",
	       (long long)s.created_at, s.scscf_name[0] ? s.scscf_name : "(none)");
	OPENSSL_cleanse(&s, sizeof(s));
	/* Never K or OPc. */
	struct store_aka a;
	rc = store_aka_get(st, impi, &a);
	if (rc == 0)
		printf("aka sqn %llu amf %02x%02x\n", (unsigned long long)a.sqn, a.amf[0],
		       a.amf[1]);
	else if (rc == WIMS_ENOTFOUND)
		printf("aka none\n");
	OPENSSL_cleanse(&a, sizeof(a));
	if (rc && rc != WIMS_ENOTFOUND) {
		explain("show", impi, rc);
		return 1;
	}
	rc = store_impu_list(st, impi, show_impu, st);
	if (!rc)
		rc = store_wwsf_allowed_list(st, impi, show_allowed, NULL);
	char owner[WIMS_WWSF_ID_MAX];
	if (!rc && store_pool_owner(st, impi, owner) == 0)
		printf("pool of %s\n", owner);
	return rc ? 1 : 0;
}

static int cmd_schemes(struct store *st, const char *impi, const char *list)
{
	unsigned schemes;
	const char *why;
	if (schemes_parse(list, &schemes, &why)) {
		fprintf(stderr, "wims hss: %s\n", why);
		return 2;
	}
	int rc = store_subscriber_set_schemes(st, impi, schemes);
	if (rc) {
		explain("schemes", impi, rc);
		return 1;
	}
	char names[64];
	schemes_format(schemes, names, sizeof(names));
	printf("schemes of %s: %s\n", impi, names);
	return 0;
}

static int cmd_aka(struct store *st, int argc, char **argv)
{
	/* argv[0] "aka", argv[1] IMPI */
	const char *impi = argv[1];
	char *k = NULL, *opc = NULL, *op = NULL, *amf = NULL, *sqn = NULL;
	int usage = 0;
	for (int i = 2; i < argc; i++) {
		char **dst = strcmp(argv[i], "--k") == 0     ? &k
			     : strcmp(argv[i], "--opc") == 0 ? &opc
			     : strcmp(argv[i], "--op") == 0  ? &op
			     : strcmp(argv[i], "--amf") == 0 ? &amf
			     : strcmp(argv[i], "--sqn") == 0 ? &sqn
							     : NULL;
		if (!dst || i + 1 >= argc || *dst) {
			fprintf(stderr, "wims hss aka: unexpected or repeated \"%s\"\n", argv[i]);
			usage = 1;
			break;
		}
		*dst = argv[++i];
	}
	/* Copy the secrets, then keep them out of ps(1). */
	char kbuf[40] = "", opcbuf[40] = "", opbuf[40] = "";
	take_secret(k, kbuf, sizeof(kbuf));
	take_secret(opc, opcbuf, sizeof(opcbuf));
	take_secret(op, opbuf, sizeof(opbuf));
	struct aka_keys keys;
	uint8_t amfb[AKA_AMF_LEN];
	uint64_t sqnv = 0;
	int rc = usage ? 2 : 0;
	const char *why = NULL;
	if (!rc && !k && !sqn) {
		why = "give --k with --opc or --op, or --sqn";
		rc = 2;
	} else if (!rc && !k && (opc || op || amf)) {
		why = "--opc, --op and --amf go with --k";
		rc = 2;
	} else if (!rc && k &&
		   aka_keys_parse(kbuf, opc ? opcbuf : NULL, op ? opbuf : NULL, amf, &keys, amfb,
				  &why)) {
		rc = 2;
	} else if (!rc && sqn && slice_to_u64(slice_from_cstr(sqn), AKA_SQN_MAX, &sqnv)) {
		why = "--sqn: expected a decimal SQN below 2^48";
		rc = 2;
	}
	OPENSSL_cleanse(kbuf, sizeof(kbuf));
	OPENSSL_cleanse(opcbuf, sizeof(opcbuf));
	OPENSSL_cleanse(opbuf, sizeof(opbuf));
	if (rc) {
		if (k)
			OPENSSL_cleanse(&keys, sizeof(keys));
		if (why)
			fprintf(stderr, "wims hss aka: %s\n", why);
		fprintf(stderr, "usage: wims hss aka IMPI --k HEX32 (--opc HEX32 | --op HEX32) "
				"[--amf HEX4] [--sqn N]\n");
		return rc;
	}
	struct store_subscriber sub;
	rc = store_subscriber_get(st, impi, &sub);
	OPENSSL_cleanse(&sub, sizeof(sub));
	if (!rc)
		rc = store_begin(st);
	if (rc) {
		if (k)
			OPENSSL_cleanse(&keys, sizeof(keys));
		explain("aka", impi, rc);
		return 1;
	}
	if (k)
		rc = hss_set_aka(st, impi, &keys, amfb);
	if (!rc && sqn)
		rc = store_aka_set_sqn(st, impi, sqnv);
	if (k)
		OPENSSL_cleanse(&keys, sizeof(keys));
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	if (rc == WIMS_ENOTFOUND && !k) {
		fprintf(stderr, "wims hss aka %s: no AKA data yet: give --k and --opc or --op\n",
			impi);
		return 1;
	}
	if (rc) {
		explain("aka", impi, rc);
		return 1;
	}
	struct store_aka a;
	if (store_aka_get(st, impi, &a) == 0)
		printf("AKA data of %s set: sqn %llu amf %02x%02x\n", impi,
		       (unsigned long long)a.sqn, a.amf[0], a.amf[1]);
	OPENSSL_cleanse(&a, sizeof(a));
	return 0;
}

static int cmd_remove(struct store *st, const char *impi)
{
	int rc = store_subscriber_remove(st, impi);
	if (rc) {
		explain("remove", impi, rc);
		return 1;
	}
	printf("removed %s\n", impi);
	return 0;
}

static int cmd_passwd(struct store *st, const char *impi)
{
	struct store_subscriber s;
	int rc = store_subscriber_get(st, impi, &s);
	OPENSSL_cleanse(&s, sizeof(s));
	if (rc) {
		explain("passwd", impi, rc);
		return 1;
	}
	char pw[PASSWORD_MAX];
	size_t len = 0;
	if (read_password(pw, sizeof(pw), &len))
		return 1;
	rc = store_subscriber_set_password(st, impi, pw, len);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc) {
		explain("passwd", impi, rc);
		return 1;
	}
	printf("password of %s changed\n", impi);
	return 0;
}

static void progress(size_t done_bytes, size_t total_bytes, unsigned long rows)
{
	int pct = total_bytes ? (int)((double)done_bytes * 100.0 / (double)total_bytes) : 100;
	if (pct > 100)
		pct = 100;
	char bar[41];
	int fill = pct * 40 / 100;
	for (int i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %3d%% %lu rows", bar, pct, rows);
}

/*
 * The CSV columns: impi,impu[;impu...],password, then optionally (named
 * by the header line, in any order) schemes, k, opc or op, amf.  The
 * password is everything between the second comma and the extra columns,
 * so it may itself hold commas (the extra columns hold none: schemes are
 * separated by ';' there).
 */
enum import_col { COL_SCHEMES, COL_K, COL_OPC, COL_OP, COL_AMF, COL_COUNT_ };

static const char *const import_col_names[COL_COUNT_] = {"schemes", "k", "opc", "op", "amf"};

struct import_cols {
	size_t n_extra;
	int at[COL_COUNT_]; /* index among the extra columns, -1 if absent */
};

/* The header line.  0 or WIMS_EPARSE with *why. */
static int import_header(char *line, struct import_cols *cols, const char **why)
{
	for (int c = 0; c < COL_COUNT_; c++)
		cols->at[c] = -1;
	cols->n_extra = 0;
	size_t i = 0;
	for (char *f = line, *next; f; f = next, i++) {
		next = strchr(f, ',');
		if (next)
			*next++ = '\0';
		while (*f == ' ')
			f++;
		if (i < 3) {
			static const char *const first[] = {"impi", "impu", "password"};
			if (strncmp(f, first[i], strlen(first[i])) != 0) {
				*why = "header: expected impi,impu,password first";
				return WIMS_EPARSE;
			}
			continue;
		}
		int c;
		for (c = 0; c < COL_COUNT_; c++)
			if (strcmp(f, import_col_names[c]) == 0)
				break;
		if (c == COL_COUNT_ || cols->at[c] >= 0) {
			*why = "header: extra columns are schemes, k, opc or op, amf (once each)";
			return WIMS_EPARSE;
		}
		cols->at[c] = (int)cols->n_extra++;
	}
	if (i < 3) {
		*why = "header: expected impi,impu,password first";
		return WIMS_EPARSE;
	}
	if (cols->at[COL_OPC] >= 0 && cols->at[COL_OP] >= 0) {
		*why = "header: opc and op together";
		return WIMS_EPARSE;
	}
	if ((cols->at[COL_K] >= 0) != (cols->at[COL_OPC] >= 0 || cols->at[COL_OP] >= 0)) {
		*why = "header: k goes with opc or op";
		return WIMS_EPARSE;
	}
	if (cols->at[COL_AMF] >= 0 && cols->at[COL_K] < 0) {
		*why = "header: amf goes with k";
		return WIMS_EPARSE;
	}
	return 0;
}

static int import_line(struct store *st, const struct import_cols *cols, char *line,
		       const char **why)
{
	char *c1 = strchr(line, ',');
	char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2) {
		*why = cols->n_extra ? "expected impi,impu[;impu...],password and the header's columns"
				     : "expected impi,impu[;impu...],password";
		return WIMS_EPARSE;
	}
	*c1 = '\0';
	*c2 = '\0';
	const char *impi = line;
	char *impu_list = c1 + 1;
	char *pw = c2 + 1;
	/* The extra columns, from the right. */
	const char *extra[COL_COUNT_] = {NULL};
	char *end = pw + strlen(pw);
	for (size_t i = cols->n_extra; i > 0; i--) {
		char *comma = end;
		while (comma > pw && *comma != ',')
			comma--;
		if (*comma != ',') {
			*why = "fewer fields than the header names";
			return WIMS_EPARSE;
		}
		*comma = '\0';
		for (int c = 0; c < COL_COUNT_; c++)
			if (cols->at[c] == (int)(i - 1))
				extra[c] = comma + 1;
		end = comma;
	}
	size_t pwlen = strlen(pw);
	unsigned schemes = STORE_SCHEME_DIGEST;
	if (extra[COL_SCHEMES] && *extra[COL_SCHEMES] &&
	    schemes_parse(extra[COL_SCHEMES], &schemes, why))
		return WIMS_EPARSE;
	if (pwlen >= PASSWORD_MAX || (pwlen == 0 && (schemes & STORE_SCHEME_DIGEST))) {
		*why = "password empty or too long";
		return WIMS_EPARSE;
	}
	bool have_aka = extra[COL_K] && *extra[COL_K];
	if (!have_aka && (schemes & (STORE_SCHEME_AKAV1 | STORE_SCHEME_AKAV2))) {
		*why = "schemes akav1/akav2 need k and opc or op";
		return WIMS_EPARSE;
	}
	struct aka_keys keys;
	uint8_t amf[AKA_AMF_LEN];
	if (have_aka && aka_keys_parse(extra[COL_K], extra[COL_OPC], extra[COL_OP],
				       extra[COL_AMF], &keys, amf, why))
		return WIMS_EPARSE;
	const char *impus[WIMS_IRS_MAX_IMPUS];
	size_t n = 0;
	int rc = 0;
	for (char *p = impu_list;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = '\0';
		if (*p) {
			if (n == WIMS_IRS_MAX_IMPUS) {
				*why = "too many IMPUs";
				rc = WIMS_EPARSE;
				break;
			}
			impus[n++] = p;
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	char def_impu[WIMS_IMPU_MAX];
	if (!rc && n == 0) {
		if (default_impu(impi, def_impu, sizeof(def_impu))) {
			*why = "IMPI too long";
			rc = WIMS_EPARSE;
		} else {
			impus[n++] = def_impu;
		}
	}
	if (!rc)
		rc = hss_provision(st, impi, wims_global.domain, pwlen ? pw : NULL, pwlen, impus,
				   n);
	if (!rc && schemes != STORE_SCHEME_DIGEST)
		rc = store_subscriber_set_schemes(st, impi, schemes);
	if (!rc && have_aka)
		rc = hss_set_aka(st, impi, &keys, amf);
	if (have_aka)
		OPENSSL_cleanse(&keys, sizeof(keys));
	if (rc == WIMS_EEXIST)
		*why = "IMPI or IMPU already exists";
	else if (rc == WIMS_EINVAL)
		*why = "invalid identity (IMPI user@realm, IMPU sip:/sips:/tel:, no repeats)";
	else if (rc && rc != WIMS_EPARSE)
		*why = wims_strerror(rc);
	return rc;
}

static int cmd_import(struct store *st, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "wims hss: %s: %s\n", file, strerror(errno));
		return 1;
	}
	struct stat sb;
	size_t total = fstat(fileno(f), &sb) == 0 ? (size_t)sb.st_size : 0;
	bool bar = isatty(STDERR_FILENO);
	static char line[2048];
	unsigned long lineno = 0, imported = 0, skipped = 0;
	struct import_cols cols = {.n_extra = 0, .at = {-1, -1, -1, -1, -1}};
	int rc = store_begin(st);
	if (rc) {
		fclose(f);
		explain("import", file, rc);
		return 1;
	}
	long n;
	while ((n = term_read_line(f, line, sizeof(line))) != -1) {
		lineno++;
		const char *why = NULL;
		int lrc;
		if (n == WIMS_ETOOBIG) {
			why = "line too long";
			lrc = WIMS_EPARSE;
		} else if (lineno == 1 && strncmp(line, "impi", 4) == 0) {
			/* The header line: it names the extra columns. */
			if (import_header(line, &cols, &why) == 0)
				continue;
			fprintf(stderr, "%s:1: %s; nothing imported\n", file, why);
			store_rollback(st);
			fclose(f);
			return 1;
		} else if (n == 0 || line[0] == '#') {
			continue;
		} else {
			lrc = import_line(st, &cols, line, &why);
		}
		OPENSSL_cleanse(line, sizeof(line));
		if (lrc == 0) {
			imported++;
		} else if (lrc == WIMS_ESTORE || lrc == WIMS_ENOMEM) {
			/* The database failed, not the line: keep nothing. */
			if (bar)
				fputc('\n', stderr);
			fprintf(stderr, "%s:%lu: %s; import aborted, nothing imported\n", file,
				lineno, why);
			store_rollback(st);
			fclose(f);
			return 1;
		} else {
			skipped++;
			if (bar)
				fputc('\n', stderr);
			fprintf(stderr, "%s:%lu: %s (skipped)\n", file, lineno, why);
		}
		if (bar && lineno % 1000 == 0)
			progress((size_t)ftell(f), total, imported);
	}
	fclose(f);
	if ((rc = store_commit(st))) {
		explain("import", file, rc);
		return 1;
	}
	if (bar) {
		progress(total, total, imported);
		fputc('\n', stderr);
	}
	printf("imported %lu subscribers, skipped %lu lines\n", imported, skipped);
	return skipped ? 1 : 0;
}

/* --- trusted node authentication: WWSFs, pools, links --- */

/* A WWSF identity as the CLI accepts it: its OAuth client_id, printable,
 * no spaces, quotes, commas or angle brackets (it travels in the SIP
 * header P-WWSF-Identity and in CSV-like output). */
static bool wwsf_arg_ok(const char *cmd, const char *wwsf)
{
	size_t n = strlen(wwsf);
	bool ok = n > 0 && n < WIMS_WWSF_ID_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)wwsf[i];
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || c == ';' || c == '<' ||
		    c == '>')
			ok = false;
	}
	if (!ok)
		fprintf(stderr,
			"wims hss %s: \"%s\": expected a WWSF identity (its OAuth client_id, "
			"e.g. wwsf.ims.example.org: printable, no spaces, quotes, commas, ';' "
			"or <>, under %d characters)\n",
			cmd, wwsf, WIMS_WWSF_ID_MAX);
	return ok;
}

/* The subscriber must exist: 0, or 1 with a message. */
static int need_subscriber(struct store *st, const char *cmd, const char *impi,
			   struct store_subscriber *sub)
{
	int rc = store_subscriber_get(st, impi, sub);
	OPENSSL_cleanse(sub->ha1_md5, sizeof(sub->ha1_md5));
	OPENSSL_cleanse(sub->ha1_sha256, sizeof(sub->ha1_sha256));
	if (rc) {
		explain(cmd, impi, rc);
		return 1;
	}
	return 0;
}

static int cmd_wwsf_allow(struct store *st, const char *impi, const char *wwsf)
{
	struct store_subscriber sub;
	if (!wwsf_arg_ok("wwsf-allow", wwsf) || need_subscriber(st, "wwsf-allow", impi, &sub))
		return 1;
	int rc = store_wwsf_allow(st, impi, wwsf);
	if (rc) {
		explain("wwsf-allow", impi, rc);
		return 1;
	}
	printf("%s may register %s%s\n", wwsf, impi,
	       (sub.schemes & STORE_SCHEME_TNA)
		       ? ""
		       : " (note: its schemes lack tna: `wims hss schemes IMPI ...,tna`)");
	return 0;
}

static int cmd_wwsf_disallow(struct store *st, const char *impi, const char *wwsf)
{
	struct store_subscriber sub;
	if (!wwsf_arg_ok("wwsf-disallow", wwsf) ||
	    need_subscriber(st, "wwsf-disallow", impi, &sub))
		return 1;
	int rc = store_wwsf_disallow(st, impi, wwsf);
	if (rc == WIMS_ENOTFOUND) {
		fprintf(stderr, "wims hss wwsf-disallow: %s is not allowed for %s (see `wims hss wwsfs`)\n",
			wwsf, impi);
		return 1;
	}
	if (rc) {
		explain("wwsf-disallow", impi, rc);
		return 1;
	}
	printf("%s may no longer register %s\n", wwsf, impi);
	return 0;
}

static int cmd_wwsf_block(struct store *st, int argc, char **argv)
{
	/* argv[0] "wwsf-block", argv[1] WWSF, then --reason TEXT */
	const char *reason = "";
	if (argc == 4 && strcmp(argv[2], "--reason") == 0) {
		reason = argv[3];
	} else if (argc != 2) {
		fprintf(stderr, "usage: wims hss wwsf-block WWSF [--reason TEXT]\n");
		return 2;
	}
	if (!wwsf_arg_ok("wwsf-block", argv[1]))
		return 1;
	for (const char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "wims hss wwsf-block: --reason: expected one line of text\n");
			return 1;
		}
	/* REQ 2.2 for those already registered: the block and the removal
	 * of every binding made through the WWSF commit together (the
	 * cscf keeps its bindings in this store unless [cscf] db says
	 * otherwise), so that its users' terminating requests find no
	 * binding and their originating ones are refused as unregistered.
	 * The cscf checks the block again when it writes a TNA binding, so
	 * a REGISTER authorized just before this commit does not bring
	 * one back. */
	int contacts = 0, rows = 0;
	int rc = store_begin(st);
	if (!rc)
		rc = store_wwsf_block(st, argv[1], reason, (int64_t)time(NULL));
	if (!rc) {
		rows = store_binding_delete_wwsf(st, argv[1], &contacts);
		rc = rows < 0 ? rows : 0;
	}
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	if (rc == WIMS_ETOOBIG) {
		fprintf(stderr, "wims hss wwsf-block: --reason: expected under %d characters\n",
			STORE_BLOCK_REASON_MAX);
		return 1;
	}
	if (rc) {
		explain("wwsf-block", argv[1], rc);
		return 1;
	}
	char extra[64] = "";
	if (rows != contacts)
		snprintf(extra, sizeof(extra), " (%d bindings)", rows);
	printf("blocked %s; removed %d registration%s%s%s%s\n", argv[1], contacts,
	       contacts == 1 ? "" : "s", extra, reason[0] ? "; reason: " : "", reason);
	return 0;
}

static int cmd_wwsf_unblock(struct store *st, const char *wwsf)
{
	if (!wwsf_arg_ok("wwsf-unblock", wwsf))
		return 1;
	int rc = store_wwsf_unblock(st, wwsf);
	if (rc == WIMS_ENOTFOUND) {
		fprintf(stderr, "wims hss wwsf-unblock: %s is not blocked\n", wwsf);
		return 1;
	}
	if (rc) {
		explain("wwsf-unblock", wwsf, rc);
		return 1;
	}
	printf("unblocked %s\n", wwsf);
	return 0;
}

/* "LABEL A B" per row of a walk; arg is the label. */
static int print_row(void *arg, const char *a, const char *b)
{
	printf("%s %s%s%s\n", (const char *)arg, a, b[0] ? " " : "", b);
	return 0;
}

static int cmd_wwsfs(struct store *st)
{
	/* One line per fact: "allowed WWSF IMPI", "pool WWSF IMPI",
	 * "blocked WWSF REASON". */
	int rc = store_wwsf_allowed_list(st, NULL, print_row, "allowed");
	if (!rc)
		rc = store_pool_list(st, NULL, print_row, "pool");
	if (!rc)
		rc = store_wwsf_block_list(st, print_row, "blocked");
	if (rc) {
		explain("wwsfs", "", rc);
		return 1;
	}
	return 0;
}

/* pool-add / pool-remove WWSF IMPI...: all or none, in one transaction. */
static int cmd_pool(struct store *st, int argc, char **argv, bool add)
{
	const char *cmd = add ? "pool-add" : "pool-remove";
	if (argc < 3) {
		fprintf(stderr, "usage: wims hss %s WWSF IMPI...\n", cmd);
		return 2;
	}
	const char *wwsf = argv[1];
	if (!wwsf_arg_ok(cmd, wwsf))
		return 1;
	int rc = store_begin(st);
	if (rc) {
		explain(cmd, wwsf, rc);
		return 1;
	}
	for (int i = 2; i < argc && !rc; i++) {
		const char *impi = argv[i];
		struct store_subscriber sub = {.schemes = STORE_SCHEME_TNA};
		if (add && need_subscriber(st, cmd, impi, &sub)) {
			rc = 1;
			break;
		}
		rc = add ? store_pool_add(st, wwsf, impi) : store_pool_remove(st, wwsf, impi);
		char owner[WIMS_WWSF_ID_MAX];
		if (rc == WIMS_EEXIST && store_pool_owner(st, impi, owner) == 0)
			fprintf(stderr, "wims hss pool-add: %s is in the pool of %s already "
					"(an IMPI is in one pool: pool-remove it there first)\n",
				impi, owner);
		else if (rc == WIMS_ENOTFOUND && !add)
			fprintf(stderr, "wims hss pool-remove: %s is not in the pool of %s\n", impi,
				wwsf);
		else if (rc)
			explain(cmd, impi, rc);
		if (!rc && add && !(sub.schemes & STORE_SCHEME_TNA))
			fprintf(stderr, "wims hss pool-add: note: %s lacks scheme tna\n", impi);
	}
	if (rc) {
		store_rollback(st);
		fprintf(stderr, "wims hss %s: nothing changed\n", cmd);
		return 1;
	}
	if ((rc = store_commit(st))) {
		explain(cmd, wwsf, rc);
		return 1;
	}
	printf("%s %d IMPI%s %s the pool of %s\n", add ? "added" : "removed", argc - 2,
	       argc == 3 ? "" : "s", add ? "to" : "from", wwsf);
	return 0;
}

static int print_link(void *arg, const struct store_link *l)
{
	WIMS_UNUSED(arg);
	printf("%s %s %s %s %s%s%s\n", l->web_id, l->idp, l->impu, l->impi,
	       l->confirmed ? "confirmed" : "pending", l->wwsf_grant[0] ? " grant " : "",
	       l->wwsf_grant);
	return 0;
}

static int cmd_links(struct store *st)
{
	int rc = store_link_list(st, print_link, NULL);
	if (rc) {
		explain("links", "", rc);
		return 1;
	}
	return 0;
}

static int cmd_link_remove(struct store *st, const char *web_id, const char *idp,
			   const char *impu)
{
	int rc = store_link_remove(st, web_id, idp, impu);
	if (rc == WIMS_ENOTFOUND || rc == WIMS_EINVAL) {
		fprintf(stderr, "wims hss link-remove: no link of %s (idp %s) to %s (see `wims hss links`)\n",
			web_id, idp, impu);
		return 1;
	}
	if (rc) {
		explain("link-remove", web_id, rc);
		return 1;
	}
	printf("removed the link of %s (idp %s) to %s\n", web_id, idp, impu);
	return 0;
}

/* The commands with their argument counts (nargs counts "hss" and the
 * command): min, max (-1: any). */
static const struct {
	const char *name;
	int min, max;
} commands[] = {
	{"add", 3, -1},          {"list", 2, 2},           {"show", 3, 3},
	{"remove", 3, 3},        {"passwd", 3, 3},         {"import", 3, 3},
	{"schemes", 4, 4},       {"aka", 4, -1},           {"wwsf-allow", 4, 4},
	{"wwsf-disallow", 4, 4}, {"wwsf-block", 3, 5},     {"wwsf-unblock", 3, 3},
	{"wwsfs", 2, 2},         {"pool-add", 4, -1},      {"pool-remove", 4, -1},
	{"links", 2, 2},         {"link-remove", 5, 5},
};

int hss_cli(int argc, char **argv)
{
	/* argv[0] is "hss"; --db PATH may come anywhere. */
	const char *db = NULL;
	char *args[64];
	int nargs = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "wims hss: --db needs a path\n");
				return 2;
			}
			db = argv[++i];
		} else if (nargs < (int)WIMS_ARRAY_LEN(args)) {
			args[nargs++] = argv[i];
		} else {
			fprintf(stderr, "wims hss: too many arguments\n");
			return 2;
		}
	}
	if (nargs < 2) {
		fprintf(stderr, "%s", hss_cli_usage);
		return 2;
	}
	const char *cmd = args[1];
	size_t c;
	for (c = 0; c < WIMS_ARRAY_LEN(commands); c++)
		if (strcmp(cmd, commands[c].name) == 0)
			break;
	if (c == WIMS_ARRAY_LEN(commands)) {
		fprintf(stderr, "wims hss: unknown command \"%s\"\n%s", cmd, hss_cli_usage);
		return 2;
	}
	if (nargs < commands[c].min || (commands[c].max >= 0 && nargs > commands[c].max)) {
		fprintf(stderr, "wims hss %s: wrong number of arguments\n%s", cmd, hss_cli_usage);
		return 2;
	}
	struct store *st = cli_open(db);
	if (!st)
		return 1;
	int rc;
	if (strcmp(cmd, "add") == 0)
		rc = cmd_add(st, nargs - 1, args + 1);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(st);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(st, args[2]);
	else if (strcmp(cmd, "remove") == 0)
		rc = cmd_remove(st, args[2]);
	else if (strcmp(cmd, "passwd") == 0)
		rc = cmd_passwd(st, args[2]);
	else if (strcmp(cmd, "schemes") == 0)
		rc = cmd_schemes(st, args[2], args[3]);
	else if (strcmp(cmd, "aka") == 0)
		rc = cmd_aka(st, nargs - 1, args + 1);
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(st, args[2]);
	else if (strcmp(cmd, "wwsf-allow") == 0)
		rc = cmd_wwsf_allow(st, args[2], args[3]);
	else if (strcmp(cmd, "wwsf-disallow") == 0)
		rc = cmd_wwsf_disallow(st, args[2], args[3]);
	else if (strcmp(cmd, "wwsf-block") == 0)
		rc = cmd_wwsf_block(st, nargs - 1, args + 1);
	else if (strcmp(cmd, "wwsf-unblock") == 0)
		rc = cmd_wwsf_unblock(st, args[2]);
	else if (strcmp(cmd, "wwsfs") == 0)
		rc = cmd_wwsfs(st);
	else if (strcmp(cmd, "pool-add") == 0)
		rc = cmd_pool(st, nargs - 1, args + 1, true);
	else if (strcmp(cmd, "pool-remove") == 0)
		rc = cmd_pool(st, nargs - 1, args + 1, false);
	else if (strcmp(cmd, "links") == 0)
		rc = cmd_links(st);
	else
		rc = cmd_link_remove(st, args[2], args[3], args[4]);
	store_close(st);
	return rc;
}
