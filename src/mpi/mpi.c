/* mpi.c: the MPI calls. Large buffers are sent in pieces of at most 2^30 elements,
 * since MPI counts are int. */
#include "mpi/mpi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "util/hugemem.h"

static int g_rank = 0, g_size = 1, g_on = 0;
static int *g_counts, *g_displs; /* (size) each, for the gathers of blocks */

int dist_init(int *argc, char ***argv, dk_err *err)
{
    /* Only join MPI when launched by mpirun: a plain run stays a single process
     * without MPI's start-up cost or its environment requirements. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE"))
        return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return dk_errf(err, "MPI_Init failed");
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_counts = malloc((size_t)g_size * sizeof *g_counts);
    g_displs = malloc((size_t)g_size * sizeof *g_displs);
    if (!g_counts || !g_displs)
        return dk_errf(err, "out of memory for %d ranks", g_size);
    return 0;
}

void dist_finalize(void)
{
    free(g_counts);
    free(g_displs);
    g_counts = g_displs = NULL;
    if (g_on)
        MPI_Finalize();
    g_on = 0;
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

void dist_shard(size_t n, int rank, int size, size_t *begin, size_t *end)
{
    /* whole units of DIST_SHARD_ALIGN, spread as evenly as they go; the spare ones go to
     * the last ranks, so the last rank's short unit evens out rather than adds up */
    size_t units = (n + DIST_SHARD_ALIGN - 1) / DIST_SHARD_ALIGN, r = (size_t)rank;
    size_t base = units / (size_t)size, plain = (size_t)size - units % (size_t)size;
    size_t ub = r * base + (r > plain ? r - plain : 0), ue = ub + base + (r >= plain ? 1 : 0);
    *begin = ub * DIST_SHARD_ALIGN < n ? ub * DIST_SHARD_ALIGN : n;
    *end = ue * DIST_SHARD_ALIGN < n ? ue * DIST_SHARD_ALIGN : n;
}

#define PIECE ((size_t)1 << 30)

/* Every rank's shard, broadcast by its owner: R broadcasts, simple and exact. */
void dist_allgather_shards(float *x, size_t n)
{
    if (g_size == 1)
        return;
    for (int r = 0; r < g_size; r++) {
        size_t b, e;
        dist_shard(n, r, g_size, &b, &e);
        for (size_t o = b; o < e; o += PIECE) {
            int k = (int)(e - o < PIECE ? e - o : PIECE);
            MPI_Bcast(x + o, k, MPI_FLOAT, r, MPI_COMM_WORLD);
        }
    }
}

void dist_gather_shards(const float *mine, float *full, size_t n)
{
    for (int r = 0; r < g_size; r++) {
        size_t b, e;
        dist_shard(n, r, g_size, &b, &e);
        if (r == 0 && g_rank == 0) {
            memcpy(full + b, mine, (e - b) * sizeof *full);
            continue;
        }
        for (size_t o = b; o < e; o += PIECE) {
            int k = (int)(e - o < PIECE ? e - o : PIECE);
            if (g_rank == r)
                MPI_Send(mine + (o - b), k, MPI_FLOAT, 0, 7, MPI_COMM_WORLD);
            else if (g_rank == 0)
                MPI_Recv(full + o, k, MPI_FLOAT, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    }
}

void dist_allgather_f64(double *all, size_t count)
{
    if (g_size == 1)
        return;
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, (int)count, MPI_DOUBLE, MPI_COMM_WORLD);
}

void dist_allgather_blocks_f64(double *x, size_t n, size_t block)
{
    if (g_size == 1)
        return;
    for (int r = 0; r < g_size; r++) {
        size_t b, e;
        dist_shard(n, r, g_size, &b, &e);
        g_counts[r] = e > b ? (int)((e + block - 1) / block - b / block) : 0;
        g_displs[r] = (int)(b / block);
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, g_counts, g_displs, MPI_DOUBLE, MPI_COMM_WORLD);
}

int dist_any(int flag)
{
    if (g_size == 1)
        return flag;
    int out = 0;
    MPI_Allreduce(&flag, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    return out;
}

/* ---- the reduce-scatter without the reduction ------------------------------------ */

/* Messages are tagged SCATTER_TAG + their chunk's index in the owner's shard: above the
 * gathers' tag, and below 32767, the least MPI_TAG_UB the standard allows. A chunk is
 * at least SCATTER_CHUNK elements (1 MiB: few messages, and still a few per layer of a
 * small model, so sends start during the backward pass). */
#define SCATTER_TAG 1024
#define SCATTER_MAX_CHUNKS ((size_t)(32767 - SCATTER_TAG))
#define SCATTER_CHUNK ((size_t)1 << 18)

struct dist_scatter {
    size_t chunk;         /* elements per message: a grid over each shard */
    size_t *sb, *se;      /* (size) every rank's shard [sb, se) */
    size_t *first;        /* (size + 1) rank r's chunks are done[first[r] .. first[r + 1]) */
    size_t *done;         /* (all chunks) elements of each marked final this round */
    float *recv;          /* (size - 1, my shard) the other ranks' copies of my shard, by rank */
    MPI_Request *req;     /* (receives + sends of a round) */
    int nreq;
    const float *x;       /* this round's buffer */
};

static size_t chunks_of(const dist_scatter *s, int r)
{
    return (s->se[r] - s->sb[r] + s->chunk - 1) / s->chunk;
}

int dist_scatter_new(dist_scatter **out, size_t n, dk_err *err)
{
    dist_scatter *s = calloc(1, sizeof *s);
    size_t R = (size_t)g_size;
    *out = NULL;
    if (!s || !(s->sb = malloc(R * sizeof *s->sb)) || !(s->se = malloc(R * sizeof *s->se)) ||
        !(s->first = malloc((R + 1) * sizeof *s->first))) {
        dist_scatter_free(s);
        return dk_errf(err, "out of memory for the gradient exchange");
    }
    size_t longest = 0;
    for (int r = 0; r < g_size; r++) {
        dist_shard(n, r, g_size, &s->sb[r], &s->se[r]);
        longest = s->se[r] - s->sb[r] > longest ? s->se[r] - s->sb[r] : longest;
    }
    s->chunk = (longest + SCATTER_MAX_CHUNKS - 1) / SCATTER_MAX_CHUNKS;
    s->chunk = s->chunk > SCATTER_CHUNK ? s->chunk : SCATTER_CHUNK;
    if (s->chunk > PIECE) {
        dist_scatter_free(s);
        return dk_errf(err, "%zu parameters: too many for %d ranks' messages", n, g_size);
    }
    s->first[0] = 0;
    for (int r = 0; r < g_size; r++)
        s->first[r + 1] = s->first[r] + chunks_of(s, r);
    size_t mine = s->se[g_rank] - s->sb[g_rank], my_chunks = chunks_of(s, g_rank);
    size_t nreq = (R - 1) * my_chunks + (s->first[R] - my_chunks);
    s->done = calloc(s->first[R] + 1, sizeof *s->done);
    /* rewritten every round; on huge pages, like the optimizer's moments (train/step.c) */
    s->recv = hugemem_alloc(((R - 1) * mine + 1) * sizeof *s->recv);
    s->req = malloc((nreq + 1) * sizeof *s->req);
    if (!s->done || !s->recv || !s->req) {
        dist_scatter_free(s);
        return dk_errf(err, "out of memory for the gradient exchange (%zu floats)", (R - 1) * mine);
    }
    *out = s;
    return 0;
}

void dist_scatter_free(dist_scatter *s)
{
    if (!s)
        return;
    free(s->sb);
    free(s->se);
    free(s->first);
    free(s->done);
    free(s->recv);
    free(s->req);
    free(s);
}

/* The copies from other ranks, in rank order, skipping this one's. */
static float *recv_slot(dist_scatter *s, int r)
{
    return s->recv + (size_t)(r < g_rank ? r : r - 1) * (s->se[g_rank] - s->sb[g_rank]);
}

void dist_scatter_begin(dist_scatter *s, const float *x)
{
    s->x = x;
    size_t b = s->sb[g_rank], e = s->se[g_rank];
    for (int r = 0; r < g_size; r++) {
        if (r == g_rank)
            continue;
        float *slot = recv_slot(s, r);
        for (size_t k = 0, o = b; o < e; k++, o += s->chunk) {
            int len = (int)(e - o < s->chunk ? e - o : s->chunk);
            MPI_Irecv(slot + (o - b), len, MPI_FLOAT, r, SCATTER_TAG + (int)k, MPI_COMM_WORLD, &s->req[s->nreq++]);
        }
    }
}

/* Chunk k of rank o's shard goes to o. */
static void send_chunk(dist_scatter *s, int o, size_t k)
{
    size_t b = s->sb[o] + k * s->chunk, e = b + s->chunk < s->se[o] ? b + s->chunk : s->se[o];
    MPI_Isend(s->x + b, (int)(e - b), MPI_FLOAT, o, SCATTER_TAG + (int)k, MPI_COMM_WORLD, &s->req[s->nreq++]);
}

void dist_scatter_ready(dist_scatter *s, size_t offset, size_t numel)
{
    if (g_size == 1)
        return;
    size_t lo = offset, hi = offset + numel;
    for (int o = 0; o < g_size; o++) {
        size_t b = lo > s->sb[o] ? lo : s->sb[o], e = hi < s->se[o] ? hi : s->se[o];
        if (o == g_rank || b >= e)
            continue;
        for (size_t k = (b - s->sb[o]) / s->chunk; s->sb[o] + k * s->chunk < e; k++) {
            size_t cb = s->sb[o] + k * s->chunk, ce = cb + s->chunk < s->se[o] ? cb + s->chunk : s->se[o];
            size_t part = (ce < e ? ce : e) - (cb > b ? cb : b);
            if ((s->done[s->first[o] + k] += part) == ce - cb)
                send_chunk(s, o, k);
        }
    }
    /* Open MPI moves started transfers along only inside MPI calls */
    int all_done;
    MPI_Testall(s->nreq, s->req, &all_done, MPI_STATUSES_IGNORE);
}

void dist_scatter_end(dist_scatter *s, const float **slices)
{
    if (g_size > 1) {
        for (int o = 0; o < g_size; o++)
            for (size_t k = 0; o != g_rank && k < chunks_of(s, o); k++) {
                size_t cb = s->sb[o] + k * s->chunk, ce = cb + s->chunk < s->se[o] ? cb + s->chunk : s->se[o];
                if (s->done[s->first[o] + k] < ce - cb)
                    send_chunk(s, o, k);
            }
        MPI_Waitall(s->nreq, s->req, MPI_STATUSES_IGNORE);
        s->nreq = 0;
        memset(s->done, 0, s->first[g_size] * sizeof *s->done);
    }
    for (int r = 0; r < g_size; r++)
        slices[r] = r == g_rank ? s->x + s->sb[g_rank] : recv_slot(s, r);
}
