/* mvex_classifier: one model instance = one heap block (struct, input buffer, arena) plus an
 * optional thread pool; see mvex_classifier.h. The generated code itself never allocates. */
#define _POSIX_C_SOURCE 200809L /* posix_memalign (bionic since API 16, Darwin, glibc) */
#include "mvex_classifier.h"

#include <stdlib.h>
#include <string.h>

#ifndef MVEX_USE_POOL
#define MVEX_USE_POOL 1
#endif
#if MVEX_USE_POOL
#include "mvrt_pool.h"
#endif

#define ARENA_BYTES ((size_t)MVEX_SYM(_ARENA_BYTES))
#define MAX_TASKS MVEX_SYM(_MAX_TASKS)

struct mvex_classifier {
    void *arena;                   /* ARENA_BYTES, 64-byte aligned, inside this block */
    float input[MVEX_INPUT_ELEMS]; /* HWC */
    MVEX_SYM(_parallel) par;       /* parallel_for == NULL: calling thread only */
    int threads;
#if MVEX_USE_POOL
    mvrt_pool pool;
#endif
};

/* the arena follows the struct, rounded up to 64 bytes */
#define ARENA_OFFSET ((sizeof(mvex_classifier) + 63) & ~(size_t)63)

mvex_classifier *mvex_classifier_create(int threads)
{
    void *block = NULL;
    if (posix_memalign(&block, 64, ARENA_OFFSET + ARENA_BYTES) != 0)
        return NULL;
    mvex_classifier *c = block;
    memset(c, 0, sizeof *c);
    c->arena = (char *)block + ARENA_OFFSET;
    c->threads = 1;
    if (threads > MAX_TASKS)
        threads = MAX_TASKS; /* a layer never has more tasks than this */
#if MVEX_USE_POOL
    if (threads > 1 && mvrt_pool_init(&c->pool, threads) == 0) {
        c->threads = c->pool.threads;
        c->par.parallel_for = mvrt_pool_parallel_for;
        c->par.user = &c->pool;
    }
#endif
    return c;
}

void mvex_classifier_destroy(mvex_classifier *c)
{
    if (!c)
        return;
#if MVEX_USE_POOL
    if (c->par.parallel_for)
        mvrt_pool_destroy(&c->pool);
#endif
    free(c);
}

int mvex_classifier_threads(const mvex_classifier *c)
{
    return c ? c->threads : 0;
}

float *mvex_classifier_input(mvex_classifier *c)
{
    return c ? c->input : NULL;
}

int mvex_classifier_run(mvex_classifier *c, const float *hwc, float *logits)
{
    if (!c || !hwc || !logits)
        return -1;
    return MVEX_SYM(_run_parallel)(hwc, logits, c->arena, &c->par);
}

void mvex_normalize_u8(const uint8_t *hwc_u8, float *hwc)
{
    static const float mean[MVEX_INPUT_CHANNELS] = MVEX_SYM(_INPUT_MEAN);
    static const float std_[MVEX_INPUT_CHANNELS] = MVEX_SYM(_INPUT_STD);
    for (int64_t i = 0; i < (int64_t)MVEX_INPUT_HEIGHT * MVEX_INPUT_WIDTH; i++)
        for (int ch = 0; ch < MVEX_INPUT_CHANNELS; ch++) {
            const int64_t k = i * MVEX_INPUT_CHANNELS + ch;
            hwc[k] = ((float)hwc_u8[k] / 255.0f - mean[ch]) / std_[ch];
        }
}

int mvex_top_class(const float *logits)
{
    int best = 0;
    for (int k = 1; k < MVEX_NUM_CLASSES; k++)
        if (logits[k] > logits[best])
            best = k;
    return best;
}
