/* The driver of the INT8 channel concatenation, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"); bit for bit
 * mvk_i8_concat__scalar. Each side of a pixel is requantised to the output's parameters,
 * y = clamp(zy + R(x - zx, m, s)), by the ISA file's
 *   MVK_ISA_FN(mvk_i8_cat_side)(x, y, n, zx, m, s, zy)   n values of one side
 * for multipliers where MVK_ISA_FN(mvk_i8_cat_fits)(m) says its lanes are exact; other
 * multipliers take the scalar kernel. */

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_concat)(const int8_t *MVK_RESTRICT a, const int8_t *MVK_RESTRICT b,
                          int8_t *MVK_RESTRICT out, int64_t pixels, int ca, int cb, int32_t za,
                          int32_t ma, int sa, int32_t zb, int32_t mb, int sb, int32_t zy)
{
    if (!MVK_ISA_FN(mvk_i8_cat_fits)(ma) || !MVK_ISA_FN(mvk_i8_cat_fits)(mb)) {
        mvk_i8_concat__scalar(a, b, out, pixels, ca, cb, za, ma, sa, zb, mb, sb, zy);
        return;
    }
    for (int64_t i = 0; i < pixels; i++) {
        int8_t *o = out + i * (ca + cb);
        MVK_ISA_FN(mvk_i8_cat_side)(a + i * ca, o, ca, za, ma, sa, zy);
        MVK_ISA_FN(mvk_i8_cat_side)(b + i * cb, o + ca, cb, zb, mb, sb, zy);
    }
}
