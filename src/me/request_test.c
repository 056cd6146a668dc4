/*
 * request_test.c - the POST /aka body parser: what it takes, what it
 * refuses and why, fed whole and cut at every length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"
#include "me/request.h"
#include "unit.h"

#define NONCE "3Z8v2mM1HbXyR0lS3A4Z5hS2W6h6kQ8KMXl+P2bZC3k="

static int parse(const char *body, struct me_request *r, const char **reason)
{
	return me_request_parse(body, strlen(body), r, reason);
}

static void takes_the_three_members(void)
{
	struct me_request r;
	const char *reason = NULL;
	EXPECT_INT(parse("{\"impi\":\"dave@ims.example.org\",\"nonce\":\"" NONCE
			 "\",\"algorithm\":\"AKAv2-SHA-256\"}",
			 &r, &reason),
		   ==, 0);
	EXPECT_STR(r.impi, "dave@ims.example.org");
	EXPECT_STR(r.nonce, NONCE);
	EXPECT_INT(r.algorithm, ==, AKA_V2_SHA256);
}

static void algorithm_defaults_to_akav2_and_extra_members_are_ignored(void)
{
	struct me_request r;
	EXPECT_INT(parse("{\"nonce\":\"abc\",\"impi\":\"a@b\",\"realm\":\"b\",\"n\":[1,2]}", &r,
			 NULL),
		   ==, 0);
	EXPECT_INT(r.algorithm, ==, AKA_V2_SHA256);
	EXPECT_STR(r.impi, "a@b");
}

/* AKAv1 parses: refusing it is the agent's decision, with its reason. */
static void akav1_is_parsed_for_the_caller_to_refuse(void)
{
	struct me_request r;
	EXPECT_INT(parse("{\"impi\":\"a@b\",\"nonce\":\"x\",\"algorithm\":\"akav1-md5\"}", &r,
			 NULL),
		   ==, 0);
	EXPECT_INT(r.algorithm, ==, AKA_V1_MD5);
}

static void refusals_say_why(void)
{
	struct me_request r;
	const char *reason = NULL;
	EXPECT_INT(parse("", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_TRUE(reason && strstr(reason, "empty"));
	EXPECT_INT(parse("{\"impi\":", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_STR(reason, "request body is not valid JSON");
	EXPECT_INT(parse("[1]", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_INT(parse("{\"nonce\":\"x\"}", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_TRUE(strstr(reason, "impi") != NULL);
	EXPECT_INT(parse("{\"impi\":\"a@b\"}", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_TRUE(strstr(reason, "nonce") != NULL);
	EXPECT_INT(parse("{\"impi\":5,\"nonce\":\"x\"}", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_INT(parse("{\"impi\":\"\",\"nonce\":\"x\"}", &r, &reason), ==, WIMS_EPARSE);
	EXPECT_INT(parse("{\"impi\":\"a@b\",\"nonce\":\"x\",\"algorithm\":7}", &r, &reason), ==,
		   WIMS_EPARSE);
	EXPECT_INT(parse("{\"impi\":\"a@b\",\"nonce\":\"x\",\"algorithm\":\"MD5\"}", &r, &reason),
		   ==, WIMS_EUNSUPPORTED);
	/* One member given twice could mean two things to two parsers. */
	EXPECT_INT(parse("{\"impi\":\"a@b\",\"impi\":\"c@d\",\"nonce\":\"x\"}", &r, &reason), ==,
		   WIMS_EPARSE);
	/* An embedded NUL would cut the IMPI short. */
	EXPECT_INT(parse("{\"impi\":\"a\\u0000b\",\"nonce\":\"x\"}", &r, &reason), ==,
		   WIMS_EPARSE);
	EXPECT_STR(r.impi, "");
}

static void bounds(void)
{
	struct me_request r;
	const char *reason = NULL;
	char body[ME_REQUEST_MAX_BODY + 100];
	/* IMPI of 255 bytes fits, 256 does not. */
	for (int len = 255; len <= 256; len++) {
		int n = snprintf(body, sizeof(body), "{\"nonce\":\"x\",\"impi\":\"%0*d\"}", len, 0);
		EXPECT_INT(me_request_parse(body, (size_t)n, &r, &reason), ==,
			   len == 255 ? 0 : WIMS_EPARSE);
	}
	/* Nonce up to AKA_NONCE_MAX characters. */
	for (int len = AKA_NONCE_MAX; len <= AKA_NONCE_MAX + 1; len++) {
		int n = snprintf(body, sizeof(body), "{\"impi\":\"a\",\"nonce\":\"%0*d\"}", len, 0);
		EXPECT_INT(me_request_parse(body, (size_t)n, &r, &reason), ==,
			   len == AKA_NONCE_MAX ? 0 : WIMS_EPARSE);
	}
	memset(body, ' ', sizeof(body));
	EXPECT_INT(me_request_parse(body, ME_REQUEST_MAX_BODY + 1, &r, &reason), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(me_request_parse(NULL, 0, &r, &reason), ==, WIMS_EPARSE);
}

/* Every prefix of a good body is refused, none read past its length. */
static void every_prefix_is_refused(void)
{
	const char *good = "{\"impi\":\"dave@ims.example.org\",\"nonce\":\"" NONCE
			   "\",\"algorithm\":\"AKAv2-SHA-256\"}";
	size_t n = strlen(good);
	struct me_request r;
	for (size_t len = 0; len < n; len++) {
		char *copy = malloc(len ? len : 1);
		memcpy(copy, good, len);
		int rc = me_request_parse(copy, len, &r, NULL);
		free(copy);
		EXPECT_TRUE(rc < 0);
	}
	EXPECT_INT(me_request_parse(good, n, &r, NULL), ==, 0);
}

int main(void)
{
	UNIT_RUN(takes_the_three_members);
	UNIT_RUN(algorithm_defaults_to_akav2_and_extra_members_are_ignored);
	UNIT_RUN(akav1_is_parsed_for_the_caller_to_refuse);
	UNIT_RUN(refusals_say_why);
	UNIT_RUN(bounds);
	UNIT_RUN(every_prefix_is_refused);
	return UNIT_MAIN_END();
}
