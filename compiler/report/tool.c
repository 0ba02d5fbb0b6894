/* Running the external tools of mvitc report (clang, cc, qemu, llvm-mca, the harness): argv
 * arrays through posix_spawnp, never a shell; output to files, so that a failure can quote
 * the tool's own first line. */
#define _POSIX_C_SOURCE 200809L /* posix_spawnp, getline, O_CLOEXEC */

#include "report/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* First line of a tool's stderr for an error message ("" if none). */
void mvit_tool_first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0]) {
            snprintf(buf, n, "%s", line);
            break;
        }
    }
    free(line);
    fclose(f);
}

/* Runs argv (argv[0] searched in PATH) with stdin from /dev/null and stdout/stderr into files
 * (NULL: /dev/null), and waits. Sets *status to the exit status (128 + signal if killed).
 * Returns < 0 with d filled only when the tool cannot be started. */
int mvit_tool_run(char *const argv[], const char *out_path, const char *err_path, int *status,
                    mvit_diag *d)
{
    const char *paths[2] = {out_path ? out_path : "/dev/null", err_path ? err_path : "/dev/null"};
    int fds[2] = {-1, -1}, rc = 0;
    for (int i = 0; i < 2; i++) {
        fds[i] = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fds[i] < 0) {
            rc = mvit_diag_at(d, MVIT_EIO, paths[i], 0, 0, "cannot create: %s", strerror(errno));
            goto done;
        }
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        rc = mvit_diag_at(d, MVIT_EIO, argv[0], 0, 0,
                          "cannot run: %s (is it installed and in PATH?)", strerror(err));
        goto done;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            rc = mvit_diag_at(d, MVIT_EIO, argv[0], 0, 0, "waitpid: %s", strerror(errno));
            goto done;
        }
    }
    *status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
done:
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

char **mvit_tool_split(const char *words)
{
    size_t n = 0, cap = 16;
    char **argv = mvit_xcalloc(cap, sizeof *argv);
    for (const char *s = words; *s;) {
        while (*s == ' ' || *s == '\t')
            s++;
        const size_t w = strcspn(s, " \t");
        if (w == 0)
            break;
        if (n + 2 > cap)
            argv = mvit_xrealloc(argv, (cap *= 2) * sizeof *argv);
        argv[n] = mvit_xmalloc(w + 1);
        memcpy(argv[n], s, w);
        argv[n++][w] = 0;
        s += w;
    }
    argv[n] = NULL;
    return argv;
}

void mvit_tool_free_argv(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}
