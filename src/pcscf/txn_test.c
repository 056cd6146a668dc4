/* txn_test.c - the per-worker transaction tables (txn.h): a request is
 * recorded once (a retransmission is WIMS_EEXIST), a CANCEL shares its
 * INVITE's id but not its entry (RFC 3261 9.1), the table is bounded, and
 * removal keeps both the buckets and the sweep list whole; a TNA REGISTER
 * keeps its token's IMPI, IMPUs and exp. */
#include "pcscf/txn.h"

#include <string.h>

#include "core/limits.h"
#include "core/wims.h"
#include "unit.h"

static struct pcscf_txns t;

static void add_find_remove(void)
{
	int err = 0;
	pcscf_txns_init(&t);
	struct pcscf_txn *inv = pcscf_txns_add(&t, 42, SIP_METHOD_INVITE, 7, 1, 1000, "INVITE", 6, &err);
	EXPECT_TRUE(inv);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_INVITE) == inv);
	EXPECT_INT(inv->len, ==, 6);
	EXPECT_TRUE(memcmp(inv->req, "INVITE", 6) == 0);
	/* the retransmission */
	EXPECT_TRUE(pcscf_txns_add(&t, 42, SIP_METHOD_INVITE, 7, 1, 1000, "INVITE", 6, &err) == NULL);
	EXPECT_INT(err, ==, WIMS_EEXIST);
	/* its CANCEL: same id, its own entry */
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_CANCEL) == NULL);
	struct pcscf_txn *can = pcscf_txns_add(&t, 42, SIP_METHOD_CANCEL, 7, 1, 1000, "CANCEL", 6, &err);
	EXPECT_TRUE(can && can != inv);
	EXPECT_INT(t.count, ==, 2);
	/* same bucket, other id */
	struct pcscf_txn *other = pcscf_txns_add(&t, 42 + PCSCF_TXN_BUCKETS, SIP_METHOD_INVITE, 8, 1,
						 1000, "X", 1, &err);
	EXPECT_TRUE(other);
	pcscf_txns_remove(&t, inv);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_INVITE) == NULL);
	EXPECT_TRUE(pcscf_txns_find(&t, 42, SIP_METHOD_CANCEL) == can);
	EXPECT_TRUE(pcscf_txns_find(&t, 42 + PCSCF_TXN_BUCKETS, SIP_METHOD_INVITE) == other);
	int n = 0;
	for (struct pcscf_txn *x = t.head; x; x = x->next)
		n++;
	EXPECT_INT(n, ==, 2);
	pcscf_txns_free(&t);
	EXPECT_INT(t.count, ==, 0);
	EXPECT_TRUE(t.head == NULL);
}

static void table_is_bounded(void)
{
	int err = 0;
	pcscf_txns_init(&t);
	for (uint64_t i = 0; i < WIMS_PCSCF_MAX_TXNS; i++)
		EXPECT_TRUE(pcscf_txns_add(&t, i, SIP_METHOD_MESSAGE, 1, 1, 0, "m", 1, &err));
	EXPECT_TRUE(pcscf_txns_add(&t, WIMS_PCSCF_MAX_TXNS, SIP_METHOD_MESSAGE, 1, 1, 0, "m", 1,
				   &err) == NULL);
	EXPECT_INT(err, ==, WIMS_ETOOBIG);
	pcscf_txns_free(&t);
}

/* A REGISTER forwarded by TNA keeps what its token authorised (txn.h):
 * copied, replaced whole, freed with the entry (ASan counts leaks). */
static void tna_kept_with_the_register(void)
{
	int err = 0;
	pcscf_txns_init(&t);
	struct pcscf_txn *x = pcscf_txns_add(&t, 9, SIP_METHOD_REGISTER, 3, 1, 1000, "R", 1, &err);
	EXPECT_TRUE(x && x->tna == NULL);
	struct jwt_claims c;
	memset(&c, 0, sizeof(c));
	snprintf(c.impi, sizeof(c.impi), "%s", "bob@ims.example.org");
	snprintf(c.impus[0], sizeof(c.impus[0]), "%s", "sip:bob@ims.example.org");
	c.n_impus = 1;
	c.exp = 1700000060;
	EXPECT_INT(pcscf_txn_set_tna(x, &c), ==, 0);
	EXPECT_STR(x->tna->impi, "bob@ims.example.org");
	EXPECT_INT(x->tna->nimpus, ==, 1);
	EXPECT_STR(x->tna->impus, "sip:bob@ims.example.org");
	EXPECT_INT(x->tna->impus_len, ==, strlen("sip:bob@ims.example.org") + 1);
	EXPECT_INT(x->tna->exp, ==, 1700000060);
	/* the token's copy, not the claims' storage */
	c.impus[0][4] = 'X';
	EXPECT_STR(x->tna->impus, "sip:bob@ims.example.org");
	/* replaced whole by another token's */
	snprintf(c.impus[0], sizeof(c.impus[0]), "%s", "sip:bob@ims.example.org");
	snprintf(c.impus[1], sizeof(c.impus[1]), "%s", "tel:+15550000002");
	c.n_impus = 2;
	EXPECT_INT(pcscf_txn_set_tna(x, &c), ==, 0);
	EXPECT_INT(x->tna->nimpus, ==, 2);
	EXPECT_STR(x->tna->impus + strlen(x->tna->impus) + 1, "tel:+15550000002");
	/* an IMPU with no room for its NUL is refused, the old kept */
	memset(c.impus[1], 'a', sizeof(c.impus[1]));
	EXPECT_INT(pcscf_txn_set_tna(x, &c), ==, WIMS_ETOOBIG);
	EXPECT_INT(x->tna->nimpus, ==, 2);
	c.n_impus = WIMS_IRS_MAX_IMPUS + 1;
	EXPECT_INT(pcscf_txn_set_tna(x, &c), ==, WIMS_ETOOBIG);
	pcscf_txns_free(&t);
}

int main(void)
{
	UNIT_RUN(add_find_remove);
	UNIT_RUN(table_is_bounded);
	UNIT_RUN(tna_kept_with_the_register);
	return UNIT_MAIN_END();
}
