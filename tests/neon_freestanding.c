/* Every NEON kernel (float and int8) in one translation unit, as a generated file would paste
 * them, each referenced so that it gets code: tests/neon_freestanding.sh compiles this for arm64-v8a and
 * armeabi-v7a with -ffreestanding and requires an object without undefined symbols. */
#include "kernels/mvk-prelude.h"

#include "kernels/f32-gemm-6x16-neon.c"

#include "kernels/f32-attention-neon.c"
#include "kernels/f32-conv2d-im2col-neon.c"
#include "kernels/f32-conv3x3-winograd-neon.c"
#include "kernels/f32-dwconv-neon.c"

#include "kernels/i8-scalar.c"
#include "kernels/i8-gemm-neon.c"
#include "kernels/i8-add-neon.c"
#include "kernels/i8-concat-neon.c"
#include "kernels/i8-dwconv-neon.c"
#include "kernels/i8-layernorm-neon.c"
#include "kernels/i8-attention-neon.c"
#include "kernels/i8-quantize-neon.c"

typedef void (*mvk_any_fn)(void);

const mvk_any_fn mvk_neon_kernels[] = {
    (mvk_any_fn)mvk_f32_gemm_ukernel_rows__neon,
    (mvk_any_fn)mvk_f32_gemm_ukernel__neon,
    (mvk_any_fn)mvk_f32_gemm_rows__neon,
    (mvk_any_fn)mvk_f32_gemm_blocked_rows__neon,
    (mvk_any_fn)mvk_f32_gemm__neon,
    (mvk_any_fn)mvk_f32_gemm_cols__neon,
    (mvk_any_fn)mvk_neon_normalize_row,
    (mvk_any_fn)mvk_f32_conv2d_im2col_rows__neon,
    (mvk_any_fn)mvk_f32_conv2d_im2col__neon,
    (mvk_any_fn)mvk_f32_dwconv_rows__neon,
    (mvk_any_fn)mvk_f32_dwconv__neon,
    (mvk_any_fn)mvk_f32_conv3x3_winograd_scratch__neon,
    (mvk_any_fn)mvk_f32_conv3x3_winograd_rows__neon,
    (mvk_any_fn)mvk_f32_conv3x3_winograd__neon,
    (mvk_any_fn)mvk_f32_attention_scratch__neon,
    (mvk_any_fn)mvk_f32_attention_heads__neon,
    (mvk_any_fn)mvk_f32_attention__neon,
    (mvk_any_fn)mvk_i8_gemm__neon,
    (mvk_any_fn)mvk_i8_gemm_f32out__neon,
    (mvk_any_fn)mvk_i8_add__neon,
    (mvk_any_fn)mvk_i8_concat__neon,
    (mvk_any_fn)mvk_i8_dwconv__neon,
    (mvk_any_fn)mvk_i8_layernorm__neon,
    (mvk_any_fn)mvk_i8_attention__neon,
    (mvk_any_fn)mvk_i8_quantize__neon,
};
