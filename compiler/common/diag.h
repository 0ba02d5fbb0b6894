/* Diagnostics shared by every compiler stage.
 * A failing function returns a negative MVIT_E* code and fills an mvit_diag with one
 * complete message in the form "file:line:col: error: what was expected, what was found"
 * (line/col omitted when unknown). Only main.c prints it and exits. */
#ifndef MVIT_DIAG_H
#define MVIT_DIAG_H

#include <stddef.h>

enum {
    MVIT_OK = 0,
    MVIT_EIO = -1,      /* file cannot be opened, read or written */
    MVIT_EPARSE = -2,   /* syntax: YAML, JSON header, binary layout */
    MVIT_EINVAL = -3,   /* well-formed but wrong: bad value, shape, missing/extra tensor */
    MVIT_ENOMEM = -4,
    MVIT_EUNSUPPORTED = -5,
};

typedef struct mvit_diag {
    char msg[2048];
} mvit_diag;

/* Formats "file:line:col: error: <fmt>" into d (line/col skipped when <= 0) and returns code.
 * d may be NULL. */
int mvit_diag_at(mvit_diag *d, int code, const char *file, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Allocation helpers that never return NULL for a non-zero size: they abort on exhaustion,
 * since a compiler that cannot allocate a few MB cannot report anything useful either. */
void *mvit_xmalloc(size_t n);
void *mvit_xcalloc(size_t count, size_t size);
void *mvit_xrealloc(void *p, size_t n);
char *mvit_xstrdup(const char *s);

/* Reads a whole file (to EOF, so pipes work too) into a new buffer of *len bytes. Files
 * larger than max_bytes are refused with MVIT_EINVAL; errors name the path. */
int mvit_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len,
                   mvit_diag *d);

/* mkdir -p: creates dir and any missing parents. Returns 0, or -1 with errno set. */
int mvit_make_dirs(const char *dir);

#endif
