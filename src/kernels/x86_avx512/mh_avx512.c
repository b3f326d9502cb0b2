/* mh_avx512.c: MinHash's shingle hashing (kern_ops.h: mh_mix, mh_shingles,
 * mh_keep_bits) 8 lanes at a time with AVX-512DQ's 64-bit multiply; tails under a
 * mask. Integers: the same values as generic/mh_generic.c. A character 5-shingle costs
 * about ten 64-bit multiplies (mixing its unit, the polynomial, two finalisers, the
 * bin), which one at a time made MinHash about a quarter of `dokja data build`. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing */
#include "kernels/x86_avx512/avx512.h"

#include <immintrin.h>

#define MH_TARGET __attribute__((target("avx512f,avx512dq")))

/* hash_u64 (util/hash.h: the splitmix64 finaliser) of each lane */
MH_TARGET __attribute__((always_inline)) static inline __m512i mix8(__m512i x)
{
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL));
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64((long long)0x94d049bb133111ebULL));
    return _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
}

MH_TARGET static inline __mmask8 lanes(size_t left) { return left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1); }

MH_TARGET void avx512_mh_mix(uint64_t *u, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 k = lanes(n - i);
        _mm512_mask_storeu_epi64(u + i, k, mix8(_mm512_maskz_loadu_epi64(k, u + i)));
    }
}

MH_TARGET void avx512_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out)
{
    uint64_t pw[MH_MAX_W];
    if (mh_roll_powers(pw, w) != 0) {
        generic_mh_shingles(hu, m, w, key, h, out);
        return;
    }
    const __m512i wv = _mm512_set1_epi64(w), kv = _mm512_set1_epi64((long long)key);
    const __m512i hv = _mm512_set1_epi64(h), lo32 = _mm512_set1_epi64(0xFFFFFFFFLL);
    for (size_t i = 0; i < m; i += 8) {
        __mmask8 k = lanes(m - i); /* lanes past m would read past the window's units */
        __m512i s = _mm512_maskz_loadu_epi64(k, hu + i + w - 1); /* B^0 */
        for (int j = 0; j < w - 1; j++)
            s = _mm512_add_epi64(s, _mm512_mullo_epi64(_mm512_maskz_loadu_epi64(k, hu + i + j),
                                                       _mm512_set1_epi64((long long)pw[j])));
        s = mix8(_mm512_add_epi64(s, wv));
        if (h) {
            __m512i x = mix8(_mm512_xor_si512(s, kv));
            __m512i bin = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(x, 32), hv), 32);
            s = _mm512_or_si512(_mm512_slli_epi64(bin, 32), _mm512_and_si512(x, lo32));
        }
        _mm512_mask_storeu_epi64(out + i, k, s);
    }
}

MH_TARGET void avx512_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out)
{
    __m512i pos = _mm512_slli_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), 32);
    const __m512i step = _mm512_set1_epi64(8LL << 32);
    for (size_t i = 0; i < n; i += 8, pos = _mm512_add_epi64(pos, step)) {
        __mmask8 k = lanes(n - i);
        __m512i x = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(_mm512_maskz_loadu_epi32((__mmask16)k, v + i)));
        x = _mm512_srli_epi64(mix8(_mm512_or_si512(x, pos)), 56);
        _mm512_mask_cvtepi64_storeu_epi8(out + i, k, x);
    }
}

/* 16 bins at a time: each one's source bin (its own, or the one its probes found),
 * two 8-lane gathers of the 64-bit bins, narrowed to 32 bits */
MH_TARGET uint32_t avx512_mh_pick(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h,
                                  uint32_t *sig)
{
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i lo8 = _mm512_set1_epi32(0xFF), none = _mm512_set1_epi32(0xFFFF);
    __mmask16 missed = 0;
    for (size_t i = 0; i < h; i += 16) {
        __mmask16 k = h - i >= 16 ? 0xFFFF : (__mmask16)((1u << (h - i)) - 1);
        __m512i f = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(full + i)));
        __m512i b = _mm512_loadu_si512(best + i);
        __mmask16 own = _mm512_test_epi32_mask(f, f);
        __m512i idx = _mm512_mask_blend_epi32(own, _mm512_and_si512(b, lo8),
                                              _mm512_add_epi32(iota, _mm512_set1_epi32((int)i)));
        missed |= _mm512_mask_cmpeq_epi32_mask(k & (__mmask16)~own, _mm512_srli_epi32(b, 8), none);
        __m512i v0 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)k,
                                                 _mm512_castsi512_si256(idx), bins, 8);
        __m512i v1 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)(k >> 8),
                                                 _mm512_extracti64x4_epi64(idx, 1), bins, 8);
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(v0)), _mm512_cvtepi64_epi32(v1), 1);
        _mm512_mask_storeu_epi32(sig + i, k, v);
    }
    return missed != 0;
}

#endif /* __x86_64__ */
