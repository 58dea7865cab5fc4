/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * runtime/seccomp — private to runtime/: the OCI `linux.seccomp` object, compiled with libseccomp
 * to classic BPF in the parent (before fork), cached on disk by content hash, installed in the
 * child with one seccomp(2) call right before execve.
 *
 * Flow in the runtime:
 *
 *   parent:  seccomp_prepare_json(spec's linux.seccomp, cache)    BPF from the cache, keyed by
 *                                                                 the JSON; on a miss it parses
 *                                                                 (JSON-path errors), compiles
 *                                                                 and stores
 *   fork
 *   child:   ... set up everything ...
 *            prctl(PR_SET_NO_NEW_PRIVS) if process.noNewPrivileges
 *            seccomp_program_install(program, &listener_fd)       async-signal-safe
 *            execve()
 *
 * Where to install (same rule as runc and crun): with process.noNewPrivileges the filter goes on
 * as late as possible, right before execve. Without it the kernel demands CAP_SYS_ADMIN, so the
 * filter must go on before the capabilities are dropped; every real profile allows what follows
 * (capset, prctl, setgroups, setresuid, execve). When the config has a SCMP_ACT_NOTIFY rule,
 * install returns the listener fd; the child hands it to the runtime (process.c), which sends it
 * to config->listener_path with the container process state (runtime-spec
 * "seccomp.listenerPath", seccomp_listener_send()) and then closes it.
 *
 * Docker / containers-common profile files (the `seccomp.json` format with `names`,
 * `includes`/`excludes`, `archMap`) are turned into the OCI form by seccomp_profile_load_docker();
 * the daemon uses that for every container's default profile (`SeccompProfile=` in units).
 */

#include <json-c/json.h>

#include "common/common.h"
#include "runtime/runtime.h"

typedef enum SeccompAction {
        SECCOMP_ACTION_KILL,         /* SCMP_ACT_KILL: kills the thread, like KILL_THREAD */
        SECCOMP_ACTION_KILL_PROCESS, /* SCMP_ACT_KILL_PROCESS */
        SECCOMP_ACTION_KILL_THREAD,  /* SCMP_ACT_KILL_THREAD */
        SECCOMP_ACTION_TRAP,         /* SCMP_ACT_TRAP: SIGSYS */
        SECCOMP_ACTION_ERRNO,        /* SCMP_ACT_ERRNO: fails with errno_ret (default EPERM) */
        SECCOMP_ACTION_TRACE,        /* SCMP_ACT_TRACE: ptrace event with errno_ret as message */
        SECCOMP_ACTION_ALLOW,        /* SCMP_ACT_ALLOW */
        SECCOMP_ACTION_LOG,          /* SCMP_ACT_LOG: allowed and logged */
        SECCOMP_ACTION_NOTIFY,       /* SCMP_ACT_NOTIFY: user notification via the listener fd */
        _SECCOMP_ACTION_MAX,
} SeccompAction;

/* OCI / libseccomp spelling ("SCMP_ACT_ERRNO") <-> enum. from_string returns -EINVAL if unknown. */
const char *seccomp_action_to_string(SeccompAction a);
int seccomp_action_from_string(const char *s);

typedef enum SeccompOp {
        SECCOMP_OP_NE,        /* SCMP_CMP_NE */
        SECCOMP_OP_LT,        /* SCMP_CMP_LT */
        SECCOMP_OP_LE,        /* SCMP_CMP_LE */
        SECCOMP_OP_EQ,        /* SCMP_CMP_EQ */
        SECCOMP_OP_GE,        /* SCMP_CMP_GE */
        SECCOMP_OP_GT,        /* SCMP_CMP_GT */
        SECCOMP_OP_MASKED_EQ, /* SCMP_CMP_MASKED_EQ: (arg & value) == value_two */
        _SECCOMP_OP_MAX,
} SeccompOp;

/* The `flags` of linux.seccomp, as the kernel's SECCOMP_FILTER_FLAG_* bits. */
#define SECCOMP_CONFIG_FLAG_TSYNC              (1U << 0) /* SECCOMP_FILTER_FLAG_TSYNC */
#define SECCOMP_CONFIG_FLAG_LOG                (1U << 1) /* SECCOMP_FILTER_FLAG_LOG */
#define SECCOMP_CONFIG_FLAG_SPEC_ALLOW         (1U << 2) /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
#define SECCOMP_CONFIG_FLAG_WAIT_KILLABLE_RECV (1U << 5) /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV */

typedef struct SeccompArg {
        unsigned index; /* 0..5 */
        SeccompOp op;
        uint64_t value;
        uint64_t value_two;
} SeccompArg;

typedef struct SeccompRule {
        char **names; /* syscall names as given (unknown names are kept here, skipped at compile) */
        SeccompAction action;
        int errno_ret; /* for ERRNO / TRACE; -1 = not given (EPERM is used) */
        SeccompArg *args;
        size_t n_args;
} SeccompRule;

/*
 * The parsed linux.seccomp. Read-only for callers; built by seccomp_config_parse() or by hand
 * (then normalized by seccomp_prepare, which does not modify it).
 */
typedef struct SeccompConfig {
        SeccompAction default_action;
        int default_errno_ret; /* -1 = not given */
        char **architectures;  /* "SCMP_ARCH_X86_64", … (the native arch is always included) */
        unsigned flags;        /* SECCOMP_CONFIG_FLAG_* */
        char *listener_path;   /* NULL unless given */
        char *listener_metadata;
        SeccompRule *rules;
        size_t n_rules;
} SeccompConfig;

SeccompConfig *seccomp_config_free(SeccompConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompConfig *, seccomp_config_free);

/* True if some rule uses SCMP_ACT_NOTIFY (then the runtime must handle listener_path). */
bool seccomp_config_needs_listener(const SeccompConfig *c);
/* True if the config surely allows (SCMP_ACT_ALLOW or SCMP_ACT_LOG) the syscall name, whatever its
 * arguments; true without a config. */
bool seccomp_config_allows_syscall(const SeccompConfig *c, const char *name);

/*
 * Parses linux.seccomp (a JSON object; NULL is -EINVAL). json_path is the prefix for messages,
 * normally "linux.seccomp"; errors look like
 *   linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
 * Everything of runtime-spec 1.2 is understood: defaultAction, defaultErrnoRet, architectures,
 * flags, listenerPath, listenerMetadata, syscalls[].{names,action,errnoRet,args[].{index,value,
 * valueTwo,op}}. Unknown fields are ignored; unknown syscall *names* are accepted and skipped at
 * compile time (as runc and crun do, so one profile serves several kernels/libseccomp versions).
 * Rejected: unknown actions/ops/flags/architectures, errnoRet on an action other than ERRNO or
 * TRACE, arg index > 5, a NOTIFY default action.
 */
int seccomp_config_parse(json_object *seccomp, const char *json_path, SeccompConfig **ret, Error *reterr);

/*
 * A compiled filter: classic BPF ready for seccomp(2), plus the install flags. Plain memory, so it
 * survives fork() and can be used in the child without allocating.
 */
typedef struct SeccompProgram SeccompProgram;

SeccompProgram *seccomp_program_free(SeccompProgram *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProgram *, seccomp_program_free);

/* Number of BPF instructions (for tests and debug output). */
size_t seccomp_program_size(const SeccompProgram *p);
/* True when the program came from the cache (nothing was compiled). */
bool seccomp_program_from_cache(const SeccompProgram *p);

/*
 * Compiles the config to BPF with libseccomp for the native arch plus config->architectures.
 * Multiple args with the same index in one rule are split into separate rules (OR), distinct
 * indexes are ANDed (runc's semantics). A rule whose action equals the default action is dropped.
 *
 * cache_dir (NULL = no cache): the BPF is stored there as "<sha256>.bpf", the hash being over a
 * normalized serialization of the config + libseccomp version and API level + native arch; a
 * hit costs one open+read and no compilation. The directory is created (0700) if missing;
 * it must be owned by us and not writable by group/others, otherwise it is not used (-EPERM).
 * Cache write failures are ignored (the program is still returned). Suggested dirs:
 * "/run/ctrmgr/seccomp" for the daemon, "<--root>/.seccomp-cache" for ctrmgr-oci (a name no
 * container id can have).
 */
int seccomp_prepare(const SeccompConfig *c, const char *cache_dir, SeccompProgram **ret, Error *reterr);

/*
 * linux.seccomp (a JSON object) straight to a program: what create and exec use. The cache key is
 * a SHA-256 of the object itself (every member, in document order), libseccomp's version and
 * native architecture and the kernel (uname), so that a hit costs one read and neither
 * seccomp_config_parse() nor any libseccomp work: only an object that parsed and compiled before
 * has an entry. A miss parses it (errors name JSON paths below json_path, as
 * seccomp_config_parse()), compiles it and stores it. cache_dir as for seccomp_prepare().
 */
int seccomp_prepare_json(json_object *seccomp, const char *json_path, const char *cache_dir,
                         SeccompProgram **ret, Error *reterr);

/* The same in two steps, for a caller that does not keep the object (the spec parsed from text
 * drops its JSON tree): the SHA-256 of the object as the cache key takes it, taken at parse time,
 * and the cache lookup by it. seccomp_prepare_cached() returns 1 with *ret set on a hit, 0 when
 * there is no usable entry (then seccomp_prepare_json() with the object), -EPERM for a cache
 * directory others may write to. */
#define SECCOMP_DIGEST_SIZE 32
void seccomp_json_digest(json_object *seccomp, uint8_t ret[SECCOMP_DIGEST_SIZE]);
int seccomp_prepare_cached(const uint8_t digest[SECCOMP_DIGEST_SIZE], const char *cache_dir,
                           SeccompProgram **ret, Error *reterr);
/* A key from the text of the object instead (for a caller that never made it a tree): the same
 * object written differently is another entry, never the wrong one. */
void seccomp_text_digest(const char *text, size_t size, uint8_t ret[SECCOMP_DIGEST_SIZE]);
/* The miss for such a key: parses the object (JSON-path errors), compiles it and stores it under
 * digest, which must be a digest of this very object (seccomp_json_digest() of it, or
 * seccomp_text_digest() of the text it was parsed from). */
int seccomp_prepare_json_as(json_object *seccomp, const uint8_t digest[SECCOMP_DIGEST_SIZE],
                            const char *json_path, const char *cache_dir, SeccompProgram **ret,
                            Error *reterr);

/* What the runtime needs of the config, kept with the program (and in the cache): whether a
 * rule uses SCMP_ACT_NOTIFY, and seccomp_config_allows_syscall(config, "execveat") (true for
 * NULL: no filter). */
bool seccomp_program_needs_listener(const SeccompProgram *p);
bool seccomp_program_allows_execveat(const SeccompProgram *p);

/*
 * Installs the program in the calling process (all its threads with TSYNC). Async-signal-safe:
 * only the seccomp(2) syscall, no allocation; meant for the child right before execve.
 * SECCOMP_FILTER_FLAG_NEW_LISTENER is added when the config needs a listener; the fd then goes
 * to *ret_listener_fd (pass NULL only when the config has no NOTIFY rule; otherwise -EINVAL).
 * Returns 0 or a negative errno (-EACCES without no_new_privs and without CAP_SYS_ADMIN, -EINVAL
 * for a flag the kernel does not know).
 */
int seccomp_program_install(const SeccompProgram *p, int *ret_listener_fd);

/*
 * Docker / containers-common profile → OCI linux.seccomp.
 *
 * The input is the `seccomp.json` format of moby/profiles and containers/common: defaultAction,
 * defaultErrnoRet (or the older defaultErrno name), archMap, syscalls[] with `names` (or the
 * old single `name`), action, errnoRet, args, includes/excludes {arches, caps, minKernel},
 * listenerPath, listenerMetadata, flags. The result is a new OCI linux.seccomp object for one
 * container:
 *   - architectures: the archMap entry of the target arch and its subArchitectures;
 *   - a rule is kept when every includes.caps is in `capabilities`, includes.arches names the
 *     target arch, the kernel is at least includes.minKernel, no excludes.caps is in
 *     `capabilities`, and excludes.arches does not name the target arch. Arch names in
 *     includes/excludes are Go's (amd64, arm64, 386/x86, x32, ppc64le, s390x, …).
 */
/* SeccompProfileOptions, seccomp_profile_load_docker(): in runtime/runtime.h (the daemon uses
 * them). */
int seccomp_profile_convert_docker(json_object *profile, const char *source,
                                   const SeccompProfileOptions *opts, json_object **ret_oci, Error *reterr);

/* The default containers-common profile path. */
#define SECCOMP_DEFAULT_PROFILE_PATH "/usr/share/containers/seccomp.json"
