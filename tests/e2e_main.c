/* End-to-end check of one generated model against PyTorch's golden logits.
 * Built by tests/e2e.sh together with a model generated with --name net.
 * Usage: e2e INPUT.f32 LOGITS.f32 REL_TOL
 *        e2e --preds INPUTS.f32 PREDS.u8 [LOGITS.f32]
 *        e2e --pixels IMAGES.u8 LOGITS.f32
 * Passes when max|ours - torch| <= REL_TOL * max|torch| and the top-1 class agrees, and the
 * 2-thread run (runtime/mvrt_pool) gives bit-identical logits. --preds writes the top-1 class
 * (and optionally the logits) of every image in INPUTS.f32 (the count follows from its size),
 * to compare targets (e.g. NEON under qemu against the generic build) on many real images.
 * --pixels runs net_run_u8 on raw 8-bit HWC images and net_run on the same pixels normalised
 * as runtime/mvrt_image does ((p / 255 - mean) / std in float); the logits must be identical
 * bytes, and are written out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mvrt_pool.h"
#include "net.h"

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    float *v = malloc(n * sizeof *v);
    size_t got = v ? fread(v, sizeof *v, n, f) : 0;
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) {
        fprintf(stderr, "%s: expected exactly %zu floats\n", path, n);
        free(v);
        return NULL;
    }
    return v;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static int write_preds(const char *inputs, const char *preds, const char *logits_path)
{
    const size_t in_n = (size_t)net_INPUT_HEIGHT * net_INPUT_WIDTH * net_INPUT_CHANNELS;
    FILE *f = fopen(inputs, "rb"), *o = fopen(preds, "wb");
    FILE *lf = logits_path ? fopen(logits_path, "wb") : NULL;
    if (logits_path && !lf) {
        perror(logits_path);
        return 1;
    }
    float *x = malloc(in_n * sizeof *x), logits[net_NUM_CLASSES];
    void *arena = aligned_alloc(64, (net_ARENA_BYTES + 63) / 64 * 64);
    if (!f || !o || !x || !arena) {
        perror("e2e --preds");
        return 1;
    }
    long images = 0;
    while (fread(x, sizeof *x, in_n, f) == in_n) {
        if (net_run(x, logits, arena) != 0)
            return 1;
        fputc(argmax(logits, net_NUM_CLASSES), o);
        if (lf && fwrite(logits, sizeof logits, 1, lf) != 1)
            return 1;
        images++;
    }
    printf("%ld predictions written to %s\n", images, preds);
    fclose(f);
    free(x);
    free(arena);
    if (lf && fclose(lf) != 0)
        return 1;
    return fclose(o) != 0 || images == 0;
}

static int check_pixels(const char *images, const char *logits_path)
{
    const size_t in_n = (size_t)net_INPUT_HEIGHT * net_INPUT_WIDTH * net_INPUT_CHANNELS;
    const float mean[] = net_INPUT_MEAN, std_[] = net_INPUT_STD;
    FILE *f = fopen(images, "rb"), *lf = fopen(logits_path, "wb");
    unsigned char *px = malloc(in_n);
    float *x = malloc(in_n * sizeof *x), a[net_NUM_CLASSES], b[net_NUM_CLASSES];
    void *arena = aligned_alloc(64, (net_ARENA_BYTES_U8 + 63) / 64 * 64);
    if (!f || !lf || !px || !x || !arena) {
        perror("e2e --pixels");
        return 1;
    }
    long images_done = 0, differ = 0;
    while (fread(px, 1, in_n, f) == in_n) {
        for (size_t i = 0; i < in_n; i++) {
            const int c = (int)(i % net_INPUT_CHANNELS);
            x[i] = ((float)px[i] / 255.0f - mean[c]) / std_[c];
        }
        if (net_run_u8(px, a, arena) != 0 || net_run(x, b, arena) != 0)
            return 1;
        differ += memcmp(a, b, sizeof a) != 0;
        if (fwrite(a, sizeof a, 1, lf) != 1)
            return 1;
        images_done++;
    }
    printf("%ld images: net_run_u8 and net_run on the normalised pixels differ on %ld\n",
           images_done, differ);
    fclose(f);
    free(px);
    free(x);
    free(arena);
    return fclose(lf) != 0 || images_done == 0 || differ != 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--pixels"))
        return check_pixels(argv[2], argv[3]);
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "--preds"))
        return write_preds(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (argc != 4) {
        fprintf(stderr, "usage: e2e INPUT.f32 LOGITS.f32 REL_TOL\n"
                        "       e2e --preds INPUTS.f32 PREDS.u8 [LOGITS.f32]\n"
                        "       e2e --pixels IMAGES.u8 LOGITS.f32\n");
        return 2;
    }
    const size_t in_n = (size_t)net_INPUT_HEIGHT * net_INPUT_WIDTH * net_INPUT_CHANNELS;
    float *input = read_f32(argv[1], in_n);
    float *want = read_f32(argv[2], net_NUM_CLASSES);
    float got[net_NUM_CLASSES];
    void *arena = aligned_alloc(64, (net_ARENA_BYTES + 63) / 64 * 64);
    if (!input || !want || !arena)
        return 1;
    if (net_run(input, got, arena) != 0) {
        fprintf(stderr, "run failed\n");
        return 1;
    }
    double max_ref = 0, max_diff = 0;
    for (int i = 0; i < net_NUM_CLASSES; i++) {
        max_ref = fmax(max_ref, fabs(want[i]));
        max_diff = fmax(max_diff, fabs((double)got[i] - want[i]));
    }
    double tol = atof(argv[3]) * max_ref;
    int top_ok = argmax(got, net_NUM_CLASSES) == argmax(want, net_NUM_CLASSES);
    printf("max|logit| %.6g  max|diff| %.3g  (%.3g x max|logit|, limit %g)  top-1 %d vs %d\n",
           max_ref, max_diff, max_diff / max_ref, atof(argv[3]), argmax(got, net_NUM_CLASSES),
           argmax(want, net_NUM_CLASSES));
    /* splitting layers into tasks must not change a single bit */
    float par_out[net_NUM_CLASSES];
    mvrt_pool pool;
    int par_ok = mvrt_pool_init(&pool, 2) == 0;
    net_parallel par = {mvrt_pool_parallel_for, &pool};
    par_ok = par_ok && net_run_parallel(input, par_out, arena, &par) == 0 &&
             memcmp(par_out, got, sizeof got) == 0;
    mvrt_pool_destroy(&pool);
    printf("2 threads: %s\n", par_ok ? "bit-identical to 1 thread" : "DIFFERENT from 1 thread");
    free(input);
    free(want);
    free(arena);
    return (max_diff <= tol && top_ok && par_ok) ? 0 : 1;
}
