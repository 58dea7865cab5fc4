/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * image/ — the local image store and container root filesystems.
 *
 * The store is a plain OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`), by
 * default /var/lib/ctrmgr/images, so `skopeo copy … oci:/var/lib/ctrmgr/images:app:1.0` or
 * umoci write into it directly. Layers are unpacked once into a content-addressed cache
 * (default /var/lib/ctrmgr/layers/sha256/<hex of the diff-id>/) shared by every container, and a
 * container's root filesystem is an overlayfs mount of those directories with a per-container
 * upper/work directory under the containers directory (default /var/lib/ctrmgr/containers/NAME/).
 *
 * Trust: every blob is checked (size and sha256) before it is used, each layer's uncompressed
 * stream is checked against the config's diff_ids, and a layer becomes visible in the cache
 * only after it was completely and successfully unpacked (staging directory + rename).
 * Unpacking never lets libarchive write: it only reads, and our code creates each entry
 * relative to the layer's directory fd (openat2 RESOLVE_IN_ROOT), see image/unpack.c.
 *
 * Concurrency: a store may be used by several processes at once (the daemon and `ctrmgr image`).
 * Imports, rootfs mounts and unpacks take a shared lock, prune an exclusive one; index.json is
 * replaced atomically under its own short lock; blobs are written to a temporary file and
 * renamed. Killing any operation at any point leaves the store valid (at worst with stray blobs
 * or staging directories that the next prune removes).
 *
 * Processes: unpacking forks a short-lived helper process that decompresses (so
 * decompression runs on one core while the caller writes files on another), and for layers of
 * 16 MiB and more a second one that keeps the written data flowing to the disk (periodic
 * syncfs()), so that the syncfs() before a layer is published waits for little. No threads are
 * created; the helpers are reaped before the call returns. SIGCHLD handlers of the caller see
 * the helper's exit; callers using signalfd/sd-event for SIGCHLD should reap only their own
 * PIDs (waitid on a specific pid) — image/ always waits for its helper by PID.
 *
 * Conventions (see common/common.h): negative errno on failure, >= 0 on success, outputs are
 * ret_* parameters left untouched on failure, optional Error *reterr filled with a message
 * naming the image reference, blob digest, layer and tar entry as applicable. Nothing here
 * prints. Most operations need root (mknod, chown, overlay mounts); reading and resolving do
 * not.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define IMAGE_DEFAULT_STORE_DIR      "/var/lib/ctrmgr/images"
#define IMAGE_DEFAULT_LAYERS_DIR     "/var/lib/ctrmgr/layers"
#define IMAGE_DEFAULT_CONTAINERS_DIR "/var/lib/ctrmgr/containers"
/* Beside any other store, its layer cache and container directories live inside it. */
#define IMAGE_STORE_LAYERS_SUBDIR     ".ctrmgr-layers"
#define IMAGE_STORE_CONTAINERS_SUBDIR ".ctrmgr-containers"

/* ---------------------------------------------------------------- limits and options */

/* Bounds applied while unpacking a layer and while importing archives. 0 means the default. */
typedef struct ImageLimits {
        uint64_t max_layer_size; /* uncompressed bytes per layer; default 64 GiB */
        uint64_t max_entries;    /* tar entries per layer; default 4,000,000 */
        uint64_t max_ratio;      /* uncompressed/compressed; default 1000, checked past 64 MiB */
        uint64_t max_blob_size;  /* a single blob (compressed) on import; default 64 GiB */
        uint64_t max_json_size;  /* manifests, indexes, configs; default 4 MiB */
} ImageLimits;

/* Progress of a long operation: what ("unpacking sha256:abcd…", "importing …"), bytes done so
 * far and the total (0 if unknown). Called at most a few times a second. */
typedef void (*ImageProgressFn)(const char *what, uint64_t done, uint64_t total, void *userdata);

/* The layer cache and the container directories belong to one store: prune removes the layers its
 * images and containers do not use. So unless given, they are the host's
 * (IMAGE_DEFAULT_LAYERS_DIR, IMAGE_DEFAULT_CONTAINERS_DIR) only for the default store (that path,
 * or the same directory under another name); for any other store they are
 * STORE/IMAGE_STORE_LAYERS_SUBDIR and STORE/IMAGE_STORE_CONTAINERS_SUBDIR, so that a scratch
 * store never fills or prunes the host's caches. */
typedef struct ImageStoreOptions {
        const char *store_dir;      /* NULL: IMAGE_DEFAULT_STORE_DIR */
        const char *layers_dir;     /* NULL: see above */
        const char *containers_dir; /* NULL: see above */
        bool create;                /* create the directories and an empty layout if missing */
        bool read_only;             /* never write (resolve/list/inspect only) */
        ImageLimits limits;
        ImageProgressFn progress; /* optional */
        void *progress_userdata;
} ImageStoreOptions;

typedef struct ImageStore ImageStore;

/* Opens (and with opts->create, creates) the store. opts may be NULL for all defaults. An
 * existing directory that is not an OCI layout (no `oci-layout` file) is refused. */
int image_store_open(const ImageStoreOptions *opts, ImageStore **ret, Error *reterr);
ImageStore *image_store_free(ImageStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageStore *, image_store_free);
#define _cleanup_image_store_ _cleanup_(image_store_freep)

const char *image_store_path(const ImageStore *s);
const char *image_store_layers_path(const ImageStore *s);
const char *image_store_containers_path(const ImageStore *s);

/* ---------------------------------------------------------------- resolved images */

typedef struct ImageConfig {
        char **entrypoint;    /* NULL when unset */
        char **cmd;           /* NULL when unset */
        char **env;           /* "KEY=VALUE" entries, NULL when unset */
        char *working_dir;    /* NULL when unset */
        char *user;           /* NULL when unset ("uid", "uid:gid", "name", …, verbatim) */
        char *stop_signal;    /* NULL when unset, verbatim ("SIGTERM", "15", …) */
        char **labels;        /* "KEY=VALUE" entries sorted by key, NULL when none */
        char **exposed_ports; /* "80/tcp", "53/udp", sorted, NULL when none */
        char *os;
        char *architecture;
        char *variant; /* NULL when unset */
        char *created; /* RFC 3339 as in the config, NULL when unset */
} ImageConfig;

typedef struct ImageLayer {
        char *digest;     /* "sha256:…" of the blob (compressed) */
        char *media_type; /* as in the manifest */
        uint64_t size;    /* blob size */
        char *diff_id;    /* "sha256:…" of the uncompressed tar (from the config) */
} ImageLayer;

typedef struct Image {
        char *reference;       /* as given to image_resolve() */
        char *name;            /* ref name from the index ("app:1.0"), NULL for digest refs */
        char *index_digest;    /* "sha256:…" of the image index chosen from, NULL if none */
        char *manifest_digest; /* "sha256:…" of the (platform-selected) manifest: the image ID */
        char *config_digest;
        uint64_t manifest_size;
        ImageConfig config;
        ImageLayer *layers; /* bottom first */
        size_t n_layers;

        /* private */
        int blobs_fd; /* blobs/sha256 of the layout the image came from */
} Image;

/*
 * Resolves a reference in the store and reads, verifies and parses the manifest and config.
 * Accepted references:
 *   NAME[:TAG]        through index.json `org.opencontainers.image.ref.name` (a full "name:tag"
 *                     as skopeo writes, or just the tag as umoci writes) or
 *                     `io.containerd.image.name`; TAG defaults to "latest"; "docker.io/library/"
 *                     and "localhost/" prefixes are ignored when comparing;
 *   NAME@sha256:HEX   by digest (the name is only informative);
 *   sha256:HEX, HEX   a manifest or index digest; a unique prefix of at least 12 hex digits
 *                     matches images listed in index.json;
 *   oci:/DIR[:REF]    an image in another OCI layout (REF as above; if omitted the layout must
 *                     list exactly one image). Its layers still go to this store's cache.
 * Image indexes (OCI or Docker manifest lists) select the manifest for the running platform
 * (os linux, architecture and variant of this machine). Docker v2 schema 2 media types are
 * read like their OCI twins. -ENOENT (with a message) when nothing matches, -ENXIO when no
 * manifest matches this platform, -EBADMSG for a digest mismatch or invalid document.
 */
int image_resolve(ImageStore *s, const char *reference, Image **ret, Error *reterr);
Image *image_free(Image *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);
#define _cleanup_image_ _cleanup_(image_freep)

/* Short form of a digest for humans: the first 12 hex digits. Returns a pointer into digest. */
const char *image_digest_short(const char *digest, char buf[static 13]);

/* ---------------------------------------------------------------- layers and root filesystems */

/*
 * Makes sure every layer of img is unpacked in the layer cache, unpacking (and verifying) the
 * missing ones. Already cached layers cost one fstatat() each. Concurrent callers unpacking the
 * same layer both succeed; one result wins. Returns the number of layers unpacked now.
 */
int image_unpack(ImageStore *s, const Image *img, Error *reterr);

/* Directory of the cached layer with this diff-id (whether or not it exists yet). */
int image_layer_path(ImageStore *s, const char *diff_id, char **ret);

typedef enum ImageRootfsFlags {
        IMAGE_ROOTFS_READ_ONLY = 1 << 0, /* no upper dir: the rootfs is the read-only layers */
        IMAGE_ROOTFS_FRESH = 1 << 1,     /* discard any upper dir left from an earlier run */
} ImageRootfsFlags;

/*
 * Mounts the root filesystem of img for the container NAME at mountpoint (an existing empty
 * directory): image_unpack() first if needed, then an overlayfs of the cached layers with
 * upper/work directories in <containers>/NAME/ (kept across restarts unless
 * IMAGE_ROOTFS_FRESH). Records in <containers>/NAME/ which layers the container uses, so
 * image_prune() never removes them while the record exists. NAME must be a valid file name.
 * The mount is made in the caller's mount namespace, nosuid is not set (images carry setuid
 * binaries), nodev is not set (the runtime mounts a fresh /dev).
 */
int image_rootfs_mount(ImageStore *s, const Image *img, const char *name, const char *mountpoint,
                       ImageRootfsFlags flags, Error *reterr);

/* Unmounts a rootfs mounted by image_rootfs_mount() (lazily if busy). Not mounted is success. */
int image_rootfs_umount(const char *mountpoint, Error *reterr);

/* Removes <containers>/NAME/ (upper, work and the layer record). The rootfs must be unmounted
 * first. Missing is success. */
int image_rootfs_remove(ImageStore *s, const char *name, Error *reterr);

/* ---------------------------------------------------------------- listing, removing, pruning */

typedef struct ImageSummary {
        char *name;   /* ref name, NULL for untagged entries */
        char *digest; /* the index.json entry's digest (manifest or index) */
        char *media_type;
        uint64_t size;      /* sum of the manifest, config and layer blob sizes (for the
                             * platform-selected manifest of an index) */
        char *created;      /* from the config, may be NULL */
        char *architecture; /* may be NULL */
        bool broken;        /* blobs missing or invalid; *error says why */
        char *error;
} ImageSummary;

void image_summary_free_many(ImageSummary *l, size_t n);

/* Lists index.json entries, sorted by name (untagged last). */
int image_list(ImageStore *s, ImageSummary **ret, size_t *ret_n, Error *reterr);

/* Removes the index.json entries matching reference (a name or digest as in image_resolve()).
 * Blobs and layer caches stay until image_prune(). -ENOENT when nothing matched. */
int image_remove(ImageStore *s, const char *reference, Error *reterr);

typedef struct ImagePruneStats {
        uint64_t blobs_removed;
        uint64_t blob_bytes_removed;
        uint64_t layers_removed;
        uint64_t staging_removed;
} ImagePruneStats;

/*
 * Removes blobs not reachable from index.json and layer caches used by no image in the store
 * and by no container record. in_use lists references or manifest digests (as accepted by
 * image_resolve()) whose layers must be kept even if they are no longer in index.json (e.g.
 * images of running containers given by the daemon); may be NULL. Also removes leftovers of
 * killed imports and unpacks. Takes the store's exclusive lock.
 */
int image_prune(ImageStore *s, char *const *in_use, ImagePruneStats *ret, Error *reterr);

/* ---------------------------------------------------------------- imports */

/*
 * Imports an OCI layout directory, an OCI archive (tar of a layout, as `podman save --format
 * oci-archive` writes) or a Docker archive (`docker save` / `podman save`). Every blob is
 * verified while copied. name, if given, tags the imported image (the source must then hold
 * exactly one image); otherwise the source's own names are kept (ref.name annotations or
 * RepoTags), and untagged images are listed by digest. An existing tag is moved. Returns in
 * ret_refs (optional) the names (or manifest digests) added.
 */
int image_import(ImageStore *s, const char *path, const char *name, char ***ret_refs, Error *reterr);

/*
 * Makes a one-layer image from a plain directory or a tar archive (uncompressed, gzip or zstd)
 * and tags it as ref. From a directory, owners, modes, times, hardlinks and the xattrs an unpack
 * keeps (user.*, security.capability, POSIX ACLs) go into the layer; sockets are skipped. A
 * tarball is stored as it is (its compression kept). Progress is reported as for imports. cfg gives
 * entrypoint, cmd, env, working_dir, user, labels, exposed_ports and stop_signal (the rest is ignored;
 * os/architecture are this machine's); NULL fields stay unset, except env which defaults to a standard PATH.
 * ret_digest (optional) gets the manifest digest.
 */
int image_import_rootfs(ImageStore *s, const char *path, const char *ref, const ImageConfig *cfg,
                        char **ret_digest, Error *reterr);

/* Frees the fields of cfg (not cfg itself). */
void image_config_done(ImageConfig *cfg);
