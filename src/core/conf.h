/*
 * conf.h - INI configuration from tables.
 *
 * Each role describes its keys once, in a table of struct conf_key; loading,
 * defaults, range checks, "file:line: expected ..." errors, `wims --help` and
 * docs/config.md all come from that table.  Values land in a plain struct
 * owned by the role, at the offsets the table names.
 *
 * A file names sections [global], [pcscf], [cscf], ...; a section or key
 * that no table knows stops start-up with its file:line.
 */
#ifndef WIMS_CORE_CONF_H
#define WIMS_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/limits.h"

enum conf_type {
	CONF_STR,  /* char[size]; any text that fits */
	CONF_INT,  /* int in [min, max] */
	CONF_BOOL, /* bool: yes/no, true/false, on/off, 1/0 */
	CONF_LIST, /* char[size]; comma-separated items, each trimmed */
	CONF_ADDR, /* char[size]; "host:port" or "[v6]:port" */
	CONF_ENUM, /* int: index of the value in choices ("a|b|c") */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;       /* into the section's struct */
	size_t size;         /* CONF_STR/LIST/ADDR: size of the char array */
	const char *def;     /* default, as it would be written in the file */
	long min, max;       /* CONF_INT */
	const char *choices; /* CONF_ENUM: "error|warn|info|debug" */
	const char *help;    /* one line for --help and docs/config.md */
};

struct conf_section {
	const char *name;    /* without brackets */
	const char *summary; /* one line */
	const struct conf_key *keys;
	size_t nkeys;
	void *target;        /* the struct the offsets point into */
};

/* Helpers for tables: CONF_KEY_STR(struct pcscf_conf, listen, "...", "help") */
#define CONF_KEY_STR(T, f, d, h) \
	{#f, CONF_STR, offsetof(T, f), sizeof(((T *)0)->f), d, 0, 0, NULL, h}
#define CONF_KEY_LIST(T, f, d, h) \
	{#f, CONF_LIST, offsetof(T, f), sizeof(((T *)0)->f), d, 0, 0, NULL, h}
#define CONF_KEY_ADDR(T, f, d, h) \
	{#f, CONF_ADDR, offsetof(T, f), sizeof(((T *)0)->f), d, 0, 0, NULL, h}
#define CONF_KEY_INT(T, f, d, lo, hi, h) \
	{#f, CONF_INT, offsetof(T, f), sizeof(int), d, lo, hi, NULL, h}
#define CONF_KEY_BOOL(T, f, d, h) \
	{#f, CONF_BOOL, offsetof(T, f), sizeof(bool), d, 0, 0, NULL, h}
#define CONF_KEY_ENUM(T, f, d, choices, h) \
	{#f, CONF_ENUM, offsetof(T, f), sizeof(int), d, 0, 0, choices, h}

/* Set every key of every section to its default.  Returns 0, or
 * WIMS_ECONF with "section.key: ..." in err (a bad table default). */
int conf_defaults(const struct conf_section *const *sections, size_t n, char *err,
		  size_t errsz);

/* Read path over the current values.  On error returns WIMS_ECONF (or
 * WIMS_EIO if the file cannot be opened) with "path:line: ..." in err. */
int conf_load(const char *path, const struct conf_section *const *sections, size_t n,
	      char *err, size_t errsz);

/* The same from text in memory (NUL-terminated; name stands for the path
 * in messages): what fuzzing and tests feed. */
int conf_load_string(const char *name, const char *text,
		     const struct conf_section *const *sections, size_t n, char *err,
		     size_t errsz);

/* Apply one "section.key=value" (command-line override).  Errors as above,
 * prefixed with "--set". */
int conf_set(const char *assignment, const struct conf_section *const *sections, size_t n,
	     char *err, size_t errsz);

/* Every key with its default and help, as --help shows it. */
void conf_print_help(FILE *out, const struct conf_section *const *sections, size_t n);
/* The same as Markdown, for docs/config.md. */
void conf_print_markdown(FILE *out, const struct conf_section *const *sections, size_t n);
/* A commented sample INI with every key at its default, for etc/wims.ini. */
void conf_print_ini(FILE *out, const struct conf_section *const *sections, size_t n);

/* Iterate the items of a CONF_LIST value: returns the next item's length and
 * start via *item, advancing *cursor; 0 at the end. */
size_t conf_list_next(const char **cursor, const char **item);

/* Split "host:port" / "[v6]:port" into host (NUL-terminated) and port. */
int conf_addr_split(const char *addr, char *host, size_t hostsz, int *port);

#endif
