/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing of OCI (and Docker v2 schema 2) indexes, manifests and image configs: untrusted JSON,
 * so every field is type-checked and every error names its JSON path. */
#include <sys/utsname.h>

#include "image/image-private.h"

#define JSON_MAX_DEPTH 32

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

DocKind media_type_kind(const char *mt)
{
        if (!mt)
                return DOC_OTHER;
        if (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST))
                return DOC_INDEX;
        if (streq(mt, MT_OCI_MANIFEST) || streq(mt, MT_DOCKER_MANIFEST))
                return DOC_MANIFEST;
        if (streq(mt, MT_OCI_CONFIG) || streq(mt, MT_DOCKER_CONFIG))
                return DOC_CONFIG;
        if (layer_media_type_compression(mt) >= 0)
                return DOC_LAYER;
        return DOC_OTHER;
}

LayerCompression layer_media_type_compression(const char *mt)
{
        static const struct {
                const char *mt;
                LayerCompression c;
        } table[] = {
                {MT_OCI_LAYER, COMPRESSION_NONE},
                {MT_OCI_LAYER_GZIP, COMPRESSION_GZIP},
                {MT_OCI_LAYER_ZSTD, COMPRESSION_ZSTD},
                {MT_DOCKER_LAYER_GZIP, COMPRESSION_GZIP},
                {"application/vnd.docker.image.rootfs.diff.tar", COMPRESSION_NONE},
                {"application/vnd.docker.image.rootfs.diff.tar.zstd", COMPRESSION_ZSTD},
                /* Non-distributable layers are ordinary tars once they are here. */
                {"application/vnd.oci.image.layer.nondistributable.v1.tar", COMPRESSION_NONE},
                {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMPRESSION_GZIP},
                {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMPRESSION_ZSTD},
                {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMPRESSION_GZIP},
        };
        if (!mt)
                return -EOPNOTSUPP;
        FOREACH_ARRAY (t, table, ELEMENTSOF(table))
                if (streq(t->mt, mt))
                        return t->c;
        return -EOPNOTSUPP;
}

LayerCompression compression_sniff(const void *p, size_t n)
{
        const unsigned char *b = p;
        if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
                return COMPRESSION_GZIP;
        if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
                return COMPRESSION_ZSTD;
        return COMPRESSION_NONE;
}

int json_parse_bounded(const char *json, size_t n, json_object **ret, Error *e)
{
        json_tokener *tok;
        json_object *o;

        if (n > INT32_MAX)
                return error_set_msg(e, -EFBIG, "JSON document too large");
        if (memchr(json, '\0', n))
                return error_set_msg(e, -EBADMSG, "JSON document contains a NUL byte");
        tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok)
                return error_set(e, -ENOMEM, "parsing JSON");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, json, (int)n);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t off = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || jerr != json_tokener_success) {
                json_object_put(o);
                return error_set_msg(e, -EBADMSG, "invalid JSON at byte %zu: %s", off,
                                     jerr == json_tokener_continue ? "unexpected end"
                                                                   : json_tokener_error_desc(jerr));
        }
        /* Only whitespace may follow the document. */
        for (size_t i = off; i < n; i++)
                if (!strchr(" \t\r\n", json[i])) {
                        json_object_put(o);
                        return error_set_msg(e, -EBADMSG, "trailing data after JSON at byte %zu", i);
                }
        *ret = o;
        return 0;
}

/* ---------------------------------------------------------------- field helpers */

static int get_object(json_object *parent, const char *key, const char *path, bool required,
                      json_object **ret, Error *e)
{
        json_object *o = NULL;

        if (!json_object_object_get_ex(parent, key, &o) || json_object_is_type(o, json_type_null)) {
                if (required)
                        return error_set_msg(e, -EBADMSG, "%s%s: missing", path, key);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(o, json_type_object))
                return error_set_msg(e, -EBADMSG, "%s%s: not an object", path, key);
        *ret = o;
        return 0;
}

static int get_string(json_object *parent, const char *key, const char *path, bool required, char **ret,
                      Error *e)
{
        json_object *o = NULL;

        if (!json_object_object_get_ex(parent, key, &o) || json_object_is_type(o, json_type_null)) {
                if (required)
                        return error_set_msg(e, -EBADMSG, "%s%s: missing", path, key);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(o, json_type_string))
                return error_set_msg(e, -EBADMSG, "%s%s: not a string", path, key);
        const char *s = json_object_get_string(o);
        if ((size_t)json_object_get_string_len(o) != strlen(s))
                return error_set_msg(e, -EBADMSG, "%s%s: contains a NUL character", path, key);
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static int get_strv(json_object *parent, const char *key, const char *path, char ***ret, Error *e)
{
        json_object *o = NULL;
        _cleanup_strv_free_ char **l = NULL;

        if (!json_object_object_get_ex(parent, key, &o) || json_object_is_type(o, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(o, json_type_array))
                return error_set_msg(e, -EBADMSG, "%s%s: not an array", path, key);
        size_t n = json_object_array_length(o);
        /* An empty array is kept as an empty (non-NULL) list: "set to nothing" differs from unset. */
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(o, i);
                if (!json_object_is_type(it, json_type_string))
                        return error_set_msg(e, -EBADMSG, "%s%s[%zu]: not a string", path, key, i);
                const char *s = json_object_get_string(it);
                if ((size_t)json_object_get_string_len(it) != strlen(s))
                        return error_set_msg(e, -EBADMSG, "%s%s[%zu]: contains a NUL character", path, key,
                                             i);
                if (strv_extend(&l, s) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int get_u64(json_object *parent, const char *key, const char *path, uint64_t *ret, Error *e)
{
        json_object *o = NULL;

        if (!json_object_object_get_ex(parent, key, &o))
                return error_set_msg(e, -EBADMSG, "%s%s: missing", path, key);
        if (!json_object_is_type(o, json_type_int))
                return error_set_msg(e, -EBADMSG, "%s%s: not an integer", path, key);
        errno = 0;
        int64_t v = json_object_get_int64(o);
        if (v < 0 || (v == INT64_MAX && errno != 0))
                return error_set_msg(e, -EBADMSG, "%s%s: out of range", path, key);
        *ret = (uint64_t)v;
        return 0;
}

static int check_schema_version(json_object *root, Error *e)
{
        json_object *o;
        if (!json_object_object_get_ex(root, "schemaVersion", &o) ||
            !json_object_is_type(o, json_type_int) || json_object_get_int64(o) != 2)
                return error_set_msg(e, -EBADMSG, "schemaVersion: must be 2");
        return 0;
}

static int check_media_type(json_object *root, const char *expected, DocKind kind, Error *e)
{
        _cleanup_free_ char *mt = NULL;
        int r = get_string(root, "mediaType", "", false, &mt, e);
        if (r < 0)
                return r;
        if (mt && media_type_kind(mt) != kind)
                return error_set_msg(e, -EBADMSG, "mediaType: unexpected \"%s\"", mt);
        /* A descriptor saying "index" for a document saying "manifest" (or the reverse) is an
         * ambiguity an attacker could use to make two readers see different images. */
        if (mt && expected && media_type_kind(expected) != media_type_kind(mt))
                return error_set_msg(e, -EBADMSG, "mediaType: \"%s\" does not match the descriptor's \"%s\"",
                                     mt, expected);
        return 0;
}

void descriptor_done(Descriptor *d)
{
        if (!d)
                return;
        free(d->media_type);
        free(d->digest);
        free(d->platform.os);
        free(d->platform.architecture);
        free(d->platform.variant);
        free(d->ref_name);
        free(d->containerd_name);
        *d = (Descriptor){};
}

void descriptors_free(Descriptor *d, size_t n)
{
        for (size_t i = 0; d && i < n; i++)
                descriptor_done(&d[i]);
        free(d);
}

static int descriptor_parse(json_object *o, const char *path, bool with_platform, Descriptor *ret, Error *e)
{
        Descriptor d = {};
        json_object *p, *a;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return error_set_msg(e, -EBADMSG, "%s: not an object", path);

        _cleanup_free_ char *prefix = strjoin(path, ".");
        if (!prefix)
                return -ENOMEM;

        r = get_string(o, "mediaType", prefix, false, &d.media_type, e);
        if (r < 0)
                goto fail;
        r = get_string(o, "digest", prefix, true, &d.digest, e);
        if (r < 0)
                goto fail;
        if (!digest_is_valid(d.digest)) {
                _cleanup_free_ char *esc = cescape(d.digest);
                r = error_set_msg(e, -EBADMSG, "%sdigest: unsupported or invalid digest \"%s\"", prefix,
                                  strna(esc));
                goto fail;
        }
        r = get_u64(o, "size", prefix, &d.size, e);
        if (r < 0)
                goto fail;

        if (with_platform) {
                _cleanup_free_ char *pp = strjoin(prefix, "platform.");
                if (!pp) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = get_object(o, "platform", prefix, false, &p, e);
                if (r < 0)
                        goto fail;
                if (p) {
                        r = get_string(p, "os", pp, false, &d.platform.os, e);
                        if (r >= 0)
                                r = get_string(p, "architecture", pp, false, &d.platform.architecture, e);
                        if (r >= 0)
                                r = get_string(p, "variant", pp, false, &d.platform.variant, e);
                        if (r < 0)
                                goto fail;
                }
        }

        r = get_object(o, "annotations", prefix, false, &a, e);
        if (r < 0)
                goto fail;
        if (a) {
                _cleanup_free_ char *ap = strjoin(prefix, "annotations.");
                if (!ap) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = get_string(a, ANNOTATION_REF_NAME, ap, false, &d.ref_name, e);
                if (r >= 0)
                        r = get_string(a, ANNOTATION_CONTAINERD, ap, false, &d.containerd_name, e);
                if (r < 0)
                        goto fail;
        }

        *ret = d;
        return 0;
fail:
        descriptor_done(&d);
        return r;
}

static int descriptor_array_parse(json_object *root, const char *key, size_t max, bool with_platform,
                                  Descriptor **ret, size_t *ret_n, Error *e)
{
        json_object *arr;
        Descriptor *l = NULL;
        size_t n = 0;
        int r;

        if (!json_object_object_get_ex(root, key, &arr) || !json_object_is_type(arr, json_type_array))
                return error_set_msg(e, -EBADMSG, "%s: missing or not an array", key);
        size_t len = json_object_array_length(arr);
        if (len > max)
                return error_set_msg(e, -E2BIG, "%s: too many entries (%zu, at most %zu)", key, len, max);
        l = calloc(MAX(len, 1u), sizeof(Descriptor));
        if (!l)
                return -ENOMEM;
        for (; n < len; n++) {
                char path[64];
                snprintf(path, sizeof(path), "%s[%zu]", key, n);
                r = descriptor_parse(json_object_array_get_idx(arr, n), path, with_platform, &l[n], e);
                if (r < 0) {
                        descriptors_free(l, n);
                        return r;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

void index_doc_done(IndexDoc *i)
{
        descriptors_free(i->manifests, i->n_manifests);
        *i = (IndexDoc){};
}

void manifest_doc_done(ManifestDoc *m)
{
        descriptor_done(&m->config);
        descriptors_free(m->layers, m->n_layers);
        *m = (ManifestDoc){};
}

int index_parse(const char *json, size_t n, const char *expected_media_type, IndexDoc *ret, Error *e)
{
        _cleanup_json_ json_object *root = NULL;
        IndexDoc doc = {};
        int r;

        r = json_parse_bounded(json, n, &root, e);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return error_set_msg(e, -EBADMSG, "index: not a JSON object");
        r = check_schema_version(root, e);
        if (r < 0)
                return r;
        r = check_media_type(root, expected_media_type, DOC_INDEX, e);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(root, "layers", NULL) ||
            json_object_object_get_ex(root, "config", NULL))
                return error_set_msg(e, -EBADMSG,
                                     "ambiguous document: an index with \"layers\" or \"config\"");
        r = descriptor_array_parse(root, "manifests", MAX_MANIFESTS, true, &doc.manifests, &doc.n_manifests,
                                   e);
        if (r < 0)
                return r;
        *ret = doc;
        return 0;
}

int manifest_parse(const char *json, size_t n, const char *expected_media_type, ManifestDoc *ret, Error *e)
{
        _cleanup_json_ json_object *root = NULL;
        ManifestDoc doc = {};
        json_object *c;
        int r;

        r = json_parse_bounded(json, n, &root, e);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return error_set_msg(e, -EBADMSG, "manifest: not a JSON object");
        r = check_schema_version(root, e);
        if (r < 0)
                return r;
        r = check_media_type(root, expected_media_type, DOC_MANIFEST, e);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(root, "manifests", NULL))
                return error_set_msg(e, -EBADMSG, "ambiguous document: a manifest with \"manifests\"");
        if (!json_object_object_get_ex(root, "config", &c))
                return error_set_msg(e, -EBADMSG, "config: missing");
        r = descriptor_parse(c, "config", false, &doc.config, e);
        if (r < 0)
                return r;
        if (doc.config.media_type && media_type_kind(doc.config.media_type) != DOC_CONFIG) {
                r = error_set_msg(e, -EOPNOTSUPP,
                                  "config.mediaType: unsupported \"%s\" (not a container image?)",
                                  doc.config.media_type);
                goto fail;
        }
        r = descriptor_array_parse(root, "layers", MAX_LAYERS, false, &doc.layers, &doc.n_layers, e);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < doc.n_layers; i++)
                if (layer_media_type_compression(doc.layers[i].media_type) < 0) {
                        r = error_set_msg(e, -EOPNOTSUPP, "layers[%zu].mediaType: unsupported \"%s\"", i,
                                          strna(doc.layers[i].media_type));
                        goto fail;
                }
        *ret = doc;
        return 0;
fail:
        manifest_doc_done(&doc);
        return r;
}

DocKind document_sniff_kind(const char *json, size_t n)
{
        _cleanup_json_ json_object *root = NULL;

        if (json_parse_bounded(json, n, &root, NULL) < 0 || !json_object_is_type(root, json_type_object))
                return DOC_OTHER;
        bool has_manifests = json_object_object_get_ex(root, "manifests", NULL);
        bool has_layers = json_object_object_get_ex(root, "layers", NULL) ||
                          json_object_object_get_ex(root, "config", NULL);
        if (has_manifests == has_layers)
                return DOC_OTHER;
        return has_manifests ? DOC_INDEX : DOC_MANIFEST;
}

static int get_keys_sorted(json_object *obj, const char *path, bool with_values, char ***ret, Error *e)
{
        _cleanup_strv_free_ char **l = NULL;

        if (!obj) {
                *ret = NULL;
                return 0;
        }
        json_object_object_foreach (obj, key, val) {
                if (strlen(key) == 0)
                        return error_set_msg(e, -EBADMSG, "%s: empty key", path);
                if (with_values) {
                        if (!json_object_is_type(val, json_type_string))
                                return error_set_msg(e, -EBADMSG, "%s.%s: not a string", path, key);
                        if (strv_extendf(&l, "%s=%s", key, json_object_get_string(val)) < 0)
                                return -ENOMEM;
                } else if (strv_extend(&l, key) < 0)
                        return -ENOMEM;
        }
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

void image_config_done(ImageConfig *c)
{
        if (!c)
                return;
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->labels);
        strv_free(c->exposed_ports);
        free(c->os);
        free(c->architecture);
        free(c->variant);
        free(c->created);
        *c = (ImageConfig){};
}

int config_parse(const char *json, size_t n, ImageConfig *ret, char ***ret_diff_ids, Error *e)
{
        _cleanup_json_ json_object *root = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL;
        ImageConfig c = {};
        json_object *cfg, *rootfs, *o;
        _cleanup_free_ char *type = NULL;
        int r;

        r = json_parse_bounded(json, n, &root, e);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return error_set_msg(e, -EBADMSG, "config: not a JSON object");

        if ((r = get_string(root, "os", "", false, &c.os, e)) < 0 ||
            (r = get_string(root, "architecture", "", false, &c.architecture, e)) < 0 ||
            (r = get_string(root, "variant", "", false, &c.variant, e)) < 0 ||
            (r = get_string(root, "created", "", false, &c.created, e)) < 0)
                goto fail;

        r = get_object(root, "config", "", false, &cfg, e);
        if (r < 0)
                goto fail;
        if (cfg) {
                if ((r = get_strv(cfg, "Entrypoint", "config.", &c.entrypoint, e)) < 0 ||
                    (r = get_strv(cfg, "Cmd", "config.", &c.cmd, e)) < 0 ||
                    (r = get_strv(cfg, "Env", "config.", &c.env, e)) < 0 ||
                    (r = get_string(cfg, "WorkingDir", "config.", false, &c.working_dir, e)) < 0 ||
                    (r = get_string(cfg, "User", "config.", false, &c.user, e)) < 0 ||
                    (r = get_string(cfg, "StopSignal", "config.", false, &c.stop_signal, e)) < 0)
                        goto fail;
                STRV_FOREACH (env, c.env)
                        if (!strchr(*env, '=') || **env == '=') {
                                _cleanup_free_ char *esc = cescape(*env);
                                r = error_set_msg(e, -EBADMSG, "config.Env: invalid entry \"%s\"",
                                                  strna(esc));
                                goto fail;
                        }
                r = get_object(cfg, "Labels", "config.", false, &o, e);
                if (r < 0 || (r = get_keys_sorted(o, "config.Labels", true, &c.labels, e)) < 0)
                        goto fail;
                r = get_object(cfg, "ExposedPorts", "config.", false, &o, e);
                if (r < 0 || (r = get_keys_sorted(o, "config.ExposedPorts", false, &c.exposed_ports, e)) < 0)
                        goto fail;
                /* Empty strings mean unset. */
                if (isempty(c.working_dir))
                        c.working_dir = mfree(c.working_dir);
                if (isempty(c.user))
                        c.user = mfree(c.user);
                if (isempty(c.stop_signal))
                        c.stop_signal = mfree(c.stop_signal);
        }

        r = get_object(root, "rootfs", "", true, &rootfs, e);
        if (r < 0)
                goto fail;
        r = get_string(rootfs, "type", "rootfs.", true, &type, e);
        if (r < 0)
                goto fail;
        if (!streq(type, "layers")) {
                r = error_set_msg(e, -EBADMSG, "rootfs.type: must be \"layers\"");
                goto fail;
        }
        if (!json_object_object_get_ex(rootfs, "diff_ids", &o) || !json_object_is_type(o, json_type_array)) {
                r = error_set_msg(e, -EBADMSG, "rootfs.diff_ids: missing or not an array");
                goto fail;
        }
        if (json_object_array_length(o) > MAX_LAYERS) {
                r = error_set_msg(e, -E2BIG, "rootfs.diff_ids: too many layers");
                goto fail;
        }
        r = get_strv(rootfs, "diff_ids", "rootfs.", &diff_ids, e);
        if (r < 0)
                goto fail;
        for (size_t i = 0; diff_ids && diff_ids[i]; i++)
                if (!digest_is_valid(diff_ids[i])) {
                        r = error_set_msg(e, -EBADMSG, "rootfs.diff_ids[%zu]: unsupported or invalid digest",
                                          i);
                        goto fail;
                }

        *ret = c;
        if (ret_diff_ids)
                *ret_diff_ids = TAKE_PTR(diff_ids);
        return 0;
fail:
        image_config_done(&c);
        return r;
}

/* ---------------------------------------------------------------- platforms */

const Platform *platform_host(void)
{
        static Platform p = {};
        static char arch[32], variant[8];
        struct utsname u;

        if (p.os)
                return &p;
        p.os = (char *)"linux";
        if (uname(&u) < 0)
                strcpy(u.machine, "unknown");
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                {"x86_64", "amd64", NULL},  {"i386", "386", NULL},
                {"i486", "386", NULL},      {"i586", "386", NULL},
                {"i686", "386", NULL},      {"aarch64", "arm64", "v8"},
                {"armv7l", "arm", "v7"},    {"armv6l", "arm", "v6"},
                {"armv5tel", "arm", "v5"},  {"ppc64le", "ppc64le", NULL},
                {"s390x", "s390x", NULL},   {"riscv64", "riscv64", NULL},
                {"mips64", "mips64", NULL}, {"loongarch64", "loong64", NULL},
        };
        snprintf(arch, sizeof(arch), "%s", u.machine);
        FOREACH_ARRAY (m, map, ELEMENTSOF(map))
                if (streq(m->machine, u.machine)) {
                        snprintf(arch, sizeof(arch), "%s", m->arch);
                        if (m->variant) {
                                snprintf(variant, sizeof(variant), "%s", m->variant);
                                p.variant = variant;
                        }
                        break;
                }
        p.architecture = arch;
        return &p;
}

int platform_select(const Descriptor *manifests, size_t n, const Platform *p, size_t *ret_idx)
{
        int best = -1;
        size_t best_idx = 0;

        for (size_t i = 0; i < n; i++) {
                const Platform *q = &manifests[i].platform;
                int score;

                if (!q->os && !q->architecture)
                        score = 0; /* no platform given: usable only when nothing says it matches */
                else {
                        if (!q->os || !streq(q->os, p->os) || !q->architecture ||
                            !streq(q->architecture, p->architecture))
                                continue;
                        if (!q->variant || !p->variant)
                                score = 2;
                        else if (streq(q->variant, p->variant))
                                score = 3;
                        else if (streq(p->architecture, "arm") && q->variant[0] == 'v' &&
                                 p->variant[0] == 'v' && strcmp(q->variant, p->variant) < 0)
                                score = 1; /* an older ARM variant runs here */
                        else
                                continue;
                }
                if (media_type_kind(manifests[i].media_type) == DOC_OTHER && manifests[i].media_type)
                        continue;
                if (score > best) {
                        best = score;
                        best_idx = i;
                }
        }
        if (best < 0)
                return -ENXIO;
        *ret_idx = best_idx;
        return 0;
}
