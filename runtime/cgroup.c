/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v2: parsing linux.resources, the Cgroup object both drivers share, and what works on
 * any cgroup2 directory: applying file writes with warnings, freezer, kill, pids, stats, rmdir.
 */

#include <linux/magic.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "runtime/cgroup-internal.h"

#define CGROUP_FREEZE_TIMEOUT_USEC (5 * USEC_PER_SEC)

static const char *const driver_table[_CGROUP_DRIVER_MAX] = {
        [CGROUP_DRIVER_CGROUPFS] = "cgroupfs",
        [CGROUP_DRIVER_SYSTEMD] = "systemd",
};

const char *cgroup_driver_to_string(CgroupDriver d)
{
        return (unsigned)d < _CGROUP_DRIVER_MAX ? driver_table[d] : NULL;
}

int cgroup_driver_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(driver_table); i++)
                if (streq(driver_table[i], s))
                        return (int)i;
        return -EINVAL;
}

/* ------------------------------------------------------------------ finding the hierarchy */

static bool is_cgroup2(const char *path)
{
        struct statfs sfs;
        return statfs(path, &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_find_root(char **ret_mount_point, Error *reterr)
{
        _cleanup_fclose_ FILE *f = NULL;
        char line[4096];
        char *found = NULL;

        /* The two usual places first: two statfs() calls instead of reading mountinfo. */
        FOREACH_ARRAY (p, ((const char *[]){"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}), 2) {
                if (is_cgroup2(*p)) {
                        found = strdup(*p);
                        if (!found)
                                return error_set(reterr, -ENOMEM, "cgroup2 root");
                        *ret_mount_point = found;
                        return 0;
                }
        }

        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return error_set(reterr, negative_errno(), "opening /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
                char *sep = strstr(line, " - ");
                char mp[4096];
                if (!sep || !startswith(sep, " - cgroup2 "))
                        continue;
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                /* mountinfo escapes spaces as \040; a cgroup2 mount point with one is not ours to guess */
                if (strchr(mp, '\\'))
                        continue;
                found = strdup(mp);
                if (!found)
                        return error_set(reterr, -ENOMEM, "cgroup2 root");
                *ret_mount_point = found;
                return 0;
        }
        return error_set_msg(reterr, -ENOMEDIUM,
                             "no cgroup2 hierarchy is mounted (cgroup v1 only hosts are not supported)");
}

/* ------------------------------------------------------------------ JSON helpers */

static json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return v;
}

static const char *jtype(json_object *o)
{
        return json_type_to_name(json_object_get_type(o));
}

static int jint(json_object *o, const char *path, const char *key, int64_t *ret, Error *reterr)
{
        json_object *v = jget(o, key);
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an integer, got %s", path, key,
                                     jtype(v));
        *ret = json_object_get_int64(v);
        return 1;
}

static int juint(json_object *o, const char *path, const char *key, uint64_t *ret, Error *reterr)
{
        json_object *v = jget(o, key);
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an integer, got %s", path, key,
                                     jtype(v));
        if (json_object_get_int64(v) < 0)
                return error_set_msg(reterr, -EINVAL, "%s.%s: must not be negative, got %" PRIi64, path, key,
                                     json_object_get_int64(v));
        *ret = json_object_get_uint64(v);
        return 1;
}

static int jobject(json_object *o, const char *path, const char *key, json_object **ret, Error *reterr)
{
        json_object *v = jget(o, key);
        *ret = NULL;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an object, got %s", path, key,
                                     jtype(v));
        *ret = v;
        return 1;
}

static int jarray(json_object *o, const char *path, const char *key, json_object **ret, Error *reterr)
{
        json_object *v = jget(o, key);
        *ret = NULL;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected an array, got %s", path, key,
                                     jtype(v));
        *ret = v;
        return 1;
}

static int jstring(json_object *o, const char *path, const char *key, const char **ret, Error *reterr)
{
        json_object *v = jget(o, key);
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return error_set_msg(reterr, -EINVAL, "%s.%s: expected a string, got %s", path, key,
                                     jtype(v));
        *ret = json_object_get_string(v);
        return 1;
}

/* ------------------------------------------------------------------ resources */

CgroupResources *cgroup_resources_free(CgroupResources *r)
{
        if (!r)
                return NULL;
        free(r->cpus);
        free(r->mems);
        free(r->weight_devices);
        free(r->devices);
        for (size_t i = 0; i < _CGROUP_THROTTLE_MAX; i++)
                free(r->throttle[i]);
        strv_free(r->hugetlb);
        strv_free(r->rdma);
        strv_free(r->unified);
        strv_free(r->unsupported);
        return mfree(r);
}

static int add_unsupported(CgroupResources *r, Error *reterr, const char *fmt, ...) _printf_(3, 4);
static int add_unsupported(CgroupResources *r, Error *reterr, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s || strv_consume(&r->unsupported, s) < 0)
                return error_set(reterr, -ENOMEM, "resources");
        return 0;
}

/* cpuset lists: "0-3,7" — digits, ',' and '-' only; the kernel checks the rest. */
static bool cpuset_list_is_valid(const char *s)
{
        if (strlen(s) > 4096)
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("0123456789,-", *p))
                        return false;
        return true;
}

static int parse_memory(CgroupResources *r, json_object *m, const char *path, Error *reterr)
{
        int64_t v;
        int k;

        if ((k = jint(m, path, "limit", &r->memory_limit, reterr)) < 0)
                return k;
        r->has_memory_limit = k > 0;
        if ((k = jint(m, path, "reservation", &r->memory_reservation, reterr)) < 0)
                return k;
        r->has_memory_reservation = k > 0;
        if ((k = jint(m, path, "swap", &r->memory_swap, reterr)) < 0)
                return k;
        r->has_memory_swap = k > 0;

        FOREACH_ARRAY (f, ((int64_t *[]){&r->memory_limit, &r->memory_reservation, &r->memory_swap}), 3) {
                if (**f < -1)
                        return error_set_msg(reterr, -EINVAL,
                                             "%s: limits must be -1 (unlimited) or positive, got %" PRIi64,
                                             path, **f);
        }
        if (r->has_memory_swap && r->memory_swap >= 0 && r->has_memory_limit && r->memory_limit >= 0 &&
            r->memory_swap < r->memory_limit)
                return error_set_msg(reterr, -EINVAL,
                                     "%s.swap: %" PRIi64
                                     " is memory+swap and must not be below limit %" PRIi64,
                                     path, r->memory_swap, r->memory_limit);
        if (r->has_memory_swap && r->memory_swap > 0 && !(r->has_memory_limit && r->memory_limit > 0))
                return error_set_msg(reterr, -EINVAL, "%s.swap: needs a memory limit (it is memory+swap)",
                                     path);

        json_object *b = jget(m, "checkBeforeUpdate");
        if (b) {
                if (!json_object_is_type(b, json_type_boolean))
                        return error_set_msg(reterr, -EINVAL,
                                             "%s.checkBeforeUpdate: expected a boolean, got %s", path,
                                             jtype(b));
                r->memory_check_before_update = json_object_get_boolean(b);
        }

        FOREACH_ARRAY (key, ((const char *[]){"kernel", "kernelTCP", "swappiness"}), 3) {
                if ((k = jint(m, path, *key, &v, reterr)) < 0)
                        return k;
                if (k > 0 &&
                    add_unsupported(r, reterr, "%s.%s: cgroup v1 only, not applied", path, *key) < 0)
                        return -ENOMEM;
        }
        b = jget(m, "disableOOMKiller");
        if (b) {
                if (!json_object_is_type(b, json_type_boolean))
                        return error_set_msg(reterr, -EINVAL,
                                             "%s.disableOOMKiller: expected a boolean, got %s", path,
                                             jtype(b));
                if (json_object_get_boolean(b) &&
                    add_unsupported(
                            r, reterr,
                            "%s.disableOOMKiller: cgroup v2 cannot disable the OOM killer, not applied",
                            path) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_cpu(CgroupResources *r, json_object *c, const char *path, Error *reterr)
{
        const char *s;
        int64_t v;
        int k;

        if ((k = juint(c, path, "shares", &r->cpu_shares, reterr)) < 0)
                return k;
        r->has_cpu_shares = k > 0 && r->cpu_shares > 0; /* 0 = unset, as runc */
        if (r->has_cpu_shares && (r->cpu_shares < 2 || r->cpu_shares > 262144))
                return error_set_msg(reterr, -ERANGE, "%s.shares: %" PRIu64 " out of range (2..262144)",
                                     path, r->cpu_shares);
        if ((k = jint(c, path, "quota", &r->cpu_quota, reterr)) < 0)
                return k;
        r->has_cpu_quota = k > 0 && r->cpu_quota != 0;
        if (r->has_cpu_quota && r->cpu_quota < -1)
                return error_set_msg(reterr, -EINVAL, "%s.quota: must be -1 or positive", path);
        if ((k = juint(c, path, "period", &r->cpu_period, reterr)) < 0)
                return k;
        r->has_cpu_period = k > 0 && r->cpu_period > 0;
        if (r->has_cpu_period && (r->cpu_period < 1000 || r->cpu_period > 1000000))
                return error_set_msg(reterr, -ERANGE, "%s.period: %" PRIu64 " out of range (1000..1000000)",
                                     path, r->cpu_period);
        if ((k = juint(c, path, "burst", &r->cpu_burst, reterr)) < 0)
                return k;
        r->has_cpu_burst = k > 0;
        if ((k = jint(c, path, "idle", &r->cpu_idle, reterr)) < 0)
                return k;
        r->has_cpu_idle = k > 0;
        if (r->has_cpu_idle && r->cpu_idle != 0 && r->cpu_idle != 1)
                return error_set_msg(reterr, -EINVAL, "%s.idle: must be 0 or 1", path);

        if ((k = jstring(c, path, "cpus", &s, reterr)) < 0)
                return k;
        if (k > 0 && !isempty(s)) {
                if (!cpuset_list_is_valid(s))
                        return error_set_msg(reterr, -EINVAL, "%s.cpus: invalid CPU list", path);
                r->cpus = strdup(s);
                if (!r->cpus)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        if ((k = jstring(c, path, "mems", &s, reterr)) < 0)
                return k;
        if (k > 0 && !isempty(s)) {
                if (!cpuset_list_is_valid(s))
                        return error_set_msg(reterr, -EINVAL, "%s.mems: invalid memory node list", path);
                r->mems = strdup(s);
                if (!r->mems)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        FOREACH_ARRAY (key, ((const char *[]){"realtimeRuntime", "realtimePeriod"}), 2) {
                if ((k = jint(c, path, *key, &v, reterr)) < 0)
                        return k;
                if (k > 0 && v != 0 &&
                    add_unsupported(r, reterr, "%s.%s: cgroup v1 only, not applied", path, *key) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_device_values(json_object *arr, const char *path, const char *value_key,
                               bool value_required, CgroupDeviceValue **ret, size_t *ret_n, Error *reterr)
{
        size_t n = json_object_array_length(arr);
        _cleanup_free_ CgroupDeviceValue *d = NULL;
        size_t k = 0;

        if (n > 4096)
                return error_set_msg(reterr, -E2BIG, "%s: too many entries", path);
        if (n == 0)
                return 0;
        d = calloc(n, sizeof(CgroupDeviceValue));
        if (!d)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                char p[256];
                uint64_t major, minor, value = 0;
                int r;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", p, jtype(e));
                if ((r = juint(e, p, "major", &major, reterr)) <= 0)
                        return r < 0 ? r : error_set_msg(reterr, -EINVAL, "%s.major: missing", p);
                if ((r = juint(e, p, "minor", &minor, reterr)) <= 0)
                        return r < 0 ? r : error_set_msg(reterr, -EINVAL, "%s.minor: missing", p);
                if (major > UINT32_MAX || minor > UINT32_MAX)
                        return error_set_msg(reterr, -ERANGE, "%s: device number out of range", p);
                if ((r = juint(e, p, value_key, &value, reterr)) < 0)
                        return r;
                if (r == 0) {
                        if (value_required)
                                return error_set_msg(reterr, -EINVAL, "%s.%s: missing", p, value_key);
                        continue; /* weightDevice with only leafWeight */
                }
                d[k++] = (CgroupDeviceValue){
                        .major = (uint32_t)major, .minor = (uint32_t)minor, .value = value};
        }
        *ret = TAKE_PTR(d);
        *ret_n = k;
        return 0;
}

static int parse_blockio(CgroupResources *r, json_object *b, const char *path, Error *reterr)
{
        static const char *const throttle_keys[_CGROUP_THROTTLE_MAX] = {
                [CGROUP_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
                [CGROUP_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
                [CGROUP_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
                [CGROUP_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
        };
        uint64_t u;
        json_object *a;
        int k;

        if ((k = juint(b, path, "weight", &u, reterr)) < 0)
                return k;
        if (k > 0 && u != 0) {
                if (u < 10 || u > 1000)
                        return error_set_msg(reterr, -ERANGE,
                                             "%s.weight: %" PRIu64 " out of range (10..1000)", path, u);
                r->has_blkio_weight = true;
                r->blkio_weight = (uint16_t)u;
        }
        if ((k = juint(b, path, "leafWeight", &u, reterr)) < 0)
                return k;
        if (k > 0 && u != 0 &&
            add_unsupported(r, reterr, "%s.leafWeight: cgroup v1 only, not applied", path) < 0)
                return -ENOMEM;

        if ((k = jarray(b, path, "weightDevice", &a, reterr)) < 0)
                return k;
        if (a) {
                _cleanup_free_ char *p = strjoin(path, ".weightDevice");
                if (!p)
                        return error_set(reterr, -ENOMEM, "%s", path);
                k = parse_device_values(a, p, "weight", false, &r->weight_devices, &r->n_weight_devices,
                                        reterr);
                if (k < 0)
                        return k;
                for (size_t i = 0; i < r->n_weight_devices; i++)
                        if (r->weight_devices[i].value < 10 || r->weight_devices[i].value > 1000)
                                return error_set_msg(reterr, -ERANGE,
                                                     "%s: weight %" PRIu64 " out of range (10..1000)", p,
                                                     r->weight_devices[i].value);
        }
        for (size_t t = 0; t < _CGROUP_THROTTLE_MAX; t++) {
                if ((k = jarray(b, path, throttle_keys[t], &a, reterr)) < 0)
                        return k;
                if (!a)
                        continue;
                _cleanup_free_ char *p = strjoin(path, ".", throttle_keys[t]);
                if (!p)
                        return error_set(reterr, -ENOMEM, "%s", path);
                k = parse_device_values(a, p, "rate", true, &r->throttle[t], &r->n_throttle[t], reterr);
                if (k < 0)
                        return k;
        }
        return 0;
}

static bool hugepage_size_is_valid(const char *s)
{
        /* "2MB", "1GB", "64KB": digits then KB/MB/GB, as the kernel names hugetlb.<size>.* */
        size_t n = strspn(s, "0123456789");
        return n > 0 && n < 12 && (streq(s + n, "KB") || streq(s + n, "MB") || streq(s + n, "GB"));
}

static int parse_hugetlb(CgroupResources *r, json_object *arr, const char *path, Error *reterr)
{
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                char p[256];
                const char *size = NULL;
                uint64_t limit;
                int k;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", p, jtype(e));
                if ((k = jstring(e, p, "pageSize", &size, reterr)) <= 0)
                        return k < 0 ? k : error_set_msg(reterr, -EINVAL, "%s.pageSize: missing", p);
                if (!hugepage_size_is_valid(size))
                        return error_set_msg(reterr, -EINVAL,
                                             "%s.pageSize: invalid size \"%s\" (e.g. \"2MB\")", p, size);
                if ((k = juint(e, p, "limit", &limit, reterr)) <= 0)
                        return k < 0 ? k : error_set_msg(reterr, -EINVAL, "%s.limit: missing", p);
                if (strv_extend(&r->hugetlb, size) < 0 || strv_extendf(&r->hugetlb, "%" PRIu64, limit) < 0)
                        return error_set(reterr, -ENOMEM, "%s", p);
        }
        return 0;
}

static int parse_rdma(CgroupResources *r, json_object *o, const char *path, Error *reterr)
{
        json_object_object_foreach (o, dev, v) {
                _cleanup_free_ char *p = strjoin(path, ".", dev), *value = NULL;
                uint64_t handles, objects;
                int kh, ko;

                if (!p)
                        return error_set(reterr, -ENOMEM, "%s", path);
                if (!filename_is_valid(dev) || strpbrk(dev, " \t\n"))
                        return error_set_msg(reterr, -EINVAL, "%s: invalid device name", p);
                if (!json_object_is_type(v, json_type_object))
                        return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", p, jtype(v));
                if ((kh = juint(v, p, "hcaHandles", &handles, reterr)) < 0)
                        return kh;
                if ((ko = juint(v, p, "hcaObjects", &objects, reterr)) < 0)
                        return ko;
                if (kh == 0 && ko == 0)
                        continue;
                if (kh > 0 && ko > 0)
                        value = strprintf("hca_handle=%" PRIu64 " hca_object=%" PRIu64, handles, objects);
                else if (kh > 0)
                        value = strprintf("hca_handle=%" PRIu64, handles);
                else
                        value = strprintf("hca_object=%" PRIu64, objects);
                if (!value || strv_extend(&r->rdma, dev) < 0 || strv_consume(&r->rdma, TAKE_PTR(value)) < 0)
                        return error_set(reterr, -ENOMEM, "%s", p);
        }
        return 0;
}

/* Core files a "unified" key must not write: they move processes or change the tree. */
static const char *const unified_denied[] = {
        "cgroup.procs",           "cgroup.threads", "cgroup.kill",   "cgroup.freeze",
        "cgroup.subtree_control", "cgroup.type",    "cgroup.events", "cgroup.controllers",
};

static int parse_unified(CgroupResources *r, json_object *o, const char *path, Error *reterr)
{
        json_object_object_foreach (o, key, v) {
                if (!filename_is_valid(key) || !strchr(key, '.') || key[0] == '.' || string_has_cc(key))
                        return error_set_msg(
                                reterr, -EINVAL,
                                "%s: invalid key \"%s\" (a cgroup file name such as memory.high)", path,
                                key);
                for (size_t i = 0; i < ELEMENTSOF(unified_denied); i++)
                        if (streq(key, unified_denied[i]))
                                return error_set_msg(reterr, -EPERM, "%s.%s: not a resource setting", path,
                                                     key);
                if (!json_object_is_type(v, json_type_string))
                        return error_set_msg(reterr, -EINVAL, "%s.%s: expected a string, got %s", path, key,
                                             jtype(v));
                if (strv_extend(&r->unified, key) < 0 ||
                    strv_extend(&r->unified, json_object_get_string(v)) < 0)
                        return error_set(reterr, -ENOMEM, "%s", path);
        }
        return 0;
}

/*
 * What every container may use whatever its rules say, appended after them as runc and crun do
 * (so `runc spec`'s lone deny-all still leaves /dev/null usable): mknod of any node (opening it
 * is another matter), the OCI default devices, ptys, and tun as runc keeps it.
 */
#define ACC_RWM (CGROUP_DEVICE_ACC_READ | CGROUP_DEVICE_ACC_WRITE | CGROUP_DEVICE_ACC_MKNOD)
static const CgroupDeviceRule default_device_rules[] = {
        {true, 'c', -1, -1, CGROUP_DEVICE_ACC_MKNOD},
        {true, 'b', -1, -1, CGROUP_DEVICE_ACC_MKNOD},
        {true, 'c', 1, 3, ACC_RWM},    /* null */
        {true, 'c', 1, 5, ACC_RWM},    /* zero */
        {true, 'c', 1, 7, ACC_RWM},    /* full */
        {true, 'c', 1, 8, ACC_RWM},    /* random */
        {true, 'c', 1, 9, ACC_RWM},    /* urandom */
        {true, 'c', 5, 0, ACC_RWM},    /* tty */
        {true, 'c', 5, 2, ACC_RWM},    /* ptmx */
        {true, 'c', 136, -1, ACC_RWM}, /* pts */
        {true, 'c', 10, 200, ACC_RWM}, /* net/tun */
};

/* linux.resources.devices: kept in order (then the defaults); cgroup-devices.c makes the program. */
static int parse_devices(CgroupResources *r, json_object *arr, const char *path, Error *reterr)
{
        size_t n = json_object_array_length(arr);

        if (n > 4096)
                return error_set_msg(reterr, -E2BIG, "%s: too many rules", path);
        r->has_devices = true;
        r->devices = calloc(n + ELEMENTSOF(default_device_rules), sizeof(CgroupDeviceRule));
        if (!r->devices)
                return error_set(reterr, -ENOMEM, "%s", path);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i), *allow;
                CgroupDeviceRule *rule = r->devices + i;
                const char *type = "a", *access = "rwm";
                char p[256];
                int k;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", p, jtype(e));
                allow = jget(e, "allow");
                if (!allow || !json_object_is_type(allow, json_type_boolean))
                        return error_set_msg(reterr, -EINVAL, "%s.allow: missing or not a boolean", p);
                rule->allow = json_object_get_boolean(allow);
                if ((k = jstring(e, p, "type", &type, reterr)) < 0)
                        return k;
                if (!streq(type, "a") && !streq(type, "c") && !streq(type, "b"))
                        return error_set_msg(reterr, -EINVAL,
                                             "%s.type: must be \"a\", \"c\" or \"b\", got \"%s\"", p, type);
                rule->type = type[0];
                if ((k = jstring(e, p, "access", &access, reterr)) < 0)
                        return k;
                if (isempty(access) || strspn(access, "rwm") != strlen(access))
                        return error_set_msg(reterr, -EINVAL, "%s.access: must be made of r, w, m", p);
                rule->access = (strchr(access, 'm') ? CGROUP_DEVICE_ACC_MKNOD : 0) |
                               (strchr(access, 'r') ? CGROUP_DEVICE_ACC_READ : 0) |
                               (strchr(access, 'w') ? CGROUP_DEVICE_ACC_WRITE : 0);
                rule->major = rule->minor = -1;
                if ((k = jint(e, p, "major", &rule->major, reterr)) < 0)
                        return k;
                if ((k = jint(e, p, "minor", &rule->minor, reterr)) < 0)
                        return k;
                if (rule->major < -1 || rule->major > UINT32_MAX || rule->minor < -1 ||
                    rule->minor > UINT32_MAX)
                        return error_set_msg(reterr, -ERANGE, "%s: device number out of range", p);
                r->n_devices++;
        }
        memcpy(r->devices + r->n_devices, default_device_rules, sizeof(default_device_rules));
        r->n_devices += ELEMENTSOF(default_device_rules);
        return 0;
}

int cgroup_resources_parse(json_object *resources, const char *json_path, CgroupResources **ret,
                           Error *reterr)
{
        _cleanup_(cgroup_resources_freep) CgroupResources *r = NULL;
        const char *path = json_path ?: "linux.resources";
        json_object *o;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return error_set(reterr, -ENOMEM, "%s", path);
        if (!resources) {
                *ret = TAKE_PTR(r);
                return 0;
        }
        if (!json_object_is_type(resources, json_type_object))
                return error_set_msg(reterr, -EINVAL, "%s: expected an object, got %s", path,
                                     jtype(resources));

#define SUB(key, type, parse)                                                  \
        do {                                                                   \
                if ((k = j##type(resources, path, key, &o, reterr)) < 0)       \
                        return k;                                              \
                if (o) {                                                       \
                        _cleanup_free_ char *p = strjoin(path, "." key);       \
                        if (!p)                                                \
                                return error_set(reterr, -ENOMEM, "%s", path); \
                        k = parse(r, o, p, reterr);                            \
                        if (k < 0)                                             \
                                return k;                                      \
                }                                                              \
        } while (0)

        SUB("memory", object, parse_memory);
        SUB("cpu", object, parse_cpu);
        SUB("blockIO", object, parse_blockio);
        SUB("hugepageLimits", array, parse_hugetlb);
        SUB("rdma", object, parse_rdma);
        SUB("unified", object, parse_unified);
        SUB("devices", array, parse_devices);
#undef SUB

        if ((k = jobject(resources, path, "pids", &o, reterr)) < 0)
                return k;
        if (o) {
                _cleanup_free_ char *p = strjoin(path, ".pids");
                if (!p)
                        return error_set(reterr, -ENOMEM, "%s", path);
                if ((k = jint(o, p, "limit", &r->pids_limit, reterr)) < 0)
                        return k;
                r->has_pids_limit = k > 0;
        }
        if ((k = jobject(resources, path, "network", &o, reterr)) < 0)
                return k;
        if (o && (jget(o, "classID") ||
                  (jget(o, "priorities") && json_object_is_type(jget(o, "priorities"), json_type_array) &&
                   json_object_array_length(jget(o, "priorities")) > 0)))
                if (add_unsupported(r, reterr,
                                    "%s.network: net_cls/net_prio are cgroup v1 only, not applied",
                                    path) < 0)
                        return -ENOMEM;

        *ret = TAKE_PTR(r);
        return 0;
}

/* ------------------------------------------------------------------ conversions */

/* e^z for 0 <= z < 12 by its series, with the argument halved until small; no libm. */
static double exp_series(double z)
{
        int halvings = 0;
        double term = 1, sum = 1;

        while (z > 0.5) {
                z /= 2;
                halvings++;
        }
        for (int i = 1; i < 30; i++) {
                term *= z / i;
                sum += term;
        }
        while (halvings-- > 0)
                sum *= sum;
        return sum;
}

/* log2(x) for x >= 1: integer part by shifting, fraction by repeated squaring. */
static double log2_u64(uint64_t x)
{
        double r = 0, y, bit = 0.5;

        while (x >= 2) {
                if (x & 1) /* keep the fraction of odd numbers */
                        break;
                x >>= 1;
                r += 1;
        }
        y = (double)x;
        while (y >= 2) {
                y /= 2;
                r += 1;
        }
        for (int i = 0; i < 40; i++) {
                y *= y;
                if (y >= 2) {
                        y /= 2;
                        r += bit;
                }
                bit /= 2;
        }
        return r;
}

/*
 * shares (2..262144, default 1024) → weight (1..10000, default 100) on a quadratic curve in log
 * space, so that 2 → 1, 1024 → 100 and 262144 → 10000, as crun (1.23+) and runc (1.3+) convert:
 * weight = ceil(10^((l² + 125 l) / 612 − 7/34)), l = log2(shares).
 */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares)
{
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        double l = log2_u64(shares);
        double e = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
        double w = exp_series(e * 2.302585092994046); /* 10^e */
        uint64_t u = (uint64_t)w;
        if (w - (double)u > 1e-6) /* ceil, blind to the last bits of rounding noise */
                u++;
        return MIN(MAX(u, (uint64_t)1), (uint64_t)10000);
}

/* blkio weight 10..1000 → io.weight 1..10000, linearly (runc's conversion). */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight < 10)
                weight = 10;
        if (weight > 1000)
                weight = 1000;
        return 1 + (weight - 10) * 9999 / 990;
}

/* ------------------------------------------------------------------ writes */

void cgroup_writes_free(CgroupWrite *w, size_t n)
{
        for (size_t i = 0; w && i < n; i++) {
                free(w[i].file);
                free(w[i].value);
        }
        free(w);
}

typedef struct WriteList {
        CgroupWrite *w;
        size_t n, cap;
} WriteList;

static int wl_add(WriteList *l, const char *what, const char *file, const char *fmt, ...) _printf_(4, 5);
static int wl_add(WriteList *l, const char *what, const char *file, const char *fmt, ...)
{
        va_list ap;
        char *v = NULL;

        if (l->n == l->cap) {
                size_t cap = MAX(l->cap * 2, (size_t)16);
                CgroupWrite *w = reallocarray(l->w, cap, sizeof(CgroupWrite));
                if (!w)
                        return -ENOMEM;
                l->w = w;
                l->cap = cap;
        }
        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                v = NULL;
        va_end(ap);
        char *f = strdup(file);
        if (!v || !f) {
                free(v);
                free(f);
                return -ENOMEM;
        }
        l->w[l->n++] = (CgroupWrite){.file = f, .value = v, .what = what};
        return 0;
}

static bool file_exists_at(int fd, const char *name)
{
        return faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

#define MAX_OR(v, fmt) ((v) < 0 ? "max" : (snprintf(buf, sizeof(buf), fmt, (v)), buf))

int cgroup_resources_to_writes(const CgroupResources *res, int fd, bool skip_systemd_managed,
                               CgroupWrite **ret, size_t *ret_n, Error *reterr)
{
        WriteList l = {};
        char buf[64];
        int r = 0;

#define ADD(what, file, ...)                                       \
        do {                                                       \
                if ((r = wl_add(&l, what, file, __VA_ARGS__)) < 0) \
                        goto fail;                                 \
        } while (0)

        if (!skip_systemd_managed) {
                /* memory.max before memory.swap.max and memory.low, as the kernel checks nothing
                 * across them; cpuset before anything that might depend on placement. */
                if (res->cpus)
                        ADD("linux.resources.cpu.cpus", "cpuset.cpus", "%s", res->cpus);
                if (res->mems)
                        ADD("linux.resources.cpu.mems", "cpuset.mems", "%s", res->mems);
                if (res->has_memory_limit)
                        ADD("linux.resources.memory.limit", "memory.max", "%s",
                            MAX_OR(res->memory_limit, "%" PRIi64));
                if (res->has_memory_reservation)
                        ADD("linux.resources.memory.reservation", "memory.low", "%s",
                            MAX_OR(res->memory_reservation, "%" PRIi64));
                if (res->has_memory_swap) {
                        if (res->memory_swap < 0)
                                ADD("linux.resources.memory.swap", "memory.swap.max", "max");
                        else if (res->memory_swap > 0)
                                ADD("linux.resources.memory.swap", "memory.swap.max", "%" PRIi64,
                                    res->memory_swap - res->memory_limit);
                }
                if (res->has_cpu_shares)
                        ADD("linux.resources.cpu.shares", "cpu.weight", "%" PRIu64,
                            cgroup_cpu_shares_to_weight(res->cpu_shares));
                if (res->has_cpu_quota || res->has_cpu_period) {
                        /* cpu.max takes "QUOTA [PERIOD]"; only the period: "max PERIOD" keeps the
                         * quota unlimited (runc reads the old quota; we do not guess). */
                        uint64_t period = res->has_cpu_period ? res->cpu_period : 100000;
                        if (res->has_cpu_quota && res->cpu_quota > 0)
                                ADD("linux.resources.cpu.quota", "cpu.max", "%" PRIi64 " %" PRIu64,
                                    res->cpu_quota, period);
                        else
                                ADD("linux.resources.cpu.quota", "cpu.max", "max %" PRIu64, period);
                }
                if (res->has_pids_limit)
                        ADD("linux.resources.pids.limit", "pids.max", "%s",
                            res->pids_limit <= 0
                                    ? "max"
                                    : (snprintf(buf, sizeof(buf), "%" PRIi64, res->pids_limit), buf));

                bool bfq = fd >= 0 && file_exists_at(fd, "io.bfq.weight");
                if (res->has_blkio_weight) {
                        if (bfq)
                                ADD("linux.resources.blockIO.weight", "io.bfq.weight", "%u",
                                    res->blkio_weight);
                        else
                                ADD("linux.resources.blockIO.weight", "io.weight", "default %" PRIu64,
                                    cgroup_blkio_weight_to_io_weight(res->blkio_weight));
                }
                for (size_t i = 0; i < res->n_weight_devices; i++) {
                        const CgroupDeviceValue *d = res->weight_devices + i;
                        if (bfq)
                                ADD("linux.resources.blockIO.weightDevice", "io.bfq.weight",
                                    "%u:%u %" PRIu64, d->major, d->minor, d->value);
                        else
                                ADD("linux.resources.blockIO.weightDevice", "io.weight", "%u:%u %" PRIu64,
                                    d->major, d->minor, cgroup_blkio_weight_to_io_weight(d->value));
                }
                static const char *const io_keys[_CGROUP_THROTTLE_MAX] = {"rbps", "wbps", "riops", "wiops"};
                for (size_t t = 0; t < _CGROUP_THROTTLE_MAX; t++)
                        for (size_t i = 0; i < res->n_throttle[t]; i++) {
                                const CgroupDeviceValue *d = res->throttle[t] + i;
                                if (d->value == 0)
                                        ADD("linux.resources.blockIO.throttle", "io.max", "%u:%u %s=max",
                                            d->major, d->minor, io_keys[t]);
                                else
                                        ADD("linux.resources.blockIO.throttle", "io.max",
                                            "%u:%u %s=%" PRIu64, d->major, d->minor, io_keys[t], d->value);
                        }
        }

        /* What systemd has no property for: written directly in both drivers. */
        if (res->has_cpu_burst)
                ADD("linux.resources.cpu.burst", "cpu.max.burst", "%" PRIu64, res->cpu_burst);
        if (res->has_cpu_idle)
                ADD("linux.resources.cpu.idle", "cpu.idle", "%" PRIi64, res->cpu_idle);
        STRV_FOREACH_PAIR(size, limit, res->hugetlb)
        {
                _cleanup_free_ char *file = strjoin("hugetlb.", size, ".max");
                _cleanup_free_ char *rsvd = strjoin("hugetlb.", size, ".rsvd.max");
                if (!file || !rsvd) {
                        r = -ENOMEM;
                        goto fail;
                }
                ADD("linux.resources.hugepageLimits", file, "%s", limit);
                if (fd >= 0 && file_exists_at(fd, rsvd))
                        ADD("linux.resources.hugepageLimits", rsvd, "%s", limit);
        }
        STRV_FOREACH_PAIR(dev, value, res->rdma)
        ADD("linux.resources.rdma", "rdma.max", "%s %s", dev, value);
        STRV_FOREACH_PAIR(file, value, res->unified)
        {
                /* the systemd driver sent these as unit properties */
                if (skip_systemd_managed && cgroup_systemd_unified_is_property(file, value))
                        continue;
                ADD("linux.resources.unified", file, "%s", value);
        }
#undef ADD

        *ret = l.w;
        *ret_n = l.n;
        return 0;
fail:
        cgroup_writes_free(l.w, l.n);
        return error_set(reterr, r, "preparing cgroup writes");
}

bool cgroup_controller_available(int fd, const char *controller)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_strv_free_ char **l = NULL;

        if (read_full_file_at(fd, "cgroup.controllers", 4096, &s, NULL) < 0)
                return false;
        l = strv_split(s, " \n");
        return strv_contains(l, controller);
}

/* "memory.swap.max" → "memory"; "cgroup.max.depth" → NULL (core, always there). */
static char *file_controller(const char *file)
{
        const char *dot = strchr(file, '.');
        if (!dot || strneq(file, "cgroup.", 7))
                return NULL;
        return strndup(file, (size_t)(dot - file));
}

int cgroup_apply_writes(int fd, const char *dir, const CgroupWrite *w, size_t n, char ***warnings,
                        Error *reterr)
{
        _cleanup_free_ char *controllers = NULL;
        _cleanup_strv_free_ char **avail = NULL;
        int r;

        r = read_full_file_at(fd, "cgroup.controllers", 4096, &controllers, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading %s/cgroup.controllers", dir);
        avail = strv_split(controllers, " \n");
        if (!avail)
                return error_set(reterr, -ENOMEM, "cgroup controllers");

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ctl = file_controller(w[i].file);
                _cleanup_close_ int wfd = -EBADF;

                if (ctl && !strv_contains(avail, ctl)) {
                        if (warnings &&
                            strv_extendf(warnings,
                                         "%s: the %s controller is not available in %s, %s=%s not applied",
                                         w[i].what, ctl, dir, w[i].file, w[i].value) < 0)
                                return error_set(reterr, -ENOMEM, "warnings");
                        continue;
                }
                wfd = openat(fd, w[i].file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (wfd < 0 && errno == ENOENT && streq(w[i].what, "linux.resources.unified"))
                        return error_set_msg(reterr, -ENOENT, "%s.%s: no such file in %s", w[i].what,
                                             w[i].file, dir);
                if (wfd < 0 && errno == ENOENT) {
                        /* An optional file this kernel lacks (cpu.idle < 5.15, cpu.max.burst < 5.14, ...).
                         */
                        if (warnings &&
                            strv_extendf(warnings, "%s: %s/%s does not exist on this kernel, not applied",
                                         w[i].what, dir, w[i].file) < 0)
                                return error_set(reterr, -ENOMEM, "warnings");
                        continue;
                }
                if (wfd < 0)
                        return error_set(reterr, negative_errno(), "%s: opening %s/%s", w[i].what, dir,
                                         w[i].file);
                /* One write(2) per value: cgroup files take one setting per write. */
                if (write(wfd, w[i].value, strlen(w[i].value)) < 0)
                        return error_set(reterr, negative_errno(), "%s: writing \"%s\" to %s/%s", w[i].what,
                                         w[i].value, dir, w[i].file);
        }
        return 0;
}

/* ------------------------------------------------------------------ the object */

Cgroup *cgroup_free(Cgroup *cg)
{
        if (!cg)
                return NULL;
        free(cg->root);
        free(cg->path);
        free(cg->id);
        free(cg->slice);
        free(cg->unit);
        strv_free(cg->start_properties);
        safe_close(cg->fd);
        cgroup_systemd_bus_unref(cg->bus); /* the per-process connection stays open (cgroup-systemd.c) */
        return mfree(cg);
}

char *cgroup_dir(const Cgroup *cg)
{
        return path_join(cg->root, cg->path);
}

int cgroup_open_dir(Cgroup *cg, Error *reterr)
{
        _cleanup_close_ int rootfd = -EBADF;
        int fd;

        rootfd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(reterr, negative_errno(), "opening %s", cg->root);
        if (streq(cg->path, "/"))
                fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        else
                fd = openat_resolve(rootfd, cg->path + 1, O_RDONLY | O_DIRECTORY, 0,
                                    CTR_RESOLVE_BENEATH | CTR_RESOLVE_NO_SYMLINKS | CTR_RESOLVE_NO_XDEV);
        if (fd < 0)
                return error_set(reterr, fd == -1 ? negative_errno() : fd, "opening cgroup %s%s", cg->root,
                                 cg->path);
        safe_close(cg->fd);
        cg->fd = fd;
        return 0;
}

static int cgroup_new(CgroupDriver driver, const char *id, Cgroup **ret, Error *reterr)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r;

        if ((unsigned)driver >= _CGROUP_DRIVER_MAX)
                return error_set_msg(reterr, -EINVAL, "unknown cgroup driver %d", (int)driver);
        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return error_set(reterr, -ENOMEM, "cgroup");
        cg->fd = -EBADF;
        cg->driver = driver;
        if (id && !(cg->id = strdup(id)))
                return error_set(reterr, -ENOMEM, "cgroup");
        r = cgroup_find_root(&cg->root, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_create(const CgroupOptions *opts, Cgroup **ret, Error *reterr)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r;

        if (!opts || !ret)
                return error_set_msg(reterr, -EINVAL, "cgroup_create: no options");
        if (isempty(opts->cgroups_path) && (isempty(opts->id) || !filename_is_valid(opts->id)))
                return error_set_msg(reterr, -EINVAL,
                                     "cgroup: a container id is needed for the default cgroup path");

        r = cgroup_new(opts->driver, opts->id, &cg, reterr);
        if (r < 0)
                return r;
        if (opts->driver == CGROUP_DRIVER_SYSTEMD) {
                r = cgroup_systemd_resolve(cg, opts->cgroups_path, reterr);
                if (r >= 0)
                        r = cgroup_systemd_set_properties(cg, opts->properties, reterr);
                cg->start_resources = opts->resources;
        } else
                r = cgroup_fs_create(cg, opts->cgroups_path, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_load(CgroupDriver driver, const char *path, const char *unit, Cgroup **ret, Error *reterr)
{
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r;

        if (isempty(path) || !path_is_absolute(path) || !path_is_safe(path))
                return error_set_msg(reterr, -EINVAL, "cgroup path \"%s\" is not an absolute path",
                                     strempty(path));
        r = cgroup_new(driver, NULL, &cg, reterr);
        if (r < 0)
                return r;
        cg->path = strdup(path);
        if (!cg->path)
                return error_set(reterr, -ENOMEM, "cgroup");
        path_simplify(cg->path);
        if (driver == CGROUP_DRIVER_SYSTEMD) {
                if (isempty(unit))
                        return error_set_msg(reterr, -EINVAL,
                                             "cgroup: the systemd driver needs the unit name");
                cg->unit = strdup(unit);
                if (!cg->unit)
                        return error_set(reterr, -ENOMEM, "cgroup");
                cg->started = true;
        }
        r = cgroup_open_dir(cg, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cg);
        return 0;
}

const char *cgroup_path(const Cgroup *cg)
{
        return cg ? cg->path : NULL;
}

const char *cgroup_unit(const Cgroup *cg)
{
        return cg && cg->driver == CGROUP_DRIVER_SYSTEMD ? cg->unit : NULL;
}

int cgroup_fd(const Cgroup *cg)
{
        return cg ? cg->fd : -EBADF;
}

/* Whether the file holds nothing but whitespace (or is missing). */
static bool file_is_blank_at(int fd, const char *file)
{
        _cleanup_free_ char *s = NULL;
        if (read_full_file_at(fd, file, 4096, &s, NULL) < 0)
                return true;
        return isempty(strstrip(s));
}

int cgroup_exec_fd(Cgroup *cg, pid_t init_pid, int *ret_fd, Error *reterr)
{
        _cleanup_free_ char *data = NULL, *type = NULL;
        char p[64];
        int fd, r;

        if (!cg || cg->fd < 0 || !ret_fd)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");

        /* Processes may live in the container's cgroup itself unless it passes controllers down
         * to children of its own ("no internal processes"; threaded subtrees are exempt). */
        (void)read_full_file_at(cg->fd, "cgroup.type", 64, &type, NULL);
        if (file_is_blank_at(cg->fd, "cgroup.subtree_control") || (type && strstr(type, "threaded")) ||
            init_pid <= 0)
                goto itself;

        /* The container manages its cgroup (e.g. systemd inside): go where its init is, as runc
         * and crun do; only somewhere below the container's cgroup. */
        snprintf(p, sizeof(p), "/proc/%i/cgroup", (int)init_pid);
        r = read_full_file_at(AT_FDCWD, p, 64 * 1024, &data, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading %s", p);
        for (char *line = data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                const char *path = startswith(line, "0::"), *rest;
                if (!path)
                        continue;
                rest = streq(cg->path, "/") ? path : startswith(path, cg->path);
                if (rest && *rest && *rest != '/')
                        rest = NULL; /* "/a/bc" is not below "/a/b" */
                if (rest)
                        rest += strspn(rest, "/");
                if (!rest || isempty(rest))
                        goto itself; /* elsewhere (another cgroup namespace?) or the same: as before */
                if (!path_is_safe(rest))
                        return error_set_msg(reterr, -EINVAL, "odd cgroup path \"%s\" of pid %i", path,
                                             (int)init_pid);
                fd = openat_resolve(cg->fd, rest, O_RDONLY | O_DIRECTORY, 0,
                                    CTR_RESOLVE_BENEATH | CTR_RESOLVE_NO_SYMLINKS | CTR_RESOLVE_NO_XDEV);
                if (fd < 0)
                        return error_set(reterr, fd == -1 ? negative_errno() : fd, "opening cgroup %s%s",
                                         cg->root, path);
                *ret_fd = fd;
                return 0;
        }
itself:
        fd = fcntl(cg->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return error_set(reterr, negative_errno(), "dup");
        *ret_fd = fd;
        return 0;
}

int cgroup_enter_exec(Cgroup *cg, pid_t init_pid, pid_t pid, Error *reterr)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        int r;

        if (!cg || pid <= 0)
                return error_set_msg(reterr, -EINVAL, "cgroup_enter_exec: invalid arguments");
        r = cgroup_exec_fd(cg, init_pid, &fd, reterr);
        if (r < 0)
                return r;
        snprintf(buf, sizeof(buf), "%i", (int)pid);
        r = write_string_file_at(fd, "cgroup.procs", buf);
        if (r < 0)
                return error_set(reterr, r, "moving %i into the cgroup of container %s%s", (int)pid,
                                 cg->root, cg->path);
        return 0;
}

static int write_procs(Cgroup *cg, pid_t pid, Error *reterr)
{
        char buf[32];
        int r;

        snprintf(buf, sizeof(buf), "%i", (int)pid);
        r = write_string_file_at(cg->fd, "cgroup.procs", buf);
        if (r < 0)
                return error_set(reterr, r, "moving %i into %s%s", (int)pid, cg->root, cg->path);
        return 0;
}

int cgroup_enter(Cgroup *cg, pid_t pid, Error *reterr)
{
        if (!cg || pid <= 0)
                return error_set_msg(reterr, -EINVAL, "cgroup_enter: invalid arguments");
        if (cg->driver == CGROUP_DRIVER_SYSTEMD && !cg->started)
                return cgroup_systemd_start(cg, pid, reterr);
        if (cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup %s is not open", strna(cg->path));
        return write_procs(cg, pid, reterr);
}

int cgroup_apply(Cgroup *cg, const CgroupResources *res, char ***ret_warnings, Error *reterr)
{
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *dir = NULL;
        CgroupWrite *w = NULL;
        size_t n = 0;
        int r;

        if (!cg || !res)
                return error_set_msg(reterr, -EINVAL, "cgroup_apply: invalid arguments");
        if (cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup_apply: the cgroup is not set up yet%s",
                                     cg->driver == CGROUP_DRIVER_SYSTEMD ? " (call cgroup_enter first)"
                                                                         : "");

        r = strv_extend_strv(&warnings, res->unsupported);
        if (r < 0)
                return error_set(reterr, r, "warnings");

        dir = cgroup_dir(cg);
        if (!dir)
                return error_set(reterr, -ENOMEM, "cgroup");

        if (res->has_memory_limit && res->memory_check_before_update && res->memory_limit >= 0) {
                _cleanup_free_ char *cur = NULL;
                uint64_t usage;
                if (read_full_file_at(cg->fd, "memory.current", 64, &cur, NULL) >= 0 &&
                    safe_atou64(strstrip(cur), &usage) >= 0 && usage > (uint64_t)res->memory_limit)
                        return error_set_msg(reterr, -EBUSY,
                                             "linux.resources.memory.limit: %" PRIi64
                                             " is below the current usage %" PRIu64,
                                             res->memory_limit, usage);
        }

        if (cg->driver == CGROUP_DRIVER_SYSTEMD) {
                r = cgroup_systemd_apply(cg, res, false, &warnings, reterr);
                if (r < 0)
                        return r;
        }

        if (res->has_devices) {
                r = cgroup_devices_apply(cg->fd, dir, res->devices, res->n_devices, &warnings, reterr);
                if (r < 0)
                        return r;
        }

        r = cgroup_resources_to_writes(res, cg->fd, cg->driver == CGROUP_DRIVER_SYSTEMD, &w, &n, reterr);
        if (r < 0)
                return r;
        r = cgroup_apply_writes(cg->fd, dir, w, n, &warnings, reterr);
        cgroup_writes_free(w, n);
        if (r < 0)
                return r;

        if (ret_warnings)
                *ret_warnings = strv_isempty(warnings) ? NULL : TAKE_PTR(warnings);
        return 0;
}

/* ------------------------------------------------------------------ freezer */

/* Reads "key value" from a flat-keyed file such as cgroup.events or cpu.stat. */
static int read_keyed_u64(int dirfd, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        size_t klen = strlen(key);
        int r;

        r = read_full_file_at(dirfd, file, 64 * 1024, &s, NULL);
        if (r < 0)
                return r;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strneq(line, key, klen) && line[klen] == ' ')
                        return safe_atou64(line + klen + 1, ret);
                line = nl ? nl + 1 : NULL;
        }
        return -ENODATA;
}

int cgroup_is_frozen(Cgroup *cg, Error *reterr)
{
        uint64_t v;
        int r;

        if (!cg || cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");
        r = read_keyed_u64(cg->fd, "cgroup.events", "frozen", &v);
        if (r == -ENODATA)
                return error_set_msg(reterr, -EOPNOTSUPP, "%s%s: the kernel has no cgroup v2 freezer (5.2+)",
                                     cg->root, cg->path);
        if (r < 0)
                return error_set(reterr, r, "reading %s%s/cgroup.events", cg->root, cg->path);
        return v > 0;
}

int cgroup_freeze(Cgroup *cg, bool freeze, Error *reterr)
{
        _cleanup_close_ int efd = -EBADF;
        uint64_t deadline;
        int r;

        if (!cg || cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");
        r = write_string_file_at(cg->fd, "cgroup.freeze", freeze ? "1" : "0");
        if (r == -ENOENT)
                return error_set_msg(reterr, -EOPNOTSUPP, "%s%s: the kernel has no cgroup v2 freezer (5.2+)",
                                     cg->root, cg->path);
        if (r < 0)
                return error_set(reterr, r, "writing %s%s/cgroup.freeze", cg->root, cg->path);

        /* cgroup.events signals changes with POLLPRI; freezing completes asynchronously. */
        efd = openat(cg->fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (efd < 0)
                return error_set(reterr, negative_errno(), "opening %s%s/cgroup.events", cg->root, cg->path);
        deadline = now_usec(CLOCK_MONOTONIC) + CGROUP_FREEZE_TIMEOUT_USEC;
        for (;;) {
                r = cgroup_is_frozen(cg, reterr);
                if (r < 0)
                        return r;
                if ((r > 0) == freeze)
                        return 0;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return error_set_msg(reterr, -ETIMEDOUT, "%s%s: not %s after %" PRIu64 " s",
                                             cg->root, cg->path, freeze ? "frozen" : "thawed",
                                             CGROUP_FREEZE_TIMEOUT_USEC / USEC_PER_SEC);
                struct pollfd p = {.fd = efd, .events = POLLPRI};
                /* Wake at least every 10 ms: the first read above may have raced the event. */
                int ms = (int)MIN((deadline - now) / USEC_PER_MSEC + 1, (uint64_t)10);
                if (poll(&p, 1, ms) < 0 && errno != EINTR)
                        return error_set(reterr, negative_errno(), "polling cgroup.events");
                char tmp[256];
                (void)!pread(efd, tmp, sizeof(tmp), 0); /* re-arm */
        }
}

/* ------------------------------------------------------------------ processes */

typedef int (*ProcsFn)(pid_t pid, void *userdata);

/* Calls fn for every PID in dirfd's cgroup.procs and, recursively, its sub-cgroups. */
static int foreach_proc(int dirfd, int depth, ProcsFn fn, void *userdata)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        int r, fd;

        if (depth > 64)
                return -ELOOP;
        r = read_full_file_at(dirfd, "cgroup.procs", 16 * 1024 * 1024, &s, NULL);
        if (r < 0)
                return r;
        for (char *p = s, *tok; (tok = strsep(&p, "\n"));) {
                int pid;
                if (isempty(tok))
                        continue;
                if (safe_atoi(tok, &pid) < 0 || pid <= 0)
                        continue;
                r = fn(pid, userdata);
                if (r < 0)
                        return r;
        }

        /* A new open file description: a dup() would share (and move) the caller's offset. */
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                r = foreach_proc(sub, depth + 1, fn, userdata);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

typedef struct PidList {
        pid_t *pids;
        size_t n, cap;
} PidList;

static int collect_pid(pid_t pid, void *userdata)
{
        PidList *l = userdata;
        if (l->n == l->cap) {
                size_t cap = MAX(l->cap * 2, (size_t)16);
                pid_t *p = reallocarray(l->pids, cap, sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                l->pids = p;
                l->cap = cap;
        }
        l->pids[l->n++] = pid;
        return 0;
}

static int pid_cmp(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int cgroup_get_pids(Cgroup *cg, pid_t **ret_pids, size_t *ret_n, Error *reterr)
{
        PidList l = {};
        int r;

        if (!cg || cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");
        r = foreach_proc(cg->fd, 0, collect_pid, &l);
        if (r < 0) {
                free(l.pids);
                return error_set(reterr, r, "listing processes of %s%s", cg->root, cg->path);
        }
        if (l.n > 0)
                qsort(l.pids, l.n, sizeof(pid_t), pid_cmp);
        *ret_pids = l.pids;
        *ret_n = l.n;
        return 0;
}

typedef struct KillData {
        int sig;
        int n;
} KillData;

static int kill_one(pid_t pid, void *userdata)
{
        KillData *k = userdata;
        if (kill(pid, k->sig) < 0) {
                if (errno == ESRCH)
                        return 0;
                return negative_errno();
        }
        k->n++;
        return 0;
}

int cgroup_kill_all(Cgroup *cg, int sig, Error *reterr)
{
        KillData k = {.sig = sig};
        int r, was_frozen;
        bool froze = false;

        if (!cg || cg->fd < 0)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");
        if (sig < 0 || sig >= _NSIG)
                return error_set_msg(reterr, -EINVAL, "invalid signal %d", sig);

        if (sig == SIGKILL) {
                r = write_string_file_at(cg->fd, "cgroup.kill", "1");
                if (r >= 0)
                        return 0;
                if (r != -ENOENT)
                        return error_set(reterr, r, "writing %s%s/cgroup.kill", cg->root, cg->path);
        }

        /* Freeze so that nothing forks past us while we go through cgroup.procs. */
        was_frozen = cgroup_is_frozen(cg, NULL);
        if (was_frozen == 0 && cgroup_freeze(cg, true, NULL) >= 0)
                froze = true;
        r = foreach_proc(cg->fd, 0, kill_one, &k);
        if (froze)
                (void)cgroup_freeze(cg, false, NULL);
        if (r < 0)
                return error_set(reterr, r, "signalling processes of %s%s", cg->root, cg->path);
        return k.n;
}

/* ------------------------------------------------------------------ stats */

static uint64_t read_u64_or_max(int fd, const char *file)
{
        _cleanup_free_ char *s = NULL;
        uint64_t v;

        if (read_full_file_at(fd, file, 64, &s, NULL) < 0)
                return CGROUP_STAT_UNSET;
        strstrip(s);
        if (streq(s, "max"))
                return CGROUP_STAT_MAX;
        if (safe_atou64(s, &v) < 0)
                return CGROUP_STAT_UNSET;
        return v;
}

int cgroup_get_stats(Cgroup *cg, CgroupStats *ret, Error *reterr)
{
        CgroupStats s;

        if (!cg || cg->fd < 0 || !ret)
                return error_set_msg(reterr, -EBADF, "cgroup is not open");
        s.memory_current = read_u64_or_max(cg->fd, "memory.current");
        s.memory_max = read_u64_or_max(cg->fd, "memory.max");
        s.memory_swap_current = read_u64_or_max(cg->fd, "memory.swap.current");
        s.pids_current = read_u64_or_max(cg->fd, "pids.current");
        s.pids_max = read_u64_or_max(cg->fd, "pids.max");
        if (read_keyed_u64(cg->fd, "cpu.stat", "usage_usec", &s.cpu_usage_usec) < 0)
                s.cpu_usage_usec = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "cpu.stat", "user_usec", &s.cpu_user_usec) < 0)
                s.cpu_user_usec = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "cpu.stat", "system_usec", &s.cpu_system_usec) < 0)
                s.cpu_system_usec = CGROUP_STAT_UNSET;
        s.memory_peak = read_u64_or_max(cg->fd, "memory.peak");
        if (read_keyed_u64(cg->fd, "memory.events", "oom", &s.memory_oom) < 0)
                s.memory_oom = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "memory.events", "oom_kill", &s.memory_oom_kill) < 0)
                s.memory_oom_kill = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "cpu.stat", "nr_throttled", &s.cpu_nr_throttled) < 0)
                s.cpu_nr_throttled = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "cpu.stat", "throttled_usec", &s.cpu_throttled_usec) < 0)
                s.cpu_throttled_usec = CGROUP_STAT_UNSET;
        if (read_keyed_u64(cg->fd, "pids.events", "max", &s.pids_events_max) < 0)
                s.pids_events_max = CGROUP_STAT_UNSET;
        *ret = s;
        return 0;
}

/* ------------------------------------------------------------------ destroy */

/* rmdir of every sub-cgroup of dirfd, deepest first (cgroup dirs hold only control files). */
static int rmdir_children(int dirfd, int depth)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (depth > 64)
                return -ELOOP;
        /* A new open file description: a dup() would share (and move) the caller's offset. */
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0)
                        continue;
                int k = rmdir_children(sub, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
                if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                        r = negative_errno();
        }
        return r;
}

/* rmdir with retries: a cgroup stays busy for a moment after its last process is reaped. */
static int rmdir_retry(const char *path)
{
        for (int i = 0;; i++) {
                if (rmdir(path) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || i >= 50)
                        return negative_errno();
                usleep(10 * 1000);
        }
}

int cgroup_destroy(Cgroup *cg, Error *reterr)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        if (!cg)
                return 0;
        if (cg->driver == CGROUP_DRIVER_SYSTEMD && cg->started) {
                r = cgroup_systemd_stop(cg, reterr);
                if (r < 0)
                        return r;
        }
        if (!cg->path || streq(cg->path, "/"))
                return 0;
        dir = cgroup_dir(cg);
        if (!dir)
                return error_set(reterr, -ENOMEM, "cgroup");
        if (cg->fd >= 0) {
                r = rmdir_children(cg->fd, 0);
                if (r < 0 && r != -ENOENT)
                        return error_set(reterr, r, "removing sub-cgroups of %s", dir);
        }
        r = rmdir_retry(dir);
        if (r < 0)
                return error_set(reterr, r, "removing %s", dir);
        cg->fd = safe_close(cg->fd);
        return 0;
}
