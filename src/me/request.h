/*
 * request.h - the body of a POST /aka to the ME agent, parsed apart from
 * the HTTP server so that it can be fuzzed (fuzz/me_request.c) and tested
 * without a socket.
 *
 *	{"impi": "dave@ims.example.org",
 *	 "nonce": "<base64(RAND||AUTN...)>",
 *	 "algorithm": "AKAv2-SHA-256"}           -- optional, that is the default
 *
 * The parser only checks the shape (an object, string members within
 * their limits, no duplicate keys, a known algorithm name); whether the
 * nonce decodes and the IMPI exists is the ISIM's business (isim.h).
 * Other members are ignored, so a WIC may send more than we read.
 */
#ifndef WIMS_ME_REQUEST_H
#define WIMS_ME_REQUEST_H

#include <stddef.h>

#include "auth/aka.h"
#include "core/limits.h"

/* The largest body the agent reads: the three members above are under
 * 500 bytes; 4 KiB leaves room for a WIC that sends a little more and
 * bounds the JSON parser's work per request. */
#define ME_REQUEST_MAX_BODY 4096

struct me_request {
	char impi[WIMS_IMPI_MAX];
	char nonce[AKA_NONCE_MAX + 1];
	enum aka_version algorithm;
};

/*
 * Parses body (len bytes, need not be NUL-terminated).  Returns 0 with out
 * set, or WIMS_ETOOBIG (len > ME_REQUEST_MAX_BODY), WIMS_EPARSE (not a
 * JSON object, a member missing, not a string, empty or too long, a
 * duplicate key), WIMS_EUNSUPPORTED (an algorithm that is not AKAv1-MD5 or
 * AKAv2-SHA-256).  *reason gets a static text for the 400 answer.
 * Refusing AKAv1 is the caller's decision: it is parsed as AKA_V1_MD5.
 */
int me_request_parse(const char *body, size_t len, struct me_request *out,
		     const char **reason);

#endif
