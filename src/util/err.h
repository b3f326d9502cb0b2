/* err.h: the one way dokja reports failure.
 *
 * Library functions return 0 on success and -1 on failure, and on failure fill a
 * dk_err with one line that names the file (or object) and the problem. Only main()
 * decides to print and exit; nothing below it calls exit(). */
#ifndef DK_UTIL_ERR_H
#define DK_UTIL_ERR_H

#include <stddef.h>

typedef struct {
    char msg[768];
} dk_err;

/* Formats the message into err (if err is non-NULL) and returns -1, so a failing
 * path reads `return dk_errf(err, "%s: truncated header", path);`. */
int dk_errf(dk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like dk_errf but appends ": strerror(errno)". */
int dk_errno(dk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exit codes shared by every command. */
enum { DK_EXIT_OK = 0, DK_EXIT_FAIL = 1, DK_EXIT_USAGE = 2 };

#endif
