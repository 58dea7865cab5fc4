/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctrmgr verify / ctrmgr cat — offline unit verbs. They load units with exactly the code the
 * daemon uses (units/unit.h), so "clean under verify" means "loads in ctrmgrd".
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/common.h"
#include "units/unit.h"
#include "verbs.h"

static int parse_unit_path_opts(int argc, char **argv, const char *verb, bool allow_strict, char ***ret_dirs,
                                bool *ret_strict, bool *ret_help)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"unit-path", required_argument, NULL, 'p'},
                {"strict", no_argument, NULL, 's'},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        *ret_help = true;
                        return 0;
                case 'p':
                        if (strv_extend(ret_dirs, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case 's':
                        if (!allow_strict) {
                                log_error("%s: unrecognized option '--strict'", verb);
                                return -EINVAL;
                        }
                        *ret_strict = true;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

static void print_diags(const UnitDiag *d, size_t n, bool strict)
{
        for (size_t i = 0; i < n; i++) {
                if (strict && d[i].level == UNIT_DIAG_WARNING) {
                        /* --strict: a warning counts as an error, and says so */
                        const char *w = strstr(d[i].text, ": warning: ");
                        if (w) {
                                fprintf(stderr, "%.*s: error: %s\n", (int)(w - d[i].text), d[i].text,
                                        w + STRLEN(": warning: "));
                                continue;
                        }
                }
                fprintf(stderr, "%s\n", d[i].text);
        }
}

static bool looks_like_path(const char *a)
{
        return strchr(a, '/') != NULL;
}

static int verify_one(UnitLoader *l, const char *arg, bool strict, unsigned *n_errors, unsigned *n_warnings)
{
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        int r;

        if (looks_like_path(arg) || endswith(arg, UNIT_SUFFIX) || endswith(arg, UNIT_SUFFIX_QUADLET)) {
                if (access(arg, F_OK) == 0 || looks_like_path(arg))
                        r = unit_loader_load_file(l, arg, &u, &e);
                else
                        r = unit_loader_load(l, arg, &u, &e);
        } else
                r = unit_loader_load(l, arg, &u, &e);
        if (r < 0) {
                fprintf(stderr, "%s: error: %s\n", arg, error_message(&e));
                (*n_errors)++;
                return 0;
        }

        print_diags(u->diags, u->n_diags, strict);
        *n_errors += u->n_errors;
        *n_warnings += u->n_warnings;

        switch (u->load_state) {
        case UNIT_LOAD_NOT_FOUND:
                if (u->n_errors == 0) {
                        fprintf(stderr, "%s: error: unit not found in %s\n", u->name,
                                "the unit search path");
                        (*n_errors)++;
                }
                break;
        case UNIT_LOAD_MASKED:
                fprintf(stderr, "%s: unit is masked (%s)\n", u->name, strna(u->fragment_path));
                break;
        default:
                break;
        }
        return 0;
}

static int verify_help(void)
{
        printf("Usage: ctrmgr verify [--unit-path DIR]… [--strict] FILE|NAME|DIR…\n\n"
               "Load units exactly as ctrmgrd does and report every problem as FILE:LINE.\n"
               "A FILE (any path, NAME.ctr or NAME.container) is loaded as unit NAME with the drop-ins\n"
               "beside it and in the search path; a NAME is looked up in the search path.\n\n"
               "Options:\n"
               "  -h --help            Show this help\n"
               "     --unit-path DIR   Search DIR instead of the default path (repeatable, first wins);\n"
               "                       a directory argument verifies every unit in it\n"
               "     --strict          Treat warnings as errors\n\n"
               "Exit status: 0 without errors (warnings alone are fine), 1 with any error, 2 on usage "
               "errors.\n");
        return 0;
}

static int verify_dir(const char *dir, bool strict, unsigned *n_errors, unsigned *n_warnings)
{
        _cleanup_(unit_loader_freep) UnitLoader *dl = NULL;
        _cleanup_(unit_set_freep) UnitSet *set = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        char *dirs[] = {(char *)dir, NULL};

        int r = unit_loader_new(dirs, &dl);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the loader: %m");
        r = unit_loader_load_all(dl, &set, &e);
        if (r < 0)
                return log_error_errno(r, "Failed to load units from %s: %s", dir, error_message(&e));
        print_diags(set->diags, set->n_diags, strict);
        for (size_t i = 0; i < set->n_diags; i++) {
                if (set->diags[i].level == UNIT_DIAG_ERROR)
                        (*n_errors)++;
                else
                        (*n_warnings)++;
        }
        for (size_t i = 0; i < set->n_units; i++) {
                Unit *u = set->units[i];
                print_diags(u->diags, u->n_diags, strict);
                *n_errors += u->n_errors;
                *n_warnings += u->n_warnings;
        }
        if (set->n_units == 0)
                fprintf(stderr, "%s: warning: no units found\n", dir);
        return 0;
}

static int verb_verify(int argc, char **argv)
{
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_(unit_loader_freep) UnitLoader *l = NULL;
        bool strict = false, help = false;
        unsigned n_errors = 0, n_warnings = 0;
        int r;

        r = parse_unit_path_opts(argc, argv, "verify", true, &dirs, &strict, &help);
        if (r < 0)
                return EXIT_USAGE;
        if (help)
                return verify_help();
        if (optind >= argc) {
                log_error("verify: at least one FILE or NAME is needed (see --help).");
                return EXIT_USAGE;
        }

        r = unit_loader_new(dirs, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the loader: %m"), 1;

        for (int i = optind; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        r = verify_dir(argv[i], strict, &n_errors, &n_warnings);
                else
                        r = verify_one(l, argv[i], strict, &n_errors, &n_warnings);
                if (r < 0)
                        return 1;
        }

        if (n_errors > 0 || (strict && n_warnings > 0))
                return 1;
        return 0;
}

static int cat_help(void)
{
        printf("Usage: ctrmgr cat [--unit-path DIR]… NAME…\n\n"
               "Show the effective unit: its file and drop-ins, each headed by '# PATH', like systemctl "
               "cat.\n\n"
               "Options:\n"
               "  -h --help            Show this help\n"
               "     --unit-path DIR   Search DIR instead of the default path (repeatable, first wins)\n");
        return 0;
}

static int verb_cat(int argc, char **argv)
{
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_(unit_loader_freep) UnitLoader *l = NULL;
        bool strict = false, help = false;
        int r, ret = 0;

        r = parse_unit_path_opts(argc, argv, "cat", false, &dirs, &strict, &help);
        if (r < 0)
                return EXIT_USAGE;
        if (help)
                return cat_help();
        if (optind >= argc) {
                log_error("cat: at least one NAME is needed (see --help).");
                return EXIT_USAGE;
        }
        r = unit_loader_new(dirs, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the loader: %m"), 1;

        for (int i = optind; i < argc; i++) {
                _cleanup_(unit_freep) Unit *u = NULL;
                _cleanup_error_ Error e = ERROR_INIT;
                _cleanup_free_ char *text = NULL;

                r = unit_loader_load(l, argv[i], &u, &e);
                if (r < 0) {
                        log_error("%s", error_message(&e));
                        ret = 1;
                        continue;
                }
                if (u->load_state == UNIT_LOAD_MASKED) {
                        fprintf(stderr, "# Unit %s is masked (%s).\n", u->name, strna(u->fragment_path));
                        continue;
                }
                if (unit_cat(u, &text) < 0) {
                        log_error("No files found for %s.", u->name);
                        ret = 1;
                        continue;
                }
                if (i > optind)
                        fputc('\n', stdout);
                fputs(text, stdout);
        }
        return ret;
}

static const Verb unit_verbs[] = {
        {"verify", "[--unit-path DIR]… [--strict] FILE|NAME|DIR…",
         "Check unit files offline, as the daemon loads them", verb_verify},
        {"cat", "[--unit-path DIR]… NAME…", "Show a unit's file and drop-ins", verb_cat},
};

REGISTER_VERBS(unit_verbs);
