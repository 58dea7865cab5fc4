/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Times what the daemon does to get a container's rootfs from an already cached image, in one
 * process: image_resolve() (index.json, manifest and config read and verified) plus
 * image_rootfs_mount(). Usage: bench-rootfs STORE LAYERS CONTAINERS REF MOUNTPOINT N */
#include <stdlib.h>
#include <time.h>

#include "image/image.h"

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        if (argc != 7)
                return 2;
        ImageStoreOptions o = {.store_dir = argv[1], .layers_dir = argv[2], .containers_dir = argv[3]};
        _cleanup_image_store_ ImageStore *s = NULL;
        _cleanup_error_ Error e = ERROR_INIT;
        int n = atoi(argv[6]);
        double *t = calloc((size_t)n, sizeof(double));

        if (!t || image_store_open(&o, &s, &e) < 0) {
                fprintf(stderr, "%s\n", error_message(&e));
                return 1;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_image_ Image *img = NULL;
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                if (image_resolve(s, argv[4], &img, &e) < 0 ||
                    image_rootfs_mount(s, img, "bench", argv[5], IMAGE_ROOTFS_FRESH, &e) < 0) {
                        fprintf(stderr, "%s\n", error_message(&e));
                        return 1;
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                t[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
                if (image_rootfs_umount(argv[5], &e) < 0) {
                        fprintf(stderr, "%s\n", error_message(&e));
                        return 1;
                }
        }
        qsort(t, (size_t)n, sizeof(double), cmp);
        printf("%.2f %.2f\n", t[n / 2], t[n - 1]);
        (void)image_rootfs_remove(s, "bench", NULL);
        free(t);
        return 0;
}
