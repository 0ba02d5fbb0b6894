/* Parameter naming: the rest of mvitc uses timm's names, and ml-cvnets (apple/ml-cvnets, the
 * MobileViT authors' code) names the same parameters after its own module tree. This file
 * maps cvnets names to timm's with a table of patterns, picks the layout of a file, strips a
 * DataParallel "module." prefix, and chooses the reader by the file's first bytes. */
#include "weights.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- cvnets -> timm pattern table

/* ml-cvnets module tree (cvnets/models/classification/mobilevit.py, cvnets/modules/
 * mobilevit_block.py, mobilenetv2.py, transformer.py, cvnets/layers/conv_layer.py,
 * multi_head_attention.py):
 *   ConvLayer2d            .block.conv (bias-free), .block.norm (BatchNorm2d), .block.act
 *   conv_1                 stem ConvLayer2d
 *   layer_1 .. layer_5     nn.Sequential of InvertedResidual / MobileViTBlock (timm stages 0..4)
 *   InvertedResidual       .block.exp_1x1, .block.conv_3x3 (depthwise), .block.red_1x1
 *   MobileViTBlock         .local_rep.conv_3x3, .local_rep.conv_1x1 (no norm),
 *                          .global_rep.K (TransformerEncoder, K < depth), .global_rep.<depth>
 *                          (LayerNorm), .conv_proj, .fusion
 *   TransformerEncoder     .pre_norm_mha = [LayerNorm, MultiHeadAttention(qkv_proj, out_proj),
 *                          Dropout], .pre_norm_ffn = [LayerNorm, Linear, act, Dropout, Linear,
 *                          Dropout]
 *   conv_1x1_exp           final 1x1 ConvLayer2d;  classifier = [global_pool, (dropout,) fc]
 *   MobileViTBlockv2       (v2) .local_rep.0 (depthwise), .local_rep.1, .global_rep.K
 *                          (LinearAttnFFN: .pre_norm_attn = [GroupNorm, LinearSelfAttention
 *                          (qkv_proj, out_proj: ConvLayer2d)], .pre_norm_ffn = [GroupNorm,
 *                          ConvLayer2d, Dropout, ConvLayer2d, Dropout]), .global_rep.<depth>
 *                          (GroupNorm), .conv_proj; classifier = [GlobalPool, LinearLayer]
 * MobileViTv3's reference code keeps these trees (its v1-based block names its layers as
 * MobileViTBlock does, its v2-based one as MobileViTBlockv2).
 * MultiHeadAttention's qkv_proj stacks q, k, v and splits heads as timm's Attention does, so
 * every tensor keeps its shape and values; only the name changes.
 *
 * Pattern syntax: '#' a decimal index, '@' (cvnets side only) a 1-based stage number, so
 * layer_N pairs with timm's stages.N-1; '*' one trailing name component (weight, bias,
 * running_mean, ...). The k-th number of one side corresponds to the k-th of the other. */
typedef struct name_rule {
    const char *cvnets, *timm;
} name_rule;

static const name_rule rules[] = {
    {"conv_1.block.conv.weight", "stem.conv.weight"},
    {"conv_1.block.norm.*", "stem.bn.*"},
    {"layer_@.#.block.exp_1x1.block.conv.weight", "stages.#.#.conv1_1x1.conv.weight"},
    {"layer_@.#.block.exp_1x1.block.norm.*", "stages.#.#.conv1_1x1.bn.*"},
    {"layer_@.#.block.conv_3x3.block.conv.weight", "stages.#.#.conv2_kxk.conv.weight"},
    {"layer_@.#.block.conv_3x3.block.norm.*", "stages.#.#.conv2_kxk.bn.*"},
    {"layer_@.#.block.red_1x1.block.conv.weight", "stages.#.#.conv3_1x1.conv.weight"},
    {"layer_@.#.block.red_1x1.block.norm.*", "stages.#.#.conv3_1x1.bn.*"},
    {"layer_@.#.local_rep.conv_3x3.block.conv.weight", "stages.#.#.conv_kxk.conv.weight"},
    {"layer_@.#.local_rep.conv_3x3.block.norm.*", "stages.#.#.conv_kxk.bn.*"},
    {"layer_@.#.local_rep.conv_1x1.block.conv.weight", "stages.#.#.conv_1x1.weight"},
    {"layer_@.#.global_rep.#.pre_norm_mha.0.*", "stages.#.#.transformer.#.norm1.*"},
    {"layer_@.#.global_rep.#.pre_norm_mha.1.qkv_proj.*", "stages.#.#.transformer.#.attn.qkv.*"},
    {"layer_@.#.global_rep.#.pre_norm_mha.1.out_proj.*", "stages.#.#.transformer.#.attn.proj.*"},
    {"layer_@.#.global_rep.#.pre_norm_ffn.0.*", "stages.#.#.transformer.#.norm2.*"},
    {"layer_@.#.global_rep.#.pre_norm_ffn.1.*", "stages.#.#.transformer.#.mlp.fc1.*"},
    {"layer_@.#.global_rep.#.pre_norm_ffn.4.*", "stages.#.#.transformer.#.mlp.fc2.*"},
    {"layer_@.#.global_rep.#.*", "stages.#.#.norm.*"}, /* '#' = depth, checked by the caller */
    {"layer_@.#.conv_proj.block.conv.weight", "stages.#.#.conv_proj.conv.weight"},
    {"layer_@.#.conv_proj.block.norm.*", "stages.#.#.conv_proj.bn.*"},
    {"layer_@.#.fusion.block.conv.weight", "stages.#.#.conv_fusion.conv.weight"},
    {"layer_@.#.fusion.block.norm.*", "stages.#.#.conv_fusion.bn.*"},
    {"conv_1x1_exp.block.conv.weight", "final_conv.conv.weight"},
    {"conv_1x1_exp.block.norm.*", "final_conv.bn.*"},
    {"classifier.fc.*", "head.fc.*"},
    /* MobileViT v2 (and v3's v2-based block): unnamed local_rep, LinearAttnFFN, ConvLayer2d
     * 1x1 projections with biases, classifier = [GlobalPool, LinearLayer] */
    {"layer_@.#.local_rep.0.block.conv.weight", "stages.#.#.conv_kxk.conv.weight"},
    {"layer_@.#.local_rep.0.block.norm.*", "stages.#.#.conv_kxk.bn.*"},
    {"layer_@.#.local_rep.1.block.conv.weight", "stages.#.#.conv_1x1.weight"},
    {"layer_@.#.global_rep.#.pre_norm_attn.0.*", "stages.#.#.transformer.#.norm1.*"},
    {"layer_@.#.global_rep.#.pre_norm_attn.1.qkv_proj.block.conv.*",
     "stages.#.#.transformer.#.attn.qkv_proj.*"},
    {"layer_@.#.global_rep.#.pre_norm_attn.1.out_proj.block.conv.*",
     "stages.#.#.transformer.#.attn.out_proj.*"},
    {"layer_@.#.global_rep.#.pre_norm_ffn.1.block.conv.*", "stages.#.#.transformer.#.mlp.fc1.*"},
    {"layer_@.#.global_rep.#.pre_norm_ffn.3.block.conv.*", "stages.#.#.transformer.#.mlp.fc2.*"},
    {"classifier.1.*", "head.fc.*"},
};
#define N_RULES ((int)(sizeof rules / sizeof rules[0]))
#define MAX_CAPTURES 4
#define INDEX_MAX 1000000 /* far above any stage, block or layer count */

typedef struct captures {
    long num[MAX_CAPTURES];
    int n;
    const char *rest; /* what '*' matched */
    size_t rest_len;
} captures;

/* Matches name against pat; numbers are plain decimal (no sign, no leading zero). */
static int match(const char *pat, const char *name, captures *c)
{
    c->n = 0;
    c->rest = NULL;
    for (; *pat; pat++) {
        if (*pat == '@' || *pat == '#') {
            if (*name < '0' || *name > '9' || (name[0] == '0' && name[1] >= '0' && name[1] <= '9'))
                return 0;
            long v = 0;
            while (*name >= '0' && *name <= '9') {
                v = v * 10 + (*name++ - '0');
                if (v > INDEX_MAX)
                    return 0;
            }
            if (*pat == '@' && v < 1)
                return 0;
            if (c->n == MAX_CAPTURES)
                return 0;
            c->num[c->n++] = *pat == '@' ? v - 1 : v;
        } else if (*pat == '*') {
            if (!*name || strchr(name, '.'))
                return 0;
            c->rest = name;
            c->rest_len = strlen(name);
            name += c->rest_len;
        } else if (*name++ != *pat) {
            return 0;
        }
    }
    return *name == '\0';
}

/* Writes pat with the captures filled in; returns -1 when out is too small. */
static int expand(const char *pat, const captures *c, char *out, size_t cap)
{
    size_t n = 0;
    int k = 0;
    for (; *pat; pat++) {
        int w;
        if (*pat == '@' || *pat == '#')
            w = snprintf(out + n, cap - n, "%ld", c->num[k++] + (*pat == '@'));
        else if (*pat == '*')
            w = snprintf(out + n, cap - n, "%.*s", (int)c->rest_len, c->rest);
        else
            w = snprintf(out + n, cap - n, "%c", *pat);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
    }
    return 0;
}

/* The rule index that matched, or -1. */
static int map_name(const char *name, char *out, size_t cap, captures *c)
{
    for (int r = 0; r < N_RULES; r++)
        if (match(rules[r].cvnets, name, c))
            return expand(rules[r].timm, c, out, cap) == 0 ? r : -1;
    return -1;
}

int mvit_weights_cvnets_to_timm(const char *name, char *out, size_t cap)
{
    captures c;
    return map_name(name, out, cap, &c) >= 0 ? 0 : -1;
}

// ---- layouts

static const char *const layout_names[] = {"auto", "timm", "cvnets"};

int mvit_weights_layout_parse(const char *s, mvit_weights_layout *out)
{
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, layout_names[i])) {
            *out = (mvit_weights_layout)i;
            return 0;
        }
    return -1;
}

const char *mvit_weights_layout_name(mvit_weights_layout layout)
{
    return (unsigned)layout < 3 ? layout_names[layout] : "?";
}

/* Which layout's top-level module the name starts with: 1 timm, 2 cvnets, 0 neither. */
static int top_level_kind(const char *name)
{
    static const char *const timm[] = {"stem.", "stages.", "final_conv.", "head."};
    static const char *const cvnets[] = {"conv_1.", "conv_1x1_exp.", "classifier."};
    for (size_t i = 0; i < sizeof timm / sizeof timm[0]; i++)
        if (!strncmp(name, timm[i], strlen(timm[i])))
            return 1;
    for (size_t i = 0; i < sizeof cvnets / sizeof cvnets[0]; i++)
        if (!strncmp(name, cvnets[i], strlen(cvnets[i])))
            return 2;
    if (!strncmp(name, "layer_", 6) && name[6] >= '0' && name[6] <= '9')
        return 2;
    return 0;
}

/* By name, then by position, so a message about two equal names is deterministic. */
static int cmp_tensor_names(const void *x, const void *y)
{
    const mvit_tensor *a = *(const mvit_tensor *const *)x, *b = *(const mvit_tensor *const *)y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a > b) - (a < b);
}

typedef struct block_index {
    long stage, block, layer; /* layer: transformer index, or the norm's global_rep index */
    int tensor;
} block_index;

static int cmp_block(const void *x, const void *y)
{
    const block_index *a = x, *b = y;
    if (a->stage != b->stage)
        return a->stage < b->stage ? -1 : 1;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    return (a->layer > b->layer) - (a->layer < b->layer);
}

/* The final LayerNorm of a cvnets MobileViT block is global_rep.<depth>: its index must be
 * one past the block's last transformer layer (sorting keeps this O(n log n)). */
static int check_final_norms(const mvit_weights *w, char **stored, mvit_diag *d)
{
    size_t n = (size_t)w->count, n_layers = 0, n_norms = 0;
    block_index *layers = mvit_xcalloc(n ? n : 1, sizeof *layers);
    block_index *norms = mvit_xcalloc(n ? n : 1, sizeof *norms);
    for (int i = 0; i < w->count; i++) {
        captures c;
        char tmp[512];
        int r = map_name(stored[i], tmp, sizeof tmp, &c);
        if (r < 0 || c.n != 3)
            continue;
        block_index b = {c.num[0], c.num[1], c.num[2], i};
        if (!strcmp(rules[r].timm, "stages.#.#.norm.*"))
            norms[n_norms++] = b;
        else
            layers[n_layers++] = b;
    }
    if (n_layers)
        qsort(layers, n_layers, sizeof *layers, cmp_block);
    int rc = 0;
    for (size_t i = 0; i < n_norms && rc == 0; i++) {
        /* the last layer entry of the same block: binary search for (stage, block, max) */
        block_index key = norms[i];
        key.layer = INDEX_MAX + 1;
        size_t lo = 0, hi = n_layers;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_block(&layers[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        long depth = 0;
        if (lo > 0 && layers[lo - 1].stage == key.stage && layers[lo - 1].block == key.block)
            depth = layers[lo - 1].layer + 1;
        if (norms[i].layer != depth) {
            const char *nm = stored[norms[i].tensor];
            char q[MVIT_QUOTE_BUF];
            rc = mvit_diag_at(d, MVIT_EINVAL, w->path, 0, 0,
                              "tensor '%s': the LayerNorm after the transformer of layer_%ld.%ld "
                              "must be global_rep.%ld (the block has %ld transformer layers)",
                              mvit_weights_quote(q, nm, strlen(nm)), key.stage + 1, key.block,
                              depth, depth);
        }
    }
    free(layers);
    free(norms);
    return rc;
}

int mvit_weights_apply_layout(mvit_weights *w, mvit_weights_layout layout, mvit_diag *d)
{
    static const char prefix[] = "module.";
    const size_t plen = sizeof prefix - 1;
    int all_prefixed = w->count > 0;
    for (int i = 0; i < w->count && all_prefixed; i++)
        all_prefixed = !strncmp(w->tensors[i].name, prefix, plen);
    if (all_prefixed)
        for (int i = 0; i < w->count; i++) {
            char *nm = w->tensors[i].name;
            memmove(nm, nm + plen, strlen(nm + plen) + 1);
        }

    int n_timm = 0, n_cvnets = 0;
    const char *ex_timm = NULL, *ex_cvnets = NULL;
    for (int i = 0; i < w->count; i++) {
        int k = top_level_kind(w->tensors[i].name);
        if (k == 1 && !n_timm++)
            ex_timm = w->tensors[i].name;
        if (k == 2 && !n_cvnets++)
            ex_cvnets = w->tensors[i].name;
    }
    if (layout == MVIT_LAYOUT_AUTO) {
        if (n_timm && n_cvnets) {
            char a[MVIT_QUOTE_BUF], b[MVIT_QUOTE_BUF];
            return mvit_diag_at(d, MVIT_EINVAL, w->path, 0, 0,
                                "names of both the timm layout ('%s') and the cvnets layout "
                                "('%s'): choose one with --weights-layout timm|cvnets",
                                mvit_weights_quote(a, ex_timm, strlen(ex_timm)),
                                mvit_weights_quote(b, ex_cvnets, strlen(ex_cvnets)));
        }
        layout = n_cvnets ? MVIT_LAYOUT_CVNETS : MVIT_LAYOUT_TIMM;
    }
    if (layout != MVIT_LAYOUT_CVNETS)
        return 0;

    /* rename, keeping the stored names for messages until the table is checked */
    char **stored = mvit_xcalloc(w->count ? (size_t)w->count : 1, sizeof *stored);
    int rc = 0;
    for (int i = 0; i < w->count; i++) {
        char buf[512];
        stored[i] = w->tensors[i].name;
        if (mvit_weights_cvnets_to_timm(stored[i], buf, sizeof buf) == 0)
            w->tensors[i].name = mvit_xstrdup(buf);
        else
            w->tensors[i].name = mvit_xstrdup(stored[i]); /* the builder names it as extra */
    }
    if ((rc = check_final_norms(w, stored, d)) < 0)
        goto out;
    if (w->count > 1) {
        const mvit_tensor **by = mvit_xcalloc((size_t)w->count, sizeof *by);
        for (int i = 0; i < w->count; i++)
            by[i] = &w->tensors[i];
        qsort(by, (size_t)w->count, sizeof *by, cmp_tensor_names);
        for (int i = 1; i < w->count && rc == 0; i++) {
            if (strcmp(by[i - 1]->name, by[i]->name) != 0)
                continue;
            const char *s1 = stored[by[i - 1] - w->tensors], *s2 = stored[by[i] - w->tensors];
            char a[MVIT_QUOTE_BUF], b[MVIT_QUOTE_BUF], c[MVIT_QUOTE_BUF];
            rc = mvit_diag_at(d, MVIT_EINVAL, w->path, 0, 0,
                              "tensors '%s' and '%s' both map to '%s' in the cvnets layout",
                              mvit_weights_quote(a, s1, strlen(s1)),
                              mvit_weights_quote(b, s2, strlen(s2)),
                              mvit_weights_quote(c, by[i]->name, strlen(by[i]->name)));
        }
        free(by);
    }
out:
    for (int i = 0; i < w->count; i++)
        free(stored[i]);
    free(stored);
    return rc;
}

// ---- format switch

int mvit_weights_load(const char *path, mvit_weights_layout layout, mvit_weights *w, mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    memset(w, 0, sizeof *w);
    int rc = mvit_read_file(path, (size_t)1 << 40, &buf, &len, d);
    if (rc < 0)
        return rc;
    /* the PyTorch reader also explains the legacy (pickle-first) format; its 13-byte magic
     * read as a safetensors header length would exceed safetensors' own limit */
    static const unsigned char legacy[13] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                             0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50};
    if ((len >= 4 && !memcmp(buf, "PK\x03\x04", 4)) ||
        (len >= sizeof legacy && !memcmp(buf, legacy, sizeof legacy)))
        rc = mvit_weights_parse_pytorch(path, buf, len, w, d);
    else
        rc = mvit_weights_parse_safetensors(path, buf, len, w, d);
    free(buf);
    if (rc == 0 && (rc = mvit_weights_apply_layout(w, layout, d)) < 0)
        mvit_weights_free(w);
    return rc;
}
