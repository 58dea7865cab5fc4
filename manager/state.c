/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-container state in /run/ctrmgr/NAME/state.json: what a restarted daemon needs to find a
 * running container again and report it as before (PID with its start time against PID reuse,
 * image digest, timestamps, restart counter). Written atomically; /run is a tmpfs, so a reboot
 * forgets everything, as it should.
 *
 * A unit that failed leaves /run/ctrmgr/.failed/NAME (its Result=, exit status, timestamps and
 * restart counter) until it starts again or is reset, so that a restarted daemon still shows it
 * failed, as systemd keeps its failed units across a re-execution.
 */
#include <dirent.h>

#include <json-c/json.h>

#include "manager/manager.h"

int pid_get_starttime(pid_t pid, uint64_t *ret)
{
        char p[64];
        _cleanup_free_ char *data = NULL;
        int r;

        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        r = read_full_file_at(AT_FDCWD, p, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        /* comm may contain spaces and parentheses: count fields after the last ')'. */
        char *e = strrchr(data, ')');
        if (!e)
                return -EIO;
        e++;
        /* After ')' come field 3 (state) … field 22 (starttime): skip 19 fields. */
        for (int i = 0; i < 20; i++) {
                while (*e == ' ')
                        e++;
                if (i == 19)
                        break;
                e = strchr(e, ' ');
                if (!e)
                        return -EIO;
        }
        char *end = strchr(e, ' ');
        if (end)
                *end = '\0';
        return safe_atou64(e, ret);
}

/* What both records keep: the image and the unit's history (timestamps, restart counter, start
 * limit). */
static void history_add(json_object *o, const Service *s)
{
        if (s->image_digest)
                json_object_object_add(o, "imageDigest", json_object_new_string(s->image_digest));
        json_object_object_add(o, "activeEnter", json_object_new_uint64(s->active_enter_ts));
        json_object_object_add(o, "activeExit", json_object_new_uint64(s->active_exit_ts));
        json_object_object_add(o, "inactiveExit", json_object_new_uint64(s->inactive_exit_ts));
        json_object_object_add(o, "inactiveEnter", json_object_new_uint64(s->inactive_enter_ts));
        json_object_object_add(o, "nRestarts", json_object_new_uint64(s->n_restarts));
        /* The start limit's window: CLOCK_MONOTONIC, which holds for as long as /run does. */
        json_object_object_add(o, "startLimitBegin", json_object_new_uint64(s->rs.start_limit_begin));
        json_object_object_add(o, "startLimitNum", json_object_new_uint64(s->rs.start_limit_num));
        json_object_object_add(o, "startLimitHit", json_object_new_boolean(s->rs.start_limit_hit));
}

static uint64_t get_u64(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0;
}

static void history_get(json_object *o, Service *s)
{
        json_object *v;
        if (json_object_object_get_ex(o, "imageDigest", &v))
                (void)free_and_strdup(&s->image_digest, json_object_get_string(v));
        s->active_enter_ts = get_u64(o, "activeEnter");
        s->active_exit_ts = get_u64(o, "activeExit");
        s->inactive_exit_ts = get_u64(o, "inactiveExit");
        s->inactive_enter_ts = get_u64(o, "inactiveEnter");
        s->n_restarts = (unsigned)get_u64(o, "nRestarts");
        s->rs.n_restarts = s->n_restarts;
        s->rs.start_limit_begin = get_u64(o, "startLimitBegin");
        s->rs.start_limit_num = (unsigned)get_u64(o, "startLimitNum");
        s->rs.start_limit_hit =
                json_object_object_get_ex(o, "startLimitHit", &v) && json_object_get_boolean(v);
}

/* Both records are one JSON object in a file below a directory fd, written atomically. */
static int json_write_at(int dir_fd, const char *name, json_object *o)
{
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        return write_file_atomic_at(dir_fd, name, text, strlen(text), 0600);
}

static int json_read_at(int dir_fd, const char *name, size_t max, json_object **ret)
{
        _cleanup_free_ char *data = NULL;
        int r = read_full_file_at(dir_fd, name, max, &data, NULL);
        if (r < 0)
                return r;
        json_object *o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int state_save(const Service *s)
{
        _cleanup_free_ char *bundle = service_bundle_dir(s);
        json_object *o = json_object_new_object();
        uint64_t st = 0;
        int r;

        if (!bundle || !o) {
                json_object_put(o);
                return -ENOMEM;
        }
        (void)pid_get_starttime(s->main_pid, &st);
        json_object_object_add(o, "pid", json_object_new_int64(s->main_pid));
        json_object_object_add(o, "starttime", json_object_new_uint64(st));
        history_add(o, s);
        json_object_object_add(o, "stopSignal", json_object_new_int(s->stop_signal));
        json_object_object_add(o, "stopTimeout", json_object_new_uint64(s->stop_timeout_usec));
        json_object_object_add(o, "stopping",
                               json_object_new_boolean(s->active_state == ACTIVE_STATE_DEACTIVATING));
        if (s->cgroup_path)
                json_object_object_add(o, "cgroup", json_object_new_string(s->cgroup_path));

        _cleanup_close_ int fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = fd < 0 ? -errno : json_write_at(fd, "state.json", o);
        json_object_put(o);
        return r;
}

int state_load(Service *s, pid_t *ret_pid, uint64_t *ret_starttime, bool *ret_stopping)
{
        _cleanup_free_ char *bundle = service_bundle_dir(s);
        json_object *o, *v;
        int r;

        if (!bundle)
                return -ENOMEM;
        _cleanup_close_ int fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = json_read_at(fd, "state.json", 1024 * 1024, &o);
        if (r < 0)
                return r;
        int64_t pid = json_object_object_get_ex(o, "pid", &v) ? json_object_get_int64(v) : 0;
        if (pid <= 0 || pid > INT32_MAX) {
                json_object_put(o);
                return -EBADMSG;
        }
        history_get(o, s);
        if (json_object_object_get_ex(o, "cgroup", &v))
                (void)free_and_strdup(&s->cgroup_path, json_object_get_string(v));
        if (json_object_object_get_ex(o, "stopSignal", &v) && json_object_get_int(v) > 0)
                s->stop_signal = json_object_get_int(v);
        if (json_object_object_get_ex(o, "stopTimeout", &v))
                s->stop_timeout_usec = json_object_get_uint64(v);
        *ret_pid = (pid_t)pid;
        *ret_starttime = get_u64(o, "starttime");
        *ret_stopping = json_object_object_get_ex(o, "stopping", &v) && json_object_get_boolean(v);
        json_object_put(o);
        return 0;
}

int state_remove(const Service *s)
{
        _cleanup_free_ char *bundle = service_bundle_dir(s);
        if (!bundle)
                return -ENOMEM;
        int fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        (void)unlinkat(fd, "state.json", 0);
        (void)unlinkat(fd, "config.json", 0);
        (void)unlinkat(fd, "rootfs", AT_REMOVEDIR);
        safe_close(fd);
        if (rmdir(bundle) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                return -errno;
        return 0;
}

/* ---------------------------------------------------------------- failed units: .failed/NAME */

#define FAILED_DIR ".failed"

static int failed_dir_open(const Manager *m, bool create)
{
        _cleanup_free_ char *dir = path_join(m->config.state_dir, FAILED_DIR);
        if (!dir)
                return -ENOMEM;
        if (create) {
                int r = mkdir_p(dir, 0700);
                if (r < 0)
                        return r;
        }
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int failed_state_save(const Service *s)
{
        json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "result", json_object_new_int(s->result));
        json_object_object_add(o, "exitCode", json_object_new_int(s->exit_code));
        json_object_object_add(o, "exitStatus", json_object_new_int(s->exit_status));
        history_add(o, s);

        _cleanup_close_ int fd = failed_dir_open(s->manager, true);
        r = fd < 0 ? fd : json_write_at(fd, s->name, o);
        json_object_put(o);
        return r;
}

int failed_state_load(Service *s)
{
        _cleanup_close_ int fd = failed_dir_open(s->manager, false);
        json_object *o, *v;
        int r;

        if (fd < 0)
                return fd;
        r = json_read_at(fd, s->name, 64 * 1024, &o);
        if (r < 0)
                return r;
        int result = json_object_object_get_ex(o, "result", &v) ? json_object_get_int(v) : -1;
        if (result <= SERVICE_SUCCESS || result >= _SERVICE_RESULT_MAX) {
                json_object_put(o);
                return -EBADMSG;
        }
        s->result = (ServiceResult)result;
        s->exit_code = json_object_object_get_ex(o, "exitCode", &v) ? json_object_get_int(v) : 0;
        s->exit_status = json_object_object_get_ex(o, "exitStatus", &v) ? json_object_get_int(v) : 0;
        history_get(o, s);
        json_object_put(o);
        return 0;
}

int failed_state_remove(const Service *s)
{
        _cleanup_close_ int fd = failed_dir_open(s->manager, false);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        return unlinkat(fd, s->name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

void failed_state_prune(Manager *m)
{
        _cleanup_close_ int fd = failed_dir_open(m, false);
        if (fd < 0)
                return;
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                Service *s = manager_find_service(m, de->d_name);
                if (!s || s->active_state != ACTIVE_STATE_FAILED)
                        (void)unlinkat(fd, de->d_name, 0);
        }
        closedir(d);
}
