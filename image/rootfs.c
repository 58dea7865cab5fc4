/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layer cache (unpack once, publish by rename), overlay root filesystems, and pruning. */
#include <dirent.h>
#include <linux/mount.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "image/image-private.h"

#define LAYERS_LOCK_FILE ".lock"
#define STAGING_DIR      ".staging"
#define EMPTY_DIR        "empty"
#define RECORD_FILE      "layers"
/* Smaller blobs unpack in a moment: no writeback helper for them. */
#define SYNCER_MIN_BLOB (UINT64_C(16) << 20)

static int layers_lock(ImageStore *s, bool exclusive, int *ret_fd, Error *e)
{
        int lfd = store_layers_fd(s, e);
        if (lfd < 0)
                return lfd;
        int fd = openat(lfd, LAYERS_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_set(e, -errno, "opening %s/%s", s->layers_path, LAYERS_LOCK_FILE);
        while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
                if (errno != EINTR) {
                        int r = -errno;
                        safe_close(fd);
                        return error_set(e, r, "locking the layer cache %s", s->layers_path);
                }
        *ret_fd = fd;
        return 0;
}

int image_layer_path(ImageStore *s, const char *diff_id, char **ret)
{
        if (!digest_is_valid(diff_id))
                return -EINVAL;
        char *p = path_join(s->layers_path, "sha256", digest_hex(diff_id));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static bool layer_cached(int layers_fd, const char *diff_id)
{
        struct stat st;
        char rel[8 + SHA256_HEX_LEN];
        snprintf(rel, sizeof(rel), "sha256/%s", digest_hex(diff_id));
        return fstatat(layers_fd, rel, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
}

static int unpack_one(ImageStore *s, const Image *img, size_t idx, int layers_fd, Error *e)
{
        const ImageLayer *l = &img->layers[idx];
        _cleanup_free_ int *lower_fds = calloc(MAX(idx, 1u), sizeof(int));
        size_t n_lower = 0;
        _cleanup_close_ int staging_fd = -EBADF, blob_fd = -EBADF;
        char staging[NAME_MAX + 1], final[8 + SHA256_HEX_LEN];
        int r;

        LayerCompression c = layer_media_type_compression(l->media_type);
        if (c < 0)
                return error_set_msg(e, -EOPNOTSUPP, "layer %s: unsupported media type \"%s\"", l->digest,
                                     strna(l->media_type));
        blob_fd = blob_open(img->blobs_fd, l->digest, l->size, e);
        if (blob_fd < 0)
                return error_prefix(e, blob_fd, "layer %s", l->digest);

        if (mkdirat(layers_fd, STAGING_DIR, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "creating %s/%s", s->layers_path, STAGING_DIR);
        snprintf(staging, sizeof(staging), STAGING_DIR "/%.16s-%d-%016" PRIx64, digest_hex(l->diff_id),
                 (int)getpid(), now_usec(CLOCK_MONOTONIC));
        if (mkdirat(layers_fd, staging, 0700) < 0)
                return error_set(e, -errno, "creating %s/%s", s->layers_path, staging);
        staging_fd = openat(layers_fd, staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (staging_fd < 0) {
                r = error_set(e, -errno, "opening %s/%s", s->layers_path, staging);
                goto fail;
        }
        /* The layer root as tar would leave it when the archive has no "./" entry. */
        if (fchmod(staging_fd, 0755) < 0) {
                r = error_set(e, -errno, "chmod %s/%s", s->layers_path, staging);
                goto fail;
        }

        if (!lower_fds) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = idx; i > 0; i--) {
                char rel[8 + SHA256_HEX_LEN];
                snprintf(rel, sizeof(rel), "sha256/%s", digest_hex(img->layers[i - 1].diff_id));
                int fd = openat(layers_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        break;
                lower_fds[n_lower++] = fd;
        }

        UnpackOptions o = {
                .lower_fds = lower_fds,
                .n_lower = n_lower,
                .limits = s->limits,
                .image_name = img->reference,
                .progress = s->progress,
                .progress_userdata = s->progress_userdata,
        };
        Syncer syncer = {.pid = 0, .stop_fd = -EBADF};
        if (l->size >= SYNCER_MIN_BLOB)
                syncer_start(staging_fd, &syncer);
        r = layer_unpack_fd(blob_fd, c, l->digest, l->size, l->diff_id, staging_fd, &o, e);
        for (size_t i = 0; i < n_lower; i++)
                safe_close(lower_fds[i]);
        n_lower = 0;
        syncer_stop(&syncer);
        /* Durable before visible: a crash must not leave a published layer with files whose data
         * never reached the disk. The helper has written most of it back already. */
        if (r >= 0 && syncfs(staging_fd) < 0)
                r = error_set(e, -errno, "syncing layer %s", l->digest);
        syncer_reap(&syncer);
        if (r < 0)
                goto fail;
        snprintf(final, sizeof(final), "sha256/%s", digest_hex(l->diff_id));
        if (renameat(layers_fd, staging, layers_fd, final) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY) {
                        /* Someone else unpacked the same layer meanwhile: theirs is as good. */
                        (void)rm_rf_at(layers_fd, staging);
                        return 0;
                }
                r = error_set(e, -errno, "publishing layer %s", l->diff_id);
                goto fail;
        }
        return 1;
fail:
        for (size_t i = 0; i < n_lower; i++)
                safe_close(lower_fds[i]);
        (void)rm_rf_at(layers_fd, staging);
        return r;
}

static int unpack_locked(ImageStore *s, const Image *img, int layers_fd, Error *e)
{
        int n = 0;
        for (size_t i = 0; i < img->n_layers; i++) {
                const ImageLayer *l = &img->layers[i];
                if (layer_cached(layers_fd, l->diff_id))
                        continue;
                int r = unpack_one(s, img, i, layers_fd, e);
                if (r < 0)
                        return error_prefix(e, r, "image %s", img->reference);
                n += r;
        }
        return n;
}

int image_unpack(ImageStore *s, const Image *img, Error *e)
{
        _cleanup_close_ int lock = -EBADF;
        int r;

        int layers_fd = store_layers_fd(s, e);
        if (layers_fd < 0)
                return layers_fd;
        r = layers_lock(s, false, &lock, e);
        if (r < 0)
                return r;
        return unpack_locked(s, img, layers_fd, e);
}

/* ---------------------------------------------------------------- overlay mounts */

static int overlay_mount_new_api(ImageStore *s, const Image *img, int upper_fd, const char *cdir,
                                 const char *mountpoint, bool read_only, Error *e)
{
        _cleanup_close_ int fsfd = -EBADF, mfd = -EBADF;
        int r;

        fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        for (size_t i = img->n_layers; i > 0; i--) {
                _cleanup_free_ char *p = NULL;
                r = image_layer_path(s, img->layers[i - 1].diff_id, &p);
                if (r < 0)
                        return error_set(e, r, "layer path");
                if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", p, 0) < 0)
                        return -errno; /* kernels before 6.8: the caller falls back */
        }
        /* Without an upper directory overlayfs wants two lower ones: pad with an empty one. */
        if (img->n_layers == 0 || (upper_fd < 0 && img->n_layers < 2)) {
                _cleanup_free_ char *p = path_join(s->layers_path, EMPTY_DIR);
                if (!p || syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", p, 0) < 0)
                        return p ? -errno : -ENOMEM;
        }
        if (upper_fd >= 0) {
                _cleanup_free_ char *up = path_join(cdir, "upper"), *wp = path_join(cdir, "work");
                if (!up || !wp)
                        return -ENOMEM;
                if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
                    syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "workdir", wp, 0) < 0)
                        return error_set(e, -errno, "overlay upper/work directories in %s", cdir);
        }
        /* No inode index: an upper directory may outlive an image update. */
        (void)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "index", "off", 0);
        if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return error_set(e, -errno, "creating the overlay file system");
        mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, read_only ? MOUNT_ATTR_RDONLY : 0);
        if (mfd < 0)
                return error_set(e, -errno, "fsmount of the overlay");
        if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return error_set(e, -errno, "mounting the overlay on %s", mountpoint);
        return 0;
}

static int overlay_mount_legacy(ImageStore *s, const Image *img, bool upper, const char *cdir,
                                const char *mountpoint, bool read_only, Error *e)
{
        _cleanup_free_ char *opts = strdup("lowerdir=");
        int r;

        if (!opts)
                return -ENOMEM;
        for (size_t i = img->n_layers; i > 0; i--) {
                _cleanup_free_ char *p = NULL;
                r = image_layer_path(s, img->layers[i - 1].diff_id, &p);
                if (r < 0 || strextend_with_separator(&opts, i == img->n_layers ? "" : ":", p) < 0)
                        return -ENOMEM;
        }
        if (img->n_layers == 0 || (!upper && img->n_layers < 2)) {
                _cleanup_free_ char *p = path_join(s->layers_path, EMPTY_DIR);
                if (!p || strextend_with_separator(&opts, img->n_layers == 0 ? "" : ":", p) < 0)
                        return -ENOMEM;
        }
        if (upper) {
                _cleanup_free_ char *x = strprintf(",upperdir=%s/upper,workdir=%s/work", cdir, cdir);
                if (!x || strextend_with_separator(&opts, "", x) < 0)
                        return -ENOMEM;
        }
        if (strextend_with_separator(&opts, "", ",index=off") < 0)
                return -ENOMEM;
        if (strlen(opts) >= 4096)
                return error_set_msg(e, -E2BIG, "too many layers for this kernel's overlay mount options");
        if (mount("overlay", mountpoint, "overlay", read_only ? MS_RDONLY : 0, opts) < 0)
                return error_set(e, -errno, "mounting the overlay on %s", mountpoint);
        return 0;
}

static int write_record(int cfd, const Image *img, Error *e)
{
        _cleanup_free_ char *text = strprintf("# layers used by this container's rootfs (image %s, %s)\n",
                                              img->reference, img->manifest_digest);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < img->n_layers; i++)
                if (strextend_with_separator(&text, "", img->layers[i].diff_id) < 0 ||
                    strextend_with_separator(&text, "", "\n") < 0)
                        return -ENOMEM;
        /* Restarts of the same container find it unchanged: skip the two fsync()s. */
        _cleanup_free_ char *old = NULL;
        if (read_full_file_at(cfd, RECORD_FILE, 1 << 20, &old, NULL) >= 0 && streq(old, text))
                return 0;
        int r = write_file_atomic_at(cfd, RECORD_FILE, text, strlen(text), 0600);
        return r < 0 ? error_set(e, r, "writing the layer record") : 0;
}

int image_rootfs_mount(ImageStore *s, const Image *img, const char *name, const char *mountpoint,
                       ImageRootfsFlags flags, Error *e)
{
        _cleanup_close_ int lock = -EBADF, cfd = -EBADF, upper_fd = -EBADF;
        _cleanup_free_ char *cdir = NULL;
        bool ro = flags & IMAGE_ROOTFS_READ_ONLY;
        int r;

        if (!filename_is_valid(name))
                return error_set_msg(e, -EINVAL, "invalid container name \"%s\"", name);
        int layers_fd = store_layers_fd(s, e);
        if (layers_fd < 0)
                return layers_fd;
        r = layers_lock(s, false, &lock, e);
        if (r < 0)
                return r;
        r = unpack_locked(s, img, layers_fd, e);
        if (r < 0)
                return r;
        if (mkdirat(layers_fd, EMPTY_DIR, 0755) < 0 && errno != EEXIST)
                return error_set(e, -errno, "creating %s/%s", s->layers_path, EMPTY_DIR);

        r = mkdir_p(s->containers_path, 0700);
        if (r < 0)
                return error_set(e, r, "creating %s", s->containers_path);
        cdir = path_join(s->containers_path, name);
        if (!cdir)
                return -ENOMEM;
        if (mkdir(cdir, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "creating %s", cdir);
        cfd = open(cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return error_set(e, -errno, "opening %s", cdir);
        if ((flags & IMAGE_ROOTFS_FRESH) || ro) {
                r = rm_rf_at(cfd, "work");
                if (r >= 0 && (flags & IMAGE_ROOTFS_FRESH))
                        r = rm_rf_at(cfd, "upper");
                if (r < 0)
                        return error_set(e, r, "removing the old upper directory in %s", cdir);
        }
        if (!ro) {
                if ((mkdirat(cfd, "upper", 0755) < 0 && errno != EEXIST) ||
                    (mkdirat(cfd, "work", 0700) < 0 && errno != EEXIST))
                        return error_set(e, -errno, "creating upper/work in %s", cdir);
                upper_fd = openat(cfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (upper_fd < 0)
                        return error_set(e, -errno, "opening %s/upper", cdir);
        }
        /* The record first: from now on prune keeps these layers. */
        r = write_record(cfd, img, e);
        if (r < 0)
                return r;

        r = overlay_mount_new_api(s, img, upper_fd, cdir, mountpoint, ro, e);
        if (r == -ENOSYS || r == -EINVAL || r == -EOPNOTSUPP) {
                error_done(e);
                r = overlay_mount_legacy(s, img, upper_fd >= 0, cdir, mountpoint, ro, e);
        }
        if (r < 0)
                return error_prefix(e, r, "image %s: rootfs of %s", img->reference, name);
        return 0;
}

int image_rootfs_umount(const char *mountpoint, Error *e)
{
        if (umount2(mountpoint, UMOUNT_NOFOLLOW) >= 0)
                return 0;
        if (errno == EINVAL || errno == ENOENT)
                return 0;
        if (errno == EBUSY && umount2(mountpoint, UMOUNT_NOFOLLOW | MNT_DETACH) >= 0)
                return 0;
        return error_set(e, -errno, "unmounting %s", mountpoint);
}

int image_rootfs_remove(ImageStore *s, const char *name, Error *e)
{
        if (!filename_is_valid(name))
                return error_set_msg(e, -EINVAL, "invalid container name \"%s\"", name);
        _cleanup_close_ int fd = open(s->containers_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : error_set(e, -errno, "opening %s", s->containers_path);
        int r = rm_rf_at(fd, name);
        if (r < 0)
                return error_set(e, r, "removing %s/%s", s->containers_path, name);
        return 0;
}

/* ---------------------------------------------------------------- prune */

typedef struct DigestSet {
        char **items; /* hex digests, sorted after set_seal() */
        size_t n, alloc;
} DigestSet;

static int set_add(DigestSet *set, const char *digest)
{
        if (!digest_is_valid(digest))
                return 0;
        if (set->n == set->alloc) {
                size_t n = set->alloc ? set->alloc * 2 : 64;
                char **l = realloc(set->items, n * sizeof(char *));
                if (!l)
                        return -ENOMEM;
                set->items = l;
                set->alloc = n;
        }
        set->items[set->n] = strdup(digest_hex(digest));
        if (!set->items[set->n])
                return -ENOMEM;
        set->n++;
        return 0;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_seal(DigestSet *set)
{
        if (set->n > 0)
                qsort(set->items, set->n, sizeof(char *), str_cmp);
}

static bool set_contains(const DigestSet *set, const char *hex)
{
        return set->n > 0 && bsearch(&hex, set->items, set->n, sizeof(char *), str_cmp);
}

static void set_done(DigestSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                free(set->items[i]);
        free(set->items);
}

/* Marks a descriptor's blob and everything it references (all platforms of an index). */
static int mark(ImageStore *s, const Descriptor *d, DigestSet *blobs, DigestSet *layers, unsigned depth)
{
        _cleanup_free_ char *json = NULL;
        size_t n;
        int r;

        r = set_add(blobs, d->digest);
        if (r < 0)
                return r;
        DocKind kind = media_type_kind(d->media_type);
        if (kind != DOC_INDEX && kind != DOC_MANIFEST && d->media_type)
                return 0;
        if (depth > MAX_INDEX_DEPTH)
                return 0;
        if (blob_read_verified(s->blobs_fd, d->digest, d->size, s->limits.max_json_size, &json, &n, NULL) <
            0)
                return 0; /* missing or broken: nothing below it can be found */
        if (kind == DOC_OTHER)
                kind = document_sniff_kind(json, n);
        if (kind == DOC_INDEX) {
                IndexDoc idx = {};
                if (index_parse(json, n, d->media_type, &idx, NULL) < 0)
                        return 0;
                for (size_t i = 0; i < idx.n_manifests && r >= 0; i++)
                        r = mark(s, &idx.manifests[i], blobs, layers, depth + 1);
                index_doc_done(&idx);
                return r;
        }
        if (kind != DOC_MANIFEST)
                return 0;
        ManifestDoc m = {};
        if (manifest_parse(json, n, d->media_type, &m, NULL) < 0)
                return 0;
        r = set_add(blobs, m.config.digest);
        for (size_t i = 0; i < m.n_layers && r >= 0; i++)
                r = set_add(blobs, m.layers[i].digest);
        if (r >= 0) {
                _cleanup_free_ char *cfg = NULL;
                _cleanup_strv_free_ char **diff_ids = NULL;
                ImageConfig c = {};
                if (blob_read_verified(s->blobs_fd, m.config.digest, m.config.size, s->limits.max_json_size,
                                       &cfg, &n, NULL) >= 0 &&
                    config_parse(cfg, n, &c, &diff_ids, NULL) >= 0) {
                        STRV_FOREACH (id, diff_ids)
                                if (r >= 0)
                                        r = set_add(layers, *id);
                        image_config_done(&c);
                }
        }
        manifest_doc_done(&m);
        return r;
}

static int mark_container_records(ImageStore *s, DigestSet *layers)
{
        _cleanup_closedir_ DIR *d = opendir(s->containers_path);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *rel = path_join(de->d_name, RECORD_FILE), *text = NULL;
                if (!rel)
                        return -ENOMEM;
                if (read_full_file_at(dirfd(d), rel, 1 << 20, &text, NULL) < 0)
                        continue;
                _cleanup_strv_free_ char **lines = strv_split(text, "\n");
                STRV_FOREACH (l, lines) {
                        int r = set_add(layers, *l);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int image_prune(ImageStore *s, char *const *in_use, ImagePruneStats *ret, Error *e)
{
        _cleanup_close_ int slock = -EBADF, llock = -EBADF;
        DigestSet blobs = {}, layers = {};
        ImagePruneStats stats = {};
        IndexDoc idx = {};
        int r;

        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        r = store_lock(s, true, &slock, e);
        if (r < 0)
                return r;
        int layers_fd = store_layers_fd(s, e);
        if (layers_fd < 0)
                return layers_fd;
        r = layers_lock(s, true, &llock, e);
        if (r < 0)
                return r;

        /* Read index.json before anything else: if it cannot be read, remove nothing. */
        r = store_read_index(s, &idx, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < idx.n_manifests && r >= 0; i++)
                r = mark(s, &idx.manifests[i], &blobs, &layers, 0);
        index_doc_done(&idx);
        STRV_FOREACH (ref, (char **)in_use) {
                if (r < 0)
                        break;
                _cleanup_image_ Image *img = NULL;
                if (image_resolve(s, *ref, &img, NULL) < 0)
                        continue;
                r = set_add(&blobs, img->manifest_digest);
                if (r >= 0 && img->index_digest)
                        r = set_add(&blobs, img->index_digest);
                if (r >= 0)
                        r = set_add(&blobs, img->config_digest);
                for (size_t i = 0; i < img->n_layers && r >= 0; i++) {
                        r = set_add(&blobs, img->layers[i].digest);
                        if (r >= 0)
                                r = set_add(&layers, img->layers[i].diff_id);
                }
        }
        if (r >= 0)
                r = mark_container_records(s, &layers);
        if (r < 0) {
                error_set(e, r, "collecting the images in use");
                goto finish;
        }
        set_seal(&blobs);
        set_seal(&layers);

        /* Blobs. */
        {
                int dfd = fcntl(s->blobs_fd, F_DUPFD_CLOEXEC, 3);
                DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
                struct dirent *de;
                if (!d) {
                        safe_close(dfd);
                        r = error_set(e, -errno, "reading %s/blobs/sha256", s->path);
                        goto finish;
                }
                rewinddir(d);
                while ((de = readdir(d))) {
                        struct stat st;
                        if (!hex_is_valid(de->d_name, SHA256_HEX_LEN, SHA256_HEX_LEN) ||
                            set_contains(&blobs, de->d_name))
                                continue;
                        if (fstatat(s->blobs_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISREG(st.st_mode))
                                continue;
                        if (unlinkat(s->blobs_fd, de->d_name, 0) >= 0) {
                                stats.blobs_removed++;
                                stats.blob_bytes_removed += (uint64_t)st.st_size;
                        }
                }
                closedir(d);
        }
        /* Leftovers of killed imports (we hold the exclusive lock: nobody is importing). */
        (void)rm_rf_at(s->dir_fd, ".ctrmgr-tmp");

        /* Layer caches. */
        {
                int dfd = openat(layers_fd, "sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
                struct dirent *de;
                if (d) {
                        while ((de = readdir(d))) {
                                if (!hex_is_valid(de->d_name, SHA256_HEX_LEN, SHA256_HEX_LEN) ||
                                    set_contains(&layers, de->d_name))
                                        continue;
                                /* Rename out of the way first, so a half-removed layer is never
                                 * mistaken for a complete one. */
                                char tmp[2 * NAME_MAX];
                                snprintf(tmp, sizeof(tmp), "%s/prune-%s", STAGING_DIR, de->d_name);
                                (void)mkdirat(layers_fd, STAGING_DIR, 0700);
                                char src[2 * NAME_MAX];
                                snprintf(src, sizeof(src), "sha256/%s", de->d_name);
                                if (renameat(layers_fd, src, layers_fd, tmp) >= 0)
                                        stats.layers_removed++;
                        }
                        closedir(d);
                } else
                        safe_close(dfd);
                int sfd = openat(layers_fd, STAGING_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *sd = sfd >= 0 ? fdopendir(sfd) : NULL;
                if (sd) {
                        while ((de = readdir(sd))) {
                                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                        continue;
                                if (rm_rf_at(sfd, de->d_name) >= 0 && !startswith(de->d_name, "prune-"))
                                        stats.staging_removed++;
                        }
                        closedir(sd);
                } else
                        safe_close(sfd);
        }
        if (ret)
                *ret = stats;
        r = 0;
finish:
        set_done(&blobs);
        set_done(&layers);
        return r;
}
