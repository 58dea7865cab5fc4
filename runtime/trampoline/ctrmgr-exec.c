/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctrmgr-exec: the exec trampoline (CVE-2019-5736).
 *
 * The container's init and exec'd processes are forks of the runtime (ctrmgr-oci or ctrmgrd),
 * so until they execute something their /proc/self/exe is the host's runtime binary. If the
 * runtime executed the container's program directly, a program "/proc/self/exe" (or a script
 * "#!/proc/self/exe") would run the host binary inside the container, where a container process
 * can keep /proc/PID/exe open and write the binary once it is no longer busy. So the runtime
 * never executes the user's program itself: it executes this tiny static program from a sealed
 * memfd (runtime/trampoline.c), and this program executes the target. Any /proc/self/exe the
 * container can reach is then at most this sealed copy, never the host binary.
 *
 * Command line (built by the runtime, see process_exec()):
 *
 *   ctrmgr-exec REPORT [DIRFD/FILE=VALUE]... -- PATH ARGV0 ARGS...
 *
 *   REPORT          where to report a failed execve: "-" (standard error), "sN" (descriptor N, the
 *                   runtime's sync protocol: one SYNC_ERROR packet) or "tN" (descriptor N, one
 *                   packet of plain text: `start`'s socket)
 *   DIRFD/FILE=VALUE  writes VALUE to FILE opened below descriptor DIRFD, then closes DIRFD: the
 *                   LSM exec labels, /proc/<tid>/attr/{exec,apparmor/exec} of a private procfs.
 *                   They take effect at the next execve, which must be the target's (a write
 *                   before our own execve would label this trampoline instead, and the kernel
 *                   refuses writes through an attr file opened before an execve)
 *   PATH ARGV0 ...  the program, already resolved by the runtime, and its argv
 *
 * Every descriptor named here is made close-on-exec (or closed) before the target runs. On failure
 * the message is "executing PATH: STRERROR", as the runtime wrote it before, and the exit status
 * 127. Anything else (argv[0] other than "ctrmgr-exec", as when a container runs /proc/self/exe
 * of a trampoline) is refused with status 127: this program runs nothing it was not told to.
 *
 * Built -nostdlib -static for x86_64 and aarch64 (a few KB); elsewhere a small static libc
 * program with the same code.
 */

#include <stddef.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(CTRMGR_EXEC_LIBC)
/* No libc and no system headers (so that it also builds for the other architecture): the few
 * numbers it needs, the same on both (asm-generic errno and fcntl values). */
#define FREESTANDING 1
#if defined(__x86_64__)
#define __NR_write      1
#define __NR_close      3
#define __NR_execve     59
#define __NR_fcntl      72
#define __NR_exit_group 231
#define __NR_openat     257
#else
#define __NR_openat     56
#define __NR_close      57
#define __NR_write      64
#define __NR_fcntl      25
#define __NR_exit_group 94
#define __NR_execve     221
#endif
#define EPERM        1
#define ENOENT       2
#define EIO          5
#define E2BIG        7
#define ENOEXEC      8
#define EBADF        9
#define EAGAIN       11
#define ENOMEM       12
#define EACCES       13
#define EFAULT       14
#define EBUSY        16
#define ENOTDIR      20
#define EISDIR       21
#define EINVAL       22
#define ENFILE       23
#define EMFILE       24
#define ETXTBSY      26
#define EROFS        30
#define ENAMETOOLONG 36
#define ENOSYS       38
#define ELOOP        40
#define ELIBBAD      80
#define EINTR        4
#define O_WRONLY     01
#define O_CLOEXEC    02000000
#define F_SETFD      2
#define FD_CLOEXEC   1
#else
#define FREESTANDING 0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define SYNC_ERROR 'E' /* runtime/internal.h */

#if FREESTANDING
#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "        xor %ebp, %ebp\n"
        "        mov %rsp, %rdi\n"
        "        and $-16, %rsp\n"
        "        call trampoline_main\n"
        "        hlt\n");

static long sys4(long n, long a, long b, long c, long d)
{
        long ret;
        register long r10 __asm__("r10") = d;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                         : "rcx", "r11", "memory");
        return ret;
}
#else /* __aarch64__ */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "        mov x29, #0\n"
        "        mov x30, #0\n"
        "        mov x0, sp\n"
        "        bl trampoline_main\n"
        "        brk #0\n");

static long sys4(long n, long a, long b, long c, long d)
{
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
        return x0;
}
#endif

/* The compiler may emit calls to these even without a libc. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *s, int c, size_t n)
{
        unsigned char *p = s;
        while (n--)
                *p++ = (unsigned char)c;
        return s;
}
void *memcpy(void *d, const void *s, size_t n)
{
        unsigned char *p = d;
        const unsigned char *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}
#else
static long sys4(long n, long a, long b, long c, long d)
{
        long r = syscall(n, a, b, c, d);
        return r < 0 ? -errno : r;
}
#endif

#define sys1(n, a)       sys4((n), (long)(a), 0, 0, 0)
#define sys3(n, a, b, c) sys4((n), (long)(a), (long)(b), (long)(c), 0)

_Noreturn static void die(void)
{
        for (;;)
                sys1(__NR_exit_group, 127);
}

static size_t slen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

static int streq(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

/* Decimal descriptor number at *s, advancing *s; -1 if there is none. */
static int parse_fd(const char **s)
{
        const char *p = *s;
        int n = 0;
        if (*p < '0' || *p > '9')
                return -1;
        while (*p >= '0' && *p <= '9') {
                n = n * 10 + (*p - '0');
                if (n > 1 << 20)
                        return -1;
                p++;
        }
        *s = p;
        return n;
}

static const char *errno_text(int e)
{
        switch (e) {
        case EPERM:
                return "Operation not permitted";
        case ENOENT:
                return "No such file or directory";
        case EIO:
                return "Input/output error";
        case E2BIG:
                return "Argument list too long";
        case ENOEXEC:
                return "Exec format error";
        case EBADF:
                return "Bad file descriptor";
        case EAGAIN:
                return "Resource temporarily unavailable";
        case ENOMEM:
                return "Cannot allocate memory";
        case EACCES:
                return "Permission denied";
        case EFAULT:
                return "Bad address";
        case EBUSY:
                return "Device or resource busy";
        case ENOTDIR:
                return "Not a directory";
        case EISDIR:
                return "Is a directory";
        case EINVAL:
                return "Invalid argument";
        case ENFILE:
                return "Too many open files in system";
        case EMFILE:
                return "Too many open files";
        case ETXTBSY:
                return "Text file busy";
        case ENAMETOOLONG:
                return "File name too long";
        case ENOSYS:
                return "Function not implemented";
        case ELOOP:
                return "Too many levels of symbolic links";
        case ELIBBAD:
                return "Accessing a corrupted shared library";
        case EROFS:
                return "Read-only file system";
        default:
                return NULL;
        }
}

typedef struct Buf {
        char data[4096];
        size_t len;
} Buf;

static void buf_add(Buf *b, const char *s)
{
        while (*s && b->len < sizeof b->data)
                b->data[b->len++] = *s++;
}

static void buf_add_errno(Buf *b, int e)
{
        const char *t = errno_text(e);
        if (t) {
                buf_add(b, t);
                return;
        }
        char num[16];
        int i = sizeof num;
        num[--i] = '\0';
        do
                num[--i] = (char)('0' + e % 10);
        while ((e /= 10) && i > 0);
        buf_add(b, "Unknown error ");
        buf_add(b, num + i);
}

/* Reports "WHAT ARG: STRERROR(e)" (without the errno text when e is 0) where the runtime asked,
 * then exits 127. */
_Noreturn static void fail(char mode, int fd, const char *what, const char *arg, int e)
{
        static Buf b;
        if (mode == 's') {
                /* The sync protocol's header (runtime/internal.h SyncHeader: int32 type, int32
                 * code, int64 value), then the text, in one packet. */
                struct {
                        int32_t type;
                        int32_t code;
                        int64_t value;
                } h = {SYNC_ERROR, e ? -e : -EIO, 0};
                memcpy(b.data, &h, sizeof h);
                b.len = sizeof h;
        } else if (mode != 't') {
                buf_add(&b, "ctrmgr-exec: ");
                fd = 2;
        }
        buf_add(&b, what);
        buf_add(&b, arg);
        if (e) {
                buf_add(&b, ": ");
                buf_add_errno(&b, e);
        }
        if (mode != 's' && mode != 't')
                buf_add(&b, "\n");
        long r;
        do
                r = sys3(__NR_write, fd, b.data, b.len);
        while (r == -EINTR);
        die();
}

/* Writes one LSM attribute: DIRFD/FILE=VALUE. */
static void write_label(char mode, int rfd, const char *spec)
{
        const char *p = spec;
        int dirfd = parse_fd(&p);
        if (dirfd < 0 || *p != '/')
                fail(mode, rfd, "bad label argument ", spec, EINVAL);
        p++;
        static char file[256];
        size_t n = 0;
        while (*p && *p != '=' && n < sizeof file - 1)
                file[n++] = *p++;
        file[n] = '\0';
        if (*p != '=')
                fail(mode, rfd, "bad label argument ", spec, EINVAL);
        const char *value = p + 1;
        const char *what = streq(file, "apparmor/exec") ? "applying the AppArmor profile: "
                                                        : "applying the SELinux label: ";
        static Buf m;
        buf_add(&m, what);
        long fd = sys4(__NR_openat, dirfd, (long)file, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) {
                buf_add(&m, "opening /proc/thread-self/attr/");
                fail(mode, rfd, m.data, file, (int)-fd);
        }
        long r;
        do
                r = sys3(__NR_write, fd, value, slen(value));
        while (r == -EINTR);
        if (r < 0) {
                buf_add(&m, "writing /proc/thread-self/attr/");
                fail(mode, rfd, m.data, file, (int)-r);
        }
        sys1(__NR_close, fd);
        sys1(__NR_close, dirfd);
}

_Noreturn static void run(int argc, char **argv, char **envp)
{
        if (argc < 1 || !streq(argv[0], "ctrmgr-exec"))
                fail('-', 2,
                     "refusing to run: this is the container runtime's exec trampoline, not a program", "",
                     0);

        /* REPORT */
        char mode = '-';
        int rfd = 2;
        if (argc > 1 && (argv[1][0] == 's' || argv[1][0] == 't')) {
                const char *p = argv[1] + 1;
                int fd = parse_fd(&p);
                if (fd >= 0 && !*p) {
                        mode = argv[1][0];
                        rfd = fd;
                }
        }

        int i = 2;
        for (; i < argc && !streq(argv[i], "--"); i++)
                write_label(mode, rfd, argv[i]);
        if (i + 2 >= argc)
                fail(mode, rfd, "usage: ctrmgr-exec REPORT [DIRFD/FILE=VALUE]... -- PATH ARGV0 [ARGS]...",
                     "", 0);
        const char *path = argv[i + 1];
        char **target_argv = argv + i + 2;

        /* The report descriptor closes when the target has been executed: EOF tells the runtime
         * it ran. If it cannot be made close-on-exec it must not reach the container. */
        if (mode != '-' && sys3(__NR_fcntl, rfd, F_SETFD, FD_CLOEXEC) < 0) {
                sys1(__NR_close, rfd);
                mode = '-';
                rfd = 2;
        }
        long e = sys3(__NR_execve, path, target_argv, envp);
        fail(mode, rfd, "executing ", path, (int)-e);
}

#if FREESTANDING
/* Called by _start with the initial stack: argc, argv[], NULL, envp[], NULL. */
_Noreturn void trampoline_main(long *sp);
_Noreturn void trampoline_main(long *sp)
{
        int argc = (int)sp[0];
        char **argv = (char **)(sp + 1);
        run(argc, argv, argv + argc + 1);
}
#else
int main(int argc, char **argv, char **envp)
{
        run(argc, argv, envp);
}
#endif
