/* test_hash.c: hash_bytes, whose values are stored (signature files keep document
 * hashes; the validation split is a hash range), so no rewrite may change them. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/hash.h"
#include "util/rng.h"

/* hash_bytes as first written: the tail copied byte by byte into a zeroed word. */
static uint64_t mix_ref(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_bytes_ref(const uint8_t *p, size_t n)
{
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
    uint64_t h = 0x8ebc6af09c88c6e3ULL ^ (uint64_t)n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = v << 8 | p[i];
        h = mix_ref(h ^ v, k1);
    }
    if (n) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;)
            v = v << 8 | p[i];
        h = mix_ref(h ^ v, k0);
    }
    return mix_ref(h, k0 ^ k1);
}

TEST(hash_bytes_keeps_its_values_for_every_length_and_reads_no_byte_past_the_end)
{
    uint64_t s = 7;
    int same = 1;
    for (size_t n = 0; n <= 80; n++)
        for (int rep = 0; rep < 50; rep++) {
            /* exactly n bytes on the heap: under ASan a read past them is an error */
            uint8_t *buf = malloc(n ? n : 1);
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(rng_splitmix64(&s) >> (rep % 3 == 0 ? 63 : 56)); /* 0/1 bytes too */
            uint64_t got = hash_bytes(buf, n), want = hash_bytes_ref(buf, n);
            if (got != want) {
                printf("    n=%zu: %016llx, want %016llx\n", n, (unsigned long long)got, (unsigned long long)want);
                same = 0;
            }
            free(buf);
        }
    CHECK(same);
    /* and two fixed inputs, so a failure names something short */
    CHECK_EQ(hash_bytes("", 0), hash_bytes_ref((const uint8_t *)"", 0));
    CHECK_EQ(hash_bytes("dokja", 5), hash_bytes_ref((const uint8_t *)"dokja", 5));
}
