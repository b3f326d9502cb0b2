/* sigfile.c: signature files (see sigfile.h). */
#include "data/sigfile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/hash.h"

static const char MAGIC[8] = {'D', 'O', 'K', 'J', 'A', 'S', 'I', 'G'};
#define VERSION 2u /* 2: 8 bits kept per position (1: 16) */
#define TABLE_ROW 64u
#define FOOTER 56u
#define MAX_SETTINGS (1u << 20)

/* ---- writing --------------------------------------------------------------------- */

typedef struct {
    uint8_t sha[32];
    uint64_t size, n_docs, n_signed, offset;
} sig_row;

struct sig_writer {
    fs_atomic a;
    sha256_stream *sha;
    uint64_t pos; /* bytes written */
    int hashes;
    sig_row *rows;
    size_t n_rows, cap_rows;
    uint8_t *has;         /* the open section's has-bytes, written at its end */
    uint64_t signed_now;  /* kept documents given so far for the open section */
    int open, failed;
    char bad[160];        /* the first misuse, reported by commit */
};

static void put(sig_writer *w, const void *p, size_t n)
{
    fs_atomic_write(&w->a, p, n);
    sha256_add(w->sha, p, n);
    w->pos += n;
}

static void pad8(sig_writer *w)
{
    static const uint8_t zero[8];
    if (w->pos % 8)
        put(w, zero, 8 - w->pos % 8);
}

static void put_u32(sig_writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(sig_writer *w, uint64_t v) { put(w, &v, 8); }

int sig_writer_open(sig_writer **out, const char *path, const char *settings, int hashes, dk_err *err)
{
    *out = NULL;
    size_t sl = strlen(settings);
    if (sl > MAX_SETTINGS || hashes <= 0)
        return dk_errf(err, "%s: bad signature settings", path);
    sig_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->sha = sha256_begin())) {
        free(w);
        return dk_errf(err, "%s: out of memory", path);
    }
    if (fs_atomic_open(&w->a, path, err) != 0) {
        sha256_end(w->sha, (uint8_t[32]){0});
        free(w);
        return -1;
    }
    w->hashes = hashes;
    put(w, MAGIC, 8);
    put_u32(w, VERSION);
    put_u32(w, (uint32_t)sl);
    put(w, settings, sl);
    pad8(w);
    *out = w;
    return 0;
}

static void misuse(sig_writer *w, const char *what)
{
    if (!w->failed)
        snprintf(w->bad, sizeof w->bad, "%s", what);
    w->failed = 1;
}

void sig_writer_file(sig_writer *w, const uint8_t sha256[32], uint64_t size, size_t n_docs,
                     const uint64_t (*hashes)[2], const uint8_t *fates)
{
    if (w->open)
        { misuse(w, "a file section begun inside another"); return; }
    if (w->n_rows == w->cap_rows) {
        size_t nc = w->cap_rows ? w->cap_rows * 2 : 64;
        sig_row *nr = realloc(w->rows, nc * sizeof *nr);
        if (!nr)
            { misuse(w, "out of memory"); return; }
        w->rows = nr;
        w->cap_rows = nc;
    }
    uint64_t n_signed = 0;
    for (size_t d = 0; d < n_docs; d++)
        n_signed += fates[d] == SIG_KEEP;
    free(w->has);
    w->has = malloc(n_signed ? n_signed : 1);
    if (!w->has)
        { misuse(w, "out of memory"); return; }
    sig_row *r = &w->rows[w->n_rows++];
    memcpy(r->sha, sha256, 32);
    r->size = size;
    r->n_docs = n_docs;
    r->n_signed = n_signed;
    r->offset = w->pos;
    put(w, hashes, n_docs * 16);
    put(w, fates, n_docs);
    pad8(w);
    w->signed_now = 0;
    w->open = 1;
}

void sig_writer_kept(sig_writer *w, const uint8_t *kept, const uint8_t *has, size_t n)
{
    if (!w->open || w->signed_now + n > w->rows[w->n_rows - 1].n_signed)
        { misuse(w, "more signatures than kept documents"); return; }
    put(w, kept, n * (size_t)w->hashes);
    memcpy(w->has + w->signed_now, has, n);
    w->signed_now += n;
}

void sig_writer_file_end(sig_writer *w)
{
    if (!w->open || w->signed_now != w->rows[w->n_rows - 1].n_signed)
        { misuse(w, "fewer signatures than kept documents"); return; }
    put(w, w->has, w->signed_now);
    pad8(w);
    w->open = 0;
}

int sig_writer_commit(sig_writer *w, dk_err *err)
{
    if (w->open)
        misuse(w, "a file section left open");
    if (w->failed) {
        int rc = dk_errf(err, "%s: cannot write signatures: %s", w->a.path, w->bad);
        sig_writer_abort(w);
        return rc;
    }
    uint64_t table = w->pos;
    for (size_t i = 0; i < w->n_rows; i++) {
        put(w, w->rows[i].sha, 32);
        put_u64(w, w->rows[i].size);
        put_u64(w, w->rows[i].n_docs);
        put_u64(w, w->rows[i].n_signed);
        put_u64(w, w->rows[i].offset);
    }
    put_u64(w, table);
    put_u64(w, w->n_rows);
    put_u64(w, (uint64_t)w->hashes);
    uint8_t d[32];
    sha256_end(w->sha, d);
    w->sha = NULL;
    fs_atomic_write(&w->a, d, 32);
    int rc = fs_atomic_commit(&w->a, err);
    free(w->rows);
    free(w->has);
    free(w);
    return rc;
}

void sig_writer_abort(sig_writer *w)
{
    if (!w)
        return;
    fs_atomic_abort(&w->a);
    if (w->sha)
        sha256_end(w->sha, (uint8_t[32]){0});
    free(w->rows);
    free(w->has);
    free(w);
}

/* ---- reading --------------------------------------------------------------------- */

typedef struct {
    uint8_t sha[32];
    uint64_t size;
    sig_section sec;
    size_t file; /* which signature file */
} sig_entry;

typedef struct {
    fs_map m;
    char *path;
    char sha_hex[65];
    uint64_t used;
} sig_src;

struct sig_set {
    sig_src *src;
    size_t n_src;
    sig_entry *e; /* sorted by (sha, size) */
    size_t n_e;
};

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t up8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

static int entry_cmp(const void *a, const void *b)
{
    const sig_entry *x = a, *y = b;
    int c = memcmp(x->sha, y->sha, 32);
    return c ? c : (x->size > y->size) - (x->size < y->size);
}

/* Gives the pages wholly inside [p, p + n) of a read-only file mapping back to the
 * kernel: a signature file's bytes are each used once, and a merge of many partners'
 * files should not hold them all in memory. Advisory. */
static void release(const uint8_t *p, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1), e = ((uintptr_t)p + n) & ~(uintptr_t)(pg - 1);
    if (e > a)
        madvise((void *)a, e - a, MADV_DONTNEED);
}

/* SHA-256 of a mapped file's bytes, in steps whose pages are released behind. */
static int whole_sha256(const uint8_t *p, size_t n, uint8_t d[32])
{
    sha256_stream *s = sha256_begin();
    if (!s)
        return -1;
    for (size_t at = 0; at < n;) {
        size_t k = n - at < ((size_t)64 << 20) ? n - at : (size_t)64 << 20;
        sha256_add(s, p + at, k);
        release(p + at, k);
        at += k;
    }
    sha256_end(s, d);
    return 0;
}

void sig_section_release(const sig_section *x)
{
    release(x->hashes, (size_t)(x->has + x->n_signed - x->hashes));
}

/* Checks one mapped file and appends its sections to s->e. */
static int open_one(sig_set *s, size_t fi, const char *settings, int hashes, dk_err *err)
{
    sig_src *f = &s->src[fi];
    const uint8_t *p = f->m.data;
    uint64_t size = f->m.size;
    const char *path = f->path;
    if (size < 16 + FOOTER || memcmp(p, MAGIC, 8) != 0)
        return dk_errf(err, "%s: not a dokja signature file (made by `dokja data sign`)", path);
    uint32_t version, sl;
    memcpy(&version, p + 8, 4);
    memcpy(&sl, p + 12, 4);
    if (version != VERSION)
        return dk_errf(err, "%s: signature file version %u, this dokja reads version %u%s", path, version, VERSION,
                       version < VERSION ? " (made by an older dokja: sign the sources again)" : "");
    uint8_t d[32];
    if (whole_sha256(p, size - 32, d) != 0)
        return dk_errf(err, "%s: out of memory", path);
    if (memcmp(d, p + size - 32, 32) != 0)
        return dk_errf(err, "%s: damaged or truncated (its SHA-256 does not match)", path);
    sha256_hex(d, f->sha_hex);
    const uint8_t *foot = p + size - FOOTER;
    uint64_t table = rd64(foot), n = rd64(foot + 8), h = rd64(foot + 16);
    uint64_t body = size - FOOTER;
    if (sl > MAX_SETTINGS || 16 + (uint64_t)sl > body)
        return dk_errf(err, "%s: corrupt header (settings of %u bytes)", path, sl);
    if (sl != strlen(settings) || memcmp(p + 16, settings, sl) != 0)
        return dk_errf(err, "%s: signed with other settings (%.*s) than this build's (%s): sign again with the build's options",
                       path, (int)(sl < 300 ? sl : 300), (const char *)(p + 16), settings);
    if (h != (uint64_t)hashes)
        return dk_errf(err, "%s: signatures of %llu positions, this build uses %d", path, (unsigned long long)h, hashes);
    if (table > body || n > (body - table) / TABLE_ROW || table + n * TABLE_ROW != body)
        return dk_errf(err, "%s: corrupt table (%llu files at offset %llu)", path, (unsigned long long)n,
                       (unsigned long long)table);
    uint64_t data_start = up8(16 + (uint64_t)sl);
    sig_entry *ne = realloc(s->e, (s->n_e + n + 1) * sizeof *ne);
    if (!ne)
        return dk_errf(err, "%s: out of memory", path);
    s->e = ne;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *row = p + table + i * TABLE_ROW;
        sig_entry *x = &s->e[s->n_e];
        memcpy(x->sha, row, 32);
        x->size = rd64(row + 32);
        uint64_t nd = rd64(row + 40), ns = rd64(row + 48), off = rd64(row + 56);
        /* every count is bounded by the bytes that hold it before any product is formed */
        if (off < data_start || off > table || off % 8 || nd > (table - off) / 17 || ns > nd)
            return dk_errf(err, "%s: corrupt section %llu (%llu documents at offset %llu)", path,
                           (unsigned long long)i, (unsigned long long)nd, (unsigned long long)off);
        uint64_t kept_at = up8(off + 17 * nd);
        uint64_t kept_bytes = ns * (uint64_t)hashes;
        if (kept_at > table || ns > (table - kept_at) / ((uint64_t)hashes + 1) ||
            up8(kept_at + kept_bytes + ns) > table)
            return dk_errf(err, "%s: corrupt section %llu (%llu signatures)", path, (unsigned long long)i,
                           (unsigned long long)ns);
        const uint8_t *fates = p + off + 16 * nd;
        uint64_t keeps = 0;
        for (uint64_t k = 0; k < nd; k++) {
            if (fates[k] >= SIG_N_FATES)
                return dk_errf(err, "%s: corrupt section %llu (document %llu has fate %u)", path,
                               (unsigned long long)i, (unsigned long long)k, fates[k]);
            keeps += fates[k] == SIG_KEEP;
        }
        if (keeps != ns)
            return dk_errf(err, "%s: corrupt section %llu (%llu signatures for %llu kept documents)", path,
                           (unsigned long long)i, (unsigned long long)ns, (unsigned long long)keeps);
        x->sec = (sig_section){nd, ns, p + off, fates, p + kept_at, p + kept_at + kept_bytes, path};
        x->file = fi;
        s->n_e++;
    }
    return 0;
}

sig_set *sig_set_open(const char *const *paths, size_t n, const char *settings, int hashes, dk_err *err)
{
    sig_set *s = calloc(1, sizeof *s);
    if (!s || !(s->src = calloc(n ? n : 1, sizeof *s->src))) {
        free(s);
        dk_errf(err, "out of memory");
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        s->n_src = i + 1; /* sig_set_free releases whatever this entry got */
        if (!(s->src[i].path = strdup(paths[i])))
            rc = dk_errf(err, "out of memory");
        else if (fs_map_open(&s->src[i].m, paths[i], SIZE_MAX, err) != 0)
            rc = -1;
        else
            rc = open_one(s, i, settings, hashes, err);
    }
    if (rc != 0) {
        sig_set_free(s);
        return NULL;
    }
    if (s->n_e)
        qsort(s->e, s->n_e, sizeof *s->e, entry_cmp);
    return s;
}

void sig_set_free(sig_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_src; i++) {
        fs_map_close(&s->src[i].m);
        free(s->src[i].path);
    }
    free(s->src);
    free(s->e);
    free(s);
}

const sig_section *sig_set_find(sig_set *s, const uint8_t sha256[32], uint64_t size)
{
    sig_entry key;
    memcpy(key.sha, sha256, 32);
    key.size = size;
    sig_entry *x = s->n_e ? bsearch(&key, s->e, s->n_e, sizeof *s->e, entry_cmp) : NULL;
    if (!x)
        return NULL;
    s->src[x->file].used++;
    return &x->sec;
}

size_t sig_set_files(const sig_set *s) { return s->n_src; }
const char *sig_set_path(const sig_set *s, size_t i) { return s->src[i].path; }
const char *sig_set_sha256(const sig_set *s, size_t i) { return s->src[i].sha_hex; }
uint64_t sig_set_used(const sig_set *s, size_t i) { return s->src[i].used; }
