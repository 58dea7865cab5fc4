/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * runtime/ — the OCI runtime core, in-process.
 *
 * A container is created from a parsed OCI runtime spec (config.json, runtime-spec 1.2) and
 * lives in a state directory <root>/<id>/ (0700). The calling process is never re-executed:
 * create forks the container's init directly, the init sets itself up in its namespaces and
 * waits for start on a socket in the state directory.
 *
 * Rules for callers:
 *  - No threads may run in the caller while create/exec fork (the child continues in a copy of
 *    the caller's memory and calls only async-signal-safe-ish code, but locks held by other
 *    threads would stay held).
 *  - The library never prints; every function fills an optional Error chain.
 *  - SIGCHLD: create and exec reap their own helper processes by pid; the container's init and
 *    exec'd processes are children of the caller (waitpid them, or use the returned pidfd).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"

struct json_object;

#define RUNTIME_DEFAULT_ROOT "/run/ctrmgr-oci"

/* A parsed config.json. */
typedef struct RuntimeSpec RuntimeSpec;

/* Parses <bundle>/config.json. Errors name the JSON path ("linux.namespaces[2].type: ..."). */
int runtime_spec_load(const char *bundle, RuntimeSpec **ret, Error *reterr);
int runtime_spec_parse_string(const char *json, RuntimeSpec **ret, Error *reterr);
/* Takes a reference of root (the caller keeps its own). */
int runtime_spec_parse_json(struct json_object *root, RuntimeSpec **ret, Error *reterr);
RuntimeSpec *runtime_spec_free(RuntimeSpec *spec);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuntimeSpec *, runtime_spec_free);
#define _cleanup_runtime_spec_ _cleanup_(runtime_spec_freep)

/* A default config.json as `runc spec` writes it (rootless: user namespace, no network ns). */
char *runtime_spec_default_json(bool rootless);

/*
 * Called in the container's init (and exec'd) process after it has been placed in its cgroup
 * and namespaces and before mounts/pivot_root (init) or before dropping privileges (exec).
 * stdio is already connected. Return < 0 (filling reterr) to abort the create.
 */
typedef int (*RuntimeChildSetup)(void *userdata, Error *reterr);

typedef struct RuntimeOptions {
        /* Directory the relative root.path is taken from and recorded as "bundle" in state.
         * Required by create; for exec unused. */
        const char *bundle;
        /* stdin/stdout/stderr for the container's process when there is no terminal; -1 means
         * "inherit the caller's". */
        int stdio[3];
        /* runc's --console-socket: the pty master is sent there with SCM_RIGHTS. */
        const char *console_socket;
        /* Written (atomically) with the pid of the container's process. */
        const char *pid_file;
        /* Descriptors 3 .. 3+preserve_fds-1 of the caller are passed on to the process. */
        unsigned preserve_fds;
        bool no_pivot;
        /* runc's --no-new-keyring: the container keeps the caller's session keyring instead of a
         * new one, "_ses.<id>" (create; exec follows what create did). */
        bool no_new_keyring;
        /* Use the systemd cgroup driver (cgroupsPath "slice:prefix:name"). */
        bool systemd_cgroup;
        /* Where compiled seccomp filters are cached (NULL: <root>/.seccomp-cache, out of the
         * namespace of container ids, which may not start with '.'). */
        const char *seccomp_cache_dir;
        RuntimeChildSetup child_setup;
        void *child_setup_userdata;
        /* Called with each resource limit this host cannot apply (hybrid cgroups etc.) and, by
         * runtime_start/delete_with_options, with each failing poststart/poststop hook. */
        void (*warn)(void *userdata, const char *message);
        void *warn_userdata;
        /* Called with a line for each step of create, start, exec and delete (what runc's
         * --debug shows): namespaces, cgroup, seccomp, hooks, pids. NULL: nothing is formatted. */
        void (*debug)(void *userdata, const char *message);
        void *debug_userdata;
} RuntimeOptions;

#define RUNTIME_OPTIONS_INIT           \
        ((RuntimeOptions){             \
                .stdio = {-1, -1, -1}, \
        })

typedef enum RuntimeStatus {
        RUNTIME_STATUS_CREATING,
        RUNTIME_STATUS_CREATED,
        RUNTIME_STATUS_RUNNING,
        RUNTIME_STATUS_PAUSED,
        RUNTIME_STATUS_STOPPED,
        _RUNTIME_STATUS_MAX,
        _RUNTIME_STATUS_INVALID = -EINVAL,
} RuntimeStatus;

const char *runtime_status_to_string(RuntimeStatus s);

typedef struct RuntimeState {
        char *id;
        pid_t pid; /* 0 once stopped */
        RuntimeStatus status;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 with nanoseconds, UTC */
        uid_t owner;
        char **annotations; /* key, value, key, value, ... */
        char *cgroup_path;  /* as resolved at create, "" if none */
} RuntimeState;

void runtime_state_done(RuntimeState *s);

/* Container ids: [A-Za-z0-9_+-][A-Za-z0-9_+.-]*, at most 1024 bytes. */
bool runtime_id_is_valid(const char *id);

/*
 * Creates container id under root (NULL means RUNTIME_DEFAULT_ROOT) from spec. On return the
 * init waits in its namespaces for runtime_start(). ret_pid gets the init's pid (in the
 * caller's pid namespace), ret_pidfd (optional) a pidfd of it where the kernel has them
 * (-1 otherwise). The init is a child of the calling process.
 */
int runtime_create(const char *root, const char *id, const RuntimeSpec *spec, const RuntimeOptions *opts,
                   pid_t *ret_pid, int *ret_pidfd, Error *reterr);
/* Lets the init execute the user's process; runs the poststart hooks. */
int runtime_start(const char *root, const char *id, Error *reterr);
/* The same, with each failing poststart hook reported through opts->warn (opts may be NULL; only
 * warn and warn_userdata are used). A failing poststart hook never fails start. */
int runtime_start_with_options(const char *root, const char *id, const RuntimeOptions *opts, Error *reterr);
int runtime_state(const char *root, const char *id, RuntimeState *ret, Error *reterr);
/* The state as runc prints it (JSON object text, malloc'd). */
int runtime_state_json(const RuntimeState *s, char **ret);
/* Sends sig to the init, or with all to every process of the container (its cgroup). */
int runtime_kill(const char *root, const char *id, int sig, bool all, Error *reterr);
/* Removes a stopped (or with force any: killed first) container, runs poststop hooks. */
int runtime_delete(const char *root, const char *id, bool force, Error *reterr);
/* The same, with each failing poststop hook reported through opts->warn (see above). */
int runtime_delete_with_options(const char *root, const char *id, bool force, const RuntimeOptions *opts,
                                Error *reterr);
/* Ids of all containers under root, sorted. */
int runtime_list(const char *root, char ***ret_ids, Error *reterr);

/* The "process" object of config.json, for exec. */
typedef struct RuntimeProcess RuntimeProcess;
int runtime_process_parse_string(const char *json, RuntimeProcess **ret, Error *reterr);
int runtime_process_load(const char *path, RuntimeProcess **ret, Error *reterr);
/* Copies the container's process and replaces args (and optionally more via the setters). */
int runtime_process_from_container(const char *root, const char *id, char **args, RuntimeProcess **ret,
                                   Error *reterr);
int runtime_process_set_terminal(RuntimeProcess *p, bool terminal);
int runtime_process_add_env(RuntimeProcess *p, const char *assignment);
/* runc exec --no-new-privs: sets it (never clears one the container has). */
void runtime_process_set_no_new_privileges(RuntimeProcess *p);
int runtime_process_set_cwd(RuntimeProcess *p, const char *cwd);
/* "uid[:gid]" numeric. */
int runtime_process_set_user(RuntimeProcess *p, const char *user);
RuntimeProcess *runtime_process_free(RuntimeProcess *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuntimeProcess *, runtime_process_free);
#define _cleanup_runtime_process_ _cleanup_(runtime_process_freep)

/* Runs process in the running container id. The new process is a child of the caller. */
int runtime_exec(const char *root, const char *id, const RuntimeProcess *process, const RuntimeOptions *opts,
                 pid_t *ret_pid, int *ret_pidfd, Error *reterr);

int runtime_pause(const char *root, const char *id, Error *reterr);
int runtime_resume(const char *root, const char *id, Error *reterr);
/* Pids (caller's pid namespace) of all processes in the container's cgroup. */
int runtime_ps(const char *root, const char *id, pid_t **ret_pids, size_t *ret_n, Error *reterr);
/* Applies a linux.resources object to the running container. ret_warnings (optional) gets each
 * limit this host could not apply (hybrid cgroups: controllers missing from v2). */
int runtime_update(const char *root, const char *id, struct json_object *resources, char ***ret_warnings,
                   Error *reterr);

/* Seccomp profiles in Docker's / containers-common's format (`defaultAction`, `syscalls` with
 * `includes`/`excludes` by capability, architecture and kernel version, `archMap`), turned into
 * the OCI linux.seccomp object for one container. */
typedef struct SeccompProfileOptions {
        uint64_t capabilities; /* bit N set = capability N: the container's bounding set */
        const char *arch;      /* NULL = this machine; else Go ("amd64") or SCMP ("SCMP_ARCH_X86_64") name */
        const char *kernel_release; /* NULL = uname(2)'s release, e.g. "6.1.0-18-amd64" */
} SeccompProfileOptions;
/* Reads and converts a profile file; errors name the file and the JSON path. */
int seccomp_profile_load_docker(const char *path, const SeccompProfileOptions *opts,
                                struct json_object **ret_oci, Error *reterr);

/* `features` as JSON text (malloc'd). */
char *runtime_features_json(void);
