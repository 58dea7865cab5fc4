/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* units/keys-container.c — value parsers of [Container]: image and process, network, security,
 * resources and lifecycle (storage is in keys-mounts.c). */

#include <sys/resource.h>
#include <sys/stat.h>

#include "units/keys.h"

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

int key_parse_image(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->image = mfree(k->c->image);
                return 0;
        }
        const char *oci = startswith(v, "oci:");
        if (oci) {
                /* oci:/path/to/layout[:ref] */
                if (!path_is_absolute(oci))
                        return key_error(k, "Image '%s': the OCI layout path must be absolute", v);
                _cleanup_free_ char *p = strdup(oci);
                if (!p)
                        return -ENOMEM;
                char *colon = strchr(p, ':');
                if (colon) {
                        *colon = '\0';
                        if (isempty(colon + 1) || string_has_cc(colon + 1))
                                return key_error(
                                        k, "Image '%s': empty or invalid reference after the layout path",
                                        v);
                }
                if (!path_is_safe(p))
                        return key_error(k, "Image '%s': the layout path must not contain '..'", v);
        } else {
                if (endswith(v, ".image") || endswith(v, ".build"))
                        return key_error(
                                k, "Image '%s': Quadlet .image/.build units are not supported by ctrmgr", v);
                const char *why = image_reference_check(v);
                if (why)
                        return key_error(k, "Invalid image reference '%s': %s", v, why);
        }
        return free_and_strdup(&k->c->image, v);
}

int key_parse_abs_path(KeyCtx *k, const char *what, const char *v, char **ret)
{
        if (!path_is_absolute(v))
                return key_error_inval(k, "%s '%s' is not an absolute path", what, v);
        if (!path_is_safe(v))
                return key_error_inval(k, "%s '%s' must not contain '..'", what, v);
        if (string_has_cc(v))
                return key_error_inval(k, "%s contains control characters", what);
        if (strlen(v) >= 4096)
                return key_error_inval(k, "%s is too long", what);
        char *p = strdup(v);
        if (!p)
                return -ENOMEM;
        path_simplify(p);
        *ret = p;
        return 0;
}

int key_parse_rootfs(KeyCtx *k, const char *v, size_t off)
{
        char *p = NULL;
        if (isempty(v)) {
                k->c->rootfs = mfree(k->c->rootfs);
                return 0;
        }
        if (endswith(v, ":O"))
                return key_error(k, "Rootfs overlay mode ':O' is not supported");
        int r = key_parse_abs_path(k, "Rootfs", v, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        free(k->c->rootfs);
        k->c->rootfs = p;
        return 0;
}

/* JSON array of strings: ["a", "b\n"]. Returns -EINVAL (not reported) on syntax errors. */
int key_parse_json_string_array(const char *s, char ***ret)
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

int key_parse_entrypoint(KeyCtx *k, const char *v, size_t off)
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
                r = key_parse_json_string_array(v, &w);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return key_error(k, "Invalid JSON array in Entrypoint= '%s'", v);
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

int key_parse_working_dir(KeyCtx *k, const char *v, size_t off)
{
        char *p = NULL;
        if (isempty(v)) {
                k->c->working_dir = mfree(k->c->working_dir);
                return 0;
        }
        int r = key_parse_abs_path(k, "WorkingDir", v, &p);
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

int key_parse_user_or_group(KeyCtx *k, const char *v, size_t off)
{
        char **p = CFG(k, off, char *);
        if (isempty(v)) {
                *p = mfree(*p);
                return 0;
        }
        if (strchr(v, ':'))
                return key_error(k, "Invalid user or group '%s': write the group in Group=", v);
        if (!user_name_is_valid(v))
                return key_error(k, "Invalid user or group name '%s'", v);
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
int key_strv_set_keyed(char ***l, const char *assignment)
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

int key_parse_environment(KeyCtx *k, const char *v, size_t off)
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
                        key_error(k,
                                  "Invalid environment assignment '%s' (NAME=VALUE, NAME of letters, "
                                  "digits, '_')",
                                  *s);
                        continue;
                }
                r = key_strv_set_keyed(&k->c->environment, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A path relative to the directory of the file it was written in (Quadlet's "./x"). */
int key_resolve_relative(KeyCtx *k, const char *v, char **ret)
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

int key_parse_environment_file(KeyCtx *k, const char *v, size_t off)
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
                        return key_error(k, "Empty EnvironmentFile= path");
                r = key_resolve_relative(k, path, &abs);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return key_error(k, "EnvironmentFile '%s' is not an absolute path", path);
        }
        if (string_has_cc(abs))
                return key_error(k, "EnvironmentFile= path contains control characters");
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

int key_parse_hostname(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->hostname = mfree(k->c->hostname);
                return 0;
        }
        if (!hostname_is_valid(v))
                return key_error(k, "Invalid host name '%s'", v);
        return free_and_strdup(&k->c->hostname, v);
}

/* ---------------------------------------------------------------- [Container] network, security */

int key_parse_network(KeyCtx *k, const char *v, size_t off)
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
                return key_error(k, "Network=%s is not supported yet (none, host, private)", v);
        else
                return key_error(k, "Invalid Network= '%s' (none, host, private)", v);
        return 0;
}

int key_parse_capabilities(KeyCtx *k, const char *v, size_t off)
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
                        key_error(k, "Unknown capability '%s'", *s);
                        continue;
                }
                *mask |= UINT64_C(1) << cap;
        }
        return 0;
}

int key_parse_seccomp(KeyCtx *k, const char *v, size_t off)
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
        int r = key_parse_abs_path(k, "SeccompProfile", v, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        free(k->c->seccomp_profile);
        k->c->seccomp_profile = p;
        k->c->seccomp_unconfined = false;
        return 0;
}

int key_parse_mask(KeyCtx *k, const char *v, size_t off)
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
                r = key_parse_abs_path(k, unmask ? "Unmask path" : "Mask path", *s, &p);
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

int key_parse_sysctl(KeyCtx *k, const char *v, size_t off)
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
                        key_error(k, "Invalid sysctl '%s' (name=value)", *s);
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
                        key_error(k, "Invalid sysctl name '%s'", *s);
                        continue;
                }
                if (!sysctl_is_namespaced(*s)) {
                        key_error(k, "Sysctl '%s' is not namespaced and cannot be set for a container", *s);
                        continue;
                }
                if (string_has_cc(eq + 1)) {
                        key_error(k, "Sysctl value contains control characters");
                        continue;
                }
                *eq = '=';
                r = key_strv_set_keyed(&k->c->sysctl, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int key_parse_device(KeyCtx *k, const char *v, size_t off)
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
                return key_error(k, "Invalid AddDevice= '%s' ([-]HOST[:CONTAINER][:rwm])", v);

        if (perm) {
                if (isempty(perm) || strlen(perm) > 3 || strspn(perm, "rwm") != strlen(perm) ||
                    (strchr(perm, 'r') != strrchr(perm, 'r')) || (strchr(perm, 'w') != strrchr(perm, 'w')) ||
                    (strchr(perm, 'm') != strrchr(perm, 'm')))
                        return key_error(k, "Invalid device permissions '%s' (a combination of r, w, m)",
                                         perm);
                memset(d.permissions, 0, sizeof(d.permissions));
                memcpy(d.permissions, perm, strlen(perm));
        }
        r = key_parse_abs_path(k, "Device path", host, &d.host_path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (!path_startswith_dir(d.host_path, "/dev")) {
                free(d.host_path);
                return key_error(k, "Device '%s' is not below /dev", host);
        }
        r = key_parse_abs_path(k, "Device path in the container", ctr ?: host, &d.container_path);
        if (r < 0) {
                free(d.host_path);
                return r == -ENOMEM ? r : 0;
        }
        if (c->n_devices >= 1024) {
                free(d.host_path);
                free(d.container_path);
                return key_error(k, "Too many devices");
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

int key_parse_userns(KeyCtx *k, const char *v, size_t off)
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
                        return key_error(k, "Unsupported UserNS=auto option '%s' (size=N)", o);
                if (key_parse_unsigned_range(k, sz, &n, 1, UINT32_MAX - 1) < 0)
                        return 0;
                k->c->userns = UNIT_USERNS_AUTO;
                k->c->userns_auto_size = n;
                return 0;
        }
        return key_error(k, "Unsupported UserNS= '%s' (host, auto, auto:size=N)", v);
}

int key_parse_idmap(KeyCtx *k, const char *v, size_t off)
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
                return key_error(k, "Invalid %s '%s' (CONTAINER:HOST:SIZE, numbers)",
                                 gid ? "GIDMap=" : "UIDMap=", v);
        if (c == 0 || (uint64_t)a + c > UINT32_MAX || (uint64_t)b + c > UINT32_MAX)
                return key_error(k, "ID range in '%s' is empty or overflows", v);
        for (size_t i = 0; i < *n; i++) {
                UnitIdMap *x = &(*m)[i];
                if ((a < x->container_id + x->size && x->container_id < a + c) ||
                    (b < x->host_id + x->size && x->host_id < b + c))
                        return key_error(k, "ID range in '%s' overlaps an earlier one", v);
        }
        if (*n >= 340) /* the kernel's limit on map lines */
                return key_error(k, "Too many ID map entries");
        UnitIdMap *nm = realloc(*m, (*n + 1) * sizeof(UnitIdMap));
        if (!nm)
                return -ENOMEM;
        *m = nm;
        nm[(*n)++] = (UnitIdMap){a, b, c};
        return 0;
}

/* ---------------------------------------------------------------- [Container] resources */

int key_parse_memory(KeyCtx *k, const char *v, size_t off)
{
        uint64_t sz;
        if (isempty(v)) {
                k->c->memory = 0;
                return 0;
        }
        if (parse_size(v, &sz) < 0 || sz == 0 || sz == SIZE_INFINITY)
                return key_error(k, "Invalid memory size '%s'", v);
        k->c->memory = sz;
        return 0;
}

int key_parse_pids_limit(KeyCtx *k, const char *v, size_t off)
{
        int64_t n;
        if (isempty(v)) {
                k->c->pids_limit = 0;
                return 0;
        }
        if (safe_atoi64(v, &n) < 0 || n < -1)
                return key_error(k, "Invalid PidsLimit= '%s' (a number, -1 or 0 for no limit)", v);
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

int key_parse_rlimit_value(const char *s, uint64_t *ret)
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

int key_parse_ulimit(KeyCtx *k, const char *v, size_t off)
{
        UnitConfig *c = k->c;
        if (isempty(v)) {
                c->ulimits = mfree(c->ulimits);
                c->n_ulimits = 0;
                return 0;
        }
        const char *eq = strchr(v, '=');
        if (!eq)
                return key_error(k, "Invalid Ulimit= '%s' (NAME=SOFT[:HARD])", v);
        int res = -1;
        for (size_t i = 0; i < ELEMENTSOF(ulimit_names); i++)
                if (strlen(ulimit_names[i].name) == (size_t)(eq - v) &&
                    strneq(v, ulimit_names[i].name, eq - v))
                        res = ulimit_names[i].resource;
        if (res < 0)
                return key_error(k, "Unknown ulimit '%.*s'", (int)(eq - v), v);
        _cleanup_free_ char *vals = strdup(eq + 1);
        if (!vals)
                return -ENOMEM;
        char *colon = strchr(vals, ':');
        if (colon)
                *colon = '\0';
        uint64_t soft, hard;
        if (key_parse_rlimit_value(vals, &soft) < 0 ||
            (colon && key_parse_rlimit_value(colon + 1, &hard) < 0))
                return key_error(k, "Invalid ulimit value in '%s'", v);
        if (!colon)
                hard = soft;
        if (soft > hard)
                return key_error(k, "Soft limit is above the hard limit in '%s'", v);
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
int key_parse_percent_scale(const char *s, uint32_t *ret)
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

int key_parse_resource(KeyCtx *k, const char *v, size_t off, bool is_count)
{
        UnitResource *res = CFG(k, off, UnitResource);
        if (isempty(v)) {
                *res = (UnitResource){};
                return 0;
        }
        if (endswith(v, "%")) {
                uint32_t s;
                if (key_parse_percent_scale(v, &s) < 0 || s == 0)
                        return key_error(k, "Invalid percentage '%s' (above 0%%, at most 100%%)", v);
                *res = (UnitResource){.set = true, .scale = s};
                return 0;
        }
        uint64_t x;
        if (streq(v, "infinity"))
                x = UINT64_MAX;
        else if (is_count ? safe_atou64(v, &x) < 0 : parse_size(v, &x) < 0)
                return key_error(k, "Invalid value '%s'", v);
        if (x == 0 && is_count)
                return key_error(k, "Value must be greater than zero");
        *res = (UnitResource){.set = true, .value = x};
        return 0;
}

int key_parse_memory_resource(KeyCtx *k, const char *v, size_t off)
{
        return key_parse_resource(k, v, off, false);
}

int key_parse_count_resource(KeyCtx *k, const char *v, size_t off)
{
        return key_parse_resource(k, v, off, true);
}

int key_parse_weight(KeyCtx *k, const char *v, size_t off)
{
        unsigned w = 0;
        if (isempty(v)) {
                *CFG(k, off, uint64_t) = 0;
                return 0;
        }
        if (key_parse_unsigned_range(k, v, &w, 1, 10000) < 0)
                return 0;
        *CFG(k, off, uint64_t) = w;
        return 0;
}

int key_parse_cpu_quota(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->cpu_quota_per_sec_usec = 0;
                return 0;
        }
        const char *pct = endswith(v, "%");
        uint64_t whole = 0, frac = 0;
        size_t i = 0, fd = 0, n = pct ? (size_t)(pct - v) : 0;
        if (!pct || n == 0)
                return key_error(k, "Invalid CPUQuota= '%s' (a percentage such as 20%% or 150%%)", v);
        for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
                whole = whole * 10 + (uint64_t)(v[i] - '0');
                if (whole > 100000)
                        return key_error(k, "CPUQuota= '%s' is too large", v);
        }
        if (i < n && v[i] == '.')
                for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, fd++)
                        if (fd < 2)
                                frac = frac * 10 + (uint64_t)(v[i] - '0');
        if (fd == 1)
                frac *= 10;
        if (i != n || i == 0)
                return key_error(k, "Invalid CPUQuota= '%s'", v);
        uint64_t usec = whole * 10000 + frac * 100; /* 1% = 10ms per second */
        if (usec == 0)
                return key_error(k, "CPUQuota= must be above 0%%");
        k->c->cpu_quota_per_sec_usec = usec;
        return 0;
}

/* ---------------------------------------------------------------- [Container] lifecycle */

int key_parse_stop_timeout(KeyCtx *k, const char *v, size_t off)
{
        return key_parse_sec(k, v, off);
}

int key_parse_notify(KeyCtx *k, const char *v, size_t off)
{
        if (streq(v, "healthy")) {
                k->c->notify = UNIT_NOTIFY_HEALTHY;
                return 0;
        }
        int b = parse_boolean(v);
        if (b < 0)
                return key_error(k, "Invalid Notify= '%s' (false, true, healthy)", v);
        k->c->notify = b ? UNIT_NOTIFY_TRUE : UNIT_NOTIFY_FALSE;
        return 0;
}

int key_parse_health_cmd(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (isempty(v) || streq(v, "none")) {
                k->c->health_cmd = strv_free(k->c->health_cmd);
                return 0;
        }
        if (v[0] == '[') {
                r = key_parse_json_string_array(v, &argv);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || strv_isempty(argv))
                        return key_error(k, "Invalid JSON array in HealthCmd= '%s'", v);
                /* Docker's ["CMD", …] and ["CMD-SHELL", "…"] forms */
                if (streq(argv[0], "CMD") || streq(argv[0], "CMD-SHELL")) {
                        bool shell = streq(argv[0], "CMD-SHELL");
                        free(argv[0]);
                        memmove(argv, argv + 1, strv_length(argv) * sizeof(char *));
                        if (strv_isempty(argv))
                                return key_error(k, "Empty HealthCmd=");
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
                        return key_error(k, "HealthCmd= contains control characters");
                argv = strv_new("/bin/sh", "-c", v, NULL);
                if (!argv)
                        return -ENOMEM;
        }
        strv_free(k->c->health_cmd);
        k->c->health_cmd = TAKE_PTR(argv);
        return 0;
}

int key_parse_health_interval(KeyCtx *k, const char *v, size_t off)
{
        if (streq(v, "disable")) {
                k->c->health_interval_usec = 0;
                return 0;
        }
        return key_parse_positive_sec(k, v, off);
}

int key_parse_health_retries(KeyCtx *k, const char *v, size_t off)
{
        unsigned n = 0;
        if (key_parse_unsigned_range(k, v, &n, 1, 1000000) < 0)
                return 0;
        k->c->health_retries = n;
        return 0;
}

int key_parse_health_on_failure(KeyCtx *k, const char *v, size_t off)
{
        for (int i = 0; i < _UNIT_HEALTH_ON_FAILURE_MAX; i++)
                if (streq(v, unit_health_on_failure_to_string(i))) {
                        k->c->health_on_failure = i;
                        return 0;
                }
        return key_error(k, "Invalid HealthOnFailure= '%s' (none, kill, restart, stop)", v);
}

int key_parse_reload_signal(KeyCtx *k, const char *v, size_t off)
{
        if (isempty(v)) {
                k->c->reload_signal = 0;
                return 0;
        }
        return key_parse_signal(k, v, off);
}

int key_parse_keyvalue_list(KeyCtx *k, const char *v, size_t off)
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
                        key_error(k, "Invalid key=value '%s'", *s);
                        continue;
                }
                if (string_has_cc(*s)) {
                        key_error(k, "Key=value contains control characters");
                        continue;
                }
                r = key_strv_set_keyed(l, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}
