/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.seccomp kept as text (for spec.c). A seccomp profile is most of a config.json that has
 * one (containers-common's: ~430 syscall names), and create needs it only as a cache key unless
 * the cache misses. So the text is scanned first, and json-c parses the document with `null` in
 * the place of linux.seccomp: the profile never becomes a tree of a thousand small allocations,
 * whose pages each cost a fault. The scan is strict RFC 8259 and knows where json-c would take
 * linux.seccomp from (the last member of that name, json-c's rule for duplicates); whatever it is
 * not sure of (json-c's extensions such as comments, a member name with an escape where a
 * duplicate could hide, \u escapes or control characters in the profile, deep nesting) leaves
 * the document to json-c as a whole, as before. The profile is valid JSON then, so json-c, which
 * accepts more, parses it on a miss.
 */

#include <ctype.h>

#include "runtime/spec.h"

typedef struct JsonScan {
        const char *p, *end;
        unsigned n_unicode; /* \u escapes seen */
} JsonScan;

/* Below JSON_TOKENER_DEFAULT_DEPTH, so that json-c would have taken the whole document too. */
#define JSON_SCAN_MAX_DEPTH 30

static void scan_ws(JsonScan *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                s->p++;
}

static bool scan_char(JsonScan *s, char c)
{
        scan_ws(s);
        if (s->p >= s->end || *s->p != c)
                return false;
        s->p++;
        return true;
}

static bool scan_string(JsonScan *s, bool *ret_escaped)
{
        bool escaped = false;
        if (s->p >= s->end || *s->p != '"')
                return false;
        for (s->p++; s->p < s->end; s->p++) {
                unsigned char c = (unsigned char)*s->p;
                if (c == '"') {
                        s->p++;
                        if (ret_escaped)
                                *ret_escaped = escaped;
                        return true;
                }
                if (c < 0x20)
                        return false;
                if (c != '\\')
                        continue;
                escaped = true;
                if (++s->p >= s->end)
                        return false;
                if (*s->p == 'u') {
                        for (int i = 0; i < 4; i++)
                                if (++s->p >= s->end || !isxdigit((unsigned char)*s->p))
                                        return false;
                        s->n_unicode++;
                } else if (!*s->p || !strchr("\"\\/bfnrt", *s->p))
                        return false;
        }
        return false;
}

static bool scan_digits(JsonScan *s)
{
        const char *start = s->p;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
                s->p++;
        return s->p > start;
}

static bool scan_number(JsonScan *s)
{
        if (s->p < s->end && *s->p == '-')
                s->p++;
        if (s->p < s->end && *s->p == '0')
                s->p++;
        else if (!scan_digits(s))
                return false;
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if (!scan_digits(s))
                        return false;
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (!scan_digits(s))
                        return false;
        }
        return true;
}

static bool scan_value(JsonScan *s, unsigned depth);

/* An object's members; with name, [*ret_a, *ret_b) is the value of the last member called so
 * (NULL if none) and *ret_plain whether no member name had an escape. */
static bool scan_object(JsonScan *s, unsigned depth, const char *name, const char **ret_a,
                        const char **ret_b, bool *ret_plain)
{
        bool plain = true;
        if (depth > JSON_SCAN_MAX_DEPTH || !scan_char(s, '{'))
                return false;
        if (name)
                *ret_a = *ret_b = NULL;
        if (scan_char(s, '}'))
                goto done;
        for (;;) {
                const char *k;
                bool escaped;
                scan_ws(s);
                k = s->p + 1;
                if (!scan_string(s, &escaped))
                        return false;
                plain = plain && !escaped;
                size_t kn = (size_t)(s->p - 1 - k);
                if (!scan_char(s, ':'))
                        return false;
                scan_ws(s);
                const char *a = s->p;
                if (!scan_value(s, depth + 1))
                        return false;
                if (name && kn == strlen(name) && memcmp(k, name, kn) == 0) {
                        *ret_a = a;
                        *ret_b = s->p;
                }
                if (scan_char(s, '}'))
                        break;
                if (!scan_char(s, ','))
                        return false;
        }
done:
        if (ret_plain)
                *ret_plain = plain;
        return true;
}

static bool scan_value(JsonScan *s, unsigned depth)
{
        scan_ws(s);
        if (s->p >= s->end)
                return false;
        switch (*s->p) {
        case '{':
                return scan_object(s, depth, NULL, NULL, NULL, NULL);
        case '[':
                if (depth > JSON_SCAN_MAX_DEPTH)
                        return false;
                s->p++;
                if (scan_char(s, ']'))
                        return true;
                for (;;) {
                        if (!scan_value(s, depth + 1))
                                return false;
                        if (scan_char(s, ']'))
                                return true;
                        if (!scan_char(s, ','))
                                return false;
                }
        case '"':
                return scan_string(s, NULL);
        case 't':
        case 'f':
        case 'n':
                FOREACH_ARRAY (lit, ((const char *[]){"true", "false", "null"}), 3) {
                        size_t n = strlen(*lit);
                        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, *lit, n) == 0) {
                                s->p += n;
                                return true;
                        }
                }
                return false;
        default:
                return scan_number(s);
        }
}

bool spec_find_seccomp_text(const char *text, size_t size, size_t *ret_off, size_t *ret_size)
{
        JsonScan doc = {.p = text, .end = text + size};
        const char *la, *lb, *sa, *sb;
        bool plain;

        if (!scan_object(&doc, 1, "linux", &la, &lb, &plain) || !plain || !la)
                return false;
        scan_ws(&doc);
        if (doc.p != doc.end)
                return false;
        JsonScan lx = {.p = la, .end = lb};
        if (*la != '{' || !scan_object(&lx, 2, "seccomp", &sa, &sb, &plain) || !plain || !sa || *sa != '{')
                return false;
        JsonScan sc = {.p = sa, .end = sb};
        if (!scan_object(&sc, 3, NULL, NULL, NULL, NULL) || sc.n_unicode > 0)
                return false;
        *ret_off = (size_t)(sa - text);
        *ret_size = (size_t)(sb - sa);
        return true;
}
