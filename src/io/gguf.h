/* gguf.h: reading and writing GGUF (llama.cpp's model file), every file untrusted.
 *
 * Layout (docs/gguf.md has the whole list of checks): "GGUF", u32 version (2 or 3),
 * u64 tensor count, u64 key-value count; the key-value pairs (string key, u32 value
 * type, value; arrays are u32 element type, u64 count, elements; strings are u64
 * length and bytes); the tensor infos (string name, u32 dimension count, u64 per
 * dimension with ne[0] the fastest-varying, u32 ggml type, u64 offset into the data
 * section); padding to general.alignment (default 32); the data section.
 *
 * Files are memory-mapped, never read whole. Opening validates everything, so that
 * no reader of the accessors below can be led out of the file: counts and lengths
 * against the bytes that remain (so no allocation is larger than the file justifies),
 * value and tensor types known, keys and tensor names unique, non-empty UTF-8, names
 * at most GGUF_MAX_NAME bytes, dimensions non-zero and their product without
 * overflow, ne[0] a multiple of the type's block, offsets aligned and every tensor
 * inside the data section with no two overlapping, alignment a power of two. */
#ifndef DK_IO_GGUF_H
#define DK_IO_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 63      /* llama.cpp's GGML_MAX_NAME is 64 with the NUL */
#define GGUF_DEFAULT_ALIGNMENT 32

/* Value types of the key-value section. */
typedef enum {
    GGUF_UINT8 = 0, GGUF_INT8 = 1, GGUF_UINT16 = 2, GGUF_INT16 = 3, GGUF_UINT32 = 4,
    GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9,
    GGUF_UINT64 = 10, GGUF_INT64 = 11, GGUF_FLOAT64 = 12, GGUF_N_VTYPES
} gguf_vtype;

/* The ggml tensor types dokja converts; every other ggml type is recognised (its
 * block size is known, so files holding it are validated and listed) but its data is
 * not read. */
enum { GGML_F32 = 0, GGML_F16 = 1, GGML_Q8_0 = 8, GGML_BF16 = 30 };

typedef struct {
    const char *name; /* NUL-terminated copy, owned by the file */
    uint32_t type;    /* ggml type */
    int n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] fastest; unused dims are 1 */
    uint64_t numel, nbytes;
    uint64_t offset;  /* into the data section */
} gguf_tensor;

typedef struct gguf_file gguf_file;

int gguf_open(gguf_file **out, const char *path, dk_err *err);
/* The same on a caller-owned buffer that outlives the file (tests, fuzzing). */
int gguf_open_buf(gguf_file **out, const uint8_t *buf, size_t n, const char *name, dk_err *err);
void gguf_close(gguf_file *f);
const char *gguf_name(const gguf_file *f);
uint32_t gguf_version(const gguf_file *f);

/* Key-value pairs, in file order. gguf_find returns the index or -1. */
size_t gguf_n_kv(const gguf_file *f);
const char *gguf_kv_key(const gguf_file *f, size_t i);
gguf_vtype gguf_kv_type(const gguf_file *f, size_t i);
int gguf_find(const gguf_file *f, const char *key);

/* Typed reads by key. Each fails with "NAME: key: problem" if the key is absent
 * (unless a default applies: the *_or forms), of another type, or out of range.
 * Integers of any width and sign convert when the value fits; floats take FLOAT32 or
 * FLOAT64. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, dk_err *err);
int gguf_get_u32_or(const gguf_file *f, const char *key, uint32_t dflt, uint32_t *out, dk_err *err);
int gguf_get_f64(const gguf_file *f, const char *key, double *out, dk_err *err);
int gguf_get_f64_or(const gguf_file *f, const char *key, double dflt, double *out, dk_err *err);
int gguf_get_bool_or(const gguf_file *f, const char *key, int dflt, int *out, dk_err *err);
/* A string value (not NUL-terminated; may hold any bytes). */
int gguf_get_str(const gguf_file *f, const char *key, const uint8_t **s, size_t *len, dk_err *err);
/* An array: its element type and count. */
int gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype *elem, uint64_t *n, dk_err *err);
/* Element i of the array at kv index k (bounds and types checked by the caller via
 * gguf_get_arr; these assert). */
const uint8_t *gguf_arr_str(const gguf_file *f, size_t k, uint64_t i, size_t *len);
int64_t gguf_arr_int(const gguf_file *f, size_t k, uint64_t i);   /* integer or bool elements */
double gguf_arr_float(const gguf_file *f, size_t k, uint64_t i);  /* float or integer elements */

/* The value of key i exactly as stored after its type (for copying it unchanged). */
const uint8_t *gguf_kv_raw(const gguf_file *f, size_t i, size_t *n);

/* Tensors in file order; by name in O(log n). */
size_t gguf_n_tensors(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);
const uint8_t *gguf_tensor_data(const gguf_file *f, const gguf_tensor *t);
/* Rows [row0, row0 + nrows) of t (rows of ne[0] elements) as float32. F32, F16, BF16
 * and Q8_0 (dequantized as ggml does); any other type fails naming it. */
int gguf_read_rows_f32(const gguf_file *f, const gguf_tensor *t, uint64_t row0, uint64_t nrows,
                       float *out, dk_err *err);

/* ggml types: name ("Q4_K"), or NULL if unknown; block size and bytes per block. */
const char *ggml_type_name(uint32_t type);
int ggml_type_block(uint32_t type, uint32_t *block, uint32_t *bytes);
const char *gguf_vtype_name(uint32_t vtype);

/* Conversions (ggml's rounding: nearest, ties to even). */
uint16_t ggml_f32_to_f16(float f);
float ggml_f16_to_f32(uint16_t h);
/* One Q8_0 block: 32 floats -> 34 bytes (f16 scale, 32 int8), as quantize_row_q8_0_ref. */
void ggml_quantize_q8_0(const float *x, uint8_t out[34]);

/* ---- writing --------------------------------------------------------------------- */

/* A writer collects metadata and tensors, then writes the file atomically; tensor data
 * is converted row by row while writing, so the caller's float32 arrays are the only
 * copy. Metadata appears in the order added, tensors in the order added, each at the
 * next aligned offset: the same inputs give the same bytes. Errors (duplicate keys or
 * names, bad shapes, a type not writable) are reported by gguf_writer_save. */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_w_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_w_f32(gguf_writer *w, const char *key, float v);
void gguf_w_bool(gguf_writer *w, const char *key, int v);
void gguf_w_str(gguf_writer *w, const char *key, const char *s);
/* Arrays: strings given as pointers and lengths, int32 or float32 values. */
void gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *s, const size_t *len,
                    size_t n);
void gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *v, size_t n);
void gguf_w_arr_f32(gguf_writer *w, const char *key, const float *v, size_t n);
/* A value copied as stored in another file (gguf_kv_raw), of type t. */
void gguf_w_raw(gguf_writer *w, const char *key, gguf_vtype t, const uint8_t *raw, size_t n);
/* A tensor of type GGML_F32, F16, BF16 or Q8_0 (ne[0] a multiple of 32) from float32
 * rows (ne[0] floats each, ne[1] * ne[2] * ne[3] rows). row_perm, if not NULL, gives
 * for each output row the source row. Both arrays must live until save. */
void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                   const uint64_t *ne, const float *data, const uint32_t *row_perm);
int gguf_writer_save(gguf_writer *w, const char *path, dk_err *err);

#endif
