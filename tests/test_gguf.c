/* test_gguf.c: the GGUF writer's bytes read back exactly; ggml's conversions (f16,
 * Q8_0) on known values; and every malformation of the list in docs/interop.md is
 * refused with one line naming the file and the problem, never a crash (the ASan build
 * runs these too). Bad files are assembled byte by byte with a small builder. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/gguf.h"
#include "test.h"

/* ---- a byte builder for hand-made files ---- */
typedef struct {
    uint8_t b[4096];
    size_t n;
} buf;

static void u32(buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->b[b->n++] = (uint8_t)(v >> (8 * i));
}
static void u64(buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b->b[b->n++] = (uint8_t)(v >> (8 * i));
}
static void str(buf *b, const char *s)
{
    u64(b, strlen(s));
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}
static void header(buf *b, uint32_t version, uint64_t n_t, uint64_t n_kv)
{
    b->n = 0;
    memcpy(b->b, "GGUF", 4);
    b->n = 4;
    u32(b, version);
    u64(b, n_t);
    u64(b, n_kv);
}
static void kv_u32(buf *b, const char *k, uint32_t v)
{
    str(b, k);
    u32(b, GGUF_UINT32);
    u32(b, v);
}
static void tinfo(buf *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off)
{
    str(b, name);
    u32(b, nd);
    for (uint32_t d = 0; d < nd; d++)
        u64(b, ne[d]);
    u32(b, type);
    u64(b, off);
}
/* pads to 32 and appends n zero bytes of data */
static void data(buf *b, size_t n)
{
    while (b->n % 32)
        b->b[b->n++] = 0;
    memset(b->b + b->n, 0, n);
    b->n += n;
}

/* NULL if b opens, else the message */
static const char *open_msg(const buf *b)
{
    static dk_err err;
    gguf_file *f;
    if (gguf_open_buf(&f, b->b, b->n, "t.gguf", &err) == 0) {
        gguf_close(f);
        return NULL;
    }
    return err.msg;
}

#define CHECK_REFUSED(b, needle)                                                           \
    do {                                                                                   \
        const char *m_ = open_msg(b);                                                      \
        CHECK_MSG(m_ != NULL, "accepted a file that should fail with '%s'", needle);      \
        CHECK_CONTAINS(m_, "t.gguf: ");                                                    \
        CHECK_CONTAINS(m_, needle);                                                        \
        CHECK(strchr(m_, '\n') == NULL);                                                   \
    } while (0)

/* A valid two-tensor file: one key, tensors a (F32 8) and b (F32 4x2). */
static void valid(buf *b)
{
    header(b, 3, 2, 1);
    kv_u32(b, "general.x", 7);
    uint64_t ne1[1] = {8}, ne2[2] = {4, 2};
    tinfo(b, "a", 1, ne1, GGML_F32, 0);
    tinfo(b, "b", 2, ne2, GGML_F32, 32);
    data(b, 64);
}

TEST(gguf_hand_made_valid_file_opens)
{
    buf b;
    valid(&b);
    CHECK(open_msg(&b) == NULL);
}

TEST(gguf_refuses_each_malformation_with_one_line)
{
    buf b;
    uint64_t ne1[1] = {8}, ne2[2] = {4, 2};
    valid(&b);
    memcpy(b.b, "GGUG", 4);
    CHECK_REFUSED(&b, "bad magic");
    valid(&b);
    b.b[4] = 1;
    CHECK_REFUSED(&b, "unsupported GGUF version 1");
    valid(&b);
    b.b[4] = 4;
    CHECK_REFUSED(&b, "unsupported GGUF version 4");
    header(&b, 3, 0, UINT64_MAX / 2);
    CHECK_REFUSED(&b, "keys cannot fit");
    header(&b, 3, (uint64_t)1 << 60, 0);
    CHECK_REFUSED(&b, "tensors cannot fit");
    /* a key whose length runs past the end */
    header(&b, 3, 0, 1);
    u64(&b, (uint64_t)1 << 50);
    data(&b, 64);
    CHECK_REFUSED(&b, "past the end");
    /* a string value claiming 2^62 bytes */
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_STRING);
    u64(&b, (uint64_t)1 << 62);
    CHECK_REFUSED(&b, "past the end");
    /* unknown value type; unknown array element type; nested array */
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, 13);
    u32(&b, 0);
    CHECK_REFUSED(&b, "unknown value type 13");
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_ARRAY);
    u32(&b, 99);
    u64(&b, 0);
    CHECK_REFUSED(&b, "unknown array element type 99");
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_ARRAY);
    u32(&b, GGUF_ARRAY);
    u64(&b, 0);
    CHECK_REFUSED(&b, "nested arrays");
    /* an array of 2^61 strings, or of 2^61 uint32 */
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_ARRAY);
    u32(&b, GGUF_STRING);
    u64(&b, (uint64_t)1 << 61);
    CHECK_REFUSED(&b, "cannot fit");
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_ARRAY);
    u32(&b, GGUF_UINT32);
    u64(&b, (uint64_t)1 << 61);
    CHECK_REFUSED(&b, "past the end");
    /* a bool that is 2 */
    header(&b, 3, 0, 1);
    str(&b, "k");
    u32(&b, GGUF_BOOL);
    b.b[b.n++] = 2;
    CHECK_REFUSED(&b, "bool value 2");
    /* duplicate keys */
    header(&b, 3, 0, 2);
    kv_u32(&b, "k", 1);
    kv_u32(&b, "k", 2);
    CHECK_REFUSED(&b, "duplicate key \"k\"");
    /* an empty key; a key that is not UTF-8 */
    header(&b, 3, 0, 1);
    kv_u32(&b, "", 1);
    CHECK_REFUSED(&b, "empty a key");
    header(&b, 3, 0, 1);
    kv_u32(&b, "\xff", 1);
    CHECK_REFUSED(&b, "not valid UTF-8");
    /* alignment not a power of two, or zero */
    header(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", 24);
    CHECK_REFUSED(&b, "not a power of two");
    header(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", 0);
    CHECK_REFUSED(&b, "not a power of two");
    /* unknown tensor type; zero-sized dimension; too many dimensions; overflowing product */
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 1, ne1, 5, 0);
    data(&b, 32);
    CHECK_REFUSED(&b, "unknown tensor type 5");
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 2, (uint64_t[]){8, 0}, GGML_F32, 0);
    data(&b, 32);
    CHECK_REFUSED(&b, "dimension 1 is zero");
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 5, (uint64_t[]){1, 1, 1, 1, 1}, GGML_F32, 0);
    data(&b, 32);
    CHECK_REFUSED(&b, "5 dimensions");
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 2, (uint64_t[]){(uint64_t)1 << 40, (uint64_t)1 << 40}, GGML_F32, 0);
    data(&b, 32);
    CHECK_REFUSED(&b, "overflows");
    /* a Q8_0 row that is not whole blocks */
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 1, (uint64_t[]){33}, GGML_Q8_0, 0);
    data(&b, 96);
    CHECK_REFUSED(&b, "not a multiple of the Q8_0 block of 32");
    /* duplicate tensor names; a name of 64 bytes */
    header(&b, 3, 2, 0);
    tinfo(&b, "a", 1, ne1, GGML_F32, 0);
    tinfo(&b, "a", 1, ne1, GGML_F32, 32);
    data(&b, 64);
    CHECK_REFUSED(&b, "duplicate tensor \"a\"");
    header(&b, 3, 1, 0);
    tinfo(&b, "0123456789012345678901234567890123456789012345678901234567890123", 1, ne1, GGML_F32, 0);
    data(&b, 32);
    CHECK_REFUSED(&b, "at most 63");
    /* offsets: out of bounds, misaligned, overlapping */
    header(&b, 3, 2, 0);
    tinfo(&b, "a", 1, ne1, GGML_F32, 0);
    tinfo(&b, "b", 2, ne2, GGML_F32, 64);
    data(&b, 64);
    CHECK_REFUSED(&b, "outside the data section");
    header(&b, 3, 2, 0);
    tinfo(&b, "a", 1, ne1, GGML_F32, 0);
    tinfo(&b, "b", 2, ne2, GGML_F32, 16);
    data(&b, 64);
    CHECK_REFUSED(&b, "not a multiple of the alignment 32");
    header(&b, 3, 2, 1);
    kv_u32(&b, "general.alignment", 8);
    tinfo(&b, "a", 1, ne1, GGML_F32, 0);
    tinfo(&b, "b", 2, ne2, GGML_F32, 16);
    data(&b, 64);
    CHECK_REFUSED(&b, "overlap");
    /* an offset near 2^64 must not wrap around the bounds check */
    header(&b, 3, 1, 0);
    tinfo(&b, "a", 1, ne1, GGML_F32, UINT64_MAX - 31);
    data(&b, 32);
    CHECK_REFUSED(&b, "outside the data section");
}

TEST(gguf_every_truncation_of_a_valid_file_is_refused)
{
    buf b;
    valid(&b);
    size_t n = b.n;
    for (size_t k = 0; k < n; k++) {
        b.n = k;
        const char *m = open_msg(&b);
        CHECK_MSG(m != NULL, "a prefix of %zu of %zu bytes opened", k, n);
        CHECK(strchr(m, '\n') == NULL);
    }
}

TEST(gguf_f16_conversion_rounds_as_ggml)
{
    CHECK_EQ(ggml_f32_to_f16(1.0f), 0x3C00);
    CHECK_EQ(ggml_f32_to_f16(-2.0f), 0xC000);
    CHECK_EQ(ggml_f32_to_f16(65504.0f), 0x7BFF);
    CHECK_EQ(ggml_f32_to_f16(65519.0f), 0x7BFF);
    CHECK_EQ(ggml_f32_to_f16(65520.0f), 0x7C00); /* the tie rounds to even: infinity */
    CHECK_EQ(ggml_f32_to_f16(1e9f), 0x7C00);
    CHECK_EQ(ggml_f32_to_f16(0.1f), 0x2E66);
    CHECK_EQ(ggml_f32_to_f16(ldexpf(1, -24)), 0x0001); /* the smallest subnormal */
    CHECK_EQ(ggml_f32_to_f16(ldexpf(1, -25)), 0x0000); /* half of it: ties to even, 0 */
    CHECK_EQ(ggml_f32_to_f16(ldexpf(3, -26)), 0x0001);
    CHECK_EQ(ggml_f32_to_f16(ldexpf(1, -14)), 0x0400); /* the smallest normal */
    CHECK_EQ(ggml_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3C00); /* tie: to even */
    CHECK_EQ(ggml_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3C02); /* tie: to even, up */
    CHECK(ggml_f32_to_f16(NAN) & 0x200);
    CHECK_EQ(ggml_f32_to_f16(NAN) & 0x7C00, 0x7C00);
    /* every f16 value survives the round trip through float */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF))
            continue; /* NaNs */
        CHECK_EQ(ggml_f32_to_f16(ggml_f16_to_f32((uint16_t)h)), h);
    }
}

TEST(gguf_q8_0_block_matches_ggml_reference)
{
    float x[32];
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j - 16) * 0.25f;
    uint8_t q[34];
    ggml_quantize_q8_0(x, q);
    /* amax 4.0: d = 4/127, stored as f16; q = round(x * 127/4) half away from zero */
    float d = 4.0f / 127.0f;
    CHECK_EQ(q[0] | q[1] << 8, ggml_f32_to_f16(d));
    for (int j = 0; j < 32; j++)
        CHECK_EQ((int8_t)q[2 + j], (int)roundf(x[j] * (1.0f / d)));
    CHECK_EQ((int8_t)q[2], -127);
    float z[32] = {0};
    ggml_quantize_q8_0(z, q);
    for (int j = 0; j < 34; j++)
        CHECK_EQ(q[j], 0);
}

TEST(gguf_writer_round_trip_every_type_and_metadata)
{
    enum { R = 6, C = 64 };
    static float m[R * C];
    for (int i = 0; i < R * C; i++)
        m[i] = sinf((float)i * 0.37f) * (1.0f + (float)(i % 7));
    uint32_t perm[R] = {5, 3, 1, 0, 2, 4};
    const char *toks[3] = {"a", "\xc4\xa0" "b", ""};
    size_t lens[3] = {1, 3, 0};
    int32_t types[3] = {1, 3, 5};
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.block_count", 3);
    gguf_w_f32(w, "llama.rope.freq_base", 10000.0f);
    gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1);
    gguf_w_i32(w, "neg", -5);
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", toks, lens, 3);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, 3);
    uint64_t ne[2] = {C, R}, ne1[1] = {C};
    gguf_w_tensor(w, "f32", GGML_F32, 2, ne, m, perm);
    gguf_w_tensor(w, "f16", GGML_F16, 2, ne, m, NULL);
    gguf_w_tensor(w, "bf16", GGML_BF16, 2, ne, m, NULL);
    gguf_w_tensor(w, "q8", GGML_Q8_0, 2, ne, m, NULL);
    gguf_w_tensor(w, "vec", GGML_F32, 1, ne1, m, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/rt.gguf", test_tmpdir());
    dk_err err;
    CHECK_MSG(gguf_writer_save(w, path, &err) == 0, "%s", err.msg);
    gguf_writer_free(w);

    gguf_file *f;
    CHECK_MSG(gguf_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK_EQ(gguf_version(f), 3);
    CHECK_EQ(gguf_n_kv(f), 7);
    CHECK_STR(gguf_kv_key(f, 0), "general.architecture");
    uint32_t u;
    double d;
    int bo;
    CHECK(gguf_get_u32(f, "llama.block_count", &u, &err) == 0 && u == 3);
    CHECK(gguf_get_f64(f, "llama.rope.freq_base", &d, &err) == 0 && d == 10000.0);
    CHECK(gguf_get_bool_or(f, "tokenizer.ggml.add_bos_token", 0, &bo, &err) == 0 && bo == 1);
    CHECK(gguf_get_bool_or(f, "absent", 7, &bo, &err) == 0 && bo == 7);
    CHECK(gguf_get_u32(f, "neg", &u, &err) != 0);
    CHECK_CONTAINS(err.msg, "out of range");
    CHECK(gguf_get_u32(f, "general.architecture", &u, &err) != 0);
    CHECK_CONTAINS(err.msg, "must be an integer");
    gguf_vtype et;
    uint64_t n;
    CHECK(gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n, &err) == 0 && et == GGUF_STRING && n == 3);
    int k = gguf_find(f, "tokenizer.ggml.tokens");
    size_t len;
    const uint8_t *s = gguf_arr_str(f, (size_t)k, 1, &len);
    CHECK(len == 3 && memcmp(s, "\xc4\xa0" "b", 3) == 0);
    gguf_arr_str(f, (size_t)k, 2, &len);
    CHECK_EQ(len, 0);
    k = gguf_find(f, "tokenizer.ggml.token_type");
    CHECK_EQ(gguf_arr_int(f, (size_t)k, 2), 5);

    CHECK_EQ(gguf_n_tensors(f), 5);
    static float got[R * C];
    const gguf_tensor *t = gguf_find_tensor(f, "f32");
    CHECK(t && t->ne[0] == C && t->ne[1] == R && t->offset % 32 == 0);
    CHECK(gguf_read_rows_f32(f, t, 0, R, got, &err) == 0);
    for (int r = 0; r < R; r++)
        CHECK(memcmp(got + r * C, m + perm[r] * C, C * sizeof(float)) == 0);
    t = gguf_find_tensor(f, "f16");
    CHECK(gguf_read_rows_f32(f, t, 2, 3, got, &err) == 0); /* a row range */
    for (int i = 0; i < 3 * C; i++)
        CHECK(got[i] == ggml_f16_to_f32(ggml_f32_to_f16(m[2 * C + i])));
    t = gguf_find_tensor(f, "bf16");
    CHECK(gguf_read_rows_f32(f, t, 0, R, got, &err) == 0);
    for (int i = 0; i < R * C; i++)
        CHECK(fabsf(got[i] - m[i]) <= fabsf(m[i]) * (1.0f / 256));
    t = gguf_find_tensor(f, "q8");
    CHECK_EQ(t->nbytes, (uint64_t)R * C / 32 * 34);
    CHECK(gguf_read_rows_f32(f, t, 0, R, got, &err) == 0);
    for (int b = 0; b < R * C / 32; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(m[b * 32 + j]));
        for (int j = 0; j < 32; j++) /* half a step of amax/127, plus the scale's f16 rounding */
            CHECK(fabsf(got[b * 32 + j] - m[b * 32 + j]) <= amax / 127 * 0.5f + amax * 2e-3f);
    }
    CHECK(gguf_read_rows_f32(f, t, 5, 2, got, &err) != 0);
    CHECK_CONTAINS(err.msg, "out of range");
    CHECK(gguf_find_tensor(f, "none") == NULL);
    gguf_close(f);
}

TEST(gguf_writer_refuses_bad_input_and_writes_nothing)
{
    float x[64] = {0};
    uint64_t ne[2] = {33, 1};
    char path[512];
    snprintf(path, sizeof path, "%s/bad.gguf", test_tmpdir());
    dk_err err;
    gguf_writer *w = gguf_writer_new();
    gguf_w_u32(w, "a", 1);
    gguf_w_u32(w, "a", 2);
    CHECK(gguf_writer_save(w, path, &err) != 0);
    CHECK_CONTAINS(err.msg, "duplicate key");
    gguf_writer_free(w);
    w = gguf_writer_new();
    gguf_w_tensor(w, "t", GGML_Q8_0, 2, ne, x, NULL);
    CHECK(gguf_writer_save(w, path, &err) != 0);
    CHECK_CONTAINS(err.msg, "multiple of the type's block");
    gguf_writer_free(w);
    struct stat st;
    CHECK(stat(path, &st) != 0);
}
