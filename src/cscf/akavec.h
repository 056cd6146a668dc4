/*
 * akavec.h - the AKA authentication vectors the registrar holds: the
 * challenges it has sent and is waiting an answer for, and the spare
 * vectors a multi-vector MAR left over (TS 33.203 6.1, TS 29.228 6.3.1).
 *
 *	challenge --> put(RAND -> IMPI, version, XRES/CK/IK, issued)
 *	answer    --> take(RAND): found once, then gone (a vector is spent
 *	              by its first use, TS 33.102 6.3.2), or "stale" when
 *	              older than the nonce lifetime, or "not found"
 *	MAR n     --> one vector challenges, n-1 are spares for the IMPI
 *	              (FIFO: the HSS made them with rising SQNs)
 *
 * Why a table and not a stateless nonce as for Digest: the nonce of Digest
 * AKA is RAND||AUTN, fixed by the HSS, and XRES/CK/IK are needed to check
 * the answer; the HSS hands them out once.  Any worker may get the answer,
 * so one table is shared by all of them, in shards with a lock each (as
 * auth/nonce.c's tracker).
 *
 * Bounded: at most max_pending challenges (CSCF_AKAVEC_MAX_PENDING by
 * default).  A full shard first drops what has expired; if nothing has,
 * the new challenge is refused (WIMS_ETOOBIG: the caller answers 503),
 * never a live one evicted, so a flood costs the flooders their
 * challenges and not the users already challenged.  Spares are a cache
 * (dropping them only wastes SQNs): a fixed number of IMPI slots, a new
 * IMPI takes the slot of whatever hashed there, and spares older than
 * CSCF_AKAVEC_SPARE_LIFETIME_S are not handed out.
 *
 * Secrets: XRES, CK and IK are cleansed whenever an entry leaves the table
 * (taken, expired, dropped, freed).  Functions lock; all are safe from any
 * thread.
 */
#ifndef WIMS_CSCF_AKAVEC_H
#define WIMS_CSCF_AKAVEC_H

#include <stddef.h>
#include <stdint.h>

#include "auth/aka.h"
#include "core/limits.h"

/* Pending challenges (all shards): one per REGISTER challenged with AKA
 * and not yet answered, for at most the nonce lifetime. */
#define CSCF_AKAVEC_MAX_PENDING 65536
/* Challenges pending for one IMPI (cscf_akavec_set_per_impi): a UE answers
 * its latest challenge, so a new one pushes out the IMPI's oldest, and
 * unanswered REGISTERs for a few IMPIs cannot fill the table for everyone
 * (it then holds at most this many per IMPI that exists in the HSS). */
#define CSCF_AKAVEC_PENDING_PER_IMPI 4
/* IMPIs with spare vectors kept, and spares per IMPI and version (a MAR
 * gives at most CX_MAX_AKA_VECTORS, one of which challenges at once). */
#define CSCF_AKAVEC_SPARE_IMPIS 16384
#define CSCF_AKAVEC_MAX_SPARES 8
/* A spare older than this is dropped rather than sent: the card's SQN
 * window (TS 33.102 C.2) would still take it, but an hour-old vector means
 * the user comes back seldom, and a fresh MAR is cheap then. */
#define CSCF_AKAVEC_SPARE_LIFETIME_S 3600

/* One authentication vector (as cx_aka_vector).  rand/autn are public,
 * xres/ck/ik secret. */
struct cscf_akavec_vec {
	uint8_t rand[AKA_RAND_LEN];
	uint8_t autn[AKA_AUTN_LEN];
	uint8_t xres[16];
	size_t xres_len;
	uint8_t ck[AKA_CK_LEN];
	uint8_t ik[AKA_IK_LEN];
};

/* What take() hands back; the caller cleanses it after use. */
struct cscf_akavec_pending {
	char impi[WIMS_IMPI_MAX];
	enum aka_version version;
	int64_t issued;
	struct cscf_akavec_vec vec;
};

struct cscf_akavec;

/* A table of at most max_pending challenges (0: CSCF_AKAVEC_MAX_PENDING)
 * that expire lifetime_s after issue, and spare_impis spare slots (0:
 * CSCF_AKAVEC_SPARE_IMPIS).  NULL when out of memory. */
struct cscf_akavec *cscf_akavec_new(size_t max_pending, size_t spare_impis, uint32_t lifetime_s);
/* Cleanses every vector held.  NULL is fine. */
void cscf_akavec_free(struct cscf_akavec *t);

/* At most n challenges pending per IMPI (1..CSCF_AKAVEC_PENDING_PER_IMPI;
 * 0, the default of a new table: no such limit): cscf_akavec_put then
 * removes the IMPI's oldest pending challenge when it has n already.
 * IMPIs are told apart by a 64-bit hash in a direct-mapped table of
 * spare_impis slots; two IMPIs sharing a slot only lose that tracking.
 * Call before the table is shared. */
void cscf_akavec_set_per_impi(struct cscf_akavec *t, unsigned n);

/* Record a challenge sent to impi at now with vec (copied).  Returns 0;
 * WIMS_EEXIST when the RAND is pending already (the HSS repeated a RAND:
 * refuse rather than overwrite someone's challenge); WIMS_ETOOBIG when the
 * shard is full of live challenges; WIMS_EINVAL (impi too long, xres_len
 * over 16).  Locks one shard. */
int cscf_akavec_put(struct cscf_akavec *t, const char *impi, enum aka_version v,
		    const struct cscf_akavec_vec *vec, int64_t now);

/* Find the challenge with this RAND sent to impi (NULL: to anyone) and
 * remove it: out gets it.  Returns 0; WIMS_ESTALE when it was there but
 * older than the lifetime (also removed; out->impi and out->version are
 * set, the vector cleansed); WIMS_ENOTFOUND otherwise (never issued, taken
 * already, expired and swept, or sent to another IMPI: that one is left
 * alone, so nobody spends another user's challenge).  Locks one shard. */
int cscf_akavec_take(struct cscf_akavec *t, const uint8_t rand[AKA_RAND_LEN], const char *impi,
		     int64_t now, struct cscf_akavec_pending *out);

/* Challenges held (all shards, expired ones not yet swept included). */
size_t cscf_akavec_count(struct cscf_akavec *t);

/* Keep n spare vectors of impi for version v, got at now, after any it
 * has (beyond CSCF_AKAVEC_MAX_SPARES the oldest go).  Returns how many are
 * kept now.  Locks one shard. */
size_t cscf_akavec_spare_add(struct cscf_akavec *t, const char *impi, enum aka_version v,
			     const struct cscf_akavec_vec *vecs, size_t n, int64_t now);

/* The oldest usable spare of impi for v into out (removed).  0 or
 * WIMS_ENOTFOUND.  Locks one shard. */
int cscf_akavec_spare_take(struct cscf_akavec *t, const char *impi, enum aka_version v,
			   int64_t now, struct cscf_akavec_vec *out);

/* Drop every spare of impi (all versions): after a resynchronisation
 * their SQNs are behind the card's.  Locks one shard. */
void cscf_akavec_spare_drop(struct cscf_akavec *t, const char *impi);

/* Spare vectors held (all shards). */
size_t cscf_akavec_spare_count(struct cscf_akavec *t);

#endif
