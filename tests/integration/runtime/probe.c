/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe: a small static program copied into the test containers as /probe. Each subcommand
 * reports one thing the container sees, in a line the tests match:
 *
 *   probe caps                 "inh=HEX prm=HEX eff=HEX bnd=HEX amb=HEX"
 *   probe fds                  one line per descriptor >= 3: "N TARGET"
 *   probe cwd                  the working directory, or "error NAME"
 *   probe dumpable             prctl(PR_GET_DUMPABLE)
 *   probe rlimit NAME          "SOFT HARD" (NOFILE, NPROC, CORE, STACK, ...; -1 = unlimited)
 *   probe open PATH [r|w|p]    "ok" or "error NAME" (p: O_PATH)
 *   probe mkdir PATH [MODE]    "ok" or "error NAME" (MODE octal, default 0755)
 *   probe sethostname NAME     "ok" or "error NAME"
 *   probe umask                the umask in octal
 *   probe nnp                  prctl(PR_GET_NO_NEW_PRIVS)
 *   probe sched                "policy=N nice=N ioprio-class=N ioprio=N"
 *   probe ids                  "uid=U gid=G groups=G1,G2"
 *   probe stdin                copies stdin to stdout
 *   probe keyring              the session keyring: "SERIAL DESCRIPTION" (keyctl), or "error NAME"
 *   probe seccomp-agent SOCKET ERRNO
 *                              (on the host) a seccomp agent for linux.seccomp.listenerPath: accepts
 *                              one connection, prints "state: JSON" (the container process state that
 *                              came with the listener fd), then answers every notification with
 *                              -ERRNO (a name such as ENOTBLK) and prints "notification: nr=N pid=P",
 *                              until no process uses the filter any more (at most 90 s in all)
 *   probe notify ASSIGNMENT…   sends the assignments ("READY=1", "STATUS=…"), one per line, as one
 *                              datagram to $NOTIFY_SOCKET, sd_notify's protocol; "ok" or "error NAME"
 *   probe recvtty SOCKET       (on the host) runc's --console-socket protocol: accepts one
 *                              connection, takes the pty master it sends and copies what the
 *                              container writes to stdout until the pty closes
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>

static int report(int r)
{
        if (r < 0) {
                const char *n = strerrorname_np(errno);
                printf("error %s\n", n ? n : "unknown");
                return 1;
        }
        printf("ok\n");
        return 0;
}

static int do_caps(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return report(-1);
        char line[256], inh[32] = "", prm[32] = "", eff[32] = "", bnd[32] = "", amb[32] = "";
        while (fgets(line, sizeof line, f)) {
                sscanf(line, "CapInh: %31s", inh);
                sscanf(line, "CapPrm: %31s", prm);
                sscanf(line, "CapEff: %31s", eff);
                sscanf(line, "CapBnd: %31s", bnd);
                sscanf(line, "CapAmb: %31s", amb);
        }
        fclose(f);
        printf("inh=%s prm=%s eff=%s bnd=%s amb=%s\n", inh, prm, eff, bnd, amb);
        return 0;
}

static int do_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return report(-1);
        struct dirent *de;
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] == '.' || fd < 3 || fd == dirfd(d))
                        continue;
                char p[64], t[PATH_MAX] = "";
                snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(p, t, sizeof t - 1);
                if (n > 0)
                        t[n] = 0;
                printf("%d %s\n", fd, t);
        }
        closedir(d);
        return 0;
}

static const struct {
        const char *name;
        int res;
} rlimits[] = {
        {"NOFILE", RLIMIT_NOFILE}, {"NPROC", RLIMIT_NPROC},     {"CORE", RLIMIT_CORE},
        {"STACK", RLIMIT_STACK},   {"AS", RLIMIT_AS},           {"CPU", RLIMIT_CPU},
        {"FSIZE", RLIMIT_FSIZE},   {"MEMLOCK", RLIMIT_MEMLOCK},
};

static int do_rlimit(const char *name)
{
        for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++)
                if (strcmp(rlimits[i].name, name) == 0) {
                        struct rlimit rl;
                        if (getrlimit(rlimits[i].res, &rl) < 0)
                                return report(-1);
                        printf("%lld %lld\n", rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur,
                               rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max);
                        return 0;
                }
        fprintf(stderr, "unknown rlimit %s\n", name);
        return 2;
}

/* Listens on a stream socket at path and accepts one connection: its fd, -2 for a path too
 * long, -1 with errno. */
static int accept_one(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -2;
        strcpy(sa.sun_path, path);
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0)
                return -1;
        return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

static int do_recvtty(const char *path)
{
        int c = accept_one(path);
        if (c < 0)
                return c == -2 ? 2 : report(-1);
        char name[256], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (n < 0 || !cm || cm->cmsg_type != SCM_RIGHTS)
                return report(-1);
        int master;
        memcpy(&master, CMSG_DATA(cm), sizeof master);
        fprintf(stderr, "recvtty: got a pty (%.*s)\n", (int)n, name);
        char buf[4096];
        while ((n = read(master, buf, sizeof buf)) > 0)
                if (write(1, buf, n) != n)
                        return 1;
        return 0;
}

static int do_notify(int n, char **assignments)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char msg[4096];
        size_t len = 0;

        if (!path || strlen(path) >= sizeof sa.sun_path) {
                errno = EINVAL;
                return report(-1);
        }
        strcpy(sa.sun_path, path);
        for (int i = 0; i < n; i++) {
                int w = snprintf(msg + len, sizeof msg - len, "%s%s", i ? "\n" : "", assignments[i]);
                if (w < 0 || (size_t)w >= sizeof msg - len) {
                        errno = EMSGSIZE;
                        return report(-1);
                }
                len += (size_t)w;
        }
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return report(-1);
        ssize_t r = sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof sa);
        close(fd);
        return report(r < 0 ? -1 : 0);
}

static int do_keyring(void)
{
        long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
        if (id < 0)
                return report(-1);
        char d[4096];
        long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, d, sizeof d, 0);
        if (n < 0)
                return report(-1);
        d[sizeof d - 1] = '\0';
        /* "type;uid;gid;perm;description" */
        const char *desc = d;
        for (int i = 0; i < 4 && desc; i++)
                if ((desc = strchr(desc, ';')))
                        desc++;
        printf("%ld %s\n", id, desc ? desc : d);
        return 0;
}

static int do_seccomp_agent(const char *path, const char *errname)
{
        static const struct {
                const char *name;
                int value;
        } errnos[] = {{"ENOTBLK", ENOTBLK}, {"EXDEV", EXDEV}, {"EPERM", EPERM}, {"ENOSYS", ENOSYS}};
        int answer = 0;
        for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
                if (strcmp(errnos[i].name, errname) == 0)
                        answer = errnos[i].value;
        if (!answer)
                return 2;
        alarm(90); /* a test that fails must not leave us waiting for ever */
        setvbuf(stdout, NULL, _IONBF, 0);
        int c = accept_one(path);
        if (c < 0)
                return c == -2 ? 2 : report(-1);
        static char buf[65536];
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (n <= 0 || !cm || cm->cmsg_type != SCM_RIGHTS) {
                printf("no listener fd\n");
                return 1;
        }
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        size_t len = (size_t)n;
        while (len < sizeof buf - 1 && (n = read(c, buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t)n;
        buf[len] = '\0';
        close(c);
        printf("state: %s\n", buf);
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int k = poll(&p, 1, 60000);
                if (k <= 0 || (p.revents & (POLLHUP | POLLERR)))
                        break;
                struct seccomp_notif req;
                struct seccomp_notif_resp resp;
                memset(&req, 0, sizeof req);
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
                        if (errno == EINTR || errno == ENOENT)
                                continue;
                        return report(-1);
                }
                memset(&resp, 0, sizeof resp);
                resp.id = req.id;
                resp.error = -answer;
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                        return report(-1);
                printf("notification: nr=%d pid=%u\n", req.data.nr, req.pid);
        }
        printf("done\n");
        return 0;
}

int main(int argc, char *argv[])
{
        const char *cmd = argc > 1 ? argv[1] : "";

        if (strcmp(cmd, "caps") == 0)
                return do_caps();
        if (strcmp(cmd, "fds") == 0)
                return do_fds();
        if (strcmp(cmd, "cwd") == 0) {
                char buf[PATH_MAX];
                if (!getcwd(buf, sizeof buf))
                        return report(-1);
                printf("%s\n", buf);
                return 0;
        }
        if (strcmp(cmd, "dumpable") == 0) {
                printf("%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
                return 0;
        }
        if (strcmp(cmd, "sched") == 0) {
                errno = 0;
                int nice = getpriority(PRIO_PROCESS, 0);
                long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
                printf("policy=%d nice=%d ioprio-class=%ld ioprio=%ld\n", sched_getscheduler(0), nice,
                       io < 0 ? -1 : io >> 13, io < 0 ? -1 : io & 0xff);
                return 0;
        }
        if (strcmp(cmd, "nnp") == 0) {
                printf("%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
                return 0;
        }
        if (strcmp(cmd, "umask") == 0) {
                mode_t m = umask(0);
                printf("%04o\n", (unsigned)m);
                return 0;
        }
        if (strcmp(cmd, "ids") == 0) {
                gid_t g[64];
                int n = getgroups(64, g);
                printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
                for (int i = 0; i < n; i++)
                        printf("%s%u", i ? "," : "", (unsigned)g[i]);
                printf("\n");
                return 0;
        }
        if (strcmp(cmd, "rlimit") == 0 && argc > 2)
                return do_rlimit(argv[2]);
        if (strcmp(cmd, "open") == 0 && argc > 2) {
                const char *m = argc > 3 ? argv[3] : "r";
                int flags = m[0] == 'w' ? O_WRONLY : m[0] == 'p' ? O_PATH : O_RDONLY;
                return report(open(argv[2], flags | O_CLOEXEC));
        }
        if (strcmp(cmd, "mkdir") == 0 && argc > 2)
                return report(mkdir(argv[2], argc > 3 ? (mode_t)strtoul(argv[3], NULL, 8) : 0755));
        if (strcmp(cmd, "sethostname") == 0 && argc > 2)
                return report(sethostname(argv[2], strlen(argv[2])));
        if (strcmp(cmd, "notify") == 0 && argc > 2)
                return do_notify(argc - 2, argv + 2);
        if (strcmp(cmd, "recvtty") == 0 && argc > 2)
                return do_recvtty(argv[2]);
        if (strcmp(cmd, "keyring") == 0)
                return do_keyring();
        if (strcmp(cmd, "seccomp-agent") == 0 && argc > 3)
                return do_seccomp_agent(argv[2], argv[3]);
        if (strcmp(cmd, "stdin") == 0) {
                char buf[4096];
                ssize_t n;
                while ((n = read(0, buf, sizeof buf)) > 0)
                        if (write(1, buf, n) != n)
                                return 1;
                return n < 0;
        }
        fprintf(stderr, "usage: probe caps|fds|cwd|dumpable|nnp|umask|ids|rlimit N|open P [r|w|p]|"
                        "mkdir P|sethostname N|notify A…|stdin|keyring|seccomp-agent S E\n");
        return 2;
}
