/* Input quantisation, AVX2: bit for bit mvk_i8_quantize__scalar (docs/int8.md): q = -128 +
 * #{k : x >= t[k]} for the 255 ascending thresholds t. 8 values at a time: the same kind of
 * float estimate of the count, then both neighbouring thresholds gathered and the estimate
 * moved by one where a comparison says so, until no lane moves (one or two rounds: the
 * compiler's thresholds are evenly spaced up to float rounding). For ascending thresholds (all
 * the compiler emits) the count follows from the comparisons alone, so any estimate gives the
 * scalar kernel's bytes (whose estimate may be contracted into an FMA). NaN: the estimate is 0
 * (vmaxps returns its second operand for NaN) and every comparison is false: -128.
 * Most values need no comparison at all: with every threshold within D steps of the line
 * t[0] + k / inv (D measured per call), an estimate g = (x - t[0]) inv + 1 whose fraction lies
 * at least D + 2^-12 from an integer (2^-12: far above the float estimate's rounding, about
 * 2^-16 steps here) is exactly the count floor(g), and so is a g beyond both ends; only
 * vectors with a lane near a threshold gather them (D: mvk_i8_q_margin of i8-scalar.c). */
#include <immintrin.h>

#include "mvk-prelude.h"

#define MVK_I8_Q_AVX2 __attribute__((target("avx2")))

/* 8 counts (int32 in [0, 255]) of the thresholds <= x; margin from mvk_i8_q_margin. */
static MVK_INLINE MVK_I8_Q_AVX2 __m256i mvk_i8_q_avx2_count8(__m256 x, const float *t, __m256 t0,
                                                             __m256 inv, __m256 margin)
{
    const __m256 g = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(x, t0), inv), _mm256_set1_ps(1.0f));
    const __m256 whole = _mm256_floor_ps(g), frac = _mm256_sub_ps(g, whole);
    const __m256 one_m = _mm256_sub_ps(_mm256_set1_ps(1.0f), margin);
    /* fraction inside [margin, 1 - margin], or g >= 255 + margin, or g <= 1 - margin (NaN:
     * none of them) */
    const __m256 sure = _mm256_or_ps(
        _mm256_and_ps(_mm256_cmp_ps(frac, margin, _CMP_GE_OQ),
                      _mm256_cmp_ps(frac, one_m, _CMP_LE_OQ)),
        _mm256_or_ps(_mm256_cmp_ps(g, _mm256_add_ps(_mm256_set1_ps(255.0f), margin), _CMP_GE_OQ),
                     _mm256_cmp_ps(g, one_m, _CMP_LE_OQ)));
    if (_mm256_movemask_ps(sure) == 0xff)
        return _mm256_cvttps_epi32(
            _mm256_min_ps(_mm256_max_ps(whole, _mm256_setzero_ps()), _mm256_set1_ps(255.0f)));
    const __m256 gc = _mm256_min_ps(_mm256_max_ps(g, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    __m256i idx = _mm256_cvttps_epi32(gc);
    const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32(255);
    const __m256i one = _mm256_set1_epi32(1), last = _mm256_set1_epi32(254);
    for (;;) {
        /* up where idx < 255 and x >= t[idx]; down where idx > 0 and x < t[idx - 1] */
        const __m256 above = _mm256_i32gather_ps(t, _mm256_min_epi32(idx, last), 4);
        const __m256 below =
            _mm256_i32gather_ps(t, _mm256_max_epi32(_mm256_sub_epi32(idx, one), zero), 4);
        const __m256i up = _mm256_and_si256(
            _mm256_cmpgt_epi32(top, idx), _mm256_castps_si256(_mm256_cmp_ps(x, above, _CMP_GE_OQ)));
        /* up first, as the scalar loops: a lane then only ever moves one way, so this ends */
        const __m256i down = _mm256_andnot_si256(
            up, _mm256_and_si256(_mm256_cmpgt_epi32(idx, zero),
                                 _mm256_castps_si256(_mm256_cmp_ps(x, below, _CMP_LT_OQ))));
        if (_mm256_testz_si256(_mm256_or_si256(up, down), _mm256_or_si256(up, down)))
            return idx;
        idx = _mm256_add_epi32(_mm256_sub_epi32(idx, up), down); /* masks are -1: -up = +1 */
    }
}

/* Same contract as mvk_i8_quantize__scalar. */
static MVK_UNUSED MVK_NOLIBCALL MVK_I8_Q_AVX2 void
mvk_i8_quantize__avx2(const float *MVK_RESTRICT x, int8_t *MVK_RESTRICT q,
                      const float *MVK_RESTRICT t, int64_t n)
{
    const float inv = 254.0f / (t[254] - t[0]);
    const __m256 t0 = _mm256_set1_ps(t[0]), invv = _mm256_set1_ps(inv);
    const double m = mvk_i8_q_margin(t, inv);
    /* no fast path: a NaN margin, which every ordered comparison fails */
    const __m256 margin =
        m > 0.0 ? _mm256_set1_ps((float)m) : _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000));
    const __m256i bias = _mm256_set1_epi32(128);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i a = _mm256_sub_epi32(
            mvk_i8_q_avx2_count8(_mm256_loadu_ps(x + i), t, t0, invv, margin), bias);
        const __m256i b = _mm256_sub_epi32(
            mvk_i8_q_avx2_count8(_mm256_loadu_ps(x + i + 8), t, t0, invv, margin), bias);
        const __m256i w = _mm256_packs_epi32(a, b); /* a0-3 b0-3 | a4-7 b4-7 */
        const __m128i y =
            _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        /* bytes: a0-3 b0-3 a4-7 b4-7 -> a0-7 b0-7 */
        _mm_storeu_si128((__m128i *)(q + i), _mm_shuffle_epi32(y, 0xd8));
    }
    if (i < n)
        mvk_i8_quantize__scalar(x + i, q + i, t, n - i);
}
