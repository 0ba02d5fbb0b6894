/* The driver of the 3x3 stride-1 convolution (pad 1, groups 1) by Winograd F(4x4, 3x3),
 * written once for every ISA (docs/architecture.md, "Kernels: one driver, per-ISA
 * microkernels"): each 4x4 block of outputs ("tile") comes from a 6x6 input patch with 36
 * multiplies per channel pair instead of 144. Per block of MVK_WINO_TB tiles:
 *   V[xi][tile][ci] = (B^T d B)[xi]          input transform, MVK_VF_LANES channels per vector
 *   M[xi][tile][16] = V[xi] . U[xi]          36 GEMMs on the ISA's GEMM microkernel, one
 *                                            output panel of 16 channels at a time
 *   out = A^T M A + bias, residual, act      output transform and the usual epilogue
 * U = G g G^T is computed by the compiler (mvit_winograd_f43_weights) and packed like any GEMM
 * B, one [ci][cout] matrix per xi: [36][cout/16][ci][16], bias padded to 16. With in_b the
 * input is the channel concatenation [in (cin) | in_b (cin_b)] (fused concat). Channel tails
 * take mvk_vf_load_n / mvk_vf_store_n, so no access goes past an activation buffer. Scratch
 * per task: MVK_ISA_FN(mvk_f32_conv3x3_winograd_scratch)(ci) floats. Transform matrices
 * (B^T, A^T) are the standard ones for the points 0, +-1, +-2, infinity; fp32 error stays near
 * 1e-6 relative for activations of similar magnitude. No integer division at run time (tile
 * coordinates advance from one mvk_idiv per block), so the object stands alone on ARMv7.
 * Included by f32-conv3x3-winograd-<isa>.c; needs the ISA's f32-gemm-<MR>x<NR>-<isa>.c before
 * it. */

/* the driver's helpers, one set per ISA the file is instantiated for */
#define mvk_wino_in6 MVK_ISA_HELPER(wino_in6)
#define mvk_wino_out6 MVK_ISA_HELPER(wino_out6)
#define mvk_wino_input_tile MVK_ISA_HELPER(wino_input_tile)
#define mvk_wino_output_tile MVK_ISA_HELPER(wino_output_tile)

#define MVK_WINO_TB 12 /* tiles per block: 12 rows of the GEMMs (two microkernel calls of 6) */

static inline MVK_UNUSED int64_t MVK_ISA_FN(mvk_f32_conv3x3_winograd_scratch)(int ci)
{
    return 36 * (int64_t)MVK_WINO_TB * ci + 36 * MVK_WINO_TB * 16;
}

/* t = B^T d along one line of 6 values (fma(a, b, c) = a + b*c, fms = a - b*c). */
static MVK_INLINE MVK_ISA void mvk_wino_in6(const mvk_vf d[6], mvk_vf t[6])
{
    const mvk_vf two = mvk_vf_dup(2.0f), four = mvk_vf_dup(4.0f);
    const mvk_vf five = mvk_vf_dup(5.0f);
    t[0] = mvk_vf_fma(mvk_vf_fms(d[4], five, d[2]), four, d[0]);
    t[1] = mvk_vf_fms(mvk_vf_add(d[3], d[4]), four, mvk_vf_add(d[1], d[2]));
    t[2] = mvk_vf_fma(mvk_vf_sub(d[4], d[3]), four, mvk_vf_sub(d[1], d[2]));
    const mvk_vf a = mvk_vf_sub(d[4], d[2]), b = mvk_vf_mul(two, mvk_vf_sub(d[3], d[1]));
    t[3] = mvk_vf_add(a, b);
    t[4] = mvk_vf_sub(a, b);
    t[5] = mvk_vf_fma(mvk_vf_fms(d[5], five, d[3]), four, d[1]);
}

/* y = A^T m along one line of 6 values. */
static MVK_INLINE MVK_ISA void mvk_wino_out6(const mvk_vf m[6], mvk_vf y[4])
{
    const mvk_vf p12 = mvk_vf_add(m[1], m[2]), d12 = mvk_vf_sub(m[1], m[2]);
    const mvk_vf p34 = mvk_vf_add(m[3], m[4]), d34 = mvk_vf_sub(m[3], m[4]);
    y[0] = mvk_vf_add(mvk_vf_add(m[0], p12), p34);
    y[1] = mvk_vf_fma(d12, mvk_vf_dup(2.0f), d34);
    y[2] = mvk_vf_fma(p12, mvk_vf_dup(4.0f), p34);
    y[3] = mvk_vf_add(mvk_vf_fma(d12, mvk_vf_dup(8.0f), d34), m[5]);
}

/* Input transform of one tile for channels [c0, c0 + n) (n <= MVK_VF_LANES) of one source map
 * (channel count c), into V columns starting at vcol; the 6x6 patch starts at (iy0, ix0),
 * zeros outside the map. */
static MVK_INLINE MVK_ISA void mvk_wino_input_tile(const float *MVK_RESTRICT src, int h, int w,
                                                   int c, int c0, int n, int iy0, int ix0,
                                                   float *MVK_RESTRICT v, int64_t xi_stride,
                                                   int vcol)
{
    mvk_vf t[6][6];
    for (int j = 0; j < 6; j++) { /* columns: t = B^T d */
        const int ix = ix0 + j;
        mvk_vf col[6], r[6];
        for (int i = 0; i < 6; i++) {
            const int iy = iy0 + i;
            const float *x = src + ((int64_t)iy * w + ix) * c + c0;
            col[i] = iy < 0 || iy >= h || ix < 0 || ix >= w ? mvk_vf_zero() : mvk_vf_load_n(x, n);
        }
        mvk_wino_in6(col, r);
        for (int i = 0; i < 6; i++)
            t[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) { /* rows: V = t B */
        mvk_vf r[6];
        mvk_wino_in6(t[i], r);
        for (int j = 0; j < 6; j++)
            mvk_vf_store_n(v + (i * 6 + j) * xi_stride + vcol + c0, r[j], n);
    }
}

/* Output transform of one tile for MVK_VF_LANES channels (n valid) at channel offset co of
 * the output, reading M columns [mcol, mcol + MVK_VF_LANES) of this tile's row; then bias,
 * residual, act, store of the outputs inside the map. */
static MVK_INLINE MVK_ISA void
mvk_wino_output_tile(const float *MVK_RESTRICT mrow, int64_t xi_stride, int mcol,
                     float *MVK_RESTRICT out, const float *MVK_RESTRICT bias,
                     const float *MVK_RESTRICT residual, int oh, int ow, int cout, int co, int n,
                     int oy0, int ox0, int act)
{
    mvk_vf s[4][6];
    for (int j = 0; j < 6; j++) { /* columns: s = A^T m */
        mvk_vf col[6], r[4];
        for (int i = 0; i < 6; i++)
            col[i] = mvk_vf_load(mrow + (i * 6 + j) * xi_stride + mcol);
        mvk_wino_out6(col, r);
        for (int i = 0; i < 4; i++)
            s[i][j] = r[i];
    }
    const mvk_vf b = bias ? mvk_vf_load_a(bias + co) : mvk_vf_zero();
    for (int i = 0; i < 4 && oy0 + i < oh; i++) { /* rows: Y = s A */
        mvk_vf y[4];
        mvk_wino_out6(s[i], y);
        for (int j = 0; j < 4 && ox0 + j < ow; j++) {
            const int64_t pix = (int64_t)(oy0 + i) * ow + ox0 + j;
            mvk_vf_store_act(out + pix * cout + co, mvk_vf_add(y[j], b), n,
                             residual ? residual + pix * cout + co : 0, act);
        }
    }
}

/* Work units [u0, u1) (the parallel split); p: a 3x3, stride 1, pad 1 conv (output out_h x
 * out_w, the input's size). A unit is one block of MVK_WINO_TB tiles and one of
 * p->col_splits groups of output panels (unit = block * col_splits + group; col_splits 0 or
 * 1: all panels): a small map has too few blocks to share between threads, and each block
 * reads all of U, so there the threads split the panels (each reading its part of U) and
 * each transforms the blocks' input itself. Consecutive units of one block transform it
 * once. */
static MVK_UNUSED MVK_ISA MVK_NOLIBCALL void MVK_ISA_FN(mvk_f32_conv3x3_winograd_rows)(
    int64_t u0, int64_t u1, const mvk_conv2d *p, const float *MVK_RESTRICT in,
    const float *MVK_RESTRICT in_b, float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed,
    const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
    float *MVK_RESTRICT scratch)
{
    const int h = p->out_h, w = p->out_w, cin = p->in_c, cin_b = p->in_c_b, cout = p->out_c;
    const int act = p->act;
    enum { L = MVK_VF_LANES };
    const int ci = cin + cin_b, panels = (cout + 15) / 16;
    const int tiles_x = (w + 3) / 4, ntiles = tiles_x * ((h + 3) / 4);
    float *v = scratch;                             /* [36][TB][ci] */
    float *mm = v + 36 * (int64_t)MVK_WINO_TB * ci; /* [36][TB][16] */
    const int64_t v_xi = (int64_t)MVK_WINO_TB * ci, m_xi = MVK_WINO_TB * 16;
    int oy0[MVK_WINO_TB], ox0[MVK_WINO_TB];
    const int splits = p->col_splits > 1 ? p->col_splits : 1;
    int done = -1; /* the block whose input is in v */
    for (int64_t u = u0; u < u1; u++) {
        const int blk = mvk_idiv((int)u, splits), group = (int)u - blk * splits;
        const int p0 = mvk_idiv(group * panels, splits);
        const int p1 = mvk_idiv((group + 1) * panels, splits);
        const int t0 = blk * MVK_WINO_TB;
        const int nt = ntiles - t0 < MVK_WINO_TB ? ntiles - t0 : MVK_WINO_TB;
        /* tile t0 + t at (ty, tx): one division per block, then row-major steps */
        int ty = mvk_idiv(t0, tiles_x), tx = t0 - ty * tiles_x;
        for (int t = 0; t < nt; t++) {
            oy0[t] = 4 * ty, ox0[t] = 4 * tx;
            if (++tx == tiles_x)
                tx = 0, ty++;
        }
        for (int t = 0; t < nt && blk != done; t++) {
            for (int c0 = 0; c0 < cin; c0 += L)
                mvk_wino_input_tile(in, h, w, cin, c0, cin - c0 < L ? cin - c0 : L, oy0[t] - 1,
                                    ox0[t] - 1, v + (int64_t)t * ci, v_xi, 0);
            for (int c0 = 0; c0 < cin_b; c0 += L)
                mvk_wino_input_tile(in_b, h, w, cin_b, c0, cin_b - c0 < L ? cin_b - c0 : L,
                                    oy0[t] - 1, ox0[t] - 1, v + (int64_t)t * ci, v_xi, cin);
        }
        done = blk;
        for (int p = p0; p < p1; p++) {
            const int nr = cout - 16 * p < 16 ? cout - 16 * p : 16;
            /* M columns in whole vectors: the output transform reads groups of L (the packed
             * U columns past cout are zero), and a microkernel may skip what lies past them */
            const int nrv = (nr + L - 1) / L * L;
            for (int xi = 0; xi < 36; xi++)
                for (int g = 0; g < nt; g += MVK_GEMM_MR) {
                    const int mr = nt - g < MVK_GEMM_MR ? nt - g : MVK_GEMM_MR;
                    const float *rows[MVK_GEMM_MR];
                    for (int r = 0; r < MVK_GEMM_MR; r++)
                        rows[r] = v + xi * v_xi + (int64_t)(g + (r < mr ? r : mr - 1)) * ci;
                    MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)
                    (mr, nrv, ci, rows, u_packed + ((int64_t)xi * panels + p) * ci * 16,
                     (int64_t)16 * ci, 0, mm + xi * m_xi + g * 16, 16, 0, 0, MVK_ACT_NONE, 0);
                }
            for (int t = 0; t < nt; t++)
                for (int q = 0; q < nr; q += L)
                    mvk_wino_output_tile(mm + t * 16, m_xi, q, out, bias, residual, h, w, cout,
                                         16 * p + q, nr - q < L ? nr - q : L, oy0[t], ox0[t], act);
        }
    }
}

/* Whole-layer form: every tile block on the calling thread. */
static MVK_UNUSED MVK_ISA void MVK_ISA_FN(mvk_f32_conv3x3_winograd)(
    const mvk_conv2d *p, const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
    float *MVK_RESTRICT out, const float *MVK_RESTRICT u_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, float *MVK_RESTRICT scratch)
{
    /* int: no 64-bit division on ARMv7 */
    const int ntiles = ((p->out_w + 3) / 4) * ((p->out_h + 3) / 4);
    const int splits = p->col_splits > 1 ? p->col_splits : 1;
    MVK_ISA_FN(mvk_f32_conv3x3_winograd_rows)
    (0, (int64_t)(ntiles + MVK_WINO_TB - 1) / MVK_WINO_TB * splits, p, in, in_b, out, u_packed,
     bias, residual, scratch);
}
