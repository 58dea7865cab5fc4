/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd driver (--systemd-cgroup): the container's cgroup is a transient scope started
 * over D-Bus with the container's init as its only PID and Delegate=yes, so the container owns
 * everything below it. Limits systemd knows become unit properties (SetUnitProperties), so a
 * daemon-reload does not undo them; what it has no property for is written in the scope's dir.
 *
 * org.freedesktop.systemd1(5): Manager.StartTransientUnit(in s name, in s mode, in a(sv)
 * properties, in a(sa(sv)) aux, out o job), Manager.StopUnit(in s name, in s mode, out o job),
 * Manager.SetUnitProperties(in s name, in b runtime, in a(sv) properties), the signal
 * Manager.JobRemoved(u id, o job, s unit, s result), and Scope.ControlGroup (s).
 */

#include <dlfcn.h>
#include <sys/stat.h>

#include "runtime/cgroup-internal.h"

#define SD_DEST          "org.freedesktop.systemd1"
#define SD_PATH          "/org/freedesktop/systemd1"
#define SD_MANAGER       "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* ------------------------------------------------------------------ libsystemd, loaded on first use
 *
 * Not linked: mapping and relocating libsystemd and the six libraries it pulls in (libgcrypt,
 * liblzma, libzstd, liblz4, libgpg-error, libcap) costs every process that links it about 70
 * page faults before main(), some 2 ms on the VMs here, and only this driver needs it. So
 * ctrmgr-oci with the cgroupfs driver never loads it; ctrmgrd, which links it anyway, gets the
 * copy it has back from dlopen(). */

#define SD_BUS_SYMBOLS(X)                 \
        X(sd_bus_call)                    \
        X(sd_bus_call_method)             \
        X(sd_bus_error_free)              \
        X(sd_bus_error_has_name)          \
        X(sd_bus_flush_close_unref)       \
        X(sd_bus_get_property_string)     \
        X(sd_bus_is_open)                 \
        X(sd_bus_match_signal)            \
        X(sd_bus_message_append)          \
        X(sd_bus_message_append_array)    \
        X(sd_bus_message_append_strv)     \
        X(sd_bus_message_close_container) \
        X(sd_bus_message_new_method_call) \
        X(sd_bus_message_open_container)  \
        X(sd_bus_message_read)            \
        X(sd_bus_message_unref)           \
        X(sd_bus_new)                     \
        X(sd_bus_open_system)             \
        X(sd_bus_path_encode)             \
        X(sd_bus_process)                 \
        X(sd_bus_ref)                     \
        X(sd_bus_set_address)             \
        X(sd_bus_slot_unref)              \
        X(sd_bus_start)                   \
        X(sd_bus_unref)                   \
        X(sd_bus_wait)

#define SD_BUS_SYMBOL_POINTER(s) static typeof(s) *sym_##s;
SD_BUS_SYMBOLS(SD_BUS_SYMBOL_POINTER)

static int sd_bus_dlopen(Error *reterr)
{
        static void *dl;
        const char *missing = NULL;
        void *h;

        if (dl)
                return 0;
        h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return error_set_msg(reterr, -EOPNOTSUPP, "the systemd cgroup driver needs libsystemd: %s",
                                     dlerror());
#define SD_BUS_SYMBOL_LOAD(s)                       \
        if (!(sym_##s = (typeof(s) *)dlsym(h, #s))) \
                missing = #s;
        SD_BUS_SYMBOLS(SD_BUS_SYMBOL_LOAD)
        if (missing) {
                dlclose(h);
                return error_set_msg(reterr, -EOPNOTSUPP, "the systemd cgroup driver: libsystemd lacks %s",
                                     missing);
        }
        dl = h;
        return 0;
}

void cgroup_systemd_bus_unref(sd_bus *bus)
{
        /* A Cgroup has a bus only once the library is loaded. */
        if (bus)
                (void)sym_sd_bus_unref(bus);
}

static void sd_bus_error_freep(sd_bus_error *e)
{
        sym_sd_bus_error_free(e);
}
#define _cleanup_bus_error_ _cleanup_(sd_bus_error_freep)

static void sd_bus_message_unrefp_(sd_bus_message **m)
{
        if (*m)
                (void)sym_sd_bus_message_unref(*m);
}
#define _cleanup_bus_message_ _cleanup_(sd_bus_message_unrefp_)

static void sd_bus_slot_unrefp_(sd_bus_slot **s)
{
        if (*s)
                (void)sym_sd_bus_slot_unref(*s);
}

/* ------------------------------------------------------------------ names */

static bool unit_name_is_valid(const char *s)
{
        if (isempty(s) || strlen(s) > 255)
                return false;
        for (const char *p = s; *p; p++)
                if (!(((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ||
                      strchr(":-_.\\@", *p)))
                        return false;
        return true;
}

/* "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" → "" (the root). */
static int slice_to_path(const char *slice, char **ret)
{
        _cleanup_free_ char *out = strdup(""), *prefix = NULL;
        const char *end = endswith(slice, ".slice");

        if (!out || !end)
                return -ENOMEM;
        if (streq(slice, "-.slice")) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        size_t n = (size_t)(end - slice);
        prefix = strndup(slice, n);
        if (!prefix)
                return -ENOMEM;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && prefix[i] != '-')
                        continue;
                _cleanup_free_ char *part = strndup(prefix, i);
                if (!part || isempty(part))
                        return -EINVAL;
                if (strextend_with_separator(&out, "", "/") < 0 ||
                    strextend_with_separator(&out, "", part) < 0 ||
                    strextend_with_separator(&out, "", ".slice") < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int cgroup_systemd_resolve(Cgroup *cg, const char *cgroups_path, Error *reterr)
{
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL, *slice_path = NULL;
        int r;

        if (isempty(cgroups_path)) {
                slice = strdup("system.slice");
                prefix = strdup("ctrmgr-oci");
                name = strdup(cg->id);
        } else {
                /* "slice:prefix:name", each part may be empty except name */
                const char *a = cgroups_path, *b = strchr(a, ':'), *c = b ? strchr(b + 1, ':') : NULL;
                if (!b || !c || strchr(c + 1, ':'))
                        return error_set_msg(reterr, -EINVAL,
                                             "linux.cgroupsPath: \"%s\" is not \"slice:prefix:name\" "
                                             "(systemd cgroup driver)",
                                             cgroups_path);
                slice = b == a ? strdup("system.slice") : strndup(a, (size_t)(b - a));
                prefix = strndup(b + 1, (size_t)(c - b - 1));
                name = strdup(c + 1);
        }
        if (!slice || !prefix || !name)
                return error_set(reterr, -ENOMEM, "cgroup");
        if (!endswith(slice, ".slice") || !unit_name_is_valid(slice))
                return error_set_msg(reterr, -EINVAL, "linux.cgroupsPath: invalid slice \"%s\"", slice);
        if (isempty(name))
                return error_set_msg(reterr, -EINVAL, "linux.cgroupsPath: the name part is empty");
        if (endswith(name, ".slice"))
                return error_set_msg(
                        reterr, -EOPNOTSUPP,
                        "linux.cgroupsPath: a container in its own slice (\"%s\") is not supported", name);

        cg->unit = isempty(prefix) ? strjoin(name, ".scope") : strjoin(prefix, "-", name, ".scope");
        if (!cg->unit)
                return error_set(reterr, -ENOMEM, "cgroup");
        if (!unit_name_is_valid(cg->unit))
                return error_set_msg(reterr, -EINVAL, "linux.cgroupsPath: invalid unit name \"%s\"",
                                     cg->unit);

        /* Where systemd will put it; replaced by the scope's ControlGroup once it exists. */
        r = slice_to_path(slice, &slice_path);
        if (r < 0)
                return error_set_msg(reterr, -EINVAL, "linux.cgroupsPath: invalid slice \"%s\"", slice);
        cg->path = strjoin(slice_path, "/", cg->unit);
        if (!cg->path)
                return error_set(reterr, -ENOMEM, "cgroup");
        cg->slice = TAKE_PTR(slice);
        return 0;
}

/* ------------------------------------------------------------------ bus and jobs */

/*
 * One connection per process, shared by every Cgroup: connecting and subscribing cost more than
 * the StartTransientUnit itself, and the daemon starts many scopes. Not for threads (neither is
 * the runtime). A child after fork() never touches it (sd-bus refuses use in another pid anyway).
 */
static sd_bus *shared_bus;
static pid_t shared_bus_pid;
static bool shared_bus_subscribed;

static int bus_connect(sd_bus **ret)
{
        sd_bus *bus = NULL;
        int r;

        /* As root, systemd's private socket: no dbus-daemon in between (systemctl does the same). */
        if (geteuid() == 0 && access("/run/systemd/private", F_OK) >= 0) {
                r = sym_sd_bus_new(&bus);
                if (r >= 0)
                        r = sym_sd_bus_set_address(bus, "unix:path=/run/systemd/private");
                if (r >= 0)
                        r = sym_sd_bus_start(bus);
                if (r >= 0) {
                        *ret = bus;
                        return 0;
                }
                bus = sym_sd_bus_flush_close_unref(bus);
        }
        return sym_sd_bus_open_system(ret);
}

static int bus_open(Cgroup *cg, Error *reterr)
{
        int r;

        r = sd_bus_dlopen(reterr);
        if (r < 0)
                return r;
        if (shared_bus && (shared_bus_pid != getpid() || !sym_sd_bus_is_open(shared_bus))) {
                /* closed by systemd (or inherited over fork): start over */
                if (shared_bus_pid == getpid())
                        shared_bus = sym_sd_bus_flush_close_unref(shared_bus);
                else
                        shared_bus = NULL; /* the parent's: not ours to close */
                shared_bus_subscribed = false;
        }
        if (cg->bus && cg->bus != shared_bus)
                cg->bus = sym_sd_bus_unref(cg->bus);
        if (!shared_bus) {
                r = bus_connect(&shared_bus);
                if (r < 0)
                        return error_set(reterr, r,
                                         "connecting to systemd (system bus) for the systemd cgroup driver");
                shared_bus_pid = getpid();
        }
        /* Signals (systemd sends a direct client all of them) piled up since the last use: drop. */
        while (sym_sd_bus_process(shared_bus, NULL) > 0)
                ;
        if (!cg->bus)
                cg->bus = sym_sd_bus_ref(shared_bus);
        return 0;
}

typedef struct JobWait {
        char *job;      /* the object path we wait for (NULL until the call returned) */
        char **removed; /* pairs: job path, result, seen before we knew ours */
        char *result;
} JobWait;

static int job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sym_sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(w->job, path)) {
                free(w->result);
                w->result = strdup(result);
        } else if (!w->job) {
                (void)strv_extend(&w->removed, path);
                (void)strv_extend(&w->removed, result);
        }
        return 0;
}

/* Calls Manager.method (with a message prepared by fill) and waits for its job to finish. */
static int call_and_wait(Cgroup *cg, sd_bus_message *m, const char *what, Error *reterr)
{
        _cleanup_(sd_bus_slot_unrefp_) sd_bus_slot *slot = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        JobWait w = {};
        const char *job;
        uint64_t deadline;
        int r;

        r = sym_sd_bus_match_signal(cg->bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", job_removed,
                                    &w);
        if (r < 0)
                return error_set(reterr, r, "%s: subscribing to JobRemoved", what);
        /* Signals go only to subscribed clients on a bus (and on older systemd versions). */
        if (!shared_bus_subscribed && sym_sd_bus_call_method(cg->bus, SD_DEST, SD_PATH, SD_MANAGER,
                                                             "Subscribe", NULL, NULL, NULL) >= 0)
                shared_bus_subscribed = true;

        r = sym_sd_bus_call(cg->bus, m, JOB_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                if (sym_sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = -ENOENT;
                else if (sym_sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists"))
                        r = -EEXIST;
                error_set_msg(reterr, r, "%s: %s", what, error.message ?: strerror(-r));
                goto out;
        }
        r = sym_sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                error_set(reterr, r, "%s: reading the job", what);
                goto out;
        }
        w.job = strdup(job);
        if (!w.job) {
                r = error_set(reterr, -ENOMEM, "%s", what);
                goto out;
        }
        STRV_FOREACH_PAIR(path, result, w.removed)
        if (streq(path, w.job) && !w.result)
                w.result = strdup(result);

        deadline = now_usec(CLOCK_MONOTONIC) + JOB_TIMEOUT_USEC;
        while (!w.result) {
                r = sym_sd_bus_process(cg->bus, NULL);
                if (r < 0) {
                        error_set(reterr, r, "%s: waiting for job %s", what, w.job);
                        goto out;
                }
                if (r > 0)
                        continue;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline) {
                        r = error_set_msg(reterr, -ETIMEDOUT, "%s: job %s did not finish", what, w.job);
                        goto out;
                }
                r = sym_sd_bus_wait(cg->bus, deadline - now);
                if (r < 0) {
                        error_set(reterr, r, "%s: waiting for job %s", what, w.job);
                        goto out;
                }
        }
        if (!streq(w.result, "done"))
                r = error_set_msg(reterr, -EIO, "%s: job %s finished with result \"%s\"", what, w.job,
                                  w.result);
        else
                r = 0;
out:
        free(w.job);
        free(w.result);
        strv_free(w.removed);
        return r;
}

static int append_start_properties(sd_bus_message *m, const CgroupResources *res, int *ret_n);

/* ------------------------------------------------------------------ org.systemd.property.* */

typedef enum PropertyType {
        PROP_SIGNAL,  /* i */
        PROP_USEC,    /* t */
        PROP_BOOLEAN, /* b */
        PROP_STRING,  /* s */
        PROP_UNITS,   /* as */
} PropertyType;

static const struct {
        const char *name;
        PropertyType type;
} known_properties[] = {
        {"KillSignal", PROP_SIGNAL},   {"FinalKillSignal", PROP_SIGNAL}, {"TimeoutStopUSec", PROP_USEC},
        {"RuntimeMaxUSec", PROP_USEC}, {"SendSIGKILL", PROP_BOOLEAN},    {"SendSIGHUP", PROP_BOOLEAN},
        {"KillMode", PROP_STRING},     {"CollectMode", PROP_STRING},     {"Description", PROP_STRING},
        {"After", PROP_UNITS},         {"Before", PROP_UNITS},           {"Wants", PROP_UNITS},
        {"Requires", PROP_UNITS},      {"BindsTo", PROP_UNITS},          {"Conflicts", PROP_UNITS},
        {"PartOf", PROP_UNITS},
};

static int property_type(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(known_properties); i++)
                if (streq(known_properties[i].name, name))
                        return (int)known_properties[i].type;
        return -ENOENT;
}

/* The value without runc's GVariant type word ("uint64 5", "boolean true", "string x"); the
 * quotes of a GVariant string go too. */
static const char *strip_gvariant(const char *v, char **buf)
{
        static const char *const words[] = {"uint64 ", "int64 ", "uint32 ", "int32 ", "boolean ", "string "};
        for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                const char *rest = startswith(v, words[i]);
                if (rest) {
                        v = rest;
                        break;
                }
        }
        size_t l = strlen(v);
        if (l >= 2 && ((v[0] == '\'' && v[l - 1] == '\'') || (v[0] == '"' && v[l - 1] == '"'))) {
                *buf = strndup(v + 1, l - 2);
                return *buf;
        }
        return v;
}

static int property_check(const char *name, const char *value, char **ret, Error *reterr)
{
        _cleanup_free_ char *buf = NULL;
        const char *v = strip_gvariant(value, &buf);
        int type = property_type(name);
        uint64_t u;

        if (!v)
                return error_set(reterr, -ENOMEM, "cgroup");
        switch (type) {
        case PROP_SIGNAL:
                if (signal_from_string(v) <= 0)
                        return error_set_msg(reterr, -EINVAL,
                                             "annotation org.systemd.property.%s: \"%s\" is not a signal",
                                             name, value);
                break;
        case PROP_USEC:
                if (parse_timespan(v, 1, &u) < 0)
                        return error_set_msg(reterr, -EINVAL,
                                             "annotation org.systemd.property.%s: \"%s\" is not a time span",
                                             name, value);
                break;
        case PROP_BOOLEAN:
                if (parse_boolean(v) < 0)
                        return error_set_msg(reterr, -EINVAL,
                                             "annotation org.systemd.property.%s: \"%s\" is not a boolean",
                                             name, value);
                break;
        case PROP_STRING:
        case PROP_UNITS:
                if (!utf8_is_valid(v) || string_has_cc(v))
                        return error_set_msg(reterr, -EINVAL,
                                             "annotation org.systemd.property.%s: invalid value", name);
                break;
        default:
                return error_set_msg(
                        reterr, -EOPNOTSUPP,
                        "annotation org.systemd.property.%s: not a scope property ctrmgr passes on", name);
        }
        *ret = strdup(v);
        return *ret ? 0 : error_set(reterr, -ENOMEM, "cgroup");
}

int cgroup_systemd_set_properties(Cgroup *cg, char *const *properties, Error *reterr)
{
        _cleanup_strv_free_ char **l = NULL;

        for (char *const *p = properties; p && p[0] && p[1]; p += 2) {
                char *v = NULL;
                int r = property_check(p[0], p[1], &v, reterr);
                if (r < 0)
                        return r;
                if (strv_extend(&l, p[0]) < 0 || strv_consume(&l, v) < 0)
                        return error_set(reterr, -ENOMEM, "cgroup");
        }
        strv_free(cg->start_properties);
        cg->start_properties = TAKE_PTR(l);
        return 0;
}

static int append_annotation_properties(sd_bus_message *m, char *const *l)
{
        int r = 0;

        for (char *const *p = l; r >= 0 && p && p[0] && p[1]; p += 2) {
                const char *name = p[0], *v = p[1];
                uint64_t u;
                switch (property_type(name)) {
                case PROP_SIGNAL:
                        r = sym_sd_bus_message_append(m, "(sv)", name, "i", (int32_t)signal_from_string(v));
                        break;
                case PROP_USEC:
                        r = parse_timespan(v, 1, &u);
                        if (r >= 0)
                                r = sym_sd_bus_message_append(m, "(sv)", name, "t", u);
                        break;
                case PROP_BOOLEAN:
                        r = sym_sd_bus_message_append(m, "(sv)", name, "b", parse_boolean(v));
                        break;
                case PROP_STRING:
                        r = sym_sd_bus_message_append(m, "(sv)", name, "s", v);
                        break;
                case PROP_UNITS: {
                        _cleanup_strv_free_ char **units = strv_split(v, " \t");
                        if (!units)
                                return -ENOMEM;
                        r = sym_sd_bus_message_open_container(m, 'r', "sv");
                        if (r >= 0)
                                r = sym_sd_bus_message_append(m, "s", name);
                        if (r >= 0)
                                r = sym_sd_bus_message_open_container(m, 'v', "as");
                        if (r >= 0)
                                r = sym_sd_bus_message_append_strv(m, units);
                        if (r >= 0)
                                r = sym_sd_bus_message_close_container(m);
                        if (r >= 0)
                                r = sym_sd_bus_message_close_container(m);
                        break;
                }
                default:
                        r = -EINVAL;
                }
        }
        return r;
}

int cgroup_systemd_start(Cgroup *cg, pid_t pid, Error *reterr)
{
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *object = NULL, *control_group = NULL, *description = NULL, *what = NULL;
        int r;

        r = bus_open(cg, reterr);
        if (r < 0)
                return r;
        what = strjoin("starting ", cg->unit);
        description = strjoin("ctrmgr container ", cg->id ?: cg->unit);
        if (!what || !description)
                return error_set(reterr, -ENOMEM, "cgroup");

        r = sym_sd_bus_message_new_method_call(cg->bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                               "StartTransientUnit");
        if (r >= 0)
                r = sym_sd_bus_message_append(m, "ss", cg->unit, "fail");
        if (r >= 0)
                r = sym_sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sym_sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", description,
                                              "Slice", "s", cg->slice, "Delegate", "b", 1,
                                              "DefaultDependencies", "b", 0, "CollectMode", "s",
                                              "inactive-or-failed", "PIDs", "au", 1, (uint32_t)pid);
        int n_props = 0;
        if (r >= 0 && cg->start_resources)
                r = append_start_properties(m, cg->start_resources, &n_props);
        /* After the defaults above: an annotation may replace Description= or CollectMode=. */
        if (r >= 0)
                r = append_annotation_properties(m, cg->start_properties);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(m);
        if (r >= 0)
                r = sym_sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return error_set(reterr, r, "%s: building the request", what);

        r = call_and_wait(cg, m, what, reterr);
        if (r < 0)
                return r;
        cg->start_resources_sent = n_props > 0;

        /* Where systemd put it (the slice may be nested or moved by drop-ins). */
        r = sym_sd_bus_path_encode(SD_PATH "/unit", cg->unit, &object);
        if (r < 0)
                return error_set(reterr, r, "%s", what);
        r = sym_sd_bus_get_property_string(cg->bus, SD_DEST, object, "org.freedesktop.systemd1.Scope",
                                           "ControlGroup", &error, &control_group);
        if (r < 0)
                return error_set_msg(reterr, r, "%s: reading ControlGroup: %s", what,
                                     error.message ?: strerror(-r));
        if (!path_is_absolute(control_group) || !path_is_safe(control_group))
                return error_set_msg(reterr, -EIO, "%s: systemd reports an odd ControlGroup \"%s\"", what,
                                     control_group);
        free_and_strdup(&cg->path, control_group);
        if (!cg->path)
                return error_set(reterr, -ENOMEM, "cgroup");
        cg->started = true;
        return cgroup_open_dir(cg, reterr);
}

int cgroup_systemd_stop(Cgroup *cg, Error *reterr)
{
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL;
        int r;

        r = bus_open(cg, reterr);
        if (r < 0)
                return r;
        what = strjoin("stopping ", cg->unit);
        if (!what)
                return error_set(reterr, -ENOMEM, "cgroup");
        r = sym_sd_bus_message_new_method_call(cg->bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit");
        if (r >= 0)
                r = sym_sd_bus_message_append(m, "ss", cg->unit, "fail");
        if (r < 0)
                return error_set(reterr, r, "%s", what);
        r = call_and_wait(cg, m, what, reterr);
        if (r == -ENOENT) { /* gone already: its processes exited and systemd collected it */
                error_done(reterr);
                return 0;
        }
        return r;
}

/* ------------------------------------------------------------------ properties */

/* "0-3,7" → little-endian bit mask bytes, as AllowedCPUs= takes it. */
static int cpuset_to_mask(const char *s, uint8_t **ret, size_t *ret_n)
{
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        const char *p = s;

        while (*p) {
                unsigned long a, b;
                char *end;

                errno = 0;
                a = strtoul(p, &end, 10);
                if (end == p || errno)
                        return -EINVAL;
                b = a;
                if (*end == '-') {
                        p = end + 1;
                        b = strtoul(p, &end, 10);
                        if (end == p || errno || b < a)
                                return -EINVAL;
                }
                if (b >= 8192)
                        return -ERANGE;
                if (b / 8 + 1 > n) {
                        uint8_t *m = realloc(mask, b / 8 + 1);
                        if (!m)
                                return -ENOMEM;
                        memset(m + n, 0, b / 8 + 1 - n);
                        mask = m;
                        n = b / 8 + 1;
                }
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t)(1U << (i % 8));
                p = end;
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EINVAL;
        }
        *ret = TAKE_PTR(mask);
        *ret_n = n;
        return 0;
}

typedef struct PropCtx {
        sd_bus_message *m;
        int fd;
        const char *dir;
        char ***warnings;
        bool all;
        int n;
} PropCtx;

/* True when the controller is there; otherwise one warning. */
static int want(PropCtx *c, const char *controller, const char *what, const char *property)
{
        if (c->all || cgroup_controller_available(c->fd, controller))
                return 1;
        if (c->warnings &&
            strv_extendf(c->warnings, "%s: the %s controller is not available in %s, %s= not applied", what,
                         controller, c->dir, property) < 0)
                return -ENOMEM;
        return 0;
}

static int prop_u64(PropCtx *c, const char *controller, const char *what, const char *name, uint64_t v)
{
        int r = want(c, controller, what, name);
        if (r <= 0)
                return r;
        c->n++;
        return sym_sd_bus_message_append(c->m, "(sv)", name, "t", v);
}

static int prop_mask(PropCtx *c, const char *what, const char *name, const char *list)
{
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        int r = want(c, "cpuset", what, name);
        if (r <= 0)
                return r;
        r = cpuset_to_mask(list, &mask, &n);
        if (r < 0)
                return r;
        c->n++;
        r = sym_sd_bus_message_open_container(c->m, 'r', "sv");
        if (r >= 0)
                r = sym_sd_bus_message_append(c->m, "s", name);
        if (r >= 0)
                r = sym_sd_bus_message_open_container(c->m, 'v', "ay");
        if (r >= 0)
                r = sym_sd_bus_message_append_array(c->m, 'y', mask, n);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(c->m);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(c->m);
        return r;
}

static int prop_devices(PropCtx *c, const char *what, const char *name, const CgroupDeviceValue *d, size_t n,
                        bool weight)
{
        int r;

        if (n == 0)
                return 0;
        r = want(c, "io", what, name);
        if (r <= 0)
                return r;
        c->n++;
        r = sym_sd_bus_message_open_container(c->m, 'r', "sv");
        if (r >= 0)
                r = sym_sd_bus_message_append(c->m, "s", name);
        if (r >= 0)
                r = sym_sd_bus_message_open_container(c->m, 'v', "a(st)");
        if (r >= 0)
                r = sym_sd_bus_message_open_container(c->m, 'a', "(st)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char dev[64];
                snprintf(dev, sizeof(dev), "/dev/block/%u:%u", d[i].major, d[i].minor);
                uint64_t v = weight ? cgroup_blkio_weight_to_io_weight(d[i].value)
                                    : (d[i].value == 0 ? UINT64_MAX : d[i].value);
                r = sym_sd_bus_message_append(c->m, "(st)", dev, v);
        }
        if (r >= 0)
                r = sym_sd_bus_message_close_container(c->m);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(c->m);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(c->m);
        return r;
}

/* ------------------------------------------------------------------ unified keys */

/* A cgroup byte value as the kernel's memparse() takes it: digits and one of K M G T P E, or "max". */
static int parse_cgroup_bytes(const char *s, uint64_t *ret)
{
        static const char suffixes[] = "KMGTPE";
        uint64_t v = 0;
        const char *p = s;

        if (streq(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!(*p >= '0' && *p <= '9'))
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p) {
                char u = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
                const char *k = strchr(suffixes, u);
                if (!k || p[1])
                        return -EINVAL;
                unsigned shift = 10U * (unsigned)(k - suffixes + 1);
                if (v > (UINT64_MAX >> shift))
                        return -ERANGE;
                v <<= shift;
        }
        /* UINT64_MAX is systemd's "infinity"; a number that large means the same to the kernel. */
        *ret = v;
        return 0;
}

static int parse_weight(const char *s, uint64_t *ret)
{
        uint64_t v;
        if (safe_atou64(s, &v) < 0 || v < 1 || v > 10000)
                return -EINVAL;
        *ret = v;
        return 0;
}

int cgroup_systemd_unified_property(const char *file, const char *value, CgroupSystemdProperty ret[2])
{
        uint64_t v, period;
        const char *rest;

        if (!file || !value)
                return -EINVAL;
        ret[0] = ret[1] = (CgroupSystemdProperty){};

        static const struct {
                const char *file, *property;
        } bytes[] = {
                {"memory.min", "MemoryMin"},          {"memory.low", "MemoryLow"},
                {"memory.high", "MemoryHigh"},        {"memory.max", "MemoryMax"},
                {"memory.swap.max", "MemorySwapMax"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bytes); i++)
                if (streq(file, bytes[i].file)) {
                        if (parse_cgroup_bytes(value, &v) < 0)
                                return 0;
                        ret[0] = (CgroupSystemdProperty){"memory", bytes[i].property, v};
                        return 1;
                }
        if (streq(file, "pids.max")) {
                if (streq(value, "max"))
                        v = UINT64_MAX;
                else if (safe_atou64(value, &v) < 0)
                        return 0;
                ret[0] = (CgroupSystemdProperty){"pids", "TasksMax", v};
                return 1;
        }
        if (streq(file, "cpu.weight")) {
                if (parse_weight(value, &v) < 0)
                        return 0;
                ret[0] = (CgroupSystemdProperty){"cpu", "CPUWeight", v};
                return 1;
        }
        if (streq(file, "io.weight")) {
                /* "default N" or "N"; per-device lines ("8:0 N") have their own property format */
                rest = startswith(value, "default ");
                if (parse_weight(rest ?: value, &v) < 0)
                        return 0;
                ret[0] = (CgroupSystemdProperty){"io", "IOWeight", v};
                return 1;
        }
        if (streq(file, "cpu.max")) {
                /* "QUOTA|max [PERIOD]" → CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec) */
                _cleanup_free_ char *q = NULL;
                const char *sp = strchr(value, ' ');
                q = sp ? strndup(value, (size_t)(sp - value)) : strdup(value);
                if (!q)
                        return -ENOMEM;
                period = 100000;
                if (sp && (safe_atou64(sp + 1, &period) < 0 || period < 1000 || period > 1000000))
                        return 0;
                if (streq(q, "max"))
                        v = UINT64_MAX;
                else if (safe_atou64(q, &v) < 0 || v == 0 || v > UINT64_MAX / USEC_PER_SEC)
                        return 0;
                else {
                        v = v * USEC_PER_SEC / period;
                        if (v % 10000 != 0) /* systemd's 1% steps, rounded up like runc */
                                v = (v / 10000 + 1) * 10000;
                }
                ret[0] = (CgroupSystemdProperty){"cpu", "CPUQuotaPerSecUSec", v};
                if (sp)
                        ret[1] = (CgroupSystemdProperty){"cpu", "CPUQuotaPeriodUSec", period};
                return 1;
        }
        return 0;
}

bool cgroup_systemd_unified_is_property(const char *file, const char *value)
{
        CgroupSystemdProperty p[2];

        if (streq(file, "cpuset.cpus") || streq(file, "cpuset.mems")) {
                _cleanup_free_ uint8_t *mask = NULL;
                size_t n = 0;
                return cpuset_to_mask(value, &mask, &n) >= 0;
        }
        return cgroup_systemd_unified_property(file, value, p) > 0;
}

/* Appends the properties for res to c->m (inside an open a(sv)); c->n counts them. */
static int append_properties(PropCtx *c, const CgroupResources *res)
{
        int r;

#define CHECK(x)                   \
        do {                       \
                if ((r = (x)) < 0) \
                        return r;  \
        } while (0)

        if (res->cpus)
                CHECK(prop_mask(c, "linux.resources.cpu.cpus", "AllowedCPUs", res->cpus));
        if (res->mems)
                CHECK(prop_mask(c, "linux.resources.cpu.mems", "AllowedMemoryNodes", res->mems));
        if (res->has_memory_limit)
                CHECK(prop_u64(c, "memory", "linux.resources.memory.limit", "MemoryMax",
                               res->memory_limit < 0 ? UINT64_MAX : (uint64_t)res->memory_limit));
        if (res->has_memory_reservation)
                CHECK(prop_u64(c, "memory", "linux.resources.memory.reservation", "MemoryLow",
                               res->memory_reservation < 0 ? UINT64_MAX
                                                           : (uint64_t)res->memory_reservation));
        if (res->has_memory_swap && res->memory_swap != 0)
                CHECK(prop_u64(c, "memory", "linux.resources.memory.swap", "MemorySwapMax",
                               res->memory_swap < 0 ? UINT64_MAX
                                                    : (uint64_t)(res->memory_swap - res->memory_limit)));
        if (res->has_cpu_shares)
                CHECK(prop_u64(c, "cpu", "linux.resources.cpu.shares", "CPUWeight",
                               cgroup_cpu_shares_to_weight(res->cpu_shares)));
        if (res->has_cpu_quota || res->has_cpu_period) {
                uint64_t period = res->has_cpu_period ? res->cpu_period : 100000;
                uint64_t per_sec = UINT64_MAX;
                if (res->has_cpu_quota && res->cpu_quota > 0) {
                        per_sec = (uint64_t)res->cpu_quota * USEC_PER_SEC / period;
                        /* systemd keeps CPUQuota= in 1% (10 ms per second) steps: round up like runc */
                        if (per_sec % 10000 != 0)
                                per_sec = (per_sec / 10000 + 1) * 10000;
                }
                CHECK(prop_u64(c, "cpu", "linux.resources.cpu.quota", "CPUQuotaPerSecUSec", per_sec));
                if (res->has_cpu_period)
                        CHECK(prop_u64(c, "cpu", "linux.resources.cpu.period", "CPUQuotaPeriodUSec",
                                       period));
        }
        if (res->has_pids_limit)
                CHECK(prop_u64(c, "pids", "linux.resources.pids.limit", "TasksMax",
                               res->pids_limit <= 0 ? UINT64_MAX : (uint64_t)res->pids_limit));
        if (res->has_blkio_weight)
                CHECK(prop_u64(c, "io", "linux.resources.blockIO.weight", "IOWeight",
                               cgroup_blkio_weight_to_io_weight(res->blkio_weight)));
        CHECK(prop_devices(c, "linux.resources.blockIO.weightDevice", "IODeviceWeight", res->weight_devices,
                           res->n_weight_devices, true));
        static const char *const names[_CGROUP_THROTTLE_MAX] = {"IOReadBandwidthMax", "IOWriteBandwidthMax",
                                                                "IOReadIOPSMax", "IOWriteIOPSMax"};
        for (size_t t = 0; t < _CGROUP_THROTTLE_MAX; t++)
                CHECK(prop_devices(c, "linux.resources.blockIO.throttle", names[t], res->throttle[t],
                                   res->n_throttle[t], false));
        /* unified keys systemd has a property for go as that property, so that systemd does not
         * put its own value back when it realizes the unit's cgroup again (daemon-reload) */
        STRV_FOREACH_PAIR(file, value, res->unified)
        {
                CgroupSystemdProperty p[2];
                _cleanup_free_ char *what = strjoin("linux.resources.unified.", file);
                if (!what)
                        CHECK(-ENOMEM);
                if (streq(file, "cpuset.cpus") || streq(file, "cpuset.mems")) {
                        _cleanup_free_ uint8_t *mask = NULL;
                        size_t n_mask = 0;
                        if (cpuset_to_mask(value, &mask, &n_mask) >= 0)
                                CHECK(prop_mask(c, what,
                                                streq(file, "cpuset.cpus") ? "AllowedCPUs"
                                                                           : "AllowedMemoryNodes",
                                                value));
                        continue;
                }
                CHECK(cgroup_systemd_unified_property(file, value, p));
                for (size_t i = 0; i < 2; i++)
                        if (p[i].property)
                                CHECK(prop_u64(c, p[i].controller, what, p[i].property, p[i].value));
        }
#undef CHECK
        return 0;
}

/* Every property (the scope's controllers are not known before it exists; systemd takes them
 * regardless, and cgroup_apply() reports what the scope then lacks). */
static int append_start_properties(sd_bus_message *m, const CgroupResources *res, int *ret_n)
{
        PropCtx c = {.m = m, .fd = -EBADF, .all = true};
        int r = append_properties(&c, res);
        *ret_n = c.n;
        return r;
}

int cgroup_systemd_apply(Cgroup *cg, const CgroupResources *res, bool all_properties, char ***warnings,
                         Error *reterr)
{
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *dir = cgroup_dir(cg);
        PropCtx c = {.fd = cg->fd, .dir = dir, .warnings = warnings, .all = all_properties};
        /* the same resources went with StartTransientUnit: only the warnings are wanted here */
        bool sent = !all_properties && res == cg->start_resources && cg->start_resources_sent;
        int r;

        cg->start_resources = NULL;
        if (!dir)
                return error_set(reterr, -ENOMEM, "cgroup");
        r = bus_open(cg, reterr);
        if (r < 0)
                return r;
        r = sym_sd_bus_message_new_method_call(cg->bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                               "SetUnitProperties");
        if (r >= 0)
                r = sym_sd_bus_message_append(m, "sb", cg->unit, 1);
        if (r >= 0)
                r = sym_sd_bus_message_open_container(m, 'a', "(sv)");
        c.m = m;
        if (r >= 0)
                r = append_properties(&c, res);
        if (r >= 0)
                r = sym_sd_bus_message_close_container(m);
        if (r < 0)
                return error_set(reterr, r, "building properties for %s", cg->unit);
        if (c.n == 0 || sent)
                return 0;
        r = sym_sd_bus_call(cg->bus, m, JOB_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return error_set_msg(reterr, r, "setting resource properties of %s: %s", cg->unit,
                                     error.message ?: strerror(-r));
        return 0;
}
