/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v2 against the real kernel (root): everything happens below one test directory
 * /<cgroup2 root>/ctrmgr-test-cgsec-<pid> (plus two siblings for the default and relative
 * paths), removed at the end even on failure. The host's existing cgroups are only read; the
 * test checks that the root's cgroup.subtree_control did not change. TAP output.
 */

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/cgroup-internal.h"

static unsigned n_test, n_fail;
static char *root, *test_dir, *rel_dir, *default_id;
static bool made_ctrmgr_oci;
static time_t test_start;
static pid_t children[16];
static size_t n_children;

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

static json_object *parse_json(const char *s)
{
        json_object *o = json_tokener_parse(s);
        if (!o) {
                fprintf(stderr, "bad test JSON: %s\n", s);
                exit(EXIT_FAILURE);
        }
        return o;
}

static char *read_file(const char *dir, const char *file)
{
        _cleanup_free_ char *p = path_join(dir, file);
        char *s = NULL;
        if (!p || read_full_file_at(AT_FDCWD, p, 1 << 20, &s, NULL) < 0)
                return NULL;
        return strstrip(s);
}

/* ------------------------------------------------------------------ children and cleanup */

static volatile uint64_t *counter; /* shared with the children: proves they run or not */

static void child_loop(void)
{
        signal(SIGTERM, SIG_DFL);
        for (;;) {
                (*counter)++;
                usleep(1000);
        }
}

static pid_t spawn(void)
{
        pid_t pid = fork();
        if (pid == 0)
                child_loop();
        if (pid > 0 && n_children < ELEMENTSOF(children))
                children[n_children++] = pid;
        return pid;
}

/* clone3(CLONE_INTO_CGROUP): the child starts life in the cgroup. */
static pid_t spawn_into(int cgroup_fd)
{
        struct clone_args args = {
                .exit_signal = SIGCHLD,
                .flags = CLONE_INTO_CGROUP,
                .cgroup = (uint64_t)cgroup_fd,
        };
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0)
                child_loop();
        if (pid > 0 && n_children < ELEMENTSOF(children))
                children[n_children++] = pid;
        return pid;
}

static bool reaped(pid_t pid, int *ret_status)
{
        for (int i = 0; i < 200; i++) {
                int status;
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid) {
                        for (size_t k = 0; k < n_children; k++)
                                if (children[k] == pid)
                                        children[k] = 0;
                        if (ret_status)
                                *ret_status = status;
                        return true;
                }
                usleep(10 * 1000);
        }
        return false;
}

static void rmdir_tree(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = path_join(path, de->d_name);
                if (sub)
                        rmdir_tree(sub);
        }
        for (int i = 0; i < 100 && rmdir(path) < 0 && errno == EBUSY; i++)
                usleep(10 * 1000);
}

static void cleanup(void)
{
        for (size_t i = 0; i < n_children; i++)
                if (children[i] > 0) {
                        kill(children[i], SIGKILL);
                        (void)waitpid(children[i], NULL, 0);
                        children[i] = 0;
                }
        if (test_dir)
                rmdir_tree(test_dir);
        if (rel_dir)
                rmdir_tree(rel_dir);
        if (root && default_id) {
                _cleanup_free_ char *d = strjoin(root, "/ctrmgr-oci/", default_id);
                if (d)
                        rmdir_tree(d);
                /* The shared parent goes when we made it, or when it was made while we ran (a
                 * concurrent run of this test made it, and could not remove it while our
                 * container was in it); rmdir only succeeds when it is empty. */
                _cleanup_free_ char *p = path_join(root, "ctrmgr-oci");
                _cleanup_free_ char *ctl = p ? path_join(p, "cgroup.controllers") : NULL;
                struct stat st;
                if (p && ctl && (made_ctrmgr_oci || (stat(ctl, &st) >= 0 && st.st_mtime >= test_start)))
                        (void)rmdir(p);
        }
}

static void on_signal(int sig)
{
        cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* ------------------------------------------------------------------ tests */

static void test_parse_errors(void)
{
        static const struct {
                const char *json;
                const char *message;
        } cases[] = {
                {"{ \"cpu\": { \"shares\": \"1024\" } }",
                 "linux.resources.cpu.shares: expected an integer, got string"},
                {"{ \"memory\": { \"limit\": -5 } }",
                 "linux.resources.memory: limits must be -1 (unlimited) or positive, got -5"},
                {"{ \"memory\": { \"limit\": 1000, \"swap\": 500 } }",
                 "linux.resources.memory.swap: 500 is memory+swap and must not be below limit 1000"},
                {"{ \"blockIO\": { \"weight\": 5 } }",
                 "linux.resources.blockIO.weight: 5 out of range (10..1000)"},
                {"{ \"blockIO\": { \"throttleReadBpsDevice\": [ { \"major\": 8, \"minor\": 0 } ] } }",
                 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing"},
                {"{ \"hugepageLimits\": [ { \"pageSize\": \"2M\", \"limit\": 1 } ] }",
                 "linux.resources.hugepageLimits[0].pageSize: invalid size \"2M\" (e.g. \"2MB\")"},
                {"{ \"unified\": { \"../memory.max\": \"1\" } }",
                 "linux.resources.unified: invalid key \"../memory.max\" (a cgroup file name such as "
                 "memory.high)"},
                {"{ \"unified\": { \"cgroup.procs\": \"1\" } }",
                 "linux.resources.unified.cgroup.procs: not a resource setting"},
                {"{ \"unified\": { \"memory.high\": 5 } }",
                 "linux.resources.unified.memory.high: expected a string, got int"},
                {"{ \"cpu\": { \"cpus\": \"0-1;rm\" } }", "linux.resources.cpu.cpus: invalid CPU list"},
                {"{ \"devices\": [ { \"allow\": false, \"type\": \"x\" } ] }",
                 "linux.resources.devices[0].type: must be \"a\", \"c\" or \"b\", got \"x\""},
                {"[]", "linux.resources: expected an object, got array"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                json_object *o = parse_json(cases[i].json);
                int r = cgroup_resources_parse(o, "linux.resources", &res, &err);
                json_object_put(o);
                bool good = r < 0 && streq(error_message(&err), cases[i].message);
                ok(good, "bad resources %zu: \"%s\"", i, error_message(&err));
                if (!good)
                        printf("#   want: \"%s\"\n", cases[i].message);
        }
}

static bool has_controller(const char *list, const char *c)
{
        _cleanup_strv_free_ char **l = strv_split(strempty(list), " \n");
        return strv_contains(l, c);
}

static bool strv_has_substr(char **l, const char *a, const char *b)
{
        STRV_FOREACH (s, l)
                if (strstr(*s, a) && (!b || strstr(*s, b)))
                        return true;
        return false;
}

static void test_cgroupfs(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL, *loaded = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_free_ char *cgpath = strjoin(test_dir + strlen(root), "/pod/c1");
        _cleanup_free_ char *dir = strjoin(test_dir, "/pod/c1");
        _cleanup_free_ char *root_subtree_before = read_file(root, "cgroup.subtree_control");
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n_pids = 0;
        int r;

        CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = cgpath, .id = "c1"};
        r = cgroup_create(&opts, &cg, &err);
        ok(r == 0, "create %s: %s", cgpath, r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        struct stat st;
        ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "the directory exists");
        ok(streq(cgroup_path(cg), cgpath) && cgroup_unit(cg) == NULL && cgroup_fd(cg) >= 0,
           "path %s, no unit, an fd", cgroup_path(cg));

        /* creating it again is fine (podman reuses paths) */
        {
                _cleanup_(cgroup_freep) Cgroup *again = NULL;
                r = cgroup_create(&opts, &again, &err);
                ok(r == 0, "create of an existing cgroup reuses it");
        }

        /* enter by PID and by CLONE_INTO_CGROUP */
        pid_t a = spawn();
        r = cgroup_enter(cg, a, &err);
        ok(r == 0, "enter pid %d: %s", (int)a, r < 0 ? error_message(&err) : "ok");
        _cleanup_free_ char *proc = NULL, *want = strjoin("0::", cgpath);
        {
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)a);
                (void)read_full_file_at(AT_FDCWD, p, 4096, &proc, NULL);
        }
        ok(proc && strstr(proc, want), "/proc/PID/cgroup shows %s", want);

        pid_t b = spawn_into(cgroup_fd(cg));
        if (b < 0 && (errno == ENOSYS || errno == EINVAL))
                printf("ok %u - # SKIP clone3(CLONE_INTO_CGROUP) not available: %m\n", ++n_test);
        else
                ok(b > 0, "clone3(CLONE_INTO_CGROUP, cgroup_fd()) starts a child in the cgroup");

        /* a sub-cgroup, as a container with cgroupns might make */
        _cleanup_free_ char *sub = path_join(dir, "inner");
        ok(sub && mkdir(sub, 0755) == 0, "make a sub-cgroup inside");

        r = cgroup_get_pids(cg, &pids, &n_pids, &err);
        bool has_a = false, has_b = b <= 0;
        for (size_t i = 0; r >= 0 && i < n_pids; i++) {
                has_a = has_a || pids[i] == a;
                has_b = has_b || pids[i] == b;
        }
        ok(r == 0 && has_a && has_b && n_pids == (b > 0 ? 2U : 1U), "get_pids lists the %zu children",
           n_pids);

        /* freezer: the children's shared counter stops, then moves again */
        r = cgroup_freeze(cg, true, &err);
        ok(r == 0, "freeze: %s", r < 0 ? error_message(&err) : "ok");
        _cleanup_free_ char *events = read_file(dir, "cgroup.events");
        ok(events && strstr(events, "frozen 1"), "cgroup.events says frozen 1");
        ok(cgroup_is_frozen(cg, NULL) == 1, "cgroup_is_frozen says yes");
        uint64_t c0 = *counter;
        usleep(50 * 1000);
        ok(*counter == c0, "frozen children make no progress (%" PRIu64 ")", c0);
        r = cgroup_freeze(cg, false, &err);
        ok(r == 0 && cgroup_is_frozen(cg, NULL) == 0, "thaw");
        usleep(50 * 1000);
        ok(*counter != c0, "thawed children run again");

        /* stats: cpu.stat exists without the cpu controller; memory.current does not here */
        CgroupStats s;
        r = cgroup_get_stats(cg, &s, &err);
        ok(r == 0 && s.cpu_usage_usec != CGROUP_STAT_UNSET && s.cpu_usage_usec > 0,
           "stats: cpu usage %" PRIu64 " us", s.cpu_usage_usec);
        _cleanup_free_ char *controllers = read_file(dir, "cgroup.controllers");
        printf("# controllers in the test cgroup: \"%s\"\n", strempty(controllers));
        if (has_controller(controllers, "memory"))
                ok(s.memory_current != CGROUP_STAT_UNSET, "stats: memory.current %" PRIu64,
                   s.memory_current);
        else
                ok(s.memory_current == CGROUP_STAT_UNSET,
                   "stats: no memory.current without the memory controller");

        /* resources: what this hybrid host can apply and the rest as warnings */
        json_object *o = parse_json(
                "{ \"memory\": { \"limit\": 67108864, \"reservation\": 1048576, \"swappiness\": 10 },"
                "  \"cpu\": { \"shares\": 512, \"quota\": 50000, \"period\": 100000 },"
                "  \"pids\": { \"limit\": 100 },"
                "  \"hugepageLimits\": [ { \"pageSize\": \"2MB\", \"limit\": 4194304 } ],"
                "  \"devices\": [ { \"allow\": false, \"access\": \"rwm\" }, { \"allow\": true, \"type\": "
                "\"c\","
                "                 \"major\": 1, \"minor\": 3, \"access\": \"rwm\" } ],"
                "  \"unified\": { \"cgroup.max.descendants\": \"5\", \"cgroup.max.depth\": \"3\" } }");
        r = cgroup_resources_parse(o, "linux.resources", &res, &err);
        json_object_put(o);
        ok(r == 0, "parse resources: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        r = cgroup_apply(cg, res, &warnings, &err);
        ok(r == 0, "apply on the hybrid host does not refuse: %s", r < 0 ? error_message(&err) : "ok");
        STRV_FOREACH (w, warnings)
                printf("#   warning: %s\n", *w);
        _cleanup_free_ char *desc = read_file(dir, "cgroup.max.descendants");
        _cleanup_free_ char *depth = read_file(dir, "cgroup.max.depth");
        ok(desc && depth && streq(desc, "5") && streq(depth, "3"),
           "unified writes applied (max.descendants %s, max.depth %s)", strna(desc), strna(depth));
        /* each limit: applied where its controller is there (a pure v2 host), else one warning */
        static const struct {
                const char *controller, *what, *file, *value;
        } limits[] = {
                {"memory", "memory.limit", "memory.max", "67108864"},
                {"memory", "memory.reservation", "memory.low", "1048576"},
                {"cpu", "cpu.shares", "cpu.weight", "59"},
                {"cpu", "cpu.quota", "cpu.max", "50000 100000"},
                {"pids", "pids.limit", "pids.max", "100"},
                {"hugetlb", "hugepageLimits", "hugetlb.2MB.max", "4194304"},
        };
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                if (has_controller(controllers, limits[i].controller)) {
                        _cleanup_free_ char *v = read_file(dir, limits[i].file);
                        ok(v && streq(v, limits[i].value), "%s applied: %s = %s", limits[i].what,
                           limits[i].file, strna(v));
                } else
                        ok(strv_has_substr(warnings, limits[i].what, limits[i].file),
                           "warning for %s (%s=%s)", limits[i].what, limits[i].file, limits[i].value);
        }
        ok(strv_has_substr(warnings, "swappiness", "v1 only"), "warning for swappiness (v1 only)");
        ok(!strv_has_substr(warnings, "devices", NULL),
           "no warning for device rules (an eBPF filter is attached)");

        /* the cgroups that were there before were not changed */
        _cleanup_free_ char *root_subtree_after = read_file(root, "cgroup.subtree_control");
        ok(streq_ptr(root_subtree_before, root_subtree_after),
           "root cgroup.subtree_control untouched (\"%s\")", strna(root_subtree_after));

        /* errors that are the caller's: a bad value and an unknown core file */
        {
                _cleanup_(cgroup_resources_freep) CgroupResources *bad = NULL;
                _cleanup_error_ Error e2 = ERROR_INIT;
                o = parse_json("{ \"unified\": { \"cgroup.max.depth\": \"lots\" } }");
                r = cgroup_resources_parse(o, NULL, &bad, &e2);
                json_object_put(o);
                if (r >= 0)
                        r = cgroup_apply(cg, bad, NULL, &e2);
                ok(r < 0 && strstr(error_message(&e2), "cgroup.max.depth") &&
                           strstr(error_message(&e2), "lots"),
                   "a value the kernel refuses is an error: \"%s\"", error_message(&e2));
        }
        {
                _cleanup_(cgroup_resources_freep) CgroupResources *bad = NULL;
                _cleanup_error_ Error e2 = ERROR_INIT;
                o = parse_json("{ \"unified\": { \"cgroup.max.nonsense\": \"1\" } }");
                r = cgroup_resources_parse(o, NULL, &bad, &e2);
                json_object_put(o);
                if (r >= 0)
                        r = cgroup_apply(cg, bad, NULL, &e2);
                ok(r == -ENOENT, "an unknown unified file is an error: \"%s\"", error_message(&e2));
        }

        /* cgroup_load, as `ctrmgr-oci kill/ps/pause` would */
        r = cgroup_load(CGROUP_DRIVER_CGROUPFS, cgpath, NULL, &loaded, &err);
        ok(r == 0, "load from the saved path: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;

        /* kill_all with SIGTERM walks cgroup.procs (frozen meanwhile); SIGKILL uses cgroup.kill */
        r = cgroup_kill_all(loaded, SIGTERM, &err);
        ok(r == (b > 0 ? 2 : 1), "kill_all(SIGTERM) signalled %d processes", r);
        int status = 0;
        ok(reaped(a, &status) && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
           "first child died of SIGTERM");
        if (b > 0)
                ok(reaped(b, NULL), "second child died");
        ok(cgroup_is_frozen(loaded, NULL) == 0, "not left frozen after kill_all");

        pid_t c = spawn();
        r = cgroup_enter(loaded, c, &err);
        ok(r == 0, "enter another child");
        r = cgroup_kill_all(loaded, SIGKILL, &err);
        ok(r >= 0 && reaped(c, &status) && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
           "kill_all(SIGKILL) kills it");

        /* destroy: the leaf and the sub-cgroup go, the parent made for it stays */
        r = cgroup_destroy(loaded, &err);
        ok(r == 0, "destroy: %s", r < 0 ? error_message(&err) : "ok");
        ok(access(dir, F_OK) < 0 && errno == ENOENT, "the cgroup directory is gone");
        _cleanup_free_ char *parent = strjoin(test_dir, "/pod");
        ok(access(parent, F_OK) == 0, "its parent stays");
        r = cgroup_destroy(cg, &err);
        ok(r == 0, "destroying again is fine");

        /* busy: destroy refuses while a process is inside */
        _cleanup_(cgroup_freep) Cgroup *busy = NULL;
        opts.cgroups_path = cgpath;
        r = cgroup_create(&opts, &busy, &err);
        pid_t d = spawn();
        if (r >= 0)
                r = cgroup_enter(busy, d, &err);
        if (r >= 0) {
                _cleanup_error_ Error e2 = ERROR_INIT;
                r = cgroup_destroy(busy, &e2);
                ok(r == -EBUSY, "destroy with a live process is -EBUSY: \"%s\"", error_message(&e2));
        }
        kill(d, SIGKILL);
        reaped(d, NULL);
        r = cgroup_destroy(busy, &err);
        ok(r == 0, "destroy after the process is gone");
}

/* In a child inside the cgroup: the errno of open(path, flags), 0 on success. */
static int open_errno(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

typedef struct DevCheck {
        const char *path;
        int flags;
        int want;
        dev_t mknod_dev; /* if set: mknod path as this char device first (and remove it after) */
} DevCheck;

/* Runs the checks in a child moved into cg before it starts them; true if all hold. */
static bool check_devices(Cgroup *cg, const DevCheck *checks, size_t n)
{
        int pipefd[2];
        pid_t pid;
        char go;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return false;
        pid = fork();
        if (pid == 0) {
                int bad = 0;
                close(pipefd[1]);
                if (read(pipefd[0], &go, 1) != 1)
                        _exit(100);
                for (size_t i = 0; i < n; i++) {
                        if (checks[i].mknod_dev != 0 &&
                            mknod(checks[i].path, S_IFCHR | 0600, checks[i].mknod_dev) < 0) {
                                fprintf(stderr, "#   mknod(%s): %m\n", checks[i].path);
                                bad++;
                                continue;
                        }
                        int e = open_errno(checks[i].path, checks[i].flags);
                        if (checks[i].mknod_dev != 0)
                                (void)unlink(checks[i].path);
                        if (e != checks[i].want) {
                                int acc = checks[i].flags & O_ACCMODE;
                                fprintf(stderr, "#   open(%s, %s): errno %d, want %d\n", checks[i].path,
                                        acc == O_RDONLY   ? "O_RDONLY"
                                        : acc == O_WRONLY ? "O_WRONLY"
                                                          : "O_RDWR",
                                        e, checks[i].want);
                                bad++;
                        }
                }
                _exit(bad);
        }
        close(pipefd[0]);
        int r = cgroup_enter(cg, pid, NULL);
        (void)!write(pipefd[1], "x", 1);
        close(pipefd[1]);
        int status = 0;
        (void)waitpid(pid, &status, 0);
        return r >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int apply_json(Cgroup *cg, const char *json, char ***warnings, Error *err)
{
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        json_object *o = parse_json(json);
        int r = cgroup_resources_parse(o, "linux.resources", &res, err);
        json_object_put(o);
        if (r < 0)
                return r;
        return cgroup_apply(cg, res, warnings, err);
}

static void test_devices(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_free_ char *cgpath = strjoin(test_dir + strlen(root), "/devices");
        _cleanup_strv_free_ char **warnings = NULL;
        CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = cgpath, .id = "d"};
        int r;

        r = cgroup_create(&opts, &cg, &err);
        ok(r == 0, "create %s", cgpath);
        if (r < 0)
                return;

        _cleanup_free_ char *node = strprintf("/tmp/ctrmgr-test-cgsec-node-%d", (int)getpid());

        /* what the machine allows without our filter (the test would prove nothing otherwise) */
        const DevCheck before[] = {
                {"/dev/kmsg", O_RDONLY, 0},
                {"/dev/loop-control", O_RDWR, 0},
                {"/dev/loop0", O_RDONLY, 0},
                {node, O_RDWR, 0, makedev(10, 237)},
        };
        ok(check_devices(cg, before, ELEMENTSOF(before)), "without rules kmsg, loop-control, loop0 open");

        /* `runc spec`-like deny-all plus one read-only device; the default allow list still applies */
        r = apply_json(
                cg,
                "{ \"devices\": [ { \"allow\": false, \"access\": \"rwm\" },"
                "  { \"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\" } ] }",
                &warnings, &err);
        ok(r == 0 && strv_isempty(warnings), "device filter attached: %s",
           r < 0 ? error_message(&err) : "ok");
        const DevCheck deny_all[] = {
                {"/dev/kmsg", O_RDONLY, 0},           /* allowed r */
                {"/dev/kmsg", O_WRONLY, EPERM},       /* not w */
                {"/dev/loop-control", O_RDWR, EPERM}, /* not listed */
                {"/dev/loop0", O_RDONLY, EPERM},      /* block, not listed */
                {"/dev/null", O_RDWR, 0},             /* default devices */
                {"/dev/urandom", O_RDONLY, 0},
                {"/dev/tty", O_RDONLY, ENXIO}, /* allowed: the kernel answers (no controlling tty) */
                {node, O_RDWR, EPERM, makedev(10, 237)}, /* mknod works, opening the node does not */
        };
        ok(check_devices(cg, deny_all, ELEMENTSOF(deny_all)), "deny-all + allow list + defaults enforced");

        /* update: allow everything but writing loop-control; the old filter is replaced, not stacked */
        strv_free(warnings);
        warnings = NULL;
        r = apply_json(cg,
                       "{ \"devices\": [ { \"allow\": true, \"access\": \"rwm\" },"
                       "  { \"allow\": false, \"type\": \"c\", \"major\": 10, \"minor\": 237, \"access\": "
                       "\"w\" } ] }",
                       &warnings, &err);
        ok(r == 0, "device filter replaced: %s", r < 0 ? error_message(&err) : "ok");
        const DevCheck allow_all[] = {
                {"/dev/kmsg", O_WRONLY, 0},           {"/dev/loop0", O_RDONLY, 0},
                {"/dev/loop-control", O_RDONLY, 0},   {"/dev/loop-control", O_WRONLY, EPERM},
                {"/dev/loop-control", O_RDWR, EPERM}, /* a denied "w" also refuses rw */
        };
        ok(check_devices(cg, allow_all, ELEMENTSOF(allow_all)),
           "allow-all + deny w of loop-control; old filter gone");

        r = cgroup_destroy(cg, &err);
        ok(r == 0, "destroy the devices cgroup: %s", r < 0 ? error_message(&err) : "ok");
}

/* ------------------------------------------------------------------ enforcement */

/*
 * Real enforcement, where the controller exists (a pure v2 host such as the tier-2 VM; the
 * cgroup2 hierarchy of a hybrid host has none of them, then each test skips with the reason):
 * a child is moved into a cgroup with the limit, then released to do what the limit must stop.
 */
typedef int (*ChildBody)(void);

static bool enforce_setup(const char *name, const char *controller, const char *json, Cgroup **ret)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *cgpath = strjoin(test_dir + strlen(root), "/", name);
        CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = cgpath, .id = name};
        int r;

        r = cgroup_create(&opts, &cg, &err);
        ok(r == 0, "create %s: %s", cgpath, r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return false;
        if (!cgroup_controller_available(cgroup_fd(cg), controller)) {
                printf("ok %u - # SKIP %s enforcement: no %s controller in this cgroup2 hierarchy (%s)\n",
                       ++n_test, controller, controller, root);
                (void)cgroup_destroy(cg, NULL);
                return false;
        }
        r = apply_json(cg, json, &warnings, &err);
        STRV_FOREACH (w, warnings)
                printf("#   warning: %s\n", *w);
        ok(r == 0, "%s: apply %s: %s", name, json, r < 0 ? error_message(&err) : "ok");
        if (r < 0) {
                (void)cgroup_destroy(cg, NULL);
                return false;
        }
        *ret = TAKE_PTR(cg);
        return true;
}

/* Forks a child that waits until it is in cg, then runs body; returns its wait status. */
static int enforce_run(Cgroup *cg, ChildBody body, int *ret_status)
{
        _cleanup_error_ Error err = ERROR_INIT;
        int pipefd[2], r;
        char go;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(pipefd[1]);
                if (read(pipefd[0], &go, 1) != 1)
                        _exit(100);
                _exit(body());
        }
        close(pipefd[0]);
        r = cgroup_enter(cg, pid, &err);
        if (r < 0)
                printf("#   enter: %s\n", error_message(&err));
        else
                (void)!write(pipefd[1], "x", 1);
        close(pipefd[1]);
        (void)waitpid(pid, ret_status, 0);
        return r;
}

static int body_fork_twice(void)
{
        /* pids.max 1: this process is the one; a fork must fail with EAGAIN */
        pid_t k = fork();
        if (k == 0)
                _exit(0);
        if (k > 0) {
                (void)waitpid(k, NULL, 0);
                return 1; /* the limit did not hold */
        }
        return errno == EAGAIN ? 0 : 2;
}

static void test_pids_enforced(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        CgroupStats st;
        int status = 0, r;

        if (!enforce_setup("pids", "pids", "{ \"pids\": { \"limit\": 1 } }", &cg))
                return;
        r = enforce_run(cg, body_fork_twice, &status);
        ok(r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "pids.max 1: a second process in the cgroup fails with EAGAIN (status %d)", status);
        r = cgroup_get_stats(cg, &st, NULL);
        ok(r == 0 && st.pids_max == 1 && st.pids_events_max != CGROUP_STAT_UNSET && st.pids_events_max >= 1,
           "stats: pids.max %" PRIu64 ", pids.events max %" PRIu64, st.pids_max, st.pids_events_max);
        ok(cgroup_destroy(cg, NULL) == 0, "destroy the pids cgroup");
}

#define MEMORY_LIMIT (32ULL << 20)

static int body_allocate(void)
{
        /* 4× the limit, touched page by page: the OOM killer must end this */
        size_t n = 4 * MEMORY_LIMIT;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return 3;
        for (size_t i = 0; i < n; i += 4096)
                p[i] = 1;
        return 0; /* survived: the limit did not hold */
}

static void test_memory_enforced(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        CgroupStats st;
        int status = 0, r;

        /* swap = limit: memory+swap equal to memory, so no swap (memory.swap.max 0) */
        if (!enforce_setup("memory", "memory", "{ \"memory\": { \"limit\": 33554432, \"swap\": 33554432 } }",
                           &cg))
                return;
        r = enforce_run(cg, body_allocate, &status);
        ok(r == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
           "memory.max 32M: a process touching 128M is OOM-killed (%s %d)",
           WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        r = cgroup_get_stats(cg, &st, NULL);
        ok(r == 0 && st.memory_max == MEMORY_LIMIT && st.memory_oom_kill != CGROUP_STAT_UNSET &&
                   st.memory_oom_kill >= 1,
           "stats: memory.max %" PRIu64 ", memory.events oom_kill %" PRIu64 ", memory.peak %" PRIu64,
           st.memory_max, st.memory_oom_kill, st.memory_peak);
        ok(cgroup_destroy(cg, NULL) == 0, "destroy the memory cgroup");
}

#define CPU_BUSY_USEC (600 * USEC_PER_MSEC)

static int body_spin(void)
{
        uint64_t end = now_usec(CLOCK_MONOTONIC) + CPU_BUSY_USEC;
        volatile uint64_t x = 0;
        while (now_usec(CLOCK_MONOTONIC) < end)
                x++;
        return 0;
}

static void test_cpu_enforced(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        CgroupStats st;
        int status = 0, r;

        /* 10 ms per 100 ms: a process spinning for 600 ms wall time gets about 60 ms of CPU */
        if (!enforce_setup("cpu", "cpu", "{ \"cpu\": { \"quota\": 10000, \"period\": 100000 } }", &cg))
                return;
        r = enforce_run(cg, body_spin, &status);
        ok(r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "spinning child ran");
        r = cgroup_get_stats(cg, &st, NULL);
        ok(r == 0 && st.cpu_usage_usec != CGROUP_STAT_UNSET && st.cpu_usage_usec < CPU_BUSY_USEC / 3,
           "cpu.max 10%%: %" PRIu64 " us of CPU in %llu us of spinning (unthrottled it would be all of it)",
           st.cpu_usage_usec, (unsigned long long)CPU_BUSY_USEC);
        ok(st.cpu_nr_throttled != CGROUP_STAT_UNSET && st.cpu_nr_throttled >= 1,
           "stats: cpu.stat nr_throttled %" PRIu64 ", throttled_usec %" PRIu64, st.cpu_nr_throttled,
           st.cpu_throttled_usec);
        ok(cgroup_destroy(cg, NULL) == 0, "destroy the cpu cgroup");
}

/* exec into a container that manages sub-cgroups of its own (controllers in subtree_control) */
static bool same_dir(int a, int b)
{
        struct stat x, y;
        return fstat(a, &x) >= 0 && fstat(b, &y) >= 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static void test_exec_fd(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        _cleanup_free_ char *cgpath = strjoin(test_dir + strlen(root), "/exec");
        CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = cgpath, .id = "e"};
        _cleanup_close_ int initfd = -EBADF, fd1 = -EBADF, fd2 = -EBADF;
        char buf[32];
        int r;

        r = cgroup_create(&opts, &cg, &err);
        ok(r == 0, "create %s", cgpath);
        if (r < 0)
                return;
        /* the container's init moved itself into a sub-cgroup, as systemd inside would */
        pid_t init = spawn();
        if (mkdirat(cgroup_fd(cg), "init", 0755) < 0 ||
            (initfd = openat(cgroup_fd(cg), "init", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                ok(false, "make the init's sub-cgroup: %m");
                return;
        }
        snprintf(buf, sizeof(buf), "%d", (int)init);
        ok(write_string_file_at(initfd, "cgroup.procs", buf) >= 0, "init %d in %s/init", (int)init, cgpath);

        r = cgroup_exec_fd(cg, init, &fd1, &err);
        ok(r == 0 && same_dir(fd1, cgroup_fd(cg)),
           "no controllers passed down: exec goes into the container's cgroup itself");

        const char *ctl = NULL;
        static const char *const candidates[] = {"pids", "memory", "cpu", "io"};
        for (size_t i = 0; i < ELEMENTSOF(candidates) && !ctl; i++)
                if (cgroup_controller_available(cgroup_fd(cg), candidates[i]))
                        ctl = candidates[i];
        if (!ctl) {
                printf("ok %u - # SKIP exec with controllers in subtree_control: no controller in this "
                       "cgroup2 hierarchy (%s)\n",
                       ++n_test, root);
                return;
        }
        snprintf(buf, sizeof(buf), "+%s", ctl);
        ok(write_string_file_at(cgroup_fd(cg), "cgroup.subtree_control", buf) >= 0,
           "the container passes %s down", ctl);
        pid_t bad = spawn_into(cgroup_fd(cg));
        ok(bad < 0 && errno == EBUSY, "then a process cannot go into its cgroup itself (EBUSY)");
        r = cgroup_exec_fd(cg, init, &fd2, &err);
        ok(r == 0 && same_dir(fd2, initfd), "exec goes where the init is: %s",
           r < 0 ? error_message(&err) : "ok");
        pid_t e = r == 0 ? spawn_into(fd2) : -1;
        ok(e > 0, "clone3(CLONE_INTO_CGROUP) into it works");
        pid_t f = spawn();
        r = cgroup_enter_exec(cg, init, f, &err);
        _cleanup_free_ char *procs = NULL;
        (void)read_full_file_at(initfd, "cgroup.procs", 4096, &procs, NULL);
        snprintf(buf, sizeof(buf), "%d\n", (int)f);
        ok(r == 0 && procs && strstr(procs, buf), "cgroup_enter_exec moves a forked process there too: %s",
           r < 0 ? error_message(&err) : "ok");
}

static void test_paths(void)
{
        _cleanup_error_ Error err = ERROR_INIT;
        int r;

        /* default: /ctrmgr-oci/<id> */
        {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_free_ char *oci = path_join(root, "ctrmgr-oci");
                made_ctrmgr_oci = access(oci, F_OK) < 0;
                CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .id = default_id};
                r = cgroup_create(&opts, &cg, &err);
                _cleanup_free_ char *want = strjoin("/ctrmgr-oci/", default_id);
                ok(r == 0 && streq(cgroup_path(cg), want), "default path %s",
                   r < 0 ? error_message(&err) : cgroup_path(cg));
                if (r >= 0)
                        ok(cgroup_destroy(cg, NULL) == 0, "destroy default-path cgroup");
        }
        /* relative: below our own cgroup */
        {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_free_ char *own = NULL;
                (void)read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 4096, &own, NULL);
                const char *own_path = own ? strstr(own, "0::") : NULL;
                _cleanup_free_ char *self =
                        own_path ? strndup(own_path + 3, strcspn(own_path + 3, "\n")) : NULL;
                CgroupOptions opts = {
                        .driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = path_basename(rel_dir), .id = "x"};
                r = cgroup_create(&opts, &cg, &err);
                _cleanup_free_ char *want = self ? path_join(self, path_basename(rel_dir)) : NULL;
                if (want)
                        path_simplify(want);
                ok(r == 0 && want && streq(cgroup_path(cg), want), "relative path below our own cgroup: %s",
                   r < 0 ? error_message(&err) : cgroup_path(cg));
                if (r >= 0)
                        ok(cgroup_destroy(cg, NULL) == 0, "destroy relative-path cgroup");
        }
        /* bad paths */
        FOREACH_ARRAY (p, ((const char *[]){"/a/../../etc", "/"}), 2) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_error_ Error e2 = ERROR_INIT;
                CgroupOptions opts = {.driver = CGROUP_DRIVER_CGROUPFS, .cgroups_path = *p, .id = "x"};
                r = cgroup_create(&opts, &cg, &e2);
                ok(r == -EINVAL, "cgroupsPath \"%s\" refused: \"%s\"", *p, error_message(&e2));
        }
}

static void test_systemd_names(void)
{
        static const struct {
                const char *path;
                const char *unit;
                const char *cgroup;
        } cases[] = {
                {"machine.slice:libpod:abc", "libpod-abc.scope", "/machine.slice/libpod-abc.scope"},
                {"a-b.slice:x:y", "x-y.scope", "/a.slice/a-b.slice/x-y.scope"},
                {":ctrmgr:web", "ctrmgr-web.scope", "/system.slice/ctrmgr-web.scope"},
                {"-.slice::solo", "solo.scope", "/solo.scope"},
                {NULL, "ctrmgr-oci-id1.scope", "/system.slice/ctrmgr-oci-id1.scope"},
        };
        static const char *const bad[] = {"machine.slice:x",          "notaslice:x:y",
                                          "machine.slice:x:",         "a:b:c:d",
                                          "system.slice:x:sub.slice", "system.slice:x:we/ird"};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                CgroupOptions opts = {
                        .driver = CGROUP_DRIVER_SYSTEMD, .cgroups_path = cases[i].path, .id = "id1"};
                int r = cgroup_create(&opts, &cg, &err);
                ok(r == 0 && streq(cgroup_unit(cg), cases[i].unit) &&
                           streq(cgroup_path(cg), cases[i].cgroup) && cgroup_fd(cg) < 0,
                   "systemd cgroupsPath \"%s\" → %s at %s (nothing made yet)", strna(cases[i].path),
                   r < 0 ? error_message(&err) : cgroup_unit(cg), r < 0 ? "" : cgroup_path(cg));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                CgroupOptions opts = {.driver = CGROUP_DRIVER_SYSTEMD, .cgroups_path = bad[i], .id = "id1"};
                int r = cgroup_create(&opts, &cg, &err);
                ok(r < 0 && strstr(error_message(&err), "linux.cgroupsPath"),
                   "systemd cgroupsPath \"%s\" refused: \"%s\"", bad[i], error_message(&err));
        }
        /* apply before enter is a clear error */
        {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                CgroupOptions opts = {.driver = CGROUP_DRIVER_SYSTEMD, .id = "id1"};
                int r = cgroup_create(&opts, &cg, &err);
                if (r >= 0)
                        r = cgroup_resources_parse(NULL, NULL, &res, &err);
                if (r >= 0)
                        r = cgroup_apply(cg, res, NULL, &err);
                ok(r == -EBADF && strstr(error_message(&err), "cgroup_enter"),
                   "systemd: apply before enter: \"%s\"", error_message(&err));
        }
}

static void test_conversions(void)
{
        /* expected values from ceil(10^((l^2 + 125 l) / 612 - 7/34)), l = log2(shares), with libm */
        static const uint64_t shares[][2] = {{2, 1},         {3, 2},         {10, 4},     {100, 17},
                                             {512, 59},      {1024, 100},    {2048, 174}, {4096, 303},
                                             {100000, 4340}, {262144, 10000}};
        for (size_t i = 0; i < ELEMENTSOF(shares); i++) {
                uint64_t w = cgroup_cpu_shares_to_weight(shares[i][0]);
                ok(w == shares[i][1], "cpu shares %" PRIu64 " -> weight %" PRIu64 " (want %" PRIu64 ")",
                   shares[i][0], w, shares[i][1]);
        }
        ok(cgroup_blkio_weight_to_io_weight(10) == 1 && cgroup_blkio_weight_to_io_weight(1000) == 10000 &&
                   cgroup_blkio_weight_to_io_weight(500) == 4950,
           "blkio weight 10/500/1000 -> io.weight 1/4950/10000");

        /* unified keys the systemd driver sends as unit properties instead of writing the file */
        static const struct {
                const char *file, *value, *property;
                uint64_t v;
                const char *property2;
                uint64_t v2;
        } unified[] = {
                {"memory.high", "536870912", "MemoryHigh", 536870912, NULL, 0},
                {"memory.max", "512M", "MemoryMax", 536870912, NULL, 0},
                {"memory.min", "4k", "MemoryMin", 4096, NULL, 0},
                {"memory.low", "max", "MemoryLow", UINT64_MAX, NULL, 0},
                {"memory.swap.max", "0", "MemorySwapMax", 0, NULL, 0},
                {"pids.max", "max", "TasksMax", UINT64_MAX, NULL, 0},
                {"pids.max", "64", "TasksMax", 64, NULL, 0},
                {"cpu.weight", "300", "CPUWeight", 300, NULL, 0},
                {"io.weight", "default 200", "IOWeight", 200, NULL, 0},
                {"io.weight", "50", "IOWeight", 50, NULL, 0},
                {"cpu.max", "20000 100000", "CPUQuotaPerSecUSec", 200000, "CPUQuotaPeriodUSec", 100000},
                {"cpu.max", "max", "CPUQuotaPerSecUSec", UINT64_MAX, NULL, 0},
                {"cpu.max", "12345 50000", "CPUQuotaPerSecUSec", 250000, "CPUQuotaPeriodUSec", 50000},
                /* not expressible as a property: written as given, the kernel judges */
                {"memory.high", "1.5G", NULL, 0, NULL, 0},
                {"memory.max", "-1", NULL, 0, NULL, 0},
                {"cpu.weight", "0", NULL, 0, NULL, 0},
                {"io.weight", "8:0 100", NULL, 0, NULL, 0},
                {"cpu.max", "100 10", NULL, 0, NULL, 0},
                {"cpu.idle", "1", NULL, 0, NULL, 0},
                {"cgroup.max.depth", "4", NULL, 0, NULL, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(unified); i++) {
                CgroupSystemdProperty p[2];
                int r = cgroup_systemd_unified_property(unified[i].file, unified[i].value, p);
                bool good;
                if (!unified[i].property)
                        good = r == 0 &&
                               !cgroup_systemd_unified_is_property(unified[i].file, unified[i].value);
                else
                        good = r == 1 && streq_ptr(p[0].property, unified[i].property) &&
                               p[0].value == unified[i].v &&
                               streq_ptr(p[1].property, unified[i].property2) &&
                               (!unified[i].property2 || p[1].value == unified[i].v2) &&
                               cgroup_systemd_unified_is_property(unified[i].file, unified[i].value);
                ok(good, "unified %s=\"%s\" -> %s%s%s (got %s=%" PRIu64 "%s%s)", unified[i].file,
                   unified[i].value, unified[i].property ?: "the file", unified[i].property2 ? " + " : "",
                   strempty(unified[i].property2), strna(p[0].property), p[0].value,
                   p[1].property ? " + " : "", strempty(p[1].property));
        }
        ok(cgroup_systemd_unified_is_property("cpuset.cpus", "0-1,3") &&
                   !cgroup_systemd_unified_is_property("cpuset.cpus", "0-x"),
           "unified cpuset.cpus -> AllowedCPUs when it parses");
}

int main(void)
{
        _cleanup_error_ Error err = ERROR_INIT;
        int r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root\n");
                return 77;
        }
        if (unshare(CLONE_NEWNS) == 0)
                (void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

        r = cgroup_find_root(&root, &err);
        if (r < 0) {
                printf("1..0 # SKIP no cgroup2 hierarchy: %s\n", error_message(&err));
                return 77;
        }
        printf("# cgroup2 root: %s\n", root);
        ok(streq(root, "/sys/fs/cgroup") || streq(root, "/sys/fs/cgroup/unified"), "cgroup2 root found: %s",
           root);

        counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (counter == MAP_FAILED) {
                printf("Bail out! mmap: %m\n");
                return EXIT_FAILURE;
        }
        test_dir = strprintf("%s/ctrmgr-test-cgsec-%d", root, (int)getpid());
        rel_dir = strprintf("%s/ctrmgr-test-cgsec-rel-%d", root, (int)getpid());
        test_start = time(NULL) - 1;
        default_id = strprintf("ctrmgr-test-cgsec-%d", (int)getpid());
        atexit(cleanup);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        test_parse_errors();
        test_conversions();
        test_cgroupfs();
        test_devices();
        test_pids_enforced();
        test_memory_enforced();
        test_cpu_enforced();
        test_exec_fd();
        test_paths();
        test_systemd_names();

        cleanup();
        ok(access(test_dir, F_OK) < 0, "the test cgroup %s is removed", test_dir);
        printf("1..%u\n", n_test);
        return n_fail > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
