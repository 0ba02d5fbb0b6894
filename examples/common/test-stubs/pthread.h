/* TEST STUB (see README.md): the pthread subset runtime/mvrt_pool uses, POSIX signatures.
 * The types are opaque placeholders of no particular size. */
#ifndef MVIT_TEST_STUB_PTHREAD_H
#define MVIT_TEST_STUB_PTHREAD_H
typedef struct {
    void *opaque[8];
} pthread_mutex_t;
typedef struct {
    void *opaque[8];
} pthread_cond_t;
typedef struct {
    void *opaque;
} pthread_mutexattr_t;
typedef struct {
    void *opaque;
} pthread_condattr_t;
typedef struct {
    void *opaque[8];
} pthread_attr_t;
typedef unsigned long pthread_t;
int pthread_create(pthread_t *restrict thread, const pthread_attr_t *restrict attr,
                   void *(*start)(void *), void *restrict arg);
int pthread_join(pthread_t thread, void **value);
int pthread_mutex_init(pthread_mutex_t *restrict m, const pthread_mutexattr_t *restrict attr);
int pthread_mutex_destroy(pthread_mutex_t *m);
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_unlock(pthread_mutex_t *m);
int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict attr);
int pthread_cond_destroy(pthread_cond_t *c);
int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m);
int pthread_cond_signal(pthread_cond_t *c);
int pthread_cond_broadcast(pthread_cond_t *c);
#endif
