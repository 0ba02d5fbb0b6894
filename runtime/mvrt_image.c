/* uint8 image -> normalised float HWC model input (see mvrt_image.h for what it matches).
 * Every operation is one pass over the output: output pixel (ox, oy) is pixel
 * (crop_x + ox, crop_y + oy) of the source bilinearly resized to resized_w x resized_h, so a
 * centre crop costs only the pixels it keeps and nothing is allocated. */
#include "mvrt_image.h"

#include <math.h>
#include <string.h>

/* Keep a * b + c as two roundings everywhere, like PyTorch's kernel on x86 and the golden data:
 * GCC in ISO C mode (the CMake build) already does not contract; clang contracts by default. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

int mvrt_pixel_format_bytes(mvrt_pixel_format format)
{
    static const int bytes[MVRT_PIXEL_FORMAT_COUNT] = {1, 3, 3, 4, 4};
    return (unsigned)format < MVRT_PIXEL_FORMAT_COUNT ? bytes[format] : 0;
}

int mvrt_pixel_format_channels(mvrt_pixel_format format)
{
    static const int channels[MVRT_PIXEL_FORMAT_COUNT] = {1, 3, 3, 3, 3};
    return (unsigned)format < MVRT_PIXEL_FORMAT_COUNT ? channels[format] : 0;
}

int mvrt_pixel_format_from_order(const char *order)
{
    if (!order)
        return -1;
    if (!strcmp(order, "gray"))
        return MVRT_PIXEL_GRAY;
    if (!strcmp(order, "rgb"))
        return MVRT_PIXEL_RGB;
    if (!strcmp(order, "bgr"))
        return MVRT_PIXEL_BGR;
    return -1;
}

// ---- geometry

static int side_ok(int32_t v)
{
    return v >= 1 && v <= MVRT_IMAGE_MAX_SIDE;
}

int32_t mvrt_eval_resize_size(int32_t crop, double crop_pct)
{
    if (!side_ok(crop))
        return MVRT_ESIZE;
    if (!(crop_pct > 0) || !isfinite(crop_pct))
        return MVRT_EVALUE;
    const double size = floor((double)crop / crop_pct);
    if (!(size >= 1 && size <= MVRT_IMAGE_MAX_SIDE))
        return MVRT_ESIZE;
    return (int32_t)size;
}

/* Python's int(round(x / 2.0)) for x >= 0: halves go to the even neighbour. */
static int32_t half_round_even(int32_t x)
{
    const int32_t h = x / 2;
    return (x % 2) && (h % 2) ? h + 1 : h;
}

int mvrt_resize_crop_geometry(int32_t src_w, int32_t src_h, int32_t resize_short, int32_t crop_w,
                              int32_t crop_h, int32_t *resized_w, int32_t *resized_h,
                              int32_t *crop_x, int32_t *crop_y)
{
    if (!resized_w || !resized_h || !crop_x || !crop_y)
        return MVRT_ENULL;
    if (!side_ok(src_w) || !side_ok(src_h) || !side_ok(resize_short) || !side_ok(crop_w) ||
        !side_ok(crop_h))
        return MVRT_ESIZE;
    /* torchvision _compute_resized_output_size: int(new_short * long / short); the product
     * is exact in double (< 2^32) and the division correctly rounded, as Python's int / int */
    const int32_t s = src_w <= src_h ? src_w : src_h, l = src_w <= src_h ? src_h : src_w;
    const double new_long = floor((double)resize_short * (double)l / (double)s);
    if (!(new_long >= 1 && new_long <= MVRT_IMAGE_MAX_SIDE))
        return MVRT_ESIZE;
    const int32_t rw = src_w <= src_h ? resize_short : (int32_t)new_long;
    const int32_t rh = src_w <= src_h ? (int32_t)new_long : resize_short;
    if (crop_w > rw || crop_h > rh)
        return MVRT_ECROP;
    *resized_w = rw;
    *resized_h = rh;
    *crop_x = half_round_even(rw - crop_w);
    *crop_y = half_round_even(rh - crop_h);
    return MVRT_OK;
}

// ---- interpolation

#define TILE 64 /* output columns per tile of precomputed x taps (1 KB of stack) */

/* One output coordinate's two source taps and weights, as PyTorch's
 * compute_source_index_and_lambda (align_corners=False) computes them in float. */
typedef struct tap {
    int32_t i0, i1;
    float l0, l1;
} tap;

static tap axis_tap(int32_t in, int32_t out, float scale, int32_t d)
{
    tap t;
    if (in == out) { /* PyTorch copies; the formula below would give the same */
        t.i0 = t.i1 = d;
        t.l0 = 1.0f;
        t.l1 = 0.0f;
        return t;
    }
    float src = scale * ((float)d + 0.5f) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int32_t i0 = (int32_t)src;
    if (i0 > in - 1) /* cannot happen for d < out; kept so no index can leave the image */
        i0 = in - 1;
    float l1 = src - (float)i0;
    l1 = l1 < 0.0f ? 0.0f : l1 > 1.0f ? 1.0f : l1;
    t.i0 = i0;
    t.i1 = i0 + (i0 < in - 1 ? 1 : 0);
    t.l1 = l1;
    t.l0 = 1.0f - l1;
    return t;
}

/* PIL's rgb2l: BT.601 luma in 16-bit fixed point, rounded */
static uint8_t luma(const uint8_t *px, const int *off)
{
    return (uint8_t)((px[off[0]] * 19595u + px[off[1]] * 38470u + px[off[2]] * 7471u + 0x8000u) >>
                     16);
}

/* Checks everything resize and resize_crop share. */
static int check_args(const mvrt_image *src, const mvrt_input_spec *spec, const float *out,
                      size_t out_len)
{
    if (!src || !spec || !out || !src->pixels)
        return MVRT_ENULL;
    const int bpp = mvrt_pixel_format_bytes(src->format);
    const int ch = spec->format == MVRT_PIXEL_GRAY || spec->format == MVRT_PIXEL_RGB ||
                           spec->format == MVRT_PIXEL_BGR
                       ? mvrt_pixel_format_channels(spec->format)
                       : 0;
    if (!bpp || !ch)
        return MVRT_EFORMAT;
    if (!side_ok(src->width) || !side_ok(src->height) || !side_ok(spec->width) ||
        !side_ok(spec->height))
        return MVRT_ESIZE;
    /* the image must fit in the address space: (height - 1) * stride + width * bpp bytes */
    const size_t row = (size_t)src->width * (size_t)bpp;
    if (src->stride < row)
        return MVRT_ESTRIDE;
    if ((size_t)(src->height - 1) > (SIZE_MAX - row) / src->stride)
        return MVRT_ESIZE;
    /* output elements; width, height <= 2^16 so the product fits in uint64 */
    const uint64_t count = (uint64_t)spec->width * (uint64_t)spec->height * (uint64_t)ch;
    if (count > SIZE_MAX / sizeof(float) || out_len < count)
        return MVRT_ESIZE;
    for (int c = 0; c < ch; c++) {
        if (spec->mean && !isfinite(spec->mean[c]))
            return MVRT_EVALUE;
        if (spec->std && (!isfinite(spec->std[c]) || spec->std[c] == 0.0f))
            return MVRT_EVALUE;
    }
    return MVRT_OK;
}

/* The output is the (crop_x, crop_y, spec->width, spec->height) window of the source resized to
 * rw x rh. Arguments are already checked. */
static void resize_window(const mvrt_image *src, int32_t rw, int32_t rh, int32_t crop_x,
                          int32_t crop_y, const mvrt_input_spec *spec, float *out)
{
    const int bpp = mvrt_pixel_format_bytes(src->format);
    const int ch = mvrt_pixel_format_channels(spec->format);
    float mean[3] = {0, 0, 0}, std_[3] = {1, 1, 1};
    for (int c = 0; c < ch; c++) {
        if (spec->mean)
            mean[c] = spec->mean[c];
        if (spec->std)
            std_[c] = spec->std[c];
    }
    /* byte offsets of the source's R, G, B (all 0 for gray, which replicates) */
    int rgb[3] = {0, 0, 0};
    if (src->format == MVRT_PIXEL_RGB || src->format == MVRT_PIXEL_RGBA) {
        rgb[1] = 1;
        rgb[2] = 2;
    } else if (src->format == MVRT_PIXEL_BGR || src->format == MVRT_PIXEL_BGRA) {
        rgb[0] = 2;
        rgb[1] = 1;
    }
    const int to_luma = spec->format == MVRT_PIXEL_GRAY && src->format != MVRT_PIXEL_GRAY;
    int off[3]; /* byte offset of each output channel */
    for (int c = 0; c < ch; c++)
        off[c] = rgb[spec->format == MVRT_PIXEL_BGR ? 2 - c : c];
    /* pixel / 255 exactly as torch's x.float() / 255 (a division, not a reciprocal product) */
    float unit[256];
    for (int v = 0; v < 256; v++)
        unit[v] = (float)v / 255.0f;

    const float sx = (float)src->width / (float)rw, sy = (float)src->height / (float)rh;
    /* columns in tiles whose x taps are computed once (on the stack) and reused by every row */
    tap tx[TILE];
    for (int32_t x0 = 0; x0 < spec->width; x0 += TILE) {
        const int32_t nx = spec->width - x0 < TILE ? spec->width - x0 : TILE;
        for (int32_t i = 0; i < nx; i++)
            tx[i] = axis_tap(src->width, rw, sx, crop_x + x0 + i);
        for (int32_t oy = 0; oy < spec->height; oy++) {
            const tap ty = axis_tap(src->height, rh, sy, crop_y + oy);
            const uint8_t *r0 = src->pixels + (size_t)ty.i0 * src->stride;
            const uint8_t *r1 = src->pixels + (size_t)ty.i1 * src->stride;
            float *o = out + ((size_t)oy * (size_t)spec->width + (size_t)x0) * (size_t)ch;
            for (int32_t i = 0; i < nx; i++) {
                const tap t = tx[i];
                const uint8_t *p00 = r0 + (size_t)t.i0 * bpp, *p01 = r0 + (size_t)t.i1 * bpp;
                const uint8_t *p10 = r1 + (size_t)t.i0 * bpp, *p11 = r1 + (size_t)t.i1 * bpp;
                for (int c = 0; c < ch; c++) {
                    float a, b, d, e;
                    if (to_luma) {
                        a = unit[luma(p00, rgb)];
                        b = unit[luma(p01, rgb)];
                        d = unit[luma(p10, rgb)];
                        e = unit[luma(p11, rgb)];
                    } else {
                        a = unit[p00[off[c]]];
                        b = unit[p01[off[c]]];
                        d = unit[p10[off[c]]];
                        e = unit[p11[off[c]]];
                    }
                    const float v = ty.l0 * (t.l0 * a + t.l1 * b) + ty.l1 * (t.l0 * d + t.l1 * e);
                    *o++ = (v - mean[c]) / std_[c]; /* torchvision Normalize: sub then div */
                }
            }
        }
    }
}

int mvrt_image_resize(const mvrt_image *src, const mvrt_input_spec *spec, float *out_hwc,
                      size_t out_len)
{
    int rc = check_args(src, spec, out_hwc, out_len);
    if (rc)
        return rc;
    resize_window(src, spec->width, spec->height, 0, 0, spec, out_hwc);
    return MVRT_OK;
}

int mvrt_image_resize_crop(const mvrt_image *src, int32_t resize_short, const mvrt_input_spec *spec,
                           float *out_hwc, size_t out_len)
{
    int rc = check_args(src, spec, out_hwc, out_len);
    if (rc)
        return rc;
    int32_t rw, rh, x, y;
    rc = mvrt_resize_crop_geometry(src->width, src->height, resize_short, spec->width, spec->height,
                                   &rw, &rh, &x, &y);
    if (rc)
        return rc;
    resize_window(src, rw, rh, x, y, spec, out_hwc);
    return MVRT_OK;
}
