/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 through libcrypto (uses the CPU's SHA extensions where present) and digest strings. */
#include "image/image-private.h"

int sha256_init(Sha256 *h)
{
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(h->ctx);
                h->ctx = NULL;
                return -EIO;
        }
        return 0;
}

void sha256_update(Sha256 *h, const void *p, size_t n)
{
        if (n > 0)
                EVP_DigestUpdate(h->ctx, p, n);
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[p[i] >> 4];
                out[2 * i + 1] = hex[p[i] & 15];
        }
        out[2 * n] = '\0';
}

void sha256_final(Sha256 *h, char out[static DIGEST_STR_MAX])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        EVP_DigestFinal_ex(h->ctx, md, &len);
        memcpy(out, "sha256:", STRLEN("sha256:"));
        hex_encode(md, 32, out + STRLEN("sha256:"));
        sha256_done(h);
}

void sha256_done(Sha256 *h)
{
        if (h->ctx)
                EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
}

void sha256_buffer(const void *p, size_t n, char out[static DIGEST_STR_MAX])
{
        unsigned char md[32];
        unsigned len = sizeof(md);

        EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
        memcpy(out, "sha256:", STRLEN("sha256:"));
        hex_encode(md, 32, out + STRLEN("sha256:"));
}

bool hex_is_valid(const char *s, size_t min_len, size_t max_len)
{
        size_t n = 0;

        if (!s)
                return false;
        for (; s[n]; n++) {
                if (n >= max_len)
                        return false;
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        }
        return n >= min_len;
}

bool digest_is_valid(const char *d)
{
        const char *hex = d ? startswith(d, "sha256:") : NULL;
        return hex && hex_is_valid(hex, SHA256_HEX_LEN, SHA256_HEX_LEN);
}

const char *image_digest_short(const char *digest, char buf[static 13])
{
        const char *hex = digest ? startswith(digest, "sha256:") : NULL;

        if (!hex)
                hex = strempty(digest);
        snprintf(buf, 13, "%s", hex);
        return buf;
}
