/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sync socket protocol, and the container record kept in <root>/<id>/state.json. */

#include <json-c/json.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>

#include "runtime/internal.h"

/* ---------------------------------------------------------------- sync */

int sync_send(int fd, SyncType type, int code, int64_t value, const char *text)
{
        SyncHeader h = {.type = type, .code = code, .value = value};
        size_t tl = text ? MIN(strlen(text), (size_t)SYNC_MAX_PAYLOAD) : 0;
        struct iovec iov[2] = {
                {.iov_base = &h, .iov_len = sizeof h},
                {.iov_base = (void *)text, .iov_len = tl},
        };
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = tl ? 2 : 1};
        for (;;) {
                ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
                if (n >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

ssize_t recv_with_fd(int fd, void *buf, size_t len, int *ret_fd)
{
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        int got = -1;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
                        /* Only ever one; any more would be truncated (MSG_CTRUNC) and not ours. */
                        memcpy(&got, CMSG_DATA(cm), sizeof(int));
                }
        if (ret_fd)
                *ret_fd = got;
        else
                safe_close(got);
        return n;
}

int sync_recv_fd(int fd, SyncHeader *ret, char **ret_text, int *ret_fd)
{
        char buf[sizeof(SyncHeader) + SYNC_MAX_PAYLOAD + 1];
        ssize_t n;
        bool reset = false;
        int got = -1;
        for (;;) {
                n = recv_with_fd(fd, buf, sizeof buf - 1, &got);
                if (n >= 0)
                        break;
                if (n == -EINTR)
                        continue;
                /* A peer that exits with one of our messages unread in its queue resets the
                 * connection, and the kernel reports that before the messages the peer had sent
                 * us (its error report among them). Reading again gets those, then EOF. */
                if (n == -ECONNRESET && !reset) {
                        reset = true;
                        continue;
                }
                break;
        }
        if (n < 0)
                return (int)n;
        _cleanup_close_ int passed = got;
        if (n == 0)
                return -EPIPE;
        if ((size_t)n < sizeof(SyncHeader))
                return -EBADMSG;
        memcpy(ret, buf, sizeof(SyncHeader));
        if (ret_text) {
                size_t tl = n - sizeof(SyncHeader);
                char *t = malloc(tl + 1);
                if (!t)
                        return -ENOMEM;
                memcpy(t, buf + sizeof(SyncHeader), tl);
                t[tl] = '\0';
                *ret_text = t;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(passed);
        return 0;
}

int sync_recv(int fd, SyncHeader *ret, char **ret_text)
{
        return sync_recv_fd(fd, ret, ret_text, NULL);
}

int send_with_fd(int sock, const void *data, size_t len, int fd)
{
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        for (;;) {
                ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (n >= 0)
                        return (int)n;
                if (errno != EINTR)
                        return -errno;
        }
}

int seccomp_listener_send(const char *path, const char *metadata, pid_t pid, const char *state_json,
                          int listener_fd, Error *reterr)
{
        /* runtime-spec: one "container process state" per connection to listenerPath, the
         * listener in SCM_RIGHTS with it ("fds": ["seccompFd"]), then the connection is closed. */
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return error_set_msg(reterr, -ENAMETOOLONG, "linux.seccomp.listenerPath %s: too long", path);
        strcpy(sa.sun_path, path);
        json_object *st = json_tokener_parse(state_json);
        if (!st)
                return error_set(reterr, -ENOMEM, "seccomp listener state");
        json_object *o = json_object_new_object();
        json_object *fds = json_object_new_array();
        json_object_array_add(fds, json_object_new_string("seccompFd"));
        json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
        json_object_object_add(o, "fds", fds);
        json_object_object_add(o, "pid", json_object_new_int(pid));
        json_object_object_add(o, "metadata", json_object_new_string(strempty(metadata)));
        json_object_object_add(o, "state", st);
        _cleanup_free_ char *text = strdup(
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        if (!text)
                return error_set(reterr, -ENOMEM, "seccomp listener state");

        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return error_set(reterr, -errno, "socket");
        if (connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
                return error_set(reterr, -errno, "connecting to linux.seccomp.listenerPath %s", path);
        size_t len = strlen(text);
        int n = send_with_fd(sock, text, len, listener_fd);
        if (n < 0)
                return error_set(reterr, n, "sending the seccomp listener to %s", path);
        /* A stream may take less at once: the rest without the descriptor. */
        int r = loop_write(sock, text + n, len - (size_t)n);
        if (r < 0)
                return error_set(reterr, r, "sending the seccomp listener to %s", path);
        return 0;
}

void sync_send_error(int fd, int r, const Error *e)
{
        (void)sync_send(fd, SYNC_ERROR, r < 0 ? r : -EIO, 0,
                        e && error_isset(e) ? error_message(e) : strerror(r < 0 ? -r : EIO));
}

int sync_expect(int fd, SyncType want, SyncHeader *ret, char **ret_text, Error *reterr)
{
        SyncHeader h;
        _cleanup_free_ char *text = NULL;
        int r = sync_recv(fd, &h, &text);
        if (r == -EPIPE)
                return error_set_msg(reterr, -EPIPE, "container process exited during setup");
        if (r < 0)
                return error_set(reterr, r, "reading from the container process");
        if (h.type == SYNC_ERROR)
                return error_set_msg(reterr, h.code < 0 ? h.code : -EIO, "%s", text);
        if (h.type != (int32_t)want)
                return error_set_msg(reterr, -EBADMSG, "unexpected message '%c' from the container process",
                                     (char)h.type);
        if (ret)
                *ret = h;
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

/* ---------------------------------------------------------------- processes */

int pid_start_time(pid_t pid, uint64_t *ret, bool *ret_zombie)
{
        char p[64], buf[1024];
        snprintf(p, sizeof p, "/proc/%i/stat", (int)pid);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT || errno == ESRCH) {
                        *ret = 0;
                        return 0;
                }
                return -errno;
        }
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0) {
                *ret = 0;
                return 0;
        }
        buf[n] = '\0';
        /* The command name may hold spaces and ')': the fields start after the last ')'. */
        char *s = strrchr(buf, ')');
        if (!s)
                return -EBADMSG;
        s += 2;
        char state = *s;
        /* field 3 is state; start_time is field 22 */
        for (int field = 3; field < 22; field++) {
                s = strchr(s, ' ');
                if (!s)
                        return -EBADMSG;
                s++;
        }
        uint64_t v = strtoull(s, NULL, 10);
        *ret = v;
        if (ret_zombie)
                *ret_zombie = state == 'Z' || state == 'X';
        return 0;
}

pid_t clone3_fork(uint64_t flags, int cgroup_fd, int *ret_pidfd)
{
        int pidfd = -1;
        struct clone_args args = {
                .flags = flags | (ret_pidfd ? CLONE_PIDFD : 0),
                /* CLONE_PARENT takes the exit signal of the caller; clone3 wants 0 then */
                .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
        };
        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
        }
        long r = syscall(SYS_clone3, &args, sizeof args);
        if (r < 0)
                return -errno;
        if (r > 0 && ret_pidfd)
                *ret_pidfd = pidfd;
        return (pid_t)r;
}

int read_cap_last(void)
{
        _cleanup_free_ char *s = NULL;
        int v;
        if (read_one_line_file("/proc/sys/kernel/cap_last_cap", &s) < 0 || safe_atoi(s, &v) < 0)
                return capability_last_known();
        return v;
}

/* ---------------------------------------------------------------- record */

void container_record_done(ContainerRecord *r)
{
        free(r->id);
        free(r->bundle);
        free(r->rootfs);
        free(r->created);
        free(r->cgroup_path);
        free(r->cgroup_unit);
        json_object_put(r->config);
        *r = (ContainerRecord){0};
}

int container_record_save(int dirfd, const ContainerRecord *rec, Error *reterr)
{
        json_object *o = json_object_new_object();
        if (!o)
                return error_set(reterr, -ENOMEM, "saving state");
        json_object_object_add(o, "id", json_object_new_string(rec->id));
        json_object_object_add(o, "pid", json_object_new_int(rec->pid));
        json_object_object_add(o, "startTime", json_object_new_uint64(rec->start_time));
        json_object_object_add(o, "bundle", json_object_new_string(strempty(rec->bundle)));
        json_object_object_add(o, "rootfs", json_object_new_string(strempty(rec->rootfs)));
        json_object_object_add(o, "created", json_object_new_string(strempty(rec->created)));
        json_object_object_add(o, "owner", json_object_new_int64(rec->owner));
        json_object_object_add(o, "systemdCgroup", json_object_new_boolean(rec->systemd_cgroup));
        if (rec->cgroup_path)
                json_object_object_add(o, "cgroupPath", json_object_new_string(rec->cgroup_path));
        if (rec->cgroup_unit)
                json_object_object_add(o, "cgroupUnit", json_object_new_string(rec->cgroup_unit));
        json_object_object_add(o, "nsFlags", json_object_new_int(rec->ns_flags));
        if (rec->no_new_keyring)
                json_object_object_add(o, "noNewKeyring", json_object_new_boolean(true));
        if (rec->has_poststart)
                json_object_object_add(o, "poststart", json_object_new_boolean(true));
        if (rec->has_poststop)
                json_object_object_add(o, "poststop", json_object_new_boolean(true));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = write_file_atomic_at(dirfd, "state.json", text, strlen(text), 0600);
        json_object_put(o);
        if (r < 0)
                return error_set(reterr, r, "writing state.json");
        return 0;
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v))
                return 0;
        return json_object_get_int64(v);
}

int container_config_save(int dirfd, const char *text, size_t size, Error *reterr)
{
        int r = write_file_atomic_at(dirfd, "config.json", text, size, 0600);
        if (r < 0)
                return error_set(reterr, r, "writing config.json");
        return 0;
}

int container_record_load_config(int dirfd, ContainerRecord *rec, Error *reterr)
{
        _cleanup_free_ char *buf = NULL;
        enum json_tokener_error e = json_tokener_success;
        if (rec->config)
                return 0;
        int r = read_full_file_at(dirfd, "config.json", 64U * 1024 * 1024, &buf, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading config.json");
        json_object *o = json_tokener_parse_verbose(buf, &e);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return error_set_msg(reterr, -EBADMSG, "config.json: corrupt");
        }
        rec->config = o;
        return 0;
}

/* Whether the config has hooks of that kind (for a record of an older version). */
static bool config_has_hooks(json_object *config, const char *kind)
{
        json_object *h, *l;
        return json_object_object_get_ex(config, "hooks", &h) && json_object_object_get_ex(h, kind, &l) &&
               json_object_is_type(l, json_type_array) && json_object_array_length(l) > 0;
}

int container_record_load(int dirfd, ContainerRecord *ret, Error *reterr)
{
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file_at(dirfd, "state.json", 64U * 1024 * 1024, &buf, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading state.json");
        json_object *o = json_tokener_parse(buf);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return error_set_msg(reterr, -EBADMSG, "state.json: corrupt");
        }
        ContainerRecord rec = {0};
        json_object *v;
#define DUP(k) (jstr(o, k) ? strdup(jstr(o, k)) : NULL)
        rec.id = DUP("id");
        rec.bundle = DUP("bundle");
        rec.rootfs = DUP("rootfs");
        rec.created = DUP("created");
        rec.cgroup_path = DUP("cgroupPath");
        rec.cgroup_unit = DUP("cgroupUnit");
#undef DUP
        rec.pid = (pid_t)jint(o, "pid");
        if (json_object_object_get_ex(o, "startTime", &v))
                rec.start_time = json_object_get_uint64(v);
        rec.owner = (uid_t)jint(o, "owner");
        rec.ns_flags = (int)jint(o, "nsFlags");
        if (json_object_object_get_ex(o, "systemdCgroup", &v))
                rec.systemd_cgroup = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "noNewKeyring", &v))
                rec.no_new_keyring = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "poststart", &v))
                rec.has_poststart = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "poststop", &v))
                rec.has_poststop = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "config", &v) && json_object_is_type(v, json_type_object)) {
                /* an older version's record, config inside */
                rec.config = json_object_get(v);
                rec.has_poststart = config_has_hooks(rec.config, "poststart");
                rec.has_poststop = config_has_hooks(rec.config, "poststop");
        }
        json_object_put(o);
        if (!rec.id) {
                container_record_done(&rec);
                return error_set_msg(reterr, -EBADMSG, "state.json: corrupt");
        }
        *ret = rec;
        return 0;
}

int container_dir_open(const char *root, const char *id, bool lock, int *ret_fd, Error *reterr)
{
        if (!runtime_id_is_valid(id))
                return error_set_msg(reterr, -EINVAL, "invalid container id \"%s\"", id);
        _cleanup_free_ char *p = path_join(root ?: RUNTIME_DEFAULT_ROOT, id);
        if (!p)
                return error_set(reterr, -ENOMEM, "container %s", id);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return error_set_msg(reterr, -ENOENT, "container \"%s\" does not exist", id);
                return error_set(reterr, -errno, "opening %s", p);
        }
        if (lock && flock(fd, LOCK_EX) < 0)
                return error_set(reterr, -errno, "locking %s", p);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

RuntimeStatus container_record_status(int dirfd, const ContainerRecord *rec)
{
        uint64_t st = 0;
        bool zombie = false;
        if (rec->pid <= 0 || pid_start_time(rec->pid, &st, &zombie) < 0 || st == 0 ||
            st != rec->start_time || zombie)
                return RUNTIME_STATUS_STOPPED;
        struct stat s;
        if (fstatat(dirfd, "start.sock", &s, AT_SYMLINK_NOFOLLOW) >= 0)
                return RUNTIME_STATUS_CREATED;
        if (rec->cgroup_path) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                if (cgroup_load(rec->systemd_cgroup ? CGROUP_DRIVER_SYSTEMD : CGROUP_DRIVER_CGROUPFS,
                                rec->cgroup_path, rec->cgroup_unit, &cg, NULL) >= 0 &&
                    cgroup_is_frozen(cg, NULL) > 0)
                        return RUNTIME_STATUS_PAUSED;
        }
        return RUNTIME_STATUS_RUNNING;
}

static const char *const status_names[_RUNTIME_STATUS_MAX] = {
        [RUNTIME_STATUS_CREATING] = "creating", [RUNTIME_STATUS_CREATED] = "created",
        [RUNTIME_STATUS_RUNNING] = "running",   [RUNTIME_STATUS_PAUSED] = "paused",
        [RUNTIME_STATUS_STOPPED] = "stopped",
};

const char *runtime_status_to_string(RuntimeStatus s)
{
        return s >= 0 && s < _RUNTIME_STATUS_MAX ? status_names[s] : NULL;
}

char *container_state_json(const char *id, RuntimeStatus status, pid_t pid, const char *bundle,
                           const char *rootfs, const char *created, uid_t owner, char *const *annotations,
                           bool pretty)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "pid", json_object_new_int(status == RUNTIME_STATUS_STOPPED ? 0 : pid));
        json_object_object_add(o, "status", json_object_new_string(runtime_status_to_string(status)));
        json_object_object_add(o, "bundle", json_object_new_string(strempty(bundle)));
        if (rootfs)
                json_object_object_add(o, "rootfs", json_object_new_string(rootfs));
        if (created)
                json_object_object_add(o, "created", json_object_new_string(created));
        if (rootfs) {
                /* runc prints the owner name; "" for root. */
                char buf[32];
                snprintf(buf, sizeof buf, "%u", (unsigned)owner);
                json_object_object_add(o, "owner", json_object_new_string(owner == 0 ? "" : buf));
        }
        json_object *a = json_object_new_object();
        for (size_t i = 0; annotations && annotations[i] && annotations[i + 1]; i += 2)
                json_object_object_add(a, annotations[i], json_object_new_string(annotations[i + 1]));
        json_object_object_add(o, "annotations", a);
        char *s = strdup(json_object_to_json_string_ext(
                o,
                pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE
                       : JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

void runtime_state_done(RuntimeState *s)
{
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        strv_free(s->annotations);
        free(s->cgroup_path);
        *s = (RuntimeState){0};
}

int runtime_state_json(const RuntimeState *s, char **ret)
{
        char *j = container_state_json(s->id, s->status, s->pid, s->bundle, s->rootfs, s->created, s->owner,
                                       s->annotations, true);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

void runtime_debug(const RuntimeOptions *opts, const char *fmt, ...)
{
        if (!opts || !opts->debug)
                return;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (m)
                opts->debug(opts->debug_userdata, m);
}
