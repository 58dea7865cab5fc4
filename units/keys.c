/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units/keys.c — the key table of the first release (shared/UNIT-KEYS.md) and the parsers that
 * turn each value into the typed model (UnitConfig), then the cross-key rules.
 *
 * Semantics (systemd.syntax(7)): scalars — the last assignment wins; lists — each assignment
 * appends, an empty assignment resets; dependencies only add. Every value has its specifiers
 * expanded first. A bad value is an error at its FILE:LINE (the unit then fails to load); an
 * unknown key in a known section is a warning; "X-" keys are ignored silently.
 */

#include <sys/resource.h>
#include <sys/stat.h>

#include "units/unit-internal.h"

typedef struct KeyCtx {
        Unit *unit;
        UnitConfig *c;
        Loc loc;
} KeyCtx;

typedef int (*KeyParser)(KeyCtx *k, const char *value, size_t offset);

typedef struct KeyDef {
        const char *section;
        const char *key;
        KeyParser parse;
        size_t offset;      /* into UnitConfig, for the generic parsers */
        bool no_specifiers; /* as systemd: numbers and percentages take no specifiers ("50%") */
} KeyDef;

#define CFG(k, off, type) ((type *)((char *)(k)->c + (off)))
/* Report a bad value at the key's FILE:LINE. err()/warn() return 0 ("handled, keep loading"),
 * err_inval() returns -EINVAL for helpers whose callers must stop. */
_printf_(4, 0) static int report(KeyCtx *k, UnitDiagLevel level, int r, const char *fmt, va_list ap)
{
        unit_diagv(k->unit, level, k->loc.file, k->loc.line, fmt, ap);
        return r;
}

_printf_(2, 3) static int err(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_ERROR, 0, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static int warn(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_WARNING, 0, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static int err_inval(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_ERROR, -EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

/* ---------------------------------------------------------------- generic parsers */

static int parse_string(KeyCtx *k, const char *v, size_t off)
{
        char **p = CFG(k, off, char *);
        if (string_has_cc(v))
                return err(k, "Value contains control characters");
        return free_and_strdup(p, isempty(v) ? NULL : v);
}

static int parse_bool(KeyCtx *k, const char *v, size_t off)
{
        int b = parse_boolean(v);
        if (b < 0)
                return err(k, "Invalid boolean '%s' (expected yes/no, true/false, on/off, 1/0)", v);
        *CFG(k, off, bool) = b;
        return 0;
}

/* Time span, bare number = seconds; "infinity" refused. */
static int parse_sec(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return err(k, "Invalid time span '%s'", v);
        if (t == USEC_INFINITY)
                return err(k, "'infinity' is not allowed here");
        *CFG(k, off, uint64_t) = t;
        return 0;
}

/* Time span where "infinity" is fine (and "0" means infinity too, like systemd's timeouts). */
static int parse_sec_infinity_zero(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return err(k, "Invalid time span '%s'", v);
        *CFG(k, off, uint64_t) = t == 0 ? USEC_INFINITY : t;
        return 0;
}

static int parse_sec_infinity(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return err(k, "Invalid time span '%s'", v);
        *CFG(k, off, uint64_t) = t;
        return 0;
}

static int parse_positive_sec(KeyCtx *k, const char *v, size_t off)
{
        uint64_t t;
        if (parse_timespan(v, USEC_PER_SEC, &t) < 0)
                return err(k, "Invalid time span '%s'", v);
        if (t == 0 || t == USEC_INFINITY)
                return err(k, "Time span must be greater than zero and finite: '%s'", v);
        *CFG(k, off, uint64_t) = t;
        return 0;
}

static int parse_unsigned_range(KeyCtx *k, const char *v, unsigned *ret, unsigned min, unsigned max)
{
        unsigned u;
        if (safe_atou(v, &u) < 0)
                return err_inval(k, "Invalid number '%s'", v);
        if (u < min || u > max)
                return err_inval(k, "Value %u out of range %u…%u", u, min, max);
        *ret = u;
        return 0;
}

static int parse_signal(KeyCtx *k, const char *v, size_t off)
{
        int s = signal_from_string(v);
        if (s <= 0 || s > 64)
                return err(k, "Unknown signal '%s'", v);
        *CFG(k, off, int) = s;
        return 0;
}

/* A command line: argv with systemd quoting; empty resets. */
static int parse_command(KeyCtx *k, const char *v, size_t off)
{
        char ***l = CFG(k, off, char **);
        _cleanup_strv_free_ char **w = NULL;

        if (isempty(v)) {
                *l = strv_free(*l);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_REFUSE_SEMICOLON, &k->loc,
                                  &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        if (strv_isempty(w))
                return err(k, "Empty command");
        strv_free(*l);
        *l = TAKE_PTR(w);
        return 0;
}

/* ---------------------------------------------------------------- [Unit] */

static int parse_documentation(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->documentation = strv_free(k->c->documentation);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                if (!startswith(*s, "http://") && !startswith(*s, "https://") && !startswith(*s, "file:") &&
                    !startswith(*s, "info:") && !startswith(*s, "man:")) {
                        warn(k, "Invalid URL '%s' (http, https, file, info, man), ignoring", *s);
                        continue;
                }
                r = strv_extend(&k->c->documentation, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_deps(KeyCtx *k, const char *v, size_t off)
{
        char ***l = CFG(k, off, char **);
        _cleanup_strv_free_ char **w = NULL;

        if (isempty(v)) {
                warn(k, "Dependencies cannot be reset, ignoring empty assignment");
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                _cleanup_free_ char *n = NULL;
                if (unit_name_is_systemd(*s)) {
                        n = strdup(*s);
                        if (!n)
                                return -ENOMEM;
                } else if (unit_name_normalize(*s, &n) < 0) {
                        err(k, "Invalid unit name '%s'", *s);
                        continue;
                } else if (endswith(n, "@")) {
                        err(k, "Cannot depend on template '%s' (name an instance)", *s);
                        continue;
                }
                if (streq(n, k->unit->name)) {
                        warn(k, "Unit depends on itself, ignoring");
                        continue;
                }
                if (strv_contains(*l, n))
                        continue;
                r = strv_consume(l, TAKE_PTR(n));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- [Container] image and process */

static bool image_name_component_ok(const char *s, size_t n)
{
        /* [a-z0-9]+ ([._-][a-z0-9]+)*  — also "__" as the distribution spec allows */
        if (n == 0)
                return false;
        bool prev_sep = true;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                        prev_sep = false;
                        continue;
                }
                if (c == '.' || c == '-' || c == '_') {
                        if (prev_sep && !(c == '_' && i > 0 && s[i - 1] == '_') &&
                            !(c == '-' && i > 0 && s[i - 1] == '-'))
                                return false;
                        prev_sep = true;
                        continue;
                }
                return false;
        }
        return !prev_sep;
}

static bool image_host_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
                        return false;
        }
        return true;
}

/* name[:tag][@sha256:hex] as in the distribution reference grammar; returns a reason or NULL. */
static const char *image_reference_check(const char *ref)
{
        const char *at = strchr(ref, '@');
        size_t name_end = at ? (size_t)(at - ref) : strlen(ref);

        if (at) {
                const char *d = at + 1;
                const char *hex = startswith(d, "sha256:");
                if (hex) {
                        if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
                                return "a sha256 digest needs 64 lowercase hex digits";
                } else if ((hex = startswith(d, "sha512:"))) {
                        if (strlen(hex) != 128 || strspn(hex, "0123456789abcdef") != 128)
                                return "a sha512 digest needs 128 lowercase hex digits";
                } else
                        return "unsupported digest algorithm (sha256, sha512)";
        }

        /* the tag is after the last ':' that follows the last '/' */
        const char *slash = memrchr(ref, '/', name_end);
        const char *colon =
                memrchr(slash ? slash : ref, ':', name_end - (slash ? (size_t)(slash - ref) : 0));
        size_t repo_end = name_end;
        if (colon) {
                const char *tag = colon + 1;
                size_t tl = name_end - (size_t)(tag - ref);
                if (tl == 0 || tl > 128)
                        return "empty or too long tag";
                if (!((tag[0] >= 'a' && tag[0] <= 'z') || (tag[0] >= 'A' && tag[0] <= 'Z') ||
                      (tag[0] >= '0' && tag[0] <= '9') || tag[0] == '_'))
                        return "invalid tag";
                for (size_t i = 1; i < tl; i++) {
                        char c = tag[i];
                        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '_' || c == '.' || c == '-'))
                                return "invalid tag";
                }
                repo_end = (size_t)(colon - ref);
        }
        if (repo_end == 0 || repo_end > 255)
                return "empty or too long repository name";

        /* components separated by '/'; the first may be a registry host[:port] */
        size_t start = 0;
        bool first = true;
        for (;;) {
                const char *e = memchr(ref + start, '/', repo_end - start);
                size_t end = e ? (size_t)(e - ref) : repo_end;
                const char *c = ref + start;
                size_t n = end - start;
                bool host_like =
                        first && e &&
                        (memchr(c, '.', n) || memchr(c, ':', n) || (n == 9 && strneq(c, "localhost", 9)));
                if (host_like ? !image_host_ok(c, n) : !image_name_component_ok(c, n))
                        return "invalid repository name (lowercase letters, digits and separators)";
                if (!e)
                        break;
                start = end + 1;
                first = false;
        }
        return NULL;
}

static int parse_image(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->image = mfree(k->c->image);
                return 0;
        }
        const char *oci = startswith(v, "oci:");
        if (oci) {
                /* oci:/path/to/layout[:ref] */
                if (!path_is_absolute(oci))
                        return err(k, "Image '%s': the OCI layout path must be absolute", v);
                _cleanup_free_ char *p = strdup(oci);
                if (!p)
                        return -ENOMEM;
                char *colon = strchr(p, ':');
                if (colon) {
                        *colon = '\0';
                        if (isempty(colon + 1) || string_has_cc(colon + 1))
                                return err(k, "Image '%s': empty or invalid reference after the layout path",
                                           v);
                }
                if (!path_is_safe(p))
                        return err(k, "Image '%s': the layout path must not contain '..'", v);
        } else {
                if (endswith(v, ".image") || endswith(v, ".build"))
                        return err(k, "Image '%s': Quadlet .image/.build units are not supported by ctrmgr",
                                   v);
                const char *why = image_reference_check(v);
                if (why)
                        return err(k, "Invalid image reference '%s': %s", v, why);
        }
        return free_and_strdup(&k->c->image, v);
}

static int parse_abs_path(KeyCtx *k, const char *what, const char *v, char **ret)
{
        if (!path_is_absolute(v))
                return err_inval(k, "%s '%s' is not an absolute path", what, v);
        if (!path_is_safe(v))
                return err_inval(k, "%s '%s' must not contain '..'", what, v);
        if (string_has_cc(v))
                return err_inval(k, "%s contains control characters", what);
        if (strlen(v) >= 4096)
                return err_inval(k, "%s is too long", what);
        char *p = strdup(v);
        if (!p)
                return -ENOMEM;
        path_simplify(p);
        *ret = p;
        return 0;
}

static int parse_rootfs(KeyCtx *k, const char *v, size_t off)
{
        char *p = NULL;
        if (isempty(v)) {
                k->c->rootfs = mfree(k->c->rootfs);
                return 0;
        }
        if (endswith(v, ":O"))
                return err(k, "Rootfs overlay mode ':O' is not supported");
        int r = parse_abs_path(k, "Rootfs", v, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        free(k->c->rootfs);
        k->c->rootfs = p;
        return 0;
}

/* JSON array of strings: ["a", "b\n"]. Returns -EINVAL (not reported) on syntax errors. */
static int parse_json_string_array(const char *s, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;

#define SKIP_WS()                           \
        while (*p && strchr(" \t\r\n", *p)) \
        p++
        SKIP_WS();
        if (*p++ != '[')
                return -EINVAL;
        SKIP_WS();
        if (*p == ']') {
                p++;
                goto done;
        }
        for (;;) {
                SKIP_WS();
                if (*p++ != '"')
                        return -EINVAL;
                _cleanup_free_ char *w = malloc(strlen(p) * 3 + 1);
                if (!w)
                        return -ENOMEM;
                size_t n = 0;
                for (;;) {
                        unsigned char c = (unsigned char)*p++;
                        if (c == '\0' || c < 0x20)
                                return -EINVAL;
                        if (c == '"')
                                break;
                        if (c != '\\') {
                                w[n++] = (char)c;
                                continue;
                        }
                        c = (unsigned char)*p++;
                        switch (c) {
                        case '"':
                        case '\\':
                        case '/':
                                w[n++] = (char)c;
                                break;
                        case 'b':
                                w[n++] = '\b';
                                break;
                        case 'f':
                                w[n++] = '\f';
                                break;
                        case 'n':
                                w[n++] = '\n';
                                break;
                        case 'r':
                                w[n++] = '\r';
                                break;
                        case 't':
                                w[n++] = '\t';
                                break;
                        case 'u': {
                                uint32_t cp = 0;
                                for (int i = 0; i < 4; i++) {
                                        char h = *p++;
                                        int d = h >= '0' && h <= '9'                 ? h - '0'
                                                : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10
                                                                                     : -1;
                                        if (d < 0)
                                                return -EINVAL;
                                        cp = cp * 16 + (uint32_t)d;
                                }
                                if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                                        return -EINVAL; /* no NUL, no surrogate pairs */
                                if (cp < 0x80)
                                        w[n++] = (char)cp;
                                else if (cp < 0x800) {
                                        w[n++] = (char)(0xc0 | (cp >> 6));
                                        w[n++] = (char)(0x80 | (cp & 0x3f));
                                } else {
                                        w[n++] = (char)(0xe0 | (cp >> 12));
                                        w[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                                        w[n++] = (char)(0x80 | (cp & 0x3f));
                                }
                                break;
                        }
                        default:
                                return -EINVAL;
                        }
                }
                w[n] = '\0';
                int r = strv_consume(&l, TAKE_PTR(w));
                if (r < 0)
                        return r;
                SKIP_WS();
                if (*p == ',') {
                        p++;
                        continue;
                }
                if (*p++ == ']')
                        break;
                return -EINVAL;
        }
done:
        SKIP_WS();
        if (*p)
                return -EINVAL;
#undef SKIP_WS
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_entrypoint(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        int r;

        if (isempty(v)) {
                /* Quadlet: an empty Entrypoint= clears the image's entrypoint */
                k->c->entrypoint = strv_free(k->c->entrypoint);
                k->c->entrypoint_set = true;
                return 0;
        }
        if (v[0] == '[') {
                r = parse_json_string_array(v, &w);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return err(k, "Invalid JSON array in Entrypoint= '%s'", v);
        } else {
                r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
                if (r == -EINVAL)
                        return 0;
                if (r < 0)
                        return r;
        }
        if (strv_isempty(w)) {
                k->c->entrypoint = strv_free(k->c->entrypoint);
        } else {
                strv_free(k->c->entrypoint);
                k->c->entrypoint = TAKE_PTR(w);
        }
        k->c->entrypoint_set = true;
        return 0;
}

static int parse_working_dir(KeyCtx *k, const char *v, size_t off)
{
        char *p = NULL;
        if (isempty(v)) {
                k->c->working_dir = mfree(k->c->working_dir);
                return 0;
        }
        int r = parse_abs_path(k, "WorkingDir", v, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        free(k->c->working_dir);
        k->c->working_dir = p;
        return 0;
}

static bool user_name_is_valid(const char *s)
{
        /* a number, or a POSIX-ish name: [a-zA-Z_][a-zA-Z0-9_.-]*[$]? up to 32 */
        uint32_t id;
        if (safe_atou32(s, &id) == 0)
                return id != UINT32_MAX;
        size_t n = strlen(s);
        if (n == 0 || n > 32)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || (c == '$' && i == n - 1))
                        continue;
                return false;
        }
        return true;
}

static int parse_user_or_group(KeyCtx *k, const char *v, size_t off)
{
        char **p = CFG(k, off, char *);
        if (isempty(v)) {
                *p = mfree(*p);
                return 0;
        }
        if (strchr(v, ':'))
                return err(k, "Invalid user or group '%s': write the group in Group=", v);
        if (!user_name_is_valid(v))
                return err(k, "Invalid user or group name '%s'", v);
        return free_and_strdup(p, v);
}

static bool env_name_is_valid(const char *s, size_t n)
{
        if (n == 0 || n > 4096 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_'))
                        return false;
        }
        return true;
}

/* Sets "NAME=VALUE" in l, replacing an entry with the same name (last wins). */
static int strv_set_keyed(char ***l, const char *assignment)
{
        size_t kl = strcspn(assignment, "=");
        STRV_FOREACH (s, *l)
                if (strneq(*s, assignment, kl) && (*s)[kl] == '=') {
                        char *c = strdup(assignment);
                        if (!c)
                                return -ENOMEM;
                        free(*s);
                        *s = c;
                        return 0;
                }
        return strv_extend(l, assignment);
}

static int parse_environment(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->environment = strv_free(k->c->environment);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                const char *eq = strchr(*s, '=');
                if (!eq || !env_name_is_valid(*s, eq - *s)) {
                        err(k,
                            "Invalid environment assignment '%s' (NAME=VALUE, NAME of letters, digits, '_')",
                            *s);
                        continue;
                }
                r = strv_set_keyed(&k->c->environment, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A path relative to the directory of the file it was written in (Quadlet's "./x"). */
static int resolve_relative(KeyCtx *k, const char *v, char **ret)
{
        _cleanup_free_ char *dir = NULL;
        if (!k->loc.file)
                return -EINVAL;
        int r = path_dirname(k->loc.file, &dir);
        if (r < 0)
                return r;
        char *p = path_join(dir, v);
        if (!p)
                return -ENOMEM;
        path_simplify(p);
        *ret = p;
        return 0;
}

static int parse_environment_file(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->environment_files = strv_free(k->c->environment_files);
                return 0;
        }
        bool optional = v[0] == '-';
        const char *path = optional ? v + 1 : v;
        _cleanup_free_ char *abs = NULL;
        int r;

        if (path_is_absolute(path)) {
                abs = strdup(path);
                if (!abs)
                        return -ENOMEM;
                path_simplify(abs);
        } else {
                if (isempty(path))
                        return err(k, "Empty EnvironmentFile= path");
                r = resolve_relative(k, path, &abs);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return err(k, "EnvironmentFile '%s' is not an absolute path", path);
        }
        if (string_has_cc(abs))
                return err(k, "EnvironmentFile= path contains control characters");
        return strv_extendf(&k->c->environment_files, "%s%s", optional ? "-" : "", abs);
}

static bool hostname_is_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        size_t label = 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-'))
                        return false;
                if (c == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}

static int parse_hostname(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->hostname = mfree(k->c->hostname);
                return 0;
        }
        if (!hostname_is_valid(v))
                return err(k, "Invalid host name '%s'", v);
        return free_and_strdup(&k->c->hostname, v);
}

/* ---------------------------------------------------------------- [Container] storage */

static int mounts_add(KeyCtx *k, UnitMount *m)
{
        UnitConfig *c = k->c;
        if (c->n_mounts >= 1024)
                return err_inval(k, "Too many mounts");
        UnitMount *n = realloc(c->mounts, (c->n_mounts + 1) * sizeof(UnitMount));
        if (!n)
                return -ENOMEM;
        c->mounts = n;
        m->file = k->loc.file;
        m->line = k->loc.line;
        c->mounts[c->n_mounts++] = *m;
        *m = (UnitMount){};
        return 0;
}

static void mount_done(UnitMount *m)
{
        free(m->source);
        free(m->destination);
        free(m->tmpfs_options);
        *m = (UnitMount){};
}

static bool volume_name_is_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 255)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}

static UnitPropagation propagation_from_string(const char *s)
{
        for (int p = UNIT_PROPAGATION_PRIVATE; p < _UNIT_PROPAGATION_MAX; p++)
                if (streq(s, unit_propagation_to_string(p)))
                        return p;
        return _UNIT_PROPAGATION_MAX;
}

/* Source of a Volume=/Mount=: absolute path, ./relative path, or a volume name. */
static int mount_source(KeyCtx *k, UnitMount *m, const char *src)
{
        int r;
        if (path_is_absolute(src)) {
                r = parse_abs_path(k, "Mount source", src, &m->source);
                if (r < 0)
                        return r;
                m->type = UNIT_MOUNT_BIND;
                return 0;
        }
        if (startswith(src, "./") || startswith(src, "../") || streq(src, ".")) {
                r = resolve_relative(k, src, &m->source);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return err_inval(k, "Relative mount source '%s' cannot be resolved here", src);
                m->type = UNIT_MOUNT_BIND;
                return 0;
        }
        if (endswith(src, ".volume"))
                return err_inval(k, "Quadlet .volume units are not supported by ctrmgr: '%s'", src);
        if (!volume_name_is_valid(src))
                return err_inval(
                        k, "Invalid volume name '%s' (letters, digits, '_', '.', '-'; or an absolute path)",
                        src);
        m->source = strdup(src);
        if (!m->source)
                return -ENOMEM;
        m->type = UNIT_MOUNT_VOLUME;
        return 0;
}

static int mount_destination(KeyCtx *k, UnitMount *m, const char *dst)
{
        if (isempty(dst))
                return err_inval(k, "Missing mount destination");
        return parse_abs_path(k, "Mount destination", dst, &m->destination);
}

/* One option of Volume=/Tmpfs= that is common to all mount types. Returns 1 if handled. */
static int mount_flag_option(UnitMount *m, const char *o)
{
        if (streq(o, "ro"))
                m->read_only = true;
        else if (streq(o, "rw"))
                m->read_only = false;
        else if (streq(o, "nosuid"))
                m->nosuid = true;
        else if (streq(o, "suid"))
                m->nosuid = false;
        else if (streq(o, "nodev"))
                m->nodev = true;
        else if (streq(o, "dev"))
                m->nodev = false;
        else if (streq(o, "noexec"))
                m->noexec = true;
        else if (streq(o, "exec"))
                m->noexec = false;
        else
                return 0;
        return 1;
}

static int parse_volume(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_(mount_done) UnitMount m = {.recursive = true, .copy_up = true};
        _cleanup_strv_free_ char **parts = NULL;
        int r;

        if (isempty(v)) {
                /* reset the Volume= entries only */
                return err(k, "Empty Volume= (reset) is not supported; remove the line instead");
        }
        /* split on ':' keeping empty fields */
        const char *p = v;
        for (;;) {
                const char *c = strchr(p, ':');
                r = strv_consume(&parts, c ? strndup(p, c - p) : strdup(p));
                if (r < 0)
                        return r;
                if (!c)
                        break;
                p = c + 1;
        }
        size_t n = strv_length(parts);
        const char *src = NULL, *dst = NULL, *opts = NULL;
        if (n == 1)
                dst = parts[0];
        else if (n == 2) {
                if (path_is_absolute(parts[1])) {
                        src = parts[0];
                        dst = parts[1];
                } else {
                        dst = parts[0];
                        opts = parts[1];
                }
        } else if (n == 3) {
                src = parts[0];
                dst = parts[1];
                opts = parts[2];
        } else
                return err(k, "Invalid Volume= '%s' (expected [SOURCE:]DESTINATION[:OPTIONS])", v);

        if (src) {
                if (isempty(src))
                        return err(k, "Empty volume source in '%s'", v);
                r = mount_source(k, &m, src);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return 0;
        } else
                m.type = UNIT_MOUNT_ANONYMOUS;
        r = mount_destination(k, &m, dst);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;

        if (opts) {
                _cleanup_strv_free_ char **o = strv_split(opts, ",");
                if (!o)
                        return -ENOMEM;
                STRV_FOREACH (s, o) {
                        UnitPropagation prop;
                        if (mount_flag_option(&m, *s))
                                continue;
                        if (streq(*s, "rbind"))
                                m.recursive = true;
                        else if (streq(*s, "bind"))
                                m.recursive = false;
                        else if (streq(*s, "copy"))
                                m.copy_up = true;
                        else if (streq(*s, "nocopy"))
                                m.copy_up = false;
                        else if (streq(*s, "z") || streq(*s, "Z"))
                                warn(k, "SELinux relabelling option '%s' is not supported, ignoring", *s);
                        else if ((prop = propagation_from_string(*s)) != _UNIT_PROPAGATION_MAX)
                                m.propagation = prop;
                        else if (streq(*s, "U") || streq(*s, "O") || streq(*s, "idmap") ||
                                 startswith(*s, "idmap="))
                                return err(k, "Volume option '%s' is not supported", *s);
                        else
                                return err(k, "Unknown volume option '%s'", *s);
                }
        }
        r = mounts_add(k, &m);
        return r == -EINVAL ? 0 : r;
}

/* Tmpfs options (shared by Tmpfs= and Mount=type=tmpfs): fills the data string. */
static int tmpfs_option(KeyCtx *k, UnitMount *m, const char *o, char **data)
{
        const char *val;
        int r;

        if ((val = startswith(o, "size=")) || (val = startswith(o, "tmpfs-size="))) {
                uint64_t sz;
                if (parse_size(val, &sz) < 0 || sz == 0 || sz == SIZE_INFINITY)
                        return err_inval(k, "Invalid tmpfs size '%s'", val);
                m->tmpfs_size = sz;
                return 1;
        }
        if ((val = startswith(o, "mode=")) || (val = startswith(o, "tmpfs-mode="))) {
                mode_t mode;
                if (parse_mode(val, &mode) < 0 || mode > 07777)
                        return err_inval(k, "Invalid tmpfs mode '%s'", val);
                m->tmpfs_mode = mode;
                m->tmpfs_mode_set = true;
                return 1;
        }
        if ((val = startswith(o, "nr_inodes=")) || (val = startswith(o, "uid=")) ||
            (val = startswith(o, "gid="))) {
                uint64_t x;
                if (parse_size(val, &x) < 0 || x == SIZE_INFINITY || x > UINT32_MAX)
                        return err_inval(k, "Invalid tmpfs option '%s'", o);
                r = strextend_with_separator(data, ",", o);
                return r < 0 ? r : 1;
        }
        if (streq(o, "tmpcopyup") || streq(o, "notmpcopyup")) {
                warn(k, "tmpfs option '%s' is not supported, ignoring", o);
                return 1;
        }
        return 0;
}

static int tmpfs_finish(UnitMount *m, char *data)
{
        _cleanup_free_ char *d = data;
        _cleanup_free_ char *s = NULL;
        int r;

        if (m->tmpfs_size > 0) {
                s = strprintf("size=%" PRIu64, m->tmpfs_size);
                if (!s)
                        return -ENOMEM;
        }
        if (m->tmpfs_mode_set) {
                char buf[32];
                snprintf(buf, sizeof(buf), "mode=%04o", (unsigned)m->tmpfs_mode);
                r = strextend_with_separator(&s, ",", buf);
                if (r < 0)
                        return r;
        }
        if (d) {
                r = strextend_with_separator(&s, ",", d);
                if (r < 0)
                        return r;
        }
        if (!s && !(s = strdup("")))
                return -ENOMEM;
        m->tmpfs_options = TAKE_PTR(s);
        return 0;
}

static int parse_tmpfs(KeyCtx *k, const char *v, size_t off)
{
        /* Podman's --tmpfs defaults: rw,noexec,nosuid,nodev */
        _cleanup_(mount_done)
                UnitMount m = {.type = UNIT_MOUNT_TMPFS, .nosuid = true, .nodev = true, .noexec = true};
        _cleanup_free_ char *data = NULL;
        int r;

        if (isempty(v))
                return err(k, "Empty Tmpfs= (reset) is not supported; remove the line instead");

        const char *colon = strchr(v, ':');
        _cleanup_free_ char *dst = colon ? strndup(v, colon - v) : strdup(v);
        if (!dst)
                return -ENOMEM;
        r = mount_destination(k, &m, dst);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (colon) {
                _cleanup_strv_free_ char **o = strv_split(colon + 1, ",");
                if (!o)
                        return -ENOMEM;
                STRV_FOREACH (s, o) {
                        if (mount_flag_option(&m, *s))
                                continue;
                        r = tmpfs_option(k, &m, *s, &data);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return 0;
                        if (r == 0)
                                return err(k, "Unknown tmpfs option '%s'", *s);
                }
        }
        r = tmpfs_finish(&m, TAKE_PTR(data));
        if (r < 0)
                return r;
        r = mounts_add(k, &m);
        return r == -EINVAL ? 0 : r;
}

static int parse_mount(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_(mount_done) UnitMount m = {.recursive = true, .copy_up = true};
        _cleanup_free_ char *type = NULL, *src = NULL, *dst = NULL, *data = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        int r;

        if (isempty(v))
                return err(k, "Empty Mount= (reset) is not supported; remove the line instead");
        fields = strv_split(v, ",");
        if (!fields)
                return -ENOMEM;

        /* first pass: type, so options can be checked against it */
        STRV_FOREACH (f, fields) {
                const char *t = startswith(*f, "type=");
                if (t) {
                        r = free_and_strdup(&type, t);
                        if (r < 0)
                                return r;
                }
        }
        if (!type)
                return err(k, "Mount= '%s' needs type=bind, type=volume or type=tmpfs", v);
        if (streq(type, "bind"))
                m.type = UNIT_MOUNT_BIND;
        else if (streq(type, "volume"))
                m.type = UNIT_MOUNT_VOLUME;
        else if (streq(type, "tmpfs")) {
                m.type = UNIT_MOUNT_TMPFS;
                m.nosuid = m.nodev = m.noexec = true;
        } else
                return err(k, "Unsupported mount type '%s' (bind, volume, tmpfs)", type);

        STRV_FOREACH (f, fields) {
                const char *val;
                char *eq = strchr(*f, '=');
                _cleanup_free_ char *key = eq ? strndup(*f, eq - *f) : strdup(*f);
                if (!key)
                        return -ENOMEM;
                val = eq ? eq + 1 : NULL;

                if (streq(key, "type"))
                        continue;
                if (streq(key, "source") || streq(key, "src")) {
                        if (m.type == UNIT_MOUNT_TMPFS)
                                return err(k, "A tmpfs mount takes no source");
                        r = free_and_strdup(&src, val);
                } else if (streq(key, "destination") || streq(key, "dst") || streq(key, "target")) {
                        r = free_and_strdup(&dst, val);
                } else if (streq(key, "ro") || streq(key, "readonly")) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return err(k, "Invalid boolean in '%s'", *f);
                        m.read_only = b;
                        r = 0;
                } else if (streq(key, "rw") && !val) {
                        m.read_only = false;
                        r = 0;
                } else if (streq(key, "bind-propagation") && m.type == UNIT_MOUNT_BIND) {
                        UnitPropagation p = val ? propagation_from_string(val) : _UNIT_PROPAGATION_MAX;
                        if (p == _UNIT_PROPAGATION_MAX)
                                return err(k, "Invalid bind-propagation '%s'", strempty(val));
                        m.propagation = p;
                        r = 0;
                } else if (streq(key, "bind-nonrecursive") && m.type == UNIT_MOUNT_BIND) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return err(k, "Invalid boolean in '%s'", *f);
                        m.recursive = !b;
                        r = 0;
                } else if (streq(key, "volume-nocopy") && m.type == UNIT_MOUNT_VOLUME) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return err(k, "Invalid boolean in '%s'", *f);
                        m.copy_up = !b;
                        r = 0;
                } else if (streq(key, "relabel") || streq(key, "z") || streq(key, "Z")) {
                        warn(k, "SELinux relabelling option '%s' is not supported, ignoring", *f);
                        r = 0;
                } else if (!val && mount_flag_option(&m, key)) {
                        r = 0;
                } else if (m.type == UNIT_MOUNT_TMPFS && (r = tmpfs_option(k, &m, *f, &data)) != 0) {
                        if (r == -EINVAL)
                                return 0;
                        if (r > 0)
                                r = 0;
                } else
                        return err(k, "Unknown or unsupported mount option '%s' for type=%s", *f, type);
                if (r < 0)
                        return r;
        }

        if (!dst)
                return err(k, "Mount= '%s' has no destination", v);
        r = mount_destination(k, &m, dst);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (m.type == UNIT_MOUNT_BIND) {
                if (isempty(src))
                        return err(k, "A bind mount needs source=");
                if (!path_is_absolute(src) && !startswith(src, "./") && !startswith(src, "../"))
                        return err(k, "Bind mount source '%s' must be an absolute path", src);
                r = mount_source(k, &m, src);
        } else if (m.type == UNIT_MOUNT_VOLUME) {
                if (isempty(src)) {
                        m.type = UNIT_MOUNT_ANONYMOUS;
                        r = 0;
                } else if (path_is_absolute(src))
                        return err(k, "A volume mount takes a volume name, not a path ('%s'); use type=bind",
                                   src);
                else
                        r = mount_source(k, &m, src);
        } else
                r = tmpfs_finish(&m, TAKE_PTR(data));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        r = mounts_add(k, &m);
        return r == -EINVAL ? 0 : r;
}

static int parse_shm_size(KeyCtx *k, const char *v, size_t off)
{
        uint64_t sz;
        if (isempty(v)) {
                k->c->shm_size = 0;
                return 0;
        }
        if (parse_size(v, &sz) < 0 || sz == 0 || sz == SIZE_INFINITY)
                return err(k, "Invalid size '%s'", v);
        k->c->shm_size = sz;
        return 0;
}

/* ---------------------------------------------------------------- [Container] network, security */

static int parse_network(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v) || streq(v, "private"))
                k->c->network = UNIT_NETWORK_PRIVATE;
        else if (streq(v, "none"))
                k->c->network = UNIT_NETWORK_NONE;
        else if (streq(v, "host"))
                k->c->network = UNIT_NETWORK_HOST;
        else if (streq(v, "bridge") || startswith(v, "bridge:") || endswith(v, ".network") ||
                 endswith(v, ".container") || startswith(v, "container:") || startswith(v, "ns:") ||
                 startswith(v, "pasta") || startswith(v, "slirp4netns"))
                return err(k, "Network=%s is not supported yet (none, host, private)", v);
        else
                return err(k, "Invalid Network= '%s' (none, host, private)", v);
        return 0;
}

static int parse_capabilities(KeyCtx *k, const char *v, size_t off)
{
        bool drop = off == offsetof(UnitConfig, drop_capabilities);
        uint64_t *mask = drop ? &k->c->drop_capabilities : &k->c->add_capabilities;
        bool *all = drop ? &k->c->drop_all_capabilities : &k->c->add_all_capabilities;
        _cleanup_strv_free_ char **w = NULL;

        if (isempty(v)) {
                *mask = 0;
                *all = false;
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                if (strcasecmp(*s, "all") == 0 || strcasecmp(*s, "CAP_ALL") == 0) {
                        *all = true;
                        continue;
                }
                int cap = capability_from_name(*s);
                if (cap < 0 || cap >= 64) {
                        err(k, "Unknown capability '%s'", *s);
                        continue;
                }
                *mask |= UINT64_C(1) << cap;
        }
        return 0;
}

static int parse_seccomp(KeyCtx *k, const char *v, size_t off)
{
        char *p = NULL;
        if (isempty(v)) {
                k->c->seccomp_profile = mfree(k->c->seccomp_profile);
                k->c->seccomp_unconfined = false;
                return 0;
        }
        if (streq(v, "unconfined")) {
                k->c->seccomp_profile = mfree(k->c->seccomp_profile);
                k->c->seccomp_unconfined = true;
                return 0;
        }
        int r = parse_abs_path(k, "SeccompProfile", v, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        free(k->c->seccomp_profile);
        k->c->seccomp_profile = p;
        k->c->seccomp_unconfined = false;
        return 0;
}

static int parse_mask(KeyCtx *k, const char *v, size_t off)
{
        bool unmask = off == offsetof(UnitConfig, unmask);
        char ***l = unmask ? &k->c->unmask : &k->c->mask;
        int r;

        if (isempty(v)) {
                *l = strv_free(*l);
                if (unmask)
                        k->c->unmask_all = false;
                return 0;
        }
        _cleanup_strv_free_ char **parts = strv_split(v, ":");
        if (!parts)
                return -ENOMEM;
        STRV_FOREACH (s, parts) {
                char *p = NULL;
                if (unmask && streq(*s, "ALL")) {
                        k->c->unmask_all = true;
                        continue;
                }
                r = parse_abs_path(k, unmask ? "Unmask path" : "Mask path", *s, &p);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (strv_contains(*l, p)) {
                        free(p);
                        continue;
                }
                r = strv_consume(l, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Podman's namespaced sysctls: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* */
static bool sysctl_is_namespaced(const char *n)
{
        return startswith(n, "net.") || startswith(n, "fs.mqueue.") || startswith(n, "kernel.shm") ||
               startswith(n, "kernel.msg") || streq(n, "kernel.sem") || streq(n, "kernel.domainname") ||
               streq(n, "kernel.hostname");
}

static int parse_sysctl(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->sysctl = strv_free(k->c->sysctl);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                char *eq = strchr(*s, '=');
                if (!eq || eq == *s) {
                        err(k, "Invalid sysctl '%s' (name=value)", *s);
                        continue;
                }
                *eq = '\0';
                /* accept "net/ipv4/ip_forward" as well, normalise to dots */
                for (char *c = *s; *c; c++)
                        if (*c == '/')
                                *c = '.';
                bool ok = strspn(*s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                                  strlen(*s) &&
                          (*s)[0] != '.' && !strstr(*s, "..");
                if (!ok) {
                        err(k, "Invalid sysctl name '%s'", *s);
                        continue;
                }
                if (!sysctl_is_namespaced(*s)) {
                        err(k, "Sysctl '%s' is not namespaced and cannot be set for a container", *s);
                        continue;
                }
                if (string_has_cc(eq + 1)) {
                        err(k, "Sysctl value contains control characters");
                        continue;
                }
                *eq = '=';
                r = strv_set_keyed(&k->c->sysctl, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_device(KeyCtx *k, const char *v, size_t off)
{
        UnitConfig *c = k->c;
        UnitDevice d = {.permissions = "rwm"};
        _cleanup_strv_free_ char **parts = NULL;
        int r;

        if (isempty(v)) {
                for (size_t i = 0; i < c->n_devices; i++) {
                        free(c->devices[i].host_path);
                        free(c->devices[i].container_path);
                }
                c->devices = mfree(c->devices);
                c->n_devices = 0;
                return 0;
        }
        if (v[0] == '-') {
                d.optional = true;
                v++;
        }
        parts = strv_split(v, ":");
        if (!parts)
                return -ENOMEM;
        size_t n = strv_length(parts);
        const char *host = n > 0 ? parts[0] : "", *ctr = NULL, *perm = NULL;
        if (n == 2) {
                if (path_is_absolute(parts[1]))
                        ctr = parts[1];
                else
                        perm = parts[1];
        } else if (n == 3) {
                ctr = parts[1];
                perm = parts[2];
        } else if (n != 1)
                return err(k, "Invalid AddDevice= '%s' ([-]HOST[:CONTAINER][:rwm])", v);

        if (perm) {
                if (isempty(perm) || strlen(perm) > 3 || strspn(perm, "rwm") != strlen(perm) ||
                    (strchr(perm, 'r') != strrchr(perm, 'r')) || (strchr(perm, 'w') != strrchr(perm, 'w')) ||
                    (strchr(perm, 'm') != strrchr(perm, 'm')))
                        return err(k, "Invalid device permissions '%s' (a combination of r, w, m)", perm);
                memset(d.permissions, 0, sizeof(d.permissions));
                memcpy(d.permissions, perm, strlen(perm));
        }
        r = parse_abs_path(k, "Device path", host, &d.host_path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (!path_startswith_dir(d.host_path, "/dev")) {
                free(d.host_path);
                return err(k, "Device '%s' is not below /dev", host);
        }
        r = parse_abs_path(k, "Device path in the container", ctr ?: host, &d.container_path);
        if (r < 0) {
                free(d.host_path);
                return r == -ENOMEM ? r : 0;
        }
        if (c->n_devices >= 1024) {
                free(d.host_path);
                free(d.container_path);
                return err(k, "Too many devices");
        }
        UnitDevice *nd = realloc(c->devices, (c->n_devices + 1) * sizeof(UnitDevice));
        if (!nd) {
                free(d.host_path);
                free(d.container_path);
                return -ENOMEM;
        }
        c->devices = nd;
        c->devices[c->n_devices++] = d;
        return 0;
}

static int parse_userns(KeyCtx *k, const char *v, size_t off)
{
        const char *o;
        if (isempty(v) || streq(v, "host")) {
                k->c->userns = UNIT_USERNS_HOST;
                return 0;
        }
        if (streq(v, "auto")) {
                k->c->userns = UNIT_USERNS_AUTO;
                return 0;
        }
        if ((o = startswith(v, "auto:"))) {
                const char *sz = startswith(o, "size=");
                unsigned n = 0;
                if (!sz)
                        return err(k, "Unsupported UserNS=auto option '%s' (size=N)", o);
                if (parse_unsigned_range(k, sz, &n, 1, UINT32_MAX - 1) < 0)
                        return 0;
                k->c->userns = UNIT_USERNS_AUTO;
                k->c->userns_auto_size = n;
                return 0;
        }
        return err(k, "Unsupported UserNS= '%s' (host, auto, auto:size=N)", v);
}

static int parse_idmap(KeyCtx *k, const char *v, size_t off)
{
        bool gid = off == offsetof(UnitConfig, gid_map);
        UnitIdMap **m = gid ? &k->c->gid_map : &k->c->uid_map;
        size_t *n = gid ? &k->c->n_gid_map : &k->c->n_uid_map;
        uint32_t a, b, c;

        if (isempty(v)) {
                *m = mfree(*m);
                *n = 0;
                return 0;
        }
        _cleanup_strv_free_ char **parts = strv_split(v, ":");
        if (!parts)
                return -ENOMEM;
        if (strv_length(parts) != 3 || safe_atou32(parts[0], &a) < 0 || safe_atou32(parts[1], &b) < 0 ||
            safe_atou32(parts[2], &c) < 0)
                return err(k, "Invalid %s '%s' (CONTAINER:HOST:SIZE, numbers)",
                           gid ? "GIDMap=" : "UIDMap=", v);
        if (c == 0 || (uint64_t)a + c > UINT32_MAX || (uint64_t)b + c > UINT32_MAX)
                return err(k, "ID range in '%s' is empty or overflows", v);
        for (size_t i = 0; i < *n; i++) {
                UnitIdMap *x = &(*m)[i];
                if ((a < x->container_id + x->size && x->container_id < a + c) ||
                    (b < x->host_id + x->size && x->host_id < b + c))
                        return err(k, "ID range in '%s' overlaps an earlier one", v);
        }
        if (*n >= 340) /* the kernel's limit on map lines */
                return err(k, "Too many ID map entries");
        UnitIdMap *nm = realloc(*m, (*n + 1) * sizeof(UnitIdMap));
        if (!nm)
                return -ENOMEM;
        *m = nm;
        nm[(*n)++] = (UnitIdMap){a, b, c};
        return 0;
}

/* ---------------------------------------------------------------- [Container] resources */

static int parse_memory(KeyCtx *k, const char *v, size_t off)
{
        uint64_t sz;
        if (isempty(v)) {
                k->c->memory = 0;
                return 0;
        }
        if (parse_size(v, &sz) < 0 || sz == 0 || sz == SIZE_INFINITY)
                return err(k, "Invalid memory size '%s'", v);
        k->c->memory = sz;
        return 0;
}

static int parse_pids_limit(KeyCtx *k, const char *v, size_t off)
{
        int64_t n;
        if (isempty(v)) {
                k->c->pids_limit = 0;
                return 0;
        }
        if (safe_atoi64(v, &n) < 0 || n < -1)
                return err(k, "Invalid PidsLimit= '%s' (a number, -1 or 0 for no limit)", v);
        k->c->pids_limit = n <= 0 ? -1 : n;
        return 0;
}

static const struct {
        const char *name;
        int resource;
} ulimit_names[] = {
        {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
        {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
        {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
        {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
        {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
        {"stack", RLIMIT_STACK},
};

static int parse_rlimit_value(const char *s, uint64_t *ret)
{
        int64_t n;
        if (streq(s, "unlimited") || streq(s, "infinity") || streq(s, "-1")) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (safe_atoi64(s, &n) < 0 || n < 0)
                return -EINVAL;
        *ret = (uint64_t)n;
        return 0;
}

static int parse_ulimit(KeyCtx *k, const char *v, size_t off)
{
        UnitConfig *c = k->c;
        if (isempty(v)) {
                c->ulimits = mfree(c->ulimits);
                c->n_ulimits = 0;
                return 0;
        }
        const char *eq = strchr(v, '=');
        if (!eq)
                return err(k, "Invalid Ulimit= '%s' (NAME=SOFT[:HARD])", v);
        int res = -1;
        for (size_t i = 0; i < ELEMENTSOF(ulimit_names); i++)
                if (strlen(ulimit_names[i].name) == (size_t)(eq - v) &&
                    strneq(v, ulimit_names[i].name, eq - v))
                        res = ulimit_names[i].resource;
        if (res < 0)
                return err(k, "Unknown ulimit '%.*s'", (int)(eq - v), v);
        _cleanup_free_ char *vals = strdup(eq + 1);
        if (!vals)
                return -ENOMEM;
        char *colon = strchr(vals, ':');
        if (colon)
                *colon = '\0';
        uint64_t soft, hard;
        if (parse_rlimit_value(vals, &soft) < 0 || (colon && parse_rlimit_value(colon + 1, &hard) < 0))
                return err(k, "Invalid ulimit value in '%s'", v);
        if (!colon)
                hard = soft;
        if (soft > hard)
                return err(k, "Soft limit is above the hard limit in '%s'", v);
        for (size_t i = 0; i < c->n_ulimits; i++)
                if (c->ulimits[i].resource == res) {
                        c->ulimits[i].soft = soft;
                        c->ulimits[i].hard = hard;
                        return 0;
                }
        UnitUlimit *n = realloc(c->ulimits, (c->n_ulimits + 1) * sizeof(UnitUlimit));
        if (!n)
                return -ENOMEM;
        c->ulimits = n;
        n[c->n_ulimits++] = (UnitUlimit){res, soft, hard};
        return 0;
}

/* "N%" / "N.NN%" → fraction of UINT32_MAX. */
static int parse_percent_scale(const char *s, uint32_t *ret)
{
        const char *pct = endswith(s, "%");
        if (!pct)
                return -EINVAL;
        size_t n = (size_t)(pct - s);
        uint64_t whole = 0, frac = 0;
        size_t i = 0, fd = 0;
        if (n == 0)
                return -EINVAL;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                whole = whole * 10 + (uint64_t)(s[i] - '0');
                if (whole > 100)
                        return -ERANGE;
        }
        if (i == 0)
                return -EINVAL;
        if (i < n && s[i] == '.') {
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
                        if (fd < 2)
                                frac = frac * 10 + (uint64_t)(s[i] - '0');
                if (fd == 0)
                        return -EINVAL;
                if (fd == 1)
                        frac *= 10;
        }
        if (i != n)
                return -EINVAL;
        uint64_t permyriad = whole * 100 + frac;
        if (permyriad > 10000)
                return -ERANGE;
        *ret = (uint32_t)((permyriad * UINT32_MAX + 5000) / 10000);
        return 0;
}

static int parse_resource(KeyCtx *k, const char *v, size_t off, bool is_count)
{
        UnitResource *res = CFG(k, off, UnitResource);
        if (isempty(v)) {
                *res = (UnitResource){};
                return 0;
        }
        if (endswith(v, "%")) {
                uint32_t s;
                if (parse_percent_scale(v, &s) < 0 || s == 0)
                        return err(k, "Invalid percentage '%s' (above 0%%, at most 100%%)", v);
                *res = (UnitResource){.set = true, .scale = s};
                return 0;
        }
        uint64_t x;
        if (streq(v, "infinity"))
                x = UINT64_MAX;
        else if (is_count ? safe_atou64(v, &x) < 0 : parse_size(v, &x) < 0)
                return err(k, "Invalid value '%s'", v);
        if (x == 0 && is_count)
                return err(k, "Value must be greater than zero");
        *res = (UnitResource){.set = true, .value = x};
        return 0;
}

static int parse_memory_resource(KeyCtx *k, const char *v, size_t off)
{
        return parse_resource(k, v, off, false);
}

static int parse_count_resource(KeyCtx *k, const char *v, size_t off)
{
        return parse_resource(k, v, off, true);
}

static int parse_weight(KeyCtx *k, const char *v, size_t off)
{
        unsigned w = 0;
        if (isempty(v)) {
                *CFG(k, off, uint64_t) = 0;
                return 0;
        }
        if (parse_unsigned_range(k, v, &w, 1, 10000) < 0)
                return 0;
        *CFG(k, off, uint64_t) = w;
        return 0;
}

static int parse_cpu_quota(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->cpu_quota_per_sec_usec = 0;
                return 0;
        }
        const char *pct = endswith(v, "%");
        uint64_t whole = 0, frac = 0;
        size_t i = 0, fd = 0, n = pct ? (size_t)(pct - v) : 0;
        if (!pct || n == 0)
                return err(k, "Invalid CPUQuota= '%s' (a percentage such as 20%% or 150%%)", v);
        for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
                whole = whole * 10 + (uint64_t)(v[i] - '0');
                if (whole > 100000)
                        return err(k, "CPUQuota= '%s' is too large", v);
        }
        if (i < n && v[i] == '.')
                for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, fd++)
                        if (fd < 2)
                                frac = frac * 10 + (uint64_t)(v[i] - '0');
        if (fd == 1)
                frac *= 10;
        if (i != n || i == 0)
                return err(k, "Invalid CPUQuota= '%s'", v);
        uint64_t usec = whole * 10000 + frac * 100; /* 1% = 10ms per second */
        if (usec == 0)
                return err(k, "CPUQuota= must be above 0%%");
        k->c->cpu_quota_per_sec_usec = usec;
        return 0;
}

/* ---------------------------------------------------------------- [Container] lifecycle */

static int parse_stop_timeout(KeyCtx *k, const char *v, size_t off)
{
        return parse_sec(k, v, off);
}

static int parse_notify(KeyCtx *k, const char *v, size_t off)
{
        if (streq(v, "healthy")) {
                k->c->notify = UNIT_NOTIFY_HEALTHY;
                return 0;
        }
        int b = parse_boolean(v);
        if (b < 0)
                return err(k, "Invalid Notify= '%s' (false, true, healthy)", v);
        k->c->notify = b ? UNIT_NOTIFY_TRUE : UNIT_NOTIFY_FALSE;
        return 0;
}

static int parse_health_cmd(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (isempty(v) || streq(v, "none")) {
                k->c->health_cmd = strv_free(k->c->health_cmd);
                return 0;
        }
        if (v[0] == '[') {
                r = parse_json_string_array(v, &argv);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || strv_isempty(argv))
                        return err(k, "Invalid JSON array in HealthCmd= '%s'", v);
                /* Docker's ["CMD", …] and ["CMD-SHELL", "…"] forms */
                if (streq(argv[0], "CMD") || streq(argv[0], "CMD-SHELL")) {
                        bool shell = streq(argv[0], "CMD-SHELL");
                        free(argv[0]);
                        memmove(argv, argv + 1, strv_length(argv) * sizeof(char *));
                        if (strv_isempty(argv))
                                return err(k, "Empty HealthCmd=");
                        if (shell) {
                                _cleanup_free_ char *cmd = strv_join(argv, " ");
                                if (!cmd)
                                        return -ENOMEM;
                                strv_free(argv);
                                argv = strv_new("/bin/sh", "-c", cmd, NULL);
                                if (!argv)
                                        return -ENOMEM;
                        }
                } else if (streq(argv[0], "NONE")) {
                        k->c->health_cmd = strv_free(k->c->health_cmd);
                        return 0;
                }
        } else {
                if (string_has_cc(v))
                        return err(k, "HealthCmd= contains control characters");
                argv = strv_new("/bin/sh", "-c", v, NULL);
                if (!argv)
                        return -ENOMEM;
        }
        strv_free(k->c->health_cmd);
        k->c->health_cmd = TAKE_PTR(argv);
        return 0;
}

static int parse_health_interval(KeyCtx *k, const char *v, size_t off)
{
        if (streq(v, "disable")) {
                k->c->health_interval_usec = 0;
                return 0;
        }
        return parse_positive_sec(k, v, off);
}

static int parse_health_retries(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (parse_unsigned_range(k, v, &n, 1, 1000000) < 0)
                return 0;
        k->c->health_retries = n;
        return 0;
}

static int parse_health_on_failure(KeyCtx *k, const char *v, size_t off)
{
        for (int i = 0; i < _UNIT_HEALTH_ON_FAILURE_MAX; i++)
                if (streq(v, unit_health_on_failure_to_string(i))) {
                        k->c->health_on_failure = i;
                        return 0;
                }
        return err(k, "Invalid HealthOnFailure= '%s' (none, kill, restart, stop)", v);
}

static int parse_reload_signal(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->reload_signal = 0;
                return 0;
        }
        return parse_signal(k, v, off);
}

static int parse_keyvalue_list(KeyCtx *k, const char *v, size_t off)
{
        char ***l = CFG(k, off, char **);
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                *l = strv_free(*l);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                const char *eq = strchr(*s, '=');
                if (!eq || eq == *s) {
                        err(k, "Invalid key=value '%s'", *s);
                        continue;
                }
                if (string_has_cc(*s)) {
                        err(k, "Key=value contains control characters");
                        continue;
                }
                r = strv_set_keyed(l, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- [Service] */

static int parse_restart(KeyCtx *k, const char *v, size_t off)
{
        const char *n;
        k->c->restart_unless_stopped = false;
        if (streq(v, "unless-stopped")) {
                k->c->restart = UNIT_RESTART_ALWAYS;
                k->c->restart_unless_stopped = true;
                return 0;
        }
        if ((n = startswith(v, "on-failure:"))) {
                unsigned max = 0;
                if (parse_unsigned_range(k, n, &max, 0, 1000000) < 0)
                        return 0;
                k->c->restart = UNIT_RESTART_ON_FAILURE;
                if (max > 0) {
                        /* Docker's retry cap = a start limit over the whole lifetime */
                        k->c->start_limit_burst = max + 1;
                        k->c->start_limit_interval_usec = USEC_INFINITY;
                }
                return 0;
        }
        for (int i = 0; i < _UNIT_RESTART_MAX; i++)
                if (streq(v, unit_restart_to_string(i))) {
                        k->c->restart = i;
                        return 0;
                }
        if (streq(v, "on-watchdog"))
                return err(k, "Restart=on-watchdog is not supported (no watchdog)");
        return err(k,
                   "Invalid Restart= '%s' (no, on-success, on-failure, on-abnormal, on-abort, always, "
                   "unless-stopped, on-failure:N)",
                   v);
}

static int parse_restart_steps(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (parse_unsigned_range(k, v, &n, 0, 2000) < 0)
                return 0;
        k->c->restart_steps = n;
        return 0;
}

static int parse_start_limit_burst(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (parse_unsigned_range(k, v, &n, 0, 1000000) < 0)
                return 0;
        k->c->start_limit_burst = n;
        return 0;
}

static int parse_start_limit_interval(KeyCtx *k, const char *v, size_t off)
{
        return parse_sec_infinity(k, v, off);
}

static int parse_restart_prevent(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                memset(k->c->restart_prevent_status, 0, sizeof(k->c->restart_prevent_status));
                k->c->restart_prevent_signals = 0;
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                unsigned st = 0;
                if (safe_atou(*s, &st) == 0) {
                        if (st > 255) {
                                err(k, "Exit status %u out of range 0…255", st);
                                continue;
                        }
                        k->c->restart_prevent_status[st / 8] |= (uint8_t)(1u << (st % 8));
                        continue;
                }
                int sig = signal_from_string(*s);
                if (sig <= 0 || sig > 64) {
                        err(k, "Invalid exit status or signal '%s'", *s);
                        continue;
                }
                k->c->restart_prevent_signals |= UINT64_C(1) << (sig - 1);
        }
        return 0;
}

/* ---------------------------------------------------------------- [Install] */

static int parse_wanted_by(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->wanted_by = strv_free(k->c->wanted_by);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                if (!streq(*s, "multi-user.target") && !streq(*s, "default.target"))
                        warn(k,
                             "WantedBy=%s has no effect (only multi-user.target and default.target start a "
                             "unit at boot)",
                             *s);
                if (!strv_contains(k->c->wanted_by, *s)) {
                        r = strv_extend(&k->c->wanted_by, *s);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_alias(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **w = NULL;
        if (isempty(v)) {
                k->c->alias = strv_free(k->c->alias);
                return 0;
        }
        int r = extract_all_words(v, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &k->loc, &w);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        STRV_FOREACH (s, w) {
                _cleanup_free_ char *n = NULL;
                if (unit_name_normalize(*s, &n) < 0) {
                        err(k, "Invalid alias name '%s'", *s);
                        continue;
                }
                if ((strchr(n, '@') != NULL) != (k->unit->instance != NULL || k->unit->is_template)) {
                        err(k, "Alias '%s' must be a template/instance exactly when the unit is one", *s);
                        continue;
                }
                if (!strv_contains(k->c->alias, n)) {
                        r = strv_consume(&k->c->alias, TAKE_PTR(n));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_default_instance(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->default_instance = mfree(k->c->default_instance);
                return 0;
        }
        if (!k->unit->is_template && !k->unit->instance)
                return warn(k, "DefaultInstance= only applies to templates, ignoring");
        _cleanup_free_ char *n = strjoin("x@", v);
        if (!n)
                return -ENOMEM;
        if (strchr(v, '@') || !unit_name_is_valid(n))
                return err(k, "Invalid instance name '%s'", v);
        return free_and_strdup(&k->c->default_instance, v);
}

/* ---------------------------------------------------------------- the table */

#define O(field) offsetof(UnitConfig, field)

static const KeyDef key_table[] = {
        {"Unit", "Description", parse_string, O(description)},
        {"Unit", "Documentation", parse_documentation, 0},
        {"Unit", "After", parse_deps, O(after)},
        {"Unit", "Before", parse_deps, O(before)},
        {"Unit", "Requires", parse_deps, O(requires)},
        {"Unit", "Wants", parse_deps, O(wants)},
        {"Unit", "BindsTo", parse_deps, O(binds_to)},
        {"Unit", "Conflicts", parse_deps, O(conflicts)},
        {"Unit", "StartLimitBurst", parse_start_limit_burst, 0},
        {"Unit", "StartLimitIntervalSec", parse_start_limit_interval, O(start_limit_interval_usec)},

        {"Container", "Image", parse_image, 0},
        {"Container", "Rootfs", parse_rootfs, 0},
        {"Container", "Exec", parse_command, O(exec)},
        {"Container", "Entrypoint", parse_entrypoint, 0},
        {"Container", "WorkingDir", parse_working_dir, 0},
        {"Container", "User", parse_user_or_group, O(user)},
        {"Container", "Group", parse_user_or_group, O(group)},
        {"Container", "Environment", parse_environment, 0},
        {"Container", "EnvironmentFile", parse_environment_file, 0},
        {"Container", "HostName", parse_hostname, 0},
        {"Container", "RunInit", parse_bool, O(run_init)},
        {"Container", "Volume", parse_volume, 0},
        {"Container", "Tmpfs", parse_tmpfs, 0},
        {"Container", "Mount", parse_mount, 0},
        {"Container", "ReadOnly", parse_bool, O(read_only)},
        {"Container", "ReadOnlyTmpfs", parse_bool, O(read_only_tmpfs)},
        {"Container", "ShmSize", parse_shm_size, 0},
        {"Container", "Network", parse_network, 0},
        {"Container", "AddCapability", parse_capabilities, O(add_capabilities)},
        {"Container", "DropCapability", parse_capabilities, O(drop_capabilities)},
        {"Container", "NoNewPrivileges", parse_bool, O(no_new_privileges)},
        {"Container", "SeccompProfile", parse_seccomp, 0},
        {"Container", "Mask", parse_mask, O(mask)},
        {"Container", "Unmask", parse_mask, O(unmask)},
        {"Container", "Sysctl", parse_sysctl, 0},
        {"Container", "AddDevice", parse_device, 0},
        {"Container", "UserNS", parse_userns, 0},
        {"Container", "UIDMap", parse_idmap, O(uid_map)},
        {"Container", "GIDMap", parse_idmap, O(gid_map)},
        {"Container", "Memory", parse_memory, 0},
        {"Container", "PidsLimit", parse_pids_limit, 0},
        {"Container", "Ulimit", parse_ulimit, 0},
        {"Container", "MemoryMax", parse_memory_resource, O(memory_max), true},
        {"Container", "MemoryHigh", parse_memory_resource, O(memory_high), true},
        {"Container", "TasksMax", parse_count_resource, O(tasks_max), true},
        {"Container", "CPUWeight", parse_weight, O(cpu_weight), true},
        {"Container", "CPUQuota", parse_cpu_quota, 0, true},
        {"Container", "IOWeight", parse_weight, O(io_weight), true},
        {"Container", "StopSignal", parse_signal, O(stop_signal)},
        {"Container", "StopTimeout", parse_stop_timeout, O(stop_timeout_usec)},
        {"Container", "Notify", parse_notify, 0},
        {"Container", "HealthCmd", parse_health_cmd, 0},
        {"Container", "HealthInterval", parse_health_interval, O(health_interval_usec)},
        {"Container", "HealthTimeout", parse_positive_sec, O(health_timeout_usec)},
        {"Container", "HealthRetries", parse_health_retries, 0},
        {"Container", "HealthStartPeriod", parse_sec, O(health_start_period_usec)},
        {"Container", "HealthOnFailure", parse_health_on_failure, 0},
        {"Container", "ReloadCmd", parse_command, O(reload_cmd)},
        {"Container", "ReloadSignal", parse_reload_signal, O(reload_signal)},
        {"Container", "Label", parse_keyvalue_list, O(labels)},
        {"Container", "Annotation", parse_keyvalue_list, O(annotations)},

        {"Service", "Restart", parse_restart, 0},
        {"Service", "RestartSec", parse_sec, O(restart_usec)},
        {"Service", "RestartSteps", parse_restart_steps, 0},
        {"Service", "RestartMaxDelaySec", parse_sec_infinity, O(restart_max_delay_usec)},
        {"Service", "TimeoutStartSec", parse_sec_infinity_zero, O(timeout_start_usec)},
        {"Service", "TimeoutStopSec", parse_sec_infinity_zero, O(timeout_stop_usec)},
        {"Service", "StartLimitBurst", parse_start_limit_burst, 0},
        {"Service", "StartLimitIntervalSec", parse_start_limit_interval, O(start_limit_interval_usec)},
        {"Service", "RestartPreventExitStatus", parse_restart_prevent, 0},
        /* resource keys are systemd's [Service] keys too */
        {"Service", "MemoryMax", parse_memory_resource, O(memory_max), true},
        {"Service", "MemoryHigh", parse_memory_resource, O(memory_high), true},
        {"Service", "TasksMax", parse_count_resource, O(tasks_max), true},
        {"Service", "CPUWeight", parse_weight, O(cpu_weight), true},
        {"Service", "CPUQuota", parse_cpu_quota, 0, true},
        {"Service", "IOWeight", parse_weight, O(io_weight), true},

        {"Install", "WantedBy", parse_wanted_by, 0},
        {"Install", "Alias", parse_alias, 0},
        {"Install", "DefaultInstance", parse_default_instance, 0},
};

/* Quadlet keys we know of but do not support yet: a clearer warning than "unknown". */
static const char *const quadlet_later[] = {
        "PublishPort",
        "NetworkAlias",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "AddHost",
        "Secret",
        "Timezone",
        "AutoUpdate",
        "Pod",
        "HealthStartupCmd",
        "HealthStartupInterval",
        "HealthStartupRetries",
        "HealthStartupSuccess",
        "HealthStartupTimeout",
        "ContainerName",
        "ExposeHostPort",
        "IP",
        "IP6",
        "LogDriver",
        "LogOpt",
        "PodmanArgs",
        "GlobalArgs",
        "Pull",
        "Retry",
        "RetryDelay",
        "GroupAdd",
        "EnvironmentHost",
        "HttpProxy",
        "SecurityLabelDisable",
        "SecurityLabelFileType",
        "SecurityLabelLevel",
        "SecurityLabelNested",
        "SecurityLabelType",
        "SubUIDMap",
        "SubGIDMap",
        "AppArmor",
        "CgroupsMode",
        "ContainersConfModule",
        "ServiceName",
        "StartWithPod",
        "HealthLogDestination",
        "HealthMaxLogCount",
        "HealthMaxLogSize",
        "VolatileTmp",
        "RemapUsers",
        "RemapUid",
        "RemapGid",
        "RemapUidSize",
};

bool unit_section_is_known(const char *section)
{
        return streq(section, "Unit") || streq(section, "Container") || streq(section, "Service") ||
               streq(section, "Install");
}

static const KeyDef *key_lookup(const char *section, const char *key, size_t *ret_index)
{
        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (streq(key_table[i].section, section) && streq(key_table[i].key, key)) {
                        *ret_index = i;
                        return &key_table[i];
                }
        return NULL;
}

/* ---------------------------------------------------------------- cross-key rules */

typedef struct Seen {
        const char *file;
        unsigned line;
        bool set;
} Seen;

static const Seen *seen_key(const Seen *seen, const char *key)
{
        const Seen *best = NULL;
        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (streq(key_table[i].key, key) && seen[i].set)
                        best = &seen[i];
        return best;
}

#define CROSS_ERROR(u, s, ...)                                                                     \
        unit_diag((u), UNIT_DIAG_ERROR, (s) ? (s)->file : (u)->fragment_path, (s) ? (s)->line : 0, \
                  __VA_ARGS__)

static void check_cross_keys(Unit *u, const Seen *seen)
{
        UnitConfig *c = &u->config;

        if (!c->image && !c->rootfs && !seen_key(seen, "Image") && !seen_key(seen, "Rootfs"))
                unit_diag(u, UNIT_DIAG_ERROR, u->fragment_path, 0,
                          "Neither Image= nor Rootfs= is set in [Container] (exactly one is required)");
        if (c->image && c->rootfs) {
                const Seen *a = seen_key(seen, "Image"), *b = seen_key(seen, "Rootfs");
                const Seen *later = a && b && (b->line > a->line || !streq_ptr(a->file, b->file)) ? b : a;
                CROSS_ERROR(u, later, "Image= and Rootfs= exclude each other");
        }
        if (c->group && !c->user)
                CROSS_ERROR(u, seen_key(seen, "Group"), "Group= needs User=");
        if (c->reload_cmd && c->reload_signal)
                CROSS_ERROR(u, seen_key(seen, "ReloadSignal"),
                            "ReloadCmd= and ReloadSignal= exclude each other");
        if (c->notify == UNIT_NOTIFY_HEALTHY && !c->health_cmd)
                CROSS_ERROR(u, seen_key(seen, "Notify"), "Notify=healthy needs HealthCmd=");
        if (c->health_on_failure != UNIT_HEALTH_ON_FAILURE_NONE && !c->health_cmd)
                CROSS_ERROR(u, seen_key(seen, "HealthOnFailure"), "HealthOnFailure= needs HealthCmd=");
        if (c->n_uid_map > 0 || c->n_gid_map > 0) {
                if (c->userns == UNIT_USERNS_AUTO)
                        CROSS_ERROR(u, seen_key(seen, "UserNS"), "UserNS=auto excludes UIDMap=/GIDMap=");
                else if (c->n_uid_map == 0 || c->n_gid_map == 0)
                        CROSS_ERROR(u, seen_key(seen, c->n_uid_map == 0 ? "GIDMap" : "UIDMap"),
                                    "UIDMap= and GIDMap= must be given together");
                else
                        c->userns = UNIT_USERNS_MAP;
        }
        if (c->network == UNIT_NETWORK_HOST)
                STRV_FOREACH (s, c->sysctl)
                        if (startswith(*s, "net.")) {
                                CROSS_ERROR(u, seen_key(seen, "Sysctl"),
                                            "Sysctl '%s' cannot be set with Network=host", *s);
                                break;
                        }
        if (c->restart_steps > 0 && c->restart_max_delay_usec != USEC_INFINITY &&
            c->restart_max_delay_usec < c->restart_usec)
                CROSS_ERROR(u, seen_key(seen, "RestartMaxDelaySec"),
                            "RestartMaxDelaySec= is below RestartSec=");
        if (c->health_cmd && c->health_interval_usec > 0 &&
            c->health_timeout_usec > c->health_interval_usec && seen_key(seen, "HealthTimeout"))
                unit_diag(u, UNIT_DIAG_WARNING, seen_key(seen, "HealthTimeout")->file,
                          seen_key(seen, "HealthTimeout")->line,
                          "HealthTimeout= is longer than HealthInterval=");
        if (c->stop_timeout_usec != USEC_INFINITY && c->timeout_stop_usec != USEC_INFINITY &&
            c->stop_timeout_usec > c->timeout_stop_usec)
                CROSS_ERROR(u, seen_key(seen, "StopTimeout"), "StopTimeout= is longer than TimeoutStopSec=");

        /* two mounts on the same destination */
        for (size_t i = 0; i < c->n_mounts; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(c->mounts[i].destination, c->mounts[j].destination)) {
                                unit_diag(u, UNIT_DIAG_ERROR, c->mounts[i].file, c->mounts[i].line,
                                          "Duplicate mount destination '%s' (also at line %u)",
                                          c->mounts[i].destination, c->mounts[j].line);
                                break;
                        }
}

/* ---------------------------------------------------------------- applying */

int unit_apply_assignments(Unit *u, const AssignmentList *l, const SpecifierContext *sc)
{
        Seen seen[ELEMENTSOF(key_table)] = {};
        bool has_container = false;

        for (size_t i = 0; i < l->n; i++) {
                const Assignment *a = &l->items[i];
                KeyCtx k = {.unit = u, .c = &u->config, .loc = {u, a->file, a->line}};
                size_t idx;

                if (!unit_section_is_known(a->section))
                        continue; /* warned at the section header */
                if (streq(a->section, "Container"))
                        has_container = true;
                if (startswith(a->key, "X-"))
                        continue;
                const KeyDef *d = key_lookup(a->section, a->key, &idx);
                if (!d) {
                        bool later = false;
                        for (size_t j = 0; j < ELEMENTSOF(quadlet_later); j++)
                                if (streq(a->key, quadlet_later[j]))
                                        later = true;
                        if (later && streq(a->section, "Container"))
                                loc_warn(&k.loc, "Quadlet key '%s' is not supported by ctrmgr yet, ignoring",
                                         a->key);
                        else
                                loc_warn(&k.loc, "Unknown key '%s' in section [%s], ignoring", a->key,
                                         a->section);
                        continue;
                }

                _cleanup_free_ char *v = NULL;
                int r = d->no_specifiers ? ((v = strdup(a->value)) ? 0 : -ENOMEM)
                                         : specifier_expand(sc, a->value, &k.loc, &v);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        return r;
                /* recorded even when the value is bad, so cross-key rules do not pile up
                 * consequential errors ("no Image=" after a bad Image=) */
                seen[idx] = (Seen){a->file, a->line, true};
                r = d->parse(&k, v, d->offset);
                if (r < 0)
                        return r;
        }

        if (!has_container) {
                /* still check, so the reason is the missing section */
                unit_diag(u, UNIT_DIAG_ERROR, u->fragment_path, 0, "No [Container] section");
                return 0;
        }
        check_cross_keys(u, seen);
        u->enabled = !u->is_template && (strv_contains(u->config.wanted_by, "multi-user.target") ||
                                         strv_contains(u->config.wanted_by, "default.target"));
        return 0;
}
