/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The forked child: joins or creates the namespaces, forks once more where a pid or time
 * namespace demands it, sets up the rootfs (create) and waits for start, or goes straight on to
 * execute (exec). It runs in a copy of the caller without re-executing any binary, so it is made
 * non-dumpable first: no process of the container can open /proc/PID/exe (our binary) or
 * /proc/PID/mem of it before it has executed the container's program (CVE-2019-5736). That
 * program is then executed through the sealed exec trampoline (runtime/trampoline.c), never from
 * our binary, so no /proc/self/exe in the container leads back to it.
 */

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>

#include "runtime/internal.h"

#define CHILD_FAIL(c, r, e)                              \
        do {                                             \
                sync_send_error((c)->sync_fd, (r), (e)); \
                _exit(1);                                \
        } while (0)

static void reset_signals(void)
{
        sigset_t ss;
        sigemptyset(&ss);
        (void)sigprocmask(SIG_SETMASK, &ss, NULL);
        struct sigaction sa = {.sa_handler = SIG_DFL};
        for (int sig = 1; sig < _NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                (void)sigaction(sig, &sa, NULL);
        }
}

/* Joins namespaces given by path (all but the user namespace, done before). */
static int join_namespaces(ChildContext *c, Error *reterr)
{
        /* mount last: the paths of the others are resolved in our current mount namespace */
        static const NamespaceType order[] = {NS_IPC,    NS_UTS,  NS_NETWORK, NS_PID,
                                              NS_CGROUP, NS_TIME, NS_MOUNT};
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                NamespaceType t = order[i];
                const char *p = c->spec->ns_path[t];
                if (!c->spec->ns[t] || !p)
                        continue;
                _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return error_set(reterr, -errno, "opening %s namespace %s",
                                         namespace_type_to_string(t), p);
                if (setns(fd, namespace_type_clone_flag(t)) < 0)
                        return error_set(reterr, -errno, "joining %s namespace %s",
                                         namespace_type_to_string(t), p);
        }
        return 0;
}

#define KEYCTL_GET_KEYRING_ID       0
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM              5
#define KEYCTL_DESCRIBE             6
#define KEY_USR_SEARCH              0x00080000U

int join_session_keyring(const char *id, Error *reterr)
{
        _cleanup_free_ char *name = strjoin("_ses.", id);
        if (!name)
                return error_set(reterr, -ENOMEM, "session keyring");
        long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
        if (key < 0) {
                if (errno == ENOSYS || errno == EPERM)
                        return 0;
                return error_set(reterr, -errno, "joining session keyring %s", name);
        }
        /* Searchable by its user too (runc's permissions), so that exec'd processes find it by
         * name. "type;uid;gid;perm;description", perm in hex. */
        char desc[4096 + 64];
        long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc, 0);
        if (n < 0 || (size_t)n > sizeof desc)
                return error_set(reterr, n < 0 ? -errno : -E2BIG, "describing session keyring %s", name);
        desc[sizeof desc - 1] = '\0';
        const char *f = desc;
        for (int i = 0; i < 3 && f; i++)
                if ((f = strchr(f, ';')))
                        f++;
        unsigned perm;
        if (!f || sscanf(f, "%x", &perm) != 1)
                return error_set_msg(reterr, -EBADMSG, "session keyring %s: unexpected description", name);
        if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, perm | KEY_USR_SEARCH, 0, 0) < 0)
                return error_set(reterr, -errno, "setting permissions of session keyring %s", name);
        return 0;
}

static int write_time_offsets(ChildContext *c, Error *reterr)
{
        char buf[128];
        int n = snprintf(buf, sizeof buf, "monotonic %" PRIi64 " %u\nboottime %" PRIi64 " %u\n",
                         c->spec->monotonic_secs, c->spec->monotonic_nsecs, c->spec->boottime_secs,
                         c->spec->boottime_nsecs);
        _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(reterr, -errno, "opening /proc/self/timens_offsets");
        if (write(fd, buf, n) != n)
                return error_set(reterr, -errno, "writing time namespace offsets");
        return 0;
}

/* create: user namespace first, then the paths, then the new ones. Returns whether the caller
 * must fork again (pid/time namespaces only take effect for children). */
static int create_namespaces(ChildContext *c, bool *ret_fork, Error *reterr)
{
        const RuntimeSpec *s = c->spec;
        int r;

        if (s->ns[NS_USER]) {
                if (s->ns_path[NS_USER]) {
                        _cleanup_close_ int fd = open(s->ns_path[NS_USER], O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                return error_set(reterr, -errno, "opening user namespace %s",
                                                 s->ns_path[NS_USER]);
                        if (setns(fd, CLONE_NEWUSER) < 0)
                                return error_set(reterr, -errno, "joining user namespace %s",
                                                 s->ns_path[NS_USER]);
                } else {
                        if (unshare(CLONE_NEWUSER) < 0)
                                return error_set(reterr, -errno, "creating user namespace");
                        /* unshare resets dumpable for the new credentials' sake; keep it off */
                        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                        r = sync_send(c->sync_fd, SYNC_USERNS, 0, 0, NULL);
                        if (r < 0)
                                return error_set(reterr, r, "user namespace");
                        r = sync_expect(c->sync_fd, SYNC_USERNS_DONE, NULL, NULL, reterr);
                        if (r < 0)
                                return r;
                }
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return error_set(reterr, -errno,
                                         "becoming root in the user namespace (is uid/gid 0 mapped?)");
        }

        r = join_namespaces(c, reterr);
        if (r < 0)
                return r;

        int flags = 0;
        for (int t = 0; t < _NS_MAX; t++)
                if (t != NS_USER && s->ns[t] && !s->ns_path[t])
                        flags |= namespace_type_clone_flag(t);
        flags &= ~(int)c->clone_ns_flags;
        if (flags && unshare(flags) < 0)
                return error_set(reterr, -errno, "creating namespaces");
        if (s->has_time_offsets) {
                r = write_time_offsets(c, reterr);
                if (r < 0)
                        return r;
        }
        *ret_fork = (s->ns[NS_PID] && !(c->clone_ns_flags & CLONE_NEWPID)) || s->ns[NS_TIME];
        return 0;
}

static int join_container(ChildContext *c, bool *ret_fork, Error *reterr)
{
        /* Everything at once through the init's pidfd (Linux 5.8+). */
        int flags = c->ns_flags;
        if (flags && setns(c->pidfd, flags) < 0)
                return error_set(reterr, -errno, "joining the container's namespaces");
        if (flags & CLONE_NEWUSER)
                (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        *ret_fork = flags & (CLONE_NEWPID | CLONE_NEWTIME);
        return 0;
}

static int setup_stdio(ChildContext *c, Error *reterr)
{
        const int *in = c->opts->stdio;
        int tmp[3] = {-1, -1, -1};
        /* Move out of the way first: the given fds may be 0..2 in another order. */
        for (int i = 0; i < 3; i++)
                if (in[i] >= 0) {
                        tmp[i] = fcntl(in[i], F_DUPFD_CLOEXEC, 3);
                        if (tmp[i] < 0)
                                return error_set(reterr, -errno, "duplicating stdio fd %i", in[i]);
                }
        for (int i = 0; i < 3; i++)
                if (tmp[i] >= 0) {
                        if (dup3(tmp[i], i, 0) < 0)
                                return error_set(reterr, -errno, "setting up stdio");
                        safe_close(tmp[i]);
                }
        return 0;
}

static int set_hostname(ChildContext *c, Error *reterr)
{
        const RuntimeSpec *s = c->spec;
        if (s->has_hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return error_set(reterr, -errno, "setting hostname \"%s\"", s->hostname);
        if (s->has_domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return error_set(reterr, -errno, "setting domainname \"%s\"", s->domainname);
        return 0;
}

static bool want_hooks_round_trip(const RuntimeSpec *s)
{
        return s->n_hooks[HOOK_PRESTART] || s->n_hooks[HOOK_CREATE_RUNTIME] ||
               s->n_hooks[HOOK_CREATE_CONTAINER] || s->n_hooks[HOOK_START_CONTAINER];
}

/* create: everything from the rootfs to waiting for start, then exec. */
_noreturn_ static void init_main(ChildContext *c)
{
        Error e = ERROR_INIT;
        const RuntimeSpec *s = c->spec;
        _cleanup_free_ char *state_json = NULL, *exe = NULL;
        int r, rootfd = -1, procfd = -1;

        r = setup_stdio(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        if (c->opts->child_setup) {
                r = c->opts->child_setup(c->opts->child_setup_userdata, &e);
                if (r < 0) {
                        error_prefix(&e, r, "container setup callback");
                        CHILD_FAIL(c, r, &e);
                }
        }
        if (!c->no_new_keyring) {
                r = join_session_keyring(c->id, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        r = rootfs_setup(c, &rootfd, &e);
        if (r < 0) {
                error_prefix(&e, r, "setting up rootfs");
                CHILD_FAIL(c, r, &e);
        }
        r = set_hostname(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        if (s->sysctl || c->process->apparmor_profile || c->process->selinux_label) {
                r = procfs_open_private(&procfd, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
                r = write_sysctls(c, procfd, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        if (want_hooks_round_trip(s)) {
                r = sync_send(c->sync_fd, SYNC_HOOKS, 0, 0, NULL);
                /* the reply carries the state for the in-container hooks */
                if (r >= 0)
                        r = sync_expect(c->sync_fd, SYNC_HOOKS_DONE, NULL, &state_json, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        r = hooks_run(s->hooks[HOOK_CREATE_CONTAINER], s->n_hooks[HOOK_CREATE_CONTAINER],
                      HOOK_CREATE_CONTAINER, strempty(state_json), c->trampoline_fd, NULL, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);

        r = rootfs_pivot(c, rootfd, &e);
        if (r < 0) {
                error_prefix(&e, r, "entering rootfs");
                CHILD_FAIL(c, r, &e);
        }
        if (c->process->terminal) {
                int slave = -1;
                r = console_setup(c, true, &slave, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        r = process_apply_pre(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        r = find_executable(c->process->args[0], c->process->env, &exe);
        if (r < 0) {
                error_set(&e, r, "executable \"%s\" not found in the container", c->process->args[0]);
                CHILD_FAIL(c, r, &e);
        }

        /* From here on we must outlive the runtime (it exits right after create). The parent
         * death signal goes before READY, or it could still fire when the runtime exits after
         * its GO; a runtime that dies before GO still takes us along: GO never comes (EOF). */
        (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        r = sync_send(c->sync_fd, SYNC_READY, 0, 0, NULL);
        if (r >= 0)
                r = sync_expect(c->sync_fd, SYNC_GO, NULL, NULL, &e);
        if (r < 0)
                _exit(1);
        c->sync_fd = safe_close(c->sync_fd);

        int conn;
        for (;;) {
                conn = accept4(c->start_listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn >= 0)
                        break;
                if (errno != EINTR && errno != ECONNABORTED)
                        _exit(1);
        }
        char b;
        if (recv(conn, &b, 1, 0) != 1)
                _exit(1);
        c->start_listen_fd = safe_close(c->start_listen_fd);
        c->sync_fd = conn; /* errors from here on go to `start` */

        r = hooks_run(s->hooks[HOOK_START_CONTAINER], s->n_hooks[HOOK_START_CONTAINER], HOOK_START_CONTAINER,
                      strempty(state_json), c->trampoline_fd, NULL, &e);
        if (r < 0) {
                (void)send(conn, error_message(&e), strlen(error_message(&e)), MSG_NOSIGNAL);
                _exit(1);
        }
        r = process_apply_final(c, &e);
        if (r < 0) {
                (void)send(conn, error_message(&e), strlen(error_message(&e)), MSG_NOSIGNAL);
                _exit(1);
        }
        safe_close(procfd);
        process_exec(c, exe, conn);
}

_noreturn_ void child_main(ChildContext *c)
{
        Error e = ERROR_INIT;
        bool need_fork = false;
        int r;

        /* Before anything else: nobody may ptrace us or open our /proc files. */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        reset_signals();
        umask(0);
        /* The state dir fd carries the runtime's flock: never hold it past our parent. */
        for (size_t i = 0; i < ELEMENTSOF(c->close_fds); i++)
                if (c->close_fds[i] >= 0)
                        c->close_fds[i] = safe_close(c->close_fds[i]);

        /* Wait until the parent has put us into the cgroup (systemd driver) etc. */
        r = sync_expect(c->sync_fd, SYNC_GO, NULL, NULL, &e);
        if (r < 0)
                _exit(1);

        r = c->exec ? join_container(c, &need_fork, &e) : create_namespaces(c, &need_fork, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);

        if (need_fork) {
                pid_t pid = clone3_fork(CLONE_PARENT, -1, NULL);
                if (pid < 0) {
                        error_set(&e, pid, "forking into the pid namespace");
                        CHILD_FAIL(c, pid, &e);
                }
                if (pid > 0) {
                        (void)sync_send(c->sync_fd, SYNC_PID, 0, pid, NULL);
                        _exit(0);
                }
                /* CLONE_PARENT: our parent is the runtime now; die with it during setup. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        } else
                (void)sync_send(c->sync_fd, SYNC_PID, 0, getpid(), NULL);
        /* The pid comes from the first stage, which may not have been scheduled yet: nothing we
         * send may overtake it (the runtime needs our pid for hooks, maps and the state). */
        r = sync_expect(c->sync_fd, SYNC_PID_DONE, NULL, NULL, &e);
        if (r < 0)
                _exit(1);

        if (!c->exec)
                init_main(c);

        /* exec */
        _cleanup_free_ char *exe = NULL;
        r = setup_stdio(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        if (c->opts->child_setup) {
                r = c->opts->child_setup(c->opts->child_setup_userdata, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        if (!c->no_new_keyring) {
                /* The container's keyring, not the caller's (by name: the init made it). */
                r = join_session_keyring(c->id, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        if (c->process->terminal) {
                int slave = -1;
                r = console_setup(c, false, &slave, &e);
                if (r < 0)
                        CHILD_FAIL(c, r, &e);
        }
        r = process_apply_pre(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        r = find_executable(c->process->args[0], c->process->env, &exe);
        if (r < 0) {
                error_set(&e, r, "executable \"%s\" not found in the container", c->process->args[0]);
                CHILD_FAIL(c, r, &e);
        }
        /* As for create: the parent death signal must be off before the runtime can exit. */
        (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        r = sync_expect(c->sync_fd, SYNC_GO, NULL, NULL, &e);
        if (r < 0)
                _exit(1);
        r = process_apply_final(c, &e);
        if (r < 0)
                CHILD_FAIL(c, r, &e);
        process_exec(c, exe, -1);
}
