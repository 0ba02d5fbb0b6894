/* Case generators shared by the AVX2 (tests/test_kernels_i8.c) and NEON
 * (tests/test_kernels_i8_neon.c, under qemu) INT8 kernel tests: the classifier's shapes and
 * data, and the whole check of the SIMD attention kernels against mvk_i8_attention__scalar,
 * zero tolerance, and the input quantisation's thresholds and values. Head widths and token counts
 * around the vector widths (odd, < 8, not multiples of 8 or 16), scales from spread-out to one-hot
 * softmax rows (p = 2^15: the rows the SIMD kernels compute halved), zero points at the ends,
 * softmax multipliers and shifts over the kernels' whole contract, and the scratch exactly
 * MVK_I8_ATTENTION_SCRATCH_SIMD bytes with guards on both sides. The including file defines rnd32()
 * and rint_in(lo, hi) and includes i8-scalar.c and i8-attention-scratch.h first. */
#ifndef MVIT_TEST_I8_CASES_H
#define MVIT_TEST_I8_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/pack.h"

/* The classifier's grid: case ci of CLASSIFIER_CASES (rows 1..17: one and several row blocks
 * of 4 and 8, full and cut short; columns around the 8- and 16-column panels and 1000; K odd
 * and past the AVX2 kernel's chunks of A, 256 values with vpmaddwd and 512 with AVX-VNNI). */
enum { CLASSIFIER_CASES = 6 * 5 * 4 };
static void classifier_shape(int ci, int *m, int *k, int *n)
{
    static const int ms[] = {1, 3, 4, 5, 9, 17}, ns[] = {1, 10, 16, 17, 1000};
    static const int ks[] = {1, 7, 320, 641};
    *m = ms[ci / 20], *n = ns[ci / 4 % 5], *k = ks[ci % 4];
}

/* Random a[m][k], b[k][n], biases and scales; returns b packed by mvit_pack_i8_b (malloc). */
static int8_t *classifier_data(int m, int k, int n, int8_t *a, int8_t *b, int32_t *bias,
                               float *scale)
{
    for (int i = 0; i < m * k; i++)
        a[i] = (int8_t)rnd32();
    for (int i = 0; i < k * n; i++)
        b[i] = (int8_t)rnd32();
    for (int j = 0; j < n; j++) {
        bias[j] = rint_in(-100000, 100000);
        scale[j] = (float)(rint_in(1, 100000) * 1e-7);
    }
    int8_t *bp = malloc((size_t)mvit_pack_i8_b(b, k, n, NULL));
    mvit_pack_i8_b(b, k, n, bp);
    return bp;
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

/* A Q15 multiplier and shift for the real multiplier m (the compiler's form). */
static int32_t mult_of(double m, int32_t *shift)
{
    int s = 14 - (int)floor(log2(m));
    double r = nearbyint(ldexp(m, s));
    if (r >= ldexp(1, 15)) {
        r /= 2;
        s--;
    }
    *shift = s;
    return (int32_t)r;
}

/* Rows whose softmax sum is exactly 2^15 (the maximum's term alone: p_max = 2^15), recomputed
 * the way docs/int8.md defines the sum. */
static int count_one_hot_rows(const int8_t *qkv, const int32_t *lut, int p, int n, int d, int heads,
                              int z, int32_t m_sm, int s_sm)
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
                    uint64_t u =
                        ((uint64_t)(best - a[j]) * (uint64_t)m_sm + ((uint64_t)1 << (s_sm - 1))) >>
                        s_sm;
                    u = u < 31 * 256 ? u : 31 * 256;
                    total += lut[u & 255] >> (u >> 8);
                }
                rows += total == 32768;
            }
    free(a);
    return rows;
}

typedef void (*att_kernel_fn)(const int8_t *, int8_t *, int32_t *, const int32_t *, int, int, int,
                              int, int32_t, int32_t, int, int32_t, int, int32_t, int64_t, int64_t);

/* What att_check_all saw: cases, one-hot rows, cases on each exponent path (narrow: the
 * kernel's 32-bit lanes), failures (each printed once). */
typedef struct {
    int cases, one_hot_rows, narrow, wide, failed;
} att_check_stats;

/* Every case of the grid, simd against the scalar kernel; narrow_path(m_sm, s_sm) says
 * whether the SIMD kernel takes its 32-bit exponent path. */
static att_check_stats att_check_all(att_kernel_fn simd, const char *name,
                                     int (*narrow_path)(int32_t, int))
{
    static const int hds[] = {1, 2, 7, 8, 15, 16, 17, 20, 24, 30, 36, 60};
    static const int ns[] = {1, 2, 3, 7, 8, 9, 16, 17, 24, 64, 257};
    enum { HDS = sizeof hds / sizeof *hds, NS = sizeof ns / sizeof *ns };
    att_check_stats st = {0, 0, 0, 0, 0};
    int32_t lut[256];
    for (int f = 0; f < 256; f++)
        lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    for (int hi = 0; hi < HDS; hi++)
        for (int ni = 0; ni < NS; ni++)
            for (int mode = 0; mode < 5; mode++) {
                const int hd = hds[hi], n = ns[ni], heads = 1 + (hi + ni) % 3, p = 1 + mode % 2;
                const int d = heads * hd;
                /* mode 0: soft rows; 1: large scale (one-hot rows); 2: extreme zero points;
                 * 3: a tiny scale (softmax multiplier 2^-21 to 2^-11: padded keys' exponent
                 * under the cut-off); 4: any multiplier < 2^31 and shift 1..62 (the kernels'
                 * whole contract, beyond what the compiler emits) */
                const double sx = mode == 1   ? 2.0
                                  : mode == 3 ? 1e-4 + rint_in(0, 100) * 1e-5
                                              : 0.01 + rint_in(0, 60) / 1000.0;
                const int z = mode == 2 ? (rint_in(0, 1) ? -128 : 127) : rint_in(-10, 10);
                const int zy = rint_in(-20, 20);
                const int64_t len = (int64_t)p * n * d, guard = 256;
                int8_t *qkv = malloc((size_t)(3 * len)), *want = malloc((size_t)len);
                int8_t *got = malloc((size_t)len);
                /* a random part of the work units; the rows outside it keep the fill */
                const int64_t units = (int64_t)p * heads;
                const int64_t r0 = mode == 0 ? rint_in(0, (int)units - 1) : 0;
                const int64_t r1 = mode == 0 ? rint_in((int)r0 + 1, (int)units) : units;
                memset(want, 0x77, (size_t)len), memset(got, 0x77, (size_t)len);
                for (int64_t i = 0; i < 3 * len; i++)
                    qkv[i] = (int8_t)rint_in(-128, 127);
                int32_t s_sm, s_o;
                int32_t m_sm = mult_of(sx * sx / log(2.0) / sqrt((double)hd) * 256.0, &s_sm);
                const int32_t m_o = mult_of(sx / (32768.0 * sx * 256.0 / 255.0), &s_o);
                if (mode == 4 && (hi + ni) % 2) /* anywhere in the contract */
                    m_sm = (int32_t)(rnd32() >> rint_in(1, 24)) | 1, s_sm = rint_in(1, 62);
                else if (mode == 4) /* where d * m + 2^(s-1) passes 2^32 before the clamp */
                    m_sm = (int32_t)(rnd32() >> 1) | 1 << 29, s_sm = rint_in(17, 19);
                if (narrow_path(m_sm, s_sm))
                    st.narrow++;
                else
                    st.wide++;
                int32_t *ref_scratch = malloc((size_t)n * 8 + (size_t)hd * n * 4);
                const int64_t bytes = MVK_I8_ATTENTION_SCRATCH_SIMD((int64_t)n, (int64_t)hd);
                uint8_t *sc = malloc((size_t)(bytes + 2 * guard));
                memset(sc, 0xa5, (size_t)(bytes + 2 * guard));
                mvk_i8_attention__scalar(qkv, want, ref_scratch, lut, p, n, d, heads, z, m_sm, s_sm,
                                         m_o, s_o, zy, r0, r1);
                simd(qkv, got, (int32_t *)(sc + guard), lut, p, n, d, heads, z, m_sm, s_sm, m_o,
                     s_o, zy, r0, r1);
                for (int64_t i = 0; i < len; i++)
                    if (got[i] != want[i]) {
                        printf("FAIL attention %s: hd=%d n=%d heads=%d p=%d mode %d m %d s %d: "
                               "[%lld] scalar %d, simd %d\n",
                               name, hd, n, heads, p, mode, m_sm, s_sm, (long long)i, want[i],
                               got[i]);
                        st.failed++;
                        break;
                    }
                for (int64_t i = 0; i < guard; i++)
                    if (sc[i] != 0xa5 || sc[guard + bytes + i] != 0xa5) {
                        printf("FAIL attention %s: hd=%d n=%d: write outside the scratch\n", name,
                               hd, n);
                        st.failed++;
                        break;
                    }
                if (mode == 1)
                    st.one_hot_rows += count_one_hot_rows(qkv, lut, p, n, d, heads, z, m_sm, s_sm);
                free(qkv), free(want), free(got), free(ref_scratch), free(sc);
                st.cases++;
            }
    if (st.one_hot_rows == 0 || st.narrow == 0 || st.wide == 0) {
        printf("FAIL attention %s: a path did not run (one-hot rows %d, 32-bit %d, 64-bit %d)\n",
               name, st.one_hot_rows, st.narrow, st.wide);
        st.failed++;
    }
    printf("attention %s: %d cases (%d one-hot rows; exponents in 32-bit lanes %d, 64-bit %d), "
           "%d failed\n",
           name, st.cases, st.one_hot_rows, st.narrow, st.wide, st.failed);
    return st;
}

#endif
