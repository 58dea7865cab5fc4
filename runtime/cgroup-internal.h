/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between cgroup.c (resources, the object, freezer/kill/pids/stats), cgroup-fs.c and
 * cgroup-systemd.c. Nothing outside these three files includes it. */

#include <systemd/sd-bus.h>

#include "runtime/cgroup.h"

/* Walks a string list of pairs (key, value, key, value, ...). */
#define STRV_FOREACH_PAIR(a, b, l)                                                                    \
        for (char **_p_ = (l), *a, *b; _p_ && _p_[0] && _p_[1] && ((a = _p_[0]), (b = _p_[1]), true); \
             _p_ += 2)

typedef struct CgroupDeviceValue {
        uint32_t major, minor;
        uint64_t value;
} CgroupDeviceValue;

enum {
        CGROUP_THROTTLE_READ_BPS,
        CGROUP_THROTTLE_WRITE_BPS,
        CGROUP_THROTTLE_READ_IOPS,
        CGROUP_THROTTLE_WRITE_IOPS,
        _CGROUP_THROTTLE_MAX,
};

typedef struct CgroupDeviceRule {
        bool allow;
        char type;            /* 'a', 'c', 'b' */
        int64_t major, minor; /* -1 = any */
        unsigned access;      /* CGROUP_DEVICE_ACC_* */
} CgroupDeviceRule;

#define CGROUP_DEVICE_ACC_MKNOD 1U /* = BPF_DEVCG_ACC_* */
#define CGROUP_DEVICE_ACC_READ  2U
#define CGROUP_DEVICE_ACC_WRITE 4U

/* int64 "present" flags: every limit is written only when the spec has it. */
struct CgroupResources {
        bool has_memory_limit, has_memory_reservation, has_memory_swap, memory_check_before_update;
        int64_t memory_limit, memory_reservation, memory_swap; /* -1 = unlimited */

        bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_burst, has_cpu_idle;
        uint64_t cpu_shares, cpu_period, cpu_burst;
        int64_t cpu_quota, cpu_idle; /* quota -1 = max */
        char *cpus, *mems;

        bool has_pids_limit;
        int64_t pids_limit; /* <= 0 = max */

        bool has_blkio_weight;
        uint16_t blkio_weight; /* 10..1000 as in the spec */
        CgroupDeviceValue *weight_devices;
        size_t n_weight_devices;
        CgroupDeviceValue *throttle[_CGROUP_THROTTLE_MAX];
        size_t n_throttle[_CGROUP_THROTTLE_MAX];

        char **hugetlb; /* pairs: page size ("2MB"), limit in bytes as a string */
        char **rdma;    /* pairs: device, "hca_handle=N hca_object=M" */
        char **unified; /* pairs: file, value */

        char **unsupported; /* warnings known at parse time (v1-only settings) */
        bool has_devices;
        CgroupDeviceRule *devices;
        size_t n_devices;
};

struct Cgroup {
        CgroupDriver driver;
        char *root; /* the cgroup2 mount point */
        char *path; /* relative to the hierarchy root, "/a/b" */
        char *id;
        int fd; /* O_DIRECTORY of root + path, -EBADF until known */

        /* systemd */
        char *slice, *unit;
        sd_bus *bus;
        bool started;
        const CgroupResources *start_resources; /* CgroupOptions.resources, until the first apply */
        char **start_properties;                /* CgroupOptions.properties, parsed and checked */
        bool start_resources_sent;
};

/* A file write that cgroup_apply() will do; controller NULL for core cgroup.* files. */
typedef struct CgroupWrite {
        char *file;
        char *value;
        const char *what; /* the spec field, for warnings: "linux.resources.memory.limit" */
} CgroupWrite;

void cgroup_writes_free(CgroupWrite *w, size_t n);

/* Builds the file writes for res in dir fd. Fields the systemd driver sets as properties are
 * skipped when skip_systemd_managed. */
int cgroup_resources_to_writes(const CgroupResources *res, int fd, bool skip_systemd_managed,
                               CgroupWrite **ret, size_t *ret_n, Error *reterr);

/* Applies writes in fd: a controller missing from cgroup.controllers is a warning. */
int cgroup_apply_writes(int fd, const char *dir, const CgroupWrite *w, size_t n, char ***warnings,
                        Error *reterr);

/* Whether the controller of this file is enabled in fd (cgroup.controllers). */
bool cgroup_controller_available(int fd, const char *controller);

/* Conversions shared by both drivers. */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares);
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);

int cgroup_open_dir(Cgroup *cg, Error *reterr);

/* CgroupOptions.properties: checked against the names the systemd driver knows, values in its
 * plain form (runc's GVariant prefix removed), copied to cg->start_properties. */
int cgroup_systemd_set_properties(Cgroup *cg, char *const *properties, Error *reterr);
char *cgroup_dir(const Cgroup *cg);

/* cgroup-devices.c: compiles the rules to a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it
 * to fd, replacing the one attached before by us. Hosts that cannot (no bpf(2) for us) warn. */
int cgroup_devices_apply(int fd, const char *dir, const CgroupDeviceRule *rules, size_t n, char ***warnings,
                         Error *reterr);

/* cgroup-fs.c */
int cgroup_fs_create(Cgroup *cg, const char *cgroups_path, Error *reterr);

/* cgroup-systemd.c */
int cgroup_systemd_resolve(Cgroup *cg, const char *cgroups_path, Error *reterr);
int cgroup_systemd_start(Cgroup *cg, pid_t pid, Error *reterr);
/* Sets the limits systemd has properties for; a controller missing in the scope skips the property
 * with a warning unless all_properties (tests: shows the encoding reaches systemd intact). */
int cgroup_systemd_apply(Cgroup *cg, const CgroupResources *res, bool all_properties, char ***warnings,
                         Error *reterr);
int cgroup_systemd_stop(Cgroup *cg, Error *reterr);
/* Drops a Cgroup's reference to the bus (NULL is fine: libsystemd may not even be loaded). */
void cgroup_systemd_bus_unref(sd_bus *bus);

typedef struct CgroupSystemdProperty {
        const char *controller; /* NULL: unused slot */
        const char *property;
        uint64_t value; /* UINT64_MAX = infinity */
} CgroupSystemdProperty;

/* The unit property (or two: cpu.max) a `unified` key maps to: 1 and ret filled, 0 when systemd
 * has no property for it or the value is not one systemd can express (then the file is written
 * as given and the kernel judges the value). cpuset.cpus/mems are handled as AllowedCPUs/
 * AllowedMemoryNodes by the caller. */
int cgroup_systemd_unified_property(const char *file, const char *value, CgroupSystemdProperty ret[2]);
/* Whether the systemd driver sends this unified key as a property instead of writing the file. */
bool cgroup_systemd_unified_is_property(const char *file, const char *value);
