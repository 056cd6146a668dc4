/*
 * fs.c - file-system helpers (fs.h).
 *
 * mkdir(2) is tried on each prefix and EEXIST accepted, rather than
 * stat(2) first: one call per level, and no window between a check and
 * the create.
 */
#include "core/fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/wims.h"

int fs_make_parent_dirs(const char *path, mode_t mode)
{
	char dir[FS_PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return WIMS_ETOOBIG;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, mode) != 0 && errno != EEXIST)
			return WIMS_EIO;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}
