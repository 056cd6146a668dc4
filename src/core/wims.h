/*
 * wims.h - conventions shared by every part of wims.
 *
 * Stated once here so that the rest of the code need not repeat them:
 *
 *  - Functions return 0 on success or a negative WIMS_E* code from the table
 *    below; wims_strerror() names it.  Parsers return the number of bytes
 *    they consumed (>= 0) or a negative code, and set a static reason
 *    string (never freed) that becomes the SIP 400 reason phrase, the
 *    WebSocket close reason or the config "file:line: ..." message.
 *  - Objects with a lifetime are opaque: NAME_new() / NAME_free(NULL is
 *    fine).  Values on the hot path (slices, parsed headers) are caller
 *    allocated.
 *  - Protocol code (src/sip, src/auth) does no I/O and reads no clock or
 *    random source: the caller passes time and randomness in.
 *  - Each object belongs to one worker thread; a function that takes a lock
 *    says so in its header comment.
 *  - Secrets are compared with CRYPTO_memcmp, wiped with OPENSSL_cleanse
 *    and never logged.
 *  - Every limit lives in core/limits.h with the reason for its value.
 */
#ifndef WIMS_CORE_WIMS_H
#define WIMS_CORE_WIMS_H

#include <stddef.h>
#include <stdint.h>

/* X(name, text): one table gives the enum and wims_strerror(). */
#define WIMS_ERRORS(X)                                               \
	X(EAGAIN, "more input needed")                               \
	X(EINVAL, "invalid argument")                                \
	X(ENOMEM, "out of memory")                                   \
	X(EPARSE, "malformed input")                                 \
	X(ETOOBIG, "too large")                                      \
	X(ENOTFOUND, "not found")                                    \
	X(EEXIST, "already exists")                                  \
	X(EAUTH, "authentication failed")                            \
	X(ESTALE, "stale nonce")                                     \
	X(EREPLAY, "replayed request")                               \
	X(EDENIED, "not allowed")                                    \
	X(EIO, "input/output error")                                 \
	X(ETLS, "TLS error")                                         \
	X(ECLOSED, "connection closed")                              \
	X(ETIMEOUT, "timed out")                                     \
	X(ESTORE, "store error")                                     \
	X(ECONF, "configuration error")                              \
	X(EUNSUPPORTED, "not supported")

enum wims_err {
	WIMS_OK = 0,
#define WIMS_ERR_ENUM(name, text) WIMS_##name,
	WIMS_ERR_FIRST_ = -100,
	WIMS_ERRORS(WIMS_ERR_ENUM)
#undef WIMS_ERR_ENUM
	WIMS_ERR_LAST_
};

/* Name of a WIMS_E* code (or "success" for 0); never NULL. */
const char *wims_strerror(int err);

#define WIMS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WIMS_UNUSED(x) ((void)(x))

#endif
