/* The driver of the INT8 GEMM, written once for every ISA (docs/architecture.md, "Kernels:
 * one driver, per-ISA microkernels"); bit for bit mvk_i8_gemm__scalar and
 * mvk_i8_gemm_f32out__scalar (docs/int8.md), except b: packed by mvit_pack_i8_b
 * (codegen/pack.h) in panels of PANEL_COLS columns, [ceil(N/PC)][ceil(K/4)][PC][4] int8, so
 * column j's panel starts at (j / PC) * panel bytes. bias, mult and shift have n entries (no
 * padding needed).
 *
 * Loop order: columns in groups (the ISA's requantisation constants of a group set up once
 * for all its row blocks), row blocks inside (A's block prepared once and kept in cache
 * across the group's column tiles), tiles of a block column by column, and the SiLU table
 * over each finished block while it is in cache. Rows past the last one repeat it (computed,
 * never stored). The ISA file supplies, before including this:
 *   MVK_I8_GEMM_ROWS, MVK_I8_GEMM_TILE_ROWS   rows per block, per tile (ROWS: a multiple)
 *   MVK_I8_GEMM_PANEL_COLS                   columns per packed panel (8 or 16)
 *   MVK_I8_GEMM_TILE_COLS                    columns per tile (a multiple of PANEL_COLS)
 *   MVK_I8_GEMM_NC(n)                        columns per group (a multiple of TILE_COLS, or n)
 *   two types: MVK_ISA_FN(mvk_i8_gemm_state), per-call values the compiler may keep in
 *       registers, and MVK_ISA_FN(mvk_i8_gemm_work), the stack buffers (indexed at run time,
 *       so in memory: one object with the state would keep the state there too)
 *   MVK_ISA_FN(mvk_i8_gemm_init)(&st, zy, lut)
 *   MVK_ISA_FN(mvk_i8_gemm_group)(&wk, bias, mult, shift, bp, panel, j0, nc, n, k)
 *       what of columns [j0, j0 + nc) lives for all row blocks (or nothing)
 *   MVK_ISA_FN(mvk_i8_gemm_prep)(&wk, arow, mr, k)   A's block, arow[ROWS] (mr valid)
 *   MVK_ISA_FN(mvk_i8_gemm_cols) (a type), MVK_ISA_FN(mvk_i8_gemm_cols_init)(&cl, &wk,
 *       bias, mult, shift, b, panel, j, j - j0, nr)   a column tile's constants, b its panel
 *   MVK_ISA_FN(mvk_i8_gemm_tile)(&st, &wk, &cl, arow, mr, k, c, ldc, nr)
 *       the TILE_ROWS x TILE_COLS tile at c: accumulate, requantise, store mr x nr values
 *   MVK_ISA_FN(mvk_i8_gemm_lut)(&st, y, len, lut)   the table on len bytes in place
 *   MVK_ISA_FN(mvk_i8_gemm_f32cols) (a type), MVK_ISA_FN(mvk_i8_gemm_f32cols_init)(&fc, b,
 *       panel, bias, scale, nr, k), MVK_ISA_FN(mvk_i8_gemm_f32tile)(&wk, &fc, arow, mr, k,
 *       c, ldc, nr)   the same for the float classifier (bias and scale from column j) */

/* The table over a finished block (rows x nc bytes from c, row stride ldc): one span when
 * the rows are contiguous (nc = ldc), else one per row; one call site, so the span's code
 * is inlined once. */
static MVK_INLINE MVK_ISA void MVK_ISA_FN(mvk_i8_gemm_lut_block)(MVK_ISA_FN(mvk_i8_gemm_state) *
                                                                     st,
                                                                 int8_t *c, int64_t ldc, int rows,
                                                                 int nc, const int8_t *lut)
{
    const int spans = nc == ldc ? 1 : rows;
    const int64_t len = nc == ldc ? (int64_t)rows * nc : nc;
    for (int r = 0; r < spans; r++)
        MVK_ISA_FN(mvk_i8_gemm_lut)(st, c + r * ldc, len, lut);
}

/* Rows [i0, i0 + ROWS) of A, those past m repeating the last (so a tile never branches on
 * its row count while it multiplies). Returns the valid count. */
static MVK_INLINE MVK_ISA int MVK_ISA_FN(mvk_i8_gemm_rows)(const int8_t *a, int64_t i0, int64_t m,
                                                          int k, const int8_t **arow)
{
    const int mr = m - i0 < MVK_I8_GEMM_ROWS ? (int)(m - i0) : MVK_I8_GEMM_ROWS;
    for (int r = 0; r < MVK_I8_GEMM_ROWS; r++)
        arow[r] = a + (i0 + (r < mr ? r : mr - 1)) * k;
    return mr;
}

/* Same contract as mvk_i8_gemm__scalar, except b (above). */
static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_gemm)(int64_t m, const mvk_gemm *p, const mvk_i8_requant *rq,
                        const int8_t *MVK_RESTRICT a, int8_t *MVK_RESTRICT c,
                        const int8_t *MVK_RESTRICT bp)
{
    const int k = p->k, n = p->n;
    MVK_I8_REQUANT_LOCALS(rq);
    const int64_t panel = (int64_t)((k + 3) / 4) * 4 * MVK_I8_GEMM_PANEL_COLS;
    MVK_ISA_FN(mvk_i8_gemm_state) st;
    MVK_ISA_FN(mvk_i8_gemm_work) wk;
    MVK_ISA_FN(mvk_i8_gemm_init)(&st, zy, lut);
    for (int j0 = 0; j0 < n; j0 += MVK_I8_GEMM_NC(n)) {
        const int nc = n - j0 < MVK_I8_GEMM_NC(n) ? n - j0 : MVK_I8_GEMM_NC(n);
        MVK_ISA_FN(mvk_i8_gemm_group)(&wk, bias, mult, shift, bp, panel, j0, nc, n, k);
        for (int64_t i0 = 0; i0 < m; i0 += MVK_I8_GEMM_ROWS) {
            const int8_t *arow[MVK_I8_GEMM_ROWS];
            const int mr = MVK_ISA_FN(mvk_i8_gemm_rows)(a, i0, m, k, arow);
            MVK_ISA_FN(mvk_i8_gemm_prep)(&wk, arow, mr, k);
            for (int jj = 0; jj < nc; jj += MVK_I8_GEMM_TILE_COLS) {
                const int j = j0 + jj;
                const int nr = n - j < MVK_I8_GEMM_TILE_COLS ? n - j : MVK_I8_GEMM_TILE_COLS;
                MVK_ISA_FN(mvk_i8_gemm_cols) cl;
                const int8_t *b = bp + (int64_t)(j / MVK_I8_GEMM_PANEL_COLS) * panel;
                MVK_ISA_FN(mvk_i8_gemm_cols_init)(&cl, &wk, bias, mult, shift, b, panel, j, jj,
                                                  nr);
                for (int r = 0; r < mr; r += MVK_I8_GEMM_TILE_ROWS)
                    MVK_ISA_FN(mvk_i8_gemm_tile)(
                        &st, &wk, &cl, arow + r,
                        mr - r < MVK_I8_GEMM_TILE_ROWS ? mr - r : MVK_I8_GEMM_TILE_ROWS, k,
                        c + (i0 + r) * n + j, n, nr);
            }
            if (lut)
                MVK_ISA_FN(mvk_i8_gemm_lut_block)(&st, c + i0 * n + j0, n, mr, nc, lut);
        }
    }
}

/* The classifier, as mvk_i8_gemm_f32out__scalar: c[i][j] = (float)(bias[j] + a[i] . b[:, j])
 * * scale[j], b packed as above. Columns outside, rows inside: a classifier has one row, and
 * a column tile's start values cost a pass over its panels. */
static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_gemm_f32out)(const mvk_gemm *p, const int8_t *MVK_RESTRICT a,
                               float *MVK_RESTRICT c, const int8_t *MVK_RESTRICT bp,
                               const int32_t *MVK_RESTRICT bias, const float *MVK_RESTRICT scale)
{
    const int64_t m = p->m;
    const int k = p->k, n = p->n;
    const int64_t panel = (int64_t)((k + 3) / 4) * 4 * MVK_I8_GEMM_PANEL_COLS;
    MVK_ISA_FN(mvk_i8_gemm_work) wk;
    for (int j = 0; j < n; j += MVK_I8_GEMM_TILE_COLS) {
        const int nr = n - j < MVK_I8_GEMM_TILE_COLS ? n - j : MVK_I8_GEMM_TILE_COLS;
        MVK_ISA_FN(mvk_i8_gemm_f32cols) fc;
        const int8_t *b = bp + (int64_t)(j / MVK_I8_GEMM_PANEL_COLS) * panel;
        MVK_ISA_FN(mvk_i8_gemm_f32cols_init)(&fc, b, panel, bias + j, scale + j, nr, k);
        for (int64_t i0 = 0; i0 < m; i0 += MVK_I8_GEMM_ROWS) {
            const int8_t *arow[MVK_I8_GEMM_ROWS];
            const int mr = MVK_ISA_FN(mvk_i8_gemm_rows)(a, i0, m, k, arow);
            MVK_ISA_FN(mvk_i8_gemm_prep)(&wk, arow, mr, k);
            for (int r = 0; r < mr; r += MVK_I8_GEMM_TILE_ROWS)
                MVK_ISA_FN(mvk_i8_gemm_f32tile)(
                    &wk, &fc, arow + r,
                    mr - r < MVK_I8_GEMM_TILE_ROWS ? mr - r : MVK_I8_GEMM_TILE_ROWS, k,
                    c + (i0 + r) * n + j, n, nr);
        }
    }
}

#undef MVK_I8_GEMM_ROWS
#undef MVK_I8_GEMM_TILE_ROWS
#undef MVK_I8_GEMM_TILE_COLS
#undef MVK_I8_GEMM_PANEL_COLS
#undef MVK_I8_GEMM_NC
