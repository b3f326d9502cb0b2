/* cpu.c: see cpu.h. */
#include "kernels/cpu.h"

int cpu_has_avx512f(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") != 0;
    }
    return cached;
}
