/* safetensors.h: reading and writing the safetensors format (Hugging Face), treating
 * every file as untrusted.
 *
 * Layout: u64 little-endian header length N; N bytes of UTF-8 JSON, an object whose
 * keys are tensor names mapping to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the byte after the header), plus an optional "__metadata__"
 * object of string values; then the data, which must be covered exactly by the
 * tensors: starting at 0, no gaps, no overlaps, nothing after the last tensor.
 *
 * Files are memory-mapped, never read whole. F32, BF16 and F16 load (converted to
 * float32); data may be misaligned and is copied, never cast. Any file that opens has
 * passed every check in docs/safetensors.md, so readers of st_tensor fields may trust
 * them: begin <= end <= data size, end - begin == numel * dtype size. */
#ifndef DK_IO_SAFETENSORS_H
#define DK_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER 100000000u /* bytes of JSON; the same limit as the reference reader */
#define ST_MAX_TENSORS 1000000u

typedef enum { ST_F32, ST_BF16, ST_F16 } st_dtype;

typedef struct {
    const char *name; /* non-empty UTF-8; owned by the st_file */
    st_dtype dtype;
    int ndim;         /* 0 .. ST_MAX_DIMS; 0 is a scalar (numel 1) */
    uint64_t shape[ST_MAX_DIMS];
    uint64_t numel;   /* product of shape; 0 if any dimension is 0 */
    uint64_t begin, end; /* byte offsets in the data section */
} st_tensor;

typedef struct st_file st_file;

/* Maps path and validates it; on failure *out is NULL and err says "PATH: problem". */
int st_open(st_file **out, const char *path, dk_err *err);
/* The same on a caller-owned buffer (tests, fuzzing); buf must outlive the file, and
 * name is used in error messages. */
int st_open_buf(st_file **out, const uint8_t *buf, size_t n, const char *name, dk_err *err);
/* Frees everything, including the names and metadata strings handed out. NULL is fine. */
void st_close(st_file *f);

size_t st_count(const st_file *f);
/* Tensors in data order (sorted by begin; ties by end, then name). NULL if i is out of
 * range. */
const st_tensor *st_tensor_at(const st_file *f, size_t i);
/* By name, O(log n) (binary search: no hash an attacker could flood). NULL if absent. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Metadata value, or NULL. Linear in the number of metadata entries. */
const char *st_meta(const st_file *f, const char *key);
/* Metadata entries in file order: i in [0, st_meta_count). NULL if out of range. */
size_t st_meta_count(const st_file *f);
const char *st_meta_key(const st_file *f, size_t i);
const char *st_meta_val(const st_file *f, size_t i);

/* Raw little-endian bytes of t (t->end - t->begin of them), zero-copy and possibly
 * misaligned: callers must memcpy rather than cast. */
const uint8_t *st_raw(const st_file *f, const st_tensor *t);
/* t converted to float32 into out (t->numel floats). Fails only if t is not one of f's
 * tensors. */
int st_read_f32(const st_file *f, const st_tensor *t, float *out, dk_err *err);

/* Writing: tensors laid out in the given order; BF16 entries are rounded to nearest
 * even from the float data. The header is padded with spaces to a multiple of 8 so the
 * data section starts 8-aligned. Keys appear as given (metadata first), so the same
 * inputs give the same bytes. Atomic: on any failure the previous file at path, if any,
 * is untouched and no temporary file is left. Everything is checked before the file is
 * created: names non-empty, distinct, valid UTF-8 and not "__metadata__"; dtype F32 or
 * BF16; ndim 0..ST_MAX_DIMS; sizes that fit; data non-NULL unless empty; metadata keys
 * distinct; whatever st_open would reject. */
typedef struct {
    const char *name;
    st_dtype dtype; /* ST_F32 or ST_BF16 */
    int ndim;
    const uint64_t *shape;
    const float *data; /* numel floats, read-only */
} st_entry;

int st_write(const char *path, const st_entry *tensors, size_t n, const char *const *meta_keys,
             const char *const *meta_vals, size_t n_meta, dk_err *err);

/* "F32", "BF16", "F16", and bytes per element. */
const char *st_dtype_name(st_dtype d);
unsigned st_dtype_size(st_dtype d);

/* Conversions (exposed for tests and callers that use st_raw). */
float st_bf16_to_f32(uint16_t h);
float st_f16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f); /* round to nearest even; NaN stays NaN */

#endif
