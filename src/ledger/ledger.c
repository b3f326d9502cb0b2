/* ledger.c: the hash-chained JSONL container (see ledger.h). */
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/grow.h"
#include "util/hash.h"

static const uint8_t ZERO[32];

int ledger_create(ledger_writer *w, const char *path, dk_err *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return dk_errno(err, "%s: cannot create", path);
    if (!(w->f = fdopen(fd, "w"))) {
        close(fd);
        return dk_errno(err, "%s: cannot open", path);
    }
    return 0;
}

int ledger_reopen(ledger_writer *w, const char *path, long keep, dk_err *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    ledger l;
    if (ledger_read_ex(&l, path, 1, err) != 0)
        return -1;
    if (keep < 0 || (size_t)keep > l.n) {
        ledger_free(&l);
        return dk_errf(err, "%s: has %zu records, cannot keep %ld", path, l.n, keep);
    }
    /* the byte offset after record keep-1: lines are counted again in the file */
    FILE *f = fopen(path, "r+");
    if (!f) {
        ledger_free(&l);
        return dk_errno(err, "%s: cannot open", path);
    }
    long off = 0, lines = 0;
    int c;
    while (lines < keep && (c = fgetc(f)) != EOF) {
        off++;
        if (c == '\n')
            lines++;
    }
    if (keep > 0)
        memcpy(w->head, l.r[keep - 1].hash, 32);
    ledger_free(&l);
    if (fflush(f) != 0 || ftruncate(fileno(f), off) != 0 || fseek(f, off, SEEK_SET) != 0) {
        fclose(f);
        return dk_errno(err, "%s: cannot cut after record %ld", path, keep);
    }
    w->f = f;
    w->n = keep;
    return 0;
}

int ledger_append(ledger_writer *w, const json_t *rec, dk_err *err)
{
    char prev[65];
    sha256_hex(w->head, prev);
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer(w->n));
    json_object_set_new(o, "prev", json_string(prev));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)rec, k, v) json_object_set(o, k, v);
    /* 17 significant digits: every double reads back as the same double */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s)
        return dk_errf(err, "%s: out of memory", w->path);
    size_t len = strlen(s);
    int rc = fwrite(s, 1, len, w->f) == len && fputc('\n', w->f) != EOF && fflush(w->f) == 0
                 ? 0 : dk_errno(err, "%s: cannot append", w->path);
    if (rc == 0) {
        sha256_buf(s, len, w->head);
        w->n++;
    }
    free(s);
    return rc;
}

int ledger_sync(ledger_writer *w, dk_err *err)
{
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        return dk_errno(err, "%s: cannot sync", w->path);
    return 0;
}

void ledger_close(ledger_writer *w)
{
    if (w->f)
        fclose(w->f);
    w->f = NULL;
}

/* ---- reading ------------------------------------------------------------------------ */

static int bad(const ledger *l, long line, dk_err *err, const char *what)
{
    return dk_errf(err, "%s:%ld: %s", l->path, line, what);
}

int ledger_read(ledger *l, const char *path, dk_err *err)
{
    return ledger_read_ex(l, path, 0, err);
}

int ledger_read_ex(ledger *l, const char *path, int torn_ok, dk_err *err)
{
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", path);
    fs_map m;
    if (fs_map_open(&m, path, LEDGER_MAX_BYTES, err) != 0)
        return -1;
    if (m.size == 0) { /* an empty file maps to no address at all */
        fs_map_close(&m);
        return dk_errf(err, "%s: empty ledger", path);
    }
    const char *p = (const char *)m.data, *end = p + m.size;
    size_t cap = 0;
    int rc = 0;
    long line = 0;
    uint8_t prev[32];
    memcpy(prev, ZERO, 32);
    while (rc == 0 && p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl && torn_ok)
            break;
        if (!nl) {
            rc = bad(l, line, err, "the last record has no newline (the file was cut short)");
            break;
        }
        ledger_rec *nr = dk_grow(l->r, &cap, l->n + 1, sizeof *nr, 1024);
        if (!nr) {
            rc = dk_errf(err, "%s: out of memory", path);
            break;
        }
        l->r = nr;
        ledger_rec *r = &l->r[l->n];
        memset(r, 0, sizeof *r);
        r->line = line;
        json_error_t je;
        r->j = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &je);
        sha256_buf(p, (size_t)(nl - p), r->hash);
        p = nl + 1;
        if (!r->j || !json_is_object(r->j)) {
            json_decref(r->j);
            char msg[256];
            snprintf(msg, sizeof msg, "not a JSON object%s%s", r->j ? "" : ": ", r->j ? "" : je.text);
            rc = bad(l, line, err, msg);
            break;
        }
        l->n++;
        json_t *n = json_object_get(r->j, "n"), *pv = json_object_get(r->j, "prev");
        r->type = json_string_value(json_object_get(r->j, "type"));
        uint8_t want[32];
        if (!r->type)
            rc = bad(l, line, err, "no \"type\"");
        else if (!json_is_integer(n) || json_integer_value(n) != (json_int_t)(l->n - 1))
            rc = dk_errf(err, "%s:%ld: record number is not %zu: a record was dropped, duplicated or moved "
                         "before it", path, line, l->n - 1);
        else if (sha256_parse_hex(json_string_value(pv), want) != 0 || memcmp(want, prev, 32) != 0)
            rc = l->n == 1 ? dk_errf(err, "%s:%ld: the genesis's \"prev\" is not 64 zeros", path, line)
                           : dk_errf(err, "%s:%ld: \"prev\" is not the hash of record %zu: that record was changed",
                                     path, line, l->n - 2);
        memcpy(prev, r->hash, 32);
    }
    fs_map_close(&m);
    if (rc == 0 && l->n == 0)
        rc = dk_errf(err, "%s: empty ledger", path);
    if (rc != 0) {
        ledger_free(l);
        return -1;
    }
    memcpy(l->head, prev, 32);
    return 0;
}

void ledger_free(ledger *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->r[i].j);
    free(l->r);
    l->r = NULL;
    l->n = 0;
}

double ledger_num(const ledger_rec *r, const char *key, int *ok)
{
    json_t *v = json_object_get(r->j, key);
    if (!json_is_number(v)) {
        *ok = 0;
        return 0;
    }
    return json_number_value(v);
}

long long ledger_int(const ledger_rec *r, const char *key, int *ok)
{
    json_t *v = json_object_get(r->j, key);
    if (!json_is_integer(v)) {
        *ok = 0;
        return 0;
    }
    return json_integer_value(v);
}

const char *ledger_str(const ledger_rec *r, const char *key, int *ok)
{
    const char *s = json_string_value(json_object_get(r->j, key));
    if (!s)
        *ok = 0;
    return s;
}
