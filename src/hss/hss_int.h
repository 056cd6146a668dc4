/*
 * hss_int.h - what the files of the hss role share: its [hss]
 * configuration and the demo provisioning.
 */
#ifndef WIMS_HSS_HSS_INT_H
#define WIMS_HSS_HSS_INT_H

#include <stdbool.h>

#include "core/limits.h"
#include "store/store.h"

struct hss_conf {
	char db[512];          /* "" = <data_dir>/hss.db */
	bool demo_subscribers; /* provision alice, bob, carol on start */
};

extern struct hss_conf hss_conf;

/* Add one subscriber: IMPI, realm, password (hashed here, never kept), and
 * its IMPUs in one implicit registration set.  In the caller's
 * transaction if one is open.  0, WIMS_EEXIST, WIMS_EINVAL ... */
int hss_provision(struct store *st, const char *impi, const char *realm, const char *password,
		  size_t password_len, const char *const *impus, size_t n_impus);

/* alice, bob, carol in domain when missing (demo).  Returns how many were
 * added (>= 0) or an error. */
int hss_seed_demo(struct store *st, const char *domain);

/* mkdir -p of the directory part of path (mode 0700).  0 or WIMS_EIO. */
int hss_make_parent_dirs(const char *path);

/* `wims hss ARGS` (cli.c). */
int hss_cli(int argc, char **argv);
extern const char hss_cli_usage[];

#endif
