/* hugemem.c: see hugemem.h. */
#include "util/hugemem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *hugemem_alloc(size_t n)
{
    size_t rounded = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (rounded == 0)
        rounded = HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, rounded);
    if (!p)
        return NULL;
    /* advice only: without THP the buffer still works, on small pages */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
    memset(p, 0, rounded);
    return p;
}
