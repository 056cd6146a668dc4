/*
 * term.h - lines and secrets read by the command-line tools (`wims hss`,
 * `wims wwsf`): a password is prompted for and not echoed when the input
 * is a terminal, read as one line from a pipe otherwise, and never longer
 * than the caller's buffer (the rest of such a line is consumed, and the
 * line refused, so a long secret is never cut silently into another).
 */
#ifndef WIMS_CORE_TERM_H
#define WIMS_CORE_TERM_H

#include <stddef.h>
#include <stdio.h>

/* One line of f without its line end ("\n" or "\r\n"), NUL-terminated in
 * buf.  Returns its length, WIMS_ETOOBIG (longer than bufsz - 1; buf holds
 * the start, the rest of the line is consumed), or -1 at end of input
 * with nothing read. */
long term_read_line(FILE *f, char *buf, size_t bufsz);

/* A secret from in: when in is a terminal, prompt on stderr and turn its
 * echo off while reading.  0 with *len set; WIMS_ETOOBIG; WIMS_EINVAL for
 * an empty line or no input.  The caller cleanses buf. */
int term_read_secret(FILE *in, const char *prompt, char *buf, size_t bufsz, size_t *len);

#endif
