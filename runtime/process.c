/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The last steps before the container's program runs, shared by create and exec: rlimits,
 * scheduling, personality, working directory (checked to be inside the rootfs:
 * CVE-2024-21626), user and groups, the five capability sets (inheritable and ambient only as
 * given: CVE-2022-29162), no_new_privs, LSM labels, seccomp, and every descriptor from 3 up
 * close-on-exec.
 */

#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>

#include "runtime/internal.h"

struct sched_attr_compat {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime;
        uint64_t sched_deadline;
        uint64_t sched_period;
};

static const char *rlimit_name(int resource)
{
        static const char *const names[] = {
                [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
                [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
                [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
                [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
                [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
                [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
                [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
                [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
        };
        return resource >= 0 && (size_t)resource < ELEMENTSOF(names) && names[resource] ? names[resource]
                                                                                        : "RLIMIT_?";
}

/* Hard limits above the ones this process holds need CAP_SYS_RESOURCE, which the runtime may
 * lack (the machines here do): such a limit is kept at the hard limit we hold, as the issue and
 * podman's defaults (RLIMIT_NPROC 1048576) need, instead of failing the container. */
static int apply_rlimits(const RuntimeProcess *p, Error *reterr)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const SpecRlimit *l = &p->rlimits[i];
                struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard}, cur;
                if (setrlimit(l->resource, &rl) >= 0)
                        continue;
                int r = -errno;
                if (r == -EPERM && getrlimit(l->resource, &cur) >= 0 && rl.rlim_max > cur.rlim_max) {
                        rl.rlim_max = cur.rlim_max;
                        rl.rlim_cur = MIN(rl.rlim_cur, cur.rlim_max);
                        if (setrlimit(l->resource, &rl) >= 0)
                                continue;
                        r = -errno;
                }
                return error_set(reterr, r, "setting %s to %" PRIu64 ":%" PRIu64, rlimit_name(l->resource),
                                 l->soft, l->hard);
        }
        return 0;
}

static int apply_scheduler(const RuntimeProcess *p, Error *reterr)
{
        if (p->has_scheduler) {
                struct sched_attr_compat a = {
                        .size = sizeof a,
                        .sched_policy = p->sched_policy,
                        .sched_flags = p->sched_flags,
                        .sched_nice = p->sched_nice,
                        .sched_priority = p->sched_priority,
                        .sched_runtime = p->sched_runtime,
                        .sched_deadline = p->sched_deadline,
                        .sched_period = p->sched_period,
                };
                if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                        return error_set(reterr, -errno, "process.scheduler");
        }
        if (p->has_io_priority && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
                                          (p->io_priority_class << 13) | p->io_priority) < 0)
                return error_set(reterr, -errno, "process.ioPriority");
        return 0;
}

int process_apply_pre(ChildContext *c, Error *reterr)
{
        const RuntimeProcess *p = c->process;
        int r = apply_rlimits(p, reterr);
        if (r < 0)
                return r;
        r = apply_scheduler(p, reterr);
        if (r < 0)
                return r;
        if (c->spec->has_personality && personality(c->spec->personality) < 0)
                return error_set(reterr, -errno, "linux.personality");

        /* The working directory, resolved in the container: a leaked host directory fd or a
         * "/proc/self/fd/N" cwd would end up outside, which getcwd() reports (CVE-2024-21626). */
        if (chdir(p->cwd) < 0)
                return error_set(reterr, -errno, "process.cwd: %s", p->cwd);
        char buf[PATH_MAX];
        if (!getcwd(buf, sizeof buf) || buf[0] != '/')
                return error_set_msg(reterr, -EPERM,
                                     "process.cwd: %s is outside the container (possible breakout)", p->cwd);
        return 0;
}

/* The LSM exec labels are written by the trampoline, right before the target's execve (see
 * runtime/trampoline.c): here only the directory /proc/<tid>/attr of a private procfs instance is
 * opened (never the container's /proc, which it may have replaced or shadowed: CVE-2019-16884,
 * CVE-2025-52881), checked to be on procfs, and handed on. */
static int open_label_dir(ChildContext *c, Error *reterr)
{
        const RuntimeProcess *p = c->process;
        if (!p->apparmor_profile && !p->selinux_label)
                return 0;
        _cleanup_close_ int procfd = -EBADF;
        int r = procfs_open_private(&procfd, reterr);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof path, "%i/attr", (int)syscall(SYS_gettid));
        int fd = openat_resolve(procfd, path, O_PATH | O_DIRECTORY, 0,
                                CTR_RESOLVE_BENEATH | CTR_RESOLVE_NO_MAGICLINKS | CTR_RESOLVE_NO_XDEV);
        if (fd < 0)
                return error_set(reterr, fd, "opening /proc/%s", path);
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
                safe_close(fd);
                return error_set_msg(reterr, -EPERM, "/proc/%s is not on procfs", path);
        }
        c->lsm_attr_fd = fd;
        return 0;
}

static int capset_all(uint64_t eff, uint64_t perm, uint64_t inh)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {
                {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
                {.effective = (uint32_t)(eff >> 32),
                 .permitted = (uint32_t)(perm >> 32),
                 .inheritable = (uint32_t)(inh >> 32)},
        };
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

/* SCMP_ACT_NOTIFY: the listener goes to the runtime, which sends it on to
 * linux.seccomp.listenerPath with the state; we wait until it has, so that a failure there fails
 * the start (or exec) instead of leaving the process's notified calls with nobody to answer. The
 * filter is already on: these few calls (sendmsg, recvfrom) must not be notified themselves. */
static int hand_over_listener(ChildContext *c, int listener, Error *reterr)
{
        int r;
        if (c->exec) {
                SyncHeader h = {.type = SYNC_SECCOMP};
                r = send_with_fd(c->sync_fd, &h, sizeof h, listener);
                if (r < 0)
                        return error_set(reterr, r, "handing over the seccomp listener");
                return sync_expect(c->sync_fd, SYNC_SECCOMP_DONE, NULL, NULL, reterr);
        }
        r = send_with_fd(c->sync_fd, START_SECCOMP_LISTENER, strlen(START_SECCOMP_LISTENER), listener);
        if (r < 0)
                return error_set(reterr, r, "handing over the seccomp listener");
        char ack;
        ssize_t n;
        do
                n = recv(c->sync_fd, &ack, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return error_set_msg(reterr, n < 0 ? -errno : -EPIPE,
                                     "the seccomp listener was not passed to linux.seccomp.listenerPath");
        return 0;
}

static int install_seccomp(ChildContext *c, Error *reterr)
{
        if (!c->seccomp)
                return 0;
        _cleanup_close_ int listener = -EBADF;
        int r = seccomp_program_install(c->seccomp, &listener);
        if (r < 0)
                return error_set(reterr, r, "installing the seccomp filter");
        if (listener >= 0)
                return hand_over_listener(c, listener, reterr);
        return 0;
}

int process_apply_final(ChildContext *c, Error *reterr)
{
        const RuntimeProcess *p = c->process;
        int r;

        r = open_label_dir(c, reterr);
        if (r < 0)
                return r;

        /* Without no_new_privs the filter needs CAP_SYS_ADMIN, which we are about to drop. */
        if (!p->no_new_privileges) {
                r = install_seccomp(c, reterr);
                if (r < 0)
                        return r;
        }

        if (p->has_caps) {
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return error_set(reterr, -errno, "PR_SET_KEEPCAPS");
                for (int cap = 0; cap <= c->cap_last && cap < 64; cap++)
                        if (!(p->caps[CAP_SET_BOUNDING] & (UINT64_C(1) << cap)) &&
                            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                                return error_set(reterr, -errno, "dropping %s from the bounding set",
                                                 strna(capability_to_name(cap)));
        }

        size_t ng = p->n_additional_gids;
        if (setgroups(ng, p->additional_gids) < 0 && !(errno == EPERM && ng == 0))
                return error_set(reterr, -errno, "process.user.additionalGids");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return error_set(reterr, -errno, "process.user.gid %u", (unsigned)p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return error_set(reterr, -errno, "process.user.uid %u", (unsigned)p->uid);

        if (p->has_caps) {
                uint64_t known = c->cap_last >= 63 ? UINT64_MAX : (UINT64_C(1) << (c->cap_last + 1)) - 1;
                r = capset_all(p->caps[CAP_SET_EFFECTIVE] & known, p->caps[CAP_SET_PERMITTED] & known,
                               p->caps[CAP_SET_INHERITABLE] & known);
                if (r < 0)
                        return error_set(reterr, r, "setting capabilities");
                (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                        return error_set(reterr, -errno, "clearing ambient capabilities");
                for (int cap = 0; cap <= c->cap_last && cap < 64; cap++)
                        if ((p->caps[CAP_SET_AMBIENT] & (UINT64_C(1) << cap)) &&
                            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                                return error_set(reterr, -errno, "raising ambient %s",
                                                 strna(capability_to_name(cap)));
        } else {
                /* Keep what the user has, but never pass anything on through inheritance. */
                struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
                struct __user_cap_data_struct d[2];
                if (syscall(SYS_capget, &h, d) >= 0) {
                        d[0].inheritable = d[1].inheritable = 0;
                        (void)syscall(SYS_capset, &h, d);
                }
                (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        }

        if (p->no_new_privileges) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return error_set(reterr, -errno, "setting no_new_privs");
                r = install_seccomp(c, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int find_executable(const char *name, char *const *env, char **ret)
{
        struct stat st;
        if (strchr(name, '/')) {
                if (stat(name, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return -EISDIR;
                char *s = strdup(name);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (char *const *e = env; e && *e; e++)
                if (startswith(*e, "PATH="))
                        path = *e + 5;
        int last = -ENOENT;
        for (const char *p = path;;) {
                const char *colon = strchrnul(p, ':');
                size_t len = colon - p;
                _cleanup_free_ char *cand =
                        len == 0 ? strdup(name) : strprintf("%.*s/%s", (int)len, p, name);
                if (!cand)
                        return -ENOMEM;
                if (stat(cand, &st) >= 0 && S_ISREG(st.st_mode)) {
                        if (access(cand, X_OK) >= 0) {
                                *ret = TAKE_PTR(cand);
                                return 0;
                        }
                        last = -EACCES;
                }
                if (!*colon)
                        break;
                p = colon + 1;
        }
        return last;
}

/* Moves *fd to a number >= min (close-on-exec), so it is not among the descriptors passed on. */
static int fd_move_above(int *fd, int min)
{
        if (*fd < 0 || *fd >= min)
                return 0;
        int n = fcntl(*fd, F_DUPFD_CLOEXEC, min);
        if (n < 0)
                return -errno;
        safe_close(*fd);
        *fd = n;
        return 0;
}

/* Executes the container's program through the exec trampoline (runtime/trampoline.c). A failure
 * of the trampoline's own execve (the target's ENOENT, EACCES, ENOEXEC, ...) reaches the runtime
 * the way the runtime's own did: the trampoline writes it to report_fd (create: `start`'s
 * connection, plain text) or else to the sync socket (exec: a SYNC_ERROR packet), and exits 127. */
_noreturn_ void process_exec(ChildContext *c, const char *path, int report_fd)
{
        const RuntimeProcess *p = c->process;
        Error e = ERROR_INIT;
        umask(p->has_umask ? p->umask : 0022);

        bool text = report_fd >= 0;
        int rfd = text ? report_fd : c->sync_fd;
        int r = 0;

        /* Nothing of ours survives into the container (CVE-2024-21626): everything from 3 up is
         * close-on-exec except the descriptors the caller asked to pass on, and ours are first
         * moved out of their range. The report socket and the LSM attr directory stay open for
         * the trampoline, which closes them before the target runs. */
        unsigned keep = c->opts->preserve_fds;
        int min = 3 + (int)keep;
        if ((r = fd_move_above(&rfd, min)) < 0 || (r = fd_move_above(&c->trampoline_fd, min)) < 0 ||
            (r = fd_move_above(&c->lsm_attr_fd, min)) < 0) {
                error_set(&e, r, "executing %s", path);
                goto fail;
        }
        if (text)
                report_fd = rfd;
        else
                c->sync_fd = rfd;
        (void)fds_cloexec_from(min);
        for (unsigned i = 0; i < keep; i++)
                (void)fd_cloexec(3 + (int)i, false);
        (void)fd_cloexec(rfd, false);

        char report[32], aa[64], se[64];
        char *head[4] = {report};
        size_t nh = 1;
        snprintf(report, sizeof report, "%c%i", text ? 't' : 's', rfd);
        char *aa_arg = NULL, *se_arg = NULL; /* freed by _exit or execve */
        if (c->lsm_attr_fd >= 0) {
                (void)fd_cloexec(c->lsm_attr_fd, false);
                if (p->apparmor_profile) {
                        snprintf(aa, sizeof aa, "%i/apparmor/exec=exec ", c->lsm_attr_fd);
                        head[nh++] = aa_arg = strjoin(aa, p->apparmor_profile);
                }
                if (p->selinux_label) {
                        snprintf(se, sizeof se, "%i/exec=", c->lsm_attr_fd);
                        head[nh++] = se_arg = strjoin(se, p->selinux_label);
                }
                if ((p->apparmor_profile && !aa_arg) || (p->selinux_label && !se_arg)) {
                        error_set(&e, -ENOMEM, "executing %s", path);
                        goto fail;
                }
        }
        head[nh] = NULL;

        char *empty[] = {NULL};
        r = trampoline_exec(c->trampoline_fd, c->trampoline_no_execveat, c->lsm_attr_fd < 0, head, path,
                            p->args, p->env ?: empty);
        if (r == -EPERM && c->trampoline_no_execveat)
                error_set_msg(
                        &e, r,
                        "executing %s: the seccomp profile does not allow execveat(2), which starts "
                        "the process (through the runtime's exec trampoline), and /proc/self/fd is not "
                        "usable instead",
                        path);
        else
                error_set(&e, r, "executing %s: starting the exec trampoline", path);
fail:
        if (text)
                (void)send(report_fd, error_message(&e), strlen(error_message(&e)), MSG_NOSIGNAL);
        else
                sync_send_error(c->sync_fd, r, &e);
        _exit(127);
}
