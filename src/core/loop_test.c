/* loop_test.c - the worker pool: posts run on the right thread, in order,
 * run_each reaches every worker, stop drains then refuses. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/loop.h"
#include "core/wims.h"
#include "unit.h"

struct probe {
	int index;
	pthread_t thread;
	struct event_base *base;
	atomic_int done;
};

static void probe_fn(void *arg)
{
	struct probe *p = arg;
	p->index = workers_current();
	p->thread = pthread_self();
	p->base = workers_current_base();
	atomic_store(&p->done, 1);
}

static void wait_flag(atomic_int *f)
{
	for (int i = 0; i < 5000 && !atomic_load(f); i++)
		usleep(1000);
}

static void post_runs_on_the_right_thread(void)
{
	struct wims_workers *w = workers_new(3, "test");
	EXPECT_TRUE(w);
	EXPECT_INT(workers_count(w), ==, 3);
	EXPECT_INT(workers_current(), ==, -1);
	EXPECT_TRUE(workers_current_base() == NULL);
	struct probe p[3] = {0};
	for (int i = 0; i < 3; i++)
		EXPECT_INT(workers_post(w, i, probe_fn, &p[i]), ==, 0);
	for (int i = 0; i < 3; i++)
		wait_flag(&p[i].done);
	for (int i = 0; i < 3; i++) {
		EXPECT_INT(atomic_load(&p[i].done), ==, 1);
		EXPECT_INT(p[i].index, ==, i);
		EXPECT_TRUE(p[i].base == workers_base(w, i));
		EXPECT_TRUE(!pthread_equal(p[i].thread, pthread_self()));
	}
	EXPECT_TRUE(!pthread_equal(p[0].thread, p[1].thread));
	EXPECT_TRUE(!pthread_equal(p[1].thread, p[2].thread));
	EXPECT_INT(workers_post(w, 3, probe_fn, &p[0]), ==, WIMS_EINVAL);
	EXPECT_INT(workers_post(w, -1, probe_fn, &p[0]), ==, WIMS_EINVAL);
	EXPECT_TRUE(workers_base(w, 3) == NULL);
	workers_stop_and_free(w);
}

struct order {
	int seen[1000];
	atomic_int n;
	int worker_mismatch;
};

struct order_item {
	struct order *o;
	int value;
};

static void order_fn(void *arg)
{
	struct order_item *it = arg;
	int n = atomic_load(&it->o->n);
	it->o->seen[n] = it->value;
	if (workers_current() != 1)
		it->o->worker_mismatch++;
	atomic_store(&it->o->n, n + 1);
	free(it);
}

static void posts_run_in_fifo_order(void)
{
	struct wims_workers *w = workers_new(2, NULL);
	EXPECT_TRUE(w);
	static struct order o;
	for (int i = 0; i < 1000; i++) {
		struct order_item *it = malloc(sizeof(*it));
		it->o = &o;
		it->value = i;
		EXPECT_INT(workers_post(w, 1, order_fn, it), ==, 0);
	}
	/* Stop runs what was queued before it. */
	workers_stop_and_free(w);
	EXPECT_INT(atomic_load(&o.n), ==, 1000);
	EXPECT_INT(o.worker_mismatch, ==, 0);
	for (int i = 0; i < 1000; i++)
		EXPECT_INT(o.seen[i], ==, i);
}

static void each_fn(int index, struct event_base *base, void *arg)
{
	atomic_int *mask = arg;
	if (workers_current() == index && workers_current_base() == base)
		atomic_fetch_or(mask, 1 << index);
}

static void run_each_reaches_every_worker_and_waits(void)
{
	struct wims_workers *w = workers_new(4, "each");
	EXPECT_TRUE(w);
	atomic_int mask = 0;
	EXPECT_INT(workers_run_each(w, each_fn, &mask), ==, 0);
	/* No waiting here: run_each returned only after all had run. */
	EXPECT_INT(atomic_load(&mask), ==, 0xf);
	workers_stop_and_free(w);
}

struct nested {
	struct wims_workers *w;
	atomic_int mask;
	int rc;
};

static void nested_each(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(base);
	struct nested *n = arg;
	atomic_fetch_or(&n->mask, 1 << index);
}

static void run_each_from_worker(void *arg)
{
	struct nested *n = arg;
	n->rc = workers_run_each(n->w, nested_each, n);
	atomic_fetch_or(&n->mask, 0x100);
}

static void run_each_from_a_worker_runs_its_share_inline(void)
{
	struct wims_workers *w = workers_new(3, NULL);
	EXPECT_TRUE(w);
	struct nested n = {.w = w};
	EXPECT_INT(workers_post(w, 2, run_each_from_worker, &n), ==, 0);
	for (int i = 0; i < 5000 && !(atomic_load(&n.mask) & 0x100); i++)
		usleep(1000);
	EXPECT_INT(atomic_load(&n.mask), ==, 0x107);
	EXPECT_INT(n.rc, ==, 0);
	workers_stop_and_free(w);
}

static void timer_fn(evutil_socket_t fd, short what, void *arg)
{
	WIMS_UNUSED(fd);
	WIMS_UNUSED(what);
	atomic_int *fired = arg;
	if (workers_current() == 0)
		atomic_store(fired, 1);
}

struct timer_setup {
	struct event *ev;
	atomic_int fired;
};

static void add_timer(int index, struct event_base *base, void *arg)
{
	struct timer_setup *t = arg;
	WIMS_UNUSED(index);
	t->ev = evtimer_new(base, timer_fn, &t->fired);
	struct timeval tv = {0, 10000};
	evtimer_add(t->ev, &tv);
}

static void free_timer(int index, struct event_base *base, void *arg)
{
	WIMS_UNUSED(index);
	WIMS_UNUSED(base);
	struct timer_setup *t = arg;
	event_free(t->ev);
}

static void events_added_on_a_worker_fire_there(void)
{
	struct wims_workers *w = workers_new(1, "timer");
	EXPECT_TRUE(w);
	struct timer_setup t = {0};
	EXPECT_INT(workers_run_each(w, add_timer, &t), ==, 0);
	wait_flag(&t.fired);
	EXPECT_INT(atomic_load(&t.fired), ==, 1);
	EXPECT_INT(workers_run_each(w, free_timer, &t), ==, 0);
	workers_stop_and_free(w);
}

static void count_is_clamped(void)
{
	struct wims_workers *w = workers_new(0, NULL);
	EXPECT_TRUE(w);
	EXPECT_INT(workers_count(w), ==, 1);
	workers_stop_and_free(w);
	workers_stop_and_free(NULL);
}

int main(void)
{
	UNIT_RUN(post_runs_on_the_right_thread);
	UNIT_RUN(posts_run_in_fifo_order);
	UNIT_RUN(run_each_reaches_every_worker_and_waits);
	UNIT_RUN(run_each_from_a_worker_runs_its_share_inline);
	UNIT_RUN(events_added_on_a_worker_fire_there);
	UNIT_RUN(count_is_clamped);
	return UNIT_MAIN_END();
}
