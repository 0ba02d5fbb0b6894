/* INT8 kernels (docs/int8.md), zero tolerance. The scalar reference: R() on hand-computed
 * corner cases (ties, S = 1 and 62, M = 2^31 - 1, extreme accumulators, saturation) and on
 * random inputs against an independent floor division; the residual add; the GEMM against a
 * direct evaluation. Then the AVX2 GEMM against the scalar one, byte for byte, on every
 * M in {1, 5, 6, 7, 13} x N in {1, 7, 8, 15, 16, 17, 33, 145} x K in {1, 3, 16, 17, 64, 1728}, with
 * random and extreme data (all -128 activations against all +-127 weights: the largest pair
 * sums, the vpmaddubsw saturation hazard), with and without bias and LUT, shifts from 1 to 62.
 * Without AVX2 the AVX2 case passes with a "skipped" message; the scalar cases still run.
 * Built with -mavxvnni (test_kernels_i8_avxvnni), the AVX2 GEMM and classifier run their
 * vpdpbusd loop, and the whole binary reports skipped (77) on a CPU without AVX-VNNI. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVXVNNI__)
#include <cpuid.h>
#elif defined(MVIT_EXPECT_AVXVNNI)
#error "MVIT_EXPECT_AVXVNNI: this build should have __AVXVNNI__ (-mavxvnni)"
#endif

#include "codegen/pack.h"
#include "kernels/i8-gemm-avx2.c"
#include "kernels/i8-scalar.c"
#include "kernels/i8-attention-avx2.c"
#include "kernels/i8-add-avx2.c"
#include "kernels/i8-layernorm-avx2.c"
#include "kernels/i8-dwconv-avx2.c"
#include "kernels/i8-concat-avx2.c"
#include "kernels/i8-quantize-avx2.c"

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
        ck_assert_msg(mvk_requant_scalar(a, m, s) == r_ref(a, m, s), "R(%d, %d, %d): %d vs %d", a,
                      m, s, mvk_requant_scalar(a, m, s), r_ref(a, m, s));
    }
}
END_TEST

START_TEST(add_scalar)
{
    const int32_t h = 1 << 30;
    int8_t a[6] = {3, -3, 127, -128, 1, -1}, b[6] = {3, -3, 127, -128, 0, 0}, y[6];
    /* both m = 1/2 (S = 31), zero points 0: y = zy + R(a/2) + R(b/2) */
    mvk_i8_add__scalar(a, 0, h, b, 0, h, 31, y, 5, 6);
    const int8_t want1[6] = {5 + 2 + 2, 5 - 1 - 1, 127, 5 - 64 - 64, 5 + 1, 5 + 0};
    ck_assert_mem_eq(y, want1, 6);
    /* m = 2 - 2^-30 (S = 30), saturation both ways; zero points shift the inputs */
    mvk_i8_add__scalar(a, 1, INT32_MAX, b, -2, INT32_MAX, 30, y, 0, 6);
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
        mvk_i8_add__scalar(w, za, ma, z, zb, mb, s, w, zy, 4096);
        for (int i = 0; i < 4096; i++) {
            const int64_t v =
                (int64_t)zy + r_ref(x[i] - za, ma, s) + (int64_t)r_ref(z[i] - zb, mb, s);
            ck_assert_int_eq(w[i], v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
}
END_TEST

// ---- GEMM cases: shared by the scalar self-test and the AVX2 comparison

/* MODE_TIES: small values and multipliers 2^30, 3 * 2^29 with few fraction bits, so that many
 * products a*M end exactly on a rounding tie (half a unit of the result) */
enum { MODE_RANDOM, MODE_MIN_X_MAX, MODE_MIN_X_NEG, MODE_MIXED_EXTREME, MODE_TIES, MODES };

typedef struct {
    int64_t m;
    int k, n, mode, use_bias, use_lut;
    int8_t *a, *b, *lut;
    int32_t *bias, zy;
    int16_t *mult;
    int8_t *shift;
} i8_case;

static int ilog2(int64_t v)
{
    int l = 0;
    while (v > 1)
        v >>= 1, l++;
    return l;
}

static void case_make(i8_case *c, int64_t m, int k, int n, int mode, int use_bias, int use_lut)
{
    c->m = m, c->k = k, c->n = n, c->mode = mode, c->use_bias = use_bias, c->use_lut = use_lut;
    c->a = malloc((size_t)(m * k)), c->b = malloc((size_t)k * n), c->lut = malloc(256);
    c->bias = malloc(4 * (size_t)n), c->mult = malloc(2 * (size_t)n),
    c->shift = malloc((size_t)n);
    for (int64_t i = 0; i < m * k; i++)
        c->a[i] = mode == MODE_RANDOM          ? (int8_t)rnd32()
                  : mode == MODE_TIES          ? (int8_t)rint_in(-3, 3)
                  : mode == MODE_MIXED_EXTREME ? (rnd32() & 1 ? -128 : 127)
                                               : -128;
    for (int64_t i = 0; i < (int64_t)k * n; i++)
        c->b[i] = mode == MODE_RANDOM      ? (int8_t)rint_in(-127, 127)
                  : mode == MODE_TIES      ? (int8_t)rint_in(-3, 3)
                  : mode == MODE_MIN_X_MAX ? 127
                  : mode == MODE_MIN_X_NEG ? -127
                                           : (rnd32() & 1 ? -127 : 127);
    for (int i = 0; i < 256; i++)
        c->lut[i] = (int8_t)rnd32();
    /* acc magnitude ~ 2^amax: pick m around 2^-(amax - 7) so outputs span the int8 range,
     * with some columns far off (saturation) and the extreme shifts */
    const int amax = ilog2((int64_t)k * 128 * 127) + 1;
    for (int j = 0; j < n; j++) {
        c->bias[j] = rint_in(-(1 << 20), 1 << 20);
        if (j % 11 == 3)
            c->bias[j] = INT32_MAX - 128 * 127 * k - 7; /* acc stays in range */
        if (j % 11 == 4)
            c->bias[j] = INT32_MIN + 128 * 127 * k + 7;
        c->mult[j] = (int16_t)((1u << 14) | (rnd32() & 0x3fffu));
        if (j % 5 == 2)
            c->mult[j] = INT16_MAX;
        int s = 14 + amax - 7 + rint_in(-4, 4);
        if (j % 7 == 5)
            s = 1;
        if (j % 7 == 6)
            s = 62;
        if (j % 13 == 12)
            s = 14 + rint_in(-8, 4);
        c->shift[j] = (int8_t)(s < 1 ? 1 : s > 62 ? 62 : s);
        if (mode == MODE_TIES) {
            const int t = ilog2(9 * (int64_t)k) - 5;
            c->bias[j] = rint_in(-8, 8);
            c->mult[j] = (int16_t)(j % 2 ? 3 << 13 : 1 << 14);
            c->shift[j] = (int8_t)(15 + (t > 0 ? t : 0) + rint_in(0, 2));
        }
    }
    c->zy = rint_in(-128, 127);
}

static void case_free(i8_case *c)
{
    free(c->a), free(c->b), free(c->lut), free(c->bias), free(c->mult), free(c->shift);
}

START_TEST(gemm_scalar_direct)
{
    /* the GEMM against R applied by hand, on a few cases */
    const int ms[] = {1, 7}, ks[] = {1, 17, 1728}, ns[] = {1, 33};
    int ties = 0;
    for (int mi = 0; mi < 2; mi++)
        for (int ki = 0; ki < 3; ki++)
            for (int ni = 0; ni < 2; ni++)
                for (int mode = 0; mode < MODES; mode++) {
                    i8_case c;
                    case_make(&c, ms[mi], ks[ki], ns[ni], mode, mode & 1, mode >> 1 & 1);
                    int8_t *out = malloc((size_t)(c.m * c.n));
                    mvk_i8_gemm__scalar(c.a, out, c.b, c.use_bias ? c.bias : 0, c.mult, c.shift,
                                        c.zy, c.use_lut ? c.lut : 0, c.m, c.k, c.n);
                    for (int64_t i = 0; i < c.m; i++)
                        for (int j = 0; j < c.n; j++) {
                            int64_t acc = c.use_bias ? c.bias[j] : 0;
                            for (int p = 0; p < c.k; p++)
                                acc += c.a[i * c.k + p] * c.b[(int64_t)p * c.n + j];
                            ck_assert(acc >= INT32_MIN && acc <= INT32_MAX);
                            const int64_t frac =
                                (acc * c.mult[j]) & (((int64_t)1 << c.shift[j]) - 1);
                            ties += frac == (int64_t)1 << (c.shift[j] - 1);
                            int64_t y = (int64_t)c.zy + r_ref((int32_t)acc, c.mult[j], c.shift[j]);
                            y = y < -128 ? -128 : y > 127 ? 127 : y;
                            if (c.use_lut)
                                y = c.lut[y + 128];
                            ck_assert_msg(out[i * c.n + j] == y,
                                          "m%lld k%d n%d mode%d i%lld j%d acc %lld M %d S %d zy "
                                          "%d: %d vs %lld",
                                          (long long)c.m, c.k, c.n, mode, (long long)i, j,
                                          (long long)acc, c.mult[j], c.shift[j], c.zy,
                                          out[i * c.n + j], (long long)y);
                        }
                    free(out);
                    case_free(&c);
                }
    ck_assert_int_gt(ties, 50); /* MODE_TIES does produce exact ties */
    printf("gemm_scalar_direct: %d exact ties\n", ties);
}
END_TEST

START_TEST(gemm_avx2_matches_scalar)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) {
        printf("gemm_avx2_matches_scalar: no AVX2, skipped\n");
        return;
    }
    /* N = 145: a second chunk of requantisation constants (128 columns at a time); N = 64,
     * 160: chunks of whole 32-byte vectors, whose table runs after each row block */
    /* M: row blocks of 4 (AVX-VNNI) and 8 rows, full and cut short at odd and even rows */
    const int ms[] = {1, 2, 5, 6, 7, 8, 13, 17}, ns[] = {1, 7, 8, 15, 16, 17, 33, 64, 145, 160};
    /* K = 12, 27: A rows prepared 8 + 4 and 16 + 8 + 3 bytes at a time (a 3x3x3 stem);
     * K = 256: exactly one chunk of 64 groups (vpmaddwd); K = 260: two, the second of one
     * group; K = 1728: chunks of 64 (vpmaddwd) or 128 groups (AVX-VNNI) with a tail */
    const int ks[] = {1, 3, 12, 16, 17, 27, 64, 256, 260, 1728};
    int cases = 0, sat_lo = 0, sat_hi = 0, fast_cols = 0;
    for (int mi = 0; mi < 8; mi++)
        for (int ni = 0; ni < 10; ni++)
            for (int ki = 0; ki < 10; ki++)
                for (int mode = 0; mode < MODES; mode++)
                    for (int v = 0; v < 3; v++) {
                        i8_case c;
                        const int use_bias = (mode + v) & 1, use_lut = v & 1;
                        case_make(&c, ms[mi], ks[ki], ns[ni], mode, use_bias, use_lut);
                        if (v == 2) /* every column on the 32-bit requantisation path */
                            for (int j = 0; j < c.n; j++) {
                                c.shift[j] = (int8_t)(c.shift[j] < 16 ? 16 + j % 3
                                                      : c.shift[j] > 31 ? 31 - j % 3
                                                                        : c.shift[j]);
                                fast_cols++;
                            }
                        const int64_t len = c.m * c.n, guard = 64;
                        int8_t *want = malloc((size_t)len),
                               *got = malloc((size_t)(len + 2 * guard));
                        memset(got, 0x5a, (size_t)(len + 2 * guard));
                        const int64_t plen = mvit_pack_i8_b(c.b, c.k, c.n, NULL);
                        ck_assert_int_eq(plen, (int64_t)((c.n + 7) / 8) * ((c.k + 3) / 4) * 32);
                        int8_t *bp = aligned_alloc(64, (size_t)((plen + 63) / 64 * 64));
                        mvit_pack_i8_b(c.b, c.k, c.n, bp);
                        const int32_t *bias = use_bias ? c.bias : 0;
                        const int8_t *lut = use_lut ? c.lut : 0;
                        mvk_i8_gemm__scalar(c.a, want, c.b, bias, c.mult, c.shift, c.zy, lut, c.m,
                                            c.k, c.n);
                        mvk_i8_gemm__avx2(c.a, got + guard, bp, bias, c.mult, c.shift, c.zy, lut,
                                          c.m, c.k, c.n);
                        for (int64_t i = 0; i < len; i++) {
                            ck_assert_msg(got[guard + i] == want[i],
                                          "M=%lld K=%d N=%d mode %d bias %d lut %d: [%lld][%lld] "
                                          "scalar %d, avx2 %d",
                                          (long long)c.m, c.k, c.n, mode, use_bias, use_lut,
                                          (long long)(i / c.n), (long long)(i % c.n), want[i],
                                          got[guard + i]);
                            sat_lo += !use_lut && want[i] == -128;
                            sat_hi += !use_lut && want[i] == 127;
                        }
                        for (int64_t i = 0; i < guard; i++)
                            ck_assert_msg(got[i] == 0x5a && got[guard + len + i] == 0x5a,
                                          "M=%lld K=%d N=%d: write outside C", (long long)c.m, c.k,
                                          c.n);
                        free(want), free(got), free(bp);
                        case_free(&c);
                        cases++;
                    }
    ck_assert_int_eq(cases, 8 * 10 * 10 * MODES * 3);
    ck_assert(sat_lo > 0 && sat_hi > 0); /* the data does reach both saturation bounds */
    ck_assert(fast_cols > 0);
    printf("gemm_avx2_matches_scalar: %d cases, %d / %d values saturated low / high\n", cases,
           sat_lo, sat_hi);
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
            ck_assert_msg(fabs(y[i] - (double)yf[i]) <= tol,
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
        ck_assert(r * r <= v);
        ck_assert((r + 1) * (r + 1) > v || r == 0xffffffffull);
        const uint64_t b = (rnd32() >> (rnd32() % 32)) + 1;
        ck_assert_uint_eq(mvk_udiv_u64(v, b), v / b);
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
            ck_assert_int_eq(q, (int)want);
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
        mvk_i8_layernorm__scalar(x, y, g, b, 1, eps_q, zy, c, 0, 1);
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
            ck_assert_msg(fabs(y[i] - want) <= 1, "c=%d i=%d got %d want %g", c, i, y[i], want);
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
        mvk_i8_attention__scalar(qkv, y, scores, lut, p, n, d, heads, z, m_sm, s_sm, m_o, s_o, zy,
                                 0, (int64_t)p * heads);
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
                        ck_assert_msg(fabs(got - want) <= 2, "n=%d hd=%d got %d want %g", n, hd,
                                      got, want);
                    }
                }
        free(qkv), free(y), free(scores), free(row);
    }
}
END_TEST

/* The AVX2 attention against the scalar one, zero tolerance (tests/i8_cases.h). */
static int avx2_narrow_path(int32_t m_sm, int s_sm)
{
    return mvk_i8_att_avx2_dmax(m_sm, s_sm) != 0;
}

START_TEST(attention_avx2_matches_scalar)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) {
        printf("attention_avx2_matches_scalar: no AVX2, skipped\n");
        return;
    }
    const att_check_stats st = att_check_all(mvk_i8_attention__avx2, "avx2", avx2_narrow_path);
    ck_assert_int_eq(st.failed, 0);
}
END_TEST

static int have_avx2(const char *test)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return 1;
    printf("%s: no AVX2, skipped\n", test);
    return 0;
}

/* The AVX2 residual add against the scalar one, zero tolerance: the compiler's multiplier
 * range [2^14, 2^15) and larger ones (the scalar fallback), shifts 1..40 (R = 0 from 24 on),
 * lengths around 16, in place and out of place, saturating both ways. */
START_TEST(add_avx2_matches_scalar)
{
    if (!have_avx2("add_avx2_matches_scalar"))
        return;
    int8_t a[300], b[300], want[300], got[300 + 64];
    int sat = 0;
    for (int t = 0; t < 4000; t++) {
        const int n = rint_in(0, 300), s = rint_in(1, 40);
        const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
        const int big = t % 10 == 0;
        const int32_t ma = big ? (int32_t)(rnd32() >> 1) : rint_in(1 << 14, (1 << 15) - 1);
        const int32_t mb = big ? rint_in(1, 1 << 15) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        for (int i = 0; i < n; i++)
            a[i] = (int8_t)rnd32(), b[i] = (int8_t)rnd32();
        mvk_i8_add__scalar(a, za, ma, b, zb, mb, s, want, zy, n);
        memset(got, 0x5a, sizeof got);
        if (t & 1) { /* in place: y = a */
            memcpy(got, a, (size_t)n);
            mvk_i8_add__avx2(got, za, ma, b, zb, mb, s, got, zy, n);
        } else {
            mvk_i8_add__avx2(a, za, ma, b, zb, mb, s, got, zy, n);
        }
        for (int i = 0; i < n; i++) {
            ck_assert_msg(got[i] == want[i], "n=%d s=%d ma=%d mb=%d [%d]: scalar %d avx2 %d", n,
                          s, ma, mb, i, want[i], got[i]);
            sat += want[i] == -128 || want[i] == 127;
        }
        for (int i = n; i < n + 64; i++)
            ck_assert_msg(got[i] == 0x5a || (t & 1), "n=%d: write past the end", n);
    }
    ck_assert(sat > 0);
}
END_TEST

/* The AVX2 LayerNorm against the scalar one, zero tolerance: widths 1..260 (odd, < 4, past
 * 16-lane steps), per-channel and shared affine, constant rows (variance from eps only, or
 * 0), variance terms that are powers of 4 (root = 2^30: inv = 2^32), several rows per call. */
START_TEST(layernorm_avx2_matches_scalar)
{
    if (!have_avx2("layernorm_avx2_matches_scalar"))
        return;
    enum { C = 260, ROWS = 3 };
    int8_t x[ROWS * C], want[ROWS * C], got[ROWS * C];
    int32_t g[C], b[C];
    for (int t = 0; t < 3000; t++) {
        const int c = rint_in(1, C), mode = t % 5, per_channel = t % 3 != 0;
        const int spread = mode == 1 || mode == 3 ? 0 : rint_in(0, 127), base = rint_in(-128, 127 - spread);
        for (int i = 0; i < ROWS * c; i++)
            x[i] = (int8_t)(mode == 4 ? (rnd32() & 1 ? 127 : -128) : base + rint_in(0, spread));
        for (int i = 0; i < c; i++) {
            g[i] = (int32_t)(rnd32() % (1u << (8 + t % 20))) - (1 << (7 + t % 20));
            b[i] = (int32_t)(rnd32() % (1u << 24)) - (1 << 23);
        }
        int64_t eps_q = mode == 3 ? 0 : rint_in(0, 100000);
        if (mode == 2) { /* every row as row 0, eps_q making the variance term a power of 4 */
            for (int i = c; i < ROWS * c; i++)
                x[i] = x[i % c];
            int64_t sum = 0, sq = 0, p4 = 1;
            for (int i = 0; i < c; i++)
                sum += x[i], sq += x[i] * x[i];
            while (p4 < (int64_t)c * sq - sum * sum)
                p4 *= 4;
            eps_q = p4 - ((int64_t)c * sq - sum * sum);
        }
        const int zy = rint_in(-128, 127);
        mvk_i8_layernorm__scalar(x, want, g, b, per_channel, eps_q, zy, c, 0, ROWS);
        mvk_i8_layernorm__avx2(x, got, g, b, per_channel, eps_q, zy, c, 0, ROWS);
        for (int i = 0; i < ROWS * c; i++)
            ck_assert_msg(got[i] == want[i], "c=%d mode %d eps %lld [%d]: scalar %d avx2 %d", c,
                          mode, (long long)eps_q, i, want[i], got[i]);
    }
}
END_TEST

/* The AVX2 depthwise convolution against the scalar one, zero tolerance: kernels 1, 3, 5, 7 (odd
 * tap counts: a half-empty last pair), strides 1 and 2, paddings 0..2 (zero point at the
 * borders), channel counts around 16 (tail blocks read through a copy), with and without the
 * SiLU table, row ranges that start inside the image, multipliers and shifts per channel of
 * the compiler's range; output bytes outside the rows stay untouched. */
START_TEST(dwconv_avx2_matches_scalar)
{
    if (!have_avx2("dwconv_avx2_matches_scalar"))
        return;
    const int cs[] = {1, 7, 16, 17, 32, 40, 64};
    int cases = 0, sat = 0;
    for (int t = 0; t < 600; t++) {
        const int c = cs[t % 7], k = 1 + 2 * (t / 7 % 4), stride = 1 + t / 28 % 2;
        const int pad = t / 56 % 3 < k ? t / 56 % 3 : 0;
        const int h = rint_in(k, 12), wd = rint_in(k, 12);
        const int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        const int use_lut = t % 2, zx = rint_in(-128, 127), zy = rint_in(-30, 30);
        int8_t *in = malloc((size_t)h * wd * c), *w = malloc((size_t)k * k * c);
        const int64_t len = (int64_t)oh * ow * c;
        int8_t *want = malloc((size_t)len), *got = malloc((size_t)len);
        int32_t *bias = malloc((size_t)c * sizeof *bias);
        int16_t *mult = malloc((size_t)c * sizeof *mult);
        int8_t *shift = malloc((size_t)c), lut[256];
        for (int i = 0; i < h * wd * c; i++)
            in[i] = (int8_t)rnd32();
        for (int i = 0; i < k * k * c; i++)
            w[i] = (int8_t)(t % 5 == 0 ? (rnd32() & 1 ? 127 : -128) : (int8_t)rnd32());
        for (int i = 0; i < c; i++) {
            bias[i] = (int32_t)(rnd32() % 200001) - 100000;
            mult[i] = (int16_t)rint_in(1 << 14, (1 << 15) - 1);
            shift[i] = (int8_t)(t % 4 == 0 ? rint_in(16, 31) : rint_in(10, 24)); /* 32-bit path */
        }
        for (int i = 0; i < 256; i++)
            lut[i] = (int8_t)rnd32();
        const int64_t packed_len = mvit_pack_i8_dw(w, k * k, c, NULL);
        int8_t *wp = malloc((size_t)packed_len);
        mvit_pack_i8_dw(w, k * k, c, wp);
        const int64_t r0 = oh > 1 ? rint_in(0, oh - 1) : 0, r1 = rint_in((int)r0 + 1, oh);
        memset(want, 0x3c, (size_t)len);
        memset(got, 0x3c, (size_t)len);
        mvk_i8_dwconv__scalar(in, want, w, bias, mult, shift, zx, zy, use_lut ? lut : 0, h, wd, c,
                              oh, ow, k, stride, pad, r0, r1);
        mvk_i8_dwconv__avx2(in, got, wp, bias, mult, shift, zx, zy, use_lut ? lut : 0, h, wd, c,
                            oh, ow, k, stride, pad, r0, r1);
        for (int64_t i = 0; i < len; i++) {
            ck_assert_msg(got[i] == want[i],
                          "c=%d k=%d stride %d pad %d %dx%d rows [%lld, %lld) lut %d: [%lld] "
                          "scalar %d avx2 %d",
                          c, k, stride, pad, h, wd, (long long)r0, (long long)r1, use_lut,
                          (long long)i, want[i], got[i]);
            sat += !use_lut && (want[i] == -128 || want[i] == 127);
        }
        free(in), free(w), free(want), free(got), free(bias), free(mult), free(shift), free(wp);
        cases++;
    }
    ck_assert(sat > 0);
    printf("dwconv_avx2_matches_scalar: %d cases, %d saturated values\n", cases, sat);
}
END_TEST

/* The AVX2 classifier against the scalar one: float logits bit for bit (one conversion and
 * one product each), the shapes of tests/i8_cases.h. */
START_TEST(gemm_f32out_avx2_matches_scalar)
{
    if (!have_avx2("gemm_f32out_avx2_matches_scalar"))
        return;
    for (int ci = 0; ci < CLASSIFIER_CASES; ci++) {
        int m, k, n;
        classifier_shape(ci, &m, &k, &n);
        int8_t *a = malloc((size_t)m * k), *b = malloc((size_t)k * n);
        int32_t *bias = malloc((size_t)n * 4);
        float *scale = malloc((size_t)n * 4), *want = malloc((size_t)m * n * 4);
        float *got = malloc((size_t)(m * n + 16) * 4); /* 16 guard floats */
        for (int i = 0; i < m * n + 16; i++)
            got[i] = -7.0f;
        int8_t *bp = classifier_data(m, k, n, a, b, bias, scale);
        mvk_i8_gemm_f32out__scalar(a, want, b, bias, scale, m, k, n);
        mvk_i8_gemm_f32out__avx2(a, got, bp, bias, scale, m, k, n);
        ck_assert_msg(!memcmp(want, got, (size_t)m * n * 4), "M=%d K=%d N=%d differ", m, k, n);
        for (int i = m * n; i < m * n + 16; i++)
            ck_assert_msg(got[i] == -7.0f, "M=%d K=%d N=%d: wrote past the logits", m, k, n);
        free(a), free(b), free(bias), free(scale), free(want), free(got), free(bp);
    }
}
END_TEST

/* The AVX2 input quantisation against the scalar one, the cases of tests/i8_cases.h. */
START_TEST(quantize_avx2_matches_scalar)
{
    if (!have_avx2("quantize_avx2_matches_scalar"))
        return;
    int fast = 0;
    for (int c = 0; c < QUANTIZE_CASES; c++) {
        float th[255], x[QUANTIZE_MAX_N];
        const int n = quantize_case(c, th, x);
        /* the fast path (no gathers for values away from the thresholds) runs for even and
         * nearly even thresholds, never for uneven ones */
        const double margin = mvk_i8_q_margin(th, 254.0f / (th[254] - th[0]));
        ck_assert_msg((margin > 0) == (c % 3 != 1), "case %d: margin %g", c, margin);
        fast += margin > 0;
        int8_t want[QUANTIZE_MAX_N], got[QUANTIZE_MAX_N + 16];
        memset(got, 0x5a, sizeof got);
        mvk_i8_quantize__scalar(x, want, th, n);
        mvk_i8_quantize__avx2(x, got, th, n);
        ck_assert_msg(!memcmp(want, got, (size_t)n), "case %d (n=%d): differ", c, n);
        for (int i = n; i < n + 16; i++)
            ck_assert_msg(got[i] == 0x5a, "case %d: wrote past n", c);
    }
    ck_assert_int_eq(fast, 200);
}
END_TEST

/* The AVX2 table lookup (vpshufb rows whose XOR telescopes) against the table itself, on
 * every index at several positions of the 32 bytes: random tables, and tables with
 * one non-zero entry (a row built from the wrong block shows up as a stray byte). */
__attribute__((target("avx2"))) static void lut_avx2_apply(const int8_t *lut, const int8_t *in,
                                                            int8_t *got)
{
    mvk_i8_avx2_lut tab;
    mvk_i8_avx2_lut_init(&tab, lut);
    _mm256_storeu_si256((__m256i *)got,
                        mvk_i8_avx2_lut32(_mm256_loadu_si256((const __m256i *)in), &tab));
}

START_TEST(lut_avx2_every_entry)
{
    if (!have_avx2("lut_avx2_every_entry"))
        return;
    for (int t = 0; t < 300; t++) {
        int8_t lut[256];
        for (int i = 0; i < 256; i++)
            lut[i] = t < 256 ? (int8_t)(i == t ? 0x5a ^ t : 0) : (int8_t)rnd32();
        for (int rot = 0; rot < 32; rot += 7) /* each index at several lane positions */
            for (int base = 0; base < 256; base += 32) {
                int8_t in[32], got[32];
                for (int i = 0; i < 32; i++)
                    in[i] = (int8_t)((base + (i + rot) % 32) - 128);
                lut_avx2_apply(lut, in, got);
                for (int i = 0; i < 32; i++)
                    ck_assert_msg(got[i] == lut[in[i] + 128], "table %d, y=%d: %d, want %d", t,
                                  in[i], got[i], lut[in[i] + 128]);
            }
    }
}
END_TEST

/* The AVX2 concat against the scalar one: channel counts around 16 on both sides, the
 * compiler's multiplier range and a larger one (the scalar fallback), shifts 1..40. */
START_TEST(concat_avx2_matches_scalar)
{
    if (!have_avx2("concat_avx2_matches_scalar"))
        return;
    const int cs[] = {1, 15, 16, 17, 40, 64};
    for (int t = 0; t < 600; t++) {
        const int ca = cs[t % 6], cb = cs[t / 6 % 6], pixels = rint_in(1, 9), s = rint_in(1, 40);
        const int32_t ma = t % 17 == 0 ? 1 << 20 : rint_in(1 << 14, (1 << 15) - 1);
        const int32_t mb = rint_in(1 << 14, (1 << 15) - 1);
        const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
        int8_t a[9 * 64], b[9 * 64], want[9 * 128], got[9 * 128];
        for (int i = 0; i < pixels * ca; i++)
            a[i] = (int8_t)rnd32();
        for (int i = 0; i < pixels * cb; i++)
            b[i] = (int8_t)rnd32();
        mvk_i8_concat__scalar(a, b, want, pixels, ca, cb, za, ma, s, zb, mb, s, zy);
        mvk_i8_concat__avx2(a, b, got, pixels, ca, cb, za, ma, s, zb, mb, s, zy);
        ck_assert_msg(!memcmp(want, got, (size_t)pixels * (ca + cb)),
                      "ca=%d cb=%d s=%d ma=%d: differ", ca, cb, s, ma);
    }
}
END_TEST

int main(void)
{
#if defined(__AVXVNNI__)
    unsigned eax, ebx, ecx, edx; /* CPUID.(7,1):EAX bit 4 */
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax >> 4 & 1)) {
        printf("built with -mavxvnni; this CPU has no AVX-VNNI: skipped\n");
        return 77;
    }
    printf("AVX2 int8 GEMM and classifier: the vpdpbusd (AVX-VNNI) loop\n");
#endif
    Suite *s = suite_create("kernels_i8");
    TCase *tc = tcase_create("i8");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, requant_corner_cases);
    tcase_add_test(tc, requant_random_vs_floor_division);
    tcase_add_test(tc, add_scalar);
    tcase_add_test(tc, gemm_scalar_direct);
    tcase_add_test(tc, gemm_avx2_matches_scalar);
    tcase_add_test(tc, remap_vs_float);
    tcase_add_test(tc, isqrt_and_udiv_exact);
    tcase_add_test(tc, quantize_thresholds);
    tcase_add_test(tc, layernorm_vs_float);
    tcase_add_test(tc, attention_vs_float);
    tcase_add_test(tc, attention_avx2_matches_scalar);
    tcase_add_test(tc, add_avx2_matches_scalar);
    tcase_add_test(tc, layernorm_avx2_matches_scalar);
    tcase_add_test(tc, dwconv_avx2_matches_scalar);
    tcase_add_test(tc, gemm_f32out_avx2_matches_scalar);
    tcase_add_test(tc, concat_avx2_matches_scalar);
    tcase_add_test(tc, lut_avx2_every_entry);
    tcase_add_test(tc, quantize_avx2_matches_scalar);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
