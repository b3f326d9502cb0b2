/* pretok_regex.c: the splitting regexes of each named pre-tokenizer, as the named
 * models' own tokenizer.json files write them (and llama.cpp's llama-vocab.cpp copies
 * them): exports write them, imports recognise a tokenizer.json by them. A family's
 * regexes apply in turn, each splitting the pieces of the one before. */
#include <string.h>

#include "interop/interop.h"

#define GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define CONTR "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
#define TAIL " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const struct {
    const char *names[4]; /* llama.cpp's names for the family; the first is the import's */
    const char *regex[2];
} FAMILY[] = {
    {{"gpt-2", "exaone4", "a.x-4.0", "trillion"}, {GPT2, NULL}},
    {{"exaone"}, {"\\p{N}", GPT2}},
    {{"llama-bpe", "midm-2.0"}, {CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|" TAIL, NULL}},
    {{"qwen2", "solar-open", "kormo"}, {CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|" TAIL, NULL}},
    {{"exaone-moe"},
     {CONTR "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|"
            "\\s*[\\r\\n]|\\s+(?!\\S)|\\s+", NULL}},
};
#define N_FAMILY (sizeof FAMILY / sizeof FAMILY[0])

int pretok_hf_regexes(const char *name, const char *regex[2])
{
    for (size_t f = 0; f < N_FAMILY; f++)
        for (int k = 0; k < 4 && FAMILY[f].names[k]; k++)
            if (strcmp(FAMILY[f].names[k], name) == 0) {
                regex[0] = FAMILY[f].regex[0];
                regex[1] = FAMILY[f].regex[1];
                return regex[1] ? 2 : 1;
            }
    return 0;
}

const char *pretok_from_hf_regexes(const char *const *regex, int n)
{
    for (size_t f = 0; f < N_FAMILY; f++) {
        int m = FAMILY[f].regex[1] ? 2 : 1;
        if (m != n)
            continue;
        int same = 1;
        for (int k = 0; k < n; k++)
            same &= strcmp(FAMILY[f].regex[k], regex[k]) == 0;
        if (same)
            return FAMILY[f].names[0];
    }
    return NULL;
}
