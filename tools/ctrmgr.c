/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctrmgr: the command-line front end. Global options, then a verb; verbs live in tools/<area>/. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "verbs.h"

static void help(void)
{
        size_t n;
        const Verb *const *verbs = verbs_all(&n);

        printf("Usage: ctrmgr [OPTIONS] VERB [ARGS…]\n\n"
               "Manage containers run from .ctr unit files by ctrmgrd.\n\n"
               "Options:\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "     --no-pager      Do not pipe output into a pager\n"
               "     --no-legend     Do not print table headers and footers\n"
               "  -o --output=MODE   Output format: text (default) or json\n"
               "These options may also follow the verb.\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < n; i++)
                printf("  %-16s %s\n", verbs[i]->name, verbs[i]->summary);
        printf("\nSee 'ctrmgr VERB --help' for a verb's own options.\n");
}

static int parse_output(const char *mode)
{
        if (streq(mode, "json"))
                arg_global.output = OUTPUT_JSON;
        else if (streq(mode, "text"))
                arg_global.output = OUTPUT_TEXT;
        else {
                log_error("Unknown output mode '%s' (text, json).", mode);
                return -EINVAL;
        }
        return 0;
}

/* As with systemctl, the global options may also follow the verb (`ctrmgr status --no-pager web`):
 * they are taken out of the verb's arguments here. Scanning stops at "--", and for exec at its
 * unit name, after which every argument belongs to the command run in the container. */
static int take_global_options(const char *verb, int *argc, char **argv)
{
        int out = 1;
        bool scanning = true;

        for (int i = 1; i < *argc; i++) {
                const char *a = argv[i];
                if (scanning) {
                        if (streq(a, "--")) {
                                scanning = false;
                        } else if (streq(a, "--no-pager")) {
                                arg_global.no_pager = true;
                                continue;
                        } else if (streq(a, "--no-legend")) {
                                arg_global.no_legend = true;
                                continue;
                        } else if (startswith(a, "--output=")) {
                                if (parse_output(a + strlen("--output=")) < 0)
                                        return -EINVAL;
                                continue;
                        } else if (streq(a, "--output") || streq(a, "-o")) {
                                if (i + 1 >= *argc) {
                                        log_error("Option '%s' needs an argument.", a);
                                        return -EINVAL;
                                }
                                if (parse_output(argv[++i]) < 0)
                                        return -EINVAL;
                                continue;
                        } else if (a[0] != '-' && streq(verb, "exec"))
                                scanning = false;
                }
                argv[out++] = argv[i];
        }
        argv[out] = NULL;
        *argc = out;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
                {"no-pager", no_argument, NULL, 'P'},     {"no-legend", no_argument, NULL, 'L'},
                {"output", required_argument, NULL, 'o'}, {},
        };
        int c;

        log_set_program_name("ctrmgr");

        /* Stop at the first non-option: it is the verb, and the rest is the verb's. */
        while ((c = getopt_long(argc, argv, "+ho:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("ctrmgr %s\n", CTRMGR_VERSION);
                        return 0;
                case 'P':
                        arg_global.no_pager = true;
                        break;
                case 'L':
                        arg_global.no_legend = true;
                        break;
                case 'o':
                        if (parse_output(optarg) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }

        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }

        const char *name = argv[optind];
        const Verb *verb = verb_find(name);
        if (!verb) {
                log_error("Unknown verb '%s'. See 'ctrmgr --help'.", name);
                return EXIT_USAGE;
        }

        /* Hand the verb its own argv with a fresh getopt state. */
        int vargc = argc - optind;
        char **vargv = argv + optind;
        if (take_global_options(name, &vargc, vargv) < 0)
                return EXIT_USAGE;
        optind = 0;
        return verb->run(vargc, vargv);
}
