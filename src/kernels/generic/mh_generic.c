/* mh_generic.c: MinHash's shingle hashing (kern_ops.h: mh_mix, mh_shingles,
 * mh_keep_bits) in plain C, one element at a time: the definition the vector paths
 * reproduce exactly (integers) and their tails. */
#include "kernels/generic/generic.h"
#include "util/hash.h"

void generic_mh_mix(uint64_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        u[i] = hash_u64(u[i]);
}

void generic_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out)
{
    if (m == 0)
        return;
    /* the first window by Horner's rule, then rolled: add the unit entering, take off
     * the one leaving times B^w (two multiplies a shingle instead of w) */
    uint64_t bw = 1, s = 0;
    for (int j = 0; j < w; j++) {
        bw *= MH_ROLL_B;
        s = s * MH_ROLL_B + hu[j];
    }
    for (size_t i = 0;; i++) {
        uint64_t x = hash_u64(s + (uint64_t)w);
        if (h) {
            uint64_t y = hash_u64(x ^ key);
            x = (((y >> 32) * (uint64_t)h) >> 32) << 32 | (uint32_t)y;
        }
        out[i] = x;
        if (i + 1 == m)
            break;
        s = s * MH_ROLL_B + hu[i + (size_t)w] - hu[i] * bw;
    }
}

void generic_mh_keep_bits_from(const uint32_t *v, size_t first, size_t n, uint8_t *out)
{
    for (size_t k = first; k < n; k++)
        out[k] = mh_kept_bits(v[k], k);
}

void generic_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out) { generic_mh_keep_bits_from(v, 0, n, out); }

uint32_t generic_mh_pick(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h, uint32_t *sig)
{
    uint32_t missed = 0;
    for (size_t i = 0; i < h; i++) { /* no branch on full[i]: it is a coin toss */
        uint32_t keep = 0u - (uint32_t)full[i];
        sig[i] = (uint32_t)bins[((uint32_t)i & keep) | (best[i] & 0xFF & ~keep)];
        missed |= ~keep & (uint32_t)(best[i] >> 8 == 0xFFFF);
    }
    return missed;
}
