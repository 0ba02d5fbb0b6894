/* The drivers of the fp32 GEMM, written once for every ISA (docs/architecture.md, "Kernels:
 * one driver, per-ISA microkernels"): C[M][N] = A[M][K] . B[K][N] + bias, then residual +
 * activation, with B pre-packed in panels of 16 columns, [N/16][K][16] (zero-padded), bias
 * padded to a multiple of 16, on every ISA. Included by f32-gemm-<MR>x<NR>-<isa>.c after
 * mvk-<isa>.h (MVK_ISA_FN, mvk_vf_*) and the ISA's microkernel, whose tile is MVK_GEMM_MR rows
 * x MVK_GEMM_NR columns (NR a multiple of 16: NR / 16 panels side by side), which it calls:
 *   MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)(mr, nr, k, arow, b, bstride, bias, c, ldc, res, ldr,
 *                                         act, accumulate)
 * mr <= MR rows, nr <= NR columns; A rows given as MR pointers (rows >= mr repeat a valid row,
 * computed but never stored): plain, gathered (unfold/fold) and im2col rows all enter the same
 * microkernel; the tile's panels at b, b + bstride, ...; accumulate: start from C (a later
 * block of K) instead of the bias. The row-block driver walks row blocks outermost: an MR-row A
 * block stays in L1 while every panel of B (<= ~0.5 MB in MobileViT) streams from L2. */

/* The microkernel on A rows lda floats apart (mr <= MR, nr <= NR). */
static inline MVK_UNUSED MVK_ISA void MVK_ISA_FN(mvk_f32_gemm_ukernel)(
    int mr, int nr, int k, const float *MVK_RESTRICT a, int64_t lda, const float *MVK_RESTRICT b,
    int64_t bstride, const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act)
{
    const float *rows[MVK_GEMM_MR];
    for (int i = 0; i < MVK_GEMM_MR; i++)
        rows[i] = a + (i < mr ? i : mr - 1) * lda;
    MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)
    (mr, nr, k, rows, b, bstride, bias, c, ldc, res, ldr, act, 0);
}

/* (x - mean) / sqrt(var + eps) of one row of k values, statistics in float; the LayerNorm
 * fused into the GEMM that reads it (gamma and beta are folded into that GEMM's weights and
 * bias). */
static inline MVK_UNUSED MVK_ISA void
MVK_ISA_HELPER(normalize_row)(const float *MVK_RESTRICT x, float *MVK_RESTRICT y, int k, float eps)
{
    mvk_vf s = mvk_vf_zero();
    int i = 0;
    for (; i + MVK_VF_LANES <= k; i += MVK_VF_LANES)
        s = mvk_vf_add(s, mvk_vf_load(x + i));
    float sum = mvk_vf_hsum(s);
    for (; i < k; i++)
        sum += x[i];
    const float mean = sum / (float)k;
    const mvk_vf vm = mvk_vf_dup(mean);
    mvk_vf q = mvk_vf_zero();
    for (i = 0; i + MVK_VF_LANES <= k; i += MVK_VF_LANES) {
        const mvk_vf d = mvk_vf_sub(mvk_vf_load(x + i), vm);
        q = mvk_vf_fma(q, d, d);
    }
    float sq = mvk_vf_hsum(q);
    for (; i < k; i++)
        sq += (x[i] - mean) * (x[i] - mean);
    const float rstd = (float)mvk_rsqrt((double)(sq / (float)k) + eps);
    const mvk_vf vr = mvk_vf_dup(rstd);
    for (i = 0; i + MVK_VF_LANES <= k; i += MVK_VF_LANES)
        mvk_vf_store(y + i, mvk_vf_mul(mvk_vf_sub(mvk_vf_load(x + i), vm), vr));
    for (; i < k; i++)
        y[i] = (x[i] - mean) * rstd;
}

/* A row that is built rather than read in place, into dst (k floats): normalised when
 * eps > 0 (fused LayerNorm), blended through the remap's resize, or both (tmp: 4 * k floats,
 * the normalised source rows). */
static inline MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_build_row)(const float *MVK_RESTRICT a, int64_t lda, int64_t row,
                              const mvk_remap *rm, int k, float eps, float *MVK_RESTRICT dst,
                              float *MVK_RESTRICT tmp)
{
    if (!(eps > 0.0f))
        mvk_f32_blend_row(a, lda, row, rm, k, dst);
    else if (mvk_remap_resizes(rm))
        MVK_F32_NORM_BLEND_ROW(MVK_ISA_HELPER(normalize_row), a, lda, row, rm, k, eps, dst, tmp);
    else
        MVK_ISA_HELPER(normalize_row)(mvk_a_row(a, lda, row, rm), dst, k, eps);
}

/* Rows [m0, m1) of C, A rows read through the remap rm (NULL for plain A); the parallel
 * drivers split M between threads. Rows are built in scratch (MR * k floats, and 4 * k more
 * when both) where they must be: normalised when eps > 0 (fused LayerNorm), blended when the
 * remap resizes. */
static MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_gemm_rows)(int64_t m0, int64_t m1, const mvk_gemm *p,
                              const float *MVK_RESTRICT a, const float *MVK_RESTRICT w_packed,
                              const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                              const float *MVK_RESTRICT res, float *MVK_RESTRICT scratch)
{
    const int k = p->k, n = p->n, act = p->act;
    const int64_t lda = k, ldc = n, ldr = n;
    const mvk_remap *rm = p->remap;
    const float eps = p->eps;
    enum { MR = MVK_GEMM_MR, NR = MVK_GEMM_NR };
    const int build = eps > 0.0f || mvk_remap_resizes(rm);
    const float *rows[MR];
    for (int64_t i = m0; i < m1; i += MR) {
        const int mr = m1 - i < MR ? (int)(m1 - i) : MR;
        for (int r = 0; r < MR; r++) {
            const int64_t row = i + (r < mr ? r : mr - 1);
            if (!build) {
                rows[r] = mvk_a_row(a, lda, row, rm);
                continue;
            }
            if (r < mr)
                MVK_ISA_FN(mvk_f32_build_row)
                (a, lda, row, rm, k, eps, scratch + (int64_t)r * k, scratch + (int64_t)MR * k);
            rows[r] = scratch + (int64_t)(r < mr ? r : mr - 1) * k;
        }
        for (int j = 0; j < n; j += NR) {
            const int nr = n - j < NR ? n - j : NR;
            MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)
            (mr, nr, k, rows, w_packed + (int64_t)j * k, (int64_t)16 * k, bias ? bias + j : 0,
             c + i * ldc + j, ldc, res ? res + i * ldr + j : 0, ldr, act, 0);
        }
    }
}

/* Cache-blocked variant for a B too large for L2 (chosen by the compiler's cost model): K in
 * blocks of kc and rows in blocks of mc (a multiple of MR). Within an (m, k) block the loop
 * runs tile column by tile column, so a [kc][NR] slice of B stays in L1 while the mc x kc
 * block of A
 * stays in L2. Partial sums live in C between k blocks: the bias enters with the first block,
 * the residual and activation with the last. */
static MVK_UNUSED MVK_ISA void MVK_ISA_FN(mvk_f32_gemm_blocked_rows)(
    int64_t m0, int64_t m1, const mvk_gemm *p, const float *MVK_RESTRICT a,
    const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
    const float *MVK_RESTRICT res, float *MVK_RESTRICT scratch)
{
    const int k = p->k, n = p->n, act = p->act, mc = p->mc, kc = p->kc;
    const int64_t lda = k, ldc = n, ldr = n;
    const mvk_remap *rm = p->remap;
    const float eps = p->eps;
    enum { MR = MVK_GEMM_MR, NR = MVK_GEMM_NR };
    const int build = eps > 0.0f || mvk_remap_resizes(rm);
    const float *rows[MR];
    for (int64_t mb = m0; mb < m1; mb += mc) {
        const int64_t me = m1 - mb < mc ? m1 : mb + mc;
        if (build) /* the whole mc x k block, built once */
            for (int64_t i = mb; i < me; i++)
                MVK_ISA_FN(mvk_f32_build_row)
                (a, lda, i, rm, k, eps, scratch + (i - mb) * k, scratch + (int64_t)mc * k);
        for (int kb = 0; kb < k; kb += kc) {
            const int kn = k - kb < kc ? k - kb : kc;
            const int first = kb == 0, last = kb + kn == k;
            for (int j = 0; j < n; j += NR) {
                const int nr = n - j < NR ? n - j : NR;
                const float *bp = w_packed + (int64_t)j * k + (int64_t)kb * 16;
                for (int64_t i = mb; i < me; i += MR) {
                    const int mr = me - i < MR ? (int)(me - i) : MR;
                    for (int r = 0; r < MR; r++) {
                        const int64_t row = i + (r < mr ? r : mr - 1);
                        rows[r] =
                            (build ? scratch + (row - mb) * k : mvk_a_row(a, lda, row, rm)) + kb;
                    }
                    MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)
                    (mr, nr, kn, rows, bp, (int64_t)16 * k, first && bias ? bias + j : 0,
                     c + i * ldc + j, ldc, last && res ? res + i * ldr + j : 0, ldr,
                     last ? act : MVK_ACT_NONE, !first);
                }
            }
        }
    }
}

/* Whole-layer form, dense A (p's remap, eps, mc and kc unused). */
static MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_gemm)(const mvk_gemm *p, const float *MVK_RESTRICT a,
                         const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                         float *MVK_RESTRICT c, const float *MVK_RESTRICT res)
{
    const mvk_gemm dense = {.m = p->m, .k = p->k, .n = p->n, .act = p->act};
    MVK_ISA_FN(mvk_f32_gemm_rows)(0, p->m, &dense, a, w_packed, bias, c, res, 0);
}

/* Column panels [p0, p1) of C for all m rows: the parallel split of a GEMM with too few rows
 * to share (the classifier, M = 1), where the weight matrix is the work. */
static MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_gemm_cols)(int64_t p0, int64_t p1, const mvk_gemm *g,
                              const float *MVK_RESTRICT a, const float *MVK_RESTRICT w_packed,
                              const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                              const float *MVK_RESTRICT res)
{
    const int64_t m = g->m;
    const int k = g->k, n = g->n, act = g->act;
    enum { MR = MVK_GEMM_MR };
    for (int64_t i = 0; i < m; i += MR) {
        const int mr = m - i < MR ? (int)(m - i) : MR;
        for (int64_t p = p0; p < p1; p++) {
            const int nr = n - 16 * (int)p < 16 ? n - 16 * (int)p : 16;
            MVK_ISA_FN(mvk_f32_gemm_ukernel)
            (mr, nr, k, a + i * k, k, w_packed + p * k * 16, (int64_t)16 * k,
             bias ? bias + 16 * p : 0, c + i * n + 16 * p, n, res ? res + i * n + 16 * p : 0, n,
             act);
        }
    }
}
