/*
 * store.h - the subscriber and registration store (HSS data, S-CSCF
 * bindings), one contract over several back ends.
 *
 * SQLite (WAL) is the embedded default (src/store/sqlite.c); a PostgreSQL
 * back end (libpq) can serve multi-node deployments behind the same
 * functions: store_open() picks the back end from the path ("postgres://"
 * or "postgresql://" would select it; anything else is a SQLite file).
 *
 * What is kept (schema version 1, created on open; see sqlite.c):
 *   subscriber     IMPI, realm, H(A1) per algorithm (MD5, SHA-256) -- only
 *                  hashes, never the password --, allowed auth schemes,
 *                  barred flag, creation time, the S-CSCF assigned by SAR.
 *   impu           IMPU -> IMPI, barred flag, implicit registration set
 *                  (IRS) id, service profile (placeholder text).
 *   binding        per IMPU registration bindings of the S-CSCF: Contact,
 *                  Path, +sip.instance / reg-id, absolute expiry, Call-ID,
 *                  CSeq, received-from.  They survive a cscf restart.
 *   aka            Digest AKA data of an IMPI: K, OPc (secrets), AMF, the
 *                  SQN of the last vector handed out and the IND slot of
 *                  the next (TS 33.102 C.3.2).  The ind column came after
 *                  the table: store_open adds it to files made without it.
 *   wwsf_allowed   IMPI -> the WWSFs its subscriber allows to register it
 *                  with trusted node authentication (TR 33.871 REQ 2.1).
 *   wwsf_pool      WWSF -> the IMPIs of its pool (scenario 3, REQ 3.1,
 *                  3.2); an IMPI is in one pool at most.
 *   wwsf_block     WWSFs the operator blocked, with a reason (REQ 2.2).
 *   web_identity   web identity (web_id at an identity provider idp) ->
 *                  IMPU, usable once the subscriber confirmed it with a
 *                  one-time code (REQ 2.5, Annex C M2).  Only the SHA-256
 *                  of the code is kept.  A file whose web_identity table
 *                  predates these columns (it was created empty and never
 *                  used) gets the table recreated on open.
 *
 * Threads: a struct store belongs to one thread.  Open one per worker
 * (WAL lets readers run beside one writer; a writer waits up to
 * WIMS_STORE_BUSY_TIMEOUT_MS for another).  Statements are prepared once
 * per handle and cached.
 *
 * Strings in and out are NUL-terminated C strings bounded by the limits in
 * core/limits.h; a longer one is refused with WIMS_ETOOBIG (a lookup by a
 * longer key answers WIMS_ENOTFOUND: no such row can exist).  Functions
 * return 0 or a negative WIMS_E*: WIMS_ENOTFOUND, WIMS_EEXIST, WIMS_EINVAL,
 * WIMS_ETOOBIG, WIMS_ESTORE (the database failed; logged with the SQLite
 * message, never with a secret).
 */
#ifndef WIMS_STORE_STORE_H
#define WIMS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "core/limits.h"

#define STORE_SCHEMA_VERSION 1

/* Authentication schemes a subscription allows (bit mask).  AKAv1 keeps
 * the bit the one "AKA" scheme had, so older files read the same. */
enum store_scheme {
	STORE_SCHEME_DIGEST = 1 << 0, /* SIP Digest, MD5 and SHA-256 */
	STORE_SCHEME_AKAV1 = 1 << 1,  /* Digest AKAv1-MD5 (RFC 3310) */
	STORE_SCHEME_TNA = 1 << 2,    /* trusted node authentication (later) */
	STORE_SCHEME_AKAV2 = 1 << 3,  /* Digest AKAv2-SHA-256 (RFC 4169) */
};
#define STORE_SCHEMES_ALL                                                                \
	(STORE_SCHEME_DIGEST | STORE_SCHEME_AKAV1 | STORE_SCHEME_TNA | STORE_SCHEME_AKAV2)

struct store_subscriber {
	char impi[WIMS_IMPI_MAX];
	char realm[WIMS_IMPI_MAX];
	/* "" when no password is set.  Secrets: never log them. */
	char ha1_md5[DIGEST_MD5_HEX_LEN + 1];
	char ha1_sha256[DIGEST_SHA256_HEX_LEN + 1];
	unsigned schemes; /* enum store_scheme bits */
	bool barred;
	int64_t created_at;                    /* unix seconds */
	char scscf_name[WIMS_SCSCF_NAME_MAX]; /* "" when none is assigned */
};

struct store_impu {
	char impu[WIMS_IMPU_MAX];
	char impi[WIMS_IMPI_MAX];
	bool barred;
	/* Implicit registration set: IMPUs with the same id register
	 * together (TS 23.228 5.2.1a). */
	int64_t irs_id;
	char service_profile[WIMS_CONF_MAX_VALUE]; /* placeholder, "" */
};

struct store_binding {
	char impu[WIMS_IMPU_MAX];
	char contact[WIMS_REG_CONTACT_MAX];   /* the Contact URI */
	char path[WIMS_REG_PATH_MAX];         /* Path values, comma-separated, as received */
	char instance_id[WIMS_REG_INSTANCE_MAX]; /* +sip.instance (RFC 5626), "" if none */
	uint32_t reg_id;                      /* RFC 5626 reg-id, 0 if none */
	int64_t expires;                      /* absolute, unix seconds */
	char call_id[WIMS_REG_CALLID_MAX];
	uint32_t cseq;
	char received[WIMS_REG_CONTACT_MAX];  /* where it came from: "tcp:127.0.0.1:5070" */
	/* The WWSF a TNA registration came through (its P-WWSF-Identity,
	 * TR 33.871 REQ 2.3); "" for Digest and AKA. */
	char wwsf[WIMS_WWSF_ID_MAX];
};

struct store;

/* Open (creating it, its schema and WAL mode if needed) the store at path.
 * On failure returns WIMS_ESTORE / WIMS_EIO / WIMS_EUNSUPPORTED with a
 * reason in err, and *out is NULL. */
int store_open(const char *path, struct store **out, char *err, size_t errsz);
void store_close(struct store *st); /* NULL is fine */

/* Explicit transaction: many writes (an import) in one commit.  Without
 * one, every write commits alone. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* --- subscribers (IMPI) --- */

/* Add a subscription.  sub->impi and sub->realm are required;
 * created_at 0 means "now"; schemes 0 means STORE_SCHEME_DIGEST.
 * WIMS_EEXIST if the IMPI exists. */
int store_subscriber_add(struct store *st, const struct store_subscriber *sub);
int store_subscriber_get(struct store *st, const char *impi, struct store_subscriber *out);
/* Remove the IMPI with its IMPUs and their bindings.  WIMS_ENOTFOUND. */
int store_subscriber_remove(struct store *st, const char *impi);
/* Calls fn for each subscriber in IMPI order; fn returning non-zero stops
 * the walk and store_subscriber_list returns that value. */
typedef int (*store_subscriber_fn)(void *arg, const struct store_subscriber *sub);
int store_subscriber_list(struct store *st, store_subscriber_fn fn, void *arg);
/* Compute and store H(A1) for MD5 and SHA-256 with username = IMPI and
 * the subscriber's realm; the password itself is not kept.  ENOTFOUND. */
int store_subscriber_set_password(struct store *st, const char *impi, const char *password,
				  size_t password_len);
int store_subscriber_set_barred(struct store *st, const char *impi, bool barred);
/* The schemes the IMPI may authenticate with: a non-empty set of enum
 * store_scheme bits (WIMS_EINVAL otherwise).  ENOTFOUND. */
int store_subscriber_set_schemes(struct store *st, const char *impi, unsigned schemes);
/* The S-CSCF assigned by SAR; "" or NULL clears it.  ENOTFOUND. */
int store_subscriber_set_scscf(struct store *st, const char *impi, const char *server_name);
/* Number of subscribers (for the CLI and tests). */
int store_subscriber_count(struct store *st, uint64_t *count);

/* --- public identities (IMPU) --- */

/* Add an IMPU of an existing IMPI.  irs_id 0 puts it in the IMPI's first
 * implicit set (creating one); a given id must be one of this IMPI's sets
 * or a new one (the caller picks it with store_irs_new).  WIMS_EEXIST if the
 * IMPU exists (an IMPU belongs to one IMPI here), ENOTFOUND if the IMPI
 * does not. */
int store_impu_add(struct store *st, const struct store_impu *impu);
int store_impu_get(struct store *st, const char *impu, struct store_impu *out);
int store_impu_remove(struct store *st, const char *impu);
int store_impu_set_barred(struct store *st, const char *impu, bool barred);
typedef int (*store_impu_fn)(void *arg, const struct store_impu *impu);
/* The IMPUs of one IMPI, by IRS then insertion order. */
int store_impu_list(struct store *st, const char *impi, store_impu_fn fn, void *arg);
/* The implicit registration set of impu: every IMPU sharing its set,
 * impu itself included, in insertion order.  ENOTFOUND. */
int store_irs_list(struct store *st, const char *impu, store_impu_fn fn, void *arg);
/* A fresh IRS id (for a second set under one IMPI). */
int store_irs_new(struct store *st, int64_t *irs_id);

/* --- Digest AKA data (the AuC part of the HSS) --- */

struct store_aka {
	char impi[WIMS_IMPI_MAX];
	uint8_t k[AKA_K_LEN];    /* secret: never log it, cleanse copies */
	uint8_t opc[AKA_OP_LEN]; /* secret (OP is turned into OPc before) */
	uint8_t amf[AKA_AMF_LEN];
	uint64_t sqn; /* the SQN (SEQ || IND) of the last vector made; 0: none */
	unsigned ind; /* the IND slot of the next vector, < AKA_IND_SLOTS */
};

/* The SQN of the vector after one with SQN sqn, in slot ind: SEQ + 1 with
 * that IND -- libosmogsm's rule (osmo_auth_gen_vec with ind_bitlen
 * AKA_IND_BITS), restated so that the store can reserve SQNs before the
 * HSS makes the vectors. */
static inline uint64_t store_aka_sqn_next(uint64_t sqn, unsigned ind)
{
	return ((sqn + AKA_IND_SLOTS) & ~(uint64_t)(AKA_IND_SLOTS - 1)) | ind;
}

/* Set K, OPc and AMF of an existing IMPI (insert or replace); a new row
 * starts at SQN 0, IND 0, an existing one keeps its SQN and IND.
 * ENOTFOUND (no such IMPI). */
int store_aka_set(struct store *st, const struct store_aka *aka);
/* ENOTFOUND when the IMPI has no AKA data. */
int store_aka_get(struct store *st, const char *impi, struct store_aka *out);
/*
 * Reserve the SQNs of n (>= 1) vectors at once: in one write transaction
 * (or a savepoint of the caller's) read the row into *out, then store
 * the SQN of the n-th vector and the IND after it, the vectors taking IND
 * out->ind, out->ind + 1, ... (mod AKA_IND_SLOTS) and SQNs by
 * store_aka_sqn_next from out->sqn.  Concurrent callers (threads,
 * processes) never get the same SQN.  ENOTFOUND; WIMS_ETOOBIG when the
 * SQN would pass AKA_SQN_MAX.
 */
int store_aka_take(struct store *st, const char *impi, unsigned n, struct store_aka *out);
/* Set the SQN (resynchronisation from AUTS, a restored HSS); the IND is
 * kept.  sqn <= AKA_SQN_MAX.  ENOTFOUND. */
int store_aka_set_sqn(struct store *st, const char *impi, uint64_t sqn);

/* The HSS data version: a number that changes (triggers in the schema)
 * whenever a subscriber or impu row is added, changed or removed, by any
 * connection or process.  One indexed read: a cache of those tables
 * (hss/cx.c) checks it on every use.  0, WIMS_ESTORE. */
int store_hss_version(struct store *st, int64_t *version);

/* --- registration bindings (S-CSCF) --- */

/* Insert or replace one binding of b->impu.  The key is (impu,
 * instance_id, reg_id) when instance_id is set (RFC 5626: a new flow of
 * the same instance replaces the old one) and (impu, contact) otherwise. */
int store_binding_upsert(struct store *st, const struct store_binding *b);
/* Remove one binding (impu, contact).  WIMS_ENOTFOUND. */
int store_binding_delete(struct store *st, const char *impu, const char *contact);
/* Remove every binding of impu (deregistration, Contact: *).  Returns the
 * number removed (>= 0) or an error. */
int store_binding_delete_impu(struct store *st, const char *impu);
/* Remove the bindings of every IMPU with this Contact (its flow failed:
 * RFC 5626 430).  Returns the number removed (>= 0) or an error. */
int store_binding_delete_contact(struct store *st, const char *contact);
typedef int (*store_binding_fn)(void *arg, const struct store_binding *b);
/* The bindings of impu still valid at now (expires > now), by expiry. */
int store_binding_list(struct store *st, const char *impu, int64_t now,
		       store_binding_fn fn, void *arg);
/* Has impu a binding still valid at now?  1 yes, 0 no, or an error; one
 * indexed read, no row copied (the S-CSCF asks it per originating
 * request). */
int store_binding_live(struct store *st, const char *impu, int64_t now);
/* Delete every binding with expires <= now.  Returns how many (>= 0). */
int store_binding_expire(struct store *st, int64_t now);
/* TR 33.871 REQ 2.2: delete every binding registered through WWSF wwsf
 * (a block).  Returns the rows removed (>= 0; one per IMPU of a set and
 * Contact) and, in *contacts (may be NULL), the distinct Contacts among
 * them: the registrations.  An IMPI (of this file's subscribers) left
 * with no binding at all loses its S-CSCF name, as by an administrative
 * deregistration (TS 29.228 6.1.2.1).  wwsf "" is WIMS_EINVAL. */
int store_binding_delete_wwsf(struct store *st, const char *wwsf, int *contacts);

/* --- TNA: allowed WWSFs, pools, block list, web identity links --- */

/* WWSF identities are the OAuth client_id of the WWSF ("wwsf.ims.example.org"),
 * compared exactly, non-empty and shorter than WIMS_WWSF_ID_MAX.  The
 * lookups that answer bool say false for a bad argument or a store error
 * (logged): a TNA check then refuses. */

/* TR 33.871 REQ 2.1: let wwsf register impi.  Idempotent.  ENOTFOUND (no
 * such IMPI). */
int store_wwsf_allow(struct store *st, const char *impi, const char *wwsf);
int store_wwsf_disallow(struct store *st, const char *impi, const char *wwsf); /* ENOTFOUND */
bool store_wwsf_allowed(struct store *st, const char *impi, const char *wwsf);

/* REQ 3.1, 3.2: put impi in wwsf's pool.  Idempotent for the same pool;
 * WIMS_EEXIST if impi is in another WWSF's pool, ENOTFOUND (no such IMPI). */
int store_pool_add(struct store *st, const char *wwsf, const char *impi);
int store_pool_remove(struct store *st, const char *wwsf, const char *impi); /* ENOTFOUND */
/* The WWSF owning impi's pool into owner (WIMS_WWSF_ID_MAX), or ENOTFOUND. */
int store_pool_owner(struct store *st, const char *impi, char *owner);
/* Walks: fn(arg, wwsf, impi) per row (in the block list, impi is the
 * reason); fn returning non-zero stops the walk with that value. */
typedef int (*store_wwsf_fn)(void *arg, const char *wwsf, const char *impi);
/* The pools of wwsf (NULL: all), by WWSF then IMPI. */
int store_pool_list(struct store *st, const char *wwsf, store_wwsf_fn fn, void *arg);
/* The allowed WWSFs of impi (NULL: all), by IMPI then WWSF. */
int store_wwsf_allowed_list(struct store *st, const char *impi, store_wwsf_fn fn, void *arg);

/* REQ 2.2: the block list.  Blocking a blocked WWSF updates the reason
 * (NULL: "") and keeps the time it was first blocked. */
#define STORE_BLOCK_REASON_MAX 256
int store_wwsf_block(struct store *st, const char *wwsf, const char *reason, int64_t now);
int store_wwsf_unblock(struct store *st, const char *wwsf); /* ENOTFOUND */
bool store_wwsf_blocked(struct store *st, const char *wwsf);
/* fn(arg, wwsf, reason) per blocked WWSF, by WWSF. */
int store_wwsf_block_list(struct store *st, store_wwsf_fn fn, void *arg);

/* Web identity links (REQ 2.5, Annex C M2).  Key (web_id, idp, impu); idp
 * is "waf" for the WAF's own accounts, else the WWSF identity that
 * authenticated the web user.  wwsf_grant: the WWSF the confirmation
 * allows for the IMPI (store_wwsf_allow on confirm), or "". */
#define STORE_LINK_CODE_HASH_LEN 32 /* SHA-256 of the one-time code */
struct store_link {
	char web_id[WIMS_WEB_ID_MAX], idp[WIMS_WWSF_ID_MAX], impu[WIMS_IMPU_MAX],
		impi[WIMS_IMPI_MAX], wwsf_grant[WIMS_WWSF_ID_MAX];
	bool confirmed;
	int64_t code_expires, created_at; /* code_expires 0 once confirmed */
	int tries;
};
/*
 * A pending link with the SHA-256 of its one-time code, valid until
 * expires; it replaces an unconfirmed one of the same key (a new code
 * voids the old), a confirmed one is left alone: WIMS_EEXIST.  The IMPI is
 * looked up from impu (ENOTFOUND).  Pending links whose code expired are
 * dropped on the way.  WIMS_EAGAIN when another live pending link has
 * the same code hash (a code must name one link): draw another code.
 */
int store_link_request(struct store *st, const char *web_id, const char *idp, const char *impu,
		       const char *wwsf_grant, const uint8_t code_hash[32], int64_t expires,
		       int64_t now);
/*
 * Confirm the pending link whose code hashes to code_hash and has not
 * expired (code_expires > now): sets confirmed, clears the code (it
 * confirms once), and store_wwsf_allow(impi, wwsf_grant) when wwsf_grant
 * is set, all in one transaction; *out (may be NULL) filled.  ENOTFOUND
 * for no such live code.  Per-source attempt limits are the caller's.
 */
int store_link_confirm(struct store *st, const uint8_t code_hash[32], int64_t now,
		       struct store_link *out);
/* Confirmed links of (web_id, idp), by IMPU: fn per link.  Unconfirmed
 * ones are never returned. */
typedef int (*store_link_fn)(void *arg, const struct store_link *l);
int store_links_confirmed(struct store *st, const char *web_id, const char *idp,
			  store_link_fn fn, void *arg);
int store_link_remove(struct store *st, const char *web_id, const char *idp,
		      const char *impu); /* ENOTFOUND */
/* Every link, pending ones too (for the CLI), by web_id, idp, impu. */
int store_link_list(struct store *st, store_link_fn fn, void *arg);

#endif
