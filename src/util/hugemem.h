/* hugemem.h: large buffers backed by transparent huge pages.
 *
 * Decoding streams every weight once per token, so it runs at memory bandwidth; on
 * this machine a read of a 1 GiB buffer runs about twice as fast from 2 MiB pages
 * as from 4 KiB pages (fewer TLB misses for the hardware prefetcher to stall on).
 * The kernel's THP mode here is "madvise", so the buffer must ask for them. */
#ifndef DK_UTIL_HUGEMEM_H
#define DK_UTIL_HUGEMEM_H

#include <stddef.h>

/* A zeroed buffer of n bytes, 2 MiB-aligned, advised MADV_HUGEPAGE; free with free().
 * NULL when out of memory. */
void *hugemem_alloc(size_t n);

#endif
