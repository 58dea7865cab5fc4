/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "common.h"

bool path_is_absolute(const char *p)
{
        return p && p[0] == '/';
}

bool path_is_normalized(const char *p)
{
        if (isempty(p))
                return false;
        if (streq(p, "/"))
                return true;
        if (streq(p, ".") || streq(p, "..") || startswith(p, "./") || startswith(p, "../"))
                return false;
        if (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
                return false;
        if (endswith(p, "/") || endswith(p, "/.") || endswith(p, "/.."))
                return false;
        return true;
}

bool path_is_safe(const char *p)
{
        if (isempty(p))
                return false;
        if (streq(p, "..") || startswith(p, "../") || endswith(p, "/..") || strstr(p, "/../"))
                return false;
        return strlen(p) < PATH_MAX;
}

char *path_simplify(char *p)
{
        if (!p)
                return NULL;
        bool absolute = p[0] == '/';
        char *w = p;
        const char *r = p;

        if (absolute)
                *(w++) = '/';
        while (*r) {
                while (*r == '/')
                        r++;
                if (!*r)
                        break;
                size_t n = strcspn(r, "/");
                if (n == 1 && r[0] == '.') {
                        r += n;
                        continue;
                }
                if (w > p && w[-1] != '/')
                        *(w++) = '/';
                memmove(w, r, n);
                w += n;
                r += n;
        }
        if (w == p)
                *(w++) = absolute ? '/' : '.';
        *w = '\0';
        return p;
}

char *path_join_real(const char *first, ...)
{
        va_list ap;
        size_t n = 0;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                n += strlen(s) + 1;
        va_end(ap);

        char *r = malloc(n + 1), *p = r;
        if (!r)
                return NULL;
        *p = '\0';
        bool slash = false; /* did the output end in '/' */
        bool any = false;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *)) {
                if (*s == '\0')
                        continue;
                if (any) {
                        if (!slash && s[0] != '/')
                                *(p++) = '/';
                        else if (slash && s[0] == '/')
                                s++;
                }
                p = stpcpy(p, s);
                slash = p > r && p[-1] == '/';
                any = true;
        }
        va_end(ap);
        *p = '\0';
        return r;
}

bool filename_is_valid(const char *s)
{
        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        if (strchr(s, '/'))
                return false;
        return strlen(s) <= NAME_MAX;
}

const char *path_basename(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

int path_dirname(const char *p, char **ret)
{
        const char *s = strrchr(p, '/');
        char *d;
        if (!s)
                d = strdup(".");
        else if (s == p)
                d = strdup("/");
        else
                d = strndup(p, s - p);
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

bool path_startswith_dir(const char *child, const char *parent)
{
        if (streq(parent, "/"))
                return child[0] == '/';
        const char *rest = startswith(child, parent);
        return rest && (*rest == '\0' || *rest == '/');
}
