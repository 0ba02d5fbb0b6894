/* INT8 depthwise convolution, AVX2: bit for bit mvk_i8_dwconv__scalar (docs/int8.md). Weights
 * packed by mvit_pack_i8_dw (codegen/pack.h): 16 channels per block, taps in pairs. For a tap
 * pair, the two input vectors (16 channels each, widened to int16) are interleaved by
 * vpunpcklwd / vpunpckhwd, and vpmaddwd against the packed weights adds both taps' products
 * into 8 int32 lanes: channels 0-3 and 8-11 of the block in one vector, 4-7 and 12-15 in the
 * other (the packed bias, multipliers and shifts follow the same order, and the final
 * vpackssdw puts the channels back in order). Exact: |x * w| <= 2^14 and a pair sum <= 2^15
 * lands in an int32 lane (vpmaddwd cannot saturate here). Padding taps read the input zero
 * point zx, as in the scalar kernel; a tail block of fewer than 16 channels is read through
 * a zero-padded copy, so no load runs past a pixel's channels. Needs i8-gemm-avx2.c (its
 * requantisation and the vpshufb SiLU table). */
#include <immintrin.h>

#include "mvk-prelude.h"

#define MVK_I8_DW_AVX2 __attribute__((target("avx2")))

/* 16 input channels of one tap as int16 (zx outside the image; a tail through a copy). */
static MVK_INLINE MVK_I8_DW_AVX2 __m256i mvk_i8_dw_avx2_tap(const int8_t *in, int h, int wd,
                                                           int c, int c0, int cb, int iy,
                                                           int ix, __m256i zxv)
{
    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
        return zxv;
    const int8_t *src = in + ((int64_t)iy * wd + ix) * c + c0;
    if (cb == 16)
        return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)src));
    int8_t t[16] = {0};
    for (int i = 0; i < cb; i++)
        t[i] = src[i];
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)t));
}

/* Requantisation constants of a block in the vpunpck lane order: half 0 holds channels
 * 0-3 and 8-11, half 1 channels 4-7 and 12-15; lanes past the channels get harmless values. */
static MVK_INLINE MVK_I8_DW_AVX2 void mvk_i8_dw_avx2_rq(const int32_t *bias, const int16_t *mult,
                                                       const int8_t *shift, int cb,
                                                       mvk_i8_avx2_rq *q /* [2] */)
{
    for (int half = 0; half < 2; half++) {
        int32_t b[8];
        int16_t m[8];
        int8_t s[8];
        for (int lane = 0; lane < 8; lane++) {
            const int ch = half * 4 + (lane < 4 ? lane : lane + 4);
            b[lane] = ch < cb ? bias[ch] : 0;
            m[lane] = ch < cb ? mult[ch] : 1 << 14; /* harmless, and fit the 32-bit path */
            s[lane] = ch < cb ? shift[ch] : 16;
        }
        mvk_i8_avx2_rq_init(&q[half], b, m, s, 8);
    }
}

/* Same contract as mvk_i8_dwconv__scalar, except w: packed by mvit_pack_i8_dw. */
static MVK_UNUSED MVK_NOLIBCALL MVK_I8_DW_AVX2 void
mvk_i8_dwconv__avx2(const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                    const int8_t *MVK_RESTRICT wp, const int32_t *MVK_RESTRICT bias,
                    const int16_t *MVK_RESTRICT mult, const int8_t *MVK_RESTRICT shift, int32_t zx,
                    int32_t zy, const int8_t *MVK_RESTRICT lut, int h, int wd, int c, int oh,
                    int ow, int k, int stride, int pad, int64_t r0, int64_t r1)
{
    (void)oh;
    const int taps = k * k, pairs = (taps + 1) / 2;
    const __m256i zxv = _mm256_set1_epi16((int16_t)zx), zyv = _mm256_set1_epi32(zy);
    for (int64_t oy = r0; oy < r1; oy++) /* a row per block keeps the input lines in L1 */
        for (int c0 = 0; c0 < c; c0 += 16) {
            const int cb = c - c0 < 16 ? c - c0 : 16;
            const int8_t *wb = wp + (int64_t)(c0 / 16) * pairs * 32;
            mvk_i8_avx2_rq q[2];
            mvk_i8_dw_avx2_rq(bias + c0, mult + c0, shift + c0, cb, q);
            for (int ox = 0; ox < ow; ox++) {
                __m256i lo = q[0].bias, hi = q[1].bias;
                const int y0 = (int)oy * stride - pad, x0 = ox * stride - pad;
                for (int p = 0; p < pairs; p++) {
                    const int t0 = 2 * p, t1 = 2 * p + 1;
                    const __m256i a = mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb, y0 + t0 / k,
                                                         x0 + t0 % k, zxv);
                    /* an odd tap count's last pair: the partner's weight is 0, any input does */
                    const __m256i b = t1 < taps ? mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb,
                                                                     y0 + t1 / k, x0 + t1 % k, zxv)
                                                : zxv;
                    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32)));
                    const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)));
                    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w0));
                    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w1));
                }
                const __m256i ylo = _mm256_add_epi32(mvk_i8_avx2_requant8(lo, &q[0]), zyv);
                const __m256i yhi = _mm256_add_epi32(mvk_i8_avx2_requant8(hi, &q[1]), zyv);
                const __m256i y16 = _mm256_packs_epi32(ylo, yhi); /* channels in order */
                __m128i y8 = _mm_packs_epi16(_mm256_castsi256_si128(y16),
                                             _mm256_extracti128_si256(y16, 1));
                if (lut)
                    y8 = mvk_i8_avx2_lut16(y8, lut);
                int8_t *dst = out + (oy * ow + ox) * c + c0;
                if (cb == 16) {
                    _mm_storeu_si128((__m128i *)dst, y8);
                    continue;
                }
                int8_t t[16];
                _mm_storeu_si128((__m128i *)t, y8);
                for (int i = 0; i < cb; i++)
                    dst[i] = t[i];
            }
    }
}
