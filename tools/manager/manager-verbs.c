/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctrmgr verbs talking to ctrmgrd over D-Bus: list, status, start, stop, restart, kill,
 * daemon-reload, logs. */
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>

#include "bus-util.h"
#include "verbs.h"

#define BUS_NAME   "org.ctrmgr1"
#define MANAGER    "/org/ctrmgr1"
#define MANAGER_IF "org.ctrmgr1.Manager"

static int simple_help(const char *verb, const char *args, const char *text)
{
        printf("Usage: ctrmgr %s%s%s\n\n%s\n", verb, isempty(args) ? "" : " ", strempty(args), text);
        return 0;
}

/* Parses only --help; returns -1 to continue, else the exit status. */
static int parse_help_only(int argc, char **argv, const char *args, const char *text)
{
        static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {}};
        int c;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                if (c == 'h')
                        return simple_help(argv[0], args, text);
                return EXIT_USAGE;
        }
        return -1;
}

static void json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)strempty(s); *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static const char *state_color(const char *active)
{
        if (streq_ptr(active, "active"))
                return cli_color(ANSI_GREEN);
        if (streq_ptr(active, "failed"))
                return cli_color(ANSI_RED);
        if (streq_ptr(active, "activating") || streq_ptr(active, "deactivating"))
                return cli_color(ANSI_HIGHLIGHT);
        return "";
}

static const char *state_dot(const char *active, const char *load)
{
        if (streq_ptr(load, "error") || streq_ptr(active, "failed"))
                return "×";
        if (streq_ptr(active, "inactive"))
                return "○";
        return "●";
}

/* ---------------------------------------------------------------- list */

static int verb_list(int argc, char **argv)
{
        sd_bus *bus = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, ret = 0;

        r = parse_help_only(argc, argv, "",
                            "List the units ctrmgrd knows: name (after a state dot), load state, active\n"
                            "and sub state, image, description. --no-legend leaves out the header and\n"
                            "the count; --output json prints an array of {unit, load, active, sub,\n"
                            "image, enabled, description}.");
        if (r >= 0)
                return r;
        if (cli_bus_open(&bus) < 0)
                return 1;
        r = sd_bus_call_method(bus, BUS_NAME, MANAGER, MANAGER_IF, "ListUnits", &error, &reply, NULL);
        if (r < 0) {
                ret = cli_log_bus_error("list units", NULL, &error, r);
                goto finish;
        }

        typedef struct {
                const char *name, *desc, *load, *active, *sub, *image, *enabled, *path;
        } Row;
        Row *rows = NULL;
        size_t n = 0;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssso)");
        while (r >= 0) {
                Row row;
                r = sd_bus_message_read(reply, "(ssssssso)", &row.name, &row.desc, &row.load, &row.active,
                                        &row.sub, &row.image, &row.enabled, &row.path);
                if (r <= 0)
                        break;
                Row *nr = realloc(rows, (n + 1) * sizeof(Row));
                if (!nr) {
                        r = -ENOMEM;
                        break;
                }
                rows = nr;
                rows[n++] = row;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to parse the unit list: %m");
                ret = 1;
                free(rows);
                goto finish;
        }

        if (arg_global.output == OUTPUT_JSON) {
                printf("[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"unit\":", i ? "," : "");
                        json_string(stdout, rows[i].name);
                        printf(",\"load\":");
                        json_string(stdout, rows[i].load);
                        printf(",\"active\":");
                        json_string(stdout, rows[i].active);
                        printf(",\"sub\":");
                        json_string(stdout, rows[i].sub);
                        printf(",\"image\":");
                        json_string(stdout, rows[i].image);
                        printf(",\"enabled\":%s,\"description\":",
                               streq(rows[i].enabled, "enabled") ? "true" : "false");
                        json_string(stdout, rows[i].desc);
                        printf("}");
                }
                printf("]\n");
                free(rows);
                goto finish;
        }

        int wn = 4, wl = 4, wa = 6, ws = 3, wi = 5;
        for (size_t i = 0; i < n; i++) {
                wn = MAX(wn, (int)strlen(rows[i].name));
                wl = MAX(wl, (int)strlen(rows[i].load));
                wa = MAX(wa, (int)strlen(rows[i].active));
                ws = MAX(ws, (int)strlen(rows[i].sub));
                wi = MAX(wi, (int)strlen(rows[i].image));
        }
        cli_pager_open();
        if (!arg_global.no_legend)
                printf("%s  %-*s %-*s %-*s %-*s %-*s %s%s\n", cli_color(ANSI_HIGHLIGHT), wn, "UNIT", wl,
                       "LOAD", wa, "ACTIVE", ws, "SUB", wi, "IMAGE", "DESCRIPTION", cli_color(ANSI_NORMAL));
        for (size_t i = 0; i < n; i++) {
                bool bad = streq(rows[i].load, "error") || streq(rows[i].active, "failed");
                printf("%s%s%s %-*s %s%-*s%s %s%-*s%s %-*s %-*s %s\n", state_color(rows[i].active),
                       state_dot(rows[i].active, rows[i].load), cli_color(ANSI_NORMAL), wn, rows[i].name,
                       streq(rows[i].load, "loaded") ? "" : cli_color(ANSI_RED), wl, rows[i].load,
                       cli_color(ANSI_NORMAL), bad ? cli_color(ANSI_RED) : state_color(rows[i].active), wa,
                       rows[i].active, cli_color(ANSI_NORMAL), ws, rows[i].sub, wi, rows[i].image,
                       rows[i].desc);
        }
        if (!arg_global.no_legend)
                printf("\n%zu units listed.\n", n);
        free(rows);
finish:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return ret;
}

/* ---------------------------------------------------------------- status */

static void print_cgroup_tree(const char *cg, const char *prefix, unsigned depth)
{
        _cleanup_free_ char *procs_path = path_join(cg, "cgroup.procs"), *data = NULL;
        _cleanup_strv_free_ char **children = NULL;

        if (!procs_path)
                return;
        if (depth < 8) {
                _cleanup_closedir_ DIR *d = opendir(cg);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (de->d_type == DT_DIR && de->d_name[0] != '.')
                                (void)strv_extend(&children, de->d_name);
                strv_sort(children);
        }
        (void)read_full_file_at(AT_FDCWD, procs_path, 1024 * 1024, &data, NULL);
        _cleanup_strv_free_ char **pids = data ? strv_split(data, "\n") : NULL;

        size_t np = strv_length(pids), nc = strv_length(children);
        for (size_t i = 0; i < np; i++) {
                bool last = i + 1 == np && nc == 0;
                char path[64];
                _cleanup_free_ char *cmd = NULL;
                snprintf(path, sizeof path, "/proc/%s/cmdline", pids[i]);
                size_t l = 0;
                if (read_full_file_at(AT_FDCWD, path, 4096, &cmd, &l) >= 0) {
                        for (size_t k = 0; k + 1 < l; k++)
                                if (cmd[k] == '\0')
                                        cmd[k] = ' ';
                }
                printf("%s%s%s%s%s %s\n", prefix, cli_color(ANSI_GREY), last ? "└─" : "├─", pids[i],
                       cli_color(ANSI_NORMAL), strempty(cmd));
        }
        for (size_t i = 0; i < nc; i++) {
                bool last = i + 1 == nc;
                _cleanup_free_ char *sub = path_join(cg, children[i]);
                _cleanup_free_ char *np2 = strjoin(prefix, last ? "  " : "│ ");
                printf("%s%s%s%s\n", prefix, cli_color(ANSI_GREY), last ? "└─" : "├─", children[i]);
                printf("%s", cli_color(ANSI_NORMAL));
                if (sub && np2)
                        print_cgroup_tree(sub, np2, depth + 1);
        }
}

static const char *cgroup_display(const char *cg)
{
        const char *p;
        if ((p = startswith(cg, "/sys/fs/cgroup/unified")) && *p == '/')
                return p;
        if ((p = startswith(cg, "/sys/fs/cgroup")) && *p == '/')
                return p;
        return cg;
}

static void print_status_json(const UnitInfo *i)
{
        printf("{\"unit\":");
        json_string(stdout, i->name);
        printf(",\"description\":");
        json_string(stdout, i->description);
        printf(",\"fragmentPath\":");
        json_string(stdout, i->fragment_path);
        printf(",\"dropInPaths\":[");
        size_t k = 0;
        STRV_FOREACH (d, i->dropin_paths) {
                printf("%s", k++ ? "," : "");
                json_string(stdout, *d);
        }
        printf("],\"loadState\":");
        json_string(stdout, i->load_state);
        printf(",\"loadError\":");
        json_string(stdout, i->load_error);
        printf(",\"enabled\":%s,\"activeState\":",
               streq_ptr(i->unit_file_state, "enabled") ? "true" : "false");
        json_string(stdout, i->active_state);
        printf(",\"subState\":");
        json_string(stdout, i->sub_state);
        printf(",\"result\":");
        json_string(stdout, i->result);
        printf(",\"image\":");
        json_string(stdout, i->image);
        printf(",\"imageDigest\":");
        json_string(stdout, i->image_digest);
        printf(",\"scope\":");
        json_string(stdout, i->scope);
        printf(",\"mainPID\":%" PRIu32 ",\"execMainCode\":%" PRIi32 ",\"execMainStatus\":%" PRIi32
               ",\"activeEnterTimestamp\":%" PRIu64 ",\"activeExitTimestamp\":%" PRIu64
               ",\"inactiveEnterTimestamp\":%" PRIu64 ",\"inactiveExitTimestamp\":%" PRIu64
               ",\"nRestarts\":%" PRIu32 ",\"needRestart\":%s",
               i->main_pid, i->exec_main_code, i->exec_main_status, i->active_enter, i->active_exit,
               i->inactive_enter, i->inactive_exit, i->n_restarts, i->need_daemon_reload ? "true" : "false");
        printf(",\"notify\":");
        json_string(stdout, i->notify);
        printf(",\"health\":");
        json_string(stdout, i->health);
        printf(",\"statusText\":");
        json_string(stdout, i->status_text);
        if (i->has_last_check) {
                printf(",\"lastHealthCheck\":{\"exitCode\":%" PRIi32 ",\"output\":", i->last_check_code);
                json_string(stdout, i->last_check_output);
                printf("}");
        }
        if (i->memory_current != UINT64_MAX)
                printf(",\"memoryCurrent\":%" PRIu64, i->memory_current);
        if (i->cpu_usage_nsec != UINT64_MAX)
                printf(",\"cpuUsageNSec\":%" PRIu64, i->cpu_usage_nsec);
        if (i->tasks_current != UINT64_MAX)
                printf(",\"tasksCurrent\":%" PRIu64, i->tasks_current);
        printf("}");
}

static void print_status(sd_bus *bus, const UnitInfo *i)
{
        char t1[64], t2[64];
        const char *active = strempty(i->active_state);
        bool running = i->main_pid > 0;

        printf("%s%s%s %s%s%s\n", state_color(active), state_dot(active, i->load_state),
               cli_color(ANSI_NORMAL), i->name, isempty(i->description) ? "" : " - ",
               strempty(i->description));

        if (streq_ptr(i->load_state, "loaded"))
                printf("     Loaded: loaded (%s; %s)\n", strna(i->fragment_path), strna(i->unit_file_state));
        else
                printf("     Loaded: %s%s%s%s%s%s\n", cli_color(ANSI_RED), strna(i->load_state),
                       cli_color(ANSI_NORMAL), i->fragment_path ? " (" : "", strempty(i->fragment_path),
                       i->fragment_path ? ")" : "");
        if (!strv_isempty(i->dropin_paths)) {
                /* Grouped by directory, like systemctl. */
                const char *last_dir = NULL;
                size_t last_len = 0;
                bool first = true;
                STRV_FOREACH (d, i->dropin_paths) {
                        const char *base = path_basename(*d);
                        size_t dl = (size_t)(base - *d);
                        if (!last_dir || dl != last_len || !strneq(last_dir, *d, dl)) {
                                printf("%s%.*s\n", first ? "    Drop-In: " : "             ",
                                       (int)(dl > 1 ? dl - 1 : dl), *d);
                                last_dir = *d;
                                last_len = dl;
                                first = false;
                        }
                        printf("             %s└─%s%s\n", cli_color(ANSI_GREY), cli_color(ANSI_NORMAL),
                               base);
                }
        }

        /* As systemctl: each state since its own transition. active_enter may be an earlier
         * run's while a start waits for readiness (Notify=true|healthy), so "activating" is
         * since the unit left inactive. */
        uint64_t since = streq(active, "active")                                ? i->active_enter
                         : streq(active, "activating")                          ? i->inactive_exit
                         : streq(active, "inactive") || streq(active, "failed") ? i->inactive_enter
                                                                                : i->active_exit;
        /* The sub-state in parentheses unless it says the same ("failed (failed)"). */
        printf("     Active: %s%s", state_color(active), active);
        if (!isempty(i->sub_state) && !streq(i->sub_state, active))
                printf(" (%s)", i->sub_state);
        printf("%s", cli_color(ANSI_NORMAL));
        /* As systemctl: why it failed, or why it is about to be restarted. */
        if ((streq(active, "failed") || streq_ptr(i->sub_state, "auto-restart")) && !isempty(i->result) &&
            !streq(i->result, "success"))
                printf(" (Result: %s)", i->result);
        if (since > 0)
                printf(" since %s; %s", format_timestamp(t1, sizeof t1, since),
                       format_timestamp_relative(t2, sizeof t2, since));
        printf("\n");

        if (running)
                printf("   Main PID: %" PRIu32 "\n", i->main_pid);
        else if (i->exec_main_code > 0) {
                /* CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3 */
                if (i->exec_main_code == 1)
                        printf("   Main PID: (code=exited, status=%" PRIi32 ")\n", i->exec_main_status);
                else
                        printf("   Main PID: (code=%s, signal=%s)\n",
                               i->exec_main_code == 3 ? "dumped" : "killed",
                               strna(signal_to_string(i->exec_main_status)));
        }
        if (!isempty(i->image)) {
                if (!isempty(i->image_digest))
                        printf("      Image: %s (%s)\n", i->image, i->image_digest);
                else
                        printf("      Image: %s\n", i->image);
        }
        if (i->n_restarts > 0)
                printf("   Restarts: %" PRIu32 "\n", i->n_restarts);
        if (running && !isempty(i->status_text))
                printf("     Status: \"%s\"\n", i->status_text);
        if (running && !isempty(i->health)) {
                const char *hc = streq(i->health, "healthy")     ? cli_color(ANSI_GREEN)
                                 : streq(i->health, "unhealthy") ? cli_color(ANSI_RED)
                                                                 : "";
                printf("     Health: %s%s%s", hc, i->health, cli_color(ANSI_NORMAL));
                if (i->has_last_check) {
                        /* The last check's verdict and the first line of what it said. */
                        size_t l = strcspn(strempty(i->last_check_output), "\n");
                        if (i->last_check_code == -1)
                                printf(" (last check timed out)");
                        else if (i->last_check_code == -2)
                                printf(" (last check could not run: %.*s)", (int)l,
                                       strempty(i->last_check_output));
                        else {
                                printf(" (last check: exit status %" PRIi32, i->last_check_code);
                                if (l > 0)
                                        printf(", \"%.*s\"", (int)MIN(l, (size_t)120), i->last_check_output);
                                printf(")");
                        }
                }
                printf("\n");
        }
        if (running) {
                char b[FORMAT_BYTES_MAX], s[FORMAT_TIMESPAN_MAX];
                if (i->tasks_current != UINT64_MAX)
                        printf("      Tasks: %" PRIu64 "\n", i->tasks_current);
                if (i->memory_current != UINT64_MAX)
                        printf("     Memory: %s\n", format_bytes(b, sizeof b, i->memory_current));
                if (i->cpu_usage_nsec != UINT64_MAX)
                        printf("        CPU: %s\n",
                               format_timespan(s, sizeof s,
                                               (i->cpu_usage_nsec / NSEC_PER_USEC) -
                                                       (i->cpu_usage_nsec / NSEC_PER_USEC) % USEC_PER_MSEC));
                printf("      Scope: %s\n", strna(i->scope));
                if (!isempty(i->control_group)) {
                        printf("     CGroup: %s\n", cgroup_display(i->control_group));
                        print_cgroup_tree(i->control_group, "             ", 0);
                }
        }
        if (i->need_daemon_reload)
                printf("%sWarning:%s The unit file changed on disk. Run 'ctrmgr restart %s' to apply it.\n",
                       cli_color(ANSI_YELLOW), cli_color(ANSI_NORMAL), i->name);
        if (!isempty(i->load_error)) {
                printf("\n");
                _cleanup_strv_free_ char **lines = strv_split(i->load_error, "\n");
                STRV_FOREACH (l, lines)
                        printf("%s%s%s\n", cli_color(ANSI_RED), *l, cli_color(ANSI_NORMAL));
        }

        printf("\n");
        fflush(stdout);
        LogArgs la = {.lines = 10};
        (void)show_unit_logs(bus, i->name, &la);
}

static int verb_status(int argc, char **argv)
{
        sd_bus *bus = NULL;
        int r, ret = 0;

        r = parse_help_only(argc, argv, "NAME…",
                            "Show the state of units like `systemctl status`: load state, drop-ins,\n"
                            "boot start, active state since when, main PID, image, restarts, the\n"
                            "container's STATUS= text, health, tasks, memory, CPU, processes and the\n"
                            "last 10 log lines. --output json prints an array of objects instead.\n\n"
                            "Exit status: 0 when every unit is active, 3 when one is not, 4 when one\n"
                            "does not exist, 1 on other errors.");
        if (r >= 0)
                return r;
        if (optind >= argc) {
                log_error("ctrmgr status: which unit? (ctrmgr status NAME…)");
                return EXIT_USAGE;
        }
        if (cli_bus_open(&bus) < 0)
                return 1;
        if (arg_global.output != OUTPUT_JSON)
                cli_pager_open();
        if (arg_global.output == OUTPUT_JSON)
                printf("[");
        bool first = true;
        for (int k = optind; k < argc; k++) {
                UnitInfo info = {};
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = unit_info_get(bus, argv[k], &info, &error);
                if (r < 0) {
                        /* systemctl: 4 for "no such unit", 3 when not active. */
                        ret = sd_bus_error_has_name(&error, "org.ctrmgr1.NoSuchUnit") ? 4 : 1;
                        if (ret == 4)
                                log_error("Unit %s could not be found.", argv[k]);
                        else
                                cli_log_bus_error("get status of", argv[k], &error, r);
                        sd_bus_error_free(&error);
                        continue;
                }
                if (arg_global.output == OUTPUT_JSON) {
                        if (!first)
                                printf(",");
                        print_status_json(&info);
                } else {
                        if (!first)
                                printf("\n");
                        print_status(bus, &info);
                }
                first = false;
                if (ret == 0 && !streq_ptr(info.active_state, "active"))
                        ret = 3;
                unit_info_done(&info);
        }
        if (arg_global.output == OUTPUT_JSON)
                printf("]\n");
        sd_bus_flush_close_unref(bus);
        return ret;
}

/* ---------------------------------------------------------------- start, stop, restart, kill, reload */

static int call_on_units(int argc, char **argv, const char *method, const char *what, const char *help)
{
        sd_bus *bus = NULL;
        int r, ret = 0;

        r = parse_help_only(argc, argv, "NAME…", help);
        if (r >= 0)
                return r;
        if (optind >= argc) {
                log_error("ctrmgr %s: which unit?", argv[0]);
                return EXIT_USAGE;
        }
        if (cli_bus_open(&bus) < 0)
                return 1;
        for (int k = optind; k < argc; k++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                /* Starting pulls and unpacks images: no bus timeout. */
                sd_bus_message *m = NULL, *reply = NULL;
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, MANAGER, MANAGER_IF, method);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", argv[k]);
                if (r >= 0)
                        r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, &reply);
                if (r < 0)
                        ret = cli_log_bus_error(what, argv[k], &error, r);
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
        }
        sd_bus_flush_close_unref(bus);
        return ret;
}

static int verb_start(int argc, char **argv)
{
        return call_on_units(argc, argv, "StartUnit", "start", "Start units; returns when they are active.");
}

static int verb_stop(int argc, char **argv)
{
        return call_on_units(
                argc, argv, "StopUnit", "stop",
                "Stop units: StopSignal, then SIGKILL after StopTimeout; returns when they are stopped.");
}

static int verb_restart(int argc, char **argv)
{
        return call_on_units(argc, argv, "RestartUnit", "restart", "Stop and start units again.");
}

static int verb_reload(int argc, char **argv)
{
        return call_on_units(argc, argv, "ReloadUnit", "reload",
                             "Reload units: send ReloadSignal= to the main process, or run ReloadCmd= in "
                             "the container and return when it has succeeded.");
}

static int verb_kill(int argc, char **argv)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"signal", required_argument, NULL, 's'},
                {},
        };
        int sig = SIGTERM, c, r, ret = 0;
        sd_bus *bus = NULL;

        while ((c = getopt_long(argc, argv, "+hs:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        return simple_help(argv[0], "[-s SIGNAL] NAME…",
                                           "Send a signal to the main process of units.\n\n"
                                           "  -s --signal=SIGNAL   SIGTERM (default), TERM, 15, …");
                case 's':
                        sig = signal_from_string(optarg);
                        if (sig <= 0) {
                                log_error("Unknown signal \"%s\".", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("ctrmgr kill: which unit?");
                return EXIT_USAGE;
        }
        if (cli_bus_open(&bus) < 0)
                return 1;
        for (int k = optind; k < argc; k++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, BUS_NAME, MANAGER, MANAGER_IF, "KillUnit", &error, NULL, "si",
                                       argv[k], (int32_t)sig);
                if (r < 0)
                        ret = cli_log_bus_error("kill", argv[k], &error, r);
                sd_bus_error_free(&error);
        }
        sd_bus_flush_close_unref(bus);
        return ret;
}

static int verb_reset_failed(int argc, char **argv)
{
        sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = parse_help_only(argc, argv, "[NAME…]",
                            "Reset the failed state of units (all of them without a name): failed "
                            "units become inactive, start limits and restart counters start over.");
        if (r >= 0)
                return r;
        if (optind < argc)
                return call_on_units(argc, argv, "ResetFailedUnit", "reset the failed state of", NULL);
        if (cli_bus_open(&bus) < 0)
                return 1;
        r = sd_bus_call_method(bus, BUS_NAME, MANAGER, MANAGER_IF, "ResetFailed", &error, NULL, NULL);
        int ret = r < 0 ? cli_log_bus_error("reset the failed state", NULL, &error, r) : 0;
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return ret;
}

static int verb_daemon_reload(int argc, char **argv)
{
        sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, ret = 0;

        r = parse_help_only(argc, argv, "",
                            "Reload all units: new ones appear, removed ones are stopped, changed "
                            "ones are applied at their next start.");
        if (r >= 0)
                return r;
        if (cli_bus_open(&bus) < 0)
                return 1;
        r = sd_bus_call_method(bus, BUS_NAME, MANAGER, MANAGER_IF, "Reload", &error, NULL, NULL);
        if (r < 0)
                ret = cli_log_bus_error("reload", NULL, &error, r);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return ret;
}

/* ---------------------------------------------------------------- logs */

static int parse_since(const char *s, uint64_t *ret)
{
        uint64_t span;
        struct tm tm = {};
        const char *rest;

        if (streq(s, "now")) {
                *ret = now_usec(CLOCK_REALTIME);
                return 0;
        }
        if (streq(s, "today") || streq(s, "yesterday")) {
                time_t t = time(NULL);
                localtime_r(&t, &tm);
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                if (streq(s, "yesterday"))
                        tm.tm_mday--;
                tm.tm_isdst = -1;
                *ret = (uint64_t)mktime(&tm) * USEC_PER_SEC;
                return 0;
        }
        /* "-5min" or "5min ago": relative to now. */
        _cleanup_free_ char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        char *ago = (char *)endswith(copy, " ago");
        if (ago)
                *ago = '\0';
        if ((copy[0] == '-' || ago) && parse_timespan(copy + (copy[0] == '-'), USEC_PER_SEC, &span) >= 0) {
                uint64_t now = now_usec(CLOCK_REALTIME);
                *ret = span > now ? 0 : now - span;
                return 0;
        }
        const char *formats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                                 "%Y-%m-%d",          "%H:%M:%S",       "%H:%M"};
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                memset(&tm, 0, sizeof tm);
                if (formats[i][0] == '%' && formats[i][1] == 'H') {
                        time_t t = time(NULL);
                        localtime_r(&t, &tm);
                        tm.tm_sec = 0;
                }
                rest = strptime(s, formats[i], &tm);
                if (rest && *rest == '\0') {
                        tm.tm_isdst = -1;
                        time_t t = mktime(&tm);
                        if (t < 0)
                                return -EINVAL;
                        *ret = (uint64_t)t * USEC_PER_SEC;
                        return 0;
                }
        }
        return -EINVAL;
}

static int parse_lines(const char *s, int64_t *ret)
{
        uint64_t n;

        if (streq(s, "all")) {
                *ret = LOG_LINES_ALL;
                return 0;
        }
        if (safe_atou64(s, &n) < 0 || n > INT64_MAX)
                return -EINVAL;
        *ret = (int64_t)n;
        return 0;
}

static int verb_logs(int argc, char **argv)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"follow", no_argument, NULL, 'f'},
                {"lines", required_argument, NULL, 'n'},
                {"since", required_argument, NULL, 'S'},
                {"directory", required_argument, NULL, 'D'},
                {},
        };
        LogArgs la = {.lines = LOG_LINES_ALL, .json = arg_global.output == OUTPUT_JSON};
        sd_bus *bus = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+hfn:S:D:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        return simple_help(
                                argv[0], "[-f] [-n N] [--since TIME] [-D DIR] NAME",
                                "Show the container's output and ctrmgrd's messages about the unit:\n"
                                "from the journal, as journalctl -u ctrmgr-NAME.scope shows them, when\n"
                                "ctrmgrd logs there; else from its log file LogDirectory/NAME.log\n"
                                "(/var/log/ctrmgr/NAME.log unless ctrmgrd has --log-dir).\n\n"
                                "  -f --follow          Keep printing new lines\n"
                                "  -n --lines=N         Only the last N lines (0: none, with -f only new "
                                "ones;\n"
                                "                       all: every line, the default)\n"
                                "     --since=TIME      Only entries from TIME on: \"2026-11-23 10:00\",\n"
                                "                       \"-5min\", \"1h ago\", \"today\"; with -n, the last "
                                "N "
                                "of them\n"
                                "  -D --directory=DIR   Read the journal files in DIR (as journalctl -D)\n\n"
                                "From the log file, -f and -n work and --since is ignored with a warning:\n"
                                "the container's lines there carry no timestamps. --output json prints one\n"
                                "object per journal entry; the log file is printed as it is.");
                case 'f':
                        la.follow = true;
                        break;
                case 'n':
                        if (parse_lines(optarg, &la.lines) < 0) {
                                log_error("--lines: \"%s\" is not a number or \"all\".", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'S':
                        if (parse_since(optarg, &la.since) < 0) {
                                log_error("--since: cannot parse \"%s\".", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'D':
                        la.directory = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("ctrmgr logs: exactly one unit name expected.");
                return EXIT_USAGE;
        }
        /* The bus only says where logs go; reading works without the daemon too. */
        if (!la.directory && sd_bus_open_system(&bus) < 0)
                bus = NULL;
        if (!la.follow && !la.json)
                cli_pager_open();
        r = show_unit_logs(bus, argv[optind], &la);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 1 : 0;
}

static const Verb manager_verbs[] = {
        {"list", "", "List units and their state", verb_list},
        {"status", "NAME…", "Show a unit's state, processes and recent log", verb_status},
        {"start", "NAME…", "Start units", verb_start},
        {"stop", "NAME…", "Stop units", verb_stop},
        {"restart", "NAME…", "Restart units", verb_restart},
        {"reload", "NAME…", "Reload units (ReloadSignal= or ReloadCmd=)", verb_reload},
        {"kill", "[--signal=SIG] NAME…", "Send a signal to a unit's main process", verb_kill},
        {"daemon-reload", "", "Reload unit files", verb_daemon_reload},
        {"reset-failed", "[NAME…]", "Reset the failed state of units", verb_reset_failed},
        {"logs", "[-f] [-n N] [--since TIME] [-D DIR] NAME", "Show a unit's log", verb_logs},
};
REGISTER_VERBS(manager_verbs);
