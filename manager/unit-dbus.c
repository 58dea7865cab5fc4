/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.ctrmgr1.Unit: one object per unit under /org/ctrmgr1/unit/ (names escaped with
 * sd_bus_path_encode), served by a fallback vtable with an object finder and a node enumerator,
 * so objects cost nothing until asked for.
 */
#include "manager/manager.h"
#include "units/unit.h"

/* ---------------------------------------------------------------- property getters */

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        const char *v = NULL;

        if (streq(property, "Name"))
                v = s->name;
        else if (streq(property, "Description"))
                v = service_description(s);
        else if (streq(property, "FragmentPath"))
                v = s->unit->fragment_path;
        else if (streq(property, "LoadState"))
                v = service_load_state(s);
        else if (streq(property, "LoadError"))
                v = s->unit->load_error;
        else if (streq(property, "ActiveState"))
                v = active_state_to_string(s->active_state);
        else if (streq(property, "SubState"))
                v = sub_state_to_string(s->sub_state);
        else if (streq(property, "Result"))
                v = service_result_to_string(s->result);
        else if (streq(property, "Image"))
                v = service_image(s);
        else if (streq(property, "ImageDigest"))
                v = s->main_pid > 0 ? s->image_digest : NULL;
        else if (streq(property, "ScopeUnit"))
                v = s->scope;
        else if (streq(property, "ControlGroup"))
                v = s->main_pid > 0 ? s->cgroup_path : NULL;
        else if (streq(property, "Health"))
                v = s->main_pid > 0 ? health_status_to_string(s->health.status) : NULL;
        else if (streq(property, "StatusText"))
                v = s->main_pid > 0 ? s->rd.status : NULL;
        else if (streq(property, "Notify"))
                v = unit_notify_to_string(s->unit->config.notify);
        else if (streq(property, "UnitFileState"))
                v = s->unit->load_state != UNIT_LOAD_LOADED ? ""
                    : service_enabled(s)                    ? "enabled"
                                                            : "disabled";
        return sd_bus_message_append(reply, "s", strempty(v));
}

static int property_get_dropins(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        return sd_bus_message_append_strv(reply, s->unit->dropin_paths);
}

static int property_get_u32(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        uint32_t v = 0;

        if (streq(property, "MainPID"))
                v = s->main_pid > 0 ? (uint32_t)s->main_pid : 0;
        else if (streq(property, "NRestarts"))
                v = s->n_restarts;
        return sd_bus_message_append(reply, "u", v);
}

static int property_get_i32(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        int32_t v = 0;

        if (streq(property, "ExecMainStatus"))
                v = s->exit_status;
        else if (streq(property, "ExecMainCode"))
                v = s->exit_code;
        return sd_bus_message_append(reply, "i", v);
}

static int property_get_u64(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        uint64_t v = 0;

        if (streq(property, "ActiveEnterTimestamp"))
                v = s->active_enter_ts;
        else if (streq(property, "ActiveExitTimestamp"))
                v = s->active_exit_ts;
        else if (streq(property, "InactiveEnterTimestamp"))
                v = s->inactive_enter_ts;
        else if (streq(property, "InactiveExitTimestamp"))
                v = s->inactive_exit_ts;
        else if (streq(property, "MemoryCurrent"))
                v = service_memory_current(s);
        else if (streq(property, "CPUUsageNSec"))
                v = service_cpu_usage_nsec(s);
        else if (streq(property, "TasksCurrent"))
                v = service_tasks_current(s);
        return sd_bus_message_append(reply, "t", v);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Service *s = userdata;
        int v = 0;

        if (streq(property, "NeedDaemonReload"))
                v = service_need_daemon_reload(s);
        return sd_bus_message_append(reply, "b", v);
}

/* The last health check results, oldest first, as Docker keeps them: (start, end) in
 * CLOCK_MONOTONIC usec, the exit code (-1 timed out, -2 could not run), the output. */
static int property_get_health_log(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error)
{
        Service *s = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(ttis)");
        for (size_t i = 0; r >= 0 && i < s->health.n_log; i++) {
                const HealthLogEntry *e = &s->health.log[i];
                /* Output is any bytes; D-Bus strings must be UTF-8 without NUL. */
                const char *out = e->output && utf8_is_valid(e->output) ? e->output : "";
                r = sd_bus_message_append(reply, "(ttis)", e->start, e->end, (int32_t)e->exit_code, out);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

#define EC SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Description", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("FragmentPath", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("DropInPaths", "as", property_get_dropins, 0, EC),
        SD_BUS_PROPERTY("LoadState", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("LoadError", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("UnitFileState", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("NeedDaemonReload", "b", property_get_bool, 0, EC),
        SD_BUS_PROPERTY("ActiveState", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("SubState", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("Result", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("Image", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("ImageDigest", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("MainPID", "u", property_get_u32, 0, EC),
        SD_BUS_PROPERTY("ExecMainCode", "i", property_get_i32, 0, EC),
        SD_BUS_PROPERTY("ExecMainStatus", "i", property_get_i32, 0, EC),
        SD_BUS_PROPERTY("ActiveEnterTimestamp", "t", property_get_u64, 0, EC),
        SD_BUS_PROPERTY("ActiveExitTimestamp", "t", property_get_u64, 0, EC),
        SD_BUS_PROPERTY("InactiveEnterTimestamp", "t", property_get_u64, 0, EC),
        SD_BUS_PROPERTY("InactiveExitTimestamp", "t", property_get_u64, 0, EC),
        SD_BUS_PROPERTY("NRestarts", "u", property_get_u32, 0, EC),
        SD_BUS_PROPERTY("ScopeUnit", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ControlGroup", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("Notify", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("Health", "s", property_get_string, 0, EC),
        SD_BUS_PROPERTY("StatusText", "s", property_get_string, 0, EC),
        /* Changes with every check: read on demand, no change signals. */
        SD_BUS_PROPERTY("HealthLog", "a(ttis)", property_get_health_log, 0, 0),
        /* Live values read from the cgroup on each Get: no change signals. */
        SD_BUS_PROPERTY("MemoryCurrent", "t", property_get_u64, 0, 0),
        SD_BUS_PROPERTY("CPUUsageNSec", "t", property_get_u64, 0, 0),
        SD_BUS_PROPERTY("TasksCurrent", "t", property_get_u64, 0, 0),
        SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- signals and replies */

void service_send_changed(Service *s)
{
        Manager *m = s->manager;
        if (!m->bus)
                return;
        (void)sd_bus_emit_properties_changed(
                m->bus, s->object_path, CTRMGR_UNIT_IFACE, "ActiveState", "SubState", "Result", "MainPID",
                "ImageDigest", "ExecMainCode", "ExecMainStatus", "ActiveEnterTimestamp",
                "ActiveExitTimestamp", "InactiveEnterTimestamp", "InactiveExitTimestamp", "NRestarts",
                "ControlGroup", "LoadState", "LoadError", "Description", "FragmentPath", "DropInPaths",
                "UnitFileState", "NeedDaemonReload", "Image", "Health", "StatusText", "Notify", NULL);
}

void service_send_new(Service *s)
{
        if (s->manager->bus)
                (void)sd_bus_emit_signal(s->manager->bus, CTRMGR_MANAGER_PATH, CTRMGR_MANAGER_IFACE,
                                         "UnitNew", "so", s->name, s->object_path);
}

void service_send_removed(Service *s)
{
        if (s->manager->bus)
                (void)sd_bus_emit_signal(s->manager->bus, CTRMGR_MANAGER_PATH, CTRMGR_MANAGER_IFACE,
                                         "UnitRemoved", "so", s->name, s->object_path);
}

void service_reply_waiters(Service *s, bool start_waiters, const Error *err)
{
        sd_bus_message ***l = start_waiters ? &s->start_waiters : &s->stop_waiters;
        size_t *n = start_waiters ? &s->n_start_waiters : &s->n_stop_waiters;
        sd_bus_message **list = TAKE_PTR(*l);
        size_t count = *n;

        *n = 0;
        for (size_t i = 0; i < count; i++) {
                if (err)
                        (void)sd_bus_reply_method_errorf(list[i], "org.ctrmgr1.UnitFailed", "%s",
                                                         error_message(err));
                else if (start_waiters && s->active_state != ACTIVE_STATE_ACTIVE)
                        (void)sd_bus_reply_method_errorf(list[i], "org.ctrmgr1.UnitFailed",
                                                         "Unit %s did not become active (%s, %s).", s->name,
                                                         active_state_to_string(s->active_state),
                                                         service_result_to_string(s->result));
                else
                        (void)sd_bus_reply_method_return(list[i], "o", s->object_path);
                sd_bus_message_unref(list[i]);
        }
        free(list);
}
