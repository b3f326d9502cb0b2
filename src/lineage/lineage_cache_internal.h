/* lineage_cache_internal.h: what lineage_run's files ask of the per-model cache
 * (lineage_cache.c; the public side is in lineage.h).
 *
 * A model entry is one path: its weights opened (wsrc) and its identity, the (name,
 * device, inode, size, mtime, ctime) of every regular file in its directory (or of the
 * GGUF file). Looking a path up re-reads the identity; when it differs, everything kept
 * for the model is dropped and the weights are opened again, so a rewritten file is
 * never served. Results are blobs kept under (model, kind, key bytes); the key holds
 * every option and shape value the result depends on. Every function accepts a NULL
 * cache (no cache: a get finds nothing, a put keeps nothing). */
#ifndef DK_LINEAGE_CACHE_INTERNAL_H
#define DK_LINEAGE_CACHE_INTERNAL_H

#include <stddef.h>

#include "lineage/lineage.h"
#include "lineage/wsrc.h"

typedef struct lc_model lc_model;

/* What a blob holds (part of its key). */
enum {
    LC_B_SAMPLE = 1, /* B's sampled gate and up rows for the full map test */
    LC_B_SCREEN,     /* B's screen sample (screened map) */
    LC_B_SELF,       /* B against itself: duplicated layers */
    LC_PROBE,        /* the model's tokens and activations on the probe text */
};

/* The entry of PATH, its weights open and its identity checked now; NULL with err
 * filled when the model cannot be opened. The entry stays valid until the next
 * lineage_cache_model call for the same path or lineage_cache_free. */
lc_model *lineage_cache_model(lineage_cache *c, const char *path, dk_err *err);
const wsrc *lineage_cache_wsrc(const lc_model *m);

/* The blob kept for m under (kind, key): its data (bytes into *bytes when not NULL), or
 * NULL. Counts a hit or a miss (a NULL cache or model counts nothing). The data stays
 * valid, read-only, as long as the entry does. */
const void *lineage_cache_get(lineage_cache *c, lc_model *m, int kind, const void *key, size_t key_n,
                              size_t *bytes);
/* Keeps data (one malloc'd block of `bytes`, freed by the cache with free) for m under
 * (kind, key) if it fits the budget: returns 1 and the cache owns data; else returns 0
 * and the caller still does. */
int lineage_cache_put(lineage_cache *c, lc_model *m, int kind, const void *key, size_t key_n, void *data,
                      size_t bytes);

#endif
