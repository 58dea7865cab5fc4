/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writeback helper: a forked child that calls syncfs() on the layer cache's file system every
 * quarter of a second while a layer is being unpacked, so that the data goes to the disk while
 * the rest is still being written instead of all at the end. A layer is published only after
 * the unpacker's own syncfs() (see rootfs.c): that one is what makes the layer durable, and
 * thanks to the helper it only has the last moments' writes left to wait for.
 *
 * The helper waits in the kernel (the flusher threads do the writing), so it costs next to no
 * CPU. A process, not a thread, for the same reason as the decompressor (decompress.c).
 */
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "image/image-private.h"

#define SYNC_PERIOD_MSEC 250

static _noreturn_ void syncer_main(int fs_fd, int stop_fd)
{
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
                struct pollfd p = {.fd = stop_fd, .events = POLLIN};
                int k = poll(&p, 1, SYNC_PERIOD_MSEC);
                if (k < 0 && errno != EINTR)
                        _exit(1);
                if (k > 0)
                        _exit(0); /* the write end was closed (POLLHUP): the unpack is over */
                (void)syncfs(fs_fd);
        }
}

void syncer_start(int fs_fd, Syncer *ret)
{
        int p[2];

        *ret = (Syncer){.pid = 0, .stop_fd = -EBADF};
        /* Best effort: without the helper the final syncfs() just has more to do. */
        if (pipe2(p, O_CLOEXEC) < 0)
                return;
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return;
        }
        if (pid == 0) {
                safe_close(p[1]);
                syncer_main(fs_fd, p[0]);
        }
        safe_close(p[0]);
        *ret = (Syncer){.pid = pid, .stop_fd = p[1]};
}

void syncer_stop(Syncer *s)
{
        /* The helper notices at once, or when its syncfs() in progress returns. */
        s->stop_fd = safe_close(s->stop_fd);
}

void syncer_reap(Syncer *s)
{
        syncer_stop(s);
        if (s->pid > 0) {
                while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                s->pid = 0;
        }
}
