/* test_rng.c: util/rng.h's generators keep their sequences (model initialisation,
 * surgery, the lineage baselines and the benchmarks' inputs are defined by them). */
#include <math.h>

#include "test.h"
#include "util/rng.h"

TEST(rng_splitmix64_is_the_published_sequence)
{
    uint64_t s = 0; /* the reference outputs of splitmix64 from state 0 */
    CHECK(rng_splitmix64(&s) == 0xe220a8397b1dcdafULL);
    CHECK(rng_splitmix64(&s) == 0x6e789e6aa1b965f4ULL);
    CHECK(rng_splitmix64(&s) == 0x06c45d188009454fULL);
    s = 1;
    CHECK(rng_mix(1) == rng_splitmix64(&s));
    CHECK(rng_mix(1) == 0x910a2dec89025cc1ULL);
}

TEST(rng_u64_is_a_pure_function_of_key_and_counter)
{
    for (uint64_t c = 0; c < 1000; c++) {
        CHECK(rng_u64(7, c) == rng_mix(7 ^ rng_mix(c)));
        CHECK(rng_u64(7, c) != rng_u64(8, c));
    }
    CHECK(rng_unit(0) == 0.0);
    CHECK(rng_unit(UINT64_MAX) < 1.0);
}

TEST(rng_normal_keeps_its_values_and_is_standard)
{
    /* values of params_normal, the generator params_init has always used */
    CHECK(rng_normal(12345, 0) == 0x1.1271eef5dad84p+0);
    CHECK(rng_normal(12345, 1) == -0x1.889fab64988ddp-1);
    CHECK(rng_normal(12345, 2) == 0x1.0606ab623947fp-5);
    CHECK(rng_normal(0, 1000000) == 0x1.41d0c88cad565p-2);
    double sum = 0, sum2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(99, (uint64_t)i);
        sum += x, sum2 += x * x;
    }
    CHECK_MSG(fabs(sum / n) < 0.01 && fabs(sum2 / n - 1) < 0.02, "mean %g, mean square %g", sum / n,
              sum2 / n);
}

TEST(rng_lcg31_is_the_mmix_lcg)
{
    uint64_t s = 0;
    CHECK_EQ(rng_lcg31(&s), 167951807u);
    CHECK_EQ(rng_lcg31(&s), 218396424u);
    CHECK_EQ(rng_lcg31(&s), 1299921937u);
    s = 0x243F6A8885A308D3ULL; /* the lineage norm baseline's seed */
    CHECK_EQ(rng_lcg31(&s), 1400759218u);
    CHECK_EQ(rng_lcg31(&s), 756983457u);
    CHECK_EQ(rng_lcg31(&s), 708208234u);
}
