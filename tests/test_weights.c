/* Check suites for the weights readers: safetensors (compiler/weights/safetensors.c), PyTorch
 * checkpoints (pytorch.c) and the cvnets name mapping (layout.c).
 * Valid files are built in memory from a tensor list; each malformed file is a small edit of a
 * valid one, and its test asserts the failure and that the message names the problem and the
 * tensor. tests/data/weights/ref_small.safetensors was written by tools/mobilevit_ref.py. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* access, close */
#include <zip.h>

#include "weights/weights.h"

#ifndef MVIT_TEST_DATA
#error "MVIT_TEST_DATA must name the tests/data directory"
#endif

#define BAD_PATH "bad.safetensors"

// ---- building files

/* One tensor of a file to build; name is JSON text (escapes allowed), data is raw bytes. */
typedef struct spec {
    const char *name;
    const char *dtype;
    const char *shape; /* JSON array text, e.g. "[2,3]" */
    const void *data;
    size_t nbytes;
} spec;

/* Returns a malloc'd file: u64 little-endian header length, header, data. */
static unsigned char *make_file(const char *header, const void *data, size_t nbytes, size_t *len)
{
    size_t n = strlen(header);
    unsigned char *buf = malloc(8 + n + nbytes + 1);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, header, n);
    if (nbytes)
        memcpy(buf + 8 + n, data, nbytes);
    *len = 8 + n + nbytes;
    buf[*len] = '\0'; /* lets tests strstr the header; not part of the file */
    return buf;
}

/* Lays the tensors out back to back, as save_safetensors does; metadata is JSON object text or
 * NULL. */
static unsigned char *build(const spec *s, int count, const char *metadata, size_t *len)
{
    char header[8192];
    unsigned char data[4096];
    size_t h = 0, off = 0;
    h += (size_t)snprintf(header + h, sizeof header - h, "{");
    for (int i = 0; i < count; i++) {
        ck_assert_uint_le(off + s[i].nbytes, sizeof data);
        h += (size_t)snprintf(header + h, sizeof header - h,
                              "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                              i ? "," : "", s[i].name, s[i].dtype, s[i].shape, off,
                              off + s[i].nbytes);
        if (s[i].nbytes)
            memcpy(data + off, s[i].data, s[i].nbytes);
        off += s[i].nbytes;
    }
    if (metadata)
        h += (size_t)snprintf(header + h, sizeof header - h, "%s\"__metadata__\":%s",
                              count ? "," : "", metadata);
    h += (size_t)snprintf(header + h, sizeof header - h, "}");
    ck_assert_uint_lt(h, sizeof header);
    return make_file(header, data, off, len);
}

static const float small_f32[6] = {1.0f, -2.0f, 0.5f, 3.25f, -0.0f, 1e-3f};

/* A 24-byte data area (6 floats) for the single-header bad-file tests. */
static unsigned char *file_with(const char *header, size_t *len)
{
    return make_file(header, small_f32, sizeof small_f32, len);
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int parse(const unsigned char *buf, size_t len, mvit_weights *w, mvit_diag *d)
{
    memset(d, 0, sizeof *d);
    return mvit_weights_parse_safetensors(BAD_PATH, buf, len, w, d);
}

/* Asserts that buf is rejected (with code, unless 0) by a message that starts with the file
 * name and holds every phrase of the NULL-terminated list. */
static void expect_fail_v(const unsigned char *buf, size_t len, int code, va_list ap)
{
    mvit_weights w;
    mvit_diag d;
    int rc = parse(buf, len, &w, &d);
    ck_assert_msg(rc < 0, "accepted a bad file (%d tensors)", w.count);
    if (code)
        ck_assert_int_eq(rc, code);
    ck_assert_msg(strncmp(d.msg, BAD_PATH ": error: ", strlen(BAD_PATH ": error: ")) == 0,
                  "message '%s' lacks the file prefix", d.msg);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *))
        ck_assert_msg(strstr(d.msg, p), "message '%s' lacks '%s'", d.msg, p);
    ck_assert_int_eq(w.count, 0);
    ck_assert_ptr_null(w.tensors);
    ck_assert_ptr_null(w.path);
}

static void expect_fail(const unsigned char *buf, size_t len, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    expect_fail_v(buf, len, code, ap);
    va_end(ap);
}

/* Same for a header over the 24-byte small_f32 data area. */
static void expect_header_fail(const char *header, int code, ...)
{
    size_t len;
    unsigned char *buf = file_with(header, &len);
    va_list ap;
    va_start(ap, code);
    expect_fail_v(buf, len, code, ap);
    va_end(ap);
    free(buf);
}

// ---- valid files

START_TEST(test_f32_values_and_order)
{
    static const float b[3] = {0.25f, -1.5f, 8.0f};
    const spec s[] = {
        {"stem.conv.weight", "F32", "[2,3]", small_f32, sizeof small_f32},
        {"stem.conv.bias", "F32", "[3]", b, sizeof b},
    };
    size_t len;
    unsigned char *buf = build(s, 2, NULL, &len);
    /* shift by one byte so no float in the data area is aligned */
    unsigned char *odd = malloc(len + 1);
    memcpy(odd + 1, buf, len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(odd + 1, len, &w, &d), 0);
    ck_assert_str_eq(w.path, BAD_PATH);
    ck_assert_int_eq(w.count, 2);
    const mvit_tensor *t = &w.tensors[0];
    ck_assert_str_eq(t->name, "stem.conv.weight");
    ck_assert_str_eq(t->dtype, "F32");
    ck_assert_int_eq(t->is_float, 1);
    ck_assert_int_eq(t->ndim, 2);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 3);
    ck_assert_int_eq(t->numel, 6);
    ck_assert_int_eq(t->used, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(bits(t->data[i]), bits(small_f32[i]));
    t = &w.tensors[1];
    ck_assert_str_eq(t->name, "stem.conv.bias");
    ck_assert_int_eq(t->numel, 3);
    ck_assert_float_eq(t->data[0], 0.25f);
    ck_assert_float_eq(t->data[1], -1.5f);
    ck_assert_float_eq(t->data[2], 8.0f);
    mvit_weights_free(&w);
    free(odd);
    free(buf);
}
END_TEST

START_TEST(test_f16_values)
{
    /* normal, negative, smallest/largest subnormal, smallest normal, max, 1/3, +-inf, -0, NaN */
    static const uint16_t h[] = {0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff,
                                 0x3555, 0x7c00, 0xfc00, 0x8000, 0x7e00, 0x8001};
    const float want[] = {1.0f,       -2.0f,    0x1p-24f,  0x3ffp-24f, 0x1p-14f, 65504.0f,
                          0x555p-12f, INFINITY, -INFINITY, -0.0f,      NAN,      -0x1p-24f};
    const spec s[] = {{"h", "F16", "[12]", h, sizeof h}};
    size_t len;
    unsigned char *buf = build(s, 1, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    const mvit_tensor *t = &w.tensors[0];
    ck_assert_int_eq(t->numel, 12);
    ck_assert_int_eq(t->is_float, 1);
    for (int i = 0; i < 12; i++) {
        if (isnan(want[i]))
            ck_assert_msg(isnan(t->data[i]), "f16 0x%04x: got %a", h[i], (double)t->data[i]);
        else
            ck_assert_msg(bits(t->data[i]) == bits(want[i]), "f16 0x%04x: want %a got %a", h[i],
                          (double)want[i], (double)t->data[i]);
    }
    ck_assert(signbit(t->data[9]));
    ck_assert_uint_eq(bits(t->data[10]), 0x7fc00000u); /* quiet NaN, payload kept */
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_bf16_values)
{
    static const uint16_t h[] = {0x3f80, 0xc040, 0x0001, 0x7f80, 0xff80, 0x7fc1, 0x8000, 0x4049};
    const spec s[] = {{"b", "BF16", "[2,4]", h, sizeof h}};
    size_t len;
    unsigned char *buf = build(s, 1, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    const mvit_tensor *t = &w.tensors[0];
    ck_assert_str_eq(t->dtype, "BF16");
    ck_assert_float_eq(t->data[0], 1.0f);
    ck_assert_float_eq(t->data[1], -3.0f);
    ck_assert_float_eq(t->data[2], 0x1p-133f); /* subnormal */
    ck_assert(isinf(t->data[3]) && t->data[3] > 0);
    ck_assert(isinf(t->data[4]) && t->data[4] < 0);
    ck_assert(isnan(t->data[5]));
    ck_assert_uint_eq(bits(t->data[5]), 0x7fc10000u);
    ck_assert(t->data[6] == 0.0f && signbit(t->data[6]));
    ck_assert_float_eq(t->data[7], 3.140625f);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_f64_values)
{
    static const double v[] = {
        0.5, -1e300, 1e300, 1e-50, -1e-50, 0.1, FLT_MAX, FLT_MAX * 1.0000001, FLT_MAX * 1.00000001};
    const spec s[] = {{"d", "F64", "[9]", v, sizeof v}};
    size_t len;
    unsigned char *buf = build(s, 1, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    const float *f = w.tensors[0].data;
    ck_assert_float_eq(f[0], 0.5f);
    ck_assert(isinf(f[1]) && f[1] < 0);
    ck_assert(isinf(f[2]) && f[2] > 0);
    ck_assert(f[3] == 0.0f && !signbit(f[3]));
    ck_assert(f[4] == 0.0f && signbit(f[4]));
    ck_assert_float_eq(f[5], 0.1f);
    ck_assert_float_eq(f[6], FLT_MAX);
    ck_assert(isinf(f[7]));            /* past the midpoint between FLT_MAX and 2^128 */
    ck_assert_float_eq(f[8], FLT_MAX); /* short of it: rounds down */
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_integer_entries_kept_without_data)
{
    static const int64_t tracked = 12345;
    static const int32_t idx[3] = {1, 2, 3};
    static const unsigned char mask[2] = {1, 0};
    const spec s[] = {
        {"bn.num_batches_tracked", "I64", "[]", &tracked, sizeof tracked},
        {"idx", "I32", "[3]", idx, sizeof idx},
        {"mask", "BOOL", "[1,2]", mask, sizeof mask},
        {"bn.weight", "F32", "[1]", small_f32, 4},
    };
    size_t len;
    unsigned char *buf = build(s, 4, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    ck_assert_int_eq(w.count, 4);
    const mvit_tensor *t = &w.tensors[0];
    ck_assert_str_eq(t->dtype, "I64");
    ck_assert_int_eq(t->is_float, 0);
    ck_assert_ptr_null(t->data);
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_int_eq(t->numel, 1);
    ck_assert_str_eq(w.tensors[1].dtype, "I32");
    ck_assert_ptr_null(w.tensors[1].data);
    ck_assert_str_eq(w.tensors[2].dtype, "BOOL");
    ck_assert_int_eq(w.tensors[2].numel, 2);
    ck_assert_int_eq(w.tensors[3].is_float, 1);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_metadata_ignored)
{
    const spec s[] = {{"a", "F32", "[2]", small_f32, 8}, {"b", "F32", "[1]", small_f32 + 2, 4}};
    size_t len;
    unsigned char *buf = build(s, 2, "{\"format\":\"pt\",\"nested\":{\"x\":[1,{\"y\":2}]}}", &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    ck_assert_int_eq(w.count, 2);
    ck_assert_str_eq(w.tensors[0].name, "a");
    ck_assert_str_eq(w.tensors[1].name, "b");
    ck_assert_ptr_null(mvit_weights_find(&w, "__metadata__"));
    mvit_weights_free(&w);
    free(buf);

    /* metadata first, as the Rust writer puts it */
    buf = file_with("{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[6],"
                    "\"data_offsets\":[0,24]}}",
                    &len);
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    ck_assert_int_eq(w.count, 1);
    ck_assert_str_eq(w.tensors[0].name, "a");
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_find)
{
    const spec s[] = {{"x.weight", "F32", "[1]", small_f32, 4},
                      {"x.bias", "F32", "[1]", small_f32 + 1, 4}};
    size_t len;
    unsigned char *buf = build(s, 2, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    mvit_tensor *t = mvit_weights_find(&w, "x.bias");
    ck_assert_ptr_eq(t, &w.tensors[1]);
    ck_assert_float_eq(t->data[0], -2.0f);
    ck_assert_ptr_eq(mvit_weights_find(&w, "x.weight"), &w.tensors[0]);
    ck_assert_ptr_null(mvit_weights_find(&w, "x"));
    ck_assert_ptr_null(mvit_weights_find(&w, "x.bias2"));
    ck_assert_ptr_null(mvit_weights_find(&w, NULL));
    mvit_weights_free(&w);
    ck_assert_ptr_null(mvit_weights_find(&w, "x.bias"));
    free(buf);
}
END_TEST

START_TEST(test_escaped_names)
{
    const spec s[] = {
        {"caf\\u00e9", "F32", "[1]", small_f32, 4},
        {"q\\\"uote\\\\back\\/slash", "F32", "[1]", small_f32 + 1, 4},
        {"smile\\ud83d\\ude00", "F32", "[1]", small_f32 + 2, 4},
        {"not\\\\ud83d\\\\ude00", "F32", "[1]", small_f32 + 3, 4},
        {"raw\xc3\xa9", "F32", "[1]", small_f32 + 4, 4},
    };
    size_t len;
    unsigned char *buf = build(s, 5, NULL, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_msg(parse(buf, len, &w, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(w.tensors[0].name, "caf\xc3\xa9");
    ck_assert_str_eq(w.tensors[1].name, "q\"uote\\back/slash");
    ck_assert_str_eq(w.tensors[2].name, "smile\xf0\x9f\x98\x80");
    ck_assert_str_eq(w.tensors[3].name, "not\\ud83d\\ude00");
    ck_assert_str_eq(w.tensors[4].name, "raw\xc3\xa9");
    ck_assert_float_eq(w.tensors[2].data[0], 0.5f);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_empty_scalar_and_zero_size)
{
    size_t len;
    mvit_weights w;
    mvit_diag d;
    unsigned char *buf = make_file("{}", NULL, 0, &len);
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    ck_assert_int_eq(w.count, 0);
    mvit_weights_free(&w);
    free(buf);

    /* zero-element tensors own no bytes, so sitting inside another range is not an overlap */
    buf = file_with("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                    "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[2,2]},"
                    "\"z\":{\"dtype\":\"F16\",\"shape\":[4,0,9223372036854775807],"
                    "\"data_offsets\":[24,24]}}",
                    &len);
    ck_assert_msg(parse(buf, len, &w, &d) == 0, "%s", d.msg);
    ck_assert_int_eq(w.tensors[0].ndim, 0);
    ck_assert_int_eq(w.tensors[0].numel, 1);
    ck_assert_float_eq(w.tensors[0].data[0], 1.0f);
    ck_assert_int_eq(w.tensors[1].numel, 0);
    ck_assert_ptr_nonnull(w.tensors[1].data);
    ck_assert_int_eq(w.tensors[2].numel, 0);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_json_whitespace_and_padding)
{
    /* pretty-printed JSON with tabs, CRLF and the writer's trailing-space padding; a gap before
     * the second tensor and unused bytes at the end are allowed */
    size_t len;
    unsigned char *buf = file_with(" {\r\n\t\"a\" : {\"dtype\": \"F32\",\n  \"shape\" : [ 2 ] ,\n"
                                   "  \"data_offsets\": [0, 8]},\n\t\"b\":{\"data_offsets\":[12,"
                                   "16],\"shape\":[1],\"dtype\":\"F32\"}\n}      ",
                                   &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_msg(parse(buf, len, &w, &d) == 0, "%s", d.msg);
    ck_assert_int_eq(w.count, 2);
    ck_assert_float_eq(w.tensors[0].data[1], -2.0f);
    ck_assert_float_eq(w.tensors[1].data[0], 3.25f);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_load_file)
{
    static const uint16_t h[2] = {0x3c00, 0xbc00};
    const spec s[] = {{"w", "F32", "[3,2]", small_f32, sizeof small_f32},
                      {"h", "F16", "[2]", h, sizeof h}};
    size_t len;
    unsigned char *buf = build(s, 2, "{\"a\":\"b\"}", &len);
    char path[] = "/tmp/mvit_test_weights_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);

    mvit_weights w;
    mvit_diag d = {{0}};
    int rc = mvit_weights_load_safetensors(path, &w, &d);
    remove(path);
    ck_assert_msg(rc == 0, "%s", d.msg);
    ck_assert_str_eq(w.path, path);
    ck_assert_int_eq(w.count, 2);
    ck_assert_float_eq(w.tensors[0].data[3], 3.25f);
    ck_assert_float_eq(w.tensors[1].data[1], -1.0f);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_load_missing_file)
{
    mvit_weights w;
    mvit_diag d = {{0}};
    int rc = mvit_weights_load_safetensors("/nonexistent/dir/w.safetensors", &w, &d);
    ck_assert_int_eq(rc, MVIT_EIO);
    ck_assert_msg(strstr(d.msg, "/nonexistent/dir/w.safetensors: error: cannot open"), "%s", d.msg);
    ck_assert_int_eq(w.count, 0);
    mvit_weights_free(&w);
}
END_TEST

/* Written by tools/mobilevit_ref.py's save_safetensors: compact JSON, non-ASCII name escaped as
 * \u00e9 and a surrogate pair, metadata last, data not aligned (the F32 "café" starts at 6). */
START_TEST(test_load_reference_file)
{
    mvit_weights w;
    mvit_diag d = {{0}};
    int rc = mvit_weights_load_safetensors(MVIT_TEST_DATA "/weights/ref_small.safetensors", &w, &d);
    ck_assert_msg(rc == 0, "%s", d.msg);
    ck_assert_int_eq(w.count, 5);
    ck_assert_str_eq(w.tensors[0].name, "brain");
    ck_assert_str_eq(w.tensors[1].name, "caf\xc3\xa9.\xf0\x9f\x98\x80");

    const mvit_tensor *t = mvit_weights_find(&w, "stem.conv.weight");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ndim, 4);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 1);
    ck_assert_int_eq(t->shape[2], 3);
    ck_assert_int_eq(t->shape[3], 3);
    for (int i = 0; i < 18; i++)
        ck_assert_float_eq(t->data[i], i * 0.25f - 1.0f);

    t = mvit_weights_find(&w, "stem.bn.num_batches_tracked");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->dtype, "I64");
    ck_assert_ptr_null(t->data);

    t = mvit_weights_find(&w, "half");
    ck_assert_float_eq(t->data[0], 1.0f);
    ck_assert(t->data[1] == 0.0f && signbit(t->data[1]));
    ck_assert_float_eq(t->data[2], 65504.0f);
    ck_assert_float_eq(t->data[3], 0x1p-24f);

    t = mvit_weights_find(&w, "brain");
    ck_assert_float_eq(t->data[1], -2.5f);
    ck_assert(isinf(t->data[2]));
    ck_assert_float_eq(w.tensors[1].data[0], 0.5f);
    mvit_weights_free(&w);
}
END_TEST

START_TEST(test_free_zeroed_and_twice)
{
    mvit_weights w;
    memset(&w, 0, sizeof w);
    mvit_weights_free(&w);
    mvit_weights_free(NULL);
    size_t len;
    const spec s[] = {{"a", "F32", "[1]", small_f32, 4}};
    unsigned char *buf = build(s, 1, NULL, &len);
    mvit_diag d;
    ck_assert_int_eq(parse(buf, len, &w, &d), 0);
    mvit_weights_free(&w);
    ck_assert_ptr_null(w.tensors);
    mvit_weights_free(&w);
    free(buf);
}
END_TEST

/* Every truncation and many single-byte edits of a valid file: each must parse or fail cleanly
 * (ASan/UBSan and the leak checker watch), and a failure must always carry a message. */
START_TEST(test_truncations_and_byte_edits_never_crash)
{
    static const uint16_t h[3] = {0x3c00, 0x0001, 0x7c00};
    static const int64_t n = 3;
    const spec s[] = {{"a.weight", "F32", "[2,3]", small_f32, sizeof small_f32},
                      {"a.h\\u00e9\\ud83d\\ude00", "F16", "[3]", h, sizeof h},
                      {"a.n", "I64", "[]", &n, sizeof n}};
    size_t len;
    unsigned char *buf = build(s, 3, "{\"k\":\"v\"}", &len);
    static const unsigned char edits[] = {0,   '"', '\\', '{', '}', '[', ']',  ',',
                                          ':', '-', '9',  '.', 'e', ' ', 0x80, 0xff};
    unsigned char *copy = malloc(len);
    mvit_weights w;
    mvit_diag d;
    int accepted = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        memcpy(copy, buf, cut);
        int rc = parse(copy, cut, &w, &d);
        ck_assert_msg(rc == 0 ? cut == len : d.msg[0] != '\0', "cut %zu: rc %d", cut, rc);
        mvit_weights_free(&w);
    }
    for (size_t i = 0; i < len; i++) {
        for (size_t e = 0; e < sizeof edits; e++) {
            memcpy(copy, buf, len);
            copy[i] = edits[e];
            int rc = parse(copy, len, &w, &d);
            if (rc == 0)
                accepted++;
            else
                ck_assert_msg(d.msg[0] != '\0' && w.count == 0, "byte %zu = 0x%02x", i, edits[e]);
            mvit_weights_free(&w);
        }
    }
    ck_assert_int_gt(accepted, 0); /* edits inside the data area are still valid files */
    free(copy);
    free(buf);
}
END_TEST

// ---- malformed files

START_TEST(test_bad_short_file)
{
    static const unsigned char five[5] = {2, 0, 0, 0, 0};
    expect_fail(five, sizeof five, MVIT_EPARSE, "file is 5 bytes", "too short", NULL);
    expect_fail(five, 0, MVIT_EPARSE, "file is 0 bytes", NULL);
}
END_TEST

START_TEST(test_bad_header_length_lies)
{
    size_t len;
    unsigned char *buf = file_with("{}", &len);
    buf[0] = (unsigned char)(len - 8 + 1); /* one byte more than the whole rest of the file */
    expect_fail(buf, len, MVIT_EPARSE, "header length 27", "runs past the end of the file",
                "26 bytes follow", NULL);
    memset(buf, 0xff, 8);
    expect_fail(buf, len, MVIT_EPARSE, "header length 18446744073709551615", "limit", NULL);
    memset(buf, 0, 8);
    buf[0] = 0x01; /* 100000001 = 0x05f5e101 */
    buf[1] = 0xe1;
    buf[2] = 0xf5;
    buf[3] = 0x05;
    expect_fail(buf, len, MVIT_EPARSE, "header length 100000001 exceeds the 100000000-byte limit",
                NULL);
    free(buf);
}
END_TEST

START_TEST(test_bad_truncated_inside_header)
{
    const spec s[] = {{"stem.conv.weight", "F32", "[6]", small_f32, sizeof small_f32}};
    size_t len;
    unsigned char *buf = build(s, 1, NULL, &len);
    expect_fail(buf, 8 + 20, MVIT_EPARSE, "runs past the end of the file", "truncated", NULL);

    /* a header cut short but with a consistent length: the JSON ends inside "[0,24]" (libyaml
     * scans ahead, so a cut just after the name would be found before the name is reported) */
    size_t n = (size_t)((unsigned char *)strstr((char *)buf + 8, "24]") - (buf + 8)) + 1;
    buf[0] = (unsigned char)n;
    expect_fail(buf, 8 + n, MVIT_EPARSE, "header is not valid JSON in tensor 'stem.conv.weight'",
                NULL);
    free(buf);
}
END_TEST

START_TEST(test_bad_truncated_in_data)
{
    const spec s[] = {{"a", "F32", "[2]", small_f32, 8},
                      {"stem.conv.weight", "F32", "[4]", small_f32 + 2, 16}};
    size_t len;
    unsigned char *buf = build(s, 2, NULL, &len);
    expect_fail(buf, len - 3, MVIT_EINVAL, "tensor 'stem.conv.weight'", "data_offsets [8, 24]",
                "run past the end of the 21-byte data area", "truncated", NULL);
    free(buf);
}
END_TEST

START_TEST(test_bad_not_a_json_object)
{
    expect_header_fail("[1, 2]", MVIT_EPARSE, "header is not a JSON object", NULL);
    expect_header_fail("\"w\"", MVIT_EPARSE, "header is not a JSON object", NULL);
    expect_header_fail("w: {dtype: F32}", MVIT_EPARSE, "header is not a JSON object", NULL);
    expect_header_fail("--- {}", MVIT_EPARSE, "header is not a JSON object", NULL);
    expect_header_fail("   ", MVIT_EPARSE, "header is empty", NULL);
    expect_header_fail("{w: {}}", MVIT_EPARSE, "expected a double-quoted tensor name",
                       "file offset 9", NULL);
    expect_header_fail("{7: {}}", MVIT_EPARSE, "expected a double-quoted tensor name", NULL);
    expect_header_fail("{\"w\" {}}", MVIT_EPARSE, "tensor 'w'", "expected an object", NULL);
    expect_header_fail("{\"w\": {\"dtype\": \"F32\"", MVIT_EPARSE,
                       "header is not valid JSON in tensor 'w'", NULL);
    expect_header_fail("\x01{}", MVIT_EPARSE, "header is not valid JSON", "file offset 8", NULL);
    expect_header_fail("{\"caf\xc3\xa9\": {\"dtype\": \"F32\" \"shape\": []}}", MVIT_EPARSE,
                       "header is not valid JSON in tensor 'caf\xc3\xa9'", "file offset 34", NULL);
    expect_header_fail("{\"\\ud83d\\ude00\": {\"dtype\": \"F32\" ]}}", MVIT_EPARSE,
                       "header is not valid JSON in tensor '\xf0\x9f\x98\x80'", "file offset 41",
                       NULL);
    expect_header_fail("{\"a\xff\": {}}", MVIT_EPARSE, "header is not valid JSON", NULL);
    expect_header_fail("{\"lone\\ud83d\": {}}", MVIT_EPARSE, "header is not valid JSON", NULL);
}
END_TEST

START_TEST(test_bad_trailing_content)
{
    expect_header_fail("{} {}", MVIT_EPARSE, "header is not valid JSON", NULL);
    expect_header_fail("{}\n---\n{}", MVIT_EPARSE, "more follows the object", NULL);
}
END_TEST

START_TEST(test_bad_unknown_dtype)
{
    expect_header_fail("{\"stem.conv.weight\":{\"dtype\":\"F33\",\"shape\":[6],"
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EUNSUPPORTED, "tensor 'stem.conv.weight'", "unknown dtype 'F33'", NULL);
    expect_header_fail("{\"w\":{\"dtype\":\"f32\",\"shape\":[6],\"data_offsets\":[0,24]}}", 0,
                       "tensor 'w'", "unknown dtype 'f32'", NULL);
    expect_header_fail("{\"w\":{\"dtype\":\"F32\\n\",\"shape\":[6],\"data_offsets\":[0,24]}}", 0,
                       "tensor 'w'", "unknown dtype 'F32?'", NULL);
}
END_TEST

START_TEST(test_bad_dtype_not_a_string)
{
    expect_header_fail("{\"w\":{\"dtype\":32,\"shape\":[6],\"data_offsets\":[0,24]}}", MVIT_EPARSE,
                       "tensor 'w'", "dtype must be a string", NULL);
    expect_header_fail("{\"w\":{\"dtype\":[\"F32\"],\"shape\":[6],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'w'", "dtype must be a string", NULL);
}
END_TEST

START_TEST(test_bad_size_mismatch)
{
    static float big[100];
    size_t len;
    unsigned char *buf = make_file("{\"stem.conv.weight\":{\"dtype\":\"F32\",\"shape\":[16,3,3,3],"
                                   "\"data_offsets\":[0,400]}}",
                                   big, sizeof big, &len);
    expect_fail(buf, len, MVIT_EINVAL,
                BAD_PATH ": error: tensor 'stem.conv.weight': data_offsets [0, 400] hold 400 bytes "
                         "but F32 shape [16, 3, 3, 3] needs 1728",
                NULL);
    free(buf);
    expect_header_fail("{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,24]}}",
                       MVIT_EINVAL, "tensor 'h'", "hold 24 bytes but F16 shape [6] needs 12", NULL);
}
END_TEST

START_TEST(test_bad_offsets_out_of_range)
{
    expect_header_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"late\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]}}",
                       MVIT_EINVAL, "tensor 'late'", "data_offsets [20, 28]",
                       "run past the end of the 24-byte data area", NULL);
    expect_header_fail("{\"far\":{\"dtype\":\"U8\",\"shape\":[0],"
                       "\"data_offsets\":[9223372036854775807,9223372036854775807]}}",
                       MVIT_EINVAL, "tensor 'far'", "run past the end", NULL);
}
END_TEST

START_TEST(test_bad_offsets_reversed_or_wrong_count)
{
    expect_header_fail("{\"r\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}",
                       MVIT_EINVAL, "tensor 'r'", "data_offsets [8, 4] end before they begin",
                       NULL);
    expect_header_fail("{\"r\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
                       MVIT_EPARSE, "tensor 'r'", "exactly 2 integers, found more", NULL);
    expect_header_fail("{\"r\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}",
                       MVIT_EPARSE, "tensor 'r'", "exactly 2 integers, found 1", NULL);
    expect_header_fail("{\"r\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", MVIT_EPARSE,
                       "tensor 'r'", "data_offsets must be an array", NULL);
}
END_TEST

START_TEST(test_bad_overlapping_offsets)
{
    expect_header_fail("{\"first\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                       "\"mid\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
                       "\"second\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                       MVIT_EINVAL,
                       "tensor 'second': data_offsets [12, 20] overlap tensor 'first' at [0, 16]",
                       NULL);
    /* the same range twice, and a range nested in an earlier, longer one */
    expect_header_fail("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"y\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                       MVIT_EINVAL, "tensor 'y'", "overlap tensor 'x'", NULL);
    expect_header_fail("{\"big\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
                       "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                       "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
                       MVIT_EINVAL, "tensor 'x'", "overlap tensor 'big'", NULL);
}
END_TEST

START_TEST(test_bad_duplicate_name)
{
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                       MVIT_EINVAL, "duplicate tensor 'w'", NULL);
    /* the same name spelt with an escape is still the same name */
    expect_header_fail("{\"\\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"\xc3\xa9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                       MVIT_EINVAL, "duplicate tensor '\xc3\xa9'", NULL);
    expect_header_fail("{\"__metadata__\":{},\"__metadata__\":{}}", MVIT_EPARSE,
                       "duplicate tensor '__metadata__'", NULL);
}
END_TEST

START_TEST(test_bad_shape_values)
{
    expect_header_fail("{\"neg\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]}}",
                       MVIT_EINVAL, "tensor 'neg'", "shape value -3 is negative", NULL);
    expect_header_fail("{\"flt\":{\"dtype\":\"F32\",\"shape\":[6.0],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'flt'", "shape value 6.0 is not an integer", NULL);
    expect_header_fail("{\"exp\":{\"dtype\":\"F32\",\"shape\":[6e0],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'exp'", "shape value 6e0 is not an integer", NULL);
    expect_header_fail("{\"lz\":{\"dtype\":\"F32\",\"shape\":[06],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'lz'", "shape value 06 is not an integer", NULL);
    expect_header_fail("{\"nul\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'nul'", "shape value null is not an integer", NULL);
    expect_header_fail("{\"str\":{\"dtype\":\"F32\",\"shape\":[\"6\"],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'str'",
                       "shape must be an array of non-negative "
                       "integers",
                       NULL);
    expect_header_fail("{\"nest\":{\"dtype\":\"F32\",\"shape\":[[6]],\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'nest'", "shape must be an array", NULL);
    expect_header_fail("{\"num\":{\"dtype\":\"F32\",\"shape\":6,\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'num'", "shape must be an array", NULL);
    expect_header_fail("{\"noff\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[-0,24]}}",
                       MVIT_EINVAL, "tensor 'noff'", "data_offsets value -0 is negative", NULL);
}
END_TEST

START_TEST(test_bad_integer_overflow)
{
    expect_header_fail("{\"big\":{\"dtype\":\"F32\",\"shape\":[6],"
                       "\"data_offsets\":[0,9223372036854775808]}}",
                       MVIT_EINVAL, "tensor 'big'",
                       "data_offsets value 9223372036854775808 is too large", NULL);
    expect_header_fail("{\"big\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],"
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EINVAL, "tensor 'big'", "is too large", NULL);
    /* each dimension fits, the product does not */
    expect_header_fail("{\"prod\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EINVAL, "tensor 'prod'",
                       "shape [4294967296, 4294967296] has too many elements", NULL);
    /* numel fits, numel * 8 bytes does not */
    expect_header_fail("{\"bytes\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],"
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EINVAL, "tensor 'bytes'", "has too many elements", NULL);
}
END_TEST

START_TEST(test_bad_too_many_dims)
{
    expect_header_fail("{\"deep\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                       "\"data_offsets\":[0,1]}}",
                       MVIT_EUNSUPPORTED, "tensor 'deep'", "more than 8 dimensions", NULL);
}
END_TEST

START_TEST(test_bad_missing_keys)
{
    expect_header_fail("{\"stem.conv.weight\":{\"dtype\":\"F32\",\"shape\":[6]}}", MVIT_EPARSE,
                       "tensor 'stem.conv.weight': missing 'data_offsets'", NULL);
    expect_header_fail("{\"w\":{\"shape\":[6],\"data_offsets\":[0,24]}}", MVIT_EPARSE,
                       "tensor 'w': missing 'dtype'", NULL);
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,24]}}", MVIT_EPARSE,
                       "tensor 'w': missing 'shape'", NULL);
}
END_TEST

START_TEST(test_bad_unknown_or_duplicate_key)
{
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24],"
                       "\"offset\":0}}",
                       MVIT_EPARSE, "tensor 'w'", "unknown key 'offset'", NULL);
    expect_header_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"dtype\":\"F16\","
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'w'", "duplicate key 'dtype'", NULL);
    expect_header_fail("{\"w\":{dtype:\"F32\"}}", MVIT_EPARSE, "tensor 'w'",
                       "expected a double-quoted key", NULL);
}
END_TEST

START_TEST(test_bad_entry_not_an_object)
{
    expect_header_fail("{\"w\":[\"F32\",[6],[0,24]]}", MVIT_EPARSE, "tensor 'w'",
                       "expected an object with dtype, shape and data_offsets", NULL);
    expect_header_fail("{\"w\":\"F32\"}", MVIT_EPARSE, "tensor 'w'", "expected an object", NULL);
    expect_header_fail("{\"w\":null}", MVIT_EPARSE, "tensor 'w'", "expected an object", NULL);
}
END_TEST

START_TEST(test_bad_metadata_not_an_object)
{
    expect_header_fail("{\"__metadata__\":[\"a\"]}", MVIT_EPARSE,
                       "'__metadata__' must be a JSON object", NULL);
    expect_header_fail("{\"__metadata__\":{\"a\":[}}", MVIT_EPARSE, "header is not valid JSON",
                       "in tensor '__metadata__'", NULL);
}
END_TEST

START_TEST(test_bad_nul_in_name)
{
    expect_header_fail("{\"w\\u0000.weight\":{\"dtype\":\"F32\",\"shape\":[6],"
                       "\"data_offsets\":[0,24]}}",
                       MVIT_EPARSE, "tensor 'w?.weight'", "NUL character", NULL);
}
END_TEST

START_TEST(test_bad_long_name_is_cut_in_message)
{
    char header[1024];
    char name[601];
    memset(name, 'n', 600);
    name[600] = '\0';
    snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"F99\"}}", name);
    size_t len;
    unsigned char *buf = file_with(header, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_lt(parse(buf, len, &w, &d), 0);
    ck_assert_ptr_nonnull(strstr(d.msg, "nnn...': unknown dtype 'F99'"));
    ck_assert_uint_lt(strlen(d.msg), 300);
    free(buf);
}
END_TEST

// ---- PyTorch checkpoints (compiler/weights/pytorch.c)
//
// tests/data/weights/ref_*.pt were written by torch.save (tools/make_checkpoint.py
// --fixtures). Hostile and malformed archives are built here: a pickle assembled opcode by
// opcode, zipped with libzip the way torch.save lays out its archive.

#define PT_PATH "bad.pt"

typedef struct pbuf {
    unsigned char *b;
    size_t n, cap;
} pbuf;

static void p_raw(pbuf *p, const void *s, size_t n)
{
    if (n == 0)
        return;
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
        ck_assert_ptr_nonnull(p->b);
    }
    memcpy(p->b + p->n, s, n);
    p->n += n;
}

/* Appends a string literal's bytes (without its NUL). */
#define P_LIT(p, lit) p_raw(p, lit, sizeof lit - 1)

static void p_op(pbuf *p, int op)
{
    unsigned char c = (unsigned char)op;
    p_raw(p, &c, 1);
}

static void p_str(pbuf *p, const char *s) /* BINUNICODE */
{
    uint32_t n = (uint32_t)strlen(s);
    unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 24)};
    p_op(p, 'X');
    p_raw(p, len, 4);
    p_raw(p, s, n);
}

static void p_int(pbuf *p, int64_t v)
{
    if (v >= 0 && v < 256) {
        p_op(p, 'K');
        p_op(p, (int)v);
    } else { /* LONG1 of 8 bytes */
        p_op(p, 0x8a);
        p_op(p, 8);
        for (int i = 0; i < 8; i++)
            p_op(p, (int)(((uint64_t)v >> (8 * i)) & 0xff));
    }
}

static void p_global(pbuf *p, const char *module, const char *name)
{
    p_op(p, 'c');
    p_raw(p, module, strlen(module));
    p_op(p, '\n');
    p_raw(p, name, strlen(name));
    p_op(p, '\n');
}

/* One state-dict tensor: _rebuild_tensor_v2(storage, offset, size, stride, False, {}). */
typedef struct tspec {
    const char *name, *type, *key; /* type: "FloatStorage", ... */
    int64_t numel, offset;
    int ndim;
    int64_t shape[MVIT_MAX_DIMS + 1], stride[MVIT_MAX_DIMS + 1];
} tspec;

static void p_tensor(pbuf *p, const tspec *t)
{
    p_global(p, "torch._utils", "_rebuild_tensor_v2");
    p_op(p, '(');
    p_op(p, '(');
    p_str(p, "storage");
    p_global(p, "torch", t->type);
    p_str(p, t->key);
    p_str(p, "cpu");
    p_int(p, t->numel);
    p_op(p, 't');
    p_op(p, 'Q');
    p_int(p, t->offset);
    p_op(p, '(');
    for (int i = 0; i < t->ndim; i++)
        p_int(p, t->shape[i]);
    p_op(p, 't');
    p_op(p, '(');
    for (int i = 0; i < t->ndim; i++)
        p_int(p, t->stride[i]);
    p_op(p, 't');
    p_op(p, 0x89);
    p_op(p, '}');
    p_op(p, 't');
    p_op(p, 'R');
}

/* PROTO 2, {name: tensor, ...}, STOP. */
static void p_state_dict(pbuf *p, const tspec *t, int n)
{
    P_LIT(p, "\x80\x02}(");
    for (int i = 0; i < n; i++) {
        p_str(p, t[i].name);
        p_tensor(p, &t[i]);
    }
    P_LIT(p, "u.");
}

typedef struct record {
    const char *name; /* full entry name */
    const void *data;
    size_t len;
} record;

/* A zip archive (stored entries) of the given records, as malloc'd bytes; written by libzip
 * into a memory source (its in-memory.c example's pattern). */
static unsigned char *zip_records(const record *r, int n, size_t *len)
{
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, &err);
    ck_assert_ptr_nonnull(mem);
    zip_source_keep(mem); /* survives zip_close */
    zip_t *za = zip_open_from_source(mem, ZIP_TRUNCATE, &err);
    ck_assert_ptr_nonnull(za);
    for (int i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(za, r[i].data, r[i].len, 0);
        ck_assert_ptr_nonnull(src);
        zip_int64_t idx = zip_file_add(za, r[i].name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
        ck_assert_int_ge(idx, 0);
        ck_assert_int_eq(zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
    }
    ck_assert_int_eq(zip_close(za), 0);
    ck_assert_int_eq(zip_source_open(mem), 0);
    ck_assert_int_eq(zip_source_seek(mem, 0, SEEK_END), 0);
    zip_int64_t size = zip_source_tell(mem);
    ck_assert_int_gt(size, 0);
    ck_assert_int_eq(zip_source_seek(mem, 0, SEEK_SET), 0);
    unsigned char *buf = malloc((size_t)size + 1);
    ck_assert_int_eq(zip_source_read(mem, buf, (zip_uint64_t)size), size);
    zip_source_close(mem);
    zip_source_free(mem);
    zip_error_fini(&err);
    *len = (size_t)size;
    return buf;
}

static const float six[6] = {1.0f, -2.0f, 0.5f, 3.25f, -0.0f, 1e-3f};

/* archive/data.pkl = pkl, plus archive/data/0 holding the six floats above. */
static unsigned char *pt_with(const pbuf *pkl, size_t *len)
{
    const record r[] = {{"archive/data.pkl", pkl->b, pkl->n},
                        {"archive/data/0", six, sizeof six},
                        {"archive/version", "3\n", 2}};
    return zip_records(r, 3, len);
}

static int pt_parse(const unsigned char *buf, size_t len, mvit_weights *w, mvit_diag *d)
{
    memset(d, 0, sizeof *d);
    return mvit_weights_parse_pytorch(PT_PATH, buf, len, w, d);
}

/* Asserts that the pickle is rejected with a message that starts with the file name and holds
 * every phrase of the NULL-terminated list. */
static void expect_pt_fail_v(const unsigned char *buf, size_t len, va_list ap)
{
    mvit_weights w;
    mvit_diag d;
    int rc = pt_parse(buf, len, &w, &d);
    ck_assert_msg(rc < 0, "accepted a bad checkpoint (%d tensors)", w.count);
    ck_assert_msg(strncmp(d.msg, PT_PATH ": error: ", strlen(PT_PATH ": error: ")) == 0,
                  "message '%s' lacks the file prefix", d.msg);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *))
        ck_assert_msg(strstr(d.msg, p), "message '%s' lacks '%s'", d.msg, p);
    ck_assert_int_eq(w.count, 0);
    ck_assert_ptr_null(w.tensors);
}

static void expect_pickle_fail(const pbuf *pkl, ...)
{
    size_t len;
    unsigned char *buf = pt_with(pkl, &len);
    va_list ap;
    va_start(ap, pkl);
    expect_pt_fail_v(buf, len, ap);
    va_end(ap);
    free(buf);
}

static void expect_bytes_fail(const void *pkl, size_t n, ...)
{
    pbuf p = {0};
    p_raw(&p, pkl, n);
    size_t len;
    unsigned char *buf = pt_with(&p, &len);
    va_list ap;
    va_start(ap, n);
    expect_pt_fail_v(buf, len, ap);
    va_end(ap);
    free(buf);
    free(p.b);
}

static const tspec t_w23 = {"w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}};

static void load_fixture(const char *name, mvit_weights *w)
{
    char path[512];
    snprintf(path, sizeof path, "%s/weights/%s", MVIT_TEST_DATA, name);
    mvit_diag d = {{0}};
    int rc = mvit_weights_load_pytorch(path, w, &d);
    ck_assert_msg(rc == 0, "%s: %s", name, d.msg);
}

START_TEST(test_pt_reference_file)
{
    mvit_weights w;
    load_fixture("ref_small.pt", &w);
    static const char *const names[] = {"0.weight",       "1.weight",      "1.bias",
                                        "1.running_mean", "1.running_var", "1.num_batches_tracked",
                                        "2.weight",       "2.bias",        "half",
                                        "brain",          "double",        "scalar",
                                        "empty",          "transposed",    "strided",
                                        "expanded",       "caf\xc3\xa9"};
    ck_assert_int_eq(w.count, 17);
    for (int i = 0; i < 17; i++)
        ck_assert_str_eq(w.tensors[i].name, names[i]);

    const mvit_tensor *t = mvit_weights_find(&w, "0.weight");
    ck_assert_str_eq(t->dtype, "F32");
    ck_assert_int_eq(t->ndim, 4);
    ck_assert_int_eq(t->shape[0], 3);
    ck_assert_int_eq(t->shape[1], 2);
    ck_assert_int_eq(t->numel, 6);
    t = mvit_weights_find(&w, "1.running_var");
    ck_assert_float_eq(t->data[0], 1.5f);
    ck_assert_float_eq(t->data[2], 4.0f);
    t = mvit_weights_find(&w, "1.num_batches_tracked");
    ck_assert_str_eq(t->dtype, "I64");
    ck_assert_int_eq(t->is_float, 0);
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_ptr_null(t->data);

    t = mvit_weights_find(&w, "half");
    ck_assert_str_eq(t->dtype, "F16");
    ck_assert_float_eq(t->data[0], 1.0f);
    ck_assert(t->data[1] == 0.0f && signbit(t->data[1]));
    ck_assert_float_eq(t->data[2], 65504.0f);
    ck_assert_float_eq(t->data[3], 0x1p-24f);
    t = mvit_weights_find(&w, "brain");
    ck_assert_str_eq(t->dtype, "BF16");
    ck_assert_float_eq(t->data[1], -2.5f);
    ck_assert(isinf(t->data[2]));
    t = mvit_weights_find(&w, "double");
    ck_assert_float_eq(t->data[0], 0.1f);
    ck_assert(isinf(t->data[1]) && t->data[1] < 0);
    t = mvit_weights_find(&w, "scalar");
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_int_eq(t->numel, 1);
    ck_assert_float_eq(t->data[0], 3.5f);
    t = mvit_weights_find(&w, "empty");
    ck_assert_int_eq(t->numel, 0);
    ck_assert_int_eq(t->shape[0], 0);
    ck_assert_int_eq(t->shape[1], 4);
    ck_assert_ptr_nonnull(t->data);

    /* permute(2, 0, 1) of arange(24).reshape(2, 3, 4): out[i][j][k] = j*12 + k*4 + i */
    t = mvit_weights_find(&w, "transposed");
    ck_assert_int_eq(t->ndim, 3);
    ck_assert_int_eq(t->shape[0], 4);
    ck_assert_int_eq(t->shape[1], 2);
    ck_assert_int_eq(t->shape[2], 3);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++)
                ck_assert_float_eq(t->data[(i * 2 + j) * 3 + k], (float)(j * 12 + k * 4 + i));
    t = mvit_weights_find(&w, "strided"); /* arange(10)[1::3] */
    ck_assert_int_eq(t->numel, 3);
    ck_assert_float_eq(t->data[0], 1.0f);
    ck_assert_float_eq(t->data[1], 4.0f);
    ck_assert_float_eq(t->data[2], 7.0f);
    t = mvit_weights_find(&w, "expanded"); /* stride 0 */
    ck_assert_int_eq(t->numel, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(t->data[i], 2.5f);
    ck_assert_float_eq(mvit_weights_find(&w, "caf\xc3\xa9")->data[0], 0.5f);
    mvit_weights_free(&w);
}
END_TEST

/* The same module's state dict through other pickle shapes: a {"state_dict": ...} wrapper
 * with "module." names, protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL) and
 * nn.Parameter values (_rebuild_parameter). */
START_TEST(test_pt_variants_agree)
{
    mvit_weights ref, w;
    load_fixture("ref_small.pt", &ref);
    static const char *const files[] = {"ref_wrapped.pt", "ref_proto4.pt", "ref_params.pt"};
    for (int f = 0; f < 3; f++) {
        load_fixture(files[f], &w);
        ck_assert_int_eq(w.count, 8);
        if (f == 0) {
            ck_assert_str_eq(w.tensors[0].name, "module.0.weight");
            mvit_diag d = {{0}};
            ck_assert_int_eq(mvit_weights_apply_layout(&w, MVIT_LAYOUT_AUTO, &d), 0);
        }
        for (int i = 0; i < 8; i++) {
            const mvit_tensor *a = &ref.tensors[i], *b = &w.tensors[i];
            ck_assert_str_eq(a->name, b->name);
            ck_assert_int_eq(a->numel, b->numel);
            ck_assert_int_eq(a->is_float, b->is_float);
            for (int64_t k = 0; a->is_float && k < a->numel; k++)
                ck_assert_float_eq(a->data[k], b->data[k]);
        }
        mvit_weights_free(&w);
    }
    mvit_weights_free(&ref);
}
END_TEST

START_TEST(test_pt_handmade_views)
{
    /* storage 0 holds six floats; views: as is, transposed, offset+stride, scalar, empty */
    const tspec t[] = {
        t_w23,
        {"t", "FloatStorage", "0", 6, 0, 2, {3, 2}, {1, 3}},
        {"s", "FloatStorage", "0", 6, 1, 1, {3}, {2}},
        {"c", "FloatStorage", "0", 6, 5, 0, {0}, {0}},
        {"e", "FloatStorage", "0", 6, 99, 2, {0, 5}, {5, 1}},
    };
    pbuf p = {0};
    p_state_dict(&p, t, 5);
    size_t len;
    unsigned char *buf = pt_with(&p, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_msg(pt_parse(buf, len, &w, &d) == 0, "%s", d.msg);
    ck_assert_int_eq(w.count, 5);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(w.tensors[0].data[i], six[i]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_float_eq(w.tensors[1].data[i * 2 + j], six[j * 3 + i]);
    ck_assert_float_eq(w.tensors[2].data[0], six[1]);
    ck_assert_float_eq(w.tensors[2].data[2], six[5]);
    ck_assert_float_eq(w.tensors[3].data[0], six[5]);
    ck_assert_int_eq(w.tensors[4].numel, 0);
    mvit_weights_free(&w);
    free(buf);
    free(p.b);
}
END_TEST

START_TEST(test_pt_legacy_and_not_zip)
{
    mvit_weights w;
    mvit_diag d = {{0}};
    int rc = mvit_weights_load(MVIT_TEST_DATA "/weights/ref_legacy.pt", MVIT_LAYOUT_AUTO, &w, &d);
    ck_assert_int_eq(rc, MVIT_EUNSUPPORTED);
    ck_assert_msg(strstr(d.msg, "ref_legacy.pt: error: legacy PyTorch checkpoint"), "%s", d.msg);
    static const unsigned char pickle[] = {0x80, 0x02, '}', '.'};
    mvit_diag d2;
    ck_assert_int_lt(pt_parse(pickle, sizeof pickle, &w, &d2), 0);
    ck_assert_msg(strstr(d2.msg, "a bare pickle"), "%s", d2.msg);
    ck_assert_int_lt(pt_parse((const unsigned char *)"PK", 2, &w, &d2), 0);
    ck_assert_msg(strstr(d2.msg, "not a zip archive"), "%s", d2.msg);
    static const unsigned char junk[] = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0};
    ck_assert_int_lt(pt_parse(junk, sizeof junk, &w, &d2), 0);
    ck_assert_msg(strstr(d2.msg, "not a readable zip archive"), "%s", d2.msg);
}
END_TEST

START_TEST(test_load_dispatches_by_magic)
{
    mvit_weights w;
    mvit_diag d = {{0}};
    ck_assert_int_eq(mvit_weights_load(MVIT_TEST_DATA "/weights/ref_small.safetensors",
                                       MVIT_LAYOUT_AUTO, &w, &d),
                     0);
    ck_assert_int_eq(w.count, 5);
    mvit_weights_free(&w);
    ck_assert_int_eq(
        mvit_weights_load(MVIT_TEST_DATA "/weights/ref_wrapped.pt", MVIT_LAYOUT_AUTO, &w, &d), 0);
    ck_assert_str_eq(w.tensors[0].name, "0.weight"); /* "module." stripped */
    mvit_weights_free(&w);
}
END_TEST

/* The classic exploits. Executing any of them would create the marker; the reader must
 * refuse them at the offending opcode, and the marker must not exist afterwards. */
START_TEST(test_pt_malicious_rejected_nothing_executed)
{
    char marker[] = "/tmp/mvit_test_marker_XXXXXX";
    int fd = mkstemp(marker);
    ck_assert_int_ge(fd, 0);
    close(fd);
    remove(marker);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "touch %s", marker);

    pbuf p = {0};
    P_LIT(&p, "\x80\x02"); /* os.system("touch ...") */
    p_global(&p, "os", "system");
    p_str(&p, cmd);
    P_LIT(&p, "\x85R.");
    expect_pickle_fail(&p, "archive/data.pkl: pickle offset 2: global 'os.system' is not allowed",
                       "nothing was executed", NULL);

    p.n = 0; /* STACK_GLOBAL('builtins', 'eval') inside a valid dict */
    P_LIT(&p, "\x80\x04}(");
    p_str(&p, "w");
    p_tensor(&p, &t_w23);
    p_str(&p, "x");
    p_str(&p, "builtins");
    p_str(&p, "eval");
    p_op(&p, 0x93);
    p_str(&p, "__import__('os').system('true')");
    P_LIT(&p, "\x85Ru.");
    expect_pickle_fail(&p, "global 'builtins.eval' is not allowed", NULL);

    p.n = 0; /* INST os system */
    P_LIT(&p, "\x80\x02(");
    p_str(&p, cmd);
    P_LIT(&p, "ios\nsystem\n.");
    char at[48]; /* INST follows PROTO, MARK and the BINUNICODE command */
    snprintf(at, sizeof at, "pickle offset %zu:", 2 + 1 + 5 + strlen(cmd));
    expect_pickle_fail(&p, at, "opcode INST (0x69) is not allowed", NULL);

    p.n = 0; /* OBJ */
    P_LIT(&p, "\x80\x02(");
    p_global(&p, "os", "system");
    expect_pickle_fail(&p, "global 'os.system'", NULL); /* refused before OBJ runs */
    static const unsigned char obj[] = {0x80, 2, '(', ')', 'o', '.'};
    expect_bytes_fail(obj, sizeof obj, "opcode OBJ", NULL);
    static const unsigned char newobj[] = {0x80, 2, ')', ')', 0x81, '.'};
    expect_bytes_fail(newobj, sizeof newobj, "opcode NEWOBJ", NULL);
    static const unsigned char ext1[] = {0x80, 2, 0x82, 1, '.'};
    expect_bytes_fail(ext1, sizeof ext1, "opcode EXT1", NULL);
    static const char persid[] = "\x80\x02Pstorage\n.";
    expect_bytes_fail(persid, sizeof persid - 1, "opcode PERSID", NULL);
    static const char text_global_call[] = "\x80\x02S'x'\n.";
    expect_bytes_fail(text_global_call, sizeof text_global_call - 1, "opcode STRING", NULL);
    static const unsigned char unknown[] = {0x80, 2, 0xff};
    expect_bytes_fail(unknown, sizeof unknown, "unknown pickle opcode 0xff", NULL);

    /* an allowed module with a name outside the list, and allowed names misused */
    p.n = 0;
    P_LIT(&p, "\x80\x02");
    p_global(&p, "torch._utils", "_rebuild_tensor");
    expect_pickle_fail(&p, "global 'torch._utils._rebuild_tensor' is not allowed", NULL);
    p.n = 0;
    P_LIT(&p, "\x80\x02");
    p_global(&p, "collections", "OrderedDict");
    P_LIT(&p, "]\x85R.");
    expect_pickle_fail(&p, "OrderedDict with arguments", NULL);
    p.n = 0;
    P_LIT(&p, "\x80\x02");
    p_global(&p, "torch", "FloatStorage");
    P_LIT(&p, ")R.");
    expect_pickle_fail(&p, "torch.FloatStorage is not callable", NULL);
    static const unsigned char reduce_dict[] = {0x80, 2, '}', ')', 'R', '.'};
    expect_bytes_fail(reduce_dict, sizeof reduce_dict, "REDUCE calls a dict", NULL);
    p.n = 0; /* BUILD on a tensor (a __setstate__ call in Python) */
    P_LIT(&p, "\x80\x02");
    p_tensor(&p, &t_w23);
    P_LIT(&p, "}b.");
    expect_pickle_fail(&p, "BUILD of a tensor", NULL);
    free(p.b);
    ck_assert_msg(access(marker, F_OK) != 0, "marker %s exists: something was executed", marker);
}
END_TEST

START_TEST(test_pt_bad_views_and_storages)
{
    struct {
        tspec t;
        const char *msg;
    } cases[] = {
        {{"w", "FloatStorage", "0", 6, 1, 2, {2, 3}, {3, 1}}, "runs past its storage '0'"},
        {{"w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {4, 1}}, "last element 6"},
        {{"w", "FloatStorage", "0", 7, 0, 1, {7}, {1}}, "24 bytes, but the pickle describes 28"},
        {{"w", "HalfStorage", "0", 6, 0, 1, {6}, {1}}, "24 bytes, but the pickle describes 12"},
        {{"w", "FloatStorage", "9", 6, 0, 1, {6}, {1}}, "no storage record 'archive/data/9'"},
        {{"w", "FloatStorage", "0", 6, 0, 2, {1, INT64_MAX}, {1, 2}}, "overflow"},
        {{"w", "FloatStorage", "0", 6, 0, 2, {INT64_MAX / 2, 4}, {0, 0}}, "too many elements"},
        {{"w", "FloatStorage", "0", 6, 0, 2, {1 << 20, 1 << 20}, {0, 0}}, "more than"},
        {{"w",
          "FloatStorage",
          "0",
          6,
          0,
          9,
          {1, 1, 1, 1, 1, 1, 1, 1, 1},
          {1, 1, 1, 1, 1, 1, 1, 1, 1}},
         "9 dims"},
        {{"w", "FloatStorage", "0", -1, 0, 1, {6}, {1}}, "numel must be a non-negative int"},
        {{"w", "FloatStorage", "0", 6, -1, 1, {6}, {1}}, "offset must be a non-negative int"},
        {{"w", "FloatStorage", "0", 6, 0, 1, {-6}, {1}}, "size must hold non-negative ints"},
        {{"w", "FloatStorage", "a/b", 6, 0, 1, {6}, {1}}, "storage key must be a short name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pbuf p = {0};
        p_state_dict(&p, &cases[i].t, 1);
        expect_pickle_fail(&p, cases[i].msg, NULL);
        free(p.b);
    }
    /* one storage described with two element types */
    const tspec two[] = {t_w23, {"h", "HalfStorage", "0", 12, 0, 1, {12}, {1}}};
    pbuf p = {0};
    p_state_dict(&p, two, 2);
    expect_pickle_fail(&p, "storage '0' is described twice", NULL);
    /* size and stride tuples of different lengths */
    p.n = 0;
    P_LIT(&p, "\x80\x02}(");
    p_str(&p, "w");
    p_global(&p, "torch._utils", "_rebuild_tensor_v2");
    P_LIT(&p, "((");
    p_str(&p, "storage");
    p_global(&p, "torch", "FloatStorage");
    p_str(&p, "0");
    p_str(&p, "cpu");
    P_LIT(&p, "K\x06tQK\x00K\x06\x85K\x01K\x01\x86\x89}tRu.");
    expect_pickle_fail(&p, "1 sizes but 2 strides", NULL);
    free(p.b);
}
END_TEST

START_TEST(test_pt_bad_dict_contents)
{
    pbuf p = {0};
    P_LIT(&p, "\x80\x02](K\x01"
              "e.");
    expect_pickle_fail(&p, "the checkpoint holds a list, not a state dict", NULL);
    p.n = 0;
    P_LIT(&p, "\x80\x02}(");
    p_str(&p, "w");
    P_LIT(&p, "K\x05u.");
    expect_pickle_fail(&p, "state dict entry 'w' is an int, not a tensor", NULL);
    p.n = 0;
    P_LIT(&p, "\x80\x02}(K\x01");
    p_tensor(&p, &t_w23);
    P_LIT(&p, "u.");
    expect_pickle_fail(&p, "state dict key 0 is an int", NULL);
    p.n = 0;
    const tspec dup[] = {t_w23, t_w23};
    p_state_dict(&p, dup, 2);
    expect_pickle_fail(&p, "duplicate tensor 'w'", NULL);
    p.n = 0; /* a wrapper key twice */
    P_LIT(&p, "\x80\x02}(");
    p_str(&p, "state_dict");
    p_op(&p, '}');
    p_str(&p, "state_dict");
    p_op(&p, '}');
    P_LIT(&p, "u.");
    expect_pickle_fail(&p, "holds the key 'state_dict' twice", NULL);
    p.n = 0; /* a name with NUL */
    P_LIT(&p, "\x80\x02}(X\x03\x00\x00\x00"
              "a\x00"
              "b");
    p_tensor(&p, &t_w23);
    P_LIT(&p, "u.");
    expect_pickle_fail(&p, "name contains a NUL", NULL);
    free(p.b);
}
END_TEST

START_TEST(test_pt_bad_stack_and_memo)
{
    static const struct {
        const char *pkl;
        size_t n;
        const char *msg;
    } cases[] = {
        {"\x80\x02"
         "0.",
         4, "POP on an empty stack"},
        {"\x80\x02"
         "t.",
         4, "TUPLE without a MARK"},
        {"\x80\x02"
         "}(K\x01u.",
         8, "odd item count"},
        {"\x80\x02"
         "K\x01K\x02"
         "a.",
         8, "APPEND to an int"},
        {"\x80\x02"
         "h\x05.",
         5, "memo index 5 was never stored"},
        {"\x80\x02"
         "N"
         "r\xff\xff\xff\x7f.",
         9, "memo index 2147483647 is out of range"},
        {"\x80\x02"
         "K\x01\x86.",
         6, "TUPLE2 with fewer values"},
        {"\x80\x02"
         "}K\x01K\x02",
         7, "pickle ends without STOP"},
        {"\x80\x02"
         "X\xff\xff\xff\x00"
         "ab.",
         10, "runs past the end of the pickle"},
        {"\x80\x02"
         "\x8a\x09"
         "123456789.",
         14, "integer of 9 bytes"},
        {"\x80\x06.", 3, "pickle protocol 6"},
        {"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00}.", 13, "FRAME of 255 bytes"},
        {"\x80\x02"
         "c"
         "os",
         5, "GLOBAL runs past the end"},
        {"\x80\x02"
         "Q.",
         4, "BINPERSID on an empty stack"},
        {"\x80\x02"
         "K\x01Q.",
         6, "persistent id must be"},
        {"\x80\x02"
         ".",
         3, "STOP on an empty stack"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bytes_fail(cases[i].pkl, cases[i].n, cases[i].msg, NULL);
}
END_TEST

/* Resource bounds: deep MARK nesting and deeply nested lists run without recursion and are
 * refused or freed without exhausting the C stack. */
START_TEST(test_pt_deep_nesting_bounded)
{
    pbuf p = {0};
    P_LIT(&p, "\x80\x02");
    for (int i = 0; i < (1 << 20) + 1; i++)
        p_op(&p, '(');
    expect_pickle_fail(&p, "nested MARKs", NULL);
    p.n = 0; /* [[[[...]]]] 200000 deep, then STOP: not a dict */
    P_LIT(&p, "\x80\x02");
    for (int i = 0; i < 200000; i++)
        p_op(&p, ']');
    for (int i = 0; i < 199999; i++)
        p_op(&p, 'a');
    p_op(&p, '.');
    expect_pickle_fail(&p, "holds a list", NULL);
    p.n = 0; /* a dict that contains itself */
    P_LIT(&p, "\x80\x02}q\x00(K\x01h\x00u.");
    expect_pickle_fail(&p, "state dict key 0 is an int", NULL);
    free(p.b);
}
END_TEST

START_TEST(test_pt_bad_archives)
{
    pbuf p = {0};
    p_state_dict(&p, &t_w23, 1);
    size_t len;
    const record none[] = {{"archive/version", "3\n", 2}};
    unsigned char *buf = zip_records(none, 1, &len);
    mvit_weights w;
    mvit_diag d;
    ck_assert_int_lt(pt_parse(buf, len, &w, &d), 0);
    ck_assert_msg(strstr(d.msg, "without a '<name>/data.pkl' entry"), "%s", d.msg);
    free(buf);
    const record two[] = {{"a/data.pkl", p.b, p.n}, {"b/data.pkl", p.b, p.n}};
    buf = zip_records(two, 2, &len);
    ck_assert_int_lt(pt_parse(buf, len, &w, &d), 0);
    ck_assert_msg(strstr(d.msg, "more than one data.pkl"), "%s", d.msg);
    free(buf);
    const record script[] = {{"m/data.pkl", p.b, p.n}, {"m/constants.pkl", p.b, p.n}};
    buf = zip_records(script, 2, &len);
    ck_assert_int_lt(pt_parse(buf, len, &w, &d), 0);
    ck_assert_msg(strstr(d.msg, "TorchScript"), "%s", d.msg);
    free(buf);
    const record big[] = {{"m/data.pkl", p.b, p.n}, {"m/byteorder", "big", 3}};
    buf = zip_records(big, 2, &len);
    ck_assert_int_lt(pt_parse(buf, len, &w, &d), 0);
    ck_assert_msg(strstr(d.msg, "m/byteorder: only little-endian"), "%s", d.msg);
    free(buf);
    const record little[] = {
        {"m/data.pkl", p.b, p.n}, {"m/byteorder", "little", 6}, {"m/data/0", six, sizeof six}};
    buf = zip_records(little, 3, &len);
    ck_assert_msg(pt_parse(buf, len, &w, &d) == 0, "%s", d.msg);
    mvit_weights_free(&w);
    /* a flipped byte in the stored record: libzip's CRC check */
    unsigned char *at = NULL;
    for (size_t i = 0; !at && i + sizeof six <= len; i++)
        if (!memcmp(buf + i, six, sizeof six))
            at = buf + i;
    ck_assert_ptr_nonnull(at);
    at[3] ^= 0x40;
    ck_assert_int_lt(pt_parse(buf, len, &w, &d), 0);
    ck_assert_msg(strstr(d.msg, "m/data/0: cannot read: CRC error"), "%s", d.msg);
    free(buf);
    free(p.b);
}
END_TEST

/* Every truncation of a real checkpoint and of a pickle, and many byte edits of both: each must
 * load or fail cleanly with a message (ASan/UBSan and the leak checker watch). */
START_TEST(test_pt_truncations_and_edits_never_crash)
{
    unsigned char *file;
    size_t flen;
    mvit_diag d0 = {{0}};
    ck_assert_int_eq(
        mvit_read_file(MVIT_TEST_DATA "/weights/ref_small.pt", 1 << 20, &file, &flen, &d0), 0);
    unsigned char *copy = malloc(flen);
    mvit_weights w;
    mvit_diag d;
    for (size_t cut = 0; cut < flen; cut++) {
        memcpy(copy, file, cut);
        ck_assert_msg(pt_parse(copy, cut, &w, &d) < 0 && d.msg[0], "cut %zu accepted", cut);
    }
    static const unsigned char edits[] = {0x00, 0xff, 0x80, 'X'};
    int accepted = 0;
    for (size_t i = 0; i < flen; i++) {
        for (size_t e = 0; e < sizeof edits; e++) {
            memcpy(copy, file, flen);
            copy[i] = edits[e];
            if (pt_parse(copy, flen, &w, &d) == 0)
                accepted++;
            else
                ck_assert_msg(d.msg[0] != '\0' && w.count == 0, "byte %zu", i);
            mvit_weights_free(&w);
        }
    }
    ck_assert_int_gt(accepted, 0);
    free(copy);
    free(file);

    /* the pickle alone, inside a well-formed archive: every cut and opcode-ish edit */
    pbuf p = {0};
    const tspec t[] = {t_w23, {"s", "FloatStorage", "0", 6, 1, 1, {3}, {2}}};
    p_state_dict(&p, t, 2);
    pbuf q = {0};
    static const unsigned char ops[] = {'(', ')', '.',  '0',  'R',  'Q',  'b',  'h', 'q', 't',
                                        'u', '}', 0x85, 0x93, 0x94, 0x95, 0x8a, 'K', 'X', 0xff};
    accepted = 0;
    for (size_t cut = 0; cut <= p.n; cut++) {
        q.n = 0;
        p_raw(&q, p.b, cut);
        size_t len;
        unsigned char *buf = pt_with(&q, &len);
        int rc = pt_parse(buf, len, &w, &d);
        ck_assert_msg(rc == 0 ? cut == p.n : d.msg[0] != '\0', "pickle cut %zu", cut);
        mvit_weights_free(&w);
        free(buf);
    }
    for (size_t i = 0; i < p.n; i++) {
        for (size_t e = 0; e < sizeof ops; e++) {
            q.n = 0;
            p_raw(&q, p.b, p.n);
            q.b[i] = ops[e];
            size_t len;
            unsigned char *buf = pt_with(&q, &len);
            if (pt_parse(buf, len, &w, &d) == 0)
                accepted++;
            else
                ck_assert_msg(d.msg[0] != '\0' && w.count == 0, "pickle byte %zu = 0x%02x", i,
                              ops[e]);
            mvit_weights_free(&w);
            free(buf);
        }
    }
    ck_assert_int_gt(accepted, 0);
    free(p.b);
    free(q.b);
}
END_TEST

// ---- layouts (compiler/weights/layout.c)

START_TEST(test_cvnets_names)
{
    static const char *const pairs[][2] = {
        {"conv_1.block.conv.weight", "stem.conv.weight"},
        {"conv_1.block.norm.running_var", "stem.bn.running_var"},
        {"layer_1.0.block.exp_1x1.block.conv.weight", "stages.0.0.conv1_1x1.conv.weight"},
        {"layer_1.0.block.exp_1x1.block.norm.num_batches_tracked",
         "stages.0.0.conv1_1x1.bn.num_batches_tracked"},
        {"layer_2.2.block.conv_3x3.block.conv.weight", "stages.1.2.conv2_kxk.conv.weight"},
        {"layer_2.2.block.red_1x1.block.norm.bias", "stages.1.2.conv3_1x1.bn.bias"},
        {"layer_3.1.local_rep.conv_3x3.block.conv.weight", "stages.2.1.conv_kxk.conv.weight"},
        {"layer_3.1.local_rep.conv_3x3.block.norm.running_mean",
         "stages.2.1.conv_kxk.bn.running_mean"},
        {"layer_3.1.local_rep.conv_1x1.block.conv.weight", "stages.2.1.conv_1x1.weight"},
        {"layer_3.1.global_rep.0.pre_norm_mha.0.weight", "stages.2.1.transformer.0.norm1.weight"},
        {"layer_3.1.global_rep.0.pre_norm_mha.1.qkv_proj.weight",
         "stages.2.1.transformer.0.attn.qkv.weight"},
        {"layer_4.1.global_rep.3.pre_norm_mha.1.out_proj.bias",
         "stages.3.1.transformer.3.attn.proj.bias"},
        {"layer_5.1.global_rep.2.pre_norm_ffn.0.bias", "stages.4.1.transformer.2.norm2.bias"},
        {"layer_5.1.global_rep.2.pre_norm_ffn.1.weight", "stages.4.1.transformer.2.mlp.fc1.weight"},
        {"layer_5.1.global_rep.12.pre_norm_ffn.4.bias", "stages.4.1.transformer.12.mlp.fc2.bias"},
        {"layer_3.1.global_rep.2.weight", "stages.2.1.norm.weight"},
        {"layer_3.1.conv_proj.block.conv.weight", "stages.2.1.conv_proj.conv.weight"},
        {"layer_3.1.fusion.block.conv.weight", "stages.2.1.conv_fusion.conv.weight"},
        {"layer_3.1.fusion.block.norm.weight", "stages.2.1.conv_fusion.bn.weight"},
        {"conv_1x1_exp.block.conv.weight", "final_conv.conv.weight"},
        {"conv_1x1_exp.block.norm.running_mean", "final_conv.bn.running_mean"},
        {"classifier.fc.weight", "head.fc.weight"},
        {"classifier.fc.bias", "head.fc.bias"},
        {"layer_10.0.block.red_1x1.block.conv.weight", "stages.9.0.conv3_1x1.conv.weight"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ck_assert_msg(mvit_weights_cvnets_to_timm(pairs[i][0], out, sizeof out) == 0, "%s",
                      pairs[i][0]);
        ck_assert_str_eq(out, pairs[i][1]);
    }
    static const char *const unmapped[] = {
        "layer_0.0.block.exp_1x1.block.conv.weight", /* stages count from layer_1 */
        "layer_01.0.block.exp_1x1.block.conv.weight",
        "layer_3.01.fusion.block.conv.weight",
        "layer_3.1.global_rep.0.pre_norm_ffn.2.weight", /* the activation has no parameters */
        "layer_3.1.global_rep.0.pre_norm_mha.1.qkv_proj.weight.x",
        "layer_3.1.fusion.block.act.weight",
        "conv_1.block.conv.bias",
        "stem.conv.weight",
        "layer_99999999.0.block.red_1x1.block.conv.weight",
        "",
    };
    for (size_t i = 0; i < sizeof unmapped / sizeof unmapped[0]; i++)
        ck_assert_msg(mvit_weights_cvnets_to_timm(unmapped[i], out, sizeof out) < 0, "%s",
                      unmapped[i]);
    char small[8];
    ck_assert_int_lt(mvit_weights_cvnets_to_timm("classifier.fc.weight", small, sizeof small), 0);
}
END_TEST

/* A table of float tensors named as given (1 element each). */
static void table(mvit_weights *w, const char *const *names, int n)
{
    memset(w, 0, sizeof *w);
    w->path = strdup("t.pt");
    w->tensors = calloc((size_t)n, sizeof *w->tensors);
    w->count = n;
    for (int i = 0; i < n; i++) {
        w->tensors[i].name = strdup(names[i]);
        w->tensors[i].is_float = 1;
        w->tensors[i].numel = 1;
        w->tensors[i].data = calloc(1, sizeof(float));
    }
}

static int layout_of(const char *const *names, int n, mvit_weights_layout l, mvit_weights *w,
                     mvit_diag *d)
{
    table(w, names, n);
    memset(d, 0, sizeof *d);
    return mvit_weights_apply_layout(w, l, d);
}

START_TEST(test_layout_detection)
{
    mvit_weights w;
    mvit_diag d;
    const char *cv[] = {"module.conv_1.block.conv.weight",
                        "module.layer_3.1.global_rep.0.pre_norm_mha.0.weight",
                        "module.layer_3.1.global_rep.1.weight", "module.num_extra"};
    ck_assert_msg(layout_of(cv, 4, MVIT_LAYOUT_AUTO, &w, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(w.tensors[0].name, "stem.conv.weight");
    ck_assert_str_eq(w.tensors[1].name, "stages.2.1.transformer.0.norm1.weight");
    ck_assert_str_eq(w.tensors[2].name, "stages.2.1.norm.weight");
    ck_assert_str_eq(w.tensors[3].name, "num_extra"); /* unmapped: left for the builder */
    mvit_weights_free(&w);

    const char *tm[] = {"stem.conv.weight", "head.fc.bias", "module.x"};
    ck_assert_int_eq(layout_of(tm, 3, MVIT_LAYOUT_AUTO, &w, &d), 0);
    ck_assert_str_eq(w.tensors[2].name, "module.x"); /* not every name has the prefix */
    mvit_weights_free(&w);
    ck_assert_int_eq(layout_of(cv, 4, MVIT_LAYOUT_TIMM, &w, &d), 0); /* forced: kept */
    ck_assert_str_eq(w.tensors[0].name, "conv_1.block.conv.weight");
    mvit_weights_free(&w);
    ck_assert_int_eq(layout_of(tm, 3, MVIT_LAYOUT_CVNETS, &w, &d), 0);
    ck_assert_str_eq(w.tensors[0].name, "stem.conv.weight");
    mvit_weights_free(&w);

    const char *mixed[] = {"stem.conv.weight", "conv_1.block.norm.weight"};
    ck_assert_int_eq(layout_of(mixed, 2, MVIT_LAYOUT_AUTO, &w, &d), MVIT_EINVAL);
    ck_assert_msg(strstr(d.msg, "t.pt: error: names of both the timm layout ('stem.conv.weight') "
                                "and the cvnets layout ('conv_1.block.norm.weight')") &&
                      strstr(d.msg, "--weights-layout"),
                  "%s", d.msg);
    mvit_weights_free(&w);
    ck_assert_int_eq(layout_of(mixed, 2, MVIT_LAYOUT_CVNETS, &w, &d), 0); /* distinct after */
    mvit_weights_free(&w);
    const char *clash[] = {"stem.bn.weight", "conv_1.block.norm.weight"};
    ck_assert_int_eq(layout_of(clash, 2, MVIT_LAYOUT_CVNETS, &w, &d), MVIT_EINVAL);
    ck_assert_msg(strstr(d.msg, "tensors 'stem.bn.weight' and 'conv_1.block.norm.weight' both "
                                "map to 'stem.bn.weight'"),
                  "%s", d.msg);
    mvit_weights_free(&w);

    const char *depth[] = {"layer_3.1.global_rep.0.pre_norm_mha.0.weight",
                           "layer_3.1.global_rep.1.pre_norm_ffn.4.bias",
                           "layer_3.1.global_rep.3.weight"};
    ck_assert_int_eq(layout_of(depth, 3, MVIT_LAYOUT_AUTO, &w, &d), MVIT_EINVAL);
    ck_assert_msg(strstr(d.msg, "tensor 'layer_3.1.global_rep.3.weight': the LayerNorm after the "
                                "transformer of layer_3.1 must be global_rep.2"),
                  "%s", d.msg);
    mvit_weights_free(&w);

    mvit_weights_layout l;
    ck_assert_int_eq(mvit_weights_layout_parse("cvnets", &l), 0);
    ck_assert_int_eq(l, MVIT_LAYOUT_CVNETS);
    ck_assert_int_eq(mvit_weights_layout_parse("timm", &l), 0);
    ck_assert_int_eq(l, MVIT_LAYOUT_TIMM);
    ck_assert_int_lt(mvit_weights_layout_parse("Timm", &l), 0);
    ck_assert_int_lt(mvit_weights_layout_parse(NULL, &l), 0);
    ck_assert_str_eq(mvit_weights_layout_name(MVIT_LAYOUT_AUTO), "auto");
}
END_TEST

static Suite *pytorch_suite(void)
{
    Suite *s = suite_create("pytorch");
    TCase *ok = tcase_create("valid");
    tcase_add_test(ok, test_pt_reference_file);
    tcase_add_test(ok, test_pt_variants_agree);
    tcase_add_test(ok, test_pt_handmade_views);
    tcase_add_test(ok, test_load_dispatches_by_magic);
    suite_add_tcase(s, ok);
    TCase *bad = tcase_create("hostile");
    tcase_set_timeout(bad, 120);
    tcase_add_test(bad, test_pt_legacy_and_not_zip);
    tcase_add_test(bad, test_pt_malicious_rejected_nothing_executed);
    tcase_add_test(bad, test_pt_bad_views_and_storages);
    tcase_add_test(bad, test_pt_bad_dict_contents);
    tcase_add_test(bad, test_pt_bad_stack_and_memo);
    tcase_add_test(bad, test_pt_deep_nesting_bounded);
    tcase_add_test(bad, test_pt_bad_archives);
    tcase_add_test(bad, test_pt_truncations_and_edits_never_crash);
    suite_add_tcase(s, bad);
    TCase *lay = tcase_create("layout");
    tcase_add_test(lay, test_cvnets_names);
    tcase_add_test(lay, test_layout_detection);
    suite_add_tcase(s, lay);
    return s;
}

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *ok = tcase_create("valid");
    tcase_add_test(ok, test_f32_values_and_order);
    tcase_add_test(ok, test_f16_values);
    tcase_add_test(ok, test_bf16_values);
    tcase_add_test(ok, test_f64_values);
    tcase_add_test(ok, test_integer_entries_kept_without_data);
    tcase_add_test(ok, test_metadata_ignored);
    tcase_add_test(ok, test_find);
    tcase_add_test(ok, test_escaped_names);
    tcase_add_test(ok, test_empty_scalar_and_zero_size);
    tcase_add_test(ok, test_json_whitespace_and_padding);
    tcase_add_test(ok, test_load_file);
    tcase_add_test(ok, test_load_missing_file);
    tcase_add_test(ok, test_load_reference_file);
    tcase_add_test(ok, test_free_zeroed_and_twice);
    suite_add_tcase(s, ok);

    TCase *robust = tcase_create("robust");
    tcase_set_timeout(robust, 60);
    tcase_add_test(robust, test_truncations_and_byte_edits_never_crash);
    suite_add_tcase(s, robust);

    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, test_bad_short_file);
    tcase_add_test(bad, test_bad_header_length_lies);
    tcase_add_test(bad, test_bad_truncated_inside_header);
    tcase_add_test(bad, test_bad_truncated_in_data);
    tcase_add_test(bad, test_bad_not_a_json_object);
    tcase_add_test(bad, test_bad_trailing_content);
    tcase_add_test(bad, test_bad_unknown_dtype);
    tcase_add_test(bad, test_bad_dtype_not_a_string);
    tcase_add_test(bad, test_bad_size_mismatch);
    tcase_add_test(bad, test_bad_offsets_out_of_range);
    tcase_add_test(bad, test_bad_offsets_reversed_or_wrong_count);
    tcase_add_test(bad, test_bad_overlapping_offsets);
    tcase_add_test(bad, test_bad_duplicate_name);
    tcase_add_test(bad, test_bad_shape_values);
    tcase_add_test(bad, test_bad_integer_overflow);
    tcase_add_test(bad, test_bad_too_many_dims);
    tcase_add_test(bad, test_bad_missing_keys);
    tcase_add_test(bad, test_bad_unknown_or_duplicate_key);
    tcase_add_test(bad, test_bad_entry_not_an_object);
    tcase_add_test(bad, test_bad_metadata_not_an_object);
    tcase_add_test(bad, test_bad_nul_in_name);
    tcase_add_test(bad, test_bad_long_name_is_cut_in_message);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(weights_suite());
    srunner_add_suite(sr, pytorch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
