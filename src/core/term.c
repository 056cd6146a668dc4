/*
 * term.c - see term.h.
 */
#include "core/term.h"

#include <stdbool.h>
#include <termios.h>
#include <unistd.h>

#include "core/wims.h"

long term_read_line(FILE *f, char *buf, size_t bufsz)
{
	size_t n = 0;
	int c;
	bool too_long = false;
	while ((c = fgetc(f)) != EOF && c != '\n') {
		if (n + 1 < bufsz)
			buf[n++] = (char)c;
		else
			too_long = true;
	}
	if (c == EOF && n == 0 && !too_long)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (bufsz)
		buf[n] = '\0';
	return too_long ? WIMS_ETOOBIG : (long)n;
}

int term_read_secret(FILE *in, const char *prompt, char *buf, size_t bufsz, size_t *len)
{
	int fd = fileno(in);
	bool tty = fd >= 0 && isatty(fd);
	struct termios old, noecho;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (tcgetattr(fd, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(fd, TCSAFLUSH, &noecho);
		} else {
			tty = false;
		}
	}
	long n = term_read_line(in, buf, bufsz);
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n == WIMS_ETOOBIG)
		return WIMS_ETOOBIG;
	if (n <= 0)
		return WIMS_EINVAL;
	*len = (size_t)n;
	return 0;
}
