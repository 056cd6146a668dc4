/*
 * conf.c - fuzz the INI configuration reader with every role's tables.
 *
 * Whatever the text, loading must end in 0 or an error naming a line; never
 * a crash, overflow of a char[] field or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/global.h"
#include "role.h"

extern const struct role hss_role, cscf_role, pcscf_role, wwsf_role;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct conf_section *sections[] = {
		&wims_global_section, hss_role.conf, cscf_role.conf, pcscf_role.conf,
		wwsf_role.conf,
	};
	size_t n = sizeof(sections) / sizeof(sections[0]);
	char err[512];
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (conf_defaults(sections, n, err, sizeof(err)) == 0 &&
	    conf_load_string("fuzz.ini", text, sections, n, err, sizeof(err)) != 0 &&
	    strncmp(err, "fuzz.ini:", 9) != 0)
		abort(); /* every refusal names file:line */
	free(text);
	return 0;
}
