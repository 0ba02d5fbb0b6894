/* mvrt_pool: a small pthread pool behind the generated code's parallel-for hook.
 *
 *     mvrt_pool pool;                                   // caller-owned, no allocation
 *     mvrt_pool_init(&pool, 2);                         // 2 threads including the caller
 *     net_parallel par = {mvrt_pool_parallel_for, &pool};
 *     net_run_parallel(input, logits, arena, &par);
 *     mvrt_pool_destroy(&pool);
 *
 * Workers spin between layers for up to spin_us microseconds (a model issues ~100
 * parallel-fors per inference, ~0.1 ms apart late in the network: a futex sleep and wake-up
 * each would cost as much as the layer, and a worker that arrives late leaves the caller
 * most of the tasks) and then sleep on a condition variable; the caller waits for the last
 * task the same way. Set pool.spin_us after mvrt_pool_init to trade idle CPU time (battery)
 * for latency: 0 sleeps at once. One pool serves one parallel_for at a time: do not call it
 * from two threads at once. */
#ifndef MVRT_POOL_H
#define MVRT_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#define MVRT_POOL_MAX_THREADS 64
#define MVRT_POOL_SPIN_US 1000 /* the default spin_us: longer than any gap between two layers */

typedef void (*mvrt_task_fn)(void *ctx, int i);

typedef struct mvrt_pool {
    int threads;                     /* including the calling thread */
    int spin_us;                     /* spin this long for work before sleeping (see above) */
    pthread_t workers[MVRT_POOL_MAX_THREADS - 1];
    pthread_mutex_t mutex;
    pthread_cond_t wake, finished;
    atomic_uint generation;          /* bumped for every job, and to stop */
    _Atomic unsigned long long next; /* generation << 32 | next task index to claim */
    atomic_int done;                 /* tasks completed */
    atomic_int stop;
    int n;                           /* the current job: task(ctx, i), i < n (under mutex) */
    mvrt_task_fn task;
    void *ctx;
} mvrt_pool;

/* Starts threads - 1 workers (threads is clamped to 1..MVRT_POOL_MAX_THREADS). Returns 0, or
 * -1 if a thread could not be created (the pool is then unusable and already cleaned up). */
int mvrt_pool_init(mvrt_pool *pool, int threads);
void mvrt_pool_destroy(mvrt_pool *pool);

/* Runs task(ctx, i) for i in [0, n) on the pool and the calling thread; returns when all are
 * done. The signature matches the generated <model>_parallel.parallel_for. */
void mvrt_pool_parallel_for(void *pool, int n, void (*task)(void *ctx, int i), void *ctx);

#endif
