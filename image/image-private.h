/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to image/: shared between its files (and the unit tests and fuzzers). */

#include <json-c/json.h>

#include "image/image.h"

#define SHA256_HEX_LEN  64
#define DIGEST_STR_LEN  (STRLEN("sha256:") + SHA256_HEX_LEN)
#define DIGEST_STR_MAX  (DIGEST_STR_LEN + 1)
#define MAX_INDEX_DEPTH 4
#define MAX_LAYERS      256
#define MAX_MANIFESTS   1024

/* Media types. */
#define MT_OCI_INDEX          "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST       "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG         "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER          "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP     "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD     "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST        "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST    "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG      "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define ANNOTATION_REF_NAME   "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD "io.containerd.image.name"

/* ---------------------------------------------------------------- digests (digest.c) */

/* Writes "sha256:<hex>" into out and frees the context. */
void sha256_final(Sha256 *h, char out[static DIGEST_STR_MAX]);
void sha256_done(Sha256 *h);
void sha256_buffer(const void *p, size_t n, char out[static DIGEST_STR_MAX]);

/* "sha256:" followed by 64 lower-case hex digits. Other algorithms are not supported. */
bool digest_is_valid(const char *d);
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *d)
{
        return d + STRLEN("sha256:");
}
bool hex_is_valid(const char *s, size_t min_len, size_t max_len);

/* ---------------------------------------------------------------- OCI documents (oci.c) */

typedef enum DocKind {
        DOC_INDEX,
        DOC_MANIFEST,
        DOC_CONFIG,
        DOC_LAYER,
        DOC_OTHER,
} DocKind;

typedef enum LayerCompression {
        COMPRESSION_NONE,
        COMPRESSION_GZIP,
        COMPRESSION_ZSTD,
        _COMPRESSION_INVALID = -EINVAL,
} LayerCompression;

DocKind media_type_kind(const char *mt);
/* Compression of a layer media type; -EOPNOTSUPP for unknown or foreign/non-tar layers. */
LayerCompression layer_media_type_compression(const char *mt);
/* Compression from the first bytes of a blob (gzip, zstd magic), else none. */
LayerCompression compression_sniff(const void *p, size_t n);

typedef struct Platform {
        char *os;
        char *architecture;
        char *variant;
} Platform;

typedef struct Descriptor {
        char *media_type;
        char *digest;
        uint64_t size;
        Platform platform; /* only in index entries; fields may be NULL */
        char *ref_name;    /* annotation org.opencontainers.image.ref.name */
        char *containerd_name;
} Descriptor;

void descriptor_done(Descriptor *d);
void descriptors_free(Descriptor *d, size_t n);

typedef struct IndexDoc {
        Descriptor *manifests;
        size_t n_manifests;
} IndexDoc;

typedef struct ManifestDoc {
        Descriptor config;
        Descriptor *layers;
        size_t n_layers;
} ManifestDoc;

void index_doc_done(IndexDoc *i);
void manifest_doc_done(ManifestDoc *m);

/*
 * Parsers for untrusted JSON. expected_media_type is the descriptor's media type (NULL if
 * unknown); a document whose own mediaType disagrees, or that has both "manifests" and
 * "layers"/"config" (ambiguous), is refused. Errors carry a JSON path ("manifests[2].digest").
 */
int index_parse(const char *json, size_t n, const char *expected_media_type, IndexDoc *ret, Error *e);
int manifest_parse(const char *json, size_t n, const char *expected_media_type, ManifestDoc *ret, Error *e);
/* Parses an image config; ret_diff_ids gets rootfs.diff_ids. */
int config_parse(const char *json, size_t n, ImageConfig *ret, char ***ret_diff_ids, Error *e);
/* Distinguishes an index from a manifest for documents listed without a media type. */
DocKind document_sniff_kind(const char *json, size_t n);

/* This machine's platform (os "linux", GOARCH-style architecture, variant). */
const Platform *platform_host(void);
/* Index entries: picks the best match for the host platform; -ENXIO if none. */
int platform_select(const Descriptor *manifests, size_t n, const Platform *p, size_t *ret_idx);

/* JSON helpers. */
int json_parse_bounded(const char *json, size_t n, json_object **ret, Error *e);

/* ---------------------------------------------------------------- the store (store.c) */

struct ImageStore {
        char *path;
        char *layers_path;
        char *containers_path;
        int dir_fd;    /* the layout */
        int blobs_fd;  /* blobs/sha256 */
        int layers_fd; /* the layer cache (created on demand unless read-only) */
        bool read_only;
        ImageLimits limits;
        ImageProgressFn progress;
        void *progress_userdata;
};

/* Reads a blob fully (small documents) after checking size and digest. */
int blob_read_verified(int blobs_fd, const char *digest, uint64_t expected_size, size_t max_size, char **ret,
                       size_t *ret_size, Error *e);
/* Opens a blob for reading; checks that its size is expected_size (UINT64_MAX: any). */
int blob_open(int blobs_fd, const char *digest, uint64_t expected_size, Error *e);
bool blob_exists(int blobs_fd, const char *digest);

/* Writing blobs: a temp file in <store>/.ctrmgr-tmp, hashed as written, renamed into
 * blobs/sha256 on commit when the digest (and size, if known) match. */
typedef struct BlobWriter {
        int fd;
        char *tmp_name;
        Sha256 hash;
        uint64_t size;
        int tmp_dir_fd;
} BlobWriter;

int blob_writer_open(ImageStore *s, BlobWriter *w, Error *e);
int blob_writer_write(BlobWriter *w, const void *p, size_t n, Error *e);
/* expected_digest may be NULL (then the computed digest is used). The computed digest goes
 * to ret_digest (optional). */
int blob_writer_commit(ImageStore *s, BlobWriter *w, const char *expected_digest, uint64_t expected_size,
                       char *ret_digest, Error *e);
void blob_writer_done(BlobWriter *w);
/* Stores a whole buffer as a blob. */
int blob_write_buffer(ImageStore *s, const void *p, size_t n, char *ret_digest, Error *e);

/* Locks: a shared or exclusive flock on the store's lock file (-EBADF fd on read-only stores). */
int store_lock(ImageStore *s, bool exclusive, int *ret_fd, Error *e);

/* index.json of the store: read-modify-write under the index lock. */
int store_index_add(ImageStore *s, const Descriptor *d, const char *ref_name, Error *e);
int store_open_tmp_dir(ImageStore *s, Error *e);
int store_layers_fd(ImageStore *s, Error *e);

/* Reads a manifest/config of the given manifest descriptor into img (shared by resolve and
 * list). */
int image_load_manifest(int blobs_fd, const Descriptor *d, size_t max_json, Image *img, Error *e);
/* Resolves an index/manifest descriptor to the platform manifest. */
int image_load_descriptor(int blobs_fd, const Descriptor *d, size_t max_json, Image *img, Error *e);

/* ---------------------------------------------------------------- unpacking (unpack.c) */

typedef struct UnpackOptions {
        ImageLimits limits;
        const char *image_name; /* for messages */
        ImageProgressFn progress;
        void *progress_userdata;
        /* The layers below this one, topmost first: directories this layer creates only
         * implicitly (as parents of its entries) copy their owner and mode from there, as an
         * overlayfs copy-up would; otherwise the upper layer's directory would mask them. */
        const int *lower_fds;
        size_t n_lower;
} UnpackOptions;

/*
 * Unpacks the layer blob (fd, compression) into the empty directory dir_fd, checking the blob's
 * digest and size and the uncompressed digest against diff_id. Returns 0 or a negative errno
 * with e naming the layer and entry.
 */
int layer_unpack_fd(int blob_fd, LayerCompression c, const char *blob_digest, uint64_t blob_size,
                    const char *diff_id, int dir_fd, const UnpackOptions *o, Error *e);

/* Streams a (possibly compressed) blob through the decompressor into a hash of the
 * uncompressed data (for import-rootfs from a tarball). `progress` (optional) is called with
 * `what` and the compressed bytes read so far, every 32 MiB of uncompressed data. */
int blob_uncompressed_digest(int fd, LayerCompression c, char ret[static DIGEST_STR_MAX],
                             ImageProgressFn progress, const char *what, void *userdata, Error *e);

void image_limits_fill(ImageLimits *l);

/* ---------------------------------------------------------------- writeback (syncer.c) */

/* A helper process that keeps a file system's dirty data flowing to the disk (periodic syncfs())
 * while a layer is unpacked, so that the syncfs() before publishing has little left to wait for. */
typedef struct Syncer {
        pid_t pid;
        int stop_fd;
} Syncer;

/* Best effort: on failure *ret is a no-op helper. */
void syncer_start(int fs_fd, Syncer *ret);
/* Tells the helper to stop (it finishes a syncfs() in progress) without waiting for it. */
void syncer_stop(Syncer *s);
/* Stops the helper and waits for it. */
void syncer_reap(Syncer *s);

/* Parses the store's index.json. */
int store_read_index(ImageStore *s, IndexDoc *ret, Error *e);
