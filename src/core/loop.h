/*
 * loop.h - the worker pool: one thread and one libevent event_base each.
 *
 * DESIGN 6: worker threads = cores; each owns its connections.  Every
 * object that lives on an event_base (listener, bufferevent, ws_conn, timer)
 * belongs to that base's thread and is touched only there.  Work for an
 * object owned by another worker is posted to that worker with
 * workers_post(), which is the one thread-safe entry point here.
 *
 * Typical start-up of a role:
 *
 *	struct wims_workers *w = workers_new(wims_global_workers(), "pcscf");
 *	workers_run_each(w, listen_on_worker, &cfg);   // one listener per worker
 *	...  wait for a signal ...
 *	workers_run_each(w, close_on_worker, &cfg);    // free per-worker objects
 *	workers_stop_and_free(w);
 *
 * libevent is told to use pthreads locking (evthread_use_pthreads) the first
 * time a pool is made, before any base exists.
 */
#ifndef WIMS_CORE_LOOP_H
#define WIMS_CORE_LOOP_H

#include <stdbool.h>

struct event_base;
struct wims_workers;

/* Work to run on a worker's thread. */
typedef void (*workers_fn)(void *arg);
/* Work to run on every worker: index is the worker, base its event_base. */
typedef void (*workers_each_fn)(int index, struct event_base *base, void *arg);

/* Starts n (>= 1; capped at WIMS_MAX_WORKERS) threads, each running its own
 * event_base until workers_stop_and_free().  name (may be NULL) names the
 * threads "name/0", "name/1", ... (truncated to 15 bytes) for top/gdb.
 * Returns NULL on failure (nothing left running). */
struct wims_workers *workers_new(int n, const char *name);

/* Number of workers. */
int workers_count(const struct wims_workers *w);

/* The event_base of worker i (0 <= i < count), or NULL if i is out of
 * range.  The loop is already running: only code on worker i's thread
 * (reached through workers_post or workers_run_each) may add or free
 * things on it. */
struct event_base *workers_base(const struct wims_workers *w, int i);

/* Runs fn(arg) on worker i's thread, soon, in FIFO order with other posts
 * to the same worker.  Thread-safe (takes the worker's queue lock); may be
 * called from any thread, including worker i itself (then fn still runs
 * later, from the loop, never inline).  Returns 0, WIMS_EINVAL for a bad
 * index, WIMS_ECLOSED if the pool is stopping (fn will not run: free arg
 * yourself), WIMS_ENOMEM. */
int workers_post(struct wims_workers *w, int i, workers_fn fn, void *arg);

/* Runs fn(index, base, arg) on every worker's thread and waits until all
 * have returned.  Use it to create and free per-worker listeners.  When
 * called from a worker thread, that worker's share runs inline and the
 * others are waited for (do not call it from two workers at once: they
 * would wait on each other).  Returns 0 or a negative WIMS_E*. */
int workers_run_each(struct wims_workers *w, workers_each_fn fn, void *arg);

/* Index of the worker whose thread is calling, or -1 outside any pool
 * (main thread, tests driving their own base). */
int workers_current(void);

/* The event_base of the calling worker thread, or NULL outside a pool. */
struct event_base *workers_current_base(void);

/* Stops every loop (posted work still queued runs first), joins the threads
 * and frees the bases.  Objects still registered on a base are not freed:
 * free them beforehand with workers_run_each().  Must not be called from a
 * worker thread.  NULL is fine. */
void workers_stop_and_free(struct wims_workers *w);

#endif
