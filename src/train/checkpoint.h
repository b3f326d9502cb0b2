/* checkpoint.h: training checkpoints: one safetensors file holding the weights
 * (Hugging Face names, so a checkpoint also loads as weights), the AdamW moments
 * ("optimizer.exp_avg", "optimizer.exp_avg_sq", flat), and in __metadata__ the step,
 * seed, sampler state, config, data manifest hash and a SHA-256 of all tensor bytes,
 * which loading recomputes: a checkpoint torn or corrupted in any byte is refused. */
#ifndef DK_TRAIN_CHECKPOINT_H
#define DK_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "model/model.h"

typedef struct {
    long step;              /* optimizer steps completed */
    uint64_t seed;
    uint64_t next_seq;      /* sampler: sequences drawn */
    uint64_t *cursors;      /* sampler: per-source cursors (n_sources) */
    size_t n_sources;
    char data_sha256[65];   /* the dataset manifest's SHA-256 */
} ckpt_state;

int ckpt_save(const char *path, model *m, const float *adam_m, const float *adam_v,
              const ckpt_state *s, dk_err *err);
/* Loads into m (whose config must equal the checkpoint's), adam_m, adam_v and s
 * (s->cursors must have room for s->n_sources, which must match). */
int ckpt_load(const char *path, model *m, float *adam_m, float *adam_v, ckpt_state *s,
              dk_err *err);

/* A run's checkpoints: RUN/checkpoints/step_NNNNNNNN.safetensors. */
void ckpt_path(char *buf, size_t cap, const char *run, long step);
/* The steps of RUN's checkpoints, newest first (at most cap). */
int ckpt_list(const char *run, long *steps, int cap);
/* Deletes all but the newest `keep` checkpoints. */
void ckpt_rotate(const char *run, int keep);
/* Removes the temporary files a killed checkpoint write left. */
void ckpt_remove_temps(const char *run);

#endif
