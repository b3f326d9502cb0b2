/* debian_corpus.c: `dokja corpus debian`: walks the installed help and FAQ pages,
 * extracts their text, filters and deduplicates the lines, and writes ko.txt, en.txt
 * and manifest.json all-or-nothing. */
#include "corpus/debian_corpus.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus/html_text.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/progress.h"
#include "util/utf8.h"

/* ---- sources ------------------------------------------------------------------------ */

typedef struct {
    const char *package, *dir, *licence;
    html_opts html;
} source_def;

static const char LO_LICENCE[] = "MPL-2.0 (some files Apache-2.0)";
static const char FAQ_LICENCE[] =
    "verbatim copying and modified versions permitted if the permission notice is kept "
    "(/usr/share/doc/debian-faq-ko/copyright)";

/* The FAQ is DocBook output: every page opens and closes with prev/next navigation
 * tables, and chapter pages start with a table of contents that repeats the section
 * titles. */
static const char *const FAQ_SKIP_CLASSES[] = {"navheader", "navfooter", "toc"};

/* LibreOffice help marks platform-specific wording with switches whose cases are all
 * hidden until the page's script reveals one: "<span class=MAC>LibreOffice -
 * Preferences</span><span>Tools - Options</span>". Keeping every case would glue
 * them into "LibreOffice - PreferencesTools - Options"; dropping the macOS and
 * Windows cases keeps what LibreOffice on Debian shows (the UNIX case or the
 * default). Application switches (WRITER, CALC, ...) hold whole paragraphs and stay. */
static const char *const LO_SKIP_CLASSES[] = {"MAC", "WIN"};

static const source_def KO_SOURCES[] = {
    {"libreoffice-help-ko", "/usr/share/libreoffice/help/ko", LO_LICENCE,
     {.root_id = "DisplayArea", .skip_classes = LO_SKIP_CLASSES, .n_skip_classes = 2}},
    {"debian-faq-ko", "/usr/share/doc/debian/FAQ/ko", FAQ_LICENCE,
     {.skip_classes = FAQ_SKIP_CLASSES, .n_skip_classes = 3}},
};
static const source_def EN_SOURCES[] = {
    {"libreoffice-help-en-us", "/usr/share/libreoffice/help/en-US", LO_LICENCE,
     {.root_id = "DisplayArea", .skip_classes = LO_SKIP_CLASSES, .n_skip_classes = 2}},
};
enum { N_KO_SOURCES = sizeof KO_SOURCES / sizeof KO_SOURCES[0],
       N_EN_SOURCES = sizeof EN_SOURCES / sizeof EN_SOURCES[0] };

/* ---- line filter ---------------------------------------------------------------------- */

corpus_line_counts corpus_count_line(const uint8_t *s, size_t n)
{
    corpus_line_counts c = {0};
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        i += k ? k : 1;
        c.chars++;
        uclass cls = k ? utf8_class(cp) : UC_INVALID;
        if (cls == UC_HANGUL || cls == UC_LATIN || cls == UC_LETTER)
            c.letters++;
        if (utf8_is_hangul_syllable(cp) && k)
            c.hangul++;
    }
    return c;
}

/* ---- exact-line dedupe ------------------------------------------------------------------ */

/* Open addressing over the lines already in the output buffer: a slot holds the
 * line's hash and where it lies in the buffer (offsets, since the buffer moves as it
 * grows). len 0 marks an empty slot; kept lines are never empty. */
typedef struct {
    uint64_t hash;
    size_t off, len;
} line_slot;

typedef struct {
    line_slot *slots;
    size_t cap, n; /* cap is a power of two, kept at least twice n */
} line_set;

static int line_set_grow(line_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 1 << 16;
    line_slot *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->slots[i].len)
            continue;
        size_t j = set->slots[i].hash & (cap - 1);
        while (s[j].len)
            j = (j + 1) & (cap - 1);
        s[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = s;
    set->cap = cap;
    return 0;
}

/* Appends line + '\n' to out unless an equal line is there already. Returns 1 if
 * appended, 0 if a duplicate, -1 when out of memory. */
static int line_set_add(line_set *set, text_buf *out, const uint8_t *line, size_t len)
{
    if ((set->n + 1) * 2 > set->cap && line_set_grow(set) != 0)
        return -1;
    uint64_t h = hash_bytes(line, len);
    size_t j = h & (set->cap - 1);
    for (; set->slots[j].len; j = (j + 1) & (set->cap - 1)) {
        const line_slot *s = &set->slots[j];
        if (s->hash == h && s->len == len && memcmp(out->data + s->off, line, len) == 0)
            return 0;
    }
    size_t off = out->len;
    text_buf_append(out, line, len);
    text_buf_append(out, "\n", 1);
    if (out->oom)
        return -1;
    set->slots[j] = (line_slot){.hash = h, .off = off, .len = len};
    set->n++;
    return 1;
}

/* ---- extraction ---------------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Adds the filtered lines of one page's text to the output. */
static int add_page_lines(corpus_output *co, corpus_source *src, const text_buf *page,
                          int need_hangul, line_set *set, text_buf *out)
{
    size_t i = 0;
    while (i < page->len) {
        const uint8_t *line = page->data + i;
        const uint8_t *nl = memchr(line, '\n', page->len - i);
        size_t len = (size_t)(nl - line); /* html_to_text ends every line with '\n' */
        i += len + 1;
        corpus_line_counts c = corpus_count_line(line, len);
        if (c.chars < CORPUS_MIN_CHARS || c.letters == 0) {
            co->dropped_short++;
            continue;
        }
        if (need_hangul && c.hangul == 0) {
            co->dropped_no_hangul++;
            continue;
        }
        int r = line_set_add(set, out, line, len);
        if (r < 0)
            return -1;
        if (r == 0) {
            co->dropped_duplicate++;
            continue;
        }
        co->lines++;
        co->bytes += len + 1;
        co->hangul += c.hangul;
        src->lines++;
        src->bytes += len + 1;
    }
    return 0;
}

/* Extracts every page of every source of one output into out. */
static int build_output(corpus_output *co, const source_def *defs, text_buf *out, dk_err *err)
{
    int need_hangul = strcmp(co->lang, "ko") == 0;
    line_set set = {0};
    text_buf page = {0};
    int rc = 0;
    for (int s = 0; rc == 0 && s < co->n_sources; s++) {
        corpus_source *src = &co->sources[s];
        char *dir = src->path;
        char **files;
        size_t n_files;
        if (fs_expand_inputs(&dir, 1, &files, &n_files, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t f = 0; rc == 0 && f < n_files; f++) {
            if (!ends_with(files[f], ".html"))
                continue;
            fs_map m;
            if (fs_map_open(&m, files[f], CORPUS_MAX_PAGE_BYTES, err) != 0) {
                rc = -1;
                break;
            }
            page.len = 0;
            rc = html_to_text(files[f], m.data, m.size, &defs[s].html, &page, err);
            fs_map_close(&m);
            if (rc != 0)
                break;
            src->pages++;
            if (add_page_lines(co, src, &page, need_hangul, &set, out) != 0)
                rc = dk_errf(err, "%s: out of memory", files[f]);
        }
        fs_free_list(files, n_files);
        if (rc == 0 && src->pages == 0)
            rc = dk_errf(err, "%s: no .html pages: reinstall the Debian package %s", src->path,
                         src->package);
        co->pages += src->pages;
    }
    free(set.slots);
    text_buf_free(&page);
    return rc;
}

/* ---- output ------------------------------------------------------------------------------- */

static json_t *manifest_json(const corpus_report *rep)
{
    json_t *m = json_object();
    json_object_set_new(m, "corpus", json_string("debian"));
    json_object_set_new(m, "generator", json_string("dokja corpus debian"));
    json_t *rules = json_object();
    json_object_set_new(rules, "extractor", json_string("html_to_text (src/corpus/html_text.h)"));
    json_object_set_new(rules, "dedupe", json_string("exact lines within each file, first kept"));
    json_object_set_new(rules, "min_chars", json_integer(CORPUS_MIN_CHARS));
    json_object_set_new(rules, "min_letters", json_integer(1));
    json_object_set_new(rules, "ko_requires_hangul_syllable", json_true());
    json_object_set_new(m, "rules", rules);
    json_t *outs = json_array();
    for (int i = 0; i < rep->n_outputs; i++) {
        const corpus_output *co = &rep->outputs[i];
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(co->file));
        json_object_set_new(o, "language", json_string(co->lang));
        json_object_set_new(o, "pages", json_integer((json_int_t)co->pages));
        json_object_set_new(o, "lines", json_integer((json_int_t)co->lines));
        json_object_set_new(o, "bytes", json_integer((json_int_t)co->bytes));
        json_object_set_new(o, "hangul_syllables", json_integer((json_int_t)co->hangul));
        json_object_set_new(o, "dropped_duplicate_lines",
                            json_integer((json_int_t)co->dropped_duplicate));
        json_object_set_new(o, "dropped_short_lines", json_integer((json_int_t)co->dropped_short));
        json_object_set_new(o, "dropped_no_hangul_lines",
                            json_integer((json_int_t)co->dropped_no_hangul));
        json_object_set_new(o, "sha256", json_string(co->sha256));
        json_t *srcs = json_array();
        for (int s = 0; s < co->n_sources; s++) {
            const corpus_source *src = &co->sources[s];
            json_t *j = json_object();
            json_object_set_new(j, "package", json_string(src->package));
            json_object_set_new(j, "licence", json_string(src->licence));
            json_object_set_new(j, "root", json_string(src->path));
            json_object_set_new(j, "pages", json_integer((json_int_t)src->pages));
            json_object_set_new(j, "lines", json_integer((json_int_t)src->lines));
            json_object_set_new(j, "bytes", json_integer((json_int_t)src->bytes));
            json_array_append_new(srcs, j);
        }
        json_object_set_new(o, "sources", srcs);
        json_array_append_new(outs, o);
    }
    json_object_set_new(m, "outputs", outs);
    return m;
}

/* Writes the outputs and the manifest beside their targets, hashes what reached the
 * disk, and only then renames them into place, so nothing is replaced unless all of
 * them were written. */
static int write_outputs(const char *dir, corpus_report *rep, const text_buf *bufs, dk_err *err)
{
    if (fs_mkdirs(dir, err) != 0)
        return -1;
    enum { MAX_FILES = 3 };
    fs_atomic a[MAX_FILES];
    int n_open = 0, rc = 0;
    char *path = NULL;
    for (int i = 0; rc == 0 && i < rep->n_outputs; i++) {
        corpus_output *co = &rep->outputs[i];
        free(path);
        if (asprintf(&path, "%s/%s", dir, co->file) < 0) {
            path = NULL;
            rc = dk_errf(err, "%s: out of memory", dir);
            break;
        }
        if (fs_atomic_open(&a[n_open], path, err) != 0) {
            rc = -1;
            break;
        }
        fs_atomic *f = &a[n_open++];
        fs_atomic_write(f, bufs[i].data, bufs[i].len);
        if (f->failed || fflush(f->f) != 0) {
            rc = dk_errno(err, "%s: write failed", f->tmp);
            break;
        }
        uint8_t digest[32];
        if (sha256_file(f->tmp, digest, err) != 0) {
            rc = -1;
            break;
        }
        sha256_hex(digest, co->sha256);
    }
    if (rc == 0) {
        json_t *m = manifest_json(rep);
        char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(m);
        free(path);
        if (!text || asprintf(&path, "%s/manifest.json", dir) < 0) {
            path = NULL;
            rc = dk_errf(err, "%s: out of memory", dir);
        } else if (fs_atomic_open(&a[n_open], path, err) != 0) {
            rc = -1;
        } else {
            fs_atomic_write(&a[n_open], text, strlen(text));
            fs_atomic_write(&a[n_open], "\n", 1);
            n_open++;
        }
        free(text);
    }
    free(path);
    for (int i = 0; i < n_open; i++) {
        if (rc == 0)
            rc = fs_atomic_commit(&a[i], err); /* releases the writer even when it fails */
        else
            fs_atomic_abort(&a[i]);
    }
    return rc;
}

/* ---- driver ----------------------------------------------------------------------------------- */

static int plan_output(corpus_output *co, const char *lang, const source_def *defs, int n,
                       const char *root, dk_err *err)
{
    memset(co, 0, sizeof *co);
    co->lang = lang;
    co->file = strcmp(lang, "ko") == 0 ? "ko.txt" : "en.txt";
    co->n_sources = n;
    for (int s = 0; s < n; s++) {
        corpus_source *src = &co->sources[s];
        src->package = defs[s].package;
        src->licence = defs[s].licence;
        int k = snprintf(src->path, sizeof src->path, "%s%s", root, defs[s].dir);
        if (k < 0 || (size_t)k >= sizeof src->path)
            return dk_errf(err, "%s: --root prefix too long", root);
        if (!fs_is_dir(src->path))
            return dk_errf(err, "%s: not found: install the Debian package %s (apt-get install %s)",
                           src->path, src->package, src->package);
    }
    return 0;
}

int corpus_debian_build(const corpus_debian_opts *o, corpus_report *rep_out, dk_err *err)
{
    double t0 = now_seconds();
    corpus_report rep;
    memset(&rep, 0, sizeof rep);
    if (!o->ko && !o->en)
        return dk_errf(err, "%s: nothing to build (neither ko nor en selected)", o->out_dir);

    /* "/usr/share/..." is appended to the prefix, so drop its trailing slashes. */
    char root[2048] = "";
    if (o->root) {
        size_t k = strlen(o->root);
        while (k > 0 && o->root[k - 1] == '/')
            k--;
        if (k >= sizeof root)
            return dk_errf(err, "%s: --root prefix too long", o->root);
        memcpy(root, o->root, k);
        root[k] = 0;
    }
    /* Check every source before reading any, so a missing package fails at once. */
    const source_def *defs[2];
    if (o->ko) {
        if (plan_output(&rep.outputs[rep.n_outputs], "ko", KO_SOURCES, N_KO_SOURCES, root, err) != 0)
            return -1;
        defs[rep.n_outputs++] = KO_SOURCES;
    }
    if (o->en) {
        if (plan_output(&rep.outputs[rep.n_outputs], "en", EN_SOURCES, N_EN_SOURCES, root, err) != 0)
            return -1;
        defs[rep.n_outputs++] = EN_SOURCES;
    }

    text_buf bufs[2] = {{0}, {0}};
    int rc = 0;
    for (int i = 0; rc == 0 && i < rep.n_outputs; i++)
        rc = build_output(&rep.outputs[i], defs[i], &bufs[i], err);
    if (rc == 0)
        rc = write_outputs(o->out_dir, &rep, bufs, err);
    for (int i = 0; i < 2; i++)
        text_buf_free(&bufs[i]);
    rep.seconds = now_seconds() - t0;
    if (rc == 0 && rep_out)
        *rep_out = rep;
    return rc;
}
