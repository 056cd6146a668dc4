/*
 * cli.c - `wims wwsf ARGS`: web accounts, the user -> IMPI map and the
 * network ISIM's entries, from the command line; and the demo seed the
 * role runs at start-up.
 *
 * A password comes from stdin only (never an argument, which other users
 * see in ps), without echo on a terminal; it is hashed (account.c) and
 * wiped.  The isim-* commands are isim_cli's, the same as `wims me`'s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/aka.h"
#include "core/global.h"
#include "core/term.h"
#include "core/wims.h"
#include "isim/isim.h"
#include "isim/isim_cli.h"
#include "store/webacct.h"
#include "wwsf/wwsf_int.h"

const char wwsf_cli_usage[] =
	"usage: wims wwsf [--db PATH] [--isim-db PATH] COMMAND [ARGS]\n"
	"  user-add NAME [--password-stdin]\n"
	"                     add a web account (or set its password); the password\n"
	"                     is read from stdin, not echoed on a terminal\n"
	"  user-remove NAME   remove the account and its map\n"
	"  map NAME IMPI      let NAME use IMS subscription IMPI via the network ISIM\n"
	"  unmap NAME IMPI    take it back\n"
	"  users              every account with its IMPIs\n"
	"  isim-add IMPI [--impu URI] --k HEX32 (--opc HEX32 | --op HEX32)\n"
	"           [--amf HEX4] [--realm R]\n"
	"                     credentials of the network ISIM for IMPI\n"
	"  isim-list          the ISIM's entries (never K or OPc)\n"
	"  isim-remove IMPI\n"
	"  isim-seq IMPI SEQ  set the SEQ of every IND slot (resync tests)\n"
	"  --db PATH          accounts (default: [wwsf] db, else <data_dir>/wwsf.db)\n"
	"  --isim-db PATH     ISIM store (default: [wwsf] isim_db, else\n"
	"                     <data_dir>/wwsf-isim.db)\n"
	"Passwords are stored as scrypt hashes, never in clear.\n";

int wwsf_store_path(const char *configured, const char *name, char *out, size_t outsz)
{
	if (configured && *configured) {
		int n = snprintf(out, outsz, "%s", configured);
		return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
	}
	return wims_global_data_path(name, out, outsz);
}

int wwsf_seed_demo(struct web_accounts *a, struct isim *is, const char *domain)
{
	static const char *const users[] = {"erin", "frank"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(users); i++) {
		const char *name = users[i];
		char pw[64];
		struct isim_entry e;
		int rc;
		memset(&e, 0, sizeof(e));
		snprintf(pw, sizeof(pw), "%s-web", name);
		if (snprintf(e.impi, sizeof(e.impi), "%s@%s", name, domain) >=
			    (int)sizeof(e.impi) ||
		    snprintf(e.impu, sizeof(e.impu), "sip:%s", e.impi) >= (int)sizeof(e.impu) ||
		    snprintf(e.realm, sizeof(e.realm), "%s", domain) >= (int)sizeof(e.realm))
			return WIMS_ETOOBIG;
		e.amf[0] = 0x80;
		e.amf[1] = 0x00;
		if (!web_account_exists(a, name) &&
		    (rc = web_account_set(a, name, pw, strlen(pw))))
			return rc;
		if ((rc = web_account_map(a, name, e.impi)))
			return rc;
		rc = aka_demo_keys(e.impi, &e.keys);
		if (!rc)
			rc = isim_put(is, &e);
		OPENSSL_cleanse(&e, sizeof(e));
		if (rc)
			return rc;
	}
	return 0;
}

static int print_user(void *arg, const char *name, const char *impi)
{
	char *last = arg;
	if (strcmp(last, name) != 0) {
		if (last[0])
			putchar('\n');
		printf("%s", name);
		snprintf(last, WEB_USER_MAX, "%s", name);
	}
	if (impi)
		printf(" %s", impi);
	return 0;
}

static int cmd_user_add(struct web_accounts *a, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--password-stdin") != 0)) {
		fprintf(stderr, "usage: wims wwsf user-add NAME [--password-stdin]\n");
		return 2;
	}
	if (!web_user_name_ok(slice_from_cstr(argv[1]))) {
		fprintf(stderr, "wims wwsf: \"%s\" is not a user name (1-%d of A-Z a-z 0-9 . _ -)\n",
			argv[1], WEB_USER_MAX - 1);
		return 2;
	}
	char pw[WEB_PASSWORD_MAX + 2];
	size_t len = 0;
	int rc = term_read_secret(stdin, "Password: ", pw, sizeof(pw), &len);
	if (!rc && len > WEB_PASSWORD_MAX)
		rc = WIMS_ETOOBIG;
	if (rc) {
		OPENSSL_cleanse(pw, sizeof(pw));
		fprintf(stderr, "wims wwsf: %s\n",
			rc == WIMS_EINVAL ? "empty password" : "password too long");
		return 1;
	}
	bool existed = web_account_exists(a, argv[1]);
	rc = web_account_set(a, argv[1], pw, len);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc) {
		fprintf(stderr, "wims wwsf: %s: %s\n", argv[1], wims_strerror(rc));
		return 1;
	}
	printf("%s %s\n", existed ? "password set for" : "added", argv[1]);
	return 0;
}

static int run_command(struct web_accounts *a, int argc, char **argv)
{
	const char *cmd = argv[0];
	int rc;
	if (strcmp(cmd, "user-add") == 0)
		return cmd_user_add(a, argc, argv);
	if (strcmp(cmd, "user-remove") == 0 && argc == 2) {
		rc = web_account_remove(a, argv[1]);
		if (rc) {
			fprintf(stderr, "wims wwsf: %s: %s\n", argv[1],
				rc == WIMS_ENOTFOUND ? "no such user" : wims_strerror(rc));
			return 1;
		}
		printf("removed %s\n", argv[1]);
		return 0;
	}
	if ((strcmp(cmd, "map") == 0 || strcmp(cmd, "unmap") == 0) && argc == 3) {
		bool map = cmd[0] == 'm';
		rc = map ? web_account_map(a, argv[1], argv[2])
			 : web_account_unmap(a, argv[1], argv[2]);
		if (rc) {
			fprintf(stderr, "wims wwsf: %s %s: %s\n", argv[1], argv[2],
				rc == WIMS_ENOTFOUND ? (map ? "no such user" : "not mapped")
				: rc == WIMS_EINVAL  ? "not a private user identity"
						     : wims_strerror(rc));
			return 1;
		}
		printf("%s %s %s %s\n", map ? "mapped" : "unmapped", argv[1], map ? "->" : "-/>",
		       argv[2]);
		return 0;
	}
	if (strcmp(cmd, "users") == 0 && argc == 1) {
		char last[WEB_USER_MAX] = "";
		rc = web_account_list(a, NULL, print_user, last);
		if (last[0])
			putchar('\n');
		if (rc) {
			fprintf(stderr, "wims wwsf: %s\n", wims_strerror(rc));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "wims wwsf: bad command or arguments \"%s\"\n%s", cmd, wwsf_cli_usage);
	return 2;
}

int wwsf_cli(const char *db, const char *isim_db, int argc, char **argv)
{
	/* argv[0] is "wwsf" */
	int i = 1;
	while (i + 1 < argc && (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--isim-db") == 0)) {
		if (argv[i][2] == 'd')
			db = argv[i + 1];
		else
			isim_db = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "%s", wwsf_cli_usage);
		return 2;
	}
	char path[1024], err[512];
	if (isim_cli_is_command(argv[i])) {
		if (wwsf_store_path(isim_db, "wwsf-isim.db", path, sizeof(path))) {
			fprintf(stderr, "wims wwsf: ISIM store path too long\n");
			return 1;
		}
		return isim_cli("wims wwsf", path, argc - i, argv + i);
	}
	if (wwsf_store_path(db, "wwsf.db", path, sizeof(path))) {
		fprintf(stderr, "wims wwsf: account store path too long\n");
		return 1;
	}
	struct web_accounts *a = web_accounts_open(path, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "wims wwsf: %s\n", err);
		return 1;
	}
	int rc = run_command(a, argc - i, argv + i);
	web_accounts_close(a);
	return rc;
}
