/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's filesystem, set up in its new mount namespace.
 *
 * Every target inside the rootfs is opened with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 * relative to the rootfs, checked, and mounted through that descriptor (the new mount API or
 * /proc/self/fd/N), so a symlink swapped in by a racing container cannot redirect a mount
 * outside the rootfs (CVE-2021-30465). /dev is always a fresh tmpfs unless config.json mounts
 * something else there; device nodes and masks are created relative to a checked /dev fd, and
 * masks use the host's /dev/null opened and verified before the container existed
 * (CVE-2025-31133). /proc and /sys must be plain directories (CVE-2019-19921/2023-27561).
 */

#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <termios.h>

#include "runtime/internal.h"

#define RES_IN_ROOT (CTR_RESOLVE_IN_ROOT | CTR_RESOLVE_NO_MAGICLINKS)

static int mount_fd(const char *source, int fd, const char *type, unsigned long flags, const char *data)
{
        char p[64];
        if (mount(source, fd_proc_path(p, sizeof p, fd), type, flags, data) < 0)
                return -errno;
        return 0;
}

static int move_tree_to(int tree, int target)
{
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* The descriptor must still point inside the rootfs (belt and braces over RESOLVE_IN_ROOT). */
static int check_inside(ChildContext *c, int fd, const char *what, Error *reterr)
{
        char p[64], target[PATH_MAX + 1];
        ssize_t n = readlink(fd_proc_path(p, sizeof p, fd), target, sizeof target - 1);
        if (n < 0)
                return error_set(reterr, -errno, "checking mount target %s", what);
        target[n] = '\0';
        if (!path_startswith_dir(target, c->rootfs))
                return error_set_msg(reterr, -EXDEV, "mount target %s resolves to %s, outside the rootfs",
                                     what, target);
        return 0;
}

static uint64_t mount_attr_of(unsigned long flags, uint64_t *ret_clr)
{
        uint64_t a = 0, clr = 0;
        if (flags & MS_RDONLY)
                a |= MOUNT_ATTR_RDONLY;
        if (flags & MS_NOSUID)
                a |= MOUNT_ATTR_NOSUID;
        if (flags & MS_NODEV)
                a |= MOUNT_ATTR_NODEV;
        if (flags & MS_NOEXEC)
                a |= MOUNT_ATTR_NOEXEC;
        if (flags & MS_NODIRATIME)
                a |= MOUNT_ATTR_NODIRATIME;
        if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
                clr |= MOUNT_ATTR__ATIME;
                if (flags & MS_NOATIME)
                        a |= MOUNT_ATTR_NOATIME;
                else if (flags & MS_STRICTATIME)
                        a |= MOUNT_ATTR_STRICTATIME;
                else
                        a |= MOUNT_ATTR_RELATIME;
        }
        *ret_clr = clr;
        return a;
}

static bool is_file_source(const SpecMount *m, const char *bundle)
{
        struct stat st;
        if (!m->bind || !m->source)
                return false;
        _cleanup_free_ char *p =
                path_is_absolute(m->source) ? strdup(m->source) : path_join(bundle, m->source);
        return p && stat(p, &st) >= 0 && !S_ISDIR(st.st_mode);
}

/* Makes the mount point (directory or empty file) and returns an O_PATH fd of it. */
static int open_target(ChildContext *c, int rootfd, const char *dest, bool file, bool plain_dir, int *ret,
                       Error *reterr)
{
        int r;
        int fd = openat_resolve(rootfd, dest, O_PATH | O_NOFOLLOW, 0, RES_IN_ROOT);
        if (fd >= 0) {
                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        safe_close(fd);
                        return error_set(reterr, r, "stat %s", dest);
                }
                if (S_ISLNK(st.st_mode)) {
                        safe_close(fd);
                        if (plain_dir)
                                return error_set_msg(
                                        reterr, -ELOOP,
                                        "%s must be mounted on an ordinary directory, not a symlink", dest);
                        /* Follow it, but only inside the rootfs. */
                        fd = openat_resolve(rootfd, dest, O_PATH, 0, RES_IN_ROOT);
                        if (fd < 0 && fd != -ENOENT)
                                return error_set(reterr, fd, "opening mount target %s", dest);
                } else if (plain_dir && !S_ISDIR(st.st_mode)) {
                        safe_close(fd);
                        return error_set_msg(reterr, -ENOTDIR, "%s must be mounted on an ordinary directory",
                                             dest);
                }
        } else if (fd != -ENOENT)
                return error_set(reterr, fd, "opening mount target %s", dest);

        if (fd < 0) {
                /* Create it. */
                if (!file) {
                        r = mkdirat_p_in_root(rootfd, dest, 0755, &fd);
                        if (r < 0)
                                return error_set(reterr, r, "creating mount point %s", dest);
                } else {
                        _cleanup_free_ char *parent = NULL;
                        _cleanup_close_ int pfd = -EBADF;
                        r = path_dirname(dest, &parent);
                        if (r < 0)
                                return error_set(reterr, r, "%s", dest);
                        r = mkdirat_p_in_root(rootfd, parent, 0755, &pfd);
                        if (r < 0)
                                return error_set(reterr, r, "creating mount point %s", parent);
                        const char *base = path_basename(dest);
                        int f = openat(pfd, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC,
                                       0644);
                        if (f < 0 && errno != EEXIST)
                                return error_set(reterr, -errno, "creating mount point %s", dest);
                        safe_close(f);
                        fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set(reterr, -errno, "opening mount point %s", dest);
                }
        }
        r = check_inside(c, fd, dest, reterr);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

static int bind_mount(ChildContext *c, const SpecMount *m, int target, Error *reterr)
{
        _cleanup_free_ char *src =
                path_is_absolute(m->source) ? strdup(m->source) : path_join(c->bundle, m->source);
        if (!src)
                return -ENOMEM;
        _cleanup_close_ int tree = open_tree(
                AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->rbind ? AT_RECURSIVE : 0));
        if (tree < 0)
                return error_set(reterr, -errno, "bind source %s", src);
        uint64_t clr = 0, set = mount_attr_of(m->flags, &clr);
        if (set || clr) {
                struct mount_attr a = {.attr_set = set, .attr_clr = clr};
                if (mount_setattr(tree, "", AT_EMPTY_PATH | (m->rro ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "setting mount options of %s", m->destination);
        }
        if (m->rro && !(set & MOUNT_ATTR_RDONLY)) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "making %s recursively read-only", m->destination);
        }
        if (m->propagation) {
                struct mount_attr a = {.propagation = m->propagation & ~MS_REC};
                if (mount_setattr(tree, "", AT_EMPTY_PATH | ((m->propagation & MS_REC) ? AT_RECURSIVE : 0),
                                  &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "setting propagation of %s", m->destination);
        }
        int r = move_tree_to(tree, target);
        if (r < 0)
                return error_set(reterr, r, "mounting %s on %s", src, m->destination);
        return 0;
}

static int reopen_and(int rootfd, const char *dest, unsigned long propagation, bool rro, Error *reterr)
{
        _cleanup_close_ int fd = openat_resolve(rootfd, dest, O_PATH, 0, RES_IN_ROOT);
        if (fd < 0)
                return error_set(reterr, fd, "reopening %s", dest);
        if (propagation) {
                int r = mount_fd(NULL, fd, NULL, propagation, NULL);
                if (r < 0)
                        return error_set(reterr, r, "setting propagation of %s", dest);
        }
        if (rro) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "making %s recursively read-only", dest);
        }
        return 0;
}

/* linux.mountLabel (lsm_check_spec() refused it where SELinux is off): as runc and crun do, the
 * file systems the runtime mounts get it as their context= option, except proc, sysfs and cgroup
 * (labelled by the policy) and mqueue (no context= option: its root is labelled afterwards).
 * *ret is NULL when data stays as it is. */
static int label_mount_data(const ChildContext *c, const char *type, const char *data, char **ret)
{
        const char *label = c->spec->mount_label;
        *ret = NULL;
        if (!label || !type || streq(type, "proc") || streq(type, "sysfs") || streq(type, "cgroup") ||
            streq(type, "cgroup2") || streq(type, "mqueue"))
                return 0;
        *ret = isempty(data) ? strjoin("context=\"", label, "\"")
                             : strjoin(data, ",context=\"", label, "\"");
        return *ret ? 0 : -ENOMEM;
}

static int label_mqueue(ChildContext *c, int rootfd, const char *dest, Error *reterr)
{
        if (!c->spec->mount_label)
                return 0;
        _cleanup_close_ int fd = openat_resolve(rootfd, dest, O_RDONLY | O_DIRECTORY, 0, RES_IN_ROOT);
        if (fd < 0)
                return error_set(reterr, fd, "labelling %s", dest);
        if (fsetxattr(fd, "security.selinux", c->spec->mount_label, strlen(c->spec->mount_label) + 1, 0) < 0)
                return error_set(reterr, -errno, "labelling %s with linux.mountLabel", dest);
        return 0;
}

static int mount_one(ChildContext *c, int rootfd, const SpecMount *m, bool in_userns, Error *reterr)
{
        const char *type = m->type;
        bool procsys = type && (streq(type, "proc") || streq(type, "sysfs"));
        _cleanup_close_ int target = -EBADF;
        int r;

        r = open_target(c, rootfd, m->destination, is_file_source(m, c->bundle), procsys, &target, reterr);
        if (r < 0)
                return r;

        if (m->bind)
                return bind_mount(c, m, target, reterr);

        unsigned long flags = m->flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
        if (streq(type, "cgroup") || streq(type, "cgroup2")) {
                r = mount_fd("cgroup2", target, "cgroup2", flags, NULL);
                if (r < 0) {
                        /* No cgroup namespace of our own: show the host's hierarchy read-only. */
                        SpecMount b = {.destination = m->destination,
                                       .source = "/sys/fs/cgroup",
                                       .bind = true,
                                       .rbind = true,
                                       .flags = flags | MS_RDONLY};
                        return bind_mount(c, &b, target, reterr);
                }
        } else {
                _cleanup_free_ char *labelled = NULL;
                r = label_mount_data(c, type, m->data, &labelled);
                if (r < 0)
                        return error_set(reterr, r, "mounting %s", m->destination);
                r = mount_fd(m->source ?: type, target, type, flags, labelled ?: m->data);
                if (r == -EPERM && in_userns && streq(type, "sysfs")) {
                        /* sysfs needs a network namespace owned by our user namespace. */
                        SpecMount b = {.destination = m->destination,
                                       .source = "/sys",
                                       .bind = true,
                                       .rbind = true,
                                       .flags = flags | MS_RDONLY};
                        return bind_mount(c, &b, target, reterr);
                }
                if (r < 0)
                        return error_set(reterr, r, "mounting %s (%s) on %s", strna(m->source), type,
                                         m->destination);
                if (streq(type, "mqueue")) {
                        r = label_mqueue(c, rootfd, m->destination, reterr);
                        if (r < 0)
                                return r;
                }
        }
        if (m->propagation || m->rro)
                return reopen_and(rootfd, m->destination, m->propagation, m->rro, reterr);
        return 0;
}

/* ---------------------------------------------------------------- /dev */

static const struct {
        const char *name;
        unsigned major, minor;
} default_devices[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static int make_device(int rootfd, const char *path, char type, unsigned maj, unsigned min, mode_t mode,
                       bool has_uid, uid_t uid, bool has_gid, gid_t gid, bool in_userns, Error *reterr)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int pfd = -EBADF;
        int r = path_dirname(path, &parent);
        if (r < 0)
                return error_set(reterr, r, "%s", path);
        r = mkdirat_p_in_root(rootfd, parent, 0755, &pfd);
        if (r < 0)
                return error_set(reterr, r, "creating %s", parent);
        const char *base = path_basename(path);
        /* The parent must be on a tmpfs we control, not something the image put there. */
        struct statfs sfs;
        if (fstatfs(pfd, &sfs) < 0 || (sfs.f_type != TMPFS_MAGIC && sfs.f_type != DEVPTS_SUPER_MAGIC))
                return error_set_msg(reterr, -EPERM, "refusing to create device %s outside a tmpfs", path);

        if (in_userns) {
                /* No mknod in a user namespace: bind the host's node. */
                int f = openat(pfd, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0000);
                if (f < 0) {
                        if (errno == EEXIST)
                                return 0;
                        return error_set(reterr, -errno, "creating %s", path);
                }
                safe_close(f);
                _cleanup_close_ int tfd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (tfd < 0 || tree < 0)
                        return error_set(reterr, -errno, "binding device %s", path);
                r = move_tree_to(tree, tfd);
                if (r < 0)
                        return error_set(reterr, r, "binding device %s", path);
                return 0;
        }
        mode_t m = (mode & 07777) | (type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR);
        if (mknodat(pfd, base, m, makedev(maj, min)) < 0) {
                if (errno == EEXIST)
                        return 0;
                return error_set(reterr, -errno, "creating device %s", path);
        }
        if ((has_uid || has_gid) && fchownat(pfd, base, has_uid ? uid : (uid_t)-1, has_gid ? gid : (gid_t)-1,
                                             AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(reterr, -errno, "chown %s", path);
        return 0;
}

static int setup_dev(ChildContext *c, int rootfd, bool in_userns, Error *reterr)
{
        const RuntimeSpec *s = c->spec;
        int r;
        for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
                char p[64];
                snprintf(p, sizeof p, "/dev/%s", default_devices[i].name);
                r = make_device(rootfd, p, 'c', default_devices[i].major, default_devices[i].minor, 0666,
                                false, 0, false, 0, in_userns, reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const SpecDevice *d = &s->devices[i];
                if (!path_startswith_dir(d->path, "/dev"))
                        return error_set_msg(reterr, -EINVAL,
                                             "linux.devices[%zu].path: %s is not below /dev", i, d->path);
                r = make_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, d->major, d->minor, d->mode,
                                d->has_uid, d->uid, d->has_gid, d->gid, in_userns, reterr);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int devfd = openat_resolve(rootfd, "/dev", O_PATH | O_DIRECTORY, 0,
                                                   RES_IN_ROOT | CTR_RESOLVE_NO_SYMLINKS);
        if (devfd < 0)
                return error_set(reterr, devfd, "opening /dev");
        static const char *const links[][2] = {
                {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
                        return error_set(reterr, -errno, "creating /dev/%s", links[i][1]);
        return 0;
}

static bool spec_mounts_dev(const RuntimeSpec *s, bool *ret_tmpfs)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, "/dev")) {
                        *ret_tmpfs = !s->mounts[i].bind && streq_ptr(s->mounts[i].type, "tmpfs");
                        return true;
                }
        return false;
}

/* ---------------------------------------------------------------- masks */

static int mask_paths(ChildContext *c, int rootfd, Error *reterr)
{
        STRV_FOREACH (p, c->spec->masked_paths) {
                _cleanup_close_ int fd = openat_resolve(rootfd, *p, O_PATH, 0, RES_IN_ROOT);
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return error_set(reterr, fd, "masking %s", *p);
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return error_set(reterr, -errno, "masking %s", *p);
                int r;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *labelled = NULL;
                        r = label_mount_data(c, "tmpfs", "size=0,mode=0", &labelled);
                        if (r >= 0)
                                r = mount_fd("tmpfs", fd, "tmpfs",
                                             MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                             labelled ?: "size=0,mode=0");
                } else {
                        _cleanup_close_ int tree = open_tree(
                                c->devnull_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                        r = tree < 0 ? -errno : move_tree_to(tree, fd);
                }
                if (r < 0)
                        return error_set(reterr, r, "masking %s", *p);
        }
        return 0;
}

static int readonly_paths(ChildContext *c, int rootfd, Error *reterr)
{
        STRV_FOREACH (p, c->spec->readonly_paths) {
                _cleanup_close_ int fd = openat_resolve(rootfd, *p, O_PATH, 0, RES_IN_ROOT);
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return error_set(reterr, fd, "making %s read-only", *p);
                _cleanup_close_ int tree = open_tree(
                        fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
                if (tree < 0)
                        return error_set(reterr, -errno, "making %s read-only", *p);
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                   MOUNT_ATTR_NOEXEC};
                if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "making %s read-only", *p);
                int r = move_tree_to(tree, fd);
                if (r < 0)
                        return error_set(reterr, r, "making %s read-only", *p);
        }
        return 0;
}

/* ---------------------------------------------------------------- the whole rootfs */

int rootfs_setup(ChildContext *c, int *ret_rootfd, Error *reterr)
{
        const RuntimeSpec *s = c->spec;
        bool in_userns = s->ns[NS_USER];
        int r;

        /* Nothing we do may propagate back to the host. */
        unsigned long prop = s->rootfs_propagation & ~MS_REC;
        unsigned long first = (prop == MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE;
        if (mount(NULL, "/", NULL, first | MS_REC, NULL) < 0)
                return error_set(reterr, -errno, "making / %s", first == MS_PRIVATE ? "private" : "slave");
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(reterr, -errno, "binding rootfs %s", c->rootfs);
        _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(reterr, -errno, "opening rootfs %s", c->rootfs);

        /* The host's /dev/null, as seen in our copy of its mount namespace (open_tree needs a
         * mount of our namespace), for masking files; checked to be the null device. */
        c->devnull_fd = safe_close(c->devnull_fd);
        c->devnull_fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat dst;
        if (c->devnull_fd < 0 || fstat(c->devnull_fd, &dst) < 0 || !S_ISCHR(dst.st_mode) ||
            dst.st_rdev != makedev(1, 3))
                return error_set_msg(reterr, -EPERM, "/dev/null is not the null device");

        bool dev_tmpfs = true;
        bool dev_given = spec_mounts_dev(s, &dev_tmpfs);
        if (!dev_given) {
                SpecMount m = {.destination = "/dev",
                               .type = "tmpfs",
                               .source = "tmpfs",
                               .flags = MS_NOSUID | MS_STRICTATIME,
                               .data = "mode=755,size=65536k"};
                r = mount_one(c, rootfd, &m, in_userns, reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_mounts; i++) {
                r = mount_one(c, rootfd, &s->mounts[i], in_userns, reterr);
                if (r < 0)
                        return error_prefix(reterr, r, "mounts[%zu]", i);
        }
        if (dev_tmpfs) {
                r = setup_dev(c, rootfd, in_userns, reterr);
                if (r < 0)
                        return r;
        }
        r = mask_paths(c, rootfd, reterr);
        if (r < 0)
                return r;
        r = readonly_paths(c, rootfd, reterr);
        if (r < 0)
                return r;
        *ret_rootfd = TAKE_FD(rootfd);
        return 0;
}

int rootfs_pivot(ChildContext *c, int rootfd, Error *reterr)
{
        const RuntimeSpec *s = c->spec;
        if (fchdir(rootfd) < 0)
                return error_set(reterr, -errno, "chdir to rootfs");
        safe_close(rootfd);
        if (c->opts->no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return error_set(reterr, -errno, "moving rootfs to /");
                if (chroot(".") < 0)
                        return error_set(reterr, -errno, "chroot");
        } else {
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return error_set(reterr, -errno, "pivot_root");
                /* The old root is stacked on the new one: detach it without telling the host. */
                if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        return error_set(reterr, -errno, "making old root slave");
                if (umount2(".", MNT_DETACH) < 0)
                        return error_set(reterr, -errno, "detaching old root");
        }
        if (chdir("/") < 0)
                return error_set(reterr, -errno, "chdir /");
        if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
                return error_set(reterr, -errno, "setting rootfs propagation");
        if (s->root_readonly) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof a) < 0)
                        return error_set(reterr, -errno, "making the rootfs read-only");
        }
        return 0;
}

/* ---------------------------------------------------------------- procfs and sysctl */

int procfs_open_private(int *ret, Error *reterr)
{
        _cleanup_close_ int fs = fsopen("proc", FSOPEN_CLOEXEC);
        if (fs < 0)
                return error_set(reterr, -errno, "fsopen proc");
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return error_set(reterr, -errno, "creating a procfs instance");
        int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (m < 0)
                return error_set(reterr, -errno, "fsmount proc");
        *ret = m;
        return 0;
}

/* Only sysctls of namespaces the container has may be written: anything else would change the
 * host (the same list as runc's validator). */
static int sysctl_check(const RuntimeSpec *s, const char *name, Error *reterr)
{
        static const char *const ipc[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        char n[256];
        if (strlen(name) >= sizeof n)
                return error_set_msg(reterr, -EINVAL, "linux.sysctl.%s: name too long", name);
        strcpy(n, name);
        for (char *x = n; *x; x++)
                if (*x == '/')
                        *x = '.';
        NamespaceType need = _NS_MAX;
        for (size_t i = 0; i < ELEMENTSOF(ipc); i++)
                if (streq(n, ipc[i]))
                        need = NS_IPC;
        if (startswith(n, "fs.mqueue."))
                need = NS_IPC;
        else if (streq(n, "kernel.domainname") || streq(n, "kernel.hostname"))
                need = NS_UTS;
        else if (startswith(n, "net."))
                need = NS_NETWORK;
        if (need == _NS_MAX)
                return error_set_msg(reterr, -EPERM,
                                     "linux.sysctl.%s: not in a namespace of the container (it would "
                                     "change the host)",
                                     name);
        if (!s->ns[need])
                return error_set_msg(reterr, -EPERM, "linux.sysctl.%s: needs a %s namespace", name,
                                     namespace_type_to_string(need));
        if (need == NS_UTS && s->has_hostname && streq(n, "kernel.hostname"))
                return error_set_msg(reterr, -EINVAL,
                                     "linux.sysctl.%s: conflicts with \"hostname\"; use that instead", name);
        return 0;
}

int write_sysctls(ChildContext *c, int procfd, Error *reterr)
{
        char **l = c->spec->sysctl;
        for (size_t i = 0; l && l[i] && l[i + 1]; i += 2) {
                int r = sysctl_check(c->spec, l[i], reterr);
                if (r < 0)
                        return r;
                _cleanup_free_ char *p = strprintf("sys/%s", l[i]);
                if (!p)
                        return -ENOMEM;
                for (char *x = p + 4; *x; x++)
                        if (*x == '.')
                                *x = '/';
                _cleanup_close_ int fd =
                        openat_resolve(procfd, p, O_WRONLY, 0,
                                       CTR_RESOLVE_BENEATH | CTR_RESOLVE_NO_SYMLINKS | CTR_RESOLVE_NO_XDEV);
                if (fd < 0)
                        return error_set(reterr, fd, "linux.sysctl.%s", l[i]);
                if (write(fd, l[i + 1], strlen(l[i + 1])) < 0)
                        return error_set(reterr, -errno, "linux.sysctl.%s: writing \"%s\"", l[i], l[i + 1]);
        }
        return 0;
}

/* ---------------------------------------------------------------- console */

static int send_fd(int sock, int fd, const char *name)
{
        char buf[CMSG_SPACE(sizeof(int))];
        memset(buf, 0, sizeof buf);
        struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = buf,
                .msg_controllen = sizeof buf,
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

int console_setup(ChildContext *c, bool mount_console, int *ret_slave, Error *reterr)
{
        _cleanup_close_ int pts =
                openat_resolve(AT_FDCWD, "/dev/pts", O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_NO_SYMLINKS);
        if (pts < 0)
                return error_set(reterr, pts, "opening /dev/pts (a terminal needs a devpts mount)");
        struct statfs sfs;
        if (fstatfs(pts, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC)
                return error_set_msg(reterr, -EPERM, "/dev/pts is not a devpts file system");
        _cleanup_close_ int master = openat(pts, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (master < 0)
                return error_set(reterr, -errno, "opening /dev/pts/ptmx");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return error_set(reterr, -errno, "unlocking the pty");
        _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return error_set(reterr, -errno, "opening the pty peer");
        if (c->process->console_width || c->process->console_height) {
                struct winsize ws = {.ws_row = c->process->console_height,
                                     .ws_col = c->process->console_width};
                (void)ioctl(master, TIOCSWINSZ, &ws);
        }
        if (mount_console) {
                _cleanup_close_ int dev =
                        openat_resolve(AT_FDCWD, "/dev", O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_NO_SYMLINKS);
                if (dev < 0)
                        return error_set(reterr, dev, "opening /dev");
                int f = openat(dev, "console", O_CREAT | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0600);
                if (f < 0)
                        return error_set(reterr, -errno, "creating /dev/console");
                safe_close(f);
                _cleanup_close_ int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
                /* Mount the pty we hold, never a path someone could have swapped (CVE-2025-52565). */
                _cleanup_close_ int tree =
                        open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                if (target < 0 || tree < 0 || move_tree_to(tree, target) < 0)
                        return error_set(reterr, -errno, "mounting /dev/console");
        }
        char name[64] = "console";
        (void)ioctl(slave, TIOCGPTN, &(unsigned){0});
        int r = send_fd(c->console_fd, master, name);
        if (r < 0)
                return error_set(reterr, r, "sending the pty to the console socket");
        c->console_fd = safe_close(c->console_fd);
        if (setsid() < 0 && errno != EPERM)
                return error_set(reterr, -errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return error_set(reterr, -errno, "making the pty our controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup3(slave, i, 0) < 0)
                        return error_set(reterr, -errno, "connecting stdio to the pty");
        *ret_slave = -1;
        return 0;
}
