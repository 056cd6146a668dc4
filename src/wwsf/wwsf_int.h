/*
 * wwsf_int.h - what wwsf.c and cli.c share inside the wwsf role.
 */
#ifndef WIMS_WWSF_WWSF_INT_H
#define WIMS_WWSF_WWSF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct isim;
struct web_accounts;
struct wwsf_api;
struct wwsf_pending;
struct wwsf_pool;
struct wwsf_w4_op;

/* What each worker thread owns. */
struct wwsf_worker {
	struct event_base *base;
	struct isim *isim;         /* isim.h wants a handle per thread */
	struct wwsf_w4_op *ops;    /* W4 requests to the WAF in flight (oauth_http.c) */
};

/* The OAuth client side (oauth_http.c): set up by wwsf.c at start, read
 * only afterwards (the tables inside lock themselves). */
struct wwsf_oauth {
	struct wwsf_api *api;        /* sessions, accounts, allowed origins */
	struct wwsf_pending *pending;
	struct wwsf_pool *pool;      /* size 0 on a site without a pool */
	SSL_CTX *waf_tls;            /* verifies the WAF, presents our certificate */
	char waf_url[256];           /* without a trailing '/' */
	char waf_host[128];
	int waf_port;
	char waf_path[128];          /* path prefix of waf_url, "" or "/x" */
	const char *identity;        /* our client_id */
	char redirect_uri[300];
	const char *scope;
	bool anonymous;
	int pool_hold_s;
};

/* true if path is one of oauth_http.c's. */
bool wwsf_oauth_path(const char *path);
/* Answer req (path without the query) on worker w: now, or when the WAF
 * has answered. */
void wwsf_oauth_serve(struct wwsf_oauth *o, struct wwsf_worker *w, struct evhttp_request *req,
		      const char *path);
/* Drop w's requests to the WAF in flight (worker shutdown, before its
 * evhttp server is freed: the browsers' requests go with it). */
void wwsf_oauth_worker_close(struct wwsf_worker *w);
/* Ends a session's pool hold: the sessions' end callback. */
void wwsf_oauth_session_end(void *arg, const unsigned char *key);

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
