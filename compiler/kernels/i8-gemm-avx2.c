/* INT8 GEMM, AVX2: c[M][N] = requant(bias + a[M][K] . b[K][N]) with the optional LUT, bit for
 * bit as mvk_i8_gemm__scalar (docs/int8.md). B is packed by mvit_pack_i8_b (codegen/pack.h) in
 * groups of 4 k: [ceil(N/8)][ceil(K/4)][8][4] int8, 32 bytes per panel and group. Two inner
 * loops over that one layout, chosen when the file is compiled:
 *   - vpdpbusd (MVK_AVX2_VNNI: AVX-VNNI, e.g. -mavxvnni or -march=alderlake/znver5, or
 *     AVX512-VNNI with -mavx512vnni -mavx512vl, mvk-avx2.h): vpdpbusd adds the
 *     4 products u8 x s8 of each column into its int32 lane, 32 multiply-adds per
 *     instruction. A row goes in as u = a + 128 (a XOR 0x80), so the bias is corrected by
 *     -128 * (column sum of B), computed the same way (u = 128 everywhere). vpdpbusd sums
 *     without saturation; everything is exact modulo 2^32, so the int32 result is exact.
 *   - AVX2 alone: the 32 bytes widened by vpmovsxbw into two vectors of 4 columns x 4 k
 *     int16; vpmaddwd against the broadcast (a[k..k+3]) adds two products per int32 lane,
 *     the k halves of a column in neighbouring lanes, summed by vphaddd once per tile. Exact:
 *     |pair sum| <= 2*128*127 (the u8*s8 vpmaddubsw would saturate pairs at 32767).
 * Tile: 16 columns (two panels) x 4 rows (AVX-VNNI: all in registers) or 8 rows (vpmaddwd:
 * B's 16 columns widened once into a stack buffer, then four passes of 2 rows, each keeping
 * its 8 half-sum accumulators and 4 B vectors in registers). Rows are prepared once per row
 * block into a stack buffer (u8 groups, 512 k at a time, or int16 groups, 256 k at a time).
 * Rows past mr reuse the last valid row (computed, never stored; the vpmaddwd loop neither
 * prepares nor multiplies pairs of them); a missing second panel reuses the first (never
 * stored); k past K meets zero B rows. No access goes past a row of A or C. The loops over
 * groups, blocks and tiles are i8-gemm-driver.h, shared with every ISA; this file holds the
 * AVX2 microkernels it calls. */
#include <immintrin.h>

#include "mvk-avx2.h"

#define MVK_I8_AVX2 __attribute__((target("avx2")))

/* Per-panel requantisation constants (8 columns). fast: every column has 0 <= M < 2^15 and
 * 16 <= S <= 31 (the compiler's multipliers are in [2^14, 2^15) and MobileViT's shifts land
 * there), and R runs in 32-bit lanes (mvk_i8_avx2_r32): M, S - 16, 2^(S-1). Otherwise even
 * lanes (0,2,4,6) and odd lanes as 64-bit: multiplier, shift, 2^62 + 2^(S-1), 2^(62-S). */
typedef struct {
    int fast;
    __m256i bias, m32, sh32, rnd32;
    __m256i m_e, m_o, s_e, s_o, rnd_e, rnd_o, off_e, off_o;
} mvk_i8_avx2_rq;

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_rq_init(mvk_i8_avx2_rq *q, const int32_t *bias,
                                                       const int16_t *mult, const int8_t *shift,
                                                       int nr)
{
    int32_t bb[8], mm[8], ss[8];
    int fast = 1;
    for (int j = 0; j < 8; j++) { /* lanes past nr: harmless values, never stored */
        bb[j] = j < nr && bias ? bias[j] : 0;
        mm[j] = j < nr ? mult[j] : 1 << 14;
        ss[j] = j < nr ? shift[j] : 16;
        fast &= mm[j] >= 0 && mm[j] < 1 << 15 && ss[j] >= 16 && ss[j] <= 31;
    }
    q->fast = fast;
    q->bias = _mm256_loadu_si256((const __m256i *)bb);
    if (fast) {
        const __m256i s = _mm256_loadu_si256((const __m256i *)ss), one = _mm256_set1_epi32(1);
        q->m32 = _mm256_loadu_si256((const __m256i *)mm);
        q->sh32 = _mm256_sub_epi32(s, _mm256_set1_epi32(16));
        q->rnd32 = _mm256_sllv_epi32(one, _mm256_sub_epi32(s, one));
        return;
    }
    const __m256i lo32 = _mm256_set1_epi64x(0xffffffffll), one = _mm256_set1_epi64x(1);
    const __m256i s = _mm256_loadu_si256((const __m256i *)ss);
    const __m256i m = _mm256_loadu_si256((const __m256i *)mm);
    q->m_e = m;
    q->m_o = _mm256_srli_epi64(m, 32);
    q->s_e = _mm256_and_si256(s, lo32);
    q->s_o = _mm256_srli_epi64(s, 32);
    const __m256i c62 = _mm256_set1_epi64x(62), two62 = _mm256_set1_epi64x(1ll << 62);
    q->rnd_e = _mm256_add_epi64(two62, _mm256_sllv_epi64(one, _mm256_sub_epi64(q->s_e, one)));
    q->rnd_o = _mm256_add_epi64(two62, _mm256_sllv_epi64(one, _mm256_sub_epi64(q->s_o, one)));
    q->off_e = _mm256_sllv_epi64(one, _mm256_sub_epi64(c62, q->s_e));
    q->off_o = _mm256_sllv_epi64(one, _mm256_sub_epi64(c62, q->s_o));
}

/* R on the 4 int32 values in the low halves of the 64-bit lanes of acc, clamped to
 * [-512, 512] (enough: the result only matters after adding z and clamping to int8). */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_r64(__m256i acc, __m256i m, __m256i s,
                                                      __m256i rnd, __m256i off)
{
    const __m256i t = _mm256_add_epi64(_mm256_mul_epi32(acc, m), rnd);
    __m256i r = _mm256_sub_epi64(_mm256_srlv_epi64(t, s), off);
    const __m256i hi = _mm256_set1_epi64x(512), lo = _mm256_set1_epi64x(-512);
    r = _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
    return _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
}

/* R(acc, M, S) in 32-bit lanes for 0 <= M < 2^15, 16 <= S <= 31: with acc = h 2^16 + l
 * (h = acc >> 16 arithmetic, 0 <= l < 2^16), acc M + 2^(S-1) = (h M + Y_hi) 2^16 + Y_lo where
 * Y = l M + 2^(S-1) < 2^31 + 2^30 (unsigned), and as Y_lo < 2^16 <= 2^S,
 * floor((acc M + 2^(S-1)) / 2^S) = (h M + (Y >> 16)) >> (S - 16), |h M| < 2^30: exact. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_r32(__m256i acc, const mvk_i8_avx2_rq *q)
{
    const __m256i h = _mm256_mullo_epi32(_mm256_srai_epi32(acc, 16), q->m32);
    const __m256i l = _mm256_and_si256(acc, _mm256_set1_epi32(0xffff));
    const __m256i y = _mm256_add_epi32(_mm256_mullo_epi32(l, q->m32), q->rnd32);
    return _mm256_srav_epi32(_mm256_add_epi32(h, _mm256_srli_epi32(y, 16)), q->sh32);
}

/* R of 8 accumulators with their lanes' constants, as int32 (clamped to [-512, 512] on the
 * 64-bit path; |R| < 2^30 on the 32-bit one): the caller adds z and saturates. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_requant8(__m256i acc, const mvk_i8_avx2_rq *q)
{
    if (q->fast)
        return mvk_i8_avx2_r32(acc, q);
    const __m256i e = mvk_i8_avx2_r64(acc, q->m_e, q->s_e, q->rnd_e, q->off_e);
    const __m256i o =
        mvk_i8_avx2_r64(_mm256_srli_epi64(acc, 32), q->m_o, q->s_o, q->rnd_o, q->off_o);
    return _mm256_blend_epi32(e, _mm256_slli_epi64(o, 32), 0xaa);
}

/* A 256-entry int8 table (lut[y + 128]) re-laid for vpshufb: 16 rows of 16 bytes whose XOR
 * telescopes (mvk_i8_avx2_lut32). With u = y + 128 = 16 H + l, row k < 8 is looked up at
 * u + 16 (7 - k) (unsigned saturation): bit 7 clear, and low nibble l, exactly when H <= k;
 * vpshufb gives 0 otherwise. So rows k = H..7 contribute, and with row 7 = T_7 and row k =
 * T_k ^ T_(k+1) (T_H: the 16 entries of block H) their XOR is T_H. Rows 8 + k do the same on
 * 255 - u for the blocks H >= 8 (the table read backwards). */
typedef struct {
    __m128i row[16];
} mvk_i8_avx2_lut;

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_lut_init(mvk_i8_avx2_lut *t, const int8_t *lut)
{
    const __m128i rev = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m128i up = _mm_setzero_si128(), down = up; /* T_(k+1), and its backward twin */
    for (int k = 7; k >= 0; k--) {
        const __m128i tk = _mm_loadu_si128((const __m128i *)(lut + 16 * k));
        const __m128i sk =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(lut + 240 - 16 * k)), rev);
        t->row[k] = _mm_xor_si128(tk, up);
        t->row[8 + k] = _mm_xor_si128(sk, down);
        up = tk, down = sk;
    }
}

/* The table applied to 32 int8 values: 16 independent vpshufb, XORed in a tree. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_lut32(__m256i y, const mvk_i8_avx2_lut *t)
{
    const __m256i u = _mm256_xor_si256(y, _mm256_set1_epi8((char)0x80));
    const __m256i w = _mm256_xor_si256(y, _mm256_set1_epi8(0x7f)); /* 255 - u */
    __m256i part[8];
    for (int k = 0; k < 8; k++) {
        const __m256i step = _mm256_set1_epi8((char)(16 * (7 - k)));
        part[k] = _mm256_xor_si256(
            _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(t->row[k]), _mm256_adds_epu8(u, step)),
            _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(t->row[8 + k]),
                                _mm256_adds_epu8(w, step)));
    }
    for (int width = 4; width > 0; width /= 2)
        for (int k = 0; k < width; k++)
            part[k] = _mm256_xor_si256(part[k], part[k + width]);
    return part[0];
}

/* The first n (< 16) bytes of v to dst: 8, 4, then single bytes, all from registers (a byte
 * loop through memory becomes a memcpy call where the file is not built freestanding). */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_store_part(int8_t *dst, __m128i v, int n)
{
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)dst, v);
        v = _mm_srli_si128(v, 8), dst += 8, n -= 8;
    }
    if (n >= 4) {
        const int32_t w = _mm_cvtsi128_si32(v);
        __builtin_memcpy(dst, &w, 4);
        v = _mm_srli_si128(v, 4), dst += 4, n -= 4;
    }
    for (; n > 0; n--, dst++, v = _mm_srli_si128(v, 1))
        *dst = (int8_t)_mm_cvtsi128_si32(v);
}

/* Rows r and r + 1 of a tile (accumulators a0, a1 of row r; b0, b1 of row r + 1; constants
 * q0, q1 of the two panels): requantised, zy added, saturated to int8 (the clamp), then the
 * first nr values of each valid row stored (rows: 1 or 2). */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_store_rows(int8_t *c, int64_t ldc, __m256i a0,
                                                          __m256i a1, __m256i b0, __m256i b1,
                                                          const mvk_i8_avx2_rq *q0,
                                                          const mvk_i8_avx2_rq *q1, __m256i zy,
                                                          int rows, int nr)
{
    const __m256i ya = _mm256_packs_epi32(_mm256_add_epi32(mvk_i8_avx2_requant8(a0, q0), zy),
                                          _mm256_add_epi32(mvk_i8_avx2_requant8(a1, q1), zy));
    const __m256i yb = _mm256_packs_epi32(_mm256_add_epi32(mvk_i8_avx2_requant8(b0, q0), zy),
                                          _mm256_add_epi32(mvk_i8_avx2_requant8(b1, q1), zy));
    __m256i y = _mm256_packs_epi16(ya, yb);
    /* dwords: row r cols 0-3, 8-11, row r+1 0-3, 8-11 | row r 4-7, 12-15, row r+1 4-7, 12-15 */
    y = _mm256_permutevar8x32_epi32(y, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    const __m128i r0 = _mm256_castsi256_si128(y), r1 = _mm256_extracti128_si256(y, 1);
    if (nr == 16) {
        _mm_storeu_si128((__m128i *)c, r0);
        if (rows > 1)
            _mm_storeu_si128((__m128i *)(c + ldc), r1);
        return;
    }
    mvk_i8_avx2_store_part(c, r0, nr);
    if (rows > 1)
        mvk_i8_avx2_store_part(c + ldc, r1, nr);
}

/* The table on len bytes in place: 32 at a time, then 16 and 8 through the low lane (the
 * rest of the vector is never stored), the last few one by one. */
static MVK_INLINE MVK_I8_AVX2 void
mvk_i8_avx2_lut_span(int8_t *y, int64_t len, const mvk_i8_avx2_lut *tab, const int8_t *lut)
{
    int64_t i = 0;
    for (; i + 32 <= len; i += 32)
        _mm256_storeu_si256((__m256i *)(y + i),
                            mvk_i8_avx2_lut32(_mm256_loadu_si256((const __m256i *)(y + i)), tab));
    if (i + 16 <= len) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(y + i));
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_castsi256_si128(mvk_i8_avx2_lut32(_mm256_castsi128_si256(v), tab)));
        i += 16;
    }
    if (i + 8 <= len) {
        const __m128i v = _mm_loadl_epi64((const __m128i *)(y + i));
        _mm_storel_epi64((__m128i *)(y + i),
                         _mm256_castsi256_si128(mvk_i8_avx2_lut32(_mm256_castsi128_si256(v), tab)));
        i += 8;
    }
    for (; i < len; i++)
        y[i] = lut[y[i] + 128];
}

#if defined(MVK_AVX2_VNNI)
#define MVK_I8_AVX2_ROWS 4
#define MVK_I8_AVX2_KG 128 /* groups of 4 k of A prepared at a time (4 rows: 4 KiB of stack) */
/* rows of a block the tile reads: all 4, in registers */
#define MVK_I8_AVX2_ROWS_READ(mr) MVK_I8_AVX2_ROWS
#else
/* 8 rows share each widening of B; 64 groups: 4 KiB of prepared A, 8 KiB of widened B */
#define MVK_I8_AVX2_ROWS 8
#define MVK_I8_AVX2_KG 64
/* rows of a block the tile reads: the pairs that hold a valid row */
#define MVK_I8_AVX2_ROWS_READ(mr) (((mr) + 1) & ~1)
#endif
#define MVK_I8_AVX2_NC 128 /* columns whose requantisation constants are set up at once */

/* Stack buffers of one GEMM call: A's rows as prepared for the inner loop; for the vpmaddwd
 * loop also the 16 columns of B being multiplied, widened to int16 once per row block. */
typedef struct {
    int64_t aw[MVK_I8_AVX2_ROWS * MVK_I8_AVX2_KG];
#if !defined(MVK_AVX2_VNNI)
    __m256i bw[4 * MVK_I8_AVX2_KG];
#endif
} mvk_i8_avx2_work;

/* The prepared rows live in an int64_t buffer written as bytes or int16 and read as int32 or
 * int64: every scalar access goes through memcpy (vector ones may alias), so no compiler
 * may assume the types keep them apart. */
static MVK_INLINE int32_t mvk_i8_avx2_ld32(const int64_t *p, int i)
{
    int32_t v;
    __builtin_memcpy(&v, (const char *)p + 4 * (int64_t)i, 4);
    return v;
}

static MVK_INLINE int64_t mvk_i8_avx2_ld64(const int64_t *p, int i)
{
    int64_t v;
    __builtin_memcpy(&v, p + i, 8);
    return v;
}

#if defined(MVK_AVX2_VNNI)
/* Groups [g0, g0 + ng) of row a as 4 bytes a + 128 each (past k: 128, against zero B): 16,
 * 8, 4 bytes at a time, then the last few (a 3x3x3 stem's K = 27 is 16 + 8 + 3). */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_prep_row(const int8_t *a, int k, int g0, int ng,
                                                        int64_t *dst)
{
    uint8_t *d = (uint8_t *)dst;
    const int64_t k0 = 4 * (int64_t)g0, len = 4 * (int64_t)ng;
    const int64_t have = k - k0 < len ? k - k0 : len; /* bytes of the row in these groups */
    const int8_t *src = a + k0;
    const __m128i flip = _mm_set1_epi8((char)0x80);
    int64_t i = 0;
    for (; i + 16 <= have; i += 16)
        _mm_storeu_si128((__m128i *)(d + i),
                         _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), flip));
    if (i + 8 <= have) {
        _mm_storel_epi64((__m128i *)(d + i),
                         _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(src + i)), flip));
        i += 8;
    }
    if (i + 4 <= have) {
        uint32_t w;
        __builtin_memcpy(&w, src + i, 4);
        w ^= 0x80808080u;
        __builtin_memcpy(d + i, &w, 4);
        i += 4;
    }
    for (; i < have; i++)
        d[i] = (uint8_t)((uint8_t)src[i] ^ 0x80u);
    for (; i < len; i++)
        d[i] = 0x80u;
}

/* One 4x16 tile over groups [0, ng): acc += a . b (u8 a: the caller's bias holds the
 * correction). 8 accumulators, 2 B, 1 A broadcast. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_tile(mvk_i8_avx2_work *w, int ng, int mr,
                                                    const int8_t *b0p, const int8_t *b1p,
                                                    __m256i *acc)
{
    (void)mr; /* rows past mr repeat the last one: the 4 rows run in registers anyway */
    const int64_t *aw = w->aw;
    __m256i c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
    __m256i c20 = acc[4], c21 = acc[5], c30 = acc[6], c31 = acc[7];
    /* rows ng int64 apart, like the vpmaddwd loop's (the u8 groups fill half of each) */
    const int64_t *a0 = aw, *a1 = aw + ng, *a2 = aw + 2 * ng, *a3 = aw + 3 * ng;
    for (int g = 0; g < ng; g++, b0p += 32, b1p += 32) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)b0p);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)b1p);
        __m256i a = _mm256_set1_epi32(mvk_i8_avx2_ld32(a0, g));
        c00 = mvk_avx2_dpbusd(c00, a, b0);
        c01 = mvk_avx2_dpbusd(c01, a, b1);
        a = _mm256_set1_epi32(mvk_i8_avx2_ld32(a1, g));
        c10 = mvk_avx2_dpbusd(c10, a, b0);
        c11 = mvk_avx2_dpbusd(c11, a, b1);
        a = _mm256_set1_epi32(mvk_i8_avx2_ld32(a2, g));
        c20 = mvk_avx2_dpbusd(c20, a, b0);
        c21 = mvk_avx2_dpbusd(c21, a, b1);
        a = _mm256_set1_epi32(mvk_i8_avx2_ld32(a3, g));
        c30 = mvk_avx2_dpbusd(c30, a, b0);
        c31 = mvk_avx2_dpbusd(c31, a, b1);
    }
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}

/* 128 * (sum over k of b[k][j]) for the 8 columns of a panel: what a + 128 adds. Four
 * independent sums: one chain of vpdpbusd would wait on its latency. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_bias_fix(const int8_t *bp, int groups)
{
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    int g = 0;
    for (; g + 4 <= groups; g += 4, bp += 128) {
        s0 = mvk_avx2_dpbusd(s0, u128, _mm256_loadu_si256((const __m256i *)bp));
        s1 = mvk_avx2_dpbusd(s1, u128, _mm256_loadu_si256((const __m256i *)(bp + 32)));
        s2 = mvk_avx2_dpbusd(s2, u128, _mm256_loadu_si256((const __m256i *)(bp + 64)));
        s3 = mvk_avx2_dpbusd(s3, u128, _mm256_loadu_si256((const __m256i *)(bp + 96)));
    }
    for (; g < groups; g++, bp += 32)
        s0 = mvk_avx2_dpbusd(s0, u128, _mm256_loadu_si256((const __m256i *)bp));
    return _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
}
#else
/* Groups [g0, g0 + ng) of row a as 4 int16 each (past k: 0): 16 and 8 values at a time,
 * then the last few. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_prep_row(const int8_t *a, int k, int g0, int ng,
                                                        int64_t *dst)
{
    char *d = (char *)dst;
    const int64_t k0 = 4 * (int64_t)g0, len = 4 * (int64_t)ng;
    const int64_t have = k - k0 < len ? k - k0 : len; /* values of the row in these groups */
    const int8_t *src = a + k0;
    int64_t i = 0;
    for (; i + 16 <= have; i += 16)
        _mm256_storeu_si256((__m256i *)(d + 2 * i),
                            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
    if (i + 8 <= have) {
        _mm_storeu_si128((__m128i *)(d + 2 * i),
                         _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(src + i))));
        i += 8;
    }
    for (; i < len; i++) {
        const int16_t v = (int16_t)(i < have ? src[i] : 0);
        __builtin_memcpy(d + 2 * i, &v, 2);
    }
}

/* Groups [0, ng) of the panels b0p, b1p widened to int16 into bw, 4 vectors per group: each
 * 32 bytes (8 columns x 4 k) as two vectors of 4 columns x 4 k. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_widen_b(const int8_t *b0p, const int8_t *b1p, int ng,
                                                       __m256i *bw)
{
    for (int g = 0; g < ng; g++, b0p += 32, b1p += 32, bw += 4) {
        bw[0] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b0p));
        bw[1] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0p + 16)));
        bw[2] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b1p));
        bw[3] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b1p + 16)));
    }
}

/* Rows ra, rb of a tile over groups [0, ng) against the widened B: 2 rows x 4 quarter-panels
 * of half sums (lanes: column c's k 0-1 and k 2-3 side by side), then vphaddd + vpermq into
 * acc. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_tile2(const int64_t *ra, const int64_t *rb, int ng,
                                                     const __m256i *bw, __m256i *acc_a,
                                                     __m256i *acc_b)
{
    __m256i s00 = _mm256_setzero_si256(), s01 = s00, s02 = s00, s03 = s00;
    __m256i s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    for (int g = 0; g < ng; g++, bw += 4) {
        const __m256i w0 = bw[0], w1 = bw[1], w2 = bw[2], w3 = bw[3];
        __m256i a = _mm256_set1_epi64x(mvk_i8_avx2_ld64(ra, g));
        s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(a, w0));
        s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(a, w1));
        s02 = _mm256_add_epi32(s02, _mm256_madd_epi16(a, w2));
        s03 = _mm256_add_epi32(s03, _mm256_madd_epi16(a, w3));
        a = _mm256_set1_epi64x(mvk_i8_avx2_ld64(rb, g));
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(a, w0));
        s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(a, w1));
        s12 = _mm256_add_epi32(s12, _mm256_madd_epi16(a, w2));
        s13 = _mm256_add_epi32(s13, _mm256_madd_epi16(a, w3));
    }
    /* vphaddd: columns 0 1 4 5 | 2 3 6 7; vpermq 0xd8 puts them in order */
    acc_a[0] =
        _mm256_add_epi32(acc_a[0], _mm256_permute4x64_epi64(_mm256_hadd_epi32(s00, s01), 0xd8));
    acc_a[1] =
        _mm256_add_epi32(acc_a[1], _mm256_permute4x64_epi64(_mm256_hadd_epi32(s02, s03), 0xd8));
    acc_b[0] =
        _mm256_add_epi32(acc_b[0], _mm256_permute4x64_epi64(_mm256_hadd_epi32(s10, s11), 0xd8));
    acc_b[1] =
        _mm256_add_epi32(acc_b[1], _mm256_permute4x64_epi64(_mm256_hadd_epi32(s12, s13), 0xd8));
}

/* One 8x16 tile over groups [0, ng): B widened once (widened per pair of rows, its 4
 * vpmovsxbw per group cost about as many micro-ops as the pair's 8 vpmaddwd), then pairs of
 * rows; pairs wholly past mr are skipped (their accumulators are never stored). */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_tile(mvk_i8_avx2_work *w, int ng, int mr,
                                                    const int8_t *b0p, const int8_t *b1p,
                                                    __m256i *acc)
{
    mvk_i8_avx2_widen_b(b0p, b1p, ng, w->bw);
    for (int r = 0; r < mr; r += 2)
        mvk_i8_avx2_tile2(w->aw + r * ng, w->aw + (r + 1) * ng, ng, w->bw, acc + 2 * r,
                          acc + 2 * r + 2);
}
#endif

/* acc (holding the bias) += the row block times the 16 columns of panels b0p, b1p over all of
 * k: from aw as prepared by mvk_i8_gemm_prep__avx2, or KG groups at a time when k is longer. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_accumulate(const int8_t *const *arow, int k, int mr,
                                                          mvk_i8_avx2_work *w, const int8_t *b0p,
                                                          const int8_t *b1p, __m256i *acc)
{
    const int groups = (k + 3) / 4;
    if (groups <= MVK_I8_AVX2_KG) {
        mvk_i8_avx2_tile(w, groups, mr, b0p, b1p, acc);
        return;
    }
    for (int g0 = 0; g0 < groups; g0 += MVK_I8_AVX2_KG) {
        const int ng = groups - g0 < MVK_I8_AVX2_KG ? groups - g0 : MVK_I8_AVX2_KG;
        for (int r = 0; r < MVK_I8_AVX2_ROWS_READ(mr); r++)
            mvk_i8_avx2_prep_row(arow[r], k, g0, ng, w->aw + r * ng);
        mvk_i8_avx2_tile(w, ng, mr, b0p + (int64_t)g0 * 32, b1p + (int64_t)g0 * 32, acc);
    }
}

/* The bias of a panel's 8 columns as the accumulators start (with the AVX-VNNI correction). */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_start(__m256i bias, const int8_t *bp, int k)
{
#if defined(MVK_AVX2_VNNI)
    return _mm256_sub_epi32(bias, mvk_i8_avx2_bias_fix(bp, (k + 3) / 4));
#else
    (void)bp, (void)k;
    return bias;
#endif
}

/* The per-call values (kept in registers where they fit: a separate object from the work
 * buffers below, which are indexed at run time and so stay in memory). */
typedef struct {
    __m256i zyv;
    mvk_i8_avx2_lut tab;
} mvk_i8_gemm_state__avx2;

/* The stack buffers: A prepared, B widened, the requantisation constants of a column group. */
typedef struct {
    mvk_i8_avx2_work w;
    mvk_i8_avx2_rq q[MVK_I8_AVX2_NC / 8];
} mvk_i8_gemm_work__avx2;

/* Requantisation constants per column group, not per tile: per tile, their scalar set-up
 * (stored lanes read back as vectors) cost as much as a small-K tile's whole product. */
#define MVK_I8_GEMM_NC(n) MVK_I8_AVX2_NC
#define MVK_I8_GEMM_ROWS MVK_I8_AVX2_ROWS
#define MVK_I8_GEMM_TILE_ROWS MVK_I8_AVX2_ROWS /* the tile is the block: A prepared once */
#define MVK_I8_GEMM_TILE_COLS 16
#define MVK_I8_GEMM_PANEL_COLS 8

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_init__avx2(mvk_i8_gemm_state__avx2 *st, int32_t zy,
                                                          const int8_t *lut)
{
    st->zyv = _mm256_set1_epi32(zy);
    if (lut)
        mvk_i8_avx2_lut_init(&st->tab, lut);
}

/* The constants of columns [j0, j0 + nc), panel by panel, with their start values. */
static MVK_INLINE MVK_I8_AVX2 void
mvk_i8_gemm_group__avx2(mvk_i8_gemm_work__avx2 *wk, const int32_t *bias, const int16_t *mult,
                        const int8_t *shift, const int8_t *bp, int64_t panel, int j0, int nc, int n,
                        int k)
{
    for (int p = 0; p < (nc + 7) / 8; p++) {
        const int j = j0 + 8 * p;
        mvk_i8_avx2_rq_init(&wk->q[p], bias ? bias + j : 0, mult + j, shift + j,
                            n - j < 8 ? n - j : 8);
        wk->q[p].bias = mvk_i8_avx2_start(wk->q[p].bias, bp + (int64_t)(j / 8) * panel, k);
    }
}

/* A prepared once per row block into aw when K fits one chunk (groups <= KG), for every
 * column tile. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_prep__avx2(mvk_i8_gemm_work__avx2 *wk,
                                                          const int8_t *const *arow, int mr, int k)
{
    const int groups = (k + 3) / 4;
    (void)mr; /* AVX-VNNI prepares all 4 rows */
    if (groups <= MVK_I8_AVX2_KG)
        for (int r = 0; r < MVK_I8_AVX2_ROWS_READ(mr); r++)
            mvk_i8_avx2_prep_row(arow[r], k, 0, groups, wk->w.aw + r * groups);
}

/* A tile's two panels and the indices of their constants in the group (a missing second
 * panel reuses the first). Indices, not pointers: a pointer into the state stored here would
 * keep the compiler from holding the table in registers. */
typedef struct {
    const int8_t *b0p, *b1p;
    int q0, q1;
} mvk_i8_gemm_cols__avx2;

static MVK_INLINE MVK_I8_AVX2 void
mvk_i8_gemm_cols_init__avx2(mvk_i8_gemm_cols__avx2 *cl, const mvk_i8_gemm_work__avx2 *wk,
                            const int32_t *bias, const int16_t *mult, const int8_t *shift,
                            const int8_t *b, int64_t panel, int j, int jj, int nr)
{
    (void)wk, (void)bias, (void)mult, (void)shift, (void)j; /* set up per group */
    cl->b0p = b;
    cl->b1p = nr > 8 ? b + panel : b;
    cl->q0 = jj / 8;
    cl->q1 = nr > 8 ? cl->q0 + 1 : cl->q0;
}

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_tile__avx2(const mvk_i8_gemm_state__avx2 *st,
                                                          mvk_i8_gemm_work__avx2 *wk,
                                                          const mvk_i8_gemm_cols__avx2 *cl,
                                                          const int8_t *const *arow, int mr, int k,
                                                          int8_t *c, int64_t ldc, int nr)
{
    const mvk_i8_avx2_rq *q0 = &wk->q[cl->q0], *q1 = &wk->q[cl->q1];
    __m256i acc[2 * MVK_I8_AVX2_ROWS];
    for (int r = 0; r < MVK_I8_AVX2_ROWS; r++)
        acc[2 * r] = q0->bias, acc[2 * r + 1] = q1->bias;
    mvk_i8_avx2_accumulate(arow, k, mr, &wk->w, cl->b0p, cl->b1p, acc);
    for (int r = 0; r < mr; r += 2)
        mvk_i8_avx2_store_rows(c + r * ldc, ldc, acc[2 * r], acc[2 * r + 1], acc[2 * r + 2],
                               acc[2 * r + 3], q0, q1, st->zyv, mr - r < 2 ? 1 : 2, nr);
}

/* Outside the tiles' epilogue, the table's 16 rows need not share the registers with the
 * accumulators. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_lut__avx2(const mvk_i8_gemm_state__avx2 *st,
                                                         int8_t *y, int64_t len, const int8_t *lut)
{
    mvk_i8_avx2_lut_span(y, len, &st->tab, lut);
}

/* The classifier's column tile: start values and scales of its 16 columns (0 past nr). */
typedef struct {
    const int8_t *b0p, *b1p;
    __m256i start0, start1;
    float sc[16];
} mvk_i8_gemm_f32cols__avx2;

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_f32cols_init__avx2(mvk_i8_gemm_f32cols__avx2 *fc,
                                                                  const int8_t *b, int64_t panel,
                                                                  const int32_t *bias,
                                                                  const float *scale, int nr,
                                                                  int k)
{
    int32_t bb[16];
    for (int t = 0; t < 16; t++) {
        bb[t] = t < nr ? bias[t] : 0;
        fc->sc[t] = t < nr ? scale[t] : 0.0f;
    }
    fc->b0p = b;
    fc->b1p = nr > 8 ? b + panel : b;
    fc->start0 = mvk_i8_avx2_start(_mm256_loadu_si256((const __m256i *)bb), fc->b0p, k);
    fc->start1 = mvk_i8_avx2_start(_mm256_loadu_si256((const __m256i *)(bb + 8)), fc->b1p, k);
}

/* vcvtdq2ps and vmulps round once each, like the scalar kernel's conversion and product (no
 * FMA contraction: separate instructions); masked stores, so no write past column n. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_gemm_f32tile__avx2(mvk_i8_gemm_work__avx2 *wk,
                                                             const mvk_i8_gemm_f32cols__avx2 *fc,
                                                             const int8_t *const *arow, int mr,
                                                             int k, float *c, int64_t ldc, int nr)
{
    __m256i acc[2 * MVK_I8_AVX2_ROWS];
    for (int r = 0; r < MVK_I8_AVX2_ROWS; r++)
        acc[2 * r] = fc->start0, acc[2 * r + 1] = fc->start1;
    mvk_i8_avx2_accumulate(arow, k, mr, &wk->w, fc->b0p, fc->b1p, acc);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i keep0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    const __m256i keep1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    for (int r = 0; r < mr; r++) {
        float *dst = c + r * ldc;
        _mm256_maskstore_ps(
            dst, keep0, _mm256_mul_ps(_mm256_cvtepi32_ps(acc[2 * r]), _mm256_loadu_ps(fc->sc)));
        if (nr > 8) /* no pointer past the row's end */
            _mm256_maskstore_ps(
                dst + 8, keep1,
                _mm256_mul_ps(_mm256_cvtepi32_ps(acc[2 * r + 1]), _mm256_loadu_ps(fc->sc + 8)));
    }
}

#include "i8-gemm-driver.h"

#undef MVK_I8_AVX2_ROWS
#undef MVK_I8_AVX2_ROWS_READ
#undef MVK_I8_AVX2_KG
#undef MVK_I8_AVX2_NC
