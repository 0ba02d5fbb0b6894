/* The runtime's thread pool: every index runs exactly once, for many job sizes and thread
 * counts back to back (the pattern of one inference), and work really spreads over threads. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mvrt_pool.h"

typedef struct counts {
    atomic_int hits[512];
    pthread_t ids[512];
} counts;

static void count_task(void *ctx, int i)
{
    counts *c = ctx;
    atomic_fetch_add(&c->hits[i], 1);
    c->ids[i] = pthread_self();
}

static void run_and_check(mvrt_pool *pool, int n)
{
    static counts c;
    for (int i = 0; i < n; i++)
        atomic_store(&c.hits[i], 0);
    mvrt_pool_parallel_for(pool, n, count_task, &c);
    for (int i = 0; i < n; i++)
        ck_assert_msg(atomic_load(&c.hits[i]) == 1, "n=%d: index %d ran %d times", n, i,
                      atomic_load(&c.hits[i]));
}

START_TEST(every_index_once)
{
    for (int threads = 1; threads <= 4; threads++) {
        mvrt_pool pool;
        ck_assert_int_eq(mvrt_pool_init(&pool, threads), 0);
        for (int rep = 0; rep < 300; rep++)
            for (int n = 0; n <= 17; n++)
                run_and_check(&pool, n);
        run_and_check(&pool, 512);
        mvrt_pool_destroy(&pool);
    }
}
END_TEST

static void slow_task(void *ctx, int i)
{
    counts *c = ctx;
    c->ids[i] = pthread_self();
    struct timespec ts = {0, 2000000}; /* 2 ms: long enough for the worker to join in */
    nanosleep(&ts, NULL);
    atomic_fetch_add(&c->hits[i], 1);
}

START_TEST(work_spreads_over_threads)
{
    mvrt_pool pool;
    static counts c;
    ck_assert_int_eq(mvrt_pool_init(&pool, 2), 0);
    memset(c.ids, 0, sizeof c.ids);
    mvrt_pool_parallel_for(&pool, 8, slow_task, &c);
    int other = 0;
    for (int i = 0; i < 8; i++)
        other += !pthread_equal(c.ids[i], pthread_self());
    ck_assert_msg(other > 0, "all 8 tasks ran on the calling thread");
    mvrt_pool_destroy(&pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_index_once);
    tcase_add_test(tc, work_spreads_over_threads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
