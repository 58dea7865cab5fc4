/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 (FIPS 180-4), private to runtime/: the keys of the seccomp filter cache. */

#include <stddef.h>
#include <stdint.h>

#define RUNTIME_SHA256_SIZE 32

typedef struct RuntimeSha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t fill;
} RuntimeSha256;

void runtime_sha256_init(RuntimeSha256 *s);
void runtime_sha256_update(RuntimeSha256 *s, const void *data, size_t n);
/* The digest, as bytes or as 64 hex digits and a NUL; s is used up. */
void runtime_sha256_final(RuntimeSha256 *s, uint8_t out[RUNTIME_SHA256_SIZE]);
void runtime_sha256_final_hex(RuntimeSha256 *s, char out[65]);
