/* 3x3 stride-1 convolution (pad 1, groups 1) by Winograd F(4x4, 3x3), AVX2+FMA: each 4x4
 * block of outputs ("tile") comes from a 6x6 input patch with 36 multiplies per channel pair
 * instead of 144. Per block of MVK_WINO_TB tiles:
 *   V[xi][tile][ci] = (B^T d B)[xi]          input transform, 8 channels per vector
 *   M[xi][tile][16] = V[xi] . U[xi]          36 GEMMs on the 6x16 microkernel, one output
 *                                            panel of 16 channels at a time
 *   out = A^T M A + bias, residual, act      output transform and the usual epilogue
 * U = G g G^T is computed by the compiler (mvit_winograd_f43_weights) and packed like any GEMM
 * B, one [ci][cout] matrix per xi: [36][cout/16][ci][16]. With in_b the input is the channel
 * concatenation [in (cin) | in_b (cin_b)] (fused concat). Scratch per task:
 * mvk_f32_conv3x3_winograd_scratch__avx2(ci) floats. Transform matrices (B^T, A^T) are the
 * standard ones for the points 0, +-1, +-2, infinity; fp32 error stays near 1e-6 relative
 * for activations of similar magnitude. */
#include "mvk-avx2.h"

#define MVK_WINO_TB 12 /* tiles per block: two 6-row groups of the microkernel */

static inline MVK_UNUSED int64_t mvk_f32_conv3x3_winograd_scratch__avx2(int ci)
{
    return 36 * (int64_t)MVK_WINO_TB * ci + 36 * MVK_WINO_TB * 16;
}

/* t = B^T d along one line of 6 values. */
static MVK_INLINE MVK_AVX2 void mvk_wino_in6(const __m256 d[6], __m256 t[6])
{
    const __m256 two = _mm256_set1_ps(2.0f), four = _mm256_set1_ps(4.0f);
    const __m256 m5 = _mm256_set1_ps(-5.0f);
    t[0] = _mm256_fmadd_ps(four, d[0], _mm256_fmadd_ps(m5, d[2], d[4]));
    t[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
    t[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
    const __m256 a = _mm256_sub_ps(d[4], d[2]), b = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1]));
    t[3] = _mm256_add_ps(a, b);
    t[4] = _mm256_sub_ps(a, b);
    t[5] = _mm256_fmadd_ps(four, d[1], _mm256_fmadd_ps(m5, d[3], d[5]));
}

/* y = A^T m along one line of 6 values. */
static MVK_INLINE MVK_AVX2 void mvk_wino_out6(const __m256 m[6], __m256 y[4])
{
    const __m256 p12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 p34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(m[0], p12), p34);
    y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d34, d12);
    y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), p34, p12);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d34, d12), m[5]);
}

/* Input transform of one tile for channels [c0, c0 + n) of one source map (channel count c),
 * into V columns starting at vcol; the 6x6 patch starts at (iy0, ix0), zeros outside. */
static MVK_INLINE MVK_AVX2 void mvk_wino_input_tile(const float *MVK_RESTRICT src, int h, int w,
                                                    int c, int c0, int n, int iy0, int ix0,
                                                    float *MVK_RESTRICT v, int64_t xi_stride,
                                                    int vcol)
{
    const __m256i m = mvk_avx2_mask(n);
    __m256 d[6][6], t[6][6];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            const int iy = iy0 + i, ix = ix0 + j;
            const float *x = src + ((int64_t)iy * w + ix) * c + c0;
            d[i][j] = iy < 0 || iy >= h || ix < 0 || ix >= w ? _mm256_setzero_ps()
                      : n == 8                               ? _mm256_loadu_ps(x)
                                                             : _mm256_maskload_ps(x, m);
        }
    for (int j = 0; j < 6; j++) { /* columns: t = B^T d */
        __m256 col[6], r[6];
        for (int i = 0; i < 6; i++)
            col[i] = d[i][j];
        mvk_wino_in6(col, r);
        for (int i = 0; i < 6; i++)
            t[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) { /* rows: V = t B */
        __m256 r[6];
        mvk_wino_in6(t[i], r);
        for (int j = 0; j < 6; j++) {
            float *dst = v + (i * 6 + j) * xi_stride + vcol + c0;
            if (n == 8)
                _mm256_storeu_ps(dst, r[j]);
            else
                _mm256_maskstore_ps(dst, m, r[j]);
        }
    }
}

/* Output transform of one tile for 8 channels (n valid) at channel offset co of the output,
 * reading M columns [mcol, mcol + 8) of this tile's row; then bias, residual, act, store of
 * the outputs inside the map. */
static MVK_INLINE MVK_AVX2 void
mvk_wino_output_tile(const float *MVK_RESTRICT mrow, int64_t xi_stride, int mcol,
                     float *MVK_RESTRICT out, const float *MVK_RESTRICT bias,
                     const float *MVK_RESTRICT residual, int oh, int ow, int cout, int co, int n,
                     int oy0, int ox0, int act)
{
    __m256 s[4][6];
    for (int j = 0; j < 6; j++) { /* columns: s = A^T m */
        __m256 col[6], r[4];
        for (int i = 0; i < 6; i++)
            col[i] = _mm256_loadu_ps(mrow + (i * 6 + j) * xi_stride + mcol);
        mvk_wino_out6(col, r);
        for (int i = 0; i < 4; i++)
            s[i][j] = r[i];
    }
    const __m256 b = bias ? _mm256_load_ps(bias + co) : _mm256_setzero_ps();
    for (int i = 0; i < 4 && oy0 + i < oh; i++) { /* rows: Y = s A */
        __m256 y[4];
        mvk_wino_out6(s[i], y);
        for (int j = 0; j < 4 && ox0 + j < ow; j++) {
            const int64_t pix = (int64_t)(oy0 + i) * ow + ox0 + j;
            mvk_avx2_store8(out + pix * cout + co, _mm256_add_ps(y[j], b), n,
                            residual ? residual + pix * cout + co : 0, act);
        }
    }
}

/* Tile blocks [blk0, blk1) of MVK_WINO_TB tiles each (the parallel split); output h x w. */
static MVK_UNUSED MVK_AVX2 void mvk_f32_conv3x3_winograd_rows__avx2(
    int64_t blk0, int64_t blk1, const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
    float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, int h, int w, int cin, int cin_b, int cout, int act,
    float *MVK_RESTRICT scratch)
{
    const int ci = cin + cin_b, panels = (cout + 15) / 16;
    const int tiles_x = (w + 3) / 4, ntiles = tiles_x * ((h + 3) / 4);
    float *v = scratch;                             /* [36][TB][ci] */
    float *mm = v + 36 * (int64_t)MVK_WINO_TB * ci; /* [36][TB][16] */
    const int64_t v_xi = (int64_t)MVK_WINO_TB * ci, m_xi = MVK_WINO_TB * 16;
    for (int64_t blk = blk0; blk < blk1; blk++) {
        const int t0 = (int)blk * MVK_WINO_TB;
        const int nt = ntiles - t0 < MVK_WINO_TB ? ntiles - t0 : MVK_WINO_TB;
        for (int t = 0; t < nt; t++) {
            const int oy0 = (t0 + t) / tiles_x * 4, ox0 = (t0 + t) % tiles_x * 4;
            for (int c0 = 0; c0 < cin; c0 += 8)
                mvk_wino_input_tile(in, h, w, cin, c0, cin - c0 < 8 ? cin - c0 : 8, oy0 - 1,
                                    ox0 - 1, v + (int64_t)t * ci, v_xi, 0);
            for (int c0 = 0; c0 < cin_b; c0 += 8)
                mvk_wino_input_tile(in_b, h, w, cin_b, c0, cin_b - c0 < 8 ? cin_b - c0 : 8, oy0 - 1,
                                    ox0 - 1, v + (int64_t)t * ci, v_xi, cin);
        }
        for (int p = 0; p < panels; p++) {
            const int nr = cout - 16 * p < 16 ? cout - 16 * p : 16;
            for (int xi = 0; xi < 36; xi++)
                for (int g = 0; g < nt; g += 6) {
                    const int mr = nt - g < 6 ? nt - g : 6;
                    const float *rows[6];
                    for (int r = 0; r < 6; r++)
                        rows[r] = v + xi * v_xi + (int64_t)(g + (r < mr ? r : mr - 1)) * ci;
                    mvk_f32_gemm_ukernel_6x16_rows__avx2(
                        mr, 16, ci, rows, u_packed + ((int64_t)xi * panels + p) * ci * 16, 0,
                        mm + xi * m_xi + g * 16, 16, 0, 0, MVK_ACT_NONE, 0);
                }
            for (int t = 0; t < nt; t++) {
                const int oy0 = (t0 + t) / tiles_x * 4, ox0 = (t0 + t) % tiles_x * 4;
                for (int half = 0; half < 2 && 8 * half < nr; half++) {
                    const int n = nr - 8 * half < 8 ? nr - 8 * half : 8;
                    mvk_wino_output_tile(mm + t * 16, m_xi, 8 * half, out, bias, residual, h, w,
                                         cout, 16 * p + 8 * half, n, oy0, ox0, act);
                }
            }
        }
    }
}

/* Whole-layer form: every tile block on the calling thread. */
static MVK_UNUSED MVK_AVX2 void
mvk_f32_conv3x3_winograd__avx2(const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
                               float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed,
                               const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
                               int h, int w, int cin, int cin_b, int cout, int act,
                               float *MVK_RESTRICT scratch)
{
    const int64_t ntiles = (int64_t)((w + 3) / 4) * ((h + 3) / 4);
    mvk_f32_conv3x3_winograd_rows__avx2(0, (ntiles + MVK_WINO_TB - 1) / MVK_WINO_TB, in, in_b, out,
                                        u_packed, bias, residual, h, w, cin, cin_b, cout, act,
                                        scratch);
}
