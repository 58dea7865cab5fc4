/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Layer unpacking. libarchive only reads the tar stream (coming out of the decompressor helper
 * through a pipe); every file system change is made here, relative to the layer's directory fd:
 * parents are resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV) (or
 * common/'s checked fallback walk), leaves are created with *at() calls on the final component
 * that never follow a symlink, metadata is applied through descriptors (fchown before fchmod
 * so setuid bits survive), directory times are applied last by re-resolving each path.
 *
 * OCI whiteouts become overlayfs whiteouts (char 0:0) and opaque directories
 * (trusted.overlay.opaque=y), so the directory can be used as an overlay lower layer directly.
 */
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/decompress.h"

#define MAX_PATH_LEN    4096
#define MAX_XATTR_VALUE (64 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE  "trusted.overlay.opaque"
#define RESOLVE_FLAGS   (CTR_RESOLVE_IN_ROOT | CTR_RESOLVE_NO_MAGICLINKS | CTR_RESOLVE_NO_XDEV)

static inline void archive_read_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

typedef struct DirTime {
        char *path;
        struct timespec ts[2];
} DirTime;

typedef struct Unpack {
        const UnpackOptions *opts;
        const char *layer; /* digest, for messages */
        int root_fd;
        Error *e;

        /* the tar stream */
        Sha256 tar_hash;
        uint64_t tar_bytes;
        Decompressor *dec;
        uint64_t blob_size;
        uint64_t last_progress;
        bool eof;            /* read() returned 0 */
        bool ended_unpadded; /* the stream ended right after the last file's data */

        /* the current entry */
        const char *entry; /* as in the archive, for messages */
        char last_entry[256];
        uint64_t n_entries;

        /* cache of the last parent directory */
        char *cached_parent;
        int cached_fd;

        /* What a node we create gets before any chown/chmod: our uid and gid, permissions minus
         * the umask. That holds as long as no directory of the layer hands down something else
         * (set-group-ID, another group under a grpid mount, a default ACL): dirs_plain. */
        uid_t euid;
        gid_t egid;
        mode_t umask;
        bool dirs_plain;

        DirTime *dir_times;
        size_t n_dir_times, alloc_dir_times;
} Unpack;

static int entry_error(Unpack *u, int r, const char *fmt, ...) _printf_(3, 4);
static int entry_error(Unpack *u, int r, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL, *esc = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        esc = cescape(strempty(u->entry));
        if (r == 0 || r == -EBADMSG || r == -EPERM || r == -EFBIG || r == -E2BIG || r == -EINVAL)
                return error_set_msg(u->e, r ?: -EBADMSG, "layer %s: entry \"%s\": %s", u->layer, strna(esc),
                                     strna(msg));
        return error_set(u->e, r, "layer %s: entry \"%s\": %s", u->layer, strna(esc), strna(msg));
}

/* ---------------------------------------------------------------- reading the stream */

static la_ssize_t read_cb(struct archive *a, void *userdata, const void **ret)
{
        Unpack *u = userdata;
        const void *p = NULL;

        /* Straight out of the decompressor's ring: libarchive may keep pointing into the piece
         * until it asks for the next one, which is when the ring gets it back. */
        ssize_t k = decompressor_read(u->dec, &p);
        if (k < 0) {
                archive_set_error(a, (int)-k, "reading layer stream");
                return -1;
        }
        if (k == 0)
                u->eof = true;
        else
                sha256_update(&u->tar_hash, p, (size_t)k);
        u->tar_bytes += (size_t)k;
        if (u->opts->progress && u->tar_bytes - u->last_progress >= (32u << 20)) {
                u->last_progress = u->tar_bytes;
                char what[128];
                snprintf(what, sizeof(what), "unpacking %.19s", u->layer);
                u->opts->progress(what, decompressor_progress(u->dec), u->blob_size,
                                  u->opts->progress_userdata);
        }
        *ret = p;
        return k;
}

/* ---------------------------------------------------------------- names */

/*
 * Cleans an archive path: strips leading "/" and "./", drops "." components and repeated
 * slashes. Refuses "..", empty names, NUL-free but over-long paths and components. The root
 * itself comes back as "".
 */
static int clean_path(const char *in, char **ret)
{
        size_t n = strlen(in);
        if (n > MAX_PATH_LEN)
                return -ENAMETOOLONG;
        _cleanup_free_ char *out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        const char *p = in;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t len = strcspn(p, "/");
                if (len == 1 && p[0] == '.') {
                        p += len;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -EPERM;
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                if (o > 0)
                        out[o++] = '/';
                memcpy(out + o, p, len);
                o += len;
                p += len;
        }
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

/* Splits "a/b/c" into parent "a/b" and base "c" (parent "" for top-level names), in place. */
static void split_path(char *path, const char **ret_parent, const char **ret_base)
{
        char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_parent = "";
                *ret_base = path;
        } else {
                *slash = '\0';
                *ret_parent = path;
                *ret_base = slash + 1;
        }
}

/* ---------------------------------------------------------------- directories */

/* Forgets which path the cached fd belongs to; the fd itself stays open until the next
 * open_parent(), since the entry being written may still be using it. */
static void cache_invalidate(Unpack *u)
{
        u->cached_parent = mfree(u->cached_parent);
}

/* Directory times are set once the layer is complete: creating entries inside a directory
 * changes its mtime. */
static int defer_dir_time_ts(Unpack *u, const char *path, const struct timespec ts[2])
{
        if (u->n_dir_times == u->alloc_dir_times) {
                size_t n = u->alloc_dir_times ? u->alloc_dir_times * 2 : 256;
                DirTime *d = realloc(u->dir_times, n * sizeof(DirTime));
                if (!d)
                        return -ENOMEM;
                u->dir_times = d;
                u->alloc_dir_times = n;
        }
        DirTime *t = &u->dir_times[u->n_dir_times];
        t->path = strdup(path);
        if (!t->path)
                return -ENOMEM;
        t->ts[0] = ts[0];
        t->ts[1] = ts[1];
        u->n_dir_times++;
        return 0;
}

/* A directory of the layer gets this group and mode: does it hand down anything to what is
 * created in it? (Default ACLs are noted where the xattrs are applied.) */
static void note_dir_attrs(Unpack *u, gid_t gid, mode_t mode)
{
        if ((mode & S_ISGID) || gid != u->egid)
                u->dirs_plain = false;
}

/* Owner, mode and times of an implicitly created directory: from the topmost lower layer that
 * has it, unless a whiteout or non-directory hides it there (as umoci and a plain overlay view
 * of the lower layers would show it). Returns whether a lower layer had it. */
static bool copy_lower_attrs(Unpack *u, const char *path, int fd)
{
        for (size_t i = 0; i < u->opts->n_lower; i++) {
                _cleanup_close_ int lfd = -EBADF;
                struct stat st;
                _cleanup_free_ char *copy = strdup(path);
                const char *parent, *base;

                if (!copy)
                        return false;
                split_path(copy, &parent, &base);
                lfd = isempty(parent) ? fcntl(u->opts->lower_fds[i], F_DUPFD_CLOEXEC, 3)
                                      : openat_resolve(u->opts->lower_fds[i], parent, O_PATH | O_DIRECTORY,
                                                       0, RESOLVE_FLAGS);
                if (lfd < 0) {
                        if (lfd == -ENOENT)
                                continue;
                        return false;
                }
                if (fstatat(lfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode))
                        return false; /* a whiteout or another type hides whatever is below */
                note_dir_attrs(u, st.st_gid, st.st_mode);
                (void)fchownat(fd, "", st.st_uid, st.st_gid, AT_EMPTY_PATH);
                char p[64];
                (void)chmod(fd_proc_path(p, sizeof(p), fd), st.st_mode & 07777);
                (void)defer_dir_time_ts(u, path, (const struct timespec[2]){st.st_atim, st.st_mtim});
                return true;
        }
        return false;
}

/* Joins a symlink target found at prefix with the rest of the path, textually normalized with
 * ".." clamped at the layer root (the same containment RESOLVE_IN_ROOT gives). */
static char *symlink_splice(const char *prefix, const char *target, const char *rest)
{
        _cleanup_free_ char *dir = NULL, *joined = NULL;
        if (target[0] == '/')
                joined = strjoin(target, "/", strempty(rest));
        else {
                if (path_dirname(prefix, &dir) < 0)
                        return NULL;
                joined = strjoin(dir, "/", target, "/", strempty(rest));
        }
        if (!joined)
                return NULL;
        _cleanup_strv_free_ char **parts = strv_split(joined, "/"), **out = NULL;
        if (!parts)
                return NULL;
        STRV_FOREACH (c, parts) {
                if (streq(*c, "."))
                        continue;
                if (streq(*c, "..")) {
                        size_t n = strv_length(out);
                        if (n > 0) {
                                free(out[n - 1]);
                                out[n - 1] = NULL;
                        }
                        continue;
                }
                if (strv_extend(&out, *c) < 0)
                        return NULL;
        }
        return out ? strv_join(out, "/") : strdup("");
}

/* Creates the missing directories of parent one by one (0755 root unless a lower layer says
 * otherwise) and returns an O_PATH fd of the last. A dangling symlink on the way is followed
 * inside the layer: its target is created there. */
static int make_parents_depth(Unpack *u, const char *parent, int *ret_fd, unsigned depth);
static int make_parents(Unpack *u, const char *parent, int *ret_fd)
{
        return make_parents_depth(u, parent, ret_fd, 0);
}

static int make_parents_depth(Unpack *u, const char *parent, int *ret_fd, unsigned depth)
{
        _cleanup_free_ char *copy = strdup(parent);
        _cleanup_close_ int cur = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);

        if (!copy)
                return -ENOMEM;
        if (cur < 0)
                return -errno;
        for (char *p = copy;;) {
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                /* copy now holds the path up to this component: resolve it from the layer root. */
                int fd = openat_resolve(u->root_fd, copy, O_PATH | O_DIRECTORY, 0, RESOLVE_FLAGS);
                if (fd == -ENOENT) {
                        if (mkdirat(cur, p, 0755) >= 0) {
                                fd = openat(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (fd < 0)
                                        return -errno;
                                if (!copy_lower_attrs(u, copy, fd) && (0755 & u->umask)) {
                                        /* 0755 whatever the caller's umask, as the image says
                                         * nothing else. */
                                        char pp[64];
                                        if (chmod(fd_proc_path(pp, sizeof(pp), fd), 0755) < 0) {
                                                int k = -errno;
                                                safe_close(fd);
                                                return k;
                                        }
                                }
                        } else if (errno == EEXIST) {
                                /* A dangling symlink: make its target, still inside the layer. */
                                char target[PATH_MAX];
                                ssize_t k = readlinkat(cur, p, target, sizeof(target) - 1);
                                if (k < 0)
                                        return -errno;
                                if (depth >= 40)
                                        return -ELOOP;
                                target[k] = '\0';
                                _cleanup_free_ char *next =
                                        symlink_splice(copy, target, slash ? slash + 1 : NULL);
                                if (!next)
                                        return -ENOMEM;
                                if (isempty(next))
                                        return -EEXIST;
                                return make_parents_depth(u, next, ret_fd, depth + 1);
                        } else
                                return -errno;
                }
                if (fd < 0)
                        return fd;
                safe_close(cur);
                cur = fd;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

/* Returns a borrowed O_PATH fd of the parent directory (inside the layer), creating missing
 * directories (0755, root-owned, as tar does). */
static int open_parent(Unpack *u, const char *parent)
{
        int fd, r;

        if (u->cached_parent && streq(u->cached_parent, parent))
                return u->cached_fd;
        cache_invalidate(u);
        u->cached_fd = safe_close(u->cached_fd);
        if (isempty(parent))
                fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        else {
                for (unsigned attempt = 0;; attempt++) {
                        fd = openat_resolve(u->root_fd, parent, O_PATH | O_DIRECTORY, 0, RESOLVE_FLAGS);
                        if (fd != -EAGAIN && fd != -EINTR)
                                break;
                        if (attempt > 16)
                                break;
                }
                if (fd == -ENOENT) {
                        r = make_parents(u, parent, &fd);
                        if (r < 0)
                                return entry_error(u, r, "creating parent directory \"%s\"", parent);
                }
        }
        if (fd < 0)
                return entry_error(u, fd < -1 ? fd : -errno, "opening parent directory \"%s\"", parent);
        u->cached_parent = strdup(parent);
        if (!u->cached_parent) {
                safe_close(fd);
                return -ENOMEM;
        }
        u->cached_fd = fd;
        return fd;
}

/* Removes whatever is at parent_fd/base (if anything) unless keep_dir and it is a directory.
 * Returns 1 if a directory was kept, 0 otherwise. */
static int clear_leaf(Unpack *u, int parent_fd, const char *base, bool keep_dir)
{
        struct stat st;

        if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return entry_error(u, -errno, "stat");
        }
        if (S_ISDIR(st.st_mode) && keep_dir)
                return 1;
        cache_invalidate(u);
        int r = S_ISDIR(st.st_mode) ? rm_rf_at(parent_fd, base)
                                    : (unlinkat(parent_fd, base, 0) < 0 ? -errno : 0);
        if (r < 0)
                return entry_error(u, r, "replacing the existing entry");
        return 0;
}

/* ---------------------------------------------------------------- metadata */

typedef enum XattrPolicy {
        XATTR_KEEP,
        XATTR_DROP,
        XATTR_REFUSE,
} XattrPolicy;

static XattrPolicy xattr_policy(const char *name)
{
        if (startswith(name, "user."))
                return XATTR_KEEP;
        if (streq(name, "security.capability"))
                return XATTR_KEEP;
        if (streq(name, "system.posix_acl_access") || streq(name, "system.posix_acl_default"))
                return XATTR_KEEP;
        /* Labels belong to the host's policy, not the image's. */
        if (streq(name, "security.selinux") || streq(name, "security.ima") || streq(name, "security.evm") ||
            streq(name, "security.apparmor"))
                return XATTR_DROP;
        /* trusted.overlay.* would forge whiteouts, opaque dirs and redirects; other trusted.* and
         * unknown namespaces have no business in an image. */
        return XATTR_REFUSE;
}

/* Checks the entry's xattrs against the policy before anything is created. */
static int xattrs_check(Unpack *u, struct archive_entry *ae)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(ae);
        while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || strlen(name) > XATTR_NAME_MAX || size > MAX_XATTR_VALUE)
                        return entry_error(u, -EBADMSG, "invalid extended attribute");
                if (xattr_policy(name) == XATTR_REFUSE) {
                        _cleanup_free_ char *esc = cescape(name);
                        return entry_error(u, -EPERM, "extended attribute \"%s\" refused%s", strna(esc),
                                           startswith(name, "trusted.overlay.")
                                                   ? " (forged overlayfs metadata)"
                                                   : " (namespace not allowed)");
                }
        }
        return 0;
}

static int xattrs_apply(Unpack *u, int fd, struct archive_entry *ae)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(ae);
        while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
                if (xattr_policy(name) != XATTR_KEEP)
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0) {
                        if (errno == ENOTSUP && startswith(name, "user."))
                                continue;
                        _cleanup_free_ char *esc = cescape(name);
                        return entry_error(u, -errno, "setting extended attribute \"%s\"", strna(esc));
                }
        }
        return 0;
}

static void entry_times(struct archive_entry *ae, struct timespec ts[2])
{
        ts[1] = (struct timespec){archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
        if (archive_entry_atime_is_set(ae))
                ts[0] = (struct timespec){archive_entry_atime(ae), archive_entry_atime_nsec(ae)};
        else
                ts[0] = ts[1];
        if (ts[0].tv_nsec < 0 || ts[0].tv_nsec >= 1000000000)
                ts[0].tv_nsec = 0;
        if (ts[1].tv_nsec < 0 || ts[1].tv_nsec >= 1000000000)
                ts[1].tv_nsec = 0;
}

static int owner_check(Unpack *u, struct archive_entry *ae, uid_t *ret_uid, gid_t *ret_gid)
{
        la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
        if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
                return entry_error(u, -EBADMSG, "invalid owner %" PRId64 ":%" PRId64, (int64_t)uid,
                                   (int64_t)gid);
        *ret_uid = (uid_t)uid;
        *ret_gid = (gid_t)gid;
        return 0;
}

/* How to create an entry, and which of its metadata the creation already gets right. */
typedef struct EntryMeta {
        uid_t uid;
        gid_t gid;
        mode_t perm;        /* 07777 bits from the archive */
        mode_t create_mode; /* for open/mkdir/mknod: the permission bits, never the special ones */
        bool chown;         /* a chown is needed after creation */
        bool chmod;         /* a chmod is needed after creation (and after the chown) */
        bool xattrs;        /* the entry has xattrs to set */
} EntryMeta;

static bool entry_has_xattrs(struct archive_entry *ae)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(ae);
        while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
                if (xattr_policy(name) == XATTR_KEEP)
                        return true;
        return false;
}

/* Most entries are root's, 0644 or 0755, in plain directories: a node created with those
 * permission bits already is what the archive says, and the chown and chmod would change nothing
 * (a few thousand syscalls per layer). Set-user/group-ID and sticky bits always take a chmod after
 * the chown (which would clear them). */
static int entry_meta(Unpack *u, struct archive_entry *ae, EntryMeta *ret)
{
        EntryMeta m = {.perm = archive_entry_perm(ae) & 07777};
        int r = owner_check(u, ae, &m.uid, &m.gid);
        if (r < 0)
                return r;
        m.create_mode = m.perm & 0777;
        m.chown = !u->dirs_plain || m.uid != u->euid || m.gid != u->egid;
        m.chmod = !u->dirs_plain || (m.perm & 07000) || (m.create_mode & u->umask);
        m.xattrs = entry_has_xattrs(ae);
        *ret = m;
        return 0;
}

/* Ownership, mode (after chown, which clears setuid), xattrs and times through an fd; only what
 * m says is needed (all of it for an entry that existed before). */
static int fd_apply_meta(Unpack *u, int fd, struct archive_entry *ae, const EntryMeta *m, bool times)
{
        int r;

        if (m->chown && fchown(fd, m->uid, m->gid) < 0)
                return entry_error(u, -errno, "chown");
        if (m->chmod && fchmod(fd, m->perm) < 0)
                return entry_error(u, -errno, "chmod");
        if (m->xattrs) {
                r = xattrs_apply(u, fd, ae);
                if (r < 0)
                        return r;
        }
        if (times) {
                struct timespec ts[2];
                entry_times(ae, ts);
                if (futimens(fd, ts) < 0)
                        return entry_error(u, -errno, "setting times");
        }
        return 0;
}

/* ---------------------------------------------------------------- entry types */

static int write_regular(Unpack *u, struct archive *a, struct archive_entry *ae, int parent_fd,
                         const char *base)
{
        const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
        _cleanup_close_ int fd = -EBADF;
        EntryMeta m;
        int r;

        r = entry_meta(u, ae, &m);
        if (r < 0)
                return r;
        /* Create first; only if something is in the way (rare), look at it and replace it. The
         * staging directory is ours alone, so the permission bits may be the final ones at once. */
        fd = openat(parent_fd, base, flags, m.create_mode);
        if (fd < 0 && errno == EEXIST) {
                r = clear_leaf(u, parent_fd, base, false);
                if (r < 0)
                        return r;
                fd = openat(parent_fd, base, flags, m.create_mode);
        }
        if (fd < 0)
                return entry_error(u, -errno, "creating file");

        int64_t pos = 0;
        for (;;) {
                const void *p;
                size_t n;
                la_int64_t off;
                int ar = archive_read_data_block(a, &p, &n, &off);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        /* umoci (0.4.x) writes layers whose last file lacks its padding and the
                         * end-of-archive blocks. If every byte of the file came and the stream is
                         * over, that is the end of the layer; the diff_id still covers it all. */
                        if (u->eof && archive_entry_size_is_set(ae) && pos == archive_entry_size(ae)) {
                                u->ended_unpadded = true;
                                break;
                        }
                        return entry_error(u, -EBADMSG, "reading data: %s",
                                           archive_error_string(a) ?: "error");
                }
                if (off != pos) {
                        /* A hole of a sparse file. */
                        if (off < pos || lseek(fd, off, SEEK_SET) < 0)
                                return entry_error(u, -EBADMSG, "invalid sparse file map");
                        pos = off;
                }
                r = loop_write(fd, p, n);
                if (r < 0)
                        return entry_error(u, r, "writing");
                pos += (int64_t)n;
        }
        if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > pos &&
            ftruncate(fd, archive_entry_size(ae)) < 0)
                return entry_error(u, -errno, "extending sparse file");
        return fd_apply_meta(u, fd, ae, &m, true);
}

static int defer_dir_time(Unpack *u, const char *path, struct archive_entry *ae)
{
        struct timespec ts[2];
        entry_times(ae, ts);
        return defer_dir_time_ts(u, path, ts);
}

static int write_directory(Unpack *u, struct archive_entry *ae, int parent_fd, const char *base,
                           const char *path)
{
        _cleanup_close_ int fd = -EBADF;
        bool created = false;
        EntryMeta m;
        int r;

        r = entry_meta(u, ae, &m);
        if (r < 0)
                return r;
        if (isempty(path)) {
                /* The layer root existed before: everything is applied. */
                m.chown = m.chmod = true;
                fd = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
                created = mkdirat(parent_fd, base, m.create_mode) >= 0;
                if (!created) {
                        if (errno != EEXIST)
                                return entry_error(u, -errno, "creating directory");
                        /* Something is there: a directory stays (its metadata is updated), anything
                         * else is replaced. */
                        r = clear_leaf(u, parent_fd, base, true);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                if (mkdirat(parent_fd, base, m.create_mode) < 0)
                                        return entry_error(u, -errno, "creating directory");
                                created = true;
                        } else
                                m.chown = m.chmod = true;
                }
                if (!created || m.chown || m.chmod || m.xattrs)
                        fd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        /* From now on entries are created in it: does it hand anything down? */
        note_dir_attrs(u, m.gid, m.perm);
        if (m.xattrs) {
                const char *name;
                const void *value;
                size_t size;
                archive_entry_xattr_reset(ae);
                while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
                        if (streq(name, "system.posix_acl_default"))
                                u->dirs_plain = false;
        }
        if (fd >= 0) {
                r = fd_apply_meta(u, fd, ae, &m, false);
                if (r < 0)
                        return r;
        } else if (!created || m.chown || m.chmod || m.xattrs)
                return entry_error(u, -errno, "opening directory");
        r = defer_dir_time(u, path, ae);
        return r < 0 ? entry_error(u, r, "recording directory times") : 0;
}

static int write_symlink(Unpack *u, struct archive_entry *ae, int parent_fd, const char *base)
{
        const char *target = archive_entry_symlink(ae);
        struct timespec ts[2];
        EntryMeta m;
        int r;

        if (isempty(target) || strlen(target) >= PATH_MAX)
                return entry_error(u, -EBADMSG, "invalid symlink target");
        r = entry_meta(u, ae, &m);
        if (r < 0)
                return r;
        /* The target is stored verbatim: it is only ever followed inside the container, or by
         * our own resolution, which is confined to the layer. */
        r = symlinkat(target, parent_fd, base) < 0 ? -errno : 0;
        if (r == -EEXIST) {
                r = clear_leaf(u, parent_fd, base, false);
                if (r < 0)
                        return r;
                r = symlinkat(target, parent_fd, base) < 0 ? -errno : 0;
        }
        if (r < 0)
                return entry_error(u, r, "creating symlink");
        if (m.chown && fchownat(parent_fd, base, m.uid, m.gid, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_error(u, -errno, "chown of symlink");
        entry_times(ae, ts);
        if (utimensat(parent_fd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_error(u, -errno, "setting symlink times");
        return 0;
}

static int write_hardlink(Unpack *u, struct archive_entry *ae, int parent_fd, const char *base,
                          const char *path)
{
        _cleanup_free_ char *target = NULL;
        _cleanup_close_ int tparent_fd = -EBADF;
        const char *tparent, *tbase;
        struct stat st;
        int r;

        r = clean_path(archive_entry_hardlink(ae), &target);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || isempty(target)) {
                _cleanup_free_ char *esc = cescape(archive_entry_hardlink(ae));
                return entry_error(u, r < 0 ? r : -EPERM, "hardlink target \"%s\" is outside the layer",
                                   strna(esc));
        }
        if (streq(target, path))
                return entry_error(u, -EBADMSG, "hardlink to itself");
        _cleanup_free_ char *tcopy = strdup(target);
        if (!tcopy)
                return -ENOMEM;
        split_path(tcopy, &tparent, &tbase);
        if (isempty(tparent))
                tparent_fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        else
                tparent_fd = openat_resolve(u->root_fd, tparent, O_PATH | O_DIRECTORY, 0, RESOLVE_FLAGS);
        if (tparent_fd < 0 || fstatat(tparent_fd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                _cleanup_free_ char *esc = cescape(target);
                return entry_error(u, -EBADMSG, "hardlink target \"%s\" does not exist in this layer",
                                   strna(esc));
        }
        if (S_ISDIR(st.st_mode))
                return entry_error(u, -EPERM, "hardlink to a directory");
        /* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself. */
        r = linkat(tparent_fd, tbase, parent_fd, base, 0) < 0 ? -errno : 0;
        if (r == -EEXIST) {
                r = clear_leaf(u, parent_fd, base, false);
                if (r < 0)
                        return r;
                r = linkat(tparent_fd, tbase, parent_fd, base, 0) < 0 ? -errno : 0;
        }
        if (r < 0)
                return entry_error(u, r, "creating hardlink");
        return 0;
}

static bool device_allowed(mode_t type, dev_t dev)
{
        static const struct {
                unsigned maj, min;
        } allowed[] = {
                {0, 0}, /* an overlayfs whiteout */
                {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2},
        };
        if (type != S_IFCHR)
                return false;
        FOREACH_ARRAY (a, allowed, ELEMENTSOF(allowed))
                if (major(dev) == a->maj && minor(dev) == a->min)
                        return true;
        return false;
}

static int write_node(Unpack *u, struct archive_entry *ae, int parent_fd, const char *base, mode_t type)
{
        dev_t dev = 0;
        EntryMeta m;
        int r;

        if (type != S_IFIFO) {
                dev = makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
                /* The runtime mounts a fresh /dev; a device node anywhere else in an image is a way
                 * around the device cgroup. Only the standard character devices are accepted. */
                if (!device_allowed(type, dev))
                        return entry_error(
                                u, -EPERM,
                                "%s device %u:%u refused (only standard character devices are allowed)",
                                type == S_IFBLK ? "block" : "character", major(dev), minor(dev));
        }
        r = entry_meta(u, ae, &m);
        if (r < 0)
                return r;
        r = mknodat(parent_fd, base, type | m.create_mode, dev) < 0 ? -errno : 0;
        if (r == -EEXIST) {
                r = clear_leaf(u, parent_fd, base, false);
                if (r < 0)
                        return r;
                r = mknodat(parent_fd, base, type | m.create_mode, dev) < 0 ? -errno : 0;
        }
        if (r == -EPERM && type != S_IFIFO)
                return 0; /* not permitted here (user namespace): skip, as other runtimes do */
        if (r < 0)
                return entry_error(u, r, "creating node");
        if (m.chown && fchownat(parent_fd, base, m.uid, m.gid, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_error(u, -errno, "chown");
        /* We created the node an instant ago in a directory nobody else can write: it is not a
         * symlink, so this follows nothing. */
        if (m.chmod && fchmodat(parent_fd, base, m.perm, 0) < 0)
                return entry_error(u, -errno, "chmod");
        struct timespec ts[2];
        entry_times(ae, ts);
        if (utimensat(parent_fd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_error(u, -errno, "setting times");
        return 0;
}

static int write_whiteout(Unpack *u, int parent_fd, const char *parent, const char *base)
{
        if (streq(base, WHITEOUT_OPAQUE)) {
                _cleanup_close_ int fd = -EBADF;
                if (isempty(parent))
                        fd = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                else
                        fd = openat_resolve(u->root_fd, parent, O_RDONLY | O_DIRECTORY, 0, RESOLVE_FLAGS);
                if (fd < 0)
                        return entry_error(u, fd < -1 ? fd : -errno, "opening the opaque directory");
                if (fsetxattr(fd, OVERLAY_OPAQUE, "y", 1, 0) < 0)
                        return entry_error(u, -errno, "marking the directory opaque");
                return 0;
        }
        const char *target = startswith(base, WHITEOUT_PREFIX);
        if (startswith(target, WHITEOUT_PREFIX))
                return 0; /* other AUFS metadata (.wh..wh.plnk, …): meaningless here */
        if (!filename_is_valid(target))
                return entry_error(u, -EPERM, "whiteout names an invalid target");
        int r = mknodat(parent_fd, target, S_IFCHR | 0000, makedev(0, 0)) < 0 ? -errno : 0;
        if (r == -EEXIST) {
                r = clear_leaf(u, parent_fd, target, false);
                if (r < 0)
                        return r;
                r = mknodat(parent_fd, target, S_IFCHR | 0000, makedev(0, 0)) < 0 ? -errno : 0;
        }
        if (r < 0)
                return entry_error(u, r, "creating the overlayfs whiteout");
        return 0;
}

static int unpack_entry(Unpack *u, struct archive *a, struct archive_entry *ae)
{
        _cleanup_free_ char *path = NULL, *split = NULL;
        const char *parent, *base;
        int r;

        u->entry = archive_entry_pathname(ae);
        if (!u->entry)
                return entry_error(u, -EBADMSG, "unreadable name");
        snprintf(u->last_entry, sizeof(u->last_entry), "%s", u->entry);
        if (++u->n_entries > u->opts->limits.max_entries)
                return entry_error(u, -E2BIG, "more than %" PRIu64 " entries in the layer",
                                   u->opts->limits.max_entries);
        r = clean_path(u->entry, &path);
        if (r == -ENOMEM)
                return r;
        if (r == -EPERM)
                return entry_error(u, -EPERM, "path leaves the layer (\"..\" component)");
        if (r < 0)
                return entry_error(u, -EBADMSG, "invalid path");

        mode_t type = archive_entry_filetype(ae);
        bool hardlink = archive_entry_hardlink(ae) != NULL;

        r = xattrs_check(u, ae);
        if (r < 0)
                return r;

        if (isempty(path)) {
                /* The layer's root: only its metadata may be set. */
                if (type == AE_IFDIR && !hardlink)
                        return write_directory(u, ae, u->root_fd, ".", "");
                return entry_error(u, -EBADMSG, "the layer root must be a directory");
        }

        split = strdup(path);
        if (!split)
                return -ENOMEM;
        split_path(split, &parent, &base);

        int parent_fd = open_parent(u, parent);
        if (parent_fd < 0)
                return parent_fd;

        if (startswith(base, WHITEOUT_PREFIX))
                return write_whiteout(u, parent_fd, parent, base);
        if (hardlink)
                return write_hardlink(u, ae, parent_fd, base, path);

        switch (type) {
        case AE_IFREG:
                return write_regular(u, a, ae, parent_fd, base);
        case AE_IFDIR:
                return write_directory(u, ae, parent_fd, base, path);
        case AE_IFLNK:
                return write_symlink(u, ae, parent_fd, base);
        case AE_IFCHR:
                return write_node(u, ae, parent_fd, base, S_IFCHR);
        case AE_IFBLK:
                return write_node(u, ae, parent_fd, base, S_IFBLK);
        case AE_IFIFO:
                return write_node(u, ae, parent_fd, base, S_IFIFO);
        case AE_IFSOCK:
                return 0; /* sockets are meaningless in an image */
        default:
                return entry_error(u, -EBADMSG, "unsupported entry type 0%o", (unsigned)type);
        }
}

static int apply_dir_times(Unpack *u)
{
        /* Deepest first is not needed: times of a directory change only when its children do,
         * and all children exist by now. Re-resolve each path: never trust a cached one. */
        for (size_t i = 0; i < u->n_dir_times; i++) {
                DirTime *t = &u->dir_times[i];
                _cleanup_close_ int fd = -EBADF;
                if (isempty(t->path))
                        fd = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                else
                        fd = openat_resolve(u->root_fd, t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                            RESOLVE_FLAGS | CTR_RESOLVE_NO_SYMLINKS);
                if (fd < 0)
                        continue; /* replaced or removed later in the layer */
                if (futimens(fd, t->ts) < 0) {
                        u->entry = t->path;
                        return entry_error(u, -errno, "setting directory times");
                }
        }
        return 0;
}

/* What nodes created in the layer get by themselves (see EntryMeta). */
static int unpack_creation_defaults(Unpack *u)
{
        struct stat st;

        u->euid = geteuid();
        u->egid = getegid();
        u->umask = umask(0);
        (void)umask(u->umask);
        if (fstat(u->root_fd, &st) < 0)
                return -errno;
        u->dirs_plain = true;
        note_dir_attrs(u, st.st_gid, st.st_mode);
        /* A default ACL inherited from above would decide the modes instead of the umask. */
        if (fgetxattr(u->root_fd, "system.posix_acl_default", NULL, 0) >= 0 ||
            (errno != ENODATA && errno != EOPNOTSUPP))
                u->dirs_plain = false;
        return 0;
}

static void unpack_done(Unpack *u)
{
        cache_invalidate(u);
        u->cached_fd = safe_close(u->cached_fd);
        for (size_t i = 0; i < u->n_dir_times; i++)
                free(u->dir_times[i].path);
        free(u->dir_times);
        sha256_done(&u->tar_hash);
}

int layer_unpack_fd(int blob_fd, LayerCompression c, const char *blob_digest, uint64_t blob_size,
                    const char *diff_id, int dir_fd, const UnpackOptions *o, Error *e)
{
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        Decompressor dec = {.full_fd = -EBADF, .free_fd = -EBADF, .status_fd = -EBADF, .held = -1};
        Unpack u = {
                .opts = o,
                .layer = blob_digest,
                .root_fd = dir_fd,
                .e = e,
                .cached_fd = -EBADF,
                .blob_size = blob_size,
        };
        int r;

        sha256_init(&u.tar_hash);
        r = unpack_creation_defaults(&u);
        if (r < 0) {
                unpack_done(&u);
                return error_set(e, r, "layer %s: inspecting the layer directory", blob_digest);
        }

        /* Even uncompressed layers go through the helper: it checks the blob's size and digest
         * while we unpack, so the blob is read only once. */
        r = decompressor_start(blob_fd, c, blob_size, blob_digest, &o->limits,
                               diff_id ? DECOMPRESS_STREAM_VERIFIED : 0, &dec, e);
        if (r < 0) {
                unpack_done(&u);
                return error_prefix(e, r, "layer %s", blob_digest);
        }
        u.dec = &dec;

        a = archive_read_new();
        if (!a) {
                r = error_set(e, -ENOMEM, "layer %s", blob_digest);
                goto fail;
        }
        archive_read_support_format_tar(a);
        archive_read_support_filter_none(a);
        if (archive_read_open(a, &u, NULL, read_cb, NULL) != ARCHIVE_OK) {
                r = -EBADMSG;
                goto fail_archive;
        }
        for (;;) {
                struct archive_entry *ae;
                int ar = archive_read_next_header(a, &ae);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = -EBADMSG;
                        goto fail_archive;
                }
                r = unpack_entry(&u, a, ae);
                if (r < 0)
                        goto fail;
                if (u.ended_unpadded)
                        break;
        }

        /* Drain what follows the end-of-archive marker: the digests cover the whole stream. */
        for (;;) {
                const void *p;
                ssize_t k = decompressor_read(&dec, &p);
                if (k < 0) {
                        r = error_set(e, (int)k, "layer %s: reading the stream", blob_digest);
                        goto fail;
                }
                if (k == 0)
                        break;
                sha256_update(&u.tar_hash, p, (size_t)k);
                u.tar_bytes += (size_t)k;
        }
        r = decompressor_finish(&dec, NULL, e);
        if (r < 0) {
                error_prefix(e, r, "layer %s", blob_digest);
                goto fail;
        }

        char got[DIGEST_STR_MAX];
        sha256_final(&u.tar_hash, got);
        if (diff_id && !streq(got, diff_id)) {
                r = error_set_msg(e, -EBADMSG,
                                  "layer %s: uncompressed digest %s does not match the config's diff_id %s",
                                  blob_digest, got, diff_id);
                goto fail;
        }
        r = apply_dir_times(&u);
        if (r < 0)
                goto fail;
        unpack_done(&u);
        return 0;

fail_archive : {
        /* A short or broken stream: the helper usually knows why (truncated gzip, digest, limits). */
        _cleanup_free_ char *msg = strdup(archive_error_string(a) ?: "invalid tar stream");
        r = decompressor_finish(&dec, NULL, e);
        if (r < 0)
                error_prefix(e, r, "layer %s", blob_digest);
        else
                r = error_set_msg(e, -EBADMSG, "layer %s: %s%s%s", blob_digest, strna(msg),
                                  u.n_entries > 0 ? " after entry " : "",
                                  u.n_entries > 0 ? u.last_entry : "");
        unpack_done(&u);
        return r;
}
fail : {
        /* If the helper failed first (a truncated or corrupt stream shows up here as a short
         * entry), its error is the real one. */
        _cleanup_error_ Error child = ERROR_INIT;
        int k = decompressor_finish(&dec, NULL, &child);
        if (k < 0 && k != -EPIPE) {
                if (u.n_entries > 0)
                        error_set_msg(e, k, "layer %s: %s (at entry \"%s\")", blob_digest,
                                      error_message(&child), u.last_entry);
                else
                        error_set_msg(e, k, "layer %s: %s", blob_digest, error_message(&child));
                r = k;
        }
        unpack_done(&u);
        return r;
}
}
