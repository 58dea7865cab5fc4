/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units/load.c — finding unit files and their drop-ins, masking, templates, and loading.
 *
 * Search path: the loader's directories, highest precedence first (default /etc/ctrmgr >
 * /run/ctrmgr/units > /usr/lib/ctrmgr/units). The first directory that has NAME.ctr (or
 * Quadlet's NAME.container; .ctr wins in the same directory) provides the fragment; a fragment
 * that is a symlink to /dev/null or an empty file masks the unit. An instance "web@blue" uses
 * web@blue.ctr when one exists (usually a symlink to the template), else the template web@.ctr.
 *
 * Drop-ins, as systemd.unit(5): for every directory of the search path, in precedence order, the
 * drop-in directories NAME.ctr.d/, for instances TEMPLATE.ctr.d/ ("web@.ctr.d"), then the
 * dash-prefix directories ("a-b-c" → "a-b-.ctr.d", "a-.ctr.d"), then the top-level "ctr.d/"
 * (and the same with ".container"). Every "*.conf" file there counts; a file name seen first
 * shadows later ones of the same name (so /etc beats /usr/lib and the unit's own directory beats
 * the prefix ones); a drop-in that is a symlink to /dev/null or empty masks that name. The
 * drop-ins then apply in lexical order of their file names, after the fragment. Files starting
 * with '.' or ending in ".ignore" are skipped.
 */

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "units/unit-internal.h"

struct UnitLoader {
        char **dirs;
        HostInfo host;
};

static const char *const suffixes[] = {UNIT_SUFFIX, UNIT_SUFFIX_QUADLET};

int unit_loader_new(char *const *dirs, UnitLoader **ret)
{
        UnitLoader *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        if (dirs)
                l->dirs = strv_copy(dirs);
        else
                l->dirs = strv_new(UNIT_PATH_ETC, UNIT_PATH_RUN, UNIT_PATH_USR_LIB, NULL);
        if (!l->dirs) {
                free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

UnitLoader *unit_loader_free(UnitLoader *l)
{
        if (!l)
                return NULL;
        strv_free(l->dirs);
        host_info_done(&l->host);
        return mfree(l);
}

char *const *unit_loader_dirs(const UnitLoader *l)
{
        return l->dirs;
}

int unit_loader_set_host(UnitLoader *l, const char *hostname, const char *machine_id, const char *boot_id,
                         const char *kernel_release)
{
        int r;
        if (hostname && (r = free_and_strdup(&l->host.hostname, hostname)) < 0)
                return r;
        if (machine_id && (r = free_and_strdup(&l->host.machine_id, machine_id)) < 0)
                return r;
        if (boot_id && (r = free_and_strdup(&l->host.boot_id, boot_id)) < 0)
                return r;
        if (kernel_release && (r = free_and_strdup(&l->host.kernel_release, kernel_release)) < 0)
                return r;
        return 0;
}

/* ---------------------------------------------------------------- files */

static bool file_name_ignored(const char *n)
{
        return n[0] == '.' || endswith(n, ".ignore");
}

/* 1 if path is a symlink to /dev/null or an empty regular file, 0 if not, -ENOENT if missing. */
static int path_is_masked(const char *path, struct stat *ret_st)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT) {
                        struct stat lst;
                        /* a dangling symlink still counts as present, and is not a mask */
                        if (lstat(path, &lst) == 0)
                                return -ELOOP;
                }
                return negative_errno();
        }
        if (ret_st)
                *ret_st = st;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return 1;
        if (S_ISREG(st.st_mode) && st.st_size == 0)
                return 1;
        return 0;
}

static int read_unit_file(Unit *u, const char *path, char **ret, size_t *ret_size)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                unit_diag(u, UNIT_DIAG_ERROR, path, 0, "Cannot open: %s", strerror(errno));
                return -EIO;
        }
        if (!S_ISREG(st.st_mode)) {
                unit_diag(u, UNIT_DIAG_ERROR, path, 0, "Not a regular file");
                return -EIO;
        }
        if (st.st_mode & S_IWOTH)
                unit_diag(u, UNIT_DIAG_WARNING, path, 0, "File is world-writable");
        int r = read_full_file_at(AT_FDCWD, path, UNIT_FILE_SIZE_MAX, ret, ret_size);
        if (r == -EFBIG || r == -E2BIG) {
                unit_diag(u, UNIT_DIAG_ERROR, path, 0, "File is larger than %u bytes",
                          (unsigned)UNIT_FILE_SIZE_MAX);
                return -EIO;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                unit_diag(u, UNIT_DIAG_ERROR, path, 0, "Cannot read: %s", strerror(-r));
                return -EIO;
        }
        return 0;
}

/* ---------------------------------------------------------------- drop-ins */

typedef struct DropIn {
        char *name; /* file name, the shadowing key */
        char *path;
        bool masked;
} DropIn;

static void dropins_free(DropIn *d, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
}

static int dropin_cmp(const void *a, const void *b)
{
        return strcmp(((const DropIn *)a)->name, ((const DropIn *)b)->name);
}

static int collect_dropin_dir(Unit *u, const char *dir, DropIn **list, size_t *n)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOMEM ? -ENOMEM : 0;

        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (file_name_ignored(de->d_name) || !endswith(de->d_name, ".conf"))
                        continue;
                bool dup = false;
                for (size_t i = 0; i < *n; i++)
                        if (streq((*list)[i].name, de->d_name))
                                dup = true;
                if (dup)
                        continue; /* shadowed by a higher-precedence directory */
                if (*n >= UNIT_DROPINS_MAX) {
                        unit_diag(u, UNIT_DIAG_ERROR, dir, 0, "Too many drop-ins (more than %d)",
                                  UNIT_DROPINS_MAX);
                        return 0;
                }
                _cleanup_free_ char *p = path_join(dir, de->d_name);
                if (!p)
                        return -ENOMEM;
                int m = path_is_masked(p, NULL);
                if (m == -ENOENT || m == -ELOOP)
                        continue;
                if (m < 0) {
                        unit_diag(u, UNIT_DIAG_WARNING, p, 0, "Cannot access drop-in: %s, ignoring",
                                  strerror(-m));
                        continue;
                }
                DropIn *nl = realloc(*list, (*n + 1) * sizeof(DropIn));
                if (!nl)
                        return -ENOMEM;
                *list = nl;
                nl[*n] = (DropIn){.name = strdup(de->d_name), .path = TAKE_PTR(p), .masked = m > 0};
                if (!nl[*n].name) {
                        free(nl[*n].path);
                        return -ENOMEM;
                }
                (*n)++;
        }
        return 0;
}

/* The names whose drop-in directories apply to unit NAME, most specific first (without suffix). */
static int dropin_names(const Unit *u, char ***ret)
{
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = strv_extend(&names, u->name);
        if (r < 0)
                return r;
        if (u->instance) {
                r = strv_extendf(&names, "%s@", u->prefix);
                if (r < 0)
                        return r;
        }
        /* dash prefixes of the prefix: "a-b-c" → "a-b-", "a-" ; for templates "a-b@" → "a-" */
        const char *p = u->prefix;
        for (size_t i = strlen(p); i > 0; i--) {
                if (p[i - 1] != '-' || i == strlen(p))
                        continue;
                r = strv_consume(&names, strndup(p, i));
                if (r < 0)
                        return r;
        }
        r = strv_extend(&names, ""); /* top-level "ctr.d" */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

static int find_dropins(Unit *u, char **dirs, DropIn **ret, size_t *ret_n)
{
        _cleanup_strv_free_ char **names = NULL;
        DropIn *list = NULL;
        size_t n = 0;
        int r;

        r = dropin_names(u, &names);
        if (r < 0)
                return r;
        STRV_FOREACH (dir, dirs)
                STRV_FOREACH (name, names)
                        for (size_t s = 0; s < ELEMENTSOF(suffixes); s++) {
                                /* "web" + ".ctr" + ".d"; the top-level dir is "ctr.d" */
                                _cleanup_free_ char *sub = strprintf(
                                        "%s%s.d", *name, isempty(*name) ? suffixes[s] + 1 : suffixes[s]);
                                if (!sub) {
                                        dropins_free(list, n);
                                        return -ENOMEM;
                                }
                                _cleanup_free_ char *p = path_join(*dir, sub);
                                if (!p) {
                                        dropins_free(list, n);
                                        return -ENOMEM;
                                }
                                r = collect_dropin_dir(u, p, &list, &n);
                                if (r < 0) {
                                        dropins_free(list, n);
                                        return r;
                                }
                        }
        if (n > 0)
                qsort(list, n, sizeof(DropIn), dropin_cmp);
        *ret = list;
        *ret_n = n;
        return 0;
}

/* ---------------------------------------------------------------- fragments */

/* Finds NAME's fragment in dirs. 1 found (path in *ret, masked in *ret_masked), 0 not found. */
static int find_fragment(Unit *u, char **dirs, const char *name, char **ret, bool *ret_masked)
{
        STRV_FOREACH (dir, dirs) {
                _cleanup_free_ char *found = NULL;
                int found_masked = 0;
                for (size_t s = 0; s < ELEMENTSOF(suffixes); s++) {
                        _cleanup_free_ char *p = strprintf("%s/%s%s", *dir, name, suffixes[s]);
                        if (!p)
                                return -ENOMEM;
                        int m = path_is_masked(p, NULL);
                        if (m == -ENOENT)
                                continue;
                        if (m == -ELOOP) {
                                unit_diag(u, UNIT_DIAG_WARNING, p, 0, "Dangling symlink, ignoring");
                                continue;
                        }
                        if (m < 0) {
                                unit_diag(u, UNIT_DIAG_WARNING, p, 0, "Cannot access: %s, ignoring",
                                          strerror(-m));
                                continue;
                        }
                        if (found) {
                                unit_diag(u, UNIT_DIAG_WARNING, p, 0,
                                          "Ignored: %s in the same directory takes precedence", found);
                                continue;
                        }
                        found = TAKE_PTR(p);
                        found_masked = m;
                }
                if (found) {
                        *ret = TAKE_PTR(found);
                        *ret_masked = found_masked > 0;
                        return 1;
                }
        }
        return 0;
}

/* Parses fragment and drop-ins into u (fragment_path already set, u not masked). */
static int unit_load_files(UnitLoader *l, Unit *u, char **dropin_dirs)
{
        AssignmentList al = {};
        DropIn *dropins = NULL;
        size_t n_dropins = 0;
        int r;

        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        r = read_unit_file(u, u->fragment_path, &data, &size);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = 0;
                goto finish; /* reported */
        }
        r = unit_append_effective(u, u->fragment_path, data, size);
        if (r < 0)
                goto finish;
        r = unit_syntax_parse(u, u->fragment_path, data, size, &al);
        if (r < 0)
                goto finish;

        r = find_dropins(u, dropin_dirs, &dropins, &n_dropins);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < n_dropins; i++) {
                if (dropins[i].masked)
                        continue;
                r = strv_extend(&u->dropin_paths, dropins[i].path);
                if (r < 0)
                        goto finish;
        }
        STRV_FOREACH (p, u->dropin_paths) {
                _cleanup_free_ char *d = NULL;
                size_t ds = 0;
                r = read_unit_file(u, *p, &d, &ds);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0)
                        continue;
                r = unit_append_effective(u, *p, d, ds);
                if (r < 0)
                        goto finish;
                /* *p stays valid: dropin_paths is not modified any more */
                r = unit_syntax_parse(u, *p, d, ds, &al);
                if (r < 0)
                        goto finish;
        }

        SpecifierContext sc = {
                .name = u->name,
                .prefix = u->prefix,
                .instance = u->is_template ? UNIT_TEMPLATE_CHECK_INSTANCE : strempty(u->instance),
                .fragment_path = u->fragment_path,
                .host = &l->host,
        };
        r = unit_apply_assignments(u, &al, &sc);
finish:
        dropins_free(dropins, n_dropins);
        assignment_list_done(&al);
        return r;
}

static int check_name(const char *name, char **ret, Error *reterr)
{
        _cleanup_free_ char *n = NULL;
        if (unit_name_normalize(name, &n) < 0) {
                _cleanup_free_ char *e = cescape(name);
                return error_set_msg(
                        reterr, -EINVAL,
                        "Invalid unit name '%s' (letters, digits, ':', '-', '_', '.', '\\', one '@')",
                        e ?: "?");
        }
        *ret = TAKE_PTR(n);
        return 0;
}

/*
 * A fragment that is a symlink to another unit file inside the search path makes NAME an alias
 * of that unit (systemd.unit(5)): returns 1 and the other unit's name. A symlink to a file
 * outside the search path is a linked unit file, and an instance linked to its own template
 * ("web@blue.ctr → web@.ctr") is an instance: both return 0.
 */
static int fragment_alias_of(UnitLoader *l, const char *name, const char *path, char **ret)
{
        _cleanup_free_ char *dir = NULL, *target = NULL, *tdir = NULL, *m = NULL, *tpl = NULL;
        char buf[4096];
        int r;

        ssize_t k = readlink(path, buf, sizeof(buf) - 1);
        if (k < 0)
                return 0; /* not a symlink */
        buf[k] = '\0';
        r = path_dirname(path, &dir);
        if (r < 0)
                return r;
        target = buf[0] == '/' ? strdup(buf) : path_join(dir, buf);
        if (!target)
                return -ENOMEM;
        path_simplify(target);
        r = path_dirname(target, &tdir);
        if (r < 0)
                return r;

        /* compare real paths: "../usr/web.ctr" and symlinked search directories */
        _cleanup_free_ char *treal = realpath(tdir, NULL);
        if (!treal)
                return errno == ENOMEM ? -ENOMEM : 0;
        bool inside = false;
        STRV_FOREACH (d, l->dirs) {
                _cleanup_free_ char *c = realpath(*d, NULL);
                if (c && streq(c, treal))
                        inside = true;
        }
        if (!inside)
                return 0;
        if (unit_name_normalize(path_basename(target), &m) < 0 || streq(m, name))
                return 0;
        if (unit_name_template(name, &tpl) >= 0 && streq(tpl, m))
                return 0;
        *ret = TAKE_PTR(m);
        return 1;
}

static int load_named_depth(UnitLoader *l, const char *n, const char *forced_fragment, char **dropin_dirs,
                            unsigned depth, Unit **ret);

static int load_named(UnitLoader *l, const char *n, const char *forced_fragment, char **dropin_dirs,
                      Unit **ret)
{
        return load_named_depth(l, n, forced_fragment, dropin_dirs, 0, ret);
}

static int load_named_depth(UnitLoader *l, const char *n, const char *forced_fragment, char **dropin_dirs,
                            unsigned depth, Unit **ret)
{
        _cleanup_(unit_freep) Unit *u = unit_new(n);
        bool masked = false;
        int r;

        if (!u)
                return -ENOMEM;

        if (forced_fragment) {
                u->fragment_path = strdup(forced_fragment);
                if (!u->fragment_path)
                        return -ENOMEM;
                r = path_is_masked(forced_fragment, NULL);
                if (r == -ENOENT || r == -ELOOP) {
                        unit_diag(u, UNIT_DIAG_ERROR, forced_fragment, 0, "No such file");
                        u->load_state = UNIT_LOAD_NOT_FOUND;
                        u->load_error = strprintf("%s: error: No such file", forced_fragment);
                        if (!u->load_error)
                                return -ENOMEM;
                        goto done;
                }
                masked = r > 0;
                r = 1;
        } else {
                r = find_fragment(u, l->dirs, n, &u->fragment_path, &masked);
                if (r < 0)
                        return r;
                if (r > 0 && !masked) {
                        _cleanup_free_ char *other = NULL;
                        r = fragment_alias_of(l, n, u->fragment_path, &other);
                        if (r < 0)
                                return r;
                        if (r > 0 && depth < 8) {
                                /* an alias: load the unit it names, and remember this name */
                                Unit *t = NULL;
                                r = load_named_depth(l, other, NULL, NULL, depth + 1, &t);
                                if (r < 0)
                                        return r;
                                if (!strv_contains(t->aliases, n) && strv_extend(&t->aliases, n) < 0) {
                                        unit_free(t);
                                        return -ENOMEM;
                                }
                                *ret = t;
                                return 0;
                        }
                        if (r > 0)
                                unit_diag(u, UNIT_DIAG_ERROR, u->fragment_path, 0,
                                          "Too many levels of aliases");
                        r = 1;
                }
                if (r == 0 && u->instance) {
                        _cleanup_free_ char *t = strprintf("%s@", u->prefix);
                        if (!t)
                                return -ENOMEM;
                        r = find_fragment(u, l->dirs, t, &u->fragment_path, &masked);
                        if (r < 0)
                                return r;
                }
        }
        if (r == 0) {
                u->load_state = UNIT_LOAD_NOT_FOUND;
                goto done;
        }
        if (masked) {
                u->load_state = UNIT_LOAD_MASKED;
                goto done;
        }
        u->load_state = UNIT_LOAD_ERROR; /* until finalized */
        r = unit_load_files(l, u, dropin_dirs ?: l->dirs);
        if (r < 0)
                return r;
done:
        r = unit_finalize(u);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

int unit_loader_load(UnitLoader *l, const char *name, Unit **ret, Error *reterr)
{
        _cleanup_free_ char *n = NULL;
        int r = check_name(name, &n, reterr);
        if (r < 0)
                return r;
        r = load_named(l, n, NULL, NULL, ret);
        if (r < 0)
                return error_set(reterr, r, "Loading unit %s", n);
        return 0;
}

int unit_loader_load_file(UnitLoader *l, const char *path, Unit **ret, Error *reterr)
{
        _cleanup_free_ char *n = NULL, *dir = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        const char *base = path_basename(path);
        int r;

        if (!endswith(base, UNIT_SUFFIX) && !endswith(base, UNIT_SUFFIX_QUADLET))
                return error_set_msg(reterr, -EINVAL, "%s: unit files are named NAME.ctr or NAME.container",
                                     path);
        r = check_name(base, &n, reterr);
        if (r < 0)
                return r;
        r = path_dirname(path, &dir);
        if (r < 0)
                return error_set(reterr, r, "%s", path);
        r = strv_extend(&dirs, dir);
        if (r >= 0 && !strv_contains(l->dirs, dir))
                r = strv_extend_strv(&dirs, l->dirs);
        else if (r >= 0) {
                /* dir is in the search path already: keep the path's own order */
                strv_free(dirs);
                dirs = strv_copy(l->dirs);
                r = dirs ? 0 : -ENOMEM;
        }
        if (r < 0)
                return error_set(reterr, r, "%s", path);
        r = load_named(l, n, path, dirs, ret);
        if (r < 0)
                return error_set(reterr, r, "Loading %s", path);
        return 0;
}

int unit_parse_string(const char *name, const char *filename, const char *data, size_t size, Unit **ret,
                      Error *reterr)
{
        _cleanup_free_ char *n = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;
        AssignmentList al = {};
        HostInfo host = {
                .hostname = (char *)"localhost",
                .machine_id = (char *)"",
                .boot_id = (char *)"",
                .kernel_release = (char *)"",
                .loaded = true,
        };
        int r;

        r = check_name(name, &n, reterr);
        if (r < 0)
                return r;
        u = unit_new(n);
        if (!u)
                return -ENOMEM;
        u->fragment_path = strdup(filename);
        if (!u->fragment_path)
                return -ENOMEM;
        if (size > UNIT_FILE_SIZE_MAX) {
                unit_diag(u, UNIT_DIAG_ERROR, filename, 0, "File is larger than %u bytes",
                          (unsigned)UNIT_FILE_SIZE_MAX);
                u->load_state = UNIT_LOAD_ERROR;
                goto done;
        }
        if (size == 0) {
                u->load_state = UNIT_LOAD_MASKED;
                goto done;
        }
        u->load_state = UNIT_LOAD_ERROR;
        r = unit_append_effective(u, filename, data, size);
        if (r >= 0)
                r = unit_syntax_parse(u, u->fragment_path, data, size, &al);
        if (r >= 0) {
                SpecifierContext sc = {
                        .name = u->name,
                        .prefix = u->prefix,
                        .instance = u->is_template ? UNIT_TEMPLATE_CHECK_INSTANCE : strempty(u->instance),
                        .fragment_path = u->fragment_path,
                        .host = &host,
                };
                r = unit_apply_assignments(u, &al, &sc);
        }
        assignment_list_done(&al);
        if (r < 0)
                return error_set(reterr, r, "Parsing %s", filename);
done:
        r = unit_finalize(u);
        if (r < 0)
                return error_set(reterr, r, "Parsing %s", filename);
        *ret = TAKE_PTR(u);
        return 0;
}

/* ---------------------------------------------------------------- everything */

static void set_diag(UnitSet *s, UnitDiagLevel level, const char *file, const char *fmt, ...) _printf_(4, 5);
static void set_diag(UnitSet *s, UnitDiagLevel level, const char *file, const char *fmt, ...)
{
        UnitDiag *n = realloc(s->diags, (s->n_diags + 1) * sizeof(UnitDiag));
        if (!n)
                return;
        s->diags = n;
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        char *text = strprintf("%s: %s: %s", file, level == UNIT_DIAG_ERROR ? "error" : "warning", msg);
        char *f = strdup(file);
        if (!text || !f) {
                free(msg);
                free(text);
                free(f);
                return;
        }
        s->diags[s->n_diags++] = (UnitDiag){level, f, 0, msg, text};
}

static int unit_ptr_cmp(const void *a, const void *b)
{
        return strcmp((*(Unit *const *)a)->name, (*(Unit *const *)b)->name);
}

int unit_loader_load_all(UnitLoader *l, UnitSet **ret, Error *reterr)
{
        _cleanup_(unit_set_freep) UnitSet *set = calloc(1, sizeof(UnitSet));
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!set)
                return error_set(reterr, -ENOMEM, "Loading units");

        STRV_FOREACH (dir, l->dirs) {
                _cleanup_closedir_ DIR *d = opendir(*dir);
                if (!d) {
                        if (errno != ENOENT)
                                set_diag(set, UNIT_DIAG_WARNING, *dir, "Cannot open directory: %s, skipping",
                                         strerror(errno));
                        continue;
                }
                struct dirent *de;
                while ((errno = 0, de = readdir(d))) {
                        const char *suffix = NULL;
                        for (size_t s = 0; s < ELEMENTSOF(suffixes); s++)
                                if (endswith(de->d_name, suffixes[s]))
                                        suffix = suffixes[s];
                        if (!suffix || file_name_ignored(de->d_name))
                                continue;
                        _cleanup_free_ char *p = path_join(*dir, de->d_name);
                        if (!p)
                                return error_set(reterr, -ENOMEM, "Loading units");
                        struct stat st;
                        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                                continue;
                        _cleanup_free_ char *n = NULL;
                        if (unit_name_normalize(de->d_name, &n) < 0) {
                                _cleanup_free_ char *e = cescape(de->d_name);
                                set_diag(set, UNIT_DIAG_ERROR, p, "Invalid unit file name '%s', ignoring",
                                         e ?: "?");
                                continue;
                        }
                        if (!strv_contains(names, n)) {
                                r = strv_consume(&names, TAKE_PTR(n));
                                if (r < 0)
                                        return error_set(reterr, r, "Loading units");
                        }
                }
        }

        _cleanup_strv_free_ char **alias_pairs = NULL; /* alias, unit, alias, unit, … */
        for (size_t i = 0; names && names[i]; i++) {
                Unit *u = NULL;
                r = load_named(l, names[i], NULL, NULL, &u);
                if (r < 0)
                        return error_set(reterr, r, "Loading unit %s", names[i]);
                if (!streq(u->name, names[i]) && strv_contains(names, u->name)) {
                        /* names[i] is an alias of a unit that is loaded under its own name */
                        r = strv_extend(&alias_pairs, names[i]);
                        if (r >= 0)
                                r = strv_extend(&alias_pairs, u->name);
                        unit_free(u);
                        if (r < 0)
                                return error_set(reterr, r, "Loading units");
                        continue;
                }
                Unit **nu = realloc(set->units, (set->n_units + 1) * sizeof(Unit *));
                if (!nu) {
                        unit_free(u);
                        return error_set(reterr, -ENOMEM, "Loading units");
                }
                set->units = nu;
                set->units[set->n_units++] = u;

                /* a template's DefaultInstance= is a unit of its own */
                if (u->is_template && u->load_state == UNIT_LOAD_LOADED && u->config.default_instance) {
                        _cleanup_free_ char *inst =
                                strprintf("%s@%s", u->prefix, u->config.default_instance);
                        if (!inst)
                                return error_set(reterr, -ENOMEM, "Loading units");
                        if (!strv_contains(names, inst)) {
                                r = strv_consume(&names, TAKE_PTR(inst));
                                if (r < 0)
                                        return error_set(reterr, r, "Loading units");
                        }
                }
        }
        if (set->n_units > 0)
                qsort(set->units, set->n_units, sizeof(Unit *), unit_ptr_cmp);
        for (size_t i = 0; alias_pairs && alias_pairs[i] && alias_pairs[i + 1]; i += 2) {
                Unit *u = unit_set_find(set, alias_pairs[i + 1]);
                if (u && !strv_contains(u->aliases, alias_pairs[i])) {
                        r = strv_extend(&u->aliases, alias_pairs[i]);
                        if (r < 0)
                                return error_set(reterr, r, "Loading units");
                }
        }
        *ret = TAKE_PTR(set);
        return 0;
}

/* ---------------------------------------------------------------- EnvironmentFile= */

int unit_environment_file_read(const char *path, char ***env, Error *reterr)
{
        bool optional = path[0] == '-';
        const char *p = optional ? path + 1 : path;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, p, UNIT_FILE_SIZE_MAX, &data, &size);
        if (r == -ENOENT && optional)
                return 0;
        if (r < 0)
                return error_set(reterr, r, "Reading environment file %s", p);
        if (memchr(data, '\0', size))
                return error_set_msg(reterr, -EINVAL, "%s: contains a NUL byte", p);

        _cleanup_strv_free_ char **lines = NULL;
        /* join continuations, drop comments */
        char *save = NULL, *cont = NULL;
        unsigned lineno = 0;
        for (char *line = data;;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                lineno++;
                char *s = strstrip(line);
                if (!cont && (*s == '#' || *s == ';')) {
                        if (!nl)
                                break;
                        line = nl + 1;
                        continue;
                }
                size_t n = strlen(s);
                bool escaped = false;
                for (size_t k = n; k > 0 && s[k - 1] == '\\'; k--)
                        escaped = !escaped;
                if (escaped)
                        s[n - 1] = '\0';
                r = strextend_with_separator(&cont, "", s);
                if (r < 0) {
                        free(cont);
                        return error_set(reterr, r, "%s", p);
                }
                if (!escaped) {
                        r = strv_consume(&lines, cont);
                        cont = NULL;
                        if (r < 0)
                                return error_set(reterr, r, "%s", p);
                }
                if (!nl)
                        break;
                line = nl + 1;
        }
        (void)save;
        if (cont) {
                r = strv_consume(&lines, cont);
                if (r < 0)
                        return error_set(reterr, r, "%s", p);
        }

        STRV_FOREACH (s, lines) {
                if (isempty(*s))
                        continue;
                char *eq = strchr(*s, '=');
                if (!eq)
                        return error_set_msg(reterr, -EINVAL, "%s: missing '=' in '%s'", p, *s);
                *eq = '\0';
                char *key = strstrip(*s);
                char *val = strstrip(eq + 1);
                const char *k2 = startswith(key, "export ");
                if (k2)
                        key = strstrip((char *)k2);
                bool ok = !isempty(key) && !(key[0] >= '0' && key[0] <= '9') &&
                          strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                                  strlen(key);
                if (!ok)
                        return error_set_msg(reterr, -EINVAL, "%s: invalid variable name '%s'", p, key);
                size_t vl = strlen(val);
                if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
                        val[vl - 1] = '\0';
                        val++;
                }
                _cleanup_free_ char *a = strjoin(key, "=", val);
                if (!a)
                        return error_set(reterr, -ENOMEM, "%s", p);
                /* replace or append */
                size_t kl = strlen(key) + 1;
                bool done = false;
                STRV_FOREACH (e, *env)
                        if (strneq(*e, a, kl)) {
                                free(*e);
                                *e = TAKE_PTR(a);
                                done = true;
                                break;
                        }
                if (!done) {
                        r = strv_consume(env, TAKE_PTR(a));
                        if (r < 0)
                                return error_set(reterr, r, "%s", p);
                }
        }
        return 0;
}
