/* conf_test.c - table-driven config: defaults, values and file:line errors. */
#include "core/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/wims.h"
#include "unit.h"

struct demo_conf {
	char listen[64];
	int port;
	bool tls;
	char origins[256];
	int level;
};

static struct demo_conf demo;

static const struct conf_key demo_keys[] = {
	CONF_KEY_ADDR(struct demo_conf, listen, "127.0.0.1:7443", "where to listen"),
	CONF_KEY_INT(struct demo_conf, port, "5060", 1, 65535, "a port"),
	CONF_KEY_BOOL(struct demo_conf, tls, "yes", "TLS on"),
	CONF_KEY_LIST(struct demo_conf, origins, "https://a, https://b", "allowed"),
	CONF_KEY_ENUM(struct demo_conf, level, "info", "error|warn|info|debug", "level"),
};

static const struct conf_section demo_section = {
	"pcscf", "test section", demo_keys, WIMS_ARRAY_LEN(demo_keys), &demo,
};
static const struct conf_section *const sections[] = {&demo_section};

/* Writes text to a temporary file and returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/wims_conf_testXXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

static int load_text(const char *text, char *err, size_t errsz)
{
	const char *path = write_tmp(text);
	if (!path)
		return WIMS_EIO;
	conf_defaults(sections, 1, err, errsz);
	int rc = conf_load(path, sections, 1, err, errsz);
	unlink(path);
	return rc;
}

static void defaults_apply_before_the_file(void)
{
	char err[256] = "";
	EXPECT_INT(conf_defaults(sections, 1, err, sizeof(err)), ==, 0);
	EXPECT_STR(demo.listen, "127.0.0.1:7443");
	EXPECT_INT(demo.port, ==, 5060);
	EXPECT_TRUE(demo.tls);
	EXPECT_INT(demo.level, ==, 2);
}

static void file_values_override_defaults(void)
{
	char err[256] = "";
	EXPECT_INT(load_text("; comment\n[pcscf]\nport = 5070\ntls = no\nlevel = debug\n", err,
			     sizeof(err)),
		   ==, 0);
	EXPECT_INT(demo.port, ==, 5070);
	EXPECT_TRUE(!demo.tls);
	EXPECT_INT(demo.level, ==, 3);
}

static void bad_number_names_file_line_and_expectation(void)
{
	char err[256] = "";
	EXPECT_INT(load_text("[pcscf]\n\nport = 70000\n", err, sizeof(err)), ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, ":3: [pcscf] port: expected a whole number from 1 to 65535") !=
		    NULL);
}

static void unknown_key_and_section_are_refused(void)
{
	char err[256] = "";
	EXPECT_INT(load_text("[pcscf]\nlisten = 127.0.0.1:1\nbogus = 1\n", err, sizeof(err)), ==,
		   WIMS_ECONF);
	EXPECT_TRUE(strstr(err, ":3: [pcscf] has no key \"bogus\"") != NULL);
	EXPECT_INT(load_text("[nosuch]\nx = 1\n", err, sizeof(err)), ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, ":2: unknown section [nosuch]") != NULL);
}

static void bad_address_and_bool_are_refused(void)
{
	char err[256] = "";
	EXPECT_INT(load_text("[pcscf]\nlisten = localhost\n", err, sizeof(err)), ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, ":2: [pcscf] listen: expected host:port") != NULL);
	EXPECT_INT(load_text("[pcscf]\ntls = maybe\n", err, sizeof(err)), ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, "expected yes or no") != NULL);
}

static void missing_file_is_an_io_error(void)
{
	char err[256] = "";
	EXPECT_INT(conf_load("/nonexistent/wims.ini", sections, 1, err, sizeof(err)), ==,
		   WIMS_EIO);
	EXPECT_TRUE(strstr(err, "/nonexistent/wims.ini: cannot open") != NULL);
}

static void string_errors_name_the_given_name_and_line(void)
{
	char err[256] = "";
	conf_defaults(sections, 1, err, sizeof(err));
	EXPECT_INT(conf_load_string("inline.ini", "[pcscf]\nport = 70\n\ntls = perhaps\n", sections, 1,
				    err, sizeof(err)),
		   ==, WIMS_ECONF);
	EXPECT_TRUE(strstr(err, "inline.ini:4: [pcscf] tls: expected yes or no") != NULL);
	EXPECT_INT(demo.port, ==, 70);
}

static void set_overrides_one_key(void)
{
	char err[256] = "";
	EXPECT_INT(conf_set("pcscf.port=6000", sections, 1, err, sizeof(err)), ==, 0);
	EXPECT_INT(demo.port, ==, 6000);
	EXPECT_INT(conf_set("pcscf.port", sections, 1, err, sizeof(err)), ==, WIMS_ECONF);
	EXPECT_INT(conf_set("pcscf.nokey=1", sections, 1, err, sizeof(err)), ==, WIMS_ECONF);
}

static void list_items_are_trimmed(void)
{
	const char *cursor = " https://a ,https://b,, https://c ";
	const char *item;
	size_t len;
	len = conf_list_next(&cursor, &item);
	EXPECT_INT(len, ==, 9);
	EXPECT_TRUE(strncmp(item, "https://a", len) == 0);
	len = conf_list_next(&cursor, &item);
	EXPECT_TRUE(len == 9 && strncmp(item, "https://b", len) == 0);
	len = conf_list_next(&cursor, &item);
	EXPECT_TRUE(len == 9 && strncmp(item, "https://c", len) == 0);
	EXPECT_INT(conf_list_next(&cursor, &item), ==, 0);
}

static void addr_split_handles_v4_and_v6(void)
{
	char host[64];
	int port = 0;
	EXPECT_INT(conf_addr_split("127.0.0.1:5060", host, sizeof(host), &port), ==, 0);
	EXPECT_STR(host, "127.0.0.1");
	EXPECT_INT(port, ==, 5060);
	EXPECT_INT(conf_addr_split("[::1]:7443", host, sizeof(host), &port), ==, 0);
	EXPECT_STR(host, "::1");
	EXPECT_INT(port, ==, 7443);
	EXPECT_INT(conf_addr_split("host:99999", host, sizeof(host), &port), ==, WIMS_EPARSE);
	EXPECT_INT(conf_addr_split(":80", host, sizeof(host), &port), ==, WIMS_EPARSE);
}

int main(void)
{
	UNIT_RUN(defaults_apply_before_the_file);
	UNIT_RUN(file_values_override_defaults);
	UNIT_RUN(bad_number_names_file_line_and_expectation);
	UNIT_RUN(unknown_key_and_section_are_refused);
	UNIT_RUN(bad_address_and_bool_are_refused);
	UNIT_RUN(missing_file_is_an_io_error);
	UNIT_RUN(string_errors_name_the_given_name_and_line);
	UNIT_RUN(set_overrides_one_key);
	UNIT_RUN(list_items_are_trimmed);
	UNIT_RUN(addr_split_handles_v4_and_v6);
	return UNIT_MAIN_END();
}
