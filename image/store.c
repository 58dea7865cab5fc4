/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI image layout store: opening, locks, blobs, index.json, reference resolution. */
#include <sys/file.h>
#include <sys/stat.h>

#include "image/image-private.h"

#define LOCK_FILE        ".ctrmgr-lock"
#define INDEX_LOCK_FILE  ".ctrmgr-index-lock"
#define TMP_DIR          ".ctrmgr-tmp"
#define OCI_LAYOUT_JSON  "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX_JSON "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[]}"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

void image_limits_fill(ImageLimits *l)
{
        if (l->max_layer_size == 0)
                l->max_layer_size = UINT64_C(64) << 30;
        if (l->max_entries == 0)
                l->max_entries = 4000000;
        if (l->max_ratio == 0)
                l->max_ratio = 1000;
        if (l->max_blob_size == 0)
                l->max_blob_size = UINT64_C(64) << 30;
        if (l->max_json_size == 0)
                l->max_json_size = 4 << 20;
}

/* ---------------------------------------------------------------- open / free */

static int ensure_file_at(int dfd, const char *name, const char *content)
{
        if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        if (errno != ENOENT)
                return -errno;
        return write_file_atomic_at(dfd, name, content, strlen(content), 0644);
}

/* Whether path names the default store: the same path once simplified, or the same directory (a
 * symlink or bind mount of it). Nothing is created to find out. */
static bool store_is_default(const char *path)
{
        struct stat a, b;

        if (!path)
                return true;
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return false; /* then the store keeps its caches to itself, which is always safe */
        if (streq(path_simplify(p), IMAGE_DEFAULT_STORE_DIR))
                return true;
        return stat(path, &a) >= 0 && stat(IMAGE_DEFAULT_STORE_DIR, &b) >= 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

int image_store_open(const ImageStoreOptions *opts, ImageStore **ret, Error *e)
{
        static const ImageStoreOptions defaults = {};
        _cleanup_image_store_ ImageStore *s = NULL;
        int r;

        if (!opts)
                opts = &defaults;
        s = calloc(1, sizeof(*s));
        if (!s)
                return error_set(e, -ENOMEM, "opening image store");
        s->dir_fd = s->blobs_fd = s->layers_fd = -EBADF;
        s->path = strdup(opts->store_dir ?: IMAGE_DEFAULT_STORE_DIR);
        if (!s->path)
                return error_set(e, -ENOMEM, "opening image store");
        bool host = store_is_default(opts->store_dir);
        s->layers_path = opts->layers_dir ? strdup(opts->layers_dir)
                         : host           ? strdup(IMAGE_DEFAULT_LAYERS_DIR)
                                          : path_join(s->path, IMAGE_STORE_LAYERS_SUBDIR);
        s->containers_path = opts->containers_dir ? strdup(opts->containers_dir)
                             : host               ? strdup(IMAGE_DEFAULT_CONTAINERS_DIR)
                                                  : path_join(s->path, IMAGE_STORE_CONTAINERS_SUBDIR);
        if (!s->path || !s->layers_path || !s->containers_path)
                return error_set(e, -ENOMEM, "opening image store");
        s->read_only = opts->read_only;
        s->limits = opts->limits;
        image_limits_fill(&s->limits);
        s->progress = opts->progress;
        s->progress_userdata = opts->progress_userdata;

        if (opts->create && !opts->read_only) {
                r = mkdir_p(s->path, 0700);
                if (r < 0)
                        return error_set(e, r, "creating image store %s", s->path);
        }
        s->dir_fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0)
                return error_set(e, -errno, "opening image store %s", s->path);

        if (opts->create && !opts->read_only) {
                if (mkdirat(s->dir_fd, "blobs", 0755) < 0 && errno != EEXIST)
                        return error_set(e, -errno, "creating %s/blobs", s->path);
                if (mkdirat(s->dir_fd, "blobs/sha256", 0755) < 0 && errno != EEXIST)
                        return error_set(e, -errno, "creating %s/blobs/sha256", s->path);
                r = ensure_file_at(s->dir_fd, "oci-layout", OCI_LAYOUT_JSON);
                if (r >= 0)
                        r = ensure_file_at(s->dir_fd, "index.json", EMPTY_INDEX_JSON);
                if (r < 0)
                        return error_set(e, r, "initializing OCI layout %s", s->path);
        }

        if (faccessat(s->dir_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set_msg(e, -ENOMEDIUM, "%s is not an OCI image layout (no oci-layout file)",
                                     s->path);
        s->blobs_fd = openat(s->dir_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (s->blobs_fd < 0) {
                if (errno != ENOENT || s->read_only)
                        return error_set(e, -errno, "opening %s/blobs/sha256", s->path);
                /* A layout that has no blobs yet (skopeo creates the directory lazily). */
                (void)mkdirat(s->dir_fd, "blobs", 0755);
                if (mkdirat(s->dir_fd, "blobs/sha256", 0755) < 0 && errno != EEXIST)
                        return error_set(e, -errno, "creating %s/blobs/sha256", s->path);
                s->blobs_fd =
                        openat(s->dir_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (s->blobs_fd < 0)
                        return error_set(e, -errno, "opening %s/blobs/sha256", s->path);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

ImageStore *image_store_free(ImageStore *s)
{
        if (!s)
                return NULL;
        safe_close(s->dir_fd);
        safe_close(s->blobs_fd);
        safe_close(s->layers_fd);
        free(s->path);
        free(s->layers_path);
        free(s->containers_path);
        free(s);
        return NULL;
}

const char *image_store_path(const ImageStore *s)
{
        return s->path;
}

const char *image_store_layers_path(const ImageStore *s)
{
        return s->layers_path;
}

const char *image_store_containers_path(const ImageStore *s)
{
        return s->containers_path;
}

int store_layers_fd(ImageStore *s, Error *e)
{
        int r;

        if (s->layers_fd >= 0)
                return s->layers_fd;
        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        r = mkdir_p(s->layers_path, 0700);
        if (r < 0)
                return error_set(e, r, "creating layer cache %s", s->layers_path);
        int fd = open(s->layers_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(e, -errno, "opening layer cache %s", s->layers_path);
        /* Layers hold setuid binaries and device nodes: no other user may reach them. */
        (void)fchmod(fd, 0700);
        if (mkdirat(fd, "sha256", 0700) < 0 && errno != EEXIST) {
                r = error_set(e, -errno, "creating %s/sha256", s->layers_path);
                safe_close(fd);
                return r;
        }
        s->layers_fd = fd;
        return fd;
}

int store_open_tmp_dir(ImageStore *s, Error *e)
{
        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        if (mkdirat(s->dir_fd, TMP_DIR, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "creating %s/%s", s->path, TMP_DIR);
        int fd = openat(s->dir_fd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return error_set(e, -errno, "opening %s/%s", s->path, TMP_DIR);
        return fd;
}

static int lock_file_at(int dfd, const char *name, const char *what, bool exclusive, int *ret_fd, Error *e)
{
        int fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_set(e, -errno, "opening lock file %s/%s", what, name);
        while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
                if (errno == EINTR)
                        continue;
                int r = -errno;
                safe_close(fd);
                return error_set(e, r, "locking %s", what);
        }
        *ret_fd = fd;
        return 0;
}

int store_lock(ImageStore *s, bool exclusive, int *ret_fd, Error *e)
{
        if (s->read_only) {
                *ret_fd = -EBADF;
                return 0;
        }
        return lock_file_at(s->dir_fd, LOCK_FILE, s->path, exclusive, ret_fd, e);
}

/* ---------------------------------------------------------------- blobs */

bool blob_exists(int blobs_fd, const char *digest)
{
        struct stat st;
        return digest_is_valid(digest) &&
               fstatat(blobs_fd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

int blob_open(int blobs_fd, const char *digest, uint64_t expected_size, Error *e)
{
        struct stat st;

        if (!digest_is_valid(digest))
                return error_set_msg(e, -EINVAL, "invalid digest");
        int fd = openat(blobs_fd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return error_set(e, -errno, "blob %s", digest);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                safe_close(fd);
                return error_set_msg(e, -EBADMSG, "blob %s: not a regular file", digest);
        }
        if (expected_size != UINT64_MAX && (uint64_t)st.st_size != expected_size) {
                safe_close(fd);
                return error_set_msg(e, -EBADMSG,
                                     "blob %s: size %" PRIu64 " does not match the expected %" PRIu64,
                                     digest, (uint64_t)st.st_size, expected_size);
        }
        return fd;
}

int blob_read_verified(int blobs_fd, const char *digest, uint64_t expected_size, size_t max_size, char **ret,
                       size_t *ret_size, Error *e)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        char got[DIGEST_STR_MAX];
        size_t n;
        int r;

        if (expected_size != UINT64_MAX && expected_size > max_size)
                return error_set_msg(e, -EFBIG, "blob %s: too large for a JSON document (%" PRIu64 " bytes)",
                                     digest, expected_size);
        fd = blob_open(blobs_fd, digest, expected_size, e);
        if (fd < 0)
                return fd;
        r = read_full_fd(fd, max_size, &buf, &n);
        if (r < 0)
                return error_set(e, r, "reading blob %s", digest);
        if (expected_size != UINT64_MAX && n != expected_size)
                return error_set_msg(e, -EBADMSG, "blob %s: size changed while reading", digest);
        sha256_buffer(buf, n, got);
        if (!streq(got, digest))
                return error_set_msg(e, -EBADMSG, "blob %s: digest mismatch: expected %s, got %s", digest,
                                     digest, got);
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int blob_writer_open(ImageStore *s, BlobWriter *w, Error *e)
{
        int r;

        *w = (BlobWriter){.fd = -EBADF, .tmp_dir_fd = -EBADF};
        r = store_open_tmp_dir(s, e);
        if (r < 0)
                return r;
        w->tmp_dir_fd = r;
        for (unsigned attempt = 0;; attempt++) {
                free(w->tmp_name);
                w->tmp_name =
                        strprintf("blob-%d-%016" PRIx64, (int)getpid(),
                                  (uint64_t)(now_usec(CLOCK_MONOTONIC) ^ (attempt * 0x9e3779b97f4a7c15ULL)));
                if (!w->tmp_name) {
                        blob_writer_done(w);
                        return error_set(e, -ENOMEM, "writing blob");
                }
                w->fd = openat(w->tmp_dir_fd, w->tmp_name,
                               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (w->fd >= 0)
                        break;
                if (errno != EEXIST || attempt > 100) {
                        r = error_set(e, -errno, "creating temporary blob in %s/%s", s->path, TMP_DIR);
                        blob_writer_done(w);
                        return r;
                }
        }
        sha256_init(&w->hash);
        return 0;
}

int blob_writer_write(BlobWriter *w, const void *p, size_t n, Error *e)
{
        int r = loop_write(w->fd, p, n);
        if (r < 0)
                return error_set(e, r, "writing blob");
        sha256_update(&w->hash, p, n);
        w->size += n;
        return 0;
}

int blob_writer_commit(ImageStore *s, BlobWriter *w, const char *expected_digest, uint64_t expected_size,
                       char *ret_digest, Error *e)
{
        char got[DIGEST_STR_MAX];

        sha256_final(&w->hash, got);
        if (expected_size != UINT64_MAX && w->size != expected_size)
                return error_set_msg(e, -EBADMSG,
                                     "blob %s: size %" PRIu64 " does not match the expected %" PRIu64,
                                     expected_digest ?: got, w->size, expected_size);
        if (expected_digest && !streq(expected_digest, got))
                return error_set_msg(e, -EBADMSG, "blob %s: digest mismatch: expected %s, got %s",
                                     expected_digest, expected_digest, got);
        if (fsync(w->fd) < 0)
                return error_set(e, -errno, "syncing blob %s", got);
        w->fd = safe_close(w->fd);
        if (renameat(w->tmp_dir_fd, w->tmp_name, s->blobs_fd, digest_hex(got)) < 0)
                return error_set(e, -errno, "storing blob %s", got);
        w->tmp_name = mfree(w->tmp_name);
        if (ret_digest)
                memcpy(ret_digest, got, DIGEST_STR_MAX);
        return 0;
}

void blob_writer_done(BlobWriter *w)
{
        w->fd = safe_close(w->fd);
        if (w->tmp_name && w->tmp_dir_fd >= 0)
                (void)unlinkat(w->tmp_dir_fd, w->tmp_name, 0);
        w->tmp_name = mfree(w->tmp_name);
        w->tmp_dir_fd = safe_close(w->tmp_dir_fd);
        sha256_done(&w->hash);
}

int blob_write_buffer(ImageStore *s, const void *p, size_t n, char *ret_digest, Error *e)
{
        BlobWriter w;
        char d[DIGEST_STR_MAX];
        int r;

        sha256_buffer(p, n, d);
        if (blob_exists(s->blobs_fd, d)) {
                if (ret_digest)
                        memcpy(ret_digest, d, DIGEST_STR_MAX);
                return 0;
        }
        r = blob_writer_open(s, &w, e);
        if (r < 0)
                return r;
        r = blob_writer_write(&w, p, n, e);
        if (r >= 0)
                r = blob_writer_commit(s, &w, d, n, ret_digest, e);
        blob_writer_done(&w);
        return r;
}

/* ---------------------------------------------------------------- loading images */

int image_load_manifest(int blobs_fd, const Descriptor *d, size_t max_json, Image *img, Error *e)
{
        _cleanup_free_ char *json = NULL, *cfg_json = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL;
        ManifestDoc m = {};
        size_t n;
        int r;

        r = blob_read_verified(blobs_fd, d->digest, d->size, max_json, &json, &n, e);
        if (r < 0)
                return error_prefix(e, r, "manifest");
        r = manifest_parse(json, n, d->media_type, &m, e);
        if (r < 0)
                return error_prefix(e, r, "manifest %s", d->digest);
        r = blob_read_verified(blobs_fd, m.config.digest, m.config.size, max_json, &cfg_json, &n, e);
        if (r < 0) {
                error_prefix(e, r, "config");
                goto finish;
        }
        r = config_parse(cfg_json, n, &img->config, &diff_ids, e);
        if (r < 0) {
                error_prefix(e, r, "config %s", m.config.digest);
                goto finish;
        }
        if (strv_length(diff_ids) != m.n_layers) {
                r = error_set_msg(e, -EBADMSG, "manifest %s lists %zu layers but config %s has %zu diff_ids",
                                  d->digest, m.n_layers, m.config.digest, strv_length(diff_ids));
                goto finish;
        }
        img->layers = calloc(MAX(m.n_layers, 1u), sizeof(ImageLayer));
        if (!img->layers) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < m.n_layers; i++) {
                img->layers[i].digest = TAKE_PTR(m.layers[i].digest);
                img->layers[i].media_type = TAKE_PTR(m.layers[i].media_type);
                img->layers[i].size = m.layers[i].size;
                img->layers[i].diff_id = TAKE_PTR(diff_ids[i]);
        }
        img->n_layers = m.n_layers;
        free(img->manifest_digest);
        img->manifest_digest = strdup(d->digest);
        img->config_digest = TAKE_PTR(m.config.digest);
        img->manifest_size = d->size;
        if (!img->manifest_digest)
                r = -ENOMEM;
finish:
        manifest_doc_done(&m);
        return r;
}

static int load_descriptor_depth(int blobs_fd, const Descriptor *d, size_t max_json, Image *img,
                                 unsigned depth, Error *e)
{
        DocKind kind = media_type_kind(d->media_type);
        int r;

        if (kind == DOC_OTHER && !d->media_type) {
                /* Some writers leave the media type out: look at the document itself. */
                _cleanup_free_ char *json = NULL;
                size_t n;
                r = blob_read_verified(blobs_fd, d->digest, d->size, max_json, &json, &n, e);
                if (r < 0)
                        return r;
                kind = document_sniff_kind(json, n);
        }
        if (kind == DOC_MANIFEST)
                return image_load_manifest(blobs_fd, d, max_json, img, e);
        if (kind != DOC_INDEX)
                return error_set_msg(e, -EOPNOTSUPP, "%s: unsupported media type \"%s\"", d->digest,
                                     strna(d->media_type));
        if (depth >= MAX_INDEX_DEPTH)
                return error_set_msg(e, -ELOOP, "index %s: indexes nested too deeply", d->digest);

        _cleanup_free_ char *json = NULL;
        IndexDoc idx = {};
        size_t n, sel;
        r = blob_read_verified(blobs_fd, d->digest, d->size, max_json, &json, &n, e);
        if (r < 0)
                return error_prefix(e, r, "index");
        r = index_parse(json, n, d->media_type, &idx, e);
        if (r < 0)
                return error_prefix(e, r, "index %s", d->digest);
        const Platform *p = platform_host();
        r = platform_select(idx.manifests, idx.n_manifests, p, &sel);
        if (r < 0) {
                r = error_set_msg(e, -ENXIO, "index %s: no manifest for platform %s/%s%s%s", d->digest,
                                  p->os, p->architecture, p->variant ? "/" : "", strempty(p->variant));
                goto finish;
        }
        if (!img->index_digest && !(img->index_digest = strdup(d->digest))) {
                r = -ENOMEM;
                goto finish;
        }
        r = load_descriptor_depth(blobs_fd, &idx.manifests[sel], max_json, img, depth + 1, e);
finish:
        index_doc_done(&idx);
        return r;
}

int image_load_descriptor(int blobs_fd, const Descriptor *d, size_t max_json, Image *img, Error *e)
{
        return load_descriptor_depth(blobs_fd, d, max_json, img, 0, e);
}

Image *image_free(Image *img)
{
        if (!img)
                return NULL;
        free(img->reference);
        free(img->name);
        free(img->index_digest);
        free(img->manifest_digest);
        free(img->config_digest);
        image_config_done(&img->config);
        for (size_t i = 0; i < img->n_layers; i++) {
                free(img->layers[i].digest);
                free(img->layers[i].media_type);
                free(img->layers[i].diff_id);
        }
        free(img->layers);
        safe_close(img->blobs_fd);
        free(img);
        return NULL;
}

/* ---------------------------------------------------------------- index.json */

int store_read_index(ImageStore *s, IndexDoc *ret, Error *e)
{
        _cleanup_free_ char *json = NULL;
        size_t n;
        int r;

        r = read_full_file_at(s->dir_fd, "index.json", s->limits.max_json_size, &json, &n);
        if (r < 0)
                return error_set(e, r, "reading %s/index.json", s->path);
        r = index_parse(json, n, NULL, ret, e);
        if (r < 0)
                return error_prefix(e, r, "%s/index.json", s->path);
        return 0;
}

/* "docker.io/library/busybox" and "busybox" name the same image; so do "localhost/x" and "x".
 * A name without tag or digest means ":latest". */
static char *reference_normalize(const char *ref)
{
        const char *p = ref;
        static const char *const prefixes[] = {
                "docker.io/library/", "index.docker.io/library/", "registry-1.docker.io/library/",
                "docker.io/",         "index.docker.io/",         "localhost/"};
        FOREACH_ARRAY (pre, prefixes, ELEMENTSOF(prefixes)) {
                const char *q = startswith(p, *pre);
                if (q && *q) {
                        p = q;
                        break;
                }
        }
        const char *slash = strrchr(p, '/');
        const char *last = slash ? slash + 1 : p;
        if (strchr(last, ':') || strchr(last, '@'))
                return strdup(p);
        return strjoin(p, ":latest");
}

static bool reference_matches(const char *want, const char *have)
{
        if (!have)
                return false;
        if (streq(want, have))
                return true;
        _cleanup_free_ char *a = reference_normalize(want), *b = reference_normalize(have);
        return a && b && streq(a, b);
}

static bool descriptor_named(const Descriptor *d, const char *ref)
{
        return reference_matches(ref, d->ref_name) || reference_matches(ref, d->containerd_name);
}

typedef enum RefKind {
        REF_NAME,
        REF_DIGEST,       /* exact digest */
        REF_DIGEST_PREFIX /* hex prefix */
} RefKind;

static int reference_classify(const char *ref, RefKind *ret_kind, char **ret_value)
{
        const char *at = strchr(ref, '@');
        char *v;

        if (at) {
                if (at == ref || !digest_is_valid(at + 1))
                        return -EINVAL;
                *ret_kind = REF_DIGEST;
                v = strdup(at + 1);
        } else if (startswith(ref, "sha256:")) {
                if (digest_is_valid(ref)) {
                        *ret_kind = REF_DIGEST;
                        v = strdup(ref);
                } else if (hex_is_valid(ref + 7, 12, SHA256_HEX_LEN)) {
                        *ret_kind = REF_DIGEST_PREFIX;
                        v = strdup(ref + 7);
                } else
                        return -EINVAL;
        } else if (hex_is_valid(ref, 12, SHA256_HEX_LEN)) {
                if (strlen(ref) == SHA256_HEX_LEN) {
                        *ret_kind = REF_DIGEST;
                        v = strjoin("sha256:", ref);
                } else {
                        *ret_kind = REF_DIGEST_PREFIX;
                        v = strdup(ref);
                }
        } else {
                if (isempty(ref) || string_has_cc(ref) || strchr(ref, ' '))
                        return -EINVAL;
                *ret_kind = REF_NAME;
                v = strdup(ref);
        }
        if (!v)
                return -ENOMEM;
        *ret_value = v;
        return 0;
}

/* Finds the index.json entry (or blob) a reference names. ret gets a copy of the descriptor. */
static int store_find(ImageStore *s, const IndexDoc *idx, const char *ref, bool allow_only_one,
                      Descriptor *ret, Error *e)
{
        _cleanup_free_ char *value = NULL;
        _cleanup_free_ size_t *matches = NULL;
        size_t n_matches = 0;
        RefKind kind;
        int r;

        if (isempty(ref)) {
                if (!allow_only_one)
                        return error_set_msg(e, -EINVAL, "empty image reference");
                if (idx->n_manifests != 1)
                        return error_set_msg(e, -ENOENT, "%s lists %zu images; name one", s->path,
                                             idx->n_manifests);
                matches = malloc(sizeof(size_t));
                if (!matches)
                        return -ENOMEM;
                matches[n_matches++] = 0;
                goto found;
        }

        r = reference_classify(ref, &kind, &value);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *esc = cescape(ref);
                return error_set_msg(e, -EINVAL, "invalid image reference \"%s\"", strna(esc));
        }
        matches = calloc(MAX(idx->n_manifests, 1u), sizeof(size_t));
        if (!matches)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const Descriptor *d = &idx->manifests[i];
                bool m = kind == REF_NAME     ? descriptor_named(d, value)
                         : kind == REF_DIGEST ? streq(d->digest, value)
                                              : !!startswith(digest_hex(d->digest), value);
                if (m)
                        matches[n_matches++] = i;
        }
        if (n_matches == 0 && kind == REF_DIGEST) {
                /* Not listed: a manifest or index blob of the store is fine too. */
                struct stat st;
                if (fstatat(s->blobs_fd, digest_hex(value), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        return error_set_msg(e, -ENOENT, "image %s not found in %s", ref, s->path);
                *ret = (Descriptor){.digest = TAKE_PTR(value), .size = (uint64_t)st.st_size};
                return 0;
        }
        if (n_matches == 0)
                return error_set_msg(e, -ENOENT, "image %s not found in %s", ref, s->path);
        if (kind == REF_DIGEST_PREFIX) {
                for (size_t i = 1; i < n_matches; i++)
                        if (!streq(idx->manifests[matches[i]].digest, idx->manifests[matches[0]].digest))
                                return error_set_msg(e, -ENOTUNIQ, "digest prefix %s is ambiguous in %s",
                                                     ref, s->path);
                n_matches = 1;
        }

found:;
        size_t pick = 0;
        if (n_matches > 1) {
                /* Several entries of one name: one per platform, as an index would. */
                _cleanup_free_ Descriptor *cand = calloc(n_matches, sizeof(Descriptor));
                if (!cand)
                        return -ENOMEM;
                for (size_t i = 0; i < n_matches; i++)
                        cand[i] = idx->manifests[matches[i]];
                r = platform_select(cand, n_matches, platform_host(), &pick);
                if (r < 0)
                        return error_set_msg(e, -ENXIO, "image %s: no entry for this platform", ref);
        }
        const Descriptor *d = &idx->manifests[matches[pick]];
        Descriptor c = {.size = d->size};
        c.digest = strdup(d->digest);
        c.media_type = d->media_type ? strdup(d->media_type) : NULL;
        c.ref_name = d->ref_name          ? strdup(d->ref_name)
                     : d->containerd_name ? strdup(d->containerd_name)
                                          : NULL;
        if (!c.digest || (d->media_type && !c.media_type) ||
            ((d->ref_name || d->containerd_name) && !c.ref_name)) {
                descriptor_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static int resolve_in(ImageStore *s, const char *ref, bool allow_only_one, const char *display_ref,
                      Image **ret, Error *e)
{
        _cleanup_image_ Image *img = NULL;
        IndexDoc idx = {};
        Descriptor d = {};
        int r;

        r = store_read_index(s, &idx, e);
        if (r < 0)
                return r;
        r = store_find(s, &idx, ref, allow_only_one, &d, e);
        index_doc_done(&idx);
        if (r < 0)
                return r;

        img = calloc(1, sizeof(Image));
        if (!img) {
                descriptor_done(&d);
                return -ENOMEM;
        }
        img->blobs_fd = -EBADF;
        img->reference = strdup(display_ref);
        img->name = TAKE_PTR(d.ref_name);
        if (!img->reference) {
                descriptor_done(&d);
                return -ENOMEM;
        }
        r = image_load_descriptor(s->blobs_fd, &d, s->limits.max_json_size, img, e);
        descriptor_done(&d);
        if (r < 0)
                return error_prefix(e, r, "image %s", display_ref);
        img->blobs_fd = fcntl(s->blobs_fd, F_DUPFD_CLOEXEC, 3);
        if (img->blobs_fd < 0)
                return error_set(e, -errno, "image %s", display_ref);
        *ret = TAKE_PTR(img);
        return 0;
}

int image_resolve(ImageStore *s, const char *reference, Image **ret, Error *e)
{
        const char *oci = startswith(reference, "oci:");
        if (!oci)
                return resolve_in(s, reference, false, reference, ret, e);

        /* oci:/path[:ref] — an image in another layout, opened read-only. */
        _cleanup_free_ char *path = strdup(oci);
        if (!path)
                return -ENOMEM;
        char *colon = strchr(path, ':');
        const char *ref = "";
        if (colon) {
                *colon = '\0';
                ref = colon + 1;
        }
        if (isempty(path))
                return error_set_msg(e, -EINVAL, "invalid image reference \"%s\": no layout path",
                                     reference);
        _cleanup_image_store_ ImageStore *other = NULL;
        ImageStoreOptions o = {.store_dir = path, .read_only = true, .limits = s->limits};
        int r = image_store_open(&o, &other, e);
        if (r < 0)
                return error_prefix(e, r, "image %s", reference);
        return resolve_in(other, ref, true, reference, ret, e);
}

/* ---------------------------------------------------------------- modifying index.json */

static int index_json_load(ImageStore *s, json_object **ret, json_object **ret_manifests, Error *e)
{
        _cleanup_free_ char *json = NULL;
        _cleanup_json_ json_object *root = NULL;
        IndexDoc check = {};
        json_object *arr;
        size_t n;
        int r;

        r = read_full_file_at(s->dir_fd, "index.json", s->limits.max_json_size, &json, &n);
        if (r < 0)
                return error_set(e, r, "reading %s/index.json", s->path);
        /* Validate first, so we never rewrite a document we do not understand. */
        r = index_parse(json, n, NULL, &check, e);
        index_doc_done(&check);
        if (r < 0)
                return error_prefix(e, r, "%s/index.json", s->path);
        r = json_parse_bounded(json, n, &root, e);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(root, "manifests", &arr))
                return error_set_msg(e, -EBADMSG, "%s/index.json: no manifests", s->path);
        *ret_manifests = arr;
        *ret = TAKE_PTR(root);
        return 0;
}

static int index_json_save(ImageStore *s, json_object *root, Error *e)
{
        const char *out = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!out)
                return error_set(e, -ENOMEM, "writing index.json");
        int r = write_file_atomic_at(s->dir_fd, "index.json", out, strlen(out), 0644);
        if (r < 0)
                return error_set(e, r, "writing %s/index.json", s->path);
        return 0;
}

static const char *json_annotation(json_object *entry, const char *key)
{
        json_object *a, *v;
        if (!json_object_object_get_ex(entry, "annotations", &a) ||
            !json_object_is_type(a, json_type_object) || !json_object_object_get_ex(a, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static const char *json_string_field(json_object *entry, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(entry, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int store_index_add(ImageStore *s, const Descriptor *d, const char *ref_name, Error *e)
{
        _cleanup_close_ int lock = -EBADF;
        _cleanup_json_ json_object *root = NULL;
        json_object *arr, *entry;
        int r;

        r = lock_file_at(s->dir_fd, INDEX_LOCK_FILE, s->path, true, &lock, e);
        if (r < 0)
                return r;
        r = index_json_load(s, &root, &arr, e);
        if (r < 0)
                return r;

        /* Moving a tag: drop other entries of that name; an identical untagged entry goes too. */
        for (size_t i = json_object_array_length(arr); i > 0; i--) {
                json_object *it = json_object_array_get_idx(arr, i - 1);
                const char *name = json_annotation(it, ANNOTATION_REF_NAME);
                const char *digest = json_string_field(it, "digest");
                bool drop = ref_name ? (name && reference_matches(ref_name, name)) ||
                                               (!name && streq_ptr(digest, d->digest))
                                     : (!name && streq_ptr(digest, d->digest));
                if (drop)
                        json_object_array_del_idx(arr, i - 1, 1);
        }

        entry = json_object_new_object();
        if (!entry)
                return -ENOMEM;
        json_object_object_add(entry, "mediaType", json_object_new_string(d->media_type ?: MT_OCI_MANIFEST));
        json_object_object_add(entry, "digest", json_object_new_string(d->digest));
        json_object_object_add(entry, "size", json_object_new_int64((int64_t)d->size));
        if (ref_name) {
                json_object *a = json_object_new_object();
                json_object_object_add(a, ANNOTATION_REF_NAME, json_object_new_string(ref_name));
                json_object_object_add(entry, "annotations", a);
        }
        json_object_array_add(arr, entry);
        return index_json_save(s, root, e);
}

int image_remove(ImageStore *s, const char *reference, Error *e)
{
        _cleanup_close_ int lock = -EBADF;
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ char *value = NULL;
        json_object *arr;
        RefKind kind;
        size_t removed = 0;
        int r;

        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        r = reference_classify(reference, &kind, &value);
        if (r < 0)
                return error_set_msg(e, r, "invalid image reference \"%s\"", reference);
        r = lock_file_at(s->dir_fd, INDEX_LOCK_FILE, s->path, true, &lock, e);
        if (r < 0)
                return r;
        r = index_json_load(s, &root, &arr, e);
        if (r < 0)
                return r;
        for (size_t i = json_object_array_length(arr); i > 0; i--) {
                json_object *it = json_object_array_get_idx(arr, i - 1);
                const char *digest = json_string_field(it, "digest");
                bool m;
                if (!digest)
                        continue;
                if (kind == REF_NAME)
                        m = reference_matches(value, json_annotation(it, ANNOTATION_REF_NAME)) ||
                            reference_matches(value, json_annotation(it, ANNOTATION_CONTAINERD));
                else if (kind == REF_DIGEST)
                        m = streq(digest, value);
                else
                        m = startswith(digest, "sha256:") && startswith(digest + 7, value);
                if (m) {
                        json_object_array_del_idx(arr, i - 1, 1);
                        removed++;
                }
        }
        if (removed == 0)
                return error_set_msg(e, -ENOENT, "image %s not found in %s", reference, s->path);
        return index_json_save(s, root, e);
}

/* ---------------------------------------------------------------- listing */

void image_summary_free_many(ImageSummary *l, size_t n)
{
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].digest);
                free(l[i].media_type);
                free(l[i].created);
                free(l[i].architecture);
                free(l[i].error);
        }
        free(l);
}

static int summary_compare(const void *a, const void *b)
{
        const ImageSummary *x = a, *y = b;
        if (!x->name != !y->name)
                return x->name ? -1 : 1;
        if (x->name && y->name) {
                int c = strcmp(x->name, y->name);
                if (c != 0)
                        return c;
        }
        return strcmp(x->digest, y->digest);
}

int image_list(ImageStore *s, ImageSummary **ret, size_t *ret_n, Error *e)
{
        IndexDoc idx = {};
        ImageSummary *l;
        int r;

        r = store_read_index(s, &idx, e);
        if (r < 0)
                return r;
        l = calloc(MAX(idx.n_manifests, 1u), sizeof(ImageSummary));
        if (!l) {
                index_doc_done(&idx);
                return -ENOMEM;
        }
        for (size_t i = 0; i < idx.n_manifests; i++) {
                Descriptor *d = &idx.manifests[i];
                ImageSummary *it = &l[i];
                _cleanup_error_ Error err = ERROR_INIT;
                Image img = {.blobs_fd = -EBADF};

                it->name = TAKE_PTR(d->ref_name) ?: TAKE_PTR(d->containerd_name);
                it->digest = TAKE_PTR(d->digest);
                it->media_type = TAKE_PTR(d->media_type);
                Descriptor q = {.digest = it->digest, .media_type = it->media_type, .size = d->size};
                r = image_load_descriptor(s->blobs_fd, &q, s->limits.max_json_size, &img, &err);
                if (r < 0) {
                        it->broken = true;
                        it->error = strdup(error_message(&err));
                } else {
                        it->size = img.manifest_size;
                        struct stat st;
                        if (img.config_digest &&
                            fstatat(s->blobs_fd, digest_hex(img.config_digest), &st, 0) >= 0)
                                it->size += (uint64_t)st.st_size;
                        for (size_t j = 0; j < img.n_layers; j++)
                                it->size += img.layers[j].size;
                        it->created = TAKE_PTR(img.config.created);
                        it->architecture = TAKE_PTR(img.config.architecture);
                }
                img.reference = NULL;
                image_config_done(&img.config);
                for (size_t j = 0; j < img.n_layers; j++) {
                        free(img.layers[j].digest);
                        free(img.layers[j].media_type);
                        free(img.layers[j].diff_id);
                }
                free(img.layers);
                free(img.index_digest);
                free(img.manifest_digest);
                free(img.config_digest);
        }
        size_t n = idx.n_manifests;
        index_doc_done(&idx);
        qsort(l, n, sizeof(ImageSummary), summary_compare);
        *ret = l;
        *ret_n = n;
        return 0;
}
