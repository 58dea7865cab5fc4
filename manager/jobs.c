/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The job engine: start and stop requests (boot, StartUnit, StopUnit, a unit bound to one that
 * went down) become transactions of manager/policy's dependency graph, which pulls in
 * Requires=/Wants=/BindsTo=/Conflicts= and orders the jobs by After=/Before=. This file runs
 * them: a job whose predecessors are over is handed to the Service, and every state change of a
 * Service (service_set_state()) comes back here to finish the jobs it settles. Jobs that nothing
 * orders run in the same pass, so independent containers start back to back without waiting
 * for each other.
 */
#include <systemd/sd-daemon.h>

#include "manager/manager.h"
#include "manager/policy/policy.h"
#include "units/unit.h"

/* A job of a systemd unit (After=postgresql.service, Requires=foo.service) that waits for
 * systemd's job to end: its object path, from StartUnit/StopUnit or the unit's Job property. */
typedef struct ExternalWait {
        size_t index; /* in the transaction */
        char *job_path;
} ExternalWait;

struct ManagerJob {
        DepTransaction *t;
        ExternalWait *waits;
        size_t n_waits;
        bool start;
        sd_bus_message *reply_to; /* the D-Bus call to answer when the anchor jobs are over */
        char *reply_path;         /* its return value: the named unit's object path */
        bool notify_ready;        /* the boot transaction: READY=1 when it is over */
        Error error;              /* why the first anchor job failed */
        bool *reported;           /* per job: its dependency failure was logged */
};

static ManagerJob *manager_job_free(ManagerJob *j)
{
        if (!j)
                return NULL;
        dep_transaction_free(j->t);
        sd_bus_message_unref(j->reply_to);
        free(j->reply_path);
        error_done(&j->error);
        free(j->reported);
        for (size_t i = 0; i < j->n_waits; i++)
                free(j->waits[i].job_path);
        free(j->waits);
        free(j);
        return NULL;
}

void manager_jobs_free(Manager *m)
{
        for (size_t i = 0; i < m->n_jobs; i++)
                manager_job_free(m->jobs[i]);
        m->jobs = mfree(m->jobs);
        m->n_jobs = 0;
}

int manager_rebuild_graph(Manager *m, const UnitSet *set)
{
        _cleanup_error_ Error e = ERROR_INIT;
        DepGraph *g = NULL;
        char **cycle = NULL;
        int r;

        r = dep_graph_new_from_unit_set(set, &g, &e);
        if (r < 0) {
                log_error("Dependencies: %s", error_message(&e));
                return r;
        }
        for (char *const *w = dep_graph_warnings(g); w && *w; w++)
                log_warning("%s", *w);
        if (dep_graph_find_ordering_cycle(g, &cycle) == 1) {
                _cleanup_free_ char *text = strv_join(cycle, " -> ");
                log_warning("Ordering cycle found at load: %s; a start that needs all of these units "
                            "fails, units only wanted are left out to break it.",
                            strna(text));
                strv_free(cycle);
        }
        dep_graph_free(m->graph);
        m->graph = g;
        return 0;
}

static bool service_is_down(const Service *s)
{
        return s->active_state == ACTIVE_STATE_INACTIVE || s->active_state == ACTIVE_STATE_FAILED;
}

/* A running job's result from its unit's state, DEP_JOB_RESULT_NONE while it is under way. */
static DepJobResult job_poll(Manager *m, const DepJob *job)
{
        if (job->external)
                return DEP_JOB_RESULT_NONE; /* finished when run, or by on_job_removed() */
        Service *s = manager_find_service(m, job->unit);
        if (!s)
                return DEP_JOB_RESULT_FAILED;
        if (job->type == DEP_JOB_STOP)
                return service_is_down(s) ? DEP_JOB_RESULT_DONE : DEP_JOB_RESULT_NONE;
        switch (s->active_state) {
        case ACTIVE_STATE_ACTIVE:
                return DEP_JOB_RESULT_DONE;
        case ACTIVE_STATE_FAILED:
                return DEP_JOB_RESULT_FAILED;
        case ACTIVE_STATE_INACTIVE:
                /* Between the stop and the start of a restart the unit passes through inactive. */
                return s->restart_after_stop ? DEP_JOB_RESULT_NONE : DEP_JOB_RESULT_FAILED;
        default:
                return DEP_JOB_RESULT_NONE;
        }
}

static void job_record_error(ManagerJob *j, const DepJob *job, const Error *e, const char *fallback)
{
        if (!job->anchor || error_isset(&j->error))
                return;
        if (e && error_isset(e))
                error_set_msg(&j->error, e->code ?: -EIO, "%s", error_message(e));
        else
                error_set_msg(&j->error, -EIO, "%s", fallback);
}

static void job_finish(Manager *m, ManagerJob *j, size_t k, DepJobResult result);

/* systemd's JobRemoved(u id, o job, s unit, s result): a job of a systemd unit that a transaction
 * waits for is over. A start that ended other than "done" fails what needs it; an ordering-only
 * wait is over whatever the result, as in systemd. */
static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(msg, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        for (size_t i = 0; i < m->n_jobs; i++) {
                ManagerJob *j = m->jobs[i];
                for (size_t w = 0; w < j->n_waits; w++) {
                        if (!streq(j->waits[w].job_path, path))
                                continue;
                        size_t k = j->waits[w].index;
                        DepJob *job = &j->t->jobs[k];
                        free(j->waits[w].job_path);
                        j->waits[w] = j->waits[--j->n_waits];
                        DepJobResult res = job->type == DEP_JOB_WAIT || streq(result, "done")
                                                   ? DEP_JOB_RESULT_DONE
                                           : streq(result, "timeout") ? DEP_JOB_RESULT_TIMEOUT
                                                                      : DEP_JOB_RESULT_FAILED;
                        if (res == DEP_JOB_RESULT_DONE)
                                log_debug("systemd's job for %s is over (%s).", unit, result);
                        else
                                log_warning("systemd's %s job for %s ended with result \"%s\".",
                                            dep_job_type_to_string(job->type), unit, result);
                        job_finish(m, j, k, res);
                        manager_dispatch_jobs(m);
                        return 0;
                }
        }
        return 0;
}

/* Signals of systemd's jobs reach the daemon from its first external job on. */
static int systemd_subscribe(Manager *m)
{
        int r;

        if (m->systemd_subscribed)
                return 0;
        r = sd_bus_match_signal(m->bus, &m->job_removed_slot, "org.freedesktop.systemd1",
                                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "JobRemoved", on_job_removed, m);
        if (r < 0)
                return r;
        r = sd_bus_call_method(m->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0) {
                m->job_removed_slot = sd_bus_slot_unref(m->job_removed_slot);
                return r;
        }
        m->systemd_subscribed = true;
        return 0;
}

static int job_add_wait(ManagerJob *j, const DepJob *job, const char *job_path)
{
        ExternalWait *l = realloc(j->waits, (j->n_waits + 1) * sizeof(ExternalWait));
        if (!l)
                return -ENOMEM;
        j->waits = l;
        l[j->n_waits] = (ExternalWait){.index = (size_t)(job - j->t->jobs), .job_path = strdup(job_path)};
        if (!l[j->n_waits].job_path)
                return -ENOMEM;
        j->n_waits++;
        return 0;
}

/* An ordering-only dependency on a systemd unit: if the unit has a job queued, wait for it. */
static DepJobResult job_wait_external(Manager *m, ManagerJob *j, const DepJob *job)
{
        _cleanup_free_ char *unit_path = NULL;
        sd_bus_message *reply = NULL;
        const char *job_path = NULL;
        uint32_t id = 0;
        int r;

        if (!m->use_systemd || !m->bus || systemd_subscribe(m) < 0)
                return DEP_JOB_RESULT_DONE;
        r = sd_bus_call_method(m->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", NULL, &reply, "s", job->unit);
        if (r >= 0) {
                const char *p;
                if (sd_bus_message_read(reply, "o", &p) >= 0)
                        unit_path = strdup(p);
        }
        reply = sd_bus_message_unref(reply);
        if (!unit_path)
                return DEP_JOB_RESULT_DONE; /* not loaded: nothing to wait for */
        r = sd_bus_get_property(m->bus, "org.freedesktop.systemd1", unit_path,
                                "org.freedesktop.systemd1.Unit", "Job", NULL, &reply, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(reply, "(uo)", &id, &job_path);
        if (r >= 0 && id != 0 && job_add_wait(j, job, job_path) >= 0) {
                log_info("Waiting for systemd's job for %s (After=%s).", job->unit, job->unit);
                sd_bus_message_unref(reply);
                return DEP_JOB_RESULT_NONE;
        }
        sd_bus_message_unref(reply);
        return DEP_JOB_RESULT_DONE;
}

/* An external (systemd) unit: ask systemd, and follow its job to its end (JobRemoved). */
static DepJobResult job_run_external(Manager *m, ManagerJob *j, const DepJob *job)
{
        _cleanup_error_ Error e = ERROR_INIT;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *job_path;
        int r;

        if (job->type == DEP_JOB_WAIT)
                return job_wait_external(m, j, job);
        if (!m->use_systemd || !m->bus) {
                if (job->type == DEP_JOB_STOP)
                        return DEP_JOB_RESULT_DONE;
                log_warning("Cannot start %s: systemd is not running.", job->unit);
                error_set_msg(&e, -EHOSTDOWN, "%s cannot be started: systemd is not running", job->unit);
                job_record_error(j, job, &e, NULL);
                return DEP_JOB_RESULT_FAILED;
        }
        (void)systemd_subscribe(m); /* before the call: its JobRemoved may come at once */
        r = sd_bus_call_method(m->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager",
                               job->type == DEP_JOB_START ? "StartUnit" : "StopUnit", &error, &reply, "ss",
                               job->unit, "replace");
        if (r < 0) {
                log_warning("systemd refused to %s %s: %s", dep_job_type_to_string(job->type), job->unit,
                            error.message ?: strerror(-r));
                error_set_msg(&e, r, "systemd refused to %s %s: %s", dep_job_type_to_string(job->type),
                              job->unit, error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                job_record_error(j, job, &e, NULL);
                return DEP_JOB_RESULT_FAILED;
        }
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r >= 0 && m->systemd_subscribed && job_add_wait(j, job, job_path) >= 0) {
                sd_bus_message_unref(reply);
                return DEP_JOB_RESULT_NONE; /* on_job_removed() finishes it */
        }
        /* Without the signal the job counts as done once systemd took it. */
        sd_bus_message_unref(reply);
        return DEP_JOB_RESULT_DONE;
}

/* Hands a job to its unit. Returns its result if it is over already. */
static DepJobResult job_run(Manager *m, ManagerJob *j, const DepJob *job)
{
        _cleanup_error_ Error e = ERROR_INIT;
        int r;

        if (job->external)
                return job_run_external(m, j, job);

        Service *s = manager_find_service(m, job->unit);
        if (!s) {
                error_set_msg(&e, -ENOENT, "Unit %s not loaded.", job->unit);
                job_record_error(j, job, &e, NULL);
                return DEP_JOB_RESULT_FAILED;
        }
        if (job->type == DEP_JOB_STOP) {
                if (service_is_down(s))
                        return DEP_JOB_RESULT_DONE;
                r = service_stop(s, &e);
        } else {
                if (s->active_state == ACTIVE_STATE_ACTIVE)
                        return DEP_JOB_RESULT_DONE;
                r = service_start(s, &e);
        }
        if (r < 0) {
                job_record_error(j, job, &e, NULL);
                return DEP_JOB_RESULT_FAILED;
        }
        return job_poll(m, job);
}

static void job_finish(Manager *m, ManagerJob *j, size_t k, DepJobResult result)
{
        DepJob *job = &j->t->jobs[k];

        if (result != DEP_JOB_RESULT_DONE) {
                _cleanup_free_ char *msg = strjoin("Job ", dep_job_type_to_string(job->type), " for ",
                                                   job->unit, " ", dep_job_result_to_string(result));
                job_record_error(j, job, NULL, msg ?: "job failed");
        }
        int n = dep_transaction_finish(j->t, k, result);
        if (n <= 0)
                return;
        /* Start jobs that can no longer run because something they require failed. */
        for (size_t i = 0; i < j->t->n_jobs; i++) {
                DepJob *d = &j->t->jobs[i];
                if (d->result != DEP_JOB_RESULT_DEPENDENCY || j->reported[i])
                        continue;
                j->reported[i] = true;
                Service *s = manager_find_service(m, d->unit);
                if (s)
                        log_service_warning(s, "Dependency failed for %s: %s could not be started.", d->unit,
                                            job->unit);
                else
                        log_warning("Dependency failed for %s: %s could not be started.", d->unit,
                                    job->unit);
                if (d->anchor && !error_isset(&j->error))
                        error_set_msg(&j->error, -ENOLINK,
                                      "Dependency failed for %s: %s could not be started", d->unit,
                                      job->unit);
        }
}

static void manager_job_complete(Manager *m, ManagerJob *j)
{
        if (j->reply_to) {
                if (error_isset(&j->error))
                        (void)sd_bus_reply_method_errorf(j->reply_to, "org.ctrmgr1.UnitFailed", "%s",
                                                         error_message(&j->error));
                else
                        (void)sd_bus_reply_method_return(j->reply_to, "o", j->reply_path ?: "/");
        }
        if (j->notify_ready)
                (void)sd_notifyf(false, "READY=1\nSTATUS=%zu units loaded", m->n_services);
}

void manager_dispatch_jobs(Manager *m)
{
        if (m->dispatching) {
                /* A state change while a job is being handed out: run the loop once more. */
                m->dispatch_again = true;
                return;
        }
        m->dispatching = true;
        do {
                m->dispatch_again = false;
                for (size_t i = 0; i < m->n_jobs; i++) {
                        ManagerJob *j = m->jobs[i];
                        DepTransaction *t = j->t;
                        size_t k;

                        for (k = 0; k < t->n_jobs; k++)
                                if (t->jobs[k].state == DEP_JOB_RUNNING) {
                                        DepJobResult res = job_poll(m, &t->jobs[k]);
                                        if (res != DEP_JOB_RESULT_NONE)
                                                job_finish(m, j, k, res);
                                }
                        while (dep_transaction_next(t, &k) > 0) {
                                DepJobResult res = job_run(m, j, &t->jobs[k]);
                                if (res != DEP_JOB_RESULT_NONE)
                                        job_finish(m, j, k, res);
                        }
                }
                /* Complete finished transactions; completing may queue new ones. */
                for (size_t i = 0; i < m->n_jobs;) {
                        ManagerJob *j = m->jobs[i];
                        if (!dep_transaction_is_done(j->t)) {
                                i++;
                                continue;
                        }
                        memmove(m->jobs + i, m->jobs + i + 1, (m->n_jobs - i - 1) * sizeof(ManagerJob *));
                        m->n_jobs--;
                        manager_job_complete(m, j);
                        manager_job_free(j);
                        m->dispatch_again = true;
                }
        } while (m->dispatch_again);
        m->dispatching = false;
        if (m->exit_when_idle && m->n_jobs == 0) {
                log_info("All units stopped; exiting.");
                m->exiting = true;
                (void)sd_event_exit(m->event, 0);
        }
}

int manager_enqueue(Manager *m, bool start, char *const *names, sd_bus_message *reply_to,
                    const char *reply_path, bool notify_ready, Error *reterr)
{
        _cleanup_free_ ManagerJob *j = calloc(1, sizeof(ManagerJob));
        int r;

        if (!j)
                return -ENOMEM;
        if (!m->graph)
                return error_set_msg(reterr, -EAGAIN, "no dependency graph (the units did not load)");
        if (reply_path && !(j->reply_path = strdup(reply_path)))
                return -ENOMEM;
        r = start ? dep_transaction_start(m->graph, names, &j->t, reterr)
                  : dep_transaction_stop(m->graph, names, &j->t, reterr);
        if (r < 0) {
                free(j->reply_path);
                return r;
        }
        j->reported = calloc(j->t->n_jobs + 1, sizeof(bool));
        if (!j->reported) {
                manager_job_free(TAKE_PTR(j));
                return -ENOMEM;
        }
        STRV_FOREACH (n, j->t->notes)
                log_notice("%s", *n);
        if (j->t->n_jobs > 1 || j->t->n_layers > 1) {
                _cleanup_free_ char *what = strv_join((char **)names, " ");
                log_debug("%s %s: %zu jobs in %u waves.", start ? "Starting" : "Stopping", strna(what),
                          j->t->n_jobs, j->t->n_layers);
        }

        ManagerJob **l = realloc(m->jobs, (m->n_jobs + 1) * sizeof(ManagerJob *));
        if (!l) {
                manager_job_free(TAKE_PTR(j));
                return -ENOMEM;
        }
        m->jobs = l;
        j->start = start;
        j->reply_to = sd_bus_message_ref(reply_to);
        j->notify_ready = notify_ready;
        m->jobs[m->n_jobs++] = TAKE_PTR(j);
        manager_dispatch_jobs(m);
        return 0;
}

void manager_on_unit_down(Manager *m, Service *s)
{
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_error_ Error e = ERROR_INIT;

        if (!m->graph || m->exiting)
                return;
        /* Went down on its own: only units bound to it (BindsTo=) follow it. */
        if (dep_graph_units_to_stop(m->graph, s->name, false, &l, NULL) < 0 || strv_isempty(l))
                return;
        STRV_FOREACH (n, l) {
                Service *b = manager_find_service(m, *n);
                if (b && !service_is_down(b))
                        log_service_notice(b, "Stopping %s: it is bound to %s, which went down.", b->name,
                                           s->name);
        }
        if (manager_enqueue(m, false, l, NULL, NULL, false, &e) < 0)
                log_service_warning(s, "Stopping the units bound to %s: %s", s->name, error_message(&e));
}
