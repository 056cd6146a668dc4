/*
 * hss_int.h - what the files of the hss role share: its [hss]
 * configuration and the demo provisioning.
 */
#ifndef WIMS_HSS_HSS_INT_H
#define WIMS_HSS_HSS_INT_H

#include <stdbool.h>

#include "auth/aka.h"
#include "core/limits.h"
#include "store/store.h"

struct hss_conf {
	char db[512];          /* "" = <data_dir>/hss.db */
	bool demo_subscribers; /* provision alice ... frank on start */
};

extern struct hss_conf hss_conf;

/* Add one subscriber: IMPI, realm, password (hashed here, never kept), and
 * its IMPUs in one implicit registration set.  In the caller's
 * transaction if one is open.  0, WIMS_EEXIST, WIMS_EINVAL ... */
int hss_provision(struct store *st, const char *impi, const char *realm, const char *password,
		  size_t password_len, const char *const *impus, size_t n_impus);

/* Set the IMPI's K, OPc and AMF (its SQN is kept; 0 for a new row).  In
 * the caller's transaction if one is open.  0, WIMS_ENOTFOUND ... */
int hss_set_aka(struct store *st, const char *impi, const struct aka_keys *keys,
		const uint8_t amf[AKA_AMF_LEN]);

/* The demo subscribers in domain when missing: alice, bob, carol (Digest,
 * NAME-secret; bob digest,tna), dave, erin, frank (AKAv2 only,
 * aka_demo_keys, AMF 8000, SQN 0), grace (tna only, no password, allows
 * WWSF wwsf.ims.example.org); IMPUs sip:NAME@domain and
 * tel:+1555000000N; pool1..pool4 (tna only, sip:poolN@domain alone, the
 * pool of WWSF webshop.example.net).  Returns how many were added (>= 0)
 * or an error. */
int hss_seed_demo(struct store *st, const char *domain);

/* mkdir -p of the directory part of path (mode 0700).  0 or WIMS_EIO. */
int hss_make_parent_dirs(const char *path);

/* `wims hss ARGS` (cli.c). */
int hss_cli(int argc, char **argv);
extern const char hss_cli_usage[];

#endif
