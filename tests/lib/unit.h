/*
 * unit.h - the tiny unit-test runner every *_test.c uses.
 *
 * A test is a void function; UNIT_RUN() calls it and counts failures.
 * Asserts print both values and the source line, and return from the test
 * on failure (no forking, no longjmp).  A test program ends with
 * UNIT_MAIN_END(), which prints "N passed, N failed" and sets the exit
 * status for meson test.
 *
 *	static void uri_parses_user_and_host(void)
 *	{
 *		EXPECT_INT(sip_uri_parse(...), ==, 0);
 *		EXPECT_SLICE(uri.host, "example.org");
 *	}
 *	int main(void)
 *	{
 *		UNIT_RUN(uri_parses_user_and_host);
 *		return UNIT_MAIN_END();
 *	}
 */
#ifndef WIMS_TESTS_UNIT_H
#define WIMS_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed_, unit_failed_, unit_current_failed_;
static const char *unit_current_;

#define UNIT_FAIL_(...)                                                          \
	do {                                                                     \
		fprintf(stderr, "  FAIL %s (%s:%d): ", unit_current_, __FILE__,  \
			__LINE__);                                               \
		fprintf(stderr, __VA_ARGS__);                                    \
		fputc('\n', stderr);                                             \
		unit_current_failed_ = 1;                                        \
	} while (0)

#define EXPECT_INT(a, op, b)                                                     \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		if (!(a_ op b_)) {                                               \
			UNIT_FAIL_("%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_); \
			return;                                                  \
		}                                                                \
	} while (0)

#define EXPECT_TRUE(c)                                                           \
	do {                                                                     \
		if (!(c)) {                                                      \
			UNIT_FAIL_("expected %s", #c);                           \
			return;                                                  \
		}                                                                \
	} while (0)

#define EXPECT_STR(a, b)                                                         \
	do {                                                                     \
		const char *a_ = (a), *b_ = (b);                                 \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                         \
			UNIT_FAIL_("%s == %s: \"%s\" vs \"%s\"", #a, #b,          \
				   a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
			return;                                                  \
		}                                                                \
	} while (0)

/* s is a struct slice; lit a C string. */
#define EXPECT_SLICE(s, lit)                                                     \
	do {                                                                     \
		const char *l_ = (lit);                                          \
		size_t ll_ = strlen(l_);                                         \
		if ((s).len != ll_ || ((s).len && memcmp((s).p, l_, ll_) != 0)) { \
			UNIT_FAIL_("%s == \"%s\": got \"%.*s\"", #s, l_,         \
				   (int)(s).len, (s).p ? (s).p : "");            \
			return;                                                  \
		}                                                                \
	} while (0)

/* Two byte ranges equal; shown in hex when they differ. */
#define EXPECT_MEM(a, b, n)                                                      \
	do {                                                                     \
		const unsigned char *a_ = (const void *)(a), *b_ = (const void *)(b); \
		size_t n_ = (n);                                                 \
		if (memcmp(a_, b_, n_) != 0) {                                   \
			UNIT_FAIL_("%s == %s (%zu bytes)", #a, #b, n_);          \
			fprintf(stderr, "    got  ");                            \
			for (size_t i_ = 0; i_ < n_; i_++)                       \
				fprintf(stderr, "%02x", a_[i_]);                 \
			fprintf(stderr, "\n    want ");                          \
			for (size_t i_ = 0; i_ < n_; i_++)                       \
				fprintf(stderr, "%02x", b_[i_]);                 \
			fputc('\n', stderr);                                     \
			return;                                                  \
		}                                                                \
	} while (0)

#define UNIT_RUN(fn)                                                             \
	do {                                                                     \
		unit_current_ = #fn;                                             \
		unit_current_failed_ = 0;                                        \
		fn();                                                            \
		if (unit_current_failed_) {                                      \
			unit_failed_++;                                          \
		} else {                                                         \
			unit_passed_++;                                          \
			printf("  ok   %s\n", #fn);                              \
		}                                                                \
	} while (0)

#define UNIT_MAIN_END()                                                          \
	(printf("%d passed, %d failed\n", unit_passed_, unit_failed_),           \
	 unit_failed_ ? 1 : 0)

#endif
