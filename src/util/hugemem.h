/* hugemem.h: large buffers backed by transparent huge pages.
 *
 * Decoding streams every weight once per token, so it runs at memory bandwidth; on
 * this machine a read of a 1 GiB buffer runs about twice as fast from 2 MiB pages
 * as from 4 KiB pages (fewer TLB misses for the hardware prefetcher to stall on).
 * The kernel's THP mode here is "madvise", so the buffer must ask for them. */
#ifndef DK_UTIL_HUGEMEM_H
#define DK_UTIL_HUGEMEM_H

#include <stddef.h>

/* Asks for huge pages over the whole 2 MiB pages inside [p, p + n) of a buffer from
 * malloc or realloc, before its first touch. Why: a page fault costs about 10 us in
 * these VMs (a first touch of 300 MB of 4 KiB pages: 0.74 s; of 2 MiB pages: 0.02 s),
 * so a build that fills a few hundred MB of arrays once spends a sixth of its time in
 * faults. Below 4 MiB it does nothing (a partial huge page would cost more RSS than
 * it saves). Advice only: where THP is off, the buffer stays on small pages. */
void hugemem_advise(void *p, size_t n);

/* A growable buffer that never copies: its own mapping, grown by mremap (the pages
 * move with their contents, none is touched), on huge pages. Why: an array grown by
 * realloc is copied at each doubling (glibc copies blocks below its mmap threshold),
 * and every copy touches fresh pages: two thirds of a data build's page faults came
 * from the near-duplicate index's growth. */
typedef struct {
    void *p;    /* NULL until the first reserve */
    size_t cap; /* bytes mapped */
} hugemem_vec;

/* Under AddressSanitizer the buffer is plain realloc'd memory instead, so that ASan
 * still sees a read or write past its end (a mapping of its own has no redzone). */
#if defined(__SANITIZE_ADDRESS__)
#define HUGEMEM_VEC_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HUGEMEM_VEC_MALLOC 1
#endif
#endif
#ifndef HUGEMEM_VEC_MALLOC
#define HUGEMEM_VEC_MALLOC 0
#endif

/* Makes room for at least `bytes` (the capacity at least doubles), keeping the
 * contents; new bytes are zero. 0, or -1 when out of memory (the buffer unchanged). */
int hugemem_vec_reserve(hugemem_vec *v, size_t bytes);
void hugemem_vec_free(hugemem_vec *v);

/* A zeroed buffer of n bytes, 2 MiB-aligned, advised MADV_HUGEPAGE; free with free().
 * NULL when out of memory. */
void *hugemem_alloc(size_t n);

/* The same without the zeroing: contents undefined, and no page touched here (fresh
 * pages are first touched when the caller writes them). For buffers filled before
 * they are read: a first touch costs the same wherever it happens, but then it
 * happens on the thread and at the time of use. */
void *hugemem_alloc_raw(size_t n);

#endif
