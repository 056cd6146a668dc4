/*
 * loadgen.c - wims-loadgen, the registration load generator of `make bench`.
 *
 * Holds many SIP-over-WebSocket connections (RFC 7118, TLS by default) to
 * any registrar - wims's pcscf, Kamailio, anything that speaks W2 - and on
 * each one loops
 *
 *	REGISTER -> 401 (WWW-Authenticate: Digest ...)
 *	REGISTER with Authorization -> 200 OK
 *
 * then at once the next registration on the same connection (same Call-ID,
 * a new CSeq), measuring the latency from the first REGISTER to the 200.
 * Each connection is its own subscriber: IMPI PATTERN@DOMAIN and IMPU
 * sip:PATTERN@DOMAIN for one number of --users, password from
 * --password-pattern.
 *
 * Shape: the connections are spread over --threads workers (core/loop.h),
 * each owning its connections and its statistics, so the hot path takes no
 * lock; the main thread only starts and stops the phases and reads a few
 * atomic counters for the progress line.  The phases are:
 *  1. connect every connection (TLS + WebSocket upgrade), at most
 *     LG_MAX_PENDING_CONNECTS handshakes in flight per worker;
 *  2. when all have opened or failed, start the clock and let every open
 *     connection register in a loop until --duration is over (or
 *     --registrations attempts were made);
 *  3. close every connection, join the workers, merge and report.
 *
 * What counts: a registration is counted when its 200 OK arrives inside the
 * measured window.  Any other final response is a failure, by status code,
 * never retried in disguise: the connection waits --fail-pause ms and then
 * starts a new registration, itself counted.  No answer within --timeout ms
 * is a failure "timeout"; a connection that drops is "closed" and stays
 * closed.  Registrations still in flight when the window ends are not
 * counted either way.
 *
 * Responses are read by the small reader below (status line, CSeq,
 * WWW-Authenticate), not by src/sip: the generator must judge any server,
 * ours included, independently of our parser.  The Digest computation
 * (RFC 7616, RFC 8760 SHA-256, qop=auth) is src/auth/digest.h's, the
 * client side of the same functions the cscf verifies with; running the
 * generator against Kamailio (tests/integration/bench_smoke.sh) checks
 * them against an implementation nobody here wrote.
 *
 * Digest AKA (--algorithm AKAv1-MD5 or AKAv2-SHA-256, RFC 3310 / 4169):
 * each connection is a card whose K and OPc are aka_demo_keys(IMPI), the
 * way bench/run.sh provisions its AKA subscribers; src/auth/aka.h's USIM
 * side checks AUTN and gives RES/CK/IK, so every registration also proves
 * that the network knows the card.  A synchronisation failure is answered
 * with auts, and the registration goes on with the next challenge.
 *
 * Bearer (--bearer-key FILE, TR 33.871 6.1.2): the generator stands in for
 * the WAF and every REGISTER carries "Authorization: Bearer <token>", a
 * token it signed with the key in FILE for that subscriber; the pcscf as
 * trusted node answers 200 without a challenge.  --bearer-mode cached
 * reuses one token per subscriber, uncached sends a new one every time;
 * all are signed before the window (loadgen_bearer.c).
 *
 * Call mode (--call URI): each connection registers once while the
 * connections are set up, and in the window loops on calls instead of
 * registrations; the statistics (rate, latency, failures by code) are then
 * those of calls.  See loadgen_call.c.
 *
 * Output: a human summary on stderr and one line on stdout,
 *	RESULT {"registrations": ..., "rate": ..., ...}
 * (JSON) that bench/run.sh collects.  Exit status 0 when at least one
 * registration succeeded and nothing failed, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/loop.h"
#include "core/net.h"
#include "core/slice.h"
#include "core/tls.h"
#include "core/wims.h"
#include "core/ws.h"
#include "auth/digest.h"
#include "loadgen.h"

struct lg_run lg_run;

static volatile sig_atomic_t interrupted;
/* Bearer mode: tokens signed before the window, and how long it took. */
static uint64_t bearer_presigned;
static double bearer_presign_s;

uint64_t lg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* splitmix64: tags, branches and cnonces need to be unique, not secret. */
static uint64_t lg_rand(struct lg_worker *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void lg_rand_hex(struct lg_worker *w, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = lg_rand(w);
		out[i] = hex[r & 15];
		r >>= 4;
	}
	out[n] = '\0';
}

/* --- patterns ----------------------------------------------------------- */

/* Formats pattern with n for its one "%u" (flags '0' and a width allowed,
 * "%%" for a percent sign), as "user%04u" or "pw-%u".  A pattern is
 * checked by pattern_check first, so this never sees another conversion.
 * Returns the length or -1 if out is too small. */
int lg_pattern_format(const char *pattern, unsigned n, char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = pattern; *p; p++) {
		if (*p != '%') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '%';
			continue;
		}
		bool zero = false;
		unsigned width = 0;
		if (*p == '0') {
			zero = true;
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		char digits[12];
		int nd = 0;
		unsigned v = n;
		do {
			digits[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		for (unsigned i = (unsigned)nd; i < width; i++) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = zero ? '0' : ' ';
		}
		while (nd) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = digits[--nd];
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* The number of conversions of a pattern: "%u" with optional 0 flag and a
 * width below 20 ("%%" is a literal percent); -1 for any other. */
static int pattern_conversions(const char *pattern)
{
	int conversions = 0;
	for (const char *p = pattern; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p == '0')
			p++;
		unsigned width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		if (*p != 'u' || width >= 20)
			return -1;
		conversions++;
	}
	return conversions;
}

static bool pattern_check(const char *pattern, int max_conversions)
{
	int n = pattern_conversions(pattern);
	return n >= 0 && n <= max_conversions;
}

/* --- reading a response ----------------------------------------------- */

/* One Digest challenge, values unquoted and unescaped. */
struct lg_challenge {
	char realm[LG_PARAM_MAX];
	char nonce[LG_PARAM_MAX];
	char opaque[LG_PARAM_MAX];
	char algorithm[32];
	char qop[64];
	bool has_opaque, has_qop, stale;
};

#define LG_MAX_CHALLENGES 4

struct lg_response {
	int status;
	uint32_t cseq;
	struct slice cseq_method;
	struct lg_challenge ch[LG_MAX_CHALLENGES];
	int nch;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies a token or quoted-string value starting at *pp (bounded by end)
 * into out, unescaping quoted pairs; advances *pp past it.  Returns false
 * if the value does not fit or a quote is not closed. */
static bool read_value(const char **pp, const char *end, char *out, size_t outsz)
{
	const char *p = *pp;
	size_t o = 0;
	if (p < end && *p == '"') {
		p++;
		for (;;) {
			if (p >= end)
				return false;
			if (*p == '"') {
				p++;
				break;
			}
			if (*p == '\\' && p + 1 < end)
				p++;
			if (o + 1 >= outsz)
				return false;
			out[o++] = *p++;
		}
	} else {
		while (p < end && *p != ',' && !is_space(*p)) {
			if (o + 1 >= outsz)
				return false;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*pp = p;
	return true;
}

/* Parses the value of one WWW-Authenticate header: "Digest" then
 * comma-separated auth-params (RFC 3261 25.1, RFC 8760).  Returns false
 * for another scheme or a malformed value. */
static bool parse_challenge(struct slice v, struct lg_challenge *ch)
{
	const char *p = v.p, *end = v.p + v.len;
	memset(ch, 0, sizeof(*ch));
	if (v.len < 7 || strncasecmp(p, "Digest", 6) != 0 || !is_space(p[6]))
		return false;
	p += 7;
	while (p < end) {
		while (p < end && (is_space(*p) || *p == ','))
			p++;
		const char *name = p;
		while (p < end && *p != '=' && !is_space(*p) && *p != ',')
			p++;
		struct slice n = {name, (size_t)(p - name)};
		while (p < end && is_space(*p))
			p++;
		if (p >= end || *p != '=') {
			if (n.len == 0)
				break;
			return false;
		}
		p++;
		while (p < end && is_space(*p))
			p++;
		char tmp[LG_PARAM_MAX];
		char *dst = tmp;
		size_t dstsz = sizeof(tmp);
		if (slice_ieq_cstr(n, "realm")) {
			dst = ch->realm;
			dstsz = sizeof(ch->realm);
		} else if (slice_ieq_cstr(n, "nonce")) {
			dst = ch->nonce;
			dstsz = sizeof(ch->nonce);
		} else if (slice_ieq_cstr(n, "opaque")) {
			dst = ch->opaque;
			dstsz = sizeof(ch->opaque);
			ch->has_opaque = true;
		} else if (slice_ieq_cstr(n, "algorithm")) {
			dst = ch->algorithm;
			dstsz = sizeof(ch->algorithm);
		} else if (slice_ieq_cstr(n, "qop")) {
			dst = ch->qop;
			dstsz = sizeof(ch->qop);
			ch->has_qop = true;
		}
		if (!read_value(&p, end, dst, dstsz))
			return false;
		if (slice_ieq_cstr(n, "stale") && strcasecmp(tmp, "true") == 0)
			ch->stale = true;
	}
	return ch->nonce[0] != '\0';
}

/* Reads what the generator needs from one SIP response held in p[0..len)
 * (one WebSocket message).  Returns false if it is not a readable
 * response (a request from the server, or garbage). */
static bool parse_response(const char *p, size_t len, struct lg_response *r)
{
	const char *end = p + len;
	memset(r, 0, sizeof(*r));
	if (len < 12 || memcmp(p, "SIP/2.0 ", 8) != 0)
		return false;
	int status = 0;
	for (int i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		status = status * 10 + (p[i] - '0');
	}
	if (status < 100 || status > 699)
		return false;
	r->status = status;
	bool have_cseq = false;
	const char *line = memchr(p, '\n', len);
	while (line && line + 1 < end) {
		line++;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *lend = eol ? eol : end;
		if (lend > line && lend[-1] == '\r')
			lend--;
		if (lend == line)
			break; /* blank line: end of headers */
		const char *colon = memchr(line, ':', (size_t)(lend - line));
		if (colon) {
			struct slice name = slice_trim((struct slice){line, (size_t)(colon - line)});
			struct slice value = slice_trim((struct slice){colon + 1, (size_t)(lend - colon - 1)});
			if (slice_ieq_cstr(name, "CSeq")) {
				long sp = slice_find(value, ' ');
				uint64_t n;
				if (sp <= 0 || slice_to_u64((struct slice){value.p, (size_t)sp}, UINT32_MAX, &n) != 0)
					return false;
				r->cseq = (uint32_t)n;
				r->cseq_method = slice_trim((struct slice){value.p + sp, value.len - (size_t)sp});
				have_cseq = true;
			} else if (slice_ieq_cstr(name, "WWW-Authenticate") && r->nch < LG_MAX_CHALLENGES) {
				if (parse_challenge(value, &r->ch[r->nch]))
					r->nch++;
			}
		}
		line = eol;
	}
	return have_cseq;
}

/* --- Digest (RFC 2617, RFC 8760) ----------------------------------------- */

/* MD5 (also when the challenge names no algorithm) or SHA-256; the -sess
 * variants are not offered by the registrars we measure. */
static int challenge_alg(const struct lg_challenge *ch)
{
	enum digest_alg alg;
	struct slice name = ch->algorithm[0] ? slice_from_cstr(ch->algorithm) : SLICE_NULL;
	enum aka_version v;
	if (lg_run.o.aka && name.p && aka_version_parse(name, &v) == 0)
		return v == AKA_V1_MD5 ? DIGEST_ALG_MD5 : DIGEST_ALG_SHA256;
	if (lg_run.o.aka)
		return -1; /* an AKA run answers AKA challenges only */
	if (digest_alg_parse(name, &alg) != 0)
		return -1;
	if (alg != DIGEST_ALG_MD5 && alg != DIGEST_ALG_SHA256)
		return -1;
	return (int)alg;
}

/* The first challenge we can answer: a known algorithm (or the one asked
 * with --algorithm) and, when qop is offered, "auth" among its values. */
static int choose_challenge(const struct lg_response *r)
{
	for (int i = 0; i < r->nch; i++) {
		const struct lg_challenge *ch = &r->ch[i];
		const char *alg = ch->algorithm[0] ? ch->algorithm : "MD5";
		if (challenge_alg(ch) < 0)
			continue;
		if (lg_run.o.algorithm && strcasecmp(lg_run.o.algorithm, alg) != 0)
			continue;
		if (ch->has_qop) {
			bool auth = false;
			const char *q = ch->qop;
			while (*q) {
				while (*q == ' ' || *q == ',')
					q++;
				size_t n = strcspn(q, " ,");
				if (n == 4 && strncasecmp(q, "auth", 4) == 0)
					auth = true;
				q += n;
			}
			if (!auth)
				continue;
		}
		return i;
	}
	return -1;
}

/* --- one registration ------------------------------------------------ */

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void registration_begin(struct lg_conn *c);

bool lg_in_window(uint64_t t)
{
	return atomic_load_explicit(&lg_run.measuring, memory_order_acquire) == 1 && t < lg_run.t_end;
}

void lg_timer_arm(struct lg_conn *c, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

/*
 * The card answers an AKA challenge: the Digest password (into c->ha1 as
 * H(A1), since it changes with every challenge) or, on a synchronisation
 * failure, auts with H(A1) over the empty password (RFC 3310 3.4).
 */
static int aka_answer(struct lg_conn *c, const struct lg_challenge *ch, enum digest_alg alg,
		      char *auts, size_t autssz)
{
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	struct aka_usim_out u;
	char pw[AKA_PASSWORD_MAX];
	size_t pwlen = 0;
	auts[0] = '\0';
	if (aka_nonce_decode(slice_from_cstr(ch->nonce), rand, autn) != 0)
		return WIMS_EPARSE;
	int rc = aka_usim_authenticate(&c->aka_keys, &c->aka_sqn, rand, autn, &u);
	if (rc == AKA_OK)
		rc = aka_digest_password((enum aka_version)lg_run.o.aka, u.res, sizeof(u.res), u.ik,
					 u.ck, pw, sizeof(pw), &pwlen);
	else if (rc == AKA_SYNC_FAILURE)
		rc = aka_auts_encode(u.auts, auts, autssz) < 0 ? WIMS_ETOOBIG : 0;
	else if (rc == AKA_MAC_FAILURE)
		rc = WIMS_EAUTH; /* the server does not know our K */
	if (rc == 0)
		rc = digest_ha1(alg, slice_from_cstr(c->impi), slice_from_cstr(ch->realm),
				(struct slice){pw, pwlen}, c->ha1);
	c->ha1_alg = -1; /* never reused */
	OPENSSL_cleanse(&u, sizeof(u));
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}

/* Sends a REGISTER; with ch (and its algorithm) an Authorization too. */
static int send_register(struct lg_conn *c, const struct lg_challenge *ch)
{
	struct lg_worker *w = c->w;
	char msg[LG_MSG_MAX], branch[17], auth[2600], auts[AKA_AUTS_B64_LEN + 1] = "";
	auth[0] = '\0';
	c->cseq++;
	if (lg_run.o.bearer_mode != LG_BEARER_NONE) {
		const char *token = lg_bearer_next(c, lg_run.o.bearer_mode == LG_BEARER_UNCACHED,
						   w->bearer_key, &lg_run.o.bearer, (int64_t)time(NULL),
						   &w->bearer_signed_inline);
		if (!token)
			return WIMS_ENOMEM;
		int n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
		if (n < 0 || (size_t)n >= sizeof(auth))
			return WIMS_ETOOBIG;
		if (w->algorithm_used[0] == '\0')
			snprintf(w->algorithm_used, sizeof(w->algorithm_used), "Bearer-%s",
				 lg_run.o.bearer_mode == LG_BEARER_UNCACHED ? "uncached" : "cached");
	} else if (ch) {
		int alg = challenge_alg(ch);
		const char *alg_name = alg < 0	     ? ""
				       : lg_run.o.aka ? aka_version_name((enum aka_version)lg_run.o.aka)
						      : digest_alg_name((enum digest_alg)alg);
		char uri[LG_ID_MAX + 8], resp[DIGEST_HEX_MAX], cnonce[17];
		if (alg < 0)
			return WIMS_EUNSUPPORTED;
		snprintf(uri, sizeof(uri), "sip:%s", lg_run.o.domain);
		if (lg_run.o.aka) {
			int rc = aka_answer(c, ch, (enum digest_alg)alg, auts, sizeof(auts));
			if (rc != 0)
				return rc;
		} else if (c->ha1_alg != alg || strcmp(c->ha1_realm, ch->realm) != 0) {
			int rc = digest_ha1((enum digest_alg)alg, slice_from_cstr(c->impi),
					    slice_from_cstr(ch->realm), slice_from_cstr(c->password),
					    c->ha1);
			if (rc != 0)
				return rc;
			c->ha1_alg = alg;
			snprintf(c->ha1_realm, sizeof(c->ha1_realm), "%s", ch->realm);
		}
		lg_rand_hex(w, cnonce, 16);
		struct slice qop = ch->has_qop ? SLICE_LIT("auth") : SLICE_NULL;
		int rc = digest_response((enum digest_alg)alg, slice_from_cstr(c->ha1),
					 slice_from_cstr(ch->nonce), SLICE_LIT("00000001"),
					 slice_from_cstr(cnonce), qop, SLICE_LIT("REGISTER"),
					 slice_from_cstr(uri), NULL, resp);
		if (rc != 0)
			return rc;
		int n;
		if (ch->has_qop) {
			n = snprintf(auth, sizeof(auth),
				     "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
				     "uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"%s\", "
				     "qop=auth, nc=00000001%s%s%s%s%s%s\r\n",
				     c->impi, ch->realm, ch->nonce, uri, resp, alg_name, cnonce,
				     ch->has_opaque ? ", opaque=\"" : "", ch->has_opaque ? ch->opaque : "",
				     ch->has_opaque ? "\"" : "", auts[0] ? ", auts=\"" : "", auts,
				     auts[0] ? "\"" : "");
		} else {
			n = snprintf(auth, sizeof(auth),
				     "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
				     "uri=\"%s\", response=\"%s\", algorithm=%s%s%s%s\r\n",
				     c->impi, ch->realm, ch->nonce, uri, resp, alg_name,
				     ch->has_opaque ? ", opaque=\"" : "", ch->has_opaque ? ch->opaque : "",
				     ch->has_opaque ? "\"" : "");
		}
		if (n < 0 || (size_t)n >= sizeof(auth))
			return WIMS_ETOOBIG;
		if (w->algorithm_used[0] == '\0')
			snprintf(w->algorithm_used, sizeof(w->algorithm_used), "%s", alg_name);
		/* After auts the server challenges again (resynchronised). */
		if (auts[0])
			c->state = LG_WAIT_CHALLENGE;
	}
	lg_rand_hex(w, branch, 16);
	/* RFC 7118 5: Via transport WSS, a Contact host under .invalid
	 * (the client has no reachable address), transport=ws. */
	int n = snprintf(msg, sizeof(msg),
			 "REGISTER sip:%s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: <%s>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Contact: <sip:%s@%s;transport=ws>;expires=%u\r\n"
			 "Expires: %u\r\n"
			 "Supported: path\r\n"
			 "User-Agent: wims-loadgen\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 lg_run.o.domain, lg_run.o.tls ? "WSS" : "WS", c->contact_host, branch, c->impu,
			 c->from_tag, c->impu, c->call_id, c->cseq, c->user_part, c->contact_host,
			 lg_run.o.expires, lg_run.o.expires, auth);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return WIMS_ETOOBIG;
	c->sent_cseq = c->cseq;
	return ws_conn_send(c->ws, msg, (size_t)n, false);
}

void lg_record_failure(struct lg_conn *c, int slot, uint64_t t)
{
	struct lg_worker *w = c->w;
	if (!lg_in_window(t))
		return;
	w->failed++;
	w->fail[slot]++;
	atomic_fetch_add_explicit(&lg_run.completed, 1, memory_order_relaxed);
}

/* Counts a connection as ready or failed for the connect phase, once. */
static void conn_settle(struct lg_conn *c)
{
	if (c->settled)
		return;
	c->settled = true;
	atomic_fetch_add(&lg_run.settled, 1);
}

/* In call mode a connection registers once, before the window: that
 * registration is part of setting the connection up, not measured. */
static bool setting_up(const struct lg_conn *c)
{
	return lg_run.o.call_target && !c->registered;
}

/* The registration of a call-mode connection failed: the connection is
 * counted as failed and closed (it could not place a call anyway). */
static void setup_failed(struct lg_conn *c)
{
	c->w->conns_failed++;
	conn_settle(c);
	evtimer_del(c->timer);
	c->state = LG_CLOSING;
	ws_conn_close(c->ws, WS_CLOSE_NORMAL, "registration failed");
}

/* A registration failed: count it and, unless the conn is gone, start a
 * new one after --fail-pause (a refused server is not hammered). */
static void registration_failed(struct lg_conn *c, int slot)
{
	if (setting_up(c)) {
		setup_failed(c);
		return;
	}
	lg_record_failure(c, slot, lg_now_ns());
	evtimer_del(c->timer);
	if (c->state == LG_CLOSING)
		return;
	c->state = LG_PAUSED;
	lg_timer_arm(c, lg_run.o.fail_pause_ms);
}

void lg_record_success(struct lg_conn *c, uint64_t latency_ns, uint64_t t)
{
	struct lg_worker *w = c->w;
	if (!lg_in_window(t))
		return;
	uint64_t lat = latency_ns / 1000;
	if (w->nlat == w->caplat && w->caplat < LG_MAX_SAMPLES) {
		size_t cap = w->caplat ? w->caplat * 2 : 4096;
		uint32_t *p = realloc(w->lat_us, cap * sizeof(*p));
		if (p) {
			w->lat_us = p;
			w->caplat = cap;
		}
	}
	if (w->nlat < w->caplat)
		w->lat_us[w->nlat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	uint64_t sec = (t - lg_run.t0) / NS_PER_S;
	w->per_sec[sec > LG_MAX_SECONDS ? LG_MAX_SECONDS : sec]++;
	w->ok++;
	atomic_fetch_add_explicit(&lg_run.ok, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lg_run.completed, 1, memory_order_relaxed);
}

static void registration_succeeded(struct lg_conn *c, bool challenged)
{
	uint64_t t = lg_now_ns();
	evtimer_del(c->timer);
	c->state = LG_IDLE;
	if (setting_up(c)) {
		c->registered = true;
		conn_settle(c);
		/* Registered after the window started (a slow start): join in. */
		if (lg_in_window(t))
			lg_call_begin(c);
		return;
	}
	if (lg_in_window(t) && !challenged)
		c->w->unchallenged++;
	lg_record_success(c, t - c->t_start, t);
	registration_begin(c);
}

bool lg_may_start(void)
{
	return !lg_run.o.max_attempts ||
	       atomic_fetch_add_explicit(&lg_run.started, 1, memory_order_relaxed) <
		       lg_run.o.max_attempts;
}

static void registration_begin(struct lg_conn *c)
{
	uint64_t t = lg_now_ns();
	bool setup = setting_up(c);
	if (c->state == LG_CLOSING || !c->opened || (!setup && !lg_in_window(t))) {
		if (c->state != LG_CLOSING)
			c->state = LG_IDLE;
		return;
	}
	if (!setup && !lg_may_start()) {
		c->state = LG_IDLE;
		return;
	}
	c->t_start = t;
	/* A Bearer REGISTER is answered 200 at once, or refused: no 401
	 * round trip (a 401 is then a failure like any other). */
	c->state = lg_run.o.bearer_mode != LG_BEARER_NONE ? LG_WAIT_FINAL : LG_WAIT_CHALLENGE;
	int rc = send_register(c, NULL);
	if (rc != 0) {
		snprintf(c->w->first_error, sizeof(c->w->first_error), "send: %s", wims_strerror(rc));
		registration_failed(c, LG_FAIL_CLOSED);
		return;
	}
	lg_timer_arm(c, lg_run.o.timeout_ms);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lg_conn *c = arg;
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	if (c->state == LG_WAIT_CHALLENGE || c->state == LG_WAIT_FINAL)
		registration_failed(c, LG_FAIL_TIMEOUT);
	else if (c->state == LG_IN_CALL)
		lg_call_on_timer(c);
	else if (c->state == LG_PAUSED && c->registered)
		lg_call_begin(c);
	else if (c->state == LG_PAUSED)
		registration_begin(c);
}

/* --- WebSocket callbacks ---------------------------------------------- */

static void worker_connect_more(struct lg_worker *w);

/* Frees a connection the worker is done with (closed, or never opened). */
static void conn_free(struct lg_conn *c)
{
	struct lg_worker *w = c->w;
	for (unsigned i = 0; i < w->nconns; i++) {
		if (w->conns[i] == c) {
			w->conns[i] = NULL;
			break;
		}
	}
	if (c->timer)
		event_free(c->timer);
	lg_call_free(c);
	lg_bearer_conn_free(c);
	OPENSSL_cleanse(c->password, sizeof(c->password));
	OPENSSL_cleanse(c->ha1, sizeof(c->ha1));
	OPENSSL_cleanse(&c->aka_keys, sizeof(c->aka_keys));
	free(c);
	atomic_fetch_sub(&lg_run.live, 1);
}

static void on_open(struct ws_conn *ws, void *arg)
{
	struct lg_conn *c = arg;
	WIMS_UNUSED(ws);
	c->opened = true;
	c->state = LG_IDLE;
	c->w->conns_open++;
	c->w->pending--;
	if (!lg_run.o.call_target)
		conn_settle(c);
	worker_connect_more(c->w);
	/* Call mode: register now.  Otherwise, opened after the window
	 * started (a slow handshake): join in. */
	registration_begin(c);
}

/* The first failure's status line (with its reason phrase: wims's says
 * why, e.g. "404 Not Found (unknown IMPU)") goes into the report. */
void lg_note_status_line(struct lg_worker *w, const char *prefix, const char *p, size_t len)
{
	if (lg_run.o.verbose && w->shown < 5) {
		w->shown++;
		fprintf(stderr, "--- failed %s (worker %d):\n%.*s\n", prefix ? prefix : "response",
			w->index, (int)len, p);
	}
	if (w->first_error[0] != '\0')
		return;
	int n = 0;
	while ((size_t)n < len && n < 200 && p[n] != '\r' && p[n] != '\n')
		n++;
	snprintf(w->first_error, sizeof(w->first_error), "%s%s%.*s", prefix ? prefix : "",
		 prefix ? ": " : "", n, p);
}

static void on_message(struct ws_conn *ws, const char *p, size_t len, bool binary, void *arg)
{
	struct lg_conn *c = arg;
	struct lg_response r;
	WIMS_UNUSED(ws);
	WIMS_UNUSED(binary);
	if (c->registered) {
		lg_call_on_message(c, p, len);
		return;
	}
	if (c->state != LG_WAIT_CHALLENGE && c->state != LG_WAIT_FINAL)
		return; /* late answer to a request that timed out */
	if (!parse_response(p, len, &r))
		return; /* a request from the server, or not SIP: not ours */
	if (r.cseq != c->sent_cseq || !slice_eq_cstr(r.cseq_method, "REGISTER"))
		return;
	if (r.status < 200)
		return;
	if (r.status >= 200 && r.status < 300) {
		if (r.status == 200) {
			registration_succeeded(c, c->state == LG_WAIT_FINAL);
		} else {
			lg_note_status_line(c->w, "REGISTER", p, len);
			registration_failed(c, r.status);
		}
		return;
	}
	if (r.status == 401 && c->state == LG_WAIT_CHALLENGE) {
		int i = choose_challenge(&r);
		if (i < 0) {
			lg_note_status_line(c->w, "REGISTER", p, len);
			snprintf(c->w->first_error, sizeof(c->w->first_error),
				 "401 without a Digest challenge we can answer%s",
				 lg_run.o.algorithm ? " with --algorithm" : "");
			registration_failed(c, LG_FAIL_BAD_RESPONSE);
			return;
		}
		evtimer_del(c->timer);
		c->state = LG_WAIT_FINAL;
		int rc = send_register(c, &r.ch[i]);
		if (rc != 0) {
			snprintf(c->w->first_error, sizeof(c->w->first_error), "send: %s",
				 wims_strerror(rc));
			registration_failed(c, LG_FAIL_CLOSED);
			return;
		}
		lg_timer_arm(c, lg_run.o.timeout_ms);
		return;
	}
	lg_note_status_line(c->w, "REGISTER", p, len);
	registration_failed(c, r.status);
}

static void on_close(struct ws_conn *ws, int code, void *arg)
{
	struct lg_conn *c = arg;
	struct lg_worker *w = c->w;
	if (!c->opened) {
		w->conns_failed++;
		w->pending--;
		if (w->first_error[0] == '\0')
			snprintf(w->first_error, sizeof(w->first_error),
				 "connect: WebSocket close %d (%s), HTTP status %d", code,
				 ws_conn_close_reason(ws), ws_conn_http_status(ws));
		conn_settle(c);
		worker_connect_more(w);
	} else if (c->state != LG_CLOSING) {
		/* The server dropped us: the registration or call in flight
		 * failed and this connection is lost for the rest of the run. */
		w->conns_dropped++;
		conn_settle(c);
		if (c->state == LG_IN_CALL)
			lg_call_on_close(c);
		else if (!setting_up(c) &&
			 (c->state == LG_WAIT_CHALLENGE || c->state == LG_WAIT_FINAL))
			lg_record_failure(c, LG_FAIL_CLOSED, lg_now_ns());
		if (w->first_error[0] == '\0')
			snprintf(w->first_error, sizeof(w->first_error),
				 "connection closed by the server: %d (%s)", code,
				 ws_conn_close_reason(ws));
	}
	conn_free(c);
}

static const struct ws_callbacks lg_callbacks = {
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

/* --- phases, on the workers -------------------------------------------- */

static void conn_connect(struct lg_worker *w, struct lg_conn *c)
{
	char err[256];
	struct bufferevent *bev = net_connect_tcp(w->base, lg_run.o.host, lg_run.o.port,
						  lg_run.o.tls ? lg_run.tls : NULL, lg_run.o.host, err,
						  sizeof(err));
	w->pending++;
	if (bev) {
		struct ws_client_opts opts = {
			.host = lg_run.host_header,
			.path = lg_run.o.path,
			.origin = lg_run.o.origin,
			.subprotocol = "sip",
		};
		c->ws = ws_conn_connect_opts(bev, &opts, &lg_callbacks, c);
		if (c->ws)
			return;
		snprintf(err, sizeof(err), "out of memory");
	}
	/* No on_close will come for this one. */
	w->pending--;
	w->conns_failed++;
	if (w->first_error[0] == '\0')
		snprintf(w->first_error, sizeof(w->first_error), "connect: %s", err);
	conn_settle(c);
	conn_free(c);
}

static void worker_connect_more(struct lg_worker *w)
{
	while (w->pending < LG_MAX_PENDING_CONNECTS && w->next_connect < w->nconns) {
		struct lg_conn *c = w->conns[w->next_connect++];
		if (c)
			conn_connect(w, c);
	}
}

static void connect_each(int index, struct event_base *base, void *arg)
{
	struct lg_worker *w = &((struct lg_worker *)arg)[index];
	w->base = base;
	for (unsigned i = 0; i < w->nconns; i++) {
		struct lg_conn *c = w->conns[i];
		c->timer = evtimer_new(base, conn_timer_cb, c);
		if (!c->timer) {
			fprintf(stderr, "wims-loadgen: out of memory\n");
			exit(1);
		}
	}
	worker_connect_more(w);
}

static void start_each(int index, struct event_base *base, void *arg)
{
	struct lg_worker *w = &((struct lg_worker *)arg)[index];
	WIMS_UNUSED(base);
	for (unsigned i = 0; i < w->nconns; i++) {
		struct lg_conn *c = w->conns[i];
		if (!c || !c->opened || c->state != LG_IDLE)
			continue;
		if (c->registered)
			lg_call_begin(c);
		else if (!lg_run.o.call_target)
			registration_begin(c);
	}
}

static void close_each(int index, struct event_base *base, void *arg)
{
	struct lg_worker *w = &((struct lg_worker *)arg)[index];
	WIMS_UNUSED(base);
	for (unsigned i = 0; i < w->nconns; i++) {
		struct lg_conn *c = w->conns[i];
		if (!c)
			continue;
		c->state = LG_CLOSING;
		if (c->ws) {
			evtimer_del(c->timer);
			ws_conn_close(c->ws, WS_CLOSE_NORMAL, "load generator done");
			continue;
		}
		/* Never connected (the connect phase timed out first). */
		conn_free(c);
	}
}

/* --- options --------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wims-loadgen [options]\n"
		"  --host ADDR              server address, numeric or localhost (127.0.0.1)\n"
		"  --port N                 server port (7443)\n"
		"  --path PATH              WebSocket request target (/)\n"
		"  --origin URL             Origin header (https://127.0.0.1:8443); \"\" for none\n"
		"  --host-header H          Host header (ADDR:PORT)\n"
		"  --users FIRST-LAST       numbers of the subscribers to use (0-9999)\n"
		"  --user-pattern P         user part from the number (user%%04u)\n"
		"  --domain D               home domain: IMPI P@D, IMPU sip:P@D (ims.example.org)\n"
		"  --password-pattern P     password from the number (pw-%%u)\n"
		"  --connections N          connections, one subscriber each (10)\n"
		"  --duration S             measured seconds (10; a cap with --registrations)\n"
		"  --registrations N        stop after N registration attempts instead\n"
		"  --expires S              Expires asked for (600)\n"
		"  --threads N              worker threads (1)\n"
		"  --tls / --no-tls         wss:// (default) or ws://\n"
		"  --insecure               do not verify the server certificate\n"
		"  --algorithm A            answer only MD5, SHA-256, AKAv1-MD5 or\n"
		"                           AKAv2-SHA-256 challenges (default: the first\n"
		"                           MD5/SHA-256 challenge); with AKA each subscriber's\n"
		"                           K/OPc are the demo keys of its IMPI (aka_demo_keys)\n"
		"  --bearer-key FILE        register with Authorization: Bearer, tokens signed\n"
		"                           with this private ES256 JWK (no Digest)\n"
		"  --bearer-mode M          cached: one token per subscriber, reused (default);\n"
		"                           uncached: a new token (new jti) per registration\n"
		"  --bearer-pool N          uncached: tokens signed before the window\n"
		"                           (default %d per second of --duration)\n"
		"  --bearer-issuer URL      iss (" LG_BEARER_ISSUER ")\n"
		"  --bearer-audience A      aud (" LG_BEARER_AUDIENCE ")\n"
		"  --bearer-wwsf ID         wwsf and client_id (" LG_BEARER_WWSF ")\n"
		"  --bearer-scope S         scope (" LG_BEARER_SCOPE ")\n"
		"  --bearer-keygen JWKS     with --bearer-key FILE: write a new key to FILE and\n"
		"                           its JWKS to JWKS (neither may exist), then exit\n"
		"  --timeout MS             wait for each response at most (5000)\n"
		"  --fail-pause MS          pause after a failed registration (1000)\n"
		"  --connect-timeout S      give up waiting for connections (30)\n"
		"  --call URI               call mode: register once, then call URI in a loop\n"
		"                           (INVITE, ACK, BYE); URI may hold one %%u\n"
		"  --callees FIRST-LAST     numbers for the %%u of --call, taken in turn\n"
		"  --call-hold MS           time between the ACK and the BYE (0)\n"
		"  --calls N                stop after N call attempts instead\n"
		"  --label TEXT             name of the target in the RESULT line\n"
		"  --quiet                  no progress lines\n"
		"  --verbose                print the first failed responses whole\n"
		"Prints a summary on stderr and RESULT {json} on stdout; exits 0 when\n"
		"registrations (calls) succeeded and nothing failed.\n",
		LG_BEARER_POOL_RATE);
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* "FIRST-LAST", both numbers, FIRST <= LAST. */
static bool parse_range(const char *s, unsigned *first, unsigned *last)
{
	const char *dash = strchr(s, '-');
	unsigned long long a, b;
	char buf[24];
	if (!dash || (size_t)(dash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (!parse_uint(buf, UINT32_MAX, &a) || !parse_uint(dash + 1, UINT32_MAX, &b) || a > b)
		return false;
	*first = (unsigned)a;
	*last = (unsigned)b;
	return true;
}

static int parse_opts(int argc, char **argv, struct lg_opts *o)
{
	enum {
		O_HOST = 256, O_PORT, O_PATH, O_ORIGIN, O_HOST_HEADER, O_USERS, O_USER_PATTERN,
		O_DOMAIN, O_PASSWORD_PATTERN, O_CONNECTIONS, O_DURATION, O_REGISTRATIONS,
		O_EXPIRES, O_THREADS, O_TLS, O_NO_TLS, O_INSECURE, O_ALGORITHM, O_TIMEOUT,
		O_FAIL_PAUSE, O_CONNECT_TIMEOUT, O_LABEL, O_QUIET, O_VERBOSE, O_HELP,
		O_CALL, O_CALLEES, O_CALL_HOLD, O_CALLS, O_BEARER_KEY, O_BEARER_MODE,
		O_BEARER_POOL, O_BEARER_ISSUER, O_BEARER_AUDIENCE, O_BEARER_WWSF, O_BEARER_SCOPE,
		O_BEARER_KEYGEN,
	};
	static const struct option longopts[] = {
		{"host", required_argument, NULL, O_HOST},
		{"port", required_argument, NULL, O_PORT},
		{"path", required_argument, NULL, O_PATH},
		{"origin", required_argument, NULL, O_ORIGIN},
		{"host-header", required_argument, NULL, O_HOST_HEADER},
		{"users", required_argument, NULL, O_USERS},
		{"user-pattern", required_argument, NULL, O_USER_PATTERN},
		{"domain", required_argument, NULL, O_DOMAIN},
		{"password-pattern", required_argument, NULL, O_PASSWORD_PATTERN},
		{"connections", required_argument, NULL, O_CONNECTIONS},
		{"duration", required_argument, NULL, O_DURATION},
		{"registrations", required_argument, NULL, O_REGISTRATIONS},
		{"expires", required_argument, NULL, O_EXPIRES},
		{"threads", required_argument, NULL, O_THREADS},
		{"tls", no_argument, NULL, O_TLS},
		{"no-tls", no_argument, NULL, O_NO_TLS},
		{"insecure", no_argument, NULL, O_INSECURE},
		{"algorithm", required_argument, NULL, O_ALGORITHM},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"fail-pause", required_argument, NULL, O_FAIL_PAUSE},
		{"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
		{"label", required_argument, NULL, O_LABEL},
		{"quiet", no_argument, NULL, O_QUIET},
		{"verbose", no_argument, NULL, O_VERBOSE},
		{"help", no_argument, NULL, O_HELP},
		{"call", required_argument, NULL, O_CALL},
		{"callees", required_argument, NULL, O_CALLEES},
		{"call-hold", required_argument, NULL, O_CALL_HOLD},
		{"calls", required_argument, NULL, O_CALLS},
		{"bearer-key", required_argument, NULL, O_BEARER_KEY},
		{"bearer-mode", required_argument, NULL, O_BEARER_MODE},
		{"bearer-pool", required_argument, NULL, O_BEARER_POOL},
		{"bearer-issuer", required_argument, NULL, O_BEARER_ISSUER},
		{"bearer-audience", required_argument, NULL, O_BEARER_AUDIENCE},
		{"bearer-wwsf", required_argument, NULL, O_BEARER_WWSF},
		{"bearer-scope", required_argument, NULL, O_BEARER_SCOPE},
		{"bearer-keygen", required_argument, NULL, O_BEARER_KEYGEN},
		{NULL, 0, NULL, 0},
	};
	*o = (struct lg_opts){
		.host = "127.0.0.1",
		.port = 7443,
		.path = "/",
		.origin = "https://127.0.0.1:8443",
		.user_first = 0,
		.user_last = 9999,
		.user_pattern = "user%04u",
		.domain = "ims.example.org",
		.password_pattern = "pw-%u",
		.connections = 10,
		.duration = 10,
		.expires = 600,
		.threads = 1,
		.tls = true,
		.timeout_ms = 5000,
		.fail_pause_ms = 1000,
		.connect_timeout_s = 30,
		.label = "",
		.bearer = {
			.issuer = LG_BEARER_ISSUER,
			.audience = LG_BEARER_AUDIENCE,
			.wwsf = LG_BEARER_WWSF,
			.scope = LG_BEARER_SCOPE,
			.lifetime_s = LG_BEARER_LIFETIME_S,
		},
	};
	bool bearer_mode_set = false;
	unsigned long long v;
	bool callees = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_HOST: o->host = optarg; break;
		case O_PORT:
			if (!parse_uint(optarg, 65535, &v) || v == 0)
				goto bad;
			o->port = (int)v;
			break;
		case O_PATH: o->path = optarg; break;
		case O_ORIGIN: o->origin = optarg[0] ? optarg : NULL; break;
		case O_HOST_HEADER: o->host_header = optarg; break;
		case O_USERS:
			if (!parse_range(optarg, &o->user_first, &o->user_last))
				goto bad;
			break;
		case O_USER_PATTERN: o->user_pattern = optarg; break;
		case O_DOMAIN: o->domain = optarg; break;
		case O_PASSWORD_PATTERN: o->password_pattern = optarg; break;
		case O_CONNECTIONS:
			if (!parse_uint(optarg, 1000000, &v) || v == 0)
				goto bad;
			o->connections = (unsigned)v;
			break;
		case O_DURATION: {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || *end || !(d > 0) || d > LG_MAX_SECONDS)
				goto bad;
			o->duration = d;
			break;
		}
		case O_REGISTRATIONS:
			if (!parse_uint(optarg, UINT64_MAX / 2, &v) || v == 0)
				goto bad;
			o->max_attempts = v;
			break;
		case O_EXPIRES:
			if (!parse_uint(optarg, 86400, &v))
				goto bad;
			o->expires = (unsigned)v;
			break;
		case O_THREADS:
			if (!parse_uint(optarg, 64, &v) || v == 0)
				goto bad;
			o->threads = (int)v;
			break;
		case O_TLS: o->tls = true; break;
		case O_NO_TLS: o->tls = false; break;
		case O_INSECURE: o->insecure = true; break;
		case O_ALGORITHM: {
			enum aka_version av;
			if (aka_version_parse(slice_from_cstr(optarg), &av) == 0)
				o->aka = (int)av;
			else if (strcasecmp(optarg, "MD5") != 0 && strcasecmp(optarg, "SHA-256") != 0)
				goto bad;
			o->algorithm = optarg;
			break;
		}
		case O_TIMEOUT:
			if (!parse_uint(optarg, 600000, &v) || v == 0)
				goto bad;
			o->timeout_ms = (unsigned)v;
			break;
		case O_FAIL_PAUSE:
			if (!parse_uint(optarg, 600000, &v))
				goto bad;
			o->fail_pause_ms = (unsigned)v;
			break;
		case O_CONNECT_TIMEOUT:
			if (!parse_uint(optarg, 3600, &v) || v == 0)
				goto bad;
			o->connect_timeout_s = (unsigned)v;
			break;
		case O_LABEL: o->label = optarg; break;
		case O_CALL: o->call_target = optarg; break;
		case O_CALLEES:
			if (!parse_range(optarg, &o->callee_first, &o->callee_last))
				goto bad;
			callees = true;
			break;
		case O_CALL_HOLD:
			if (!parse_uint(optarg, 600000, &v))
				goto bad;
			o->call_hold_ms = (unsigned)v;
			break;
		case O_CALLS:
			if (!parse_uint(optarg, UINT64_MAX / 2, &v) || v == 0)
				goto bad;
			o->max_attempts = v;
			break;
		case O_BEARER_KEY: o->bearer_key = optarg; break;
		case O_BEARER_MODE:
			if (strcmp(optarg, "cached") == 0)
				o->bearer_mode = LG_BEARER_CACHED;
			else if (strcmp(optarg, "uncached") == 0)
				o->bearer_mode = LG_BEARER_UNCACHED;
			else
				goto bad;
			bearer_mode_set = true;
			break;
		case O_BEARER_POOL:
			if (!parse_uint(optarg, LG_BEARER_POOL_MAX, &v) || v == 0)
				goto bad;
			o->bearer_pool = v;
			break;
		case O_BEARER_ISSUER: o->bearer.issuer = optarg; break;
		case O_BEARER_AUDIENCE: o->bearer.audience = optarg; break;
		case O_BEARER_WWSF: o->bearer.wwsf = optarg; break;
		case O_BEARER_SCOPE: o->bearer.scope = optarg; break;
		case O_BEARER_KEYGEN: o->bearer_keygen = optarg; break;
		case O_QUIET: o->quiet = true; break;
		case O_VERBOSE: o->verbose = true; break;
		case 'h':
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wims-loadgen: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (!pattern_check(o->user_pattern, 1) || !pattern_check(o->password_pattern, 1)) {
		fprintf(stderr, "wims-loadgen: a pattern may hold one %%u (with 0 and a width) and %%%%\n");
		return -1;
	}
	if (o->call_target) {
		if (!pattern_check(o->call_target, 1) ||
		    strncasecmp(o->call_target, "sip", 3) != 0 || !strchr(o->call_target, ':')) {
			fprintf(stderr, "wims-loadgen: --call wants a sip: or sips: URI with at most one %%u\n");
			return -1;
		}
		if (callees != (pattern_conversions(o->call_target) == 1)) {
			fprintf(stderr, "wims-loadgen: --callees goes with a --call URI holding %%u\n");
			return -1;
		}
	} else if (callees || o->call_hold_ms) {
		fprintf(stderr, "wims-loadgen: --callees and --call-hold need --call\n");
		return -1;
	}
	if (o->bearer_key) {
		if (o->algorithm) {
			fprintf(stderr, "wims-loadgen: --bearer-key registers without Digest: no --algorithm\n");
			return -1;
		}
		if (!bearer_mode_set)
			o->bearer_mode = LG_BEARER_CACHED;
		if (o->bearer_pool && o->bearer_mode != LG_BEARER_UNCACHED) {
			fprintf(stderr, "wims-loadgen: --bearer-pool goes with --bearer-mode uncached\n");
			return -1;
		}
	} else if (bearer_mode_set || o->bearer_pool || o->bearer_keygen) {
		fprintf(stderr, "wims-loadgen: --bearer-mode, --bearer-pool and --bearer-keygen need --bearer-key\n");
		return -1;
	}
	if ((unsigned long long)o->user_last - o->user_first + 1 < o->connections) {
		fprintf(stderr, "wims-loadgen: --users %u-%u has fewer subscribers than --connections %u\n",
			o->user_first, o->user_last, o->connections);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "wims-loadgen: bad value for an option: %s\n", optarg);
	usage(stderr);
	return -1;
}

/* --- report ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), in milliseconds. */
static double percentile_ms(const uint32_t *v, size_t n, double pct)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)((pct / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1] / 1000.0;
}

static const char *fail_name(int slot, char *buf, size_t bufsz)
{
	switch (slot) {
	case LG_FAIL_TIMEOUT: return "timeout";
	case LG_FAIL_CLOSED: return "closed";
	case LG_FAIL_BAD_RESPONSE: return "unusable";
	default: snprintf(buf, bufsz, "%d", slot); return buf;
	}
}

static int report(struct lg_worker *ws, int nw, double elapsed_s)
{
	uint64_t ok = 0, failed = 0, unchallenged = 0, fail[LG_FAIL_SLOTS] = {0};
	uint64_t requests_answered = 0;
	unsigned conns_open = 0, conns_failed = 0, conns_dropped = 0;
	size_t nlat = 0;
	const char *algorithm = "", *first_error = "";
	for (int i = 0; i < nw; i++) {
		ok += ws[i].ok;
		failed += ws[i].failed;
		unchallenged += ws[i].unchallenged;
		requests_answered += ws[i].requests_answered;
		conns_open += ws[i].conns_open;
		conns_failed += ws[i].conns_failed;
		conns_dropped += ws[i].conns_dropped;
		nlat += ws[i].nlat;
		for (int s = 0; s < LG_FAIL_SLOTS; s++)
			fail[s] += ws[i].fail[s];
		if (!algorithm[0])
			algorithm = ws[i].algorithm_used;
		if (!first_error[0])
			first_error = ws[i].first_error;
	}
	uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof(*lat));
	if (!lat)
		return 1;
	size_t k = 0;
	for (int i = 0; i < nw; i++) {
		if (ws[i].nlat)
			memcpy(lat + k, ws[i].lat_us, ws[i].nlat * sizeof(*lat));
		k += ws[i].nlat;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u32);

	/* Per-second timeline: whole seconds of the window only (the last,
	 * partial one would drag the median down). */
	unsigned nsec = (unsigned)elapsed_s;
	if (nsec > LG_MAX_SECONDS)
		nsec = LG_MAX_SECONDS;
	uint64_t timeline[LG_MAX_SECONDS], sorted[LG_MAX_SECONDS];
	for (unsigned s = 0; s < nsec; s++) {
		timeline[s] = 0;
		for (int i = 0; i < nw; i++)
			timeline[s] += ws[i].per_sec[s];
		sorted[s] = timeline[s];
	}
	qsort(sorted, nsec, sizeof(sorted[0]), cmp_u64);
	double median_rate = 0;
	if (nsec)
		median_rate = nsec % 2 ? (double)sorted[nsec / 2]
				       : (sorted[nsec / 2 - 1] + sorted[nsec / 2]) / 2.0;
	double rate = elapsed_s > 0 ? (double)ok / elapsed_s : 0;
	double p50 = percentile_ms(lat, nlat, 50), p90 = percentile_ms(lat, nlat, 90);
	double p99 = percentile_ms(lat, nlat, 99), max = nlat ? lat[nlat - 1] / 1000.0 : 0;
	free(lat);

	char target[400];
	snprintf(target, sizeof(target), "%s://%s:%d%s", lg_run.o.tls ? "wss" : "ws", lg_run.o.host,
		 lg_run.o.port, lg_run.o.path);
	fprintf(stderr, "wims-loadgen: %s%s%s%s: %u connections (%u open, %u failed, %u dropped), "
		"%d thread%s, %.1f s\n",
		target, lg_run.o.label[0] ? " (" : "", lg_run.o.label, lg_run.o.label[0] ? ")" : "",
		lg_run.o.connections, conns_open, conns_failed, conns_dropped, nw, nw > 1 ? "s" : "",
		elapsed_s);
	bool calls = lg_run.o.call_target != NULL;
	const char *what = calls ? "calls" : "registrations";
	fprintf(stderr, "  %s: %llu ok, %llu failed; %salgorithm %s%s\n", what,
		(unsigned long long)ok, (unsigned long long)failed, calls ? "registered with " : "",
		algorithm[0] ? algorithm : "-", unchallenged ? " (some were not challenged)" : "");
	if (calls)
		fprintf(stderr, "  calls to %s, %llu requests from the server answered\n",
			lg_run.o.call_target, (unsigned long long)requests_answered);
	fprintf(stderr, "  rate: %.1f/s overall, median %.1f/s over %u whole seconds\n", rate,
		median_rate, nsec);
	fprintf(stderr, "  %slatency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
		calls ? "call setup (INVITE to 200) " : "", p50, p90, p99, max);
	json_t *fails = json_object();
	for (int s = 0; s < LG_FAIL_SLOTS; s++) {
		if (!fail[s])
			continue;
		char buf[16];
		const char *name = fail_name(s, buf, sizeof(buf));
		fprintf(stderr, "  failures %s: %llu\n", name, (unsigned long long)fail[s]);
		json_object_set_new(fails, name, json_integer((json_int_t)fail[s]));
	}
	uint64_t signed_inline = 0;
	for (int i = 0; i < nw; i++)
		signed_inline += ws[i].bearer_signed_inline;
	if (lg_run.o.bearer_mode != LG_BEARER_NONE)
		fprintf(stderr, "  bearer tokens: %llu signed before the window (%.1f s), %llu in it%s\n",
			(unsigned long long)bearer_presigned, bearer_presign_s,
			(unsigned long long)signed_inline,
			signed_inline ? " (the pool ran out: the generator's ECDSA cost is in this run)"
				      : "");
	if (first_error[0])
		fprintf(stderr, "  first error: %s\n", first_error);

	json_t *tl = json_array();
	for (unsigned s = 0; s < nsec; s++)
		json_array_append_new(tl, json_integer((json_int_t)timeline[s]));
	json_t *res = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:f, s:f,"
				" s:{s:f, s:f, s:f, s:f}, s:o, s:o, s:s, s:s}",
				"label", lg_run.o.label, "target", target,
				"connections", (int)lg_run.o.connections,
				"connections_open", (int)conns_open,
				"connections_failed", (int)(conns_failed + conns_dropped),
				"threads", nw, "expires", (int)lg_run.o.expires,
				"duration_s", elapsed_s,
				what, (json_int_t)ok,
				"failures", (json_int_t)failed,
				"unchallenged", (json_int_t)unchallenged,
				"rate", rate, "rate_median", median_rate,
				"latency_ms", "p50", p50, "p90", p90, "p99", p99, "max", max,
				"failures_by_code", fails, "timeline", tl,
				"algorithm", algorithm, "first_error", first_error);
	if (res && lg_run.o.bearer_mode != LG_BEARER_NONE) {
		json_object_set_new(res, "bearer_mode",
				    json_string(lg_run.o.bearer_mode == LG_BEARER_UNCACHED ? "uncached"
											   : "cached"));
		json_object_set_new(res, "bearer_presigned", json_integer((json_int_t)bearer_presigned));
		json_object_set_new(res, "bearer_signed_in_window",
				    json_integer((json_int_t)signed_inline));
	}
	if (res && calls) {
		json_object_set_new(res, "mode", json_string("call"));
		json_object_set_new(res, "call_target", json_string(lg_run.o.call_target));
		json_object_set_new(res, "call_hold_ms", json_integer(lg_run.o.call_hold_ms));
		json_object_set_new(res, "requests_answered",
				    json_integer((json_int_t)requests_answered));
	}
	if (res) {
		char *line = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6));
		if (line)
			printf("RESULT %s\n", line);
		free(line);
		json_decref(res);
	}
	fflush(stdout);
	return ok > 0 && failed == 0 && conns_failed == 0 && conns_dropped == 0 ? 0 : 1;
}

/* --- main --------------------------------------------------------------- */

/*
 * Bearer mode: every token of the run signed now, before the connections
 * open, on all cores (the window must not pay for the generator's ECDSA):
 * one per connection when cached; when uncached --bearer-pool of them, by
 * default LG_BEARER_POOL_RATE per second of --duration (or what
 * --registrations can use), spread evenly.  Each worker loads its own copy
 * of the key for a connection that spends its share.
 */
static int bearer_setup(struct lg_worker *ws, int nw)
{
	const struct lg_opts *o = &lg_run.o;
	char err[256];
	unsigned per_conn = 1;
	if (o->bearer_mode == LG_BEARER_UNCACHED) {
		uint64_t pool = o->bearer_pool;
		if (!pool && o->max_attempts)
			pool = o->max_attempts + o->connections;
		if (!pool)
			pool = (uint64_t)(o->duration * LG_BEARER_POOL_RATE);
		if (!o->bearer_pool && pool > LG_BEARER_POOL_DEFAULT_MAX)
			pool = LG_BEARER_POOL_DEFAULT_MAX;
		per_conn = (unsigned)((pool + o->connections - 1) / o->connections);
		if (per_conn == 0)
			per_conn = 1;
	}
	struct lg_conn **all = calloc(o->connections, sizeof(*all));
	if (!all)
		return WIMS_ENOMEM;
	unsigned n = 0;
	for (int i = 0; i < nw; i++)
		for (unsigned k = 0; k < ws[i].nconns; k++)
			all[n++] = ws[i].conns[k];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (!o->quiet)
		fprintf(stderr, "wims-loadgen: signing %llu bearer token(s) on %ld core(s)...\n",
			(unsigned long long)per_conn * n, cores);
	uint64_t t = lg_now_ns();
	int rc = lg_bearer_presign(o->bearer_key, &o->bearer, all, n, per_conn, (int64_t)time(NULL),
				   cores > 0 && cores < 64 ? (unsigned)cores : 1, err, sizeof(err));
	free(all);
	bearer_presign_s = (double)(lg_now_ns() - t) / NS_PER_S;
	if (rc != 0) {
		fprintf(stderr, "wims-loadgen: %s\n", err);
		return rc;
	}
	bearer_presigned = (uint64_t)per_conn * n;
	if (!o->quiet)
		fprintf(stderr, "wims-loadgen: signed in %.2f s\n", bearer_presign_s);
	for (int i = 0; i < nw && o->bearer_mode == LG_BEARER_UNCACHED; i++) {
		ws[i].bearer_key = lg_bearer_key_load(o->bearer_key, err, sizeof(err));
		if (!ws[i].bearer_key) {
			fprintf(stderr, "wims-loadgen: %s\n", err);
			return WIMS_EINVAL;
		}
	}
	return 0;
}

static void on_signal(int sig)
{
	WIMS_UNUSED(sig);
	interrupted = 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !interrupted)
		;
}

int main(int argc, char **argv)
{
	if (parse_opts(argc, argv, &lg_run.o) != 0)
		return 2;
	struct lg_opts *o = &lg_run.o;
	char err[256];
	if (o->bearer_keygen) {
		if (lg_bearer_keygen(o->bearer_key, o->bearer_keygen, err, sizeof(err)) != 0) {
			fprintf(stderr, "wims-loadgen: %s\n", err);
			return 1;
		}
		printf("wrote the private JWK %s and the JWKS %s\n", o->bearer_key, o->bearer_keygen);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (o->host_header)
		snprintf(lg_run.host_header, sizeof(lg_run.host_header), "%s", o->host_header);
	else if (strchr(o->host, ':'))
		snprintf(lg_run.host_header, sizeof(lg_run.host_header), "[%s]:%d", o->host, o->port);
	else
		snprintf(lg_run.host_header, sizeof(lg_run.host_header), "%s:%d", o->host, o->port);

	if (o->tls) {
		lg_run.tls = tls_client_ctx_new(NULL, !o->insecure, err, sizeof(err));
		if (!lg_run.tls) {
			fprintf(stderr, "wims-loadgen: %s\n", err);
			return 1;
		}
	}

	int nw = o->threads;
	struct lg_worker *ws = calloc((size_t)nw, sizeof(*ws));
	if (!ws)
		return 1;
	uint64_t seed;
	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		seed = lg_now_ns();
	for (int i = 0; i < nw; i++) {
		ws[i].index = i;
		ws[i].rng = seed + (uint64_t)i * 0x1000193u;
		ws[i].conns = calloc(o->connections / (unsigned)nw + 1, sizeof(struct lg_conn *));
		if (!ws[i].conns)
			return 1;
	}
	/* Connection i is subscriber user_first + i, on worker i % threads. */
	for (unsigned i = 0; i < o->connections; i++) {
		struct lg_worker *w = &ws[i % (unsigned)nw];
		struct lg_conn *c = calloc(1, sizeof(*c));
		if (!c)
			return 1;
		c->w = w;
		c->user = o->user_first + i;
		char pw[LG_ID_MAX];
		if (lg_pattern_format(o->user_pattern, c->user, c->user_part, sizeof(c->user_part)) < 0 ||
		    lg_pattern_format(o->password_pattern, c->user, pw, sizeof(pw)) < 0 ||
		    (size_t)snprintf(c->impi, sizeof(c->impi), "%s@%s", c->user_part, o->domain) >=
			    sizeof(c->impi) ||
		    (size_t)snprintf(c->impu, sizeof(c->impu), "sip:%s", c->impi) >= sizeof(c->impu)) {
			fprintf(stderr, "wims-loadgen: identity or password too long\n");
			return 2;
		}
		memcpy(c->password, pw, sizeof(pw));
		OPENSSL_cleanse(pw, sizeof(pw));
		lg_rand_hex(w, c->call_id, 24);
		lg_rand_hex(w, c->from_tag, 12);
		lg_rand_hex(w, c->contact_host, 12);
		memcpy(c->contact_host + 12, ".invalid", 9);
		c->cseq = (uint32_t)(lg_rand(w) % 1000) + 1;
		c->ha1_alg = -1;
		if (o->aka && aka_demo_keys(c->impi, &c->aka_keys) != 0) {
			fprintf(stderr, "wims-loadgen: no AKA keys for %s\n", c->impi);
			return 1;
		}
		c->index = i;
		if (o->call_target && lg_call_new(c) != 0) {
			fprintf(stderr, "wims-loadgen: out of memory\n");
			return 1;
		}
		w->conns[w->nconns++] = c;
	}
	atomic_store(&lg_run.live, o->connections);
	if (o->bearer_key && bearer_setup(ws, nw) != 0)
		return 1;

	struct wims_workers *pool = workers_new(nw, "loadgen");
	if (!pool) {
		fprintf(stderr, "wims-loadgen: cannot start %d worker threads\n", nw);
		return 1;
	}

	/* Phase 1: connect. */
	uint64_t t_connect = lg_now_ns();
	workers_run_each(pool, connect_each, ws);
	while (atomic_load(&lg_run.settled) < o->connections && !interrupted &&
	       lg_now_ns() - t_connect < (uint64_t)o->connect_timeout_s * NS_PER_S)
		sleep_ms(10);
	if (!o->quiet)
		fprintf(stderr, "wims-loadgen: %u/%u connections settled in %.2f s\n",
			atomic_load(&lg_run.settled), o->connections,
			(double)(lg_now_ns() - t_connect) / NS_PER_S);

	/* Phase 2: the measured window. */
	lg_run.t0 = lg_now_ns();
	lg_run.t_end = lg_run.t0 + (uint64_t)(o->duration * (double)NS_PER_S);
	atomic_store_explicit(&lg_run.measuring, 1, memory_order_release);
	workers_run_each(pool, start_each, ws);
	uint64_t last_ok = 0, next_tick = lg_run.t0 + NS_PER_S;
	unsigned sec = 0;
	for (;;) {
		uint64_t t = lg_now_ns();
		if (t >= lg_run.t_end || interrupted)
			break;
		if (o->max_attempts && atomic_load(&lg_run.completed) >= o->max_attempts)
			break;
		if (t >= next_tick) {
			uint64_t okn = atomic_load(&lg_run.ok);
			if (!o->quiet)
				fprintf(stderr, "  t=%us %llu %s/s\n", ++sec,
					(unsigned long long)(okn - last_ok), o->call_target ? "calls" : "reg");
			last_ok = okn;
			next_tick += NS_PER_S;
		}
		sleep_ms(5);
	}
	uint64_t t_stop = lg_now_ns();
	if (t_stop > lg_run.t_end)
		t_stop = lg_run.t_end;
	atomic_store_explicit(&lg_run.measuring, 2, memory_order_release);
	double elapsed = (double)(t_stop - lg_run.t0) / NS_PER_S;

	/* Calls in flight finish (ACK, BYE) without being counted, so that
	 * the servers are not left holding half-done dialogs for the next
	 * run; a call that does not end within --timeout is dropped with its
	 * connection. */
	uint64_t t_drain = lg_now_ns();
	while (o->call_target && atomic_load(&lg_run.calls_in_flight) > 0 &&
	       lg_now_ns() - t_drain < (uint64_t)o->timeout_ms * 1000000u && !interrupted)
		sleep_ms(5);

	/* Phase 3: close, wait for every on_close, join. */
	workers_run_each(pool, close_each, ws);
	uint64_t t_close = lg_now_ns();
	while (atomic_load(&lg_run.live) > 0 && lg_now_ns() - t_close < 5 * NS_PER_S)
		sleep_ms(5);
	if (atomic_load(&lg_run.live) > 0)
		fprintf(stderr, "wims-loadgen: %u connections did not close in time\n",
			atomic_load(&lg_run.live));
	workers_stop_and_free(pool);

	int rc = report(ws, nw, elapsed);
	for (int i = 0; i < nw; i++) {
		free(ws[i].lat_us);
		free(ws[i].conns);
	}
	for (int i = 0; i < nw; i++)
		jwt_key_free(ws[i].bearer_key);
	free(ws);
	SSL_CTX_free(lg_run.tls);
	return interrupted && rc == 0 ? 1 : rc;
}
