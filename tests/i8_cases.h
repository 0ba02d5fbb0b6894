/* INT8 case generators shared by the scalar reference test (tests/test_kernels_i8.c) and the
 * kernel driver (tests/kernel_check.c, every SIMD int8 kernel against its scalar twin): the
 * GEMM's data (random and extreme values, ties, shifts 1..62) and the Q15 multipliers of the
 * attention. The including file defines rnd32() and rint_in(lo, hi) and includes
 * kernels/i8-scalar.c first. */
#ifndef MVIT_TEST_I8_CASES_H
#define MVIT_TEST_I8_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The GEMM's data. MODE_TIES: small values and multipliers 2^30, 3 * 2^29 with few fraction
 * bits, so that many products a*M end exactly on a rounding tie (half a unit of the result);
 * MODE_MIN_X_MAX etc.: all -128 activations against all +-127 weights, the largest pair sums
 * (the vpmaddubsw saturation hazard). */
enum { MODE_RANDOM, MODE_MIN_X_MAX, MODE_MIN_X_NEG, MODE_MIXED_EXTREME, MODE_TIES, MODES };

typedef struct {
    int64_t m;
    int k, n, mode;
    int8_t *a, *b, *lut; /* a [m][k], b [k][n], lut [256] */
    int32_t *bias, zy;   /* bias [n] */
    int16_t *mult;       /* [n] */
    int8_t *shift;       /* [n] */
} i8_case;

static int ilog2(int64_t v)
{
    int l = 0;
    while (v > 1)
        v >>= 1, l++;
    return l;
}

/* Fills the buffers of c (m, k, n and mode set): accumulators of magnitude ~2^amax meet
 * multipliers around 2^-(amax - 7) so that outputs span the int8 range, with some columns
 * far off (saturation), biases near the int32 ends and the extreme shifts 1 and 62. */
static void i8_case_fill(i8_case *c)
{
    const int64_t m = c->m;
    const int k = c->k, n = c->n, mode = c->mode;
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

#endif
