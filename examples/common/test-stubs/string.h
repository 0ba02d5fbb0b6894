/* TEST STUB (see README.md): the string.h subset the example wrappers use, C11 signatures. */
#ifndef MVIT_TEST_STUB_STRING_H
#define MVIT_TEST_STUB_STRING_H
#include <stddef.h>
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
#endif
