/*
 * main.c - the `wims` executable: one binary, one subcommand per role.
 *
 *	wims [-c FILE] [--set section.key=value]... ROLE [ARGS...]
 *
 * Without ARGS a role starts its listeners and runs until SIGINT/SIGTERM.
 * `wims demo` starts every role in this process, each on its own loopback
 * port, talking the same protocols as when they run apart.  Roles with a
 * command line (`wims hss add ...`) take ARGS instead.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/global.h"
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

extern const struct role hss_role, cscf_role, pcscf_role, wwsf_role, me_role;

/* Start order matters in demo: stores before the functions that query them,
 * the core before the edge. */
static const struct role *const roles[] = {
	&hss_role,
	&cscf_role,
	&pcscf_role,
	&wwsf_role,
	&me_role,
};

#define MAX_SECTIONS (WIMS_ARRAY_LEN(roles) + 1)

static size_t all_sections(const struct conf_section **out)
{
	size_t n = 0;
	out[n++] = &wims_global_section;
	for (size_t i = 0; i < WIMS_ARRAY_LEN(roles); i++)
		if (roles[i]->conf)
			out[n++] = roles[i]->conf;
	return n;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: wims [-c FILE] [--set section.key=value]... ROLE [ARGS...]\n"
		     "\nroles:\n");
	for (size_t i = 0; i < WIMS_ARRAY_LEN(roles); i++)
		fprintf(out, "  %-8s %s\n", roles[i]->name, roles[i]->summary);
	fprintf(out, "  %-8s %s\n", "demo", "every role in one process, on loopback");
	fprintf(out, "\noptions:\n"
		     "  -c, --config FILE     read FILE (INI, see etc/wims.ini)\n"
		     "  -s, --set S.K=V       override one key after the file\n"
		     "      --config-doc      print docs/config.md\n"
		     "      --config-sample   print a commented INI with every default\n"
		     "  -h, --help            this text and every configuration key\n"
		     "  -V, --version\n");
}

static const struct role *find_role(const char *name)
{
	for (size_t i = 0; i < WIMS_ARRAY_LEN(roles); i++)
		if (strcmp(roles[i]->name, name) == 0)
			return roles[i];
	return NULL;
}

/* Block the stop signals in every thread, so that only sigwait() in main
 * sees them; worker threads inherit the mask. */
static void block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int run_roles(const struct role *const *list, size_t n, bool demo)
{
	sigset_t set;
	block_stop_signals(&set);
	size_t started = 0;
	int rc = 0;
	for (; started < n; started++) {
		rc = list[started]->start();
		if (rc) {
			WIMS_ERROR("main", "%s did not start: %s", list[started]->name,
				   wims_strerror(rc));
			break;
		}
	}
	if (!rc) {
		if (demo)
			WIMS_INFO("main", "demo running: open the wwsf URL above "
					  "(Digest: alice, bob, carol, password NAME-secret; IMS AKA: "
					  "dave via the ME agent, erin and frank via the network ISIM, "
					  "web password NAME-web)");
		int sig = 0;
		sigwait(&set, &sig);
		WIMS_INFO("main", "signal %d: stopping", sig);
	}
	while (started > 0)
		list[--started]->stop();
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct conf_section *sections[MAX_SECTIONS];
	size_t nsections = all_sections(sections);
	char err[512];

	if (conf_defaults(sections, nsections, err, sizeof(err))) {
		fprintf(stderr, "wims: %s\n", err);
		return 2;
	}

	enum { OPT_DOC = 1000, OPT_SAMPLE };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"config-doc", no_argument, NULL, OPT_DOC},
		{"config-sample", no_argument, NULL, OPT_SAMPLE},
		{NULL, 0, NULL, 0},
	};
	/* --set applies after the file whatever the order given. */
	const char *config = NULL;
	const char *sets[64];
	size_t nsets = 0;
	int c;
	/* "+" stops at the role name, leaving its ARGS to the role. */
	while ((c = getopt_long(argc, argv, "+c:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			if (nsets == WIMS_ARRAY_LEN(sets)) {
				fprintf(stderr, "wims: too many --set options\n");
				return 2;
			}
			sets[nsets++] = optarg;
			break;
		case 'h':
			usage(stdout);
			printf("\nconfiguration keys:\n");
			conf_print_help(stdout, sections, nsections);
			return 0;
		case 'V':
			printf("wims 0.1.0\n");
			return 0;
		case OPT_DOC:
			conf_print_markdown(stdout, sections, nsections);
			return 0;
		case OPT_SAMPLE:
			conf_print_ini(stdout, sections, nsections);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}

	if (config && conf_load(config, sections, nsections, err, sizeof(err))) {
		fprintf(stderr, "wims: %s\n", err);
		return 2;
	}
	for (size_t i = 0; i < nsets; i++) {
		if (conf_set(sets[i], sections, nsections, err, sizeof(err))) {
			fprintf(stderr, "wims: %s\n", err);
			return 2;
		}
	}
	wims_log_set_level((enum wims_log_level)wims_global.log_level);

	const char *name = argv[optind];
	if (strcmp(name, "demo") == 0)
		return run_roles(roles, WIMS_ARRAY_LEN(roles), true);

	const struct role *role = find_role(name);
	if (!role) {
		fprintf(stderr, "wims: unknown role \"%s\"\n", name);
		usage(stderr);
		return 2;
	}
	int rargc = argc - optind;
	char **rargv = argv + optind;
	if (rargc > 1 && (strcmp(rargv[1], "--help") == 0 || strcmp(rargv[1], "-h") == 0)) {
		printf("wims %s: %s\n%s", role->name, role->summary,
		       role->cli_usage ? role->cli_usage : "");
		return 0;
	}
	if (rargc > 1) {
		if (!role->cli) {
			fprintf(stderr, "wims %s: takes no arguments\n", role->name);
			return 2;
		}
		return role->cli(rargc, rargv);
	}
	const struct role *one[] = {role};
	return run_roles(one, 1, false);
}
