/* fs_test.c - fs_make_parent_dirs in a temporary directory. */
#include "core/fs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/wims.h"
#include "unit.h"

static char tmp[64];

static bool is_dir_with_mode(const char *path, mode_t mode)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == mode;
}

static void creates_every_missing_parent_with_the_mode(void)
{
	char path[256], dir[256];
	snprintf(path, sizeof(path), "%s/a/b/c/store.db", tmp);
	EXPECT_INT(fs_make_parent_dirs(path, 0700), ==, 0);
	snprintf(dir, sizeof(dir), "%s/a", tmp);
	EXPECT_TRUE(is_dir_with_mode(dir, 0700));
	snprintf(dir, sizeof(dir), "%s/a/b/c", tmp);
	EXPECT_TRUE(is_dir_with_mode(dir, 0700));
	/* the file itself is not created */
	EXPECT_INT(access(path, F_OK), ==, -1);
	/* a second run finds them all and is fine */
	EXPECT_INT(fs_make_parent_dirs(path, 0700), ==, 0);
}

static void leaves_existing_directories_as_they_are(void)
{
	char path[256], dir[256];
	snprintf(dir, sizeof(dir), "%s/open", tmp);
	EXPECT_INT(mkdir(dir, 0755), ==, 0);
	EXPECT_INT(chmod(dir, 0755), ==, 0); /* whatever the umask */
	snprintf(path, sizeof(path), "%s/open/x/key.pem", tmp);
	EXPECT_INT(fs_make_parent_dirs(path, 0700), ==, 0);
	EXPECT_TRUE(is_dir_with_mode(dir, 0755));
	snprintf(dir, sizeof(dir), "%s/open/x", tmp);
	EXPECT_TRUE(is_dir_with_mode(dir, 0700));
}

static void tolerates_doubled_and_trailing_slashes(void)
{
	char path[256], dir[256];
	snprintf(path, sizeof(path), "%s//d//e/", tmp);
	EXPECT_INT(fs_make_parent_dirs(path, 0700), ==, 0);
	snprintf(dir, sizeof(dir), "%s/d/e", tmp);
	EXPECT_TRUE(is_dir_with_mode(dir, 0700));
}

static void needs_nothing_without_a_directory_part(void)
{
	EXPECT_INT(fs_make_parent_dirs("store.db", 0700), ==, 0);
	EXPECT_INT(fs_make_parent_dirs("/store.db", 0700), ==, 0);
	EXPECT_INT(fs_make_parent_dirs("", 0700), ==, 0);
}

static void refuses_a_file_in_the_way_and_a_too_long_path(void)
{
	char path[256], file[256];
	snprintf(file, sizeof(file), "%s/plain", tmp);
	FILE *f = fopen(file, "w");
	EXPECT_TRUE(f != NULL);
	if (f)
		fclose(f);
	/* mkdir says EEXIST for "plain" but then ENOTDIR below it */
	snprintf(path, sizeof(path), "%s/plain/sub/x.db", tmp);
	errno = 0;
	EXPECT_INT(fs_make_parent_dirs(path, 0700), ==, WIMS_EIO);
	EXPECT_INT(errno, ==, ENOTDIR);

	char *long_path = malloc(FS_PATH_MAX + 1);
	EXPECT_TRUE(long_path != NULL);
	if (!long_path)
		return;
	memset(long_path, 'a', FS_PATH_MAX);
	long_path[0] = '/';
	long_path[FS_PATH_MAX] = '\0';
	EXPECT_INT(fs_make_parent_dirs(long_path, 0700), ==, WIMS_ETOOBIG);
	free(long_path);
}

/* What the tests made, deepest first, so that rmdir finds each empty. */
static void remove_all_made(void)
{
	static const char *const made[] = {"a/b/c", "a/b", "a", "open/x", "open",
					   "d/e", "d", "plain"};
	char path[256];
	for (size_t i = 0; i < WIMS_ARRAY_LEN(made); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, made[i]);
		if (remove(path) != 0)
			fprintf(stderr, "could not remove %s\n", path);
	}
	if (rmdir(tmp) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/wims-fs-test-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	UNIT_RUN(creates_every_missing_parent_with_the_mode);
	UNIT_RUN(leaves_existing_directories_as_they_are);
	UNIT_RUN(tolerates_doubled_and_trailing_slashes);
	UNIT_RUN(needs_nothing_without_a_directory_part);
	UNIT_RUN(refuses_a_file_in_the_way_and_a_too_long_path);
	remove_all_made();
	return UNIT_MAIN_END();
}
