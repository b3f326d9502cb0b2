/* membw.h: this machine's measured memory read bandwidth, the denominator of a
 * decoding benchmark (decoding one token reads every weight once, so its speed is
 * bandwidth, not arithmetic). Measured, not looked up: machines are shared. */
#ifndef DK_KERNELS_MEMBW_H
#define DK_KERNELS_MEMBW_H

#include <stddef.h>

#include "util/pool.h"

/* GB/s (1e9 bytes) of reading a `bytes` buffer on every thread of p (each thread a
 * contiguous slice, AVX-512 loads when available), the best of `rounds` passes.
 * huge: back the buffer with transparent huge pages (madvise), else forbid them.
 * Returns 0 when the buffer cannot be allocated. */
double membw_read_gbs(pool *p, size_t bytes, int huge, int rounds);

#endif
