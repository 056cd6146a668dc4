/* ident_test.c - bindings from a REGISTER's 200 OK, the identity check of
 * later requests (bound / unbound From, P-Preferred-Identity, expiry), a
 * registration by token narrowed to the token's IMPUs and ended by its
 * exp (TR 33.871 REQ 2.4), the IMPI rule and the expiry of a
 * registration. */
#include "pcscf/ident.h"

#include <stdint.h>
#include <string.h>

#include "core/wims.h"
#include "unit.h"

#define CRLF "\r\n"

static const char reg_auth[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7" CRLF
	"Max-Forwards: 70" CRLF
	"From: <sip:alice@ims.example.org>;tag=a73kszlfl" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid" CRLF
	"CSeq: 2 REGISTER" CRLF
	"Authorization: Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", "
	"nonce=\"abc\", uri=\"sip:ims.example.org\", response=\"00\", algorithm=SHA-256" CRLF
	"Contact: <sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>;expires=600" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char reg_noauth[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7" CRLF
	"From: <sip:bob@ims.example.org>;tag=a73kszlfl" CRLF
	"To: \"Bob\" <sip:bob@ims.example.org>" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid" CRLF
	"CSeq: 1 REGISTER" CRLF
	"Contact: <sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>" CRLF
	"Expires: 0" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char reg_query[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7" CRLF
	"From: <sip:alice@ims.example.org>;tag=a73kszlfl" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid" CRLF
	"CSeq: 3 REGISTER" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char ok200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;received=127.0.0.1;rport=5" CRLF
	"From: <sip:alice@ims.example.org>;tag=a73kszlfl" CRLF
	"To: <sip:alice@ims.example.org>;tag=37GkEhwl6" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid" CRLF
	"CSeq: 2 REGISTER" CRLF
	"Contact: <sip:other@192.0.2.1>;expires=3000, "
	"<sip:k8t2d3@df7jal23ls0d.invalid;transport=ws>;expires=300" CRLF
	"P-Associated-URI: <sip:alice@ims.example.org>, <tel:+15551234>" CRLF
	"P-Associated-URI: <sip:alice.work@ims.example.org>" CRLF
	"Service-Route: <sip:orig@127.0.0.1:5060;lr>" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char ok200_nocontact[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7" CRLF
	"From: <sip:bob@ims.example.org>;tag=a73kszlfl" CRLF
	"To: <sip:bob@ims.example.org>;tag=37GkEhwl6" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid" CRLF
	"CSeq: 1 REGISTER" CRLF
	"Content-Length: 0" CRLF CRLF;

static struct sip_msg m1, m2;

static int parse(struct sip_msg *m, const char *s)
{
	const char *why;
	return sip_msg_parse(m, s, strlen(s), SIP_FRAMING_DATAGRAM, &why) > 0 ? 0 : -1;
}

static void bind_alice(struct pcscf_binding *b)
{
	memset(b, 0, sizeof(*b));
	if (parse(&m1, ok200) == 0)
		pcscf_binding_set(b, SLICE_LIT("alice@ims.example.org"),
				  SLICE_LIT("sip:alice@ims.example.org"), &m1, 1000000);
}

static void binding_takes_associated_uris_and_service_route(void)
{
	struct pcscf_binding b;
	bind_alice(&b);
	EXPECT_TRUE(b.bound);
	EXPECT_STR(b.impi, "alice@ims.example.org");
	EXPECT_INT(b.nimpus, ==, 3); /* To already among them */
	EXPECT_STR(pcscf_binding_impu(&b, 0), "sip:alice@ims.example.org");
	EXPECT_STR(pcscf_binding_impu(&b, 1), "tel:+15551234");
	EXPECT_STR(pcscf_binding_impu(&b, 2), "sip:alice.work@ims.example.org");
	EXPECT_TRUE(pcscf_binding_impu(&b, 3) == NULL);
	EXPECT_STR(b.route_line, "Route: <sip:orig@127.0.0.1:5060;lr>");
	EXPECT_TRUE(pcscf_binding_has(&b, SLICE_LIT("sip:alice@IMS.example.org;transport=ws")));
	EXPECT_TRUE(!pcscf_binding_has(&b, SLICE_LIT("sip:Alice@ims.example.org")));
	EXPECT_TRUE(!pcscf_binding_has(&b, SLICE_LIT("sip:bob@ims.example.org")));
	pcscf_binding_clear(&b);
	EXPECT_TRUE(!b.bound);
	EXPECT_INT(b.nimpus, ==, 0);
}

static void binding_adds_to_when_not_associated(void)
{
	struct pcscf_binding b = {0};
	EXPECT_INT(parse(&m1, ok200_nocontact), ==, 0);
	EXPECT_INT(pcscf_binding_set(&b, SLICE_LIT("bob@ims.example.org"),
				     SLICE_LIT("sip:bob@ims.example.org"), &m1, 5),
		   ==, 0);
	EXPECT_INT(b.nimpus, ==, 1);
	EXPECT_STR(pcscf_binding_impu(&b, 0), "sip:bob@ims.example.org");
	EXPECT_TRUE(b.route_line == NULL);
	pcscf_binding_clear(&b);
}

#define REQ(from, extra)                                                  \
	"MESSAGE sip:bob@ims.example.org SIP/2.0" CRLF                    \
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1" CRLF      \
	"From: " from ";tag=1" CRLF                                       \
	"To: <sip:bob@ims.example.org>" CRLF                              \
	"Call-ID: c1" CRLF                                                \
	"CSeq: 1 MESSAGE" CRLF extra "Content-Length: 0" CRLF CRLF

static void ident_bound_from_asserted(void)
{
	struct pcscf_binding b;
	bind_alice(&b);
	struct slice as;
	const char *why = NULL;
	EXPECT_INT(parse(&m2, REQ("\"Alice\" <sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "sip:alice@ims.example.org");
	/* another IMPU of the implicit set */
	EXPECT_INT(parse(&m2, REQ("<sip:alice.work@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "sip:alice.work@ims.example.org");
	pcscf_binding_clear(&b);
}

static void ident_unbound_from_refused(void)
{
	struct pcscf_binding b;
	bind_alice(&b);
	struct slice as;
	const char *why = NULL;
	EXPECT_INT(parse(&m2, REQ("<sip:bob@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "From is not a registered identity");
	EXPECT_TRUE(as.p == NULL);
	pcscf_binding_clear(&b);
}

static void ident_preferred_identity(void)
{
	struct pcscf_binding b;
	bind_alice(&b);
	struct slice as;
	const char *why = NULL;
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>",
				  "P-Preferred-Identity: <tel:+15551234>" CRLF)),
		   ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "tel:+15551234");
	/* a PPI outside the set is refused even with a good From */
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>",
				  "P-Preferred-Identity: <sip:alice@ims.example.org>, <tel:+1999>" CRLF)),
		   ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "P-Preferred-Identity is not a registered identity");
	/* anonymous From: the PPI, or else the default IMPU */
	EXPECT_INT(parse(&m2, REQ("\"Anonymous\" <sip:anonymous@anonymous.invalid>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "sip:alice@ims.example.org");
	EXPECT_INT(parse(&m2, REQ("<sip:anonymous@anonymous.invalid>",
				  "P-Preferred-Identity: <sip:alice.work@ims.example.org>" CRLF)),
		   ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "sip:alice.work@ims.example.org");
	pcscf_binding_clear(&b);
}

static void ident_unregistered_or_expired_refused(void)
{
	struct pcscf_binding b = {0};
	struct slice as;
	const char *why = NULL;
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "Not registered");
	bind_alice(&b);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 1000000, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "Not registered");
	pcscf_binding_clear(&b);
}

/* REQ 2.4, the bob-impu1/bob-impu2 case: registered by a token for one
 * IMPU, the flow speaks for that one only, though the 200 OK's
 * P-Associated-URI names the whole implicit registration set. */
static void binding_narrowed_to_the_token(void)
{
	static const char only_sip[] = "sip:alice@ims.example.org";
	struct pcscf_binding b;
	struct slice as;
	const char *why = NULL;
	bind_alice(&b);
	EXPECT_INT(pcscf_binding_narrow(&b, only_sip, 1), ==, 2);
	EXPECT_TRUE(b.bound);
	EXPECT_STR(b.impi, "alice@ims.example.org");
	EXPECT_INT(b.nimpus, ==, 1);
	EXPECT_INT(b.impus_len, ==, sizeof(only_sip));
	EXPECT_STR(pcscf_binding_impu(&b, 0), "sip:alice@ims.example.org");
	EXPECT_TRUE(pcscf_binding_impu(&b, 1) == NULL);
	EXPECT_STR(b.route_line, "Route: <sip:orig@127.0.0.1:5060;lr>");
	/* her tel IMPU is registered at the core but not authorised here */
	EXPECT_INT(parse(&m2, REQ("<tel:+15551234>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "From is not a registered identity");
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>",
				  "P-Preferred-Identity: <tel:+15551234>" CRLF)),
		   ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "P-Preferred-Identity is not a registered identity");
	EXPECT_INT(parse(&m2, REQ("<sip:alice.work@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	/* the token's own IMPU passes */
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "sip:alice@ims.example.org");
	pcscf_binding_clear(&b);

	/* Two of three, named in another order and spelling: the binding's
	 * order stays, so its first kept is the default (anonymous From). */
	static const char two[] = "sip:alice.work@IMS.example.org\0tel:+15551234;phone-context=x";
	bind_alice(&b);
	EXPECT_INT(pcscf_binding_narrow(&b, two, 2), ==, 1);
	EXPECT_INT(b.nimpus, ==, 2);
	EXPECT_STR(pcscf_binding_impu(&b, 0), "tel:+15551234");
	EXPECT_STR(pcscf_binding_impu(&b, 1), "sip:alice.work@ims.example.org");
	EXPECT_INT(b.impus_len, ==, strlen("tel:+15551234") + strlen("sip:alice.work@ims.example.org") + 2);
	EXPECT_INT(parse(&m2, REQ("<sip:anonymous@anonymous.invalid>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, 0);
	EXPECT_SLICE(as, "tel:+15551234");
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	pcscf_binding_clear(&b);

	/* none of the token's IMPUs registered: nothing bound at all */
	bind_alice(&b);
	EXPECT_INT(pcscf_binding_narrow(&b, "sip:bob@ims.example.org", 1), ==, WIMS_EDENIED);
	EXPECT_TRUE(!b.bound);
	EXPECT_INT(b.nimpus, ==, 0);
	EXPECT_TRUE(b.impus == NULL && b.route_line == NULL);
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, 10, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "Not registered");
	/* and an unbound binding stays unbound */
	EXPECT_INT(pcscf_binding_narrow(&b, only_sip, 1), ==, WIMS_EDENIED);
	EXPECT_INT(pcscf_binding_narrow(&b, "", 0), ==, WIMS_EDENIED);
}

/* The binding ends with the registration or the token, whichever first. */
static void binding_until_token_exp(void)
{
	const int64_t now = 5000, wall = 1700000000400; /* 0.4 s into a second */
	bool by_token = true;
	/* no token (Digest, AKA): the registrar's expiry */
	EXPECT_INT(pcscf_binding_until(now, 600, wall, 0, &by_token), ==, now + 600000);
	EXPECT_TRUE(!by_token);
	/* a token with an hour left: the registration's 600 s */
	EXPECT_INT(pcscf_binding_until(now, 600, wall, 1700003600, &by_token), ==, now + 600000);
	EXPECT_TRUE(!by_token);
	/* 60 s left (59.6 s to be exact): the token's exp */
	EXPECT_INT(pcscf_binding_until(now, 600, wall, 1700000060, &by_token), ==, now + 59600);
	EXPECT_TRUE(by_token);
	/* exactly the registration's end: either */
	EXPECT_INT(pcscf_binding_until(now, 600, 1700000000000, 1700000600, NULL), ==, now + 600000);
	/* a token far in the future does not overflow */
	EXPECT_INT(pcscf_binding_until(now, 600, wall, INT64_MAX, &by_token), ==, now + 600000);
	EXPECT_TRUE(!by_token);
	/* an exp already past (accepted within the validator's skew): the
	 * binding is over before it starts */
	int64_t until = pcscf_binding_until(now, 600, wall, 1700000000 - 10, &by_token);
	EXPECT_TRUE(by_token && until < now);

	/* the identity check honours it: bound until the token's exp */
	struct pcscf_binding b = {0};
	struct slice as;
	const char *why = NULL;
	until = pcscf_binding_until(now, 600, wall, 1700000005, NULL);
	EXPECT_INT(until, ==, now + 4600);
	EXPECT_INT(parse(&m1, ok200), ==, 0);
	EXPECT_INT(pcscf_binding_set(&b, SLICE_LIT("alice@ims.example.org"),
				     SLICE_LIT("sip:alice@ims.example.org"), &m1, until),
		   ==, 0);
	EXPECT_INT(parse(&m2, REQ("<sip:alice@ims.example.org>", "")), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, until - 1, &as, &why), ==, 0);
	EXPECT_INT(pcscf_ident_assert(&b, &m2, until, &as, &why), ==, WIMS_EDENIED);
	EXPECT_STR(why, "Not registered");
	pcscf_binding_clear(&b);
}

static void reg_impi_from_authorization_or_to(void)
{
	char impi[WIMS_IMPI_MAX];
	EXPECT_INT(parse(&m1, reg_auth), ==, 0);
	EXPECT_INT(pcscf_reg_impi(&m1, impi, sizeof(impi)), ==, 21);
	EXPECT_STR(impi, "alice@ims.example.org");
	/* TS 33.203 Annex N: no Authorization, IMPI from the To IMPU */
	EXPECT_INT(parse(&m1, reg_noauth), ==, 0);
	EXPECT_INT(pcscf_reg_impi(&m1, impi, sizeof(impi)), ==, 19);
	EXPECT_STR(impi, "bob@ims.example.org");
}

static void reg_expiry_rules(void)
{
	EXPECT_INT(parse(&m1, reg_auth), ==, 0);
	EXPECT_INT(parse(&m2, ok200), ==, 0);
	EXPECT_INT(pcscf_reg_expiry(&m1, &m2), ==, 300); /* ours, not the other's 3000 */
	EXPECT_INT(parse(&m1, reg_noauth), ==, 0); /* Expires: 0 */
	EXPECT_INT(pcscf_reg_expiry(&m1, &m2), ==, 0);
	EXPECT_INT(parse(&m1, reg_auth), ==, 0);
	EXPECT_INT(parse(&m2, ok200_nocontact), ==, 0); /* nothing kept */
	EXPECT_INT(pcscf_reg_expiry(&m1, &m2), ==, 0);
	EXPECT_INT(parse(&m1, reg_query), ==, 0);
	EXPECT_INT(pcscf_reg_expiry(&m1, &m2), ==, -1);
}

/* JsSIP's Contact: quoted +sip.instance holding <>, reg-id, +sip.ice. */
static void reg_expiry_jssip_contact(void)
{
	static const char reg[] =
		"REGISTER sip:ims.example.org SIP/2.0" CRLF
		"Via: SIP/2.0/WSS 6nk9ro5ct8ei.invalid;branch=z9hG4bK5738462" CRLF
		"Max-Forwards: 69" CRLF
		"To: <sip:alice@ims.example.org>" CRLF
		"From: <sip:alice@ims.example.org>;tag=hl2g6p0t3e" CRLF
		"Call-ID: 9g4eu2ribgkpvr1vg3ca8n" CRLF
		"CSeq: 2 REGISTER" CRLF
		"Contact: <sip:3ej9c5v1@6nk9ro5ct8ei.invalid;transport=ws>;+sip.ice;reg-id=1;"
		"+sip.instance=\"<urn:uuid:2b5fba3c-7a2e-4b4e-9b3a-1b7c9c6f1a10>\";expires=600" CRLF
		"Expires: 600" CRLF
		"Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY" CRLF
		"Supported: path,gruu,outbound" CRLF
		"User-Agent: JsSIP 3.10.1" CRLF
		"Content-Length: 0" CRLF CRLF;
	static const char ok[] =
		"SIP/2.0 200 OK" CRLF
		"Via: SIP/2.0/WSS 6nk9ro5ct8ei.invalid;branch=z9hG4bK5738462" CRLF
		"To: <sip:alice@ims.example.org>;tag=x" CRLF
		"From: <sip:alice@ims.example.org>;tag=hl2g6p0t3e" CRLF
		"Call-ID: 9g4eu2ribgkpvr1vg3ca8n" CRLF
		"CSeq: 2 REGISTER" CRLF
		"Contact: <sip:3ej9c5v1@6nk9ro5ct8ei.invalid;transport=ws>;expires=598;"
		"+sip.instance=\"<urn:uuid:2b5fba3c-7a2e-4b4e-9b3a-1b7c9c6f1a10>\";reg-id=1" CRLF
		"Content-Length: 0" CRLF CRLF;
	EXPECT_INT(parse(&m1, reg), ==, 0);
	EXPECT_INT(parse(&m2, ok), ==, 0);
	EXPECT_INT(pcscf_reg_expiry(&m1, &m2), ==, 598);
}

static void uri_same_rules(void)
{
	EXPECT_TRUE(pcscf_uri_same(SLICE_LIT("sip:a@h"), SLICE_LIT("sip:a@H;transport=ws")));
	EXPECT_TRUE(!pcscf_uri_same(SLICE_LIT("sip:a@h"), SLICE_LIT("sips:a@h")));
	EXPECT_TRUE(!pcscf_uri_same(SLICE_LIT("sip:a@h"), SLICE_LIT("sip:a@h:5070")));
	EXPECT_TRUE(!pcscf_uri_same(SLICE_LIT("sip:a@h"), SLICE_LIT("sip:b@h")));
	EXPECT_TRUE(pcscf_uri_same(SLICE_LIT("tel:+1555"), SLICE_LIT("tel:+1555;phone-context=x")));
}

int main(void)
{
	UNIT_RUN(binding_takes_associated_uris_and_service_route);
	UNIT_RUN(binding_adds_to_when_not_associated);
	UNIT_RUN(ident_bound_from_asserted);
	UNIT_RUN(ident_unbound_from_refused);
	UNIT_RUN(ident_preferred_identity);
	UNIT_RUN(ident_unregistered_or_expired_refused);
	UNIT_RUN(binding_narrowed_to_the_token);
	UNIT_RUN(binding_until_token_exp);
	UNIT_RUN(reg_impi_from_authorization_or_to);
	UNIT_RUN(reg_expiry_rules);
	UNIT_RUN(reg_expiry_jssip_contact);
	UNIT_RUN(uri_same_rules);
	return UNIT_MAIN_END();
}
