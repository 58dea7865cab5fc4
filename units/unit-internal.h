/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to units/: the pieces the parser, the key table and the loader share. */

#include "units/unit.h"

/* Where a value was written; diagnostics go to the unit. */
typedef struct Loc {
        Unit *unit;
        const char *file; /* NULL: no file */
        unsigned line;
} Loc;

/* One "Key=Value" in file order, after syntax processing (continuations joined, comments gone). */
typedef struct Assignment {
        char *section;
        char *key;
        char *value;
        const char *file; /* owned by the Unit (fragment_path / dropin_paths) */
        unsigned line;
} Assignment;

typedef struct AssignmentList {
        Assignment *items;
        size_t n, allocated;
} AssignmentList;

void assignment_list_done(AssignmentList *l);

/* Host facts for specifiers. */
typedef struct HostInfo {
        char *hostname;
        char *machine_id;
        char *boot_id;
        char *kernel_release;
        char *architecture;
        char *os_id, *os_version_id, *os_variant_id, *os_build_id, *os_image_version, *os_image_id;
        bool loaded;
} HostInfo;

void host_info_done(HostInfo *h);
int host_info_load(HostInfo *h);

/* ---- unit.c */
Unit *unit_new(const char *name);
void unit_diag(Unit *u, UnitDiagLevel level, const char *file, unsigned line, const char *fmt, ...)
        _printf_(5, 6);
void unit_diagv(Unit *u, UnitDiagLevel level, const char *file, unsigned line, const char *fmt, va_list ap)
        _printf_(5, 0);
#define loc_warn(loc, ...)  unit_diag((loc)->unit, UNIT_DIAG_WARNING, (loc)->file, (loc)->line, __VA_ARGS__)
#define loc_error(loc, ...) unit_diag((loc)->unit, UNIT_DIAG_ERROR, (loc)->file, (loc)->line, __VA_ARGS__)
void unit_config_init(UnitConfig *c);
void unit_config_done(UnitConfig *c);
/* Sets load_state/load_error from the collected diagnostics (errors → UNIT_LOAD_ERROR). */
int unit_finalize(Unit *u);
int unit_append_effective(Unit *u, const char *path, const char *data, size_t size);
void unit_diags_free(UnitDiag *d, size_t n);
int unit_name_split(const char *name, char **ret_prefix, char **ret_instance, bool *ret_template);

/* ---- syntax.c */
/* Splits data (the content of file) into assignments, reporting syntax problems to loc->unit.
 * Returns < 0 only on ENOMEM. */
int unit_syntax_parse(Unit *u, const char *file, const char *data, size_t size, AssignmentList *out);

#define EXTRACT_UNQUOTE          (1u << 0) /* honour "…" and '…' around a whole word */
#define EXTRACT_CUNESCAPE        (1u << 1) /* C escapes */
#define EXTRACT_REFUSE_SEMICOLON (1u << 2) /* a bare ';' word is an error (command lines) */
/* Extracts the next whitespace-separated word of *p. Returns 1 and the word, 0 at the end, or
 * -EINVAL after reporting the problem at loc (unterminated quote, bad escape…). */
int extract_word(const char **p, unsigned flags, const Loc *loc, char **ret);
/* All words of s; -EINVAL after a reported problem. */
int extract_all_words(const char *s, unsigned flags, const Loc *loc, char ***ret);

/* ---- specifier.c */
typedef struct SpecifierContext {
        const char *name;     /* "web@blue" */
        const char *prefix;   /* "web" */
        const char *instance; /* "blue" or "" */
        const char *fragment_path;
        HostInfo *host;
} SpecifierContext;

/* Expands %-specifiers in s. -EINVAL after reporting an unknown or unresolvable specifier at loc. */
int specifier_expand(const SpecifierContext *sc, const char *s, const Loc *loc, char **ret);
/* systemd's unit-name unescaping: "-" → "/", "\xNN" → byte. */
int unit_name_unescape(const char *s, char **ret);

/* ---- keys.c */
bool unit_section_is_known(const char *section);
/* Applies the assignments in order to u->config. */
int unit_apply_assignments(Unit *u, const AssignmentList *l, const SpecifierContext *sc);
