/*
 * cx.c - the Cx commands (TS 29.228 6.1, 6.3) answered from the store.
 *
 * The HSS keeps, per IMPI, the S-CSCF that serves it (stored by SAR); an
 * IMPI with a stored S-CSCF name is "registered" for UAR and LIR.  This is
 * the TS 29.228 model reduced to one S-CSCF name per IMPI, which is all a
 * single home network with one S-CSCF needs; every implicit set of the
 * IMPI shares it.
 *
 * One mutex per struct cx: callers on several threads may share it.
 *
 * Cache: what UAR, MAR, SAR and LIR read for an IMPU (its row, its IMPI's
 * subscription with the H(A1)s, its implicit set) is kept per struct cx,
 * stamped with the store's HSS data version (store_hss_version: bumped by
 * triggers on every change of a subscriber or impu row, whoever makes it).
 * Each use reads that version first -- one indexed read instead of three
 * to five -- and an entry of another version is read again, so a password
 * or barring changed by `wims hss passwd` in another process applies to
 * the very next request: the cache never answers from stale data.
 *
 * AKA (cx_mar_aka): the AKA row (K, OPc, AMF, SQN, IND) is never cached:
 * its SQN changes with every MAR.  The SQNs of a MAR's vectors are
 * reserved in the store (store_aka_take, one write transaction, so
 * workers and processes never share one) and the vectors made from the
 * row read in that transaction, by libosmogsm: the network side of AKA is
 * not ours, so that the unit tests pair two implementations (auth/aka.c
 * is the card side).
 */
#include "hss/cx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <osmocom/crypt/auth.h>

#include "auth/aka.h"
#include "core/global.h"
#include "core/log.h"
#include "core/wims.h"
#include "hss/hss_int.h"
#include "store/store.h"

/* One IMPU as the Cx commands need it. */
struct cx_entry {
	bool valid;
	int64_t version; /* the HSS data version it was read at */
	struct store_impu u;
	struct store_subscriber sub; /* u.impi's; holds H(A1)s: cleansed when dropped */
	size_t n_irs, unbarred;      /* the set, in store order, truncated at n_irs */
	struct cx_impu_info irs[WIMS_IRS_MAX_IMPUS];
};

struct cx {
	pthread_mutex_t lock;
	struct store *st;
	struct cx_entry *cache[WIMS_HSS_CACHE_SLOTS];
};

const char *cx_result_name(int result)
{
	switch (result) {
	case 2001:
		return "DIAMETER_SUCCESS/FIRST_REGISTRATION";
	case 4001:
		return "DIAMETER_AUTHENTICATION_REJECTED";
	case 2002:
		return "DIAMETER_SUBSEQUENT_REGISTRATION";
	case 2003:
		return "DIAMETER_UNREGISTERED_SERVICE";
	case 2004:
		return "DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED";
	case 5001:
		return "DIAMETER_ERROR_USER_UNKNOWN";
	case 5002:
		return "DIAMETER_ERROR_IDENTITIES_DONT_MATCH";
	case 5003:
		return "DIAMETER_AUTHORIZATION_REJECTED/IDENTITY_NOT_REGISTERED";
	case 5004:
		return "DIAMETER_ERROR_ROAMING_NOT_ALLOWED";
	case 5005:
		return "DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED";
	case 5006:
		return "DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED";
	case 5007:
		return "DIAMETER_ERROR_IN_ASSIGNMENT_TYPE";
	case 5012:
		return "DIAMETER_UNABLE_TO_COMPLY";
	default:
		return result < 0 ? wims_strerror(result) : "?";
	}
}

int cx_default_store_path(char *out, size_t outsz)
{
	int n = hss_conf.db[0] ? snprintf(out, outsz, "%s", hss_conf.db)
			       : snprintf(out, outsz, "%s/hss.db", wims_global.data_dir);
	return (n < 0 || (size_t)n >= outsz) ? WIMS_ETOOBIG : 0;
}

struct cx *cx_open(const char *store_path, char *err, size_t errsz)
{
	char def[sizeof(hss_conf.db) + 16];
	if (!store_path) {
		if (cx_default_store_path(def, sizeof(def))) {
			snprintf(err, errsz, "hss store path too long");
			return NULL;
		}
		store_path = def;
	}
	struct cx *cx = calloc(1, sizeof(*cx));
	if (!cx) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (store_open(store_path, &cx->st, err, errsz)) {
		free(cx);
		return NULL;
	}
	pthread_mutex_init(&cx->lock, NULL);
	return cx;
}

void cx_close(struct cx *cx)
{
	if (!cx)
		return;
	store_close(cx->st);
	for (size_t i = 0; i < WIMS_HSS_CACHE_SLOTS; i++) {
		if (cx->cache[i])
			OPENSSL_cleanse(cx->cache[i], sizeof(*cx->cache[i]));
		free(cx->cache[i]);
	}
	pthread_mutex_destroy(&cx->lock);
	free(cx);
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* A store error as the negative code callers treat as "HSS unavailable";
 * "not found" as the Cx answer. */
static int lookup_result(int rc)
{
	return rc == WIMS_ENOTFOUND ? CX_ERROR_USER_UNKNOWN : rc;
}

/*
 * The identities of a request: the IMPU's row and its IMPI's subscription.
 * With impi given, both must exist and the IMPU must belong to it (TS
 * 29.228 6.1.1.1 steps 1-2).  Returns 0 or the Cx result / WIMS_E*.
 */
static int identities(struct cx *cx, const char *impi, const char *impu, struct store_impu *u,
		      struct store_subscriber *sub)
{
	int rc;
	if (empty(impu)) {
		if (empty(impi))
			return WIMS_EINVAL;
		memset(u, 0, sizeof(*u));
	} else if ((rc = store_impu_get(cx->st, impu, u))) {
		return lookup_result(rc);
	}
	const char *owner = empty(impi) ? u->impi : impi;
	if ((rc = store_subscriber_get(cx->st, owner, sub)))
		return lookup_result(rc);
	if (!empty(impu) && strcmp(u->impi, sub->impi) != 0)
		return CX_ERROR_IDENTITIES_DONT_MATCH;
	return 0;
}

struct irs_walk {
	struct cx_impu_info *impus;
	size_t n, max;
	const char *first;
	size_t unbarred;
};

static int irs_collect(void *arg, const struct store_impu *u)
{
	struct irs_walk *w = arg;
	if (!u->barred)
		w->unbarred++;
	if (w->n >= w->max)
		return 0; /* the set is truncated, the count above is not */
	struct cx_impu_info *i = &w->impus[w->n];
	snprintf(i->impu, sizeof(i->impu), "%s", u->impu);
	i->barred = u->barred;
	/* The requested IMPU first: it becomes the first P-Associated-URI. */
	if (w->first && strcmp(u->impu, w->first) == 0 && w->n > 0) {
		struct cx_impu_info tmp = w->impus[0];
		w->impus[0] = *i;
		*i = tmp;
	}
	w->n++;
	return 0;
}

/*
 * The entry of impu, read again from the store unless it is of the
 * current HSS data version.  Under cx->lock.  0 with *out, else the Cx
 * result (unknown IMPU or IMPI) or WIMS_E* (nothing is cached then).
 */
static int cache_get(struct cx *cx, const char *impu, struct cx_entry **out)
{
	int64_t version;
	int rc = store_hss_version(cx->st, &version);
	if (rc)
		return rc;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = impu; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	struct cx_entry **slot = &cx->cache[h % WIMS_HSS_CACHE_SLOTS];
	struct cx_entry *e = *slot;
	if (e && e->valid && e->version == version && strcmp(e->u.impu, impu) == 0) {
		*out = e;
		return 0;
	}
	if (!e && !(e = *slot = calloc(1, sizeof(*e))))
		return WIMS_ENOMEM;
	e->valid = false;
	OPENSSL_cleanse(&e->sub, sizeof(e->sub));
	/* A commit between the version read and these reads leaves the entry
	 * stamped with the older version: the next use reads it again. */
	if ((rc = store_impu_get(cx->st, impu, &e->u)))
		return lookup_result(rc);
	if ((rc = store_subscriber_get(cx->st, e->u.impi, &e->sub)))
		return lookup_result(rc);
	struct irs_walk w = {e->irs, 0, WIMS_IRS_MAX_IMPUS, NULL, 0};
	if ((rc = store_irs_list(cx->st, impu, irs_collect, &w))) {
		OPENSSL_cleanse(&e->sub, sizeof(e->sub));
		return rc;
	}
	e->n_irs = w.n;
	e->unbarred = w.unbarred;
	e->version = version;
	e->valid = true;
	*out = e;
	return 0;
}

/*
 * identities() through the cache: the IMPU's entry, and with impi given
 * the IMPU must be that IMPI's (unknown IMPI: 5001 before 5002, as the
 * store lookups order them).  impu must not be empty.
 */
static int identities_cached(struct cx *cx, const char *impi, const char *impu,
			     struct cx_entry **out)
{
	int rc = cache_get(cx, impu, out);
	if (rc || empty(impi) || strcmp((*out)->sub.impi, impi) == 0)
		return rc;
	struct store_subscriber other;
	rc = store_subscriber_get(cx->st, impi, &other);
	OPENSSL_cleanse(&other, sizeof(other));
	return rc ? lookup_result(rc) : CX_ERROR_IDENTITIES_DONT_MATCH;
}

int cx_uar(struct cx *cx, const char *impi, const char *impu, const char *visited_network,
	   enum cx_uar_type type, struct cx_uaa *out)
{
	WIMS_UNUSED(visited_network);
	memset(out, 0, sizeof(*out));
	if (empty(impu))
		return WIMS_EINVAL;
	if (type != CX_UAR_REGISTRATION && type != CX_UAR_DE_REGISTRATION &&
	    type != CX_UAR_REGISTRATION_AND_CAPABILITIES)
		return WIMS_EINVAL;
	struct cx_entry *e;
	pthread_mutex_lock(&cx->lock);
	int rc = identities_cached(cx, impi, impu, &e);
	if (rc)
		goto out;
	/* TS 29.228 6.1.1.1: a barred IMPI, or a set whose IMPUs are all
	 * barred, may not register. */
	const struct store_subscriber *sub = &e->sub;
	if (sub->barred || (e->unbarred == 0 && type != CX_UAR_DE_REGISTRATION)) {
		rc = CX_AUTHORIZATION_REJECTED;
		goto out;
	}
	snprintf(out->server_name, sizeof(out->server_name), "%s", sub->scscf_name);
	if (type == CX_UAR_DE_REGISTRATION)
		rc = sub->scscf_name[0] ? CX_SUCCESS : CX_ERROR_IDENTITY_NOT_REGISTERED;
	else
		rc = sub->scscf_name[0] ? CX_SUBSEQUENT_REGISTRATION : CX_FIRST_REGISTRATION;
out:
	pthread_mutex_unlock(&cx->lock);
	return rc;
}

/* The subscription a MAR is for (under cx->lock): with an IMPU through
 * the cache, the IMPI alone (BSF) from the store.  0 or the Cx result /
 * WIMS_E*; *sub holds H(A1)s: the caller cleanses it. */
static int mar_subscriber(struct cx *cx, const char *impi, const char *impu,
			  struct store_subscriber *sub)
{
	int rc;
	if (empty(impu)) {
		struct store_impu u;
		rc = identities(cx, impi, impu, &u, sub);
	} else {
		struct cx_entry *e;
		rc = identities_cached(cx, impi, impu, &e);
		if (!rc)
			*sub = e->sub;
	}
	if (rc)
		memset(sub, 0, sizeof(*sub));
	return rc;
}

int cx_mar_schemes(struct cx *cx, const char *impi, const char *impu, unsigned *served)
{
	*served = 0;
	if (empty(impi))
		return WIMS_EINVAL;
	struct store_subscriber sub;
	pthread_mutex_lock(&cx->lock);
	int rc = mar_subscriber(cx, impi, impu, &sub);
	pthread_mutex_unlock(&cx->lock);
	if (!rc && sub.barred)
		rc = CX_AUTHORIZATION_REJECTED;
	if (!rc) {
		if ((sub.schemes & STORE_SCHEME_DIGEST) && sub.ha1_md5[0])
			*served |= 1u << CX_AUTH_DIGEST_MD5;
		if ((sub.schemes & STORE_SCHEME_DIGEST) && sub.ha1_sha256[0])
			*served |= 1u << CX_AUTH_DIGEST_SHA256;
		if (sub.schemes & STORE_SCHEME_AKAV1)
			*served |= 1u << CX_AUTH_AKAV1_MD5;
		if (sub.schemes & STORE_SCHEME_AKAV2)
			*served |= 1u << CX_AUTH_AKAV2_SHA256;
		rc = *served ? CX_SUCCESS : CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED;
	}
	OPENSSL_cleanse(&sub, sizeof(sub));
	return rc;
}

int cx_mar(struct cx *cx, const char *impi, const char *impu, enum cx_auth_scheme scheme,
	   struct cx_maa *out)
{
	memset(out, 0, sizeof(*out));
	if (empty(impi))
		return WIMS_EINVAL;
	struct store_subscriber sub;
	pthread_mutex_lock(&cx->lock);
	int rc = mar_subscriber(cx, impi, impu, &sub);
	pthread_mutex_unlock(&cx->lock);
	if (rc)
		goto out;
	if (sub.barred) {
		rc = CX_AUTHORIZATION_REJECTED;
		goto out;
	}
	if (!(sub.schemes & STORE_SCHEME_DIGEST)) {
		rc = CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED;
		goto out;
	}
	const char *ha1;
	enum digest_alg alg;
	switch (scheme) {
	case CX_AUTH_DIGEST_MD5:
		alg = DIGEST_ALG_MD5;
		ha1 = sub.ha1_md5;
		break;
	case CX_AUTH_DIGEST_SHA256:
		alg = DIGEST_ALG_SHA256;
		ha1 = sub.ha1_sha256;
		break;
	case CX_AUTH_UNKNOWN:
		/* RFC 8760: the stronger hash when the UE did not say. */
		alg = sub.ha1_sha256[0] ? DIGEST_ALG_SHA256 : DIGEST_ALG_MD5;
		ha1 = sub.ha1_sha256[0] ? sub.ha1_sha256 : sub.ha1_md5;
		break;
	default:
		rc = CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED;
		goto out;
	}
	if (!ha1[0]) {
		rc = CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED; /* no password set */
		goto out;
	}
	snprintf(out->impi, sizeof(out->impi), "%s", sub.impi);
	out->scheme = alg == DIGEST_ALG_SHA256 ? CX_AUTH_DIGEST_SHA256 : CX_AUTH_DIGEST_MD5;
	snprintf(out->realm, sizeof(out->realm), "%s", sub.realm);
	out->alg = alg;
	snprintf(out->algorithm, sizeof(out->algorithm), "%s", digest_alg_name(alg));
	snprintf(out->qop, sizeof(out->qop), "auth");
	snprintf(out->ha1, sizeof(out->ha1), "%s", ha1);
	rc = CX_SUCCESS;
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	return rc;
}

/* --- Digest AKA --- */

/* libosmogsm's view of a subscriber's AKA data. */
static void aud_init(struct osmo_sub_auth_data *aud, const struct store_aka *a)
{
	memset(aud, 0, sizeof(*aud));
	aud->type = OSMO_AUTH_TYPE_UMTS;
	aud->algo = OSMO_AUTH_ALG_MILENAGE;
	memcpy(aud->u.umts.k, a->k, sizeof(a->k));
	memcpy(aud->u.umts.opc, a->opc, sizeof(a->opc));
	aud->u.umts.opc_is_op = 0;
	memcpy(aud->u.umts.amf, a->amf, sizeof(a->amf));
	aud->u.umts.sqn = a->sqn;
	aud->u.umts.ind_bitlen = AKA_IND_BITS;
	aud->u.umts.ind = a->ind;
}

/*
 * Resynchronisation (TS 33.102 6.3.5): check AUTS's MAC-S and learn
 * SQN_MS from it; the HSS keeps its SQN when the next one it makes would
 * already be fresh for the card (above SQN_MS and within DELTA), else
 * takes SQN_MS, so that a replayed old AUTS cannot pull the SQN back.
 * Under the caller's write transaction.  0, CX_AUTHENTICATION_REJECTED,
 * CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED (no AKA data) or WIMS_E*.
 */
static int aka_resync(struct cx *cx, const char *impi, const uint8_t *resync)
{
	struct store_aka a;
	int rc = store_aka_get(cx->st, impi, &a);
	if (rc)
		return rc == WIMS_ENOTFOUND ? CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED : rc;
	struct osmo_sub_auth_data aud;
	struct osmo_auth_vector vec;
	uint8_t rand[AKA_RAND_LEN];
	aud_init(&aud, &a);
	if (RAND_bytes(rand, sizeof(rand)) != 1) {
		rc = WIMS_EIO;
		goto out;
	}
	/* resync = RAND (of the challenge the card refused) || AUTS */
	if (osmo_auth_gen_vec_auts(&vec, &aud, resync + AKA_RAND_LEN, resync, rand) < 0) {
		WIMS_INFO("hss", "MAR %s: AUTS refused (MAC-S wrong)", impi);
		rc = CX_AUTHENTICATION_REJECTED;
		goto out;
	}
	uint64_t sqn_ms = aud.u.umts.sqn_ms & AKA_SQN_MAX;
	uint64_t seq_next = (a.sqn >> AKA_IND_BITS) + 1, seq_ms = sqn_ms >> AKA_IND_BITS;
	if (seq_next > seq_ms && seq_next - seq_ms <= AKA_SQN_DELTA) {
		WIMS_INFO("hss", "MAR %s: resync, SQN_MS %llu behind ours %llu: kept", impi,
			  (unsigned long long)sqn_ms, (unsigned long long)a.sqn);
		rc = 0;
	} else {
		WIMS_INFO("hss", "MAR %s: resync, SQN %llu -> SQN_MS %llu", impi,
			  (unsigned long long)a.sqn, (unsigned long long)sqn_ms);
		rc = store_aka_set_sqn(cx->st, impi, sqn_ms);
	}
out:
	OPENSSL_cleanse(&a, sizeof(a));
	OPENSSL_cleanse(&aud, sizeof(aud));
	OPENSSL_cleanse(&vec, sizeof(vec));
	return rc;
}

/* Reserve n SQNs and make the vectors at them.  Under the caller's write
 * transaction. */
static int aka_vectors(struct cx *cx, const char *impi, unsigned n, struct cx_maa_aka *out)
{
	struct store_aka a;
	int rc = store_aka_take(cx->st, impi, n, &a);
	if (rc)
		return rc == WIMS_ENOTFOUND ? CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED : rc;
	struct osmo_sub_auth_data aud;
	struct osmo_auth_vector vec;
	aud_init(&aud, &a);
	for (unsigned i = 0; i < n && !rc; i++) {
		struct cx_aka_vector *v = &out->v[i];
		aud.u.umts.ind = (a.ind + i) % AKA_IND_SLOTS;
		uint64_t want = store_aka_sqn_next(aud.u.umts.sqn, aud.u.umts.ind);
		if (RAND_bytes(v->rand, sizeof(v->rand)) != 1) {
			rc = WIMS_EIO;
			break;
		}
		if (osmo_auth_gen_vec(&vec, &aud, v->rand) < 0 || aud.u.umts.sqn != want ||
		    vec.res_len > sizeof(v->xres)) {
			/* Never hand out a SQN the store did not reserve. */
			WIMS_ERROR("hss", "MAR %s: vector generation failed", impi);
			rc = WIMS_EINVAL;
			break;
		}
		memcpy(v->autn, vec.autn, sizeof(v->autn));
		memcpy(v->xres, vec.res, vec.res_len);
		v->xres_len = vec.res_len;
		memcpy(v->ck, vec.ck, sizeof(v->ck));
		memcpy(v->ik, vec.ik, sizeof(v->ik));
	}
	OPENSSL_cleanse(&a, sizeof(a));
	OPENSSL_cleanse(&aud, sizeof(aud));
	OPENSSL_cleanse(&vec, sizeof(vec));
	return rc;
}

int cx_mar_aka(struct cx *cx, const char *impi, const char *impu, enum cx_auth_scheme scheme,
	       unsigned n, const uint8_t *resync, struct cx_maa_aka *out)
{
	memset(out, 0, sizeof(*out));
	if (empty(impi) || n < 1 || n > CX_MAX_AKA_VECTORS)
		return WIMS_EINVAL;
	unsigned need;
	if (scheme == CX_AUTH_AKAV1_MD5)
		need = STORE_SCHEME_AKAV1;
	else if (scheme == CX_AUTH_AKAV2_SHA256)
		need = STORE_SCHEME_AKAV2;
	else
		return CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED;
	struct store_subscriber sub;
	/* Held through the store transaction: the handle is shared. */
	pthread_mutex_lock(&cx->lock);
	int rc = mar_subscriber(cx, impi, impu, &sub);
	if (rc)
		goto out;
	if (sub.barred) {
		rc = CX_AUTHORIZATION_REJECTED;
		goto out;
	}
	if (!(sub.schemes & need)) {
		rc = CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED;
		goto out;
	}
	if ((rc = store_begin(cx->st)))
		goto out;
	if (resync)
		rc = aka_resync(cx, sub.impi, resync);
	if (!rc)
		rc = aka_vectors(cx, sub.impi, n, out);
	if (rc) {
		store_rollback(cx->st);
		goto out;
	}
	if ((rc = store_commit(cx->st)))
		goto out;
	snprintf(out->impi, sizeof(out->impi), "%s", sub.impi);
	out->scheme = scheme;
	out->n = n;
	rc = CX_SUCCESS;
out:
	pthread_mutex_unlock(&cx->lock);
	OPENSSL_cleanse(&sub, sizeof(sub));
	if (rc != CX_SUCCESS)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

int cx_sar(struct cx *cx, const char *impi, const char *impu, enum cx_sar_type type,
	   const char *server_name, struct cx_saa *out)
{
	memset(out, 0, sizeof(*out));
	if (empty(impu))
		return WIMS_EINVAL;
	struct cx_entry *e;
	pthread_mutex_lock(&cx->lock);
	int rc = identities_cached(cx, impi, impu, &e);
	if (rc)
		goto out;
	struct store_subscriber *sub = &e->sub;
	/* What happens to the stored S-CSCF name (TS 29.228 6.1.2.1). */
	enum { KEEP, STORE, CLEAR } action;
	switch (type) {
	case CX_SAR_REGISTRATION:
	case CX_SAR_RE_REGISTRATION:
	case CX_SAR_UNREGISTERED_USER:
		if (sub->barred) {
			rc = CX_AUTHORIZATION_REJECTED;
			goto out;
		}
		if (empty(server_name)) {
			rc = WIMS_EINVAL;
			goto out;
		}
		action = STORE;
		break;
	case CX_SAR_TIMEOUT_DEREGISTRATION:
	case CX_SAR_USER_DEREGISTRATION:
	case CX_SAR_ADMINISTRATIVE_DEREGISTRATION:
	case CX_SAR_DEREGISTRATION_TOO_MUCH_DATA:
		action = CLEAR;
		break;
	case CX_SAR_NO_ASSIGNMENT:
	case CX_SAR_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
	case CX_SAR_USER_DEREGISTRATION_STORE_SERVER_NAME:
	/* The name is stored only by a successful SAR REGISTRATION here
	 * (not at MAR), so a failed authentication has nothing to undo. */
	case CX_SAR_AUTHENTICATION_FAILURE:
	case CX_SAR_AUTHENTICATION_TIMEOUT:
		action = KEEP;
		break;
	default:
		rc = CX_ERROR_IN_ASSIGNMENT_TYPE;
		goto out;
	}
	/* A re-registration names the S-CSCF already stored (the entry is of
	 * the current version): no write, which would be one more
	 * transaction per REGISTER. */
	if (action != KEEP) {
		const char *name = action == STORE ? server_name : "";
		if (strcmp(sub->scscf_name, name) != 0) {
			if ((rc = store_subscriber_set_scscf(cx->st, sub->impi, name)))
				goto out;
			/* The write bumped the version: the entry is read
			 * again on its next use; this answer says the name. */
			snprintf(sub->scscf_name, sizeof(sub->scscf_name), "%s", name);
		}
	}
	/* The set in store order, the requested IMPU swapped to the front
	 * (as irs_collect does while walking). */
	out->n_impus = e->n_irs;
	memcpy(out->impus, e->irs, e->n_irs * sizeof(e->irs[0]));
	for (size_t i = 1; i < out->n_impus; i++) {
		if (strcmp(out->impus[i].impu, impu) == 0) {
			struct cx_impu_info tmp = out->impus[0];
			out->impus[0] = out->impus[i];
			out->impus[i] = tmp;
			break;
		}
	}
	snprintf(out->impi, sizeof(out->impi), "%s", sub->impi);
	snprintf(out->server_name, sizeof(out->server_name), "%s", sub->scscf_name);
	rc = CX_SUCCESS;
out:
	pthread_mutex_unlock(&cx->lock);
	if (rc != CX_SUCCESS)
		out->n_impus = 0;
	return rc;
}

int cx_tna_authorize(struct cx *cx, const char *impi, const char *impu, const char *wwsf,
		     const char **why)
{
	*why = "invalid request";
	if (empty(impi) || empty(impu) || empty(wwsf))
		return WIMS_EINVAL;
	struct cx_entry *e;
	pthread_mutex_lock(&cx->lock);
	int rc = identities_cached(cx, impi, impu, &e);
	if (rc == CX_ERROR_USER_UNKNOWN) {
		*why = "unknown identity";
		goto out;
	}
	if (rc == CX_ERROR_IDENTITIES_DONT_MATCH) {
		*why = "IMPU is not an identity of this IMPI";
		goto out;
	}
	if (rc) {
		*why = "HSS unavailable";
		goto out;
	}
	rc = CX_AUTHORIZATION_REJECTED;
	if (e->sub.barred || e->unbarred == 0) {
		*why = "subscription barred";
		goto out;
	}
	if (!(e->sub.schemes & STORE_SCHEME_TNA)) {
		*why = "trusted node authentication not allowed for this IMPI";
		goto out;
	}
	/* TR 33.871 REQ 2.2: read at every registration, so that a block
	 * takes effect on the next one. */
	if (store_wwsf_blocked(cx->st, wwsf)) {
		*why = "WWSF blocked";
		goto out;
	}
	/* REQ 2.1: the subscriber allowed this WWSF (consent at the WAF, a
	 * confirmed link, or provisioning). */
	if (store_wwsf_allowed(cx->st, impi, wwsf)) {
		rc = CX_SUCCESS;
		goto out;
	}
	/* REQ 3.2: a pool IMPI registers only through the WWSF owning it. */
	char owner[WIMS_WWSF_ID_MAX];
	int r = store_pool_owner(cx->st, impi, owner);
	if (r == 0 && strcmp(owner, wwsf) == 0) {
		rc = CX_SUCCESS;
	} else if (r == 0) {
		*why = "IMPI not in the WWSF's pool";
	} else if (r == WIMS_ENOTFOUND) {
		*why = "WWSF not allowed for this subscription";
	} else {
		rc = r;
		*why = "HSS unavailable";
	}
out:
	pthread_mutex_unlock(&cx->lock);
	if (rc == CX_SUCCESS)
		*why = "";
	return rc;
}

int cx_lir(struct cx *cx, const char *impu, struct cx_lia *out)
{
	memset(out, 0, sizeof(*out));
	if (empty(impu))
		return WIMS_EINVAL;
	struct cx_entry *e;
	pthread_mutex_lock(&cx->lock);
	int rc = identities_cached(cx, NULL, impu, &e);
	if (rc == 0) {
		snprintf(out->impi, sizeof(out->impi), "%s", e->sub.impi);
		snprintf(out->server_name, sizeof(out->server_name), "%s", e->sub.scscf_name);
		rc = e->sub.scscf_name[0] ? CX_SUCCESS : CX_ERROR_IDENTITY_NOT_REGISTERED;
	}
	pthread_mutex_unlock(&cx->lock);
	return rc;
}
