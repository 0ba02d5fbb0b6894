/* Calibration data reader (see calib_data.h): PNG directories (libpng), IDX image files (zlib,
 * raw or gzip) and raw normalised float32 files, yielded one image at a time as the model's
 * float NHWC input. Resizing and normalisation are runtime/mvrt_image.c's, compiled into
 * mvitc_core, so calibration sees the same numbers an app using mvrt_image feeds P_run. */
#define _POSIX_C_SOURCE 200809L /* opendir, fileno, isatty, fseeko */

#include "calib_data.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../runtime/mvrt_image.h"

/* Largest source image accepted (pixels): refuses decompression bombs cleanly. */
#define MAX_SRC_PIXELS ((uint64_t)1 << 28)

static const char *const kinds_hint =
    "calibration data is a directory of PNG images, an IDX image file (*-idx3-ubyte[.gz]) "
    "or raw float32 images (*.f32)";

size_t mvit_calib_image_floats(const mvit_calib_set *s)
{
    return (size_t)s->height * (size_t)s->width * (size_t)s->channels;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* The output spec shared by PNG and IDX: the description's size, order, mean and std. */
static int resize_into(const mvit_calib_set *s, const uint8_t *px, int32_t w, int32_t h,
                       size_t stride, mvrt_pixel_format fmt, float *out, size_t out_len,
                       const char *file, mvit_diag *diag)
{
    mvrt_image img = {px, w, h, stride, fmt};
    mvrt_input_spec spec = {s->width, s->height, (mvrt_pixel_format)s->format, s->mean, s->std};
    int rc = mvrt_image_resize(&img, &spec, out, out_len);
    if (rc != MVRT_OK)
        return mvit_diag_at(diag, MVIT_EINVAL, file, 0, 0, "cannot resize %dx%d image to %dx%d: %s",
                            (int)w, (int)h, s->width, s->height, mvrt_error_string(rc));
    return 0;
}

// ---- PNG

typedef struct png_job {
    FILE *f;
    png_structp png;
    png_infop info;
    char msg[256];   /* libpng's error text */
    int header_only; /* stop after IHDR */
    uint32_t w, h;
    int too_large;
    int gray; /* decoded as 1 channel (else RGB) */
    size_t rowbytes;
    uint8_t *px;
    png_bytep *rows;
} png_job;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_job *j = png_get_error_ptr(png);
    snprintf(j->msg, sizeof j->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Everything between setjmp and longjmp lives in *j (not in this frame's locals), so it is
 * well defined after an error; the caller frees it. */
static int png_decode_guarded(png_job *j)
{
    if (setjmp(png_jmpbuf(j->png)))
        return -1;
    png_init_io(j->png, j->f);
    png_set_sig_bytes(j->png, 8);
    png_read_info(j->png, j->info);
    j->w = png_get_image_width(j->png, j->info);
    j->h = png_get_image_height(j->png, j->info);
    if (j->w > MVRT_IMAGE_MAX_SIDE || j->h > MVRT_IMAGE_MAX_SIDE ||
        (uint64_t)j->w * j->h > MAX_SRC_PIXELS) {
        j->too_large = 1;
        return -1;
    }
    if (j->header_only)
        return 0;
    int ct = png_get_color_type(j->png, j->info), bd = png_get_bit_depth(j->png, j->info);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(j->png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8)
        png_set_expand_gray_1_2_4_to_8(j->png);
    if (bd == 16)
        png_set_strip_16(j->png);
    if (ct & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(j->png);
    png_set_interlace_handling(j->png);
    png_read_update_info(j->png, j->info);
    int ch = png_get_channels(j->png, j->info);
    if (ch != 1 && ch != 3) {
        snprintf(j->msg, sizeof j->msg, "unexpected %d channels after decoding", ch);
        return -1;
    }
    j->gray = ch == 1;
    j->rowbytes = png_get_rowbytes(j->png, j->info);
    j->px = mvit_xmalloc(j->rowbytes * j->h);
    j->rows = mvit_xmalloc(sizeof *j->rows * j->h);
    for (uint32_t y = 0; y < j->h; y++)
        j->rows[y] = j->px + (size_t)y * j->rowbytes;
    png_read_image(j->png, j->rows);
    png_read_end(j->png, NULL);
    return 0;
}

static void png_job_free(png_job *j)
{
    if (j->png)
        png_destroy_read_struct(&j->png, &j->info, NULL);
    if (j->f)
        fclose(j->f);
    free(j->rows);
    free(j->px);
    j->f = NULL;
    j->rows = NULL;
    j->px = NULL;
}

/* Opens and decodes file (only its header when header_only); errors name file. */
static int png_read(const char *file, int header_only, png_job *j, mvit_diag *diag)
{
    memset(j, 0, sizeof *j);
    j->header_only = header_only;
    j->f = fopen(file, "rb");
    if (!j->f)
        return mvit_diag_at(diag, MVIT_EIO, file, 0, 0, "cannot open: %s", strerror(errno));
    unsigned char sig[8];
    size_t got = fread(sig, 1, sizeof sig, j->f);
    if (got < sizeof sig || png_sig_cmp(sig, 0, sizeof sig)) {
        png_job_free(j);
        return mvit_diag_at(diag, MVIT_EPARSE, file, 0, 0, "not a PNG file (%s)",
                            got == 0 ? "empty" : "bad signature");
    }
    j->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, png_on_error, png_on_warning);
    if (j->png)
        j->info = png_create_info_struct(j->png);
    if (!j->png || !j->info) {
        png_job_free(j);
        return mvit_diag_at(diag, MVIT_ENOMEM, file, 0, 0, "cannot set up libpng");
    }
    if (png_decode_guarded(j) < 0) {
        int rc;
        if (j->too_large)
            rc = mvit_diag_at(diag, MVIT_EINVAL, file, 0, 0,
                              "PNG image is %ux%u, too large (at most %d per side and %llu pixels)",
                              j->w, j->h, MVRT_IMAGE_MAX_SIDE, (unsigned long long)MAX_SRC_PIXELS);
        else
            rc = mvit_diag_at(diag, MVIT_EPARSE, file, 0, 0, "cannot decode PNG: %s", j->msg);
        png_job_free(j);
        return rc;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int open_png_dir(mvit_calib_set *s, int64_t max_images, mvit_diag *diag)
{
    DIR *dir = opendir(s->path);
    if (!dir)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0, "cannot open directory: %s",
                            strerror(errno));
    size_t n = 0, cap = 0, entries = 0;
    char **names = NULL;
    const char *sep = s->path[0] && s->path[strlen(s->path) - 1] == '/' ? "" : "/";
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        entries++;
        if (e->d_name[0] == '.' || !ends_with_ci(e->d_name, ".png"))
            continue;
        size_t len = strlen(s->path) + strlen(sep) + strlen(e->d_name) + 1;
        char *full = mvit_xmalloc(len);
        snprintf(full, len, "%s%s%s", s->path, sep, e->d_name);
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = mvit_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = full;
    }
    closedir(dir);
    /* sorting the full paths sorts the names: they share the prefix */
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    s->files = names;
    s->count = (int64_t)n;
    if (entries == 0)
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                            "empty directory; expected PNG images (*.png)");
    if (n == 0)
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                            "no PNG images (*.png) in the directory (%zu other entr%s)", entries,
                            entries == 1 ? "y" : "ies");
    if (max_images > 0 && s->count > max_images) {
        for (size_t i = (size_t)max_images; i < n; i++)
            free(names[i]);
        s->count = max_images;
    }
    /* fail before any calibration work on a file that is not a PNG at all */
    for (int64_t i = 0; i < s->count; i++) {
        png_job j;
        int rc = png_read(s->files[i], 1, &j, diag);
        if (rc < 0)
            return rc;
        png_job_free(&j);
    }
    return 0;
}

static int next_png(mvit_calib_set *s, float *out, size_t out_len, mvit_diag *diag)
{
    const char *file = s->files[s->next];
    png_job j;
    int rc = png_read(file, 0, &j, diag);
    if (rc < 0)
        return rc;
    rc = resize_into(s, j.px, (int32_t)j.w, (int32_t)j.h, j.rowbytes,
                     j.gray ? MVRT_PIXEL_GRAY : MVRT_PIXEL_RGB, out, out_len, file, diag);
    png_job_free(&j);
    return rc;
}

// ---- IDX

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads up to n bytes; returns the count, or -1 on a zlib error (message in diag). */
static int64_t gz_read_n(mvit_calib_set *s, uint8_t *buf, size_t n, mvit_diag *diag)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done > (1u << 30) ? (1u << 30) : n - done;
        int got = gzread(s->gz, buf + done, (unsigned)want);
        if (got < 0) {
            int err;
            mvit_diag_at(diag, MVIT_EPARSE, s->path, 0, 0, "corrupt or truncated gzip data (%s)",
                         gzerror(s->gz, &err));
            return -1;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (int64_t)done;
}

static int open_idx(mvit_calib_set *s, int64_t max_images, mvit_diag *diag)
{
    s->gz = gzopen(s->path, "rb");
    if (!s->gz)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0, "cannot open: %s", strerror(errno));
    uint8_t hdr[16];
    int64_t got = gz_read_n(s, hdr, sizeof hdr, diag);
    if (got < 0)
        return MVIT_EPARSE;
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got >= 8 && !memcmp(hdr, png_sig, 8))
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                            "is a single PNG image; --calib takes a directory of PNG images");
    if (got < 4 || be32(hdr) != 0x803u)
        return mvit_diag_at(diag, MVIT_EPARSE, s->path, 0, 0,
                            "not an IDX image file (magic 0x%08x, expected 0x00000803); %s",
                            got >= 4 ? be32(hdr) : 0u, kinds_hint);
    if (got < 16)
        return mvit_diag_at(diag, MVIT_EPARSE, s->path, 0, 0,
                            "truncated IDX header (%lld of 16 bytes)", (long long)got);
    uint32_t n = be32(hdr + 4), h = be32(hdr + 8), w = be32(hdr + 12);
    if (n == 0)
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0, "IDX file holds no images");
    if (h == 0 || w == 0 || h > MVRT_IMAGE_MAX_SIDE || w > MVRT_IMAGE_MAX_SIDE ||
        (uint64_t)h * w > MAX_SRC_PIXELS)
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0, "IDX image size %ux%u out of range",
                            w, h);
    /* read it through once: a truncated file fails now, not halfway through calibration */
    uint64_t want = (uint64_t)n * h * w, have = 0;
    uint8_t *chunk = mvit_xmalloc((size_t)1 << 16);
    for (;;) {
        int64_t c = gz_read_n(s, chunk, (size_t)1 << 16, diag);
        if (c < 0) {
            free(chunk);
            return MVIT_EPARSE;
        }
        if (c == 0)
            break;
        have += (uint64_t)c;
    }
    free(chunk);
    if (have != want)
        return mvit_diag_at(diag, MVIT_EPARSE, s->path, 0, 0,
                            "%s IDX data: header says %u images of %ux%u (%llu bytes), the file "
                            "holds %llu bytes",
                            have < want ? "truncated" : "trailing bytes after the", n, w, h,
                            (unsigned long long)want, (unsigned long long)have);
    s->src_h = (int32_t)h;
    s->src_w = (int32_t)w;
    s->src = mvit_xmalloc((size_t)h * w);
    s->count = max_images > 0 && (int64_t)n > max_images ? max_images : (int64_t)n;
    return mvit_calib_rewind(s, diag);
}

static int next_idx(mvit_calib_set *s, float *out, size_t out_len, mvit_diag *diag)
{
    size_t bytes = (size_t)s->src_h * (size_t)s->src_w;
    int64_t got = gz_read_n(s, s->src, bytes, diag);
    if (got < 0)
        return MVIT_EPARSE;
    if ((size_t)got != bytes)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0,
                            "image %lld: file ended early (changed since it was opened?)",
                            (long long)s->next);
    return resize_into(s, s->src, s->src_w, s->src_h, (size_t)s->src_w, MVRT_PIXEL_GRAY, out,
                       out_len, s->path, diag);
}

// ---- raw float32

/* Reads image `index` from the current position into out and checks every value is finite. */
static int read_f32_image(mvit_calib_set *s, int64_t index, float *out, mvit_diag *diag)
{
    size_t n = mvit_calib_image_floats(s);
    if (fread(out, sizeof *out, n, s->f) != n)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0,
                            "image %lld: read failed or file ended early (changed since it was "
                            "opened?)",
                            (long long)index);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            size_t c = i % (size_t)s->channels, x = i / (size_t)s->channels % (size_t)s->width,
                   y = i / (size_t)s->channels / (size_t)s->width;
            return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                                "image %lld holds %s at (y %zu, x %zu, c %zu); .f32 data must be "
                                "normalised model inputs",
                                (long long)index, isnan(out[i]) ? "NaN" : "an infinity", y, x, c);
        }
    }
    return 0;
}

static int open_f32(mvit_calib_set *s, int64_t max_images, mvit_diag *diag)
{
    s->f = fopen(s->path, "rb");
    if (!s->f)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode))
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0, "not a regular file");
    size_t per = mvit_calib_image_floats(s) * sizeof(float);
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0 || size % per)
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                            "file size %llu is not a multiple of %zu bytes (one %dx%dx%d float32 "
                            "NHWC image)%s",
                            (unsigned long long)size, per, s->height, s->width, s->channels,
                            size == 0 ? "; the file is empty" : "");
    int64_t n = (int64_t)(size / per);
    s->count = max_images > 0 && n > max_images ? max_images : n;
    /* check every value used now, before any calibration work */
    float *img = mvit_xmalloc(per);
    int rc = 0;
    for (int64_t i = 0; i < s->count && rc == 0; i++)
        rc = read_f32_image(s, i, img, diag);
    free(img);
    return rc < 0 ? rc : mvit_calib_rewind(s, diag);
}

// ---- the iterator

int mvit_calib_open(const char *path, const mvit_model_desc *d, int64_t max_images,
                    mvit_calib_set *out, mvit_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->path = mvit_xstrdup(path);
    out->height = d->height;
    out->width = d->width;
    out->channels = d->channels;
    for (int c = 0; c < d->channels && c < MVIT_MAX_INPUT_CHANNELS; c++) {
        out->mean[c] = d->mean[c];
        out->std[c] = d->std[c];
    }
    out->format = mvrt_pixel_format_from_order(d->channel_order);
    int rc;
    struct stat st;
    if (stat(path, &st) != 0) {
        rc = mvit_diag_at(diag, MVIT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    } else if (S_ISDIR(st.st_mode) || ends_with_ci(path, ".f32") == 0) {
        /* PNG and IDX images are converted by mvrt_image: 1 (gray) or 3 (rgb, bgr) channels */
        out->kind = S_ISDIR(st.st_mode) ? MVIT_CALIB_PNG_DIR : MVIT_CALIB_IDX;
        if (out->format < 0 || mvrt_pixel_format_channels(out->format) != d->channels)
            rc = mvit_diag_at(diag, MVIT_EUNSUPPORTED, path, 0, 0,
                              "%s calibration images need a 1-channel gray or 3-channel rgb/bgr "
                              "model; this one has %d channels (%s): give normalised .f32 data",
                              out->kind == MVIT_CALIB_PNG_DIR ? "PNG" : "IDX", d->channels,
                              d->channel_order);
        else if (out->kind == MVIT_CALIB_PNG_DIR)
            rc = open_png_dir(out, max_images, diag);
        else
            rc = open_idx(out, max_images, diag);
    } else {
        out->kind = MVIT_CALIB_F32;
        rc = open_f32(out, max_images, diag);
    }
    if (rc < 0)
        mvit_calib_close(out);
    return rc;
}

int mvit_calib_next(mvit_calib_set *s, float *out_nhwc, size_t out_len, mvit_diag *diag)
{
    if (s->next >= s->count)
        return 0;
    if (out_len < mvit_calib_image_floats(s))
        return mvit_diag_at(diag, MVIT_EINVAL, s->path, 0, 0,
                            "output buffer holds %zu floats, an image needs %zu", out_len,
                            mvit_calib_image_floats(s));
    int rc;
    switch (s->kind) {
    case MVIT_CALIB_PNG_DIR:
        rc = next_png(s, out_nhwc, out_len, diag);
        break;
    case MVIT_CALIB_IDX:
        rc = next_idx(s, out_nhwc, out_len, diag);
        break;
    default:
        rc = read_f32_image(s, s->next, out_nhwc, diag);
        break;
    }
    if (rc < 0)
        return rc;
    s->next++;
    return 1;
}

int mvit_calib_rewind(mvit_calib_set *s, mvit_diag *diag)
{
    s->next = 0;
    if (s->kind == MVIT_CALIB_IDX && s->gz && gzseek(s->gz, 16, SEEK_SET) != 16)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0, "cannot seek back to the first image");
    if (s->kind == MVIT_CALIB_F32 && s->f && fseeko(s->f, 0, SEEK_SET) != 0)
        return mvit_diag_at(diag, MVIT_EIO, s->path, 0, 0,
                            "cannot seek back to the first image: %s", strerror(errno));
    return 0;
}

void mvit_calib_close(mvit_calib_set *s)
{
    if (s->files)
        for (int64_t i = 0; i < s->count; i++)
            free(s->files[i]);
    free(s->files);
    if (s->gz)
        gzclose(s->gz);
    if (s->f)
        fclose(s->f);
    free(s->src);
    free(s->path);
    s->files = NULL;
    s->gz = NULL;
    s->f = NULL;
    s->src = NULL;
    s->path = NULL;
    s->count = s->next = 0;
}

// ---- progress line

void mvit_progress_init(mvit_progress *p, FILE *f, int64_t total)
{
    p->f = f;
    p->tty = isatty(fileno(f));
    p->total = total;
    p->shown = -1;
}

static void progress_write(mvit_progress *p, int64_t done)
{
    fprintf(p->f, "%scalibrating: %lld/%lld images%s", p->tty ? "\r" : "", (long long)done,
            (long long)p->total, p->tty ? "" : "\n");
    fflush(p->f);
    p->shown = done;
}

void mvit_progress_update(mvit_progress *p, int64_t done)
{
    if (done == p->shown)
        return;
    if (p->tty) {
        progress_write(p, done);
        return;
    }
    /* a line each time done enters a new tenth of total (and at the end) */
    int64_t t = p->total > 0 ? p->total : 1;
    if (p->shown < 0 || done >= t || done * 10 / t != p->shown * 10 / t)
        progress_write(p, done);
}

void mvit_progress_end(mvit_progress *p)
{
    if (p->shown != p->total)
        progress_write(p, p->total);
    if (p->tty) {
        fputc('\n', p->f);
        fflush(p->f);
    }
}
