/*
 * path.h - maps a request's URL path to a file under the wwsf's root.
 *
 * The wwsf serves the WIC as static files (W1).  Whatever the browser, a
 * proxy or an attacker puts in the path, the file served must lie under
 * root: this is the one place that decides, so that it is tested alone.
 */
#ifndef WIMS_WWSF_PATH_H
#define WIMS_WWSF_PATH_H

#include <stddef.h>

#include "core/slice.h"

/* Longest relative path we map (root is joined to it by the caller). */
#define WWSF_PATH_MAX 256

/*
 * Turns url_path (the path part of the request URI, still %-encoded, no
 * query) into a path relative to root, NUL-terminated in out: "/" and any
 * path ending in "/" get "index.html" appended; "%XX" is decoded once.
 * Refused, with WIMS_EDENIED and a static reason: a path not starting with
 * "/"; a segment ".", ".." or starting with "." (hidden files, also when
 * encoded as %2e); an empty segment ("//"); an encoded "/" (%2F) or "\";
 * NUL, control bytes or bytes >= 0x80 after decoding; a bad %-escape
 * (WIMS_EPARSE).  WIMS_ETOOBIG ("Path too long") if the result does not fit
 * in outsz.
 * Returns the length of out.
 */
int wwsf_path_resolve(struct slice url_path, char *out, size_t outsz, const char **reason);

#endif
