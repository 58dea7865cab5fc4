/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * OCI runtime spec generation for one container of a unit: the image config first, then the
 * unit's keys, then the security baseline of DESIGN.md. The input is a plain description that
 * manager/unit.c fills from the units/ model and the image/ config, so spec generation knows
 * nothing of either and is tested on its own (tests/unit/test-manager.c).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

typedef enum SpecNetwork {
        SPEC_NETWORK_PRIVATE, /* own network namespace, loopback only */
        SPEC_NETWORK_NONE,    /* same as private: no interfaces but lo */
        SPEC_NETWORK_HOST,    /* the host's network namespace */
} SpecNetwork;

typedef struct SpecMount {
        char *type;        /* "bind", "tmpfs", … */
        char *source;      /* host path (bind), or the fs type's source */
        char *destination; /* absolute path in the container */
        char **options;    /* OCI mount options ("ro", "rbind", "mode=1777", …) */
} SpecMount;

typedef struct SpecRlimit {
        char *type; /* "RLIMIT_NOFILE" */
        uint64_t soft, hard;
} SpecRlimit;

typedef struct SpecInput {
        /* identity */
        const char *name;         /* unit name: default hostname, annotations */
        const char *rootfs;       /* absolute path of the mounted rootfs */
        int rootfs_fd;            /* optional (-EBADF): to resolve user names in /etc/passwd */
        const char *cgroups_path; /* "ctrmgr.slice:ctrmgr:web" (systemd) or "/ctrmgr.slice/…" */

        /* the image's config (OCI image-spec config object), any field may be NULL */
        char **image_entrypoint;
        char **image_cmd;
        char **image_env;
        const char *image_working_dir;
        const char *image_user;
        const char *image_stop_signal;

        /* the unit's keys; NULL / empty / -1 / UINT64_MAX means "not set" */
        char **entrypoint;  /* Entrypoint= (replaces the image's entrypoint and drops its Cmd) */
        char **exec;        /* Exec= (replaces the image's Cmd) */
        char **environment; /* Environment= and EnvironmentFile= merged, "K=V" */
        const char *working_dir;
        const char *user;  /* name or number */
        const char *group; /* name or number */
        const char *hostname;
        SpecNetwork network;
        bool read_only;          /* ReadOnly= */
        bool read_only_tmpfs;    /* ReadOnlyTmpfs= (tmpfs on /tmp, /var/tmp, /run when read-only) */
        int no_new_privileges;   /* NoNewPrivileges=: -1 unset (baseline: on), 0, 1 */
        char **add_capabilities; /* "CAP_NET_ADMIN" or "ALL" */
        char **drop_capabilities;
        bool seccomp_unconfined; /* SeccompProfile=unconfined */
        json_object *seccomp;    /* OCI linux.seccomp object (borrowed), NULL = none */
        char **mask;             /* Mask= extra paths */
        char **unmask;           /* Unmask= paths (or "ALL") */
        char **sysctl;           /* "net.ipv4.ip_forward=1" */
        SpecMount *mounts;       /* Volume=, Tmpfs=, Mount= */
        size_t n_mounts;
        SpecRlimit *rlimits; /* Ulimit= */
        size_t n_rlimits;
        uint64_t shm_size;               /* ShmSize= bytes */
        uint64_t memory_max;             /* Memory= / MemoryMax= bytes */
        uint64_t memory_high;            /* MemoryHigh= */
        uint64_t pids_max;               /* PidsLimit= / TasksMax= */
        uint64_t cpu_weight;             /* CPUWeight= 1…10000 */
        uint64_t cpu_quota_per_sec_usec; /* CPUQuota= as usec per second */
        uint64_t io_weight;              /* IOWeight= 1…10000 */
        char **annotations;              /* "key=value" (Annotation=, Label= as org.ctrmgr.label.*) */
} SpecInput;

#define SPEC_INPUT_INIT                               \
        ((SpecInput){                                 \
                .rootfs_fd = -EBADF,                  \
                .no_new_privileges = -1,              \
                .shm_size = UINT64_MAX,               \
                .memory_max = UINT64_MAX,             \
                .memory_high = UINT64_MAX,            \
                .pids_max = UINT64_MAX,               \
                .cpu_weight = UINT64_MAX,             \
                .cpu_quota_per_sec_usec = UINT64_MAX, \
                .io_weight = UINT64_MAX,              \
        })

/* Podman's default capability set (containers-common DefaultCapabilities). */
extern const char *const spec_default_capabilities[];
/* Paths Podman masks and makes read-only in /proc and /sys. */
extern const char *const spec_masked_paths[];
extern const char *const spec_readonly_paths[];

/* Builds the whole OCI runtime spec. Errors name the offending key and value. */
int spec_generate(const SpecInput *in, json_object **ret, Error *reterr);

/* The stop signal the spec's inputs ask for (unit's StopSignal= is applied by the caller):
 * the image's StopSignal or SIGTERM. */
int spec_image_stop_signal(const SpecInput *in);

/* Splits "user[:group]" and resolves names against the rootfs' /etc/passwd and /etc/group
 * (rootfs_fd may be -EBADF: then only numbers are accepted). */
int spec_resolve_user(int rootfs_fd, const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
                      Error *reterr);
