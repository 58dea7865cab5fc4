/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* units/unit.c — the Unit object: construction, diagnostics, defaults, names, string tables. */

#include <signal.h>

#include "units/unit-internal.h"

/* ---------------------------------------------------------------- string tables */

static const char *const load_state_table[_UNIT_LOAD_STATE_MAX] = {
        [UNIT_LOAD_LOADED] = "loaded",
        [UNIT_LOAD_ERROR] = "error",
        [UNIT_LOAD_MASKED] = "masked",
        [UNIT_LOAD_NOT_FOUND] = "not-found",
};
static const char *const restart_table[_UNIT_RESTART_MAX] = {
        [UNIT_RESTART_NO] = "no",
        [UNIT_RESTART_ON_SUCCESS] = "on-success",
        [UNIT_RESTART_ON_FAILURE] = "on-failure",
        [UNIT_RESTART_ON_ABNORMAL] = "on-abnormal",
        [UNIT_RESTART_ON_ABORT] = "on-abort",
        [UNIT_RESTART_ALWAYS] = "always",
};
static const char *const notify_table[_UNIT_NOTIFY_MAX] = {
        [UNIT_NOTIFY_FALSE] = "false",
        [UNIT_NOTIFY_TRUE] = "true",
        [UNIT_NOTIFY_HEALTHY] = "healthy",
};
static const char *const health_on_failure_table[_UNIT_HEALTH_ON_FAILURE_MAX] = {
        [UNIT_HEALTH_ON_FAILURE_NONE] = "none",
        [UNIT_HEALTH_ON_FAILURE_KILL] = "kill",
        [UNIT_HEALTH_ON_FAILURE_RESTART] = "restart",
        [UNIT_HEALTH_ON_FAILURE_STOP] = "stop",
};
static const char *const network_table[_UNIT_NETWORK_MAX] = {
        [UNIT_NETWORK_PRIVATE] = "private",
        [UNIT_NETWORK_NONE] = "none",
        [UNIT_NETWORK_HOST] = "host",
};
static const char *const userns_table[_UNIT_USERNS_MAX] = {
        [UNIT_USERNS_HOST] = "host",
        [UNIT_USERNS_AUTO] = "auto",
        [UNIT_USERNS_MAP] = "map",
};
static const char *const mount_type_table[_UNIT_MOUNT_TYPE_MAX] = {
        [UNIT_MOUNT_BIND] = "bind",
        [UNIT_MOUNT_VOLUME] = "volume",
        [UNIT_MOUNT_ANONYMOUS] = "anonymous",
        [UNIT_MOUNT_TMPFS] = "tmpfs",
};
static const char *const propagation_table[_UNIT_PROPAGATION_MAX] = {
        [UNIT_PROPAGATION_DEFAULT] = "",          [UNIT_PROPAGATION_PRIVATE] = "private",
        [UNIT_PROPAGATION_RPRIVATE] = "rprivate", [UNIT_PROPAGATION_SHARED] = "shared",
        [UNIT_PROPAGATION_RSHARED] = "rshared",   [UNIT_PROPAGATION_SLAVE] = "slave",
        [UNIT_PROPAGATION_RSLAVE] = "rslave",
};

#define TO_STRING(fn, type, table)                                \
        const char *fn(type v)                                    \
        {                                                         \
                if ((int)v < 0 || (size_t)v >= ELEMENTSOF(table)) \
                        return NULL;                              \
                return table[v];                                  \
        }

TO_STRING(unit_load_state_to_string, UnitLoadState, load_state_table)
TO_STRING(unit_restart_to_string, UnitRestart, restart_table)
TO_STRING(unit_notify_to_string, UnitNotify, notify_table)
TO_STRING(unit_health_on_failure_to_string, UnitHealthOnFailure, health_on_failure_table)
TO_STRING(unit_network_to_string, UnitNetwork, network_table)
TO_STRING(unit_userns_to_string, UnitUserNS, userns_table)
TO_STRING(unit_mount_type_to_string, UnitMountType, mount_type_table)
TO_STRING(unit_propagation_to_string, UnitPropagation, propagation_table)

/* ---------------------------------------------------------------- names */

static bool unit_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr(":-_.\\", c);
}

static const char *unit_suffix_of(const char *name)
{
        if (endswith(name, UNIT_SUFFIX))
                return endswith(name, UNIT_SUFFIX);
        if (endswith(name, UNIT_SUFFIX_QUADLET))
                return endswith(name, UNIT_SUFFIX_QUADLET);
        return NULL;
}

/* Validates a name without suffix. */
static bool unit_base_name_is_valid(const char *n, size_t len)
{
        if (len == 0 || len + STRLEN(UNIT_SUFFIX_QUADLET) > UNIT_NAME_MAX)
                return false;
        if (n[0] == '.' || n[0] == '@')
                return false;
        const char *at = NULL;
        for (size_t i = 0; i < len; i++) {
                if (n[i] == '@') {
                        if (at)
                                return false;
                        at = n + i;
                        continue;
                }
                if (!unit_char_ok(n[i]))
                        return false;
        }
        return true;
}

bool unit_name_is_valid(const char *name)
{
        if (!name)
                return false;
        const char *suffix = unit_suffix_of(name);
        size_t len = suffix ? (size_t)(suffix - name) : strlen(name);
        if (!suffix && strchr(name, '.')) {
                /* A dotted name without our suffix is only fine if it is not some other unit type. */
                if (unit_name_is_systemd(name))
                        return false;
        }
        return unit_base_name_is_valid(name, len);
}

int unit_name_normalize(const char *name, char **ret)
{
        if (!unit_name_is_valid(name))
                return -EINVAL;
        const char *suffix = unit_suffix_of(name);
        char *s = suffix ? strndup(name, suffix - name) : strdup(name);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

bool unit_name_is_systemd(const char *name)
{
        static const char *const suffixes[] = {
                ".service", ".target", ".socket", ".mount", ".automount", ".swap",
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

int unit_name_split(const char *name, char **ret_prefix, char **ret_instance, bool *ret_template)
{
        const char *at = strchr(name, '@');
        _cleanup_free_ char *prefix = NULL, *instance = NULL;

        if (at) {
                prefix = strndup(name, at - name);
                if (!prefix)
                        return -ENOMEM;
                if (at[1]) {
                        instance = strdup(at + 1);
                        if (!instance)
                                return -ENOMEM;
                }
        } else {
                prefix = strdup(name);
                if (!prefix)
                        return -ENOMEM;
        }
        if (ret_template)
                *ret_template = at && !at[1];
        *ret_prefix = TAKE_PTR(prefix);
        *ret_instance = TAKE_PTR(instance);
        return 0;
}

int unit_name_template(const char *name, char **ret)
{
        _cleanup_free_ char *n = NULL;
        int r = unit_name_normalize(name, &n);
        if (r < 0)
                return r;
        char *at = strchr(n, '@');
        if (!at || !at[1])
                return -EINVAL;
        at[1] = '\0';
        *ret = TAKE_PTR(n);
        return 0;
}

/* ---------------------------------------------------------------- defaults */

void unit_config_init(UnitConfig *c)
{
        *c = (UnitConfig){
                .read_only_tmpfs = true,
                .no_new_privileges = true,
                .userns_auto_size = 65536,
                .stop_signal = 0, /* unset: the image's StopSignal, else SIGTERM */
                .stop_timeout_usec = 10 * USEC_PER_SEC,
                .health_interval_usec = 30 * USEC_PER_SEC,
                .health_timeout_usec = 30 * USEC_PER_SEC,
                .health_retries = 3,
                .restart_usec = 100 * USEC_PER_MSEC,
                .restart_max_delay_usec = USEC_INFINITY,
                .timeout_start_usec = 90 * USEC_PER_SEC,
                .timeout_stop_usec = 90 * USEC_PER_SEC,
                .start_limit_burst = 5,
                .start_limit_interval_usec = 10 * USEC_PER_SEC,
        };
}

static void unit_mount_done(UnitMount *m)
{
        free(m->source);
        free(m->destination);
        free(m->tmpfs_options);
}

void unit_config_done(UnitConfig *c)
{
        free(c->description);
        strv_free(c->documentation);
        strv_free(c->after);
        strv_free(c->before);
        strv_free(c->requires);
        strv_free(c->wants);
        strv_free(c->binds_to);
        strv_free(c->conflicts);
        free(c->image);
        free(c->rootfs);
        strv_free(c->exec);
        strv_free(c->entrypoint);
        free(c->working_dir);
        free(c->user);
        free(c->group);
        strv_free(c->environment);
        strv_free(c->environment_files);
        free(c->hostname);
        for (size_t i = 0; i < c->n_mounts; i++)
                unit_mount_done(&c->mounts[i]);
        free(c->mounts);
        free(c->seccomp_profile);
        strv_free(c->mask);
        strv_free(c->unmask);
        strv_free(c->sysctl);
        for (size_t i = 0; i < c->n_devices; i++) {
                free(c->devices[i].host_path);
                free(c->devices[i].container_path);
        }
        free(c->devices);
        free(c->uid_map);
        free(c->gid_map);
        free(c->ulimits);
        strv_free(c->health_cmd);
        strv_free(c->reload_cmd);
        strv_free(c->labels);
        strv_free(c->annotations);
        strv_free(c->wanted_by);
        strv_free(c->alias);
        free(c->default_instance);
        unit_config_init(c);
}

/* ---------------------------------------------------------------- object */

Unit *unit_new(const char *name)
{
        Unit *u = calloc(1, sizeof(*u));
        if (!u)
                return NULL;
        u->name = strdup(name);
        if (!u->name)
                return mfree(u);
        if (unit_name_split(name, &u->prefix, &u->instance, &u->is_template) < 0) {
                free(u->name);
                return mfree(u);
        }
        u->load_state = UNIT_LOAD_NOT_FOUND;
        unit_config_init(&u->config);
        return u;
}

void unit_diags_free(UnitDiag *d, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(d[i].file);
                free(d[i].message);
                free(d[i].text);
        }
        free(d);
}

Unit *unit_free(Unit *u)
{
        if (!u)
                return NULL;
        free(u->name);
        free(u->prefix);
        free(u->instance);
        free(u->load_error);
        free(u->fragment_path);
        strv_free(u->dropin_paths);
        strv_free(u->aliases);
        unit_diags_free(u->diags, u->n_diags);
        free(u->effective_text);
        unit_config_done(&u->config);
        return mfree(u);
}

void unit_diag(Unit *u, UnitDiagLevel level, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        unit_diagv(u, level, file, line, fmt, ap);
        va_end(ap);
}

void unit_diagv(Unit *u, UnitDiagLevel level, const char *file, unsigned line, const char *fmt, va_list ap)
{
        if (level == UNIT_DIAG_ERROR)
                u->n_errors++;
        else
                u->n_warnings++;
        if (u->n_diags >= UNIT_DIAGS_MAX)
                return;

        UnitDiag *n = realloc(u->diags, (u->n_diags + 1) * sizeof(UnitDiag));
        if (!n)
                return; /* counted above, so an error still fails the unit */
        u->diags = n;

        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (!msg)
                return;

        const char *lvl = level == UNIT_DIAG_ERROR ? "error" : "warning";
        char *text;
        if (file && line > 0)
                text = strprintf("%s:%u: %s: %s", file, line, lvl, msg);
        else
                text = strprintf("%s: %s: %s", file ?: u->name, lvl, msg);
        char *f = file ? strdup(file) : NULL;
        if (!text || (file && !f)) {
                free(msg);
                free(text);
                free(f);
                return;
        }
        u->diags[u->n_diags++] = (UnitDiag){
                .level = level,
                .file = f,
                .line = line,
                .message = msg,
                .text = text,
        };
}

/* Rank of a diagnostic's file: the fragment, then the drop-ins in merge order, then the rest. */
static size_t diag_rank(const Unit *u, const UnitDiag *d)
{
        if (!d->file)
                return SIZE_MAX;
        if (streq_ptr(d->file, u->fragment_path))
                return 0;
        size_t i = 1;
        STRV_FOREACH (p, u->dropin_paths) {
                if (streq(*p, d->file))
                        return i;
                i++;
        }
        return SIZE_MAX - 1;
}

/* Stable sort into file order and line order: syntax and value problems were found in separate
 * passes, the reader wants them as they appear in the files. */
static void unit_sort_diags(Unit *u)
{
        for (size_t i = 1; i < u->n_diags; i++) {
                UnitDiag d = u->diags[i];
                size_t rd = diag_rank(u, &d), j = i;
                while (j > 0) {
                        const UnitDiag *p = &u->diags[j - 1];
                        size_t rp = diag_rank(u, p);
                        if (rp < rd || (rp == rd && p->line <= d.line))
                                break;
                        u->diags[j] = *p;
                        j--;
                }
                u->diags[j] = d;
        }
}

int unit_finalize(Unit *u)
{
        unit_sort_diags(u);
        if (u->load_state == UNIT_LOAD_MASKED || u->load_state == UNIT_LOAD_NOT_FOUND) {
                if (u->load_state == UNIT_LOAD_NOT_FOUND && !u->load_error) {
                        u->load_error = strprintf("Unit %s not found.", u->name);
                        if (!u->load_error)
                                return -ENOMEM;
                }
                return 0;
        }
        if (u->n_errors == 0) {
                u->load_state = UNIT_LOAD_LOADED;
                return 0;
        }

        u->load_state = UNIT_LOAD_ERROR;
        _cleanup_free_ char *text = NULL;
        for (size_t i = 0; i < u->n_diags; i++) {
                if (u->diags[i].level != UNIT_DIAG_ERROR)
                        continue;
                if (strextend_with_separator(&text, "\n", u->diags[i].text) < 0)
                        return -ENOMEM;
        }
        if (!text) {
                /* every error was dropped (ENOMEM or beyond the cap) */
                text = strprintf("%s: error: %zu errors", u->name, u->n_errors);
                if (!text)
                        return -ENOMEM;
        }
        u->load_error = TAKE_PTR(text);
        /* A failed unit keeps no half-parsed model. */
        unit_config_done(&u->config);
        return 0;
}

/* FNV-1a 64 */
static uint64_t hash_text(const char *s)
{
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (; s && *s; s++) {
                h ^= (uint8_t)*s;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

int unit_append_effective(Unit *u, const char *path, const char *data, size_t size)
{
        bool first = !u->effective_text;
        bool nl = size == 0 || data[size - 1] == '\n';
        char *t = strprintf("%s%s# %s\n%.*s%s", strempty(u->effective_text), first ? "" : "\n", path,
                            (int)size, data, nl ? "" : "\n");
        if (!t)
                return -ENOMEM;
        free(u->effective_text);
        u->effective_text = t;
        u->content_hash = hash_text(t);
        return 0;
}

int unit_cat(const Unit *u, char **ret)
{
        if (!u->effective_text)
                return -ENOENT;
        char *s = strdup(u->effective_text);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

bool unit_equal(const Unit *a, const Unit *b)
{
        if (!a || !b)
                return a == b;
        return a->load_state == b->load_state && streq_ptr(a->name, b->name) &&
               a->content_hash == b->content_hash && streq_ptr(a->effective_text, b->effective_text);
}

/* ---------------------------------------------------------------- sets */

UnitSet *unit_set_free(UnitSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_units; i++)
                unit_free(s->units[i]);
        free(s->units);
        unit_diags_free(s->diags, s->n_diags);
        return mfree(s);
}

Unit *unit_set_find(const UnitSet *s, const char *name)
{
        _cleanup_free_ char *n = NULL;
        if (!s || unit_name_normalize(name, &n) < 0)
                return NULL;
        size_t lo = 0, hi = s->n_units;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(n, s->units[mid]->name);
                if (c == 0)
                        return s->units[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        for (size_t i = 0; i < s->n_units; i++)
                if (strv_contains(s->units[i]->aliases, n))
                        return s->units[i];
        return NULL;
}
