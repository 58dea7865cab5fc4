/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OCI runtime spec generation: image config, then unit keys, then the security baseline
 * (Podman's default capabilities, no_new_privs, the default seccomp profile, Podman's masked
 * and read-only paths, a fresh tmpfs /dev). See spec.h.
 */
#include "spec.h"

#include <signal.h>
#include <sys/resource.h>

const char *const spec_default_capabilities[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
        "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL,
};

const char *const spec_masked_paths[] = {
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
        "/sys/fs/selinux",
        "/proc/interrupts",
        NULL,
};

const char *const spec_readonly_paths[] = {
        "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

#define DEFAULT_PATH         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RLIMIT_DEFAULT_VALUE UINT64_C(1048576)

static void json_object_putp(json_object **j)
{
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static int add_string(json_object *o, const char *key, const char *value)
{
        json_object *s = json_object_new_string(value);
        if (!s)
                return -ENOMEM;
        if (json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

static int add_object(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int array_add_string(json_object *a, const char *s)
{
        json_object *v = json_object_new_string(s);
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *strv_to_json(char *const *l)
{
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        STRV_FOREACH (s, (char **)l)
                if (array_add_string(a, *s) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static json_object *cstrv_to_json(const char *const *l)
{
        return strv_to_json((char *const *)l);
}

/* Ensures o[key] is an object and returns it (borrowed). */
static json_object *object_child(json_object *o, const char *key)
{
        json_object *c;
        if (json_object_object_get_ex(o, key, &c))
                return c;
        c = json_object_new_object();
        if (!c || json_object_object_add(o, key, c) < 0) {
                json_object_put(c);
                return NULL;
        }
        return c;
}

/* ---------------------------------------------------------------- users */

/* Finds the entry whose field 0 (name) or field 2 (id) matches in a passwd/group format file. */
static int lookup_db(int rootfs_fd, const char *file, const char *name, uint32_t *ret_id, uint32_t *ret_gid)
{
        _cleanup_free_ char *data = NULL;
        int r;

        if (rootfs_fd < 0)
                return -ENOENT;
        int fd = openat_resolve(rootfs_fd, file, O_RDONLY | O_NOCTTY, 0, CTR_RESOLVE_IN_ROOT);
        if (fd < 0)
                return fd;
        r = read_full_fd(fd, 4 * 1024 * 1024, &data, NULL);
        safe_close(fd);
        if (r < 0)
                return r;

        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4] = {};
                char *p = line;
                size_t n = 0;
                while (n < 4) {
                        f[n++] = p;
                        p = strchr(p, ':');
                        if (!p)
                                break;
                        *p++ = '\0';
                }
                if (n < 3 || !streq(f[0], name))
                        continue;
                uint32_t id, gid = 0;
                if (safe_atou32(f[2], &id) < 0)
                        continue;
                if (ret_gid && (n < 4 || safe_atou32(strsep(&f[3], ":"), &gid) < 0))
                        continue;
                *ret_id = id;
                if (ret_gid)
                        *ret_gid = gid;
                return 0;
        }
        return -ESRCH;
}

int spec_resolve_user(int rootfs_fd, const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
                      Error *reterr)
{
        _cleanup_free_ char *u = NULL, *g = NULL;
        uint32_t uid = 0, gid = 0;
        bool have_gid = false;
        int r;

        if (isempty(user)) {
                *ret_uid = 0;
                *ret_gid = 0;
                return 0;
        }

        u = strdup(user);
        if (!u)
                return -ENOMEM;
        char *colon = strchr(u, ':');
        if (colon) {
                *colon = '\0';
                g = strdup(colon + 1);
                if (!g)
                        return -ENOMEM;
        }
        if (!isempty(group)) {
                free(g);
                g = strdup(group);
                if (!g)
                        return -ENOMEM;
        }

        if (safe_atou32(u, &uid) >= 0) {
                /* A number: the primary group comes from passwd when there is an entry. */
                (void)0;
        } else {
                uint32_t pgid;
                r = lookup_db(rootfs_fd, "/etc/passwd", u, &uid, &pgid);
                if (r < 0)
                        return error_set_msg(reterr, -ESRCH,
                                             "user \"%s\": not found in the image's /etc/passwd", u);
                gid = pgid;
                have_gid = true;
        }

        if (!isempty(g)) {
                if (safe_atou32(g, &gid) < 0) {
                        r = lookup_db(rootfs_fd, "/etc/group", g, &gid, NULL);
                        if (r < 0)
                                return error_set_msg(reterr, -ESRCH,
                                                     "group \"%s\": not found in the image's /etc/group", g);
                }
                have_gid = true;
        }
        if (!have_gid)
                gid = 0;

        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

/* ---------------------------------------------------------------- process */

static int env_set(char ***env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

        if (klen == 0)
                return -EINVAL;
        for (char **e = *env; e && *e; e++)
                if (strneq(*e, kv, klen) && ((*e)[klen] == '=' || (*e)[klen] == '\0')) {
                        char *n = strdup(kv);
                        if (!n)
                                return -ENOMEM;
                        free(*e);
                        *e = n;
                        return 0;
                }
        return strv_extend(env, kv);
}

static bool env_has(char **env, const char *key)
{
        size_t l = strlen(key);
        STRV_FOREACH (e, env)
                if (strneq(*e, key, l) && (*e)[l] == '=')
                        return true;
        return false;
}

static int build_args(const SpecInput *in, char ***ret, Error *reterr)
{
        _cleanup_strv_free_ char **args = NULL;
        int r;

        /* Docker semantics: an overridden entrypoint drops the image's Cmd too. */
        char **entry = !strv_isempty(in->entrypoint) ? in->entrypoint : in->image_entrypoint;
        char **cmd = !strv_isempty(in->exec)         ? in->exec
                     : !strv_isempty(in->entrypoint) ? NULL
                                                     : in->image_cmd;

        r = strv_extend_strv(&args, entry);
        if (r < 0)
                return r;
        r = strv_extend_strv(&args, cmd);
        if (r < 0)
                return r;
        if (strv_isempty(args))
                return error_set_msg(
                        reterr, -EINVAL,
                        "no command: the image has neither Entrypoint nor Cmd and the unit sets no Exec=");
        *ret = TAKE_PTR(args);
        return 0;
}

static int add_capabilities(json_object *process, const SpecInput *in, Error *reterr)
{
        _cleanup_strv_free_ char **caps = NULL;
        int r;

        for (const char *const *c = spec_default_capabilities; *c; c++) {
                r = strv_extend(&caps, *c);
                if (r < 0)
                        return r;
        }

        STRV_FOREACH (c, in->add_capabilities) {
                if (strcasecmp(*c, "ALL") == 0) {
                        for (int i = 0; i <= capability_last_known(); i++) {
                                const char *n = capability_to_name(i);
                                if (n && !strv_contains(caps, n) && (r = strv_extend(&caps, n)) < 0)
                                        return r;
                        }
                        continue;
                }
                int cap = capability_from_name(*c);
                if (cap < 0)
                        return error_set_msg(reterr, -EINVAL, "AddCapability: unknown capability \"%s\"",
                                             *c);
                const char *n = capability_to_name(cap);
                if (!strv_contains(caps, n) && (r = strv_extend(&caps, n)) < 0)
                        return r;
        }
        STRV_FOREACH (c, in->drop_capabilities) {
                if (strcasecmp(*c, "ALL") == 0) {
                        caps = strv_free(caps);
                        continue;
                }
                int cap = capability_from_name(*c);
                if (cap < 0)
                        return error_set_msg(reterr, -EINVAL, "DropCapability: unknown capability \"%s\"",
                                             *c);
                strv_remove(caps, capability_to_name(cap));
        }

        json_object *cj = json_object_new_object();
        if (!cj)
                return -ENOMEM;
        if ((r = add_object(process, "capabilities", cj)) < 0)
                return r;
        /* bounding = permitted = effective; inheritable and ambient stay empty (CVE-2022-29162) */
        const char *sets[] = {"bounding", "effective", "permitted"};
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                if ((r = add_object(cj, sets[i], strv_to_json(caps))) < 0)
                        return r;
        return 0;
}

static int add_rlimits(json_object *process, const SpecInput *in)
{
        json_object *a = json_object_new_array();
        int r;

        if (!a)
                return -ENOMEM;
        if ((r = add_object(process, "rlimits", a)) < 0)
                return r;

        /* Podman: NOFILE and NPROC at 1048576 unless set, clamped to what this process holds. */
        static const struct {
                const char *name;
                int resource;
        } defaults[] = {
                {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                {"RLIMIT_NPROC", RLIMIT_NPROC},
        };
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                bool set = false;
                for (size_t j = 0; j < in->n_rlimits; j++)
                        if (streq(in->rlimits[j].type, defaults[i].name))
                                set = true;
                if (set)
                        continue;
                struct rlimit rl;
                uint64_t v = RLIMIT_DEFAULT_VALUE;
                if (getrlimit(defaults[i].resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
                    rl.rlim_max < v)
                        v = rl.rlim_max;
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                if ((r = add_string(o, "type", defaults[i].name)) < 0 ||
                    (r = add_object(o, "hard", json_object_new_uint64(v))) < 0 ||
                    (r = add_object(o, "soft", json_object_new_uint64(v))) < 0)
                        return r;
        }
        for (size_t j = 0; j < in->n_rlimits; j++) {
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                if ((r = add_string(o, "type", in->rlimits[j].type)) < 0 ||
                    (r = add_object(o, "hard", json_object_new_uint64(in->rlimits[j].hard))) < 0 ||
                    (r = add_object(o, "soft", json_object_new_uint64(in->rlimits[j].soft))) < 0)
                        return r;
        }
        return 0;
}

static int build_process(json_object *spec, const SpecInput *in, Error *reterr)
{
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        json_object *process;
        uid_t uid;
        gid_t gid;
        int r;

        r = build_args(in, &args, reterr);
        if (r < 0)
                return r;

        /* Environment: image, then unit; PATH when neither gives one. */
        STRV_FOREACH (e, in->image_env)
                if (strchr(*e, '=') && env_set(&env, *e) < 0)
                        return -ENOMEM;
        STRV_FOREACH (e, in->environment) {
                if (!strchr(*e, '=') || **e == '=')
                        return error_set_msg(reterr, -EINVAL, "Environment: \"%s\" is not KEY=VALUE", *e);
                if (env_set(&env, *e) < 0)
                        return -ENOMEM;
        }
        if (!env_has(env, "PATH") && strv_extend(&env, DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (!env_has(env, "container") && strv_extend(&env, "container=ctrmgr") < 0)
                return -ENOMEM;
        if (!env_has(env, "HOSTNAME") && strv_extendf(&env, "HOSTNAME=%s", in->hostname ?: in->name) < 0)
                return -ENOMEM;

        const char *user = !isempty(in->user) ? in->user : in->image_user;
        r = spec_resolve_user(in->rootfs_fd, user, in->group, &uid, &gid, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "User");

        const char *cwd = !isempty(in->working_dir)         ? in->working_dir
                          : !isempty(in->image_working_dir) ? in->image_working_dir
                                                            : "/";
        if (!path_is_absolute(cwd))
                return error_set_msg(reterr, -EINVAL, "WorkingDir: \"%s\" is not an absolute path", cwd);

        process = json_object_new_object();
        if ((r = add_object(spec, "process", process)) < 0)
                return r;
        if ((r = add_object(process, "terminal", json_object_new_boolean(false))) < 0 ||
            (r = add_string(process, "cwd", cwd)) < 0 ||
            (r = add_object(process, "args", strv_to_json(args))) < 0 ||
            (r = add_object(process, "env", strv_to_json(env))) < 0)
                return r;

        json_object *uj = json_object_new_object();
        if ((r = add_object(process, "user", uj)) < 0 ||
            (r = add_object(uj, "uid", json_object_new_int64(uid))) < 0 ||
            (r = add_object(uj, "gid", json_object_new_int64(gid))) < 0)
                return r;

        r = add_capabilities(process, in, reterr);
        if (r < 0)
                return r;
        if ((r = add_object(process, "noNewPrivileges",
                            json_object_new_boolean(in->no_new_privileges != 0))) < 0)
                return r;
        /* The daemon protects itself from the OOM killer (OOMScoreAdjust=-500 in its service);
         * containers must not inherit that, they start where a systemd service does. */
        if ((r = add_object(process, "oomScoreAdj", json_object_new_int(0))) < 0)
                return r;
        return add_rlimits(process, in);
}

/* ---------------------------------------------------------------- mounts */

static int mounts_add(json_object *mounts, const char *dest, const char *type, const char *source,
                      const char *const *options)
{
        json_object *m = json_object_new_object();
        int r;

        if (!m || json_object_array_add(mounts, m) < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        if ((r = add_string(m, "destination", dest)) < 0 || (r = add_string(m, "type", type)) < 0 ||
            (r = add_string(m, "source", source)) < 0)
                return r;
        if (options && (r = add_object(m, "options", cstrv_to_json(options))) < 0)
                return r;
        return 0;
}

static bool mount_overridden(const SpecInput *in, const char *dest)
{
        for (size_t i = 0; i < in->n_mounts; i++)
                if (streq(in->mounts[i].destination, dest))
                        return true;
        return false;
}

static int build_mounts(json_object *spec, const SpecInput *in, Error *reterr)
{
        json_object *mounts = json_object_new_array();
        char shm_opt[64];
        int r;

        if ((r = add_object(spec, "mounts", mounts)) < 0)
                return r;

        if (in->shm_size != UINT64_MAX)
                snprintf(shm_opt, sizeof shm_opt, "size=%" PRIu64, in->shm_size);
        else
                snprintf(shm_opt, sizeof shm_opt, "size=65536k");

        const char *const proc_o[] = {"nosuid", "noexec", "nodev", NULL};
        const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
        const char *const pts_o[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                     "mode=0620", "gid=5",  NULL};
        const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
        const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro", NULL};
        const char *const sys_host_o[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
        const char *const cg_o[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
        const char *const shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777", shm_opt, NULL};
        const char *const tmp_o[] = {"nosuid", "nodev", "mode=1777", NULL};
        const char *const run_o[] = {"nosuid", "nodev", "mode=755", NULL};

        if ((r = mounts_add(mounts, "/proc", "proc", "proc", proc_o)) < 0 ||
            (r = mounts_add(mounts, "/dev", "tmpfs", "tmpfs", dev_o)) < 0 ||
            (r = mounts_add(mounts, "/dev/pts", "devpts", "devpts", pts_o)) < 0 ||
            (r = mounts_add(mounts, "/dev/mqueue", "mqueue", "mqueue", mq_o)) < 0)
                return r;
        /* A fresh sysfs needs a network namespace of our own; with the host's, bind it read-only. */
        if (in->network == SPEC_NETWORK_HOST)
                r = mounts_add(mounts, "/sys", "bind", "/sys", sys_host_o);
        else
                r = mounts_add(mounts, "/sys", "sysfs", "sysfs", sys_o);
        if (r < 0)
                return r;
        if ((r = mounts_add(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", cg_o)) < 0)
                return r;
        if (!mount_overridden(in, "/dev/shm") &&
            (r = mounts_add(mounts, "/dev/shm", "tmpfs", "shm", shm_o)) < 0)
                return r;

        if (in->read_only && in->read_only_tmpfs) {
                const char *const dirs[] = {"/tmp", "/var/tmp", "/run"};
                for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                        if (!mount_overridden(in, dirs[i]) &&
                            (r = mounts_add(mounts, dirs[i], "tmpfs", "tmpfs",
                                            streq(dirs[i], "/run") ? run_o : tmp_o)) < 0)
                                return r;
        }

        if (in->network == SPEC_NETWORK_HOST) {
                const char *const ro_bind[] = {"rbind", "ro", NULL};
                if (!mount_overridden(in, "/etc/resolv.conf") && access("/etc/resolv.conf", F_OK) == 0 &&
                    (r = mounts_add(mounts, "/etc/resolv.conf", "bind", "/etc/resolv.conf", ro_bind)) < 0)
                        return r;
                if (!mount_overridden(in, "/etc/hosts") && access("/etc/hosts", F_OK) == 0 &&
                    (r = mounts_add(mounts, "/etc/hosts", "bind", "/etc/hosts", ro_bind)) < 0)
                        return r;
        }

        for (size_t i = 0; i < in->n_mounts; i++) {
                const SpecMount *m = &in->mounts[i];
                if (!path_is_absolute(m->destination))
                        return error_set_msg(reterr, -EINVAL,
                                             "mount destination \"%s\" is not an absolute path",
                                             m->destination);
                if (!path_is_safe(m->destination))
                        return error_set_msg(reterr, -EINVAL, "mount destination \"%s\" contains \"..\"",
                                             m->destination);
                if (streq(m->type, "bind") && !path_is_absolute(m->source))
                        return error_set_msg(reterr, -EINVAL,
                                             "bind mount source \"%s\" is not an absolute path", m->source);
                if ((r = mounts_add(mounts, m->destination, m->type, m->source ?: m->type,
                                    (const char *const *)m->options)) < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- linux */

static int add_namespace(json_object *a, const char *type)
{
        json_object *o = json_object_new_object();
        if (!o || json_object_array_add(a, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return add_string(o, "type", type);
}

static bool unmasked(const SpecInput *in, const char *path)
{
        STRV_FOREACH (u, in->unmask)
                if (streq(*u, "ALL") || streq(*u, path))
                        return true;
        return false;
}

static int add_thermal_throttle(json_object *masked, const SpecInput *in)
{
        /* Podman masks every existing /sys/devices/system/cpu/cpuN/thermal_throttle. */
        _cleanup_closedir_ DIR *d = opendir("/sys/devices/system/cpu");
        struct dirent *de;
        int r;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, "cpu"))
                        continue;
                _cleanup_free_ char *p =
                        path_join("/sys/devices/system/cpu", de->d_name, "thermal_throttle");
                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) < 0 || unmasked(in, p))
                        continue;
                if ((r = array_add_string(masked, p)) < 0)
                        return r;
        }
        return 0;
}

static int build_resources(json_object *linux_, const SpecInput *in)
{
        json_object *res = object_child(linux_, "resources");
        json_object *unified = NULL;
        int r;

        if (!res)
                return -ENOMEM;

        /* Devices: deny all, allow the default nodes (runc's list without tun). */
        json_object *devices = json_object_new_array();
        if ((r = add_object(res, "devices", devices)) < 0)
                return r;
        static const struct {
                bool allow;
                const char *type;
                int64_t major, minor;
                const char *access;
        } rules[] = {
                {false, "a", -1, -1, "rwm"}, {true, "c", 1, 3, "rwm"}, {true, "c", 1, 5, "rwm"},
                {true, "c", 1, 7, "rwm"},    {true, "c", 1, 8, "rwm"}, {true, "c", 1, 9, "rwm"},
                {true, "c", 5, 0, "rwm"},    {true, "c", 5, 1, "rwm"}, {true, "c", 5, 2, "rwm"},
                {true, "c", 136, -1, "rwm"},
        };
        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(devices, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                if ((r = add_object(o, "allow", json_object_new_boolean(rules[i].allow))) < 0 ||
                    (r = add_string(o, "type", rules[i].type)) < 0 ||
                    (r = add_string(o, "access", rules[i].access)) < 0)
                        return r;
                if (rules[i].major >= 0 &&
                    (r = add_object(o, "major", json_object_new_int64(rules[i].major))) < 0)
                        return r;
                if (rules[i].minor >= 0 &&
                    (r = add_object(o, "minor", json_object_new_int64(rules[i].minor))) < 0)
                        return r;
        }

        if (in->memory_max != UINT64_MAX) {
                json_object *mem = object_child(res, "memory");
                if (!mem || (r = add_object(mem, "limit",
                                            json_object_new_int64(
                                                    (int64_t)MIN(in->memory_max, (uint64_t)INT64_MAX)))) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        if (in->pids_max != UINT64_MAX) {
                json_object *pids = object_child(res, "pids");
                if (!pids || (r = add_object(pids, "limit",
                                             json_object_new_int64(
                                                     (int64_t)MIN(in->pids_max, (uint64_t)INT64_MAX)))) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        if (in->cpu_quota_per_sec_usec != UINT64_MAX) {
                /* CPUQuota=50% → 50000 usec per 100000 usec period. */
                json_object *cpu = object_child(res, "cpu");
                if (!cpu ||
                    (r = add_object(cpu, "quota",
                                    json_object_new_int64((int64_t)(in->cpu_quota_per_sec_usec / 10)))) <
                            0 ||
                    (r = add_object(cpu, "period", json_object_new_uint64(100000))) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        /* cgroup v2 weights and memory.high have no typed OCI field everyone agrees on: unified. */
        if (in->cpu_weight != UINT64_MAX || in->io_weight != UINT64_MAX || in->memory_high != UINT64_MAX) {
                unified = object_child(res, "unified");
                if (!unified)
                        return -ENOMEM;
                char buf[32];
                if (in->cpu_weight != UINT64_MAX) {
                        snprintf(buf, sizeof buf, "%" PRIu64, in->cpu_weight);
                        if ((r = add_string(unified, "cpu.weight", buf)) < 0)
                                return r;
                }
                if (in->io_weight != UINT64_MAX) {
                        snprintf(buf, sizeof buf, "default %" PRIu64, in->io_weight);
                        if ((r = add_string(unified, "io.weight", buf)) < 0)
                                return r;
                }
                if (in->memory_high != UINT64_MAX) {
                        snprintf(buf, sizeof buf, "%" PRIu64, in->memory_high);
                        if ((r = add_string(unified, "memory.high", buf)) < 0)
                                return r;
                }
        }
        return 0;
}

static int build_linux(json_object *spec, const SpecInput *in, Error *reterr)
{
        json_object *linux_ = json_object_new_object();
        int r;

        if ((r = add_object(spec, "linux", linux_)) < 0)
                return r;

        json_object *ns = json_object_new_array();
        if ((r = add_object(linux_, "namespaces", ns)) < 0)
                return r;
        const char *types[] = {"pid", "mount", "ipc", "uts", "cgroup"};
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if ((r = add_namespace(ns, types[i])) < 0)
                        return r;
        if (in->network != SPEC_NETWORK_HOST && (r = add_namespace(ns, "network")) < 0)
                return r;

        if (in->cgroups_path && (r = add_string(linux_, "cgroupsPath", in->cgroups_path)) < 0)
                return r;

        r = build_resources(linux_, in);
        if (r < 0)
                return r;

        /* Masked and read-only paths as Podman. */
        json_object *masked = json_object_new_array(), *ro = json_object_new_array();
        if ((r = add_object(linux_, "maskedPaths", masked)) < 0 ||
            (r = add_object(linux_, "readonlyPaths", ro)) < 0)
                return r;
        for (const char *const *p = spec_masked_paths; *p; p++)
                if (!unmasked(in, *p) && (r = array_add_string(masked, *p)) < 0)
                        return r;
        r = add_thermal_throttle(masked, in);
        if (r < 0)
                return r;
        STRV_FOREACH (p, in->mask) {
                if (!path_is_absolute(*p) || !path_is_safe(*p))
                        return error_set_msg(reterr, -EINVAL, "Mask: \"%s\" is not an absolute path", *p);
                if ((r = array_add_string(masked, *p)) < 0)
                        return r;
        }
        for (const char *const *p = spec_readonly_paths; *p; p++)
                if (!unmasked(in, *p) && (r = array_add_string(ro, *p)) < 0)
                        return r;

        if (!strv_isempty(in->sysctl)) {
                json_object *sys = json_object_new_object();
                if ((r = add_object(linux_, "sysctl", sys)) < 0)
                        return r;
                STRV_FOREACH (s, in->sysctl) {
                        _cleanup_free_ char *k = strdup(*s);
                        if (!k)
                                return -ENOMEM;
                        char *eq = strchr(k, '=');
                        if (!eq || eq == k)
                                return error_set_msg(reterr, -EINVAL, "Sysctl: \"%s\" is not NAME=VALUE",
                                                     *s);
                        *eq = '\0';
                        if ((r = add_string(sys, k, eq + 1)) < 0)
                                return r;
                }
        }

        if (!in->seccomp_unconfined && in->seccomp) {
                /* A deep copy, so the caller's cached profile object stays untouched. */
                json_object *copy = NULL;
                if (json_object_deep_copy(in->seccomp, &copy, NULL) < 0)
                        return -ENOMEM;
                if ((r = add_object(linux_, "seccomp", copy)) < 0)
                        return r;
        }
        return 0;
}

int spec_image_stop_signal(const SpecInput *in)
{
        if (!isempty(in->image_stop_signal)) {
                int s = signal_from_string(in->image_stop_signal);
                if (s > 0)
                        return s;
        }
        return SIGTERM;
}

int spec_generate(const SpecInput *in, json_object **ret, Error *reterr)
{
        _cleanup_json_ json_object *spec = NULL;
        int r;

        if (isempty(in->name) || isempty(in->rootfs))
                return error_set_msg(reterr, -EINVAL, "spec: missing name or rootfs");

        spec = json_object_new_object();
        if (!spec)
                return -ENOMEM;
        if ((r = add_string(spec, "ociVersion", "1.2.0")) < 0)
                return r;

        r = build_process(spec, in, reterr);
        if (r < 0)
                return r;

        json_object *root = json_object_new_object();
        if ((r = add_object(spec, "root", root)) < 0 || (r = add_string(root, "path", in->rootfs)) < 0 ||
            (r = add_object(root, "readonly", json_object_new_boolean(in->read_only))) < 0)
                return r;

        const char *hostname = !isempty(in->hostname) ? in->hostname : in->name;
        if ((r = add_string(spec, "hostname", hostname)) < 0)
                return r;

        r = build_mounts(spec, in, reterr);
        if (r < 0)
                return r;
        r = build_linux(spec, in, reterr);
        if (r < 0)
                return r;

        json_object *ann = json_object_new_object();
        if ((r = add_object(spec, "annotations", ann)) < 0 ||
            (r = add_string(ann, "org.ctrmgr.unit", in->name)) < 0)
                return r;
        STRV_FOREACH (a, in->annotations) {
                _cleanup_free_ char *k = strdup(*a);
                if (!k)
                        return -ENOMEM;
                char *eq = strchr(k, '=');
                if (!eq || eq == k)
                        return error_set_msg(reterr, -EINVAL, "Annotation: \"%s\" is not KEY=VALUE", *a);
                *eq = '\0';
                if ((r = add_string(ann, k, eq + 1)) < 0)
                        return r;
        }

        *ret = TAKE_PTR(spec);
        return 0;
}
