/* records.h: the pieces of the ledger's records that a writer and a verifier must compute
 * the same way (docs/ledger.md gives them byte by byte):
 *
 * - seeds under a public beacon: SHA-256(label || seed as u64 LE || beacon bytes), first
 *   8 bytes as u64 LE, with label "dokja-beacon-init" for the initialisation seed and
 *   "dokja-beacon-data" for the data-order seed;
 * - a step's batch digest: SHA-256 over the global batch's sequences in order, each as
 *   its source index (u32 LE) and window index (u64 LE);
 * - the optimizer digest: SHA-256 over AdamW's first then second moments, float32 LE in
 *   dokja's flat layout order (model/params.h), then the step count t as u64 LE.
 * The weights digest is params_sha256 (model/params.h). */
#ifndef DK_LEDGER_RECORDS_H
#define DK_LEDGER_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

#define LEDGER_BEACON_MAX 256 /* bytes */

uint64_t ledger_beacon_seed(const char *label, uint64_t seed, const uint8_t *beacon, size_t len);

/* Parses an even number (2 to 2 x LEDGER_BEACON_MAX) of hex digits: bytes, or -1. */
int ledger_parse_beacon(const char *hex, uint8_t *out, size_t *len);

void ledger_batch_add(sha256_stream *h, int src, uint64_t window);

/* -1 only when out of memory. */
int ledger_optimizer_sha256(const float *m, const float *v, size_t n, long t, uint8_t out[32]);

#endif
