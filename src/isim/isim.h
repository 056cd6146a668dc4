/*
 * isim.h - a soft ISIM: the subscriber's AKA secrets and SQN state, kept
 * in a SQLite file, answering Digest AKA challenges for a WIC.
 *
 * Two roles hold one: `me` (the agent standing for the phone's UICC, TR
 * 33.871 6.1.1.3 / TS 33.203 Annex X, shared/seeds/003) and `wwsf` (the
 * network-based ISIM, shared/seeds/001).  Both hand the web page only the
 * Digest password of AKAv2 (RFC 4169), never CK, IK or RES: the API below
 * has no way to get them out.
 *
 * What is kept (table isim): IMPI, the IMPU to register, realm, K, OPc,
 * AMF, and the SQN state (struct aka_sqn_state, one SEQ per IND slot),
 * written before an answer leaves so that a crash cannot make a used
 * challenge acceptable again.
 *
 * Threads: one struct isim per thread (SQLite handle); a mutex inside
 * serialises the read-check-write of one authentication, and SQLite's
 * locking covers several processes.
 */
#ifndef WIMS_ISIM_ISIM_H
#define WIMS_ISIM_ISIM_H

#include <stddef.h>

#include "auth/aka.h"
#include "core/limits.h"
#include "core/slice.h"

struct isim_entry {
	char impi[WIMS_IMPI_MAX];
	char impu[WIMS_IMPU_MAX];
	char realm[WIMS_IMPI_MAX];
	struct aka_keys keys; /* secret: never log */
	uint8_t amf[AKA_AMF_LEN];
};

struct isim;

/* Open (creating it and its schema) the ISIM store at path.  NULL with a
 * reason in err on failure. */
struct isim *isim_open(const char *path, char *err, size_t errsz);
void isim_close(struct isim *is); /* NULL is fine */

/* Add or replace the credentials of e->impi; a replaced entry keeps its
 * SQN state only when K is unchanged.  0 or WIMS_E*. */
int isim_put(struct isim *is, const struct isim_entry *e);
/* Public part of an entry (impi, impu, realm; keys and amf zeroed).
 * WIMS_ENOTFOUND. */
int isim_get_public(struct isim *is, const char *impi, struct isim_entry *out);
int isim_remove(struct isim *is, const char *impi);
/* Set every IND slot's SEQ to seq (tests and demos of resynchronisation:
 * a card that has seen SQNs the HSS has not).  WIMS_ENOTFOUND. */
int isim_set_seq(struct isim *is, const char *impi, uint64_t seq);
typedef int (*isim_fn)(void *arg, const struct isim_entry *public_part);
int isim_list(struct isim *is, isim_fn fn, void *arg);

enum isim_outcome {
	ISIM_PASSWORD = 0,     /* password/password_len set */
	ISIM_RESYNC,           /* auts set (base64): send it with an empty-password response */
	ISIM_NETWORK_REJECTED, /* AUTN's MAC is wrong: do not answer the challenge */
};

struct isim_answer {
	enum isim_outcome outcome;
	char password[AKA_PASSWORD_MAX]; /* AKAv2: a C string */
	size_t password_len;
	char auts[AKA_AUTS_B64_LEN + 1];
};

/*
 * Run AKA for impi on a Digest AKA nonce (the WWW-Authenticate nonce as
 * sent).  Only AKAv2-SHA-256 is served (Annex X); AKAv1 gives
 * WIMS_EUNSUPPORTED because its password is RES itself.  Returns 0 with
 * out set, WIMS_ENOTFOUND (no such IMPI), WIMS_EPARSE (nonce is not
 * base64 of RAND||AUTN...), WIMS_EUNSUPPORTED, or a store error.
 */
int isim_authenticate(struct isim *is, const char *impi, enum aka_version v, struct slice nonce,
		      struct isim_answer *out);

#endif
