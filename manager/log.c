/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's log sink (journald when present, else stderr) and the per-unit log files used
 * when there is no journald. */
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "manager/manager.h"

static void journal_sink(int level, const char *message, void *userdata)
{
        sd_journal_send("MESSAGE=%s", message, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=ctrmgrd", NULL);
}

static void stderr_sink(int level, const char *message, void *userdata)
{
        static const char *const prefix[] = {"<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>"};
        /* Under systemd without a journal socket stderr may still go to a log: keep the level. */
        fprintf(stderr, "%sctrmgrd: %s\n",
                getenv("JOURNAL_STREAM") && level >= 0 && level < 8 ? prefix[level] : "", message);
}

void manager_log_setup(bool journal)
{
        log_set_program_name("ctrmgrd");
        log_set_sink(journal ? journal_sink : stderr_sink, NULL);
}

int service_open_log_file(const Service *s)
{
        const char *dir = s->manager->config.log_dir;
        _cleanup_free_ char *name = strjoin(s->name, ".log");
        int r;

        if (!name)
                return -ENOMEM;
        r = mkdir_p(dir, 0750);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        return fd < 0 ? -errno : fd;
}
