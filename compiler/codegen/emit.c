/* Buffered, indented text output (see emit.h). */
#include "codegen/emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"

static void reserve(mvit_emitter *e, size_t extra)
{
    if (e->len + extra + 1 <= e->cap)
        return;
    size_t cap = e->cap ? e->cap : 1 << 16;
    while (cap < e->len + extra + 1)
        cap *= 2;
    e->buf = mvit_xrealloc(e->buf, cap);
    e->cap = cap;
}

void emit_text(mvit_emitter *e, const char *text, size_t len)
{
    reserve(e, len);
    memcpy(e->buf + e->len, text, len);
    e->len += len;
    e->buf[e->len] = 0;
}

static void vappend(mvit_emitter *e, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    reserve(e, (size_t)n);
    vsnprintf(e->buf + e->len, (size_t)n + 1, fmt, ap);
    e->len += (size_t)n;
}

static void indent(mvit_emitter *e)
{
    for (int i = 0; i < e->indent; i++)
        emit_text(e, "    ", 4);
}

void emit(mvit_emitter *e, const char *fmt, ...)
{
    va_list ap;
    if (*fmt)
        indent(e);
    va_start(ap, fmt);
    vappend(e, fmt, ap);
    va_end(ap);
    emit_text(e, "\n", 1);
}

void emit_append(mvit_emitter *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(e, fmt, ap);
    va_end(ap);
}

void emit_open(mvit_emitter *e, const char *fmt, ...)
{
    va_list ap;
    indent(e);
    va_start(ap, fmt);
    vappend(e, fmt, ap);
    va_end(ap);
    emit_text(e, "\n", 1);
    e->indent++;
}

void emit_close(mvit_emitter *e, const char *text)
{
    if (e->indent > 0)
        e->indent--;
    emit(e, "%s", text);
}

void emit_free(mvit_emitter *e)
{
    free(e->buf);
    memset(e, 0, sizeof *e);
}

void emit_float_literal(char *buf, size_t n, float v)
{
    snprintf(buf, n, "%.9g", (double)v);
    if (!strpbrk(buf, ".en"))
        strncat(buf, ".0", n - strlen(buf) - 1);
    strncat(buf, "f", n - strlen(buf) - 1);
}
