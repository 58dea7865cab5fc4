/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `ctrmgr image …`: import, import-rootfs, list, inspect, rm, prune, and unpack/mount/umount for
 * debugging and tests. Works on the store directly (no daemon needed); the store's locks keep it
 * consistent with a running daemon. */
#include <getopt.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "image/image.h"
#include "verbs.h"

static const char *arg_store, *arg_layers, *arg_containers, *arg_name, *arg_workdir, *arg_user,
        *arg_stop_signal;
static char **arg_entrypoint, **arg_cmd, **arg_env, **arg_labels, **arg_ports, **arg_in_use;
static bool arg_entrypoint_set, arg_cmd_set, arg_read_only, arg_fresh, arg_remove;
static ImageLimits arg_limits;

static void help(void)
{
        printf("Usage: ctrmgr image [OPTIONS] COMMAND [ARGS…]\n\n"
               "Manage the local OCI image store (see ctrmgr-image(1)).\n\n"
               "Commands:\n"
               "  import FILE|DIR [--name REF]   Import an OCI layout, OCI archive or Docker archive\n"
               "  import-rootfs DIR|TAR REF      Make a one-layer image from a directory or tarball\n"
               "  list                           List images\n"
               "  inspect REF                    Show an image as JSON\n"
               "  rm REF…                        Remove image names (blobs go at the next prune)\n"
               "  prune [--in-use REF]…          Remove unreferenced blobs and unused layers\n"
               "  unpack REF                     Unpack an image's layers into the layer cache\n"
               "  mount REF DIR --name NAME      Mount the rootfs of container NAME at DIR\n"
               "  umount DIR [--name NAME --remove]  Unmount it (and remove the container's directory)\n\n"
               "Options:\n"
               "     --store DIR          Image store (default " IMAGE_DEFAULT_STORE_DIR ")\n"
               "     --layers DIR         Layer cache (default " IMAGE_DEFAULT_LAYERS_DIR ";\n"
               "                          with any other --store: STORE/" IMAGE_STORE_LAYERS_SUBDIR ")\n"
               "     --containers DIR     Container directories (default " IMAGE_DEFAULT_CONTAINERS_DIR ";\n"
               "                          with any other --store: STORE/" IMAGE_STORE_CONTAINERS_SUBDIR ")\n"
               "     --name NAME          Image name (import) or container name (mount, umount)\n"
               "     --entrypoint ARGS    Entrypoint: a JSON array or words (import-rootfs)\n"
               "     --cmd ARGS           Command: a JSON array or words (import-rootfs)\n"
               "     --env KEY=VALUE      Environment variable (repeatable, import-rootfs)\n"
               "     --workdir DIR        Working directory (import-rootfs)\n"
               "     --user USER          User (import-rootfs)\n"
               "     --label KEY=VALUE    Label (repeatable, import-rootfs)\n"
               "     --expose PORT[/PROTO] Exposed port (repeatable, import-rootfs)\n"
               "     --stop-signal SIG    Stop signal (import-rootfs)\n"
               "     --read-only          Mount without an upper directory\n"
               "     --fresh              Discard the container's old upper directory (mount)\n"
               "     --remove             Remove the container's directory too (umount)\n"
               "     --in-use REF         Keep this image's blobs and layers (prune, repeatable)\n"
               "     --max-layer-size SIZE  Largest uncompressed layer (default 64G)\n"
               "     --max-entries N      Most tar entries in a layer (default 4000000)\n"
               "     --max-ratio N        Largest compression ratio (default 1000)\n"
               "     --progress, --no-progress  Progress on stderr once an import or unpack takes\n"
               "                          more than a second (default: when it is a terminal)\n"
               "  -o --output=text|json   Output format (list)\n"
               "  -h --help               Show this help\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int parse_words(const char *s, char ***ret)
{
        char **l = NULL;

        if (s[0] == '[') {
                json_object *o = json_tokener_parse(s);
                if (!o || !json_object_is_type(o, json_type_array)) {
                        json_object_put(o);
                        return -EINVAL;
                }
                l = calloc(1, sizeof(char *));
                for (size_t i = 0; l && i < json_object_array_length(o); i++) {
                        json_object *it = json_object_array_get_idx(o, i);
                        if (!json_object_is_type(it, json_type_string) ||
                            strv_extend(&l, json_object_get_string(it)) < 0) {
                                json_object_put(o);
                                strv_free(l);
                                return -EINVAL;
                        }
                }
                json_object_put(o);
        } else
                l = isempty(s) ? calloc(1, sizeof(char *)) : strv_split(s, " \t");
        if (!l)
                return -ENOMEM;
        strv_free(*ret);
        *ret = l;
        return 0;
}

/* Progress on stderr, only for an operation that has taken more than a second so far (a quick one
 * stays quiet): on a terminal one line rewritten in place; otherwise (--progress) a plain line at
 * most once a second, for logs. */
#define PROGRESS_DELAY_USEC USEC_PER_SEC
static int arg_progress = -1; /* -1: when stderr is a terminal */
static bool progress_shown;
static uint64_t progress_start_usec, progress_last_usec;
static char progress_last_what[128];
static void progress_cb(const char *what, uint64_t done, uint64_t total, void *userdata)
{
        char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX], line[256];
        bool tty = isatty(STDERR_FILENO);
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (now - progress_start_usec < PROGRESS_DELAY_USEC)
                return;
        /* Without a terminal, a line a second at most, and one for each new step. */
        bool same_step = streq(what, progress_last_what);
        if (!tty && same_step && progress_last_usec > 0 && now - progress_last_usec < USEC_PER_SEC)
                return;
        progress_last_usec = now;
        if (!same_step)
                snprintf(progress_last_what, sizeof(progress_last_what), "%s", what);
        if (total > 0)
                snprintf(line, sizeof(line), "%s: %3u%% (%s of %s)", what,
                         (unsigned)(MIN(done, total) * 100 / total), format_bytes(a, sizeof(a), done),
                         format_bytes(b, sizeof(b), total));
        else
                snprintf(line, sizeof(line), "%s: %s", what, format_bytes(a, sizeof(a), done));
        if (tty) {
                fprintf(stderr, "\r\033[K%s", line);
                progress_shown = true;
        } else
                fprintf(stderr, "%s\n", line);
}

static void progress_end(void)
{
        if (progress_shown)
                fputs("\r\033[K", stderr);
        progress_shown = false;
}

static int open_store(bool create, bool read_only, ImageStore **ret)
{
        _cleanup_error_ Error e = ERROR_INIT;
        ImageStoreOptions o = {
                .store_dir = arg_store,
                .layers_dir = arg_layers,
                .containers_dir = arg_containers,
                .create = create,
                .read_only = read_only,
                .limits = arg_limits,
                .progress = (arg_progress < 0 ? isatty(STDERR_FILENO) : arg_progress) ? progress_cb : NULL,
        };
        /* The operation starts now (waiting for the store's lock counts). */
        progress_start_usec = now_usec(CLOCK_MONOTONIC);
        int r = image_store_open(&o, ret, &e);
        if (r < 0)
                return log_error_errno(r, "%s", error_message(&e));
        return 0;
}

static json_object *strv_to_json(char **l)
{
        if (!l)
                return NULL;
        json_object *a = json_object_new_array();
        STRV_FOREACH (s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *kv_to_json(char **l)
{
        json_object *o = json_object_new_object();
        STRV_FOREACH (s, l) {
                const char *eq = strchr(*s, '=');
                _cleanup_free_ char *k = eq ? strndup(*s, (size_t)(eq - *s)) : strdup(*s);
                if (k)
                        json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
        }
        return o;
}

static void add_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static int do_inspect(ImageStore *s, const char *ref)
{
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_image_ Image *img = NULL;
        int r = image_resolve(s, ref, &img, &e);
        if (r < 0)
                return log_error_errno(r, "%s", error_message(&e));

        json_object *o = json_object_new_object(), *c = json_object_new_object(),
                    *layers = json_object_new_array();
        add_str(o, "Reference", img->reference);
        add_str(o, "Name", img->name);
        add_str(o, "Digest", img->manifest_digest);
        add_str(o, "IndexDigest", img->index_digest);
        add_str(o, "ConfigDigest", img->config_digest);
        add_str(o, "Os", img->config.os);
        add_str(o, "Architecture", img->config.architecture);
        add_str(o, "Variant", img->config.variant);
        add_str(o, "Created", img->config.created);
        json_object_object_add(c, "Entrypoint", strv_to_json(img->config.entrypoint));
        json_object_object_add(c, "Cmd", strv_to_json(img->config.cmd));
        json_object_object_add(c, "Env", strv_to_json(img->config.env));
        add_str(c, "WorkingDir", img->config.working_dir);
        add_str(c, "User", img->config.user);
        add_str(c, "StopSignal", img->config.stop_signal);
        json_object_object_add(c, "Labels", kv_to_json(img->config.labels));
        json_object_object_add(c, "ExposedPorts",
                               strv_to_json(img->config.exposed_ports) ?: json_object_new_array());
        json_object_object_add(o, "Config", c);
        uint64_t total = 0;
        for (size_t i = 0; i < img->n_layers; i++) {
                json_object *l = json_object_new_object();
                _cleanup_free_ char *p = NULL;
                struct stat st;
                add_str(l, "Digest", img->layers[i].digest);
                add_str(l, "MediaType", img->layers[i].media_type);
                json_object_object_add(l, "Size", json_object_new_int64((int64_t)img->layers[i].size));
                add_str(l, "DiffID", img->layers[i].diff_id);
                json_object_object_add(
                        l, "Cached",
                        json_object_new_boolean(image_layer_path(s, img->layers[i].diff_id, &p) >= 0 &&
                                                stat(p, &st) >= 0));
                json_object_array_add(layers, l);
                total += img->layers[i].size;
        }
        json_object_object_add(o, "Layers", layers);
        json_object_object_add(o, "Size", json_object_new_int64((int64_t)total));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return 0;
}

static int do_list(ImageStore *s)
{
        _cleanup_error_ Error e = ERROR_INIT;
        ImageSummary *l = NULL;
        size_t n = 0;
        int r = image_list(s, &l, &n, &e);
        if (r < 0)
                return log_error_errno(r, "%s", error_message(&e));
        if (arg_global.output == OUTPUT_JSON) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_new_object();
                        add_str(o, "Name", l[i].name);
                        add_str(o, "Digest", l[i].digest);
                        add_str(o, "MediaType", l[i].media_type);
                        json_object_object_add(o, "Size", json_object_new_int64((int64_t)l[i].size));
                        add_str(o, "Created", l[i].created);
                        add_str(o, "Architecture", l[i].architecture);
                        if (l[i].broken)
                                add_str(o, "Error", l[i].error);
                        json_object_array_add(a, o);
                }
                printf("%s\n",
                       json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(a);
        } else {
                if (!arg_global.no_legend)
                        printf("%-40s %-12s %10s %-20s\n", "NAME", "ID", "SIZE", "CREATED");
                for (size_t i = 0; i < n; i++) {
                        char id[13], sz[FORMAT_BYTES_MAX];
                        printf("%-40s %-12s %10s %-20s%s%s\n", l[i].name ?: "<none>",
                               image_digest_short(l[i].digest, id),
                               l[i].broken ? "-" : format_bytes(sz, sizeof(sz), l[i].size),
                               l[i].created ?: "-", l[i].broken ? "  broken: " : "",
                               l[i].broken ? l[i].error : "");
                }
                if (!arg_global.no_legend)
                        printf("\n%zu images.\n", n);
        }
        image_summary_free_many(l, n);
        return 0;
}

static int run(int argc, char **argv)
{
        enum {
                ARG_STORE = 0x100,
                ARG_LAYERS,
                ARG_CONTAINERS,
                ARG_NAME,
                ARG_ENTRYPOINT,
                ARG_CMD,
                ARG_ENV,
                ARG_WORKDIR,
                ARG_USER,
                ARG_LABEL,
                ARG_EXPOSE,
                ARG_STOP_SIGNAL,
                ARG_READ_ONLY,
                ARG_FRESH,
                ARG_REMOVE,
                ARG_IN_USE,
                ARG_MAX_LAYER_SIZE,
                ARG_MAX_ENTRIES,
                ARG_MAX_RATIO,
                ARG_PROGRESS,
                ARG_NO_PROGRESS,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"output", required_argument, NULL, 'o'},
                {"store", required_argument, NULL, ARG_STORE},
                {"layers", required_argument, NULL, ARG_LAYERS},
                {"containers", required_argument, NULL, ARG_CONTAINERS},
                {"name", required_argument, NULL, ARG_NAME},
                {"entrypoint", required_argument, NULL, ARG_ENTRYPOINT},
                {"cmd", required_argument, NULL, ARG_CMD},
                {"env", required_argument, NULL, ARG_ENV},
                {"workdir", required_argument, NULL, ARG_WORKDIR},
                {"user", required_argument, NULL, ARG_USER},
                {"label", required_argument, NULL, ARG_LABEL},
                {"expose", required_argument, NULL, ARG_EXPOSE},
                {"stop-signal", required_argument, NULL, ARG_STOP_SIGNAL},
                {"read-only", no_argument, NULL, ARG_READ_ONLY},
                {"fresh", no_argument, NULL, ARG_FRESH},
                {"remove", no_argument, NULL, ARG_REMOVE},
                {"in-use", required_argument, NULL, ARG_IN_USE},
                {"max-layer-size", required_argument, NULL, ARG_MAX_LAYER_SIZE},
                {"max-entries", required_argument, NULL, ARG_MAX_ENTRIES},
                {"max-ratio", required_argument, NULL, ARG_MAX_RATIO},
                {"progress", no_argument, NULL, ARG_PROGRESS},
                {"no-progress", no_argument, NULL, ARG_NO_PROGRESS},
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'o':
                        if (!streq(optarg, "json") && !streq(optarg, "text")) {
                                log_error("Unknown output mode '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        arg_global.output = streq(optarg, "json") ? OUTPUT_JSON : OUTPUT_TEXT;
                        break;
                case ARG_STORE:
                        arg_store = optarg;
                        break;
                case ARG_LAYERS:
                        arg_layers = optarg;
                        break;
                case ARG_CONTAINERS:
                        arg_containers = optarg;
                        break;
                case ARG_NAME:
                        arg_name = optarg;
                        break;
                case ARG_ENTRYPOINT:
                case ARG_CMD:
                        r = parse_words(optarg, c == ARG_CMD ? &arg_cmd : &arg_entrypoint);
                        if (r < 0) {
                                log_error("Invalid --%s value: %s", c == ARG_CMD ? "cmd" : "entrypoint",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        *(c == ARG_CMD ? &arg_cmd_set : &arg_entrypoint_set) = true;
                        break;
                case ARG_ENV:
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                log_error("Invalid --env value '%s', expected KEY=VALUE.", optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&arg_env, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_WORKDIR:
                        arg_workdir = optarg;
                        break;
                case ARG_USER:
                        arg_user = optarg;
                        break;
                case ARG_LABEL:
                        if (strv_extend(&arg_labels, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_EXPOSE:
                        if ((strchr(optarg, '/') ? strv_extend(&arg_ports, optarg)
                                                 : strv_extendf(&arg_ports, "%s/tcp", optarg)) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_STOP_SIGNAL:
                        arg_stop_signal = optarg;
                        break;
                case ARG_READ_ONLY:
                        arg_read_only = true;
                        break;
                case ARG_FRESH:
                        arg_fresh = true;
                        break;
                case ARG_REMOVE:
                        arg_remove = true;
                        break;
                case ARG_PROGRESS:
                case ARG_NO_PROGRESS:
                        arg_progress = c == ARG_PROGRESS;
                        break;
                case ARG_IN_USE:
                        if (strv_extend(&arg_in_use, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_MAX_LAYER_SIZE:
                        if (parse_size(optarg, &arg_limits.max_layer_size) < 0) {
                                log_error("Invalid size '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_MAX_ENTRIES:
                case ARG_MAX_RATIO:
                        if (safe_atou64(optarg, c == ARG_MAX_ENTRIES ? &arg_limits.max_entries
                                                                     : &arg_limits.max_ratio) < 0) {
                                log_error("Invalid number '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        return EXIT_USAGE;
                }
        }

        char **args = argv + optind;
        int nargs = argc - optind;
        if (nargs < 1) {
                help();
                return EXIT_USAGE;
        }
        const char *cmd = args[0];
        _cleanup_image_store_ ImageStore *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;

#define NEED_ARGS(n, usage)                                                 \
        do {                                                                \
                if (nargs != (n) + 1) {                                     \
                        log_error("Usage: ctrmgr image %s %s", cmd, usage); \
                        return EXIT_USAGE;                                  \
                }                                                           \
        } while (0)

        if (streq(cmd, "import")) {
                NEED_ARGS(1, "FILE|DIR [--name REF]");
                _cleanup_strv_free_ char **refs = NULL;
                if (open_store(true, false, &s) < 0)
                        return 1;
                r = image_import(s, args[1], arg_name, &refs, &e);
                progress_end();
                if (r < 0)
                        return log_error_errno(r, "Import of %s failed: %s", args[1], error_message(&e)), 1;
                STRV_FOREACH (ref, refs)
                        printf("%s\n", *ref);
                return 0;
        }
        if (streq(cmd, "import-rootfs")) {
                NEED_ARGS(2, "DIR|TAR REF [--entrypoint …] [--cmd …] [--env K=V]… [--workdir DIR]");
                _cleanup_free_ char *digest = NULL;
                ImageConfig cfg = {
                        .entrypoint = arg_entrypoint_set ? arg_entrypoint : NULL,
                        .cmd = arg_cmd_set ? arg_cmd : NULL,
                        .env = arg_env,
                        .working_dir = (char *)arg_workdir,
                        .user = (char *)arg_user,
                        .stop_signal = (char *)arg_stop_signal,
                        .labels = arg_labels,
                        .exposed_ports = arg_ports,
                };
                if (open_store(true, false, &s) < 0)
                        return 1;
                r = image_import_rootfs(s, args[1], args[2], &cfg, &digest, &e);
                progress_end();
                if (r < 0)
                        return log_error_errno(r, "Import of %s failed: %s", args[1], error_message(&e)), 1;
                printf("%s %s\n", args[2], digest);
                return 0;
        }
        if (streq(cmd, "list")) {
                NEED_ARGS(0, "");
                if (open_store(false, true, &s) < 0)
                        return 1;
                return do_list(s) < 0;
        }
        if (streq(cmd, "inspect")) {
                NEED_ARGS(1, "REF");
                if (open_store(false, true, &s) < 0)
                        return 1;
                return do_inspect(s, args[1]) < 0;
        }
        if (streq(cmd, "rm")) {
                if (nargs < 2) {
                        log_error("Usage: ctrmgr image rm REF…");
                        return EXIT_USAGE;
                }
                if (open_store(false, false, &s) < 0)
                        return 1;
                int ret = 0;
                for (int i = 1; i < nargs; i++) {
                        r = image_remove(s, args[i], &e);
                        if (r < 0) {
                                log_error_errno(r, "%s", error_message(&e));
                                error_done(&e);
                                ret = 1;
                        }
                }
                return ret;
        }
        if (streq(cmd, "prune")) {
                NEED_ARGS(0, "[--in-use REF]…");
                ImagePruneStats st = {};
                char b[FORMAT_BYTES_MAX];
                if (open_store(false, false, &s) < 0)
                        return 1;
                r = image_prune(s, arg_in_use, &st, &e);
                if (r < 0)
                        return log_error_errno(r, "Prune failed: %s", error_message(&e)), 1;
                printf("Removed %" PRIu64 " blobs (%s), %" PRIu64 " layer caches, %" PRIu64 " leftovers.\n",
                       st.blobs_removed, format_bytes(b, sizeof(b), st.blob_bytes_removed),
                       st.layers_removed, st.staging_removed);
                return 0;
        }
        if (streq(cmd, "unpack") || streq(cmd, "mount")) {
                bool mount = streq(cmd, "mount");
                if (mount)
                        NEED_ARGS(2, "REF DIR --name NAME [--read-only] [--fresh]");
                else
                        NEED_ARGS(1, "REF");
                if (mount && !arg_name) {
                        log_error("mount needs --name NAME (the container's name).");
                        return EXIT_USAGE;
                }
                _cleanup_image_ Image *img = NULL;
                if (open_store(false, false, &s) < 0)
                        return 1;
                r = image_resolve(s, args[1], &img, &e);
                if (r < 0)
                        return log_error_errno(r, "%s", error_message(&e)), 1;
                if (mount)
                        r = image_rootfs_mount(s, img, arg_name, args[2],
                                               (arg_read_only ? IMAGE_ROOTFS_READ_ONLY : 0) |
                                                       (arg_fresh ? IMAGE_ROOTFS_FRESH : 0),
                                               &e);
                else
                        r = image_unpack(s, img, &e);
                progress_end();
                if (r < 0)
                        return log_error_errno(r, "%s", error_message(&e)), 1;
                if (!mount)
                        printf("%d layers unpacked, %zu in all.\n", r, img->n_layers);
                return 0;
        }
        if (streq(cmd, "umount")) {
                NEED_ARGS(1, "DIR [--name NAME --remove]");
                r = image_rootfs_umount(args[1], &e);
                if (r < 0)
                        return log_error_errno(r, "%s", error_message(&e)), 1;
                if (arg_remove && arg_name) {
                        if (open_store(false, false, &s) < 0)
                                return 1;
                        r = image_rootfs_remove(s, arg_name, &e);
                        if (r < 0)
                                return log_error_errno(r, "%s", error_message(&e)), 1;
                }
                return 0;
        }
        log_error("Unknown image command '%s'. See 'ctrmgr image --help'.", cmd);
        return EXIT_USAGE;
}

static const Verb image_verbs[] = {
        {"image", "COMMAND [ARGS…]", "Manage the local OCI image store", run},
};
REGISTER_VERBS(image_verbs);
