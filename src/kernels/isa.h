/* isa.h: which instruction-set path the kernels run, chosen once at start-up.
 *
 * Three paths sit behind one table of kernels (kern_ops.h): AVX-512 (x86_avx512/),
 * AVX2 with FMA3 (x86_avx2/) and portable C (generic/); off x86-64 (aarch64) only the
 * portable one is built, and isa_best() is it. The best path this CPU runs
 * is the default; a caller (the CLI, from DOKJA_ISA or --isa; a test, to cover every
 * path) may force a lower one. Kernels never read the environment.
 *
 * fp32 results are bit-identical across the AVX-512 and AVX2 paths: every matmul
 * element follows one chain of FMAs over k cut at the same blocks, every vector
 * reduction keeps sixteen lanes (two 8-lane halves on AVX2) reduced in one fixed tree,
 * and exp is one polynomial. The generic path computes the same operations; where the
 * compiler has a fused multiply-add (aarch64; __FP_FAST_FMAF) it gives the same bits,
 * on baseline x86-64 its products round twice (docs/model.md states the tolerance). */
#ifndef DK_KERNELS_ISA_H
#define DK_KERNELS_ISA_H

typedef enum { DK_ISA_GENERIC = 0, DK_ISA_AVX2 = 1, DK_ISA_AVX512 = 2 } dk_isa;

/* Whether this CPU (and its operating system) can run path `isa`. */
int isa_supported(dk_isa isa);
/* The best path this CPU runs. */
dk_isa isa_best(void);
/* The path in use (isa_best() until isa_set). */
dk_isa isa_current(void);
/* Selects a path for every kernel from now on. Returns 0, or -1 (nothing changed) when
 * the CPU lacks it. Not thread-safe: call it before starting work, never during. */
int isa_set(dk_isa isa);
/* "avx512", "avx2", "generic". */
const char *isa_name(dk_isa isa);
/* Parses a path name (as isa_name gives, or "auto" for isa_best()); 0 or -1. */
int isa_parse(const char *name, dk_isa *out);
/* Selects the path named by `name` (NULL or "" or "auto": the best). On failure fills
 * err (a one-line message naming the path and what the CPU has) and returns -1. */
int isa_select(const char *name, char *err, int errlen);
/* The arithmetic class of a path, what decides the bits of a result: "fma" (every
 * multiply-add fused: AVX-512, AVX2, and generic where the compiler fuses) or
 * "mul-add" (generic on baseline x86-64). Runs of one class give the same bits. */
const char *isa_arith(dk_isa isa);

/* The CPU's features that matter here, for messages: e.g. "avx512f avx512bw avx2 fma". */
const char *isa_cpu_features(void);

#endif
