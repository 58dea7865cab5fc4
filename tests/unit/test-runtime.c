/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of runtime/: the config.json parser (typed result, JSON-path errors, unknown fields
 * ignored), the exec process object and its setters, container ids, the default spec and the
 * state JSON. No root needed: nothing here forks or mounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sched.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "runtime/internal.h"

#define MINIMAL_HEAD    "{ \"ociVersion\": \"1.0.2\", \"root\": { \"path\": \"rootfs\" }, "
#define MINIMAL_PROCESS "\"process\": { \"cwd\": \"/\", \"args\": [\"sh\"] }"

/* Parses text, which must fail, and checks the error names what. */
static void assert_parse_error(const char *text, const char *what)
{
        _cleanup_runtime_spec_ RuntimeSpec *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        int r = runtime_spec_parse_string(text, &s, &e);
        if (r >= 0)
                fail_msg("parsed, expected an error naming \"%s\": %s", what, text);
        assert_null(s);
        if (!strstr(error_message(&e), what))
                fail_msg("error \"%s\" does not name \"%s\"", error_message(&e), what);
}

static void test_full_spec(void **state)
{
        const char *text = MINIMAL_HEAD
                "\"hostname\": \"h\", \"domainname\": \"d.example\","
                "\"unknownTopLevel\": { \"ignored\": true },"
                "\"process\": { \"terminal\": false, \"cwd\": \"/tmp\", \"args\": [\"sh\", \"-c\", "
                "\"true\"],"
                "  \"env\": [\"A=1\"], \"user\": { \"uid\": 10, \"gid\": 20, \"umask\": 18, "
                "\"additionalGids\": [1, 2] },"
                "  \"capabilities\": { \"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"ambient\": "
                "[\"CAP_KILL\"] },"
                "  \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 20 } ],"
                "  \"noNewPrivileges\": true, \"oomScoreAdj\": -100, \"unknownProcessKey\": 1 },"
                "\"mounts\": [ { \"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv\","
                "  \"options\": [\"rbind\", \"ro\", \"nosuid\", \"rslave\"] },"
                "  { \"destination\": \"/t\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
                "[\"size=1m\", \"mode=700\"] } ],"
                "\"hooks\": { \"prestart\": [ { \"path\": \"/bin/true\", \"timeout\": 5 } ],"
                "  \"poststop\": [ { \"path\": \"/bin/false\", \"args\": [\"false\"] } ] },"
                "\"annotations\": { \"k\": \"v\" },"
                "\"linux\": { \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"mount\" },"
                "  { \"type\": \"uts\" }, { \"type\": \"network\", \"path\": \"/run/netns/x\" } ],"
                "  \"sysctl\": { \"net.ipv4.ip_forward\": \"1\" }, \"maskedPaths\": [\"/proc/kcore\"],"
                "  \"readonlyPaths\": [\"/proc/sys\"], \"cgroupsPath\": \"/a/b\", \"rootfsPropagation\": "
                "\"rslave\","
                "  \"devices\": [ { \"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": 3 } ] } "
                "}";
        _cleanup_runtime_spec_ RuntimeSpec *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(runtime_spec_parse_string(text, &s, &e), 0);
        assert_string_equal(s->root_path, "rootfs");
        assert_string_equal(s->hostname, "h");
        assert_string_equal(s->domainname, "d.example");
        RuntimeProcess *p = s->process;
        assert_non_null(p);
        assert_string_equal(p->cwd, "/tmp");
        assert_string_equal(p->args[2], "true");
        assert_int_equal(p->uid, 10);
        assert_int_equal(p->gid, 20);
        assert_true(p->has_umask);
        assert_int_equal(p->umask, 022);
        assert_int_equal(p->n_additional_gids, 2);
        assert_true(p->has_caps);
        assert_int_equal(p->caps[CAP_SET_BOUNDING], (1ULL << 5) | (1ULL << 0));
        assert_int_equal(p->caps[CAP_SET_AMBIENT], 1ULL << 5);
        assert_int_equal(p->caps[CAP_SET_INHERITABLE], 0);
        assert_int_equal(p->n_rlimits, 1);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].soft, 10);
        assert_int_equal(p->rlimits[0].hard, 20);
        assert_true(p->no_new_privileges);
        assert_true(p->has_oom_score_adj);
        assert_int_equal(p->oom_score_adj, -100);
        assert_int_equal(s->n_mounts, 2);
        assert_true(s->mounts[0].rbind);
        assert_true(s->mounts[0].ro);
        assert_true(s->mounts[0].flags & MS_NOSUID);
        assert_int_equal(s->mounts[0].propagation & ~MS_REC, MS_SLAVE);
        assert_string_equal(s->mounts[1].type, "tmpfs");
        assert_non_null(s->mounts[1].data);
        assert_non_null(strstr(s->mounts[1].data, "size=1m"));
        assert_int_equal(s->n_hooks[HOOK_PRESTART], 1);
        assert_int_equal(s->hooks[HOOK_PRESTART][0].timeout, 5);
        assert_int_equal(s->n_hooks[HOOK_POSTSTOP], 1);
        assert_int_equal(s->n_hooks[HOOK_POSTSTART], 0);
        assert_string_equal(s->annotations[0], "k");
        assert_string_equal(s->annotations[1], "v");
        assert_true(s->ns[NS_PID] && s->ns[NS_MOUNT] && s->ns[NS_UTS] && s->ns[NS_NETWORK]);
        assert_false(s->ns[NS_USER] || s->ns[NS_IPC] || s->ns[NS_TIME]);
        assert_string_equal(s->ns_path[NS_NETWORK], "/run/netns/x");
        assert_null(s->ns_path[NS_PID]);
        assert_string_equal(s->sysctl[0], "net.ipv4.ip_forward");
        assert_string_equal(s->masked_paths[0], "/proc/kcore");
        assert_string_equal(s->readonly_paths[0], "/proc/sys");
        assert_string_equal(s->cgroups_path, "/a/b");
        assert_int_equal(s->n_devices, 1);
        assert_int_equal(s->devices[0].type, 'c');
        assert_int_equal(s->devices[0].minor, 3);
        assert_int_equal(namespace_type_clone_flag(NS_NETWORK), CLONE_NEWNET);
        assert_string_equal(namespace_type_proc_name(NS_NETWORK), "net");
}

static void test_errors_name_the_json_path(void **state)
{
        assert_parse_error("{", "invalid JSON");
        assert_parse_error("{ \"root\": { \"path\": \"r\" }, " MINIMAL_PROCESS " }", "ociVersion");
        assert_parse_error("{ \"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS " }", "root");
        assert_parse_error(MINIMAL_HEAD MINIMAL_PROCESS
                           ", \"linux\": { \"namespaces\": "
                           "[ { \"type\": \"pid\" }, { \"type\": \"foo\" } ] } }",
                           "linux.namespaces[1].type: unknown namespace \"foo\"");
        assert_parse_error(MINIMAL_HEAD MINIMAL_PROCESS
                           ", \"linux\": { \"namespaces\": "
                           "[ { \"type\": \"pid\" }, { \"type\": \"pid\" } ] } }",
                           "duplicate namespace");
        assert_parse_error(MINIMAL_HEAD
                           "\"process\": { \"cwd\": \"/\", \"args\": [\"sh\"], \"capabilities\": "
                           "{ \"effective\": [\"CAP_KILL\", \"CAP_NOPE\"] } } }",
                           "process.capabilities.effective[1]: unknown capability \"CAP_NOPE\"");
        assert_parse_error(MINIMAL_HEAD "\"process\": { \"cwd\": \"/\", \"args\": [\"sh\"], \"rlimits\": "
                                        "[ { \"type\": \"RLIMIT_NOPE\", \"soft\": 1, \"hard\": 1 } ] } }",
                           "process.rlimits[0]");
        assert_parse_error(MINIMAL_HEAD "\"process\": { \"cwd\": \"/\", \"args\": [\"sh\"], \"rlimits\": "
                                        "[ { \"type\": \"RLIMIT_NOFILE\", \"soft\": 5, \"hard\": 1 } ] } }",
                           "soft limit above hard limit");
        assert_parse_error(MINIMAL_HEAD "\"process\": { \"cwd\": \"/\", \"args\": [\"sh\"], \"user\": "
                                        "{ \"uid\": \"root\" } } }",
                           "process.user.uid");
        assert_parse_error(MINIMAL_HEAD MINIMAL_PROCESS ", \"mounts\": [ { \"destination\": \"/x\", "
                                                        "\"options\": [\"bind\"] } ] }",
                           "mounts[0].source");
        assert_parse_error(MINIMAL_HEAD MINIMAL_PROCESS
                           ", \"linux\": { \"devices\": [ { \"path\": \"/dev/x\", "
                           "\"type\": \"z\" } ] } }",
                           "linux.devices[0]");
        assert_parse_error(MINIMAL_HEAD "\"hostname\": \"h\", " MINIMAL_PROCESS
                                        ", \"linux\": { \"namespaces\": [ { \"type\": \"mount\" } ] } }",
                           "hostname");
}

static void test_unknown_fields_ignored(void **state)
{
        _cleanup_runtime_spec_ RuntimeSpec *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(runtime_spec_parse_string(MINIMAL_HEAD MINIMAL_PROCESS
                                                   ", \"future\": [1, 2],"
                                                   "\"linux\": { \"intelRdt\": {}, \"x\": 1 } }",
                                                   &s, &e),
                         0);
        assert_non_null(s->process);
}

static void test_default_spec(void **state)
{
        for (int rootless = 0; rootless <= 1; rootless++) {
                _cleanup_free_ char *text = runtime_spec_default_json(rootless);
                assert_non_null(text);
                _cleanup_runtime_spec_ RuntimeSpec *s = NULL;
                _cleanup_error_ Error e = ERROR_INIT;
                assert_int_equal(runtime_spec_parse_string(text, &s, &e), 0);
                assert_true(s->ns[NS_MOUNT] && s->ns[NS_PID]);
                assert_int_equal(s->ns[NS_USER], rootless);
                assert_int_equal(s->ns[NS_NETWORK], !rootless);
                assert_int_equal(s->process->caps[CAP_SET_INHERITABLE], 0);
                assert_true(s->process->no_new_privileges);
        }
}

static void test_ids(void **state)
{
        assert_true(runtime_id_is_valid("web"));
        assert_true(runtime_id_is_valid("a-b_c+d.e"));
        assert_true(runtime_id_is_valid("0abc"));
        assert_false(runtime_id_is_valid(""));
        assert_false(runtime_id_is_valid(".hidden"));
        assert_false(runtime_id_is_valid(".."));
        assert_false(runtime_id_is_valid("a/b"));
        assert_false(runtime_id_is_valid("a b"));
        assert_false(runtime_id_is_valid(NULL));
        char long_id[1100];
        memset(long_id, 'a', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = '\0';
        assert_false(runtime_id_is_valid(long_id));
}

static void test_process(void **state)
{
        _cleanup_runtime_process_ RuntimeProcess *p = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(runtime_process_parse_string(
                                 "{ \"args\": [\"ls\"], \"cwd\": \"/\", \"env\": [\"A=1\", \"B=2\"],"
                                 " \"user\": { \"uid\": 0, \"gid\": 0 } }",
                                 &p, &e),
                         0);
        assert_int_equal(runtime_process_add_env(p, "A=3"), 0);
        assert_int_equal(runtime_process_add_env(p, "C=4"), 0);
        assert_int_equal(runtime_process_add_env(p, "=x"), -EINVAL);
        assert_int_equal(runtime_process_add_env(p, "novalue"), -EINVAL);
        assert_int_equal(strv_length(p->env), 3);
        assert_true(strv_contains(p->env, "A=3"));
        assert_false(strv_contains(p->env, "A=1"));
        assert_true(strv_contains(p->env, "C=4"));
        assert_int_equal(runtime_process_set_cwd(p, "/tmp"), 0);
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(runtime_process_set_cwd(p, "relative"), -EINVAL);
        assert_int_equal(runtime_process_set_user(p, "1000:1001"), 0);
        assert_int_equal(p->uid, 1000);
        assert_int_equal(p->gid, 1001);
        assert_true(runtime_process_set_user(p, "root") < 0);
        assert_false(p->no_new_privileges);
        runtime_process_set_no_new_privileges(p);
        assert_true(p->no_new_privileges);

        RuntimeProcess *bad = NULL;
        Error e2 = ERROR_INIT;
        assert_true(runtime_process_parse_string("{ \"cwd\": \"/\" }", &bad, &e2) < 0);
        assert_null(bad);
        assert_non_null(strstr(error_message(&e2), "args"));
        error_done(&e2);
}

static void test_state_json(void **state)
{
        char *ann[] = {(char *)"k", (char *)"v", NULL};
        _cleanup_free_ char *text = container_state_json("c1", RUNTIME_STATUS_RUNNING, 42, "/b", "/b/rootfs",
                                                         "2026-01-01T00:00:00Z", 0, ann, false);
        assert_non_null(text);
        json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        json_object *v;
        assert_true(json_object_object_get_ex(o, "id", &v));
        assert_string_equal(json_object_get_string(v), "c1");
        assert_true(json_object_object_get_ex(o, "status", &v));
        assert_string_equal(json_object_get_string(v), "running");
        assert_true(json_object_object_get_ex(o, "pid", &v));
        assert_int_equal(json_object_get_int(v), 42);
        assert_true(json_object_object_get_ex(o, "bundle", &v));
        assert_string_equal(json_object_get_string(v), "/b");
        assert_true(json_object_object_get_ex(o, "annotations", &v));
        assert_true(json_object_object_get_ex(v, "k", &v));
        assert_string_equal(json_object_get_string(v), "v");
        json_object_put(o);
        for (int st = 0; st < _RUNTIME_STATUS_MAX; st++)
                assert_non_null(runtime_status_to_string(st));
        assert_string_equal(runtime_status_to_string(RUNTIME_STATUS_STOPPED), "stopped");
}

static void test_features(void **state)
{
        _cleanup_free_ char *text = runtime_features_json();
        assert_non_null(text);
        json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        json_object *v;
        assert_true(json_object_object_get_ex(o, "ociVersionMax", &v));
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_spec),
                cmocka_unit_test(test_errors_name_the_json_path),
                cmocka_unit_test(test_unknown_fields_ignored),
                cmocka_unit_test(test_default_spec),
                cmocka_unit_test(test_ids),
                cmocka_unit_test(test_process),
                cmocka_unit_test(test_state_json),
                cmocka_unit_test(test_features),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
