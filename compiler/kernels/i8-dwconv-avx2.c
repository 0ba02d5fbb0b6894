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
 * requantisation and the vpshufb SiLU table). The loops are i8-dwconv-driver.h, shared with
 * every ISA; this file holds the AVX2 microkernels it calls. */
#include <immintrin.h>

#include "mvk-avx2.h"
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

#define MVK_I8_DW_PIXELS 1
#define MVK_I8_DW_BLOCK 16

typedef struct {
    __m256i zxv, zyv;
    mvk_i8_avx2_lut tab;
} mvk_i8_dw_state__avx2;

/* A window inside the image (and a whole block of 16 channels) reads its taps at offsets set
 * up once per call, with weights widened once per block and row: no bounds test and no
 * division by k per tap. */
typedef struct {
    int interior_ok;
    int64_t off[MVK_I8_DW_AVX2_MAXTAPS + 1];
    __m256i w[2 * ((MVK_I8_DW_AVX2_MAXTAPS + 1) / 2)];
} mvk_i8_dw_work__avx2;

typedef struct {
    mvk_i8_avx2_rq q[2];
    const int8_t *wb; /* the block's packed weights */
    int pairs;
} mvk_i8_dw_block__avx2;

typedef struct {
    __m256i lo, hi;
} mvk_i8_dw_acc__avx2;

static MVK_INLINE MVK_I8_DW_AVX2 int mvk_i8_dw_init__avx2(mvk_i8_dw_state__avx2 *st,
                                                         mvk_i8_dw_work__avx2 *wk, int32_t zx,
                                                         int32_t zy, const int8_t *lut, int k,
                                                         int wd, int c)
{
    const int taps = k * k;
    st->zxv = _mm256_set1_epi16((int16_t)zx), st->zyv = _mm256_set1_epi32(zy);
    if (lut)
        mvk_i8_avx2_lut_init(&st->tab, lut);
    /* byte offsets of the taps from the window's first pixel; an odd count's partner of the
     * last tap reads tap 0 (its weight is 0) */
    wk->interior_ok = taps <= MVK_I8_DW_AVX2_MAXTAPS;
    if (wk->interior_ok) {
        for (int t = 0; t < taps; t++)
            wk->off[t] = ((int64_t)(t / k) * wd + t % k) * c;
        wk->off[taps] = 0;
    }
    return wk->interior_ok;
}

static MVK_INLINE MVK_I8_DW_AVX2 void
mvk_i8_dw_block_init__avx2(mvk_i8_dw_block__avx2 *bl, mvk_i8_dw_work__avx2 *wk, const int8_t *wp,
                           const int32_t *bias, const int16_t *mult, const int8_t *shift, int c0,
                           int cb, int k)
{
    const int pairs = (k * k + 1) / 2;
    const int8_t *wb = wp + (int64_t)(c0 / 16) * pairs * 32;
    const int widen = wk->interior_ok; /* read once: the vector stores may alias it */
    for (int p = 0; p < pairs && widen; p++) {
        wk->w[2 * p] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32)));
        wk->w[2 * p + 1] =
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)));
    }
    mvk_i8_dw_avx2_rq(bias, mult, shift, cb, bl->q);
    bl->wb = wb;
    bl->pairs = pairs;
}

static MVK_INLINE MVK_I8_DW_AVX2 mvk_i8_dw_acc__avx2
mvk_i8_dw_start__avx2(const mvk_i8_dw_block__avx2 *bl)
{
    const mvk_i8_dw_acc__avx2 acc = {bl->q[0].bias, bl->q[1].bias};
    return acc;
}

static MVK_INLINE MVK_I8_DW_AVX2 void
mvk_i8_dw_fast__avx2(mvk_i8_dw_acc__avx2 *acc, const mvk_i8_dw_work__avx2 *wk,
                     const mvk_i8_dw_block__avx2 *bl, const int8_t *in, const int8_t *wp, int wd,
                     int c, int c0, int k, int y0, int x0, int stride)
{
    (void)wp, (void)k, (void)stride;
    const int8_t *src = in + ((int64_t)y0 * wd + x0) * c + c0;
    for (int p = 0; p < bl->pairs; p++)
        mvk_i8_dw_avx2_pair(
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + wk->off[2 * p]))),
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + wk->off[2 * p + 1]))),
            wk->w, p, &acc->lo, &acc->hi);
}

/* Border windows (and any beyond 7x7). */
static MVK_INLINE MVK_I8_DW_AVX2 void
mvk_i8_dw_general__avx2(mvk_i8_dw_acc__avx2 *acc, const mvk_i8_dw_state__avx2 *st,
                        const mvk_i8_dw_work__avx2 *wk, const mvk_i8_dw_block__avx2 *bl,
                        const int8_t *in, const int8_t *wp, int h, int wd, int c, int c0, int cb,
                        int k, int y0, int x0)
{
    (void)wk, (void)wp;
    const int taps = k * k;
    const int8_t *wb = bl->wb;
    for (int p = 0; p < bl->pairs; p++) {
        const int t0 = 2 * p, t1 = 2 * p + 1;
        const __m256i a =
            mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb, y0 + t0 / k, x0 + t0 % k, st->zxv);
        /* an odd tap count's last pair: the partner's weight is 0, any input does */
        const __m256i b = t1 < taps ? mvk_i8_dw_avx2_tap(in, h, wd, c, c0, cb, y0 + t1 / k,
                                                         x0 + t1 % k, st->zxv)
                                    : st->zxv;
        const __m256i wq[2] = {
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32))),
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)))};
        mvk_i8_dw_avx2_pair(a, b, wq, 0, &acc->lo, &acc->hi);
    }
}

/* Requantised, zy added, packed back into channel order, the first cb bytes stored. */
static MVK_INLINE MVK_I8_DW_AVX2 void mvk_i8_dw_store__avx2(const mvk_i8_dw_acc__avx2 *acc,
                                                           const mvk_i8_dw_state__avx2 *st,
                                                           const mvk_i8_dw_block__avx2 *bl,
                                                           int8_t *dst, int c, int cb, int px)
{
    (void)c, (void)px; /* one pixel per step */
    const __m256i ylo = _mm256_add_epi32(mvk_i8_avx2_requant8(acc->lo, &bl->q[0]), st->zyv);
    const __m256i yhi = _mm256_add_epi32(mvk_i8_avx2_requant8(acc->hi, &bl->q[1]), st->zyv);
    const __m256i y16 = _mm256_packs_epi32(ylo, yhi);
    const __m128i y8 =
        _mm_packs_epi16(_mm256_castsi256_si128(y16), _mm256_extracti128_si256(y16, 1));
    if (cb == 16) {
        _mm_storeu_si128((__m128i *)dst, y8);
        return;
    }
    mvk_i8_avx2_store_part(dst, y8, cb);
}

/* 32 bytes at a time over a whole row (per pixel it would run on 16). */
static MVK_INLINE MVK_I8_DW_AVX2 void mvk_i8_dw_lut__avx2(const mvk_i8_dw_state__avx2 *st,
                                                         int8_t *y, int64_t len, const int8_t *lut)
{
    mvk_i8_avx2_lut_span(y, len, &st->tab, lut);
}

#include "i8-dwconv-driver.h"

#undef MVK_I8_DW_AVX2_MAXTAPS
