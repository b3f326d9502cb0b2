/* hangul.c: arithmetic Hangul composition (L V -> LV, LV T -> LVT). */
#include "tokenizer/hangul.h"

#include <string.h>

#include "util/utf8.h"

enum {
    S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7,
    L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT, S_COUNT = 11172
};

static int is_l(uint32_t c) { return c >= L_BASE && c < L_BASE + L_COUNT; }
static int is_v(uint32_t c) { return c >= V_BASE && c < V_BASE + V_COUNT; }
static int is_t(uint32_t c) { return c > T_BASE && c < T_BASE + T_COUNT; }
static int is_lv(uint32_t c) { return c >= S_BASE && c < S_BASE + S_COUNT && (c - S_BASE) % T_COUNT == 0; }

/* Peeks the code point at s[i] (0 if invalid or at the end). */
static uint32_t peek(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    if (i >= n) {
        *len = 0;
        return 0;
    }
    uint32_t cp;
    *len = utf8_decode(s + i, n - i, &cp);
    return *len ? cp : 0;
}

int hangul_needs_compose(const uint8_t *in, size_t n)
{
    /* Every V and T Jamo (U+1161..U+11C2) is encoded as E1 85 xx or E1 86 xx / E1 87 xx. */
    const uint8_t *p = in, *end = in + n;
    while ((p = memchr(p, 0xE1, (size_t)(end - p))) != NULL) {
        if (end - p >= 3 && (p[1] == 0x85 || p[1] == 0x86 || p[1] == 0x87))
            return 1;
        p++;
    }
    return 0;
}

size_t hangul_compose(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t len;
        uint32_t c = peek(in, n, i, &len);
        if (len == 0) { /* invalid byte: copy as is */
            out[o++] = in[i++];
            continue;
        }
        size_t l2, l3;
        uint32_t next = peek(in, n, i + len, &l2);
        if (is_l(c) && is_v(next)) {
            uint32_t s = S_BASE + ((c - L_BASE) * V_COUNT + (next - V_BASE)) * T_COUNT;
            size_t used = len + l2;
            uint32_t t = peek(in, n, i + used, &l3);
            if (is_t(t)) {
                s += t - T_BASE;
                used += l3;
            }
            o += utf8_encode(s, out + o);
            i += used;
        } else if (is_lv(c) && is_t(next)) {
            o += utf8_encode(c + (next - T_BASE), out + o);
            i += len + l2;
        } else {
            memcpy(out + o, in + i, len);
            o += len;
            i += len;
        }
    }
    return o;
}
