/* quality.h: per-document quality filters for `dokja data build`, each optional and
 * counted in the manifest under its own reason (docs/data.md, "Quality filters"):
 *
 *   too_short   fewer than min_chars characters that are not white space;
 *   quality     letters (Hangul, Latin and any other script's letters or ideographs,
 *               so Hanja in statutes counts) are less than min_letter_share of the
 *               characters that are not white space: tables of numbers, rows of
 *               symbols, markup and binary junk;
 *   repetition  Gopher's repetition rules (Rae et al. 2021, "Scaling Language Models",
 *               appendix A, table A1), on lines and on words split at white space:
 *               duplicate lines > 30 % of the lines or their characters > 20 % of the
 *               characters; in documents of 50 words or more (Gopher's own minimum
 *               length; shorter ones are not judged by these): the most frequent
 *               word 2-, 3-, 4-gram's occurrences
 *               covering > 20 %, 18 %, 16 % of the word characters; the words inside
 *               repeated 5- ... 10-grams covering > 15 %, 14 %, 13 %, 12 %, 11 %, 10 %.
 *
 * A document is checked in that order and gets the first reason that applies. The
 * checks read the text only (no state between documents): the same verdict on any
 * thread. Cost: one pass over the characters, and for repetition one hash per word and
 * per word n-gram (n = 2..10), sorted per n. */
#ifndef DK_DATA_QUALITY_H
#define DK_DATA_QUALITY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int min_chars;           /* 0: off */
    double min_letter_share; /* in [0, 1]; 0: off */
    int repetition;          /* 0: off */
} quality_params;

enum { QUALITY_OK = 0, QUALITY_SHORT, QUALITY_LETTERS, QUALITY_REPETITION };

/* The defaults, chosen on the dev corpora (docs/data.md): min_chars 3,
 * min_letter_share 0.25, repetition off (its English-tuned thresholds drop real Korean
 * statutes and manuals). */
void quality_params_default(quality_params *p);

/* Work space for one thread; zero-initialise, free with quality_scratch_free. */
typedef struct {
    uint64_t *h, *cur;   /* per word: its hash; the n-gram starting there */
    uint64_t *key;       /* the n-gram table's keys */
    uint32_t *chars;     /* per word: its characters */
    uint32_t *idx;       /* per n-gram its table slot, then per slot its count */
    uint8_t *covered;    /* per word */
    uint64_t *lines;     /* per line: hash */
    uint32_t *line_chars;
    size_t cap_words, cap_lines;
} quality_scratch;
void quality_scratch_free(quality_scratch *s);

/* The characters of text[0..len) (valid UTF-8) that are not white space (utf8_class
 * UC_SPACE), and the letters among them (UC_HANGUL, UC_LATIN, UC_LETTER): what the
 * length and letter-share filters count. */
void quality_counts(const uint8_t *text, size_t len, size_t *nonspace, size_t *letters);

/* The verdict on text[0..len) (valid UTF-8): QUALITY_OK or the first QUALITY_* reason
 * that applies; -1 when out of memory. */
int quality_check(const quality_params *p, const uint8_t *text, size_t len, quality_scratch *s);

/* The reason's name in the manifest ("too_short", "quality", "repetition"). */
extern const char *const quality_reason_name[4];

#endif
