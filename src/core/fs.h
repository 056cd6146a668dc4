/*
 * fs.h - file-system helpers the roles share.
 *
 * Each role keeps its SQLite store, keys and certificates under data_dir,
 * in directories that may not exist yet on a first run; creating them
 * was written once per role before it lived here.
 */
#ifndef WIMS_CORE_FS_H
#define WIMS_CORE_FS_H

#include <sys/types.h>

/* The longest path fs_make_parent_dirs takes: data_dir plus a file name,
 * far below PATH_MAX, so that its copy can live on the stack. */
#define FS_PATH_MAX 1024

/* mkdir -p of the directory part of path (everything before its last
 * '/'); directories it creates get mode (0700 for anything holding
 * secrets), existing ones are left as they are.  A path without a '/' or
 * directly under "/" needs nothing.  0, WIMS_ETOOBIG (path of FS_PATH_MAX
 * bytes or more) or WIMS_EIO with errno from the mkdir that failed. */
int fs_make_parent_dirs(const char *path, mode_t mode);

#endif
