/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctrmgrd: runs .ctr units as containers, answers on D-Bus as org.ctrmgr1. See ctrmgrd(8). */
#include <getopt.h>

#include "manager/manager.h"

static void help(void)
{
        printf("Usage: ctrmgrd [OPTIONS]\n\n"
               "Run the containers of .ctr units and serve org.ctrmgr1 on the system bus.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --unit-path=DIR        Search units in DIR (repeatable; replaces the default path)\n"
               "     --state-dir=DIR        Runtime state (default " CTRMGR_DEFAULT_STATE_DIR ")\n"
               "     --image-store=DIR      The OCI image layout (default /var/lib/ctrmgr/images)\n"
               "     --layers-dir=DIR       Unpacked layer cache (default /var/lib/ctrmgr/layers)\n"
               "     --containers-dir=DIR   Per-container writable layers (default "
               "/var/lib/ctrmgr/containers)\n"
               "     --lib-dir=DIR          Named volumes and what must outlive a reboot (default "
               "/var/lib/ctrmgr)\n"
               "     --log-dir=DIR          Container logs without journald (default " CTRMGR_DEFAULT_LOG_DIR
               ")\n"
               "     --log-target=TARGET    auto, journal or file\n"
               "     --seccomp-profile=FILE Default seccomp profile (default " CTRMGR_DEFAULT_SECCOMP ")\n"
               "     --cgroup-driver=DRIVER auto, systemd or cgroupfs\n"
               "     --cgroup-parent=PATH   cgroupfs: parent cgroup below the cgroup2 root (default "
               "/ctrmgr.slice)\n"
               "     --no-boot-units        Do not start units with WantedBy=multi-user.target at startup\n"
               "                            (they are started once per boot anyway: a restarted daemon\n"
               "                            finds running containers again and starts nothing)\n"
               "     --log-level=LEVEL      err, warning, notice, info (default) or debug\n");
}

int main(int argc, char **argv)
{
        enum {
                ARG_VERSION = 0x100,
                ARG_UNIT_PATH,
                ARG_STATE_DIR,
                ARG_IMAGE_STORE,
                ARG_LAYERS_DIR,
                ARG_CONTAINERS_DIR,
                ARG_LIB_DIR,
                ARG_LOG_DIR,
                ARG_LOG_TARGET,
                ARG_SECCOMP,
                ARG_CGROUP_DRIVER,
                ARG_CGROUP_PARENT,
                ARG_NO_BOOT,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"unit-path", required_argument, NULL, ARG_UNIT_PATH},
                {"state-dir", required_argument, NULL, ARG_STATE_DIR},
                {"image-store", required_argument, NULL, ARG_IMAGE_STORE},
                {"layers-dir", required_argument, NULL, ARG_LAYERS_DIR},
                {"containers-dir", required_argument, NULL, ARG_CONTAINERS_DIR},
                {"lib-dir", required_argument, NULL, ARG_LIB_DIR},
                {"log-dir", required_argument, NULL, ARG_LOG_DIR},
                {"log-target", required_argument, NULL, ARG_LOG_TARGET},
                {"seccomp-profile", required_argument, NULL, ARG_SECCOMP},
                {"cgroup-driver", required_argument, NULL, ARG_CGROUP_DRIVER},
                {"cgroup-parent", required_argument, NULL, ARG_CGROUP_PARENT},
                {"no-boot-units", no_argument, NULL, ARG_NO_BOOT},
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
                {},
        };
        _cleanup_(manager_config_done) ManagerConfig cfg = {.journal = -1, .start_boot_units = true};
        _cleanup_(manager_freep) Manager *m = NULL;
        int c, r;

        log_set_program_name("ctrmgrd");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                char **dst = NULL;
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("ctrmgrd %s\n", CTRMGR_VERSION);
                        return 0;
                case ARG_UNIT_PATH:
                        if (!path_is_absolute(optarg)) {
                                log_error("--unit-path: \"%s\" is not an absolute path.", optarg);
                                return EXIT_FAILURE;
                        }
                        if (strv_extend(&cfg.unit_dirs, optarg) < 0)
                                return EXIT_FAILURE;
                        break;
                case ARG_STATE_DIR:
                        dst = &cfg.state_dir;
                        break;
                case ARG_IMAGE_STORE:
                        dst = &cfg.store_dir;
                        break;
                case ARG_LAYERS_DIR:
                        dst = &cfg.layers_dir;
                        break;
                case ARG_CONTAINERS_DIR:
                        dst = &cfg.containers_dir;
                        break;
                case ARG_LIB_DIR:
                        dst = &cfg.lib_dir;
                        break;
                case ARG_LOG_DIR:
                        dst = &cfg.log_dir;
                        break;
                case ARG_SECCOMP:
                        dst = &cfg.seccomp_profile;
                        break;
                case ARG_CGROUP_PARENT:
                        if (!path_is_absolute(optarg) || !path_is_normalized(optarg)) {
                                log_error("--cgroup-parent: \"%s\" is not a normalized absolute path.",
                                          optarg);
                                return EXIT_FAILURE;
                        }
                        dst = &cfg.cgroup_parent;
                        break;
                case ARG_LOG_TARGET:
                        if (streq(optarg, "auto"))
                                cfg.journal = -1;
                        else if (streq(optarg, "journal"))
                                cfg.journal = 1;
                        else if (streq(optarg, "file"))
                                cfg.journal = 0;
                        else {
                                log_error("--log-target: expected auto, journal or file.");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_CGROUP_DRIVER:
                        if (streq(optarg, "auto"))
                                cfg.cgroup_mode = CGROUP_MODE_AUTO;
                        else if (streq(optarg, "systemd"))
                                cfg.cgroup_mode = CGROUP_MODE_SYSTEMD;
                        else if (streq(optarg, "cgroupfs"))
                                cfg.cgroup_mode = CGROUP_MODE_CGROUPFS;
                        else {
                                log_error("--cgroup-driver: expected auto, systemd or cgroupfs.");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_NO_BOOT:
                        cfg.start_boot_units = false;
                        break;
                case ARG_LOG_LEVEL: {
                        static const char *const levels[] = {
                                [3] = "err", "warning", "notice", "info", "debug"};
                        int l = -1;
                        for (int i = 3; i <= 7; i++)
                                if (streq(optarg, levels[i]))
                                        l = i;
                        if (l < 0) {
                                log_error("--log-level: unknown level \"%s\".", optarg);
                                return EXIT_FAILURE;
                        }
                        log_set_max_level(l);
                        break;
                }
                default:
                        return EXIT_FAILURE;
                }
                if (dst) {
                        if (!path_is_absolute(optarg)) {
                                log_error("%s: \"%s\" is not an absolute path.", argv[optind - 1], optarg);
                                return EXIT_FAILURE;
                        }
                        if (free_and_strdup(dst, optarg) < 0)
                                return EXIT_FAILURE;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\".", argv[optind]);
                return EXIT_FAILURE;
        }
        if (geteuid() != 0) {
                log_error("ctrmgrd must run as root.");
                return EXIT_FAILURE;
        }

        r = manager_new(&cfg, &m);
        if (r < 0)
                return EXIT_FAILURE;
        manager_log_setup(m->use_journal);

        r = manager_startup(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_run(m);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
