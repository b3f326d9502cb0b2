/* view.h: a ledger read for auditing: the chain checked (ledger/ledger.h), then the
 * records' order and content (docs/ledger.md) checked and indexed: the genesis's config,
 * hyperparameters, seeds and data sources parsed; each step's record and the checkpoints
 * found. Every refusal names the first bad record: "RUN/ledger.jsonl:LINE: ...".
 *
 * This is what `dokja ledger verify`, `replay` and `audit-order` start from. */
#ifndef DK_AUDIT_VIEW_H
#define DK_AUDIT_VIEW_H

#include <stdint.h>

#include "data/dataset.h"
#include "ledger/ledger.h"
#include "ledger/records.h"
#include "model/config.h"

typedef struct {
    long step;
    size_t rec;     /* index of its record */
    long total;     /* the schedule's length in effect (genesis steps, or a later "steps") */
} view_step;

typedef struct {
    long step;
    size_t rec;
    const char *file;
} view_ckpt;

typedef struct {
    char run[4096];
    ledger l;
    const ledger_rec *genesis, *beacon, *init, *final; /* beacon, final: NULL if absent */
    model_config cfg;
    /* genesis "train" */
    long steps, warmup, checkpoint_every;
    int batch_size, micro_batch, seq_len, bf16;
    double lr, min_lr, weight_decay, grad_clip;
    /* seeds: the trainer's, the beacon, and those in use (init record) */
    uint64_t seed, data_seed, init_seed, data_order_seed;
    const char *beacon_source; /* NULL: chosen by the trainer */
    uint8_t beacon_bytes[LEDGER_BEACON_MAX];
    size_t beacon_len;
    int from_model;            /* init from a model: derived */
    const char *source_sha256; /* of that model */
    /* genesis "data": sources without shards (names, weights, token counts), enough
     * for the sampler's draw (train/sampler.h: sampler_pick) */
    dataset data;
    const char *manifest_sha256, *merkle_root, *tokenizer_sha256;
    view_step *st;
    long n_steps;   /* step records: st[k] is step k + 1 */
    view_ckpt *ck;
    size_t n_ck;
} ledger_view;

int view_open(ledger_view *v, const char *run, dk_err *err);
void view_close(ledger_view *v);

/* "record N (line L)" of record index i, for messages. */
const char *view_where(const ledger_view *v, size_t i, char *buf, size_t cap);

#endif
