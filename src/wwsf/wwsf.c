/* wwsf.c - placeholder until the wwsf role lands; refuses to start. */
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

static int wwsf_start(void)
{
	WIMS_ERROR("wwsf", "the wwsf role is not built yet");
	return WIMS_EUNSUPPORTED;
}

static void wwsf_stop(void)
{
}

const struct role wwsf_role = {
	.name = "wwsf",
	.summary = "wwsf (not built yet)",
	.start = wwsf_start,
	.stop = wwsf_stop,
};
