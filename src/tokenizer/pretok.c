/* pretok.c: the "dokja-v1" chunker (see pretok.h for the rules) and the registry of
 * pre-tokenizer kinds; the llama.cpp kinds are in pretok_gpt2.c, pretok_llama3.c,
 * pretok_gpt4o.c and pretok_exaone_moe.c. */
#include "tokenizer/pretok.h"

#include <string.h>

#include "tokenizer/pretok_llama.h"
#include "util/err.h"
#include "util/utf8.h"

/* Class and length of the character at s[i]; invalid bytes are 1-byte UC_INVALID. */
static inline uclass char_at(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    uint8_t c = s[i];
    if (c < 0x80) {
        *len = 1;
        return utf8_class(c);
    }
    uint32_t cp;
    size_t l = utf8_decode(s + i, n - i, &cp);
    if (l == 0) {
        *len = 1;
        return UC_INVALID;
    }
    *len = l;
    return utf8_class(cp);
}

static size_t contraction_end(const uint8_t *s, size_t n, size_t pos)
{
    /* s[pos] == '\'' */
    static const char *const SUFFIX[] = {"s", "t", "re", "ve", "m", "ll", "d"};
    for (size_t k = 0; k < sizeof SUFFIX / sizeof SUFFIX[0]; k++) {
        size_t m = strlen(SUFFIX[k]);
        if (pos + 1 + m > n)
            continue;
        int ok = 1;
        for (size_t j = 0; j < m && ok; j++)
            ok = (s[pos + 1 + j] | 0x20) == SUFFIX[k][j];
        if (!ok)
            continue;
        size_t end = pos + 1 + m, len;
        if (end < n && char_at(s, n, end, &len) == UC_LATIN)
            continue; /* 'sam is not a contraction */
        return end;
    }
    return 0;
}

/* End of a digit group whose first digit ends at `end`: at most 3 digits. */
static size_t digit_group_end(const uint8_t *s, size_t n, size_t end)
{
    for (int k = 1; k < 3 && end < n; k++) {
        size_t l2;
        if (char_at(s, n, end, &l2) != UC_DIGIT)
            break;
        end += l2;
    }
    return end;
}

size_t pretok_next(const uint8_t *s, size_t n, size_t pos)
{
    size_t len, start = pos;
    uclass c = char_at(s, n, pos, &len);

    if (c == UC_DIGIT)
        return digit_group_end(s, n, pos + len);

    if (c == UC_SPACE) {
        size_t end = pos + len, last = pos;
        uclass next = UC_SPACE;
        size_t l2 = 0;
        while (end < n) {
            next = char_at(s, n, end, &l2);
            if (next != UC_SPACE || end + l2 - start > PRETOK_MAX_CHUNK)
                break;
            last = end;
            end += l2;
        }
        if (end >= n || next == UC_SPACE)
            return end; /* at the end, or cut by the length cap */
        if (s[last] != ' ')
            return end;
        if (last > start)
            return last; /* leave the final space for the next chunk */
        if (next == UC_DIGIT) /* " 2015" -> " 201" "5": the space joins the first group */
            return digit_group_end(s, n, end + l2);
        /* A single space: it becomes the prefix of the following run. */
        pos = end;
        c = next;
        len = l2;
    } else if (s[pos] == '\'') {
        size_t e = contraction_end(s, n, pos);
        if (e)
            return e;
    }

    /* A run of class c (combining marks continue it). */
    size_t end = pos + len;
    while (end < n) {
        size_t l2;
        uclass k = char_at(s, n, end, &l2);
        if ((k != c && k != UC_EXTEND) || end + l2 - start > PRETOK_MAX_CHUNK)
            break;
        end += l2;
    }
    return end;
}

size_t pretok_safe_split(const uint8_t *s, size_t n, size_t target)
{
    for (size_t p = target; p < n; p++) {
        const uint8_t *nl = memchr(s + p, '\n', n - p);
        if (!nl)
            return n;
        p = (size_t)(nl - s) + 1;
        if (p >= n)
            return n;
        size_t len;
        if (char_at(s, n, p, &len) != UC_SPACE && p > 0)
            return p;
        p--; /* loop increments */
    }
    return n;
}

/* ---- the registry of kinds -------------------------------------------------------- */

static const char *const NAMES[TOK_PRETOK_COUNT] = {
    [TOK_PRETOK_DOKJA_V1] = PRETOK_NAME,  [TOK_PRETOK_GPT2] = "gpt-2",
    [TOK_PRETOK_LLAMA_BPE] = "llama-bpe", [TOK_PRETOK_QWEN2] = "qwen2",
    [TOK_PRETOK_EXAONE] = "exaone",       [TOK_PRETOK_EXAONE4] = "exaone4",
    [TOK_PRETOK_EXAONE_MOE] = "exaone-moe", [TOK_PRETOK_KANANA2] = "kanana2",
    [TOK_PRETOK_SOLAR_OPEN] = "solar-open", [TOK_PRETOK_MIDM2] = "midm-2.0",
    [TOK_PRETOK_AX4] = "a.x-4.0",         [TOK_PRETOK_KORMO] = "kormo",
    [TOK_PRETOK_TRILLION] = "trillion",
};

const char *pretok_name(enum tok_pretok k)
{
    DK_ASSERT((unsigned)k < TOK_PRETOK_COUNT);
    return NAMES[k];
}

int pretok_from_name(const char *name, enum tok_pretok *out)
{
    for (int k = 0; k < TOK_PRETOK_COUNT; k++)
        if (strcmp(name, NAMES[k]) == 0) {
            *out = (enum tok_pretok)k;
            return 0;
        }
    return -1;
}

size_t pretok_next_kind(enum tok_pretok k, const uint8_t *s, size_t n, size_t pos)
{
    switch (k) {
    case TOK_PRETOK_DOKJA_V1: return pretok_next(s, n, pos);
    case TOK_PRETOK_GPT2:
    case TOK_PRETOK_EXAONE4:
    case TOK_PRETOK_AX4:
    case TOK_PRETOK_TRILLION: return pretok_gpt2_next(s, n, pos, 0);
    case TOK_PRETOK_EXAONE: return pretok_gpt2_next(s, n, pos, 1);
    case TOK_PRETOK_LLAMA_BPE:
    case TOK_PRETOK_MIDM2: return pretok_llama3_next(s, n, pos, 3);
    case TOK_PRETOK_QWEN2:
    case TOK_PRETOK_SOLAR_OPEN:
    case TOK_PRETOK_KORMO: return pretok_llama3_next(s, n, pos, 1);
    case TOK_PRETOK_KANANA2: return pretok_gpt4o_next(s, n, pos);
    case TOK_PRETOK_EXAONE_MOE: return pretok_exaone_moe_next(s, n, pos);
    case TOK_PRETOK_COUNT: break;
    }
    DK_ASSERT(!"unknown pre-tokenizer kind");
    return n;
}

size_t pretok_safe_split_kind(enum tok_pretok k, const uint8_t *s, size_t n, size_t target)
{
    if (k == TOK_PRETOK_DOKJA_V1)
        return pretok_safe_split(s, n, target);
    return pretok_llama_safe_split(s, n, target);
}
