/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroupfs driver: the container's cgroup is a directory we make in the cgroup2 hierarchy.
 * Controllers are enabled only in directories made here; cgroups that existed before are read,
 * never written (a controller they do not pass down is reported by cgroup_apply()).
 */

#include <sys/stat.h>

#include "runtime/cgroup-internal.h"

/* Our own cgroup v2 path, from the "0::" line of /proc/self/cgroup. */
static int own_cgroup(char **ret, Error *reterr)
{
        _cleanup_free_ char *s = NULL;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &s, NULL);
        if (r < 0)
                return error_set(reterr, r, "reading /proc/self/cgroup");
        for (char *p = s, *line; (line = strsep(&p, "\n"));) {
                const char *v = startswith(line, "0::");
                if (!v)
                        continue;
                char *c = strdup(v);
                if (!c)
                        return error_set(reterr, -ENOMEM, "cgroup");
                *ret = c;
                return 0;
        }
        return error_set_msg(reterr, -ENOMEDIUM, "/proc/self/cgroup has no cgroup v2 entry");
}

/* Enables in dirfd's subtree every controller dirfd has (dirfd is a directory we made). */
static void enable_controllers(int dirfd)
{
        _cleanup_free_ char *s = NULL, *all = NULL;
        _cleanup_strv_free_ char **l = NULL;

        if (read_full_file_at(dirfd, "cgroup.controllers", 4096, &s, NULL) < 0)
                return;
        l = strv_split(s, " \n");
        if (strv_isempty(l))
                return;
        STRV_FOREACH (c, l)
                if (strextend_with_separator(&all, " ", "+") < 0 ||
                    strextend_with_separator(&all, "", *c) < 0)
                        return;
        if (write_string_file_at(dirfd, "cgroup.subtree_control", all) >= 0)
                return;
        /* One of them refused (e.g. a threaded subtree): enable what can be, one by one. */
        STRV_FOREACH (c, l) {
                _cleanup_free_ char *one = strjoin("+", *c);
                if (one)
                        (void)write_string_file_at(dirfd, "cgroup.subtree_control", one);
        }
}

int cgroup_fs_create(Cgroup *cg, const char *cgroups_path, Error *reterr)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_close_ int cur = -EBADF;
        int r;

        if (isempty(cgroups_path))
                path = strjoin("/ctrmgr-oci/", cg->id);
        else if (path_is_absolute(cgroups_path))
                path = strdup(cgroups_path);
        else {
                /* Relative: below our own cgroup, as runc does. */
                _cleanup_free_ char *own = NULL;
                r = own_cgroup(&own, reterr);
                if (r < 0)
                        return r;
                path = path_join(own, cgroups_path);
        }
        if (!path)
                return error_set(reterr, -ENOMEM, "cgroup path");
        if (!path_is_safe(path) || string_has_cc(path) || strlen(path) > 4096)
                return error_set_msg(reterr, -EINVAL, "linux.cgroupsPath: invalid path \"%s\"", path);
        path_simplify(path);
        if (streq(path, "/"))
                return error_set_msg(reterr, -EINVAL,
                                     "linux.cgroupsPath: the root cgroup cannot hold a container");

        parts = strv_split(path, "/");
        if (!parts)
                return error_set(reterr, -ENOMEM, "cgroup path");

        /* A parent may be removed by someone else between our mkdir and the next step (a shared
         * parent such as /ctrmgr-oci, rmdir'ed by a cleanup when it looked empty): start over. */
        for (unsigned attempt = 0;; attempt++) {
                bool vanished = false;

                cur = safe_close(cur);
                cur = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cur < 0)
                        return error_set(reterr, negative_errno(), "opening %s", cg->root);

                STRV_FOREACH (p, parts) {
                        bool last = !p[1], created;
                        int next;

                        if (!filename_is_valid(*p))
                                return error_set_msg(reterr, -EINVAL,
                                                     "linux.cgroupsPath: invalid component \"%s\"", *p);
                        created = mkdirat(cur, *p, 0755) >= 0;
                        if (!created && errno == ENOENT && attempt < 3) {
                                vanished = true;
                                break;
                        }
                        if (!created && errno != EEXIST)
                                return error_set(reterr, negative_errno(), "creating cgroup %s (at \"%s\")",
                                                 path, *p);
                        next = openat(cur, *p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (next < 0 && errno == ENOENT && attempt < 3) {
                                vanished = true;
                                break;
                        }
                        if (next < 0)
                                return error_set(reterr, negative_errno(), "opening cgroup %s (at \"%s\")",
                                                 path, *p);
                        safe_close(cur);
                        cur = next;
                        /* Our own intermediate directories pass every controller they have down to
                         * the container's leaf; the leaf keeps its subtree_control empty so it can
                         * hold processes. */
                        if (created && !last)
                                enable_controllers(cur);
                }
                if (!vanished)
                        break;
        }

        cg->path = TAKE_PTR(path);
        cg->fd = TAKE_FD(cur);
        return 0;
}
