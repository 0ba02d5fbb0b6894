/* Every NEON kernel against its scalar twin on the same data, with sizes around the tiles:
 * M in {1, 5, 6, 7, 13}, N in {1, 7, 8, 15, 16, 17, 33}, channels not a multiple of 4 or 8,
 * attention N not a multiple of 6 or 16. F32 tolerance: 2e-6 relative to the output scale, as
 * for AVX2 (Winograd against the direct conv: 1e-5, its transforms' rounding). Activations (A, inputs, outputs, residuals, scratch) end right before an
 * inaccessible page, so a tail that reads or writes past its buffer faults; packed weights
 * are ordinary padded buffers. Cross-compiled for AArch64 and ARMv7 and run under qemu-user
 * by tests/cross_kernels.sh: Check is not in the ARM sysroots, hence the small harness. Each
 * failure prints the kernel, shape, index, expected and actual values; exit status 1. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codegen/pack.h"
#include "kernels/f32-attention-scalar.c"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "kernels/f32-gemm-scalar.c"
/* the NEON kernels in the order the emitter pastes them: the GEMM first, the others use it */
#include "kernels/f32-gemm-6x16-neon.c"
#include "remap_cases.h"

#include "kernels/f32-attention-neon.c"
#include "kernels/f32-conv2d-im2col-neon.c"
#include "kernels/f32-dwconv-neon.c"
#include "kernels/f32-conv3x3-winograd-neon.c"

#if defined(__aarch64__)
#define ARCH "aarch64"
#else
#define ARCH "armv7"
#endif

// ---- harness: comparisons, per-test error statistics, guarded buffers

static int checks, failed_checks;
static double max_err; /* largest |got - want| / scale of the current test */

static void expect_close_tol(const char *what, const float *got, const float *want, int64_t n,
                             double tol)
{
    double scale = 1.0, worst = 0.0;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (int64_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]) / scale;
        if (!(err <= tol)) { /* also catches NaN */
            bad++;
            first = first < 0 ? i : first;
        }
        worst = err > worst ? err : worst;
    }
    checks++;
    max_err = worst > max_err ? worst : max_err;
    if (bad) {
        failed_checks++;
        printf("FAIL %s: %lld of %lld values off; index %lld: scalar %.9g, neon %.9g\n", what,
               (long long)bad, (long long)n, (long long)first, (double)want[first],
               (double)got[first]);
    }
}

static void expect_close(const char *what, const float *got, const float *want, int64_t n)
{
    expect_close_tol(what, got, want, n, 2e-6);
}

static void expect_true(const char *what, int ok)
{
    checks++;
    if (!ok) {
        failed_checks++;
        printf("FAIL %s\n", what);
    }
}

static unsigned rng = 99;
static float frand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Every buffer of a case (a guarded mapping of len bytes, or a heap block if len is 0) lives
 * until release_all() at the end of the case. */
static struct {
    void *base;
    size_t len;
} maps[64];
static int nmaps;

static void track(void *base, size_t len, int64_t floats)
{
    if (!base || nmaps == 64) {
        printf("FAIL: cannot allocate a buffer of %lld floats\n", (long long)floats);
        exit(1);
    }
    maps[nmaps].base = base, maps[nmaps].len = len, nmaps++;
}

/* n floats ending exactly where an inaccessible page begins */
static float *guarded(int64_t n)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    const size_t body = (bytes + page - 1) / page * page;
    char *base = mmap(0, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + body, page, PROT_NONE))
        base = 0;
    track(base, body + page, n);
    return (float *)(base + body - bytes);
}

static float *rvec(int64_t n)
{
    float *v = guarded(n);
    for (int64_t i = 0; i < n; i++)
        v[i] = frand();
    return v;
}

/* packed weights are padded by design: an ordinary 64-byte aligned buffer */
static float *aligned(int64_t n)
{
    float *p = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64 + 64));
    track(p, 0, n);
    return p;
}

static void release_all(void)
{
    for (int i = 0; i < nmaps; i++)
        if (maps[i].len)
            munmap(maps[i].base, maps[i].len);
        else
            free(maps[i].base);
    nmaps = 0;
}

static float *packed(const float *b, int k, int n)
{
    float *p = aligned(mvit_pack_b_panels(b, k, n, 16, NULL));
    mvit_pack_b_panels(b, k, n, 16, p);
    return p;
}

static float *padded(const float *v, int n, int to)
{
    float *p = aligned(n + to);
    mvit_pack_pad(v, n, to, p);
    return p;
}

// ---- GEMM

/* The microkernel alone, every mr <= 6 and nr <= 16, with C and the residual exactly
 * (mr - 1) * ld + nr floats (rows past mr and columns past nr would fault or change the
 * canaries between rows), and every A row its own guarded buffer of k floats. */
static void ukernel_case(int mr, int nr, int k, int accumulate, int act)
{
    const int ldc = nr + 3, ldr = nr + 1;
    const int64_t clen = (int64_t)(mr - 1) * ldc + nr;
    const float *rows[6];
    float *arow[6];
    for (int i = 0; i < 6; i++)
        arow[i] = rvec(k);
    for (int i = 0; i < 6; i++)
        rows[i] = arow[i < mr ? i : mr - 1];
    float *b = rvec(16 * (int64_t)k), *bias = rvec(16), *res = rvec((int64_t)(mr - 1) * ldr + nr);
    float *c = rvec(clen), *want = guarded(clen);
    for (int64_t i = 0; i < clen; i++)
        want[i] = c[i];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float s = accumulate ? c[i * ldc + j] : bias[j];
            for (int p = 0; p < k; p++)
                s += arow[i][p] * b[p * 16 + j];
            s += res[i * ldr + j];
            want[i * ldc + j] = act == MVK_ACT_SILU ? mvk_silu(s) : s;
        }
    mvk_f32_gemm_ukernel_6x16_rows__neon(mr, nr, k, rows, b, accumulate ? 0 : bias, c, ldc, res,
                                         ldr, act, accumulate);
    char what[96];
    snprintf(what, sizeof what, "gemm ukernel mr%d nr%d K%d accumulate%d act%d", mr, nr, k,
             accumulate, act);
    expect_close(what, c, want, clen); /* includes the canaries between rows */
    release_all();
}

static void test_gemm_ukernel(void)
{
    for (int mr = 1; mr <= 6; mr++)
        for (int nr = 1; nr <= 16; nr++)
            for (int k = 1; k <= 9; k += 8)
                ukernel_case(mr, nr, k, (mr + nr) % 2, (mr + k) % 2);
}

static void gemm_case(int m, int k, int n, int act, int with_res, int with_bias)
{
    float *a = rvec((int64_t)m * k), *w = rvec((int64_t)k * n), *b = rvec(n);
    float *res = rvec((int64_t)m * n), *want = rvec((int64_t)m * n), *got = rvec((int64_t)m * n);
    float *wp = packed(w, k, n), *bp = padded(b, n, 16);
    mvk_f32_gemm__scalar(a, want, w, with_bias ? b : 0, with_res ? res : 0, m, k, n, act);
    mvk_f32_gemm__neon(m, k, n, a, wp, with_bias ? bp : 0, got, with_res ? res : 0, act);
    char what[96];
    snprintf(what, sizeof what, "gemm rows M%d K%d N%d act%d res%d bias%d", m, k, n, act, with_res,
             with_bias);
    expect_close(what, got, want, (int64_t)m * n);
    /* the column-split form, in two halves as two tasks would run it */
    const int panels = (n + 15) / 16;
    for (int64_t i = 0; i < (int64_t)m * n; i++)
        got[i] = 0.0f;
    mvk_f32_gemm_cols__neon(0, panels / 2, m, k, n, a, wp, with_bias ? bp : 0, got,
                            with_res ? res : 0, act);
    mvk_f32_gemm_cols__neon(panels / 2, panels, m, k, n, a, wp, with_bias ? bp : 0, got,
                            with_res ? res : 0, act);
    snprintf(what, sizeof what, "gemm cols M%d K%d N%d act%d res%d bias%d", m, k, n, act, with_res,
             with_bias);
    expect_close(what, got, want, (int64_t)m * n);
    release_all();
}

static void test_gemm(void)
{
    const int ms[] = {1, 5, 6, 7, 13}, ns[] = {1, 7, 8, 15, 16, 17, 33}, ks[] = {1, 3, 17, 64};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 7; j++)
            for (int l = 0; l < 4; l++)
                gemm_case(ms[i], ks[l], ns[j], (i + j) % 2, j % 2, l != 1);
}

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
    mvk_f32_gemm_rows__neon(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 0.0f,
                            scratch);
    char what[128];
    snprintf(what, sizeof what, "gemm remap %d map %dx%d grid %dx%d patch %dx%d K%d N%d", c->kind,
             rm.mh, rm.mw, rm.gh, rm.gw, c->ph, c->pw, k, n);
    expect_close(what, got, want, m * n);
    /* the blocked driver builds a whole mc-row block of resized rows at once */
    float *bscratch = rvec((int64_t)16 * k), *s5 = rvec((int64_t)5 * k);
    mvk_f32_gemm_blocked_rows__neon(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 12,
                                    k > 4 ? k / 2 : k, 0.0f, bscratch);
    expect_close(what, got, want, m * n);
    /* a fused LayerNorm through the remap: each (source) row normalised, then blended */
    mvk_f32_gemm_norm__scalar(a, want, wt, b, 0, m, k, n, MVK_ACT_SILU, &rm, 1e-5f, s5);
    mvk_f32_gemm_rows__neon(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 1e-5f,
                            scratch);
    expect_close(what, got, want, m * n);
    mvk_f32_gemm_blocked_rows__neon(0, m, k, n, a, k, wp, bp, got, n, 0, n, MVK_ACT_SILU, &rm, 12,
                                    k > 4 ? k / 2 : k, 1e-5f, bscratch);
    expect_close(what, got, want, m * n);

    release_all();
}

static void test_gemm_remap(void)
{
    for (int i = 0; i < NUM_REMAP_CASES; i++)
        remap_case_run(&remap_cases[i]);
}

/* cache-blocked GEMM: partial sums across K blocks, bias first, residual + SiLU last */
static void blocked_case(int m, int k, int n, int mc, int kc)
{
    float *a = rvec((int64_t)m * k), *wt = rvec((int64_t)k * n), *b = rvec(n);
    float *res = rvec((int64_t)m * n), *want = rvec((int64_t)m * n), *got = rvec((int64_t)m * n);
    float *wp = packed(wt, k, n), *bp = padded(b, n, 16);
    char what[96];
    mvk_f32_gemm__scalar(a, want, wt, b, res, m, k, n, MVK_ACT_SILU);
    mvk_f32_gemm_blocked_rows__neon(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, mc,
                                    kc, 0.0f, 0);
    snprintf(what, sizeof what, "gemm blocked M%d K%d N%d mc%d kc%d", m, k, n, mc, kc);
    expect_close(what, got, want, (int64_t)m * n);
    /* fused LayerNorm, blocked (scratch mc * k) and unblocked (6 * k) */
    float *ns = rvec((int64_t)(mc > 6 ? mc : 6) * k), *s1 = rvec(k);
    mvk_f32_gemm_norm__scalar(a, want, wt, b, res, m, k, n, MVK_ACT_SILU, 0, 1e-5f, s1);
    mvk_f32_gemm_blocked_rows__neon(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, mc,
                                    kc, 1e-5f, ns);
    snprintf(what, sizeof what, "gemm blocked + layernorm M%d K%d N%d mc%d kc%d", m, k, n, mc, kc);
    expect_close(what, got, want, (int64_t)m * n);
    mvk_f32_gemm_rows__neon(0, m, k, n, a, k, wp, bp, got, n, res, n, MVK_ACT_SILU, 0, 1e-5f, ns);
    snprintf(what, sizeof what, "gemm rows + layernorm M%d K%d N%d", m, k, n);
    expect_close(what, got, want, (int64_t)m * n);
    release_all();
}

static void test_gemm_blocked(void)
{
    blocked_case(13, 100, 33, 6, 32);
    blocked_case(7, 17, 16, 12, 5);
    blocked_case(30, 64, 20, 18, 64);
    blocked_case(1, 9, 1, 6, 4);
    blocked_case(5, 3, 7, 6, 2);
}

// ---- convolutions

static void conv_case(int h, int w, int cin, int cout, int k, int stride, int act, int res_on)
{
    const int pad = ((stride - 1) + (k - 1)) / 2;
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const int kk = k * k * cin;
    const int64_t m = (int64_t)oh * ow;
    float *in = rvec((int64_t)h * w * cin), *wt = rvec((int64_t)kk * cout), *b = rvec(cout);
    float *res = rvec(m * cout), *want = rvec(m * cout), *got = rvec(m * cout);
    float *scratch = rvec(6 * (int64_t)kk), *wp = packed(wt, kk, cout), *bp = padded(b, cout, 16);
    mvk_f32_conv2d__scalar(in, want, wt, b, res_on ? res : 0, h, w, cin, oh, ow, cout, k, stride,
                           pad, 1, act);
    mvk_f32_conv2d_im2col__neon(in, got, wp, bp, res_on ? res : 0, h, w, cin, oh, ow, cout, k,
                                stride, pad, act, scratch);
    char what[96];
    snprintf(what, sizeof what, "conv2d im2col %dx%dx%d->%d k%d s%d", h, w, cin, cout, k, stride);
    expect_close(what, got, want, m * cout);
    release_all();
}

/* the fused concat: input channels gathered from two maps, unblocked and cache-blocked */
static void conv_cat_case(int h, int w, int ca, int cb, int cout)
{
    const int64_t m = (int64_t)h * w, kk = 9 * (int64_t)(ca + cb);
    float *xa = rvec(m * ca), *xb = rvec(m * cb), *wt = rvec(kk * cout), *b = rvec(cout);
    float *want = rvec(m * cout), *got = rvec(m * cout), *scratch = rvec(6 * kk);
    float *wp = packed(wt, (int)kk, cout), *bp = padded(b, cout, 16);
    char what[96];
    mvk_f32_conv2d_cat__scalar(xa, xb, want, wt, b, 0, h, w, ca, cb, h, w, cout, 3, 1, 1,
                               MVK_ACT_SILU);
    mvk_f32_conv2d_im2col_rows__neon(0, m, xa, xb, got, wp, bp, 0, h, w, ca, cb, w, cout, 3, 1, 1,
                                     MVK_ACT_SILU, scratch, 6, (int)kk);
    snprintf(what, sizeof what, "conv2d cat %dx%d %d+%d->%d unblocked", h, w, ca, cb, cout);
    expect_close(what, got, want, m * cout);
    /* K in blocks of 40 (not a multiple of C), rows in blocks of 12 */
    float *sb = rvec(12 * 40);
    mvk_f32_conv2d_im2col_rows__neon(0, m, xa, xb, got, wp, bp, 0, h, w, ca, cb, w, cout, 3, 1, 1,
                                     MVK_ACT_SILU, sb, 12, 40);
    snprintf(what, sizeof what, "conv2d cat %dx%d %d+%d->%d mc12 kc40", h, w, ca, cb, cout);
    expect_close(what, got, want, m * cout);
    release_all();
}

static void test_conv2d(void)
{
    conv_case(1, 1, 1, 1, 3, 1, 0, 0);
    conv_case(9, 7, 3, 16, 3, 2, 1, 0);  /* stem */
    conv_case(8, 8, 17, 9, 3, 1, 1, 1);  /* odd channels, residual */
    conv_case(5, 6, 20, 33, 3, 1, 1, 0); /* fusion-like, N past two panels */
    conv_case(7, 7, 4, 5, 5, 2, 0, 1);
    conv_cat_case(4, 4, 3, 5, 7);
    conv_cat_case(8, 6, 48, 48, 48); /* XXS fusion conv shape */
}

static void dw_case(int h, int w, int c, int k, int stride, int act, int res_on)
{
    const int pad = ((stride - 1) + (k - 1)) / 2;
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const int c8 = (c + 7) / 8 * 8;
    const int64_t m = (int64_t)oh * ow;
    float *in = rvec((int64_t)h * w * c), *wt = rvec((int64_t)k * k * c), *b = rvec(c);
    float *res = rvec(m * c), *want = rvec(m * c), *got = rvec(m * c);
    float *wp = aligned((int64_t)k * k * c8), *bp = padded(b, c, 8);
    for (int t = 0; t < k * k; t++)
        mvit_pack_pad(wt + t * c, c, 8, wp + t * c8);
    mvk_f32_dwconv__scalar(in, want, wt, b, res_on ? res : 0, h, w, c, oh, ow, k, stride, pad, act);
    mvk_f32_dwconv__neon(in, got, wp, bp, res_on ? res : 0, h, w, c, oh, ow, k, stride, pad, act);
    char what[96];
    snprintf(what, sizeof what, "dwconv %dx%dx%d k%d s%d act%d res%d", h, w, c, k, stride, act,
             res_on);
    expect_close(what, got, want, m * c);
    release_all();
}

static void test_dwconv(void)
{
    dw_case(1, 1, 1, 3, 1, 0, 0);
    dw_case(7, 9, 5, 3, 2, 1, 0);
    dw_case(8, 8, 32, 3, 1, 1, 1);
    dw_case(6, 5, 33, 3, 2, 0, 1);
    dw_case(5, 5, 12, 5, 1, 1, 0);
    dw_case(9, 11, 24, 3, 1, 1, 1); /* 3x3 fast path: interior and borders, all full blocks */
    dw_case(10, 9, 40, 3, 2, 1, 0);
    /* quads of interior outputs: wide rows, channel tails (20 = 16 + 4, 7, 3), stride 1, 2 */
    dw_case(5, 14, 20, 3, 1, 1, 1);
    dw_case(6, 21, 16, 3, 2, 1, 1);
    dw_case(7, 26, 44, 3, 2, 0, 0);
    dw_case(4, 2, 8, 3, 1, 1, 0);
    dw_case(6, 13, 7, 3, 1, 1, 1);
    dw_case(5, 17, 3, 3, 2, 0, 1);
}

/* Winograd F(4x4, 3x3) against the direct conv: tolerance 1e-5 relative to the output scale
 * (the transforms' own rounding), as for AVX2. The scratch is exactly the documented size and
 * guarded, and filled with noise (the kernel must not read what it did not write). */
static void winograd_case(int h, int w, int ca, int cb, int cout, int act, int res_on)
{
    const int64_t m = (int64_t)h * w, ci = ca + cb;
    float *xa = rvec(m * ca), *xb = cb ? rvec(m * cb) : 0, *wt = rvec(9 * ci * cout);
    float *b = rvec(cout), *res = rvec(m * cout), *want = rvec(m * cout), *got = rvec(m * cout);
    float *u = aligned(36 * ci * cout);
    mvit_winograd_f43_weights(wt, (int)ci, cout, u);
    const int64_t plen = mvit_pack_b_panels(u, (int)ci, cout, 16, NULL);
    float *up = aligned(36 * plen), *bp = padded(b, cout, 16);
    for (int xi = 0; xi < 36; xi++)
        mvit_pack_b_panels(u + xi * ci * cout, (int)ci, cout, 16, up + xi * plen);
    float *scratch = rvec(mvk_f32_conv3x3_winograd_scratch__neon((int)ci));
    expect_true("winograd scratch = 36 * 12 * (ci + 16) floats (the code generator's)",
                mvk_f32_conv3x3_winograd_scratch__neon((int)ci) == 36 * 12 * (ci + 16));
    mvk_f32_conv2d_cat__scalar(xa, xb, want, wt, b, res_on ? res : 0, h, w, ca, cb, h, w, cout, 3,
                               1, 1, act);
    mvk_f32_conv3x3_winograd__neon(xa, xb, got, up, bp, res_on ? res : 0, h, w, ca, cb, cout, act,
                                   scratch);
    char what[96];
    snprintf(what, sizeof what, "winograd %dx%d %d+%d->%d act%d res%d", h, w, ca, cb, cout, act,
             res_on);
    expect_close_tol(what, got, want, m * cout, 1e-5);
    /* the parallel split: tile blocks in two ranges, as two tasks would run them (one scratch
     * each), into a fresh output */
    const int64_t blocks = ((int64_t)((w + 3) / 4) * ((h + 3) / 4) + 11) / 12;
    float *got2 = rvec(m * cout), *scratch2 = rvec(mvk_f32_conv3x3_winograd_scratch__neon((int)ci));
    mvk_f32_conv3x3_winograd_rows__neon(0, blocks / 2, xa, xb, got2, up, bp, res_on ? res : 0, h,
                                        w, ca, cb, cout, act, scratch);
    mvk_f32_conv3x3_winograd_rows__neon(blocks / 2, blocks, xa, xb, got2, up, bp,
                                        res_on ? res : 0, h, w, ca, cb, cout, act, scratch2);
    snprintf(what, sizeof what, "winograd rows split %dx%d %d+%d->%d", h, w, ca, cb, cout);
    expect_close_tol(what, got2, want, m * cout, 1e-5);
    release_all();
}

static void test_winograd(void)
{
    /* the AVX2 test's shapes */
    winograd_case(1, 1, 1, 0, 1, 0, 0);
    winograd_case(5, 7, 3, 0, 9, 1, 0);    /* maps not a multiple of 4, one panel */
    winograd_case(8, 8, 16, 0, 16, 1, 1);  /* residual + SiLU */
    winograd_case(6, 10, 20, 0, 33, 1, 0); /* three panels, the last of one column */
    winograd_case(20, 17, 8, 0, 16, 0, 1); /* 25 tiles: blocks of 12, 12 and 1 */
    winograd_case(9, 5, 13, 11, 17, 1, 0); /* concat with channel tails on both sides */
    winograd_case(8, 8, 48, 48, 48, 1, 0); /* XXS fusion conv shape */
    /* channel counts not a multiple of 4, in and out */
    winograd_case(7, 9, 5, 0, 6, 1, 1);     /* 1-lane input tail, 2-lane output tail */
    winograd_case(13, 11, 10, 0, 7, 0, 1);  /* 12 tiles: one full block */
    winograd_case(12, 15, 2, 3, 19, 1, 1);  /* concat 2 + 3, 3-lane tail of a 2nd panel */
    winograd_case(17, 18, 6, 7, 35, 1, 0);  /* 25 tiles, three panels, 3-lane last panel */
    winograd_case(4, 26, 9, 1, 10, 1, 1);   /* one tile row of 7, concat of one channel */
    winograd_case(26, 3, 1, 6, 3, 0, 0);    /* one tile column, cout below one vector */
    winograd_case(16, 16, 24, 0, 14, 1, 1); /* 16 tiles: blocks of 12 and 4 */
}

// ---- attention, exp, SiLU

static void attention_case(int p, int n, int heads, int hd)
{
    const int d = heads * hd;
    const int64_t len = (int64_t)p * n * d;
    float *qkv = rvec(3 * len);
    for (int64_t i = 0; i < 3 * len; i++)
        qkv[i] *= 3.0f;
    float *want = rvec(len), *got = rvec(len), *s1 = rvec(n);
    float *s2 = rvec(mvk_f32_attention_scratch__neon(n, hd));
    const float scale = (float)(1.0 / sqrt(hd));
    mvk_f32_attention__scalar(qkv, want, s1, p, n, d, heads, scale);
    mvk_f32_attention__neon(qkv, got, s2, p, n, d, heads, scale);
    char what[64];
    snprintf(what, sizeof what, "attention P%d N%d heads%d hd%d", p, n, heads, hd);
    expect_close(what, got, want, len);
    release_all();
}

static void test_attention(void)
{
    attention_case(1, 1, 1, 1);
    attention_case(4, 16, 4, 16); /* XXS 64x64 stage 3 */
    attention_case(4, 4, 4, 20);
    attention_case(2, 37, 4, 24); /* N past two key panels, not a multiple of 6 */
    attention_case(1, 64, 4, 36); /* S: hd 36 spans three V panels */
    attention_case(1, 7, 3, 60);
    attention_case(3, 5, 2, 3);
}

static void test_exp_silu(void)
{
    enum { N = 4096 };
    static float xs[N], got[N], sil[N], want_e[N], want_s[N];
    for (int i = 0; i < N; i++)
        xs[i] = -90.0f + 180.0f * (float)i / (N - 1);
    for (int i = 0; i < N; i += 4) {
        vst1q_f32(got + i, mvk_neon_exp(vld1q_f32(xs + i)));
        vst1q_f32(sil + i, mvk_neon_silu(vld1q_f32(xs + i)));
    }
    int exp_ok = 1, first = -1;
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        want_s[i] = mvk_silu(xs[i]);
        want_e[i] = mvk_expf(xs[i]);
        if (xs[i] > -87.0f && xs[i] <= 88.0f) { /* the documented range; outside it saturates */
            const double err = fabs((double)got[i] - want_e[i]) / want_e[i];
            worst = err > worst ? err : worst;
            if (!(err <= 4e-7) && first < 0)
                exp_ok = 0, first = i;
        }
    }
    char what[96];
    snprintf(what, sizeof what, "exp: max relative error %.3g (tolerance 4e-7)%s", worst,
             exp_ok ? "" : ", first failure at");
    expect_true(what, exp_ok);
    if (!exp_ok)
        printf("  exp(%.9g): scalar %.9g, neon %.9g\n", xs[first], want_e[first], got[first]);
    int silu_ok = 1;
    for (int i = 0; i < N; i++)
        if (!(fabsf(sil[i] - want_s[i]) <= 1e-6f * (1.0f + fabsf(xs[i])))) {
            printf("  silu(%.9g): scalar %.9g, neon %.9g\n", xs[i], want_s[i], sil[i]);
            silu_ok = 0;
            break;
        }
    expect_true("silu within 1e-6 * (1 + |x|)", silu_ok);
    max_err = worst > max_err ? worst : max_err;
    /* the tail helpers: n lanes loaded and stored, nothing else touched */
    float *buf = guarded(3), out[4] = {9, 9, 9, 9};
    buf[0] = 1, buf[1] = 2, buf[2] = 3;
    mvk_neon_store_n(out, mvk_neon_load4(buf, 3), 3);
    expect_true("load4/store_n of 3 lanes",
                out[0] == 1 && out[1] == 2 && out[2] == 3 && out[3] == 9);
    release_all();
}

/* mvk_idiv, which replaces `/` on ARMv7, near powers of two and at the int32 extremes */
static void test_div(void)
{
    static const int as[] = {0,          1,         2,   3,    5,     7,     15,      16,
                             17,         255,       256, 4095, 65535, 65536, 1 << 24, (1 << 24) + 1,
                             2147483646, 2147483647};
    int ok = 1;
    for (size_t i = 0; i < sizeof as / sizeof *as; i++)
        for (size_t j = 0; j < sizeof as / sizeof *as; j++) {
            const int a = as[i], b = as[j] ? as[j] : 1;
            for (int da = 0; da < 3 && a - da >= 0; da++)
                if (mvk_idiv(a - da, b) != (a - da) / b) {
                    printf("  mvk_idiv(%d, %d) = %d, want %d\n", a - da, b,
                           mvk_idiv(a - da, b), (a - da) / b);
                    ok = 0;
                }
        }
    for (int a = 0; a < 3000; a++)
        for (int b = 1; b < 70; b++)
            ok &= mvk_idiv(a, b) == a / b;
    expect_true("mvk_idiv matches integer division", ok);
}

// ----

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    {"gemm_ukernel_tails", test_gemm_ukernel},
    {"gemm_6x16_matches_scalar", test_gemm},
    {"gemm_remap_matches_scalar", test_gemm_remap},
    {"gemm_blocked_matches_scalar", test_gemm_blocked},
    {"conv2d_im2col_matches_scalar", test_conv2d},
    {"dwconv_matches_scalar", test_dwconv},
    {"winograd_matches_scalar", test_winograd},
    {"attention_matches_scalar", test_attention},
    {"exp_and_silu_match_scalar", test_exp_silu},
    {"div_matches_integer_division", test_div},
};

static const char *current_test = "";

/* A guard page hit: name the test instead of dying silently under qemu. */
static void on_fault(int sig)
{
    printf("FAIL %s (%s): out-of-bounds access (signal %d)\n", current_test, ARCH, sig);
    fflush(stdout);
    _exit(1);
}

int main(void)
{
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    int passed = 0, failed = 0;
    for (size_t t = 0; t < sizeof tests / sizeof *tests; t++) {
        const int c0 = checks, f0 = failed_checks;
        current_test = tests[t].name;
        max_err = 0.0;
        tests[t].run();
        const int ok = failed_checks == f0;
        printf("%s %s (%s): %d comparisons, max error %.3g\n", ok ? "PASS" : "FAIL", tests[t].name,
               ARCH, checks - c0, max_err);
        passed += ok, failed += !ok;
    }
    printf("test_kernels_neon (%s): %d comparisons, %d failed\n", ARCH, checks, failed_checks);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
