/* fuzz_dataset.c: libFuzzer harness for dataset directories (src/data/dataset.c,
 * src/data/shard.c): manifest.json, its shards and its tokenizer.
 *
 * Input: a mode byte, then three parts, each but the last behind a 4-byte little-endian
 * length: manifest.json, dokja_tokenizer.json, and the bytes of every shard (all shard
 * files get them, under the manifest's names when they are plain names). Mode odd: the
 * manifest's SHA-256 fields are set to the files' real digests first, so the fuzzer gets
 * past the hash checks to the shard headers, counts and ids (a random input never
 * matches a digest).
 *
 * Any input must be refused with one line naming a file of the dataset, or open into a
 * dataset whose every shard id is below the vocabulary and whose counts add up. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "fuzz_file.h"
#include "util/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int part(const uint8_t **p, size_t *left, const uint8_t **out, size_t *n)
{
    if (*left < 4)
        return -1;
    uint32_t len = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 | (uint32_t)(*p)[3] << 24;
    *p += 4, *left -= 4;
    if (len > *left)
        return -1;
    *out = *p, *n = len;
    *p += len, *left -= len;
    return 0;
}

static void hex_of(const uint8_t *d, size_t n, char hex[65])
{
    uint8_t dg[32];
    sha256_buf(d, n, dg);
    sha256_hex(dg, hex);
}

/* The shard files the manifest names, written with the shard bytes; in fix mode the
 * digests set to match. Returns the manifest text to write (malloc'd). */
static char *shards_and_manifest(const uint8_t *man, size_t mn, const uint8_t *sh, size_t sn, const uint8_t *tk,
                                 size_t tn, int fix)
{
    json_t *j = json_loadb((const char *)man, mn, 0, NULL);
    char hex[65];
    hex_of(sh, sn, hex);
    json_t *srcs = json_object_get(j, "sources");
    for (size_t i = 0; i < json_array_size(srcs); i++)
        for (int sp = 0; sp < 2; sp++) {
            json_t *shards = json_object_get(json_object_get(json_array_get(srcs, i), sp ? "val" : "train"), "shards");
            for (size_t k = 0; k < json_array_size(shards); k++) {
                json_t *e = json_array_get(shards, k);
                const char *f = json_string_value(json_object_get(e, "file"));
                if (f && *f && !strchr(f, '/') && strlen(f) < 64 && strcmp(f, "manifest.json") &&
                    strcmp(f, "dokja_tokenizer.json") && strcmp(f, ".") && strcmp(f, ".."))
                    fuzz_file(f, sh, sn);
                if (fix)
                    json_object_set_new(e, "sha256", json_string(hex));
            }
        }
    if (fix && json_is_object(json_object_get(j, "tokenizer"))) {
        hex_of(tk, tn, hex);
        json_object_set_new(json_object_get(j, "tokenizer"), "sha256", json_string(hex));
    }
    char *out = fix && j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!out && (out = malloc(mn + 1))) {
        memcpy(out, man, mn);
        out[mn] = 0;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    const uint8_t *p = data + 1, *man, *tk;
    size_t left = size - 1, mn, tn;
    if (part(&p, &left, &man, &mn) != 0 || part(&p, &left, &tk, &tn) != 0)
        return 0;
    fuzz_file("dokja_tokenizer.json", tk, tn);
    char *m = shards_and_manifest(man, mn, p, left, tk, tn, fix);
    if (!m)
        return 0;
    const char *mpath = fuzz_file("manifest.json", (const uint8_t *)m, strlen(m));
    free(m);
    char dir[256];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(mpath, '/') - mpath), mpath);
    dataset d;
    dk_err err;
    if (dataset_open(&d, dir, &err) != 0) {
        if (!strstr(err.msg, dir) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    for (size_t i = 0; i < d.n_sources; i++)
        for (int sp = 0; sp < 2; sp++) {
            uint64_t sum = 0;
            for (size_t k = 0; k < d.sources[i].n_shards[sp]; k++) {
                const shard *s = &d.sources[i].shards[sp][k];
                for (uint64_t t = 0; t < s->count; t++)
                    if (shard_get_stored(s, t) >= d.vocab_size)
                        abort();
                sum += s->count;
            }
            if (sum != d.sources[i].tokens[sp])
                abort();
        }
    dataset_close(&d);
    return 0;
}
