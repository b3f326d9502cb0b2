/* test_safetensors.c: the safetensors reader rejects every malformed variant with a
 * message naming the file, and reads and writes valid files exactly. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test.h"

/* header text + data bytes -> a file image (len is the header length as given). */
static size_t image(uint8_t *out, const char *header, uint64_t len, const void *data, size_t n)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(len >> (8 * i));
    size_t hl = strlen(header);
    memcpy(out + 8, header, hl);
    memcpy(out + 8 + hl, data, n);
    return 8 + hl + n;
}

static int open_image(const char *header, const void *data, size_t n, char *msg)
{
    static uint8_t buf[4096];
    size_t len = image(buf, header, strlen(header), data, n);
    st_file *f;
    dk_err err;
    int rc = st_open_buf(&f, buf, len, "t.safetensors", &err);
    if (rc == 0)
        st_close(f);
    else
        snprintf(msg, 1024, "%s", err.msg);
    return rc;
}

TEST(safetensors_rejects_every_malformed_variant)
{
    static const uint8_t d8[8] = {0};
    static const struct { const char *h; size_t n; const char *expect; } bad[] = {
        {"[1]", 0, "not a JSON object"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", 4, "not valid JSON"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
         "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "not valid JSON"},
        {"{\"__metadata__\": {\"k\": 1}}", 0, "not a string"},
        {"{\"__metadata__\": [1]}", 0, "__metadata__ is not an object"},
        {"{\"a\": 5}", 0, "is not an object"},
        {"{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "malformed dtype"},
        {"{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, "malformed shape"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "malformed data_offsets"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4, "non-negative"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4, "malformed data_offsets"},
        {"{\"a\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8, "unsupported dtype \"I64\""},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1}}", 4, "unknown field"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4294967296], "
         "\"data_offsets\": [0, 4]}}", 4, "overflows"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4, "end 0 < begin 4"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4, "needing 8"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "gap"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
         "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "overlaps"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
         "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "overlaps"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8, "cover 4"},
        {"{\"\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "empty name"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4, "malformed shape"},
        {"{\"\xff\": {}}", 0, "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[1024] = "";
        CHECK_MSG(open_image(bad[i].h, d8, bad[i].n, msg) != 0, "case %zu opened", i);
        CHECK_MSG(strstr(msg, bad[i].expect) && strstr(msg, "t.safetensors"),
                  "case %zu: expected \"%s\" in \"%s\"", i, bad[i].expect, msg);
    }
}

TEST(safetensors_rejects_short_files_and_bad_header_lengths)
{
    uint8_t buf[64] = {0};
    st_file *f;
    dk_err err;
    CHECK(st_open_buf(&f, buf, 7, "s.st", &err) != 0);
    CHECK_CONTAINS(err.msg, "too short");
    size_t n = image(buf, "{}", 200, "", 0); /* claims 200 header bytes, has 2 */
    CHECK(st_open_buf(&f, buf, n, "s.st", &err) != 0);
    CHECK_CONTAINS(err.msg, "past the end");
    n = image(buf, "{}", 200000000, "", 0);
    CHECK(st_open_buf(&f, buf, n, "s.st", &err) != 0);
    CHECK_CONTAINS(err.msg, "exceeds the limit");
    n = image(buf, "{}", 2, "", 0); /* empty but valid */
    CHECK(st_open_buf(&f, buf, n, "s.st", &err) == 0);
    CHECK_EQ(st_count(f), 0);
    st_close(f);
}

TEST(safetensors_write_then_read_f32_and_bf16_with_metadata)
{
    float a[6] = {1, -2.5f, 3.14159f, 0, 1e-3f, -65504};
    float b[3] = {1.0f, 1.00390625f, -3.0f}; /* exactly representable in bf16 except the 2nd */
    uint64_t sa[2] = {2, 3}, sb[1] = {3}, se[1] = {0};
    st_entry e[3] = {{"model.layers.0.\"q\".한", ST_F32, 2, sa, a},
                     {"b", ST_BF16, 1, sb, b},
                     {"empty", ST_F32, 1, se, a}};
    const char *k[2] = {"format", "note"}, *v[2] = {"pt", "무엇\"이든"};
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/w.safetensors", test_tmpdir());
    snprintf(path2, sizeof path2, "%s/w2.safetensors", test_tmpdir());
    dk_err err;
    CHECK(st_write(path, e, 3, k, v, 2, &err) == 0);
    CHECK(st_write(path2, e, 3, k, v, 2, &err) == 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s %s", path, path2), 0); /* deterministic */
    st_file *f;
    CHECK_MSG(st_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK_EQ(st_count(f), 3);
    CHECK_STR(st_meta(f, "note"), "무엇\"이든");
    const st_tensor *t = st_find(f, "model.layers.0.\"q\".한");
    CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->begin % 8 == 0);
    float out[6];
    CHECK(st_read_f32(f, t, out, &err) == 0);
    CHECK(memcmp(out, a, sizeof a) == 0);
    t = st_find(f, "b");
    CHECK(t && t->dtype == ST_BF16);
    CHECK(st_read_f32(f, t, out, &err) == 0);
    CHECK(out[0] == 1.0f && out[1] == 1.0f && out[2] == -3.0f); /* 1.0039 rounds to even: 1.0 */
    CHECK(st_find(f, "empty") && st_find(f, "empty")->numel == 0);
    CHECK(st_find(f, "missing") == NULL);
    st_close(f);
    /* a write into a missing directory fails cleanly */
    CHECK(st_write("/nonexistent/dir/x.safetensors", e, 3, k, v, 2, &err) != 0);
}

TEST(safetensors_reads_misaligned_data_and_f16)
{
    /* header of odd length: the data starts at an odd address */
    const char *h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]},"
                    "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]} }";
    uint16_t halves[6] = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x7E00};
    uint8_t data[16];
    memcpy(data, halves, 12);
    float x = 0.1f;
    memcpy(data + 12, &x, 4);
    uint8_t buf[256];
    size_t n = image(buf, h, strlen(h), data, 16);
    CHECK(strlen(h) % 2 == 1);
    st_file *f;
    dk_err err;
    CHECK_MSG(st_open_buf(&f, buf, n, "m.st", &err) == 0, "%s", err.msg);
    float out[6];
    CHECK(st_read_f32(f, st_find(f, "h"), out, &err) == 0);
    CHECK(out[0] == 1.0f && out[1] == -2.5f && out[2] == 65504.0f);
    CHECK(out[3] == ldexpf(1.0f, -24));
    CHECK(isinf(out[4]) && out[4] > 0 && isnan(out[5]));
    CHECK(st_read_f32(f, st_find(f, "f"), out, &err) == 0);
    CHECK(out[0] == 0.1f);
    st_close(f);
}
