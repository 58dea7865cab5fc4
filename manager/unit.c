/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Service object: one per unit. Start (image → rootfs → spec → runtime, in-process), stop
 * (StopSignal, then SIGKILL after StopTimeout), supervision through the init's pidfd, and the
 * systemd-like state machine. All state changes go through service_set_state().
 */
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>

#include "config.h"
#include "image/image.h"
#include "manager/manager.h"
#include "manager/policy/policy.h"
#include "runtime/runtime.h"
#include "units/unit.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *const active_state_table[_ACTIVE_STATE_MAX] = {
        [ACTIVE_STATE_INACTIVE] = "inactive", [ACTIVE_STATE_ACTIVATING] = "activating",
        [ACTIVE_STATE_ACTIVE] = "active",     [ACTIVE_STATE_DEACTIVATING] = "deactivating",
        [ACTIVE_STATE_FAILED] = "failed",
};

static const char *const sub_state_table[_SUB_STATE_MAX] = {
        [SUB_STATE_DEAD] = "dead",
        [SUB_STATE_START] = "start",
        [SUB_STATE_RUNNING] = "running",
        [SUB_STATE_STOP_SIGTERM] = "stop-sigterm",
        [SUB_STATE_STOP_SIGKILL] = "stop-sigkill",
        [SUB_STATE_FAILED] = "failed",
        [SUB_STATE_AUTO_RESTART] = "auto-restart",
};

static const char *const service_result_table[_SERVICE_RESULT_MAX] = {
        [SERVICE_SUCCESS] = "success",
        [SERVICE_FAILURE_RESOURCES] = "resources",
        [SERVICE_FAILURE_EXIT_CODE] = "exit-code",
        [SERVICE_FAILURE_SIGNAL] = "signal",
        [SERVICE_FAILURE_CORE_DUMP] = "core-dump",
        [SERVICE_FAILURE_TIMEOUT] = "timeout",
        [SERVICE_FAILURE_WATCHDOG] = "watchdog",
        [SERVICE_FAILURE_OOM_KILL] = "oom-kill",
        [SERVICE_FAILURE_START_LIMIT_HIT] = "start-limit-hit",
};

const char *active_state_to_string(ActiveState s)
{
        return s >= 0 && s < _ACTIVE_STATE_MAX ? active_state_table[s] : NULL;
}

const char *sub_state_to_string(SubState s)
{
        return s >= 0 && s < _SUB_STATE_MAX ? sub_state_table[s] : NULL;
}

const char *service_result_to_string(ServiceResult r)
{
        return r >= 0 && r < _SERVICE_RESULT_MAX ? service_result_table[r] : NULL;
}

/* ---------------------------------------------------------------- object */

int service_new(Manager *m, Unit *unit, Service **ret)
{
        Service *s = calloc(1, sizeof(Service));
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->pidfd = -EBADF;
        s->name = strdup(unit->name);
        s->scope = strjoin("ctrmgr-", unit->name, ".scope");
        if (!s->name || !s->scope) {
                service_free(s);
                return -ENOMEM;
        }
        r = sd_bus_path_encode(CTRMGR_UNIT_PREFIX, unit->name, &s->object_path);
        if (r < 0) {
                service_free(s);
                return r;
        }
        s->unit = unit;
        s->notify_fd = -EBADF;
        s->starter_pidfd = s->starter_fd = -EBADF;
        s->health_exec = s->reload_exec = (ServiceExec){.service = s, .pidfd = -EBADF, .out_fd = -EBADF};
        s->oom_kills_start = s->oom_kills_seen = UINT64_MAX;
        s->stop_signal = SIGTERM;
        s->stop_timeout_usec = 10 * USEC_PER_SEC;
        *ret = s;
        return 0;
}

static void waiters_free(sd_bus_message ***l, size_t *n)
{
        for (size_t i = 0; i < *n; i++)
                sd_bus_message_unref((*l)[i]);
        *l = mfree(*l);
        *n = 0;
}

Service *service_free(Service *s)
{
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->pid_source);
        sd_event_source_disable_unref(s->timer_source);
        sd_event_source_disable_unref(s->ready_timer);
        sd_event_source_disable_unref(s->notify_source);
        sd_event_source_disable_unref(s->oom_source);
        sd_event_source_disable_unref(s->starter_source);
        sd_event_source_disable_unref(s->starter_report_source);
        free(s->starter_buf);
        safe_close(s->starter_pidfd);
        safe_close(s->starter_fd);
        free(s->spawn_digest);
        /* The container outlives the daemon; a check or reload command under way does not. */
        service_exec_cancel(&s->health_exec);
        service_exec_cancel(&s->reload_exec);
        sd_bus_message_unref(s->reload_waiter);
        readiness_done(&s->rd);
        health_done(&s->health);
        safe_close(s->notify_fd);
        safe_close(s->pidfd);
        waiters_free(&s->start_waiters, &s->n_start_waiters);
        waiters_free(&s->stop_waiters, &s->n_stop_waiters);
        unit_free(s->unit);
        unit_free(s->pending_unit);
        free(s->name);
        free(s->object_path);
        free(s->scope);
        free(s->image_digest);
        free(s->cgroup_path);
        free(s);
        return NULL;
}

bool service_enabled(const Service *s)
{
        return s->unit && s->unit->enabled;
}

static char *admin_stop_path(const Service *s)
{
        return path_join(s->manager->config.lib_dir, "stopped", s->name);
}

void service_record_admin_stop(Service *s)
{
        restart_state_manual_stop(&s->rs);
        if (s->admin_stop_recorded)
                return;
        _cleanup_free_ char *p = admin_stop_path(s), *dir = NULL;
        if (!p || path_dirname(p, &dir) < 0)
                return;
        int r = mkdir_p(dir, 0755);
        if (r >= 0) {
                _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 ? -errno : write_file_atomic_at(fd, s->name, "", 0, 0644);
        }
        if (r < 0)
                log_service_warning(s, "Recording the stop of %s in %s failed: %s", s->name, dir,
                                    strerror(-r));
        else
                s->admin_stop_recorded = true;
}

void service_load_admin_stop(Service *s)
{
        _cleanup_free_ char *p = admin_stop_path(s);
        if (p && access(p, F_OK) == 0) {
                s->admin_stop_recorded = true;
                restart_state_manual_stop(&s->rs);
        }
}

static void service_forget_admin_stop(Service *s)
{
        if (!s->admin_stop_recorded)
                return;
        _cleanup_free_ char *p = admin_stop_path(s);
        if (p && unlink(p) < 0 && errno != ENOENT)
                log_service_warning(s, "Removing %s failed: %m", p);
        s->admin_stop_recorded = false;
}

bool service_starts_at_boot(const Service *s)
{
        RestartConfig rc;
        restart_config_from_unit(&rc, &s->unit->config);
        return restart_should_start_on_boot(&rc, &s->rs, service_enabled(s));
}

bool service_need_daemon_reload(const Service *s)
{
        return s->pending_unit != NULL;
}

const char *service_load_state(const Service *s)
{
        return unit_load_state_to_string(s->unit->load_state);
}

const char *service_description(const Service *s)
{
        return s->unit->config.description;
}

const char *service_image(const Service *s)
{
        return s->unit->config.image ?: s->unit->config.rootfs;
}

/* ---------------------------------------------------------------- logging about a unit */

int log_service_internal(const Service *s, int level, int r, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int saved = errno;

        if (level > log_get_max_level())
                return r < 0 ? r : (level <= LOG_LEVEL_ERR ? -EIO : 0);

        if (r != 0)
                errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        /* %m is glibc's: it expands errno, set above. */
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        errno = saved;
        if (!msg)
                return -ENOMEM;

        if (s->manager->use_journal)
                sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, "OBJECT_SYSTEMD_UNIT=%s", s->scope,
                                "CTRMGR_UNIT=%s", s->name, "SYSLOG_IDENTIFIER=ctrmgrd", NULL);
        else {
                fprintf(stderr, "%s: %s\n", s->name, msg);
                /* Without journald the unit's file holds both the container's output and the
                 * daemon's messages about it, like `journalctl -u` would. */
                int fd = service_open_log_file(s);
                if (fd >= 0) {
                        char ts[64];
                        time_t t = time(NULL);
                        struct tm tm;
                        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
                        dprintf(fd, "%s ctrmgrd: %s\n", ts, msg);
                        safe_close(fd);
                }
        }
        if (r < 0)
                return r;
        return level <= LOG_LEVEL_ERR ? -EIO : 0;
}

/* ---------------------------------------------------------------- state machine */

void service_set_state(Service *s, ActiveState a, SubState sub)
{
        ActiveState old = s->active_state;
        uint64_t now = now_usec(CLOCK_REALTIME);

        if (old == a && s->sub_state == sub)
                return;

        bool was_active = old == ACTIVE_STATE_ACTIVE || old == ACTIVE_STATE_ACTIVATING ||
                          old == ACTIVE_STATE_DEACTIVATING;
        bool is_active =
                a == ACTIVE_STATE_ACTIVE || a == ACTIVE_STATE_ACTIVATING || a == ACTIVE_STATE_DEACTIVATING;

        if (old != ACTIVE_STATE_ACTIVE && a == ACTIVE_STATE_ACTIVE)
                s->active_enter_ts = now;
        if (old == ACTIVE_STATE_ACTIVE && a != ACTIVE_STATE_ACTIVE)
                s->active_exit_ts = now;
        if (!was_active && is_active)
                s->inactive_exit_ts = now;
        if (was_active && !is_active)
                s->inactive_enter_ts = now;

        s->active_state = a;
        s->sub_state = sub;
        if (a == ACTIVE_STATE_FAILED) {
                int r = failed_state_save(s);
                if (r < 0)
                        log_service_warning(s, "Recording the failure of %s failed: %s", s->name,
                                            strerror(-r));
        } else if (old == ACTIVE_STATE_FAILED)
                (void)failed_state_remove(s);
        /* A definition changed on disk while it ran takes effect now that it is down, so that
         * the next start, by hand or through the job engine, sees it. A restart under way applies
         * it itself. */
        if ((a == ACTIVE_STATE_INACTIVE || a == ACTIVE_STATE_FAILED) && s->pending_unit &&
            !s->restart_after_stop) {
                unit_free(s->unit);
                s->unit = TAKE_PTR(s->pending_unit);
        }
        service_send_changed(s);

        /* Hooks for waiting callers; restart policy and dependencies attach here (issue 6). */
        if (a == ACTIVE_STATE_ACTIVE)
                service_reply_waiters(s, true, NULL);
        if (a == ACTIVE_STATE_INACTIVE || a == ACTIVE_STATE_FAILED) {
                service_reply_waiters(s, false, NULL);
                /* A start that ends here (it died while activating, say) is over too; a restart
                 * passes through inactive on its way and answers later. */
                if (!s->restart_after_stop)
                        service_reply_waiters(s, true, NULL);
        }
        /* Jobs waiting for this unit (jobs.c) may be over now. */
        if (s->manager->n_jobs > 0)
                manager_dispatch_jobs(s->manager);
}

/* ---------------------------------------------------------------- cgroup statistics */

static uint64_t cgroup_read_u64(const Service *s, const char *file, const char *key)
{
        _cleanup_free_ char *p = NULL, *data = NULL;
        uint64_t v;

        if (!s->cgroup_path || s->main_pid <= 0)
                return UINT64_MAX;
        p = path_join(s->cgroup_path, file);
        if (!p || read_full_file_at(AT_FDCWD, p, 64 * 1024, &data, NULL) < 0)
                return UINT64_MAX;
        if (!key) {
                strstrip(data);
                return safe_atou64(data, &v) < 0 ? UINT64_MAX : v;
        }
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *rest = startswith(line, key);
                if (rest && *rest == ' ' && safe_atou64(rest + 1, &v) >= 0)
                        return v;
        }
        return UINT64_MAX;
}

uint64_t service_memory_current(const Service *s)
{
        return cgroup_read_u64(s, "memory.current", NULL);
}

uint64_t service_cpu_usage_nsec(const Service *s)
{
        uint64_t v = cgroup_read_u64(s, "cpu.stat", "usage_usec");
        return v == UINT64_MAX ? v : v * NSEC_PER_USEC;
}

static uint64_t count_threads(int dirfd, unsigned depth)
{
        uint64_t n = 0;
        _cleanup_free_ char *data = NULL;
        int fd;

        if (read_full_file_at(dirfd, "cgroup.threads", 1024 * 1024, &data, NULL) >= 0)
                for (char *p = data; *p; p++)
                        if (*p == '\n')
                                n++;
        if (depth > 16)
                return n;
        fd = dup(dirfd);
        if (fd < 0)
                return n;
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return n;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        int c = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (c >= 0) {
                                n += count_threads(c, depth + 1);
                                safe_close(c);
                        }
                }
        closedir(d);
        return n;
}

uint64_t service_tasks_current(const Service *s)
{
        uint64_t v = cgroup_read_u64(s, "pids.current", NULL);
        if (v != UINT64_MAX || !s->cgroup_path || s->main_pid <= 0)
                return v;
        _cleanup_close_ int fd = open(s->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return UINT64_MAX;
        return count_threads(fd, 0);
}

/* The cgroup2 directory of pid, from /proc/PID/cgroup's "0::" line. */
static int pid_cgroup_path(Manager *m, pid_t pid, char **ret)
{
        char p[64];
        _cleanup_free_ char *data = NULL;
        int r;

        snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
        r = read_full_file_at(AT_FDCWD, p, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *rest = startswith(line, "0::");
                if (!rest)
                        continue;
                char *j = path_join(m->cgroup_root, rest);
                if (!j)
                        return -ENOMEM;
                *ret = path_simplify(j);
                return 0;
        }
        return -ENOENT;
}

/* ---------------------------------------------------------------- spec */

static int capability_mask_from_spec(json_object *spec, uint64_t *ret)
{
        json_object *process, *caps, *bounding;
        uint64_t mask = 0;

        if (!json_object_object_get_ex(spec, "process", &process) ||
            !json_object_object_get_ex(process, "capabilities", &caps) ||
            !json_object_object_get_ex(caps, "bounding", &bounding))
                return -EINVAL;
        for (size_t i = 0; i < json_object_array_length(bounding); i++) {
                int c = capability_from_name(json_object_get_string(json_object_array_get_idx(bounding, i)));
                if (c >= 0 && c < 64)
                        mask |= UINT64_C(1) << c;
        }
        *ret = mask;
        return 0;
}

static int strv_from_caps_mask(uint64_t mask, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        for (int i = 0; i < 64; i++)
                if (mask & (UINT64_C(1) << i)) {
                        const char *n = capability_to_name(i);
                        if (n && strv_extend(&l, n) < 0)
                                return -ENOMEM;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

static SpecNetwork spec_network(UnitNetwork n)
{
        switch (n) {
        case UNIT_NETWORK_HOST:
                return SPEC_NETWORK_HOST;
        case UNIT_NETWORK_NONE:
                return SPEC_NETWORK_NONE;
        default:
                return SPEC_NETWORK_PRIVATE;
        }
}

static const char *rlimit_name(int resource)
{
        static const char *const names[] = {
                [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
                [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
                [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
                [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
                [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
                [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
                [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
                [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
        };
        return resource >= 0 && (size_t)resource < ELEMENTSOF(names) ? names[resource] : NULL;
}

/* The host's physical memory in bytes (MemTotal), UINT64_MAX if unknown. */
static uint64_t host_memory_bytes(void)
{
        _cleanup_free_ char *data = NULL;
        if (read_full_file_at(AT_FDCWD, "/proc/meminfo", 64 * 1024, &data, NULL) < 0)
                return UINT64_MAX;
        const char *p = strstr(data, "MemTotal:");
        unsigned long long kb;
        if (!p || sscanf(p, "MemTotal: %llu kB", &kb) != 1)
                return UINT64_MAX;
        return (uint64_t)kb * 1024;
}

/* The most tasks the host allows, as systemd computes it for TasksMax=N%: the smaller of
 * kernel.pid_max (less one) and kernel.threads-max. */
static uint64_t host_tasks_max(void)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        uint64_t pid_max = UINT64_MAX, threads_max = UINT64_MAX;
        if (read_one_line_file("/proc/sys/kernel/pid_max", &a) >= 0 &&
            safe_atou64(strstrip(a), &pid_max) >= 0 && pid_max > 0)
                pid_max--;
        if (read_one_line_file("/proc/sys/kernel/threads-max", &b) >= 0)
                (void)safe_atou64(strstrip(b), &threads_max);
        return MIN(pid_max, threads_max);
}

/* A resource value; a percentage (MemoryMax=50%, TasksMax=10%) is taken of `total()`, as systemd
 * takes it. UINT64_MAX: not set (or the total is unknown). */
static uint64_t resource_value(const UnitResource *r, uint64_t (*total)(void))
{
        if (!r->set)
                return UINT64_MAX;
        if (r->scale == 0)
                return r->value;
        uint64_t t = total();
        if (t == UINT64_MAX)
                return UINT64_MAX;
        return (uint64_t)((unsigned __int128)t * r->scale / UINT32_MAX);
}

/* Below <lib_dir>/volumes: the anonymous volumes of running containers, by unit. */
#define ANONYMOUS_VOLUMES_DIR ".anonymous"

static void spec_mounts_free(SpecMount *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].type);
                free(l[i].source);
                free(l[i].destination);
                strv_free(l[i].options);
        }
        free(l);
}

/* Podman's copy-up: an empty volume gets what the image has at its mount point. */
static int volume_copy_up(int rootfs_fd, const char *destination, const char *dir)
{
        _cleanup_close_ int dst = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return -errno;
        int dup = fcntl(dst, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dup);
        if (!d) {
                int r = -errno;
                safe_close(dup);
                return r;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return 0; /* not empty: the volume's own content stays */
        /* The image's directory, resolved inside the root file system (its symlinks cannot lead
         * out); none there is nothing to copy. */
        _cleanup_close_ int src =
                openat_resolve(rootfs_fd, destination + 1, O_RDONLY | O_DIRECTORY, 0, CTR_RESOLVE_IN_ROOT);
        if (src < 0)
                return src == -ENOENT || src == -ENOTDIR ? 0 : src;
        return copy_tree_at(src, dst);
}

static int mounts_from_unit(Manager *m, const Unit *u, int rootfs_fd, SpecMount **ret, size_t *ret_n,
                            Error *reterr)
{
        const UnitConfig *c = &u->config;
        SpecMount *l = calloc(c->n_mounts + 1, sizeof(SpecMount));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_mounts; i++) {
                const UnitMount *um = &c->mounts[i];
                SpecMount *sm = &l[n];
                _cleanup_strv_free_ char **opts = NULL;

                switch (um->type) {
                case UNIT_MOUNT_TMPFS:
                        sm->type = strdup("tmpfs");
                        sm->source = strdup("tmpfs");
                        if (strv_extend(&opts, "nosuid") < 0 || strv_extend(&opts, "nodev") < 0)
                                goto oom;
                        if (um->tmpfs_options) {
                                _cleanup_strv_free_ char **extra = strv_split(um->tmpfs_options, ",");
                                if (strv_extend_strv(&opts, extra) < 0)
                                        goto oom;
                        }
                        break;
                case UNIT_MOUNT_BIND:
                        sm->type = strdup("bind");
                        sm->source = strdup(um->source);
                        if (strv_extend(&opts, um->recursive ? "rbind" : "bind") < 0)
                                goto oom;
                        break;
                case UNIT_MOUNT_VOLUME:
                case UNIT_MOUNT_ANONYMOUS: {
                        /* Named volumes live under <lib_dir>/volumes/NAME (made on demand) and
                         * outlive the container; an anonymous one (Volume=/dst) is a fresh
                         * directory per container run, gone with it, as podman run --rm does. */
                        char idx[32];
                        snprintf(idx, sizeof idx, "%zu", i);
                        _cleanup_free_ char *dir =
                                um->type == UNIT_MOUNT_VOLUME
                                        ? path_join(m->config.lib_dir, "volumes", um->source)
                                        : path_join(m->config.lib_dir, "volumes", ANONYMOUS_VOLUMES_DIR,
                                                    u->name, idx);
                        if (!dir)
                                goto oom;
                        if (!m->read_only_store) { /* `ctrmgr spec` shows, creates nothing */
                                int r = um->type == UNIT_MOUNT_ANONYMOUS ? rm_rf_at(AT_FDCWD, dir) : 0;
                                if (r >= 0)
                                        r = mkdir_p(dir, 0755);
                                if (r >= 0 && um->copy_up && rootfs_fd >= 0)
                                        r = volume_copy_up(rootfs_fd, um->destination, dir);
                                if (r < 0) {
                                        spec_mounts_free(l, n + 1);
                                        return error_set(reterr, r, "%s:%u: creating the volume %s",
                                                         strna(um->file), um->line, dir);
                                }
                        }
                        sm->type = strdup("bind");
                        sm->source = TAKE_PTR(dir);
                        if (strv_extend(&opts, "rbind") < 0)
                                goto oom;
                        break;
                }
                default:
                        spec_mounts_free(l, n + 1);
                        return error_set_msg(reterr, -EINVAL, "%s:%u: unknown mount type", strna(um->file),
                                             um->line);
                }
                if ((um->read_only && strv_extend(&opts, "ro") < 0) ||
                    (um->nosuid && strv_extend(&opts, "nosuid") < 0) ||
                    (um->nodev && strv_extend(&opts, "nodev") < 0) ||
                    (um->noexec && strv_extend(&opts, "noexec") < 0))
                        goto oom;
                if (um->propagation != UNIT_PROPAGATION_DEFAULT &&
                    strv_extend(&opts, unit_propagation_to_string(um->propagation)) < 0)
                        goto oom;
                sm->destination = strdup(um->destination);
                sm->options = TAKE_PTR(opts);
                n++;
                if (!sm->type || !sm->source || !sm->destination)
                        goto oom;
        }
        *ret = l;
        *ret_n = n;
        return 0;
oom:
        spec_mounts_free(l, n + 1);
        return -ENOMEM;
}

static void spec_rlimits_free(SpecRlimit *l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(l[i].type);
        free(l);
}

static void json_putp(json_object **j)
{
        if (*j)
                json_object_put(*j);
}

int service_generate_spec(Manager *m, const Unit *u, const char *rootfs, int rootfs_fd, json_object **ret,
                          char **ret_digest, Error *reterr)
{
        const UnitConfig *c = &u->config;
        SpecInput in = SPEC_INPUT_INIT;
        _cleanup_image_ Image *img = NULL;
        _cleanup_strv_free_ char **env = NULL, **add = NULL, **drop = NULL, **ann = NULL, **unmask = NULL;
        _cleanup_(json_putp) json_object *spec = NULL, *seccomp = NULL;
        _cleanup_free_ char *cgpath = NULL, *digest = NULL;
        SpecMount *mounts = NULL;
        size_t n_mounts = 0;
        SpecRlimit *rlimits = NULL;
        int r;

        if (c->image) {
                ImageStore *store;
                r = manager_open_store(m, &store, reterr);
                if (r < 0)
                        return r;
                r = image_resolve(store, c->image, &img, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "Image=%s", c->image);
                digest = strdup(img->manifest_digest);
                if (!digest)
                        return -ENOMEM;
                in.image_entrypoint = img->config.entrypoint;
                in.image_cmd = img->config.cmd;
                in.image_env = img->config.env;
                in.image_working_dir = img->config.working_dir;
                in.image_user = img->config.user;
                in.image_stop_signal = img->config.stop_signal;
        }

        in.name = u->name;
        in.rootfs = rootfs;
        in.rootfs_fd = rootfs_fd;
        /* systemd: the scope ctrmgr-NAME.scope in ctrmgr.slice; cgroupfs: the same tree by hand. */
        if (m->use_systemd)
                cgpath = strjoin(CTRMGR_SLICE, ":ctrmgr:", u->name);
        else
                cgpath = strjoin(m->config.cgroup_parent ?: "/" CTRMGR_SLICE, "/ctrmgr-", u->name, ".scope");
        if (!cgpath)
                return -ENOMEM;
        in.cgroups_path = cgpath;

        if (c->entrypoint_set) {
                in.entrypoint = c->entrypoint;
                if (!c->entrypoint) {
                        /* Entrypoint= cleared: the image's entrypoint goes, its Cmd stays unless Exec=. */
                        in.image_entrypoint = NULL;
                }
        }
        in.exec = c->exec;

        r = strv_extend_strv(&env, c->environment);
        if (r < 0)
                return r;
        STRV_FOREACH (f, c->environment_files) {
                r = unit_environment_file_read(*f, &env, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "EnvironmentFile=%s", *f);
        }
        /* Environment= wins over EnvironmentFile= as in systemd: apply it again on top. */
        STRV_FOREACH (e, c->environment)
                if ((r = strv_extend(&env, *e)) < 0)
                        return r;
        in.environment = env;
        in.working_dir = c->working_dir;
        in.user = c->user;
        in.group = c->group;
        in.hostname = c->hostname;
        in.network = spec_network(c->network);
        in.read_only = c->read_only;
        in.read_only_tmpfs = c->read_only_tmpfs;
        in.no_new_privileges = c->no_new_privileges;

        if (c->add_all_capabilities) {
                if ((r = strv_extend(&add, "ALL")) < 0)
                        return r;
        } else if ((r = strv_from_caps_mask(c->add_capabilities, &add)) < 0)
                return r;
        if (c->drop_all_capabilities) {
                if ((r = strv_extend(&drop, "ALL")) < 0)
                        return r;
        } else if ((r = strv_from_caps_mask(c->drop_capabilities, &drop)) < 0)
                return r;
        in.add_capabilities = add;
        in.drop_capabilities = drop;
        in.seccomp_unconfined = c->seccomp_unconfined;
        in.mask = c->mask;
        r = strv_extend_strv(&unmask, c->unmask);
        if (r < 0)
                return r;
        if (c->unmask_all && (r = strv_extend(&unmask, "ALL")) < 0)
                return r;
        in.unmask = unmask;
        in.sysctl = c->sysctl;

        r = mounts_from_unit(m, u, rootfs_fd, &mounts, &n_mounts, reterr);
        if (r < 0)
                return r;
        if (c->notify == UNIT_NOTIFY_TRUE) {
                /* sd_notify from the container: its own socket's directory (service-ready.c). */
                SpecMount *nl = realloc(mounts, (n_mounts + 1) * sizeof(SpecMount));
                if (!nl) {
                        r = -ENOMEM;
                        goto finish;
                }
                mounts = nl;
                mounts[n_mounts] = (SpecMount){
                        .type = strdup("bind"),
                        .source = manager_notify_dir(m, u->name),
                        .destination = strdup(CTRMGR_NOTIFY_DIR_IN_CONTAINER),
                        .options = strv_new("bind", "nosuid", "nodev", "noexec", NULL),
                };
                n_mounts++;
                if (!mounts[n_mounts - 1].type || !mounts[n_mounts - 1].source ||
                    !mounts[n_mounts - 1].destination || !mounts[n_mounts - 1].options ||
                    (r = strv_extend(&env, "NOTIFY_SOCKET=" CTRMGR_NOTIFY_SOCKET_IN_CONTAINER)) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                in.environment = env;
        }
        in.mounts = mounts;
        in.n_mounts = n_mounts;

        if (c->n_ulimits > 0) {
                rlimits = calloc(c->n_ulimits, sizeof(SpecRlimit));
                if (!rlimits) {
                        r = -ENOMEM;
                        goto finish;
                }
                for (size_t i = 0; i < c->n_ulimits; i++) {
                        const char *n = rlimit_name(c->ulimits[i].resource);
                        rlimits[i].type = n ? strdup(n) : NULL;
                        rlimits[i].soft = c->ulimits[i].soft;
                        rlimits[i].hard = c->ulimits[i].hard;
                        in.n_rlimits++;
                        if (!rlimits[i].type) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }
                in.rlimits = rlimits;
        }

        if (c->shm_size > 0)
                in.shm_size = c->shm_size;
        in.memory_max = resource_value(&c->memory_max, host_memory_bytes);
        if (c->memory > 0)
                in.memory_max = c->memory;
        in.memory_high = resource_value(&c->memory_high, host_memory_bytes);
        in.pids_max = resource_value(&c->tasks_max, host_tasks_max);
        if (c->pids_limit > 0)
                in.pids_max = (uint64_t)c->pids_limit;
        if (c->cpu_weight > 0)
                in.cpu_weight = c->cpu_weight;
        if (c->cpu_quota_per_sec_usec > 0)
                in.cpu_quota_per_sec_usec = c->cpu_quota_per_sec_usec;
        if (c->io_weight > 0)
                in.io_weight = c->io_weight;

        STRV_FOREACH (a, c->annotations)
                if ((r = strv_extend(&ann, *a)) < 0)
                        goto finish;
        STRV_FOREACH (l, c->labels)
                if ((r = strv_extendf(&ann, "org.ctrmgr.label.%s", *l)) < 0)
                        goto finish;
        if (digest && (r = strv_extendf(&ann, "org.ctrmgr.image.digest=%s", digest)) < 0)
                goto finish;
        if (c->image && (r = strv_extendf(&ann, "org.ctrmgr.image=%s", c->image)) < 0)
                goto finish;
        /* The scope (systemd driver) stops the way the unit does when systemd stops it, at the
         * host's shutdown: StopSignal=, StopTimeout=, and after the units it is ordered after. */
        if ((r = strv_extendf(&ann, "org.systemd.property.KillSignal=%s",
                              strna(signal_to_string(c->stop_signal > 0 ? c->stop_signal
                                                                        : spec_image_stop_signal(&in))))) <
            0)
                goto finish;
        if (c->stop_timeout_usec != USEC_INFINITY &&
            (r = strv_extendf(&ann, "org.systemd.property.TimeoutStopUSec=%" PRIu64, c->stop_timeout_usec)) <
                    0)
                goto finish;
        for (int k = 0; k < 2; k++) {
                _cleanup_strv_free_ char **scopes = NULL;
                STRV_FOREACH (d, k == 0 ? c->after : c->before) {
                        _cleanup_free_ char *n = NULL;
                        if (unit_name_is_systemd(*d))
                                r = strv_extend(&scopes, *d);
                        else if ((r = unit_name_normalize(*d, &n)) >= 0)
                                r = strv_extendf(&scopes, "ctrmgr-%s.scope", n);
                        if (r < 0)
                                goto finish;
                }
                _cleanup_free_ char *joined = scopes ? strv_join(scopes, " ") : NULL;
                if (joined && (r = strv_extendf(&ann, "org.systemd.property.%s=%s",
                                                k == 0 ? "After" : "Before", joined)) < 0)
                        goto finish;
        }
        in.annotations = ann;

        /* First pass without seccomp to learn the final capability set, which selects the
         * profile's capability-gated rules. */
        r = spec_generate(&in, &spec, reterr);
        if (r < 0)
                goto finish;

        if (!c->seccomp_unconfined) {
                uint64_t caps;
                SeccompProfileOptions opts = {};
                const char *profile = c->seccomp_profile ?: m->config.seccomp_profile;

                r = capability_mask_from_spec(spec, &caps);
                if (r < 0)
                        goto finish;
                opts.capabilities = caps;
                if (c->seccomp_profile) {
                        /* A unit's own profile may be in either format: OCI as given, or Docker's. */
                        r = seccomp_profile_load_docker(profile, &opts, &seccomp, reterr);
                } else if (m->default_seccomp && strv_isempty(add) && strv_isempty(drop))
                        seccomp = json_object_get(m->default_seccomp);
                else {
                        r = seccomp_profile_load_docker(profile, &opts, &seccomp, reterr);
                        if (r >= 0 && strv_isempty(add) && strv_isempty(drop) && !m->default_seccomp)
                                m->default_seccomp = json_object_get(seccomp);
                }
                if (r < 0) {
                        error_prefix(reterr, r, "seccomp profile %s", profile);
                        goto finish;
                }
                json_object *linux_;
                if (json_object_object_get_ex(spec, "linux", &linux_))
                        json_object_object_add(linux_, "seccomp", json_object_get(seccomp));
        }

        *ret = TAKE_PTR(spec);
        if (ret_digest)
                *ret_digest = TAKE_PTR(digest);
        r = 0;
finish:
        spec_mounts_free(mounts, n_mounts);
        spec_rlimits_free(rlimits, in.n_rlimits);
        return r;
}

/* ---------------------------------------------------------------- start */

char *service_bundle_dir(const Service *s)
{
        return path_join(s->manager->config.state_dir, s->name);
}

static void service_runtime_warn(void *userdata, const char *message)
{
        Service *s = userdata;
        log_service_warning(s, "%s", message);
}

static void service_cleanup_container(Service *s)
{
        Manager *m = s->manager;
        _cleanup_free_ char *bundle = service_bundle_dir(s);
        _cleanup_free_ char *rootfs = bundle ? path_join(bundle, "rootfs") : NULL;
        _cleanup_error_ Error e = ERROR_INIT;

        RuntimeOptions opts = RUNTIME_OPTIONS_INIT;
        opts.warn = service_runtime_warn; /* failing poststop hooks */
        opts.warn_userdata = s;
        if (runtime_delete_with_options(m->oci_root, s->name, true, &opts, &e) < 0 && e.code != -ENOENT)
                log_service_warning(s, "Removing the container state: %s", error_message(&e));
        error_done(&e);
        if (rootfs && image_rootfs_umount(rootfs, &e) < 0)
                log_service_warning(s, "Unmounting the root file system: %s", error_message(&e));
        s->rootfs_mounted = false;
        _cleanup_free_ char *anon = path_join(m->config.lib_dir, "volumes", ANONYMOUS_VOLUMES_DIR, s->name);
        if (anon && rm_rf_at(AT_FDCWD, anon) < 0)
                log_service_warning(s, "Removing the anonymous volumes in %s failed.", anon);
        (void)state_remove(s);
        s->cgroup_path = mfree(s->cgroup_path);
}

static int on_pidfd(sd_event_source *src, int fd, uint32_t revents, void *userdata);

static int service_spawn(Service *s, Error *reterr)
{
        Manager *m = s->manager;
        const UnitConfig *c = &s->unit->config;
        _cleanup_free_ char *bundle = NULL, *rootfs = NULL, *digest = NULL, *text = NULL;
        _cleanup_(json_putp) json_object *spec = NULL;
        _cleanup_close_ int rootfs_fd = -EBADF, devnull = -EBADF, logfd = -EBADF;
        int image_stop_signal = SIGTERM, r;

        if (streq(s->name, "units"))
                return error_set_msg(reterr, -EINVAL, "the name \"units\" is reserved (/run/ctrmgr/units)");

        bundle = service_bundle_dir(s);
        rootfs = bundle ? path_join(bundle, "rootfs") : NULL;
        if (!rootfs)
                return -ENOMEM;
        r = mkdir_p(rootfs, 0700);
        if (r < 0)
                return error_set(reterr, r, "creating %s", rootfs);

        /* A leftover of an earlier run (daemon killed mid-start) must not be in the way. */
        (void)runtime_delete(m->oci_root, s->name, true, NULL);

        if (c->image) {
                ImageStore *store;
                _cleanup_image_ Image *img = NULL;

                r = manager_open_store(m, &store, reterr);
                if (r < 0)
                        return r;
                r = image_resolve(store, c->image, &img, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "Image=%s", c->image);
                /* The image's StopSignal (STOPSIGNAL in a Dockerfile) unless the unit sets one. */
                image_stop_signal =
                        spec_image_stop_signal(&(SpecInput){.image_stop_signal = img->config.stop_signal});
                (void)image_rootfs_umount(rootfs, NULL);
                /* Always with a writable upper layer: the runtime creates mount points (such as
                 * /etc/resolv.conf) first and makes the root read-only afterwards when ReadOnly=
                 * asks for it (root.readonly in the spec), as podman does. */
                r = image_rootfs_mount(store, img, s->name, rootfs, 0, reterr);
                if (r < 0) {
                        /* overlayfs refuses an upper directory on overlayfs (a container's or a
                         * test host's root) with a bare EINVAL: name the cause. */
                        const char *cdir = image_store_containers_path(store);
                        struct statfs sfs;
                        if (r == -EINVAL && statfs(cdir, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC)
                                error_prefix(reterr, r,
                                             "%s is on overlayfs, which cannot hold a container's "
                                             "writable layer (put it on another file system, e.g. a tmpfs)",
                                             cdir);
                        return error_prefix(reterr, r, "mounting the root file system of %s", c->image);
                }
                s->rootfs_mounted = true;
        } else {
                free(rootfs);
                rootfs = strdup(c->rootfs);
                if (!rootfs)
                        return -ENOMEM;
        }

        rootfs_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfs_fd < 0)
                return error_set(reterr, -errno, "opening %s", rootfs);

        r = service_notify_open(s, reterr);
        if (r < 0)
                return r;
        r = service_generate_spec(m, s->unit, rootfs, rootfs_fd, &spec, &digest, reterr);
        if (r < 0)
                return r;

        text = strdup(json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!text)
                return -ENOMEM;
        _cleanup_close_ int bfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0)
                return error_set(reterr, -errno, "opening %s", bundle);
        r = write_file_atomic_at(bfd, "config.json", text, strlen(text), 0600);
        if (r < 0)
                return error_set(reterr, r, "writing %s/config.json", bundle);

        StartRequest req = {
                .bundle = bundle,
                .systemd_cgroup = m->use_systemd,
        };
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return error_set(reterr, -errno, "opening /dev/null");
        req.stdio[0] = devnull;
        if (m->use_journal) {
                req.stdio[1] = req.stdio[2] = devnull;
                req.journal_ident = s->name;
        } else {
                logfd = service_open_log_file(s);
                if (logfd < 0)
                        return error_set(reterr, logfd, "opening the log file in %s", m->config.log_dir);
                req.stdio[1] = req.stdio[2] = logfd;
        }

        /* The rest, runtime_create() and runtime_start() from config.json, runs in a starter;
         * its report comes to service_spawn_done(). */
        r = starter_run(s, &req, reterr);
        if (r < 0)
                return r;
        free(s->spawn_digest);
        s->spawn_digest = TAKE_PTR(digest);
        s->spawn_stop_signal = c->stop_signal > 0 ? c->stop_signal : image_stop_signal;
        return 0;
}

/* A start that failed after the state went to activating: clean up and say so. */
static void service_start_failed(Service *s, int r, Error *e)
{
        if (!error_isset(e))
                error_set(e, r, "starting");
        log_service_error_errno(s, r, "Failed to start %s: %s", s->name, error_message(e));
        service_ready_end(s);
        service_oom_unwatch(s);
        s->pid_source = sd_event_source_disable_unref(s->pid_source);
        s->pidfd = safe_close(s->pidfd);
        s->main_pid = 0;
        service_cleanup_container(s);
        s->result = SERVICE_FAILURE_RESOURCES;
        service_reply_waiters(s, true, e);
        service_set_state(s, ACTIVE_STATE_FAILED, SUB_STATE_FAILED);
}

/* The container runs: readiness decides when it is active. */
static void service_started(Service *s)
{
        s->result = SERVICE_SUCCESS;
        /* Notify=false: active now. Notify=true waits for READY=1, Notify=healthy for the first
         * passing health check (service-ready.c), within TimeoutStartSec=. */
        if (!service_ready_begin(s)) {
                (void)state_save(s);
                log_service_info(s,
                                 "%s: container running (PID %d); waiting for it to be ready (Notify=%s).",
                                 s->name, (int)s->main_pid, unit_notify_to_string(s->unit->config.notify));
                return;
        }
        service_set_state(s, ACTIVE_STATE_ACTIVE, SUB_STATE_RUNNING);
        (void)state_save(s);
        log_service_info(s, "Started %s (PID %d, image %s).", service_description(s) ?: s->name,
                         (int)s->main_pid, strna(s->image_digest));
}

static void service_stop_signal(Service *s);

void service_spawn_done(Service *s, int r, pid_t pid, const char *message)
{
        Manager *m = s->manager;
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_close_ int pidfd = -EBADF;

        /* The starter is gone, so the init (if any) is the daemon's child now. */
        if (pid > 0) {
                pidfd = pidfd_open_pid(pid);
                if (pidfd < 0 && r >= 0)
                        r = error_set(&e, pidfd, "pidfd_open(%d)", (int)pid);
        }
        if (r >= 0) {
                /* Watch first: an init that dies right away is then still reaped. */
                r = sd_event_add_io(m->event, &s->pid_source, pidfd, EPOLLIN, on_pidfd, s);
                if (r < 0)
                        error_set(&e, r, "watching the container's pidfd");
        } else if (!error_isset(&e))
                error_set_msg(&e, r, "%s", isempty(message) ? strerror(-r) : message);
        if (r < 0) {
                if (pidfd >= 0) {
                        /* Created but not started: it is ours to end and reap. */
                        siginfo_t si = {};
                        (void)pidfd_signal(pidfd, SIGKILL);
                        (void)waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
                }
                s->spawn_digest = mfree(s->spawn_digest);
                service_start_failed(s, r, &e);
                return;
        }
        s->pidfd = TAKE_FD(pidfd);
        s->main_pid = pid;
        s->pid_is_child = true;
        free(s->image_digest);
        s->image_digest = TAKE_PTR(s->spawn_digest);
        free(s->cgroup_path);
        s->cgroup_path = NULL;
        (void)pid_cgroup_path(m, pid, &s->cgroup_path);
        service_oom_watch(s);
        s->stop_signal = s->spawn_stop_signal;
        s->stop_timeout_usec = s->unit->config.stop_timeout_usec;

        if (s->active_state == ACTIVE_STATE_DEACTIVATING) {
                /* Stopped while it was being started: the stop goes on now that there is a process. */
                (void)state_save(s);
                service_stop_signal(s);
                return;
        }
        service_started(s);
}

static int service_spawn_or_queue(Service *s, Error *reterr)
{
        Manager *m = s->manager;

        if (m->n_starters < m->max_starters)
                return service_spawn(s, reterr);
        Service **q = realloc(m->spawn_queue, (m->n_spawn_queue + 1) * sizeof(Service *));
        if (!q)
                return -ENOMEM;
        m->spawn_queue = q;
        q[m->n_spawn_queue++] = s;
        s->spawn_queued = true;
        return 0;
}

static void spawn_dequeue(Service *s)
{
        Manager *m = s->manager;
        for (size_t i = 0; i < m->n_spawn_queue; i++)
                if (m->spawn_queue[i] == s) {
                        memmove(m->spawn_queue + i, m->spawn_queue + i + 1,
                                (m->n_spawn_queue - i - 1) * sizeof(Service *));
                        m->n_spawn_queue--;
                        break;
                }
        s->spawn_queued = false;
}

void manager_spawn_next(Manager *m)
{
        while (m->n_spawn_queue > 0 && m->n_starters < m->max_starters) {
                Service *s = m->spawn_queue[0];
                _cleanup_error_ Error e = ERROR_INIT;
                spawn_dequeue(s);
                int r = service_spawn(s, &e);
                if (r < 0)
                        service_start_failed(s, r, &e);
        }
}

static int service_start_internal(Service *s, bool automatic, Error *reterr);

int service_start(Service *s, Error *reterr)
{
        return service_start_internal(s, false, reterr);
}

static int service_start_internal(Service *s, bool automatic, Error *reterr)
{
        _cleanup_error_ Error e = ERROR_INIT;
        int r;

        switch (s->active_state) {
        case ACTIVE_STATE_ACTIVE:
                return 0;
        case ACTIVE_STATE_ACTIVATING:
                if (s->sub_state != SUB_STATE_AUTO_RESTART)
                        return 1;
                s->timer_source = sd_event_source_disable_unref(s->timer_source);
                break;
        case ACTIVE_STATE_DEACTIVATING:
                s->restart_after_stop = true;
                return 1;
        default:
                break;
        }

        if (s->pending_unit) {
                unit_free(s->unit);
                s->unit = TAKE_PTR(s->pending_unit);
                service_send_changed(s);
        }
        if (s->unit->load_state != UNIT_LOAD_LOADED)
                return error_set_msg(reterr, -ENOEXEC, "Unit %s is not loaded properly (%s)%s%s", s->name,
                                     unit_load_state_to_string(s->unit->load_state),
                                     s->unit->load_error ? ": " : ".", strempty(s->unit->load_error));
        if (s->unit->is_template)
                return error_set_msg(reterr, -EINVAL,
                                     "Unit %s is a template; start an instance such as %s%s", s->name,
                                     s->name, "NAME");

        /* StartLimitBurst= in StartLimitIntervalSec=, counting every start (manual ones too),
         * and NRestarts= (manual starts reset it): manager/policy decides. */
        RestartConfig rc;
        restart_config_from_unit(&rc, &s->unit->config);
        r = restart_check_start(&rc, &s->rs, now_usec(CLOCK_MONOTONIC), automatic, &e);
        s->n_restarts = s->rs.n_restarts;
        if (!automatic && !s->rs.admin_stopped)
                service_forget_admin_stop(s);
        if (r < 0) {
                log_service_warning(s, "%s: %s", s->name, error_message(&e));
                s->result = SERVICE_FAILURE_START_LIMIT_HIT;
                service_set_state(s, ACTIVE_STATE_FAILED, SUB_STATE_FAILED);
                log_service_warning(s, "Failed to start %s (start-limit-hit).", s->name);
                error_move(reterr ?: &(Error){}, &e);
                return r;
        }

        s->exit_code = 0;
        s->exit_status = 0;
        service_set_state(s, ACTIVE_STATE_ACTIVATING, SUB_STATE_START);
        log_service_info(s, "Starting %s...", service_description(s) ?: s->name);

        r = service_spawn_or_queue(s, &e);
        if (r < 0) {
                service_start_failed(s, r, &e);
                error_move(reterr ?: &(Error){}, &e);
                return r;
        }
        /* Under way: the starter reports to service_spawn_done(). */
        return 1;
}

/* ---------------------------------------------------------------- exit and stop */

static ServiceResult service_result_from_policy(PolicyResult r)
{
        switch (r) {
        case POLICY_RESULT_SUCCESS:
                return SERVICE_SUCCESS;
        case POLICY_RESULT_EXIT_CODE:
                return SERVICE_FAILURE_EXIT_CODE;
        case POLICY_RESULT_SIGNAL:
                return SERVICE_FAILURE_SIGNAL;
        case POLICY_RESULT_CORE_DUMP:
                return SERVICE_FAILURE_CORE_DUMP;
        case POLICY_RESULT_TIMEOUT:
                return SERVICE_FAILURE_TIMEOUT;
        case POLICY_RESULT_WATCHDOG:
                return SERVICE_FAILURE_WATCHDOG;
        case POLICY_RESULT_OOM_KILL:
                return SERVICE_FAILURE_OOM_KILL;
        case POLICY_RESULT_START_LIMIT_HIT:
                return SERVICE_FAILURE_START_LIMIT_HIT;
        default:
                return SERVICE_FAILURE_EXIT_CODE;
        }
}

static int on_restart_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        Service *s = userdata;
        _cleanup_error_ Error e = ERROR_INIT;

        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        /* service_start_internal() leaves AUTO_RESTART through its own state change. */
        service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
        (void)service_start_internal(s, true, &e);
        return 0;
}

static void service_on_exit(Service *s, int code, int status)
{
        bool stopping = s->active_state == ACTIVE_STATE_DEACTIVATING;
        bool timed_out = s->sub_state == SUB_STATE_STOP_SIGKILL;
        ExitCause killed_by_daemon = s->kill_cause;

        service_ready_end(s);
        /* A SIGKILL while memory.events counted an OOM kill: the kernel's doing, not ours. */
        bool oom = code == CLD_KILLED && status == SIGKILL && service_oom_killed(s);
        service_oom_unwatch(s);
        s->kill_cause = EXIT_CAUSE_EXITED;
        s->pid_source = sd_event_source_disable_unref(s->pid_source);
        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        s->pidfd = safe_close(s->pidfd);
        s->exit_code = code;
        s->exit_status = status;
        pid_t pid = s->main_pid;
        s->main_pid = 0;

        if (oom)
                log_service_warning(s, "%s: A process of this unit has been killed by the OOM killer.",
                                    s->name);
        if (code == CLD_EXITED)
                log_service_info(s, "Main process %d exited, code=exited, status=%d", (int)pid, status);
        else if (code == CLD_KILLED || code == CLD_DUMPED)
                log_service_info(s, "Main process %d exited, code=%s, status=%d/%s", (int)pid,
                                 code == CLD_DUMPED ? "dumped" : "killed", status,
                                 strna(signal_to_string(status)));
        else if (!stopping)
                log_service_warning(
                        s,
                        "Main process %d exited while ctrmgrd was not watching; its exit status is "
                        "unknown, counted as an abnormal end.",
                        (int)pid);

        service_cleanup_container(s);

        RestartConfig rc;
        restart_config_from_unit(&rc, &s->unit->config);
        ExitInfo ei = {
                .cause = code == CLD_DUMPED   ? EXIT_CAUSE_CORE_DUMP
                         : code == CLD_KILLED ? EXIT_CAUSE_SIGNAL
                                              : EXIT_CAUSE_EXITED,
                .status = status,
        };
        if (killed_by_daemon != EXIT_CAUSE_EXITED)
                ei.cause = killed_by_daemon; /* TimeoutStartSec= or the watchdog */
        else if (oom)
                ei.cause = EXIT_CAUSE_OOM_KILL;
        else if (code == 0)
                /* It ended unobserved (a container found again after a daemon restart is not our
                 * child, so nothing tells how): Restart= treats it like a death by a signal. */
                ei = (ExitInfo){.cause = EXIT_CAUSE_SIGNAL, .status = 0};
        PolicyResult pr = exit_classify(&ei, &rc.success_status);
        bool clean = pr == POLICY_RESULT_SUCCESS;

        if (stopping) {
                /* A requested stop ends inactive whatever the container did with the signal;
                 * needing SIGKILL is recorded as the result, as systemd's "timeout". */
                s->result = timed_out ? SERVICE_FAILURE_TIMEOUT : SERVICE_SUCCESS;
        } else
                s->result = service_result_from_policy(pr);

        if (s->restart_after_stop) {
                _cleanup_error_ Error e = ERROR_INIT;
                bool automatic = s->restart_automatic;
                service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
                s->restart_after_stop = s->restart_automatic = false;
                (void)service_start_internal(s, automatic, &e);
                return;
        }

        RestartDecision d = {};
        if (restart_on_exit(&rc, &s->rs, &ei, stopping || s->removed, &d) >= 0 && d.restart) {
                if (!clean)
                        log_service_warning(s, "%s: Failed with result '%s'.", s->name,
                                            service_result_to_string(s->result));
                service_set_state(s, ACTIVE_STATE_ACTIVATING, SUB_STATE_AUTO_RESTART);
                uint64_t delay = d.delay_usec;
                if (sd_event_add_time_relative(s->manager->event, &s->timer_source, CLOCK_MONOTONIC, delay,
                                               0, on_restart_timer, s) >= 0) {
                        log_service_info(s, "%s: Scheduled restart job, restart counter is at %u.", s->name,
                                         s->n_restarts + 1);
                        return;
                }
        }

        if (stopping) {
                service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
                log_service_info(s, "Stopped %s.", service_description(s) ?: s->name);
        } else if (clean) {
                service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
                log_service_info(s, "%s: Deactivated successfully.", s->name);
        } else {
                service_set_state(s, ACTIVE_STATE_FAILED, SUB_STATE_FAILED);
                log_service_warning(s, "%s: Failed with result '%s'.", s->name,
                                    service_result_to_string(s->result));
        }
        if (!stopping)
                manager_on_unit_down(s->manager, s);

        if (s->removed)
                manager_schedule_gc(s->manager);
}

static int on_pidfd(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Service *s = userdata;
        siginfo_t si = {};

        if (s->pid_is_child) {
                if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0) {
                        if (errno != ECHILD)
                                log_service_warning(s, "waitid on the container's pidfd failed: %m");
                        si.si_code = 0;
                } else if (si.si_pid == 0)
                        return 0; /* spurious */
                service_on_exit(s, si.si_code, si.si_status);
        } else
                service_on_exit(s, 0, 0);
        return 0;
}

static int on_stop_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        Service *s = userdata;
        _cleanup_error_ Error e = ERROR_INIT;

        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        if (s->sub_state == SUB_STATE_STOP_SIGTERM) {
                log_service_warning(s, "State 'stop-sigterm' timed out. Killing.");
                service_set_state(s, ACTIVE_STATE_DEACTIVATING, SUB_STATE_STOP_SIGKILL);
                if (runtime_kill(s->manager->oci_root, s->name, SIGKILL, true, &e) < 0 && s->pidfd >= 0)
                        (void)pidfd_signal(s->pidfd, SIGKILL);
                /* Should SIGKILL not end it either (D state), give up after the same time again. */
                (void)sd_event_add_time_relative(s->manager->event, &s->timer_source, CLOCK_MONOTONIC,
                                                 MAX(s->stop_timeout_usec, 5 * USEC_PER_SEC), 0,
                                                 on_stop_timeout, s);
        } else if (s->sub_state == SUB_STATE_STOP_SIGKILL) {
                log_service_warning(s, "Processes still around after SIGKILL. Ignoring.");
                s->restart_after_stop = false;
                service_on_exit(s, 0, 0);
        }
        return 0;
}

int service_stop(Service *s, Error *reterr)
{
        switch (s->active_state) {
        case ACTIVE_STATE_INACTIVE:
        case ACTIVE_STATE_FAILED:
                return 0;
        case ACTIVE_STATE_DEACTIVATING:
                if (s->restart_after_stop) {
                        Error e = ERROR_INIT;
                        error_set_msg(&e, -ECANCELED, "Restart of %s cancelled by a stop request.", s->name);
                        service_reply_waiters(s, true, &e);
                        error_done(&e);
                        s->restart_after_stop = false;
                }
                return 1;
        case ACTIVE_STATE_ACTIVATING:
                if (s->sub_state == SUB_STATE_AUTO_RESTART) {
                        s->timer_source = sd_event_source_disable_unref(s->timer_source);
                        service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
                        return 0;
                }
                if (s->spawn_queued) {
                        /* Nothing was made yet. */
                        spawn_dequeue(s);
                        log_service_info(s, "Start of %s cancelled.", s->name);
                        service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
                        return 0;
                }
                if (s->starter_pid != 0) {
                        /* Its starter runs: the stop goes on when it reports (service_spawn_done()). */
                        log_service_info(s, "Stopping %s...", service_description(s) ?: s->name);
                        service_set_state(s, ACTIVE_STATE_DEACTIVATING, SUB_STATE_STOP_SIGTERM);
                        return 1;
                }
                break;
        default:
                break;
        }

        if (s->pidfd < 0) {
                service_set_state(s, ACTIVE_STATE_DEACTIVATING, SUB_STATE_STOP_SIGTERM);
                service_on_exit(s, 0, 0);
                return 0;
        }

        log_service_info(s, "Stopping %s...", service_description(s) ?: s->name);
        service_set_state(s, ACTIVE_STATE_DEACTIVATING, SUB_STATE_STOP_SIGTERM);
        /* A daemon restarted in the middle goes on with the stop (service_recover()). */
        (void)state_save(s);
        service_stop_signal(s);
        return 1;
}

/* Sends StopSignal= and arms StopTimeout=; the state is deactivating (stop-sigterm) already. */
static void service_stop_signal(Service *s)
{
        int r = pidfd_signal(s->pidfd, s->stop_signal);
        if (r < 0 && r != -ESRCH)
                log_service_warning(s, "Sending %s failed: %s", strna(signal_to_string(s->stop_signal)),
                                    strerror(-r));
        if (s->stop_timeout_usec != USEC_INFINITY &&
            sd_event_add_time_relative(s->manager->event, &s->timer_source, CLOCK_MONOTONIC,
                                       s->stop_timeout_usec, 0, on_stop_timeout, s) < 0)
                log_service_warning(s, "Cannot arm the stop timer of %s: it gets no SIGKILL.", s->name);
}

int service_reset_failed(Service *s)
{
        /* systemd's reset-failed: forget the start-limit window and the restart counter, and a
         * failed unit becomes inactive. */
        restart_state_reset_failed(&s->rs);
        s->n_restarts = s->rs.n_restarts;
        if (s->active_state != ACTIVE_STATE_FAILED) {
                service_send_changed(s);
                return 0;
        }
        s->result = SERVICE_SUCCESS;
        service_set_state(s, ACTIVE_STATE_INACTIVE, SUB_STATE_DEAD);
        if (s->removed)
                manager_schedule_gc(s->manager);
        return 1;
}

int service_kill(Service *s, int sig, Error *reterr)
{
        if (s->pidfd < 0 || s->main_pid <= 0)
                return error_set_msg(reterr, -ESRCH, "No main process to kill: %s is %s", s->name,
                                     active_state_to_string(s->active_state));
        int r = pidfd_signal(s->pidfd, sig);
        if (r < 0)
                return error_set(reterr, r, "Sending %s to PID %d", strna(signal_to_string(sig)),
                                 (int)s->main_pid);
        log_service_info(s, "Sent signal %s to main process %d.", strna(signal_to_string(sig)),
                         (int)s->main_pid);
        return 0;
}

/* ---------------------------------------------------------------- recovery after a daemon restart */

int service_recover(Service *s)
{
        Manager *m = s->manager;
        pid_t pid;
        uint64_t st, now_st;
        bool stopping = false;
        int r;

        r = state_load(s, &pid, &st, &stopping);
        if (r == -ENOENT) {
                /* A start was under way when the daemon went away (it was killed): its starter
                 * died with it (starter.c), but may have left a container, created or even
                 * started. Nobody can vouch for it: service_recover_finish() removes it and the
                 * unit goes on as after any other death of its container. */
                RuntimeState rst = {};
                if (runtime_state(m->oci_root, s->name, &rst, NULL) >= 0) {
                        s->main_pid = rst.pid;
                        runtime_state_done(&rst);
                        s->rootfs_mounted = true;
                        s->active_state = ACTIVE_STATE_ACTIVATING;
                        s->sub_state = SUB_STATE_START;
                        s->start_interrupted = true;
                        return 0;
                }
                /* Or only its root file system, mounted before the runtime was called. */
                _cleanup_free_ char *bundle = service_bundle_dir(s);
                if (bundle && access(bundle, F_OK) == 0)
                        service_cleanup_container(s);
                /* Not running: it may have failed before the daemon went away. */
                r = failed_state_load(s);
                if (r >= 0) {
                        s->active_state = ACTIVE_STATE_FAILED;
                        s->sub_state = SUB_STATE_FAILED;
                } else if (r != -ENOENT)
                        log_service_warning(s, "Ignoring the unreadable record of the failure of %s: %s",
                                            s->name, strerror(-r));
                return 0;
        }
        if (r < 0) {
                log_service_warning(s, "Ignoring unreadable state: %s", strerror(-r));
                service_cleanup_container(s);
                return 0;
        }

        int fd = pidfd_open_pid(pid);
        if (fd < 0 || pid_get_starttime(pid, &now_st) < 0 || now_st != st) {
                safe_close(fd);
                /* It ended while no daemon watched: service_recover_finish() treats that as an
                 * exit of unknown status once the bus is up, with Restart= and the dependencies
                 * applied as for any other exit. */
                s->main_pid = pid;
                s->rootfs_mounted = true;
                s->active_state = stopping ? ACTIVE_STATE_DEACTIVATING : ACTIVE_STATE_ACTIVE;
                s->sub_state = stopping ? SUB_STATE_STOP_SIGTERM : SUB_STATE_RUNNING;
                s->exited_unobserved = true;
                return 0;
        }

        r = sd_event_add_io(m->event, &s->pid_source, fd, EPOLLIN, on_pidfd, s);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        s->pidfd = fd;
        s->main_pid = pid;
        s->pid_is_child = false;
        s->rootfs_mounted = true;
        if (!s->cgroup_path)
                (void)pid_cgroup_path(m, pid, &s->cgroup_path);
        /* Keep the timestamps from the state file: set the state without restamping. */
        s->active_state = ACTIVE_STATE_ACTIVE;
        s->sub_state = SUB_STATE_RUNNING;
        service_ready_recover(s);
        service_oom_watch(s);
        log_service_info(s, "Found running container of %s again (PID %d).", s->name, (int)pid);
        if (stopping) {
                log_service_info(s, "%s was being stopped when the daemon went away: stopping it.", s->name);
                (void)service_stop(s, NULL);
        }
        return 1;
}

void service_recover_finish(Service *s)
{
        if (s->start_interrupted) {
                _cleanup_error_ Error e = ERROR_INIT;
                s->start_interrupted = false;
                log_service_warning(s,
                                    "A start of %s was under way when ctrmgrd went away: removing the "
                                    "container it left.",
                                    s->name);
                if (runtime_kill(s->manager->oci_root, s->name, SIGKILL, true, &e) < 0 && e.code != -ESRCH)
                        log_service_warning(s, "Killing it: %s", error_message(&e));
                /* service_cleanup_container() waits for it to go and removes it. */
                service_on_exit(s, CLD_KILLED, SIGKILL);
                return;
        }
        if (!s->exited_unobserved)
                return;
        s->exited_unobserved = false;
        log_service_notice(s, "Container of %s exited while ctrmgrd was not running.", s->name);
        service_on_exit(s, 0, 0);
}
