/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dependency graph and start/stop transactions (systemd's job semantics, simplified to the
 * unit types ctrmgr has). Everything is index based: nodes live in one array, edges are arrays of
 * node indices, a name → index hash table finds nodes. Building a transaction is a breadth-first
 * closure over the pull edges, a conflict merge, then ordering edges and an iterative DFS that
 * finds cycles; the DFS post-order gives the layers.
 */
#include "manager/policy/policy.h"

#define DEP_NAME_MAX 256

/* Edge kinds stored per node; DEP_BEFORE is stored as the inverse DEP_AFTER. */
enum { K_AFTER, K_REQUIRES, K_WANTS, K_BINDS_TO, K_CONFLICTS, _K_MAX };

typedef struct IdxList {
        size_t *v;
        size_t n, cap;
} IdxList;

static int idx_push(IdxList *l, size_t x)
{
        if (l->n >= l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 4;
                size_t *v = reallocarray(l->v, cap, sizeof(size_t));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = x;
        return 0;
}

static void idx_done(IdxList *l)
{
        l->v = mfree(l->v);
        l->n = l->cap = 0;
}

typedef struct DepNode {
        char *name;
        bool defined, broken, external;
        IdxList fwd[_K_MAX]; /* this unit's own dependencies (After: units it starts after) */
        IdxList rev[_K_MAX]; /* the inverse (After: units that start after it; RequiredBy, …) */
} DepNode;

struct DepGraph {
        DepNode *nodes;
        size_t n_nodes, cap_nodes;
        size_t *slots; /* hash table of node index + 1; 0 = empty */
        size_t n_slots;
        char **warnings;
        char **alias_from, **alias_to; /* other names of units (few: searched linearly) */
};

static const char *const dep_type_table[_DEP_TYPE_MAX] = {
        [DEP_AFTER] = "After", [DEP_BEFORE] = "Before",    [DEP_REQUIRES] = "Requires",
        [DEP_WANTS] = "Wants", [DEP_BINDS_TO] = "BindsTo", [DEP_CONFLICTS] = "Conflicts",
};

const char *dep_type_to_string(DepType t)
{
        return t >= 0 && t < _DEP_TYPE_MAX ? dep_type_table[t] : NULL;
}

DepType dep_type_from_string(const char *s)
{
        for (int i = 0; s && i < _DEP_TYPE_MAX; i++)
                if (streq(s, dep_type_table[i]))
                        return i;
        return _DEP_TYPE_INVALID;
}

static const char *const job_type_table[_DEP_JOB_TYPE_MAX] = {
        [DEP_JOB_START] = "start",
        [DEP_JOB_STOP] = "stop",
        [DEP_JOB_WAIT] = "wait",
};

const char *dep_job_type_to_string(DepJobType t)
{
        return t >= 0 && t < _DEP_JOB_TYPE_MAX ? job_type_table[t] : NULL;
}

static const char *const job_result_table[_DEP_JOB_RESULT_MAX] = {
        [DEP_JOB_RESULT_NONE] = "",
        [DEP_JOB_RESULT_DONE] = "done",
        [DEP_JOB_RESULT_FAILED] = "failed",
        [DEP_JOB_RESULT_TIMEOUT] = "timeout",
        [DEP_JOB_RESULT_DEPENDENCY] = "dependency",
};

const char *dep_job_result_to_string(DepJobResult r)
{
        return r >= 0 && r < _DEP_JOB_RESULT_MAX ? job_result_table[r] : NULL;
}

bool dep_name_is_external(const char *name)
{
        static const char *const suffixes[] = {
                ".service", ".socket", ".target", ".mount", ".automount", ".swap",
                ".path",    ".timer",  ".slice",  ".scope", ".device",
        };
        if (!name)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                const char *e = endswith(name, suffixes[i]);
                if (e && e != name)
                        return true;
        }
        return false;
}

/* "db.ctr" → "db"; rejects empty, overlong names and names with blanks, controls or '/'. */
static int name_normalize(const char *name, char **ret, Error *reterr)
{
        if (isempty(name))
                return error_set_msg(reterr, -EINVAL, "Empty unit name");
        size_t len = strlen(name);
        if (len > DEP_NAME_MAX)
                return error_set_msg(reterr, -EINVAL, "Unit name too long (%zu bytes)", len);
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f) {
                        _cleanup_free_ char *esc = cescape(name);
                        return error_set_msg(reterr, -EINVAL, "Invalid unit name \"%s\"", strna(esc));
                }
        const char *e = endswith(name, ".ctr");
        char *s = e && e != name ? strndup(name, e - name) : strdup(name);
        if (!s)
                return error_set(reterr, -ENOMEM, "normalizing unit name");
        *ret = s;
        return 0;
}

static uint64_t name_hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* The unit an alias names, or name itself. */
static const char *graph_resolve(const DepGraph *g, const char *name)
{
        for (size_t i = 0; g->alias_from && g->alias_from[i]; i++)
                if (streq(g->alias_from[i], name))
                        return g->alias_to[i];
        return name;
}

static ssize_t graph_lookup(const DepGraph *g, const char *name)
{
        name = graph_resolve(g, name);
        if (g->n_slots == 0)
                return -ENOENT;
        for (size_t i = name_hash(name) & (g->n_slots - 1);; i = (i + 1) & (g->n_slots - 1)) {
                size_t s = g->slots[i];
                if (s == 0)
                        return -ENOENT;
                if (streq(g->nodes[s - 1].name, name))
                        return (ssize_t)(s - 1);
        }
}

static int graph_rehash(DepGraph *g, size_t n_slots)
{
        size_t *slots = calloc(n_slots, sizeof(size_t));
        if (!slots)
                return -ENOMEM;
        for (size_t k = 0; k < g->n_nodes; k++) {
                size_t i = name_hash(g->nodes[k].name) & (n_slots - 1);
                while (slots[i] != 0)
                        i = (i + 1) & (n_slots - 1);
                slots[i] = k + 1;
        }
        free(g->slots);
        g->slots = slots;
        g->n_slots = n_slots;
        return 0;
}

/* Finds or creates the node of a normalized name. */
static ssize_t graph_node(DepGraph *g, const char *name)
{
        name = graph_resolve(g, name);
        ssize_t k = graph_lookup(g, name);
        if (k >= 0)
                return k;
        if ((g->n_nodes + 1) * 10 > g->n_slots * 7) {
                int r = graph_rehash(g, g->n_slots ? g->n_slots * 2 : 64);
                if (r < 0)
                        return r;
        }
        if (g->n_nodes >= g->cap_nodes) {
                size_t cap = g->cap_nodes ? g->cap_nodes * 2 : 32;
                DepNode *n = reallocarray(g->nodes, cap, sizeof(DepNode));
                if (!n)
                        return -ENOMEM;
                g->nodes = n;
                g->cap_nodes = cap;
        }
        char *s = strdup(name);
        if (!s)
                return -ENOMEM;
        size_t idx = g->n_nodes++;
        g->nodes[idx] = (DepNode){.name = s, .external = dep_name_is_external(s)};
        size_t i = name_hash(s) & (g->n_slots - 1);
        while (g->slots[i] != 0)
                i = (i + 1) & (g->n_slots - 1);
        g->slots[i] = idx + 1;
        return (ssize_t)idx;
}

int dep_graph_new(DepGraph **ret)
{
        DepGraph *g = calloc(1, sizeof(DepGraph));
        if (!g)
                return -ENOMEM;
        *ret = g;
        return 0;
}

DepGraph *dep_graph_free(DepGraph *g)
{
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_nodes; i++) {
                free(g->nodes[i].name);
                for (int k = 0; k < _K_MAX; k++) {
                        idx_done(&g->nodes[i].fwd[k]);
                        idx_done(&g->nodes[i].rev[k]);
                }
        }
        free(g->nodes);
        free(g->slots);
        strv_free(g->warnings);
        strv_free(g->alias_from);
        strv_free(g->alias_to);
        return mfree(g);
}

char *const *dep_graph_warnings(const DepGraph *g)
{
        return g->warnings;
}

int dep_graph_add_unit(DepGraph *g, const char *name, DepUnitFlags flags, Error *reterr)
{
        _cleanup_free_ char *n = NULL;
        int r = name_normalize(name, &n, reterr);
        if (r < 0)
                return r;
        if (dep_name_is_external(n))
                return error_set_msg(reterr, -EINVAL, "\"%s\" is a systemd unit, not a ctrmgr unit", n);
        ssize_t k = graph_node(g, n);
        if (k < 0)
                return error_set(reterr, (int)k, "adding unit %s", n);
        g->nodes[k].defined = true;
        if (flags & DEP_UNIT_BROKEN)
                g->nodes[k].broken = true;
        return 0;
}

int dep_graph_add_dep(DepGraph *g, const char *unit, DepType type, const char *other, Error *reterr)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r;

        if (type < 0 || type >= _DEP_TYPE_MAX)
                return error_set_msg(reterr, -EINVAL, "Invalid dependency type %d", (int)type);
        r = name_normalize(unit, &a, reterr);
        if (r < 0)
                return r;
        r = name_normalize(other, &b, reterr);
        if (r < 0)
                return r;
        if (streq(graph_resolve(g, a), graph_resolve(g, b))) {
                /* systemd drops dependencies on the unit itself, with a warning */
                r = strv_extendf(&g->warnings, "%s: dependency %s=%s on itself dropped", a,
                                 dep_type_to_string(type), b);
                return r < 0 ? error_set(reterr, r, "adding dependency") : 0;
        }
        ssize_t x = graph_node(g, a);
        if (x < 0)
                return error_set(reterr, (int)x, "adding dependency");
        ssize_t y = graph_node(g, b);
        if (y < 0)
                return error_set(reterr, (int)y, "adding dependency");

        int kind;
        switch (type) {
        case DEP_BEFORE: {
                ssize_t t = x; /* a Before=b is b After=a */
                x = y;
                y = t;
                kind = K_AFTER;
                break;
        }
        case DEP_AFTER:
                kind = K_AFTER;
                break;
        case DEP_REQUIRES:
                kind = K_REQUIRES;
                break;
        case DEP_WANTS:
                kind = K_WANTS;
                break;
        case DEP_BINDS_TO:
                kind = K_BINDS_TO;
                break;
        default:
                kind = K_CONFLICTS;
                break;
        }
        r = idx_push(&g->nodes[x].fwd[kind], (size_t)y);
        if (r >= 0)
                r = idx_push(&g->nodes[y].rev[kind], (size_t)x);
        if (r < 0)
                return error_set(reterr, r, "adding dependency");
        return 0;
}

int dep_graph_add_alias(DepGraph *g, const char *alias, const char *unit, Error *reterr)
{
        _cleanup_free_ char *a = NULL, *u = NULL;
        int r = name_normalize(alias, &a, reterr);
        if (r < 0)
                return r;
        r = name_normalize(unit, &u, reterr);
        if (r < 0)
                return r;
        if (dep_name_is_external(a) || dep_name_is_external(u))
                return error_set_msg(reterr, -EINVAL, "Alias %s of %s: not a ctrmgr unit name", a, u);
        const char *target = graph_resolve(g, u);
        if (streq(graph_resolve(g, a), target))
                return 0;
        if (graph_lookup(g, a) >= 0 || !streq(graph_resolve(g, a), a))
                return error_set_msg(reterr, -EEXIST, "Alias %s of %s: the name is already in use", a, u);
        if (strv_extend(&g->alias_from, a) < 0 || strv_extend(&g->alias_to, target) < 0)
                return error_set(reterr, -ENOMEM, "adding alias %s", a);
        return 0;
}

int dep_graph_add_deps(DepGraph *g, const char *unit, DepType type, char *const *others, Error *reterr)
{
        STRV_FOREACH (o, (char **)others) {
                int r = dep_graph_add_dep(g, unit, type, *o, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Joins the node names of path[0..n) as "a -> b -> c -> a" (the first one repeated). */
static char *cycle_text(const DepGraph *g, const size_t *nodes, size_t n)
{
        char *s = NULL;
        for (size_t i = 0; i <= n; i++)
                if (strextend_with_separator(&s, " -> ", g->nodes[nodes[i % n]].name) < 0)
                        return mfree(s);
        return s;
}

int dep_graph_find_ordering_cycle(const DepGraph *g, char ***ret_cycle)
{
        _cleanup_free_ uint8_t *color = calloc(g->n_nodes ?: 1, 1);
        _cleanup_free_ size_t *stack = calloc(g->n_nodes ?: 1, sizeof(size_t));
        _cleanup_free_ size_t *iter = calloc(g->n_nodes ?: 1, sizeof(size_t));
        _cleanup_free_ size_t *pos = calloc(g->n_nodes ?: 1, sizeof(size_t));
        if (!color || !stack || !iter || !pos)
                return -ENOMEM;

        for (size_t root = 0; root < g->n_nodes; root++) {
                if (color[root])
                        continue;
                size_t sp = 0;
                stack[sp++] = root;
                color[root] = 1;
                pos[root] = 0;
                iter[root] = 0;
                while (sp > 0) {
                        size_t u = stack[sp - 1];
                        const IdxList *l = &g->nodes[u].fwd[K_AFTER];
                        if (iter[u] >= l->n) {
                                color[u] = 2;
                                sp--;
                                continue;
                        }
                        size_t v = l->v[iter[u]++];
                        if (color[v] == 1) {
                                _cleanup_strv_free_ char **c = NULL;
                                for (size_t i = pos[v]; i < sp; i++)
                                        if (strv_extend(&c, g->nodes[stack[i]].name) < 0)
                                                return -ENOMEM;
                                if (strv_extend(&c, g->nodes[v].name) < 0)
                                        return -ENOMEM;
                                if (ret_cycle)
                                        *ret_cycle = TAKE_PTR(c);
                                return 1;
                        }
                        if (color[v] == 0) {
                                color[v] = 1;
                                iter[v] = 0;
                                pos[v] = sp;
                                stack[sp++] = v;
                        }
                }
        }
        if (ret_cycle)
                *ret_cycle = NULL;
        return 0;
}

int dep_graph_units_to_stop(const DepGraph *g, const char *unit, bool explicit, char ***ret, Error *reterr)
{
        _cleanup_free_ char *n = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r = name_normalize(unit, &n, reterr);
        if (r < 0)
                return r;
        ssize_t start = graph_lookup(g, n);
        if (start < 0 || !g->nodes[start].defined)
                return error_set_msg(reterr, -ENOENT, "Unit %s not found.", n);

        _cleanup_free_ bool *seen = calloc(g->n_nodes, sizeof(bool));
        _cleanup_free_ size_t *queue = calloc(g->n_nodes, sizeof(size_t));
        if (!seen || !queue)
                return error_set(reterr, -ENOMEM, "computing stop propagation");
        size_t head = 0, tail = 0;
        seen[start] = true;
        queue[tail++] = (size_t)start;
        while (head < tail) {
                size_t u = queue[head++];
                /* the unit that went down on its own only takes BindsTo= units with it; every unit
                 * that gets a stop job takes Requires= and BindsTo= units with it */
                bool requires_too = explicit || u != (size_t)start;
                for (int k = requires_too ? K_REQUIRES : K_BINDS_TO; k <= K_BINDS_TO; k++) {
                        if (k == K_WANTS)
                                continue;
                        const IdxList *rl = &g->nodes[u].rev[k];
                        for (size_t i = 0; i < rl->n; i++) {
                                size_t v = rl->v[i];
                                if (seen[v] || !g->nodes[v].defined)
                                        continue;
                                seen[v] = true;
                                queue[tail++] = v;
                                if (strv_extend(&l, g->nodes[v].name) < 0)
                                        return error_set(reterr, -ENOMEM, "computing stop propagation");
                        }
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---------------------------------------------------------------- building transactions */

typedef struct TxLink {
        size_t from;
        bool matters; /* the puller cannot do without this job (Requires, BindsTo, Conflicts, stop
                       * propagation); Wants= and someone else's Conflicts= do not matter */
} TxLink;

typedef struct TxJob {
        size_t node;
        DepJobType type;
        bool anchor, deleted;
        bool wanted_root; /* asked for as a target's Wants= would: kept, but does not matter */
        bool matters;     /* see tx_compute_matters() */
        TxLink *in;
        size_t n_in, cap_in;
        IdxList out;   /* jobs this one pulled in */
        IdxList waits; /* jobs this one is ordered after */
        uint8_t color;
        size_t iter, pos;
        unsigned layer;
        size_t final;        /* index in the result */
        size_t missing_node; /* SIZE_MAX, or the required node that is missing (see resolve) */
        size_t missing_via;  /* the job that required missing_node */
} TxJob;

typedef struct TxBuild {
        const DepGraph *g;
        TxJob *jobs;
        size_t n_jobs, cap_jobs;
        size_t *start_of, *stop_of; /* per node: job index or SIZE_MAX (start_of also holds WAIT) */
        bool *no_wait;              /* per node: its WAIT job was dropped to break a cycle */
        char **notes;
        Error *reterr;
} TxBuild;

static void tx_build_done(TxBuild *b)
{
        for (size_t i = 0; i < b->n_jobs; i++) {
                free(b->jobs[i].in);
                idx_done(&b->jobs[i].out);
                idx_done(&b->jobs[i].waits);
        }
        free(b->jobs);
        free(b->start_of);
        free(b->stop_of);
        free(b->no_wait);
        strv_free(b->notes);
}

static size_t *slot_of(TxBuild *b, size_t node, DepJobType type)
{
        return type == DEP_JOB_STOP ? &b->stop_of[node] : &b->start_of[node];
}

static bool job_live(const TxBuild *b, size_t j)
{
        return j != SIZE_MAX && !b->jobs[j].deleted;
}

/* Adds (or finds) the job and records the pull link from → it. from == SIZE_MAX: an anchor. */
static int tx_add_job(TxBuild *b, size_t node, DepJobType type, size_t from, bool matters)
{
        size_t *slot = slot_of(b, node, type);
        size_t j = *slot;
        if (j == SIZE_MAX || b->jobs[j].deleted) {
                if (b->n_jobs >= b->cap_jobs) {
                        size_t cap = b->cap_jobs ? b->cap_jobs * 2 : 16;
                        TxJob *n = reallocarray(b->jobs, cap, sizeof(TxJob));
                        if (!n)
                                return -ENOMEM;
                        b->jobs = n;
                        b->cap_jobs = cap;
                }
                j = b->n_jobs++;
                b->jobs[j] = (TxJob){.node = node, .type = type, .missing_node = SIZE_MAX};
                *slot = j;
        }
        TxJob *job = &b->jobs[j];
        if (from == SIZE_MAX) {
                job->anchor = true;
                return 0;
        }
        if (job->n_in >= job->cap_in) {
                size_t cap = job->cap_in ? job->cap_in * 2 : 4;
                TxLink *n = reallocarray(job->in, cap, sizeof(TxLink));
                if (!n)
                        return -ENOMEM;
                job->in = n;
                job->cap_in = cap;
        }
        job->in[job->n_in++] = (TxLink){.from = from, .matters = matters};
        return idx_push(&b->jobs[from].out, j);
}

static bool node_startable(const DepNode *n)
{
        return n->external || (n->defined && !n->broken);
}

/* Pulls in what job j needs (one step of the closure). */
static int tx_expand(TxBuild *b, size_t j)
{
        const DepGraph *g = b->g;
        size_t node = b->jobs[j].node;
        const DepNode *n = &g->nodes[node];
        int r;

        if (b->jobs[j].type == DEP_JOB_START && n->defined && !n->broken) {
                for (int k = K_REQUIRES; k <= K_BINDS_TO; k++) {
                        const IdxList *l = &n->fwd[k];
                        for (size_t i = 0; i < l->n; i++) {
                                size_t m = l->v[i];
                                if (k != K_WANTS && !node_startable(&g->nodes[m])) {
                                        if (b->jobs[j].missing_node == SIZE_MAX) {
                                                b->jobs[j].missing_node = m;
                                                b->jobs[j].missing_via = j;
                                        }
                                        continue;
                                }
                                if (k == K_WANTS && !node_startable(&g->nodes[m])) {
                                        r = strv_extendf(&b->notes, "Unit %s (wanted by %s) %s, ignoring.",
                                                         g->nodes[m].name, n->name,
                                                         g->nodes[m].defined ? "failed to load"
                                                                             : "not found");
                                        if (r < 0)
                                                return r;
                                        continue;
                                }
                                r = tx_add_job(b, m, DEP_JOB_START, j, k != K_WANTS);
                                if (r < 0)
                                        return r;
                        }
                }
                const IdxList *c = &n->fwd[K_CONFLICTS];
                for (size_t i = 0; i < c->n; i++)
                        if (g->nodes[c->v[i]].defined || g->nodes[c->v[i]].external) {
                                r = tx_add_job(b, c->v[i], DEP_JOB_STOP, j, true);
                                if (r < 0)
                                        return r;
                        }
                c = &n->rev[K_CONFLICTS];
                for (size_t i = 0; i < c->n; i++)
                        if (g->nodes[c->v[i]].defined) {
                                r = tx_add_job(b, c->v[i], DEP_JOB_STOP, j, false);
                                if (r < 0)
                                        return r;
                        }
        } else if (b->jobs[j].type == DEP_JOB_STOP && n->defined) {
                for (int k = K_REQUIRES; k <= K_BINDS_TO; k += K_BINDS_TO - K_REQUIRES) {
                        const IdxList *l = &n->rev[k];
                        for (size_t i = 0; i < l->n; i++)
                                if (g->nodes[l->v[i]].defined) {
                                        r = tx_add_job(b, l->v[i], DEP_JOB_STOP, j, true);
                                        if (r < 0)
                                                return r;
                                }
                }
        }
        return 0;
}

/* Deletes every live job that no anchor reaches through pull links. */
static int tx_collect_garbage(TxBuild *b)
{
        _cleanup_free_ bool *reach = calloc(b->n_jobs ?: 1, sizeof(bool));
        _cleanup_free_ size_t *queue = calloc(b->n_jobs ?: 1, sizeof(size_t));
        if (!reach || !queue)
                return -ENOMEM;
        size_t head = 0, tail = 0;
        for (size_t j = 0; j < b->n_jobs; j++)
                if (!b->jobs[j].deleted &&
                    (b->jobs[j].anchor || b->jobs[j].wanted_root || b->jobs[j].type == DEP_JOB_WAIT)) {
                        reach[j] = true;
                        queue[tail++] = j;
                }
        while (head < tail) {
                size_t j = queue[head++];
                for (size_t i = 0; i < b->jobs[j].out.n; i++) {
                        size_t k = b->jobs[j].out.v[i];
                        if (!reach[k] && !b->jobs[k].deleted) {
                                reach[k] = true;
                                queue[tail++] = k;
                        }
                }
        }
        for (size_t j = 0; j < b->n_jobs; j++)
                if (!reach[j])
                        b->jobs[j].deleted = true;
        return 0;
}

/* systemd's "matters to anchor": an anchor matters, and so does every live job pulled in by a
 * link that matters (Requires=, BindsTo=, Conflicts=, stop propagation) from a job that matters.
 * A job reached only through Wants=, someone else's Conflicts=, or from a wanted root does not. */
static int tx_compute_matters(TxBuild *b)
{
        _cleanup_free_ size_t *queue = calloc(b->n_jobs ?: 1, sizeof(size_t));
        if (!queue)
                return -ENOMEM;
        size_t head = 0, tail = 0;
        for (size_t j = 0; j < b->n_jobs; j++) {
                b->jobs[j].matters = !b->jobs[j].deleted && b->jobs[j].anchor;
                if (b->jobs[j].matters)
                        queue[tail++] = j;
        }
        while (head < tail) {
                size_t j = queue[head++];
                for (size_t i = 0; i < b->jobs[j].out.n; i++) {
                        TxJob *k = &b->jobs[b->jobs[j].out.v[i]];
                        if (k->deleted || k->matters)
                                continue;
                        for (size_t l = 0; l < k->n_in; l++)
                                if (k->in[l].from == j && k->in[l].matters) {
                                        k->matters = true;
                                        queue[tail++] = b->jobs[j].out.v[i];
                                        break;
                                }
                }
        }
        return 0;
}

static bool tx_job_matters(const TxBuild *b, size_t j)
{
        return b->jobs[j].matters;
}

static const char *job_node_name(const TxBuild *b, size_t j)
{
        return b->g->nodes[b->jobs[j].node].name;
}

/* A start job whose required unit is missing cannot run; neither can start jobs that require it.
 * Such jobs are dropped if the request can do without them, else the request fails. */
static int tx_resolve_missing(TxBuild *b)
{
        _cleanup_free_ size_t *queue = calloc(b->n_jobs ?: 1, sizeof(size_t));
        if (!queue)
                return -ENOMEM;
        size_t head = 0, tail = 0;
        for (size_t j = 0; j < b->n_jobs; j++)
                if (b->jobs[j].missing_node != SIZE_MAX)
                        queue[tail++] = j;
        while (head < tail) {
                size_t j = queue[head++];
                TxJob *job = &b->jobs[j];
                for (size_t i = 0; i < job->n_in; i++) {
                        size_t f = job->in[i].from;
                        if (!job->in[i].matters || b->jobs[f].type != DEP_JOB_START ||
                            b->jobs[f].missing_node != SIZE_MAX)
                                continue;
                        b->jobs[f].missing_node = job->missing_node;
                        b->jobs[f].missing_via = job->missing_via;
                        queue[tail++] = f;
                }
        }
        for (size_t i = 0; i < tail; i++) {
                size_t j = queue[i];
                const TxJob *job = &b->jobs[j];
                const DepNode *m = &b->g->nodes[job->missing_node];
                const char *what = m->defined ? "failed to load" : "not found";
                if (job->anchor)
                        return error_set_msg(b->reterr, m->defined ? -ENOEXEC : -ENOENT,
                                             "Cannot start %s: unit %s %s (required by %s).",
                                             job_node_name(b, j), m->name, what,
                                             job_node_name(b, job->missing_via));
                if (strv_extendf(&b->notes, "Not starting %s: unit %s %s (required by %s).",
                                 job_node_name(b, j), m->name, what, job_node_name(b, job->missing_via)) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < tail; i++)
                b->jobs[queue[i]].deleted = true;
        return tail > 0 ? tx_collect_garbage(b) : 0;
}

/* Deletes job j and, as systemd does, every job that pulled it in through a link that matters
 * (it cannot run without j), transitively, with a note for each of those. */
static int tx_delete_job(TxBuild *b, size_t j)
{
        _cleanup_free_ size_t *stack = calloc(b->n_jobs ?: 1, sizeof(size_t));
        if (!stack)
                return -ENOMEM;
        size_t sp = 0;
        b->jobs[j].deleted = true;
        stack[sp++] = j;
        while (sp > 0) {
                size_t x = stack[--sp];
                for (size_t i = 0; i < b->jobs[x].n_in; i++) {
                        size_t f = b->jobs[x].in[i].from;
                        if (!b->jobs[x].in[i].matters || b->jobs[f].deleted)
                                continue;
                        b->jobs[f].deleted = true;
                        stack[sp++] = f;
                        if (strv_extendf(&b->notes,
                                         "Not %s %s: it needs the %s job of %s, which was dropped.",
                                         b->jobs[f].type == DEP_JOB_STOP ? "stopping" : "starting",
                                         job_node_name(b, f), dep_job_type_to_string(b->jobs[x].type),
                                         job_node_name(b, x)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/*
 * A unit with both a start and a stop job: drop the one that does not matter; when neither does,
 * drop the start (its stop comes from a conflict, and systemd then prefers to remove the start).
 * One job at a time, then garbage collection, as systemd does: dropping one job can make others
 * disappear.
 */
static int tx_resolve_conflicts(TxBuild *b)
{
        for (;;) {
                int r = tx_compute_matters(b);
                if (r < 0)
                        return r;
                bool changed = false;
                for (size_t node = 0; node < b->g->n_nodes && !changed; node++) {
                        size_t s = b->start_of[node], t = b->stop_of[node];
                        if (!job_live(b, s) || !job_live(b, t) || b->jobs[s].type != DEP_JOB_START)
                                continue;
                        const char *name = b->g->nodes[node].name;
                        if (!tx_job_matters(b, s)) {
                                if (strv_extendf(&b->notes,
                                                 "Not starting %s: it conflicts with a unit being started.",
                                                 name) < 0)
                                        return -ENOMEM;
                                r = tx_delete_job(b, s);
                                if (r < 0)
                                        return r;
                        } else if (!tx_job_matters(b, t)) {
                                if (strv_extendf(&b->notes, "Not stopping %s: it is needed by this request.",
                                                 name) < 0)
                                        return -ENOMEM;
                                r = tx_delete_job(b, t);
                                if (r < 0)
                                        return r;
                        } else
                                return error_set_msg(
                                        b->reterr, -EDEADLK,
                                        "Transaction contains conflicting jobs 'start' and 'stop' for %s. "
                                        "Probably contradicting requirement dependencies configured.",
                                        name);
                        changed = true;
                }
                if (!changed)
                        return 0;
                r = tx_collect_garbage(b);
                if (r < 0)
                        return r;
        }
}

/* Adds WAIT jobs for external units that live start jobs are ordered after but that nothing pulls in. */
static int tx_add_wait_jobs(TxBuild *b)
{
        size_t n = b->n_jobs;
        /* drop the previous round's WAIT jobs; those still needed are added again */
        for (size_t j = 0; j < n; j++)
                if (b->jobs[j].type == DEP_JOB_WAIT)
                        b->jobs[j].deleted = true;
        for (size_t j = 0; j < n; j++) {
                if (b->jobs[j].deleted || b->jobs[j].type != DEP_JOB_START)
                        continue;
                const IdxList *l = &b->g->nodes[b->jobs[j].node].fwd[K_AFTER];
                for (size_t i = 0; i < l->n; i++) {
                        size_t m = l->v[i];
                        if (!b->g->nodes[m].external || b->no_wait[m] || job_live(b, b->start_of[m]) ||
                            job_live(b, b->stop_of[m]))
                                continue;
                        size_t before = b->n_jobs;
                        int r = tx_add_job(b, m, DEP_JOB_WAIT, SIZE_MAX, false);
                        if (r < 0)
                                return r;
                        if (b->n_jobs > before)
                                b->jobs[b->n_jobs - 1].anchor = false;
                }
        }
        return 0;
}

static int tx_add_wait_edge(TxBuild *b, size_t waiter, size_t waited)
{
        return idx_push(&b->jobs[waiter].waits, waited);
}

static int tx_build_order(TxBuild *b)
{
        int r;
        for (size_t j = 0; j < b->n_jobs; j++)
                b->jobs[j].waits.n = 0;
        for (size_t j = 0; j < b->n_jobs; j++) {
                if (b->jobs[j].deleted)
                        continue;
                const IdxList *l = &b->g->nodes[b->jobs[j].node].fwd[K_AFTER];
                bool j_stop = b->jobs[j].type == DEP_JOB_STOP;
                for (size_t i = 0; i < l->n; i++) {
                        size_t m = l->v[i];
                        size_t ks[2] = {b->start_of[m], b->stop_of[m]};
                        for (int q = 0; q < 2; q++) {
                                size_t k = ks[q];
                                if (!job_live(b, k))
                                        continue;
                                bool k_stop = b->jobs[k].type == DEP_JOB_STOP;
                                /* node(j) After= node(k). Starts follow the order, stops the
                                 * reverse, and a stop always goes before a start. */
                                if (!j_stop && !k_stop)
                                        r = tx_add_wait_edge(b, j, k);
                                else if (j_stop && k_stop)
                                        r = tx_add_wait_edge(b, k, j);
                                else if (!j_stop && k_stop)
                                        r = tx_add_wait_edge(b, j, k);
                                else
                                        r = tx_add_wait_edge(b, k, j);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

/*
 * DFS over "waits for" edges. Returns 0 when acyclic (and fills `post` with the post-order), or 1
 * with the cycle's jobs in cycle[0..*n_cycle): cycle[i] waits for cycle[i+1], the last for cycle[0].
 */
static int tx_find_cycle(TxBuild *b, size_t *stack, size_t *post, size_t *cycle, size_t *n_cycle)
{
        size_t n_post = 0;
        for (size_t j = 0; j < b->n_jobs; j++)
                b->jobs[j].color = 0;
        for (size_t root = 0; root < b->n_jobs; root++) {
                if (b->jobs[root].deleted || b->jobs[root].color)
                        continue;
                size_t sp = 0;
                stack[sp++] = root;
                b->jobs[root].color = 1;
                b->jobs[root].iter = 0;
                b->jobs[root].pos = 0;
                while (sp > 0) {
                        size_t u = stack[sp - 1];
                        TxJob *ju = &b->jobs[u];
                        if (ju->iter >= ju->waits.n) {
                                ju->color = 2;
                                post[n_post++] = u;
                                sp--;
                                continue;
                        }
                        size_t v = ju->waits.v[ju->iter++];
                        TxJob *jv = &b->jobs[v];
                        if (jv->color == 1) {
                                size_t n = 0;
                                for (size_t i = jv->pos; i < sp; i++)
                                        cycle[n++] = stack[i];
                                *n_cycle = n;
                                return 1;
                        }
                        if (jv->color == 0) {
                                jv->color = 1;
                                jv->iter = 0;
                                jv->pos = sp;
                                stack[sp++] = v;
                        }
                }
        }
        *n_cycle = n_post;
        return 0;
}

static char *job_cycle_text(const TxBuild *b, const size_t *cycle, size_t n)
{
        _cleanup_free_ size_t *nodes = calloc(n, sizeof(size_t));
        if (!nodes)
                return NULL;
        for (size_t i = 0; i < n; i++)
                nodes[i] = b->jobs[cycle[i]].node;
        return cycle_text(b->g, nodes, n);
}

static int cmp_size(const void *a, const void *b)
{
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        return x < y ? -1 : x > y;
}

/* Sorts and de-duplicates l[0..n); returns the new length. */
static size_t uniq_sorted(size_t *l, size_t n)
{
        if (n == 0)
                return 0;
        qsort(l, n, sizeof(size_t), cmp_size);
        size_t w = 1;
        for (size_t i = 1; i < n; i++)
                if (l[i] != l[w - 1])
                        l[w++] = l[i];
        return w;
}

DepTransaction *dep_transaction_free(DepTransaction *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_jobs; i++) {
                free(t->jobs[i].unit);
                free(t->jobs[i].after);
                free(t->jobs[i].before);
                free(t->jobs[i].required_by);
        }
        free(t->jobs);
        free(t->queue);
        strv_free(t->notes);
        return mfree(t);
}

/* Turns the (acyclic) build into the result: layers from the post-order, jobs sorted by layer. */
static int tx_finalize(TxBuild *b, const size_t *post, size_t n_post, DepTransaction **ret)
{
        const DepGraph *g = b->g;
        unsigned n_layers = 0;
        for (size_t i = 0; i < n_post; i++) {
                TxJob *j = &b->jobs[post[i]];
                j->layer = 0;
                for (size_t k = 0; k < j->waits.n; k++)
                        j->layer = MAX(j->layer, b->jobs[j->waits.v[k]].layer + 1);
                n_layers = MAX(n_layers, j->layer + 1);
        }

        _cleanup_(dep_transaction_freep) DepTransaction *t = calloc(1, sizeof(DepTransaction));
        if (!t)
                return -ENOMEM;
        t->jobs = calloc(n_post ?: 1, sizeof(DepJob));
        t->queue = calloc(n_post ?: 1, sizeof(size_t));
        if (!t->jobs || !t->queue)
                return -ENOMEM;
        t->n_layers = n_layers;

        /* stable counting sort by layer, keeping the order in which jobs were pulled in */
        _cleanup_free_ size_t *count = calloc(n_layers + 1, sizeof(size_t));
        if (!count)
                return -ENOMEM;
        for (size_t j = 0; j < b->n_jobs; j++)
                if (!b->jobs[j].deleted)
                        count[b->jobs[j].layer + 1]++;
        for (unsigned l = 0; l < n_layers; l++)
                count[l + 1] += count[l];
        for (size_t j = 0; j < b->n_jobs; j++)
                if (!b->jobs[j].deleted)
                        b->jobs[j].final = count[b->jobs[j].layer]++;
        t->n_jobs = n_post;

        for (size_t j = 0; j < b->n_jobs; j++) {
                const TxJob *x = &b->jobs[j];
                if (x->deleted)
                        continue;
                DepJob *d = &t->jobs[x->final];
                d->unit = strdup(g->nodes[x->node].name);
                if (!d->unit)
                        return -ENOMEM;
                d->type = x->type;
                d->external = g->nodes[x->node].external;
                d->anchor = x->anchor;
                d->layer = x->layer;
                d->after = calloc(x->waits.n ?: 1, sizeof(size_t));
                if (!d->after)
                        return -ENOMEM;
                for (size_t k = 0; k < x->waits.n; k++)
                        d->after[k] = b->jobs[x->waits.v[k]].final;
                d->n_after = uniq_sorted(d->after, x->waits.n);
        }
        /* before[] as the inverse of after[] */
        for (size_t i = 0; i < t->n_jobs; i++)
                for (size_t k = 0; k < t->jobs[i].n_after; k++)
                        t->jobs[t->jobs[i].after[k]].n_before++;
        for (size_t i = 0; i < t->n_jobs; i++) {
                t->jobs[i].before = calloc(t->jobs[i].n_before ?: 1, sizeof(size_t));
                if (!t->jobs[i].before)
                        return -ENOMEM;
                t->jobs[i].n_before = 0;
        }
        for (size_t i = 0; i < t->n_jobs; i++)
                for (size_t k = 0; k < t->jobs[i].n_after; k++) {
                        DepJob *w = &t->jobs[t->jobs[i].after[k]];
                        w->before[w->n_before++] = i;
                }
        /* required_by[]: live start jobs of units that Require=/BindsTo= this job's unit */
        for (size_t j = 0; j < b->n_jobs; j++) {
                const TxJob *x = &b->jobs[j];
                if (x->deleted || x->type != DEP_JOB_START)
                        continue;
                DepJob *d = &t->jobs[x->final];
                IdxList acc = {};
                for (int k = K_REQUIRES; k <= K_BINDS_TO; k += K_BINDS_TO - K_REQUIRES) {
                        const IdxList *l = &g->nodes[x->node].rev[k];
                        for (size_t i = 0; i < l->n; i++) {
                                size_t s = b->start_of[l->v[i]];
                                if (job_live(b, s) && b->jobs[s].type == DEP_JOB_START &&
                                    idx_push(&acc, b->jobs[s].final) < 0) {
                                        idx_done(&acc);
                                        return -ENOMEM;
                                }
                        }
                }
                d->n_required_by = uniq_sorted(acc.v, acc.n);
                d->required_by = acc.v;
        }
        for (size_t i = 0; i < t->n_jobs; i++) {
                t->jobs[i].n_pending = t->jobs[i].n_after;
                if (t->jobs[i].n_pending == 0)
                        t->queue[t->queue_tail++] = i;
        }
        t->notes = TAKE_PTR(b->notes);
        *ret = TAKE_PTR(t);
        return 0;
}

static int tx_build(const DepGraph *g, char *const *units, DepJobType type, bool wanted,
                    DepTransaction **ret, Error *reterr)
{
        _cleanup_(tx_build_done) TxBuild b = {.g = g, .reterr = reterr};
        _cleanup_free_ size_t *stack = NULL, *post = NULL, *cycle = NULL;
        int r;

        b.start_of = malloc((g->n_nodes ?: 1) * sizeof(size_t));
        b.stop_of = malloc((g->n_nodes ?: 1) * sizeof(size_t));
        b.no_wait = calloc(g->n_nodes ?: 1, sizeof(bool));
        if (!b.start_of || !b.stop_of || !b.no_wait)
                return error_set(reterr, -ENOMEM, "building transaction");
        for (size_t i = 0; i < g->n_nodes; i++)
                b.start_of[i] = b.stop_of[i] = SIZE_MAX;

        STRV_FOREACH (u, (char **)units) {
                _cleanup_free_ char *n = NULL;
                r = name_normalize(*u, &n, reterr);
                if (r < 0)
                        return r;
                ssize_t k = graph_lookup(g, n);
                bool missing = k < 0 || (!g->nodes[k].defined && !g->nodes[k].external);
                bool broken = !missing && type == DEP_JOB_START && g->nodes[k].broken;
                if ((missing || broken) && wanted) {
                        r = strv_extendf(&b.notes, "Unit %s %s, ignoring.", n,
                                         missing ? "not found" : "failed to load");
                        if (r < 0)
                                return error_set(reterr, r, "building transaction");
                        continue;
                }
                if (missing)
                        return error_set_msg(reterr, -ENOENT, "Unit %s not found.", n);
                if (broken)
                        return error_set_msg(reterr, -ENOEXEC, "Unit %s failed to load.", n);
                r = tx_add_job(&b, (size_t)k, type, SIZE_MAX, true);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
                if (wanted) {
                        size_t j = *slot_of(&b, (size_t)k, type);
                        b.jobs[j].anchor = false;
                        b.jobs[j].wanted_root = true;
                }
        }
        for (size_t j = 0; j < b.n_jobs; j++) {
                r = tx_expand(&b, j);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
        }
        r = tx_resolve_missing(&b);
        if (r < 0)
                return error_isset(reterr) ? r : error_set(reterr, r, "building transaction");
        r = tx_resolve_conflicts(&b);
        if (r < 0)
                return error_isset(reterr) ? r : error_set(reterr, r, "building transaction");

        for (;;) {
                r = tx_add_wait_jobs(&b);
                if (r >= 0)
                        r = tx_build_order(&b);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
                stack = mfree(stack);
                post = mfree(post);
                cycle = mfree(cycle);
                stack = calloc(b.n_jobs ?: 1, sizeof(size_t));
                post = calloc(b.n_jobs ?: 1, sizeof(size_t));
                cycle = calloc(b.n_jobs ?: 1, sizeof(size_t));
                if (!stack || !post || !cycle)
                        return error_set(reterr, -ENOMEM, "building transaction");
                size_t n;
                r = tx_find_cycle(&b, stack, post, cycle, &n);
                if (r == 0) {
                        r = tx_finalize(&b, post, n, ret);
                        return r < 0 ? error_set(reterr, r, "building transaction") : 0;
                }

                _cleanup_free_ char *text = job_cycle_text(&b, cycle, n);
                if (!text)
                        return error_set(reterr, -ENOMEM, "building transaction");
                /* like systemd: walk back from where the cycle closed, drop the first job that does
                 * not matter to the request */
                r = tx_compute_matters(&b);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
                size_t victim = SIZE_MAX;
                for (size_t i = n; i > 0; i--)
                        if (!tx_job_matters(&b, cycle[i - 1])) {
                                victim = cycle[i - 1];
                                break;
                        }
                if (victim == SIZE_MAX)
                        return error_set_msg(
                                reterr, -ELOOP,
                                "Ordering cycle %s: cannot be broken, every job in it is required.", text);
                const char *vname = job_node_name(&b, victim);
                DepJobType vt = b.jobs[victim].type;
                r = strv_extendf(&b.notes, "Ordering cycle %s: %s %s, to break it.", text,
                                 vt == DEP_JOB_STOP   ? "not stopping"
                                 : vt == DEP_JOB_WAIT ? "not waiting for"
                                                      : "not starting",
                                 vname);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
                if (vt == DEP_JOB_WAIT)
                        b.no_wait[b.jobs[victim].node] = true;
                r = tx_delete_job(&b, victim);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
                r = tx_collect_garbage(&b);
                if (r < 0)
                        return error_set(reterr, r, "building transaction");
        }
}

int dep_transaction_start(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr)
{
        return tx_build(g, units, DEP_JOB_START, false, ret, reterr);
}

int dep_transaction_start_wanted(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr)
{
        return tx_build(g, units, DEP_JOB_START, true, ret, reterr);
}

int dep_transaction_stop(const DepGraph *g, char *const *units, DepTransaction **ret, Error *reterr)
{
        return tx_build(g, units, DEP_JOB_STOP, false, ret, reterr);
}

ssize_t dep_transaction_find(const DepTransaction *t, const char *unit, DepJobType type)
{
        const char *e = endswith(unit, ".ctr");
        size_t len = e && e != unit ? (size_t)(e - unit) : strlen(unit);
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i].type == type && strlen(t->jobs[i].unit) == len &&
                    strneq(t->jobs[i].unit, unit, len))
                        return (ssize_t)i;
        return -ENOENT;
}

/* ---------------------------------------------------------------- running transactions */

int dep_transaction_next(DepTransaction *t, size_t *ret_index)
{
        while (t->queue_head < t->queue_tail) {
                size_t i = t->queue[t->queue_head++];
                if (t->jobs[i].state != DEP_JOB_WAITING)
                        continue; /* finished by dependency failure meanwhile */
                t->jobs[i].state = DEP_JOB_RUNNING;
                *ret_index = i;
                return 1;
        }
        return 0;
}

/* Marks job i finished and releases the jobs waiting for it. */
static void tx_complete(DepTransaction *t, size_t i)
{
        t->n_finished++;
        DepJob *j = &t->jobs[i];
        for (size_t k = 0; k < j->n_before; k++) {
                DepJob *w = &t->jobs[j->before[k]];
                if (--w->n_pending == 0 && w->state == DEP_JOB_WAITING)
                        t->queue[t->queue_tail++] = j->before[k];
        }
}

int dep_transaction_finish(DepTransaction *t, size_t index, DepJobResult result)
{
        if (index >= t->n_jobs || !(result == DEP_JOB_RESULT_DONE || result == DEP_JOB_RESULT_FAILED ||
                                    result == DEP_JOB_RESULT_TIMEOUT))
                return -EINVAL;
        DepJob *j = &t->jobs[index];
        if (j->state == DEP_JOB_FINISHED)
                return 0;
        if (j->state != DEP_JOB_RUNNING)
                return -EINVAL;
        j->state = DEP_JOB_FINISHED;
        j->result = result;
        tx_complete(t, index);
        if (result == DEP_JOB_RESULT_DONE || j->type != DEP_JOB_START)
                return 0;

        /* fail what required it, transitively; the worklist has room for every job once */
        _cleanup_free_ size_t *work = calloc(t->n_jobs, sizeof(size_t));
        if (!work)
                return -ENOMEM;
        size_t n = 0, failed = 0;
        work[n++] = index;
        while (n > 0) {
                DepJob *f = &t->jobs[work[--n]];
                for (size_t k = 0; k < f->n_required_by; k++) {
                        size_t r = f->required_by[k];
                        DepJob *d = &t->jobs[r];
                        if (d->state == DEP_JOB_FINISHED)
                                continue;
                        d->state = DEP_JOB_FINISHED;
                        d->result = DEP_JOB_RESULT_DEPENDENCY;
                        tx_complete(t, r);
                        failed++;
                        work[n++] = r;
                }
        }
        return (int)failed;
}

bool dep_transaction_is_done(const DepTransaction *t)
{
        return t->n_finished >= t->n_jobs;
}
