/* Fashion-MNIST classifier built on a generated model: fmnist_xxs, or the one named by
 * -DMVIT_MODEL=NAME (e.g. fmnist_v2_050), whose NAME.h is on the include path.
 *   classify IMAGE.png                         top-3 classes of one 28x28 image
 *   classify --eval IMAGES LABELS [options]    accuracy + median latency over an IDX set
 * Preprocessing is the training script's (tools/train_fmnist.py): pixel / 255, bilinear resize
 * 28x28 -> model size (PyTorch F.interpolate, align_corners=False), then (x - mean) / std from
 * the model header, done by runtime/mvrt_image; top-k, softmax and the latency clock come from
 * runtime/ too. The generated code never allocates: the arena is on the stack (--arena stack)
 * or the heap (--arena heap, the default). */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifndef MVIT_MODEL
#define MVIT_MODEL fmnist_xxs
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)
/* SYM(_run) is fmnist_xxs_run for the default model */
#define SYM(suffix) CAT(MVIT_MODEL, suffix)
#include STR(MVIT_MODEL.h)
#include "mvrt_image.h"
#include "mvrt_time.h"
#include "mvrt_topk.h"

#ifndef MVIT_TARGET_NAME
#define MVIT_TARGET_NAME "unknown"
#endif

#define SRC 28 /* Fashion-MNIST images are 28x28 grayscale */
#define IN_H SYM(_INPUT_HEIGHT)
#define IN_W SYM(_INPUT_WIDTH)
#define CLASSES SYM(_NUM_CLASSES)

static const char *const class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

_Static_assert(SYM(_INPUT_CHANNELS) == 1, "the classifier feeds grayscale images");
_Static_assert(CLASSES == 10, "Fashion-MNIST has 10 classes");

// ---- preprocessing

static void preprocess(const uint8_t *px, float *out)
{
    static const float mean[] = SYM(_INPUT_MEAN), std_[] = SYM(_INPUT_STD);
    const mvrt_image img = {px, SRC, SRC, SRC, MVRT_PIXEL_GRAY};
    const mvrt_input_spec spec = {IN_W, IN_H, MVRT_PIXEL_GRAY, mean, std_};
    const int rc = mvrt_image_resize(&img, &spec, out, (size_t)IN_H * IN_W);
    assert(rc == MVRT_OK); /* every argument is a constant checked here */
    (void)rc;
}

// ---- input files

static int fail(const char *path, const char *fmt, const char *detail)
{
    fprintf(stderr, "classify: error: %s: ", path);
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n");
    return -1;
}

/* Largest decompressed input accepted: far above any IDX set (Fashion-MNIST's training
 * images are 47 MB), low enough that a gzip bomb fails cleanly instead of exhausting memory. */
#define MAX_INPUT_BYTES ((size_t)512 << 20)

/* Reads a whole (optionally gzip-compressed) file; zlib reads plain files transparently. */
static int read_gz(const char *path, uint8_t **data, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return fail(path, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            gzclose(f);
            return fail(path, "%s", "out of memory");
        }
        if (n == cap) {
            if (cap >= MAX_INPUT_BYTES) {
                gzclose(f);
                free(buf);
                return fail(path, "%s", "more than 512 MiB of data (decompressed)");
            }
            cap *= 2;
            uint8_t *grown = realloc(buf, cap);
            if (!grown)
                free(buf);
            buf = grown;
            continue;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (got < 0) {
            /* gzerror's text belongs to f: copy it before gzclose frees it */
            char msg[128];
            int err;
            snprintf(msg, sizeof msg, "%s", gzerror(f, &err));
            gzclose(f);
            free(buf);
            return fail(path, "corrupt or truncated gzip data (%s)", msg);
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(f);
    *data = buf;
    *len = n;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IDX (http://yann.lecun.com/exdb/mnist/ format): magic 0x0000080N (ubyte, N dims), N
 * big-endian u32 dims, then the bytes. Checks magic, dims and exact size. */
static int read_idx(const char *path, int want_ndim, uint8_t **data, size_t *count)
{
    uint8_t *buf;
    size_t len;
    if (read_gz(path, &buf, &len) < 0)
        return -1;
    char detail[160];
    if (len < 4 || be32(buf) != (0x800u | (uint32_t)want_ndim)) {
        snprintf(detail, sizeof detail, "0x%08x", len >= 4 ? be32(buf) : 0u);
        free(buf);
        return fail(path, want_ndim == 3 ? "not an IDX image file (magic %s, expected 0x00000803)"
                                         : "not an IDX label file (magic %s, expected 0x00000801)",
                    detail);
    }
    size_t header = 4 + 4 * (size_t)want_ndim;
    if (len < header) {
        free(buf);
        return fail(path, "truncated IDX header%s", "");
    }
    uint32_t n = be32(buf + 4);
    if (want_ndim == 3 && (be32(buf + 8) != SRC || be32(buf + 12) != SRC)) {
        snprintf(detail, sizeof detail, "%ux%u", be32(buf + 8), be32(buf + 12));
        free(buf);
        return fail(path, "images are %s, expected 28x28", detail);
    }
    size_t per = want_ndim == 3 ? SRC * SRC : 1;
    if ((len - header) / per != n || (len - header) % per) {
        snprintf(detail, sizeof detail, "header says %u items, data holds %zu bytes (%s)", n,
                 len - header, (len - header) < (size_t)n * per ? "truncated" : "trailing bytes");
        free(buf);
        return fail(path, "%s", detail);
    }
    memmove(buf, buf + header, len - header);
    *data = buf;
    *count = n;
    return 0;
}

static int read_png(const char *path, uint8_t *px)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return fail(path, "cannot read PNG: %s", img.message);
    if (img.width != SRC || img.height != SRC) {
        char detail[64];
        snprintf(detail, sizeof detail, "%ux%u", img.width, img.height);
        png_image_free(&img);
        return fail(path, "image is %s, expected a 28x28 Fashion-MNIST-style image", detail);
    }
    img.format = PNG_FORMAT_GRAY; /* libpng converts colour to gray (sRGB luminance) */
    if (!png_image_finish_read(&img, NULL, px, 0, NULL))
        return fail(path, "cannot decode PNG: %s", img.message);
    return 0;
}

// ---- running

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int classify_one(const char *png, void *arena)
{
    uint8_t px[SRC * SRC];
    static float input[IN_H * IN_W];
    float logits[CLASSES], prob[CLASSES];
    if (read_png(png, px) < 0)
        return 1;
    preprocess(px, input);
    if (SYM(_run)(input, logits, arena) != 0)
        return fail(png, "model run failed%s", ""), 1;
    int64_t idx[3];
    mvrt_softmax(logits, CLASSES, prob);
    mvrt_topk(logits, CLASSES, 3, idx, NULL);
    printf("%s:\n", png);
    for (int i = 0; i < 3; i++)
        printf("  %d. %-12s %6.2f%%  (logit %.4f)\n", i + 1, class_names[idx[i]],
               100.0 * prob[idx[i]], logits[idx[i]]);
    return 0;
}

typedef struct eval_options {
    const char *images, *labels, *compare;
    const char *save_preds; /* writes each image's top-1 class as one byte */
    long limit;
    double min_agreement;   /* percent, < 0 = no check */
    double max_acc_delta;   /* points vs the reference predictions' accuracy, < 0 = no check */
} eval_options;

static int evaluate(const eval_options *o, void *arena)
{
    uint8_t *images = NULL, *labels = NULL, *ref = NULL;
    size_t n_img, n_lab, n_ref = 0;
    int rc = 1;
    if (read_idx(o->images, 3, &images, &n_img) < 0 || read_idx(o->labels, 1, &labels, &n_lab) < 0)
        goto done;
    if (n_img != n_lab) {
        fprintf(stderr, "classify: error: %s has %zu images but %s has %zu labels\n", o->images,
                n_img, o->labels, n_lab);
        goto done;
    }
    if (o->compare) {
        size_t len;
        FILE *f = fopen(o->compare, "rb");
        if (!f) {
            fail(o->compare, "cannot open: %s", strerror(errno));
            goto done;
        }
        ref = malloc(n_img + 1);
        len = fread(ref, 1, n_img + 1, f);
        fclose(f);
        if (len != n_img) {
            fprintf(stderr, "classify: error: %s holds %s%zu predictions, expected %zu\n",
                    o->compare, len > n_img ? "more than " : "", len > n_img ? n_img : len, n_img);
            goto done;
        }
        n_ref = len;
    }
    size_t n = o->limit > 0 && (size_t)o->limit < n_img ? (size_t)o->limit : n_img;
    double *ms = malloc(n * sizeof *ms);
    uint8_t *preds = malloc(n);
    static float input[IN_H * IN_W];
    size_t correct = 0, agree = 0, ref_correct = 0;
    for (size_t i = 0; i < n; i++) {
        float logits[CLASSES];
        int64_t top;
        if (labels[i] >= CLASSES) {
            fprintf(stderr, "classify: error: %s: label %u of image %zu is not a class 0..9\n",
                    o->labels, labels[i], i);
            free(ms);
            free(preds);
            goto done;
        }
        preprocess(images + i * SRC * SRC, input);
        const uint64_t t0 = mvrt_time_ns();
        SYM(_run)(input, logits, arena);
        ms[i] = (double)(mvrt_time_ns() - t0) / 1e6;
        mvrt_topk(logits, CLASSES, 1, &top, NULL);
        preds[i] = (uint8_t)top;
        correct += top == labels[i];
        if (n_ref) {
            agree += top == ref[i];
            ref_correct += ref[i] == labels[i];
        }
    }
    qsort(ms, n, sizeof *ms, cmp_double);
    double acc = 100.0 * correct / n;
    printf("images: %zu\n", n);
    printf("top-1 accuracy: %.2f%% (%zu/%zu)\n", acc, correct, n);
    printf("median latency: %.3f ms/image (mvitc target %s, one thread, preprocessing "
           "excluded)\n",
           ms[n / 2], MVIT_TARGET_NAME);
    free(ms);
    rc = 0;
    if (o->save_preds) {
        FILE *f = fopen(o->save_preds, "wb");
        if (!f || fwrite(preds, 1, n, f) != n || fclose(f) != 0) {
            fail(o->save_preds, "cannot write: %s", strerror(errno));
            rc = 1;
        }
    }
    free(preds);
    if (n_ref) {
        double ag = 100.0 * agree / n, ref_acc = 100.0 * ref_correct / n;
        printf("reference (%s) top-1 on the same images: %.2f%%, delta %+.2f points\n",
               o->compare, ref_acc, acc - ref_acc);
        printf("same top-1 as the reference: %.2f%% (%zu/%zu)\n", ag, agree, n);
        if (o->min_agreement >= 0 && ag < o->min_agreement) {
            fprintf(stderr, "classify: FAIL: agreement %.2f%% < %.2f%%\n", ag, o->min_agreement);
            rc = 1;
        }
        if (o->max_acc_delta >= 0 && (acc - ref_acc > o->max_acc_delta ||
                                      ref_acc - acc > o->max_acc_delta)) {
            fprintf(stderr, "classify: FAIL: accuracy differs from the reference by more than "
                            "%.2f points\n", o->max_acc_delta);
            rc = 1;
        }
    }
done:
    free(images);
    free(labels);
    free(ref);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: classify [--arena stack|heap] IMAGE.png...\n"
               "       classify [--arena stack|heap] --eval IMAGES LABELS [--limit N]\n"
               "                [--compare PREDS.u8 [--min-agreement PCT] [--max-delta POINTS]]\n"
               "                [--save-preds PREDS.u8]\n"
               "IMAGES/LABELS: IDX files (optionally .gz), e.g.\n"
               "  /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\n");
}

static int run_with_stack_arena(int (*job)(void *ctx, void *arena), void *ctx)
{
    _Alignas(64) unsigned char arena[SYM(_ARENA_BYTES)];
    return job(ctx, arena);
}

typedef struct job_ctx {
    int eval;
    eval_options eo;
    char **pngs;
    int npngs;
} job_ctx;

static int job(void *p, void *arena)
{
    job_ctx *c = p;
    if (c->eval)
        return evaluate(&c->eo, arena);
    int rc = 0;
    for (int i = 0; i < c->npngs; i++)
        rc |= classify_one(c->pngs[i], arena);
    return rc;
}

int main(int argc, char **argv)
{
    job_ctx c = {0};
    c.eo.min_agreement = c.eo.max_acc_delta = -1;
    int stack = 0;
    c.pngs = calloc((size_t)argc, sizeof *c.pngs);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--eval") && i + 2 < argc) {
            c.eval = 1;
            c.eo.images = argv[++i];
            c.eo.labels = argv[++i];
        } else if (!strcmp(a, "--compare") && more) {
            c.eo.compare = argv[++i];
        } else if (!strcmp(a, "--save-preds") && more) {
            c.eo.save_preds = argv[++i];
        } else if (!strcmp(a, "--limit") && more) {
            c.eo.limit = atol(argv[++i]);
        } else if (!strcmp(a, "--min-agreement") && more) {
            c.eo.min_agreement = atof(argv[++i]);
        } else if (!strcmp(a, "--max-delta") && more) {
            c.eo.max_acc_delta = atof(argv[++i]);
        } else if (!strcmp(a, "--arena") && more) {
            const char *v = argv[++i];
            if (strcmp(v, "stack") && strcmp(v, "heap")) {
                usage(stderr);
                return 2;
            }
            stack = !strcmp(v, "stack");
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "classify: error: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            c.pngs[c.npngs++] = argv[i];
        }
    }
    if (!c.eval && !c.npngs) {
        usage(stderr);
        return 2;
    }
    int rc;
    if (stack) {
        rc = run_with_stack_arena(job, &c);
    } else {
        void *arena = aligned_alloc(64, (SYM(_ARENA_BYTES) + 63) / 64 * 64);
        rc = arena ? job(&c, arena) : 1;
        free(arena);
    }
    free(c.pngs);
    return rc;
}
