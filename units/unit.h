/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * units/ — the `.ctr` unit format: systemd syntax, search paths, drop-ins, masking, templates and
 * specifiers, and the typed, validated model of every first-release key (shared/UNIT-KEYS.md).
 *
 * This header is the contract with the daemon (manager/) and the CLI (tools/). The library never
 * prints: every problem becomes a UnitDiag ("FILE:LINE: error: …") attached to the unit it
 * concerns (or to the UnitSet for problems that belong to no unit, such as a badly named file).
 *
 * Typical use:
 *
 *     _cleanup_(unit_loader_freep) UnitLoader *l = NULL;
 *     r = unit_loader_new(NULL, &l);               // NULL: the default search path
 *     _cleanup_(unit_set_freep) UnitSet *set = NULL;
 *     r = unit_loader_load_all(l, &set, NULL);      // < 0 only on ENOMEM and similar
 *     for (size_t i = 0; i < set->n_units; i++) {
 *             const Unit *u = set->units[i];
 *             if (u->load_state != UNIT_LOAD_LOADED) …  // u->load_error says why
 *             u->config.image, u->config.exec, u->config.mounts …
 *     }
 *
 * Names: a unit is called by its name without suffix ("web", "web@blue"); its file is
 * "web.ctr" (or Quadlet's "web.container"). The specifier %n is "web.ctr", %N is "web".
 *
 * Reload: compare unit_equal() (the effective text: fragment plus drop-ins, with their paths) of
 * the old and the new Unit, or their content_hash, to decide whether a unit changed.
 *
 * Not thread-safe: loading configures libinih's process-wide options.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"

/* ---------------------------------------------------------------- limits and defaults */

#define UNIT_SUFFIX         ".ctr"
#define UNIT_SUFFIX_QUADLET ".container"
#define UNIT_NAME_MAX       255           /* with the suffix, as systemd */
#define UNIT_FILE_SIZE_MAX  (4096 * 1024) /* a fragment or drop-in larger than this is refused */
#define UNIT_LINE_MAX       (1024 * 1024) /* a logical line (after joining continuations) */
#define UNIT_DROPINS_MAX    256           /* drop-ins per unit */
/* Templates ("web@") are checked as if instantiated with this instance name. */
#define UNIT_TEMPLATE_CHECK_INSTANCE "instance"
#define UNIT_DIAGS_MAX               512 /* diagnostics kept per unit; further ones are counted */

/* The default search path, highest precedence first. */
#define UNIT_PATH_ETC     "/etc/ctrmgr"
#define UNIT_PATH_RUN     "/run/ctrmgr/units"
#define UNIT_PATH_USR_LIB "/usr/lib/ctrmgr/units"

/* ---------------------------------------------------------------- diagnostics */

typedef enum UnitDiagLevel {
        UNIT_DIAG_WARNING,
        UNIT_DIAG_ERROR,
} UnitDiagLevel;

typedef struct UnitDiag {
        UnitDiagLevel level;
        char *file;    /* the file the problem is in, NULL when it concerns no file */
        unsigned line; /* 1-based; 0 when it concerns the whole file or unit */
        char *message; /* without position or level, e.g. "Unknown key 'Foo' in section 'Container',
                          ignoring" */
        char *text; /* the full line to show: "FILE:LINE: error: MESSAGE" (or "FILE: …" / "NAME: …") */
} UnitDiag;

/* ---------------------------------------------------------------- the model: enums */

typedef enum UnitLoadState {
        UNIT_LOAD_LOADED,    /* parsed and valid: may be started */
        UNIT_LOAD_ERROR,     /* errors in the unit: load_error has the text; must not be started */
        UNIT_LOAD_MASKED,    /* the file (or a higher-precedence one) is a symlink to /dev/null or empty */
        UNIT_LOAD_NOT_FOUND, /* no fragment in any search directory */
        _UNIT_LOAD_STATE_MAX,
} UnitLoadState;

typedef enum UnitRestart {
        UNIT_RESTART_NO,
        UNIT_RESTART_ON_SUCCESS,
        UNIT_RESTART_ON_FAILURE,
        UNIT_RESTART_ON_ABNORMAL,
        UNIT_RESTART_ON_ABORT,
        UNIT_RESTART_ALWAYS,
        _UNIT_RESTART_MAX,
} UnitRestart;

typedef enum UnitNotify {
        UNIT_NOTIFY_FALSE,   /* ready as soon as the container process started */
        UNIT_NOTIFY_TRUE,    /* the container sends sd_notify READY=1 (NOTIFY_SOCKET passed in) */
        UNIT_NOTIFY_HEALTHY, /* ready when the health check first passes (needs HealthCmd=) */
        _UNIT_NOTIFY_MAX,
} UnitNotify;

typedef enum UnitHealthOnFailure {
        UNIT_HEALTH_ON_FAILURE_NONE,
        UNIT_HEALTH_ON_FAILURE_KILL,
        UNIT_HEALTH_ON_FAILURE_RESTART,
        UNIT_HEALTH_ON_FAILURE_STOP,
        _UNIT_HEALTH_ON_FAILURE_MAX,
} UnitHealthOnFailure;

typedef enum UnitNetwork {
        UNIT_NETWORK_PRIVATE, /* default: own network namespace with loopback up */
        UNIT_NETWORK_NONE,    /* own network namespace, loopback down (Podman's "none") */
        UNIT_NETWORK_HOST,    /* the host's network namespace */
        _UNIT_NETWORK_MAX,
} UnitNetwork;

typedef enum UnitUserNS {
        UNIT_USERNS_HOST, /* default (unless UIDMap=/GIDMap= are given: then UNIT_USERNS_MAP) */
        UNIT_USERNS_AUTO, /* the manager picks a free range of userns_auto_size ids */
        UNIT_USERNS_MAP,  /* a user namespace with the uid_map/gid_map lists */
        _UNIT_USERNS_MAX,
} UnitUserNS;

typedef enum UnitMountType {
        UNIT_MOUNT_BIND,      /* source is an absolute host path */
        UNIT_MOUNT_VOLUME,    /* source is a named volume, kept under /var/lib/ctrmgr/volumes/NAME */
        UNIT_MOUNT_ANONYMOUS, /* Volume=/dst without a source: a fresh volume per container */
        UNIT_MOUNT_TMPFS,     /* source NULL */
        _UNIT_MOUNT_TYPE_MAX,
} UnitMountType;

typedef enum UnitPropagation {
        UNIT_PROPAGATION_DEFAULT, /* leave as the runtime does (rprivate) */
        UNIT_PROPAGATION_PRIVATE,
        UNIT_PROPAGATION_RPRIVATE,
        UNIT_PROPAGATION_SHARED,
        UNIT_PROPAGATION_RSHARED,
        UNIT_PROPAGATION_SLAVE,
        UNIT_PROPAGATION_RSLAVE,
        _UNIT_PROPAGATION_MAX,
} UnitPropagation;

/* ---------------------------------------------------------------- the model: structs */

/* One entry of Volume=, Mount= or Tmpfs=, in the order written. */
typedef struct UnitMount {
        UnitMountType type;
        char *source;      /* BIND: absolute host path; VOLUME: volume name; else NULL */
        char *destination; /* absolute path in the container */
        bool read_only;
        bool recursive; /* rbind (default for binds and volumes, as Podman) */
        bool nosuid, nodev, noexec;
        bool copy_up; /* VOLUME/ANONYMOUS: populate an empty volume from the image (default true) */
        UnitPropagation propagation;
        /* TMPFS only: */
        uint64_t tmpfs_size; /* bytes, 0 = kernel default */
        mode_t tmpfs_mode;   /* valid when tmpfs_mode_set */
        bool tmpfs_mode_set;
        char *tmpfs_options; /* the data string for mount(2), e.g. "size=67108864,mode=1777" (never NULL for
                                TMPFS) */
        /* where it was written, for messages */
        const char *file; /* points into Unit.dropin_paths / fragment_path */
        unsigned line;
} UnitMount;

/* AddDevice=[-]HOST[:CONTAINER][:PERMISSIONS] */
typedef struct UnitDevice {
        char *host_path;      /* absolute */
        char *container_path; /* absolute; equals host_path when not given */
        char permissions[4];  /* subset of "rwm", default "rwm" */
        bool optional;        /* leading '-': skip when the host device is missing */
} UnitDevice;

/* UIDMap=/GIDMap= CONTAINER:HOST:SIZE */
typedef struct UnitIdMap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
} UnitIdMap;

/* Ulimit=NAME=SOFT[:HARD]; resource is RLIMIT_*, UINT64_MAX (RLIM_INFINITY) = unlimited */
typedef struct UnitUlimit {
        int resource;
        uint64_t soft;
        uint64_t hard;
} UnitUlimit;

/*
 * A resource value for systemd scope properties (MemoryMax=, TasksMax=, …): absent, an absolute
 * value (UINT64_MAX = "infinity"), or a share of the whole ("80%"), stored like systemd's
 * *Scale properties: scale / UINT32_MAX.
 */
typedef struct UnitResource {
        bool set;
        uint64_t value; /* when scale == 0 */
        uint32_t scale; /* 0: use value; else fraction of UINT32_MAX */
} UnitResource;

typedef struct UnitConfig {
        /* [Unit] */
        char *description;
        char **documentation;
        /* Dependencies: other units are named without suffix ("db"); names with another suffix
         * (".service", ".target", …) are systemd units (see unit_name_is_systemd()). Never reset. */
        char **after, **before, **requires, **wants, **binds_to, **conflicts;

        /* [Container] image and process */
        char *image;              /* "name:tag", "name@sha256:…" or "oci:/path[:ref]"; NULL when rootfs */
        char *rootfs;             /* absolute directory; NULL when image */
        char **exec;              /* argv after the image (NULL: the image's CMD) */
        char **entrypoint;        /* NULL: the image's ENTRYPOINT; valid when entrypoint_set */
        bool entrypoint_set;      /* Entrypoint= given; entrypoint == NULL then means "clear it" */
        char *working_dir;        /* absolute, or NULL */
        char *user;               /* name or number inside the container, or NULL */
        char *group;              /* name or number; only with user */
        char **environment;       /* "KEY=VALUE", unique keys, last assignment wins */
        char **environment_files; /* absolute paths; a leading '-' marks "ignore if missing" */
        char *hostname;
        bool run_init;

        /* [Container] storage */
        UnitMount *mounts; /* Volume=, Mount=, Tmpfs= in order */
        size_t n_mounts;
        bool read_only;
        bool read_only_tmpfs; /* default true (only meaningful with read_only) */
        uint64_t shm_size;    /* bytes, 0 = default (64M) */

        /* [Container] network */
        UnitNetwork network;

        /* [Container] security */
        uint64_t add_capabilities;  /* bit mask of capability numbers */
        uint64_t drop_capabilities; /* bit mask; drop_all_capabilities for "all" */
        bool add_all_capabilities;
        bool drop_all_capabilities;
        bool no_new_privileges; /* default TRUE (the project's security baseline) */
        char *seccomp_profile;  /* absolute path of an OCI seccomp JSON, or NULL for the default */
        bool seccomp_unconfined;
        char **mask;   /* extra absolute paths to mask */
        char **unmask; /* absolute paths to unmask from the default masked set */
        bool unmask_all;
        char **sysctl; /* "name=value", names with dots, unique names */
        UnitDevice *devices;
        size_t n_devices;
        UnitUserNS userns;
        uint32_t userns_auto_size; /* UserNS=auto[:size=N], default 65536 */
        UnitIdMap *uid_map;
        size_t n_uid_map;
        UnitIdMap *gid_map;
        size_t n_gid_map;

        /* [Container] resources */
        uint64_t memory;    /* Memory= bytes, 0 = unset */
        int64_t pids_limit; /* PidsLimit=, 0 = unset, -1 = unlimited */
        UnitUlimit *ulimits;
        size_t n_ulimits;
        UnitResource memory_max, memory_high, tasks_max;
        uint64_t cpu_weight;             /* 1…10000, 0 = unset */
        uint64_t cpu_quota_per_sec_usec; /* CPUQuota=20% → 200000; 0 = unset */
        uint64_t io_weight;              /* 1…10000, 0 = unset */

        /* [Container] lifecycle */
        int stop_signal;            /* 0: unset (the image's StopSignal, else SIGTERM) */
        uint64_t stop_timeout_usec; /* default 10s */
        UnitNotify notify;
        char **health_cmd; /* argv; a non-JSON string S becomes {"/bin/sh","-c",S}; NULL = none */
        uint64_t health_interval_usec;     /* default 30s; 0 = no timer ("disable") */
        uint64_t health_timeout_usec;      /* default 30s */
        unsigned health_retries;           /* default 3 */
        uint64_t health_start_period_usec; /* default 0 */
        UnitHealthOnFailure health_on_failure;
        char **reload_cmd;  /* argv run inside the container on reload, or NULL */
        int reload_signal;  /* 0 = none */
        char **labels;      /* "key=value" */
        char **annotations; /* "key=value" */

        /* [Service] */
        UnitRestart restart;
        bool restart_unless_stopped;        /* Docker "unless-stopped" (restart == ALWAYS) */
        uint64_t restart_usec;              /* RestartSec=, default 100ms */
        unsigned restart_steps;             /* 0 = no growth */
        uint64_t restart_max_delay_usec;    /* USEC_INFINITY = unset */
        uint64_t timeout_start_usec;        /* default 90s; USEC_INFINITY = none */
        uint64_t timeout_stop_usec;         /* default 90s; USEC_INFINITY = none */
        unsigned start_limit_burst;         /* default 5 */
        uint64_t start_limit_interval_usec; /* default 10s; 0 = no limit; USEC_INFINITY = total cap */
        uint8_t restart_prevent_status[32]; /* bit set of exit statuses 0…255 */
        uint64_t restart_prevent_signals;   /* bit (sig-1) for each signal */

        /* [Install] */
        char **wanted_by;
        char **alias;
        char *default_instance;
} UnitConfig;

typedef struct Unit {
        char *name;       /* "web", "web@blue", or the template "web@" */
        char *prefix;     /* "web" */
        char *instance;   /* "blue"; NULL unless an instance */
        bool is_template; /* "web@": not startable, checked with instance UNIT_TEMPLATE_CHECK_INSTANCE */

        UnitLoadState load_state;
        char *load_error;    /* the error diagnostics joined by "\n", or NULL */
        char *fragment_path; /* the main file (as found, not resolved), NULL if none */
        char **dropin_paths; /* drop-ins applied, in merge order */
        char **aliases;      /* other names: symlinks in the search path to this unit's file */
        UnitDiag *diags;     /* warnings and errors, in file order */
        size_t n_diags;
        size_t n_errors, n_warnings; /* including any beyond UNIT_DIAGS_MAX */

        bool enabled; /* [Install] WantedBy= multi-user.target or default.target (never a template) */

        /* "# /path\n" + content for the fragment and each drop-in, like `systemctl cat`; NULL when
         * not found. Also the reload comparison key. */
        char *effective_text;
        uint64_t content_hash; /* FNV-1a 64 of effective_text */

        UnitConfig config; /* valid when load_state == UNIT_LOAD_LOADED; defaults otherwise */
} Unit;

typedef struct UnitSet {
        Unit **units; /* sorted by name */
        size_t n_units;
        UnitDiag *diags; /* problems that belong to no unit (bad file names, unreadable dirs) */
        size_t n_diags;
} UnitSet;

typedef struct UnitLoader UnitLoader;

/* ---------------------------------------------------------------- loading */

/* dirs: the search path, highest precedence first; NULL = the default
 * (UNIT_PATH_ETC, UNIT_PATH_RUN, UNIT_PATH_USR_LIB). Missing directories are fine. */
int unit_loader_new(char *const *dirs, UnitLoader **ret);
UnitLoader *unit_loader_free(UnitLoader *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitLoader *, unit_loader_free);
char *const *unit_loader_dirs(const UnitLoader *l);

/* Host facts used by specifiers (%H %l %m %b %v …). Read from the system on first use; tests
 * may pin them (NULL leaves a value as is). */
int unit_loader_set_host(UnitLoader *l, const char *hostname, const char *machine_id, const char *boot_id,
                         const char *kernel_release);

/*
 * Loads the unit NAME ("web", "web.ctr", "web@blue", "web@") from the search path, applying its
 * drop-ins. When NAME.ctr is a symlink to another unit file in the search path, NAME is an alias
 * and the returned Unit is that other unit (its name differs; NAME is in its aliases). Always returns a Unit
 * in *ret (load_state tells what happened) unless r < 0: -EINVAL for an invalid name (with a message in
 * reterr), -ENOMEM.
 */
int unit_loader_load(UnitLoader *l, const char *name, Unit **ret, Error *reterr);

/*
 * Loads the file PATH (any location) as the unit named after its file name, with drop-ins from
 * beside it (PATH.d/ etc.) and then from the search path. For `ctrmgr verify FILE`.
 */
int unit_loader_load_file(UnitLoader *l, const char *path, Unit **ret, Error *reterr);

/*
 * Loads every unit in the search path: each NAME.ctr / NAME.container (first directory wins),
 * instance files (web@blue.ctr, usually symlinks to the template) and templates (web@.ctr, with
 * is_template set; plus their DefaultInstance= instance when that names one). Masked names are
 * included with UNIT_LOAD_MASKED. Returns < 0 only on ENOMEM and similar.
 */
int unit_loader_load_all(UnitLoader *l, UnitSet **ret, Error *reterr);

/* Parses one unit from memory as if it were the file FILENAME of unit NAME, without drop-ins
 * and without touching the file system (tests, fuzzing). Empty data is a masked unit; host
 * specifiers resolve to fixed values (%H "localhost", %m %b %v ""). */
int unit_parse_string(const char *name, const char *filename, const char *data, size_t size, Unit **ret,
                      Error *reterr);

Unit *unit_free(Unit *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(Unit *, unit_free);
UnitSet *unit_set_free(UnitSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitSet *, unit_set_free);
/* Finds a unit by name or alias (with or without suffix); NULL if absent. */
Unit *unit_set_find(const UnitSet *s, const char *name);

/* The effective unit text for `ctrmgr cat` (a copy of effective_text): "# /etc/ctrmgr/web.ctr\n…". */
int unit_cat(const Unit *u, char **ret);
/* True when both were loaded from the same files with the same content. */
bool unit_equal(const Unit *a, const Unit *b);

/* ---------------------------------------------------------------- names */

/* Unit name rules: systemd's characters [A-Za-z0-9:_.\-] plus one '@' before the instance,
 * not starting with '.', at most UNIT_NAME_MAX with the suffix. Accepts names with or without
 * ".ctr"/".container". */
bool unit_name_is_valid(const char *name);
/* Strips ".ctr" or ".container" into a new string; -EINVAL for invalid names. */
int unit_name_normalize(const char *name, char **ret);
/* True for names of systemd units (".service", ".target", ".socket", ".mount", …). */
bool unit_name_is_systemd(const char *name);
/* "web@blue" → template "web@" (-EINVAL if not an instance). */
int unit_name_template(const char *name, char **ret);

/* ---------------------------------------------------------------- helpers for the manager */

const char *unit_load_state_to_string(UnitLoadState s);
const char *unit_restart_to_string(UnitRestart r);
const char *unit_notify_to_string(UnitNotify n);
const char *unit_health_on_failure_to_string(UnitHealthOnFailure h);
const char *unit_network_to_string(UnitNetwork n);
const char *unit_userns_to_string(UnitUserNS u);
const char *unit_mount_type_to_string(UnitMountType t);
const char *unit_propagation_to_string(UnitPropagation p);

static inline bool unit_restart_prevented(const UnitConfig *c, int exit_status, int signal)
{
        if (signal > 0 && signal <= 64)
                return c->restart_prevent_signals & (UINT64_C(1) << (signal - 1));
        if (exit_status >= 0 && exit_status <= 255)
                return c->restart_prevent_status[exit_status / 8] & (1u << (exit_status % 8));
        return false;
}

/*
 * Reads an EnvironmentFile= (systemd syntax: KEY=VALUE lines, '#'/';' comments, optional
 * quotes, backslash continuation) and appends/overrides its variables in *env ("KEY=VALUE").
 * The manager calls it at start time; a leading '-' on path means a missing file is fine.
 */
int unit_environment_file_read(const char *path, char ***env, Error *reterr);
