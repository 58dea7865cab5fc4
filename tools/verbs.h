/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Verb registry of the `ctrmgr` command. Each area's file under tools/<area>/ defines a table
 * of verbs and registers it with REGISTER_VERBS(); ctrmgr.c dispatches argv[1] to it. A verb
 * gets argc/argv starting at its own name (argv[0] == "verify"), parses its own options with
 * getopt_long (handling --help itself), and returns an exit status (0 ok, 1 failure, 2 usage).
 * Global options, given before the verb or among its arguments (ctrmgr.c takes them out of the
 * verb's argv), are in `arg_global`.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct Verb {
        const char *name;
        const char *args;    /* e.g. "[--unit-path DIR]… FILE|NAME…", shown by --help */
        const char *summary; /* one line */
        int (*run)(int argc, char **argv);
} Verb;

typedef enum OutputMode {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputMode;

typedef struct GlobalArgs {
        bool no_pager;
        bool no_legend;
        OutputMode output;
} GlobalArgs;

extern GlobalArgs arg_global;

void verbs_register(const Verb *verbs, size_t n);
const Verb *verb_find(const char *name);
/* All registered verbs sorted by name; *ret_n set to their count. */
const Verb *const *verbs_all(size_t *ret_n);

#define REGISTER_VERBS(table)                                                 \
        static void __attribute__((constructor)) register_verbs_##table(void) \
        {                                                                     \
                verbs_register(table, sizeof(table) / sizeof((table)[0]));    \
        }

/* Standard exit statuses. */
#define EXIT_USAGE 2
