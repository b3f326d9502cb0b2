/* test_lineage_suite.c: the lineage test's validation suite on model families trained
 * here from ../shared/data (the table in docs/lineage.md comes from this test):
 *   A, A' (other init, identical data in identical order), A'' (other init, other data)
 *   B = A fine-tuned 300 steps at full learning rate on other data
 *   C = A depth up-scaled (layers 0-2 then 1-3), then trained 100 steps
 *   D = A with MLP neurons and heads permuted      E = A with its MLP pruned 256 -> 192
 *   F = A with layers 1 and 2 re-initialised, then trained 200 steps
 *   G = A plus noise of 5 % of each tensor's RMS
 * Required: every derived pair at p < 1e-6 with the right kind and layer map, every
 * independent pair at p > 0.01. About 40 s of training optimised; it is not built
 * under the sanitizers (test_lineage.c covers the same code there on random models). */
#if !defined(__SANITIZE_ADDRESS__)
#include <stdlib.h>

#include "test.h"

static const char CFG4[] = "{\"hidden_size\": 64, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
                           " \"num_key_value_heads\": 2, \"intermediate_size\": 256, \"vocab_size\": 2000,"
                           " \"max_position_embeddings\": 128}";
static const char CFG6[] = "{\"hidden_size\": 64, \"num_hidden_layers\": 6, \"num_attention_heads\": 4,"
                           " \"num_key_value_heads\": 2, \"intermediate_size\": 256, \"vocab_size\": 2000,"
                           " \"max_position_embeddings\": 128}";

#define S "../shared/data/"

/* The value of "key" in a compact JSON text (string contents, array or number). */
static const char *field(const char *json, const char *key, char *buf, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return "";
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (p[n] && p[n] != '"' && n + 1 < cap)
            n++;
    } else if (*p == '[') {
        int depth = 0;
        do {
            depth += p[n] == '[' ? 1 : p[n] == ']' ? -1 : 0;
            n++;
        } while (p[n] && depth > 0 && n + 1 < cap);
    } else {
        while (p[n] && p[n] != ',' && p[n] != '}' && n + 1 < cap)
            n++;
    }
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

TEST_SLOW(lineage_suite_detects_every_derivation_and_no_independent_pair)
{
    const char *cfg4 = test_write_file("cfg4.json", CFG4, strlen(CFG4));
    const char *cfg6 = test_write_file("cfg6.json", CFG6, strlen(CFG6));
    (void)cfg4, (void)cfg6;
    char here[600];
    snprintf(here, sizeof here, "%s", getenv("PWD") ? getenv("PWD") : ".");
    char d[1300]; /* commands run in the scratch dir: an absolute path */
    if (test_bin()[0] == '/')
        snprintf(d, sizeof d, "%s", test_bin());
    else
        snprintf(d, sizeof d, "%s/%s", here, test_bin());
    char s[700];
    snprintf(s, sizeof s, "%s/" S, here);
    const char *T = "--batch-size 8 --seq-len 64 --lr 3e-3 --threads 2 --eval-every 1000 --checkpoint-every 1000 -q";
    char cmd[4096];
#define RUN(...)                                                                           \
    do {                                                                                   \
        snprintf(cmd, sizeof cmd, __VA_ARGS__);                                            \
        CHECK_MSG(test_run(NULL, 0, "cd %s && %s >/dev/null 2>&1", test_tmpdir(), cmd) == 0, "failed: %s", cmd); \
    } while (0)
    RUN("%s tokenizer train -q --vocab-size 2000 -o ls_tok.json %sko_libreoffice_help %sen_tinyshakespeare %sko_nsmc", d, s, s, s);
    RUN("%s data build -q -t ls_tok.json -o ls_dataA %sko_libreoffice_help %sen_tinyshakespeare", d, s, s);
    RUN("%s data build -q -t ls_tok.json -o ls_dataB %sko_nsmc %sen_devils_dictionary", d, s, s);
    RUN("%s train --data ls_dataA --model cfg4.json -o A --steps 300 --seed 1 %s", d, T);
    RUN("%s train --data ls_dataA --model cfg4.json -o A1 --steps 300 --seed 2 --data-seed 1 %s", d, T);
    RUN("%s train --data ls_dataB --model cfg4.json -o A2 --steps 300 --seed 3 %s", d, T);
    RUN("%s train --data ls_dataB --model cfg4.json -o B --steps 300 --init-from A %s", d, T);
    RUN("%s model edit A C0 --depth 0-2,1-3", d);
    RUN("%s train --data ls_dataA --model cfg6.json -o C --steps 100 --init-from C0 %s", d, T);
    RUN("%s model edit A D --permute --seed 5", d);
    RUN("%s model edit A E --prune-ffn 192", d);
    RUN("%s model edit A F0 --reinit 1,2 --seed 9", d);
    RUN("%s train --data ls_dataA --model cfg4.json -o F --steps 200 --init-from F0 %s", d, T);
    RUN("%s model edit A G --noise 0.05 --seed 4", d);
    static const struct {
        const char *a, *b, *verdict, *kind, *src;
    } pairs[] = {
        {"A", "A1", "independent", "none", NULL},       {"A", "A2", "independent", "none", NULL},
        {"A1", "A2", "independent", "none", NULL},      {"A", "B", "derived", "descendant", "[0,1,2,3]"},
        {"A", "C", "derived", "depth-upscaled", "[0,1,2,1,2,3]"},
        {"A", "D", "derived", "descendant", "[0,1,2,3]"}, {"A", "E", "derived", "pruned", "[0,1,2,3]"},
        {"A", "F", "derived", "partial", NULL},         {"A", "G", "derived", "descendant", "[0,1,2,3]"},
    };
    printf("\n| A | B | verdict | kind | log10 p | weight test | layer map | activations | B layer <- A layer |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    int bad = 0;
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        static char out[1 << 16];
        CHECK_EQ(test_run(out, sizeof out, "cd %s && %s lineage %s %s --json -q", test_tmpdir(), d, pairs[k].a,
                          pairs[k].b), 0);
        char v[64], kind[64], lp[64], w[64], m[64], a[64], src[256];
        field(out, "verdict", v, sizeof v);
        field(out, "kind", kind, sizeof kind);
        double l10 = atof(field(out, "log10_p", lp, sizeof lp));
        const char *wt = strstr(out, "\"weight_test\""), *mp = strstr(out, "\"layer_map\""),
                   *at = strstr(out, "\"activation_test\"");
        char avail[16];
        w[0] = a[0] = 0;
        if (wt && strcmp(field(wt, "available", avail, sizeof avail), "true") == 0)
            field(wt, "combined_log10_p", w, sizeof w);
        field(mp ? mp : "", "combined_log10_p", m, sizeof m);
        if (at && strcmp(field(at, "available", avail, sizeof avail), "true") == 0)
            field(at, "combined_log10_p", a, sizeof a);
        field(out, "b_layer_source", src, sizeof src);
        char ws[32] = "n/a", as[32] = "n/a";
        if (w[0])
            snprintf(ws, sizeof ws, "%.1f", atof(w));
        if (a[0])
            snprintf(as, sizeof as, "%.1f", atof(a));
        printf("| %s | %s | %s | %s | %.1f | %s | %.1f | %s | %s |\n", pairs[k].a, pairs[k].b, v, kind, l10, ws,
               atof(m), as, src);
        int ok = strcmp(v, pairs[k].verdict) == 0 && strcmp(kind, pairs[k].kind) == 0 &&
                 (!pairs[k].src || strcmp(src, pairs[k].src) == 0) &&
                 (strcmp(v, "derived") == 0 ? l10 < -6 : l10 > -2);
        if (!ok) {
            fprintf(stderr, "lineage %s %s: %s %s log10 p %g map %s\n", pairs[k].a, pairs[k].b, v, kind, l10, src);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}
#endif
