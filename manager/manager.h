/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * manager/ — ctrmgrd: the unit registry, the per-unit Service object with its state machine,
 * container start through image/ and runtime/, supervision through pidfds, journald wiring and
 * the org.ctrmgr1 D-Bus API. Single-threaded: everything runs from one sd-event loop; the only
 * forks are runtime/'s container inits (no helper process per container).
 *
 * A Service is the daemon's object for one unit (units/ calls its parsed definition `Unit`).
 * State changes go through service_set_state(), the one place that stamps timestamps, emits
 * PropertiesChanged, answers waiting D-Bus callers and (next issue) runs restart/dependency
 * hooks.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "common/common.h"
#include "manager/policy/policy.h"
#include "manager/spec.h"

#define CTRMGR_BUS_NAME      "org.ctrmgr1"
#define CTRMGR_MANAGER_PATH  "/org/ctrmgr1"
#define CTRMGR_MANAGER_IFACE "org.ctrmgr1.Manager"
#define CTRMGR_UNIT_PREFIX   "/org/ctrmgr1/unit"
#define CTRMGR_UNIT_IFACE    "org.ctrmgr1.Unit"

#define CTRMGR_DEFAULT_STATE_DIR "/run/ctrmgr"
#define CTRMGR_DEFAULT_LOG_DIR   "/var/log/ctrmgr"
#define CTRMGR_DEFAULT_SECCOMP   "/usr/share/containers/seccomp.json"
#define CTRMGR_SLICE             "ctrmgr.slice"

/* Notify=true: the directory with the unit's notify socket is bind-mounted here (as Podman's
 * --sdnotify=container does) and NOTIFY_SOCKET names the socket in it. */
#define CTRMGR_NOTIFY_DIR_IN_CONTAINER    "/run/notify"
#define CTRMGR_NOTIFY_SOCKET_IN_CONTAINER "/run/notify/notify.sock"

/* pidfd_open(2) and pidfd_send_signal(2), which Debian 12's glibc does not wrap. */
static inline int pidfd_open_pid(pid_t pid)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

static inline int pidfd_signal(int pidfd, int sig)
{
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

typedef struct Manager Manager;
typedef struct Service Service;
typedef struct ManagerJob ManagerJob;
typedef struct ServiceExec ServiceExec;
struct Unit;
struct UnitSet;
struct DepGraph;
struct UnitLoader;
struct ImageStore;

typedef enum ActiveState {
        ACTIVE_STATE_INACTIVE,
        ACTIVE_STATE_ACTIVATING,
        ACTIVE_STATE_ACTIVE,
        ACTIVE_STATE_DEACTIVATING,
        ACTIVE_STATE_FAILED,
        _ACTIVE_STATE_MAX,
} ActiveState;

typedef enum SubState {
        SUB_STATE_DEAD,
        SUB_STATE_START,
        SUB_STATE_RUNNING,
        SUB_STATE_STOP_SIGTERM, /* the StopSignal was sent (whatever signal it is) */
        SUB_STATE_STOP_SIGKILL,
        SUB_STATE_FAILED,
        SUB_STATE_AUTO_RESTART,
        _SUB_STATE_MAX,
} SubState;

/* Why a service last left "active", systemd's Result= values. */
typedef enum ServiceResult {
        SERVICE_SUCCESS,
        SERVICE_FAILURE_RESOURCES, /* could not start: image, mount, spec, runtime */
        SERVICE_FAILURE_EXIT_CODE,
        SERVICE_FAILURE_SIGNAL,
        SERVICE_FAILURE_CORE_DUMP,
        SERVICE_FAILURE_TIMEOUT, /* needed SIGKILL after StopTimeout, or TimeoutStartSec= passed */
        SERVICE_FAILURE_WATCHDOG,
        SERVICE_FAILURE_OOM_KILL, /* the kernel's OOM killer killed the main process */
        SERVICE_FAILURE_START_LIMIT_HIT,
        _SERVICE_RESULT_MAX,
} ServiceResult;

const char *active_state_to_string(ActiveState s);
const char *sub_state_to_string(SubState s);
const char *service_result_to_string(ServiceResult r);

typedef enum CgroupMode {
        CGROUP_MODE_AUTO, /* systemd when booted with systemd and the system bus answers */
        CGROUP_MODE_SYSTEMD,
        CGROUP_MODE_CGROUPFS,
} CgroupMode;

typedef struct ManagerConfig {
        char **unit_dirs; /* NULL: units/ default search path */
        char *state_dir;  /* /run/ctrmgr */
        char *store_dir;  /* NULL: image/ defaults */
        char *layers_dir;
        char *containers_dir;
        char *lib_dir;         /* /var/lib/ctrmgr: volumes/, restart-state/ (kept across boots) */
        char *log_dir;         /* /var/log/ctrmgr: used when journald is absent */
        char *seccomp_profile; /* default profile (containers-common format) */
        char *cgroup_parent;   /* cgroupfs mode: parent below the cgroup2 root ("/ctrmgr.slice") */
        CgroupMode cgroup_mode;
        int journal;           /* -1 auto (socket present), 0 files, 1 journald */
        bool start_boot_units; /* start units with WantedBy=multi-user.target at startup */
} ManagerConfig;

void manager_config_done(ManagerConfig *c);

/* A command run inside a unit's running container (HealthCmd=, ReloadCmd=): its output is
 * collected (at most HEALTH_OUTPUT_MAX bytes), it is killed at its deadline, and `done` gets the
 * exit code as HealthLogEntry counts it (0…255, 128+signal, HEALTH_EXIT_TIMEOUT/ERROR). */
struct ServiceExec {
        Service *service;
        pid_t pid;
        int pidfd, out_fd;
        sd_event_source *pid_source, *out_source, *timer_source;
        char *output;
        size_t len;
        bool timed_out;
        void (*done)(Service *s, int exit_code, const char *output, size_t len);
};

struct Service {
        Manager *manager;
        char *name;        /* "web" */
        char *object_path; /* /org/ctrmgr1/unit/web */
        char *scope;       /* ctrmgr-web.scope */

        struct Unit *unit;         /* the definition in use (owned) */
        struct Unit *pending_unit; /* a changed definition, applied at the next start (owned) */
        bool removed;              /* gone from disk: freed once inactive */

        ActiveState active_state;
        SubState sub_state;
        ServiceResult result;

        pid_t main_pid;
        int pidfd;
        bool pid_is_child; /* started by this daemon instance: waitid() gives the status */
        sd_event_source *pid_source;
        sd_event_source *timer_source;

        char *image_digest; /* manifest digest of the running container's image */
        char *cgroup_path;  /* absolute path in the cgroup2 file system, NULL if unknown */
        bool rootfs_mounted;

        int exit_code;   /* CLD_EXITED / CLD_KILLED / CLD_DUMPED, 0 = none yet */
        int exit_status; /* exit status or signal number */

        uint64_t active_enter_ts, active_exit_ts, inactive_enter_ts,
                inactive_exit_ts; /* CLOCK_REALTIME usec */
        unsigned n_restarts;      /* NRestarts=: rs.n_restarts, or from the state file */
        RestartState rs;          /* start limit window, restart counter, manual stop (manager/policy) */
        bool admin_stop_recorded; /* <lib_dir>/stopped/NAME exists */
        bool exited_unobserved;   /* its container ended while no daemon ran (service_recover) */
        bool start_interrupted;   /* a start was under way when the last daemon died (service_recover) */

        int stop_signal;
        uint64_t stop_timeout_usec;
        bool restart_after_stop; /* RestartUnit in progress */
        bool restart_automatic;  /* ... started by HealthOnFailure=restart: counts as a restart */

        /* Readiness (Notify=, TimeoutStartSec=, the watchdog) and health checks of the running
         * container, decided by manager/policy; service-ready.c runs them. */
        Readiness rd;
        HealthConfig hc;
        Health health;
        ExitCause kill_cause; /* why the daemon killed the container itself (timeout, watchdog),
                               * EXITED when it did not */
        int notify_fd;        /* Notify=true: the socket the container sends READY=1 to */
        sd_event_source *notify_source;
        sd_event_source *ready_timer;  /* the next readiness deadline or health check */
        ServiceExec health_exec;       /* the health check under way, if any */
        ServiceExec reload_exec;       /* ReloadCmd= under way, if any */
        sd_bus_message *reload_waiter; /* the ReloadUnit call it answers */
        /* The starter (starter.c): a fork of the daemon that runs runtime_create() and
         * runtime_start() while the event loop goes on. */
        pid_t starter_pid; /* -1 while its pid is not known yet */
        int starter_pidfd, starter_fd;
        sd_event_source *starter_source, *starter_report_source;
        char *starter_buf; /* what the starter wrote so far */
        size_t starter_len;
        bool spawn_queued;  /* waiting for a free starter slot */
        char *spawn_digest; /* what the start in flight will run */
        int spawn_stop_signal;
        uint64_t oom_kills_start;             /* memory.events oom_kill at the start (UINT64_MAX: none) */
        uint64_t oom_kills_seen;              /* the latest value read */
        uint64_t oom_max_start, oom_max_seen; /* memory.events max: the limit was hit */
        uint64_t host_oom_kills_start;        /* /proc/vmstat oom_kill at the start */
        sd_event_source *oom_source;          /* inotify on memory.events */

        /* D-Bus calls answered when the service settles: StartUnit/RestartUnit when it becomes
         * active (or fails), StopUnit when it becomes inactive/failed. */
        sd_bus_message **start_waiters;
        size_t n_start_waiters;
        sd_bus_message **stop_waiters;
        size_t n_stop_waiters;
};

struct Manager {
        ManagerConfig config;
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *unit_vtable_slot, *unit_enum_slot, *manager_vtable_slot;

        struct UnitLoader *loader;
        struct ImageStore *store;     /* opened on first use */
        bool read_only_store;         /* `ctrmgr spec`: never create or write the store */
        json_object *default_seccomp; /* OCI form for the default capability set, on first use */

        Service **services; /* sorted by name */
        size_t n_services;

        bool use_systemd; /* scopes over systemd's D-Bus API */
        bool use_journal;
        char *cgroup_root; /* cgroup2 mount point */
        char *oci_root;    /* runtime/ state root: <state_dir>/.oci */
        sd_event_source *gc_source;
        bool exiting;
        bool exit_when_idle; /* the host shuts down: exit once the stop jobs are over */

        int zygote_fd; /* the zygote that forks starters (starter.c) */
        pid_t zygote_pid;
        unsigned n_starters;   /* starters running */
        unsigned max_starters; /* at most that many at once */
        Service **spawn_queue; /* services waiting for a starter, oldest first */
        size_t n_spawn_queue;

        struct DepGraph *graph; /* dependencies of the loaded units (manager/policy) */
        ManagerJob **jobs;      /* transactions under way */
        size_t n_jobs;
        sd_bus_slot *job_removed_slot; /* systemd's JobRemoved, for jobs of systemd units */
        bool systemd_subscribed;
        bool dispatching, dispatch_again;
};

/* ---------------------------------------------------------------- manager.c */

int manager_new(ManagerConfig *config, Manager **ret); /* takes over config's contents */
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
/* Loads units, finds running containers again, connects the bus, starts boot units. */
int manager_startup(Manager *m);
int manager_run(Manager *m);
/* daemon-reload: reread units; new appear, removed are stopped, changed need a restart. */
int manager_reload(Manager *m, Error *reterr);
Service *manager_find_service(Manager *m, const char *name);
/* Drops services whose unit was removed once they are inactive (from a deferred event). */
void manager_schedule_gc(Manager *m);
int manager_open_store(Manager *m, struct ImageStore **ret, Error *reterr);

/* ---------------------------------------------------------------- jobs.c: the job engine */

/* Rebuilds the dependency graph from freshly loaded units (before they are handed out). */
int manager_rebuild_graph(Manager *m, const struct UnitSet *set);
/* Starts or stops names with their dependencies. reply_to (may be NULL) is answered with
 * reply_path once the named units' jobs are over; notify_ready sends READY=1 then. */
int manager_enqueue(Manager *m, bool start, char *const *names, sd_bus_message *reply_to,
                    const char *reply_path, bool notify_ready, Error *reterr);
/* Runs what can run and finishes jobs that a unit's state change settled. */
void manager_dispatch_jobs(Manager *m);
/* A unit went down on its own: stop the units bound to it. */
void manager_on_unit_down(Manager *m, Service *s);
void manager_jobs_free(Manager *m);

/* ---------------------------------------------------------------- unit.c (the Service object) */

int service_new(Manager *m, struct Unit *unit, Service **ret);
Service *service_free(Service *s);
int service_start(Service *s, Error *reterr);
/* Returns 0 when the stop is under way (or the service was inactive already). */
int service_stop(Service *s, Error *reterr);
int service_kill(Service *s, int sig, Error *reterr);
/* `ctrmgr reset-failed`: failed → inactive, start limit and NRestarts forgotten. 1 if it was failed. */
int service_reset_failed(Service *s);
void service_set_state(Service *s, ActiveState a, SubState sub);
/* Re-attaches to a container left running by an earlier daemon instance (from its state file). */
int service_recover(Service *s);
/* For a container service_recover() found dead, or left by a start that the last daemon did not
 * finish: its exit, handled once the bus is up. */
void service_recover_finish(Service *s);
/* Builds the SpecInput from the unit and image config and generates the OCI spec. */
int service_generate_spec(Manager *m, const struct Unit *u, const char *rootfs, int rootfs_fd,
                          json_object **ret, char **ret_digest, Error *reterr);
bool service_enabled(const Service *s);
/* An administrator's stop (`ctrmgr stop`), remembered in <lib_dir>/stopped/NAME across daemon
 * restarts and reboots so that Restart=unless-stopped keeps it stopped at the next boot; a start
 * by hand forgets it. */
void service_record_admin_stop(Service *s);
void service_load_admin_stop(Service *s);
/* Whether the daemon starts it when it starts with the boot (enabled, and not an unless-stopped
 * unit an administrator stopped). */
bool service_starts_at_boot(const Service *s);
bool service_need_daemon_reload(const Service *s);
const char *service_load_state(const Service *s);
const char *service_description(const Service *s);
const char *service_image(const Service *s);
/* Live cgroup statistics; UINT64_MAX when unknown. */
uint64_t service_memory_current(const Service *s);
uint64_t service_cpu_usage_nsec(const Service *s);
uint64_t service_tasks_current(const Service *s);

/* Daemon messages about a unit: to the journal with OBJECT_SYSTEMD_UNIT= and CTRMGR_UNIT=,
 * else to stderr and the unit's log file. Returns r like log_internal(). */
int log_service_internal(const Service *s, int level, int r, const char *fmt, ...) _printf_(4, 5);
#define log_service_info(s, ...)           log_service_internal((s), LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_service_notice(s, ...)         log_service_internal((s), LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_service_warning(s, ...)        log_service_internal((s), LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_service_error_errno(s, r, ...) log_service_internal((s), LOG_LEVEL_ERR, (r), __VA_ARGS__)

/* ---------------------------------------------------------------- starter.c */

/* What a starter needs beyond the unit's name: the bundle (with config.json), the cgroup driver,
 * and stdout/stderr: the journal under an identifier, or descriptors. */
typedef struct StartRequest {
        const char *bundle;
        bool systemd_cgroup;
        const char *journal_ident; /* NULL: stdio[1], stdio[2] */
        int stdio[3];
} StartRequest;

/* The zygote (at start-up, before the units are loaded, so that it is small) and its end. */
int manager_zygote_start(Manager *m);
void manager_zygote_stop(Manager *m);
/* Has a starter create and start s's container; it reports to service_spawn_done() through the
 * event loop. The daemon must be a child subreaper (manager_startup()), so that the container's
 * init is the daemon's child once the starter ends. */
int starter_run(Service *s, const StartRequest *req, Error *reterr);
/* Waits for a starter that is still running (the daemon exits) and reports its result. */
void starter_finish(Service *s);
/* Reaps children nobody waits for (processes that a hook left behind, which the subreaper got). */
void manager_reap_strays(Manager *m);
/* unit.c: the starter of s ended; r < 0 with message, or the init's pid. */
void service_spawn_done(Service *s, int r, pid_t pid, const char *message);
/* unit.c: starts the next queued service when a starter slot is free. */
void manager_spawn_next(Manager *m);

/* ---------------------------------------------------------------- service-ready.c */

/* The directory holding the notify socket of unit `name` (<state_dir>/NAME/notify). */
char *manager_notify_dir(const Manager *m, const char *name);
/* Before the container is created: the notify socket for Notify=true. */
int service_notify_open(Service *s, Error *reterr);
/* The container runs: readiness and health checks begin. Returns true when it is ready at once. */
bool service_ready_begin(Service *s);
/* A container found again after a daemon restart: ready; health checks and the notify socket
 * resume. */
void service_ready_recover(Service *s);
/* The container ended or is being stopped: timers, checks and the notify socket go. */
void service_ready_end(Service *s);
/* The memory.events oom_kill counter: watched from the start, read once more at the exit.
 * service_oom_killed() tells whether it grew during this run. */
void service_oom_watch(Service *s);
bool service_oom_killed(Service *s);
void service_oom_unwatch(Service *s);
/* `ctrmgr reload`: ReloadSignal= or ReloadCmd=; reply (may be NULL) is answered when it is over.
 * Returns 1 when the answer comes later. */
int service_reload(Service *s, sd_bus_message *reply, Error *reterr);
/* Kills and reaps a command under way; its `done` is not called. */
void service_exec_cancel(ServiceExec *x);

/* ---------------------------------------------------------------- unit-dbus.c / manager-dbus.c */

int manager_bus_setup(Manager *m);
void service_send_changed(Service *s);
void service_send_new(Service *s);
void service_send_removed(Service *s);
/* Answers waiting callers; err NULL means success. */
void service_reply_waiters(Service *s, bool start_waiters, const Error *err);
extern const sd_bus_vtable service_vtable[];
extern const sd_bus_vtable manager_vtable[];
/* Mutating calls: the sender's EUID (not augmented from /proc) must be 0. */
int bus_check_root(sd_bus_message *m, sd_bus_error *error);

/* ---------------------------------------------------------------- state.c: /run/ctrmgr/NAME/ */

int state_save(const Service *s);
int state_load(Service *s, pid_t *ret_pid, uint64_t *ret_starttime, bool *ret_stopping);
int state_remove(const Service *s);
/* A failed unit's Result=, exit status and timestamps in <state_dir>/.failed/NAME, kept until it
 * starts again or is reset, so that a restarted daemon shows it failed still. */
int failed_state_save(const Service *s);
int failed_state_load(Service *s);
int failed_state_remove(const Service *s);
/* Removes the records of units that are not failed (or not loaded) now. */
void failed_state_prune(Manager *m);
/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat). */
int pid_get_starttime(pid_t pid, uint64_t *ret);
char *service_bundle_dir(const Service *s);

/* ---------------------------------------------------------------- log.c */

/* Sets the daemon's log sink (journal or stderr). */
void manager_log_setup(bool journal);
/* Opens (creating) the unit's log file under log_dir for appending. */
int service_open_log_file(const Service *s);
