/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 (FIPS 180-4): the keys of the seccomp filter cache (runtime/seccomp.c). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "runtime/sha256.h"

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

void runtime_sha256_init(RuntimeSha256 *s)
{
        static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(s->h, h0, sizeof(h0));
        s->len = 0;
        s->fill = 0;
}

static void sha256_block(RuntimeSha256 *s, const uint8_t *p)
{
        uint32_t w[64], a, b, c, d, e, f, g, h;

        for (size_t i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (size_t i = 16; i < 64; i++) {
                uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6],
        h = s->h[7];
        for (size_t i = 0; i < 64; i++) {
                uint32_t t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
                              sha256_k[i] + w[i];
                uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
        s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void runtime_sha256_update(RuntimeSha256 *s, const void *data, size_t n)
{
        const uint8_t *p = data;

        s->len += n;
        while (n > 0) {
                size_t k = MIN(n, 64 - s->fill);
                memcpy(s->buf + s->fill, p, k);
                s->fill += k, p += k, n -= k;
                if (s->fill == 64) {
                        sha256_block(s, s->buf);
                        s->fill = 0;
                }
        }
}

static void sha256_finish(RuntimeSha256 *s)
{
        uint64_t bits = s->len * 8;
        uint8_t pad = 0x80, zero = 0, lenbuf[8];

        runtime_sha256_update(s, &pad, 1);
        while (s->fill != 56)
                runtime_sha256_update(s, &zero, 1);
        for (size_t i = 0; i < 8; i++)
                lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
        runtime_sha256_update(s, lenbuf, 8);
}

void runtime_sha256_final_hex(RuntimeSha256 *s, char out[65])
{
        sha256_finish(s);
        for (size_t i = 0; i < 8; i++)
                snprintf(out + 8 * i, 9, "%08" PRIx32, s->h[i]);
}

void runtime_sha256_final(RuntimeSha256 *s, uint8_t out[RUNTIME_SHA256_SIZE])
{
        sha256_finish(s);
        for (size_t i = 0; i < 32; i++)
                out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}
