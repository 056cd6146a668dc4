/* webacct_test.c - web accounts: scrypt hashes (never the password),
 * verification and its refusals, the user -> IMPI map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/wims.h"
#include "unit.h"
#include "store/webacct.h"

static char dir[64], path[128];
static struct web_accounts *a;

static struct slice S(const char *s)
{
	return slice_from_cstr(s);
}

static void hash_format_and_check(void)
{
	static const unsigned char salt[16] = "0123456789abcdef";
	char h[WEB_PWHASH_MAX];
	EXPECT_INT(web_pwhash_make("pw", 2, salt, 16, 10, 8, 1, h, sizeof(h)), ==, 0);
	EXPECT_TRUE(strncmp(h, "scrypt$10$8$1$", 14) == 0);
	EXPECT_INT(web_pwhash_check(h, "pw", 2), ==, 0);
	EXPECT_INT(web_pwhash_check(h, "pW", 2), ==, WIMS_EAUTH);
	EXPECT_INT(web_pwhash_check(h, "pw", 1), ==, WIMS_EAUTH);
	/* the same password and salt give the same hash; another salt not */
	char h2[WEB_PWHASH_MAX];
	EXPECT_INT(web_pwhash_make("pw", 2, salt, 16, 10, 8, 1, h2, sizeof(h2)), ==, 0);
	EXPECT_STR(h, h2);
	static const unsigned char salt2[16] = "0123456789abcdeF";
	EXPECT_INT(web_pwhash_make("pw", 2, salt2, 16, 10, 8, 1, h2, sizeof(h2)), ==, 0);
	EXPECT_TRUE(strcmp(h, h2) != 0);
}

static void malformed_or_costly_hash_refused(void)
{
	EXPECT_INT(web_pwhash_check("md5$x", "pw", 2), ==, WIMS_EPARSE);
	EXPECT_INT(web_pwhash_check("scrypt$30$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA", "pw", 2), ==,
		   WIMS_EPARSE);
	EXPECT_INT(web_pwhash_check("scrypt$10$8$1$short$AAAA", "pw", 2), ==, WIMS_EPARSE);
	EXPECT_INT(web_pwhash_check("scrypt$10$8$1$", "pw", 2), ==, WIMS_EPARSE);
}

static void user_names(void)
{
	EXPECT_TRUE(web_user_name_ok(S("erin")));
	EXPECT_TRUE(web_user_name_ok(S("a.b_c-9")));
	EXPECT_TRUE(!web_user_name_ok(S("")));
	EXPECT_TRUE(!web_user_name_ok(S("a b")));
	EXPECT_TRUE(!web_user_name_ok(S("a\"b")));
	EXPECT_TRUE(!web_user_name_ok(S("\xc3\xa9")));
	char long_name[WEB_USER_MAX + 1];
	memset(long_name, 'a', WEB_USER_MAX);
	long_name[WEB_USER_MAX] = '\0';
	EXPECT_TRUE(!web_user_name_ok(S(long_name)));
	long_name[WEB_USER_MAX - 1] = '\0';
	EXPECT_TRUE(web_user_name_ok(S(long_name)));
}

static void add_verify_and_refusals(void)
{
	EXPECT_INT(web_account_set(a, "erin", "erin-web", 8), ==, 0);
	EXPECT_TRUE(web_account_exists(a, "erin"));
	EXPECT_INT(web_account_verify(a, S("erin"), S("erin-web")), ==, 0);
	EXPECT_INT(web_account_verify(a, S("erin"), S("erin-weB")), ==, WIMS_EAUTH);
	EXPECT_INT(web_account_verify(a, S("erin"), S("")), ==, WIMS_EAUTH);
	EXPECT_INT(web_account_verify(a, S("nobody"), S("erin-web")), ==, WIMS_EAUTH);
	EXPECT_INT(web_account_verify(a, S("bad name"), S("erin-web")), ==, WIMS_EAUTH);
	/* a password with a NUL inside is not its prefix */
	EXPECT_INT(web_account_verify(a, S("erin"), ((struct slice){"erin-web\0x", 10})), ==,
		   WIMS_EAUTH);
	/* new password replaces the old one */
	EXPECT_INT(web_account_set(a, "erin", "second", 6), ==, 0);
	EXPECT_INT(web_account_verify(a, S("erin"), S("erin-web")), ==, WIMS_EAUTH);
	EXPECT_INT(web_account_verify(a, S("erin"), S("second")), ==, 0);
	EXPECT_INT(web_account_set(a, "bad name", "x", 1), ==, WIMS_EINVAL);
	EXPECT_INT(web_account_set(a, "x", "", 0), ==, WIMS_EINVAL);
}

static int grep_cb(void *arg, int n, char **vals, char **cols)
{
	(void)cols;
	int *found = arg;
	for (int i = 0; i < n; i++)
		if (vals[i] && strstr(vals[i], "second"))
			(*found)++;
	return 0;
}

static void password_not_in_the_file(void)
{
	sqlite3 *db = NULL;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	int found = 0;
	char *msg = NULL;
	EXPECT_INT(sqlite3_exec(db, "SELECT name, pwhash FROM account", grep_cb, &found, &msg),
		   ==, SQLITE_OK);
	sqlite3_close(db);
	EXPECT_INT(found, ==, 0);
	/* only the owner may read the hashes */
	struct stat st;
	EXPECT_INT(stat(path, &st), ==, 0);
	EXPECT_INT(st.st_mode & 0777, ==, 0600);
	/* and not in the raw bytes either (WAL included) */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cat %s/sub/* | grep -qa second", dir);
	EXPECT_INT(system(cmd) == 0, ==, 0);
}

static int collect(void *arg, const char *name, const char *impi)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 512 - n, "%s=%s;", name, impi ? impi : "-");
	return 0;
}

static void map_and_unmap(void)
{
	EXPECT_INT(web_account_set(a, "frank", "frank-web", 9), ==, 0);
	EXPECT_INT(web_account_map(a, "erin", "erin@ims.example.org"), ==, 0);
	EXPECT_INT(web_account_map(a, "erin", "erin@ims.example.org"), ==, 0);
	EXPECT_INT(web_account_map(a, "nobody", "erin@ims.example.org"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(web_account_map(a, "erin", "bad impi"), ==, WIMS_EINVAL);
	EXPECT_INT(web_account_map(a, "erin", ""), ==, WIMS_EINVAL);
	EXPECT_TRUE(web_account_has_impi(a, "erin", S("erin@ims.example.org")));
	EXPECT_TRUE(!web_account_has_impi(a, "frank", S("erin@ims.example.org")));
	EXPECT_TRUE(!web_account_has_impi(a, "erin", S("erin@ims.example.or")));
	EXPECT_TRUE(!web_account_has_impi(a, "erin", ((struct slice){"erin@ims.example.org\0", 21})));
	char out[512] = "";
	EXPECT_INT(web_account_list(a, NULL, collect, out), ==, 0);
	EXPECT_STR(out, "erin=erin@ims.example.org;frank=-;");
	out[0] = '\0';
	EXPECT_INT(web_account_list(a, "erin", collect, out), ==, 0);
	EXPECT_STR(out, "erin=erin@ims.example.org;");
	EXPECT_INT(web_account_unmap(a, "erin", "erin@ims.example.org"), ==, 0);
	EXPECT_INT(web_account_unmap(a, "erin", "erin@ims.example.org"), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(!web_account_has_impi(a, "erin", S("erin@ims.example.org")));
}

static void remove_takes_the_map(void)
{
	EXPECT_INT(web_account_map(a, "frank", "frank@ims.example.org"), ==, 0);
	EXPECT_INT(web_account_remove(a, "frank"), ==, 0);
	EXPECT_INT(web_account_remove(a, "frank"), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(!web_account_exists(a, "frank"));
	EXPECT_TRUE(!web_account_has_impi(a, "frank", S("frank@ims.example.org")));
	/* a new frank does not inherit the old one's map */
	EXPECT_INT(web_account_set(a, "frank", "x", 1), ==, 0);
	EXPECT_TRUE(!web_account_has_impi(a, "frank", S("frank@ims.example.org")));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-wwsf-account-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sub/wwsf.db", dir);
	char err[256];
	a = web_accounts_open(path, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	UNIT_RUN(hash_format_and_check);
	UNIT_RUN(malformed_or_costly_hash_refused);
	UNIT_RUN(user_names);
	UNIT_RUN(add_verify_and_refusals);
	UNIT_RUN(password_not_in_the_file);
	UNIT_RUN(map_and_unmap);
	UNIT_RUN(remove_takes_the_map);
	web_accounts_close(a);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_MAIN_END();
}
