/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What happens to a Service between "its container runs" and "it ended", beyond the process
 * itself: readiness (Notify=false|true|healthy with TimeoutStartSec= and the watchdog), health
 * checks (HealthCmd= run inside the container on a timer, HealthOnFailure=), ReloadCmd=/
 * ReloadSignal=, and the memory.events watch that tells an OOM kill from any other SIGKILL.
 * manager/policy decides every step; this file only runs processes, timers and sockets for it.
 *
 * Notify=true: each unit gets its own datagram socket in <state_dir>/NAME/notify/, a directory
 * bind-mounted at /run/notify in the container (NOTIFY_SOCKET=/run/notify/notify.sock), so a
 * datagram's origin is known without credentials and a restarted daemon can bind a new socket at
 * the same path that the running container sees.
 */
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "manager/manager.h"
#include "runtime/runtime.h"
#include "units/unit.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static void service_ready_rearm(Service *s);

/* ---------------------------------------------------------------- commands in the container */

static void exec_reset(ServiceExec *x)
{
        x->pid_source = sd_event_source_disable_unref(x->pid_source);
        x->out_source = sd_event_source_disable_unref(x->out_source);
        x->timer_source = sd_event_source_disable_unref(x->timer_source);
        x->pidfd = safe_close(x->pidfd);
        x->out_fd = safe_close(x->out_fd);
        x->output = mfree(x->output);
        x->len = 0;
        x->pid = 0;
        x->timed_out = false;
        x->done = NULL;
}

static bool exec_running(const ServiceExec *x)
{
        return x->pid > 0;
}

static void exec_read_output(ServiceExec *x)
{
        char buf[4096];

        while (x->out_fd >= 0) {
                ssize_t n = read(x->out_fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* EOF or error: nothing more will come; EAGAIN: nothing for now. */
                        if (n == 0 || errno != EAGAIN) {
                                x->out_source = sd_event_source_disable_unref(x->out_source);
                                x->out_fd = safe_close(x->out_fd);
                        }
                        return;
                }
                size_t keep = MIN((size_t)n, (size_t)HEALTH_OUTPUT_MAX - x->len);
                if (keep == 0)
                        continue; /* past the limit: read and drop, so the writer never blocks */
                char *p = realloc(x->output, x->len + keep + 1);
                if (!p)
                        continue;
                memcpy(p + x->len, buf, keep);
                x->len += keep;
                p[x->len] = '\0';
                x->output = p;
        }
}

static int on_exec_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        exec_read_output(userdata);
        return 0;
}

static void exec_finish(ServiceExec *x, int code)
{
        Service *s = x->service;
        void (*done)(Service *, int, const char *, size_t) = x->done;
        char *out = TAKE_PTR(x->output);
        size_t len = x->len;

        exec_reset(x);
        if (done)
                done(s, code, out, len);
        free(out);
}

static int on_exec_exit(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        ServiceExec *x = userdata;
        siginfo_t si = {};
        int code;

        if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0)
                code = HEALTH_EXIT_ERROR;
        else if (si.si_pid == 0)
                return 0; /* not yet */
        else if (x->timed_out)
                code = HEALTH_EXIT_TIMEOUT;
        else if (si.si_code == CLD_EXITED)
                code = si.si_status;
        else
                code = 128 + si.si_status;
        exec_read_output(x);
        exec_finish(x, code);
        return 0;
}

static int on_exec_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        ServiceExec *x = userdata;

        x->timer_source = sd_event_source_disable_unref(x->timer_source);
        x->timed_out = true;
        (void)pidfd_signal(x->pidfd, SIGKILL);
        return 0;
}

/* Runs argv in s's container with the container's process settings (user, environment,
 * capabilities, seccomp), stdout and stderr into a pipe, killed at deadline (CLOCK_MONOTONIC
 * usec, USEC_INFINITY for none). */
static int exec_start(Service *s, ServiceExec *x, char **argv, uint64_t deadline,
                      void (*done)(Service *, int, const char *, size_t), Error *reterr)
{
        Manager *m = s->manager;
        _cleanup_runtime_process_ RuntimeProcess *p = NULL;
        _cleanup_close_ int devnull = -EBADF, out_r = -EBADF, out_w = -EBADF, pidfd = -EBADF;
        int fds[2];
        pid_t pid;
        int r;

        if (exec_running(x))
                return error_set_msg(reterr, -EBUSY, "a command is already running in %s", s->name);
        if (s->main_pid <= 0)
                return error_set_msg(reterr, -ESRCH, "%s has no running container", s->name);
        r = runtime_process_from_container(m->oci_root, s->name, argv, &p, reterr);
        if (r < 0)
                return r;
        (void)runtime_process_set_terminal(p, false);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return error_set(reterr, -errno, "pipe");
        out_r = fds[0];
        out_w = fds[1];
        r = fd_nonblock(out_r, true);
        if (r < 0)
                return error_set(reterr, r, "pipe");
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return error_set(reterr, -errno, "opening /dev/null");

        RuntimeOptions opts = RUNTIME_OPTIONS_INIT;
        opts.stdio[0] = devnull;
        opts.stdio[1] = opts.stdio[2] = out_w;
        r = runtime_exec(m->oci_root, s->name, p, &opts, &pid, &pidfd, reterr);
        if (r < 0)
                return r;
        out_w = safe_close(out_w);
        if (pidfd < 0) {
                pidfd = pidfd_open_pid(pid);
                if (pidfd < 0) {
                        (void)kill(pid, SIGKILL);
                        (void)waitpid(pid, NULL, 0);
                        return error_set(reterr, pidfd, "pidfd_open(%d)", (int)pid);
                }
        }

        *x = (ServiceExec){.service = s, .pid = pid, .pidfd = -EBADF, .out_fd = -EBADF, .done = done};
        x->pidfd = TAKE_FD(pidfd);
        x->out_fd = TAKE_FD(out_r);
        r = sd_event_add_io(m->event, &x->out_source, x->out_fd, EPOLLIN, on_exec_output, x);
        if (r >= 0)
                r = sd_event_add_io(m->event, &x->pid_source, x->pidfd, EPOLLIN, on_exec_exit, x);
        if (r >= 0 && deadline != USEC_INFINITY)
                r = sd_event_add_time(m->event, &x->timer_source, CLOCK_MONOTONIC, deadline, 0,
                                      on_exec_timeout, x);
        if (r < 0) {
                x->done = NULL;
                service_exec_cancel(x);
                return error_set(reterr, r, "watching the command");
        }
        return 0;
}

void service_exec_cancel(ServiceExec *x)
{
        if (exec_running(x) && x->pidfd >= 0) {
                siginfo_t si = {};
                (void)pidfd_signal(x->pidfd, SIGKILL);
                while (waitid((idtype_t)P_PIDFD, (id_t)x->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                        ;
        }
        exec_reset(x);
}

/* ---------------------------------------------------------------- the notify socket */

char *manager_notify_dir(const Manager *m, const char *name)
{
        return path_join(m->config.state_dir, name, "notify");
}

static void notify_close(Service *s)
{
        s->notify_source = sd_event_source_disable_unref(s->notify_source);
        s->notify_fd = safe_close(s->notify_fd);
}

static void notify_remove(Service *s)
{
        _cleanup_free_ char *dir = manager_notify_dir(s->manager, s->name);
        _cleanup_free_ char *sock = dir ? path_join(dir, "notify.sock") : NULL;

        notify_close(s);
        if (sock)
                (void)unlink(sock);
        if (dir)
                (void)rmdir(dir);
}

static void handle_ready_events(Service *s, int ev);

static int on_notify(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Service *s = userdata;
        char buf[NOTIFY_MESSAGE_MAX + 1];

        if (s->main_pid <= 0 && s->starter_pid != 0) {
                /* The container speaks before its starter has reported: the datagrams wait in
                 * the socket until readiness begins (service_ready_begin() turns this back on). */
                (void)sd_event_source_set_enabled(src, SD_EVENT_OFF);
                return 0;
        }
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_service_warning(s, "%s: reading the notify socket: %m", s->name);
                        return 0;
                }
                if (s->main_pid <= 0)
                        continue; /* a leftover of a run that ended */
                NotifyMessage msg;
                if ((size_t)n > NOTIFY_MESSAGE_MAX || notify_message_parse(buf, (size_t)n, &msg) < 0) {
                        log_service_warning(s,
                                            "%s: ignoring a notification of %zd bytes that is too large "
                                            "or malformed.",
                                            s->name, n);
                        continue;
                }
                int ev = readiness_on_notify(&s->rd, &msg, now_usec(CLOCK_MONOTONIC));
                if (msg.stopping)
                        log_service_info(s, "%s: the container says it is stopping.", s->name);
                notify_message_done(&msg);
                if (ev > 0)
                        handle_ready_events(s, ev);
                else
                        service_ready_rearm(s); /* a watchdog ping moves the deadline */
        }
}

/* Binds <state_dir>/NAME/notify/notify.sock anew (a stale socket of an earlier daemon goes). */
static int notify_bind(Service *s, Error *reterr)
{
        _cleanup_free_ char *dir = manager_notify_dir(s->manager, s->name);
        _cleanup_free_ char *sock = dir ? path_join(dir, "notify.sock") : NULL;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        if (!sock)
                return -ENOMEM;
        if (strlen(sock) >= sizeof sa.sun_path)
                return error_set_msg(reterr, -ENAMETOOLONG, "notify socket path %s is too long", sock);
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set(reterr, r, "creating %s", dir);
        /* The state directory is 0700; the container reaches the socket through its bind mount,
         * whatever user it runs as. */
        if (chmod(dir, 0755) < 0)
                return error_set(reterr, -errno, "chmod %s", dir);
        notify_close(s);
        (void)unlink(sock);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return error_set(reterr, -errno, "creating the notify socket");
        strcpy(sa.sun_path, sock);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return error_set(reterr, -errno, "binding %s", sock);
        if (chmod(sock, 0777) < 0)
                return error_set(reterr, -errno, "chmod %s", sock);
        r = sd_event_add_io(s->manager->event, &s->notify_source, fd, EPOLLIN, on_notify, s);
        if (r < 0)
                return error_set(reterr, r, "watching %s", sock);
        s->notify_fd = TAKE_FD(fd);
        return 0;
}

int service_notify_open(Service *s, Error *reterr)
{
        if (s->unit->config.notify != UNIT_NOTIFY_TRUE) {
                notify_remove(s);
                return 0;
        }
        return notify_bind(s, reterr);
}

/* ---------------------------------------------------------------- readiness */

static void service_became_ready(Service *s)
{
        if (s->active_state != ACTIVE_STATE_ACTIVATING || s->sub_state != SUB_STATE_START)
                return;
        service_set_state(s, ACTIVE_STATE_ACTIVE, SUB_STATE_RUNNING);
        (void)state_save(s);
        log_service_info(s, "Started %s (PID %d, image %s).", service_description(s) ?: s->name,
                         (int)s->main_pid, strna(s->image_digest));
}

static void service_kill_expired(Service *s)
{
        _cleanup_error_ Error e = ERROR_INIT;
        char t[FORMAT_TIMESPAN_MAX];

        if (s->rd.state == READY_TIMEOUT) {
                s->kill_cause = EXIT_CAUSE_TIMEOUT;
                log_service_warning(
                        s, "%s: start operation timed out after %s (TimeoutStartSec=). Terminating.",
                        s->name, format_timespan(t, sizeof t, s->rd.timeout_start_usec));
        } else {
                s->kill_cause = EXIT_CAUSE_WATCHDOG;
                log_service_warning(s, "%s: watchdog timeout (limit %s)! Terminating.", s->name,
                                    format_timespan(t, sizeof t, s->rd.watchdog_usec));
        }
        if (runtime_kill(s->manager->oci_root, s->name, SIGKILL, true, &e) < 0 && s->pidfd >= 0)
                (void)pidfd_signal(s->pidfd, SIGKILL);
}

static void handle_ready_events(Service *s, int ev)
{
        if (ev & READY_EVENT_STATUS && s->manager->bus)
                (void)sd_bus_emit_properties_changed(s->manager->bus, s->object_path, CTRMGR_UNIT_IFACE,
                                                     "StatusText", NULL);
        if (ev & READY_EVENT_READY)
                service_became_ready(s);
        if (ev & READY_EVENT_EXPIRED)
                service_kill_expired(s);
        service_ready_rearm(s);
}

/* ---------------------------------------------------------------- health checks */

static void health_act(Service *s, HealthAction action)
{
        _cleanup_error_ Error e = ERROR_INIT;

        if (s->active_state == ACTIVE_STATE_DEACTIVATING || s->main_pid <= 0)
                return; /* on its way down already */
        switch (action) {
        case HEALTH_ACTION_KILL:
                log_service_warning(s, "%s: unhealthy; killing it (HealthOnFailure=kill).", s->name);
                if (runtime_kill(s->manager->oci_root, s->name, SIGKILL, true, &e) < 0 && s->pidfd >= 0)
                        (void)pidfd_signal(s->pidfd, SIGKILL);
                break;
        case HEALTH_ACTION_RESTART:
                log_service_warning(s, "%s: unhealthy; restarting it (HealthOnFailure=restart).", s->name);
                if (service_stop(s, &e) > 0) {
                        s->restart_after_stop = true;
                        s->restart_automatic = true;
                }
                break;
        case HEALTH_ACTION_STOP:
                log_service_warning(s, "%s: unhealthy; stopping it (HealthOnFailure=stop).", s->name);
                (void)service_stop(s, &e);
                break;
        default:
                break;
        }
        if (error_isset(&e))
                log_service_warning(s, "%s: %s", s->name, error_message(&e));
}

static void on_health_done(Service *s, int code, const char *output, size_t len)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool changed = false;
        HealthAction action = HEALTH_ACTION_NONE;

        if (health_check_end(&s->health, &s->hc, now, code, output, len, &changed, &action) < 0)
                return;
        if (changed) {
                const char *st = health_status_to_string(s->health.status);
                if (s->health.status == HEALTH_HEALTHY)
                        log_service_info(s, "%s: health check passed: healthy.", s->name);
                else {
                        /* The check's own words, first line, say why. */
                        _cleanup_free_ char *why = strndup(output ?: "", strcspn(output ?: "", "\n"));
                        if (code == HEALTH_EXIT_TIMEOUT)
                                log_service_warning(s, "%s: health check timed out: %s.", s->name, st);
                        else
                                log_service_warning(s, "%s: health check failed (%s %d)%s%s: %s.", s->name,
                                                    code > 128 ? "signal" : "exit status",
                                                    code > 128 ? code - 128 : code, isempty(why) ? "" : ": ",
                                                    strempty(why), st);
                }
                if (s->manager->bus)
                        (void)sd_bus_emit_properties_changed(s->manager->bus, s->object_path,
                                                             CTRMGR_UNIT_IFACE, "Health", NULL);
                int ev = readiness_on_health(&s->rd, s->health.status, now);
                if (ev > 0)
                        handle_ready_events(s, ev);
        }
        if (action != HEALTH_ACTION_NONE)
                health_act(s, action);
        service_ready_rearm(s);
}

static void health_check_run(Service *s, uint64_t now)
{
        _cleanup_error_ Error e = ERROR_INIT;
        uint64_t deadline;

        if (health_check_begin(&s->health, &s->hc, now, &deadline) < 0)
                return;
        if (exec_start(s, &s->health_exec, s->unit->config.health_cmd, deadline, on_health_done, &e) < 0) {
                const char *why = error_message(&e);
                log_service_warning(s, "%s: could not run the health check: %s", s->name, why);
                on_health_done(s, HEALTH_EXIT_ERROR, why, strlen(why));
        }
}

/* ---------------------------------------------------------------- the timer */

static int on_ready_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        Service *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        s->ready_timer = sd_event_source_disable_unref(s->ready_timer);
        int ev = readiness_on_time(&s->rd, now);
        if (ev > 0) {
                handle_ready_events(s, ev);
                if (ev & READY_EVENT_EXPIRED)
                        return 0; /* it is being killed: no more checks */
        }
        if (s->main_pid > 0 && s->active_state != ACTIVE_STATE_DEACTIVATING &&
            health_next_check(&s->health) <= now)
                health_check_run(s, now);
        service_ready_rearm(s);
        return 0;
}

static void service_ready_rearm(Service *s)
{
        uint64_t next = readiness_next_deadline(&s->rd);

        if (s->main_pid <= 0 || s->active_state == ACTIVE_STATE_DEACTIVATING) {
                s->ready_timer = sd_event_source_disable_unref(s->ready_timer);
                return;
        }
        next = MIN(next, health_next_check(&s->health));
        if (next == USEC_INFINITY) {
                s->ready_timer = sd_event_source_disable_unref(s->ready_timer);
                return;
        }
        if (s->ready_timer) {
                if (sd_event_source_set_time(s->ready_timer, next) >= 0 &&
                    sd_event_source_set_enabled(s->ready_timer, SD_EVENT_ONESHOT) >= 0)
                        return;
                s->ready_timer = sd_event_source_disable_unref(s->ready_timer);
        }
        if (sd_event_add_time(s->manager->event, &s->ready_timer, CLOCK_MONOTONIC, next, 0, on_ready_timer,
                              s) < 0)
                log_service_warning(s, "%s: cannot arm the readiness/health timer.", s->name);
}

bool service_ready_begin(Service *s)
{
        const UnitConfig *c = &s->unit->config;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        s->kill_cause = EXIT_CAUSE_EXITED;
        health_config_from_unit(&s->hc, c);
        readiness_start(&s->rd, c->notify, c->timeout_start_usec, now);
        health_start(&s->health, &s->hc, now);
        if (s->notify_source)
                (void)sd_event_source_set_enabled(s->notify_source, SD_EVENT_ON);
        service_ready_rearm(s);
        return s->rd.state == READY_READY;
}

void service_ready_recover(Service *s)
{
        _cleanup_error_ Error e = ERROR_INIT;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        s->kill_cause = EXIT_CAUSE_EXITED;
        health_config_from_unit(&s->hc, &s->unit->config);
        /* It was active when the earlier daemon wrote its state: ready; checks go on. */
        readiness_start(&s->rd, UNIT_NOTIFY_FALSE, USEC_INFINITY, now);
        health_start(&s->health, &s->hc, now);
        if (s->unit->config.notify == UNIT_NOTIFY_TRUE && notify_bind(s, &e) < 0)
                log_service_warning(s, "%s: the notify socket: %s", s->name, error_message(&e));
        service_ready_rearm(s);
}

void service_ready_end(Service *s)
{
        s->ready_timer = sd_event_source_disable_unref(s->ready_timer);
        service_exec_cancel(&s->health_exec);
        if (exec_running(&s->reload_exec)) {
                service_exec_cancel(&s->reload_exec);
                if (s->reload_waiter)
                        (void)sd_bus_reply_method_errorf(s->reload_waiter, "org.ctrmgr1.UnitFailed",
                                                         "Reload of %s cancelled: the container ended.",
                                                         s->name);
        }
        s->reload_waiter = sd_bus_message_unref(s->reload_waiter);
        s->health.check_running = false;
        notify_remove(s);
}

/* ---------------------------------------------------------------- OOM kills */

/* memory.events of the container's cgroup: "max" (the limit was hit) and "oom_kill". */
static int read_memory_events(const Service *s, uint64_t *ret_max, uint64_t *ret_oom_kill)
{
        _cleanup_free_ char *p = NULL, *data = NULL;
        uint64_t max = UINT64_MAX, kill = UINT64_MAX;
        int r;

        if (!s->cgroup_path)
                return -ENOENT;
        p = path_join(s->cgroup_path, "memory.events");
        if (!p)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, p, 4096, &data, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                const char *v;
                if ((v = startswith(l, "max ")))
                        (void)safe_atou64(v, &max);
                else if ((v = startswith(l, "oom_kill ")))
                        (void)safe_atou64(v, &kill);
        }
        if (max == UINT64_MAX || kill == UINT64_MAX)
                return -ENOENT;
        *ret_max = max;
        *ret_oom_kill = kill;
        return 0;
}

/* The host's count of OOM kills (/proc/vmstat oom_kill), UINT64_MAX if unknown. */
static uint64_t host_oom_kills(void)
{
        _cleanup_free_ char *data = NULL;
        uint64_t v;
        if (read_full_file_at(AT_FDCWD, "/proc/vmstat", 64 * 1024, &data, NULL) < 0)
                return UINT64_MAX;
        const char *p = strstr(data, "\noom_kill ");
        if (!p || sscanf(p + 10, "%" SCNu64, &v) != 1)
                return UINT64_MAX;
        return v;
}

/* False when the cgroup is gone. */
static bool oom_update(Service *s)
{
        uint64_t max, kill;
        if (s->oom_kills_start == UINT64_MAX || read_memory_events(s, &max, &kill) < 0)
                return false;
        s->oom_kills_seen = MAX(s->oom_kills_seen, kill);
        s->oom_max_seen = MAX(s->oom_max_seen, max);
        return true;
}

static int on_memory_events(sd_event_source *src, const struct inotify_event *ev, void *userdata)
{
        Service *s = userdata;
        if (ev->mask & IN_IGNORED) {
                /* The cgroup is gone: the source is dead. */
                s->oom_source = sd_event_source_disable_unref(s->oom_source);
                return 0;
        }
        (void)oom_update(s);
        return 0;
}

void service_oom_watch(Service *s)
{
        _cleanup_free_ char *p = NULL;
        uint64_t max, kill;

        service_oom_unwatch(s);
        /* No memory controller (hybrid hosts): nothing to tell. */
        if (read_memory_events(s, &max, &kill) < 0)
                return;
        s->oom_kills_start = s->oom_kills_seen = kill;
        s->oom_max_start = s->oom_max_seen = max;
        s->host_oom_kills_start = host_oom_kills();
        /* The counter is read once more at the exit; the watch covers a cgroup that is removed
         * (systemd stops the empty scope) before the daemon gets there. Its events go before the
         * pidfd's when both are pending. */
        p = path_join(s->cgroup_path, "memory.events");
        if (p &&
            sd_event_add_inotify(s->manager->event, &s->oom_source, p, IN_MODIFY, on_memory_events, s) < 0)
                s->oom_source = NULL;
        if (s->oom_source)
                (void)sd_event_source_set_priority(s->oom_source, SD_EVENT_PRIORITY_IMPORTANT);
}

bool service_oom_killed(Service *s)
{
        if (s->oom_kills_start == UINT64_MAX)
                return false;
        if (oom_update(s) || s->oom_kills_seen > s->oom_kills_start)
                return s->oom_kills_seen > s->oom_kills_start;
        /* The scope is gone (systemd removes an empty scope at once) and the kernel's note of the
         * kill, rate-limited to one per 10 ms, went with it. The cgroup hit its memory limit during
         * this run and the host counted an OOM kill since its start: that was this one. */
        uint64_t host = host_oom_kills();
        return s->oom_max_seen > s->oom_max_start && host != UINT64_MAX &&
               s->host_oom_kills_start != UINT64_MAX && host > s->host_oom_kills_start;
}

void service_oom_unwatch(Service *s)
{
        s->oom_source = sd_event_source_disable_unref(s->oom_source);
        s->oom_kills_start = s->oom_kills_seen = UINT64_MAX;
}

/* ---------------------------------------------------------------- reload */

static void on_reload_done(Service *s, int code, const char *output, size_t len)
{
        sd_bus_message *w = TAKE_PTR(s->reload_waiter);
        _cleanup_free_ char *why = strndup(output ?: "", strcspn(output ?: "", "\n"));

        if (code == 0) {
                log_service_info(s, "Reloaded %s.", service_description(s) ?: s->name);
                if (w)
                        (void)sd_bus_reply_method_return(w, "o", s->object_path);
        } else {
                const char *what = code == HEALTH_EXIT_TIMEOUT ? "timed out"
                                   : code == HEALTH_EXIT_ERROR ? "could not run"
                                   : code > 128                ? "was killed by a signal"
                                                               : "failed";
                log_service_warning(s, "%s: ReloadCmd= %s (%d)%s%s", s->name, what, code,
                                    isempty(why) ? "" : ": ", strempty(why));
                if (w)
                        (void)sd_bus_reply_method_errorf(
                                w, "org.ctrmgr1.UnitFailed", "Reload of %s failed: ReloadCmd= %s (%d)%s%s",
                                s->name, what, code, isempty(why) ? "" : ": ", strempty(why));
        }
        sd_bus_message_unref(w);
}

int service_reload(Service *s, sd_bus_message *reply, Error *reterr)
{
        const UnitConfig *c = &s->unit->config;
        int r;

        if (s->unit->config.reload_signal <= 0 && strv_isempty(c->reload_cmd))
                return error_set_msg(
                        reterr, -EOPNOTSUPP,
                        "Unit %s cannot be reloaded: it has neither ReloadCmd= nor ReloadSignal=.", s->name);
        if (s->active_state != ACTIVE_STATE_ACTIVE || s->main_pid <= 0)
                return error_set_msg(reterr, -ESRCH, "Unit %s is not active (%s), cannot reload.", s->name,
                                     active_state_to_string(s->active_state));
        if (c->reload_signal > 0) {
                r = service_kill(s, c->reload_signal, reterr);
                if (r < 0)
                        return r;
                log_service_info(s, "Reloaded %s (%s).", service_description(s) ?: s->name,
                                 strna(signal_to_string(c->reload_signal)));
                return 0;
        }
        if (exec_running(&s->reload_exec))
                return error_set_msg(reterr, -EBUSY, "A reload of %s is already under way.", s->name);
        uint64_t deadline = c->timeout_start_usec == USEC_INFINITY || c->timeout_start_usec == 0
                                    ? USEC_INFINITY
                                    : now_usec(CLOCK_MONOTONIC) + c->timeout_start_usec;
        log_service_info(s, "Reloading %s...", service_description(s) ?: s->name);
        r = exec_start(s, &s->reload_exec, c->reload_cmd, deadline, on_reload_done, reterr);
        if (r < 0)
                return error_prefix(reterr, r, "ReloadCmd=");
        s->reload_waiter = sd_bus_message_ref(reply);
        return 1;
}
