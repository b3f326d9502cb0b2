/* pretok_regex.c: the splitting regex of each named pre-tokenizer, as Hugging Face's
 * tokenizer.json files of those models write it (and llama.cpp's llama-vocab.cpp copies
 * it), for exports that other tools must split identically. */
#include <string.h>

#include "interop/interop.h"

static const struct {
    const char *name, *regex;
} REGEX[] = {
    {"gpt-2", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
    {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
              "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

const char *pretok_hf_regex(const char *name)
{
    for (size_t i = 0; i < sizeof REGEX / sizeof REGEX[0]; i++)
        if (strcmp(REGEX[i].name, name) == 0)
            return REGEX[i].regex;
    return NULL;
}
