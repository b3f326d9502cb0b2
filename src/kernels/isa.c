/* isa.c: see isa.h. */
#include "kernels/isa.h"

#include <stdio.h>
#include <string.h>

#include "kernels/kern_ops.h"

static int g_sel = -1; /* -1: not chosen yet (isa_best) */

static int cpu_avx512(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx2") &&
                 __builtin_cpu_supports("fma");
    }
    return cached;
}

static int cpu_avx2(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

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

const char *isa_cpu_features(void)
{
    static char buf[96];
    if (!buf[0]) {
        __builtin_cpu_init();
        /* __builtin_cpu_supports takes only literals */
        const int has[] = {__builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx512dq"),
                           __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx2"),
                           __builtin_cpu_supports("fma")};
        static const char *names[] = {"avx512f", "avx512dq", "avx512bw", "avx2", "fma"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (has[i]) {
                strcat(buf, buf[0] ? " " : "");
                strcat(buf, names[i]);
            }
        if (!buf[0])
            strcpy(buf, "none of avx512f avx2 fma");
    }
    return buf;
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

int cpu_has_avx512f(void) { return isa_current() == DK_ISA_AVX512; }

const kern_ops *kern(void)
{
    switch (isa_current()) {
    case DK_ISA_AVX512: return &kern_ops_avx512;
    case DK_ISA_AVX2: return &kern_ops_avx2;
    default: return &kern_ops_generic;
    }
}

const char *isa_arith(dk_isa isa)
{
#ifdef __FP_FAST_FMAF
    (void)isa;
    return "fma";
#else
    return isa == DK_ISA_GENERIC ? "mul-add" : "fma";
#endif
}
