/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exec trampoline, host side (CVE-2019-5736).
 *
 * The runtime never re-executes itself: the container's init and exec'd processes are forks of
 * ctrmgr-oci or of the daemon ctrmgrd, and their /proc/self/exe is the host binary until they
 * execute. Executing the user's program directly would let a program "/proc/self/exe" (or a
 * "#!/proc/self/exe" script) run the host binary inside the container, where another container
 * process can hold /proc/PID/exe open and write the binary once it is no longer busy.
 *
 * Why a trampoline and not what runc does: runc re-executes a sealed memfd copy of its whole
 * binary for every container, which costs a copy of megabytes and a second start of the runtime
 * (our speed goal is a fraction of crun's time). Here the final execve goes instead through a
 * static program of a few KB (runtime/trampoline/ctrmgr-exec.c), copied into a memfd sealed
 * against writing, growing, shrinking and re-sealing, and executed with execveat(AT_EMPTY_PATH);
 * it then executes the target. Whatever /proc/self/exe a container process can reach is at most
 * that sealed copy: running it does nothing (it refuses an argv it did not get from us), writing
 * it fails.
 *
 * One memfd per container process (create, exec, in-container hooks), never one shared by the
 * daemon's containers: seals do not cover xattrs, so a container root with CAP_SETFCAP could give
 * a shared copy file capabilities that another container's processes would then gain. A fresh
 * copy costs a few microseconds.
 *
 * What the extra execve leaves unchanged: the capability sets (the trampoline has no file
 * capabilities and is not setuid, so for the target's execve the kernel computes the same sets
 * from the same inheritable, bounding and ambient sets), no_new_privs and the seccomp filter
 * (inherited; the profile must allow execve as before, and execveat, which every common profile
 * does; see process_exec() for a profile that does not), the LSM exec label (written by the
 * trampoline itself, so that the transition happens at the target's execve as before), signal
 * masks and dispositions, rlimits, umask, cwd, personality and the environment.
 *
 * What it does not cover: between fork and execve the init still maps the host binary. It is not
 * dumpable from its first instruction, which keeps /proc/PID/exe away from every container
 * process that lacks CAP_SYS_PTRACE over the host's user namespace (so only a container without
 * a user namespace of its own that is given CAP_SYS_PTRACE could reach it, as with runc's
 * runc-dmz).
 */

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "runtime/internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

int trampoline_open(int *ret, Error *reterr)
{
        /* MFD_EXEC (Linux 6.3+) says so where vm.memfd_noexec would otherwise refuse execution. */
        _cleanup_close_ int fd = memfd_create("ctrmgr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create("ctrmgr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return error_set(
                        reterr, -errno,
                        "creating the exec trampoline (an executable memfd; is vm.memfd_noexec 2?)");
        int r = loop_write(fd, trampoline_elf, trampoline_elf_size);
        if (r < 0)
                return error_set(reterr, r, "writing the exec trampoline");
        /* F_SEAL_EXEC (Linux 6.3+) also keeps its mode from changing. */
        int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
        if (fcntl(fd, F_ADD_SEALS, seals | F_SEAL_EXEC) < 0 && fcntl(fd, F_ADD_SEALS, seals) < 0)
                return error_set(reterr, -errno, "sealing the exec trampoline");
        *ret = TAKE_FD(fd);
        return 0;
}

/* Whether /proc/self/fd/N names fd itself (so that execve of that path runs the trampoline). */
static bool proc_fd_is(int fd)
{
        char p[64];
        struct stat a, b;
        return fstat(fd, &a) >= 0 && stat(fd_proc_path(p, sizeof p, fd), &b) >= 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

int trampoline_exec(int tfd, bool no_execveat, bool allow_proc, char *const *head, const char *path,
                    char *const *argv, char *const *envp)
{
        /* ctrmgr-exec HEAD... -- PATH ARGV... */
        size_t nh = strv_length(head), na = strv_length(argv);
        char **a = calloc(1 + nh + 2 + na + 1, sizeof(char *));
        if (!a)
                return -ENOMEM;
        size_t n = 0;
        a[n++] = (char *)"ctrmgr-exec";
        for (size_t i = 0; i < nh; i++)
                a[n++] = head[i];
        a[n++] = (char *)"--";
        a[n++] = (char *)path;
        for (size_t i = 0; i < na; i++)
                a[n++] = argv[i];
        a[n] = NULL;

        int r = -ENOSYS;
        if (!no_execveat) {
                (void)syscall(SYS_execveat, tfd, "", a, envp, AT_EMPTY_PATH);
                r = -errno;
        }
        /* A profile that refuses execveat, or a kernel without it: the same file through procfs,
         * when the container's /proc really shows our descriptor. Not with descriptors for the
         * trampoline beyond the report socket (the LSM attr directories): a /proc the container
         * controls could swap in a program of its own between the check and the execve, and
         * that program must not get them. */
        if (allow_proc && proc_fd_is(tfd)) {
                char p[64];
                execve(fd_proc_path(p, sizeof p, tfd), a, envp);
                if (r == -ENOSYS)
                        r = -errno;
        } else if (no_execveat)
                r = -EPERM;
        free(a);
        return r;
}
