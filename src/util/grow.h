/* grow.h: the one way dokja grows an array by doubling.
 *
 *     item *q = dk_grow(v->items, &v->cap, v->n + 1, sizeof *q, 64);
 *     if (!q)
 *         return -1;     (v->items and v->cap are as they were)
 *     v->items = q;
 */
#ifndef DK_UTIL_GROW_H
#define DK_UTIL_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* p (room for *cap elements of elem bytes) with room for at least need >= 1 of them:
 * p itself when it has that room, else p reallocated to the capacity doubled from
 * `first` (or from *cap) until it is enough, *cap updated. NULL on out of memory or
 * overflow, with p still valid and *cap unchanged. */
static inline void *dk_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap && p)
        return p;
    size_t c = *cap ? *cap : first;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return NULL;
        c *= 2;
    }
    if (c > SIZE_MAX / elem)
        return NULL;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

#endif
