/* task_convert.c: the public benchmark files into multiple-choice items, and
 * mc_task_open, which picks a converter or the JSONL reader (task.c) for a spec.
 *
 * Templates follow lm-evaluation-harness's KoBEST tasks (lm_eval/tasks/kobest), so
 * scores are comparable with published ones:
 *   kobest_boolq     "{Text} 질문: {Question} 답변:"  -> " 아니오" | " 예"   (Answer True = 1)
 *   kobest_copa      premise without its final "." + " 왜냐하면" (question 원인) or
 *                    " 그래서" (결과)                 -> " " + alternative 1 | 2 (Answer 1-based)
 *   kobest_hellaswag "{context}"                     -> " " + choice1..4 (label 0-based)
 *   kobest_sentineg  "문장: {Text} 긍부정:"          -> " 부정" | " 긍정"   (Label 1 = positive)
 *   kobest_wic       "문장1: {SENTENCE1} 문장2: {SENTENCE2} 두 문장에서 {Target}가 같은 뜻으로 쓰였나?"
 *                                                    -> " 아니오" | " 예"   (ANSWER True = 1)
 *   hellaswag_pairs  line i of the correct and wrong files share a context (their
 *                    longest common prefix cut back to a space); the endings are the
 *                    rests, the correct one at index i % 2 (so a scorer that breaks
 *                    ties toward the first choice gains nothing).
 * TSV files are read by their header's column names (the KoBEST files do not agree on
 * column order), tab-separated without quoting, CRLF and a UTF-8 BOM tolerated. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval/task_internal.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/utf8.h"

#define MAX_COLS 32

typedef struct {
    const char *path;
    char *buf; /* the file, NUL-separated into fields as it is read */
    size_t len, off, line;
    char *head[MAX_COLS];
    int n_head;
} tsv;

static const char *FORMATS[] = {"kobest_boolq", "kobest_copa", "kobest_hellaswag", "kobest_sentineg",
                                "kobest_wic", "hellaswag_pairs"};

static int format_known(const char *format)
{
    for (size_t i = 0; i < sizeof FORMATS / sizeof *FORMATS; i++)
        if (strcmp(format, FORMATS[i]) == 0)
            return 1;
    return 0;
}

const char *mc_task_formats_help(void)
{
    return "  kobest_boolq      KoBEST BoolQ TSV (ID, Text, Question, Answer)\n"
           "  kobest_copa       KoBEST COPA TSV (ID, sentence, question, 1, 2, Answer)\n"
           "  kobest_hellaswag  KoBEST HellaSwag TSV (context, choice1..choice4, label)\n"
           "  kobest_sentineg   KoBEST SentiNeg TSV (ID, Text, Label in either order)\n"
           "  kobest_wic        KoBEST WiC TSV (ID, Target, SENTENCE1, SENTENCE2, ANSWER, ...)\n"
           "  hellaswag_pairs   two line-aligned files: context + correct ending, context + wrong\n"
           "                    ending (give the correct file, or CORRECT,WRONG)\n";
}

/* Reads the whole file, validates UTF-8, hashes it. */
static int slurp(const char *path, char **buf, size_t *len, uint8_t digest[32], dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, path, SIZE_MAX, err) != 0)
        return -1;
    size_t bad = utf8_validate(m.data, m.size);
    if (bad != m.size) {
        size_t line = 1;
        for (size_t i = 0; i < bad; i++)
            line += m.data[i] == '\n';
        fs_map_close(&m);
        return dk_errf(err, "%s:%zu: invalid UTF-8", path, line);
    }
    if (digest)
        sha256_buf(m.data, m.size, digest);
    *buf = malloc(m.size + 1);
    if (!*buf) {
        fs_map_close(&m);
        return dk_errf(err, "out of memory");
    }
    memcpy(*buf, m.data, m.size);
    (*buf)[m.size] = 0;
    *len = m.size;
    fs_map_close(&m);
    return 0;
}

/* Next non-empty line split at tabs into f (NUL-terminated in place); returns the
 * field count, 0 at the end. */
static int tsv_next(tsv *t, char **f)
{
    while (t->off < t->len) {
        char *s = t->buf + t->off, *nl = memchr(s, '\n', t->len - t->off);
        size_t e = nl ? (size_t)(nl - t->buf) : t->len;
        t->off = e + 1;
        t->line++;
        if (e > 0 && t->buf[e - 1] == '\r')
            e--;
        t->buf[e] = 0;
        if (t->line == 1 && (uint8_t)s[0] == 0xEF && (uint8_t)s[1] == 0xBB && (uint8_t)s[2] == 0xBF)
            s += 3;
        if (!*s)
            continue;
        int n = 0;
        for (char *p = s;;) {
            if (n < MAX_COLS)
                f[n] = p;
            n++;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = 0;
            p = tab + 1;
        }
        return n;
    }
    return 0;
}

static int tsv_open(tsv *t, const char *path, uint8_t digest[32], dk_err *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    if (slurp(path, &t->buf, &t->len, digest, err) != 0)
        return -1;
    t->n_head = tsv_next(t, t->head);
    if (t->n_head == 0)
        return dk_errf(err, "%s: empty file", path);
    if (t->n_head > MAX_COLS)
        return dk_errf(err, "%s:%zu: more than %d columns", path, t->line, MAX_COLS);
    return 0;
}

static int col(const tsv *t, const char *name, dk_err *err)
{
    for (int i = 0; i < t->n_head; i++)
        if (strcmp(t->head[i], name) == 0)
            return i;
    return dk_errf(err, "%s:1: the header has no column \"%s\"", t->path, name) - 1; /* -2 */
}

static int parse_bool(const char *s, int *out)
{
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        return *out = 1, 0;
    if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        return *out = 0, 0;
    return -1;
}

static int parse_index(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* " " + s, trimmed of surrounding spaces. */
static char *spaced(const char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    char *o = malloc(n + 2);
    if (o) {
        o[0] = ' ';
        memcpy(o + 1, s, n);
        o[n + 1] = 0;
    }
    return o;
}

static char *trimmed(const char *s)
{
    char *o = spaced(s);
    if (o)
        memmove(o, o + 1, strlen(o));
    return o;
}

enum { F_BOOLQ, F_COPA, F_HELLA, F_SENTI, F_WIC };

static int convert_kobest(mc_task *t, int fmt, const char *path, dk_err *err)
{
    tsv x;
    uint8_t d[32];
    int rc = tsv_open(&x, path, d, err);
    if (rc == 0)
        sha256_hex(d, t->sha256);
    static const char *need[][6] = {{"Text", "Question", "Answer"},
                                    {"sentence", "question", "1", "2", "Answer"},
                                    {"context", "choice1", "choice2", "choice3", "choice4", "label"},
                                    {"Text", "Label"},
                                    {"Target", "SENTENCE1", "SENTENCE2", "ANSWER"}};
    int c[6] = {0}, nneed = 0;
    for (int k = 0; rc == 0 && k < 6 && need[fmt][k]; k++, nneed++)
        if ((c[k] = col(&x, need[fmt][k], err)) < 0)
            rc = -1;
    char *f[MAX_COLS];
    int n;
    while (rc == 0 && (n = tsv_next(&x, f)) > 0) {
        if (n != x.n_head) {
            rc = dk_errf(err, "%s:%zu: expected %d tab-separated fields, got %d", path, x.line, x.n_head, n);
            break;
        }
        char *ctx = NULL, *ch[4] = {0};
        int nch = 2, gold = 0, bad = 0;
        const char *label = f[c[nneed - 1]];
        switch (fmt) {
        case F_BOOLQ: {
            char *a = trimmed(f[c[0]]), *q = trimmed(f[c[1]]);
            if (a && q && asprintf(&ctx, "%s 질문: %s 답변:", a, q) < 0)
                ctx = NULL;
            free(a), free(q);
            ch[0] = strdup(" 아니오"), ch[1] = strdup(" 예");
            bad = parse_bool(label, &gold);
            break;
        }
        case F_COPA: {
            const char *conn = strcmp(f[c[1]], "원인") == 0 ? " 왜냐하면" : strcmp(f[c[1]], "결과") == 0 ? " 그래서" : NULL;
            if (!conn) {
                rc = dk_errf(err, "%s:%zu: question must be 원인 or 결과, got \"%.40s\"", path, x.line, f[c[1]]);
                break;
            }
            char *p = trimmed(f[c[0]]);
            if (p && *p && p[strlen(p) - 1] == '.')
                p[strlen(p) - 1] = 0;
            if (p && asprintf(&ctx, "%s%s", p, conn) < 0)
                ctx = NULL;
            free(p);
            ch[0] = spaced(f[c[2]]), ch[1] = spaced(f[c[3]]);
            bad = parse_index(label, 1, 2, &gold);
            gold -= 1;
            break;
        }
        case F_HELLA:
            ctx = trimmed(f[c[0]]);
            nch = 4;
            for (int k = 0; k < 4; k++)
                ch[k] = spaced(f[c[1 + k]]);
            bad = parse_index(label, 0, 3, &gold);
            break;
        case F_SENTI: {
            char *s = trimmed(f[c[0]]);
            if (s && asprintf(&ctx, "문장: %s 긍부정:", s) < 0)
                ctx = NULL;
            free(s);
            ch[0] = strdup(" 부정"), ch[1] = strdup(" 긍정");
            bad = parse_index(label, 0, 1, &gold);
            break;
        }
        case F_WIC: {
            char *s1 = trimmed(f[c[1]]), *s2 = trimmed(f[c[2]]);
            if (s1 && s2 && asprintf(&ctx, "문장1: %s 문장2: %s 두 문장에서 %s가 같은 뜻으로 쓰였나?", s1, s2, f[c[0]]) < 0)
                ctx = NULL;
            free(s1), free(s2);
            ch[0] = strdup(" 아니오"), ch[1] = strdup(" 예");
            bad = parse_bool(label, &gold);
            break;
        }
        }
        if (rc == 0 && bad)
            rc = dk_errf(err, "%s:%zu: unknown label \"%.40s\" in column %s", path, x.line, label, need[fmt][nneed - 1]);
        int ok = ctx != NULL;
        for (int k = 0; k < nch; k++) {
            ok = ok && ch[k];
            if (rc == 0 && ch[k] && strlen(ch[k]) <= 1)
                rc = dk_errf(err, "%s:%zu: choice %d is empty", path, x.line, k + 1);
        }
        if (rc == 0 && !ok)
            rc = dk_errf(err, "out of memory");
        if (rc == 0)
            rc = mc_task_add(t, ctx, (const char *const *)ch, nch, gold, err);
        free(ctx);
        for (int k = 0; k < 4; k++)
            free(ch[k]);
    }
    free(x.buf);
    if (rc == 0 && t->n == 0)
        rc = dk_errf(err, "%s: no rows", path);
    return rc;
}

/* Splits buf into lines (in place); returns the count. */
static size_t split_lines(char *buf, size_t len, char ***out)
{
    size_t n = 0, cap = 1024;
    char **v = malloc(cap * sizeof *v);
    for (size_t off = 0; v && off < len;) {
        char *nl = memchr(buf + off, '\n', len - off);
        size_t e = nl ? (size_t)(nl - buf) : len;
        if (e > off && buf[e - 1] == '\r')
            buf[e - 1] = 0;
        buf[e < len ? e : len] = 0;
        if (n == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return (size_t)-1;
            }
            v = nv, cap *= 2;
        }
        v[n++] = buf + off;
        off = e + 1;
    }
    *out = v;
    return v ? n : (size_t)-1;
}

static int convert_pairs(mc_task *t, const char *spec, dk_err *err)
{
    char good[4096], wrong[4096];
    const char *comma = strchr(spec, ',');
    if (comma) {
        snprintf(good, sizeof good, "%.*s", (int)(comma - spec), spec);
        snprintf(wrong, sizeof wrong, "%s", comma + 1);
    } else {
        snprintf(good, sizeof good, "%s", spec);
        const char *base = strrchr(spec, '/');
        base = base ? base + 1 : spec;
        const char *hit = strstr(base, "correct");
        if (!hit)
            return dk_errf(err, "%s: the file name has no \"correct\" to find the wrong file by; give CORRECT,WRONG", spec);
        snprintf(wrong, sizeof wrong, "%.*swrong%s", (int)(hit - spec), spec, hit + 7);
    }
    char *ba = NULL, *bb = NULL, **la = NULL, **lb = NULL;
    size_t na = 0, nb = 0, sa, sb;
    uint8_t d[32];
    int rc = slurp(good, &ba, &sa, NULL, err);
    if (rc == 0)
        rc = slurp(wrong, &bb, &sb, NULL, err);
    if (rc == 0) {
        char *both = malloc(sa + sb + 1);
        if (!both) {
            rc = dk_errf(err, "out of memory");
        } else {
            memcpy(both, ba, sa);
            memcpy(both + sa, bb, sb);
            sha256_buf(both, sa + sb, d);
            sha256_hex(d, t->sha256);
            free(both);
        }
    }
    if (rc == 0 && ((na = split_lines(ba, sa, &la)) == (size_t)-1 || (nb = split_lines(bb, sb, &lb)) == (size_t)-1))
        rc = dk_errf(err, "out of memory");
    if (rc == 0 && na != nb)
        rc = dk_errf(err, "%s: %zu lines, but %s has %zu: the files must be line-aligned", good, na, wrong, nb);
    for (size_t i = 0; rc == 0 && i < na; i++) {
        const char *x = la[i], *y = lb[i];
        size_t k = 0;
        while (x[k] && x[k] == y[k])
            k++;
        while (k > 0 && x[k - 1] != ' ') /* back to a word boundary */
            k--;
        if (k == 0 || !x[k] || !y[k] || strcmp(x, y) == 0) {
            rc = dk_errf(err, "%s:%zu: no shared context ending at a space, or identical lines", good, i + 1);
            break;
        }
        char *ctx = strndup(x, k - 1);
        char *e1 = spaced(x + k), *e2 = spaced(y + k);
        int gold = (int)(i % 2);
        const char *ch[2] = {gold == 0 ? e1 : e2, gold == 0 ? e2 : e1};
        if (!ctx || !e1 || !e2)
            rc = dk_errf(err, "out of memory");
        else
            rc = mc_task_add(t, ctx, ch, 2, gold, err);
        free(ctx), free(e1), free(e2);
    }
    free(la), free(lb), free(ba), free(bb);
    return rc;
}

int mc_task_convert(mc_task *t, const char *format, const char *path, dk_err *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", format);
    int rc;
    if (strcmp(format, "hellaswag_pairs") == 0) {
        rc = convert_pairs(t, path, err);
    } else {
        int fmt = -1;
        for (int i = 0; i < 5; i++)
            if (strcmp(format, FORMATS[i]) == 0)
                fmt = i;
        if (fmt < 0)
            return dk_errf(err, "unknown task format \"%s\"", format);
        rc = convert_kobest(t, fmt, path, err);
    }
    if (rc != 0)
        mc_task_free(t);
    return rc;
}

/* spec starts with "FORMAT:" for a known FORMAT */
static int has_format_prefix(const char *spec)
{
    const char *colon = strchr(spec, ':');
    char fmt[64];
    size_t n = colon ? (size_t)(colon - spec) : 0;
    if (n == 0 || n >= sizeof fmt)
        return 0;
    memcpy(fmt, spec, n);
    fmt[n] = 0;
    return format_known(fmt);
}

int task_spec_is_text(const char *spec, const char **path)
{
    size_t n = strlen(spec);
    int text = strncmp(spec, "text:", 5) == 0 ||
               (n > 4 && strcmp(spec + n - 4, ".txt") == 0 && !has_format_prefix(spec));
    if (text && path)
        *path = strncmp(spec, "text:", 5) == 0 ? spec + 5 : spec;
    return text;
}

int mc_task_open(mc_task *t, const char *spec, dk_err *err)
{
    const char *colon = strchr(spec, ':');
    if (colon && colon != spec) {
        char fmt[64];
        size_t n = (size_t)(colon - spec);
        if (n < sizeof fmt) {
            memcpy(fmt, spec, n);
            fmt[n] = 0;
            if (format_known(fmt))
                return mc_task_convert(t, fmt, colon + 1, err);
        }
    }
    size_t n = strlen(spec);
    if (n > 6 && strcmp(spec + n - 6, ".jsonl") == 0)
        return mc_task_load_jsonl(t, spec, err);
    return dk_errf(err, "%s: not a task (a .jsonl file, text:PATH, or FORMAT:PATH with FORMAT one of "
                        "kobest_boolq, kobest_copa, kobest_hellaswag, kobest_sentineg, kobest_wic, "
                        "hellaswag_pairs)", spec);
}
