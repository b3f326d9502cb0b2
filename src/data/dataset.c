/* dataset.c: verified loading of a dataset directory. */
#include "data/dataset.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/hash.h"
#include "util/merkle.h"

static int get_u64(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int open_split(dataset *d, dataset_source *s, int sp, json_t *j, const char *mpath,
                      dk_err *err)
{
    json_t *shards = json_object_get(j, "shards");
    if (!json_is_object(j) || get_u64(j, "tokens", &s->tokens[sp]) != 0 || !json_is_array(shards))
        return dk_errf(err, "%s: source \"%s\": malformed split", mpath, s->name);
    size_t n = json_array_size(shards);
    s->shards[sp] = calloc(n ? n : 1, sizeof *s->shards[sp]);
    s->shard_sha256[sp] = calloc(n ? n : 1, sizeof *s->shard_sha256[sp]);
    if (!s->shards[sp] || !s->shard_sha256[sp])
        return dk_errf(err, "%s: out of memory", mpath);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *sh = json_array_get(shards, i);
        json_t *file = json_object_get(sh, "file"), *hash = json_object_get(sh, "sha256");
        uint64_t tokens;
        if (!json_is_string(file) || !json_is_string(hash) || get_u64(sh, "tokens", &tokens) != 0 ||
            strchr(json_string_value(file), '/'))
            return dk_errf(err, "%s: source \"%s\": malformed shard entry %zu", mpath, s->name, i);
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", d->dir, json_string_value(file));
        uint8_t dg[32];
        char hex[65];
        if (sha256_file(path, dg, err) != 0)
            return -1;
        sha256_hex(dg, hex);
        memcpy(s->shard_sha256[sp][i], dg, 32);
        if (strcmp(hex, json_string_value(hash)) != 0)
            return dk_errf(err, "%s: SHA-256 %s does not match the manifest (%s)", path, hex,
                           json_string_value(hash));
        if (shard_open(&s->shards[sp][i], path, d->vocab_size, err) != 0)
            return -1;
        s->n_shards[sp]++;
        if (s->shards[sp][i].width != d->id_bytes)
            return dk_errf(err, "%s: %d-byte ids, the manifest says %d", path, s->shards[sp][i].width, d->id_bytes);
        if (s->shards[sp][i].count != tokens)
            return dk_errf(err, "%s: %llu ids, the manifest says %llu", path,
                           (unsigned long long)s->shards[sp][i].count, (unsigned long long)tokens);
        sum += tokens;
    }
    if (sum != s->tokens[sp])
        return dk_errf(err, "%s: source \"%s\": shard tokens add up to %llu, not %llu", mpath,
                       s->name, (unsigned long long)sum, (unsigned long long)s->tokens[sp]);
    return 0;
}

int dataset_open(dataset *d, const char *dir, dk_err *err)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    char mpath[4400];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    fs_map m;
    if (fs_map_open(&m, mpath, 256u << 20, err) != 0)
        return -1;
    uint8_t dg[32];
    sha256_buf(m.data, m.size, dg);
    sha256_hex(dg, d->manifest_sha256);
    json_error_t je;
    json_t *root = json_loadb((const char *)m.data, m.size, JSON_REJECT_DUPLICATES, &je);
    fs_map_close(&m);
    if (!root)
        return dk_errf(err, "%s: invalid JSON at line %d: %s", mpath, je.line, je.text);
    int rc = 0;
    json_t *fmt = json_object_get(root, "format"), *tj = json_object_get(root, "tokenizer");
    json_t *sources = json_object_get(root, "sources");
    uint64_t version = 0, vocab = 0, eos = 0, id_bytes = 0;
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "dokja-data") != 0)
        rc = dk_errf(err, "%s: not a dokja dataset manifest", mpath);
    else if (get_u64(root, "version", &version) != 0 || version != 1)
        rc = dk_errf(err, "%s: unsupported version", mpath);
    else if (!json_is_object(tj) || get_u64(tj, "vocab_size", &vocab) != 0 ||
             get_u64(tj, "eos_id", &eos) != 0 || vocab == 0 || vocab > (uint64_t)INT32_MAX + 1 ||
             eos >= vocab || !json_is_string(json_object_get(tj, "sha256")))
        rc = dk_errf(err, "%s: malformed \"tokenizer\"", mpath);
    else if (!json_is_array(sources) || json_array_size(sources) == 0)
        rc = dk_errf(err, "%s: no sources", mpath);
    else if (get_u64(root, "id_bytes", &id_bytes) != 0 || (id_bytes != 2 && id_bytes != 4) ||
             (id_bytes == 2 && vocab > 65536))
        rc = dk_errf(err, "%s: \"id_bytes\" must be 2 (a vocabulary of at most 65536) or 4", mpath);
    if (rc == 0) {
        d->vocab_size = (uint32_t)vocab;
        d->id_bytes = (int)id_bytes;
        d->eos_id = (dk_token)eos;
        snprintf(d->tokenizer_sha256, sizeof d->tokenizer_sha256, "%s",
                 json_string_value(json_object_get(tj, "sha256")));
        /* the bundled tokenizer must be the one the manifest names */
        char tpath[4400], hex[65];
        snprintf(tpath, sizeof tpath, "%s/dokja_tokenizer.json", dir);
        if (sha256_file(tpath, dg, err) != 0)
            rc = -1;
        else if (sha256_hex(dg, hex), strcmp(hex, d->tokenizer_sha256) != 0)
            rc = dk_errf(err, "%s: SHA-256 does not match the manifest", tpath);
    }
    if (rc == 0) {
        d->n_sources = json_array_size(sources);
        d->sources = calloc(d->n_sources, sizeof *d->sources);
        if (!d->sources)
            rc = dk_errf(err, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < d->n_sources; i++) {
        json_t *s = json_array_get(sources, i), *name = json_object_get(s, "name");
        json_t *w = json_object_get(s, "weight");
        dataset_source *ds = &d->sources[i];
        if (!json_is_object(s) || !json_is_string(name) || !json_is_number(w) ||
            get_u64(s, "documents", &ds->documents) != 0 || !(json_number_value(w) >= 0)) {
            rc = dk_errf(err, "%s: malformed source %zu", mpath, i);
            break;
        }
        snprintf(ds->name, sizeof ds->name, "%s", json_string_value(name));
        ds->weight = json_number_value(w);
        for (size_t k = 0; k < i; k++) /* names key the sampler's state and every report */
            if (strcmp(d->sources[k].name, ds->name) == 0)
                rc = dk_errf(err, "%s: two sources are named \"%s\"", mpath, ds->name);
        if (rc != 0)
            break;
        rc = open_split(d, ds, 0, json_object_get(s, "train"), mpath, err);
        if (rc == 0)
            rc = open_split(d, ds, 1, json_object_get(s, "val"), mpath, err);
    }
    double wsum = 0;
    for (size_t i = 0; rc == 0 && i < d->n_sources; i++)
        wsum += d->sources[i].weight;
    if (rc == 0 && !(wsum > 0))
        rc = dk_errf(err, "%s: every source's weight is 0: nothing to sample", mpath);
    json_decref(root);
    if (rc != 0)
        dataset_close(d);
    return rc;
}

void dataset_close(dataset *d)
{
    for (size_t i = 0; d->sources && i < d->n_sources; i++)
        for (int sp = 0; sp < 2; sp++) {
            for (size_t k = 0; k < d->sources[i].n_shards[sp]; k++)
                shard_close(&d->sources[i].shards[sp][k]);
            free(d->sources[i].shards[sp]);
            free(d->sources[i].shard_sha256[sp]);
        }
    free(d->sources);
    memset(d, 0, sizeof *d);
}

double dataset_unigram_entropy(const dataset *d, int split)
{
    uint64_t *count = calloc(d->vocab_size, sizeof *count), total = 0;
    if (!count)
        return -1;
    for (size_t i = 0; i < d->n_sources; i++)
        for (size_t k = 0; k < d->sources[i].n_shards[split]; k++) {
            const shard *s = &d->sources[i].shards[split][k];
            for (uint64_t j = 0; j < s->count; j++)
                count[shard_get(s, j)]++;
            total += s->count;
        }
    double h = 0;
    for (uint32_t v = 0; v < d->vocab_size; v++)
        if (count[v]) {
            double p = (double)count[v] / (double)total;
            h -= p * log(p);
        }
    free(count);
    return total ? h : -1;
}

int dataset_merkle_root(const dataset *d, uint8_t out[32], size_t *n_leaves)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < d->n_sources; i++)
        n += d->sources[i].n_shards[0] + d->sources[i].n_shards[1];
    uint8_t (*leaves)[32] = malloc((n ? n : 1) * sizeof *leaves);
    if (!leaves)
        return -1;
    for (size_t i = 0; i < d->n_sources; i++)
        for (int sp = 0; sp < 2; sp++)
            for (size_t j = 0; j < d->sources[i].n_shards[sp]; j++)
                memcpy(leaves[k++], d->sources[i].shard_sha256[sp][j], 32);
    merkle_root((const uint8_t (*)[32])leaves, n, out);
    free(leaves);
    if (n_leaves)
        *n_leaves = n;
    return 0;
}
