/* Each scalar kernel against a naive loop written independently from the definitions
 * (PyTorch layouts and formulas, double accumulation). Sizes include 1, odd channel counts,
 * stride 2, padding at every border and grouped convs. A failure names the kernel, the
 * shape and the first bad index. Tolerance: 1e-5 relative to the output's scale. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "kernels/f32-add-scalar.c"
#include "kernels/f32-attention-scalar.c"
#include "kernels/f32-avgpool-scalar.c"
#include "kernels/f32-batchnorm-scalar.c"
#include "kernels/f32-concat-scalar.c"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "kernels/f32-gemm-scalar.c"
#include "kernels/f32-layernorm-scalar.c"
#include "kernels/f32-remap-scalar.c"
#include "kernels/f32-silu-scalar.c"
#include "remap_cases.h"

static unsigned rng_state = 12345;
static float frand(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static float *rand_vec(size_t n)
{
    float *v = malloc(n * sizeof *v + 1);
    for (size_t i = 0; i < n; i++)
        v[i] = frand();
    return v;
}
static double silu_ref(double x) { return x / (1.0 + exp(-x)); }

/* Asserts |got - want| <= tol * max(1, max|want|) everywhere. */
static void expect_close(const char *what, const float *got, const double *want, size_t n,
                         double tol)
{
    double scale = 1.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol * scale,
                      "%s: index %zu: expected %.9g, got %.9g", what, i, want[i], (double)got[i]);
}

// ---- convolutions

/* Naive conv from PyTorch's definition: input CHW view of an HWC buffer, weight OIHW, then
 * compared against the kernel which takes the same weights converted to HWIO. */
static void conv_case(int h, int w, int cin, int cout, int k, int stride, int groups, int act,
                      int with_res, int depthwise_kernel)
{
    int pad = ((stride - 1) + (k - 1)) / 2;
    int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    int ig = cin / groups, og = cout / groups;
    float *in = rand_vec((size_t)h * w * cin), *w_oihw = rand_vec((size_t)cout * ig * k * k);
    float *bias = rand_vec((size_t)cout), *res = rand_vec((size_t)oh * ow * cout);
    float *w_hwio = malloc((size_t)cout * ig * k * k * sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < ig; i++)
            for (int y = 0; y < k; y++)
                for (int x = 0; x < k; x++)
                    w_hwio[((y * k + x) * ig + i) * cout + o] = w_oihw[((o * ig + i) * k + y) * k + x];
    double *want = calloc((size_t)oh * ow * cout, sizeof(double));
    for (int o = 0; o < cout; o++) {
        int g = o / og;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double s = bias[o];
                for (int i = 0; i < ig; i++)
                    for (int y = 0; y < k; y++)
                        for (int x = 0; x < k; x++) {
                            int iy = oy * stride + y - pad, ix = ox * stride + x - pad;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                s += (double)in[(iy * w + ix) * cin + g * ig + i] *
                                     w_oihw[((o * ig + i) * k + y) * k + x];
                        }
                size_t idx = ((size_t)oy * ow + ox) * cout + o;
                if (with_res)
                    s += res[idx];
                want[idx] = act ? silu_ref(s) : s;
            }
    }
    float *got = malloc((size_t)oh * ow * cout * sizeof(float));
    char what[128];
    snprintf(what, sizeof what, "%s %dx%dx%d->%d k%d s%d g%d act%d res%d",
             depthwise_kernel ? "dwconv" : "conv2d", h, w, cin, cout, k, stride, groups, act,
             with_res);
    const mvk_conv2d p = {.in_h = h, .in_w = w, .in_c = cin, .out_h = oh, .out_w = ow,
                          .out_c = cout, .kernel = k, .stride = stride, .pad = pad,
                          .groups = groups, .act = act};
    if (depthwise_kernel)
        mvk_f32_dwconv__scalar(&p, in, got, w_hwio, bias, with_res ? res : NULL);
    else
        mvk_f32_conv2d__scalar(&p, in, NULL, got, w_hwio, bias, with_res ? res : NULL);
    expect_close(what, got, want, (size_t)oh * ow * cout, 1e-5);
    free(in), free(w_oihw), free(bias), free(res), free(w_hwio), free(want), free(got);
}

START_TEST(conv2d_matches_naive)
{
    conv_case(1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
    conv_case(7, 5, 3, 16, 3, 2, 1, 1, 0, 0);   /* stem-like, odd map, stride 2 */
    conv_case(8, 8, 17, 9, 3, 1, 1, 1, 1, 0);   /* fusion-like with residual */
    conv_case(6, 9, 8, 12, 3, 1, 4, 0, 0, 0);   /* grouped */
    conv_case(5, 5, 6, 6, 5, 1, 1, 1, 0, 0);    /* 5x5 kernel */
    conv_case(4, 4, 13, 7, 1, 1, 1, 0, 1, 0);   /* pointwise through the general kernel */
}
END_TEST

/* conv over [a | b] must equal the conv over the materialised concatenation, bit for bit */
START_TEST(conv2d_cat_equals_conv_on_concat)
{
    const int h = 5, w = 4, ca = 3, cb = 6, cout = 5;
    float *a = rand_vec(h * w * ca), *b = rand_vec(h * w * cb), *wt = rand_vec(9 * 9 * cout);
    float *bias = rand_vec(cout), cat[5 * 4 * 9], want[5 * 4 * 5], got[5 * 4 * 5];
    const mvk_concat joined = {.pixels = h * w, .ca = ca, .cb = cb};
    mvk_f32_concat__scalar(&joined, a, b, cat);
    const mvk_conv2d whole = {.in_h = h, .in_w = w, .in_c = ca + cb, .out_h = h, .out_w = w,
                              .out_c = cout, .kernel = 3, .stride = 1, .pad = 1, .groups = 1,
                              .act = MVK_ACT_SILU};
    mvk_conv2d two = whole;
    two.in_c = ca, two.in_c_b = cb;
    mvk_f32_conv2d__scalar(&whole, cat, NULL, want, wt, bias, NULL);
    mvk_f32_conv2d__scalar(&two, a, b, got, wt, bias, NULL);
    ck_assert_msg(memcmp(got, want, sizeof got) == 0, "conv2d_cat differs from conv2d(concat)");
    free(a), free(b), free(wt), free(bias);
}
END_TEST

START_TEST(dwconv_matches_naive)
{
    conv_case(1, 1, 1, 1, 3, 1, 1, 1, 0, 1);
    conv_case(9, 7, 5, 5, 3, 2, 5, 1, 0, 1);
    conv_case(8, 8, 33, 33, 3, 1, 33, 0, 1, 1);
    conv_case(3, 11, 16, 16, 3, 2, 16, 1, 1, 1);
}
END_TEST

// ---- gemm (pointwise conv / linear)

static void gemm_case(int m, int k, int n, int act, int with_res, int with_bias)
{
    float *a = rand_vec((size_t)m * k), *w = rand_vec((size_t)k * n), *b = rand_vec((size_t)n);
    float *res = rand_vec((size_t)m * n), *got = malloc((size_t)m * n * sizeof(float));
    double *want = malloc((size_t)m * n * sizeof(double));
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) {
            double s = with_bias ? b[j] : 0.0;
            for (int p = 0; p < k; p++)
                s += (double)a[r * k + p] * w[p * n + j];
            if (with_res)
                s += res[r * n + j];
            want[r * n + j] = act ? silu_ref(s) : s;
        }
    const mvk_gemm p = {.m = m, .k = k, .n = n, .act = act};
    mvk_f32_gemm_rows__scalar(&p, a, got, w, with_bias ? b : NULL, with_res ? res : NULL, NULL);
    char what[96];
    snprintf(what, sizeof what, "gemm %dx%dx%d act%d res%d bias%d", m, k, n, act, with_res,
             with_bias);
    expect_close(what, got, want, (size_t)m * n, 1e-5);
    free(a), free(w), free(b), free(res), free(got), free(want);
}

START_TEST(gemm_matches_naive)
{
    gemm_case(1, 1, 1, 0, 0, 1);
    gemm_case(17, 33, 15, 1, 0, 1);
    gemm_case(64, 96, 192, 0, 1, 1);
    gemm_case(3, 320, 10, 0, 0, 1);
    gemm_case(5, 7, 9, 1, 1, 0);
}
END_TEST

// ---- transformer pieces

START_TEST(layernorm_matches_naive)
{
    const int rows = 13, c = 37;
    float *x = rand_vec(rows * c), *g = rand_vec(c), *b = rand_vec(c);
    for (int i = 0; i < rows * c; i++)
        x[i] = x[i] * 3.0f + 100.0f; /* a large common offset must not hurt */
    float got[rows * c];
    double want[rows * c];
    for (int r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < c; i++)
            mean += x[r * c + i];
        mean /= c;
        for (int i = 0; i < c; i++)
            var += (x[r * c + i] - mean) * (x[r * c + i] - mean);
        var /= c;
        for (int i = 0; i < c; i++)
            want[r * c + i] = (x[r * c + i] - mean) / sqrt(var + 1e-5) * g[i] + b[i];
    }
    const mvk_layernorm p = {.c = c, .eps = 1e-5f, .gamma = g, .beta = b};
    mvk_f32_layernorm__scalar(&p, x, got, rows);
    expect_close("layernorm 13x37", got, want, rows * c, 2e-5);
    free(x), free(g), free(b);
}
END_TEST

static void attention_case(int p, int n, int heads, int hd)
{
    int d = heads * hd;
    float *qkv = rand_vec((size_t)p * n * 3 * d);
    for (int i = 0; i < p * n * 3 * d; i++)
        qkv[i] *= 3.0f; /* peaky softmax */
    float *got = malloc((size_t)p * n * d * sizeof(float)), *scores = malloc(n * sizeof(float));
    double *want = calloc((size_t)p * n * d, sizeof(double)), *s = malloc(n * sizeof(double));
    double scale = 1.0 / sqrt(hd);
    for (int pi = 0; pi < p; pi++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++) {
                double mx = -1e300, sum = 0;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int t = 0; t < hd; t++)
                        dot += (double)qkv[((size_t)pi * n + i) * 3 * d + h * hd + t] *
                               qkv[((size_t)pi * n + j) * 3 * d + d + h * hd + t];
                    s[j] = dot * scale;
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < n; j++)
                    sum += (s[j] = exp(s[j] - mx));
                for (int j = 0; j < n; j++)
                    for (int t = 0; t < hd; t++)
                        want[((size_t)pi * n + i) * d + h * hd + t] +=
                            s[j] / sum * qkv[((size_t)pi * n + j) * 3 * d + 2 * d + h * hd + t];
            }
    const mvk_attention pa = {.positions = p, .tokens = n, .dim = d, .heads = heads,
                              .scale = (float)scale};
    mvk_f32_attention__scalar(&pa, qkv, got, scores);
    char what[64];
    snprintf(what, sizeof what, "attention P%d N%d heads%d hd%d", p, n, heads, hd);
    expect_close(what, got, want, (size_t)p * n * d, 1e-5);
    free(qkv), free(got), free(scores), free(want), free(s);
}

START_TEST(attention_matches_naive)
{
    attention_case(1, 1, 1, 1);
    attention_case(4, 16, 4, 16);
    attention_case(4, 9, 4, 20);
    attention_case(2, 33, 3, 5);
}
END_TEST

/* unfold as timm writes it: reshape(C*nh, ph, nw, pw) -> transpose(1,2) -> reshape(C, N, P)
 * -> transpose(1, 3) ..., evaluated here by explicit index arithmetic on CHW. */
START_TEST(unfold_fold_match_timm)
{
    const int h = 6, w = 10, c = 3, ph = 2, pw = 2, nh = h / ph, nw = w / pw, n = nh * nw;
    float *x = rand_vec(h * w * c), tok[6 * 10 * 3], back[6 * 10 * 3];
    mvk_remap un = {MVK_REMAP_UNFOLD, ph, pw, h, w, h, w, 0, 0}, fold = un;
    fold.kind = MVK_REMAP_FOLD;
    mvk_f32_remap__scalar(x, tok, c, &un);
    for (int ch = 0; ch < c; ch++)
        for (int a = 0; a < nh; a++)
            for (int i = 0; i < ph; i++)
                for (int b = 0; b < nw; b++)
                    for (int j = 0; j < pw; j++) {
                        /* [C*nh, ph, nw, pw] -> transpose -> [C*nh, nw, ph, pw] -> [C, N, P]
                         * with N index a*nw + b and P index i*pw + j -> [P, N, C] */
                        int pidx = i * pw + j, nidx = a * nw + b;
                        float want = x[((a * ph + i) * w + b * pw + j) * c + ch];
                        ck_assert_msg(tok[(pidx * n + nidx) * c + ch] == want,
                                      "unfold: c%d p%d n%d", ch, pidx, nidx);
                    }
    mvk_f32_remap__scalar(tok, back, c, &fold);
    ck_assert_msg(memcmp(back, x, sizeof back) == 0, "fold(unfold(x)) != x");
    free(x);
}
END_TEST

/* Bilinear resize of an HWC map (taps per axis), in double: the reference's F.interpolate. */
static void resize_map(const float *x, double *y, int sh, int sw, int dh, int dw, int c,
                       const mvk_lerp *ty, const mvk_lerp *tx)
{
    for (int i = 0; i < dh; i++)
        for (int j = 0; j < dw; j++)
            for (int ch = 0; ch < c; ch++) {
                const mvk_lerp *a = &ty[i], *b = &tx[j];
                (void)sh;
                y[((int64_t)i * dw + j) * c + ch] =
                    a->l0 * (b->l0 * (double)x[((int64_t)a->i0 * sw + b->i0) * c + ch] +
                             b->l1 * (double)x[((int64_t)a->i0 * sw + b->i1) * c + ch]) +
                    a->l1 * (b->l0 * (double)x[((int64_t)a->i1 * sw + b->i0) * c + ch] +
                             b->l1 * (double)x[((int64_t)a->i1 * sw + b->i1) * c + ch]);
            }
}

/* A map that does not split into whole patches: unfold = resize to the grid, then timm's
 * unfold; fold = timm's fold, then resize back (both as the references write them). */
START_TEST(resized_unfold_fold_match_reference)
{
    for (int t = 0; t < NUM_REMAP_CASES; t++) {
        const remap_case *rc = &remap_cases[t];
        mvk_remap rm;
        mvk_lerp ty[64], tx[64];
        const int64_t rows_in = remap_case_make(rc, &rm, ty, tx), rows_out = mvk_remap_rows(&rm);
        const int c = rc->k, gh = rm.gh, gw = rm.gw, nw = gw / rm.pw, n = (gh / rm.ph) * nw;
        float *x = rand_vec((size_t)(rows_in * c)), *y = rand_vec((size_t)(rows_out * c));
        double *grid = malloc(sizeof(double) * (size_t)gh * gw * c);
        mvk_f32_remap__scalar(x, y, c, &rm);
        if (rc->kind == MVK_REMAP_UNFOLD) {
            if (rm.ty)
                resize_map(x, grid, rm.mh, rm.mw, gh, gw, c, ty, tx);
            else
                for (int64_t i = 0; i < (int64_t)gh * gw * c; i++)
                    grid[i] = x[i];
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                    for (int ch = 0; ch < c; ch++) {
                        const int p = (gy % rm.ph) * rm.pw + gx % rm.pw,
                                  tok = (gy / rm.ph) * nw + gx / rm.pw;
                        const double want = grid[((int64_t)gy * gw + gx) * c + ch];
                        const float got = y[((int64_t)p * n + tok) * c + ch];
                        ck_assert_msg(fabs(got - want) <= 1e-6 * (1 + fabs(want)),
                                      "case %d unfold (%d, %d) c%d: %g, want %g", t, gy, gx, ch,
                                      (double)got, want);
                    }
        } else {
            /* timm's fold of the tokens into the grid map, then the resize back */
            float *gmap = malloc(sizeof(float) * (size_t)gh * gw * c);
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                    for (int ch = 0; ch < c; ch++) {
                        const int p = (gy % rm.ph) * rm.pw + gx % rm.pw,
                                  tok = (gy / rm.ph) * nw + gx / rm.pw;
                        gmap[((int64_t)gy * gw + gx) * c + ch] = x[((int64_t)p * n + tok) * c + ch];
                    }
            if (rm.ty)
                resize_map(gmap, grid, gh, gw, rm.mh, rm.mw, c, ty, tx);
            else
                for (int64_t i = 0; i < (int64_t)gh * gw * c; i++)
                    grid[i] = gmap[i];
            for (int64_t i = 0; i < rows_out * c; i++)
                ck_assert_msg(fabs(y[i] - grid[i]) <= 1e-6 * (1 + fabs(grid[i])),
                              "case %d fold [%lld]: %g, want %g", t, (long long)i, (double)y[i],
                              grid[i]);
            free(gmap);
        }
        free(x), free(y), free(grid);
    }
}
END_TEST

/* mvit_bilinear_taps against the test's own taps (remap_cases.h) for a resize src -> dst. */
static void expect_same_taps(int src, int dst)
{
    mvk_lerp a[16], b[16];
    mvit_bilinear_taps(src, dst, a);
    remap_case_taps(src, dst, b);
    for (int i = 0; i < dst; i++)
        ck_assert_msg(a[i].i0 == b[i].i0 && a[i].i1 == b[i].i1 && a[i].l1 == b[i].l1 &&
                          a[i].q1 == b[i].q1,
                      "taps %d -> %d [%d]", src, dst, i);
}

/* The compiler's taps (mvit_bilinear_taps) are PyTorch's: 7 -> 8 and 8 -> 7 by hand, and the
 * corner cases 1 -> 2 (both taps the one source pixel) and n -> n (identity). */
START_TEST(bilinear_taps_match_pytorch)
{
    mvk_lerp t[8];
    mvit_bilinear_taps(7, 8, t); /* src = (i + 0.5) * 7/8 - 0.5 */
    ck_assert(t[0].i0 == 0 && t[0].i1 == 1 && t[0].l1 == 0.0f && t[0].q1 == 0);
    ck_assert(t[1].i0 == 0 && t[1].i1 == 1 && fabsf(t[1].l1 - 0.8125f) < 1e-6f);
    ck_assert(t[1].q1 == 1664 && t[1].q0 == 384);
    ck_assert(t[7].i0 == 6 && t[7].i1 == 6 && fabsf(t[7].l1 - 0.0625f) < 1e-6f);
    mvit_bilinear_taps(8, 7, t); /* src = (i + 0.5) * 8/7 - 0.5 */
    ck_assert(t[0].i0 == 0 && fabsf(t[0].l1 - (0.5f * 8 / 7 - 0.5f)) < 1e-6f);
    ck_assert(t[6].i0 == 6 && t[6].i1 == 7 && fabsf(t[6].l1 - (6.5f * 8 / 7 - 6.5f)) < 1e-6f);
    mvit_bilinear_taps(1, 2, t);
    ck_assert(t[0].i0 == 0 && t[0].i1 == 0 && t[1].i0 == 0 && t[1].i1 == 0);
    mvit_bilinear_taps(5, 5, t);
    for (int i = 0; i < 5; i++)
        ck_assert(t[i].i0 == i && t[i].l0 == 1.0f && t[i].l1 == 0.0f && t[i].q0 == 2048);
    for (int src = 1; src < 9; src++) /* the test's own taps agree, up and down */
        for (int dst = src; dst < src + 4; dst++) {
            expect_same_taps(src, dst);
            expect_same_taps(dst, src);
        }
}
END_TEST

// ---- the rest

START_TEST(elementwise_and_pooling)
{
    const int pix = 7, ca = 3, cb = 5;
    float *a = rand_vec(pix * ca), *b = rand_vec(pix * cb), cat[7 * 8];
    const mvk_concat joined = {.pixels = pix, .ca = ca, .cb = cb};
    mvk_f32_concat__scalar(&joined, a, b, cat);
    for (int i = 0; i < pix; i++) {
        for (int c = 0; c < ca; c++)
            ck_assert(cat[i * 8 + c] == a[i * ca + c]);
        for (int c = 0; c < cb; c++)
            ck_assert(cat[i * 8 + ca + c] == b[i * cb + c]);
    }
    float pool[8];
    double want[8] = {0};
    const mvk_avgpool pooled = {.pixels = pix, .c = 8};
    mvk_f32_avgpool__scalar(&pooled, cat, pool);
    for (int i = 0; i < pix; i++)
        for (int c = 0; c < 8; c++)
            want[c] += cat[i * 8 + c] / (double)pix;
    expect_close("avgpool", pool, want, 8, 1e-6);

    float sc[3] = {0.5f, -2.0f, 1.5f}, sh[3] = {1.0f, 0.0f, -0.25f}, bn[21];
    double wbn[21];
    const mvk_map map = {.pixels = pix, .c = ca};
    mvk_f32_batchnorm__scalar(&map, a, bn, sc, sh);
    for (int i = 0; i < pix * ca; i++)
        wbn[i] = (double)a[i] * sc[i % ca] + sh[i % ca];
    expect_close("batchnorm", bn, wbn, 21, 1e-6);

    float s[21], sum[21];
    double ws[21], wsum[21];
    mvk_f32_silu__scalar(a, s, 21);
    mvk_f32_add__scalar(a, a, sum, 21);
    for (int i = 0; i < 21; i++) {
        ws[i] = silu_ref(a[i]);
        wsum[i] = 2.0 * a[i];
    }
    expect_close("silu", s, ws, 21, 1e-6);
    expect_close("add", sum, wsum, 21, 0);
    free(a), free(b);
}
END_TEST

START_TEST(expf_and_rsqrt_accuracy)
{
    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
        double rel = fabs(mvk_expf(x) - exp(x)) / exp(x);
        worst = fmax(worst, rel);
    }
    ck_assert_msg(worst < 5e-7, "mvk_expf worst relative error %g", worst);
    ck_assert(mvk_expf(-200.0f) == 0.0f);
    ck_assert(isinf(mvk_expf(200.0f)));
    ck_assert(isnan(mvk_expf(NAN)));
    ck_assert(mvk_silu(-1000.0f) == 0.0f);
    ck_assert(mvk_silu(1000.0f) == 1000.0f);
    for (double v = 1e-8; v < 1e8; v *= 1.37) {
        double rel = fabs(mvk_rsqrt(v) * sqrt(v) - 1.0);
        ck_assert_msg(rel < 1e-15, "mvk_rsqrt(%g) relative error %g", v, rel);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("scalar");
    tcase_add_test(tc, conv2d_matches_naive);
    tcase_add_test(tc, dwconv_matches_naive);
    tcase_add_test(tc, conv2d_cat_equals_conv_on_concat);
    tcase_add_test(tc, gemm_matches_naive);
    tcase_add_test(tc, layernorm_matches_naive);
    tcase_add_test(tc, attention_matches_naive);
    tcase_add_test(tc, unfold_fold_match_timm);
    tcase_add_test(tc, resized_unfold_fold_match_reference);
    tcase_add_test(tc, bilinear_taps_match_pytorch);
    tcase_add_test(tc, elementwise_and_pooling);
    tcase_add_test(tc, expf_and_rsqrt_accuracy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
