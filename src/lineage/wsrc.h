/* wsrc.h: a model's weights as the lineage test reads them: memory-mapped
 * safetensors (one file or the shards of model.safetensors.index.json; F32, BF16 or
 * F16) or a GGUF file (llama architecture; F32, F16, BF16, Q8_0), read a matrix or a
 * few rows at a time by their Hugging Face names and converted to float32 on the way
 * (a GGUF's Q and K rows in rotate-half order, as dokja and Hugging Face have them).
 * Nothing holds the whole model: a 70B checkpoint costs the page cache, not RAM. */
#ifndef DK_LINEAGE_WSRC_H
#define DK_LINEAGE_WSRC_H

#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"
#include "model/config.h"

typedef struct {
    char dir[4096];
    model_config cfg;
    st_file **files;
    char **paths;
    size_t n_files;
    uint64_t bytes; /* of all weight files */
    struct gguf_file *g;  /* a GGUF instead of safetensors */
    uint32_t *qrow, *krow; /* GGUF: the GGUF row of each HF row of q_proj, k_proj */
} wsrc;

/* Opens DIR (config.json + weights) or a GGUF file. */
int wsrc_open(wsrc *w, const char *dir, dk_err *err);
void wsrc_close(wsrc *w);

/* The tensor NAME with its file; NULL (and err filled) if missing. */
const st_tensor *wsrc_find(const wsrc *w, const char *name, const st_file **file, dk_err *err);

/* The shape of the 2-D tensor NAME. */
int wsrc_shape(const wsrc *w, const char *name, uint64_t *rows, uint64_t *cols, dk_err *err);
/* Rows [r0, r0 + n) of the 2-D tensor NAME (shape rows x cols) as float32 into out
 * (n x cols); rows may be NULL-terminated list instead: see wsrc_rows_list. Checks
 * the shape against want_cols (0: any). */
int wsrc_rows(const wsrc *w, const char *name, size_t r0, size_t n, size_t want_cols, float *out,
              dk_err *err);
/* The listed rows (row indices) of NAME into out (n x cols). */
int wsrc_rows_list(const wsrc *w, const char *name, const size_t *rows, size_t n,
                   size_t want_cols, float *out, dk_err *err);
/* Columns [c0, c0 + nc) of the listed rows (rows NULL: rows 0..n-1) of NAME into out
 * (n x nc). */
int wsrc_block(const wsrc *w, const char *name, const size_t *rows, size_t n, size_t c0, size_t nc,
               size_t want_cols, float *out, dk_err *err);
/* Starts reading tensor NAME from disk (if missing: nothing). */
void wsrc_prefetch(const wsrc *w, const char *name);
/* A 1-D tensor of want_n elements (e.g. a norm's weight). */
int wsrc_vector(const wsrc *w, const char *name, size_t want_n, float *out, dk_err *err);

#endif
