/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units/specifier.c — %-specifiers (systemd.unit(5) "Specifiers"), resolved against the .ctr unit:
 * for "web-db@east" from /etc/ctrmgr/web-db@.ctr: %n "web-db@east.ctr", %N "web-db@east",
 * %p "web-db", %i "east", %j "db", %f "/east", %y the fragment path. Host facts come from
 * HostInfo (read once, or pinned by tests). The manager-user specifiers (%u %U %g %G %h %s) are
 * those of ctrmgrd, which runs as root. An unknown specifier is an error for that setting.
 */

#include <sys/utsname.h>

#include "units/unit-internal.h"

void host_info_done(HostInfo *h)
{
        free(h->hostname);
        free(h->machine_id);
        free(h->boot_id);
        free(h->kernel_release);
        free(h->architecture);
        free(h->os_id);
        free(h->os_version_id);
        free(h->os_variant_id);
        free(h->os_build_id);
        free(h->os_image_version);
        free(h->os_image_id);
        *h = (HostInfo){};
}

static void strip_quotes(char *v)
{
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                memmove(v, v + 1, n - 2);
                v[n - 2] = '\0';
        }
}

static int read_os_release(HostInfo *h)
{
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file_at(AT_FDCWD, "/etc/os-release", 64 * 1024, &buf, NULL);
        if (r < 0)
                r = read_full_file_at(AT_FDCWD, "/usr/lib/os-release", 64 * 1024, &buf, NULL);
        if (r < 0)
                return 0; /* the specifiers then resolve to "" as systemd does */

        struct {
                const char *key;
                char **dst;
        } keys[] = {
                {"ID=", &h->os_id},
                {"VERSION_ID=", &h->os_version_id},
                {"VARIANT_ID=", &h->os_variant_id},
                {"BUILD_ID=", &h->os_build_id},
                {"IMAGE_VERSION=", &h->os_image_version},
                {"IMAGE_ID=", &h->os_image_id},
        };
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        const char *v = startswith(line, keys[i].key);
                        if (!v || *keys[i].dst)
                                continue;
                        r = free_and_strdup(keys[i].dst, v);
                        if (r < 0)
                                return r;
                        strip_quotes(*keys[i].dst);
                }
        return 0;
}

static int read_id_file(const char *path, char **dst)
{
        if (*dst)
                return 0;
        _cleanup_free_ char *s = NULL;
        int r = read_one_line_file(path, &s);
        if (r < 0)
                return 0; /* missing: resolves to "" */
        strstrip(s);
        /* boot_id is written with dashes; systemd prints the 128-bit ids without */
        char *o = s;
        for (char *p = s; *p; p++)
                if (*p != '-')
                        *o++ = *p;
        *o = '\0';
        *dst = TAKE_PTR(s);
        return 0;
}

int host_info_load(HostInfo *h)
{
        int r;

        if (h->loaded)
                return 0;

        struct utsname u;
        if (uname(&u) < 0)
                return negative_errno();
        if (!h->hostname && !(h->hostname = strdup(u.nodename)))
                return -ENOMEM;
        if (!h->kernel_release && !(h->kernel_release = strdup(u.release)))
                return -ENOMEM;
        if (!h->architecture && !(h->architecture = strdup(u.machine)))
                return -ENOMEM;
        r = read_id_file("/etc/machine-id", &h->machine_id);
        if (r < 0)
                return r;
        r = read_id_file("/proc/sys/kernel/random/boot_id", &h->boot_id);
        if (r < 0)
                return r;
        r = read_os_release(h);
        if (r < 0)
                return r;
        h->loaded = true;
        return 0;
}

int unit_name_unescape(const char *s, char **ret)
{
        _cleanup_free_ char *o = malloc(strlen(s) + 1);
        if (!o)
                return -ENOMEM;
        char *t = o;
        for (const char *p = s; *p; p++) {
                if (*p == '-')
                        *t++ = '/';
                else if (p[0] == '\\' && p[1] == 'x') {
                        int a, b;
                        a = p[2] >= '0' && p[2] <= '9'                 ? p[2] - '0'
                            : (p[2] | 32) >= 'a' && (p[2] | 32) <= 'f' ? (p[2] | 32) - 'a' + 10
                                                                       : -1;
                        b = a < 0                                      ? -1
                            : p[3] >= '0' && p[3] <= '9'               ? p[3] - '0'
                            : (p[3] | 32) >= 'a' && (p[3] | 32) <= 'f' ? (p[3] | 32) - 'a' + 10
                                                                       : -1;
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return -EINVAL;
                        *t++ = (char)(a * 16 + b);
                        p += 3;
                } else
                        *t++ = *p;
        }
        *t = '\0';
        *ret = TAKE_PTR(o);
        return 0;
}

/* The last '-' component of the prefix ("web-db" → "db"; no dash: the whole prefix). */
static const char *last_dash_component(const char *prefix)
{
        const char *d = strrchr(prefix, '-');
        return d ? d + 1 : prefix;
}

static int specifier_value(const SpecifierContext *sc, char c, char **ret)
{
        const char *v = NULL;
        _cleanup_free_ char *own = NULL;
        int r;

        switch (c) {
        case 'n':
                own = strjoin(sc->name, UNIT_SUFFIX);
                break;
        case 'N':
                v = sc->name;
                break;
        case 'p':
                v = sc->prefix;
                break;
        case 'P':
                r = unit_name_unescape(sc->prefix, &own);
                if (r < 0)
                        return r;
                break;
        case 'i':
                v = strempty(sc->instance);
                break;
        case 'I':
                r = unit_name_unescape(strempty(sc->instance), &own);
                if (r < 0)
                        return r;
                break;
        case 'j':
                v = last_dash_component(sc->prefix);
                break;
        case 'J':
                r = unit_name_unescape(last_dash_component(sc->prefix), &own);
                if (r < 0)
                        return r;
                break;
        case 'f': {
                _cleanup_free_ char *u = NULL;
                r = unit_name_unescape(!isempty(sc->instance) ? sc->instance : sc->prefix, &u);
                if (r < 0)
                        return r;
                own = strjoin(u[0] == '/' ? "" : "/", u);
                break;
        }
        case 'y':
                v = strempty(sc->fragment_path);
                break;
        case 'Y':
                if (!sc->fragment_path)
                        v = "";
                else {
                        r = path_dirname(sc->fragment_path, &own);
                        if (r < 0)
                                return r;
                }
                break;
        case 'H':
                v = strempty(sc->host->hostname);
                break;
        case 'l': {
                const char *h = strempty(sc->host->hostname);
                own = strndup(h, strcspn(h, "."));
                break;
        }
        case 'q':
                v = strempty(sc->host->hostname);
                break;
        case 'm':
                v = strempty(sc->host->machine_id);
                break;
        case 'b':
                v = strempty(sc->host->boot_id);
                break;
        case 'v':
                v = strempty(sc->host->kernel_release);
                break;
        case 'a':
                v = strempty(sc->host->architecture);
                break;
        case 'o':
                v = strempty(sc->host->os_id);
                break;
        case 'w':
                v = strempty(sc->host->os_version_id);
                break;
        case 'W':
                v = strempty(sc->host->os_variant_id);
                break;
        case 'B':
                v = strempty(sc->host->os_build_id);
                break;
        case 'A':
                v = strempty(sc->host->os_image_version);
                break;
        case 'M':
                v = strempty(sc->host->os_image_id);
                break;
        case 't':
                v = "/run";
                break;
        case 'S':
                v = "/var/lib";
                break;
        case 'C':
                v = "/var/cache";
                break;
        case 'L':
                v = "/var/log";
                break;
        case 'E':
                v = "/etc";
                break;
        case 'T':
                v = "/tmp";
                break;
        case 'V':
                v = "/var/tmp";
                break;
        case 'u':
        case 'g':
                v = "root";
                break;
        case 'U':
        case 'G':
                v = "0";
                break;
        case 'h':
                v = "/root";
                break;
        case 's':
                v = "/bin/sh";
                break;
        case '%':
                v = "%";
                break;
        default:
                return -EBADR;
        }

        if (v)
                own = strdup(v);
        if (!own)
                return -ENOMEM;
        *ret = TAKE_PTR(own);
        return 0;
}

int specifier_expand(const SpecifierContext *sc, const char *s, const Loc *loc, char **ret)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0, alloc = strlen(s) + 1;
        int r;

        if (!strchr(s, '%')) {
                out = strdup(s);
                if (!out)
                        return -ENOMEM;
                *ret = TAKE_PTR(out);
                return 0;
        }

        if (!sc->host->loaded) {
                r = host_info_load(sc->host);
                if (r < 0)
                        return r;
        }

        out = malloc(alloc);
        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                _cleanup_free_ char *v = NULL;
                char one[2] = {*p, 0};
                const char *add = one;

                if (*p == '%') {
                        if (!p[1]) {
                                loc_error(loc,
                                          "Incomplete specifier '%%' at the end of '%s' (write '%%%%' for a "
                                          "literal %%)",
                                          s);
                                return -EINVAL;
                        }
                        r = specifier_value(sc, p[1], &v);
                        if (r == -EBADR) {
                                loc_error(loc, "Unknown specifier '%%%c' (write '%%%%' for a literal %%)",
                                          p[1]);
                                return -EINVAL;
                        }
                        if (r == -EINVAL) {
                                loc_error(loc,
                                          "Cannot resolve specifier '%%%c': invalid escape in the unit name",
                                          p[1]);
                                return -EINVAL;
                        }
                        if (r < 0)
                                return r;
                        add = v;
                        p++;
                }
                size_t k = strlen(add);
                if (n + k + 1 > alloc) {
                        alloc = (n + k + 1) * 2;
                        char *m = realloc(out, alloc);
                        if (!m)
                                return -ENOMEM;
                        out = m;
                }
                memcpy(out + n, add, k);
                n += k;
        }
        out[n] = '\0';
        if (n > UNIT_LINE_MAX) {
                loc_error(loc, "Value too long after specifier expansion");
                return -EINVAL;
        }
        *ret = TAKE_PTR(out);
        return 0;
}
