/* tok_stats.c: tokenizer efficiency statistics over files. */
#include "tokenizer/tok_stats.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/hangul.h"
#include "tokenizer/nfc.h"
#include "tokenizer/pretok.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/utf8.h"

#define STATS_BLOCK (1u << 20)

static void count_text(const uint8_t *s, size_t n, tok_text_stats *st)
{
    int in_word = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        uclass c = UC_INVALID;
        if (l == 0)
            l = 1; /* an invalid byte counts as one character */
        else
            c = utf8_class(cp);
        st->chars++;
        st->hangul += c != UC_INVALID && utf8_is_hangul_syllable(cp);
        if (c == UC_SPACE)
            in_word = 0;
        else if (!in_word) {
            in_word = 1;
            st->words++;
        }
        i += l;
    }
}

void tok_stats_add(tok_text_stats *into, const tok_text_stats *add)
{
    into->bytes += add->bytes;
    into->chars += add->chars;
    into->hangul += add->hangul;
    into->words += add->words;
    into->tokens += add->tokens;
    into->partial_tokens += add->partial_tokens;
    into->encode_seconds += add->encode_seconds;
}

int tok_stats_buf(tok_encoder *e, const uint8_t *s, size_t n, int flags, tok_text_stats *st,
                  dk_err *err)
{
    tok_ids ids = {0};
    double t0 = now_seconds();
    int rc = 0;
    if (flags & TOK_STATS_LINES) {
        for (size_t pos = 0; rc == 0 && pos < n;) {
            const uint8_t *nl = memchr(s + pos, '\n', n - pos);
            size_t end = nl ? (size_t)(nl - s) : n;
            rc = tok_encode(e, s + pos, end - pos, 0, &ids, err);
            pos = end + 1;
        }
    } else {
        rc = tok_encode(e, s, n, 0, &ids, err);
    }
    st->encode_seconds += now_seconds() - t0;
    if (rc != 0) {
        tok_ids_free(&ids);
        return -1;
    }
    st->bytes += n;
    st->tokens += ids.n;
    const tok *t = tok_encoder_tok(e);
    for (size_t i = 0; i < ids.n; i++)
        st->partial_tokens += tok_token_is_partial(t, ids.ids[i]);
    tok_ids_free(&ids);
    return 0;
}

typedef struct {
    const tok *t;
    const uint8_t *data;
    size_t *starts; /* block i is [starts[i], starts[i+1]) */
    tok_encoder **enc;
    tok_text_stats *per_block;
    int flags, failed;
} stats_ctx;

static void stats_block(void *vctx, size_t i, int th)
{
    stats_ctx *c = vctx;
    const uint8_t *s = c->data + c->starts[i];
    size_t n = c->starts[i + 1] - c->starts[i];
    tok_text_stats *st = &c->per_block[i];
    if (tok_stats_buf(c->enc[th], s, n, c->flags, st, NULL) != 0) {
        c->failed = 1;
        return;
    }
    if (tok_norm(c->t) == TOK_NORM_NFC && nfc_may_change(s, n)) {
        uint8_t *tmp = NULL;
        size_t cap = 0;
        long k = nfc_compose(s, n, &tmp, &cap);
        if (k < 0)
            c->failed = 1;
        else
            count_text(tmp, (size_t)k, st);
        free(tmp);
    } else if (tok_norm(c->t) == TOK_NORM_HANGUL_COMPOSE && hangul_needs_compose(s, n)) {
        uint8_t *tmp = malloc(n);
        if (!tmp) {
            c->failed = 1;
            return;
        }
        count_text(tmp, hangul_compose(s, n, tmp), st);
        free(tmp);
    } else {
        count_text(s, n, st);
    }
}

int tok_stats_file(const tok *t, const char *path, pool *pl, int flags, tok_text_stats *st,
                   dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, path, SIZE_MAX, err) != 0)
        return -1;
    size_t n_blocks = 0, cap = 16;
    size_t *starts = malloc(cap * sizeof *starts);
    int nt = pool_threads(pl);
    tok_encoder **enc = calloc((size_t)nt, sizeof *enc);
    int rc = starts && enc ? 0 : dk_errf(err, "%s: out of memory", path);
    for (size_t pos = 0; rc == 0;) {
        if (n_blocks + 2 > cap) {
            cap *= 2;
            size_t *ns = realloc(starts, cap * sizeof *ns);
            if (!ns) {
                rc = dk_errf(err, "%s: out of memory", path);
                break;
            }
            starts = ns;
        }
        starts[n_blocks] = pos;
        if (pos >= m.size)
            break;
        n_blocks++;
        pos = pretok_safe_split_kind(tok_pretok(t), m.data, m.size, pos + STATS_BLOCK);
    }
    for (int i = 0; rc == 0 && i < nt; i++)
        if (!(enc[i] = tok_encoder_new(t)))
            rc = dk_errf(err, "%s: out of memory", path);
    tok_text_stats *per = rc == 0 ? calloc(n_blocks ? n_blocks : 1, sizeof *per) : NULL;
    if (rc == 0 && !per)
        rc = dk_errf(err, "%s: out of memory", path);
    if (rc == 0) {
        stats_ctx c = {t, m.data, starts, enc, per, flags, 0};
        pool_for(pl, n_blocks, stats_block, &c);
        if (c.failed)
            rc = dk_errf(err, "%s: out of memory while encoding", path);
        /* Blocks end at a newline followed by a non-space, so a word never straddles
         * two blocks and the word counts add up exactly. encode_seconds adds up the
         * time spent inside the encoder on every thread, so bytes / encode_seconds
         * is the throughput of one thread whatever the thread count. */
        for (size_t i = 0; rc == 0 && i < n_blocks; i++)
            tok_stats_add(st, &per[i]);
    }
    free(per);
    for (int i = 0; enc && i < nt; i++)
        tok_encoder_free(enc[i]);
    free(enc);
    free(starts);
    fs_map_close(&m);
    return rc;
}
