/* A stand-in for a generated model header with a non-square input (3 rows x 5 columns, RGB),
 * for tests/test_mvex_nonsquare.c: the macros and API of a single-resolution file, and a
 * net_run_parallel that the test defines. Not generated: no weights, no kernels. */
#ifndef MVEX_NONSQUARE_MODEL_H
#define MVEX_NONSQUARE_MODEL_H

#include <stdint.h>

#define nsq_INPUT_HEIGHT 3
#define nsq_INPUT_WIDTH 5
#define nsq_INPUT_CHANNELS 3
#define nsq_NUM_CLASSES 4
#define nsq_ARENA_BYTES 4096
#define nsq_MAX_TASKS 2
#define nsq_INPUT_MEAN                                                                             \
    {                                                                                              \
        0.25f, 0.5f, 0.75f                                                                         \
    }
#define nsq_INPUT_STD                                                                              \
    {                                                                                              \
        0.5f, 0.25f, 2.0f                                                                          \
    }
#define nsq_CHANNEL_ORDER "rgb"

typedef struct nsq_parallel {
    void (*parallel_for)(void *user, int n, void (*task)(void *ctx, int i), void *ctx);
    void *user;
} nsq_parallel;

int nsq_run_parallel(const float *input, float *logits, void *arena, const nsq_parallel *par);

#endif
