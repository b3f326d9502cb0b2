/* utf8_lookup.h: the three 16-entry tables of the vector UTF-8 validators
 * (x86_avx2/utf8_avx2.c, x86_avx512/utf8_avx512.c), from Keiser and Lemire,
 * "Validating UTF-8 in less than one instruction per byte" (2021), as simdjson and
 * simdutf use them. Internal to kernels/.
 *
 * Each byte pair (previous byte, this byte) is classified by three lookups: the high
 * nibble of the previous byte, its low nibble, the high nibble of this byte. Each
 * table entry is the set of error kinds that nibble allows; their AND is the set of
 * errors the pair shows. One kind is not an error of the pair alone: a continuation
 * byte after a continuation (TWO_CONTS) is right exactly when the byte two or three
 * back is a 3- or 4-byte lead, which the caller checks apart and XORs in. */
#ifndef DK_KERNELS_UTF8_LOOKUP_H
#define DK_KERNELS_UTF8_LOOKUP_H

#include <stdint.h>

enum {
    U8_TOO_SHORT = 1 << 0,  /* 11______ then 0_______ or 11______ */
    U8_TOO_LONG = 1 << 1,   /* 0_______ then 10______ */
    U8_OVERLONG_3 = 1 << 2, /* 11100000 100_____ */
    U8_TOO_LARGE = 1 << 3,  /* 11110100 1001____ and above */
    U8_SURROGATE = 1 << 4,  /* 11101101 101_____ */
    U8_OVERLONG_2 = 1 << 5, /* 1100000_ 10______ */
    U8_TOO_LARGE_1000 = 1 << 6, /* 11110101 1000____ and above ... */
    U8_OVERLONG_4 = 1 << 6, /* ... and 11110000 1000____: the same bit */
    U8_TWO_CONTS = 1 << 7,  /* 10______ 10______ */
    U8_CARRY = U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS,
};

/* by the previous byte's high nibble */
static const uint8_t U8_BYTE_1_HIGH[16] = {
    U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
    U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
    U8_TOO_SHORT | U8_OVERLONG_2,
    U8_TOO_SHORT,
    U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
    U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
};

/* by the previous byte's low nibble */
static const uint8_t U8_BYTE_1_LOW[16] = {
    U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4,
    U8_CARRY | U8_OVERLONG_2,
    U8_CARRY,
    U8_CARRY,
    U8_CARRY | U8_TOO_LARGE,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
};

/* by this byte's high nibble */
static const uint8_t U8_BYTE_2_HIGH[16] = {
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
};

/* The largest byte that needs no byte after it, for each place of a 64-byte block
 * (a 32-byte block: the last 32): a lead byte in the last three places wants bytes
 * past the block, which the next block must bring. */
static const uint8_t U8_MAX_END[64] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
};

#endif
