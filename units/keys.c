/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units/keys.c — the key table of the first release (shared/UNIT-KEYS.md) and the parsers that
 * turn each value into the typed model (UnitConfig), then the cross-key rules.
 *
 * Semantics (systemd.syntax(7)): scalars — the last assignment wins; lists — each assignment
 * appends, an empty assignment resets; dependencies only add. Every value has its specifiers
 * expanded first. A bad value is an error at its FILE:LINE (the unit then fails to load); an
 * unknown key in a known section is a warning; "X-" keys are ignored silently.
 */

#include <sys/resource.h>
#include <sys/stat.h>

#include "units/keys.h"

typedef int (*KeyParser)(KeyCtx *k, const char *value, size_t offset);

typedef struct KeyDef {
        const char *section;
        const char *key;
        KeyParser parse;
        size_t offset;      /* into UnitConfig, for the generic parsers */
        bool no_specifiers; /* as systemd: numbers and percentages take no specifiers ("50%") */
} KeyDef;

/* ---------------------------------------------------------------- generic parsers */

int key_parse_string(KeyCtx *k, const char *v, size_t off)
{
        char **p = CFG(k, off, char *);
        if (string_has_cc(v))
                return key_error(k, "Value contains control characters");
        return free_and_strdup(p, isempty(v) ? NULL : v);
}

int key_parse_bool(KeyCtx *k, const char *v, size_t off)
{
        int b = parse_boolean(v);
        if (b < 0)
                return key_error(k, "Invalid boolean '%s' (expected yes/no, true/false, on/off, 1/0)", v);
        *CFG(k, off, bool) = b;
        return 0;
}

/* Time span, bare number = seconds; "infinity" refused. */
int key_parse_sec(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return key_error(k, "Invalid time span '%s'", v);
        if (t == USEC_INFINITY)
                return key_error(k, "'infinity' is not allowed here");
        *CFG(k, off, uint64_t) = t;
        return 0;
}

/* Time span where "infinity" is fine (and "0" means infinity too, like systemd's timeouts). */
int key_parse_sec_infinity_zero(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return key_error(k, "Invalid time span '%s'", v);
        *CFG(k, off, uint64_t) = t == 0 ? USEC_INFINITY : t;
        return 0;
}

int key_parse_sec_infinity(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return key_error(k, "Invalid time span '%s'", v);
        *CFG(k, off, uint64_t) = t;
        return 0;
}

int key_parse_positive_sec(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return key_error(k, "Invalid time span '%s'", v);
        if (t == 0 || t == USEC_INFINITY)
                return key_error(k, "Time span must be greater than zero and finite: '%s'", v);
        *CFG(k, off, uint64_t) = t;
        return 0;
}

int key_parse_unsigned_range(KeyCtx *k, const char *v, unsigned *ret, unsigned min, unsigned max)
{
        unsigned u;
        if (safe_atou(v, &u) < 0)
                return key_error_inval(k, "Invalid number '%s'", v);
        if (u < min || u > max)
                return key_error_inval(k, "Value %u out of range %u…%u", u, min, max);
        *ret = u;
        return 0;
}

int key_parse_signal(KeyCtx *k, const char *v, size_t off)
{
        int s = signal_from_string(v);
        if (s <= 0 || s > 64)
                return key_error(k, "Unknown signal '%s'", v);
        *CFG(k, off, int) = s;
        return 0;
}

/* A command line: argv with systemd quoting; empty resets. */
int key_parse_command(KeyCtx *k, const char *v, size_t off)
{
        char ***l = CFG(k, off, char **);
        _cleanup_strv_free_ char **w = NULL;

        if (isempty(v)) {
                *l = strv_free(*l);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_REFUSE_SEMICOLON, &k->loc,
                                  &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        if (strv_isempty(w))
                return key_error(k, "Empty command");
        strv_free(*l);
        *l = TAKE_PTR(w);
        return 0;
}

/* ---------------------------------------------------------------- [Unit] */

int key_parse_documentation(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->documentation = strv_free(k->c->documentation);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                if (!startswith(*s, "http://") && !startswith(*s, "https://") && !startswith(*s, "file:") &&
                    !startswith(*s, "info:") && !startswith(*s, "man:")) {
                        key_warn(k, "Invalid URL '%s' (http, https, file, info, man), ignoring", *s);
                        continue;
                }
                r = strv_extend(&k->c->documentation, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int key_parse_deps(KeyCtx *k, const char *v, size_t off)
{
        char ***l = CFG(k, off, char **);
        _cleanup_strv_free_ char **w = NULL;

        if (isempty(v)) {
                key_warn(k, "Dependencies cannot be reset, ignoring empty assignment");
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                _cleanup_free_ char *n = NULL;
                if (unit_name_is_systemd(*s)) {
                        n = strdup(*s);
                        if (!n)
                                return -ENOMEM;
                } else if (unit_name_normalize(*s, &n) < 0) {
                        key_error(k, "Invalid unit name '%s'", *s);
                        continue;
                } else if (endswith(n, "@")) {
                        key_error(k, "Cannot depend on template '%s' (name an instance)", *s);
                        continue;
                }
                if (streq(n, k->unit->name)) {
                        key_warn(k, "Unit depends on itself, ignoring");
                        continue;
                }
                if (strv_contains(*l, n))
                        continue;
                r = strv_consume(l, TAKE_PTR(n));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- [Service] */

int key_parse_restart(KeyCtx *k, const char *v, size_t off)
{
        const char *n;
        k->c->restart_unless_stopped = false;
        if (streq(v, "unless-stopped")) {
                k->c->restart = UNIT_RESTART_ALWAYS;
                k->c->restart_unless_stopped = true;
                return 0;
        }
        if ((n = startswith(v, "on-failure:"))) {
                unsigned max = 0;
                if (key_parse_unsigned_range(k, n, &max, 0, 1000000) < 0)
                        return 0;
                k->c->restart = UNIT_RESTART_ON_FAILURE;
                if (max > 0) {
                        /* Docker's retry cap = a start limit over the whole lifetime */
                        k->c->start_limit_burst = max + 1;
                        k->c->start_limit_interval_usec = USEC_INFINITY;
                }
                return 0;
        }
        for (int i = 0; i < _UNIT_RESTART_MAX; i++)
                if (streq(v, unit_restart_to_string(i))) {
                        k->c->restart = i;
                        return 0;
                }
        if (streq(v, "on-watchdog"))
                return key_error(k, "Restart=on-watchdog is not supported (no watchdog)");
        return key_error(k,
                         "Invalid Restart= '%s' (no, on-success, on-failure, on-abnormal, on-abort, always, "
                         "unless-stopped, on-failure:N)",
                         v);
}

int key_parse_restart_steps(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (key_parse_unsigned_range(k, v, &n, 0, 2000) < 0)
                return 0;
        k->c->restart_steps = n;
        return 0;
}

int key_parse_start_limit_burst(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (key_parse_unsigned_range(k, v, &n, 0, 1000000) < 0)
                return 0;
        k->c->start_limit_burst = n;
        return 0;
}

int key_parse_start_limit_interval(KeyCtx *k, const char *v, size_t off)
{
        return key_parse_sec_infinity(k, v, off);
}

int key_parse_restart_prevent(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                memset(k->c->restart_prevent_status, 0, sizeof(k->c->restart_prevent_status));
                k->c->restart_prevent_signals = 0;
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                unsigned st = 0;
                if (safe_atou(*s, &st) == 0) {
                        if (st > 255) {
                                key_error(k, "Exit status %u out of range 0…255", st);
                                continue;
                        }
                        k->c->restart_prevent_status[st / 8] |= (uint8_t)(1u << (st % 8));
                        continue;
                }
                int sig = signal_from_string(*s);
                if (sig <= 0 || sig > 64) {
                        key_error(k, "Invalid exit status or signal '%s'", *s);
                        continue;
                }
                k->c->restart_prevent_signals |= UINT64_C(1) << (sig - 1);
        }
        return 0;
}

/* ---------------------------------------------------------------- [Install] */

int key_parse_wanted_by(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->wanted_by = strv_free(k->c->wanted_by);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                if (!streq(*s, "multi-user.target") && !streq(*s, "default.target"))
                        key_warn(k,
                                 "WantedBy=%s has no effect (only multi-user.target and default.target "
                                 "start a "
                                 "unit at boot)",
                                 *s);
                if (!strv_contains(k->c->wanted_by, *s)) {
                        r = strv_extend(&k->c->wanted_by, *s);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int key_parse_alias(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->alias = strv_free(k->c->alias);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                _cleanup_free_ char *n = NULL;
                if (unit_name_normalize(*s, &n) < 0) {
                        key_error(k, "Invalid alias name '%s'", *s);
                        continue;
                }
                if ((strchr(n, '@') != NULL) != (k->unit->instance != NULL || k->unit->is_template)) {
                        key_error(k, "Alias '%s' must be a template/instance exactly when the unit is one",
                                  *s);
                        continue;
                }
                if (!strv_contains(k->c->alias, n)) {
                        r = strv_consume(&k->c->alias, TAKE_PTR(n));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int key_parse_default_instance(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->default_instance = mfree(k->c->default_instance);
                return 0;
        }
        if (!k->unit->is_template && !k->unit->instance)
                return key_warn(k, "DefaultInstance= only applies to templates, ignoring");
        _cleanup_free_ char *n = strjoin("x@", v);
        if (!n)
                return -ENOMEM;
        if (strchr(v, '@') || !unit_name_is_valid(n))
                return key_error(k, "Invalid instance name '%s'", v);
        return free_and_strdup(&k->c->default_instance, v);
}

/* ---------------------------------------------------------------- the table */

#define O(field) offsetof(UnitConfig, field)

static const KeyDef key_table[] = {
        {"Unit", "Description", key_parse_string, O(description)},
        {"Unit", "Documentation", key_parse_documentation, 0},
        {"Unit", "After", key_parse_deps, O(after)},
        {"Unit", "Before", key_parse_deps, O(before)},
        {"Unit", "Requires", key_parse_deps, O(requires)},
        {"Unit", "Wants", key_parse_deps, O(wants)},
        {"Unit", "BindsTo", key_parse_deps, O(binds_to)},
        {"Unit", "Conflicts", key_parse_deps, O(conflicts)},
        {"Unit", "StartLimitBurst", key_parse_start_limit_burst, 0},
        {"Unit", "StartLimitIntervalSec", key_parse_start_limit_interval, O(start_limit_interval_usec)},

        {"Container", "Image", key_parse_image, 0},
        {"Container", "Rootfs", key_parse_rootfs, 0},
        {"Container", "Exec", key_parse_command, O(exec)},
        {"Container", "Entrypoint", key_parse_entrypoint, 0},
        {"Container", "WorkingDir", key_parse_working_dir, 0},
        {"Container", "User", key_parse_user_or_group, O(user)},
        {"Container", "Group", key_parse_user_or_group, O(group)},
        {"Container", "Environment", key_parse_environment, 0},
        {"Container", "EnvironmentFile", key_parse_environment_file, 0},
        {"Container", "HostName", key_parse_hostname, 0},
        {"Container", "RunInit", key_parse_bool, O(run_init)},
        {"Container", "Volume", key_parse_volume, 0},
        {"Container", "Tmpfs", key_parse_tmpfs, 0},
        {"Container", "Mount", key_parse_mount, 0},
        {"Container", "ReadOnly", key_parse_bool, O(read_only)},
        {"Container", "ReadOnlyTmpfs", key_parse_bool, O(read_only_tmpfs)},
        {"Container", "ShmSize", key_parse_shm_size, 0},
        {"Container", "Network", key_parse_network, 0},
        {"Container", "AddCapability", key_parse_capabilities, O(add_capabilities)},
        {"Container", "DropCapability", key_parse_capabilities, O(drop_capabilities)},
        {"Container", "NoNewPrivileges", key_parse_bool, O(no_new_privileges)},
        {"Container", "SeccompProfile", key_parse_seccomp, 0},
        {"Container", "Mask", key_parse_mask, O(mask)},
        {"Container", "Unmask", key_parse_mask, O(unmask)},
        {"Container", "Sysctl", key_parse_sysctl, 0},
        {"Container", "AddDevice", key_parse_device, 0},
        {"Container", "UserNS", key_parse_userns, 0},
        {"Container", "UIDMap", key_parse_idmap, O(uid_map)},
        {"Container", "GIDMap", key_parse_idmap, O(gid_map)},
        {"Container", "Memory", key_parse_memory, 0},
        {"Container", "PidsLimit", key_parse_pids_limit, 0},
        {"Container", "Ulimit", key_parse_ulimit, 0},
        {"Container", "MemoryMax", key_parse_memory_resource, O(memory_max), true},
        {"Container", "MemoryHigh", key_parse_memory_resource, O(memory_high), true},
        {"Container", "TasksMax", key_parse_count_resource, O(tasks_max), true},
        {"Container", "CPUWeight", key_parse_weight, O(cpu_weight), true},
        {"Container", "CPUQuota", key_parse_cpu_quota, 0, true},
        {"Container", "IOWeight", key_parse_weight, O(io_weight), true},
        {"Container", "StopSignal", key_parse_signal, O(stop_signal)},
        {"Container", "StopTimeout", key_parse_stop_timeout, O(stop_timeout_usec)},
        {"Container", "Notify", key_parse_notify, 0},
        {"Container", "HealthCmd", key_parse_health_cmd, 0},
        {"Container", "HealthInterval", key_parse_health_interval, O(health_interval_usec)},
        {"Container", "HealthTimeout", key_parse_positive_sec, O(health_timeout_usec)},
        {"Container", "HealthRetries", key_parse_health_retries, 0},
        {"Container", "HealthStartPeriod", key_parse_sec, O(health_start_period_usec)},
        {"Container", "HealthOnFailure", key_parse_health_on_failure, 0},
        {"Container", "ReloadCmd", key_parse_command, O(reload_cmd)},
        {"Container", "ReloadSignal", key_parse_reload_signal, O(reload_signal)},
        {"Container", "Label", key_parse_keyvalue_list, O(labels)},
        {"Container", "Annotation", key_parse_keyvalue_list, O(annotations)},

        {"Service", "Restart", key_parse_restart, 0},
        {"Service", "RestartSec", key_parse_sec, O(restart_usec)},
        {"Service", "RestartSteps", key_parse_restart_steps, 0},
        {"Service", "RestartMaxDelaySec", key_parse_sec_infinity, O(restart_max_delay_usec)},
        {"Service", "TimeoutStartSec", key_parse_sec_infinity_zero, O(timeout_start_usec)},
        {"Service", "TimeoutStopSec", key_parse_sec_infinity_zero, O(timeout_stop_usec)},
        {"Service", "StartLimitBurst", key_parse_start_limit_burst, 0},
        {"Service", "StartLimitIntervalSec", key_parse_start_limit_interval, O(start_limit_interval_usec)},
        {"Service", "RestartPreventExitStatus", key_parse_restart_prevent, 0},
        /* resource keys are systemd's [Service] keys too */
        {"Service", "MemoryMax", key_parse_memory_resource, O(memory_max), true},
        {"Service", "MemoryHigh", key_parse_memory_resource, O(memory_high), true},
        {"Service", "TasksMax", key_parse_count_resource, O(tasks_max), true},
        {"Service", "CPUWeight", key_parse_weight, O(cpu_weight), true},
        {"Service", "CPUQuota", key_parse_cpu_quota, 0, true},
        {"Service", "IOWeight", key_parse_weight, O(io_weight), true},

        {"Install", "WantedBy", key_parse_wanted_by, 0},
        {"Install", "Alias", key_parse_alias, 0},
        {"Install", "DefaultInstance", key_parse_default_instance, 0},
};

/* Quadlet keys we know of but do not support yet: a clearer warning than "unknown". */
static const char *const quadlet_later[] = {
        "PublishPort",
        "NetworkAlias",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "AddHost",
        "Secret",
        "Timezone",
        "AutoUpdate",
        "Pod",
        "HealthStartupCmd",
        "HealthStartupInterval",
        "HealthStartupRetries",
        "HealthStartupSuccess",
        "HealthStartupTimeout",
        "ContainerName",
        "ExposeHostPort",
        "IP",
        "IP6",
        "LogDriver",
        "LogOpt",
        "PodmanArgs",
        "GlobalArgs",
        "Pull",
        "Retry",
        "RetryDelay",
        "GroupAdd",
        "EnvironmentHost",
        "HttpProxy",
        "SecurityLabelDisable",
        "SecurityLabelFileType",
        "SecurityLabelLevel",
        "SecurityLabelNested",
        "SecurityLabelType",
        "SubUIDMap",
        "SubGIDMap",
        "AppArmor",
        "CgroupsMode",
        "ContainersConfModule",
        "ServiceName",
        "StartWithPod",
        "HealthLogDestination",
        "HealthMaxLogCount",
        "HealthMaxLogSize",
        "VolatileTmp",
        "RemapUsers",
        "RemapUid",
        "RemapGid",
        "RemapUidSize",
};

bool unit_section_is_known(const char *section)
{
        return streq(section, "Unit") || streq(section, "Container") || streq(section, "Service") ||
               streq(section, "Install");
}

static const KeyDef *key_lookup(const char *section, const char *key, size_t *ret_index)
{
        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (streq(key_table[i].section, section) && streq(key_table[i].key, key)) {
                        *ret_index = i;
                        return &key_table[i];
                }
        return NULL;
}

/* ---------------------------------------------------------------- cross-key rules */

typedef struct Seen {
        const char *file;
        unsigned line;
        bool set;
} Seen;

static const Seen *seen_key(const Seen *seen, const char *key)
{
        const Seen *best = NULL;
        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (streq(key_table[i].key, key) && seen[i].set)
                        best = &seen[i];
        return best;
}

#define CROSS_ERROR(u, s, ...)                                                                     \
        unit_diag((u), UNIT_DIAG_ERROR, (s) ? (s)->file : (u)->fragment_path, (s) ? (s)->line : 0, \
                  __VA_ARGS__)

/* container: where [Container]'s first assignment is, for errors about what it lacks. */
static void check_cross_keys(Unit *u, const Seen *seen, const Seen *container)
{
        UnitConfig *c = &u->config;

        if (!c->image && !c->rootfs && !seen_key(seen, "Image") && !seen_key(seen, "Rootfs"))
                CROSS_ERROR(u, container,
                            "Neither Image= nor Rootfs= is set in [Container] (exactly one is required)");
        if (c->image && c->rootfs) {
                const Seen *a = seen_key(seen, "Image"), *b = seen_key(seen, "Rootfs");
                const Seen *later = a && b && (b->line > a->line || !streq_ptr(a->file, b->file)) ? b : a;
                CROSS_ERROR(u, later, "Image= and Rootfs= exclude each other");
        }
        if (c->group && !c->user)
                CROSS_ERROR(u, seen_key(seen, "Group"), "Group= needs User=");
        if (c->reload_cmd && c->reload_signal)
                CROSS_ERROR(u, seen_key(seen, "ReloadSignal"),
                            "ReloadCmd= and ReloadSignal= exclude each other");
        if (c->notify == UNIT_NOTIFY_HEALTHY && !c->health_cmd)
                CROSS_ERROR(u, seen_key(seen, "Notify"), "Notify=healthy needs HealthCmd=");
        if (c->health_on_failure != UNIT_HEALTH_ON_FAILURE_NONE && !c->health_cmd)
                CROSS_ERROR(u, seen_key(seen, "HealthOnFailure"), "HealthOnFailure= needs HealthCmd=");
        if (c->n_uid_map > 0 || c->n_gid_map > 0) {
                if (c->userns == UNIT_USERNS_AUTO)
                        CROSS_ERROR(u, seen_key(seen, "UserNS"), "UserNS=auto excludes UIDMap=/GIDMap=");
                else if (c->n_uid_map == 0 || c->n_gid_map == 0)
                        CROSS_ERROR(u, seen_key(seen, c->n_uid_map == 0 ? "GIDMap" : "UIDMap"),
                                    "UIDMap= and GIDMap= must be given together");
                else
                        c->userns = UNIT_USERNS_MAP;
        }
        if (c->network == UNIT_NETWORK_HOST)
                STRV_FOREACH (s, c->sysctl)
                        if (startswith(*s, "net.")) {
                                CROSS_ERROR(u, seen_key(seen, "Sysctl"),
                                            "Sysctl '%s' cannot be set with Network=host", *s);
                                break;
                        }
        if (c->restart_steps > 0 && c->restart_max_delay_usec != USEC_INFINITY &&
            c->restart_max_delay_usec < c->restart_usec)
                CROSS_ERROR(u, seen_key(seen, "RestartMaxDelaySec"),
                            "RestartMaxDelaySec= is below RestartSec=");
        if (c->health_cmd && c->health_interval_usec > 0 &&
            c->health_timeout_usec > c->health_interval_usec && seen_key(seen, "HealthTimeout"))
                unit_diag(u, UNIT_DIAG_WARNING, seen_key(seen, "HealthTimeout")->file,
                          seen_key(seen, "HealthTimeout")->line,
                          "HealthTimeout= is longer than HealthInterval=");
        if (c->stop_timeout_usec != USEC_INFINITY && c->timeout_stop_usec != USEC_INFINITY &&
            c->stop_timeout_usec > c->timeout_stop_usec)
                CROSS_ERROR(u, seen_key(seen, "StopTimeout"), "StopTimeout= is longer than TimeoutStopSec=");

        /* two mounts on the same destination */
        for (size_t i = 0; i < c->n_mounts; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(c->mounts[i].destination, c->mounts[j].destination)) {
                                unit_diag(u, UNIT_DIAG_ERROR, c->mounts[i].file, c->mounts[i].line,
                                          "Duplicate mount destination '%s' (also at line %u)",
                                          c->mounts[i].destination, c->mounts[j].line);
                                break;
                        }
}

/* ---------------------------------------------------------------- applying */

int unit_apply_assignments(Unit *u, const AssignmentList *l, const SpecifierContext *sc)
{
        Seen seen[ELEMENTSOF(key_table)] = {};
        Seen container = {};

        for (size_t i = 0; i < l->n; i++) {
                const Assignment *a = &l->items[i];
                KeyCtx k = {.unit = u, .c = &u->config, .loc = {u, a->file, a->line}};
                size_t idx;

                if (!unit_section_is_known(a->section))
                        continue; /* warned at the section header */
                if (streq(a->section, "Container") && !container.set)
                        container = (Seen){a->file, a->line, true};
                if (startswith(a->key, "X-"))
                        continue;
                const KeyDef *d = key_lookup(a->section, a->key, &idx);
                if (!d) {
                        bool later = false;
                        for (size_t j = 0; j < ELEMENTSOF(quadlet_later); j++)
                                if (streq(a->key, quadlet_later[j]))
                                        later = true;
                        if (later && streq(a->section, "Container"))
                                loc_warn(&k.loc, "Quadlet key '%s' is not supported by ctrmgr yet, ignoring",
                                         a->key);
                        else
                                loc_warn(&k.loc, "Unknown key '%s' in section [%s], ignoring", a->key,
                                         a->section);
                        continue;
                }

                _cleanup_free_ char *v = NULL;
                int r = d->no_specifiers ? ((v = strdup(a->value)) ? 0 : -ENOMEM)
                                         : specifier_expand(sc, a->value, &k.loc, &v);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        return r;
                /* recorded even when the value is bad, so cross-key rules do not pile up
                 * consequential errors ("no Image=" after a bad Image=) */
                seen[idx] = (Seen){a->file, a->line, true};
                r = d->parse(&k, v, d->offset);
                if (r < 0)
                        return r;
        }

        if (!container.set) {
                /* the reason is the missing section; line 1 so that it reads FILE:LINE: */
                unit_diag(u, UNIT_DIAG_ERROR, u->fragment_path, 1, "No [Container] section");
                return 0;
        }
        check_cross_keys(u, seen, &container);
        u->enabled = !u->is_template && (strv_contains(u->config.wanted_by, "multi-user.target") ||
                                         strv_contains(u->config.wanted_by, "default.target"));
        return 0;
}
