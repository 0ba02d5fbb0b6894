/* Diagnostics formatting and checked allocation (see diag.h). */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mvit_diag_at(mvit_diag *d, int code, const char *file, int line, int col, const char *fmt, ...)
{
    if (!d)
        return code;
    int n;
    if (line > 0 && col > 0)
        n = snprintf(d->msg, sizeof d->msg, "%s:%d:%d: error: ", file, line, col);
    else if (line > 0)
        n = snprintf(d->msg, sizeof d->msg, "%s:%d: error: ", file, line);
    else
        n = snprintf(d->msg, sizeof d->msg, "%s: error: ", file ? file : "mvitc");
    if (n < 0 || (size_t)n >= sizeof d->msg)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg + n, sizeof d->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

static void *check_alloc(void *p, size_t n)
{
    if (!p && n) {
        fprintf(stderr, "mvitc: error: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *mvit_xmalloc(size_t n) { return check_alloc(malloc(n ? n : 1), n); }
void *mvit_xcalloc(size_t count, size_t size)
{
    return check_alloc(calloc(count ? count : 1, size ? size : 1), count * size);
}
void *mvit_xrealloc(void *p, size_t n) { return check_alloc(realloc(p, n ? n : 1), n); }
char *mvit_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(mvit_xmalloc(n), s, n);
}

int mvit_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len,
                   mvit_diag *d)
{
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                rc = mvit_diag_at(d, MVIT_EINVAL, path, 0, 0, "file is larger than %zu bytes",
                                  max_bytes);
                break;
            }
            cap = cap ? cap * 2 : (size_t)1 << 16;
            buf = mvit_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = mvit_diag_at(d, MVIT_EIO, path, 0, 0, "read error after %zu bytes", n);
    if (rc == 0 && n > max_bytes)
        rc = mvit_diag_at(d, MVIT_EINVAL, path, 0, 0, "file is larger than %zu bytes", max_bytes);
    fclose(f);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return 0;
}

int mvit_make_dirs(const char *dir)
{
    char *path = mvit_xstrdup(dir);
    int rc = 0;
    for (char *p = path + 1; rc == 0; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        struct stat st;
        if (stat(path, &st) != 0 && mkdir(path, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *p = c;
        if (c == 0)
            break;
    }
    free(path);
    return rc;
}
