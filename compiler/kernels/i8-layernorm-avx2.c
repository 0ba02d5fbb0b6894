/* INT8 LayerNorm, AVX2: bit for bit mvk_i8_layernorm__scalar (docs/int8.md). The row sums
 * run on vpmaddwd; floor(sqrt) comes from the double square root corrected by integer
 * compares (exact whatever the rounding of the estimate) and 1 / root from the 64-bit
 * divide; the per-value part runs in 64-bit lanes, 4 values per step:
 *   n = R(d * inv, 46 - k)   d = c x - sum (int32), inv in (2^31, 2^32]: d * inv as an
 *                            unsigned 32 x 32 product corrected for negative d (mod 2^64)
 *   t = R(n * g + b * 2^16, 32)   |n| < 2^31 (|n| <= sqrt(c) 2^16), so vpmuldq is exact
 * with R's floor shift done as in the scalar kernel (bias by 2^62, logical shift). The row loop
 * is i8-layernorm-driver.h, shared with every ISA. */
#include <immintrin.h>

#include "mvk-avx2.h"

#define MVK_I8_LN_AVX2 __attribute__((target("avx2")))

/* floor(sqrt(v)) for v < 2^62. */
static MVK_INLINE MVK_I8_LN_AVX2 uint64_t mvk_i8_ln_avx2_isqrt(uint64_t v)
{
    uint64_t r = (uint64_t)_mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd((double)v)));
    while (r * r > v)
        r--;
    while ((r + 1) * (r + 1) <= v)
        r++;
    return r;
}

/* floor(v * m_lane + 2^(sh-1)) >> sh as the scalar R: (x + 2^62 + 2^(sh-1)) >>> sh - 2^(62-sh). */
static MVK_INLINE MVK_I8_LN_AVX2 __m256i mvk_i8_ln_avx2_rshift(__m256i x, __m256i rnd, __m128i sh,
                                                               __m256i off)
{
    return _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(x, rnd), sh), off);
}

/* Sum and sum of squares of c int8 values. */
static MVK_INLINE MVK_I8_LN_AVX2 void mvk_i8_ln_sums__avx2(const int8_t *x, int c, int32_t *sum,
                                                           int64_t *sumsq)
{
    __m256i s = _mm256_setzero_si256(), q = s;
    const __m256i ones = _mm256_set1_epi16(1);
    int i = 0;
    for (; i + 16 <= c; i += 16) { /* pairs of squares <= 2 * 2^14: exact */
        const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
        s = _mm256_add_epi32(s, _mm256_madd_epi16(v, ones));
        q = _mm256_add_epi32(q, _mm256_madd_epi16(v, v));
    }
    int32_t ls[8], lq[8];
    _mm256_storeu_si256((__m256i *)ls, s);
    _mm256_storeu_si256((__m256i *)lq, q);
    int32_t ts = 0;
    int64_t tq = 0;
    for (int l = 0; l < 8; l++)
        ts += ls[l], tq += lq[l];
    for (; i < c; i++)
        ts += x[i], tq += (int32_t)x[i] * x[i];
    *sum = ts;
    *sumsq = tq;
}

/* 2^62 / floor(sqrt(v)) for 0 < v < 2^62. */
static MVK_INLINE MVK_I8_LN_AVX2 uint64_t mvk_i8_ln_inv__avx2(uint64_t v)
{
    return ((uint64_t)1 << 62) / mvk_i8_ln_avx2_isqrt(v);
}

/* The first values of a row of n, 4 per step from 0 (the driver does the last n % 4), with
 * d = mult x - sum (mult: the count the sums are over, c for a LayerNorm, the whole map's for a
 * GroupNorm; |d| < 2^31); returns the count written. */
static MVK_INLINE MVK_I8_LN_AVX2 int mvk_i8_ln_row__avx2(const int8_t *x, int8_t *y, int n,
                                                         int mult, int32_t sum, uint64_t inv,
                                                         int sh, const int32_t *g,
                                                         const int32_t *b, int per_channel,
                                                         int32_t zy)
{
    const __m256i two62 = _mm256_set1_epi64x((int64_t)1 << 62);
    const __m256i rnd32 = _mm256_add_epi64(two62, _mm256_set1_epi64x((int64_t)1 << 31));
    const __m256i off32 = _mm256_set1_epi64x((int64_t)1 << 30);
    const __m128i sh32 = _mm_cvtsi32_si128(32);
    const __m256i zyv = _mm256_set1_epi64x(zy), cv = _mm256_set1_epi32(mult);
    const __m256i rnd = _mm256_add_epi64(two62, _mm256_set1_epi64x((int64_t)1 << (sh - 1)));
    const __m256i off = _mm256_set1_epi64x((int64_t)1 << (62 - sh));
    const __m128i shv = _mm_cvtsi32_si128(sh);
    const __m256i invv = _mm256_set1_epi64x((int64_t)inv);
    const __m256i inv_hi = _mm256_slli_epi64(invv, 32);
    const __m256i sumv = _mm256_set1_epi32(sum);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        int32_t x4;
        __builtin_memcpy(&x4, x + i, 4);
        const __m256i xv = _mm256_cvtepi8_epi64(_mm_cvtsi32_si128(x4));
        /* d in the low 32 bits of each lane, sign-extended: mult x - sum */
        const __m256i d = _mm256_sub_epi64(_mm256_mul_epi32(xv, cv),
                                           _mm256_cvtepi32_epi64(_mm256_castsi256_si128(sumv)));
        __m256i prod = _mm256_mul_epu32(d, invv); /* (d mod 2^32) * inv */
        if (inv >> 32)                            /* inv = 2^32: d * 2^32 */
            prod = _mm256_slli_epi64(d, 32);
        else /* minus 2^32 inv where d < 0 */
            prod = _mm256_sub_epi64(
                prod, _mm256_and_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), d), inv_hi));
        const __m256i nq = mvk_i8_ln_avx2_rshift(prod, rnd, shv, off);
        __m256i gv, bv;
        if (per_channel) {
            gv = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(g + i)));
            bv = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(b + i)));
        } else {
            gv = _mm256_set1_epi64x(g[0]);
            bv = _mm256_set1_epi64x(b[0]);
        }
        const __m256i pre = _mm256_add_epi64(_mm256_mul_epi32(nq, gv), _mm256_slli_epi64(bv, 16));
        const __m256i t = _mm256_add_epi64(zyv, mvk_i8_ln_avx2_rshift(pre, rnd32, sh32, off32));
        /* the low 32 bits of the 4 lanes, saturated to int8 */
        const __m256i t32 =
            _mm256_permutevar8x32_epi32(t, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
        const __m128i t16 =
            _mm_packs_epi32(_mm256_castsi256_si128(t32), _mm256_castsi256_si128(t32));
        const int32_t y4 = _mm_cvtsi128_si32(_mm_packs_epi16(t16, t16));
        __builtin_memcpy(y + i, &y4, 4);
    }
    return i;
}

#include "i8-layernorm-driver.h"
