/*
 * isim_cli.c - the isim-* commands of isim_cli.h.
 *
 * K, OP and OPc arrive as hex arguments; they are decoded, the argument
 * strings are wiped at once (to keep them out of ps(1) for the rest of
 * the run), OP is turned into OPc, and every copy is cleansed after the
 * entry is stored.  Nothing secret is printed.
 */
#include "isim/isim_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/global.h"
#include "core/urlenc.h"
#include "core/wims.h"
#include "isim/isim.h"

const char isim_cli_usage[] = ISIM_CLI_USAGE;

static const char *const commands[] = {"isim-add", "isim-list", "isim-remove", "isim-seq"};

bool isim_cli_is_command(const char *cmd)
{
	for (size_t i = 0; cmd && i < WIMS_ARRAY_LEN(commands); i++)
		if (strcmp(cmd, commands[i]) == 0)
			return true;
	return false;
}

/* Exactly n bytes of hex; 0 or WIMS_EPARSE. */
static int hex_decode(const char *h, uint8_t *out, size_t n)
{
	if (strlen(h) != 2 * n)
		return WIMS_EPARSE;
	for (size_t i = 0; i < n; i++) {
		int hi = urlenc_hex_digit_value(h[2 * i]);
		int lo = urlenc_hex_digit_value(h[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return WIMS_EPARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A secret hex argument into out, then wiped from argv. */
static int take_secret(char *arg, uint8_t *out, size_t n)
{
	int rc = hex_decode(arg, out, n);
	OPENSSL_cleanse(arg, strlen(arg));
	return rc;
}

static int copy_arg(const char *v, char *dst, size_t dstsz)
{
	size_t n = strlen(v);
	if (n == 0 || n >= dstsz)
		return WIMS_ETOOBIG;
	memcpy(dst, v, n + 1);
	return 0;
}

static int cmd_add(const char *prog, struct isim *is, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage:\n%s", isim_cli_usage);
		return 2;
	}
	struct isim_entry e;
	memset(&e, 0, sizeof(e));
	uint8_t op[AKA_OP_LEN];
	bool have_k = false, have_opc = false, have_op = false;
	const char *impu = NULL, *realm = wims_global.domain;
	e.amf[0] = 0x80;
	e.amf[1] = 0x00;
	int status = 2;
	if (copy_arg(argv[1], e.impi, sizeof(e.impi))) {
		fprintf(stderr, "%s isim-add: IMPI empty or too long\n", prog);
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			fprintf(stderr, "%s isim-add: unexpected \"%s\"\n", prog, opt);
			goto out;
		}
		i++;
		int rc = 0;
		if (strcmp(opt, "--impu") == 0) {
			impu = val;
		} else if (strcmp(opt, "--realm") == 0) {
			realm = val;
		} else if (strcmp(opt, "--k") == 0) {
			rc = take_secret(val, e.keys.k, sizeof(e.keys.k));
			have_k = true;
		} else if (strcmp(opt, "--opc") == 0) {
			rc = take_secret(val, e.keys.opc, sizeof(e.keys.opc));
			have_opc = true;
		} else if (strcmp(opt, "--op") == 0) {
			rc = take_secret(val, op, sizeof(op));
			have_op = true;
		} else if (strcmp(opt, "--amf") == 0) {
			rc = hex_decode(val, e.amf, sizeof(e.amf));
		} else {
			fprintf(stderr, "%s isim-add: unexpected \"%s\"\n", prog, opt);
			goto out;
		}
		if (rc) {
			fprintf(stderr, "%s isim-add: %s needs %s hex digits\n", prog, opt,
				strcmp(opt, "--amf") == 0 ? "4" : "32");
			goto out;
		}
	}
	if (!have_k || have_opc == have_op) {
		fprintf(stderr, "%s isim-add: needs --k and one of --opc or --op\n", prog);
		goto out;
	}
	if (impu) {
		if (copy_arg(impu, e.impu, sizeof(e.impu))) {
			fprintf(stderr, "%s isim-add: IMPU empty or too long\n", prog);
			goto out;
		}
	} else {
		int n = snprintf(e.impu, sizeof(e.impu), "sip:%s", e.impi);
		if (n < 0 || (size_t)n >= sizeof(e.impu)) {
			fprintf(stderr, "%s isim-add: IMPI too long\n", prog);
			goto out;
		}
	}
	if (strncmp(e.impu, "sip:", 4) != 0 && strncmp(e.impu, "sips:", 5) != 0 &&
	    strncmp(e.impu, "tel:", 4) != 0) {
		fprintf(stderr, "%s isim-add: IMPU must be a sip:, sips: or tel: URI\n", prog);
		goto out;
	}
	if (copy_arg(realm, e.realm, sizeof(e.realm))) {
		fprintf(stderr, "%s isim-add: realm empty or too long\n", prog);
		goto out;
	}
	status = 1;
	if (have_op && aka_opc_from_op(e.keys.k, op, e.keys.opc)) {
		fprintf(stderr, "%s isim-add: cannot derive OPc from OP\n", prog);
		goto out;
	}
	int rc = isim_put(is, &e);
	if (rc) {
		fprintf(stderr, "%s isim-add %s: %s\n", prog, e.impi, wims_strerror(rc));
		goto out;
	}
	printf("%s isim-add: %s (%s, realm %s)\n", prog, e.impi, e.impu, e.realm);
	status = 0;
out:
	OPENSSL_cleanse(&e, sizeof(e));
	OPENSSL_cleanse(op, sizeof(op));
	return status;
}

static int print_entry(void *arg, const struct isim_entry *e)
{
	WIMS_UNUSED(arg);
	printf("%s impu %s realm %s\n", e->impi, e->impu, e->realm);
	return 0;
}

static int cmd_list(const char *prog, struct isim *is, int argc)
{
	if (argc != 1) {
		fprintf(stderr, "usage:\n%s", isim_cli_usage);
		return 2;
	}
	int rc = isim_list(is, print_entry, NULL);
	if (rc) {
		fprintf(stderr, "%s isim-list: %s\n", prog, wims_strerror(rc));
		return 1;
	}
	return 0;
}

static int cmd_remove(const char *prog, struct isim *is, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage:\n%s", isim_cli_usage);
		return 2;
	}
	int rc = isim_remove(is, argv[1]);
	if (rc) {
		fprintf(stderr, "%s isim-remove %s: %s\n", prog, argv[1],
			rc == WIMS_ENOTFOUND ? "no such entry" : wims_strerror(rc));
		return 1;
	}
	printf("%s isim-remove: %s\n", prog, argv[1]);
	return 0;
}

static int cmd_seq(const char *prog, struct isim *is, int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage:\n%s", isim_cli_usage);
		return 2;
	}
	uint64_t seq;
	if (slice_to_u64(slice_from_cstr(argv[2]), AKA_SQN_MAX >> AKA_IND_BITS, &seq)) {
		fprintf(stderr, "%s isim-seq: SEQ must be a number below 2^%d\n", prog,
			48 - AKA_IND_BITS);
		return 2;
	}
	int rc = isim_set_seq(is, argv[1], seq);
	if (rc) {
		fprintf(stderr, "%s isim-seq %s: %s\n", prog, argv[1],
			rc == WIMS_ENOTFOUND ? "no such entry" : wims_strerror(rc));
		return 1;
	}
	printf("%s isim-seq: %s SEQ %llu in every slot\n", prog, argv[1],
	       (unsigned long long)seq);
	return 0;
}

int isim_cli(const char *prog, const char *db_path, int argc, char **argv)
{
	if (argc < 1 || !isim_cli_is_command(argv[0])) {
		fprintf(stderr, "usage:\n%s", isim_cli_usage);
		return 2;
	}
	char err[512];
	struct isim *is = isim_open(db_path, err, sizeof(err));
	if (!is) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	int status;
	if (strcmp(argv[0], "isim-add") == 0)
		status = cmd_add(prog, is, argc, argv);
	else if (strcmp(argv[0], "isim-list") == 0)
		status = cmd_list(prog, is, argc);
	else if (strcmp(argv[0], "isim-remove") == 0)
		status = cmd_remove(prog, is, argc, argv);
	else
		status = cmd_seq(prog, is, argc, argv);
	isim_close(is);
	return status;
}
