/* quality.c: the quality filters of quality.h. */
#include "data/quality.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/utf8.h"

const char *const quality_reason_name[4] = {"", "too_short", "quality", "repetition"};

void quality_params_default(quality_params *p)
{
    /* repetition off: Gopher's thresholds, tuned on English web text, drop 17 % of the
     * statutes and 21 % of the LibreOffice help as 2 KB documents (docs/data.md) */
    *p = (quality_params){.min_chars = 3, .min_letter_share = 0.25, .repetition = 0};
}

void quality_scratch_free(quality_scratch *s)
{
    free(s->h);
    free(s->cur);
    free(s->key);
    free(s->chars);
    free(s->idx);
    free(s->covered);
    free(s->lines);
    free(s->line_chars);
    memset(s, 0, sizeof *s);
}

/* Room for `words` words (and as many n-grams) and `lines` lines. */
static int reserve(quality_scratch *s, size_t words, size_t lines)
{
    if (words > s->cap_words) {
        size_t c = words + words / 2 + 64, tab = 1;
        while (tab < 2 * c)
            tab <<= 1;
        free(s->h), free(s->cur), free(s->key), free(s->chars), free(s->idx), free(s->covered);
        s->h = malloc(c * sizeof *s->h);
        s->cur = malloc(c * sizeof *s->cur);
        s->key = malloc(tab * sizeof *s->key); /* the n-gram table: 2x the n-grams or more */
        s->chars = malloc(c * sizeof *s->chars);
        s->idx = malloc((c + tab) * sizeof *s->idx); /* per n-gram its slot; per slot its count */
        s->covered = malloc(c);
        if (!s->h || !s->cur || !s->key || !s->chars || !s->idx || !s->covered) {
            s->cap_words = 0;
            return -1;
        }
        s->cap_words = c;
    }
    if (lines > s->cap_lines) {
        size_t c = lines + lines / 2 + 16;
        free(s->lines), free(s->line_chars);
        s->lines = malloc(c * sizeof *s->lines);
        s->line_chars = malloc(c * sizeof *s->line_chars);
        if (!s->lines || !s->line_chars) {
            s->cap_lines = 0;
            return -1;
        }
        s->cap_lines = c;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Gopher's line rules: duplicate lines (a line equal to an earlier one) over 30 % of the
 * lines, or their characters over 20 % of all. Each line's character count is packed
 * into the low 20 bits of its hash, so one sort of s->lines brings equal lines together
 * with their counts (equal lines have equal counts). */
static int lines_repeat(quality_scratch *s, size_t n, uint64_t total_chars)
{
    if (n < 2)
        return 0;
    /* pack (hash, chars) so that sorting keeps them together */
    for (size_t i = 0; i < n; i++)
        s->lines[i] = (s->lines[i] & ~(uint64_t)0xFFFFF) | (s->line_chars[i] > 0xFFFFF ? 0xFFFFF : s->line_chars[i]);
    qsort(s->lines, n, sizeof *s->lines, cmp_u64);
    size_t dup = 0;
    uint64_t dup_chars = 0;
    for (size_t i = 1; i < n; i++)
        if (s->lines[i] == s->lines[i - 1]) {
            dup++;
            dup_chars += s->lines[i] & 0xFFFFF;
        }
    return (double)dup > 0.30 * (double)n || (double)dup_chars > 0.20 * (double)total_chars;
}

#define ROLL 0x9E3779B97F4A7C15ULL

/* Counts the n-grams of hashes cur[0..m) in an open-addressing table (keys in s->key, a
 * slot is empty while its count is 0): slot_of[i] is n-gram i's slot, count[slot] how
 * often it occurs. */
static void count_ngrams(quality_scratch *s, const uint64_t *cur, size_t m, uint32_t *slot_of,
                           uint32_t *count)
{
    size_t tab = 1;
    while (tab < 2 * m)
        tab <<= 1;
    size_t mask = tab - 1;
    memset(count, 0, tab * sizeof *count);
    for (size_t i = 0; i < m; i++) {
        uint64_t k = cur[i];
        size_t j = (size_t)(hash_u64(k) & mask);
        while (count[j] && s->key[j] != k)
            j = (j + 1) & mask;
        s->key[j] = k;
        count[j]++;
        slot_of[i] = (uint32_t)j;
    }
}

/* Gopher's n-gram rules presuppose documents of at least 50 words (its length filter):
 * in a 15-word sentence one 2-gram said twice ("she had ... she had") is already 20 % of
 * the characters. Shorter documents are not judged by them (measured: docs/data.md). */
#define REPEAT_MIN_WORDS 50

static int words_repeat(quality_scratch *s, size_t w)
{
    static const double top[5] = {0, 0, 0.20, 0.18, 0.16};
    static const double dup[11] = {0, 0, 0, 0, 0, 0.15, 0.14, 0.13, 0.12, 0.11, 0.10};
    uint64_t total = 0;
    for (size_t i = 0; i < w; i++)
        total += s->chars[i];
    if (w < REPEAT_MIN_WORDS || total == 0)
        return 0;
    uint64_t *cur = s->cur; /* the n-gram at each position, grown from the (n-1)-gram */
    memcpy(cur, s->h, w * sizeof *cur);
    uint32_t *slot_of = s->idx, *count = s->idx + s->cap_words;
    int verdict = 0;
    for (size_t n = 2; n <= 10 && n <= w && !verdict; n++) {
        size_t m = w - n + 1;
        for (size_t i = 0; i < m; i++) /* cur[i]: the n-gram at i, from the (n-1)-gram */
            cur[i] = cur[i] * ROLL + s->h[i + n - 1];
        count_ngrams(s, cur, m, slot_of, count);
        if (n <= 4) { /* the most frequent n-gram, if it repeats: its occurrences' characters */
            uint32_t best = 1;
            size_t at = 0;
            for (size_t i = 0; i < m; i++)
                if (count[slot_of[i]] > best)
                    best = count[slot_of[i]], at = i;
            if (best >= 2) {
                uint64_t c = 0;
                for (size_t k = 0; k < n; k++)
                    c += s->chars[at + k];
                verdict = (double)(c * best) > top[n] * (double)total;
            }
        } else { /* the words inside any n-gram that occurs twice or more */
            memset(s->covered, 0, w);
            for (size_t i = 0; i < m; i++)
                if (count[slot_of[i]] >= 2)
                    memset(s->covered + i, 1, n);
            uint64_t c = 0;
            for (size_t i = 0; i < w; i++)
                c += s->covered[i] ? s->chars[i] : 0;
            verdict = (double)c > dup[n] * (double)total;
        }
    }
    return verdict;
}

/* What a lead byte says of its character, for quality_counts: the classes that need
 * the code point (2-byte, U+0800-3FFF, U+F000-FFFF and 4-byte characters, and bytes
 * that valid UTF-8 never has) are decoded; U+4000-EFFF (CJK, Yi, Hangul, private use:
 * all letters to utf8_class) and ASCII are known from the byte. */
enum { QB_OTHER, QB_SPACE, QB_LETTER, QB_WIDE_LETTER, QB_CONT, QB_DECODE };

static const uint8_t QB_KIND[256] = {
    [0x09 ... 0x0D] = QB_SPACE,       [' '] = QB_SPACE,         ['A' ... 'Z'] = QB_LETTER,
    ['a' ... 'z'] = QB_LETTER,        [0x80 ... 0xBF] = QB_CONT, [0xC0 ... 0xE3] = QB_DECODE,
    [0xE4 ... 0xEE] = QB_WIDE_LETTER, [0xEF ... 0xFF] = QB_DECODE, /* the rest of ASCII: QB_OTHER */
};

void quality_counts(const uint8_t *t, size_t len, size_t *nonspace, size_t *letters)
{
    size_t ns = 0, lt = 0;
    for (size_t i = 0; i < len;) {
        unsigned k = QB_KIND[t[i]];
        if (k == QB_DECODE) { /* rare in Korean and English text */
            uint32_t cp;
            size_t l = utf8_decode(t + i, len - i, &cp);
            if (l == 0)
                cp = 0xFFFD, l = 1;
            uclass c = utf8_class(cp);
            ns += c != UC_SPACE;
            lt += c == UC_HANGUL || c == UC_LATIN || c == UC_LETTER;
            i += l;
            continue;
        }
        /* one byte at a time, without a branch on the script: continuation bytes count
         * nothing */
        ns += k != QB_SPACE && k != QB_CONT;
        lt += k == QB_LETTER || k == QB_WIDE_LETTER;
        i++;
    }
    *nonspace = ns;
    *letters = lt;
}

/* One pass for the repetition filter: the characters, the non-space ones and the
 * letters among them (as quality_counts), and each word's and line's hash and
 * characters into s. 0, or -1 on out of memory. */
static int scan_words_lines(const uint8_t *t, size_t len, quality_scratch *s, size_t *nonspace_out,
                            size_t *letters_out, size_t *words_out, size_t *lines_out, size_t *chars_out)
{
    size_t words = 0, lines = 0, nonspace = 0, letters = 0, chars = 0;
    if (reserve(s, len / 2 + 2, len / 2 + 2) != 0) /* a word or line takes 2 bytes */
        return -1;
    size_t word_start = 0, line_start = 0;
    uint32_t wchars = 0, lchars = 0;
    int in_word = 0;
    for (size_t i = 0; i <= len;) {
        uint32_t cp = '\n';
        size_t l = 1;
        if (i < len) {
            l = utf8_decode(t + i, len - i, &cp);
            if (l == 0)
                cp = 0xFFFD, l = 1; /* not UTF-8: a character of its own */
        }
        uclass c = i < len ? utf8_class(cp) : UC_SPACE;
        int space = c == UC_SPACE || cp == '\n';
        if (!space) {
            nonspace++;
            letters += c == UC_HANGUL || c == UC_LATIN || c == UC_LETTER;
            if (!in_word)
                word_start = i, wchars = 0, in_word = 1;
            wchars++;
        } else if (in_word) {
            s->h[words] = hash_u64(hash_bytes(t + word_start, i - word_start));
            s->chars[words++] = wchars;
            in_word = 0;
        }
        if (cp == '\n') { /* a line ends (or the text) */
            if (i > line_start) {
                s->lines[lines] = hash_bytes(t + line_start, i - line_start);
                s->line_chars[lines++] = lchars;
            }
            line_start = i + 1;
            lchars = 0;
        } else {
            lchars++;
        }
        chars += i < len;
        i += l;
    }
    *nonspace_out = nonspace, *letters_out = letters;
    *words_out = words, *lines_out = lines, *chars_out = chars;
    return 0;
}

int quality_check(const quality_params *p, const uint8_t *t, size_t len, quality_scratch *s)
{
    if (!p->min_chars && !(p->min_letter_share > 0) && !p->repetition)
        return QUALITY_OK;
    size_t nonspace, letters, words = 0, lines = 0, chars = 0;
    if (!p->repetition) /* the defaults: the two counts, no words or lines */
        quality_counts(t, len, &nonspace, &letters);
    else if (scan_words_lines(t, len, s, &nonspace, &letters, &words, &lines, &chars) != 0)
        return -1;
    if (p->min_chars && nonspace < (size_t)p->min_chars)
        return QUALITY_SHORT;
    if (p->min_letter_share > 0 && (double)letters < p->min_letter_share * (double)nonspace)
        return QUALITY_LETTERS;
    if (p->repetition) {
        if (lines_repeat(s, lines, chars))
            return QUALITY_REPETITION;
        if (words_repeat(s, words))
            return QUALITY_REPETITION;
    }
    return QUALITY_OK;
}
