/* Running external tools for mvitc report (tool.c). */
#ifndef MVIT_REPORT_TOOL_H
#define MVIT_REPORT_TOOL_H

#include <stddef.h>

#include "common/diag.h"

/* Runs argv (argv[0] searched in PATH) with stdin from /dev/null and stdout/stderr into files
 * (NULL: /dev/null), and waits. Sets *status to the exit status (128 + signal if killed).
 * Returns < 0 with d filled only when the tool cannot be started. */
int mvit_tool_run(char *const argv[], const char *out_path, const char *err_path, int *status,
                  mvit_diag *d);

/* The first non-empty line of a file (a tool's stderr) into buf; "" if none. */
void mvit_tool_first_line(const char *path, char *buf, size_t n);

/* A NULL-terminated argv of the space-separated words (no quoting); free with
 * mvit_tool_free_argv. */
char **mvit_tool_split(const char *words);
void mvit_tool_free_argv(char **argv);

#endif
