/* pcscf.c - placeholder until the pcscf role lands; refuses to start. */
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

static int pcscf_start(void)
{
	WIMS_ERROR("pcscf", "the pcscf role is not built yet");
	return WIMS_EUNSUPPORTED;
}

static void pcscf_stop(void)
{
}

const struct role pcscf_role = {
	.name = "pcscf",
	.summary = "pcscf (not built yet)",
	.start = pcscf_start,
	.stop = pcscf_stop,
};
