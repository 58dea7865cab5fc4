/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: arbitrary bytes as a .ctr unit file, through the whole parser (syntax,
 * inih, quoting, specifiers, every key parser, cross-key rules), as a plain unit and as a
 * template instance; then the effective text. Must never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "units/unit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = {"fuzz", "web-db@east\\x2dside"};

        if (size > 256 * 1024) /* keep iterations fast; the size limits have their own unit tests */
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                Unit *u = NULL;
                Error e = ERROR_INIT;

                if (unit_parse_string(names[i], "/fuzz/unit.ctr", (const char *)data, size, &u, &e) >= 0) {
                        char *text = NULL;
                        if (unit_cat(u, &text) >= 0)
                                free(text);
                        /* touch the results the daemon reads */
                        for (size_t j = 0; j < u->n_diags; j++)
                                (void)strlen(u->diags[j].text);
                        if (u->load_error)
                                (void)strlen(u->load_error);
                        unit_free(u);
                }
                error_done(&e);
        }
        return 0;
}
