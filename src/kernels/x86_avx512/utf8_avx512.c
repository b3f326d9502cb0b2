/* utf8_avx512.c: UTF-8 validation (kern_ops.h: utf8_valid) 64 bytes at a time, by the
 * lookups of kernels/utf8_lookup.h (AVX-512BW); a block of ASCII costs one test and
 * the tail is a masked load. Once a block flags an error, the exact offset comes from
 * the scalar decoder (utf8_error_from). Same offsets as x86_avx2/utf8_avx2.c. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing */
#include <immintrin.h>

#include "kernels/utf8_lookup.h"
#include "kernels/x86_avx512/avx512.h"

#define U8_TARGET __attribute__((target("avx512f,avx512bw")))

/* in shifted by n bytes toward the end, prev's last n bytes in front: the 128-bit
 * lanes moved up by one (prev's top lane first), then a byte shift within lanes */
#define PREV(in, up, n) _mm512_alignr_epi8((in), (up), 16 - (n))

U8_TARGET static inline __m512i table(const uint8_t t[16])
{
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t));
}

typedef struct {
    __m512i b1h, b1l, b2h, nib, max_end, lanes_up;
} u8_tables;

U8_TARGET static inline __m512i block_errors(const u8_tables *t, __m512i in, __m512i prev)
{
    __m512i up = _mm512_permutex2var_epi64(prev, t->lanes_up, in);
    __m512i prev1 = PREV(in, up, 1);
    __m512i hi1 = _mm512_and_si512(_mm512_srli_epi16(prev1, 4), t->nib);
    __m512i lo1 = _mm512_and_si512(prev1, t->nib);
    __m512i hi2 = _mm512_and_si512(_mm512_srli_epi16(in, 4), t->nib);
    __m512i sc = _mm512_ternarylogic_epi32(_mm512_shuffle_epi8(t->b1h, hi1), _mm512_shuffle_epi8(t->b1l, lo1),
                                           _mm512_shuffle_epi8(t->b2h, hi2), 0x80); /* a & b & c */
    __m512i third = _mm512_subs_epu8(PREV(in, up, 2), _mm512_set1_epi8((char)(0xE0 - 0x80)));
    __m512i fourth = _mm512_subs_epu8(PREV(in, up, 3), _mm512_set1_epi8((char)(0xF0 - 0x80)));
    __m512i must = _mm512_and_si512(_mm512_or_si512(third, fourth), _mm512_set1_epi8((char)0x80));
    return _mm512_xor_si512(must, sc);
}

U8_TARGET size_t avx512_utf8_valid(const uint8_t *s, size_t n)
{
    u8_tables t;
    t.b1h = table(U8_BYTE_1_HIGH);
    t.b1l = table(U8_BYTE_1_LOW);
    t.b2h = table(U8_BYTE_2_HIGH);
    t.nib = _mm512_set1_epi8(0x0F);
    t.max_end = _mm512_loadu_si512(U8_MAX_END);
    t.lanes_up = _mm512_set_epi64(13, 12, 11, 10, 9, 8, 7, 6); /* prev's lane 3, then in's lanes 0-2 */
    __m512i prev = _mm512_setzero_si512(), incomplete = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i in = _mm512_loadu_si512(s + i), err;
        if (_mm512_movepi8_mask(in) == 0) {
            err = incomplete;
            incomplete = _mm512_setzero_si512();
        } else {
            err = block_errors(&t, in, prev);
            incomplete = _mm512_subs_epu8(in, t.max_end);
        }
        prev = in;
        if (_mm512_test_epi8_mask(err, err))
            return utf8_error_from(s, n, i);
    }
    __m512i err = incomplete;
    if (i < n) /* the tail, zero-filled by the masked load: zeros are ASCII */
        err = block_errors(&t, _mm512_maskz_loadu_epi8(~(__mmask64)0 >> (64 - (n - i)), s + i), prev);
    if (_mm512_test_epi8_mask(err, err))
        return utf8_error_from(s, n, i);
    return n;
}

#endif
