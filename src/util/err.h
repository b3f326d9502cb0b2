/* err.h: the one way dokja reports failure, and the one way it stops on a bug.
 *
 * Library functions return 0 on success and -1 on failure, and on failure fill a
 * dk_err with one line that names the file (or object) and the problem. Only main()
 * decides to print and exit; nothing below it calls exit().
 *
 * Failures are bad input, I/O and out-of-memory: they return a status. A broken
 * invariant or a broken contract (a caller passing what the header rules out) is a
 * bug, not a failure: DK_ASSERT stops the program there, as GGML_ASSERT does, rather
 * than returning a status nobody can act on or a NaN that travels on. */
#ifndef DK_UTIL_ERR_H
#define DK_UTIL_ERR_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char msg[768];
} dk_err;

/* Formats the message into err (if err is non-NULL) and returns -1, so a failing
 * path reads `return dk_errf(err, "%s: truncated header", path);`. The message is
 * always one line: control characters in what it quotes are escaped (\\n, \\xNN). */
int dk_errf(dk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like dk_errf but appends ": strerror(errno)". */
int dk_errno(dk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes s to f as one safe line: newlines and tabs as \\n and \\t, C0, DEL and C1 control
 * characters (terminal escapes) and bytes that are not UTF-8 as \\xNN; at most max
 * characters, then "...". For every string that comes from a file or the user. */
void dk_put_safe(FILE *f, const char *s, size_t max);

/* "dokja: warning: MESSAGE" on stderr, the message escaped as dk_put_safe does: the
 * library's warnings quote paths and names from files. */
void dk_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* DK_ASSERT(cond): if cond is false, prints "dokja: FILE:LINE: assertion failed: cond"
 * on stderr and aborts. Always on (NDEBUG does not remove it): use it where checking
 * costs nothing next to the work, never for what input or the system can cause. */
#define DK_ASSERT(cond) ((cond) ? (void)0 : dk_assert_fail(__FILE__, __LINE__, #cond))
_Noreturn void dk_assert_fail(const char *file, int line, const char *cond);

/* Exit codes shared by every command. */
enum { DK_EXIT_OK = 0, DK_EXIT_FAIL = 1, DK_EXIT_USAGE = 2 };

#endif
