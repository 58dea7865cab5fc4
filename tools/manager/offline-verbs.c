/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctrmgr verbs that use the daemon's libraries directly rather than the bus:
 *   spec NAME        the OCI spec ctrmgrd would generate for the unit (manager/spec.c)
 *   exec NAME CMD…   run a command in the unit's running container through runtime/ (as root)
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include "bus-util.h"
#include "image/image.h"
#include "manager/manager.h"
#include "runtime/runtime.h"
#include "units/unit.h"
#include "verbs.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* ---------------------------------------------------------------- spec */

static int verb_spec(int argc, char **argv)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"unit-path", required_argument, NULL, 'U'},
                {"image-store", required_argument, NULL, 'I'},
                {"state-dir", required_argument, NULL, 'S'},
                {"cgroup-driver", required_argument, NULL, 'C'},
                {},
        };
        _cleanup_strv_free_ char **dirs = NULL;
        const char *store = NULL, *state = CTRMGR_DEFAULT_STATE_DIR, *driver = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: ctrmgr spec [OPTIONS] NAME\n\n"
                               "Print the OCI runtime spec (config.json) ctrmgrd generates for a unit: the "
                               "image's\n"
                               "config, then the unit's keys, then the security baseline. Reads the unit "
                               "files and\n"
                               "the image store itself; needs no daemon.\n\n"
                               "  --unit-path DIR        Search DIR instead of the default path "
                               "(repeatable)\n"
                               "  --image-store DIR      The image store (default "
                               "/var/lib/ctrmgr/images)\n"
                               "  --state-dir DIR        ctrmgrd's state (default " CTRMGR_DEFAULT_STATE_DIR
                               "): a running\n"
                               "                         container's rootfs resolves User= names\n"
                               "  --cgroup-driver DRIVER systemd or cgroupfs (default: systemd when it "
                               "runs)\n");
                        return 0;
                case 'U':
                        if (strv_extend(&dirs, optarg) < 0)
                                return 1;
                        break;
                case 'I':
                        store = optarg;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case 'C':
                        driver = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("ctrmgr spec: exactly one unit name expected.");
                return EXIT_USAGE;
        }
        const char *name = argv[optind];

        _cleanup_(unit_loader_freep) UnitLoader *loader = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        r = unit_loader_new(dirs, &loader);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the unit loader: %m"), 1;
        r = unit_loader_load(loader, name, &u, &e);
        if (r < 0) {
                log_error("%s", error_message(&e));
                return 1;
        }
        if (u->load_state != UNIT_LOAD_LOADED) {
                log_error("Unit %s is %s%s%s", u->name, unit_load_state_to_string(u->load_state),
                          u->load_error ? ":\n" : ".", strempty(u->load_error));
                return 1;
        }

        Manager m = {};
        m.config.store_dir = (char *)store;
        m.config.seccomp_profile = (char *)CTRMGR_DEFAULT_SECCOMP;
        m.read_only_store = true;
        if (driver)
                m.use_systemd = streq(driver, "systemd");
        else
                m.use_systemd = access("/run/systemd/system", F_OK) == 0;

        /* The running container's rootfs, when there is one, resolves user names. */
        _cleanup_free_ char *rootfs = strjoin(state, "/", u->name, "/rootfs");
        if (!rootfs)
                return 1;
        _cleanup_close_ int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

        json_object *spec = NULL;
        r = service_generate_spec(&m, u, rootfs, fd, &spec, NULL, &e);
        image_store_free(m.store);
        if (m.default_seccomp)
                json_object_put(m.default_seccomp);
        if (r < 0) {
                log_error("Failed to generate the spec of %s: %s", u->name, error_message(&e));
                return 1;
        }
        printf("%s\n", json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE |
                                                                    JSON_C_TO_STRING_SPACED));
        json_object_put(spec);
        return 0;
}

/* ---------------------------------------------------------------- exec */

static struct termios saved_termios;
static bool termios_saved;

static void restore_tty(void)
{
        if (termios_saved)
                (void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
}

static int recv_fd(int sock)
{
        char buf[CMSG_SPACE(sizeof(int))] = {}, data[256];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};

        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
                        return fd;
                }
        return -EBADMSG;
}

/* Copies stdin → master and master → stdout until the process exits and the pty drains. */
static void pump_pty(int master, int pidfd)
{
        char buf[8192];
        bool in_open = true;

        for (;;) {
                struct pollfd p[3] = {
                        {.fd = master, .events = POLLIN},
                        {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
                        {.fd = pidfd, .events = POLLIN},
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(master, buf, sizeof buf);
                        if (n <= 0)
                                return; /* EIO once the last slave fd closed */
                        (void)loop_write(STDOUT_FILENO, buf, (size_t)n);
                }
                if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n <= 0)
                                in_open = false;
                        else
                                (void)loop_write(master, buf, (size_t)n);
                }
                if ((p[2].revents & POLLIN) && !(p[0].revents & POLLIN))
                        return;
        }
}

static int verb_exec(int argc, char **argv)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"tty", no_argument, NULL, 't'},
                {"state-dir", required_argument, NULL, 'S'},
                {},
        };
        bool tty = false;
        const char *state = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+ht", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: ctrmgr exec [-t] [--state-dir DIR] NAME CMD [ARG…]\n\n"
                               "Run a command in the running container of a unit, with its namespaces, "
                               "cgroup,\n"
                               "capabilities and seccomp profile (root only).\n\n"
                               "  -t --tty           Give the command a terminal\n"
                               "     --state-dir DIR ctrmgrd's state directory (default: ctrmgrd's "
                               "StateDirectory,\n"
                               "                     else " CTRMGR_DEFAULT_STATE_DIR ")\n\n"
                               "Exit status: the command's; 128+N when a signal N killed it; 1 when it "
                               "could not run.\n");
                        return 0;
                case 't':
                        tty = true;
                        break;
                case 'S':
                        state = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind + 2 > argc) {
                log_error("ctrmgr exec: a unit name and a command are expected.");
                return EXIT_USAGE;
        }
        const char *name = argv[optind];
        char **args = argv + optind + 1;

        _cleanup_free_ char *state_dir = NULL;
        if (!state) {
                sd_bus *bus = NULL;
                if (sd_bus_open_system(&bus) >= 0)
                        (void)manager_get_string(bus, "StateDirectory", &state_dir);
                sd_bus_flush_close_unref(bus);
                state = state_dir ?: CTRMGR_DEFAULT_STATE_DIR;
        }
        _cleanup_free_ char *oci_root = strjoin(state, "/.oci");
        if (!oci_root)
                return 1;

        _cleanup_runtime_process_ RuntimeProcess *proc = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        r = runtime_process_from_container(oci_root, name, args, &proc, &e);
        if (r < 0) {
                log_error("Failed to exec in %s: %s", name, error_message(&e));
                return 1;
        }

        RuntimeOptions opts = RUNTIME_OPTIONS_INIT;
        _cleanup_close_ int listen_fd = -EBADF;
        _cleanup_free_ char *sock_path = NULL;
        if (tty) {
                r = runtime_process_set_terminal(proc, true);
                if (r < 0)
                        return log_error_errno(r, "Failed to request a terminal: %m"), 1;
                _cleanup_free_ char *term = strjoin("TERM=", getenv("TERM") ?: "xterm");
                if (term)
                        (void)runtime_process_add_env(proc, term);
                sock_path = strprintf("%s/.exec-%d.sock", state, (int)getpid());
                listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                if (!sock_path || listen_fd < 0 || strlen(sock_path) >= sizeof sa.sun_path)
                        return log_error("Failed to set up the console socket."), 1;
                strcpy(sa.sun_path, sock_path);
                (void)unlink(sock_path);
                if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 1) < 0)
                        return log_error_errno(-errno, "Failed to listen on %s: %m", sock_path), 1;
                opts.console_socket = sock_path;
        }

        pid_t pid;
        int pidfd = -EBADF;
        r = runtime_exec(oci_root, name, proc, &opts, &pid, &pidfd, &e);
        if (sock_path)
                (void)unlink(sock_path);
        if (r < 0) {
                log_error("Failed to exec in %s: %s", name, error_message(&e));
                return 1;
        }
        if (pidfd < 0)
                pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (tty) {
                _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                _cleanup_close_ int master = conn >= 0 ? recv_fd(conn) : -errno;
                if (master < 0) {
                        log_error_errno(master, "Failed to receive the terminal: %m");
                        kill(pid, SIGKILL);
                } else {
                        struct winsize ws;
                        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                (void)ioctl(master, TIOCSWINSZ, &ws);
                        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
                                struct termios raw = saved_termios;
                                cfmakeraw(&raw);
                                termios_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
                                atexit(restore_tty);
                        }
                        pump_pty(master, pidfd);
                        restore_tty();
                }
        }

        siginfo_t si = {};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0)
                return log_error_errno(-errno, "Failed to wait for the process: %m"), 1;
        safe_close(pidfd);
        if (si.si_code == CLD_EXITED)
                return si.si_status;
        return 128 + si.si_status;
}

static const Verb offline_verbs[] = {
        {"spec", "[--unit-path DIR]… NAME", "Print the OCI spec generated for a unit", verb_spec},
        {"exec", "[-t] NAME CMD…", "Run a command in a unit's running container", verb_exec},
};
REGISTER_VERBS(offline_verbs);
