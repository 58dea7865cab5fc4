/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 (FIPS 180-4), for image digests (image/) and the seccomp filter cache's keys (runtime/).
 * Our own, not libcrypto's: linking libcrypto cost every process 1.4 MB of resident memory for its
 * relocated tables, for one hash function. The x86-64 SHA extensions (SHA-NI), where the CPU has
 * them, do the compression at the speed libcrypto gets from them (layers are hashed twice while
 * they unpack, at gigabytes a second); a portable implementation serves everywhere else.
 */
#include "common/common.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t st[8], const uint8_t *p, size_t n)
{
        for (; n > 0; n--, p += 64) {
                uint32_t w[64], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6],
                                h = st[7];
                for (int i = 0; i < 16; i++)
                        w[i] = load_be32(p + 4 * i);
                for (int i = 16; i < 64; i++) {
                        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
                }
                for (int i = 0; i < 64; i++) {
                        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
                                      K[i] + w[i];
                        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                        h = g;
                        g = f;
                        f = e;
                        e = d + t1;
                        d = c;
                        c = b;
                        b = a;
                        a = t1 + t2;
                }
                st[0] += a;
                st[1] += b;
                st[2] += c;
                st[3] += d;
                st[4] += e;
                st[5] += f;
                st[6] += g;
                st[7] += h;
        }
}

#if defined(__x86_64__)
/*
 * With SHA-NI: sha256rnds2 does two rounds on the state held as the halves ABEF and CDGH, taking
 * its two W+K words from the low half of the message operand; sha256msg1/msg2 extend the
 * message schedule four words at a time (W[t-16] + σ0(W[t-15]), then + W[t-7] and σ1(W[t-2])).
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t st[8], const uint8_t *p,
                                                                     size_t n)
{
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i dcba = _mm_loadu_si128((const __m128i *)&st[0]);
        __m128i hgfe = _mm_loadu_si128((const __m128i *)&st[4]);
        __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
        __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
        __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

        for (; n > 0; n--, p += 64) {
                __m128i abef0 = abef, cdgh0 = cdgh, m[4];
                for (int i = 0; i < 4; i++)
                        m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
                        /* Unrolled, the m[] indexes become registers. */
#pragma GCC unroll 16
                for (int g = 0; g < 16; g++) {
                        /* m[g % 4] holds W[4g … 4g+3]; later groups are computed from earlier. */
                        if (g >= 4) {
                                __m128i a = m[g % 4], b = m[(g + 1) % 4], c = m[(g + 2) % 4],
                                        d = m[(g + 3) % 4];
                                /* a = W[4g-16…], b = W[4g-12…], c = W[4g-8…], d = W[4g-4…] */
                                __m128i t = _mm_sha256msg1_epu32(a, b);
                                t = _mm_add_epi32(t, _mm_alignr_epi8(d, c, 4));
                                m[g % 4] = _mm_sha256msg2_epu32(t, d);
                        }
                        __m128i wk = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)&K[4 * g]));
                        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
                        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
                }
                abef = _mm_add_epi32(abef, abef0);
                cdgh = _mm_add_epi32(cdgh, cdgh0);
        }

        __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
        __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xF0));
        _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));
}
#endif

typedef void (*BlocksFn)(uint32_t st[8], const uint8_t *p, size_t n);

static bool force_portable;

static BlocksFn blocks_fn(void)
{
#if defined(__x86_64__)
        static int has_shani = -1;
        if (has_shani < 0) {
                /* CPUID leaf 7 EBX bit 29: SHA; leaf 1 ECX bit 19: SSE4.1 (compilers do not all
                 * know "sha" for __builtin_cpu_supports). */
                unsigned a, b, c, d;
                has_shani = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) &&
                            __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
        }
        if (has_shani && !force_portable)
                return blocks_shani;
#endif
        return blocks_portable;
}

void sha256_force_portable(bool b)
{
        force_portable = b;
}

void sha256_init(Sha256 *h)
{
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(h->state, iv, sizeof iv);
        h->bytes = 0;
        h->fill = 0;
        h->blocks = blocks_fn();
}

void sha256_update(Sha256 *h, const void *data, size_t n)
{
        const uint8_t *p = data;

        h->bytes += n;
        if (h->fill > 0) {
                size_t k = MIN(n, 64 - h->fill);
                memcpy(h->buf + h->fill, p, k);
                h->fill += k;
                p += k;
                n -= k;
                if (h->fill < 64)
                        return;
                h->blocks(h->state, h->buf, 1);
                h->fill = 0;
        }
        if (n >= 64) {
                h->blocks(h->state, p, n / 64);
                p += n & ~(size_t)63;
                n &= 63;
        }
        memcpy(h->buf, p, n);
        h->fill = n;
}

void sha256_finish(Sha256 *h, uint8_t out[SHA256_SIZE])
{
        uint64_t bits = h->bytes * 8;
        uint8_t pad[72] = {0x80};
        size_t padlen = (h->fill < 56 ? 56 : 120) - h->fill;

        for (int i = 0; i < 8; i++)
                pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
        sha256_update(h, pad, padlen + 8);
        for (int i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t)(h->state[i] >> 24);
                out[4 * i + 1] = (uint8_t)(h->state[i] >> 16);
                out[4 * i + 2] = (uint8_t)(h->state[i] >> 8);
                out[4 * i + 3] = (uint8_t)h->state[i];
        }
        explicit_bzero(h->buf, sizeof h->buf);
        h->fill = 0;
}

void sha256_finish_hex(Sha256 *h, char out[2 * SHA256_SIZE + 1])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t md[SHA256_SIZE];

        sha256_finish(h, md);
        for (size_t i = 0; i < SHA256_SIZE; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 15];
        }
        out[2 * SHA256_SIZE] = '\0';
}
