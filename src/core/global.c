/* global.c - the [global] section and its table. */
#include "core/global.h"

#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "core/wims.h"

struct wims_global_conf wims_global;

static const struct conf_key global_keys[] = {
	CONF_KEY_ENUM(struct wims_global_conf, log_level, "info", "error|warn|info|debug",
		      "least important messages to log"),
	CONF_KEY_STR(struct wims_global_conf, domain, "ims.example.org",
		     "home network domain, also the Digest realm"),
	CONF_KEY_STR(struct wims_global_conf, data_dir, "run",
		     "directory of the SQLite stores and generated keys"),
	CONF_KEY_STR(struct wims_global_conf, tls_cert, "run/tls/cert.pem",
		     "PEM certificate (chain) of every TLS listener"),
	CONF_KEY_STR(struct wims_global_conf, tls_key, "run/tls/key.pem",
		     "PEM private key of tls_cert"),
	CONF_KEY_BOOL(struct wims_global_conf, tls_self_signed, "yes",
		      "generate a self-signed tls_cert/tls_key when missing (demo)"),
	CONF_KEY_INT(struct wims_global_conf, workers, "0", 0, 64,
		     "worker threads per role; 0 means one per core"),
};

const struct conf_section wims_global_section = {
	.name = "global",
	.summary = "Settings shared by every role",
	.keys = global_keys,
	.nkeys = WIMS_ARRAY_LEN(global_keys),
	.target = &wims_global,
};

int wims_global_workers(void)
{
	if (wims_global.workers > 0)
		return wims_global.workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int wims_global_data_path(const char *name, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", wims_global.data_dir, name);
	return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
}
