/* utf8_avx2.c: UTF-8 validation (kern_ops.h: utf8_valid) 32 bytes at a time, by the
 * lookups of kernels/utf8_lookup.h; a block of ASCII costs one test. Once a block
 * flags an error, the exact offset comes from the scalar decoder (utf8_error_from).
 * The scalar validator was 4 % of a data build's time on Korean text, where nearly
 * every byte takes its slow path. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing */
#include <immintrin.h>
#include <string.h>

#include "kernels/generic/generic.h"
#include "kernels/utf8_lookup.h"
#include "kernels/x86_avx2/avx2.h"

#define U8_TARGET __attribute__((target("avx2")))

/* in shifted by n bytes toward the end, prev's last n bytes in front */
#define PREV(in, prev, n) _mm256_alignr_epi8((in), _mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

U8_TARGET static inline __m256i table(const uint8_t t[16])
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

typedef struct {
    __m256i b1h, b1l, b2h, nib, max_end;
} u8_tables;

/* The errors of block in (prev: the block before it, zero at the start). */
U8_TARGET static inline __m256i block_errors(const u8_tables *t, __m256i in, __m256i prev)
{
    __m256i prev1 = PREV(in, prev, 1);
    __m256i hi1 = _mm256_and_si256(_mm256_srli_epi16(prev1, 4), t->nib);
    __m256i lo1 = _mm256_and_si256(prev1, t->nib);
    __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(in, 4), t->nib);
    __m256i sc = _mm256_and_si256(_mm256_and_si256(_mm256_shuffle_epi8(t->b1h, hi1), _mm256_shuffle_epi8(t->b1l, lo1)),
                                  _mm256_shuffle_epi8(t->b2h, hi2));
    /* a byte two back >= 0xE0 or three back >= 0xF0 calls for a continuation here */
    __m256i third = _mm256_subs_epu8(PREV(in, prev, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(PREV(in, prev, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must, sc);
}

U8_TARGET size_t avx2_utf8_valid(const uint8_t *s, size_t n)
{
    u8_tables t = {table(U8_BYTE_1_HIGH), table(U8_BYTE_1_LOW), table(U8_BYTE_2_HIGH), _mm256_set1_epi8(0x0F),
                   _mm256_loadu_si256((const __m256i *)(U8_MAX_END + 32))};
    __m256i prev = _mm256_setzero_si256(), incomplete = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(s + i)), err;
        if (_mm256_movemask_epi8(in) == 0) {
            err = incomplete; /* ASCII: only the last block's unfinished character */
            incomplete = _mm256_setzero_si256();
        } else {
            err = block_errors(&t, in, prev);
            incomplete = _mm256_subs_epu8(in, t.max_end);
        }
        prev = in;
        if (!_mm256_testz_si256(err, err))
            return utf8_error_from(s, n, i);
    }
    __m256i err = incomplete;
    if (i < n) { /* the tail, zero-padded: zeros are ASCII and end any character */
        uint8_t pad[32] = {0};
        memcpy(pad, s + i, n - i);
        err = block_errors(&t, _mm256_loadu_si256((const __m256i *)pad), prev);
    }
    if (_mm256_testz_si256(err, err))
        return n;
    return utf8_error_from(s, n, i);
}

#endif
