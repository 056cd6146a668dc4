/*
 * reg.c - the registrar: Digest and Digest AKA authentication of REGISTER
 * against the HSS (Cx UAR/MAR/SAR) and the bindings in the store (see
 * reg.h).  AKA vectors wait for their answer in akavec.h's shared table.
 *
 * The order of the checks follows RFC 3261 10.3: the domain (step 1),
 * extensions (2), authentication (3-4), the AOR (5), the Contacts (6-7),
 * then the answer (8).  Authentication checks are cheapest first, and the
 * nonce's nc is recorded only after the response verified, so that a
 * forged request cannot use up a client's nc values.
 */
#include "cscf/reg.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/aka.h"
#include "auth/nonce.h"
#include "auth/ratelimit.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/wims.h"
#include "cscf/akavec.h"
#include "cscf/contact.h"
#include "cscf/route.h"
#include "hss/cx.h"
#include "sip/auth_hdr.h"
#include "sip/build.h"
#include "sip/hdr.h"
#include "sip/nameaddr.h"
#include "sip/param.h"
#include "sip/uri.h"

#define LOG "cscf"

struct cscf_reg {
	struct cscf_reg_conf conf;
	struct nonce_key key;
	struct nonce_tracker *tracker;
	struct cscf_akavec *akavec; /* AKA challenges out, spare vectors */
	struct ratelimit *failures;
	pthread_mutex_t locks[WIMS_CSCF_REG_LOCKS];
	/* Bindings were removed by something other than expiry (a 430 from
	 * the P-CSCF): the next purge tells the HSS about subscriptions left
	 * without one, as it does after an expiry. */
	atomic_bool removed_elsewhere;
};

struct cscf_reg *cscf_reg_new(const struct cscf_reg_conf *conf, const uint8_t secret[32])
{
	if (conf->nalgs == 0 || conf->nonce_lifetime_s == 0)
		return NULL;
	struct cscf_reg *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->conf = *conf;
	nonce_key_init(&r->key, secret);
	r->tracker = nonce_tracker_new(0, conf->nonce_lifetime_s);
	r->akavec = cscf_akavec_new(conf->aka_max_pending, 0, conf->nonce_lifetime_s);
	if (r->akavec && conf->aka_pending_per_impi >= 0)
		cscf_akavec_set_per_impi(r->akavec, conf->aka_pending_per_impi
							    ? (unsigned)conf->aka_pending_per_impi
							    : CSCF_AKAVEC_PENDING_PER_IMPI);
	r->failures = ratelimit_new(0, WIMS_AUTH_MAX_FAILURES_PER_MIN, 60);
	if (r->conf.aka_vectors == 0)
		r->conf.aka_vectors = 1;
	if (r->conf.aka_vectors > CX_MAX_AKA_VECTORS)
		r->conf.aka_vectors = CX_MAX_AKA_VECTORS;
	if (!r->tracker || !r->failures || !r->akavec) {
		cscf_reg_free(r);
		return NULL;
	}
	for (size_t i = 0; i < WIMS_CSCF_REG_LOCKS; i++)
		pthread_mutex_init(&r->locks[i], NULL);
	return r;
}

void cscf_reg_free(struct cscf_reg *r)
{
	if (!r)
		return;
	nonce_tracker_free(r->tracker);
	cscf_akavec_free(r->akavec);
	ratelimit_free(r->failures);
	nonce_key_wipe(&r->key);
	if (r->tracker && r->failures && r->akavec)
		for (size_t i = 0; i < WIMS_CSCF_REG_LOCKS; i++)
			pthread_mutex_destroy(&r->locks[i]);
	free(r);
}

bool cscf_reg_trusted(const struct cscf_reg *r, const char *host)
{
	const char *cur = r->conf.trusted_nodes, *item;
	size_t n;
	size_t hl = strlen(host);
	while ((n = conf_list_next(&cur, &item)) > 0)
		if (n == hl && memcmp(item, host, n) == 0)
			return true;
	return false;
}

bool cscf_reg_tna_refused(const struct cscf_reg *r, const struct sip_msg *m,
			  const struct cscf_src *src)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_auth a;
		const char *reason;
		if (sip_auth_parse(&a, h->value, &reason) != 0)
			continue;
		struct slice ip = a.p[SIP_AUTH_P_INTEGRITY_PROTECTED];
		if (ip.p && slice_ieq_cstr(ip, "auth-done"))
			return !cscf_reg_trusted(r, src->host);
	}
	return false;
}

static pthread_mutex_t *impi_lock(struct cscf_reg *r, const char *impi)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = impi; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return &r->locks[h % WIMS_CSCF_REG_LOCKS];
}

/* --- identities --- */

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int cscf_reg_impu(struct slice uri, char *out, size_t outsz)
{
	struct sip_uri u;
	const char *reason;
	if (sip_uri_parse(&u, uri, &reason) != 0 || u.user.len == 0)
		return WIMS_EPARSE;
	int n;
	if (u.scheme == SIP_URI_TEL) {
		n = snprintf(out, outsz, "tel:%.*s", (int)u.user.len, u.user.p);
	} else {
		if (u.host.len == 0 || u.host_ipv6)
			return WIMS_EPARSE;
		n = snprintf(out, outsz, "%s:%.*s@%.*s", u.scheme == SIP_URI_SIPS ? "sips" : "sip",
			     (int)u.user.len, u.user.p, (int)u.host.len, u.host.p);
		if (n > 0 && (size_t)n < outsz)
			lower(strchr(out, '@'));
	}
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz)
			out[0] = '\0';
		return WIMS_ETOOBIG;
	}
	return 0;
}

/* The URI of a To/From value. */
static int header_uri(const struct sip_msg *m, enum sip_hdr_id id, struct slice *uri)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	struct sip_nameaddr na;
	const char *reason;
	if (!h || sip_nameaddr_parse(&na, h->value, &reason) != 0 || na.star)
		return WIMS_EPARSE;
	*uri = na.uri;
	return 0;
}

/* --- responses --- */

/* Everything a response carries beyond what sip_build_response copies. */
struct reply {
	int status;
	const char *reason;
	struct buf hdrs;
};

static void reply_hdr(struct reply *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_hdr(struct reply *rp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&rp->hdrs, fmt, ap);
	va_end(ap);
	buf_append(&rp->hdrs, "\r\n", 2);
}

static int reply_send(struct reply *rp, const struct sip_msg *m, int64_t now, struct buf *out)
{
	/* RFC 3261 20.17: a registrar's Date lets clients without a clock
	 * learn the time. */
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		reply_hdr(rp, "Date: %s", date);
	/* RFC 3261 8.2.6.2: a To tag in every final response. */
	uint8_t rnd[8];
	char tag[32];
	const char *to_tag = NULL;
	if (RAND_bytes(rnd, sizeof(rnd)) == 1 && sip_tag_format(tag, sizeof(tag), rnd, sizeof(rnd)) > 0)
		to_tag = tag;
	if (rp->hdrs.err) {
		buf_free(&rp->hdrs);
		return rp->hdrs.err;
	}
	struct sip_response_opts o = {
		.to_tag = to_tag,
		.extra_headers = rp->hdrs.len ? buf_cstr(&rp->hdrs) : NULL,
		.server = "wims-cscf",
	};
	int rc = sip_build_response_opts(out, m, rp->status, rp->reason, &o);
	buf_free(&rp->hdrs);
	return rc ? rc : rp->status;
}

static void reply_set(struct reply *rp, int status, const char *reason)
{
	rp->status = status;
	rp->reason = reason;
}

/* A refusal that says why twice: the reason phrase, and a Warning (RFC
 * 3261 20.43, code 399) that a P-CSCF passes on with the response.  The
 * warn-agent is our server name without "sip:". */
static void reply_refuse(const struct cscf_reg *r, struct reply *rp, int status,
			 const char *reason)
{
	const char *agent = r->conf.server_name;
	if (strncmp(agent, "sip:", 4) == 0)
		agent += 4;
	reply_hdr(rp, "Warning: 399 %.*s \"%s\"", (int)strcspn(agent, ";>"), agent, reason);
	reply_set(rp, status, reason);
}

/* A Cx answer that ends the registration, as a status and reason. */
static void reply_cx_error(struct reply *rp, int cx_rc)
{
	if (cx_rc < 0)
		reply_set(rp, 500, "HSS unavailable");
	else if (cx_rc == CX_ERROR_USER_UNKNOWN)
		reply_set(rp, 404, "Unknown user");
	else if (cx_rc == CX_ERROR_IDENTITIES_DONT_MATCH)
		reply_set(rp, 403, "Identities do not match");
	else if (cx_rc == CX_AUTHORIZATION_REJECTED)
		reply_set(rp, 403, "Barred");
	else if (cx_rc == CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED)
		reply_set(rp, 403, "No usable authentication scheme");
	else
		reply_set(rp, 403, "Registration not allowed");
}

/* --- algorithms --- */

const char *cscf_reg_alg_name(enum cscf_reg_alg alg)
{
	if (alg == CSCF_REG_AKAV1_MD5)
		return AKA_V1_MD5_NAME;
	if (alg == CSCF_REG_AKAV2_SHA256)
		return AKA_V2_SHA256_NAME;
	return digest_alg_name((enum digest_alg)alg);
}

int cscf_reg_alg_parse(struct slice name, enum cscf_reg_alg *out)
{
	enum aka_version v;
	enum digest_alg d;
	if (name.p && aka_version_parse(name, &v) == 0) {
		*out = v == AKA_V1_MD5 ? CSCF_REG_AKAV1_MD5 : CSCF_REG_AKAV2_SHA256;
		return 0;
	}
	if (digest_alg_parse(name, &d) != 0)
		return WIMS_EUNSUPPORTED;
	*out = (enum cscf_reg_alg)d;
	return 0;
}

static bool is_aka(enum cscf_reg_alg alg)
{
	return alg == CSCF_REG_AKAV1_MD5 || alg == CSCF_REG_AKAV2_SHA256;
}

static enum aka_version aka_version_of(enum cscf_reg_alg alg)
{
	return alg == CSCF_REG_AKAV1_MD5 ? AKA_V1_MD5 : AKA_V2_SHA256;
}

static enum cx_auth_scheme aka_scheme(enum aka_version v)
{
	return v == AKA_V1_MD5 ? CX_AUTH_AKAV1_MD5 : CX_AUTH_AKAV2_SHA256;
}

/* The Digest hash of an algorithm: AKAv1-MD5 hashes with MD5, AKAv2-SHA-256
 * with SHA-256 (RFC 3310 3.2, RFC 4169 4). */
static enum digest_alg hash_of(enum cscf_reg_alg alg)
{
	if (alg == CSCF_REG_AKAV1_MD5)
		return DIGEST_ALG_MD5;
	if (alg == CSCF_REG_AKAV2_SHA256)
		return DIGEST_ALG_SHA256;
	return (enum digest_alg)alg;
}

static enum cx_auth_scheme cx_scheme(enum digest_alg alg)
{
	return (alg == DIGEST_ALG_SHA256 || alg == DIGEST_ALG_SHA256_SESS) ? CX_AUTH_DIGEST_SHA256
									   : CX_AUTH_DIGEST_MD5;
}

/* --- AKA vectors --- */

static void vec_from_cx(struct cscf_akavec_vec *out, const struct cx_aka_vector *v)
{
	memcpy(out->rand, v->rand, sizeof(out->rand));
	memcpy(out->autn, v->autn, sizeof(out->autn));
	out->xres_len = v->xres_len <= sizeof(out->xres) ? v->xres_len : sizeof(out->xres);
	memcpy(out->xres, v->xres, out->xres_len);
	memcpy(out->ck, v->ck, sizeof(out->ck));
	memcpy(out->ik, v->ik, sizeof(out->ik));
}

/* Keep the vectors of a MAA from index `from` on as spares of impi. */
static void keep_spares(struct cscf_reg *r, const char *impi, enum aka_version v,
			const struct cx_maa_aka *maa, size_t from, int64_t now)
{
	struct cscf_akavec_vec vecs[CX_MAX_AKA_VECTORS];
	size_t n = 0;
	for (size_t i = from; i < maa->n && i < CX_MAX_AKA_VECTORS; i++)
		vec_from_cx(&vecs[n++], &maa->v[i]);
	if (n)
		cscf_akavec_spare_add(r->akavec, impi, v, vecs, n, now);
	OPENSSL_cleanse(vecs, sizeof(vecs));
}

/*
 * One vector to challenge impi with: a spare if there is one, else a MAR
 * for aka_vectors of them, the others kept as spares (one SQN write at the
 * HSS for all of them).  Returns CX_SUCCESS, another Cx result, or a
 * negative WIMS_E*.
 */
static int aka_vector(struct cscf_reg *r, struct cx *cx, const char *impi, const char *impu,
		      enum aka_version v, int64_t now, struct cscf_akavec_vec *out)
{
	if (cscf_akavec_spare_take(r->akavec, impi, v, now, out) == 0)
		return CX_SUCCESS;
	struct cx_maa_aka maa;
	int rc = cx_mar_aka(cx, impi, impu, aka_scheme(v), r->conf.aka_vectors, NULL, &maa);
	if (rc == CX_SUCCESS && (maa.n == 0 || maa.n > CX_MAX_AKA_VECTORS))
		rc = WIMS_EINVAL;
	if (rc == CX_SUCCESS) {
		vec_from_cx(out, &maa.v[0]);
		keep_spares(r, impi, v, &maa, 1, now);
	}
	OPENSSL_cleanse(&maa, sizeof(maa));
	return rc;
}

/* An AKA challenge for impi: a vector recorded as pending and its nonce.
 * Returns CX_SUCCESS, a Cx result, WIMS_ETOOBIG (the pending table is
 * full) or another WIMS_E*. */
static int aka_challenge(struct cscf_reg *r, struct cx *cx, const char *impi, const char *impu,
			 enum aka_version v, int64_t now, char *nonce, size_t noncesz)
{
	struct cscf_akavec_vec vec;
	int rc = aka_vector(r, cx, impi, impu, v, now, &vec);
	if (rc == CX_SUCCESS) {
		int n = aka_nonce_encode(vec.rand, vec.autn, NULL, 0, nonce, noncesz);
		rc = n < 0 ? n : cscf_akavec_put(r->akavec, impi, v, &vec, now);
		if (rc == 0) {
			rc = CX_SUCCESS;
		} else if (rc == WIMS_ETOOBIG) {
			/* Unused, the vector waits as a spare: a flood of
			 * REGISTERs while the table is full does not turn
			 * into a flood of MARs (SQN writes) at the HSS. */
			cscf_akavec_spare_add(r->akavec, impi, v, &vec, 1, now);
			WIMS_WARN(LOG, "%s: %zu AKA challenges pending already, no room for another "
				       "(answered 503)",
				  impi, cscf_akavec_count(r->akavec));
		} else {
			WIMS_ERROR(LOG, "%s: AKA challenge not recorded: %s", impi, wims_strerror(rc));
		}
	}
	OPENSSL_cleanse(&vec, sizeof(vec));
	return rc;
}

/*
 * 401 with one WWW-Authenticate per configured algorithm (RFC 8760 2.4:
 * the preferred first) that the HSS can serve for this user: the Digest
 * ones share one fresh nonce; of the AKA ones only the first served is
 * offered, with a vector of its own (its nonce is RAND||AUTN), as an
 * S-CSCF challenges with the one scheme the HSS gave (TS 29.228 6.3.1).
 * A second AKA challenge would hold a second vector that no answer ever
 * spends: measured, a subscriber allowed both versions filled the pending
 * table within seconds at a few thousand registrations per second.
 * What the HSS serves comes from one lookup (cx_mar_schemes); only AKA
 * needs a MAR here, for its vector.  No algorithm served: the HSS's error
 * decides, or 503 when AKA challenges were refused for want of room.
 */
static void challenge(struct cscf_reg *r, struct cx *cx, const char *impi, const char *impu, bool stale,
		      const char *why, int64_t now, struct reply *rp)
{
	char nonce[NONCE_STR_MAX] = "";
	unsigned served;
	int last = cx_mar_schemes(cx, impi, impu, &served);
	if (last != CX_SUCCESS) {
		reply_cx_error(rp, last);
		return;
	}
	unsigned offered = 0;
	bool full = false, aka_offered = false;
	for (unsigned i = 0; i < r->conf.nalgs; i++) {
		enum cscf_reg_alg alg = r->conf.algs[i];
		char aka_nonce[AKA_NONCE_MAX];
		const char *n = nonce;
		enum cx_auth_scheme scheme = is_aka(alg) ? aka_scheme(aka_version_of(alg))
							 : cx_scheme(hash_of(alg));
		if (!(served & (1u << scheme)) || (is_aka(alg) && aka_offered))
			continue;
		if (is_aka(alg)) {
			last = aka_challenge(r, cx, impi, impu, aka_version_of(alg), now, aka_nonce,
					     sizeof(aka_nonce));
			full |= last == WIMS_ETOOBIG;
			aka_offered = last == CX_SUCCESS;
			n = aka_nonce;
			if (last != CX_SUCCESS)
				continue;
		} else if (!nonce[0]) {
			/* The HSS has the H(A1): nothing to fetch until the answer. */
			uint8_t rnd[NONCE_RAND_LEN];
			if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
			    nonce_make(&r->key, (uint64_t)now, rnd, nonce, sizeof(nonce)) < 0) {
				reply_set(rp, 500, "No randomness");
				return;
			}
		}
		reply_hdr(rp,
			  "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
			  "qop=\"auth\"%s",
			  r->conf.realm, n, cscf_reg_alg_name(alg), stale ? ", stale=true" : "");
		offered++;
	}
	if (offered == 0) {
		if (full) {
			reply_hdr(rp, "Retry-After: 5");
			reply_set(rp, 503, "Too many pending AKA challenges");
		} else {
			/* Served, but none in our list (or its AKA MAR failed). */
			reply_cx_error(rp, last == CX_SUCCESS ? CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED : last);
		}
		return;
	}
	reply_set(rp, 401, why);
}

/* --- Digest --- */

/* The credentials for our realm among the Authorization headers (a UE may
 * send several, one per realm: RFC 3261 22.4). */
static int find_credentials(const struct cscf_reg *r, const struct sip_msg *m,
			    struct sip_auth *out, bool *found, const char **reason)
{
	*found = false;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_auth a;
		if (sip_auth_parse(&a, h->value, reason) != 0)
			return WIMS_EPARSE;
		if (a.scheme != SIP_AUTH_SCHEME_DIGEST || !sip_auth_has(&a, SIP_AUTH_P_REALM))
			continue;
		if (slice_eq_cstr(a.p[SIP_AUTH_P_REALM], r->conf.realm)) {
			*out = a;
			*found = true;
			return 0;
		}
	}
	return 0;
}

static bool alg_offered(const struct cscf_reg *r, enum cscf_reg_alg alg)
{
	for (unsigned i = 0; i < r->conf.nalgs; i++)
		if (r->conf.algs[i] == alg)
			return true;
	return false;
}

/* A parameter's unescaped value into buf (or straight from the header). */
static struct slice param(const struct sip_auth *a, enum sip_auth_param p, char *buf,
			  size_t bufsz)
{
	struct slice v = SLICE_NULL;
	if (sip_auth_value(a, p, buf, bufsz, &v) != 0)
		return SLICE_NULL;
	return v;
}

/* The parameters every Digest answer needs, checked alike for Digest and
 * AKA (RFC 7616 3.4). */
struct answer {
	struct slice nonce, qop, nc_s, cnonce, uri, response;
	uint64_t nc;
	char nbuf[128], ubuf[WIMS_SIP_MAX_TOKEN * 4], cbuf[128], rbuf[128];
};

/*
 * What Digest and Digest AKA answers must have before any secret is
 * looked at: qop=auth (we offer nothing else; without it there is no nc
 * and no replay protection, RFC 7616 3.4), nc, cnonce, response, the
 * Request-URI as uri (3.4.6), and an IMPI not blocked for guessing (past
 * the limit we do not even look).  0 with an filled, or the reply set
 * (401 with a fresh challenge, 400, 403).
 */
static int answer_checks(struct cscf_reg *r, struct cx *cx, const struct sip_msg *m,
			 const struct sip_auth *a, const char *impi, const char *impu, int64_t now,
			 struct answer *an, struct reply *rp)
{
	an->qop = a->p[SIP_AUTH_P_QOP];
	if (!an->qop.p || !slice_eq_cstr(an->qop, "auth")) {
		challenge(r, cx, impi, impu, false, "Unauthorized (qop=auth required)", now, rp);
		return -1;
	}
	an->nc_s = a->p[SIP_AUTH_P_NC];
	an->cnonce = param(a, SIP_AUTH_P_CNONCE, an->cbuf, sizeof(an->cbuf));
	an->uri = param(a, SIP_AUTH_P_URI, an->ubuf, sizeof(an->ubuf));
	an->response = param(a, SIP_AUTH_P_RESPONSE, an->rbuf, sizeof(an->rbuf));
	if (!an->nc_s.p || nonce_nc_parse(an->nc_s, &an->nc) != 0 || an->nc == 0) {
		reply_set(rp, 400, "Bad Digest nc");
		return -1;
	}
	if (!an->cnonce.p || an->cnonce.len == 0 || !an->response.p) {
		reply_set(rp, 400, "Digest without cnonce or response");
		return -1;
	}
	if (!an->uri.p || !slice_eq(an->uri, m->ruri)) {
		reply_set(rp, 400, "Digest uri differs from the Request-URI");
		return -1;
	}
	if (ratelimit_check(r->failures, slice_from_cstr(impi), (uint64_t)now) != 0) {
		WIMS_WARN(LOG, "%s: too many failed authentications, refused unchecked", impi);
		reply_set(rp, 403, "Too many failed attempts");
		return -1;
	}
	return 0;
}

static void reply_rspauth(struct reply *rp, enum digest_alg alg, struct slice ha1,
			  const struct answer *an)
{
	char rspauth[DIGEST_HEX_MAX];
	if (digest_rspauth(alg, ha1, an->nonce, an->nc_s, an->cnonce, an->qop, an->uri, NULL,
			   rspauth) == 0)
		reply_hdr(rp, "Authentication-Info: rspauth=\"%s\", qop=auth, cnonce=\"%.*s\", nc=%.*s",
			  rspauth, (int)an->cnonce.len, an->cnonce.p, (int)an->nc_s.len, an->nc_s.p);
}

/* --- Digest AKA --- */

/*
 * auts (RFC 3310 3.4, TS 33.102 6.3.5): the card found the SQN of our
 * challenge not fresh.  The HSS checks MAC-S and takes the card's SQN
 * (MAR with RAND||AUTS); the spares made with the old SQN go, and the
 * answer is a new challenge.  Only for a challenge we sent this IMPI and
 * still hold, so nobody makes the HSS resync with a RAND of their choice.
 */
static int aka_resync(struct cscf_reg *r, struct cx *cx, const struct sip_auth *a,
		      const char *impi, const char *impu, const uint8_t rand[AKA_RAND_LEN],
		      int64_t now, struct reply *rp)
{
	char abuf[64];
	uint8_t auts[AKA_AUTS_LEN];
	struct slice auts_s = param(a, SIP_AUTH_P_AUTS, abuf, sizeof(abuf));
	if (!auts_s.p || aka_auts_decode(auts_s, auts) != 0) {
		reply_set(rp, 400, "Bad Digest auts");
		return -1;
	}
	struct cscf_akavec_pending p = {.version = AKA_V2_SHA256};
	int rc = cscf_akavec_take(r->akavec, rand, impi, now, &p);
	enum aka_version v = p.version;
	OPENSSL_cleanse(&p, sizeof(p));
	if (rc == WIMS_ESTALE) {
		challenge(r, cx, impi, impu, true, "Unauthorized (stale nonce)", now, rp);
		return -1;
	}
	if (rc != 0) {
		challenge(r, cx, impi, impu, false, "Unauthorized (unknown nonce)", now, rp);
		return -1;
	}
	uint8_t resync[AKA_RAND_LEN + AKA_AUTS_LEN];
	memcpy(resync, rand, AKA_RAND_LEN);
	memcpy(resync + AKA_RAND_LEN, auts, AKA_AUTS_LEN);
	struct cx_maa_aka maa;
	rc = cx_mar_aka(cx, impi, impu, aka_scheme(v), r->conf.aka_vectors, resync, &maa);
	if (rc == CX_AUTHENTICATION_REJECTED) {
		OPENSSL_cleanse(&maa, sizeof(maa));
		bool blocked = ratelimit_fail(r->failures, slice_from_cstr(impi), (uint64_t)now) != 0;
		WIMS_WARN(LOG, "%s: AUTS with a wrong MAC-S: resynchronisation refused%s", impi,
			  blocked ? "; now blocked for the rest of the minute" : "");
		reply_set(rp, 403, "Resynchronisation refused");
		return -1;
	}
	if (rc != CX_SUCCESS || maa.n == 0) {
		OPENSSL_cleanse(&maa, sizeof(maa));
		reply_cx_error(rp, rc == CX_SUCCESS ? WIMS_EINVAL : rc);
		return -1;
	}
	/* The new vectors go in as spares, which challenge() takes first. */
	cscf_akavec_spare_drop(r->akavec, impi);
	keep_spares(r, impi, v, &maa, 0, now);
	OPENSSL_cleanse(&maa, sizeof(maa));
	WIMS_INFO(LOG, "%s: SQN resynchronised from the card's AUTS", impi);
	challenge(r, cx, impi, impu, false, "Unauthorized (resynchronised)", now, rp);
	return -1;
}

/*
 * Check Digest AKA credentials (RFC 3310 3.3, RFC 4169, TS 24.229
 * 5.4.1.2.2): the vector is found by the RAND of the nonce and spent by
 * this answer whatever it is, so a response is checked at most once.
 */
static int verify_aka(struct cscf_reg *r, struct cx *cx, const struct sip_msg *m,
		      const struct sip_auth *a, const char *impi, const char *impu,
		      enum cscf_reg_alg alg, int64_t now, struct reply *rp)
{
	struct answer an;
	enum aka_version v = aka_version_of(alg);
	enum digest_alg hash = hash_of(alg);
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	an.nonce = param(a, SIP_AUTH_P_NONCE, an.nbuf, sizeof(an.nbuf));
	if (!an.nonce.p || aka_nonce_decode(an.nonce, rand, autn) != 0) {
		challenge(r, cx, impi, impu, false, "Unauthorized (unknown nonce)", now, rp);
		return -1;
	}
	if (answer_checks(r, cx, m, a, impi, impu, now, &an, rp) != 0)
		return -1;
	struct slice impi_s = slice_from_cstr(impi);
	if (a->p[SIP_AUTH_P_AUTS].p)
		return aka_resync(r, cx, a, impi, impu, rand, now, rp);

	struct cscf_akavec_pending p;
	int rc = cscf_akavec_take(r->akavec, rand, impi, now, &p);
	if (rc == 0 && CRYPTO_memcmp(p.vec.autn, autn, AKA_AUTN_LEN) != 0)
		rc = WIMS_ENOTFOUND; /* our RAND with an AUTN we did not send */
	if (rc == 0 && an.response.len == 0) {
		/* TS 24.229 5.1.1.5.3: the UE found AUTN's MAC wrong and says
		 * so with an empty response.  The vector is dropped. */
		OPENSSL_cleanse(&p, sizeof(p));
		WIMS_WARN(LOG, "%s: the UE did not accept our AUTN (MAC failure at the card)", impi);
		reply_set(rp, 403, "Network authentication failed at the UE");
		return -1;
	}
	if (rc == 0 && p.version != v) {
		OPENSSL_cleanse(&p, sizeof(p));
		challenge(r, cx, impi, impu, false, "Unauthorized (algorithm differs from the challenge)",
			  now, rp);
		return -1;
	}
	if (rc != 0) {
		OPENSSL_cleanse(&p, sizeof(p));
		/* Never issued, or spent by an earlier answer (a replay): a
		 * fresh challenge, never a 200 (TS 33.203 6.1.2). */
		if (rc == WIMS_ESTALE) {
			challenge(r, cx, impi, impu, true, "Unauthorized (stale nonce)", now, rp);
		} else {
			WIMS_INFO(LOG, "%s: AKA nonce unknown or spent: challenged again", impi);
			challenge(r, cx, impi, impu, false, "Unauthorized (unknown nonce)", now, rp);
		}
		return -1;
	}

	char pw[AKA_PASSWORD_MAX], ha1_hex[DIGEST_HEX_MAX];
	size_t pwlen = 0;
	rc = aka_digest_password(v, p.vec.xres, p.vec.xres_len, p.vec.ik, p.vec.ck, pw, sizeof(pw),
				 &pwlen);
	OPENSSL_cleanse(&p, sizeof(p));
	if (rc == 0)
		rc = digest_ha1(hash, impi_s, slice_from_cstr(r->conf.realm),
				(struct slice){pw, pwlen}, ha1_hex);
	OPENSSL_cleanse(pw, sizeof(pw));
	struct slice ha1 = slice_from_cstr(ha1_hex);
	if (rc == 0)
		rc = digest_verify(hash, ha1, an.nonce, an.nc_s, an.cnonce, an.qop, m->method, an.uri,
				   NULL, an.response);
	if (rc != 0) {
		OPENSSL_cleanse(ha1_hex, sizeof(ha1_hex));
		if (rc != WIMS_EAUTH) {
			reply_set(rp, 500, "Digest computation failed");
			return -1;
		}
		bool blocked = ratelimit_fail(r->failures, impi_s, (uint64_t)now) != 0;
		WIMS_INFO(LOG, "%s: wrong Digest response (%s)%s", impi, cscf_reg_alg_name(alg),
			  blocked ? "; now blocked for the rest of the minute" : "");
		reply_set(rp, 403, "Wrong password");
		return -1;
	}
	ratelimit_reset(r->failures, impi_s);
	reply_rspauth(rp, hash, ha1, &an);
	OPENSSL_cleanse(ha1_hex, sizeof(ha1_hex));
	return 0;
}

/*
 * Check Digest credentials.  Returns 0 when they are good (rp gets the
 * Authentication-Info), else the reply is set (401/403/400/500).
 */
static int verify(struct cscf_reg *r, struct cx *cx, const struct sip_msg *m, const struct sip_auth *a,
		  const char *impi, const char *impu, int64_t now, struct reply *rp)
{
	struct answer an;
	enum cscf_reg_alg ralg;
	if (cscf_reg_alg_parse(a->p[SIP_AUTH_P_ALGORITHM], &ralg) != 0 || !alg_offered(r, ralg)) {
		challenge(r, cx, impi, impu, false, "Unauthorized (algorithm not offered)", now, rp);
		return -1;
	}
	if (is_aka(ralg))
		return verify_aka(r, cx, m, a, impi, impu, ralg, now, rp);
	enum digest_alg alg = hash_of(ralg);
	an.nonce = param(a, SIP_AUTH_P_NONCE, an.nbuf, sizeof(an.nbuf));
	int rc = an.nonce.p ? nonce_check(&r->key, an.nonce, (uint64_t)now, r->conf.nonce_lifetime_s)
			    : WIMS_EAUTH;
	if (rc == WIMS_ESTALE) {
		challenge(r, cx, impi, impu, true, "Unauthorized (stale nonce)", now, rp);
		return -1;
	}
	if (rc != 0) {
		/* Not a nonce of ours (forged, or from before a restart). */
		challenge(r, cx, impi, impu, false, "Unauthorized (unknown nonce)", now, rp);
		return -1;
	}
	if (answer_checks(r, cx, m, a, impi, impu, now, &an, rp) != 0)
		return -1;
	struct slice impi_s = slice_from_cstr(impi);
	struct cx_maa maa;
	rc = cx_mar(cx, impi, impu, cx_scheme(alg), &maa);
	if (rc != CX_SUCCESS) {
		OPENSSL_cleanse(&maa, sizeof(maa));
		reply_cx_error(rp, rc);
		return -1;
	}
	struct slice ha1 = slice_from_cstr(maa.ha1);
	rc = digest_verify(alg, ha1, an.nonce, an.nc_s, an.cnonce, an.qop, m->method, an.uri, NULL,
			   an.response);
	if (rc != 0) {
		OPENSSL_cleanse(&maa, sizeof(maa));
		if (rc != WIMS_EAUTH) {
			reply_set(rp, 500, "Digest computation failed");
			return -1;
		}
		bool blocked = ratelimit_fail(r->failures, impi_s, (uint64_t)now) != 0;
		WIMS_INFO(LOG, "%s: wrong Digest response (%s)%s", impi, digest_alg_name(alg),
			  blocked ? "; now blocked for the rest of the minute" : "");
		reply_set(rp, 403, "Wrong password");
		return -1;
	}
	/* Only now, with a response that proves the password, is the nc
	 * spent (RFC 7616 3.4.5: each nc once per nonce). */
	rc = nonce_nc_check_and_set(r->tracker, an.nonce, an.nc, (uint64_t)now);
	if (rc != 0) {
		OPENSSL_cleanse(&maa, sizeof(maa));
		if (rc == WIMS_EREPLAY) {
			WIMS_WARN(LOG, "%s: nonce count %08llx used again: refused", impi,
				  (unsigned long long)an.nc);
			challenge(r, cx, impi, impu, false, "Unauthorized (replayed nonce count)", now, rp);
		} else {
			challenge(r, cx, impi, impu, true, "Unauthorized (stale nonce)", now, rp);
		}
		return -1;
	}
	ratelimit_reset(r->failures, impi_s);
	reply_rspauth(rp, alg, ha1, &an);
	OPENSSL_cleanse(&maa, sizeof(maa));
	return 0;
}

/* --- bindings --- */

/* The existing bindings of one IMPU, copied out of the store. */
struct bindings {
	unsigned n;
	struct store_binding b[WIMS_REG_MAX_CONTACTS * 2];
	bool evict[WIMS_REG_MAX_CONTACTS * 2]; /* to make room for new ones */
};

static int collect(void *arg, const struct store_binding *b)
{
	struct bindings *bs = arg;
	if (bs->n < WIMS_ARRAY_LEN(bs->b)) {
		bs->evict[bs->n] = false;
		bs->b[bs->n++] = *b;
	}
	return 0;
}

static int count_cb(void *arg, const struct store_binding *b)
{
	WIMS_UNUSED(b);
	(*(int *)arg)++;
	return 0;
}

int cscf_reg_count(struct store *st, const char *impu, int64_t now)
{
	int n = 0;
	int rc = store_binding_list(st, impu, now, count_cb, &n);
	return rc ? rc : n;
}

int cscf_reg_originating(struct store *st, const struct sip_msg *m, const char *domain,
			 int64_t now, char served[WIMS_IMPU_MAX])
{
	int rc = cscf_served_user(m, domain, served, WIMS_IMPU_MAX);
	if (rc) {
		served[0] = '\0';
		return rc;
	}
	return store_binding_live(st, served, now);
}

/* The existing binding a wanted contact updates: the same instance and
 * reg-id (RFC 5626 6: a new flow of one instance replaces the old), else
 * the same Contact URI.  -1 if none. */
static int match(const struct bindings *bs, const struct cscf_contact *c)
{
	for (unsigned i = 0; i < bs->n; i++) {
		const struct store_binding *b = &bs->b[i];
		if (c->instance.len && slice_eq_cstr(c->instance, b->instance_id) &&
		    c->reg_id == b->reg_id)
			return (int)i;
	}
	for (unsigned i = 0; i < bs->n; i++)
		if (slice_eq_cstr(c->uri, bs->b[i].contact))
			return (int)i;
	return -1;
}

/* Every Path value of the request, comma-separated, as received. */
static int path_join(const struct sip_msg *m, char *out, size_t outsz)
{
	size_t n = 0;
	out[0] = '\0';
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PATH); h; h = sip_msg_hdr_next(m, h)) {
		int w = snprintf(out + n, outsz - n, "%s%.*s", n ? ", " : "", (int)h->value.len,
				 h->value.p);
		if (w < 0 || (size_t)w >= outsz - n)
			return WIMS_ETOOBIG;
		n += (size_t)w;
	}
	return 0;
}

/* Does a comma-separated option-tag header carry tag? */
static bool has_option(const struct sip_msg *m, enum sip_hdr_id id, const char *tag)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h)) {
		struct slice rest = h->value, item;
		while (sip_list_next(&rest, &item) == 1)
			if (slice_ieq_cstr(item, tag))
				return true;
	}
	return false;
}

/* RFC 3261 10.3 step 2 / 8.2.2.3: an extension we do not do is 420. */
static bool check_require(const struct sip_msg *m, struct reply *rp)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_REQUIRE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct slice rest = h->value, item;
		while (sip_list_next(&rest, &item) == 1) {
			if (slice_ieq_cstr(item, "path") || slice_ieq_cstr(item, "outbound"))
				continue;
			reply_hdr(rp, "Unsupported: %.*s", (int)item.len, item.p);
			reply_set(rp, 420, "Bad Extension");
			return false;
		}
	}
	return true;
}

/* The response's Contact list: every binding of impu still valid (bs as
 * read by list_contacts). */
static void format_contacts(struct reply *rp, const struct bindings *bs, int64_t now)
{
	for (unsigned i = 0; i < bs->n; i++) {
		const struct store_binding *b = &bs->b[i];
		buf_printf(&rp->hdrs, "Contact: <%s>;expires=%lld", b->contact,
			   (long long)(b->expires - now));
		if (b->instance_id[0])
			buf_printf(&rp->hdrs, ";+sip.instance=\"%s\"", b->instance_id);
		if (b->reg_id)
			buf_printf(&rp->hdrs, ";reg-id=%u", b->reg_id);
		buf_append(&rp->hdrs, "\r\n", 2);
	}
}

/* Read the bindings of impu still valid into bs (none on error). */
static void list_contacts(struct store *st, const char *impu, int64_t now, struct bindings *bs)
{
	bs->n = 0;
	if (store_binding_list(st, impu, now, collect, bs) != 0)
		bs->n = 0;
}

static void reply_contacts(struct reply *rp, struct store *st, const char *impu, int64_t now,
			   struct bindings *bs)
{
	list_contacts(st, impu, now, bs);
	format_contacts(rp, bs, now);
}

static void reply_associated(struct reply *rp, const struct cx_saa *saa)
{
	unsigned k = 0;
	for (size_t i = 0; i < saa->n_impus; i++) {
		/* TS 24.229 5.4.1.2.2: barred IMPUs are not announced. */
		if (saa->impus[i].barred)
			continue;
		buf_printf(&rp->hdrs, "%s<%s>", k++ ? ", " : "P-Associated-URI: ",
			   saa->impus[i].impu);
	}
	if (k)
		buf_append(&rp->hdrs, "\r\n", 2);
}

/* Write the wanted bindings for one IMPU of the set. */
static int write_bindings(struct store *st, const char *target, const struct cscf_contacts *cs,
			  const struct bindings *old, const struct bindings *evict,
			  const struct store_binding *tmpl, int64_t now)
{
	int rc = 0;
	if (cs->star) {
		rc = store_binding_delete_impu(st, target);
		return rc < 0 ? rc : 0;
	}
	for (unsigned i = 0; i < evict->n && !rc; i++) {
		if (!evict->evict[i])
			continue;
		rc = store_binding_delete(st, target, evict->b[i].contact);
		if (rc == WIMS_ENOTFOUND)
			rc = 0;
	}
	struct store_binding *b = malloc(sizeof(*b));
	if (!b)
		return WIMS_ENOMEM;
	for (unsigned i = 0; i < cs->n && !rc; i++) {
		const struct cscf_contact *c = &cs->c[i];
		int k = match(old, c);
		if (c->expires == 0) {
			char uri[WIMS_REG_CONTACT_MAX];
			if (k >= 0)
				snprintf(uri, sizeof(uri), "%s", old->b[k].contact);
			else
				slice_copy_cstr(c->uri, uri, sizeof(uri));
			rc = store_binding_delete(st, target, uri);
			if (rc == WIMS_ENOTFOUND)
				rc = 0;
			continue;
		}
		/* An instance that comes back with a new Contact URI: the old
		 * row goes (the store keys rows by Contact). */
		if (k >= 0 && !slice_eq_cstr(c->uri, old->b[k].contact)) {
			rc = store_binding_delete(st, target, old->b[k].contact);
			if (rc == WIMS_ENOTFOUND)
				rc = 0;
		}
		*b = *tmpl;
		snprintf(b->impu, sizeof(b->impu), "%s", target);
		slice_copy_cstr(c->uri, b->contact, sizeof(b->contact));
		b->instance_id[0] = '\0';
		if (c->instance.len)
			slice_copy_cstr(c->instance, b->instance_id, sizeof(b->instance_id));
		b->reg_id = c->reg_id;
		b->expires = now + (int64_t)c->expires;
		if (!rc)
			rc = store_binding_upsert(st, b);
	}
	free(b);
	return rc;
}

/* RFC 3261 10.3 steps 6-8 for an authenticated REGISTER, under the
 * subscription's lock. */
static void update(struct cscf_reg *r, struct cx *cx, struct store *st, const struct sip_msg *m,
		   const struct cscf_src *src, const char *impi, const char *impu, const char *wwsf,
		   int64_t now, struct reply *rp)
{
	struct cscf_expiry_rules rules = {r->conf.min_expires, r->conf.max_expires,
					  r->conf.default_expires};
	struct cscf_contacts cs;
	const char *why = "Bad Contact";
	int status = cscf_contacts_parse(m, &rules, &cs, &why);
	if (status) {
		if (status == 423)
			reply_hdr(rp, "Min-Expires: %u", r->conf.min_expires);
		reply_set(rp, status, why);
		return;
	}
	struct bindings *old = malloc(sizeof(*old));
	struct bindings *now_bs = malloc(sizeof(*now_bs));
	struct store_binding *tmpl = calloc(1, sizeof(*tmpl));
	struct cx_saa *saa = calloc(1, sizeof(*saa));
	if (!old || !now_bs || !tmpl || !saa) {
		reply_set(rp, 500, "Out of memory");
		goto out;
	}
	memset(old, 0, sizeof(*old));
	if (store_binding_list(st, impu, now, collect, old) != 0) {
		reply_set(rp, 500, "Store error");
		goto out;
	}
	if (!cs.present) {
		/* RFC 3261 10.2.3: no Contact is a query of the bindings. */
		reply_set(rp, 200, "OK");
		reply_contacts(rp, st, impu, now, now_bs);
		goto out;
	}

	/* Step 7: a binding made under this Call-ID changes only with a
	 * higher CSeq (an old request overtaken by a newer one is refused). */
	struct slice callid = sip_msg_hdr(m, SIP_HDR_CALL_ID)->value;
	unsigned remaining = old->n;
	bool touched[WIMS_ARRAY_LEN(old->b)] = {false};
	unsigned added = 0;
	for (unsigned i = 0; i < old->n && cs.star; i++) {
		if (slice_eq_cstr(callid, old->b[i].call_id) && m->cseq <= old->b[i].cseq) {
			reply_set(rp, 400, "CSeq not higher than the binding's");
			goto out;
		}
	}
	if (cs.star)
		remaining = 0;
	for (unsigned i = 0; i < cs.n; i++) {
		int k = match(old, &cs.c[i]);
		if (k >= 0 && slice_eq_cstr(callid, old->b[k].call_id) && m->cseq <= old->b[k].cseq) {
			reply_set(rp, 400, "CSeq not higher than the binding's");
			goto out;
		}
		if (k >= 0 && !touched[k]) {
			touched[k] = true;
			if (cs.c[i].expires == 0)
				remaining--;
		} else if (k < 0 && cs.c[i].expires > 0) {
			added++;
		}
	}
	/* Over WIMS_REG_MAX_CONTACTS the oldest bindings this request does
	 * not mention make room (the list is by expiry): a browser that
	 * reloads gets a new instance and Contact each time, and must not be
	 * locked out until its old ones expire. */
	unsigned total = remaining + added;
	for (unsigned i = 0; i < old->n && total > WIMS_REG_MAX_CONTACTS && !cs.star; i++) {
		if (touched[i])
			continue;
		old->evict[i] = true;
		total--;
	}

	/* The binding as the store keeps it, except Contact and expiry. */
	if (path_join(m, tmpl->path, sizeof(tmpl->path)) != 0 ||
	    slice_copy_cstr(callid, tmpl->call_id, sizeof(tmpl->call_id)) != 0) {
		reply_set(rp, 400, "Path or Call-ID too long");
		goto out;
	}
	tmpl->cseq = m->cseq;
	snprintf(tmpl->received, sizeof(tmpl->received), "%s:%s:%d", src->proto, src->host,
		 src->port);
	/* TR 33.871 REQ 2.2: the WWSF a TNA binding came through, so that a
	 * block of it removes the binding (`wims hss wwsf-block`). */
	snprintf(tmpl->wwsf, sizeof(tmpl->wwsf), "%s", wwsf);

	/* Cx SAR (TS 29.228 6.1.2): who serves the user, and its implicit
	 * registration set, whose IMPUs all get the bindings. */
	bool sar = false;
	if (total > 0 || old->n > 0) {
		enum cx_sar_type type = total == 0   ? CX_SAR_USER_DEREGISTRATION
					: old->n > 0 ? CX_SAR_RE_REGISTRATION
						     : CX_SAR_REGISTRATION;
		int rc = cx_sar(cx, impi, impu, type, r->conf.server_name, saa);
		if (rc != CX_SUCCESS) {
			reply_cx_error(rp, rc);
			goto out;
		}
		sar = true;
		if (total > 0 && saa->n_impus > 0 && saa->impus[0].barred) {
			reply_set(rp, 403, "Barred public identity");
			goto out;
		}
	}
	int rc = store_begin(st);
	/* A block committed since tna_authorize read the list also removed
	 * this WWSF's bindings (`wims hss wwsf-block`): asked again under
	 * the write lock, so that no binding through it comes back. */
	if (!rc && wwsf[0] && total > 0 && store_wwsf_blocked(st, wwsf)) {
		store_rollback(st);
		WIMS_WARN(LOG, "REGISTER %s (%s) for WWSF %s: blocked meanwhile: 403", impu, impi,
			  wwsf);
		reply_refuse(r, rp, 403, "WWSF blocked");
		goto out;
	}
	if (sar) {
		for (size_t i = 0; i < saa->n_impus && !rc; i++) {
			/* The requested IMPU is written even if the set lists it
			 * barred (then total is 0: a removal). */
			if (saa->impus[i].barred && strcmp(saa->impus[i].impu, impu) != 0)
				continue;
			struct bindings *o = old;
			if (strcmp(saa->impus[i].impu, impu) != 0) {
				/* Another IMPU of the set: its own rows decide
				 * what an update matches. */
				o = now_bs;
				o->n = 0;
				rc = store_binding_list(st, saa->impus[i].impu, now, collect, o);
			}
			if (!rc)
				rc = write_bindings(st, saa->impus[i].impu, &cs, o, old, tmpl, now);
		}
	} else if (!rc) {
		rc = write_bindings(st, impu, &cs, old, old, tmpl, now);
	}
	/* The Contacts of the answer, read in the same transaction as the
	 * writes (what it commits, without a read transaction of its own). */
	if (rc == 0)
		list_contacts(st, impu, now, now_bs);
	if (rc == 0)
		rc = store_commit(st);
	else
		store_rollback(st);
	if (rc) {
		WIMS_ERROR(LOG, "%s: bindings not stored: %s", impu, wims_strerror(rc));
		reply_set(rp, 500, "Store error");
		goto out;
	}

	reply_set(rp, 200, "OK");
	format_contacts(rp, now_bs, now);
	if (total > 0) {
		/* RFC 3327 5.3: the Path the P-CSCF inserted, back to the UE. */
		for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PATH); h;
		     h = sip_msg_hdr_next(m, h))
			reply_hdr(rp, "Path: %.*s", (int)h->value.len, h->value.p);
		/* RFC 3608: originating requests come back through us. */
		reply_hdr(rp, "Service-Route: %s", r->conf.service_route);
		reply_associated(rp, saa);
		/* RFC 5626 6: a reg-id accepted means outbound is in use. */
		bool reg_id = false;
		for (unsigned i = 0; i < cs.n; i++)
			reg_id |= cs.c[i].reg_id != 0;
		if (reg_id && has_option(m, SIP_HDR_SUPPORTED, "outbound"))
			reply_hdr(rp, "Require: outbound");
		WIMS_INFO(LOG, "%s registered (%u contacts) via %s", impu, now_bs->n, tmpl->received);
	} else if (sar) {
		WIMS_INFO(LOG, "%s de-registered", impu);
	}
out:
	free(old);
	free(now_bs);
	free(tmpl);
	free(saa);
}

/* --- trusted node authentication (TR 33.871 6.1.2.2 step 4, 6.1.3) --- */

/* A WWSF identity as P-WWSF-Identity carries it: its OAuth client_id,
 * printable, no spaces, quotes, commas, ';' or <> (as `wims hss` takes
 * it), shorter than WIMS_WWSF_ID_MAX. */
static bool wwsf_id_ok(struct slice v)
{
	if (v.len == 0 || v.len >= WIMS_WWSF_ID_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || c == ';' || c == '<' ||
		    c == '>')
			return false;
	}
	return true;
}

/*
 * A REGISTER a trusted node vouches for: it names the WWSF (REQ 2.3),
 * which the HSS checks against the subscription's allowed WWSFs, the
 * pool owner and the block list (REQ 2.1, 2.2, 3.2), read from the store
 * for every registration and re-registration.  0 when authorized (wwsf
 * then names the WWSF, for the bindings), else the refusal is set.  Every
 * outcome is logged with the WWSF.
 */
static int tna_authorize(struct cscf_reg *r, struct cx *cx, const struct sip_msg *m,
			 const struct cscf_src *src, const char *impi, const char *impu,
			 char wwsf[WIMS_WWSF_ID_MAX], struct reply *rp)
{
	const struct sip_hdr *wh = NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (cscf_hdr_is_wwsf_identity(&m->hdrs[i]) && n++ == 0)
			wh = &m->hdrs[i];
	if (n == 0) {
		WIMS_WARN(LOG, "REGISTER %s (%s) by trusted node %s without P-WWSF-Identity: 403",
			  impu, impi, src->host);
		reply_refuse(r, rp, 403, "WWSF identity missing");
		return -1;
	}
	if (n > 1 || !wwsf_id_ok(wh->value)) {
		WIMS_WARN(LOG, "REGISTER %s (%s) by trusted node %s: %s P-WWSF-Identity: 403", impu,
			  impi, src->host, n > 1 ? "more than one" : "malformed");
		reply_refuse(r, rp, 403, n > 1 ? "More than one WWSF identity" : "Bad WWSF identity");
		return -1;
	}
	slice_copy_cstr(wh->value, wwsf, WIMS_WWSF_ID_MAX);
	const char *why = "";
	int rc = cx_tna_authorize(cx, impi, impu, wwsf, &why);
	if (rc == CX_SUCCESS) {
		WIMS_INFO(LOG, "REGISTER %s (%s) by trusted node %s for WWSF %s: authorized", impu,
			  impi, src->host, wwsf);
		return 0;
	}
	WIMS_WARN(LOG, "REGISTER %s (%s) by trusted node %s for WWSF %s: refused, %s (%s)", impu,
		  impi, src->host, wwsf, why, cx_result_name(rc));
	if (rc < 0)
		reply_refuse(r, rp, 500, "HSS unavailable");
	else
		reply_refuse(r, rp, 403, why);
	return -1;
}

/* --- the REGISTER procedure --- */

int cscf_reg_register(struct cscf_reg *r, const struct cscf_reg_io *io, const struct sip_msg *m,
		      const struct cscf_src *src, int64_t now, struct buf *out)
{
	struct cx *cx = io->cx;
	struct reply rp = {.status = 500, .reason = "Server Internal Error", .hdrs = BUF_INIT};
	struct sip_uri ruri;
	const char *reason = "Bad Request-URI";
	char impu[WIMS_IMPU_MAX], impi[WIMS_IMPI_MAX];
	struct slice to_uri;

	if (cscf_reg_tna_refused(r, m, src)) {
		WIMS_WARN(LOG, "REGISTER with integrity-protected=\"auth-done\" from %s, not a "
			       "trusted node: 403",
			  src->host);
		reply_refuse(r, &rp, 403, "Trusted node authentication from an untrusted node");
		goto send;
	}
	/* Step 1: bindings of our domain only; we relay no one's REGISTER. */
	if (sip_uri_parse(&ruri, m->ruri, &reason) != 0 || ruri.scheme == SIP_URI_TEL) {
		reply_set(&rp, 400, reason);
		goto send;
	}
	if (!slice_ieq_cstr(ruri.host, r->conf.domain)) {
		reply_set(&rp, 403, "Not our domain");
		goto send;
	}
	if (!check_require(m, &rp))
		goto send;
	/* Step 5 (early: every later step needs the IMPU). */
	if (header_uri(m, SIP_HDR_TO, &to_uri) != 0) {
		reply_set(&rp, 400, "Bad To");
		goto send;
	}
	int rc = cscf_reg_impu(to_uri, impu, sizeof(impu));
	if (rc) {
		reply_set(&rp, rc == WIMS_ETOOBIG ? 403 : 400,
			  rc == WIMS_ETOOBIG ? "Public identity too long" : "Bad public identity in To");
		goto send;
	}

	struct sip_auth cred;
	bool have_cred = false;
	if (find_credentials(r, m, &cred, &have_cred, &reason) != 0) {
		reply_set(&rp, 400, reason);
		goto send;
	}
	/* TS 24.229 5.4.1.2.1: the IMPI is the username of the credentials,
	 * else derived from the IMPU (TS 33.203 Annex N). */
	if (have_cred) {
		char ubuf[WIMS_IMPI_MAX];
		struct slice user = param(&cred, SIP_AUTH_P_USERNAME, ubuf, sizeof(ubuf));
		if (!user.p || user.len == 0 || slice_copy_cstr(user, impi, sizeof(impi)) != 0) {
			reply_set(&rp, 400, "Bad Digest username");
			goto send;
		}
	} else if (digest_impi_from_impu(to_uri, impi, sizeof(impi)) <= 0) {
		reply_set(&rp, 403, "No private identity derivable from To");
		goto send;
	}

	/* I-CSCF: may this user register, and where (TS 29.228 6.1.1)? */
	struct cx_uaa uaa;
	rc = cx_uar(cx, impi, impu, NULL, CX_UAR_REGISTRATION, &uaa);
	if (rc != CX_FIRST_REGISTRATION && rc != CX_SUBSEQUENT_REGISTRATION) {
		reply_cx_error(&rp, rc);
		WIMS_INFO(LOG, "REGISTER %s (%s): UAR %s", impu, impi, cx_result_name(rc));
		goto send;
	}

	/* TS 24.229 5.4.1.2.2A / TS 33.203 Annex X: trusted node
	 * authentication is believed from trusted nodes only (checked on
	 * entry); from them, the credentials need no Digest check, but the
	 * WWSF behind them must be one the HSS allows (TR 33.871). */
	bool authenticated = false;
	if (have_cred) {
		struct slice ip = cred.p[SIP_AUTH_P_INTEGRITY_PROTECTED];
		authenticated = ip.p && slice_ieq_cstr(ip, "auth-done");
	}
	char wwsf[WIMS_WWSF_ID_MAX] = "";
	if (authenticated && tna_authorize(r, cx, m, src, impi, impu, wwsf, &rp) != 0)
		goto send;
	if (!authenticated) {
		if (!have_cred) {
			challenge(r, cx, impi, impu, false, "Unauthorized", now, &rp);
			goto send;
		}
		if (verify(r, cx, m, &cred, impi, impu, now, &rp) != 0)
			goto send;
	}

	pthread_mutex_t *lock = impi_lock(r, impi);
	pthread_mutex_lock(lock);
	update(r, io->cx, io->st, m, src, impi, impu, wwsf, now, &rp);
	pthread_mutex_unlock(lock);
send:
	return reply_send(&rp, m, now, out);
}

/* --- expiry --- */

struct served {
	const char *server_name;
	size_t n, cap;
	char (*impi)[WIMS_IMPI_MAX];
};

static int served_cb(void *arg, const struct store_subscriber *sub)
{
	struct served *s = arg;
	if (strcmp(sub->scscf_name, s->server_name) != 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *p = realloc(s->impi, cap * sizeof(*s->impi));
		if (!p)
			return WIMS_ENOMEM;
		s->impi = p;
		s->cap = cap;
	}
	snprintf(s->impi[s->n++], WIMS_IMPI_MAX, "%s", sub->impi);
	return 0;
}

struct impu_walk {
	struct store *st;
	int64_t now;
	int bindings;
	char first[WIMS_IMPU_MAX];
};

static int impu_cb(void *arg, const struct store_impu *u)
{
	struct impu_walk *w = arg;
	if (!w->first[0])
		snprintf(w->first, sizeof(w->first), "%s", u->impu);
	int n = cscf_reg_count(w->st, u->impu, w->now);
	if (n > 0)
		w->bindings += n;
	return 0;
}

void cscf_reg_bindings_removed(struct cscf_reg *r)
{
	atomic_store(&r->removed_elsewhere, true);
}

int cscf_reg_purge(struct cscf_reg *r, const struct cscf_reg_io *io, int64_t now)
{
	struct store *st = io->st;
	struct cx *cx = io->cx;
	int removed = store_binding_expire(st, now);
	bool elsewhere = atomic_exchange(&r->removed_elsewhere, false);
	if (removed < 0 || (removed == 0 && !elsewhere))
		return removed;
	/* Which of our subscriptions has no binding left?  The HSS is told,
	 * so that it no longer names us for them (TS 29.228 6.1.2). */
	struct served s = {.server_name = r->conf.server_name};
	int rc = store_subscriber_list(st, served_cb, &s);
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		pthread_mutex_t *lock = impi_lock(r, s.impi[i]);
		pthread_mutex_lock(lock);
		struct impu_walk w = {.st = st, .now = now};
		rc = store_impu_list(st, s.impi[i], impu_cb, &w);
		if (rc == 0 && w.bindings == 0 && w.first[0]) {
			struct cx_saa *saa = malloc(sizeof(*saa));
			int sr = saa ? cx_sar(cx, s.impi[i], w.first, CX_SAR_TIMEOUT_DEREGISTRATION,
					      r->conf.server_name, saa)
				     : WIMS_ENOMEM;
			free(saa);
			WIMS_INFO(LOG, "%s: registration expired (SAR %s)", s.impi[i],
				  cx_result_name(sr));
		}
		pthread_mutex_unlock(lock);
	}
	free(s.impi);
	return rc ? rc : removed;
}
