/* replay.h: `dokja ledger replay`: re-executes segments of a recorded run and requires
 * the bits to match. A segment runs from one anchor to the next: the generated initial
 * weights (step 0, zero moments, a fresh sampler) or a checkpoint, to the next checkpoint.
 * Each replayed step's batch digest, loss and gradient norm must equal the record, and the
 * weights' and optimizer state's digests at the segment's end must equal the checkpoint
 * record's, byte for byte: dokja's training is deterministic, so the tolerance is zero
 * (Proof-of-Learning's tolerance is what its published forgeries live in).
 *
 * Which segments: the first (from the generated weights: a from-scratch start) and the
 * last always; the others drawn from SHA-256(challenge || ledger head), so a team cannot
 * know which until the auditor reveals the challenge after the ledger is handed over. */
#ifndef DK_AUDIT_REPLAY_H
#define DK_AUDIT_REPLAY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

typedef struct {
    const char *run, *data;
    const uint8_t *challenge;
    size_t challenge_len;
    int segments; /* K */
    int threads;
    int quiet;
} replay_opts;

typedef struct {
    long from, to;   /* steps: the segment replays steps from+1 .. to */
    int ok;
    char detail[700];
    double seconds;
} replay_segment;

typedef struct {
    replay_segment *seg;
    int n, failed;
    long steps_total, steps_replayed;
    long n_segments; /* in the run */
    char head[65];
    char run_build[128]; /* the genesis's dokja version and commit */
    int same_build;      /* this binary is that build: bits cannot differ by the code */
} replay_report;

/* Replays; returns 0 when it ran (r says which segments matched), -1 when it could not
 * (a message: the ledger, the data, a missing checkpoint file, another kernel class). */
int ledger_replay(const replay_opts *o, replay_report *r, dk_err *err);
void replay_report_free(replay_report *r);
void replay_print(const replay_report *r, FILE *f);
json_t *replay_json(const replay_report *r);

#endif
