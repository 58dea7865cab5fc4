/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * common/ — the one public header of the shared base every other module builds on:
 * cleanup helpers, the Error type with its message chain, string lists, strings and paths,
 * checked number/boolean/time-span/byte-size parsing, signal and capability names, safe
 * fd-relative filesystem operations (openat2 with a checked fallback), atomic file writes,
 * and a small logging front end for the programs (library modules never log).
 *
 * Conventions: functions return a negative errno on failure and >= 0 on success; outputs are
 * ret_* parameters, last, and untouched on failure.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- macros */

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_     __attribute__((noreturn))
#define _warn_unused_  __attribute__((warn_unused_result))
#define _likely_(x)    (__builtin_expect(!!(x), 1))
#define _unlikely_(x)  (__builtin_expect(!!(x), 0))
#define _sentinel_     __attribute__((sentinel))

#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))
#define STRLEN(x)      (sizeof("" x "") - 1)
#define MIN(a, b)      ((a) < (b) ? (a) : (b))
#define MAX(a, b)      ((a) > (b) ? (a) : (b))
#define ALIGN_TO(l, a) (((l) + (a)-1) & ~((a)-1))

#define streq(a, b)     (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s)      (!(s) || (s)[0] == '\0')
#define strempty(s)     ((s) ?: "")
#define strna(s)        ((s) ?: "n/a")
#define yes_no(b)       ((b) ? "yes" : "no")
#define true_false(b)   ((b) ? "true" : "false")

/* NULL-safe string equality. A function, not a macro: clang warns (-Wstring-compare) about the
 * pointer comparison a macro would make against a string literal. */
static inline bool streq_ptr(const char *a, const char *b)
{
        if (a == b)
                return true;
        return a && b && strcmp(a, b) == 0;
}

/* Hands ownership on: returns the value and resets the variable so its cleanup does nothing. */
#define TAKE_GENERIC(var, type, nullvalue)    \
        ({                                    \
                type *_pvar_ = &(var);        \
                type _var_ = *_pvar_;         \
                type _nullvalue_ = nullvalue; \
                *_pvar_ = _nullvalue_;        \
                _var_;                        \
        })
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, typeof(ptr), NULL)
#define TAKE_FD(fd)   TAKE_GENERIC(fd, int, -EBADF)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        func(*p);               \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

/* Closes fd if valid, preserving errno; always returns -EBADF for "fd = safe_close(fd)". */
int safe_close(int fd);
static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Makes errno usable as a return value: always negative, never 0. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

/* Array of structs with a count, for FOREACH_ARRAY(i, array, n). */
#define FOREACH_ARRAY(i, array, num) \
        for (typeof(array[0]) *i = (array), *_end_ = i + (num); i && i < _end_; i++)

/* ---------------------------------------------------------------- Error with a message chain */

/*
 * An Error carries a human-readable message chain such as
 *   "setting up rootfs: mount `/proc`: Permission denied"
 * built from the innermost failure outwards. All functions accept a NULL Error (then they only
 * return r), so callers that do not care pass NULL.
 */
typedef struct Error {
        int code;      /* negative errno of the first failure, 0 if unset */
        char *message; /* NULL if unset */
} Error;

#define ERROR_INIT ((Error){0, NULL})

/* Replaces any message with "FMT: strerror(r)" (only "FMT" when r == 0). Returns r. */
int error_set(Error *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Replaces any message with exactly "FMT" (no errno text: for validation errors). Returns r. */
int error_set_msg(Error *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Prepends "FMT: " to the message; without a message it acts like error_set(). Returns r. */
int error_prefix(Error *e, int r, const char *fmt, ...) _printf_(3, 4);
void error_done(Error *e);
bool error_isset(const Error *e);
/* The message, or strerror(code), or "unknown error". Never NULL. */
const char *error_message(const Error *e);
/* Moves src into dst (freeing dst's message); src is reset. */
void error_move(Error *dst, Error *src);
static inline void error_donep(Error *e)
{
        error_done(e);
}
#define _cleanup_error_ _cleanup_(error_donep)

/* ---------------------------------------------------------------- string lists (NULL-terminated char **) */

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
bool strv_isempty(char *const *l);
/* Copies value and appends it. */
int strv_extend(char ***l, const char *value);
/* Takes ownership of value (freed on failure too) and appends it. */
int strv_consume(char ***l, char *value);
int strv_extend_strv(char ***a, char *const *b);
int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
char **strv_copy(char *const *l);
char **strv_new(const char *first, ...) _sentinel_;
bool strv_contains(char *const *l, const char *s);
/* Removes every entry equal to s; returns how many were removed. */
size_t strv_remove(char **l, const char *s);
/* Splits on any of the separator characters, dropping empty fields. */
char **strv_split(const char *s, const char *separators);
char *strv_join(char *const *l, const char *separator);
void strv_sort(char **l);
/* Drops later duplicates, keeping order. */
void strv_uniq(char **l);

/* ---------------------------------------------------------------- strings */

char *strjoin_real(const char *x, ...) _sentinel_;
#define strjoin(a, ...) strjoin_real((a), __VA_ARGS__, NULL)
char *strprintf(const char *fmt, ...) _printf_(1, 2);
/* Returns the rest of s after prefix, or NULL. */
const char *startswith(const char *s, const char *prefix);
const char *startswith_no_case(const char *s, const char *prefix);
const char *endswith(const char *s, const char *suffix);
/* Strips leading and trailing whitespace in place; returns s. */
char *strstrip(char *s);
/* Frees *p and stores a copy of s (NULL allowed). */
int free_and_strdup(char **p, const char *s);
/* Appends "sep" and "s" to *p (no separator when *p is empty). */
int strextend_with_separator(char **p, const char *sep, const char *s);
bool string_has_cc(const char *s);
bool ascii_is_valid(const char *s);
bool utf8_is_valid(const char *s);
/* Returns a malloc'd C-escaped copy (for showing untrusted text in messages). */
char *cescape(const char *s);

/* ---------------------------------------------------------------- paths */

bool path_is_absolute(const char *p);
/* Absolute or relative, no "." / ".." components, no "//", no trailing slash (except "/"). */
bool path_is_normalized(const char *p);
/* No ".." component. */
bool path_is_safe(const char *p);
/* Collapses "//" and "/./", drops a trailing slash; does not resolve "..". In place, returns p. */
char *path_simplify(char *p);
char *path_join_real(const char *first, ...) _sentinel_;
#define path_join(a, ...) path_join_real((a), __VA_ARGS__, NULL)
/* A single valid file name: not empty, not "." or "..", no '/', at most NAME_MAX. */
bool filename_is_valid(const char *s);
/* Pointer to the last component (inside p). */
const char *path_basename(const char *p);
/* malloc'd parent directory ("/" for "/x", "." for "x"). */
int path_dirname(const char *p, char **ret);
/* True when child equals parent or lies below it (textual, both normalized). */
bool path_startswith_dir(const char *child, const char *parent);

/* ---------------------------------------------------------------- parsing */

int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atoi32(const char *s, int32_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
/* Octal mode such as "0755" or "755". */
int parse_mode(const char *s, mode_t *ret);
/* systemd booleans: 1/yes/y/true/t/on and 0/no/n/false/f/off, case-insensitive. -EINVAL otherwise. */
int parse_boolean(const char *s);

#define USEC_INFINITY   ((uint64_t)UINT64_MAX)
#define NSEC_PER_SEC    ((uint64_t)1000000000ULL)
#define USEC_PER_SEC    ((uint64_t)1000000ULL)
#define USEC_PER_MSEC   ((uint64_t)1000ULL)
#define NSEC_PER_USEC   ((uint64_t)1000ULL)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24 * USEC_PER_HOUR)

/*
 * systemd time spans (systemd.time(7)): "50" (seconds unless default_unit_usec says otherwise),
 * "1min 30s", "55s500ms", "1.5h", "infinity" (USEC_INFINITY); also Go durations ("1m30s").
 * default_unit_usec is what a bare number means (USEC_PER_SEC for most settings).
 */
int parse_timespan(const char *s, uint64_t default_unit_usec, uint64_t *ret_usec);
/* Writes e.g. "1min 30s" / "infinity" into buf; returns buf. */
char *format_timespan(char *buf, size_t len, uint64_t usec);
#define FORMAT_TIMESPAN_MAX 64

#define SIZE_INFINITY ((uint64_t)UINT64_MAX)
/*
 * Byte sizes, base 1024: systemd's "512M", "1.5G", "100K", "infinity" and Docker's lowercase
 * "20g", "100m", "512b", "1kb". Overflow is -ERANGE.
 */
int parse_size(const char *s, uint64_t *ret_bytes);
/* "1.5G", "512.0M", "100B"; returns buf. */
char *format_bytes(char *buf, size_t len, uint64_t bytes);
#define FORMAT_BYTES_MAX 32

/* Signals: "SIGTERM", "TERM", "term" or "15"; also "RTMIN+3". Returns the number or -EINVAL. */
int signal_from_string(const char *s);
/* "SIGTERM"; NULL for unknown numbers. */
const char *signal_to_string(int sig);

/* Capabilities: "CAP_NET_ADMIN" or "net_admin" (any case). Returns the number or -EINVAL. */
int capability_from_name(const char *s);
/* "CAP_NET_ADMIN"; NULL when unknown. */
const char *capability_to_name(int cap);
/* Highest capability number this build knows. */
int capability_last_known(void);

/* ---------------------------------------------------------------- time */

/* Current time of a clock in microseconds. */
uint64_t now_usec(clockid_t clock);

/* ---------------------------------------------------------------- files and descriptors */

/* RESOLVE_* flags as in openat2(2), defined here so callers need no kernel headers. */
#define CTR_RESOLVE_NO_XDEV       0x01
#define CTR_RESOLVE_NO_MAGICLINKS 0x02
#define CTR_RESOLVE_NO_SYMLINKS   0x04
#define CTR_RESOLVE_BENEATH       0x08
#define CTR_RESOLVE_IN_ROOT       0x10

/*
 * Opens path relative to dirfd with openat2(2) and the given RESOLVE_* flags. Where the kernel
 * lacks openat2 (ENOSYS) or a seccomp filter refuses it (EPERM), falls back to a component by
 * component walk with O_NOFOLLOW that emulates RESOLVE_IN_ROOT (symlinks resolved against dirfd,
 * ".." clamped at dirfd) or RESOLVE_BENEATH (escaping is -EXDEV), never touching anything
 * outside dirfd. O_CLOEXEC is always added.
 */
int openat_resolve(int dirfd, const char *path, int flags, mode_t mode, unsigned resolve);
/* For tests: force the fallback walk even where openat2 exists. */
void openat_resolve_force_fallback(bool b);

/* Makes every missing directory of path below dirfd (RESOLVE_IN_ROOT semantics) and returns an
 * O_PATH|O_DIRECTORY fd of the last one in ret_fd (optional). */
int mkdirat_p_in_root(int dirfd, const char *path, mode_t mode, int *ret_fd);
/* mkdir -p for host paths the programs own (state dirs); follows symlinks. */
int mkdir_p(const char *path, mode_t mode);

/* Reads a whole file (at most max_size bytes, else -EFBIG); the buffer is NUL-terminated. */
int read_full_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size);
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);
/* Reads one line (without the newline) of a small file, e.g. in /proc or /sys. */
int read_one_line_file(const char *path, char **ret);
/* Writes all of buf, retrying on EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t len);
/* Reads exactly len bytes (or -EIO at early EOF). */
int loop_read_exact(int fd, void *buf, size_t len);
/* Writes a string to an existing file (for /proc and /sys knobs), no O_CREAT. */
int write_string_file_at(int dirfd, const char *path, const char *s);

/*
 * Atomic replace: writes into a temporary file beside the target, fsync()s it, sets mode,
 * renames it over path and fsync()s the directory. A crash leaves either the old or the new
 * content, never a mix. path must not be a symlink.
 */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode);

/* Removes path below dirfd recursively, never following symlinks and never crossing into
 * another mount. Missing path is success. */
int rm_rf_at(int dirfd, const char *path);

/* SHA-256 (common/sha256.c): SHA-NI where the CPU has it, portable code elsewhere. */
#define SHA256_SIZE 32
typedef struct Sha256 {
        uint32_t state[8];
        uint64_t bytes;
        uint8_t buf[64];
        size_t fill;
        void (*blocks)(uint32_t state[8], const uint8_t *p, size_t n_blocks);
} Sha256;
void sha256_init(Sha256 *h);
void sha256_update(Sha256 *h, const void *p, size_t n);
/* The digest as bytes, or as 64 lower-case hex digits and a NUL; h is used up. */
void sha256_finish(Sha256 *h, uint8_t out[SHA256_SIZE]);
void sha256_finish_hex(Sha256 *h, char out[2 * SHA256_SIZE + 1]);
/* Tests: the portable code even where the CPU has SHA extensions. */
void sha256_force_portable(bool b);

/* Copies the contents of directory src_dirfd into dst_dirfd: directories, regular files and
 * symlinks with owners and modes (device nodes, FIFOs and sockets are left out), never
 * following a symlink of the source. For populating a volume from an image's directory. */
int copy_tree_at(int src_dirfd, int dst_dirfd);

int fd_cloexec(int fd, bool cloexec);
int fd_nonblock(int fd, bool nonblock);
/* Sets FD_CLOEXEC on every descriptor >= from (close_range with a /proc/self/fd fallback). */
int fds_cloexec_from(int from);
/* "/proc/self/fd/N" into buf (at least 32 bytes). */
char *fd_proc_path(char *buf, size_t len, int fd);

/* ---------------------------------------------------------------- logging (programs only) */

enum {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

/* A sink receives already-formatted messages. The default writes "prog: msg" to stderr. */
typedef void (*LogSink)(int level, const char *message, void *userdata);
void log_set_sink(LogSink sink, void *userdata);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_program_name(const char *name);

/* Logs at level; "%m" means strerror(-r) when r != 0. Returns r (or -EIO for r == 0 at error
 * level) so callers can "return log_error_errno(r, ...)". */
int log_internal(int level, int r, const char *fmt, ...) _printf_(3, 4);
#define log_error_errno(r, ...)   log_internal(LOG_LEVEL_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_internal(LOG_LEVEL_WARNING, (r), __VA_ARGS__)
#define log_info_errno(r, ...)    log_internal(LOG_LEVEL_INFO, (r), __VA_ARGS__)
#define log_debug_errno(r, ...)   log_internal(LOG_LEVEL_DEBUG, (r), __VA_ARGS__)
#define log_error(...)            log_internal(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning(...)          log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...)           log_internal(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...)             log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...)            log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
