/*
 * contact_test.c - Contact/Expires of a REGISTER into wanted bindings:
 * the expiry rules (parameter, header, default, clamp, 423), "*", the
 * RFC 5626 instance and reg-id, duplicates and the refusals.
 */
#include "cscf/contact.h"

#include <stdio.h>
#include <string.h>

#include "core/wims.h"
#include "sip/msg.h"
#include "unit.h"

static const struct cscf_expiry_rules rules = {60, 7200, 3600};

static char msgbuf[4096];
static struct sip_msg msg;

/* A REGISTER with the given extra header lines (each ending in CRLF). */
static int parse_register(const char *extra)
{
	int n = snprintf(msgbuf, sizeof(msgbuf),
			 "REGISTER sip:ims.example.org SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
			 "From: <sip:alice@ims.example.org>;tag=1\r\n"
			 "To: <sip:alice@ims.example.org>\r\n"
			 "Call-ID: c1\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 extra);
	const char *reason;
	return sip_msg_parse(&msg, msgbuf, (size_t)n, SIP_FRAMING_STREAM, &reason) == n ? 0 : -1;
}

static int contacts(const char *extra, struct cscf_contacts *cs, const char **reason)
{
	if (parse_register(extra) != 0)
		return -1;
	*reason = NULL;
	return cscf_contacts_parse(&msg, &rules, cs, reason);
}

static void no_contact_is_a_fetch(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("", &cs, &reason), ==, 0);
	EXPECT_TRUE(!cs.present);
	EXPECT_INT(cs.n, ==, 0);
}

static void expiry_from_param_header_or_default(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>\r\n", &cs, &reason), ==, 0);
	EXPECT_INT(cs.n, ==, 1);
	EXPECT_SLICE(cs.c[0].uri, "sip:a@192.0.2.1");
	EXPECT_INT(cs.c[0].expires, ==, 3600);
	EXPECT_INT(contacts("Expires: 600\r\nContact: <sip:a@192.0.2.1>\r\n", &cs, &reason), ==, 0);
	EXPECT_INT(cs.c[0].expires, ==, 600);
	EXPECT_INT(contacts("Expires: 600\r\nContact: <sip:a@192.0.2.1>;expires=120, "
			    "<sip:b@192.0.2.2>\r\n",
			    &cs, &reason),
		   ==, 0);
	EXPECT_INT(cs.n, ==, 2);
	EXPECT_INT(cs.c[0].expires, ==, 120);
	EXPECT_INT(cs.c[1].expires, ==, 600);
}

static void long_expiry_is_clamped(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>;expires=4294967295\r\n", &cs, &reason), ==,
		   0);
	EXPECT_INT(cs.c[0].expires, ==, 7200);
}

static void short_expiry_is_423_but_zero_removes(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>;expires=59\r\n", &cs, &reason), ==, 423);
	EXPECT_STR(reason, "Interval Too Brief");
	EXPECT_INT(contacts("Expires: 1\r\nContact: <sip:a@192.0.2.1>\r\n", &cs, &reason), ==, 423);
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>;expires=0\r\n", &cs, &reason), ==, 0);
	EXPECT_INT(cs.c[0].expires, ==, 0);
}

static void star_needs_expires_zero_and_alone(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: *\r\nExpires: 0\r\n", &cs, &reason), ==, 0);
	EXPECT_TRUE(cs.star);
	EXPECT_INT(contacts("Contact: *\r\n", &cs, &reason), ==, 400);
	EXPECT_INT(contacts("Contact: *\r\nExpires: 60\r\n", &cs, &reason), ==, 400);
	EXPECT_INT(contacts("Contact: *, <sip:a@192.0.2.1>\r\nExpires: 0\r\n", &cs, &reason), ==,
		   400);
}

static void outbound_instance_and_reg_id(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: <sip:a@x.invalid;transport=ws>;+sip.instance="
			    "\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1\r\n",
			    &cs, &reason),
		   ==, 0);
	EXPECT_SLICE(cs.c[0].instance, "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>");
	EXPECT_INT(cs.c[0].reg_id, ==, 1);
	EXPECT_INT(contacts("Contact: <sip:a@x.invalid>;reg-id=0\r\n", &cs, &reason), ==, 400);
	EXPECT_INT(contacts("Contact: <sip:a@x.invalid>;reg-id=x\r\n", &cs, &reason), ==, 400);
}

static void bad_values_are_400(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Expires: soon\r\nContact: <sip:a@192.0.2.1>\r\n", &cs, &reason), ==,
		   400);
	EXPECT_STR(reason, "Bad Expires");
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>;expires=-1\r\n", &cs, &reason), ==, 400);
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1\r\n", &cs, &reason), ==, 400);
}

static void duplicates_keep_the_last(void)
{
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts("Contact: <sip:a@192.0.2.1>;expires=600\r\n"
			    "Contact: <sip:a@192.0.2.1>;expires=0\r\n",
			    &cs, &reason),
		   ==, 0);
	EXPECT_INT(cs.n, ==, 1);
	EXPECT_INT(cs.c[0].expires, ==, 0);
}

static void too_many_contacts_is_403(void)
{
	char extra[2048];
	size_t n = 0;
	for (int i = 0; i <= WIMS_REG_MAX_CONTACTS; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Contact: <sip:u%d@192.0.2.1>\r\n",
				      i);
	struct cscf_contacts cs;
	const char *reason;
	EXPECT_INT(contacts(extra, &cs, &reason), ==, 403);
	EXPECT_STR(reason, "Too many contacts");
}

int main(void)
{
	UNIT_RUN(no_contact_is_a_fetch);
	UNIT_RUN(expiry_from_param_header_or_default);
	UNIT_RUN(long_expiry_is_clamped);
	UNIT_RUN(short_expiry_is_423_but_zero_removes);
	UNIT_RUN(star_needs_expires_zero_and_alone);
	UNIT_RUN(outbound_instance_and_reg_id);
	UNIT_RUN(bad_values_are_400);
	UNIT_RUN(duplicates_keep_the_last);
	UNIT_RUN(too_many_contacts_is_403);
	return UNIT_MAIN_END();
}
