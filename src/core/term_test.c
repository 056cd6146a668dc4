/* term_test.c - lines and secrets from a pipe-like input (not a terminal). */
#include "core/term.h"

#include <string.h>

#include "core/wims.h"
#include "unit.h"

static FILE *input(const char *text)
{
	FILE *f = tmpfile();
	if (f) {
		fputs(text, f);
		rewind(f);
	}
	return f;
}

static void reads_lines_without_their_ends(void)
{
	FILE *f = input("one\r\ntwo\n\nlast");
	char buf[16];
	EXPECT_TRUE(f != NULL);
	if (!f)
		return;
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, 3);
	EXPECT_STR(buf, "one");
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, 3);
	EXPECT_STR(buf, "two");
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, 0);
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, 4);
	EXPECT_STR(buf, "last");
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, -1);
	fclose(f);
}

static void refuses_a_long_line_and_goes_on_after_it(void)
{
	FILE *f = input("0123456789abcdef\nnext\n");
	char buf[8];
	EXPECT_TRUE(f != NULL);
	if (!f)
		return;
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, WIMS_ETOOBIG);
	EXPECT_INT(term_read_line(f, buf, sizeof(buf)), ==, 4);
	EXPECT_STR(buf, "next");
	fclose(f);
}

static void reads_a_secret_from_a_pipe_without_prompting(void)
{
	FILE *f = input("s3cret\n");
	char buf[32];
	size_t len = 0;
	EXPECT_TRUE(f != NULL);
	if (!f)
		return;
	EXPECT_INT(term_read_secret(f, "Password: ", buf, sizeof(buf), &len), ==, 0);
	EXPECT_INT(len, ==, 6);
	EXPECT_STR(buf, "s3cret");
	fclose(f);
}

static void refuses_empty_and_too_long_secrets(void)
{
	char buf[8];
	size_t len = 0;
	FILE *f = input("\n");
	EXPECT_TRUE(f != NULL);
	if (!f)
		return;
	EXPECT_INT(term_read_secret(f, "", buf, sizeof(buf), &len), ==, WIMS_EINVAL);
	fclose(f);
	f = input("");
	EXPECT_INT(term_read_secret(f, "", buf, sizeof(buf), &len), ==, WIMS_EINVAL);
	fclose(f);
	f = input("far-too-long-secret\n");
	EXPECT_INT(term_read_secret(f, "", buf, sizeof(buf), &len), ==, WIMS_ETOOBIG);
	fclose(f);
}

int main(void)
{
	UNIT_RUN(reads_lines_without_their_ends);
	UNIT_RUN(refuses_a_long_line_and_goes_on_after_it);
	UNIT_RUN(reads_a_secret_from_a_pipe_without_prompting);
	UNIT_RUN(refuses_empty_and_too_long_secrets);
	return UNIT_MAIN_END();
}
