/*
 * global.h - the [global] configuration section shared by every role.
 */
#ifndef WIMS_CORE_GLOBAL_H
#define WIMS_CORE_GLOBAL_H

#include <stdbool.h>

#include "core/conf.h"

struct wims_global_conf {
	int log_level;          /* enum wims_log_level */
	char domain[128];       /* home network domain and Digest realm */
	char data_dir[512];     /* SQLite files live here */
	char tls_cert[512];     /* PEM certificate chain for every TLS listener */
	char tls_key[512];      /* PEM private key */
	bool tls_self_signed;   /* create tls_cert/tls_key if they are missing */
	int workers;            /* worker threads per role; 0 = one per core */
};

extern struct wims_global_conf wims_global;
extern const struct conf_section wims_global_section;

/* Resolved worker count: wims_global.workers, or the number of cores. */
int wims_global_workers(void);
/* data_dir/name into out; WIMS_ETOOBIG if it does not fit. */
int wims_global_data_path(const char *name, char *out, size_t outsz);

#endif
