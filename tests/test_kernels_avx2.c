/* Every AVX2 kernel against its scalar twin on the same data, with sizes around the tiles:
 * M in {1, 5, 6, 7, 13}, N in {1, 7, 8, 15, 16, 17, 33}, channels not a multiple of 8, and the
 * attention's N not a multiple of 6 or 16. F32 tolerance: 2e-6 relative to the output scale
 * (FMA and summation order differ from the scalar kernels). Skipped without AVX2+FMA. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/pack.h"
#include "kernels/f32-attention-scalar.c"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "kernels/f32-gemm-scalar.c"
/* the AVX2 kernels in the order the emitter pastes them */
#include "kernels/f32-gemm-6x16-avx2.c"
// clang-format off
#include "kernels/f32-attention-avx2.c"
#include "kernels/f32-conv2d-im2col-avx2.c"
#include "kernels/f32-dwconv-avx2.c"
#include "kernels/f32-conv3x3-winograd-avx2.c"
// clang-format on
#include "remap_cases.h"

static unsigned rng = 99;
static float frand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}
/* 64-byte aligned, size rounded up to a multiple of 64 as aligned_alloc requires */
static float *alloc64(int64_t floats)
{
    return aligned_alloc(64, (size_t)((floats * 4 + 63) / 64 * 64 + 64));
}
static float *rvec(int64_t n)
{
    float *v = alloc64(n);
    for (int64_t i = 0; i < n; i++)
        v[i] = frand();
    return v;
}
static float *packed(const float *b, int k, int n)
{
    int64_t len = mvit_pack_b_panels(b, k, n, 16, NULL);
    float *p = alloc64(len);
    mvit_pack_b_panels(b, k, n, 16, p);
    return p;
}
static float *padded(const float *v, int n, int to)
{
    float *p = alloc64(n + to);
    mvit_pack_pad(v, n, to, p);
    return p;
}

static void expect_close_tol(const char *what, const float *got, const float *want, int64_t n,
                             double tol)
{
    double scale = 1.0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)got[i] - want[i]) <= tol * scale,
                      "%s: index %lld: scalar %.9g, avx2 %.9g", what, (long long)i,
                      (double)want[i], (double)got[i]);
}

static void expect_close(const char *what, const float *got, const float *want, int64_t n)
{
    expect_close_tol(what, got, want, n, 2e-6);
}

static void gemm_case(int m, int k, int n, int act, int with_res, int with_bias)
{
    float *a = rvec((int64_t)m * k), *w = rvec((int64_t)k * n), *b = rvec(n);
    float *res = rvec((int64_t)m * n), *want = rvec((int64_t)m * n), *got = rvec((int64_t)m * n);
    float *wp = packed(w, k, n), *bp = padded(b, n, 16);
    mvk_f32_gemm__scalar(a, want, w, with_bias ? b : 0, with_res ? res : 0, m, k, n, act);
    mvk_f32_gemm__avx2(m, k, n, a, wp, with_bias ? bp : 0, got, with_res ? res : 0, act);
    char what[96];
    snprintf(what, sizeof what, "gemm 6x16 rows M%d K%d N%d", m, k, n);
    expect_close(what, got, want, (int64_t)m * n);
    /* the column-split form, in two halves as two tasks would run it */
    const int panels = (n + 15) / 16;
    mvk_f32_gemm_cols__avx2(0, panels / 2, m, k, n, a, wp, with_bias ? bp : 0, got,
                            with_res ? res : 0, act);
    mvk_f32_gemm_cols__avx2(panels / 2, panels, m, k, n, a, wp, with_bias ? bp : 0, got,
                            with_res ? res : 0, act);
    snprintf(what, sizeof what, "gemm 6x16 M%d K%d N%d act%d res%d bias%d", m, k, n, act,
             with_res, with_bias);
    expect_close(what, got, want, (int64_t)m * n);
    free(a), free(w), free(b), free(res), free(want), free(got), free(wp), free(bp);
}

START_TEST(gemm_6x16_matches_scalar)
{
    const int ms[] = {1, 5, 6, 7, 13}, ns[] = {1, 7, 8, 15, 16, 17, 33}, ks[] = {1, 3, 17, 64};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 7; j++)
            for (size_t l = 0; l < 4; l++)
                gemm_case(ms[i], ks[l], ns[j], (int)((i + j) % 2), (int)(j % 2), (int)(l != 1));
}
END_TEST

/* A rows gathered through the unfold / fold index maps (fused MobileViT patch reshapes),
 * resized maps blended into scratch rows */
static void remap_case_run(const remap_case *c)
{
    mvk_remap rm;
    mvk_lerp ty[64], tx[64];
    const int k = c->k, n = c->n;
    const int64_t rows_a = remap_case_make(c, &rm, ty, tx), m = mvk_remap_rows(&rm);
    float *a = rvec(rows_a * k), *wt = rvec((int64_t)k * n), *b = rvec(n), *s1 = rvec(k);
    float *want = rvec(m * n), *got = rvec(m * n), *wp = packed(wt, k, n), *bp = padded(b, n, 16);
    float *scratch = rvec((int64_t)10 * k);
    mvk_f32_gemm_remap__scalar(a, want, wt, b, 0, m, k, n, MVK_ACT_SILU, &rm, s1);
    mvk_f32_gemm_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 0.0f,
                            scratch);
    char what[128];
    snprintf(what, sizeof what, "gemm remap %d map %dx%d grid %dx%d patch %dx%d K%d N%d", c->kind,
             rm.mh, rm.mw, rm.gh, rm.gw, c->ph, c->pw, k, n);
    expect_close(what, got, want, m * n);
    /* the blocked driver builds a whole mc-row block of resized rows at once */
    float *bscratch = rvec((int64_t)16 * k), *s5 = rvec((int64_t)5 * k);
    mvk_f32_gemm_blocked_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 12,
                                    k > 4 ? k / 2 : k, 0.0f, bscratch);
    expect_close(what, got, want, m * n);
    /* a fused LayerNorm through the remap: each (source) row normalised, then blended */
    mvk_f32_gemm_norm__scalar(a, want, wt, b, 0, m, k, n, MVK_ACT_SILU, &rm, 1e-5f, s5);
    mvk_f32_gemm_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 1e-5f,
                            scratch);
    expect_close(what, got, want, m * n);
    mvk_f32_gemm_blocked_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 12,
                                    k > 4 ? k / 2 : k, 1e-5f, bscratch);
    expect_close(what, got, want, m * n);
    free(s1), free(s5), free(scratch), free(bscratch);
    free(a), free(wt), free(b), free(want), free(got), free(wp), free(bp);
}

/* cache-blocked GEMM: partial sums across K blocks, bias first, residual + SiLU last */
static void blocked_case(int m, int k, int n, int mc, int kc)
{
    float *a = rvec((int64_t)m * k), *wt = rvec((int64_t)k * n), *b = rvec(n);
    float *res = rvec((int64_t)m * n), *want = rvec((int64_t)m * n), *got = rvec((int64_t)m * n);
    float *wp = packed(wt, k, n), *bp = padded(b, n, 16);
    mvk_f32_gemm__scalar(a, want, wt, b, res, m, k, n, MVK_ACT_SILU);
    mvk_f32_gemm_blocked_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, mc,
                                    kc, 0.0f, 0);
    expect_close("gemm blocked", got, want, (int64_t)m * n);
    /* fused LayerNorm, blocked and unblocked, against the scalar norm kernel */
    float *ns = rvec((int64_t)(mc > 6 ? mc : 6) * k), *s1 = rvec(k);
    mvk_f32_gemm_norm__scalar(a, want, wt, b, res, m, k, n, MVK_ACT_SILU, 0, 1e-5f, s1);
    mvk_f32_gemm_blocked_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, mc,
                                    kc, 1e-5f, ns);
    expect_close("gemm blocked + layernorm", got, want, (int64_t)m * n);
    mvk_f32_gemm_rows__avx2(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, 1e-5f, ns);
    free(ns), free(s1);
    char what[64];
    snprintf(what, sizeof what, "gemm blocked M%d K%d N%d mc%d kc%d", m, k, n, mc, kc);
    expect_close(what, got, want, (int64_t)m * n);
    free(a), free(wt), free(b), free(res), free(want), free(got), free(wp), free(bp);
}

START_TEST(gemm_blocked_matches_scalar)
{
    blocked_case(13, 100, 33, 6, 32);
    blocked_case(7, 17, 16, 12, 5);
    blocked_case(30, 64, 20, 18, 64);
    blocked_case(1, 9, 1, 6, 4);
}
END_TEST

START_TEST(gemm_remap_matches_scalar)
{
    for (int i = 0; i < NUM_REMAP_CASES; i++)
        remap_case_run(&remap_cases[i]);
}
END_TEST

static void conv_case(int h, int w, int cin, int cout, int k, int stride, int act, int res_on)
{
    int pad = ((stride - 1) + (k - 1)) / 2;
    int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    int kk = k * k * cin;
    float *in = rvec((int64_t)h * w * cin), *wt = rvec((int64_t)kk * cout), *b = rvec(cout);
    float *res = rvec((int64_t)oh * ow * cout), *want = rvec((int64_t)oh * ow * cout);
    float *got = rvec((int64_t)oh * ow * cout), *scratch = rvec(6 * (int64_t)kk);
    float *wp = packed(wt, kk, cout), *bp = padded(b, cout, 16);
    mvk_f32_conv2d__scalar(in, want, wt, b, res_on ? res : 0, h, w, cin, oh, ow, cout, k, stride,
                           pad, 1, act);
    mvk_f32_conv2d_im2col__avx2(in, got, wp, bp, res_on ? res : 0, h, w, cin, oh, ow, cout, k,
                                stride, pad, act, scratch);
    char what[96];
    snprintf(what, sizeof what, "conv2d im2col %dx%dx%d->%d k%d s%d", h, w, cin, cout, k, stride);
    expect_close(what, got, want, (int64_t)oh * ow * cout);
    free(in), free(wt), free(b), free(res), free(want), free(got), free(scratch), free(wp),
        free(bp);
}

/* the fused concat: input channels gathered from two maps */
static void conv_cat_case(int h, int w, int ca, int cb, int cout)
{
    const int64_t m = (int64_t)h * w, kk = 9 * (int64_t)(ca + cb);
    float *xa = rvec(m * ca), *xb = rvec(m * cb), *wt = rvec(kk * cout), *b = rvec(cout);
    float *want = rvec(m * cout), *got = rvec(m * cout), *scratch = rvec(6 * kk);
    float *wp = packed(wt, (int)kk, cout), *bp = padded(b, cout, 16);
    mvk_f32_conv2d_cat__scalar(xa, xb, want, wt, b, 0, h, w, ca, cb, h, w, cout, 3, 1, 1,
                               MVK_ACT_SILU);
    mvk_f32_conv2d_im2col_rows__avx2(0, m, xa, xb, got, wp, bp, 0, h, w, ca, cb, w, cout, 3, 1, 1,
                                     MVK_ACT_SILU, scratch, 6, (int)kk);
    expect_close("conv2d cat unblocked", got, want, m * cout);
    /* cache-blocked schedule: K in blocks of 40 (not a multiple of C), rows in blocks of 12 */
    float *sb = rvec(12 * 40);
    mvk_f32_conv2d_im2col_rows__avx2(0, m, xa, xb, got, wp, bp, 0, h, w, ca, cb, w, cout, 3, 1, 1,
                                     MVK_ACT_SILU, sb, 12, 40);
    free(sb);
    char what[64];
    snprintf(what, sizeof what, "conv2d cat %dx%d %d+%d->%d", h, w, ca, cb, cout);
    expect_close(what, got, want, m * cout);
    free(xa), free(xb), free(wt), free(b), free(want), free(got), free(scratch), free(wp), free(bp);
}

START_TEST(conv2d_im2col_matches_scalar)
{
    conv_case(1, 1, 1, 1, 3, 1, 0, 0);
    conv_case(9, 7, 3, 16, 3, 2, 1, 0);  /* stem */
    conv_case(8, 8, 17, 9, 3, 1, 1, 1);  /* odd channels, residual */
    conv_case(5, 6, 20, 33, 3, 1, 1, 0); /* fusion-like, N past two panels */
    conv_case(7, 7, 4, 5, 5, 2, 0, 1);
    conv_cat_case(4, 4, 3, 5, 7);
    conv_cat_case(8, 6, 48, 48, 48); /* XXS fusion conv shape */
}
END_TEST

/* Winograd F(4x4, 3x3) against the direct scalar conv (its own rounding: the transforms add
 * and scale up to 36 terms, so the tolerance is 1e-5 of the output scale, not 2e-6). ca + cb
 * input channels (cb > 0: the fused concat). */
static void winograd_case(int h, int w, int ca, int cb, int cout, int act, int res_on)
{
    const int64_t m = (int64_t)h * w, ci = ca + cb;
    float *xa = rvec(m * ca), *xb = rvec(m * (cb ? cb : 1)), *wt = rvec(9 * ci * cout);
    float *b = rvec(cout), *res = rvec(m * cout), *want = rvec(m * cout), *got = rvec(m * cout);
    float *u = alloc64(36 * ci * cout);
    mvit_winograd_f43_weights(wt, (int)ci, cout, u);
    const int64_t plen = mvit_pack_b_panels(u, (int)ci, cout, 16, NULL);
    float *up = alloc64(36 * plen), *bp = padded(b, cout, 16);
    for (int xi = 0; xi < 36; xi++)
        mvit_pack_b_panels(u + xi * ci * cout, (int)ci, cout, 16, up + xi * plen);
    float *scratch = alloc64(mvk_f32_conv3x3_winograd_scratch__avx2((int)ci));
    mvk_f32_conv2d_cat__scalar(xa, cb ? xb : 0, want, wt, b, res_on ? res : 0, h, w, ca, cb, h, w,
                               cout, 3, 1, 1, act);
    mvk_f32_conv3x3_winograd__avx2(xa, cb ? xb : 0, got, up, bp, res_on ? res : 0, h, w, ca, cb,
                                   cout, act, scratch);
    char what[96];
    snprintf(what, sizeof what, "winograd %dx%d %d+%d->%d", h, w, ca, cb, cout);
    expect_close_tol(what, got, want, m * cout, 1e-5);
    free(xa), free(xb), free(wt), free(b), free(res), free(want), free(got), free(u), free(up),
        free(bp), free(scratch);
}

START_TEST(winograd_matches_scalar)
{
    winograd_case(1, 1, 1, 0, 1, 0, 0);
    winograd_case(5, 7, 3, 0, 9, 1, 0);     /* maps not a multiple of 4, one panel */
    winograd_case(8, 8, 16, 0, 16, 1, 1);   /* residual + SiLU */
    winograd_case(6, 10, 20, 0, 33, 1, 0);  /* three panels, the last of one column */
    winograd_case(20, 17, 8, 0, 16, 0, 1);  /* 25 tiles: blocks of 12, 12 and 1 */
    winograd_case(9, 5, 13, 11, 17, 1, 0);  /* concat with channel tails on both sides */
    winograd_case(8, 8, 48, 48, 48, 1, 0);  /* XXS fusion conv shape */
}
END_TEST

static void dw_case(int h, int w, int c, int k, int stride, int act, int res_on)
{
    int pad = ((stride - 1) + (k - 1)) / 2;
    int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    int c8 = (c + 7) / 8 * 8;
    float *in = rvec((int64_t)h * w * c), *wt = rvec((int64_t)k * k * c), *b = rvec(c);
    float *res = rvec((int64_t)oh * ow * c), *want = rvec((int64_t)oh * ow * c);
    float *got = rvec((int64_t)oh * ow * c);
    float *wp = alloc64((int64_t)k * k * c8), *bp = padded(b, c, 8);
    for (int t = 0; t < k * k; t++)
        mvit_pack_pad(wt + t * c, c, 8, wp + t * c8);
    mvk_f32_dwconv__scalar(in, want, wt, b, res_on ? res : 0, h, w, c, oh, ow, k, stride, pad,
                           act);
    mvk_f32_dwconv__avx2(in, got, wp, bp, res_on ? res : 0, h, w, c, oh, ow, k, stride, pad, act);
    char what[96];
    snprintf(what, sizeof what, "dwconv %dx%dx%d k%d s%d", h, w, c, k, stride);
    expect_close(what, got, want, (int64_t)oh * ow * c);
    free(in), free(wt), free(b), free(res), free(want), free(got), free(wp), free(bp);
}

START_TEST(dwconv_matches_scalar)
{
    dw_case(1, 1, 1, 3, 1, 0, 0);
    dw_case(7, 9, 5, 3, 2, 1, 0);
    dw_case(8, 8, 32, 3, 1, 1, 1);
    dw_case(6, 5, 33, 3, 2, 0, 1);
    dw_case(5, 5, 12, 5, 1, 1, 0);
    dw_case(9, 11, 24, 3, 1, 1, 1);  /* 3x3 fast path: interior and borders, all full blocks */
    dw_case(10, 9, 40, 3, 2, 1, 0);
    /* quads of interior outputs: wide rows, a channel tail (20 = 16 + 4), stride 1 and 2 */
    dw_case(5, 14, 20, 3, 1, 1, 1);
    dw_case(6, 21, 16, 3, 2, 1, 1);
    dw_case(7, 26, 44, 3, 2, 0, 0);
    dw_case(4, 2, 8, 3, 1, 1, 0);
}
END_TEST

static void attention_case(int p, int n, int heads, int hd)
{
    int d = heads * hd;
    float *qkv = rvec((int64_t)p * n * 3 * d);
    for (int64_t i = 0; i < (int64_t)p * n * 3 * d; i++)
        qkv[i] *= 3.0f;
    float *want = rvec((int64_t)p * n * d), *got = rvec((int64_t)p * n * d);
    float *s1 = rvec(n), *s2 = rvec(mvk_f32_attention_scratch__avx2(n, hd));
    float scale = (float)(1.0 / sqrt(hd));
    mvk_f32_attention__scalar(qkv, want, s1, p, n, d, heads, scale);
    mvk_f32_attention__avx2(qkv, got, s2, p, n, d, heads, scale);
    char what[64];
    snprintf(what, sizeof what, "attention P%d N%d heads%d hd%d", p, n, heads, hd);
    expect_close(what, got, want, (int64_t)p * n * d);
    free(qkv), free(want), free(got), free(s1), free(s2);
}

START_TEST(attention_matches_scalar)
{
    attention_case(1, 1, 1, 1);
    attention_case(4, 16, 4, 16);  /* XXS 64x64 stage 3 */
    attention_case(4, 4, 4, 20);
    attention_case(2, 37, 4, 24);  /* N past two key panels, not a multiple of 6 */
    attention_case(1, 64, 4, 36);  /* S: hd 36 spans three V panels */
    attention_case(1, 7, 3, 60);
}
END_TEST

static MVK_AVX2 void exp_silu_avx2(const float *x, float *e, float *s, int n)
{
    for (int i = 0; i < n; i += 8) {
        _mm256_storeu_ps(e + i, mvk_avx2_exp(_mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(s + i, mvk_avx2_silu(_mm256_loadu_ps(x + i)));
    }
}

START_TEST(exp_and_silu_match_scalar)
{
    float xs[4096], got[4096], sil[4096];
    for (int i = 0; i < 4096; i++)
        xs[i] = -90.0f + 180.0f * (float)i / 4095.0f;
    exp_silu_avx2(xs, got, sil, 4096);
    for (int i = 0; i < 4096; i++) {
        float want = mvk_expf(xs[i]);
        /* the documented range (outside it saturates) and accuracy: 2.3e-7 from the
         * polynomial, up to 8e-8 * |x| from rounding x * log2(e) and mvk_expf's own error */
        if (xs[i] > -87.0f && xs[i] <= 88.0f)
            ck_assert_msg(fabsf(got[i] - want) <= (4e-7f + 8e-8f * fabsf(xs[i])) * want,
                          "exp(%g): %g vs %g", xs[i], got[i], want);
    }
    for (int i = 0; i < 4096; i++)
        ck_assert_msg(fabsf(sil[i] - mvk_silu(xs[i])) <= 1e-6f * (1.0f + fabsf(xs[i])),
                      "silu(%g): %g vs %g", xs[i], sil[i], mvk_silu(xs[i]));
    /* the ends of the exponent range and beyond: saturated as documented, never garbage
     * (2^n's exponent bits from 1 to 254) */
    float ends[8] = {-INFINITY, -1e30f, -87.5f, -87.33654f, 88.0f, 100.0f, 1e30f, INFINITY};
    float e_end[8], s_end[8];
    exp_silu_avx2(ends, e_end, s_end, 8);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(e_end[i] >= 1.1e-38f && e_end[i] <= 1.3e-38f, "exp(%g) = %g", ends[i],
                      e_end[i]);
        ck_assert_msg(e_end[4 + i] >= 1.6e38f && e_end[4 + i] <= 1.7e38f, "exp(%g) = %g",
                      ends[4 + i], e_end[4 + i]);
    }
    for (int i = 1; i < 3; i++) /* e^-x saturates at ~1.7e38: x / (1 + e^-x) is ~0 */
        ck_assert_msg(fabsf(s_end[i]) <= 1e-30f, "silu(%g) = %g", ends[i], s_end[i]);
    for (int i = 5; i < 7; i++) /* e^-x ~1e-38: x itself, to the reciprocal's 1e-7 */
        ck_assert_msg(fabsf(s_end[i] - ends[i]) <= 1e-6f * ends[i], "silu(%g) = %g", ends[i],
                      s_end[i]);
    ck_assert_msg(s_end[7] == INFINITY, "silu(inf) = %g", s_end[7]);
}
END_TEST

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("test_kernels_avx2: this CPU has no AVX2+FMA, skipped\n");
        return 77;
    }
    Suite *s = suite_create("kernels_avx2");
    TCase *tc = tcase_create("avx2_vs_scalar");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gemm_6x16_matches_scalar);
    tcase_add_test(tc, conv2d_im2col_matches_scalar);
    tcase_add_test(tc, gemm_remap_matches_scalar);
    tcase_add_test(tc, gemm_blocked_matches_scalar);
    tcase_add_test(tc, dwconv_matches_scalar);
    tcase_add_test(tc, winograd_matches_scalar);
    tcase_add_test(tc, attention_matches_scalar);
    tcase_add_test(tc, exp_and_silu_match_scalar);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
