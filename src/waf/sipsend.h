/*
 * sipsend.h - a SIP MESSAGE sender for the WAF (RFC 3428), asynchronous
 * on one worker's event_base: how the one-time code of identity linking
 * reaches the IMS subscriber (TR 33.871 Annex C M2: "the IMS provider asks
 * the IMS subscriber ... in a sufficiently secure way").
 *
 * Each message is one non-INVITE client transaction on its own TCP
 * connection to the S-CSCF (the WAF sends a few per minute at most; a
 * shared connection would only add the bookkeeping of one):
 *
 *	MESSAGE <to> SIP/2.0
 *	Via: SIP/2.0/TCP <local addr>;branch=z9hG4bK<random>;rport
 *	Max-Forwards: 70
 *	From: <sip:waf@DOMAIN>;tag=<random>
 *	To: <to>
 *	Call-ID: <random>@DOMAIN
 *	CSeq: 1 MESSAGE
 *	P-Asserted-Identity: <sip:waf@DOMAIN>
 *	Content-Type: <type>
 *	Content-Length: <n>
 *
 * P-Asserted-Identity is believed by the S-CSCF only because the WAF is
 * inside its trust domain ([cscf] pcscf_nodes): the subscriber's client
 * shows the message as coming from the operator.
 *
 * The answer is the first final response whose top Via branch, Call-ID
 * and CSeq are ours (1xx are skipped).  Timer F (64*T1 = 32 s) is too long
 * for a web page waiting on the result, so the transaction gives up after
 * the sender's timeout (SIPSEND_TIMEOUT_MS by default).  Over TCP nothing
 * is retransmitted (RFC 3261 17.1.2.2).
 *
 * A sender belongs to the thread of its event_base.
 */
#ifndef WIMS_WAF_SIPSEND_H
#define WIMS_WAF_SIPSEND_H

#include <stddef.h>

#include "core/slice.h"

struct event_base;

/* A web answer waits on the MESSAGE: 8 s is long enough for a registered
 * client behind a P-CSCF to answer, and well below browser timeouts. */
#define SIPSEND_TIMEOUT_MS 8000
/* Transactions in flight per sender: each is a socket and a buffer; the
 * WAF limits link requests per IMPU and per user well below this, so the
 * bound only stops a flood from taking every descriptor. */
#define SIPSEND_MAX_PENDING 256
/* Message bodies: a text for a person to read. */
#define SIPSEND_MAX_BODY 1024

struct sipsend;

struct sipsend_result {
	int status;       /* the final response's status 200-699, 0 when none came */
	int err;          /* 0 with a status; else WIMS_ETIMEOUT (no final response
			   * in time), WIMS_EIO (could not connect, or the connection
			   * closed first), WIMS_EPARSE (the answer was not SIP),
			   * WIMS_ECLOSED (sipsend_free while pending) */
	char reason[64];  /* the reason phrase (printable ASCII, cut), or "" */
};

/* Called once per accepted sipsend_message, on the sender's thread, never
 * from inside sipsend_message. */
typedef void (*sipsend_cb)(void *arg, const struct sipsend_result *r);

/* A sender to the S-CSCF at host:port (numeric address or "localhost"),
 * as sip:waf@domain.  timeout_ms 0: SIPSEND_TIMEOUT_MS.  NULL with err on
 * bad arguments or no memory. */
struct sipsend *sipsend_new(struct event_base *base, const char *host, int port,
			    const char *domain, unsigned timeout_ms, char *err, size_t errsz);
/* Ends every pending transaction (their callbacks run with WIMS_ECLOSED,
 * before this returns) and frees s.  NULL is fine. */
void sipsend_free(struct sipsend *s);

/* Send body (content_type, e.g. "text/plain;charset=UTF-8") to the SIP or
 * tel URI to.  0: cb(arg, result) will be called once.  Otherwise cb is
 * never called: WIMS_EINVAL (to is not a URI, or contains what cannot go
 * into a header; content_type not a token/token), WIMS_ETOOBIG (body over
 * SIPSEND_MAX_BODY, or SIPSEND_MAX_PENDING in flight), WIMS_EIO (the
 * connection could not even start), WIMS_ENOMEM. */
int sipsend_message(struct sipsend *s, const char *to, const char *content_type,
		    struct slice body, sipsend_cb cb, void *arg);

/* Transactions in flight (tests). */
unsigned sipsend_pending(const struct sipsend *s);

#endif
