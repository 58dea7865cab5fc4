/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

#define MAX_VERBS 128

GlobalArgs arg_global = {
        .output = OUTPUT_TEXT,
};

static const Verb *registry[MAX_VERBS];
static size_t n_registry;
static bool sorted;

void verbs_register(const Verb *verbs, size_t n)
{
        for (size_t i = 0; i < n && n_registry < MAX_VERBS; i++)
                registry[n_registry++] = &verbs[i];
        sorted = false;
}

static int verb_compare(const void *a, const void *b)
{
        const Verb *const *x = a, *const *y = b;
        return strcmp((*x)->name, (*y)->name);
}

const Verb *const *verbs_all(size_t *ret_n)
{
        if (!sorted) {
                qsort(registry, n_registry, sizeof(registry[0]), verb_compare);
                sorted = true;
        }
        *ret_n = n_registry;
        return registry;
}

const Verb *verb_find(const char *name)
{
        for (size_t i = 0; i < n_registry; i++)
                if (strcmp(registry[i]->name, name) == 0)
                        return registry[i];
        return NULL;
}
