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
 * failure, an optional Error *reterr receives a message meant for a person.
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
/* The same for each name of a NULL-terminated list (e.g. UnitConfig.after). */
int dep_graph_add_deps(DepGraph *g, const char *unit, DepType type, char *const *others, Error *reterr);
/*
 * From units/' model: declares u (LOADED: startable; ERROR or MASKED: DEP_UNIT_BROKEN, so that
 * requiring it fails with "failed to load") with its After=/Before=/Requires=/Wants=/BindsTo=/
 * Conflicts= lists. NOT_FOUND units and templates are left out (a reference to them is "not
 * found"). dep_graph_new_from_unit_set() does it for every unit of a loaded UnitSet.
 */
int dep_graph_add_unit_model(DepGraph *g, const Unit *u, Error *reterr);
int dep_graph_new_from_unit_set(const UnitSet *set, DepGraph **ret, Error *reterr);
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
