/* task.c: see task.h. The item container and the JSONL format. It calls nothing in
 * task_convert.c: the converters build on the container, not the other way. */
#include "eval/task.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/task_internal.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/utf8.h"

void mc_task_free(mc_task *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].context);
        for (int c = 0; c < t->items[i].n_choices; c++)
            free(t->items[i].choices[c]);
        free(t->items[i].choices);
    }
    free(t->items);
    memset(t, 0, sizeof *t);
}

int mc_task_add(mc_task *t, const char *context, const char *const *choices, int n, int gold,
                dk_err *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        mc_item *it = realloc(t->items, cap * sizeof *it);
        if (!it)
            return dk_errf(err, "out of memory");
        t->items = it;
        t->cap = cap;
    }
    mc_item *it = &t->items[t->n];
    it->context = strdup(context);
    it->choices = calloc((size_t)n, sizeof *it->choices);
    it->n_choices = n;
    it->gold = gold;
    int ok = it->context && it->choices;
    for (int c = 0; ok && c < n; c++)
        ok = (it->choices[c] = strdup(choices[c])) != NULL;
    t->n++; /* even when incomplete: mc_task_free releases it */
    return ok ? 0 : dk_errf(err, "out of memory");
}

static void name_from_path(mc_task *t, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(t->name, sizeof t->name, "%s", base);
    char *dot = strrchr(t->name, '.');
    if (dot && dot != t->name)
        *dot = 0;
}

int mc_task_load_jsonl(mc_task *t, const char *path, dk_err *err)
{
    memset(t, 0, sizeof *t);
    fs_map m;
    if (fs_map_open(&m, path, SIZE_MAX, err) != 0)
        return -1;
    uint8_t d[32];
    sha256_buf(m.data, m.size, d);
    sha256_hex(d, t->sha256);
    name_from_path(t, path);
    const char *s = (const char *)m.data;
    size_t len = m.size, line = 0;
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        const char *nl = memchr(s + off, '\n', len - off);
        size_t b = off, e = nl ? (size_t)(nl - s) : len;
        off = e + 1;
        line++;
        while (e > b && (s[e - 1] == '\r' || s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (e == b)
            continue;
        size_t bad = utf8_validate((const uint8_t *)s + b, e - b);
        if (bad != e - b) {
            rc = dk_errf(err, "%s:%zu: invalid UTF-8 at byte %zu of the line", path, line, bad);
            break;
        }
        json_error_t je;
        json_t *o = json_loadb(s + b, e - b, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            rc = dk_errf(err, "%s:%zu: not JSON (%s)", path, line, je.text);
            break;
        }
        json_t *ctx = json_object_get(o, "context"), *ch = json_object_get(o, "choices"),
               *gold = json_object_get(o, "gold");
        size_t n = json_array_size(ch);
        if (!json_is_object(o))
            rc = dk_errf(err, "%s:%zu: expected an object", path, line);
        else if (!json_is_string(ctx))
            rc = dk_errf(err, "%s:%zu: \"context\" must be a string", path, line);
        else if (!json_is_array(ch) || n < 2)
            rc = dk_errf(err, "%s:%zu: \"choices\" must be an array of at least 2 strings", path, line);
        else if (!json_is_integer(gold) || json_integer_value(gold) < 0 ||
                 json_integer_value(gold) >= (json_int_t)n)
            rc = dk_errf(err, "%s:%zu: \"gold\" must be an index into the %zu choices", path, line, n);
        const char **cs = rc == 0 ? calloc(n, sizeof *cs) : NULL;
        if (rc == 0 && !cs)
            rc = dk_errf(err, "out of memory");
        for (size_t c = 0; rc == 0 && c < n; c++) {
            cs[c] = json_string_value(json_array_get(ch, c));
            if (!cs[c] || !cs[c][0])
                rc = dk_errf(err, "%s:%zu: choice %zu must be a non-empty string", path, line, c);
        }
        if (rc == 0 && n > 1000)
            rc = dk_errf(err, "%s:%zu: %zu choices (at most 1000)", path, line, n);
        if (rc == 0)
            rc = mc_task_add(t, json_string_value(ctx), cs, (int)n, (int)json_integer_value(gold), err);
        free(cs);
        json_decref(o);
    }
    fs_map_close(&m);
    if (rc == 0 && t->n == 0)
        rc = dk_errf(err, "%s: no items", path);
    if (rc != 0)
        mc_task_free(t);
    return rc;
}

int mc_task_write_jsonl(const mc_task *t, const char *path, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        const mc_item *it = &t->items[i];
        json_t *ch = json_array();
        for (int c = 0; c < it->n_choices; c++)
            json_array_append_new(ch, json_string(it->choices[c]));
        json_t *o = json_pack("{s:s, s:o, s:i}", "context", it->context, "choices", ch, "gold", it->gold);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!s) {
            fs_atomic_abort(&a);
            return dk_errf(err, "%s: out of memory", path);
        }
        fs_atomic_write(&a, s, strlen(s));
        fs_atomic_write(&a, "\n", 1);
        free(s);
    }
    return fs_atomic_commit(&a, err);
}
