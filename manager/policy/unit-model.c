/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bridge from units/' model (Unit, UnitConfig) to the policy's own configuration, so the
 * daemon hands the loaded units over as they are.
 */
#include "manager/policy/policy.h"
#include "units/unit.h"

/* Declares u and its aliases (pass 1 of 2: aliases must be known before dependencies name them). */
static int add_unit_names(DepGraph *g, const Unit *u, Error *reterr)
{
        if (!u || !u->name)
                return error_set_msg(reterr, -EINVAL, "No unit given");
        /* a template ("web@") is never started; not found: leave it out, so that whoever requires
         * it sees "not found" */
        if (u->is_template || u->load_state == UNIT_LOAD_NOT_FOUND)
                return 0;
        int r = dep_graph_add_unit(g, u->name, u->load_state == UNIT_LOAD_LOADED ? 0 : DEP_UNIT_BROKEN,
                                   reterr);
        if (r < 0)
                return r;
        STRV_FOREACH (a, u->aliases) {
                r = dep_graph_add_alias(g, *a, u->name, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Pass 2: its dependency lists (valid only for loaded units). */
static int add_unit_deps(DepGraph *g, const Unit *u, Error *reterr)
{
        if (u->is_template || u->load_state != UNIT_LOAD_LOADED)
                return 0;
        const UnitConfig *c = &u->config;
        const struct {
                DepType type;
                char **list;
        } lists[] = {
                {DEP_AFTER, c->after}, {DEP_BEFORE, c->before},     {DEP_REQUIRES, c->requires},
                {DEP_WANTS, c->wants}, {DEP_BINDS_TO, c->binds_to}, {DEP_CONFLICTS, c->conflicts},
        };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                int r = dep_graph_add_deps(g, u->name, lists[i].type, lists[i].list, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "%s", u->name);
        }
        return 0;
}

int dep_graph_add_unit_model(DepGraph *g, const Unit *u, Error *reterr)
{
        int r = add_unit_names(g, u, reterr);
        if (r < 0)
                return r;
        return add_unit_deps(g, u, reterr);
}

int dep_graph_new_from_units(const Unit *const *units, size_t n_units, DepGraph **ret, Error *reterr)
{
        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        int r = dep_graph_new(&g);
        if (r < 0)
                return error_set(reterr, r, "creating dependency graph");
        for (size_t i = 0; i < n_units; i++) {
                r = add_unit_names(g, units[i], reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_units; i++) {
                r = add_unit_deps(g, units[i], reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(g);
        return 0;
}

int dep_graph_new_from_unit_set(const UnitSet *set, DepGraph **ret, Error *reterr)
{
        return dep_graph_new_from_units(set ? (const Unit *const *)set->units : NULL, set ? set->n_units : 0,
                                        ret, reterr);
}

void restart_config_from_unit(RestartConfig *c, const UnitConfig *uc)
{
        restart_config_init(c);
        switch (uc->restart) {
        case UNIT_RESTART_ON_SUCCESS:
                c->policy = RESTART_POLICY_ON_SUCCESS;
                break;
        case UNIT_RESTART_ON_FAILURE:
                c->policy = RESTART_POLICY_ON_FAILURE;
                break;
        case UNIT_RESTART_ON_ABNORMAL:
                c->policy = RESTART_POLICY_ON_ABNORMAL;
                break;
        case UNIT_RESTART_ON_ABORT:
                c->policy = RESTART_POLICY_ON_ABORT;
                break;
        case UNIT_RESTART_ALWAYS:
                c->policy =
                        uc->restart_unless_stopped ? RESTART_POLICY_UNLESS_STOPPED : RESTART_POLICY_ALWAYS;
                break;
        default:
                c->policy = RESTART_POLICY_NO;
                break;
        }
        c->restart_usec = uc->restart_usec;
        c->restart_steps = uc->restart_steps;
        c->restart_max_delay_usec = uc->restart_max_delay_usec;
        c->start_limit_interval_usec = uc->start_limit_interval_usec;
        c->start_limit_burst = uc->start_limit_burst;
        /* units/ turns Docker's on-failure:N into StartLimitBurst=N+1 over an infinite interval */
        memcpy(c->prevent_status.status, uc->restart_prevent_status, sizeof(c->prevent_status.status));
        c->prevent_status.signals = uc->restart_prevent_signals;
}
