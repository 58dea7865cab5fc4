/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd cgroup driver against a real systemd (run inside a tier-1 test host by
 * systemd-host.sh; skips elsewhere): a transient scope with Delegate=yes holds a forked child,
 * resource properties reach systemd as sent, freezer and kill work in the scope, destroy stops
 * it. TAP output.
 */

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/cgroup-internal.h"

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

/* One property of the unit as `systemctl show` prints it. */
static char *unit_property(const char *unit, const char *property)
{
        char cmd[512], buf[512] = "";
        FILE *f;

        snprintf(cmd, sizeof(cmd), "systemctl show -p %s --value %s 2>/dev/null", property, unit);
        f = popen(cmd, "re");
        if (!f)
                return NULL;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        pclose(f);
        return strdup(strstrip(buf));
}

static bool property_is(const char *unit, const char *property, const char *want)
{
        _cleanup_free_ char *v = unit_property(unit, property);
        bool good = v && streq(v, want);
        if (!good)
                printf("#   %s=%s, want %s\n", property, strna(v), want);
        return good;
}

/* A control file of the scope, or NULL. */
static char *scope_file(Cgroup *cg, const char *file)
{
        _cleanup_free_ char *dir = cgroup_dir(cg), *p = NULL;
        char *v = NULL;
        p = dir ? path_join(dir, file) : NULL;
        if (!p || read_one_line_file(p, &v) < 0)
                return NULL;
        return v;
}

/* Where the controller is delegated to the scope (pure v2 with controllers: the tier-2 VM), the
 * value must be in the file: systemd wrote it from the property. */
static void file_is(Cgroup *cg, const char *controller, const char *file, const char *want)
{
        if (!cgroup_controller_available(cgroup_fd(cg), controller)) {
                printf("ok %u - # SKIP %s: no %s controller in the scope here\n", ++n_test, file,
                       controller);
                return;
        }
        _cleanup_free_ char *v = scope_file(cg, file);
        ok(v && streq(v, want), "%s in the scope is \"%s\" (%s)", file, want, strna(v));
}

static pid_t spawn(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return pid;
}

static bool reaped(pid_t pid, int *ret_status)
{
        for (int i = 0; i < 300; i++) {
                int status;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        if (ret_status)
                                *ret_status = status;
                        return true;
                }
                usleep(10 * 1000);
        }
        return false;
}

static void run(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL, *loaded = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        char id[64], unit[128];
        int r, status;

        snprintf(id, sizeof(id), "c%d", (int)getpid());
        snprintf(unit, sizeof(unit), "ctrmgr-test-%s.scope", id);

        _cleanup_free_ char *cgroups_path = strjoin("system.slice:ctrmgr-test:", id);
        CgroupOptions opts = {.driver = CGROUP_DRIVER_SYSTEMD, .cgroups_path = cgroups_path, .id = id};
        r = cgroup_create(&opts, &cg, &err);
        ok(r == 0 && streq(cgroup_unit(cg), unit), "resolve %s → %s", cgroups_path, strna(cgroup_unit(cg)));
        if (r < 0)
                return;

        pid_t a = spawn();
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        r = cgroup_enter(cg, a, &err);
        uint64_t t1 = now_usec(CLOCK_MONOTONIC);
        ok(r == 0, "StartTransientUnit with PIDs=[%d], waited for JobRemoved (%" PRIu64 " us): %s", (int)a,
           t1 - t0, r < 0 ? error_message(&err) : "ok");
        if (r < 0) {
                kill(a, SIGKILL);
                reaped(a, NULL);
                return;
        }
        ok(cgroup_fd(cg) >= 0, "scope cgroup %s is open", cgroup_path(cg));
        _cleanup_free_ char *want_path = strjoin("/system.slice/", unit);
        ok(streq(cgroup_path(cg), want_path), "ControlGroup is %s", want_path);
        {
                char p[64];
                _cleanup_free_ char *s = NULL, *want = strjoin("0::", want_path);
                snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)a);
                (void)read_full_file_at(AT_FDCWD, p, 4096, &s, NULL);
                ok(s && strstr(s, want), "the child is in the scope");
        }
        ok(property_is(unit, "ActiveState", "active"), "the scope is active");
        ok(property_is(unit, "Delegate", "yes"), "Delegate=yes");
        ok(property_is(unit, "Slice", "system.slice"), "Slice=system.slice");
        ok(property_is(unit, "DefaultDependencies", "no"), "DefaultDependencies=no");

        /* resources: through the public call (warnings for what this hierarchy lacks) ... */
        json_object *o = json_tokener_parse(
                "{ \"memory\": { \"limit\": 67108864, \"reservation\": 1048576, \"swap\": 134217728 },"
                "  \"cpu\": { \"shares\": 512, \"quota\": 25000, \"period\": 50000, \"cpus\": \"0\" },"
                "  \"pids\": { \"limit\": 77 },"
                "  \"blockIO\": { \"weight\": 500, \"throttleReadBpsDevice\": [ { \"major\": 1, \"minor\": "
                "3,"
                "                 \"rate\": 1048576 } ] },"
                "  \"unified\": { \"cgroup.max.depth\": \"4\" } }");
        r = cgroup_resources_parse(o, "linux.resources", &res, &err);
        json_object_put(o);
        ok(r == 0, "parse resources");
        if (r < 0)
                return;
        r = cgroup_apply(cg, res, &warnings, &err);
        ok(r == 0, "apply: %s", r < 0 ? error_message(&err) : "ok");
        STRV_FOREACH (w, warnings)
                printf("#   warning: %s\n", *w);
        file_is(cg, "memory", "memory.max", "67108864");
        file_is(cg, "memory", "memory.low", "1048576");
        file_is(cg, "memory", "memory.swap.max", "67108864");
        file_is(cg, "cpu", "cpu.weight", "59");
        file_is(cg, "cpu", "cpu.max", "25000 50000");
        file_is(cg, "pids", "pids.max", "77");
        file_is(cg, "cpuset", "cpuset.cpus", "0");
        {
                _cleanup_free_ char *dir = cgroup_dir(cg), *depth = NULL;
                _cleanup_free_ char *p = path_join(dir, "cgroup.max.depth");
                (void)read_one_line_file(p, &depth);
                ok(depth && streq(depth, "4"), "unified key written in the delegated scope dir (%s)",
                   strna(depth));
        }
        /* ... and every property sent regardless of controllers, to see systemd store them as sent */
        r = cgroup_systemd_apply(cg, res, true, NULL, &err);
        ok(r == 0, "SetUnitProperties with every property: %s", r < 0 ? error_message(&err) : "ok");
        ok(property_is(unit, "MemoryMax", "67108864"), "MemoryMax");
        ok(property_is(unit, "MemoryLow", "1048576"), "MemoryLow");
        ok(property_is(unit, "MemorySwapMax", "67108864"), "MemorySwapMax = swap - limit");
        ok(property_is(unit, "CPUWeight", "59"), "CPUWeight from shares 512");
        ok(property_is(unit, "CPUQuotaPerSecUSec", "500ms"), "CPUQuotaPerSecUSec = 25000/50000");
        ok(property_is(unit, "CPUQuotaPeriodUSec", "50ms"), "CPUQuotaPeriodUSec");
        ok(property_is(unit, "AllowedCPUs", "0"), "AllowedCPUs");
        ok(property_is(unit, "TasksMax", "77"), "TasksMax");
        ok(property_is(unit, "IOWeight", "4950"), "IOWeight from blkio 500");
        ok(property_is(unit, "IOReadBandwidthMax", "/dev/block/1:3 1048576"), "IOReadBandwidthMax");

        /* unified keys systemd has properties for become those properties (a daemon-reload would
         * otherwise put systemd's defaults back into the files); the rest is written as files */
        {
                _cleanup_(cgroup_resources_freep) CgroupResources *ures = NULL;
                _cleanup_strv_free_ char **uw = NULL;
                json_object *u = json_tokener_parse(
                        "{ \"unified\": { \"memory.high\": \"512M\", \"memory.min\": \"4096\","
                        "  \"cpu.weight\": \"300\", \"io.weight\": \"default 200\", \"pids.max\": \"max\","
                        "  \"cpu.max\": \"20000 100000\", \"cgroup.max.descendants\": \"7\" } }");
                r = cgroup_resources_parse(u, "linux.resources", &ures, &err);
                json_object_put(u);
                ok(r == 0, "parse unified resources");
                if (r < 0)
                        return;
                r = cgroup_apply(cg, ures, &uw, &err);
                ok(r == 0, "apply unified: %s", r < 0 ? error_message(&err) : "ok");
                bool warned_high = false, warned_file = false;
                STRV_FOREACH (w, uw) {
                        printf("#   warning: %s\n", *w);
                        if (strstr(*w, "linux.resources.unified.memory.high") && strstr(*w, "MemoryHigh="))
                                warned_high = true;
                        if (strstr(*w, "memory.high=") || strstr(*w, "cpu.weight="))
                                warned_file = true;
                }
                if (!cgroup_controller_available(cgroup_fd(cg), "memory"))
                        ok(warned_high && !warned_file, "without the memory controller: a warning naming "
                                                        "MemoryHigh=, no file write tried");
                _cleanup_free_ char *dir = cgroup_dir(cg), *desc = NULL;
                _cleanup_free_ char *p = path_join(dir, "cgroup.max.descendants");
                (void)read_one_line_file(p, &desc);
                ok(desc && streq(desc, "7"), "unified key without a property written in the scope dir (%s)",
                   strna(desc));
                file_is(cg, "memory", "memory.high", "536870912");
                file_is(cg, "memory", "memory.min", "4096");
                file_is(cg, "cpu", "cpu.weight", "300");
                file_is(cg, "cpu", "cpu.max", "20000 100000");
                file_is(cg, "pids", "pids.max", "max");
                file_is(cg, "io", "io.weight", "default 200");
                /* systemd realizes the unit's cgroup again on daemon-reload: the values stay */
                ok(system("systemctl daemon-reload") == 0, "daemon-reload");
                file_is(cg, "memory", "memory.high", "536870912");
                file_is(cg, "cpu", "cpu.weight", "300");
                file_is(cg, "memory", "memory.max", "67108864");
                r = cgroup_systemd_apply(cg, ures, true, NULL, &err);
                ok(r == 0, "SetUnitProperties from unified keys: %s", r < 0 ? error_message(&err) : "ok");
                ok(property_is(unit, "MemoryHigh", "536870912"), "unified memory.high 512M -> MemoryHigh");
                ok(property_is(unit, "MemoryMin", "4096"), "unified memory.min -> MemoryMin");
                ok(property_is(unit, "CPUWeight", "300"), "unified cpu.weight -> CPUWeight");
                ok(property_is(unit, "IOWeight", "200"), "unified io.weight -> IOWeight");
                ok(property_is(unit, "TasksMax", "infinity"), "unified pids.max max -> TasksMax=infinity");
                ok(property_is(unit, "CPUQuotaPerSecUSec", "200ms"),
                   "unified cpu.max -> CPUQuotaPerSecUSec");
                ok(property_is(unit, "CPUQuotaPeriodUSec", "100ms"),
                   "unified cpu.max -> CPUQuotaPeriodUSec");
                /* runtime properties survive a daemon-reload */
                ok(system("systemctl daemon-reload") == 0 && property_is(unit, "MemoryHigh", "536870912") &&
                           property_is(unit, "CPUWeight", "300"),
                   "after daemon-reload the properties are still there");
        }

        /* freezer and pids in the scope, then reopen as a later command would */
        r = cgroup_freeze(cg, true, &err);
        ok(r == 0 && cgroup_is_frozen(cg, NULL) == 1, "freeze the scope: %s",
           r < 0 ? error_message(&err) : "ok");
        r = cgroup_freeze(cg, false, &err);
        ok(r == 0 && cgroup_is_frozen(cg, NULL) == 0, "thaw the scope");

        r = cgroup_load(CGROUP_DRIVER_SYSTEMD, cgroup_path(cg), cgroup_unit(cg), &loaded, &err);
        ok(r == 0, "load from the saved path and unit: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0)
                return;
        pid_t b = spawn();
        r = cgroup_enter(loaded, b, &err);
        ok(r == 0, "enter a second process (exec) into the existing scope: %s",
           r < 0 ? error_message(&err) : "ok");
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        r = cgroup_get_pids(loaded, &pids, &n, &err);
        ok(r == 0 && n == 2, "two processes in the scope (%zu)", n);

        r = cgroup_kill_all(loaded, SIGKILL, &err);
        ok(r >= 0 && reaped(a, &status) && WIFSIGNALED(status) && reaped(b, NULL), "kill_all(SIGKILL)");

        r = cgroup_destroy(loaded, &err);
        ok(r == 0, "destroy (StopUnit, or already gone): %s", r < 0 ? error_message(&err) : "ok");
        _cleanup_free_ char *state = unit_property(unit, "ActiveState");
        ok(state && (streq(state, "inactive") || isempty(state)), "the scope is gone (ActiveState=%s)",
           strna(state));
        {
                /* SetUnitProperties(runtime) writes drop-ins; they must go with the unit */
                _cleanup_free_ char *dropins = strjoin("/run/systemd/system.control/", unit, ".d");
                _cleanup_free_ char *transient = strjoin("/run/systemd/transient/", unit);
                bool gone = false;
                for (int i = 0; i < 100 && !gone; i++) {
                        gone = access(dropins, F_OK) < 0 && access(transient, F_OK) < 0;
                        if (!gone)
                                usleep(20 * 1000);
                }
                if (!gone)
                        (void)!system("ls -la /run/systemd/system.control /run/systemd/transient | sed "
                                      "'s/^/#   /'");
                ok(gone, "no unit file or drop-in of the scope left in /run/systemd");
        }

        /* a scope with the same name while the first runs: a clear error */
        {
                _cleanup_(cgroup_freep) Cgroup *x = NULL, *y = NULL;
                _cleanup_error_ Error e2 = ERROR_INIT;
                pid_t c = spawn(), d = spawn();
                r = cgroup_create(&opts, &x, &e2);
                if (r >= 0)
                        r = cgroup_enter(x, c, &e2);
                if (r >= 0)
                        r = cgroup_create(&opts, &y, &e2);
                if (r >= 0) {
                        r = cgroup_enter(y, d, &e2);
                        ok(r == -EEXIST, "a second scope of the same name is -EEXIST: \"%s\"",
                           error_message(&e2));
                }
                kill(c, SIGKILL);
                kill(d, SIGKILL);
                reaped(c, NULL);
                reaped(d, NULL);
                if (x)
                        (void)cgroup_destroy(x, NULL);
        }
}

/* Resources passed at create go with StartTransientUnit: the scope has its limits from the
 * start, and the cgroup_apply() after enter sends nothing more. */
static void run_start_properties(void)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_error_ Error err = ERROR_INIT;
        char id[64], unit[128];
        int r;

        snprintf(id, sizeof(id), "s%d", (int)getpid());
        snprintf(unit, sizeof(unit), "ctrmgr-test-%s.scope", id);
        _cleanup_free_ char *cgroups_path = strjoin("system.slice:ctrmgr-test:", id);
        json_object *o = json_tokener_parse(
                "{ \"memory\": { \"limit\": 33554432 }, \"pids\": { \"limit\": 9 },"
                "  \"unified\": { \"memory.high\": \"16M\", \"cgroup.max.depth\": \"2\" } }");
        r = cgroup_resources_parse(o, "linux.resources", &res, &err);
        json_object_put(o);
        ok(r == 0, "parse start resources");
        if (r < 0)
                return;
        CgroupOptions opts = {
                .driver = CGROUP_DRIVER_SYSTEMD, .cgroups_path = cgroups_path, .id = id, .resources = res};
        r = cgroup_create(&opts, &cg, &err);
        pid_t a = r >= 0 ? spawn() : -1;
        if (r >= 0)
                r = cgroup_enter(cg, a, &err);
        ok(r == 0, "StartTransientUnit with resource properties: %s", r < 0 ? error_message(&err) : "ok");
        if (r < 0) {
                if (a > 0) {
                        kill(a, SIGKILL);
                        reaped(a, NULL);
                }
                return;
        }
        ok(property_is(unit, "MemoryMax", "33554432") && property_is(unit, "TasksMax", "9") &&
                   property_is(unit, "MemoryHigh", "16777216"),
           "MemoryMax, TasksMax, MemoryHigh (unified) set at start");
        file_is(cg, "memory", "memory.max", "33554432");
        file_is(cg, "pids", "pids.max", "9");
        file_is(cg, "memory", "memory.high", "16777216");

        r = cgroup_apply(cg, res, &warnings, &err);
        ok(r == 0, "apply the same resources after enter: %s", r < 0 ? error_message(&err) : "ok");
        STRV_FOREACH (w, warnings)
                printf("#   warning: %s\n", *w);
        if (!cgroup_controller_available(cgroup_fd(cg), "memory"))
                ok(strv_length(warnings) >= 1, "apply still reports what the scope lacks");
        _cleanup_free_ char *depth = scope_file(cg, "cgroup.max.depth");
        ok(depth && streq(depth, "2"), "apply writes what has no property (cgroup.max.depth %s)",
           strna(depth));
        _cleanup_free_ char *dropins = strjoin("/run/systemd/system.control/", unit, ".d");
        /* (without the controllers apply would send nothing anyway: only meaningful in tier 2) */
        if (cgroup_controller_available(cgroup_fd(cg), "memory"))
                ok(access(dropins, F_OK) < 0, "no SetUnitProperties after a start with properties (no %s)",
                   dropins);
        else
                printf("ok %u - # SKIP no-SetUnitProperties check: no memory controller in the scope here\n",
                       ++n_test);

        kill(a, SIGKILL);
        reaped(a, NULL);
        r = cgroup_destroy(cg, &err);
        ok(r == 0, "destroy: %s", r < 0 ? error_message(&err) : "ok");
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

/* What one container's scope costs the runtime: create + enter (StartTransientUnit, job wait,
 * ControlGroup) + destroy, for N scopes in a row. Printed as a figure, not judged. */
static void measure(void)
{
        enum { MAX = 100 };
        uint64_t start[MAX], stop[MAX];
        size_t n = 0, N = 20;
        const char *e = getenv("CTRMGR_TEST_SCOPES"); /* fewer in the slow tier-2 VM */
        unsigned u;

        if (e && safe_atou(e, &u) >= 0)
                N = MIN((size_t)u, (size_t)MAX);
        for (size_t i = 0; i < N; i++) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                _cleanup_error_ Error err = ERROR_INIT;
                char id[64], path[128];
                snprintf(id, sizeof(id), "m%d-%zu", (int)getpid(), i);
                snprintf(path, sizeof(path), "system.slice:ctrmgr-test:%s", id);
                CgroupOptions opts = {.driver = CGROUP_DRIVER_SYSTEMD, .cgroups_path = path, .id = id};
                pid_t pid = spawn();
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                int r = cgroup_create(&opts, &cg, &err);
                if (r >= 0)
                        r = cgroup_enter(cg, pid, &err);
                uint64_t t1 = now_usec(CLOCK_MONOTONIC);
                kill(pid, SIGKILL);
                reaped(pid, NULL);
                if (r >= 0)
                        r = cgroup_destroy(cg, &err);
                uint64_t t2 = now_usec(CLOCK_MONOTONIC);
                if (r < 0) {
                        printf("#   scope %zu: %s\n", i, error_message(&err));
                        break;
                }
                start[n] = t1 - t0;
                stop[n++] = t2 - t1;
        }
        ok(n == N, "%zu scopes started and stopped in a row", N);
        if (n == 0)
                return;
        qsort(start, n, sizeof(uint64_t), cmp_u64);
        qsort(stop, n, sizeof(uint64_t), cmp_u64);
        printf("# figure: systemd scope per container: start (create+enter) median %" PRIu64
               " us, max %" PRIu64 " us; kill+destroy median %" PRIu64 " us (%zu scopes)\n",
               start[n / 2], start[n - 1], stop[n / 2], n);
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (access("/run/systemd/system", F_OK) < 0) {
                printf("1..0 # SKIP not running under systemd (run through systemd-host.sh)\n");
                return 77;
        }
        run();
        run_start_properties();
        measure();
        printf("1..%u\n", n_test);
        return n_fail > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
