/* isa.c: see isa.h. */
#include "kernels/isa.h"

#include <stdio.h>
#include <string.h>

#include "kernels/kern_ops.h"

static int g_sel = -1; /* -1: not chosen yet (isa_best) */

#if defined(__x86_64__)
/* The features that decide a path, read once (__builtin_cpu_supports also checks that
 * the operating system saves the vector state). */
static const char *const k_feat[] = {"avx512f", "avx512dq", "avx512bw", "avx2", "fma"};
enum { F_AVX512F, F_AVX512DQ, F_AVX512BW, F_AVX2, F_FMA, F_N };

static const int *cpu_features(void)
{
    static int has[F_N], done;
    if (!done) {
        __builtin_cpu_init(); /* __builtin_cpu_supports takes only literals */
        has[F_AVX512F] = __builtin_cpu_supports("avx512f");
        has[F_AVX512DQ] = __builtin_cpu_supports("avx512dq");
        has[F_AVX512BW] = __builtin_cpu_supports("avx512bw");
        has[F_AVX2] = __builtin_cpu_supports("avx2");
        has[F_FMA] = __builtin_cpu_supports("fma");
        done = 1;
    }
    return has;
}

static int cpu_avx2(void) { return cpu_features()[F_AVX2] && cpu_features()[F_FMA]; }

static int cpu_avx512(void)
{
    const int *f = cpu_features();
    return f[F_AVX512F] && f[F_AVX512DQ] && f[F_AVX512BW] && cpu_avx2();
}

const char *isa_cpu_features(void)
{
    static char buf[64];
    if (!buf[0]) {
        for (int i = 0; i < F_N; i++)
            if (cpu_features()[i]) {
                strcat(buf, buf[0] ? " " : "");
                strcat(buf, k_feat[i]);
            }
        if (!buf[0])
            strcpy(buf, "none of avx512f avx2 fma");
    }
    return buf;
}
#else
/* Not x86-64 (aarch64, ...): the x86 paths are not built, only the portable one
 * exists (generic/: GCC's vectors, NEON on aarch64). */
static int cpu_avx2(void) { return 0; }
static int cpu_avx512(void) { return 0; }

#if defined(__aarch64__)
#define DK_ARCH "aarch64"
#else
#define DK_ARCH "not x86-64"
#endif
const char *isa_cpu_features(void) { return DK_ARCH ", no x86 paths"; }
#endif

int isa_supported(dk_isa isa)
{
    switch (isa) {
    case DK_ISA_GENERIC: return 1;
    case DK_ISA_AVX2: return cpu_avx2();
    case DK_ISA_AVX512: return cpu_avx512();
    }
    return 0;
}

dk_isa isa_best(void) { return cpu_avx512() ? DK_ISA_AVX512 : cpu_avx2() ? DK_ISA_AVX2 : DK_ISA_GENERIC; }

dk_isa isa_current(void) { return g_sel < 0 ? isa_best() : (dk_isa)g_sel; }

int isa_set(dk_isa isa)
{
    if (!isa_supported(isa))
        return -1;
    g_sel = (int)isa;
    return 0;
}

const char *isa_name(dk_isa isa)
{
    return isa == DK_ISA_AVX512 ? "avx512" : isa == DK_ISA_AVX2 ? "avx2" : "generic";
}

int isa_parse(const char *name, dk_isa *out)
{
    if (strcmp(name, "auto") == 0)
        *out = isa_best();
    else if (strcmp(name, "avx512") == 0)
        *out = DK_ISA_AVX512;
    else if (strcmp(name, "avx2") == 0)
        *out = DK_ISA_AVX2;
    else if (strcmp(name, "generic") == 0)
        *out = DK_ISA_GENERIC;
    else
        return -1;
    return 0;
}

int isa_select(const char *name, char *err, int errlen)
{
    dk_isa isa;
    if (!name || !*name)
        name = "auto";
    if (isa_parse(name, &isa) != 0) {
        snprintf(err, (size_t)errlen, "unknown kernel path '%.40s' (avx512, avx2, generic or auto)", name);
        return -1;
    }
    if (isa_set(isa) != 0) {
        snprintf(err, (size_t)errlen, "this CPU cannot run the %s kernel path (it has: %s)", isa_name(isa),
                 isa_cpu_features());
        return -1;
    }
    return 0;
}

const kern_ops *kern_of(dk_isa isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case DK_ISA_AVX512: return &kern_ops_avx512;
    case DK_ISA_AVX2: return &kern_ops_avx2;
#endif
    default: return &kern_ops_generic;
    }
}

const kern_ops *kern(void) { return kern_of(isa_current()); }

const char *isa_arith(dk_isa isa)
{
#ifdef __FP_FAST_FMAF
    (void)isa;
    return "fma";
#else
    return isa == DK_ISA_GENERIC ? "mul-add" : "fma";
#endif
}
