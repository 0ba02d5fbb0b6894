/* Check suite for the safetensors reader (compiler/weights/safetensors.c).
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
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
