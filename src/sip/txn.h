/*
 * txn.h - what a SIP transaction layer needs that is pure protocol:
 * matching keys (RFC 3261 17.1.3, 17.2.3, 9.2) and the timer values
 * (RFC 3261 17 and Table 4).
 *
 * The state machines themselves do I/O and read clocks, so they live in the
 * roles; these functions only turn a message into a key.  A key is a small
 * self-contained byte string (it copies what it needs out of the message),
 * so a role can store it in its transaction table, compare it with
 * sip_txn_key_eq() and hash it with sip_txn_key_hash().
 */
#ifndef WIMS_SIP_TXN_H
#define WIMS_SIP_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/slice.h"
#include "sip/msg.h"

/* RFC 3261 17.1.1.1 and Table 4 (milliseconds).  The protocol's values,
 * not our choices: a role may lower T1 on a reliable transport only as the
 * RFC allows. */
#define SIP_T1_MS 500                   /* RTT estimate */
#define SIP_T2_MS 4000                  /* max non-INVITE/INVITE-response retransmit interval */
#define SIP_T4_MS 5000                  /* max time a message stays in the network */
#define SIP_TIMER_A_MS SIP_T1_MS        /* INVITE retransmit, UDP only, doubles */
#define SIP_TIMER_B_MS (64 * SIP_T1_MS) /* INVITE client transaction timeout */
#define SIP_TIMER_C_MS (180 * 1000)     /* proxy INVITE transaction, > 3 min */
#define SIP_TIMER_D_MS (32 * 1000)      /* wait for response retransmits, UDP; 0 reliable */
#define SIP_TIMER_E_MS SIP_T1_MS        /* non-INVITE retransmit, UDP only */
#define SIP_TIMER_F_MS (64 * SIP_T1_MS) /* non-INVITE client transaction timeout */
#define SIP_TIMER_G_MS SIP_T1_MS        /* INVITE final response retransmit, UDP */
#define SIP_TIMER_H_MS (64 * SIP_T1_MS) /* wait for ACK receipt */
#define SIP_TIMER_I_MS SIP_T4_MS        /* absorb ACK retransmits, UDP; 0 reliable */
#define SIP_TIMER_J_MS (64 * SIP_T1_MS) /* absorb non-INVITE retransmits, UDP; 0 reliable */
#define SIP_TIMER_K_MS SIP_T4_MS        /* absorb response retransmits, UDP; 0 reliable */

/* Branch and sent-by are at most WIMS_SIP_MAX_TOKEN each (longer ones are
 * refused as "Via branch too long"), plus a few bytes of framing. */
#define SIP_TXN_KEY_MAX (2 * WIMS_SIP_MAX_TOKEN + 8)

struct sip_txn_key {
	uint16_t len;
	char b[SIP_TXN_KEY_MAX];
};

/*
 * Server transaction of a received request (RFC 3261 17.2.3): the top Via
 * branch and sent-by (host lower-cased) and the method, with ACK mapped to
 * INVITE so that the ACK for a non-2xx final response finds its INVITE
 * transaction.  (An ACK for a 2xx has a new branch and matches nothing:
 * it is end-to-end, 17.2.3 / 13.2.2.4.)  A branch without the
 * "z9hG4bK" cookie (RFC 2543 peers) gets a key from Call-ID, From tag,
 * CSeq number, top Via sent-by and method instead (17.2.3 fallback,
 * To tag not included so the ACK still matches).
 * Returns 0, or WIMS_EPARSE / WIMS_ETOOBIG with *reason.
 */
int sip_txn_key_server(struct sip_txn_key *k, const struct sip_msg *req,
		       const char **reason);

/* The key of the INVITE server transaction a received CANCEL targets
 * (RFC 3261 9.2: same top Via branch and sent-by, method INVITE). */
int sip_txn_key_cancel_target(struct sip_txn_key *k, const struct sip_msg *cancel,
			      const char **reason);

/* Client transaction key for a request we send with this branch and
 * method (ACK maps to INVITE, as above). */
int sip_txn_key_client(struct sip_txn_key *k, struct slice branch,
		       enum sip_method method);

/* The client transaction a received response belongs to (RFC 3261
 * 17.1.3): the top Via branch and the CSeq method.  Compare with the key
 * from sip_txn_key_client(). */
int sip_txn_key_from_response(struct sip_txn_key *k, const struct sip_msg *resp,
			      const char **reason);

bool sip_txn_key_eq(const struct sip_txn_key *a, const struct sip_txn_key *b);
/* FNV-1a over the key bytes, for a hash table (not keyed: a table that
 * faces attackers should salt it or bound its chains). */
uint32_t sip_txn_key_hash(const struct sip_txn_key *k);

#endif
