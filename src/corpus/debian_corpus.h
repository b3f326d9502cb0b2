/* debian_corpus.h: dokja's built-in default corpus, extracted from documentation that
 * Debian packages install (docs/corpus.md says what and why).
 *
 *   ko.txt  LibreOffice help in Korean   every .html below /usr/share/libreoffice/help/ko
 *                                         (libreoffice-help-ko, MPL-2.0)
 *           the Debian FAQ in Korean      the .html files in /usr/share/doc/debian/FAQ/ko
 *                                         (debian-faq-ko, verbatim-copying notice)
 *   en.txt  LibreOffice help in English   every .html below /usr/share/libreoffice/help/en-US
 *                                         (libreoffice-help-en-us, MPL-2.0)
 *
 * Pages are read in a fixed order (names sorted bytewise within each directory, depth
 * first) and turned into text by html_to_text (LibreOffice: only the text inside
 * <div id="DisplayArea">, without the macOS and Windows cases of platform switches;
 * FAQ: without the navheader, navfooter and toc blocks).
 * Then, per output, one line = one paragraph, and a line is kept only if
 *   - it is not an exact repeat of an earlier line of that output (help pages embed
 *     the same snippets hundreds of times; the first occurrence stays),
 *   - it has at least CORPUS_MIN_CHARS characters and at least one letter (drops
 *     table cells of bare numbers, lone symbols, code braces, one-letter labels),
 *   - for ko.txt: it has at least one Hangul syllable (the Korean help leaves many
 *     paragraphs in English; they are not Korean text).
 * The same installed packages give byte-identical files on every run; manifest.json
 * records the sources and each output's SHA-256, and has no timestamps. */
#ifndef DK_CORPUS_DEBIAN_CORPUS_H
#define DK_CORPUS_DEBIAN_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CORPUS_MIN_CHARS 2
#define CORPUS_MAX_PAGE_BYTES ((size_t)64 << 20) /* a help page is < 1 MB */

typedef struct {
    const char *package; /* Debian package, e.g. "libreoffice-help-ko" */
    const char *licence;
    char path[4096];     /* directory read, --root prefix included */
    uint64_t pages;      /* .html files read */
    uint64_t lines, bytes; /* what this source added to the output after filtering */
} corpus_source;

typedef struct {
    const char *lang; /* "ko" or "en" */
    const char *file; /* "ko.txt" or "en.txt" */
    corpus_source sources[2];
    int n_sources;
    uint64_t pages, lines, bytes, hangul; /* bytes include the newlines */
    uint64_t dropped_duplicate, dropped_short, dropped_no_hangul;
    char sha256[65]; /* of the file written */
} corpus_output;

typedef struct {
    corpus_output outputs[2]; /* in the order written: ko then en */
    int n_outputs;
    double seconds;
} corpus_report;

typedef struct {
    const char *out_dir; /* created if missing */
    const char *root;    /* prefix for the /usr/share paths; NULL or "" for "/" */
    int ko, en;          /* which outputs to build (at least one) */
} corpus_debian_opts;

/* Builds the corpus into out_dir (ko.txt, en.txt, manifest.json). All files are
 * written beside their targets first and renamed into place only once every one of
 * them is complete, so a failure leaves out_dir as it was. Fails with
 * "PATH: not found: install the Debian package PKG (apt-get install PKG)" if a source
 * is missing, or "PAGE: problem" for an unreadable or non-UTF-8 page. rep may be
 * NULL. */
int corpus_debian_build(const corpus_debian_opts *o, corpus_report *rep, dk_err *err);

/* Counts of one line of text (valid UTF-8): characters, letters (any script) and
 * Hangul syllables. Shared with the tests, which check the line filter. */
typedef struct {
    uint64_t chars, letters, hangul;
} corpus_line_counts;
corpus_line_counts corpus_count_line(const uint8_t *s, size_t n);

#endif
