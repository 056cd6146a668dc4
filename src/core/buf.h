/*
 * buf.h - a growable byte buffer for building messages.
 *
 * One buffer per outgoing message: builders append slices and formatted
 * text, then hand p/len to the transport.  Growth is bounded by max so a
 * runaway builder fails with WIMS_ETOOBIG instead of eating memory.
 */
#ifndef WIMS_CORE_BUF_H
#define WIMS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/slice.h"

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max; /* 0 means WIMS_BUF_DEFAULT_MAX */
	int err;    /* first error, sticky: append after failure is a no-op */
};

#define BUF_INIT {NULL, 0, 0, 0, 0}

int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t len);
int buf_append_slice(struct buf *b, struct slice s);
int buf_append_cstr(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Keeps p/len NUL-terminated past len (not counted) for C APIs. */
const char *buf_cstr(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
struct slice buf_slice(const struct buf *b);

#endif
