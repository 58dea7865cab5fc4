/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared helpers of the D-Bus verbs of `ctrmgr`: connecting, colours, pager, unit properties. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "common/common.h"

#define ANSI_RED       "\x1B[0;1;31m"
#define ANSI_GREEN     "\x1B[0;1;32m"
#define ANSI_YELLOW    "\x1B[0;1;33m"
#define ANSI_HIGHLIGHT "\x1B[0;1;39m"
#define ANSI_GREY      "\x1B[0;38;5;245m"
#define ANSI_NORMAL    "\x1B[0m"

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured); logs on failure. */
int cli_bus_open(sd_bus **ret);
/* Logs "Failed to VERB NAME: MESSAGE" from a bus error and returns the exit status 1. */
int cli_log_bus_error(const char *what, const char *name, const sd_bus_error *error, int r);

/* True when stdout is a terminal (checked before any pager takes it over) and NO_COLOR unset. */
bool cli_colors(void);
const char *cli_color(const char *ansi);
/* Starts $PAGER (default "less") behind stdout when it is a terminal and --no-pager is unset. */
void cli_pager_open(void);
void cli_pager_close(void);

/* The properties `status` and `list --output json` show. */
typedef struct UnitInfo {
        char *name, *description, *fragment_path, *load_state, *load_error, *active_state, *sub_state;
        char *result, *image, *image_digest, *scope, *control_group, *unit_file_state;
        char *health, *status_text, *notify;
        /* The latest health check: exit code (-1 timed out, -2 could not run) and output. */
        bool has_last_check;
        int32_t last_check_code;
        uint64_t last_check_end; /* CLOCK_MONOTONIC usec */
        char *last_check_output;
        char **dropin_paths;
        uint32_t main_pid, n_restarts;
        int32_t exec_main_code, exec_main_status;
        uint64_t active_enter, active_exit, inactive_enter, inactive_exit;
        uint64_t memory_current, cpu_usage_nsec, tasks_current;
        int need_daemon_reload;
} UnitInfo;

void unit_info_done(UnitInfo *i);
/* Resolves NAME with GetUnit and reads all properties. */
int unit_info_get(sd_bus *bus, const char *name, UnitInfo *ret, sd_bus_error *error);
/* The manager's string property (LogTarget, LogDirectory, StateDirectory, CgroupDriver). */
int manager_get_string(sd_bus *bus, const char *property, char **ret);

/* "Mon 2026-11-23 10:00:00 UTC" and "5min 3s ago". */
char *format_timestamp(char *buf, size_t len, uint64_t usec);
char *format_timestamp_relative(char *buf, size_t len, uint64_t usec);

/* Prints a unit's log: the journal (ctrmgrd's LogTarget "journal", or a directory of journal
 * files) or, without journald, the file LogDirectory/NAME.log. */
#define LOG_LINES_ALL (-1)
typedef struct LogArgs {
        int64_t lines; /* LOG_LINES_ALL: every entry; 0: none (with follow: only new ones) */
        bool follow;
        uint64_t since;        /* CLOCK_REALTIME usec, 0: none; the journal only */
        bool json;             /* one JSON object per journal entry */
        const char *directory; /* journal files to read instead of the local journal */
} LogArgs;
int show_unit_logs(sd_bus *bus, const char *name, const LogArgs *args);
