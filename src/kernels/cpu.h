/* cpu.h: what this CPU can run, asked once (the kernels pick their paths by it). */
#ifndef DK_KERNELS_CPU_H
#define DK_KERNELS_CPU_H

int cpu_has_avx512f(void);

#endif
