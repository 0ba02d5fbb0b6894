/* The portable target: plain C99 kernels (compiler/kernels/...-scalar.c) that any compiler
 * vectorises as it can. Its lowerings are the ops' own (mvit_op_def.lower_f32 in
 * compiler/ops/), which every SIMD target falls back to for the ops it does not accelerate. */
#include "codegen/codegen.h"

const mvit_target mvit_target_generic = {
    .name = "generic",
    .help = "portable C99, includes only <stdint.h>/<stddef.h>; any CPU",
    .arch = "any",
    .triple = "x86_64-linux-gnu",
    .cflags = "",
    .builds = {{"generic", "gcc", "", "", ""}},
    .includes = "",
    .fn_attr = "",
};
