/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void)close(fd);
                errno = saved;
        }
        return -EBADF;
}

_printf_(1, 0) static char *vformat(const char *fmt, va_list ap)
{
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

static int error_store(Error *e, int r, char *message)
{
        free(e->message);
        e->message = message;
        e->code = r;
        return r;
}

int error_set(Error *e, int r, const char *fmt, ...)
{
        if (!e)
                return r;

        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *head = vformat(fmt, ap);
        va_end(ap);

        char *m = NULL;
        if (head) {
                if (r < 0)
                        m = strjoin(head, ": ", strerror(-r));
                else
                        m = TAKE_PTR(head);
        }
        return error_store(e, r, m);
}

int error_set_msg(Error *e, int r, const char *fmt, ...)
{
        if (!e)
                return r;

        va_list ap;
        va_start(ap, fmt);
        char *m = vformat(fmt, ap);
        va_end(ap);
        return error_store(e, r, m);
}

int error_prefix(Error *e, int r, const char *fmt, ...)
{
        if (!e)
                return r;

        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *head = vformat(fmt, ap);
        va_end(ap);

        const char *tail = e->message ?: (r < 0 ? strerror(-r) : NULL);
        char *m = head ? (tail ? strjoin(head, ": ", tail) : TAKE_PTR(head)) : NULL;
        if (!m) { /* Out of memory: keep the inner message rather than lose it. */
                if (e->code == 0)
                        e->code = r;
                return r;
        }
        free(e->message);
        e->message = m;
        if (e->code == 0)
                e->code = r;
        return r;
}

void error_done(Error *e)
{
        if (!e)
                return;
        e->message = mfree(e->message);
        e->code = 0;
}

bool error_isset(const Error *e)
{
        return e && (e->message || e->code != 0);
}

const char *error_message(const Error *e)
{
        if (e && e->message)
                return e->message;
        if (e && e->code < 0)
                return strerror(-e->code);
        return "unknown error";
}

void error_move(Error *dst, Error *src)
{
        if (!dst) {
                error_done(src);
                return;
        }
        free(dst->message);
        dst->message = TAKE_PTR(src->message);
        dst->code = src->code;
        src->code = 0;
}
