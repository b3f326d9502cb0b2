/* fuzz_tokenizer_file.c: libFuzzer harness for dokja's own tokenizer file
 * (src/tokenizer/tok_file.c).
 *
 * Any input must be refused with one line naming the file, or load into a tokenizer
 * whose encoding of a fixed text decodes back to it exactly (the text has no decomposed
 * Hangul, so composition changes nothing) and which saves and reloads unchanged. */
#include <string.h>

#include "fuzz_file.h"
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TEXT[] = "Hello, world! 안녕하세요, 대한민국 2026년 12월 <|eos|> don't  \t\n \xff end";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("tok.json", data, size);
    tok *t;
    dk_err err;
    if (tok_load(&t, path, &err) != 0) {
        if (!strstr(err.msg, "tok.json") || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    tok_encoder *e = tok_encoder_new(t);
    tok_ids ids = {0};
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    if (!e || tok_encode(e, (const uint8_t *)TEXT, sizeof TEXT - 1, 0, &ids, &err) != 0 ||
        tok_decode(t, ids.ids, ids.n, &buf, &len, &cap, &err) != 0 || len != sizeof TEXT - 1 ||
        memcmp(buf, TEXT, len) != 0)
        abort();
    free(buf);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    char again[300];
    snprintf(again, sizeof again, "%s.again", path);
    tok *u;
    if (tok_save(t, again, &err) != 0 || tok_load(&u, again, &err) != 0 ||
        tok_vocab_size(u) != tok_vocab_size(t) || tok_n_merges(u) != tok_n_merges(t))
        abort();
    tok_free(u);
    tok_free(t);
    unlink(again);
    return 0;
}
