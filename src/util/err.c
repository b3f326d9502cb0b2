/* err.c: formatting of dk_err messages; the assertion's report. */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* A message is one line whatever it quotes: a parser's excerpt of a file (jansson quotes
 * the text near an error, newlines included) or a name read from one. Control
 * characters are escaped as \n, \t, \r or \xNN (cut at the buffer's end). */
static void one_line(dk_err *err)
{
    if (!strpbrk(err->msg, "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14"
                           "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"))
        return;
    char out[sizeof err->msg];
    size_t k = 0;
    for (const char *p = err->msg; *p && k + 5 < sizeof out; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != 0x7F)
            out[k++] = (char)c;
        else if (c == '\n' || c == '\t' || c == '\r')
            k += (size_t)snprintf(out + k, sizeof out - k, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
        else
            k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x", c);
    }
    out[k] = 0;
    memcpy(err->msg, out, k + 1);
}

int dk_errf(dk_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        one_line(err);
    }
    return -1;
}

int dk_errno(dk_err *err, const char *fmt, ...)
{
    int saved = errno;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(saved));
        one_line(err);
    }
    return -1;
}

void dk_put_safe(FILE *f, const char *s, size_t max)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), i = 0, shown = 0;
    for (; i < n && shown < max; shown++) {
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        if (len == 0) { /* not UTF-8: the byte, escaped */
            fprintf(f, "\\x%02x", p[i++]);
            continue;
        }
        if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\t')
            fputs("\\t", f);
        else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) /* C0, DEL, C1 (ESC, CSI...) */
            fprintf(f, "\\x%02x", (unsigned)cp);
        else
            fwrite(p + i, 1, len, f);
        i += len;
    }
    if (i < n)
        fputs("...", f);
}

void dk_warnf(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("dokja: warning: ", stderr);
    dk_put_safe(stderr, msg, 2000);
    fputc('\n', stderr);
}

void dk_assert_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "dokja: %s:%d: assertion failed: %s\n", file, line, cond);
    fflush(stderr);
    abort();
}
