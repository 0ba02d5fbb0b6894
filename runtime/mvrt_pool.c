/* Thread pool for the parallel-for hook (see mvrt_pool.h).
 * Handoff: the caller writes a job (task, ctx, n, counters) under the mutex and bumps the
 * generation; a worker that sees a new generation copies the job under the same mutex and
 * counts itself active. Tasks are then claimed from an atomic counter without locking. The
 * caller returns only when every task is done AND no worker is still in the claim loop, so a
 * late worker can never claim an index of the next job with a stale copy of this one. */
#include "mvrt_pool.h"

#include <sched.h>

#define SPIN_ROUNDS 20000

typedef struct job {
    mvrt_task_fn task;
    void *ctx;
    int n;
} job;

static void claim_and_run(mvrt_pool *p, const job *j)
{
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= j->n)
            return;
        j->task(j->ctx, i);
        atomic_fetch_add(&p->done, 1);
    }
}

static void *worker(void *arg)
{
    mvrt_pool *p = arg;
    unsigned seen = 0;
    for (;;) {
        for (int spins = 0; atomic_load(&p->generation) == seen && spins < SPIN_ROUNDS; spins++)
            ;
        pthread_mutex_lock(&p->mutex);
        while (atomic_load(&p->generation) == seen)
            pthread_cond_wait(&p->wake, &p->mutex);
        seen = atomic_load(&p->generation);
        if (atomic_load(&p->stop)) {
            pthread_mutex_unlock(&p->mutex);
            return NULL;
        }
        job j = {p->task, p->ctx, p->n};
        atomic_fetch_add(&p->active, 1);
        pthread_mutex_unlock(&p->mutex);

        claim_and_run(p, &j);

        pthread_mutex_lock(&p->mutex);
        atomic_fetch_sub(&p->active, 1);
        pthread_cond_signal(&p->finished);
        pthread_mutex_unlock(&p->mutex);
    }
}

int mvrt_pool_init(mvrt_pool *p, int threads)
{
    if (threads < 1)
        threads = 1;
    if (threads > MVRT_POOL_MAX_THREADS)
        threads = MVRT_POOL_MAX_THREADS;
    p->threads = 1;
    p->n = 0;
    p->task = 0;
    p->ctx = 0;
    atomic_init(&p->generation, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->active, 0);
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

static int job_finished(mvrt_pool *p, int n)
{
    return atomic_load(&p->done) == n && atomic_load(&p->active) == 0;
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
    job j = {task, ctx, n};
    pthread_mutex_lock(&p->mutex);
    p->task = task;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->done, 0);
    atomic_store(&p->next, 0);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);

    claim_and_run(p, &j);

    for (int spins = 0; !job_finished(p, n) && spins < SPIN_ROUNDS; spins++)
        if ((spins & 1023) == 1023)
            sched_yield();
    pthread_mutex_lock(&p->mutex);
    while (!job_finished(p, n))
        pthread_cond_wait(&p->finished, &p->mutex);
    pthread_mutex_unlock(&p->mutex);
}
