/* peak.h: this machine's measured fp32 FMA peak, the denominator of MFU.
 *
 * Benchmarks measure the peak themselves, on the threads they run with, rather than
 * trusting a datasheet: the machines are shared and clocks vary. */
#ifndef DK_KERNELS_PEAK_H
#define DK_KERNELS_PEAK_H

#include "util/pool.h"

/* GFLOP/s of a register-only FMA loop (12 independent accumulators, zmm on the AVX-512
 * path, ymm with FMA3 on AVX2; on the generic path the best path the CPU has, the peak
 * portable code is measured against) run on every thread of p for about `seconds`
 * (the fastest of 5 rounds: other work on a shared machine only ever slows the loop, so
 * a median understates the peak and flatters MFU). *isa receives the path's name. */
double peak_fma_gflops(pool *p, double seconds, const char **isa);

#endif
