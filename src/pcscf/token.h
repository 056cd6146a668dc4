/*
 * token.h - flow tokens (RFC 5626 5.2, RFC 3327): the user part of the
 * Path URI the eP-CSCF puts in a REGISTER, and the key in the branch of
 * the Via it adds to requests it forwards to the core.
 *
 * A token names one WebSocket flow: the worker thread that owns it and
 * the ws_conn id (unique in the process, never reused).  Anyone can send
 * us a request with a token in its Route, so a token must be unforgeable:
 *
 *	raw   = worker (1 byte) || conn id (8 bytes, big-endian)
 *	        || HMAC-SHA-256(key, "wims-flow" || worker || conn id)[0..16)
 *	token = base64url(raw) without padding: 34 characters, all of them
 *	        SIP token and user-part characters (RFC 3261 25.1)
 *
 * The key is 32 random bytes drawn when the process starts, so tokens die
 * with the process (a restarted eP-CSCF has lost its flows anyway, and the
 * client must register again: RFC 5626 4.4.1).  Verification decodes
 * strictly (one encoding per token) and compares the MAC in constant time.
 *
 * Pure functions: the caller owns the key (no global state here), so the
 * tests can use fixed keys.  Thread-safe.
 */
#ifndef WIMS_PCSCF_TOKEN_H
#define WIMS_PCSCF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define PCSCF_TOKEN_KEY_LEN 32
/* Characters of a token (base64url of 25 bytes). */
#define PCSCF_TOKEN_LEN 34
/* Characters of the per-transaction part of a branch (base64url of 9 bytes). */
#define PCSCF_BRANCH_TXN_LEN 12
/* "z9hG4bK" token "." txn, and the NUL. */
#define PCSCF_BRANCH_LEN (7 + PCSCF_TOKEN_LEN + 1 + PCSCF_BRANCH_TXN_LEN)

/* Writes the token of (worker, conn_id) into out, NUL-terminated.
 * worker must be 0..255.  Returns 0, WIMS_EINVAL, or WIMS_EUNSUPPORTED if
 * OpenSSL has no HMAC. */
int pcscf_token_make(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
		     char out[PCSCF_TOKEN_LEN + 1]);

/* Checks a token: exact length, canonical base64url, MAC (constant-time).
 * On success sets *worker and *conn_id and returns 0; a forged, altered,
 * truncated or foreign token is WIMS_EAUTH. */
int pcscf_token_verify(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice token, int *worker,
		       uint64_t *conn_id);

/*
 * The branch of the Via we add to a request from a flow (RFC 3261 16.6
 * step 8, 16.11):
 *
 *	z9hG4bK <token> . <txn>
 *
 * txn is base64url of HMAC(key, "wims-branch" || conn id || the client's
 * top Via branch and sent-by)[0..9): the same client transaction always
 * gives the same branch (a CANCEL finds its INVITE downstream; a
 * retransmission is recognised), different ones differ.  *txn_id gets the
 * first 8 of those bytes as a number, our transaction table's key.
 * Returns 0 or an error of pcscf_token_make.
 */
int pcscf_branch_make(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
		      struct slice client_branch, struct slice client_sent_by,
		      char out[PCSCF_BRANCH_LEN + 1], uint64_t *txn_id);

/* Reads a branch made by pcscf_branch_make: verifies its token and gives
 * the worker, conn id and txn id.  WIMS_EAUTH for anything else (another
 * hop's branch, a forged one). */
int pcscf_branch_parse(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice branch, int *worker,
		       uint64_t *conn_id, uint64_t *txn_id);

/*
 * The branch of the Via we add to a request from the core towards a flow:
 * the same as pcscf_branch_make over the core's top Via, followed by
 *
 *	. base64url(back worker || back link id || HMAC(...)[0..6))
 *
 * naming the core-side connection (worker, link id; 0 for UDP) the
 * client's response must go back on (RFC 3261 18.2.2: over the connection
 * the request came on).  Its own MAC keeps a client from pointing its
 * responses at another connection.  Returns 0 or an error as above.
 */
#define PCSCF_BRANCH_BACK_LEN (PCSCF_BRANCH_LEN + 1 + 20)
int pcscf_branch_make_back(const uint8_t key[PCSCF_TOKEN_KEY_LEN], int worker, uint64_t conn_id,
			   struct slice core_branch, struct slice core_sent_by, int back_worker,
			   uint64_t back_link, char out[PCSCF_BRANCH_BACK_LEN + 1],
			   uint64_t *txn_id);

/* Reads a branch made by pcscf_branch_make_back; *txn_id (may be NULL) is
 * the txn id pcscf_branch_make gave for the core's branch.  WIMS_EAUTH for
 * anything else. */
int pcscf_branch_parse_back(const uint8_t key[PCSCF_TOKEN_KEY_LEN], struct slice branch,
			    int *worker, uint64_t *conn_id, int *back_worker, uint64_t *back_link,
			    uint64_t *txn_id);

#endif
