/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for manager/: OCI spec generation (image config, then unit keys, then the baseline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/stat.h>

#include "manager/spec.h"

static json_object *gen(const SpecInput *in)
{
        json_object *spec = NULL;
        Error e = ERROR_INIT;
        int r = spec_generate(in, &spec, &e);
        if (r < 0)
                fail_msg("spec_generate: %s", error_message(&e));
        error_done(&e);
        return spec;
}

static json_object *get(json_object *o, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *save = NULL;
        for (char *k = strtok_r(p, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                json_object *n = NULL;
                if (json_object_is_type(o, json_type_array)) {
                        unsigned idx;
                        if (safe_atou(k, &idx) < 0)
                                return NULL;
                        n = json_object_array_get_idx(o, idx);
                } else if (!json_object_object_get_ex(o, k, &n))
                        return NULL;
                o = n;
        }
        return o;
}

static bool array_has(json_object *a, const char *s)
{
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static bool has_mount(json_object *spec, const char *dest, const char *type)
{
        json_object *mounts = get(spec, "mounts");
        for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                if (streq(json_object_get_string(get(m, "destination")), dest) &&
                    (!type || streq(json_object_get_string(get(m, "type")), type)))
                        return true;
        }
        return false;
}

static bool has_namespace(json_object *spec, const char *type)
{
        json_object *ns = get(spec, "linux.namespaces");
        for (size_t i = 0; ns && i < json_object_array_length(ns); i++)
                if (streq(json_object_get_string(get(json_object_array_get_idx(ns, i), "type")), type))
                        return true;
        return false;
}

static char *image_ep[] = {"/bin/busybox", NULL};
static char *image_cmd[] = {"httpd", "-f", "-p", "8080", NULL};
static char *image_env[] = {"PATH=/bin", "LANG=C", NULL};

static SpecInput base_input(void)
{
        SpecInput in = SPEC_INPUT_INIT;
        in.name = "web";
        in.rootfs = "/run/ctrmgr/web/rootfs";
        in.cgroups_path = "ctrmgr.slice:ctrmgr:web";
        in.image_entrypoint = image_ep;
        in.image_cmd = image_cmd;
        in.image_env = image_env;
        return in;
}

static void test_image_defaults(void **state)
{
        SpecInput in = base_input();
        json_object *spec = gen(&in);

        json_object *args = get(spec, "process.args");
        assert_int_equal(json_object_array_length(args), 5);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)), "/bin/busybox");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 1)), "httpd");
        assert_true(array_has(get(spec, "process.env"), "PATH=/bin"));
        assert_true(array_has(get(spec, "process.env"), "LANG=C"));
        assert_true(array_has(get(spec, "process.env"), "container=ctrmgr"));
        assert_string_equal(json_object_get_string(get(spec, "process.cwd")), "/");
        assert_int_equal(json_object_get_int(get(spec, "process.user.uid")), 0);
        assert_string_equal(json_object_get_string(get(spec, "root.path")), "/run/ctrmgr/web/rootfs");
        assert_string_equal(json_object_get_string(get(spec, "hostname")), "web");
        assert_string_equal(json_object_get_string(get(spec, "linux.cgroupsPath")),
                            "ctrmgr.slice:ctrmgr:web");
        json_object *a;
        assert_true(json_object_object_get_ex(get(spec, "annotations"), "org.ctrmgr.unit", &a));
        assert_string_equal(json_object_get_string(a), "web");
        json_object_put(spec);
}

static void test_baseline(void **state)
{
        SpecInput in = base_input();
        json_object *spec = gen(&in);

        /* Podman's 11 default capabilities, bounding = effective = permitted, no inheritable/ambient. */
        json_object *bounding = get(spec, "process.capabilities.bounding");
        assert_int_equal(json_object_array_length(bounding), 11);
        assert_true(array_has(bounding, "CAP_NET_BIND_SERVICE"));
        assert_false(array_has(bounding, "CAP_NET_RAW"));
        assert_false(array_has(bounding, "CAP_MKNOD"));
        assert_false(array_has(bounding, "CAP_SYS_ADMIN"));
        assert_int_equal(json_object_array_length(get(spec, "process.capabilities.effective")), 11);
        assert_null(get(spec, "process.capabilities.inheritable"));
        assert_null(get(spec, "process.capabilities.ambient"));
        assert_true(json_object_get_boolean(get(spec, "process.noNewPrivileges")));
        /* Not the daemon's own -500: containers start where a systemd service does. */
        assert_int_equal(json_object_get_int(get(spec, "process.oomScoreAdj")), 0);
        assert_true(json_object_is_type(get(spec, "process.oomScoreAdj"), json_type_int));

        assert_true(array_has(get(spec, "linux.maskedPaths"), "/proc/kcore"));
        assert_true(array_has(get(spec, "linux.maskedPaths"), "/sys/firmware"));
        assert_true(array_has(get(spec, "linux.readonlyPaths"), "/proc/sys"));
        assert_true(array_has(get(spec, "linux.readonlyPaths"), "/proc/sysrq-trigger"));

        assert_true(has_mount(spec, "/dev", "tmpfs"));
        assert_true(has_mount(spec, "/proc", "proc"));
        assert_true(has_mount(spec, "/dev/pts", "devpts"));
        assert_true(has_mount(spec, "/sys", "sysfs"));
        assert_true(has_mount(spec, "/dev/shm", "tmpfs"));

        assert_true(has_namespace(spec, "pid"));
        assert_true(has_namespace(spec, "mount"));
        assert_true(has_namespace(spec, "network"));
        assert_true(has_namespace(spec, "cgroup"));
        assert_false(has_namespace(spec, "user"));

        /* rlimits: NOFILE present (Podman's default, clamped to what we hold). */
        json_object *rl = get(spec, "process.rlimits");
        assert_non_null(rl);
        assert_string_equal(json_object_get_string(get(rl, "0.type")), "RLIMIT_NOFILE");
        json_object_put(spec);
}

static void test_unit_overrides(void **state)
{
        SpecInput in = base_input();
        char *exec[] = {"sh", "-c", "echo hi", NULL};
        char *env[] = {"LANG=C.UTF-8", "FOO=bar", NULL};

        in.exec = exec;
        in.environment = env;
        in.working_dir = "/srv";
        in.hostname = "frontend";
        in.network = SPEC_NETWORK_HOST;
        json_object *spec = gen(&in);

        json_object *args = get(spec, "process.args");
        assert_int_equal(json_object_array_length(args), 4); /* entrypoint kept, Cmd replaced */
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)), "/bin/busybox");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 3)), "echo hi");
        assert_true(array_has(get(spec, "process.env"), "LANG=C.UTF-8"));
        assert_false(array_has(get(spec, "process.env"), "LANG=C"));
        assert_true(array_has(get(spec, "process.env"), "FOO=bar"));
        assert_string_equal(json_object_get_string(get(spec, "process.cwd")), "/srv");
        assert_string_equal(json_object_get_string(get(spec, "hostname")), "frontend");
        assert_false(has_namespace(spec, "network"));
        assert_true(has_mount(spec, "/sys", "bind"));
        json_object_put(spec);

        /* Entrypoint= replaces the image's entrypoint and drops its Cmd (Docker semantics). */
        char *ep[] = {"/bin/sleep", NULL};
        SpecInput in2 = base_input();
        in2.entrypoint = ep;
        spec = gen(&in2);
        args = get(spec, "process.args");
        assert_int_equal(json_object_array_length(args), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)), "/bin/sleep");
        json_object_put(spec);
}

static void test_capabilities(void **state)
{
        SpecInput in = base_input();
        char *add[] = {"CAP_NET_ADMIN", "net_raw", NULL};
        char *drop[] = {"CAP_CHOWN", NULL};

        in.add_capabilities = add;
        in.drop_capabilities = drop;
        in.no_new_privileges = 0;
        json_object *spec = gen(&in);
        json_object *b = get(spec, "process.capabilities.bounding");
        assert_true(array_has(b, "CAP_NET_ADMIN"));
        assert_true(array_has(b, "CAP_NET_RAW"));
        assert_false(array_has(b, "CAP_CHOWN"));
        assert_int_equal(json_object_array_length(b), 12);
        assert_false(json_object_get_boolean(get(spec, "process.noNewPrivileges")));
        json_object_put(spec);

        char *all[] = {"ALL", NULL};
        SpecInput in2 = base_input();
        in2.drop_capabilities = all;
        spec = gen(&in2);
        assert_int_equal(json_object_array_length(get(spec, "process.capabilities.bounding")), 0);
        json_object_put(spec);

        char *bad[] = {"CAP_BOGUS", NULL};
        SpecInput in3 = base_input();
        in3.add_capabilities = bad;
        json_object *s3 = NULL;
        Error e = ERROR_INIT;
        assert_int_equal(spec_generate(&in3, &s3, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "CAP_BOGUS"));
        assert_null(s3);
        error_done(&e);
}

static void test_resources_and_mounts(void **state)
{
        SpecInput in = base_input();
        char *bind_opts[] = {"rbind", "ro", NULL};
        SpecMount mounts[] = {
                {.type = "bind", .source = "/srv/www", .destination = "/www", .options = bind_opts},
                {.type = "tmpfs", .source = "tmpfs", .destination = "/tmp", .options = NULL},
        };
        char *unmask[] = {"/proc/kcore", NULL};
        char *sysctl[] = {"net.ipv4.ip_forward=1", NULL};

        in.mounts = mounts;
        in.n_mounts = 2;
        in.memory_max = 256 * 1024 * 1024;
        in.pids_max = 100;
        in.cpu_weight = 200;
        in.cpu_quota_per_sec_usec = 500000;
        in.unmask = unmask;
        in.sysctl = sysctl;
        in.read_only = true;
        in.read_only_tmpfs = true;
        json_object *spec = gen(&in);

        assert_int_equal(json_object_get_int64(get(spec, "linux.resources.memory.limit")),
                         256 * 1024 * 1024);
        assert_int_equal(json_object_get_int64(get(spec, "linux.resources.pids.limit")), 100);
        json_object *w;
        assert_true(json_object_object_get_ex(get(spec, "linux.resources.unified"), "cpu.weight", &w));
        assert_string_equal(json_object_get_string(w), "200");
        assert_int_equal(json_object_get_int64(get(spec, "linux.resources.cpu.quota")), 50000);
        assert_int_equal(json_object_get_int64(get(spec, "linux.resources.cpu.period")), 100000);
        assert_true(has_mount(spec, "/www", "bind"));
        assert_true(has_mount(spec, "/tmp", "tmpfs"));
        assert_true(has_mount(spec, "/var/tmp", "tmpfs"));
        assert_false(array_has(get(spec, "linux.maskedPaths"), "/proc/kcore"));
        json_object *sys;
        assert_true(json_object_object_get_ex(get(spec, "linux"), "sysctl", &sys));
        json_object *v;
        assert_true(json_object_object_get_ex(sys, "net.ipv4.ip_forward", &v));
        assert_string_equal(json_object_get_string(v), "1");
        assert_true(json_object_get_boolean(get(spec, "root.readonly")));
        json_object_put(spec);

        SpecMount bad[] = {{.type = "bind", .source = "relative", .destination = "/x"}};
        SpecInput in2 = base_input();
        in2.mounts = bad;
        in2.n_mounts = 1;
        json_object *s2 = NULL;
        Error e = ERROR_INIT;
        assert_int_equal(spec_generate(&in2, &s2, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "relative"));
        error_done(&e);
}

static void test_errors(void **state)
{
        json_object *spec = NULL;
        Error e = ERROR_INIT;

        SpecInput in = base_input();
        in.image_entrypoint = NULL;
        in.image_cmd = NULL;
        assert_int_equal(spec_generate(&in, &spec, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "no command"));
        error_done(&e);

        SpecInput in2 = base_input();
        in2.working_dir = "srv";
        assert_int_equal(spec_generate(&in2, &spec, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "WorkingDir"));
        error_done(&e);

        char *env[] = {"NOEQUALS", NULL};
        SpecInput in3 = base_input();
        in3.environment = env;
        assert_int_equal(spec_generate(&in3, &spec, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "NOEQUALS"));
        error_done(&e);

        /* A user name cannot be resolved without a rootfs. */
        SpecInput in4 = base_input();
        in4.user = "www-data";
        assert_int_equal(spec_generate(&in4, &spec, &e), -ESRCH);
        assert_non_null(strstr(error_message(&e), "www-data"));
        error_done(&e);
        assert_null(spec);
}

static void test_users(void **state)
{
        char dir[] = "/tmp/test-manager-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *etc = path_join(dir, "etc");
        assert_int_equal(mkdir(etc, 0755), 0);
        _cleanup_free_ char *passwd = path_join(etc, "passwd"), *group = path_join(etc, "group");
        FILE *f = fopen(passwd, "we");
        fputs("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www:/var/www:/bin/false\n", f);
        fclose(f);
        f = fopen(group, "we");
        fputs("root:x:0:\nwww-data:x:33:\nstaff:x:50:\n", f);
        fclose(f);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);

        uid_t uid;
        gid_t gid;
        assert_int_equal(spec_resolve_user(fd, "www-data", NULL, &uid, &gid, NULL), 0);
        assert_int_equal(uid, 33);
        assert_int_equal(gid, 33);
        assert_int_equal(spec_resolve_user(fd, "www-data:staff", NULL, &uid, &gid, NULL), 0);
        assert_int_equal(gid, 50);
        assert_int_equal(spec_resolve_user(fd, "1000", "staff", &uid, &gid, NULL), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(gid, 50);
        assert_int_equal(spec_resolve_user(fd, "1000:1001", NULL, &uid, &gid, NULL), 0);
        assert_int_equal(gid, 1001);
        assert_int_equal(spec_resolve_user(fd, "nobody", NULL, &uid, &gid, NULL), -ESRCH);

        SpecInput in = base_input();
        in.rootfs_fd = fd;
        in.image_user = "www-data";
        json_object *spec = gen(&in);
        assert_int_equal(json_object_get_int(get(spec, "process.user.uid")), 33);
        json_object_put(spec);

        close(fd);
        unlink(passwd);
        unlink(group);
        rmdir(etc);
        rmdir(dir);
}

static void test_stop_signal(void **state)
{
        SpecInput in = base_input();
        assert_int_equal(spec_image_stop_signal(&in), SIGTERM);
        in.image_stop_signal = "SIGQUIT";
        assert_int_equal(spec_image_stop_signal(&in), SIGQUIT);
        in.image_stop_signal = "bogus";
        assert_int_equal(spec_image_stop_signal(&in), SIGTERM);
}

static void test_seccomp_copied(void **state)
{
        SpecInput in = base_input();
        json_object *sc = json_tokener_parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}");
        in.seccomp = sc;
        json_object *spec = gen(&in);
        assert_string_equal(json_object_get_string(get(spec, "linux.seccomp.defaultAction")),
                            "SCMP_ACT_ERRNO");
        json_object_put(spec);
        /* The caller's object is untouched and still owned by it. */
        assert_int_equal(json_object_array_length(get(sc, "syscalls")), 0);

        in.seccomp_unconfined = true;
        spec = gen(&in);
        assert_null(get(spec, "linux.seccomp"));
        json_object_put(spec);
        json_object_put(sc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_image_defaults),
                cmocka_unit_test(test_baseline),
                cmocka_unit_test(test_unit_overrides),
                cmocka_unit_test(test_capabilities),
                cmocka_unit_test(test_resources_and_mounts),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_users),
                cmocka_unit_test(test_stop_signal),
                cmocka_unit_test(test_seccomp_copied),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
