/* utf8.c: strict UTF-8 decoding and a compact code point classifier.
 *
 * The classifier is a table of ranges rather than full Unicode properties: the
 * tokenizer only needs to know where scripts change, and the table is part of the
 * pre-tokenizer's definition (changing it changes tokenization: bump the
 * pre-tokenizer version in tokenizer files when you do). */
#include "util/utf8.h"

#include "kernels/kern_ops.h"

size_t utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* 32 or 64 bytes at a time on the x86 paths (kernels/: utf8_valid) */
size_t utf8_validate(const uint8_t *s, size_t n) { return kern()->utf8_valid(s, n); }

typedef struct {
    uint32_t lo, hi;
    uclass cls;
} urange;

/* Non-ASCII ranges, sorted by lo. Anything not listed is UC_LETTER. */
static const urange RANGES[] = {
    {0x0080, 0x0084, UC_PUNCT},   {0x0085, 0x0085, UC_SPACE},   {0x0086, 0x009F, UC_PUNCT},
    {0x00A0, 0x00A0, UC_SPACE},   {0x00A1, 0x00BF, UC_PUNCT},   {0x00C0, 0x00D6, UC_LATIN},
    {0x00D7, 0x00D7, UC_PUNCT},   {0x00D8, 0x00F6, UC_LATIN},   {0x00F7, 0x00F7, UC_PUNCT},
    {0x00F8, 0x02AF, UC_LATIN},   {0x02B0, 0x02FF, UC_PUNCT},   {0x0300, 0x036F, UC_EXTEND},
    {0x0483, 0x0489, UC_EXTEND},  {0x0591, 0x05BD, UC_EXTEND},  {0x0610, 0x061A, UC_EXTEND},
    {0x064B, 0x065F, UC_EXTEND},  {0x0900, 0x0903, UC_EXTEND},  {0x093A, 0x094F, UC_EXTEND},
    {0x0E31, 0x0E31, UC_EXTEND},  {0x0E34, 0x0E3A, UC_EXTEND},  {0x0E47, 0x0E4E, UC_EXTEND},
    {0x1100, 0x11FF, UC_HANGUL},  {0x1680, 0x1680, UC_SPACE},   {0x1AB0, 0x1AFF, UC_EXTEND},
    {0x1DC0, 0x1DFF, UC_EXTEND},  {0x1E00, 0x1EFF, UC_LATIN},   {0x2000, 0x200A, UC_SPACE},
    {0x200B, 0x2027, UC_PUNCT},   {0x2028, 0x2029, UC_SPACE},   {0x202A, 0x202E, UC_PUNCT},
    {0x202F, 0x202F, UC_SPACE},   {0x2030, 0x205E, UC_PUNCT},   {0x205F, 0x205F, UC_SPACE},
    {0x2060, 0x20CF, UC_PUNCT},   {0x20D0, 0x20FF, UC_EXTEND},  {0x2100, 0x2BFF, UC_PUNCT},
    {0x2C60, 0x2C7F, UC_LATIN},   {0x2E00, 0x2E7F, UC_PUNCT},   {0x3000, 0x3000, UC_SPACE},
    {0x3001, 0x3004, UC_PUNCT},   {0x3008, 0x3020, UC_PUNCT},   {0x302A, 0x302F, UC_EXTEND},
    {0x3030, 0x3030, UC_PUNCT},   {0x3099, 0x309A, UC_EXTEND},  {0x3130, 0x318F, UC_HANGUL},
    {0x3200, 0x33FF, UC_PUNCT},   {0xA720, 0xA7FF, UC_LATIN},   {0xA960, 0xA97F, UC_HANGUL},
    {0xAC00, 0xD7FF, UC_HANGUL},  {0xFB00, 0xFB06, UC_LATIN},   {0xFE00, 0xFE0F, UC_EXTEND},
    {0xFE10, 0xFE19, UC_PUNCT},   {0xFE20, 0xFE2F, UC_EXTEND},  {0xFE30, 0xFE6F, UC_PUNCT},
    {0xFEFF, 0xFEFF, UC_PUNCT},   {0xFF01, 0xFF0F, UC_PUNCT},   {0xFF10, 0xFF19, UC_DIGIT},
    {0xFF1A, 0xFF20, UC_PUNCT},   {0xFF21, 0xFF3A, UC_LATIN},   {0xFF3B, 0xFF40, UC_PUNCT},
    {0xFF41, 0xFF5A, UC_LATIN},   {0xFF5B, 0xFF65, UC_PUNCT},   {0xFFA0, 0xFFDC, UC_HANGUL},
    {0xFFE0, 0xFFFF, UC_PUNCT},   {0x1F000, 0x1FAFF, UC_PUNCT}, {0xE0000, 0xE007F, UC_EXTEND},
};

uclass utf8_class_slow(uint32_t cp)
{
    size_t lo = 0, hi = sizeof RANGES / sizeof RANGES[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < RANGES[mid].lo)
            hi = mid;
        else if (cp > RANGES[mid].hi)
            lo = mid + 1;
        else
            return RANGES[mid].cls;
    }
    return UC_LETTER;
}
