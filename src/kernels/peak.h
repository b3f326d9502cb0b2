/* peak.h: this machine's measured fp32 FMA peak, the denominator of MFU.
 *
 * Benchmarks measure the peak themselves, on the threads they run with, rather than
 * trusting a datasheet: the machines are shared and clocks vary. */
#ifndef DK_KERNELS_PEAK_H
#define DK_KERNELS_PEAK_H

#include "util/pool.h"

/* GFLOP/s of a register-only FMA loop (12 independent accumulators, zmm when the CPU
 * has AVX-512F, else ymm with FMA3) run on every thread of p for about `seconds`
 * (the fastest of 5 rounds: other work on a shared machine only ever slows the loop, so
 * a median understates the peak and flatters MFU). *isa receives "avx512" or "avx2". */
double peak_fma_gflops(pool *p, double seconds, const char **isa);

#endif
