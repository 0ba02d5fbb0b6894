/* The driver of the INT8 depthwise convolution, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"); bit for bit
 * mvk_i8_dwconv__scalar (docs/int8.md), with the same contract except w: the ISA's own
 * layout. Per output row, blocks of MVK_I8_DW_BLOCK channels (16, or 32 on AVX-512, in
 * mvit_pack_i8_dw's blocks of 16 either way; a tail block of fewer, read through
 * zero-padded copies), then the row's pixels: MVK_I8_DW_PIXELS neighbours at a time through
 * the ISA's fast path when all their taps lie inside the input (and the block is whole),
 * else one by the general path (padding taps read the input zero point zx). The SiLU table
 * goes over each finished output row while it is in L1; a row per block keeps the input
 * lines in cache. The ISA file supplies, before including this:
 *   MVK_I8_DW_PIXELS                       output pixels per fast step
 *   MVK_I8_DW_BLOCK                        channels per block (16 or 32)
 *   four types: MVK_ISA_FN(mvk_i8_dw_state) (per-call values the compiler may keep in
 *       registers), MVK_ISA_FN(mvk_i8_dw_work) (buffers indexed at run time: in memory),
 *       MVK_ISA_FN(mvk_i8_dw_block) (a channel block's constants), and
 *       MVK_ISA_FN(mvk_i8_dw_acc) (the sums of MVK_I8_DW_PIXELS pixels of a block)
 *   MVK_ISA_FN(mvk_i8_dw_init)(&st, &wk, zx, zy, lut, k, wd, c)   returns nonzero when the
 *       fast path takes this kernel size
 *   MVK_ISA_FN(mvk_i8_dw_block_init)(&bl, &wk, w, bias, mult, shift, c0, cb, k)
 *   MVK_ISA_FN(mvk_i8_dw_start)(&bl)       the accumulators holding the biases
 *   MVK_ISA_FN(mvk_i8_dw_fast)(&acc, &wk, &bl, in, w, wd, c, c0, k, y0, x0, stride)
 *   MVK_ISA_FN(mvk_i8_dw_general)(&acc, &st, &wk, &bl, in, w, h, wd, c, c0, cb, k, y0, x0)
 *       the sums of the pixel whose window starts at input (y0, x0)
 *   MVK_ISA_FN(mvk_i8_dw_store)(&acc, &st, &bl, dst, c, cb, px)   px pixels, c apart
 *   MVK_ISA_FN(mvk_i8_dw_lut)(&st, y, len, lut)   the table on len bytes in place */

/* Same contract as mvk_i8_dwconv__scalar, except w (above). */
static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_dwconv)(const mvk_conv2d *p, const mvk_i8_requant *rq,
                          const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                          const int8_t *MVK_RESTRICT w, int64_t r0, int64_t r1)
{
    MVK_DWCONV_LOCALS(p);
    MVK_I8_REQUANT_LOCALS(rq);
    MVK_ISA_FN(mvk_i8_dw_state) st;
    MVK_ISA_FN(mvk_i8_dw_work) wk;
    const int fast_ok = MVK_ISA_FN(mvk_i8_dw_init)(&st, &wk, zx, zy, lut, k, wd, c);
    for (int64_t oy = r0; oy < r1; oy++) {
        for (int c0 = 0; c0 < c; c0 += MVK_I8_DW_BLOCK) {
            const int cb = c - c0 < MVK_I8_DW_BLOCK ? c - c0 : MVK_I8_DW_BLOCK;
            MVK_ISA_FN(mvk_i8_dw_block) bl;
            MVK_ISA_FN(mvk_i8_dw_block_init)(&bl, &wk, w, bias + c0, mult + c0, shift + c0, c0,
                                             cb, k);
            const int y0 = (int)oy * stride - pad;
            const int rows_in = fast_ok && cb == MVK_I8_DW_BLOCK && y0 >= 0 && y0 + k <= h;
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = ox * stride - pad;
                MVK_ISA_FN(mvk_i8_dw_acc) acc = MVK_ISA_FN(mvk_i8_dw_start)(&bl);
                int px = 1;
                if (rows_in && ox + MVK_I8_DW_PIXELS - 1 < ow && x0 >= 0 &&
                    x0 + (MVK_I8_DW_PIXELS - 1) * stride + k <= wd) {
                    MVK_ISA_FN(mvk_i8_dw_fast)(&acc, &wk, &bl, in, w, wd, c, c0, k, y0, x0, stride);
                    px = MVK_I8_DW_PIXELS;
                } else {
                    MVK_ISA_FN(mvk_i8_dw_general)(&acc, &st, &wk, &bl, in, w, h, wd, c, c0, cb, k,
                                                  y0, x0);
                }
                MVK_ISA_FN(mvk_i8_dw_store)(&acc, &st, &bl, out + (oy * ow + ox) * c + c0, c, cb,
                                            px);
                ox += px - 1;
            }
        }
        if (lut)
            MVK_ISA_FN(mvk_i8_dw_lut)(&st, out + oy * ow * c, (int64_t)ow * c, lut);
    }
}

#undef MVK_I8_DW_PIXELS
#undef MVK_I8_DW_BLOCK
