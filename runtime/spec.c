/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json → RuntimeSpec. Unknown fields are ignored, as the spec requires; every error
 * names the JSON path of the offending value. */

#include <json-c/json.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "runtime/seccomp.h"
#include "runtime/spec.h"

#define SPEC_MAX_SIZE (16U * 1024U * 1024U)

static const char *const ns_names[_NS_MAX] = {
        [NS_PID] = "pid", [NS_NETWORK] = "network", [NS_MOUNT] = "mount",   [NS_IPC] = "ipc",
        [NS_UTS] = "uts", [NS_USER] = "user",       [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};
static const char *const ns_proc_names[_NS_MAX] = {
        [NS_PID] = "pid", [NS_NETWORK] = "net", [NS_MOUNT] = "mnt",     [NS_IPC] = "ipc",
        [NS_UTS] = "uts", [NS_USER] = "user",   [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};
static const int ns_flags[_NS_MAX] = {
        [NS_PID] = CLONE_NEWPID,       [NS_NETWORK] = CLONE_NEWNET, [NS_MOUNT] = CLONE_NEWNS,
        [NS_IPC] = CLONE_NEWIPC,       [NS_UTS] = CLONE_NEWUTS,     [NS_USER] = CLONE_NEWUSER,
        [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
};

const char *namespace_type_to_string(NamespaceType t)
{
        return t >= 0 && t < _NS_MAX ? ns_names[t] : NULL;
}
const char *namespace_type_proc_name(NamespaceType t)
{
        return t >= 0 && t < _NS_MAX ? ns_proc_names[t] : NULL;
}
int namespace_type_clone_flag(NamespaceType t)
{
        return t >= 0 && t < _NS_MAX ? ns_flags[t] : 0;
}

static const char *const hook_names[_HOOK_KIND_MAX] = {
        [HOOK_PRESTART] = "prestart",
        [HOOK_CREATE_RUNTIME] = "createRuntime",
        [HOOK_CREATE_CONTAINER] = "createContainer",
        [HOOK_START_CONTAINER] = "startContainer",
        [HOOK_POSTSTART] = "poststart",
        [HOOK_POSTSTOP] = "poststop",
};
const char *hook_kind_to_string(HookKind k)
{
        return k >= 0 && k < _HOOK_KIND_MAX ? hook_names[k] : NULL;
}

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (streq(rlimit_table[i].name, s))
                        return rlimit_table[i].resource;
        return -EINVAL;
}

/* ---------------------------------------------------------------- small typed getters */

/* JSON paths for messages; a very long one is cut, which only shortens the message. */
_printf_(3, 4) static void fmt_path(char *buf, size_t n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(buf, n, fmt, ap);
        va_end(ap);
}

static int want_type(json_object *o, json_type t, const char *path, Error *reterr)
{
        if (!json_object_is_type(o, t))
                return error_set_msg(reterr, -EINVAL, "%s: expected %s, got %s", path, json_type_to_name(t),
                                     o ? json_type_to_name(json_object_get_type(o)) : "null");
        return 0;
}

static int get_string(json_object *o, const char *path, char **ret, Error *reterr)
{
        int r = want_type(o, json_type_string, path, reterr);
        if (r < 0)
                return r;
        char *s = strdup(json_object_get_string(o));
        if (!s)
                return error_set(reterr, -ENOMEM, "%s", path);
        free(*ret);
        *ret = s;
        return 0;
}

static int get_bool(json_object *o, const char *path, bool *ret, Error *reterr)
{
        int r = want_type(o, json_type_boolean, path, reterr);
        if (r < 0)
                return r;
        *ret = json_object_get_boolean(o);
        return 0;
}

static int get_int64(json_object *o, const char *path, int64_t min, int64_t max, int64_t *ret, Error *reterr)
{
        int r = want_type(o, json_type_int, path, reterr);
        if (r < 0)
                return r;
        errno = 0;
        int64_t v = json_object_get_int64(o);
        if (errno != 0 || v < min || v > max)
                return error_set_msg(reterr, -ERANGE, "%s: value out of range", path);
        *ret = v;
        return 0;
}

static int get_uint64(json_object *o, const char *path, uint64_t *ret, Error *reterr)
{
        int r = want_type(o, json_type_int, path, reterr);
        if (r < 0)
                return r;
        /* json-c keeps large unsigned values; negative ones are an error. */
        if (json_object_get_int64(o) < 0 && json_object_get_uint64(o) == 0)
                return error_set_msg(reterr, -ERANGE, "%s: must not be negative", path);
        *ret = json_object_get_uint64(o);
        return 0;
}

static int get_uint32(json_object *o, const char *path, uint32_t *ret, Error *reterr)
{
        int64_t v;
        int r = get_int64(o, path, 0, UINT32_MAX, &v, reterr);
        if (r < 0)
                return r;
        *ret = (uint32_t)v;
        return 0;
}

static int get_strv(json_object *o, const char *path, char ***ret, Error *reterr)
{
        int r = want_type(o, json_type_array, path, reterr);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **l = NULL;
        size_t n = json_object_array_length(o);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(o, i);
                if (!json_object_is_type(e, json_type_string))
                        return error_set_msg(reterr, -EINVAL, "%s[%zu]: expected string", path, i);
                l[i] = strdup(json_object_get_string(e));
                if (!l[i])
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* A JSON object of string values → key, value, key, value strv. */
static int get_string_map(json_object *o, const char *path, char ***ret, Error *reterr)
{
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **l = NULL;
        json_object_object_foreach (o, k, v) {
                if (!json_object_is_type(v, json_type_string))
                        return error_set_msg(reterr, -EINVAL, "%s.%s: expected string", path, k);
                if (strv_extend(&l, k) < 0 || strv_extend(&l, json_object_get_string(v)) < 0)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

static json_object *field(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                return NULL;
        /* An explicit null is the same as absent. */
        return v;
}

/* ---------------------------------------------------------------- process */

static int parse_capabilities(json_object *o, const char *path, RuntimeProcess *p, Error *reterr)
{
        static const char *const names[_CAP_SET_MAX] = {
                [CAP_SET_EFFECTIVE] = "effective",     [CAP_SET_BOUNDING] = "bounding",
                [CAP_SET_INHERITABLE] = "inheritable", [CAP_SET_PERMITTED] = "permitted",
                [CAP_SET_AMBIENT] = "ambient",
        };
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        p->has_caps = true;
        for (int s = 0; s < _CAP_SET_MAX; s++) {
                json_object *a = field(o, names[s]);
                p->caps[s] = 0;
                if (!a)
                        continue;
                _cleanup_free_ char *sub = strprintf("%s.%s", path, names[s]);
                if (!sub)
                        return error_set(reterr, -ENOMEM, "%s", path);
                r = want_type(a, json_type_array, sub, reterr);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i);
                        if (!json_object_is_type(e, json_type_string))
                                return error_set_msg(reterr, -EINVAL, "%s[%zu]: expected string", sub, i);
                        const char *n = json_object_get_string(e);
                        int c = startswith(n, "CAP_") ? capability_from_name(n) : -EINVAL;
                        if (c < 0)
                                return error_set_msg(reterr, -EINVAL, "%s[%zu]: unknown capability \"%s\"",
                                                     sub, i, n);
                        /* Capabilities this kernel does not know are skipped like runc does. */
                        if (c < 64)
                                p->caps[s] |= UINT64_C(1) << c;
                }
        }
        return 0;
}

static int parse_rlimits(json_object *o, const char *path, RuntimeProcess *p, Error *reterr)
{
        int r = want_type(o, json_type_array, path, reterr);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(o);
        p->rlimits = calloc(n ?: 1, sizeof(SpecRlimit));
        if (!p->rlimits)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(o, i);
                char sub[256];
                fmt_path(sub, sizeof sub, "%s[%zu]", path, i);
                r = want_type(e, json_type_object, sub, reterr);
                if (r < 0)
                        return r;
                SpecRlimit *l = &p->rlimits[p->n_rlimits];
                _cleanup_free_ char *type = NULL;
                char sub2[300];
                fmt_path(sub2, sizeof sub2, "%s.type", sub);
                r = get_string(field(e, "type"), sub2, &type, reterr);
                if (r < 0)
                        return r;
                l->resource = rlimit_from_string(type);
                if (l->resource < 0)
                        return error_set_msg(reterr, -EINVAL, "%s: unknown rlimit \"%s\"", sub2, type);
                for (size_t j = 0; j < p->n_rlimits; j++)
                        if (p->rlimits[j].resource == l->resource)
                                return error_set_msg(reterr, -EINVAL, "%s: duplicate rlimit \"%s\"", sub2,
                                                     type);
                fmt_path(sub2, sizeof sub2, "%s.soft", sub);
                r = get_uint64(field(e, "soft"), sub2, &l->soft, reterr);
                if (r < 0)
                        return r;
                fmt_path(sub2, sizeof sub2, "%s.hard", sub);
                r = get_uint64(field(e, "hard"), sub2, &l->hard, reterr);
                if (r < 0)
                        return r;
                if (l->soft > l->hard)
                        return error_set_msg(reterr, -EINVAL, "%s: soft limit above hard limit", sub);
                p->n_rlimits++;
        }
        return 0;
}

static int parse_scheduler(json_object *o, const char *path, RuntimeProcess *p, Error *reterr)
{
        static const struct {
                const char *name;
                int policy;
        } policies[] = {
                {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
                {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
        };
        static const struct {
                const char *name;
                uint64_t flag;
        } flags[] = {
                {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
                {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
                {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
                {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
        };
        char sub[256];
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ char *pol = NULL;
        fmt_path(sub, sizeof sub, "%s.policy", path);
        r = get_string(field(o, "policy"), sub, &pol, reterr);
        if (r < 0)
                return r;
        p->sched_policy = -1;
        for (size_t i = 0; i < ELEMENTSOF(policies); i++)
                if (streq(policies[i].name, pol))
                        p->sched_policy = policies[i].policy;
        if (p->sched_policy < 0)
                return error_set_msg(reterr, -EINVAL, "%s: unknown scheduler policy \"%s\"", sub, pol);
        int64_t v;
        json_object *f;
        if ((f = field(o, "nice"))) {
                fmt_path(sub, sizeof sub, "%s.nice", path);
                r = get_int64(f, sub, -20, 19, &v, reterr);
                if (r < 0)
                        return r;
                p->sched_nice = (int)v;
        }
        if ((f = field(o, "priority"))) {
                fmt_path(sub, sizeof sub, "%s.priority", path);
                r = get_int64(f, sub, 0, 99, &v, reterr);
                if (r < 0)
                        return r;
                p->sched_priority = (int)v;
        }
        if ((f = field(o, "flags"))) {
                _cleanup_strv_free_ char **l = NULL;
                fmt_path(sub, sizeof sub, "%s.flags", path);
                r = get_strv(f, sub, &l, reterr);
                if (r < 0)
                        return r;
                size_t idx = 0;
                STRV_FOREACH (s, l) {
                        bool found = false;
                        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                                if (streq(flags[i].name, *s)) {
                                        p->sched_flags |= flags[i].flag;
                                        found = true;
                                }
                        if (!found)
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s[%zu]: unknown scheduler flag \"%s\"", sub, idx, *s);
                        idx++;
                }
        }
        struct {
                const char *key;
                uint64_t *dst;
        } u[] = {{"runtime", &p->sched_runtime},
                 {"deadline", &p->sched_deadline},
                 {"period", &p->sched_period}};
        for (size_t i = 0; i < ELEMENTSOF(u); i++)
                if ((f = field(o, u[i].key))) {
                        fmt_path(sub, sizeof sub, "%s.%s", path, u[i].key);
                        r = get_uint64(f, sub, u[i].dst, reterr);
                        if (r < 0)
                                return r;
                }
        p->has_scheduler = true;
        return 0;
}

static int parse_io_priority(json_object *o, const char *path, RuntimeProcess *p, Error *reterr)
{
        char sub[256];
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ char *cls = NULL;
        fmt_path(sub, sizeof sub, "%s.class", path);
        r = get_string(field(o, "class"), sub, &cls, reterr);
        if (r < 0)
                return r;
        if (streq(cls, "IOPRIO_CLASS_RT"))
                p->io_priority_class = 1;
        else if (streq(cls, "IOPRIO_CLASS_BE"))
                p->io_priority_class = 2;
        else if (streq(cls, "IOPRIO_CLASS_IDLE"))
                p->io_priority_class = 3;
        else
                return error_set_msg(reterr, -EINVAL, "%s: unknown I/O priority class \"%s\"", sub, cls);
        json_object *f = field(o, "priority");
        if (f) {
                int64_t v;
                fmt_path(sub, sizeof sub, "%s.priority", path);
                r = get_int64(f, sub, 0, 7, &v, reterr);
                if (r < 0)
                        return r;
                p->io_priority = (int)v;
        }
        p->has_io_priority = true;
        return 0;
}

RuntimeProcess *runtime_process_free(RuntimeProcess *p)
{
        if (!p)
                return NULL;
        free(p->additional_gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->rlimits);
        free(p);
        return NULL;
}

RuntimeProcess *runtime_process_copy(const RuntimeProcess *p)
{
        _cleanup_runtime_process_ RuntimeProcess *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        *c = *p;
        c->additional_gids = NULL;
        c->args = c->env = NULL;
        c->cwd = c->apparmor_profile = c->selinux_label = NULL;
        c->rlimits = NULL;
        if (p->n_additional_gids) {
                c->additional_gids = malloc(p->n_additional_gids * sizeof(gid_t));
                if (!c->additional_gids)
                        return NULL;
                memcpy(c->additional_gids, p->additional_gids, p->n_additional_gids * sizeof(gid_t));
        }
        if (p->n_rlimits) {
                c->rlimits = malloc(p->n_rlimits * sizeof(SpecRlimit));
                if (!c->rlimits)
                        return NULL;
                memcpy(c->rlimits, p->rlimits, p->n_rlimits * sizeof(SpecRlimit));
        }
        if ((p->args && !(c->args = strv_copy(p->args))) || (p->env && !(c->env = strv_copy(p->env))) ||
            (p->cwd && !(c->cwd = strdup(p->cwd))) ||
            (p->apparmor_profile && !(c->apparmor_profile = strdup(p->apparmor_profile))) ||
            (p->selinux_label && !(c->selinux_label = strdup(p->selinux_label))))
                return NULL;
        return TAKE_PTR(c);
}

int runtime_process_fill_from_container(RuntimeProcess *p, const RuntimeProcess *container)
{
        if (!container)
                return 0;
        if (!p->has_caps) {
                p->has_caps = container->has_caps;
                memcpy(p->caps, container->caps, sizeof p->caps);
        }
        if (!p->has_no_new_privileges) {
                p->has_no_new_privileges = container->has_no_new_privileges;
                p->no_new_privileges = container->no_new_privileges;
        }
        if (!p->apparmor_profile && container->apparmor_profile &&
            !(p->apparmor_profile = strdup(container->apparmor_profile)))
                return -ENOMEM;
        if (!p->selinux_label && container->selinux_label &&
            !(p->selinux_label = strdup(container->selinux_label)))
                return -ENOMEM;
        if (p->n_rlimits == 0 && container->n_rlimits > 0) {
                SpecRlimit *l = malloc(container->n_rlimits * sizeof(SpecRlimit));
                if (!l)
                        return -ENOMEM;
                memcpy(l, container->rlimits, container->n_rlimits * sizeof(SpecRlimit));
                free(p->rlimits);
                p->rlimits = l;
                p->n_rlimits = container->n_rlimits;
        }
        if (!p->has_scheduler && container->has_scheduler) {
                p->has_scheduler = true;
                p->sched_policy = container->sched_policy;
                p->sched_nice = container->sched_nice;
                p->sched_priority = container->sched_priority;
                p->sched_flags = container->sched_flags;
                p->sched_runtime = container->sched_runtime;
                p->sched_deadline = container->sched_deadline;
                p->sched_period = container->sched_period;
        }
        if (!p->has_io_priority && container->has_io_priority) {
                p->has_io_priority = true;
                p->io_priority_class = container->io_priority_class;
                p->io_priority = container->io_priority;
        }
        return 0;
}

int spec_parse_process(json_object *o, const char *path, RuntimeProcess **ret, Error *reterr)
{
        char sub[256];
        json_object *f;
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        _cleanup_runtime_process_ RuntimeProcess *p = calloc(1, sizeof *p);
        if (!p)
                return error_set(reterr, -ENOMEM, "%s", path);

#define SUB(k) (fmt_path(sub, sizeof sub, "%s.%s", path, k), sub)
        if ((f = field(o, "terminal")) && (r = get_bool(f, SUB("terminal"), &p->terminal, reterr)) < 0)
                return r;
        if ((f = field(o, "consoleSize"))) {
                uint32_t v;
                json_object *g;
                if ((r = want_type(f, json_type_object, SUB("consoleSize"), reterr)) < 0)
                        return r;
                if ((g = field(f, "height"))) {
                        if ((r = get_uint32(g, SUB("consoleSize.height"), &v, reterr)) < 0)
                                return r;
                        p->console_height = v;
                }
                if ((g = field(f, "width"))) {
                        if ((r = get_uint32(g, SUB("consoleSize.width"), &v, reterr)) < 0)
                                return r;
                        p->console_width = v;
                }
        }
        if ((f = field(o, "user"))) {
                json_object *g;
                uint32_t v;
                if ((r = want_type(f, json_type_object, SUB("user"), reterr)) < 0)
                        return r;
                if ((g = field(f, "uid"))) {
                        if ((r = get_uint32(g, SUB("user.uid"), &v, reterr)) < 0)
                                return r;
                        p->uid = v;
                }
                if ((g = field(f, "gid"))) {
                        if ((r = get_uint32(g, SUB("user.gid"), &v, reterr)) < 0)
                                return r;
                        p->gid = v;
                }
                if ((g = field(f, "umask"))) {
                        if ((r = get_uint32(g, SUB("user.umask"), &v, reterr)) < 0)
                                return r;
                        if (v > 0777)
                                return error_set_msg(reterr, -ERANGE, "%s: umask out of range", sub);
                        p->umask = v;
                        p->has_umask = true;
                }
                if ((g = field(f, "additionalGids"))) {
                        if ((r = want_type(g, json_type_array, SUB("user.additionalGids"), reterr)) < 0)
                                return r;
                        size_t n = json_object_array_length(g);
                        if (n > 65536)
                                return error_set_msg(reterr, -E2BIG, "%s: too many groups", sub);
                        p->additional_gids = calloc(n ?: 1, sizeof(gid_t));
                        if (!p->additional_gids)
                                return error_set(reterr, -ENOMEM, "%s", path);
                        for (size_t i = 0; i < n; i++) {
                                char s2[300];
                                fmt_path(s2, sizeof s2, "%s.user.additionalGids[%zu]", path, i);
                                if ((r = get_uint32(json_object_array_get_idx(g, i), s2, &v, reterr)) < 0)
                                        return r;
                                p->additional_gids[i] = v;
                        }
                        p->n_additional_gids = n;
                }
        }
        if ((f = field(o, "args")) && (r = get_strv(f, SUB("args"), &p->args, reterr)) < 0)
                return r;
        if ((f = field(o, "commandLine")))
                return error_set_msg(reterr, -EOPNOTSUPP, "%s: only for Windows", SUB("commandLine"));
        if ((f = field(o, "env")) && (r = get_strv(f, SUB("env"), &p->env, reterr)) < 0)
                return r;
        STRV_FOREACH (e, p->env)
                if (!strchr(*e, '='))
                        return error_set_msg(reterr, -EINVAL, "%s: \"%s\" is not KEY=VALUE", SUB("env"), *e);
        f = field(o, "cwd");
        if (!f)
                return error_set_msg(reterr, -EINVAL, "%s: missing", SUB("cwd"));
        if ((r = get_string(f, SUB("cwd"), &p->cwd, reterr)) < 0)
                return r;
        if (!path_is_absolute(p->cwd))
                return error_set_msg(reterr, -EINVAL, "%s: \"%s\" is not an absolute path", sub, p->cwd);
        if ((f = field(o, "capabilities")) &&
            (r = parse_capabilities(f, SUB("capabilities"), p, reterr)) < 0)
                return r;
        if ((f = field(o, "rlimits")) && (r = parse_rlimits(f, SUB("rlimits"), p, reterr)) < 0)
                return r;
        if ((f = field(o, "noNewPrivileges"))) {
                if ((r = get_bool(f, SUB("noNewPrivileges"), &p->no_new_privileges, reterr)) < 0)
                        return r;
                p->has_no_new_privileges = true;
        }
        if ((f = field(o, "apparmorProfile")) &&
            (r = get_string(f, SUB("apparmorProfile"), &p->apparmor_profile, reterr)) < 0)
                return r;
        if ((f = field(o, "selinuxLabel")) &&
            (r = get_string(f, SUB("selinuxLabel"), &p->selinux_label, reterr)) < 0)
                return r;
        if ((f = field(o, "oomScoreAdj"))) {
                int64_t v;
                if ((r = get_int64(f, SUB("oomScoreAdj"), -1000, 1000, &v, reterr)) < 0)
                        return r;
                p->oom_score_adj = (int)v;
                p->has_oom_score_adj = true;
        }
        if ((f = field(o, "scheduler")) && (r = parse_scheduler(f, SUB("scheduler"), p, reterr)) < 0)
                return r;
        if ((f = field(o, "ioPriority")) && (r = parse_io_priority(f, SUB("ioPriority"), p, reterr)) < 0)
                return r;
#undef SUB
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---------------------------------------------------------------- mounts */

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mount_flag_table[] = {
        {"defaults", false, 0},
        {"ro", false, MS_RDONLY},
        {"rw", true, MS_RDONLY},
        {"suid", true, MS_NOSUID},
        {"nosuid", false, MS_NOSUID},
        {"dev", true, MS_NODEV},
        {"nodev", false, MS_NODEV},
        {"exec", true, MS_NOEXEC},
        {"noexec", false, MS_NOEXEC},
        {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS},
        {"dirsync", false, MS_DIRSYNC},
        {"remount", false, MS_REMOUNT},
        {"mand", false, MS_MANDLOCK},
        {"nomand", true, MS_MANDLOCK},
        {"atime", true, MS_NOATIME},
        {"noatime", false, MS_NOATIME},
        {"diratime", true, MS_NODIRATIME},
        {"nodiratime", false, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME},
        {"norelatime", true, MS_RELATIME},
        {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
        {"silent", false, MS_SILENT},
        {"loud", true, MS_SILENT},
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_table[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_propagation(const char *s, unsigned long *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(propagation_table); i++)
                if (streq(propagation_table[i].name, s)) {
                        *ret = propagation_table[i].flag;
                        return 0;
                }
        return -EINVAL;
}

static int parse_mount(json_object *o, const char *path, SpecMount *m, Error *reterr)
{
        char sub[256];
        json_object *f;
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
#define SUB(k) (fmt_path(sub, sizeof sub, "%s.%s", path, k), sub)
        f = field(o, "destination");
        if (!f)
                return error_set_msg(reterr, -EINVAL, "%s: missing", SUB("destination"));
        if ((r = get_string(f, SUB("destination"), &m->destination, reterr)) < 0)
                return r;
        if (!path_is_absolute(m->destination))
                return error_set_msg(reterr, -EINVAL, "%s: \"%s\" is not an absolute path", sub,
                                     m->destination);
        if ((f = field(o, "source")) && (r = get_string(f, SUB("source"), &m->source, reterr)) < 0)
                return r;
        if ((f = field(o, "type")) && (r = get_string(f, SUB("type"), &m->type, reterr)) < 0)
                return r;
        if ((f = field(o, "options")) && (r = get_strv(f, SUB("options"), &m->options, reterr)) < 0)
                return r;
        if (field(o, "uidMappings") || field(o, "gidMappings"))
                return error_set_msg(reterr, -EOPNOTSUPP, "%s: idmapped mounts are not supported", path);
#undef SUB
        STRV_FOREACH (opt, m->options) {
                bool done = false;
                if (streq(*opt, "bind")) {
                        m->bind = true;
                        continue;
                }
                if (streq(*opt, "rbind")) {
                        m->bind = m->rbind = true;
                        continue;
                }
                if (streq(*opt, "rro")) {
                        m->rro = true;
                        continue;
                }
                if (streq(*opt, "rrw") || streq(*opt, "tmpcopyup") || streq(*opt, "idmap") ||
                    streq(*opt, "ridmap") || startswith(*opt, "x-"))
                        continue;
                unsigned long prop;
                if (parse_propagation(*opt, &prop) >= 0) {
                        m->propagation = prop;
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(mount_flag_table); i++)
                        if (streq(mount_flag_table[i].name, *opt)) {
                                if (mount_flag_table[i].clear)
                                        m->flags &= ~mount_flag_table[i].flag;
                                else
                                        m->flags |= mount_flag_table[i].flag;
                                done = true;
                                break;
                        }
                if (done)
                        continue;
                if (strextend_with_separator(&m->data, ",", *opt) < 0)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        m->ro = m->flags & MS_RDONLY;
        if (!m->type && !m->bind)
                return error_set_msg(reterr, -EINVAL, "%s: neither a type nor a bind mount", path);
        if (m->type && (streq(m->type, "bind") || streq(m->type, "rbind")))
                m->bind = true;
        if (m->bind && isempty(m->source))
                return error_set_msg(reterr, -EINVAL, "%s.source: missing for a bind mount", path);
        return 0;
}

/* ---------------------------------------------------------------- linux */

static int parse_id_mappings(json_object *o, const char *path, IdMap **ret, size_t *ret_n, Error *reterr)
{
        int r = want_type(o, json_type_array, path, reterr);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(o);
        if (n > 340)
                return error_set_msg(reterr, -E2BIG, "%s: too many mappings", path);
        _cleanup_free_ IdMap *m = calloc(n ?: 1, sizeof(IdMap));
        if (!m)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(o, i);
                char sub[256];
                fmt_path(sub, sizeof sub, "%s[%zu]", path, i);
                if ((r = want_type(e, json_type_object, sub, reterr)) < 0)
                        return r;
                const char *keys[3] = {"containerID", "hostID", "size"};
                uint32_t *dst[3] = {&m[i].container_id, &m[i].host_id, &m[i].size};
                for (int k = 0; k < 3; k++) {
                        char s2[300];
                        fmt_path(s2, sizeof s2, "%s.%s", sub, keys[k]);
                        if ((r = get_uint32(field(e, keys[k]), s2, dst[k], reterr)) < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(m);
        *ret_n = n;
        return 0;
}

static int parse_devices(json_object *o, const char *path, RuntimeSpec *s, Error *reterr)
{
        int r = want_type(o, json_type_array, path, reterr);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(o);
        s->devices = calloc(n ?: 1, sizeof(SpecDevice));
        if (!s->devices)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(o, i), *f;
                SpecDevice *d = &s->devices[i];
                char sub[256], s2[300];
                fmt_path(sub, sizeof sub, "%s[%zu]", path, i);
                s->n_devices++;
                if ((r = want_type(e, json_type_object, sub, reterr)) < 0)
                        return r;
                fmt_path(s2, sizeof s2, "%s.path", sub);
                if ((r = get_string(field(e, "path"), s2, &d->path, reterr)) < 0)
                        return r;
                if (!path_is_absolute(d->path) || !path_is_safe(d->path))
                        return error_set_msg(reterr, -EINVAL, "%s: \"%s\" is not a safe absolute path", s2,
                                             d->path);
                _cleanup_free_ char *type = NULL;
                fmt_path(s2, sizeof s2, "%s.type", sub);
                if ((r = get_string(field(e, "type"), s2, &type, reterr)) < 0)
                        return r;
                if (strlen(type) != 1 || !strchr("cbup", type[0]))
                        return error_set_msg(reterr, -EINVAL, "%s: unknown device type \"%s\"", s2, type);
                d->type = type[0];
                int64_t v;
                if (d->type != 'p') {
                        fmt_path(s2, sizeof s2, "%s.major", sub);
                        if ((r = get_int64(field(e, "major"), s2, 0, UINT32_MAX, &v, reterr)) < 0)
                                return r;
                        d->major = v;
                        fmt_path(s2, sizeof s2, "%s.minor", sub);
                        if ((r = get_int64(field(e, "minor"), s2, 0, UINT32_MAX, &v, reterr)) < 0)
                                return r;
                        d->minor = v;
                }
                d->mode = 0666;
                if ((f = field(e, "fileMode"))) {
                        fmt_path(s2, sizeof s2, "%s.fileMode", sub);
                        if ((r = get_int64(f, s2, 0, 07777, &v, reterr)) < 0)
                                return r;
                        d->mode = v;
                }
                uint32_t u;
                if ((f = field(e, "uid"))) {
                        fmt_path(s2, sizeof s2, "%s.uid", sub);
                        if ((r = get_uint32(f, s2, &u, reterr)) < 0)
                                return r;
                        d->uid = u;
                        d->has_uid = true;
                }
                if ((f = field(e, "gid"))) {
                        fmt_path(s2, sizeof s2, "%s.gid", sub);
                        if ((r = get_uint32(f, s2, &u, reterr)) < 0)
                                return r;
                        d->gid = u;
                        d->has_gid = true;
                }
        }
        return 0;
}

static int parse_personality(json_object *o, const char *path, RuntimeSpec *s, Error *reterr)
{
        char sub[256];
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ char *domain = NULL;
        fmt_path(sub, sizeof sub, "%s.domain", path);
        if ((r = get_string(field(o, "domain"), sub, &domain, reterr)) < 0)
                return r;
        if (streq(domain, "LINUX"))
                s->personality = PER_LINUX;
        else if (streq(domain, "LINUX32"))
                s->personality = PER_LINUX32;
        else
                return error_set_msg(reterr, -EINVAL, "%s: unknown personality domain \"%s\"", sub, domain);
        json_object *f = field(o, "flags");
        if (f) {
                _cleanup_strv_free_ char **l = NULL;
                fmt_path(sub, sizeof sub, "%s.flags", path);
                if ((r = get_strv(f, sub, &l, reterr)) < 0)
                        return r;
                if (!strv_isempty(l))
                        return error_set_msg(reterr, -EOPNOTSUPP, "%s: personality flags are not supported",
                                             sub);
        }
        s->has_personality = true;
        return 0;
}

static int parse_time_offsets(json_object *o, const char *path, RuntimeSpec *s, Error *reterr)
{
        int r = want_type(o, json_type_object, path, reterr);
        if (r < 0)
                return r;
        const char *keys[2] = {"boottime", "monotonic"};
        int64_t *secs[2] = {&s->boottime_secs, &s->monotonic_secs};
        uint32_t *nsecs[2] = {&s->boottime_nsecs, &s->monotonic_nsecs};
        for (int i = 0; i < 2; i++) {
                json_object *f = field(o, keys[i]), *g;
                char sub[256], s2[300];
                if (!f)
                        continue;
                fmt_path(sub, sizeof sub, "%s.%s", path, keys[i]);
                if ((r = want_type(f, json_type_object, sub, reterr)) < 0)
                        return r;
                if ((g = field(f, "secs"))) {
                        fmt_path(s2, sizeof s2, "%s.secs", sub);
                        if ((r = get_int64(g, s2, INT64_MIN, INT64_MAX, secs[i], reterr)) < 0)
                                return r;
                }
                if ((g = field(f, "nanosecs"))) {
                        fmt_path(s2, sizeof s2, "%s.nanosecs", sub);
                        if ((r = get_uint32(g, s2, nsecs[i], reterr)) < 0)
                                return r;
                        if (*nsecs[i] >= NSEC_PER_SEC)
                                return error_set_msg(reterr, -ERANGE, "%s: out of range", s2);
                }
        }
        s->has_time_offsets = true;
        return 0;
}

static int parse_linux(json_object *o, RuntimeSpec *s, Error *reterr)
{
        json_object *f;
        int r = want_type(o, json_type_object, "linux", reterr);
        if (r < 0)
                return r;
        s->has_linux = true;

        if ((f = field(o, "namespaces"))) {
                if ((r = want_type(f, json_type_array, "linux.namespaces", reterr)) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(f); i++) {
                        json_object *e = json_object_array_get_idx(f, i), *g;
                        char sub[256];
                        fmt_path(sub, sizeof sub, "linux.namespaces[%zu]", i);
                        if ((r = want_type(e, json_type_object, sub, reterr)) < 0)
                                return r;
                        _cleanup_free_ char *type = NULL;
                        strcat(sub, ".type");
                        if ((r = get_string(field(e, "type"), sub, &type, reterr)) < 0)
                                return r;
                        NamespaceType t = _NS_MAX;
                        for (int k = 0; k < _NS_MAX; k++)
                                if (streq(ns_names[k], type))
                                        t = k;
                        if (t == _NS_MAX)
                                return error_set_msg(reterr, -EINVAL, "%s: unknown namespace \"%s\"", sub,
                                                     type);
                        if (s->ns[t])
                                return error_set_msg(reterr, -EINVAL, "%s: duplicate namespace \"%s\"", sub,
                                                     type);
                        s->ns[t] = true;
                        if ((g = field(e, "path"))) {
                                fmt_path(sub, sizeof sub, "linux.namespaces[%zu].path", i);
                                if ((r = get_string(g, sub, &s->ns_path[t], reterr)) < 0)
                                        return r;
                                if (!path_is_absolute(s->ns_path[t]))
                                        return error_set_msg(reterr, -EINVAL,
                                                             "%s: \"%s\" is not an absolute path", sub,
                                                             s->ns_path[t]);
                        }
                }
        }
        if ((f = field(o, "uidMappings")) && (r = parse_id_mappings(f, "linux.uidMappings", &s->uid_mappings,
                                                                    &s->n_uid_mappings, reterr)) < 0)
                return r;
        if ((f = field(o, "gidMappings")) && (r = parse_id_mappings(f, "linux.gidMappings", &s->gid_mappings,
                                                                    &s->n_gid_mappings, reterr)) < 0)
                return r;
        if ((s->n_uid_mappings || s->n_gid_mappings) && !s->ns[NS_USER])
                return error_set_msg(reterr, -EINVAL,
                                     "linux.uidMappings: mappings given without a user namespace");
        if (s->ns[NS_USER] && !s->ns_path[NS_USER] && (!s->n_uid_mappings || !s->n_gid_mappings))
                return error_set_msg(reterr, -EINVAL,
                                     "linux.uidMappings: a new user namespace needs uid and gid mappings");
        if ((f = field(o, "timeOffsets")) && (r = parse_time_offsets(f, "linux.timeOffsets", s, reterr)) < 0)
                return r;
        if (s->has_time_offsets && (!s->ns[NS_TIME] || s->ns_path[NS_TIME]))
                return error_set_msg(reterr, -EINVAL, "linux.timeOffsets: needs a new time namespace");
        if ((f = field(o, "devices")) && (r = parse_devices(f, "linux.devices", s, reterr)) < 0)
                return r;
        if ((f = field(o, "cgroupsPath")) &&
            (r = get_string(f, "linux.cgroupsPath", &s->cgroups_path, reterr)) < 0)
                return r;
        if ((f = field(o, "resources"))) {
                if ((r = want_type(f, json_type_object, "linux.resources", reterr)) < 0)
                        return r;
                s->resources = json_object_get(f);
        }
        if ((f = field(o, "seccomp"))) {
                if ((r = want_type(f, json_type_object, "linux.seccomp", reterr)) < 0)
                        return r;
                s->seccomp = f;
                s->has_seccomp = true;
                seccomp_json_digest(f, s->seccomp_digest);
        }
        if ((f = field(o, "sysctl")) && (r = get_string_map(f, "linux.sysctl", &s->sysctl, reterr)) < 0)
                return r;
        for (size_t i = 0; s->sysctl && s->sysctl[i]; i += 2) {
                const char *k = s->sysctl[i];
                if (isempty(k) || strstr(k, "..") || k[0] == '.' || k[0] == '/')
                        return error_set_msg(reterr, -EINVAL, "linux.sysctl.%s: invalid key", k);
        }
        if ((f = field(o, "rootfsPropagation"))) {
                _cleanup_free_ char *p = NULL;
                if ((r = get_string(f, "linux.rootfsPropagation", &p, reterr)) < 0)
                        return r;
                if (parse_propagation(p, &s->rootfs_propagation) < 0)
                        return error_set_msg(reterr, -EINVAL,
                                             "linux.rootfsPropagation: unknown propagation \"%s\"", p);
        }
        if ((f = field(o, "maskedPaths")) &&
            (r = get_strv(f, "linux.maskedPaths", &s->masked_paths, reterr)) < 0)
                return r;
        if ((f = field(o, "readonlyPaths")) &&
            (r = get_strv(f, "linux.readonlyPaths", &s->readonly_paths, reterr)) < 0)
                return r;
        if ((f = field(o, "mountLabel")) &&
            (r = get_string(f, "linux.mountLabel", &s->mount_label, reterr)) < 0)
                return r;
        if ((f = field(o, "personality")) && (r = parse_personality(f, "linux.personality", s, reterr)) < 0)
                return r;
        return 0;
}

static int parse_hooks(json_object *o, RuntimeSpec *s, Error *reterr)
{
        int r = want_type(o, json_type_object, "hooks", reterr);
        if (r < 0)
                return r;
        for (int k = 0; k < _HOOK_KIND_MAX; k++) {
                json_object *a = field(o, hook_names[k]);
                char sub[256];
                if (!a)
                        continue;
                fmt_path(sub, sizeof sub, "hooks.%s", hook_names[k]);
                if ((r = want_type(a, json_type_array, sub, reterr)) < 0)
                        return r;
                size_t n = json_object_array_length(a);
                s->hooks[k] = calloc(n ?: 1, sizeof(SpecHook));
                if (!s->hooks[k])
                        return error_set(reterr, -ENOMEM, "hooks");
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(a, i), *f;
                        SpecHook *h = &s->hooks[k][i];
                        char s1[300], s2[320];
                        fmt_path(s1, sizeof s1, "%s[%zu]", sub, i);
                        s->n_hooks[k]++;
                        if ((r = want_type(e, json_type_object, s1, reterr)) < 0)
                                return r;
                        fmt_path(s2, sizeof s2, "%s.path", s1);
                        if ((r = get_string(field(e, "path"), s2, &h->path, reterr)) < 0)
                                return r;
                        if (!path_is_absolute(h->path))
                                return error_set_msg(reterr, -EINVAL, "%s: \"%s\" is not an absolute path",
                                                     s2, h->path);
                        fmt_path(s2, sizeof s2, "%s.args", s1);
                        if ((f = field(e, "args")) && (r = get_strv(f, s2, &h->args, reterr)) < 0)
                                return r;
                        fmt_path(s2, sizeof s2, "%s.env", s1);
                        if ((f = field(e, "env")) && (r = get_strv(f, s2, &h->env, reterr)) < 0)
                                return r;
                        if ((f = field(e, "timeout"))) {
                                int64_t v;
                                fmt_path(s2, sizeof s2, "%s.timeout", s1);
                                if ((r = get_int64(f, s2, 1, INT32_MAX, &v, reterr)) < 0)
                                        return r;
                                h->timeout = (int)v;
                        }
                }
        }
        return 0;
}

RuntimeSpec *runtime_spec_free(RuntimeSpec *s)
{
        if (!s)
                return NULL;
        json_object_put(s->json);
        json_object_put(s->resources);
        free(s->json_text);
        free(s->oci_version);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        runtime_process_free(s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].source);
                free(s->mounts[i].type);
                strv_free(s->mounts[i].options);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        for (int k = 0; k < _HOOK_KIND_MAX; k++) {
                for (size_t i = 0; i < s->n_hooks[k]; i++) {
                        free(s->hooks[k][i].path);
                        strv_free(s->hooks[k][i].args);
                        strv_free(s->hooks[k][i].env);
                }
                free(s->hooks[k]);
        }
        strv_free(s->annotations);
        for (int t = 0; t < _NS_MAX; t++)
                free(s->ns_path[t]);
        free(s->uid_mappings);
        free(s->gid_mappings);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s->cgroups_path);
        strv_free(s->sysctl);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        free(s->mount_label);
        free(s);
        return NULL;
}

int runtime_spec_parse_json(json_object *root, RuntimeSpec **ret, Error *reterr)
{
        json_object *f;
        int r = want_type(root, json_type_object, "(document)", reterr);
        if (r < 0)
                return r;
        _cleanup_runtime_spec_ RuntimeSpec *s = calloc(1, sizeof *s);
        if (!s)
                return error_set(reterr, -ENOMEM, "parsing config");
        s->json = json_object_get(root);

        f = field(root, "ociVersion");
        if (!f)
                return error_set_msg(reterr, -EINVAL, "ociVersion: missing");
        if ((r = get_string(f, "ociVersion", &s->oci_version, reterr)) < 0)
                return r;
        if (!startswith(s->oci_version, "1."))
                return error_set_msg(reterr, -EINVAL, "ociVersion: unsupported version \"%s\"",
                                     s->oci_version);

        f = field(root, "root");
        if (!f)
                return error_set_msg(reterr, -EINVAL, "root: missing");
        if ((r = want_type(f, json_type_object, "root", reterr)) < 0)
                return r;
        if ((r = get_string(field(f, "path"), "root.path", &s->root_path, reterr)) < 0)
                return r;
        if (isempty(s->root_path))
                return error_set_msg(reterr, -EINVAL, "root.path: empty");
        json_object *g = field(f, "readonly");
        if (g && (r = get_bool(g, "root.readonly", &s->root_readonly, reterr)) < 0)
                return r;

        if ((f = field(root, "hostname"))) {
                if ((r = get_string(f, "hostname", &s->hostname, reterr)) < 0)
                        return r;
                s->has_hostname = true;
        }
        if ((f = field(root, "domainname"))) {
                if ((r = get_string(f, "domainname", &s->domainname, reterr)) < 0)
                        return r;
                s->has_domainname = true;
        }
        if ((f = field(root, "process")) && (r = spec_parse_process(f, "process", &s->process, reterr)) < 0)
                return r;
        if ((f = field(root, "mounts"))) {
                if ((r = want_type(f, json_type_array, "mounts", reterr)) < 0)
                        return r;
                size_t n = json_object_array_length(f);
                s->mounts = calloc(n ?: 1, sizeof(SpecMount));
                if (!s->mounts)
                        return error_set(reterr, -ENOMEM, "mounts");
                for (size_t i = 0; i < n; i++) {
                        char sub[64];
                        fmt_path(sub, sizeof sub, "mounts[%zu]", i);
                        s->n_mounts++;
                        if ((r = parse_mount(json_object_array_get_idx(f, i), sub, &s->mounts[i], reterr)) <
                            0)
                                return r;
                }
        }
        if ((f = field(root, "hooks")) && (r = parse_hooks(f, s, reterr)) < 0)
                return r;
        if ((f = field(root, "annotations")) &&
            (r = get_string_map(f, "annotations", &s->annotations, reterr)) < 0)
                return r;
        if ((f = field(root, "linux")) && (r = parse_linux(f, s, reterr)) < 0)
                return r;

        if ((s->has_hostname || s->has_domainname) && !s->ns[NS_UTS])
                return error_set_msg(reterr, -EINVAL, "hostname: setting it needs a new uts namespace");
        if (s->process && s->process->terminal && !s->process->args)
                return error_set_msg(reterr, -EINVAL, "process.args: missing");

        *ret = TAKE_PTR(s);
        return 0;
}

/* Parses json; with cut_size > 0 as if the value at [cut_off, cut_off + cut_size) were null
 * (the text stays as it is: json-c gets the parts around it one after the other). Error offsets
 * are those of the text. */
static int parse_text_cut(const char *json, size_t len, size_t cut_off, size_t cut_size, json_object **ret,
                          Error *reterr)
{
        json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
        if (!tok)
                return error_set(reterr, -ENOMEM, "parsing JSON");
        struct {
                const char *p;
                size_t n, base;
        } parts[3] = {{json, len, 0}};
        size_t n_parts = 1, off = 0;
        if (cut_size > 0) {
                parts[0].n = cut_off;
                parts[1] = (typeof(parts[1])){"null", 4, cut_off};
                parts[2] = (typeof(parts[2])){json + cut_off + cut_size, len - cut_off - cut_size,
                                              cut_off + cut_size};
                n_parts = 3;
        }
        json_object *o = NULL;
        enum json_tokener_error e = json_tokener_continue;
        for (size_t i = 0; i < n_parts && e == json_tokener_continue; i++) {
                o = json_tokener_parse_ex(tok, parts[i].p, (int)parts[i].n);
                e = json_tokener_get_error(tok);
                /* within "null" only the end can be reached: report the end of the cut value */
                off = i == 1 ? cut_off + cut_size : parts[i].base + json_tokener_get_parse_end(tok);
                if (o && i + 1 < n_parts) /* complete before the end of the cut: not the layout scanned */
                        e = json_tokener_error_parse_unexpected;
        }
        json_tokener_free(tok);
        if (e != json_tokener_success || !o) {
                json_object_put(o);
                return error_set_msg(reterr, -EINVAL, "invalid JSON at byte %zu: %s", off,
                                     e == json_tokener_continue ? "unexpected end of input"
                                                                : json_tokener_error_desc(e));
        }
        /* Reject trailing garbage. */
        for (size_t i = off; i < len; i++)
                if (!strchr(" \t\r\n", json[i])) {
                        json_object_put(o);
                        return error_set_msg(reterr, -EINVAL, "invalid JSON: trailing data at byte %zu", i);
                }
        *ret = o;
        return 0;
}

static int parse_text(const char *json, size_t len, json_object **ret, Error *reterr)
{
        return parse_text_cut(json, len, 0, 0, ret, reterr);
}

/* Parses text (of size bytes) and keeps it (taking it) for the container's state: create stores
 * the config as given instead of serializing the tree again. */
static int spec_parse_text(char **text, size_t size, RuntimeSpec **ret, Error *reterr)
{
        json_object *o = NULL;
        RuntimeSpec *s = NULL;
        size_t sc_off = 0, sc_size = 0;
        bool cut = spec_find_seccomp_text(*text, size, &sc_off, &sc_size);
        int r = parse_text_cut(*text, size, sc_off, cut ? sc_size : 0, &o, reterr);
        if (r < 0)
                return r;
        r = runtime_spec_parse_json(o, &s, reterr);
        json_object_put(o);
        if (r < 0)
                return r;
        if (cut) {
                /* linux.seccomp as text, its digest from the text */
                s->has_seccomp = true;
                s->seccomp_text_off = sc_off;
                s->seccomp_text_size = sc_size;
                seccomp_text_digest(*text + sc_off, sc_size, s->seccomp_digest);
        }
        /* What is needed of the tree later is in the spec (resources with a reference of its
         * own, the seccomp digest); the rest goes now, before any fork. */
        s->seccomp = NULL;
        json_object_put(s->json);
        s->json = NULL;
        s->json_text = TAKE_PTR(*text);
        s->json_text_size = size;
        *ret = s;
        return 0;
}

int runtime_spec_parse_string(const char *json, RuntimeSpec **ret, Error *reterr)
{
        _cleanup_free_ char *text = strdup(json);
        if (!text)
                return error_set(reterr, -ENOMEM, "parsing config");
        return spec_parse_text(&text, strlen(json), ret, reterr);
}

int spec_seccomp_json(const RuntimeSpec *spec, json_object **ret, Error *reterr)
{
        json_object *o = NULL, *l, *sc;
        int r;

        if (spec->seccomp) {
                *ret = json_object_get(spec->seccomp);
                return 0;
        }
        if (!spec->has_seccomp || !spec->json_text)
                return error_set_msg(reterr, -ENOENT, "linux.seccomp: missing");
        if (spec->seccomp_text_size > 0) {
                /* valid JSON (see spec_find_seccomp_text()); errors name bytes of the whole text */
                r = parse_text_cut(spec->json_text + spec->seccomp_text_off, spec->seccomp_text_size, 0, 0,
                                   &o, reterr);
                if (r < 0)
                        return r;
                *ret = o;
                return 0;
        }
        r = parse_text(spec->json_text, spec->json_text_size, &o, reterr);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "linux", &l) || !json_object_object_get_ex(l, "seccomp", &sc) ||
            !json_object_is_type(sc, json_type_object)) {
                json_object_put(o);
                return error_set_msg(reterr, -ENOENT, "linux.seccomp: missing");
        }
        *ret = json_object_get(sc);
        json_object_put(o);
        return 0;
}

int spec_load_at(int dirfd, const char *path, RuntimeSpec **ret, Error *reterr)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r = read_full_file_at(dirfd, path, SPEC_MAX_SIZE, &buf, &size);
        if (r < 0)
                return error_set(reterr, r, "reading %s", path);
        r = spec_parse_text(&buf, size, ret, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "%s", path);
        return 0;
}

int runtime_spec_load(const char *bundle, RuntimeSpec **ret, Error *reterr)
{
        _cleanup_free_ char *p = path_join(bundle, "config.json");
        if (!p)
                return error_set(reterr, -ENOMEM, "loading spec");
        return spec_load_at(AT_FDCWD, p, ret, reterr);
}

int runtime_process_parse_string(const char *json, RuntimeProcess **ret, Error *reterr)
{
        json_object *o = NULL;
        int r = parse_text(json, strlen(json), &o, reterr);
        if (r < 0)
                return r;
        r = spec_parse_process(o, "process", ret, reterr);
        json_object_put(o);
        if (r >= 0 && !(*ret)->args) {
                *ret = runtime_process_free(*ret);
                return error_set_msg(reterr, -EINVAL, "process.args: missing");
        }
        return r;
}

int runtime_process_load(const char *path, RuntimeProcess **ret, Error *reterr)
{
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file_at(AT_FDCWD, path, SPEC_MAX_SIZE, &buf, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading %s", path);
        r = runtime_process_parse_string(buf, ret, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "%s", path);
        return 0;
}

int runtime_process_set_terminal(RuntimeProcess *p, bool terminal)
{
        p->terminal = terminal;
        return 0;
}

void runtime_process_set_no_new_privileges(RuntimeProcess *p)
{
        p->no_new_privileges = true;
        p->has_no_new_privileges = true;
}

int runtime_process_add_env(RuntimeProcess *p, const char *assignment)
{
        const char *eq = strchr(assignment, '=');
        if (!eq || eq == assignment)
                return -EINVAL;
        size_t klen = eq - assignment + 1;
        STRV_FOREACH (e, p->env)
                if (strneq(*e, assignment, klen)) {
                        char *c = strdup(assignment);
                        if (!c)
                                return -ENOMEM;
                        free(*e);
                        *e = c;
                        return 0;
                }
        return strv_extend(&p->env, assignment);
}

int runtime_process_set_cwd(RuntimeProcess *p, const char *cwd)
{
        if (!path_is_absolute(cwd))
                return -EINVAL;
        return free_and_strdup(&p->cwd, cwd);
}

int runtime_process_set_user(RuntimeProcess *p, const char *user)
{
        _cleanup_free_ char *u = strdup(user);
        if (!u)
                return -ENOMEM;
        char *colon = strchr(u, ':');
        if (colon)
                *colon++ = '\0';
        uint32_t uid, gid;
        int r = safe_atou32(u, &uid);
        if (r < 0)
                return r;
        if (colon) {
                r = safe_atou32(colon, &gid);
                if (r < 0)
                        return r;
                p->gid = gid;
        }
        p->uid = uid;
        return 0;
}

bool runtime_id_is_valid(const char *id)
{
        if (isempty(id) || strlen(id) > 1024)
                return false;
        for (const char *c = id; *c; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                          *c == '_' || *c == '+' || *c == '-' || (*c == '.' && c != id);
                if (!ok)
                        return false;
        }
        return true;
}
