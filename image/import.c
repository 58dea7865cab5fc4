/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Imports: OCI layout directories, OCI archives, Docker archives, and plain root filesystems. */
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "image/image-private.h"

#define COPY_CHUNK        (1024 * 1024)
#define MAX_ARCHIVE_JSON  (16u << 20)
#define MAX_ARCHIVE_FILES 100000

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

static inline void archive_read_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

static void progress(ImageStore *s, const char *what, uint64_t done, uint64_t total)
{
        if (s->progress)
                s->progress(what, done, total, s->progress_userdata);
}

/* ---------------------------------------------------------------- copying between layouts */

static int copy_blob(ImageStore *s, int src_blobs_fd, const char *digest, uint64_t size, Error *e)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        BlobWriter w;
        uint64_t done = 0, last = 0;
        int r;

        if (blob_exists(s->blobs_fd, digest))
                return 0;
        if (size > s->limits.max_blob_size)
                return error_set_msg(e, -EFBIG, "blob %s: larger than the limit of %" PRIu64 " bytes",
                                     digest, s->limits.max_blob_size);
        fd = blob_open(src_blobs_fd, digest, size, e);
        if (fd < 0)
                return fd;
        buf = malloc(COPY_CHUNK);
        if (!buf)
                return -ENOMEM;
        r = blob_writer_open(s, &w, e);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k = read(fd, buf, COPY_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = error_set(e, -errno, "reading blob %s", digest);
                        break;
                }
                if (k == 0) {
                        r = blob_writer_commit(s, &w, digest, size, NULL, e);
                        break;
                }
                r = blob_writer_write(&w, buf, (size_t)k, e);
                if (r < 0)
                        break;
                done += (uint64_t)k;
                if (done - last >= (64u << 20)) {
                        last = done;
                        char what[64];
                        snprintf(what, sizeof(what), "copying %.19s", digest);
                        progress(s, what, done, size);
                }
        }
        blob_writer_done(&w);
        return r;
}

/* Copies (or, with src_blobs_fd == -1, only checks) a descriptor and everything below it. */
static int copy_closure(ImageStore *s, int src_blobs_fd, const Descriptor *d, unsigned depth, Error *e)
{
        _cleanup_free_ char *json = NULL;
        size_t n;
        int r;

        if (depth > MAX_INDEX_DEPTH)
                return error_set_msg(e, -ELOOP, "%s: indexes nested too deeply", d->digest);
        if (src_blobs_fd >= 0)
                r = copy_blob(s, src_blobs_fd, d->digest, d->size, e);
        else
                r = blob_exists(s->blobs_fd, d->digest)
                            ? 0
                            : error_set_msg(e, -ENOENT, "blob %s missing", d->digest);
        if (r < 0)
                return r;

        DocKind kind = media_type_kind(d->media_type);
        if (kind == DOC_LAYER || kind == DOC_CONFIG)
                return 0;
        r = blob_read_verified(s->blobs_fd, d->digest, d->size, s->limits.max_json_size, &json, &n, e);
        if (r < 0)
                return r;
        if (kind == DOC_OTHER)
                kind = document_sniff_kind(json, n);
        if (kind == DOC_INDEX) {
                IndexDoc idx = {};
                r = index_parse(json, n, d->media_type, &idx, e);
                if (r < 0)
                        return error_prefix(e, r, "index %s", d->digest);
                for (size_t i = 0; i < idx.n_manifests && r >= 0; i++)
                        r = copy_closure(s, src_blobs_fd, &idx.manifests[i], depth + 1, e);
                index_doc_done(&idx);
                return r;
        }
        if (kind != DOC_MANIFEST)
                return error_set_msg(e, -EOPNOTSUPP, "%s: unsupported media type \"%s\"", d->digest,
                                     strna(d->media_type));
        ManifestDoc m = {};
        r = manifest_parse(json, n, d->media_type, &m, e);
        if (r < 0)
                return error_prefix(e, r, "manifest %s", d->digest);
        r = copy_closure(s, src_blobs_fd, &m.config, depth + 1, e);
        for (size_t i = 0; i < m.n_layers && r >= 0; i++)
                r = copy_closure(s, src_blobs_fd, &m.layers[i], depth + 1, e);
        manifest_doc_done(&m);
        return r;
}

static int add_entries(ImageStore *s, int src_blobs_fd, const IndexDoc *idx, const char *name, char ***refs,
                       Error *e)
{
        int r;

        if (idx->n_manifests == 0)
                return error_set_msg(e, -ENOENT, "the source holds no image");
        if (name && idx->n_manifests != 1)
                return error_set_msg(e, -ENOTUNIQ, "the source holds %zu images; a name can tag only one",
                                     idx->n_manifests);
        for (size_t i = 0; i < idx->n_manifests; i++) {
                r = copy_closure(s, src_blobs_fd, &idx->manifests[i], 0, e);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const Descriptor *d = &idx->manifests[i];
                const char *ref = name ?: d->ref_name ?: d->containerd_name;
                Descriptor c = {.media_type = d->media_type, .digest = d->digest, .size = d->size};
                r = store_index_add(s, &c, ref, e);
                if (r < 0)
                        return r;
                if (refs && strv_extend(refs, ref ?: d->digest) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int import_layout(ImageStore *s, const char *path, const char *name, char ***refs, Error *e)
{
        _cleanup_image_store_ ImageStore *src = NULL;
        ImageStoreOptions o = {.store_dir = path, .read_only = true, .limits = s->limits};
        IndexDoc idx = {};
        int r;

        r = image_store_open(&o, &src, e);
        if (r < 0)
                return r;
        r = store_read_index(src, &idx, e);
        if (r < 0)
                return r;
        r = add_entries(s, src->blobs_fd, &idx, name, refs, e);
        index_doc_done(&idx);
        return r;
}

/* ---------------------------------------------------------------- archives */

typedef struct ArchiveFile {
        char *path;
        char *link; /* symlink or hardlink target (archive path), else NULL */
        char *data; /* small JSON files kept in memory */
        size_t size;
        char digest[DIGEST_STR_MAX]; /* stored as a blob ("" if not) */
} ArchiveFile;

typedef struct ArchiveImport {
        ArchiveFile *files;
        size_t n, alloc;
} ArchiveImport;

static void archive_import_done(ArchiveImport *ai)
{
        for (size_t i = 0; i < ai->n; i++) {
                free(ai->files[i].path);
                free(ai->files[i].link);
                free(ai->files[i].data);
        }
        free(ai->files);
}

/* A cleaned relative archive path; NULL for "..", absolute-looking junk or the root. */
static char *archive_clean(const char *p, const char *base_dir)
{
        _cleanup_free_ char *joined = NULL;
        if (base_dir && p[0] != '/')
                joined = path_join(base_dir, p);
        else
                joined = strdup(p);
        if (!joined)
                return NULL;
        /* Resolve "." and ".." textually, never escaping the archive root. */
        _cleanup_strv_free_ char **parts = strv_split(joined, "/");
        _cleanup_strv_free_ char **out = NULL;
        STRV_FOREACH (c, parts) {
                if (streq(*c, "."))
                        continue;
                if (streq(*c, "..")) {
                        size_t n = strv_length(out);
                        if (n == 0)
                                return NULL;
                        free(out[n - 1]);
                        out[n - 1] = NULL;
                        continue;
                }
                if (strv_extend(&out, *c) < 0)
                        return NULL;
        }
        if (strv_isempty(out))
                return NULL;
        return strv_join(out, "/");
}

static ArchiveFile *archive_find(ArchiveImport *ai, const char *path)
{
        _cleanup_free_ char *p = archive_clean(path, NULL);
        if (!p)
                return NULL;
        for (unsigned hops = 0; hops < 16; hops++) {
                ArchiveFile *f = NULL;
                for (size_t i = 0; i < ai->n; i++)
                        if (streq(ai->files[i].path, p)) {
                                f = &ai->files[i];
                                break;
                        }
                if (!f || !f->link)
                        return f;
                _cleanup_free_ char *dir = NULL;
                if (path_dirname(p, &dir) < 0)
                        return NULL;
                free(p);
                p = archive_clean(f->link, streq(dir, ".") ? NULL : dir);
                if (!p)
                        return NULL;
        }
        return NULL;
}

static ArchiveFile *archive_new_file(ArchiveImport *ai, char *path)
{
        if (ai->n == ai->alloc) {
                size_t n = ai->alloc ? ai->alloc * 2 : 64;
                ArchiveFile *f = realloc(ai->files, n * sizeof(ArchiveFile));
                if (!f)
                        return NULL;
                ai->files = f;
                ai->alloc = n;
        }
        ArchiveFile *f = &ai->files[ai->n++];
        *f = (ArchiveFile){.path = path};
        return f;
}

static int archive_store_entry(ImageStore *s, struct archive *a, struct archive_entry *ae, ArchiveFile *f,
                               Error *e)
{
        const char *hex = startswith(f->path, "blobs/sha256/");
        bool is_blob = hex && hex_is_valid(hex, SHA256_HEX_LEN, SHA256_HEX_LEN);
        bool small_json = !is_blob && archive_entry_size(ae) <= (la_int64_t)MAX_ARCHIVE_JSON &&
                          (endswith(f->path, ".json") || streq(f->path, "oci-layout") ||
                           streq(f->path, "repositories"));
        _cleanup_free_ char *expected = is_blob ? strjoin("sha256:", hex) : NULL;
        BlobWriter w;
        int r;

        if (is_blob && !expected)
                return -ENOMEM;
        if ((uint64_t)archive_entry_size(ae) > s->limits.max_blob_size)
                return error_set_msg(e, -EFBIG, "%s: larger than the limit of %" PRIu64 " bytes", f->path,
                                     s->limits.max_blob_size);
        if (small_json) {
                f->data = malloc((size_t)archive_entry_size(ae) + 1);
                if (!f->data)
                        return -ENOMEM;
        }
        if (is_blob && blob_exists(s->blobs_fd, expected) && !small_json) {
                memcpy(f->digest, expected, DIGEST_STR_MAX);
                return 0; /* already here (and verified when it came) */
        }
        if (!small_json) {
                r = blob_writer_open(s, &w, e);
                if (r < 0)
                        return r;
        }
        for (;;) {
                const void *p;
                size_t n;
                la_int64_t off;
                int ar = archive_read_data_block(a, &p, &n, &off);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN || (uint64_t)off != (small_json ? f->size : w.size)) {
                        r = error_set_msg(e, -EBADMSG, "%s: %s", f->path,
                                          archive_error_string(a) ?: "sparse or corrupt data");
                        goto finish;
                }
                if (small_json) {
                        if (f->size + n > (size_t)archive_entry_size(ae)) {
                                r = error_set_msg(e, -EBADMSG, "%s: more data than announced", f->path);
                                goto finish;
                        }
                        memcpy(f->data + f->size, p, n);
                        f->size += n;
                } else {
                        r = blob_writer_write(&w, p, n, e);
                        if (r < 0)
                                goto finish;
                }
        }
        if (small_json) {
                f->data[f->size] = '\0';
                return 0;
        }
        r = blob_writer_commit(s, &w, expected, UINT64_MAX, f->digest, e);
        if (r < 0)
                error_prefix(e, r, "%s", f->path);
        f->size = w.size;
finish:
        if (!small_json)
                blob_writer_done(&w);
        return r;
}

static int docker_layer_media_type(ImageStore *s, const char *digest, const char **ret)
{
        unsigned char magic[4] = {};
        _cleanup_close_ int fd = blob_open(s->blobs_fd, digest, UINT64_MAX, NULL);
        if (fd < 0)
                return fd;
        ssize_t k = read(fd, magic, sizeof(magic));
        switch (compression_sniff(magic, k > 0 ? (size_t)k : 0)) {
        case COMPRESSION_GZIP:
                *ret = MT_OCI_LAYER_GZIP;
                break;
        case COMPRESSION_ZSTD:
                *ret = MT_OCI_LAYER_ZSTD;
                break;
        default:
                *ret = MT_OCI_LAYER;
        }
        return 0;
}

/* A file named by an archive manifest: its blob digest (storing in-memory files as blobs). */
static int archive_file_blob(ImageStore *s, ArchiveImport *ai, const char *path,
                             char digest[static DIGEST_STR_MAX], uint64_t *ret_size, Error *e)
{
        ArchiveFile *f = archive_find(ai, path);
        if (!f || f->link)
                return error_set_msg(e, -ENOENT, "the archive lacks \"%s\"", path);
        if (f->data && !f->digest[0]) {
                int r = blob_write_buffer(s, f->data, f->size, f->digest, e);
                if (r < 0)
                        return r;
        }
        memcpy(digest, f->digest, DIGEST_STR_MAX);
        if (ret_size) {
                struct stat st;
                if (fstatat(s->blobs_fd, digest_hex(digest), &st, 0) < 0)
                        return error_set(e, -errno, "blob %s", digest);
                *ret_size = (uint64_t)st.st_size;
        }
        return 0;
}

static json_object *descriptor_json(const char *mt, const char *digest, uint64_t size)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "mediaType", json_object_new_string(mt));
        json_object_object_add(o, "digest", json_object_new_string(digest));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        return o;
}

static int store_json(ImageStore *s, json_object *o, char digest[static DIGEST_STR_MAX], size_t *ret_size,
                      Error *e)
{
        const char *text =
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        *ret_size = strlen(text);
        return blob_write_buffer(s, text, *ret_size, digest, e);
}

static int import_docker(ImageStore *s, ArchiveImport *ai, ArchiveFile *mf, const char *name, char ***refs,
                         Error *e)
{
        _cleanup_json_ json_object *root = NULL;
        int r;

        r = json_parse_bounded(mf->data, mf->size, &root, e);
        if (r < 0)
                return error_prefix(e, r, "manifest.json");
        if (!json_object_is_type(root, json_type_array) || json_object_array_length(root) == 0)
                return error_set_msg(e, -EBADMSG, "manifest.json: not a non-empty array");
        size_t n = json_object_array_length(root);
        if (name && n != 1)
                return error_set_msg(e, -ENOTUNIQ, "the archive holds %zu images; a name can tag only one",
                                     n);

        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(root, i), *cfg, *layers, *tags = NULL;
                char cfg_digest[DIGEST_STR_MAX];
                uint64_t cfg_size;

                if (!json_object_is_type(it, json_type_object) ||
                    !json_object_object_get_ex(it, "Config", &cfg) ||
                    !json_object_is_type(cfg, json_type_string) ||
                    !json_object_object_get_ex(it, "Layers", &layers) ||
                    !json_object_is_type(layers, json_type_array) ||
                    json_object_array_length(layers) > MAX_LAYERS)
                        return error_set_msg(e, -EBADMSG, "manifest.json[%zu]: needs Config and Layers", i);
                r = archive_file_blob(s, ai, json_object_get_string(cfg), cfg_digest, &cfg_size, e);
                if (r < 0)
                        return error_prefix(e, r, "manifest.json[%zu].Config", i);

                /* Check the config parses and lists as many diff_ids as there are layers. */
                _cleanup_free_ char *cjson = NULL;
                _cleanup_strv_free_ char **diff_ids = NULL;
                ImageConfig c = {};
                size_t cn;
                r = blob_read_verified(s->blobs_fd, cfg_digest, cfg_size, s->limits.max_json_size, &cjson,
                                       &cn, e);
                if (r >= 0)
                        r = config_parse(cjson, cn, &c, &diff_ids, e);
                image_config_done(&c);
                if (r < 0)
                        return error_prefix(e, r, "config %s", json_object_get_string(cfg));
                if (strv_length(diff_ids) != json_object_array_length(layers))
                        return error_set_msg(
                                e, -EBADMSG,
                                "manifest.json[%zu]: %zu layers but the config has %zu diff_ids", i,
                                json_object_array_length(layers), strv_length(diff_ids));

                _cleanup_json_ json_object *m = json_object_new_object(), *larr = json_object_new_array();
                if (!m || !larr)
                        return -ENOMEM;
                for (size_t j = 0; j < json_object_array_length(layers); j++) {
                        json_object *l = json_object_array_get_idx(layers, j);
                        char ld[DIGEST_STR_MAX];
                        uint64_t lsize;
                        const char *mt;
                        if (!json_object_is_type(l, json_type_string))
                                return error_set_msg(e, -EBADMSG,
                                                     "manifest.json[%zu].Layers[%zu]: not a string", i, j);
                        r = archive_file_blob(s, ai, json_object_get_string(l), ld, &lsize, e);
                        if (r < 0)
                                return error_prefix(e, r, "manifest.json[%zu].Layers[%zu]", i, j);
                        r = docker_layer_media_type(s, ld, &mt);
                        if (r < 0)
                                return error_set(e, r, "layer %s", ld);
                        json_object_array_add(larr, descriptor_json(mt, ld, lsize));
                }
                json_object_object_add(m, "schemaVersion", json_object_new_int(2));
                json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
                json_object_object_add(m, "config", descriptor_json(MT_OCI_CONFIG, cfg_digest, cfg_size));
                json_object_object_add(m, "layers", json_object_get(larr));

                char md[DIGEST_STR_MAX];
                size_t msize;
                r = store_json(s, m, md, &msize, e);
                if (r < 0)
                        return r;
                Descriptor d = {.media_type = (char *)MT_OCI_MANIFEST, .digest = md, .size = msize};

                (void)json_object_object_get_ex(it, "RepoTags", &tags);
                size_t ntags =
                        json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
                if (name || ntags == 0) {
                        r = store_index_add(s, &d, name, e);
                        if (r < 0)
                                return r;
                        if (refs && strv_extend(refs, name ?: md) < 0)
                                return -ENOMEM;
                        continue;
                }
                for (size_t j = 0; j < ntags; j++) {
                        json_object *t = json_object_array_get_idx(tags, j);
                        if (!json_object_is_type(t, json_type_string) || isempty(json_object_get_string(t)))
                                continue;
                        r = store_index_add(s, &d, json_object_get_string(t), e);
                        if (r < 0)
                                return r;
                        if (refs && strv_extend(refs, json_object_get_string(t)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int import_oci_archive(ImageStore *s, ArchiveFile *idxf, const char *name, char ***refs, Error *e)
{
        IndexDoc idx = {};
        int r = index_parse(idxf->data, idxf->size, NULL, &idx, e);
        if (r < 0)
                return error_prefix(e, r, "index.json");
        /* Every blob came through blob_writer_commit(), checked against its name; now make sure
         * nothing is missing, then tag. */
        r = add_entries(s, -1, &idx, name, refs, e);
        index_doc_done(&idx);
        return r;
}

static int import_archive(ImageStore *s, const char *path, const char *name, char ***refs, Error *e)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        ArchiveImport ai = {};
        struct stat st;
        int r;

        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_none(a);
        if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK)
                return error_set_msg(e, -EBADMSG, "%s: %s", path,
                                     archive_error_string(a) ?: "not a tar archive");
        uint64_t total = stat(path, &st) >= 0 ? (uint64_t)st.st_size : 0;

        for (;;) {
                struct archive_entry *ae;
                int ar = archive_read_next_header(a, &ae);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = error_set_msg(e, -EBADMSG, "%s: %s", path,
                                          archive_error_string(a) ?: "corrupt archive");
                        goto finish;
                }
                if (ai.n >= MAX_ARCHIVE_FILES) {
                        r = error_set_msg(e, -E2BIG, "%s: too many entries", path);
                        goto finish;
                }
                const char *p = archive_entry_pathname(ae);
                mode_t type = archive_entry_filetype(ae);
                const char *hl = archive_entry_hardlink(ae);
                if (!p)
                        continue;
                if (type != AE_IFREG && type != AE_IFLNK && !hl)
                        continue; /* directories and anything else carry nothing we need */
                char *clean = archive_clean(p, NULL);
                if (!clean)
                        continue;
                ArchiveFile *f = archive_new_file(&ai, clean);
                if (!f) {
                        free(clean);
                        r = -ENOMEM;
                        goto finish;
                }
                if (hl || type == AE_IFLNK) {
                        /* Hardlink targets are archive paths; symlink targets are relative to the link. */
                        const char *t = hl ?: archive_entry_symlink(ae);
                        f->link = hl ? strjoin("/", t) : strdup(strempty(t));
                        if (!f->link) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        continue;
                }
                r = archive_store_entry(s, a, ae, f, e);
                if (r < 0) {
                        error_prefix(e, r, "%s", path);
                        goto finish;
                }
                char what[64];
                snprintf(what, sizeof(what), "importing %.40s", path_basename(path));
                progress(s, what, (uint64_t)archive_filter_bytes(a, -1), total);
        }

        ArchiveFile *idxf = archive_find(&ai, "index.json"), *mf = archive_find(&ai, "manifest.json");
        if (idxf && idxf->data && archive_find(&ai, "oci-layout"))
                r = import_oci_archive(s, idxf, name, refs, e);
        else if (mf && mf->data)
                r = import_docker(s, &ai, mf, name, refs, e);
        else
                r = error_set_msg(e, -EBADMSG,
                                  "%s: neither an OCI archive (index.json, oci-layout) nor a Docker archive "
                                  "(manifest.json)",
                                  path);
        if (r < 0)
                error_prefix(e, r, "%s", path);
finish:
        archive_import_done(&ai);
        return r;
}

int image_import(ImageStore *s, const char *path, const char *name, char ***ret_refs, Error *e)
{
        _cleanup_close_ int lock = -EBADF;
        _cleanup_strv_free_ char **refs = NULL;
        struct stat st;
        int r;

        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        if (name && (isempty(name) || string_has_cc(name) || strchr(name, ' ') || strchr(name, '@')))
                return error_set_msg(e, -EINVAL, "invalid image name \"%s\"", name);
        if (stat(path, &st) < 0)
                return error_set(e, -errno, "%s", path);
        r = store_lock(s, false, &lock, e);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode))
                r = import_layout(s, path, name, &refs, e);
        else
                r = import_archive(s, path, name, &refs, e);
        if (r < 0)
                return r;
        if (ret_refs)
                *ret_refs = TAKE_PTR(refs);
        return 0;
}

/* ---------------------------------------------------------------- import-rootfs */

typedef struct TarOut {
        ImageStore *s;
        const char *what;
        BlobWriter *w;
        uint64_t last_progress;
        Error *e;
        int r;
} TarOut;

static la_ssize_t tar_write_cb(struct archive *a, void *userdata, const void *buf, size_t n)
{
        TarOut *t = userdata;
        int r = blob_writer_write(t->w, buf, n, t->e);
        if (r < 0) {
                t->r = r;
                archive_set_error(a, -r, "writing layer");
                return -1;
        }
        if (t->w->size - t->last_progress >= (32u << 20)) {
                t->last_progress = t->w->size;
                progress(t->s, t->what, t->w->size, 0);
        }
        return (la_ssize_t)n;
}

typedef struct InodeSeen {
        dev_t dev;
        ino_t ino;
        char *path;
} InodeSeen;

typedef struct TarWalk {
        struct archive *a;
        InodeSeen *seen;
        size_t n_seen;
        uint64_t entries;
        Error *e;
} TarWalk;

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs of fd that an unpack keeps (see xattr_policy() in unpack.c); the host's labels
 * (security.selinux, …) are not the image's. */
static int tar_entry_add_xattrs(TarWalk *t, struct archive_entry *ae, int fd, const char *path)
{
        char names[64 * 1024];
        ssize_t n = flistxattr(fd, names, sizeof(names));
        if (n < 0)
                return errno == EOPNOTSUPP ? 0 : error_set(t->e, -errno, "listing xattrs of %s", path);
        for (const char *nm = names; nm < names + n; nm += strlen(nm) + 1) {
                char value[64 * 1024];
                if (!startswith(nm, "user.") && !streq(nm, "security.capability") &&
                    !streq(nm, "system.posix_acl_access") && !streq(nm, "system.posix_acl_default"))
                        continue;
                ssize_t k = fgetxattr(fd, nm, value, sizeof(value));
                if (k < 0) {
                        if (errno == ENODATA)
                                continue;
                        return error_set(t->e, -errno, "reading xattr %s of %s", nm, path);
                }
                archive_entry_xattr_add_entry(ae, nm, value, (size_t)k);
        }
        return 0;
}

static int tar_add_dir(TarWalk *t, int dfd, const char *prefix)
{
        _cleanup_strv_free_ char **names = NULL;
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                safe_close(dup_fd);
                return error_set(t->e, -errno, "reading directory %s", prefix);
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), name_cmp); /* reproducible layers */

        STRV_FOREACH (nm, names) {
                _cleanup_free_ char *path = isempty(prefix) ? strdup(*nm) : path_join(prefix, *nm);
                struct archive_entry *ae = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (!path)
                        return -ENOMEM;
                if (++t->entries > 10000000)
                        return error_set_msg(t->e, -E2BIG, "too many files");
                if (fstatat(dfd, *nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set(t->e, -errno, "stat %s", path);
                if (S_ISSOCK(st.st_mode))
                        continue;
                ae = archive_entry_new();
                if (!ae)
                        return -ENOMEM;
                archive_entry_copy_stat(ae, &st);
                archive_entry_set_pathname(ae, path);
                archive_entry_set_uname(ae, NULL);
                archive_entry_set_gname(ae, NULL);
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(dfd, *nm, target, sizeof(target) - 1);
                        if (k < 0) {
                                archive_entry_free(ae);
                                return error_set(t->e, -errno, "readlink %s", path);
                        }
                        target[k] = '\0';
                        archive_entry_set_symlink(ae, target);
                } else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                        for (size_t i = 0; i < t->n_seen; i++)
                                if (t->seen[i].dev == st.st_dev && t->seen[i].ino == st.st_ino) {
                                        archive_entry_set_hardlink(ae, t->seen[i].path);
                                        archive_entry_set_size(ae, 0);
                                        break;
                                }
                        if (!archive_entry_hardlink(ae)) {
                                InodeSeen *ns = realloc(t->seen, (t->n_seen + 1) * sizeof(InodeSeen));
                                if (!ns) {
                                        archive_entry_free(ae);
                                        return -ENOMEM;
                                }
                                t->seen = ns;
                                t->seen[t->n_seen++] = (InodeSeen){st.st_dev, st.st_ino, strdup(path)};
                        }
                }
                if ((S_ISREG(st.st_mode) && !archive_entry_hardlink(ae)) || S_ISDIR(st.st_mode)) {
                        fd = openat(dfd, *nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                        if (fd < 0) {
                                archive_entry_free(ae);
                                return error_set(t->e, -errno, "opening %s", path);
                        }
                        r = tar_entry_add_xattrs(t, ae, fd, path);
                        if (r < 0) {
                                archive_entry_free(ae);
                                return r;
                        }
                }
                if (archive_write_header(t->a, ae) < ARCHIVE_WARN) {
                        r = error_set_msg(t->e, -EIO, "%s: %s", path,
                                          archive_error_string(t->a) ?: "tar error");
                        archive_entry_free(ae);
                        return r;
                }
                archive_entry_free(ae);
                if (fd >= 0 && S_ISREG(st.st_mode)) {
                        static char buf[256 * 1024];
                        uint64_t left = (uint64_t)st.st_size;
                        while (left > 0) {
                                ssize_t k = read(fd, buf, MIN(sizeof(buf), left));
                                if (k < 0 && errno == EINTR)
                                        continue;
                                if (k <= 0)
                                        return error_set(t->e, k < 0 ? -errno : -EIO,
                                                         "reading %s (changed meanwhile?)", path);
                                if (archive_write_data(t->a, buf, (size_t)k) < 0)
                                        return error_set_msg(t->e, -EIO, "%s: %s", path,
                                                             archive_error_string(t->a) ?: "tar error");
                                left -= (uint64_t)k;
                        }
                }
                if (S_ISDIR(st.st_mode)) {
                        r = tar_add_dir(t, fd, path);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int layer_from_dir(ImageStore *s, const char *path, char digest[static DIGEST_STR_MAX],
                          uint64_t *ret_size, Error *e)
{
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        BlobWriter w;
        char what[64];
        TarOut out = {.s = s, .what = what, .w = &w, .e = e};
        TarWalk t = {.e = e};
        int r;

        if (dfd < 0)
                return error_set(e, -errno, "opening %s", path);
        snprintf(what, sizeof(what), "importing %.40s", path_basename(path));
        r = blob_writer_open(s, &w, e);
        if (r < 0)
                return r;
        t.a = archive_write_new();
        if (!t.a) {
                blob_writer_done(&w);
                return -ENOMEM;
        }
        archive_write_set_format_pax_restricted(t.a);
        archive_write_set_bytes_in_last_block(t.a, 1);
        if (archive_write_open(t.a, &out, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
                r = error_set_msg(e, -EIO, "creating layer: %s", archive_error_string(t.a) ?: "error");
                goto finish;
        }
        r = tar_add_dir(&t, dfd, "");
        if (r >= 0 && archive_write_close(t.a) != ARCHIVE_OK)
                r = out.r < 0 ? out.r
                              : error_set_msg(e, -EIO, "finishing layer: %s",
                                              archive_error_string(t.a) ?: "error");
        if (r >= 0) {
                *ret_size = w.size;
                r = blob_writer_commit(s, &w, NULL, UINT64_MAX, digest, e);
        }
finish:
        archive_write_free(t.a);
        for (size_t i = 0; i < t.n_seen; i++)
                free(t.seen[i].path);
        free(t.seen);
        blob_writer_done(&w);
        return r;
}

static int layer_from_tarball(ImageStore *s, const char *path, char digest[static DIGEST_STR_MAX],
                              char diff_id[static DIGEST_STR_MAX], uint64_t *ret_size,
                              LayerCompression *ret_c, Error *e)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        unsigned char magic[4] = {};
        BlobWriter w;
        uint64_t last = 0;
        struct stat st;
        char what[64];
        int r;

        if (fd < 0)
                return error_set(e, -errno, "opening %s", path);
        if (fstat(fd, &st) < 0)
                return error_set(e, -errno, "%s", path);
        ssize_t k = pread(fd, magic, sizeof(magic), 0);
        LayerCompression c = compression_sniff(magic, k > 0 ? (size_t)k : 0);
        if (c != COMPRESSION_NONE) {
                /* A compressed tarball takes two passes: the digest of the uncompressed stream
                 * (the diff_id), then the copy. An uncompressed one's diff_id is its digest. */
                snprintf(what, sizeof(what), "hashing %.40s", path_basename(path));
                progress(s, what, 0, (uint64_t)st.st_size);
                r = blob_uncompressed_digest(fd, c, diff_id, s->progress, what, s->progress_userdata, e);
                if (r < 0)
                        return error_prefix(e, r, "%s", path);
                progress(s, what, (uint64_t)st.st_size, (uint64_t)st.st_size);
        }
        snprintf(what, sizeof(what), "importing %.40s", path_basename(path));
        progress(s, what, 0, (uint64_t)st.st_size);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return error_set(e, -errno, "%s", path);
        buf = malloc(COPY_CHUNK);
        if (!buf)
                return -ENOMEM;
        r = blob_writer_open(s, &w, e);
        if (r < 0)
                return r;
        for (;;) {
                k = read(fd, buf, COPY_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = error_set(e, -errno, "reading %s", path);
                        break;
                }
                if (k == 0) {
                        *ret_size = w.size;
                        r = blob_writer_commit(s, &w, NULL, UINT64_MAX, digest, e);
                        if (r >= 0 && c == COMPRESSION_NONE)
                                memcpy(diff_id, digest, DIGEST_STR_MAX);
                        break;
                }
                r = blob_writer_write(&w, buf, (size_t)k, e);
                if (r < 0)
                        break;
                if (w.size - last >= (32u << 20)) {
                        last = w.size;
                        progress(s, what, w.size, (uint64_t)st.st_size);
                }
        }
        blob_writer_done(&w);
        *ret_c = c;
        return r;
}

static json_object *strv_json(char **l)
{
        json_object *a = json_object_new_array();
        STRV_FOREACH (s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

int image_import_rootfs(ImageStore *s, const char *path, const char *ref, const ImageConfig *cfg,
                        char **ret_digest, Error *e)
{
        _cleanup_close_ int lock = -EBADF;
        char layer[DIGEST_STR_MAX], diff_id[DIGEST_STR_MAX], cfg_digest[DIGEST_STR_MAX], md[DIGEST_STR_MAX];
        LayerCompression c = COMPRESSION_NONE;
        uint64_t layer_size = 0;
        size_t cfg_size, msize;
        struct stat st;
        int r;

        static const ImageConfig empty = {};
        if (!cfg)
                cfg = &empty;
        if (s->read_only)
                return error_set_msg(e, -EROFS, "image store opened read-only");
        if (isempty(ref) || string_has_cc(ref) || strchr(ref, ' ') || strchr(ref, '@') ||
            startswith(ref, "sha256:"))
                return error_set_msg(e, -EINVAL, "invalid image name \"%s\"", strempty(ref));
        if (stat(path, &st) < 0)
                return error_set(e, -errno, "%s", path);
        r = store_lock(s, false, &lock, e);
        if (r < 0)
                return r;

        if (S_ISDIR(st.st_mode)) {
                r = layer_from_dir(s, path, layer, &layer_size, e);
                memcpy(diff_id, layer, sizeof(layer));
        } else
                r = layer_from_tarball(s, path, layer, diff_id, &layer_size, &c, e);
        if (r < 0)
                return error_prefix(e, r, "making a layer of %s", path);

        /* The image config. */
        _cleanup_json_ json_object *conf = json_object_new_object(), *cc = json_object_new_object();
        if (!conf || !cc)
                return -ENOMEM;
        char created[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        const Platform *p = platform_host();
        json_object_object_add(conf, "created", json_object_new_string(created));
        json_object_object_add(conf, "architecture", json_object_new_string(p->architecture));
        json_object_object_add(conf, "os", json_object_new_string(p->os));
        if (p->variant)
                json_object_object_add(conf, "variant", json_object_new_string(p->variant));
        if (cfg->env)
                json_object_object_add(cc, "Env", strv_json(cfg->env));
        else {
                char *def[] = {(char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               NULL};
                json_object_object_add(cc, "Env", strv_json(def));
        }
        if (cfg->entrypoint)
                json_object_object_add(cc, "Entrypoint", strv_json(cfg->entrypoint));
        if (cfg->cmd)
                json_object_object_add(cc, "Cmd", strv_json(cfg->cmd));
        if (cfg->working_dir)
                json_object_object_add(cc, "WorkingDir", json_object_new_string(cfg->working_dir));
        if (cfg->user)
                json_object_object_add(cc, "User", json_object_new_string(cfg->user));
        if (cfg->stop_signal)
                json_object_object_add(cc, "StopSignal", json_object_new_string(cfg->stop_signal));
        if (cfg->labels) {
                json_object *l = json_object_new_object();
                STRV_FOREACH (kv, cfg->labels) {
                        const char *eq = strchr(*kv, '=');
                        _cleanup_free_ char *k = eq ? strndup(*kv, (size_t)(eq - *kv)) : strdup(*kv);
                        if (!k)
                                return -ENOMEM;
                        json_object_object_add(l, k, json_object_new_string(eq ? eq + 1 : ""));
                }
                json_object_object_add(cc, "Labels", l);
        }
        if (cfg->exposed_ports) {
                json_object *l = json_object_new_object();
                STRV_FOREACH (port, cfg->exposed_ports)
                        json_object_object_add(l, *port, json_object_new_object());
                json_object_object_add(cc, "ExposedPorts", l);
        }
        json_object_object_add(conf, "config", json_object_get(cc));
        json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
        json_object_array_add(ids, json_object_new_string(diff_id));
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", ids);
        json_object_object_add(conf, "rootfs", rootfs);
        json_object *hist = json_object_new_array(), *h = json_object_new_object();
        json_object_object_add(h, "created", json_object_new_string(created));
        json_object_object_add(h, "created_by", json_object_new_string("ctrmgr image import-rootfs"));
        json_object_array_add(hist, h);
        json_object_object_add(conf, "history", hist);
        r = store_json(s, conf, cfg_digest, &cfg_size, e);
        if (r < 0)
                return r;

        _cleanup_json_ json_object *m = json_object_new_object();
        json_object *larr = json_object_new_array();
        json_object_array_add(larr, descriptor_json(c == COMPRESSION_GZIP   ? MT_OCI_LAYER_GZIP
                                                    : c == COMPRESSION_ZSTD ? MT_OCI_LAYER_ZSTD
                                                                            : MT_OCI_LAYER,
                                                    layer, layer_size));
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
        json_object_object_add(m, "config", descriptor_json(MT_OCI_CONFIG, cfg_digest, cfg_size));
        json_object_object_add(m, "layers", larr);
        r = store_json(s, m, md, &msize, e);
        if (r < 0)
                return r;
        Descriptor d = {.media_type = (char *)MT_OCI_MANIFEST, .digest = md, .size = msize};
        r = store_index_add(s, &d, ref, e);
        if (r < 0)
                return r;
        if (ret_digest) {
                *ret_digest = strdup(md);
                if (!*ret_digest)
                        return -ENOMEM;
        }
        return 0;
}
