/* records.c: see records.h. */
#include "ledger/records.h"

#include <string.h>

static void put_u64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

uint64_t ledger_beacon_seed(const char *label, uint64_t seed, const uint8_t *beacon, size_t len)
{
    uint8_t b[64 + 8 + LEDGER_BEACON_MAX], d[32];
    size_t ll = strlen(label);
    if (ll > 64)
        ll = 64;
    if (len > LEDGER_BEACON_MAX)
        len = LEDGER_BEACON_MAX;
    memcpy(b, label, ll);
    put_u64(b + ll, seed);
    memcpy(b + ll + 8, beacon, len);
    sha256_buf(b, ll + 8 + len, d);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | d[i];
    return x;
}

int ledger_parse_beacon(const char *hex, uint8_t *out, size_t *len)
{
    return strlen(hex) >= 2 && hex_decode(hex, out, LEDGER_BEACON_MAX, len) == 0 ? 0 : -1;
}

void ledger_batch_add(sha256_stream *h, int src, uint64_t window)
{
    uint8_t b[12];
    uint32_t s = (uint32_t)src;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(s >> (8 * i));
    put_u64(b + 4, window);
    sha256_add(h, b, sizeof b);
}

int ledger_optimizer_sha256(const float *m, const float *v, size_t n, long t, uint8_t out[32])
{
    sha256_stream *h = sha256_begin();
    if (!h)
        return -1;
    sha256_add(h, m, n * sizeof *m);
    sha256_add(h, v, n * sizeof *v);
    uint8_t b[8];
    put_u64(b, (uint64_t)t);
    sha256_add(h, b, 8);
    sha256_end(h, out);
    return 0;
}
