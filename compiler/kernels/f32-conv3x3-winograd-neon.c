/* 3x3 stride-1 convolution (pad 1, groups 1) by Winograd F(4x4, 3x3), ARM NEON: the AVX2
 * kernel's schedule, transforms and packed weights on 4-channel vectors. Per block of
 * MVK_NEON_WINO_TB tiles (4x4 outputs each, from a 6x6 input patch):
 *   V[xi][tile][ci] = (B^T d B)[xi]          input transform, 4 channels per vector
 *   M[xi][tile][16] = V[xi] . U[xi]          36 GEMMs on the NEON 6x16 microkernel, one
 *                                            output panel of 16 channels at a time
 *   out = A^T M A + bias, residual, act      output transform and the usual epilogue
 * U = G g G^T comes from the compiler (mvit_winograd_f43_weights), packed like any GEMM B, one
 * [ci][cout] matrix per xi: [36][cout/16][ci][16], bias padded to 16. With in_b the input is
 * the channel concatenation [in (cin) | in_b (cin_b)] (fused concat). Channel tails (counts not
 * a multiple of 4) take lane loads and stores, so no access goes past an activation buffer.
 * Scratch per task: mvk_f32_conv3x3_winograd_scratch__neon(ci) floats, the AVX2 formula
 * (36 * 12 * (ci + 16)). No integer division at run time (tile coordinates advance
 * incrementally from one mvk_idiv per block), so the object stands alone on ARMv7. The
 * helpers carry their own names, so this file and the AVX2 one could share a translation unit. */
#include "mvk-neon.h"

#define MVK_NEON_WINO_TB 12 /* tiles per block, as MVK_WINO_TB: two 6-row microkernel groups */

static inline MVK_UNUSED int64_t mvk_f32_conv3x3_winograd_scratch__neon(int ci)
{
    return 36 * (int64_t)MVK_NEON_WINO_TB * ci + 36 * MVK_NEON_WINO_TB * 16;
}

/* t = B^T d along one line of 6 values (vfmaq(a, b, c) = a + b*c, vfmsq = a - b*c). */
static MVK_INLINE void mvk_neon_wino_in6(const float32x4_t d[6], float32x4_t t[6])
{
    const float32x4_t two = vdupq_n_f32(2.0f), four = vdupq_n_f32(4.0f);
    const float32x4_t five = vdupq_n_f32(5.0f);
    t[0] = vfmaq_f32(vfmsq_f32(d[4], five, d[2]), four, d[0]);
    t[1] = vfmsq_f32(vaddq_f32(d[3], d[4]), four, vaddq_f32(d[1], d[2]));
    t[2] = vfmaq_f32(vsubq_f32(d[4], d[3]), four, vsubq_f32(d[1], d[2]));
    const float32x4_t a = vsubq_f32(d[4], d[2]), b = vmulq_f32(two, vsubq_f32(d[3], d[1]));
    t[3] = vaddq_f32(a, b);
    t[4] = vsubq_f32(a, b);
    t[5] = vfmaq_f32(vfmsq_f32(d[5], five, d[3]), four, d[1]);
}

/* y = A^T m along one line of 6 values. */
static MVK_INLINE void mvk_neon_wino_out6(const float32x4_t m[6], float32x4_t y[4])
{
    const float32x4_t p12 = vaddq_f32(m[1], m[2]), d12 = vsubq_f32(m[1], m[2]);
    const float32x4_t p34 = vaddq_f32(m[3], m[4]), d34 = vsubq_f32(m[3], m[4]);
    y[0] = vaddq_f32(vaddq_f32(m[0], p12), p34);
    y[1] = vfmaq_f32(d12, vdupq_n_f32(2.0f), d34);
    y[2] = vfmaq_f32(p12, vdupq_n_f32(4.0f), p34);
    y[3] = vaddq_f32(vfmaq_f32(d12, vdupq_n_f32(8.0f), d34), m[5]);
}

/* Input transform of one tile for channels [c0, c0 + n) (n <= 4) of one source map (channel
 * count c), into V columns starting at vcol; the 6x6 patch starts at (iy0, ix0), zeros
 * outside the map. */
static MVK_INLINE void mvk_neon_wino_input_tile(const float *MVK_RESTRICT src, int h, int w, int c,
                                                int c0, int n, int iy0, int ix0,
                                                float *MVK_RESTRICT v, int64_t xi_stride, int vcol)
{
    float32x4_t t[6][6];
    for (int j = 0; j < 6; j++) { /* columns: t = B^T d */
        const int ix = ix0 + j;
        float32x4_t col[6], r[6];
        for (int i = 0; i < 6; i++) {
            const int iy = iy0 + i;
            const float *x = src + ((int64_t)iy * w + ix) * c + c0;
            col[i] =
                iy < 0 || iy >= h || ix < 0 || ix >= w ? vdupq_n_f32(0.0f) : mvk_neon_load4(x, n);
        }
        mvk_neon_wino_in6(col, r);
        for (int i = 0; i < 6; i++)
            t[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) { /* rows: V = t B */
        float32x4_t r[6];
        mvk_neon_wino_in6(t[i], r);
        for (int j = 0; j < 6; j++)
            mvk_neon_store_n(v + (i * 6 + j) * xi_stride + vcol + c0, r[j], n);
    }
}

/* Output transform of one tile for 4 channels (n valid) at channel offset co of the output,
 * reading M columns [mcol, mcol + 4) of this tile's row; then bias, residual, act, store of
 * the outputs inside the map. */
static MVK_INLINE void mvk_neon_wino_output_tile(const float *MVK_RESTRICT mrow, int64_t xi_stride,
                                                 int mcol, float *MVK_RESTRICT out,
                                                 const float *MVK_RESTRICT bias,
                                                 const float *MVK_RESTRICT residual, int oh, int ow,
                                                 int cout, int co, int n, int oy0, int ox0, int act)
{
    float32x4_t s[4][6];
    for (int j = 0; j < 6; j++) { /* columns: s = A^T m */
        float32x4_t col[6], r[4];
        for (int i = 0; i < 6; i++)
            col[i] = vld1q_f32(mrow + (i * 6 + j) * xi_stride + mcol);
        mvk_neon_wino_out6(col, r);
        for (int i = 0; i < 4; i++)
            s[i][j] = r[i];
    }
    const float32x4_t b = bias ? vld1q_f32(bias + co) : vdupq_n_f32(0.0f);
    for (int i = 0; i < 4 && oy0 + i < oh; i++) { /* rows: Y = s A */
        float32x4_t y[4];
        mvk_neon_wino_out6(s[i], y);
        for (int j = 0; j < 4 && ox0 + j < ow; j++) {
            const int64_t pix = (int64_t)(oy0 + i) * ow + ox0 + j;
            mvk_neon_store4(out + pix * cout + co, vaddq_f32(y[j], b), n,
                            residual ? residual + pix * cout + co : 0, act);
        }
    }
}

/* Tile blocks [blk0, blk1) of MVK_NEON_WINO_TB tiles each (the parallel split); output
 * h x w. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_conv3x3_winograd_rows__neon(
    int64_t blk0, int64_t blk1, const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
    float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, int h, int w, int cin, int cin_b, int cout, int act,
    float *MVK_RESTRICT scratch)
{
    const int ci = cin + cin_b, panels = (cout + 15) / 16;
    const int tiles_x = (w + 3) / 4, ntiles = tiles_x * ((h + 3) / 4);
    float *v = scratch;                                  /* [36][TB][ci] */
    float *mm = v + 36 * (int64_t)MVK_NEON_WINO_TB * ci; /* [36][TB][16] */
    const int64_t v_xi = (int64_t)MVK_NEON_WINO_TB * ci, m_xi = MVK_NEON_WINO_TB * 16;
    int oy0[MVK_NEON_WINO_TB], ox0[MVK_NEON_WINO_TB];
    for (int64_t blk = blk0; blk < blk1; blk++) {
        const int t0 = (int)blk * MVK_NEON_WINO_TB;
        const int nt = ntiles - t0 < MVK_NEON_WINO_TB ? ntiles - t0 : MVK_NEON_WINO_TB;
        /* tile t0 + t at (ty, tx): one division per block, then row-major steps */
        int ty = mvk_idiv(t0, tiles_x), tx = t0 - ty * tiles_x;
        for (int t = 0; t < nt; t++) {
            oy0[t] = 4 * ty, ox0[t] = 4 * tx;
            if (++tx == tiles_x)
                tx = 0, ty++;
        }
        for (int t = 0; t < nt; t++) {
            for (int c0 = 0; c0 < cin; c0 += 4)
                mvk_neon_wino_input_tile(in, h, w, cin, c0, cin - c0 < 4 ? cin - c0 : 4, oy0[t] - 1,
                                         ox0[t] - 1, v + (int64_t)t * ci, v_xi, 0);
            for (int c0 = 0; c0 < cin_b; c0 += 4)
                mvk_neon_wino_input_tile(in_b, h, w, cin_b, c0, cin_b - c0 < 4 ? cin_b - c0 : 4,
                                         oy0[t] - 1, ox0[t] - 1, v + (int64_t)t * ci, v_xi, cin);
        }
        for (int p = 0; p < panels; p++) {
            const int nr = cout - 16 * p < 16 ? cout - 16 * p : 16;
            /* M columns in whole vectors: the output transform reads groups of 4 (the packed
             * U columns past cout are zero), and on ARMv7 a panel of <= 8 skips a half */
            const int nr4 = (nr + 3) & ~3;
            for (int xi = 0; xi < 36; xi++)
                for (int g = 0; g < nt; g += 6) {
                    const int mr = nt - g < 6 ? nt - g : 6;
                    const float *rows[6];
                    for (int r = 0; r < 6; r++)
                        rows[r] = v + xi * v_xi + (int64_t)(g + (r < mr ? r : mr - 1)) * ci;
                    mvk_f32_gemm_ukernel_6x16_rows__neon(
                        mr, nr4, ci, rows, u_packed + ((int64_t)xi * panels + p) * ci * 16, 0,
                        mm + xi * m_xi + g * 16, 16, 0, 0, MVK_ACT_NONE, 0);
                }
            for (int t = 0; t < nt; t++)
                for (int q = 0; q < nr; q += 4)
                    mvk_neon_wino_output_tile(mm + t * 16, m_xi, q, out, bias, residual, h, w, cout,
                                              16 * p + q, nr - q < 4 ? nr - q : 4, oy0[t], ox0[t],
                                              act);
        }
    }
}

/* Whole-layer form: every tile block on the calling thread. */
static MVK_UNUSED void
mvk_f32_conv3x3_winograd__neon(const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
                               float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed,
                               const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
                               int h, int w, int cin, int cin_b, int cout, int act,
                               float *MVK_RESTRICT scratch)
{
    const int ntiles = ((w + 3) / 4) * ((h + 3) / 4); /* int: no 64-bit division on ARMv7 */
    mvk_f32_conv3x3_winograd_rows__neon(0, (ntiles + MVK_NEON_WINO_TB - 1) / MVK_NEON_WINO_TB, in,
                                        in_b, out, u_packed, bias, residual, h, w, cin, cin_b, cout,
                                        act, scratch);
}
