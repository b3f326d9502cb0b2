/* test_main.c: runs every registered test (or those whose name contains one of the
 * arguments) and ends with "N passed, N failed". Slow tests (TEST_SLOW) run only when
 * DOKJA_TEST_FULL=1; the line before the last counts the ones skipped. */
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/progress.h"

#define MAX_TESTS 1024
static struct {
    const char *name;
    test_fn fn;
    int slow;
} tests[MAX_TESTS];
static int n_tests;
static int failed_now;
static char tmpdir[256];

void test_register(const char *name, test_fn fn, int slow)
{
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].fn = fn;
        tests[n_tests].slow = slow;
        n_tests++;
    }
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    failed_now = 1;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

int test_failed_now(void) { return failed_now; }

const char *test_bin(void)
{
    const char *b = getenv("DOKJA_BIN");
    return b ? b : "build/dokja";
}

const char *test_tmpdir(void) { return tmpdir; }

int test_have_node(void)
{
    static int state = -1; /* -1 not asked yet, 0 no, 1 yes */
    static char why[300];
    if (state < 0) {
        state = test_run(why, sizeof why, "tests/node/have_node.sh 2>&1") == 0;
        why[strcspn(why, "\n")] = 0;
        if (!why[0])
            snprintf(why, sizeof why, "tests/node/have_node.sh failed");
    }
    if (!state)
        printf("    skipped: %s\n", why);
    return state;
}

int test_run(char *out, size_t out_cap, const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&cmd, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p)
        return -1;
    size_t len = 0;
    char buf[4096];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out && len + 1 < out_cap) {
            size_t k = r < out_cap - 1 - len ? r : out_cap - 1 - len;
            memcpy(out + len, buf, k);
            len += k;
        }
    }
    if (out)
        out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *test_write_file(const char *name, const void *data, size_t n)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ & 3];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return NULL;
    fwrite(data, 1, n, f);
    fclose(f);
    return p;
}

const char *test_dataset(const char *name)
{
    static char dirs[8][512];
    static char names[8][64];
    static int n;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return dirs[i];
    if (n == 8)
        return NULL;
    static char text[1 << 16];
    text[0] = 0;
    for (int i = 0; i < 600; i++)
        sprintf(text + strlen(text), "%s 문장 %d 은 짧다. sentence %d is short.\n", name, i, i * 7);
    char corpus[600], tok[600];
    snprintf(corpus, sizeof corpus, "%s", test_write_file("dataset_corpus.txt", text, strlen(text)));
    snprintf(tok, sizeof tok, "%s/%s_tok.json", tmpdir, name);
    snprintf(dirs[n], sizeof dirs[n], "%s/%s_data", tmpdir, name);
    if (test_run(NULL, 0, "%s tokenizer train -q --vocab-size 300 -o %s %s >/dev/null && "
                          "%s data build -q -t %s -o %s %s >/dev/null",
                 test_bin(), tok, corpus, test_bin(), tok, dirs[n], corpus) != 0)
        return NULL;
    snprintf(names[n], sizeof names[n], "%s", name);
    return dirs[n++];
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/dokja-tests-XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(remove_tmpdir);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* the CLI's caches (dokja select) go to the scratch directory, not the user's home */
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    setenv("DOKJA_CACHE", cache, 1);
    /* DOKJA_ISA runs the suite on a lower kernel path (scripts/test.sh does, for every
     * path the CPU has); the CLI tests' dokja reads the same variable. */
    char ierr[160];
    if (isa_select(getenv("DOKJA_ISA"), ierr, sizeof ierr) != 0) {
        fprintf(stderr, "DOKJA_ISA: %s\n", ierr);
        return 2;
    }
    /* the CLI's other kernel choices, read the same way (src/cli/main.c) */
    mm_set_path(mm_path_from_name(getenv("DOKJA_MATMUL")));
    const char *no_amx = getenv("DOKJA_NO_AMX");
    mm_set_amx(!no_amx || !*no_amx || *no_amx == '0');
    printf("kernel path: %s\n", isa_name(isa_current()));
    const char *full_env = getenv("DOKJA_TEST_FULL");
    int full = full_env && strcmp(full_env, "1") == 0;
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n_tests; i++) {
        int selected = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strstr(tests[i].name, argv[a]))
                selected = 1;
        if (!selected)
            continue;
        if (tests[i].slow && !full) {
            skipped++;
            printf("skip %s (slow)\n", tests[i].name);
            continue;
        }
        failed_now = 0;
        double t0 = now_seconds();
        tests[i].fn();
        double dt = now_seconds() - t0;
        if (failed_now) {
            failed++;
            printf("FAIL %s (%.2fs)\n", tests[i].name, dt);
        } else {
            passed++;
            printf("ok   %s (%.2fs)\n", tests[i].name, dt);
        }
    }
    if (skipped)
        printf("%d slow test%s skipped (DOKJA_TEST_FULL=1 or `make test-full` runs %s)\n", skipped,
               skipped == 1 ? "" : "s", skipped == 1 ? "it" : "them");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
