/* cli.h: the subcommands of the dokja binary and the helpers they share.
 *
 * Every command is `int cmd_x(int argc, char **argv)` where argv[0] is the
 * command's full name (e.g. "dokja tokenizer train"); it returns an exit code:
 * 0 ok, 1 failure (message on stderr), 2 usage error. */
#ifndef DK_CLI_CLI_H
#define DK_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

int cmd_tokenizer(int argc, char **argv);
int cmd_corpus(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_lineage(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_bench_generate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_select(int argc, char **argv);

/* Prints "NAME: message" and a hint to --help on stderr; returns 2. */
int cli_usage(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes s (at most max characters, then "...") with newlines, tabs, control characters
 * (C0, DEL, C1: terminal escapes) and bytes that are not UTF-8 escaped as \n, \t, \xNN:
 * a string read from a file can neither forge a line nor reach the terminal raw. */
void cli_put_safe(FILE *f, const char *s, size_t max);
/* Usage error for a bad option value, naming the option (long name from opts, where the
 * getopt code c is found; else -c) and the value. */
struct option;
int cli_bad_value(const char *cmd, const struct option *opts, int c, const char *value);
/* Prints "dokja: <err>" on stderr; returns 1. */
int cli_fail(const dk_err *err);
/* Is argv[i] -h or --help? */
int cli_wants_help(int argc, char **argv);

/* Strict number parsing for option values: the whole string must be a number in
 * [lo, hi]. Return 0 or -1 (then the caller reports a usage error). */
int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
int cli_parse_int(const char *s, int lo, int hi, int *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Writes buf[*done..n) to f up to the last complete UTF-8 character (all of it when
 * final) and advances *done: streamed text never splits a character. */
void cli_stream_utf8(FILE *f, const uint8_t *buf, size_t n, size_t *done, int final);

/* Runs a table of subcommands: argv[1] picks one. */
typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cli_sub;
/* --isa NAME on a command: selects the kernel path (kernels/isa.h); on failure prints
 * a one-line error and returns -1 (exit 1: the CPU lacks it, or the name is unknown). */
int cli_select_isa(const char *name);

int cli_dispatch(const char *prefix, const cli_sub *subs, int argc, char **argv);

#endif
