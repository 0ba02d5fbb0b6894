/* Timing harness for one mvitc-generated model: links against DIR/net.c, runs `--warmup`
 * untimed inferences, then `--runs` timed ones (CLOCK_MONOTONIC around each net_run call),
 * and prints one JSON line {"side":"mvitc","threads":T,"times_ms":[...]} on stdout.
 * Optionally writes the logits (float32) for run.sh's agreement check against ORT.
 *
 *   cc -O3 -march=haswell -I DIR bench_main.c DIR/net.c -o bench
 *   ./bench --input input.f32 [--warmup 3] [--runs 10] [--logits-out mvitc_logits.f32]
 *
 * -DMVIT_NAME=foo benchmarks foo_run from "foo.h" instead of net_run from "net.h".
 * -DMVIT_THREADS=N (N > 1) times net_run_parallel on N threads; see "Threads" below. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MVIT_NAME
#define MVIT_NAME net
#endif
#define MVIT_CAT_(a, b) a##b
#define MVIT_CAT(a, b) MVIT_CAT_(a, b)
#define NET(sym) MVIT_CAT(MVIT_NAME, sym) /* NET(_run) -> net_run */
#define MVIT_STR_(x) #x
#define MVIT_STR(x) MVIT_STR_(x)
#include MVIT_STR(MVIT_NAME.h)

#ifndef MVIT_THREADS
#define MVIT_THREADS 1
#endif

// ---------------------------------------------------------------------------------------------
// Threads
//
// MVIT_THREADS == 1 (default) times NET(_run). MVIT_THREADS == N > 1 times
//     int net_run_parallel(const float *in, float *logits, void *arena, const net_parallel *p);
// with p's parallel_for backed by runtime/mvrt_pool (N threads including the caller); build with
//     -DMVIT_THREADS=2 -I runtime bench_main.c DIR/net.c runtime/mvrt_pool.c -pthread
// which is what `bench.py --mvitc-threads 1,2` does (one harness per count, one "mvitc NT"
// column each). The pool is started before the warm-up, so thread creation is never timed.
#if MVIT_THREADS > 1
#include "mvrt_pool.h"

static mvrt_pool bench_pool;
static NET(_parallel) bench_par;

static int bench_threads_init(void)
{
    if (mvrt_pool_init(&bench_pool, MVIT_THREADS))
        return -1;
    bench_par.parallel_for = mvrt_pool_parallel_for;
    bench_par.user = &bench_pool;
    return 0;
}

static void bench_threads_fini(void)
{
    mvrt_pool_destroy(&bench_pool);
}

static int bench_run(const float *in, float *logits, void *arena)
{
    return NET(_run_parallel)(in, logits, arena, &bench_par);
}
#else
static int bench_threads_init(void)
{
    return 0;
}

static void bench_threads_fini(void) {}

static int bench_run(const float *in, float *logits, void *arena)
{
    return NET(_run)(in, logits, arena);
}
#endif

// ---------------------------------------------------------------------------------------------
// Helpers

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Reads exactly n floats from path; returns 0 or -1 (message on stderr). */
static int read_floats(const char *path, float *dst, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: %s\n", path, strerror(errno));
        return -1;
    }
    size_t got = fread(dst, sizeof(float), n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) {
        fprintf(stderr, "%s: error: expected exactly %zu floats\n", path, n);
        return -1;
    }
    return 0;
}

static int write_floats(const char *path, const float *src, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(src, sizeof(float), n, f) != n) {
        fprintf(stderr, "%s: error: cannot write\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 1000000)
        return -1;
    *out = v;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Main

int main(int argc, char **argv)
{
    const char *input_path = NULL, *logits_path = NULL;
    long warmup = 3, runs = 10;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench: error: %s needs a value\n", argv[i]);
            return 1;
        }
        if (!strcmp(argv[i], "--input"))
            input_path = v;
        else if (!strcmp(argv[i], "--logits-out"))
            logits_path = v;
        else if (!strcmp(argv[i], "--warmup") && !parse_count(v, &warmup))
            ;
        else if (!strcmp(argv[i], "--runs") && !parse_count(v, &runs))
            ;
        else {
            fprintf(stderr, "bench: error: bad argument '%s %s'\n", argv[i], v);
            return 1;
        }
    }
    if (!input_path) {
        fprintf(stderr, "usage: bench --input input.f32 [--warmup N] [--runs N] "
                        "[--logits-out FILE]\n");
        return 1;
    }

    const size_t n_in = (size_t)NET(_INPUT_HEIGHT) * NET(_INPUT_WIDTH) * NET(_INPUT_CHANNELS);
    const size_t arena_bytes = ((size_t)NET(_ARENA_BYTES) + 63) / 64 * 64;
    float *input = malloc(n_in * sizeof(float));
    float *logits = malloc((size_t)NET(_NUM_CLASSES) * sizeof(float));
    void *arena = aligned_alloc(64, arena_bytes ? arena_bytes : 64);
    double *times = malloc((size_t)(runs ? runs : 1) * sizeof(double));
    int rc = 1, threads_up = 0;
    if (!input || !logits || !arena || !times) {
        fprintf(stderr, "bench: error: out of memory\n");
        goto fail;
    }
    if (read_floats(input_path, input, n_in))
        goto fail;
    memset(arena, 0, arena_bytes); /* fault the pages in before timing */
    if (bench_threads_init()) {
        fprintf(stderr, "bench: error: cannot start %d threads\n", MVIT_THREADS);
        goto fail;
    }
    threads_up = 1;

    for (long i = 0; i < warmup; i++)
        if (bench_run(input, logits, arena))
            goto run_failed;
    for (long i = 0; i < runs; i++) {
        double t0 = now_ms();
        int r = bench_run(input, logits, arena);
        times[i] = now_ms() - t0;
        if (r)
            goto run_failed;
    }
    if (!warmup && !runs && bench_run(input, logits, arena))
        goto run_failed;
    if (logits_path && write_floats(logits_path, logits, (size_t)NET(_NUM_CLASSES)))
        goto fail;

    printf("{\"side\":\"mvitc\",\"threads\":%d,\"warmup\":%ld,\"arena_bytes\":%zu,\"times_ms\":[",
           MVIT_THREADS, warmup, (size_t)NET(_ARENA_BYTES));
    for (long i = 0; i < runs; i++)
        printf("%s%.6f", i ? "," : "", times[i]);
    printf("]}\n");
    rc = 0;
    goto fail;

run_failed:
    fprintf(stderr, "bench: error: " MVIT_STR(MVIT_NAME) "_run returned nonzero\n");
fail:
    if (threads_up)
        bench_threads_fini();
    free(times);
    free(arena);
    free(logits);
    free(input);
    return rc;
}
