/*
 * loadgen.h - what the two halves of wims-loadgen share: loadgen.c (the
 * connections, the registrations, the phases, the options and the report)
 * and loadgen_call.c (the call mode, --call).
 *
 * Every connection belongs to one worker thread (struct lg_worker), which
 * owns its statistics; lg_run is written by the main thread before the
 * workers start a phase and only read by them afterwards, except for its
 * atomic counters.
 */
#ifndef WIMS_BENCH_LOADGEN_H
#define WIMS_BENCH_LOADGEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "auth/jwt.h"

/* TLS + upgrade handshakes in flight per worker: enough to open a few
 * thousand connections in seconds, few enough not to overflow a server's
 * accept backlog or time out handshakes on a 2-core machine. */
#define LG_MAX_PENDING_CONNECTS 64
/* Status codes are 100..699; index 0 holds "timeout", 1 "closed", 2 an
 * unreadable or unusable response. */
#define LG_FAIL_TIMEOUT 0
#define LG_FAIL_CLOSED 1
#define LG_FAIL_BAD_RESPONSE 2
#define LG_FAIL_SLOTS 700
/* One second buckets of the timeline; longer runs are refused. */
#define LG_MAX_SECONDS 3600
/* Latency samples kept per worker (4 bytes each): past this the rest are
 * counted but not sampled for percentiles. */
#define LG_MAX_SAMPLES (16u * 1024 * 1024)
/* Bytes of one request or response we build. */
#define LG_MSG_MAX 4096
/* Longest identity, password, realm, nonce, opaque we handle. */
#define LG_ID_MAX 160
#define LG_PARAM_MAX 256

#define NS_PER_S 1000000000ull

/* Bearer mode (--bearer-key): the claims every token carries besides the
 * subscriber's own (TR 33.871 6.1.2; the names of the demo, brief tna.md 1). */
#define LG_BEARER_ISSUER "https://127.0.0.1:9443"
#define LG_BEARER_AUDIENCE "sip:ims.example.org"
#define LG_BEARER_WWSF "wwsf.ims.example.org"
#define LG_BEARER_SCOPE "webrtc-ims-client-access-to-ims"
#define LG_BEARER_LIFETIME_S 3600
/* Uncached tokens signed ahead per second of --duration when --bearer-pool
 * is not given (ahead of a 20 s run: 200 000 tokens, ~140 MB, a few
 * seconds on two cores). */
#define LG_BEARER_POOL_RATE 10000
/* The default pool stops here (~700 MB); --bearer-pool may ask up to
 * LG_BEARER_POOL_MAX. */
#define LG_BEARER_POOL_DEFAULT_MAX 1000000u
#define LG_BEARER_POOL_MAX 10000000u

enum lg_bearer_mode { LG_BEARER_NONE, LG_BEARER_CACHED, LG_BEARER_UNCACHED };

struct lg_bearer_cfg {
	const char *issuer, *audience, *wwsf, *scope;
	unsigned lifetime_s;
};

struct lg_opts {
	const char *host;
	int port;
	const char *path;
	const char *origin;
	const char *host_header;
	unsigned user_first, user_last;
	const char *user_pattern;
	const char *domain;
	const char *password_pattern;
	unsigned connections;
	double duration;
	uint64_t max_attempts; /* --registrations or --calls; 0: none */
	unsigned expires;
	int threads;
	bool tls;
	bool insecure;
	const char *algorithm; /* NULL: the first challenge we can answer */
	int aka;               /* enum aka_version when --algorithm names one, else 0 */
	unsigned timeout_ms;
	unsigned fail_pause_ms;
	unsigned connect_timeout_s;
	bool quiet;
	bool verbose;
	const char *label;
	/* Call mode: NULL, or the URI pattern to call (one %u at most). */
	const char *call_target;
	unsigned callee_first, callee_last;
	unsigned call_hold_ms; /* between the ACK and the BYE */
	/* Bearer mode: the private JWK file, or NULL (Digest). */
	const char *bearer_key;
	const char *bearer_keygen; /* --bearer-keygen JWKS: make the key, exit */
	enum lg_bearer_mode bearer_mode;
	struct lg_bearer_cfg bearer;
	uint64_t bearer_pool; /* uncached: tokens signed ahead; 0: the default */
};

enum lg_state {
	LG_CONNECTING,
	LG_IDLE,           /* open, no registration or call running */
	LG_WAIT_CHALLENGE, /* first REGISTER sent */
	LG_WAIT_FINAL,     /* REGISTER with Authorization sent */
	LG_PAUSED,         /* after a failure, --fail-pause */
	LG_IN_CALL,        /* a call runs: its own state is in struct lg_call */
	LG_CLOSING,
};

struct lg_worker;
struct lg_call;

struct lg_conn {
	struct lg_worker *w;
	struct ws_conn *ws;
	struct event *timer; /* response timeout, call hold, or the pause after a failure */
	enum lg_state state;
	bool opened;
	bool settled;    /* counted in lg_run.settled (call mode: once registered) */
	bool registered; /* call mode: the registration before the window is done */
	unsigned index;  /* of the connection, from 0 */
	unsigned user;
	uint32_t cseq;
	uint32_t sent_cseq; /* CSeq of the request we wait an answer for */
	uint64_t t_start;   /* ns, first REGISTER of the running registration */
	char impi[LG_ID_MAX];
	char impu[LG_ID_MAX + 4];
	char user_part[LG_ID_MAX];
	char password[LG_ID_MAX];
	char call_id[40];
	char from_tag[20];
	char contact_host[24];
	/* H(A1) cached per algorithm and realm: the generator's own cost is
	 * not what is measured. */
	int ha1_alg; /* enum digest_alg, -1: none yet */
	char ha1_realm[LG_PARAM_MAX];
	char ha1[DIGEST_HEX_MAX];
	/* Digest AKA (--algorithm AKAv1-MD5 / AKAv2-SHA-256): the card of
	 * this subscriber, keys from aka_demo_keys() as bench/run.sh
	 * provisions them, and its SQN state. */
	struct aka_keys aka_keys;
	struct aka_sqn_state aka_sqn;
	struct lg_call *call; /* call mode only */
	/* Bearer mode: tokens signed ahead (one when cached), the next one
	 * to send, and the one in flight (uncached: owned here, freed when
	 * the next is taken). */
	char **tokens;
	unsigned ntokens, next_token;
	char *cur_token;
};

struct lg_worker {
	int index;
	struct event_base *base;
	struct lg_conn **conns;
	unsigned nconns;
	unsigned next_connect; /* index in conns of the next to connect */
	unsigned pending;      /* connects in flight */
	uint64_t rng;
	/* Statistics, touched only by this worker's thread until joined: of
	 * registrations, or in call mode of calls (latency: INVITE to 200). */
	uint32_t *lat_us;
	size_t nlat, caplat;
	uint64_t per_sec[LG_MAX_SECONDS + 1];
	uint64_t ok, unchallenged, failed;
	uint64_t fail[LG_FAIL_SLOTS];
	uint64_t requests_answered; /* call mode: requests from the server */
	unsigned conns_open, conns_failed, conns_dropped;
	/* Bearer mode: this worker's copy of the key, for tokens signed
	 * in the window when a connection's share of the pool ran out. */
	struct jwt_key *bearer_key;
	uint64_t bearer_signed_inline;
	char algorithm_used[32];
	char first_error[300];
	unsigned shown; /* failed responses printed with --verbose */
};

extern struct lg_run {
	struct lg_opts o;
	SSL_CTX *tls;
	char host_header[300];
	uint64_t t0, t_end; /* ns; written before the start post, then read only */
	atomic_int measuring;  /* 0 before the window, 1 in it, 2 after */
	atomic_uint settled;   /* connections ready (opened, or registered) or failed */
	atomic_uint live;      /* connections not yet closed */
	atomic_uint_fast64_t started;   /* attempts begun (--registrations, --calls) */
	atomic_uint_fast64_t completed; /* ended, ok or failed, in the window */
	atomic_uint_fast64_t ok;        /* successes in the window */
	atomic_uint calls_in_flight;    /* call mode: INVITE sent, BYE not answered */
} lg_run;

/* loadgen.c, for loadgen_call.c */
uint64_t lg_now_ns(void);
void lg_rand_hex(struct lg_worker *w, char *out, size_t n);
int lg_pattern_format(const char *pattern, unsigned n, char *out, size_t outsz);
bool lg_in_window(uint64_t t);
/* Whether one more attempt may begin (--registrations / --calls). */
bool lg_may_start(void);
void lg_timer_arm(struct lg_conn *c, unsigned ms);
/* Counts a failure in slot (a status code or LG_FAIL_*) if t is in the
 * window. */
void lg_record_failure(struct lg_conn *c, int slot, uint64_t t);
/* Counts a success at t with its latency, if t is in the window. */
void lg_record_success(struct lg_conn *c, uint64_t latency_ns, uint64_t t);
/* Keeps the first line of a failed message as the run's first error (and
 * prints it whole with --verbose); prefix names the request, or NULL. */
void lg_note_status_line(struct lg_worker *w, const char *prefix, const char *p, size_t len);

/* loadgen_call.c */
int lg_call_new(struct lg_conn *c);
void lg_call_free(struct lg_conn *c);
/* Starts the next call of a registered connection (in the window). */
void lg_call_begin(struct lg_conn *c);
/* A SIP message from the server on a registered connection. */
void lg_call_on_message(struct lg_conn *c, const char *p, size_t len);
/* c->timer fired while c->state is LG_IN_CALL. */
void lg_call_on_timer(struct lg_conn *c);
/* The server dropped the connection while c->state is LG_IN_CALL. */
void lg_call_on_close(struct lg_conn *c);

/* loadgen_bearer.c (reads no lg_run: its unit test links it alone) */
/* A new ES256 key: the private JWK into key_file (0600), {"keys":[public]}
 * into jwks_file (the pcscf's [pcscf] waf_jwks); neither may exist. */
int lg_bearer_keygen(const char *key_file, const char *jwks_file, char *err, size_t errsz);
struct jwt_key *lg_bearer_key_load(const char *key_file, char *err, size_t errsz);
/* One access token for a subscriber (impus = [impu]), a fresh jti, issued
 * at now for cfg->lifetime_s; *out to free(). */
int lg_bearer_token(const struct jwt_key *key, const struct lg_bearer_cfg *cfg, const char *sub,
		    const char *impi, const char *impu, int64_t now, char **out);
/* per_conn tokens for each of conns[0..nconns) (their user_part, impi,
 * impu set), signed by nthreads threads before the window. */
int lg_bearer_presign(const char *key_file, const struct lg_bearer_cfg *cfg,
		      struct lg_conn **conns, unsigned nconns, unsigned per_conn, int64_t now,
		      unsigned nthreads, char *err, size_t errsz);
/* The token for c's next REGISTER: cached, its one token; uncached, the
 * next unsent one, else one signed now with key (counted in
 * *signed_inline).  NULL when there is none. */
const char *lg_bearer_next(struct lg_conn *c, bool uncached, const struct jwt_key *key,
			  const struct lg_bearer_cfg *cfg, int64_t now, uint64_t *signed_inline);
void lg_bearer_conn_free(struct lg_conn *c);

#endif
