/* TEST STUB (see README.md): the stdlib.h subset the example wrappers use, POSIX signatures. */
#ifndef MVIT_TEST_STUB_STDLIB_H
#define MVIT_TEST_STUB_STDLIB_H
#include <stddef.h>
int posix_memalign(void **memptr, size_t alignment, size_t size);
void free(void *ptr);
#endif
