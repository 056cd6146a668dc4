/*
 * conf.c - table-driven INI loading on libinih (see conf.h).
 *
 * libinih reports the line of the first error as ini_parse()'s return
 * value; our handler keeps the reason for that first error so that the
 * message reads "wims.ini:12: [pcscf] listen: expected host:port".
 */
#include "core/conf.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "core/wims.h"

struct load_ctx {
	const struct conf_section *const *sections;
	size_t n;
	char reason[256];
	bool failed;
};

static const struct conf_section *find_section(const struct conf_section *const *sections,
					       size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(sections[i]->name, name) == 0)
			return sections[i];
	return NULL;
}

static const struct conf_key *find_key(const struct conf_section *s, const char *name)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(yes); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return WIMS_EPARSE;
}

int conf_addr_split(const char *addr, char *host, size_t hostsz, int *port)
{
	const char *colon;
	const char *h = addr;
	size_t hlen;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':')
			return WIMS_EPARSE;
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return WIMS_EPARSE;
		hlen = (size_t)(colon - addr);
	}
	if (hlen == 0 || hlen >= hostsz)
		return WIMS_EPARSE;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		return WIMS_EPARSE;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

/* Store value for key into target; on failure write what was expected. */
static int set_value(const struct conf_key *k, void *target, const char *value, char *why,
		     size_t whysz)
{
	char *field = (char *)target + k->offset;
	switch (k->type) {
	case CONF_STR:
	case CONF_LIST:
	case CONF_ADDR: {
		size_t len = strlen(value);
		if (len >= k->size) {
			snprintf(why, whysz, "value longer than %zu characters", k->size - 1);
			return WIMS_ECONF;
		}
		if (k->type == CONF_ADDR && len) {
			char host[256];
			int port;
			if (conf_addr_split(value, host, sizeof(host), &port)) {
				snprintf(why, whysz, "expected host:port, got \"%s\"", value);
				return WIMS_ECONF;
			}
		}
		memcpy(field, value, len + 1);
		return 0;
	}
	case CONF_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || *end || end == value || v < k->min || v > k->max) {
			snprintf(why, whysz, "expected a whole number from %ld to %ld, got \"%s\"",
				 k->min, k->max, value);
			return WIMS_ECONF;
		}
		*(int *)(void *)field = (int)v;
		return 0;
	}
	case CONF_BOOL:
		if (parse_bool(value, (bool *)(void *)field)) {
			snprintf(why, whysz, "expected yes or no, got \"%s\"", value);
			return WIMS_ECONF;
		}
		return 0;
	case CONF_ENUM: {
		const char *c = k->choices;
		size_t vlen = strlen(value);
		for (int idx = 0; c && *c; idx++) {
			const char *bar = strchr(c, '|');
			size_t clen = bar ? (size_t)(bar - c) : strlen(c);
			if (clen == vlen && strncmp(c, value, clen) == 0) {
				*(int *)(void *)field = idx;
				return 0;
			}
			c = bar ? bar + 1 : NULL;
		}
		snprintf(why, whysz, "expected one of %s, got \"%s\"", k->choices, value);
		return WIMS_ECONF;
	}
	}
	snprintf(why, whysz, "unknown key type");
	return WIMS_ECONF;
}

int conf_defaults(const struct conf_section *const *sections, size_t n, char *err,
		  size_t errsz)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_section *s = sections[i];
		for (size_t j = 0; j < s->nkeys; j++) {
			char why[200];
			if (set_value(&s->keys[j], s->target, s->keys[j].def ? s->keys[j].def : "",
				      why, sizeof(why))) {
				snprintf(err, errsz, "default of %s.%s: %s", s->name,
					 s->keys[j].name, why);
				return WIMS_ECONF;
			}
		}
	}
	return 0;
}

static int apply(struct load_ctx *ctx, const char *section, const char *name, const char *value)
{
	const struct conf_section *s = find_section(ctx->sections, ctx->n, section);
	if (!s) {
		snprintf(ctx->reason, sizeof(ctx->reason),
			 section[0] ? "unknown section [%s]" : "key \"%s\" outside any [section]",
			 section[0] ? section : name);
		return WIMS_ECONF;
	}
	const struct conf_key *k = find_key(s, name);
	if (!k) {
		snprintf(ctx->reason, sizeof(ctx->reason), "[%s] has no key \"%s\"", section, name);
		return WIMS_ECONF;
	}
	char why[200];
	if (set_value(k, s->target, value, why, sizeof(why))) {
		snprintf(ctx->reason, sizeof(ctx->reason), "[%s] %s: %s", section, name, why);
		return WIMS_ECONF;
	}
	return 0;
}

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	if (ctx->failed)
		return 0;
	if (!name) /* a section header alone: check it exists */
		return 1;
	if (apply(ctx, section, name, value)) {
		ctx->failed = true;
		return 0;
	}
	return 1;
}

/* ini_parse's and ini_parse_string's result into our error text. */
static int load_result(int line, const char *name, const struct load_ctx *ctx, char *err,
		       size_t errsz)
{
	if (line == -1) {
		snprintf(err, errsz, "%s: cannot open: %s", name, strerror(errno));
		return WIMS_EIO;
	}
	if (line == -2) {
		snprintf(err, errsz, "%s: out of memory", name);
		return WIMS_ENOMEM;
	}
	if (line > 0) {
		snprintf(err, errsz, "%s:%d: %s", name, line,
			 ctx->failed ? ctx->reason : "expected [section] or key = value");
		return WIMS_ECONF;
	}
	return 0;
}

int conf_load(const char *path, const struct conf_section *const *sections, size_t n,
	      char *err, size_t errsz)
{
	struct load_ctx ctx = {.sections = sections, .n = n};
	int line = ini_parse(path, on_ini_line, &ctx);
	return load_result(line, path, &ctx, err, errsz);
}

int conf_load_string(const char *name, const char *text,
		     const struct conf_section *const *sections, size_t n, char *err,
		     size_t errsz)
{
	struct load_ctx ctx = {.sections = sections, .n = n};
	int line = ini_parse_string(text, on_ini_line, &ctx);
	return load_result(line, name, &ctx, err, errsz);
}

int conf_set(const char *assignment, const struct conf_section *const *sections, size_t n,
	     char *err, size_t errsz)
{
	char section[64], name[64];
	const char *dot = strchr(assignment, '.');
	const char *eq = strchr(assignment, '=');
	if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof(section) ||
	    (size_t)(eq - dot - 1) >= sizeof(name)) {
		snprintf(err, errsz, "--set %s: expected section.key=value", assignment);
		return WIMS_ECONF;
	}
	memcpy(section, assignment, (size_t)(dot - assignment));
	section[dot - assignment] = '\0';
	memcpy(name, dot + 1, (size_t)(eq - dot - 1));
	name[eq - dot - 1] = '\0';
	struct load_ctx ctx = {.sections = sections, .n = n};
	if (apply(&ctx, section, name, eq + 1)) {
		snprintf(err, errsz, "--set: %s", ctx.reason);
		return WIMS_ECONF;
	}
	return 0;
}

static const char *type_name(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_STR:
		return "text";
	case CONF_INT:
		return "number";
	case CONF_BOOL:
		return "yes/no";
	case CONF_LIST:
		return "list";
	case CONF_ADDR:
		return "host:port";
	case CONF_ENUM:
		return k->choices;
	}
	return "?";
}

void conf_print_help(FILE *out, const struct conf_section *const *sections, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_section *s = sections[i];
		fprintf(out, "[%s]  %s\n", s->name, s->summary);
		for (size_t j = 0; j < s->nkeys; j++) {
			const struct conf_key *k = &s->keys[j];
			fprintf(out, "  %-22s %s (default \"%s\")\n", k->name, k->help,
				k->def ? k->def : "");
		}
	}
}

void conf_print_markdown(FILE *out, const struct conf_section *const *sections, size_t n)
{
	fprintf(out, "# Configuration keys\n\n"
		     "Generated by `wims --config-doc`; the tables in the source are the "
		     "truth.  Every key may also be given as `--set section.key=value`.\n");
	for (size_t i = 0; i < n; i++) {
		const struct conf_section *s = sections[i];
		fprintf(out, "\n## [%s]\n\n%s\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
			s->name, s->summary);
		for (size_t j = 0; j < s->nkeys; j++) {
			const struct conf_key *k = &s->keys[j];
			fprintf(out, "| `%s` | %s | `%s` | %s |\n", k->name, type_name(k),
				k->def ? k->def : "", k->help);
		}
	}
}

void conf_print_ini(FILE *out, const struct conf_section *const *sections, size_t n)
{
	fprintf(out, "; wims configuration: every key at its default.\n"
		     "; Generated by `wims --config-sample`; see docs/config.md.\n");
	for (size_t i = 0; i < n; i++) {
		const struct conf_section *s = sections[i];
		fprintf(out, "\n; %s\n[%s]\n", s->summary, s->name);
		for (size_t j = 0; j < s->nkeys; j++) {
			const struct conf_key *k = &s->keys[j];
			fprintf(out, "; %s (%s)\n%s = %s\n", k->help, type_name(k), k->name,
				k->def ? k->def : "");
		}
	}
}

size_t conf_list_next(const char **cursor, const char **item)
{
	const char *c = *cursor;
	while (*c == ' ' || *c == '\t' || *c == ',')
		c++;
	if (!*c) {
		*cursor = c;
		return 0;
	}
	const char *start = c;
	while (*c && *c != ',')
		c++;
	const char *end = c;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*cursor = c;
	*item = start;
	return (size_t)(end - start);
}
