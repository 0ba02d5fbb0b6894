/* Text output for code generation. Everything a target writes goes through these helpers:
 * they own indentation and buffering, so targets only say what to print. */
#ifndef MVIT_EMIT_H
#define MVIT_EMIT_H

#include <stddef.h>

typedef struct mvit_emitter {
    char *buf;
    size_t len, cap;
    int indent; /* levels of 4 spaces */
} mvit_emitter;

#if defined(__GNUC__)
#define MVIT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MVIT_PRINTF(a, b)
#endif

/* One line: indentation, the formatted text, a newline. */
void emit(mvit_emitter *e, const char *fmt, ...) MVIT_PRINTF(2, 3);
/* A line that opens a block ("static void f(void) {"): the following lines are indented. */
void emit_open(mvit_emitter *e, const char *fmt, ...) MVIT_PRINTF(2, 3);
/* Closes a block with `text` (usually "}" or "};"). */
void emit_close(mvit_emitter *e, const char *text);
/* Verbatim text (pasted kernels, weight rows); no indentation added. */
void emit_text(mvit_emitter *e, const char *text, size_t len);
/* Formats without a newline or indent, appending to the current line. */
void emit_append(mvit_emitter *e, const char *fmt, ...) MVIT_PRINTF(2, 3);
void emit_free(mvit_emitter *e);

/* A float as a C literal that round-trips exactly ("0.25f", "1.0f", "1e-05f"). */
void emit_float_literal(char *buf, size_t n, float v);

#endif
