/* Thread pool for the parallel-for hook (see mvrt_pool.h).
 * Handoff: the caller writes a job (task, ctx, n) under the mutex and bumps the generation; a
 * worker that sees a new generation copies the job under the same mutex, so its copy is
 * consistent. Tasks are claimed lock-free by compare-and-swap on a word holding the
 * generation and the next index: a late worker holding a copy of a finished job fails its
 * claim because the word's generation moved on, so the caller only waits for the n tasks,
 * never for a worker that was descheduled before it claimed anything. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include "mvrt_pool.h"

#include <time.h>

/* A hint that this is a spin-wait loop (the sibling hyperthread gets the core). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* Spins until ready(p, arg) or spin_us have passed; returns ready's last value. The clock is
 * read every 64 rounds (a vDSO call, but still slower than the check). */
static int spin_until(mvrt_pool *p, int (*ready)(mvrt_pool *, unsigned), unsigned arg)
{
    if (ready(p, arg))
        return 1;
    const long long end = now_ns() + (long long)p->spin_us * 1000;
    for (int spins = 1;; spins++) {
        if (ready(p, arg))
            return 1;
        if ((spins & 63) == 0 && now_ns() >= end)
            return 0;
        cpu_relax();
    }
}

static int new_generation(mvrt_pool *p, unsigned seen)
{
    return atomic_load(&p->generation) != seen;
}

static int job_finished(mvrt_pool *p, unsigned n)
{
    return atomic_load(&p->done) == (int)n;
}

typedef struct job {
    mvrt_task_fn task;
    void *ctx;
    int n;
    unsigned generation;
} job;

static void claim_and_run(mvrt_pool *p, const job *j)
{
    unsigned long long v = atomic_load(&p->next);
    for (;;) {
        if ((unsigned)(v >> 32) != j->generation || (int)(v & 0xffffffffu) >= j->n)
            return;
        if (!atomic_compare_exchange_weak(&p->next, &v, v + 1))
            continue; /* v now holds the current word */
        j->task(j->ctx, (int)(v & 0xffffffffu));
        if (atomic_fetch_add(&p->done, 1) + 1 == j->n) {
            pthread_mutex_lock(&p->mutex);
            pthread_cond_signal(&p->finished);
            pthread_mutex_unlock(&p->mutex);
        }
        v = atomic_load(&p->next);
    }
}

static void *worker(void *arg)
{
    mvrt_pool *p = arg;
    unsigned seen = 0;
    for (;;) {
        spin_until(p, new_generation, seen);
        pthread_mutex_lock(&p->mutex);
        while (atomic_load(&p->generation) == seen)
            pthread_cond_wait(&p->wake, &p->mutex);
        seen = atomic_load(&p->generation);
        if (atomic_load(&p->stop)) {
            pthread_mutex_unlock(&p->mutex);
            return NULL;
        }
        job j = {p->task, p->ctx, p->n, seen};
        pthread_mutex_unlock(&p->mutex);
        claim_and_run(p, &j);
    }
}

int mvrt_pool_init(mvrt_pool *p, int threads)
{
    if (threads < 1)
        threads = 1;
    if (threads > MVRT_POOL_MAX_THREADS)
        threads = MVRT_POOL_MAX_THREADS;
    p->threads = 1;
    p->spin_us = MVRT_POOL_SPIN_US;
    p->n = 0;
    p->task = 0;
    p->ctx = 0;
    atomic_init(&p->generation, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->finished, NULL);
    for (int t = 0; t < threads - 1; t++) {
        if (pthread_create(&p->workers[t], NULL, worker, p) != 0) {
            mvrt_pool_destroy(p);
            return -1;
        }
        p->threads++;
    }
    return 0;
}

void mvrt_pool_destroy(mvrt_pool *p)
{
    pthread_mutex_lock(&p->mutex);
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);
    for (int t = 0; t < p->threads - 1; t++)
        pthread_join(p->workers[t], NULL);
    p->threads = 1;
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->mutex);
}

void mvrt_pool_parallel_for(void *pool, int n, void (*task)(void *ctx, int i), void *ctx)
{
    mvrt_pool *p = pool;
    if (n <= 0)
        return;
    if (p->threads == 1 || n == 1) {
        for (int i = 0; i < n; i++)
            task(ctx, i);
        return;
    }
    pthread_mutex_lock(&p->mutex);
    const unsigned gen = atomic_load(&p->generation) + 1;
    job j = {task, ctx, n, gen};
    p->task = task;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->done, 0);
    atomic_store(&p->next, (unsigned long long)gen << 32);
    atomic_store(&p->generation, gen);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);

    claim_and_run(p, &j);

    if (spin_until(p, job_finished, (unsigned)n))
        return;
    pthread_mutex_lock(&p->mutex);
    while (!job_finished(p, (unsigned)n))
        pthread_cond_wait(&p->finished, &p->mutex);
    pthread_mutex_unlock(&p->mutex);
}
