/* membw.c: see membw.h. */
#include "kernels/kern_ops.h"
#include "kernels/membw.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/hugemem.h"
#include "util/progress.h"

typedef struct {
    const float *buf;
    size_t n; /* floats */
    int parts;
    float sink[256];
} rd_job;

static void read_part(void *vj, size_t part, int th)
{
    rd_job *j = vj;
    size_t per = (j->n / (size_t)j->parts) & ~(size_t)63; /* 256-byte aligned slices */
    size_t b = part * per, e = part + 1 == (size_t)j->parts ? j->n : b + per;
    float s = kern()->read_sum(j->buf + b, e - b);
    j->sink[part % 256] += s; /* keeps the reads alive */
}

double membw_read_gbs(pool *p, size_t bytes, int huge, int rounds)
{
    float *buf;
    if (huge) {
        buf = hugemem_alloc(bytes);
    } else {
        buf = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
        if (buf) {
            (void)madvise(buf, (bytes + 4095) / 4096 * 4096, MADV_NOHUGEPAGE);
            memset(buf, 0, bytes);
        }
    }
    if (!buf)
        return 0;
    rd_job j = {.buf = buf, .n = bytes / sizeof(float), .parts = pool_threads(p)};
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_seconds();
        pool_for(p, (size_t)j.parts, read_part, &j);
        double gbs = (double)bytes / (now_seconds() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    free(buf);
    return best;
}
