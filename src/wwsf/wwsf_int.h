/*
 * wwsf_int.h - what wwsf.c and cli.c share inside the wwsf role.
 */
#ifndef WIMS_WWSF_WWSF_INT_H
#define WIMS_WWSF_WWSF_INT_H

#include <stddef.h>

struct isim;
struct web_accounts;

/* configured, or <data_dir>/name when configured is empty.  0 or
 * WIMS_ETOOBIG. */
int wwsf_store_path(const char *configured, const char *name, char *out, size_t outsz);

/* Demo web accounts ([wwsf] demo_accounts): erin/erin-web and
 * frank/frank-web, mapped to NAME@domain, with ISIM entries (impu
 * sip:NAME@domain, realm domain, AMF 8000, K/OPc from aka_demo_keys).  An
 * account that exists keeps its password; an ISIM entry with the same K
 * keeps its SQN state.  0 or WIMS_E*. */
int wwsf_seed_demo(struct web_accounts *a, struct isim *is, const char *domain);

/* `wims wwsf ARGS`, with the [wwsf] db and isim_db values. */
extern const char wwsf_cli_usage[];
int wwsf_cli(const char *db, const char *isim_db, int argc, char **argv);

#endif
