/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

static int max_level = LOG_LEVEL_INFO;
static const char *program_name;
static LogSink sink;
static void *sink_userdata;

void log_set_sink(LogSink s, void *userdata)
{
        sink = s;
        sink_userdata = userdata;
}

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_program_name(const char *name)
{
        program_name = name;
}

int log_internal(int level, int r, const char *fmt, ...)
{
        int ret = r;
        if (r == 0 && level <= LOG_LEVEL_ERR)
                ret = -EIO;
        if (level > max_level)
                return ret;

        /* "%m" shows strerror(-r), not whatever errno happens to hold. */
        int saved = errno;
        errno = r < 0 ? -r : r;
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        errno = saved;

        if (sink)
                sink(level, buf, sink_userdata);
        else if (program_name)
                fprintf(stderr, "%s: %s\n", program_name, buf);
        else
                fprintf(stderr, "%s\n", buf);
        return ret;
}
