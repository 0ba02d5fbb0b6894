/* INT8 residual add, AVX2: bit for bit mvk_i8_add__scalar (docs/int8.md),
 *   y = clamp(zy + R(a - za, ma, s) + R(b - zb, mb, s), -128, 127),
 * 16 values per step in 32-bit lanes. The compiler's multipliers are below 2^15, so
 * |(a - za) * m| < 255 * 2^15 < 2^23 and R is exact in 32 bits: (v * m + 2^(s-1)) >> s with an
 * arithmetic shift is the floor of the scalar definition for s <= 30; for s >= 24 every R is
 * 0 (|v * m| < 2^23 <= 2^(s-1)), so s > 30 gives 0 here too. Other multipliers take the
 * scalar kernel. y may alias a or b (each step reads before it writes). The concat kernel
 * (i8-concat-avx2.c) requantises with the same two helpers. */
#include <immintrin.h>

#include "mvk-prelude.h"

#define MVK_I8_ADD_AVX2 __attribute__((target("avx2")))

/* R(x - zx, m, s) for 8 int8 widened to int32 in x. */
static MVK_INLINE MVK_I8_ADD_AVX2 __m256i mvk_i8_avx2_r32x8(__m256i x, __m256i zx, __m256i m,
                                                            __m256i rnd, __m128i s, int zero)
{
    if (zero)
        return _mm256_setzero_si256();
    const __m256i v = _mm256_mullo_epi32(_mm256_sub_epi32(x, zx), m);
    return _mm256_sra_epi32(_mm256_add_epi32(v, rnd), s);
}

/* 16 int32 (lo: values 0-7, hi: 8-15) -> 16 int8 with saturation, i.e. clamped to [-128, 127]
 * (packs works per 128-bit half: the permute puts the int16 back in order) */
static MVK_INLINE MVK_I8_ADD_AVX2 __m128i mvk_i8_avx2_narrow16(__m256i lo, __m256i hi)
{
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8);
    return _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

static MVK_UNUSED MVK_NOLIBCALL MVK_I8_ADD_AVX2 void
mvk_i8_add__avx2(const mvk_i8_add *p, const int8_t *a, const int8_t *b, int8_t *y, int64_t n)
{
    const int32_t za = p->za, ma = p->ma, zb = p->zb, mb = p->mb, s = p->shift, zy = p->zy;
    if (ma <= -32768 || ma >= 32768 || mb <= -32768 || mb >= 32768) {
        mvk_i8_add__scalar(p, a, b, y, n);
        return;
    }
    const int zero = s > 30;
    const __m256i zav = _mm256_set1_epi32(za), zbv = _mm256_set1_epi32(zb);
    const __m256i mav = _mm256_set1_epi32(ma), mbv = _mm256_set1_epi32(mb);
    const __m256i rnd = _mm256_set1_epi32(zero ? 0 : 1 << (s - 1)), zyv = _mm256_set1_epi32(zy);
    const __m128i sv = _mm_cvtsi32_si128(zero ? 0 : s);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i av = _mm_loadu_si128((const __m128i *)(a + i));
        const __m128i bv = _mm_loadu_si128((const __m128i *)(b + i));
        const __m256i lo = _mm256_add_epi32(
            zyv,
            _mm256_add_epi32(mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(av), zav, mav, rnd, sv, zero),
                             mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(bv), zbv, mbv, rnd, sv, zero)));
        const __m256i hi = _mm256_add_epi32(
            zyv, _mm256_add_epi32(mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(_mm_srli_si128(av, 8)),
                                                    zav, mav, rnd, sv, zero),
                                  mvk_i8_avx2_r32x8(_mm256_cvtepi8_epi32(_mm_srli_si128(bv, 8)),
                                                    zbv, mbv, rnd, sv, zero)));
        _mm_storeu_si128((__m128i *)(y + i), mvk_i8_avx2_narrow16(lo, hi));
    }
    if (i < n)
        mvk_i8_add__scalar(p, a + i, b + i, y + i, n - i);
}
