/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to image/: the decompressor helper process (decompress.c). */

#include <sys/types.h>

#include "image/image-private.h"

typedef struct DecompressStatus {
        int r;                       /* negative errno on failure */
        bool done;                   /* the child got to the end */
        uint64_t in_bytes;           /* compressed bytes read */
        uint64_t out_bytes;          /* uncompressed bytes produced */
        char digest[DIGEST_STR_MAX]; /* of the compressed blob */
        char message[512];
} DecompressStatus;

/* The uncompressed stream comes through a ring of slots in memory shared with the helper: the
 * helper inflates straight into a free slot and passes its index on when it is full; the caller
 * reads the slot in place and hands it back with its next read. No copies through a pipe, and
 * many megabytes of slack, so that bursts on either side (a run of small files to create, a
 * stretch of stored blocks to inflate) do not stall the other. */
typedef struct Decompressor {
        pid_t pid;
        int full_fd;   /* read: (slot, length) records of filled slots; EOF at the end */
        int free_fd;   /* send: indexes of slots handed back (a socket: no SIGPIPE) */
        int status_fd; /* one DecompressStatus at the end */
        int blob_fd;   /* borrowed, for progress */
        unsigned char *ring;
        int held; /* slot the caller is reading, -1 if none */
} Decompressor;

typedef enum DecompressFlags {
        /* The caller checks the digest of the uncompressed stream itself (a diff_id): skip the
         * gzip CRC-32, a weaker check of the same bytes. */
        DECOMPRESS_STREAM_VERIFIED = 1 << 0,
} DecompressFlags;

/* Forks the helper reading blob_fd from its current offset. digest (may be NULL) and
 * blob_size are checked at the end; limits bound the uncompressed stream. */
int decompressor_start(int blob_fd, LayerCompression c, uint64_t blob_size, const char *digest,
                       const ImageLimits *limits, DecompressFlags flags, Decompressor *ret, Error *e);
/* The next piece of the uncompressed stream, valid until the next call (or finish/kill).
 * Returns its length, 0 at the end of the stream, or a negative errno (the helper died: finish
 * says why). */
ssize_t decompressor_read(Decompressor *d, const void **ret);
/* Stops reading, collects the status and reaps the child. The child's error, if any, is
 * returned (and put into e). */
int decompressor_finish(Decompressor *d, DecompressStatus *ret, Error *e);
/* On the error path: kills and reaps the child. */
void decompressor_kill(Decompressor *d);
/* Compressed bytes consumed so far. */
uint64_t decompressor_progress(const Decompressor *d);
