/*
 * main.c - the `wims` executable: one binary, one subcommand per role.
 *
 *	wims [-c FILE] [--set section.key=value]... ROLE [ARGS...]
 *
 * Without ARGS a role starts its listeners and runs until SIGINT/SIGTERM.
 * `wims demo` starts every role in this process, each on its own loopback
 * port, talking the same protocols as when they run apart.  Roles with a
 * command line (`wims hss add ...`) take ARGS instead.
 *
 * The demo also runs the third-party WWSF of scenario 3 (TR 33.871 6.1.3)
 * as a second process: `wims wwsf` again, with the demo's configuration
 * plus the settings of a site of its own (webshop.example.net on port
 * 8446, the pool pool1..pool4, guests welcome, its own files and client
 * certificate).  A process of its own because a role's configuration is
 * one struct per process, and because a third party is someone else's
 * server: it talks to the WAF and the eP-CSCF only through their ports.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/global.h"
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

extern const struct role hss_role, cscf_role, pcscf_role, wwsf_role, waf_role, me_role;

/* Start order matters in demo: stores before the functions that query them,
 * the core before the edge, and the WAF before the pcscf that fetches its
 * keys at start. */
static const struct role *const roles[] = {
	&hss_role,
	&cscf_role,
	&waf_role,
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

/* What the demo's third-party WWSF inherits: the command line's config
 * file and --set options. */
static struct {
	const char *config;
	const char *const *sets;
	size_t nsets;
	pid_t pid;
} third_party;

#define THIRD_PARTY_PORT "8446"

/* Starts `wims [-c F] [--set ...] --set wwsf.* wwsf` for the third-party
 * site; returns its PID or -1 (logged). */
static pid_t third_party_start(void)
{
	static const char *const site[] = {
		"wwsf.listen=127.0.0.1:" THIRD_PARTY_PORT,
		"wwsf.identity=webshop.example.net",
		"wwsf.anonymous=yes",
		"wwsf.demo_accounts=no",
		"wwsf.allowed_origins=https://127.0.0.1:" THIRD_PARTY_PORT
		", https://localhost:" THIRD_PARTY_PORT,
		"wwsf.redirect_uri=https://127.0.0.1:" THIRD_PARTY_PORT "/oauth/callback",
	};
	/* its own data files beside the demo's */
	static const char *const files[][2] = {
		{"wwsf.db", "webshop.db"},
		{"wwsf.isim_db", "webshop-isim.db"},
		{"wwsf.client_cert", "webshop-client/cert.pem"},
		{"wwsf.client_key", "webshop-client/key.pem"},
	};
	static char filesets[WIMS_ARRAY_LEN(files)][700], pool[600];
	const char *argv[4 + 2 * 64 + 2 * (WIMS_ARRAY_LEN(site) + WIMS_ARRAY_LEN(files) + 1) + 2];
	size_t argc = 0;
	argv[argc++] = "wims";
	if (third_party.config) {
		argv[argc++] = "--config";
		argv[argc++] = third_party.config;
	}
	for (size_t i = 0; i < third_party.nsets; i++) {
		argv[argc++] = "--set";
		argv[argc++] = third_party.sets[i];
	}
	for (size_t i = 0; i < WIMS_ARRAY_LEN(site); i++) {
		argv[argc++] = "--set";
		argv[argc++] = site[i];
	}
	for (size_t i = 0; i < WIMS_ARRAY_LEN(files); i++) {
		char path[600];
		if (wims_global_data_path(files[i][1], path, sizeof(path))) {
			WIMS_ERROR("main", "third-party WWSF: data_dir too long");
			return -1;
		}
		snprintf(filesets[i], sizeof(filesets[i]), "%s=%s", files[i][0], path);
		argv[argc++] = "--set";
		argv[argc++] = filesets[i];
	}
	/* TR 33.871 6.1.3: the IMPIs the HSS's demo seeding puts in
	 * webshop.example.net's pool */
	snprintf(pool, sizeof(pool), "wwsf.pool=pool1@%s, pool2@%s, pool3@%s, pool4@%s",
		 wims_global.domain, wims_global.domain, wims_global.domain, wims_global.domain);
	argv[argc++] = "--set";
	argv[argc++] = pool;
	argv[argc++] = "wwsf";
	argv[argc] = NULL;

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		WIMS_ERROR("main", "third-party WWSF: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* only async-signal-safe calls until exec: this process has
		 * threads */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* it goes when the demo goes, even on SIGKILL */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	WIMS_INFO("main", "third-party WWSF webshop.example.net (pool pool1..pool4@%s, guests "
			  "welcome): https://127.0.0.1:" THIRD_PARTY_PORT "/, pid %d",
		  wims_global.domain, (int)pid);
	return pid;
}

/* A SIGCHLD: says so if the third party has died. */
static void third_party_check(void)
{
	int status = 0;
	if (third_party.pid <= 0 || waitpid(third_party.pid, &status, WNOHANG) != third_party.pid)
		return;
	if (WIFEXITED(status))
		WIMS_ERROR("main", "the third-party WWSF (pid %d) exited with status %d: "
				   "https://127.0.0.1:" THIRD_PARTY_PORT "/ is down (its log is above)",
			   (int)third_party.pid, WEXITSTATUS(status));
	else
		WIMS_ERROR("main", "the third-party WWSF (pid %d) was killed by signal %d: "
				   "https://127.0.0.1:" THIRD_PARTY_PORT "/ is down",
			   (int)third_party.pid, WTERMSIG(status));
	third_party.pid = 0;
}

/* SIGTERM, up to 5 s for it to stop, then SIGKILL. */
static void third_party_stop(void)
{
	if (third_party.pid <= 0)
		return;
	kill(third_party.pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(third_party.pid, NULL, WNOHANG) == third_party.pid) {
			third_party.pid = 0;
			return;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	WIMS_WARN("main", "the third-party WWSF (pid %d) did not stop: killing it",
		  (int)third_party.pid);
	kill(third_party.pid, SIGKILL);
	waitpid(third_party.pid, NULL, 0);
	third_party.pid = 0;
}

static int run_roles(const struct role *const *list, size_t n, bool demo)
{
	sigset_t set;
	block_stop_signals(&set);
	if (demo) {
		/* waited for below, with the stop signals */
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		pthread_sigmask(SIG_BLOCK, &chld, NULL);
	}
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
		if (demo) {
			third_party.pid = third_party_start();
			WIMS_INFO("main", "demo running: open the wwsf URL above "
					  "(Digest: alice, bob, carol, password NAME-secret; IMS AKA: "
					  "dave via the ME agent, erin and frank via the network ISIM, "
					  "web password NAME-web; operator sign-in at the WAF: "
					  "grace/grace-web), or the third-party site "
					  "https://127.0.0.1:" THIRD_PARTY_PORT "/ (guests get a pool "
					  "identity)");
			sigaddset(&set, SIGCHLD);
		}
		int sig = 0;
		for (;;) {
			sigwait(&set, &sig);
			if (sig != SIGCHLD)
				break;
			third_party_check();
		}
		WIMS_INFO("main", "signal %d: stopping", sig);
		third_party_stop();
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
	if (strcmp(name, "demo") == 0) {
		third_party.config = config;
		third_party.sets = sets;
		third_party.nsets = nsets;
		return run_roles(roles, WIMS_ARRAY_LEN(roles), true);
	}

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
