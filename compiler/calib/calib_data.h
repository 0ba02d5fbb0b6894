/* Calibration data for `mvitc compile --precision int8 --calib DATA`: an iterator that yields
 * the model's input images, one at a time, as normalised float NHWC (height, width, channels),
 * exactly what P_run takes. Nothing is held in memory beyond one source image, so any number
 * of images works; max_images caps how many (the first ones, in a deterministic order). */
#ifndef MVIT_CALIB_DATA_H
#define MVIT_CALIB_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/diag.h"
#include "../desc/desc.h"

/* DATA is one of (told apart by: directory, name ending in ".f32", anything else is IDX):
 *  - a directory of PNG images: the regular files named *.png (any case) in it, sorted by name
 *    with strcmp (byte order); other entries (other names, subdirectories, hidden files
 *    starting with '.') are ignored. Each PNG is decoded with libpng as 8-bit gray or RGB:
 *    palette expanded, 16-bit samples keep their high byte, alpha and tRNS ignored, no gamma
 *    correction (as PIL and torchvision.io do), then converted to the description's
 *    channel_order, resized to its height x width and normalised by its mean/std with
 *    runtime/mvrt_image.h's mvrt_image_resize (bilinear as F.interpolate, antialias=False;
 *    aspect ratio not kept; colour to gray is PIL's convert("L")). Needs a 1- or 3-channel
 *    model. Signatures and headers of all files used are checked by mvit_calib_open.
 *  - an IDX image file (*-idx3-ubyte, optionally gzip-compressed; zlib reads both): magic
 *    0x00000803, uint8 images [N][H][W], gray (replicated for 3-channel models), resized and
 *    normalised as above. mvit_calib_open reads it through once to check the size.
 *  - *.f32: raw float32 (host byte order, as numpy's tofile writes) images [N][H][W][C] of the
 *    model's input size, already normalised; N = file size / (H * W * C * 4). Any channel
 *    count. mvit_calib_open checks every value used is finite. */
typedef enum mvit_calib_kind {
    MVIT_CALIB_PNG_DIR, /* directory of *.png */
    MVIT_CALIB_IDX,     /* IDX uint8 images, raw or .gz */
    MVIT_CALIB_F32,     /* raw normalised float32 NHWC */
} mvit_calib_kind;

struct gzFile_s;

typedef struct mvit_calib_set {
    mvit_calib_kind kind;
    char *path;                  /* DATA as given, for messages */
    int height, width, channels; /* of every image yielded (the description's input) */
    int64_t count;               /* images yielded per pass: min(available, max_images) */
    int64_t next;                /* index of the next image to yield, 0..count */
    /* private */
    char **files;         /* PNG_DIR: count paths "DATA/name", sorted by name */
    struct gzFile_s *gz;  /* IDX: positioned at image `next` */
    FILE *f;              /* F32: positioned at image `next` */
    int32_t src_h, src_w; /* IDX: source image size */
    uint8_t *src;         /* IDX: one source image, src_h * src_w bytes */
    float mean[MVIT_MAX_INPUT_CHANNELS], std[MVIT_MAX_INPUT_CHANNELS];
    int format; /* mvrt_pixel_format of the output (PNG_DIR, IDX) */
} mvit_calib_set;

/* Opens DATA for the model described by d. max_images <= 0 means all. On failure returns a
 * negative MVIT_E* code, diag names the file (DATA, or the PNG inside it) and the problem, and
 * *out is closed (mvit_calib_close on it is still safe). */
int mvit_calib_open(const char *path, const mvit_model_desc *d, int64_t max_images,
                    mvit_calib_set *out, mvit_diag *diag);

/* Floats in one image: height * width * channels. */
size_t mvit_calib_image_floats(const mvit_calib_set *s);

/* Writes image s->next into out_nhwc (out_len floats, at least mvit_calib_image_floats) and
 * advances. Returns 1 when an image was written, 0 after the last one, or a negative MVIT_E*
 * code with diag naming the file (a PNG that fails to decode, a file changed since open). */
int mvit_calib_next(mvit_calib_set *s, float *out_nhwc, size_t out_len, mvit_diag *diag);

/* Starts again from the first image (for a calibration method that needs several passes). */
int mvit_calib_rewind(mvit_calib_set *s, mvit_diag *diag);

/* Frees everything; safe on a zeroed, failed or already closed set. */
void mvit_calib_close(mvit_calib_set *s);

// ---- progress line

/* "calibrating: 120/500 images" on f (stderr in mvitc). On a terminal the line is rewritten in
 * place with '\r' on every update; otherwise (logs, CI) a full line is written at each tenth
 * of total and at the end, so a log gets at most 11 lines. */
typedef struct mvit_progress {
    FILE *f;
    int tty;       /* set by mvit_progress_init from isatty(fileno(f)) */
    int64_t total; /* images in the run */
    int64_t shown; /* last count written (-1: none) */
} mvit_progress;

void mvit_progress_init(mvit_progress *p, FILE *f, int64_t total);
void mvit_progress_update(mvit_progress *p, int64_t done);
/* Ends the line (a newline on a terminal; the final count if not yet written). */
void mvit_progress_end(mvit_progress *p);

#endif
