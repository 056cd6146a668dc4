/* cscf.c - placeholder until the cscf role lands; refuses to start. */
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

static int cscf_start(void)
{
	WIMS_ERROR("cscf", "the cscf role is not built yet");
	return WIMS_EUNSUPPORTED;
}

static void cscf_stop(void)
{
}

const struct role cscf_role = {
	.name = "cscf",
	.summary = "cscf (not built yet)",
	.start = cscf_start,
	.stop = cscf_stop,
};
