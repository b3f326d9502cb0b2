/* cli.c: shared command-line helpers. */
#include "cli/cli.h"

#include "kernels/isa.h"

#include "util/utf8.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_put_safe(FILE *f, const char *s, size_t max) { dk_put_safe(f, s, max); }

int cli_usage(const char *name, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int ok = vasprintf(&msg, fmt, ap) >= 0;
    va_end(ap);
    fprintf(stderr, "%s: ", name);
    cli_put_safe(stderr, ok ? msg : fmt, 2000); /* values come from the user's arguments */
    free(ok ? msg : NULL);
    fprintf(stderr, "\nTry '%s --help'.\n", name);
    return DK_EXIT_USAGE;
}

int cli_fail(const dk_err *err)
{
    /* messages quote names and values read from files: one line, no terminal control */
    fputs("dokja: ", stderr);
    cli_put_safe(stderr, err->msg, 2000);
    fputc('\n', stderr);
    return DK_EXIT_FAIL;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

/* The one number syntax of every option: optional sign (where allowed), decimal digits,
 * for reals an optional fraction and exponent. strtod/strtol alone would also take ""
 * (as 0 by the caller's check order), leading spaces, hex ("0x10"), "inf" and "nan". */
static int plain_number(const char *s, int sign, int real)
{
    const char *p = s;
    if (sign && (*p == '-' || *p == '+'))
        p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (real && *p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return 0;
    if (real && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !plain_number(s, 0, 0))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_int(const char *s, int lo, int hi, int *out)
{
    if (!s || !plain_number(s, 1, 0))
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !plain_number(s, 1, 1))
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int cli_bad_value(const char *cmd, const struct option *opts, int c, const char *value)
{
    for (const struct option *o = opts; o && o->name; o++)
        if (o->val == c && o->flag == NULL)
            return cli_usage(cmd, "bad value '%s' for --%s", value ? value : "", o->name);
    if (c > 0 && c < 128)
        return cli_usage(cmd, "bad value '%s' for -%c", value ? value : "", c);
    return cli_usage(cmd, "bad value '%s'", value ? value : "");
}

void cli_stream_utf8(FILE *f, const uint8_t *buf, size_t n, size_t *done, int final)
{
    size_t end = n;
    if (!final) /* hold back a trailing incomplete sequence */
        for (size_t back = 1; back <= 3 && back <= n - *done; back++) {
            uint8_t c = buf[n - back];
            if ((c & 0xC0) == 0x80)
                continue;
            if (c >= 0xC0) {
                uint32_t cp;
                if (utf8_decode(buf + n - back, back, &cp) == 0)
                    end = n - back;
            }
            break;
        }
    fwrite(buf + *done, 1, end - *done, f);
    fflush(f);
    *done = end;
}

int cli_dispatch(const char *prefix, const cli_sub *subs, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        FILE *o = argc < 2 ? stderr : stdout;
        fprintf(o, "usage: %s COMMAND [options]\n\ncommands:\n", prefix);
        for (const cli_sub *s = subs; s->name; s++)
            fprintf(o, "  %-12s %s\n", s->name, s->summary);
        fprintf(o, "\nRun '%s COMMAND --help' for a command's options.\n", prefix);
        return argc < 2 ? DK_EXIT_USAGE : DK_EXIT_OK;
    }
    for (const cli_sub *s = subs; s->name; s++) {
        if (strcmp(argv[1], s->name) == 0) {
            char *name;
            if (asprintf(&name, "%s %s", prefix, s->name) < 0)
                return DK_EXIT_FAIL;
            char *saved = argv[1];
            argv[1] = name;
            int rc = s->fn(argc - 1, argv + 1);
            argv[1] = saved;
            free(name);
            return rc;
        }
    }
    return cli_usage(prefix, "unknown command '%s'", argv[1]);
}

int cli_select_isa(const char *name)
{
    char err[200];
    if (isa_select(name, err, sizeof err) != 0) {
        fprintf(stderr, "dokja: --isa: %s\n", err);
        return -1;
    }
    return 0;
}
