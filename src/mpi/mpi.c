/* mpi.c: the MPI calls. Large buffers are sent in pieces of at most 2^30 elements,
 * since MPI counts are int. */
#include "mpi/mpi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int g_rank = 0, g_size = 1, g_on = 0;
static MPI_Request *g_req;
static int g_nreq, g_capreq;

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
    return 0;
}

void dist_finalize(void)
{
    dist_wait_all();
    free(g_req);
    g_req = NULL;
    g_capreq = 0;
    if (g_on)
        MPI_Finalize();
    g_on = 0;
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

void dist_shard(size_t n, int rank, int size, size_t *begin, size_t *end)
{
    size_t base = n / (size_t)size, rem = n % (size_t)size, r = (size_t)rank;
    *begin = r * base + (r < rem ? r : rem);
    *end = *begin + base + (r < rem ? 1 : 0);
}

#define PIECE ((size_t)1 << 30)

void dist_allreduce_sum_f64(double *x, size_t n)
{
    if (g_size == 1)
        return;
    MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void dist_iallreduce_sum_f32(float *x, size_t n)
{
    if (g_size == 1)
        return;
    for (size_t o = 0; o < n; o += PIECE) {
        int k = (int)(n - o < PIECE ? n - o : PIECE);
        if (g_nreq == g_capreq) {
            int nc = g_capreq ? g_capreq * 2 : 64;
            MPI_Request *nr = realloc(g_req, (size_t)nc * sizeof *nr);
            if (!nr) { /* no room to track it: do this piece blocking */
                MPI_Allreduce(MPI_IN_PLACE, x + o, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                continue;
            }
            g_req = nr;
            g_capreq = nc;
        }
        MPI_Iallreduce(MPI_IN_PLACE, x + o, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &g_req[g_nreq++]);
    }
}

void dist_progress(void)
{
    if (g_nreq > 0) {
        int done;
        MPI_Testall(g_nreq, g_req, &done, MPI_STATUSES_IGNORE);
    }
}

void dist_wait_all(void)
{
    if (g_nreq > 0)
        MPI_Waitall(g_nreq, g_req, MPI_STATUSES_IGNORE);
    g_nreq = 0;
}

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

int dist_any(int flag)
{
    if (g_size == 1)
        return flag;
    int out = 0;
    MPI_Allreduce(&flag, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    return out;
}
