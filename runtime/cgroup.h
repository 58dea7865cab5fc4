/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * runtime/cgroup — private to runtime/: cgroup v2 only, with two drivers.
 *
 *   cgroupfs  the directory is made directly in the cgroup2 hierarchy. linux.cgroupsPath
 *             "/a/b" is relative to the hierarchy's root, "a/b" to the caller's own cgroup
 *             (as runc does), empty means "/ctrmgr-oci/<id>".
 *   systemd   (--systemd-cgroup) linux.cgroupsPath "slice:prefix:name" becomes the transient
 *             scope "prefix-name.scope" in "slice" (empty slice = system.slice; empty
 *             cgroupsPath = "system.slice:ctrmgr-oci:<id>"), created over the system bus with
 *             StartTransientUnit(Delegate=yes, PIDs=[pid]); resource limits become unit
 *             properties (MemoryMax=, CPUWeight=, …), and so do the `unified` keys systemd has a
 *             property for (memory.min/low/high/max/swap.max, pids.max, cpu.weight, cpu.max,
 *             io.weight "default N", cpuset.cpus/mems), so a daemon-reload cannot reset them; other
 *             unified keys are written in the (delegated) scope dir.
 *
 * The cgroup2 hierarchy is found in /proc/self/mountinfo: /sys/fs/cgroup on a v2 host,
 * /sys/fs/cgroup/unified on a hybrid one. On a hybrid host most controllers (memory, cpu, pids)
 * are missing from v2; the runtime still runs and cgroup_apply() reports each limit it could not
 * apply as a warning string instead of failing (crun refuses such hosts).
 *
 * The cgroupfs driver enables the needed controllers in cgroup.subtree_control of the
 * directories it created itself, never in cgroups that existed before (a controller the existing
 * parent does not pass down gives a warning).
 *
 * Flow in the runtime (create):
 *
 *   cgroup_resources_parse(linux.resources)              JSON-path errors
 *   cgroup_create(opts)                                  cgroupfs: mkdir now; systemd: nothing yet
 *   cgroupfs:  cgroup_apply(); clone3(CLONE_INTO_CGROUP, cgroup_fd()) or fork + cgroup_enter(pid)
 *   systemd:   fork (child waits) ; cgroup_enter(pid) ; cgroup_apply() ; let the child go on
 *   (save cgroup_path() and cgroup_unit() in the container state)
 *
 * Later commands: cgroup_load(driver, path, unit) then freeze / kill_all / get_pids / get_stats /
 * apply (ctrmgr-oci update: only the fields present in the parsed resources are written) /
 * destroy. exec: cgroup_exec_fd(init pid) for CLONE_INTO_CGROUP or cgroup_enter_exec(init pid, pid)
 * (both drivers: the container's cgroup, or its init's sub-cgroup when the container passes
 * controllers down to sub-cgroups of its own, where the container's cgroup itself is EBUSY).
 *
 * All functions return a negative errno and fill the optional Error.
 */

#include <json-c/json.h>
#include <signal.h>

#include "common/common.h"

typedef enum CgroupDriver {
        CGROUP_DRIVER_CGROUPFS,
        CGROUP_DRIVER_SYSTEMD,
        _CGROUP_DRIVER_MAX,
} CgroupDriver;

const char *cgroup_driver_to_string(CgroupDriver d); /* "cgroupfs", "systemd" */
int cgroup_driver_from_string(const char *s);

/*
 * Where the cgroup2 hierarchy is mounted ("/sys/fs/cgroup" or "/sys/fs/cgroup/unified").
 * -ENOMEDIUM when there is none.
 */
int cgroup_find_root(char **ret_mount_point, Error *reterr);

/* ------------------------------------------------------------------ resources */

/*
 * Parsed linux.resources (opaque). Only the fields present in the JSON are ever written, so the
 * same type serves create and `update`.
 */
typedef struct CgroupResources CgroupResources;

CgroupResources *cgroup_resources_free(CgroupResources *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupResources *, cgroup_resources_free);

/*
 * Parses linux.resources (NULL gives empty resources). json_path prefixes messages, normally
 * "linux.resources": "linux.resources.cpu.shares: expected an integer, got string".
 *   memory     limit → memory.max, reservation → memory.low, swap (memory+swap as in the spec)
 *              → memory.swap.max = swap - limit, -1 → "max"; checkBeforeUpdate honoured.
 *              kernel, kernelTCP, swappiness, disableOOMKiller have no v2 file: warnings.
 *              useHierarchy is ignored.
 *   cpu        shares → cpu.weight (crun's conversion, 1024 → 100), quota/period → cpu.max,
 *              burst → cpu.max.burst, idle → cpu.idle, cpus/mems → cpuset.cpus/cpuset.mems;
 *              realtimeRuntime/realtimePeriod are v1 only: warnings.
 *   pids       limit → pids.max (<= 0 → "max")
 *   blockIO    weight, weightDevice → io.bfq.weight when present else io.weight (converted
 *              10..1000 → 1..10000); throttle*Device → io.max rbps/wbps/riops/wiops;
 *              leafWeight: warning.
 *   hugepageLimits  hugetlb.<size>.max (and .rsvd.max when present)
 *   rdma       rdma.max
 *   network    v1 only (net_cls/net_prio): warning.
 *   unified    raw "file" → "value" writes after everything else; keys must be plain file
 *              names (no '/', not cgroup.procs/threads/kill/freeze/subtree_control/type).
 *   devices    v2 has no devices controller: the rules are compiled to an eBPF
 *              BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (BPF_F_ALLOW_MULTI,
 *              so parents' programs still apply; an update replaces ours). As in v1 and runc,
 *              the last matching rule wins and nothing matching is allowed, so configs start
 *              with a deny-all rule. A denied "w" also refuses "rw" opens. Where bpf(2) is
 *              refused (EPERM/ENOSYS) cgroup_apply() warns instead. After the spec's rules come
 *              the defaults runc and crun add: mknod of any node, rwm on null, zero, full,
 *              random, urandom, tty, ptmx, pts (136:*), net/tun; so the runtime's own /dev
 *              setup in the child works even when the filter is attached before it runs.
 */
int cgroup_resources_parse(json_object *resources, const char *json_path, CgroupResources **ret,
                           Error *reterr);

/* ------------------------------------------------------------------ the cgroup */

typedef struct Cgroup Cgroup;

typedef struct CgroupOptions {
        CgroupDriver driver;
        const char *cgroups_path; /* linux.cgroupsPath; NULL or "" = default (see top) */
        const char *id;           /* container id: default names, scope description */
        /*
         * systemd only, optional: the resources go as properties into StartTransientUnit, so the
         * scope has its limits from the first instant and no SetUnitProperties (one more round
         * trip, and drop-ins written under /run/systemd/system.control) follows. Borrowed: must
         * stay valid until the first cgroup_apply(). cgroup_apply() with this same object after
         * cgroup_enter() then only writes what has no property and reports the warnings.
         */
        const CgroupResources *resources;
        /*
         * systemd only: further properties of the scope, from the spec's annotations
         * "org.systemd.property.NAME=VALUE" as runc takes them (key, value, key, value, …;
         * borrowed until cgroup_create() returns). Known names and their values:
         *   KillSignal, FinalKillSignal      a signal name or number
         *   TimeoutStopUSec, RuntimeMaxUSec  a time span ("90s", "1min 30s"; a bare number is µs)
         *   SendSIGKILL, SendSIGHUP          a boolean
         *   KillMode, CollectMode, Description  a string
         *   After, Before, Wants, Requires, BindsTo, Conflicts, PartOf  unit names, space-separated
         * runc's GVariant prefixes ("uint64 90000000", "int32 3", "boolean true", "string x") are
         * accepted. Anything else is refused at create, naming the annotation.
         */
        char *const *properties;
} CgroupOptions;

Cgroup *cgroup_free(Cgroup *cg); /* frees memory and closes fds; the cgroup stays */
DEFINE_TRIVIAL_CLEANUP_FUNC(Cgroup *, cgroup_free);

/*
 * cgroupfs: makes the directory (and missing parents), enables controllers in what it made,
 * opens it. An existing directory is used as is (-EEXIST is not an error: podman reuses paths).
 * systemd: validates and resolves the names; the scope is started by cgroup_enter().
 */
int cgroup_create(const CgroupOptions *opts, Cgroup **ret, Error *reterr);

/*
 * Reopens the cgroup of an existing container from what cgroup_path()/cgroup_unit() returned at
 * create time (unit may be NULL for cgroupfs). -ENOENT if it is gone.
 */
int cgroup_load(CgroupDriver driver, const char *path, const char *unit, Cgroup **ret, Error *reterr);

/* Path relative to the cgroup2 root, "/ctrmgr-oci/abc" (systemd: known after cgroup_enter). */
const char *cgroup_path(const Cgroup *cg);
/* "ctrmgr-oci-abc.scope" for systemd, NULL for cgroupfs. */
const char *cgroup_unit(const Cgroup *cg);
/* O_DIRECTORY fd of the cgroup dir, for clone3(CLONE_INTO_CGROUP) and *at() calls; -EBADF for
 * systemd before cgroup_enter(). Owned by cg. */
int cgroup_fd(const Cgroup *cg);

/*
 * For exec: an O_DIRECTORY fd (the caller's, close it) of the cgroup a new process of the
 * container should go to, for clone3(CLONE_INTO_CGROUP) or a write of its cgroup.procs. Normally
 * the container's cgroup itself; when the container passes controllers down to sub-cgroups of its
 * own (cgroup.subtree_control set, e.g. systemd inside), processes cannot live there (EBUSY), and
 * the cgroup of init_pid is used instead if it is below the container's, as runc and crun do.
 */
int cgroup_exec_fd(Cgroup *cg, pid_t init_pid, int *ret_fd, Error *reterr);
/* The same for a process already forked (no CLONE_INTO_CGROUP): writes cgroup.procs there. */
int cgroup_enter_exec(Cgroup *cg, pid_t init_pid, pid_t pid, Error *reterr);

/*
 * Moves pid into the cgroup. cgroupfs: writes cgroup.procs. systemd, first call: starts the
 * transient scope with PIDs=[pid], Delegate=yes, DefaultDependencies=no, waits for the job
 * (JobRemoved, result "done") and opens the scope's directory; later calls (exec): writes
 * cgroup.procs in the scope's directory.
 */
int cgroup_enter(Cgroup *cg, pid_t pid, Error *reterr);

/*
 * Applies the resources present in res (create and `update` alike). Limits this host cannot
 * apply (controller missing from the v2 hierarchy, a v1-only setting) are not errors: each gives
 * one human-readable line in *ret_warnings (NULL-terminated, may be NULL when none; pass NULL to
 * drop them). Invalid values the kernel rejects are errors naming the file and value.
 * systemd: must follow cgroup_enter(); limits go as unit properties (SetUnitProperties,
 * runtime), `unified` keys and what systemd cannot express are written in the scope dir.
 */
int cgroup_apply(Cgroup *cg, const CgroupResources *res, char ***ret_warnings, Error *reterr);

/* Writes cgroup.freeze and waits (up to 5 s, else -ETIMEDOUT) for "frozen 0/1" in cgroup.events. */
int cgroup_freeze(Cgroup *cg, bool freeze, Error *reterr);
/* Frozen according to cgroup.events: 1 yes, 0 no. */
int cgroup_is_frozen(Cgroup *cg, Error *reterr);

/*
 * Signals every process in the cgroup and its descendants. SIGKILL uses cgroup.kill where the
 * kernel has it (5.14+); otherwise the cgroup is frozen, cgroup.procs of every level is signalled,
 * and it is thawed again (if it was not frozen before). Returns the number signalled (cgroup.kill:
 * 0).
 */
int cgroup_kill_all(Cgroup *cg, int sig, Error *reterr);

/* All PIDs of the cgroup and its descendants, sorted; *ret_n may be 0 (then *ret_pids is NULL). */
int cgroup_get_pids(Cgroup *cg, pid_t **ret_pids, size_t *ret_n, Error *reterr);

#define CGROUP_STAT_UNSET UINT64_MAX
typedef struct CgroupStats {
        /* CGROUP_STAT_UNSET where the file does not exist here */
        uint64_t memory_current; /* memory.current */
        uint64_t memory_max;     /* memory.max (UINT64_MAX-1 for "max") */
        uint64_t memory_swap_current;
        uint64_t cpu_usage_usec; /* cpu.stat usage_usec (present even without the cpu controller) */
        uint64_t cpu_user_usec;
        uint64_t cpu_system_usec;
        uint64_t pids_current;     /* pids.current */
        uint64_t pids_max;         /* pids.max (UINT64_MAX-1 for "max") */
        uint64_t memory_peak;      /* memory.peak (5.19+) */
        uint64_t memory_oom;       /* memory.events "oom": times memory.max was hit and reclaim failed */
        uint64_t memory_oom_kill;  /* memory.events "oom_kill": processes the OOM killer killed */
        uint64_t cpu_nr_throttled; /* cpu.stat nr_throttled (cpu controller: cpu.max hit) */
        uint64_t cpu_throttled_usec;
        uint64_t pids_events_max; /* pids.events "max": forks refused by pids.max */
} CgroupStats;
#define CGROUP_STAT_MAX (UINT64_MAX - 1)

int cgroup_get_stats(Cgroup *cg, CgroupStats *ret, Error *reterr);

/*
 * Removes the cgroup: cgroupfs rmdirs it and every sub-cgroup the container made (deepest first;
 * -EBUSY while processes remain, so kill and reap first). Parents made by cgroup_create are
 * left (they may be shared, e.g. /ctrmgr-oci). systemd: StopUnit on the scope and waits for the
 * job (a scope whose processes are gone may already have vanished: fine), then rmdirs leftover
 * sub-cgroups. Missing is success.
 */
int cgroup_destroy(Cgroup *cg, Error *reterr);
