/* test_train_parts.c: the pieces of the training loop that stand alone: learning-rate
 * schedule, gradient clipping, the loss-curve picture. */
#include <math.h>
#include <stdlib.h>

#include "test.h"
#include "train/grad.h"
#include "train/plot.h"
#include "train/schedule.h"

TEST(schedule_warms_up_linearly_then_decays_by_cosine_to_the_floor)
{
    CHECK(fabs(lr_at(0, 100, 10, 1.0, 0.1) - 0.1) < 1e-12);
    CHECK(fabs(lr_at(9, 100, 10, 1.0, 0.1) - 1.0) < 1e-12);
    CHECK(fabs(lr_at(10, 100, 10, 1.0, 0.1) - 1.0) < 1e-12);
    CHECK(fabs(lr_at(99, 100, 10, 1.0, 0.1) - 0.1) < 1e-12);
    double mid = lr_at(10 + 89 / 2.0, 100, 10, 1.0, 0.1);
    CHECK(mid > 0.5 && mid < 0.6);
    for (long s = 11; s < 100; s++)
        CHECK(lr_at(s, 100, 10, 1.0, 0.1) <= lr_at(s - 1, 100, 10, 1.0, 0.1));
}

TEST(grad_clip_scales_to_the_max_norm_and_is_thread_count_independent)
{
    size_t n = 3 * GRAD_BLOCK + 123;
    float *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
    srand(1);
    for (size_t i = 0; i < n; i++)
        g[i] = h[i] = (float)rand() / RAND_MAX - 0.5f;
    pool *p1 = pool_new(1), *p3 = pool_new(3);
    double a = grad_sumsq(p1, g, n), b = grad_sumsq(p3, g, n);
    CHECK(a == b);
    double norm = grad_clip(p3, g, n, 1.0);
    CHECK(fabs(norm - sqrt(a)) < 1e-9 * norm);
    CHECK(fabs(sqrt(grad_sumsq(p1, g, n)) - 1.0) < 1e-4);
    CHECK(grad_clip(p1, h, n, 1e9) == norm); /* no clipping below the limit */
    CHECK(h[5] == (float)h[5] && g[5] != h[5]);
    pool_free(p1);
    pool_free(p3);
    free(g);
    free(h);
}

TEST(plot_writes_an_svg_with_escaped_series_names)
{
    double x[3] = {0, 1, 2}, y[3] = {3, 2, NAN}, vx[1] = {1}, vy[1] = {2.5};
    plot_series s[2] = {{"train", x, y, 3}, {"val <a&b>", vx, vy, 1}};
    char path[512], out[8192];
    snprintf(path, sizeof path, "%s/loss.svg", test_tmpdir());
    dk_err err;
    CHECK(plot_svg(path, "loss", "step", "nats", s, 2, &err) == 0);
    CHECK_EQ(test_run(out, sizeof out, "cat %s", path), 0);
    CHECK_CONTAINS(out, "<svg");
    CHECK_CONTAINS(out, "val &lt;a&amp;b&gt;");
    CHECK_CONTAINS(out, "</svg>");
    CHECK(strstr(out, "nan") == NULL);
}
