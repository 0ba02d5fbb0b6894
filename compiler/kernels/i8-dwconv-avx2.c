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
/* needs: i8-scalar.c i8-gemm-avx2.c (its requantisation) */

#define MVK_I8_DW_AVX2 __attribute__((target("avx2")))

/* 16 input channels of one tap as int16 (zx outside the image; a tail through a copy). */
static MVK_INLINE MVK_I8_DW_AVX2 __m256i mvk_i8_dw_avx2_tap(const int8_t *in, int h, int wd, int c,
                                                            int c0, int cb, int iy, int ix,
                                                            __m256i zxv)
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

#define MVK_I8_DW_AVX2_MAXTAPS 49 /* up to 7x7 through the interior path below */

/* Both taps of pair p into the accumulators (lo, hi) of a 16-channel block: a and b the
 * taps' inputs as int16, w the block's weights widened to int16 (two vectors per pair). */
static MVK_INLINE MVK_I8_DW_AVX2 void mvk_i8_dw_avx2_pair(__m256i a, __m256i b, const __m256i *w,
                                                          int p, __m256i *lo, __m256i *hi)
{
    *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w[2 * p]));
    *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w[2 * p + 1]));
}

/* Same contract as mvk_i8_dwconv__scalar, except w: packed by mvit_pack_i8_dw. A window that
 * lies inside the image (and a whole block of 16 channels) reads its taps at offsets set up
 * once per call: no bounds test and no division by k per tap; border windows take the
 * general path. A block's weights are widened once per row, and the table goes over each
 * finished output row 32 bytes at a time (per pixel it would run on 16). */
static MVK_UNUSED MVK_NOLIBCALL MVK_I8_DW_AVX2 void
mvk_i8_dwconv__avx2(const mvk_conv2d *p, const mvk_i8_requant *rq,
                    const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                    const int8_t *MVK_RESTRICT wp, int64_t r0, int64_t r1)
{
    MVK_DWCONV_LOCALS(p);
    MVK_I8_REQUANT_LOCALS(rq);
    const int taps = k * k, pairs = (taps + 1) / 2;
    const __m256i zxv = _mm256_set1_epi16((int16_t)zx), zyv = _mm256_set1_epi32(zy);
    mvk_i8_avx2_lut tab;
    if (lut)
        mvk_i8_avx2_lut_init(&tab, lut);
    /* byte offsets of the taps from the window's first pixel; an odd count's partner of the
     * last tap reads tap 0 (its weight is 0) */
    int64_t off[MVK_I8_DW_AVX2_MAXTAPS + 1];
    const int interior_ok = taps <= MVK_I8_DW_AVX2_MAXTAPS;
    if (interior_ok) {
        for (int t = 0; t < taps; t++)
            off[t] = ((int64_t)(t / k) * wd + t % k) * c;
        off[taps] = 0;
    }
    for (int64_t oy = r0; oy < r1; oy++) { /* a row per block keeps the input lines in L1 */
        for (int c0 = 0; c0 < c; c0 += 16) {
            const int cb = c - c0 < 16 ? c - c0 : 16;
            const int8_t *wb = wp + (int64_t)(c0 / 16) * pairs * 32;
            __m256i w[2 * ((MVK_I8_DW_AVX2_MAXTAPS + 1) / 2)]; /* for the interior path */
            for (int p = 0; p < pairs && interior_ok; p++) {
                w[2 * p] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32)));
                w[2 * p + 1] =
                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)));
            }
            mvk_i8_avx2_rq q[2];
            mvk_i8_dw_avx2_rq(bias + c0, mult + c0, shift + c0, cb, q);
            const int y0 = (int)oy * stride - pad;
            const int rows_in = interior_ok && cb == 16 && y0 >= 0 && y0 + k <= h;
            for (int ox = 0; ox < ow; ox++) {
                __m256i lo = q[0].bias, hi = q[1].bias;
                const int x0 = ox * stride - pad;
                if (rows_in && x0 >= 0 && x0 + k <= wd) {
                    const int8_t *src = in + ((int64_t)y0 * wd + x0) * c + c0;
                    for (int p = 0; p < pairs; p++)
                        mvk_i8_dw_avx2_pair(_mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                (const __m128i *)(src + off[2 * p]))),
                                            _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                (const __m128i *)(src + off[2 * p + 1]))),
                                            w, p, &lo, &hi);
                } else { /* border windows (and any beyond 7x7) */
                    for (int p = 0; p < pairs; p++) {
                        const int t0 = 2 * p, t1 = 2 * p + 1;
                        const __m256i a =
                            mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb, y0 + t0 / k, x0 + t0 % k, zxv);
                        /* an odd tap count's last pair: the partner's weight is 0, any input
                         * does */
                        const __m256i b = t1 < taps
                                              ? mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb,
                                                                   y0 + t1 / k, x0 + t1 % k, zxv)
                                              : zxv;
                        const __m256i wq[2] = {
                            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32))),
                            _mm256_cvtepi8_epi16(
                                _mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)))};
                        mvk_i8_dw_avx2_pair(a, b, wq, 0, &lo, &hi);
                    }
                }
                const __m256i ylo = _mm256_add_epi32(mvk_i8_avx2_requant8(lo, &q[0]), zyv);
                const __m256i yhi = _mm256_add_epi32(mvk_i8_avx2_requant8(hi, &q[1]), zyv);
                const __m256i y16 = _mm256_packs_epi32(ylo, yhi); /* channels in order */
                const __m128i y8 =
                    _mm_packs_epi16(_mm256_castsi256_si128(y16), _mm256_extracti128_si256(y16, 1));
                int8_t *dst = out + (oy * ow + ox) * c + c0;
                if (cb == 16) {
                    _mm_storeu_si128((__m128i *)dst, y8);
                    continue;
                }
                mvk_i8_avx2_store_part(dst, y8, cb);
            }
        }
        if (lut)
            mvk_i8_avx2_lut_span(out + oy * ow * c, (int64_t)ow * c, &tab, lut);
    }
}
#undef MVK_I8_DW_AVX2_MAXTAPS
