/* test_sigfile.c: the first pass of `dokja data build` signed elsewhere (`dokja data
 * sign`, `data build --signatures`, data/sigfile.h): the same dataset as a build that
 * reads everything itself, and every bad signature file refused with one line. */
#include <jansson.h>
#include <stdlib.h>

#include "eval/task.h"
#include "test.h"
#include "util/hash.h"

#define SHARED "../shared/data/"
#define COPA "kobest_copa:" SHARED "eval_kobest/COPA_dev.tsv"

static const char *tokenizer(void)
{
    static char path[600];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/sg_tok.json", test_tmpdir());
    if (test_run(NULL, 0, "%s tokenizer train -q --vocab-size 400 -o %s " SHARED "ko_nsmc/nsmc_dev_00.txt >/dev/null 2>&1",
                 test_bin(), path) != 0)
        path[0] = 0;
    return path;
}

/* line as a JSON string's contents (quotes, backslashes and controls escaped). */
static const char *json_text(const char *line)
{
    static char buf[2][20000];
    static int k;
    char *o = buf[k++ & 1];
    size_t n = 0;
    for (const char *c = line; *c && n + 8 < sizeof buf[0]; c++) {
        if (*c == '"' || *c == '\\')
            o[n++] = '\\', o[n++] = *c;
        else if ((unsigned char)*c < 0x20)
            n += (size_t)snprintf(o + n, 8, "\\u%04x", (unsigned char)*c);
        else
            o[n++] = *c;
    }
    o[n] = 0;
    return o;
}

/* Three partners' sources under the scratch dir, with everything the first pass
 * decides: partner a, 1,500 NSMC lines with 20 COPA items planted (contaminated) and a
 * few junk lines (quality filters); partner b, a JSONL file holding exact and near
 * copies of a's lines and of its own; partner c, a directory of two files, one of
 * them copying lines of b. Returns the scratch dir's path to them, or NULL. */
static const char *partners(void)
{
    static char dir[600];
    if (dir[0])
        return dir;
    const char *T = test_tmpdir();
    snprintf(dir, sizeof dir, "%s/sg_src", T);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/c", dir);
    if (system(cmd) != 0)
        return NULL;
    mc_task t;
    dk_err err;
    if (mc_task_open(&t, COPA, &err) != 0)
        return NULL;
    char path[700], line[8192];
    FILE *in = fopen(SHARED "ko_nsmc/nsmc_dev_01.txt", "r");
    snprintf(path, sizeof path, "%s/a.txt", dir);
    FILE *a = fopen(path, "w");
    snprintf(path, sizeof path, "%s/b.jsonl", dir);
    FILE *b = fopen(path, "w");
    snprintf(path, sizeof path, "%s/c/c1.txt", dir);
    FILE *c1 = fopen(path, "w");
    snprintf(path, sizeof path, "%s/c/c2.txt", dir);
    FILE *c2 = fopen(path, "w");
    int k = 0, planted = 0;
    while (in && a && b && c1 && c2 && k < 3000 && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        if (k < 1500) {
            fprintf(a, "%s\n", line);
            if (k % 70 == 0 && planted < 20) {
                const mc_item *it = &t.items[planted++];
                fprintf(a, "%s%s\n", it->context, it->choices[it->gold]);
            }
            if (k % 300 == 0)
                fprintf(a, "ㅋ\n12345 67890 ----\n");
            if (k % 5 == 0) /* b: an exact copy, a near copy (a word appended) */
                fprintf(b, "{\"text\": \"%s\"}\n{\"text\": \"%s 정말 그렇다\"}\n", json_text(line), json_text(line));
        } else {
            fprintf(b, "{\"text\": \"%s\", \"id\": %d}\n", json_text(line), k);
            fprintf(k % 2 ? c1 : c2, "%s%s\n", k % 7 == 0 ? line : "", k % 7 == 0 ? "" : "다른 문장 하나");
            if (k % 3 == 0) /* an exact copy of b's line, and a copy differing in punctuation */
                fprintf(c1, "%s\n%s?!\n", line, line);
        }
        k++;
    }
    int ok = in && a && b && c1 && c2 && planted == 20;
    FILE *all[] = {in, a, b, c1, c2};
    for (int i = 0; i < 5; i++)
        if (all[i])
            fclose(all[i]);
    mc_task_free(&t);
    if (!ok)
        dir[0] = 0;
    return dir[0] ? dir : NULL;
}

static json_t *manifest(const char *ds)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/manifest.json", ds);
    json_error_t je;
    return json_load_file(p, 0, &je);
}

static long long dropped(json_t *m, size_t src, const char *why)
{
    json_t *s = json_array_get(json_object_get(m, "sources"), src);
    json_t *x = json_object_get(json_object_get(s, "dropped"), why);
    return json_is_integer(x) ? json_integer_value(x) : -1;
}

#define OPTS "--decontaminate " COPA " --val-fraction 0.1 --shard-tokens 5000"
#define SIGN_OPTS "--decontaminate " COPA

TEST(data_sign_by_partners_then_build_gives_the_same_dataset)
{
    const char *tp = tokenizer(), *d = partners();
    CHECK(tp[0] && d);
    const char *T = test_tmpdir();
    char out[1 << 14];
    /* the reference: one build that reads everything itself */
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s/sg_plain " OPTS " %s/a.txt %s/b.jsonl:2 %s/c 2>&1",
                      test_bin(), tp, T, d, d, d), 0);
    json_t *ref = manifest(strcat(strcpy(out, T), "/sg_plain"));
    CHECK(ref);
    /* the first pass decided something of every kind */
    CHECK_EQ(dropped(ref, 0, "contaminated"), 20);
    CHECK(dropped(ref, 0, "too_short") >= 5 && dropped(ref, 0, "quality") >= 5);
    CHECK_MSG(dropped(ref, 1, "exact_duplicate") >= 200 && dropped(ref, 1, "near_duplicate") >= 100, "%lld %lld %lld %lld",
              dropped(ref, 1, "exact_duplicate"), dropped(ref, 1, "near_duplicate"), dropped(ref, 2, "exact_duplicate"),
              dropped(ref, 2, "near_duplicate"));
    CHECK(dropped(ref, 2, "exact_duplicate") > 0 && dropped(ref, 2, "near_duplicate") > 0);
    /* each partner signs its own files, on other thread counts */
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q --threads 1 -o %s/sg_a.sig " SIGN_OPTS " %s/a.txt 2>&1",
                      test_bin(), T, d), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q --threads 3 -o %s/sg_b.sig " SIGN_OPTS " %s/b.jsonl:2 2>&1",
                      test_bin(), T, d), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q --json -o %s/sg_c.sig " SIGN_OPTS " %s/c 2>&1", test_bin(), T,
                      d), 0);
    CHECK_CONTAINS(out, "\"files\":2");
    const char *variants[2] = {"--signatures %s/sg_c.sig --signatures %s/sg_a.sig --signatures %s/sg_b.sig",
                               "--signatures %s/sg_b.sig"};
    const int from_sigs[2] = {4, 1}; /* input files whose first pass came from a signature file */
    for (int v = 0; v < 2; v++) {
        char sigs[2048];
        snprintf(sigs, sizeof sigs, variants[v], T, T, T);
        CHECK_EQ(test_run(out, sizeof out, "%s data build -q --json -t %s -o %s/sg_sig%d " OPTS " %s %s/a.txt %s/b.jsonl:2 %s/c 2>&1",
                          test_bin(), tp, T, v, sigs, d, d, d), 0);
        char want[64];
        snprintf(want, sizeof want, "\"files_from_signatures\":%d", from_sigs[v]);
        CHECK_CONTAINS(out, want);
        /* byte-identical shards, tokenizer copy and listing */
        CHECK_EQ(test_run(out, sizeof out, "cd %s/sg_plain && for f in *; do [ \"$f\" = manifest.json ] || cmp -s $f %s/sg_sig%d/$f || echo $f; done; "
                          "[ $(ls %s/sg_plain | wc -l) = $(ls %s/sg_sig%d | wc -l) ]", T, T, v, T, T, v), 0);
        CHECK_STR(out, "");
        /* the manifest too, but for the list of signature files used */
        char ds[700];
        snprintf(ds, sizeof ds, "%s/sg_sig%d", T, v);
        json_t *m = manifest(ds);
        CHECK(m);
        json_t *sf = json_object_get(json_object_get(m, "near_dup"), "signature_files");
        CHECK_EQ(json_array_size(sf), v == 0 ? 3 : 1);
        json_t *first = json_object_get(json_array_get(sf, 0), "input_files");
        CHECK_EQ(json_integer_value(first), v == 0 ? 2 : 1); /* sg_c.sig holds c's two files */
        CHECK_EQ(strlen(json_string_value(json_object_get(json_array_get(sf, 0), "sha256"))), 64);
        json_object_del(json_object_get(m, "near_dup"), "signature_files");
        CHECK(json_equal(m, ref));
        json_decref(m);
    }
    json_decref(ref);
}

/* A copy of file `from` under the scratch dir with `edit` applied: a shell command
 * reading $F. */
static int edited(const char *from, const char *to, const char *edit)
{
    return test_run(NULL, 0, "cp %s %s && F=%s && %s", from, to, to, edit);
}

/* Rewrites a signature file's trailing SHA-256 to match its (edited) bytes, so that the
 * checks behind it are reached. */
static int reseal(const char *path)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    uint8_t *buf = n > 32 ? malloc((size_t)n) : NULL;
    int ok = buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, (size_t)n, f) == (size_t)n;
    if (ok) {
        sha256_buf(buf, (size_t)n - 32, buf + n - 32);
        ok = fseek(f, n - 32, SEEK_SET) == 0 && fwrite(buf + n - 32, 1, 32, f) == 32;
    }
    free(buf);
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A copy of signature file `from` whose first section's first fate is 9. */
static int bad_fate(const char *from, const char *to)
{
    if (test_run(NULL, 0, "cp %s %s", from, to) != 0)
        return -1;
    FILE *f = fopen(to, "r+b");
    if (!f)
        return -1;
    uint32_t settings_len;
    uint64_t row[4]; /* size, n_docs, n_signed, offset */
    int ok = fseek(f, 12, SEEK_SET) == 0 && fread(&settings_len, 4, 1, f) == 1 && fseek(f, -56 - 64 + 32, SEEK_END) == 0 &&
             fread(row, 8, 4, f) == 4 && row[3] == ((16 + settings_len + 7) & ~7u) &&
             fseek(f, (long)(row[3] + 16 * row[1]), SEEK_SET) == 0 && fputc(9, f) == 9;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Makes the first section of signature file `path` claim to be file `target`'s: its
 * table row's SHA-256 and size set to target's (the trailing SHA-256 left to reseal). */
static int claim_file(const char *path, const char *target)
{
    FILE *t = fopen(target, "rb");
    if (!t)
        return -1;
    static uint8_t buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, t);
    fclose(t);
    uint8_t row[40];
    sha256_buf(buf, n, row);
    uint64_t size = n;
    memcpy(row + 32, &size, 8);
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    int ok = fseek(f, -56 - 64, SEEK_END) == 0 && fwrite(row, 1, 40, f) == 40;
    return fclose(f) == 0 && ok ? 0 : -1;
}

TEST(data_build_refuses_bad_signature_files_with_one_line)
{
    const char *tp = tokenizer(), *d = partners();
    CHECK(tp[0] && d);
    const char *T = test_tmpdir();
    char out[1 << 14], good[700], bad[700];
    snprintf(good, sizeof good, "%s/sgb_a.sig", T);
    snprintf(bad, sizeof bad, "%s/sgb_bad.sig", T);
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q -o %s %s/a.txt 2>&1", test_bin(), good, d), 0);
    struct {
        const char *edit, *says;
        int reseal;
    } cases[] = {
        {"truncate -s -1 $F", "damaged or truncated", 0},
        {"printf 'x' | dd of=$F bs=1 seek=5000 conv=notrunc 2>/dev/null", "damaged or truncated", 0},
        {"head -c 40 $F > $F.h && mv $F.h $F", "not a dokja signature file", 0},
        {"echo hello > $F", "not a dokja signature file", 0},
        {"printf '\\001' | dd of=$F bs=1 seek=8 conv=notrunc 2>/dev/null", "version 1, this dokja reads version 2 (made by an older dokja", 1},
        {"printf '\\003' | dd of=$F bs=1 seek=8 conv=notrunc 2>/dev/null", "version 3, this dokja reads version 2", 1},
        /* the first table row's n_docs (bytes 40..47 of the row; the table is 64 + 56 bytes from the end) */
        {"printf '\\377\\377\\377\\377' | dd of=$F bs=1 seek=$(( $(stat -c %s $F) - 56 - 64 + 40 )) conv=notrunc 2>/dev/null",
         "corrupt section 0", 1},
        /* the footer's file count */
        {"printf '\\377' | dd of=$F bs=1 seek=$(( $(stat -c %s $F) - 56 + 8 )) conv=notrunc 2>/dev/null", "corrupt table", 1},
        /* a fate that is no fate (the first document's, after the section's hashes) */
        {"", "has fate 9", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK_EQ(cases[i].edit[0] ? edited(good, bad, cases[i].edit) : bad_fate(good, bad), 0);
        if (cases[i].reseal)
            CHECK_EQ(reseal(bad), 0);
        char ds[700];
        snprintf(ds, sizeof ds, "%s/sgb_ds%zu", T, i);
        int rc = test_run(out, sizeof out, "%s data build -q -t %s -o %s --signatures %s %s/a.txt 2>&1", test_bin(), tp,
                          ds, bad, d);
        CHECK_MSG(rc == 1, "case %zu: exit %d: %s", i, rc, out);
        CHECK_MSG(strstr(out, bad) && strchr(out, '\n') == out + strlen(out) - 1, "case %zu: %s", i, out);
        CHECK_MSG(strstr(out, cases[i].says), "case %zu: %s", i, out);
        CHECK_EQ(test_run(NULL, 0, "ls -d %s* 2>/dev/null | grep -q .", ds), 1); /* nothing left */
    }
    /* a section that holds another file's first pass under this file's SHA-256 (a forged
     * or mixed-up signature file, sealed again): refused, naming both files, nothing left */
    char other[700], forged[700];
    snprintf(other, sizeof other, "%s/sgb_other.sig", T);
    snprintf(forged, sizeof forged, "%s/sgb_forged.sig", T);
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q -o %s %s/c/c1.txt 2>&1", test_bin(), other, d), 0);
    CHECK_EQ(test_run(NULL, 0, "cp %s %s", other, forged), 0);
    char target[700];
    snprintf(target, sizeof target, "%s/a.txt", d);
    CHECK_EQ(claim_file(forged, target), 0);
    CHECK_EQ(reseal(forged), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s/sgb_fout --signatures %s %s/a.txt 2>&1", test_bin(), tp, T, forged, d), 1);
    CHECK_CONTAINS(out, "does not match its section in the signature file");
    CHECK_CONTAINS(out, "sgb_forged.sig");
    CHECK_EQ(test_run(NULL, 0, "ls -d %s/sgb_fout* 2>/dev/null | grep -q .", T), 1);
    /* other first-pass settings: refused, naming both */
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s/sgb_q --min-chars 9 --signatures %s %s/a.txt 2>&1",
                      test_bin(), tp, T, good, d), 1);
    CHECK_CONTAINS(out, "signed with other settings");
    CHECK_CONTAINS(out, "min_chars 9");
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s/sgb_c " OPTS " --signatures %s %s/a.txt 2>&1",
                      test_bin(), tp, T, good, d), 1);
    CHECK_CONTAINS(out, "decontaminate");
    /* usage errors: build-only options on sign, signatures without near-dup removal */
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -t %s -o %s/x.sig %s/a.txt 2>&1", test_bin(), tp, T, d), 2);
    CHECK_CONTAINS(out, "not of signing");
    CHECK_EQ(test_run(out, sizeof out, "%s data sign %s/a.txt 2>&1", test_bin(), d), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s data build -t %s -o %s/sgb_n --no-near-dup --signatures %s %s/a.txt 2>&1",
                      test_bin(), tp, T, good, d), 2);
    /* a source that fails to read: no signature file, no temporary left */
    const char badtxt[] = "좋은 문장\n\xff\xfe 깨진 줄\n";
    const char *bp = test_write_file("sgb_utf8.txt", badtxt, sizeof badtxt - 1);
    CHECK_EQ(test_run(out, sizeof out, "%s data sign -q -o %s/sgb_fail.sig %s 2>&1", test_bin(), T, bp), 1);
    CHECK_CONTAINS(out, "sgb_utf8.txt:2: invalid UTF-8");
    CHECK_EQ(test_run(NULL, 0, "ls %s/sgb_fail.sig* 2>/dev/null | grep -q .", T), 1);
}
