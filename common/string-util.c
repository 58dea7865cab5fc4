/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "common.h"

char *strjoin_real(const char *x, ...)
{
        va_list ap;
        size_t n = 0;

        va_start(ap, x);
        for (const char *s = x; s; s = va_arg(ap, const char *))
                n += strlen(s);
        va_end(ap);

        char *r = malloc(n + 1), *p = r;
        if (!r)
                return NULL;
        va_start(ap, x);
        for (const char *s = x; s; s = va_arg(ap, const char *))
                p = stpcpy(p, s);
        va_end(ap);
        *p = '\0';
        return r;
}

char *strprintf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        return k < 0 ? NULL : s;
}

const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

const char *startswith_no_case(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncasecmp(s, prefix, l) == 0 ? s + l : NULL;
}

const char *endswith(const char *s, const char *suffix)
{
        size_t sl = strlen(s), xl = strlen(suffix);
        if (xl > sl)
                return NULL;
        return memcmp(s + sl - xl, suffix, xl) == 0 ? s + sl - xl : NULL;
}

char *strstrip(char *s)
{
        if (!s)
                return NULL;
        char *b = s;
        while (*b && isspace((unsigned char)*b))
                b++;
        size_t n = strlen(b);
        while (n > 0 && isspace((unsigned char)b[n - 1]))
                n--;
        memmove(s, b, n);
        s[n] = '\0';
        return s;
}

int free_and_strdup(char **p, const char *s)
{
        char *c = NULL;
        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        free(*p);
        *p = c;
        return 0;
}

int strextend_with_separator(char **p, const char *sep, const char *s)
{
        char *n = isempty(*p) ? strdup(s) : strjoin(*p, sep ?: "", s);
        if (!n)
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

bool string_has_cc(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < ' ' || *p == 127)
                        return true;
        return false;
}

bool ascii_is_valid(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p >= 128)
                        return false;
        return true;
}

bool utf8_is_valid(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                unsigned n;
                uint32_t cp;
                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        cp = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        cp = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        cp = *p & 0x07;
                } else
                        return false;
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (*p & 0x3f);
                }
                /* Overlong forms, surrogates and values past Unicode are invalid. */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
        }
        return true;
}

char *cescape(const char *s)
{
        char *r = malloc(strlen(s) * 4 + 1), *p = r;
        if (!r)
                return NULL;
        for (const unsigned char *i = (const unsigned char *)s; *i; i++) {
                switch (*i) {
                case '\n':
                        p = stpcpy(p, "\\n");
                        break;
                case '\t':
                        p = stpcpy(p, "\\t");
                        break;
                case '\r':
                        p = stpcpy(p, "\\r");
                        break;
                case '\\':
                        p = stpcpy(p, "\\\\");
                        break;
                case '"':
                        p = stpcpy(p, "\\\"");
                        break;
                default:
                        if (*i < ' ' || *i >= 127) {
                                sprintf(p, "\\x%02x", *i);
                                p += 4;
                        } else
                                *(p++) = (char)*i;
                }
        }
        *p = '\0';
        return r;
}
