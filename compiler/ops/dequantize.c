/* DEQUANTIZE: int8 -> float, same shape; exists only in int8 graphs, in front of a
 * --keep-fp32 layer. */
#include "ops/ops.h"

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char s[32];
    emit_float_literal(s, sizeof s, (float)a->qscale);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_dequantize__scalar(" MVIT_X0 ", out, %s, %d, %lld);", s, a->qzero,
         (long long)mvit_value_numel(a));
}

const mvit_op_def mvit_op_dequantize = {
    .infer = mvit_infer_same,
    .macs = mvit_no_macs,
    .quantize = mvit_quantize_nothing, /* the input's scale is the whole rule */
    .lower_i8 = lower_i8,
};
