/* select_cache.h: what `dokja select` computed, kept by content hash, so that re-running a
 * round after adding a team costs only that team's work (docs/select.md, "The cache").
 *
 * An entry is one JSON value in DIR/<k0k1>/<key>.json (written atomically). Its key is
 * the SHA-256 of everything that decides the result: the kind of work, dokja's version,
 * the commit and flags that built it, the kernel path's arithmetic class, the content
 * digests of the models and task files involved, and the options. A result is never
 * served for other inputs: a changed file has another digest. A damaged or unreadable
 * entry is a miss (it is recomputed and rewritten), never an error; a cache that cannot be
 * written only costs the speed-up (one warning line).
 *
 * A model's content digest (sel_model_digest) is the SHA-256 over the files a loader
 * reads: for a directory config.json, *.safetensors, the shard index, the tokenizer
 * files; for a file (GGUF) the file. Hashing a 7B model reads 14 GB, so each file's
 * digest is itself cached under its path, device, inode, size and modification time
 * (as git's index and ccache do): an unchanged file is not read again. */
#ifndef DK_SELECT_SELECT_CACHE_H
#define DK_SELECT_SELECT_CACHE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

typedef struct {
    char dir[4096]; /* "" : no cache */
    size_t hits, misses;
    int warned;
} sel_cache;

/* dir NULL: a cache that never hits and stores nothing (digests are still computed). */
void sel_cache_init(sel_cache *c, const char *dir);

/* The default directory: $DOKJA_CACHE, else $XDG_CACHE_HOME/dokja, else
 * $HOME/.cache/dokja (NULL when none is set). Into buf. */
const char *sel_cache_default_dir(char *buf, size_t cap);

/* key = SHA-256 (hex) of the build's identity, then each part (NUL-terminated strings,
 * a NULL ends the list), each followed by a 0 byte. */
void sel_cache_key(char key[65], const char *kind, ...);

/* The entry (a new reference), or NULL on a miss. Counts hits and misses. */
json_t *sel_cache_get(sel_cache *c, const char key[65]);
/* Stores value under key (atomic; failures warn once on stderr and are otherwise ignored). */
void sel_cache_put(sel_cache *c, const char key[65], const json_t *value);

/* The content digest of a model (a directory or a file), hex. */
int sel_model_digest(sel_cache *c, const char *path, char hex[65], dk_err *err);

/* The content digest of every regular file under a directory (a training run with its
 * checkpoints, a dataset), up to `depth` levels of subdirectories, by relative name. */
int sel_tree_digest(sel_cache *c, const char *path, int depth, char hex[65], dk_err *err);

#endif
