/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle as seen from the runtime (parent) side: create, start, state, kill, delete,
 * list, pause/resume, ps, update. */

#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/internal.h"

static const char *root_or_default(const char *root)
{
        return root ?: RUNTIME_DEFAULT_ROOT;
}

static void format_now_rfc3339(char *buf, size_t len)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static int write_id_map(pid_t pid, const char *file, const IdMap *m, size_t n, Error *reterr)
{
        char path[64], buf[340 * 36 + 1];
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += snprintf(buf + off, sizeof buf - off, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                m[i].size);
        snprintf(path, sizeof path, "/proc/%i/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(reterr, -errno, "opening %s", path);
        if (write(fd, buf, off) != (ssize_t)off)
                return error_set(reterr, -errno, "writing %s", path);
        return 0;
}

static int write_pid_file(const char *path, pid_t pid, Error *reterr)
{
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%i", (int)pid);
        int r = write_file_atomic_at(AT_FDCWD, path, buf, n, 0644);
        if (r < 0)
                return error_set(reterr, r, "writing pid file %s", path);
        return 0;
}

static int open_devnull_checked(int *ret, Error *reterr)
{
        int fd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return error_set(reterr, -errno, "opening /dev/null");
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) {
                safe_close(fd);
                return error_set_msg(reterr, -EPERM, "/dev/null is not the null device");
        }
        *ret = fd;
        return 0;
}

static int console_socket_connect(const char *path, int *ret, Error *reterr)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return error_set_msg(reterr, -ENAMETOOLONG, "console socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(reterr, -errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                safe_close(fd);
                return error_set(reterr, r, "connecting to console socket %s", path);
        }
        *ret = fd;
        return 0;
}

static int cgroup_driver_of(bool systemd)
{
        return systemd ? CGROUP_DRIVER_SYSTEMD : CGROUP_DRIVER_CGROUPFS;
}

static void report_warnings(const RuntimeOptions *opts, char **w)
{
        STRV_FOREACH (s, w)
                if (opts && opts->warn)
                        opts->warn(opts->warn_userdata, *s);
}

/* The filter, from the cache when it holds one for this very linux.seccomp (by the digest taken
 * when the spec was parsed): then the object is neither parsed nor compiled. */
static int prepare_seccomp(const RuntimeSpec *spec, const char *root, const RuntimeOptions *opts,
                           SeccompProgram **ret_prog, Error *reterr)
{
        _cleanup_(seccomp_program_freep) SeccompProgram *prog = NULL;
        if (!spec->has_seccomp)
                return 0;
        /* Not <root>/seccomp-cache: that is a valid container id. */
        _cleanup_free_ char *cache = opts && opts->seccomp_cache_dir ? strdup(opts->seccomp_cache_dir)
                                                                     : path_join(root, ".seccomp-cache");
        if (!cache)
                return error_set(reterr, -ENOMEM, "seccomp");
        int r = seccomp_prepare_cached(spec->seccomp_digest, cache, &prog, reterr);
        if (r == 0) {
                /* a miss: the object again, to parse (JSON-path errors), compile and store */
                json_object *o = NULL;
                r = spec_seccomp_json(spec, &o, reterr);
                if (r >= 0)
                        r = seccomp_prepare_json_as(o, spec->seccomp_digest, "linux.seccomp", cache, &prog,
                                                    reterr);
                json_object_put(o);
        }
        if (r < 0)
                return error_prefix(reterr, r, "compiling seccomp filter");
        runtime_debug(opts, "seccomp: %zu BPF instructions, %s %s", seccomp_program_size(prog),
                      seccomp_program_from_cache(prog) ? "from the cache in" : "compiled, cached in", cache);
        *ret_prog = TAKE_PTR(prog);
        return 0;
}

static int ns_flags_of(const RuntimeSpec *spec)
{
        int f = 0;
        for (int t = 0; t < _NS_MAX; t++)
                if (spec->ns[t])
                        f |= namespace_type_clone_flag(t);
        return f;
}

/* The namespaces create can clone the init into directly, saving the second fork a new pid
 * namespace otherwise needs: not with a user namespace (its maps are written in between), a time
 * namespace (it only applies to children) or namespaces joined by path (joining comes first);
 * the cgroup namespace is unshared later, once the child is in its cgroup. */
static uint64_t direct_clone_flags(const RuntimeSpec *spec)
{
        if (!spec->ns[NS_PID] || spec->ns[NS_USER] || spec->ns[NS_TIME])
                return 0;
        for (int t = 0; t < _NS_MAX; t++)
                if (spec->ns_path[t])
                        return 0;
        uint64_t f = CLONE_NEWPID | CLONE_NEWNS;
        static const NamespaceType also[] = {NS_IPC, NS_UTS, NS_NETWORK};
        for (size_t i = 0; i < ELEMENTSOF(also); i++)
                if (spec->ns[also[i]])
                        f |= (uint64_t)namespace_type_clone_flag(also[i]);
        return f;
}

/* Kills and reaps a half-made container. */
static void kill_and_reap(pid_t pid)
{
        if (pid <= 0)
                return;
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* <root>/seccomp-cache as older versions left it: no state, and no create holding its lock. */
static bool is_old_seccomp_cache(int rootdir)
{
        _cleanup_close_ int fd =
                openat(rootdir, "seccomp-cache", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || faccessat(fd, "state.json", F_OK, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT)
                return false;
        return flock(fd, LOCK_EX | LOCK_NB) >= 0;
}

int runtime_create(const char *root, const char *id, const RuntimeSpec *spec, const RuntimeOptions *opts,
                   pid_t *ret_pid, int *ret_pidfd, Error *reterr)
{
        RuntimeOptions defaults = RUNTIME_OPTIONS_INIT;
        if (!opts)
                opts = &defaults;
        root = root_or_default(root);
        int r;

        if (!runtime_id_is_valid(id))
                return error_set_msg(reterr, -EINVAL, "invalid container id \"%s\"", id);
        if (!spec->process)
                return error_set_msg(reterr, -EINVAL, "process: missing");
        if (!spec->process->args || !spec->process->args[0])
                return error_set_msg(reterr, -EINVAL, "process.args: missing");
        if (!spec->ns[NS_MOUNT])
                return error_set_msg(reterr, -EINVAL, "linux.namespaces: a mount namespace is required");
        if (spec->ns_path[NS_MOUNT])
                return error_set_msg(
                        reterr, -EOPNOTSUPP,
                        "linux.namespaces: joining an existing mount namespace is not supported");
        r = lsm_check_spec(spec, reterr);
        if (r < 0)
                return r;

        /* bundle and rootfs, absolute */
        _cleanup_free_ char *bundle = NULL, *rootfs = NULL;
        bundle = realpath(opts->bundle ?: ".", NULL);
        if (!bundle)
                return error_set(reterr, -errno, "bundle %s", opts->bundle ?: ".");
        {
                _cleanup_free_ char *p = path_is_absolute(spec->root_path)
                                                 ? strdup(spec->root_path)
                                                 : path_join(bundle, spec->root_path);
                if (!p)
                        return error_set(reterr, -ENOMEM, "rootfs");
                rootfs = realpath(p, NULL);
                if (!rootfs)
                        return error_set(reterr, -errno, "root.path %s", p);
        }

        runtime_debug(opts, "create %s: bundle %s, rootfs %s, state %s/%s", id, bundle, rootfs, root, id);
        r = mkdir_p(root, 0700);
        if (r < 0)
                return error_set(reterr, r, "creating state root %s", root);
        _cleanup_close_ int rootdir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootdir < 0)
                return error_set(reterr, -errno, "opening %s", root);
        r = mkdirat(rootdir, id, 0700) < 0 ? -errno : 0;
        if (r == -EEXIST && streq(id, "seccomp-cache") && is_old_seccomp_cache(rootdir)) {
                /* Older versions cached seccomp filters there; now in .seccomp-cache. */
                (void)rm_rf_at(rootdir, id);
                r = mkdirat(rootdir, id, 0700) < 0 ? -errno : 0;
        }
        if (r == -EEXIST)
                return error_set_msg(reterr, -EEXIST, "container \"%s\" already exists", id);
        if (r < 0)
                return error_set(reterr, r, "creating %s/%s", root, id);
        /* From here on a failure removes the state directory again. */
        _cleanup_close_ int dirfd = -EBADF, listen_fd = -EBADF, console_fd = -EBADF, devnull = -EBADF,
                            pidfd = -EBADF, trampoline = -EBADF;
        _cleanup_(seccomp_program_freep) SeccompProgram *sc_prog = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        int sync[2] = {-EBADF, -EBADF};
        pid_t stage1 = 0, init_pid = 0;
        bool cgroup_made = false;

        dirfd = openat(rootdir, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dirfd < 0) {
                r = error_set(reterr, -errno, "opening %s/%s", root, id);
                goto fail;
        }
        (void)flock(dirfd, LOCK_EX);

        r = prepare_seccomp(spec, root, opts, &sc_prog, reterr);
        if (r < 0)
                goto fail;

        /* cgroup: made before the child so that it can be born inside it */
        {
                _cleanup_free_ char *mp = NULL;
                if (cgroup_find_root(&mp, NULL) >= 0) {
                        r = cgroup_resources_parse(spec->resources, "linux.resources", &res, reterr);
                        if (r < 0)
                                goto fail;
                        /* runc's annotations "org.systemd.property.NAME": properties of the scope */
                        _cleanup_strv_free_ char **props = NULL;
                        for (char **a = spec->annotations; a && a[0] && a[1]; a += 2) {
                                const char *name = startswith(a[0], "org.systemd.property.");
                                if (name &&
                                    (strv_extend(&props, name) < 0 || strv_extend(&props, a[1]) < 0)) {
                                        r = error_set(reterr, -ENOMEM, "annotations");
                                        goto fail;
                                }
                        }
                        CgroupOptions co = {
                                .driver = cgroup_driver_of(opts->systemd_cgroup),
                                .cgroups_path = spec->cgroups_path,
                                .id = id,
                                /* systemd: the limits go into StartTransientUnit, so the scope
                                 * has them from its first instant. */
                                .resources = res,
                                .properties = props,
                        };
                        r = cgroup_create(&co, &cg, reterr);
                        if (r < 0)
                                goto fail;
                        cgroup_made = true;
                        runtime_debug(opts, "cgroup: %s (%s driver%s%s)", cgroup_path(cg),
                                      opts->systemd_cgroup ? "systemd" : "cgroupfs",
                                      cgroup_unit(cg) ? ", unit " : "", strempty(cgroup_unit(cg)));
                        if (!opts->systemd_cgroup) {
                                _cleanup_strv_free_ char **w = NULL;
                                r = cgroup_apply(cg, res, &w, reterr);
                                if (r < 0)
                                        goto fail;
                                report_warnings(opts, w);
                        }
                } else if (opts->warn)
                        opts->warn(opts->warn_userdata,
                                   "no cgroup2 hierarchy found: resources are not applied");
        }

        /* The socket start connects to; the init accept()s on it. */
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (listen_fd < 0) {
                r = error_set(reterr, -errno, "socket");
                goto fail;
        }
        {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%i/start.sock", dirfd);
                if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 4) < 0) {
                        r = error_set(reterr, -errno, "binding start socket");
                        goto fail;
                }
        }
        if (spec->process->terminal) {
                if (!opts->console_socket) {
                        r = error_set_msg(reterr, -EINVAL,
                                          "process.terminal needs a console socket (--console-socket)");
                        goto fail;
                }
                r = console_socket_connect(opts->console_socket, &console_fd, reterr);
                if (r < 0)
                        goto fail;
        }
        r = open_devnull_checked(&devnull, reterr);
        if (r < 0)
                goto fail;
        r = trampoline_open(&trampoline, reterr);
        if (r < 0)
                goto fail;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                r = error_set(reterr, -errno, "socketpair");
                goto fail;
        }

        ChildContext c = {
                .spec = spec,
                .process = spec->process,
                .opts = opts,
                .rootfs = rootfs,
                .bundle = bundle,
                .sync_fd = sync[1],
                .start_listen_fd = listen_fd,
                .console_fd = console_fd,
                .devnull_fd = devnull,
                .cap_last = read_cap_last(),
                .pidfd = -1,
                .seccomp = sc_prog,
                .close_fds = {dirfd, rootdir, sync[0], -1},
                .trampoline_fd = trampoline,
                .trampoline_no_execveat = !seccomp_program_allows_execveat(sc_prog),
                .lsm_attr_fd = -1,
                .id = id,
                .no_new_keyring = opts->no_new_keyring,
        };

        int cgfd = cg && !opts->systemd_cgroup ? cgroup_fd(cg) : -1;
        c.clone_ns_flags = direct_clone_flags(spec);
        stage1 = clone3_fork(c.clone_ns_flags, cgfd, NULL);
        if (stage1 == -EINVAL || stage1 == -ENOSYS || stage1 == -E2BIG) {
                /* No CLONE_INTO_CGROUP here: fork and move the child ourselves. */
                c.clone_ns_flags = 0;
                stage1 = fork();
                if (stage1 < 0)
                        stage1 = -errno;
                else if (stage1 > 0 && cg && !opts->systemd_cgroup) {
                        r = cgroup_enter(cg, stage1, reterr);
                        if (r < 0)
                                goto fail;
                }
        }
        if (stage1 < 0) {
                r = error_set(reterr, stage1, "clone");
                stage1 = 0;
                goto fail;
        }
        if (stage1 == 0)
                child_main(&c);
        runtime_debug(opts, "cloned pid %i%s%s", (int)stage1,
                      c.clone_ns_flags ? " straight into its namespaces" : "",
                      cgfd >= 0 ? " inside its cgroup" : "");
        sync[1] = safe_close(sync[1]);
        listen_fd = safe_close(listen_fd);
        console_fd = safe_close(console_fd);
        trampoline = safe_close(trampoline);

        if (cg && opts->systemd_cgroup) {
                _cleanup_strv_free_ char **w = NULL;
                r = cgroup_enter(cg, stage1, reterr);
                if (r < 0)
                        goto fail;
                r = cgroup_apply(cg, res, &w, reterr);
                if (r < 0)
                        goto fail;
                report_warnings(opts, w);
        }
        r = sync_send(sync[0], SYNC_GO, 0, 0, NULL);
        if (r < 0) {
                error_set(reterr, r, "talking to the container process");
                goto fail;
        }
        /* The config as create got it, while the child sets up (state.json comes once it is
         * ready). */
        if (spec->json_text)
                r = container_config_save(dirfd, spec->json_text, spec->json_text_size, reterr);
        else {
                const char *text = json_object_to_json_string_ext(spec->json, JSON_C_TO_STRING_PLAIN);
                r = text ? container_config_save(dirfd, text, strlen(text), reterr)
                         : error_set(reterr, -ENOMEM, "writing config.json");
        }
        if (r < 0)
                goto fail;

        char created[64];
        format_now_rfc3339(created, sizeof created);
        for (;;) {
                SyncHeader h;
                _cleanup_free_ char *text = NULL;
                r = sync_recv(sync[0], &h, &text);
                if (r == -EPIPE) {
                        r = error_set_msg(reterr, -EPIPE, "container process exited during setup");
                        goto fail;
                }
                if (r < 0) {
                        error_set(reterr, r, "reading from the container process");
                        goto fail;
                }
                if (h.type == SYNC_ERROR) {
                        r = error_set_msg(reterr, h.code < 0 ? h.code : -EIO, "%s", text);
                        goto fail;
                }
                if (h.type == SYNC_READY)
                        break;
                switch (h.type) {
                case SYNC_USERNS:
                        r = write_id_map(stage1, "uid_map", spec->uid_mappings, spec->n_uid_mappings,
                                         reterr);
                        if (r >= 0)
                                r = write_id_map(stage1, "gid_map", spec->gid_mappings, spec->n_gid_mappings,
                                                 reterr);
                        if (r < 0) {
                                error_prefix(reterr, r, "user namespace");
                                goto fail;
                        }
                        runtime_debug(opts, "user namespace: wrote the uid and gid maps of pid %i",
                                      (int)stage1);
                        (void)sync_send(sync[0], SYNC_USERNS_DONE, 0, 0, NULL);
                        break;
                case SYNC_PID:
                        /* cloned straight into its pid namespace, the init only knows itself as 1 */
                        init_pid = c.clone_ns_flags & CLONE_NEWPID ? stage1 : (pid_t)h.value;
                        if (init_pid != stage1) {
                                while (waitpid(stage1, NULL, 0) < 0 && errno == EINTR)
                                        ;
                                stage1 = 0;
                        }
                        if (spec->process->has_oom_score_adj) {
                                char p[64], v[16];
                                snprintf(p, sizeof p, "/proc/%i/oom_score_adj", (int)init_pid);
                                snprintf(v, sizeof v, "%i", spec->process->oom_score_adj);
                                r = write_string_file_at(AT_FDCWD, p, v);
                                if (r < 0) {
                                        error_set(reterr, r, "setting oomScoreAdj to %s", v);
                                        goto fail;
                                }
                        }
                        runtime_debug(opts, "init: pid %i", (int)init_pid);
                        (void)sync_send(sync[0], SYNC_PID_DONE, 0, 0, NULL);
                        break;
                case SYNC_HOOKS: {
                        _cleanup_free_ char *st =
                                container_state_json(id, RUNTIME_STATUS_CREATING, init_pid, bundle, NULL,
                                                     NULL, 0, spec->annotations, false);
                        if (!st) {
                                r = error_set(reterr, -ENOMEM, "hooks");
                                goto fail;
                        }
                        runtime_debug(opts, "hooks: %zu prestart, %zu createRuntime",
                                      spec->n_hooks[HOOK_PRESTART], spec->n_hooks[HOOK_CREATE_RUNTIME]);
                        r = hooks_run(spec->hooks[HOOK_PRESTART], spec->n_hooks[HOOK_PRESTART],
                                      HOOK_PRESTART, st, -1, NULL, reterr);
                        if (r >= 0)
                                r = hooks_run(spec->hooks[HOOK_CREATE_RUNTIME],
                                              spec->n_hooks[HOOK_CREATE_RUNTIME], HOOK_CREATE_RUNTIME, st,
                                              -1, NULL, reterr);
                        if (r < 0)
                                goto fail;
                        /* the in-container hooks see "created" */
                        _cleanup_free_ char *st2 =
                                container_state_json(id, RUNTIME_STATUS_CREATED, init_pid, bundle, NULL,
                                                     NULL, 0, spec->annotations, false);
                        (void)sync_send(sync[0], SYNC_HOOKS_DONE, 0, 0, st2);
                        break;
                }
                default:
                        r = error_set_msg(reterr, -EBADMSG, "unexpected message from the container process");
                        goto fail;
                }
        }

        {
                uint64_t st = 0;
                r = pid_start_time(init_pid, &st, NULL);
                if (r < 0 || st == 0) {
                        r = error_set_msg(reterr, -ESRCH, "container process vanished");
                        goto fail;
                }
                ContainerRecord rec = {
                        .id = (char *)id,
                        .pid = init_pid,
                        .start_time = st,
                        .bundle = bundle,
                        .rootfs = rootfs,
                        .created = created,
                        .owner = geteuid(),
                        .systemd_cgroup = opts->systemd_cgroup,
                        .cgroup_path = cg ? (char *)cgroup_path(cg) : NULL,
                        .cgroup_unit = cg ? (char *)cgroup_unit(cg) : NULL,
                        .ns_flags = ns_flags_of(spec),
                        .no_new_keyring = opts->no_new_keyring,
                        .has_poststart = spec->n_hooks[HOOK_POSTSTART] > 0,
                        .has_poststop = spec->n_hooks[HOOK_POSTSTOP] > 0,
                };
                r = container_record_save(dirfd, &rec, reterr);
                if (r < 0)
                        goto fail;
        }
        if (opts->pid_file) {
                r = write_pid_file(opts->pid_file, init_pid, reterr);
                if (r < 0)
                        goto fail;
        }
        /* Let the init go on to wait for start (it must not outlive a failed create). */
        (void)sync_send(sync[0], SYNC_GO, 0, 0, NULL);
        runtime_debug(opts, "created %s: init pid %i set up, state saved, waiting for start", id,
                      (int)init_pid);
        safe_close(sync[0]);

        if (ret_pidfd) {
                pidfd = pidfd_open(init_pid, 0);
                *ret_pidfd = pidfd >= 0 ? TAKE_FD(pidfd) : -1;
        }
        if (ret_pid)
                *ret_pid = init_pid;
        return 0;

fail:
        safe_close(sync[0]);
        safe_close(sync[1]);
        if (init_pid > 0 && init_pid != stage1)
                kill_and_reap(init_pid);
        if (stage1 > 0)
                kill_and_reap(stage1);
        if (cg && cgroup_made)
                (void)cgroup_destroy(cg, NULL);
        if (dirfd >= 0)
                (void)rm_rf_at(rootdir, id);
        return r;
}

/* ---------------------------------------------------------------- the other verbs */

typedef struct Loaded {
        int dirfd;
        ContainerRecord rec;
        RuntimeStatus status;
} Loaded;

static void loaded_done(Loaded *l)
{
        safe_close(l->dirfd);
        container_record_done(&l->rec);
}

static int load(const char *root, const char *id, bool lock, Loaded *ret, Error *reterr)
{
        Loaded l = {.dirfd = -EBADF};
        int r = container_dir_open(root_or_default(root), id, lock, &l.dirfd, reterr);
        if (r < 0)
                return r;
        r = container_record_load(l.dirfd, &l.rec, reterr);
        if (r < 0) {
                safe_close(l.dirfd);
                return error_prefix(reterr, r, "container \"%s\"", id);
        }
        l.status = container_record_status(l.dirfd, &l.rec);
        *ret = l;
        return 0;
}

static int open_cgroup(const ContainerRecord *rec, Cgroup **ret, Error *reterr)
{
        if (!rec->cgroup_path)
                return error_set_msg(reterr, -ENOMEDIUM, "container has no cgroup");
        return cgroup_load(cgroup_driver_of(rec->systemd_cgroup), rec->cgroup_path, rec->cgroup_unit, ret,
                           reterr);
}

/* The saved config: from config.json as text, which the spec does not keep as a tree (see
 * RuntimeSpec.json), unless it is loaded already (an older version's record has it inside). */
static int spec_of(Loaded *l, RuntimeSpec **ret, Error *reterr)
{
        int r = l->rec.config ? runtime_spec_parse_json(l->rec.config, ret, reterr)
                              : spec_load_at(l->dirfd, "config.json", ret, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "saved config");
        return 0;
}

/* pidfd of the container's init, checked against the recorded start time. */
static int open_init_pidfd(const ContainerRecord *rec, int *ret, Error *reterr)
{
        int fd = pidfd_open(rec->pid, 0);
        if (fd < 0)
                return error_set(reterr, -errno, "container process %i", (int)rec->pid);
        uint64_t st = 0;
        if (pid_start_time(rec->pid, &st, NULL) < 0 || st != rec->start_time) {
                safe_close(fd);
                return error_set_msg(reterr, -ESRCH, "container process %i is gone", (int)rec->pid);
        }
        *ret = fd;
        return 0;
}

/* SCMP_ACT_NOTIFY: the listener the container's process (pid) handed over goes to
 * linux.seccomp.listenerPath with linux.seccomp.listenerMetadata and the state of the container
 * (its init's pid; "created" for the init, which gets its filter at start here, "running" for
 * exec), as runc sends it. */
static int forward_seccomp_listener(const RuntimeSpec *spec, const char *id, RuntimeStatus status,
                                    pid_t init_pid, pid_t pid, const char *bundle, int listener,
                                    const RuntimeOptions *opts, Error *reterr)
{
        _cleanup_(seccomp_config_freep) SeccompConfig *cfg = NULL;
        json_object *o = NULL;
        if (!spec || !spec->has_seccomp)
                return error_set_msg(reterr, -EBADMSG, "a seccomp listener came without linux.seccomp");
        int r = spec_seccomp_json(spec, &o, reterr);
        if (r >= 0)
                r = seccomp_config_parse(o, "linux.seccomp", &cfg, reterr);
        json_object_put(o);
        if (r < 0)
                return r;
        if (!cfg->listener_path)
                return error_set_msg(reterr, -EINVAL, "linux.seccomp.listenerPath: missing");
        _cleanup_free_ char *st =
                container_state_json(id, status, init_pid, bundle, NULL, NULL, 0, spec->annotations, false);
        if (!st)
                return error_set(reterr, -ENOMEM, "seccomp listener");
        r = seccomp_listener_send(cfg->listener_path, cfg->listener_metadata, pid, st, listener, reterr);
        if (r < 0)
                return r;
        runtime_debug(opts, "seccomp: listener of pid %i sent to %s", (int)pid, cfg->listener_path);
        return 0;
}

int runtime_start(const char *root, const char *id, Error *reterr)
{
        return runtime_start_with_options(root, id, NULL, reterr);
}

int runtime_start_with_options(const char *root, const char *id, const RuntimeOptions *opts, Error *reterr)
{
        RuntimeOptions defaults = RUNTIME_OPTIONS_INIT;
        if (!opts)
                opts = &defaults;
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, true, &l, reterr);
        if (r < 0)
                return r;
        if (l.status != RUNTIME_STATUS_CREATED)
                return error_set_msg(reterr, -EINVAL, "cannot start a container that is %s",
                                     runtime_status_to_string(l.status));

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(reterr, -errno, "socket");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%i/start.sock", l.dirfd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return error_set(reterr, -errno, "connecting to the container");
        runtime_debug(opts, "start %s: init pid %i", id, (int)l.rec.pid);
        /* From now on the container counts as running. */
        (void)unlinkat(l.dirfd, "start.sock", 0);
        char b = 'S';
        if (send(fd, &b, 1, MSG_NOSIGNAL) != 1)
                return error_set(reterr, -errno, "starting the container");
        /* The init closes the socket by exec (CLOEXEC) or sends why it could not run; before
         * that, with SCMP_ACT_NOTIFY, its seccomp listener. The config is read only for that or
         * for poststart hooks. */
        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        char buf[SYNC_MAX_PAYLOAD + 1];
        ssize_t n;
        bool reset = false;
        for (;;) {
                int passed = -1;
                n = recv_with_fd(fd, buf, sizeof buf - 1, &passed);
                /* ECONNRESET comes before what the init sent, when it exited with data of
                 * ours unread (see sync_recv()): read once more. */
                if (n == -EINTR || (n == -ECONNRESET && !reset)) {
                        reset = reset || n == -ECONNRESET;
                        continue;
                }
                if (n == (ssize_t)strlen(START_SECCOMP_LISTENER) && passed >= 0 &&
                    memcmp(buf, START_SECCOMP_LISTENER, n) == 0) {
                        if (!spec)
                                (void)spec_of(&l, &spec, NULL);
                        r = forward_seccomp_listener(spec, id, RUNTIME_STATUS_CREATED, l.rec.pid, l.rec.pid,
                                                     l.rec.bundle, passed, opts, reterr);
                        safe_close(passed);
                        if (r < 0)
                                return r; /* the init sees EOF instead of the answer and exits */
                        char ack = 'A';
                        if (send(fd, &ack, 1, MSG_NOSIGNAL) != 1)
                                return error_set(reterr, -errno, "starting the container");
                        continue;
                }
                safe_close(passed);
                break;
        }
        if (n > 0) {
                buf[n] = '\0';
                return error_set_msg(reterr, -ENOEXEC, "%s", buf);
        }
        runtime_debug(opts, "start %s: the process was executed", id);

        if (l.rec.has_poststart && !spec)
                (void)spec_of(&l, &spec, NULL);
        if (spec && spec->n_hooks[HOOK_POSTSTART] > 0) {
                _cleanup_free_ char *st =
                        container_state_json(id, RUNTIME_STATUS_RUNNING, l.rec.pid, l.rec.bundle, NULL, NULL,
                                             0, spec->annotations, false);
                runtime_debug(opts, "hooks: %zu poststart", spec->n_hooks[HOOK_POSTSTART]);
                /* A failing poststart hook does not stop the container, nor the hooks after it: a
                 * warning each (runtime-spec). */
                (void)hooks_run(spec->hooks[HOOK_POSTSTART], spec->n_hooks[HOOK_POSTSTART], HOOK_POSTSTART,
                                st ?: "{}", -1, opts, NULL);
        }
        return 0;
}

int runtime_state(const char *root, const char *id, RuntimeState *ret, Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, false, &l, reterr);
        if (r < 0)
                return r;
        RuntimeState s = {
                .id = strdup(l.rec.id),
                .pid = l.status == RUNTIME_STATUS_STOPPED ? 0 : l.rec.pid,
                .status = l.status,
                .bundle = strdup(strempty(l.rec.bundle)),
                .rootfs = strdup(strempty(l.rec.rootfs)),
                .created = strdup(strempty(l.rec.created)),
                .owner = l.rec.owner,
                .cgroup_path = strdup(strempty(l.rec.cgroup_path)),
        };
        json_object *a;
        /* The annotations are in the config; without it (unreadable) the state has none. */
        if (container_record_load_config(l.dirfd, &l.rec, NULL) >= 0 &&
            json_object_object_get_ex(l.rec.config, "annotations", &a) &&
            json_object_is_type(a, json_type_object)) {
                json_object_object_foreach (a, k, v) {
                        if (json_object_is_type(v, json_type_string)) {
                                (void)strv_extend(&s.annotations, k);
                                (void)strv_extend(&s.annotations, json_object_get_string(v));
                        }
                }
        }
        if (!s.id || !s.bundle || !s.rootfs || !s.created || !s.cgroup_path) {
                runtime_state_done(&s);
                return error_set(reterr, -ENOMEM, "state");
        }
        *ret = s;
        return 0;
}

int runtime_kill(const char *root, const char *id, int sig, bool all, Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, false, &l, reterr);
        if (r < 0)
                return r;
        if (all && l.rec.cgroup_path) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                r = open_cgroup(&l.rec, &cg, reterr);
                if (r >= 0)
                        r = cgroup_kill_all(cg, sig, reterr);
                if (r < 0 && r != -ENOENT)
                        return error_prefix(reterr, r, "killing all processes of \"%s\"", id);
                return 0;
        }
        if (l.status == RUNTIME_STATUS_STOPPED)
                return error_set_msg(reterr, -ESRCH, "container \"%s\" is not running", id);
        _cleanup_close_ int pidfd = -EBADF;
        r = open_init_pidfd(&l.rec, &pidfd, reterr);
        if (r < 0)
                return r;
        if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
                return error_set(reterr, -errno, "sending %s to \"%s\"", strna(signal_to_string(sig)), id);
        return 0;
}

static int wait_pidfd_exit(int pidfd, int timeout_ms)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int n;
        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        return n > 0 ? 0 : -ETIMEDOUT;
}

int runtime_delete(const char *root, const char *id, bool force, Error *reterr)
{
        return runtime_delete_with_options(root, id, force, NULL, reterr);
}

int runtime_delete_with_options(const char *root, const char *id, bool force, const RuntimeOptions *opts,
                                Error *reterr)
{
        RuntimeOptions defaults = RUNTIME_OPTIONS_INIT;
        if (!opts)
                opts = &defaults;
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, true, &l, reterr);
        if (r < 0)
                return r;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        if (l.rec.cgroup_path)
                (void)open_cgroup(&l.rec, &cg, NULL);
        runtime_debug(opts, "delete %s: %s, init pid %i%s", id, runtime_status_to_string(l.status),
                      (int)l.rec.pid, l.status != RUNTIME_STATUS_STOPPED ? ", killing it" : "");

        if (l.status != RUNTIME_STATUS_STOPPED) {
                /* A created container that never ran may go without --force, like runc. */
                if (!force && l.status != RUNTIME_STATUS_CREATED)
                        return error_set_msg(reterr, -EBUSY,
                                             "cannot delete container \"%s\" that is %s (use --force)", id,
                                             runtime_status_to_string(l.status));
                _cleanup_close_ int pidfd = -EBADF;
                if (open_init_pidfd(&l.rec, &pidfd, NULL) >= 0) {
                        (void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                        if (cg)
                                (void)cgroup_kill_all(cg, SIGKILL, NULL);
                        /* A paused container does not die until thawed. */
                        if (cg && l.status == RUNTIME_STATUS_PAUSED)
                                (void)cgroup_freeze(cg, false, NULL);
                        /* We may be its parent (run): then reap it, else wait for it to vanish. */
                        if (waitpid(l.rec.pid, NULL, WNOHANG) == 0 || errno != ECHILD)
                                (void)waitpid(l.rec.pid, NULL, 0);
                        (void)wait_pidfd_exit(pidfd, 5000);
                }
        } else if (cg)
                (void)cgroup_kill_all(cg, SIGKILL, NULL);

        if (cg) {
                for (int i = 0; i < 100; i++) {
                        r = cgroup_destroy(cg, reterr);
                        if (r != -EBUSY)
                                break;
                        usleep(10000);
                }
                if (r < 0)
                        return error_prefix(reterr, r, "removing cgroup of \"%s\"", id);
                runtime_debug(opts, "delete %s: removed cgroup %s", id, l.rec.cgroup_path);
        }

        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        if (l.rec.has_poststop && spec_of(&l, &spec, NULL) >= 0 && spec->n_hooks[HOOK_POSTSTOP] > 0) {
                _cleanup_free_ char *st = container_state_json(id, RUNTIME_STATUS_STOPPED, 0, l.rec.bundle,
                                                               NULL, NULL, 0, spec->annotations, false);
                runtime_debug(opts, "hooks: %zu poststop", spec->n_hooks[HOOK_POSTSTOP]);
                /* Failing poststop hooks are only warnings in the spec: each is reported, the
                 * others still run, and the container goes. */
                (void)hooks_run(spec->hooks[HOOK_POSTSTOP], spec->n_hooks[HOOK_POSTSTOP], HOOK_POSTSTOP,
                                st ?: "{}", -1, opts, NULL);
        }

        _cleanup_close_ int rootdir = open(root_or_default(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootdir < 0)
                return error_set(reterr, -errno, "opening %s", root_or_default(root));
        r = rm_rf_at(rootdir, id);
        if (r < 0)
                return error_set(reterr, r, "removing state of \"%s\"", id);
        runtime_debug(opts, "delete %s: state removed", id);
        return 0;
}

int runtime_list(const char *root, char ***ret_ids, Error *reterr)
{
        _cleanup_closedir_ DIR *d = opendir(root_or_default(root));
        _cleanup_strv_free_ char **l = NULL;
        if (!d) {
                if (errno == ENOENT) {
                        *ret_ids = NULL;
                        return 0;
                }
                return error_set(reterr, -errno, "opening %s", root_or_default(root));
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !runtime_id_is_valid(de->d_name))
                        continue;
                if (faccessat(dirfd(d), de->d_name, F_OK, 0) < 0)
                        continue;
                char p[1100];
                snprintf(p, sizeof p, "%s/state.json", de->d_name);
                if (faccessat(dirfd(d), p, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (strv_extend(&l, de->d_name) < 0)
                        return error_set(reterr, -ENOMEM, "list");
        }
        strv_sort(l);
        *ret_ids = TAKE_PTR(l);
        return 0;
}

static int pause_resume(const char *root, const char *id, bool freeze, Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, true, &l, reterr);
        if (r < 0)
                return r;
        if (freeze && l.status != RUNTIME_STATUS_RUNNING && l.status != RUNTIME_STATUS_CREATED)
                return error_set_msg(reterr, -EINVAL, "cannot pause a container that is %s",
                                     runtime_status_to_string(l.status));
        if (!freeze && l.status != RUNTIME_STATUS_PAUSED)
                return error_set_msg(reterr, -EINVAL, "container \"%s\" is not paused", id);
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        r = open_cgroup(&l.rec, &cg, reterr);
        if (r < 0)
                return r;
        return cgroup_freeze(cg, freeze, reterr);
}

int runtime_pause(const char *root, const char *id, Error *reterr)
{
        return pause_resume(root, id, true, reterr);
}

int runtime_resume(const char *root, const char *id, Error *reterr)
{
        return pause_resume(root, id, false, reterr);
}

int runtime_ps(const char *root, const char *id, pid_t **ret_pids, size_t *ret_n, Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, false, &l, reterr);
        if (r < 0)
                return r;
        if (!l.rec.cgroup_path) {
                /* Without a cgroup only the init is known. */
                pid_t *p = malloc(sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                size_t n = 0;
                if (l.status != RUNTIME_STATUS_STOPPED)
                        p[n++] = l.rec.pid;
                *ret_pids = p;
                *ret_n = n;
                return 0;
        }
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        r = open_cgroup(&l.rec, &cg, reterr);
        if (r < 0)
                return r;
        return cgroup_get_pids(cg, ret_pids, ret_n, reterr);
}

int runtime_update(const char *root, const char *id, json_object *resources, char ***ret_warnings,
                   Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, true, &l, reterr);
        if (r < 0)
                return r;
        if (l.status == RUNTIME_STATUS_STOPPED)
                return error_set_msg(reterr, -EINVAL, "container \"%s\" is stopped", id);
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        r = cgroup_resources_parse(resources, "linux.resources", &res, reterr);
        if (r < 0)
                return r;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        r = open_cgroup(&l.rec, &cg, reterr);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **w = NULL;
        r = cgroup_apply(cg, res, &w, reterr);
        if (r < 0)
                return r;
        /* Keep the saved config in step, so a later exec/update sees the new values. */
        json_object *lx;
        if (container_record_load_config(l.dirfd, &l.rec, NULL) >= 0 &&
            json_object_object_get_ex(l.rec.config, "linux", &lx) &&
            json_object_is_type(lx, json_type_object)) {
                json_object *old;
                if (!json_object_object_get_ex(lx, "resources", &old) ||
                    !json_object_is_type(old, json_type_object))
                        json_object_object_add(lx, "resources", json_object_get(resources));
                else {
                        json_object_object_foreach (resources, k, v) {
                                json_object_object_add(old, k, json_object_get(v));
                        }
                }
                /* config.json, then state.json: a record of an older version still has the
                 * config inside, which would win over config.json. */
                const char *text = json_object_to_json_string_ext(l.rec.config, JSON_C_TO_STRING_PLAIN);
                if (text && container_config_save(l.dirfd, text, strlen(text), NULL) >= 0)
                        (void)container_record_save(l.dirfd, &l.rec, NULL);
        }
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(w);
        return 0;
}

int runtime_process_from_container(const char *root, const char *id, char **args, RuntimeProcess **ret,
                                   Error *reterr)
{
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, false, &l, reterr);
        if (r < 0)
                return r;
        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        r = spec_of(&l, &spec, reterr);
        if (r < 0)
                return r;
        if (!spec->process)
                return error_set_msg(reterr, -EINVAL, "container has no process");
        RuntimeProcess *p = runtime_process_copy(spec->process);
        if (!p)
                return error_set(reterr, -ENOMEM, "exec");
        p->terminal = false;
        strv_free(p->args);
        p->args = strv_copy(args);
        if (!p->args) {
                runtime_process_free(p);
                return error_set(reterr, -ENOMEM, "exec");
        }
        *ret = p;
        return 0;
}

/* ---------------------------------------------------------------- exec (runtime side) */

int runtime_exec(const char *root, const char *id, const RuntimeProcess *process, const RuntimeOptions *opts,
                 pid_t *ret_pid, int *ret_pidfd, Error *reterr)
{
        RuntimeOptions defaults = RUNTIME_OPTIONS_INIT;
        if (!opts)
                opts = &defaults;
        root = root_or_default(root);
        _cleanup_(loaded_done) Loaded l = {.dirfd = -EBADF};
        int r = load(root, id, false, &l, reterr);
        if (r < 0)
                return r;
        if (l.status != RUNTIME_STATUS_RUNNING && l.status != RUNTIME_STATUS_CREATED)
                return error_set_msg(reterr, -EINVAL, "cannot exec in a container that is %s",
                                     runtime_status_to_string(l.status));
        if (!process->args || !process->args[0])
                return error_set_msg(reterr, -EINVAL, "process.args: missing");
        _cleanup_runtime_spec_ RuntimeSpec *spec = NULL;
        r = spec_of(&l, &spec, reterr);
        if (r < 0)
                return r;
        /* A process object (exec --process) without capabilities must not keep every capability
         * the runtime holds, nor run without the container's noNewPrivileges or LSM label: what
         * it does not give comes from the container, as with runc. */
        _cleanup_runtime_process_ RuntimeProcess *eff = runtime_process_copy(process);
        if (!eff || runtime_process_fill_from_container(eff, spec->process) < 0)
                return error_set(reterr, -ENOMEM, "exec");
        process = eff;
        r = lsm_check_process(process, reterr);
        if (r < 0)
                return r;

        _cleanup_close_ int pidfd = -EBADF, console_fd = -EBADF, devnull = -EBADF, trampoline = -EBADF;
        _cleanup_(seccomp_program_freep) SeccompProgram *sc_prog = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        r = open_init_pidfd(&l.rec, &pidfd, reterr);
        if (r < 0)
                return r;
        r = prepare_seccomp(spec, root, opts, &sc_prog, reterr);
        if (r < 0)
                return r;
        if (l.rec.cgroup_path) {
                r = open_cgroup(&l.rec, &cg, reterr);
                if (r < 0)
                        return r;
        }
        if (process->terminal) {
                if (!opts->console_socket)
                        return error_set_msg(reterr, -EINVAL,
                                             "a terminal needs a console socket (--console-socket)");
                r = console_socket_connect(opts->console_socket, &console_fd, reterr);
                if (r < 0)
                        return r;
        }
        r = open_devnull_checked(&devnull, reterr);
        if (r < 0)
                return r;
        r = trampoline_open(&trampoline, reterr);
        if (r < 0)
                return r;
        int sync[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
                return error_set(reterr, -errno, "socketpair");

        ChildContext c = {
                .spec = spec,
                .process = process,
                .opts = opts,
                .rootfs = l.rec.rootfs,
                .bundle = l.rec.bundle,
                .sync_fd = sync[1],
                .start_listen_fd = -1,
                .console_fd = console_fd,
                .devnull_fd = devnull,
                .cap_last = read_cap_last(),
                .exec = true,
                .pidfd = pidfd,
                .ns_flags = l.rec.ns_flags,
                .seccomp = sc_prog,
                .close_fds = {l.dirfd, sync[0], -1, -1},
                .trampoline_fd = trampoline,
                .trampoline_no_execveat = !seccomp_program_allows_execveat(sc_prog),
                .lsm_attr_fd = -1,
                .id = id,
                .no_new_keyring = l.rec.no_new_keyring,
        };
        /* Not cgroup_fd(): a container that passes controllers down to sub-cgroups of its own
         * (systemd inside) refuses processes in its cgroup (EBUSY); the process then goes where
         * the container's init is. If no fd can be had, the fork path below says why. */
        int cgfd = -1;
        if (cg && cgroup_exec_fd(cg, l.rec.pid, &cgfd, NULL) < 0)
                cgfd = -1;
        bool born_inside = cgfd >= 0;
        pid_t stage1 = clone3_fork(0, cgfd, NULL), proc = 0;
        cgfd = safe_close(cgfd);
        if (stage1 == -EINVAL || stage1 == -ENOSYS || stage1 == -E2BIG ||
            (stage1 > 0 && cg && !born_inside)) {
                if (stage1 < 0) {
                        stage1 = fork();
                        if (stage1 < 0)
                                stage1 = -errno;
                }
                if (stage1 > 0 && cg) {
                        r = cgroup_enter_exec(cg, l.rec.pid, stage1, reterr);
                        if (r < 0)
                                goto fail;
                }
        }
        if (stage1 < 0) {
                r = error_set(reterr, stage1, "clone");
                stage1 = 0;
                goto fail;
        }
        if (stage1 == 0)
                child_main(&c);
        runtime_debug(opts, "exec in %s: cloned pid %i%s, joining the namespaces of init pid %i", id,
                      (int)stage1, born_inside ? " inside the container's cgroup" : "", (int)l.rec.pid);
        sync[1] = safe_close(sync[1]);
        r = sync_send(sync[0], SYNC_GO, 0, 0, NULL);
        if (r < 0) {
                error_set(reterr, r, "talking to the exec process");
                goto fail;
        }
        SyncHeader h;
        r = sync_expect(sync[0], SYNC_PID, &h, NULL, reterr);
        if (r < 0)
                goto fail;
        proc = (pid_t)h.value;
        if (proc != stage1) {
                while (waitpid(stage1, NULL, 0) < 0 && errno == EINTR)
                        ;
                stage1 = 0;
        }
        r = sync_send(sync[0], SYNC_PID_DONE, 0, 0, NULL);
        if (r < 0) {
                error_set(reterr, r, "talking to the exec process");
                goto fail;
        }
        if (process->has_oom_score_adj) {
                char p[64], v[16];
                snprintf(p, sizeof p, "/proc/%i/oom_score_adj", (int)proc);
                snprintf(v, sizeof v, "%i", process->oom_score_adj);
                r = write_string_file_at(AT_FDCWD, p, v);
                if (r < 0) {
                        error_set(reterr, r, "setting oomScoreAdj to %s", v);
                        goto fail;
                }
        }
        if (opts->pid_file) {
                r = write_pid_file(opts->pid_file, proc, reterr);
                if (r < 0)
                        goto fail;
        }
        r = sync_send(sync[0], SYNC_GO, 0, 0, NULL);
        /* EOF means the process executed (the socket is close-on-exec); anything else is why not,
         * or first, with SCMP_ACT_NOTIFY, its seccomp listener. */
        for (;;) {
                SyncHeader h2;
                _cleanup_free_ char *text = NULL;
                _cleanup_close_ int passed = -EBADF;
                r = sync_recv_fd(sync[0], &h2, &text, &passed);
                if (r >= 0 && h2.type == SYNC_SECCOMP && passed >= 0) {
                        r = forward_seccomp_listener(spec, id, RUNTIME_STATUS_RUNNING, l.rec.pid, proc,
                                                     l.rec.bundle, passed, opts, reterr);
                        if (r < 0)
                                goto fail;
                        (void)sync_send(sync[0], SYNC_SECCOMP_DONE, 0, 0, NULL);
                        continue;
                }
                if (r >= 0 && h2.type == SYNC_ERROR) {
                        r = error_set_msg(reterr, h2.code < 0 ? h2.code : -EIO, "%s", text);
                        goto fail;
                }
                if (r < 0 && r != -EPIPE) {
                        error_set(reterr, r, "reading from the exec process");
                        goto fail;
                }
                break;
        }
        safe_close(sync[0]);
        runtime_debug(opts, "exec in %s: pid %i executed %s", id, (int)proc, process->args[0]);
        if (ret_pidfd) {
                int fd = pidfd_open(proc, 0);
                *ret_pidfd = fd >= 0 ? fd : -1;
        }
        if (ret_pid)
                *ret_pid = proc;
        return 0;

fail:
        safe_close(sync[0]);
        safe_close(sync[1]);
        if (proc > 0 && proc != stage1)
                kill_and_reap(proc);
        if (stage1 > 0)
                kill_and_reap(stage1);
        return r;
}
