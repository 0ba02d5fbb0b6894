/* The driver of the INT8 channel concatenation, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"); bit for bit
 * mvk_i8_concat__scalar. Each side of a pixel is requantised to the output's parameters,
 * y = clamp(zy + R(x - zx, m, s)), by the ISA file's
 *   MVK_ISA_FN(mvk_i8_cat_side)(x, y, n, zx, m, s, zy)   n values of one side
 * for multipliers where MVK_ISA_FN(mvk_i8_cat_fits)(m) says its lanes are exact; other
 * multipliers take the scalar kernel. */

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_concat)(const mvk_concat *p, const int8_t *MVK_RESTRICT a,
                          const int8_t *MVK_RESTRICT b, int8_t *MVK_RESTRICT out)
{
    const int64_t pixels = p->pixels;
    const int ca = p->ca, cb = p->cb, sa = p->sa, sb = p->sb;
    const int32_t za = p->za, ma = p->ma, zb = p->zb, mb = p->mb, zy = p->zy;
    if (!MVK_ISA_FN(mvk_i8_cat_fits)(ma) || !MVK_ISA_FN(mvk_i8_cat_fits)(mb)) {
        mvk_i8_concat__scalar(p, a, b, out);
        return;
    }
    for (int64_t i = 0; i < pixels; i++) {
        int8_t *o = out + i * (ca + cb);
        MVK_ISA_FN(mvk_i8_cat_side)(a + i * ca, o, ca, za, ma, sa, zy);
        MVK_ISA_FN(mvk_i8_cat_side)(b + i * cb, o + ca, cb, zb, mb, sb, zy);
    }
}
