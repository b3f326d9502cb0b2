/* test_kernels.c: the matrix multiply against a double-precision reference on
 * random and odd shapes, every transpose, beta 0 and 1, and bit-identical results
 * across thread counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/matmul.h"
#include "kernels/vexp.h"
#include "test.h"

static float frand(void) { return (float)rand() / RAND_MAX * 2 - 1; }

/* Checks one product on pool p (path already set); returns 0 if within tolerance. */
static int check_one(mm_ctx *c, int ta, int tb, int M, int N, int K, float beta, int pad)
{
    int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * 4 + 4), *B = malloc(nb * 4 + 4), *C = malloc(nc * 4 + 4), *C0 = malloc(nc * 4 + 4);
    for (size_t i = 0; i < na; i++)
        A[i] = frand();
    for (size_t i = 0; i < nb; i++)
        B[i] = frand();
    for (size_t i = 0; i < nc; i++)
        C0[i] = C[i] = beta == 0 ? NAN : frand();
    mm_f32(c, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    int bad = 0;
    for (int i = 0; i < M && !bad; i++)
        for (int j = 0; j < N && !bad; j++) {
            double s = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
                mag += fabs(a * b);
            }
            if (beta != 0)
                s += C0[(size_t)i * ldc + j];
            double got = C[(size_t)i * ldc + j];
            if (!(fabs(got - s) <= 1e-6 * (mag + 1) * (K + 1)))
                bad = 1;
        }
    free(A);
    free(B);
    free(C);
    free(C0);
    return bad;
}

TEST(matmul_matches_double_reference_on_odd_shapes_all_paths)
{
    srand(42);
    pool *p = pool_new(2);
    mm_ctx *c = mm_ctx_new(p);
    static const int sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100};
    const int paths[] = {MM_PATH_AUTO, MM_PATH_GENERIC, MM_PATH_REF};
    for (int pi = 0; pi < 3; pi++) {
        mm_set_path(paths[pi]);
        for (int it = 0; it < 60; it++) {
            int M = sizes[rand() % 14], N = sizes[rand() % 14], K = sizes[rand() % 14];
            int ta = rand() & 1, tb = rand() & 1, pad = rand() % 3;
            float beta = rand() & 1 ? 1.0f : 0.0f;
            CHECK_MSG(check_one(c, ta, tb, M, N, K, beta, pad) == 0,
                      "path %d: M %d N %d K %d ta %d tb %d beta %g pad %d", paths[pi], M, N, K, ta,
                      tb, beta, pad);
        }
    }
    /* blocks larger than one cache block in every dimension */
    mm_set_path(MM_PATH_AUTO);
    CHECK(check_one(c, 0, 1, 300, 530, 270, 0, 1) == 0);
    CHECK(check_one(c, 1, 0, 530, 300, 600, 1, 0) == 0);
    /* wide products: task blocks of B up to the widest the grid allows */
    CHECK(check_one(c, 0, 1, 40, 2100, 100, 0, 1) == 0);
    CHECK(check_one(c, 0, 0, 3, 4500, 70, 1, 0) == 0);
    mm_ctx_free(c);
    pool_free(p);
}

TEST(matmul_is_bit_identical_for_1_2_3_threads)
{
    srand(7);
    int M = 700, N = 600, K = 530;
    float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)N * K * 4);
    for (size_t i = 0; i < (size_t)M * K; i++)
        A[i] = frand();
    for (size_t i = 0; i < (size_t)N * K; i++)
        B[i] = frand();
    float *ref = NULL;
    for (int nt = 1; nt <= 3; nt++) {
        pool *p = pool_new(nt);
        mm_ctx *c = mm_ctx_new(p);
        float *C = malloc((size_t)M * N * 4);
        mm_f32(c, 0, 1, M, N, K, A, K, B, K, 0.0f, C, N);
        if (!ref)
            ref = C;
        else {
            CHECK_MSG(memcmp(ref, C, (size_t)M * N * 4) == 0, "%d threads differ", nt);
            free(C);
        }
        mm_ctx_free(c);
        pool_free(p);
    }
    free(ref);
    free(A);
    free(B);
}

/* Pre-packed weights give exactly the bits of mm_f32 with the weight as B^T, for the
 * small-M decode kernels (M = 1, 2, 3, 5, 8), the tiled path, odd N and K across KC
 * blocks, beta 0 and 1, on 1 and 2 threads and on the generic path too. */
TEST(matmul_packed_weights_are_bit_identical_to_mm_f32)
{
    srand(7);
    static const int Ms[] = {1, 2, 3, 5, 8, 9, 37, 600}, Ns[] = {1, 31, 33, 700}, Ks[] = {1, 255, 257, 600};
    const int paths[] = {MM_PATH_AUTO, MM_PATH_GENERIC};
    for (int threads = 1; threads <= 2; threads++) {
        pool *p = pool_new(threads);
        mm_ctx *c = mm_ctx_new(p);
        for (int pi = 0; pi < 2; pi++) {
            mm_set_path(paths[pi]);
            for (int it = 0; it < 24; it++) {
                int M = Ms[rand() % 8], N = Ns[rand() % 4], K = Ks[rand() % 4], lda = K + rand() % 3;
                float beta = rand() & 1 ? 1.0f : 0.0f;
                float *A = malloc((size_t)M * lda * 4), *W = malloc((size_t)N * K * 4);
                float *Wp = aligned_alloc(64, (mm_packed_floats(N, K) * 4 + 63) / 64 * 64);
                float *C1 = malloc((size_t)M * N * 4), *C2 = malloc((size_t)M * N * 4);
                for (size_t i = 0; i < (size_t)M * lda; i++)
                    A[i] = frand();
                for (size_t i = 0; i < (size_t)N * K; i++)
                    W[i] = frand();
                for (size_t i = 0; i < (size_t)M * N; i++)
                    C1[i] = C2[i] = frand();
                mm_pack_weight(p, Wp, W, N, K);
                mm_f32(c, 0, 1, M, N, K, A, lda, W, K, beta, C1, N);
                mm_f32_packed(c, M, N, K, A, lda, Wp, beta, C2, N);
                int same = memcmp(C1, C2, (size_t)M * N * 4) == 0;
                free(A), free(W), free(Wp), free(C1), free(C2);
                CHECK_MSG(same, "M %d N %d K %d beta %g threads %d path %d differ", M, N, K,
                          (double)beta, threads, paths[pi]);
            }
        }
        mm_set_path(MM_PATH_AUTO);
        mm_ctx_free(c);
        pool_free(p);
    }
}

/* bf16 operands, fp32 accumulation: within the rounding bound of two bf16 operands
 * (relative 2^-8 each) of the double reference, bit-identical across thread counts,
 * and clearly not the fp32 result (the rounding happened). */
TEST(matmul_bf16_is_within_the_bf16_bound_and_thread_count_independent)
{
    if (!mm_bf16_supported())
        printf("  (no AVX512_BF16: the emulation)\n");
    srand(9);
    /* the last two: tasks up to the widest B block (NC_MAX columns) on one thread */
    static const int shapes[][5] = {{37, 70, 300, 0, 1}, {8, 32, 256, 1, 0}, {130, 45, 513, 0, 0}, {5, 600, 33, 1, 1},
                                    {40, 2100, 600, 0, 1}, {3, 4500, 530, 1, 0}};
    for (int s = 0; s < 6; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        int lda = ta ? M : K, ldb = tb ? K : N;
        float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)K * N * 4);
        float *C1 = malloc((size_t)M * N * 4), *C2 = malloc((size_t)M * N * 4), *C3 = malloc((size_t)M * N * 4);
        for (int i = 0; i < M * K; i++)
            A[i] = frand();
        for (int i = 0; i < K * N; i++)
            B[i] = frand();
        pool *p1 = pool_new(1), *p2 = pool_new(2);
        mm_ctx *c1 = mm_ctx_new(p1), *c2 = mm_ctx_new(p2);
        CHECK(mm_ctx_set_bf16(c1, 1) == 0 && mm_ctx_set_bf16(c2, 1) == 0);
        mm_f32(c1, ta, tb, M, N, K, A, lda, B, ldb, 0.0f, C1, N);
        mm_f32(c2, ta, tb, M, N, K, A, lda, B, ldb, 0.0f, C2, N);
        mm_ctx_set_bf16(c2, 0);
        mm_f32(c2, ta, tb, M, N, K, A, lda, B, ldb, 0.0f, C3, N);
        CHECK(memcmp(C1, C2, (size_t)M * N * 4) == 0);
        int differs = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double ref = 0, mag = 0;
                for (int k = 0; k < K; k++) {
                    double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                    double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                    ref += a * b;
                    mag += fabs(a * b);
                }
                double got = C1[(size_t)i * N + j];
                CHECK_MSG(fabs(got - ref) <= 0x1p-7 * mag + 1e-6, "shape %d (%d,%d): %g vs %g (mag %g)", s, i, j, got, ref, mag);
                differs |= got != C3[(size_t)i * N + j];
            }
        CHECK(differs);
        mm_ctx_free(c1), mm_ctx_free(c2), pool_free(p1), pool_free(p2);
        free(A), free(B), free(C1), free(C2), free(C3);
    }
}

/* The vector exponential against libm's double exp: each value within 3e-7 relative
 * (plus the rounding of its argument to float),
 * sums within 1e-7, odd lengths, and very negative inputs (down to -inf) giving 0. */
TEST(vexp_matches_libm_on_a_row_of_logits)
{
    enum { N = 1001 };
    float z[N], w[N];
    srand(5);
    for (int i = 0; i < N; i++)
        z[i] = (float)rand() / RAND_MAX * 40 - 30;
    z[7] = -INFINITY;
    z[8] = -200.0f;
    float mx = vmax(z, N);
    double ref = 0;
    for (int i = 0; i < N; i++)
        ref += exp((double)z[i] - mx);
    CHECK_MSG(fabs(vexp_sum(z, N, mx) - ref) < 1e-7 * ref, "%.10g vs %.10g", vexp_sum(z, N, mx), ref);
    double lse = mx + log(ref);
    memcpy(w, z, sizeof z);
    vexp_scale(w, N, lse, 0.5f);
    for (int i = 0; i < N; i++) {
        /* the argument is rounded to float first: relative error |x| 2^-24 on top */
        double x = (double)z[i] - lse, want = exp(x) * 0.5;
        if (want < 1e-37)
            continue; /* underflow: checked below */
        CHECK_MSG(fabs(w[i] - want) <= (3e-7 + fabs(x) * 0x1p-24) * want + 1e-38, "i %d: %g vs %g", i,
                  (double)w[i], want);
    }
    CHECK(w[7] < 1e-37f && w[8] < 1e-37f);
    CHECK(vmax(z, 0) == -INFINITY);
}

TEST(vexp_softmax_and_swiglu_match_double_precision)
{
    enum { N = 1003 }; /* not a multiple of 16: the masked tail */
    float z[N], g[N], u[N], dy[N], out[N], dg[N], du[N];
    srand(11);
    for (int i = 0; i < N; i++) {
        z[i] = (float)rand() / RAND_MAX * 30 - 25;
        g[i] = (float)rand() / RAND_MAX * 40 - 20;
        u[i] = (float)rand() / RAND_MAX * 2 - 1;
        dy[i] = (float)rand() / RAND_MAX * 2 - 1;
    }
    g[0] = 100.0f, g[1] = -100.0f, g[2] = 0.0f; /* saturated and exact cases */
    z[3] = NAN;
    float top = -INFINITY;
    for (int i = 0; i < N; i++)
        top = i != 3 && z[i] > top ? z[i] : top;
    CHECK(vmax(z, N) == top); /* the NaN is skipped */
    z[3] = 0.0f;
    float mx = vmax(z, N);
    double ref_sum = 0, w[N];
    for (int i = 0; i < N; i++)
        ref_sum += (w[i] = exp((double)(z[i] - mx)));
    double sum = vexp_inplace(z, N, mx);
    CHECK_MSG(fabs(sum - ref_sum) < 1e-6 * ref_sum, "%.10g vs %.10g", sum, ref_sum);
    for (int i = 0; i < N; i++)
        CHECK_MSG(fabs(z[i] - w[i]) <= 5e-7 * w[i] + 1e-38, "exp %d: %g vs %g", i, (double)z[i], w[i]);
    vswiglu(out, g, u, N);
    vswiglu_backward(dg, du, dy, g, u, N);
    for (int i = 0; i < N; i++) {
        double s = 1 / (1 + exp(-(double)g[i]));
        double y = g[i] * s * u[i], dU = dy[i] * g[i] * s, dG = dy[i] * u[i] * s * (1 + g[i] * (1 - s));
        CHECK_MSG(fabs(out[i] - y) <= 2e-6 * fabs(y) + 1e-30, "silu %d: %g vs %g", i, (double)out[i], y);
        CHECK_MSG(fabs(du[i] - dU) <= 2e-6 * fabs(dU) + 1e-30, "du %d", i);
        /* 1 + g (1 - s) cancels for negative g: the bound is on the terms' size */
        double mag = fabs(dy[i] * u[i] * s) * (1 + fabs(g[i] * (1 - s)));
        CHECK_MSG(fabs(dg[i] - dG) <= 4e-6 * mag + 1e-30, "dg %d: %g vs %g", i, (double)dg[i], dG);
    }
    CHECK(out[2] == 0.0f && fabs(out[0] - 100.0f * u[0]) <= 1e-5f * fabs(100.0f * u[0]));
}
