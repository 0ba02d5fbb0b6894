/* Check suite for the model description loader (compiler/desc): the shipped models,
 * valid fixtures in flow style, with defaults and with anchors, every invalid fixture in
 * tests/data/desc with the exact file:line:col and wording of its error, in-memory edge cases,
 * make_divisible against timm, and truncated or corrupted input under the sanitizers. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc/desc.h"

#ifndef MVIT_TEST_DATA
#error "MVIT_TEST_DATA must name tests/data (tests/CMakeLists.txt defines it)"
#endif
#define MODELS MVIT_TEST_DATA "/../../models/"
#define DESC MVIT_TEST_DATA "/desc/"

// ---- helpers

static void load_ok(const char *path, mvit_model_desc *m)
{
    mvit_diag d = {{0}};
    int rc = mvit_desc_load(path, m, &d);
    ck_assert_msg(rc == 0, "%s: rc %d: %s", path, rc, d.msg);
}

/* Loads path, which must fail with a message naming "<file>:<line>:<col>: error: " and
 * containing phrase; the description must come back freed. */
static void load_fails(const char *dir, const char *file, int line, int col, const char *phrase)
{
    char path[1024], where[256];
    mvit_model_desc m;
    mvit_diag d = {{0}};
    snprintf(path, sizeof path, "%s%s", dir, file);
    snprintf(where, sizeof where, "%s:%d:%d: error: ", file, line, col);
    int rc = mvit_desc_load(path, &m, &d);
    ck_assert_msg(rc < 0, "%s: loaded, expected an error", file);
    ck_assert_msg(strstr(d.msg, where) != NULL, "%s: expected '%s' in: %s", file, where, d.msg);
    ck_assert_msg(strstr(d.msg, phrase) != NULL, "%s: expected '%s' in: %s", file, phrase, d.msg);
    ck_assert_ptr_null(m.stages);
    ck_assert_ptr_null(m.path);
    mvit_desc_free(&m);
}

/* Same for an in-memory document named "mem.yaml". */
static void parse_fails(const char *text, size_t len, int line, int col, const char *phrase)
{
    char where[64];
    mvit_model_desc m;
    mvit_diag d = {{0}};
    snprintf(where, sizeof where, "mem.yaml:%d:%d: error: ", line, col);
    int rc = mvit_desc_parse("mem.yaml", (const unsigned char *)text, len, &m, &d);
    ck_assert_msg(rc < 0, "parsed, expected an error for:\n%s", text);
    ck_assert_msg(strncmp(d.msg, where, strlen(where)) == 0, "expected '%s' at the start of: %s",
                  where, d.msg);
    ck_assert_msg(strstr(d.msg, phrase) != NULL, "expected '%s' in: %s", phrase, d.msg);
    ck_assert_ptr_null(m.stages);
    mvit_desc_free(&m);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* A document that parses or fails with a located message; nothing else is acceptable. */
static void parse_any(const char *name, const char *text, size_t len)
{
    mvit_model_desc m;
    mvit_diag d = {{0}};
    int rc = mvit_desc_parse(name, (const unsigned char *)text, len, &m, &d);
    if (rc == 0) {
        ck_assert_int_eq(m.num_stages, 5);
    } else {
        ck_assert_int_lt(rc, 0);
        ck_assert_msg(strncmp(d.msg, name, strlen(name)) == 0 && strstr(d.msg, ": error: "),
                      "unlocated message: %s", d.msg);
        ck_assert_ptr_null(m.stages);
    }
    mvit_desc_free(&m);
}

// ---- shipped models

static const struct {
    const char *file, *name;
    int size, channels, stage1_out, last_dim, final_out, classes;
    double expansion;
} shipped[] = {
    {"mobilevit_xxs.yaml", "mobilevit_xxs", 256, 3, 24, 96, 320, 1000, 2},
    {"mobilevit_xs.yaml", "mobilevit_xs", 256, 3, 48, 144, 384, 1000, 4},
    {"mobilevit_s.yaml", "mobilevit_s", 256, 3, 64, 240, 640, 1000, 4},
    {"mobilevit_xxs_128.yaml", "mobilevit_xxs_128", 128, 3, 24, 96, 320, 1000, 2},
    {"fmnist_xxs.yaml", "fmnist_xxs", 64, 1, 24, 96, 320, 10, 2},
};

START_TEST(test_shipped_model)
{
    static const int nblocks[5] = {1, 3, 2, 2, 2};
    static const int depths[3] = {2, 4, 3};
    char path[1024];
    mvit_model_desc m;
    snprintf(path, sizeof path, "%s%s", MODELS, shipped[_i].file);
    load_ok(path, &m);
    ck_assert_str_eq(m.path, path);
    ck_assert_str_eq(m.name, shipped[_i].name);
    ck_assert_int_eq(m.height, shipped[_i].size);
    ck_assert_int_eq(m.width, shipped[_i].size);
    ck_assert_int_eq(m.channels, shipped[_i].channels);
    ck_assert_double_eq(m.bn_eps, 1e-5);
    ck_assert_double_eq(m.ln_eps, 1e-5);
    ck_assert_int_eq(m.stem_out, 16);
    ck_assert_int_eq(m.stem_kernel, 3);
    ck_assert_int_eq(m.stem_stride, 2);
    ck_assert_int_eq(m.num_stages, 5);
    for (int s = 0; s < 5; s++) {
        ck_assert_int_eq(m.stages[s].num_blocks, nblocks[s]);
        const mvit_block_desc *b0 = &m.stages[s].blocks[0];
        ck_assert_int_eq(b0->kind, MVIT_BLOCK_INVERTED_RESIDUAL);
        ck_assert_int_eq(b0->stride, s == 0 ? 1 : 2);
        ck_assert_double_eq(b0->expansion, shipped[_i].expansion);
        if (s >= 2) {
            const mvit_block_desc *mv = &m.stages[s].blocks[1];
            ck_assert_int_eq(mv->kind, MVIT_BLOCK_MOBILEVIT);
            ck_assert_int_eq(mv->out_channels, b0->out_channels);
            ck_assert_int_eq(mv->ffn_dim, 2 * mv->transformer_dim);
            ck_assert_int_eq(mv->depth, depths[s - 2]);
            ck_assert_int_eq(mv->heads, 4);
            ck_assert_int_eq(mv->patch_h, 2);
            ck_assert_int_eq(mv->patch_w, 2);
            ck_assert_int_eq(mv->kernel, 3);
        }
    }
    ck_assert_int_eq(m.stages[1].blocks[2].out_channels, shipped[_i].stage1_out);
    ck_assert_int_eq(m.stages[1].blocks[2].stride, 1);
    ck_assert_int_eq(m.stages[4].blocks[1].transformer_dim, shipped[_i].last_dim);
    ck_assert_int_eq(m.final_out, shipped[_i].final_out);
    ck_assert_int_eq(m.num_classes, shipped[_i].classes);
    mvit_desc_free(&m);
    ck_assert_ptr_null(m.stages);
    mvit_desc_free(&m); /* freeing twice is harmless */
}
END_TEST

START_TEST(test_xxs_details)
{
    mvit_model_desc m;
    load_ok(MODELS "mobilevit_xxs.yaml", &m);
    ck_assert_str_eq(m.channel_order, "rgb");
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq(m.mean[c], 0.0f);
        ck_assert_float_eq(m.std[c], 1.0f);
    }
    /* marks are 1-based; a block mapping starts at its first key ("input:" is line 6) */
    ck_assert_int_eq(m.input_loc.line, 7);
    ck_assert_int_eq(m.input_loc.col, 3);
    ck_assert_int_eq(m.stem_loc.line, 18);
    ck_assert_int_eq(m.stages[0].loc.line, 23);
    ck_assert_int_eq(m.stages[0].loc.col, 5);
    ck_assert_int_eq(m.stages[0].blocks[0].loc.line, 24);
    ck_assert_int_eq(m.stages[0].blocks[0].loc.col, 9);
    ck_assert_int_eq(m.stages[2].blocks[1].loc.line, 31);
    ck_assert_int_eq(m.stages[2].blocks[1].loc.col, 9);
    ck_assert_int_eq(m.final_loc.line, 58);
    ck_assert_int_eq(m.classifier_loc.line, 61);
    const int outs[5] = {16, 24, 48, 64, 80}, dims[3] = {64, 80, 96};
    for (int s = 0; s < 5; s++)
        ck_assert_int_eq(m.stages[s].blocks[0].out_channels, outs[s]);
    for (int s = 2; s < 5; s++)
        ck_assert_int_eq(m.stages[s].blocks[1].transformer_dim, dims[s - 2]);
    mvit_desc_free(&m);
}
END_TEST

START_TEST(test_fmnist_input)
{
    mvit_model_desc m;
    load_ok(MODELS "fmnist_xxs.yaml", &m);
    ck_assert_str_eq(m.channel_order, "gray");
    ck_assert_float_eq(m.mean[0], 0.286f);
    ck_assert_float_eq(m.std[0], 0.353f);
    mvit_desc_free(&m);
}
END_TEST

// ---- valid fixtures

START_TEST(test_flow_style)
{
    mvit_model_desc m;
    load_ok(DESC "valid_flow.yaml", &m);
    ck_assert_str_eq(m.name, "flow_net");
    ck_assert_int_eq(m.height, 96);
    ck_assert_int_eq(m.width, 160);
    ck_assert_str_eq(m.channel_order, "bgr");
    ck_assert_float_eq(m.mean[2], 0.406f);
    ck_assert_float_eq(m.std[1], 0.224f);
    ck_assert_double_eq(m.bn_eps, 1e-3);
    ck_assert_double_eq(m.ln_eps, 1e-6);
    ck_assert_int_eq(m.stem_out, 8);
    ck_assert_int_eq(m.stem_kernel, 5);
    ck_assert_int_eq(m.stem_stride, 1);
    ck_assert_double_eq(m.stages[1].blocks[0].expansion, 2.5);
    ck_assert_int_eq(m.stages[1].blocks[1].stride, 1);
    const mvit_block_desc *b = &m.stages[2].blocks[1];
    ck_assert_int_eq(b->kind, MVIT_BLOCK_MOBILEVIT);
    ck_assert_int_eq(b->transformer_dim, 48);
    ck_assert_int_eq(b->heads, 2);
    ck_assert_int_eq(b->depth, 1);
    ck_assert_int_eq(b->patch_h, 3);
    ck_assert_int_eq(b->patch_w, 5);
    ck_assert_int_eq(b->kernel, 5);
    ck_assert_int_eq(b->loc.line, 14);
    ck_assert_int_eq(b->loc.col, 15);
    ck_assert_int_eq(m.stages[3].blocks[1].heads, 3);
    ck_assert_int_eq(m.stages[3].blocks[1].patch_w, 1);
    ck_assert_int_eq(m.stages[4].blocks[0].stride, 1);
    ck_assert_int_eq(m.final_out, 192);
    ck_assert_int_eq(m.num_classes, 7);
    mvit_desc_free(&m);
}
END_TEST

START_TEST(test_defaults)
{
    mvit_model_desc m;
    load_ok(DESC "valid_defaults.yaml", &m);
    ck_assert_double_eq(m.bn_eps, 1e-5);
    ck_assert_double_eq(m.ln_eps, 1e-5);
    ck_assert_int_eq(m.stem_kernel, 3);
    ck_assert_int_eq(m.stem_stride, 2);
    ck_assert_int_eq(m.stages[0].blocks[0].stride, 1);
    ck_assert_double_eq(m.stages[0].blocks[0].expansion, 1.0);
    ck_assert_int_eq(m.stages[1].blocks[0].stride, 1);
    for (int s = 2; s < 5; s++) {
        const mvit_block_desc *b = &m.stages[s].blocks[m.stages[s].num_blocks - 1];
        ck_assert_int_eq(b->kind, MVIT_BLOCK_MOBILEVIT);
        ck_assert_int_eq(b->heads, 4);
        ck_assert_int_eq(b->patch_h, 2);
        ck_assert_int_eq(b->patch_w, 2);
        ck_assert_int_eq(b->kernel, 3);
    }
    mvit_desc_free(&m);
}
END_TEST

START_TEST(test_anchors_merges)
{
    mvit_model_desc m;
    load_ok(DESC "valid_anchors.yaml", &m);
    ck_assert_double_eq(m.bn_eps, 1e-5); /* written 1e-5: a YAML 1.1 string */
    ck_assert_double_eq(m.ln_eps, 2e-5);
    ck_assert_int_eq(m.stem_out, 16); /* 0x10 */
    ck_assert_int_eq(m.stem_stride, 2);
    ck_assert_int_eq(m.stages[1].num_blocks, 3);
    ck_assert_int_eq(m.stages[1].blocks[0].stride, 2);
    ck_assert_int_eq(m.stages[1].blocks[1].stride, 1);
    ck_assert_int_eq(m.stages[1].blocks[2].out_channels, 24);
    ck_assert_int_eq(m.stages[1].blocks[2].loc.line, m.stages[1].blocks[1].loc.line);
    ck_assert_int_eq(m.stages[2].blocks[0].stride, 2);           /* merged from *down */
    ck_assert_double_eq(m.stages[2].blocks[0].expansion, 4.0);   /* explicit beats merged */
    ck_assert_int_eq(m.stages[2].blocks[1].transformer_dim, 64); /* 1:04 sexagesimal */
    ck_assert_int_eq(m.stages[3].blocks[0].stride, 2);
    ck_assert_int_eq(m.stages[3].blocks[0].out_channels, 64);
    ck_assert_int_eq(m.stages[3].blocks[1].depth, 4);
    ck_assert_double_eq(m.stages[4].blocks[0].expansion, 8.0); /* first merge source wins */
    ck_assert_int_eq(m.stages[4].blocks[1].heads, 2);
    ck_assert_int_eq(m.stages[4].blocks[1].transformer_dim, 96);
    mvit_desc_free(&m);
}
END_TEST

// ---- invalid fixtures: the location and the wording of each message are part of the contract

static const struct {
    const char *file;
    int line, col;
    const char *phrase;
} invalid[] = {
    {"invalid_syntax.yaml", 12, 7, "invalid YAML: did not find expected ',' or '}'"},
    {"invalid_top_level.yaml", 2, 1, "the top level must be a mapping, got a sequence"},
    {"invalid_empty.yaml", 1, 1, "expected a mapping at the top level, got an empty document"},
    {"invalid_unknown_key.yaml", 11, 37,
     "unknown key 'strid' in 'stem' (allowed: out_channels, kernel, stride)"},
    {"invalid_missing_key.yaml", 2, 1, "missing required key 'classifier' in the top level"},
    {"invalid_missing_type.yaml", 24, 9, "missing required key 'type' in this block"},
    {"invalid_type_string.yaml", 16, 49, "'out_channels' must be an integer, got string 'abc'"},
    {"invalid_type_mapping.yaml", 11, 7, "'stem' must be a mapping, got a sequence"},
    {"invalid_not_integer.yaml", 26, 28, "'out_channels' must be an integer, got 2.5"},
    {"invalid_quoted_int.yaml", 27, 27, "'num_classes' must be an integer, got string '1000'"},
    {"invalid_bool.yaml", 14, 61, "'stride' must be an integer, got boolean 'yes'"},
    {"invalid_null.yaml", 13, 10, "'kernel' must be an integer, got null"},
    {"invalid_overflow.yaml", 5, 11, "'height' must be between 32 and 4096, got 99999999999999"},
    {"invalid_too_large.yaml", 6, 10, "'width' must be between 32 and 4096, got 8192"},
    {"invalid_zero_channels.yaml", 18, 49, "'out_channels' must be positive (1..65536), got 0"},
    {"invalid_duplicate_key.yaml", 7, 3, "duplicate key 'width' (first at line 6, column 3)"},
    {"invalid_format.yaml", 2, 9,
     "'format' must be \"mvitc/mobilevit-v1\", \"mvitc/mobilevit-v2\" or "
     "\"mvitc/mobilevit-v3\", got 'mvitc/mobilevit-v4'"},
    {"invalid_name.yaml", 3, 7, "'name' must be an identifier"},
    {"invalid_channel_order.yaml", 8, 18, "'channel_order' must be rgb, bgr or gray, got 'rgba'"},
    {"invalid_gray_channels.yaml", 8, 18, "'channel_order' gray needs 'channels: 1', got 3"},
    {"invalid_mean_length.yaml", 9, 9, "'mean' must have one value per input channel (3), got 2"},
    {"invalid_std_zero.yaml", 10, 14, "'std' values must be positive, got 0"},
    {"invalid_bn_eps.yaml", 11, 16, "'batchnorm_eps' must be positive, got 0.0"},
    {"invalid_even_kernel.yaml", 11, 34, "'kernel' must be odd"},
    {"invalid_stride.yaml", 21, 61, "'stride' must be 1 or 2, got 3"},
    {"invalid_expansion.yaml", 14, 75, "'expansion' must be positive, got -1.5"},
    {"invalid_block_type.yaml", 22, 16,
     "unknown block type 'transformer' for format mvitc/mobilevit-v1 (expected "
     "inverted_residual, mobilevit)"},
    {"invalid_v2_block_in_v1.yaml", 29, 15,
     "unknown block type 'mobilevit_v2' for format mvitc/mobilevit-v1 (expected "
     "inverted_residual, mobilevit)"},
    {"invalid_v2_block_key.yaml", 34, 9,
     "unknown key 'heads' in this mobilevit_v2 block (allowed: type, out_channels, "
     "transformer_dim, ffn_dim, depth, patch_size, kernel)"},
    {"invalid_v2_missing_key.yaml", 37, 9,
     "missing required key 'transformer_dim' in this mobilevit_v2 block"},
    {"invalid_v2_gn_eps.yaml", 14, 16, "'groupnorm_eps' must be positive, got 0.0"},
    {"invalid_v3_block_in_v2.yaml", 30, 15,
     "unknown block type 'mobilevit_v3_v2' for format mvitc/mobilevit-v2 (expected "
     "inverted_residual, mobilevit_v2)"},
    {"invalid_v3_heads.yaml", 33, 26, "'transformer_dim' 64 must be divisible by 'heads' 3"},
    {"invalid_block_key.yaml", 24, 78,
     "unknown key 'heads' in this inverted_residual block (allowed: type, out_channels, "
     "stride, expansion)"},
    {"invalid_heads.yaml", 22, 62, "'transformer_dim' 80 must be divisible by 'heads' 3"},
    {"invalid_patch_size.yaml", 20, 22, "'patch_size' must be [height, width], got 3 values"},
    {"invalid_stage_count.yaml", 13, 3, "'stages' must have exactly 5 entries"},
    {"invalid_empty_blocks.yaml", 15, 13, "'blocks' must hold 1 to 1024 blocks, got 0"},
    {"invalid_small_input.yaml", 5, 11, "'height' must be between 32 and 4096, got 16"},
    {"invalid_undefined_alias.yaml", 10, 8, "undefined alias '*unit'"},
    {"invalid_recursive_merge.yaml", 11, 7, "'<<' merges nested more than 8 deep"},
    {"invalid_two_documents.yaml", 28, 1, "expected a single YAML document"},
    {"invalid_tag.yaml", 5, 11, "unsupported tag '!pixels'"},
};

START_TEST(test_invalid_fixture)
{
    load_fails(DESC, invalid[_i].file, invalid[_i].line, invalid[_i].col, invalid[_i].phrase);
}
END_TEST

START_TEST(test_error_codes)
{
    mvit_model_desc m;
    mvit_diag d;
    ck_assert_int_eq(mvit_desc_load(DESC "invalid_syntax.yaml", &m, &d), MVIT_EPARSE);
    ck_assert_int_eq(mvit_desc_load(DESC "invalid_stride.yaml", &m, &d), MVIT_EINVAL);
    ck_assert_int_eq(mvit_desc_load(DESC "no_such_file.yaml", &m, &d), MVIT_EIO);
    ck_assert_msg(strstr(d.msg, "no_such_file.yaml: error: cannot open") != NULL, "%s", d.msg);
    ck_assert_ptr_null(m.path);
    ck_assert_int_eq(mvit_desc_load(DESC "invalid_stride.yaml", &m, NULL), MVIT_EINVAL);
    mvit_desc_free(&m);
}
END_TEST

// ---- in-memory documents: scalar typing and byte-level problems

/* Literal documents only: the length excludes the terminating NUL, not embedded ones. */
#define FAILS(lit, line, col, phrase) parse_fails(lit, sizeof lit - 1, line, col, phrase)
#define HEAD "format: mvitc/mobilevit-v1\nname: m\n"
#define INPUT                                                                                      \
    "input: {height: 64, width: 64, channels: 1, channel_order: gray, mean: [0], std: [1]}\n"

START_TEST(test_memory_errors)
{
    static const char utf8[] = HEAD "x: \xff\n";
    static const char nul[] = "format: mvitc/mobilevit-v1\0\nname: m\n";
    char deep[256];
    parse_fails(utf8, sizeof utf8 - 1, 3, 4, "invalid leading UTF-8 octet (byte 0xFF");
    parse_fails(nul, sizeof nul - 1, 1, 27, "control characters are not allowed");
    memset(deep, '[', sizeof deep);
    parse_fails(deep, sizeof deep, 1, 65, "nested deeper than 64 levels");
    FAILS("", 1, 1, "got an empty document");
    FAILS("\xef\xbb\xbf# BOM only\n", 1, 1, "got an empty document");
    FAILS("plain text", 1, 1, "the top level must be a mapping, got string 'plain text'");
    FAILS("{format: mvitc/mobilevit-v1, format: x}", 1, 30, "duplicate key 'format'");
    FAILS("format: \"mvitc/mobilevit-v1\\0!\"", 1, 9, "got 'mvitc/mobilevit-v1\\x00!'");
    FAILS(HEAD "input: {height: 0x1000_0}", 3, 17, "between 32 and 4096, got 0x1000_0");
    FAILS(HEAD "input: {height: .inf}", 3, 17, "must be an integer, got .inf");
    FAILS(HEAD "input: {height: !!float 64}", 3, 17, "must be an integer, got 64");
    FAILS(HEAD "input: {height: !!int 6.4}", 3, 17, "must be an integer, got 6.4");
    FAILS(HEAD "input: {height: 1:60}", 3, 17, "must be an integer, got string '1:60'");
    FAILS(HEAD "input: [64]", 3, 8, "'input' must be a mapping, got a sequence");
    FAILS(HEAD "input: {? [a]: 1}", 3, 11, "mapping keys must be strings, got a sequence");
    FAILS(HEAD "input: {<<: 5}", 3, 13, "'<<' must merge a mapping or a sequence");
    FAILS(HEAD "input: {height: 64, width: 64, channels: 1, channel_order: gray,"
               " mean: [1e-5], std: [1]}",
          3, 73, "'mean' must be a number, got string '1e-5'");
    FAILS(HEAD "input: {height: 64, width: 64, channels: 1, channel_order: gray,"
               " mean: [.nan], std: [1]}",
          3, 73, "'mean' must be a finite number, got .nan");
    FAILS(HEAD "input: {height: 64, width: 64, channels: 1, channel_order: gray,"
               " mean: [0], std: [1.0e-300]}",
          3, 83, "'std' values must be positive, got 1.0e-300");
    FAILS(HEAD INPUT "layernorm_eps: abc", 4, 16,
          "'layernorm_eps' must be a number, got string 'abc'");
    FAILS(HEAD INPUT "stem: {out_channels: 8, kernel: 33}", 4, 33,
          "'kernel' must be between 1 and 31, got 33");
    FAILS(HEAD INPUT "stem: {out_channels: 8}\nstages: {}", 5, 9,
          "'stages' must be a sequence, got a mapping");
    FAILS(HEAD INPUT "stem: !!seq {}", 4, 7, "unsupported tag 'tag:yaml.org,2002:seq'");
    FAILS(HEAD "a: &x 1\nb: &x 2\n", 4, 4, "duplicate anchor '&x'");
}
END_TEST

/* Returns a malloc'd copy of text with the first "from" replaced by "to". */
static char *replace(const char *text, const char *from, const char *to, size_t *len)
{
    const char *at = strstr(text, from);
    ck_assert_ptr_nonnull(at);
    size_t head = (size_t)(at - text), nf = strlen(from), nt = strlen(to);
    *len = strlen(text) - nf + nt;
    char *out = malloc(*len + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, head);
    memcpy(out + head, to, nt);
    strcpy(out + head + nt, at + nf);
    return out;
}

/* Expansion so large that the 1x1 expand conv would exceed the channel limit. */
START_TEST(test_expansion_limit)
{
    size_t len, n;
    char *text = read_all(DESC "valid_flow.yaml", &len), *bad;
    bad = replace(text, "expansion: 2.5", "expansion: 1e99", &n);
    parse_fails(bad, n, 11, 81, "'expansion' must be a number, got string '1e99'");
    free(bad);
    bad = replace(text, "expansion: 2.5", "expansion: 9000", &n);
    parse_fails(bad, n, 11, 81, "gives 144000 expanded channels (16 input), more than 65536");
    free(bad);
    free(text);
}
END_TEST

// ---- robustness: every prefix and pseudo-random corruptions (meaningful under ASan/UBSan)

START_TEST(test_truncations)
{
    size_t len;
    char *text = read_all(MODELS "mobilevit_xxs.yaml", &len);
    for (size_t n = 0; n <= len; n++)
        parse_any("trunc.yaml", text, n);
    free(text);
}
END_TEST

START_TEST(test_corruptions)
{
    static const char *const files[] = {DESC "valid_flow.yaml", DESC "valid_anchors.yaml",
                                        DESC "valid_defaults.yaml"};
    static const char alphabet[] = "{}[]:,-&*!|>'\"#%@`?<\n \t0123456789.xeE_+";
    uint32_t seed = 12345;
    for (int f = 0; f < 3; f++) {
        size_t len;
        char *orig = read_all(files[f], &len);
        char *buf = malloc(len + 8);
        ck_assert_ptr_nonnull(buf);
        for (int iter = 0; iter < 700; iter++) {
            memcpy(buf, orig, len);
            size_t n = len;
            for (int k = 0; k < 1 + iter % 4; k++) {
                seed = seed * 1664525u + 1013904223u;
                size_t pos = (seed >> 8) % n;
                int op = (int)(seed & 3);
                char c = (seed >> 28) & 1 ? (char)(seed >> 20)
                                          : alphabet[(seed >> 20) % (sizeof alphabet - 1)];
                if (op == 0 && n > 1) { /* delete */
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                } else if (op == 1 && n < len + 8) { /* insert */
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = c;
                    n++;
                } else {
                    buf[pos] = c;
                }
            }
            parse_any("fuzz.yaml", buf, n);
        }
        free(buf);
        free(orig);
    }
}
END_TEST

// ---- make_divisible

START_TEST(test_make_divisible)
{
    /* expected values printed by timm's make_divisible(v, d) (tools/mobilevit_ref.py) */
    static const struct {
        double v;
        int divisor, want;
    } cases[] = {
        {32, 8, 32}, {64, 8, 64},   {60.0, 8, 64}, {3, 8, 8},       {12, 8, 16}, {20, 8, 24},
        {7.1, 8, 8}, {100, 8, 104}, {10, 8, 16},   {18.0, 8, 24},   {19, 8, 24}, {17, 8, 16},
        {0, 8, 8},   {-5, 8, 8},    {37.5, 8, 40}, {240.0, 8, 240}, {33, 4, 32}, {6, 4, 8},
        {1, 1, 1},   {5.5, 3, 6},   {-20.5, 8, 8}, {43.2, 16, 48},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(mvit_make_divisible(cases[i].v, cases[i].divisor) == cases[i].want,
                      "make_divisible(%g, %d) = %d, want %d", cases[i].v, cases[i].divisor,
                      mvit_make_divisible(cases[i].v, cases[i].divisor), cases[i].want);
    /* the expanded widths of the shipped models */
    ck_assert_int_eq(mvit_make_divisible(16 * 2.0, 8), 32);
    ck_assert_int_eq(mvit_make_divisible(80 * 4.0, 8), 320);
    /* never undefined behaviour, whatever the input */
    ck_assert_int_gt(mvit_make_divisible(1e300, 8), 0);
    ck_assert_int_gt(mvit_make_divisible(-1e300, 8), 0);
    ck_assert_int_gt(mvit_make_divisible(NAN, 8), 0);
}
END_TEST

static Suite *desc_suite(void)
{
    Suite *s = suite_create("desc");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_shipped_model, 0, (int)(sizeof shipped / sizeof shipped[0]));
    tcase_add_test(tc, test_xxs_details);
    tcase_add_test(tc, test_fmnist_input);
    tcase_add_test(tc, test_flow_style);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_anchors_merges);
    tcase_add_loop_test(tc, test_invalid_fixture, 0, (int)(sizeof invalid / sizeof invalid[0]));
    tcase_add_test(tc, test_error_codes);
    tcase_add_test(tc, test_memory_errors);
    tcase_add_test(tc, test_expansion_limit);
    tcase_add_test(tc, test_truncations);
    tcase_add_test(tc, test_corruptions);
    tcase_add_test(tc, test_make_divisible);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(desc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
