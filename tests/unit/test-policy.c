/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "manager/policy/policy.h"

/* ================================================================ helpers */

/* A graph from unit texts given as "name", "[Unit]\nAfter=…", …, NULL. Each unit gets an Image=
 * so it loads; "!name" adds a unit that fails to load (a bad key value). */
static DepGraph *graph_from_texts(const char *first, ...)
{
        DepGraph *g = NULL;
        va_list ap;
        assert_int_equal(dep_graph_new(&g), 0);
        va_start(ap, first);
        for (const char *name = first; name; name = va_arg(ap, const char *)) {
                const char *body = va_arg(ap, const char *);
                bool bad = name[0] == '!';
                if (bad)
                        name++;
                _cleanup_free_ char *file = strjoin(name, ".ctr");
                _cleanup_free_ char *text =
                        strjoin(body, "\n[Container]\nImage=busybox:latest\n", bad ? "Memory=lots\n" : "");
                _cleanup_(unit_freep) Unit *u = NULL;
                _cleanup_error_ Error e = ERROR_INIT;
                assert_int_equal(unit_parse_string(name, file, text, strlen(text), &u, &e), 0);
                if (bad)
                        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
                else if (u->load_state != UNIT_LOAD_LOADED)
                        fail_msg("unit %s did not load: %s", name, strna(u->load_error));
                assert_int_equal(dep_graph_add_unit_model(g, u, &e), 0);
        }
        va_end(ap);
        return g;
}

static ssize_t job(const DepTransaction *t, const char *unit, DepJobType type)
{
        return dep_transaction_find(t, unit, type);
}

static unsigned layer_of(const DepTransaction *t, const char *unit, DepJobType type)
{
        ssize_t i = job(t, unit, type);
        if (i < 0)
                fail_msg("no %s job for %s", dep_job_type_to_string(type), unit);
        return t->jobs[i].layer;
}

/* Whether job a (transitively) waits for job b. */
static bool waits_for(const DepTransaction *t, size_t a, size_t b)
{
        for (size_t k = 0; k < t->jobs[a].n_after; k++)
                if (t->jobs[a].after[k] == b || waits_for(t, t->jobs[a].after[k], b))
                        return true;
        return false;
}

static bool notes_contain(const DepTransaction *t, const char *needle)
{
        STRV_FOREACH (n, t->notes)
                if (strstr(*n, needle))
                        return true;
        return false;
}

static DepTransaction *start(const DepGraph *g, const char *units, int expect, const char *expect_msg)
{
        _cleanup_strv_free_ char **l = strv_split(units, " ");
        _cleanup_error_ Error e = ERROR_INIT;
        DepTransaction *t = NULL;
        int r = dep_transaction_start(g, l, &t, &e);
        if (r != expect)
                fail_msg("start %s: %d (%s), expected %d", units, r, error_message(&e), expect);
        if (expect_msg && !strstr(error_message(&e), expect_msg))
                fail_msg("start %s: message \"%s\" lacks \"%s\"", units, error_message(&e), expect_msg);
        return t;
}

/* A start request that must fail with expect and a message containing expect_msg. */
static void start_fails(const DepGraph *g, const char *units, int expect, const char *expect_msg)
{
        DepTransaction *t = start(g, units, expect, expect_msg);
        assert_null(t);
}

/* ================================================================ dependencies */

static void test_dep_names(void **state)
{
        assert_true(dep_name_is_external("postgresql.service"));
        assert_true(dep_name_is_external("network-online.target"));
        assert_false(dep_name_is_external("db"));
        assert_false(dep_name_is_external("db.ctr"));
        assert_false(dep_name_is_external(".service"));
        assert_string_equal(dep_type_to_string(DEP_BINDS_TO), "BindsTo");
        assert_int_equal(dep_type_from_string("Conflicts"), DEP_CONFLICTS);
        assert_int_equal(dep_type_from_string("Requisite"), -EINVAL);

        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(dep_graph_new(&g), 0);
        assert_int_equal(dep_graph_add_unit(g, "x.service", 0, &e), -EINVAL);
        assert_int_equal(dep_graph_add_unit(g, "a b", 0, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "Invalid unit name"));
        assert_int_equal(dep_graph_add_unit(g, "", 0, &e), -EINVAL);
        /* "db.ctr" and "db" are the same unit */
        assert_int_equal(dep_graph_add_unit(g, "db.ctr", 0, &e), 0);
        assert_int_equal(dep_graph_add_unit(g, "app", 0, &e), 0);
        assert_int_equal(dep_graph_add_dep(g, "app", DEP_REQUIRES, "db", &e), 0);
        /* self-dependencies are dropped with a warning, as systemd does */
        assert_int_equal(dep_graph_add_dep(g, "app", DEP_AFTER, "app.ctr", &e), 0);
        assert_non_null(dep_graph_warnings(g));
        assert_non_null(strstr(dep_graph_warnings(g)[0], "After=app on itself"));

        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app.ctr", 0, NULL);
        assert_int_equal(t->n_jobs, 2);
        assert_true(job(t, "db.ctr", DEP_JOB_START) >= 0);
}

/* After=+Requires=: the dependency starts first; without After= both start at once. */
static void test_dep_order_requires(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = graph_from_texts(
                "db", "", "app", "[Unit]\nRequires=db\nAfter=db\n", "side", "[Unit]\nWants=db\n", NULL);

        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app", 0, NULL);
        assert_int_equal(t->n_jobs, 2);
        assert_int_equal(t->n_layers, 2);
        assert_int_equal(layer_of(t, "db", DEP_JOB_START), 0);
        assert_int_equal(layer_of(t, "app", DEP_JOB_START), 1);
        assert_true(t->jobs[job(t, "app", DEP_JOB_START)].anchor);
        assert_false(t->jobs[job(t, "db", DEP_JOB_START)].anchor);
        /* jobs[] is sorted by layer */
        assert_string_equal(t->jobs[0].unit, "db");

        /* Wants= without After=: no ordering, both in the first wave */
        _cleanup_(dep_transaction_freep) DepTransaction *t2 = start(g, "side", 0, NULL);
        assert_int_equal(t2->n_jobs, 2);
        assert_int_equal(t2->n_layers, 1);
}

/* Before= is the inverse of After=, written on the other unit. */
static void test_dep_before(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = graph_from_texts("first", "[Unit]\nBefore=second\n",
                                                                  "second", "[Unit]\nWants=first\n", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "second", 0, NULL);
        assert_int_equal(layer_of(t, "first", DEP_JOB_START), 0);
        assert_int_equal(layer_of(t, "second", DEP_JOB_START), 1);
}

/* Independent units form one wave; a diamond gives three. */
static void test_dep_waves(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("base", "", "left", "[Unit]\nRequires=base\nAfter=base\n", "right",
                                 "[Unit]\nRequires=base\nAfter=base\n", "top",
                                 "[Unit]\nRequires=left right\nAfter=left right\n", "solo", "", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "top solo", 0, NULL);
        assert_int_equal(t->n_jobs, 5);
        assert_int_equal(t->n_layers, 3);
        assert_int_equal(layer_of(t, "base", DEP_JOB_START), 0);
        assert_int_equal(layer_of(t, "solo", DEP_JOB_START), 0);
        assert_int_equal(layer_of(t, "left", DEP_JOB_START), 1);
        assert_int_equal(layer_of(t, "right", DEP_JOB_START), 1);
        assert_int_equal(layer_of(t, "top", DEP_JOB_START), 2);

        /* running it: the first wave is base and solo, in parallel */
        size_t i, a, b;
        assert_int_equal(dep_transaction_next(t, &a), 1);
        assert_int_equal(dep_transaction_next(t, &b), 1);
        assert_int_equal(dep_transaction_next(t, &i), 0);
        assert_int_equal(t->jobs[a].layer + t->jobs[b].layer, 0);
        size_t base = job(t, "base", DEP_JOB_START);
        assert_int_equal(dep_transaction_finish(t, base, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_next(t, &a), 1);
        assert_int_equal(dep_transaction_next(t, &b), 1);
        assert_int_equal(dep_transaction_next(t, &i), 0);
        assert_int_equal(t->jobs[a].layer, 1);
        assert_int_equal(t->jobs[b].layer, 1);
        assert_int_equal(dep_transaction_finish(t, a, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_next(t, &i), 0); /* top still waits for the other one */
        assert_int_equal(dep_transaction_finish(t, b, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_next(t, &i), 1);
        assert_string_equal(t->jobs[i].unit, "top");
        assert_false(dep_transaction_is_done(t));
        assert_int_equal(dep_transaction_finish(t, i, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_finish(t, job(t, "solo", DEP_JOB_START), DEP_JOB_RESULT_DONE), 0);
        assert_true(dep_transaction_is_done(t));
        /* finishing twice is ignored; a job that never ran cannot be finished */
        assert_int_equal(dep_transaction_finish(t, i, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_finish(t, 99, DEP_JOB_RESULT_DONE), -EINVAL);
}

/* 100 independent units: one wave of 100 jobs; a chain of 100: 100 waves. */
static void test_dep_scale(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        _cleanup_strv_free_ char **all = NULL;
        assert_int_equal(dep_graph_new(&g), 0);
        for (int i = 0; i < 100; i++) {
                char n[16], p[16];
                snprintf(n, sizeof n, "u%d", i);
                snprintf(p, sizeof p, "c%d", i);
                assert_int_equal(dep_graph_add_unit(g, n, 0, NULL), 0);
                assert_int_equal(dep_graph_add_unit(g, p, 0, NULL), 0);
                if (i > 0) {
                        snprintf(n, sizeof n, "c%d", i - 1);
                        assert_int_equal(dep_graph_add_dep(g, p, DEP_AFTER, n, NULL), 0);
                        assert_int_equal(dep_graph_add_dep(g, p, DEP_REQUIRES, n, NULL), 0);
                }
                snprintf(n, sizeof n, "u%d", i);
                assert_int_equal(strv_extend(&all, n), 0);
        }
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_(dep_transaction_freep) DepTransaction *t = NULL;
        assert_int_equal(dep_transaction_start(g, all, &t, &e), 0);
        assert_int_equal(t->n_jobs, 100);
        assert_int_equal(t->n_layers, 1);
        size_t i;
        for (int k = 0; k < 100; k++)
                assert_int_equal(dep_transaction_next(t, &i), 1);
        assert_int_equal(dep_transaction_next(t, &i), 0);

        char *top[] = {(char *)"c99", NULL};
        _cleanup_(dep_transaction_freep) DepTransaction *c = NULL;
        assert_int_equal(dep_transaction_start(g, top, &c, &e), 0);
        assert_int_equal(c->n_jobs, 100);
        assert_int_equal(c->n_layers, 100);
        assert_string_equal(c->jobs[0].unit, "c0");
        assert_string_equal(c->jobs[99].unit, "c99");
}

/* A required unit that is missing or broken fails the request, naming both units; a wanted one
 * is ignored with a note. */
static void test_dep_missing(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("app", "[Unit]\nRequires=db\nWants=cache\n", "!broken", "", "uses-broken",
                                 "[Unit]\nRequires=broken\n", "wants-chain", "[Unit]\nWants=app\n", NULL);

        start_fails(g, "app", -ENOENT, "Cannot start app: unit db not found (required by app).");
        start_fails(g, "uses-broken", -ENOEXEC, "unit broken failed to load (required by uses-broken)");
        start_fails(g, "broken", -ENOEXEC, "failed to load");
        start_fails(g, "nosuch", -ENOENT, "Unit nosuch not found");

        /* wants-chain only wants app, which cannot start: app is dropped, the request succeeds */
        _cleanup_(dep_transaction_freep) DepTransaction *t5 = start(g, "wants-chain", 0, NULL);
        assert_int_equal(t5->n_jobs, 1);
        assert_true(notes_contain(t5, "Not starting app: unit db not found (required by app)."));
}

/* Boot: every enabled unit is only wanted; what cannot start is left out, cycles are broken. */
static void test_dep_boot_wanted(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = graph_from_texts(
                "c1", "[Unit]\nAfter=c2\n", "c2", "[Unit]\nAfter=c1\n", "ok", "", "needs-ghost",
                "[Unit]\nRequires=ghost\n", "!broken", "", "db", "", "app",
                "[Unit]\nRequires=db\nAfter=db\n", "new", "[Unit]\nConflicts=old\n", "old", "", NULL);
        _cleanup_strv_free_ char **l = strv_new("c1", "c2", "ok", "needs-ghost", "broken", "nosuch", "app",
                                                "db", "new", "old", NULL);
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_(dep_transaction_freep) DepTransaction *t = NULL;
        assert_int_equal(dep_transaction_start_wanted(g, l, &t, &e), 0);

        assert_true(job(t, "ok", DEP_JOB_START) >= 0);
        assert_true(job(t, "needs-ghost", DEP_JOB_START) < 0);
        assert_true(notes_contain(
                t, "Not starting needs-ghost: unit ghost not found (required by needs-ghost)."));
        assert_true(notes_contain(t, "Unit broken failed to load, ignoring."));
        assert_true(notes_contain(t, "Unit nosuch not found, ignoring."));
        /* the cycle c1 <-> c2 is broken by dropping one of them */
        assert_true(notes_contain(t, "Ordering cycle"));
        assert_true((job(t, "c1", DEP_JOB_START) >= 0) != (job(t, "c2", DEP_JOB_START) >= 0));
        /* new conflicts with old, both only wanted: one of them starts, the other is stopped */
        bool new_runs = job(t, "new", DEP_JOB_START) >= 0;
        const char *winner = new_runs ? "new" : "old", *loser = new_runs ? "old" : "new";
        assert_true(job(t, winner, DEP_JOB_START) >= 0);
        assert_true(job(t, loser, DEP_JOB_START) < 0);
        assert_true(job(t, loser, DEP_JOB_STOP) >= 0);
        assert_true(job(t, winner, DEP_JOB_STOP) < 0);
        _cleanup_free_ char *note = strjoin("Not starting ", loser, ": it conflicts");
        assert_true(notes_contain(t, note));
        for (size_t i = 0; i < t->n_jobs; i++)
                assert_false(t->jobs[i].anchor);
        /* ordering still holds */
        assert_true(waits_for(t, job(t, "app", DEP_JOB_START), job(t, "db", DEP_JOB_START)));

        /* the same request with dep_transaction_start() fails on the first broken unit */
        DepTransaction *strict = NULL;
        assert_true(dep_transaction_start(g, l, &strict, NULL) < 0);
        assert_null(strict);
}

/* Aliases: a dependency on another name of a unit means that unit. */
static void test_dep_alias(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(dep_graph_new(&g), 0);
        assert_int_equal(dep_graph_add_unit(g, "db", 0, NULL), 0);
        assert_int_equal(dep_graph_add_unit(g, "app", 0, NULL), 0);
        assert_int_equal(dep_graph_add_alias(g, "database.ctr", "db", NULL), 0);
        assert_int_equal(dep_graph_add_alias(g, "database", "db", NULL), 0); /* again: fine */
        assert_int_equal(dep_graph_add_alias(g, "app", "db", &e), -EEXIST);
        assert_non_null(strstr(error_message(&e), "already in use"));
        assert_int_equal(dep_graph_add_alias(g, "x.service", "db", NULL), -EINVAL);
        assert_int_equal(dep_graph_add_dep(g, "app", DEP_REQUIRES, "database", NULL), 0);
        assert_int_equal(dep_graph_add_dep(g, "app", DEP_AFTER, "database", NULL), 0);
        assert_int_equal(dep_graph_add_dep(g, "db", DEP_AFTER, "database", NULL), 0); /* itself */
        assert_non_null(dep_graph_warnings(g));
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app", 0, NULL);
        assert_int_equal(t->n_jobs, 2);
        assert_int_equal(layer_of(t, "db", DEP_JOB_START), 0);
        assert_int_equal(layer_of(t, "app", DEP_JOB_START), 1);
        /* asking for the alias starts the unit */
        _cleanup_(dep_transaction_freep) DepTransaction *t2 = start(g, "database", 0, NULL);
        assert_int_equal(t2->n_jobs, 1);
        assert_string_equal(t2->jobs[0].unit, "db");
}

static int put(int dirfd, const char *name, const char *text)
{
        return write_file_atomic_at(dirfd, name, text, strlen(text), 0644);
}

/* The whole bridge: units loaded from a directory by units/, a symlink alias among them. */
static void test_dep_from_unit_set(void **state)
{
        char dir[] = "/tmp/test-policy-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_close_ int fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(put(fd, "db.ctr", "[Container]\nImage=busybox\n"), 0);
        assert_int_equal(symlinkat("db.ctr", fd, "database.ctr"), 0);
        assert_int_equal(put(fd, "app.ctr",
                             "[Unit]\nRequires=database\nAfter=database\n"
                             "[Container]\nImage=busybox\n"),
                         0);
        assert_int_equal(put(fd, "bad.ctr", "[Container]\nImage=busybox\nMemory=lots\n"), 0);
        assert_int_equal(put(fd, "web@.ctr", "[Container]\nImage=busybox\n"), 0);

        char *dirs[] = {dir, NULL};
        _cleanup_(unit_loader_freep) UnitLoader *l = NULL;
        _cleanup_(unit_set_freep) UnitSet *set = NULL;
        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(unit_loader_new(dirs, &l), 0);
        assert_int_equal(unit_loader_load_all(l, &set, &e), 0);
        assert_int_equal(dep_graph_new_from_unit_set(set, &g, &e), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);

        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app", 0, NULL);
        assert_int_equal(t->n_jobs, 2);
        assert_int_equal(layer_of(t, "db", DEP_JOB_START), 0);
        start_fails(g, "bad", -ENOEXEC, "failed to load");
        start_fails(g, "web@", -ENOENT, "not found"); /* templates are never started */

        /* the same from an array of units, as the daemon holds them */
        _cleanup_(dep_graph_freep) DepGraph *h = NULL;
        assert_int_equal(dep_graph_new_from_units((const Unit *const *)set->units, set->n_units, &h, &e), 0);
        _cleanup_(dep_transaction_freep) DepTransaction *t2 = start(h, "app", 0, NULL);
        assert_int_equal(t2->n_jobs, 2);
        assert_true(waits_for(t2, job(t2, "app", DEP_JOB_START), job(t2, "db", DEP_JOB_START)));
}

/* A missing wanted unit is noted and ignored. */
static void test_dep_wants_missing(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = graph_from_texts("app", "[Unit]\nWants=cache\n", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app", 0, NULL);
        assert_int_equal(t->n_jobs, 1);
        assert_true(notes_contain(t, "Unit cache (wanted by app) not found, ignoring."));
}

/* Stopping a unit stops what Requires=/BindsTo= it first (stop order is the reverse). */
static void test_dep_stop(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g = graph_from_texts(
                "db", "", "app", "[Unit]\nRequires=db\nAfter=db\n", "web",
                "[Unit]\nBindsTo=app\nAfter=app\n", "side", "[Unit]\nWants=db\nAfter=db\n", NULL);
        _cleanup_strv_free_ char **l = strv_new("db", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = NULL;
        assert_int_equal(dep_transaction_stop(g, l, &t, NULL), 0);
        assert_int_equal(t->n_jobs, 3); /* not "side": Wants= does not propagate stops */
        assert_true(job(t, "side", DEP_JOB_STOP) < 0);
        assert_int_equal(layer_of(t, "web", DEP_JOB_STOP), 0);
        assert_int_equal(layer_of(t, "app", DEP_JOB_STOP), 1);
        assert_int_equal(layer_of(t, "db", DEP_JOB_STOP), 2);

        _cleanup_strv_free_ char **s = NULL;
        /* an explicit stop of db: app (Requires=) and web (BindsTo= app) go too */
        assert_int_equal(dep_graph_units_to_stop(g, "db", true, &s, NULL), 0);
        assert_int_equal(strv_length(s), 2);
        assert_string_equal(s[0], "app");
        assert_string_equal(s[1], "web");
        s = strv_free(s);
        /* db merely exited: Requires= does not stop app (only BindsTo= would) */
        assert_int_equal(dep_graph_units_to_stop(g, "db", false, &s, NULL), 0);
        assert_null(s);
        /* app exited on its own: web is bound to it */
        assert_int_equal(dep_graph_units_to_stop(g, "app", false, &s, NULL), 0);
        assert_int_equal(strv_length(s), 1);
        assert_string_equal(s[0], "web");
        s = strv_free(s);
        assert_int_equal(dep_graph_units_to_stop(g, "nosuch", true, &s, NULL), -ENOENT);
}

/* Conflicts=: starting one stops the other, the stop before the start when ordered. */
static void test_dep_conflicts(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("old", "", "new", "[Unit]\nConflicts=old\nAfter=old\n", "needs-old",
                                 "[Unit]\nRequires=old\n", "wants-old", "[Unit]\nWants=old\n", NULL);

        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "new", 0, NULL);
        assert_int_equal(t->n_jobs, 3); /* start new, stop old, stop needs-old (requires old) */
        ssize_t stop_old = job(t, "old", DEP_JOB_STOP), start_new = job(t, "new", DEP_JOB_START);
        assert_true(stop_old >= 0 && start_new >= 0);
        assert_true(job(t, "needs-old", DEP_JOB_STOP) >= 0);
        assert_true(waits_for(t, start_new, stop_old));

        /* the other direction: Conflicts= is symmetric */
        _cleanup_(dep_transaction_freep) DepTransaction *t2 = start(g, "old", 0, NULL);
        assert_true(job(t2, "new", DEP_JOB_STOP) >= 0);
        /* new's stop comes first: stops go in reverse order (new is ordered after old) */
        assert_true(waits_for(t2, job(t2, "old", DEP_JOB_START), job(t2, "new", DEP_JOB_STOP)));

        /* both asked for: contradiction */
        start_fails(g, "new old", -EDEADLK, "conflicting jobs 'start' and 'stop' for");
        /* new and wants-old: old is only wanted, so its start is dropped */
        _cleanup_(dep_transaction_freep) DepTransaction *t4 = start(g, "new wants-old", 0, NULL);
        assert_true(job(t4, "old", DEP_JOB_START) < 0);
        assert_true(job(t4, "old", DEP_JOB_STOP) >= 0);
        assert_true(notes_contain(t4, "Not starting old"));
        /* new and needs-old: old is required by an anchor, the conflict cannot be resolved */
        start_fails(g, "new needs-old", -EDEADLK, NULL);
}

/* Ordering cycles: reported with every unit in them; broken by dropping a job only wanted. */
static void test_dep_cycles(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("a", "[Unit]\nAfter=b\nRequires=b\n", "b", "[Unit]\nAfter=c\nRequires=c\n",
                                 "c", "[Unit]\nAfter=a\n", "x", "[Unit]\nAfter=y\nWants=y\n", "y",
                                 "[Unit]\nAfter=x\n", "free", "", NULL);

        _cleanup_strv_free_ char **cycle = NULL;
        assert_int_equal(dep_graph_find_ordering_cycle(g, &cycle), 1);
        assert_int_equal(strv_length(cycle), 4);
        assert_string_equal(cycle[0], cycle[3]);
        assert_true(strv_contains(cycle, "a") && strv_contains(cycle, "b") && strv_contains(cycle, "c"));

        /* a requires b requires c, c is ordered after a: every job matters */
        start_fails(g, "a", -ELOOP, "Ordering cycle ");
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_strv_free_ char **l = strv_new("a", NULL);
        DepTransaction *t1 = NULL;
        assert_int_equal(dep_transaction_start(g, l, &t1, &e), -ELOOP);
        assert_null(t1);
        assert_non_null(strstr(error_message(&e), "a -> "));
        assert_non_null(strstr(error_message(&e), "b -> "));
        assert_non_null(strstr(error_message(&e), "c -> "));

        /* x only wants y: y's job is dropped to break the cycle, with a note naming the cycle */
        _cleanup_(dep_transaction_freep) DepTransaction *t2 = start(g, "x", 0, NULL);
        assert_int_equal(t2->n_jobs, 1);
        assert_string_equal(t2->jobs[0].unit, "x");
        assert_true(notes_contain(t2, "Ordering cycle"));
        assert_true(notes_contain(t2, "not starting y"));
        assert_true(notes_contain(t2, "x -> y") || notes_contain(t2, "y -> x"));

        /* "matters" is transitive from the request: a wants b, b requires c, c and d are ordered
         * after each other, a requires d. c's job is dropped (only a Wants= leads to it), not d's;
         * b goes too, as it cannot start without c */
        _cleanup_(dep_graph_freep) DepGraph *m =
                graph_from_texts("a", "[Unit]\nWants=b\nRequires=d\n", "b", "[Unit]\nRequires=c\nAfter=c\n",
                                 "c", "[Unit]\nAfter=d\n", "d", "[Unit]\nAfter=c\n", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t3 = start(m, "a", 0, NULL);
        assert_true(job(t3, "a", DEP_JOB_START) >= 0);
        assert_true(job(t3, "d", DEP_JOB_START) >= 0);
        assert_true(job(t3, "c", DEP_JOB_START) < 0);
        assert_true(job(t3, "b", DEP_JOB_START) < 0);
        assert_int_equal(t3->n_jobs, 2);
        assert_true(notes_contain(t3, "not starting c, to break it"));
        assert_true(notes_contain(t3, "Not starting b: it needs the start job of c, which was dropped."));

        /* a graph without cycles */
        _cleanup_(dep_graph_freep) DepGraph *h = graph_from_texts("p", "[Unit]\nAfter=q\n", "q", "", NULL);
        _cleanup_strv_free_ char **none = NULL;
        assert_int_equal(dep_graph_find_ordering_cycle(h, &none), 0);
        assert_null(none);
}

/* A start job that fails fails the jobs of units that Require=/BindsTo= it, not those that Want= it. */
static void test_dep_failure_propagation(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("db", "", "app", "[Unit]\nRequires=db\nAfter=db\n", "web",
                                 "[Unit]\nBindsTo=app\nAfter=app\n", "stats", "[Unit]\nWants=db\nAfter=db\n",
                                 "all", "[Unit]\nWants=web stats\n", NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "all", 0, NULL);
        assert_int_equal(t->n_jobs, 5);

        size_t i, db = job(t, "db", DEP_JOB_START);
        assert_int_equal(dep_transaction_next(t, &i), 1);
        size_t j;
        assert_int_equal(dep_transaction_next(t, &j), 1); /* "all" has no ordering: also layer 0 */
        assert_true(i == db || j == db);
        assert_int_equal(dep_transaction_next(t, &i), 0);
        /* db fails: app (Requires) and web (BindsTo app) fail with "dependency" */
        assert_int_equal(dep_transaction_finish(t, db, DEP_JOB_RESULT_FAILED), 2);
        assert_int_equal(t->jobs[job(t, "app", DEP_JOB_START)].result, DEP_JOB_RESULT_DEPENDENCY);
        assert_int_equal(t->jobs[job(t, "web", DEP_JOB_START)].result, DEP_JOB_RESULT_DEPENDENCY);
        assert_string_equal(dep_job_result_to_string(DEP_JOB_RESULT_DEPENDENCY), "dependency");
        /* stats only wanted db: it still runs */
        assert_int_equal(dep_transaction_next(t, &i), 1);
        assert_string_equal(t->jobs[i].unit, "stats");
        assert_int_equal(dep_transaction_finish(t, i, DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_finish(t, job(t, "all", DEP_JOB_START), DEP_JOB_RESULT_DONE), 0);
        assert_int_equal(dep_transaction_next(t, &i), 0);
        assert_true(dep_transaction_is_done(t));
}

/* systemd units: After= alone waits for them, Requires=/Wants= starts them. */
static void test_dep_external(void **state)
{
        _cleanup_(dep_graph_freep) DepGraph *g =
                graph_from_texts("app",
                                 "[Unit]\nAfter=postgresql.service network-online.target\n"
                                 "Requires=postgresql.service\n",
                                 NULL);
        _cleanup_(dep_transaction_freep) DepTransaction *t = start(g, "app", 0, NULL);
        assert_int_equal(t->n_jobs, 3);
        ssize_t pg = job(t, "postgresql.service", DEP_JOB_START);
        ssize_t net = job(t, "network-online.target", DEP_JOB_WAIT);
        ssize_t app = job(t, "app", DEP_JOB_START);
        assert_true(pg >= 0 && net >= 0 && app >= 0);
        assert_true(t->jobs[pg].external);
        assert_false(t->jobs[app].external);
        assert_true(waits_for(t, app, pg));
        assert_true(waits_for(t, app, net));
        /* the systemd unit fails to start: app fails with it */
        size_t i, k;
        assert_int_equal(dep_transaction_next(t, &i), 1);
        assert_int_equal(dep_transaction_next(t, &k), 1);
        assert_int_equal(dep_transaction_finish(t, pg, DEP_JOB_RESULT_TIMEOUT), 1);
        assert_int_equal(t->jobs[app].result, DEP_JOB_RESULT_DEPENDENCY);
}

/* ================================================================ restart policy */

static RestartConfig config_from(const char *service)
{
        _cleanup_free_ char *text = strjoin("[Container]\nImage=busybox\n[Service]\n", service, "\n");
        _cleanup_(unit_freep) Unit *u = NULL;
        assert_int_equal(unit_parse_string("x", "x.ctr", text, strlen(text), &u, NULL), 0);
        if (u->load_state != UNIT_LOAD_LOADED)
                fail_msg("%s: %s", service, strna(u->load_error));
        RestartConfig c;
        restart_config_from_unit(&c, &u->config);
        return c;
}

static bool restarts(const RestartConfig *c, ExitCause cause, int status)
{
        RestartState s = RESTART_STATE_INIT;
        RestartDecision d;
        ExitInfo e = {cause, status};
        assert_int_equal(restart_on_exit(c, &s, &e, false, &d), 0);
        return d.restart;
}

/* systemd's table, row by row, for each Restart= value. */
static void test_restart_table(void **state)
{
        static const struct {
                ExitCause cause;
                int status;
        } rows[] = {
                {EXIT_CAUSE_EXITED, 0},         {EXIT_CAUSE_SIGNAL, SIGTERM},    /* clean */
                {EXIT_CAUSE_EXITED, 3},                                          /* unclean exit code */
                {EXIT_CAUSE_SIGNAL, SIGKILL},   {EXIT_CAUSE_CORE_DUMP, SIGSEGV}, /* unclean signal */
                {EXIT_CAUSE_TIMEOUT, SIGKILL},  {EXIT_CAUSE_WATCHDOG, SIGABRT},
                {EXIT_CAUSE_OOM_KILL, SIGKILL},
        };
        static const struct {
                const char *restart;
                const char *expect; /* one char per row */
        } cols[] = {
                {"no", "00000000"},
                {"always", "11111111"},
                {"on-success", "11000000"},
                {"on-failure", "00111111"},
                {"on-abnormal", "00011111"},
                {"on-abort", "00011000"},
                {"unless-stopped", "11111111"},
        };
        for (size_t c = 0; c < ELEMENTSOF(cols); c++) {
                _cleanup_free_ char *line = strjoin("Restart=", cols[c].restart);
                RestartConfig cfg = config_from(line);
                for (size_t r = 0; r < ELEMENTSOF(rows); r++)
                        if (restarts(&cfg, rows[r].cause, rows[r].status) != (cols[c].expect[r] == '1'))
                                fail_msg("Restart=%s, row %zu: expected %c", cols[c].restart, r,
                                         cols[c].expect[r]);
        }
        /* on-watchdog exists in the library (systemd has it) though units/ does not accept it */
        RestartConfig w;
        restart_config_init(&w);
        assert_int_equal(restart_config_parse_restart(&w, "on-watchdog", NULL), 0);
        assert_true(restarts(&w, EXIT_CAUSE_WATCHDOG, SIGABRT));
        assert_false(restarts(&w, EXIT_CAUSE_SIGNAL, SIGKILL));
        assert_int_equal(restart_config_parse_restart(&w, "sometimes", NULL), -EINVAL);

        /* results as systemd names them */
        ExitInfo e = {EXIT_CAUSE_OOM_KILL, SIGKILL};
        assert_string_equal(policy_result_to_string(exit_classify(&e, NULL)), "oom-kill");
        e = (ExitInfo){EXIT_CAUSE_EXITED, 1};
        assert_string_equal(policy_result_to_string(exit_classify(&e, NULL)), "exit-code");
        e = (ExitInfo){EXIT_CAUSE_CORE_DUMP, SIGSEGV};
        assert_string_equal(policy_result_to_string(exit_classify(&e, NULL)), "core-dump");
}

/* A stop that was asked for never restarts; RestartPreventExitStatus= blocks, Force forces. */
static void test_restart_exceptions(void **state)
{
        RestartConfig c = config_from("Restart=always\nRestartPreventExitStatus=42 SIGUSR1");
        RestartState s = RESTART_STATE_INIT;
        RestartDecision d;
        ExitInfo e = {EXIT_CAUSE_EXITED, 42};
        assert_int_equal(restart_on_exit(&c, &s, &e, false, &d), 0);
        assert_false(d.restart);
        assert_string_equal(d.reason, "prevented by exit status");
        assert_int_equal(d.result, POLICY_RESULT_EXIT_CODE);
        e = (ExitInfo){EXIT_CAUSE_SIGNAL, SIGUSR1};
        assert_int_equal(restart_on_exit(&c, &s, &e, false, &d), 0);
        assert_false(d.restart);
        e = (ExitInfo){EXIT_CAUSE_EXITED, 43};
        assert_int_equal(restart_on_exit(&c, &s, &e, false, &d), 0);
        assert_true(d.restart);
        assert_int_equal(d.delay_usec, 100 * USEC_PER_MSEC); /* RestartSec= default */
        assert_int_equal(restart_on_exit(&c, &s, &e, true, &d), 0);
        assert_false(d.restart);
        assert_string_equal(d.reason, "manual stop");

        /* RestartForceExitStatus= and SuccessExitStatus= (library-level, as systemd) */
        RestartConfig f;
        restart_config_init(&f);
        assert_int_equal(exit_status_set_parse(&f.force_status, "7 SIGHUP", NULL), 0);
        assert_int_equal(exit_status_set_parse(&f.success_status, "9", NULL), 0);
        assert_true(restarts(&f, EXIT_CAUSE_EXITED, 7));
        assert_false(restarts(&f, EXIT_CAUSE_EXITED, 8));
        e = (ExitInfo){EXIT_CAUSE_EXITED, 9};
        assert_int_equal(exit_classify(&e, &f.success_status), POLICY_RESULT_SUCCESS);

        ExitStatusSet set = {};
        _cleanup_error_ Error err = ERROR_INIT;
        assert_int_equal(exit_status_set_parse(&set, "1 256", &err), -ERANGE);
        assert_int_equal(exit_status_set_parse(&set, "SIGNOPE", &err), -EINVAL);
        assert_non_null(strstr(error_message(&err), "SIGNOPE"));
        assert_false(exit_status_set_test(&set, EXIT_CAUSE_EXITED, 1)); /* nothing added on error */
        assert_int_equal(exit_status_set_parse(&set, "1 TERM", NULL), 0);
        assert_true(exit_status_set_test(&set, EXIT_CAUSE_SIGNAL, SIGTERM));
        assert_int_equal(exit_status_set_parse(&set, "", NULL), 0); /* reset */
        assert_false(exit_status_set_test(&set, EXIT_CAUSE_EXITED, 1));
}

/* RestartSteps=/RestartMaxDelaySec=: exponential growth from RestartSec= to the maximum. */
static void test_restart_backoff(void **state)
{
        RestartConfig c =
                config_from("Restart=always\nRestartSec=1s\nRestartSteps=4\nRestartMaxDelaySec=16s");
        static const uint64_t want[] = {1, 2, 4, 8, 16, 16, 16};
        for (unsigned n = 1; n <= ELEMENTSOF(want); n++)
                assert_int_equal(restart_delay_usec(&c, n), want[n - 1] * USEC_PER_SEC);

        /* the decision uses the restart counter */
        RestartState s = RESTART_STATE_INIT;
        ExitInfo e = {EXIT_CAUSE_EXITED, 1};
        RestartDecision d;
        for (unsigned n = 0; n < 6; n++) {
                assert_int_equal(restart_on_exit(&c, &s, &e, false, &d), 0);
                assert_true(d.restart);
                assert_int_equal(d.delay_usec, want[n] * USEC_PER_SEC);
                assert_int_equal(restart_check_start(&c, &s, (n + 1) * 20 * USEC_PER_SEC, true, NULL), 0);
        }
        assert_int_equal(s.n_restarts, 6);
        /* a start by hand resets the counter and so the delay */
        assert_int_equal(restart_check_start(&c, &s, 500 * USEC_PER_SEC, false, NULL), 0);
        assert_int_equal(s.n_restarts, 0);
        assert_int_equal(restart_on_exit(&c, &s, &e, false, &d), 0);
        assert_int_equal(d.delay_usec, USEC_PER_SEC);

        /* no growth without RestartMaxDelaySec=, or without steps */
        RestartConfig flat = config_from("Restart=always\nRestartSec=3s\nRestartSteps=4");
        assert_int_equal(restart_delay_usec(&flat, 5), 3 * USEC_PER_SEC);
        RestartConfig nosteps = config_from("Restart=always\nRestartSec=3s\nRestartMaxDelaySec=1min");
        assert_int_equal(restart_delay_usec(&nosteps, 5), 3 * USEC_PER_SEC);
        /* non-integer ratio: 100ms → 1s in 3 steps = 100, 215.443, 464.158, 1000 ms */
        RestartConfig odd = config_from("Restart=always\nRestartSteps=3\nRestartMaxDelaySec=1s");
        assert_int_equal(restart_delay_usec(&odd, 2), 215443);
        assert_int_equal(restart_delay_usec(&odd, 3), 464158);
        assert_int_equal(restart_delay_usec(&odd, 4), USEC_PER_SEC);
}

/* StartLimitBurst= starts in StartLimitIntervalSec=; the next is refused with start-limit-hit. */
static void test_restart_start_limit(void **state)
{
        RestartConfig c = config_from("Restart=always\nStartLimitBurst=3\nStartLimitIntervalSec=10s");
        RestartState s = RESTART_STATE_INIT;
        uint64_t t0 = 1000 * USEC_PER_SEC;
        _cleanup_error_ Error e = ERROR_INIT;

        assert_int_equal(restart_check_start(&c, &s, t0, false, &e), 0);
        assert_int_equal(restart_check_start(&c, &s, t0 + 1 * USEC_PER_SEC, true, &e), 0);
        assert_int_equal(restart_check_start(&c, &s, t0 + 2 * USEC_PER_SEC, true, &e), 0);
        assert_false(s.start_limit_hit);
        assert_int_equal(restart_check_start(&c, &s, t0 + 3 * USEC_PER_SEC, true, &e), -ECANCELED);
        assert_true(s.start_limit_hit);
        assert_non_null(strstr(error_message(&e), "Start request repeated too quickly"));
        assert_string_equal(policy_result_to_string(POLICY_RESULT_START_LIMIT_HIT), "start-limit-hit");
        /* by hand too, while the window lasts */
        assert_int_equal(restart_check_start(&c, &s, t0 + 9 * USEC_PER_SEC, false, NULL), -ECANCELED);
        /* reset-failed forgets it */
        restart_state_reset_failed(&s);
        assert_false(s.start_limit_hit);
        assert_int_equal(restart_check_start(&c, &s, t0 + 9 * USEC_PER_SEC, false, NULL), 0);
        /* a new window once the interval passed */
        assert_int_equal(restart_check_start(&c, &s, t0 + 10 * USEC_PER_SEC, true, NULL), 0);
        assert_int_equal(restart_check_start(&c, &s, t0 + 11 * USEC_PER_SEC, true, NULL), 0);
        assert_int_equal(restart_check_start(&c, &s, t0 + 12 * USEC_PER_SEC, true, NULL), -ECANCELED);
        assert_int_equal(restart_check_start(&c, &s, t0 + 30 * USEC_PER_SEC, true, NULL), 0);

        /* StartLimitIntervalSec=0: no limit */
        RestartConfig off = config_from("Restart=always\nStartLimitIntervalSec=0");
        RestartState o = RESTART_STATE_INIT;
        for (int i = 0; i < 50; i++)
                assert_int_equal(restart_check_start(&off, &o, t0, true, NULL), 0);

        /* Docker's on-failure:2: two restarts, then the limit (units/ maps it to burst 3, forever) */
        RestartConfig d = config_from("Restart=on-failure:2");
        RestartState ds = RESTART_STATE_INIT;
        assert_int_equal(restart_check_start(&d, &ds, t0, false, NULL), 0);
        assert_int_equal(restart_check_start(&d, &ds, t0 + 3600 * USEC_PER_SEC, true, NULL), 0);
        assert_int_equal(restart_check_start(&d, &ds, t0 + 7200 * USEC_PER_SEC, true, NULL), 0);
        assert_int_equal(restart_check_start(&d, &ds, t0 + 9000 * USEC_PER_SEC, true, NULL), -ECANCELED);

        /* the library's own on-failure:N caps restarts since the last start by hand */
        RestartConfig n;
        restart_config_init(&n);
        n.start_limit_burst = 0;
        assert_int_equal(restart_config_parse_restart(&n, "on-failure:1", NULL), 0);
        RestartState ns = RESTART_STATE_INIT;
        RestartDecision dec;
        ExitInfo fail = {EXIT_CAUSE_EXITED, 1};
        assert_int_equal(restart_on_exit(&n, &ns, &fail, false, &dec), 0);
        assert_true(dec.restart);
        assert_int_equal(restart_check_start(&n, &ns, t0, true, NULL), 0);
        assert_int_equal(restart_on_exit(&n, &ns, &fail, false, &dec), 0);
        assert_false(dec.restart);
        assert_string_equal(dec.reason, "retry limit reached");
        assert_int_equal(restart_config_parse_restart(&n, "on-failure:x", NULL), -EINVAL);
}

/* unless-stopped: an administrative stop is remembered across daemon restarts and reboots. */
static void test_restart_unless_stopped(void **state)
{
        RestartConfig c = config_from("Restart=unless-stopped");
        assert_int_equal(c.policy, RESTART_POLICY_UNLESS_STOPPED);
        RestartConfig a = config_from("Restart=always");
        RestartState s = RESTART_STATE_INIT;

        assert_true(restart_should_start_on_boot(&c, &s, true));
        assert_false(restart_should_start_on_boot(&c, &s, false));
        restart_state_manual_stop(&s);
        assert_false(restart_should_start_on_boot(&c, &s, true));
        assert_true(restart_should_start_on_boot(&a, &s, true)); /* "always" starts anyway */

        _cleanup_free_ char *text = NULL;
        assert_int_equal(restart_state_serialize(&s, "boot-1", &text), 0);
        RestartState back;
        assert_int_equal(restart_state_deserialize(text, "boot-2", &back, NULL), 0);
        assert_true(back.admin_stopped);
        assert_false(restart_should_start_on_boot(&c, &back, true));
        /* a start by hand forgets it */
        assert_int_equal(restart_check_start(&c, &back, USEC_PER_SEC, false, NULL), 0);
        assert_true(restart_should_start_on_boot(&c, &back, true));
}

static void test_restart_state_serialize(void **state)
{
        RestartConfig c = config_from("Restart=always\nStartLimitBurst=1");
        RestartState s = RESTART_STATE_INIT;
        assert_int_equal(restart_check_start(&c, &s, 5 * USEC_PER_SEC, false, NULL), 0);
        assert_int_equal(restart_check_start(&c, &s, 6 * USEC_PER_SEC, true, NULL), -ECANCELED);

        _cleanup_free_ char *text = NULL;
        assert_int_equal(restart_state_serialize(&s, "b1", &text), 0);
        RestartState same, other;
        assert_int_equal(restart_state_deserialize(text, "b1", &same, NULL), 0);
        assert_true(same.start_limit_hit); /* same boot: the window (monotonic time) is kept */
        assert_int_equal(same.start_limit_num, 2);
        assert_int_equal(same.start_limit_begin, 5 * USEC_PER_SEC);
        assert_int_equal(same.n_restarts, 1);
        assert_int_equal(restart_state_deserialize(text, "b2", &other, NULL), 0);
        assert_false(other.start_limit_hit); /* another boot: monotonic times mean nothing */
        assert_int_equal(other.start_limit_num, 0);
        assert_int_equal(other.n_restarts, 1);

        _cleanup_error_ Error e = ERROR_INIT;
        assert_int_equal(restart_state_deserialize("admin-stopped=yes\nn-restarts=lots\n", "b", &other, &e),
                         -EINVAL);
        assert_non_null(strstr(error_message(&e), "line 2"));
        assert_int_equal(restart_state_deserialize("future-key=1\n", "b", &other, NULL), 0);
}

/* ================================================================ readiness and health */

static UnitConfig *unit_config(Unit **keep, const char *container)
{
        _cleanup_free_ char *text = strjoin("[Container]\nImage=busybox\n", container, "\n");
        assert_int_equal(unit_parse_string("h", "h.ctr", text, strlen(text), keep, NULL), 0);
        if ((*keep)->load_state != UNIT_LOAD_LOADED)
                fail_msg("%s: %s", container, strna((*keep)->load_error));
        return &(*keep)->config;
}

static void test_notify_parse(void **state)
{
        NotifyMessage m;
        const char msg[] = "READY=1\nSTATUS=Accepting\tconnections\nWATCHDOG_USEC=5000000\nFOO=bar\n"
                           "EXTEND_TIMEOUT_USEC=x\nMAINPID=42\nERRNO=5";
        assert_int_equal(notify_message_parse(msg, strlen(msg), &m), 0);
        assert_true(m.ready);
        assert_string_equal(m.status, "Accepting connections"); /* control characters become blanks */
        assert_int_equal(m.watchdog_usec, 5 * USEC_PER_SEC);
        assert_int_equal(m.extend_timeout_usec, 0); /* malformed: ignored */
        assert_int_equal(m.main_pid, 42);
        assert_int_equal(m.errno_value, 5);
        assert_false(m.watchdog_ping);
        notify_message_done(&m);

        assert_int_equal(notify_message_parse("READY=0\nWATCHDOG=trigger", 24, &m), 0);
        assert_false(m.ready);
        assert_true(m.watchdog_trigger);
        notify_message_done(&m);

        assert_int_equal(notify_message_parse("READY=1\0x", 9, &m), -EBADMSG);
        assert_int_equal(notify_message_parse("", 0, &m), -EBADMSG);
        _cleanup_free_ char *big = malloc(NOTIFY_MESSAGE_MAX + 1);
        memset(big, 'a', NOTIFY_MESSAGE_MAX + 1);
        assert_int_equal(notify_message_parse(big, NOTIFY_MESSAGE_MAX + 1, &m), -EBADMSG);
        /* a long STATUS= is cut */
        memcpy(big, "STATUS=", 7);
        assert_int_equal(notify_message_parse(big, NOTIFY_MESSAGE_MAX, &m), 0);
        assert_int_equal(strlen(m.status), NOTIFY_STATUS_MAX);
        notify_message_done(&m);
}

static void test_readiness_modes(void **state)
{
        Readiness r = {};
        NotifyMessage ready = {.ready = true};

        /* Notify=false: ready when started */
        readiness_start(&r, UNIT_NOTIFY_FALSE, 90 * USEC_PER_SEC, 1000);
        assert_int_equal(r.state, READY_READY);
        assert_int_equal(readiness_next_deadline(&r), USEC_INFINITY);

        /* Notify=true: READY=1 makes it ready, STATUS= is kept */
        readiness_start(&r, UNIT_NOTIFY_TRUE, 90 * USEC_PER_SEC, 1000);
        assert_int_equal(r.state, READY_WAITING);
        assert_int_equal(readiness_next_deadline(&r), 1000 + 90 * USEC_PER_SEC);
        NotifyMessage st = {.status = (char *)"loading"};
        assert_int_equal(readiness_on_notify(&r, &st, 2000), READY_EVENT_STATUS);
        assert_int_equal(readiness_on_notify(&r, &st, 2000), 0); /* unchanged */
        assert_string_equal(r.status, "loading");
        assert_int_equal(readiness_on_health(&r, HEALTH_HEALTHY, 3000), 0); /* not for Notify=true */
        assert_int_equal(readiness_on_notify(&r, &ready, 4000), READY_EVENT_READY);
        assert_int_equal(r.state, READY_READY);
        assert_int_equal(readiness_on_notify(&r, &ready, 5000), 0); /* once */
        assert_int_equal(readiness_on_time(&r, 1000 + 100 * USEC_PER_SEC),
                         0); /* timeout no longer applies */

        /* Notify=healthy: the first passing health check; READY=1 does not count */
        readiness_start(&r, UNIT_NOTIFY_HEALTHY, 90 * USEC_PER_SEC, 1000);
        assert_int_equal(readiness_on_notify(&r, &ready, 2000), 0);
        assert_int_equal(readiness_on_health(&r, HEALTH_STARTING, 2000), 0);
        assert_int_equal(readiness_on_health(&r, HEALTH_UNHEALTHY, 2000), 0);
        assert_int_equal(readiness_on_health(&r, HEALTH_HEALTHY, 3000), READY_EVENT_READY);
        assert_string_equal(ready_state_to_string(r.state), "ready");
        readiness_done(&r);
}

static void test_readiness_timeout(void **state)
{
        Readiness r = {};
        uint64_t t0 = 50 * USEC_PER_SEC;
        readiness_start(&r, UNIT_NOTIFY_TRUE, 10 * USEC_PER_SEC, t0);
        assert_int_equal(readiness_on_time(&r, t0 + 9 * USEC_PER_SEC), 0);
        /* EXTEND_TIMEOUT_USEC= moves the deadline to now + value when later */
        NotifyMessage ext = {.extend_timeout_usec = 5 * USEC_PER_SEC};
        assert_int_equal(readiness_on_notify(&r, &ext, t0 + 9 * USEC_PER_SEC), 0);
        assert_int_equal(readiness_next_deadline(&r), t0 + 14 * USEC_PER_SEC);
        assert_int_equal(readiness_on_time(&r, t0 + 13 * USEC_PER_SEC), 0);
        assert_int_equal(readiness_on_time(&r, t0 + 14 * USEC_PER_SEC), READY_EVENT_EXPIRED);
        assert_int_equal(r.state, READY_TIMEOUT);
        /* late READY=1 changes nothing: it is being killed */
        NotifyMessage ready = {.ready = true};
        assert_int_equal(readiness_on_notify(&r, &ready, t0 + 15 * USEC_PER_SEC), 0);
        assert_int_equal(r.state, READY_TIMEOUT);
        assert_int_equal(readiness_next_deadline(&r), USEC_INFINITY);

        /* TimeoutStartSec=infinity (or 0): no deadline */
        readiness_start(&r, UNIT_NOTIFY_TRUE, USEC_INFINITY, t0);
        assert_int_equal(readiness_next_deadline(&r), USEC_INFINITY);
        assert_int_equal(readiness_on_time(&r, UINT64_MAX - 1), 0);
        readiness_start(&r, UNIT_NOTIFY_TRUE, 0, t0);
        assert_int_equal(readiness_next_deadline(&r), USEC_INFINITY);
        readiness_done(&r);
}

static void test_readiness_watchdog(void **state)
{
        Readiness r = {};
        readiness_start(&r, UNIT_NOTIFY_TRUE, 90 * USEC_PER_SEC, 0);
        NotifyMessage m = {.ready = true, .watchdog_usec = 2 * USEC_PER_SEC};
        assert_int_equal(readiness_on_notify(&r, &m, USEC_PER_SEC), READY_EVENT_READY);
        assert_int_equal(readiness_next_deadline(&r), 3 * USEC_PER_SEC);
        NotifyMessage ping = {.watchdog_ping = true};
        assert_int_equal(readiness_on_notify(&r, &ping, 2 * USEC_PER_SEC), 0);
        assert_int_equal(readiness_next_deadline(&r), 4 * USEC_PER_SEC);
        assert_int_equal(readiness_on_time(&r, 3 * USEC_PER_SEC), 0);
        assert_int_equal(readiness_on_time(&r, 4 * USEC_PER_SEC), READY_EVENT_EXPIRED);
        assert_string_equal(ready_state_to_string(r.state), "watchdog");

        /* WATCHDOG=trigger: at once */
        readiness_start(&r, UNIT_NOTIFY_FALSE, 90 * USEC_PER_SEC, 0);
        NotifyMessage trig = {.watchdog_trigger = true};
        assert_int_equal(readiness_on_notify(&r, &trig, 10), READY_EVENT_EXPIRED);
        assert_int_equal(r.state, READY_WATCHDOG);
        /* pings without a WATCHDOG_USEC= arm nothing */
        readiness_start(&r, UNIT_NOTIFY_FALSE, 90 * USEC_PER_SEC, 0);
        assert_int_equal(readiness_on_notify(&r, &ping, 10), 0);
        assert_int_equal(readiness_next_deadline(&r), USEC_INFINITY);
        readiness_done(&r);
}

/* Runs one check from `at` to `at + 1ms` with exit code `code`. */
static HealthAction check(Health *h, const HealthConfig *c, uint64_t at, int code, bool *changed)
{
        HealthAction a;
        uint64_t deadline;
        assert_int_equal(health_check_begin(h, c, at, &deadline), 0);
        assert_int_equal(deadline, at + c->timeout_usec);
        assert_int_equal(health_check_end(h, c, at + USEC_PER_MSEC, code, code ? "boom" : "ok", code ? 4 : 2,
                                          changed, &a),
                         0);
        return a;
}

static void test_health_states(void **state)
{
        _cleanup_(unit_freep) Unit *u = NULL;
        UnitConfig *uc = unit_config(&u, "HealthCmd=/bin/check\nHealthInterval=10s\nHealthRetries=3\n"
                                         "HealthTimeout=2s\nHealthOnFailure=kill");
        HealthConfig c;
        health_config_from_unit(&c, uc);
        assert_true(c.enabled);
        Health h = {};
        bool changed;
        health_start(&h, &c, 0);
        assert_int_equal(h.status, HEALTH_STARTING);
        assert_string_equal(health_status_to_string(h.status), "starting");
        assert_int_equal(health_next_check(&h), 10 * USEC_PER_SEC); /* first check one interval in */

        uint64_t t = 10 * USEC_PER_SEC;
        assert_int_equal(check(&h, &c, t, 0, &changed), HEALTH_ACTION_NONE);
        assert_true(changed);
        assert_int_equal(h.status, HEALTH_HEALTHY);
        /* the next check one interval after this one ended */
        assert_int_equal(health_next_check(&h), t + USEC_PER_MSEC + 10 * USEC_PER_SEC);

        /* two failures: still healthy; the third: unhealthy, and HealthOnFailure=kill */
        assert_int_equal(check(&h, &c, 20 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_NONE);
        assert_false(changed);
        assert_int_equal(check(&h, &c, 30 * USEC_PER_SEC, HEALTH_EXIT_TIMEOUT, &changed),
                         HEALTH_ACTION_NONE);
        assert_int_equal(h.status, HEALTH_HEALTHY);
        assert_int_equal(h.failing_streak, 2);
        assert_int_equal(check(&h, &c, 40 * USEC_PER_SEC, 137, &changed), HEALTH_ACTION_KILL);
        assert_true(changed);
        assert_int_equal(h.status, HEALTH_UNHEALTHY);
        /* the action is asked for once, when it becomes unhealthy */
        assert_int_equal(check(&h, &c, 50 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_NONE);
        assert_false(changed);
        /* a pass makes it healthy again and resets the streak */
        assert_int_equal(check(&h, &c, 60 * USEC_PER_SEC, 0, &changed), HEALTH_ACTION_NONE);
        assert_true(changed);
        assert_int_equal(h.failing_streak, 0);

        /* the log keeps the last five results, oldest first */
        assert_int_equal(h.n_log, HEALTH_LOG_MAX);
        assert_int_equal(h.log[0].exit_code, 1);
        assert_int_equal(h.log[0].start, 20 * USEC_PER_SEC);
        assert_int_equal(h.log[1].exit_code, HEALTH_EXIT_TIMEOUT);
        assert_int_equal(h.log[4].exit_code, 0);
        assert_string_equal(h.log[4].output, "ok");
        assert_string_equal(h.log[3].output, "boom");

        /* one check at a time; none without HealthCmd= */
        uint64_t d;
        assert_int_equal(health_check_begin(&h, &c, 70 * USEC_PER_SEC, &d), 0);
        assert_int_equal(health_next_check(&h), USEC_INFINITY);
        assert_int_equal(health_check_begin(&h, &c, 71 * USEC_PER_SEC, &d), -EBUSY);
        HealthConfig none = {};
        Health n = {};
        health_start(&n, &none, 0);
        assert_int_equal(n.status, HEALTH_NONE);
        assert_int_equal(health_next_check(&n), USEC_INFINITY);
        assert_int_equal(health_check_begin(&n, &none, 0, &d), -EOPNOTSUPP);
        assert_int_equal(health_check_end(&n, &none, 0, 0, NULL, 0, NULL, NULL), -EINVAL);
        health_done(&h);
        health_done(&n);
}

/* Failures of checks begun within HealthStartPeriod= do not count until one check passed. */
static void test_health_start_period(void **state)
{
        _cleanup_(unit_freep) Unit *u = NULL;
        UnitConfig *uc = unit_config(&u, "HealthCmd=/bin/check\nHealthInterval=1s\nHealthRetries=2\n"
                                         "HealthTimeout=1s\nHealthStartPeriod=5s\nHealthOnFailure=restart");
        HealthConfig c;
        health_config_from_unit(&c, uc);
        Health h = {};
        bool changed;
        health_start(&h, &c, 100 * USEC_PER_SEC);
        uint64_t t0 = 100 * USEC_PER_SEC;
        for (int i = 1; i <= 4; i++)
                assert_int_equal(check(&h, &c, t0 + i * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_NONE);
        assert_int_equal(h.status, HEALTH_STARTING);
        assert_int_equal(h.failing_streak, 0);
        /* after the start period they count */
        assert_int_equal(check(&h, &c, t0 + 5 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_NONE);
        assert_int_equal(check(&h, &c, t0 + 6 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_RESTART);
        assert_int_equal(h.status, HEALTH_UNHEALTHY);
        assert_string_equal(health_action_to_string(HEALTH_ACTION_RESTART), "restart");

        /* a pass within the start period: later failures count at once */
        health_start(&h, &c, t0);
        assert_int_equal(h.n_log, 0);
        assert_int_equal(check(&h, &c, t0 + 1 * USEC_PER_SEC, 0, &changed), HEALTH_ACTION_NONE);
        assert_int_equal(check(&h, &c, t0 + 2 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_NONE);
        assert_int_equal(check(&h, &c, t0 + 3 * USEC_PER_SEC, 1, &changed), HEALTH_ACTION_RESTART);

        /* HealthInterval=disable: no timer; checks only on request */
        _cleanup_(unit_freep) Unit *v = NULL;
        uc = unit_config(&v, "HealthCmd=/bin/check\nHealthInterval=disable\nHealthOnFailure=stop\n"
                             "HealthRetries=1");
        health_config_from_unit(&c, uc);
        health_start(&h, &c, t0);
        assert_int_equal(health_next_check(&h), USEC_INFINITY);
        assert_int_equal(check(&h, &c, t0, 1, &changed), HEALTH_ACTION_STOP);
        assert_int_equal(health_next_check(&h), USEC_INFINITY);
        /* output is cut to HEALTH_OUTPUT_MAX */
        _cleanup_free_ char *big = malloc(HEALTH_OUTPUT_MAX * 2);
        memset(big, 'x', HEALTH_OUTPUT_MAX * 2);
        assert_int_equal(health_check_begin(&h, &c, t0, NULL), 0);
        assert_int_equal(health_check_end(&h, &c, t0, 0, big, HEALTH_OUTPUT_MAX * 2, NULL, NULL), 0);
        assert_int_equal(strlen(h.log[h.n_log - 1].output), HEALTH_OUTPUT_MAX);
        health_done(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dep_names),
                cmocka_unit_test(test_dep_order_requires),
                cmocka_unit_test(test_dep_before),
                cmocka_unit_test(test_dep_waves),
                cmocka_unit_test(test_dep_scale),
                cmocka_unit_test(test_dep_missing),
                cmocka_unit_test(test_dep_wants_missing),
                cmocka_unit_test(test_dep_boot_wanted),
                cmocka_unit_test(test_dep_alias),
                cmocka_unit_test(test_dep_from_unit_set),
                cmocka_unit_test(test_dep_stop),
                cmocka_unit_test(test_dep_conflicts),
                cmocka_unit_test(test_dep_cycles),
                cmocka_unit_test(test_dep_failure_propagation),
                cmocka_unit_test(test_dep_external),
                cmocka_unit_test(test_restart_table),
                cmocka_unit_test(test_restart_exceptions),
                cmocka_unit_test(test_restart_backoff),
                cmocka_unit_test(test_restart_start_limit),
                cmocka_unit_test(test_restart_unless_stopped),
                cmocka_unit_test(test_restart_state_serialize),
                cmocka_unit_test(test_notify_parse),
                cmocka_unit_test(test_readiness_modes),
                cmocka_unit_test(test_readiness_timeout),
                cmocka_unit_test(test_readiness_watchdog),
                cmocka_unit_test(test_health_states),
                cmocka_unit_test(test_health_start_period),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
