/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Health checks: the status machine (starting → healthy ⇄ unhealthy) with Docker's rules for the
 * start period and retries, scheduling, the log of the last results, and HealthOnFailure=.
 */
#include "manager/policy/policy.h"

static const char *const health_status_table[_HEALTH_STATUS_MAX] = {
        [HEALTH_NONE] = "",
        [HEALTH_STARTING] = "starting",
        [HEALTH_HEALTHY] = "healthy",
        [HEALTH_UNHEALTHY] = "unhealthy",
};

const char *health_status_to_string(HealthStatus s)
{
        return s >= 0 && s < _HEALTH_STATUS_MAX ? health_status_table[s] : NULL;
}

const char *health_action_to_string(HealthAction a)
{
        static const char *const table[] = {
                [HEALTH_ACTION_NONE] = "none",
                [HEALTH_ACTION_KILL] = "kill",
                [HEALTH_ACTION_RESTART] = "restart",
                [HEALTH_ACTION_STOP] = "stop",
        };
        return a >= 0 && (size_t)a < ELEMENTSOF(table) ? table[a] : NULL;
}

void health_config_from_unit(HealthConfig *c, const UnitConfig *uc)
{
        *c = (HealthConfig){
                .enabled = !strv_isempty(uc->health_cmd),
                .interval_usec = uc->health_interval_usec,
                .timeout_usec = uc->health_timeout_usec,
                .retries = uc->health_retries,
                .start_period_usec = uc->health_start_period_usec,
                .on_failure = uc->health_on_failure,
        };
}

static uint64_t add_usec(uint64_t a, uint64_t b)
{
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

void health_start(Health *h, const HealthConfig *c, uint64_t now)
{
        health_done(h);
        *h = (Health){
                .status = c->enabled ? HEALTH_STARTING : HEALTH_NONE,
                .started_at = now,
                .next_check =
                        c->enabled && c->interval_usec > 0 ? add_usec(now, c->interval_usec) : USEC_INFINITY,
        };
}

void health_done(Health *h)
{
        for (size_t i = 0; i < h->n_log; i++)
                h->log[i].output = mfree(h->log[i].output);
        h->n_log = 0;
}

uint64_t health_next_check(const Health *h)
{
        return h->check_running ? USEC_INFINITY : h->next_check;
}

int health_check_begin(Health *h, const HealthConfig *c, uint64_t now, uint64_t *ret_deadline)
{
        if (!c->enabled)
                return -EOPNOTSUPP;
        if (h->check_running)
                return -EBUSY;
        h->check_running = true;
        h->check_started = now;
        h->next_check = USEC_INFINITY;
        if (ret_deadline)
                *ret_deadline = c->timeout_usec > 0 ? add_usec(now, c->timeout_usec) : USEC_INFINITY;
        return 0;
}

static int health_log_append(Health *h, uint64_t start, uint64_t end, int exit_code, const char *output,
                             size_t len)
{
        char *text = strndup(output ?: "", MIN(len, (size_t)HEALTH_OUTPUT_MAX));
        if (!text)
                return -ENOMEM;
        if (h->n_log == HEALTH_LOG_MAX) {
                free(h->log[0].output);
                memmove(h->log, h->log + 1, (HEALTH_LOG_MAX - 1) * sizeof(HealthLogEntry));
                h->n_log--;
        }
        h->log[h->n_log++] =
                (HealthLogEntry){.start = start, .end = end, .exit_code = exit_code, .output = text};
        return 0;
}

int health_check_end(Health *h, const HealthConfig *c, uint64_t now, int exit_code, const char *output,
                     size_t len, bool *ret_changed, HealthAction *ret_action)
{
        if (!h->check_running)
                return -EINVAL;
        int r = health_log_append(h, h->check_started, now, exit_code, output, len);
        if (r < 0)
                return r;
        h->check_running = false;
        h->next_check = c->interval_usec > 0 ? add_usec(now, c->interval_usec) : USEC_INFINITY;

        HealthStatus old = h->status;
        if (exit_code == 0) {
                h->failing_streak = 0;
                h->passed_once = true;
                h->status = HEALTH_HEALTHY;
        } else {
                /* Docker: while no check has passed, failures of checks that began within the
                 * start period do not count */
                bool counts = !(h->status == HEALTH_STARTING &&
                                h->check_started - h->started_at < c->start_period_usec);
                if (counts) {
                        h->failing_streak++;
                        if (h->failing_streak >= MAX(c->retries, 1u))
                                h->status = HEALTH_UNHEALTHY;
                }
        }

        HealthAction action = HEALTH_ACTION_NONE;
        if (h->status == HEALTH_UNHEALTHY && old != HEALTH_UNHEALTHY)
                switch (c->on_failure) {
                case UNIT_HEALTH_ON_FAILURE_KILL:
                        action = HEALTH_ACTION_KILL;
                        break;
                case UNIT_HEALTH_ON_FAILURE_RESTART:
                        action = HEALTH_ACTION_RESTART;
                        break;
                case UNIT_HEALTH_ON_FAILURE_STOP:
                        action = HEALTH_ACTION_STOP;
                        break;
                default:
                        break;
                }
        if (ret_changed)
                *ret_changed = h->status != old;
        if (ret_action)
                *ret_action = action;
        return 0;
}
