/* hss.c - placeholder until the hss role lands; refuses to start. */
#include "core/log.h"
#include "core/wims.h"
#include "role.h"

static int hss_start(void)
{
	WIMS_ERROR("hss", "the hss role is not built yet");
	return WIMS_EUNSUPPORTED;
}

static void hss_stop(void)
{
}

const struct role hss_role = {
	.name = "hss",
	.summary = "hss (not built yet)",
	.start = hss_start,
	.stop = hss_stop,
};
