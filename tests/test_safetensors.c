/* test_safetensors.c: the safetensors reader rejects every malformed variant with a
 * message naming the file and the problem, converts F32/BF16/F16 exactly, and the
 * writer produces exact, deterministic bytes, atomically. Bad files are built in memory:
 * an 8-byte length, the header text, then zero bytes as data. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test.h"

/* length (as given) + header + n zero bytes of data, in a malloc'd buffer */
static uint8_t *image(const char *header, uint64_t len, size_t n, size_t *size)
{
    size_t hl = strlen(header);
    uint8_t *b = calloc(1, 8 + hl + n + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(len >> (8 * i));
    memcpy(b + 8, header, hl);
    *size = 8 + hl + n;
    return b;
}

/* Opens header + n data bytes as "t.safetensors"; returns NULL if it opened, else the
 * error message (static). */
static const char *open_msg_len(const char *header, uint64_t len, size_t n)
{
    static dk_err err;
    size_t size;
    uint8_t *b = image(header, len, n, &size);
    st_file *f;
    int rc = st_open_buf(&f, b, size, "t.safetensors", &err);
    if (rc == 0)
        st_close(f);
    free(b);
    return rc == 0 ? NULL : err.msg;
}

static const char *open_msg(const char *header, size_t n)
{
    return open_msg_len(header, strlen(header), n);
}

/* The file is rejected, the message names it and contains `expect`. */
#define CHECK_REJECTS(header, n, expect)                                                   \
    do {                                                                                   \
        const char *m_ = open_msg(header, n);                                              \
        CHECK_MSG(m_ != NULL, "opened but should not: %s", header);                         \
        CHECK_CONTAINS(m_, "t.safetensors: ");                                             \
        CHECK_CONTAINS(m_, expect);                                                        \
    } while (0)

#define CHECK_OPENS(header, n)                                                             \
    do {                                                                                   \
        const char *m_ = open_msg(header, n);                                              \
        CHECK_MSG(m_ == NULL, "rejected: %s", m_);                                          \
    } while (0)

/* one tensor entry, for brevity */
#define T(name, body) "\"" name "\":{" body "}"
#define F32_1 "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"

/* ---- rejections -------------------------------------------------------------------- */

TEST(safetensors_rejects_files_shorter_than_8_bytes)
{
    uint8_t buf[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    for (size_t n = 0; n < 8; n++) {
        st_file *f = (st_file *)1;
        dk_err err;
        CHECK(st_open_buf(&f, buf, n, "s.st", &err) != 0);
        CHECK(f == NULL);
        CHECK_CONTAINS(err.msg, "s.st: ");
        CHECK_CONTAINS(err.msg, "too short");
    }
}

TEST(safetensors_rejects_header_length_over_100_million)
{
    const char *m = open_msg_len("{}", 100000001, 0);
    CHECK(m);
    CHECK_CONTAINS(m, "t.safetensors: header length 100000001 exceeds the limit");
    m = open_msg_len("{}", UINT64_MAX, 0); /* must not wrap around in the size checks */
    CHECK(m);
    CHECK_CONTAINS(m, "exceeds the limit");
}

TEST(safetensors_rejects_header_length_past_end_of_file)
{
    const char *m = open_msg_len("{}", 3, 0);
    CHECK(m);
    CHECK_CONTAINS(m, "t.safetensors: header length 3 runs past the end of the file (10 bytes)");
    m = open_msg_len("{}", 1000, 0);
    CHECK(m);
    CHECK_CONTAINS(m, "past the end");
}

TEST(safetensors_rejects_header_that_is_not_utf8)
{
    CHECK_REJECTS("{\"\xff\":{}}", 0, "header is not valid UTF-8");
    CHECK_REJECTS("{\"a\xed\xa0\x80\":{}}", 0, "not valid UTF-8"); /* a surrogate */
    CHECK_REJECTS("{\"\xc0\xaf\":{}}", 0, "not valid UTF-8");      /* an overlong '/' */
}

TEST(safetensors_rejects_header_that_is_not_json)
{
    CHECK_REJECTS("", 0, "header is not valid JSON");
    CHECK_REJECTS("{", 0, "not valid JSON");
    CHECK_REJECTS("{" T("a", F32_1), 4, "not valid JSON");
    CHECK_REJECTS("{} x", 0, "not valid JSON");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}", 4,
                  "not valid JSON");
    CHECK_REJECTS("{\"a\\u0000b\":" "{" F32_1 "}}", 4, "not valid JSON"); /* NUL in a key */
}

TEST(safetensors_rejects_header_that_is_not_an_object)
{
    CHECK_REJECTS("[1]", 0, "header is not a JSON object");
    CHECK_REJECTS("\"x\"", 0, "header is not a JSON object");
    CHECK_REJECTS("null", 0, "header is not a JSON object");
}

TEST(safetensors_rejects_duplicate_keys)
{
    /* jansson's words, after ours: "header is not valid JSON (duplicate object key ...)" */
    CHECK_REJECTS("{" T("a", F32_1) "," T("a", F32_1) "}", 4, "not valid JSON (duplicate");
    CHECK_REJECTS("{" T("a", F32_1) ",\"\\u0061\":{" F32_1 "}}", 4, "duplicate"); /* escaped a */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                  4, "duplicate");
    CHECK_REJECTS("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate");
}

TEST(safetensors_rejects_metadata_that_is_not_an_object_of_strings)
{
    CHECK_REJECTS("{\"__metadata__\":[1]}", 0, "__metadata__ is not an object");
    CHECK_REJECTS("{\"__metadata__\":\"x\"}", 0, "__metadata__ is not an object");
    CHECK_REJECTS("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value of \"k\" is not a string");
    CHECK_REJECTS("{\"__metadata__\":{\"a\":\"b\",\"k\":{}}}", 0, "value of \"k\" is not a string");
    CHECK_REJECTS("{\"__metadata__\":{\"k\":null}}", 0, "not a string");
}

TEST(safetensors_rejects_tensor_entry_that_is_not_an_object)
{
    CHECK_REJECTS("{\"a\":5}", 0, "tensor \"a\" is not an object");
    CHECK_REJECTS("{\"a\":[\"F32\",[1],[0,4]]}", 4, "tensor \"a\" is not an object");
}

TEST(safetensors_rejects_missing_or_malformed_dtype)
{
    CHECK_REJECTS("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "tensor \"a\": missing or malformed dtype");
    CHECK_REJECTS("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "malformed dtype");
    CHECK_REJECTS("{\"a\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "malformed dtype");
}

TEST(safetensors_rejects_unknown_dtype_naming_it)
{
    CHECK_REJECTS("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                  "tensor \"a\": unsupported dtype \"I64\"");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "unsupported dtype \"f32\""); /* case matters */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32 \",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "unsupported dtype \"F32 \"");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                  "unsupported dtype \"F8_E4M3\"");
}

TEST(safetensors_rejects_missing_or_malformed_shape)
{
#define SHAPE(x) "{\"a\":{\"dtype\":\"F32\",\"shape\":" x ",\"data_offsets\":[0,4]}}"
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                  "tensor \"a\": missing or malformed shape");
    CHECK_REJECTS(SHAPE("1"), 4, "malformed shape");
    CHECK_REJECTS(SHAPE("{}"), 4, "malformed shape");
    CHECK_REJECTS(SHAPE("[-1]"), 4, "tensor \"a\": shape entries must be non-negative integers");
    CHECK_REJECTS(SHAPE("[1.0]"), 4, "non-negative integers");
    CHECK_REJECTS(SHAPE("[\"1\"]"), 4, "non-negative integers");
    CHECK_REJECTS(SHAPE("[true]"), 4, "non-negative integers");
    CHECK_REJECTS(SHAPE("[[1]]"), 4, "non-negative integers");
    CHECK_REJECTS(SHAPE("[1,1,1,1,1,1,1,1,1]"), 4, "shape has 9 dimensions, more than 8");
    CHECK_OPENS(SHAPE("[1,1,1,1,1,1,1,1]"), 4);
#undef SHAPE
}

TEST(safetensors_rejects_missing_or_malformed_data_offsets)
{
    static const char *bad[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"0\":4}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_REJECTS(bad[i], 4, "tensor \"a\": missing or malformed data_offsets");
}

TEST(safetensors_rejects_extra_keys_in_a_tensor_entry)
{
    CHECK_REJECTS("{\"a\":{" F32_1 ",\"x\":1}}", 4, "tensor \"a\" has unknown field \"x\"");
    CHECK_REJECTS("{\"a\":{\"offsets\":[0,4]," F32_1 "}}", 4, "unknown field \"offsets\"");
}

TEST(safetensors_rejects_shape_product_overflow)
{
    /* 2^32 * 2^32 wraps to 0 in 64 bits: without the check this would "need" 0 bytes */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
                  0, "tensor \"a\": shape product overflows");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}",
                  0, "shape product overflows"); /* overflow checked even after a 0 */
}

TEST(safetensors_rejects_byte_size_overflow)
{
    /* 2^62 elements fit; 2^62 * 4 bytes wraps to 0 */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}",
                  0, "tensor \"a\": size in bytes");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"BF16\",\"shape\":[9223372036854775807,2],\"data_offsets\":[0,0]}}",
                  0, "overflows");
}

TEST(safetensors_rejects_end_before_begin)
{
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                  "tensor \"a\": data_offsets end 0 < begin 4");
}

TEST(safetensors_rejects_offsets_that_do_not_match_the_shape)
{
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                  "tensor \"a\": data_offsets span 4 bytes but F32 shape needs 8");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                  "span 8 bytes but BF16 shape needs 4");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
                  "needs 2"); /* a scalar is one element */
}

TEST(safetensors_rejects_overlapping_tensors)
{
    /* the same range twice */
    CHECK_REJECTS("{" T("a", F32_1) "," T("b", F32_1) "}", 4,
                  "tensor \"b\" (data bytes 0..4) overlaps tensor \"a\" (0..4)");
    /* sharing the last 4 bytes */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps");
    /* listed in reverse file order: still found after sorting by begin */
    CHECK_REJECTS("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12,
                  "tensor \"b\" (data bytes 4..12) overlaps tensor \"a\" (0..8)");
    /* an empty tensor placed inside another tensor's bytes */
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlaps");
}

TEST(safetensors_rejects_gaps_and_data_not_starting_at_0)
{
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                  "first tensor \"a\" starts at data byte 4, not 0");
    CHECK_REJECTS("{" T("a", F32_1) ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                  "gap in the data: bytes 4..8 between tensors \"a\" and \"b\"");
    /* an empty tensor at the start does not hide a gap after it */
    CHECK_REJECTS("{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 6, "gap in the data");
}

TEST(safetensors_rejects_data_not_ending_at_end_of_file)
{
    CHECK_REJECTS("{" T("a", F32_1) "}", 5, "1 bytes after the last tensor");
    CHECK_REJECTS("{}", 1, "1 bytes after the last tensor");
    CHECK_REJECTS("{" T("a", F32_1) "}", 3,
                  "tensor \"a\" ends at data byte 4 but the data section has only 3 bytes");
    CHECK_REJECTS("{\"a\":{\"dtype\":\"F32\",\"shape\":[1048576],\"data_offsets\":[0,4194304]}}", 0,
                  "truncated");
}

TEST(safetensors_rejects_empty_tensor_name)
{
    CHECK_REJECTS("{\"\":{" F32_1 "}}", 4, "a tensor has an empty name");
}

TEST(safetensors_rejects_more_than_a_million_tensors)
{
    /* 1,000,001 entries of "hex":0 (never inspected: the count is checked first) */
    size_t n = 1000001, o = 0;
    char *h = malloc(n * 12 + 4);
    CHECK(h);
    h[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(h + o, "%s\"%zx\":0", i ? "," : "", i);
    h[o++] = '}';
    h[o] = 0;
    const char *m = open_msg(h, 0);
    free(h);
    CHECK(m);
    CHECK_CONTAINS(m, "t.safetensors: 1000001 tensors exceed the limit of 1000000");
}

TEST(safetensors_error_messages_stay_on_one_line)
{
    /* names from the file are escaped and cut, so a hostile name cannot forge lines or
     * flood the terminal */
    CHECK_REJECTS("{\"a\\n\\\"b\\u001b[2J\":5}", 0, "tensor \"a\\x0a\\\"b\\x1b[2J\" is not an object");
    char h[600];
    snprintf(h, sizeof h, "{\"%0200d\":5}", 7);
    const char *m = open_msg(h, 0);
    CHECK(m);
    CHECK_CONTAINS(m, "tensor \"0000");
    CHECK_CONTAINS(m, "...\" is not an object");
    CHECK(strlen(m) < 200);
    /* cut inside a multi-byte character: the cut lands after the whole character */
    char han[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(han, "한"); /* 3 bytes each: byte 80 is inside the 27th */
    snprintf(h, sizeof h, "{\"%s\":5}", han);
    m = open_msg(h, 0);
    CHECK(m);
    han[27 * 3] = 0;
    CHECK_CONTAINS(m, han);
    CHECK_CONTAINS(m, "한...\" is not an object");
    CHECK(!strstr(m, "한한한한한한한한한한한한한한한한한한한한한한한한한한한한"));
    m = open_msg("{\"a\nb\":1}", 0); /* a raw newline: jansson quotes the input in its message */
    CHECK(m);
    CHECK_CONTAINS(m, "not valid JSON");
    CHECK(!strchr(m, '\n'));
}

/* ---- what is accepted ------------------------------------------------------------- */

TEST(safetensors_accepts_empty_tensors_sharing_an_offset)
{
    const char *h = "{\"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"z2\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[4,4]},"
                    "\"z3\":{\"dtype\":\"F16\",\"shape\":[0,7],\"data_offsets\":[4,4]},"
                    "\"s\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[4,6]},"
                    "\"z4\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[6,6]}}";
    size_t size;
    uint8_t *b = image(h, strlen(h), 6, &size);
    st_file *f;
    dk_err err;
    CHECK_MSG(st_open_buf(&f, b, size, "e.st", &err) == 0, "%s", err.msg);
    CHECK_EQ(st_count(f), 6);
    /* data order: by begin, then end, then name */
    const char *order[6] = {"z1", "a", "z2", "z3", "s", "z4"};
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(st_tensor_at(f, i)->name, order[i]);
    CHECK(st_tensor_at(f, 6) == NULL);
    CHECK_EQ(st_find(f, "z2")->numel, 0);
    CHECK_EQ(st_find(f, "s")->numel, 1); /* a 0-d tensor is a scalar */
    CHECK_EQ(st_find(f, "s")->ndim, 0);
    float out[1] = {42};
    CHECK(st_read_f32(f, st_find(f, "z3"), out, &err) == 0);
    CHECK(out[0] == 42); /* nothing written */
    st_close(f);
    free(b);
}

TEST(safetensors_accepts_no_tensors_and_metadata_only)
{
    CHECK_OPENS("{}", 0);
    CHECK_OPENS("{}      ", 0); /* padding spaces, as the writer makes */
    CHECK_OPENS("{\"__metadata__\":{}}", 0);
    const char *h = "{\"__metadata__\":{\"z\":\"1\",\"a\":\"\\u00e9\\n\"}}";
    size_t size;
    uint8_t *b = image(h, strlen(h), 0, &size);
    st_file *f;
    dk_err err;
    CHECK(st_open_buf(&f, b, size, "m.st", &err) == 0);
    CHECK_EQ(st_count(f), 0);
    CHECK(st_find(f, "z") == NULL);
    CHECK_EQ(st_meta_count(f), 2);
    CHECK_STR(st_meta_key(f, 0), "z"); /* file order */
    CHECK_STR(st_meta_val(f, 1), "\xc3\xa9\n");
    CHECK_STR(st_meta(f, "a"), "\xc3\xa9\n");
    CHECK(st_meta(f, "b") == NULL);
    CHECK(st_meta_key(f, 2) == NULL && st_meta_val(f, 2) == NULL);
    st_close(f);
    free(b);
}

TEST(safetensors_open_names_the_path)
{
    st_file *f;
    dk_err err;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.safetensors", test_tmpdir());
    CHECK(st_open(&f, path, &err) != 0 && f == NULL);
    CHECK_CONTAINS(err.msg, path);
    size_t size;
    uint8_t *b = image("{\"a\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 53, 1, &size);
    const char *p = test_write_file("bad.safetensors", b, size);
    free(b);
    CHECK(p);
    CHECK(st_open(&f, p, &err) != 0);
    CHECK_CONTAINS(err.msg, "bad.safetensors: tensor \"a\": unsupported dtype \"I8\"");
    p = test_write_file("empty.safetensors", "", 0);
    CHECK(st_open(&f, p, &err) != 0);
    CHECK_CONTAINS(err.msg, "empty.safetensors: 0 bytes is too short");
}

/* ---- conversions -------------------------------------------------------------------- */

TEST(safetensors_reads_misaligned_data)
{
    /* a 165-byte header puts the data at file offset 173: odd, so every value is misaligned */
    const char *h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                    "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[6,14]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[14,16]} }";
    CHECK(strlen(h) % 2 == 1);
    size_t size;
    uint8_t *buf = image(h, strlen(h), 16, &size);
    uint8_t *d = buf + 8 + strlen(h);
    const uint8_t bytes[16] = {0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b,  /* F16 1, -2.5, 65504 */
                               0xcd, 0xcc, 0xcc, 0x3d, 0x00, 0x00, 0x80, 0xbf, /* F32 0.1, -1 */
                               0x49, 0x40};                           /* BF16 3.140625 */
    memcpy(d, bytes, 16);
    st_file *f;
    dk_err err;
    CHECK_MSG(st_open_buf(&f, buf, size, "m.st", &err) == 0, "%s", err.msg);
    float out[3];
    CHECK(st_read_f32(f, st_find(f, "h"), out, &err) == 0);
    CHECK(out[0] == 1.0f && out[1] == -2.5f && out[2] == 65504.0f);
    CHECK(st_read_f32(f, st_find(f, "f"), out, &err) == 0);
    CHECK(out[0] == 0.1f && out[1] == -1.0f);
    CHECK(st_read_f32(f, st_find(f, "b"), out, &err) == 0);
    CHECK(out[0] == 3.140625f);
    CHECK(st_raw(f, st_find(f, "f")) == d + 6); /* zero-copy view into the buffer */
    st_close(f);
    free(buf);
}

TEST(safetensors_f16_converts_known_values)
{
    CHECK(st_f16_to_f32(0x3C00) == 1.0f);
    CHECK(st_f16_to_f32(0xC100) == -2.5f);
    CHECK(st_f16_to_f32(0x7BFF) == 65504.0f);               /* largest finite */
    CHECK(st_f16_to_f32(0x0001) == ldexpf(1.0f, -24));      /* smallest subnormal */
    CHECK(st_f16_to_f32(0x03FF) == ldexpf(1023.0f, -24));   /* largest subnormal */
    CHECK(st_f16_to_f32(0x0400) == ldexpf(1.0f, -14));      /* smallest normal */
    CHECK(st_f16_to_f32(0x8001) == -ldexpf(1.0f, -24));
    float z = st_f16_to_f32(0x8000);
    CHECK(z == 0.0f && signbit(z));
    CHECK(isinf(st_f16_to_f32(0x7C00)) && st_f16_to_f32(0x7C00) > 0);
    CHECK(isinf(st_f16_to_f32(0xFC00)) && st_f16_to_f32(0xFC00) < 0);
    CHECK(isnan(st_f16_to_f32(0x7E00)) && isnan(st_f16_to_f32(0x7C01)) && isnan(st_f16_to_f32(0xFFFF)));
    /* every one of the 65536 values against the definition */
    for (uint32_t h = 0; h < 65536; h++) {
        int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        float want = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(1024 + m), e - 25);
        if (s)
            want = -want;
        float got = st_f16_to_f32((uint16_t)h);
        if (e == 31)
            CHECK_MSG(m ? isnan(got) : isinf(got) && !!signbit(got) == s, "0x%04x -> %g", h, got);
        else
            CHECK_MSG(got == want && !!signbit(got) == s, "0x%04x -> %g, want %g", h, got, want);
    }
}

TEST(safetensors_bf16_rounds_to_nearest_even)
{
    CHECK_EQ(st_f32_to_bf16(1.0f), 0x3F80);
    CHECK_EQ(st_f32_to_bf16(-2.0f), 0xC000);
    CHECK_EQ(st_f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3F80);                  /* tie: down to even */
    CHECK_EQ(st_f32_to_bf16(1.0f + 3 * ldexpf(1, -8)), 0x3F82);              /* tie: up to even */
    CHECK_EQ(st_f32_to_bf16(1.0f + ldexpf(1, -8) + ldexpf(1, -20)), 0x3F81); /* above half: up */
    CHECK_EQ(st_f32_to_bf16(3.4028235e38f), 0x7F80);                         /* FLT_MAX -> inf */
    CHECK_EQ(st_f32_to_bf16(INFINITY), 0x7F80);
    CHECK_EQ(st_f32_to_bf16(-INFINITY), 0xFF80);
    CHECK_EQ(st_f32_to_bf16(-0.0f), 0x8000);
    CHECK_EQ(st_f32_to_bf16(ldexpf(1, -133)), 0x0001); /* smallest bf16 subnormal kept */
    uint32_t snan = 0x7F800001u; /* a NaN whose payload is all in the dropped half */
    float x;
    memcpy(&x, &snan, 4);
    CHECK(isnan(st_bf16_to_f32(st_f32_to_bf16(x))));
    CHECK(isnan(st_bf16_to_f32(st_f32_to_bf16(NAN))));
    CHECK(st_bf16_to_f32(0x3F80) == 1.0f && st_bf16_to_f32(0x4049) == 3.140625f);
}

/* ---- writer -------------------------------------------------------------------------- */

static int file_bytes(const char *path, uint8_t *buf, size_t cap, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *n = fread(buf, 1, cap, f);
    fclose(f);
    return 0;
}

/* Does dir contain an entry with ".tmp." in its name (a leftover atomic-write file)? */
static int has_temp_file(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            found = 1;
    closedir(d);
    return found;
}

TEST(safetensors_writer_output_is_exact_bytes)
{
    const float w[2] = {1, 2}, b[3] = {1, -2, 0.5f};
    const uint64_t sw[1] = {2}, sb[2] = {1, 3};
    const st_entry e[2] = {{"w", ST_F32, 1, sw, w}, {"b", ST_BF16, 2, sb, b}};
    const char *k[1] = {"format"}, *v[1] = {"pt"};
    char path[512];
    snprintf(path, sizeof path, "%s/exact.safetensors", test_tmpdir());
    dk_err err;
    CHECK_MSG(st_write(path, e, 2, k, v, 1, &err) == 0, "%s", err.msg);
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},"
                      "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,3],\"data_offsets\":[8,14]}}";
    CHECK_EQ(strlen(hdr), 142);
    uint8_t want[166] = {144, 0, 0, 0, 0, 0, 0, 0}; /* 142 padded to 144 */
    memcpy(want + 8, hdr, 142);
    memcpy(want + 150, "  ", 2);
    memcpy(want + 152, "\x00\x00\x80\x3f\x00\x00\x00\x40" "\x80\x3f\x00\xc0\x00\x3f", 14);
    uint8_t got[256];
    size_t n;
    CHECK(file_bytes(path, got, sizeof got, &n) == 0);
    CHECK_EQ(n, sizeof want);
    CHECK(memcmp(got, want, sizeof want) == 0);
}

TEST(safetensors_writer_is_deterministic)
{
    float a[64];
    for (int i = 0; i < 64; i++)
        a[i] = sinf((float)i);
    const uint64_t s1[2] = {8, 8}, s2[1] = {5};
    const st_entry e[3] = {{"z", ST_F32, 2, s1, a}, {"a", ST_BF16, 1, s2, a}, {"m", ST_F32, 0, NULL, a}};
    const char *k[2] = {"zz", "aa"}, *v[2] = {"1", "2"};
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/det1.safetensors", test_tmpdir());
    snprintf(p2, sizeof p2, "%s/det2.safetensors", test_tmpdir());
    dk_err err;
    CHECK(st_write(p1, e, 3, k, v, 2, &err) == 0);
    CHECK(st_write(p2, e, 3, k, v, 2, &err) == 0);
    static uint8_t b1[4096], b2[4096];
    size_t n1, n2;
    CHECK(file_bytes(p1, b1, sizeof b1, &n1) == 0 && file_bytes(p2, b2, sizeof b2, &n2) == 0);
    CHECK_EQ(n1, n2);
    CHECK(memcmp(b1, b2, n1) == 0);
    /* tensors in the order given, the data 8-aligned in the file */
    st_file *f;
    CHECK(st_open(&f, p1, &err) == 0);
    CHECK_STR(st_tensor_at(f, 0)->name, "z");
    CHECK_STR(st_tensor_at(f, 1)->name, "a");
    CHECK_STR(st_tensor_at(f, 2)->name, "m");
    CHECK_STR(st_meta_key(f, 0), "zz");
    uint64_t hl;
    memcpy(&hl, b1, 8);
    CHECK_EQ(hl % 8, 0);
    CHECK_EQ(n1, 8 + hl + 256 + 10 + 4);
    st_close(f);
}

TEST(safetensors_round_trips_f32_and_bf16_with_metadata)
{
    float a[6] = {1, -2.5f, 3.14159f, 0, 1e-3f, -65504};
    float b[3] = {1.0f, 1.00390625f, -3.0f}; /* the 2nd is a bf16 tie */
    float s = 7.5f;
    uint64_t sa[2] = {2, 3}, sb[1] = {3}, se[3] = {4, 0, 2};
    const char *weird = "model.layers.0.\"q\"\\한국어\n\t/😀";
    st_entry e[4] = {{weird, ST_F32, 2, sa, a},
                     {"b", ST_BF16, 1, sb, b},
                     {"empty", ST_F32, 3, se, NULL},
                     {"scalar", ST_F32, 0, NULL, &s}};
    const char *k[3] = {"format", "note \"q\"", "한"}, *v[3] = {"pt", "무엇\"이든\\\n", ""};
    char path[512];
    snprintf(path, sizeof path, "%s/rt.safetensors", test_tmpdir());
    dk_err err;
    CHECK_MSG(st_write(path, e, 4, k, v, 3, &err) == 0, "%s", err.msg);
    st_file *f;
    CHECK_MSG(st_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK_EQ(st_count(f), 4);
    CHECK_EQ(st_meta_count(f), 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_STR(st_meta_key(f, i), k[i]);
        CHECK_STR(st_meta_val(f, i), v[i]);
        CHECK_STR(st_meta(f, k[i]), v[i]);
    }
    const st_tensor *t = st_find(f, weird);
    CHECK(t && t->dtype == ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    CHECK(t->numel == 6 && t->begin == 0 && t->end == 24);
    float out[6];
    CHECK(st_read_f32(f, t, out, &err) == 0);
    CHECK(memcmp(out, a, sizeof a) == 0);
    CHECK(memcmp(st_raw(f, t), a, sizeof a) == 0);
    t = st_find(f, "b");
    CHECK(t && t->dtype == ST_BF16 && t->begin == 24 && t->end == 30);
    CHECK(st_read_f32(f, t, out, &err) == 0);
    CHECK(out[0] == 1.0f && out[1] == 1.0f && out[2] == -3.0f);
    t = st_find(f, "empty");
    CHECK(t && t->numel == 0 && t->ndim == 3 && t->shape[1] == 0 && t->begin == 30 && t->end == 30);
    t = st_find(f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1);
    CHECK(st_read_f32(f, t, out, &err) == 0 && out[0] == 7.5f);
    CHECK(st_find(f, "missing") == NULL && st_find(f, "") == NULL);
    CHECK(st_meta(f, "absent") == NULL);
    st_close(f);
}

TEST(safetensors_finds_each_of_thousands_of_tensors)
{
    enum { N = 5000 };
    static char names[N][16];
    static st_entry e[N];
    static const uint64_t shape[1] = {1};
    static float vals[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t.%d", (i * 7919) % N); /* not in name order */
        vals[i] = (float)i;
        e[i] = (st_entry){names[i], ST_F32, 1, shape, &vals[i]};
    }
    char path[512];
    snprintf(path, sizeof path, "%s/many.safetensors", test_tmpdir());
    dk_err err;
    CHECK_MSG(st_write(path, e, N, NULL, NULL, 0, &err) == 0, "%s", err.msg);
    st_file *f;
    CHECK(st_open(&f, path, &err) == 0);
    CHECK_EQ(st_count(f), N);
    for (int i = 0; i < N; i++) {
        const st_tensor *t = st_find(f, names[i]);
        CHECK_MSG(t && t == st_tensor_at(f, (size_t)i), "%s", names[i]);
        float x;
        CHECK(st_read_f32(f, t, &x, &err) == 0 && x == (float)i);
    }
    CHECK(st_find(f, "t.5000") == NULL && st_find(f, "t.") == NULL);
    st_close(f);
}

TEST(safetensors_read_rejects_a_tensor_of_another_file)
{
    st_tensor fake = {.name = "x", .dtype = ST_F32, .numel = 1 << 20, .begin = 0, .end = 4 << 20};
    size_t size;
    uint8_t *b = image("{}", 2, 0, &size);
    st_file *f;
    dk_err err;
    CHECK(st_open_buf(&f, b, size, "o.st", &err) == 0);
    float out[1];
    CHECK(st_read_f32(f, &fake, out, &err) != 0);
    CHECK_CONTAINS(err.msg, "does not belong");
    st_close(f);
    free(b);
}

TEST(safetensors_writer_rejects_invalid_entries)
{
    const float x[2] = {1, 2};
    const uint64_t s1[1] = {1}, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, huge[2] = {1ull << 40, 1ull << 40};
    const char *k2[2] = {"k", "k"}, *v2[2] = {"1", "2"}, *bad_utf8 = "a\xff";
    struct {
        st_entry e[2];
        size_t n;
        size_t n_meta;
        const char *expect;
    } cases[] = {
        {{{"a", ST_F16, 1, s1, x}}, 1, 0, "can only write F32 or BF16, not F16"},
        {{{"a", ST_F32, 9, s9, x}}, 1, 0, "9 dimensions"},
        {{{"a", ST_F32, -1, s1, x}}, 1, 0, "-1 dimensions"},
        {{{"a", ST_F32, 1, NULL, x}}, 1, 0, "no shape"},
        {{{"a", ST_F32, 2, huge, x}}, 1, 0, "shape too large"},
        {{{"a", ST_F32, 1, s1, NULL}}, 1, 0, "no data"},
        {{{"", ST_F32, 1, s1, x}}, 1, 0, "empty name"},
        {{{NULL, ST_F32, 1, s1, x}}, 1, 0, "empty name"},
        {{{bad_utf8, ST_F32, 1, s1, x}}, 1, 0, "not valid UTF-8"},
        {{{"__metadata__", ST_F32, 1, s1, x}}, 1, 0, "reserved"},
        {{{"a", ST_F32, 1, s1, x}, {"a", ST_BF16, 1, s1, x}}, 2, 0, "tensor \"a\" given twice"},
        {{{"a", ST_F32, 1, s1, x}}, 1, 2, "metadata key \"k\" given twice"},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/inv.safetensors", test_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_err err = {""};
        CHECK_MSG(st_write(path, cases[i].e, cases[i].n, k2, v2, cases[i].n_meta, &err) != 0,
                  "case %zu written", i);
        CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, cases[i].expect),
                  "case %zu: expected \"%s\" in \"%s\"", i, cases[i].expect, err.msg);
        CHECK(access(path, F_OK) != 0); /* checked before anything is created */
    }
    const char *kn[1] = {NULL}, *vn[1] = {"v"};
    dk_err err;
    CHECK(st_write(path, cases[0].e + 1, 0, kn, vn, 1, &err) != 0);
    CHECK_CONTAINS(err.msg, "metadata entry 0 is missing");
    CHECK(!has_temp_file(test_tmpdir()));
}

TEST(safetensors_write_is_atomic)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/atomic", test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    const float x[3] = {1, 2, 3};
    const uint64_t s3[1] = {3};
    st_entry good = {"w", ST_F32, 1, s3, x}, bad = {"w", ST_F16, 1, s3, x};
    dk_err err;
    CHECK(st_write(path, &good, 1, NULL, NULL, 0, &err) == 0);
    CHECK(!has_temp_file(dir)); /* success: renamed into place */
    uint8_t before[256], after[256];
    size_t nb, na;
    CHECK(file_bytes(path, before, sizeof before, &nb) == 0);

    /* invalid input: fails, the old file is untouched, no temp file */
    CHECK(st_write(path, &bad, 1, NULL, NULL, 0, &err) != 0);
    CHECK(file_bytes(path, after, sizeof after, &na) == 0);
    CHECK(na == nb && memcmp(before, after, nb) == 0);
    CHECK(!has_temp_file(dir));

    /* the rename fails (the target is a non-empty directory): temp file removed */
    char target[700], inner[800];
    snprintf(target, sizeof target, "%s/taken", dir);
    snprintf(inner, sizeof inner, "%s/x", target);
    CHECK(mkdir(target, 0755) == 0);
    CHECK(test_write_file("atomic/taken/x", "x", 1) != NULL);
    CHECK(st_write(target, &good, 1, NULL, NULL, 0, &err) != 0);
    CHECK_CONTAINS(err.msg, target);
    CHECK(!has_temp_file(dir));
    CHECK(access(inner, F_OK) == 0);

    /* a directory that does not exist: fails cleanly, naming the path */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.safetensors", dir);
    CHECK(st_write(missing, &good, 1, NULL, NULL, 0, &err) != 0);
    CHECK_CONTAINS(err.msg, "no/such/dir/m.safetensors");
    CHECK(file_bytes(path, after, sizeof after, &na) == 0);
    CHECK(na == nb && memcmp(before, after, nb) == 0);
}
