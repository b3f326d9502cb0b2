/* mh_avx2.c: MinHash's shingle hashing (kern_ops.h: mh_mix, mh_shingles,
 * mh_keep_bits) 4 lanes at a time. AVX2 has no 64-bit multiply: a product by a
 * constant is three 32 x 32 -> 64 multiplies (the high x high part falls off mod 2^64).
 * Tails go to the plain C definition. Integers: the same values on every path. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing */
#include "kernels/x86_avx2/avx2.h"
#include "kernels/generic/generic.h"

#define MH_TARGET __attribute__((target("avx2")))

/* a c mod 2^64 in each lane, c given as its 32-bit halves */
MH_TARGET __attribute__((always_inline)) static inline __m256i mul_c(__m256i a, __m256i c_lo, __m256i c_hi)
{
    __m256i lo = _mm256_mul_epu32(a, c_lo);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo), _mm256_mul_epu32(a, c_hi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

MH_TARGET __attribute__((always_inline)) static inline __m256i mul_k(__m256i a, uint64_t c)
{
    return mul_c(a, _mm256_set1_epi64x((long long)(c & 0xFFFFFFFFu)), _mm256_set1_epi64x((long long)(c >> 32)));
}

/* hash_u64 (util/hash.h: the splitmix64 finaliser) of each lane */
MH_TARGET __attribute__((always_inline)) static inline __m256i mix4(__m256i x)
{
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 30));
    x = mul_k(x, 0xbf58476d1ce4e5b9ULL);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 27));
    x = mul_k(x, 0x94d049bb133111ebULL);
    return _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
}

MH_TARGET void avx2_mh_mix(uint64_t *u, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_si256((__m256i *)(u + i), mix4(_mm256_loadu_si256((const __m256i *)(u + i))));
    generic_mh_mix(u + i, n - i);
}

MH_TARGET void avx2_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out)
{
    uint64_t pw[MH_MAX_W];
    if (mh_roll_powers(pw, w) != 0) {
        generic_mh_shingles(hu, m, w, key, h, out);
        return;
    }
    const __m256i wv = _mm256_set1_epi64x(w), kv = _mm256_set1_epi64x((long long)key);
    const __m256i hv = _mm256_set1_epi64x(h), lo32 = _mm256_set1_epi64x(0xFFFFFFFFLL);
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
        __m256i s = _mm256_loadu_si256((const __m256i *)(hu + i + w - 1));
        for (int j = 0; j < w - 1; j++)
            s = _mm256_add_epi64(s, mul_k(_mm256_loadu_si256((const __m256i *)(hu + i + j)), pw[j]));
        s = mix4(_mm256_add_epi64(s, wv));
        if (h) {
            __m256i x = mix4(_mm256_xor_si256(s, kv));
            __m256i bin = _mm256_srli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), hv), 32);
            s = _mm256_or_si256(_mm256_slli_epi64(bin, 32), _mm256_and_si256(x, lo32));
        }
        _mm256_storeu_si256((__m256i *)(out + i), s);
    }
    generic_mh_shingles(hu + i, m - i, w, key, h, out + i);
}

MH_TARGET void avx2_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out)
{
    __m256i pos = _mm256_slli_epi64(_mm256_setr_epi64x(0, 1, 2, 3), 32);
    const __m256i step = _mm256_set1_epi64x(4LL << 32);
    /* byte 0 of each 64-bit lane to bytes 0, 1 of its 128-bit half */
    const __m256i pick = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    size_t i = 0;
    for (; i + 4 <= n; i += 4, pos = _mm256_add_epi64(pos, step)) {
        __m256i x = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(v + i)));
        x = _mm256_shuffle_epi8(_mm256_srli_epi64(mix4(_mm256_or_si256(x, pos)), 56), pick);
        uint16_t a = (uint16_t)_mm256_extract_epi16(x, 0), b = (uint16_t)_mm256_extract_epi16(x, 8);
        out[i] = (uint8_t)a;
        out[i + 1] = (uint8_t)(a >> 8);
        out[i + 2] = (uint8_t)b;
        out[i + 3] = (uint8_t)(b >> 8);
    }
    generic_mh_keep_bits_from(v, i, n, out);
}

#endif /* __x86_64__ */
