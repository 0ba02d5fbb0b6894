/* INT8 GEMM, AVX-512 (F/BW/DQ/VL): c[M][N] = requant(bias + a[M][K] . b[K][N]) with the
 * optional LUT, bit for bit as mvk_i8_gemm__scalar (docs/int8.md). B is packed by
 * mvit_pack_i8_b (codegen/pack.h) in 16-column panels: [ceil(N/16)][ceil(K/4)][16][4] int8,
 * 64 bytes (one zmm: a column's 4 k per int32 lane) per panel and group. Two inner loops over
 * that one layout, chosen when the file is compiled:
 *   - vpdpbusd (AVX512-VNNI, -mavx512vnni: Ice Lake, Zen 4/5): 64 u8 x s8 products into 16
 *     int32 lanes per instruction, A's group broadcast from memory ({1to16}). A row goes in
 *     as u = a + 128 (a XOR 0x80), so the start values hold -128 * (column sum of B), found
 *     the same way (u = 128 everywhere). Sums wrap modulo 2^32 and the true result fits in
 *     int32, so it is exact. Tile: 12 rows x 32 columns, 24 accumulators of the 32 registers
 *     (12 x 16 where one panel is left).
 *   - vpmaddwd (AVX-512 without VNNI: Skylake-SP, Cascade Lake): B's 32 columns widened to
 *     int16 once per row block (4 zmm per group: 8 columns x 4 k each), A's groups as 4
 *     int16 broadcast as one 64-bit lane; vpmaddwd adds pairs (|sum| <= 2*128*127: exact),
 *     leaving each column's k 0-1 and k 2-3 half sums side by side, added and gathered into
 *     column order once per tile. Rows in passes of 4 (16 accumulators).
 * The requantisation is mvk_i8_avx2's on 16 lanes; saturation to int8 by vpmovsdb; stores
 * masked (no access past a row of C). The SiLU table: vpermi2b on two 128-byte halves where
 * the file is built with AVX512-VBMI, else the vpshufb tree of mvk_i8_avx2_lut32 on 64
 * bytes. The loops over groups, blocks and tiles are i8-gemm-driver.h. */
#include <immintrin.h>

#include "mvk-avx512.h"

#if defined(__AVX512VNNI__)
#define MVK_I8_AVX512_VNNI 1
#endif

/* The first n bits (n clamped to 0..64), without BMI2's bzhi (not among the target's
 * features). */
static MVK_INLINE uint64_t mvk_i8_avx512_bits(int64_t n)
{
    return n >= 64 ? ~0ull : n <= 0 ? 0 : (1ull << n) - 1;
}

/* Per-panel requantisation constants (16 columns), as mvk_i8_avx2_rq. */
typedef struct {
    int fast;
    __m512i bias, m32, sh32, rnd32;
    __m512i m_e, m_o, s_e, s_o, rnd_e, rnd_o, off_e, off_o;
} mvk_i8_avx512_rq;

static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_rq_init(mvk_i8_avx512_rq *q, const int32_t *bias,
                                                        const int16_t *mult, const int8_t *shift,
                                                        int nr)
{
    int32_t bb[16], mm[16], ss[16];
    int fast = 1;
    for (int j = 0; j < 16; j++) { /* lanes past nr: harmless values, never stored */
        bb[j] = j < nr && bias ? bias[j] : 0;
        mm[j] = j < nr ? mult[j] : 1 << 14;
        ss[j] = j < nr ? shift[j] : 16;
        fast &= mm[j] >= 0 && mm[j] < 1 << 15 && ss[j] >= 16 && ss[j] <= 31;
    }
    q->fast = fast;
    q->bias = _mm512_loadu_si512(bb);
    const __m512i s = _mm512_loadu_si512(ss), m = _mm512_loadu_si512(mm);
    if (fast) {
        const __m512i one = _mm512_set1_epi32(1);
        q->m32 = m;
        q->sh32 = _mm512_sub_epi32(s, _mm512_set1_epi32(16));
        q->rnd32 = _mm512_sllv_epi32(one, _mm512_sub_epi32(s, one));
        return;
    }
    const __m512i lo32 = _mm512_set1_epi64(0xffffffffll), one = _mm512_set1_epi64(1);
    q->m_e = m;
    q->m_o = _mm512_srli_epi64(m, 32);
    q->s_e = _mm512_and_si512(s, lo32);
    q->s_o = _mm512_srli_epi64(s, 32);
    const __m512i c62 = _mm512_set1_epi64(62), two62 = _mm512_set1_epi64(1ll << 62);
    q->rnd_e = _mm512_add_epi64(two62, _mm512_sllv_epi64(one, _mm512_sub_epi64(q->s_e, one)));
    q->rnd_o = _mm512_add_epi64(two62, _mm512_sllv_epi64(one, _mm512_sub_epi64(q->s_o, one)));
    q->off_e = _mm512_sllv_epi64(one, _mm512_sub_epi64(c62, q->s_e));
    q->off_o = _mm512_sllv_epi64(one, _mm512_sub_epi64(c62, q->s_o));
}

/* R on the 8 int32 values in the low halves of the 64-bit lanes (mvk_i8_avx2_r64), clamped
 * to [-512, 512]. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_r64(__m512i acc, __m512i m, __m512i s,
                                                       __m512i rnd, __m512i off)
{
    const __m512i t = _mm512_add_epi64(_mm512_mul_epi32(acc, m), rnd);
    const __m512i r = _mm512_sub_epi64(_mm512_srlv_epi64(t, s), off);
    return _mm512_max_epi64(_mm512_min_epi64(r, _mm512_set1_epi64(512)), _mm512_set1_epi64(-512));
}

/* R in 32-bit lanes for 0 <= M < 2^15, 16 <= S <= 31: mvk_i8_avx2_r32's identity. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_r32(__m512i acc, const mvk_i8_avx512_rq *q)
{
    const __m512i h = _mm512_mullo_epi32(_mm512_srai_epi32(acc, 16), q->m32);
    const __m512i l = _mm512_and_si512(acc, _mm512_set1_epi32(0xffff));
    const __m512i y = _mm512_add_epi32(_mm512_mullo_epi32(l, q->m32), q->rnd32);
    return _mm512_srav_epi32(_mm512_add_epi32(h, _mm512_srli_epi32(y, 16)), q->sh32);
}

/* R of 16 accumulators with their lanes' constants, as int32 (clamped to [-512, 512] on the
 * 64-bit path; |R| < 2^30 on the 32-bit one): the caller adds z and saturates. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_requant(__m512i acc, const mvk_i8_avx512_rq *q)
{
    if (q->fast)
        return mvk_i8_avx512_r32(acc, q);
    const __m512i e = mvk_i8_avx512_r64(acc, q->m_e, q->s_e, q->rnd_e, q->off_e);
    const __m512i o =
        mvk_i8_avx512_r64(_mm512_srli_epi64(acc, 32), q->m_o, q->s_o, q->rnd_o, q->off_o);
    return _mm512_mask_blend_epi32(0xaaaa, e, _mm512_slli_epi64(o, 32));
}

/* The 16 accumulators requantised, zy added, saturated to int8 (the clamp). */
static MVK_INLINE MVK_AVX512 __m128i mvk_i8_avx512_requant16(__m512i acc, const mvk_i8_avx512_rq *q,
                                                             __m512i zy)
{
    return _mm512_cvtsepi32_epi8(_mm512_add_epi32(mvk_i8_avx512_requant(acc, q), zy));
}

// ---- the SiLU table

#if defined(__AVX512VBMI__)
/* The 256 entries as four zmm: vpermi2b looks up 128 entries by the low 7 bits, the top bit
 * of u = y + 128 picks the half. */
typedef struct {
    __m512i t[4];
} mvk_i8_avx512_lut;

static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_lut_init(mvk_i8_avx512_lut *t, const int8_t *lut)
{
    for (int i = 0; i < 4; i++)
        t->t[i] = _mm512_loadu_si512(lut + 64 * i);
}

static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_lut64(__m512i y, const mvk_i8_avx512_lut *t)
{
    const __m512i u = _mm512_xor_si512(y, _mm512_set1_epi8((char)0x80));
    const __m512i lo = _mm512_permutex2var_epi8(t->t[0], u, t->t[1]);
    const __m512i hi = _mm512_permutex2var_epi8(t->t[2], u, t->t[3]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(u), lo, hi);
}
#else
/* mvk_i8_avx2_lut's 16 telescoping rows (see there), each broadcast to the four 128-bit
 * lanes. */
typedef struct {
    __m512i row[16];
} mvk_i8_avx512_lut;

static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_lut_init(mvk_i8_avx512_lut *t, const int8_t *lut)
{
    const __m128i rev = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m128i up = _mm_setzero_si128(), down = up; /* T_(k+1), and its backward twin */
    for (int k = 7; k >= 0; k--) {
        const __m128i tk = _mm_loadu_si128((const __m128i *)(lut + 16 * k));
        const __m128i sk =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(lut + 240 - 16 * k)), rev);
        t->row[k] = _mm512_broadcast_i32x4(_mm_xor_si128(tk, up));
        t->row[8 + k] = _mm512_broadcast_i32x4(_mm_xor_si128(sk, down));
        up = tk, down = sk;
    }
}

static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_lut64(__m512i y, const mvk_i8_avx512_lut *t)
{
    const __m512i u = _mm512_xor_si512(y, _mm512_set1_epi8((char)0x80));
    const __m512i w = _mm512_xor_si512(y, _mm512_set1_epi8(0x7f)); /* 255 - u */
    __m512i part[8];
    for (int k = 0; k < 8; k++) {
        const __m512i step = _mm512_set1_epi8((char)(16 * (7 - k)));
        part[k] = _mm512_xor_si512(_mm512_shuffle_epi8(t->row[k], _mm512_adds_epu8(u, step)),
                                   _mm512_shuffle_epi8(t->row[8 + k], _mm512_adds_epu8(w, step)));
    }
    for (int width = 4; width > 0; width /= 2)
        for (int k = 0; k < width; k++)
            part[k] = _mm512_xor_si512(part[k], part[k + width]);
    return part[0];
}
#endif

/* The table on len bytes in place, 64 at a time, the tail masked. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_lut_span(int8_t *y, int64_t len,
                                                         const mvk_i8_avx512_lut *tab)
{
    int64_t i = 0;
    for (; i + 64 <= len; i += 64)
        _mm512_storeu_si512(y + i, mvk_i8_avx512_lut64(_mm512_loadu_si512(y + i), tab));
    if (i < len) {
        const __mmask64 m = mvk_i8_avx512_bits(len - i);
        _mm512_mask_storeu_epi8(y + i, m,
                                mvk_i8_avx512_lut64(_mm512_maskz_loadu_epi8(m, y + i), tab));
    }
}

// ---- the inner loops

#define MVK_I8_AVX512_ROWS 12
#define MVK_I8_AVX512_NC 128 /* columns whose requantisation constants are set up at once */
#if defined(MVK_I8_AVX512_VNNI)
#define MVK_I8_AVX512_KG 128 /* groups of A prepared at a time: 12 rows x 512 bytes */
#else
#define MVK_I8_AVX512_KG 64  /* 12 rows x 512 bytes of int16, 16 KiB of widened B */
#define MVK_I8_AVX512_PASS 4 /* rows per pass over the widened B */
#endif

/* Stack buffers of one GEMM call: A's rows as prepared for the inner loop (u8 or int16
 * groups, rows ng groups apart); for vpmaddwd also B's 32 columns widened to int16. */
typedef struct {
#if defined(MVK_I8_AVX512_VNNI)
    int32_t aw[MVK_I8_AVX512_ROWS * MVK_I8_AVX512_KG];
#else
    int64_t aw[MVK_I8_AVX512_ROWS * MVK_I8_AVX512_KG];
    __m512i bw[4 * MVK_I8_AVX512_KG];
#endif
} mvk_i8_avx512_work;

#if defined(MVK_I8_AVX512_VNNI)
/* Groups [g0, g0 + ng) of row a as 4 bytes a + 128 each; past k 128 (against zero B): the
 * masked-off bytes of a zero-masked load XOR 0x80. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_prep_row(const int8_t *a, int k, int g0, int ng,
                                                         int32_t *dst)
{
    const int64_t k0 = 4 * (int64_t)g0, len = 4 * (int64_t)ng;
    const int64_t have = k - k0 < len ? k - k0 : len;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int64_t i = 0;
    for (; i + 64 <= have; i += 64) /* whole vectors: no masks to build */
        _mm512_storeu_si512((char *)dst + i,
                            _mm512_xor_si512(_mm512_loadu_si512(a + k0 + i), flip));
    for (; i < len; i += 64) {
        const __mmask64 in = mvk_i8_avx512_bits(have - i), out = mvk_i8_avx512_bits(len - i);
        _mm512_mask_storeu_epi8((char *)dst + i, out,
                                _mm512_xor_si512(_mm512_maskz_loadu_epi8(in, a + k0 + i), flip));
    }
}

/* ROWS x (16 * panels) over groups [0, ng): acc[2r + p] += u_r . b_p. The row loop is
 * unrolled with panels a constant, so the accumulators stay in registers. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_tile(const int32_t *aw, int ng, const int8_t *b0p,
                                                     const int8_t *b1p, int panels, __m512i *acc)
{
    __m512i c[2 * MVK_I8_AVX512_ROWS];
    for (int i = 0; i < 2 * MVK_I8_AVX512_ROWS; i++)
        c[i] = acc[i];
    for (int g = 0; g < ng; g++) {
        const __m512i b0 = _mm512_loadu_si512(b0p + 64 * (int64_t)g);
        const __m512i b1 = panels > 1 ? _mm512_loadu_si512(b1p + 64 * (int64_t)g) : b0;
        for (int r = 0; r < MVK_I8_AVX512_ROWS; r++) {
            const __m512i a = _mm512_set1_epi32(aw[r * ng + g]);
            c[2 * r] = _mm512_dpbusd_epi32(c[2 * r], a, b0);
            if (panels > 1)
                c[2 * r + 1] = _mm512_dpbusd_epi32(c[2 * r + 1], a, b1);
        }
    }
    for (int i = 0; i < 2 * MVK_I8_AVX512_ROWS; i++)
        acc[i] = c[i];
}

static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_tiles(mvk_i8_avx512_work *w, int ng, int mr,
                                                      const int8_t *b0p, const int8_t *b1p,
                                                      int panels, __m512i *acc)
{
    (void)mr; /* rows past mr repeat the last one: all 12 run in registers anyway */
    if (panels > 1)
        mvk_i8_avx512_tile(w->aw, ng, b0p, b1p, 2, acc);
    else
        mvk_i8_avx512_tile(w->aw, ng, b0p, b1p, 1, acc);
}

/* 128 * (sum over k of b[k][j]) for a panel's 16 columns: what a + 128 adds. Four
 * independent sums (one chain would wait on vpdpbusd's latency). */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_bias_fix(const int8_t *bp, int groups)
{
    const __m512i u128 = _mm512_set1_epi8((char)0x80);
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    int g = 0;
    for (; g + 4 <= groups; g += 4, bp += 256) {
        s0 = _mm512_dpbusd_epi32(s0, u128, _mm512_loadu_si512(bp));
        s1 = _mm512_dpbusd_epi32(s1, u128, _mm512_loadu_si512(bp + 64));
        s2 = _mm512_dpbusd_epi32(s2, u128, _mm512_loadu_si512(bp + 128));
        s3 = _mm512_dpbusd_epi32(s3, u128, _mm512_loadu_si512(bp + 192));
    }
    for (; g < groups; g++, bp += 64)
        s0 = _mm512_dpbusd_epi32(s0, u128, _mm512_loadu_si512(bp));
    return _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3));
}
#else
/* Groups [g0, g0 + ng) of row a as 4 int16 each (past k: 0): 32 values per masked load. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_prep_row(const int8_t *a, int k, int g0, int ng,
                                                         int64_t *dst)
{
    const int64_t k0 = 4 * (int64_t)g0, len = 4 * (int64_t)ng;
    const int64_t have = k - k0 < len ? k - k0 : len;
    for (int64_t i = 0; i < len; i += 32) {
        const __mmask32 in = (__mmask32)mvk_i8_avx512_bits(have - i < 32 ? have - i : 32);
        const __mmask32 out = (__mmask32)mvk_i8_avx512_bits(len - i < 32 ? len - i : 32);
        _mm512_mask_storeu_epi16((char *)dst + 2 * i, out,
                                 _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(in, a + k0 + i)));
    }
}

/* Groups [0, ng) of the panels widened to int16, 4 vectors per group: each 8 columns x 4 k
 * (panel 0 columns 0-7, 8-15, then panel 1's). */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_widen_b(const int8_t *b0p, const int8_t *b1p,
                                                        int ng, int panels, __m512i *bw)
{
    for (int g = 0; g < ng; g++, b0p += 64, b1p += 64, bw += 4) {
        bw[0] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)b0p));
        bw[1] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b0p + 32)));
        if (panels > 1) {
            bw[2] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)b1p));
            bw[3] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b1p + 32)));
        }
    }
}

/* The half sums of two quarter vectors (lanes: column c's k 0-1 and 2-3 side by side) added
 * and gathered into the 16 columns of a panel. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_fold(__m512i q0, __m512i q1)
{
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_epi32(_mm512_add_epi32(q0, _mm512_srli_epi64(q0, 32)), even,
                                     _mm512_add_epi32(q1, _mm512_srli_epi64(q1, 32)));
}

/* PASS rows from row r0 over groups [0, ng) against the widened B: 4 quarter accumulators a
 * row. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_pass(const int64_t *aw, int ng, const __m512i *bw,
                                                     int quarters, __m512i *acc)
{
    __m512i s[4 * MVK_I8_AVX512_PASS];
    for (int i = 0; i < 4 * MVK_I8_AVX512_PASS; i++)
        s[i] = _mm512_setzero_si512();
    for (int g = 0; g < ng; g++, bw += 4)
        for (int r = 0; r < MVK_I8_AVX512_PASS; r++) {
            const __m512i a = _mm512_set1_epi64(aw[r * ng + g]);
            for (int q = 0; q < quarters; q++)
                s[4 * r + q] = _mm512_add_epi32(s[4 * r + q], _mm512_madd_epi16(a, bw[q]));
        }
    for (int r = 0; r < MVK_I8_AVX512_PASS; r++) {
        acc[2 * r] = _mm512_add_epi32(acc[2 * r], mvk_i8_avx512_fold(s[4 * r], s[4 * r + 1]));
        if (quarters > 2)
            acc[2 * r + 1] =
                _mm512_add_epi32(acc[2 * r + 1], mvk_i8_avx512_fold(s[4 * r + 2], s[4 * r + 3]));
    }
}

/* B widened once, then passes of PASS rows; passes wholly past mr are skipped (their
 * accumulators are never stored). */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_tiles(mvk_i8_avx512_work *w, int ng, int mr,
                                                      const int8_t *b0p, const int8_t *b1p,
                                                      int panels, __m512i *acc)
{
    mvk_i8_avx512_widen_b(b0p, b1p, ng, panels, w->bw);
    for (int r = 0; r < mr; r += MVK_I8_AVX512_PASS)
        if (panels > 1)
            mvk_i8_avx512_pass(w->aw + r * ng, ng, w->bw, 4, acc + 2 * r);
        else
            mvk_i8_avx512_pass(w->aw + r * ng, ng, w->bw, 2, acc + 2 * r);
}
#endif

/* Rows of A prepared for groups [g0, g0 + ng): all 12 for vpdpbusd (they run in registers),
 * the passes holding a valid row for vpmaddwd. */
static MVK_INLINE MVK_AVX512 void
mvk_i8_avx512_prep(mvk_i8_avx512_work *w, const int8_t *const *arow, int mr, int k, int g0, int ng)
{
#if defined(MVK_I8_AVX512_VNNI)
    const int rows = MVK_I8_AVX512_ROWS;
    (void)mr;
#else
    const int rows = (mr + MVK_I8_AVX512_PASS - 1) / MVK_I8_AVX512_PASS * MVK_I8_AVX512_PASS;
#endif
    for (int r = 0; r < rows; r++)
        mvk_i8_avx512_prep_row(arow[r], k, g0, ng, w->aw + r * ng);
}

/* acc (holding the start values) += the row block times the panels over all of k: from aw
 * as prepared by mvk_i8_gemm_prep__avx512, or KG groups at a time when k is longer. */
static MVK_INLINE MVK_AVX512 void mvk_i8_avx512_accumulate(const int8_t *const *arow, int k, int mr,
                                                           mvk_i8_avx512_work *w, const int8_t *b0p,
                                                           const int8_t *b1p, int panels,
                                                           __m512i *acc)
{
    const int groups = (k + 3) / 4;
    if (groups <= MVK_I8_AVX512_KG) {
        mvk_i8_avx512_tiles(w, groups, mr, b0p, b1p, panels, acc);
        return;
    }
    for (int g0 = 0; g0 < groups; g0 += MVK_I8_AVX512_KG) {
        const int ng = groups - g0 < MVK_I8_AVX512_KG ? groups - g0 : MVK_I8_AVX512_KG;
        mvk_i8_avx512_prep(w, arow, mr, k, g0, ng);
        mvk_i8_avx512_tiles(w, ng, mr, b0p + (int64_t)g0 * 64, b1p + (int64_t)g0 * 64, panels, acc);
    }
}

/* A panel's bias as the accumulators start (with the VNNI correction). */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_avx512_start(__m512i bias, const int8_t *bp, int k)
{
#if defined(MVK_I8_AVX512_VNNI)
    return _mm512_sub_epi32(bias, mvk_i8_avx512_bias_fix(bp, (k + 3) / 4));
#else
    (void)bp, (void)k;
    return bias;
#endif
}

// ---- what the driver calls

/* The per-call values (kept in registers where they fit). */
typedef struct {
    __m512i zyv;
    mvk_i8_avx512_lut tab;
} mvk_i8_gemm_state__avx512;

typedef struct {
    mvk_i8_avx512_work w;
    mvk_i8_avx512_rq q[MVK_I8_AVX512_NC / 16];
} mvk_i8_gemm_work__avx512;

#define MVK_I8_GEMM_NC(n) MVK_I8_AVX512_NC
#define MVK_I8_GEMM_ROWS MVK_I8_AVX512_ROWS
#define MVK_I8_GEMM_TILE_ROWS MVK_I8_AVX512_ROWS /* the tile is the block: A prepared once */
#define MVK_I8_GEMM_TILE_COLS 32
#define MVK_I8_GEMM_PANEL_COLS 16

static MVK_INLINE MVK_AVX512 void mvk_i8_gemm_init__avx512(mvk_i8_gemm_state__avx512 *st,
                                                           int32_t zy, const int8_t *lut)
{
    st->zyv = _mm512_set1_epi32(zy);
    if (lut)
        mvk_i8_avx512_lut_init(&st->tab, lut);
}

/* The constants of columns [j0, j0 + nc), panel by panel, with their start values. */
static MVK_INLINE MVK_AVX512 void
mvk_i8_gemm_group__avx512(mvk_i8_gemm_work__avx512 *wk, const int32_t *bias, const int16_t *mult,
                          const int8_t *shift, const int8_t *bp, int64_t panel, int j0, int nc,
                          int n, int k)
{
    for (int p = 0; p < (nc + 15) / 16; p++) {
        const int j = j0 + 16 * p;
        mvk_i8_avx512_rq_init(&wk->q[p], bias ? bias + j : 0, mult + j, shift + j,
                              n - j < 16 ? n - j : 16);
        wk->q[p].bias = mvk_i8_avx512_start(wk->q[p].bias, bp + (int64_t)(j / 16) * panel, k);
    }
}

/* A prepared once per row block when K fits one chunk (groups <= KG). */
static MVK_INLINE MVK_AVX512 void mvk_i8_gemm_prep__avx512(mvk_i8_gemm_work__avx512 *wk,
                                                           const int8_t *const *arow, int mr, int k)
{
    const int groups = (k + 3) / 4;
    if (groups <= MVK_I8_AVX512_KG)
        mvk_i8_avx512_prep(&wk->w, arow, mr, k, 0, groups);
}

/* A tile's panels and the indices of their constants in the group. */
typedef struct {
    const int8_t *b0p, *b1p;
    int q0, panels;
} mvk_i8_gemm_cols__avx512;

static MVK_INLINE MVK_AVX512 void
mvk_i8_gemm_cols_init__avx512(mvk_i8_gemm_cols__avx512 *cl, const mvk_i8_gemm_work__avx512 *wk,
                              const int32_t *bias, const int16_t *mult, const int8_t *shift,
                              const int8_t *b, int64_t panel, int j, int jj, int nr)
{
    (void)wk, (void)bias, (void)mult, (void)shift, (void)j; /* set up per group */
    cl->b0p = b;
    cl->panels = nr > 16 ? 2 : 1;
    cl->b1p = nr > 16 ? b + panel : b;
    cl->q0 = jj / 16;
}

static MVK_INLINE MVK_AVX512 void mvk_i8_gemm_tile__avx512(const mvk_i8_gemm_state__avx512 *st,
                                                           mvk_i8_gemm_work__avx512 *wk,
                                                           const mvk_i8_gemm_cols__avx512 *cl,
                                                           const int8_t *const *arow, int mr, int k,
                                                           int8_t *c, int64_t ldc, int nr)
{
    const mvk_i8_avx512_rq *q0 = &wk->q[cl->q0], *q1 = &wk->q[cl->q0 + cl->panels - 1];
    __m512i acc[2 * MVK_I8_AVX512_ROWS];
    for (int r = 0; r < MVK_I8_AVX512_ROWS; r++)
        acc[2 * r] = q0->bias, acc[2 * r + 1] = q1->bias;
    mvk_i8_avx512_accumulate(arow, k, mr, &wk->w, cl->b0p, cl->b1p, cl->panels, acc);
    const __mmask16 m0 = (__mmask16)mvk_i8_avx512_bits(nr < 16 ? nr : 16);
    const __mmask16 m1 = (__mmask16)mvk_i8_avx512_bits(nr - 16);
    for (int r = 0; r < mr; r++) {
        _mm_mask_storeu_epi8(c + r * ldc, m0, mvk_i8_avx512_requant16(acc[2 * r], q0, st->zyv));
        if (cl->panels > 1)
            _mm_mask_storeu_epi8(c + r * ldc + 16, m1,
                                 mvk_i8_avx512_requant16(acc[2 * r + 1], q1, st->zyv));
    }
}

static MVK_INLINE MVK_AVX512 void mvk_i8_gemm_lut__avx512(const mvk_i8_gemm_state__avx512 *st,
                                                          int8_t *y, int64_t len, const int8_t *lut)
{
    (void)lut;
    mvk_i8_avx512_lut_span(y, len, &st->tab);
}

/* The classifier's column tile: start values and scales of its 32 columns (0 past nr). */
typedef struct {
    const int8_t *b0p, *b1p;
    int panels;
    __m512i start0, start1, sc0, sc1;
} mvk_i8_gemm_f32cols__avx512;

static MVK_INLINE MVK_AVX512 void
mvk_i8_gemm_f32cols_init__avx512(mvk_i8_gemm_f32cols__avx512 *fc, const int8_t *b, int64_t panel,
                                 const int32_t *bias, const float *scale, int nr, int k)
{
    const __mmask16 m0 = (__mmask16)mvk_i8_avx512_bits(nr < 16 ? nr : 16);
    const __mmask16 m1 = (__mmask16)mvk_i8_avx512_bits(nr - 16);
    fc->panels = nr > 16 ? 2 : 1;
    fc->b0p = b;
    fc->b1p = nr > 16 ? b + panel : b;
    fc->start0 = mvk_i8_avx512_start(_mm512_maskz_loadu_epi32(m0, bias), fc->b0p, k);
    fc->start1 = mvk_i8_avx512_start(_mm512_maskz_loadu_epi32(m1, bias + 16), fc->b1p, k);
    fc->sc0 = _mm512_castps_si512(_mm512_maskz_loadu_ps(m0, scale));
    fc->sc1 = _mm512_castps_si512(_mm512_maskz_loadu_ps(m1, scale + 16));
}

/* vcvtdq2ps and vmulps round once each, like the scalar kernel's conversion and product (no
 * FMA contraction: separate instructions); masked stores, so no write past column n. */
static MVK_INLINE MVK_AVX512 void mvk_i8_gemm_f32tile__avx512(mvk_i8_gemm_work__avx512 *wk,
                                                              const mvk_i8_gemm_f32cols__avx512 *fc,
                                                              const int8_t *const *arow, int mr,
                                                              int k, float *c, int64_t ldc, int nr)
{
    __m512i acc[2 * MVK_I8_AVX512_ROWS];
    for (int r = 0; r < MVK_I8_AVX512_ROWS; r++)
        acc[2 * r] = fc->start0, acc[2 * r + 1] = fc->start1;
    mvk_i8_avx512_accumulate(arow, k, mr, &wk->w, fc->b0p, fc->b1p, fc->panels, acc);
    const __mmask16 m0 = (__mmask16)mvk_i8_avx512_bits(nr < 16 ? nr : 16);
    const __mmask16 m1 = (__mmask16)mvk_i8_avx512_bits(nr - 16);
    for (int r = 0; r < mr; r++) {
        float *dst = c + r * ldc;
        _mm512_mask_storeu_ps(
            dst, m0, _mm512_mul_ps(_mm512_cvtepi32_ps(acc[2 * r]), _mm512_castsi512_ps(fc->sc0)));
        if (fc->panels > 1)
            _mm512_mask_storeu_ps(
                dst + 16, m1,
                _mm512_mul_ps(_mm512_cvtepi32_ps(acc[2 * r + 1]), _mm512_castsi512_ps(fc->sc1)));
    }
}

#include "i8-gemm-driver.h"

#undef MVK_I8_AVX512_ROWS
#undef MVK_I8_AVX512_NC
#undef MVK_I8_AVX512_KG
#undef MVK_I8_AVX512_PASS
