/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* units/keys-mounts.c — Volume=, Tmpfs=, Mount= and ShmSize= into UnitMount entries. */

#include <sys/resource.h>
#include <sys/stat.h>

#include "units/keys.h"

/* ---------------------------------------------------------------- [Container] storage */

static int mounts_add(KeyCtx *k, UnitMount *m)
{
        UnitConfig *c = k->c;
        if (c->n_mounts >= 1024)
                return key_error_inval(k, "Too many mounts");
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
                r = key_parse_abs_path(k, "Mount source", src, &m->source);
                if (r < 0)
                        return r;
                m->type = UNIT_MOUNT_BIND;
                return 0;
        }
        if (startswith(src, "./") || startswith(src, "../") || streq(src, ".")) {
                r = key_resolve_relative(k, src, &m->source);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return key_error_inval(k, "Relative mount source '%s' cannot be resolved here", src);
                m->type = UNIT_MOUNT_BIND;
                return 0;
        }
        if (endswith(src, ".volume"))
                return key_error_inval(k, "Quadlet .volume units are not supported by ctrmgr: '%s'", src);
        if (!volume_name_is_valid(src))
                return key_error_inval(
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
                return key_error_inval(k, "Missing mount destination");
        return key_parse_abs_path(k, "Mount destination", dst, &m->destination);
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

int key_parse_volume(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_(mount_done) UnitMount m = {.recursive = true, .copy_up = true};
        _cleanup_strv_free_ char **parts = NULL;
        int r;

        if (isempty(v)) {
                /* reset the Volume= entries only */
                return key_error(k, "Empty Volume= (reset) is not supported; remove the line instead");
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
                return key_error(k, "Invalid Volume= '%s' (expected [SOURCE:]DESTINATION[:OPTIONS])", v);

        if (src) {
                if (isempty(src))
                        return key_error(k, "Empty volume source in '%s'", v);
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
                                key_warn(k, "SELinux relabelling option '%s' is not supported, ignoring",
                                         *s);
                        else if ((prop = propagation_from_string(*s)) != _UNIT_PROPAGATION_MAX)
                                m.propagation = prop;
                        else if (streq(*s, "U") || streq(*s, "O") || streq(*s, "idmap") ||
                                 startswith(*s, "idmap="))
                                return key_error(k, "Volume option '%s' is not supported", *s);
                        else
                                return key_error(k, "Unknown volume option '%s'", *s);
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
                        return key_error_inval(k, "Invalid tmpfs size '%s'", val);
                m->tmpfs_size = sz;
                return 1;
        }
        if ((val = startswith(o, "mode=")) || (val = startswith(o, "tmpfs-mode="))) {
                mode_t mode;
                if (parse_mode(val, &mode) < 0 || mode > 07777)
                        return key_error_inval(k, "Invalid tmpfs mode '%s'", val);
                m->tmpfs_mode = mode;
                m->tmpfs_mode_set = true;
                return 1;
        }
        if ((val = startswith(o, "nr_inodes=")) || (val = startswith(o, "uid=")) ||
            (val = startswith(o, "gid="))) {
                uint64_t x;
                if (parse_size(val, &x) < 0 || x == SIZE_INFINITY || x > UINT32_MAX)
                        return key_error_inval(k, "Invalid tmpfs option '%s'", o);
                r = strextend_with_separator(data, ",", o);
                return r < 0 ? r : 1;
        }
        if (streq(o, "tmpcopyup") || streq(o, "notmpcopyup")) {
                key_warn(k, "tmpfs option '%s' is not supported, ignoring", o);
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

int key_parse_tmpfs(KeyCtx *k, const char *v, size_t off)
{
        /* Podman's --tmpfs defaults: rw,noexec,nosuid,nodev */
        _cleanup_(mount_done)
                UnitMount m = {.type = UNIT_MOUNT_TMPFS, .nosuid = true, .nodev = true, .noexec = true};
        _cleanup_free_ char *data = NULL;
        int r;

        if (isempty(v))
                return key_error(k, "Empty Tmpfs= (reset) is not supported; remove the line instead");

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
                                return key_error(k, "Unknown tmpfs option '%s'", *s);
                }
        }
        r = tmpfs_finish(&m, TAKE_PTR(data));
        if (r < 0)
                return r;
        r = mounts_add(k, &m);
        return r == -EINVAL ? 0 : r;
}

int key_parse_mount(KeyCtx *k, const char *v, size_t off)
{
        _cleanup_(mount_done) UnitMount m = {.recursive = true, .copy_up = true};
        _cleanup_free_ char *type = NULL, *src = NULL, *dst = NULL, *data = NULL;
        _cleanup_strv_free_ char **fields = NULL;
        int r;

        if (isempty(v))
                return key_error(k, "Empty Mount= (reset) is not supported; remove the line instead");
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
                return key_error(k, "Mount= '%s' needs type=bind, type=volume or type=tmpfs", v);
        if (streq(type, "bind"))
                m.type = UNIT_MOUNT_BIND;
        else if (streq(type, "volume"))
                m.type = UNIT_MOUNT_VOLUME;
        else if (streq(type, "tmpfs")) {
                m.type = UNIT_MOUNT_TMPFS;
                m.nosuid = m.nodev = m.noexec = true;
        } else
                return key_error(k, "Unsupported mount type '%s' (bind, volume, tmpfs)", type);

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
                                return key_error(k, "A tmpfs mount takes no source");
                        r = free_and_strdup(&src, val);
                } else if (streq(key, "destination") || streq(key, "dst") || streq(key, "target")) {
                        r = free_and_strdup(&dst, val);
                } else if (streq(key, "ro") || streq(key, "readonly")) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return key_error(k, "Invalid boolean in '%s'", *f);
                        m.read_only = b;
                        r = 0;
                } else if (streq(key, "rw") && !val) {
                        m.read_only = false;
                        r = 0;
                } else if (streq(key, "bind-propagation") && m.type == UNIT_MOUNT_BIND) {
                        UnitPropagation p = val ? propagation_from_string(val) : _UNIT_PROPAGATION_MAX;
                        if (p == _UNIT_PROPAGATION_MAX)
                                return key_error(k, "Invalid bind-propagation '%s'", strempty(val));
                        m.propagation = p;
                        r = 0;
                } else if (streq(key, "bind-nonrecursive") && m.type == UNIT_MOUNT_BIND) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return key_error(k, "Invalid boolean in '%s'", *f);
                        m.recursive = !b;
                        r = 0;
                } else if (streq(key, "volume-nocopy") && m.type == UNIT_MOUNT_VOLUME) {
                        int b = val ? parse_boolean(val) : 1;
                        if (b < 0)
                                return key_error(k, "Invalid boolean in '%s'", *f);
                        m.copy_up = !b;
                        r = 0;
                } else if (streq(key, "relabel") || streq(key, "z") || streq(key, "Z")) {
                        key_warn(k, "SELinux relabelling option '%s' is not supported, ignoring", *f);
                        r = 0;
                } else if (!val && mount_flag_option(&m, key)) {
                        r = 0;
                } else if (m.type == UNIT_MOUNT_TMPFS && (r = tmpfs_option(k, &m, *f, &data)) != 0) {
                        if (r == -EINVAL)
                                return 0;
                        if (r > 0)
                                r = 0;
                } else
                        return key_error(k, "Unknown or unsupported mount option '%s' for type=%s", *f,
                                         type);
                if (r < 0)
                        return r;
        }

        if (!dst)
                return key_error(k, "Mount= '%s' has no destination", v);
        r = mount_destination(k, &m, dst);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (m.type == UNIT_MOUNT_BIND) {
                if (isempty(src))
                        return key_error(k, "A bind mount needs source=");
                if (!path_is_absolute(src) && !startswith(src, "./") && !startswith(src, "../"))
                        return key_error(k, "Bind mount source '%s' must be an absolute path", src);
                r = mount_source(k, &m, src);
        } else if (m.type == UNIT_MOUNT_VOLUME) {
                if (isempty(src)) {
                        m.type = UNIT_MOUNT_ANONYMOUS;
                        r = 0;
                } else if (path_is_absolute(src))
                        return key_error(
                                k, "A volume mount takes a volume name, not a path ('%s'); use type=bind",
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

int key_parse_shm_size(KeyCtx *k, const char *v, size_t off)
{
        uint64_t sz;
        if (isempty(v)) {
                k->c->shm_size = 0;
                return 0;
        }
        if (parse_size(v, &sz) < 0 || sz == 0 || sz == SIZE_INFINITY)
                return key_error(k, "Invalid size '%s'", v);
        k->c->shm_size = sz;
        return 0;
}
