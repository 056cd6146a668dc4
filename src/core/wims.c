/* wims.c - the error table's names (see wims.h). */
#include "core/wims.h"

const char *wims_strerror(int err)
{
	switch (err) {
	case WIMS_OK:
		return "success";
#define WIMS_ERR_CASE(name, text) \
	case WIMS_##name:         \
		return text;
		WIMS_ERRORS(WIMS_ERR_CASE)
#undef WIMS_ERR_CASE
	default:
		return "unknown error";
	}
}
