/* select_cache.c: see select_cache.h. */
#include "select/select_cache.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/isa.h"
#include "util/buildinfo.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/version.h"

/* Entries are small (a score, a lineage test's evidence); anything bigger is damage. */
#define MAX_ENTRY_BYTES (64u << 20)

void sel_cache_init(sel_cache *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    if (dir)
        snprintf(c->dir, sizeof c->dir, "%s", dir);
}

const char *sel_cache_default_dir(char *buf, size_t cap)
{
    const char *e = getenv("DOKJA_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(buf, cap, "%s", e);
    else if (x && *x)
        snprintf(buf, cap, "%s/dokja", x);
    else if (h && *h)
        snprintf(buf, cap, "%s/.cache/dokja", h);
    else
        return NULL;
    return buf;
}

void sel_cache_key(char key[65], const char *kind, ...)
{
    sha256_stream *s = sha256_begin();
    uint8_t d[32];
    if (!s) { /* out of memory: a key nothing matches (the entry is simply not shared) */
        snprintf(key, 65, "%064d", 0);
        return;
    }
    /* the build decides the bits: another commit, flags or arithmetic class is another key */
    const char *build[] = {"dokja-select-cache/1", DOKJA_VERSION, build_commit(), build_flags(),
                           isa_arith(isa_current()), kind};
    for (size_t i = 0; i < sizeof build / sizeof *build; i++)
        sha256_add(s, build[i], strlen(build[i]) + 1);
    va_list ap;
    va_start(ap, kind);
    for (const char *p; (p = va_arg(ap, const char *));)
        sha256_add(s, p, strlen(p) + 1);
    va_end(ap);
    sha256_end(s, d);
    sha256_hex(d, key);
}

static void entry_path(const sel_cache *c, const char key[65], char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/select/%.2s/%s.json", c->dir, key, key);
}

json_t *sel_cache_get(sel_cache *c, const char key[65])
{
    if (!c->dir[0])
        return NULL;
    char path[4300];
    entry_path(c, key, path, sizeof path);
    struct stat st;
    json_t *v = NULL;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= MAX_ENTRY_BYTES)
        v = json_load_file(path, JSON_DECODE_ANY, NULL);
    /* the entry must say which key it is (a file copied under another name is not it) */
    json_t *k = v ? json_object_get(v, "key") : NULL, *val = v ? json_object_get(v, "value") : NULL;
    if (!k || !json_is_string(k) || strcmp(json_string_value(k), key) != 0 || !val) {
        json_decref(v);
        c->misses++;
        return NULL;
    }
    json_incref(val);
    json_decref(v);
    c->hits++;
    return val;
}

void sel_cache_put(sel_cache *c, const char key[65], const json_t *value)
{
    if (!c->dir[0])
        return;
    char path[4300], sub[4300];
    entry_path(c, key, path, sizeof path);
    snprintf(sub, sizeof sub, "%s", path);
    *strrchr(sub, '/') = 0;
    json_t *e = json_pack("{s:s, s:O}", "key", key, "value", value);
    /* reals as %.17g: a cached score reads back as the same double, so a report from the
     * cache is byte-identical to one computed */
    char *text = e ? json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) : NULL;
    dk_err err;
    int rc = text ? fs_mkdirs(sub, &err) : dk_errf(&err, "out of memory");
    if (rc == 0)
        rc = fs_write_file_atomic(path, text, strlen(text), &err);
    if (rc != 0 && !c->warned) {
        dk_warnf("the select cache %s cannot be written (%s): results are not kept", c->dir, err.msg);
        c->warned = 1;
    }
    free(text);
    json_decref(e);
}

/* A file's SHA-256, from the cache when its path, device, inode, size and modification
 * time are those it was hashed with. */
static int file_digest(sel_cache *c, const char *path, char hex[65], dk_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return dk_errf(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dk_errf(err, "%s: not a regular file", path);
    char *real = realpath(path, NULL), id[200], key[65];
    snprintf(id, sizeof id, "%llu %llu %lld %lld.%09ld", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
             (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    sel_cache_key(key, "file-sha256", real ? real : path, id, (const char *)NULL);
    free(real);
    json_t *v = sel_cache_get(c, key);
    if (v && json_is_string(v) && strlen(json_string_value(v)) == 64) {
        snprintf(hex, 65, "%s", json_string_value(v));
        json_decref(v);
        return 0;
    }
    json_decref(v);
    uint8_t d[32];
    if (sha256_file(path, d, err) != 0)
        return -1;
    sha256_hex(d, hex);
    json_t *s = json_string(hex);
    sel_cache_put(c, key, s);
    json_decref(s);
    return 0;
}

/* The files of a model directory that decide what a loader reads. */
static int model_file(const struct dirent *e)
{
    const char *n = e->d_name;
    size_t len = strlen(n);
    static const char *const exact[] = {"config.json", "tokenizer.json", "tokenizer_config.json",
                                        "dokja_tokenizer.json", "tokenizer.model", "special_tokens_map.json",
                                        "model.safetensors.index.json"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(n, exact[i]) == 0)
            return 1;
    return len > 12 && strcmp(n + len - 12, ".safetensors") == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int sel_model_digest(sel_cache *c, const char *path, char hex[65], dk_err *err)
{
    if (!fs_is_dir(path))
        return file_digest(c, path, hex, err);
    struct dirent **ents;
    int n = scandir(path, &ents, model_file, by_name);
    if (n < 0)
        return dk_errf(err, "%s: %s", path, strerror(errno));
    sha256_stream *s = sha256_begin();
    int rc = s ? 0 : dk_errf(err, "out of memory");
    for (int i = 0; i < n; i++) {
        char fp[4400], fh[65];
        snprintf(fp, sizeof fp, "%s/%s", path, ents[i]->d_name);
        if (rc == 0 && (rc = file_digest(c, fp, fh, err)) == 0) {
            sha256_add(s, ents[i]->d_name, strlen(ents[i]->d_name) + 1);
            sha256_add(s, fh, 65);
        }
        free(ents[i]);
    }
    free(ents);
    if (rc == 0 && n == 0)
        rc = dk_errf(err, "%s: no model files (config.json, *.safetensors, a tokenizer)", path);
    uint8_t d[32];
    if (s) {
        sha256_end(s, d);
        sha256_hex(d, hex);
    }
    return rc;
}

static int any_entry(const struct dirent *e) { return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0; }

static int tree_add(sel_cache *c, sha256_stream *s, const char *root, const char *rel, int depth, dk_err *err)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    struct dirent **ents;
    int n = scandir(dir, &ents, any_entry, by_name), rc = 0;
    if (n < 0)
        return dk_errf(err, "%s: %s", dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        char r2[4400], full[8900], fh[65];
        snprintf(r2, sizeof r2, "%s%s%s", rel, rel[0] ? "/" : "", ents[i]->d_name);
        snprintf(full, sizeof full, "%s/%s", root, r2);
        struct stat st;
        if (rc == 0 && stat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth > 0) {
                rc = tree_add(c, s, root, r2, depth - 1, err);
            } else if (S_ISREG(st.st_mode) && (rc = file_digest(c, full, fh, err)) == 0) {
                sha256_add(s, r2, strlen(r2) + 1);
                sha256_add(s, fh, 65);
            }
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int sel_tree_digest(sel_cache *c, const char *path, int depth, char hex[65], dk_err *err)
{
    sha256_stream *s = sha256_begin();
    if (!s)
        return dk_errf(err, "out of memory");
    int rc = tree_add(c, s, path, "", depth, err);
    uint8_t d[32];
    sha256_end(s, d);
    sha256_hex(d, hex);
    return rc;
}
