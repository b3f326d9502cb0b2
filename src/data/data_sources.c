/* data_sources.c: reading a sources file (see data_sources.h). */
#include "data/data_sources.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fs.h"

static const char *const KEYS[] = {"path", "partner", "licence", "weight"};

/* A copy of the string field key of o (checked: present, non-empty, at most max bytes
 * when max > 0, no control characters), or NULL with err filled. */
static char *get_string(json_t *o, const char *key, size_t max, const char *file, size_t i,
                        dk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        dk_errf(err, "%s: sources[%zu].%s: missing", file, i, key);
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        dk_errf(err, "%s: sources[%zu].%s: must be a non-empty string", file, i, key);
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n) {
        dk_errf(err, "%s: sources[%zu].%s: contains a NUL character", file, i, key);
        return NULL;
    }
    if (max && n > max) {
        dk_errf(err, "%s: sources[%zu].%s: longer than %zu bytes", file, i, key, max);
        return NULL;
    }
    for (size_t k = 0; max && k < n; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) {
            dk_errf(err, "%s: sources[%zu].%s: contains a control character", file, i, key);
            return NULL;
        }
    char *c = strdup(s);
    if (!c)
        dk_errf(err, "out of memory");
    return c;
}

/* path relative to the sources file's directory unless absolute */
static char *resolve(const char *file, const char *path)
{
    const char *slash = strrchr(file, '/');
    if (path[0] == '/' || !slash)
        return strdup(path);
    char *r = NULL;
    if (asprintf(&r, "%.*s/%s", (int)(slash - file), file, path) < 0)
        return NULL;
    return r;
}

static int load_one(json_t *o, const char *file, size_t i, data_source_spec *sp, dk_err *err)
{
    if (!json_is_object(o))
        return dk_errf(err, "%s: sources[%zu]: not an object", file, i);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int known = 0;
        for (size_t k = 0; k < sizeof KEYS / sizeof *KEYS; k++)
            known |= strcmp(key, KEYS[k]) == 0;
        if (!known)
            return dk_errf(err, "%s: sources[%zu]: unknown key \"%s\" (the keys are path, "
                           "partner, licence and weight)", file, i, key);
    }
    char *path = get_string(o, "path", 0, file, i, err);
    if (!path)
        return -1;
    sp->path = resolve(file, path);
    free(path);
    if (!sp->path)
        return dk_errf(err, "out of memory");
    struct stat st;
    if (stat(sp->path, &st) != 0)
        return dk_errno(err, "%s: sources[%zu].path: %s", file, i, sp->path);
    if (!(sp->partner = get_string(o, "partner", 256, file, i, err)) ||
        !(sp->licence = get_string(o, "licence", 256, file, i, err)))
        return -1;
    sp->weight = -1;
    json_t *w = json_object_get(o, "weight");
    if (w) {
        double x = json_is_number(w) ? json_number_value(w) : NAN;
        if (!(x > 0 && x <= 1e9))
            return dk_errf(err, "%s: sources[%zu].weight: must be a number in (0, 1e9]", file, i);
        sp->weight = x;
    }
    return 0;
}

int data_sources_load(const char *file, data_source_spec **specs, size_t *n, dk_err *err)
{
    *specs = NULL;
    *n = 0;
    json_error_t je;
    FILE *f = fs_open_regular(file, err); /* a FIFO or a device: refused, never read forever */
    if (!f)
        return -1;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!root)
        return dk_errf(err, "%s:%d: invalid JSON: %s", file, je.line, je.text);
    json_t *arr = json_object_get(root, "sources");
    int rc = 0;
    if (!json_is_object(root) || !json_is_array(arr))
        rc = dk_errf(err, "%s: expected an object {\"sources\": [...]}", file);
    else if (json_object_size(root) != 1)
        rc = dk_errf(err, "%s: unknown top-level key besides \"sources\"", file);
    else if (json_array_size(arr) == 0)
        rc = dk_errf(err, "%s: sources: empty", file);
    size_t m = rc == 0 ? json_array_size(arr) : 0;
    data_source_spec *sp = m ? calloc(m, sizeof *sp) : NULL;
    if (rc == 0 && !sp)
        rc = dk_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < m; i++)
        rc = load_one(json_array_get(arr, i), file, i, &sp[i], err);
    json_decref(root);
    if (rc != 0) {
        data_sources_free(sp, m);
        return -1;
    }
    *specs = sp;
    *n = m;
    return 0;
}

void data_sources_free(data_source_spec *specs, size_t n)
{
    for (size_t i = 0; specs && i < n; i++) {
        free((char *)specs[i].path);
        free((char *)specs[i].partner);
        free((char *)specs[i].licence);
    }
    free(specs);
}
