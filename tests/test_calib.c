/* Check suite for the calibration data reader (compiler/calib): fixtures written by the test in
 * a temporary directory (PNGs with libpng, IDX raw and .gz with zlib, .f32 files): PNG directory
 * order and filtering, channel conversion, resize equal to mvrt_image on the same pixels, IDX,
 * .f32 counts, every error with its file and wording, and the progress line. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nftw */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../runtime/mvrt_image.h"
#include "calib/calib_data.h"

// ---- fixtures

static char tmp[256];

static void setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/mvit_calib_XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void teardown(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *at(const char *name)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 512, "%s/%s", tmp, name);
    return b;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A PNG of w x h pixels, color_type GRAY/RGB/RGBA/GA, 8-bit (or 16 with high byte = px). */
static void write_png(const char *path, int w, int h, int color_type, int depth, const uint8_t *px)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng write failed");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int ch = color_type == PNG_COLOR_TYPE_GRAY  ? 1
             : color_type == PNG_COLOR_TYPE_RGB ? 3
             : color_type == PNG_COLOR_TYPE_GA  ? 2
                                                : 4;
    size_t rb = (size_t)w * ch * (depth / 8);
    uint8_t *row = malloc(rb);
    for (int y = 0; y < h; y++) {
        for (int i = 0; i < w * ch; i++) {
            uint8_t v = px[(size_t)y * w * ch + i];
            if (depth == 16)
                row[2 * i] = v, row[2 * i + 1] = (uint8_t)(255 - v);
            else
                row[i] = v;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

static void write_gray_png(const char *path, int w, int h, uint8_t v)
{
    uint8_t px[64];
    memset(px, v, sizeof px);
    write_png(path, w, h, PNG_COLOR_TYPE_GRAY, 8, px);
}

/* IDX uint8 images; gz: through zlib. header_n overrides the count in the header. */
static void write_idx(const char *path, int gz, uint32_t header_n, uint32_t h, uint32_t w,
                      const uint8_t *data, size_t len)
{
    uint8_t hdr[16] = {0, 0, 8, 3};
    uint32_t v[3] = {header_n, h, w};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            hdr[4 + 4 * i + b] = (uint8_t)(v[i] >> (24 - 8 * b));
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, hdr, 16), 16);
        if (len)
            ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(hdr, 1, 16, f);
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static mvit_model_desc model(int h, int w, const char *order)
{
    mvit_model_desc d;
    memset(&d, 0, sizeof d);
    d.height = h;
    d.width = w;
    d.channels = order[0] == 'g' ? 1 : 3;
    snprintf(d.channel_order, sizeof d.channel_order, "%s", order);
    for (int c = 0; c < MVIT_MAX_INPUT_CHANNELS; c++)
        d.mean[c] = 0.0f, d.std[c] = 1.0f;
    return d;
}

static void open_ok(const char *path, const mvit_model_desc *d, int64_t max, mvit_calib_set *s)
{
    mvit_diag diag = {{0}};
    int rc = mvit_calib_open(path, d, max, s, &diag);
    ck_assert_msg(rc == 0, "%s: rc %d: %s", path, rc, diag.msg);
}

/* Opening (or, when at_next, reading every image of) path fails with code and a message
 * starting "<file>: error: " and containing phrase. */
static void fails(const char *path, const mvit_model_desc *d, int at_next, int code,
                  const char *file, const char *phrase)
{
    mvit_calib_set s;
    mvit_diag diag = {{0}};
    int rc = mvit_calib_open(path, d, 0, &s, &diag);
    if (at_next) {
        ck_assert_msg(rc == 0, "%s: rc %d: %s", path, rc, diag.msg);
        float *buf = malloc(mvit_calib_image_floats(&s) * sizeof *buf);
        while ((rc = mvit_calib_next(&s, buf, mvit_calib_image_floats(&s), &diag)) == 1) {
        }
        free(buf);
        mvit_calib_close(&s);
    } else {
        ck_assert_ptr_null(s.path);
        ck_assert_ptr_null(s.files);
    }
    char where[600];
    snprintf(where, sizeof where, "%s: error: ", file);
    ck_assert_msg(rc == code, "%s: rc %d, want %d (%s)", path, rc, code, diag.msg);
    ck_assert_msg(strncmp(diag.msg, where, strlen(where)) == 0, "want '%s' at the start of: %s",
                  where, diag.msg);
    ck_assert_msg(strstr(diag.msg, phrase) != NULL, "want '%s' in: %s", phrase, diag.msg);
    mvit_calib_close(&s);
}

// ---- PNG directories

START_TEST(test_png_sorted)
{
    mkdir(at("d"), 0755);
    write_gray_png(at("d/b.png"), 2, 2, 20);
    write_gray_png(at("d/a.png"), 2, 2, 10);
    write_gray_png(at("d/c.PNG"), 2, 2, 30);
    write_gray_png(at("d/.hidden.png"), 2, 2, 99);
    write_bytes(at("d/notes.txt"), "hi", 2);
    mkdir(at("d/sub.png"), 0755);
    mvit_model_desc d = model(2, 2, "gray");
    mvit_calib_set s;
    open_ok(at("d"), &d, 0, &s);
    ck_assert_int_eq(s.kind, MVIT_CALIB_PNG_DIR);
    ck_assert_int_eq(s.count, 3);
    ck_assert_uint_eq(mvit_calib_image_floats(&s), 4);
    float out[4];
    mvit_diag diag;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(mvit_calib_next(&s, out, 4, &diag), 1);
            for (int k = 0; k < 4; k++)
                ck_assert_float_eq(out[k], (float)(10 * (i + 1)) / 255.0f);
        }
        ck_assert_int_eq(mvit_calib_next(&s, out, 4, &diag), 0);
        ck_assert_int_eq(mvit_calib_rewind(&s, &diag), 0);
    }
    ck_assert_int_eq(mvit_calib_next(&s, out, 3, &diag), MVIT_EINVAL); /* buffer too small */
    mvit_calib_close(&s);
    open_ok(at("d/"), &d, 2, &s); /* trailing slash, capped */
    ck_assert_int_eq(s.count, 2);
    ck_assert_int_eq(mvit_calib_next(&s, out, 4, &diag), 1);
    ck_assert_float_eq(out[0], 10.0f / 255.0f);
    mvit_calib_close(&s);
    mvit_calib_close(&s); /* twice is safe */
}
END_TEST

/* One 2x1 RGB(A) image to every channel order, mean/std applied. */
START_TEST(test_png_channels)
{
    static const uint8_t rgb[] = {200, 100, 50, 0, 128, 255};
    static const uint8_t rgba[] = {200, 100, 50, 7, 0, 128, 255, 0};
    static const uint8_t ga[] = {77, 0, 199, 255};
    mkdir(at("rgb"), 0755);
    mkdir(at("rgba"), 0755);
    mkdir(at("ga"), 0755);
    mkdir(at("rgb16"), 0755);
    write_png(at("rgb/x.png"), 2, 1, PNG_COLOR_TYPE_RGB, 8, rgb);
    write_png(at("rgba/x.png"), 2, 1, PNG_COLOR_TYPE_RGBA, 8, rgba);
    write_png(at("rgb16/x.png"), 2, 1, PNG_COLOR_TYPE_RGB, 16, rgb);
    write_png(at("ga/x.png"), 2, 1, PNG_COLOR_TYPE_GA, 8, ga);
    const char *dirs[] = {"rgb", "rgba", "rgb16"};
    const char *orders[] = {"rgb", "bgr", "gray"};
    for (int di = 0; di < 3; di++)
        for (int oi = 0; oi < 3; oi++) {
            mvit_model_desc d = model(1, 2, orders[oi]);
            d.mean[0] = 0.5f, d.mean[1] = 0.25f, d.mean[2] = 0.125f;
            d.std[0] = 2.0f, d.std[1] = 0.5f, d.std[2] = 4.0f;
            mvit_calib_set s;
            open_ok(at(dirs[di]), &d, 0, &s);
            float out[6];
            mvit_diag diag;
            ck_assert_int_eq(mvit_calib_next(&s, out, 6, &diag), 1);
            for (int x = 0; x < 2; x++) {
                const uint8_t *p = rgb + 3 * x;
                for (int c = 0; c < d.channels; c++) {
                    int v = oi == 0   ? p[c]
                            : oi == 1 ? p[2 - c]
                                      : (19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16;
                    float want = ((float)v / 255.0f - d.mean[c]) / d.std[c];
                    ck_assert_msg(fabsf(out[x * d.channels + c] - want) <= 1e-6f,
                                  "%s -> %s x %d c %d: %g, want %g", dirs[di], orders[oi], x, c,
                                  out[x * d.channels + c], want);
                }
            }
            mvit_calib_close(&s);
        }
    /* gray (with alpha, ignored) to RGB replicates */
    mvit_model_desc d = model(1, 2, "bgr");
    mvit_calib_set s;
    open_ok(at("ga"), &d, 0, &s);
    float out[6];
    mvit_diag diag;
    ck_assert_int_eq(mvit_calib_next(&s, out, 6, &diag), 1);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq_tol(out[c], 77.0f / 255.0f, 1e-7f);
        ck_assert_float_eq_tol(out[3 + c], 199.0f / 255.0f, 1e-7f);
    }
    mvit_calib_close(&s);
}
END_TEST

/* A 5x7 RGB PNG to a 6x8 bgr model: exactly mvrt_image_resize on the same pixels. */
START_TEST(test_png_resize)
{
    uint8_t px[7 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 37 + 11);
    mkdir(at("r"), 0755);
    write_png(at("r/img.png"), 5, 7, PNG_COLOR_TYPE_RGB, 8, px);
    mvit_model_desc d = model(6, 8, "bgr");
    d.mean[0] = 0.485f, d.mean[1] = 0.456f, d.mean[2] = 0.406f;
    d.std[0] = 0.229f, d.std[1] = 0.224f, d.std[2] = 0.225f;
    mvit_calib_set s;
    open_ok(at("r"), &d, 0, &s);
    float got[6 * 8 * 3], want[6 * 8 * 3];
    mvit_diag diag;
    ck_assert_int_eq(mvit_calib_next(&s, got, 6 * 8 * 3, &diag), 1);
    mvit_calib_close(&s);
    mvrt_image img = {px, 5, 7, 15, MVRT_PIXEL_RGB};
    mvrt_input_spec spec = {8, 6, MVRT_PIXEL_BGR, d.mean, d.std};
    ck_assert_int_eq(mvrt_image_resize(&img, &spec, want, 6 * 8 * 3), 0);
    ck_assert_mem_eq(got, want, sizeof got);
}
END_TEST

// ---- IDX

START_TEST(test_idx)
{
    uint8_t data[3 * 3 * 5];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 29 + 3);
    write_idx(at("t-idx3-ubyte"), 0, 3, 3, 5, data, sizeof data);
    write_idx(at("t-idx3-ubyte.gz"), 1, 3, 3, 5, data, sizeof data);
    mvit_model_desc d = model(4, 6, "rgb");
    d.mean[1] = 0.5f;
    d.std[2] = 0.25f;
    for (int gz = 0; gz < 2; gz++) {
        mvit_calib_set s;
        open_ok(at(gz ? "t-idx3-ubyte.gz" : "t-idx3-ubyte"), &d, 0, &s);
        ck_assert_int_eq(s.kind, MVIT_CALIB_IDX);
        ck_assert_int_eq(s.count, 3);
        mvit_diag diag;
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < 3; i++) {
                float got[4 * 6 * 3], want[4 * 6 * 3];
                ck_assert_int_eq(mvit_calib_next(&s, got, 72, &diag), 1);
                mvrt_image img = {data + 15 * i, 5, 3, 5, MVRT_PIXEL_GRAY};
                mvrt_input_spec spec = {6, 4, MVRT_PIXEL_RGB, d.mean, d.std};
                ck_assert_int_eq(mvrt_image_resize(&img, &spec, want, 72), 0);
                ck_assert_mem_eq(got, want, sizeof got);
            }
            ck_assert_int_eq(mvit_calib_next(&s, NULL, 0, &diag), 0);
            ck_assert_int_eq(mvit_calib_rewind(&s, &diag), 0);
        }
        mvit_calib_close(&s);
        open_ok(at(gz ? "t-idx3-ubyte.gz" : "t-idx3-ubyte"), &d, 2, &s);
        ck_assert_int_eq(s.count, 2);
        mvit_calib_close(&s);
    }
}
END_TEST

// ---- .f32

START_TEST(test_f32)
{
    float v[5 * 2 * 3 * 3];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        v[i] = (float)i * 0.5f - 7.0f;
    write_bytes(at("x.f32"), v, sizeof v);
    mvit_model_desc d = model(2, 3, "rgb");
    mvit_calib_set s;
    open_ok(at("x.f32"), &d, 0, &s);
    ck_assert_int_eq(s.kind, MVIT_CALIB_F32);
    ck_assert_int_eq(s.count, 5);
    float out[18];
    mvit_diag diag;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(mvit_calib_next(&s, out, 18, &diag), 1);
        ck_assert_mem_eq(out, v + 18 * i, sizeof out);
    }
    ck_assert_int_eq(mvit_calib_next(&s, out, 18, &diag), 0);
    mvit_calib_close(&s);
    open_ok(at("x.f32"), &d, 4, &s);
    ck_assert_int_eq(s.count, 4);
    mvit_calib_close(&s);
    /* any channel count */
    d.channels = 6; /* 2x3x6 = 36 floats: 90 / 36 is not whole */
    fails(at("x.f32"), &d, 0, MVIT_EINVAL, at("x.f32"), "not a multiple of 144 bytes");
    d.channels = 15; /* 2x3x15 = 90 floats: one image */
    open_ok(at("x.f32"), &d, 0, &s);
    ck_assert_int_eq(s.count, 1);
    mvit_calib_close(&s);
}
END_TEST

// ---- errors

START_TEST(test_errors_dir)
{
    mvit_model_desc g = model(4, 4, "gray");
    mkdir(at("empty"), 0755);
    fails(at("empty"), &g, 0, MVIT_EINVAL, at("empty"), "empty directory");
    mkdir(at("nopng"), 0755);
    write_bytes(at("nopng/a.jpg"), "x", 1);
    write_bytes(at("nopng/b.txt"), "x", 1);
    fails(at("nopng"), &g, 0, MVIT_EINVAL, at("nopng"),
          "no PNG images (*.png) in the directory (2");
    fails(at("missing"), &g, 0, MVIT_EIO, at("missing"), "cannot open");
    /* a *.png that is not a PNG: named at open */
    mkdir(at("bad"), 0755);
    write_gray_png(at("bad/a.png"), 2, 2, 1);
    write_bytes(at("bad/b.png"), "GIF89a....", 10);
    fails(at("bad"), &g, 0, MVIT_EPARSE, at("bad/b.png"), "not a PNG file (bad signature)");
    mkdir(at("zero"), 0755);
    write_bytes(at("zero/a.png"), "", 0);
    fails(at("zero"), &g, 0, MVIT_EPARSE, at("zero/a.png"), "not a PNG file (empty)");
    /* a PNG whose header is fine but whose data is cut: named when it is decoded */
    write_gray_png(at("full.png"), 8, 8, 5);
    FILE *f = fopen(at("full.png"), "rb");
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    mkdir(at("cut"), 0755);
    write_gray_png(at("cut/a.png"), 2, 2, 1);
    write_bytes(at("cut/b.png"), buf, n - 20);
    fails(at("cut"), &g, 1, MVIT_EPARSE, at("cut/b.png"), "cannot decode PNG");
    /* a single PNG file instead of a directory */
    fails(at("full.png"), &g, 0, MVIT_EINVAL, at("full.png"), "directory of PNG images");
    /* PNG/IDX need 1 or 3 channels */
    mvit_model_desc four = model(4, 4, "rgb");
    four.channels = 4;
    fails(at("cut"), &four, 0, MVIT_EUNSUPPORTED, at("cut"), "has 4 channels");
}
END_TEST

START_TEST(test_errors_idx)
{
    mvit_model_desc g = model(4, 4, "gray");
    uint8_t data[2 * 3 * 3] = {0};
    write_idx(at("short-idx3-ubyte"), 0, 3, 3, 3, data, sizeof data);
    fails(at("short-idx3-ubyte"), &g, 0, MVIT_EPARSE, at("short-idx3-ubyte"),
          "truncated IDX data: header says 3 images of 3x3 (27 bytes), the file holds 18 bytes");
    write_idx(at("short-idx3-ubyte.gz"), 1, 3, 3, 3, data, sizeof data);
    fails(at("short-idx3-ubyte.gz"), &g, 0, MVIT_EPARSE, at("short-idx3-ubyte.gz"),
          "truncated IDX data");
    write_idx(at("long-idx3-ubyte"), 0, 1, 3, 3, data, sizeof data);
    fails(at("long-idx3-ubyte"), &g, 0, MVIT_EPARSE, at("long-idx3-ubyte"), "trailing bytes");
    write_idx(at("none-idx3-ubyte"), 0, 0, 3, 3, data, 0);
    fails(at("none-idx3-ubyte"), &g, 0, MVIT_EINVAL, at("none-idx3-ubyte"), "no images");
    write_idx(at("hdr-idx3-ubyte"), 0, 1, 3, 3, data, 0);
    write_bytes(at("hdr-idx3-ubyte"), "\0\0\x08\x03\0\0\0\1\0\0", 10);
    fails(at("hdr-idx3-ubyte"), &g, 0, MVIT_EPARSE, at("hdr-idx3-ubyte"),
          "truncated IDX header (10 of 16 bytes)");
    write_bytes(at("labels-idx1-ubyte"), "\0\0\x08\x01\0\0\0\1\5", 9);
    fails(at("labels-idx1-ubyte"), &g, 0, MVIT_EPARSE, at("labels-idx1-ubyte"),
          "not an IDX image file (magic 0x00000801, expected 0x00000803)");
    /* gzip header followed by garbage */
    write_bytes(at("bad-idx3-ubyte.gz"), "\x1f\x8b\x08\0\0\0\0\0\0\x03garbage!garbage!", 26);
    fails(at("bad-idx3-ubyte.gz"), &g, 0, MVIT_EPARSE, at("bad-idx3-ubyte.gz"),
          "corrupt or truncated gzip data");
}
END_TEST

START_TEST(test_errors_f32)
{
    mvit_model_desc d = model(2, 3, "rgb"); /* 72 bytes per image */
    float v[3 * 18];
    for (int i = 0; i < 3 * 18; i++)
        v[i] = 0.25f;
    write_bytes(at("odd.f32"), v, 72 * 2 + 4);
    fails(at("odd.f32"), &d, 0, MVIT_EINVAL, at("odd.f32"),
          "file size 148 is not a multiple of 72 bytes (one 2x3x3 float32 NHWC image)");
    write_bytes(at("empty.f32"), v, 0);
    fails(at("empty.f32"), &d, 0, MVIT_EINVAL, at("empty.f32"), "the file is empty");
    v[2 * 18 + 3 * 1 + 2] = NAN; /* image 2, y 0, x 1, c 2 */
    write_bytes(at("nan.f32"), v, sizeof v);
    fails(at("nan.f32"), &d, 0, MVIT_EINVAL, at("nan.f32"), "image 2 holds NaN at (y 0, x 1, c 2)");
    v[2 * 18 + 3 * 1 + 2] = 0;
    v[18 + 9 + 3 * 2] = -INFINITY; /* image 1, y 1, x 2, c 0 */
    write_bytes(at("inf.f32"), v, sizeof v);
    fails(at("inf.f32"), &d, 0, MVIT_EINVAL, at("inf.f32"),
          "image 1 holds an infinity at (y 1, x 2, c 0)");
    /* only the images used are checked */
    mvit_calib_set s;
    open_ok(at("inf.f32"), &d, 1, &s);
    mvit_calib_close(&s);
}
END_TEST

// ---- progress line

static char *progress_run(int tty, int64_t total)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    mvit_progress p;
    mvit_progress_init(&p, f, total);
    ck_assert_int_eq(p.tty, 0); /* a file */
    p.tty = tty;
    for (int64_t i = 1; i <= total; i++)
        mvit_progress_update(&p, i);
    mvit_progress_end(&p);
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    ck_assert_int_eq((long)fread(s, 1, (size_t)n, f), n);
    fclose(f);
    return s;
}

START_TEST(test_progress)
{
    char *s = progress_run(1, 3);
    ck_assert_str_eq(s, "\rcalibrating: 1/3 images\rcalibrating: 2/3 images"
                        "\rcalibrating: 3/3 images\n");
    free(s);
    s = progress_run(0, 500);
    ck_assert_ptr_null(strchr(s, '\r'));
    ck_assert_ptr_nonnull(strstr(s, "calibrating: 1/500 images\n"));
    ck_assert_ptr_nonnull(strstr(s, "calibrating: 50/500 images\n"));
    ck_assert_ptr_nonnull(strstr(s, "calibrating: 500/500 images\n"));
    int lines = 0;
    for (char *c = s; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 11);
    free(s);
}
END_TEST

static Suite *calib_suite(void)
{
    Suite *s = suite_create("calib");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_png_sorted);
    tcase_add_test(tc, test_png_channels);
    tcase_add_test(tc, test_png_resize);
    tcase_add_test(tc, test_idx);
    tcase_add_test(tc, test_f32);
    tcase_add_test(tc, test_errors_dir);
    tcase_add_test(tc, test_errors_idx);
    tcase_add_test(tc, test_errors_f32);
    tcase_add_test(tc, test_progress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(calib_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
