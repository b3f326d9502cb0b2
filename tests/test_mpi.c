/* test_mpi.c: data-parallel training over Open MPI (2 ranks on this machine):
 * the same losses as one process with the same global batch, and checkpoints that
 * move between rank counts. */
#include <math.h>
#include <stdlib.h>

#include "test.h"

static const char CFG[] = "{\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                          " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 300,"
                          " \"max_position_embeddings\": 64}";

static char data[512], cfg[512];

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
    snprintf(cfg, sizeof cfg, "%s", test_write_file("dist_cfg.json", CFG, strlen(CFG)));
    return 0;
}

/* Runs training with `launcher` ("" or MPIRUN); extra options before the run dir. */
static int train(const char *launcher, const char *run, const char *how, int steps)
{
    return test_run(NULL, 0, "%s %s train -q --data %s --model %s %s %s --steps %d "
                             "--batch-size 8 --micro-batch 2 --seq-len 16 --lr 3e-3 --eval-every 100 "
                             "--checkpoint-every 10 --keep-checkpoints 5 --threads 1 2>&1",
                    launcher, test_bin(), data, cfg, how, run, steps);
}

/* Max relative difference of the "loss" of each step in two metrics files. */
static double loss_diff(const char *a, const char *b, int *steps)
{
    char out[16384];
    if (test_run(out, sizeof out, "paste -d' ' %s/metrics.jsonl %s/metrics.jsonl | "
                                  "sed 's/[^ ]*\"loss\":\\([0-9.e+-]*\\)[^ ]* [^ ]*\"loss\":\\([0-9.e+-]*\\).*/\\1 \\2/'",
                 a, b) != 0)
        return INFINITY;
    double m = 0, x, y;
    int n = 0, off = 0, used;
    while (sscanf(out + off, "%lf %lf%n", &x, &y, &used) == 2) {
        double d = fabs(x - y) / fabs(x);
        m = d > m ? d : m;
        off += used;
        n++;
    }
    *steps = n;
    return n ? m : INFINITY;
}

TEST(dist_two_ranks_match_one_process)
{
    CHECK(prepare() == 0);
    char one[512], two[512];
    snprintf(one, sizeof one, "%s/dist_one", test_tmpdir());
    snprintf(two, sizeof two, "%s/dist_two", test_tmpdir());
    CHECK_EQ(train("", one, "-o", 20), 0);
    CHECK_EQ(train(MPIRUN, two, "-o", 20), 0);
    int n;
    double d = loss_diff(one, two, &n);
    CHECK_EQ(n, 20);
    CHECK_MSG(d < 1e-5, "losses differ by %g relative", d);
}

TEST(dist_checkpoints_move_between_rank_counts)
{
    CHECK(prepare() == 0);
    char ref[512], a[512], b[512];
    snprintf(ref, sizeof ref, "%s/dist_ref", test_tmpdir());
    snprintf(a, sizeof a, "%s/dist_2to1", test_tmpdir());
    snprintf(b, sizeof b, "%s/dist_1to2", test_tmpdir());
    CHECK_EQ(train("", ref, "-o", 30), 0);
    /* 2 ranks write checkpoints; keep only step 10 and resume on 1 process */
    CHECK_EQ(train(MPIRUN, a, "-o", 30), 0);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_0000002*.safetensors %s/checkpoints/step_0000003*.safetensors", a, a), 0);
    CHECK_EQ(train("", a, "--resume", 30), 0);
    /* 1 process writes; 2 ranks resume */
    CHECK_EQ(train("", b, "-o", 30), 0);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_0000002*.safetensors %s/checkpoints/step_0000003*.safetensors", b, b), 0);
    CHECK_EQ(train(MPIRUN, b, "--resume", 30), 0);
    int n;
    double d = loss_diff(ref, a, &n);
    CHECK_EQ(n, 30);
    CHECK_MSG(d < 1e-5, "2 -> 1 ranks: losses differ by %g", d);
    d = loss_diff(ref, b, &n);
    CHECK_EQ(n, 30);
    CHECK_MSG(d < 1e-5, "1 -> 2 ranks: losses differ by %g", d);
}
