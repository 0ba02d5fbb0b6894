/* TEST STUB (see README.md): clock_gettime and CLOCK_MONOTONIC, as POSIX declares them. */
#ifndef MVIT_TEST_STUB_TIME_H
#define MVIT_TEST_STUB_TIME_H
typedef long time_t;
typedef int clockid_t;
struct timespec {
    time_t tv_sec;
    long tv_nsec;
};
#define CLOCK_MONOTONIC 1
int clock_gettime(clockid_t clock_id, struct timespec *tp);
#endif
