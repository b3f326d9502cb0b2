/* sampler.c */
#include "train/sampler.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

static inline uint64_t mix2(uint64_t a, uint64_t b) { return hash_u64(a ^ hash_u64(b + 0x9e3779b97f4a7c15ULL)); }

/* A Feistel network over the smallest power of 4 >= n, with cycle walking to stay in
 * [0, n): a bijection on [0, n) for any key. */
uint64_t sampler_permute(uint64_t i, uint64_t n, uint64_t key)
{
    if (n <= 1)
        return 0;
    int bits = 2;
    while (bits < 64 && (1ull << bits) < n)
        bits += 2;
    int half = bits / 2;
    uint64_t mask = (1ull << half) - 1;
    uint64_t x = i;
    do {
        uint64_t l = x >> half, r = x & mask;
        for (int round = 0; round < 4; round++) {
            uint64_t f = mix2(key + (uint64_t)round, r) & mask;
            uint64_t nl = r;
            r = l ^ f;
            l = nl;
        }
        x = (l << half) | r;
    } while (x >= n);
    return x;
}

int sampler_init(sampler *s, const dataset *d, int split, int S, uint64_t seed, dk_err *err)
{
    memset(s, 0, sizeof *s);
    s->d = d;
    s->S = S;
    s->seed = seed;
    s->split = split;
    size_t n = d->n_sources;
    s->cursor = calloc(n, sizeof *s->cursor);
    s->n_windows = calloc(n, sizeof *s->n_windows);
    s->cum_weight = calloc(n, sizeof *s->cum_weight);
    if (!s->cursor || !s->n_windows || !s->cum_weight) {
        sampler_free(s);
        return dk_errf(err, "out of memory");
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = d->sources[i].tokens[split];
        s->n_windows[i] = t > (uint64_t)S ? (t - 1) / (uint64_t)S : 0;
        /* a source too small for one window gets no share */
        total += s->n_windows[i] ? (split == 0 ? d->sources[i].weight : (double)t) : 0;
        s->cum_weight[i] = total;
    }
    if (!(total > 0)) {
        sampler_free(s);
        return dk_errf(err, "%s: no source has %d tokens of %s data", d->dir, S + 1,
                       split ? "validation" : "training");
    }
    for (size_t i = 0; i < n; i++)
        s->cum_weight[i] /= total;
    s->cum_weight[n - 1] = 1.0;
    return 0;
}

void sampler_free(sampler *s)
{
    free(s->cursor);
    free(s->n_windows);
    free(s->cum_weight);
    memset(s, 0, sizeof *s);
}

/* Token at position pos of a source's split stream (across shard boundaries). */
static dk_token stream_at(const dataset_source *src, int split, uint64_t pos, size_t *shard_i,
                          uint64_t *shard_base)
{
    while (pos >= *shard_base + src->shards[split][*shard_i].count) {
        *shard_base += src->shards[split][*shard_i].count;
        (*shard_i)++;
    }
    return shard_get(&src->shards[split][*shard_i], pos - *shard_base);
}

void sampler_window(const sampler *s, int src, uint64_t w, dk_token *inputs, dk_token *targets)
{
    const dataset_source *ds = &s->d->sources[src];
    uint64_t start = w * (uint64_t)s->S;
    size_t si = 0;
    uint64_t base = 0;
    /* find the shard holding `start` once, then walk */
    dk_token prev = stream_at(ds, s->split, start, &si, &base);
    for (int t = 0; t < s->S; t++) {
        dk_token next = stream_at(ds, s->split, start + (uint64_t)t + 1, &si, &base);
        inputs[t] = prev;
        targets[t] = next;
        prev = next;
    }
}

int sampler_pick(sampler *s, uint64_t *window)
{
    uint64_t r = mix2(s->seed, s->next_seq++);
    double u = (double)(r >> 11) * 0x1.0p-53;
    /* the first source with windows whose cumulative weight exceeds u; rounding can
     * leave u above the last positive share, so fall back to the last such source */
    int src = -1, last = 0;
    for (size_t i = 0; i < s->d->n_sources; i++) {
        if (s->n_windows[i] == 0)
            continue;
        last = (int)i;
        if (src < 0 && u < s->cum_weight[i])
            src = (int)i;
    }
    if (src < 0)
        src = last;
    uint64_t c = s->cursor[src]++, n = s->n_windows[src];
    uint64_t epoch = c / n;
    *window = sampler_permute(c % n, n, mix2(s->seed ^ 0xabcdefULL, ((uint64_t)src << 32) ^ epoch));
    return src;
}

int sampler_next(sampler *s, dk_token *inputs, dk_token *targets)
{
    uint64_t w;
    int src = sampler_pick(s, &w);
    s->last_src = src;
    s->last_window = w;
    sampler_window(s, src, w, inputs, targets);
    return src;
}
