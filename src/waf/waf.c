/*
 * waf.c - the WAF role: the operator's OAuth 2.0 authorization server
 * (TR 33.871 6.1.2, 6.1.3; tna.md 4).
 *
 *	GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
 *	GET  /jwks.json                                 published keys (keys.c)
 *	GET  /authorize, POST /authorize                code flow + PKCE: sign-in
 *	                                                and consent pages
 *	POST /token                                     code and client
 *	                                                credentials grants (W4)
 *	POST /introspect                                RFC 7662 (W5)
 *	GET  /, /signin; POST /signin                   a WAF account signs in
 *	                                                (to link an identity)
 *	/link, /link/confirm                            link.c (REQ 2.5)
 *
 * Every worker runs its own evhttp on the port (SO_REUSEPORT) with its own
 * handles on waf.db, the HSS store and the keys; the account store, the
 * sign-in limiters and the cookie key are shared.  TLS asks every client
 * for a certificate without requiring one: a WWSF or the pcscf
 * authenticates with the fingerprint of its (self-signed) certificate
 * (RFC 8705 2.2), looked up in the registry per request; a browser sends
 * none.
 *
 * Sessions and CSRF tokens are MACs under a key drawn at start-up, so they
 * need no table (a restart signs everyone out, which is fine for a sign-in
 * that only lasts for the consent).  Tokens, codes, secrets and passwords
 * are never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/jwt.h"
#include "auth/ratelimit.h"
#include "core/b64url.h"
#include "core/conf.h"
#include "core/global.h"
#include "core/hmac.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wims.h"
#include "role.h"
#include "store/store.h"
#include "store/webacct.h"
#include "waf/form.h"
#include "waf/grant.h"
#include "waf/keys.h"
#include "waf/pkce.h"
#include "waf/registry.h"
#include "waf/request.h"
#include "waf/waf_int.h"

#if __has_include("waf/link.c")
#define WAF_HAVE_LINK 1
#include "waf/link.h"
#else
#define WAF_HAVE_LINK 0
#endif

struct waf_conf waf_conf;

static const struct conf_key waf_keys[] = {
	CONF_KEY_ADDR(struct waf_conf, listen, "127.0.0.1:9443",
		      "HTTPS address of the authorization server (W4, W5, the browser)"),
	CONF_KEY_STR(struct waf_conf, issuer, "https://127.0.0.1:9443",
		     "issuer identifier (RFC 8414): the \"iss\" of every token and the base of "
		     "the endpoint URLs in the metadata"),
	CONF_KEY_STR(struct waf_conf, audience, "",
		     "\"aud\" of the access tokens (empty: sip:<domain>)"),
	CONF_KEY_STR(struct waf_conf, scope, "webrtc-ims-client-access-to-ims",
		     "the scope of the access tokens (TR 33.871 6.1.2.2)"),
	CONF_KEY_STR(struct waf_conf, db, "",
		     "clients, web accounts, codes, opaque tokens, key schedule (empty: "
		     "<data_dir>/waf.db)"),
	CONF_KEY_STR(struct waf_conf, keys_dir, "",
		     "directory of the ES256 signing keys, private JWKs mode 0600 (empty: "
		     "<data_dir>/waf-keys)"),
	CONF_KEY_STR(struct waf_conf, hss_db, "",
		     "HSS store with links, allowed WWSFs, pools and the block list; empty: "
		     "[hss] db or <data_dir>/hss.db"),
	CONF_KEY_INT(struct waf_conf, token_lifetime, "3600", 60, 86400,
		     "seconds an access token is valid"),
	CONF_KEY_ENUM(struct waf_conf, token_format, "jwt", "jwt|opaque",
		      "jwt: RFC 9068 ES256 JWTs the pcscf verifies itself; opaque: random "
		      "tokens it must introspect (RFC 7662)"),
	CONF_KEY_INT(struct waf_conf, code_lifetime, "60", 10, 600,
		     "seconds an authorization code is valid (single use)"),
	CONF_KEY_BOOL(struct waf_conf, implicit_grant, "no",
		      "allow response_type=token (TR 33.871 6.1.2.5; retired by RFC 9700)"),
	CONF_KEY_INT(struct waf_conf, key_rotation_days, "30", 0, 3650,
		     "make a new signing key every N days (0: only by `wims waf rotate-key`)"),
	CONF_KEY_INT(struct waf_conf, key_publish_lead_s, "60", 0, 86400,
		     "a new key is published this many seconds before it signs"),
	CONF_KEY_INT(struct waf_conf, link_code_lifetime, "600", 60, 3600,
		     "seconds an identity-link confirmation code is valid"),
	CONF_KEY_ADDR(struct waf_conf, cscf_addr, "127.0.0.1:5060",
		      "where link confirmation codes are sent by SIP MESSAGE (TCP)"),
	CONF_KEY_BOOL(struct waf_conf, demo_clients, "yes",
		      "register the demo clients (operator WWSF, webshop.example.net, the "
		      "pcscf) with certificates under data_dir, accounts grace/grace-web "
		      "(linked to sip:grace@<domain>) and bob/bob-web"),
	CONF_KEY_INT(struct waf_conf, signin_failures_per_user, "5", 1, 1000,
		     "failed sign-ins of one account before it is refused for signin_window_s"),
	CONF_KEY_INT(struct waf_conf, signin_failures_per_ip, "20", 1, 100000,
		     "failed sign-ins from one address before it is refused for "
		     "signin_window_s"),
	CONF_KEY_INT(struct waf_conf, signin_window_s, "300", 10, 86400,
		     "window of the sign-in failure limits"),
	CONF_KEY_INT(struct waf_conf, session_lifetime, "900", 60, 86400,
		     "seconds a sign-in to the WAF lasts"),
};

static const struct conf_section waf_section = {
	.name = "waf",
	.summary = "WAF: OAuth 2.0 authorization server (tokens for WWSFs, JWKS, introspection)",
	.keys = waf_keys,
	.nkeys = WIMS_ARRAY_LEN(waf_keys),
	.target = &waf_conf,
};

/* A web identity provider name for the WAF's own accounts in the links. */
#define WAF_IDP "waf"
#define COOKIE_PRE "waf_pre"
#define COOKIE_SESSION "waf_session"
#define MAC_LEN 16

struct waf_worker {
	struct evhttp *http;
	struct event_base *base;
	struct waf_db *db;
	struct store *hss;
	struct waf_keyring *keys;
#if WAF_HAVE_LINK
	struct waf_link *link;
	struct waf_link_env link_env;
#endif
};

static struct {
	struct wims_workers *workers;
	SSL_CTX *tls;
	struct waf_worker *w;
	int n;
	char host[128];
	int port;
	char db_path[1024], keys_dir[1024], hss_path[1024];
	char audience[256];
	char *metadata;
	uint8_t mac_key[32];
	struct web_accounts *accounts;
	struct ratelimit *user_limit, *ip_limit;
	char cscf_host[128];
	int cscf_port;
	int error;
	char errmsg[600];
} waf;

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* --- small helpers --- */

static void peer_ip(struct evhttp_request *req, char *out, size_t outsz)
{
	snprintf(out, outsz, "?");
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	if (conn) {
		const char *addr = NULL;
		uint16_t port = 0;
		evhttp_connection_get_peer(conn, (char **)&addr, &port);
		if (addr)
			snprintf(out, outsz, "%s", addr);
	}
}

static const char *in_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The body of a POST as a form; NULL (answered) when it is not one. */
static int read_form(struct evhttp_request *req, struct waf_form *f, const char **why)
{
	const char *ct = in_header(req, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		*why = "Content-Type must be application/x-www-form-urlencoded";
		return WIMS_EPARSE;
	}
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (len > WAF_FORM_MAX_LEN) {
		*why = "form too long";
		return WIMS_ETOOBIG;
	}
	const char *p = len ? (const char *)evbuffer_pullup(body, -1) : "";
	return waf_form_parse((struct slice){p, len}, f, why);
}

/* Wipe a request body that held a password or secret. */
static void wipe_body(struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (len)
		OPENSSL_cleanse(evbuffer_pullup(body, -1), len);
}

static void random_b64url(size_t nbytes, char *out)
{
	uint8_t raw[32];
	RAND_bytes(raw, (int)nbytes);
	size_t l = b64url_encode(raw, nbytes, out);
	out[l] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
}

static void sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	EVP_Digest(p, len, out, &n, EVP_sha256(), NULL);
}

/* b64url(HMAC(mac_key, label || parts...)[0..16]) into out (23 bytes). */
static void mac_b64(const char *label, const char *a, const char *b, char out[24])
{
	struct slice parts[] = {slice_from_cstr(label), slice_from_cstr("\n"),
				slice_from_cstr(a), slice_from_cstr("\n"), slice_from_cstr(b)};
	uint8_t m[MAC_LEN];
	if (hmac_sha256(waf.mac_key, sizeof(waf.mac_key), parts, WIMS_ARRAY_LEN(parts), m,
			sizeof(m)))
		memset(m, 0, sizeof(m));
	size_t l = b64url_encode(m, sizeof(m), out);
	out[l] = '\0';
}

/* RFC 6749 5.2 error answer. */
static void oauth_error(struct evhttp_request *req, int code, const char *error,
			const char *description)
{
	json_t *o = json_pack("{s:s, s:s}", "error", error, "error_description", description);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (code == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  "Basic realm=\"waf\"");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Pragma", "no-cache");
	if (text)
		http_reply_json(req, code, text, strlen(text));
	else
		http_reply_error(req, 500, "Internal Server Error");
	free(text);
}

static void reply_json_obj(struct evhttp_request *req, int code, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Pragma", "no-cache");
	http_reply_json(req, code, text, strlen(text));
	OPENSSL_cleanse(text, strlen(text));
	free(text);
}

/* --- the keys --- */

static const struct waf_keyring *keys_now(struct waf_worker *w, int64_t now)
{
	char err[300];
	int rc = waf_keyring_refresh(w->keys, w->db, now, (int64_t)waf_conf.key_rotation_days * 86400,
				     waf_conf.key_publish_lead_s, waf_conf.token_lifetime, err,
				     sizeof(err));
	if (rc)
		WIMS_ERROR("waf", "keys: %s", err);
	return w->keys;
}

static void serve_jwks(struct waf_worker *w, struct evhttp_request *req)
{
	int64_t now = now_s();
	char *jwks = waf_keyring_jwks(keys_now(w, now), now);
	if (!jwks) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, jwks, strlen(jwks));
	free(jwks);
	/* Verifiers refetch on an unknown kid; a short cache lifetime keeps
	 * a rotation visible within the publish lead. */
	http_add_security_headers(req, "default-src 'none'", true);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "application/jwk-set+json");
	evhttp_add_header(out, "Cache-Control", "max-age=30");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void serve_metadata(struct evhttp_request *req)
{
	http_reply_json(req, 200, waf.metadata, strlen(waf.metadata));
}

static int build_metadata(void)
{
	char url[5][320];
	static const char *const paths[] = {"/authorize", "/token", "/jwks.json", "/introspect",
					    ""};
	for (size_t i = 0; i < 4; i++)
		snprintf(url[i], sizeof(url[i]), "%s%s", waf_conf.issuer, paths[i]);
	json_t *rt = json_pack("[s]", "code");
	if (waf_conf.implicit_grant)
		json_array_append_new(rt, json_string("token"));
	json_t *gt = json_pack("[s, s]", "authorization_code", "client_credentials");
	if (waf_conf.implicit_grant)
		json_array_append_new(gt, json_string("implicit"));
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:[s], s:[s, s], s:[s, s], s:[s]}",
		"issuer", waf_conf.issuer, "authorization_endpoint", url[0], "token_endpoint",
		url[1], "jwks_uri", url[2], "introspection_endpoint", url[3],
		"response_types_supported", rt, "grant_types_supported", gt,
		"code_challenge_methods_supported", "S256",
		"token_endpoint_auth_methods_supported", "self_signed_tls_client_auth",
		"client_secret_basic", "introspection_endpoint_auth_methods_supported",
		"self_signed_tls_client_auth", "client_secret_basic", "scopes_supported",
		waf_conf.scope);
	if (!o)
		return WIMS_ENOMEM;
	waf.metadata = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return waf.metadata ? 0 : WIMS_ENOMEM;
}

/* --- client authentication (RFC 6749 2.3, RFC 8705 2.2) --- */

/* The client on req: Basic (unless mtls_only) or the fingerprint of the
 * certificate the connection presented.  0, or WIMS_EAUTH with *why. */
static int authenticate_client(struct waf_worker *w, struct evhttp_request *req,
			       const struct waf_form *f, bool mtls_only, struct waf_client *c,
			       bool *by_cert, const char **why)
{
	char id[WIMS_WWSF_ID_MAX];
	*by_cert = false;
	if (waf_form_has(f, "client_secret")) {
		*why = "client_secret_post is not supported: use mutual TLS or Basic";
		return WIMS_EAUTH;
	}
	const char *authz = in_header(req, "Authorization");
	if (authz) {
		if (mtls_only) {
			*why = "this grant requires mutual TLS client authentication";
			return WIMS_EAUTH;
		}
		char secret[256];
		int rc = waf_basic_parse(slice_from_cstr(authz), id, sizeof(id), secret,
					 sizeof(secret), why);
		if (rc) {
			if (rc == WIMS_ENOTFOUND)
				*why = "unsupported Authorization scheme";
			return WIMS_EAUTH;
		}
		rc = waf_client_get(w->db, id, c);
		if (rc == 0)
			rc = waf_client_secret_check(c, secret, strlen(secret));
		else
			/* the same work for an unknown client */
			waf_client_secret_check(&(struct waf_client){.has_secret = true}, secret,
						strlen(secret));
		OPENSSL_cleanse(secret, sizeof(secret));
		if (rc) {
			*why = "client authentication failed";
			return WIMS_EAUTH;
		}
		return 0;
	}
	uint8_t fp[32];
	if (tls_peer_cert_sha256(http_request_bufferevent(req), fp) != 0) {
		*why = "client authentication required: a client certificate (mutual TLS) or Basic";
		return WIMS_EAUTH;
	}
	int rc = waf_form_get(f, "client_id", id, sizeof(id));
	if (rc > 0) {
		if (waf_client_get(w->db, id, c) != 0 || !c->has_cert ||
		    CRYPTO_memcmp(fp, c->cert_sha256, 32) != 0) {
			*why = "the client certificate is not the one registered for client_id";
			return WIMS_EAUTH;
		}
	} else if (rc == WIMS_ENOTFOUND || rc == 0) {
		if (waf_client_by_cert(w->db, fp, c) != 0) {
			*why = "unknown client certificate";
			return WIMS_EAUTH;
		}
	} else {
		*why = "malformed client_id";
		return WIMS_EAUTH;
	}
	*by_cert = true;
	return 0;
}

/* --- issuing --- */

/* The token response (RFC 6749 5.1) for identity id, issued to c. */
static void issue_token(struct waf_worker *w, struct evhttp_request *req,
			const struct waf_client *c, const char *sub, const struct waf_identity *id,
			bool redirect_fragment, const char *redirect_uri, const char *state);

static int make_claims(const struct waf_client *c, const char *sub,
		       const struct waf_identity *id, int64_t now, struct jwt_claims *cl)
{
	memset(cl, 0, sizeof(*cl));
	snprintf(cl->iss, sizeof(cl->iss), "%s", waf_conf.issuer);
	snprintf(cl->sub, sizeof(cl->sub), "%s", sub);
	snprintf(cl->aud, sizeof(cl->aud), "%s", waf.audience);
	snprintf(cl->client_id, sizeof(cl->client_id), "%s", c->client_id);
	snprintf(cl->wwsf, sizeof(cl->wwsf), "%s", c->client_id);
	snprintf(cl->scope, sizeof(cl->scope), "%s", waf_conf.scope);
	snprintf(cl->impi, sizeof(cl->impi), "%s", id->impi);
	for (size_t i = 0; i < id->n_impus; i++)
		snprintf(cl->impus[i], WIMS_IMPU_MAX, "%s", id->impus[i]);
	cl->n_impus = id->n_impus;
	cl->iat = now;
	cl->exp = now + waf_conf.token_lifetime;
	return 0;
}

/* The access token text for cl (free() it), or NULL. */
static char *mint(struct waf_worker *w, struct jwt_claims *cl, int64_t now)
{
	if (waf_conf.token_format == 1) {
		char *tok = malloc(48);
		if (!tok)
			return NULL;
		random_b64url(32, tok);
		random_b64url(16, cl->jti);
		uint8_t h[32];
		sha256(tok, strlen(tok), h);
		if (waf_token_put(w->db, h, cl)) {
			free(tok);
			return NULL;
		}
		return tok;
	}
	const struct jwt_key *key = waf_keyring_signer(keys_now(w, now), now);
	char *tok = NULL;
	if (!key || jwt_sign_access_token(key, cl, &tok)) {
		WIMS_ERROR("waf", "cannot sign a token for %s", cl->client_id);
		return NULL;
	}
	return tok;
}

/* Appends name=urlencode(value) to b with sep before it. */
static void add_param(struct evbuffer *b, char *sep, const char *name, const char *value)
{
	char *enc = evhttp_encode_uri(value);
	evbuffer_add_printf(b, "%c%s=%s", *sep, name, enc ? enc : "");
	free(enc);
	*sep = '&';
}

static void send_redirect(struct evhttp_request *req, struct evbuffer *loc)
{
	evbuffer_add(loc, "", 1);
	const char *url = (const char *)evbuffer_pullup(loc, -1);
	http_add_security_headers(req, "default-src 'none'", false);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", url);
	evhttp_send_reply(req, 302, "Found", NULL);
}

static void issue_token(struct waf_worker *w, struct evhttp_request *req,
			const struct waf_client *c, const char *sub, const struct waf_identity *id,
			bool redirect_fragment, const char *redirect_uri, const char *state)
{
	int64_t now = now_s();
	struct jwt_claims cl;
	make_claims(c, sub, id, now, &cl);
	char *tok = mint(w, &cl, now);
	if (!tok) {
		if (redirect_fragment)
			waf_page_send(req, 500, "Error", "<p>The token could not be issued.</p>", NULL);
		else
			oauth_error(req, 500, "server_error", "the token could not be issued");
		return;
	}
	WIMS_INFO("waf", "token for %s (%s, %zu IMPUs) issued to %s, %s", cl.impi, sub,
		  cl.n_impus, c->client_id, redirect_fragment ? "implicit" : "token endpoint");
	if (redirect_fragment) {
		/* RFC 6749 4.2.2: the token in the fragment */
		struct evbuffer *loc = evbuffer_new();
		evbuffer_add_printf(loc, "%s", redirect_uri);
		char sep = '#';
		char num[32];
		add_param(loc, &sep, "access_token", tok);
		add_param(loc, &sep, "token_type", "Bearer");
		snprintf(num, sizeof(num), "%d", waf_conf.token_lifetime);
		add_param(loc, &sep, "expires_in", num);
		add_param(loc, &sep, "scope", cl.scope);
		if (state && *state)
			add_param(loc, &sep, "state", state);
		send_redirect(req, loc);
		evbuffer_free(loc);
	} else {
		json_t *impus = json_array();
		for (size_t i = 0; i < cl.n_impus; i++)
			json_array_append_new(impus, json_string(cl.impus[i]));
		json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o, s:s}", "access_token", tok,
				      "token_type", "Bearer", "expires_in", waf_conf.token_lifetime,
				      "scope", cl.scope, "impu", cl.impus[0], "impus", impus,
				      "impi", cl.impi);
		reply_json_obj(req, 200, o);
	}
	OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
}

/* --- POST /token --- */

static void token_endpoint(struct waf_worker *w, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		oauth_error(req, 405, "invalid_request", "use POST");
		return;
	}
	struct waf_form f;
	struct waf_token_req tr;
	const char *why = NULL, *error = NULL;
	const char *ct = in_header(req, "Content-Type");
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		oauth_error(req, 400, "invalid_request",
			    "Content-Type must be application/x-www-form-urlencoded");
		return;
	}
	if (len > WAF_FORM_MAX_LEN) {
		oauth_error(req, 400, "invalid_request", "form too long");
		return;
	}
	struct slice in = {len ? (const char *)evbuffer_pullup(body, -1) : "", len};
	if (waf_token_req_parse(in, &f, &tr, &error, &why)) {
		oauth_error(req, 400, error, why);
		return;
	}
	bool cc_grant = tr.grant == WAF_GT_CLIENT_CREDENTIALS;
	struct waf_client c;
	bool by_cert = false;
	int rc;
	if (authenticate_client(w, req, &f, cc_grant, &c, &by_cert, &why)) {
		wipe_body(req);
		oauth_error(req, 401, "invalid_client", why);
		goto out;
	}
	if (tr.scope[0] && strcmp(tr.scope, waf_conf.scope) != 0) {
		oauth_error(req, 400, "invalid_scope", "the only scope is the configured one");
		goto out;
	}
	struct waf_identity id;
	char sub[WIMS_IMPI_MAX] = "";

	if (!cc_grant) {
		if (!(c.grants & WAF_GRANT_CODE)) {
			oauth_error(req, 400, "unauthorized_client",
				    "client may not use the authorization code grant");
			goto out;
		}
		uint8_t h[32];
		sha256(tr.code, strlen(tr.code), h);
		struct waf_code wc;
		/* the code is spent whatever follows (RFC 6749 4.1.2) */
		rc = waf_code_take(w->db, h, now_s(), &wc);
		if (rc == WIMS_ESTORE) {
			oauth_error(req, 500, "server_error", "store error");
			goto out;
		}
		if (rc) {
			oauth_error(req, 400, "invalid_grant", "code unknown, used or expired");
			goto out;
		}
		if (strcmp(wc.client_id, c.client_id) != 0) {
			WIMS_WARN("waf", "%s presented a code issued to %s", c.client_id,
				  wc.client_id);
			oauth_error(req, 400, "invalid_grant", "code was issued to another client");
			goto out;
		}
		/* RFC 6749 4.1.3: the same redirect_uri as in the request */
		if (strcmp(tr.redirect_uri, wc.redirect_uri) != 0) {
			oauth_error(req, 400, "invalid_grant", "redirect_uri does not match");
			goto out;
		}
		/* RFC 7636 4.6 */
		if (!tr.code_verifier[0]) {
			oauth_error(req, 400, "invalid_grant", "code_verifier missing");
			goto out;
		}
		if (waf_pkce_check(slice_from_cstr(tr.code_verifier),
				   slice_from_cstr(wc.challenge))) {
			oauth_error(req, 400, "invalid_grant", "code_verifier does not match");
			goto out;
		}
		memset(&id, 0, sizeof(id));
		snprintf(id.impi, sizeof(id.impi), "%s", wc.impi);
		for (size_t i = 0; i < wc.n_impus; i++)
			snprintf(id.impus[i], WIMS_IMPU_MAX, "%s", wc.impus[i]);
		id.n_impus = wc.n_impus;
		snprintf(sub, sizeof(sub), "%s", wc.web_id);
	} else {
		if (!(c.grants & WAF_GRANT_CLIENT_CREDENTIALS)) {
			oauth_error(req, 400, "unauthorized_client",
				    "client may not use the client credentials grant");
			goto out;
		}
		if (tr.subject[0]) {
			/* a user the WWSF signed in itself: its links with idp =
			 * this WWSF (REQ 2.5) */
			rc = waf_grant_linked(w->hss, tr.subject, c.client_id, &id, &why);
			snprintf(sub, sizeof(sub), "%s", tr.subject);
		} else {
			rc = waf_grant_pool(w->hss, c.client_id, tr.impi, &id, &why);
			snprintf(sub, sizeof(sub), "%s", tr.impi);
		}
		if (rc == WIMS_ESTORE) {
			oauth_error(req, 500, "server_error", "store error");
			goto out;
		}
		if (rc) {
			oauth_error(req, 400, "invalid_grant", why);
			goto out;
		}
	}
	rc = waf_grant_check(w->hss, &c, id.impi, &why);
	if (rc) {
		WIMS_WARN("waf", "no token for %s to %s: %s", id.impi, c.client_id, why);
		oauth_error(req, 400, strstr(why, "block") ? "unauthorized_client" : "invalid_grant",
			    why);
		goto out;
	}
	issue_token(w, req, &c, sub, &id, false, NULL, NULL);
out:
	OPENSSL_cleanse(tr.code, sizeof(tr.code));
}

/* --- POST /introspect (RFC 7662) --- */

static void introspect_endpoint(struct waf_worker *w, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		oauth_error(req, 405, "invalid_request", "use POST");
		return;
	}
	struct waf_form f;
	const char *why = NULL;
	if (read_form(req, &f, &why)) {
		oauth_error(req, 400, "invalid_request", why);
		return;
	}
	struct waf_client rs;
	bool by_cert;
	if (authenticate_client(w, req, &f, false, &rs, &by_cert, &why)) {
		oauth_error(req, 401, "invalid_client", why);
		return;
	}
	/* RFC 7662 2.1: only protected resources may ask */
	if (rs.kind != WAF_KIND_RESOURCE_SERVER || rs.blocked) {
		oauth_error(req, 401, "invalid_client",
			    "introspection is for registered resource servers");
		return;
	}
	char tok[JWT_TOKEN_MAX + 1];
	int len = waf_form_get(&f, "token", tok, sizeof(tok));
	if (len <= 0) {
		oauth_error(req, 400, "invalid_request", "token missing");
		return;
	}
	int64_t now = now_s();
	struct jwt_claims cl;
	int rc;
	if (memchr(tok, '.', (size_t)len)) {
		struct jwt_expect want = {.iss = waf_conf.issuer, .aud = waf.audience,
					  .skew_s = 0};
		rc = jwt_verify_access_token(waf_keyring_keyset(keys_now(w, now)), tok,
					     (size_t)len, &want, now, &cl, &why);
	} else {
		uint8_t h[32];
		sha256(tok, (size_t)len, h);
		rc = waf_token_get(w->db, h, &cl);
		if (!rc && cl.exp <= now)
			rc = WIMS_EAUTH;
	}
	OPENSSL_cleanse(tok, sizeof(tok));
	struct waf_client c;
	/* REQ 2.2: a token of a client blocked since it was issued is dead */
	if (!rc && (waf_client_get(w->db, cl.client_id, &c) ||
		    waf_grant_client_usable(w->hss, &c, &why)))
		rc = WIMS_EDENIED;
	if (rc) {
		reply_json_obj(req, 200, json_pack("{s:b}", "active", 0));
		return;
	}
	json_t *impus = json_array();
	for (size_t i = 0; i < cl.n_impus; i++)
		json_array_append_new(impus, json_string(cl.impus[i]));
	reply_json_obj(req, 200,
		       json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:o, s:s}",
				 "active", 1, "iss", cl.iss, "sub", cl.sub, "aud", cl.aud, "exp",
				 (json_int_t)cl.exp, "iat", (json_int_t)cl.iat, "scope", cl.scope,
				 "client_id", cl.client_id, "wwsf", cl.wwsf, "impi", cl.impi,
				 "impus", impus, "token_type", "Bearer"));
}

/* --- sessions and CSRF --- */

/* The signed-in account of req's session cookie into name. */
static int session_user(struct evhttp_request *req, char *name, size_t namesz)
{
	const char *cookie = in_header(req, "Cookie");
	char v[WEB_USER_MAX + 64];
	if (!cookie || waf_cookie_get(slice_from_cstr(cookie), COOKIE_SESSION, v, sizeof(v)) <= 0)
		return WIMS_ENOTFOUND;
	/* NAME.EXP.MAC: NAME may hold dots, so split from the right */
	char *mac = strrchr(v, '.');
	if (!mac)
		return WIMS_ENOTFOUND;
	*mac++ = '\0';
	char *exp = strrchr(v, '.');
	if (!exp)
		return WIMS_ENOTFOUND;
	*exp++ = '\0';
	char want[24];
	mac_b64("session", v, exp, want);
	if (strlen(mac) != strlen(want) || CRYPTO_memcmp(mac, want, strlen(want)) != 0)
		return WIMS_ENOTFOUND;
	char *end = NULL;
	long long e = strtoll(exp, &end, 10);
	if (!end || *end || e <= now_s() || !web_user_name_ok(slice_from_cstr(v)))
		return WIMS_ENOTFOUND;
	if (strlen(v) >= namesz)
		return WIMS_ETOOBIG;
	snprintf(name, namesz, "%s", v);
	return 0;
}

static void set_session(struct evhttp_request *req, const char *name)
{
	char exp[24], mac[24], cookie[WEB_USER_MAX + 160];
	snprintf(exp, sizeof(exp), "%lld", (long long)(now_s() + waf_conf.session_lifetime));
	mac_b64("session", name, exp, mac);
	snprintf(cookie, sizeof(cookie),
		 COOKIE_SESSION "=%s.%s.%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Strict",
		 name, exp, mac, waf_conf.session_lifetime);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
}

/* The pre-session cookie (made if absent) and the CSRF token bound to it:
 * a form must send back the token of the cookie its browser holds, which
 * a page of another site can neither read nor set. */
static void csrf_token(struct evhttp_request *req, char csrf[24])
{
	const char *cookie = in_header(req, "Cookie");
	char pre[64];
	if (!cookie || waf_cookie_get(slice_from_cstr(cookie), COOKIE_PRE, pre, sizeof(pre)) != 22) {
		random_b64url(16, pre);
		char set[160];
		snprintf(set, sizeof(set),
			 COOKIE_PRE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", pre);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", set);
	}
	mac_b64("csrf", pre, "", csrf);
}

static bool csrf_ok(struct evhttp_request *req, const struct waf_form *f)
{
	const char *cookie = in_header(req, "Cookie");
	char pre[64], got[64], want[24];
	if (!cookie || waf_cookie_get(slice_from_cstr(cookie), COOKIE_PRE, pre, sizeof(pre)) != 22 ||
	    waf_form_get(f, "csrf", got, sizeof(got)) != 22)
		return false;
	mac_b64("csrf", pre, "", want);
	return CRYPTO_memcmp(got, want, 22) == 0;
}

/* --- the authorization request (RFC 6749 4.1.1, RFC 7636 4.3) --- */

struct authz {
	struct waf_client client;
	char response_type[16];
	char redirect_uri[WAF_URI_MAX];
	char state[512];
	char challenge[WAF_PKCE_CHALLENGE_LEN + 2];
	char method[16];
	bool implicit;
	char csp[1024];
};

/* Fields of the authorization request the forms carry along. */
static const char *const authz_fields[] = {"response_type", "client_id", "redirect_uri", "scope",
					   "state", "code_challenge", "code_challenge_method"};

static void authz_hidden(struct evbuffer *b, const struct waf_form *f, const char *csrf)
{
	for (size_t i = 0; i < WIMS_ARRAY_LEN(authz_fields); i++) {
		char v[WAF_URI_MAX];
		if (waf_form_get(f, authz_fields[i], v, sizeof(v)) < 0)
			continue;
		evbuffer_add_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"",
				    authz_fields[i]);
		waf_html_escape(b, v);
		evbuffer_add_printf(b, "\">");
	}
	evbuffer_add_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
}

/* An error before the redirect_uri is trusted: a page, never a redirect
 * (RFC 6749 4.1.2.1). */
static void authz_error_page(struct evhttp_request *req, int code, const char *what)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<p class=\"error\">");
	waf_html_escape(b, what);
	evbuffer_add_printf(b, "</p>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, code, "Authorization refused", (const char *)evbuffer_pullup(b, -1),
		      NULL);
	evbuffer_free(b);
}

/* An error after it is: back to the client (RFC 6749 4.1.2.1). */
static void authz_error_redirect(struct evhttp_request *req, const struct authz *a,
				 const char *error, const char *description)
{
	struct evbuffer *loc = evbuffer_new();
	evbuffer_add_printf(loc, "%s", a->redirect_uri);
	char sep = strchr(a->redirect_uri, '?') ? '&' : '?';
	add_param(loc, &sep, "error", error);
	add_param(loc, &sep, "error_description", description);
	if (a->state[0])
		add_param(loc, &sep, "state", a->state);
	send_redirect(req, loc);
	evbuffer_free(loc);
}

/* The origin of an https URL made of harmless characters (for the CSP),
 * else "". */
static void url_origin(const char *u, char *out, size_t outsz)
{
	out[0] = '\0';
	if (strncmp(u, "https://", 8) != 0)
		return;
	size_t hostlen = strcspn(u + 8, "/?#");
	if (hostlen > 0 && hostlen < 200 &&
	    strspn(u + 8, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") >=
		    hostlen)
		snprintf(out, outsz, "%.*s", (int)(8 + hostlen), u);
}

/* Validate the request in f.  0 with *a; otherwise answered. */
static int authz_validate(struct waf_worker *w, struct evhttp_request *req,
			  const struct waf_form *f, struct authz *a)
{
	memset(a, 0, sizeof(*a));
	char client_id[WIMS_WWSF_ID_MAX];
	const char *why = NULL;
	if (waf_form_get(f, "client_id", client_id, sizeof(client_id)) <= 0 ||
	    waf_client_get(w->db, client_id, &a->client) != 0) {
		authz_error_page(req, 400, "Unknown client.");
		return WIMS_EINVAL;
	}
	if (waf_grant_client_usable(w->hss, &a->client, &why)) {
		WIMS_WARN("waf", "authorization request of %s refused: %s", client_id, why);
		authz_error_page(req, 403, why);
		return WIMS_EDENIED;
	}
	/* RFC 6749 3.1.2.3: exact match with a registered URI */
	if (waf_form_get(f, "redirect_uri", a->redirect_uri, sizeof(a->redirect_uri)) <= 0 ||
	    !waf_client_redirect_ok(&a->client, a->redirect_uri)) {
		authz_error_page(req, 400, "redirect_uri is missing or not registered for this client.");
		return WIMS_EINVAL;
	}
	char origin[256];
	url_origin(a->redirect_uri, origin, sizeof(origin));
	/* form-action also governs the redirect that follows the POST */
	snprintf(a->csp, sizeof(a->csp),
		 "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' %s; "
		 "base-uri 'none'; frame-ancestors 'none'",
		 origin);
	if (waf_form_get(f, "state", a->state, sizeof(a->state)) == WIMS_ETOOBIG ||
	    waf_form_get(f, "response_type", a->response_type, sizeof(a->response_type)) <= 0) {
		authz_error_redirect(req, a, "invalid_request",
				     "response_type missing or state too long");
		return WIMS_EINVAL;
	}
	if (strcmp(a->response_type, "token") == 0 && waf_conf.implicit_grant &&
	    (a->client.grants & WAF_GRANT_IMPLICIT)) {
		a->implicit = true;
	} else if (strcmp(a->response_type, "code") != 0) {
		authz_error_redirect(req, a, "unsupported_response_type",
				     "only response_type=code is supported");
		return WIMS_EINVAL;
	} else if (!(a->client.grants & WAF_GRANT_CODE)) {
		authz_error_redirect(req, a, "unauthorized_client",
				     "client may not use the authorization code grant");
		return WIMS_EINVAL;
	}
	char scope[JWT_SCOPE_MAX];
	int rc = waf_form_get(f, "scope", scope, sizeof(scope));
	if (rc == WIMS_ETOOBIG || rc == WIMS_EPARSE ||
	    (rc > 0 && strcmp(scope, waf_conf.scope) != 0)) {
		authz_error_redirect(req, a, "invalid_scope", "the only scope is the configured one");
		return WIMS_EINVAL;
	}
	if (!a->implicit) {
		/* RFC 7636 4.4.1; S256 only */
		if (waf_form_get(f, "code_challenge", a->challenge, sizeof(a->challenge)) <= 0 ||
		    !waf_pkce_challenge_ok(slice_from_cstr(a->challenge))) {
			authz_error_redirect(req, a, "invalid_request",
					     "code_challenge (PKCE, S256) required");
			return WIMS_EINVAL;
		}
		if (waf_form_get(f, "code_challenge_method", a->method, sizeof(a->method)) <= 0 ||
		    strcmp(a->method, "S256") != 0) {
			authz_error_redirect(req, a, "invalid_request",
					     "code_challenge_method must be S256");
			return WIMS_EINVAL;
		}
	}
	return 0;
}

static void signin_page(struct evhttp_request *req, const struct authz *a,
			const struct waf_form *f, int code, const char *error)
{
	char csrf[24];
	csrf_token(req, csrf);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<p><span class=\"who\">");
	waf_html_escape(b, a->client.client_id);
	evbuffer_add_printf(b, "</span> (%s) asks to register you with IMS. Sign in with your "
			       "operator account to continue.</p>",
			    strcmp(a->client.domain, "operator") == 0 ? "the operator's site"
								      : "a third-party site");
	if (error) {
		evbuffer_add_printf(b, "<p class=\"error\">");
		waf_html_escape(b, error);
		evbuffer_add_printf(b, "</p>");
	}
	evbuffer_add_printf(b, "<form method=\"post\" action=\"/authorize\">");
	authz_hidden(b, f, csrf);
	evbuffer_add_printf(b, "<label for=\"username\">User name</label>"
			       "<input type=\"text\" id=\"username\" name=\"username\" "
			       "autocomplete=\"username\" required>"
			       "<label for=\"password\">Password</label>"
			       "<input type=\"password\" id=\"password\" name=\"password\" "
			       "autocomplete=\"current-password\" required>"
			       "<button type=\"submit\">Sign in</button></form>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, code, "Sign in to your operator account",
		      (const char *)evbuffer_pullup(b, -1), a->csp);
	evbuffer_free(b);
}

static void no_link_page(struct evhttp_request *req, const char *user)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<p>You are signed in as <span class=\"who\">");
	waf_html_escape(b, user);
	evbuffer_add_printf(b, "</span>, but no IMS identity is linked to your account yet, so "
			       "no site can register you with IMS.</p>"
			       "<p><a href=\"/link\">Link an IMS identity</a> (you confirm it with "
			       "a code sent to that identity), then sign in again from the "
			       "site.</p>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, 403, "No linked IMS identity", (const char *)evbuffer_pullup(b, -1),
		      NULL);
	evbuffer_free(b);
}

static void consent_page(struct evhttp_request *req, const struct authz *a,
			 const struct waf_form *f, const char *user, const struct waf_identity *id)
{
	char csrf[24];
	csrf_token(req, csrf);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<p>Signed in as <span class=\"who\">");
	waf_html_escape(b, user);
	evbuffer_add_printf(b, "</span>.</p><p><span class=\"who\">");
	waf_html_escape(b, a->client.client_id);
	evbuffer_add_printf(b, "</span> wants to register you with IMS as <span class=\"who\">");
	for (size_t i = 0; i < id->n_impus; i++) {
		if (i)
			evbuffer_add_printf(b, ", ");
		waf_html_escape(b, id->impus[i]);
	}
	evbuffer_add_printf(b, "</span>.</p><p>If you allow it, this site may register you "
			       "until you ask the operator to withdraw it.</p>"
			       "<form method=\"post\" action=\"/authorize\">");
	authz_hidden(b, f, csrf);
	evbuffer_add_printf(b, "<button type=\"submit\" name=\"consent\" value=\"allow\">Allow"
			       "</button><button type=\"submit\" name=\"consent\" value=\"deny\">"
			       "Deny</button></form>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, 200, "Allow this site?", (const char *)evbuffer_pullup(b, -1), a->csp);
	evbuffer_free(b);
}

/* Sign-in with the per-user and per-IP failure limits.  0 or answered. */
static int signin_check(struct evhttp_request *req, const struct waf_form *f, char *user,
			size_t usersz, const char **error, int *code)
{
	char pw[WEB_PASSWORD_MAX + 2], ip[64];
	peer_ip(req, ip, sizeof(ip));
	int ul = waf_form_get(f, "username", user, usersz);
	int pl = waf_form_get(f, "password", pw, sizeof(pw));
	uint64_t now = (uint64_t)now_s();
	int rc;
	if (ul <= 0 || pl <= 0) {
		*error = "Enter your user name and password.";
		*code = 400;
		rc = WIMS_EAUTH;
	} else if (ratelimit_check(waf.ip_limit, slice_from_cstr(ip), now) ||
		   ratelimit_check(waf.user_limit, slice_from_cstr(user), now)) {
		WIMS_WARN("waf", "sign-in refused from %s: too many failures", ip);
		*error = "Too many failed sign-ins: try again later.";
		*code = 429;
		rc = WIMS_EDENIED;
	} else if (web_account_verify(waf.accounts, slice_from_cstr(user),
				      (struct slice){pw, (size_t)pl}) != 0) {
		ratelimit_fail(waf.ip_limit, slice_from_cstr(ip), now);
		ratelimit_fail(waf.user_limit, slice_from_cstr(user), now);
		WIMS_INFO("waf", "failed sign-in from %s", ip);
		*error = "Wrong user name or password.";
		*code = 401;
		rc = WIMS_EAUTH;
	} else {
		ratelimit_reset(waf.user_limit, slice_from_cstr(user));
		rc = 0;
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	/* the password stays in evhttp's buffer otherwise; the other
	 * fields, which the next page carries along, are kept */
	for (size_t k = 0; k < f->n; k++) {
		char name[16];
		if (waf_form_decode(f->f[k].name, name, sizeof(name)) == 8 &&
		    strcmp(name, "password") == 0 && f->f[k].value.len)
			OPENSSL_cleanse((void *)f->f[k].value.p, f->f[k].value.len);
	}
	return rc;
}

static void authorize_endpoint(struct waf_worker *w, struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct waf_form f;
	const char *why = NULL;
	struct authz a;
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
		const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
		const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
		if (waf_form_parse(slice_from_cstr(q ? q : ""), &f, &why)) {
			authz_error_page(req, 400, why);
			return;
		}
		if (authz_validate(w, req, &f, &a))
			return;
		signin_page(req, &a, &f, 200, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, POST");
		http_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (read_form(req, &f, &why)) {
		wipe_body(req);
		authz_error_page(req, 400, why);
		return;
	}
	if (!csrf_ok(req, &f)) {
		wipe_body(req);
		WIMS_WARN("waf", "POST /authorize without a valid CSRF token refused");
		authz_error_page(req, 403, "The form expired or did not come from this site "
					   "(CSRF token missing or wrong). Start again from the site.");
		return;
	}
	if (authz_validate(w, req, &f, &a)) {
		wipe_body(req);
		return;
	}
	char user[WEB_USER_MAX];
	char consent[16];
	if (waf_form_get(&f, "consent", consent, sizeof(consent)) > 0) {
		if (session_user(req, user, sizeof(user)) != 0) {
			signin_page(req, &a, &f, 401, "Your sign-in expired: sign in again.");
			return;
		}
		if (strcmp(consent, "allow") != 0) {
			authz_error_redirect(req, &a, "access_denied", "the user denied the request");
			return;
		}
	} else {
		const char *error = NULL;
		int code = 0;
		if (signin_check(req, &f, user, sizeof(user), &error, &code)) {
			signin_page(req, &a, &f, code, error);
			return;
		}
		set_session(req, user);
	}
	struct waf_identity id;
	int rc = waf_grant_linked(w->hss, user, WAF_IDP, &id, &why);
	if (rc == WIMS_ENOTFOUND) {
		no_link_page(req, user);
		return;
	}
	if (rc) {
		authz_error_page(req, 500, "The operator's store failed; try again later.");
		return;
	}
	if (!waf_form_has(&f, "consent")) {
		consent_page(req, &a, &f, user, &id);
		return;
	}
	/* TR 33.871 REQ 2.1: the subscriber grants this WWSF */
	rc = store_wwsf_allow(w->hss, id.impi, a.client.client_id);
	if (rc) {
		authz_error_page(req, 500, "The operator's store failed; try again later.");
		return;
	}
	WIMS_INFO("waf", "%s allowed %s for %s", user, a.client.client_id, id.impi);
	if (waf_grant_check(w->hss, &a.client, id.impi, &why)) {
		authz_error_redirect(req, &a, "access_denied", why);
		return;
	}
	if (a.implicit) {
		issue_token(w, req, &a.client, user, &id, true, a.redirect_uri, a.state);
		return;
	}
	struct waf_code wc;
	memset(&wc, 0, sizeof(wc));
	snprintf(wc.client_id, sizeof(wc.client_id), "%s", a.client.client_id);
	snprintf(wc.redirect_uri, sizeof(wc.redirect_uri), "%s", a.redirect_uri);
	snprintf(wc.challenge, sizeof(wc.challenge), "%s", a.challenge);
	snprintf(wc.web_id, sizeof(wc.web_id), "%s", user);
	snprintf(wc.scope, sizeof(wc.scope), "%s", waf_conf.scope);
	snprintf(wc.impi, sizeof(wc.impi), "%s", id.impi);
	for (size_t i = 0; i < id.n_impus; i++)
		snprintf(wc.impus[i], WIMS_IMPU_MAX, "%s", id.impus[i]);
	wc.n_impus = id.n_impus;
	wc.expires = now_s() + waf_conf.code_lifetime;
	char code[48];
	uint8_t h[32];
	random_b64url(32, code);
	sha256(code, strlen(code), h);
	waf_db_expire(w->db, now_s());
	if (waf_code_put(w->db, h, &wc)) {
		authz_error_page(req, 500, "The code could not be stored; try again later.");
		return;
	}
	struct evbuffer *loc = evbuffer_new();
	evbuffer_add_printf(loc, "%s", a.redirect_uri);
	char sep = strchr(a.redirect_uri, '?') ? '&' : '?';
	add_param(loc, &sep, "code", code);
	if (a.state[0])
		add_param(loc, &sep, "state", a.state);
	OPENSSL_cleanse(code, sizeof(code));
	send_redirect(req, loc);
	evbuffer_free(loc);
}

/* --- the WAF's own sign-in (for linking) --- */

static void account_page(struct waf_worker *w, struct evhttp_request *req, const char *user)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "<p>Signed in as <span class=\"who\">");
	waf_html_escape(b, user);
	evbuffer_add_printf(b, "</span>.</p>");
	struct waf_identity id;
	const char *why;
	if (waf_grant_linked(w->hss, user, WAF_IDP, &id, &why) == 0) {
		evbuffer_add_printf(b, "<p>Linked IMS identities: ");
		for (size_t i = 0; i < id.n_impus; i++) {
			if (i)
				evbuffer_add_printf(b, ", ");
			waf_html_escape(b, id.impus[i]);
		}
		evbuffer_add_printf(b, "</p>");
	} else {
		evbuffer_add_printf(b, "<p>No IMS identity is linked to this account yet.</p>");
	}
	evbuffer_add_printf(b, "<p><a href=\"/link\">Link an IMS identity</a></p>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, 200, "Your operator account", (const char *)evbuffer_pullup(b, -1),
		      NULL);
	evbuffer_free(b);
}

/* A page of this site to go to after sign-in: a local absolute path of
 * harmless characters (never "//host", which would leave the site). */
static bool next_ok(const char *next)
{
	size_t n = strlen(next);
	return n >= 1 && n < 128 && next[0] == '/' && next[1] != '/' && next[1] != '\\' &&
	       strspn(next, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.") ==
		       n;
}

static void plain_signin_page(struct evhttp_request *req, int code, const char *error,
			      const char *next)
{
	char csrf[24];
	csrf_token(req, csrf);
	struct evbuffer *b = evbuffer_new();
	if (error) {
		evbuffer_add_printf(b, "<p class=\"error\">");
		waf_html_escape(b, error);
		evbuffer_add_printf(b, "</p>");
	}
	evbuffer_add_printf(b, "<form method=\"post\" action=\"/signin\">"
			       "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			       "<label for=\"username\">User name</label>"
			       "<input type=\"text\" id=\"username\" name=\"username\" "
			       "autocomplete=\"username\" required>"
			       "<label for=\"password\">Password</label>"
			       "<input type=\"password\" id=\"password\" name=\"password\" "
			       "autocomplete=\"current-password\" required>"
			       "<button type=\"submit\">Sign in</button>",
			    csrf);
	if (next && next_ok(next))
		evbuffer_add_printf(b, "<input type=\"hidden\" name=\"next\" value=\"%s\">", next);
	evbuffer_add_printf(b, "</form>");
	evbuffer_add(b, "", 1);
	waf_page_send(req, code, "Sign in to your operator account",
		      (const char *)evbuffer_pullup(b, -1), NULL);
	evbuffer_free(b);
}

static void signin_endpoint(struct waf_worker *w, struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char user[WEB_USER_MAX], next[160] = "";
	struct waf_form f;
	const char *why = NULL;
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
		const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
		const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
		if (q && waf_form_parse(slice_from_cstr(q), &f, &why) == 0)
			waf_form_get(&f, "next", next, sizeof(next));
		if (session_user(req, user, sizeof(user)) == 0)
			account_page(w, req, user);
		else
			plain_signin_page(req, 200, NULL, next);
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, POST");
		http_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (read_form(req, &f, &why)) {
		wipe_body(req);
		plain_signin_page(req, 400, why, NULL);
		return;
	}
	waf_form_get(&f, "next", next, sizeof(next));
	if (!csrf_ok(req, &f)) {
		wipe_body(req);
		plain_signin_page(req, 403, "The form expired or did not come from this site.", next);
		return;
	}
	const char *error = NULL;
	int code = 0;
	if (signin_check(req, &f, user, sizeof(user), &error, &code)) {
		plain_signin_page(req, code, error, next);
		return;
	}
	set_session(req, user);
	if (next_ok(next)) {
		http_add_security_headers(req, "default-src 'none'", false);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", next);
		evhttp_send_reply(req, 303, "See Other", NULL);
		return;
	}
	account_page(w, req, user);
}

/* --- link.c's view of us (link.h) --- */

#if WAF_HAVE_LINK
static int link_session_user(struct evhttp_request *req, char *name, size_t namesz, void *arg)
{
	WIMS_UNUSED(arg);
	return session_user(req, name, namesz) == 0 ? 0 : WIMS_ENOTFOUND;
}

static int link_mtls_client(struct evhttp_request *req, char *id, size_t idsz, void *arg)
{
	struct waf_worker *w = arg;
	uint8_t fp[32];
	struct waf_client c;
	const char *why;
	if (tls_peer_cert_sha256(http_request_bufferevent(req), fp) != 0 ||
	    waf_client_by_cert(w->db, fp, &c) != 0)
		return WIMS_ENOTFOUND;
	if (waf_grant_client_usable(w->hss, &c, &why))
		return WIMS_EDENIED;
	if (strlen(c.client_id) >= idsz)
		return WIMS_ETOOBIG;
	snprintf(id, idsz, "%s", c.client_id);
	return 0;
}

static void link_send_page(struct evhttp_request *req, int code, const char *title,
			   const char *body_html, void *arg)
{
	WIMS_UNUSED(arg);
	waf_page_send(req, code, title, body_html, NULL);
}
#endif

/* --- routing and workers --- */

static void waf_request(struct evhttp_request *req, void *arg)
{
	struct waf_worker *w = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	if (strcmp(path, "/token") == 0) {
		token_endpoint(w, req);
	} else if (strcmp(path, "/introspect") == 0) {
		introspect_endpoint(w, req);
	} else if (strcmp(path, "/authorize") == 0) {
		authorize_endpoint(w, req);
	} else if (strcmp(path, "/") == 0 || strcmp(path, "/signin") == 0) {
		signin_endpoint(w, req);
	} else if (!get) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_reply_error(req, 405, "Method Not Allowed");
	} else if (strcmp(path, "/.well-known/oauth-authorization-server") == 0) {
		serve_metadata(req);
	} else if (strcmp(path, "/jwks.json") == 0) {
		serve_jwks(w, req);
	} else if (strcmp(path, "/style.css") == 0) {
		waf_page_style(req);
	} else {
		http_reply_error(req, 404, "Not Found");
	}
}

static void fail_worker(const char *what, const char *err)
{
	if (!waf.error) {
		waf.error = WIMS_EIO;
		snprintf(waf.errmsg, sizeof(waf.errmsg), "%s: %s", what, err);
	}
}

static void listen_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(arg);
	char err[512];
	struct waf_worker *w = &waf.w[index];
	w->base = base;
	w->db = waf_db_open(waf.db_path, err, sizeof(err));
	if (!w->db)
		return fail_worker("waf.db", err);
	if (store_open(waf.hss_path, &w->hss, err, sizeof(err)))
		return fail_worker("hss store", err);
	w->keys = waf_keyring_new(waf.keys_dir);
	if (!w->keys)
		return fail_worker("keys", "out of memory");
	w->http = http_server_new_reuseport(base, waf.host, waf.port, waf.tls, err, sizeof(err));
	if (!w->http)
		return fail_worker("listen", err);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(w->http, waf_request, w);
#if WAF_HAVE_LINK
	w->link_env = (struct waf_link_env){
		.domain = wims_global.domain,
		.hss_db = waf.hss_path,
		.cscf_host = waf.cscf_host,
		.cscf_port = waf.cscf_port,
		.public_url = waf_conf.issuer,
		.code_lifetime_s = waf_conf.link_code_lifetime,
		.session_user = link_session_user,
		.mtls_client = link_mtls_client,
		.send_page = link_send_page,
		.arg = w,
	};
	w->link = waf_link_attach(w->http, base, &w->link_env, err, sizeof(err));
	if (!w->link)
		return fail_worker("link", err);
#endif
}

static void close_on_worker(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	WIMS_UNUSED(arg);
	struct waf_worker *w = &waf.w[index];
#if WAF_HAVE_LINK
	waf_link_detach(w->link);
	w->link = NULL;
#endif
	if (w->http)
		evhttp_free(w->http);
	w->http = NULL;
	waf_keyring_free(w->keys);
	w->keys = NULL;
	store_close(w->hss);
	w->hss = NULL;
	waf_db_close(w->db);
	w->db = NULL;
}

static void waf_stop(void);

/* The first key and the demo seed, before the workers (one writer). */
static int prepare_stores(void)
{
	char err[512];
	struct waf_db *db = waf_db_open(waf.db_path, err, sizeof(err));
	if (!db) {
		WIMS_ERROR("waf", "%s", err);
		return WIMS_ESTORE;
	}
	struct store *hss = NULL;
	int rc = store_open(waf.hss_path, &hss, err, sizeof(err));
	if (rc) {
		WIMS_ERROR("waf", "hss store: %s", err);
		waf_db_close(db);
		return rc;
	}
	struct waf_keyring *kr = waf_keyring_new(waf.keys_dir);
	rc = kr ? waf_keyring_refresh(kr, db, now_s(), (int64_t)waf_conf.key_rotation_days * 86400,
				      waf_conf.key_publish_lead_s, waf_conf.token_lifetime, err,
				      sizeof(err))
		: WIMS_ENOMEM;
	if (rc)
		WIMS_ERROR("waf", "keys: %s", err);
	waf_keyring_free(kr);
	if (!rc && waf_conf.demo_clients) {
		rc = waf_seed_demo(db, waf.accounts, hss, err, sizeof(err));
		if (rc)
			WIMS_ERROR("waf", "demo clients: %s", err);
	}
	store_close(hss);
	waf_db_close(db);
	return rc;
}

static int waf_start(void)
{
	char err[512];
	int rc;
	if (conf_addr_split(waf_conf.listen, waf.host, sizeof(waf.host), &waf.port)) {
		WIMS_ERROR("waf", "listen: bad address \"%s\"", waf_conf.listen);
		return WIMS_ECONF;
	}
	if (conf_addr_split(waf_conf.cscf_addr, waf.cscf_host, sizeof(waf.cscf_host),
			    &waf.cscf_port)) {
		WIMS_ERROR("waf", "cscf_addr: bad address \"%s\"", waf_conf.cscf_addr);
		return WIMS_ECONF;
	}
	if (strncmp(waf_conf.issuer, "https://", 8) != 0 || strchr(waf_conf.issuer, '?') ||
	    strchr(waf_conf.issuer, '#')) {
		/* RFC 8414 2: https, no query or fragment */
		WIMS_ERROR("waf", "issuer must be an https URL without query or fragment");
		return WIMS_ECONF;
	}
	if (waf_conf.audience[0])
		snprintf(waf.audience, sizeof(waf.audience), "%s", waf_conf.audience);
	else
		snprintf(waf.audience, sizeof(waf.audience), "sip:%s", wims_global.domain);
	if (net_port_claim(waf.host, waf.port, true, false, err, sizeof(err))) {
		WIMS_ERROR("waf", "%s", err);
		return WIMS_EEXIST;
	}
	if (waf_paths(waf.db_path, sizeof(waf.db_path), waf.keys_dir, sizeof(waf.keys_dir),
		      waf.hss_path, sizeof(waf.hss_path))) {
		WIMS_ERROR("waf", "store paths too long");
		return WIMS_ECONF;
	}
	waf_make_parent_dirs(waf.db_path);
	waf_make_parent_dirs(waf.hss_path);
	if (RAND_bytes(waf.mac_key, sizeof(waf.mac_key)) != 1)
		return WIMS_ENOMEM;
	waf.accounts = web_accounts_open(waf.db_path, err, sizeof(err));
	if (!waf.accounts) {
		WIMS_ERROR("waf", "accounts: %s", err);
		return WIMS_ESTORE;
	}
	waf.user_limit = ratelimit_new(0, (unsigned)waf_conf.signin_failures_per_user,
				       (uint64_t)waf_conf.signin_window_s);
	waf.ip_limit = ratelimit_new(0, (unsigned)waf_conf.signin_failures_per_ip,
				     (uint64_t)waf_conf.signin_window_s);
	if (!waf.user_limit || !waf.ip_limit || build_metadata()) {
		waf_stop();
		return WIMS_ENOMEM;
	}
	if ((rc = prepare_stores())) {
		waf_stop();
		return rc;
	}
	if (wims_global.tls_self_signed) {
		static const char *const names[] = {"127.0.0.1", "localhost", NULL};
		rc = tls_ensure_self_signed(wims_global.tls_cert, wims_global.tls_key, names, err,
					    sizeof(err));
		if (rc) {
			WIMS_ERROR("waf", "self-signed certificate: %s", err);
			waf_stop();
			return rc;
		}
	}
	waf.tls = tls_server_ctx_new(wims_global.tls_cert, wims_global.tls_key, err, sizeof(err));
	if (!waf.tls || tls_server_ctx_request_client_cert(waf.tls)) {
		WIMS_ERROR("waf", "TLS: %s", err);
		waf_stop();
		return WIMS_ETLS;
	}
	waf.n = wims_global_workers();
	waf.w = calloc((size_t)waf.n, sizeof(*waf.w));
	waf.workers = waf.w ? workers_new(waf.n, "waf") : NULL;
	if (!waf.workers) {
		WIMS_ERROR("waf", "cannot start %d worker threads", waf.n);
		waf_stop();
		return WIMS_ENOMEM;
	}
	waf.error = 0;
	rc = workers_run_each(waf.workers, listen_on_worker, NULL);
	if (rc || waf.error) {
		WIMS_ERROR("waf", "start: %s", waf.error ? waf.errmsg : wims_strerror(rc));
		rc = rc ? rc : waf.error;
		waf_stop();
		return rc;
	}
	WIMS_INFO("waf", "authorization server %s on https://%s/ (%d workers): %s tokens for %s, "
			 "implicit grant %s, clients and accounts in %s, HSS %s%s",
		  waf_conf.issuer, waf_conf.listen, waf.n,
		  waf_conf.token_format == 1 ? "opaque" : "JWT", waf.audience,
		  waf_conf.implicit_grant ? "on" : "off", waf.db_path, waf.hss_path,
		  WAF_HAVE_LINK ? "" : " (identity linking not built)");
	return 0;
}

static void waf_stop(void)
{
	if (waf.workers) {
		workers_run_each(waf.workers, close_on_worker, NULL);
		workers_stop_and_free(waf.workers);
		waf.workers = NULL;
	}
	free(waf.w);
	waf.w = NULL;
	SSL_CTX_free(waf.tls);
	waf.tls = NULL;
	web_accounts_close(waf.accounts);
	waf.accounts = NULL;
	ratelimit_free(waf.user_limit);
	ratelimit_free(waf.ip_limit);
	waf.user_limit = waf.ip_limit = NULL;
	free(waf.metadata);
	waf.metadata = NULL;
	OPENSSL_cleanse(waf.mac_key, sizeof(waf.mac_key));
}

const struct role waf_role = {
	.name = "waf",
	.summary = "WAF: OAuth 2.0 authorization server for WWSFs (W4), JWKS, introspection (W5)",
	.conf = &waf_section,
	.start = waf_start,
	.stop = waf_stop,
	.cli = waf_cli,
	.cli_usage = waf_cli_usage,
};
