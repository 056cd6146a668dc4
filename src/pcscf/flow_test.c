/* flow_test.c - the per-worker flow table (add, find, remove, growth past
 * the initial buckets) and the transaction table (key = txn id + method,
 * retransmission refused as EEXIST, removal from the middle of the sweep
 * list, the request copy). */
#include "pcscf/flow.h"
#include "pcscf/txn.h"

#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "unit.h"

static void flows_add_find_remove_grow(void)
{
	struct pcscf_flows t;
	EXPECT_INT(pcscf_flows_init(&t), ==, 0);
	enum { N = 3000 };
	static struct pcscf_flow f[N];
	for (int i = 0; i < N; i++) {
		f[i].id = (uint64_t)i + 1;
		EXPECT_INT(pcscf_flows_add(&t, &f[i]), ==, 0);
	}
	EXPECT_INT(t.count, ==, N);
	EXPECT_TRUE(t.nbuckets >= N);
	for (int i = 0; i < N; i++)
		EXPECT_TRUE(pcscf_flows_find(&t, (uint64_t)i + 1) == &f[i]);
	EXPECT_TRUE(pcscf_flows_find(&t, N + 1) == NULL);
	EXPECT_TRUE(pcscf_flows_find(&t, 0) == NULL);
	/* a removed flow is dead: never found again */
	EXPECT_TRUE(pcscf_flows_remove(&t, 17) == &f[16]);
	EXPECT_TRUE(pcscf_flows_find(&t, 17) == NULL);
	EXPECT_TRUE(pcscf_flows_remove(&t, 17) == NULL);
	EXPECT_INT(t.count, ==, N - 1);
	pcscf_flows_free(&t, NULL);
	EXPECT_TRUE(t.buckets == NULL);
	EXPECT_TRUE(pcscf_flows_find(&t, 1) == NULL);
}

static int released;
static void count_release(struct pcscf_flow *f)
{
	WIMS_UNUSED(f);
	released++;
}

static void flows_free_releases_each(void)
{
	struct pcscf_flows t;
	struct pcscf_flow a = {.id = 1}, b = {.id = 2};
	EXPECT_INT(pcscf_flows_init(&t), ==, 0);
	pcscf_flows_add(&t, &a);
	pcscf_flows_add(&t, &b);
	released = 0;
	pcscf_flows_free(&t, count_release);
	EXPECT_INT(released, ==, 2);
}

static void txns_keyed_by_id_and_method(void)
{
	static struct pcscf_txns t;
	pcscf_txns_init(&t);
	int err = 0;
	struct pcscf_txn *inv = pcscf_txns_add(&t, 42, SIP_METHOD_INVITE, 7, 1, 1000, "INV", 3, &err);
	EXPECT_TRUE(inv != NULL);
	/* a CANCEL has its INVITE's branch: a different transaction */
	struct pcscf_txn *can = pcscf_txns_add(&t, 42, SIP_METHOD_CANCEL, 7, 1, 1000, "CAN", 3, &err);
	EXPECT_TRUE(can != NULL);
	EXPECT_TRUE(pcscf_txns_add(&t, 42, SIP_METHOD_INVITE, 7, 1, 1000, "INV", 3, &err) == NULL);
	EXPECT_INT(err, ==, WIMS_EEXIST);
	struct pcscf_txn *reg = pcscf_txns_add(&t, 42 + PCSCF_TXN_BUCKETS, SIP_METHOD_REGISTER, 8, 2,
					       5, "REGISTER", 8, &err);
	EXPECT_TRUE(reg != NULL);
	EXPECT_INT(t.count, ==, 3);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_INVITE) == inv);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_CANCEL) == can);
	EXPECT_TRUE(pcscf_txns_find(&t, 42 + PCSCF_TXN_BUCKETS, SIP_METHOD_REGISTER) == reg);
	EXPECT_TRUE(pcscf_txns_find(&t, 43, SIP_METHOD_INVITE) == NULL);
	EXPECT_INT(reg->len, ==, 8);
	EXPECT_TRUE(memcmp(reg->req, "REGISTER", 8) == 0);
	EXPECT_TRUE(reg->flow_id == 8);
	/* remove from the middle of the list; the sweep still sees the rest */
	pcscf_txns_remove(&t, can);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_CANCEL) == NULL);
	int n = 0;
	for (struct pcscf_txn *x = t.head; x; x = x->next)
		n++;
	EXPECT_INT(n, ==, 2);
	pcscf_txns_free(&t);
	EXPECT_INT(t.count, ==, 0);
	EXPECT_TRUE(t.head == NULL);
}

static void txns_bounded(void)
{
	static struct pcscf_txns t;
	pcscf_txns_init(&t);
	int err = 0;
	for (uint64_t i = 0; i < WIMS_PCSCF_MAX_TXNS; i++)
		if (!pcscf_txns_add(&t, i, SIP_METHOD_MESSAGE, 1, 1, 0, "M", 1, &err))
			break;
	EXPECT_INT(t.count, ==, WIMS_PCSCF_MAX_TXNS);
	EXPECT_TRUE(pcscf_txns_add(&t, UINT64_MAX, SIP_METHOD_MESSAGE, 1, 1, 0, "M", 1, &err) ==
		    NULL);
	EXPECT_INT(err, ==, WIMS_ETOOBIG);
	pcscf_txns_free(&t);
}

int main(void)
{
	UNIT_RUN(flows_add_find_remove_grow);
	UNIT_RUN(flows_free_releases_each);
	UNIT_RUN(txns_keyed_by_id_and_method);
	UNIT_RUN(txns_bounded);
	return UNIT_MAIN_END();
}
