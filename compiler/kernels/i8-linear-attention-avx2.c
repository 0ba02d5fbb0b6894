/* INT8 linear self-attention of MobileViT v2, AVX2: bit for bit mvk_i8_linear_attention__scalar
 * (docs/int8.md). The channel loops, 8 channels per step: the context's multiply-add in 32-bit
 * lanes (vpmulld: the same low 32 bits as the scalar product), and the output's
 * max(v - zx, 0) m_o (< 2^23) times the context as exact 64-bit products (vpmuldq on the even
 * and the odd lanes), the rounding shift as the scalar R (bias by 2^62, logical shift), then
 * zy + R clamped in 64 bits and packed to int8. The loop over the patch is
 * i8-linear-attention-driver.h, shared with every ISA. */
/* needs: i8-scalar.c i8-linear-attention-scalar.c (the softmax and the last channels) */
#include <immintrin.h>

#include "mvk-avx2.h"

static MVK_INLINE MVK_ISA int mvk_i8_la_accumulate__avx2(int32_t *context, const int8_t *k,
                                                         int32_t pj, int32_t zx, int d)
{
    const __m256i pv = _mm256_set1_epi32(pj), zv = _mm256_set1_epi32(zx);
    int c = 0;
    for (; c + 8 <= d; c += 8) {
        const __m256i kv = _mm256_sub_epi32(
            _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(k + c))), zv);
        const __m256i acc = _mm256_loadu_si256((const __m256i *)(context + c));
        _mm256_storeu_si256((__m256i *)(context + c),
                            _mm256_add_epi32(acc, _mm256_mullo_epi32(kv, pv)));
    }
    return c;
}

/* zy + R(x, s) clamped to [-128, 127], in 64-bit lanes. */
static MVK_INLINE MVK_ISA __m256i mvk_i8_la_avx2_requant(__m256i x, __m256i rnd, __m128i sh,
                                                         __m256i off, __m256i zy)
{
    const __m256i lo = _mm256_set1_epi64x(-128), hi = _mm256_set1_epi64x(127);
    __m256i t = _mm256_add_epi64(zy, _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(x, rnd), sh), off));
    t = _mm256_blendv_epi8(t, hi, _mm256_cmpgt_epi64(t, hi));
    return _mm256_blendv_epi8(t, lo, _mm256_cmpgt_epi64(lo, t));
}

static MVK_INLINE MVK_ISA int mvk_i8_la_output__avx2(const int8_t *v, int8_t *o,
                                                     const int32_t *context, int d,
                                                     const mvk_linear_attention *p)
{
    const __m256i zv = _mm256_set1_epi32(p->zx), mv = _mm256_set1_epi32(p->m_o);
    const __m256i rnd =
        _mm256_set1_epi64x((int64_t)(((uint64_t)1 << 62) + ((uint64_t)1 << (p->s_o - 1))));
    const __m256i off = _mm256_set1_epi64x((int64_t)1 << (62 - p->s_o));
    const __m256i zy = _mm256_set1_epi64x(p->zy);
    const __m128i sh = _mm_cvtsi32_si128(p->s_o);
    int c = 0;
    for (; c + 8 <= d; c += 8) {
        const __m256i vr = _mm256_max_epi32(
            _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(v + c))), zv),
            _mm256_setzero_si256());
        const __m256i a = _mm256_mullo_epi32(vr, mv);
        const __m256i cx = _mm256_loadu_si256((const __m256i *)(context + c));
        const __m256i even = mvk_i8_la_avx2_requant(_mm256_mul_epi32(a, cx), rnd, sh, off, zy);
        const __m256i odd = mvk_i8_la_avx2_requant(
            _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(cx, 32)), rnd, sh, off,
            zy);
        /* channels 0..7 in order, each a 32-bit value in [-128, 127] */
        const __m256i r = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
        const __m128i r16 =
            _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(o + c), _mm_packs_epi16(r16, r16));
    }
    return c;
}

#include "i8-linear-attention-driver.h"
