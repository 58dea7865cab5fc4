/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Filesystem helpers that never let a path inside an untrusted tree (a container rootfs, an image
 * layer) lead outside it. openat_resolve() is openat2(2) with RESOLVE_* flags; where openat2 is
 * missing or filtered it walks the path one component at a time with O_NOFOLLOW, resolving
 * symlinks itself against the given root, so the answer is the same.
 */
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define SYMLINK_MAX_FOLLOW 40

static bool force_fallback;

void openat_resolve_force_fallback(bool b)
{
        force_fallback = b;
}

char *fd_proc_path(char *buf, size_t len, int fd)
{
        snprintf(buf, len, "/proc/self/fd/%i", fd);
        return buf;
}

int fd_cloexec(int fd, bool cloexec)
{
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        int nflags = cloexec ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
        if (nflags != flags && fcntl(fd, F_SETFD, nflags) < 0)
                return -errno;
        return 0;
}

int fd_nonblock(int fd, bool nonblock)
{
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        int nflags = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
        if (nflags != flags && fcntl(fd, F_SETFL, nflags) < 0)
                return -errno;
        return 0;
}

int fds_cloexec_from(int from)
{
        if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) >= 0)
                return 0;
        if (errno != ENOSYS && errno != EINVAL)
                return -errno;

        /* Old kernel: walk /proc/self/fd. */
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        struct dirent *de;
        int dfd = dirfd(d);
        while ((de = readdir(d))) {
                int fd;
                if (safe_atoi(de->d_name, &fd) < 0 || fd < from || fd == dfd)
                        continue;
                int r = fd_cloexec(fd, true);
                if (r < 0 && r != -EBADF)
                        return r;
        }
        return 0;
}

static unsigned to_kernel_resolve(unsigned resolve)
{
        unsigned k = 0;
        if (resolve & CTR_RESOLVE_NO_XDEV)
                k |= RESOLVE_NO_XDEV;
        if (resolve & CTR_RESOLVE_NO_MAGICLINKS)
                k |= RESOLVE_NO_MAGICLINKS;
        if (resolve & CTR_RESOLVE_NO_SYMLINKS)
                k |= RESOLVE_NO_SYMLINKS;
        if (resolve & CTR_RESOLVE_BENEATH)
                k |= RESOLVE_BENEATH;
        if (resolve & CTR_RESOLVE_IN_ROOT)
                k |= RESOLVE_IN_ROOT;
        return k;
}

/* Mount identity of an fd: the mount id where statx reports it, else the device. */
static int fd_mount_id(int fd, uint64_t *ret)
{
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (sx.stx_mask & STATX_MNT_ID)
                *ret = sx.stx_mnt_id;
        else
                *ret = ((uint64_t)sx.stx_dev_major << 32) | sx.stx_dev_minor;
        return 0;
}

/* A walk through a path: components are consumed from the front of `rest`; symlink targets are
 * spliced in front of what is left. */
typedef struct Walk {
        int root;     /* borrowed */
        int *stack;   /* owned fds, stack[0] is a dup of root */
        size_t depth; /* number of fds on the stack beyond the root */
        size_t alloc;
        char *rest; /* owned: what is left of the path */
} Walk;

static void walk_done(Walk *w)
{
        for (size_t i = 0; i <= w->depth && w->stack; i++)
                safe_close(w->stack[i]);
        free(w->stack);
        free(w->rest);
}

static int walk_push(Walk *w, int fd)
{
        if (w->depth + 2 > w->alloc) {
                size_t n = w->alloc ? w->alloc * 2 : 16;
                int *s = realloc(w->stack, n * sizeof(int));
                if (!s) {
                        safe_close(fd);
                        return -ENOMEM;
                }
                w->stack = s;
                w->alloc = n;
        }
        w->stack[++w->depth] = fd;
        return 0;
}

static int fallback_resolve(int dirfd, const char *path, int flags, mode_t mode, unsigned resolve)
{
        bool in_root = resolve & CTR_RESOLVE_IN_ROOT;
        bool beneath = (resolve & CTR_RESOLVE_BENEATH) && !in_root;
        bool follow_last = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
        unsigned followed = 0;
        uint64_t root_mnt = 0;
        int r;

        Walk w = {};
        w.root = dirfd;
        w.rest = strdup(path);
        w.stack = malloc(16 * sizeof(int));
        w.alloc = 16;
        if (w.stack)
                w.stack[0] = -EBADF;
        if (!w.rest || !w.stack) {
                walk_done(&w);
                return -ENOMEM;
        }
        w.stack[0] = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w.stack[0] < 0) {
                r = -errno;
                walk_done(&w);
                return r;
        }
        if (resolve & CTR_RESOLVE_NO_XDEV) {
                r = fd_mount_id(w.stack[0], &root_mnt);
                if (r < 0)
                        goto finish;
        }

        if (w.rest[0] == '/') {
                if (beneath) {
                        r = -EXDEV;
                        goto finish;
                }
                /* IN_ROOT: absolute paths start at the root, which is where we are. */
        }

        for (;;) {
                char *p = w.rest;
                while (*p == '/')
                        p++;
                if (*p == '\0') {
                        /* Nothing left: the path named a directory we already hold. */
                        r = openat(w.stack[w.depth], ".",
                                   (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC, mode);
                        r = r < 0 ? -errno : r;
                        goto finish;
                }
                size_t n = strcspn(p, "/");
                char comp[NAME_MAX + 1];
                if (n > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        goto finish;
                }
                memcpy(comp, p, n);
                comp[n] = '\0';
                char *after = p + n;
                bool trailing_slash = *after == '/';
                while (*after == '/')
                        after++;
                bool last = *after == '\0';
                memmove(w.rest, after, strlen(after) + 1);

                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        if (w.depth == 0) {
                                if (beneath) {
                                        r = -EXDEV;
                                        goto finish;
                                }
                                continue; /* clamped at the root */
                        }
                        safe_close(w.stack[w.depth--]);
                        continue;
                }

                int fd = openat(w.stack[w.depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        if (r == -ENOENT && last && (flags & O_CREAT)) {
                                r = openat(w.stack[w.depth], comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                                r = r < 0 ? -errno : r;
                        }
                        goto finish;
                }

                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        safe_close(fd);
                        goto finish;
                }

                if (resolve & CTR_RESOLVE_NO_XDEV) {
                        uint64_t m;
                        r = fd_mount_id(fd, &m);
                        if (r >= 0 && m != root_mnt)
                                r = -EXDEV;
                        if (r < 0) {
                                safe_close(fd);
                                goto finish;
                        }
                }

                if (S_ISLNK(st.st_mode) && (!last || follow_last || trailing_slash)) {
                        if (resolve & CTR_RESOLVE_NO_SYMLINKS) {
                                safe_close(fd);
                                r = -ELOOP;
                                goto finish;
                        }
                        if (++followed > SYMLINK_MAX_FOLLOW) {
                                safe_close(fd);
                                r = -ELOOP;
                                goto finish;
                        }
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(fd, "", target, sizeof(target) - 1);
                        safe_close(fd);
                        if (k < 0) {
                                r = -errno;
                                goto finish;
                        }
                        target[k] = '\0';
                        if (target[0] == '/') {
                                if (beneath) {
                                        r = -EXDEV;
                                        goto finish;
                                }
                                while (w.depth > 0)
                                        safe_close(w.stack[w.depth--]);
                        }
                        char *nrest = strjoin(target, (trailing_slash || !last) ? "/" : "", w.rest);
                        if (!nrest) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        free(w.rest);
                        w.rest = nrest;
                        continue;
                }

                if (last) {
                        if ((flags & O_CREAT) && (flags & O_EXCL)) {
                                safe_close(fd);
                                r = -EEXIST;
                                goto finish;
                        }
                        if (trailing_slash && !S_ISDIR(st.st_mode)) {
                                safe_close(fd);
                                r = -ENOTDIR;
                                goto finish;
                        }
                        if (flags & O_PATH) {
                                /* We already hold exactly what was asked for. */
                                if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
                                        safe_close(fd);
                                        r = -ENOTDIR;
                                } else
                                        r = fd;
                                goto finish;
                        }
                        /* Reopen the component itself, still never following a symlink. */
                        r = openat(w.stack[w.depth], comp,
                                   (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_CLOEXEC, mode);
                        r = r < 0 ? -errno : r;
                        if (r >= 0) {
                                /* The entry may have been swapped between the two opens: check it is the
                                 * same. */
                                struct stat st2;
                                if (fstat(r, &st2) < 0 || st2.st_ino != st.st_ino ||
                                    st2.st_dev != st.st_dev) {
                                        safe_close(r);
                                        r = -EAGAIN;
                                }
                        }
                        safe_close(fd);
                        goto finish;
                }

                if (!S_ISDIR(st.st_mode)) {
                        safe_close(fd);
                        r = -ENOTDIR;
                        goto finish;
                }
                r = walk_push(&w, fd);
                if (r < 0)
                        goto finish;
        }

finish:
        walk_done(&w);
        return r;
}

int openat_resolve(int dirfd, const char *path, int flags, mode_t mode, unsigned resolve)
{
        if (!path)
                return -EINVAL;
        if (!force_fallback) {
                struct open_how how = {
                        .flags = (uint64_t)(flags | O_CLOEXEC),
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = to_kernel_resolve(resolve),
                };
                long fd = syscall(SYS_openat2, dirfd, isempty(path) ? "." : path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                /* Retry EAGAIN is the caller's business; ENOSYS/EPERM (filtered): fall back. */
        }
        return fallback_resolve(dirfd, isempty(path) ? "." : path, flags, mode, resolve);
}

int mkdirat_p_in_root(int dirfd, const char *path, mode_t mode, int *ret_fd)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;

        size_t len = strlen(copy);
        /* Walk prefixes: try each, create what is missing in its (safely opened) parent. */
        for (size_t i = 0; i <= len; i++) {
                if (copy[i] != '/' && copy[i] != '\0')
                        continue;
                if (i == 0 || copy[i - 1] == '/')
                        continue;
                char saved = copy[i];
                copy[i] = '\0';

                _cleanup_close_ int fd =
                        openat_resolve(dirfd, copy, O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_IN_ROOT);
                if (fd == -ENOENT) {
                        char *slash = strrchr(copy, '/');
                        const char *name = slash ? slash + 1 : copy;
                        _cleanup_close_ int parent = -EBADF;
                        if (slash) {
                                *slash = '\0';
                                parent = openat_resolve(dirfd, isempty(copy) ? "/" : copy,
                                                        O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_IN_ROOT);
                                *slash = '/';
                        } else
                                parent = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (parent < 0)
                                return parent == -1 ? -errno : parent;
                        if (streq(name, "..") || streq(name, "."))
                                return -EINVAL;
                        if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
                                return -errno;
                        fd = openat_resolve(dirfd, copy, O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_IN_ROOT);
                }
                if (fd < 0)
                        return fd;
                copy[i] = saved;
                if (saved == '\0') {
                        if (ret_fd)
                                *ret_fd = TAKE_FD(fd);
                        return 0;
                }
        }
        /* path was "" or only slashes: the root itself. */
        if (ret_fd) {
                int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size)
{
        size_t alloc = 4096, n = 0;
        struct stat st;
        /* A regular file's size sizes the buffer: one allocation and one read, instead of
         * doubling from 4 KiB (each heap page touched costs a page fault). Growth since the
         * fstat() is still handled below. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= max_size)
                alloc = (size_t)st.st_size + 2;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (n + 1 >= alloc) {
                        if (alloc > max_size + 1)
                                return -EFBIG;
                        size_t na = MIN(alloc * 2, max_size + 2);
                        char *b = realloc(buf, na);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        alloc = na;
                }
                ssize_t k = read(fd, buf + n, alloc - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > max_size)
                        return -EFBIG;
        }
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int read_full_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max_size, ret, ret_size);
}

int read_one_line_file(const char *path, char **ret)
{
        char *buf;
        int r = read_full_file_at(AT_FDCWD, path, 1024 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        *ret = buf;
        return 0;
}

int loop_write(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

int loop_read_exact(int fd, void *buf, size_t len)
{
        char *p = buf;
        while (len > 0) {
                ssize_t k = read(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

int write_string_file_at(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* One write(): kernel knobs take the value in one go. */
        size_t l = strlen(s);
        ssize_t k = write(fd, s, l);
        if (k < 0)
                return -errno;
        return (size_t)k == l ? 0 : -EIO;
}

int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode)
{
        _cleanup_free_ char *dir = NULL;
        int r = path_dirname(path, &dir);
        if (r < 0)
                return r;
        const char *base = path_basename(path);
        if (!filename_is_valid(base))
                return -EINVAL;

        _cleanup_close_ int dfd = openat(dirfd, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;

        struct stat st;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISREG(st.st_mode))
                return S_ISLNK(st.st_mode) ? -ELOOP : -EEXIST;

        char tmp[NAME_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                uint64_t rnd = now_usec(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 32) ^
                               (attempt * 0x9e3779b97f4a7c15ULL);
                snprintf(tmp, sizeof(tmp), ".#%.200s.%016" PRIx64, base, rnd);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd >= 0 || errno != EEXIST)
                        break;
        }
        if (fd < 0)
                return -errno;

        r = loop_write(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int rm_rf_children(int fd, uint64_t mnt)
{
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        DIR *d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return -errno;
        }
        int ret = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0) {
                                if (errno != ENOENT && ret == 0)
                                        ret = -errno;
                                continue;
                        }
                        uint64_t cm;
                        int r = fd_mount_id(cfd, &cm);
                        if (r >= 0 && cm != mnt)
                                r = -EXDEV; /* a mount point: never descend into another file system */
                        if (r >= 0)
                                r = rm_rf_children(cfd, mnt);
                        safe_close(cfd);
                        if (r >= 0 && unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                r = -errno;
                        if (r < 0 && ret == 0)
                                ret = r;
                } else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = -errno;
        }
        if (errno != 0 && ret == 0)
                ret = -errno;
        closedir(d);
        return ret;
}

int rm_rf_at(int dirfd, const char *path)
{
        struct stat st;
        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, path, 0) < 0 && errno != ENOENT ? -errno : 0;

        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        uint64_t mnt;
        int r = fd_mount_id(fd, &mnt);
        if (r < 0)
                return r;
        r = rm_rf_children(fd, mnt);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* ------------------------------------------------------------------ copy_tree_at */

static int copy_regular_at(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                         st->st_mode & 07777);
        if (out < 0)
                return -errno;
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n == 0)
                        break;
                if (n < 0) {
                        if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                                return -errno;
                        /* Across file systems on old kernels: a plain copy. */
                        char buf[64 * 1024];
                        ssize_t k;
                        while ((k = read(in, buf, sizeof buf)) > 0)
                                if (loop_write(out, buf, (size_t)k) < 0)
                                        return -errno;
                        if (k < 0)
                                return -errno;
                        break;
                }
        }
        if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0)
                return -errno;
        return 0;
}

static int copy_dir_at(int src, int dst, unsigned depth)
{
        if (depth > 256)
                return -ELOOP;
        int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dst, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST) {
                                r = -errno;
                                break;
                        }
                        _cleanup_close_ int s2 =
                                openat(src, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int d2 =
                                openat(dst, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s2 < 0 || d2 < 0) {
                                r = -errno;
                                break;
                        }
                        r = copy_dir_at(s2, d2, depth + 1);
                        if (r >= 0 &&
                            (fchown(d2, st.st_uid, st.st_gid) < 0 || fchmod(d2, st.st_mode & 07777) < 0))
                                r = -errno;
                } else if (S_ISREG(st.st_mode))
                        r = copy_regular_at(src, dst, de->d_name, &st);
                else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(src, de->d_name, target, sizeof target - 1);
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = '\0';
                        if (symlinkat(target, dst, de->d_name) < 0 ||
                            fchownat(dst, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                                r = -errno;
                }
                /* Device nodes, FIFOs and sockets are not copied. */
        }
        closedir(d);
        return r;
}

int copy_tree_at(int src_dirfd, int dst_dirfd)
{
        return copy_dir_at(src_dirfd, dst_dirfd, 0);
}
