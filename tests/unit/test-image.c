/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of image/: digests, the OCI document parsers, platform selection, and a store made
 * in a temporary directory (import-rootfs, resolve, list, remove, prune). No root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "image/image-private.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_digest(void **state)
{
        char d[DIGEST_STR_MAX];
        sha256_buffer("", 0, d);
        assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_true(digest_is_valid(d));
        assert_false(
                digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        assert_false(digest_is_valid("sha512:e3b0"));
        assert_false(digest_is_valid("sha256:e3b0c4"));
        assert_false(digest_is_valid(NULL));
        char buf[13];
        assert_string_equal(image_digest_short(d, buf), "e3b0c44298fc");

        Sha256 h;
        sha256_init(&h);
        sha256_update(&h, "ab", 2);
        sha256_update(&h, "c", 1);
        sha256_final(&h, d);
        assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* FIPS 180-4 test vectors and a cross-check of the SHA-NI and portable code on every length
 * around the block boundaries, fed whole and in uneven pieces. */
static void sha256_of(const void *p, size_t n, size_t piece, char out[static DIGEST_STR_MAX])
{
        Sha256 h;
        sha256_init(&h);
        for (size_t off = 0; off < n;) {
                size_t k = piece ? MIN(piece, n - off) : n - off;
                sha256_update(&h, (const char *)p + off, k);
                off += k;
        }
        sha256_final(&h, out);
}

static void test_sha256(void **state)
{
        static const struct {
                const char *msg;
                size_t repeat;
                const char *digest;
        } vectors[] = {
                {"abc", 1, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
                 "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
                {"a", 1000000, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
                {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                 "nopqrsmnopqrstnopqrstu",
                 1, "sha256:cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        };
        for (int portable = 0; portable < 2; portable++) {
                sha256_force_portable(portable);
                for (size_t v = 0; v < ELEMENTSOF(vectors); v++) {
                        size_t l = strlen(vectors[v].msg), n = l * vectors[v].repeat;
                        char *buf = malloc(n), d[DIGEST_STR_MAX];
                        assert_non_null(buf);
                        for (size_t i = 0; i < vectors[v].repeat; i++)
                                memcpy(buf + i * l, vectors[v].msg, l);
                        sha256_of(buf, n, 0, d);
                        assert_string_equal(d, vectors[v].digest);
                        sha256_of(buf, n, 7, d);
                        assert_string_equal(d, vectors[v].digest);
                        free(buf);
                }
        }
        uint8_t data[1000];
        uint32_t x = 12345;
        for (size_t i = 0; i < sizeof data; i++) {
                x = x * 1103515245 + 12345;
                data[i] = (uint8_t)(x >> 16);
        }
        for (size_t n = 0; n <= sizeof data; n += n < 200 ? 1 : 61) {
                char a[DIGEST_STR_MAX], b[DIGEST_STR_MAX], c[DIGEST_STR_MAX];
                sha256_force_portable(true);
                sha256_of(data, n, 0, a);
                sha256_force_portable(false);
                sha256_of(data, n, 0, b);
                sha256_of(data, n, 13, c);
                assert_string_equal(a, b);
                assert_string_equal(a, c);
        }
        sha256_force_portable(false);
}

static void test_compression(void **state)
{
        assert_int_equal(compression_sniff("\x1f\x8b\x08", 3), COMPRESSION_GZIP);
        assert_int_equal(compression_sniff("\x28\xb5\x2f\xfd", 4), COMPRESSION_ZSTD);
        assert_int_equal(compression_sniff("ustar", 5), COMPRESSION_NONE);
        assert_int_equal(layer_media_type_compression(MT_DOCKER_LAYER_GZIP), COMPRESSION_GZIP);
        assert_int_equal(layer_media_type_compression(MT_OCI_LAYER_ZSTD), COMPRESSION_ZSTD);
        assert_int_equal(layer_media_type_compression(MT_OCI_LAYER), COMPRESSION_NONE);
        assert_int_equal(layer_media_type_compression("application/x-foo"), -EOPNOTSUPP);
        assert_int_equal(media_type_kind(MT_DOCKER_LIST), DOC_INDEX);
        assert_int_equal(media_type_kind(MT_DOCKER_MANIFEST), DOC_MANIFEST);
        assert_int_equal(media_type_kind(MT_DOCKER_CONFIG), DOC_CONFIG);
}

static void test_index_parse(void **state)
{
        _cleanup_error_ Error e = ERROR_INIT;
        IndexDoc idx = {};
        const char *ok = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
                         "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
                         "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"},"
                         "\"annotations\":{\"org.opencontainers.image.ref.name\":\"app:1.0\"}},"
                         "{\"digest\":\"" D2 "\",\"size\":0}]}";
        assert_int_equal(index_parse(ok, strlen(ok), MT_OCI_INDEX, &idx, &e), 0);
        assert_int_equal(idx.n_manifests, 2);
        assert_string_equal(idx.manifests[0].ref_name, "app:1.0");
        assert_string_equal(idx.manifests[0].platform.variant, "v8");
        assert_null(idx.manifests[1].media_type);
        index_doc_done(&idx);

        /* Ambiguous: an index that also has layers. */
        const char *amb = "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}";
        assert_int_equal(index_parse(amb, strlen(amb), NULL, &idx, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "ambiguous"));

        /* The descriptor says index, the document says manifest. */
        const char *mis = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[]}";
        assert_int_equal(index_parse(mis, strlen(mis), MT_OCI_INDEX, &idx, &e), -EBADMSG);

        /* Errors carry JSON paths. */
        const char *bad = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1},"
                          "{\"digest\":\"md5:abc\",\"size\":1}]}";
        assert_int_equal(index_parse(bad, strlen(bad), NULL, &idx, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "manifests[1].digest"));

        const char *neg = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":-1}]}";
        assert_int_equal(index_parse(neg, strlen(neg), NULL, &idx, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "manifests[0].size"));

        const char *v1 = "{\"schemaVersion\":1,\"manifests\":[]}";
        assert_int_equal(index_parse(v1, strlen(v1), NULL, &idx, &e), -EBADMSG);

        const char *trailing = "{\"schemaVersion\":2,\"manifests\":[]} x";
        assert_int_equal(index_parse(trailing, strlen(trailing), NULL, &idx, &e), -EBADMSG);
        const char *nul = "{\"schemaVersion\":2,\"manifests\":[]}\0";
        assert_int_equal(index_parse(nul, 36, NULL, &idx, &e), -EBADMSG);
}

static void test_manifest_parse(void **state)
{
        _cleanup_error_ Error e = ERROR_INIT;
        ManifestDoc m = {};
        const char *ok =
                "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
                "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"digest\":\"" D1 "\",\"size\":5},"
                "\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":7},"
                "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D3 "\",\"size\":8}]}";
        assert_int_equal(manifest_parse(ok, strlen(ok), MT_DOCKER_MANIFEST, &m, &e), 0);
        assert_int_equal(m.n_layers, 2);
        assert_string_equal(m.config.digest, D1);
        assert_int_equal(m.layers[1].size, 8);
        manifest_doc_done(&m);

        const char *foreign =
                "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":5},"
                "\"layers\":[{\"mediaType\":\"application/x-foo\",\"digest\":\"" D2 "\",\"size\":7}]}";
        assert_int_equal(manifest_parse(foreign, strlen(foreign), NULL, &m, &e), -EOPNOTSUPP);
        assert_non_null(strstr(error_message(&e), "layers[0].mediaType"));

        const char *noconfig = "{\"schemaVersion\":2,\"layers\":[]}";
        assert_int_equal(manifest_parse(noconfig, strlen(noconfig), NULL, &m, &e), -EBADMSG);

        const char *helm = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
                           "vnd.cncf.helm.config.v1+json\","
                           "\"digest\":\"" D1 "\",\"size\":5},\"layers\":[]}";
        assert_int_equal(manifest_parse(helm, strlen(helm), NULL, &m, &e), -EOPNOTSUPP);

        assert_int_equal(document_sniff_kind(ok, strlen(ok)), DOC_MANIFEST);
}

static void test_config_parse(void **state)
{
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_strv_free_ char **ids = NULL;
        ImageConfig c = {};
        const char *ok =
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
                "\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[],\"Env\":[\"A=1\",\"B=\"],"
                "\"WorkingDir\":\"\",\"User\":\"1000:100\",\"StopSignal\":\"SIGINT\","
                "\"Labels\":{\"z\":\"1\",\"a\":\"2\"},\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}}},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
        assert_int_equal(config_parse(ok, strlen(ok), &c, &ids, &e), 0);
        assert_int_equal(strv_length(c.entrypoint), 2);
        assert_non_null(c.cmd); /* set to nothing is not unset */
        assert_int_equal(strv_length(c.cmd), 0);
        assert_string_equal(c.env[1], "B=");
        assert_null(c.working_dir);
        assert_string_equal(c.user, "1000:100");
        assert_string_equal(c.stop_signal, "SIGINT");
        assert_string_equal(c.labels[0], "a=2");
        assert_string_equal(c.labels[1], "z=1");
        assert_string_equal(c.exposed_ports[0], "53/udp");
        assert_string_equal(c.architecture, "amd64");
        assert_int_equal(strv_length(ids), 2);
        image_config_done(&c);

        const char *badenv =
                "{\"config\":{\"Env\":[\"NOEQUALS\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        assert_int_equal(config_parse(badenv, strlen(badenv), &c, NULL, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "config.Env"));

        const char *badcmd =
                "{\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        assert_int_equal(config_parse(badcmd, strlen(badcmd), &c, NULL, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "config.Cmd"));

        const char *norootfs = "{\"config\":{}}";
        assert_int_equal(config_parse(norootfs, strlen(norootfs), &c, NULL, &e), -EBADMSG);

        const char *badid = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:xyz\"]}}";
        assert_int_equal(config_parse(badid, strlen(badid), &c, NULL, &e), -EBADMSG);
        assert_non_null(strstr(error_message(&e), "rootfs.diff_ids[0]"));
}

static void test_platform(void **state)
{
        Descriptor d[4] = {
                {.platform = {.os = (char *)"linux",
                              .architecture = (char *)"arm64",
                              .variant = (char *)"v8"}},
                {.platform = {.os = (char *)"linux", .architecture = (char *)"amd64"}},
                {.platform = {.os = (char *)"windows", .architecture = (char *)"amd64"}},
                {.platform = {.os = (char *)"linux",
                              .architecture = (char *)"arm",
                              .variant = (char *)"v6"}},
        };
        Platform amd64 = {(char *)"linux", (char *)"amd64", NULL};
        Platform arm64 = {(char *)"linux", (char *)"arm64", (char *)"v8"};
        Platform armv7 = {(char *)"linux", (char *)"arm", (char *)"v7"};
        Platform armv5 = {(char *)"linux", (char *)"arm", (char *)"v5"};
        Platform s390x = {(char *)"linux", (char *)"s390x", NULL};
        size_t i;

        assert_int_equal(platform_select(d, 4, &amd64, &i), 0);
        assert_int_equal(i, 1);
        assert_int_equal(platform_select(d, 4, &arm64, &i), 0);
        assert_int_equal(i, 0);
        assert_int_equal(platform_select(d, 4, &armv7, &i), 0); /* v6 runs on v7 */
        assert_int_equal(i, 3);
        assert_int_equal(platform_select(d, 4, &armv5, &i), -ENXIO);
        assert_int_equal(platform_select(d, 4, &s390x, &i), -ENXIO);
        assert_non_null(platform_host()->architecture);
        assert_string_equal(platform_host()->os, "linux");
}

static char *tmp_dir;

static int setup_store(void **state)
{
        char t[] = "/tmp/test-image.XXXXXX";
        assert_non_null(mkdtemp(t));
        tmp_dir = strdup(t);
        return 0;
}

static int teardown_store(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmp_dir), 0);
        free(tmp_dir);
        return 0;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_store(void **state)
{
        _cleanup_free_ char *store = path_join(tmp_dir, "store"), *root = path_join(tmp_dir, "root");
        _cleanup_free_ char *layers = path_join(tmp_dir, "layers");
        _cleanup_image_store_ ImageStore *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        _cleanup_free_ char *digest = NULL;
        char p[PATH_MAX];

        /* A small root filesystem. */
        assert_int_equal(mkdir(root, 0755), 0);
        snprintf(p, sizeof(p), "%s/bin", root);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/bin/hello", root);
        write_file(p, "#!/bin/sh\necho hello\n");
        char q[PATH_MAX];
        snprintf(q, sizeof(q), "%s/bin/hello2", root);
        assert_int_equal(link(p, q), 0);
        snprintf(q, sizeof(q), "%s/bin/sh", root);
        assert_int_equal(symlink("hello", q), 0);

        ImageStoreOptions o = {.store_dir = store, .layers_dir = layers, .create = true};
        assert_int_equal(image_store_open(&o, &s, &e), 0);

        char *entry[] = {(char *)"/bin/hello", NULL}, *env[] = {(char *)"A=b", NULL};
        ImageConfig cfg = {.entrypoint = entry, .env = env, .working_dir = (char *)"/bin"};
        assert_int_equal(image_import_rootfs(s, root, "hello:1", &cfg, &digest, &e), 0);
        assert_true(digest_is_valid(digest));

        /* Resolution by every kind of reference. */
        const char *refs[] = {"hello:1", "docker.io/library/hello:1", "localhost/hello:1", digest,
                              digest + 7};
        FOREACH_ARRAY (r, refs, ELEMENTSOF(refs)) {
                _cleanup_image_ Image *img = NULL;
                assert_int_equal(image_resolve(s, *r, &img, &e), 0);
                assert_string_equal(img->manifest_digest, digest);
                assert_int_equal(img->n_layers, 1);
                assert_string_equal(img->config.entrypoint[0], "/bin/hello");
                assert_string_equal(img->config.working_dir, "/bin");
                assert_string_equal(img->layers[0].diff_id, img->layers[0].digest); /* uncompressed */
        }
        char shortref[20];
        snprintf(shortref, sizeof(shortref), "%.12s", digest + 7);
        _cleanup_image_ Image *by_short = NULL;
        assert_int_equal(image_resolve(s, shortref, &by_short, &e), 0);

        _cleanup_image_ Image *none = NULL;
        assert_int_equal(image_resolve(s, "hello", &none, &e), -ENOENT); /* hello:latest */
        assert_non_null(strstr(error_message(&e), "hello"));
        assert_int_equal(image_resolve(s, "bad ref", &none, &e), -EINVAL);

        /* The same content under a second name: one more index entry, no new blobs. */
        _cleanup_free_ char *digest2 = NULL;
        assert_int_equal(image_import_rootfs(s, root, "hello:latest", &cfg, &digest2, &e), 0);

        ImageSummary *l = NULL;
        size_t n = 0;
        assert_int_equal(image_list(s, &l, &n, &e), 0);
        assert_int_equal(n, 2);
        assert_string_equal(l[0].name, "hello:1");
        assert_false(l[0].broken);
        assert_true(l[0].size > 0);
        image_summary_free_many(l, n);

        /* Names as other tools write them into index.json: containerd's io.containerd.image.name,
         * umoci's bare tag, and an entry without a name. */
        {
                _cleanup_image_ Image *img = NULL;
                assert_int_equal(image_resolve(s, "hello:1", &img, &e), 0);
                _cleanup_free_ char *idx = NULL, *ipath = path_join(store, "index.json");
                assert_true(asprintf(&idx,
                                     "{\"schemaVersion\":2,\"manifests\":["
                                     "{\"mediaType\":\"" MT_OCI_MANIFEST
                                     "\",\"digest\":\"%1$s\",\"size\":%2$" PRIu64 ","
                                     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"hello:1\"}},"
                                     "{\"mediaType\":\"" MT_OCI_MANIFEST
                                     "\",\"digest\":\"%1$s\",\"size\":%2$" PRIu64 ","
                                     "\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/"
                                     "ctrd:2\"}},"
                                     "{\"mediaType\":\"" MT_OCI_MANIFEST
                                     "\",\"digest\":\"%1$s\",\"size\":%2$" PRIu64 ","
                                     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v3\"}}]}",
                                     img->manifest_digest, img->manifest_size) > 0);
                write_file(ipath, idx);
                const char *names[] = {
                        "ctrd:2", "docker.io/library/ctrd:2", "index.docker.io/library/ctrd:2",
                        "v3",     "hello:1@sha256:",          "ctrd:2@sha256:"};
                FOREACH_ARRAY (nm, names, ELEMENTSOF(names)) {
                        _cleanup_image_ Image *i2 = NULL;
                        _cleanup_free_ char *ref = endswith(*nm, "@sha256:")
                                                           ? strjoin(*nm, img->manifest_digest + 7)
                                                           : strdup(*nm);
                        assert_int_equal(image_resolve(s, ref, &i2, &e), 0);
                        assert_string_equal(i2->manifest_digest, img->manifest_digest);
                }
                _cleanup_image_ Image *none2 = NULL;
                assert_int_equal(image_resolve(s, "ctrd:3", &none2, &e), -ENOENT);
                assert_int_equal(image_resolve(s, "ctrd", &none2, &e), -ENOENT); /* ctrd:latest */
                assert_int_equal(image_resolve(s, "hello:1@sha256:0000", &none2, &e), -EINVAL);
                char absent[8 + SHA256_HEX_LEN];
                snprintf(absent, sizeof(absent), "sha256:%064d", 0);
                assert_int_equal(image_resolve(s, absent, &none2, &e), -ENOENT);
                assert_non_null(strstr(error_message(&e), absent));

                /* oci:DIR without a reference needs a layout with exactly one image. */
                _cleanup_free_ char *oref = strjoin("oci:", store);
                assert_int_equal(image_resolve(s, oref, &none2, &e), -ENOENT);
                assert_non_null(strstr(error_message(&e), "lists 3 images"));
                _cleanup_free_ char *one = NULL;
                assert_true(asprintf(&one,
                                     "{\"schemaVersion\":2,\"manifests\":["
                                     "{\"mediaType\":\"" MT_OCI_MANIFEST
                                     "\",\"digest\":\"%s\",\"size\":%" PRIu64 "}]}",
                                     img->manifest_digest, img->manifest_size) > 0);
                write_file(ipath, one);
                _cleanup_image_ Image *only = NULL;
                assert_int_equal(image_resolve(s, oref, &only, &e), 0);
                assert_string_equal(only->manifest_digest, img->manifest_digest);
                _cleanup_free_ char *missing = NULL, *mref = NULL;
                missing = path_join(tmp_dir, "nonexistent");
                mref = strjoin("oci:", missing, ":x");
                assert_true(image_resolve(s, mref, &none2, &e) < 0);
                assert_non_null(strstr(error_message(&e), missing));

                /* A size in index.json that does not match the blob is refused, naming the digest. */
                _cleanup_free_ char *wrong = NULL;
                assert_true(
                        asprintf(&wrong,
                                 "{\"schemaVersion\":2,\"manifests\":["
                                 "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%" PRIu64
                                 ","
                                 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"hello:1\"}}]}",
                                 img->manifest_digest, img->manifest_size + 1) > 0);
                write_file(ipath, wrong);
                assert_true(image_resolve(s, "hello:1", &none2, &e) < 0);
                assert_non_null(strstr(error_message(&e), img->manifest_digest));
                write_file(ipath, idx); /* back to the three names */
                assert_int_equal(image_remove(s, "ctrd:2", &e), 0);
                assert_int_equal(image_remove(s, "v3", &e), 0);
                /* The rewrites dropped hello:latest; bring it back. */
                assert_int_equal(image_import_rootfs(s, root, "hello:latest", &cfg, NULL, &e), 0);
        }

        /* oci:/path:ref resolves in another layout. */
        _cleanup_free_ char *oref = strjoin("oci:", store, ":hello:1");
        _cleanup_image_ Image *other = NULL;
        assert_int_equal(image_resolve(s, oref, &other, &e), 0);

        /* Remove one name: prune keeps everything the other still uses. */
        assert_int_equal(image_remove(s, "hello:1", &e), 0);
        assert_int_equal(image_remove(s, "hello:1", &e), -ENOENT);
        ImagePruneStats st = {};
        assert_int_equal(image_prune(s, NULL, &st, &e), 0);
        _cleanup_image_ Image *still = NULL;
        assert_int_equal(image_resolve(s, "hello", &still, &e), 0);

        /* Remove the last name: its blobs go, unless a caller says the image is in use. */
        assert_int_equal(image_remove(s, "hello", &e), 0);
        char *in_use[] = {(char *)still->manifest_digest, NULL};
        assert_int_equal(image_prune(s, in_use, &st, &e), 0);
        _cleanup_image_ Image *kept = NULL;
        assert_int_equal(image_resolve(s, still->manifest_digest, &kept, &e), 0); /* in use: kept */
        assert_int_equal(image_prune(s, NULL, &st, &e), 0);
        assert_true(st.blobs_removed >= 3);
        assert_int_equal(image_list(s, &l, &n, &e), 0);
        assert_int_equal(n, 0);
        image_summary_free_many(l, n);
}

static void test_store_refuses(void **state)
{
        _cleanup_image_store_ ImageStore *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        ImageStoreOptions o = {.store_dir = tmp_dir, .read_only = true};
        assert_int_equal(image_store_open(&o, &s, &e), -ENOMEDIUM); /* not an OCI layout */
        assert_non_null(strstr(error_message(&e), "not an OCI image layout"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digest),
                cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_compression),
                cmocka_unit_test(test_index_parse),
                cmocka_unit_test(test_manifest_parse),
                cmocka_unit_test(test_config_parse),
                cmocka_unit_test(test_platform),
                cmocka_unit_test_setup_teardown(test_store, setup_store, teardown_store),
                cmocka_unit_test_setup_teardown(test_store_refuses, setup_store, teardown_store),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
