/*
 * proxy.c - server and client transactions of the forking proxy (see
 * proxy.h).
 *
 * Each server transaction (struct stxn) keeps a copy of the request it
 * answers (to build our own responses: 100, 408, 480, 487) and owns its
 * branches (struct branch), each with a copy of the request as sent on it
 * (retransmissions, and the CANCEL and ACK built from it).  Two hash
 * tables find them: server transactions by the RFC 3261 17.2.3 key of the
 * request, branches by the 17.1.3 key of their responses.  Timers are
 * deadlines in the structs, not events, so that the state machine stays
 * free of libevent.  cscf_proxy_tick walks the transactions still at work
 * (the active list).  Answered ones only wait out Timer J or I (UDP): each
 * waits in a queue of its own, which stays sorted because every entry
 * gets the same delay, so the tick looks at the heads only; at thousands
 * of requests a second on UDP, walking those too would cost more than the
 * requests.
 */
#include "cscf/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "sip/build.h"
#include "sip/txn.h"
#include "sip/via.h"

#define BUCKETS 4096

enum sstate {
	S_PROCEEDING, /* branches running */
	S_COMPLETED,  /* INVITE: non-2xx final sent, waiting for the ACK */
	S_LINGER,     /* answered: absorbing retransmissions until end_at */
};

struct stxn;

/* A list of server transactions in the order they joined it. */
struct txn_list {
	struct stxn *head, *tail;
};

struct branch {
	struct stxn *t;
	struct sip_txn_key key; /* branch + INVITE/method */
	struct branch *hnext;
	struct cscf_hop hop;
	struct buf req;
	char *contact;
	int status; /* highest response so far, 0 none */
	bool done;
	bool cancel_wanted, cancel_sent;
	struct buf cancel;
	int64_t rt_at, rt_iv;   /* request retransmission (UDP) */
	int64_t crt_at, crt_iv; /* CANCEL retransmission (UDP) */
	int64_t timeout_at;     /* Timer B/F; after CANCEL: 64*T1 */
	int64_t c_at;           /* Timer C */
};

struct stxn {
	struct cscf_proxy *p;
	struct sip_txn_key key;
	struct stxn *hnext;
	struct txn_list *list; /* the proxy's active list or a linger queue */
	struct stxn *prev, *next;
	struct cscf_peer from;
	char *req;
	size_t reqlen;
	enum sip_method method;
	enum sstate state;
	bool canceled, final_sent, got_2xx;
	char to_tag[32];
	struct buf last;    /* last response sent upstream */
	int best;           /* best final non-2xx so far, 0 none */
	bool best_flow;     /* ... a 430 (answered 480 + Warning) */
	struct buf bestmsg; /* its bytes (Via popped); empty: ours */
	unsigned nb;
	struct branch *b[WIMS_CSCF_MAX_BRANCHES];
	int64_t end_at;     /* S_COMPLETED: Timer H; S_LINGER: J/L/I */
	int64_t g_at, g_iv; /* final response retransmission (UDP) */
};

struct cscf_proxy {
	struct cscf_proxy_conf conf;
	struct cscf_proxy_io io;
	unsigned count;
	struct txn_list active;   /* not answered, or INVITE waiting for the ACK */
	struct txn_list linger_j; /* answered, absorbing until Timer J / L */
	struct txn_list linger_i; /* ACKed non-2xx, absorbing until Timer I */
	struct stxn *sbuckets[BUCKETS];
	struct branch *cbuckets[BUCKETS];
};

static void list_append(struct txn_list *l, struct stxn *t)
{
	t->list = l;
	t->next = NULL;
	t->prev = l->tail;
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
}

static void list_unlink(struct stxn *t)
{
	struct txn_list *l = t->list;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->tail = t->prev;
	t->list = NULL;
}

static unsigned bucket(const struct sip_txn_key *k)
{
	return sip_txn_key_hash(k) % BUCKETS;
}

struct cscf_proxy *cscf_proxy_new(const struct cscf_proxy_conf *conf,
				  const struct cscf_proxy_io *io)
{
	struct cscf_proxy *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = *conf;
	p->io = *io;
	if (p->conf.timer_c_ms <= 0)
		p->conf.timer_c_ms = SIP_TIMER_C_MS;
	if (!p->conf.max_txns)
		p->conf.max_txns = WIMS_CSCF_MAX_TXNS;
	return p;
}

/* --- lookup --- */

static struct stxn *stxn_find(struct cscf_proxy *p, const struct sip_txn_key *k)
{
	for (struct stxn *t = p->sbuckets[bucket(k)]; t; t = t->hnext)
		if (sip_txn_key_eq(&t->key, k))
			return t;
	return NULL;
}

static struct branch *branch_find(struct cscf_proxy *p, const struct sip_txn_key *k)
{
	for (struct branch *b = p->cbuckets[bucket(k)]; b; b = b->hnext)
		if (sip_txn_key_eq(&b->key, k))
			return b;
	return NULL;
}

static void branch_free(struct cscf_proxy *p, struct branch *b)
{
	struct branch **pp = &p->cbuckets[bucket(&b->key)];
	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
	buf_free(&b->req);
	buf_free(&b->cancel);
	free(b->contact);
	free(b);
}

static void stxn_free(struct stxn *t)
{
	struct cscf_proxy *p = t->p;
	struct stxn **pp = &p->sbuckets[bucket(&t->key)];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	list_unlink(t);
	for (unsigned i = 0; i < t->nb; i++)
		branch_free(p, t->b[i]);
	buf_free(&t->last);
	buf_free(&t->bestmsg);
	free(t->req);
	free(t);
	p->count--;
}

void cscf_proxy_free(struct cscf_proxy *p)
{
	if (!p)
		return;
	while (p->active.head)
		stxn_free(p->active.head);
	while (p->linger_j.head)
		stxn_free(p->linger_j.head);
	while (p->linger_i.head)
		stxn_free(p->linger_i.head);
	free(p);
}

unsigned cscf_proxy_count(const struct cscf_proxy *p)
{
	return p->count;
}

unsigned cscf_proxy_count_pending(const struct cscf_proxy *p)
{
	unsigned n = 0;
	for (const struct stxn *t = p->active.head; t; t = t->next)
		n++;
	return n;
}

/* Answered: from the active list to queue q until `until` (every entry of
 * q waits the same time, so q stays in deadline order). */
static void linger(struct stxn *t, struct txn_list *q, int64_t until)
{
	list_unlink(t);
	t->state = S_LINGER;
	t->g_at = 0;
	t->end_at = until;
	list_append(q, t);
}

/* --- upstream --- */

static void send_up(struct stxn *t, const struct buf *b)
{
	if (b->len && !b->err)
		t->p->io.send_up(t->p->io.arg, &t->from, b->p, b->len);
}

/* Keep msg as the last response and send it. */
static void up_keep(struct stxn *t, struct buf *msg)
{
	buf_free(&t->last);
	t->last = *msg;
	*msg = (struct buf){NULL, 0, 0, 0, 0};
	send_up(t, &t->last);
}

/* Our own response to the server transaction's request. */
static int own_response(struct stxn *t, int status, const char *reason, const char *warning,
			struct buf *out)
{
	struct sip_msg m;
	const char *why;
	if (sip_msg_parse(&m, t->req, t->reqlen, SIP_FRAMING_DATAGRAM, &why) < 0)
		return WIMS_EPARSE;
	struct sip_response_opts o = {
		.to_tag = status > 100 ? t->to_tag : NULL,
		.server = t->p->conf.server,
		.warning = warning,
	};
	return sip_build_response_opts(out, &m, status, reason, &o);
}

/* --- downstream --- */

static int send_down(struct branch *b, const struct buf *msg)
{
	struct cscf_proxy *p = b->t->p;
	if (msg->err || !msg->len)
		return WIMS_EINVAL;
	return p->io.send_down(p->io.arg, &b->hop, msg->p, msg->len);
}

static void branch_end(struct branch *b, int status, const struct sip_msg *resp, int64_t now);

static void send_cancel(struct branch *b, int64_t now)
{
	struct sip_msg req;
	const char *why;
	b->cancel_sent = true;
	buf_reset(&b->cancel);
	if (sip_msg_parse(&req, b->req.p, b->req.len, SIP_FRAMING_DATAGRAM, &why) < 0 ||
	    sip_build_cancel(&b->cancel, &req) != 0 || send_down(b, &b->cancel) != 0) {
		/* ended by the next tick, not here: our callers walk the
		 * branches of a transaction that must stay alive */
		b->c_at = 0;
		b->timeout_at = now;
		return;
	}
	b->c_at = 0;
	b->rt_at = 0;
	/* RFC 3261 9.1: no final answer 64*T1 after the CANCEL: give up. */
	b->timeout_at = now + SIP_TIMER_B_MS;
	if (b->hop.transport == CSCF_UDP) {
		b->crt_iv = SIP_T1_MS;
		b->crt_at = now + b->crt_iv;
	}
}

/* CANCEL a branch of an INVITE: at once if it has a provisional (RFC
 * 3261 9.1), else when its first provisional comes. */
static void branch_cancel(struct branch *b, int64_t now)
{
	if (b->done || b->t->method != SIP_METHOD_INVITE)
		return;
	b->cancel_wanted = true;
	if (b->status >= 100 && !b->cancel_sent)
		send_cancel(b, now);
}

static void cancel_others(struct stxn *t, const struct branch *keep, int64_t now)
{
	for (unsigned i = 0; i < t->nb; i++)
		if (t->b[i] != keep)
			branch_cancel(t->b[i], now);
}

/* --- responses --- */

/* Is status better than the best so far (RFC 3261 16.7 step 6)? */
static bool better(const struct stxn *t, int status, bool ours)
{
	int cls = status / 100, bcls = t->best / 100;
	if (!t->best)
		return true;
	if (bcls == 6)
		return false;
	if (cls == 6)
		return true;
	if (cls != bcls)
		return cls < bcls;
	/* Same class: a peer's answer says more than our own timeout. */
	return t->bestmsg.len == 0 && !ours;
}

/* A branch's final non-2xx (resp NULL: ours, e.g. 408 or 503). */
static void consider(struct stxn *t, int status, const struct sip_msg *resp)
{
	bool flow = status == 430;
	if (flow)
		status = 480;
	if (!better(t, status, resp == NULL || flow))
		return;
	t->best = status;
	t->best_flow = flow;
	buf_reset(&t->bestmsg);
	if (resp && !flow && sip_build_response_upstream(&t->bestmsg, resp) != 0)
		buf_reset(&t->bestmsg);
}

static void check_done(struct stxn *t, int64_t now);

/* A branch got its final answer; the caller runs check_done() (which may
 * free the transaction) once it is done with the branches. */
static void branch_end(struct branch *b, int status, const struct sip_msg *resp, int64_t now)
{
	if (b->done)
		return;
	b->done = true;
	b->status = status;
	b->rt_at = b->crt_at = b->timeout_at = b->c_at = 0;
	struct stxn *t = b->t;
	if (status >= 200 && status < 300)
		return;
	if (status == 430 && b->contact)
		t->p->io.flow_failed(t->p->io.arg, b->contact);
	consider(t, status, resp);
	if (status >= 600 && t->method == SIP_METHOD_INVITE)
		cancel_others(t, b, now);
}

static void branch_ended(struct branch *b, int status, const struct sip_msg *resp, int64_t now)
{
	struct stxn *t = b->t;
	branch_end(b, status, resp, now);
	check_done(t, now);
}

/* Every branch ended: the final answer goes up (unless a 2xx did). */
static void check_done(struct stxn *t, int64_t now)
{
	for (unsigned i = 0; i < t->nb; i++)
		if (!t->b[i]->done)
			return;
	if (t->state != S_PROCEEDING)
		return;
	bool udp = t->from.transport == CSCF_UDP;
	if (!t->final_sent) {
		struct buf out = BUF_INIT;
		char warn[200];
		if (t->canceled) {
			own_response(t, 487, NULL, NULL, &out);
		} else if (t->best_flow) {
			snprintf(warn, sizeof(warn), "399 %s \"Flow failed: the callee's connection is gone\"",
				 t->p->conf.warn_agent ? t->p->conf.warn_agent : "cscf");
			own_response(t, 480, NULL, warn, &out);
		} else if (t->best == 503) {
			/* RFC 3261 16.7 step 6: a 503 means the next hop is
			 * overloaded or gone, not us: upstream it is a 500 */
			own_response(t, 500, "Next hop unavailable", NULL, &out);
		} else if (t->bestmsg.len) {
			buf_append(&out, t->bestmsg.p, t->bestmsg.len);
		} else {
			own_response(t, t->best ? t->best : 408, NULL, NULL, &out);
		}
		t->final_sent = true;
		up_keep(t, &out);
		buf_free(&out);
		if (t->method == SIP_METHOD_INVITE) {
			/* RFC 3261 17.2.1: wait for the ACK; G retransmits on UDP. */
			t->state = S_COMPLETED;
			t->end_at = now + SIP_TIMER_H_MS;
			if (udp) {
				t->g_iv = SIP_TIMER_G_MS;
				t->g_at = now + t->g_iv;
			}
			return;
		}
	}
	/* Answered: keep absorbing retransmissions on UDP (Timer J for a
	 * non-INVITE, RFC 6026 Timer L after an INVITE's 2xx). */
	if (!udp) {
		stxn_free(t);
		return;
	}
	linger(t, &t->p->linger_j, now + SIP_TIMER_J_MS);
}

static void provisional(struct branch *b, const struct sip_msg *m, int64_t now)
{
	struct stxn *t = b->t;
	if (m->status > b->status)
		b->status = m->status;
	if (t->method == SIP_METHOD_INVITE) {
		/* RFC 3261 17.1.1.2: Proceeding, no more retransmissions,
		 * Timer B off; 16.7 step 2: Timer C restarts on 101-199. */
		b->rt_at = 0;
		b->timeout_at = b->cancel_sent ? b->timeout_at : 0;
		if (m->status > 100 && !b->cancel_sent)
			b->c_at = now + t->p->conf.timer_c_ms;
	} else if (b->rt_at) {
		b->rt_iv = SIP_T2_MS;
	}
	if (b->cancel_wanted && !b->cancel_sent)
		send_cancel(b, now);
	if (m->status > 100 && !t->final_sent) {
		struct buf out = BUF_INIT;
		if (sip_build_response_upstream(&out, m) == 0)
			up_keep(t, &out);
		buf_free(&out);
	}
}

bool cscf_proxy_response(struct cscf_proxy *p, const struct sip_msg *m, int64_t now)
{
	struct sip_via v;
	const char *why;
	struct sip_txn_key k;
	if (sip_msg_top_via(m, &v, &why) != 0)
		return false;
	/* A response to our CANCEL has the INVITE's branch. */
	enum sip_method meth = m->cseq_method_id == SIP_METHOD_CANCEL ? SIP_METHOD_INVITE
								      : m->cseq_method_id;
	if (meth == SIP_METHOD_OTHER || sip_txn_key_client(&k, v.branch, meth) != 0)
		return false;
	struct branch *b = branch_find(p, &k);
	if (!b)
		return false;
	struct stxn *t = b->t;
	if (m->cseq_method_id == SIP_METHOD_CANCEL) {
		b->crt_at = 0; /* the CANCEL got there */
		return true;
	}
	if (m->status < 200) {
		if (!b->done)
			provisional(b, m, now);
		return true;
	}
	if (t->method == SIP_METHOD_INVITE && m->status >= 300) {
		/* RFC 3261 17.1.1.3: we ACK it ourselves (again for a
		 * retransmitted final). */
		struct sip_msg req;
		struct buf ack = BUF_INIT;
		if (sip_msg_parse(&req, b->req.p, b->req.len, SIP_FRAMING_DATAGRAM, &why) >= 0 &&
		    sip_build_ack(&ack, &req, m) == 0)
			send_down(b, &ack);
		buf_free(&ack);
	}
	if (m->status < 300) {
		/* Every 2xx to an INVITE goes up, retransmissions included
		 * (RFC 3261 16.7 step 5); of a non-INVITE only the first
		 * final answer does. */
		if (t->method == SIP_METHOD_INVITE || !t->final_sent) {
			struct buf out = BUF_INIT;
			if (sip_build_response_upstream(&out, m) == 0)
				up_keep(t, &out);
			buf_free(&out);
		}
		if (b->done)
			return true;
		t->final_sent = true;
		t->got_2xx = true;
		if (t->method == SIP_METHOD_INVITE)
			cancel_others(t, b, now);
		branch_ended(b, m->status, m, now);
		return true;
	}
	if (!b->done)
		branch_ended(b, m->status, m, now);
	return true;
}

void cscf_proxy_conn_failed(struct cscf_proxy *p, uint64_t conn, int64_t now)
{
	struct stxn *t = p->active.head;
	while (t) {
		/* check_done may free t: step first. */
		struct stxn *next = t->next;
		bool hit = false;
		for (unsigned i = 0; i < t->nb; i++) {
			struct branch *b = t->b[i];
			if (!b->done && b->hop.transport == CSCF_TCP && b->hop.conn == conn) {
				hit = true;
				branch_end(b, 503, NULL, now);
			}
		}
		if (hit)
			check_done(t, now);
		t = next;
	}
}

/* --- requests --- */

bool cscf_proxy_request_seen(struct cscf_proxy *p, const struct sip_msg *m, int64_t now)
{
	struct sip_txn_key k;
	const char *why;
	if (sip_txn_key_server(&k, m, &why) != 0)
		return false;
	struct stxn *t = stxn_find(p, &k);
	if (!t)
		return false;
	if (m->method_id == SIP_METHOD_ACK) {
		if (t->state != S_COMPLETED)
			return false; /* an ACK for a 2xx: end to end */
		/* RFC 3261 17.2.1: Confirmed; Timer I absorbs the rest. */
		if (t->from.transport != CSCF_UDP) {
			stxn_free(t);
		} else {
			linger(t, &p->linger_i, now + SIP_TIMER_I_MS);
		}
		return true;
	}
	send_up(t, &t->last);
	return true;
}

bool cscf_proxy_cancel(struct cscf_proxy *p, const struct sip_msg *m,
		       const struct cscf_peer *from, int64_t now)
{
	struct sip_txn_key k;
	const char *why;
	if (sip_txn_key_cancel_target(&k, m, &why) != 0)
		return false;
	struct stxn *t = stxn_find(p, &k);
	if (!t || t->method != SIP_METHOD_INVITE)
		return false;
	struct buf out = BUF_INIT;
	struct sip_response_opts o = {.to_tag = t->to_tag, .server = p->conf.server};
	if (sip_build_response_opts(&out, m, 200, NULL, &o) == 0)
		p->io.send_up(p->io.arg, from, out.p, out.len);
	buf_free(&out);
	if (!t->final_sent && !t->canceled) {
		t->canceled = true;
		for (unsigned i = 0; i < t->nb; i++)
			branch_cancel(t->b[i], now);
	}
	return true;
}

int cscf_proxy_start(struct cscf_proxy *p, const struct sip_msg *m,
		     const struct cscf_peer *from, struct cscf_branch_spec *spec, unsigned n,
		     int64_t now)
{
	int rc = 0;
	struct stxn *t = NULL;
	const char *why;
	if (n == 0 || n > WIMS_CSCF_MAX_BRANCHES || m->method_id == SIP_METHOD_ACK ||
	    m->method_id == SIP_METHOD_CANCEL) {
		rc = WIMS_EINVAL;
		goto fail;
	}
	if (p->count >= p->conf.max_txns) {
		rc = WIMS_ETOOBIG;
		goto fail;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->req = malloc(m->raw.len))) {
		rc = WIMS_ENOMEM;
		goto fail;
	}
	if (sip_txn_key_server(&t->key, m, &why) != 0) {
		rc = WIMS_EINVAL;
		goto fail;
	}
	memcpy(t->req, m->raw.p, m->raw.len);
	t->reqlen = m->raw.len;
	t->p = p;
	t->from = *from;
	t->method = m->method_id;
	uint8_t rnd[8];
	p->io.random(p->io.arg, rnd, sizeof(rnd));
	sip_tag_format(t->to_tag, sizeof(t->to_tag), rnd, sizeof(rnd));
	for (unsigned i = 0; i < n; i++) {
		struct branch *b = calloc(1, sizeof(*b));
		if (!b || sip_txn_key_client(&b->key, spec[i].branch, m->method_id) != 0 ||
		    (spec[i].contact && !(b->contact = strdup(spec[i].contact)))) {
			if (b)
				free(b->contact);
			free(b);
			for (unsigned j = 0; j < t->nb; j++)
				branch_free(p, t->b[j]);
			t->nb = 0;
			rc = WIMS_ENOMEM;
			goto fail;
		}
		b->t = t;
		b->hop = spec[i].hop;
		b->req = spec[i].msg;
		spec[i].msg = (struct buf){NULL, 0, 0, 0, 0};
		unsigned h = bucket(&b->key);
		b->hnext = p->cbuckets[h];
		p->cbuckets[h] = b;
		t->b[t->nb++] = b;
	}
	unsigned h = bucket(&t->key);
	t->hnext = p->sbuckets[h];
	p->sbuckets[h] = t;
	list_append(&p->active, t);
	p->count++;

	if (t->method == SIP_METHOD_INVITE) {
		/* RFC 3261 16.2: 100 Trying at once, so the caller stops
		 * retransmitting. */
		struct buf trying = BUF_INIT;
		if (own_response(t, 100, NULL, NULL, &trying) == 0)
			up_keep(t, &trying);
		buf_free(&trying);
	}
	for (unsigned i = 0; i < t->nb; i++) {
		struct branch *b = t->b[i];
		b->timeout_at = now + SIP_TIMER_B_MS; /* = F */
		if (t->method == SIP_METHOD_INVITE)
			b->c_at = now + p->conf.timer_c_ms;
		if (b->hop.transport == CSCF_UDP) {
			b->rt_iv = SIP_T1_MS;
			b->rt_at = now + b->rt_iv;
		}
	}
	/* A send that fails at once ends its branch (503); the answer
	 * goes up when every branch has ended. */
	for (unsigned i = 0; i < t->nb; i++)
		if (send_down(t->b[i], &t->b[i]->req) != 0)
			branch_end(t->b[i], 503, NULL, now);
	check_done(t, now);
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		buf_free(&spec[i].msg);
	if (t)
		free(t->req);
	free(t);
	return rc;
}

/* --- timers --- */

static void branch_tick(struct branch *b, int64_t now)
{
	struct stxn *t = b->t;
	if (b->done)
		return;
	if (b->rt_at && now >= b->rt_at) {
		send_down(b, &b->req);
		b->rt_iv *= 2;
		if (t->method != SIP_METHOD_INVITE && b->rt_iv > SIP_T2_MS)
			b->rt_iv = SIP_T2_MS;
		b->rt_at = now + b->rt_iv;
	}
	if (b->crt_at && now >= b->crt_at) {
		send_down(b, &b->cancel);
		b->crt_iv = b->crt_iv * 2 > SIP_T2_MS ? SIP_T2_MS : b->crt_iv * 2;
		b->crt_at = now + b->crt_iv;
	}
	if (b->c_at && now >= b->c_at) {
		/* RFC 3261 16.8: Timer C.  A branch with a provisional is
		 * CANCELled (its 487 comes back); one without ends as 408. */
		b->c_at = 0;
		if (b->status >= 100) {
			branch_cancel(b, now);
			return;
		}
		branch_end(b, 408, NULL, now);
		return;
	}
	if (b->timeout_at && now >= b->timeout_at)
		branch_end(b, 408, NULL, now);
}

void cscf_proxy_tick(struct cscf_proxy *p, int64_t now)
{
	struct stxn *t = p->active.head;
	while (t) {
		struct stxn *next = t->next;
		if (t->state == S_PROCEEDING) {
			for (unsigned i = 0; i < t->nb; i++)
				branch_tick(t->b[i], now);
			check_done(t, now); /* may free t */
			t = next;
			continue;
		}
		if (t->g_at && now >= t->g_at) {
			send_up(t, &t->last);
			t->g_iv = t->g_iv * 2 > SIP_T2_MS ? SIP_T2_MS : t->g_iv * 2;
			t->g_at = now + t->g_iv;
		}
		if (t->end_at && now >= t->end_at)
			stxn_free(t);
		t = next;
	}
	while (p->linger_j.head && now >= p->linger_j.head->end_at)
		stxn_free(p->linger_j.head);
	while (p->linger_i.head && now >= p->linger_i.head->end_at)
		stxn_free(p->linger_i.head);
}
