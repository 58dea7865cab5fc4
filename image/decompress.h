/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to image/: the decompressor helper process (decompress.c). */

#include <sys/types.h>

#include "image/image-private.h"

typedef struct DecompressStatus {
        int r;                       /* negative errno on failure */
        bool done;                   /* the child got to the end */
        uint64_t in_bytes;           /* compressed bytes read */
        uint64_t out_bytes;          /* uncompressed bytes written */
        char digest[DIGEST_STR_MAX]; /* of the compressed blob */
        char message[512];
} DecompressStatus;

typedef struct Decompressor {
        pid_t pid;
        int data_fd;   /* read the uncompressed stream here */
        int status_fd; /* one DecompressStatus at the end */
        int blob_fd;   /* borrowed, for progress */
} Decompressor;

/* Forks the helper reading blob_fd from its current offset. digest (may be NULL) and
 * blob_size are checked at the end; limits bound the uncompressed stream. */
int decompressor_start(int blob_fd, LayerCompression c, uint64_t blob_size, const char *digest,
                       const ImageLimits *limits, Decompressor *ret, Error *e);
/* Closes the data pipe, collects the status and reaps the child. The child's error, if any,
 * is returned (and put into e). */
int decompressor_finish(Decompressor *d, DecompressStatus *ret, Error *e);
/* On the error path: kills and reaps the child. */
void decompressor_kill(Decompressor *d);
/* Compressed bytes consumed so far. */
uint64_t decompressor_progress(const Decompressor *d);
