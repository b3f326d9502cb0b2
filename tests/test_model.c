/* test_model.c: the whole decoder: gradients against finite differences,
 * determinism across thread counts, and overfitting one batch. (Exact parity with
 * PyTorch is in test_torch_parity.c.) */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/model.h"
#include "model/model_io.h"
#include "test.h"
#include "train/adamw.h"

static model_config tiny(int bias, int tie)
{
    model_config c = {.dim = 16, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 24,
                      .vocab_size = 20, .max_seq = 16, .rope_theta = 10000.0, .norm_eps = 1e-5,
                      .tie_embeddings = tie, .qkv_bias = bias};
    dk_err err;
    model_config_validate(&c, "tiny", &err);
    return c;
}

static void batch(dk_token *in, dk_token *tg, int B, int S, int V, unsigned seed)
{
    srand(seed);
    for (int i = 0; i < B * S; i++)
        in[i] = rand() % V;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++)
            tg[b * S + s] = s + 1 < S ? in[b * S + s + 1] : MODEL_IGNORE_INDEX;
}

TEST(model_gradients_match_finite_differences)
{
    model_config c = tiny(1, 0);
    pool *p = pool_new(2);
    model *m;
    dk_err err;
    CHECK(model_new(&m, &c, p, &err) == 0);
    float *w = model_params(m);
    params_init(model_layout(m), w, 7);
    for (size_t i = 0; i < model_numel(m); i++) /* larger weights: a less linear model */
        w[i] *= 4.0f;
    enum { B = 2, S = 5 };
    dk_token in[B * S], tg[B * S];
    batch(in, tg, B, S, c.vocab_size, 3);
    CHECK(model_reserve(m, B, S, &err) == 0);
    model_zero_grads(m);
    model_forward_backward(m, in, tg, B, S, 1.0f);
    const float *g = model_grads(m);
    const param_layout *l = model_layout(m);
    int checked = 0;
    for (size_t t = 0; t < l->n_info; t++) {
        const param_info *pi = &l->info[t];
        for (int k = 0; k < 3; k++) {
            size_t i = pi->offset + (size_t)(k * 7919) % pi->numel;
            float keep = w[i];
            double h = 1e-2;
            w[i] = keep + (float)h;
            double lp = model_forward_loss(m, in, tg, B, S, NULL);
            w[i] = keep - (float)h;
            double lm = model_forward_loss(m, in, tg, B, S, NULL);
            w[i] = keep;
            double fd = (lp - lm) / (2 * h);
            CHECK_MSG(fabs(fd - g[i]) <= 2e-3 + 2e-2 * fabs(fd), "%s[%zu]: analytic %g, numeric %g",
                      pi->name, i - pi->offset, g[i], fd);
            checked++;
        }
    }
    CHECK(checked > 40);
    model_free(m);
    pool_free(p);
}

TEST(model_gradients_are_bit_identical_for_1_2_3_threads)
{
    model_config c = tiny(0, 1);
    enum { B = 3, S = 9 };
    dk_token in[B * S], tg[B * S];
    batch(in, tg, B, S, c.vocab_size, 5);
    float *first = NULL;
    double first_loss = 0;
    for (int nt = 1; nt <= 3; nt++) {
        pool *p = pool_new(nt);
        model *m;
        dk_err err;
        CHECK(model_new(&m, &c, p, &err) == 0 && model_reserve(m, B, S, &err) == 0);
        params_init(model_layout(m), model_params(m), 11);
        model_zero_grads(m);
        double loss = model_forward_backward(m, in, tg, B, S, 1.0f);
        if (!first) {
            first = malloc(model_numel(m) * sizeof *first);
            memcpy(first, model_grads(m), model_numel(m) * sizeof *first);
            first_loss = loss;
        } else {
            CHECK(loss == first_loss);
            CHECK_MSG(memcmp(first, model_grads(m), model_numel(m) * sizeof *first) == 0,
                      "gradients differ with %d threads", nt);
        }
        model_free(m);
        pool_free(p);
    }
    free(first);
}

TEST(model_overfits_one_batch)
{
    model_config c = {.dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 128,
                      .vocab_size = 64, .max_seq = 32, .rope_theta = 10000.0, .norm_eps = 1e-5};
    dk_err err;
    CHECK(model_config_validate(&c, "c", &err) == 0);
    pool *p = pool_new(2);
    model *m;
    CHECK(model_new(&m, &c, p, &err) == 0);
    size_t n = model_numel(m);
    params_init(model_layout(m), model_params(m), 1);
    float *mo = calloc(n, sizeof *mo), *vo = calloc(n, sizeof *vo);
    enum { B = 4, S = 16 };
    dk_token in[B * S], tg[B * S];
    batch(in, tg, B, S, c.vocab_size, 9);
    CHECK(model_reserve(m, B, S, &err) == 0);
    adamw_cfg opt = adamw_defaults(1e-2f);
    opt.weight_decay = 0;
    double loss = 0, first = 0;
    int step;
    for (step = 1; step <= 300; step++) {
        model_zero_grads(m);
        loss = model_forward_backward(m, in, tg, B, S, 1.0f);
        if (step == 1)
            first = loss;
        if (loss < 0.05)
            break;
        adamw_step(p, model_layout(m), model_params(m), model_grads(m), mo, vo, 0, n, &opt, step);
    }
    CHECK_MSG(fabs(first - log(64.0)) < 0.2, "initial loss %g, expected about ln 64", first);
    CHECK_MSG(loss < 0.05, "loss %g after %d steps", loss, step);
    free(mo);
    free(vo);
    model_free(m);
    pool_free(p);
}

typedef struct {
    size_t next_end, n_calls, covered;
    int in_order;
    float *snap; /* gradient values as reported */
    const float *grads;
} hook_log;

static void log_hook(void *ctx, size_t offset, size_t numel)
{
    hook_log *h = ctx;
    /* ranges arrive from the end of the buffer towards its start, back to back */
    if (h->n_calls > 0 && offset + numel != h->next_end)
        h->in_order = 0;
    h->next_end = offset;
    h->n_calls++;
    h->covered += numel;
    memcpy(h->snap + offset, h->grads + offset, numel * sizeof(float));
}

TEST(model_grad_hook_reports_each_final_range_once_from_the_end)
{
    for (int tie = 0; tie < 2; tie++) {
        model_config c = tiny(1, tie);
        pool *p = pool_new(2);
        model *m;
        dk_err err;
        CHECK(model_new(&m, &c, p, &err) == 0);
        params_init(model_layout(m), model_params(m), 3);
        enum { B = 2, S = 6 };
        dk_token in[B * S], tg[B * S];
        batch(in, tg, B, S, c.vocab_size, 4);
        CHECK(model_reserve(m, B, S, &err) == 0);
        size_t n = model_numel(m);
        hook_log h = {0, 0, 0, 1, calloc(n, sizeof(float)), model_grads(m)};
        model_zero_grads(m);
        model_set_grad_hook(m, log_hook, &h);
        model_forward_backward(m, in, tg, B, S, 1.0f);
        CHECK_EQ(h.covered, n);
        CHECK(h.in_order && h.next_end == 0);
        CHECK_EQ(h.n_calls, (size_t)c.n_layers + 2);
        /* nothing changed after it was reported */
        CHECK(memcmp(h.snap, model_grads(m), n * sizeof(float)) == 0);
        free(h.snap);
        model_free(m);
        pool_free(p);
    }
}

TEST(model_params_sha256_names_the_parameters_and_pins_params_init)
{
    model_config c = {.dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 48,
                      .vocab_size = 50, .max_seq = 32, .rope_theta = 10000.0, .norm_eps = 1e-5};
    dk_err err;
    pool *p = pool_new(1);
    model *m;
    CHECK(model_config_validate(&c, "t", &err) == 0 && model_new(&m, &c, p, &err) == 0);
    params_init(model_layout(m), model_params(m), 7);
    char hex[65];
    model_params_sha256(m, hex);
    /* the value of every earlier build: initialisation and the identity never change */
    CHECK_STR(hex, "62beaefe47ac863c0184114f3ad52f76c92343c92434eabadd27aa97e9558012");
    model_params(m)[model_numel(m) - 1] += 1.0f;
    model_params_sha256(m, hex);
    CHECK(strcmp(hex, "62beaefe47ac863c0184114f3ad52f76c92343c92434eabadd27aa97e9558012") != 0);
    model_free(m);
    pool_free(p);
}

TEST(model_pass_outside_its_reservation_stops_on_the_assertion)
{
    /* a broken contract is a bug: the pass neither computes in memory it does not
     * have nor returns a NaN, it stops with file, line and condition (DK_ASSERT) */
    model_config c = tiny(0, 0);
    pool *p = pool_new(1);
    model *m;
    dk_err err;
    CHECK(model_new(&m, &c, p, &err) == 0 && model_reserve(m, 1, 4, &err) == 0);
    dk_token in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int fd[2];
    CHECK(pipe(fd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        float logits[8 * 20];
        model_forward_logits(m, in, 1, 8, logits); /* S 8 > the reserved 4 */
        _exit(0);
    }
    close(fd[1]);
    char msg[512] = "";
    ssize_t k = read(fd[0], msg, sizeof msg - 1);
    msg[k > 0 ? k : 0] = 0;
    close(fd[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    CHECK_CONTAINS(msg, "model.c:");
    CHECK_CONTAINS(msg, "assertion failed: m->act_mem");
    model_free(m);
    pool_free(p);
}
