/* The runtime (runtime/): the thread pool (every index runs exactly once, for many job sizes
 * and thread counts back to back, the pattern of one inference; work really spreads over
 * threads), image preprocessing against PyTorch golden data (tests/data/runtime/image_ref.txt,
 * written by tools/runtime_ref.py) and bad arguments, top-k order and ties, softmax, and the
 * monotonic timer. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mvrt_image.h"
#include "mvrt_pool.h"
#include "mvrt_time.h"
#include "mvrt_topk.h"

// ---- thread pool

typedef struct counts {
    atomic_int hits[512];
    pthread_t ids[512];
} counts;

static void count_task(void *ctx, int i)
{
    counts *c = ctx;
    atomic_fetch_add(&c->hits[i], 1);
    c->ids[i] = pthread_self();
}

static void run_and_check(mvrt_pool *pool, int n)
{
    static counts c;
    for (int i = 0; i < n; i++)
        atomic_store(&c.hits[i], 0);
    mvrt_pool_parallel_for(pool, n, count_task, &c);
    for (int i = 0; i < n; i++)
        ck_assert_msg(atomic_load(&c.hits[i]) == 1, "n=%d: index %d ran %d times", n, i,
                      atomic_load(&c.hits[i]));
}

START_TEST(every_index_once)
{
    for (int threads = 1; threads <= 4; threads++) {
        mvrt_pool pool;
        ck_assert_int_eq(mvrt_pool_init(&pool, threads), 0);
        for (int rep = 0; rep < 300; rep++) {
            pool.spin_us = rep & 1 ? 0 : MVRT_POOL_SPIN_US; /* sleeping at once, or spinning */
            for (int n = 0; n <= 17; n++)
                run_and_check(&pool, n);
        }
        run_and_check(&pool, 512);
        mvrt_pool_destroy(&pool);
    }
}
END_TEST

static void slow_task(void *ctx, int i)
{
    counts *c = ctx;
    c->ids[i] = pthread_self();
    struct timespec ts = {0, 2000000}; /* 2 ms: long enough for the worker to join in */
    nanosleep(&ts, NULL);
    atomic_fetch_add(&c->hits[i], 1);
}

static int tasks_on_other_threads(mvrt_pool *pool)
{
    static counts c;
    memset(c.ids, 0, sizeof c.ids);
    mvrt_pool_parallel_for(pool, 8, slow_task, &c);
    int other = 0;
    for (int i = 0; i < 8; i++)
        other += !pthread_equal(c.ids[i], pthread_self());
    return other;
}

START_TEST(work_spreads_over_threads)
{
    mvrt_pool pool;
    ck_assert_int_eq(mvrt_pool_init(&pool, 2), 0);
    ck_assert_msg(tasks_on_other_threads(&pool) > 0, "all 8 tasks ran on the calling thread");
    /* idle for 5x the spin: the worker has gone to sleep and must be woken */
    struct timespec ts = {0, 5000L * MVRT_POOL_SPIN_US};
    nanosleep(&ts, NULL);
    ck_assert_msg(tasks_on_other_threads(&pool) > 0, "after an idle gap, all 8 tasks ran on the "
                                                     "calling thread");
    mvrt_pool_destroy(&pool);
}
END_TEST

// ---- image preprocessing

/* One case of tests/data/runtime/image_ref.txt (format: tools/runtime_ref.py). */
typedef struct ref_case {
    char name[64], op[16], src_fmt[8], dst_fmt[8];
    int src_w, src_h, dst_w, dst_h, resize_short, rw, rh, cx, cy;
    size_t stride, npix, nout;
    double crop_pct;
    float mean[3], std_[3];
    uint8_t *pixels;
    float *expect;
} ref_case;

static mvrt_pixel_format format_named(const char *s)
{
    static const char *const names[] = {"GRAY", "RGB", "BGR", "RGBA", "BGRA"};
    for (int f = 0; f < MVRT_PIXEL_FORMAT_COUNT; f++)
        if (!strcmp(s, names[f]))
            return (mvrt_pixel_format)f;
    ck_abort_msg("unknown format '%s' in the golden file", s);
    return MVRT_PIXEL_FORMAT_COUNT;
}

static int read_case(FILE *f, ref_case *c)
{
    memset(c, 0, sizeof *c);
    if (fscanf(f, " case %63s %15s %7s %d %d %zu %7s %d %d", c->name, c->op, c->src_fmt, &c->src_w,
               &c->src_h, &c->stride, c->dst_fmt, &c->dst_w, &c->dst_h) != 9)
        return 0;
    if (fscanf(f, " crop_pct %lf resize_short %d geometry %d %d %d %d", &c->crop_pct,
               &c->resize_short, &c->rw, &c->rh, &c->cx, &c->cy) != 6)
        return 0;
    const int ch = mvrt_pixel_format_channels(format_named(c->dst_fmt));
    if (fscanf(f, " mean") != 0)
        return 0;
    for (int i = 0; i < ch; i++)
        if (fscanf(f, "%f", &c->mean[i]) != 1)
            return 0;
    if (fscanf(f, " std") != 0)
        return 0;
    for (int i = 0; i < ch; i++)
        if (fscanf(f, "%f", &c->std_[i]) != 1)
            return 0;
    if (fscanf(f, " pixels %zu", &c->npix) != 1)
        return 0;
    c->pixels = malloc(c->npix);
    for (size_t i = 0; i < c->npix; i++) {
        unsigned v;
        if (fscanf(f, "%u", &v) != 1 || v > 255)
            return 0;
        c->pixels[i] = (uint8_t)v;
    }
    if (fscanf(f, " expect %zu", &c->nout) != 1)
        return 0;
    c->expect = malloc(c->nout * sizeof(float));
    for (size_t i = 0; i < c->nout; i++)
        if (fscanf(f, "%f", &c->expect[i]) != 1)
            return 0;
    return 1;
}

/* Allowed difference from PyTorch before normalisation (see mvrt_image.h): 4 float32 ulps of 1
 * for the arithmetic (PyTorch's x86 build contracts it into FMAs), plus, per axis, half an ulp
 * of the source coordinate: PyTorch <= 1.13 (the golden data's) computes the coordinate in
 * double, newer versions and mvrt_image in float. The normalisation adds one rounding of the
 * result on each side. */
static double resize_tolerance(const ref_case *c, size_t ox, size_t oy, float std_)
{
    const double sx = ((double)(c->cx + (int)ox) + 0.5) * c->src_w / c->rw;
    const double sy = ((double)(c->cy + (int)oy) + 0.5) * c->src_h / c->rh;
    const double raw = 4 * FLT_EPSILON + (sx + sy) * FLT_EPSILON / 2;
    return raw / fabs(std_);
}

START_TEST(image_matches_pytorch)
{
    const char *path = MVIT_TEST_DATA "/runtime/image_ref.txt";
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (regenerate: tools/runtime_ref.py)", path);
    char line[256];
    int ncases = 0;
    ck_assert(fgets(line, sizeof line, f) != NULL); /* the banner */
    ck_assert_int_eq(fscanf(f, " cases %d", &ncases), 1);
    ck_assert_int_gt(ncases, 0);
    for (int k = 0; k < ncases; k++) {
        ref_case c;
        ck_assert_msg(read_case(f, &c), "%s: case %d is malformed", path, k);
        const mvrt_image img = {c.pixels, c.src_w, c.src_h, c.stride, format_named(c.src_fmt)};
        const mvrt_input_spec spec = {c.dst_w, c.dst_h, format_named(c.dst_fmt), c.mean, c.std_};
        const int ch = mvrt_pixel_format_channels(spec.format);
        ck_assert_uint_eq(c.nout, (size_t)c.dst_w * c.dst_h * ch);
        float *out = malloc((c.nout + 1) * sizeof(float));
        double worst = 0; /* MVRT_TEST_VERBOSE=1 prints it: the largest error / tolerance */
        out[c.nout] = -12345.0f; /* must stay untouched */
        int rc;
        if (!strcmp(c.op, "crop")) {
            ck_assert_int_eq(mvrt_eval_resize_size(c.dst_h, c.crop_pct), c.resize_short);
            int32_t rw, rh, x, y;
            ck_assert_int_eq(mvrt_resize_crop_geometry(c.src_w, c.src_h, c.resize_short, c.dst_w,
                                                       c.dst_h, &rw, &rh, &x, &y),
                             MVRT_OK);
            ck_assert_msg(rw == c.rw && rh == c.rh && x == c.cx && y == c.cy,
                          "%s: geometry %dx%d at (%d, %d), torchvision says %dx%d at (%d, %d)",
                          c.name, rw, rh, x, y, c.rw, c.rh, c.cx, c.cy);
            rc = mvrt_image_resize_crop(&img, c.resize_short, &spec, out, c.nout);
        } else {
            rc = mvrt_image_resize(&img, &spec, out, c.nout);
        }
        ck_assert_msg(rc == MVRT_OK, "%s: %s", c.name, mvrt_error_string(rc));
        ck_assert(out[c.nout] == -12345.0f);
        for (size_t i = 0; i < c.nout; i++) {
            const int chan = (int)(i % (size_t)ch);
            const float want = c.expect[i];
            const size_t ox = i / ch % c.dst_w, oy = i / ch / c.dst_w;
            const double tol =
                resize_tolerance(&c, ox, oy, c.std_[chan]) + 2 * FLT_EPSILON * fabs(want);
            if (getenv("MVRT_TEST_VERBOSE") && fabs((double)out[i] - want) / tol > worst)
                worst = fabs((double)out[i] - want) / tol;
            ck_assert_msg(fabs((double)out[i] - want) <= tol,
                          "%s (%s %dx%d -> %s %dx%d): element %zu (y %zu, x %zu, c %d): got %.9g, "
                          "PyTorch %.9g (tolerance %.3g)",
                          c.name, c.src_fmt, c.src_w, c.src_h, c.dst_fmt, c.dst_w, c.dst_h, i, oy,
                          ox, chan, out[i], want, tol);
        }
        if (getenv("MVRT_TEST_VERBOSE"))
            printf("%-28s worst error / tolerance %.3f\n", c.name, worst);
        free(out);
        free(c.pixels);
        free(c.expect);
    }
    fclose(f);
}
END_TEST

START_TEST(image_geometry)
{
    ck_assert_int_eq(mvrt_eval_resize_size(224, 0.875), 256);
    ck_assert_int_eq(mvrt_eval_resize_size(256, 0.9), 284);
    ck_assert_int_eq(mvrt_eval_resize_size(256, 1.0), 256);
    ck_assert_int_eq(mvrt_eval_resize_size(10, 0.8), 12); /* 12.5 floored */
    int32_t rw, rh, x, y;
    /* 640x480 camera frame, timm eval for 224: 341x256, crop at (round(58.5) = 58, 16) */
    ck_assert_int_eq(mvrt_resize_crop_geometry(640, 480, 256, 224, 224, &rw, &rh, &x, &y), 0);
    ck_assert(rw == 341 && rh == 256 && x == 58 && y == 16);
    /* portrait 1080x1920 for 256 @ 0.9: 284x504, crop at (14, 124) */
    ck_assert_int_eq(mvrt_resize_crop_geometry(1080, 1920, 284, 256, 256, &rw, &rh, &x, &y), 0);
    ck_assert(rw == 284 && rh == 504 && x == 14 && y == 124);
    /* square: no crop offset rounding, resize to exactly the short side */
    ck_assert_int_eq(mvrt_resize_crop_geometry(500, 500, 64, 64, 64, &rw, &rh, &x, &y), 0);
    ck_assert(rw == 64 && rh == 64 && x == 0 && y == 0);
    /* round half to even: (13 - 10) / 2 = 1.5 -> 2, (11 - 10) / 2 = 0.5 -> 0 */
    ck_assert_int_eq(mvrt_resize_crop_geometry(13, 11, 11, 10, 10, &rw, &rh, &x, &y), 0);
    ck_assert(rw == 13 && rh == 11 && x == 2 && y == 0);
}
END_TEST

/* Channel conversions on a 2x1 image resized to the same size (weights 1 and 0: exact). */
START_TEST(image_channels)
{
    const uint8_t rgba[8] = {255, 51, 0, 7, 0, 102, 255, 9}; /* (R, G, B, A) x 2 */
    const uint8_t bgr[6] = {0, 51, 255, 255, 102, 0};
    float out[6];
    const mvrt_input_spec rgb_spec = {2, 1, MVRT_PIXEL_RGB, NULL, NULL};
    const mvrt_input_spec bgr_spec = {2, 1, MVRT_PIXEL_BGR, NULL, NULL};
    const mvrt_input_spec gray_spec = {2, 1, MVRT_PIXEL_GRAY, NULL, NULL};
    const mvrt_image a = {rgba, 2, 1, 8, MVRT_PIXEL_RGBA}, b = {bgr, 2, 1, 6, MVRT_PIXEL_BGR};
    const float want_rgb[6] = {1.0f, 0.2f, 0.0f, 0.0f, 0.4f, 1.0f};
    ck_assert_int_eq(mvrt_image_resize(&a, &rgb_spec, out, 6), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], want_rgb[i]);
    ck_assert_int_eq(mvrt_image_resize(&b, &rgb_spec, out, 6), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], want_rgb[i]);
    ck_assert_int_eq(mvrt_image_resize(&a, &bgr_spec, out, 6), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], want_rgb[i / 3 * 3 + 2 - i % 3]);
    /* luma (PIL): (19595 * 255 + 38470 * 51 + 32768) >> 16 = 106,
     * (38470 * 102 + 7471 * 255 + 32768) >> 16 = 89 */
    ck_assert_int_eq(mvrt_image_resize(&a, &gray_spec, out, 2), 0);
    ck_assert_float_eq(out[0], 106.0f / 255.0f);
    ck_assert_float_eq(out[1], 89.0f / 255.0f);
    /* gray replicated into every channel, mean and std per channel */
    const uint8_t g[2] = {0, 255};
    const mvrt_image gi = {g, 2, 1, 2, MVRT_PIXEL_GRAY};
    const float mean[3] = {0.5f, 0.25f, 0.0f}, std_[3] = {0.5f, 0.25f, 2.0f};
    const mvrt_input_spec norm = {2, 1, MVRT_PIXEL_RGB, mean, std_};
    ck_assert_int_eq(mvrt_image_resize(&gi, &norm, out, 6), 0);
    const float want[6] = {-1.0f, -1.0f, 0.0f, 1.0f, 3.0f, 0.5f};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], want[i]);
    ck_assert_int_eq(mvrt_pixel_format_from_order("rgb"), MVRT_PIXEL_RGB);
    ck_assert_int_eq(mvrt_pixel_format_from_order("bgr"), MVRT_PIXEL_BGR);
    ck_assert_int_eq(mvrt_pixel_format_from_order("gray"), MVRT_PIXEL_GRAY);
    ck_assert_int_eq(mvrt_pixel_format_from_order("RGB"), -1);
    ck_assert_int_eq(mvrt_pixel_format_from_order(NULL), -1);
}
END_TEST

#define OUT_LEN 64

/* Runs both operations with the given arguments (out: a buffer, or NULL): each must fail with
 * want and write nothing. */
static void expect_image_error(const char *what, const mvrt_image *img, int32_t resize_short,
                               const mvrt_input_spec *spec, const float *out, size_t out_len,
                               int want)
{
    float buf[OUT_LEN];
    for (int op = 0; op < 2; op++) {
        if (op == 0 && want == MVRT_ECROP)
            continue; /* only the crop can fail that way */
        for (int i = 0; i < OUT_LEN; i++)
            buf[i] = 7.0f;
        float *dst = out ? buf : NULL;
        int rc = op ? mvrt_image_resize_crop(img, resize_short, spec, dst, out_len)
                    : mvrt_image_resize(img, spec, dst, out_len);
        ck_assert_msg(rc == want, "%s (%s): got %d (%s), expected %d (%s)", what,
                      op ? "resize_crop" : "resize", rc, mvrt_error_string(rc), want,
                      mvrt_error_string(want));
        for (int i = 0; i < OUT_LEN; i++)
            ck_assert_msg(buf[i] == 7.0f, "%s: output written on error", what);
    }
}

START_TEST(image_bad_arguments)
{
    static uint8_t px[16 * 16 * 4];
    float out[OUT_LEN];
    const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    const mvrt_image ok_img = {px, 16, 16, 64, MVRT_PIXEL_RGBA};
    const mvrt_input_spec ok_spec = {4, 4, MVRT_PIXEL_RGB, zero, one};
    mvrt_image img;
    mvrt_input_spec spec;
    /* the baseline works */
    ck_assert_int_eq(mvrt_image_resize(&ok_img, &ok_spec, out, 48), MVRT_OK);
    ck_assert_int_eq(mvrt_image_resize_crop(&ok_img, 5, &ok_spec, out, 48), MVRT_OK);

    expect_image_error("NULL image", NULL, 5, &ok_spec, out, 48, MVRT_ENULL);
    expect_image_error("NULL spec", &ok_img, 5, NULL, out, 48, MVRT_ENULL);
    expect_image_error("NULL output", &ok_img, 5, &ok_spec, NULL, 48, MVRT_ENULL);
    img = ok_img, img.pixels = NULL;
    expect_image_error("NULL pixels", &img, 5, &ok_spec, out, 48, MVRT_ENULL);

    img = ok_img, img.format = MVRT_PIXEL_FORMAT_COUNT;
    expect_image_error("unknown source format", &img, 5, &ok_spec, out, 48, MVRT_EFORMAT);
    img = ok_img, img.format = (mvrt_pixel_format)-1;
    expect_image_error("negative source format", &img, 5, &ok_spec, out, 48, MVRT_EFORMAT);
    spec = ok_spec, spec.format = MVRT_PIXEL_RGBA;
    expect_image_error("RGBA output", &ok_img, 5, &spec, out, 64, MVRT_EFORMAT);
    spec = ok_spec, spec.format = (mvrt_pixel_format)mvrt_pixel_format_from_order("hsv");
    expect_image_error("unknown output order", &ok_img, 5, &spec, out, 64, MVRT_EFORMAT);

    const int32_t bad_sides[] = {0, -1, INT32_MIN, MVRT_IMAGE_MAX_SIDE + 1, INT32_MAX};
    for (int i = 0; i < 5; i++) {
        img = ok_img, img.width = bad_sides[i];
        expect_image_error("source width", &img, 5, &ok_spec, out, 48, MVRT_ESIZE);
        img = ok_img, img.height = bad_sides[i];
        expect_image_error("source height", &img, 5, &ok_spec, out, 48, MVRT_ESIZE);
        spec = ok_spec, spec.width = bad_sides[i];
        expect_image_error("output width", &ok_img, 5, &spec, out, 48, MVRT_ESIZE);
        spec = ok_spec, spec.height = bad_sides[i];
        expect_image_error("output height", &ok_img, 5, &spec, out, 48, MVRT_ESIZE);
        ck_assert_int_eq(mvrt_image_resize_crop(&ok_img, bad_sides[i], &ok_spec, out, 48),
                         MVRT_ESIZE);
    }
    img = ok_img, img.stride = 63;
    expect_image_error("stride below width * 4", &img, 5, &ok_spec, out, 48, MVRT_ESTRIDE);
    img = ok_img, img.stride = 0;
    expect_image_error("stride 0", &img, 5, &ok_spec, out, 48, MVRT_ESTRIDE);
    img = ok_img, img.stride = SIZE_MAX / 8;
    expect_image_error("image beyond the address space", &img, 5, &ok_spec, out, 48, MVRT_ESIZE);
    expect_image_error("output too small", &ok_img, 5, &ok_spec, out, 47, MVRT_ESIZE);
    expect_image_error("output length 0", &ok_img, 5, &ok_spec, out, 0, MVRT_ESIZE);

    const float bad_std[][3] = {{1, 0, 1}, {1, 1, -0.0f}, {1, INFINITY, 1}, {NAN, 1, 1}};
    for (int i = 0; i < 4; i++) {
        spec = ok_spec, spec.std = bad_std[i];
        expect_image_error("bad std", &ok_img, 5, &spec, out, 48, MVRT_EVALUE);
    }
    const float bad_mean[][3] = {{0, NAN, 0}, {0, 0, -INFINITY}};
    for (int i = 0; i < 2; i++) {
        spec = ok_spec, spec.mean = bad_mean[i];
        expect_image_error("bad mean", &ok_img, 5, &spec, out, 48, MVRT_EVALUE);
    }
    /* gray output reads only mean[0] / std[0]: later entries are not looked at */
    const float std_gray[3] = {0.5f, 0.0f, NAN};
    spec = ok_spec, spec.format = MVRT_PIXEL_GRAY, spec.std = std_gray;
    ck_assert_int_eq(mvrt_image_resize(&ok_img, &spec, out, 16), MVRT_OK);

    /* the crop must fit the resized image: 16x16 -> 3x3 cannot give 4x4 */
    expect_image_error("crop larger than resized", &ok_img, 3, &ok_spec, out, 48, MVRT_ECROP);
    /* an extreme aspect ratio pushes the long side past the limit */
    img = ok_img, img.width = 16, img.height = 1;
    ck_assert_int_eq(mvrt_image_resize_crop(&img, 8192, &ok_spec, out, 48), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_image_resize_crop(&img, 4096, &ok_spec, out, 48), MVRT_OK);

    int32_t rw, rh, x, y;
    ck_assert_int_eq(mvrt_resize_crop_geometry(16, 16, 8, 4, 4, NULL, &rh, &x, &y), MVRT_ENULL);
    ck_assert_int_eq(mvrt_resize_crop_geometry(16, 16, 8, 4, 4, &rw, &rh, &x, NULL), MVRT_ENULL);
    ck_assert_int_eq(mvrt_resize_crop_geometry(0, 16, 8, 4, 4, &rw, &rh, &x, &y), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_resize_crop_geometry(16, 16, 8, 9, 4, &rw, &rh, &x, &y), MVRT_ECROP);
    ck_assert_int_eq(mvrt_resize_crop_geometry(16, 16, 8, 4, 0, &rw, &rh, &x, &y), MVRT_ESIZE);

    ck_assert_int_eq(mvrt_eval_resize_size(0, 0.9), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_eval_resize_size(-4, 0.9), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_eval_resize_size(224, 0.0), MVRT_EVALUE);
    ck_assert_int_eq(mvrt_eval_resize_size(224, -0.9), MVRT_EVALUE);
    ck_assert_int_eq(mvrt_eval_resize_size(224, NAN), MVRT_EVALUE);
    ck_assert_int_eq(mvrt_eval_resize_size(224, INFINITY), MVRT_EVALUE);
    ck_assert_int_eq(mvrt_eval_resize_size(224, 1e-9), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_eval_resize_size(1, 2.0), MVRT_ESIZE); /* floor(0.5) = 0 */
    ck_assert_str_eq(mvrt_error_string(MVRT_ECROP), "crop larger than the resized image");
    ck_assert_str_eq(mvrt_error_string(12), "unknown error");
}
END_TEST

// ---- top-k and softmax

START_TEST(topk_ties_and_nan)
{
    const float x[] = {1, 3, 3, 2, 3};
    int64_t idx[6];
    float v[6];
    ck_assert_int_eq(mvrt_topk(x, 5, 3, idx, v), 0);
    ck_assert(idx[0] == 1 && idx[1] == 2 && idx[2] == 4);
    ck_assert(v[0] == 3 && v[1] == 3 && v[2] == 3);
    ck_assert_int_eq(mvrt_topk(x, 5, 5, idx, NULL), 0);
    ck_assert(idx[0] == 1 && idx[1] == 2 && idx[2] == 4 && idx[3] == 3 && idx[4] == 0);
    const float same[] = {0.5f, 0.5f, 0.5f, 0.5f};
    ck_assert_int_eq(mvrt_topk(same, 4, 4, idx, NULL), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(idx[i], i);
    /* NaN ranks below everything, -inf included; NaNs among themselves by index */
    const float withnan[] = {NAN, 1, NAN, -INFINITY, -0.0f, 0.0f};
    ck_assert_int_eq(mvrt_topk(withnan, 6, 6, idx, v), 0);
    const int64_t want[] = {1, 4, 5, 3, 0, 2}; /* -0 and +0 compare equal: index order */
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(idx[i], want[i]);
    ck_assert(isnan(v[4]) && isnan(v[5]));
    ck_assert_int_eq(mvrt_topk(withnan, 6, 1, idx, v), 0);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(mvrt_topk(withnan, 6, 0, idx, v), 0);
}
END_TEST

/* Against a stable insertion sort of (value, index), on vectors full of ties. */
START_TEST(topk_matches_stable_sort)
{
    enum { N = 37 };
    unsigned seed = 12345;
    for (int rep = 0; rep < 200; rep++) {
        float x[N];
        int64_t order[N], idx[N];
        float v[N];
        const int n = 1 + rep % N, levels = 1 + rep % 5;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            x[i] = (float)((seed >> 16) % (unsigned)levels) - 2.0f;
            order[i] = i;
        }
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && x[order[j]] > x[order[j - 1]]; j--) {
                int64_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int k = 0; k <= n; k++) {
            ck_assert_int_eq(mvrt_topk(x, n, k, idx, v), 0);
            for (int j = 0; j < k; j++)
                ck_assert_msg(idx[j] == order[j] && v[j] == x[order[j]],
                              "n=%d k=%d: rank %d is index %lld, expected %lld", n, k, j,
                              (long long)idx[j], (long long)order[j]);
        }
    }
}
END_TEST

START_TEST(topk_bad_arguments)
{
    const float x[3] = {1, 2, 3};
    int64_t idx[4] = {-7, -7, -7, -7};
    ck_assert_int_eq(mvrt_topk(NULL, 3, 1, idx, NULL), MVRT_ENULL);
    ck_assert_int_eq(mvrt_topk(x, 3, 1, NULL, NULL), MVRT_ENULL);
    ck_assert_int_eq(mvrt_topk(x, 3, 4, idx, NULL), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_topk(x, 3, -1, idx, NULL), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_topk(x, -1, 0, idx, NULL), MVRT_ESIZE);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(idx[i], -7);
    ck_assert_int_eq(mvrt_topk(x, 0, 0, idx, NULL), MVRT_OK);
}
END_TEST

START_TEST(softmax_values)
{
    const float x[5] = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f};
    float p[5];
    ck_assert_int_eq(mvrt_softmax(x, 5, p), 0);
    double sum = 0, ref_sum = 0;
    for (int i = 0; i < 5; i++)
        ref_sum += exp(x[i]);
    for (int i = 0; i < 5; i++) {
        ck_assert_double_eq_tol(p[i], exp(x[i]) / ref_sum, 1e-7);
        sum += p[i];
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-6);
    /* logits far beyond expf's range: no overflow, and the same as the shifted vector */
    const float big[3] = {1000.0f, 1001.0f, -1000.0f};
    float q[3];
    ck_assert_int_eq(mvrt_softmax(big, 3, q), 0);
    ck_assert_double_eq_tol(q[0], 1.0 / (1.0 + exp(1.0)), 1e-7);
    ck_assert_double_eq_tol(q[1], exp(1.0) / (1.0 + exp(1.0)), 1e-7);
    ck_assert(q[2] == 0.0f);
    /* in place */
    float y[5];
    memcpy(y, x, sizeof y);
    ck_assert_int_eq(mvrt_softmax(y, 5, y), 0);
    for (int i = 0; i < 5; i++)
        ck_assert(y[i] == p[i]);
    const float one[1] = {-3.5f};
    ck_assert_int_eq(mvrt_softmax(one, 1, q), 0);
    ck_assert(q[0] == 1.0f);
}
END_TEST

START_TEST(softmax_limits_and_bad_arguments)
{
    float p[4];
    const float ninf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    ck_assert_int_eq(mvrt_softmax(ninf, 4, p), 0);
    for (int i = 0; i < 4; i++)
        ck_assert(p[i] == 0.25f);
    const float pinf[4] = {INFINITY, 2.0f, INFINITY, -INFINITY};
    ck_assert_int_eq(mvrt_softmax(pinf, 4, p), 0);
    ck_assert(p[0] == 0.5f && p[1] == 0.0f && p[2] == 0.5f && p[3] == 0.0f);
    const float some_ninf[3] = {-INFINITY, 0.0f, 0.0f};
    ck_assert_int_eq(mvrt_softmax(some_ninf, 3, p), 0);
    ck_assert(p[0] == 0.0f && p[1] == 0.5f && p[2] == 0.5f);
    const float withnan[3] = {1.0f, NAN, 2.0f};
    ck_assert_int_eq(mvrt_softmax(withnan, 3, p), 0);
    for (int i = 0; i < 3; i++)
        ck_assert(isnan(p[i]));
    ck_assert_int_eq(mvrt_softmax(NULL, 3, p), MVRT_ENULL);
    ck_assert_int_eq(mvrt_softmax(withnan, 3, NULL), MVRT_ENULL);
    ck_assert_int_eq(mvrt_softmax(withnan, 0, p), MVRT_ESIZE);
    ck_assert_int_eq(mvrt_softmax(withnan, -2, p), MVRT_ESIZE);
}
END_TEST

// ---- timer

/* Monotonic, and the same clock as CLOCK_MONOTONIC (read in between two direct readings).
 * No durations are asserted: the machine may be loaded. */
START_TEST(time_monotonic)
{
    uint64_t prev = mvrt_time_ns();
    ck_assert(prev != 0);
    for (int i = 0; i < 100000; i++) {
        const uint64_t t = mvrt_time_ns();
        ck_assert_msg(t >= prev, "went back from %llu to %llu", (unsigned long long)prev,
                      (unsigned long long)t);
        prev = t;
    }
#if !defined(__APPLE__)
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const uint64_t t = mvrt_time_ns();
    clock_gettime(CLOCK_MONOTONIC, &b);
    const uint64_t na = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
    const uint64_t nb = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
    ck_assert(na <= t && t <= nb);
#endif
    /* it advances across a sleep (of any length) */
    const uint64_t t0 = mvrt_time_ns();
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    ck_assert(mvrt_time_ns() > t0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_index_once);
    tcase_add_test(tc, work_spreads_over_threads);
    suite_add_tcase(s, tc);
    TCase *image = tcase_create("image");
    tcase_add_test(image, image_matches_pytorch);
    tcase_add_test(image, image_geometry);
    tcase_add_test(image, image_channels);
    tcase_add_test(image, image_bad_arguments);
    suite_add_tcase(s, image);
    TCase *topk = tcase_create("topk");
    tcase_add_test(topk, topk_ties_and_nan);
    tcase_add_test(topk, topk_matches_stable_sort);
    tcase_add_test(topk, topk_bad_arguments);
    tcase_add_test(topk, softmax_values);
    tcase_add_test(topk, softmax_limits_and_bad_arguments);
    suite_add_tcase(s, topk);
    TCase *timer = tcase_create("time");
    tcase_add_test(timer, time_monotonic);
    suite_add_tcase(s, timer);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
