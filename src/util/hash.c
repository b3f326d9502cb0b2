/* hash.c: hash_bytes (a wyhash-style multiply-fold over 8-byte words) and SHA-256. */
#include "util/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "util/fs.h"

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes p[0..n), 0 < n < 8, as a little-endian word with zeros above them: two
 * overlapping 4-byte loads for n >= 4, three single bytes (some the same) below. */
static inline uint64_t load_tail(const uint8_t *p, size_t n)
{
    if (n >= 4)
        return (uint64_t)load32(p) | ((uint64_t)load32(p + n - 4) >> (8 * (8 - n))) << 32;
    return (uint64_t)p[0] | (uint64_t)p[n >> 1] << (8 * (n >> 1)) | (uint64_t)p[n - 1] << (8 * (n - 1));
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t hash_bytes(const void *data, size_t n)
{
    const uint8_t *p = data;
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
    uint64_t h = 0x8ebc6af09c88c6e3ULL ^ (uint64_t)n;
    while (n >= 8) {
        h = mix(h ^ load64(p), k1);
        p += 8;
        n -= 8;
    }
    if (n) /* the last 1-7 bytes, zero-extended: the same value as copying them into a
            * zeroed 8-byte word, without the byte-by-byte copy (whose exit branch
            * mispredicts and whose word load stalls on the byte stores: most chunks
            * the tokenizer hashes are shorter than 8 bytes) */
        h = mix(h ^ load_tail(p, n), k0);
    return mix(h, k0 ^ k1);
}

void sha256_buf(const void *data, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void sha256_hex(const uint8_t digest[32], char hex[65])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = d[digest[i] >> 4];
        hex[2 * i + 1] = d[digest[i] & 15];
    }
    hex[64] = 0;
}

int sha256_file(const char *path, uint8_t out[32], dk_err *err)
{
    FILE *f = fs_open_regular(path, err);
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        fclose(f);
        return dk_errf(err, "%s: out of memory for SHA-256", path);
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static __thread uint8_t buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(ctx, buf, r);
    int bad = ferror(f);
    fclose(f);
    unsigned int len = 32;
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    if (bad)
        return dk_errf(err, "%s: read error", path);
    return 0;
}

sha256_stream *sha256_begin(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return (sha256_stream *)ctx;
}

void sha256_add(sha256_stream *s, const void *data, size_t n)
{
    EVP_DigestUpdate((EVP_MD_CTX *)s, data, n);
}

void sha256_end(sha256_stream *s, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_DigestFinal_ex((EVP_MD_CTX *)s, out, &len);
    EVP_MD_CTX_free((EVP_MD_CTX *)s);
}

int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

int sha256_parse_hex(const char *hex, uint8_t out[32])
{
    size_t n;
    return hex && strlen(hex) == 64 && hex_decode(hex, out, 32, &n) == 0 ? 0 : -1;
}

int sha256_hex_eq(const char *hex, const uint8_t d[32])
{
    uint8_t x[32];
    return hex && sha256_parse_hex(hex, x) == 0 && memcmp(x, d, 32) == 0;
}
