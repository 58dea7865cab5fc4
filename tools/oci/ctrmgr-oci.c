/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctrmgr-oci: runc's command line over runtime/. */

#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <poll.h>
#include <time.h>

#include "runtime/runtime.h"

static const char *arg_root = RUNTIME_DEFAULT_ROOT;
static const char *arg_log;
static bool arg_log_json;
static bool arg_systemd_cgroup;
static bool arg_debug;
static FILE *log_file;

static void log_sink(int level, const char *message, void *userdata)
{
        if (log_file) {
                if (arg_log_json) {
                        struct timespec ts;
                        struct tm tm;
                        char t[64];
                        clock_gettime(CLOCK_REALTIME, &ts);
                        gmtime_r(&ts.tv_sec, &tm);
                        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "level",
                                               json_object_new_string(level <= LOG_LEVEL_ERR ? "error"
                                                                      : level <= LOG_LEVEL_WARNING
                                                                              ? "warning"
                                                                      : level <= LOG_LEVEL_INFO ? "info"
                                                                                                : "debug"));
                        json_object_object_add(o, "msg", json_object_new_string(message));
                        json_object_object_add(o, "time", json_object_new_string(t));
                        fprintf(log_file, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                        json_object_put(o);
                } else
                        fprintf(log_file, "ctrmgr-oci: %s\n", message);
                fflush(log_file);
        }
        /* Errors always reach stderr too: engines show them from there. */
        if (level <= LOG_LEVEL_WARNING || !log_file)
                fprintf(stderr, "ctrmgr-oci: %s\n", message);
}

static void warn_cb(void *userdata, const char *message)
{
        log_warning("%s", message);
}

static void debug_cb(void *userdata, const char *message)
{
        log_debug("%s", message);
}

/* The callbacks every verb gives the runtime: warnings (limits the host cannot apply, failing
 * poststart/poststop hooks) and, with --debug, each step. */
static RuntimeOptions options_init(void)
{
        RuntimeOptions o = RUNTIME_OPTIONS_INIT;
        o.warn = warn_cb;
        if (arg_debug)
                o.debug = debug_cb;
        return o;
}

static const RuntimeOptions *warn_options(void)
{
        static RuntimeOptions o;
        o = options_init();
        return &o;
}

static int fail(int r, const Error *e, const char *what)
{
        log_error_errno(r, "%s: %s", what, error_isset(e) ? error_message(e) : strerror(-r));
        return 1;
}

static int usage_error(const char *verb, const char *msg)
{
        log_error("%s: %s", verb, msg);
        return 2;
}

static bool want_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return true;
        return false;
}

/* ---------------------------------------------------------------- create / run */

typedef struct CreateArgs {
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        unsigned preserve_fds;
        bool detach;
        bool keep;
        bool no_new_keyring;
} CreateArgs;

static int parse_create_args(int argc, char **argv, bool run, CreateArgs *a, const char **ret_id)
{
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"pid-file", required_argument, NULL, 'p'},
                {"console-socket", required_argument, NULL, 'c'},
                {"no-pivot", no_argument, NULL, 'P'},
                {"preserve-fds", required_argument, NULL, 'f'},
                {"no-new-keyring", no_argument, NULL, 'k'},
                {"detach", no_argument, NULL, 'd'},
                {"keep", no_argument, NULL, 'K'},
                {"no-subreaper", no_argument, NULL, 'S'},
                {},
        };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) >= 0)
                switch (c) {
                case 'b':
                        a->bundle = optarg;
                        break;
                case 'p':
                        a->pid_file = optarg;
                        break;
                case 'c':
                        a->console_socket = optarg;
                        break;
                case 'P':
                        a->no_pivot = true;
                        break;
                case 'f':
                        if (safe_atou(optarg, &a->preserve_fds) < 0)
                                return usage_error(argv[0], "invalid --preserve-fds");
                        break;
                case 'd':
                        if (!run)
                                return usage_error(argv[0], "unknown option --detach");
                        a->detach = true;
                        break;
                case 'K':
                        a->keep = true;
                        break;
                case 'k':
                        a->no_new_keyring = true;
                        break;
                case 'S':
                        break;
                default:
                        return 2;
                }
        if (optind != argc - 1)
                return usage_error(argv[0], "expects exactly one container id");
        *ret_id = argv[optind];
        return 0;
}

static int do_create_common(const CreateArgs *a, const char *id, pid_t *ret_pid)
{
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        const char *bundle = a->bundle ?: ".";
        int r = runtime_spec_load(bundle, &spec, &e);
        if (r < 0)
                return fail(r, &e, "loading config.json");
        RuntimeOptions o = options_init();
        o.bundle = bundle;
        o.console_socket = a->console_socket;
        o.pid_file = a->pid_file;
        o.preserve_fds = a->preserve_fds;
        o.no_pivot = a->no_pivot;
        o.no_new_keyring = a->no_new_keyring;
        o.systemd_cgroup = arg_systemd_cgroup;
        r = runtime_create(arg_root, id, spec, &o, ret_pid, NULL, &e);
        if (r < 0)
                return fail(r, &e, "create");
        return 0;
}

static int verb_create(int argc, char **argv)
{
        CreateArgs a = {};
        const char *id;
        int r = parse_create_args(argc, argv, false, &a, &id);
        if (r != 0)
                return r;
        return do_create_common(&a, id, NULL);
}

static int exit_status_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 1;
}

/* Waits for our child pid, passing on the signals we get; returns its exit status. */
static int wait_forwarding(pid_t pid, const sigset_t *mask)
{
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(mask, &si);
                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                if (sig == SIGCHLD) {
                        int status;
                        pid_t p;
                        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                                if (p == pid)
                                        return exit_status_of(status);
                        continue;
                }
                (void)kill(pid, sig);
        }
}

static void block_forwarded(sigset_t *mask)
{
        sigemptyset(mask);
        static const int sigs[] = {SIGCHLD, SIGTERM,  SIGINT,  SIGHUP,  SIGQUIT, SIGUSR1,
                                   SIGUSR2, SIGWINCH, SIGPIPE, SIGALRM, SIGCONT};
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(mask, sigs[i]);
        sigprocmask(SIG_BLOCK, mask, NULL);
}

static int verb_start(int argc, char **argv)
{
        if (argc != 2)
                return usage_error(argv[0], "expects exactly one container id");
        _cleanup_error_ Error e = ERROR_INIT;
        int r = runtime_start_with_options(arg_root, argv[1], warn_options(), &e);
        if (r < 0)
                return fail(r, &e, "start");
        return 0;
}

static int verb_run(int argc, char **argv)
{
        CreateArgs a = {};
        const char *id;
        int r = parse_create_args(argc, argv, true, &a, &id);
        if (r != 0)
                return r;
        sigset_t mask;
        /* Signals are queued from before create, so none is lost; the init is our child. */
        if (!a.detach)
                block_forwarded(&mask);
        pid_t pid = 0;
        r = do_create_common(&a, id, &pid);
        if (r != 0)
                return r;
        _cleanup_error_ Error e = ERROR_INIT;
        r = runtime_start_with_options(arg_root, id, warn_options(), &e);
        if (r < 0) {
                fail(r, &e, "start");
                _cleanup_error_ Error e2 = ERROR_INIT;
                (void)runtime_delete_with_options(arg_root, id, true, warn_options(), &e2);
                error_done(&e2);
                return 1;
        }
        if (a.detach)
                return 0;
        int status = wait_forwarding(pid, &mask);
        if (!a.keep) {
                r = runtime_delete_with_options(arg_root, id, true, warn_options(), &e);
                if (r < 0)
                        fail(r, &e, "delete");
        }
        return status;
}

/* ---------------------------------------------------------------- state, list, kill, delete */

static int verb_state(int argc, char **argv)
{
        if (argc != 2)
                return usage_error(argv[0], "expects exactly one container id");
        _cleanup_error_ Error e = ERROR_INIT;
        RuntimeState s = {};
        int r = runtime_state(arg_root, argv[1], &s, &e);
        if (r < 0)
                return fail(r, &e, "state");
        _cleanup_free_ char *j = NULL;
        r = runtime_state_json(&s, &j);
        runtime_state_done(&s);
        if (r < 0)
                return fail(r, NULL, "state");
        printf("%s\n", j);
        return 0;
}

static int verb_list(int argc, char **argv)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {},
        };
        bool json = false, quiet = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "f:q", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "table"))
                                return usage_error(argv[0], "--format must be table or json");
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return 2;
                }
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_strv_free_ char **ids = NULL;
        int r = runtime_list(arg_root, &ids, &e);
        if (r < 0)
                return fail(r, &e, "list");
        json_object *arr = json ? json_object_new_array() : NULL;
        if (!json && !quiet)
                printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                       "OWNER");
        STRV_FOREACH (id, ids) {
                RuntimeState s = {};
                if (runtime_state(arg_root, *id, &s, NULL) < 0)
                        continue;
                if (quiet)
                        printf("%s\n", s.id);
                else if (json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
                        json_object_object_add(o, "id", json_object_new_string(s.id));
                        json_object_object_add(o, "pid", json_object_new_int(s.pid));
                        json_object_object_add(o, "status",
                                               json_object_new_string(runtime_status_to_string(s.status)));
                        json_object_object_add(o, "bundle", json_object_new_string(s.bundle));
                        json_object_object_add(o, "rootfs", json_object_new_string(s.rootfs));
                        json_object_object_add(o, "created", json_object_new_string(s.created));
                        json_object_object_add(o, "owner",
                                               json_object_new_string(s.owner == 0 ? "root" : ""));
                        json_object_array_add(arr, o);
                } else
                        printf("%-12s %-10i %-10s %-40s %-30s %s\n", s.id, (int)s.pid,
                               runtime_status_to_string(s.status), s.bundle, s.created,
                               s.owner == 0 ? "root" : "");
                runtime_state_done(&s);
        }
        if (json) {
                printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
                                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(arr);
        }
        return 0;
}

static int verb_kill(int argc, char **argv)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},
                {},
        };
        bool all = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+a", opts, NULL)) >= 0)
                switch (c) {
                case 'a':
                        all = true;
                        break;
                default:
                        return 2;
                }
        if (optind >= argc || argc - optind > 2)
                return usage_error(argv[0], "usage: kill [--all] ID [SIGNAL]");
        int sig = SIGTERM;
        if (argc - optind == 2) {
                sig = signal_from_string(argv[optind + 1]);
                if (sig < 0)
                        return usage_error(argv[0], "unknown signal");
        }
        _cleanup_error_ Error e = ERROR_INIT;
        log_debug("kill %s: %s to %s", argv[optind], strna(signal_to_string(sig)),
                  all ? "every process of its cgroup" : "its init");
        int r = runtime_kill(arg_root, argv[optind], sig, all, &e);
        if (r < 0)
                return fail(r, &e, "kill");
        return 0;
}

static int verb_delete(int argc, char **argv)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'},
                {},
        };
        bool force = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+f", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        force = true;
                        break;
                default:
                        return 2;
                }
        if (optind != argc - 1)
                return usage_error(argv[0], "expects exactly one container id");
        _cleanup_error_ Error e = ERROR_INIT;
        int r = runtime_delete_with_options(arg_root, argv[optind], force, warn_options(), &e);
        if (r == -ENOENT && force)
                return 0;
        if (r < 0)
                return fail(r, &e, "delete");
        return 0;
}

/* ---------------------------------------------------------------- exec */

static const char exec_usage[] =
        "exec [--process F | ID CMD ARGS…] [--tty] [--detach] [--env K=V] [--cwd D] [--user U[:G]] "
        "[--pid-file F] [--console-socket S] [--preserve-fds N] [--no-new-privs] ID";

static int verb_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                {"process", required_argument, NULL, 'p'},
                {"tty", no_argument, NULL, 't'},
                {"detach", no_argument, NULL, 'd'},
                {"env", required_argument, NULL, 'e'},
                {"cwd", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"pid-file", required_argument, NULL, 'P'},
                {"console-socket", required_argument, NULL, 'c'},
                {"preserve-fds", required_argument, NULL, 'f'},
                {"no-new-privs", no_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *process_file = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL, *console_socket = NULL;
        bool tty = false, detach = false, nnp = false;
        unsigned preserve = 0;
        _cleanup_strv_free_ char **env = NULL;
        int c;
        optind = 1;
        /* Options end at the container id ("+"): a --help after it belongs to the command. */
        while ((c = getopt_long(argc, argv, "+p:tde:w:u:h", opts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("usage: ctrmgr-oci %s\n", exec_usage);
                        return 0;
                case 'p':
                        process_file = optarg;
                        break;
                case 't':
                        tty = true;
                        break;
                case 'd':
                        detach = true;
                        break;
                case 'e':
                        if (strv_extend(&env, optarg) < 0)
                                return 1;
                        break;
                case 'w':
                        cwd = optarg;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case 'P':
                        pid_file = optarg;
                        break;
                case 'c':
                        console_socket = optarg;
                        break;
                case 'f':
                        if (safe_atou(optarg, &preserve) < 0)
                                return usage_error(argv[0], "invalid --preserve-fds");
                        break;
                case 'n':
                        nnp = true;
                        break;
                default:
                        return 2;
                }
        if (optind >= argc)
                return usage_error(argv[0], "expects a container id");
        const char *id = argv[optind++];
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_runtime_process_ RuntimeProcess *p = NULL;
        int r;
        if (process_file)
                r = runtime_process_load(process_file, &p, &e);
        else {
                if (optind >= argc)
                        return usage_error(argv[0], "expects a command or --process");
                r = runtime_process_from_container(arg_root, id, argv + optind, &p, &e);
        }
        if (r < 0)
                return fail(r, &e, "exec");
        if (!process_file)
                (void)runtime_process_set_terminal(p, tty);
        STRV_FOREACH (a, env)
                if (runtime_process_add_env(p, *a) < 0)
                        return usage_error(argv[0], "invalid --env");
        if (cwd && runtime_process_set_cwd(p, cwd) < 0)
                return usage_error(argv[0], "invalid --cwd");
        if (user && runtime_process_set_user(p, user) < 0)
                return usage_error(argv[0], "invalid --user (uid[:gid])");
        if (nnp)
                runtime_process_set_no_new_privileges(p);

        sigset_t mask;
        if (!detach)
                block_forwarded(&mask);
        RuntimeOptions o = options_init();
        o.console_socket = console_socket;
        o.pid_file = pid_file;
        o.preserve_fds = preserve;
        o.systemd_cgroup = arg_systemd_cgroup;
        pid_t pid;
        r = runtime_exec(arg_root, id, p, &o, &pid, NULL, &e);
        if (r < 0)
                return fail(r, &e, "exec");
        if (detach)
                return 0;
        return wait_forwarding(pid, &mask);
}

/* ---------------------------------------------------------------- pause, resume, ps, update */

static int verb_pause(int argc, char **argv)
{
        if (argc != 2)
                return usage_error(argv[0], "expects exactly one container id");
        _cleanup_error_ Error e = ERROR_INIT;
        log_debug("%s %s: %s its cgroup", argv[0], argv[1],
                  streq(argv[0], "pause") ? "freezing" : "thawing");
        int r = streq(argv[0], "pause") ? runtime_pause(arg_root, argv[1], &e)
                                        : runtime_resume(arg_root, argv[1], &e);
        if (r < 0)
                return fail(r, &e, argv[0]);
        return 0;
}

static int verb_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'},
                {},
        };
        bool json = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        json = streq(optarg, "json");
                        break;
                default:
                        return 2;
                }
        if (optind >= argc)
                return usage_error(argv[0], "expects a container id");
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = runtime_ps(arg_root, argv[optind], &pids, &n, &e);
        if (r < 0)
                return fail(r, &e, "ps");
        if (json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%i", i ? "," : "", (int)pids[i]);
                printf("]\n");
                return 0;
        }
        /* Table: `ps` (with the given options, default -ef) filtered to the container's pids. The
         * options go to ps as they are, not through a shell. */
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return fail(-errno, NULL, "ps");
        pid_t child = fork();
        if (child < 0) {
                safe_close(pfd[0]);
                safe_close(pfd[1]);
                return fail(-errno, NULL, "ps");
        }
        if (child == 0) {
                if (dup2(pfd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                if (optind + 1 < argc) {
                        argv[optind] = (char *)"ps";
                        execvp("ps", argv + optind);
                } else
                        execlp("ps", "ps", "-ef", (char *)NULL);
                _exit(127);
        }
        safe_close(pfd[1]);
        FILE *f = fdopen(pfd[0], "r");
        if (!f) {
                safe_close(pfd[0]);
                (void)waitpid(child, NULL, 0);
                return fail(-errno, NULL, "ps");
        }
        char line[4096];
        int pid_col = -1;
        bool header = true;
        while (fgets(line, sizeof line, f)) {
                if (header) {
                        _cleanup_strv_free_ char **cols = strv_split(line, " \t\n");
                        for (size_t i = 0; cols && cols[i]; i++)
                                if (streq(cols[i], "PID"))
                                        pid_col = (int)i;
                        fputs(line, stdout);
                        header = false;
                        continue;
                }
                _cleanup_strv_free_ char **cols = strv_split(line, " \t\n");
                int pid;
                if (pid_col < 0 || !cols || (int)strv_length(cols) <= pid_col ||
                    safe_atoi(cols[pid_col], &pid) < 0)
                        continue;
                for (size_t i = 0; i < n; i++)
                        if (pids[i] == pid) {
                                fputs(line, stdout);
                                break;
                        }
        }
        fclose(f);
        int status;
        if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_error("ps: ps failed");
                return 1;
        }
        return 0;
}

static int verb_update(int argc, char **argv)
{
        static const struct option opts[] = {
                {"resources", required_argument, NULL, 'r'},
                {"memory", required_argument, NULL, 'm'},
                {"memory-reservation", required_argument, NULL, 'R'},
                {"memory-swap", required_argument, NULL, 's'},
                {"cpu-shares", required_argument, NULL, 'S'},
                {"cpu-quota", required_argument, NULL, 'Q'},
                {"cpu-period", required_argument, NULL, 'E'},
                {"cpuset-cpus", required_argument, NULL, 'C'},
                {"cpuset-mems", required_argument, NULL, 'M'},
                {"pids-limit", required_argument, NULL, 'L'},
                {"blkio-weight", required_argument, NULL, 'B'},
                {},
        };
        json_object *res = json_object_new_object();
        const char *file = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+r:", opts, NULL)) >= 0) {
                const char *group = NULL, *key = NULL;
                bool str = false;
                switch (c) {
                case 'r':
                        file = optarg;
                        continue;
                case 'm':
                        group = "memory", key = "limit";
                        break;
                case 'R':
                        group = "memory", key = "reservation";
                        break;
                case 's':
                        group = "memory", key = "swap";
                        break;
                case 'S':
                        group = "cpu", key = "shares";
                        break;
                case 'Q':
                        group = "cpu", key = "quota";
                        break;
                case 'E':
                        group = "cpu", key = "period";
                        break;
                case 'C':
                        group = "cpu", key = "cpus", str = true;
                        break;
                case 'M':
                        group = "cpu", key = "mems", str = true;
                        break;
                case 'L':
                        group = "pids", key = "limit";
                        break;
                case 'B':
                        group = "blockIO", key = "weight";
                        break;
                default:
                        json_object_put(res);
                        return 2;
                }
                json_object *g;
                if (!json_object_object_get_ex(res, group, &g)) {
                        g = json_object_new_object();
                        json_object_object_add(res, group, g);
                }
                if (str)
                        json_object_object_add(g, key, json_object_new_string(optarg));
                else {
                        uint64_t v;
                        int64_t iv;
                        if (parse_size(optarg, &v) >= 0 && !streq(key, "shares") && !streq(key, "quota") &&
                            !streq(key, "period") && !streq(key, "weight") && !streq(group, "pids"))
                                json_object_object_add(g, key, json_object_new_int64((int64_t)v));
                        else if (safe_atoi64(optarg, &iv) >= 0)
                                json_object_object_add(g, key, json_object_new_int64(iv));
                        else {
                                json_object_put(res);
                                return usage_error(argv[0], "invalid number");
                        }
                }
        }
        if (optind != argc - 1) {
                json_object_put(res);
                return usage_error(argv[0], "expects exactly one container id");
        }
        if (file) {
                json_object_put(res);
                _cleanup_free_ char *buf = NULL;
                int r = read_full_file_at(AT_FDCWD, streq(file, "-") ? "/dev/stdin" : file, 1 << 20, &buf,
                                          NULL);
                if (r < 0)
                        return fail(r, NULL, file);
                res = json_tokener_parse(buf);
                if (!res)
                        return usage_error(argv[0], "--resources: invalid JSON");
        }
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_strv_free_ char **warnings = NULL;
        log_debug("update %s: linux.resources %s", argv[optind],
                  json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
        int r = runtime_update(arg_root, argv[optind], res, &warnings, &e);
        json_object_put(res);
        if (r < 0)
                return fail(r, &e, "update");
        STRV_FOREACH (w, warnings)
                warn_cb(NULL, *w);
        return 0;
}

/* ---------------------------------------------------------------- spec, features */

static int verb_spec(int argc, char **argv)
{
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"rootless", no_argument, NULL, 'r'},
                {},
        };
        const char *bundle = ".";
        bool rootless = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "b:", opts, NULL)) >= 0)
                switch (c) {
                case 'b':
                        bundle = optarg;
                        break;
                case 'r':
                        rootless = true;
                        break;
                default:
                        return 2;
                }
        _cleanup_free_ char *j = runtime_spec_default_json(rootless);
        _cleanup_free_ char *p = path_join(bundle, "config.json");
        if (!j || !p)
                return fail(-ENOMEM, NULL, "spec");
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail(-errno, NULL, p);
        int r = loop_write(fd, j, strlen(j));
        if (r < 0)
                return fail(r, NULL, p);
        return 0;
}

static int verb_features(int argc, char **argv)
{
        _cleanup_free_ char *j = runtime_features_json();
        if (!j)
                return 1;
        printf("%s\n", j);
        return 0;
}

/* ---------------------------------------------------------------- main */

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *help;
} verbs[] = {
        {"create", verb_create,
         "create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds N] "
         "[--no-new-keyring] ID"},
        {"start", verb_start, "start ID"},
        {"run", verb_run,
         "run [--bundle DIR] [--detach] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds N] "
         "[--no-new-keyring] [--keep] ID"},
        {"state", verb_state, "state ID"},
        {"kill", verb_kill, "kill [--all] ID [SIGNAL]"},
        {"delete", verb_delete, "delete [--force] ID"},
        {"exec", verb_exec, exec_usage},
        {"list", verb_list, "list [--format table|json] [--quiet]"},
        {"ls", verb_list, NULL},
        {"ps", verb_ps, "ps [--format table|json] ID [PS-ARGS…]"},
        {"pause", verb_pause, "pause ID"},
        {"resume", verb_pause, "resume ID"},
        {"update", verb_update,
         "update [--resources FILE|-] [--memory N] [--cpu-shares N] [--pids-limit N] … ID"},
        {"spec", verb_spec, "spec [--bundle DIR] [--rootless]"},
        {"features", verb_features, "features"},
};

static void help(void)
{
        printf("ctrmgr-oci %s — an OCI runtime with runc's command line\n\n"
               "Global options: --root DIR (default %s), --log FILE, --log-format text|json,\n"
               "                --systemd-cgroup,\n"
               "                --debug (each step of create, start, exec, delete, kill, pause,\n"
               "                resume and update: cgroup, seccomp filter, pids, hooks; on stderr\n"
               "                or in --log), --log-level debug|info|warning|error\n\nCommands:\n",
               CTRMGR_VERSION, RUNTIME_DEFAULT_ROOT);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (verbs[i].help)
                        printf("  %s\n", verbs[i].help);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"log", required_argument, NULL, 'l'},
                {"log-format", required_argument, NULL, 'F'},
                {"log-level", required_argument, NULL, 'L'},
                {"systemd-cgroup", no_argument, NULL, 's'},
                {"debug", no_argument, NULL, 'd'},
                {"criu", required_argument, NULL, 'C'},
                {"rootless", required_argument, NULL, 'R'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'v'},
                {},
        };
        log_set_program_name("ctrmgr-oci");
        int c;
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) >= 0)
                switch (c) {
                case 'r':
                        arg_root = optarg;
                        break;
                case 'l':
                        arg_log = optarg;
                        break;
                case 'F':
                        if (!streq(optarg, "text") && !streq(optarg, "json")) {
                                log_error("--log-format must be text or json");
                                return 2;
                        }
                        arg_log_json = streq(optarg, "json");
                        break;
                case 's':
                        arg_systemd_cgroup = true;
                        break;
                case 'd':
                        arg_debug = true;
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                case 'L': {
                        /* runc's levels; "debug" is --debug */
                        static const struct {
                                const char *name;
                                int level;
                        } levels[] = {
                                {"debug", LOG_LEVEL_DEBUG},     {"info", LOG_LEVEL_INFO},
                                {"warning", LOG_LEVEL_WARNING}, {"warn", LOG_LEVEL_WARNING},
                                {"error", LOG_LEVEL_ERR},
                        };
                        size_t i = 0;
                        while (i < ELEMENTSOF(levels) && !streq(levels[i].name, optarg))
                                i++;
                        if (i == ELEMENTSOF(levels)) {
                                log_error("--log-level must be debug, info, warning or error");
                                return 2;
                        }
                        arg_debug = levels[i].level == LOG_LEVEL_DEBUG;
                        log_set_max_level(levels[i].level);
                        break;
                }
                case 'C':
                case 'R':
                        break;
                case 'h':
                        help();
                        return 0;
                case 'v':
                        printf("ctrmgr-oci version %s\nspec: 1.2.0\n", CTRMGR_VERSION);
                        return 0;
                default:
                        return 2;
                }
        if (arg_log) {
                log_file = fopen(arg_log, "ae");
                if (!log_file) {
                        log_error_errno(-errno, "opening log %s: %m", arg_log);
                        return 1;
                }
        }
        log_set_sink(log_sink, NULL);
        if (optind >= argc) {
                help();
                return 2;
        }
        const char *verb = argv[optind];
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, verb)) {
                        int vargc = argc - optind;
                        char **vargv = argv + optind;
                        if (want_help(vargc, vargv) && !streq(verb, "exec")) {
                                printf("usage: ctrmgr-oci %s\n", verbs[i].help ?: verbs[i].name);
                                return 0;
                        }
                        return verbs[i].run(vargc, vargv);
                }
        log_error("unknown command \"%s\"", verb);
        return 2;
}
