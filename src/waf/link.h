/*
 * link.h - identity linking in the WAF (TR 33.871 REQ 2.5, Annex C
 * mechanism M2): a web identity asks to be linked to an IMPU, the WAF sends
 * a one-time code to that IMPU by SIP MESSAGE, and the link holds only once
 * the subscriber has entered the code on the WAF's confirmation page.  Only
 * confirmed links yield tokens (store_links_confirmed).
 *
 * The WAF role (waf.c) owns the HTTP server, the sessions and the client
 * registry; it hands this module what it needs through struct waf_link_env
 * and link.c registers its own handlers:
 *	GET  /link           form for a signed-in WAF account (IMPU field)
 *	POST /link           ask for a link (WAF session, or a WWSF over mTLS)
 *	GET  /link/confirm   form for the code
 *	POST /link/confirm   confirm with the code
 */
#ifndef WIMS_WAF_LINK_H
#define WIMS_WAF_LINK_H

#include <stddef.h>
struct evhttp;
struct evhttp_request;
struct event_base;

struct waf_link_env {
	const char *domain;       /* realm / home domain, for From and the IMPU checks */
	const char *hss_db;       /* path of the HSS store (store_open per worker) */
	const char *cscf_host;    /* where the SIP MESSAGE goes (TCP) */
	int cscf_port;
	const char *public_url;   /* the WAF's own https URL, for confirm_url */
	int code_lifetime_s;      /* [waf] link_code_lifetime */
	/* The WAF account signed in on req (its name into name), or WIMS_ENOTFOUND. */
	int (*session_user)(struct evhttp_request *req, char *name, size_t namesz, void *arg);
	/* The registered, unblocked client that authenticated req's connection with its
	 * certificate (client_id into id); WIMS_ENOTFOUND (no/unknown cert) or
	 * WIMS_EDENIED (blocked). */
	int (*mtls_client)(struct evhttp_request *req, char *id, size_t idsz, void *arg);
	/* Adds the security headers + CSP and sends an HTML page (the WAF's look); the link
	 * pages use it so that every WAF page looks and is protected the same. */
	void (*send_page)(struct evhttp_request *req, int code, const char *title,
			  const char *body_html, void *arg);
	void *arg;
};

struct waf_link;
/* One per WAF worker: registers POST /link, GET+POST /link/confirm on http, sends SIP on
 * base.  env must outlive it.  NULL with err on failure. */
struct waf_link *waf_link_attach(struct evhttp *http, struct event_base *base,
				 const struct waf_link_env *env, char *err, size_t errsz);
void waf_link_detach(struct waf_link *l);

#endif
