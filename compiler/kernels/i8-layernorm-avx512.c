/* INT8 LayerNorm, AVX-512 (F/BW/DQ): bit for bit mvk_i8_layernorm__scalar (docs/int8.md), the
 * AVX2 kernel's arithmetic (i8-layernorm-avx2.c) on zmm: the row sums 32 values per vpmaddwd
 * step, the per-value part 8 values per step in 64-bit lanes (d * inv as an unsigned 32 x 32
 * product corrected for negative d; R's floor shift biased by 2^62), the result saturated to
 * int8 by vpmovsqb. floor(sqrt) (the AVX2 file's) and 1 / root per row as on AVX2. The row loop is
 * i8-layernorm-driver.h. */
#include <immintrin.h>

#include "mvk-avx512.h"
/* needs: i8-layernorm-avx2.c (its exact floor(sqrt)) */

/* (x + 2^62 + 2^(sh-1)) >>> sh - 2^(62-sh): the scalar R's floor shift. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_ln_avx512_rshift(__m512i x, __m512i rnd, __m128i sh,
                                                             __m512i off)
{
    return _mm512_sub_epi64(_mm512_srl_epi64(_mm512_add_epi64(x, rnd), sh), off);
}

/* Sum and sum of squares of c int8 values (pairs of squares <= 2 * 2^14: exact). */
static MVK_INLINE MVK_AVX512 void mvk_i8_ln_sums__avx512(const int8_t *x, int c, int32_t *sum,
                                                         int64_t *sumsq)
{
    __m512i s = _mm512_setzero_si512(), q = s;
    const __m512i ones = _mm512_set1_epi16(1);
    for (int i = 0; i < c; i += 32) {
        const int left = c - i;
        const __mmask32 m = (__mmask32)(left >= 32 ? 0xffffffffu : (1u << left) - 1);
        const __m512i v = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, x + i));
        s = _mm512_add_epi32(s, _mm512_madd_epi16(v, ones));
        q = _mm512_add_epi32(q, _mm512_madd_epi16(v, v));
    }
    *sum = _mm512_reduce_add_epi32(s); /* |sum| < 2^23, sumsq < 2^30 for c < 2^16 */
    *sumsq = _mm512_reduce_add_epi32(q);
}

/* 2^62 / floor(sqrt(v)) for 0 < v < 2^62. */
static MVK_INLINE MVK_AVX512 uint64_t mvk_i8_ln_inv__avx512(uint64_t v)
{
    return ((uint64_t)1 << 62) / mvk_i8_ln_avx2_isqrt(v);
}

/* The first values of a row of n, 8 per step from 0 (the driver does the last n % 8), with
 * d = mult x - sum (|d| < 2^31); returns the count written. */
static MVK_INLINE MVK_AVX512 int mvk_i8_ln_row__avx512(const int8_t *x, int8_t *y, int n,
                                                       int mult, int32_t sum, uint64_t inv, int sh,
                                                       const int32_t *g, const int32_t *b,
                                                       int per_channel, int32_t zy)
{
    const __m512i two62 = _mm512_set1_epi64((int64_t)1 << 62);
    const __m512i rnd32 = _mm512_add_epi64(two62, _mm512_set1_epi64((int64_t)1 << 31));
    const __m512i off32 = _mm512_set1_epi64((int64_t)1 << 30);
    const __m128i sh32 = _mm_cvtsi32_si128(32);
    const __m512i zyv = _mm512_set1_epi64(zy), cv = _mm512_set1_epi64(mult);
    const __m512i rnd = _mm512_add_epi64(two62, _mm512_set1_epi64((int64_t)1 << (sh - 1)));
    const __m512i off = _mm512_set1_epi64((int64_t)1 << (62 - sh));
    const __m128i shv = _mm_cvtsi32_si128(sh);
    const __m512i invv = _mm512_set1_epi64((int64_t)inv);
    const __m512i inv_hi = _mm512_slli_epi64(invv, 32);
    const __m512i sumv = _mm512_set1_epi64(sum);
    const __m512i gc = _mm512_set1_epi64(g[0]), bc = _mm512_set1_epi64(b[0]);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512i xv = _mm512_cvtepi8_epi64(_mm_loadl_epi64((const __m128i *)(x + i)));
        /* d = mult x - sum, sign-extended to 64 bits */
        const __m512i d = _mm512_sub_epi64(_mm512_mul_epi32(xv, cv), sumv);
        __m512i prod;
        if (inv >> 32) /* inv = 2^32: d * 2^32 */
            prod = _mm512_slli_epi64(d, 32);
        else /* (d mod 2^32) * inv, minus 2^32 inv where d < 0 */
            prod = _mm512_mask_sub_epi64(_mm512_mul_epu32(d, invv),
                                         _mm512_cmplt_epi64_mask(d, _mm512_setzero_si512()),
                                         _mm512_mul_epu32(d, invv), inv_hi);
        const __m512i nq = mvk_i8_ln_avx512_rshift(prod, rnd, shv, off);
        __m512i gv = gc, bv = bc;
        if (per_channel) {
            gv = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(g + i)));
            bv = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(b + i)));
        }
        const __m512i pre = _mm512_add_epi64(_mm512_mul_epi32(nq, gv), _mm512_slli_epi64(bv, 16));
        const __m512i t = _mm512_add_epi64(zyv, mvk_i8_ln_avx512_rshift(pre, rnd32, sh32, off32));
        _mm_storel_epi64((__m128i *)(y + i), _mm512_cvtsepi64_epi8(t));
    }
    return i;
}

#include "i8-layernorm-driver.h"
