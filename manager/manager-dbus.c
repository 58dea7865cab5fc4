/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.ctrmgr1.Manager on /org/ctrmgr1: listing, lookup, start/stop/restart/kill, reload, images.
 * Mutating methods check the caller twice: the bus policy (org.ctrmgr1.conf) and here, the
 * sender's EUID as the bus reports it (never augmented from /proc, which is racy).
 */
#include <signal.h>

#include "image/image.h"
#include "manager/manager.h"
#include "units/unit.h"

#define ERROR_NO_SUCH_UNIT "org.ctrmgr1.NoSuchUnit"
#define ERROR_UNIT_FAILED  "org.ctrmgr1.UnitFailed"

int bus_check_root(sd_bus_message *m, sd_bus_error *error)
{
        sd_bus_creds *c = NULL;
        uid_t euid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's credentials: %m");
        /* Fail closed: only a value the bus itself vouched for counts. */
        if ((sd_bus_creds_get_augmented_mask(c) & SD_BUS_CREDS_EUID) ||
            sd_bus_creds_get_euid(c, &euid) < 0) {
                sd_bus_creds_unref(c);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: the caller's effective UID is not known.");
        }
        sd_bus_creds_unref(c);
        if (euid != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: only root may change units (caller UID %u).",
                                         (unsigned)euid);
        return 0;
}

static int error_to_bus(const Error *e, int r, sd_bus_error *error)
{
        return sd_bus_error_setf(error, ERROR_UNIT_FAILED, "%s",
                                 e && error_isset(e) ? error_message(e) : strerror(-r));
}

static int find_service_or_error(Manager *m, const char *name, Service **ret, sd_bus_error *error)
{
        _cleanup_free_ char *n = NULL;

        if (!unit_name_is_valid(name) || unit_name_normalize(name, &n) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid unit name \"%s\".",
                                         name);
        Service *s = manager_find_service(m, n);
        if (!s || s->removed)
                return sd_bus_error_setf(error, ERROR_NO_SUCH_UNIT, "Unit %s not loaded.", n);
        *ret = s;
        return 0;
}

/* A method that changes a unit: the unit must exist, and only root may call it (the bus policy
 * says so too; the daemon does not rely on it). */
static int find_service_to_change(sd_bus_message *msg, Manager *m, const char *name, Service **ret,
                                  sd_bus_error *error)
{
        int r = find_service_or_error(m, name, ret, error);
        if (r < 0)
                return r;
        return bus_check_root(msg, error);
}

static int add_waiter(sd_bus_message ***l, size_t *n, sd_bus_message *msg)
{
        sd_bus_message **nl = realloc(*l, (*n + 1) * sizeof(sd_bus_message *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[(*n)++] = sd_bus_message_ref(msg);
        return 0;
}

/* ---------------------------------------------------------------- properties */

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", CTRMGR_VERSION);
}

static int property_get_manager_string(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error)
{
        Manager *m = userdata;
        const char *v = "";

        if (streq(property, "CgroupDriver"))
                v = m->use_systemd ? "systemd" : "cgroupfs";
        else if (streq(property, "LogTarget"))
                v = m->use_journal ? "journal" : "file";
        else if (streq(property, "LogDirectory"))
                v = m->config.log_dir;
        else if (streq(property, "StateDirectory"))
                v = m->config.state_dir;
        return sd_bus_message_append(reply, "s", v);
}

/* ---------------------------------------------------------------- methods */

static int method_list_units(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssssso)");
        for (size_t i = 0; r >= 0 && i < m->n_services; i++) {
                Service *s = m->services[i];
                if (s->removed && s->active_state == ACTIVE_STATE_INACTIVE)
                        continue;
                r = sd_bus_message_append(reply, "(ssssssso)", s->name, strempty(service_description(s)),
                                          service_load_state(s), active_state_to_string(s->active_state),
                                          sub_state_to_string(s->sub_state), strempty(service_image(s)),
                                          service_enabled(s) ? "enabled" : "disabled", s->object_path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_get_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_or_error(m, name, &s, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", s->object_path);
}

static int method_start_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;

        if (s->unit->load_state == UNIT_LOAD_LOADED && m->graph) {
                /* With its dependencies, ordered (jobs.c); answered when its job is over. */
                char *names[] = {s->name, NULL};
                r = manager_enqueue(m, true, names, msg, s->object_path, false, &e);
                if (r < 0)
                        return error_to_bus(&e, r, error);
                return 1;
        }
        /* Not loaded: service_start() says why. */
        r = service_start(s, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        if (r > 0) /* a stop or restart is under way: answer when it is active */
                return add_waiter(&s->start_waiters, &s->n_start_waiters, msg) < 0 ? -ENOMEM : 1;
        return sd_bus_reply_method_return(msg, "o", s->object_path);
}

static int method_stop_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;

        /* An administrator's stop: remembered for Restart=unless-stopped (manager/policy). */
        service_record_admin_stop(s);
        if (m->graph && s->unit->load_state == UNIT_LOAD_LOADED) {
                /* Units that Requires=/BindsTo= it stop first (jobs.c). */
                char *names[] = {s->name, NULL};
                r = manager_enqueue(m, false, names, msg, s->object_path, false, &e);
                if (r >= 0)
                        return 1;
                error_done(&e);
        }
        r = service_stop(s, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        if (r > 0)
                return add_waiter(&s->stop_waiters, &s->n_stop_waiters, msg) < 0 ? -ENOMEM : 1;
        return sd_bus_reply_method_return(msg, "o", s->object_path);
}

static int method_restart_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;

        if (s->active_state == ACTIVE_STATE_ACTIVE || s->active_state == ACTIVE_STATE_DEACTIVATING) {
                r = service_stop(s, &e);
                if (r < 0)
                        return error_to_bus(&e, r, error);
                if (r > 0) {
                        s->restart_after_stop = true;
                        return add_waiter(&s->start_waiters, &s->n_start_waiters, msg) < 0 ? -ENOMEM : 1;
                }
        }
        r = service_start(s, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        if (r > 0)
                return add_waiter(&s->start_waiters, &s->n_start_waiters, msg) < 0 ? -ENOMEM : 1;
        return sd_bus_reply_method_return(msg, "o", s->object_path);
}

static int method_kill_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        const char *name;
        int32_t sig;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "si", &name, &sig);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %" PRIi32 ".",
                                         sig);
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;
        r = service_kill(s, sig, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;
        /* ReloadSignal= is sent at once; ReloadCmd= answers when the command ends. */
        r = service_reload(s, msg, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        if (r > 0)
                return 1;
        return sd_bus_reply_method_return(msg, "o", s->object_path);
}

static int method_reset_failed_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *name;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = find_service_to_change(msg, m, name, &s, error);
        if (r < 0)
                return r;
        if (service_reset_failed(s) > 0)
                log_service_info(s, "Reset the failed state of %s.", s->name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reset_failed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        r = bus_check_root(msg, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_services; i++)
                if (service_reset_failed(m->services[i]) > 0)
                        log_service_info(m->services[i], "Reset the failed state of %s.",
                                         m->services[i]->name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        int r;

        r = bus_check_root(msg, error);
        if (r < 0)
                return r;
        r = manager_reload(m, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_error_ Error e = ERROR_INIT;
        ImageSummary *l = NULL;
        size_t n = 0;
        ImageStore *store;
        sd_bus_message *reply = NULL;
        int r;

        r = manager_open_store(m, &store, &e);
        if (r >= 0)
                r = image_list(store, &l, &n, &e);
        if (r < 0)
                return error_to_bus(&e, r, error);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssst)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssst)", strempty(l[i].name), strempty(l[i].digest),
                                          strempty(l[i].created), l[i].size);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        image_summary_free_many(l, n);
        return r;
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CgroupDriver", "s", property_get_manager_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LogTarget", "s", property_get_manager_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LogDirectory", "s", property_get_manager_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StateDirectory", "s", property_get_manager_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_NAMES("ListUnits", "", , "a(ssssssso)", SD_BUS_PARAM(units), method_list_units,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetUnit", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(unit),
                                 method_get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartUnit", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(unit),
                                 method_start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StopUnit", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(unit),
                                 method_stop_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RestartUnit", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(unit),
                                 method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("KillUnit", "si", SD_BUS_PARAM(name) SD_BUS_PARAM(signal), "", ,
                                 method_kill_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReloadUnit", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(unit),
                                 method_reload_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ResetFailedUnit", "s", SD_BUS_PARAM(name), "", , method_reset_failed_unit,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ResetFailed", "", "", method_reset_failed, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListImages", "", , "a(ssst)", SD_BUS_PARAM(images), method_list_images,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("UnitNew", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(unit), 0),
        SD_BUS_SIGNAL_WITH_NAMES("UnitRemoved", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(unit), 0),
        SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- objects */

static int service_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **found, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;

        if (sd_bus_path_decode(path, CTRMGR_UNIT_PREFIX, &name) <= 0)
                return 0;
        Service *s = manager_find_service(m, name);
        if (!s)
                return 0;
        *found = s;
        return 1;
}

static int service_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < m->n_services; i++)
                if (strv_extend(&l, m->services[i]->object_path) < 0)
                        return -ENOMEM;
        *nodes = TAKE_PTR(l);
        return 1;
}

int manager_bus_setup(Manager *m)
{
        int r;

        /* DBUS_SYSTEM_BUS_ADDRESS selects another bus (the integration tests use a private one). */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = sd_bus_add_object_vtable(m->bus, &m->manager_vtable_slot, CTRMGR_MANAGER_PATH,
                                     CTRMGR_MANAGER_IFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, &m->unit_vtable_slot, CTRMGR_UNIT_PREFIX, CTRMGR_UNIT_IFACE,
                                       service_vtable, service_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the unit objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, &m->unit_enum_slot, CTRMGR_UNIT_PREFIX,
                                       service_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the unit enumerator: %m");

        r = sd_bus_request_name(m->bus, CTRMGR_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", CTRMGR_BUS_NAME);

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        return 0;
}
