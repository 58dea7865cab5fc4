/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Digest strings ("sha256:<hex>") over common/'s SHA-256. */
#include "image/image-private.h"

void sha256_final(Sha256 *h, char out[static DIGEST_STR_MAX])
{
        memcpy(out, "sha256:", STRLEN("sha256:"));
        sha256_finish_hex(h, out + STRLEN("sha256:"));
}

void sha256_done(Sha256 *h)
{
        explicit_bzero(h->buf, sizeof h->buf);
        h->fill = 0;
}

void sha256_buffer(const void *p, size_t n, char out[static DIGEST_STR_MAX])
{
        Sha256 h;
        sha256_init(&h);
        sha256_update(&h, p, n);
        sha256_final(&h, out);
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
