/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting containers off the event loop.
 *
 * runtime_create() and runtime_start() spend most of a container start waiting for its init to
 * set itself up (namespaces, mounts, pivot_root, seccomp, exec). Run in the daemon, they would
 * start containers one after the other with the event loop stopped. Instead a short-lived
 * process, the starter, runs them and reports through a pipe, while the daemon goes on with the
 * next unit and every core works.
 *
 * Starters are not forked from the daemon but from the zygote: a fork of the daemon made at
 * start-up, before any unit is loaded, that does nothing but fork starters on request. A fork
 * write-protects every page of the forking process and each later write to one costs a
 * copy-on-write fault; forking the daemon (whose heap holds the units, the bus, the cached
 * seccomp profile) for every start cost it about a hundred faults per container, and its
 * starters as many again. The zygote's heap is small and it writes almost nothing.
 *
 * The zygote forks each starter with CLONE_PARENT, so the starter is the daemon's child; the
 * daemon is a child subreaper (PR_SET_CHILD_SUBREAPER), so when the starter exits the kernel
 * hands the container's init, the starter's child, to the daemon before it tells the daemon that
 * the starter is gone. From then on the init is the daemon's child, reaped through its pidfd with
 * its exit status, exactly as if the daemon had forked it. Neither the zygote nor a starter is a
 * helper per container: a starter exits as soon as its container runs.
 *
 * The report pipe carries the starter's pid first (the daemon opens a pidfd of it: its own
 * child, so the pid cannot be reused before the daemon reaps it), then one StarterReport with the
 * error message and the warnings of runtime_create() (limits this host cannot apply). Without a
 * zygote (it died and could not be made again) the daemon forks the starter itself.
 */
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>

#include "manager/manager.h"
#include "runtime/runtime.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define STARTER_TEXT_MAX 3072 /* message and warnings: a report stays one atomic pipe write */
#define REQUEST_MAX      8192
#define STARTER_BUF_MAX  (sizeof(int32_t) + sizeof(StarterReport) + STARTER_TEXT_MAX)

typedef struct StarterReport {
        int32_t r;         /* 0, or the negative errno of the failure */
        int32_t pid;       /* the init's pid, 0 if there is none */
        uint32_t msg_len;  /* then the message, */
        uint32_t warn_len; /* then the warnings, one a line */
} StarterReport;

/* What the daemon sends the zygote: a header, the strings it counts (NUL-terminated), and the
 * descriptors stdin, stdout, stderr and the report pipe's write end (SCM_RIGHTS). */
typedef struct StartRequestHeader {
        uint32_t flags;
        uint32_t len[4]; /* root, id, bundle, journal identifier (0: none), each with its NUL */
} StartRequestHeader;

#define REQUEST_SYSTEMD_CGROUP 1u

typedef struct StarterWork {
        const char *root, *id, *bundle, *ident;
        bool systemd_cgroup;
        int stdio[3];
        int report;
        pid_t daemon; /* the starter's parent */
} StarterWork;

/* ---------------------------------------------------------------- the starter (in its own process) */

/* Runs in the container's init, inside its scope: journald sees the scope as the peer's unit, so
 * entries carry _SYSTEMD_UNIT=ctrmgr-NAME.scope. No level prefixes: the container cannot choose
 * priorities. */
static int child_connect_journal(void *userdata, Error *reterr)
{
        const char *ident = userdata;
        int out, err;

        out = sd_journal_stream_fd(ident, LOG_LEVEL_INFO, 0);
        if (out < 0)
                return error_set(reterr, out, "connecting stdout to the journal");
        err = sd_journal_stream_fd(ident, LOG_LEVEL_ERR, 0);
        if (err < 0) {
                safe_close(out);
                return error_set(reterr, err, "connecting stderr to the journal");
        }
        if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
                int r = -errno;
                safe_close(out);
                safe_close(err);
                return error_set(reterr, r, "dup2 of the journal streams");
        }
        safe_close(out);
        safe_close(err);
        return 0;
}

typedef struct Warnings {
        char text[STARTER_TEXT_MAX / 2];
        size_t len;
} Warnings;

static void collect_warning(void *userdata, const char *message)
{
        Warnings *w = userdata;
        int n = snprintf(w->text + w->len, sizeof w->text - w->len, "%s\n", message);
        if (n > 0)
                w->len = MIN(w->len + (size_t)n, sizeof w->text - 1);
}

_noreturn_ static void starter_main(const StarterWork *w)
{
        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        Error e = ERROR_INIT;
        Warnings warn = {};
        char buf[sizeof(StarterReport) + STARTER_TEXT_MAX];
        int32_t self = (int32_t)getpid();
        pid_t pid = 0;
        int r;

        /* A daemon killed mid-start takes its starters along, so that none goes on creating a
         * container behind the back of the next daemon, which removes what they left
         * (service_recover). Before anything else, and only if the daemon is still there. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != w->daemon)
                _exit(1);
        (void)loop_write(w->report, &self, sizeof self);

        r = runtime_spec_load(w->bundle, &spec, &e);
        if (r < 0)
                error_prefix(&e, r, "the generated spec");
        else {
                RuntimeOptions opts = RUNTIME_OPTIONS_INIT;
                opts.bundle = w->bundle;
                opts.systemd_cgroup = w->systemd_cgroup;
                opts.warn = collect_warning;
                opts.warn_userdata = &warn;
                for (int i = 0; i < 3; i++)
                        opts.stdio[i] = w->stdio[i];
                if (w->ident) {
                        opts.child_setup = child_connect_journal;
                        opts.child_setup_userdata = (void *)w->ident;
                }
                r = runtime_create(w->root, w->id, spec, &opts, &pid, NULL, &e);
                if (r < 0)
                        error_prefix(&e, r, "creating the container");
                else {
                        /* Failing poststart hooks are warnings, reported with the others. */
                        r = runtime_start_with_options(w->root, w->id, &opts, &e);
                        if (r < 0)
                                error_prefix(&e, r, "starting the container");
                }
        }

        const char *msg = r < 0 ? error_message(&e) : "";
        StarterReport rep = {
                .r = r < 0 ? r : 0,
                .pid = pid,
                .msg_len = (uint32_t)MIN(strlen(msg), (size_t)STARTER_TEXT_MAX - warn.len),
                .warn_len = (uint32_t)warn.len,
        };
        memcpy(buf, &rep, sizeof rep);
        memcpy(buf + sizeof rep, msg, rep.msg_len);
        memcpy(buf + sizeof rep + rep.msg_len, warn.text, warn.len);
        (void)loop_write(w->report, buf, sizeof rep + rep.msg_len + rep.warn_len);
        _exit(0);
}

/* ---------------------------------------------------------------- the zygote */

static pid_t clone_parent(void)
{
        /* The caller's parent becomes the child's parent; clone3 takes exit_signal 0 then (the
         * caller's own exit signal, SIGCHLD, is used). */
        struct clone_args args = {.flags = CLONE_PARENT};
        long r = syscall(SYS_clone3, &args, sizeof args);
        return r < 0 ? -errno : (pid_t)r;
}

static void zygote_handle(int sock, const char *buf, size_t n, int *fds, size_t n_fds)
{
        StartRequestHeader h;
        StarterWork w = {.report = -EBADF};
        const char *str[4] = {};
        size_t off = sizeof h;

        if (n < sizeof h || n_fds != 4)
                return;
        memcpy(&h, buf, sizeof h);
        for (size_t i = 0; i < 4; i++) {
                if (h.len[i] == 0)
                        continue;
                if (h.len[i] > n - off || buf[off + h.len[i] - 1] != '\0')
                        return;
                str[i] = buf + off;
                off += h.len[i];
        }
        if (!str[0] || !str[1] || !str[2])
                return;
        w = (StarterWork){
                .root = str[0],
                .id = str[1],
                .bundle = str[2],
                .ident = str[3],
                .systemd_cgroup = h.flags & REQUEST_SYSTEMD_CGROUP,
                .stdio = {fds[0], fds[1], fds[2]},
                .report = fds[3],
                .daemon = getppid(), /* CLONE_PARENT: the daemon is the starter's parent too */
        };
        pid_t pid = clone_parent();
        if (pid == 0) {
                safe_close(sock);
                starter_main(&w);
        }
        if (pid < 0) {
                /* No starter: the pid 0 and a report, as a starter would write them. */
                char out[sizeof(int32_t) + sizeof(StarterReport) + 64];
                int32_t none = 0;
                int len = snprintf(out + sizeof none + sizeof(StarterReport), 64, "forking the starter: %s",
                                   strerror(-pid));
                StarterReport rep = {.r = pid, .msg_len = (uint32_t)MAX(len, 0)};
                memcpy(out, &none, sizeof none);
                memcpy(out + sizeof none, &rep, sizeof rep);
                (void)loop_write(w.report, out, sizeof none + sizeof rep + rep.msg_len);
        }
}

_noreturn_ static void zygote_main(int sock)
{
        sigset_t all;

        /* It goes when the daemon goes (its end of the socket closes, or it is killed). */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)prctl(PR_SET_NAME, "ctrmgrd-zygote");
        sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);
        /* The daemon's descriptors (bus, event loop, journal) are not the zygote's business. */
        if (sock != 3) {
                if (dup3(sock, 3, O_CLOEXEC) < 0)
                        _exit(1);
                sock = 3;
        }
        (void)syscall(SYS_close_range, 4U, ~0U, 0U);

        for (;;) {
                char buf[REQUEST_MAX];
                union {
                        struct cmsghdr h;
                        char space[CMSG_SPACE(4 * sizeof(int))];
                } control = {};
                struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0);
                int fds[4];
                size_t n_fds = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                int *p = (int *)CMSG_DATA(c);
                                for (size_t i = 0; i < k; i++) {
                                        if (n_fds < ELEMENTSOF(fds))
                                                fds[n_fds++] = p[i];
                                        else
                                                safe_close(p[i]);
                                }
                        }
                zygote_handle(sock, buf, (size_t)n, fds, n_fds);
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
        }
}

int manager_zygote_start(Manager *m)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(sv[0]);
                safe_close(sv[1]);
                return r;
        }
        if (pid == 0) {
                safe_close(sv[0]);
                zygote_main(sv[1]);
        }
        safe_close(sv[1]);
        m->zygote_fd = sv[0];
        m->zygote_pid = pid;
        return 0;
}

void manager_zygote_stop(Manager *m)
{
        m->zygote_fd = safe_close(m->zygote_fd);
        if (m->zygote_pid > 0) {
                /* It exits when its socket closes; reap it. */
                (void)waitpid(m->zygote_pid, NULL, 0);
                m->zygote_pid = 0;
        }
}

static int zygote_send(Manager *m, const StarterWork *w)
{
        char buf[REQUEST_MAX];
        StartRequestHeader h = {.flags = w->systemd_cgroup ? REQUEST_SYSTEMD_CGROUP : 0};
        const char *str[4] = {w->root, w->id, w->bundle, w->ident};
        size_t off = sizeof h;

        for (size_t i = 0; i < 4; i++) {
                if (!str[i])
                        continue;
                size_t l = strlen(str[i]) + 1;
                if (l > sizeof buf - off)
                        return -ENAMETOOLONG;
                memcpy(buf + off, str[i], l);
                h.len[i] = (uint32_t)l;
                off += l;
        }
        memcpy(buf, &h, sizeof h);

        int fds[4] = {w->stdio[0], w->stdio[1], w->stdio[2], w->report};
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof fds)];
        } control = {};
        struct iovec iov = {.iov_base = buf, .iov_len = off};
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(c), fds, sizeof fds);
        ssize_t n;
        do
                n = sendmsg(m->zygote_fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

/* ---------------------------------------------------------------- the daemon's side */

static void starter_reset(Service *s)
{
        s->starter_source = sd_event_source_disable_unref(s->starter_source);
        s->starter_report_source = sd_event_source_disable_unref(s->starter_report_source);
        s->starter_pidfd = safe_close(s->starter_pidfd);
        s->starter_fd = safe_close(s->starter_fd);
        s->starter_pid = 0;
        s->starter_buf = mfree(s->starter_buf);
        s->starter_len = 0;
}

static void starter_read(Service *s)
{
        for (;;) {
                if (s->starter_len == STARTER_BUF_MAX)
                        return;
                ssize_t n = read(s->starter_fd, s->starter_buf + s->starter_len,
                                 STARTER_BUF_MAX - s->starter_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                s->starter_len += (size_t)n;
        }
}

/* The starter has ended (or never was): report what it said. */
static void starter_complete(Service *s, const char *why)
{
        Manager *m = s->manager;
        StarterReport rep;
        _cleanup_free_ char *msg = NULL, *warn = NULL;
        size_t off = sizeof(int32_t);

        starter_read(s);
        if (s->starter_len >= off + sizeof rep) {
                memcpy(&rep, s->starter_buf + off, sizeof rep);
                off += sizeof rep;
                if (rep.msg_len <= s->starter_len - off &&
                    rep.warn_len <= s->starter_len - off - rep.msg_len) {
                        msg = strndup(s->starter_buf + off, rep.msg_len);
                        warn = strndup(s->starter_buf + off + rep.msg_len, rep.warn_len);
                } else
                        rep = (StarterReport){.r = -EBADMSG};
        } else
                rep = (StarterReport){.r = -EIO};
        starter_reset(s);
        if (m->n_starters > 0)
                m->n_starters--;

        /* Limits this host's cgroups cannot apply (a hybrid host), in the unit's log. */
        _cleanup_strv_free_ char **lines = warn ? strv_split(warn, "\n") : NULL;
        STRV_FOREACH (l, lines)
                log_service_warning(s, "%s", *l);
        if (rep.r >= 0 && rep.pid <= 0)
                rep.r = -EIO;
        service_spawn_done(s, rep.r, (pid_t)rep.pid, !isempty(msg) ? msg : why);
        manager_reap_strays(m);
        manager_spawn_next(m);
}

static int on_starter_exit(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Service *s = userdata;
        siginfo_t si = {};

        int w = waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
        if (w < 0 && errno == EINTR)
                return 0;
        if (w >= 0 && si.si_pid == 0)
                return 0; /* not yet */
        char why[128] = "the starter process ended without a report";
        if (w >= 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED))
                snprintf(why, sizeof why, "the starter process was killed by %s",
                         strna(signal_to_string(si.si_status)));
        starter_complete(s, why);
        return 0;
}

static int on_starter_report(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Service *s = userdata;
        Manager *m = s->manager;
        int32_t pid;

        starter_read(s);
        if (s->starter_len < sizeof pid) {
                if (revents & (EPOLLHUP | EPOLLERR))
                        /* Nobody will write: the zygote went away with the request. */
                        starter_complete(s, "the zygote ended before it forked the starter");
                return 0;
        }
        memcpy(&pid, s->starter_buf, sizeof pid);
        if (pid <= 0) {
                /* The zygote could not fork: its report follows the pid. */
                starter_complete(s, "the zygote could not fork the starter");
                return 0;
        }
        /* From now on the starter's end tells: it is the daemon's child, its pid stays ours. */
        s->starter_report_source = sd_event_source_disable_unref(s->starter_report_source);
        s->starter_pid = pid;
        int pidfd = pidfd_open_pid(pid);
        int r = pidfd < 0
                        ? pidfd
                        : sd_event_add_io(m->event, &s->starter_source, pidfd, EPOLLIN, on_starter_exit, s);
        if (r < 0) {
                safe_close(pidfd);
                /* Cannot watch it: wait for it here, it takes a moment at most. */
                siginfo_t si = {};
                (void)waitid(P_PID, (id_t)pid, &si, WEXITED);
                starter_complete(s, "the starter could not be watched");
                return 0;
        }
        s->starter_pidfd = pidfd;
        return 0;
}

int starter_run(Service *s, const StartRequest *req, Error *reterr)
{
        Manager *m = s->manager;
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(reterr, -errno, "creating the starter's pipe");
        rd = p[0];
        wr = p[1];
        r = fd_nonblock(rd, true);
        if (r < 0)
                return error_set(reterr, r, "creating the starter's pipe");
        s->starter_buf = malloc(STARTER_BUF_MAX);
        if (!s->starter_buf)
                return -ENOMEM;
        s->starter_len = 0;

        StarterWork w = {
                .root = m->oci_root,
                .id = s->name,
                .bundle = req->bundle,
                .ident = req->journal_ident,
                .systemd_cgroup = req->systemd_cgroup,
                .stdio = {req->stdio[0], req->stdio[1], req->stdio[2]},
                .report = wr,
                .daemon = getpid(),
        };
        r = m->zygote_fd >= 0 ? zygote_send(m, &w) : -ENOTCONN;
        if (r < 0 && m->zygote_fd >= 0) {
                log_warning("The zygote is gone (%s); making a new one.", strerror(-r));
                manager_zygote_stop(m);
                if (manager_zygote_start(m) >= 0)
                        r = zygote_send(m, &w);
        }
        if (r < 0) {
                /* No zygote: fork the starter here. */
                pid_t pid = fork();
                if (pid < 0) {
                        s->starter_buf = mfree(s->starter_buf);
                        return error_set(reterr, -errno, "forking the starter");
                }
                if (pid == 0) {
                        rd = safe_close(rd);
                        starter_main(&w);
                }
        }
        wr = safe_close(wr);
        r = sd_event_add_io(m->event, &s->starter_report_source, rd, EPOLLIN, on_starter_report, s);
        if (r < 0) {
                /* The starter goes on without anyone listening; what it makes is found as a
                 * stray and an orphan. Rare enough (no memory) not to do better. */
                s->starter_buf = mfree(s->starter_buf);
                return error_set(reterr, r, "watching the starter");
        }
        s->starter_fd = TAKE_FD(rd);
        s->starter_pid = -1; /* under way; its pid comes through the pipe */
        m->n_starters++;
        return 0;
}

void starter_finish(Service *s)
{
        if (s->starter_pid == 0)
                return;
        /* The daemon exits: wait for the rest of this start (a moment) and record it. */
        if (s->starter_pid < 0) {
                struct pollfd pfd = {.fd = s->starter_fd, .events = POLLIN};
                while (s->starter_len < sizeof(int32_t)) {
                        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                break;
                        size_t before = s->starter_len;
                        starter_read(s);
                        if (s->starter_len == before && (pfd.revents & (POLLHUP | POLLERR)))
                                break;
                }
                (void)on_starter_report(s->starter_report_source, s->starter_fd, POLLIN | POLLHUP, s);
                if (s->starter_pid <= 0)
                        return;
        }
        siginfo_t si = {};
        while (waitid((idtype_t)P_PIDFD, (id_t)s->starter_pidfd, &si, WEXITED | WNOWAIT) < 0 &&
               errno == EINTR)
                ;
        (void)on_starter_exit(s->starter_source, s->starter_pidfd, EPOLLIN, s);
}

static bool manager_waits_for(Manager *m, pid_t pid)
{
        for (size_t i = 0; i < m->n_services; i++) {
                const Service *s = m->services[i];
                if (pid == s->main_pid || pid == s->starter_pid || pid == s->health_exec.pid ||
                    pid == s->reload_exec.pid)
                        return true;
        }
        return false;
}

void manager_reap_strays(Manager *m)
{
        for (;;) {
                siginfo_t si = {};
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                if (si.si_pid == m->zygote_pid) {
                        (void)waitid(P_PID, (id_t)si.si_pid, &si, WEXITED | WNOHANG);
                        log_warning("The zygote (PID %d) ended; the next start makes a new one.",
                                    (int)m->zygote_pid);
                        m->zygote_pid = 0;
                        m->zygote_fd = safe_close(m->zygote_fd);
                        continue;
                }
                /* One the daemon watches is reaped by its own handler, soon. */
                if (manager_waits_for(m, si.si_pid))
                        return;
                (void)waitid(P_PID, (id_t)si.si_pid, &si, WEXITED | WNOHANG);
                log_debug("Reaped process %d, left behind by a container's start or a hook.",
                          (int)si.si_pid);
        }
}
