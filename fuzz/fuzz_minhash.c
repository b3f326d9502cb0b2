/* fuzz_minhash.c: libFuzzer harness for near-duplicate removal (src/data/minhash.c) on
 * arbitrary bytes: invalid UTF-8, NUL bytes, empty and one-byte documents.
 *
 * Input: byte 0 picks the shingle kind (bit 0), the clustering (bit 1) and the shingle
 * size (1 + the upper bits mod 8); byte 1 the threshold (byte / 255); the rest is cut
 * into documents at each 0x1e byte (at most 64). Checked for every document i: its
 * representative r = keep_of[i] is not later (r <= i) and is kept (keep_of[r] == r); a
 * document without shingles keeps itself; with stars, r == i or the two signatures
 * agree at >= the threshold (on the 8 bits of each value the index keeps). */
#include <stdlib.h>
#include <string.h>

#include "data/minhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    minhash_params p;
    minhash_params_default(&p);
    p.kind = (data[0] & 1) ? MINHASH_CHARS : MINHASH_WORDS;
    p.cluster = (data[0] & 2) ? MINHASH_COMPONENTS : MINHASH_STARS;
    p.n = 1 + (data[0] >> 2) % 8;
    p.threshold = data[1] / 255.0;
    const char *docs[MAX_DOCS];
    size_t lens[MAX_DOCS], n = 0, start = 2;
    for (size_t i = 2; i <= size && n < MAX_DOCS; i++) {
        if (i == size || data[i] == 0x1e) {
            docs[n] = (const char *)data + start;
            lens[n++] = i - start;
            start = i + 1;
        }
    }
    uint32_t keep[MAX_DOCS];
    size_t dropped;
    dk_err err;
    if (minhash_dedupe(&p, docs, lens, n, NULL, keep, &dropped, &err) != 0)
        abort();
    minhash *m = minhash_new(&p, &err);
    if (!m)
        abort();
    int h = minhash_hashes(m);
    static uint32_t sig_i[MINHASH_MAX_HASHES], sig_r[MINHASH_MAX_HASHES];
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = keep[i];
        if (r > i || keep[r] != r)
            abort();
        count += r != i;
        size_t shingles = minhash_signature(m, docs[i], lens[i], sig_i);
        if (shingles == 0 && r != i)
            abort();
        if (p.cluster == MINHASH_STARS && r != i) {
            minhash_signature(m, docs[r], lens[r], sig_r);
            int same = 0; /* on the 8 bits the index keeps */
            for (int k = 0; k < h; k++)
                same += minhash_kept_bits(sig_i[k], k) == minhash_kept_bits(sig_r[k], k);
            if ((double)same / h + 1e-9 < p.threshold)
                abort();
        }
    }
    if (count != dropped)
        abort();
    minhash_free(m);
    return 0;
}
