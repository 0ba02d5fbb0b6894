/* Shared by every kernel: portability macros and the math the generated code needs without
 * libm (exp for SiLU/softmax, 1/sqrt for LayerNorm). Pasted first into every generated file;
 * kernels #include it so that they also compile on their own in the unit tests. */
#ifndef MVK_PRELUDE_H
#define MVK_PRELUDE_H

#include <stddef.h>
#include <stdint.h>

/* MVK_UNUSED marks every kernel function: a model need not use them all, and none may carry
 * a stack protector, whose __stack_chk_fail/__stack_chk_guard live in libc (Apple's clang
 * turns it on by default, e.g. for the row-pointer arrays of the GEMM drivers). */
#if defined(__has_attribute)
#if __has_attribute(no_stack_protector)
#define MVK_NO_SSP_ no_stack_protector,
#endif
#endif
#ifndef MVK_NO_SSP_
#define MVK_NO_SSP_
#endif
/* the same for the generated entry points and layer functions */
#if defined(__GNUC__) || defined(__clang__)
#define MVK_NO_SSP __attribute__((MVK_NO_SSP_ unused))
#else
#define MVK_NO_SSP
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MVK_ALIGN64 __attribute__((aligned(64)))
#define MVK_UNUSED __attribute__((MVK_NO_SSP_ unused))
/* Small helpers called from inner loops (exp, SiLU, the GEMM epilogue): GCC otherwise keeps
 * some as out-of-line calls, which cost ~15 % of a MobileViT run. */
#define MVK_INLINE inline __attribute__((MVK_NO_SSP_ always_inline, unused))
#else
#define MVK_INLINE inline
#define MVK_ALIGN64
#define MVK_UNUSED
#endif

/* GCC turns plain copy/zero loops into memcpy/memset calls even with -ffreestanding, which
 * would leave undefined symbols in the object; this keeps every kernel loop a loop. */
#if defined(__GNUC__) && !defined(__clang__)
#define MVK_NOLIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MVK_NOLIBCALL
#endif

#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define MVK_RESTRICT restrict
#else
#define MVK_RESTRICT
#endif

enum { MVK_ACT_NONE = 0, MVK_ACT_SILU = 1 };

/* a / b for 0 <= a, 0 < b (both int). 32-bit ARM cores without a hardware divider (the
 * armeabi-v7a baseline) would call __aeabi_idiv from libgcc, and the generated object would
 * not stand alone; there the quotient is taken in double, which truncates exactly: its
 * rounding error (< 2^-52 relative) is smaller than the gap (>= 1/b) from a/b to the next
 * integer above it. */
static inline MVK_UNUSED int mvk_idiv(int a, int b)
{
#if defined(__arm__) && !defined(__ARM_FEATURE_IDIV)
    return (int)((double)a / (double)b);
#else
    return a / b;
#endif
}

/* How a GEMM reads its A rows (the MobileViT unfold/fold folded into the neighbouring 1x1
 * convs, which commute with any reordering of pixels), and how the unfold/fold kernels copy:
 * UNFOLD: rows are tokens (p, n), r = p*N + n, of the patch grid, a gh x gw map of whole
 *         ph x pw patches: grid pixel y = (n / nw)*ph + p / pw, x = (n % nw)*pw + p % pw,
 *         nw = gw/pw, N = (gh/ph)*nw. The source is an HWC map [mh][mw][lda].
 * FOLD:   rows are the pixels r = y*mw + x of an mh x mw map, read from the grid's tokens
 *         [P][N][lda]: the inverse map.
 * A block's map (mh x mw) that does not split into whole patches is resized to the grid
 * (gh = ceil(mh/ph)*ph, ...) before the unfold and back after the fold, as timm and ml-cvnets
 * do with F.interpolate(mode="bilinear", align_corners=False). ty/tx then hold that resize's
 * taps per destination row/column (UNFOLD: grid <- map; FOLD: map <- grid): each row is a
 * blend of 4 source rows with weights fixed at compile time. NULL taps: map = grid. */
enum { MVK_REMAP_NONE = 0, MVK_REMAP_UNFOLD = 1, MVK_REMAP_FOLD = 2 };

/* One destination coordinate of a bilinear resize along one axis: source i0 with weight l0
 * and i1 with l1 (PyTorch's weights, l0 = 1 - l1; i1 = i0 at the far border); q0, q1 are
 * the int8 kernels' weights, l0 and l1 in Q11 (q0 + q1 = 2048, docs/int8.md). */
typedef struct mvk_lerp {
    int32_t i0, i1;
    float l0, l1;
    int32_t q0, q1;
} mvk_lerp;

/* The shape of a 2-D convolution, for the conv kernels of every ISA: generated files hold one
 * per conv layer as a static const with named fields, so that a call cannot swap two of them
 * and still compile, and the layer reads as what it is. */
typedef struct mvk_conv2d {
    int32_t in_h, in_w, in_c;            /* the input map */
    int32_t in_c_b;                      /* channels of a second input read after in_c (a
                                            fused concat), or 0 */
    int32_t out_h, out_w, out_c;         /* the output map */
    int32_t kernel, stride, pad, groups; /* square kernel, zero padding on every side */
    int32_t act;                         /* MVK_ACT_* after bias and residual */
    int32_t mc, kc;                      /* im2col + GEMM: output pixels and K per cache block */
    int32_t col_splits;                  /* Winograd: groups of output panels its parallel
                                            units also split (0, 1: none) */
} mvk_conv2d;

/* A depthwise conv's mvk_conv2d fields as the locals its kernels' loops use. */
#define MVK_DWCONV_LOCALS(p)                                                                 \
    const int h = (p)->in_h, wd = (p)->in_w, c = (p)->in_c, ow = (p)->out_w, k = (p)->kernel; \
    const int stride = (p)->stride, pad = (p)->pad

/* The requantisation of an int8 conv's or GEMM's int32 sums to int8 outputs (docs/int8.md),
 * per output channel: a static const per layer in generated files, as mvk_conv2d. */
typedef struct mvk_i8_requant {
    const int32_t *bias; /* the zero-point terms folded in; NULL: 0 (GEMM only) */
    const int16_t *mult; /* the multiplier and shift of each output channel */
    const int8_t *shift;
    int32_t zx;          /* the input's zero point: what padding reads (a real 0) */
    int32_t zy;          /* the zero point the requantisation targets */
    const int8_t *lut;   /* the fused SiLU's table on the result, or NULL */
} mvk_i8_requant;

/* An mvk_i8_requant's fields as the locals the int8 kernels' loops use. */
#define MVK_I8_REQUANT_LOCALS(rq)                                                          \
    const int32_t *MVK_RESTRICT bias = (rq)->bias, zx = (rq)->zx, zy = (rq)->zy;            \
    const int16_t *MVK_RESTRICT mult = (rq)->mult;                                           \
    const int8_t *MVK_RESTRICT shift = (rq)->shift, *MVK_RESTRICT lut = (rq)->lut;           \
    (void)zx

struct mvk_remap;

/* The shape of a GEMM over rows, C[m][n] = A[m][k] . B[k][n] + bias, then residual and
 * activation: the pointwise convs and the linears, for the GEMM kernels of every ISA (a static
 * const per layer in generated files, as mvk_conv2d). C and the residual are dense [m][n]. */
typedef struct mvk_gemm {
    int64_t m;                     /* rows of C */
    int32_t k, n;
    int32_t act;                   /* MVK_ACT_* after bias and residual */
    const struct mvk_remap *remap; /* A's rows through a MobileViT unfold/fold, or NULL: A is
                                      dense [m][k] */
    float eps;                     /* > 0: each A row is LayerNorm-normalised with it first
                                      (a fused LayerNorm) */
    int32_t mc, kc;                /* the cache-blocked driver's rows and K per block */
} mvk_gemm;

/* Multi-head self-attention over each patch position's tokens: qkv [P][N][3D] (q | k | v,
 * each D = heads * hd, as timm's fused qkv linear) -> [P][N][D], for the fp32 and int8
 * attention kernels of every ISA (a static const per layer, as mvk_conv2d). The int8 fields
 * are the integer softmax and requantisation of docs/int8.md; fp32 kernels ignore them. */
typedef struct mvk_attention {
    int32_t positions, tokens; /* P patch positions of N tokens each */
    int32_t dim, heads;        /* D = heads * hd */
    float scale;               /* fp32: the scores' factor hd^-1/2 */
    const int32_t *exp2_lut;   /* int8: 2^(-f/256) in Q15 for f < 256 */
    int32_t zx;                /* int8: qkv's zero point */
    int32_t m_sm, s_sm;        /* int8: max - score to the softmax's base-2 exponent in Q8 */
    int32_t m_o, s_o;          /* int8: P.V sums to the output */
    int32_t zy;                /* int8: the output's zero point */
} mvk_attention;

/* Two maps joined along channels, [pixels][ca] and [pixels][cb] -> [pixels][ca + cb]. The int8
 * kernels rescale each side to the output's scale: y = zy + R(x - z, m, s) (docs/int8.md). */
typedef struct mvk_concat {
    int64_t pixels;
    int32_t ca, cb;            /* channels of the first and second input */
    int32_t za, ma, sa;        /* int8: the first input's zero point, multiplier, shift */
    int32_t zb, mb, sb;        /* int8: the same for the second input */
    int32_t zy;                /* int8: the output's zero point */
} mvk_concat;

/* The int8 residual add y = zy + R((a - za) ma + (b - zb) mb, shift) (docs/int8.md). */
typedef struct mvk_i8_add {
    int32_t za, ma;            /* the first input's zero point and multiplier */
    int32_t zb, mb;            /* the second's */
    int32_t shift, zy;         /* the common shift, the output's zero point */
} mvk_i8_add;

/* LayerNorm over the channels of each row (token), then gamma and beta. */
typedef struct mvk_layernorm {
    int32_t c;                 /* channels per row */
    float eps;                 /* fp32 */
    const float *gamma, *beta; /* fp32: c entries each */
    const int32_t *gamma_q, *beta_q; /* int8: in the output's units (docs/int8.md) */
    int32_t per_channel;       /* int8: gamma_q, beta_q have c entries (else one) */
    int64_t eps_q;             /* int8: eps in the input's squared units */
    int32_t zy;                /* int8: the output's zero point */
} mvk_layernorm;

/* An HWC map's size, for the kernels that apply one map per channel to every pixel (an
 * unfolded BatchNorm, the 8-bit input's tables). */
typedef struct mvk_map {
    int64_t pixels;
    int32_t c;
} mvk_map;

/* MobileViT v2's linear self-attention on an HWC map of qkv channels [q | k (dim) | v (dim)]:
 * the pixels at one position inside their patch_h x patch_w patch form one sequence. */
typedef struct mvk_linear_attention {
    int32_t h, w;              /* the map: whole patches */
    int32_t dim;               /* d: the output's channels */
    int32_t patch_h, patch_w;
    const int32_t *exp2_lut;   /* int8: 2^(-f/256) in Q15 for f < 256 */
    int32_t zx;                /* int8: qkv's zero point */
    int32_t m_sm, s_sm;        /* int8: max - q to the softmax's base-2 exponent in Q8 */
    int32_t m_o, s_o;          /* int8: relu(v) * context (Q15) to the output */
    int32_t zy;                /* int8: the output's zero point */
} mvk_linear_attention;

/* A bilinear resize of an HWC map with align_corners=True (MobileViT v2's block input). */
typedef struct mvk_resize {
    int32_t in_h, in_w, out_h, out_w, c;
    const mvk_lerp *ty, *tx; /* int8: the taps of each output row and column (Q11 weights) */
} mvk_resize;

/* The mean over the pixels of each channel, [pixels][c] -> [c]; int8: y = zy + R(sum - pixels
 * zx, mult, shift), the division by the pixel count folded into mult and shift. */
typedef struct mvk_avgpool {
    int64_t pixels;
    int32_t c;
    int32_t zx, mult, shift, zy; /* int8 */
} mvk_avgpool;

typedef struct mvk_remap {
    int kind;                /* MVK_REMAP_UNFOLD or MVK_REMAP_FOLD */
    int ph, pw;              /* patch */
    int gh, gw;              /* the patch grid's map: multiples of ph, pw */
    int mh, mw;              /* the block's map: UNFOLD reads it, FOLD writes it */
    const mvk_lerp *ty, *tx; /* resize taps (gh, gw entries for UNFOLD; mh, mw for FOLD), or
                                NULL when mh = gh and mw = gw */
} mvk_remap;

/* Rows a remap yields: tokens of the grid (UNFOLD) or pixels of the map (FOLD). */
static inline MVK_UNUSED int64_t mvk_remap_rows(const mvk_remap *rm)
{
    return rm->kind == MVK_REMAP_UNFOLD ? (int64_t)rm->gh * rm->gw : (int64_t)rm->mh * rm->mw;
}

/* Token row of grid pixel (y, x). */
static inline MVK_UNUSED int64_t mvk_grid_token(const mvk_remap *rm, int y, int x)
{
    const int nw = mvk_idiv(rm->gw, rm->pw), ntok = mvk_idiv(rm->gh, rm->ph) * nw;
    const int by = mvk_idiv(y, rm->ph), bx = mvk_idiv(x, rm->pw);
    const int64_t p = (int64_t)(y - by * rm->ph) * rm->pw + (x - bx * rm->pw);
    return p * ntok + (int64_t)by * nw + bx;
}

/* The source rows of row r and the taps that blend them: src[0] alone (weight 1) when the
 * remap has no resize, else src[0..3] = (y0, x0), (y0, x1), (y1, x0), (y1, x1) blended as
 * ly0 * (lx0 * s0 + lx1 * s1) + ly1 * (lx0 * s2 + lx1 * s3), PyTorch's order. Returns the
 * number of source rows (1 or 4). */
static inline MVK_UNUSED int mvk_remap_src(const mvk_remap *rm, int64_t r, int64_t src[4],
                                           const mvk_lerp **ly, const mvk_lerp **lx)
{
    if (rm->kind == MVK_REMAP_UNFOLD) {
        const int nw = mvk_idiv(rm->gw, rm->pw), ntok = mvk_idiv(rm->gh, rm->ph) * nw;
        const int p = mvk_idiv((int)r, ntok), n = (int)r - p * ntok;
        const int py = mvk_idiv(p, rm->pw), ny = mvk_idiv(n, nw);
        const int y = ny * rm->ph + py, x = (n - ny * nw) * rm->pw + (p - py * rm->pw);
        if (!rm->ty) {
            src[0] = (int64_t)y * rm->mw + x;
            return 1;
        }
        *ly = &rm->ty[y];
        *lx = &rm->tx[x];
        src[0] = (int64_t)(*ly)->i0 * rm->mw + (*lx)->i0;
        src[1] = (int64_t)(*ly)->i0 * rm->mw + (*lx)->i1;
        src[2] = (int64_t)(*ly)->i1 * rm->mw + (*lx)->i0;
        src[3] = (int64_t)(*ly)->i1 * rm->mw + (*lx)->i1;
        return 4;
    }
    const int y = mvk_idiv((int)r, rm->mw), x = (int)r - y * rm->mw;
    if (!rm->ty) {
        src[0] = mvk_grid_token(rm, y, x);
        return 1;
    }
    *ly = &rm->ty[y];
    *lx = &rm->tx[x];
    src[0] = mvk_grid_token(rm, (*ly)->i0, (*lx)->i0);
    src[1] = mvk_grid_token(rm, (*ly)->i0, (*lx)->i1);
    src[2] = mvk_grid_token(rm, (*ly)->i1, (*lx)->i0);
    src[3] = mvk_grid_token(rm, (*ly)->i1, (*lx)->i1);
    return 4;
}

/* Row r of A read in place: plain (rm NULL) or through a remap without a resize. */
static inline MVK_UNUSED const float *mvk_a_row(const float *a, int64_t lda, int64_t r,
                                                const mvk_remap *rm)
{
    if (!rm)
        return a + r * lda;
    int64_t src[4];
    const mvk_lerp *ly = 0, *lx = 0;
    mvk_remap_src(rm, r, src, &ly, &lx);
    return a + src[0] * lda;
}

/* Whether a remap's rows are blends that must be built (rm may be NULL). */
static inline MVK_UNUSED int mvk_remap_resizes(const mvk_remap *rm)
{
    return rm && rm->ty;
}

/* dst = ly0 * (lx0 * s0 + lx1 * s1) + ly1 * (lx0 * s2 + lx1 * s3) over k floats. */
static inline MVK_UNUSED MVK_NOLIBCALL void mvk_f32_blend4(const float *s0, const float *s1,
                                                           const float *s2, const float *s3,
                                                           const mvk_lerp *ly, const mvk_lerp *lx,
                                                           int k, float *MVK_RESTRICT dst)
{
    const float y0 = ly->l0, y1 = ly->l1, x0 = lx->l0, x1 = lx->l1;
    for (int i = 0; i < k; i++)
        dst[i] = y0 * (x0 * s0[i] + x1 * s1[i]) + y1 * (x0 * s2[i] + x1 * s3[i]);
}

/* Row r of A through a resizing remap, blended into dst (k floats). */
static inline MVK_UNUSED MVK_NOLIBCALL void mvk_f32_blend_row(const float *MVK_RESTRICT a,
                                                              int64_t lda, int64_t r,
                                                              const mvk_remap *rm, int k,
                                                              float *MVK_RESTRICT dst)
{
    int64_t src[4];
    const mvk_lerp *ly = 0, *lx = 0;
    mvk_remap_src(rm, r, src, &ly, &lx);
    mvk_f32_blend4(a + src[0] * lda, a + src[1] * lda, a + src[2] * lda, a + src[3] * lda, ly, lx,
                   k, dst);
}

/* Row r of A as a GEMM reads it: in place, or blended into dst (k floats) when the remap
 * resizes. */
static inline MVK_UNUSED const float *mvk_f32_a_row(const float *a, int64_t lda, int64_t r,
                                                    const mvk_remap *rm, int k, float *dst)
{
    if (!mvk_remap_resizes(rm))
        return mvk_a_row(a, lda, r, rm);
    mvk_f32_blend_row(a, lda, r, rm, k, dst);
    return dst;
}

typedef union {
    float f;
    uint32_t u;
} mvk_f32_bits;

/* exp(x) for float: x = n*ln2 + r with |r| <= ln2/2, exp(r) by a degree-7 Taylor polynomial
 * (relative error < 2e-7 on that interval), 2^n assembled in the exponent bits. Results
 * below the normal range flush to 0, above it saturate to +inf; NaN propagates. */
static inline MVK_UNUSED float mvk_expf(float x)
{
    if (x != x)
        return x;
    if (x > 88.72283f) {
        mvk_f32_bits inf;
        inf.u = 0x7f800000u;
        return inf.f;
    }
    if (x < -87.33654f)
        return 0.0f;
    const float log2e = 1.44269504f, ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-6f;
    float t = x * log2e;
    int n = (int)(t + (t >= 0 ? 0.5f : -0.5f));
    float r = (x - (float)n * ln2_hi) - (float)n * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* n is in [-126, 128]; split 2^n in two factors so n = 128 does not overflow the bits */
    mvk_f32_bits s1, s2;
    int n1 = n / 2, n2 = n - n1;
    s1.u = (uint32_t)(n1 + 127) << 23;
    s2.u = (uint32_t)(n2 + 127) << 23;
    return p * s1.f * s2.f;
}

static inline MVK_UNUSED float mvk_silu(float x)
{
    return x / (1.0f + mvk_expf(-x));
}

/* 1/sqrt(v) for v > 0 in double precision: bit-level initial guess, then Newton steps, each
 * doubling the correct bits (5 steps reach the double's precision from the ~4-bit guess). */
static inline MVK_UNUSED double mvk_rsqrt(double v)
{
    union {
        double d;
        uint64_t u;
    } b;
    b.d = v;
    b.u = 0x5fe6eb50c7b537a9ull - (b.u >> 1);
    double y = b.d;
    for (int i = 0; i < 5; i++)
        y = y * (1.5 - 0.5 * v * y * y);
    return y;
}

/* y = (x - mean(x)) / sqrt(var(x) + eps) over k values (biased variance, as LayerNorm),
 * statistics accumulated in double over two passes. */
static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_normalize_row(const float *MVK_RESTRICT x, float *MVK_RESTRICT y, int k, float eps)
{
    double sum = 0.0, sq = 0.0;
    for (int i = 0; i < k; i++)
        sum += x[i];
    const double mean = sum / k;
    for (int i = 0; i < k; i++) {
        const double d = x[i] - mean;
        sq += d * d;
    }
    const float rstd = (float)mvk_rsqrt(sq / k + eps), fmean = (float)mean;
    for (int i = 0; i < k; i++)
        y[i] = (x[i] - fmean) * rstd;
}

/* A fused LayerNorm before a resizing fold: the references normalise the tokens, then
 * resize, so each of the 4 source rows is normalised (into tmp, 4 * k floats) and the results
 * are blended into dst. normalize is the ISA's row normalisation (a constant, inlined). */
#define MVK_F32_NORM_BLEND_ROW(normalize, a, lda, r, rm, k, eps, dst, tmp)                         \
    do {                                                                                           \
        int64_t src_[4];                                                                           \
        const mvk_lerp *ly_ = 0, *lx_ = 0;                                                         \
        mvk_remap_src((rm), (r), src_, &ly_, &lx_);                                                \
        for (int t_ = 0; t_ < 4; t_++)                                                             \
            normalize((a) + src_[t_] * (lda), (tmp) + (int64_t)t_ * (k), (k), (eps));              \
        mvk_f32_blend4((tmp), (tmp) + (k), (tmp) + 2 * (int64_t)(k), (tmp) + 3 * (int64_t)(k),     \
                       ly_, lx_, (k), (dst));                                                      \
    } while (0)

/* Epilogue shared by conv and linear kernels, in this order: out += residual (if any), then
 * the activation. Bias is added by the kernel before accumulation. */
static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_epilogue(float *MVK_RESTRICT out, const float *MVK_RESTRICT residual, int64_t n, int act)
{
    if (residual)
        for (int64_t i = 0; i < n; i++)
            out[i] += residual[i];
    if (act == MVK_ACT_SILU)
        for (int64_t i = 0; i < n; i++)
            out[i] = mvk_silu(out[i]);
}

/* The per-ISA layer the shared drivers (*-driver.h) are written over: names that the binding
 * at the top of each mvk-<isa>.h (MVK_ISA_HELPER) resolves to that ISA's definitions, e.g.
 * mvk_vf_add -> mvk_avx2_vf_add. Macros, so a file holding several ISAs (the x86-64 target)
 * instantiates each driver once per ISA under the binding in force where it is pasted. */
#define mvk_vf MVK_ISA_HELPER(vf)
#define MVK_VF_LANES MVK_ISA_HELPER(VF_LANES)
#define MVK_DW_CPAD MVK_ISA_HELPER(DW_CPAD)
#define MVK_GEMM_MR MVK_ISA_HELPER(GEMM_MR) /* the fp32 GEMM microkernel's tile */
#define MVK_GEMM_NR MVK_ISA_HELPER(GEMM_NR)
#define mvk_vf_zero MVK_ISA_HELPER(vf_zero)
#define mvk_vf_dup MVK_ISA_HELPER(vf_dup)
#define mvk_vf_load MVK_ISA_HELPER(vf_load)
#define mvk_vf_load_a MVK_ISA_HELPER(vf_load_a)
#define mvk_vf_store MVK_ISA_HELPER(vf_store)
#define mvk_vf_add MVK_ISA_HELPER(vf_add)
#define mvk_vf_sub MVK_ISA_HELPER(vf_sub)
#define mvk_vf_mul MVK_ISA_HELPER(vf_mul)
#define mvk_vf_max MVK_ISA_HELPER(vf_max)
#define mvk_vf_fma MVK_ISA_HELPER(vf_fma)
#define mvk_vf_fms MVK_ISA_HELPER(vf_fms)
#define mvk_vf_exp MVK_ISA_HELPER(vf_exp)
#define mvk_vf_load_n MVK_ISA_HELPER(vf_load_n)
#define mvk_vf_store_n MVK_ISA_HELPER(vf_store_n)
#define mvk_vf_keep_n MVK_ISA_HELPER(vf_keep_n)
#define mvk_vf_hsum MVK_ISA_HELPER(vf_hsum)
#define mvk_vf_hmax_tail MVK_ISA_HELPER(vf_hmax_tail)
#define mvk_vf_store_act MVK_ISA_HELPER(vf_store_act)

#endif
