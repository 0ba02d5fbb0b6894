/* The model description: what a MobileViT YAML file (docs/model-format.md) says, after
 * validation. Every record keeps the YAML mark (1-based line:column) of the mapping it came
 * from, so later stages can blame the right place in the file. */
#ifndef MVIT_DESC_H
#define MVIT_DESC_H

#include "../common/diag.h"

#define MVIT_MAX_INPUT_CHANNELS 16
#define MVIT_MAX_NAME 64
/* smallest input side: the ImageNet networks' last map is then 1x1 (input / 32) */
#define MVIT_MIN_INPUT 32

typedef struct mvit_src_loc {
    int line; /* 1-based, 0 = unknown */
    int col;  /* 1-based */
} mvit_src_loc;

typedef enum mvit_block_kind {
    MVIT_BLOCK_INVERTED_RESIDUAL, /* timm BottleneckBlock: 1x1 expand, 3x3 depthwise, 1x1 project */
    MVIT_BLOCK_MOBILEVIT,         /* timm MobileVitBlock: local conv, transformer, fusion */
    MVIT_BLOCK_MOBILEVIT_V2,      /* timm MobileVitV2Block: linear attention, GroupNorm */
    MVIT_BLOCK_MOBILEVIT_V3,      /* MobileViTv3's v1-based block: depthwise local conv, 1x1
                                     fusion over [local | global], residual */
    MVIT_BLOCK_MOBILEVIT_V3_V2,   /* MobileViTv3's v2-based block: + local concat, residual */
} mvit_block_kind;

typedef struct mvit_block_desc {
    mvit_block_kind kind;
    mvit_src_loc loc;  /* the block's mapping */
    int out_channels;
    int stride;        /* inverted residual only: 1 or 2 */
    double expansion;  /* inverted residual only: mid = make_divisible(in * expansion, 8) */
    int kernel;        /* mobilevit: conv_kxk and conv_fusion kernel size (odd), default 3 */
    int transformer_dim, ffn_dim, depth, heads;
    int patch_h, patch_w;
} mvit_block_desc;

typedef struct mvit_stage_desc {
    mvit_src_loc loc;
    int num_blocks;
    mvit_block_desc *blocks;
} mvit_stage_desc;

typedef struct mvit_model_desc {
    char *path;                    /* the YAML file, for messages */
    char name[MVIT_MAX_NAME];      /* C identifier-safe: [A-Za-z_][A-Za-z0-9_]* */
    mvit_src_loc input_loc;
    int height, width, channels;   /* pixels, pixels, input channels */
    char channel_order[8];         /* "rgb", "bgr" or "gray" */
    float mean[MVIT_MAX_INPUT_CHANNELS], std[MVIT_MAX_INPUT_CHANNELS]; /* per input channel */
    double bn_eps, ln_eps, gn_eps; /* default 1e-5 */
    mvit_src_loc stem_loc;
    int stem_out, stem_kernel, stem_stride;
    int num_stages;
    mvit_stage_desc *stages;
    mvit_src_loc final_loc;
    int final_out;                 /* channels of final_conv, 0: none (MobileViT v2) */
    mvit_src_loc classifier_loc;
    int num_classes;
} mvit_model_desc;

/* Parses and validates path. On failure returns < 0, d names path:line:col, *out is left
 * freed (safe to call mvit_desc_free on it anyway). */
int mvit_desc_load(const char *path, mvit_model_desc *out, mvit_diag *d);

/* As mvit_desc_load, with the input resized to height x width (each in MVIT_MIN_INPUT..4096,
 * checked by the caller; 0 keeps the description's size). */
int mvit_desc_load_resized(const char *path, int height, int width, mvit_model_desc *out,
                           mvit_diag *d);

/* Same, from a memory buffer; path is only used in messages. */
int mvit_desc_parse(const char *path, const unsigned char *text, size_t len,
                    mvit_model_desc *out, mvit_diag *d);

void mvit_desc_free(mvit_model_desc *m);

/* An input size in pixels (--resolution). */
typedef struct mvit_size {
    int height, width;
} mvit_size;

/* Parses a --resolution list: comma-separated "R" (R x R) and "HxW" entries, each side an
 * integer in MVIT_MIN_INPUT..4096 (digits only), no size twice ("64" and "64x64" are one),
 * at most max entries. Returns the number of sizes, or MVIT_EINVAL with d naming the bad
 * entry (messages start with who, e.g. "mvitc"). */
int mvit_parse_sizes(const char *spec, const char *who, mvit_size *out, int max, mvit_diag *d);

/* A size's name in generated identifiers and directories: "224" for 224x224, "192x256" for
 * height 192, width 256 (NAME_run_192x256). */
void mvit_size_name(int height, int width, char *buf, size_t n);

/* timm's make_divisible(v, 8): the expanded width of an inverted residual block. */
int mvit_make_divisible(double v, int divisor);

#endif
