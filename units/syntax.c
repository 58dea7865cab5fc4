/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units/syntax.c — systemd unit-file syntax on top of inih.
 *
 * How inih is used, and why it is wrapped: inih (libinih, Debian's build) splits "[Section]" and
 * "Key = Value" lines and strips the whitespace around them, which is all of systemd's line
 * grammar that maps onto INI. Debian compiles its option macros into run-time variables; we set
 * them before every parse: no inline comments (systemd keeps "# x" after a value as part of the
 * value), no Python-style multi-line values (systemd continuations are different), no BOM
 * handling (done here), heap line buffer that may grow (lines up to UNIT_LINE_MAX).
 *
 * What inih cannot express is done here, before inih sees the text, in a pre-joining pass that
 * produces one "logical line" per entry with its starting physical line number:
 *   - a line ending in an odd number of backslashes continues on the next line; the backslash
 *     becomes a space; comment lines inside a continuation are skipped; a continuation still
 *     open at the end of the file is parsed as a last line;
 *   - a comment line ('#' or ';' first) is ignored even when it ends in a backslash;
 *   - a UTF-8 BOM at the start is skipped; "\r\n" line ends are accepted;
 *   - lines with invalid UTF-8 or NUL bytes are ignored with a warning;
 *   - a logical line longer than UNIT_LINE_MAX is an error that stops the file;
 *   - a section header must end in ']' (error otherwise, like systemd); inih would accept
 *     "[Unit]junk" and truncates long names, so the section is tracked here;
 *   - "Missing '='", "Missing key name", "Assignment outside of section" warnings; inih would
 *     also split at ':' ("Key: value"), so a key containing ':' is diagnosed here and not fed.
 * The logical lines are fed to ini_parse_stream() through a reader that hands out one line per
 * call; inih calls our handler before it asks for the next line, so the reader's current line is
 * the handler's FILE:LINE.
 *
 * Also here: systemd's word splitting with quotes and C escapes (systemd.syntax(7) "Quoting"),
 * used for lists, command lines and Environment=.
 */

#include <ini.h>

#include "units/unit-internal.h"

typedef enum LineKind {
        LINE_SECTION,
        LINE_ASSIGNMENT,
} LineKind;

typedef struct LogicalLine {
        LineKind kind;
        unsigned line;
        char *text;    /* stripped; for LINE_SECTION the whole "[Name]" */
        char *section; /* LINE_SECTION: the name */
} LogicalLine;

typedef struct Feed {
        LogicalLine *lines;
        size_t n, allocated;
        size_t next;         /* index of the next line to hand to inih */
        size_t offset;       /* how much of lines[next] was handed out already */
        size_t current;      /* the line inih is working on */
        const char *section; /* current section as we see it; NULL before any */
        Unit *unit;
        const char *file;
        AssignmentList *out;
        int error; /* ENOMEM inside the handler */
} Feed;

void assignment_list_done(AssignmentList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].section);
                free(l->items[i].key);
                free(l->items[i].value);
        }
        free(l->items);
        *l = (AssignmentList){};
}

static void feed_done(Feed *f)
{
        for (size_t i = 0; i < f->n; i++) {
                free(f->lines[i].text);
                free(f->lines[i].section);
        }
        free(f->lines);
}

static int feed_add(Feed *f, LineKind kind, unsigned line, const char *text, const char *section)
{
        if (f->n == f->allocated) {
                size_t a = f->allocated ? f->allocated * 2 : 32;
                LogicalLine *n = realloc(f->lines, a * sizeof(LogicalLine));
                if (!n)
                        return -ENOMEM;
                f->lines = n;
                f->allocated = a;
        }
        LogicalLine *l = &f->lines[f->n];
        *l = (LogicalLine){.kind = kind, .line = line};
        l->text = strdup(text);
        l->section = section ? strdup(section) : NULL;
        if (!l->text || (section && !l->section)) {
                free(l->text);
                free(l->section);
                return -ENOMEM;
        }
        f->n++;
        return 0;
}

static bool section_name_is_valid(const char *s)
{
        if (isempty(s))
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 127 || *p == '[' || *p == ']')
                        return false;
        return true;
}

/* Handles one logical line (systemd's parse_line()): comments, sections, assignments. */
static int logical_line(Feed *f, char *l, unsigned line, bool *in_section, bool *section_ok)
{
        l = strstrip(l);
        if (*l == '\0' || strchr("#;", *l))
                return 0;

        if (!utf8_is_valid(l)) {
                unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line, "Line is not valid UTF-8, ignoring");
                return 0;
        }

        if (*l == '[') {
                size_t k = strlen(l);
                if (l[k - 1] != ']') {
                        unit_diag(f->unit, UNIT_DIAG_ERROR, f->file, line, "Invalid section header '%s'", l);
                        *in_section = true;
                        *section_ok = false;
                        return 0;
                }
                _cleanup_free_ char *name = strndup(l + 1, k - 2);
                if (!name)
                        return -ENOMEM;
                if (!section_name_is_valid(name)) {
                        _cleanup_free_ char *e = cescape(l);
                        unit_diag(f->unit, UNIT_DIAG_ERROR, f->file, line, "Invalid section header '%s'",
                                  e ?: "?");
                        *in_section = true;
                        *section_ok = false;
                        return 0;
                }
                *in_section = true;
                *section_ok = true;
                if (!unit_section_is_known(name) && !startswith(name, "X-"))
                        unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line,
                                  "Unknown section '%s', ignoring", name);
                return feed_add(f, LINE_SECTION, line, l, name);
        }

        char *eq = strchr(l, '=');
        if (!eq) {
                unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line, "Missing '=', ignoring line");
                return 0;
        }
        if (eq == l) {
                unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line,
                          "Missing key name before '=', ignoring line");
                return 0;
        }
        if (!*in_section) {
                unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line,
                          "Assignment outside of section, ignoring");
                return 0;
        }
        if (!*section_ok)
                return 0; /* below an invalid header: already reported */

        /* inih splits at the first '=' or ':'; systemd only at '='. A ':' in the key cannot be a
         * key we know, so report it here like any unknown key. */
        if (memchr(l, ':', eq - l)) {
                _cleanup_free_ char *key = strndup(l, eq - l);
                if (!key)
                        return -ENOMEM;
                strstrip(key);
                if (!startswith(key, "X-"))
                        unit_diag(f->unit, UNIT_DIAG_WARNING, f->file, line,
                                  "Invalid key name '%s', ignoring", key);
                return 0;
        }
        return feed_add(f, LINE_ASSIGNMENT, line, l, NULL);
}

/* fgets()-like reader for inih: one logical line per line, '\n' terminated. */
static char *feed_reader(char *str, int num, void *stream)
{
        Feed *f = stream;

        if (num <= 1 || f->next >= f->n)
                return NULL;

        LogicalLine *l = &f->lines[f->next];
        if (f->offset == 0) {
                f->current = f->next;
                if (l->kind == LINE_SECTION)
                        f->section = l->section;
        }
        size_t len = strlen(l->text);
        size_t left = len + 1 - f->offset; /* including the '\n' */
        size_t n = MIN(left, (size_t)num - 1);
        size_t from_text = f->offset < len ? MIN(n, len - f->offset) : 0;
        memcpy(str, l->text + f->offset, from_text);
        if (from_text < n)
                str[from_text] = '\n';
        str[n] = '\0';
        f->offset += n;
        if (f->offset > len) {
                f->next++;
                f->offset = 0;
        }
        return str;
}

static int feed_handler(void *user, const char *section, const char *name, const char *value)
{
        Feed *f = user;
        LogicalLine *l = &f->lines[f->current];

        (void)section; /* inih's copy is truncated at 50 characters; ours is not */
        if (!f->section || !name || !value)
                return 1;

        AssignmentList *out = f->out;
        if (out->n == out->allocated) {
                size_t a = out->allocated ? out->allocated * 2 : 32;
                Assignment *n = realloc(out->items, a * sizeof(Assignment));
                if (!n) {
                        f->error = -ENOMEM;
                        return 0;
                }
                out->items = n;
                out->allocated = a;
        }
        Assignment *a = &out->items[out->n];
        *a = (Assignment){.file = f->file, .line = l->line};
        a->section = strdup(f->section);
        a->key = strdup(name);
        a->value = strdup(value);
        if (!a->section || !a->key || !a->value) {
                free(a->section);
                free(a->key);
                free(a->value);
                f->error = -ENOMEM;
                return 0;
        }
        out->n++;
        return 1;
}

static bool line_is_comment(const char *s, size_t len)
{
        size_t i = 0;
        while (i < len && strchr(" \t\n\r\f\v", s[i]))
                i++;
        return i < len && (s[i] == '#' || s[i] == ';');
}

static bool ends_in_odd_backslashes(const char *s, size_t len)
{
        size_t n = 0;
        while (n < len && s[len - 1 - n] == '\\')
                n++;
        return n % 2 == 1;
}

static size_t strip_trailing_ws(const char *s, size_t len)
{
        while (len > 0 && strchr(" \t\n\r\f\v", s[len - 1]))
                len--;
        return len;
}

int unit_syntax_parse(Unit *u, const char *file, const char *data, size_t size, AssignmentList *out)
{
        _cleanup_free_ char *cont = NULL; /* the continuation being built */
        size_t cont_len = 0;
        unsigned cont_line = 0;
        bool in_section = false, section_ok = false;
        Feed f = {.unit = u, .file = file, .out = out};
        int r;

        if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                data += 3;
                size -= 3;
        }

        unsigned line = 0;
        for (size_t pos = 0; pos < size || cont;) {
                const char *s = data + pos;
                size_t len = 0;
                bool eof = pos >= size;

                if (!eof) {
                        const char *nl = memchr(s, '\n', size - pos);
                        len = nl ? (size_t)(nl - s) : size - pos;
                        pos += len + (nl ? 1 : 0);
                        line++;
                        if (len > 0 && s[len - 1] == '\r')
                                len--;
                        if (memchr(s, '\0', len)) {
                                unit_diag(u, UNIT_DIAG_WARNING, file, line,
                                          "Line contains a NUL byte, ignoring");
                                continue;
                        }
                }

                if (eof) {
                        /* dangling continuation at the end of the file: parse what we have */
                        r = logical_line(&f, cont, cont_line, &in_section, &section_ok);
                        if (r < 0)
                                goto finish;
                        cont = mfree(cont);
                        break;
                }

                if (cont && line_is_comment(s, len))
                        continue; /* comments inside a continuation are skipped */
                if (!cont && line_is_comment(s, len))
                        continue; /* a comment, even when it ends in a backslash */

                /* systemd strips the line before looking at a trailing backslash */
                len = strip_trailing_ws(s, len);
                size_t lead = 0;
                if (cont)
                        while (lead < len && strchr(" \t\f\v\r", s[lead]))
                                lead++;

                bool escaped = ends_in_odd_backslashes(s, len);
                size_t add = len - lead;
                if (cont_len + add + 1 > UNIT_LINE_MAX) {
                        unit_diag(u, UNIT_DIAG_ERROR, file, cont ? cont_line : line,
                                  "Line too long (more than %u bytes), ignoring the rest of the file",
                                  (unsigned)UNIT_LINE_MAX);
                        cont = mfree(cont);
                        r = 0;
                        goto feed;
                }
                char *n = realloc(cont, cont_len + add + 1);
                if (!n) {
                        r = -ENOMEM;
                        goto finish;
                }
                if (!cont)
                        cont_line = line;
                cont = n;
                memcpy(cont + cont_len, s + lead, add);
                cont_len += add;
                cont[cont_len] = '\0';

                if (escaped) {
                        cont[cont_len - 1] = ' ';
                        continue;
                }

                r = logical_line(&f, cont, cont_line, &in_section, &section_ok);
                if (r < 0)
                        goto finish;
                cont = mfree(cont);
                cont_len = 0;
        }

feed:
        /* Now let inih split what is left: "[Section]" and "Key=Value" lines only. */
        ini_allow_inline_comments = false;
        ini_allow_multiline = false;
        ini_allow_bom = false;
        ini_use_stack = false;
        ini_allow_realloc = true;
        ini_max_line = UNIT_LINE_MAX + 8;
        ini_stop_on_first_error = false;
        ini_allow_no_value = false;

        r = ini_parse_stream(feed_reader, &f, feed_handler, &f);
        if (f.error < 0)
                r = f.error;
        else if (r == -2)
                r = -ENOMEM;
        else
                r = 0; /* every line inih sees was checked above */

finish:
        feed_done(&f);
        return r;
}

/* ---------------------------------------------------------------- words, quotes, escapes */

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static size_t utf8_encode(char *buf, uint32_t c)
{
        if (c < 0x80) {
                buf[0] = (char)c;
                return 1;
        }
        if (c < 0x800) {
                buf[0] = (char)(0xc0 | (c >> 6));
                buf[1] = (char)(0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                buf[0] = (char)(0xe0 | (c >> 12));
                buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                buf[2] = (char)(0x80 | (c & 0x3f));
                return 3;
        }
        buf[0] = (char)(0xf0 | (c >> 18));
        buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        buf[3] = (char)(0x80 | (c & 0x3f));
        return 4;
}

/*
 * Decodes one escape at p (just after the backslash) into buf. Returns the number of input
 * characters consumed (>= 1) and sets *ret_len; -EINVAL for an invalid escape (reported);
 * 0 for an unknown escape (the caller keeps the backslash and the character, after a warning).
 */
static int cunescape_one(const char *p, const Loc *loc, char buf[static 4], size_t *ret_len)
{
        /* pairs: escape letter, value; "\;" is systemd's literal ';' in command lines */
        static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ;;";
        for (size_t i = 0; simple[i]; i += 2)
                if (*p == simple[i]) {
                        buf[0] = simple[i + 1];
                        *ret_len = 1;
                        return 1;
                }

        if (*p == 'x') {
                int a = hexval(p[1]), b = a >= 0 ? hexval(p[2]) : -1;
                if (a < 0 || b < 0) {
                        loc_error(loc, "Invalid escape '\\x': two hex digits expected");
                        return -EINVAL;
                }
                if (a == 0 && b == 0) {
                        loc_error(loc, "Escape '\\x00' (NUL) is not allowed");
                        return -EINVAL;
                }
                buf[0] = (char)(a * 16 + b);
                *ret_len = 1;
                return 3;
        }
        if (*p == 'u' || *p == 'U') {
                int n = *p == 'u' ? 4 : 8;
                uint32_t c = 0;
                for (int i = 1; i <= n; i++) {
                        int h = hexval(p[i]);
                        if (h < 0) {
                                loc_error(loc, "Invalid escape '\\%c': %d hex digits expected", *p, n);
                                return -EINVAL;
                        }
                        c = c * 16 + (uint32_t)h;
                }
                if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
                        loc_error(loc, "Invalid Unicode code point in escape '\\%c'", *p);
                        return -EINVAL;
                }
                *ret_len = utf8_encode(buf, c);
                return n + 1;
        }
        if (*p >= '0' && *p <= '7') {
                if (!(p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7')) {
                        loc_error(loc, "Invalid octal escape: three octal digits expected");
                        return -EINVAL;
                }
                int v = (p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0');
                if (v == 0 || v > 255) {
                        loc_error(loc, "Invalid octal escape '\\%.3s'", p);
                        return -EINVAL;
                }
                buf[0] = (char)v;
                *ret_len = 1;
                return 3;
        }
        if (*p == '\0') {
                loc_error(loc, "Trailing backslash");
                return -EINVAL;
        }
        return 0;
}

int extract_word(const char **p, unsigned flags, const Loc *loc, char **ret)
{
        const char *s = *p;
        while (*s && strchr(" \t\n\r", *s))
                s++;
        if (!*s) {
                *p = s;
                return 0;
        }

        const char *start = s;
        size_t alloc = strlen(s) * 4 + 1; /* \u escapes can grow */
        _cleanup_free_ char *w = malloc(alloc);
        if (!w)
                return -ENOMEM;
        size_t n = 0;
        char quote = 0;

        if ((flags & EXTRACT_UNQUOTE) && (*s == '"' || *s == '\'')) {
                quote = *s;
                s++;
        }

        for (;;) {
                if (!*s) {
                        if (quote) {
                                loc_error(loc, "Unterminated quoted string");
                                return -EINVAL;
                        }
                        break;
                }
                if (quote && *s == quote) {
                        s++;
                        if (*s && !strchr(" \t\n\r", *s)) {
                                loc_error(loc, "Trailing garbage after closing quote");
                                return -EINVAL;
                        }
                        break;
                }
                if (!quote && strchr(" \t\n\r", *s))
                        break;
                if (*s == '\\' && (flags & EXTRACT_CUNESCAPE)) {
                        char buf[4];
                        size_t bl = 0;
                        int k = cunescape_one(s + 1, loc, buf, &bl);
                        if (k < 0)
                                return k;
                        if (k == 0) {
                                loc_warn(loc,
                                         "Unknown escape '\\%c', keeping it literally (write '\\\\' for a "
                                         "backslash)",
                                         s[1]);
                                w[n++] = '\\';
                                s++;
                                continue;
                        }
                        memcpy(w + n, buf, bl);
                        n += bl;
                        s += 1 + k;
                        continue;
                }
                w[n++] = *s++;
        }
        w[n] = '\0';
        if ((flags & EXTRACT_REFUSE_SEMICOLON) && s - start == 1 && *start == ';') {
                loc_error(loc, "Multiple commands separated by ';' are not supported (write '\\;' for a "
                               "literal ';')");
                return -EINVAL;
        }
        *p = s;
        *ret = TAKE_PTR(w);
        return 1;
}

int extract_all_words(const char *s, unsigned flags, const Loc *loc, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;
        for (;;) {
                char *w = NULL;
                int r = extract_word(&p, flags, loc, &w);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = strv_consume(&l, w);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
