/* The int8 lowering (docs/int8.md), shared by every target: each op's lower_i8
 * (compiler/ops/) emits calls of the portable kernels of i8-scalar.c, which define the
 * arithmetic, or of the target's own kernels where its kernel set has one, i8-<op>-<isa>.c
 * (the unit tests hold them to identical bytes). Layer functions see float pointers (the
 * dispatcher's types); int8 tensors are reinterpreted. This file holds what those lowerings
 * share. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

const char *mvit_i8_op_kernel(const mvit_target *t, const char *name)
{
    if (!t->simd)
        return "scalar";
    const char *isa[2] = {t->simd->i8_suffix, t->simd->i8_fallback};
    for (int i = 0; i < 2 && isa[i]; i++) {
        char file[64];
        snprintf(file, sizeof file, "i8-%s-%s.c", name, isa[i]);
        if (cg_kernel_exists(file))
            return isa[i];
    }
    return "scalar";
}

const char *mvit_i8_use_op_kernel(mvit_codegen *cg, const char *name)
{
    const char *kernel = mvit_i8_op_kernel(cg->target, name);
    cg_use_kernel(cg, "i8-scalar.c");
    char file[64]; /* a portable kernel is in i8-scalar.c unless it has a file of its own */
    snprintf(file, sizeof file, "i8-%s-%s.c", name, kernel);
    if (cg_kernel_exists(file))
        cg_use_kernel(cg, file);
    return kernel;
}

void mvit_i8_ints(mvit_codegen *cg, cg_int_kind k, const void *data, int64_t count, char *ref,
                  size_t len, const char *what, const mvit_node *n)
{
    cg_int_ref(cg, k, ref, len, cg_param_int(cg, k, data, count, "%s %s", n->name, what));
}

void mvit_i8_floats(mvit_codegen *cg, const float *data, int64_t count, char *ref, size_t len,
                    const char *what, const mvit_node *n)
{
    cg_weight_ref(cg, ref, len, cg_param(cg, data, count, "%s %s", n->name, what));
}

typedef struct requant_refs {
    char bias[64], mult[64], shift[64], lut[64];
} requant_refs;

/* Registers a conv/linear's int32 bias, multipliers, shifts and SiLU table ("0": none). */
static void requant_refs_of(mvit_codegen *cg, const mvit_node *n, requant_refs *r)
{
    mvit_i8_ints(cg, CG_I32, n->q->bias, n->out_channels, r->bias, sizeof r->bias,
                 "bias (int32)", n);
    mvit_i8_ints(cg, CG_I16, n->q->mult, n->out_channels, r->mult, sizeof r->mult,
                 "multipliers", n);
    mvit_i8_ints(cg, CG_I8, n->q->shift, n->out_channels, r->shift, sizeof r->shift, "shifts",
                 n);
    snprintf(r->lut, sizeof r->lut, "0");
    if (n->q->has_lut)
        mvit_i8_ints(cg, CG_I8, n->q->lut, 256, r->lut, sizeof r->lut, "SiLU table", n);
}

void mvit_i8_emit_requant(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len)
{
    requant_refs r;
    requant_refs_of(cg, n, &r);
    emit(&cg->body, "static const mvk_i8_requant rq = {.bias = %s, .mult = %s, .shift = %s,",
         r.bias, r.mult, r.shift);
    emit(&cg->body, "    .zx = %d, .zy = %d, .lut = %s};", cg->g->values[n->inputs[0]].qzero,
         n->q->zy, r.lut);
    snprintf(expr, len, "&rq");
}

/* An int8 GEMM's shape: K and N (the rows of a call are its own; the SiLU is rq's table). */
void mvit_i8_emit_gemm(mvit_codegen *cg, int64_t m, int k, int n, char *expr, size_t len)
{
    const mvk_gemm p = {.m = m, .k = k, .n = n, .act = MVK_ACT_NONE};
    cg_gemm(cg, &p, "0", expr, len);
}
