/*
 * urlenc.h - hex digits and the percent-decoding of one
 * application/x-www-form-urlencoded component (a form field name or value,
 * a query parameter), without I/O or allocation.
 *
 * The WAF's forms, the WWSF's OAuth client, the WWSF's static file paths
 * and the isim-* commands all read hex; the first two decode the same
 * untrusted form components with the same refusals.  Both live here once
 * so that the refusals cannot drift apart between the roles.
 */
#ifndef WIMS_CORE_URLENC_H
#define WIMS_CORE_URLENC_H

#include <stddef.h>

#include "core/slice.h"

/* The value 0..15 of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1. */
int urlenc_hex_digit_value(char c);

/* Decode one form-encoded component in ('+' is a space, %XX a byte, in
 * either case) into out, NUL-terminated.  Returns its length, or refuses:
 *	WIMS_EPARSE	a '%' without two hex digits after it, or a decoded
 *			control character (< 0x20 or 0x7f): no form field we
 *			read needs one, and a NUL or CR/LF could otherwise
 *			reach a header, a log line or a SQL string;
 *	WIMS_ETOOBIG	the decoded value does not fit outsz - 1 (or outsz
 *			is 0).
 * out holds garbage after a refusal. */
int urlenc_form_decode(struct slice in, char *out, size_t outsz);

#endif
