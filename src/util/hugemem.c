/* hugemem.c: see hugemem.h. */
#include "util/hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

/* n rounded up to whole huge pages, at least one */
static size_t huge_rounded(size_t n)
{
    size_t r = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    return r ? r : HUGE_PAGE;
}

void *hugemem_alloc_raw(size_t n)
{
    size_t rounded = huge_rounded(n);
    void *p = aligned_alloc(HUGE_PAGE, rounded);
    if (!p)
        return NULL;
    /* advice only: without THP the buffer still works, on small pages */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
    return p;
}

void *hugemem_alloc(size_t n)
{
    void *p = hugemem_alloc_raw(n);
    if (p)
        memset(p, 0, huge_rounded(n));
    return p;
}

void hugemem_advise(void *p, size_t n)
{
    if (!p || n < 2 * HUGE_PAGE)
        return;
    uintptr_t b = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
}

int hugemem_vec_reserve(hugemem_vec *v, size_t bytes)
{
    if (bytes <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 4096;
    while (cap < bytes) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    if (HUGEMEM_VEC_MALLOC) {
        uint8_t *q = realloc(v->p, cap);
        if (!q)
            return -1;
        memset(q + v->cap, 0, cap - v->cap);
        v->p = q;
        v->cap = cap;
        return 0;
    }
    /* Advice always on the whole mapping, not its aligned interior as hugemem_advise
     * would: advice on a part splits the mapping in two or three, and mremap refuses a
     * range that spans more than one (EFAULT): the next growth would fail as if out of
     * memory. */
    void *p = v->p ? mremap(v->p, v->cap, cap, MREMAP_MAYMOVE) : MAP_FAILED;
    if (p != MAP_FAILED) {
        (void)madvise(p, cap, MADV_HUGEPAGE);
    } else { /* the first time, or mremap refused (an emulator): map and copy */
        p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        (void)madvise(p, cap, MADV_HUGEPAGE); /* before the copy touches it */
        if (v->p) {
            memcpy(p, v->p, v->cap);
            munmap(v->p, v->cap);
        }
    }
    v->p = p;
    v->cap = cap;
    return 0;
}

void hugemem_vec_free(hugemem_vec *v)
{
    if (v->p && HUGEMEM_VEC_MALLOC)
        free(v->p);
    else if (v->p)
        munmap(v->p, v->cap);
    v->p = NULL;
    v->cap = 0;
}
