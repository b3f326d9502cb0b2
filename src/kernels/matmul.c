/* matmul.c: fp32 GEMM, C = beta C + op(A) op(B), row-major, packed and cache-blocked
 * with an AVX-512 8x32 micro-kernel (16 accumulators), an AVX2 8x16 fallback and a
 * plain reference. Work is split over blocks of C only, never over K, so results
 * are bit-identical for any thread count. */
#include "kernels/cpu.h"
#include "kernels/matmul.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef DK_BLAS
#include <cblas.h>
#endif
#include <string.h>

#define MR 8
#define NR 32
#define KC 512 /* K block: A micro-panel 8 x 512 x 4 = 16 KiB (L1), B micro-panel 64 KiB (L2) */
#define MC 64  /* rows of C per A block: 64 x 512 x 4 = 128 KiB in L2 */
#define NC 512 /* AMX path: columns of C per task */
#define MT 512 /* AMX path: rows of C per task */
#define NC_MAX 2048 /* widest task: a B block of KC x NC_MAX x 4 = 4 MiB per thread (L3) */
/* Measured on forward shapes (2048 x 2048 x 768 etc., 2 threads): KC 512 / MC 64 gives
 * 300-310 GFLOP/s against 263-267 for KC 256 / MC 128 (fewer passes over C, longer
 * uninterrupted FMA chains); KC 768 and NC 256 were slower. */

struct mm_ctx {
    pool *p;
    int nt;
    float **apack, **bpack; /* per thread */
    float *skinny;          /* the A panel of a small-M packed product (MR x K) */
    size_t skinny_cap;
    int bf16;               /* mixed precision: bf16 operands, fp32 accumulation */
    uint32_t **abf, **bbf;  /* per thread: the packed panels as bf16 pairs */
};

_Static_assert(MM_NR == NR, "the packed weight layout is the micro-kernel's panel");

static int g_path = MM_PATH_AUTO;

void mm_set_path(int path) { g_path = path; }

static int have_avx512(void) { return cpu_has_avx512f(); }

const char *mm_path_name(void)
{
    if (g_path == MM_PATH_REF)
        return "ref";
    if (g_path == MM_PATH_BLAS)
        return "blas (cblas_sgemm)";
    if (g_path == MM_PATH_GENERIC)
        return "generic";
    return have_avx512() ? "avx512" : "generic";
}

static void path_from_env(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *e = getenv("DOKJA_MATMUL");
    if (!e)
        return;
    if (strcmp(e, "generic") == 0)
        g_path = MM_PATH_GENERIC;
    else if (strcmp(e, "ref") == 0)
        g_path = MM_PATH_REF;
#ifdef DK_BLAS
    else if (strcmp(e, "blas") == 0)
        g_path = MM_PATH_BLAS;
#endif
}

mm_ctx *mm_ctx_new(pool *p)
{
    path_from_env();
    mm_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->nt = pool_threads(p);
    c->apack = calloc((size_t)c->nt, sizeof *c->apack);
    c->bpack = calloc((size_t)c->nt, sizeof *c->bpack);
    c->abf = calloc((size_t)c->nt, sizeof *c->abf);
    c->bbf = calloc((size_t)c->nt, sizeof *c->bbf);
    if (!c->apack || !c->bpack || !c->abf || !c->bbf) {
        mm_ctx_free(c);
        return NULL;
    }
    for (int i = 0; i < c->nt; i++) {
        c->apack[i] = aligned_alloc(64, (size_t)MC * KC * sizeof(float));
        c->bpack[i] = aligned_alloc(64, (size_t)NC_MAX * KC * sizeof(float));
        if (!c->apack[i] || !c->bpack[i]) {
            mm_ctx_free(c);
            return NULL;
        }
    }
    return c;
}

void mm_ctx_free(mm_ctx *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nt; i++) {
        if (c->apack)
            free(c->apack[i]);
        if (c->bpack)
            free(c->bpack[i]);
        if (c->abf)
            free(c->abf[i]);
        if (c->bbf)
            free(c->bbf[i]);
    }
    free(c->apack);
    free(c->bpack);
    free(c->abf);
    free(c->bbf);
    free(c->skinny);
    free(c);
}

void mm_f32_ref(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++)
                s += (ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            C[(size_t)i * ldc + j] = beta == 0 ? s : C[(size_t)i * ldc + j] + s;
        }
}

/* The transposing packs transpose in registers: 8 (A) or 16 (B) rows of 16 k values
 * are loaded whole and rearranged with unpack/permute shuffles, one k per output
 * row. Measured against one AVX-512 gather per k (the previous way): 0.27 vs 0.91
 * ns per element for A and 0.28 vs 0.55 for B on a 2048 x 768 operand. */

/* 8 rows x n k values (n <= 16) of src (row stride ld) -> dst[k * 8 + r]. */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
transpose_8x16(float *dst, const float *src, int ld, int n)
{
    __mmask16 m = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
    __m512 r[8], t[8], u[4], w[4];
    for (int i = 0; i < 8; i++)
        r[i] = _mm512_maskz_loadu_ps(m, src + (size_t)i * ld);
    for (int i = 0; i < 4; i++) { /* lane l: rows 2i, 2i+1 interleaved at k = 4l..4l+3 */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { /* o[j] lane l: rows 4h..4h+3 at k = 4l + j */
        __m512 *o = h ? w : u;
        const __m512d *s = (const __m512d *)(t + 4 * h);
        o[0] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[0], s[2]));
        o[1] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[0], s[2]));
        o[2] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[1], s[3]));
        o[3] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[1], s[3]));
    }
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    float tmp[16 * 8] __attribute__((aligned(64)));
    float *out = n == 16 ? dst : tmp; /* a short tail goes through tmp: dst ends at k = n */
    for (int j = 0; j < 4; j++) {     /* 8 rows at k = j, 4 + j | 8 + j, 12 + j */
        __m512 a = _mm512_permutex2var_ps(u[j], lo, w[j]), b = _mm512_permutex2var_ps(u[j], hi, w[j]);
        _mm256_storeu_ps(out + (size_t)j * 8, _mm512_castps512_ps256(a));
        _mm256_storeu_ps(out + (size_t)(4 + j) * 8, _mm512_extractf32x8_ps(a, 1));
        _mm256_storeu_ps(out + (size_t)(8 + j) * 8, _mm512_castps512_ps256(b));
        _mm256_storeu_ps(out + (size_t)(12 + j) * 8, _mm512_extractf32x8_ps(b, 1));
    }
    if (n < 16)
        memcpy(dst, tmp, (size_t)n * 8 * sizeof(float));
}

/* 16 rows x n k values (n <= 16) of src -> dst[k * ldd + r]. */
__attribute__((target("avx512f"), always_inline)) static inline void
transpose_16x16(float *dst, int ldd, const float *src, int ld, int n)
{
    __mmask16 m = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_maskz_loadu_ps(m, src + (size_t)i * ld);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i + j] lane l: rows 4i..4i+3 at k = 4l + j */
        const __m512d *s = (const __m512d *)(t + 4 * i);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[0], s[2]));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[0], s[2]));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[1], s[3]));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[1], s[3]));
    }
    for (int j = 0; j < 4; j++) { /* lane l of r[j], r[4+j], r[8+j], r[12+j] is k = 4l + j */
        __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44), d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(a, c, 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD);
    }
    for (int k = 0; k < n; k++)
        _mm512_storeu_ps(dst + (size_t)k * ldd, t[k]);
}

__attribute__((target("avx512f,avx512dq"))) static void pack_a_transpose(float *dst, const float *src,
                                                                         int lda, int kc)
{
    for (int k = 0; k < kc; k += 16)
        transpose_8x16(dst + (size_t)k * MR, src + k, lda, kc - k < 16 ? kc - k : 16);
}

__attribute__((target("avx512f"))) static void pack_b_transpose(float *dst, const float *src, int ldb,
                                                                 int kc)
{
    for (int k = 0; k < kc; k += 16) {
        int n = kc - k < 16 ? kc - k : 16;
        transpose_16x16(dst + (size_t)k * NR, NR, src + k, ldb, n);
        transpose_16x16(dst + (size_t)k * NR + 16, NR, src + (size_t)16 * ldb + k, ldb, n);
    }
}

/* Packs rows [i0, i0+mc) x k [k0, k0+kc) of op(A) into MR-row micro-panels:
 * panel p holds, for each k, MR consecutive values (zero-padded past M). */
static void pack_a(float *dst, int ta, const float *A, int lda, int i0, int mc, int k0, int kc)
{
    for (int ip = 0; ip < mc; ip += MR, dst += (size_t)MR * kc) {
        int mr = mc - ip < MR ? mc - ip : MR;
        if (ta && mr == MR) { /* A stored K x M: row k of the panel is contiguous in A */
            for (int k = 0; k < kc; k++)
                memcpy(dst + (size_t)k * MR, A + (size_t)(k0 + k) * lda + i0 + ip, MR * sizeof(float));
        } else if (ta) {
            for (int k = 0; k < kc; k++) {
                const float *src = A + (size_t)(k0 + k) * lda + i0 + ip;
                for (int r = 0; r < mr; r++)
                    dst[(size_t)k * MR + r] = src[r];
                for (int r = mr; r < MR; r++)
                    dst[(size_t)k * MR + r] = 0;
            }
        } else if (mr == MR && have_avx512()) { /* A stored M x K: transpose 8 x 16 blocks */
            pack_a_transpose(dst, A + (size_t)(i0 + ip) * lda + k0, lda, kc);
        } else { /* A stored M x K: read each row along k */
            for (int r = 0; r < MR; r++) {
                const float *src = A + (size_t)(i0 + ip + r) * lda + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * MR + r] = r < mr ? src[k] : 0;
            }
        }
    }
}

/* Packs columns [j0, j0+nc) x k [k0, k0+kc) of op(B) into NR-column micro-panels:
 * panel q holds, for each k, NR consecutive values (zero-padded past N). Each case
 * reads B along its rows. */
static void pack_b(float *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc)
{
    for (int jp = 0; jp < nc; jp += NR, dst += (size_t)NR * kc) {
        int nr = nc - jp < NR ? nc - jp : NR;
        if (!tb) {
            for (int k = 0; k < kc; k++) {
                const float *src = B + (size_t)(k0 + k) * ldb + j0 + jp;
                if (nr == NR)
                    memcpy(dst + (size_t)k * NR, src, NR * sizeof(float));
                else
                    for (int c = 0; c < NR; c++)
                        dst[(size_t)k * NR + c] = c < nr ? src[c] : 0;
            }
        } else if (nr == NR && have_avx512()) { /* B stored N x K: transpose 16 x 16 blocks */
            pack_b_transpose(dst, B + (size_t)(j0 + jp) * ldb + k0, ldb, kc);
        } else { /* B stored N x K */
            for (int c = 0; c < NR; c++) {
                const float *src = B + (size_t)(j0 + jp + c) * ldb + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * NR + c] = c < nr ? src[k] : 0;
            }
        }
    }
}

/* Writes (first) or adds the accumulators of mr rows x nr columns into C: the end of
 * every register micro-kernel. */
__attribute__((target("avx512f"), always_inline)) static inline void
store_rows(__m512 c[MR][2], float *C, int ldc, int mr, int nr, int first)
{
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    for (int r = 0; r < mr; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!first) {
            c[r][0] = _mm512_add_ps(c[r][0], _mm512_maskz_loadu_ps(m0, cr));
            c[r][1] = _mm512_add_ps(c[r][1], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, c[r][0]);
        _mm512_mask_storeu_ps(cr + 16, m1, c[r][1]);
    }
}

/* C[mr x nr] (+)= Apanel (kc x MR) * Bpanel (kc x NR) for the first R rows of the
 * A panel (R <= MR; mr <= R). first: overwrite (beta 0 and first K block) instead of
 * accumulate. Every instance computes each row with the same chain of FMAs over k,
 * so a row's result does not depend on R: the small-M kernels used for decoding
 * give the bits the 8-row kernel gives. */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel_avx512_rows(const int R, int kc, const float *a, const float *b, float *C, int ldc, int mr,
                   int nr, int first)
{
    __m512 c[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        c[r][0] = c[r][1] = _mm512_setzero_ps();
        if (r < mr) { /* C's lines arrive while the FMAs run (measured: +9 % on training shapes) */
            _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(C + (size_t)r * ldc + 16), _MM_HINT_T0);
        }
    }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
            c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
        }
        a += MR;
        b += NR;
    }
    store_rows(c, C, ldc, mr, nr, first);
}

/* The 8-row kernel reading A where it lies, unpacked: row r, element k at
 * a[r * rs + k * ks] (rs = lda, ks = 1 for A stored M x K). The packed panel's
 * broadcasts become broadcasts from eight row streams, so A is never copied: at d 384, packing A cost
 * about as much as all of B's packing and the model's norms together. The FMA chain
 * of each element is the packed kernel's, so the bits are the same. */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel_avx512_direct(int kc, const float *a, const size_t rs, const size_t ks, const float *b,
                     float *C, int ldc, int nr, int first)
{
    __m512 c[MR][2];
    const float *ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        c[r][0] = c[r][1] = _mm512_setzero_ps();
        ar[r] = a + r * rs;
        _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (size_t)r * ldc + 16), _MM_HINT_T0);
    }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(ar[r][k * ks]);
            c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
        }
        b += NR;
    }
    store_rows(c, C, ldc, MR, nr, first);
}

__attribute__((target("avx512f"))) static void kernel_direct_rows(int kc, const float *a, int lda,
                                                                  const float *b, float *C, int ldc,
                                                                  int nr, int first)
{
    kernel_avx512_direct(kc, a, (size_t)lda, 1, b, C, ldc, nr, first);
}

#define KERNEL_ROWS(NAME, R)                                                                \
    __attribute__((target("avx512f"))) static void NAME(int kc, const float *a,            \
                                                        const float *b, float *C, int ldc, \
                                                        int mr, int nr, int first)         \
    {                                                                                      \
        kernel_avx512_rows(R, kc, a, b, C, ldc, mr, nr, first);                            \
    }
KERNEL_ROWS(kernel_avx512, MR)
KERNEL_ROWS(kernel_avx512_r1, 1)
KERNEL_ROWS(kernel_avx512_r2, 2)
KERNEL_ROWS(kernel_avx512_r4, 4)

static void kernel_generic(int kc, const float *a, const float *b, float *C, int ldc, int mr,
                           int nr, int first)
{
    float c[MR][NR] = {{0}};
    for (int k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                c[r][j] += a[r] * b[j];
        a += MR;
        b += NR;
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            C[(size_t)r * ldc + j] = first ? c[r][j] : C[(size_t)r * ldc + j] + c[r][j];
}

/* ---- bf16 operands, fp32 accumulation ----------------------------------------------
 * The fp32 panels are converted (round to nearest even) into pairs: one 32-bit word
 * holds the bf16 values of k and k+1 for one row (A) or column (B), the operand layout
 * of vdpbf16ps, which adds a[k] b[k] + a[k+1] b[k+1] into each fp32 lane: twice the
 * FMA's multiply-adds per instruction. Sums still run in a fixed order. */

static int have_bf16(void)
{
    static int cached = -1;
    if (cached < 0) {
        unsigned a = 0, b, c, d; /* CPUID.(7,1):EAX bit 5 AVX512_BF16 */
        cached = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1) && have_avx512();
    }
    return cached;
}

int mm_bf16_supported(void) { return have_bf16(); }

/* AMX (TDPBF16PS on 16 x 16 fp32 tiles) where the CPU has it and the kernel grants the
 * tile state to this process (arch_prctl ARCH_REQ_XCOMP_PERM). On this machine's
 * Xeon, vdpbf16ps runs at half the FMA rate (115 vs 235 GFLOP/s per core, measured),
 * so the AVX-512 bf16 kernel only pays off elsewhere (Zen 5); AMX reaches about 3.6
 * TFLOP/s per core. DOKJA_NO_AMX=1 forces the AVX-512 bf16 kernel. */
static int have_amx(void)
{
    static int cached = -1;
    if (cached < 0) {
        cached = 0;
        const char *off = getenv("DOKJA_NO_AMX");
        unsigned a, b, c, d; /* CPUID.(7,0):EDX bit 22 AMX-BF16, bit 24 AMX-TILE (by cpuid:
                                not every compiler's __builtin_cpu_supports knows AMX) */
        if ((!off || !*off || *off == '0') && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
            (d >> 22 & 1) && (d >> 24 & 1))
            cached = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
    }
    return cached;
}

int mm_ctx_set_bf16(mm_ctx *c, int on)
{
    if (!on) {
        c->bf16 = 0;
        return 0;
    }
    if (!have_bf16())
        return -1;
    for (int i = 0; i < c->nt; i++) {
        if (!c->abf[i])
            c->abf[i] = aligned_alloc(64, (size_t)MC * (KC / 2 + 16) * sizeof(uint32_t));
        if (!c->bbf[i])
            c->bbf[i] = aligned_alloc(64, (size_t)NC_MAX * (KC / 2 + 16) * sizeof(uint32_t));
        if (!c->abf[i] || !c->bbf[i])
            return -1;
    }
    c->bf16 = 1 + have_amx(); /* 2: AMX tiles */
    return 0;
}

static inline uint32_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16;
}

/* width W (MR or NR) panel of kc rows -> (kc+1)/2 rows of W words. */
__attribute__((target("avx512f"))) static void panel_to_bf16(uint32_t *dst, const float *src, int kc,
                                                              int W)
{
    const __m512i round = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    for (int k = 0; k < kc; k += 2, dst += W) {
        const float *lo = src + (size_t)k * W, *hi = lo + W;
        for (int j = 0; j < W; j += 16) {
            __mmask16 m = W - j >= 16 ? 0xFFFF : (__mmask16)((1u << (W - j)) - 1);
            __m512i a = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, lo + j));
            __m512i b = k + 1 < kc ? _mm512_castps_si512(_mm512_maskz_loadu_ps(m, hi + j)) : _mm512_setzero_si512();
            a = _mm512_srli_epi32(_mm512_add_epi32(a, _mm512_add_epi32(round, _mm512_and_si512(_mm512_srli_epi32(a, 16), one))), 16);
            b = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(round, _mm512_and_si512(_mm512_srli_epi32(b, 16), one))), 16);
            _mm512_mask_storeu_epi32(dst + j, m, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
        }
    }
}

/* C[mr x nr] (+)= A pairs (kp x MR words) * B pairs (kp x NR words). */
__attribute__((target("avx512f,avx512bf16"))) static void kernel_bf16(int kp, const uint32_t *a,
                                                                      const uint32_t *b, float *C,
                                                                      int ldc, int mr, int nr,
                                                                      int first)
{
    __m512 c[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int k = 0; k < kp; k++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r]);
            c[r][0] = _mm512_dpbf16_ps(c[r][0], av, b0);
            c[r][1] = _mm512_dpbf16_ps(c[r][1], av, b1);
        }
        a += MR;
        b += NR;
    }
    store_rows(c, C, ldc, mr, nr, first);
}

/* ---- AMX ----------------------------------------------------------------------------
 * Tiles 0-3 hold a 32 x 32 block of C (2 x 2 tiles of 16 x 16 fp32), 4-5 two A tiles
 * (16 rows x 32 bf16, rows of A in bf16), 6-7 two B tiles (16 k-pairs x 16 columns,
 * the pair layout of panel_to_bf16). A block's K is padded with zeros to a multiple of
 * 32, its rows to a multiple of 16; edge tiles of C go through a scratch tile. */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;

/* Eight 16-row x 64-byte tiles. A constant in memory: GCC 12 does not treat
 * ldtilecfg as reading its operand and drops the stores of a local configuration. */
static const amx_cfg AMX_CFG __attribute__((aligned(64))) = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

__attribute__((target("amx-tile"))) static void amx_configure(void) { _tile_loadconfig(&AMX_CFG); }

/* The A rows [i0, i0+mc) x k [k0, k0+kc) of op(A) as bf16 rows of kpad values (zero
 * padded in k and to a multiple of 16 rows). */
__attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw"))) static void pack_a_rows_bf16(uint16_t *dst, int ta,
                                                                           const float *A, int lda,
                                                                           int i0, int mc, int k0,
                                                                           int kc, int kpad)
{
    int rows = (mc + 15) / 16 * 16;
    for (int r = 0; r < rows; r++) {
        uint16_t *d = dst + (size_t)r * kpad;
        if (r >= mc) {
            memset(d, 0, (size_t)kpad * 2);
            continue;
        }
        if (!ta) {
            const float *src = A + (size_t)(i0 + r) * lda + k0;
            int k = 0;
            for (; k < kc; k += 16) {
                __mmask16 m = kc - k >= 16 ? 0xFFFF : (__mmask16)((1u << (kc - k)) - 1);
                __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + k));
                _mm256_mask_storeu_epi16(d + k, m, (__m256i)h);
            }
        } else {
            for (int k = 0; k < kc; k++)
                d[k] = (uint16_t)bf16_bits(A[(size_t)(k0 + k) * lda + i0 + r]);
        }
        if (kpad > kc)
            memset(d + kc, 0, (size_t)(kpad - kc) * 2);
    }
}

/* C[mr x nr] (+)= A (16-row groups, kpad bf16 per row) x B (pair panels) for one
 * 32 x 32 block at (ia, jb) of the packed block; b points at the pair rows of the NR
 * panel holding columns jb..jb+31. */
__attribute__((target("amx-tile,amx-bf16"))) static void amx_block(const uint16_t *a, int kpad,
                                                                   const uint32_t *b, float *C,
                                                                   int ldc, int mr, int nr, int first)
{
    float scratch[4][16 * 16] __attribute__((aligned(64)));
    int full = mr == 32 && nr == 32;
    long sa = (long)kpad * 2, sc = (long)ldc * 4;
    if (first) {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    } else if (full) {
        _tile_loadd(0, C, sc);
        _tile_loadd(1, C + 16, sc);
        _tile_loadd(2, C + (size_t)16 * ldc, sc);
        _tile_loadd(3, C + (size_t)16 * ldc + 16, sc);
    } else {
        for (int t = 0; t < 4; t++) {
            int r0 = (t >> 1) * 16, c0 = (t & 1) * 16;
            for (int r = 0; r < 16; r++)
                for (int q = 0; q < 16; q++)
                    scratch[t][r * 16 + q] =
                        r0 + r < mr && c0 + q < nr ? C[(size_t)(r0 + r) * ldc + c0 + q] : 0.0f;
        }
        _tile_loadd(0, scratch[0], 64);
        _tile_loadd(1, scratch[1], 64);
        _tile_loadd(2, scratch[2], 64);
        _tile_loadd(3, scratch[3], 64);
    }
    for (int k = 0; k < kpad; k += 32) {
        _tile_loadd(4, a + k, sa);
        _tile_loadd(5, a + (size_t)16 * kpad + k, sa);
        _tile_loadd(6, b + (size_t)(k / 2) * NR, NR * 4);
        _tile_loadd(7, b + (size_t)(k / 2) * NR + 16, NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    if (full) {
        _tile_stored(0, C, sc);
        _tile_stored(1, C + 16, sc);
        _tile_stored(2, C + (size_t)16 * ldc, sc);
        _tile_stored(3, C + (size_t)16 * ldc + 16, sc);
        return;
    }
    _tile_stored(0, scratch[0], 64);
    _tile_stored(1, scratch[1], 64);
    _tile_stored(2, scratch[2], 64);
    _tile_stored(3, scratch[3], 64);
    for (int t = 0; t < 4; t++) {
        int r0 = (t >> 1) * 16, c0 = (t & 1) * 16;
        for (int r = r0; r < mr && r < r0 + 16; r++)
            for (int q = c0; q < nr && q < c0 + 16; q++)
                C[(size_t)r * ldc + q] = scratch[t][(r - r0) * 16 + q - c0];
    }
}

typedef struct {
    mm_ctx *c;
    int ta, tb, M, N, K, lda, ldb, ldc;
    const float *A, *B;
    float *C;
    float beta;
    int mt, nc;  /* rows and columns of C per task */
    int tiles_n; /* tasks along N */
    int avx512, bf16;
} job;

/* One K block of a task on AMX: B's panels as pairs (padded to 16 pair rows), then per
 * MC rows A as bf16 rows, then 32 x 32 blocks of C. */
static void amx_step(const job *j, int th, int i0, int j0, int mt, int nc, int k0, int kc,
                     const float *bp, int first)
{
    int kp = (kc + 1) / 2, kpp = (kp + 15) / 16 * 16, kpad = 2 * kpp;
    uint32_t *bb = j->c->bbf[th];
    uint16_t *ab = (uint16_t *)j->c->abf[th];
    for (int jp = 0; jp < nc; jp += NR) {
        uint32_t *dst = bb + (size_t)jp * kpp;
        panel_to_bf16(dst, bp + (size_t)jp * kc, kc, NR);
        memset(dst + (size_t)kp * NR, 0, (size_t)(kpp - kp) * NR * 4);
    }
    for (int i1 = 0; i1 < mt; i1 += MC) {
        int mc = mt - i1 < MC ? mt - i1 : MC;
        pack_a_rows_bf16(ab, j->ta, j->A, j->lda, i0 + i1, mc, k0, kc, kpad);
        for (int jp = 0; jp < nc; jp += NR)
            for (int ip = 0; ip < mc; ip += 32) {
                int mr = mc - ip < 32 ? mc - ip : 32, nr = nc - jp < NR ? nc - jp : NR;
                float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                amx_block(ab + (size_t)ip * kpad, kpad, bb + (size_t)jp * kpp, cp, j->ldc, mr, nr, first);
            }
    }
}

/* One task = one j->mt x j->nc block of C, over all of K in KC steps (a fixed order).
 * For each K step the task packs its B block once and reuses it for every MC-row
 * block of A inside the task, and packs each A block once for all its columns. */
static void block_task(void *vj, size_t task, int th)
{
    job *j = vj;
    int ti = (int)(task / (size_t)j->tiles_n), tj = (int)(task % (size_t)j->tiles_n);
    int i0 = ti * j->mt, j0 = tj * j->nc;
    int mt = j->M - i0 < j->mt ? j->M - i0 : j->mt, nc = j->N - j0 < j->nc ? j->N - j0 : j->nc;
    float *ap = j->c->apack[th], *bp = j->c->bpack[th];
    if (j->bf16 == 2)
        amx_configure(); /* tile configuration is per thread */
    if (j->K == 0) {
        for (int r = 0; r < mt; r++)
            for (int q = 0; q < nc; q++) {
                float *x = &j->C[(size_t)(i0 + r) * j->ldc + j0 + q];
                *x = j->beta == 0 ? 0 : *x;
            }
        return;
    }
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC, kp = (kc + 1) / 2;
        int first = k0 == 0 && j->beta == 0;
        pack_b(bp, j->tb, j->B, j->ldb, j0, nc, k0, kc);
        if (j->bf16 == 2) {
            amx_step(j, th, i0, j0, mt, nc, k0, kc, bp, first);
            continue;
        }
        uint32_t *bb = j->bf16 ? j->c->bbf[th] : NULL, *ab = j->bf16 ? j->c->abf[th] : NULL;
        for (int jp = 0; bb && jp < nc; jp += NR)
            panel_to_bf16(bb + (size_t)jp * kp, bp + (size_t)jp * kc, kc, NR);
        /* Full 8-row panels of A stored M x K are read in place: eight sequential row
         * streams. A stored K x M is still packed: read in place, each k is a line at
         * a stride of lda, and power-of-two strides then share a few cache sets
         * (measured 10 % slower on the weight-gradient shapes). */
        int direct = j->avx512 && !j->bf16 && !j->ta;
        for (int i1 = 0; i1 < mt; i1 += MC) {
            int mc = mt - i1 < MC ? mt - i1 : MC, full = direct ? mc / MR * MR : 0;
            if (full < mc) /* the rest, zero-padded to a panel */
                pack_a(ap + (size_t)full * kc, j->ta, j->A, j->lda, i0 + i1 + full, mc - full, k0, kc);
            for (int ip = 0; ab && ip < mc; ip += MR)
                panel_to_bf16(ab + (size_t)ip * kp, ap + (size_t)ip * kc, kc, MR);
            for (int jp = 0; jp < nc; jp += NR)
                for (int ip = 0; ip < mc; ip += MR) {
                    int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                    float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                    const float *a = ap + (size_t)ip * kc, *b = bp + (size_t)jp * kc;
                    if (j->bf16)
                        kernel_bf16(kp, ab + (size_t)ip * kp, bb + (size_t)jp * kp, cp, j->ldc, mr, nr, first);
                    else if (ip < full)
                        kernel_direct_rows(kc, j->A + (size_t)(i0 + i1 + ip) * j->lda + k0, j->lda, b, cp, j->ldc, nr, first);
                    else if (j->avx512)
                        kernel_avx512(kc, a, b, cp, j->ldc, mr, nr, first);
                    else
                        kernel_generic(kc, a, b, cp, j->ldc, mr, nr, first);
                }
        }
    }
}

#ifndef SLACK
#define SLACK 0.0
#endif
static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* The task grid of one product. A task packs its A rows once per column block and
 * its B block once per row block, so a grid of tm x tn tasks packs M K tn + N K tm
 * elements; fewer tasks pack less but balance worse. The estimate in cycles: the
 * slowest thread's FMAs (whole waves of equal tasks, at 64 flops a cycle), half a
 * task of slack for a thread the machine slows down, and the packing (about a
 * cycle an element, measured), over the threads. The grid never changes a result:
 * every element is summed over k in the same order whatever the task that holds it. */
static void choose_tasks(int M, int N, int K, int nt, int a_packed, int *mt_out, int *nc_out)
{
    double best = -1;
    int best_mt = round_up(M, MR), best_nc = N < NC_MAX ? round_up(N, NR) : NC_MAX;
    int max_tm = (M + MC - 1) / MC, max_tn = (N + NR - 1) / NR;
    for (int tm = 1; tm <= max_tm && tm <= 32; tm++)
        for (int tn = 1; tn <= max_tn && tn <= 64; tn++) {
            int mt = round_up((M + tm - 1) / tm, MR), nc = round_up((N + tn - 1) / tn, NR);
            if (nc > NC_MAX)
                continue;
            int tm1 = (M + mt - 1) / mt, tn1 = (N + nc - 1) / nc;
            if (tm1 != tm || tn1 != tn)
                continue; /* the same grid as a smaller (tm, tn) */
            double task = 2.0 * mt * nc * K / 64, waves = (double)((tm * tn + nt - 1) / nt);
            double pack = 2.0 * ((a_packed ? (double)M * K * tn : 0) + (double)N * K * tm) / nt;
            double cost = waves * task + SLACK * task + pack;
            if (best < 0 || cost < best) {
                best = cost;
                best_mt = mt;
                best_nc = nc;
            }
        }
    *mt_out = best_mt;
    *nc_out = best_nc;
}

/* Sets up the block job of one product; returns the number of blocks, or 0 when the
 * reference path ran it already (or there is nothing to do). */
static size_t job_init(job *j, mm_ctx *c, int nt, int ta, int tb, int M, int N, int K,
                       const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return 0;
    if (g_path == MM_PATH_REF) {
        mm_f32_ref(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
#ifdef DK_BLAS
    if (g_path == MM_PATH_BLAS) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                    1.0f, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
#endif
    *j = (job){c, ta, tb, M, N, K, lda, ldb, ldc, A, B, C, beta, MT, NC, 0,
               have_avx512() && g_path != MM_PATH_GENERIC, g_path == MM_PATH_AUTO ? c->bf16 : 0};
    if (j->bf16 != 2) /* the AMX path keeps its fixed 512 x 512 tasks */
        choose_tasks(M, N, K, nt, ta || j->bf16 || !j->avx512, &j->mt, &j->nc);
    j->tiles_n = (N + j->nc - 1) / j->nc;
    return (size_t)((M + j->mt - 1) / j->mt) * (size_t)j->tiles_n;
}

void mm_f32(mm_ctx *c, int ta, int tb, int M, int N, int K, const float *A, int lda,
            const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, c->nt, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    if (tasks)
        pool_for(c->p, tasks, block_task, &j);
}

void mm_f32_on_thread(mm_ctx *c, int thread, int ta, int tb, int M, int N, int K, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, 1, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    for (size_t t = 0; t < tasks; t++) /* the same blocks, in order: same bits as mm_f32 */
        block_task(&j, t, thread);
}

/* ---- pre-packed weights ---------------------------------------------------------- */

size_t mm_packed_floats(int N, int K) { return (size_t)((N + NR - 1) / NR) * NR * (size_t)K; }

typedef struct {
    float *dst;
    const float *W;
    int N, K;
} pack_job;

static void pack_weight_panel(void *vj, size_t q, int th)
{
    pack_job *j = vj;
    int j0 = (int)q * NR;
    /* pack_b's transposed case in KC steps: the panel's rows k are contiguous. */
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        pack_b(j->dst + q * (size_t)j->K * NR + (size_t)k0 * NR, 1, j->W, j->K, j0,
               j->N - j0 < NR ? j->N - j0 : NR, k0, kc);
    }
}

void mm_pack_weight(pool *p, float *dst, const float *W, int N, int K)
{
    pack_job j = {dst, W, N, K};
    pool_for(p, (size_t)(N + NR - 1) / NR, pack_weight_panel, &j);
}

typedef struct {
    mm_ctx *c;
    int M, N, K, lda, ldc;
    const float *A, *Wp, *askinny;
    float *C;
    float beta;
    int tiles_n, panels_per_task;
    int avx512;
} packed_job;

typedef void (*kernel_fn)(int, const float *, const float *, float *, int, int, int, int);

static kernel_fn kernel_for_rows(int M, int avx512)
{
    if (!avx512)
        return kernel_generic;
    return M <= 1 ? kernel_avx512_r1 : M <= 2 ? kernel_avx512_r2 : M <= 4 ? kernel_avx512_r4 : kernel_avx512;
}

/* Small M (<= MR): one A panel packed by the caller over all of K; a task is a run of
 * column panels, each streamed once from front to back. */
static void skinny_task(void *vj, size_t task, int th)
{
    packed_job *j = vj;
    kernel_fn kern = kernel_for_rows(j->M, j->avx512);
    int q0 = (int)task * j->panels_per_task, nq = (j->N + NR - 1) / NR;
    int q1 = q0 + j->panels_per_task < nq ? q0 + j->panels_per_task : nq;
    for (int q = q0; q < q1; q++) {
        int j0 = q * NR, nr = j->N - j0 < NR ? j->N - j0 : NR;
        const float *panel = j->Wp + (size_t)q * j->K * NR;
        for (int k0 = 0; k0 < j->K; k0 += KC) {
            int kc = j->K - k0 < KC ? j->K - k0 : KC;
            kern(kc, j->askinny + (size_t)k0 * MR, panel + (size_t)k0 * NR, j->C + j0, j->ldc, j->M,
                 nr, k0 == 0 && j->beta == 0);
        }
    }
}

/* Larger M: block_task's tiling and order, with B read from the packed panels. */
static void packed_block_task(void *vj, size_t task, int th)
{
    packed_job *j = vj;
    int ti = (int)(task / (size_t)j->tiles_n), tj = (int)(task % (size_t)j->tiles_n);
    int i0 = ti * MT, j0 = tj * NC;
    int mt = j->M - i0 < MT ? j->M - i0 : MT, nc = j->N - j0 < NC ? j->N - j0 : NC;
    float *ap = j->c->apack[th];
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        int first = k0 == 0 && j->beta == 0;
        for (int i1 = 0; i1 < mt; i1 += MC) {
            int mc = mt - i1 < MC ? mt - i1 : MC;
            pack_a(ap, 0, j->A, j->lda, i0 + i1, mc, k0, kc);
            for (int jp = 0; jp < nc; jp += NR) {
                const float *b = j->Wp + (size_t)((j0 + jp) / NR) * j->K * NR + (size_t)k0 * NR;
                for (int ip = 0; ip < mc; ip += MR) {
                    int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                    float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                    if (j->avx512)
                        kernel_avx512(kc, ap + (size_t)ip * kc, b, cp, j->ldc, mr, nr, first);
                    else
                        kernel_generic(kc, ap + (size_t)ip * kc, b, cp, j->ldc, mr, nr, first);
                }
            }
        }
    }
}

void mm_f32_packed(mm_ctx *c, int M, int N, int K, const float *A, int lda, const float *Wp,
                   float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K == 0) {
        for (int i = 0; i < M; i++)
            for (int q = 0; q < N; q++)
                C[(size_t)i * ldc + q] = beta == 0 ? 0 : C[(size_t)i * ldc + q];
        return;
    }
    packed_job j = {c, M, N, K, lda, ldc, A, Wp, NULL, C, beta, (N + NC - 1) / NC, 0,
                    have_avx512() && g_path != MM_PATH_GENERIC};
    if (M <= MR) {
        size_t need = (size_t)MR * K;
        if (need > c->skinny_cap) {
            float *nb = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
            if (!nb) { /* the tiled path needs no extra memory */
                pool_for(c->p, (size_t)((M + MT - 1) / MT) * (size_t)j.tiles_n, packed_block_task, &j);
                return;
            }
            free(c->skinny);
            c->skinny = nb;
            c->skinny_cap = need;
        }
        pack_a(c->skinny, 0, A, lda, 0, M, 0, K);
        j.askinny = c->skinny;
        int nq = (N + NR - 1) / NR;
        /* about 8 tasks per thread, at least 2 panels each (tasks must outweigh a wake-up) */
        int per = nq / (8 * c->nt);
        j.panels_per_task = per < 2 ? 2 : per;
        pool_for(c->p, (size_t)((nq + j.panels_per_task - 1) / j.panels_per_task), skinny_task, &j);
        return;
    }
    pool_for(c->p, (size_t)((M + MT - 1) / MT) * (size_t)j.tiles_n, packed_block_task, &j);
}
