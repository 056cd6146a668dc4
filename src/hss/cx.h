/*
 * cx.h - the Cx interface of the HSS (TS 29.228, TS 29.229) as C calls.
 *
 * The I/S-CSCF (and the BSF, for MAR) ask the HSS through these functions,
 * named after the Cx commands: cx_uar (User-Authorization), cx_mar
 * (Multimedia-Auth), cx_sar (Server-Assignment), cx_lir (Location-Info).
 * Each takes the request's AVPs as arguments and fills the answer's into a
 * caller-allocated struct, returning the Diameter Result-Code or
 * Experimental-Result-Code (enum cx_result).  A Diameter transport
 * (freeDiameter) can later sit behind the same calls without touching the
 * callers.  Today the HSS is in-process: cx_open() opens the HSS store
 * file directly (WAL, so several processes may share it).
 *
 * Threads: a struct cx may be shared by every worker thread; it serialises
 * calls with an internal mutex (a query is one or two indexed reads, a few
 * microseconds).  For more parallelism open one struct cx per worker.
 *
 * Identities are NUL-terminated C strings: the IMPI as an NAI
 * ("alice@ims.example.org"), IMPUs as URIs ("sip:alice@ims.example.org",
 * "tel:+15550000001").  Negative values from these functions are WIMS_E*
 * (bad arguments, WIMS_ETOOBIG, the store failed): answer 500 / 480, not
 * 403.
 */
#ifndef WIMS_HSS_CX_H
#define WIMS_HSS_CX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/digest.h"
#include "core/limits.h"

/* Result-Code (RFC 6733) and Experimental-Result-Code (TS 29.229 6.2)
 * values.  Two pairs share a number in the two AVPs (5003); the command
 * tells them apart, as on the wire. */
enum cx_result {
	CX_SUCCESS = 2001,                         /* DIAMETER_SUCCESS */
	CX_FIRST_REGISTRATION = 2001,              /* DIAMETER_FIRST_REGISTRATION */
	CX_SUBSEQUENT_REGISTRATION = 2002,         /* DIAMETER_SUBSEQUENT_REGISTRATION */
	CX_UNREGISTERED_SERVICE = 2003,            /* DIAMETER_UNREGISTERED_SERVICE */
	CX_SERVER_NAME_NOT_STORED = 2004,          /* DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED */
	CX_UNABLE_TO_COMPLY = 5012,                /* DIAMETER_UNABLE_TO_COMPLY */
	CX_AUTHORIZATION_REJECTED = 5003,          /* DIAMETER_AUTHORIZATION_REJECTED (barred) */
	CX_ERROR_USER_UNKNOWN = 5001,              /* DIAMETER_ERROR_USER_UNKNOWN */
	CX_ERROR_IDENTITIES_DONT_MATCH = 5002,     /* DIAMETER_ERROR_IDENTITIES_DONT_MATCH */
	CX_ERROR_IDENTITY_NOT_REGISTERED = 5003,   /* DIAMETER_ERROR_IDENTITY_NOT_REGISTERED */
	CX_ERROR_ROAMING_NOT_ALLOWED = 5004,       /* DIAMETER_ERROR_ROAMING_NOT_ALLOWED */
	CX_ERROR_IDENTITY_ALREADY_REGISTERED = 5005,
	CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED = 5006, /* DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED */
	CX_ERROR_IN_ASSIGNMENT_TYPE = 5007,        /* DIAMETER_ERROR_IN_ASSIGNMENT_TYPE */
};
enum { CX_AUTHENTICATION_REJECTED = 4001 };       /* DIAMETER_AUTHENTICATION_REJECTED */

/* A short name for logs: "DIAMETER_ERROR_USER_UNKNOWN" (5003 reads
 * "DIAMETER_AUTHORIZATION_REJECTED/IDENTITY_NOT_REGISTERED"). */
const char *cx_result_name(int result);

/* User-Authorization-Type AVP (TS 29.229 6.3.24). */
enum cx_uar_type {
	CX_UAR_REGISTRATION = 0,
	CX_UAR_DE_REGISTRATION = 1,
	CX_UAR_REGISTRATION_AND_CAPABILITIES = 2,
};

/* Server-Assignment-Type AVP (TS 29.229 6.3.15). */
enum cx_sar_type {
	CX_SAR_NO_ASSIGNMENT = 0,
	CX_SAR_REGISTRATION = 1,
	CX_SAR_RE_REGISTRATION = 2,
	CX_SAR_UNREGISTERED_USER = 3,
	CX_SAR_TIMEOUT_DEREGISTRATION = 4,
	CX_SAR_USER_DEREGISTRATION = 5,
	CX_SAR_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME = 6,
	CX_SAR_USER_DEREGISTRATION_STORE_SERVER_NAME = 7,
	CX_SAR_ADMINISTRATIVE_DEREGISTRATION = 8,
	CX_SAR_AUTHENTICATION_FAILURE = 9,
	CX_SAR_AUTHENTICATION_TIMEOUT = 10,
	CX_SAR_DEREGISTRATION_TOO_MUCH_DATA = 11,
};

/* SIP-Auth-Data-Item / SIP-Authentication-Scheme (TS 29.229 6.3.13). */
enum cx_auth_scheme {
	CX_AUTH_DIGEST_MD5 = 0,    /* "SIP Digest", algorithm MD5 */
	CX_AUTH_DIGEST_SHA256 = 1, /* "SIP Digest", algorithm SHA-256 (RFC 8760) */
	CX_AUTH_UNKNOWN = 2,       /* "Unknown": the HSS picks (SHA-256) */
	CX_AUTH_AKAV1_MD5 = 3,     /* "Digest-AKAv1-MD5": cx_mar_aka */
	CX_AUTH_AKAV2_SHA256 = 4,  /* "Digest-AKAv2-SHA-256": cx_mar_aka */
};

struct cx_uaa {
	/* Server-Name: the S-CSCF already assigned, "" when none (first
	 * registration: the I-CSCF picks one). */
	char server_name[WIMS_SCSCF_NAME_MAX];
};

struct cx_maa {
	char impi[WIMS_IMPI_MAX]; /* User-Name, echoed */
	enum cx_auth_scheme scheme;
	/* SIP-Digest-Authenticate AVP (TS 29.229 6.3.36): Digest-Realm,
	 * Digest-Algorithm ("MD5" / "SHA-256"), Digest-QoP, Digest-HA1.  The
	 * HA1 is a secret: never log it. */
	char realm[WIMS_IMPI_MAX];
	enum digest_alg alg;
	char algorithm[16];
	char qop[16];
	char ha1[DIGEST_HEX_MAX];
};

/* At most this many AKA vectors per MAR (SIP-Number-Auth-Items). */
#define CX_MAX_AKA_VECTORS 5

/* One SIP-Auth-Data-Item of a Digest AKA scheme (TS 29.229 6.3.14): RAND
 * and AUTN go into the nonce, XRES (or the AKAv2 password from XRES, IK,
 * CK) checks the response. */
struct cx_aka_vector {
	uint8_t rand[16], autn[16];
	uint8_t xres[16];
	size_t xres_len;        /* 8 with Milenage */
	uint8_t ck[16], ik[16]; /* secrets: cleanse after use, never log */
};

struct cx_maa_aka {
	char impi[WIMS_IMPI_MAX];
	enum cx_auth_scheme scheme;
	size_t n; /* 1..CX_MAX_AKA_VECTORS */
	struct cx_aka_vector v[CX_MAX_AKA_VECTORS];
};

struct cx_impu_info {
	char impu[WIMS_IMPU_MAX];
	bool barred; /* TS 24.229 5.4.1.2.2: barred IMPUs stay out of P-Associated-URI */
};

struct cx_saa {
	char impi[WIMS_IMPI_MAX];
	/* User-Data, reduced to what the S-CSCF uses: the implicit
	 * registration set of the requested IMPU, the requested IMPU first. */
	size_t n_impus;
	struct cx_impu_info impus[WIMS_IRS_MAX_IMPUS];
	char server_name[WIMS_SCSCF_NAME_MAX]; /* as stored after this SAR */
};

struct cx_lia {
	char server_name[WIMS_SCSCF_NAME_MAX]; /* "" when not registered */
	char impi[WIMS_IMPI_MAX];              /* owner of the IMPU (not a Cx AVP) */
};

struct cx;

/* The HSS store the configuration names: [hss] db, or when that is empty
 * <[global] data_dir>/hss.db.  Valid once the configuration is loaded
 * (main does that before any role starts).  0 or WIMS_ETOOBIG. */
int cx_default_store_path(char *out, size_t outsz);

/* Open the HSS store at store_path (created if missing; NULL means
 * cx_default_store_path()).  NULL on failure with the reason in err. */
struct cx *cx_open(const char *store_path, char *err, size_t errsz);
void cx_close(struct cx *cx); /* NULL is fine */

/* UAR (TS 29.228 6.1.1).  impi may be "" when the I-CSCF has none.
 * visited_network is accepted whatever it is (NULL fine: no roaming
 * policy yet).  Returns:
 *   CX_FIRST_REGISTRATION       no S-CSCF assigned (type REGISTRATION)
 *   CX_SUBSEQUENT_REGISTRATION  out->server_name holds the assigned one
 *   CX_SUCCESS                  DE_REGISTRATION of a registered user
 *   CX_ERROR_USER_UNKNOWN       IMPI or IMPU not provisioned
 *   CX_ERROR_IDENTITIES_DONT_MATCH  the IMPU is not the IMPI's
 *   CX_AUTHORIZATION_REJECTED   the IMPI, or every IMPU of the set, barred
 *   CX_ERROR_IDENTITY_NOT_REGISTERED  DE_REGISTRATION while unregistered */
int cx_uar(struct cx *cx, const char *impi, const char *impu, const char *visited_network,
	   enum cx_uar_type type, struct cx_uaa *out);

/* The schemes a MAR would serve the IMPI now, as bits 1u << enum
 * cx_auth_scheme (Digest MD5 / SHA-256 when allowed and that H(A1) is
 * stored, AKAv1 / AKAv2 when allowed): what the S-CSCF may challenge
 * with, in one lookup instead of a MAR per scheme (TS 29.229 6.3.2: with
 * scheme "Unknown" the HSS decides).  Returns CX_SUCCESS with *served set,
 * or the errors of cx_mar (CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED when none). */
int cx_mar_schemes(struct cx *cx, const char *impi, const char *impu, unsigned *served);

/* MAR (TS 29.228 6.3.1): one SIP Digest authentication vector.  impu may
 * be "" / NULL (BSF use: the IMPI alone).  Returns CX_SUCCESS,
 * CX_ERROR_USER_UNKNOWN, CX_ERROR_IDENTITIES_DONT_MATCH,
 * CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED (the IMPI does not allow Digest, an
 * AKA scheme -- that is cx_mar_aka --, or no HA1 stored),
 * CX_AUTHORIZATION_REJECTED (barred IMPI). */
int cx_mar(struct cx *cx, const char *impi, const char *impu, enum cx_auth_scheme scheme,
	   struct cx_maa *out);

/*
 * MAR for Digest AKA (TS 29.228 6.3.1, TS 33.203 6.1): n vectors
 * (1..CX_MAX_AKA_VECTORS) made with libosmogsm's Milenage from the IMPI's
 * K, OPc and AMF, at consecutive SQNs, the IND slot rotating per vector
 * (TS 33.102 C.3.2); the SQNs are stored before this returns, so a
 * vector is never made twice.  impu may be "" / NULL (the IMPI alone).
 *
 * resync is RAND(16) || AUTS(14) (the SIP-Authorization AVP after a
 * synchronisation failure) or NULL: with it the HSS first checks AUTS's
 * MAC-S and sets its SQN from SQN_MS (osmo_auth_gen_vec_auts; kept when
 * the next SQN would already be accepted, TS 33.102 6.3.5), then makes
 * the n vectors.
 *
 * Returns CX_SUCCESS, CX_ERROR_USER_UNKNOWN, CX_ERROR_IDENTITIES_DONT_MATCH,
 * CX_AUTHORIZATION_REJECTED (barred), CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED
 * (scheme not AKA, not allowed for this IMPI, or no AKA data),
 * CX_AUTHENTICATION_REJECTED (AUTS MAC-S wrong), or WIMS_E* (bad
 * arguments, the store failed).  out holds secrets (CK, IK, XRES):
 * OPENSSL_cleanse it when done.
 */
int cx_mar_aka(struct cx *cx, const char *impi, const char *impu, enum cx_auth_scheme scheme,
	       unsigned n, const uint8_t *resync, struct cx_maa_aka *out);

/* SAR (TS 29.228 6.1.2).  REGISTRATION / RE_REGISTRATION store
 * server_name for the IMPI and return the profile; the deregistration
 * types clear it (the *_STORE_SERVER_NAME ones keep it);
 * UNREGISTERED_USER assigns without registering; NO_ASSIGNMENT just reads
 * the profile.  Returns CX_SUCCESS, CX_ERROR_USER_UNKNOWN,
 * CX_ERROR_IDENTITIES_DONT_MATCH, CX_ERROR_IN_ASSIGNMENT_TYPE (unknown
 * type), CX_AUTHORIZATION_REJECTED (barred IMPI on registration). */
int cx_sar(struct cx *cx, const char *impi, const char *impu, enum cx_sar_type type,
	   const char *server_name, struct cx_saa *out);

/*
 * The S-CSCF's check of a trusted node authentication (TR 33.871 6.1.2.2
 * step 4, 6.1.3): may the WWSF wwsf (P-WWSF-Identity, vouched for by a
 * trusted node) register impi with impu?  CX_SUCCESS when the IMPI allows
 * scheme tna, it is not barred (nor every IMPU of impu's set), impu is one
 * of its identities, the WWSF is not blocked (REQ 2.2) and the WWSF is in
 * the IMPI's allowed list (REQ 2.1) or owns the pool the IMPI is in (REQ
 * 3.2).  The allowed list, pools and block list are read from the store on
 * every call (never cached): `wims hss wwsf-block` applies to the next
 * registration.  Otherwise, with a static reason in *why (for the SIP
 * reason phrase and Warning; *why is "" on success):
 *   CX_ERROR_USER_UNKNOWN           "unknown identity"
 *   CX_ERROR_IDENTITIES_DONT_MATCH  "IMPU is not an identity of this IMPI"
 *   CX_AUTHORIZATION_REJECTED       "subscription barred",
 *       "trusted node authentication not allowed for this IMPI",
 *       "WWSF blocked", "IMPI not in the WWSF's pool" (it is in another
 *       WWSF's pool), "WWSF not allowed for this subscription"
 *   WIMS_E*                         "HSS unavailable" / "invalid request"
 */
int cx_tna_authorize(struct cx *cx, const char *impi, const char *impu, const char *wwsf,
		     const char **why);

/* LIR (TS 29.228 6.1.4): where is impu served?  Returns CX_SUCCESS with
 * out->server_name, CX_ERROR_USER_UNKNOWN, or
 * CX_ERROR_IDENTITY_NOT_REGISTERED (known, no S-CSCF assigned). */
int cx_lir(struct cx *cx, const char *impu, struct cx_lia *out);

#endif
