/* rng.c: see rng.h. */
#include "util/rng.h"

#include <math.h>

double rng_normal(uint64_t key, uint64_t index)
{
    uint64_t a = rng_u64(key, 2 * index), b = rng_u64(key, 2 * index + 1);
    double u1 = ((double)(a >> 11) + 1.0) * 0x1.0p-53;
    double u2 = rng_unit(b);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
