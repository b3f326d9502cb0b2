/* fuzz_tokenizer_json.c: libFuzzer harness for the tokenizer.json reader (Hugging Face
 * tokenizers' format, src/interop/import_tok.c).
 *
 * Any input must be refused with one line naming the file, or give a tokenizer that
 * keeps its promises on a fixed text: every id it produces is inside the vocabulary and
 * decodes, with and without special-token matching. */
#include <string.h>

#include "fuzz_file.h"
#include "interop/interop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TEXT[] = "Hello, world! 안녕하세요, 대한민국 2026년 12월 <|eos|> don't  \t\n"
                           "\xe2\x96\x81 spaces\xc3\xa9 \xf0\x9f\x99\x82 \xff\xfe end"
                           /* for an NFC normalizer: e + U+0301, 한 as Jamo, U+F900, a Jamo
                            * cut by an invalid byte */
                           " cafe\xcc\x81 \xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab \xef\xa4\x80 \xe1\x84\x92\xff\xe1\x85\xa1";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("tokenizer.json", data, size);
    tok *t;
    dk_err err;
    if (tok_open_any(&t, path, &err) != 0) {
        if (!strstr(err.msg, "tokenizer.json") || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    tok_encoder *e = tok_encoder_new(t);
    if (!e)
        abort();
    for (int flags = 0; flags <= TOK_ENCODE_SPECIAL; flags += TOK_ENCODE_SPECIAL) {
        tok_ids ids = {0};
        if (tok_encode(e, (const uint8_t *)TEXT, sizeof TEXT - 1, flags, &ids, &err) == 0) {
            uint8_t *buf = NULL;
            size_t len = 0, cap = 0;
            for (size_t i = 0; i < ids.n; i++)
                if (ids.ids[i] < 0 || (uint32_t)ids.ids[i] >= tok_vocab_size(t))
                    abort();
            if (tok_decode(t, ids.ids, ids.n, &buf, &len, &cap, &err) != 0)
                abort();
            free(buf);
        }
        tok_ids_free(&ids);
    }
    tok_encoder_free(e);
    tok_free(t);
    return 0;
}
