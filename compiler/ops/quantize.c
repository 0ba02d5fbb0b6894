/* QUANTIZE: float -> int8, same shape; exists only in int8 graphs, where pass_quantize_int8
 * puts one in front of every int8 reader of a float value (the image, a --keep-fp32 layer's
 * output). */
#include "ops/ops.h"

/* Thresholds between adjacent int8 levels of the output, and, for the image, the 8-bit pixel
 * tables of P_run_u8. */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *y = &c->g->values[n->output];
    mvit_qnode *q = n->q;
    for (int k = 0; k < 255; k++)
        q->thresholds[k] = (float)(y->qscale * ((-128 + k) - y->qzero + 0.5));
    if (n->inputs[0] != c->g->input)
        return 0; /* only the image has 8-bit pixels; the mean/std below are per image channel */
    const mvit_model_desc *m = c->g->desc;
    const int ch = y->dims[2];
    q->pixel_lut = mvit_xmalloc((size_t)ch * 256);
    for (int cc = 0; cc < ch; cc++)
        for (int p = 0; p < 256; p++) {
            /* in float, as runtime/mvrt_image.c and P_run_u8 of float builds */
            const float x = m ? ((float)p / 255.0f - m->mean[cc]) / m->std[cc] : (float)p;
            int lvl = 0;
            while (lvl < 255 && x >= q->thresholds[lvl])
                lvl++;
            q->pixel_lut[cc * 256 + p] = (int8_t)(lvl - 128);
        }
    return 0;
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = &cg->g->values[n->output];
    char t[64];
    mvit_i8_floats(cg, n->q->thresholds, 255, t, sizeof t, "thresholds", n);
    const int row = o->dims[1] * o->dims[2];
    const char *kernel = mvit_i8_use_op_kernel(cg, "quantize");
    cg_parallel(cg, o->dims[0]);
    emit(&cg->body, "mvk_i8_quantize__%s(in0 + r0 * %d, " MVIT_Y " + r0 * %d, %s, (r1 - r0) * %d);",
         kernel, row, row, t, row);
}

const mvit_op_def mvit_op_quantize = {
    .infer = mvit_infer_same,
    .macs = mvit_no_macs,
    .quantize = quantize,
    .lower_i8 = lower_i8,
};
