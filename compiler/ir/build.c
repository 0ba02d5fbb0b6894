/* Builds the IR of a described MobileViT (v1, v2, v3) from timm-named weights.
 * The graph mirrors timm's modules one op at a time (conv, BN, SiLU and residual adds stay
 * separate here; passes fuse them). Weights are checked against the expected shapes and
 * converted from PyTorch's layouts (conv OIHW -> HWIO, linear [out][in] -> IO). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "weights/weights.h"

typedef struct builder {
    const mvit_model_desc *desc;
    mvit_weights *w;
    mvit_graph *g;
    mvit_diag *d;
} builder;

static void format_shape(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
}

/* Returns the float tensor name (formatted) after checking its shape, or NULL with b->d set. */
static const mvit_tensor *take(builder *b, mvit_src_loc loc, int ndim, const int64_t *shape,
                               const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    char want[128], got[128];
    format_shape(want, sizeof want, ndim, shape);
    mvit_tensor *t = mvit_weights_find(b->w, name);
    if (!t) {
        mvit_diag_at(b->d, MVIT_EINVAL, b->w->path, 0, 0,
                     "missing tensor '%s' (expected shape %s, required by %s:%d:%d)", name, want,
                     b->desc->path, loc.line, loc.col);
        return NULL;
    }
    format_shape(got, sizeof got, t->ndim, t->shape);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same || !t->is_float) {
        mvit_diag_at(b->d, MVIT_EINVAL, b->w->path, 0, 0,
                     "tensor '%s' has %s shape %s, expected a float tensor of shape %s "
                     "(%s:%d:%d)",
                     name, t->dtype, got, want, b->desc->path, loc.line, loc.col);
        return NULL;
    }
    t->used = 1;
    return t;
}

static float *copy_vec(const mvit_tensor *t)
{
    float *v = mvit_xmalloc((size_t)t->numel * sizeof *v);
    memcpy(v, t->data, (size_t)t->numel * sizeof *v);
    return v;
}

/* Conv weight OIHW [O][I/g][k][k] -> HWIO [k][k][I/g][O]. */
static float *conv_to_hwio(const mvit_tensor *t, int o, int ig, int k)
{
    float *w = mvit_xmalloc((size_t)t->numel * sizeof *w);
    for (int oc = 0; oc < o; oc++)
        for (int ic = 0; ic < ig; ic++)
            for (int y = 0; y < k; y++)
                for (int x = 0; x < k; x++)
                    w[(((size_t)y * k + x) * ig + ic) * o + oc] =
                        t->data[(((size_t)oc * ig + ic) * k + y) * k + x];
    return w;
}

/* Linear weight [out][in] -> IO [in][out]. */
static float *linear_to_io(const mvit_tensor *t, int out, int in)
{
    float *w = mvit_xmalloc((size_t)t->numel * sizeof *w);
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++)
            w[(size_t)i * out + o] = t->data[(size_t)o * in + i];
    return w;
}

static int add(builder *b, mvit_op op, const char *name, mvit_src_loc loc, int in0, int in1,
               mvit_node *attrs)
{
    int inputs[2] = {in0, in1};
    int idx = mvit_graph_add_node(b->g, op, name, loc, inputs, attrs, b->d);
    return idx < 0 ? idx : b->g->nodes[idx].output;
}

/* conv (no bias) of module `mod` (timm: mod.weight), input value x. Returns the value id. */
static int conv(builder *b, mvit_src_loc loc, const char *mod, int x, int cout, int k, int stride,
                int groups)
{
    int cin = b->g->values[x].dims[2];
    int64_t shape[4] = {cout, cin / groups, k, k};
    const mvit_tensor *t = take(b, loc, 4, shape, "%s.weight", mod);
    if (!t)
        return MVIT_EINVAL;
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.kernel = k;
    a.stride = stride;
    a.pad = ((stride - 1) + (k - 1)) / 2; /* timm get_padding: symmetric */
    a.groups = groups;
    a.out_channels = cout;
    a.weight = conv_to_hwio(t, cout, cin / groups, k);
    a.weight_numel = t->numel;
    char name[96];
    snprintf(name, sizeof name, "%.80s", mod);
    /* timm's ConvNormAct names the conv "<block>.conv"; report the block */
    size_t len = strlen(name);
    if (len > 5 && !strcmp(name + len - 5, ".conv"))
        name[len - 5] = 0;
    return add(b, MVIT_OP_CONV2D, name, loc, x, -1, &a);
}

/* 1x1 conv with a bias (MobileViT v2's attention and MLP projections): mod.weight, mod.bias. */
static int conv1x1_bias(builder *b, mvit_src_loc loc, const char *mod, int x, int cout)
{
    int64_t shape[1] = {cout};
    int y = conv(b, loc, mod, x, cout, 1, 1, 1);
    if (y < 0)
        return y;
    const mvit_tensor *t = take(b, loc, 1, shape, "%s.bias", mod);
    if (!t)
        return MVIT_EINVAL;
    b->g->nodes[b->g->values[y].producer].bias = copy_vec(t);
    return y;
}

static int batchnorm(builder *b, mvit_src_loc loc, const char *mod, int x)
{
    int c = b->g->values[x].dims[2];
    int64_t shape[1] = {c};
    const mvit_tensor *gamma = take(b, loc, 1, shape, "%s.weight", mod);
    const mvit_tensor *beta = gamma ? take(b, loc, 1, shape, "%s.bias", mod) : NULL;
    const mvit_tensor *mean = beta ? take(b, loc, 1, shape, "%s.running_mean", mod) : NULL;
    const mvit_tensor *var = mean ? take(b, loc, 1, shape, "%s.running_var", mod) : NULL;
    if (!var)
        return MVIT_EINVAL;
    char tracked[160];
    snprintf(tracked, sizeof tracked, "%s.num_batches_tracked", mod);
    mvit_tensor *nbt = mvit_weights_find(b->w, tracked);
    if (nbt)
        nbt->used = 1;
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.bn_gamma = copy_vec(gamma);
    a.bn_beta = copy_vec(beta);
    a.bn_mean = copy_vec(mean);
    a.bn_var = copy_vec(var);
    a.eps = b->desc->bn_eps;
    return add(b, MVIT_OP_BATCHNORM, mod, loc, x, -1, &a);
}

static int silu(builder *b, mvit_src_loc loc, const char *mod, int x)
{
    char name[96];
    snprintf(name, sizeof name, "%.80s.act", mod);
    return add(b, MVIT_OP_SILU, name, loc, x, -1, NULL);
}

/* timm ConvNormAct: conv (no bias) -> BatchNorm -> optional SiLU, modules mod.conv, mod.bn. */
static int conv_norm_act(builder *b, mvit_src_loc loc, const char *mod, int x, int cout, int k,
                         int stride, int groups, int act)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s.conv", mod);
    int y = conv(b, loc, sub, x, cout, k, stride, groups);
    if (y < 0)
        return y;
    snprintf(sub, sizeof sub, "%s.bn", mod);
    y = batchnorm(b, loc, sub, y);
    return (y < 0 || !act) ? y : silu(b, loc, mod, y);
}

static int linear(builder *b, mvit_src_loc loc, const char *mod, int x, int cout)
{
    int cin = b->g->values[x].dims[2];
    int64_t wshape[2] = {cout, cin}, bshape[1] = {cout};
    const mvit_tensor *w = take(b, loc, 2, wshape, "%s.weight", mod);
    const mvit_tensor *bias = w ? take(b, loc, 1, bshape, "%s.bias", mod) : NULL;
    if (!bias)
        return MVIT_EINVAL;
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.out_channels = cout;
    a.weight = linear_to_io(w, cout, cin);
    a.weight_numel = w->numel;
    a.bias = copy_vec(bias);
    return add(b, MVIT_OP_LINEAR, mod, loc, x, -1, &a);
}

/* LayerNorm (timm nn.LayerNorm) or GroupNorm with one group (timm GroupNorm1): mod.weight,
 * mod.bias per channel. */
static int norm(builder *b, mvit_src_loc loc, const char *mod, int x, mvit_op op)
{
    int64_t shape[1] = {b->g->values[x].dims[2]};
    const mvit_tensor *gamma = take(b, loc, 1, shape, "%s.weight", mod);
    const mvit_tensor *beta = gamma ? take(b, loc, 1, shape, "%s.bias", mod) : NULL;
    if (!beta)
        return MVIT_EINVAL;
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.ln_gamma = copy_vec(gamma);
    a.ln_beta = copy_vec(beta);
    a.eps = op == MVIT_OP_GROUPNORM ? b->desc->gn_eps : b->desc->ln_eps;
    return add(b, op, mod, loc, x, -1, &a);
}

static int layernorm(builder *b, mvit_src_loc loc, const char *mod, int x)
{
    return norm(b, loc, mod, x, MVIT_OP_LAYERNORM);
}

static int groupnorm(builder *b, mvit_src_loc loc, const char *mod, int x)
{
    return norm(b, loc, mod, x, MVIT_OP_GROUPNORM);
}

static int residual_add(builder *b, mvit_src_loc loc, const char *name, int x, int y)
{
    return add(b, MVIT_OP_ADD, name, loc, x, y, NULL);
}

#define TRY(expr)                                                                              \
    do {                                                                                       \
        if ((x = (expr)) < 0)                                                                  \
            return x;                                                                          \
    } while (0)

static int inverted_residual(builder *b, const mvit_block_desc *blk, const char *pfx, int in)
{
    int cin = b->g->values[in].dims[2];
    int mid = mvit_make_divisible(cin * blk->expansion, 8);
    char mod[96];
    int x;
    snprintf(mod, sizeof mod, "%s.conv1_1x1", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, in, mid, 1, 1, 1, 1));
    snprintf(mod, sizeof mod, "%s.conv2_kxk", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, x, mid, 3, blk->stride, mid, 1));
    snprintf(mod, sizeof mod, "%s.conv3_1x1", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, x, blk->out_channels, 1, 1, 1, 0));
    /* MobileViT uses timm's downsample='': identity shortcut only when shapes agree */
    if (cin == blk->out_channels && blk->stride == 1) {
        snprintf(mod, sizeof mod, "%s.add", pfx);
        TRY(residual_add(b, blk->loc, mod, x, in));
    }
    return x;
}

static int transformer_layer(builder *b, const mvit_block_desc *blk, const char *pfx, int in)
{
    char mod[128];
    int x, y;
    snprintf(mod, sizeof mod, "%s.norm1", pfx);
    TRY(layernorm(b, blk->loc, mod, in));
    snprintf(mod, sizeof mod, "%s.attn.qkv", pfx);
    TRY(linear(b, blk->loc, mod, x, 3 * blk->transformer_dim));
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.heads = blk->heads;
    snprintf(mod, sizeof mod, "%s.attn", pfx);
    TRY(add(b, MVIT_OP_ATTENTION, mod, blk->loc, x, -1, &a));
    snprintf(mod, sizeof mod, "%s.attn.proj", pfx);
    TRY(linear(b, blk->loc, mod, x, blk->transformer_dim));
    snprintf(mod, sizeof mod, "%s.add1", pfx);
    TRY(residual_add(b, blk->loc, mod, x, in));
    y = x;
    snprintf(mod, sizeof mod, "%s.norm2", pfx);
    TRY(layernorm(b, blk->loc, mod, y));
    snprintf(mod, sizeof mod, "%s.mlp.fc1", pfx);
    TRY(linear(b, blk->loc, mod, x, blk->ffn_dim));
    TRY(silu(b, blk->loc, mod, x));
    snprintf(mod, sizeof mod, "%s.mlp.fc2", pfx);
    TRY(linear(b, blk->loc, mod, x, blk->transformer_dim));
    snprintf(mod, sizeof mod, "%s.add2", pfx);
    TRY(residual_add(b, blk->loc, mod, x, y));
    return x;
}

/* timm MobileVitBlock; v3: MobileViTv3's v1-based block (its reference code's
 * MobileViTv3Block), whose local conv is depthwise and whose 1x1 fusion reads
 * [local features | conv_proj's output], its output added to the block input. */
static int mobilevit_block(builder *b, const mvit_block_desc *blk, const char *pfx, int in)
{
    const int v3 = blk->kind == MVIT_BLOCK_MOBILEVIT_V3;
    const mvit_value *v = &b->g->values[in];
    const int cin = v->dims[2], map_h = v->dims[0], map_w = v->dims[1];
    /* the references resize a map that does not split into whole patches up to the next
     * multiple of the patch and back after the fold (timm MobileVitBlock.forward) */
    const int grid_h = (map_h + blk->patch_h - 1) / blk->patch_h * blk->patch_h;
    const int grid_w = (map_w + blk->patch_w - 1) / blk->patch_w * blk->patch_w;
    char mod[96];
    int x;
    snprintf(mod, sizeof mod, "%s.conv_kxk", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, in, cin, blk->kernel, 1, v3 ? cin : 1, 1));
    snprintf(mod, sizeof mod, "%s.conv_1x1", pfx);
    TRY(conv(b, blk->loc, mod, x, blk->transformer_dim, 1, 1, 1));
    const int local = x;
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.patch_h = blk->patch_h;
    a.patch_w = blk->patch_w;
    a.map_h = map_h, a.map_w = map_w;
    a.grid_h = grid_h, a.grid_w = grid_w;
    snprintf(mod, sizeof mod, "%s.unfold", pfx);
    TRY(add(b, MVIT_OP_UNFOLD, mod, blk->loc, x, -1, &a));
    for (int l = 0; l < blk->depth; l++) {
        snprintf(mod, sizeof mod, "%s.transformer.%d", pfx, l);
        TRY(transformer_layer(b, blk, mod, x));
    }
    snprintf(mod, sizeof mod, "%s.norm", pfx);
    TRY(layernorm(b, blk->loc, mod, x));
    mvit_node_attrs_init(&a);
    a.patch_h = blk->patch_h;
    a.patch_w = blk->patch_w;
    a.map_h = map_h, a.map_w = map_w;
    a.grid_h = grid_h, a.grid_w = grid_w;
    snprintf(mod, sizeof mod, "%s.fold", pfx);
    TRY(add(b, MVIT_OP_FOLD, mod, blk->loc, x, -1, &a));
    snprintf(mod, sizeof mod, "%s.conv_proj", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, x, blk->out_channels, 1, 1, 1, 1));
    snprintf(mod, sizeof mod, "%s.concat", pfx);
    TRY(add(b, MVIT_OP_CONCAT, mod, blk->loc, v3 ? local : in, x, NULL));
    snprintf(mod, sizeof mod, "%s.conv_fusion", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, x, blk->out_channels, v3 ? 1 : blk->kernel, 1, 1, 1));
    if (v3) {
        snprintf(mod, sizeof mod, "%s.add", pfx);
        TRY(residual_add(b, blk->loc, mod, x, in));
    }
    return x;
}

/* timm LinearTransformerBlock: x + out_proj(attn(qkv_proj(norm1(x)))), then
 * x + fc2(SiLU(fc1(norm2(x)))), all on the HWC map (ops/linear_attention.c). */
static int linear_transformer_layer(builder *b, const mvit_block_desc *blk, const char *pfx,
                                    int in)
{
    const int d = blk->transformer_dim;
    char mod[128];
    int x, y;
    snprintf(mod, sizeof mod, "%s.norm1", pfx);
    TRY(groupnorm(b, blk->loc, mod, in));
    snprintf(mod, sizeof mod, "%s.attn.qkv_proj", pfx);
    TRY(conv1x1_bias(b, blk->loc, mod, x, 1 + 2 * d));
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.patch_h = blk->patch_h;
    a.patch_w = blk->patch_w;
    snprintf(mod, sizeof mod, "%s.attn", pfx);
    TRY(add(b, MVIT_OP_LINEAR_ATTENTION, mod, blk->loc, x, -1, &a));
    snprintf(mod, sizeof mod, "%s.attn.out_proj", pfx);
    TRY(conv1x1_bias(b, blk->loc, mod, x, d));
    snprintf(mod, sizeof mod, "%s.add1", pfx);
    TRY(residual_add(b, blk->loc, mod, x, in));
    y = x;
    snprintf(mod, sizeof mod, "%s.norm2", pfx);
    TRY(groupnorm(b, blk->loc, mod, y));
    snprintf(mod, sizeof mod, "%s.mlp.fc1", pfx);
    TRY(conv1x1_bias(b, blk->loc, mod, x, blk->ffn_dim));
    TRY(silu(b, blk->loc, mod, x));
    snprintf(mod, sizeof mod, "%s.mlp.fc2", pfx);
    TRY(conv1x1_bias(b, blk->loc, mod, x, d));
    snprintf(mod, sizeof mod, "%s.add2", pfx);
    TRY(residual_add(b, blk->loc, mod, x, y));
    return x;
}

/* A map that does not split into whole patches, resized up to them (timm MobileVitV2Block:
 * bilinear, align_corners=True); the block's output keeps the new size. */
static int resize_to_patches(builder *b, const mvit_block_desc *blk, const char *pfx, int in)
{
    const mvit_value *v = &b->g->values[in];
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.map_h = v->dims[0], a.map_w = v->dims[1];
    a.grid_h = (a.map_h + blk->patch_h - 1) / blk->patch_h * blk->patch_h;
    a.grid_w = (a.map_w + blk->patch_w - 1) / blk->patch_w * blk->patch_w;
    if (a.grid_h == a.map_h && a.grid_w == a.map_w)
        return in;
    char mod[96];
    snprintf(mod, sizeof mod, "%s.resize", pfx);
    return add(b, MVIT_OP_RESIZE, mod, blk->loc, in, -1, &a);
}

/* timm MobileVitV2Block, and (v3) MobileViTv3's v2-based block: conv_proj over
 * [global | local] and the (resized) block input added. */
static int mobilevit_v2_block(builder *b, const mvit_block_desc *blk, const char *pfx, int in)
{
    const int v3 = blk->kind == MVIT_BLOCK_MOBILEVIT_V3_V2;
    char mod[96];
    int x, local;
    TRY(resize_to_patches(b, blk, pfx, in));
    in = x;
    const int cin = b->g->values[in].dims[2];
    snprintf(mod, sizeof mod, "%s.conv_kxk", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, in, cin, blk->kernel, 1, cin, 1));
    snprintf(mod, sizeof mod, "%s.conv_1x1", pfx);
    TRY(conv(b, blk->loc, mod, x, blk->transformer_dim, 1, 1, 1));
    local = x;
    for (int l = 0; l < blk->depth; l++) {
        snprintf(mod, sizeof mod, "%s.transformer.%d", pfx, l);
        TRY(linear_transformer_layer(b, blk, mod, x));
    }
    snprintf(mod, sizeof mod, "%s.norm", pfx);
    TRY(groupnorm(b, blk->loc, mod, x));
    if (v3) {
        snprintf(mod, sizeof mod, "%s.concat", pfx);
        TRY(add(b, MVIT_OP_CONCAT, mod, blk->loc, x, local, NULL));
    }
    snprintf(mod, sizeof mod, "%s.conv_proj", pfx);
    TRY(conv_norm_act(b, blk->loc, mod, x, blk->out_channels, 1, 1, 1, 0));
    if (v3) {
        snprintf(mod, sizeof mod, "%s.add", pfx);
        TRY(residual_add(b, blk->loc, mod, x, in));
    }
    return x;
}

static int check_no_extra_tensors(builder *b)
{
    for (int i = 0; i < b->w->count; i++) {
        const mvit_tensor *t = &b->w->tensors[i];
        if (!t->used)
            return mvit_diag_at(b->d, MVIT_EINVAL, b->w->path, 0, 0,
                                "unexpected tensor '%s': the model described in %s has no such "
                                "parameter (wrong model size or naming?)",
                                t->name, b->desc->path);
    }
    return 0;
}

static int build(builder *b)
{
    const mvit_model_desc *m = b->desc;
    mvit_graph *g = b->g;
    int x = mvit_graph_add_value(g, "input", MVIT_LAYOUT_HWC, m->height, m->width, m->channels);
    g->values[x].kind = MVIT_VALUE_INPUT;
    g->input = x;
    TRY(conv_norm_act(b, m->stem_loc, "stem", x, m->stem_out, m->stem_kernel, m->stem_stride, 1,
                      1));
    for (int s = 0; s < m->num_stages; s++) {
        for (int j = 0; j < m->stages[s].num_blocks; j++) {
            const mvit_block_desc *blk = &m->stages[s].blocks[j];
            char pfx[48];
            snprintf(pfx, sizeof pfx, "stages.%d.%d", s, j);
            if (blk->kind == MVIT_BLOCK_INVERTED_RESIDUAL)
                TRY(inverted_residual(b, blk, pfx, x));
            else if (blk->kind == MVIT_BLOCK_MOBILEVIT || blk->kind == MVIT_BLOCK_MOBILEVIT_V3)
                TRY(mobilevit_block(b, blk, pfx, x));
            else
                TRY(mobilevit_v2_block(b, blk, pfx, x));
        }
    }
    if (m->final_out > 0) /* MobileViT v2 has none (timm: an Identity) */
        TRY(conv_norm_act(b, m->final_loc, "final_conv", x, m->final_out, 1, 1, 1, 1));
    TRY(add(b, MVIT_OP_GLOBAL_AVGPOOL, "head.global_pool", m->classifier_loc, x, -1, NULL));
    TRY(linear(b, m->classifier_loc, "head.fc", x, m->num_classes));
    g->values[x].kind = MVIT_VALUE_OUTPUT;
    g->output = x;
    return check_no_extra_tensors(b);
}

int mvit_build_graph(const mvit_model_desc *desc, mvit_weights *w, mvit_graph *g, mvit_diag *d)
{
    builder b = {desc, w, g, d};
    mvit_graph_init(g, desc);
    for (int i = 0; i < w->count; i++)
        w->tensors[i].used = 0;
    int rc = build(&b);
    if (rc < 0) {
        mvit_graph_free(g);
        return rc;
    }
    return mvit_ir_verify(g, d);
}
