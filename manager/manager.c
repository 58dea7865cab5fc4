/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Manager: configuration, the unit registry (load and daemon-reload), recovery of running
 * containers from /run/ctrmgr, boot-time start of enabled units, the event loop, sd_notify.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "image/image.h"
#include "manager/manager.h"
#include "manager/policy/policy.h"
#include "runtime/runtime.h"
#include "units/unit.h"

void manager_config_done(ManagerConfig *c)
{
        c->unit_dirs = strv_free(c->unit_dirs);
        c->state_dir = mfree(c->state_dir);
        c->store_dir = mfree(c->store_dir);
        c->layers_dir = mfree(c->layers_dir);
        c->containers_dir = mfree(c->containers_dir);
        c->lib_dir = mfree(c->lib_dir);
        c->log_dir = mfree(c->log_dir);
        c->seccomp_profile = mfree(c->seccomp_profile);
        c->cgroup_parent = mfree(c->cgroup_parent);
}

static int find_cgroup2_root(char **ret)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL…] - FSTYPE SOURCE SUPER */
                char *sep = strstr(line, " - ");
                if (!sep || !startswith(sep + 3, "cgroup2 "))
                        continue;
                char *p = line;
                for (int i = 0; i < 4 && p; i++) {
                        p = strchr(p, ' ');
                        if (p)
                                p++;
                }
                if (!p)
                        continue;
                char *end = strchr(p, ' ');
                if (!end)
                        continue;
                *end = '\0';
                char *mp = strdup(p);
                if (!mp)
                        return -ENOMEM;
                *ret = mp;
                return 0;
        }
        return -ENOMEDIUM;
}

int manager_new(ManagerConfig *config, Manager **ret)
{
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));
        int r;

        if (!m)
                return -ENOMEM;
        m->config = *config;
        *config = (ManagerConfig){};

        if (!m->config.state_dir && !(m->config.state_dir = strdup(CTRMGR_DEFAULT_STATE_DIR)))
                return -ENOMEM;
        if (!m->config.log_dir && !(m->config.log_dir = strdup(CTRMGR_DEFAULT_LOG_DIR)))
                return -ENOMEM;
        if (!m->config.lib_dir && !(m->config.lib_dir = path_join(CTRMGR_LOCALSTATEDIR, "lib/ctrmgr")))
                return -ENOMEM;
        if (!m->config.seccomp_profile && !(m->config.seccomp_profile = strdup(CTRMGR_DEFAULT_SECCOMP)))
                return -ENOMEM;
        m->oci_root = path_join(m->config.state_dir, ".oci");
        if (!m->oci_root)
                return -ENOMEM;

        m->zygote_fd = -EBADF;
        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        /* Starters (starter.c) in flight at once: enough to keep every core busy while the
         * event loop prepares the next start. */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        m->max_starters = (unsigned)(ncpu > 0 ? 2 * ncpu + 2 : 4);

        if (m->config.journal < 0)
                m->use_journal = access("/run/systemd/journal/stdout", F_OK) == 0;
        else
                m->use_journal = m->config.journal > 0;

        r = find_cgroup2_root(&m->cgroup_root);
        if (r < 0)
                return log_error_errno(r, "No cgroup2 hierarchy found: %m");

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        /* Nothing is started from here on: queued starts and transactions go first, so that
         * finishing a start below cannot set off another. */
        m->exiting = true;
        free(m->spawn_queue);
        m->spawn_queue = NULL;
        m->n_spawn_queue = 0;
        manager_jobs_free(m);
        /* A container being started is recorded before the daemon goes, so the next one finds
         * it again. */
        for (size_t i = 0; i < m->n_services; i++)
                starter_finish(m->services[i]);
        manager_zygote_stop(m);
        dep_graph_free(m->graph);
        for (size_t i = 0; i < m->n_services; i++)
                service_free(m->services[i]);
        free(m->services);
        sd_bus_slot_unref(m->unit_vtable_slot);
        sd_bus_slot_unref(m->unit_enum_slot);
        sd_bus_slot_unref(m->manager_vtable_slot);
        sd_bus_slot_unref(m->job_removed_slot);
        sd_bus_flush_close_unref(m->bus);
        sd_event_source_disable_unref(m->gc_source);
        sd_event_unref(m->event);
        unit_loader_free(m->loader);
        image_store_free(m->store);
        if (m->default_seccomp)
                json_object_put(m->default_seccomp);
        free(m->cgroup_root);
        free(m->oci_root);
        manager_config_done(&m->config);
        free(m);
        return NULL;
}

int manager_open_store(Manager *m, ImageStore **ret, Error *reterr)
{
        if (!m->store) {
                ImageStoreOptions o = {
                        .store_dir = m->config.store_dir,
                        .layers_dir = m->config.layers_dir,
                        .containers_dir = m->config.containers_dir,
                        .create = !m->read_only_store,
                        .read_only = m->read_only_store,
                };
                int r = image_store_open(&o, &m->store, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "opening the image store");
        }
        *ret = m->store;
        return 0;
}

Service *manager_find_service(Manager *m, const char *name)
{
        size_t lo = 0, hi = m->n_services;

        if (!name)
                return NULL;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(name, m->services[mid]->name);
                if (c == 0)
                        return m->services[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static int manager_add_service(Manager *m, Service *s)
{
        Service **n = realloc(m->services, (m->n_services + 1) * sizeof(Service *));
        size_t i;

        if (!n)
                return -ENOMEM;
        m->services = n;
        for (i = m->n_services; i > 0 && strcmp(m->services[i - 1]->name, s->name) > 0; i--)
                m->services[i] = m->services[i - 1];
        m->services[i] = s;
        m->n_services++;
        return 0;
}

static void manager_remove_service(Manager *m, Service *s)
{
        for (size_t i = 0; i < m->n_services; i++)
                if (m->services[i] == s) {
                        memmove(m->services + i, m->services + i + 1,
                                (m->n_services - i - 1) * sizeof(Service *));
                        m->n_services--;
                        break;
                }
        (void)failed_state_remove(s);
        service_send_removed(s);
        service_free(s);
}

static int on_gc(sd_event_source *src, void *userdata)
{
        Manager *m = userdata;

        m->gc_source = sd_event_source_disable_unref(m->gc_source);
        for (size_t i = m->n_services; i > 0; i--) {
                Service *s = m->services[i - 1];
                if (s->removed &&
                    (s->active_state == ACTIVE_STATE_INACTIVE || s->active_state == ACTIVE_STATE_FAILED))
                        manager_remove_service(m, s);
        }
        return 0;
}

void manager_schedule_gc(Manager *m)
{
        if (!m->gc_source)
                (void)sd_event_add_defer(m->event, &m->gc_source, on_gc, m);
}

static void log_diags(const Unit *u)
{
        for (size_t i = 0; i < u->n_diags; i++)
                log_internal(u->diags[i].level == UNIT_DIAG_ERROR ? LOG_LEVEL_ERR : LOG_LEVEL_WARNING, 0,
                             "%s", u->diags[i].text);
}

static int manager_load_units(Manager *m, UnitSet **ret, Error *reterr)
{
        int r;

        if (!m->loader) {
                r = unit_loader_new(m->config.unit_dirs, &m->loader);
                if (r < 0)
                        return error_set(reterr, r, "setting up the unit loader");
        }
        r = unit_loader_load_all(m->loader, ret, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "loading units");
        for (size_t i = 0; i < (*ret)->n_diags; i++)
                log_warning("%s", (*ret)->diags[i].text);
        return 0;
}

/* Takes unit i out of the set, leaving a hole that unit_set_compact() closes. */
static Unit *unit_set_steal(UnitSet *set, size_t i)
{
        Unit *u = set->units[i];
        set->units[i] = NULL;
        return u;
}

static void unit_set_compact(UnitSet *set)
{
        size_t j = 0;
        for (size_t i = 0; i < set->n_units; i++)
                if (set->units[i])
                        set->units[j++] = set->units[i];
        set->n_units = j;
}

static int manager_add_units(Manager *m, UnitSet *set, bool announce)
{
        int r;

        for (size_t i = 0; i < set->n_units; i++) {
                Unit *u = set->units[i];
                Service *s;

                if (!u || u->is_template)
                        continue;
                log_diags(u);
                r = service_new(m, u, &s);
                if (r < 0)
                        return r;
                service_load_admin_stop(s);
                unit_set_steal(set, i);
                r = manager_add_service(m, s);
                if (r < 0) {
                        service_free(s);
                        return r;
                }
                if (announce)
                        service_send_new(s);
        }
        unit_set_compact(set);
        return 0;
}

int manager_reload(Manager *m, Error *reterr)
{
        _cleanup_(unit_set_freep) UnitSet *set = NULL;
        _cleanup_strv_free_ char **dependents = NULL;
        int r;

        log_info("Reloading units.");
        r = manager_load_units(m, &set, reterr);
        if (r < 0)
                return r;
        /* Units that Requires=/BindsTo= a unit removed now stop with it: that is known from the
         * graph of before the reload only. */
        for (size_t i = 0; m->graph && i < m->n_services; i++) {
                Service *s = m->services[i];
                _cleanup_strv_free_ char **l = NULL;
                if (s->removed || s->active_state == ACTIVE_STATE_INACTIVE ||
                    s->active_state == ACTIVE_STATE_FAILED || unit_set_find(set, s->name))
                        continue;
                if (dep_graph_units_to_stop(m->graph, s->name, true, &l, NULL) >= 0 &&
                    strv_extend_strv(&dependents, l) < 0)
                        return -ENOMEM;
        }
        (void)manager_rebuild_graph(m, set);

        /* Look everything up before stealing from the set (stealing leaves holes). */
        _cleanup_free_ size_t *found = calloc(m->n_services + 1, sizeof(size_t));
        if (!found)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_services; i++) {
                Unit *nu = unit_set_find(set, m->services[i]->name);
                found[i] = SIZE_MAX;
                for (size_t j = 0; nu && j < set->n_units; j++)
                        if (set->units[j] == nu)
                                found[i] = j;
        }

        /* Existing services: changed, unchanged or gone. */
        for (size_t i = 0; i < m->n_services; i++) {
                Service *s = m->services[i];
                size_t idx = found[i];
                Unit *nu = idx == SIZE_MAX ? NULL : set->units[idx];

                if (!nu || nu->is_template) {
                        if (!s->removed) {
                                s->removed = true;
                                log_service_info(s, "Unit %s was removed%s.", s->name,
                                                 s->active_state == ACTIVE_STATE_INACTIVE ||
                                                                 s->active_state == ACTIVE_STATE_FAILED
                                                         ? ""
                                                         : ", stopping it");
                                (void)service_stop(s, NULL);
                                manager_schedule_gc(m);
                        }
                        continue;
                }
                s->removed = false;
                log_diags(nu);
                if (unit_equal(s->unit, nu)) {
                        /* Unchanged, or a change reverted before it was applied. */
                        unit_free(unit_set_steal(set, idx));
                        if (s->pending_unit) {
                                s->pending_unit = unit_free(s->pending_unit);
                                service_send_changed(s);
                        }
                        continue;
                }
                if (s->pending_unit && unit_equal(s->pending_unit, nu)) {
                        unit_free(unit_set_steal(set, idx));
                        continue;
                }
                bool running =
                        s->active_state != ACTIVE_STATE_INACTIVE && s->active_state != ACTIVE_STATE_FAILED;
                if (running && nu->load_state == UNIT_LOAD_LOADED &&
                    s->unit->load_state == UNIT_LOAD_LOADED) {
                        /* Changed under a running container: applied at the next (re)start. */
                        unit_free(s->pending_unit);
                        s->pending_unit = unit_set_steal(set, idx);
                        log_service_notice(s, "Unit %s changed on disk; restart it to apply.", s->name);
                } else {
                        unit_free(s->unit);
                        s->unit = unit_set_steal(set, idx);
                        s->pending_unit = unit_free(s->pending_unit);
                }
                service_send_changed(s);
        }
        unit_set_compact(set);

        /* What is left in the set is new. */
        r = manager_add_units(m, set, true);
        if (r < 0)
                return error_set(reterr, r, "adding units");
        strv_uniq(dependents);
        STRV_FOREACH (n, dependents) {
                Service *d = manager_find_service(m, *n);
                if (!d || d->removed)
                        continue;
                char *one[] = {*n, NULL};
                _cleanup_error_ Error e = ERROR_INIT;
                log_service_notice(d, "Stopping %s: a unit it requires was removed.", d->name);
                if (manager_enqueue(m, false, one, NULL, NULL, false, &e) < 0)
                        log_service_warning(d, "Stopping %s: %s", d->name, error_message(&e));
        }
        log_info("Reloaded: %zu units.", m->n_services);
        return 0;
}

/* systemd's SystemState is "stopping" once shutdown.target's transaction runs. */
static bool system_is_shutting_down(Manager *m)
{
        _cleanup_free_ char *state = NULL;

        if (!m->bus ||
            sd_bus_get_property_string(m->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "SystemState", NULL, &state) < 0)
                return false;
        return streq(state, "stopping");
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                _cleanup_error_ Error e = ERROR_INIT;
                if (manager_reload(m, &e) < 0)
                        log_error("Reload failed: %s", error_message(&e));
                return 0;
        }
        (void)sd_notify(false, "STOPPING=1");
        if (!m->exit_when_idle && system_is_shutting_down(m)) {
                /* The host goes down: stop the units here, in the reverse of their start order,
                 * each with its StopSignal= and StopTimeout=, rather than leave them to the
                 * shutdown's blanket SIGTERM. A second signal exits at once. */
                _cleanup_strv_free_ char **up = NULL;
                _cleanup_error_ Error e = ERROR_INIT;
                for (size_t i = 0; i < m->n_services; i++) {
                        Service *s = m->services[i];
                        if (s->active_state != ACTIVE_STATE_INACTIVE &&
                            s->active_state != ACTIVE_STATE_FAILED && strv_extend(&up, s->name) < 0)
                                break;
                }
                m->exit_when_idle = true;
                if (!strv_isempty(up)) {
                        log_info("The system is shutting down: stopping %zu units.", strv_length(up));
                        if (manager_enqueue(m, false, up, NULL, NULL, false, &e) >= 0)
                                return 0;
                        log_error("Stopping the units failed: %s", error_message(&e));
                }
        }
        /* Leave the containers running: they live in their own scopes, and the next daemon
         * instance finds them again from /run/ctrmgr. */
        log_info("Received %s, exiting; containers keep running.",
                 strna(signal_to_string((int)si->ssi_signo)));
        m->exiting = true;
        return sd_event_exit(m->event, 0);
}

static bool systemd_available(void)
{
        struct statfs sfs;
        /* sd_booted(): PID 1 is systemd when /run/systemd/system is a directory. */
        return access("/run/systemd/system", F_OK) == 0 && statfs("/run/systemd/system", &sfs) == 0;
}

/* Whether path, or the nearest directory above it that exists, is on overlayfs. */
static bool path_on_overlayfs(const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        struct statfs sfs;

        while (p && !isempty(p)) {
                if (statfs(p, &sfs) == 0)
                        return sfs.f_type == OVERLAYFS_SUPER_MAGIC;
                if (errno != ENOENT)
                        return false;
                char *slash = strrchr(p, '/');
                if (!slash)
                        return false;
                *slash = '\0';
        }
        return false;
}

/* overlayfs refuses an upper directory on overlayfs. When ctrmgrd itself runs on an overlay root
 * (a test host, a system container) and nobody chose the place, the writable layers go below the
 * state directory instead, which is a tmpfs there: they do not survive a reboot, so say so. */
static int manager_pick_containers_dir(Manager *m)
{
        if (m->config.containers_dir || !path_on_overlayfs(IMAGE_DEFAULT_CONTAINERS_DIR))
                return 0;
        m->config.containers_dir = path_join(m->config.state_dir, ".containers");
        if (!m->config.containers_dir)
                return -ENOMEM;
        log_warning("%s is on overlayfs, which cannot hold the containers' writable layers; using %s "
                    "instead (not kept across reboots; --containers-dir chooses another place).",
                    IMAGE_DEFAULT_CONTAINERS_DIR, m->config.containers_dir);
        return 0;
}

/* A container whose unit is gone (its file removed while no daemon ran) would run on with nobody
 * to stop it: it is taken in as a removed unit, found again and stopped, as daemon-reload does with
 * a unit removed under a running container. */
static void manager_stop_orphans(Manager *m)
{
        _cleanup_closedir_ DIR *d = opendir(m->config.state_dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_error_ Error e = ERROR_INIT;
                _cleanup_free_ char *rel = NULL;
                Unit *u = NULL;
                Service *s;

                if (de->d_name[0] == '.' || manager_find_service(m, de->d_name))
                        continue;
                rel = path_join(de->d_name, "state.json");
                if (!rel || faccessat(dirfd(d), rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (unit_loader_load(m->loader, de->d_name, &u, &e) < 0 || service_new(m, u, &s) < 0) {
                        log_warning("Found the state of a container named \"%s\" in %s, but cannot take it "
                                    "in: %s",
                                    de->d_name, m->config.state_dir,
                                    error_isset(&e) ? error_message(&e) : "no memory");
                        unit_free(u);
                        continue;
                }
                s->removed = true;
                if (manager_add_service(m, s) < 0) {
                        service_free(s);
                        continue;
                }
                if (service_recover(s) > 0) {
                        log_service_warning(
                                s, "Unit %s no longer exists (%s) but its container runs: stopping it.",
                                s->name, unit_load_state_to_string(s->unit->load_state));
                        (void)service_stop(s, NULL);
                }
                manager_schedule_gc(m);
        }
}

/* Boot units are started once per boot: <state_dir>/boot-id (on /run, a tmpfs) names the boot in
 * which a daemon started them. A daemon restarted within that boot (upgrade, crash, `systemctl
 * restart ctrmgrd`) finds the running containers again and leaves stopped units stopped, as
 * systemd leaves its units alone when it re-executes. Returns 1 when they are due, with the boot
 * id to record once they are. */
static int boot_units_due(Manager *m, char **ret_boot_id)
{
        _cleanup_free_ char *boot_id = NULL, *recorded = NULL,
                            *p = path_join(m->config.state_dir, "boot-id");
        int r;

        if (!p)
                return -ENOMEM;
        r = read_one_line_file("/proc/sys/kernel/random/boot_id", &boot_id);
        if (r < 0)
                return r;
        if (read_one_line_file(p, &recorded) >= 0 && streq(strstrip(recorded), strstrip(boot_id)))
                return 0;
        *ret_boot_id = TAKE_PTR(boot_id);
        return 1;
}

static void boot_units_record(Manager *m, const char *boot_id)
{
        _cleanup_close_ int fd = open(m->config.state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *text = strjoin(boot_id, "\n");
        int r = fd < 0  ? -errno
                : !text ? -ENOMEM
                        : write_file_atomic_at(fd, "boot-id", text, strlen(text), 0644);
        if (r < 0)
                log_warning("Failed to record in %s/boot-id that the boot units were started: %s",
                            m->config.state_dir, strerror(-r));
}

int manager_startup(Manager *m)
{
        _cleanup_(unit_set_freep) UnitSet *set = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        int r;

        /* SIGCHLD stays at its default: container inits are reaped through their pidfds, and
         * image/ and runtime/ reap their helpers by PID. */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "sigprocmask: %m");
        (void)signal(SIGPIPE, SIG_IGN);
        if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_signal, m)) < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");

        /* Container inits are forked by starters (starter.c), which exit at once: as a child
         * subreaper the daemon becomes their parent, and reaps them with their exit status. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return log_error_errno(-errno, "PR_SET_CHILD_SUBREAPER: %m");
        /* Now, while the daemon is small: the zygote is a copy of it. */
        r = manager_zygote_start(m);
        if (r < 0)
                log_warning("Cannot make the zygote (%s): starters are forked from the daemon.",
                            strerror(-r));

        r = mkdir_p(m->config.state_dir, 0711);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", m->config.state_dir);
        r = mkdir_p(m->oci_root, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", m->oci_root);

        r = manager_pick_containers_dir(m);
        if (r < 0)
                return log_error_errno(r, "Failed to choose the containers directory: %m");

        switch (m->config.cgroup_mode) {
        case CGROUP_MODE_SYSTEMD:
                m->use_systemd = true;
                break;
        case CGROUP_MODE_CGROUPFS:
                m->use_systemd = false;
                break;
        default:
                m->use_systemd = systemd_available();
                if (!m->use_systemd)
                        log_notice("systemd is not running: using cgroupfs under %s%s instead of scopes.",
                                   m->cgroup_root, m->config.cgroup_parent ?: "/" CTRMGR_SLICE);
        }

        r = manager_load_units(m, &set, &e);
        if (r < 0)
                return log_error_errno(r, "%s", error_message(&e));
        (void)manager_rebuild_graph(m, set);
        r = manager_add_units(m, set, false);
        if (r < 0)
                return log_error_errno(r, "Failed to add units: %m");

        for (size_t i = 0; i < m->n_services; i++)
                (void)service_recover(m->services[i]);
        manager_stop_orphans(m);

        r = manager_bus_setup(m);
        if (r < 0)
                return r;
        if (m->config.cgroup_mode == CGROUP_MODE_AUTO && m->use_systemd) {
                /* PID 1 is systemd, but scopes are made over the bus: a bus without systemd on
                 * it (a system container with its own dbus-daemon) means cgroupfs as well. */
                int has = 0;
                sd_bus_message *reply = NULL;
                if (sd_bus_call_method(m->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s",
                                       "org.freedesktop.systemd1") < 0 ||
                    sd_bus_message_read(reply, "b", &has) < 0 || !has) {
                        m->use_systemd = false;
                        log_notice("systemd is not on the system bus: using cgroupfs under %s%s instead of "
                                   "scopes.",
                                   m->cgroup_root, m->config.cgroup_parent ?: "/" CTRMGR_SLICE);
                }
                sd_bus_message_unref(reply);
        }

        /* Containers that ended while no daemon ran: their exits, now that PropertiesChanged
         * and systemd units (for BindsTo=/Requires= of dependents) can be reached. */
        for (size_t i = 0; i < m->n_services; i++)
                service_recover_finish(m->services[i]);
        failed_state_prune(m);

        _cleanup_free_ char *boot_id = NULL;
        r = m->config.start_boot_units ? boot_units_due(m, &boot_id) : 0;
        if (r < 0)
                log_warning(
                        "Cannot tell whether this boot's units were started already (%s): starting them.",
                        strerror(-r));
        else if (r == 0 && m->config.start_boot_units)
                log_info("Boot units were started in this boot already: not starting them again "
                         "(running containers were found again).");
        if (r != 0) {
                _cleanup_strv_free_ char **boot = NULL;
                if (boot_id)
                        boot_units_record(m, boot_id);
                for (size_t i = 0; i < m->n_services; i++) {
                        Service *s = m->services[i];
                        if (!service_starts_at_boot(s) || s->active_state == ACTIVE_STATE_ACTIVE) {
                                if (service_enabled(s) && s->rs.admin_stopped &&
                                    s->active_state != ACTIVE_STATE_ACTIVE)
                                        log_service_info(
                                                s,
                                                "Not starting %s at boot: an administrator stopped it "
                                                "(Restart=unless-stopped).",
                                                s->name);
                                continue;
                        }
                        if (s->unit->load_state != UNIT_LOAD_LOADED) {
                                /* Left out, so that it cannot fail the others' transaction. */
                                log_service_warning(
                                        s, "Not starting %s at boot: it is not loaded properly (%s).",
                                        s->name, unit_load_state_to_string(s->unit->load_state));
                                continue;
                        }
                        if (strv_extend(&boot, s->name) < 0)
                                return log_error_errno(-ENOMEM, "Failed to list the boot units: %m");
                }
                if (!strv_isempty(boot)) {
                        _cleanup_error_ Error be = ERROR_INIT;
                        log_info("Starting %zu boot units.", strv_length(boot));
                        /* One transaction for all of them: ordered by After=/Before=, READY=1
                         * once it is over (jobs.c). */
                        if (manager_enqueue(m, true, boot, NULL, NULL, true, &be) >= 0)
                                return 0;
                        /* The set as a whole is refused (a cycle of units that are all needed):
                         * start each on its own, so that one bad unit does not hold up the rest. */
                        log_error("Starting the boot units together failed: %s; starting them one by one.",
                                  error_message(&be));
                        STRV_FOREACH (n, boot) {
                                char *one[] = {*n, NULL};
                                _cleanup_error_ Error oe = ERROR_INIT;
                                if (manager_enqueue(m, true, one, NULL, NULL, false, &oe) < 0)
                                        log_error("Failed to start %s: %s", *n, error_message(&oe));
                        }
                }
        }

        (void)sd_notifyf(false, "READY=1\nSTATUS=%zu units loaded", m->n_services);
        return 0;
}

int manager_run(Manager *m)
{
        return sd_event_loop(m->event);
}
