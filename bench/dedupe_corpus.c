/* dedupe_corpus.c: the dev corpora as documents and planted near-copies (dedupe_corpus.h),
 * for bench/bench_dedupe_eval.c and bench/bench_synth_mix.c. */
#include "dedupe_corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/rng.h"

edoc *docs;
size_t n_docs;
static size_t cap_docs;

void add_doc(const char *p, size_t len, int ko)
{
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    if (n_docs == cap_docs) {
        cap_docs = cap_docs ? cap_docs * 2 : 4096;
        docs = realloc(docs, cap_docs * sizeof *docs);
    }
    edoc *d = &docs[n_docs++];
    d->p = malloc(len + 1);
    memcpy(d->p, p, len);
    d->p[len] = 0;
    d->len = len;
    d->ko = ko;
    int w = 0, in = 0;
    for (size_t i = 0; i < len; i++) {
        int sp = p[i] == ' ' || p[i] == '\n' || p[i] == '\t';
        w += !sp && !in;
        in = !sp;
    }
    d->words = w;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

/* mode: 0 one document per line; G > 0 groups of G non-empty lines; -1 paragraphs
 * (blank-line separated). */
int load_file(const char *dir, const char *name, int mode, int ko)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    char *b = slurp(path, &n);
    if (!b) {
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    size_t start = 0, lines = 0;
    for (size_t i = 0; i <= n;) {
        char *nl = i < n ? memchr(b + i, '\n', n - i) : NULL;
        size_t end = nl ? (size_t)(nl - b) : n;
        int blank = 1;
        for (size_t k = i; k < end; k++)
            blank &= b[k] == ' ' || b[k] == '\r' || b[k] == '\t';
        if (mode == 0) {
            add_doc(b + i, end - i, ko);
        } else if (mode > 0) {
            if (!blank && ++lines == (size_t)mode) {
                add_doc(b + start, end - start, ko);
                start = end + 1, lines = 0;
            } else if (blank && lines == 0) {
                start = end + 1;
            }
        } else if (blank) {
            add_doc(b + start, end - start, ko);
            start = end + 1;
        }
        if (!nl) {
            if (mode != 0 && start < n)
                add_doc(b + start, n - start, ko);
            break;
        }
        i = end + 1;
    }
    free(b);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int load_corpus(const char *dir)
{
    static const char *ko4[] = {"ko_boddari/wikinews.txt", "ko_boddari/unesco_report.txt",
                                "ko_boddari/fairytale01.txt", "ko_boddari/book_review01.txt",
                                "ko_laws/laws_dev_00.txt", "ko_laws/laws_dev_01.txt",
                                "ko_libreoffice_help/lo_help_ko_00.txt"};
    static const char *ko1[] = {"ko_nsmc/nsmc_dev_00.txt", "ko_nsmc/nsmc_dev_01.txt",
                                "ko_nsmc/nsmc_dev_02.txt", "ko_hatespeech/unlabeled_comments_5.txt"};
    for (size_t i = 0; i < sizeof ko4 / sizeof *ko4; i++)
        if (load_file(dir, ko4[i], 4, 1) != 0)
            return -1;
    for (size_t i = 0; i < sizeof ko1 / sizeof *ko1; i++)
        if (load_file(dir, ko1[i], 0, 1) != 0)
            return -1;
    if (load_file(dir, "en_tinyshakespeare/input.txt", -1, 0) != 0 ||
        load_file(dir, "en_devils_dictionary/devil.dict.txt", -1, 0) != 0)
        return -1;
    char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s/en_gutenberg", dir);
    DIR *d = opendir(gdir);
    if (!d)
        return -1;
    char *names[256];
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d)) && nn < 256;)
        if (strstr(e->d_name, ".txt"))
            names[nn++] = strdup(e->d_name);
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    for (size_t i = 0; i < nn; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "en_gutenberg/%s", names[i]);
        if (load_file(dir, rel, -1, 0) != 0)
            return -1;
        free(names[i]);
    }
    return 0;
}

/* ---- near-copies -------------------------------------------------------------------- */

void sb_put(sbuf *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = 0;
}

uint64_t rs; /* the generator's state */
uint64_t rnd(uint64_t n) { return rng_splitmix64(&rs) % n; }
double unit(void) { return rng_unit(rng_splitmix64(&rs)); }

/* A random word (a space-separated run) of a random document of the language. */
static span random_word(const size_t *pool_ids, size_t n_pool)
{
    for (;;) {
        const edoc *d = &docs[pool_ids[rnd(n_pool)]];
        size_t at = rnd(d->len), s = at;
        while (s > 0 && d->p[s - 1] != ' ' && d->p[s - 1] != '\n')
            s--;
        size_t e = at;
        while (e < d->len && d->p[e] != ' ' && d->p[e] != '\n')
            e++;
        if (e > s && e - s < 40)
            return (span){d->p + s, e - s};
    }
}

double edit_min = 0.05, edit_max = 0.30;

static const char *PARTICLES[] = {"은", "는", "이", "가", "을", "를", "에", "의", "로", "와", "과", "도", "만"};

char *make_copy(const edoc *d, const size_t *pool_ids, size_t n_pool, edits *ed)
{
    /* words with their line numbers */
    size_t nw = 0, capw = (size_t)d->words + 1;
    span *w = malloc(capw * sizeof *w);
    int *line = malloc(capw * sizeof *line);
    int nl = 0;
    for (size_t i = 0; i < d->len;) {
        if (d->p[i] == '\n') {
            nl++, i++;
            continue;
        }
        if (d->p[i] == ' ' || d->p[i] == '\t') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < d->len && d->p[i] != ' ' && d->p[i] != '\n' && d->p[i] != '\t')
            i++;
        w[nw] = (span){d->p + s, i - s};
        line[nw++] = nl;
    }
    nl++;
    ed->edit_share = edit_min + (edit_max - edit_min) * unit();
    size_t k = (size_t)(ed->edit_share * (double)nw + 0.5);
    if (k == 0)
        k = 1;
    /* per word: 0 keep, 1 replaced by rep[i], 2 deleted; ins[i]: inserted after */
    uint8_t *op = calloc(nw, 1);
    span *rep = calloc(nw, sizeof *rep), *ins = calloc(nw, sizeof *ins);
    char *arena = malloc(d->len + 64); /* changed particles: at most every word once */
    size_t used = 0;
    for (size_t e = 0; e < k;) {
        size_t i = rnd(nw);
        if (op[i] || ins[i].p)
            continue;
        int r = (int)rnd(10);
        int particle = d->ko && r < 4 && w[i].len >= 6 && (uint8_t)w[i].p[w[i].len - 3] >= 0xEA &&
                       (uint8_t)w[i].p[w[i].len - 3] <= 0xED;
        if (particle) { /* the last syllable (3 bytes) becomes a particle */
            const char *pt = PARTICLES[rnd(sizeof PARTICLES / sizeof *PARTICLES)];
            char *o = arena + used;
            memcpy(o, w[i].p, w[i].len - 3);
            memcpy(o + w[i].len - 3, pt, 3);
            if (memcmp(o, w[i].p, w[i].len) == 0)
                continue;
            rep[i] = (span){o, w[i].len};
            used += w[i].len;
            op[i] = 1;
        } else if (r < (d->ko ? 7 : 6)) {
            rep[i] = random_word(pool_ids, n_pool);
            op[i] = 1;
        } else if (r < 8) {
            op[i] = 2;
        } else {
            ins[i] = random_word(pool_ids, n_pool);
        }
        e++;
    }
    /* line order after dropping one and swapping two */
    int *order = malloc((size_t)nl * sizeof *order), no = 0;
    int drop = -1;
    ed->dropped_line = ed->swapped_lines = 0;
    if (nl >= 3 && unit() < 0.3)
        drop = (int)rnd((uint64_t)nl), ed->dropped_line = 1;
    for (int l = 0; l < nl; l++)
        if (l != drop)
            order[no++] = l;
    if (no >= 3 && unit() < 0.3) {
        int a = (int)rnd((uint64_t)no), b = (int)rnd((uint64_t)no);
        if (a != b) {
            int t = order[a];
            order[a] = order[b], order[b] = t;
            ed->swapped_lines = 1;
        }
    }
    ed->ws = unit() < 0.5;
    ed->punct = unit() < 0.5;
    sbuf out = {0};
    for (int oi = 0; oi < no; oi++) {
        if (oi > 0)
            sb_put(&out, ed->ws && unit() < 0.2 ? " " : "\n", 1);
        int first = 1;
        for (size_t i = 0; i < nw; i++) {
            if (line[i] != order[oi])
                continue;
            for (int part = 0; part < 2; part++) {
                span s = part == 0 ? (op[i] == 1 ? rep[i] : w[i]) : ins[i];
                if ((part == 0 && op[i] == 2) || (part == 1 && !s.p))
                    continue;
                if (!first) {
                    const char *sep = ed->ws && unit() < 0.1 ? (unit() < 0.2 ? "\t" : "  ") : " ";
                    sb_put(&out, sep, strlen(sep));
                }
                first = 0;
                size_t len = s.len;
                int strip = ed->punct && len > 1 && strchr(".,!?;:", s.p[len - 1]) && unit() < 0.3;
                sb_put(&out, s.p, len - (size_t)strip);
                if (ed->punct && !strip && unit() < 0.05)
                    sb_put(&out, ",", 1);
            }
        }
    }
    free(w), free(line), free(op), free(rep), free(ins), free(arena), free(order);
    if (!out.p)
        sb_put(&out, "", 0);
    return out.p;
}


/* ---- every dev corpus --------------------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The sorted names in dir (hidden ones skipped) for which keep(dir/name) holds. */
static char **sorted_names(const char *dir, int (*keep)(const char *), size_t *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!keep(path))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

int load_dev_corpora(const char *dir)
{
    /* how each known corpus is cut (as load_corpus does) */
    static const struct {
        const char *name;
        int mode;
    } cut[] = {{"ko_boddari", 4},    {"ko_laws", 4},         {"ko_libreoffice_help", 4},
               {"ko_nsmc", 0},       {"ko_hatespeech", 0},   {"ko_chatbot", 0},
               {"en_gutenberg", -1}, {"en_tinyshakespeare", -1}, {"en_devils_dictionary", -1}};
    size_t nd;
    char **dirs = sorted_names(dir, is_dir, &nd);
    if (!dirs) {
        fprintf(stderr, "%s: no corpus directories\n", dir);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < nd; i++) {
        if (rc == 0 && strncmp(dirs[i], "eval_", 5) != 0) {
            int ko = strncmp(dirs[i], "ko_", 3) == 0, mode = ko ? 0 : -1;
            for (size_t c = 0; c < sizeof cut / sizeof *cut; c++)
                if (!strcmp(cut[c].name, dirs[i]))
                    mode = cut[c].mode;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", dir, dirs[i]);
            size_t nf;
            char **files = sorted_names(sub, is_file, &nf);
            for (size_t f = 0; f < nf; f++) {
                char rel[4096];
                snprintf(rel, sizeof rel, "%s/%s", dirs[i], files[f]);
                if (rc == 0 && load_file(dir, rel, mode, ko) != 0)
                    rc = -1;
                free(files[f]);
            }
            free(files);
        }
        free(dirs[i]);
    }
    free(dirs);
    return rc;
}
