/* mvrt_image: 8-bit images (camera frames, decoded files) to the float HWC input a generated
 * model takes, the way PyTorch prepares it: pixel / 255, bilinear resize, optional centre
 * crop, (x - mean) / std per channel, in the model's channel order.
 *
 *     static const float mean[] = net_INPUT_MEAN, std_[] = net_INPUT_STD;
 *     mvrt_image img = {pixels, width, height, bytes_per_row, MVRT_PIXEL_BGRA};
 *     mvrt_input_spec in = {net_INPUT_WIDTH, net_INPUT_HEIGHT,
 *                           mvrt_pixel_format_from_order(net_CHANNEL_ORDER), mean, std_};
 *     float input[net_INPUT_HEIGHT * net_INPUT_WIDTH * net_INPUT_CHANNELS];
 *     int rc = mvrt_image_resize_crop(&img, mvrt_eval_resize_size(net_INPUT_HEIGHT, 0.9), &in,
 *                                     input, sizeof input / sizeof *input);
 *
 * Allocation contract: nothing is allocated and the caller gives no scratch: the interpolation
 * weights are computed per output row and per 64-column tile, in about 2.5 KB of stack. The
 * functions are pure: no global state, safe to call from any number of threads on distinct
 * outputs. Cost: one pass over the output (a 256x256 RGB crop of a 1920x1080 frame ~0.7 ms on
 * one x86 core), whatever the source size.
 *
 * What the numbers match. The resize is PyTorch's
 *     F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=False)
 * on x = uint8 image / 255 as a float32 NCHW tensor (the ToTensor-then-Resize order), to float
 * rounding: the same taps and weights (scale = (float)in / out, src = scale * (dst + 0.5) - 0.5
 * clamped at 0, lambda1 = src - (int)src, lambda0 = 1 - lambda1, all in float32 as current
 * PyTorch's aten/src/ATen/native/UpSample.h does; a side whose size does not change is copied)
 * and its generic CPU kernel's order, ly0 * (lx0 * p00 + lx1 * p01) + ly1 * (lx0 * p10 +
 * lx1 * p11), each product and sum rounded (no FMA). Bit-exact agreement is not a goal:
 * PyTorch's results depend on its version and build (1.13, Debian 12's, computes src in double;
 * its x86 builds contract the sums into FMAs; 1-channel and channels-last tensors go through
 * another kernel with another order). tests/test_runtime.c checks the golden data
 * of tools/runtime_ref.py (torch 1.13) within 4 ulps of 1 plus half an ulp of the source
 * coordinate per axis, before normalisation; the largest error seen is 0.41 of that. It is
 * NOT antialiased:
 *   - torchvision.transforms.Resize / functional.resize on tensors: antialias=False gives
 *     these numbers. The default was None (= False on tensors) up to torchvision 0.16 and is
 *     True from 0.17 on; PIL images are always antialiased. When the image only grows (or
 *     keeps its size) antialias makes no difference beyond float rounding; when it shrinks,
 *     antialiased results differ (by up to ~0.3 on a noisy image) and the model should have
 *     been trained/evaluated with antialias=False for these numbers to be its inputs.
 *   - Resize on uint8 tensors (rounded back to uint8 before ToTensor) is not reproduced.
 *   - Only bilinear: timm's ImageNet MobileViT configs say "bicubic" (PIL) for evaluation.
 * The resize + centre crop is torchvision's Resize(size) then CenterCrop(crop): the shorter
 * side becomes `size`, the longer int(size * long / short) (truncated), and the crop starts at
 * int(round((resized - crop) / 2.0)) with Python's round (halves to even). timm's eval
 * transform uses size = floor(crop / crop_pct) (mvrt_eval_resize_size). torchvision pads a crop
 * larger than the image; here that is an error (MVRT_ECROP).
 *
 * Channels: the output is GRAY (1 channel), RGB or BGR (3). Colour to colour swaps or keeps
 * channels; alpha is ignored (not premultiplied, not blended). GRAY to colour replicates the
 * gray value. Colour to GRAY is BT.601 luma on the 8-bit pixels before resizing, exactly
 * PIL's Image.convert("L"): (19595 R + 38470 G + 7471 B + 32768) >> 16. */
#ifndef MVRT_IMAGE_H
#define MVRT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mvrt_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest width or height accepted anywhere (source, resized, output). */
#define MVRT_IMAGE_MAX_SIDE 65536

typedef enum mvrt_pixel_format {
    MVRT_PIXEL_GRAY, /* 1 byte per pixel */
    MVRT_PIXEL_RGB,  /* 3 bytes: R, G, B */
    MVRT_PIXEL_BGR,  /* 3 bytes: B, G, R (OpenCV) */
    MVRT_PIXEL_RGBA, /* 4 bytes: R, G, B, A (Android Bitmap ARGB_8888 in memory) */
    MVRT_PIXEL_BGRA, /* 4 bytes: B, G, R, A (iOS kCVPixelFormatType_32BGRA) */
    MVRT_PIXEL_FORMAT_COUNT
} mvrt_pixel_format;

/* A source image: height rows of width pixels; row y starts at pixels + y * stride. */
typedef struct mvrt_image {
    const uint8_t *pixels; /* the top-left pixel */
    int32_t width, height; /* pixels, 1..MVRT_IMAGE_MAX_SIDE */
    size_t stride;         /* bytes from one row to the next, >= width * bytes per pixel */
    mvrt_pixel_format format;
} mvrt_image;

/* What the model takes: the header's INPUT_WIDTH, INPUT_HEIGHT, CHANNEL_ORDER (as GRAY, RGB
 * or BGR; 1 or 3 channels), INPUT_MEAN and INPUT_STD. */
typedef struct mvrt_input_spec {
    int32_t width, height;    /* output pixels, 1..MVRT_IMAGE_MAX_SIDE */
    mvrt_pixel_format format; /* MVRT_PIXEL_GRAY, _RGB or _BGR */
    const float *mean;        /* per output channel, on the [0, 1] scale; NULL: all 0 */
    const float *std;         /* per output channel, finite and non-zero; NULL: all 1 */
} mvrt_input_spec;

/* Bytes per pixel (1, 3 or 4) and output channels (1 or 3) of a format; 0 if unknown. */
int mvrt_pixel_format_bytes(mvrt_pixel_format format);
int mvrt_pixel_format_channels(mvrt_pixel_format format);

/* The header's CHANNEL_ORDER string ("rgb", "bgr", "gray") as a format; -1 for anything else
 * (the result then fails MVRT_EFORMAT in the functions below). */
int mvrt_pixel_format_from_order(const char *order);

/* Bilinear resize of the whole image to spec->width x spec->height (aspect ratio not kept),
 * normalised, HWC, in spec's channel order. out_hwc holds out_len floats, at least
 * width * height * channels. Returns MVRT_OK or a negative MVRT_E* code (nothing written). */
int mvrt_image_resize(const mvrt_image *src, const mvrt_input_spec *spec, float *out_hwc,
                      size_t out_len);

/* torchvision's Resize(resize_short) + CenterCrop((spec->height, spec->width)): the shorter
 * side is resized to resize_short (aspect ratio kept), then the centre spec->width x
 * spec->height window is taken (only that window is computed). The same output contract as
 * mvrt_image_resize; MVRT_ECROP when the crop does not fit the resized image. */
int mvrt_image_resize_crop(const mvrt_image *src, int32_t resize_short, const mvrt_input_spec *spec,
                           float *out_hwc, size_t out_len);

/* The geometry mvrt_image_resize_crop uses: the resized size (*resized_w, *resized_h) and the
 * crop's top-left corner (*crop_x, *crop_y) in the resized image. Useful to map boxes back to
 * the source. Returns MVRT_OK or MVRT_ENULL / _ESIZE / _ECROP. */
int mvrt_resize_crop_geometry(int32_t src_w, int32_t src_h, int32_t resize_short, int32_t crop_w,
                              int32_t crop_h, int32_t *resized_w, int32_t *resized_h,
                              int32_t *crop_x, int32_t *crop_y);

/* timm's evaluation resize size: floor(crop / crop_pct) computed in double as Python does
 * (mvrt_eval_resize_size(224, 0.875) == 256, (256, 0.9) == 284). Returns the size
 * (1..MVRT_IMAGE_MAX_SIDE), or MVRT_ESIZE / MVRT_EVALUE (crop_pct <= 0, NaN or infinite). */
int32_t mvrt_eval_resize_size(int32_t crop, double crop_pct);

#ifdef __cplusplus
}
#endif

#endif
