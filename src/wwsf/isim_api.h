/*
 * isim_api.h - the network ISIM's HTTP API on the WWSF (shared/seeds/001,
 * TR 33.871 6.1.1.3): a web user signs in to the WWSF, then the WIC asks
 * the ISIM co-located here to answer an IMS AKA challenge for an IMS
 * subscription mapped to that user, and gets only the AKAv2 password.
 *
 *	POST /login     {"user","password"}  -> 200 {"user","subscriptions":[..]}
 *	                                        + Set-Cookie wims_session | 401 | 429
 *	GET  /session                        -> 200 (same body) | 401
 *	POST /logout                         -> 204 (session forgotten)
 *	POST /isim/aka  {"impi","nonce","algorithm"}
 *	                                     -> 200 {"password"} | 200 {"auts"} | 401
 *	                                        | 403 (not mapped) | 409 (AUTN MAC)
 *	                                        | 400 | 404 | 429
 *
 * Requests that change state (every POST) must carry an Origin header from
 * the allow-list: a page elsewhere cannot sign a user in or out or spend
 * their ISIM (CSRF), and the cookie is SameSite=Strict besides.  Every
 * answer is JSON with Cache-Control: no-store (http_reply_json).
 *
 * The handler takes a request already read (method, path, the two headers
 * it needs, the body) and fills a response: no sockets, so unit tests and
 * the fuzzer call it directly; wwsf.c adapts evhttp to it.  The JSON
 * parsers below do no I/O at all.
 */
#ifndef WIMS_WWSF_ISIM_API_H
#define WIMS_WWSF_ISIM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/aka.h"
#include "core/limits.h"
#include "core/slice.h"
#include "store/webacct.h"
#include "wwsf/session.h"

/* Request bodies are a few dozen bytes of JSON; 4 KiB leaves room and
 * keeps a flood of large bodies cheap to refuse (413). */
#define WWSF_API_MAX_BODY 4096
/* Failed sign-ins per user per minute before 429, and network ISIM
 * requests per session per minute (the contract's numbers). */
#define WWSF_LOGIN_FAILURES_PER_MIN 10
#define WWSF_ISIM_REQUESTS_PER_MIN 60

struct isim;
struct ratelimit;

struct wwsf_api {
	struct web_accounts *accounts;
	struct wwsf_sessions *sessions;
	struct ratelimit *login_limit; /* per user name */
	const char *allowed_origins;   /* comma list, as [wwsf] allowed_origins */
	const char *domain;            /* realm when an IMPI has no ISIM entry */
	unsigned isim_per_min;         /* 0: WWSF_ISIM_REQUESTS_PER_MIN */
};

enum wwsf_method { WWSF_GET, WWSF_HEAD, WWSF_POST, WWSF_OTHER };

struct wwsf_api_request {
	enum wwsf_method method;
	const char *path;   /* without the query */
	const char *origin; /* Origin header, NULL if absent */
	const char *cookie; /* Cookie header, NULL if absent */
	struct slice body;
	bool body_too_big;  /* more than WWSF_API_MAX_BODY came */
	const char *peer;   /* for the log, NULL fine */
};

struct wwsf_api_response {
	int code;
	char *json;            /* malloc'd body, NULL for 204 */
	char set_cookie[160];  /* "" or the Set-Cookie value */
	const char *allow;     /* Allow header for 405, else NULL */
};

/* true if path is one of the API's (the router sends it here). */
bool wwsf_api_path(const char *path);

/* Answer one request; isim is the calling worker's ISIM store (may be NULL:
 * /isim/aka then answers 503).  now_s is monotonic seconds.  Always fills
 * resp; release it with wwsf_api_response_clear. */
void wwsf_api_handle(struct wwsf_api *api, struct isim *isim, const struct wwsf_api_request *req,
		     uint64_t now_s, struct wwsf_api_response *resp);
void wwsf_api_response_clear(struct wwsf_api_response *resp);

/* true if origin (exactly, ASCII case-insensitive) is an item of list. */
bool wwsf_origin_allowed(const char *list, const char *origin);

/* The /login body. */
struct wwsf_login_req {
	char user[WEB_USER_MAX];           /* "" if not a valid user name */
	char password[WEB_PASSWORD_MAX + 1]; /* secret: cleansed by the caller */
	size_t password_len;
};
/* 0, or WIMS_EPARSE with a reason (not JSON, not an object, "user" or
 * "password" missing, not strings, too long).  A user string that is not a
 * valid name parses (user "") so that it fails like a wrong password. */
int wwsf_login_parse(struct slice body, struct wwsf_login_req *out, const char **reason);

/* The /isim/aka body. */
struct wwsf_aka_req {
	char impi[WIMS_IMPI_MAX];
	char nonce[AKA_NONCE_MAX + 1];
	enum aka_version version;
};
/* 0, or WIMS_EPARSE / WIMS_EUNSUPPORTED (an algorithm that is not Digest
 * AKA) with a reason.  AKAv1-MD5 parses (version AKA_V1_MD5): refusing it
 * is the handler's policy, with its own message. */
int wwsf_aka_req_parse(struct slice body, struct wwsf_aka_req *out, const char **reason);

#endif
