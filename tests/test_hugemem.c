/* test_hugemem.c: util/hugemem.h's growable buffer keeps its contents while it moves
 * (mremap), gives zeroes where it grew, and refuses an impossible size. */
#include <stdint.h>

#include "test.h"
#include "util/hugemem.h"

TEST(hugemem_vec_grows_in_place_keeping_contents_and_zeroing_the_rest)
{
    hugemem_vec v = {0};
    CHECK_EQ(hugemem_vec_reserve(&v, 0), 0); /* nothing asked: nothing mapped */
    CHECK(v.p == NULL);
    CHECK_EQ(hugemem_vec_reserve(&v, 100), 0);
    CHECK(v.p != NULL && v.cap >= 100);
    for (size_t i = 0; i < 100; i++) /* the pattern: 0xAB ^ (i % 7) */
        ((uint8_t *)v.p)[i] = (uint8_t)(0xAB ^ (i % 7));
    /* through the 4 MiB at which huge pages are asked for, to 24 MiB */
    size_t sizes[] = {5000, 1 << 20, 5u << 20, 24u << 20};
    size_t filled = 100;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        CHECK_EQ(hugemem_vec_reserve(&v, sizes[s]), 0);
        CHECK(v.cap >= sizes[s]);
        const uint8_t *p = v.p;
        size_t bad = 0;
        for (size_t i = 0; i < filled; i++)
            bad += p[i] != (uint8_t)(0xAB ^ (i % 7));
        for (size_t i = filled; i < v.cap; i++)
            bad += p[i] != 0;
        CHECK_MSG(bad == 0, "%zu wrong bytes after growing to %zu", bad, sizes[s]);
        for (size_t i = filled; i < sizes[s]; i++)
            ((uint8_t *)v.p)[i] = (uint8_t)(0xAB ^ (i % 7));
        filled = sizes[s];
    }
    size_t cap = v.cap;
    CHECK_EQ(hugemem_vec_reserve(&v, cap - 1), 0); /* already room: unchanged */
    CHECK_EQ(v.cap, cap);
    CHECK_EQ(hugemem_vec_reserve(&v, SIZE_MAX), -1); /* cannot double that far */
    CHECK_EQ(v.cap, cap);
    CHECK(((uint8_t *)v.p)[filled - 1] == (uint8_t)(0xAB ^ ((filled - 1) % 7))); /* a failed grow keeps it */
    hugemem_vec_free(&v);
    CHECK(v.p == NULL && v.cap == 0);
    hugemem_vec_free(&v); /* twice: harmless */
}
