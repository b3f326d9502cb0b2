/* mask.h: the AVX-512 lane mask of the first n of 16 lanes (n <= 0: none, n >= 16:
 * all), for the tails of every vector loop in kernels/. */
#ifndef DK_KERNELS_MASK_H
#define DK_KERNELS_MASK_H

#include <immintrin.h>

static inline __mmask16 mask16(int n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

#endif
