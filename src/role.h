/*
 * role.h - what every role exports to src/main.c.
 *
 * A role is one network function (pcscf, cscf, hss, ...).  start() reads its
 * configuration (already loaded into the struct its conf section points
 * at), opens its listeners and starts its worker threads, then returns;
 * stop() makes them finish and joins them.  `wims demo` starts every role in
 * one process, each on its own port, talking the same protocols as when
 * they run apart.  cli() serves subcommands such as `wims hss add ...`.
 */
#ifndef WIMS_ROLE_H
#define WIMS_ROLE_H

#include "core/conf.h"

struct role {
	const char *name;
	const char *summary;
	const struct conf_section *conf; /* NULL if the role has no keys */
	int (*start)(void);              /* 0 or WIMS_E*; logs why */
	void (*stop)(void);
	/* Optional: `wims ROLE ARGS...` with ARGS runs this and exits with
	 * its return value. */
	int (*cli)(int argc, char **argv);
	/* Optional: text for `wims ROLE --help`. */
	const char *cli_usage;
};

#endif
