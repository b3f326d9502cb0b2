/* verify.h: `dokja ledger verify`: everything a training ledger claims that can be checked
 * without training, each check a line of the report:
 *
 *   chain            the hash chain and the records' order (audit/view.h)
 *   seeds            trainer-chosen, or derived from the recorded public beacon
 *   initial weights  exactly what the config and the seed generate: a random start
 *                    (a run from --init-from is derived and fails it, unless derived_ok)
 *   schedule         every step's learning rate is the schedule's, to the last bit
 *   batches          every step's batch is the sampler's draw from the recorded data
 *                    sources and seed; checkpoints' sampler states agree
 *   checkpoints      each checkpoint file still present holds the recorded weights and
 *                    optimizer state (files rotated away are listed, not failed)
 *   data             with a dataset: its manifest, tokenizer and Merkle root of its shards
 *   final model      RUN/model.safetensors (and --model) is the ledger's final model
 *
 * What it cannot check, replay does (audit/replay.h): that the steps between checkpoints
 * were trained as recorded. */
#ifndef DK_AUDIT_VERIFY_H
#define DK_AUDIT_VERIFY_H

#include <jansson.h>
#include <stdio.h>

#include "audit/view.h"

typedef enum { CK_PASS, CK_FAIL, CK_SKIP } check_status;

typedef struct {
    const char *name;
    check_status st;
    char detail[900];
} verify_check;

typedef struct {
    char run[4096];
    verify_check c[12];
    int n, failed;
    int have_view;
    ledger_view v; /* when the chain and records read */
    char head[65];
} verify_report;

typedef struct {
    const char *run, *model, *data;
    int derived_ok; /* a run started from a model passes the initial-weights check */
    int threads;    /* 0: all */
} verify_opts;

/* Runs every check; returns the number failed (0: the ledger holds). */
int ledger_verify(const verify_opts *o, verify_report *r);
void verify_report_free(verify_report *r);

void verify_print(const verify_report *r, FILE *f);
json_t *verify_json(const verify_report *r);
/* A one-page certificate: the verdict, each check, what the genesis commits to, the loss
 * curve. Written atomically. */
int verify_write_html(const verify_report *r, const char *path, dk_err *err);

#endif
