/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI hooks: each one a process with the container state on stdin, run one after the other,
 * killed when its timeout passes. A failing prestart, createRuntime, createContainer or
 * startContainer hook stops the container's creation or start; a failing poststart or poststop
 * hook is only a warning, and the hooks after it still run (runtime-spec config.md). */

#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "runtime/internal.h"

static int hook_run(const SpecHook *h, const char *state_json, int trampoline_fd, Error *reterr)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set(reterr, -errno, "pipe");
        _cleanup_close_ int rfd = pipefd[0], wfd = pipefd[1];

        pid_t pid = fork();
        if (pid < 0)
                return error_set(reterr, -errno, "fork");
        if (pid == 0) {
                /* The hook sees exactly the state on stdin and nothing of ours beyond stdio. */
                if (dup2(rfd, STDIN_FILENO) < 0)
                        _exit(127);
                (void)fds_cloexec_from(3);
                sigset_t ss;
                sigemptyset(&ss);
                sigprocmask(SIG_SETMASK, &ss, NULL);
                char *empty[] = {NULL};
                char *argv0[] = {(char *)h->path, NULL};
                if (trampoline_fd >= 0) {
                        /* In the container's mount namespace: not from our binary (CVE-2019-5736). */
                        char *head[] = {(char *)"-", NULL};
                        (void)trampoline_exec(trampoline_fd, false, false, head, h->path, h->args ?: argv0,
                                              h->env ?: empty);
                } else
                        execve(h->path, h->args ?: argv0, h->env ?: empty);
                _exit(127);
        }
        rfd = safe_close(rfd);
        int pidfd = pidfd_open(pid, 0);

        /* The state is small, a pipe holds it. A hook that exits without reading it makes the
         * write fail with EPIPE, and raise SIGPIPE, which would kill a caller that does not ignore
         * it (ctrmgr-oci, silently, half-way through a delete): blocked here, and a SIGPIPE it
         * left pending is taken before the mask is restored. */
        sigset_t pipe_set, old_mask;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        bool was_pending = false;
        {
                sigset_t pending;
                if (sigpending(&pending) == 0)
                        was_pending = sigismember(&pending, SIGPIPE) == 1;
        }
        (void)sigprocmask(SIG_BLOCK, &pipe_set, &old_mask);
        (void)loop_write(wfd, state_json, strlen(state_json));
        if (!was_pending) {
                const struct timespec zero = {};
                while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
                        ;
        }
        (void)sigprocmask(SIG_SETMASK, &old_mask, NULL);
        wfd = safe_close(wfd);

        int status = 0;
        if (h->timeout > 0 && pidfd >= 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                int n;
                do
                        n = poll(&p, 1, h->timeout * 1000);
                while (n < 0 && errno == EINTR);
                if (n == 0) {
                        (void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                        (void)waitpid(pid, NULL, 0);
                        safe_close(pidfd);
                        return error_set_msg(reterr, -ETIMEDOUT, "hook %s: timed out after %i s", h->path,
                                             h->timeout);
                }
        }
        safe_close(pidfd);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return error_set(reterr, -errno, "waiting for hook %s", h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return error_set_msg(reterr, -EPROTO, "hook %s: exited with status %i", h->path,
                                     WEXITSTATUS(status));
        return error_set_msg(reterr, -EPROTO, "hook %s: killed by signal %s", h->path,
                             strna(signal_to_string(WTERMSIG(status))));
}

int hooks_run(const SpecHook *hooks, size_t n, HookKind kind, const char *state_json, int trampoline_fd,
              const RuntimeOptions *warn_to, Error *reterr)
{
        for (size_t i = 0; i < n; i++) {
                Error e = ERROR_INIT;
                int r = hook_run(&hooks[i], state_json, trampoline_fd, &e);
                if (r < 0)
                        error_prefix(&e, r, "running %s hook %zu", hook_kind_to_string(kind), i);
                if (r < 0 && !warn_to) {
                        error_move(reterr, &e);
                        return r;
                }
                /* poststart, poststop: the runtime-spec wants a warning and the remaining hooks. */
                if (r < 0 && warn_to->warn)
                        warn_to->warn(warn_to->warn_userdata, error_message(&e));
                error_done(&e);
        }
        return 0;
}
