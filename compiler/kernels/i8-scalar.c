/* INT8 reference kernels: exactly the arithmetic of docs/int8.md, in portable C. The AVX2 and
 * NEON kernels (i8-gemm-avx2.c, i8-gemm-neon.c) must give identical bytes; the unit tests
 * compare them with zero tolerance.
 *
 * Requantisation R(a, M, S) = (a * M + 2^(S-1)) >> S, a floor shift, computed in 64 bits
 * without any implementation-defined shift: 2^62 is added first (|a * M| < 2^62 for every
 * int32 a and M < 2^31, so the sum is in [1, 2^63 + 2^61) as uint64_t), the value is shifted
 * as uint64_t, and 2^(62-S) subtracted (exact: 2^62 is a multiple of 2^S). M in [2^30, 2^31),
 * S in [1, 62]. */
#include "mvk-prelude.h"

/* R(acc, M, S), saturated to the int32 range. The exact value can exceed it (up to ~2^61 for
 * S = 1); every caller adds a zero point in [-128, 127] and clamps to [-128, 127], and for
 * that result the saturation makes no difference. */
static inline MVK_UNUSED int32_t mvk_requant_scalar(int32_t acc, int32_t m, int s)
{
    const int64_t prod = (int64_t)acc * m;
    const uint64_t t = (uint64_t)prod + ((uint64_t)1 << 62) + ((uint64_t)1 << (s - 1));
    const int64_t r = (int64_t)(t >> s) - ((int64_t)1 << (62 - s));
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

/* y = clamp(z + R(acc, M, S), -128, 127): one requantised int8 value. */
static inline MVK_UNUSED int8_t mvk_requant_i8_scalar(int32_t acc, int32_t m, int s, int32_t z)
{
    const int64_t y = (int64_t)z + mvk_requant_scalar(acc, m, s);
    return (int8_t)(y < -128 ? -128 : y > 127 ? 127 : y);
}

/* c[M][N] (int8, row-major) from a[M][K] (int8, row-major) and b[K][N] (int8, row-major, NOT
 * packed: the reference reads the plain layout):
 *   acc = bias[j] + sum_p a[i][p] * b[p][j]                  (int32, exact for K < 131072)
 *   y   = clamp(zy + R(acc, mult[j], shift[j]), -128, 127)
 *   c[i][j] = lut ? lut[y + 128] : y
 * bias may be NULL (zero). With a LUT (the fused SiLU), mult/shift/zy are the parameters of
 * the pre-activation and lut maps its 256 values to the output (docs/int8.md). */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_gemm__scalar(const int8_t *MVK_RESTRICT a, int8_t *MVK_RESTRICT c,
                    const int8_t *MVK_RESTRICT b, const int32_t *MVK_RESTRICT bias,
                    const int32_t *MVK_RESTRICT mult, const int32_t *MVK_RESTRICT shift, int32_t zy,
                    const int8_t *MVK_RESTRICT lut, int64_t m, int k, int n)
{
    for (int64_t i = 0; i < m; i++) {
        const int8_t *ai = a + i * k;
        int8_t *ci = c + i * n;
        for (int j = 0; j < n; j++) {
            int32_t acc = bias ? bias[j] : 0;
            for (int p = 0; p < k; p++)
                acc += (int32_t)ai[p] * b[(int64_t)p * n + j];
            const int8_t y = mvk_requant_i8_scalar(acc, mult[j], shift[j], zy);
            ci[j] = lut ? lut[y + 128] : y;
        }
    }
}

/* Residual add of two int8 tensors of n values (docs/int8.md), common shift s:
 *   y = clamp(zy + R(a - za, ma, s) + R(b - zb, mb, s), -128, 127),
 * each input rescaled and rounded separately. y may alias a or b. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_add__scalar(const int8_t *a, int32_t za, int32_t ma,
                                                        const int8_t *b, int32_t zb, int32_t mb,
                                                        int s, int8_t *y, int32_t zy, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const int64_t v = (int64_t)zy + mvk_requant_scalar((int32_t)a[i] - za, ma, s) +
                          mvk_requant_scalar((int32_t)b[i] - zb, mb, s);
        y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}
