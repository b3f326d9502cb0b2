/* ledger.h: the training ledger's container: RUN/ledger.jsonl, one JSON object per line,
 * each line's first two members "n" (its index from 0) and "prev" (the SHA-256, hex, of
 * the previous line's bytes without its newline; 64 zeros for the genesis). Changing,
 * dropping, duplicating or moving a line breaks the chain at the first line after it, and
 * the head (the hash of the last line) commits to the whole file. What the records say is
 * ledger_verify's business (ledger/verify.h; format in docs/ledger.md).
 *
 * The record's hash is over its bytes as written, so the writer's JSON formatting is not
 * part of the format: another program may write its own (compact, one line, UTF-8). */
#ifndef DK_LEDGER_LEDGER_H
#define DK_LEDGER_LEDGER_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

#define LEDGER_FORMAT "dokja-ledger/1"
#define LEDGER_FILE "ledger.jsonl"
#define LEDGER_MAX_BYTES ((size_t)1 << 34) /* 16 GiB: ~60 M step records */

/* ---- writing (dokja train) --------------------------------------------------------- */

typedef struct {
    FILE *f;
    char path[4400];
    long n;           /* records written (the next record's index) */
    uint8_t head[32]; /* hash of the last record (zeros before the genesis) */
} ledger_writer;

/* A new, empty ledger at path (fails if one exists). */
int ledger_create(ledger_writer *w, const char *path, dk_err *err);
/* An existing ledger, checked as a chain and cut after its first `keep` records (a resumed
 * run writes again what the killed one wrote after its checkpoint: the same bytes). */
int ledger_reopen(ledger_writer *w, const char *path, long keep, dk_err *err);
/* Appends rec (its members after "n" and "prev", in their order); the caller keeps rec. */
int ledger_append(ledger_writer *w, const json_t *rec, dk_err *err);
/* Makes what was appended durable (fsync): at checkpoints and at the end. */
int ledger_sync(ledger_writer *w, dk_err *err);
void ledger_close(ledger_writer *w);

/* ---- reading ------------------------------------------------------------------------ */

typedef struct {
    json_t *j;        /* the object */
    const char *type; /* its "type" (inside j) */
    long line;        /* 1-based line number */
    uint8_t hash[32]; /* of its bytes */
} ledger_rec;

typedef struct {
    char path[4400];
    ledger_rec *r;
    size_t n;
    uint8_t head[32];
} ledger;

/* Reads and checks the container: every line a JSON object with a string "type", "n" equal
 * to its index, "prev" the previous line's hash, nothing after the last newline. The first
 * violation is the error, "PATH:LINE: ...". */
int ledger_read(ledger *l, const char *path, dk_err *err);
/* The same, but with torn_ok a last line without its newline (a write cut by a kill) is
 * left out instead of refused: what a resumed run starts from. */
int ledger_read_ex(ledger *l, const char *path, int torn_ok, dk_err *err);
void ledger_free(ledger *l);

/* The record's member as a number / integer / string (NULL/0 with *ok = 0 if absent or of
 * another type); ok may be shared by several calls and only ever goes to 0. */
double ledger_num(const ledger_rec *r, const char *key, int *ok);
long long ledger_int(const ledger_rec *r, const char *key, int *ok);
const char *ledger_str(const ledger_rec *r, const char *key, int *ok);

#endif
