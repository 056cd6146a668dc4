/*
 * isim_cli.h - `wims me isim-*` and `wims wwsf isim-*`: provisioning a
 * soft ISIM store (isim.h) from the command line.
 *
 * Both roles that hold an ISIM (the ME agent and the WWSF's network ISIM)
 * take the same four commands, so the code lives here once and each
 * role's cli() hands over the arguments that start with "isim-":
 *
 *	isim-add IMPI [--impu URI] --k HEX32 (--opc HEX32 | --op HEX32)
 *	         [--amf HEX4] [--realm R]
 *	isim-list
 *	isim-remove IMPI
 *	isim-seq IMPI SEQ
 *
 * K, OP and OPc are taken from the arguments, turned into an entry and
 * wiped; they are never printed (isim-list shows IMPI, IMPU and realm).
 */
#ifndef WIMS_ISIM_ISIM_CLI_H
#define WIMS_ISIM_ISIM_CLI_H

#include <stdbool.h>

/* The lines of the commands above, for a role's --help text (each line
 * starts with two spaces and ends with a newline); the macro lets a role
 * join it to its own usage text at compile time. */
#define ISIM_CLI_USAGE                                                                         \
	"  isim-add IMPI [--impu URI] --k HEX32 (--opc HEX32 | --op HEX32) [--amf HEX4]\n"    \
	"           [--realm R]   add or replace a soft ISIM entry (IMPU default sip:IMPI,\n"   \
	"                         realm the [global] domain, AMF 8000); a new K starts\n"     \
	"                         the SQN state again\n"                                       \
	"  isim-list              every entry: IMPI, IMPU, realm (never K/OPc)\n"              \
	"  isim-remove IMPI       remove an entry\n"                                           \
	"  isim-seq IMPI SEQ      set the SEQ of every IND slot (the card has seen SQNs\n"     \
	"                         the HSS has not: shows resynchronisation)\n"
extern const char isim_cli_usage[];

/* True if cmd names one of the commands above ("isim-add", ...). */
bool isim_cli_is_command(const char *cmd);

/*
 * Runs one command: argv[0] is the command name ("isim-add"), the rest its
 * arguments.  prog names the caller in messages ("wims me").  db_path is
 * the store's file (isim_open creates it and its directory).  Defaults:
 * --impu sip:IMPI, --realm the [global] domain, --amf 8000.  Prints errors
 * to stderr as "PROG: ..." and returns the exit status: 0 done, 1 failed
 * (unknown IMPI, store error), 2 usage error.
 */
int isim_cli(const char *prog, const char *db_path, int argc, char **argv);

#endif
