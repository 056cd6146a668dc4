/*
 * waf_int.h - what the files of the waf role share (waf.c, pages.c,
 * cli.c).
 */
#ifndef WIMS_WAF_WAF_INT_H
#define WIMS_WAF_WAF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct evhttp_request;
struct store;
struct waf_db;
struct web_accounts;

struct waf_conf {
	char listen[128];
	char issuer[256];
	char audience[256];
	char scope[128];
	char db[512];
	char keys_dir[512];
	char hss_db[512];
	int token_lifetime;
	int token_format; /* 0 jwt, 1 opaque */
	int code_lifetime;
	bool implicit_grant;
	int key_rotation_days;
	int key_publish_lead_s;
	int link_code_lifetime;
	char cscf_addr[128];
	bool demo_clients;
	int signin_failures_per_user;
	int signin_failures_per_ip;
	int signin_window_s;
	int session_lifetime;
};

extern struct waf_conf waf_conf;

/* The files: [waf] db / keys_dir / hss_db, else under data_dir (the HSS
 * as the cscf finds it).  0 or WIMS_ETOOBIG. */
int waf_paths(char *db, size_t dbsz, char *keys, size_t keyssz, char *hss, size_t hsssz);

/* mkdir -p of path's directory (new directories 0700). */
void waf_make_parent_dirs(const char *path);

/* SHA-256 of the (first) certificate in a PEM file.  0, WIMS_EIO,
 * WIMS_EPARSE. */
int waf_cert_file_sha256(const char *path, uint8_t out[32]);

/* Demo seed ([waf] demo_clients): the client certificates under data_dir,
 * the three clients with their fingerprints (a client's block flag is
 * kept), the accounts grace and bob, grace's confirmed link.  0 or WIMS_E*
 * with err. */
int waf_seed_demo(struct waf_db *db, struct web_accounts *a, struct store *hss, char *err,
		  size_t errsz);

/* pages.c: HTML.  Everything from outside goes through waf_html_escape. */
void waf_html_escape(struct evbuffer *out, const char *s);
/* The page frame around body_html (already safe HTML), with the security
 * headers and csp (NULL: WAF_PAGE_CSP). */
void waf_page_send(struct evhttp_request *req, int code, const char *title,
		   const char *body_html, const char *csp);
#define WAF_PAGE_CSP                                                                      \
	"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "      \
	"base-uri 'none'; frame-ancestors 'none'"
/* GET /style.css */
void waf_page_style(struct evhttp_request *req);

/* cli.c: `wims waf ARGS`. */
extern const char waf_cli_usage[];
int waf_cli(int argc, char **argv);

#endif
