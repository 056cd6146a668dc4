/*
 * loop.c - the worker pool: n threads, one event_base each, and a posting
 * queue per worker.
 *
 * A post appends to the worker's queue under its mutex and activates the
 * worker's "wake" event; libevent (made thread-aware by
 * evthread_use_pthreads before the first base) wakes the loop through its
 * notification pipe, and the loop drains the whole queue in FIFO order.
 * Activating an already active event is a no-op, so a burst of posts costs
 * one wake-up.  Stopping is a flag checked after each drain, so work posted
 * before workers_stop_and_free() still runs.
 */
#include "core/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/wims.h"

struct post {
	struct post *next;
	workers_fn fn;
	void *arg;
};

struct worker {
	struct wims_workers *pool;
	int index;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct event *wake;
	pthread_mutex_t mu; /* guards head, tail, stopping */
	struct post *head, *tail;
	bool stopping;
	char name[16];
};

struct wims_workers {
	int n;
	struct worker *w;
};

static __thread int current_index = -1;
static __thread struct event_base *current_base;
static __thread struct wims_workers *current_pool;

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_rc;

static void threads_init(void)
{
	threads_rc = evthread_use_pthreads();
}

/* Runs everything queued; stops the loop if asked to.  Items posted while
 * draining are picked up by the next round (the event is re-activated by
 * their post), so one busy producer cannot starve the other events. */
static void worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);

	pthread_mutex_lock(&w->mu);
	struct post *p = w->head;
	w->head = w->tail = NULL;
	bool stopping = w->stopping;
	pthread_mutex_unlock(&w->mu);

	while (p) {
		struct post *next = p->next;
		p->fn(p->arg);
		free(p);
		p = next;
	}
	if (stopping) {
		/* A post that raced with the stop flag was refused, so the
		 * queue is empty for good once stopping was seen here. */
		pthread_mutex_lock(&w->mu);
		bool empty = w->head == NULL;
		pthread_mutex_unlock(&w->mu);
		if (empty)
			event_base_loopbreak(w->base);
		else
			event_active(w->wake, EV_READ, 0);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	current_index = w->index;
	current_base = w->base;
	current_pool = w->pool;
	if (w->name[0])
		pthread_setname_np(pthread_self(), w->name);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void worker_destroy(struct worker *w)
{
	struct post *p = w->head;
	while (p) {
		struct post *next = p->next;
		free(p);
		p = next;
	}
	w->head = w->tail = NULL;
	if (w->wake)
		event_free(w->wake);
	if (w->base)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->mu);
}

struct wims_workers *workers_new(int n, const char *name)
{
	pthread_once(&threads_once, threads_init);
	if (threads_rc != 0) {
		WIMS_ERROR("loop", "evthread_use_pthreads failed");
		return NULL;
	}
	if (n < 1)
		n = 1;
	if (n > WIMS_MAX_WORKERS)
		n = WIMS_MAX_WORKERS;

	struct wims_workers *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->w = calloc((size_t)n, sizeof(*pool->w));
	if (!pool->w) {
		free(pool);
		return NULL;
	}
	pool->n = n;

	int made = 0;
	for (int i = 0; i < n; i++) {
		struct worker *w = &pool->w[i];
		w->pool = pool;
		w->index = i;
		pthread_mutex_init(&w->mu, NULL);
		made = i + 1;
		if (name)
			snprintf(w->name, sizeof(w->name), "%s/%d", name, i);
		w->base = event_base_new();
		if (w->base)
			w->wake = event_new(w->base, -1, 0, worker_wake_cb, w);
		if (!w->base || !w->wake) {
			WIMS_ERROR("loop", "cannot create event base for worker %d", i);
			goto fail;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			WIMS_ERROR("loop", "cannot start worker thread %d: %s", i,
				   strerror(errno));
			goto fail;
		}
		w->started = true;
	}
	return pool;

fail:
	/* Workers past the failed one were never initialised. */
	pool->n = made;
	workers_stop_and_free(pool);
	return NULL;
}

int workers_count(const struct wims_workers *w)
{
	return w ? w->n : 0;
}

struct event_base *workers_base(const struct wims_workers *w, int i)
{
	if (!w || i < 0 || i >= w->n)
		return NULL;
	return w->w[i].base;
}

int workers_post(struct wims_workers *pool, int i, workers_fn fn, void *arg)
{
	if (!pool || i < 0 || i >= pool->n || !fn)
		return WIMS_EINVAL;
	struct worker *w = &pool->w[i];
	struct post *p = malloc(sizeof(*p));
	if (!p)
		return WIMS_ENOMEM;
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;

	pthread_mutex_lock(&w->mu);
	if (w->stopping || !w->started) {
		pthread_mutex_unlock(&w->mu);
		free(p);
		return WIMS_ECLOSED;
	}
	if (w->tail)
		w->tail->next = p;
	else
		w->head = p;
	w->tail = p;
	pthread_mutex_unlock(&w->mu);
	/* Thread-safe: takes the base lock and notifies the loop. */
	event_active(w->wake, EV_READ, 0);
	return 0;
}

struct run_each {
	workers_each_fn fn;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending;
};

struct run_each_item {
	struct run_each *re;
	int index;
	struct event_base *base;
};

static void run_each_one(void *arg)
{
	struct run_each_item *it = arg;
	struct run_each *re = it->re;
	re->fn(it->index, it->base, re->arg);
	free(it);
	pthread_mutex_lock(&re->mu);
	if (--re->pending == 0)
		pthread_cond_signal(&re->cv);
	pthread_mutex_unlock(&re->mu);
}

int workers_run_each(struct wims_workers *pool, workers_each_fn fn, void *arg)
{
	if (!pool || !fn)
		return WIMS_EINVAL;
	struct run_each re = {.fn = fn, .arg = arg, .pending = 0};
	pthread_mutex_init(&re.mu, NULL);
	pthread_cond_init(&re.cv, NULL);
	int self = current_pool == pool ? current_index : -1;
	int rc = 0;

	for (int i = 0; i < pool->n; i++) {
		if (i == self)
			continue;
		struct run_each_item *it = malloc(sizeof(*it));
		if (!it) {
			rc = WIMS_ENOMEM;
			continue;
		}
		it->re = &re;
		it->index = i;
		it->base = pool->w[i].base;
		pthread_mutex_lock(&re.mu);
		re.pending++;
		pthread_mutex_unlock(&re.mu);
		int r = workers_post(pool, i, run_each_one, it);
		if (r != 0) {
			free(it);
			pthread_mutex_lock(&re.mu);
			re.pending--;
			pthread_mutex_unlock(&re.mu);
			rc = r;
		}
	}
	if (self >= 0)
		fn(self, pool->w[self].base, arg);

	pthread_mutex_lock(&re.mu);
	while (re.pending > 0)
		pthread_cond_wait(&re.cv, &re.mu);
	pthread_mutex_unlock(&re.mu);
	pthread_cond_destroy(&re.cv);
	pthread_mutex_destroy(&re.mu);
	return rc;
}

int workers_current(void)
{
	return current_index;
}

struct event_base *workers_current_base(void)
{
	return current_base;
}

void workers_stop_and_free(struct wims_workers *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->n; i++) {
		struct worker *w = &pool->w[i];
		pthread_mutex_lock(&w->mu);
		w->stopping = true;
		pthread_mutex_unlock(&w->mu);
		if (w->started)
			event_active(w->wake, EV_READ, 0);
	}
	for (int i = 0; i < pool->n; i++) {
		struct worker *w = &pool->w[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		worker_destroy(w);
	}
	free(pool->w);
	free(pool);
}
