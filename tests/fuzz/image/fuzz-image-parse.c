/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Feeds one input to every parser of untrusted image JSON: index, manifest, config, and the
 * kind sniffer and platform selection on whatever index parsed. The first byte picks the media
 * type the descriptor claims, so the mismatch checks get exercised too. */
#include <stdint.h>

#include "image/image-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const types[] = {NULL, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST,
                                            MT_DOCKER_MANIFEST};
        const char *mt = NULL;

        if (size > 0) {
                mt = types[data[0] % ELEMENTSOF(types)];
                data++;
                size--;
        }
        if (size > (1 << 20))
                return 0;
        const char *json = (const char *)data;

        IndexDoc idx = {};
        if (index_parse(json, size, mt, &idx, NULL) >= 0) {
                size_t sel;
                (void)platform_select(idx.manifests, idx.n_manifests, platform_host(), &sel);
                index_doc_done(&idx);
        }
        ManifestDoc m = {};
        _cleanup_error_ Error e = ERROR_INIT;
        if (manifest_parse(json, size, mt, &m, &e) >= 0)
                manifest_doc_done(&m);
        ImageConfig c = {};
        char **ids = NULL;
        if (config_parse(json, size, &c, &ids, NULL) >= 0) {
                image_config_done(&c);
                strv_free(ids);
        }
        (void)document_sniff_kind(json, size);
        return 0;
}
