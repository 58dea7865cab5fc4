/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to units/: what the key parsers (keys.c, keys-container.c, keys-mounts.c) share. */

#include "units/unit-internal.h"

typedef struct KeyCtx {
        Unit *unit;
        UnitConfig *c;
        Loc loc;
} KeyCtx;

/* Report a bad value at the key's FILE:LINE. key_error()/key_warn() return 0 ("handled, keep loading"),
 * key_error_inval() returns -EINVAL for helpers whose callers must stop. */
_printf_(4, 0) static inline int report(KeyCtx *k, UnitDiagLevel level, int r, const char *fmt, va_list ap)
{
        unit_diagv(k->unit, level, k->loc.file, k->loc.line, fmt, ap);
        return r;
}

_printf_(2, 3) static inline int key_error(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_ERROR, 0, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static inline int key_warn(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_WARNING, 0, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static inline int key_error_inval(KeyCtx *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = report(k, UNIT_DIAG_ERROR, -EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

#define CFG(k, off, type) ((type *)((char *)(k)->c + (off)))

/* Parsers: (context, value after specifiers, offset into UnitConfig for the generic ones).
 * They return < 0 only on ENOMEM; a bad value is reported and returns 0. */
int key_parse_string(KeyCtx *k, const char *v, size_t off);
int key_parse_bool(KeyCtx *k, const char *v, size_t off);
int key_parse_sec(KeyCtx *k, const char *v, size_t off);
int key_parse_sec_infinity_zero(KeyCtx *k, const char *v, size_t off);
int key_parse_sec_infinity(KeyCtx *k, const char *v, size_t off);
int key_parse_positive_sec(KeyCtx *k, const char *v, size_t off);
int key_parse_unsigned_range(KeyCtx *k, const char *v, unsigned *ret, unsigned min, unsigned max);
int key_parse_signal(KeyCtx *k, const char *v, size_t off);
int key_parse_command(KeyCtx *k, const char *v, size_t off);
int key_parse_documentation(KeyCtx *k, const char *v, size_t off);
int key_parse_deps(KeyCtx *k, const char *v, size_t off);
int key_parse_image(KeyCtx *k, const char *v, size_t off);
int key_parse_abs_path(KeyCtx *k, const char *what, const char *v, char **ret);
int key_parse_rootfs(KeyCtx *k, const char *v, size_t off);
int key_parse_json_string_array(const char *s, char ***ret);
int key_parse_entrypoint(KeyCtx *k, const char *v, size_t off);
int key_parse_working_dir(KeyCtx *k, const char *v, size_t off);
int key_parse_user_or_group(KeyCtx *k, const char *v, size_t off);
int key_strv_set_keyed(char ***l, const char *assignment);
int key_parse_environment(KeyCtx *k, const char *v, size_t off);
int key_resolve_relative(KeyCtx *k, const char *v, char **ret);
int key_parse_environment_file(KeyCtx *k, const char *v, size_t off);
int key_parse_hostname(KeyCtx *k, const char *v, size_t off);
int key_parse_volume(KeyCtx *k, const char *v, size_t off);
int key_parse_tmpfs(KeyCtx *k, const char *v, size_t off);
int key_parse_mount(KeyCtx *k, const char *v, size_t off);
int key_parse_shm_size(KeyCtx *k, const char *v, size_t off);
int key_parse_network(KeyCtx *k, const char *v, size_t off);
int key_parse_capabilities(KeyCtx *k, const char *v, size_t off);
int key_parse_seccomp(KeyCtx *k, const char *v, size_t off);
int key_parse_mask(KeyCtx *k, const char *v, size_t off);
int key_parse_sysctl(KeyCtx *k, const char *v, size_t off);
int key_parse_device(KeyCtx *k, const char *v, size_t off);
int key_parse_userns(KeyCtx *k, const char *v, size_t off);
int key_parse_idmap(KeyCtx *k, const char *v, size_t off);
int key_parse_memory(KeyCtx *k, const char *v, size_t off);
int key_parse_pids_limit(KeyCtx *k, const char *v, size_t off);
int key_parse_rlimit_value(const char *s, uint64_t *ret);
int key_parse_ulimit(KeyCtx *k, const char *v, size_t off);
int key_parse_percent_scale(const char *s, uint32_t *ret);
int key_parse_resource(KeyCtx *k, const char *v, size_t off, bool is_count);
int key_parse_memory_resource(KeyCtx *k, const char *v, size_t off);
int key_parse_count_resource(KeyCtx *k, const char *v, size_t off);
int key_parse_weight(KeyCtx *k, const char *v, size_t off);
int key_parse_cpu_quota(KeyCtx *k, const char *v, size_t off);
int key_parse_stop_timeout(KeyCtx *k, const char *v, size_t off);
int key_parse_notify(KeyCtx *k, const char *v, size_t off);
int key_parse_health_cmd(KeyCtx *k, const char *v, size_t off);
int key_parse_health_interval(KeyCtx *k, const char *v, size_t off);
int key_parse_health_retries(KeyCtx *k, const char *v, size_t off);
int key_parse_health_on_failure(KeyCtx *k, const char *v, size_t off);
int key_parse_reload_signal(KeyCtx *k, const char *v, size_t off);
int key_parse_keyvalue_list(KeyCtx *k, const char *v, size_t off);
int key_parse_restart(KeyCtx *k, const char *v, size_t off);
int key_parse_restart_steps(KeyCtx *k, const char *v, size_t off);
int key_parse_start_limit_burst(KeyCtx *k, const char *v, size_t off);
int key_parse_start_limit_interval(KeyCtx *k, const char *v, size_t off);
int key_parse_restart_prevent(KeyCtx *k, const char *v, size_t off);
int key_parse_wanted_by(KeyCtx *k, const char *v, size_t off);
int key_parse_alias(KeyCtx *k, const char *v, size_t off);
int key_parse_default_instance(KeyCtx *k, const char *v, size_t off);
