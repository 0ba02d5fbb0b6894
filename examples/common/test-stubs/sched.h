/* TEST STUB (see README.md): sched_yield, as POSIX declares it. */
#ifndef MVIT_TEST_STUB_SCHED_H
#define MVIT_TEST_STUB_SCHED_H
int sched_yield(void);
#endif
