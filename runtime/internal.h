/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of runtime/ (not public). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

struct json_object;

/* ---------------------------------------------------------------- sync socket protocol
 *
 * A SOCK_SEQPACKET pair between the runtime (parent) and the child it forked. Each message is one
 * packet: a SyncHeader followed by a payload (text or a pid). The child reports failures as
 * SYNC_ERROR with the text of its Error chain, so the parent can show exactly what failed. */

typedef enum SyncType {
        SYNC_ERROR = 'E',        /* child → parent: int code + text */
        SYNC_USERNS = 'U',       /* child → parent: write my uid/gid maps */
        SYNC_USERNS_DONE = 'u',  /* parent → child */
        SYNC_PID = 'P',          /* child → parent: pid of the process that will exec */
        SYNC_PID_DONE = 'p',     /* parent → child: pid recorded (orders all that follows) */
        SYNC_HOOKS = 'H',        /* child → parent: run prestart + createRuntime hooks now */
        SYNC_HOOKS_DONE = 'h',   /* parent → child: payload: state JSON for in-container hooks */
        SYNC_READY = 'R',        /* child → parent: set up, waiting for start */
        SYNC_GO = 'G',           /* parent → child: go on (after the parent did its part) */
        SYNC_SECCOMP = 'S',      /* child → parent (exec): the seccomp listener fd, SCM_RIGHTS */
        SYNC_SECCOMP_DONE = 's', /* parent → child: it went to linux.seccomp.listenerPath */
} SyncType;

/* create: the same hand-over on `start`'s connection, whose packets are otherwise error texts: a
 * packet of exactly this text with the listener fd, answered by one byte. */
#define START_SECCOMP_LISTENER "SECCOMP_LISTENER"

typedef struct SyncHeader {
        int32_t type;
        int32_t code;
        int64_t value;
} SyncHeader;

#define SYNC_MAX_PAYLOAD 16384

int sync_send(int fd, SyncType type, int code, int64_t value, const char *text);
/* Receives one message; text (optional) gets a malloc'd NUL-terminated payload. EOF: -EPIPE. */
int sync_recv(int fd, SyncHeader *ret, char **ret_text);
/* The same, and ret_fd gets a descriptor that came with it (SCM_RIGHTS), -1 if none. */
int sync_recv_fd(int fd, SyncHeader *ret, char **ret_text, int *ret_fd);
/* One packet (or stream read) and the descriptor that came with it (SCM_RIGHTS) in *ret_fd, -1 if
 * none (closed if ret_fd is NULL); returns the bytes read or -errno. */
ssize_t recv_with_fd(int fd, void *buf, size_t len, int *ret_fd);
/* Sends data with fd in SCM_RIGHTS; returns the bytes sent or -errno. */
int send_with_fd(int sock, const void *data, size_t len, int fd);
/* runtime-spec linux.seccomp.listenerPath: connects and sends the container process state
 * (state_json inside) with the listener fd. */
int seccomp_listener_send(const char *path, const char *metadata, pid_t pid, const char *state_json,
                          int listener_fd, Error *reterr);
/* Child side: sends e as SYNC_ERROR. */
void sync_send_error(int fd, int r, const Error *e);
/* Waits for a message of type want; a SYNC_ERROR becomes an error in reterr. */
int sync_expect(int fd, SyncType want, SyncHeader *ret, char **ret_text, Error *reterr);

/* ---------------------------------------------------------------- container state on disk */

typedef struct ContainerRecord {
        char *id;
        pid_t pid;
        uint64_t start_time; /* /proc/PID/stat field 22, to detect pid reuse */
        char *bundle;
        char *rootfs;
        char *created;
        uid_t owner;
        bool systemd_cgroup;
        char *cgroup_path; /* relative to the cgroup2 root, NULL if none */
        char *cgroup_unit;
        int ns_flags;               /* CLONE_NEW* of the namespaces exec must join */
        bool no_new_keyring;        /* created with --no-new-keyring: exec keeps the caller's */
        bool has_poststart;         /* the config has poststart hooks */
        bool has_poststop;          /* ... poststop hooks */
        struct json_object *config; /* the spec: NULL until container_record_load_config() */
} ContainerRecord;

/*
 * <root>/<id>/state.json holds the record, <root>/<id>/config.json the config as create got it.
 * Apart, so that start, kill and delete, which need the config only for poststart or poststop
 * hooks and a seccomp listener, do not read and parse it: with a seccomp profile it is most of
 * the bytes. (Older versions kept the config inside state.json; such a record still loads.)
 */
void container_record_done(ContainerRecord *r);
int container_record_save(int dirfd, const ContainerRecord *rec, Error *reterr);
int container_record_load(int dirfd, ContainerRecord *ret, Error *reterr);
/* Fills rec->config from config.json, unless it is there already. */
int container_record_load_config(int dirfd, ContainerRecord *rec, Error *reterr);
/* Writes config.json (text of size bytes, a JSON object). */
int container_config_save(int dirfd, const char *text, size_t size, Error *reterr);

/* Opens <root>/<id> (O_DIRECTORY), optionally locked (flock) exclusively. */
int container_dir_open(const char *root, const char *id, bool lock, int *ret_fd, Error *reterr);

/* Start time of pid from /proc, 0 if gone; -errno on failure. */
int pid_start_time(pid_t pid, uint64_t *ret, bool *ret_zombie);

/* The status of a saved container. */
RuntimeStatus container_record_status(int dirfd, const ContainerRecord *rec);

/* State JSON for hooks and `state`. */
char *container_state_json(const char *id, RuntimeStatus status, pid_t pid, const char *bundle,
                           const char *rootfs, const char *created, uid_t owner, char *const *annotations,
                           bool pretty);

/* opts->debug, formatted (nothing happens without a debug callback). */
void runtime_debug(const RuntimeOptions *opts, const char *fmt, ...) _printf_(2, 3);

/* ---------------------------------------------------------------- hooks */

/* Runs the hooks of one kind one after the other, each with state_json on stdin; through the exec
 * trampoline trampoline_fd (the hooks run in the container's mount namespace) unless it is -1.
 * Without warn_to the first failure ends it (and is returned); with warn_to (poststart,
 * poststop) every hook runs, each failure goes to warn_to->warn (if set), and 0 is returned. */
int hooks_run(const SpecHook *hooks, size_t n, HookKind kind, const char *state_json, int trampoline_fd,
              const RuntimeOptions *warn_to, Error *reterr);

/* ---------------------------------------------------------------- the child side */

typedef struct ChildContext {
        const RuntimeSpec *spec;
        const RuntimeProcess *process;
        const RuntimeOptions *opts;
        const char *rootfs; /* absolute, host view */
        const char *bundle;
        int sync_fd;
        int start_listen_fd; /* create: accept()ed by start */
        int console_fd;      /* connected console socket or -1 */
        int devnull_fd;      /* O_PATH of the host /dev/null, verified char 1:3 */
        int cap_last;
        bool exec;           /* runtime_exec rather than create */
        const char *id;      /* container id: the session keyring is "_ses.<id>" */
        bool no_new_keyring; /* keep the caller's session keyring */
        int pidfd;           /* exec: pidfd of the container's init */
        int ns_flags;        /* exec: namespaces to join */
        const SeccompProgram *seccomp;
        bool seccomp_listener;
        const char *seccomp_listener_path;
        int close_fds[4];            /* the runtime's own fds the child must not keep (locks!), -1 = none */
        uint64_t clone_ns_flags;     /* create: namespaces the child was cloned into (no second fork) */
        int trampoline_fd;           /* sealed memfd of the exec trampoline (trampoline.c) */
        bool trampoline_no_execveat; /* the seccomp profile may not allow execveat(2) */
        int lsm_attr_fd;             /* O_PATH of /proc/<tid>/attr (private procfs) or -1 */
} ChildContext;

/* Runs in the forked child; never returns. */
_noreturn_ void child_main(ChildContext *c);

/* Mount setup of the container's rootfs (in the child, new mount namespace). */
int rootfs_setup(ChildContext *c, int *ret_rootfd, Error *reterr);
int rootfs_pivot(ChildContext *c, int rootfd, Error *reterr);
/* After pivot: /dev/console, the pty. Returns the slave fd in ret. */
int console_setup(ChildContext *c, bool mount_console, int *ret_slave, Error *reterr);
/* Helper: a procfs instance of our own (fsopen), never one the container can have replaced. */
int procfs_open_private(int *ret, Error *reterr);
int write_sysctls(ChildContext *c, int procfd, Error *reterr);

/* Joins (creating it if need be) the session keyring "_ses.<id>", searchable by its user, as runc
 * does: the container must not share the caller's session keyring (its keys would be readable,
 * and the container's keys would outlive it there). ENOSYS and EPERM (no keyrings, or a seccomp
 * filter the caller runs under) are ignored. */
int join_session_keyring(const char *id, Error *reterr);

/* Finds args[0] along PATH of env (after pivot). Returns malloc'd path. */
int find_executable(const char *name, char *const *env, char **ret);

/* Common async-signal-unsafe-but-single-threaded helpers for both create and exec children. */
int process_apply_pre(ChildContext *c, Error *reterr);   /* rlimits, sched, ioprio, personality, oom */
int process_apply_final(ChildContext *c, Error *reterr); /* user, caps, nnp, seccomp, cwd */
_noreturn_ void process_exec(ChildContext *c, const char *path, int report_fd);

/* ---------------------------------------------------------------- LSM (lsm.c) */

bool lsm_apparmor_enabled(void);
bool lsm_selinux_enabled(void);
/* A label the host cannot apply is an error: "… AppArmor is not enabled on this host". */
int lsm_check_process(const RuntimeProcess *p, Error *reterr);
/* The process's labels and linux.mountLabel. */
int lsm_check_spec(const RuntimeSpec *s, Error *reterr);

/* ---------------------------------------------------------------- the exec trampoline */

extern const unsigned char trampoline_elf[]; /* generated: trampoline-blob.c */
extern const size_t trampoline_elf_size;

/* A new sealed memfd holding the trampoline (close-on-exec). */
int trampoline_open(int *ret, Error *reterr);
/* Executes `ctrmgr-exec HEAD... -- PATH ARGV...` from tfd: execveat(AT_EMPTY_PATH) unless
 * no_execveat, else (or when that fails) /proc/self/fd/N if allow_proc and it shows tfd. Returns
 * only on failure, with -errno. */
int trampoline_exec(int tfd, bool no_execveat, bool allow_proc, char *const *head, const char *path,
                    char *const *argv, char *const *envp);

/* raw clone3 wrappers */
pid_t clone3_fork(uint64_t flags, int cgroup_fd, int *ret_pidfd);

int read_cap_last(void);
