/* Dense 2-D convolution (groups = 1) as implicit GEMM, AVX2: for each block of 6 output
 * pixels, gather their k*k*C_in receptive fields into scratch (zeros where the window
 * crosses the border) and run the 6x16 GEMM microkernel on it against the HWIO weights packed
 * like any GEMM B (K = k*k*C_in rows). Scratch: 6 * K floats. With in_b, the input is the
 * channel concatenation [in (cin) | in_b (cin_b)] gathered from both maps (fused concat). */
#include "mvk-avx2.h"

static MVK_UNUSED MVK_AVX2 MVK_NOLIBCALL void mvk_f32_conv2d_im2col_rows__avx2(
    int64_t m0, int64_t m1, const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
    float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, int h, int w, int cin, int cin_b, int ow, int cout,
    int k, int stride, int pad, int act, float *MVK_RESTRICT scratch)
{
    const int ci = cin + cin_b, kk = k * k * ci;
    const int panels = (cout + 15) / 16;
    for (int64_t b = m0; b < m1; b += 6) {
        const int mr = m1 - b < 6 ? (int)(m1 - b) : 6;
        for (int r = 0; r < mr; r++) {
            const int oy = (int)((b + r) / ow), ox = (int)((b + r) % ow);
            float *dst = scratch + (int64_t)r * kk;
            for (int ky = 0; ky < k; ky++) {
                const int iy = oy * stride - pad + ky;
                for (int kx = 0; kx < k; kx++, dst += ci) {
                    const int ix = ox * stride - pad + kx;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                        for (int c = 0; c < ci; c++)
                            dst[c] = 0.0f;
                    } else {
                        const int64_t pix = (int64_t)iy * w + ix;
                        const float *src = in + pix * cin;
                        for (int c = 0; c < cin; c++)
                            dst[c] = src[c];
                        if (cin_b) {
                            const float *src_b = in_b + pix * cin_b;
                            for (int c = 0; c < cin_b; c++)
                                dst[cin + c] = src_b[c];
                        }
                    }
                }
            }
        }
        for (int p = 0; p < panels; p++) {
            const int nr = cout - 16 * p < 16 ? cout - 16 * p : 16;
            mvk_f32_gemm_ukernel_6x16__avx2(mr, nr, kk, scratch, kk, w_packed + (int64_t)p * kk * 16,
                                            bias ? bias + 16 * p : 0, out + b * cout + 16 * p,
                                            cout, residual ? residual + b * cout + 16 * p : 0,
                                            cout, act);
        }
    }
}

static MVK_UNUSED MVK_AVX2 void mvk_f32_conv2d_im2col__avx2(
    const float *MVK_RESTRICT in, float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
    const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual, int h, int w, int cin,
    int oh, int ow, int cout, int k, int stride, int pad, int act, float *MVK_RESTRICT scratch)
{
    mvk_f32_conv2d_im2col_rows__avx2(0, (int64_t)oh * ow, in, 0, out, w_packed, bias, residual, h,
                                     w, cin, 0, ow, cout, k, stride, pad, act, scratch);
}
