/* txn_test.c - transaction keys: retransmissions match, ACK finds its
 * INVITE, CANCEL finds its INVITE but is its own transaction, responses
 * find the client transaction, RFC 2543 fallback, and mismatches. */
#include "sip/txn.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static const char *why;

static int key_of(const char *msg, struct sip_txn_key *k, int (*fn)(struct sip_txn_key *, const struct sip_msg *, const char **))
{
	static struct sip_msg m;
	int rc = sip_msg_parse(&m, msg, strlen(msg), SIP_FRAMING_DATAGRAM, &why);
	if (rc <= 0)
		return -1000;
	return fn(k, &m, &why);
}

#define REQ(method, branch, sentby, cseq)                                         \
	method " sip:bob@example.org SIP/2.0\r\n"                                   \
	"Via: SIP/2.0/UDP " sentby ";branch=" branch "\r\n"                          \
	"From: <sip:alice@example.org>;tag=f1\r\nTo: <sip:bob@example.org>\r\n"     \
	"Call-ID: call-1\r\nCSeq: " cseq " " method "\r\nContent-Length: 0\r\n\r\n"

static void server_keys(void)
{
	struct sip_txn_key inv, inv2, ack, cancel, cancel_target, other;
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74bf9", "pc33.example.org:5060", "1"), &inv, sip_txn_key_server), ==, 0);
	/* A retransmission (host case differs) is the same transaction. */
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74bf9", "PC33.Example.org:5060", "1"), &inv2, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(sip_txn_key_eq(&inv, &inv2));
	EXPECT_INT(sip_txn_key_hash(&inv), ==, sip_txn_key_hash(&inv2));
	/* The ACK for a non-2xx answer matches the INVITE (RFC 3261 17.2.3). */
	EXPECT_INT(key_of(REQ("ACK", "z9hG4bK74bf9", "pc33.example.org:5060", "1"), &ack, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(sip_txn_key_eq(&inv, &ack));
	/* CANCEL: its own transaction, but it targets the INVITE (9.2). */
	EXPECT_INT(key_of(REQ("CANCEL", "z9hG4bK74bf9", "pc33.example.org:5060", "1"), &cancel, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&inv, &cancel));
	EXPECT_INT(key_of(REQ("CANCEL", "z9hG4bK74bf9", "pc33.example.org:5060", "1"), &cancel_target, sip_txn_key_cancel_target), ==, 0);
	EXPECT_TRUE(sip_txn_key_eq(&inv, &cancel_target));
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74bf9", "pc33.example.org:5060", "1"), &other, sip_txn_key_cancel_target), ==, WIMS_EINVAL);
	/* Different branch, sent-by or port: different transactions. */
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74bfA", "pc33.example.org:5060", "1"), &other, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&inv, &other));
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74bf9", "pc33.example.org:5061", "1"), &other, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&inv, &other));
	/* Branch compared case-sensitively. */
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bK74BF9", "pc33.example.org:5060", "1"), &other, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&inv, &other));
}

static void rfc2543_fallback(void)
{
	struct sip_txn_key a, b, c;
	EXPECT_INT(key_of(REQ("INVITE", "oldbranch", "h:5060", "7"), &a, sip_txn_key_server), ==, 0);
	EXPECT_INT(a.b[0], ==, 'L');
	EXPECT_INT(key_of(REQ("ACK", "oldbranch", "h:5060", "7"), &b, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(sip_txn_key_eq(&a, &b));
	EXPECT_INT(key_of(REQ("INVITE", "oldbranch", "h:5060", "8"), &c, sip_txn_key_server), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&a, &c));
	/* No branch at all: fallback too. */
	EXPECT_INT(key_of("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\n"
			  "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n", &c, sip_txn_key_server), ==, 0);
	EXPECT_INT(c.b[0], ==, 'L');
}

static void client_keys_and_responses(void)
{
	struct sip_txn_key sent, got;
	EXPECT_INT(sip_txn_key_client(&sent, SLICE_LIT("z9hG4bKpcscf0001"), SIP_METHOD_REGISTER), ==, 0);
	static const char resp[] = "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpcscf0001\r\n"
				   "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKua\r\nFrom: <sip:a@b>;tag=1\r\n"
				   "To: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
	EXPECT_INT(key_of(resp, &got, sip_txn_key_from_response), ==, 0);
	EXPECT_TRUE(sip_txn_key_eq(&sent, &got));
	/* Same branch, other method (a CANCEL's 200): another transaction. */
	EXPECT_INT(sip_txn_key_client(&sent, SLICE_LIT("z9hG4bKpcscf0001"), SIP_METHOD_CANCEL), ==, 0);
	EXPECT_TRUE(!sip_txn_key_eq(&sent, &got));
	/* A request is not a response and vice versa. */
	EXPECT_INT(key_of(REQ("INVITE", "z9hG4bKx", "h", "1"), &got, sip_txn_key_from_response), ==, WIMS_EINVAL);
	EXPECT_INT(key_of(resp, &got, sip_txn_key_server), ==, WIMS_EINVAL);
	EXPECT_INT(sip_txn_key_client(&sent, SLICE_NULL, SIP_METHOD_INVITE), ==, WIMS_EINVAL);
	EXPECT_INT(sip_txn_key_client(&sent, SLICE_LIT("z9hG4bKx"), SIP_METHOD_OTHER), ==, WIMS_EINVAL);
	/* Client INVITE key also matches the ACK we would build. */
	struct sip_txn_key inv, ack;
	sip_txn_key_client(&inv, SLICE_LIT("z9hG4bKq"), SIP_METHOD_INVITE);
	sip_txn_key_client(&ack, SLICE_LIT("z9hG4bKq"), SIP_METHOD_ACK);
	EXPECT_TRUE(sip_txn_key_eq(&inv, &ack));
}

static void limits(void)
{
	char msg[2048], branch[WIMS_SIP_MAX_TOKEN + 10];
	memset(branch, 'a', sizeof(branch) - 1);
	memcpy(branch, "z9hG4bK", 7);
	branch[sizeof(branch) - 1] = '\0';
	snprintf(msg, sizeof(msg), REQ("OPTIONS", "%s", "h", "1"), branch);
	struct sip_txn_key k;
	EXPECT_INT(key_of(msg, &k, sip_txn_key_server), ==, WIMS_ETOOBIG);
	EXPECT_STR(why, "Via branch too long");
	EXPECT_INT(SIP_TIMER_B_MS, ==, 32000);
	EXPECT_INT(SIP_TIMER_F_MS, ==, 32000);
	EXPECT_INT(SIP_T2_MS, ==, 4000);
}

int main(void)
{
	UNIT_RUN(server_keys);
	UNIT_RUN(rfc2543_fallback);
	UNIT_RUN(client_keys_and_responses);
	UNIT_RUN(limits);
	return UNIT_MAIN_END();
}
