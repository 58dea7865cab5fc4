/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <time.h>

#include "common.h"

/* strtoull accepts leading whitespace and a minus sign; we accept neither. */
int safe_atou64(const char *s, uint64_t *ret)
{
        if (isempty(s) || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret)
{
        if (isempty(s) || !(isdigit((unsigned char)s[0]) ||
                            ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
                return -EINVAL;
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou32(const char *s, uint32_t *ret)
{
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int safe_atoi32(const char *s, int32_t *ret)
{
        int64_t v;
        int r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT32_MIN || v > INT32_MAX)
                return -ERANGE;
        *ret = (int32_t)v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret)
{
        uint32_t v;
        int r = safe_atou32(s, &v);
        if (r >= 0)
                *ret = v;
        return r;
}

int safe_atoi(const char *s, int *ret)
{
        int32_t v;
        int r = safe_atoi32(s, &v);
        if (r >= 0)
                *ret = v;
        return r;
}

int parse_mode(const char *s, mode_t *ret)
{
        if (isempty(s) || strlen(s) > 5)
                return -EINVAL;
        unsigned v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                v = v * 8 + (unsigned)(*p - '0');
        }
        if (v > 07777)
                return -ERANGE;
        *ret = (mode_t)v;
        return 0;
}

int parse_boolean(const char *s)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "f", "off"};
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* Parses "123" or "1.5" at *p into an integer part and a fraction scaled to 10^9. */
static int parse_decimal(const char **p, uint64_t *ret_int, uint64_t *ret_frac_nano)
{
        const char *s = *p;
        uint64_t i = 0, f = 0, scale = 100000000;
        bool digits = false;

        while (isdigit((unsigned char)*s)) {
                if (i > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                i = i * 10 + (uint64_t)(*s - '0');
                s++;
                digits = true;
        }
        if (*s == '.') {
                s++;
                while (isdigit((unsigned char)*s)) {
                        f += (uint64_t)(*s - '0') * scale;
                        scale /= 10;
                        s++;
                        digits = true;
                }
        }
        if (!digits)
                return -EINVAL;
        *p = s;
        *ret_int = i;
        *ret_frac_nano = f;
        return 0;
}

/* a * b + frac * b / 1e9, with overflow checks. */
static int scale_add(uint64_t *acc, uint64_t a, uint64_t frac_nano, uint64_t mul)
{
        if (a != 0 && mul > UINT64_MAX / a)
                return -ERANGE;
        uint64_t v = a * mul;
        /* frac_nano < 1e9; split mul to avoid overflow of frac_nano * mul. */
        uint64_t fv = (mul / NSEC_PER_SEC) * frac_nano + ((mul % NSEC_PER_SEC) * frac_nano) / NSEC_PER_SEC;
        if (v > UINT64_MAX - fv)
                return -ERANGE;
        v += fv;
        if (*acc > UINT64_MAX - 1 - v) /* keep UINT64_MAX reserved for "infinity" */
                return -ERANGE;
        *acc += v;
        return 0;
}

static const struct {
        const char *suffix;
        uint64_t usec;
} time_units[] = {
        /* Longest first where one is a prefix of another. */
        {"seconds", USEC_PER_SEC},
        {"second", USEC_PER_SEC},
        {"sec", USEC_PER_SEC},
        {"s", USEC_PER_SEC},
        {"minutes", USEC_PER_MINUTE},
        {"minute", USEC_PER_MINUTE},
        {"min", USEC_PER_MINUTE},
        {"months", 2629800ULL * USEC_PER_SEC},
        {"month", 2629800ULL * USEC_PER_SEC},
        {"M", 2629800ULL * USEC_PER_SEC},
        {"msec", USEC_PER_MSEC},
        {"ms", USEC_PER_MSEC},
        {"m", USEC_PER_MINUTE},
        {"usec", 1},
        {"us", 1},
        {"\xc2\xb5s", 1}, /* µs, micro sign */
        {"\xce\xbcs", 1}, /* μs, Greek mu */
        {"hours", USEC_PER_HOUR},
        {"hour", USEC_PER_HOUR},
        {"hr", USEC_PER_HOUR},
        {"h", USEC_PER_HOUR},
        {"days", USEC_PER_DAY},
        {"day", USEC_PER_DAY},
        {"d", USEC_PER_DAY},
        {"weeks", 7 * USEC_PER_DAY},
        {"week", 7 * USEC_PER_DAY},
        {"w", 7 * USEC_PER_DAY},
        {"years", 31557600ULL * USEC_PER_SEC},
        {"year", 31557600ULL * USEC_PER_SEC},
        {"y", 31557600ULL * USEC_PER_SEC},
};

int parse_timespan(const char *s, uint64_t default_unit_usec, uint64_t *ret_usec)
{
        if (!s)
                return -EINVAL;
        while (isspace((unsigned char)*s))
                s++;
        if (*s == '\0')
                return -EINVAL;

        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
                l--;
        if (l == 8 && strneq(s, "infinity", 8)) {
                *ret_usec = USEC_INFINITY;
                return 0;
        }

        uint64_t total = 0;
        const char *p = s;
        bool any = false;
        for (;;) {
                while (isspace((unsigned char)*p))
                        p++;
                if (*p == '\0')
                        break;
                if (*p == '-')
                        return -ERANGE;

                uint64_t i, f;
                int r = parse_decimal(&p, &i, &f);
                if (r < 0)
                        return r;
                while (*p == ' ' || *p == '\t')
                        p++;

                uint64_t mul = default_unit_usec;
                if (*p != '\0' && !isdigit((unsigned char)*p)) {
                        bool found = false;
                        for (size_t k = 0; k < ELEMENTSOF(time_units); k++) {
                                const char *e = startswith(p, time_units[k].suffix);
                                if (e && !isalpha((unsigned char)*e) && (unsigned char)*e < 0x80) {
                                        mul = time_units[k].usec;
                                        p = e;
                                        found = true;
                                        break;
                                }
                        }
                        if (!found)
                                return -EINVAL;
                }
                r = scale_add(&total, i, f, mul);
                if (r < 0)
                        return r;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret_usec = total;
        return 0;
}

char *format_timespan(char *buf, size_t len, uint64_t usec)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                {"y", 31557600ULL * USEC_PER_SEC},
                {"month", 2629800ULL * USEC_PER_SEC},
                {"w", 7 * USEC_PER_DAY},
                {"d", USEC_PER_DAY},
                {"h", USEC_PER_HOUR},
                {"min", USEC_PER_MINUTE},
                {"s", USEC_PER_SEC},
                {"ms", USEC_PER_MSEC},
                {"us", 1},
        };

        if (len == 0)
                return buf;
        if (usec == USEC_INFINITY) {
                snprintf(buf, len, "infinity");
                return buf;
        }
        if (usec == 0) {
                snprintf(buf, len, "0");
                return buf;
        }
        char *p = buf;
        size_t left = len;
        *p = '\0';
        for (size_t i = 0; i < ELEMENTSOF(table) && usec > 0; i++) {
                if (usec < table[i].usec)
                        continue;
                uint64_t n = usec / table[i].usec;
                usec %= table[i].usec;
                int k = snprintf(p, left, "%s%" PRIu64 "%s", p == buf ? "" : " ", n, table[i].suffix);
                if (k < 0 || (size_t)k >= left)
                        break;
                p += k;
                left -= (size_t)k;
        }
        return buf;
}

int parse_size(const char *s, uint64_t *ret_bytes)
{
        static const struct {
                char c;
                uint64_t factor;
        } table[] = {
                {'E', 1ULL << 60}, {'P', 1ULL << 50}, {'T', 1ULL << 40}, {'G', 1ULL << 30},
                {'M', 1ULL << 20}, {'K', 1ULL << 10}, {'B', 1},
        };

        if (!s)
                return -EINVAL;
        while (isspace((unsigned char)*s))
                s++;
        if (streq(s, "infinity")) {
                *ret_bytes = SIZE_INFINITY;
                return 0;
        }

        uint64_t total = 0;
        const char *p = s;
        bool any = false;
        for (;;) {
                while (isspace((unsigned char)*p))
                        p++;
                if (*p == '\0')
                        break;
                if (*p == '-')
                        return -ERANGE;
                uint64_t i, f;
                int r = parse_decimal(&p, &i, &f);
                if (r < 0)
                        return r;
                while (*p == ' ')
                        p++;
                uint64_t factor = 1;
                bool suffix = false;
                char c = (char)toupper((unsigned char)*p);
                for (size_t k = 0; k < ELEMENTSOF(table); k++)
                        if (c == table[k].c) {
                                factor = table[k].factor;
                                p++;
                                suffix = true;
                                break;
                        }
                /* Docker-style "kb", "KiB", "mB": an optional 'i' then an optional 'b' after a multiplier.
                 */
                if (suffix && factor > 1) {
                        if (*p == 'i')
                                p++;
                        if (*p == 'b' || *p == 'B')
                                p++;
                }
                if (*p != '\0' && !isspace((unsigned char)*p) && !isdigit((unsigned char)*p))
                        return -EINVAL;
                if (factor == 1 && f != 0)
                        return -EINVAL; /* fractional bytes */
                r = scale_add(&total, i, f, factor);
                if (r < 0)
                        return r;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret_bytes = total;
        return 0;
}

char *format_bytes(char *buf, size_t len, uint64_t bytes)
{
        static const char suffixes[] = "KMGTPE";
        if (bytes == SIZE_INFINITY) {
                snprintf(buf, len, "infinity");
                return buf;
        }
        if (bytes < 1024) {
                snprintf(buf, len, "%" PRIu64 "B", bytes);
                return buf;
        }
        int i = -1;
        uint64_t unit = 1;
        while (i < 5 && bytes >= unit * 1024) {
                unit *= 1024;
                i++;
        }
        uint64_t whole = bytes / unit, tenth = (bytes % unit) * 10 / unit;
        if (tenth == 0)
                snprintf(buf, len, "%" PRIu64 "%c", whole, suffixes[i]);
        else
                snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", whole, tenth, suffixes[i]);
        return buf;
}

uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;
        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}
