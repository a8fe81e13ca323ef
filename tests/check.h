/* check.h - the unit-test harness: a few macros, no framework.
 *
 * Each test program prints one line per check group:
 *   PASS: <name>        FAIL: <name>: <why>        SKIP: <name>: <why>
 * and exits non-zero when anything failed. tests/run.sh counts the lines.
 */
#ifndef NETCON_TESTS_CHECK_H
#define NETCON_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_total;
static int check_failed_now;
static const char *check_name_now;

/* CHECK_BEGIN() - start a named group of assertions */
#define CHECK_BEGIN(name) do { check_name_now = (name); check_failed_now = 0; } while (0)

/* CHECK() - assert; on failure print where and why, keep going */
#define CHECK(cond) do { if (!(cond)) { \
	if (!check_failed_now) printf("FAIL: %s: %s:%d: %s\n", check_name_now, __FILE__, __LINE__, #cond); \
	check_failed_now = 1; } } while (0)

#define CHECK_MSG(cond, ...) do { if (!(cond)) { \
	if (!check_failed_now) { printf("FAIL: %s: %s:%d: ", check_name_now, __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); } check_failed_now = 1; } } while (0)

/* CHECK_END() - close the group, print its verdict */
#define CHECK_END() do { if (!check_failed_now) { printf("PASS: %s\n", check_name_now); } \
	else { check_failed_total++; } fflush(stdout); } while (0)

#define CHECK_SKIP(name, why) do { printf("SKIP: %s: %s\n", (name), (why)); fflush(stdout); } while (0)

#define CHECK_EXIT() (check_failed_total ? 1 : 0)

/* hex helpers shared by the vector tests */
static inline int check_unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

#endif
