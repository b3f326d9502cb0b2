/* train_ledger.h: what `dokja train` writes into RUN/ledger.jsonl (ledger/ledger.h for
 * the chain, docs/ledger.md for the records), on rank 0:
 *
 *   genesis     everything that decides the bits, before any step
 *   beacon      the public randomness mixed into the seeds (--beacon), if any
 *   init        where the weights start: the generated weights' digest, or the source
 *               model's file hash (--init-from: the run is marked derived)
 *   step        per optimizer step: batch digest, loss, gradient norm, learning rate
 *   checkpoint  per checkpoint: file, weights and optimizer digests, sampler state
 *   steps       --resume with another --steps (the schedule's new length), if any
 *   final       the published model.safetensors' SHA-256 and its weights' digest
 *
 * No record holds a time or a thread count: they do not decide the bits, so the same
 * inputs give the same ledger, byte for byte, and its head hash names the run. */
#ifndef DK_TRAIN_TRAIN_LEDGER_H
#define DK_TRAIN_TRAIN_LEDGER_H

#include "data/dataset.h"
#include "ledger/ledger.h"
#include "ledger/records.h"
#include "model/params.h"
#include "train/step.h"
#include "train/train.h"

typedef struct {
    ledger_writer w;
    int on;               /* this process writes a ledger (rank 0) */
    sha256_stream *batch; /* the step being drawn */
} train_ledger;

/* The seeds the run uses: the trainer's, or mixed with the beacon (records.h). */
void tl_seeds(const train_opts *o, const uint8_t *beacon, size_t beacon_len, uint64_t *init_seed,
              uint64_t *data_seed);

/* The beacon a run's ledger recorded (*len 0: none, or no ledger); -1 on a broken ledger. */
int tl_recorded_beacon(const char *run, uint8_t *beacon, size_t *len, dk_err *err);

/* A fresh run: creates the ledger with the genesis. */
int tl_begin(train_ledger *L, const char *run, const train_opts *o, const model_config *cfg,
             const dataset *d, dk_err *err);
/* A resumed run from checkpoint `start` (0: none yet): keeps the records up to that point.
 * Sets *need_start to 1 when the records of the start (beacon and init for step 0, the
 * checkpoint record otherwise) are still to be written. No ledger in RUN (a run from
 * before the ledger): L->on = 0, a warning unless quiet. */
int tl_resume(train_ledger *L, const char *run, long start, int quiet, int *need_start, int *has_beacon,
              dk_err *err);

int tl_beacon(train_ledger *L, const uint8_t *beacon, size_t len, dk_err *err);
int tl_init(train_ledger *L, const char *source_sha256, uint64_t init_seed, uint64_t data_seed,
            const param_layout *l, const float *params, dk_err *err);
/* A sequence of the step being drawn (every sequence of the global batch, in order). */
void tl_sequence(train_ledger *L, int src, uint64_t window);
int tl_step(train_ledger *L, const train_step_record *r, dk_err *err);
/* opt_sha256: ledger_optimizer_sha256 of the full moments (records.h). */
int tl_checkpoint(train_ledger *L, long step, const char *file, const param_layout *l, const float *params,
                  const uint8_t opt_sha256[32], uint64_t next_seq, const uint64_t *cursors, size_t n_src,
                  dk_err *err);
int tl_steps_changed(train_ledger *L, long steps, dk_err *err);
int tl_final(train_ledger *L, long step, const char *model_path, const param_layout *l, const float *params,
             dk_err *err);
/* The head (hash of the last record), hex. */
void tl_head(const train_ledger *L, char hex[65]);
void tl_close(train_ledger *L);

#endif
