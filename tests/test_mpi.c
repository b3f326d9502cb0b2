/* test_mpi.c: data-parallel training over Open MPI (2 ranks on this machine): the same
 * bytes as one process with the same global batch and micro-batches (weights and
 * logged losses), checkpoints that move between rank counts to the same final bytes,
 * and batch shapes the ranks cannot share refused. */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "mpi/mpi.h"

/* 37,792 parameters: less than one shard unit (DIST_SHARD_ALIGN, 65,536), so rank 0
 * owns nothing and rank 1 reduces, clips and updates everything. */
static const char TINY[] = "{\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                           " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 300,"
                           " \"max_position_embeddings\": 64}";
/* 112,448 parameters: both ranks own a shard, and a layer straddles the boundary. */
static const char SPLIT[] = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                            " \"num_key_value_heads\": 2, \"intermediate_size\": 128, \"vocab_size\": 300,"
                            " \"max_position_embeddings\": 64}";

static char data[512], tiny[512], split[512];

/* Open MPI's own allocations outlive MPI_Finalize (inside components it unloads), so
 * LeakSanitizer is off in the ranks; dokja's code on these paths is leak-checked by
 * the single-process training tests. */
#define MPIRUN "ASAN_OPTIONS=detect_leaks=0 mpirun -x ASAN_OPTIONS -n 2 --oversubscribe " \
               "--allow-run-as-root --mca btl self,vader"

static int prepare(void)
{
    if (data[0])
        return 0;
    const char *d = test_dataset("dist");
    if (!d)
        return -1;
    snprintf(data, sizeof data, "%s", d);
    snprintf(tiny, sizeof tiny, "%s", test_write_file("dist_tiny.json", TINY, strlen(TINY)));
    snprintf(split, sizeof split, "%s", test_write_file("dist_split.json", SPLIT, strlen(SPLIT)));
    return 0;
}

/* Shards tile [0, n) in rank order from multiples of DIST_SHARD_ALIGN, as evenly as
 * whole units go; when there are fewer units than ranks the first ranks own nothing. */
TEST(dist_shard_splits_at_unit_boundaries_and_covers_the_buffer)
{
    const size_t A = DIST_SHARD_ALIGN;
    const size_t ns[] = {0, 1, A - 1, A, A + 1, 3 * A + 5, 10 * A, 1000003};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (int size = 1; size <= 5; size++) {
            size_t n = ns[i], at = 0, lo = (size_t)-1, hi = 0;
            for (int r = 0; r < size; r++) {
                size_t b, e;
                dist_shard(n, r, size, &b, &e);
                CHECK_MSG(b == at && e >= b && e <= n, "n %zu, rank %d of %d: [%zu, %zu)", n, r, size, b, e);
                CHECK_MSG(b % A == 0, "n %zu, rank %d of %d begins at %zu", n, r, size, b);
                lo = e - b < lo ? e - b : lo;
                hi = e - b > hi ? e - b : hi;
                at = e;
            }
            CHECK_EQ(at, n);
            CHECK_MSG(hi - lo <= A, "n %zu on %d ranks: shards of %zu to %zu", n, size, lo, hi);
        }
    size_t b, e;
    dist_shard(A - 1, 0, 2, &b, &e); /* less than a unit: rank 0 owns nothing */
    CHECK(b == 0 && e == 0);
}

/* Trains `cfg` with `launcher` ("" for one process, or MPIRUN) for `steps`; `how` is
 * "-o", "--resume" or more options before the run directory. The batch shape is the
 * caller's: the micro-batches decide the bits, the rank and thread counts must not. */
static int train(const char *launcher, const char *cfg, const char *shape, int threads, const char *how,
                 const char *run, int steps)
{
    return test_run(NULL, 0, "%s %s train -q --data %s --model %s %s %s --steps %d %s --seq-len 16 --lr 3e-3 "
                             "--eval-every 100 --checkpoint-every 10 --keep-checkpoints 5 --threads %d 2>&1",
                    launcher, test_bin(), data, cfg, how, run, steps, shape, threads);
}

/* 0 when two runs ended with the same weights file and logged the same step, loss, lr
 * and gradient norm at every step (throughput and comm_s differ by nature). */
static int same_bytes(const char *a, const char *b)
{
    return test_run(NULL, 0, "cmp -s %s/model.safetensors %s/model.safetensors && "
                             "cut -d, -f1-4 %s/metrics.jsonl > %s/m4 && cut -d, -f1-4 %s/metrics.jsonl > %s/m4 && "
                             "cmp -s %s/m4 %s/m4",
                    a, b, a, a, b, b, a, b);
}

static int steps_logged(const char *run)
{
    char out[64];
    return test_run(out, sizeof out, "wc -l < %s/metrics.jsonl", run) == 0 ? atoi(out) : -1;
}

/* 4 micro-batches on 2 ranks: two rounds per step, each rank's shard folded over both;
 * the one process runs 2 threads, the ranks 1 each. */
TEST(dist_two_ranks_give_the_bytes_of_one_process)
{
    CHECK(prepare() == 0);
    char one[512], two[512];
    snprintf(one, sizeof one, "%s/dist_one", test_tmpdir());
    snprintf(two, sizeof two, "%s/dist_two", test_tmpdir());
    const char *shape = "--batch-size 8 --micro-batch 2";
    CHECK_EQ(train("", split, shape, 2, "-o", one, 20), 0);
    CHECK_EQ(train(MPIRUN, split, shape, 1, "-o", two, 20), 0);
    CHECK_EQ(steps_logged(two), 20);
    CHECK_EQ(same_bytes(one, two), 0);
    CHECK_EQ(test_run(NULL, 0, "grep -q comm_s %s/metrics.jsonl", two), 0);
    /* the training ledger too (it holds no rank count), and an auditor replays the 2-rank
     * run's segments in one process, bit for bit */
    CHECK_EQ(test_run(NULL, 0, "cmp %s/ledger.jsonl %s/ledger.jsonl", one, two), 0);
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "%s ledger replay -q %s --data %s --challenge 02 --segments 2 2>&1", test_bin(),
                      two, data), 0);
    CHECK_CONTAINS(out, "2 of 2 segment(s) reproduced bit for bit");
}

/* 4 ranks on this 2-core machine (one micro-batch each): the ledger of one process. */
TEST(dist_four_ranks_write_the_ledger_of_one_process)
{
    CHECK(prepare() == 0);
    char one[512], four[512];
    snprintf(one, sizeof one, "%s/dist4_one", test_tmpdir());
    snprintf(four, sizeof four, "%s/dist4_four", test_tmpdir());
    const char *shape = "--batch-size 8 --micro-batch 2";
    CHECK_EQ(train("", split, shape, 1, "-o", one, 10), 0);
    CHECK_EQ(train("ASAN_OPTIONS=detect_leaks=0 mpirun -x ASAN_OPTIONS -n 4 --oversubscribe --allow-run-as-root "
                   "--mca btl self,vader", split, shape, 1, "-o", four, 10), 0);
    CHECK_EQ(same_bytes(one, four), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp %s/ledger.jsonl %s/ledger.jsonl", one, four), 0);
}

/* A model smaller than one shard unit: rank 0 owns nothing (but still trains its
 * micro-batch, sends its gradient and writes the checkpoints); one round per step. */
TEST(dist_two_ranks_give_the_bytes_of_one_process_when_one_rank_owns_nothing)
{
    CHECK(prepare() == 0);
    char one[512], two[512];
    snprintf(one, sizeof one, "%s/dist_tiny_one", test_tmpdir());
    snprintf(two, sizeof two, "%s/dist_tiny_two", test_tmpdir());
    const char *shape = "--batch-size 4 --micro-batch 2";
    CHECK_EQ(train("", tiny, shape, 1, "-o", one, 12), 0);
    CHECK_EQ(train(MPIRUN, tiny, shape, 1, "-o", two, 12), 0);
    CHECK_EQ(steps_logged(two), 12);
    CHECK_EQ(same_bytes(one, two), 0);
}

/* A checkpoint written by 2 ranks resumed in 1 process, and one written by 1 process
 * resumed on 2 ranks: both end with the bytes of the uninterrupted run. The resumes
 * leave out --micro-batch: the run's own comes from run.json. */
TEST(dist_checkpoints_move_between_rank_counts_to_identical_bytes)
{
    CHECK(prepare() == 0);
    char ref[512], a[512], b[512];
    snprintf(ref, sizeof ref, "%s/dist_ref", test_tmpdir());
    snprintf(a, sizeof a, "%s/dist_2to1", test_tmpdir());
    snprintf(b, sizeof b, "%s/dist_1to2", test_tmpdir());
    const char *shape = "--batch-size 8 --micro-batch 2", *resume_shape = "--batch-size 8";
    CHECK_EQ(train("", split, shape, 1, "-o", ref, 30), 0);
    /* 2 ranks write checkpoints; keep only step 10 and resume in 1 process */
    CHECK_EQ(train(MPIRUN, split, shape, 1, "-o", a, 30), 0);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_0000002*.safetensors %s/checkpoints/step_0000003*.safetensors", a, a), 0);
    CHECK_EQ(train("", split, resume_shape, 2, "--resume", a, 30), 0);
    /* 1 process writes; 2 ranks resume */
    CHECK_EQ(train("", split, shape, 2, "-o", b, 30), 0);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_0000002*.safetensors %s/checkpoints/step_0000003*.safetensors", b, b), 0);
    CHECK_EQ(train(MPIRUN, split, resume_shape, 1, "--resume", b, 30), 0);
    CHECK_EQ(steps_logged(a), 30);
    CHECK_EQ(steps_logged(b), 30);
    CHECK_MSG(same_bytes(ref, a) == 0, "2 -> 1 ranks: not the bytes of the uninterrupted run");
    CHECK_MSG(same_bytes(ref, b) == 0, "1 -> 2 ranks: not the bytes of the uninterrupted run");
}

/* Rank r trains micro-batches r, r + R, ...: 3 micro-batches cannot be shared by 2. */
TEST(dist_refuses_micro_batches_the_ranks_cannot_share)
{
    CHECK(prepare() == 0);
    char run[512], out[4096];
    snprintf(run, sizeof run, "%s/dist_uneven", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s %s train -q --data %s --model %s -o %s --steps 2 --batch-size 6 "
                                       "--micro-batch 2 --seq-len 16 --threads 1 2>&1",
                      MPIRUN, test_bin(), data, tiny, run), 1);
    CHECK_CONTAINS(out, "--batch-size 6 is 3 micro-batches of 2, not a multiple of 2 ranks");
    CHECK(access(run, F_OK) != 0);
}
