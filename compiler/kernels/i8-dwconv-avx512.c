/* INT8 depthwise convolution, AVX-512 (F/BW): bit for bit mvk_i8_dwconv__scalar
 * (docs/int8.md). The AVX2 kernel's scheme (i8-dwconv-avx2.c) on 32 channels at a time: the
 * weights are mvit_pack_i8_dw's blocks of 16 channels with taps in pairs, and a zmm holds
 * two such blocks side by side, each in the AVX2 lane order (so vpunpck{l,h}wd, working
 * within 128-bit lanes, pair the taps of both blocks at once). One tap of a pixel is one
 * 32-byte load widened by vpmovsxbw; vpmaddwd adds both taps of a pair into 16 int32 lanes.
 * Exact as on AVX2 (|pair sum| <= 2^15). Padding taps read the input zero point zx; a tail
 * block of fewer than 32 channels is read by masked loads (nothing past the pixel's
 * channels) and stored by masked stores. The loops are i8-dwconv-driver.h. */
#include <immintrin.h>

#include "mvk-avx512.h"
/* needs: i8-scalar.c i8-gemm-avx512.c (its requantisation and SiLU table) */

#define MVK_I8_DW_AVX512_MAXTAPS 49 /* up to 7x7 through the interior path below */

/* 32 input channels of one tap as int16 (zx outside the image; a tail by a masked load). */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_dw_avx512_tap(const int8_t *in, int h, int wd, int c,
                                                          int c0, int cb, int iy, int ix,
                                                          __m512i zxv)
{
    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
        return zxv;
    const int8_t *src = in + ((int64_t)iy * wd + ix) * c + c0;
    const __mmask32 m = (__mmask32)mvk_i8_avx512_bits(cb);
    return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, src));
}

/* The requantisation constants of a block's two accumulators in their lane order: lo holds
 * channels 0-3 and 8-11 of each 16-channel half (then 16 more), hi channels 4-7 and 12-15;
 * lanes past the channels get harmless values. */
static MVK_INLINE MVK_AVX512 void mvk_i8_dw_avx512_rq(const int32_t *bias, const int16_t *mult,
                                                      const int8_t *shift, int cb,
                                                      mvk_i8_avx512_rq *q /* [2] */)
{
    for (int acc = 0; acc < 2; acc++) {
        int32_t b[16];
        int16_t m[16];
        int8_t s[16];
        for (int lane = 0; lane < 16; lane++) {
            const int l8 = lane & 7;
            const int ch = 16 * (lane >> 3) + acc * 4 + (l8 < 4 ? l8 : l8 + 4);
            b[lane] = ch < cb ? bias[ch] : 0;
            m[lane] = ch < cb ? mult[ch] : 1 << 14; /* harmless, and fit the 32-bit path */
            s[lane] = ch < cb ? shift[ch] : 16;
        }
        mvk_i8_avx512_rq_init(&q[acc], b, m, s, 16);
    }
}

/* Weights of pair p for the block's two 16-channel halves, widened (the second half zero
 * where the block has no second pack block). */
static MVK_INLINE MVK_AVX512 void mvk_i8_dw_avx512_weights(const int8_t *wa, const int8_t *wb,
                                                           int p, __m512i *lo, __m512i *hi)
{
    const __m128i z = _mm_setzero_si128();
    const __m128i alo = _mm_loadu_si128((const __m128i *)(wa + p * 32));
    const __m128i ahi = _mm_loadu_si128((const __m128i *)(wa + p * 32 + 16));
    const __m128i blo = wb ? _mm_loadu_si128((const __m128i *)(wb + p * 32)) : z;
    const __m128i bhi = wb ? _mm_loadu_si128((const __m128i *)(wb + p * 32 + 16)) : z;
    *lo = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(alo), blo, 1));
    *hi = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(ahi), bhi, 1));
}

/* Both taps of a pair (inputs a, b as int16) into the accumulators. */
static MVK_INLINE MVK_AVX512 void mvk_i8_dw_avx512_pair(__m512i a, __m512i b, __m512i wlo,
                                                        __m512i whi, __m512i *lo, __m512i *hi)
{
    *lo = _mm512_add_epi32(*lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), wlo));
    *hi = _mm512_add_epi32(*hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), whi));
}

#define MVK_I8_DW_PIXELS 1
#define MVK_I8_DW_BLOCK 32

typedef struct {
    __m512i zxv, zyv;
    mvk_i8_avx512_lut tab;
} mvk_i8_dw_state__avx512;

/* Tap offsets set up once per call, the block's weights widened once per block and row. */
typedef struct {
    int interior_ok;
    int64_t off[MVK_I8_DW_AVX512_MAXTAPS + 1];
    __m512i w[2 * ((MVK_I8_DW_AVX512_MAXTAPS + 1) / 2)];
} mvk_i8_dw_work__avx512;

typedef struct {
    mvk_i8_avx512_rq q[2];
    const int8_t *wa, *wb; /* the packed weights of the block's halves (wb 0: none) */
    int pairs;
} mvk_i8_dw_block__avx512;

typedef struct {
    __m512i lo, hi;
} mvk_i8_dw_acc__avx512;

static MVK_INLINE MVK_AVX512 int mvk_i8_dw_init__avx512(mvk_i8_dw_state__avx512 *st,
                                                       mvk_i8_dw_work__avx512 *wk, int32_t zx,
                                                       int32_t zy, const int8_t *lut, int k,
                                                       int wd, int c)
{
    const int taps = k * k;
    st->zxv = _mm512_set1_epi16((int16_t)zx), st->zyv = _mm512_set1_epi32(zy);
    if (lut)
        mvk_i8_avx512_lut_init(&st->tab, lut);
    /* an odd count's partner of the last tap reads tap 0 (its weight is 0) */
    wk->interior_ok = taps <= MVK_I8_DW_AVX512_MAXTAPS;
    if (wk->interior_ok) {
        for (int t = 0; t < taps; t++)
            wk->off[t] = ((int64_t)(t / k) * wd + t % k) * c;
        wk->off[taps] = 0;
    }
    return wk->interior_ok;
}

static MVK_INLINE MVK_AVX512 void
mvk_i8_dw_block_init__avx512(mvk_i8_dw_block__avx512 *bl, mvk_i8_dw_work__avx512 *wk,
                             const int8_t *wp, const int32_t *bias, const int16_t *mult,
                             const int8_t *shift, int c0, int cb, int k)
{
    const int pairs = (k * k + 1) / 2;
    bl->wa = wp + (int64_t)(c0 / 16) * pairs * 32;
    bl->wb = cb > 16 ? bl->wa + (int64_t)pairs * 32 : 0;
    bl->pairs = pairs;
    const int widen = wk->interior_ok; /* read once: the vector stores may alias it */
    for (int p = 0; p < pairs && widen; p++)
        mvk_i8_dw_avx512_weights(bl->wa, bl->wb, p, &wk->w[2 * p], &wk->w[2 * p + 1]);
    mvk_i8_dw_avx512_rq(bias, mult, shift, cb, bl->q);
}

static MVK_INLINE MVK_AVX512 mvk_i8_dw_acc__avx512
mvk_i8_dw_start__avx512(const mvk_i8_dw_block__avx512 *bl)
{
    const mvk_i8_dw_acc__avx512 acc = {bl->q[0].bias, bl->q[1].bias};
    return acc;
}

static MVK_INLINE MVK_AVX512 void
mvk_i8_dw_fast__avx512(mvk_i8_dw_acc__avx512 *acc, const mvk_i8_dw_work__avx512 *wk,
                       const mvk_i8_dw_block__avx512 *bl, const int8_t *in, const int8_t *wp,
                       int wd, int c, int c0, int k, int y0, int x0, int stride)
{
    (void)wp, (void)k, (void)stride;
    const int8_t *src = in + ((int64_t)y0 * wd + x0) * c + c0;
    for (int p = 0; p < bl->pairs; p++)
        mvk_i8_dw_avx512_pair(
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(src + wk->off[2 * p]))),
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(src + wk->off[2 * p + 1]))),
            wk->w[2 * p], wk->w[2 * p + 1], &acc->lo, &acc->hi);
}

/* Border windows, tail blocks (and any beyond 7x7). */
static MVK_INLINE MVK_AVX512 void
mvk_i8_dw_general__avx512(mvk_i8_dw_acc__avx512 *acc, const mvk_i8_dw_state__avx512 *st,
                          const mvk_i8_dw_work__avx512 *wk, const mvk_i8_dw_block__avx512 *bl,
                          const int8_t *in, const int8_t *wp, int h, int wd, int c, int c0, int cb,
                          int k, int y0, int x0)
{
    (void)wk, (void)wp;
    const int taps = k * k;
    for (int p = 0; p < bl->pairs; p++) {
        const int t0 = 2 * p, t1 = 2 * p + 1;
        const __m512i a =
            mvk_i8_dw_avx512_tap(in, h, wd, c, c0, cb, y0 + t0 / k, x0 + t0 % k, st->zxv);
        /* an odd tap count's last pair: the partner's weight is 0, any input does */
        const __m512i b = t1 < taps ? mvk_i8_dw_avx512_tap(in, h, wd, c, c0, cb, y0 + t1 / k,
                                                           x0 + t1 % k, st->zxv)
                                    : st->zxv;
        __m512i wlo, whi;
        mvk_i8_dw_avx512_weights(bl->wa, bl->wb, p, &wlo, &whi);
        mvk_i8_dw_avx512_pair(a, b, wlo, whi, &acc->lo, &acc->hi);
    }
}

/* Requantised, zy added, packed back into channel order (vpackssdw within lanes), saturated
 * to int8, the first cb bytes stored. */
static MVK_INLINE MVK_AVX512 void mvk_i8_dw_store__avx512(const mvk_i8_dw_acc__avx512 *acc,
                                                         const mvk_i8_dw_state__avx512 *st,
                                                         const mvk_i8_dw_block__avx512 *bl,
                                                         int8_t *dst, int c, int cb, int px)
{
    (void)c, (void)px; /* one pixel per step */
    const __m512i ylo = _mm512_add_epi32(mvk_i8_avx512_requant(acc->lo, &bl->q[0]), st->zyv);
    const __m512i yhi = _mm512_add_epi32(mvk_i8_avx512_requant(acc->hi, &bl->q[1]), st->zyv);
    const __m256i y8 = _mm512_cvtsepi16_epi8(_mm512_packs_epi32(ylo, yhi));
    if (cb == 32)
        _mm256_storeu_si256((__m256i *)dst, y8);
    else
        _mm256_mask_storeu_epi8(dst, (__mmask32)mvk_i8_avx512_bits(cb), y8);
}

/* 64 bytes at a time over a whole row. */
static MVK_INLINE MVK_AVX512 void mvk_i8_dw_lut__avx512(const mvk_i8_dw_state__avx512 *st,
                                                       int8_t *y, int64_t len, const int8_t *lut)
{
    (void)lut;
    mvk_i8_avx512_lut_span(y, len, &st->tab);
}

#include "i8-dwconv-driver.h"

#undef MVK_I8_DW_AVX512_MAXTAPS
