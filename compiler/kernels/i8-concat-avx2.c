/* INT8 channel concatenation, AVX2: bit for bit mvk_i8_concat__scalar. Each side is
 * requantised to the output's parameters, y = clamp(zy + R(x - zx, m, s)), 16 values per step
 * in 32-bit lanes under the same conditions as i8-add-avx2.c (0 <= m < 2^15: |(x - zx) m| <
 * 2^23, exact for s <= 30, and R = 0 for s > 30), with its helpers: the lowering pastes
 * i8-add-avx2.c before this file. Other multipliers take the scalar kernel. The pixel loop is
 * i8-concat-driver.h, shared with every ISA. */
#include <immintrin.h>

#include "mvk-avx2.h"
/* needs: i8-scalar.c i8-add-avx2.c (the requantisation of each side) */

#define MVK_I8_CAT_AVX2 __attribute__((target("avx2")))

/* 16 requantised values of one side, or the scalar arithmetic for a tail of n < 16. */
static MVK_INLINE MVK_I8_CAT_AVX2 void
mvk_i8_cat_side__avx2(const int8_t *x, int8_t *y, int n, int32_t zx, int32_t m, int s, int32_t zy)
{
    int i = 0;
    const int zero = s > 30;
    const __m256i zxv = _mm256_set1_epi32(zx), mv = _mm256_set1_epi32(m);
    const __m256i rnd = _mm256_set1_epi32(zero ? 0 : 1 << (s - 1)), zyv = _mm256_set1_epi32(zy);
    const __m128i sv = _mm_cvtsi32_si128(zero ? 0 : s);
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
        const __m256i lo = _mm256_add_epi32(
            zyv, mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(v), zxv, mv, rnd, sv, zero));
        const __m256i hi =
            _mm256_add_epi32(zyv, mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)), zxv,
                                                    mv, rnd, sv, zero));
        _mm_storeu_si128((__m128i *)(y + i), mvk_i8_avx2_narrow16(lo, hi));
    }
    for (; i < n; i++)
        y[i] = mvk_requant_i8_scalar((int32_t)x[i] - zx, m, s, zy);
}

/* Whether the lanes above are exact for the multiplier m. */
static MVK_INLINE MVK_I8_CAT_AVX2 int mvk_i8_cat_fits__avx2(int32_t m)
{
    return m >= 0 && m < 32768;
}

#include "i8-concat-driver.h"
