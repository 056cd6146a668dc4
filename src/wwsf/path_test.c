/* path_test.c - wwsf_path_resolve: what maps to a file, and every refusal. */
#include <string.h>

#include "core/wims.h"
#include "unit.h"
#include "wwsf/path.h"

static char out[WWSF_PATH_MAX];
static const char *reason;

static int resolve(const char *path)
{
	return wwsf_path_resolve(slice_from_cstr(path), out, sizeof(out), &reason);
}

static void root_is_index(void)
{
	EXPECT_INT(resolve("/"), ==, 10);
	EXPECT_STR(out, "index.html");
}

static void plain_files_map_under_root(void)
{
	EXPECT_INT(resolve("/app.js"), ==, 6);
	EXPECT_STR(out, "app.js");
	EXPECT_INT(resolve("/assets/icons/a-b_c.svg"), >, 0);
	EXPECT_STR(out, "assets/icons/a-b_c.svg");
	/* a dot inside a name is fine */
	EXPECT_INT(resolve("/app.js.map"), >, 0);
	EXPECT_STR(out, "app.js.map");
}

static void directory_gets_its_index(void)
{
	EXPECT_INT(resolve("/docs/"), >, 0);
	EXPECT_STR(out, "docs/index.html");
}

static void percent_escapes_decode_once(void)
{
	EXPECT_INT(resolve("/my%20file.txt"), >, 0);
	EXPECT_STR(out, "my file.txt");
	/* %25 decodes to "%", which is not decoded again */
	EXPECT_INT(resolve("/a%252e%252e"), >, 0);
	EXPECT_STR(out, "a%2e%2e");
}

static void dot_segments_are_refused(void)
{
	EXPECT_INT(resolve("/.."), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/../etc/passwd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/../../etc/passwd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/./b"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/.."), ==, WIMS_EDENIED);
	EXPECT_TRUE(reason != NULL);
}

static void encoded_dot_segments_are_refused(void)
{
	EXPECT_INT(resolve("/%2e%2e/etc/passwd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/%2E%2E/x"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/.%2e/x"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/%2e./x"), ==, WIMS_EDENIED);
}

static void hidden_files_are_refused(void)
{
	EXPECT_INT(resolve("/.git/config"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a/.env"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/%2egit/config"), ==, WIMS_EDENIED);
}

static void encoded_separators_are_refused(void)
{
	EXPECT_INT(resolve("/a%2f..%2f..%2fetc%2fpasswd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a%2F..%2Fb"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/..%5c..%5cwin.ini"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a\\b"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a%5cb"), ==, WIMS_EDENIED);
}

static void absolute_and_empty_paths_are_refused(void)
{
	EXPECT_INT(resolve(""), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("etc/passwd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("//etc/passwd"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a//b"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("http://evil/x"), ==, WIMS_EDENIED);
}

static void nul_control_and_non_ascii_are_refused(void)
{
	EXPECT_INT(resolve("/index.html%00.png"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a%0ab"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/a%7fb"), ==, WIMS_EDENIED);
	EXPECT_INT(resolve("/%c0%ae%c0%ae/etc"), ==, WIMS_EDENIED); /* overlong UTF-8 "." */
	EXPECT_INT(resolve("/caf\xc3\xa9"), ==, WIMS_EDENIED);
	/* a NUL inside the slice itself, not only encoded */
	EXPECT_INT(wwsf_path_resolve((struct slice){"/a\0b", 4}, out, sizeof(out), &reason), ==,
		   WIMS_EDENIED);
}

static void bad_escapes_are_parse_errors(void)
{
	EXPECT_INT(resolve("/a%"), ==, WIMS_EPARSE);
	EXPECT_INT(resolve("/a%2"), ==, WIMS_EPARSE);
	EXPECT_INT(resolve("/a%zz"), ==, WIMS_EPARSE);
}

static void too_long_is_refused_without_overflow(void)
{
	char big[WWSF_PATH_MAX + 8];
	big[0] = '/';
	memset(big + 1, 'a', sizeof(big) - 2);
	big[sizeof(big) - 1] = '\0';
	EXPECT_INT(resolve(big), ==, WIMS_ETOOBIG);
	/* "/" then room for exactly the name but not "index.html" */
	char small[4];
	EXPECT_INT(wwsf_path_resolve(SLICE_LIT("/"), small, sizeof(small), &reason), ==,
		   WIMS_ETOOBIG);
	EXPECT_INT(wwsf_path_resolve(SLICE_LIT("/abc"), small, sizeof(small), &reason), ==, 3);
	EXPECT_STR(small, "abc");
	EXPECT_INT(wwsf_path_resolve(SLICE_LIT("/abcd"), small, sizeof(small), &reason), ==,
		   WIMS_ETOOBIG);
}

static void never_reads_past_the_slice(void)
{
	/* the bytes after len are not part of the path */
	const char buf[] = "/app.js/../../etc";
	EXPECT_INT(wwsf_path_resolve((struct slice){buf, 7}, out, sizeof(out), &reason), ==, 6);
	EXPECT_STR(out, "app.js");
	/* an escape cut by the end of the slice is bad, not read beyond */
	const char esc[] = "/a%41";
	EXPECT_INT(wwsf_path_resolve((struct slice){esc, 4}, out, sizeof(out), &reason), ==,
		   WIMS_EPARSE);
}

int main(void)
{
	UNIT_RUN(root_is_index);
	UNIT_RUN(plain_files_map_under_root);
	UNIT_RUN(directory_gets_its_index);
	UNIT_RUN(percent_escapes_decode_once);
	UNIT_RUN(dot_segments_are_refused);
	UNIT_RUN(encoded_dot_segments_are_refused);
	UNIT_RUN(hidden_files_are_refused);
	UNIT_RUN(encoded_separators_are_refused);
	UNIT_RUN(absolute_and_empty_paths_are_refused);
	UNIT_RUN(nul_control_and_non_ascii_are_refused);
	UNIT_RUN(bad_escapes_are_parse_errors);
	UNIT_RUN(too_long_is_refused_without_overflow);
	UNIT_RUN(never_reads_past_the_slice);
	return UNIT_MAIN_END();
}
