/* The kernel driver: every SIMD kernel of one ISA against its scalar twin, from the one table
 * of tests/kernel_cases.h (kernel, twin, shapes, tolerance: 0 for every int8 kernel). The
 * same file builds for x86-64 (the AVX2 kernels; built with -mavxvnni, the int8 kernels'
 * AVX-VNNI loops) and for ARM (the NEON kernels, AArch64 with and without the dot product and
 * ARMv7, cross-compiled and run under qemu-user by tests/cross_kernels.sh). No Check (the ARM
 * sysroots have none): a small harness of its own.
 *
 * Every buffer a kernel or its twin reads or writes (inputs, outputs, residuals, scratch,
 * packed weights) is its own mapping, between two inaccessible pages and flush against the
 * one after it, so a read or write past the end faults; the bytes in front of it (and after
 * it, where an alignment leaves a gap) hold a canary that is checked when the case ends.
 * Inputs and outputs start as deterministic noise (a seed per table row and case, the same on
 * every ISA), so an output the kernel leaves unwritten differs from the twin's.
 *
 * Prints one line per table row (cases, largest error), every failing case (kernel, shape,
 * first bad index, both values; at most 10 per row) and a summary; exit status 1 on any
 * failure, 77 (skipped) on a CPU without the ISA. Arguments: substrings of kernel names to run
 * only those rows; -v prints every case; --all: every row also in a build with an ISA
 * extension (which otherwise runs only the rows it changes). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "codegen/pack.h"
#include "kernels/f32-attention-scalar.c"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "kernels/f32-gemm-scalar.c"
#include "kernels/f32-groupnorm-scalar.c"
#include "kernels/i8-scalar.c"
#include "kernels/i8-groupnorm-scalar.c"
#include "kernels/i8-linear-attention-scalar.c"

// ---- the ISA under test: its kernels (in the order the emitter pastes them: the GEMM first,
// the others use it) and the few facts that differ between ISAs

#if defined(__x86_64__) && defined(KC_AVX512)
#define KC_SFX avx512
#define KC_ISA_STR "avx512"
// clang-format off
#include "kernels/f32-gemm-12x32-avx512.c"
#include "kernels/f32-attention-avx512.c"
#include "kernels/f32-conv2d-im2col-avx512.c"
#include "kernels/f32-dwconv-avx512.c"
#include "kernels/f32-conv3x3-winograd-avx512.c"
#include "kernels/f32-groupnorm-avx512.c"
#include "kernels/i8-gemm-avx512.c"
#include "kernels/i8-dwconv-avx512.c"
#include "kernels/i8-attention-avx512.c"
#include "kernels/i8-layernorm-avx2.c"
#include "kernels/i8-layernorm-avx512.c"
#include "kernels/i8-groupnorm-avx512.c"
// clang-format on
#define KC_UK_ROWS KC_UK_ROWS_6, 7, 8, 9, 10, 11, 12 /* the 12x32 tile */
#define KC_UK_COLS KC_UK_COLS_16, 17, 18, 24, 31, 32
/* its int8 kernels: the GEMM, the depthwise conv, the attention, LayerNorm and GroupNorm; the
 * others are the AVX2 ones (kernels_avx2) */
#define KC_I8_AVX512_SET 1
#define KC_I8_PANEL 16
#pragma GCC diagnostic ignored "-Wunused-function" /* the other int8 checks */
#define KC_I8_DW_PACKED 1
#if defined(__AVX512VNNI__)
/* vpdpbusd, and vpermi2b where built with -mavx512vbmi: the GEMM, depthwise and attention
 * rows */
#define KC_EXT 1
#if defined(__AVX512VBMI__)
#define KC_ARCH "x86-64 avx512+avx512vnni+avx512vbmi (vpdpbusd, vpermi2b)"
#else
#define KC_ARCH "x86-64 avx512+avx512vnni (vpdpbusd)"
#endif
#else
#define KC_ARCH "x86-64 avx512 (int8: vpmaddwd)"
#endif
#define KC_LANES 16
#define KC_EXP_TOL_X 8e-8 /* the AVX2 exp on 16 lanes */
#define KC_EXP_FLOOR 1.1e-38
/* SiLU far below -87: x times vrcp14ps of exp's ceiling ~1.7e38, a subnormal ~6e-39 it keeps */
#define KC_SILU_NEG_END 1e-8

static int kc_isa_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("fma")
#if defined(__AVX512VNNI__)
           && __builtin_cpu_supports("avx512vnni")
#endif
#if defined(__AVX512VBMI__)
           && __builtin_cpu_supports("avx512vbmi")
#endif
        ;
}

static MVK_AVX512 void kc_exp_silu(const float *x, float *e, float *s, int n)
{
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = mvk_avx512_mask(n - i);
        _mm512_mask_storeu_ps(e + i, m, mvk_avx512_exp(_mm512_maskz_loadu_ps(m, x + i)));
        _mm512_mask_storeu_ps(s + i, m, mvk_avx512_silu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* whether the int8 attention takes its 32-bit exponent lanes for this softmax multiplier */
static int kc_i8_att_narrow(int32_t m_sm, int s_sm)
{
    return mvk_i8_att_dmax(m_sm, s_sm) != 0;
}

#elif defined(__x86_64__)
#define KC_SFX avx2
#define KC_ISA_STR "avx2"
// clang-format off
#include "kernels/f32-gemm-6x16-avx2.c"
#include "kernels/f32-attention-avx2.c"
#include "kernels/f32-conv2d-im2col-avx2.c"
#include "kernels/f32-dwconv-avx2.c"
#include "kernels/f32-conv3x3-winograd-avx2.c"
#include "kernels/f32-groupnorm-avx2.c"
#include "kernels/i8-gemm-avx2.c"
#include "kernels/i8-attention-avx2.c"
#include "kernels/i8-add-avx2.c"
#include "kernels/i8-layernorm-avx2.c"
#include "kernels/i8-groupnorm-avx2.c"
#include "kernels/i8-linear-attention-avx2.c"
#include "kernels/i8-dwconv-avx2.c"
#include "kernels/i8-concat-avx2.c"
#include "kernels/i8-quantize-avx2.c"
// clang-format on
#if defined(__AVXVNNI__)
#include <cpuid.h>
#define KC_EXT 1
#define KC_ARCH "x86-64 avx2+avxvnni (vpdpbusd)"
#elif defined(MVK_AVX2_VNNI)
#define KC_EXT 1
#define KC_ARCH "x86-64 avx2+avx512vnni (EVEX vpdpbusd on ymm)"
#else
#define KC_ARCH "x86-64 avx2"
#endif
#define KC_I8_DW_PACKED 1 /* the int8 depthwise weights in tap pairs (mvit_pack_i8_dw) */
#define KC_HAS_LUT32 1
#define KC_LANES 8
/* exp: 2.3e-7 from the polynomial and up to 8e-8 * |x| from rounding x * log2(e) */
#define KC_EXP_TOL_X 8e-8
#define KC_EXP_FLOOR 1.1e-38 /* exp below the range: the smallest normal */
/* SiLU far below -87: x times the reciprocal of exp's ceiling ~1.7e38, which vrcpps flushes
 * to 0 */
#define KC_SILU_NEG_END 1e-30

static int kc_isa_available(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
#if defined(__AVXVNNI__)
    unsigned eax, ebx, ecx, edx; /* CPUID.(7,1):EAX bit 4 */
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax >> 4 & 1))
        return 0;
#elif defined(MVK_AVX2_VNNI)
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512vl"))
        return 0;
#endif
    return 1;
}

static MVK_AVX2 void kc_exp_silu(const float *x, float *e, float *s, int n)
{
    for (int i = 0; i < n; i += 8) {
        _mm256_storeu_ps(e + i, mvk_avx2_exp(_mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(s + i, mvk_avx2_silu(_mm256_loadu_ps(x + i)));
    }
}

/* whether the int8 attention takes its 32-bit exponent lanes for this softmax multiplier */
static int kc_i8_att_narrow(int32_t m_sm, int s_sm)
{
    return mvk_i8_att_dmax(m_sm, s_sm) != 0;
}

#elif defined(__ARM_NEON)
#define KC_SFX neon
#define KC_ISA_STR "neon"
#include "kernels/f32-gemm-6x16-neon.c"
// clang-format off
#include "kernels/f32-attention-neon.c"
#include "kernels/f32-conv2d-im2col-neon.c"
#include "kernels/f32-dwconv-neon.c"
#include "kernels/f32-conv3x3-winograd-neon.c"
#include "kernels/f32-groupnorm-neon.c"
#include "kernels/i8-gemm-neon.c"
#include "kernels/i8-add-neon.c"
#include "kernels/i8-dwconv-neon.c"
#include "kernels/i8-concat-neon.c"
#include "kernels/i8-layernorm-neon.c"
#include "kernels/i8-groupnorm-neon.c"
#include "kernels/i8-linear-attention-neon.c"
#include "kernels/i8-attention-neon.c"
#include "kernels/i8-quantize-neon.c"
// clang-format on
#if defined(MVIT_EXPECT_DOTPROD) && !defined(__ARM_FEATURE_DOTPROD)
#error "built to test the sdot path, but the compiler flags do not enable the dot product"
#endif
#if defined(__ARM_FEATURE_DOTPROD)
#define KC_EXT 1
#define KC_DOT "+dotprod (sdot)"
#else
#define KC_DOT " (smlal)"
#endif
#if defined(__aarch64__)
#define KC_ARCH "aarch64" KC_DOT
#define KC_EXP_FLOOR 1.1e-38
#else
#define KC_ARCH "armv7" KC_DOT
#define KC_EXP_FLOOR 0.0 /* NEON flushes subnormals on ARMv7: below the range, 0 or ~1e-38 */
#endif
#define KC_I8_DW_PACKED 0
#define KC_HAS_TAIL_HELPERS 1
#define KC_LANES 4
#define KC_EXP_TOL_X 0.0 /* Cody-Waite: no error growing with |x| */
/* SiLU far below -87: x times the reciprocal of exp's ceiling ~1.7e38, a subnormal ~6e-39
 * that AArch64 keeps (silu(-1e30) = -6e-9) and ARMv7 flushes to 0 */
#define KC_SILU_NEG_END 1e-8

static int kc_isa_available(void)
{
    return 1;
}

static void kc_exp_silu(const float *x, float *e, float *s, int n)
{
    for (int i = 0; i < n; i += 4) {
        vst1q_f32(e + i, mvk_neon_exp(vld1q_f32(x + i)));
        vst1q_f32(s + i, mvk_neon_silu(vld1q_f32(x + i)));
    }
}

static int kc_i8_att_narrow(int32_t m_sm, int s_sm)
{
    if (MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm)) /* the kernel hands these to the scalar one */
        return 0;
    mvk_i8_att_state__neon c;
    static int32_t lut[256];
    mvk_i8_att_state_init__neon(&c, lut, m_sm, s_sm);
    return !c.wide;
}
#else
#error "kernel_check: no SIMD kernels for this architecture"
#endif

#include "kernels/i8-attention-scratch.h"

#if !defined(KC_I8_PANEL)
#define KC_I8_PANEL 8 /* columns per packed panel of the int8 GEMM's B (mvit_pack_i8_b) */
#endif

/* A build with an ISA extension (AVX-VNNI, the ARM dot product) runs only the rows whose
 * kernels it changes (the table's .ext), unless asked for --all: the others are the same
 * code as in the plain build. */
#if !defined(KC_EXT)
#define KC_EXT 0
#endif

// ---- random numbers: one seed per table row and case

static uint64_t kc_rng = 1;
static uint32_t rnd32(void)
{
    kc_rng ^= kc_rng << 13, kc_rng ^= kc_rng >> 7, kc_rng ^= kc_rng << 17;
    return (uint32_t)(kc_rng >> 16);
}
static int rint_in(int lo, int hi)
{
    return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1));
}
static float frand(void) /* in [-1, 1) */
{
    return (float)((rnd32() >> 8) & 0xffff) / 32768.0f - 1.0f;
}

#include "i8_cases.h"
#include "remap_cases.h"

// ---- the table's types (tests/kernel_cases.h)

typedef void (*kc_fn)(void);
enum { KC_MAXV = 8, KC_MAX_FAILS_SHOWN = 10 };
typedef int kc_vals[KC_MAXV];
typedef struct {
    int n;         /* values on this axis */
    const int *v;  /* the values, or NULL for 0 .. n-1 */
} kc_axis;
/* one case: the values and their positions on the axes (a list's case: positions 0) */
typedef struct {
    int v[KC_MAXV], i[KC_MAXV];
    int index;
} kc_shape;
typedef struct kc_row kc_row;
struct kc_row {
    const char *kernel, *twin; /* the kernel under test, its scalar twin (or the reference) */
    kc_fn fn, twin_fn;
    void (*check)(const kc_row *, const kc_shape *); /* one case: run both, compare */
    double tol; /* largest |kernel - twin| / max(1, max |twin|); 0: byte for byte */
    int param;  /* the check's variant (e.g. which case generator) */
    int ext;    /* the kernel takes other loops with the ISA extension (KC_EXT) */
    kc_axis axes[KC_MAXV];  /* the shapes: every combination of the axes' values, */
    const kc_vals *list;    /* or this list */
    int nlist;
    void (*done)(const kc_row *); /* checks over all the row's cases (paths taken) */
};

/* a kernel of the ISA under test by its name without the suffix, its type checked */
#define KC_CAT2(a, b) a##__##b
#define KC_CAT(a, b) KC_CAT2(a, b)
#define KC_STR2(a) #a
#define KC_STR(a) KC_STR2(a)
#define KC_FN(type, f) _Generic((f), type: (kc_fn)(f))
#define KERNEL(f, type) .kernel = #f "__" KC_ISA_STR, .fn = KC_FN(type, KC_CAT(f, KC_SFX))
#define TWIN(f, type) .twin = #f, .twin_fn = KC_FN(type, f)
#define REFERENCE(text) .twin = text
#define AX(...) {(int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}}
#define UPTO(n) {n, 0}
#define GRID(...) .axes = {__VA_ARGS__}
#define LIST(...)                                                                              \
    .list = (const kc_vals[]){__VA_ARGS__},                                                    \
    .nlist = (int)(sizeof((const kc_vals[]){__VA_ARGS__}) / sizeof(kc_vals))

// ---- harness: the current case, failures, comparisons

static const kc_row *kc_row_now;
static const kc_shape *kc_shape_now;
static int kc_naxes_now, kc_case_bad, kc_row_fails, kc_verbose;
static double kc_max_err;

static void kc_print_shape(void)
{
    printf("case %d {", kc_shape_now ? kc_shape_now->index : -1);
    for (int a = 0; kc_shape_now && a < kc_naxes_now; a++)
        printf(a ? ", %d" : "%d", kc_shape_now->v[a]);
    printf("}");
}

/* The current case fails; the first KC_MAX_FAILS_SHOWN of a row are printed. */
static void kc_fail(const char *fmt, ...)
{
    if (!kc_case_bad)
        kc_row_fails++;
    kc_case_bad = 1;
    if (kc_row_fails > KC_MAX_FAILS_SHOWN)
        return;
    printf("FAIL %s vs %s (%s) ", kc_row_now->kernel, kc_row_now->twin, KC_ARCH);
    kc_print_shape();
    printf(": ");
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* |got - want| <= tol * max(1, max |want|) everywhere (NaN fails) */
static void kc_close(const char *what, const float *got, const float *want, int64_t n,
                     double tol)
{
    double scale = 1.0, worst = 0.0;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (int64_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]) / scale;
        if (!(err <= tol))
            bad++, first = first < 0 ? i : first;
        worst = err > worst ? err : worst;
    }
    kc_max_err = worst > kc_max_err ? worst : kc_max_err;
    if (bad)
        kc_fail("%s: %lld of %lld values off; [%lld]: twin %.9g, kernel %.9g", what,
                (long long)bad, (long long)n, (long long)first, (double)want[first],
                (double)got[first]);
}

/* byte for byte */
static void kc_same(const char *what, const void *got, const void *want, int64_t bytes)
{
    const int8_t *g = got, *w = want;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < bytes; i++)
        if (g[i] != w[i])
            bad++, first = first < 0 ? i : first;
    if (bad)
        kc_fail("%s: %lld of %lld bytes differ; [%lld]: twin %d, kernel %d", what,
                (long long)bad, (long long)bytes, (long long)first, w[first], g[first]);
}

static void kc_expect(int ok, const char *fmt, ...)
{
    if (ok)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kc_fail("%s", msg);
}

// ---- guarded buffers

enum { KC_MAPS = 96, KC_POOL = 48, KC_CANARY = 256 };
typedef struct {
    char *base; /* the whole mapping: page, body, page */
    size_t body;
    char *start; /* the buffer */
    int64_t bytes;
} kc_map;
static kc_map kc_live[KC_MAPS], kc_pool[KC_POOL];
static int kc_nlive, kc_npool;
static size_t kc_page;

/* bytes (>= 0) at an address that is a multiple of align, ending at the inaccessible page
 * (or at most align - 1 bytes before it); lives until kc_release() */
static void *kc_alloc(int64_t bytes, size_t align)
{
    if (!kc_page)
        kc_page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t body = ((size_t)bytes + align + KC_CANARY + kc_page - 1) / kc_page * kc_page;
    char *base = 0;
    for (int i = 0; i < kc_npool && !base; i++)
        if (kc_pool[i].body == body)
            base = kc_pool[i].base, kc_pool[i] = kc_pool[--kc_npool];
    if (!base) {
        base = mmap(0, body + 2 * kc_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
        if (base == MAP_FAILED || mprotect(base, kc_page, PROT_NONE) ||
            mprotect(base + kc_page + body, kc_page, PROT_NONE)) {
            printf("FAIL: cannot map %lld bytes\n", (long long)bytes);
            exit(1);
        }
    }
    if (kc_nlive == KC_MAPS) {
        printf("FAIL: more than %d buffers in one case\n", KC_MAPS);
        exit(1);
    }
    char *end = base + kc_page + body;
    char *start = (char *)((uintptr_t)(end - bytes) / align * align);
    memset(start - KC_CANARY, 0xa5, KC_CANARY);
    memset(start + bytes, 0xa5, (size_t)(end - (start + bytes)));
    kc_live[kc_nlive++] = (kc_map){base, body, start, bytes};
    return start;
}

/* Ends the case's buffers: a canary changed is a write outside a buffer. */
static void kc_release(void)
{
    for (int i = 0; i < kc_nlive; i++) {
        const kc_map *m = &kc_live[i];
        const char *end = m->base + kc_page + m->body;
        int bad = 0;
        for (const char *p = m->start - KC_CANARY; p < m->start && !bad; p++)
            bad = *p != (char)0xa5;
        for (const char *p = m->start + m->bytes; p < end && !bad; p++)
            bad = *p != (char)0xa5;
        if (bad)
            kc_fail("a write outside buffer %d (%lld bytes)", i, (long long)m->bytes);
        if (kc_npool == KC_POOL) { /* the oldest goes */
            munmap(kc_pool[0].base, kc_pool[0].body + 2 * kc_page);
            memmove(kc_pool, kc_pool + 1, (KC_POOL - 1) * sizeof *kc_pool);
            kc_npool--;
        }
        kc_pool[kc_npool++] = *m;
    }
    kc_nlive = 0;
}

static float *kc_f32(int64_t n) /* noise in [-1, 1) */
{
    float *p = kc_alloc(n * 4, 4);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}
static int8_t *kc_i8(int64_t n) /* noise */
{
    int8_t *p = kc_alloc(n, 1);
    for (int64_t i = 0; i < n; i++)
        p[i] = (int8_t)rnd32();
    return p;
}
static void *kc_copy(const void *src, int64_t bytes, size_t align)
{
    void *p = kc_alloc(bytes, align);
    memcpy(p, src, (size_t)bytes);
    return p;
}

/* GEMM B [k][n] in 16-column panels, and a bias padded to `to`: exactly the packed length,
 * 64-byte aligned */
static float *kc_packed(const float *b, int k, int n)
{
    const int64_t len = mvit_pack_b_panels(b, k, n, 16, NULL);
    float *p = kc_alloc(len * 4, 64);
    mvit_pack_b_panels(b, k, n, 16, p);
    return p;
}
static float *kc_padded(const float *v, int n, int to)
{
    const int64_t len = mvit_pack_pad(v, n, to, NULL);
    float *p = kc_alloc(len * 4, 64);
    mvit_pack_pad(v, n, to, p);
    return p;
}

// ---- fp32 kernels

typedef void (*f32_ukernel_fn)(int, int, int, const float *const *, const float *, int64_t,
                               const float *, float *, int64_t, const float *, int64_t, int, int);
/* the GEMM kernels: the shape in an mvk_gemm; [row or panel range,] shape, A, B, bias, C,
 * residual[, scratch] */
typedef void (*f32_gemm_fn)(const mvk_gemm *, const float *, const float *, const float *,
                            float *, const float *);
typedef void (*f32_gemm_cols_fn)(int64_t, int64_t, const mvk_gemm *, const float *,
                                 const float *, const float *, float *, const float *);
typedef void (*f32_gemm_rows_fn)(int64_t, int64_t, const mvk_gemm *, const float *,
                                 const float *, const float *, float *, const float *, float *);
typedef f32_gemm_rows_fn f32_gemm_blocked_fn;
/* the scalar twin: shape, A, C, B, bias, residual, scratch */
typedef void (*f32_gemm_twin)(const mvk_gemm *, const float *, float *, const float *,
                              const float *, const float *, float *);
/* the conv kernels: the shape in an mvk_conv2d, then in, in_b (the fused concat's second input),
 * out, weights, bias, residual, [scratch] */
typedef void (*f32_conv_twin)(const mvk_conv2d *, const float *, const float *, float *,
                              const float *, const float *, const float *);
typedef void (*f32_im2col_fn)(const mvk_conv2d *, const float *, const float *, float *,
                              const float *, const float *, const float *, float *);
typedef void (*f32_im2col_rows_fn)(int64_t, int64_t, const mvk_conv2d *, const float *,
                                   const float *, float *, const float *, const float *,
                                   const float *, float *);
typedef f32_im2col_fn f32_winograd_fn;
typedef f32_im2col_rows_fn f32_winograd_rows_fn;
typedef void (*f32_dwconv_fn)(const mvk_conv2d *, const float *, float *, const float *,
                              const float *, const float *);
typedef void (*f32_attention_fn)(const mvk_attention *, const float *, float *, float *);
typedef void (*f32_groupnorm_fn)(const mvk_layernorm *, const float *, float *, int64_t);

/* The microkernel alone; shape {mr, nr, K}: C and the residual exactly (mr - 1) * ld + nr
 * floats (rows past mr and columns past nr would fault or change the canaries between rows),
 * every A row its own buffer of K floats. */
static void check_f32_ukernel(const kc_row *r, const kc_shape *s)
{
    const int mr = s->v[0], nr = s->v[1], k = s->v[2];
    const int accumulate = (mr + nr) % 2, act = (mr + k) % 2, ldc = nr + 3, ldr = nr + 1;
    const int64_t clen = (int64_t)(mr - 1) * ldc + nr;
    const float *rows[MVK_GEMM_MR];
    float *arow[MVK_GEMM_MR];
    for (int i = 0; i < MVK_GEMM_MR; i++)
        arow[i] = kc_f32(k);
    for (int i = 0; i < MVK_GEMM_MR; i++)
        rows[i] = arow[i < mr ? i : mr - 1];
    /* the tile's panels [NR/16][K][16], bstride apart (16 floats of noise between them) */
    const int64_t bstride = 16 * (int64_t)k + 16;
    float *b = kc_f32(bstride * (MVK_GEMM_NR / 16)), *bias = kc_f32((nr + 15) / 16 * 16);
    float *res = kc_f32((int64_t)(mr - 1) * ldr + nr), *c = kc_f32(clen);
    float *want = kc_copy(c, clen * 4, 4);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float v = accumulate ? c[i * ldc + j] : bias[j];
            for (int p = 0; p < k; p++)
                v += arow[i][p] * b[j / 16 * bstride + p * 16 + j % 16];
            v += res[i * ldr + j];
            want[i * ldc + j] = act == MVK_ACT_SILU ? mvk_silu(v) : v;
        }
    ((f32_ukernel_fn)r->fn)(mr, nr, k, rows, b, bstride, accumulate ? 0 : bias, c, ldc, res, ldr,
                            act, accumulate);
    kc_close("C and the canaries between its rows", c, want, clen, r->tol);
}

/* shape {M, N, K}; SiLU, residual and bias vary with the position in the grid */
typedef struct {
    mvk_gemm p;
    float *a, *w, *b, *res, *want, *got, *wp, *bp;
} f32_gemm_case;

static void f32_gemm_make(f32_gemm_case *g, const kc_row *r, const kc_shape *s)
{
    g->p = (mvk_gemm){.m = s->v[0], .n = s->v[1], .k = s->v[2], .act = (s->i[0] + s->i[1]) % 2};
    const int64_t m = g->p.m, k = g->p.k, n = g->p.n;
    const int with_res = s->i[1] % 2, with_bias = s->i[2] != 1;
    g->a = kc_f32(m * k), g->w = kc_f32(k * n), g->b = kc_f32(n);
    g->res = kc_f32(m * n), g->want = kc_f32(m * n), g->got = kc_f32(m * n);
    g->wp = kc_packed(g->w, (int)k, (int)n), g->bp = kc_padded(g->b, (int)n, 16);
    ((f32_gemm_twin)r->twin_fn)(&g->p, g->a, g->want, g->w, with_bias ? g->b : 0,
                                with_res ? g->res : 0, 0);
    if (!with_bias)
        g->b = g->bp = 0;
    if (!with_res)
        g->res = 0;
}

static void check_f32_gemm(const kc_row *r, const kc_shape *s)
{
    f32_gemm_case g;
    f32_gemm_make(&g, r, s);
    ((f32_gemm_fn)r->fn)(&g.p, g.a, g.wp, g.bp, g.got, g.res);
    kc_close("C", g.got, g.want, g.p.m * g.p.n, r->tol);
}

/* the column-split form, in two halves as two tasks would run it */
static void check_f32_gemm_cols(const kc_row *r, const kc_shape *s)
{
    f32_gemm_case g;
    f32_gemm_make(&g, r, s);
    const int panels = (g.p.n + 15) / 16;
    f32_gemm_cols_fn f = (f32_gemm_cols_fn)r->fn;
    f(0, panels / 2, &g.p, g.a, g.wp, g.bp, g.got, g.res);
    f(panels / 2, panels, &g.p, g.a, g.wp, g.bp, g.got, g.res);
    kc_close("C", g.got, g.want, g.p.m * g.p.n, r->tol);
}

/* The row drivers: A rows gathered through an unfold / fold index map of remap_cases.h
 * (shape {remap case}: resized maps blended into scratch rows, no residual, blocked with
 * mc 12 and kc K/2), or plain (shape {M, K, N, mc, kc}: with a residual), with or without a
 * fused LayerNorm (the twin says which). */
typedef struct {
    int64_t m;
    int k, n, mc, kc;
    mvk_remap rm_store, *rm;
    mvk_lerp ty[64], tx[64];
    mvk_gemm p;
    float *a, *wp, *bp, *res, *want, *got;
} f32_rows_case;

static void f32_rows_make(f32_rows_case *g, const kc_row *r, const kc_shape *s, int norm)
{
    float *w, *b;
    int64_t rows_a;
    if (r->param) { /* remap */
        const remap_case *c = &remap_cases[s->v[0]];
        g->k = c->k, g->n = c->n;
        rows_a = remap_case_make(c, &g->rm_store, g->ty, g->tx);
        g->rm = &g->rm_store, g->m = mvk_remap_rows(g->rm);
        g->mc = 12, g->kc = g->k > 4 ? g->k / 2 : g->k;
    } else {
        g->m = s->v[0], g->k = s->v[1], g->n = s->v[2], g->mc = s->v[3], g->kc = s->v[4];
        g->rm = 0, rows_a = g->m;
    }
    g->a = kc_f32(rows_a * g->k), w = kc_f32((int64_t)g->k * g->n), b = kc_f32(g->n);
    g->res = g->rm ? 0 : kc_f32(g->m * g->n);
    g->want = kc_f32(g->m * g->n), g->got = kc_f32(g->m * g->n);
    g->wp = kc_packed(w, g->k, g->n), g->bp = kc_padded(b, g->n, 16);
    const mvk_gemm p = {.m = g->m, .k = g->k, .n = g->n, .act = MVK_ACT_SILU, .remap = g->rm,
                        .eps = norm ? 1e-5f : 0.0f, .mc = g->mc, .kc = g->kc};
    g->p = p;
    ((f32_gemm_twin)r->twin_fn)(&p, g->a, g->want, w, b, g->res,
                                norm || g->rm ? kc_f32(5 * (int64_t)g->k) : 0);
}

static void f32_rows_run(const kc_row *r, const kc_shape *s, int norm, int blocked)
{
    f32_rows_case g;
    f32_rows_make(&g, r, s, norm);
    const int64_t k = g.k;
    if (blocked) {
        /* scratch: the resized rows or the normalised rows of one mc-row block */
        float *scratch = g.rm ? kc_f32(16 * k) : norm ? kc_f32((g.mc > 6 ? g.mc : 6) * k) : 0;
        ((f32_gemm_blocked_fn)r->fn)(0, g.m, &g.p, g.a, g.wp, g.bp, g.got, g.res, scratch);
    } else {
        float *scratch = kc_f32((MVK_GEMM_MR + (g.rm ? 4 : 0)) * k);
        ((f32_gemm_rows_fn)r->fn)(0, g.m, &g.p, g.a, g.wp, g.bp, g.got, g.res, scratch);
    }
    kc_close("C", g.got, g.want, g.m * g.n, r->tol);
}

static void check_f32_gemm_rows(const kc_row *r, const kc_shape *s)
{
    f32_rows_run(r, s, 0, 0);
}
static void check_f32_gemm_rows_norm(const kc_row *r, const kc_shape *s)
{
    f32_rows_run(r, s, 1, 0);
}
static void check_f32_gemm_blocked(const kc_row *r, const kc_shape *s)
{
    f32_rows_run(r, s, 0, 1);
}
static void check_f32_gemm_blocked_norm(const kc_row *r, const kc_shape *s)
{
    f32_rows_run(r, s, 1, 1);
}

/* shape {H, W, Cin, Cout, k, stride, SiLU, residual}; padding (stride - 1 + k - 1) / 2 */
static void check_f32_im2col(const kc_row *r, const kc_shape *s)
{
    const int h = s->v[0], w = s->v[1], cin = s->v[2], cout = s->v[3], k = s->v[4];
    const int stride = s->v[5], act = s->v[6], res_on = s->v[7];
    const int pad = ((stride - 1) + (k - 1)) / 2, kk = k * k * cin;
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const int64_t m = (int64_t)oh * ow;
    float *in = kc_f32((int64_t)h * w * cin), *wt = kc_f32((int64_t)kk * cout);
    float *b = kc_f32(cout), *res = res_on ? kc_f32(m * cout) : 0;
    float *want = kc_f32(m * cout), *got = kc_f32(m * cout), *scratch = kc_f32(MVK_GEMM_MR * (int64_t)kk);
    float *wp = kc_packed(wt, kk, cout), *bp = kc_padded(b, cout, 16);
    const mvk_conv2d p = {.in_h = h, .in_w = w, .in_c = cin, .out_h = oh, .out_w = ow,
                          .out_c = cout, .kernel = k, .stride = stride, .pad = pad, .groups = 1,
                          .act = act};
    ((f32_conv_twin)r->twin_fn)(&p, in, 0, want, wt, b, res);
    ((f32_im2col_fn)r->fn)(&p, in, 0, got, wp, bp, res, scratch);
    kc_close("output", got, want, m * cout, r->tol);
}

/* the fused concat: input channels gathered from two maps; shape {H, W, Ca, Cb, Cout, mc, kc}
 * (kc 0: all of K), 3x3, stride 1, SiLU */
static void check_f32_im2col_rows(const kc_row *r, const kc_shape *s)
{
    const int h = s->v[0], w = s->v[1], ca = s->v[2], cb = s->v[3], cout = s->v[4];
    const int64_t m = (int64_t)h * w, kk = 9 * (int64_t)(ca + cb);
    const int mc = s->v[5], kc = s->v[6] ? s->v[6] : (int)kk;
    float *xa = kc_f32(m * ca), *xb = kc_f32(m * cb), *wt = kc_f32(kk * cout);
    float *b = kc_f32(cout), *want = kc_f32(m * cout), *got = kc_f32(m * cout);
    float *scratch = kc_f32((int64_t)mc * kc);
    float *wp = kc_packed(wt, (int)kk, cout), *bp = kc_padded(b, cout, 16);
    const mvk_conv2d p = {.in_h = h, .in_w = w, .in_c = ca, .in_c_b = cb, .out_h = h,
                          .out_w = w, .out_c = cout, .kernel = 3, .stride = 1, .pad = 1,
                          .groups = 1, .act = MVK_ACT_SILU, .mc = mc, .kc = kc};
    ((f32_conv_twin)r->twin_fn)(&p, xa, xb, want, wt, b, 0);
    ((f32_im2col_rows_fn)r->fn)(0, m, &p, xa, xb, got, wp, bp, 0, scratch);
    kc_close("output", got, want, m * cout, r->tol);
}

/* Winograd F(4x4, 3x3) against the direct conv; shape {H, W, Ca, Cb, Cout, SiLU, residual}
 * (Cb > 0: the fused concat). The scratch is exactly the documented size (the code
 * generator's 36 * 12 * (ci + 16) floats). param 1: the row-block form, in two ranges as two
 * tasks would run them, one scratch each. */
typedef struct {
    int h, w, ca, cb, cout, act;
    mvk_conv2d p;
    float *xa, *xb, *up, *bp, *res, *want, *got, *scratch;
} f32_wino_case;

static int64_t kc_wino_scratch(int ci)
{
    return KC_CAT(mvk_f32_conv3x3_winograd_scratch, KC_SFX)(ci);
}

static void f32_wino_make(f32_wino_case *g, const kc_row *r, const kc_shape *s)
{
    g->h = s->v[0], g->w = s->v[1], g->ca = s->v[2], g->cb = s->v[3], g->cout = s->v[4];
    g->act = s->v[5];
    const int64_t m = (int64_t)g->h * g->w, ci = g->ca + g->cb;
    g->xa = kc_f32(m * g->ca), g->xb = g->cb ? kc_f32(m * g->cb) : 0;
    float *wt = kc_f32(9 * ci * g->cout), *b = kc_f32(g->cout);
    g->res = s->v[6] ? kc_f32(m * g->cout) : 0;
    g->want = kc_f32(m * g->cout), g->got = kc_f32(m * g->cout);
    float *u = kc_alloc(36 * ci * g->cout * 4, 4);
    mvit_winograd_f43_weights(wt, (int)ci, g->cout, u);
    const int64_t plen = mvit_pack_b_panels(u, (int)ci, g->cout, 16, NULL);
    g->up = kc_alloc(36 * plen * 4, 64), g->bp = kc_padded(b, g->cout, 16);
    for (int xi = 0; xi < 36; xi++)
        mvit_pack_b_panels(u + xi * ci * g->cout, (int)ci, g->cout, 16, g->up + xi * plen);
    kc_expect(kc_wino_scratch((int)ci) == 36 * 12 * (ci + 16),
              "scratch %lld floats, not the code generator's 36 * 12 * (ci + 16)",
              (long long)kc_wino_scratch((int)ci));
    g->scratch = kc_f32(kc_wino_scratch((int)ci));
    g->p = (mvk_conv2d){.in_h = g->h, .in_w = g->w, .in_c = g->ca, .in_c_b = g->cb,
                        .out_h = g->h, .out_w = g->w, .out_c = g->cout, .kernel = 3,
                        .stride = 1, .pad = 1, .groups = 1, .act = g->act};
    ((f32_conv_twin)r->twin_fn)(&g->p, g->xa, g->xb, g->want, wt, b, g->res);
}

static void check_f32_winograd(const kc_row *r, const kc_shape *s)
{
    f32_wino_case g;
    f32_wino_make(&g, r, s);
    ((f32_winograd_fn)r->fn)(&g.p, g.xa, g.xb, g.got, g.up, g.bp, g.res, g.scratch);
    kc_close("output", g.got, g.want, (int64_t)g.h * g.w * g.cout, r->tol);
}

static void check_f32_winograd_rows(const kc_row *r, const kc_shape *s)
{
    f32_wino_case g;
    f32_wino_make(&g, r, s);
    /* units: blocks x 1, 2 or 3 groups of output panels (more groups than panels: empty
       ones), cut in two ranges, one of which may start inside a block */
    g.p.col_splits = 1 + s->index % 3;
    const int64_t blocks = ((int64_t)((g.w + 3) / 4) * ((g.h + 3) / 4) + 11) / 12;
    const int64_t units = blocks * g.p.col_splits;
    float *scratch2 = kc_f32(kc_wino_scratch(g.ca + g.cb));
    f32_winograd_rows_fn f = (f32_winograd_rows_fn)r->fn;
    f(0, units / 2, &g.p, g.xa, g.xb, g.got, g.up, g.bp, g.res, g.scratch);
    f(units / 2, units, &g.p, g.xa, g.xb, g.got, g.up, g.bp, g.res, scratch2);
    kc_close("output", g.got, g.want, (int64_t)g.h * g.w * g.cout, r->tol);
}

/* shape {H, W, C, k, stride, SiLU, residual}; weights padded to MVK_DW_CPAD channels
 * per tap */
static void check_f32_dwconv(const kc_row *r, const kc_shape *s)
{
    const int h = s->v[0], w = s->v[1], c = s->v[2], k = s->v[3], stride = s->v[4];
    const int act = s->v[5], pad = ((stride - 1) + (k - 1)) / 2;
    const int c8 = (c + MVK_DW_CPAD - 1) / MVK_DW_CPAD * MVK_DW_CPAD;
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const int64_t m = (int64_t)oh * ow;
    float *in = kc_f32((int64_t)h * w * c), *wt = kc_f32((int64_t)k * k * c), *b = kc_f32(c);
    float *res = s->v[6] ? kc_f32(m * c) : 0, *want = kc_f32(m * c), *got = kc_f32(m * c);
    float *wp = kc_alloc((int64_t)k * k * c8 * 4, 64), *bp = kc_padded(b, c, MVK_DW_CPAD);
    for (int t = 0; t < k * k; t++)
        mvit_pack_pad(wt + t * c, c, MVK_DW_CPAD, wp + t * c8);
    const mvk_conv2d p = {.in_h = h, .in_w = w, .in_c = c, .out_h = oh, .out_w = ow, .out_c = c,
                          .kernel = k, .stride = stride, .pad = pad, .groups = c, .act = act};
    ((f32_dwconv_fn)r->twin_fn)(&p, in, want, wt, b, res);
    ((f32_dwconv_fn)r->fn)(&p, in, got, wp, bp, res);
    kc_close("output", got, want, m * c, r->tol);
}

/* shape {P, N, heads, head width}; qkv in [-3, 3) */
static void check_f32_attention(const kc_row *r, const kc_shape *s)
{
    const int p = s->v[0], n = s->v[1], heads = s->v[2], hd = s->v[3], d = heads * hd;
    const int64_t len = (int64_t)p * n * d;
    float *qkv = kc_f32(3 * len);
    for (int64_t i = 0; i < 3 * len; i++)
        qkv[i] *= 3.0f;
    float *want = kc_f32(len), *got = kc_f32(len), *s1 = kc_f32(n);
    float *s2 = kc_f32(KC_CAT(mvk_f32_attention_scratch, KC_SFX)(n, hd));
    const mvk_attention pa = {.positions = p, .tokens = n, .dim = d, .heads = heads,
                              .scale = (float)(1.0 / sqrt(hd))};
    ((f32_attention_fn)r->twin_fn)(&pa, qkv, want, s1);
    ((f32_attention_fn)r->fn)(&pa, qkv, got, s2);
    kc_close("output", got, want, len, r->tol);
}

/* GroupNorm {pixels, c, affine}: noise around a mean of 5 (the statistics must not lose it),
 * with the per-channel affine or without it (gamma NULL, the folded case). */
static void check_f32_groupnorm(const kc_row *r, const kc_shape *s)
{
    const int pixels = s->v[0], c = s->v[1];
    const int64_t n = (int64_t)pixels * c;
    float *x = kc_f32(n), *want = kc_f32(n), *got = kc_f32(n);
    for (int64_t i = 0; i < n; i++)
        x[i] += 5.0f;
    const mvk_layernorm p = {.c = c, .eps = 1e-5f, .gamma = s->v[2] ? kc_f32(c) : 0,
                             .beta = s->v[2] ? kc_f32(c) : 0};
    ((f32_groupnorm_fn)r->twin_fn)(&p, x, want, pixels);
    ((f32_groupnorm_fn)r->fn)(&p, x, got, pixels);
    kc_close("output", got, want, n, r->tol);
}

/* The vector exp and SiLU on 4096 points of [-90, 90] against mvk_expf and mvk_silu: exp in
 * its documented range within 4e-7 (+ KC_EXP_TOL_X * |x|) relative, SiLU within
 * 1e-6 * (1 + |x|); the ends of the exponent range and beyond saturated as documented. */
static void check_exp_silu(const kc_row *r, const kc_shape *s)
{
    (void)s;
    enum { N = 4096 };
    float *x = kc_alloc(N * 4, 64), *e = kc_alloc(N * 4, 64), *sl = kc_alloc(N * 4, 64);
    for (int i = 0; i < N; i++)
        x[i] = -90.0f + 180.0f * (float)i / (N - 1);
    kc_exp_silu(x, e, sl, N);
    for (int i = 0, shown = 0; i < N && shown < 3; i++) {
        /* the error beyond the part that grows with |x| */
        const double want = mvk_expf(x[i]),
                     err = fabs((double)e[i] - want) / want - KC_EXP_TOL_X * fabsf(x[i]);
        if (x[i] > -87.0f && x[i] <= 88.0f) {
            kc_max_err = err > kc_max_err ? err : kc_max_err;
            if (!(err <= r->tol))
                shown++, kc_fail("exp(%.9g): %.9g, mvk_expf %.9g", x[i], e[i], want);
        }
        if (!(fabsf(sl[i] - mvk_silu(x[i])) <= 1e-6f * (1.0f + fabsf(x[i]))))
            shown++, kc_fail("silu(%.9g): %.9g, mvk_silu %.9g", x[i], sl[i], mvk_silu(x[i]));
    }
    /* 2^n's exponent bits from 1 to 254: never garbage */
    static const float ends[8] = {-INFINITY, -1e30f, -87.5f, -87.33654f,
                                  88.0f,     100.0f, 1e30f,  INFINITY};
    float *xe = kc_copy(ends, 8 * 4, 64), *ee = kc_alloc(8 * 4, 64), *se = kc_alloc(8 * 4, 64);
    kc_exp_silu(xe, ee, se, 8);
    for (int i = 0; i < 4; i++) {
        kc_expect(ee[i] >= KC_EXP_FLOOR && ee[i] <= 1.3e-38f, "exp(%g) = %g", ends[i], ee[i]);
        kc_expect(ee[4 + i] >= 1.6e38f && ee[4 + i] <= 1.7e38f, "exp(%g) = %g", ends[4 + i],
                  ee[4 + i]);
    }
    for (int i = 1; i < 3; i++) /* e^-x saturates at ~1.7e38: x / (1 + e^-x) is ~0 */
        kc_expect(fabsf(se[i]) <= KC_SILU_NEG_END, "silu(%g) = %g", ends[i], se[i]);
    for (int i = 5; i < 7; i++) /* e^-x ~1e-38: x itself, to the reciprocal's 1e-7 */
        kc_expect(fabsf(se[i] - ends[i]) <= 1e-6f * ends[i], "silu(%g) = %g", ends[i], se[i]);
    kc_expect(se[7] == INFINITY, "silu(inf) = %g", se[7]);
}

#if defined(KC_HAS_TAIL_HELPERS)
/* the NEON tail helpers: shape {n}: n lanes loaded (from n floats at a page end) and stored,
 * nothing else touched */
static void check_tail_helpers(const kc_row *r, const kc_shape *s)
{
    (void)r;
    const int n = s->v[0];
    float *src = kc_f32(n), *dst = kc_f32(4), want[4];
    memcpy(want, dst, sizeof want);
    memcpy(want, src, (size_t)n * 4);
    mvk_neon_store_n(dst, mvk_neon_load4(src, n), n);
    kc_close("stored lanes and the ones after them", dst, want, 4, 0.0);
}
#endif

/* mvk_idiv (which replaces `/` on ARMv7 without a divider) near powers of two and at the
 * int32 extremes; shape {i}: the dividends' block */
static void check_idiv(const kc_row *r, const kc_shape *s)
{
    (void)r;
    static const int as[] = {0,          1,         2,   3,    5,     7,     15,      16,
                             17,         255,       256, 4095, 65535, 65536, 1 << 24, (1 << 24) + 1,
                             2147483646, 2147483647};
    if (s->v[0] == 0) {
        for (size_t i = 0; i < sizeof as / sizeof *as; i++)
            for (size_t j = 0; j < sizeof as / sizeof *as; j++) {
                const int a = as[i], b = as[j] ? as[j] : 1;
                for (int da = 0; da < 3 && a - da >= 0; da++)
                    kc_expect(mvk_idiv(a - da, b) == (a - da) / b, "mvk_idiv(%d, %d) = %d",
                              a - da, b, mvk_idiv(a - da, b));
            }
        return;
    }
    for (int a = 0; a < 3000; a++)
        for (int b = 1; b < 70; b++)
            if (mvk_idiv(a, b) != a / b)
                kc_fail("mvk_idiv(%d, %d) = %d", a, b, mvk_idiv(a, b));
}

// ---- int8 kernels (zero tolerance)

typedef void (*i8_gemm_fn)(int64_t, const mvk_gemm *, const mvk_i8_requant *, const int8_t *,
                           int8_t *, const int8_t *);
typedef void (*i8_gemm_f32out_fn)(const mvk_gemm *, const int8_t *, float *, const int8_t *,
                                  const int32_t *, const float *);
typedef void (*i8_attention_fn)(const mvk_attention *, const int8_t *, int8_t *, int32_t *,
                                int64_t, int64_t);
typedef void (*i8_add_fn)(const mvk_i8_add *, const int8_t *, const int8_t *, int8_t *, int64_t);
typedef void (*i8_linear_attention_fn)(const mvk_linear_attention *, const int8_t *, int8_t *,
                                       int32_t *);
typedef void (*i8_groupnorm_fn)(const mvk_layernorm *, const int8_t *, int8_t *, int64_t);
typedef void (*i8_layernorm_fn)(const mvk_layernorm *, const int8_t *, int8_t *, int64_t,
                                int64_t);
typedef void (*i8_dwconv_fn)(const mvk_conv2d *, const mvk_i8_requant *, const int8_t *,
                             int8_t *, const int8_t *, int64_t, int64_t);
typedef void (*i8_concat_fn)(const mvk_concat *, const int8_t *, const int8_t *, int8_t *);
typedef void (*i8_quantize_fn)(const float *, int8_t *, const float *, int64_t);

/* what a row's cases saw, for its done() check */
static long long kc_sat_lo, kc_sat_hi, kc_count_a, kc_count_b, kc_count_c;

static void kc_counts_reset(void)
{
    kc_sat_lo = kc_sat_hi = kc_count_a = kc_count_b = kc_count_c = 0;
}

/* The GEMM; shape {M, N, K, data mode, variant}: bias with (mode + variant) odd, the SiLU
 * table with variant 1, and variant 2 every column's shift in 16..31 (the AVX2 kernel's
 * 32-bit requantisation). A, B, C and every per-column array end at an inaccessible page. */
static void check_i8_gemm(const kc_row *r, const kc_shape *s)
{
    const int64_t m = s->v[0];
    const int n = s->v[1], k = s->v[2], mode = s->v[3], v = s->v[4];
    const int use_bias = (mode + v) & 1, use_lut = v & 1;
    i8_case c = {m, k, n, mode, kc_alloc(m * k, 1), kc_alloc((int64_t)k * n, 1), kc_alloc(256, 1),
                 kc_alloc(4 * (int64_t)n, 4), 0, kc_alloc(2 * (int64_t)n, 2), kc_alloc(n, 1)};
    i8_case_fill(&c);
    if (v == 2)
        for (int j = 0; j < n; j++)
            c.shift[j] = (int8_t)(c.shift[j] < 16 ? 16 + j % 3
                                  : c.shift[j] > 31 ? 31 - j % 3
                                                    : c.shift[j]);
    const int64_t plen = mvit_pack_i8_b(c.b, k, n, KC_I8_PANEL, NULL);
    kc_expect(plen == (int64_t)((n + KC_I8_PANEL - 1) / KC_I8_PANEL) * ((k + 3) / 4) * 4 *
                          KC_I8_PANEL,
              "packed length %lld", (long long)plen);
    int8_t *bp = kc_alloc(plen, 64), *want = kc_i8(m * n), *got = kc_i8(m * n);
    mvit_pack_i8_b(c.b, k, n, KC_I8_PANEL, bp);
    const mvk_gemm p = {.m = m, .k = k, .n = n};
    const mvk_i8_requant rq = {.bias = use_bias ? c.bias : 0, .mult = c.mult, .shift = c.shift,
                               .zy = c.zy, .lut = use_lut ? c.lut : 0};
    ((i8_gemm_fn)r->twin_fn)(m, &p, &rq, c.a, want, c.b);
    ((i8_gemm_fn)r->fn)(m, &p, &rq, c.a, got, bp);
    kc_same("C", got, want, m * n);
    for (int64_t i = 0; i < m * n && !use_lut; i++)
        kc_sat_lo += want[i] == -128, kc_sat_hi += want[i] == 127;
    kc_count_a += v == 2;
}

static void done_i8_gemm(const kc_row *r)
{
    kc_expect(kc_sat_lo > 0 && kc_sat_hi > 0, "the data never reached both saturation bounds");
    kc_expect(kc_count_a > 0 || r->axes[4].n < 3, "no case on the 32-bit requantisation path");
    printf("  %lld / %lld values saturated low / high\n", kc_sat_lo, kc_sat_hi);
}

/* The classifier's grid: case ci of CLASSIFIER_CASES (rows 1..17: one and several row blocks
 * of 4 and 8, full and cut short, 33: past NEON's block of 32; columns around the 8- and
 * 16-column panels and 1000; K odd and past the AVX2 kernel's chunks of A, 256 values with
 * vpmaddwd and 512 with AVX-VNNI). */
enum { CLASSIFIER_CASES = 7 * 5 * 4 };
static void classifier_shape(int ci, int *m, int *k, int *n)
{
    static const int ms[] = {1, 3, 4, 5, 9, 17, 33}, ns[] = {1, 10, 16, 17, 1000};
    static const int ks[] = {1, 7, 320, 641};
    *m = ms[ci / 20], *n = ns[ci / 4 % 5], *k = ks[ci % 4];
}

/* Random a[m][k], b[k][n] (weights), biases and scales (b unpacked: the caller packs it). */
static void classifier_data(int m, int k, int n, int8_t *a, int8_t *b, int32_t *bias,
                            float *scale)
{
    for (int i = 0; i < m * k; i++)
        a[i] = (int8_t)rnd32();
    for (int i = 0; i < k * n; i++) /* weights: [-127, 127] (docs/int8.md), both ends often */
        b[i] = (int8_t)(i % 5 == 0 ? (i & 8 ? 127 : -127) : rint_in(-127, 127));
    for (int j = 0; j < n; j++) {
        bias[j] = rint_in(-100000, 100000);
        scale[j] = (float)(rint_in(1, 100000) * 1e-7);
    }
}

/* The classifier (float logits, bit for bit): case ci of classifier_shape's grid */
static void check_i8_gemm_f32out(const kc_row *r, const kc_shape *s)
{
    int m, k, n;
    classifier_shape(s->v[0], &m, &k, &n);
    int8_t *a = kc_alloc((int64_t)m * k, 1), *b = kc_alloc((int64_t)k * n, 1);
    int32_t *bias = kc_alloc((int64_t)n * 4, 4);
    float *scale = kc_alloc((int64_t)n * 4, 4), *want = kc_f32((int64_t)m * n);
    float *got = kc_f32((int64_t)m * n);
    classifier_data(m, k, n, a, b, bias, scale);
    int8_t *bp = kc_alloc(mvit_pack_i8_b(b, k, n, KC_I8_PANEL, NULL), 64);
    mvit_pack_i8_b(b, k, n, KC_I8_PANEL, bp);
    const mvk_gemm p = {.m = m, .k = k, .n = n};
    ((i8_gemm_f32out_fn)r->twin_fn)(&p, a, want, b, bias, scale);
    ((i8_gemm_f32out_fn)r->fn)(&p, a, got, bp, bias, scale);
    kc_same("logits", got, want, (int64_t)m * n * 4);
}

/* Rows whose softmax sum is exactly 2^15 (the maximum's term alone: p_max = 2^15), recomputed
 * the way docs/int8.md defines the sum. */
static int count_one_hot_rows(const int8_t *qkv, const int32_t *lut, int p, int n, int d,
                              int heads, int z, int32_t m_sm, int s_sm)
{
    const int hd = d / heads;
    int rows = 0;
    int64_t *a = malloc((size_t)n * sizeof *a);
    for (int pi = 0; pi < p; pi++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++) {
                const int8_t *base = qkv + (int64_t)pi * n * 3 * d;
                int64_t best = INT64_MIN, total = 0;
                for (int j = 0; j < n; j++) {
                    a[j] = 0;
                    for (int t = 0; t < hd; t++)
                        a[j] += (int64_t)(base[i * 3 * d + h * hd + t] - z) *
                                (base[j * 3 * d + d + h * hd + t] - z);
                    best = a[j] > best ? a[j] : best;
                }
                for (int j = 0; j < n; j++) {
                    uint64_t u = ((uint64_t)(best - a[j]) * (uint64_t)m_sm +
                                  ((uint64_t)1 << (s_sm - 1))) >>
                                 s_sm;
                    u = u < 31 * 256 ? u : 31 * 256;
                    total += lut[u & 255] >> (u >> 8);
                }
                rows += total == 32768;
            }
    free(a);
    return rows;
}

/* The attention; shape {head width, N, mode}, heads 1 + (positions of hd and N) % 3, P 1 or
 * 2. mode 0: soft rows, a random part of the work units (the rows outside it keep the
 * fill); 1: large scale (one-hot rows); 2: extreme zero points; 3: a tiny scale (softmax
 * multiplier 2^-21 to 2^-11: padded keys' exponent under the cut-off); 4: any multiplier
 * < 2^31 and shift 1..62 (the kernels' whole contract, beyond what the compiler emits). The
 * scratch exactly MVK_I8_ATTENTION_SCRATCH_SIMD bytes. */
static void check_i8_attention(const kc_row *r, const kc_shape *s)
{
    const int hd = s->v[0], n = s->v[1], mode = s->v[2];
    const int heads = 1 + (s->i[0] + s->i[1]) % 3, p = 1 + mode % 2, d = heads * hd;
    static int32_t lut[256];
    for (int f = 0; f < 256; f++)
        lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    const double sx = mode == 1   ? 2.0
                      : mode == 3 ? 1e-4 + rint_in(0, 100) * 1e-5
                                  : 0.01 + rint_in(0, 60) / 1000.0;
    const int z = mode == 2 ? (rint_in(0, 1) ? -128 : 127) : rint_in(-10, 10);
    const int zy = rint_in(-20, 20);
    const int64_t len = (int64_t)p * n * d, units = (int64_t)p * heads;
    const int64_t r0 = mode == 0 ? rint_in(0, (int)units - 1) : 0;
    const int64_t r1 = mode == 0 ? rint_in((int)r0 + 1, (int)units) : units;
    int8_t *qkv = kc_alloc(3 * len, 1), *want = kc_alloc(len, 1), *got = kc_alloc(len, 1);
    memset(want, 0x77, (size_t)len), memset(got, 0x77, (size_t)len);
    for (int64_t i = 0; i < 3 * len; i++)
        qkv[i] = (int8_t)rint_in(-128, 127);
    int32_t s_sm, s_o;
    int32_t m_sm = mult_of(sx * sx / log(2.0) / sqrt((double)hd) * 256.0, &s_sm);
    const int32_t m_o = mult_of(sx / (32768.0 * sx * 256.0 / 255.0), &s_o);
    if (mode == 4 && (s->i[0] + s->i[1]) % 2) /* anywhere in the contract */
        m_sm = (int32_t)(rnd32() >> rint_in(1, 24)) | 1, s_sm = rint_in(1, 62);
    else if (mode == 4) /* where d * m + 2^(s-1) passes 2^32 before the clamp */
        m_sm = (int32_t)(rnd32() >> 1) | 1 << 29, s_sm = rint_in(17, 19);
    if (kc_i8_att_narrow(m_sm, s_sm))
        kc_count_a++;
    else
        kc_count_b++;
    int32_t *ref_scratch = kc_alloc((int64_t)n * 8 + (int64_t)hd * n * 4, 4);
    int32_t *scratch = kc_alloc(MVK_I8_ATTENTION_SCRATCH_SIMD((int64_t)n, (int64_t)hd), 64);
    const mvk_attention pa = {.positions = p, .tokens = n, .dim = d, .heads = heads,
                              .exp2_lut = lut, .zx = z, .m_sm = m_sm, .s_sm = s_sm, .m_o = m_o,
                              .s_o = s_o, .zy = zy};
    ((i8_attention_fn)r->twin_fn)(&pa, qkv, want, ref_scratch, r0, r1);
    ((i8_attention_fn)r->fn)(&pa, qkv, got, scratch, r0, r1);
    kc_same("output", got, want, len);
    if (mode == 1)
        kc_count_c += count_one_hot_rows(qkv, lut, p, n, d, heads, z, m_sm, s_sm);
}

static void done_i8_attention(const kc_row *r)
{
    (void)r;
    kc_expect(kc_count_c > 0 && kc_count_a > 0 && kc_count_b > 0,
              "a path did not run (one-hot rows %lld, 32-bit %lld, 64-bit %lld)", kc_count_c,
              kc_count_a, kc_count_b);
    printf("  %lld one-hot rows; exponents in 32-bit lanes %lld cases, 64-bit %lld\n",
           kc_count_c, kc_count_a, kc_count_b);
}

/* The residual add; shape {i}: lengths 0..300 (16-value steps and tails), shifts 1..40 (R = 0
 * past 30), in place (y = a) for odd i. param 0: multipliers of the compiler's range [2^14,
 * 2^15) for a, either sign for b, every 10th case larger (the scalar fallback); param 1:
 * either sign for both, 2^15 exactly for b in every 10th. */
static void check_i8_add(const kc_row *r, const kc_shape *s)
{
    const int t = s->v[0], n = rint_in(0, 300), sh = rint_in(1, 40), in_place = t & 1;
    const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
    int32_t ma, mb;
    if (r->param == 0) {
        const int big = t % 10 == 0;
        ma = big ? (int32_t)(rnd32() >> 1) : rint_in(1 << 14, (1 << 15) - 1);
        mb = big ? rint_in(1, 1 << 15) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
    } else {
        ma = t % 10 == 0 ? (int32_t)(rnd32() >> 1) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        mb = t % 10 == 5 ? (1 << 15) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
    }
    int8_t *a = kc_i8(n), *b = kc_i8(n), *want = kc_i8(n), *y = kc_i8(n);
    const mvk_i8_add p = {.za = za, .ma = ma, .zb = zb, .mb = mb, .shift = sh, .zy = zy};
    ((i8_add_fn)r->twin_fn)(&p, a, b, want, n);
    if (in_place) {
        memcpy(y, a, (size_t)n);
        ((i8_add_fn)r->fn)(&p, y, b, y, n);
    } else {
        ((i8_add_fn)r->fn)(&p, a, b, y, n);
    }
    kc_same("y", y, want, n);
    const int simd_path = ma > -32768 && ma < 32768 && mb > -32768 && mb < 32768;
    for (int i = 0; i + 16 <= n && simd_path; i++) /* the 16-value steps, not the tail */
        kc_sat_lo += want[i] == -128 || want[i] == 127;
}

static void done_saturated(const kc_row *r)
{
    (void)r;
    kc_expect(kc_sat_lo > 0, "the SIMD path never saturated");
    printf("  %lld saturated values\n", kc_sat_lo);
}

/* The depthwise convolution; shape {i}: channel counts around 8 and 16 (tail blocks read
 * through a copy), strides 1 and 2, paddings 0..2 (zero point at the borders), with and
 * without the SiLU table, row ranges that start inside the image; output bytes outside the
 * rows stay untouched. param 0: kernels 1, 3, 5, 7 and 9 (past the AVX2 fast path's 7x7),
 * maps up to 12x12, multipliers and shifts of the compiler's range; param 1: kernels 1, 3, 5, maps up to 10x10, multipliers of either
 * sign and shifts 1..62 in some cases. */
static void check_i8_dwconv(const kc_row *r, const kc_shape *s)
{
    /* channels around the blocks of 16 (AVX2, NEON) and 32 (AVX-512): 17, 33 and 40 a
     * partial second half, 16 and 48 none */
    static const int cs0[] = {1, 7, 16, 17, 32, 40, 48, 64};
    static const int cs1[] = {1, 7, 8, 9, 16, 17, 24, 33, 40, 64};
    const int t = s->v[0], wide = r->param == 0;
    const int nc = wide ? 8 : 10, nk = wide ? 5 : 3, c = wide ? cs0[t % 8] : cs1[t % 10];
    const int k = 1 + 2 * (t / nc % nk), stride = 1 + t / (nc * nk) % 2;
    const int pad = t / (2 * nc * nk) % 3 < k ? t / (2 * nc * nk) % 3 : 0;
    const int h = rint_in(k, wide ? 12 : 10), wd = rint_in(k, wide ? 12 : 10);
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
    const int use_lut = t % 2, zx = rint_in(-128, 127), zy = rint_in(-30, 30);
    const int64_t len = (int64_t)oh * ow * c;
    const int64_t r0 = oh > 1 ? rint_in(0, oh - 1) : 0, r1 = rint_in((int)r0 + 1, oh);
    int8_t *in = kc_i8((int64_t)h * wd * c), *w = kc_alloc((int64_t)k * k * c, 1);
    int8_t *want = kc_alloc(len, 1), *got = kc_alloc(len, 1), *lut = kc_i8(256);
    int32_t *bias = kc_alloc(4 * (int64_t)c, 4);
    int16_t *mult = kc_alloc(2 * (int64_t)c, 2);
    int8_t *shift = kc_alloc(c, 1);
    for (int i = 0; i < k * k * c; i++)
        w[i] = (int8_t)(t % 5 == 0 ? (rnd32() & 1 ? 127 : -128) : (int8_t)rnd32());
    for (int i = 0; i < c; i++) {
        bias[i] = (int32_t)(rnd32() % 200001) - 100000;
        if (wide) {
            mult[i] = (int16_t)rint_in(1 << 14, (1 << 15) - 1);
            shift[i] = (int8_t)(t % 4 == 0 ? rint_in(16, 31) : rint_in(10, 24));
        } else {
            mult[i] = (int16_t)(t % 3 ? rint_in(1 << 14, (1 << 15) - 1) : (int16_t)rnd32());
            shift[i] = (int8_t)(t % 4 == 0 ? rint_in(1, 62) : rint_in(10, 24));
        }
    }
    const int8_t *wk = w;
    if (KC_I8_DW_PACKED) {
        int8_t *wp = kc_alloc(mvit_pack_i8_dw(w, k * k, c, NULL), 64);
        mvit_pack_i8_dw(w, k * k, c, wp);
        wk = wp;
    }
    memset(want, 0x3c, (size_t)len), memset(got, 0x3c, (size_t)len);
    const mvk_conv2d p = {.in_h = h, .in_w = wd, .in_c = c, .out_h = oh, .out_w = ow,
                          .out_c = c, .kernel = k, .stride = stride, .pad = pad, .groups = c};
    const mvk_i8_requant rq = {.bias = bias, .mult = mult, .shift = shift, .zx = zx, .zy = zy,
                               .lut = use_lut ? lut : 0};
    ((i8_dwconv_fn)r->twin_fn)(&p, &rq, in, want, w, r0, r1);
    ((i8_dwconv_fn)r->fn)(&p, &rq, in, got, wk, r0, r1);
    kc_same("output", got, want, len);
    for (int64_t i = 0; i < len && !use_lut; i++)
        kc_sat_lo += want[i] == -128 || want[i] == 127;
}

/* The concat; shape {i}: channel counts around 16 on both sides, 1..9 pixels, shifts 1..40.
 * param 0: one shift, multipliers of the compiler's range (every 17th a larger one: the
 * scalar fallback); param 1: a shift per side in a third of the cases, multipliers of either
 * sign and -2^15. */
static void check_i8_concat(const kc_row *r, const kc_shape *s)
{
    static const int cs[] = {1, 15, 16, 17, 40, 64};
    const int t = s->v[0], ca = cs[t % 6], cb = cs[t / 6 % 6], pixels = rint_in(1, 9);
    const int sa = rint_in(1, 40), sb = r->param == 0 || t % 3 ? sa : rint_in(1, 40);
    int32_t ma, mb;
    if (r->param == 0) {
        ma = t % 17 == 0 ? 1 << 20 : rint_in(1 << 14, (1 << 15) - 1);
        mb = rint_in(1 << 14, (1 << 15) - 1);
    } else {
        ma = t % 17 == 0 ? 1 << 20 : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        mb = t % 19 == 0 ? -(1 << 15) : rint_in(1 << 14, (1 << 15) - 1);
    }
    const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
    const int64_t len = (int64_t)pixels * (ca + cb);
    int8_t *a = kc_i8((int64_t)pixels * ca), *b = kc_i8((int64_t)pixels * cb);
    int8_t *want = kc_i8(len), *got = kc_i8(len);
    const mvk_concat p = {.pixels = pixels, .ca = ca, .cb = cb, .za = za, .ma = ma, .sa = sa,
                          .zb = zb, .mb = mb, .sb = sb, .zy = zy};
    ((i8_concat_fn)r->twin_fn)(&p, a, b, want);
    ((i8_concat_fn)r->fn)(&p, a, b, got);
    kc_same("output", got, want, len);
}

/* The integer norms' inputs for case t: n values (mode t % 5 == 4: the extremes, else base
 * plus up to spread) and c gammas and betas. */
static void norm_inputs(int t, int spread, int base, int8_t *x, int n, int32_t *g, int32_t *b,
                        int c)
{
    for (int i = 0; i < n; i++)
        x[i] = (int8_t)(t % 5 == 4 ? (rnd32() & 1 ? 127 : -128) : base + rint_in(0, spread));
    for (int i = 0; i < c; i++) {
        g[i] = (int32_t)(rnd32() % (1u << (8 + t % 20))) - (1 << (7 + t % 20));
        b[i] = (int32_t)(rnd32() % (1u << 24)) - (1 << 23);
    }
}

/* eps_q making the variance term n sumsq - sum^2 + eps_q of x[0..n) a power of 4 (v 4^k =
 * 2^60, root = 2^30, inv = 2^32: the kernels' special case); counted in kc_count_a. */
static int64_t eps_to_power_of_4(const int8_t *x, int n)
{
    int64_t sum = 0, sq = 0, p4 = 1;
    for (int i = 0; i < n; i++)
        sum += x[i], sq += x[i] * x[i];
    while (p4 < (int64_t)n * sq - sum * sum)
        p4 *= 4;
    kc_count_a++;
    return p4 - ((int64_t)n * sq - sum * sum);
}

/* The LayerNorm; shape {i}: widths 1..260 (odd, past the 8- and 16-value steps),
 * per-channel and shared affine, constant rows (variance from eps only, or 0), variance terms
 * that are powers of 4 (root = 2^30: inv = 2^32), 3 rows per call. */
static void check_i8_layernorm(const kc_row *r, const kc_shape *s)
{
    enum { ROWS = 3 };
    const int t = s->v[0], c = rint_in(1, 260), mode = t % 5, per_channel = t % 3 != 0;
    const int spread = mode == 1 || mode == 3 ? 0 : rint_in(0, 127);
    const int base = rint_in(-128, 127 - spread);
    int8_t *x = kc_alloc(ROWS * c, 1), *want = kc_i8(ROWS * c), *got = kc_i8(ROWS * c);
    int32_t *g = kc_alloc(4 * (int64_t)c, 4), *b = kc_alloc(4 * (int64_t)c, 4);
    norm_inputs(t, spread, base, x, ROWS * c, g, b, c);
    int64_t eps_q = mode == 3 ? 0 : rint_in(0, 100000);
    if (mode == 2) { /* every row as row 0, eps_q making the variance term a power of 4 */
        for (int i = c; i < ROWS * c; i++)
            x[i] = x[i % c];
        eps_q = eps_to_power_of_4(x, c);
    }
    const int zy = rint_in(-128, 127);
    const mvk_layernorm p = {.c = c, .gamma_q = g, .beta_q = b, .per_channel = per_channel,
                             .eps_q = eps_q, .zy = zy};
    ((i8_layernorm_fn)r->twin_fn)(&p, x, want, 0, ROWS);
    ((i8_layernorm_fn)r->fn)(&p, x, got, 0, ROWS);
    kc_same("output", got, want, ROWS * c);
}

static void done_i8_layernorm(const kc_row *r)
{
    (void)r;
    kc_expect(kc_count_a > 0, "no row had inv = 2^32");
}

/* The GroupNorm (one group over pixels x c values); shape {i}: maps of 1..40 pixels x 1..70
 * channels, every 200th case near the 2^22 values the lowering allows (4095 x 1024), modes as
 * the LayerNorm's (constant map, +-extremes, a variance term that is a power of 4). */
static void check_i8_groupnorm(const kc_row *r, const kc_shape *s)
{
    const int t = s->v[0], mode = t % 5, per_channel = t % 3 != 0, big = t % 200 == 199;
    const int pixels = big ? 4095 : rint_in(1, 40), c = big ? 1024 : rint_in(1, 70);
    const int count = pixels * c;
    const int spread = mode == 1 || mode == 3 ? 0 : rint_in(0, 127);
    const int base = rint_in(-128, 127 - spread);
    int8_t *x = kc_alloc(count, 1), *want = kc_i8(count), *got = kc_i8(count);
    int32_t *g = kc_alloc(4 * (int64_t)c, 4), *b = kc_alloc(4 * (int64_t)c, 4);
    norm_inputs(t, spread, base, x, count, g, b, c);
    int64_t eps_q = mode == 3 ? 0 : rint_in(0, 100000);
    if (mode == 2)
        eps_q = eps_to_power_of_4(x, count);
    const mvk_layernorm p = {.c = c, .gamma_q = g, .beta_q = b, .per_channel = per_channel,
                             .eps_q = eps_q, .zy = rint_in(-128, 127)};
    ((i8_groupnorm_fn)r->twin_fn)(&p, x, want, pixels);
    ((i8_groupnorm_fn)r->fn)(&p, x, got, pixels);
    kc_same("output", got, want, count);
}

/* The linear self-attention; shape {i}: maps of 1..6 x 1..6 patches of 1..2 x 1..2 pixels,
 * d = 1..70 channels (past the 8-channel steps), random int8 qkv (every 4th case a query
 * constant over the map: equal softmax terms; every 5th all values at the extremes), the
 * compiler's exp2 table, and multipliers and shifts over the ranges the lowering makes. */
static void check_i8_linear_attention(const kc_row *r, const kc_shape *s)
{
    const int t = s->v[0], ph = rint_in(1, 2), pw = rint_in(1, 2), d = rint_in(1, 70);
    const int h = ph * rint_in(1, 6), w = pw * rint_in(1, 6);
    const int64_t row = 1 + 2 * (int64_t)d, len = (int64_t)h * w * row;
    int8_t *qkv = kc_alloc(len, 1), *want = kc_i8((int64_t)h * w * d);
    int8_t *got = kc_i8((int64_t)h * w * d);
    int32_t *lut = kc_alloc(4 * 256, 4), *ctx = kc_alloc(4 * (int64_t)d, 4);
    for (int64_t i = 0; i < len; i++)
        qkv[i] = (int8_t)(t % 5 == 4 ? (rnd32() & 1 ? 127 : -128) : rint_in(-128, 127));
    if (t % 4 == 3)
        for (int64_t i = 0; i < (int64_t)h * w; i++)
            qkv[i * row] = 17;
    for (int f = 0; f < 256; f++)
        lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    const mvk_linear_attention p = {
        .h = h, .w = w, .dim = d, .patch_h = ph, .patch_w = pw, .exp2_lut = lut,
        .zx = rint_in(-128, 127), .m_sm = rint_in(1 << 14, (1 << 15) - 1), .s_sm = rint_in(4, 24),
        .m_o = rint_in(1 << 14, (1 << 15) - 1), .s_o = rint_in(2, 40), .zy = rint_in(-128, 127)};
    ((i8_linear_attention_fn)r->twin_fn)(&p, qkv, want, ctx);
    ((i8_linear_attention_fn)r->fn)(&p, qkv, got, ctx);
    kc_same("output", got, want, (int64_t)h * w * d);
}

/* Input quantisation case c of QUANTIZE_CASES: thresholds th evenly spaced (the compiler's;
 * c % 3 == 0), uneven (squared spacing, still ascending: no fast path; c % 3 == 1) or nearly
 * even (each but the first moved by up to 0.1 step: the fast path with a wider margin;
 * c % 3 == 2), and x: values on and next to every threshold, anywhere between, far outside,
 * +-inf, NaN (every 5th case only values between thresholds, as an image mostly has, and
 * every 10th only values beyond both ends: whole vectors on the SIMD fast paths; every 50th
 * from c = 7 with steps of ~1e-32, an estimate's multiplier inv above 1e30). Returns the
 * length (1..168: around 8 and 16). */
enum { QUANTIZE_CASES = 300, QUANTIZE_MAX_N = 300 };
static int quantize_case(int c, float *th, float *x)
{
    const double sc = (c % 50 == 7 ? 1e-32 : 0.001) * rint_in(1, 2000), z = rint_in(-128, 127);
    for (int k = 0; k < 255; k++)
        th[k] = (float)(sc * ((-128 + k) - z + 0.5));
    if (c % 3 == 1)
        for (int k = 0; k < 255; k++)
            th[k] = (float)(sc * ((k - 127) * fabs((double)(k - 127)) / 16.0 - z));
    if (c % 3 == 2)
        for (int k = 1; k < 255; k++)
            th[k] = (float)(sc * ((-128 + k) - z + 0.5 + (rint_in(0, 200) - 100) / 1000.0));
    const int n = 1 + c % 40 + (c % 3) * 64;
    for (int i = 0; i < n; i++) {
        const int k = rint_in(0, 254);
        const float span = th[254] - th[0], past = span * (float)(1 + rnd32() % 100) / 100.0f;
        if (c % 10 == 9) { /* below t[0] or above t[254] by 2.54 to 254 steps, or infinite */
            const int side = (int)(rnd32() % 4);
            x[i] = side == 0   ? th[0] - past
                   : side == 1 ? th[254] + past
                   : side == 2 ? -__builtin_inff()
                               : __builtin_inff();
            continue;
        }
        switch (c % 5 == 4 ? 3 : rnd32() % 6) { /* every 5th case: between thresholds only */
        case 0:
            x[i] = th[k];
            break;
        case 1:
            x[i] = __builtin_nextafterf(th[k], -1e30f);
            break;
        case 2:
            x[i] = __builtin_nextafterf(th[k], 1e30f);
            break;
        case 3:
            x[i] = (float)(th[0] + (th[254] - th[0]) * (rnd32() % 100000) / 100000.0);
            break;
        case 4:
            x[i] = (float)((int)rnd32() % 4 - 2) * 1e30f;
            break;
        default:
            x[i] = rnd32() % 3 == 0   ? __builtin_nanf("")
                   : rnd32() % 2 == 0 ? __builtin_inff()
                                      : -__builtin_inff();
        }
    }
    return n;
}

/* The input quantisation: case i of quantize_case; the fast path (no gathers for values
 * away from the thresholds) runs for even and nearly even thresholds, never for uneven ones */
static void check_i8_quantize(const kc_row *r, const kc_shape *s)
{
    float th[255], xs[QUANTIZE_MAX_N];
    const int c = s->v[0], n = quantize_case(c, th, xs);
    const float *t = kc_copy(th, sizeof th, 4), *x = kc_copy(xs, (int64_t)n * 4, 4);
    int8_t *want = kc_i8(n), *got = kc_i8(n);
    const double margin = mvk_i8_q_margin(t, 254.0f / (t[254] - t[0]));
    kc_expect((margin > 0) == (c % 3 != 1), "margin %g", margin);
    kc_count_a += margin > 0;
    ((i8_quantize_fn)r->twin_fn)(x, want, t, n);
    ((i8_quantize_fn)r->fn)(x, got, t, n);
    kc_same("q", got, want, n);
}

static void done_i8_quantize(const kc_row *r)
{
    (void)r;
    kc_expect(kc_count_a == 200, "%lld cases on the fast path, not 200", kc_count_a);
}

#if defined(KC_HAS_LUT32)
/* The AVX2 table lookup (vpshufb rows whose XOR telescopes) against the table itself, on
 * every index at several positions of the 32 bytes; shape {i}: i < 256 a table with the one
 * non-zero entry i (a row built from the wrong block shows up as a stray byte), else random */
__attribute__((target("avx2"))) static void kc_lut32(const int8_t *lut, const int8_t *in,
                                                      int8_t *got)
{
    mvk_i8_avx2_lut tab;
    mvk_i8_avx2_lut_init(&tab, lut);
    _mm256_storeu_si256((__m256i *)got,
                        mvk_i8_avx2_lut32(_mm256_loadu_si256((const __m256i *)in), &tab));
}

static void check_lut32(const kc_row *r, const kc_shape *s)
{
    (void)r;
    const int t = s->v[0];
    int8_t *lut = kc_alloc(256, 1);
    for (int i = 0; i < 256; i++)
        lut[i] = t < 256 ? (int8_t)(i == t ? 0x5a ^ t : 0) : (int8_t)rnd32();
    for (int rot = 0; rot < 32; rot += 7)
        for (int base = 0; base < 256; base += 32) {
            int8_t in[32], got[32], want[32];
            for (int i = 0; i < 32; i++)
                in[i] = (int8_t)((base + (i + rot) % 32) - 128), want[i] = lut[in[i] + 128];
            kc_lut32(lut, in, got);
            kc_same("looked-up bytes", got, want, 32);
        }
}
#endif

// ---- the table, and the run

/* the microkernel's test shapes: every row count of its tile, every column count of one
   16-column panel and the second panel's edges */
#define KC_UK_ROWS_6 1, 2, 3, 4, 5, 6
#define KC_UK_COLS_16 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#if !defined(KC_UK_ROWS) /* the 6x16 tile */
#define KC_UK_ROWS KC_UK_ROWS_6
#define KC_UK_COLS KC_UK_COLS_16
#endif
#include "kernel_cases.h"

static const char *kc_running = "";

/* A guard page hit: name the case instead of dying silently under qemu. */
static void kc_on_fault(int sig)
{
    printf("FAIL %s (%s) ", kc_running, KC_ARCH);
    if (kc_shape_now)
        kc_print_shape();
    printf(": out-of-bounds access (signal %d)\n", sig);
    fflush(stdout);
    _exit(1);
}

static uint64_t kc_seed(const kc_row *r, int index)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = r->twin; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h ^= (uint64_t)r->param * 0x9e3779b97f4a7c15ull + (uint64_t)(index + 1) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    return h ? h : 1;
}

/* Runs every case of row r; returns the number of failed cases. */
static int kc_run_row(const kc_row *r, long long *cases)
{
    int naxes = 0, total = 1;
    if (r->list)
        total = r->nlist, naxes = KC_MAXV;
    else
        while (naxes < KC_MAXV && r->axes[naxes].n)
            total *= r->axes[naxes++].n;
    kc_row_now = r, kc_row_fails = 0, kc_max_err = 0.0, kc_running = r->kernel;
    kc_naxes_now = naxes;
    kc_counts_reset();
    const clock_t t0 = clock();
    for (int index = 0; index < total; index++) {
        kc_shape s = {{0}, {0}, index};
        if (r->list) { /* printed without trailing zeros */
            memcpy(s.v, r->list[index], sizeof s.v);
            for (kc_naxes_now = KC_MAXV; kc_naxes_now > 1 && !s.v[kc_naxes_now - 1];)
                kc_naxes_now--;
        } else {
            for (int a = naxes - 1, rest = index; a >= 0; a--) {
                s.i[a] = rest % r->axes[a].n, rest /= r->axes[a].n;
                s.v[a] = r->axes[a].v ? r->axes[a].v[s.i[a]] : s.i[a];
            }
        }
        kc_shape_now = &s, kc_case_bad = 0;
        kc_rng = kc_seed(r, index);
        r->check(r, &s);
        kc_release();
        if (kc_verbose) {
            printf("  %s ", kc_case_bad ? "FAIL" : "ok");
            kc_print_shape();
            printf("\n");
        }
    }
    kc_shape_now = 0;
    if (r->done)
        r->done(r);
    *cases += total;
    if (kc_row_fails > KC_MAX_FAILS_SHOWN)
        printf("  (%d more failed cases not shown)\n", kc_row_fails - KC_MAX_FAILS_SHOWN);
    printf("%s %s vs %s: %d cases, max error %.3g (tolerance %.3g), %.2f s\n",
           kc_row_fails ? "FAIL" : "PASS", r->kernel, r->twin, total, kc_max_err, r->tol,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    fflush(stdout);
    return kc_row_fails;
}

int main(int argc, char **argv)
{
    if (!kc_isa_available()) {
        printf("kernel_check (%s): this CPU cannot run these kernels: skipped\n", KC_ARCH);
        return 77;
    }
    signal(SIGSEGV, kc_on_fault);
    signal(SIGBUS, kc_on_fault);
    int rows = 0, failed_rows = 0;
    long long cases = 0, failed = 0;
    int all = !KC_EXT, named = 0;
    for (int a = 1; a < argc; a++) {
        kc_verbose |= !strcmp(argv[a], "-v");
        all |= !strcmp(argv[a], "--all");
        named |= argv[a][0] != '-';
    }
    for (size_t i = 0; i < sizeof kc_rows / sizeof *kc_rows; i++) {
        int wanted = !named && (all || kc_rows[i].ext);
        for (int a = 1; a < argc && !wanted; a++)
            wanted = argv[a][0] != '-' && strstr(kc_rows[i].kernel, argv[a]);
        if (!wanted)
            continue;
        const int f = kc_run_row(&kc_rows[i], &cases);
        rows++, failed_rows += f > 0, failed += f;
    }
    printf("kernel_check (%s): %d kernel/twin rows, %lld cases, %lld failed (%d rows)\n", KC_ARCH,
           rows, cases, failed, failed_rows);
    return failed || !rows ? EXIT_FAILURE : EXIT_SUCCESS;
}
