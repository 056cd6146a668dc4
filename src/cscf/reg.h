/*
 * reg.h - the registrar of the I-CSCF + S-CSCF: a REGISTER in, the
 * response out (RFC 3261 10.3, RFC 3327, RFC 3608, RFC 5626, RFC 7616 /
 * RFC 8760 Digest, TS 24.229 5.3.1 / 5.4.1, TS 29.228 Cx).
 *
 *	REGISTER --> Request-URI ours?  (else 403)
 *	         --> IMPU = To, IMPI = Authorization username or TS 33.203
 *	             Annex N (from the IMPU)
 *	         --> UAR (I-CSCF): unknown 404, mismatch/barred 403
 *	         --> trusted node authentication (integrity-protected=
 *	             "auth-done", from [cscf] trusted_nodes only, else 403):
 *	             P-WWSF-Identity required (403 "WWSF identity missing"),
 *	             then the HSS's cx_tna_authorize (403 with its reason:
 *	             WWSF blocked / not allowed / not the pool's), no Digest
 *	         --> no credentials for our realm: MAR, 401 with one
 *	             WWW-Authenticate per configured algorithm the HSS
 *	             serves for the IMPI (each AKA one with its own vector)
 *	         --> credentials: nonce ours (else 401), young (else 401
 *	             stale=true), too many failures (403), MAR for H(A1),
 *	             response (else 403), nc not seen (else 401)
 *	         --> AKA credentials (RFC 3310, RFC 4169, TS 24.229 5.4.1.2):
 *	             auts: resync MAR, 401 (bad AUTS 403); empty response:
 *	             the UE refused our AUTN, 403; else the pending vector
 *	             taken by RAND (unknown/spent 401, old 401 stale=true),
 *	             response over the password from XRES (else 403)
 *	         --> Contacts (400/423), CSeq order (400), SAR, bindings
 *	             written for every IMPU of the implicit set
 *	         --> 200 OK: Contacts with expires, Path, Service-Route,
 *	             P-Associated-URI, Authentication-Info rspauth, Date
 *
 * TNA refusals (TR 33.871 REQ 2.1-2.3, 3.2) carry the reason twice, as the
 * reason phrase and as "Warning: 399 <server> \"<reason>\"", so that the
 * pcscf can pass it on to the WIC; the cscf log names the WWSF of every
 * TNA registration, accepted or refused.
 *
 * Reason phrases say why (wims "Inter-role facts"): "Unknown user" (404),
 * "Wrong password" (403), "Too many failed attempts" (403), "Stale nonce"
 * (401 stale=true), "Replayed nonce count" (401, fresh challenge); for
 * AKA "Unauthorized (resynchronised)" (401), "Resynchronisation refused"
 * (403), "Network authentication failed at the UE" (403), "Unauthorized
 * (unknown nonce)" (401: a spent vector is never accepted again).  An
 * unknown user is 404 rather than TS 24.229's 403 so that a provisioning
 * mistake reads differently from a bad password; the user's existence is
 * no secret a 404 gives away that a 401 challenge would not.
 *
 * Bindings live in the store (store.h) so that they survive a restart; the
 * store is the only copy (no cache to go stale between workers).  A
 * REGISTER's read-check-write of the bindings runs under a lock chosen by
 * the IMPI (WIMS_CSCF_REG_LOCKS).
 *
 * Threads: a struct cscf_reg is shared by every worker (the nonce tracker,
 * the pending AKA vectors and the failure limiter lock internally); each worker passes its own
 * store and Cx handles (struct cscf_reg_io), so that workers do not queue
 * on one handle's lock.
 */
#ifndef WIMS_CSCF_REG_H
#define WIMS_CSCF_REG_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/digest.h"
#include "core/slice.h"
#include "core/buf.h"
#include "core/limits.h"
#include "sip/msg.h"
#include "store/store.h"

struct cx;

/* An algorithm the registrar offers: the four of Digest with a password
 * (the values of enum digest_alg) and the two of Digest AKA, whose
 * password comes from the AKA vector (RFC 3310, RFC 4169). */
enum cscf_reg_alg {
	CSCF_REG_MD5 = DIGEST_ALG_MD5,
	CSCF_REG_SHA256 = DIGEST_ALG_SHA256,
	CSCF_REG_MD5_SESS = DIGEST_ALG_MD5_SESS,
	CSCF_REG_SHA256_SESS = DIGEST_ALG_SHA256_SESS,
	CSCF_REG_AKAV1_MD5 = DIGEST_ALG_COUNT_,
	CSCF_REG_AKAV2_SHA256,
	CSCF_REG_ALG_COUNT_
};

/* "MD5" ... "AKAv1-MD5", "AKAv2-SHA-256". */
const char *cscf_reg_alg_name(enum cscf_reg_alg alg);
/* Case-insensitive parse of those names (absent: MD5, RFC 7616 3.3).  0
 * or WIMS_EUNSUPPORTED. */
int cscf_reg_alg_parse(struct slice name, enum cscf_reg_alg *out);

/* What the registrar is told at start (resolved from [cscf]). */
struct cscf_reg_conf {
	char domain[128];          /* Request-URI host of our REGISTERs */
	char realm[128];           /* Digest realm we challenge with */
	enum cscf_reg_alg algs[CSCF_REG_ALG_COUNT_]; /* offered, in this order */
	unsigned nalgs;
	/* AKA vectors asked per MAR (1..CX_MAX_AKA_VECTORS; 0 means 1): the
	 * first challenges, the others wait as spares for the IMPI's next
	 * challenges. */
	unsigned aka_vectors;
	/* AKA challenges awaiting an answer, at most (0:
	 * CSCF_AKAVEC_MAX_PENDING); past it, 503. */
	unsigned aka_max_pending;
	/* AKA challenges pending for one IMPI, at most (0:
	 * CSCF_AKAVEC_PENDING_PER_IMPI; negative: no such limit, for tests of
	 * the global one): a new one pushes out the IMPI's oldest. */
	int aka_pending_per_impi;
	uint32_t nonce_lifetime_s;
	uint32_t min_expires, max_expires, default_expires;
	char service_route[300];   /* "<sip:orig@127.0.0.1:5060;lr>" */
	char server_name[300];     /* S-CSCF name for SAR: "sip:127.0.0.1:5060" */
	char trusted_nodes[WIMS_CONF_MAX_VALUE]; /* IP addresses, comma-separated */
};

/* Where a request came from (the transport fills it). */
struct cscf_src {
	char proto[8];       /* "udp", "tcp" */
	char host[64];       /* "127.0.0.1" (numeric) */
	int port;
};

/* The calling thread's handles (not owned): its store of bindings and its
 * Cx handle to the HSS. */
struct cscf_reg_io {
	struct store *st;
	struct cx *cx;
};

struct cscf_reg;

/* A registrar.  secret: 32 random bytes for the nonces.  NULL when out of
 * memory or the configuration is unusable. */
struct cscf_reg *cscf_reg_new(const struct cscf_reg_conf *conf, const uint8_t secret[32]);
void cscf_reg_free(struct cscf_reg *r); /* NULL is fine */

/* Answer REGISTER m (sip_msg_can_answer must hold): the whole response is
 * appended to out.  io: the calling thread's handles; now: unix time.
 * Returns the status sent (>= 100), or a negative WIMS_E* when not even a
 * response could be built (out->err). */
int cscf_reg_register(struct cscf_reg *r, const struct cscf_reg_io *io, const struct sip_msg *m,
		      const struct cscf_src *src, int64_t now, struct buf *out);

/* Is host (numeric) one of the trusted nodes? */
bool cscf_reg_trusted(const struct cscf_reg *r, const char *host);

/* Does request m claim trusted node authentication (an Authorization with
 * integrity-protected="auth-done", TS 24.229 5.4.1.2.2A) without coming
 * from a trusted node?  Such a request is answered 403: anyone could
 * write that parameter (TR 33.871 REQ 2.3).  A malformed Authorization
 * is not a claim (the caller answers 400 for it where it matters).
 * P-WWSF-Identity from a source that is not trusted is not believed
 * either: the registrar ignores it and the proxy removes it
 * (cscf_fwd.strip_wwsf). */
bool cscf_reg_tna_refused(const struct cscf_reg *r, const struct sip_msg *m,
			  const struct cscf_src *src);

/* Registered contacts of impu at now (0 if none), for routing. */
int cscf_reg_count(struct store *st, const char *impu, int64_t now);

/*
 * TS 24.229 5.4.3.2: the S-CSCF serves the originating requests of
 * registered users.  Is the served user of initial request m (its first
 * P-Asserted-Identity, else From: cscf_served_user) registered at now?
 * 1 yes, 0 no live binding (never registered, expired, deregistered, or
 * removed by a WWSF block, TR 33.871 REQ 2.2), WIMS_EPARSE / WIMS_ETOOBIG
 * for no usable identity, another negative WIMS_E* on a store error.
 * served (WIMS_IMPU_MAX) gets the IMPU ("" when none).  One indexed read.
 */
int cscf_reg_originating(struct store *st, const struct sip_msg *m, const char *domain,
			 int64_t now, char served[WIMS_IMPU_MAX]);

/* Remove bindings that expired by now; every subscription of ours left
 * without a binding is deregistered in the HSS (SAR
 * TIMEOUT_DEREGISTRATION).  Returns bindings removed (>= 0) or an error. */
int cscf_reg_purge(struct cscf_reg *r, const struct cscf_reg_io *io, int64_t now);

/* Bindings were removed outside the registrar (store_binding_delete_contact
 * after 430 Flow Failed): the next cscf_reg_purge() deregisters in the HSS
 * every subscription of ours left without a binding.  Any thread. */
void cscf_reg_bindings_removed(struct cscf_reg *r);

/* The IMPU a To/From URI stands for: "sip:user@host" (scheme and host
 * lower-cased, no port, parameters or headers), "tel:+number".  0 or
 * WIMS_EPARSE / WIMS_ETOOBIG. */
int cscf_reg_impu(struct slice uri, char *out, size_t outsz);

#endif
