/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seccomp against the real kernel: profiles are compiled with libseccomp, installed in a forked
 * child, and the child checks what its syscalls return. TAP output. Root is not needed for the
 * filter itself (the child sets no_new_privs), but the suite runs as root like the others.
 */

#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include "runtime/seccomp.h"

static unsigned n_test, n_fail;

static void ok(bool cond, const char *fmt, ...) _printf_(2, 3);
static void ok(bool cond, const char *fmt, ...)
{
        va_list ap;

        printf("%s %u - ", cond ? "ok" : "not ok", ++n_test);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!cond)
                n_fail++;
}

static uint64_t default_caps(void)
{
        static const char *const names[] = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                            "CAP_FSETID",  "CAP_KILL",         "CAP_NET_BIND_SERVICE",
                                            "CAP_SETFCAP", "CAP_SETGID",       "CAP_SETPCAP",
                                            "CAP_SETUID",  "CAP_SYS_CHROOT"};
        uint64_t caps = 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int c = capability_from_name(names[i]);
                if (c >= 0)
                        caps |= UINT64_C(1) << c;
        }
        return caps;
}

static json_object *parse_json(const char *s)
{
        json_object *o = json_tokener_parse(s);
        if (!o) {
                fprintf(stderr, "bad test JSON: %s\n", s);
                exit(EXIT_FAILURE);
        }
        return o;
}

/* A syscall result in the child: the errno it failed with, 0 on success. */
#define SC_ERRNO(call) ((call) < 0 ? errno : 0)

/* Child check: on mismatch print and remember; the exit code is the number of failures. */
static int child_failures;
static void expect(const char *what, int got, int want)
{
        if (got != want) {
                fprintf(stderr, "  child: %s: got errno %d (%s), want %d (%s)\n", what, got, strerror(got),
                        want, strerror(want));
                child_failures++;
        }
}

typedef void (*ChildFn)(void);

/* Forks, installs p (with no_new_privs) and runs fn; returns the wait status. */
static int run_filtered(const SeccompProgram *p, ChildFn fn, int *ret_install_error)
{
        int pipefd[2];
        pid_t pid;
        int status = 0, install_error = 0;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int listener = -1, r;
                struct rlimit nocore = {};
                close(pipefd[0]);
                (void)setrlimit(RLIMIT_CORE, &nocore); /* TRAP and KILL_PROCESS would dump core */
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(100);
                r = seccomp_program_install(p, &listener);
                (void)!write(pipefd[1], &r, sizeof(r));
                if (r < 0)
                        _exit(101);
                if (listener >= 0)
                        close(listener); /* NOTIFY rules then fail with ENOSYS */
                fn();
                _exit(child_failures > 100 ? 100 : child_failures);
        }
        close(pipefd[1]);
        if (read(pipefd[0], &install_error, sizeof(install_error)) != sizeof(install_error))
                install_error = -EIO;
        close(pipefd[0]);
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (ret_install_error)
                *ret_install_error = install_error;
        return status;
}

static bool exited_ok(int status)
{
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ------------------------------------------------------------------ the containers-common profile */

static void child_default_profile(void)
{
        /* allowed */
        expect("getpid", SC_ERRNO(syscall(SYS_getpid)), 0);
        expect("personality(0xffffffff) (EQ condition, allowed)", SC_ERRNO(personality(0xffffffff)), 0);
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        expect("socket(AF_NETLINK, NETLINK_ROUTE)", fd < 0 ? errno : 0, 0);
        if (fd >= 0)
                close(fd);
        /* no CAP_SYS_ADMIN in the set: bpf is in the excludes-caps EPERM rule */
        expect("bpf (EPERM rule, caps excluded)", SC_ERRNO(syscall(SYS_bpf, -1, NULL, 0)), EPERM);
        expect("kexec_load (EPERM rule)", SC_ERRNO(syscall(SYS_kexec_load, 0, 0, NULL, 0)), EPERM);
        /* not in the profile: defaultErrnoRet 38 */
        expect("add_key (default action, ENOSYS)", SC_ERRNO(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0)),
               ENOSYS);
        /* two conditions ANDed, errnoRet 22: socket(AF_NETLINK, *, NETLINK_AUDIT) */
        expect("socket(AF_NETLINK, NETLINK_AUDIT) (errnoRet EINVAL)",
               SC_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT)), EINVAL);
        /* personality with a value the profile does not list: default action */
        expect("personality(PER_BSD)", SC_ERRNO(personality(PER_BSD)), ENOSYS);
}

static void child_default_profile_sys_admin(void)
{
        /* with CAP_SYS_ADMIN in the set, bpf is allowed: the kernel answers EINVAL, not the filter */
        expect("bpf(-1) with CAP_SYS_ADMIN", SC_ERRNO(syscall(SYS_bpf, -1, NULL, 0)), EINVAL);
}

static void test_default_profile(const char *cache_dir)
{
        _cleanup_(seccomp_config_freep) SeccompConfig *c = NULL, *c_admin = NULL;
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL, *p_admin = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        json_object *oci = NULL;
        SeccompProfileOptions opts = {.capabilities = default_caps()};
        uint64_t t0, t1;
        int r, status, ie = 0;

        if (access(SECCOMP_DEFAULT_PROFILE_PATH, R_OK) < 0) {
                printf("ok %u - # SKIP %s missing (Debian package golang-github-containers-common)\n",
                       ++n_test, SECCOMP_DEFAULT_PROFILE_PATH);
                return;
        }

        /* without the filter these do not fail the way the filter makes them (else the test proves nothing)
         */
        ok(SC_ERRNO(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0)) != ENOSYS, "add_key is implemented here");
        ok(SC_ERRNO(syscall(SYS_bpf, -1, NULL, 0)) == EINVAL, "bpf(-1) fails with EINVAL here");

        t0 = now_usec(CLOCK_MONOTONIC);
        r = seccomp_profile_load_docker(SECCOMP_DEFAULT_PROFILE_PATH, &opts, &oci, &err);
        t1 = now_usec(CLOCK_MONOTONIC);
        ok(r == 0, "load containers-common profile: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        printf("# profile load + convert: %" PRIu64 " us\n", t1 - t0);

        r = seccomp_config_parse(oci, "linux.seccomp", &c, &err);
        ok(r == 0, "converted profile parses as OCI linux.seccomp: %s", r < 0 ? error_message(&err) : "ok");
        json_object_put(oci);
        oci = NULL;
        if (r < 0)
                return;
        ok(c->default_action == SECCOMP_ACTION_ERRNO && c->default_errno_ret == ENOSYS,
           "defaultAction ERRNO, defaultErrnoRet 38");
        ok(strv_contains(c->architectures, "SCMP_ARCH_X86_64") &&
                   strv_contains(c->architectures, "SCMP_ARCH_X32"),
           "architectures from archMap");

        /* compile without cache, several times for a median-ish figure */
        uint64_t best_compile = UINT64_MAX;
        for (int i = 0; i < 3; i++) {
                _cleanup_(seccomp_program_freep) SeccompProgram *q = NULL;
                t0 = now_usec(CLOCK_MONOTONIC);
                r = seccomp_prepare(c, NULL, &q, &err);
                t1 = now_usec(CLOCK_MONOTONIC);
                if (r < 0)
                        break;
                best_compile = MIN(best_compile, t1 - t0);
        }
        ok(r == 0, "compile without cache: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;

        /* cache: first a miss (compiles and stores), then hits */
        t0 = now_usec(CLOCK_MONOTONIC);
        r = seccomp_prepare(c, cache_dir, &p, &err);
        t1 = now_usec(CLOCK_MONOTONIC);
        ok(r == 0 && !seccomp_program_from_cache(p), "first prepare with cache compiles (%" PRIu64 " us)",
           t1 - t0);
        if (r < 0)
                return;
        size_t n = seccomp_program_size(p);
        p = seccomp_program_free(p);

        uint64_t best_hit = UINT64_MAX, best_parse_hit = UINT64_MAX;
        for (int i = 0; i < 20; i++) {
                _cleanup_(seccomp_config_freep) SeccompConfig *c2 = NULL;
                _cleanup_(seccomp_program_freep) SeccompProgram *q = NULL;
                json_object *o = NULL;

                /* The runtime's cost: linux.seccomp parsed from the spec, then prepare. The JSON
                 * text of the spec is parsed by the runtime; here we serialize and re-parse the
                 * converted object to include that work too. */
                r = seccomp_profile_load_docker(SECCOMP_DEFAULT_PROFILE_PATH, &opts, &o, &err);
                if (r < 0)
                        break;
                _cleanup_free_ char *text =
                        strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                json_object_put(o);
                t0 = now_usec(CLOCK_MONOTONIC);
                o = json_tokener_parse(text);
                r = seccomp_config_parse(o, "linux.seccomp", &c2, &err);
                uint64_t t_mid = now_usec(CLOCK_MONOTONIC);
                if (r >= 0)
                        r = seccomp_prepare(c2, cache_dir, &q, &err);
                t1 = now_usec(CLOCK_MONOTONIC);
                json_object_put(o);
                if (r < 0 || !seccomp_program_from_cache(q) || seccomp_program_size(q) != n) {
                        r = r < 0 ? r : -EIO;
                        break;
                }
                best_hit = MIN(best_hit, t1 - t_mid);
                best_parse_hit = MIN(best_parse_hit, t1 - t0);
        }
        ok(r == 0, "repeated prepare is served from the cache with the same program (%zu insns)", n);
        printf("# containers-common profile: compile %" PRIu64 " us; cached prepare %" PRIu64
               " us; JSON parse + config parse + cached prepare %" PRIu64 " us (best of runs)\n",
               best_compile, best_hit, best_parse_hit);

        /* What create and exec do: the cache keyed by the JSON object, no config parse on a hit. */
        uint64_t best_json_hit = UINT64_MAX;
        json_object *o = NULL;
        r = seccomp_profile_load_docker(SECCOMP_DEFAULT_PROFILE_PATH, &opts, &o, &err);
        for (int i = 0; r >= 0 && i < 21; i++) {
                _cleanup_(seccomp_program_freep) SeccompProgram *q = NULL;
                t0 = now_usec(CLOCK_MONOTONIC);
                r = seccomp_prepare_json(o, "linux.seccomp", cache_dir, &q, &err);
                t1 = now_usec(CLOCK_MONOTONIC);
                if (r >= 0 && i > 0 && (!seccomp_program_from_cache(q) || seccomp_program_size(q) != n))
                        r = -EIO;
                if (i > 0)
                        best_json_hit = MIN(best_json_hit, t1 - t0);
        }
        json_object_put(o);
        ok(r == 0, "prepared by its JSON, the profile is served from the cache with the same program");
        printf("# containers-common profile, keyed by its JSON: cached prepare %" PRIu64
               " us (best of runs)\n",
               best_json_hit);
        if (best_hit > 0 && best_parse_hit > 0)
                printf("# figure: seccomp.json compile %.1f ms vs cache hit %.3f ms (%.0fx less); "
                       "with the spec's JSON parsed %.3f ms (%.0fx less)\n",
                       (double)best_compile / 1000.0, (double)best_hit / 1000.0,
                       (double)best_compile / (double)best_hit, (double)best_parse_hit / 1000.0,
                       (double)best_compile / (double)best_parse_hit);

        r = seccomp_prepare(c, cache_dir, &p, &err);
        ok(r == 0, "prepare from cache");
        status = run_filtered(p, child_default_profile, &ie);
        ok(ie == 0, "install in child: %s", ie < 0 ? strerror(-ie) : "ok");
        ok(exited_ok(status), "child sees the profile's errnos (status 0x%x)", (unsigned)status);

        /* CAP_SYS_ADMIN in the set: includes/excludes by caps change the result */
        opts.capabilities |= UINT64_C(1) << capability_from_name("CAP_SYS_ADMIN");
        r = seccomp_profile_load_docker(SECCOMP_DEFAULT_PROFILE_PATH, &opts, &oci, &err);
        if (r >= 0)
                r = seccomp_config_parse(oci, "linux.seccomp", &c_admin, &err);
        json_object_put(oci);
        if (r >= 0)
                r = seccomp_prepare(c_admin, cache_dir, &p_admin, &err);
        ok(r == 0 && !seccomp_program_from_cache(p_admin),
           "profile with CAP_SYS_ADMIN is a different cache entry");
        if (r >= 0) {
                status = run_filtered(p_admin, child_default_profile_sys_admin, NULL);
                ok(exited_ok(status), "with CAP_SYS_ADMIN the profile allows bpf");
        }
}

/* ------------------------------------------------------------------ hand-written OCI configs */

static const char *const conditions_json =
        "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
        "  \"architectures\": [ \"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\" ],"
        "  \"flags\": [ \"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\" ],"
        "  \"syscalls\": ["
        "    { \"names\": [ \"umask\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42,"
        "      \"args\": [ { \"index\": 0, \"value\": 63, \"valueTwo\": 63, \"op\": \"SCMP_CMP_MASKED_EQ\" "
        "} ] },"
        "    { \"names\": [ \"getpriority\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 43,"
        "      \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" },"
        "                  { \"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\" } ] },"
        "    { \"names\": [ \"setpriority\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 44,"
        "      \"args\": [ { \"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\" },"
        "                  { \"index\": 2, \"value\": 10, \"op\": \"SCMP_CMP_GT\" } ] },"
        "    { \"names\": [ \"getppid\", \"no_such_syscall_at_all\" ], \"action\": \"SCMP_ACT_ERRNO\" },"
        "    { \"names\": [ \"getpgrp\" ], \"action\": \"SCMP_ACT_LOG\" },"
        "    { \"names\": [ \"getsid\" ], \"action\": \"SCMP_ACT_ALLOW\" }"
        "  ] }";

static void child_conditions(void)
{
        /* MASKED_EQ: (mode & 077) == 077 */
        expect("umask(077) MASKED_EQ match", SC_ERRNO(syscall(SYS_umask, 077)), 42);
        expect("umask(0177) MASKED_EQ match", SC_ERRNO(syscall(SYS_umask, 0177)), 42);
        expect("umask(022) MASKED_EQ no match", SC_ERRNO(syscall(SYS_umask, 022)), 0);
        /* same index twice: either matches (OR) */
        expect("getpriority(PRIO_PGRP)", SC_ERRNO(syscall(SYS_getpriority, PRIO_PGRP, 0)), 43);
        expect("getpriority(PRIO_USER)", SC_ERRNO(syscall(SYS_getpriority, PRIO_USER, 0)), 43);
        expect("getpriority(PRIO_PROCESS)", SC_ERRNO(syscall(SYS_getpriority, PRIO_PROCESS, 0)), 0);
        /* different indexes: both must match (AND) */
        expect("setpriority(PROCESS, 0, 15) both match",
               SC_ERRNO(syscall(SYS_setpriority, PRIO_PROCESS, 0, 15)), 44);
        expect("setpriority(PROCESS, 0, 5) second fails",
               SC_ERRNO(syscall(SYS_setpriority, PRIO_PROCESS, 0, 5)), 0);
        expect("setpriority(PGRP, 0, 15) first fails", SC_ERRNO(syscall(SYS_setpriority, PRIO_PGRP, 0, 15)),
               0);
        /* ERRNO without errnoRet: EPERM; the unknown name next to it was skipped */
        expect("getppid (ERRNO, default EPERM)", SC_ERRNO(syscall(SYS_getppid)), EPERM);
        expect("getpgrp (LOG: allowed)", SC_ERRNO(syscall(SYS_getpgrp)), 0);
}

static const char *const default_errno_json =
        "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 95,"
        "  \"syscalls\": [ { \"names\": [ \"read\", \"write\", \"exit\", \"exit_group\", \"rt_sigreturn\","
        "      \"brk\", \"mmap\", \"munmap\", \"fstat\", \"newfstatat\","
        "      \"getpid\", \"gettid\", \"sigaltstack\", \"rt_sigaction\", \"rt_sigprocmask\", \"mprotect\","
        "      \"madvise\", \"prctl\", \"sched_yield\" ], \"action\": \"SCMP_ACT_ALLOW\" },"
        "    { \"names\": [ \"getuid\" ], \"action\": \"SCMP_ACT_TRAP\" },"
        "    { \"names\": [ \"getgid\" ], \"action\": \"SCMP_ACT_KILL_PROCESS\" },"
        "    { \"names\": [ \"geteuid\" ], \"action\": \"SCMP_ACT_KILL_THREAD\" },"
        "    { \"names\": [ \"getegid\" ], \"action\": \"SCMP_ACT_KILL\" },"
        "    { \"names\": [ \"getsid\" ], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7 } ] }";

static void child_default_errno(void)
{
        /* (the allow list has what the sanitizers' runtime needs in the child) */
        expect("getpgrp (default errnoRet 95)", SC_ERRNO(syscall(SYS_getpgrp)), 95);
        /* no tracer attached: TRACE fails the call with ENOSYS */
        expect("getsid (TRACE without tracer)", SC_ERRNO(syscall(SYS_getsid, 0)), ENOSYS);
}
static void child_trap(void)
{
        syscall(SYS_getuid);
}
static void child_kill_process(void)
{
        syscall(SYS_getgid);
}
static void child_kill_thread(void)
{
        syscall(SYS_geteuid);
}
static void child_kill(void)
{
        syscall(SYS_getegid);
}

static const char *const notify_json =
        "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/nonexistent.sock\","
        "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }";

static void child_notify(void)
{
        /* run_filtered closed the listener: the kernel fails notified calls with ENOSYS */
        expect("getppid with closed listener", SC_ERRNO(syscall(SYS_getppid)), ENOSYS);
}

static int prepare_json(const char *json, const char *cache_dir, SeccompProgram **ret, Error *err)
{
        _cleanup_(seccomp_config_freep) SeccompConfig *c = NULL;
        json_object *o = parse_json(json);
        int r = seccomp_config_parse(o, "linux.seccomp", &c, err);
        json_object_put(o);
        if (r < 0)
                return r;
        return seccomp_prepare(c, cache_dir, ret, err);
}

static void test_conditions(const char *cache_dir)
{
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        int r, status, ie = 0;

        r = prepare_json(conditions_json, cache_dir, &p, &err);
        ok(r == 0, "argument conditions profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        status = run_filtered(p, child_conditions, &ie);
        ok(ie == 0, "install with TSYNC|SPEC_ALLOW flags: %s", ie < 0 ? strerror(-ie) : "ok");
        ok(exited_ok(status), "MASKED_EQ, OR on one index, AND across indexes, default EPERM, LOG");
        p = seccomp_program_free(p);

        r = prepare_json(default_errno_json, NULL, &p, &err);
        ok(r == 0, "default-deny profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        status = run_filtered(p, child_default_errno, NULL);
        ok(exited_ok(status), "defaultErrnoRet and TRACE (status 0x%x)", (unsigned)status);
        status = run_filtered(p, child_trap, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "SCMP_ACT_TRAP raises SIGSYS");
        status = run_filtered(p, child_kill_process, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS");
        status = run_filtered(p, child_kill_thread, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
           "SCMP_ACT_KILL_THREAD kills the (only) thread");
        status = run_filtered(p, child_kill, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "SCMP_ACT_KILL kills the (only) thread");
        p = seccomp_program_free(p);

        r = prepare_json(notify_json, NULL, &p, &err);
        ok(r == 0, "NOTIFY profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        ok(seccomp_program_install(p, NULL) == -EINVAL,
           "NOTIFY program refuses to install without a listener fd slot");
        status = run_filtered(p, child_notify, &ie);
        ok(ie == 0 && exited_ok(status),
           "NOTIFY installs, returns a listener fd, closed listener gives ENOSYS");
}

/* ------------------------------------------------------------------ every operator */

static const char *const ops_json =
        "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
        "  \"syscalls\": ["
        "    { \"names\": [ \"getpgid\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 45,"
        "      \"args\": [ { \"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_NE\" } ] },"
        "    { \"names\": [ \"sched_get_priority_max\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 46,"
        "      \"args\": [ { \"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_LT\" } ] },"
        "    { \"names\": [ \"sched_get_priority_min\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 47,"
        "      \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_LE\" } ] },"
        "    { \"names\": [ \"alarm\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 48,"
        "      \"args\": [ { \"index\": 0, \"value\": 100, \"op\": \"SCMP_CMP_GE\" } ] },"
        "    { \"names\": [ \"lseek\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 49,"
        "      \"args\": [ { \"index\": 1, \"value\": 4294967296, \"op\": \"SCMP_CMP_EQ\" } ] }"
        "  ] }";

static void child_ops(void)
{
        /* NE 0 */
        expect("getpgid(0) NE no match", SC_ERRNO(syscall(SYS_getpgid, 0)), 0);
        expect("getpgid(1) NE match", SC_ERRNO(syscall(SYS_getpgid, 1)), 45);
        /* LT 2 */
        expect("sched_get_priority_max(0) LT match", SC_ERRNO(syscall(SYS_sched_get_priority_max, 0)), 46);
        expect("sched_get_priority_max(1) LT match", SC_ERRNO(syscall(SYS_sched_get_priority_max, 1)), 46);
        expect("sched_get_priority_max(2) LT boundary", SC_ERRNO(syscall(SYS_sched_get_priority_max, 2)), 0);
        /* LE 1 */
        expect("sched_get_priority_min(1) LE match", SC_ERRNO(syscall(SYS_sched_get_priority_min, 1)), 47);
        expect("sched_get_priority_min(2) LE no match", SC_ERRNO(syscall(SYS_sched_get_priority_min, 2)), 0);
        /* GE 100 */
        expect("alarm(100) GE match", SC_ERRNO(syscall(SYS_alarm, 100)), 48);
        expect("alarm(99) GE no match", SC_ERRNO(syscall(SYS_alarm, 99)), 0);
        (void)syscall(SYS_alarm, 0);
        /* EQ on a 64-bit value: both halves are compared */
        expect("lseek(-1, 1<<32) EQ match", SC_ERRNO(syscall(SYS_lseek, -1, UINT64_C(1) << 32, SEEK_SET)),
               49);
        expect("lseek(-1, 0) low half only", SC_ERRNO(syscall(SYS_lseek, -1, 0, SEEK_SET)), EBADF);
        expect("lseek(-1, 2<<32) high half differs",
               SC_ERRNO(syscall(SYS_lseek, -1, UINT64_C(2) << 32, SEEK_SET)), EBADF);
        expect("lseek(-1, 1<<32 | 1) low half differs",
               SC_ERRNO(syscall(SYS_lseek, -1, (UINT64_C(1) << 32) | 1, SEEK_SET)), EBADF);
}

static void test_ops(const char *cache_dir)
{
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        int r, status, ie = 0;

        /* without a filter getpgid(1) and sched_get_priority_max(0) succeed */
        ok(syscall(SYS_getpgid, 1) >= 0 && syscall(SYS_sched_get_priority_max, 0) >= 0,
           "getpgid(1) and sched_get_priority_max(0) succeed unfiltered");
        r = prepare_json(ops_json, cache_dir, &p, &err);
        ok(r == 0, "NE/LT/LE/GE/EQ profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        status = run_filtered(p, child_ops, &ie);
        ok(ie == 0 && exited_ok(status), "SCMP_CMP_NE, _LT, _LE, _GE and a 64-bit _EQ (status 0x%x)",
           (unsigned)status);
}

/* ------------------------------------------------------------------ TRACE with a tracer */

static void test_trace_tracer(void)
{
        static const char *const json = "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
                                        "  \"syscalls\": [ { \"names\": [ \"getsid\" ], \"action\": "
                                        "\"SCMP_ACT_TRACE\", \"errnoRet\": 1234 } ] }";
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        unsigned long msg = 0;
        int status = 0, events = 0, r;

        r = prepare_json(json, NULL, &p, &err);
        ok(r == 0, "TRACE profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(100);
                raise(SIGSTOP);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_program_install(p, NULL) < 0)
                        _exit(101);
                /* the tracer lets it through: the real getsid runs */
                _exit(syscall(SYS_getsid, 0) >= 0 ? 0 : 102);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
                ok(false, "tracee did not stop");
                return;
        }
        (void)ptrace(PTRACE_SETOPTIONS, pid, NULL,
                     (void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL));
        (void)ptrace(PTRACE_CONT, pid, NULL, NULL);
        while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
                int sig = 0;
                if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
                        events++;
                        (void)ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg);
                } else
                        sig = WSTOPSIG(status);
                (void)ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
        }
        ok(events == 1 && msg == 1234 && exited_ok(status),
           "SCMP_ACT_TRACE stops at the tracer with errnoRet as the event message (%d events, msg %lu, "
           "status 0x%x)",
           events, msg, (unsigned)status);
}

/* ------------------------------------------------------------------ NOTIFY with a supervisor */

static int send_fd(int sock, int fd)
{
        char c = 'x';
        struct iovec iov = {.iov_base = &c, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int recv_fd(int sock)
{
        char c;
        struct iovec iov = {.iov_base = &c, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
                return -EIO;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                return -EBADMSG;
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd;
}

static void test_notify_supervisor(void)
{
        static const char *const json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/ctrmgr-test.sock\","
                "  \"flags\": [ \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }";
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_close_ int listener = -EBADF;
        int sv[2], status = 0, r;

        r = prepare_json(json, NULL, &p, &err);
        ok(r == 0, "NOTIFY + WAIT_KILLABLE_RECV profile compiles: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                int fd = -1;
                close(sv[0]);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(100);
                r = seccomp_program_install(p, &fd);
                if (r < 0) {
                        fprintf(stderr, "  child: install: %s\n", strerror(-r));
                        _exit(101);
                }
                /* as the runtime does with listenerPath: hand the fd to the supervisor, close ours */
                if (send_fd(sv[1], fd) < 0)
                        _exit(102);
                close(fd);
                long v = syscall(SYS_getppid);
                if (v != 4242)
                        fprintf(stderr, "  child: getppid() = %ld, want 4242 from the supervisor\n", v);
                _exit(v == 4242 ? 0 : 103);
        }
        close(sv[1]);
        listener = recv_fd(sv[0]);
        close(sv[0]);
        bool answered = false;
        struct seccomp_notif req = {};
        if (listener >= 0) {
                struct pollfd pf = {.fd = listener, .events = POLLIN};
                if (poll(&pf, 1, 5000) == 1 && ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                        struct seccomp_notif_resp resp = {.id = req.id, .val = 4242, .error = 0};
                        answered = req.data.nr == SYS_getppid && req.pid == (uint32_t)pid &&
                                   ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0;
                }
        }
        if (!answered && pid > 0)
                kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
        ok(listener >= 0 && answered && exited_ok(status),
           "SCMP_ACT_NOTIFY: the supervisor gets getppid (nr %d) from pid %u on the listener and its "
           "answer 4242 is the result (status 0x%x)",
           (int)req.data.nr, req.pid, (unsigned)status);
}

/* ------------------------------------------------------------------ flags */

static volatile int thread_result = -1;
static int thread_go[2];

static void *thread_main(void *arg)
{
        char c;
        (void)arg;
        if (read(thread_go[0], &c, 1) != 1)
                return NULL;
        thread_result = SC_ERRNO(syscall(SYS_getppid));
        return NULL;
}

/* A second thread exists before the filter goes on; with TSYNC it is filtered too. */
static int run_two_threads(const SeccompProgram *p)
{
        pid_t pid = fork();
        if (pid == 0) {
                pthread_t t;
                if (pipe2(thread_go, O_CLOEXEC) < 0 || pthread_create(&t, NULL, thread_main, NULL) != 0)
                        _exit(100);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_program_install(p, NULL) < 0)
                        _exit(101);
                (void)!write(thread_go[1], "x", 1);
                pthread_join(t, NULL);
                _exit(thread_result == 51 ? 51 : thread_result == 0 ? 0 : 102);
        }
        int status = 0;
        (void)waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void child_log_flags(void)
{
        expect("getppid (LOG: allowed)", SC_ERRNO(syscall(SYS_getppid)), 0);
        expect("getpgrp (ERRNO 52)", SC_ERRNO(syscall(SYS_getpgrp)), 52);
}

static void test_flags(void)
{
        static const char *const tsync_json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [ \"SECCOMP_FILTER_FLAG_TSYNC\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": 51 } ] }";
        static const char *const no_tsync_json = "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
                                                 "  \"syscalls\": [ { \"names\": [ \"getppid\" ], "
                                                 "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 51 } ] }";
        static const char *const log_json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
                "  \"flags\": [ \"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
                "             \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_LOG\" },"
                "                { \"names\": [ \"getpgrp\" ], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": 52 } ] }";
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL, *q = NULL, *l = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        int r;

        r = prepare_json(tsync_json, NULL, &p, &err);
        if (r >= 0)
                r = prepare_json(no_tsync_json, NULL, &q, &err);
        ok(r == 0, "TSYNC profiles compile: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        int a = run_two_threads(p), b = run_two_threads(q);
        ok(a == 51 && b == 0,
           "SECCOMP_FILTER_FLAG_TSYNC filters a thread that existed before (errno %d), without it that "
           "thread is not filtered (errno %d)",
           a, b);

        /* LOG (logged actions go to the audit log: not checked here) and SPEC_ALLOW install;
         * WAIT_KILLABLE_RECV only means something with a listener and is dropped without one */
        r = prepare_json(log_json, NULL, &l, &err);
        ok(r == 0, "LOG/SPEC_ALLOW/WAIT_KILLABLE_RECV profile compiles: %s",
           r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        int ie = 0;
        int status = run_filtered(l, child_log_flags, &ie);
        ok(ie == 0 && exited_ok(status),
           "installs with LOG|SPEC_ALLOW (WAIT_KILLABLE_RECV dropped: no NOTIFY): %s",
           ie < 0 ? strerror(-ie) : "ok");
}

/* ------------------------------------------------------------------ architectures */

#if defined(__x86_64__)
#define X32_SYSCALL_BIT 0x40000000

static long i386_syscall0(long nr)
{
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory");
        return r;
}

static void child_x32(void)
{
        /* the x32 ABI's getppid (the kernel may not serve x32: the filter decides first) */
        expect("x32 getppid", SC_ERRNO(syscall(X32_SYSCALL_BIT | SYS_getppid)), 53);
        expect("x86_64 getppid", SC_ERRNO(syscall(SYS_getppid)), 53);
}

static void child_i386(void)
{
        expect("i386 getppid (int 0x80, nr 64)", i386_syscall0(64) == -54 ? 54 : 0, 54);
        expect("x86_64 getppid", SC_ERRNO(syscall(SYS_getppid)), 54);
}

static void child_x32_unlisted(void)
{
        (void)syscall(X32_SYSCALL_BIT | SYS_getppid);
}

static void test_architectures(void)
{
        static const char *const x32_json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [ \"SCMP_ARCH_X32\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": 53 } ] }";
        static const char *const i386_json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [ \"SCMP_ARCH_X86\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": 54 } ] }";
        static const char *const native_json =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [ \"SCMP_ARCH_X86_64\" ],"
                "  \"syscalls\": [ { \"names\": [ \"getppid\" ], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": 55 } ] }";
        _cleanup_(seccomp_program_freep) SeccompProgram *x = NULL, *i = NULL, *n = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        int r, status;

        r = prepare_json(x32_json, NULL, &x, &err);
        if (r >= 0)
                r = prepare_json(i386_json, NULL, &i, &err);
        if (r >= 0)
                r = prepare_json(native_json, NULL, &n, &err);
        ok(r == 0, "x32, x86 and native-only profiles compile: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;

        status = run_filtered(x, child_x32, NULL);
        ok(exited_ok(status), "SCMP_ARCH_X32 listed: the rule applies to x32 calls too (status 0x%x)",
           (unsigned)status);
        /* an ABI the filter was not made for is refused outright (libseccomp's bad-arch action) */
        status = run_filtered(n, child_x32_unlisted, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
           "x32 call under a filter without SCMP_ARCH_X32 is killed with SIGSYS (status 0x%x)",
           (unsigned)status);

        /* i386 through int 0x80 needs the kernel's IA32 emulation */
        pid_t pid = fork();
        if (pid == 0) {
                signal(SIGSEGV, SIG_DFL); /* dies quietly, also under ASan */
                _exit(i386_syscall0(64) == getppid() ? 0 : 1);
        }
        status = 0;
        (void)waitpid(pid, &status, 0);
        if (!exited_ok(status)) {
                printf("ok %u - # SKIP SCMP_ARCH_X86: this kernel runs no i386 syscalls (IA32 emulation "
                       "off; "
                       "status 0x%x)\n",
                       ++n_test, (unsigned)status);
                return;
        }
        status = run_filtered(i, child_i386, NULL);
        ok(exited_ok(status), "SCMP_ARCH_X86 listed: the rule applies to int 0x80 calls (status 0x%x)",
           (unsigned)status);
        status = run_filtered(n, child_i386, NULL);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
           "i386 call under a filter without SCMP_ARCH_X86 is killed with SIGSYS (status 0x%x)",
           (unsigned)status);
}
#else
static void test_architectures(void)
{
        printf("ok %u - # SKIP architecture tests are written for x86_64\n", ++n_test);
}
#endif

/* ------------------------------------------------------------------ errors */

static void test_errors(void)
{
        static const struct {
                const char *json;
                const char *message;
        } cases[] = {
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_ALLOW\" }, {\"names\": [\"a\"], \"action\": \"SCMP_ACT_ERRNO\"}, {}, { "
                 "\"names\": "
                 "[\"write\"], \"action\": \"SCMP_ACT_FOO\" } ] }",
                 "linux.seccomp.syscalls[2].names: missing"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {}, {}, {}, { \"names\": "
                 "[\"write\"], \"action\": \"SCMP_ACT_FOO\" } ] }",
                 "linux.seccomp.syscalls[0].names: missing"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_ALLOW\" }, { \"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\" }, { "
                 "\"names\": "
                 "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\" }, { \"names\": [\"write\"], \"action\": "
                 "\"SCMP_ACT_FOO\" } ] }",
                 "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
                {"{ \"defaultAction\": \"SCMP_ACT_NOPE\" }",
                 "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\""},
                {"{ \"syscalls\": [] }", "linux.seccomp.defaultAction: missing"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [ \"SCMP_ARCH_Z80\" ] }",
                 "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\""},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [ \"SECCOMP_FILTER_FLAG_BOGUS\" ] }",
                 "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\""},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_ERRNO\", \"args\": [ { \"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" } ] "
                 "} ] }",
                 "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0..5)"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_ERRNO\", \"args\": [ { \"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_ALMOST\" "
                 "} ] } "
                 "] }",
                 "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ALMOST\""},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_KILL\", \"errnoRet\": 1 } ] }",
                 "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "
                 "SCMP_ACT_KILL"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": \"read\", "
                 "\"action\": "
                 "\"SCMP_ACT_KILL\" } ] }",
                 "linux.seccomp.syscalls[0].names: expected an array, got string"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_ERRNO\", \"args\": [ { \"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\" } "
                 "] } ] }",
                 "linux.seccomp.syscalls[0].args[0].value: expected an unsigned integer, got -1"},
                {"{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"read\"], "
                 "\"action\": "
                 "\"SCMP_ACT_NOTIFY\" } ] }",
                 "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
                {"{ \"defaultAction\": \"SCMP_ACT_NOTIFY\" }",
                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(seccomp_config_freep) SeccompConfig *c = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                json_object *o = parse_json(cases[i].json);
                int r = seccomp_config_parse(o, "linux.seccomp", &c, &err);
                json_object_put(o);
                ok(r < 0 && streq(error_message(&err), cases[i].message), "bad profile %zu: \"%s\"", i,
                   error_message(&err));
                if (!(r < 0 && streq(error_message(&err), cases[i].message)))
                        printf("#   want: \"%s\"\n", cases[i].message);
        }

        /* a bad Docker profile names the file */
        _cleanup_error_ Error err = ERROR_INIT;
        json_object *o = NULL;
        char path[] = "/tmp/ctrmgr-test-seccomp-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) {
                (void)!write(fd, "{ \"defaultAction\": 3 }", 22);
                close(fd);
                int r = seccomp_profile_load_docker(path, NULL, &o, &err);
                ok(r < 0 && strstr(error_message(&err), path) &&
                           strstr(error_message(&err), "defaultAction"),
                   "bad Docker profile names file and field: \"%s\"", error_message(&err));
                unlink(path);
        }
}

/* ------------------------------------------------------------------ the runtime's path: keyed by the JSON
 */

static size_t count_cache_entries(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        while (d && (de = readdir(d)))
                n += !!endswith(de->d_name, ".bpf");
        return n;
}

static int prepare_json_keyed(const char *json, const char *cache_dir, SeccompProgram **ret, Error *err)
{
        json_object *o = parse_json(json);
        int r = seccomp_prepare_json(o, "linux.seccomp", cache_dir, ret, err);
        json_object_put(o);
        return r;
}

static void test_prepare_json(const char *base)
{
        _cleanup_free_ char *dir = path_join(base, "json-keyed");
        int r, status, ie = 0;

        if (!dir)
                return;
        /* a miss compiles and stores, a hit gives the same program and what the runtime needs */
        for (int round = 0; round < 2; round++) {
                _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                r = prepare_json_keyed(notify_json, dir, &p, &err);
                ok(r == 0 && seccomp_program_from_cache(p) == (round > 0),
                   "NOTIFY profile by its JSON: %s (%s)", r < 0 ? error_message(&err) : "ok",
                   round > 0 ? "from the cache" : "compiled");
                if (r < 0)
                        return;
                ok(seccomp_program_needs_listener(p) && seccomp_program_allows_execveat(p),
                   "... it needs a listener and allows execveat");
                status = run_filtered(p, child_notify, &ie);
                ok(ie == 0 && exited_ok(status), "... and installs with a listener fd");
        }
        for (int round = 0; round < 2; round++) {
                _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                r = prepare_json_keyed(default_errno_json, dir, &p, &err);
                ok(r == 0 && seccomp_program_from_cache(p) == (round > 0) &&
                           !seccomp_program_needs_listener(p) && !seccomp_program_allows_execveat(p),
                   "default-deny profile by its JSON (%s): no listener, execveat not allowed",
                   round > 0 ? "from the cache" : "compiled");
                if (r < 0)
                        return;
                status = run_filtered(p, child_default_errno, NULL);
                ok(exited_ok(status), "... and it is the same filter (status 0x%x)", (unsigned)status);
        }
        ok(seccomp_program_allows_execveat(NULL), "no program: nothing forbids execveat");

        /* another value is another entry, not the stored program */
        {
                _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                _cleanup_free_ char *json = strdup(default_errno_json);
                char *v = json ? strstr(json, "95") : NULL;
                if (v)
                        v[1] = '4';
                r = v ? prepare_json_keyed(json, dir, &p, &err) : -ENOMEM;
                ok(r == 0 && !seccomp_program_from_cache(p), "a changed defaultErrnoRet compiles anew");
        }

        /* a bad object still fails with its JSON path and leaves nothing in the cache */
        {
                _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                size_t n = count_cache_entries(dir);
                r = prepare_json_keyed(
                        "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": "
                        "[\"read\"], \"action\": \"SCMP_ACT_FOO\" } ] }",
                        dir, &p, &err);
                ok(r < 0 && streq(error_message(&err),
                                  "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\""),
                   "a bad profile by its JSON: \"%s\"", error_message(&err));
                ok(count_cache_entries(dir) == n, "... and no cache entry for it");
        }

        /* a damaged entry is not used: compiled again and replaced */
        {
                _cleanup_closedir_ DIR *d = opendir(dir);
                struct dirent *de;
                size_t damaged = 0;
                while (d && (de = readdir(d)))
                        if (endswith(de->d_name, ".bpf")) {
                                int fd = openat(dirfd(d), de->d_name, O_WRONLY | O_CLOEXEC);
                                if (fd >= 0 && pwrite(fd, "X", 1, 0) == 1)
                                        damaged++;
                                if (fd >= 0)
                                        close(fd);
                        }
                _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL, *q = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                r = prepare_json_keyed(default_errno_json, dir, &p, &err);
                ok(damaged > 0 && r == 0 && !seccomp_program_from_cache(p),
                   "a damaged cache entry is compiled again (%zu damaged)", damaged);
                r = prepare_json_keyed(default_errno_json, dir, &q, &err);
                ok(r == 0 && seccomp_program_from_cache(q) &&
                           seccomp_program_size(q) == seccomp_program_size(p),
                   "... and replaced");
        }
}

static void test_cache_dir_checks(const char *base)
{
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_free_ char *dir = path_join(base, "world-writable");
        int r;

        if (!dir || mkdir(dir, 0700) < 0 || chmod(dir, 0777) < 0) {
                ok(false, "make world-writable cache dir");
                return;
        }
        r = prepare_json(conditions_json, dir, &p, &err);
        ok(r == -EPERM, "a world-writable cache dir is refused: \"%s\"", error_message(&err));
        rmdir(dir);
}

int main(void)
{
        char tmp[] = "/tmp/ctrmgr-test-seccomp-cache-XXXXXX";
        _cleanup_free_ char *cache = NULL;

        if (unshare(CLONE_NEWNS) == 0)
                (void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

        if (!mkdtemp(tmp)) {
                printf("Bail out! mkdtemp: %m\n");
                return EXIT_FAILURE;
        }
        cache = path_join(tmp, "cache");

        test_errors();
        test_conditions(cache);
        test_ops(cache);
        test_trace_tracer();
        test_notify_supervisor();
        test_flags();
        test_architectures();
        test_default_profile(cache);
        test_prepare_json(tmp);
        test_cache_dir_checks(tmp);

        (void)rm_rf_at(AT_FDCWD, tmp);
        printf("1..%u\n", n_test);
        return n_fail > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
