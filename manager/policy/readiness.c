/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readiness: sd_notify datagrams, Notify=false|true|healthy, TimeoutStartSec= and the watchdog.
 */
#include "manager/policy/policy.h"

static const char *const ready_state_table[_READY_STATE_MAX] = {
        [READY_WAITING] = "waiting",
        [READY_READY] = "ready",
        [READY_TIMEOUT] = "timeout",
        [READY_WATCHDOG] = "watchdog",
};

const char *ready_state_to_string(ReadyState s)
{
        return s >= 0 && s < _READY_STATE_MAX ? ready_state_table[s] : NULL;
}

void notify_message_done(NotifyMessage *m)
{
        m->status = mfree(m->status);
}

/* systemd's sd_notify values are decimal; a value we cannot use is ignored like an unknown key */
static bool parse_usec(const char *v, uint64_t *ret)
{
        uint64_t u;
        if (safe_atou64(v, &u) < 0 || u == 0 || u == USEC_INFINITY)
                return false;
        *ret = u;
        return true;
}

int notify_message_parse(const char *buf, size_t len, NotifyMessage *ret)
{
        if (!buf || len == 0 || len > NOTIFY_MESSAGE_MAX || memchr(buf, 0, len))
                return -EBADMSG;

        _cleanup_free_ char *copy = strndup(buf, len);
        if (!copy)
                return -ENOMEM;
        NotifyMessage m = {};
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *v;
                if ((v = startswith(line, "READY=")))
                        m.ready = m.ready || streq(v, "1");
                else if ((v = startswith(line, "STOPPING=")))
                        m.stopping = m.stopping || streq(v, "1");
                else if ((v = startswith(line, "RELOADING=")))
                        m.reloading = m.reloading || streq(v, "1");
                else if ((v = startswith(line, "WATCHDOG="))) {
                        if (streq(v, "1"))
                                m.watchdog_ping = true;
                        else if (streq(v, "trigger"))
                                m.watchdog_trigger = true;
                } else if ((v = startswith(line, "STATUS="))) {
                        size_t n = strnlen(v, NOTIFY_STATUS_MAX);
                        char *s = strndup(v, n);
                        if (!s) {
                                notify_message_done(&m);
                                return -ENOMEM;
                        }
                        /* the text is shown to people: no control characters */
                        for (char *p = s; *p; p++)
                                if ((unsigned char)*p < ' ' || *p == 0x7f)
                                        *p = ' ';
                        free(m.status);
                        m.status = s;
                } else if ((v = startswith(line, "WATCHDOG_USEC=")))
                        (void)parse_usec(v, &m.watchdog_usec);
                else if ((v = startswith(line, "EXTEND_TIMEOUT_USEC=")))
                        (void)parse_usec(v, &m.extend_timeout_usec);
                else if ((v = startswith(line, "ERRNO="))) {
                        int e;
                        if (safe_atoi(v, &e) >= 0 && e >= 0)
                                m.errno_value = e;
                } else if ((v = startswith(line, "MAINPID="))) {
                        int pid;
                        if (safe_atoi(v, &pid) >= 0 && pid > 0)
                                m.main_pid = pid;
                }
                /* anything else: ignored, as systemd does */
        }
        *ret = m;
        return 0;
}

static uint64_t add_usec(uint64_t a, uint64_t b)
{
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

void readiness_start(Readiness *r, UnitNotify mode, uint64_t timeout_start_usec, uint64_t now)
{
        readiness_done(r);
        *r = (Readiness){
                .mode = mode,
                .state = mode == UNIT_NOTIFY_FALSE ? READY_READY : READY_WAITING,
                .timeout_start_usec = timeout_start_usec == 0 ? USEC_INFINITY : timeout_start_usec,
                .start_deadline = USEC_INFINITY,
                .watchdog_deadline = USEC_INFINITY,
        };
        if (r->state == READY_WAITING && r->timeout_start_usec != USEC_INFINITY)
                r->start_deadline = add_usec(now, r->timeout_start_usec);
}

void readiness_done(Readiness *r)
{
        r->status = mfree(r->status);
}

static int become_ready(Readiness *r)
{
        if (r->state != READY_WAITING)
                return 0;
        r->state = READY_READY;
        r->start_deadline = USEC_INFINITY;
        return READY_EVENT_READY;
}

static int expire(Readiness *r, ReadyState why)
{
        if (r->state == READY_TIMEOUT || r->state == READY_WATCHDOG)
                return 0;
        r->state = why;
        r->start_deadline = r->watchdog_deadline = USEC_INFINITY;
        return READY_EVENT_EXPIRED;
}

int readiness_on_notify(Readiness *r, const NotifyMessage *m, uint64_t now)
{
        int ev = 0;

        if (r->state == READY_TIMEOUT || r->state == READY_WATCHDOG)
                return 0; /* it is being killed; late messages change nothing */

        if (m->status && !streq_ptr(m->status, r->status)) {
                char *s = strdup(m->status);
                if (!s)
                        return -ENOMEM;
                free(r->status);
                r->status = s;
                ev |= READY_EVENT_STATUS;
        }
        if (m->errno_value > 0)
                r->errno_value = m->errno_value;
        if (m->stopping)
                r->stopping = true;
        /* systemd: EXTEND_TIMEOUT_USEC= sets the deadline to now + value if that is later */
        if (m->extend_timeout_usec > 0 && r->state == READY_WAITING && r->start_deadline != USEC_INFINITY)
                r->start_deadline = MAX(r->start_deadline, add_usec(now, m->extend_timeout_usec));
        if (m->watchdog_usec > 0) {
                r->watchdog_usec = m->watchdog_usec;
                r->watchdog_deadline = add_usec(now, r->watchdog_usec);
        }
        if (m->watchdog_ping && r->watchdog_usec > 0)
                r->watchdog_deadline = add_usec(now, r->watchdog_usec);
        if (m->ready && r->mode == UNIT_NOTIFY_TRUE)
                ev |= become_ready(r);
        if (m->watchdog_trigger)
                ev |= expire(r, READY_WATCHDOG);
        return ev;
}

int readiness_on_health(Readiness *r, HealthStatus health, uint64_t now)
{
        if (r->mode == UNIT_NOTIFY_HEALTHY && health == HEALTH_HEALTHY)
                return become_ready(r);
        return 0;
}

uint64_t readiness_next_deadline(const Readiness *r)
{
        if (r->state == READY_TIMEOUT || r->state == READY_WATCHDOG)
                return USEC_INFINITY;
        return MIN(r->start_deadline, r->watchdog_deadline);
}

int readiness_on_time(Readiness *r, uint64_t now)
{
        if (r->state == READY_WAITING && r->start_deadline != USEC_INFINITY && now >= r->start_deadline)
                return expire(r, READY_TIMEOUT);
        if ((r->state == READY_WAITING || r->state == READY_READY) &&
            r->watchdog_deadline != USEC_INFINITY && now >= r->watchdog_deadline)
                return expire(r, READY_WATCHDOG);
        return 0;
}
