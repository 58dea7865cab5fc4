/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restart policy: systemd's Restart= table, restart delay growth, the start rate limit, and
 * Docker's unless-stopped / on-failure:N on top.
 */
#include <limits.h>
#include <math.h>
#include <signal.h>

#include "manager/policy/policy.h"

static const char *const restart_policy_table[_RESTART_POLICY_MAX] = {
        [RESTART_POLICY_NO] = "no",
        [RESTART_POLICY_ON_SUCCESS] = "on-success",
        [RESTART_POLICY_ON_FAILURE] = "on-failure",
        [RESTART_POLICY_ON_ABNORMAL] = "on-abnormal",
        [RESTART_POLICY_ON_WATCHDOG] = "on-watchdog",
        [RESTART_POLICY_ON_ABORT] = "on-abort",
        [RESTART_POLICY_ALWAYS] = "always",
        [RESTART_POLICY_UNLESS_STOPPED] = "unless-stopped",
};

const char *restart_policy_to_string(RestartPolicy p)
{
        return p >= 0 && p < _RESTART_POLICY_MAX ? restart_policy_table[p] : NULL;
}

RestartPolicy restart_policy_from_string(const char *s)
{
        for (int i = 0; s && i < _RESTART_POLICY_MAX; i++)
                if (streq(s, restart_policy_table[i]))
                        return i;
        return _RESTART_POLICY_INVALID;
}

static const char *const policy_result_table[_POLICY_RESULT_MAX] = {
        [POLICY_RESULT_SUCCESS] = "success",   [POLICY_RESULT_EXIT_CODE] = "exit-code",
        [POLICY_RESULT_SIGNAL] = "signal",     [POLICY_RESULT_CORE_DUMP] = "core-dump",
        [POLICY_RESULT_TIMEOUT] = "timeout",   [POLICY_RESULT_WATCHDOG] = "watchdog",
        [POLICY_RESULT_OOM_KILL] = "oom-kill", [POLICY_RESULT_START_LIMIT_HIT] = "start-limit-hit",
};

const char *policy_result_to_string(PolicyResult r)
{
        return r >= 0 && r < _POLICY_RESULT_MAX ? policy_result_table[r] : NULL;
}

int exit_status_set_parse(ExitStatusSet *set, const char *value, Error *reterr)
{
        if (isempty(value)) {
                *set = (ExitStatusSet){};
                return 0;
        }
        _cleanup_strv_free_ char **words = strv_split(value, " \t\n");
        if (!words)
                return error_set(reterr, -ENOMEM, "parsing exit statuses");
        ExitStatusSet n = *set;
        STRV_FOREACH (w, words) {
                unsigned code;
                if (safe_atou(*w, &code) >= 0) {
                        if (code > 255)
                                return error_set_msg(reterr, -ERANGE, "Exit status %u out of range (0…255)",
                                                     code);
                        n.status[code / 8] |= 1u << (code % 8);
                        continue;
                }
                int sig = signal_from_string(*w);
                if (sig <= 0 || sig > 64) {
                        _cleanup_free_ char *esc = cescape(*w);
                        return error_set_msg(reterr, -EINVAL, "Invalid exit status or signal \"%s\"",
                                             strna(esc));
                }
                n.signals |= UINT64_C(1) << (sig - 1);
        }
        *set = n;
        return 0;
}

bool exit_status_set_test(const ExitStatusSet *set, ExitCause cause, int status)
{
        if (!set)
                return false;
        if (cause == EXIT_CAUSE_EXITED)
                return status >= 0 && status <= 255 && (set->status[status / 8] & (1u << (status % 8)));
        if (cause == EXIT_CAUSE_SIGNAL || cause == EXIT_CAUSE_CORE_DUMP)
                return status >= 1 && status <= 64 && (set->signals & (UINT64_C(1) << (status - 1)));
        return false;
}

PolicyResult exit_classify(const ExitInfo *e, const ExitStatusSet *success_status)
{
        switch (e->cause) {
        case EXIT_CAUSE_EXITED:
                if (e->status == 0 || exit_status_set_test(success_status, e->cause, e->status))
                        return POLICY_RESULT_SUCCESS;
                return POLICY_RESULT_EXIT_CODE;
        case EXIT_CAUSE_SIGNAL:
        case EXIT_CAUSE_CORE_DUMP:
                /* a daemon killed by these was asked to go away: clean */
                if ((e->status == SIGHUP || e->status == SIGINT || e->status == SIGTERM ||
                     e->status == SIGPIPE) ||
                    exit_status_set_test(success_status, e->cause, e->status))
                        return POLICY_RESULT_SUCCESS;
                return e->cause == EXIT_CAUSE_CORE_DUMP ? POLICY_RESULT_CORE_DUMP : POLICY_RESULT_SIGNAL;
        case EXIT_CAUSE_TIMEOUT:
                return POLICY_RESULT_TIMEOUT;
        case EXIT_CAUSE_WATCHDOG:
                return POLICY_RESULT_WATCHDOG;
        case EXIT_CAUSE_OOM_KILL:
                return POLICY_RESULT_OOM_KILL;
        default:
                return POLICY_RESULT_EXIT_CODE;
        }
}

void restart_config_init(RestartConfig *c)
{
        *c = (RestartConfig){
                .policy = RESTART_POLICY_NO,
                .restart_usec = 100 * USEC_PER_MSEC,
                .restart_max_delay_usec = USEC_INFINITY,
                .start_limit_interval_usec = 10 * USEC_PER_SEC,
                .start_limit_burst = 5,
        };
}

int restart_config_parse_restart(RestartConfig *c, const char *value, Error *reterr)
{
        const char *n = value ? startswith(value, "on-failure:") : NULL;
        if (n) {
                unsigned max;
                if (safe_atou(n, &max) < 0 || max > 1000000)
                        return error_set_msg(reterr, -EINVAL, "Invalid retry count in Restart=%s", value);
                c->policy = RESTART_POLICY_ON_FAILURE;
                c->max_retries = max;
                return 0;
        }
        RestartPolicy p = restart_policy_from_string(value);
        if (p < 0)
                return error_set_msg(
                        reterr, -EINVAL,
                        "Invalid Restart=%s (no, on-success, on-failure, on-abnormal, on-watchdog, "
                        "on-abort, always, unless-stopped, on-failure:N)",
                        strna(value));
        c->policy = p;
        c->max_retries = 0;
        return 0;
}

uint64_t restart_delay_usec(const RestartConfig *c, unsigned n)
{
        uint64_t r0 = c->restart_usec, rmax = c->restart_max_delay_usec;

        if (n <= 1 || c->restart_steps == 0 || r0 == 0 || rmax == USEC_INFINITY || r0 >= rmax)
                return r0;
        if (n > c->restart_steps)
                return rmax;
        /* r_n = r_0 × (r_max / r_0)^((n − 1) / steps): equal ratios between steps */
        long double v = (long double)r0 *
                        powl((long double)rmax / (long double)r0, (long double)(n - 1) / c->restart_steps);
        return (uint64_t)v;
}

int restart_check_start(const RestartConfig *c, RestartState *s, uint64_t now, bool automatic, Error *reterr)
{
        if (automatic)
                s->n_restarts++;
        else {
                s->n_restarts = 0;
                s->admin_stopped = false;
        }

        if (c->start_limit_interval_usec == 0 || c->start_limit_burst == 0) {
                s->start_limit_hit = false;
                return 0;
        }
        /* a window of StartLimitIntervalSec= opens at the first start; the starts in it are
         * counted; more than StartLimitBurst= are refused; a start after the window opens a new one */
        if (s->start_limit_num == 0 || now < s->start_limit_begin ||
            (c->start_limit_interval_usec != USEC_INFINITY &&
             now - s->start_limit_begin > c->start_limit_interval_usec)) {
                s->start_limit_begin = now;
                s->start_limit_num = 1;
                s->start_limit_hit = false;
                return 0;
        }
        if (s->start_limit_num < UINT_MAX)
                s->start_limit_num++;
        if (s->start_limit_num <= c->start_limit_burst) {
                s->start_limit_hit = false;
                return 0;
        }
        s->start_limit_hit = true;
        char buf[FORMAT_TIMESPAN_MAX];
        return error_set_msg(
                reterr, -ECANCELED, "Start request repeated too quickly (more than %u starts within %s).",
                c->start_limit_burst, format_timespan(buf, sizeof buf, c->start_limit_interval_usec));
}

static bool table_says_restart(RestartPolicy p, PolicyResult r)
{
        switch (p) {
        case RESTART_POLICY_NO:
                return false;
        case RESTART_POLICY_ALWAYS:
        case RESTART_POLICY_UNLESS_STOPPED:
                return true;
        case RESTART_POLICY_ON_SUCCESS:
                return r == POLICY_RESULT_SUCCESS;
        case RESTART_POLICY_ON_FAILURE:
                return r != POLICY_RESULT_SUCCESS;
        case RESTART_POLICY_ON_ABNORMAL:
                return r != POLICY_RESULT_SUCCESS && r != POLICY_RESULT_EXIT_CODE;
        case RESTART_POLICY_ON_WATCHDOG:
                return r == POLICY_RESULT_WATCHDOG;
        case RESTART_POLICY_ON_ABORT:
                return r == POLICY_RESULT_SIGNAL || r == POLICY_RESULT_CORE_DUMP;
        default:
                return false;
        }
}

int restart_on_exit(const RestartConfig *c, const RestartState *s, const ExitInfo *e, bool stop_requested,
                    RestartDecision *ret)
{
        if (e->cause < 0 || e->cause >= _EXIT_CAUSE_MAX || c->policy < 0 || c->policy >= _RESTART_POLICY_MAX)
                return -EINVAL;

        RestartDecision d = {.result = exit_classify(e, &c->success_status)};
        if (stop_requested) {
                d.reason = "manual stop";
                d.restart = false;
        } else if (exit_status_set_test(&c->prevent_status, e->cause, e->status)) {
                d.reason = "prevented by exit status";
                d.restart = false;
        } else if (exit_status_set_test(&c->force_status, e->cause, e->status)) {
                d.reason = "forced by exit status";
                d.restart = true;
        } else {
                d.reason = "restart setting";
                d.restart = table_says_restart(c->policy, d.result);
        }
        if (d.restart && c->max_retries > 0 && s->n_restarts >= c->max_retries) {
                d.reason = "retry limit reached";
                d.restart = false;
        }
        if (d.restart)
                d.delay_usec = restart_delay_usec(c, s->n_restarts + 1);
        *ret = d;
        return 0;
}

void restart_state_manual_stop(RestartState *s)
{
        s->admin_stopped = true;
}

void restart_state_reset_failed(RestartState *s)
{
        s->start_limit_hit = false;
        s->start_limit_num = 0;
        s->start_limit_begin = 0;
        s->n_restarts = 0;
}

bool restart_should_start_on_boot(const RestartConfig *c, const RestartState *s, bool enabled)
{
        if (c->policy == RESTART_POLICY_UNLESS_STOPPED && s->admin_stopped)
                return false;
        return enabled;
}

int restart_state_serialize(const RestartState *s, const char *boot_id, char **ret)
{
        char *t;
        if (!isempty(boot_id) && s->start_limit_num > 0)
                t = strprintf("admin-stopped=%s\nn-restarts=%u\nstart-limit-hit=%s\nboot-id=%s\n"
                              "start-limit-begin=%" PRIu64 "\nstart-limit-num=%u\n",
                              yes_no(s->admin_stopped), s->n_restarts, yes_no(s->start_limit_hit), boot_id,
                              s->start_limit_begin, s->start_limit_num);
        else
                t = strprintf("admin-stopped=%s\nn-restarts=%u\n", yes_no(s->admin_stopped), s->n_restarts);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int restart_state_deserialize(const char *text, const char *boot_id, RestartState *ret, Error *reterr)
{
        _cleanup_strv_free_ char **lines = strv_split(strempty(text), "\n");
        _cleanup_free_ char *saved_boot = NULL;
        RestartState s = RESTART_STATE_INIT, window = RESTART_STATE_INIT;
        bool hit = false;
        unsigned line = 0;
        int r;

        if (!lines)
                return error_set(reterr, -ENOMEM, "reading restart state");
        STRV_FOREACH (l, lines) {
                line++;
                char *eq = strchr(*l, '=');
                if (!eq)
                        return error_set_msg(reterr, -EINVAL, "restart state line %u: no '='", line);
                *eq = '\0';
                const char *k = *l, *v = eq + 1;
                if (streq(k, "admin-stopped") || streq(k, "start-limit-hit")) {
                        r = parse_boolean(v);
                        if (r < 0)
                                return error_set_msg(reterr, -EINVAL, "restart state line %u: bad %s=%s",
                                                     line, k, v);
                        if (streq(k, "admin-stopped"))
                                s.admin_stopped = r;
                        else
                                hit = r;
                } else if (streq(k, "n-restarts")) {
                        if (safe_atou(v, &s.n_restarts) < 0)
                                return error_set_msg(reterr, -EINVAL, "restart state line %u: bad %s=%s",
                                                     line, k, v);
                } else if (streq(k, "start-limit-begin")) {
                        if (safe_atou64(v, &window.start_limit_begin) < 0)
                                return error_set_msg(reterr, -EINVAL, "restart state line %u: bad %s=%s",
                                                     line, k, v);
                } else if (streq(k, "start-limit-num")) {
                        if (safe_atou(v, &window.start_limit_num) < 0)
                                return error_set_msg(reterr, -EINVAL, "restart state line %u: bad %s=%s",
                                                     line, k, v);
                } else if (streq(k, "boot-id")) {
                        if (free_and_strdup(&saved_boot, v) < 0)
                                return error_set(reterr, -ENOMEM, "reading restart state");
                }
                /* unknown keys: written by a newer version, ignored */
        }
        if (!isempty(boot_id) && saved_boot && streq(saved_boot, boot_id)) {
                s.start_limit_begin = window.start_limit_begin;
                s.start_limit_num = window.start_limit_num;
                s.start_limit_hit = hit;
        }
        *ret = s;
        return 0;
}
