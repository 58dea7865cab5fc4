/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"

#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "verbs.h"

#define BUS_NAME   "org.ctrmgr1"
#define MANAGER    "/org/ctrmgr1"
#define MANAGER_IF "org.ctrmgr1.Manager"
#define UNIT_IF    "org.ctrmgr1.Unit"

int cli_bus_open(sd_bus **ret)
{
        int r = sd_bus_open_system(ret);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        return 0;
}

int cli_log_bus_error(const char *what, const char *name, const sd_bus_error *error, int r)
{
        const char *msg = error && sd_bus_error_is_set(error) ? error->message : strerror(r < 0 ? -r : r);
        if (error && sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN))
                msg = "ctrmgrd is not running (org.ctrmgr1 is not on the system bus)";
        else if (error && sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) &&
                 !startswith(strempty(error->message), "Access denied")) {
                /* The bus policy's refusal reads like a dump of its rules: say what it means. */
                if (name)
                        log_error("Failed to %s %s: Access denied (only root may change units)", what, name);
                else
                        log_error("Failed to %s: Access denied (only root may change units)", what);
                return 1;
        }
        if (name)
                log_error("Failed to %s %s: %s", what, name, msg);
        else
                log_error("Failed to %s: %s", what, msg);
        return 1;
}

static int colors_cached = -1;

bool cli_colors(void)
{
        if (colors_cached < 0)
                colors_cached =
                        isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !streq_ptr(getenv("TERM"), "dumb");
        return colors_cached;
}

const char *cli_color(const char *ansi)
{
        return cli_colors() ? ansi : "";
}

static pid_t pager_pid;

void cli_pager_open(void)
{
        int fds[2];

        (void)cli_colors(); /* decide before stdout becomes a pipe */
        if (arg_global.no_pager || !isatty(STDOUT_FILENO) || pager_pid > 0)
                return;
        const char *pager = getenv("CTRMGR_PAGER") ?: getenv("PAGER") ?: "less";
        if (isempty(pager) || streq(pager, "cat"))
                return;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                return;
        }
        if (pid == 0) {
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                setenv("LESS", "FRSXMK", 0);
                execlp("/bin/sh", "sh", "-c", pager, (char *)NULL);
                execlp("less", "less", (char *)NULL);
                _exit(EXIT_FAILURE);
        }
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                return;
        }
        safe_close(fds[0]);
        safe_close(fds[1]);
        pager_pid = pid;
        atexit(cli_pager_close);
}

void cli_pager_close(void)
{
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        fclose(stdout);
        (void)waitpid(pager_pid, NULL, 0);
        pager_pid = 0;
}

void unit_info_done(UnitInfo *i)
{
        free(i->health);
        free(i->status_text);
        free(i->notify);
        free(i->last_check_output);
        free(i->name);
        free(i->description);
        free(i->fragment_path);
        free(i->load_state);
        free(i->load_error);
        free(i->active_state);
        free(i->sub_state);
        free(i->result);
        free(i->image);
        free(i->image_digest);
        free(i->scope);
        free(i->control_group);
        free(i->unit_file_state);
        strv_free(i->dropin_paths);
        *i = (UnitInfo){};
}

int manager_get_string(sd_bus *bus, const char *property, char **ret)
{
        return sd_bus_get_property_string(bus, BUS_NAME, MANAGER, MANAGER_IF, property, NULL, ret);
}

/* The last entry of HealthLog (a(ttis)). */
static int read_last_health_check(sd_bus_message *reply, UnitInfo *i)
{
        uint64_t start, end;
        int32_t code;
        const char *out;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(ttis)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ttis)", &start, &end, &code, &out)) > 0) {
                i->has_last_check = true;
                i->last_check_code = code;
                i->last_check_end = end;
                if (free_and_strdup(&i->last_check_output, out) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

int unit_info_get(sd_bus *bus, const char *name, UnitInfo *ret, sd_bus_error *error)
{
        sd_bus_message *reply = NULL;
        const char *path;
        _cleanup_free_ char *p = NULL;
        UnitInfo i = {};
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, MANAGER, MANAGER_IF, "GetUnit", error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                p = strdup(path);
        sd_bus_message_unref(reply);
        reply = NULL;
        if (r < 0)
                return r;
        if (!p)
                return -ENOMEM;

        r = sd_bus_call_method(bus, BUS_NAME, p, "org.freedesktop.DBus.Properties", "GetAll", error, &reply,
                               "s", UNIT_IF);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents;
                char type;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                r = sd_bus_message_peek_type(reply, &type, &contents);
                if (r < 0)
                        break;
                r = sd_bus_message_enter_container(reply, 'v', contents);
                if (r < 0)
                        break;
                struct {
                        const char *key;
                        char **s;
                } strs[] = {
                        {"Name", &i.name},
                        {"Description", &i.description},
                        {"FragmentPath", &i.fragment_path},
                        {"LoadState", &i.load_state},
                        {"LoadError", &i.load_error},
                        {"ActiveState", &i.active_state},
                        {"SubState", &i.sub_state},
                        {"Result", &i.result},
                        {"Image", &i.image},
                        {"ImageDigest", &i.image_digest},
                        {"ScopeUnit", &i.scope},
                        {"ControlGroup", &i.control_group},
                        {"UnitFileState", &i.unit_file_state},
                        {"Health", &i.health},
                        {"StatusText", &i.status_text},
                        {"Notify", &i.notify},
                };
                bool done = false;
                for (size_t k = 0; k < ELEMENTSOF(strs); k++)
                        if (streq(key, strs[k].key) && streq(contents, "s")) {
                                const char *v;
                                r = sd_bus_message_read(reply, "s", &v);
                                if (r >= 0 && free_and_strdup(strs[k].s, v) < 0)
                                        r = -ENOMEM;
                                done = true;
                        }
                if (!done) {
                        if (streq(key, "DropInPaths"))
                                r = sd_bus_message_read_strv(reply, &i.dropin_paths);
                        else if (streq(key, "MainPID"))
                                r = sd_bus_message_read(reply, "u", &i.main_pid);
                        else if (streq(key, "NRestarts"))
                                r = sd_bus_message_read(reply, "u", &i.n_restarts);
                        else if (streq(key, "ExecMainCode"))
                                r = sd_bus_message_read(reply, "i", &i.exec_main_code);
                        else if (streq(key, "ExecMainStatus"))
                                r = sd_bus_message_read(reply, "i", &i.exec_main_status);
                        else if (streq(key, "ActiveEnterTimestamp"))
                                r = sd_bus_message_read(reply, "t", &i.active_enter);
                        else if (streq(key, "ActiveExitTimestamp"))
                                r = sd_bus_message_read(reply, "t", &i.active_exit);
                        else if (streq(key, "InactiveEnterTimestamp"))
                                r = sd_bus_message_read(reply, "t", &i.inactive_enter);
                        else if (streq(key, "InactiveExitTimestamp"))
                                r = sd_bus_message_read(reply, "t", &i.inactive_exit);
                        else if (streq(key, "MemoryCurrent"))
                                r = sd_bus_message_read(reply, "t", &i.memory_current);
                        else if (streq(key, "CPUUsageNSec"))
                                r = sd_bus_message_read(reply, "t", &i.cpu_usage_nsec);
                        else if (streq(key, "TasksCurrent"))
                                r = sd_bus_message_read(reply, "t", &i.tasks_current);
                        else if (streq(key, "NeedDaemonReload"))
                                r = sd_bus_message_read(reply, "b", &i.need_daemon_reload);
                        else if (streq(key, "HealthLog") && streq(contents, "a(ttis)"))
                                r = read_last_health_check(reply, &i);
                        else
                                r = sd_bus_message_skip(reply, contents);
                }
                if (r < 0)
                        break;
                r = sd_bus_message_exit_container(reply); /* v */
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply); /* e */
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                unit_info_done(&i);
                return r;
        }
        *ret = i;
        return 0;
}

char *format_timestamp(char *buf, size_t len, uint64_t usec)
{
        time_t t = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;
        if (usec == 0 || usec == UINT64_MAX || !localtime_r(&t, &tm) ||
            strftime(buf, len, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, len, "n/a");
        return buf;
}

char *format_timestamp_relative(char *buf, size_t len, uint64_t usec)
{
        uint64_t now = now_usec(CLOCK_REALTIME);
        char span[FORMAT_TIMESPAN_MAX];
        if (usec == 0 || usec > now) {
                snprintf(buf, len, "now");
                return buf;
        }
        uint64_t d = now - usec;
        /* Round to what a person wants to read: seconds under an hour, minutes above. */
        if (d >= USEC_PER_HOUR)
                d -= d % USEC_PER_MINUTE;
        else if (d >= USEC_PER_MINUTE)
                d -= d % USEC_PER_SEC;
        else
                d -= d % USEC_PER_MSEC;
        snprintf(buf, len, "%s ago", format_timespan(span, sizeof span, d));
        return buf;
}

/* ---------------------------------------------------------------- logs */

static void print_field_json(FILE *f, const char *key, const char *v, size_t l, bool comma)
{
        fprintf(f, "%s\"%s\":\"", comma ? "," : "", key);
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static int journal_field(sd_journal *j, const char *field, const char **ret, size_t *ret_len)
{
        const void *d;
        size_t l, fl = strlen(field);
        int r = sd_journal_get_data(j, field, &d, &l);
        if (r < 0 || l <= fl)
                return -ENOENT;
        *ret = (const char *)d + fl + 1;
        *ret_len = l - fl - 1;
        return 0;
}

static void print_journal_entry(sd_journal *j, bool json)
{
        uint64_t ts = 0;
        const char *msg = "", *ident = NULL, *pid = NULL, *host = NULL;
        size_t msg_l = 0, ident_l = 0, pid_l = 0, host_l = 0;

        (void)sd_journal_get_realtime_usec(j, &ts);
        (void)journal_field(j, "MESSAGE", &msg, &msg_l);
        if (journal_field(j, "SYSLOG_IDENTIFIER", &ident, &ident_l) < 0)
                ident = NULL;
        if (journal_field(j, "_PID", &pid, &pid_l) < 0)
                pid = NULL;
        if (journal_field(j, "_HOSTNAME", &host, &host_l) < 0)
                host = NULL;

        if (json) {
                char t[32];
                snprintf(t, sizeof t, "%" PRIu64, ts);
                printf("{");
                print_field_json(stdout, "__REALTIME_TIMESTAMP", t, strlen(t), false);
                if (ident)
                        print_field_json(stdout, "SYSLOG_IDENTIFIER", ident, ident_l, true);
                if (pid)
                        print_field_json(stdout, "_PID", pid, pid_l, true);
                print_field_json(stdout, "MESSAGE", msg, msg_l, true);
                printf("}\n");
                return;
        }
        char tbuf[64];
        time_t t = (time_t)(ts / USEC_PER_SEC);
        struct tm tm;
        strftime(tbuf, sizeof tbuf, "%b %d %H:%M:%S", localtime_r(&t, &tm));
        printf("%s %.*s%s%.*s[%.*s]: %.*s\n", tbuf, (int)host_l, strempty(host), host ? " " : "",
               (int)ident_l, ident ?: "?", (int)pid_l, pid ?: "?", (int)msg_l, msg);
}

/* Like `journalctl -u`: the scope's own entries (journald sets _SYSTEMD_UNIT=, no client can
 * forge it), or what root says about the unit (ctrmgrd runs as root). OBJECT_SYSTEMD_UNIT= and
 * CTRMGR_UNIT= are ordinary fields that any local user may send with sd_journal_send(), so they
 * count only together with _UID=0. Matches on different fields are ANDed, disjunctions ORed. */
static int journal_add_unit_matches(sd_journal *j, const char *scope, const char *name)
{
        _cleanup_free_ char *m1 = strjoin("_SYSTEMD_UNIT=", scope);
        _cleanup_free_ char *m2 = strjoin("OBJECT_SYSTEMD_UNIT=", scope);
        _cleanup_free_ char *m3 = strjoin("CTRMGR_UNIT=", name);
        int r;

        if (!m1 || !m2 || !m3)
                return -ENOMEM;
        if ((r = sd_journal_add_match(j, m1, 0)) < 0 || (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 || (r = sd_journal_add_match(j, m2, 0)) < 0 ||
            (r = sd_journal_add_disjunction(j)) < 0 || (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 ||
            (r = sd_journal_add_match(j, m3, 0)) < 0)
                return r;
        return 0;
}

/* Places the read position just before the first entry to print: the last `lines` entries,
 * of those only the ones since `since` (both given: both apply); 0 lines leaves it at the end, so
 * that --follow prints only what comes. *ret_current says the entry under the position is the
 * first to print (sd_journal_previous_skip() stops on it). */
static int journal_seek_start(sd_journal *j, const LogArgs *args, bool *ret_current)
{
        uint64_t ts;
        int r;

        *ret_current = false;
        if (args->lines == LOG_LINES_ALL)
                return args->since > 0 ? sd_journal_seek_realtime_usec(j, args->since)
                                       : sd_journal_seek_head(j);

        r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        if (args->lines == 0) {
                /* On the last entry, if any: sd_journal_next() then yields only new ones. */
                r = sd_journal_previous(j);
                return r < 0 ? r : 0;
        }
        r = sd_journal_previous_skip(j, (uint64_t)MIN(args->lines, (int64_t)INT_MAX));
        if (r <= 0)
                return r; /* no entries: nothing to print but what comes */
        if (args->since > 0 && sd_journal_get_realtime_usec(j, &ts) >= 0 && ts < args->since)
                /* Fewer than `lines` entries since then: start at `since`. */
                return sd_journal_seek_realtime_usec(j, args->since);
        *ret_current = true;
        return 0;
}

static int show_journal(const char *scope, const char *name, const LogArgs *args)
{
        sd_journal *j = NULL;
        bool current;
        int r;

        if (args->directory)
                r = sd_journal_open_directory(&j, args->directory, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal%s%s: %m",
                                       args->directory ? " in " : "", strempty(args->directory));
        r = journal_add_unit_matches(j, scope, name);
        if (r < 0) {
                sd_journal_close(j);
                return log_error_errno(r, "Failed to add journal matches: %m");
        }
        r = journal_seek_start(j, args, &current);
        if (r < 0) {
                sd_journal_close(j);
                return log_error_errno(r, "Failed to seek the journal: %m");
        }

        for (;;) {
                if (current) {
                        current = false;
                        r = 1;
                } else
                        r = sd_journal_next(j);
                if (r < 0) {
                        log_error_errno(r, "Failed to read the journal: %m");
                        break;
                }
                if (r == 0) {
                        if (!args->follow)
                                break;
                        fflush(stdout);
                        r = sd_journal_wait(j, UINT64_MAX);
                        if (r < 0) {
                                log_error_errno(r, "Failed to wait for the journal: %m");
                                break;
                        }
                        continue;
                }
                if (args->since > 0) {
                        /* Entries out of order (a clock set back) are not "since" either. */
                        uint64_t ts;
                        if (sd_journal_get_realtime_usec(j, &ts) >= 0 && ts < args->since)
                                continue;
                }
                print_journal_entry(j, args->json);
        }
        sd_journal_close(j);
        return r < 0 ? r : 0;
}

/* Where the last `lines` lines of the file's first `size` bytes begin: walks back over as many
 * newlines, in blocks, not counting a final one. */
static int file_tail_offset(int fd, off_t size, int64_t lines, off_t *ret)
{
        char buf[65536];
        int64_t n = 0;
        off_t end = size;

        while (end > 0) {
                off_t start = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
                ssize_t k = pread(fd, buf, (size_t)(end - start), start);
                if (k < 0)
                        return -errno;
                if (k != end - start)
                        return -EIO; /* the file shrank under us */
                for (ssize_t i = k - 1; i >= 0; i--) {
                        if (buf[i] != '\n')
                                continue;
                        if (start + i == size - 1)
                                continue; /* the final line's own newline */
                        if (++n == lines) {
                                *ret = start + i + 1;
                                return 0;
                        }
                }
                end = start;
        }
        *ret = 0;
        return 0;
}

/* Copies the file from *off to its end onto stdout; a truncated file starts over. */
static int file_copy(int fd, off_t *off)
{
        char buf[65536];
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size < *off)
                *off = 0;
        for (;;) {
                ssize_t k = pread(fd, buf, sizeof buf, *off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return 0;
                if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
                        return -EIO;
                *off += k;
        }
}

static int show_file(const char *dir, const char *name, const LogArgs *args)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        off_t off = 0;
        int r;

        path = strjoin(dir, "/", name, ".log");
        if (!path)
                return -ENOMEM;
        bool waited = false;
        for (;;) {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0)
                        break;
                if (errno != ENOENT)
                        return log_error_errno(-errno, "Failed to open %s: %m", path);
                if (!args->follow)
                        return 0; /* never started: no log yet */
                /* The daemon creates it at the unit's first start; all of it is new then. */
                waited = true;
                (void)poll(NULL, 0, 200);
        }
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "Failed to stat %s: %m", path);
        if (waited)
                off = 0;
        else if (args->lines == 0)
                off = st.st_size;
        else if (args->lines > 0) {
                r = file_tail_offset(fd, st.st_size, args->lines, &off);
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s: %m", path);
        }
        for (;;) {
                r = file_copy(fd, &off);
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s: %m", path);
                if (!args->follow)
                        return 0;
                fflush(stdout);
                (void)poll(NULL, 0, 200);
        }
}

int show_unit_logs(sd_bus *bus, const char *name, const LogArgs *args)
{
        _cleanup_free_ char *target = NULL, *dir = NULL, *scope = NULL;

        scope = strjoin("ctrmgr-", name, ".scope");
        if (!scope)
                return -ENOMEM;
        if (args->directory)
                return show_journal(scope, name, args);
        /* The daemon knows where it sent the logs (--log-target); without it, decide as it does:
         * journald's stream socket is what containers' output would go to. */
        if (bus) {
                (void)manager_get_string(bus, "LogTarget", &target);
                (void)manager_get_string(bus, "LogDirectory", &dir);
        }
        if (isempty(target) &&
            free_and_strdup(&target, access("/run/systemd/journal/stdout", F_OK) == 0 ? "journal" : "file") <
                    0)
                return -ENOMEM;
        if (isempty(dir) && free_and_strdup(&dir, getenv("CTRMGR_LOG_DIR") ?: "/var/log/ctrmgr") < 0)
                return -ENOMEM;
        if (streq(target, "journal"))
                return show_journal(scope, name, args);
        if (args->since > 0)
                log_warning("--since is ignored: without journald the log is the file %s/%s.log, whose "
                            "container lines carry no timestamps.",
                            dir, name);
        return show_file(dir, name, args);
}
