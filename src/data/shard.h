/* shard.h: a token shard file: a 32-byte header and little-endian token ids.
 *
 *   0  8  magic "DOKJATOK"
 *   8  4  version (1)
 *  12  4  bytes per id: 2 (uint16, vocabularies up to 65,536) or 4 (uint32)
 *  16  8  number of ids
 *  24  8  zero (reserved)
 *  32     ids
 * The file size must be exactly 32 + count * bytes per id. */
#ifndef DK_DATA_SHARD_H
#define DK_DATA_SHARD_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/token.h"

#define SHARD_MAGIC "DOKJATOK"
#define SHARD_VERSION 1
#define SHARD_HEADER 32

typedef struct {
    fs_map map;
    int width;        /* 2 or 4 */
    uint64_t count;
    const uint8_t *ids; /* count * width bytes, little-endian */
} shard;

/* Maps and validates a shard; ids must all be < vocab (checked: loading verifies
 * what it reads). vocab is at most 2^31, so every id of an open shard is a dk_token. */
int shard_open(shard *s, const char *path, uint32_t vocab, dk_err *err);
void shard_close(shard *s);
/* Id i as stored (uint32 little-endian, or uint16). */
static inline uint32_t shard_get_stored(const shard *s, uint64_t i)
{
    const uint8_t *p = s->ids + i * (uint64_t)s->width;
    return s->width == 2 ? (uint32_t)p[0] | (uint32_t)p[1] << 8
                         : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
}
/* Id i of an open shard (< vocab, so it fits). */
static inline dk_token shard_get(const shard *s, uint64_t i) { return (dk_token)shard_get_stored(s, i); }

/* Writing: open (atomic temp file), append ids, close (header finalised, renamed). */
typedef struct {
    fs_atomic f;
    int width;
    uint64_t count;
} shard_writer;

int shard_writer_open(shard_writer *w, const char *path, int width, dk_err *err);
/* Packs ids[0..n) in place into n ids of `width` bytes each, little-endian, at the
 * start of the same memory (ids in [0, 2^32), or [0, 2^16) for width 2): what a shard
 * stores. Separate from the append so that threads can pack while one writes. */
void shard_pack_ids(dk_token *ids, size_t n, int width);
/* Appends n ids packed by shard_pack_ids with the writer's width. */
void shard_writer_append_packed(shard_writer *w, const void *packed, size_t n);
int shard_writer_close(shard_writer *w, dk_err *err);
void shard_writer_abort(shard_writer *w);

#endif
