/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The typed form of config.json, private to runtime/. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "runtime/runtime.h"

struct json_object;

typedef enum NamespaceType {
        NS_PID,
        NS_NETWORK,
        NS_MOUNT,
        NS_IPC,
        NS_UTS,
        NS_USER,
        NS_CGROUP,
        NS_TIME,
        _NS_MAX,
} NamespaceType;

const char *namespace_type_to_string(NamespaceType t); /* spec name: "pid", "network", ... */
const char *namespace_type_proc_name(NamespaceType t); /* /proc/PID/ns name: "pid", "net" */
int namespace_type_clone_flag(NamespaceType t);

typedef struct IdMap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
} IdMap;

typedef struct SpecMount {
        char *destination;
        char *source;
        char *type;
        char **options;
        unsigned long flags;       /* MS_* to set */
        unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (|MS_REC) or 0 */
        bool bind;
        bool rbind;
        bool rro; /* recursive read-only via mount_setattr */
        bool ro;
        char *data; /* remaining options joined with ',' */
} SpecMount;

typedef struct SpecRlimit {
        int resource;
        uint64_t soft;
        uint64_t hard;
} SpecRlimit;

typedef enum CapSet {
        CAP_SET_EFFECTIVE,
        CAP_SET_BOUNDING,
        CAP_SET_INHERITABLE,
        CAP_SET_PERMITTED,
        CAP_SET_AMBIENT,
        _CAP_SET_MAX,
} CapSet;

struct RuntimeProcess {
        bool terminal;
        unsigned console_height, console_width;
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char **args;
        char **env;
        char *cwd;
        bool has_caps; /* "capabilities" was given */
        uint64_t caps[_CAP_SET_MAX];
        bool has_no_new_privileges; /* "noNewPrivileges" was given */
        bool no_new_privileges;
        char *apparmor_profile; /* NULL: not given */
        char *selinux_label;    /* NULL: not given */
        bool has_oom_score_adj;
        int oom_score_adj;
        SpecRlimit *rlimits;
        size_t n_rlimits;
        bool has_io_priority;
        int io_priority_class;
        int io_priority;
        bool has_scheduler;
        int sched_policy;
        int sched_nice;
        int sched_priority;
        uint64_t sched_flags;
        uint64_t sched_runtime, sched_deadline, sched_period;
};

typedef enum HookKind {
        HOOK_PRESTART,
        HOOK_CREATE_RUNTIME,
        HOOK_CREATE_CONTAINER,
        HOOK_START_CONTAINER,
        HOOK_POSTSTART,
        HOOK_POSTSTOP,
        _HOOK_KIND_MAX,
} HookKind;

typedef struct SpecHook {
        char *path;
        char **args;
        char **env;
        int timeout; /* seconds, 0 = none */
} SpecHook;

typedef struct SpecDevice {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        uint64_t major, minor;
        mode_t mode; /* permission bits; 0666 default */
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
} SpecDevice;

struct RuntimeSpec {
        /* The whole document: only with runtime_spec_parse_json(). A spec parsed from text keeps
         * the text instead and drops the tree right after parsing, before create forks: freed
         * later, every page of it would take a copy-on-write fault. */
        struct json_object *json;
        char *json_text; /* the text parsed (load, parse_string), else NULL */
        size_t json_text_size;
        char *oci_version;
        char *root_path;
        bool root_readonly;
        char *hostname;
        bool has_hostname;
        char *domainname;
        bool has_domainname;
        RuntimeProcess *process;
        SpecMount *mounts;
        size_t n_mounts;
        SpecHook *hooks[_HOOK_KIND_MAX];
        size_t n_hooks[_HOOK_KIND_MAX];
        char **annotations; /* key, value pairs */

        bool has_linux;
        bool ns[_NS_MAX];       /* namespace requested */
        char *ns_path[_NS_MAX]; /* join this one instead of creating */
        IdMap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        SpecDevice *devices;
        size_t n_devices;
        char *cgroups_path;
        struct json_object *resources;    /* linux.resources (a reference of its own) */
        struct json_object *seccomp;      /* linux.seccomp, borrowed from json: NULL without it */
        bool has_seccomp;                 /* linux.seccomp is there */
        uint8_t seccomp_digest[32];       /* seccomp_json_digest() or _text_digest() of it */
        size_t seccomp_text_off;          /* linux.seccomp in json_text, when it was kept as text */
        size_t seccomp_text_size;         /* (then never a tree: 0 otherwise) */
        char **sysctl;                    /* key, value pairs */
        unsigned long rootfs_propagation; /* 0 = default (MS_SLAVE|MS_REC semantics as runc) */
        char **masked_paths;
        char **readonly_paths;
        char *mount_label;
        bool has_personality;
        unsigned long personality;
        bool has_time_offsets;
        int64_t boottime_secs, monotonic_secs;
        uint32_t boottime_nsecs, monotonic_nsecs;
};

/* Parses a "process" object; path is the JSON path prefix for errors ("process"). */
int spec_parse_process(struct json_object *o, const char *path, RuntimeProcess **ret, Error *reterr);
RuntimeProcess *runtime_process_copy(const RuntimeProcess *p);
/* exec: what the process object does not give is taken from the container's process, as runc
 * does: capabilities, noNewPrivileges, the LSM labels, rlimits, scheduler and I/O priority. */
int runtime_process_fill_from_container(RuntimeProcess *p, const RuntimeProcess *container);

const char *hook_kind_to_string(HookKind k);
int rlimit_from_string(const char *s);

/* Where json-c would take linux.seccomp from in text (of size bytes), when the scan is sure of
 * it (runtime/spec-scan.c): true, and the offset and size of that object's text. */
bool spec_find_seccomp_text(const char *text, size_t size, size_t *ret_off, size_t *ret_size);
/* runtime_spec_load() of a file relative to dirfd. */
int spec_load_at(int dirfd, const char *path, RuntimeSpec **ret, Error *reterr);

/* linux.seccomp as an object (a new reference): spec->seccomp, or parsed again from the text. */
int spec_seccomp_json(const RuntimeSpec *spec, struct json_object **ret, Error *reterr);
