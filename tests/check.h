/* check.h: the project's minimal test harness (header only).
 *
 * A test binary defines tests with TEST(name) { CHECK(...); } and a main that calls
 * RUN(name) for each, then returns check_summary("binary name"). A test passes when none of
 * its CHECKs failed. The summary prints "NAME: N passed, M failed" and returns non-zero on
 * any failure; tests/run.sh adds the lines of all binaries into the final one. */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_tests_passed, check_tests_failed, check_cur_failed;
static const char *check_cur_name;

#define TEST(name) static void name(void)

/* dir/name in one of four rotating buffers, so that a call can hold up to four paths at once. */
static inline const char *check_path(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: %s: check failed: %s\n", __FILE__, __LINE__,    \
                    check_cur_name, #cond);                                           \
            check_cur_failed++;                                                       \
        }                                                                             \
    } while (0)

/* CHECK with a printf-style explanation when it fails. */
#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: %s: check failed: %s: ", __FILE__, __LINE__,    \
                    check_cur_name, #cond);                                           \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
            check_cur_failed++;                                                       \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b) CHECKF((long long)(a) == (long long)(b), "%lld != %lld", \
                                  (long long)(a), (long long)(b))
static inline int check_str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
#define CHECK_STR(a, b) CHECKF(check_str_eq((a), (b)), "'%s' != '%s'", \
                               check_str_or_null(a), check_str_or_null(b))
static inline const char *check_str_or_null(const char *s) { return s ? s : "(null)"; }
#define CHECK_NEAR(a, b, tol) CHECKF(fabs((double)(a) - (double)(b)) <= (tol), \
                                     "%.9g vs %.9g (tol %g)", (double)(a), (double)(b), (double)(tol))

#define RUN(name)                                                                     \
    do {                                                                              \
        check_cur_name = #name;                                                       \
        check_cur_failed = 0;                                                         \
        name();                                                                       \
        if (check_cur_failed) {                                                       \
            check_tests_failed++;                                                     \
            fprintf(stderr, "FAIL %s\n", #name);                                      \
        } else {                                                                      \
            check_tests_passed++;                                                     \
            printf("ok   %s\n", #name);                                               \
        }                                                                             \
        fflush(stdout);                                                               \
    } while (0)

static inline int check_summary(const char *binary)
{
    printf("%s: %d passed, %d failed\n", binary, check_tests_passed, check_tests_failed);
    return check_tests_failed ? 1 : 0;
}

#endif
