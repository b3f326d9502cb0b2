/* shard.c: token shard files. */
#include "data/shard.h"

#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void header(uint8_t h[SHARD_HEADER], int width, uint64_t count)
{
    memset(h, 0, SHARD_HEADER);
    memcpy(h, SHARD_MAGIC, 8);
    put_u32(h + 8, SHARD_VERSION);
    put_u32(h + 12, (uint32_t)width);
    put_u64(h + 16, count);
}

int shard_open(shard *s, const char *path, uint32_t vocab, dk_err *err)
{
    memset(s, 0, sizeof *s);
    if (fs_map_open(&s->map, path, SIZE_MAX, err) != 0)
        return -1;
    const uint8_t *h = s->map.data;
    int rc = 0;
    if (s->map.size < SHARD_HEADER)
        rc = dk_errf(err, "%s: truncated shard (%zu bytes, header is %d)", path, s->map.size,
                     SHARD_HEADER);
    else if (memcmp(h, SHARD_MAGIC, 8) != 0)
        rc = dk_errf(err, "%s: not a dokja token shard (bad magic)", path);
    else if (get_u32(h + 8) != SHARD_VERSION)
        rc = dk_errf(err, "%s: unsupported shard version %u", path, get_u32(h + 8));
    else if ((s->width = (int)get_u32(h + 12)) != 2 && s->width != 4)
        rc = dk_errf(err, "%s: bad id width %d (must be 2 or 4)", path, s->width);
    else if ((s->count = get_u64(h + 16)) > (s->map.size - SHARD_HEADER) / (uint64_t)s->width ||
             SHARD_HEADER + s->count * (uint64_t)s->width != s->map.size)
        rc = dk_errf(err, "%s: header says %llu ids but the file has %zu bytes of data", path,
                     (unsigned long long)s->count, s->map.size - SHARD_HEADER);
    if (rc == 0) {
        s->ids = h + SHARD_HEADER;
        for (uint64_t i = 0; i < s->count; i++) {
            uint32_t id = shard_get_stored(s, i);
            if (id >= vocab) {
                rc = dk_errf(err, "%s: id %u at position %llu is outside the vocabulary (%u)",
                             path, id, (unsigned long long)i, vocab);
                break;
            }
        }
    }
    if (rc != 0)
        shard_close(s);
    return rc;
}

void shard_close(shard *s)
{
    fs_map_close(&s->map);
    memset(s, 0, sizeof *s);
}

int shard_writer_open(shard_writer *w, const char *path, int width, dk_err *err)
{
    memset(w, 0, sizeof *w);
    w->width = width;
    if (fs_atomic_open(&w->f, path, err) != 0)
        return -1;
    uint8_t h[SHARD_HEADER];
    header(h, width, 0); /* rewritten with the count on close */
    fs_atomic_write(&w->f, h, sizeof h);
    return 0;
}

void shard_pack_ids(dk_token *ids, size_t n, int width)
{
    /* forward: byte k * width is written after id k was read, and never beyond
     * byte 4 k + 3, so no id is overwritten before it is read */
    uint8_t *out = (uint8_t *)ids;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = (uint32_t)ids[k];
        out[k * (size_t)width] = (uint8_t)id;
        out[k * (size_t)width + 1] = (uint8_t)(id >> 8);
        if (width == 4) {
            out[4 * k + 2] = (uint8_t)(id >> 16);
            out[4 * k + 3] = (uint8_t)(id >> 24);
        }
    }
}

void shard_writer_append_packed(shard_writer *w, const void *packed, size_t n)
{
    fs_atomic_write(&w->f, packed, n * (size_t)w->width);
    w->count += n;
}

int shard_writer_close(shard_writer *w, dk_err *err)
{
    uint8_t h[SHARD_HEADER];
    header(h, w->width, w->count);
    if (fseek(w->f.f, 0, SEEK_SET) != 0)
        w->f.failed = 1;
    fs_atomic_write(&w->f, h, sizeof h);
    return fs_atomic_commit(&w->f, err);
}

void shard_writer_abort(shard_writer *w) { fs_atomic_abort(&w->f); }
