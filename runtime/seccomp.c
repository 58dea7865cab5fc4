/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include "runtime/seccomp.h"

/* The kernel refuses longer filters (BPF_MAXINSNS); also bounds what we read from the cache. */
#define SECCOMP_MAX_INSNS 4096U

struct SeccompProgram {
        struct sock_filter *insns;
        size_t n_insns;
        unsigned flags;       /* SECCOMP_FILTER_FLAG_* for seccomp(2), without NEW_LISTENER */
        bool listener;        /* add SECCOMP_FILTER_FLAG_NEW_LISTENER */
        bool allows_execveat; /* seccomp_config_allows_syscall(config, "execveat") */
        bool from_cache;
};

/* ------------------------------------------------------------------ names */

static const char *const action_table[_SECCOMP_ACTION_MAX] = {
        [SECCOMP_ACTION_KILL] = "SCMP_ACT_KILL",
        [SECCOMP_ACTION_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [SECCOMP_ACTION_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
        [SECCOMP_ACTION_TRAP] = "SCMP_ACT_TRAP",
        [SECCOMP_ACTION_ERRNO] = "SCMP_ACT_ERRNO",
        [SECCOMP_ACTION_TRACE] = "SCMP_ACT_TRACE",
        [SECCOMP_ACTION_ALLOW] = "SCMP_ACT_ALLOW",
        [SECCOMP_ACTION_LOG] = "SCMP_ACT_LOG",
        [SECCOMP_ACTION_NOTIFY] = "SCMP_ACT_NOTIFY",
};

const char *seccomp_action_to_string(SeccompAction a)
{
        if ((unsigned)a >= _SECCOMP_ACTION_MAX)
                return NULL;
        return action_table[a];
}

int seccomp_action_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(action_table); i++)
                if (streq(action_table[i], s))
                        return (int)i;
        return -EINVAL;
}

static bool action_has_errno(SeccompAction a)
{
        return a == SECCOMP_ACTION_ERRNO || a == SECCOMP_ACTION_TRACE;
}

static const char *const op_table[_SECCOMP_OP_MAX] = {
        [SECCOMP_OP_NE] = "SCMP_CMP_NE",
        [SECCOMP_OP_LT] = "SCMP_CMP_LT",
        [SECCOMP_OP_LE] = "SCMP_CMP_LE",
        [SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
        [SECCOMP_OP_GE] = "SCMP_CMP_GE",
        [SECCOMP_OP_GT] = "SCMP_CMP_GT",
        [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int op_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(op_table); i++)
                if (streq(op_table[i], s))
                        return (int)i;
        return -EINVAL;
}

static const struct {
        const char *name;
        unsigned flag;
} flag_table[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_CONFIG_FLAG_TSYNC},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_CONFIG_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_CONFIG_FLAG_SPEC_ALLOW},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_CONFIG_FLAG_WAIT_KILLABLE_RECV},
};

/* SCMP_ARCH_* names as the spec spells them, with libseccomp's name and Go's GOARCH. */
static const struct {
        const char *oci;
        const char *scmp;
        const char *go;
} arch_table[] = {
        {"SCMP_ARCH_X86", "x86", "386"},
        {"SCMP_ARCH_X86_64", "x86_64", "amd64"},
        {"SCMP_ARCH_X32", "x32", "x32"},
        {"SCMP_ARCH_ARM", "arm", "arm"},
        {"SCMP_ARCH_AARCH64", "aarch64", "arm64"},
        {"SCMP_ARCH_MIPS", "mips", "mips"},
        {"SCMP_ARCH_MIPS64", "mips64", "mips64"},
        {"SCMP_ARCH_MIPS64N32", "mips64n32", "mips64n32"},
        {"SCMP_ARCH_MIPSEL", "mipsel", "mipsle"},
        {"SCMP_ARCH_MIPSEL64", "mipsel64", "mips64le"},
        {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32", "mips64len32"},
        {"SCMP_ARCH_PPC", "ppc", "ppc"},
        {"SCMP_ARCH_PPC64", "ppc64", "ppc64"},
        {"SCMP_ARCH_PPC64LE", "ppc64le", "ppc64le"},
        {"SCMP_ARCH_S390", "s390", "s390"},
        {"SCMP_ARCH_S390X", "s390x", "s390x"},
        {"SCMP_ARCH_PARISC", "parisc", "parisc"},
        {"SCMP_ARCH_PARISC64", "parisc64", "parisc64"},
        {"SCMP_ARCH_RISCV64", "riscv64", "riscv64"},
        {"SCMP_ARCH_LOONGARCH64", "loongarch64", "loong64"},
};

static int arch_index_from_oci(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
                if (streq(arch_table[i].oci, s))
                        return (int)i;
        return -EINVAL;
}

/* Any of the three spellings; "x86" is also accepted for Go's 386 as the profiles use it. */
static int arch_index_from_any(const char *s)
{
        if (streq(s, "x86"))
                return arch_index_from_oci("SCMP_ARCH_X86");
        for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
                if (streq(arch_table[i].oci, s) || streq(arch_table[i].scmp, s) ||
                    streq(arch_table[i].go, s))
                        return (int)i;
        return -EINVAL;
}

static int arch_index_native(void)
{
        uint32_t native = seccomp_arch_native();
        for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
                if (seccomp_arch_resolve_name(arch_table[i].scmp) == native)
                        return (int)i;
        return -EAFNOSUPPORT;
}

/* ------------------------------------------------------------------ JSON helpers */

static json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return v;
}

static const char *json_type_label(json_object *o)
{
        return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

static int json_get_u64(json_object *v, const char *path, const char *key, uint64_t *ret, Error *reterr)
{
        if (!json_object_is_type(v, json_type_int))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an unsigned integer, got %s", path,
                                     key, json_type_label(v));
        if (json_object_get_int64(v) < 0)
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an unsigned integer, got %" PRIi64,
                                     path, key, json_object_get_int64(v));
        *ret = json_object_get_uint64(v);
        return 0;
}

static int json_get_errno(json_object *v, const char *path, const char *key, int *ret, Error *reterr)
{
        uint64_t u;
        int r = json_get_u64(v, path, key, &u, reterr);
        if (r < 0)
                return r;
        if (u > 4095)
                return error_set_msg(reterr, -ERANGE, "%s.%s: errno %" PRIu64 " out of range (0..4095)",
                                     path, key, u);
        *ret = (int)u;
        return 0;
}

/* ------------------------------------------------------------------ config */

SeccompConfig *seccomp_config_free(SeccompConfig *c)
{
        if (!c)
                return NULL;
        strv_free(c->architectures);
        free(c->listener_path);
        free(c->listener_metadata);
        for (size_t i = 0; i < c->n_rules; i++) {
                strv_free(c->rules[i].names);
                free(c->rules[i].args);
        }
        free(c->rules);
        return mfree(c);
}

bool seccomp_config_needs_listener(const SeccompConfig *c)
{
        if (!c)
                return false;
        for (size_t i = 0; i < c->n_rules; i++)
                if (c->rules[i].action == SECCOMP_ACTION_NOTIFY)
                        return true;
        return false;
}

static bool action_allows(SeccompAction a)
{
        return a == SECCOMP_ACTION_ALLOW || a == SECCOMP_ACTION_LOG;
}

bool seccomp_config_allows_syscall(const SeccompConfig *c, const char *name)
{
        if (!c)
                return true;
        bool named = false;
        for (size_t i = 0; i < c->n_rules; i++) {
                const SeccompRule *rule = &c->rules[i];
                if (!strv_contains(rule->names, name))
                        continue;
                /* With conditions on its arguments the rule may or may not apply: then both it and
                 * what applies otherwise must allow. */
                if (!action_allows(rule->action))
                        return false;
                if (rule->n_args == 0)
                        named = true;
        }
        return named || action_allows(c->default_action);
}

static int parse_action(json_object *v, const char *path, SeccompAction *ret, Error *reterr)
{
        if (!v)
                return error_set_msg(reterr, -EINVAL, "%s: missing", path);
        if (!json_object_is_type(v, json_type_string))
                return error_set_msg(reterr, -EINVAL, "%s: expected a string, got %s", path,
                                     json_type_label(v));
        int a = seccomp_action_from_string(json_object_get_string(v));
        if (a < 0) {
                _cleanup_free_ char *e = cescape(json_object_get_string(v));
                return error_set_msg(reterr, -EINVAL, "%s: unknown action \"%s\"", path, strna(e));
        }
        *ret = (SeccompAction)a;
        return 0;
}

static int parse_rule(json_object *o, const char *path, SeccompRule *rule, Error *reterr)
{
        _cleanup_free_ char *p = NULL;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", path,
                                     json_type_label(o));

        json_object *names = jget(o, "names");
        if (!names)
                return error_set_msg(reterr, -EINVAL, "%s.names: missing", path);
        if (!json_object_is_type(names, json_type_array))
                return error_set_msg(reterr, -EINVAL, "%s.names: expected an array, got %s", path,
                                     json_type_label(names));
        size_t n = json_object_array_length(names);
        for (size_t i = 0; i < n; i++) {
                json_object *s = json_object_array_get_idx(names, i);
                if (!json_object_is_type(s, json_type_string))
                        return error_set_msg(reterr, -EINVAL, "%s.names[%zu]: expected a string, got %s",
                                             path, i, json_type_label(s));
                const char *name = json_object_get_string(s);
                if (isempty(name) || strlen(name) > 64 || string_has_cc(name))
                        return error_set_msg(reterr, -EINVAL, "%s.names[%zu]: invalid syscall name", path,
                                             i);
                r = strv_extend(&rule->names, name);
                if (r < 0)
                        return error_set(reterr, r, "%s.names", path);
        }

        p = strjoin(path, ".action");
        if (!p)
                return error_set(reterr, -ENOMEM, "%s", path);
        r = parse_action(jget(o, "action"), p, &rule->action, reterr);
        if (r < 0)
                return r;

        rule->errno_ret = -1;
        json_object *e = jget(o, "errnoRet");
        if (e) {
                if (!action_has_errno(rule->action))
                        return error_set_msg(
                                reterr, -EINVAL,
                                "%s.errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s",
                                path, seccomp_action_to_string(rule->action));
                r = json_get_errno(e, path, "errnoRet", &rule->errno_ret, reterr);
                if (r < 0)
                        return r;
        }

        json_object *args = jget(o, "args");
        if (args) {
                if (!json_object_is_type(args, json_type_array))
                        return error_set_msg(reterr, -EINVAL, "%s.args: expected an array, got %s", path,
                                             json_type_label(args));
                size_t na = json_object_array_length(args);
                if (na > 6 * 8)
                        return error_set_msg(reterr, -E2BIG, "%s.args: too many conditions (%zu)", path, na);
                if (na > 0) {
                        rule->args = calloc(na, sizeof(SeccompArg));
                        if (!rule->args)
                                return error_set(reterr, -ENOMEM, "%s.args", path);
                }
                for (size_t i = 0; i < na; i++) {
                        json_object *a = json_object_array_get_idx(args, i);
                        SeccompArg *arg = &rule->args[i];
                        _cleanup_free_ char *ap = strprintf("%s.args[%zu]", path, i);
                        uint64_t u;

                        if (!ap)
                                return error_set(reterr, -ENOMEM, "%s.args", path);
                        if (!json_object_is_type(a, json_type_object))
                                return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", ap,
                                                     json_type_label(a));
                        json_object *v = jget(a, "index");
                        if (!v)
                                return error_set_msg(reterr, -EINVAL, "%s.index: missing", ap);
                        r = json_get_u64(v, ap, "index", &u, reterr);
                        if (r < 0)
                                return r;
                        if (u > 5)
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.index: %" PRIu64 " out of range (0..5)", ap, u);
                        arg->index = (unsigned)u;

                        v = jget(a, "value");
                        if (!v)
                                return error_set_msg(reterr, -EINVAL, "%s.value: missing", ap);
                        r = json_get_u64(v, ap, "value", &arg->value, reterr);
                        if (r < 0)
                                return r;
                        v = jget(a, "valueTwo");
                        if (v) {
                                r = json_get_u64(v, ap, "valueTwo", &arg->value_two, reterr);
                                if (r < 0)
                                        return r;
                        }

                        v = jget(a, "op");
                        if (!v)
                                return error_set_msg(reterr, -EINVAL, "%s.op: missing", ap);
                        if (!json_object_is_type(v, json_type_string))
                                return error_set_msg(reterr, -EINVAL, "%s.op: expected a string, got %s", ap,
                                                     json_type_label(v));
                        int op = op_from_string(json_object_get_string(v));
                        if (op < 0) {
                                _cleanup_free_ char *esc = cescape(json_object_get_string(v));
                                return error_set_msg(reterr, -EINVAL, "%s.op: unknown operator \"%s\"", ap,
                                                     strna(esc));
                        }
                        arg->op = (SeccompOp)op;
                        rule->n_args++;
                }
        }
        return 0;
}

int seccomp_config_parse(json_object *seccomp, const char *json_path, SeccompConfig **ret, Error *reterr)
{
        _cleanup_(seccomp_config_freep) SeccompConfig *c = NULL;
        const char *path = json_path ?: "linux.seccomp";
        int r;

        if (!seccomp || !json_object_is_type(seccomp, json_type_object))
                return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", path,
                                     json_type_label(seccomp));

        c = calloc(1, sizeof(*c));
        if (!c)
                return error_set(reterr, -ENOMEM, "%s", path);
        c->default_errno_ret = -1;

        {
                _cleanup_free_ char *p = strjoin(path, ".defaultAction");
                if (!p)
                        return error_set(reterr, -ENOMEM, "%s", path);
                r = parse_action(jget(seccomp, "defaultAction"), p, &c->default_action, reterr);
                if (r < 0)
                        return r;
                if (c->default_action == SECCOMP_ACTION_NOTIFY)
                        return error_set_msg(reterr, -EINVAL,
                                             "%s: SCMP_ACT_NOTIFY cannot be the default action", p);
        }

        json_object *v = jget(seccomp, "defaultErrnoRet");
        if (v) {
                if (!action_has_errno(c->default_action))
                        return error_set_msg(
                                reterr, -EINVAL,
                                "%s.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                                path);
                r = json_get_errno(v, path, "defaultErrnoRet", &c->default_errno_ret, reterr);
                if (r < 0)
                        return r;
        }

        v = jget(seccomp, "architectures");
        if (v) {
                if (!json_object_is_type(v, json_type_array))
                        return error_set_msg(reterr, -EINVAL, "%s.architectures: expected an array, got %s",
                                             path, json_type_label(v));
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *a = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(a, json_type_string))
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.architectures[%zu]: expected a string, got %s",
                                                     path, i, json_type_label(a));
                        const char *s = json_object_get_string(a);
                        int idx = arch_index_from_oci(s);
                        if (idx < 0 || seccomp_arch_resolve_name(arch_table[idx].scmp) == 0) {
                                _cleanup_free_ char *esc = cescape(s);
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.architectures[%zu]: unknown architecture \"%s\"",
                                                     path, i, strna(esc));
                        }
                        if (!strv_contains(c->architectures, s)) {
                                r = strv_extend(&c->architectures, s);
                                if (r < 0)
                                        return error_set(reterr, r, "%s.architectures", path);
                        }
                }
        }

        v = jget(seccomp, "flags");
        if (v) {
                if (!json_object_is_type(v, json_type_array))
                        return error_set_msg(reterr, -EINVAL, "%s.flags: expected an array, got %s", path,
                                             json_type_label(v));
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *f = json_object_array_get_idx(v, i);
                        bool found = false;
                        if (!json_object_is_type(f, json_type_string))
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.flags[%zu]: expected a string, got %s", path, i,
                                                     json_type_label(f));
                        for (size_t k = 0; k < ELEMENTSOF(flag_table); k++)
                                if (streq(flag_table[k].name, json_object_get_string(f))) {
                                        c->flags |= flag_table[k].flag;
                                        found = true;
                                }
                        if (!found) {
                                _cleanup_free_ char *esc = cescape(json_object_get_string(f));
                                return error_set_msg(reterr, -EINVAL, "%s.flags[%zu]: unknown flag \"%s\"",
                                                     path, i, strna(esc));
                        }
                }
        }

        v = jget(seccomp, "listenerPath");
        if (v) {
                if (!json_object_is_type(v, json_type_string) ||
                    !path_is_absolute(json_object_get_string(v)))
                        return error_set_msg(reterr, -EINVAL, "%s.listenerPath: expected an absolute path",
                                             path);
                c->listener_path = strdup(json_object_get_string(v));
                if (!c->listener_path)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        v = jget(seccomp, "listenerMetadata");
        if (v) {
                if (!json_object_is_type(v, json_type_string))
                        return error_set_msg(reterr, -EINVAL,
                                             "%s.listenerMetadata: expected a string, got %s", path,
                                             json_type_label(v));
                c->listener_metadata = strdup(json_object_get_string(v));
                if (!c->listener_metadata)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }

        v = jget(seccomp, "syscalls");
        if (v) {
                if (!json_object_is_type(v, json_type_array))
                        return error_set_msg(reterr, -EINVAL, "%s.syscalls: expected an array, got %s", path,
                                             json_type_label(v));
                size_t n = json_object_array_length(v);
                if (n > 0) {
                        c->rules = calloc(n, sizeof(SeccompRule));
                        if (!c->rules)
                                return error_set(reterr, -ENOMEM, "%s", path);
                }
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *p = strprintf("%s.syscalls[%zu]", path, i);
                        if (!p)
                                return error_set(reterr, -ENOMEM, "%s", path);
                        c->n_rules++; /* count first, so a half-parsed rule is freed */
                        r = parse_rule(json_object_array_get_idx(v, i), p, &c->rules[i], reterr);
                        if (r < 0)
                                return r;
                }
        }

        if (seccomp_config_needs_listener(c) && !c->listener_path)
                return error_set_msg(reterr, -EINVAL,
                                     "%s.listenerPath: required when a rule uses SCMP_ACT_NOTIFY", path);

        *ret = TAKE_PTR(c);
        return 0;
}

/* ------------------------------------------------------------------ compile */

static uint32_t action_to_scmp(SeccompAction a, int errno_ret)
{
        uint16_t e = errno_ret < 0 ? EPERM : (uint16_t)errno_ret;

        switch (a) {
        case SECCOMP_ACTION_KILL:
                return SCMP_ACT_KILL;
        case SECCOMP_ACTION_KILL_PROCESS:
                return SCMP_ACT_KILL_PROCESS;
        case SECCOMP_ACTION_KILL_THREAD:
                return SCMP_ACT_KILL_THREAD;
        case SECCOMP_ACTION_TRAP:
                return SCMP_ACT_TRAP;
        case SECCOMP_ACTION_ERRNO:
                return SCMP_ACT_ERRNO(e);
        case SECCOMP_ACTION_TRACE:
                return SCMP_ACT_TRACE(e);
        case SECCOMP_ACTION_ALLOW:
                return SCMP_ACT_ALLOW;
        case SECCOMP_ACTION_LOG:
                return SCMP_ACT_LOG;
        case SECCOMP_ACTION_NOTIFY:
                return SCMP_ACT_NOTIFY;
        default:
                return SCMP_ACT_KILL_PROCESS;
        }
}

static const enum scmp_compare op_to_scmp[_SECCOMP_OP_MAX] = {
        [SECCOMP_OP_NE] = SCMP_CMP_NE,
        [SECCOMP_OP_LT] = SCMP_CMP_LT,
        [SECCOMP_OP_LE] = SCMP_CMP_LE,
        [SECCOMP_OP_EQ] = SCMP_CMP_EQ,
        [SECCOMP_OP_GE] = SCMP_CMP_GE,
        [SECCOMP_OP_GT] = SCMP_CMP_GT,
        [SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* The architectures to compile for, native first, no duplicates: indexes into arch_table. */
static int config_arches(const SeccompConfig *c, int arches[static ELEMENTSOF(arch_table)], size_t *ret_n,
                         Error *reterr)
{
        size_t n = 0;
        int native = arch_index_native();

        if (native < 0)
                return error_set_msg(reterr, native, "seccomp: this machine's architecture is not known");
        arches[n++] = native;
        STRV_FOREACH (a, c->architectures) {
                int idx = arch_index_from_oci(*a);
                bool dup = false;
                if (idx < 0)
                        return error_set_msg(reterr, -EINVAL, "seccomp: unknown architecture \"%s\"", *a);
                for (size_t i = 0; i < n; i++)
                        dup = dup || arches[i] == idx;
                if (!dup)
                        arches[n++] = idx;
        }
        /* Sorted after the native one, so that the order in the spec does not change the cache key. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (arches[j] < arches[i]) {
                                int t = arches[i];
                                arches[i] = arches[j];
                                arches[j] = t;
                        }
        *ret_n = n;
        return 0;
}

/* A stable description of everything that decides the BPF, hashed for the cache key. */
static void config_hash(const SeccompConfig *c, const int *arches, size_t n_arches, char out[65])
{
        const struct scmp_version *v = seccomp_version();
        Sha256 s;
        char buf[256];
        int k;

        sha256_init(&s);
        k = snprintf(buf, sizeof(buf), "ctrmgr-seccomp 3\nlibseccomp %u.%u.%u api %u\ndefault %s %d\n",
                     v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, seccomp_api_get(),
                     seccomp_action_to_string(c->default_action), c->default_errno_ret);
        sha256_update(&s, buf, (size_t)k);
        for (size_t i = 0; i < n_arches; i++) {
                k = snprintf(buf, sizeof(buf), "arch %s\n", arch_table[arches[i]].oci);
                sha256_update(&s, buf, (size_t)k);
        }
        for (size_t i = 0; i < c->n_rules; i++) {
                const SeccompRule *rule = c->rules + i;
                k = snprintf(buf, sizeof(buf), "rule %s %d %zu %zu\n",
                             seccomp_action_to_string(rule->action), rule->errno_ret,
                             strv_length(rule->names), rule->n_args);
                sha256_update(&s, buf, (size_t)k);
                STRV_FOREACH (name, rule->names) {
                        sha256_update(&s, *name, strlen(*name) + 1);
                }
                for (size_t j = 0; j < rule->n_args; j++) {
                        const SeccompArg *a = rule->args + j;
                        k = snprintf(buf, sizeof(buf), "arg %u %d %" PRIu64 " %" PRIu64 "\n", a->index,
                                     (int)a->op, a->value, a->value_two);
                        sha256_update(&s, buf, (size_t)k);
                }
        }
        sha256_finish_hex(&s, out);
}

static bool args_have_duplicate_index(const SeccompRule *rule)
{
        unsigned seen = 0;
        for (size_t i = 0; i < rule->n_args; i++) {
                if (seen & (1U << rule->args[i].index))
                        return true;
                seen |= 1U << rule->args[i].index;
        }
        return false;
}

static int compile(const SeccompConfig *c, const int *arches, size_t n_arches,
                   struct sock_filter **ret_insns, size_t *ret_n, Error *reterr)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        uint32_t def = action_to_scmp(c->default_action, c->default_errno_ret);
        size_t size = 0, n_added = 0;
        int r;

        ctx = seccomp_init(def);
        if (!ctx)
                return error_set_msg(reterr, -EINVAL, "seccomp: libseccomp refused the default action %s",
                                     seccomp_action_to_string(c->default_action));
        for (size_t i = 1; i < n_arches; i++) {
                r = seccomp_arch_add(ctx, seccomp_arch_resolve_name(arch_table[arches[i]].scmp));
                if (r < 0 && r != -EEXIST)
                        return error_set(reterr, r, "seccomp: adding architecture %s",
                                         arch_table[arches[i]].oci);
        }

        for (size_t i = 0; i < c->n_rules; i++) {
                const SeccompRule *rule = c->rules + i;
                uint32_t act = action_to_scmp(rule->action, rule->errno_ret);
                struct scmp_arg_cmp cmps[6 * 8];
                bool split = args_have_duplicate_index(rule);

                if (act == def)
                        continue; /* libseccomp refuses those (-EACCES); they change nothing */
                for (size_t j = 0; j < rule->n_args && j < ELEMENTSOF(cmps); j++)
                        cmps[j] = (struct scmp_arg_cmp){
                                .arg = rule->args[j].index,
                                .op = op_to_scmp[rule->args[j].op],
                                .datum_a = rule->args[j].value,
                                .datum_b = rule->args[j].value_two,
                        };

                STRV_FOREACH (name, rule->names) {
                        int nr = seccomp_syscall_resolve_name(*name);
                        r = 0;
                        if (nr == __NR_SCMP_ERROR)
                                continue; /* unknown to this libseccomp: skipped, as runc and crun do */

                        if (!split)
                                r = seccomp_rule_add_array(ctx, act, nr, (unsigned)rule->n_args, cmps);
                        else
                                for (size_t j = 0; j < rule->n_args; j++) {
                                        r = seccomp_rule_add_array(ctx, act, nr, 1, cmps + j);
                                        if (r < 0)
                                                break;
                                }
                        if (r < 0)
                                return error_set(reterr, r, "seccomp: syscalls[%zu]: adding rule for \"%s\"",
                                                 i, *name);
                        n_added++;
                }
        }

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
        /* A binary tree sorted by syscall number instead of one comparison after the other, as runc
         * does from 8 rules on (never without rules: libseccomp < 2.5.4 then dropped the default
         * action). Besides the O(log n) path of every syscall, the kernel installs it faster:
         * containers-common's profile has 1394 instructions instead of 1113, yet seccomp(2) takes
         * ~430 instead of ~760 us here, the JIT's passes converging sooner on short jumps than on
         * hundreds of jumps to the end. Without the attribute (older libseccomp) the list stays. */
        if (n_added >= 8)
                (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif

        fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return error_set(reterr, negative_errno(), "seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return error_set(reterr, r, "seccomp: exporting BPF");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return error_set(reterr, negative_errno(), "seccomp: lseek");
        r = read_full_fd(fd, SECCOMP_MAX_INSNS * sizeof(struct sock_filter), &data, &size);
        if (r == -EFBIG)
                return error_set_msg(reterr, -E2BIG, "seccomp: the compiled filter exceeds %u instructions",
                                     SECCOMP_MAX_INSNS);
        if (r < 0)
                return error_set(reterr, r, "seccomp: reading exported BPF");
        if (size == 0 || size % sizeof(struct sock_filter) != 0)
                return error_set_msg(reterr, -EIO, "seccomp: libseccomp exported %zu bytes of BPF", size);

        *ret_insns = (struct sock_filter *)(void *)TAKE_PTR(data);
        *ret_n = size / sizeof(struct sock_filter);
        return 0;
}

/* ------------------------------------------------------------------ cache */

/*
 * A cache file: the magic, a SeccompCacheHeader, then the BPF. Besides the instructions it keeps
 * what the runtime needs of the config, so that a hit needs no parsed config at all.
 */
#define SECCOMP_CACHE_MAGIC "CTRMGR-SECCOMP-BPF-2\n"

typedef struct SeccompCacheHeader {
        char magic[STRLEN(SECCOMP_CACHE_MAGIC)];
        uint8_t listener;
        uint8_t allows_execveat;
        uint8_t reserved; /* 0 */
        uint32_t flags;   /* SeccompProgram.flags */
} SeccompCacheHeader;
_Static_assert(sizeof(SeccompCacheHeader) == 28, "no padding in the cache header");

static int cache_dir_open(const char *dir, bool create)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && create) {
                int r = mkdir_p(dir, 0700);
                if (r < 0)
                        return r;
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Whoever can write here can change what every container is allowed to do. */
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

static int cache_dir_open_checked(const char *cache_dir, Error *reterr)
{
        int fd = cache_dir_open(cache_dir, true);
        if (fd == -EPERM)
                return error_set_msg(reterr, -EPERM,
                                     "seccomp cache %s: not owned by us or writable by others, refusing it",
                                     cache_dir);
        return fd; /* other failures: no cache */
}

/* The header and the instructions go straight where they belong: one fstat, one read. */
static int cache_read(int dirfd, const char *name, SeccompProgram **ret)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ struct sock_filter *insns = NULL;
        SeccompProgram *p;
        SeccompCacheHeader h;
        struct stat st;
        size_t size;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size <= (off_t)sizeof(h) ||
            (size_t)st.st_size > sizeof(h) + SECCOMP_MAX_INSNS * sizeof(struct sock_filter) ||
            ((size_t)st.st_size - sizeof(h)) % sizeof(struct sock_filter) != 0)
                return -EBADMSG;
        size = (size_t)st.st_size - sizeof(h);
        insns = malloc(size);
        if (!insns)
                return -ENOMEM;
        struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)}, {.iov_base = insns, .iov_len = size}};
        ssize_t n = readv(fd, iov, 2);
        if (n < 0)
                return negative_errno();
        if ((size_t)n != sizeof(h) + size || memcmp(h.magic, SECCOMP_CACHE_MAGIC, sizeof(h.magic)) != 0 ||
            h.listener > 1 || h.allows_execveat > 1 || h.reserved != 0)
                return -EBADMSG;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (SeccompProgram){
                .insns = TAKE_PTR(insns),
                .n_insns = size / sizeof(struct sock_filter),
                .flags = h.flags,
                .listener = h.listener,
                .allows_execveat = h.allows_execveat,
                .from_cache = true,
        };
        *ret = p;
        return 0;
}

static int cache_write(int dirfd, const char *name, const SeccompProgram *p)
{
        SeccompCacheHeader h = {
                .listener = p->listener,
                .allows_execveat = p->allows_execveat,
                .flags = p->flags,
        };
        size_t n = p->n_insns * sizeof(struct sock_filter);
        _cleanup_free_ char *data = malloc(sizeof(h) + n);

        if (!data)
                return -ENOMEM;
        memcpy(h.magic, SECCOMP_CACHE_MAGIC, sizeof(h.magic));
        memcpy(data, &h, sizeof(h));
        memcpy(data + sizeof(h), p->insns, n);
        return write_file_atomic_at(dirfd, name, data, sizeof(h) + n, 0600);
}

/* ------------------------------------------------------------------ the cache key of a JSON object */

static void sha256_tag(Sha256 *s, char tag, uint64_t n)
{
        uint8_t b[9] = {(uint8_t)tag};
        for (size_t i = 0; i < 8; i++)
                b[1 + i] = (uint8_t)(n >> (56 - 8 * i));
        sha256_update(s, b, sizeof(b));
}

/* Every node of the object in document order, typed and length-prefixed, so that two documents
 * hash alike only if json-c parsed them into the same tree. */
static void json_hash(Sha256 *s, json_object *o)
{
        switch (json_object_get_type(o)) {
        case json_type_null:
                sha256_tag(s, 'z', 0);
                break;
        case json_type_boolean:
                sha256_tag(s, 'b', json_object_get_boolean(o));
                break;
        case json_type_int:
                /* json-c keeps an int64 or, above INT64_MAX, a uint64 */
                if (json_object_get_int64(o) < 0)
                        sha256_tag(s, 'n', (uint64_t)json_object_get_int64(o));
                else
                        sha256_tag(s, 'i', json_object_get_uint64(o));
                break;
        case json_type_double: {
                double d = json_object_get_double(o);
                uint64_t u;
                memcpy(&u, &d, sizeof(u));
                sha256_tag(s, 'd', u);
                break;
        }
        case json_type_string: {
                size_t n = (size_t)json_object_get_string_len(o);
                sha256_tag(s, 's', n);
                sha256_update(s, json_object_get_string(o), n);
                break;
        }
        case json_type_array: {
                size_t n = json_object_array_length(o);
                sha256_tag(s, 'a', n);
                for (size_t i = 0; i < n; i++)
                        json_hash(s, json_object_array_get_idx(o, i));
                break;
        }
        case json_type_object:
                sha256_tag(s, 'o', (uint64_t)json_object_object_length(o));
                json_object_object_foreach (o, key, v) {
                        size_t n = strlen(key);
                        sha256_tag(s, 'k', n);
                        sha256_update(s, key, n);
                        json_hash(s, v);
                }
                break;
        }
}

void seccomp_json_digest(json_object *seccomp, uint8_t ret[SECCOMP_DIGEST_SIZE])
{
        Sha256 s;

        sha256_init(&s);
        json_hash(&s, seccomp);
        sha256_finish(&s, ret);
}

void seccomp_text_digest(const char *text, size_t size, uint8_t ret[SECCOMP_DIGEST_SIZE])
{
        static const char prefix[] = "ctrmgr-seccomp-text\n"; /* never the start of json_hash()'s input */
        Sha256 s;

        sha256_init(&s);
        sha256_update(&s, prefix, sizeof(prefix) - 1);
        sha256_update(&s, text, size);
        sha256_finish(&s, ret);
}

/* What decides the BPF besides the object: libseccomp's version and native architecture, and the
 * kernel, which stands for the API level libseccomp would probe (seccomp_api_get() costs a dozen
 * syscalls, and the API level is what the running kernel supports). */
static int digest_cache_name(const uint8_t digest[SECCOMP_DIGEST_SIZE], char ret[72])
{
        const struct scmp_version *v = seccomp_version();
        struct utsname u;
        char buf[3 * sizeof(u.release) + 128], hash[65];
        Sha256 s;
        int k;

        if (uname(&u) < 0)
                return negative_errno();
        sha256_init(&s);
        k = snprintf(buf, sizeof(buf),
                     "ctrmgr-seccomp-json 3\nlibseccomp %u.%u.%u native %" PRIu32 "\n%s %s %s\n",
                     v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, seccomp_arch_native(), u.release,
                     u.version, u.machine);
        sha256_update(&s, buf, (size_t)MIN((size_t)k, sizeof(buf) - 1));
        sha256_update(&s, digest, SECCOMP_DIGEST_SIZE);
        sha256_finish_hex(&s, hash);
        snprintf(ret, 72, "%s.bpf", hash);
        return 0;
}

/* ------------------------------------------------------------------ program */

SeccompProgram *seccomp_program_free(SeccompProgram *p)
{
        if (!p)
                return NULL;
        free(p->insns);
        return mfree(p);
}

size_t seccomp_program_size(const SeccompProgram *p)
{
        return p ? p->n_insns : 0;
}

bool seccomp_program_from_cache(const SeccompProgram *p)
{
        return p && p->from_cache;
}

bool seccomp_program_needs_listener(const SeccompProgram *p)
{
        return p && p->listener;
}

bool seccomp_program_allows_execveat(const SeccompProgram *p)
{
        return !p || p->allows_execveat;
}

/* Compiles c, and stores the result as name in dirfd when that is not -1. */
static int program_compile(const SeccompConfig *c, const int *arches, size_t n_arches, int dirfd,
                           const char *name, SeccompProgram **ret, Error *reterr)
{
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return error_set(reterr, -ENOMEM, "seccomp");
        p->listener = seccomp_config_needs_listener(c);
        p->flags = c->flags;
        /* The kernel refuses WAIT_KILLABLE_RECV without NEW_LISTENER; without a NOTIFY rule it
         * has no meaning, so a profile carrying it anyway still installs. */
        if (!p->listener)
                p->flags &= ~SECCOMP_CONFIG_FLAG_WAIT_KILLABLE_RECV;
        p->allows_execveat = seccomp_config_allows_syscall(c, "execveat");

        r = compile(c, arches, n_arches, &p->insns, &p->n_insns, reterr);
        if (r < 0)
                return r;
        if (dirfd >= 0)
                (void)cache_write(dirfd, name, p);
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_prepare(const SeccompConfig *c, const char *cache_dir, SeccompProgram **ret, Error *reterr)
{
        _cleanup_close_ int dirfd = -EBADF;
        int arches[ELEMENTSOF(arch_table)];
        size_t n_arches = 0;
        char hash[65], name[72] = "";
        int r;

        if (!c || !ret)
                return error_set_msg(reterr, -EINVAL, "seccomp: no configuration");

        r = config_arches(c, arches, &n_arches, reterr);
        if (r < 0)
                return r;

        if (cache_dir) {
                config_hash(c, arches, n_arches, hash);
                snprintf(name, sizeof(name), "%s.bpf", hash);
                dirfd = cache_dir_open_checked(cache_dir, reterr);
                if (dirfd == -EPERM)
                        return dirfd;
                if (dirfd >= 0 && cache_read(dirfd, name, ret) >= 0)
                        return 0;
        }
        return program_compile(c, arches, n_arches, dirfd, name, ret, reterr);
}

/* The cache directory and the entry name of a digest; dirfd < 0 (and no error) without a cache. */
static int digest_cache_open(const uint8_t digest[SECCOMP_DIGEST_SIZE], const char *cache_dir, char name[72],
                             Error *reterr)
{
        if (!cache_dir || digest_cache_name(digest, name) < 0)
                return -EBADF;
        return cache_dir_open_checked(cache_dir, reterr);
}

int seccomp_prepare_cached(const uint8_t digest[SECCOMP_DIGEST_SIZE], const char *cache_dir,
                           SeccompProgram **ret, Error *reterr)
{
        _cleanup_close_ int dirfd = -EBADF;
        char name[72];

        dirfd = digest_cache_open(digest, cache_dir, name, reterr);
        if (dirfd == -EPERM)
                return dirfd;
        /* Only an object that parsed and compiled before has an entry. */
        return dirfd >= 0 && cache_read(dirfd, name, ret) >= 0;
}

/* The miss: parse, compile, store under digest (when there is one and a cache). */
static int prepare_json_miss(json_object *seccomp, const uint8_t *digest, const char *json_path,
                             const char *cache_dir, SeccompProgram **ret, Error *reterr)
{
        _cleanup_(seccomp_config_freep) SeccompConfig *c = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        int arches[ELEMENTSOF(arch_table)];
        size_t n_arches = 0;
        char name[72] = "";
        int r;

        r = seccomp_config_parse(seccomp, json_path, &c, reterr);
        if (r < 0)
                return r;
        r = config_arches(c, arches, &n_arches, reterr);
        if (r < 0)
                return r;
        if (digest) {
                dirfd = digest_cache_open(digest, cache_dir, name, reterr);
                if (dirfd == -EPERM)
                        return dirfd;
        }
        return program_compile(c, arches, n_arches, dirfd, name, ret, reterr);
}

int seccomp_prepare_json_as(json_object *seccomp, const uint8_t digest[SECCOMP_DIGEST_SIZE],
                            const char *json_path, const char *cache_dir, SeccompProgram **ret,
                            Error *reterr)
{
        return prepare_json_miss(seccomp, digest, json_path, cache_dir, ret, reterr);
}

int seccomp_prepare_json(json_object *seccomp, const char *json_path, const char *cache_dir,
                         SeccompProgram **ret, Error *reterr)
{
        uint8_t digest[SECCOMP_DIGEST_SIZE];
        int r;

        if (!json_object_is_type(seccomp, json_type_object))
                return prepare_json_miss(seccomp, NULL, json_path, cache_dir, ret, reterr);
        seccomp_json_digest(seccomp, digest);
        r = seccomp_prepare_cached(digest, cache_dir, ret, reterr);
        if (r != 0)
                return r < 0 ? r : 0;
        return prepare_json_miss(seccomp, digest, json_path, cache_dir, ret, reterr);
}

int seccomp_program_install(const SeccompProgram *p, int *ret_listener_fd)
{
        struct sock_fprog prog;
        unsigned long flags;
        long r;

        if (!p || p->n_insns == 0 || p->n_insns > SECCOMP_MAX_INSNS)
                return -EINVAL;
        if (p->listener && !ret_listener_fd)
                return -EINVAL;

        prog.len = (unsigned short)p->n_insns;
        prog.filter = p->insns;
        flags = p->flags;
        if (p->listener) {
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* TSYNC and NEW_LISTENER both want the return value; ESRCH makes it the fd. */
                if (flags & SECCOMP_FILTER_FLAG_TSYNC)
                        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        }

        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (r < 0 && errno == ENOSYS && flags == 0)
                r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
        if (r < 0)
                return negative_errno();
        if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && !p->listener && r > 0)
                return -EBUSY; /* TSYNC names a thread that could not be synchronized */
        if (p->listener)
                *ret_listener_fd = (int)r;
        return 0;
}

/* ------------------------------------------------------------------ Docker / containers-common profiles */

static const struct {
        const char *name;
        int value;
} errno_names[] = {
        {"EPERM", EPERM},
        {"ENOENT", ENOENT},
        {"EINTR", EINTR},
        {"EIO", EIO},
        {"EBADF", EBADF},
        {"EAGAIN", EAGAIN},
        {"ENOMEM", ENOMEM},
        {"EACCES", EACCES},
        {"EFAULT", EFAULT},
        {"EBUSY", EBUSY},
        {"EEXIST", EEXIST},
        {"ENODEV", ENODEV},
        {"EINVAL", EINVAL},
        {"ENOSPC", ENOSPC},
        {"ENOSYS", ENOSYS},
        {"EOPNOTSUPP", EOPNOTSUPP},
        {"EAFNOSUPPORT", EAFNOSUPPORT},
};

/* "4.8" <= "6.1.0-18-amd64"? Compares major.minor. */
static int kernel_at_least(const char *release, const char *min, bool *ret)
{
        unsigned a1 = 0, a2 = 0, b1 = 0, b2 = 0;

        if (sscanf(min, "%u.%u", &b1, &b2) < 1)
                return -EINVAL;
        if (sscanf(release, "%u.%u", &a1, &a2) < 1)
                return -EINVAL;
        *ret = a1 > b1 || (a1 == b1 && a2 >= b2);
        return 0;
}

/* True when the arch list (Go names, sometimes SCMP ones) names the target arch. */
static bool arches_match(json_object *arches, int target)
{
        if (!arches || !json_object_is_type(arches, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(arches); i++) {
                json_object *e = json_object_array_get_idx(arches, i);
                if (json_object_is_type(e, json_type_string) &&
                    arch_index_from_any(json_object_get_string(e)) == target)
                        return true;
        }
        return false;
}

static int cap_in_set(json_object *name, uint64_t caps)
{
        if (!json_object_is_type(name, json_type_string))
                return -EINVAL;
        int c = capability_from_name(json_object_get_string(name));
        if (c < 0 || c >= 64)
                return 0; /* unknown to us: not in the set */
        return !!(caps & (UINT64_C(1) << c));
}

/* Whether a rule applies to this container, following moby's and containers/common's rules. */
static int rule_applies(json_object *rule, const char *path, const SeccompProfileOptions *opts, int target,
                        const char *release, bool *ret, Error *reterr)
{
        json_object *inc = jget(rule, "includes"), *exc = jget(rule, "excludes"), *v;
        bool ok;
        int r;

        *ret = false;
        if (exc) {
                v = jget(exc, "arches");
                if (v && arches_match(v, target))
                        return 0;
                v = jget(exc, "caps");
                if (v && json_object_is_type(v, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                r = cap_in_set(json_object_array_get_idx(v, i), opts->capabilities);
                                if (r < 0)
                                        return error_set_msg(reterr, r,
                                                             "%s.excludes.caps[%zu]: expected a string",
                                                             path, i);
                                if (r > 0)
                                        return 0;
                        }
                v = jget(exc, "minKernel");
                if (v) {
                        if (kernel_at_least(release, json_object_get_string(v), &ok) < 0)
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.excludes.minKernel: invalid version", path);
                        if (ok)
                                return 0;
                }
        }
        if (inc) {
                v = jget(inc, "arches");
                if (v && json_object_array_length(v) > 0 && !arches_match(v, target))
                        return 0;
                v = jget(inc, "caps");
                if (v && json_object_is_type(v, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                r = cap_in_set(json_object_array_get_idx(v, i), opts->capabilities);
                                if (r < 0)
                                        return error_set_msg(reterr, r,
                                                             "%s.includes.caps[%zu]: expected a string",
                                                             path, i);
                                if (r == 0)
                                        return 0;
                        }
                v = jget(inc, "minKernel");
                if (v) {
                        if (kernel_at_least(release, json_object_get_string(v), &ok) < 0)
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s.includes.minKernel: invalid version", path);
                        if (!ok)
                                return 0;
                }
        }
        *ret = true;
        return 0;
}

/* errnoRet as a number, or the older "errno": "EPERM" spelling. */
static int profile_errno(json_object *o, const char *num_key, const char *name_key, int *ret)
{
        json_object *v = jget(o, num_key);

        *ret = -1;
        if (v) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
                    json_object_get_int64(v) > 4095)
                        return -EINVAL;
                *ret = (int)json_object_get_int64(v);
                return 0;
        }
        v = jget(o, name_key);
        if (v) {
                for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                        if (streq(errno_names[i].name, json_object_get_string(v))) {
                                *ret = errno_names[i].value;
                                return 0;
                        }
                return -EINVAL;
        }
        return 0;
}

static int json_add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

int seccomp_profile_convert_docker(json_object *profile, const char *source,
                                   const SeccompProfileOptions *opts, json_object **ret_oci, Error *reterr)
{
        _cleanup_(json_object_putp) json_object *oci = NULL;
        static const SeccompProfileOptions no_opts = {};
        const char *src = source ?: "seccomp profile";
        json_object *v, *syscalls, *out_syscalls, *arches;
        struct utsname u;
        const char *release;
        int target, e, r;

        if (!opts)
                opts = &no_opts;
        if (!profile || !json_object_is_type(profile, json_type_object))
                return error_set_msg(reterr, -EINVAL, "%s: expected a JSON object", src);

        if (opts->arch) {
                target = arch_index_from_any(opts->arch);
                if (target < 0)
                        return error_set_msg(reterr, -EINVAL, "%s: unknown architecture \"%s\"", src,
                                             opts->arch);
        } else {
                target = arch_index_native();
                if (target < 0)
                        return error_set_msg(reterr, target, "%s: this machine's architecture is not known",
                                             src);
        }
        release = opts->kernel_release;
        if (!release) {
                if (uname(&u) < 0)
                        return error_set(reterr, negative_errno(), "uname");
                release = u.release;
        }

        oci = json_object_new_object();
        if (!oci)
                return error_set(reterr, -ENOMEM, "%s", src);

        v = jget(profile, "defaultAction");
        if (!v || !json_object_is_type(v, json_type_string))
                return error_set_msg(reterr, -EINVAL, "%s: defaultAction: missing or not a string", src);
        r = json_add(oci, "defaultAction", json_object_new_string(json_object_get_string(v)));
        if (r < 0)
                return error_set(reterr, r, "%s", src);
        if (profile_errno(profile, "defaultErrnoRet", "defaultErrno", &e) < 0)
                return error_set_msg(reterr, -EINVAL, "%s: defaultErrnoRet: invalid", src);
        if (e >= 0 && (r = json_add(oci, "defaultErrnoRet", json_object_new_int(e))) < 0)
                return error_set(reterr, r, "%s", src);

        /* architectures: the archMap entry of the target, else the old flat list. */
        arches = json_object_new_array();
        r = json_add(oci, "architectures", arches);
        if (r < 0)
                return error_set(reterr, r, "%s", src);
        v = jget(profile, "archMap");
        if (v && json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *m = json_object_array_get_idx(v, i), *a = jget(m, "architecture");
                        if (!a || !json_object_is_type(a, json_type_string))
                                return error_set_msg(reterr, -EINVAL,
                                                     "%s: archMap[%zu].architecture: missing", src, i);
                        if (arch_index_from_any(json_object_get_string(a)) != target)
                                continue;
                        json_object_array_add(arches, json_object_new_string(arch_table[target].oci));
                        json_object *sub = jget(m, "subArchitectures");
                        for (size_t k = 0; sub && json_object_is_type(sub, json_type_array) &&
                                           k < json_object_array_length(sub);
                             k++) {
                                json_object *s = json_object_array_get_idx(sub, k);
                                int idx = json_object_is_type(s, json_type_string)
                                                  ? arch_index_from_any(json_object_get_string(s))
                                                  : -1;
                                if (idx < 0)
                                        return error_set_msg(reterr, -EINVAL,
                                                             "%s: archMap[%zu].subArchitectures[%zu]: "
                                                             "unknown architecture",
                                                             src, i, k);
                                json_object_array_add(arches, json_object_new_string(arch_table[idx].oci));
                        }
                        break;
                }
        } else if ((v = jget(profile, "architectures")) && json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        json_object_array_add(arches, json_object_get(json_object_array_get_idx(v, i)));
        }

        FOREACH_ARRAY (key, ((const char *[]){"flags", "listenerPath", "listenerMetadata"}), 3) {
                v = jget(profile, *key);
                if (v && (r = json_add(oci, *key, json_object_get(v))) < 0)
                        return error_set(reterr, r, "%s", src);
        }

        out_syscalls = json_object_new_array();
        r = json_add(oci, "syscalls", out_syscalls);
        if (r < 0)
                return error_set(reterr, r, "%s", src);
        syscalls = jget(profile, "syscalls");
        if (syscalls && !json_object_is_type(syscalls, json_type_array))
                return error_set_msg(reterr, -EINVAL, "%s: syscalls: expected an array", src);
        for (size_t i = 0; syscalls && i < json_object_array_length(syscalls); i++) {
                json_object *rule = json_object_array_get_idx(syscalls, i), *out, *names;
                char path[64];
                bool applies;

                snprintf(path, sizeof(path), "syscalls[%zu]", i);
                if (!json_object_is_type(rule, json_type_object))
                        return error_set_msg(reterr, -EINVAL, "%s: %s: expected an object", src, path);
                r = rule_applies(rule, path, opts, target, release, &applies, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "%s", src);
                if (!applies)
                        continue;

                out = json_object_new_object();
                if (!out || json_object_array_add(out_syscalls, out) < 0) {
                        json_object_put(out);
                        return error_set(reterr, -ENOMEM, "%s", src);
                }
                names = jget(rule, "names");
                if (names)
                        r = json_add(out, "names", json_object_get(names));
                else if ((v = jget(rule, "name"))) {
                        json_object *a = json_object_new_array();
                        if (a)
                                json_object_array_add(a, json_object_get(v));
                        r = json_add(out, "names", a);
                } else
                        return error_set_msg(reterr, -EINVAL, "%s: %s: neither names nor name", src, path);
                if (r < 0)
                        return error_set(reterr, r, "%s", src);

                v = jget(rule, "action");
                if (!v)
                        return error_set_msg(reterr, -EINVAL, "%s: %s.action: missing", src, path);
                if ((r = json_add(out, "action", json_object_get(v))) < 0)
                        return error_set(reterr, r, "%s", src);
                if (profile_errno(rule, "errnoRet", "errno", &e) < 0)
                        return error_set_msg(reterr, -EINVAL, "%s: %s.errnoRet: invalid", src, path);
                if (e >= 0 && (r = json_add(out, "errnoRet", json_object_new_int(e))) < 0)
                        return error_set(reterr, r, "%s", src);
                v = jget(rule, "args");
                if (v && json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0 &&
                    (r = json_add(out, "args", json_object_get(v))) < 0)
                        return error_set(reterr, r, "%s", src);
        }

        *ret_oci = TAKE_PTR(oci);
        return 0;
}

int seccomp_profile_load_docker(const char *path, const SeccompProfileOptions *opts, json_object **ret_oci,
                                Error *reterr)
{
        _cleanup_(json_object_putp) json_object *profile = NULL;
        _cleanup_free_ char *data = NULL;
        enum json_tokener_error jerr = json_tokener_success;
        size_t size = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 16 * 1024 * 1024, &data, &size);
        if (r < 0)
                return error_set(reterr, r, "reading seccomp profile %s", path);
        profile = json_tokener_parse_verbose(data, &jerr);
        if (!profile)
                return error_set_msg(reterr, -EBADMSG, "%s: invalid JSON: %s", path,
                                     json_tokener_error_desc(jerr));
        return seccomp_profile_convert_docker(profile, path, opts, ret_oci, reterr);
}
