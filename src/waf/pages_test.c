/*
 * pages_test.c - everything put in a WAF page goes through
 * waf_html_escape: markup, attribute quotes and ampersands come out inert.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "unit.h"
#include "waf/waf_int.h"

static char *escaped(const char *in)
{
	struct evbuffer *b = evbuffer_new();
	waf_html_escape(b, in);
	size_t n = evbuffer_get_length(b);
	char *out = malloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

static void markup_is_inert(void)
{
	char *s = escaped("\"><script>alert('x')</script>&amp;");
	EXPECT_STR(s, "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;");
	free(s);
	s = escaped("sip:grace@ims.example.org");
	EXPECT_STR(s, "sip:grace@ims.example.org");
	free(s);
	s = escaped("");
	EXPECT_STR(s, "");
	free(s);
}

int main(void)
{
	UNIT_RUN(markup_is_inert);
	return UNIT_MAIN_END();
}
