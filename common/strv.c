/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

char **strv_free(char **l)
{
        STRV_FOREACH (s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

bool strv_isempty(char *const *l)
{
        return !l || !l[0];
}

int strv_consume(char ***l, char *value)
{
        if (!value)
                return -ENOMEM;
        size_t n = strv_length(*l);
        char **c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value)
{
        return strv_consume(l, strdup(value));
}

int strv_extendf(char ***l, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

int strv_extend_strv(char ***a, char *const *b)
{
        for (size_t i = 0; b && b[i]; i++) {
                int r = strv_extend(a, b[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

char **strv_copy(char *const *l)
{
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

char **strv_new(const char *first, ...)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return NULL;
        va_list ap;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                if (strv_extend(&l, s) < 0) {
                        va_end(ap);
                        return NULL;
                }
        va_end(ap);
        return TAKE_PTR(l);
}

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

size_t strv_remove(char **l, const char *s)
{
        size_t removed = 0;
        char **w = l;
        STRV_FOREACH (i, l) {
                if (streq(*i, s)) {
                        free(*i);
                        removed++;
                } else
                        *(w++) = *i;
        }
        if (w)
                *w = NULL;
        return removed;
}

char **strv_split(const char *s, const char *separators)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return NULL;
        while (s && *s) {
                size_t skip = strspn(s, separators);
                s += skip;
                if (!*s)
                        break;
                size_t n = strcspn(s, separators);
                if (strv_consume(&l, strndup(s, n)) < 0)
                        return NULL;
                s += n;
        }
        return TAKE_PTR(l);
}

char *strv_join(char *const *l, const char *separator)
{
        size_t sl = strlen(separator), n = 0;
        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + (i > 0 ? sl : 0);
        char *r = malloc(n + 1), *p = r;
        if (!r)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, separator);
                p = stpcpy(p, l[i]);
        }
        *p = '\0';
        return r;
}

static int str_compare(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **l)
{
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), str_compare);
}

void strv_uniq(char **l)
{
        size_t n = strv_length(l), w = 0;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t j = 0; j < w; j++)
                        if (streq(l[j], l[i])) {
                                dup = true;
                                break;
                        }
                if (dup)
                        free(l[i]);
                else
                        l[w++] = l[i];
        }
        if (l)
                l[w] = NULL;
}
