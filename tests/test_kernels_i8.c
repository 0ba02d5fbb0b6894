/* INT8 scalar kernels (docs/int8.md) against independent references, zero tolerance: R() on
 * hand-computed corner cases (ties, S = 1 and 62, M = 2^31 - 1, extreme accumulators,
 * saturation) and on random inputs against an independent floor division; the residual add;
 * the GEMM against a direct evaluation; the integer unfold/fold, LayerNorm and attention
 * against float within the bounds docs/int8.md states. The SIMD int8 kernels are checked
 * against these scalar twins by tests/kernel_check.c (tests/kernel_cases.h). Asserts inside
 * loops go through CHECK(), which calls Check only on a failure (a passing ck_assert writes
 * to Check's pipe: millions of them took most of this test's time). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/i8-scalar.c"
#include "kernels/i8-groupnorm-scalar.c"
#include "kernels/i8-linear-attention-scalar.c"
#include "kernels/i8-resize-scalar.c"
#include "kernels/f32-resize-scalar.c"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static int rint_in(int lo, int hi)
{
    return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1));
}

#include "i8_cases.h"
#include "kernels/f32-remap-scalar.c"
#include "remap_cases.h"

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond))                                                                           \
            ck_assert_msg(cond, __VA_ARGS__);                                                  \
    } while (0)

/* floor((a*M + 2^(S-1)) / 2^S) by signed division with an explicit floor, saturated */
static int32_t r_ref(int32_t a, int32_t m, int s)
{
    const int64_t v = (int64_t)a * m + ((int64_t)1 << (s - 1)), d = (int64_t)1 << s;
    int64_t q = v / d;
    if (v % d != 0 && v < 0)
        q--;
    return q > INT32_MAX ? INT32_MAX : q < INT32_MIN ? INT32_MIN : (int32_t)q;
}

START_TEST(requant_corner_cases)
{
    const int32_t h = 1 << 30, mx = INT32_MAX;
    /* m = 2^30 * 2^-31 = 1/2: ties round half up */
    ck_assert_int_eq(mvk_requant_scalar(-5, h, 31), -2); /* -2.5 */
    ck_assert_int_eq(mvk_requant_scalar(5, h, 31), 3);   /* 2.5 */
    ck_assert_int_eq(mvk_requant_scalar(-3, h, 31), -1); /* -1.5 */
    ck_assert_int_eq(mvk_requant_scalar(3, h, 31), 2);   /* 1.5 */
    ck_assert_int_eq(mvk_requant_scalar(-1, h, 31), 0);  /* -0.5 */
    ck_assert_int_eq(mvk_requant_scalar(1, h, 31), 1);   /* 0.5 */
    ck_assert_int_eq(mvk_requant_scalar(0, h, 31), 0);
    /* m = 3/4: -1.5 -> -1, -0.75 -> -1, 0.75 -> 1 */
    ck_assert_int_eq(mvk_requant_scalar(-2, 3 << 29, 31), -1);
    ck_assert_int_eq(mvk_requant_scalar(-1, 3 << 29, 31), -1);
    ck_assert_int_eq(mvk_requant_scalar(1, 3 << 29, 31), 1);
    /* S = 1: (a*M + 1) >> 1 */
    ck_assert_int_eq(mvk_requant_scalar(3, h, 1), 3 << 29);
    ck_assert_int_eq(mvk_requant_scalar(-1, h + 1, 1), -(1 << 29));   /* -2^29 - 0.5 */
    ck_assert_int_eq(mvk_requant_scalar(1, h + 1, 1), (1 << 29) + 1); /* 2^29 + 0.5 */
    ck_assert_int_eq(mvk_requant_scalar(-3, h, 1), -(3 << 29));
    /* S = 1 beyond the int32 range: saturated */
    ck_assert_int_eq(mvk_requant_scalar(mx, mx, 1), INT32_MAX);
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN + 1, mx, 1), INT32_MIN);
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN, mx, 1), INT32_MIN);
    ck_assert_int_eq(mvk_requant_scalar(4, h, 1), INT32_MAX);  /* exactly 2^31 */
    ck_assert_int_eq(mvk_requant_scalar(-4, h, 1), INT32_MIN); /* exactly -2^31 */
    ck_assert_int_eq(mvk_requant_scalar(-4, h, 2), -(1 << 30));
    /* S = 62, M = 2^31 - 1: (2^31-1)^2 = 2^62 - 2^32 + 1, i.e. 1 - 2^-30 + 2^-62 */
    ck_assert_int_eq(mvk_requant_scalar(mx, mx, 62), 1);
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN + 1, mx, 62), -1);
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN, mx, 62), -1); /* -1 - 2^-31 + ... */
    ck_assert_int_eq(mvk_requant_scalar(mx, h, 62), 0);          /* 0.5 - 2^-31 */
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN, h, 62), 0);   /* exactly -0.5: tie, up */
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN + 1, h, 62), 0);
    ck_assert_int_eq(mvk_requant_scalar(1, mx, 62), 0);
    ck_assert_int_eq(mvk_requant_scalar(-1, mx, 62), 0);
    /* S = 31, M = 2^31 - 1 (m just below 1) */
    ck_assert_int_eq(mvk_requant_scalar(1, mx, 31), 1);
    ck_assert_int_eq(mvk_requant_scalar(-1, mx, 31), -1);
    ck_assert_int_eq(mvk_requant_scalar(mx, mx, 31), mx - 1); /* 2^31 - 2 + 2^-31 */
    ck_assert_int_eq(mvk_requant_scalar(INT32_MIN + 1, mx, 31), INT32_MIN + 2);
    /* y = clamp(z + R) */
    ck_assert_int_eq(mvk_requant_i8_scalar(100, h, 30, 100), 127); /* 200 */
    ck_assert_int_eq(mvk_requant_i8_scalar(27, h, 30, 100), 127);  /* exactly 127 */
    ck_assert_int_eq(mvk_requant_i8_scalar(-100, h, 30, -100), -128);
    ck_assert_int_eq(mvk_requant_i8_scalar(-28, h, 30, -100), -128); /* exactly -128 */
    ck_assert_int_eq(mvk_requant_i8_scalar(-27, h, 30, -100), -127);
    ck_assert_int_eq(mvk_requant_i8_scalar(mx, mx, 1, -128), 127); /* saturated R */
    ck_assert_int_eq(mvk_requant_i8_scalar(INT32_MIN, mx, 1, 127), -128);
    ck_assert_int_eq(mvk_requant_i8_scalar(-5, h, 31, 0), -2);
    ck_assert_int_eq(mvk_requant_i8_scalar(5, h, 31, -3), 0);
}
END_TEST

START_TEST(requant_random_vs_floor_division)
{
    for (int i = 0; i < 200000; i++) {
        const int s = i < 100000 ? rint_in(1, 62) : rint_in(20, 40);
        const int32_t m = (int32_t)((1u << 30) | (rnd32() & 0x3fffffffu));
        int32_t a = (int32_t)rnd32();
        if (i % 4 == 1)
            a >>= rint_in(0, 31);
        if (i % 97 == 0)
            a = i % 2 ? INT32_MIN : INT32_MAX;
        CHECK(mvk_requant_scalar(a, m, s) == r_ref(a, m, s), "R(%d, %d, %d): %d vs %d", a,
                      m, s, mvk_requant_scalar(a, m, s), r_ref(a, m, s));
    }
}
END_TEST

START_TEST(add_scalar)
{
    const int32_t h = 1 << 30;
    int8_t a[6] = {3, -3, 127, -128, 1, -1}, b[6] = {3, -3, 127, -128, 0, 0}, y[6];
    /* both m = 1/2 (S = 31), zero points 0: y = zy + R(a/2) + R(b/2) */
    const mvk_i8_add half = {.za = 0, .ma = h, .zb = 0, .mb = h, .shift = 31, .zy = 5};
    mvk_i8_add__scalar(&half, a, b, y, 6);
    const int8_t want1[6] = {5 + 2 + 2, 5 - 1 - 1, 127, 5 - 64 - 64, 5 + 1, 5 + 0};
    ck_assert_mem_eq(y, want1, 6);
    /* m = 2 - 2^-30 (S = 30), saturation both ways; zero points shift the inputs */
    const mvk_i8_add big = {.za = 1, .ma = INT32_MAX, .zb = -2, .mb = INT32_MAX, .shift = 30};
    mvk_i8_add__scalar(&big, a, b, y, 6);
    /* a - 1 = 2, b + 2 = 5: R(2) = 4 - 2^-29 -> 4, R(5) = 10 - ... -> 10 */
    ck_assert_int_eq(y[0], 14);
    ck_assert_int_eq(y[2], 127);
    ck_assert_int_eq(y[3], -128);
    /* in place, random, against int64 arithmetic */
    int8_t x[4096], z[4096], w[4096];
    for (int i = 0; i < 4096; i++)
        x[i] = (int8_t)rnd32(), z[i] = (int8_t)rnd32();
    for (int t = 0; t < 50; t++) {
        const int s = rint_in(24, 40), za = rint_in(-128, 127), zb = rint_in(-128, 127);
        const int zy = rint_in(-128, 127);
        const int32_t ma = (int32_t)((1u << 30) | (rnd32() & 0x3fffffffu));
        const int32_t mb = (int32_t)((1u << 30) | (rnd32() & 0x3fffffffu));
        memcpy(w, x, sizeof w);
        const mvk_i8_add p = {.za = za, .ma = ma, .zb = zb, .mb = mb, .shift = s, .zy = zy};
        mvk_i8_add__scalar(&p, w, z, w, 4096);
        for (int i = 0; i < 4096; i++) {
            const int64_t v =
                (int64_t)zy + r_ref(x[i] - za, ma, s) + (int64_t)r_ref(z[i] - zb, mb, s);
            CHECK(w[i] == (v < -128 ? -128 : v > 127 ? 127 : v), "[%d]: %d vs %lld", i, w[i],
                  (long long)v);
        }
    }
}
END_TEST

START_TEST(gemm_scalar_direct)
{
    /* the GEMM against R applied by hand, on a few cases */
    const int ms[] = {1, 7}, ks[] = {1, 17, 1728}, ns[] = {1, 33};
    int ties = 0;
    for (int mi = 0; mi < 2; mi++)
        for (int ki = 0; ki < 3; ki++)
            for (int ni = 0; ni < 2; ni++)
                for (int mode = 0; mode < MODES; mode++) {
                    const int use_bias = mode & 1, use_lut = mode >> 1 & 1;
                    const int64_t m = ms[mi];
                    const int k = ks[ki], n = ns[ni];
                    i8_case c = {m, k, n, mode, malloc((size_t)(m * k)), malloc((size_t)k * n),
                                 malloc(256), malloc(4 * (size_t)n), 0, malloc(2 * (size_t)n),
                                 malloc((size_t)n)};
                    i8_case_fill(&c);
                    int8_t *out = malloc((size_t)(c.m * c.n));
                    const mvk_gemm p = {.m = c.m, .k = c.k, .n = c.n};
                    const mvk_i8_requant rq = {.bias = use_bias ? c.bias : 0, .mult = c.mult,
                                               .shift = c.shift, .zy = c.zy,
                                               .lut = use_lut ? c.lut : 0};
                    mvk_i8_gemm__scalar(c.m, &p, &rq, c.a, out, c.b);
                    for (int64_t i = 0; i < c.m; i++)
                        for (int j = 0; j < c.n; j++) {
                            int64_t acc = use_bias ? c.bias[j] : 0;
                            for (int p = 0; p < c.k; p++)
                                acc += c.a[i * c.k + p] * c.b[(int64_t)p * c.n + j];
                            CHECK(acc >= INT32_MIN && acc <= INT32_MAX, "acc %lld",
                                  (long long)acc);
                            const int64_t frac =
                                (acc * c.mult[j]) & (((int64_t)1 << c.shift[j]) - 1);
                            ties += frac == (int64_t)1 << (c.shift[j] - 1);
                            int64_t y = (int64_t)c.zy + r_ref((int32_t)acc, c.mult[j], c.shift[j]);
                            y = y < -128 ? -128 : y > 127 ? 127 : y;
                            if (use_lut)
                                y = c.lut[y + 128];
                            CHECK(out[i * c.n + j] == y,
                                          "m%lld k%d n%d mode%d i%lld j%d acc %lld M %d S %d zy "
                                          "%d: %d vs %lld",
                                          (long long)c.m, c.k, c.n, mode, (long long)i, j,
                                          (long long)acc, c.mult[j], c.shift[j], c.zy,
                                          out[i * c.n + j], (long long)y);
                        }
                    free(out);
                    free(c.a), free(c.b), free(c.lut), free(c.bias), free(c.mult),
                        free(c.shift);
                }
    ck_assert_int_gt(ties, 50); /* MODE_TIES does produce exact ties */
    printf("gemm_scalar_direct: %d exact ties\n", ties);
}
END_TEST

/* ---- integer helpers and the transformer kernels, against float (docs/int8.md states the
 * bounds asserted here) */

/* The integer unfold/fold against the float one on the same values: the Q11 weights and the
 * final rounding keep every byte within 0.5 + 2 * 2^-12 * 255 of the exact blend (docs/int8.md),
 * and an unresized remap copies exactly. */
START_TEST(remap_vs_float)
{
    unsigned seed = 99;
    for (int t = 0; t < NUM_REMAP_CASES; t++) {
        const remap_case *rc = &remap_cases[t];
        mvk_remap rm;
        mvk_lerp ty[64], tx[64];
        const int c = rc->k;
        const int64_t rows_in = remap_case_make(rc, &rm, ty, tx), rows_out = mvk_remap_rows(&rm);
        int8_t *x = malloc((size_t)(rows_in * c)), *y = malloc((size_t)(rows_out * c));
        float *xf = malloc(sizeof(float) * (size_t)(rows_in * c));
        float *yf = malloc(sizeof(float) * (size_t)(rows_out * c));
        for (int64_t i = 0; i < rows_in * c; i++) {
            seed = seed * 1103515245u + 12345u;
            x[i] = (int8_t)((seed >> 16) & 0xff);
            xf[i] = x[i];
        }
        mvk_i8_remap__scalar(x, y, c, &rm);
        mvk_f32_remap__scalar(xf, yf, c, &rm);
        const double tol = rm.ty ? 0.5 + 2.0 * 255.0 / 4096.0 : 0.0;
        for (int64_t i = 0; i < rows_out * c; i++)
            CHECK(fabs(y[i] - (double)yf[i]) <= tol,
                          "remap case %d [%lld]: int8 %d, float %.4f (map %dx%d grid %dx%d)", t,
                          (long long)i, y[i], (double)yf[i], rm.mh, rm.mw, rm.gh, rm.gw);
        free(x), free(y), free(xf), free(yf);
    }
}
END_TEST

START_TEST(isqrt_and_udiv_exact)
{
    for (int i = 0; i < 20000; i++) {
        uint64_t v = ((uint64_t)rnd32() << 32 | rnd32()) >> (rnd32() % 64);
        if (i < 64)
            v = (uint64_t)i;
        const uint64_t r = mvk_isqrt_u64(v);
        CHECK(r * r <= v, "isqrt(%llu) = %llu", (unsigned long long)v, (unsigned long long)r);
        CHECK((r + 1) * (r + 1) > v || r == 0xffffffffull, "isqrt(%llu) = %llu",
              (unsigned long long)v, (unsigned long long)r);
        const uint64_t b = (rnd32() >> (rnd32() % 32)) + 1;
        CHECK(mvk_udiv_u64(v, b) == v / b, "udiv(%llu, %llu)", (unsigned long long)v,
              (unsigned long long)b);
    }
}
END_TEST

START_TEST(quantize_thresholds)
{
    /* thresholds of scale 0.05, zero point 3: q = clamp(round(x / s) + z) away from ties */
    const double sc = 0.05;
    const int z = 3;
    float t[255];
    for (int k = 0; k < 255; k++)
        t[k] = (float)(sc * ((-128 + k) - z + 0.5));
    for (int i = 0; i < 20000; i++) {
        const float x = (float)((rint_in(-100000, 100000)) / 8000.0);
        int8_t q;
        mvk_i8_quantize__scalar(&x, &q, t, 1);
        double want = floor(x / sc + 0.5) + z;
        want = want < -128 ? -128 : want > 127 ? 127 : want;
        const double frac = x / sc - floor(x / sc);
        if (fabs(frac - 0.5) > 1e-4) /* not a tie */
            CHECK(q == (int)want, "x %g: %d vs %g", (double)x, q, want);
    }
    const float nan = __builtin_nanf("");
    int8_t q;
    mvk_i8_quantize__scalar(&nan, &q, t, 1);
    ck_assert_int_eq(q, -128);
}
END_TEST

/* LayerNorm: the integer kernel within 1 output step of the float formula, rounded. */
START_TEST(layernorm_vs_float)
{
    for (int trial = 0; trial < 300; trial++) {
        const int c = rint_in(2, 200);
        const double sx = 0.01 + rint_in(0, 100) / 1000.0, sy = 0.02 + rint_in(0, 100) / 2000.0;
        const int zy = rint_in(-20, 20);
        const double eps = 1e-5;
        int8_t x[200], y[200];
        int32_t g[200];
        int32_t b[200];
        double gam[200], bet[200];
        const int spread = rint_in(0, 127);
        for (int i = 0; i < c; i++) {
            x[i] = (int8_t)rint_in(-spread - 1, spread);
            gam[i] = rint_in(-2000, 2000) / 1000.0;
            bet[i] = rint_in(-500, 500) / 1000.0;
            g[i] = (int32_t)nearbyint(gam[i] / sy * 65536.0);
            b[i] = (int32_t)nearbyint(bet[i] / sy * 65536.0);
        }
        const int64_t eps_q = (int64_t)nearbyint((double)c * c * eps / (sx * sx));
        const mvk_layernorm p = {.c = c, .gamma_q = g, .beta_q = b, .per_channel = 1,
                                 .eps_q = eps_q, .zy = zy};
        mvk_i8_layernorm__scalar(&p, x, y, 0, 1);
        double mean = 0, var = 0;
        for (int i = 0; i < c; i++)
            mean += sx * x[i];
        mean /= c;
        for (int i = 0; i < c; i++)
            var += (sx * x[i] - mean) * (sx * x[i] - mean);
        var /= c;
        for (int i = 0; i < c; i++) {
            const double v = (sx * x[i] - mean) / sqrt(var + eps) * gam[i] + bet[i];
            double want = nearbyint(v / sy) + zy;
            want = want < -128 ? -128 : want > 127 ? 127 : want;
            CHECK(fabs(y[i] - want) <= 1, "c=%d i=%d got %d want %g", c, i, y[i], want);
        }
    }
}
END_TEST

/* Attention: the integer softmax path within 2 output steps of float attention on the same
 * dequantised qkv (Q15 probabilities, Q8 exponents: about 0.3 % relative error each). */
START_TEST(attention_vs_float)
{
    for (int trial = 0; trial < 60; trial++) {
        const int heads = rint_in(1, 4), hd = rint_in(1, 24), n = rint_in(1, 40), p = rint_in(1, 3);
        const int d = heads * hd;
        const double sx = 0.02 + rint_in(0, 100) / 1000.0;
        const int z = rint_in(-10, 10), zy = rint_in(-10, 10);
        int8_t *qkv = malloc((size_t)p * n * 3 * d), *y = malloc((size_t)p * n * d);
        int32_t *scores = malloc((size_t)n * 8 + (size_t)hd * n * 4), lut[256];
        double *row = malloc((size_t)n * sizeof *row);
        for (int i = 0; i < p * n * 3 * d; i++)
            qkv[i] = (int8_t)rint_in(-128, 127);
        /* the output scale: large enough for any convex combination of v */
        const double sy = sx * 256.0 / 255.0;
        for (int f = 0; f < 256; f++)
            lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
        int32_t s_sm, s_o;
        const int32_t m_sm = mult_of(sx * sx / log(2.0) / sqrt((double)hd) * 256.0, &s_sm);
        const int32_t m_o = mult_of(sx / (32768.0 * sy), &s_o);
        const mvk_attention pa = {.positions = p, .tokens = n, .dim = d, .heads = heads,
                                  .exp2_lut = lut, .zx = z, .m_sm = m_sm, .s_sm = s_sm,
                                  .m_o = m_o, .s_o = s_o, .zy = zy};
        mvk_i8_attention__scalar(&pa, qkv, y, scores, 0, (int64_t)p * heads);
        for (int pi = 0; pi < p; pi++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++) {
                    const int8_t *base = qkv + (int64_t)pi * n * 3 * d;
                    double mx = -1e300, sum = 0;
                    for (int j = 0; j < n; j++) {
                        double a = 0;
                        for (int t = 0; t < hd; t++)
                            a += sx * (base[i * 3 * d + h * hd + t] - z) * sx *
                                 (base[j * 3 * d + d + h * hd + t] - z);
                        row[j] = a / sqrt((double)hd);
                        mx = fmax(mx, row[j]);
                    }
                    for (int j = 0; j < n; j++)
                        sum += row[j] = exp(row[j] - mx);
                    for (int t = 0; t < hd; t++) {
                        double o = 0;
                        for (int j = 0; j < n; j++)
                            o += row[j] / sum * sx * (base[j * 3 * d + 2 * d + h * hd + t] - z);
                        double want = nearbyint(o / sy) + zy;
                        want = want < -128 ? -128 : want > 127 ? 127 : want;
                        const int got = y[((int64_t)pi * n + i) * d + h * hd + t];
                        CHECK(fabs(got - want) <= 2, "n=%d hd=%d got %d want %g", n, hd,
                                      got, want);
                    }
                }
        free(qkv), free(y), free(scores), free(row);
    }
}
END_TEST

/* GroupNorm: the integer kernel within 1 output step of the float formula on the dequantised
 * map (whole-map statistics, per-channel affine), rounded. */
START_TEST(groupnorm_vs_float)
{
    for (int trial = 0; trial < 60; trial++) {
        const int pixels = rint_in(1, 300), c = rint_in(1, 40), count = pixels * c;
        const double sx = 0.01 + rint_in(0, 100) / 1000.0, sy = 0.02 + rint_in(0, 100) / 2000.0;
        const int zy = rint_in(-20, 20), spread = rint_in(0, 127);
        const double eps = 1e-5;
        int8_t *x = malloc((size_t)count), *y = malloc((size_t)count);
        int32_t g[40], b[40];
        double gam[40], bet[40], mean = 0, var = 0;
        for (int i = 0; i < count; i++)
            x[i] = (int8_t)rint_in(-spread - 1, spread);
        for (int ch = 0; ch < c; ch++) {
            gam[ch] = rint_in(-2000, 2000) / 1000.0, bet[ch] = rint_in(-500, 500) / 1000.0;
            g[ch] = (int32_t)nearbyint(gam[ch] / sy * 65536.0);
            b[ch] = (int32_t)nearbyint(bet[ch] / sy * 65536.0);
        }
        const mvk_layernorm p = {.c = c, .gamma_q = g, .beta_q = b, .per_channel = 1,
                                 .eps_q = (int64_t)nearbyint((double)count * count * eps /
                                                             (sx * sx)),
                                 .zy = zy};
        mvk_i8_groupnorm__scalar(&p, x, y, pixels);
        for (int i = 0; i < count; i++)
            mean += sx * x[i];
        mean /= count;
        for (int i = 0; i < count; i++)
            var += (sx * x[i] - mean) * (sx * x[i] - mean);
        var /= count;
        for (int i = 0; i < count; i++) {
            const int ch = i % c;
            const double v = (sx * x[i] - mean) / sqrt(var + eps) * gam[ch] + bet[ch];
            double want = nearbyint(v / sy) + zy;
            want = want < -128 ? -128 : want > 127 ? 127 : want;
            CHECK(fabs(y[i] - want) <= 1, "count=%d i=%d got %d want %g", count, i, y[i], want);
        }
        free(x), free(y);
    }
}
END_TEST

/* Linear self-attention: the integer kernel within 2 output steps of the float formula (per
 * position in the patch: softmax of q over the pixels, context = weighted key sum,
 * relu(v) * context) on the dequantised qkv, rounded. */
START_TEST(linear_attention_vs_float)
{
    for (int trial = 0; trial < 60; trial++) {
        const int ph = rint_in(1, 2), pw = rint_in(1, 2), h = ph * rint_in(1, 12);
        const int w = pw * rint_in(1, 12), d = rint_in(1, 24), row = 1 + 2 * d;
        const double sx = 0.01 + rint_in(0, 100) / 2000.0;
        const int z = rint_in(-10, 10), zy = rint_in(-10, 10);
        int8_t *qkv = malloc((size_t)h * w * row), *y = malloc((size_t)h * w * d);
        int32_t lut[256], ctx[24];
        for (int i = 0; i < h * w * row; i++)
            qkv[i] = (int8_t)rint_in(-128, 127);
        for (int f = 0; f < 256; f++)
            lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
        /* the output scale: relu(v) * context is at most (255 s)^2 */
        const double sy = 255.0 * 255.0 * sx * sx / 127.0;
        int32_t s_sm, s_o;
        const int32_t m_sm = mult_of(sx / log(2.0) * 256.0, &s_sm);
        const int32_t m_o = mult_of(sx * sx / (32768.0 * sy), &s_o);
        const mvk_linear_attention p = {.h = h, .w = w, .dim = d, .patch_h = ph, .patch_w = pw,
                                        .exp2_lut = lut, .zx = z, .m_sm = m_sm, .s_sm = s_sm,
                                        .m_o = m_o, .s_o = s_o, .zy = zy - 128};
        mvk_i8_linear_attention__scalar(&p, qkv, y, ctx);
        for (int i = 0; i < ph; i++)
            for (int j = 0; j < pw; j++) {
                double mx = -1e300, sum = 0, c[24] = {0};
                for (int yy = i; yy < h; yy += ph)
                    for (int xx = j; xx < w; xx += pw)
                        mx = fmax(mx, sx * (qkv[(yy * w + xx) * row] - z));
                for (int yy = i; yy < h; yy += ph)
                    for (int xx = j; xx < w; xx += pw)
                        sum += exp(sx * (qkv[(yy * w + xx) * row] - z) - mx);
                for (int yy = i; yy < h; yy += ph)
                    for (int xx = j; xx < w; xx += pw) {
                        const int8_t *t = qkv + (yy * w + xx) * row;
                        const double e = exp(sx * (t[0] - z) - mx) / sum;
                        for (int ch = 0; ch < d; ch++)
                            c[ch] += e * sx * (t[1 + ch] - z);
                    }
                for (int yy = i; yy < h; yy += ph)
                    for (int xx = j; xx < w; xx += pw)
                        for (int ch = 0; ch < d; ch++) {
                            const double v = fmax(sx * (qkv[(yy * w + xx) * row + 1 + d + ch] - z),
                                                  0.0);
                            double want = nearbyint(v * c[ch] / sy) + zy - 128;
                            want = want < -128 ? -128 : want > 127 ? 127 : want;
                            const int got = y[(yy * w + xx) * d + ch];
                            CHECK(fabs(got - want) <= 2, "%dx%d d=%d got %d want %g", h, w, d,
                                  got, want);
                        }
            }
        free(qkv), free(y);
    }
}
END_TEST

/* v2's align_corners=True resize: the integer kernel (Q11 taps, as ops/resize.c makes them)
 * within 1 step of the float kernel on the same bytes, rounded; a same-size resize copies. */
START_TEST(resize_vs_float)
{
    for (int trial = 0; trial < 80; trial++) {
        const int ih = rint_in(1, 20), iw = rint_in(1, 20), c = rint_in(1, 10);
        const int oh = trial % 8 ? ih + rint_in(0, 5) : ih, ow = trial % 8 ? iw + rint_in(0, 5) : iw;
        int8_t *x = malloc((size_t)ih * iw * c), *y = malloc((size_t)oh * ow * c);
        float *xf = malloc(sizeof(float) * ih * iw * c), *yf = malloc(sizeof(float) * oh * ow * c);
        mvk_lerp ty[25], tx[25];
        for (int i = 0; i < ih * iw * c; i++)
            xf[i] = x[i] = (int8_t)rint_in(-128, 127);
        for (int i = 0; i < oh + ow; i++) {
            mvk_lerp *t = i < oh ? &ty[i] : &tx[i - oh];
            mvk_resize_tap(i < oh ? i : i - oh, i < oh ? ih : iw, i < oh ? oh : ow, &t->i0, &t->i1,
                           &t->l1);
            t->q1 = (int32_t)floor((double)t->l1 * 2048.0 + 0.5), t->q0 = 2048 - t->q1;
        }
        const mvk_resize p = {.in_h = ih, .in_w = iw, .out_h = oh, .out_w = ow, .c = c,
                              .ty = ty, .tx = tx};
        mvk_i8_resize__scalar(&p, x, y);
        mvk_f32_resize__scalar(&p, xf, yf);
        for (int i = 0; i < oh * ow * c; i++) {
            const double want = nearbyint(yf[i]);
            CHECK(fabs(y[i] - want) <= (oh == ih && ow == iw ? 0 : 1), "%dx%d->%dx%d got %d want %g",
                  ih, iw, oh, ow, y[i], want);
        }
        free(x), free(y), free(xf), free(yf);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels_i8");
    TCase *tc = tcase_create("i8");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, requant_corner_cases);
    tcase_add_test(tc, requant_random_vs_floor_division);
    tcase_add_test(tc, add_scalar);
    tcase_add_test(tc, gemm_scalar_direct);
    tcase_add_test(tc, remap_vs_float);
    tcase_add_test(tc, isqrt_and_udiv_exact);
    tcase_add_test(tc, quantize_thresholds);
    tcase_add_test(tc, layernorm_vs_float);
    tcase_add_test(tc, attention_vs_float);
    tcase_add_test(tc, groupnorm_vs_float);
    tcase_add_test(tc, linear_attention_vs_float);
    tcase_add_test(tc, resize_vs_float);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
