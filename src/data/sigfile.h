/* sigfile.h: signature files, the first pass of `dokja data build` done elsewhere.
 *
 * Near-duplicate removal reads every source twice: a first pass decides each
 * document's fate up to clustering (quality filters, exact-duplicate hashes, test-item
 * contamination) and signs the survivors (MinHash, data/minhash.h); clustering runs over
 * all signatures; a second pass tokenizes what is kept. The first pass is independent
 * per file, so partners can run it on their own machines, in parallel
 * (`dokja data sign`), and hand over a signature file instead of a second read of
 * their text by the build; `dokja data build --signatures FILE...` then takes each
 * input file's first pass from the signature file that holds its SHA-256, and gives
 * byte-identical shards and counts to a build that read everything itself.
 *
 * What a file's section holds, for its non-empty documents in file order: the two
 * 64-bit hashes of exact dedupe, a fate byte (SIG_*: kept, contaminated, or dropped by a
 * quality filter), and for each kept document the 8 bits per position the index keeps
 * (minhash_sign_kept) and whether it has shingles. Exact dedupe is not decided here: a
 * duplicate of a document of another file or partner is only known when all are merged
 * in the build's order.
 *
 * Layout (little-endian, every section 8-byte aligned):
 *   "DOKJASIG" | u32 version (1) | u32 settings length L | settings text (L bytes, pad)
 *   sections: per file, n_docs x (u64 h1, u64 h2) | n_docs fate bytes (pad)
 *             | n_signed x H kept bytes | n_signed has-shingles bytes (pad)
 *   table: per file 64 bytes: SHA-256 | u64 size | u64 n_docs | u64 n_signed | u64 offset
 *   footer: u64 table offset | u64 n_files | u64 H | SHA-256 of every byte before it
 * The settings text names everything that changes the first pass (shingles, hashes,
 * seed, quality thresholds, decontamination tasks by SHA-256): a build refuses a file
 * signed with other settings, naming both. The trailing SHA-256 is checked on opening,
 * so a truncated or damaged file is refused before any of it is used. */
#ifndef DK_DATA_SIGFILE_H
#define DK_DATA_SIGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A document's fate after the first pass (the file format's values). */
enum { SIG_KEEP = 0, SIG_CONTAMINATED = 1, SIG_TOO_SHORT = 2, SIG_QUALITY = 3, SIG_REPETITION = 4,
       SIG_N_FATES };

/* ---- writing --------------------------------------------------------------------- */

typedef struct sig_writer sig_writer;

/* Starts path (written atomically: nothing appears under it unless committed) for
 * signatures of H = hashes positions made with the given settings text. */
int sig_writer_open(sig_writer **out, const char *path, const char *settings, int hashes, dk_err *err);

/* A file's section, in three calls: its documents (hashes, fates; n_signed = the
 * number of SIG_KEEP fates), then the kept documents' signatures in any number of
 * batches (n x H values and n has-bytes each, in document order), then the end, which
 * checks that n_signed were given. Errors are reported by sig_writer_commit. */
void sig_writer_file(sig_writer *w, const uint8_t sha256[32], uint64_t size, size_t n_docs,
                     const uint64_t (*hashes)[2], const uint8_t *fates);
void sig_writer_kept(sig_writer *w, const uint8_t *kept, const uint8_t *has, size_t n);
void sig_writer_file_end(sig_writer *w);

/* Writes the table and footer and moves the file into place; or removes it. */
int sig_writer_commit(sig_writer *w, dk_err *err);
void sig_writer_abort(sig_writer *w);

/* ---- reading --------------------------------------------------------------------- */

typedef struct {
    uint64_t n_docs, n_signed;
    const uint8_t *hashes;  /* n_docs x 16 bytes: h1, h2 (read with memcpy) */
    const uint8_t *fates;   /* n_docs SIG_* */
    const uint8_t *kept;    /* n_signed x H */
    const uint8_t *has;     /* n_signed */
    const char *from;       /* the signature file's path */
} sig_section;

typedef struct sig_set sig_set;

/* Opens and checks signature files (mapped, not read into memory): each must be whole
 * (its SHA-256), made with exactly `settings` and H = hashes, and consistent (sections
 * inside the file, n_signed equal to the kept fates). NULL with a one-line error
 * naming the file on any problem. */
sig_set *sig_set_open(const char *const *paths, size_t n, const char *settings, int hashes, dk_err *err);
void sig_set_free(sig_set *s);

/* The section of the file with this content (SHA-256 and size), or NULL. */
const sig_section *sig_set_find(sig_set *s, const uint8_t sha256[32], uint64_t size);

/* Lets the kernel drop the section's pages from memory (they are read again from the
 * file if used again): call when a section has been used. */
void sig_section_release(const sig_section *x);

/* Per signature file: its path, its own SHA-256 (hex) and how many of its sections
 * sig_set_find has handed out so far. */
size_t sig_set_files(const sig_set *s);
const char *sig_set_path(const sig_set *s, size_t i);
const char *sig_set_sha256(const sig_set *s, size_t i);
uint64_t sig_set_used(const sig_set *s, size_t i);

#endif
