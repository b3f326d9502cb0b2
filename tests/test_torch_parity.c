/* test_torch_parity.c: dokja's logits, loss and every parameter gradient match
 * PyTorch's on the fixtures written by tests/torch_reference.py (weights in a
 * safetensors file written by Python, a fixed batch, the expected outputs), within
 * 1e-5 relative error in fp32. Regenerating the fixtures needs torch; this test does
 * not. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "io/safetensors.h"
#include "model/model_io.h"
#include "test.h"

#define FIXTURES "tests/fixtures/torch"
#define TOL 1e-5

/* max |a - b| / max |b| over n values */
static double rel(const float *a, const float *b, size_t n)
{
    double m = 0, s = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        m = d > m ? d : m;
        s = fabs(b[i]) > s ? fabs(b[i]) : s;
    }
    return m / s;
}

static int check_fixture(const char *name)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/%s", FIXTURES, name);
    pool *p = pool_new(2);
    model *m;
    dk_err err;
    if (model_load_dir(&m, dir, p, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        pool_free(p);
        return -1;
    }
    snprintf(path, sizeof path, "%s/batch.json", dir);
    json_t *b = json_load_file(path, 0, NULL);
    int B = (int)json_integer_value(json_object_get(b, "batch"));
    int S = (int)json_integer_value(json_object_get(b, "seq"));
    dk_token *in = malloc((size_t)B * S * sizeof *in), *tg = malloc((size_t)B * S * sizeof *tg);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < S; j++) {
            in[i * S + j] = (dk_token)json_integer_value(json_array_get(json_array_get(json_object_get(b, "inputs"), (size_t)i), (size_t)j));
            tg[i * S + j] = (dk_token)json_integer_value(json_array_get(json_array_get(json_object_get(b, "targets"), (size_t)i), (size_t)j));
        }
    json_decref(b);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    st_file *f;
    int bad = 0;
    if (st_open(&f, path, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        bad = 1;
    }
    const model_config *c = model_cfg(m);
    size_t nl = (size_t)B * S * c->vocab_size;
    float *logits = malloc(nl * 4), *want = malloc(nl * 4 + model_numel(m) * 4);
    if (!bad && model_reserve(m, B, S, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        bad = 1;
    }
    if (!bad) {
        model_forward_logits(m, in, B, S, logits);
        const st_tensor *t = st_find(f, "logits");
        if (!t || t->numel != nl || st_read_f32(f, t, want, &err) != 0 || rel(logits, want, nl) > TOL) {
            test_fail(__FILE__, __LINE__, "%s: logits differ (rel %g)", name, t ? rel(logits, want, nl) : -1.0);
            bad = 1;
        }
        model_zero_grads(m);
        double loss = model_forward_backward(m, in, tg, B, S, 1.0f);
        float wl;
        t = st_find(f, "loss");
        if (!t || st_read_f32(f, t, &wl, &err) != 0 || fabs(loss - wl) > TOL * fabs(wl)) {
            test_fail(__FILE__, __LINE__, "%s: loss %.8f, torch %.8f", name, loss, (double)wl);
            bad = 1;
        }
        const param_layout *l = model_layout(m);
        for (size_t i = 0; i < l->n_info; i++) {
            char gname[128];
            snprintf(gname, sizeof gname, "grad.%s", l->info[i].name);
            t = st_find(f, gname);
            const float *g = model_grads(m) + l->info[i].offset;
            if (!t || t->numel != l->info[i].numel || st_read_f32(f, t, want, &err) != 0 ||
                rel(g, want, t->numel) > TOL) {
                test_fail(__FILE__, __LINE__, "%s: %s differs (rel %g)", name, gname,
                          t ? rel(g, want, t->numel) : -1.0);
                bad = 1;
            }
        }
        st_close(f);
    }
    free(logits);
    free(want);
    free(in);
    free(tg);
    model_free(m);
    pool_free(p);
    return bad ? -1 : 0;
}

TEST(torch_parity_gqa_untied)
{
    CHECK(check_fixture("gqa") == 0);
}

TEST(torch_parity_tied_with_qkv_bias)
{
    CHECK(check_fixture("tied_bias") == 0);
}

TEST(torch_parity_multi_query)
{
    CHECK(check_fixture("mqa") == 0);
}
