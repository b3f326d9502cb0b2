/* test.h: a minimal test harness. A test is `TEST(name) { ... }` in any tests/ file;
 * it registers itself, and CHECK/CHECK_EQ stop the test at the first failure with
 * file, line and values. The runner's last line is "N passed, N failed".
 *
 * A test that takes more than about ten seconds optimised is `TEST_SLOW(name)`: the
 * runner skips it (and says how many it skipped) unless DOKJA_TEST_FULL=1, which
 * `make test-full` and scripts/test.sh (so CI) set. */
#ifndef DK_TESTS_TEST_H
#define DK_TESTS_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, int slow);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_failed_now(void);

/* Path of the dokja binary for command-line tests, and a scratch directory
 * unique to this run (removed at exit). */
const char *test_bin(void);
const char *test_tmpdir(void);
/* Runs a shell command line; returns its exit status (or -1). Output captured into
 * out (NUL-terminated, may be NULL). */
int test_run(char *out, size_t out_cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes a file under the scratch dir; returns its full path (static storage per call
 * site is not guaranteed: copy it if you keep two). */
const char *test_write_file(const char *name, const void *data, size_t n);

/* 1 when the interop harness (tests/node: llama.cpp and Hugging Face tokenizers run by
 * node; docs/interop-harness.md) can run, from tests/node/have_node.sh (checked once per
 * run); otherwise prints "    skipped: REASON" under the running test and returns 0, and
 * the test returns early: `if (!test_have_node()) return;`. */
int test_have_node(void);

/* Builds (once per run and name) a small Korean+English dataset with a 300-id
 * tokenizer under the scratch dir through the CLI; returns its directory, or NULL. */
const char *test_dataset(const char *name);

#define TEST_REGISTER_(name, slow)                                                         \
    static void name(void);                                                                \
    __attribute__((constructor)) static void name##_register(void) { test_register(#name, name, slow); } \
    static void name(void)
#define TEST(name) TEST_REGISTER_(name, 0)
#define TEST_SLOW(name) TEST_REGISTER_(name, 1)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                             \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_MSG(cond, ...)                                                               \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                                    \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ != vb_) {                                                                  \
            test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, va_, vb_); \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *sa_ = (a), *sb_ = (b);                                                 \
        if (strcmp(sa_, sb_) != 0) {                                                       \
            test_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, sa_, sb_); \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                                        \
    do {                                                                                   \
        const char *h_ = (hay), *n_ = (needle);                                            \
        if (!strstr(h_, n_)) {                                                             \
            test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", n_, h_);            \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#endif
