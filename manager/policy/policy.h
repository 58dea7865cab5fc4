/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * manager/policy — the decision logic of ctrmgr's lifecycle (issue 6), as a pure library:
 *
 *   1. dependencies (DepGraph, DepTransaction): which units a start or stop pulls in, in which
 *      order they may run (in parallel where nothing orders them), ordering cycles found and
 *      broken the way systemd breaks them, what has to stop when a unit stops;
 *   2. restart policy (RestartConfig, RestartState): systemd's Restart= table, RestartSec= with
 *      RestartSteps=/RestartMaxDelaySec= growth, StartLimitIntervalSec=/StartLimitBurst=,
 *      RestartPreventExitStatus=, Docker's unless-stopped and on-failure:N;
 *   3. readiness and health (NotifyMessage, Health): sd_notify datagrams, Notify=false|true|
 *      healthy, TimeoutStartSec=, the watchdog, health-check scheduling with Docker's semantics
 *      and HealthOnFailure=.
 *
 * Nothing here runs a process, arms a timer, reads a clock or prints. Time is always passed in
 * by the caller as microseconds of CLOCK_MONOTONIC ("now"); functions that need a timer return
 * the next deadline and the daemon calls back when it passes. All of it is deterministic and
 * single-threaded; objects are independent, there is no global state.
 *
 * Conventions (common/common.h): negative errno on failure, ret_* outputs last and untouched on
 * failure, an optional Error *reterr receives a message meant for a person. Readiness and Health
 * objects start zeroed (= {}); readiness_start()/health_start() may be called again on them.
 *
 * ---------------------------------------------------------------------------------------------
 * HOW ctrmgrd CALLS IT (manager/; link policy_dep, #include "manager/policy/policy.h")
 *
 * Manager (after manager_startup()'s unit load and after every manager_reload()):
 *     DepGraph *graph;  dep_graph_new_from_units(<each Service's s->unit>, n, &m->graph, &e)
 *     (or dep_graph_new_from_unit_set() on a freshly loaded UnitSet); rebuild, O(V+E).
 *     log each dep_graph_warnings(m->graph) and, if dep_graph_find_ordering_cycle() == 1, a
 *     warning "Found ordering cycle: a -> b -> a" (the transaction will break or refuse it).
 *
 * Service gains: RestartConfig rc; RestartState rs; Readiness rd; HealthConfig hc; Health h;
 *     on load/reload:  restart_config_from_unit(&s->rc, &u->config);
 *                      health_config_from_unit(&s->hc, &u->config);
 *     rs persists in /run/ctrmgr/NAME/ next to the existing state file: write
 *     restart_state_serialize(&s->rs, boot_id) atomically on every change, read it back with
 *     restart_state_deserialize() in service_recover()/service_new() (boot_id: the contents of
 *     /proc/sys/kernel/random/boot_id). This replaces Service.n_restarts/start_limit_begin/
 *     start_limit_count (NRestarts = rs.n_restarts).
 *
 * Starting (boot, StartUnit, `ctrmgr start a b`) — one job engine for all of them:
 *     boot: dep_transaction_start_wanted(m->graph, names, &t, &e) of the units with
 *         restart_should_start_on_boot(&s->rc, &s->rs, u->enabled) (failures do not spread);
 *     else: dep_transaction_start(m->graph, names, &t, &e)  → on error reply e (it names the units and
 *         the cycle); log each t->notes[] line; keep t until dep_transaction_is_done(t).
 *     pump: while (dep_transaction_next(t, &i) > 0) run t->jobs[i]:
 *         START, ctrmgr unit: if the Service is active already: finish DONE at once; else
 *             r = restart_check_start(&s->rc, &s->rs, now, false, &e); r == -ECANCELED →
 *             failed (result "start-limit-hit"), finish FAILED; else service_start(); when it
 *             becomes active (see readiness below) finish DONE; if it fails, FAILED; TIMEOUT
 *             when readiness expired with READY_TIMEOUT.
 *         STOP: service_stop(); finish DONE when inactive.
 *         external (job.external, a systemd unit): START → org.freedesktop.systemd1.Manager
 *             StartUnit(name, "replace") and wait for its JobRemoved; result "done" → DONE,
 *             else FAILED; STOP → StopUnit; WAIT → if the unit has a job queued (GetUnit →
 *             Job property ≠ 0) wait for its JobRemoved, else DONE at once. Without systemd
 *             (no bus): START/WAIT of an external unit FAILED / DONE respectively.
 *     after every dep_transaction_finish() (returns how many start jobs failed with
 *     "dependency": log them as "Dependency failed for X."), pump again.
 *     Reply to the D-Bus caller when the anchor jobs (job.anchor) are finished.
 *     Independent units of a wave run in parallel: start each and go back to the event loop.
 *
 * Stopping (StopUnit, `ctrmgr stop`, daemon shutdown of everything):
 *     restart_state_manual_stop(&s->rs) for the units named by an administrator (not for the
 *     ones pulled in); dep_transaction_stop(m->graph, names, &t, &e); pump as above. Shutdown:
 *     dep_transaction_stop() of every active unit gives the reverse start order.
 *
 * The container started (service_start() returned, main PID known):
 *     readiness_start(&s->rd, u->config.notify, u->config.timeout_start_usec, now);
 *     health_start(&s->h, &s->hc, now);
 *     state "activating" until rd.state == READY_READY (Notify=false: at once), then "active"
 *     and the start job finishes DONE. Arm one timer at
 *     MIN(readiness_next_deadline(&s->rd), health_next_check(&s->h)) and on it:
 *         ev = readiness_on_time(&s->rd, now): READY_EVENT_EXPIRED → kill with SIGKILL and
 *             remember the cause: READY_TIMEOUT → EXIT_CAUSE_TIMEOUT, READY_WATCHDOG →
 *             EXIT_CAUSE_WATCHDOG (the start job, if any, finishes TIMEOUT / FAILED).
 *         if now ≥ health_next_check(): health_check_begin(&s->h, &s->hc, now, &deadline),
 *             exec HealthCmd= in the container (runtime/ exec, output to a pipe, ≤ 4 KiB kept),
 *             kill it at `deadline`; when it ends health_check_end(&s->h, &s->hc, now, code,
 *             out, len, &changed, &action) (code: exit code, 128+signal, HEALTH_EXIT_TIMEOUT,
 *             HEALTH_EXIT_ERROR); if changed: readiness_on_health(&s->rd, s->h.status, now)
 *             (READY_EVENT_READY → active, job DONE) and emit the D-Bus property Health
 *             (health_status_to_string()) and HealthLog (s->h.log[]); then act on `action`:
 *             KILL → SIGKILL, the exit is not a requested stop; RESTART → a stop job, then
 *             restart_check_start(automatic=true) and start; STOP → a stop job.
 *     NOTIFY_SOCKET: a datagram socket per container (or one for all, told apart by
 *     SO_PEERCRED's cgroup/PID); each datagram → notify_message_parse() →
 *     readiness_on_notify(&s->rd, &msg, now) → READY_EVENT_READY: active, job DONE;
 *     READY_EVENT_STATUS: D-Bus StatusText = s->rd.status; READY_EVENT_EXPIRED: kill as above.
 *
 * The container exited (service_on_exit()):
 *     ExitInfo e = { CLD_EXITED → EXIT_CAUSE_EXITED, CLD_KILLED → EXIT_CAUSE_SIGNAL,
 *                    CLD_DUMPED → EXIT_CAUSE_CORE_DUMP; the daemon's own kill for a timeout/
 *                    watchdog → EXIT_CAUSE_TIMEOUT/WATCHDOG; memory.events oom_kill grew →
 *                    EXIT_CAUSE_OOM_KILL; .status = exit code or signal };
 *     restart_on_exit(&s->rc, &s->rs, &e, stopping || restart_after_stop, &d);
 *     Result= is policy_result_to_string(d.result); if d.restart: state "activating
 *     (auto-restart)", timer d.delay_usec, log "Scheduled restart job, restart counter is at
 *     N" (N = rs.n_restarts + 1); when it fires: restart_check_start(&s->rc, &s->rs, now, true,
 *     &err) → -ECANCELED: state failed, Result "start-limit-hit", log err; else service_start().
 *     If !d.restart: inactive (SUCCESS) or failed.
 *     Then dependencies: dep_graph_units_to_stop(m->graph, name, false, &l) lists the units
 *     bound to it (BindsTo=): dep_transaction_stop(m->graph, l, …). After a requested stop use
 *     explicit = true (the stop transaction already contains them).
 *
 * `ctrmgr reset-failed NAME`: restart_state_reset_failed(&s->rs) and leave "failed".
 * ---------------------------------------------------------------------------------------------
 */

#include "common/common.h"
#include "units/unit.h"

/* ================================================================ 1. dependencies */

/*
 * Unit names. A ctrmgr unit is named without suffix ("db"); "db.ctr" is accepted and means the
 * same. A name ending in a systemd unit suffix (.service .socket .target .mount .automount .swap
 * .path .timer .slice .scope .device) is an external node: a systemd unit that the daemon starts,
 * stops or waits for over systemd's D-Bus API. The library only reports such jobs.
 */
bool dep_name_is_external(const char *name);

typedef enum DepType {
        DEP_AFTER,     /* this unit starts after (and stops before) the other */
        DEP_BEFORE,    /* the inverse: the other is ordered after this one */
        DEP_REQUIRES,  /* start it too; fail if it cannot start; stop when it is stopped */
        DEP_WANTS,     /* start it too; its failure or absence does not matter */
        DEP_BINDS_TO,  /* like Requires, and also stop when it goes down on its own */
        DEP_CONFLICTS, /* starting one stops the other (symmetric) */
        _DEP_TYPE_MAX,
        _DEP_TYPE_INVALID = -EINVAL,
} DepType;

/* "After", "Before", "Requires", "Wants", "BindsTo", "Conflicts" (the unit-file key names). */
const char *dep_type_to_string(DepType t);
DepType dep_type_from_string(const char *s);

typedef struct DepGraph DepGraph;

typedef enum DepUnitFlags {
        DEP_UNIT_BROKEN = 1 << 0, /* loaded with errors (LoadState=error) or masked: cannot start */
} DepUnitFlags;

/*
 * The graph of all loaded units and their dependencies. Build it after every (re)load: add each
 * unit, then its dependency lists; names referenced but never added are "missing" (unless
 * external). A dependency of a unit on itself is dropped with a warning, as systemd does. The
 * graph is not changed by transactions; rebuild it on daemon-reload (O(V+E)).
 */
int dep_graph_new(DepGraph **ret);
DepGraph *dep_graph_free(DepGraph *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(DepGraph *, dep_graph_free);
#define _cleanup_dep_graph_ _cleanup_(dep_graph_freep)

/* Declares a ctrmgr unit (idempotent; flags are OR-ed). -EINVAL for an invalid or external name. */
int dep_graph_add_unit(DepGraph *g, const char *name, DepUnitFlags flags, Error *reterr);
/* Adds "unit TYPE=other" as written in unit's file. unit need not be declared yet. */
int dep_graph_add_dep(DepGraph *g, const char *unit, DepType type, const char *other, Error *reterr);
/* Another name of unit (a symlink NAME.ctr → unit's file): every later reference to alias means
 * unit. Add aliases before the dependencies that use them. -EEXIST if the name is in use. */
int dep_graph_add_alias(DepGraph *g, const char *alias, const char *unit, Error *reterr);
/* The same for each name of a NULL-terminated list (e.g. UnitConfig.after). */
int dep_graph_add_deps(DepGraph *g, const char *unit, DepType type, char *const *others, Error *reterr);
/*
 * From units/' model: declares u (LOADED: startable; ERROR or MASKED: DEP_UNIT_BROKEN, so that
 * requiring it fails with "failed to load") with its aliases (Unit.aliases) and its After=/
 * Before=/Requires=/Wants=/BindsTo=/Conflicts= lists. NOT_FOUND units and templates are left out
 * (a reference to them is "not found"). dep_graph_new_from_unit_set() does it for every unit of a
 * loaded UnitSet, all names first, so a dependency on an alias finds its unit.
 */
int dep_graph_add_unit_model(DepGraph *g, const Unit *u, Error *reterr);
int dep_graph_new_from_unit_set(const UnitSet *set, DepGraph **ret, Error *reterr);
/* The same for an array of units (e.g. each Service's Unit). */
int dep_graph_new_from_units(const Unit *const *units, size_t n_units, DepGraph **ret, Error *reterr);
/* Warnings collected while building (dropped self-dependencies), or NULL. */
char *const *dep_graph_warnings(const DepGraph *g);

/*
 * An ordering cycle anywhere in the graph (After=/Before= among all units, regardless of what is
 * started), for `ctrmgr verify`. Returns 0 when there is none, 1 with the cycle in *ret_cycle as
 * ["a", "b", "c", "a"], meaning a is ordered after b, b after c, c after a.
 */
int dep_graph_find_ordering_cycle(const DepGraph *g, char ***ret_cycle);

/*
 * What has to stop when `unit` stops, besides unit itself (names, nearest first):
 *  - explicit == true (a stop job: `ctrmgr stop`, a conflict, a stop propagated from another
 *    unit): every unit that Requires= or BindsTo= it, transitively;
 *  - explicit == false (it went down on its own: exited, crashed, failed): only units that
 *    BindsTo= it, then, since those get stop jobs, whatever Requires=/BindsTo= those.
 * Requires= alone does not stop a unit when its dependency merely exits (systemd semantics).
 * The daemon feeds the result to dep_transaction_stop().
 */
int dep_graph_units_to_stop(const DepGraph *g, const char *unit, bool explicit, char ***ret, Error *reterr);

typedef enum DepJobType {
        DEP_JOB_START, /* start the unit (ctrmgr: run its container; external: StartUnit) */
        DEP_JOB_STOP,  /* stop the unit (external: StopUnit) */
        DEP_JOB_WAIT,  /* external only, ordering only: wait until its pending job, if any, is over */
        _DEP_JOB_TYPE_MAX,
} DepJobType;
const char *dep_job_type_to_string(DepJobType t); /* "start", "stop", "wait" */

typedef enum DepJobState {
        DEP_JOB_WAITING,  /* some job it is ordered after is not finished yet */
        DEP_JOB_RUNNING,  /* handed to the daemon by dep_transaction_next() */
        DEP_JOB_FINISHED, /* result is set */
} DepJobState;

typedef enum DepJobResult {
        DEP_JOB_RESULT_NONE,       /* not finished */
        DEP_JOB_RESULT_DONE,       /* start: the unit is ready (active); stop: it is inactive */
        DEP_JOB_RESULT_FAILED,     /* the unit failed to start or to become ready */
        DEP_JOB_RESULT_TIMEOUT,    /* TimeoutStartSec= passed */
        DEP_JOB_RESULT_DEPENDENCY, /* not run: a unit it Requires=/BindsTo= failed */
        _DEP_JOB_RESULT_MAX,
} DepJobResult;
const char *dep_job_result_to_string(DepJobResult r); /* "", "done", "failed", "timeout", "dependency" */

typedef struct DepJob {
        char *unit; /* normalized name ("db", "postgresql.service") */
        DepJobType type;
        bool external;  /* a systemd unit */
        bool anchor;    /* one of the units asked for (the others were pulled in) */
        unsigned layer; /* 0: waits for nothing; n: waits for some job of layer n-1 */
        size_t *after;  /* indices of the jobs this one waits for (sorted, unique) */
        size_t n_after;
        size_t *before; /* indices of the jobs that wait for this one */
        size_t n_before;
        DepJobState state;
        DepJobResult result;
        /* private to the library */
        size_t *required_by; /* start jobs that fail with "dependency" when this one fails */
        size_t n_required_by;
        size_t n_pending;
} DepJob;

/*
 * A transaction: the jobs a request needs, ordered. jobs[] is sorted by layer (then by the order
 * in which the jobs were pulled in): all jobs of a layer may run in parallel once the previous
 * layers are over. The finer rule, which dep_transaction_next() applies, is per job: a job may run
 * once every job in its after[] has finished, whether it succeeded or failed.
 */
typedef struct DepTransaction {
        DepJob *jobs;
        size_t n_jobs;
        unsigned n_layers;
        char **notes; /* what was decided that a person may want to know (ignored wanted units,
                       * jobs dropped to break ordering cycles or conflicts); NULL if none */
        /* private */
        size_t *queue;
        size_t queue_head, queue_tail;
        size_t n_finished;
} DepTransaction;

/*
 * Start `units` (normalized names; "x.ctr" allowed), with systemd's semantics:
 *  - Requires=/BindsTo=/Wants= pull in start jobs transitively (external units included);
 *  - Conflicts= (either side) pull in stop jobs, and a stop job pulls in stop jobs for the units
 *    that Require=/BindsTo= the stopped unit;
 *  - a missing or broken unit that is required makes the whole request fail (-ENOENT/-ENOEXEC,
 *    message naming it and who required it), unless everything that needs it was only wanted:
 *    then those wanted jobs are dropped and a note says so; a missing wanted unit is ignored;
 *  - a unit that would be both started and stopped: the job that does not matter to the request
 *    (only wanted, or pulled in by someone else's Conflicts=) is dropped; if both matter the
 *    request fails (-EDEADLK);
 *  - After=/Before= between jobs order them (stops are ordered in reverse; a stop is always
 *    ordered before a start of units ordered with each other); an After= on an external unit that
 *    is not pulled in becomes a DEP_JOB_WAIT job;
 *  - an ordering cycle is broken by dropping a job in the cycle that does not matter to the
 *    request (pulled in only by Wants=), the one nearest to where the cycle closes, as systemd
 *    does, with a note "Ordering cycle a -> b -> a: not starting b, ..."; if every job in the
 *    cycle matters the request fails with -ELOOP and "Ordering cycle a -> b -> a ...".
 * Jobs for units that are already in the target state are still listed: the daemon finishes them
 * at once with DEP_JOB_RESULT_DONE. O(V+E) (plus one pass per cycle broken).
 */
int dep_transaction_start(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr);
/*
 * The same for boot (`ctrmgrd` starting the enabled units): every unit is wanted, as
 * multi-user.target's Wants= would pull it in, not required. So a unit that cannot start (not
 * found, failed to load, a required unit missing) is left out with a note instead of failing the
 * request, a conflict between two of them drops one, and an ordering cycle among them is broken by
 * dropping one of its jobs, as systemd does at boot. No job is an anchor.
 */
int dep_transaction_start_wanted(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr);
/* Stop `units` and, transitively, every unit that Requires=/BindsTo= one of them, in the reverse
 * of the start order. */
int dep_transaction_stop(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr);
DepTransaction *dep_transaction_free(DepTransaction *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(DepTransaction *, dep_transaction_free);
#define _cleanup_dep_transaction_ _cleanup_(dep_transaction_freep)

/* Index of the job of that type for unit, or -ENOENT. */
ssize_t dep_transaction_find(const DepTransaction *t, const char *unit, DepJobType type);

/*
 * Running a transaction. dep_transaction_next() returns 1 and the index of a job that may run
 * now (marking it RUNNING), or 0 when nothing can run until a running job finishes. Call it until
 * it returns 0 after each dep_transaction_finish(). dep_transaction_finish() records the result of
 * a RUNNING job (DONE, FAILED or TIMEOUT) and, on failure of a start, finishes every start job of
 * a unit that Requires=/BindsTo= the failed one with DEP_JOB_RESULT_DEPENDENCY (transitively; such
 * a job that was already RUNNING keeps its unit running, as in systemd, only the job fails).
 * Returns the number of jobs so failed, 0 when the job had already finished (ignored), -EINVAL
 * for a bad index, result or a job that is not running.
 */
int dep_transaction_next(DepTransaction *t, size_t *ret_index);
int dep_transaction_finish(DepTransaction *t, size_t index, DepJobResult result);
bool dep_transaction_is_done(const DepTransaction *t);

/* ================================================================ 2. restart policy */

typedef enum RestartPolicy {
        RESTART_POLICY_NO,
        RESTART_POLICY_ON_SUCCESS,
        RESTART_POLICY_ON_FAILURE,
        RESTART_POLICY_ON_ABNORMAL,
        RESTART_POLICY_ON_WATCHDOG,
        RESTART_POLICY_ON_ABORT,
        RESTART_POLICY_ALWAYS,
        RESTART_POLICY_UNLESS_STOPPED, /* Docker: always, plus a remembered administrative stop */
        _RESTART_POLICY_MAX,
        _RESTART_POLICY_INVALID = -EINVAL,
} RestartPolicy;

/* "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always",
 * "unless-stopped". from_string takes exactly these; see restart_config_parse_restart() for
 * "on-failure:N". */
const char *restart_policy_to_string(RestartPolicy p);
RestartPolicy restart_policy_from_string(const char *s);

/* How a container run ended. */
typedef enum ExitCause {
        EXIT_CAUSE_EXITED,    /* the main process exited; status = exit code (0…255) */
        EXIT_CAUSE_SIGNAL,    /* killed by signal `status` */
        EXIT_CAUSE_CORE_DUMP, /* killed by signal `status`, dumped core */
        EXIT_CAUSE_TIMEOUT,   /* the daemon gave up on it: TimeoutStartSec= (or a stop timeout) */
        EXIT_CAUSE_WATCHDOG,  /* the watchdog expired (the daemon killed it) */
        EXIT_CAUSE_OOM_KILL,  /* the kernel's OOM killer killed it (memory.events oom_kill) */
        _EXIT_CAUSE_MAX,
} ExitCause;

typedef struct ExitInfo {
        ExitCause cause;
        int status; /* exit code or signal number; for TIMEOUT/WATCHDOG/OOM_KILL the signal that
                     * finally killed it, or 0; the status sets below are not consulted for those */
} ExitInfo;

/* systemd's Result= values, as a unit that ended shows them. */
typedef enum PolicyResult {
        POLICY_RESULT_SUCCESS,
        POLICY_RESULT_EXIT_CODE,
        POLICY_RESULT_SIGNAL,
        POLICY_RESULT_CORE_DUMP,
        POLICY_RESULT_TIMEOUT,
        POLICY_RESULT_WATCHDOG,
        POLICY_RESULT_OOM_KILL,
        POLICY_RESULT_START_LIMIT_HIT,
        _POLICY_RESULT_MAX,
} PolicyResult;
/* "success", "exit-code", "signal", "core-dump", "timeout", "watchdog", "oom-kill", "start-limit-hit" */
const char *policy_result_to_string(PolicyResult r);

/* A set of exit codes (0…255) and signals (1…64), as RestartPreventExitStatus=,
 * RestartForceExitStatus= and SuccessExitStatus= hold them (same bit layout as UnitConfig's). */
typedef struct ExitStatusSet {
        uint8_t status[32]; /* bit (code % 8) of byte (code / 8) */
        uint64_t signals;   /* bit (signal - 1) */
} ExitStatusSet;

/* Adds the space-separated codes ("0".."255") and signal names ("SIGKILL", "TERM") of value to
 * set; an empty value empties the set (systemd's list reset). Nothing is added on error. */
int exit_status_set_parse(ExitStatusSet *set, const char *value, Error *reterr);
/* Whether the way a process ended (EXITED with code, SIGNAL/CORE_DUMP with signal) is in set. */
bool exit_status_set_test(const ExitStatusSet *set, ExitCause cause, int status);

/* Classifies an exit: clean are exit code 0, SIGHUP, SIGINT, SIGTERM, SIGPIPE (a daemon's clean
 * signals) and whatever success_status (may be NULL) lists. */
PolicyResult exit_classify(const ExitInfo *e, const ExitStatusSet *success_status);

typedef struct RestartConfig {
        RestartPolicy policy;               /* default no */
        uint64_t restart_usec;              /* RestartSec=, default 100ms */
        unsigned restart_steps;             /* RestartSteps=, default 0 (no growth) */
        uint64_t restart_max_delay_usec;    /* RestartMaxDelaySec=, default USEC_INFINITY (unset) */
        uint64_t start_limit_interval_usec; /* default 10s; 0: no limit; USEC_INFINITY: for ever */
        unsigned start_limit_burst;         /* default 5; 0: no limit */
        unsigned max_retries;               /* on-failure:N: at most N automatic restarts after a
                                             * start by hand; 0: no cap */
        ExitStatusSet prevent_status;       /* RestartPreventExitStatus= */
        ExitStatusSet force_status;         /* RestartForceExitStatus= */
        ExitStatusSet success_status;       /* SuccessExitStatus= */
} RestartConfig;

/* systemd's defaults, as listed above. */
void restart_config_init(RestartConfig *c);
/* From units/' model: Restart= (unless-stopped included), RestartSec=, RestartSteps=,
 * RestartMaxDelaySec=, StartLimitIntervalSec=, StartLimitBurst= (units/ turns on-failure:N into
 * StartLimitBurst=N+1 over an infinite interval), RestartPreventExitStatus=. */
void restart_config_from_unit(RestartConfig *c, const UnitConfig *uc);
/* Restart= value: a policy name, or Docker's "on-failure:N" (N ≥ 0, sets max_retries = N). */
int restart_config_parse_restart(RestartConfig *c, const char *value, Error *reterr);

/*
 * The restart delay before automatic restart number n (1 for the first), as systemd computes it:
 * RestartSec= when n ≤ 1, RestartSteps= is 0, RestartSec= is 0, RestartMaxDelaySec= is unset or
 * not larger than RestartSec=; RestartMaxDelaySec= once n > RestartSteps=; in between the
 * exponential interpolation RestartSec × (RestartMaxDelaySec / RestartSec)^((n − 1) / RestartSteps),
 * rounded down to the microsecond.
 */
uint64_t restart_delay_usec(const RestartConfig *c, unsigned n);

/*
 * Per-unit runtime state, owned by the daemon. Persist it with restart_state_serialize() so that
 * unless-stopped's administrative stop (and, within one boot, the counters) survive a restart of
 * ctrmgrd or of the machine.
 */
typedef struct RestartState {
        unsigned n_restarts;        /* automatic restarts since the last start by hand (NRestarts=) */
        bool admin_stopped;         /* last stopped by an administrator (`ctrmgr stop`) */
        bool start_limit_hit;       /* the last start was refused by the start limit */
        uint64_t start_limit_begin; /* CLOCK_MONOTONIC usec the current window began */
        unsigned start_limit_num;   /* starts counted in it; 0: no window */
} RestartState;

#define RESTART_STATE_INIT ((RestartState){})

/*
 * Call before every start, automatic (a restart timer fired) or by hand (`ctrmgr start`, boot,
 * a dependency). A start by hand forgets the administrative stop and the restart counter (systemd
 * flushes NRestarts on a start that is not an automatic restart); an automatic one counts a
 * restart. Then the start limit (systemd's rate limit): more than StartLimitBurst= starts within
 * StartLimitIntervalSec= are refused: returns -ECANCELED, sets start_limit_hit, and the unit
 * must enter "failed" with result start-limit-hit; nothing restarts it automatically, and
 * starts by hand are refused until the window passes or restart_state_reset_failed().
 */
int restart_check_start(const RestartConfig *c, RestartState *s, uint64_t now, bool automatic,
                        Error *reterr);

typedef struct RestartDecision {
        bool restart;        /* schedule a start after delay_usec (then restart_check_start(automatic)) */
        uint64_t delay_usec; /* RestartSec= with RestartSteps= growth; 0 when !restart */
        PolicyResult result; /* what the unit shows (Result=); "failed" unless SUCCESS */
        const char *reason;  /* "manual stop", "prevented by exit status", "forced by exit status",
                              * "restart setting", "retry limit reached": for the daemon's log */
} RestartDecision;

/*
 * What to do when a container run ended. stop_requested: the end came from a stop job (`ctrmgr
 * stop`, restart, a conflict, a stop propagated by Requires=/BindsTo=, HealthOnFailure=stop):
 * never restart then. Otherwise, in systemd's order: RestartPreventExitStatus= blocks,
 * RestartForceExitStatus= forces, then the Restart= table:
 *
 *   result \ Restart=   always on-success on-failure on-abnormal on-abort on-watchdog
 *   success               x       x
 *   exit-code             x                  x
 *   signal, core-dump     x                  x           x          x
 *   timeout               x                  x           x
 *   watchdog              x                  x           x                     x
 *   oom-kill              x                  x           x
 *
 * (unless-stopped is always). on-failure:N then refuses once n_restarts ≥ N.
 */
int restart_on_exit(const RestartConfig *c, const RestartState *s, const ExitInfo *e, bool stop_requested,
                    RestartDecision *ret);

/* `ctrmgr stop` by an administrator: remembered for unless-stopped. */
void restart_state_manual_stop(RestartState *s);
/* `ctrmgr reset-failed`: forgets the start-limit window and the restart counter. */
void restart_state_reset_failed(RestartState *s);

/* Whether the daemon starts the unit when it starts (boot): enabled units do, except an
 * unless-stopped unit an administrator stopped. */
bool restart_should_start_on_boot(const RestartConfig *c, const RestartState *s, bool enabled);

/*
 * A small text record ("key=value" lines) of the state, for the daemon to write atomically. The
 * monotonic window is kept only if boot_id (e.g. /proc/sys/kernel/random/boot_id) is the same at
 * deserialization; admin_stopped and n_restarts always are. Unknown keys are ignored; malformed
 * values are -EINVAL with the line in the message.
 */
int restart_state_serialize(const RestartState *s, const char *boot_id, char **ret);
int restart_state_deserialize(const char *text, const char *boot_id, RestartState *ret, Error *reterr);

/* ================================================================ 3. readiness and health */

/*
 * sd_notify datagrams, as the container sends them to the NOTIFY_SOCKET the daemon passes in:
 * newline-separated KEY=VALUE assignments. Datagrams larger than NOTIFY_MESSAGE_MAX or with a NUL
 * byte are refused (-EBADMSG), as systemd does; unknown keys and malformed values of known keys
 * are ignored (systemd logs and ignores them too); the last assignment of a key wins.
 */
#define NOTIFY_MESSAGE_MAX 4096
#define NOTIFY_STATUS_MAX  1024 /* STATUS= text kept, longer is cut */

typedef struct NotifyMessage {
        bool ready;                   /* READY=1 */
        bool stopping;                /* STOPPING=1 */
        bool reloading;               /* RELOADING=1 */
        bool watchdog_ping;           /* WATCHDOG=1 */
        bool watchdog_trigger;        /* WATCHDOG=trigger: the service asks to be treated as hung */
        char *status;                 /* STATUS=, or NULL */
        uint64_t watchdog_usec;       /* WATCHDOG_USEC=: new watchdog timeout; 0 = not sent */
        uint64_t extend_timeout_usec; /* EXTEND_TIMEOUT_USEC=: 0 = not sent */
        int errno_value;              /* ERRNO=, 0 = not sent */
        pid_t main_pid;               /* MAINPID=, 0 = not sent (a container's PID is its init; the
                                       * daemon should ignore it unless it trusts the sender) */
} NotifyMessage;

int notify_message_parse(const char *buf, size_t len, NotifyMessage *ret);
void notify_message_done(NotifyMessage *m);

typedef enum HealthStatus {
        HEALTH_NONE,     /* no HealthCmd= */
        HEALTH_STARTING, /* no check passed yet */
        HEALTH_HEALTHY,
        HEALTH_UNHEALTHY,
        _HEALTH_STATUS_MAX,
} HealthStatus;
const char *health_status_to_string(HealthStatus s); /* "", "starting", "healthy", "unhealthy" */

typedef enum ReadyState {
        READY_WAITING,  /* started, not ready yet (unit "activating") */
        READY_READY,    /* ready: the unit is "active", start jobs ordered after it may run */
        READY_TIMEOUT,  /* TimeoutStartSec= passed first: kill it, EXIT_CAUSE_TIMEOUT */
        READY_WATCHDOG, /* the watchdog expired (or was triggered): kill it, EXIT_CAUSE_WATCHDOG */
        _READY_STATE_MAX,
} ReadyState;
const char *ready_state_to_string(ReadyState s); /* "waiting", "ready", "timeout", "watchdog" */

/*
 * Readiness of one run of a container. Notify=false: ready as soon as the container process
 * started. Notify=true: ready on READY=1. Notify=healthy: ready when the health check first
 * passes. Until then TimeoutStartSec= (EXTEND_TIMEOUT_USEC= extends it, as in systemd) bounds
 * the wait. Once a WATCHDOG_USEC= was received the container must send WATCHDOG=1 within that
 * time, ready or not.
 */
typedef struct Readiness {
        UnitNotify mode;
        ReadyState state;
        uint64_t timeout_start_usec; /* USEC_INFINITY: none */
        uint64_t start_deadline;     /* absolute; USEC_INFINITY once ready or without timeout */
        uint64_t watchdog_usec;      /* 0: no watchdog */
        uint64_t watchdog_deadline;  /* absolute; USEC_INFINITY when off */
        char *status;                /* last STATUS= text, or NULL */
        bool stopping;               /* STOPPING=1 was received */
        int errno_value;             /* last ERRNO= */
} Readiness;

/* A container run started at `now` (the runtime's start returned). For Notify=false the state is
 * READY_READY at once. */
void readiness_start(Readiness *r, UnitNotify mode, uint64_t timeout_start_usec, uint64_t now);
void readiness_done(Readiness *r);

typedef enum ReadyEvent {
        READY_EVENT_NONE = 0,
        READY_EVENT_READY = 1 << 0,   /* it became ready now: finish the start job with DONE */
        READY_EVENT_STATUS = 1 << 1,  /* the status text changed (D-Bus StatusText) */
        READY_EVENT_EXPIRED = 1 << 2, /* state is READY_TIMEOUT or READY_WATCHDOG now: kill it */
} ReadyEvent;

/* A notify message from the container. READY=1 counts only for Notify=true. Returns events. */
int readiness_on_notify(Readiness *r, const NotifyMessage *m, uint64_t now);
/* The health status changed (Notify=healthy: the first HEALTH_HEALTHY makes it ready). */
int readiness_on_health(Readiness *r, HealthStatus health, uint64_t now);
/* The earliest deadline (start timeout, watchdog), USEC_INFINITY for none: arm one timer for it. */
uint64_t readiness_next_deadline(const Readiness *r);
/* The timer fired (or any time): checks the deadlines against now. Returns events. */
int readiness_on_time(Readiness *r, uint64_t now);

/*
 * Health checks with Docker's/Podman's semantics. The daemon runs HealthCmd= inside the container
 * (an exec through runtime/) when health_next_check() is due, kills it when health_check_deadline()
 * passes, and reports each result. A check passes with exit code 0; any other code, a signal, a
 * timeout or a failure to run it fails. Status "starting" lasts until the first pass; failures
 * during HealthStartPeriod= do not count unless a check already passed; HealthRetries=
 * consecutive failures make it "unhealthy" and call for HealthOnFailure=; a pass makes it
 * "healthy" again. The first check runs HealthInterval= after the start, then every
 * HealthInterval= after the previous one ended (HealthInterval=0: only on request).
 */

typedef struct HealthConfig {
        bool enabled; /* HealthCmd= given */
        uint64_t interval_usec;
        uint64_t timeout_usec;
        unsigned retries;
        uint64_t start_period_usec;
        UnitHealthOnFailure on_failure;
} HealthConfig;
void health_config_from_unit(HealthConfig *c, const UnitConfig *uc);

#define HEALTH_LOG_MAX      5    /* results kept, as Docker */
#define HEALTH_OUTPUT_MAX   4096 /* bytes of output kept per result, as Docker */
#define HEALTH_EXIT_TIMEOUT (-1) /* exit_code of a check killed at its timeout */
#define HEALTH_EXIT_ERROR   (-2) /* exit_code of a check that could not be run */

typedef struct HealthLogEntry {
        uint64_t start, end; /* CLOCK_MONOTONIC usec */
        int exit_code;       /* 0 passed; > 0 exit code; 128+N killed by N; or HEALTH_EXIT_* */
        char *output;        /* stdout and stderr, cut to HEALTH_OUTPUT_MAX */
} HealthLogEntry;

typedef struct Health {
        HealthStatus status;
        unsigned failing_streak; /* consecutive failed checks that counted */
        bool passed_once;
        uint64_t started_at; /* the container's start */
        uint64_t next_check; /* absolute; USEC_INFINITY: none scheduled */
        bool check_running;
        uint64_t check_started;
        HealthLogEntry log[HEALTH_LOG_MAX]; /* oldest first */
        size_t n_log;
} Health;

/* A container run started at `now`. */
void health_start(Health *h, const HealthConfig *c, uint64_t now);
void health_done(Health *h);
/* When the next check is due (USEC_INFINITY: none). */
uint64_t health_next_check(const Health *h);
/* A check begins now (timer or `ctrmgr healthcheck`); returns when to kill it (its timeout);
 * -EBUSY if one is running, -EOPNOTSUPP without HealthCmd=. */
int health_check_begin(Health *h, const HealthConfig *c, uint64_t now, uint64_t *ret_deadline);

typedef enum HealthAction {
        HEALTH_ACTION_NONE,
        HEALTH_ACTION_KILL,    /* SIGKILL the container; its exit then goes through restart_on_exit() */
        HEALTH_ACTION_RESTART, /* a stop job (stop_requested) then a start counted as automatic */
        HEALTH_ACTION_STOP,    /* a stop job: the unit ends inactive, no restart */
} HealthAction;
const char *health_action_to_string(HealthAction a); /* "none", "kill", "restart", "stop" */

/*
 * The running check ended at `now` with exit_code (see HealthLogEntry) and its output (any bytes,
 * len may be 0). Sets *ret_changed when the status changed, *ret_action to HealthOnFailure= when
 * the status just became unhealthy (else NONE). -EINVAL if no check was running.
 */
int health_check_end(Health *h, const HealthConfig *c, uint64_t now, int exit_code, const char *output,
                     size_t len, bool *ret_changed, HealthAction *ret_action);
