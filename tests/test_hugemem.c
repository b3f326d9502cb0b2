/* test_hugemem.c: util/hugemem.h's growable buffer keeps its contents while it moves
 * (mremap), gives zeroes where it grew, and refuses an impossible size. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

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

/* How many of /proc/self/maps' mappings [p, p + n) overlaps; -1 if unreadable. */
static int mappings_over(const void *p, size_t n)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    uintptr_t b = (uintptr_t)p, e = b + n, lo, hi;
    int k = 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < e && hi > b)
            k++;
    fclose(f);
    return k;
}

TEST(hugemem_vec_stays_one_mapping_so_that_it_can_keep_growing)
{
    if (HUGEMEM_VEC_MALLOC)
        return; /* an ASan build: plain realloc'd memory, no mapping of its own */
    /* Advice on only the 2 MiB-aligned inside of an unaligned mapping split it in three,
     * and mremap refuses a range over several mappings (EFAULT): a build's index failed
     * to grow past 470 MB, now and then, as "out of memory". The kernel places a growing
     * mapping where it can, aligned or not; here it starts 4 KiB past a 2 MiB boundary
     * (a mapping of the test's own, as hugemem_vec_reserve would have made it), and must
     * grow twice and stay one mapping. */
    size_t n = (size_t)8 << 20;
    void *want_at = (void *)(uintptr_t)0x7e0000201000ULL;
    void *p = mmap(want_at, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    ((uint8_t *)p)[12345] = 77;
    hugemem_vec v = {p, n};
    for (size_t grow = n * 2; grow <= n * 8; grow *= 2) {
        CHECK_MSG(hugemem_vec_reserve(&v, grow) == 0, "growing to %zu bytes from %p", grow, v.p);
        int k = mappings_over(v.p, v.cap);
        CHECK_MSG(k == 1 || k == -1, "%zu bytes at %p: %d mappings", v.cap, v.p, k);
    }
    CHECK_EQ(((uint8_t *)v.p)[12345], 77);
    hugemem_vec_free(&v);
}
