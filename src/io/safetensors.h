/* safetensors.h: reading and writing the safetensors format (Hugging Face), treating
 * every file as untrusted.
 *
 * Layout: u64 little-endian header length N; N bytes of UTF-8 JSON, an object whose
 * keys are tensor names mapping to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the byte after the header), plus an optional "__metadata__"
 * object of string values; then the data, which must be covered exactly by the
 * tensors: no gaps, no overlaps, nothing after the last tensor.
 *
 * Files are memory-mapped, never read whole. F32, BF16 and F16 load (converted to
 * float32); data may be misaligned and is copied, never cast. */
#ifndef DK_IO_SAFETENSORS_H
#define DK_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER 100000000u
#define ST_MAX_TENSORS 1000000u

typedef enum { ST_F32, ST_BF16, ST_F16 } st_dtype;

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    uint64_t shape[ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end; /* byte offsets in the data section */
} st_tensor;

typedef struct st_file st_file;

int st_open(st_file **out, const char *path, dk_err *err);
/* The same on a caller-owned buffer (tests, fuzzing); buf must outlive the file. */
int st_open_buf(st_file **out, const uint8_t *buf, size_t n, const char *name, dk_err *err);
void st_close(st_file *f);

size_t st_count(const st_file *f);
/* Tensors in data order (sorted by begin). */
const st_tensor *st_tensor_at(const st_file *f, size_t i);
const st_tensor *st_find(const st_file *f, const char *name);
/* Metadata value, or NULL. */
const char *st_meta(const st_file *f, const char *key);
size_t st_meta_count(const st_file *f);
const char *st_meta_key(const st_file *f, size_t i);

/* Raw little-endian bytes of t (possibly misaligned). */
const uint8_t *st_raw(const st_file *f, const st_tensor *t);
/* t converted to float32 into out (t->numel floats). */
int st_read_f32(const st_file *f, const st_tensor *t, float *out, dk_err *err);

/* Writing: tensors laid out in the given order; BF16 entries are rounded to nearest
 * even from the float data. The header is padded with spaces to a multiple of 8.
 * Deterministic and atomic. */
typedef struct {
    const char *name;
    st_dtype dtype; /* ST_F32 or ST_BF16 */
    int ndim;
    const uint64_t *shape;
    const float *data;
} st_entry;

int st_write(const char *path, const st_entry *tensors, size_t n, const char *const *meta_keys,
             const char *const *meta_vals, size_t n_meta, dk_err *err);

/* Conversions (exposed for tests). */
float st_bf16_to_f32(uint16_t h);
float st_f16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);

#endif
