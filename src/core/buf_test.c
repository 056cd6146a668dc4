/* buf_test.c - growth, formatting and the hard ceiling. */
#include "core/buf.h"

#include "core/wims.h"
#include "unit.h"

static void appends_and_formats(void)
{
	struct buf b = BUF_INIT;
	EXPECT_INT(buf_append_cstr(&b, "SIP/2.0 "), ==, 0);
	EXPECT_INT(buf_printf(&b, "%d %s", 200, "OK"), ==, 0);
	EXPECT_STR(buf_cstr(&b), "SIP/2.0 200 OK");
	EXPECT_INT(b.len, ==, 14);
	buf_free(&b);
}

static void grows_past_initial_capacity(void)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 1000; i++)
		EXPECT_INT(buf_append(&b, "0123456789", 10), ==, 0);
	EXPECT_INT(b.len, ==, 10000);
	EXPECT_TRUE(b.p[9999] == '9');
	buf_free(&b);
}

static void refuses_to_grow_past_max_and_stays_failed(void)
{
	struct buf b = BUF_INIT;
	b.max = 16;
	EXPECT_INT(buf_append(&b, "0123456789", 10), ==, 0);
	EXPECT_INT(buf_append(&b, "0123456789", 10), ==, WIMS_ETOOBIG);
	EXPECT_INT(buf_append(&b, "x", 1), ==, WIMS_ETOOBIG);
	EXPECT_INT(b.len, ==, 10);
	buf_free(&b);
}

int main(void)
{
	UNIT_RUN(appends_and_formats);
	UNIT_RUN(grows_past_initial_capacity);
	UNIT_RUN(refuses_to_grow_past_max_and_stays_failed);
	return UNIT_MAIN_END();
}
